/* MFCC front end (datasets/mfcc.c): hand-computed cases (tones land in the right mel filter, frame
 * geometry from impulses, padding and truncation, pre-emphasis on DC), DCT properties, a naive
 * reference implementation of the documented definition, and config errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mf_datasets.h"

#define PI      3.14159265358979323846
#define LOG_EPS (-23.025850929940457) /* ln(1e-10) */

static mf_mfcc_config defaults(void)
{
    mf_mfcc_config c = {50.0f, 25.0f, 26, 13, 39, 0.97f, 0, 0};
    return c;
}

static double mel(double f)
{
    return 2595.0 * log10(1.0 + f / 700.0);
}

static double mel_inv(double m)
{
    return 700.0 * (pow(10.0, m / 2595.0) - 1.0);
}

/* Centre frequency of filter m (0-based) of M filters at sample rate sr. */
static double centre(int m, int M, int sr)
{
    return mel_inv(mel(sr / 2.0) * (m + 1) / (M + 1));
}

static double hamming(int i, int W)
{
    return 0.54 - 0.46 * cos(2.0 * PI * i / (W - 1));
}

/* Deterministic noise in [-1, 1]. */
static float noise(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return (float)((*s >> 8) / 8388608.0 - 1.0);
}

static float *run(const mf_mfcc_config *c, int sr, const float *x, size_t n)
{
    float *out = malloc(sizeof(float) * (size_t)c->frames * (size_t)c->coefficients);
    assert_non_null(out);
    mf_error err;
    int rc = mf_mfcc(c, sr, x, n, out, &err);
    if (rc != MF_OK) {
        char buf[1400];
        fprintf(stderr, "unexpected error: %s\n", mf_error_format(&err, buf, sizeof buf));
    }
    assert_int_equal(rc, MF_OK);
    return out;
}

/* With coefficients == filters, the inverse orthonormal DCT of (0, c1, …, c_{M−1}) gives the log
 * filter energies minus their mean (c0 was replaced by the log energy). */
static void log_filters(const float *row, int M, double *L)
{
    for (int m = 0; m < M; m++) {
        double s = 0.0;
        for (int j = 1; j < M; j++)
            s += sqrt(2.0 / M) * row[j] * cos(PI * j * (m + 0.5) / M);
        L[m] = s;
    }
}

static int argmax(const double *v, int n)
{
    int b = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[b]) b = i;
    return b;
}

static void test_tone_lands_in_filter(void **state)
{
    (void)state;
    const int sr = 8000, M = 26;
    mf_mfcc_config c = defaults();
    c.coefficients = M;
    float *x = malloc(sizeof(float) * 8000);
    double L[26];
    /* A tone at each filter's centre, and (where filters are wide enough for the window's
     * ±40 Hz main lobe) a quarter of the way towards the next centre. */
    for (int m = 1; m < M; m++) {
        for (int off = 0; off < 2; off++) {
            if (off && m < 6) continue;
            double f = centre(m, M, sr);
            if (off) f += 0.25 * ((m + 1 < M ? centre(m + 1, M, sr) : sr / 2.0) - f);
            for (int i = 0; i < 8000; i++)
                x[i] = (float)(0.5 * sin(2 * PI * f * i / sr));
            float *out = run(&c, sr, x, 8000);
            for (int t = 1; t < c.frames; t++) {
                log_filters(out + (size_t)t * M, M, L);
                if (argmax(L, M) != m)
                    fail_msg("tone %.1f Hz, frame %d: loudest filter %d, expected %d", f, t,
                             argmax(L, M), m);
            }
            free(out);
        }
    }
    free(x);
}

static void test_constant_log_spectrum(void **state)
{
    (void)state;
    /* Silence: every log filter energy is ln(1e-10), a constant, so only c0 is non-zero; the
     * energy feature is ln(1e-10) too. */
    mf_mfcc_config c = defaults();
    float *x = calloc(8000, sizeof(float));
    float *out = run(&c, 8000, x, 8000);
    for (int t = 0; t < c.frames; t++) {
        assert_true(out[t * 13] == (float)LOG_EPS);
        for (int j = 1; j < 13; j++)
            assert_true(fabs(out[t * 13 + j]) < 1e-5);
    }
    free(out);

    /* Scaling a signal by a shifts every log filter energy by 2·ln a: c1.. are unchanged and the
     * energy feature moves by 2·ln a (orthonormal DCT: a constant only reaches c0). */
    uint32_t s = 7;
    for (int i = 0; i < 8000; i++)
        x[i] = noise(&s);
    c.preemphasis = 0.0f;
    float *a = run(&c, 8000, x, 8000);
    for (int i = 0; i < 8000; i++)
        x[i] *= 0.01f;
    float *b = run(&c, 8000, x, 8000);
    for (int t = 0; t < c.frames; t++) {
        assert_float_equal(b[t * 13], a[t * 13] + 2 * log(0.01), 1e-4);
        for (int j = 1; j < 13; j++)
            assert_float_equal(b[t * 13 + j], a[t * 13 + j], 1e-3);
    }
    free(a);
    free(b);
    free(x);
}

