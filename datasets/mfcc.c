/* MFCC front end (the fsdd dataset; DESIGN.md §13, after MicroAI's Spoken MNIST front end).
 *
 * Definition, for a signal x[0..n) at sample rate sr and a config (frame_ms, shift_ms, filters M,
 * coefficients C, frames T, preemphasis p, fft_size):
 *   W = round(frame_ms·sr/1000) samples per frame, S = round(shift_ms·sr/1000) samples between
 *   frame starts, N = fft_size, or the next power of two >= W when fft_size is 0.
 *   1. Pre-emphasis: y[0] = x[0], y[i] = x[i] − p·x[i−1] (p = 0 disables it).
 *   2. y is truncated or zero-padded AT THE END to (T−1)·S + W samples, so exactly T frames
 *      exist; frame t holds y[t·S .. t·S + W). Padding follows pre-emphasis, so frames past the
 *      signal are exactly zero.
 *   3. Hamming window (symmetric): w[i] = 0.54 − 0.46·cos(2πi/(W−1)), i = 0..W−1; v = y·w.
 *   4. Power spectrum of v zero-padded to N: P[k] = |FFT(v)[k]|² / N, k = 0..N/2 (FFTW r2c).
 *   5. Mel filter bank: M triangular filters, unit peak, from 0 Hz to sr/2 on the HTK mel scale
 *      mel(f) = 2595·log10(1 + f/700): M + 2 points f_0..f_{M+1} equally spaced in mel; filter m
 *      (0-based) rises linearly in Hz from f_m to its centre f_{m+1} and falls to f_{m+2}; bin k
 *      sits at k·sr/N Hz. E_m = Σ_k weight_m(k)·P[k].
 *   6. L_m = ln(max(E_m, 1e-10)).
 *   7. Orthonormal DCT-II: c_j = s_j·Σ_m L_m·cos(πj(m + 1/2)/M), s_0 = √(1/M), s_j = √(2/M).
 *   8. Features of frame t: [ln(max(Σ_i v[i]², 1e-10)), c_1, …, c_{C−1}] (the log frame energy
 *      replaces c_0), no liftering. Output row-major [T][C].
 * Arithmetic is double except the FFT (single precision FFTW) and the float output.
 *
 * Threads: FFTW's planner is not thread-safe, so plan creation and destruction hold a process-wide
 * mutex; executing a plan on its own buffers is. mf_mfcc() builds and frees a plan per call;
 * mf_load_fsdd() builds one engine (and plan) per load through the internal mf_mfcc_engine_*
 * functions below (declared again in fsdd.c, since mf_datasets.h is fixed). */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>

#include "mf_datasets.h"

#define MFCC_EPS      1e-10
#define MFCC_PI       3.14159265358979323846
#define MFCC_MAX_WIN  (1 << 22) /* samples in one frame (and the largest FFT) */
#define MFCC_MAX_FILT 4096

typedef struct mf_mfcc_engine {
    int sample_rate;
    int win, shift, nfft, nbins;
    int frames, filters, coefs;
    double preemph;
    size_t total;   /* samples the frames cover: (frames − 1)·shift + win */
    double *window; /* win */
    double *fbank;  /* filters × nbins */
    int *fb_lo;     /* per filter: first and one-past-last bin with a non-zero weight */
    int *fb_hi;
    double *dct;    /* coefs × filters (row 0 unused: replaced by the log energy) */
    double *sig;    /* total: pre-emphasised, padded signal */
    double *power;  /* nbins */
    double *logmel; /* filters */
    float *fin;     /* FFTW buffers (fftwf_malloc) */
    fftwf_complex *fout;
    fftwf_plan plan;
} mf_mfcc_engine;

/* Internal (used by fsdd.c). */
mf_mfcc_engine *mf_mfcc_engine_new(const mf_mfcc_config *cfg, int sample_rate, mf_error *err);
int mf_mfcc_engine_run(mf_mfcc_engine *e, const float *signal, size_t n, float *out);
void mf_mfcc_engine_free(mf_mfcc_engine *e);