/* The documented definition, written naively in double (direct DFT). */
static void reference(const mf_mfcc_config *c, int sr, const float *x, size_t n, double *out)
{
    int W = (int)lround(c->frame_ms * sr / 1000.0), S = (int)lround(c->shift_ms * sr / 1000.0);
    int N = c->fft_size;
    if (!N)
        for (N = 1; N < W; N *= 2) {
        }
    int M = c->filters, C = c->coefficients, K = N / 2 + 1;
    size_t total = (size_t)(c->frames - 1) * S + W;
    double *y = calloc(total, sizeof(double)), *P = malloc(sizeof(double) * K);
    double *L = malloc(sizeof(double) * M);
    for (size_t i = 0; i < total && i < n; i++)
        y[i] = x[i] - (i ? (double)c->preemphasis * x[i - 1] : 0.0);
    for (int t = 0; t < c->frames; t++) {
        double v[8192] = {0}, e = 0;
        for (int i = 0; i < W; i++) {
            v[i] = y[(size_t)t * S + i] * hamming(i, W);
            e += v[i] * v[i];
        }
        for (int k = 0; k < K; k++) {
            double re = 0, im = 0;
            for (int i = 0; i < W; i++) {
                re += v[i] * cos(2 * PI * k * i / N);
                im -= v[i] * sin(2 * PI * k * i / N);
            }
            P[k] = (re * re + im * im) / N;
        }
        for (int m = 0; m < M; m++) {
            double f0 = m ? centre(m - 1, M, sr) : 0.0, f1 = centre(m, M, sr);
            double f2 = m + 1 < M ? centre(m + 1, M, sr) : sr / 2.0, E = 0;
            for (int k = 0; k < K; k++) {
                double f = (double)k * sr / N;
                if (f > f0 && f <= f1) E += (f - f0) / (f1 - f0) * P[k];
                if (f > f1 && f < f2) E += (f2 - f) / (f2 - f1) * P[k];
            }
            L[m] = log(fmax(E, 1e-10));
        }
        out[(size_t)t * C] = log(fmax(e, 1e-10));
        for (int j = 1; j < C; j++) {
            double s = 0;
            for (int m = 0; m < M; m++)
                s += L[m] * cos(PI * j * (m + 0.5) / M);
            out[(size_t)t * C + j] = sqrt(2.0 / M) * s;
        }
    }
    free(y);
    free(P);
    free(L);
}

static void check_reference(const mf_mfcc_config *c, int sr, size_t n)
{
    float *x = malloc(sizeof(float) * n);
    uint32_t s = 12345;
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(0.3 * noise(&s) + 0.4 * sin(2 * PI * 440.0 * i / sr) +
                       0.2 * sin(2 * PI * 1700.0 * i / sr));
    float *out = run(c, sr, x, n);
    size_t cnt = (size_t)c->frames * c->coefficients;
    double *ref = malloc(sizeof(double) * cnt);
    reference(c, sr, x, n, ref);
    for (size_t i = 0; i < cnt; i++)
        if (fabs(out[i] - ref[i]) > 2e-3 * (1.0 + fabs(ref[i])))
            fail_msg("feature %zu (frame %zu, coefficient %zu): %.6f, reference %.6f", i,
                     i / c->coefficients, i % c->coefficients, out[i], ref[i]);
    free(x);
    free(out);
    free(ref);
}

static void test_reference_definition(void **state)
{
    (void)state;
    mf_mfcc_config c = defaults();
    check_reference(&c, 8000, 5000); /* padded at the end */
    check_reference(&c, 8000, 9000); /* truncated */
    mf_mfcc_config d = {25.0f, 10.0f, 40, 20, 12, 0.5f, 1024, 0};
    check_reference(&d, 16000, 2500);
    mf_mfcc_config e = {30.0f, 10.0f, 20, 20, 5, 0.0f, 0, 0}; /* W = 331, S = 110 at 11025 Hz */
    check_reference(&e, 11025, 1000);
}