static pthread_mutex_t planner_lock = PTHREAD_MUTEX_INITIALIZER;

static const mf_mfcc_config default_config = {50.0f, 25.0f, 26, 13, 39, 0.97f, 0, 0};

static double hz_to_mel(double f)
{
    return 2595.0 * log10(1.0 + f / 700.0);
}

static double mel_to_hz(double m)
{
    return 700.0 * (pow(10.0, m / 2595.0) - 1.0);
}

static int field_error(mf_error *err, const char *field)
{
    char path[96];
    snprintf(path, sizeof path, "dataset.mfcc.%s", field);
    mf_error_at(err, NULL, 0, 0, path);
    return MF_ERR;
}

/* Checks the config; fills the derived sizes. */
static int check_config(const mf_mfcc_config *cfg, int sample_rate, int *win, int *shift, int *nfft,
                        mf_error *err)
{
    if (sample_rate < 1 || sample_rate > 10000000) {
        mf_error_set(err, "MFCC: sample rate %d Hz is out of range (1 to 10000000)", sample_rate);
        return MF_ERR;
    }
    double w = (double)cfg->frame_ms * sample_rate / 1000.0;
    double s = (double)cfg->shift_ms * sample_rate / 1000.0;
    if (!(cfg->frame_ms > 0) || !isfinite(cfg->frame_ms)) {
        mf_error_set(err, "MFCC: frame_ms must be a number > 0 (got %g)", (double)cfg->frame_ms);
        return field_error(err, "frame_ms");
    }
    if (!(cfg->shift_ms > 0) || !isfinite(cfg->shift_ms)) {
        mf_error_set(err, "MFCC: shift_ms must be a number > 0 (got %g)", (double)cfg->shift_ms);
        return field_error(err, "shift_ms");
    }
    if (w < 1.5 || w >= MFCC_MAX_WIN) {
        mf_error_set(err,
                     "MFCC: frame_ms = %g at %d Hz gives a window of %.0f samples (must be 2 to "
                     "%d)",
                     (double)cfg->frame_ms, sample_rate, round(w), MFCC_MAX_WIN - 1);
        return field_error(err, "frame_ms");
    }
    if (s < 0.5 || s >= MFCC_MAX_WIN) {
        mf_error_set(err,
                     "MFCC: shift_ms = %g at %d Hz gives a shift of %.0f samples (must be 1 to "
                     "%d)",
                     (double)cfg->shift_ms, sample_rate, round(s), MFCC_MAX_WIN - 1);
        return field_error(err, "shift_ms");
    }
    *win = (int)lround(w);
    *shift = (int)lround(s);
    if (cfg->filters < 1 || cfg->filters > MFCC_MAX_FILT) {
        mf_error_set(err, "MFCC: filters must be in [1, %d] (got %d)", MFCC_MAX_FILT, cfg->filters);
        return field_error(err, "filters");
    }
    if (cfg->coefficients < 1) {
        mf_error_set(err, "MFCC: coefficients must be > 0 (got %d)", cfg->coefficients);
        return field_error(err, "coefficients");
    }
    if (cfg->coefficients > cfg->filters) {
        mf_error_set(err, "MFCC: coefficients (%d) must not exceed filters (%d)", cfg->coefficients,
                     cfg->filters);
        return field_error(err, "coefficients");
    }
    if (cfg->frames < 1 || cfg->frames > MF_MAX_DIM) {
        mf_error_set(err, "MFCC: frames must be in [1, %d] (got %d)", MF_MAX_DIM, cfg->frames);
        return field_error(err, "frames");
    }
    if ((size_t)(cfg->frames - 1) * (size_t)*shift + (size_t)*win > MF_MAX_ELEMS) {
        mf_error_set(err, "MFCC: %d frames of %d samples every %d samples exceed the size limit",
                     cfg->frames, *win, *shift);
        return field_error(err, "frames");
    }
    if (!(cfg->preemphasis >= 0 && cfg->preemphasis <= 1)) {
        mf_error_set(err, "MFCC: preemphasis must be in [0, 1] (got %g)", (double)cfg->preemphasis);
        return field_error(err, "preemphasis");
    }
    if (cfg->fft_size < 0 || cfg->fft_size > MFCC_MAX_WIN) {
        mf_error_set(err, "MFCC: fft_size must be 0 (automatic) or in [window, %d] (got %d)",
                     MFCC_MAX_WIN, cfg->fft_size);
        return field_error(err, "fft_size");
    }
    if (cfg->fft_size == 0) {
        int n = 1;
        while (n < *win)
            n *= 2;
        *nfft = n;
    } else if (cfg->fft_size < *win) {
        mf_error_set(err,
                     "MFCC: fft_size %d is smaller than the window (%d samples = %g ms at %d Hz)",
                     cfg->fft_size, *win, (double)cfg->frame_ms, sample_rate);
        return field_error(err, "fft_size");
    } else {
        *nfft = cfg->fft_size;
    }
    return MF_OK;
}

void mf_mfcc_engine_free(mf_mfcc_engine *e)
{
    if (!e) return;
    if (e->plan) {
        pthread_mutex_lock(&planner_lock);
        fftwf_destroy_plan(e->plan);
        pthread_mutex_unlock(&planner_lock);
    }
    fftwf_free(e->fin);
    fftwf_free(e->fout);
    free(e->window);
    free(e->fbank);
    free(e->fb_lo);
    free(e->fb_hi);
    free(e->dct);
    free(e->sig);
    free(e->power);
    free(e->logmel);
    free(e);
}

mf_mfcc_engine *mf_mfcc_engine_new(const mf_mfcc_config *cfg, int sample_rate, mf_error *err)
{
    if (!cfg) cfg = &default_config;
    int win, shift, nfft;
    if (check_config(cfg, sample_rate, &win, &shift, &nfft, err) != MF_OK) return NULL;
    mf_mfcc_engine *e = calloc(1, sizeof *e);
    if (!e) goto oom;
    e->sample_rate = sample_rate;
    e->win = win;
    e->shift = shift;
    e->nfft = nfft;
    e->nbins = nfft / 2 + 1;
    e->frames = cfg->frames;
    e->filters = cfg->filters;
    e->coefs = cfg->coefficients;
    e->preemph = cfg->preemphasis;
    e->total = (size_t)(e->frames - 1) * (size_t)shift + (size_t)win;
    const int M = e->filters, K = e->nbins;
    e->window = malloc(sizeof(double) * (size_t)win);
    e->fbank = calloc((size_t)M * (size_t)K, sizeof(double));
    e->fb_lo = malloc(sizeof(int) * (size_t)M);
    e->fb_hi = malloc(sizeof(int) * (size_t)M);
    e->dct = malloc(sizeof(double) * (size_t)e->coefs * (size_t)M);
    e->sig = malloc(sizeof(double) * e->total);
    e->power = malloc(sizeof(double) * (size_t)K);
    e->logmel = malloc(sizeof(double) * (size_t)M);
    e->fin = fftwf_malloc(sizeof(float) * (size_t)nfft);
    e->fout = fftwf_malloc(sizeof(fftwf_complex) * (size_t)K);
    if (!e->window || !e->fbank || !e->fb_lo || !e->fb_hi || !e->dct || !e->sig || !e->power ||
        !e->logmel || !e->fin || !e->fout)
        goto oom;

    /* Hamming window (symmetric; win >= 2 is checked). */
    for (int i = 0; i < win; i++)
        e->window[i] = 0.54 - 0.46 * cos(2.0 * MFCC_PI * i / (double)(win - 1));

    /* Mel filter bank: triangles in Hz between mel-spaced edges. */
    double mel_hi = hz_to_mel(sample_rate / 2.0);
    for (int m = 0; m < M; m++) {
        double f0 = mel_to_hz(mel_hi * m / (M + 1));
        double f1 = mel_to_hz(mel_hi * (m + 1) / (M + 1));
        double f2 = mel_to_hz(mel_hi * (m + 2) / (M + 1));
        int lo = K, hi = 0;
        for (int k = 0; k < K; k++) {
            double f = (double)k * sample_rate / nfft;
            double wgt = 0.0;
            if (f > f0 && f < f2) wgt = f <= f1 ? (f - f0) / (f1 - f0) : (f2 - f) / (f2 - f1);
            if (wgt > 0) {
                e->fbank[(size_t)m * K + k] = wgt;
                if (k < lo) lo = k;
                hi = k + 1;
            }
        }
        e->fb_lo[m] = lo < hi ? lo : 0;
        e->fb_hi[m] = lo < hi ? hi : 0;
    }

    /* Orthonormal DCT-II rows. */
    for (int j = 0; j < e->coefs; j++) {
        double s = j == 0 ? sqrt(1.0 / M) : sqrt(2.0 / M);
        for (int m = 0; m < M; m++)
            e->dct[(size_t)j * M + m] = s * cos(MFCC_PI * j * (m + 0.5) / M);
    }

    pthread_mutex_lock(&planner_lock);
    e->plan = fftwf_plan_dft_r2c_1d(nfft, e->fin, e->fout, FFTW_ESTIMATE);
    pthread_mutex_unlock(&planner_lock);
    if (!e->plan) {
        mf_mfcc_engine_free(e);
        mf_error_set(err, "MFCC: FFTW could not plan a real FFT of size %d", nfft);
        return NULL;
    }
    return e;
oom:
    mf_mfcc_engine_free(e);
    mf_error_set(err, "MFCC: out of memory");
    return NULL;
}