static void test_padding_and_truncation(void **state)
{
    (void)state;
    mf_mfcc_config c = defaults();
    float *x = calloc(12000, sizeof(float));
    uint32_t s = 99;
    for (int i = 0; i < 12000; i++)
        x[i] = noise(&s);

    /* 1000 samples: frames t ≥ 5 start at 200·t ≥ 1000, past the signal: exactly zero. */
    float *out = run(&c, 8000, x, 1000);
    for (int t = 0; t < c.frames; t++) {
        if (t < 5) {
            assert_true(out[t * 13] > (float)LOG_EPS + 1.0f);
        } else {
            assert_true(out[t * 13] == (float)LOG_EPS);
            for (int j = 1; j < 13; j++)
                assert_true(fabs(out[t * 13 + j]) < 1e-5);
        }
    }
    free(out);

    /* 39 frames cover 38·200 + 400 = 8000 samples: the rest is ignored. */
    float *a = run(&c, 8000, x, 8000);
    float *b = run(&c, 8000, x, 12000);
    assert_memory_equal(a, b, sizeof(float) * 39 * 13);
    free(a);
    free(b);

    /* Without pre-emphasis, implicit padding equals explicit zeros. */
    c.preemphasis = 0.0f;
    for (int i = 3000; i < 12000; i++)
        x[i] = 0.0f;
    a = run(&c, 8000, x, 3000);
    b = run(&c, 8000, x, 12000);
    assert_memory_equal(a, b, sizeof(float) * 39 * 13);
    free(a);
    free(b);

    /* fft_size 0 means the next power of two >= 400: 512; NULL config means the defaults. */
    mf_mfcc_config d = defaults();
    a = run(&d, 8000, x, 5000);
    d.fft_size = 512;
    b = run(&d, 8000, x, 5000);
    assert_memory_equal(a, b, sizeof(float) * 39 * 13);
    free(b);
    b = malloc(sizeof(float) * 39 * 13);
    mf_error err;
    assert_int_equal(mf_mfcc(NULL, 8000, x, 5000, b, &err), MF_OK);
    assert_memory_equal(a, b, sizeof(float) * 39 * 13);
    free(a);
    free(b);
    free(x);
}

static void test_frame_geometry(void **state)
{
    (void)state;
    /* 11025 Hz, 30 ms / 10 ms: W = round(330.75) = 331, S = round(110.25) = 110. An impulse at
     * sample 331 lies in frames 1, 2, 3 (at window positions 221, 111, 1), not in frame 0
     * (0..330) nor frame 4 (440..770). */
    const int sr = 11025, W = 331;
    mf_mfcc_config c = {30.0f, 10.0f, 26, 13, 6, 0.0f, 0, 0};
    float x[2000] = {0};
    x[331] = 1.0f;
    float *out = run(&c, sr, x, 2000);
    assert_true(out[0] == (float)LOG_EPS);
    assert_float_equal(out[1 * 13], 2 * log(hamming(221, W)), 1e-5);
    assert_float_equal(out[2 * 13], 2 * log(hamming(111, W)), 1e-5);
    assert_float_equal(out[3 * 13], 2 * log(hamming(1, W)), 1e-5);
    assert_true(out[4 * 13] == (float)LOG_EPS);
    assert_true(out[5 * 13] == (float)LOG_EPS);
    free(out);

    /* At sample 330 it is the last sample of frame 0 (Hamming end value 0.08). */
    x[331] = 0.0f;
    x[330] = 1.0f;
    out = run(&c, sr, x, 2000);
    assert_float_equal(out[0], 2 * log(0.08), 1e-5);
    free(out);

    /* Pre-emphasis 0.97 turns the impulse at 331 into (1, −0.97) at 331, 332. */
    x[330] = 0.0f;
    x[331] = 1.0f;
    c.preemphasis = 0.97f;
    const double p = 0.97f;
    out = run(&c, sr, x, 2000);
    assert_true(out[0] == (float)LOG_EPS);
    for (int t = 1; t <= 3; t++) {
        int i = 331 - 110 * t;
        double e = pow(hamming(i, W), 2) + p * p * pow(hamming(i + 1, W), 2);
        assert_float_equal(out[t * 13], log(e), 1e-5);
    }
    assert_true(out[4 * 13] == (float)LOG_EPS);
    free(out);
}

static void test_preemphasis_dc(void **state)
{
    (void)state;
    /* DC 0.5: y[0] = 0.5, y[i ≥ 1] = 0.5·(1 − p); frame energy = Σ (y·w)². */
    mf_mfcc_config c = defaults();
    float *x = malloc(sizeof(float) * 8000);
    for (int i = 0; i < 8000; i++)
        x[i] = 0.5f;
    double sw2 = 0.0;
    for (int i = 0; i < 400; i++)
        sw2 += hamming(i, 400) * hamming(i, 400);
    const double p = 0.97f;
    c.preemphasis = 0.0f;
    float *a = run(&c, 8000, x, 8000);
    c.preemphasis = 0.97f;
    float *b = run(&c, 8000, x, 8000);
    for (int t = 0; t < 39; t++) {
        assert_float_equal(a[t * 13], log(0.25 * sw2), 1e-5);
        double e = 0.25 * (1 - p) * (1 - p) * sw2;
        if (t == 0) e += 0.25 * pow(hamming(0, 400), 2) * (1 - (1 - p) * (1 - p));
        assert_float_equal(b[t * 13], log(e), 1e-5);
        if (t > 0) assert_float_equal(b[t * 13] - a[t * 13], 2 * log(0.03), 1e-4);
    }
    free(a);
    free(b);
    free(x);
}

static void expect_error(const mf_mfcc_config *c, int sr, const char *field, const char *words)
{
    float x[16] = {0}, out[4096];
    mf_error err;
    assert_int_equal(mf_mfcc(c, sr, x, 16, out, &err), MF_ERR);
    if (strstr(err.message, words) == NULL || strcmp(err.field, field) != 0)
        fail_msg("field '%s' message '%s': expected field '%s' and '%s'", err.field, err.message,
                 field, words);
}

static void test_invalid_configs(void **state)
{
    (void)state;
    mf_mfcc_config c;
    c = defaults(), c.frame_ms = 0.0f;
    expect_error(&c, 8000, "dataset.mfcc.frame_ms", "frame_ms must be");
    c = defaults(), c.frame_ms = NAN;
    expect_error(&c, 8000, "dataset.mfcc.frame_ms", "frame_ms must be");
    c = defaults(), c.frame_ms = 0.1f; /* 0.8 samples */
    expect_error(&c, 8000, "dataset.mfcc.frame_ms", "window of 1 samples");
    c = defaults(), c.shift_ms = -25.0f;
    expect_error(&c, 8000, "dataset.mfcc.shift_ms", "shift_ms must be");
    c = defaults(), c.filters = 0;
    expect_error(&c, 8000, "dataset.mfcc.filters", "filters must be");
    c = defaults(), c.coefficients = 0;
    expect_error(&c, 8000, "dataset.mfcc.coefficients", "coefficients must be > 0");
    c = defaults(), c.coefficients = 27;
    expect_error(&c, 8000, "dataset.mfcc.coefficients", "must not exceed filters (26)");
    c = defaults(), c.frames = 0;
    expect_error(&c, 8000, "dataset.mfcc.frames", "frames must be");
    c = defaults(), c.preemphasis = 1.5f;
    expect_error(&c, 8000, "dataset.mfcc.preemphasis", "preemphasis must be in [0, 1]");
    c = defaults(), c.fft_size = 256;
    expect_error(&c, 8000, "dataset.mfcc.fft_size", "smaller than the window (400 samples");
    c = defaults(), c.fft_size = -1;
    expect_error(&c, 8000, "dataset.mfcc.fft_size", "fft_size must be");
    c = defaults();
    expect_error(&c, 0, "", "sample rate 0 Hz");
}

typedef struct {
    const float *x;
    float out[8][39 * 13];
    int rc;
} thread_job;

static void *thread_run(void *arg)
{
    thread_job *j = arg;
    mf_mfcc_config c = defaults();
    for (int r = 0; r < 8; r++) {
        c.fft_size = r % 2 ? 512 : 1024; /* a plan of each size, made and freed concurrently */
        if (mf_mfcc(&c, 8000, j->x, 8000, j->out[r], NULL) != MF_OK) j->rc = MF_ERR;
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    /* Plans are created and destroyed under a lock: concurrent calls agree with serial ones. */
    float *x = malloc(sizeof(float) * 8000);
    uint32_t s = 5;
    for (int i = 0; i < 8000; i++)
        x[i] = noise(&s);
    mf_mfcc_config c = defaults();
    c.fft_size = 1024;
    float *want1024 = run(&c, 8000, x, 8000);
    c.fft_size = 512;
    float *want512 = run(&c, 8000, x, 8000);
    static thread_job jobs[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        jobs[i].x = x;
        jobs[i].rc = MF_OK;
        assert_int_equal(pthread_create(&th[i], NULL, thread_run, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(jobs[i].rc, MF_OK);
        for (int r = 0; r < 8; r++)
            assert_memory_equal(jobs[i].out[r], r % 2 ? want512 : want1024,
                                sizeof(float) * 39 * 13);
    }
    free(want512);
    free(want1024);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tone_lands_in_filter), cmocka_unit_test(test_constant_log_spectrum),
        cmocka_unit_test(test_reference_definition), cmocka_unit_test(test_padding_and_truncation),
        cmocka_unit_test(test_frame_geometry),       cmocka_unit_test(test_preemphasis_dc),
        cmocka_unit_test(test_invalid_configs),      cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