int mf_mfcc_engine_run(mf_mfcc_engine *e, const float *signal, size_t n, float *out)
{
    const int W = e->win, N = e->nfft, K = e->nbins, M = e->filters, C = e->coefs;
    const double p = e->preemph;
    size_t used = n < e->total ? n : e->total;
    for (size_t i = 0; i < used; i++)
        e->sig[i] = (double)signal[i] - (i > 0 ? p * (double)signal[i - 1] : 0.0);
    for (size_t i = used; i < e->total; i++)
        e->sig[i] = 0.0;
    const double log_eps = log(MFCC_EPS);

    for (int t = 0; t < e->frames; t++) {
        const double *y = e->sig + (size_t)t * (size_t)e->shift;
        double energy = 0.0;
        for (int i = 0; i < W; i++) {
            double v = y[i] * e->window[i];
            energy += v * v;
            e->fin[i] = (float)v;
        }
        for (int i = W; i < N; i++)
            e->fin[i] = 0.0f;
        fftwf_execute(e->plan);
        for (int k = 0; k < K; k++) {
            double re = e->fout[k][0], im = e->fout[k][1];
            e->power[k] = (re * re + im * im) / N;
        }
        for (int m = 0; m < M; m++) {
            const double *wgt = e->fbank + (size_t)m * K;
            double s = 0.0;
            for (int k = e->fb_lo[m]; k < e->fb_hi[m]; k++)
                s += wgt[k] * e->power[k];
            e->logmel[m] = s > MFCC_EPS ? log(s) : log_eps;
        }
        float *row = out + (size_t)t * C;
        row[0] = (float)(energy > MFCC_EPS ? log(energy) : log_eps);
        for (int j = 1; j < C; j++) {
            const double *d = e->dct + (size_t)j * M;
            double s = 0.0;
            for (int m = 0; m < M; m++)
                s += d[m] * e->logmel[m];
            row[j] = (float)s;
        }
    }
    return MF_OK;
}

int mf_mfcc(const mf_mfcc_config *cfg, int sample_rate, const float *signal, size_t n, float *out,
            mf_error *err)
{
    if (!out || (n > 0 && !signal)) return mf_error_set(err, "MFCC: NULL signal or output");
    mf_mfcc_engine *e = mf_mfcc_engine_new(cfg, sample_rate, err);
    if (!e) return MF_ERR;
    int rc = mf_mfcc_engine_run(e, signal, n, out);
    mf_mfcc_engine_free(e);
    return rc;
}
