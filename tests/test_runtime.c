/* The runtime kernels (runtime): the portable C reference paths and the optimized
 * (Cortex-M4 DSP/FPU) paths.
 *
 * Two groups run the checks below: "reference" through the public functions (on the host: the
 * reference paths), "optimized" through the *_opt functions, compiled into this file with C
 * models of the DSP instructions (MF_RT_EMULATE_DSP). The optimized group adds
 * opt_equals_ref (tests/target/equiv.c: every optimized kernel against its reference, bit for
 * bit, on random shapes, data and requantizations plus boundary sweeps) and target_qemu (the
 * same on the real instructions: tests/target built with arm-none-eabi-gcc and run in QEMU's
 * Cortex-M4F, which also prints the instruction counts of the reference CNN and ResNetv1-6;
 * skipped without the tools or with MF_TEST_NO_QEMU set).
 *
 * Requantization helpers: hand-computed cases (ties in both rounding modes and both signs,
 * saturation at both ends, left shifts with and without saturation, shift 0, shifts ≥ the
 * accumulator width and INT_MIN/INT_MAX, ReLU after saturation), then a random sweep against
 * ref_requant, an independent implementation on 128-bit integers with plain floor division.
 *
 * Integer kernels (int8 and int16), on random data, twice:
 *   (a) against the real-valued computation: inputs, weights and biases dequantized
 *       (q·2^(−n)), the layer computed in double (exact here: every value is a dyadic rational
 *       of < 53 significant bits), then checked in units of the output LSB: floor mode
 *       0 ≤ y − out < 1, half-up −0.5 ≤ y − out < 0.5; a value beyond the output range must
 *       give the saturated output (most runs choose the output format from the data so that
 *       nothing saturates and assert that; "tight" runs shift 3 bits less on purpose);
 *   (b) against a straightforward integer reference written here (explicitly zero-padded
 *       input, 64-bit accumulation, ref_requant): exact equality.
 * Float kernels: against a double computation within 1e-5 of the sum of the magnitudes of the
 * terms, and bit for bit against a float loop written here in the documented order (bias, then
 * ky, kx, ci ascending; -ffp-contract=off applies to this file too).
 *
 * MF_TEST_VERBOSE=1 prints the number of checked and saturated outputs per test. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <float.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "mf_deploy.h"
#include "mf_runtime.h"
#include "testutil.h"

/* The optimized kernel paths (runtime/…_opt.c), compiled into this test with exact C
 * models of the Cortex-M4 DSP instructions (mf_rt_dsp.h), and the random equivalence tester that
 * the QEMU harness runs on the real instructions (tests/target/equiv.c). */
#define MF_RT_EMULATE_DSP 1
#include "conv_s16_opt.c"
#include "conv_f32_opt.c"
#include "conv_s8_opt.c"
#include "conv_s8_small.c"
#include "conv_s8_field.c"
#include "conv_s8_patch.c"
#include "conv_s8_lanes.c"
#include "conv_s8_dot.c"
#include "dense_s8_opt.c"
#include "pool_opt.c"
#include "add_opt.c"
#include "elementwise_opt.c"
#include "dwconv_s8_opt.c"
#include "input_opt.c"
#include "target/equiv.c"

/* Every kernel call below goes through K(): the public function (on the host: the reference) in
 * the "reference" group, the *_opt path in the "optimized" group, so every check of this file
 * applies to both paths. */
static int use_opt;
#define K(name) (use_opt ? name##_opt : name)

__extension__ typedef __int128 i128;

enum { FLOOR = MF_RT_ROUND_FLOOR, HALF = MF_RT_ROUND_HALF_UP };

static int verbose(void)
{
    const char *v = getenv("MF_TEST_VERBOSE");
    return v && *v && strcmp(v, "0") != 0;
}

/* Context of the current random case, printed with a failed check. */
static char ctx[256];

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            print_error("%s:%d: check failed: %s\n  case: %s\n  ", __FILE__, __LINE__, #cond,      \
                        ctx);                                                                      \
            print_error(__VA_ARGS__);                                                              \
            print_error("\n");                                                                     \
            fail();                                                                                \
        }                                                                                          \
    } while (0)

/* ---- deterministic random numbers (splitmix64) ---- */

typedef struct {
    uint64_t s;
} rng_t;

static uint64_t rng_next(rng_t *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi], inclusive. */
static int64_t rng_int(rng_t *r, int64_t lo, int64_t hi)
{
    uint64_t span = (uint64_t)hi - (uint64_t)lo + 1u;
    uint64_t v = span == 0 ? rng_next(r) : rng_next(r) % span;
    return (int64_t)((uint64_t)lo + v);
}

static float rng_float(rng_t *r, float lo, float hi)
{
    double u = (double)(rng_next(r) >> 11) / 9007199254740992.0;
    return (float)(lo + (hi - lo) * u);
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    assert_non_null(p);
    return p;
}

/* ---- the independent requantization reference ---- */

static int64_t qmax_of(int bits)
{
    return bits == 8 ? INT8_MAX : INT16_MAX;
}

static int64_t qmin_of(int bits)
{
    return bits == 8 ? INT8_MIN : INT16_MIN;
}

/* floor(a / d) for d > 0 on 128-bit integers, from C's truncating division. */
static i128 floor_div128(i128 a, i128 d)
{
    i128 q = a / d;
    if (a % d != 0 && a < 0) q -= 1;
    return q;
}

/* DESIGN.md §13 as arithmetic: right shift = floor(acc / 2^s) or floor((acc + 2^(s−1)) / 2^s),
 * left shift = acc·2^k, then clamp to b bits, then ReLU. */
static int64_t ref_requant(int64_t acc, int shift, int relu, int rounding, int bits)
{
    i128 v;
    if (shift > 0) {
        if (shift >= 120) /* |acc| < 2^63: floor is −1 or 0, half-up always 0 */
            v = rounding == HALF ? 0 : acc < 0 ? -1 : 0;
        else {
            i128 d = (i128)1 << shift;
            v = floor_div128((i128)acc + (rounding == HALF ? d / 2 : 0), d);
        }
    } else if (shift < 0) {
        if (shift <= -60) /* saturates unless 0 */
            v = acc == 0 ? 0 : acc > 0 ? (i128)1 << 70 : -((i128)1 << 70);
        else
            v = (i128)acc * ((i128)1 << -shift);
    } else {
        v = acc;
    }
    if (v > qmax_of(bits)) v = qmax_of(bits);
    if (v < qmin_of(bits)) v = qmin_of(bits);
    if (relu && v < 0) v = 0;
    return (int64_t)v;
}

/* (a): the real value t = y·2^n_out (output LSBs) against the kernel's output q. Returns 1 when
 * the value lies beyond the output range (q must then be the saturated value). */
static int check_lsb(double t, int64_t q, int bits, int rounding, int relu)
{
    double r = relu && t < 0 ? 0.0 : t;
    double hi = (double)qmax_of(bits), lo = (double)qmin_of(bits);
    double up = rounding == HALF ? 0.5 : 0.0; /* round(r) = floor(r + up) */
    if (r + up >= hi + 1.0) {
        CHECK(q == qmax_of(bits), "value %.6f LSB saturates: expected %lld, got %lld", r,
              (long long)qmax_of(bits), (long long)q);
        return 1;
    }
    if (r + up < lo) {
        CHECK(q == qmin_of(bits), "value %.6f LSB saturates: expected %lld, got %lld", r,
              (long long)qmin_of(bits), (long long)q);
        return 1;
    }
    double d = r - (double)q;
    if (rounding == HALF)
        CHECK(d >= -0.5 && d < 0.5, "half-up: real %.6f LSB, output %lld, error %.6f LSB", r,
              (long long)q, d);
    else
        CHECK(d >= 0.0 && d < 1.0, "floor: real %.6f LSB, output %lld, error %.6f LSB", r,
              (long long)q, d);
    return 0;
}

/* Smallest shift s ≥ −30 such that |acc| ≤ maxabs gives |acc|·2^(−s) < qmax: no rounding mode
 * can saturate then. */
static int fit_shift(int64_t maxabs, int bits)
{
    i128 qmax = qmax_of(bits);
    for (int s = -30; s < 64; s++) {
        if (s < 0 && (i128)maxabs * ((i128)1 << -s) < qmax) return s;
        if (s >= 0 && (i128)maxabs < qmax * ((i128)1 << s)) return s;
    }
    return 64;
}

/* ---- hand-computed requantization ---- */

typedef struct {
    int64_t acc;
    int shift, relu, rounding;
    int64_t want;
} rq_case;

static void requant_s8_hand(void **state)
{
    (void)state;
    static const rq_case cases[] = {
        /* exact .5 ties, both signs, both modes */
        {3, 1, 0, FLOOR, 1},
        {3, 1, 0, HALF, 2},
        {-3, 1, 0, FLOOR, -2},
        {-3, 1, 0, HALF, -1},
        {1, 1, 0, FLOOR, 0},
        {1, 1, 0, HALF, 1},
        {-1, 1, 0, FLOOR, -1},
        {-1, 1, 0, HALF, 0},
        {6, 2, 0, FLOOR, 1}, /* 1.5 */
        {6, 2, 0, HALF, 2},
        {-6, 2, 0, FLOOR, -2}, /* −1.5 */
        {-6, 2, 0, HALF, -1},
        {5, 2, 0, FLOOR, 1}, /* 1.25 */
        {5, 2, 0, HALF, 1},
        {-5, 2, 0, FLOOR, -2}, /* −1.25 */
        {-5, 2, 0, HALF, -1},
        {-7, 2, 0, FLOOR, -2}, /* −1.75 */
        {-7, 2, 0, HALF, -2},
        {7, 2, 0, HALF, 2},
        {3 << 29, 30, 0, FLOOR, 1}, /* 1.5 at a large shift */
        {3 << 29, 30, 0, HALF, 2},
        {-(3 << 29), 30, 0, FLOOR, -2},
        {-(3 << 29), 30, 0, HALF, -1},
        /* saturation at both ends */
        {1000, 2, 0, FLOOR, 127},
        {-1000, 2, 0, HALF, -128},
        {255, 1, 0, FLOOR, 127}, /* 127.5 */
        {255, 1, 0, HALF, 127},  /* 128 saturates */
        {254, 1, 0, HALF, 127},
        {-256, 1, 0, FLOOR, -128},
        {-257, 1, 0, FLOOR, -128}, /* −128.5 → −129 saturates */
        {-257, 1, 0, HALF, -128},  /* −128.5 → −128 */
        {-259, 1, 0, HALF, -128},  /* −129.5 → −129 saturates */
        {INT32_MAX, 1, 0, HALF, 127},
        {INT32_MIN, 1, 0, FLOOR, -128},
        /* shift 0 */
        {100, 0, 0, FLOOR, 100},
        {-5, 0, 0, HALF, -5},
        {128, 0, 0, FLOOR, 127},
        {-129, 0, 0, FLOOR, -128},
        {-128, 0, 0, FLOOR, -128},
        /* left shifts */
        {3, -2, 0, FLOOR, 12},
        {-3, -2, 0, HALF, -12},
        {31, -2, 0, FLOOR, 124},
        {32, -2, 0, FLOOR, 127}, /* 128 saturates */
        {-32, -2, 0, FLOOR, -128},
        {-33, -2, 0, FLOOR, -128},
        {1, -6, 0, FLOOR, 64},
        {1, -7, 0, FLOOR, 127},
        {-1, -7, 0, FLOOR, -128},
        {-1, -8, 0, FLOOR, -128},
        {0, -40, 0, FLOOR, 0},
        {1, -40, 0, FLOOR, 127},
        {-1, -40, 0, HALF, -128},
        {INT32_MAX, -1, 0, FLOOR, 127},
        {INT32_MIN, -1, 0, FLOOR, -128},
        {1 << 24, -7, 0, FLOOR, 127}, /* 2^31 would overflow int32 */
        {5, INT_MIN, 0, FLOOR, 127},
        {-5, INT_MIN, 0, FLOOR, -128},
        {0, INT_MIN, 0, FLOOR, 0},
        /* shifts at and beyond the accumulator width */
        {INT32_MAX, 31, 0, FLOOR, 0},
        {INT32_MAX, 31, 0, HALF, 1}, /* 0.99999… */
        {INT32_MIN, 31, 0, FLOOR, -1},
        {INT32_MIN, 31, 0, HALF, -1}, /* exactly −1 */
        {INT32_MIN, 32, 0, FLOOR, -1},
        {INT32_MIN, 32, 0, HALF, 0}, /* −0.5 */
        {INT32_MAX, 32, 0, HALF, 0},
        {-1, 40, 0, FLOOR, -1},
        {-1, 40, 0, HALF, 0},
        {1, 40, 0, FLOOR, 0},
        {-1, INT_MAX, 0, FLOOR, -1},
        {-1, INT_MAX, 0, HALF, 0},
        {INT32_MAX, INT_MAX, 0, HALF, 0},
        /* ReLU after saturation and rounding */
        {1000, 2, 1, FLOOR, 127},
        {-1000, 2, 1, FLOOR, 0},
        {-3, 1, 1, HALF, 0},
        {-1, 1, 1, HALF, 0},
        {1, 1, 1, HALF, 1},
        {-1, -40, 1, FLOOR, 0},
        {1, -40, 1, FLOOR, 127},
        {-1, 40, 1, FLOOR, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const rq_case *c = &cases[i];
        snprintf(ctx, sizeof ctx, "mf_rt_requant_s32(%lld, %d, relu %d, %s)", (long long)c->acc,
                 c->shift, c->relu, c->rounding == HALF ? "half-up" : "floor");
        int got = mf_rt_requant_s32((int32_t)c->acc, c->shift, c->relu, c->rounding);
        CHECK(got == c->want, "expected %lld, got %d", (long long)c->want, got);
        int64_t ref = ref_requant(c->acc, c->shift, c->relu, c->rounding, 8);
        CHECK(ref == c->want, "test reference: expected %lld, got %lld", (long long)c->want,
              (long long)ref);
    }
}

static void requant_s16_hand(void **state)
{
    (void)state;
    static const rq_case cases[] = {
        {3, 1, 0, FLOOR, 1},
        {3, 1, 0, HALF, 2},
        {-3, 1, 0, FLOOR, -2},
        {-3, 1, 0, HALF, -1},
        {-1, 1, 0, FLOOR, -1},
        {-1, 1, 0, HALF, 0},
        {(int64_t)3 << 40, 41, 0, FLOOR, 1},
        {(int64_t)3 << 40, 41, 0, HALF, 2},
        {-((int64_t)3 << 40), 41, 0, FLOOR, -2},
        {-((int64_t)3 << 40), 41, 0, HALF, -1},
        {-((int64_t)5 << 60), 62, 0, HALF, -1}, /* −1.25 */
        {-((int64_t)7 << 60), 62, 0, HALF, -2}, /* −1.75 */
        /* saturation */
        {65535, 1, 0, FLOOR, 32767}, /* 32767.5 */
        {65535, 1, 0, HALF, 32767},  /* 32768 saturates */
        {65533, 1, 0, HALF, 32767},
        {-65536, 1, 0, FLOOR, -32768},
        {-65537, 1, 0, FLOOR, -32768}, /* −32768.5 → −32769 */
        {-65537, 1, 0, HALF, -32768},
        {INT64_MAX, 1, 0, HALF, 32767},
        {INT64_MIN, 1, 0, FLOOR, -32768},
        {INT64_MAX, 20, 0, FLOOR, 32767},
        /* shift 0 */
        {-32768, 0, 0, FLOOR, -32768},
        {32768, 0, 0, FLOOR, 32767},
        {-40000, 0, 0, HALF, -32768},
        {1234, 0, 0, HALF, 1234},
        /* left shifts */
        {1, -14, 0, FLOOR, 16384},
        {2, -14, 0, FLOOR, 32767},
        {-2, -14, 0, FLOOR, -32768},
        {-3, -14, 0, FLOOR, -32768},
        {1, -15, 0, FLOOR, 32767},
        {-1, -15, 0, FLOOR, -32768},
        {-1023, -5, 0, HALF, -32736},
        {INT64_MAX, -1, 0, FLOOR, 32767},
        {INT64_MIN, -63, 0, FLOOR, -32768},
        {0, -63, 0, FLOOR, 0},
        {1, -64, 0, FLOOR, 32767},
        {(int64_t)1 << 50, -20, 0, FLOOR, 32767}, /* 2^70 would overflow int64 */
        {7, INT_MIN, 0, HALF, 32767},
        /* shifts at and beyond the accumulator width */
        {INT64_MAX, 62, 0, FLOOR, 1},
        {INT64_MAX, 62, 0, HALF, 2}, /* 1.99999… */
        {INT64_MAX, 63, 0, FLOOR, 0},
        {INT64_MAX, 63, 0, HALF, 1},
        {INT64_MIN, 63, 0, FLOOR, -1},
        {INT64_MIN, 63, 0, HALF, -1},
        {INT64_MIN, 64, 0, FLOOR, -1},
        {INT64_MIN, 64, 0, HALF, 0},
        {INT64_MAX, 64, 0, HALF, 0},
        {-1, 63, 0, FLOOR, -1},
        {-1, 63, 0, HALF, 0},
        {-1, 100, 0, FLOOR, -1},
        {-1, INT_MAX, 0, HALF, 0},
        /* ReLU */
        {-65537, 1, 1, FLOOR, 0},
        {70000, 0, 1, FLOOR, 32767},
        {-1, 63, 1, FLOOR, 0},
        {-3, 1, 1, HALF, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const rq_case *c = &cases[i];
        snprintf(ctx, sizeof ctx, "mf_rt_requant_s64(%lld, %d, relu %d, %s)", (long long)c->acc,
                 c->shift, c->relu, c->rounding == HALF ? "half-up" : "floor");
        int got = mf_rt_requant_s64(c->acc, c->shift, c->relu, c->rounding);
        CHECK(got == c->want, "expected %lld, got %d", (long long)c->want, got);
        int64_t ref = ref_requant(c->acc, c->shift, c->relu, c->rounding, 16);
        CHECK(ref == c->want, "test reference: expected %lld, got %lld", (long long)c->want,
              (long long)ref);
    }
}

/* Random accumulators of every magnitude, every shift in [−70, 70] plus extremes. */
static void requant_random(void **state)
{
    (void)state;
    rng_t r = {12345};
    static const int extreme[] = {INT_MIN, INT_MIN + 1, -1000, 100, 1000, INT_MAX};
    long checked = 0;
    for (int iter = 0; iter < 200000; iter++) {
        int bits = rng_int(&r, 0, 62); /* magnitude of the accumulator */
        int64_t a64 = rng_int(&r, INT64_MIN, INT64_MAX) >> (62 - bits);
        int64_t a32 = rng_int(&r, INT32_MIN, INT32_MAX) >> (bits % 31);
        if (iter % 97 == 0) a64 = iter % 2 ? INT64_MIN : INT64_MAX;
        if (iter % 89 == 0) a32 = iter % 2 ? INT32_MIN : INT32_MAX;
        int shift = iter % 50 == 0 ? extreme[iter / 50 % 6] : (int)rng_int(&r, -70, 70);
        int relu = (int)rng_int(&r, 0, 1), rounding = (int)rng_int(&r, 0, 1);
        snprintf(ctx, sizeof ctx, "random requant acc32 %ld acc64 %lld shift %d relu %d %s",
                 (long)a32, (long long)a64, shift, relu, rounding == HALF ? "half-up" : "floor");
        int64_t want8 = ref_requant(a32, shift, relu, rounding, 8);
        int64_t want16 = ref_requant(a64, shift, relu, rounding, 16);
        int got8 = mf_rt_requant_s32((int32_t)a32, shift, relu, rounding);
        int got16 = mf_rt_requant_s64(a64, shift, relu, rounding);
        CHECK(got8 == want8, "s32: expected %lld, got %d", (long long)want8, got8);
        CHECK(got16 == want16, "s64: expected %lld, got %d", (long long)want16, got16);
        checked += 2;
    }
    /* every accumulator around the rounding points of small shifts, exhaustively */
    for (int shift = -9; shift <= 9; shift++)
        for (int64_t acc = -70000; acc <= 70000; acc++)
            for (int mode = 0; mode < 4; mode++) {
                int relu = mode & 1, rounding = mode >> 1;
                if (mf_rt_requant_s64(acc, shift, relu, rounding) !=
                    ref_requant(acc, shift, relu, rounding, 16)) {
                    snprintf(ctx, sizeof ctx, "exhaustive s64 acc %lld shift %d mode %d",
                             (long long)acc, shift, mode);
                    CHECK(0, "mismatch");
                }
                if (mf_rt_requant_s32((int32_t)acc, shift, relu, rounding) !=
                    ref_requant(acc, shift, relu, rounding, 8)) {
                    snprintf(ctx, sizeof ctx, "exhaustive s32 acc %lld shift %d mode %d",
                             (long long)acc, shift, mode);
                    CHECK(0, "mismatch");
                }
                checked += 2;
            }
    if (verbose()) printf("requant: %ld comparisons\n", checked);
}

/* ---- geometry ---- */

/* TensorFlow's rules: valid out = (in − k)/s + 1; same out = ceil(in/s), pad_total =
 * max((out − 1)·s + k − in, 0), pad_before = pad_total/2. */
static void axis(int in, int k, int s, int same, int *out, int *pad)
{
    if (same) {
        *out = (in + s - 1) / s;
        int total = (*out - 1) * s + k - in;
        if (total < 0) total = 0;
        *pad = total / 2;
    } else {
        *out = (in - k) / s + 1;
        *pad = 0;
    }
}

static mf_rt_geom geom(int h, int w, int cin, int cout, int kh, int kw, int sh, int sw, int same)
{
    mf_rt_geom g = {0};
    g.h = h, g.w = w, g.cin = cin, g.cout = cout, g.kh = kh, g.kw = kw, g.sh = sh, g.sw = sw;
    axis(h, kh, sh, same, &g.oh, &g.pad_top);
    axis(w, kw, sw, same, &g.ow, &g.pad_left);
    return g;
}

static const char *geom_str(const mf_rt_geom *g)
{
    static char s[160];
    snprintf(s, sizeof s, "in %dx%dx%d k %dx%d s %dx%d pad %d,%d out %dx%dx%d", g->h, g->w, g->cin,
             g->kh, g->kw, g->sh, g->sw, g->pad_top, g->pad_left, g->oh, g->ow, g->cout);
    return s;
}

/* The padded extent a geometry reads: rows 0 … (oh−1)·sh + kh − 1 of the padded input. */
static int padded_extent(int in, int pad, int out, int k, int s)
{
    int need = (out - 1) * s + k;
    return need > pad + in ? need : pad + in;
}

/* The kernels that copy or split their whole input (go3's padded copy, the lane kernels' band)
 * are chosen only within MF_RT_CONV_COPY_MAX_SCRATCH: a small layer of their kind takes them, a
 * long one keeps a kernel of small scratch (without the bound the arena of a model with such a
 * layer would grow by up to its input's size). */
static void conv_choice_scratch_bound(void **state)
{
    (void)state;
    const mf_rt_geom small1 = geom(1, 64, 16, 1, 1, 3, 1, 1, 1),
                     long1 = geom(1, 512, 64, 1, 1, 3, 1, 1, 1);
    const mf_rt_geom small3 = geom(1, 64, 16, 3, 1, 3, 1, 1, 1),
                     long3 = geom(1, 512, 64, 3, 1, 3, 1, 1, 1);
    assert_int_equal(mf_rt_conv_s8_choose(&small1, 1, 1, 1, 1), MF_RT_CONV_S8_LANES);
    assert_true(mf_rt_conv_lanes_s8_scratch_bytes(&small1) <= MF_RT_CONV_COPY_MAX_SCRATCH);
    assert_true(mf_rt_conv_lanes_s8_scratch_bytes(&long1) > MF_RT_CONV_COPY_MAX_SCRATCH);
    assert_int_not_equal(mf_rt_conv_s8_choose(&long1, 1, 1, 1, 1), MF_RT_CONV_S8_LANES);
    assert_int_equal(mf_rt_conv_s8_choose(&small3, 1, 2, 1, 2), MF_RT_CONV_S8_PATCH);
    assert_int_equal(mf_rt_conv_patch_s8_shape(&long3), MF_RT_CONV_PATCH_GO3);
    assert_true(mf_rt_conv_patch_s8_scratch_bytes(&long3) > MF_RT_CONV_COPY_MAX_SCRATCH);
    assert_int_not_equal(mf_rt_conv_s8_choose(&long3, 1, 2, 1, 2), MF_RT_CONV_S8_PATCH);
    assert_true(mf_rt_conv_s8_scratch_bytes(&long3) <= MF_RT_CONV_COPY_MAX_SCRATCH);
}

/* ---- integer conv and dense ---- */

typedef struct {
    int bits, rounding, relu, per_channel, bias, mode; /* mode: 0 fit, 1 tight, 2 small data */
} int_opts;

static const char *mode_name[] = {"fit", "tight", "small"};

/* A scratch buffer of exactly `bytes` (NULL for 0, as the getters ask), freed by the caller. */
static void *scratch_exact(size_t bytes)
{
    return bytes ? xcalloc(bytes, 1) : NULL;
}

typedef struct {
    long outputs, saturated;
} stats;

/* Calls the kernel under test through the types of `bits`; x, w, b, y hold the values as int64. */
static void call_conv(const mf_rt_geom *g, int as_dense, int bits, const int64_t *x,
                      const int64_t *w, const int64_t *b, const mf_rt_requant *rq, int64_t *y)
{
    size_t nx = (size_t)g->h * g->w * g->cin, nw = (size_t)g->cout * g->kh * g->kw * g->cin;
    size_t ny = (size_t)g->oh * g->ow * g->cout;
    void *scr = NULL; /* exactly the getter's bytes, so AddressSanitizer sees an overrun */
    if (bits == 8) {
        int8_t *xx = xcalloc(nx, 1), *ww = xcalloc(nw, 1), *yy = xcalloc(ny, 1);
        int32_t *bb = b ? xcalloc((size_t)g->cout, sizeof *bb) : NULL;
        for (size_t i = 0; i < nx; i++)
            xx[i] = (int8_t)x[i];
        for (size_t i = 0; i < nw; i++)
            ww[i] = (int8_t)w[i];
        for (int i = 0; b && i < g->cout; i++)
            bb[i] = (int32_t)b[i];
        memset(yy, 0x5a, ny);
        scr = scratch_exact(as_dense ? mf_rt_dense_s8_scratch_bytes(g->cin, g->cout)
                                     : mf_rt_conv_s8_scratch_bytes(g));
        if (as_dense)
            K(mf_rt_dense_s8)(g->cin, g->cout, xx, ww, bb, rq, yy, scr);
        else
            K(mf_rt_conv_s8)(g, xx, ww, bb, rq, yy, scr);
        for (size_t i = 0; i < ny; i++)
            y[i] = yy[i];
        free(xx), free(ww), free(yy), free(bb), free(scr);
    } else {
        int16_t *xx = xcalloc(nx, 2), *ww = xcalloc(nw, 2), *yy = xcalloc(ny, 2);
        int64_t *bb = b ? xcalloc((size_t)g->cout, sizeof *bb) : NULL;
        for (size_t i = 0; i < nx; i++)
            xx[i] = (int16_t)x[i];
        for (size_t i = 0; i < nw; i++)
            ww[i] = (int16_t)w[i];
        for (int i = 0; b && i < g->cout; i++)
            bb[i] = b[i];
        memset(yy, 0x5a, ny * 2);
        scr = as_dense ? NULL : scratch_exact(mf_rt_conv_s16_scratch_bytes(g));
        if (as_dense)
            K(mf_rt_dense_s16)(g->cin, g->cout, xx, ww, bb, rq, yy);
        else
            K(mf_rt_conv_s16)(g, xx, ww, bb, rq, yy, scr);
        for (size_t i = 0; i < ny; i++)
            y[i] = yy[i];
        free(xx), free(ww), free(yy), free(bb), free(scr);
    }
}

/* One random conv (or dense: h = w = kh = kw = 1, cin = n_in, cout = n_out) run. */
static void run_conv_int(const mf_rt_geom *g, int as_dense, const int_opts *o, uint64_t seed,
                         stats *st)
{
    snprintf(ctx, sizeof ctx, "%s %s int%d %s relu %d per-channel %d bias %d data %s",
             as_dense ? "dense" : "conv", geom_str(g), o->bits,
             o->rounding == HALF ? "half-up" : "floor", o->relu, o->per_channel, o->bias,
             mode_name[o->mode]);
    rng_t r = {seed};
    const int n_in = o->bits == 8 ? 4 : 9, n_w = o->bits == 8 ? 6 : 11, n_acc = n_in + n_w;
    const size_t nx = (size_t)g->h * g->w * g->cin, nw = (size_t)g->cout * g->kh * g->kw * g->cin;
    const size_t ny = (size_t)g->oh * g->ow * g->cout;
    int64_t *x = xcalloc(nx, 8), *w = xcalloc(nw, 8), *b = xcalloc((size_t)g->cout, 8);
    int64_t *acc = xcalloc(ny, 8), *y = xcalloc(ny, 8);
    int64_t lo = o->mode == 2 ? -1 : qmin_of(o->bits), hi = o->mode == 2 ? 1 : qmax_of(o->bits);
    int64_t bmax = o->mode == 2 ? 3 : o->bits == 8 ? (1 << 20) : ((int64_t)1 << 40);
    for (size_t i = 0; i < nx; i++)
        x[i] = rng_int(&r, lo, hi);
    for (size_t i = 0; i < nw; i++)
        w[i] = rng_int(&r, lo, hi);
    for (int i = 0; i < g->cout; i++)
        b[i] = o->bias ? rng_int(&r, -bmax, bmax) : 0;

    /* (b) integer reference over an explicitly zero-padded copy of the input */
    int ph = padded_extent(g->h, g->pad_top, g->oh, g->kh, g->sh);
    int pw = padded_extent(g->w, g->pad_left, g->ow, g->kw, g->sw);
    int64_t *xp = xcalloc((size_t)ph * pw * g->cin, 8);
    for (int iy = 0; iy < g->h; iy++)
        for (int ix = 0; ix < g->w; ix++)
            for (int c = 0; c < g->cin; c++)
                xp[((size_t)(iy + g->pad_top) * pw + ix + g->pad_left) * g->cin + c] =
                    x[((size_t)iy * g->w + ix) * g->cin + c];
    for (int oy = 0; oy < g->oh; oy++)
        for (int ox = 0; ox < g->ow; ox++)
            for (int co = 0; co < g->cout; co++) {
                int64_t a = b[co];
                for (int ky = 0; ky < g->kh; ky++)
                    for (int kx = 0; kx < g->kw; kx++)
                        for (int ci = 0; ci < g->cin; ci++)
                            a += xp[((size_t)(oy * g->sh + ky) * pw + ox * g->sw + kx) * g->cin +
                                    ci] *
                                 w[(((size_t)co * g->kh + ky) * g->kw + kx) * g->cin + ci];
                acc[((size_t)oy * g->ow + ox) * g->cout + co] = a;
            }
    free(xp);

    /* output formats: from the largest accumulator per channel */
    int8_t *shifts = xcalloc((size_t)g->cout, 1);
    int tensor_shift = -30;
    for (int co = 0; co < g->cout; co++) {
        int64_t m = 0;
        for (size_t p = 0; p < (size_t)g->oh * g->ow; p++) {
            int64_t a = acc[p * g->cout + co];
            if (a < 0 ? -a > m : a > m) m = a < 0 ? -a : a;
        }
        int s = fit_shift(m, o->bits) + (o->per_channel ? co % 3 : 0);
        if (o->mode == 1) s -= 3;
        shifts[co] = (int8_t)s;
        if (s > tensor_shift) tensor_shift = s;
    }
    if (!o->per_channel)
        for (int co = 0; co < g->cout; co++)
            shifts[co] = (int8_t)tensor_shift;
    mf_rt_requant rq = {tensor_shift, o->per_channel ? shifts : NULL, o->relu, o->rounding};

    call_conv(g, as_dense, o->bits, x, w, o->bias ? b : NULL, &rq, y);

    long sat = 0;
    for (int oy = 0; oy < g->oh; oy++)
        for (int ox = 0; ox < g->ow; ox++)
            for (int co = 0; co < g->cout; co++) {
                size_t i = ((size_t)oy * g->ow + ox) * g->cout + co;
                int64_t want = ref_requant(acc[i], shifts[co], o->relu, o->rounding, o->bits);
                CHECK(y[i] == want,
                      "output (%d, %d, %d): acc %lld shift %d: expected %lld, got %lld", oy, ox, co,
                      (long long)acc[i], shifts[co], (long long)want, (long long)y[i]);
                /* (a) the real-valued layer, with the taps' bounds checked directly */
                double real = ldexp((double)b[co], -n_acc);
                for (int ky = 0; ky < g->kh; ky++)
                    for (int kx = 0; kx < g->kw; kx++) {
                        int iy = oy * g->sh + ky - g->pad_top, ix = ox * g->sw + kx - g->pad_left;
                        if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w) continue;
                        for (int ci = 0; ci < g->cin; ci++)
                            real +=
                                ldexp((double)x[((size_t)iy * g->w + ix) * g->cin + ci], -n_in) *
                                ldexp((double)
                                          w[(((size_t)co * g->kh + ky) * g->kw + kx) * g->cin + ci],
                                      -n_w);
                    }
                int n_out = n_acc - shifts[co];
                sat += check_lsb(ldexp(real, n_out), y[i], o->bits, o->rounding, o->relu);
            }
    if (o->mode != 1) CHECK(sat == 0, "%ld outputs saturated with a fitted format", sat);
    st->outputs += (long)ny;
    st->saturated += sat;
    free(x), free(w), free(b), free(acc), free(y), free(shifts);
}

static void run_conv_int_all(const mf_rt_geom *g, int as_dense, uint64_t seed, stats *st)
{
    for (int v = 0; v < 96; v++) {
        int_opts o = {v & 1 ? 16 : 8, v >> 1 & 1, v >> 2 & 1, v >> 3 & 1, !(v >> 4 & 1), v >> 5};
        run_conv_int(g, as_dense, &o, seed * 1000 + (uint64_t)v, st);
    }
}

static const struct {
    int h, w, cin, cout, kh, kw, sh, sw, same;
} conv_cases[] = {
    /* conv1d: h = kh = sh = 1 */
    {1, 17, 3, 5, 1, 3, 1, 1, 1},
    {1, 17, 3, 5, 1, 3, 1, 1, 0},
    {1, 17, 3, 5, 1, 3, 1, 2, 1},
    {1, 17, 3, 5, 1, 3, 1, 2, 0},
    {1, 16, 2, 4, 1, 4, 1, 2, 1}, /* even kernel: pad 1 before, 1 after */
    {1, 16, 2, 4, 1, 5, 1, 2, 0},
    {1, 9, 1, 1, 1, 9, 1, 1, 0}, /* kernel = input */
    {1, 128, 9, 16, 1, 3, 1, 1, 1},
    /* conv2d */
    {7, 9, 3, 4, 3, 3, 1, 1, 1},
    {7, 9, 3, 4, 3, 3, 2, 2, 1},
    {7, 9, 3, 4, 3, 3, 1, 1, 0},
    {7, 9, 3, 4, 3, 3, 2, 2, 0},
    {8, 6, 2, 3, 5, 3, 2, 1, 1}, /* asymmetric kernel and strides */
    {8, 6, 2, 3, 5, 3, 2, 1, 0},
    {5, 7, 6, 3, 1, 1, 1, 1, 0}, /* 1x1 */
    {5, 7, 4, 2, 1, 1, 2, 2, 0}, /* 1x1, stride 2 */
    {3, 3, 1, 1, 2, 2, 1, 1, 1},
    {2, 3, 2, 2, 3, 3, 1, 1, 1}, /* kernel larger than the input: padding on both sides */
    {6, 5, 3, 2, 4, 2, 3, 3, 1},
};

static void conv_int(void **state)
{
    (void)state;
    stats st = {0, 0};
    for (size_t i = 0; i < sizeof conv_cases / sizeof conv_cases[0]; i++) {
        mf_rt_geom g = geom(conv_cases[i].h, conv_cases[i].w, conv_cases[i].cin, conv_cases[i].cout,
                            conv_cases[i].kh, conv_cases[i].kw, conv_cases[i].sh, conv_cases[i].sw,
                            conv_cases[i].same);
        run_conv_int_all(&g, 0, 100 + i, &st);
    }
    assert_true(st.saturated > 0); /* the tight runs did exercise saturation */
    if (verbose()) printf("conv int: %ld outputs, %ld saturated\n", st.outputs, st.saturated);
}

static void dense_int(void **state)
{
    (void)state;
    static const int sizes[][2] = {{37, 11}, {1, 1}, {64, 10}, {5, 3}, {576, 6}};
    stats st = {0, 0};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        mf_rt_geom g = geom(1, 1, sizes[i][0], sizes[i][1], 1, 1, 1, 1, 0);
        run_conv_int_all(&g, 1, 200 + i, &st);
    }
    if (verbose()) printf("dense int: %ld outputs, %ld saturated\n", st.outputs, st.saturated);
}

/* Hand-computed convolutions: padding before/after, stride, the weight layout, bias. */
static void conv_hand(void **state)
{
    (void)state;
    snprintf(ctx, sizeof ctx, "hand-computed convolutions");
    static uint64_t scr_mem[64]; /* more than any of these small layers' getters ask */
    mf_rt_requant rq = {0, NULL, 0, FLOOR};
    const int16_t x1[4] = {1, 2, 3, 4}, w1[3] = {1, 10, 100};
    const int64_t b1[1] = {-5000};
    int16_t y[4];
    /* conv1d "same", stride 1: pad 1 before and 1 after */
    mf_rt_geom g = geom(1, 4, 1, 1, 1, 3, 1, 1, 1);
    K(mf_rt_conv_s16)(&g, x1, w1, NULL, &rq, y, scr_mem);
    CHECK(y[0] == 210 && y[1] == 321 && y[2] == 432 && y[3] == 43, "%d %d %d %d", y[0], y[1], y[2],
          y[3]);
    K(mf_rt_conv_s16)(&g, x1, w1, b1, &rq, y, scr_mem);
    CHECK(y[0] == -4790 && y[3] == -4957, "%d %d", y[0], y[3]);
    /* stride 2 "same": out 2, pad 0 before and 1 after */
    g = geom(1, 4, 1, 1, 1, 3, 1, 2, 1);
    CHECK(g.ow == 2 && g.pad_left == 0, "geometry %s", geom_str(&g));
    K(mf_rt_conv_s16)(&g, x1, w1, NULL, &rq, y, scr_mem);
    CHECK(y[0] == 321 && y[1] == 43, "%d %d", y[0], y[1]);
    /* 1x1 with 2 channels: weights [cout][cin] */
    const int16_t x2[2] = {3, 4}, w2[4] = {1, 10, 100, 1000};
    g = geom(1, 1, 2, 2, 1, 1, 1, 1, 0);
    K(mf_rt_conv_s16)(&g, x2, w2, NULL, &rq, y, scr_mem);
    CHECK(y[0] == 43 && y[1] == 4300, "%d %d", y[0], y[1]);
    /* 2x2 kernel on a 2x2 input: weights [ky][kx] row-major */
    const int8_t x3[4] = {1, 2, 3, 4}, w3[4] = {1, 2, 4, 8};
    const int32_t b3[1] = {1};
    int8_t y8[2];
    g = geom(2, 2, 1, 1, 2, 2, 1, 1, 0);
    K(mf_rt_conv_s8)(&g, x3, w3, b3, &rq, y8, scr_mem);
    CHECK(y8[0] == 1 + 1 + 4 + 12 + 32, "%d", y8[0]);
    /* per-channel shifts, dense */
    const int8_t x4[2] = {10, -7}, w4[6] = {1, 0, 0, 1, 3, 3};
    const int8_t sh4[3] = {1, -2, 0};
    mf_rt_requant rq4 = {0, sh4, 0, HALF};
    int8_t y4[3];
    K(mf_rt_dense_s8)(2, 3, x4, w4, NULL, &rq4, y4, scr_mem);
    CHECK(y4[0] == 5 && y4[1] == -28 && y4[2] == 9, "%d %d %d", y4[0], y4[1], y4[2]);
    rq4.relu = 1;
    K(mf_rt_dense_s8)(2, 3, x4, w4, NULL, &rq4, y4, scr_mem);
    CHECK(y4[0] == 5 && y4[1] == 0 && y4[2] == 9, "%d %d %d", y4[0], y4[1], y4[2]);
}

/* ---- float conv and dense ---- */

static void run_conv_f32(const mf_rt_geom *g, int as_dense, int relu, int with_bias, uint64_t seed)
{
    snprintf(ctx, sizeof ctx, "%s f32 %s relu %d bias %d", as_dense ? "dense" : "conv", geom_str(g),
             relu, with_bias);
    rng_t r = {seed};
    const size_t nx = (size_t)g->h * g->w * g->cin, nw = (size_t)g->cout * g->kh * g->kw * g->cin;
    const size_t ny = (size_t)g->oh * g->ow * g->cout;
    float *x = xcalloc(nx, 4), *w = xcalloc(nw, 4), *b = xcalloc((size_t)g->cout, 4);
    float *y = xcalloc(ny, 4);
    for (size_t i = 0; i < nx; i++)
        x[i] = rng_float(&r, -1, 1);
    for (size_t i = 0; i < nw; i++)
        w[i] = rng_float(&r, -1, 1);
    for (int i = 0; i < g->cout; i++)
        b[i] = rng_float(&r, -1, 1);
    if (as_dense)
        K(mf_rt_dense_f32)(g->cin, g->cout, x, w, with_bias ? b : NULL, relu, y);
    else
        K(mf_rt_conv_f32)(g, x, w, with_bias ? b : NULL, relu, y);
    for (int oy = 0; oy < g->oh; oy++)
        for (int ox = 0; ox < g->ow; ox++)
            for (int co = 0; co < g->cout; co++) {
                float f = with_bias ? b[co] : 0.0f; /* the documented order, in float */
                double d = with_bias ? b[co] : 0.0, mag = fabs(d);
                for (int ky = 0; ky < g->kh; ky++)
                    for (int kx = 0; kx < g->kw; kx++) {
                        int iy = oy * g->sh + ky - g->pad_top, ix = ox * g->sw + kx - g->pad_left;
                        if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w) continue;
                        for (int ci = 0; ci < g->cin; ci++) {
                            float xv = x[((size_t)iy * g->w + ix) * g->cin + ci];
                            float wv = w[(((size_t)co * g->kh + ky) * g->kw + kx) * g->cin + ci];
                            f += xv * wv;
                            d += (double)xv * wv;
                            mag += fabs((double)xv * wv);
                        }
                    }
                if (relu && f < 0.0f) f = 0.0f;
                if (relu && d < 0.0) d = 0.0;
                float got = y[((size_t)oy * g->ow + ox) * g->cout + co];
                CHECK(memcmp(&got, &f, sizeof f) == 0, "(%d, %d, %d): expected %a, got %a", oy, ox,
                      co, (double)f, (double)got);
                CHECK(fabs((double)got - d) <= 1e-5 * mag + 1e-30,
                      "(%d, %d, %d): double %.9g, got %.9g", oy, ox, co, d, (double)got);
            }
    free(x), free(w), free(b), free(y);
}

static void conv_f32(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof conv_cases / sizeof conv_cases[0]; i++) {
        mf_rt_geom g = geom(conv_cases[i].h, conv_cases[i].w, conv_cases[i].cin, conv_cases[i].cout,
                            conv_cases[i].kh, conv_cases[i].kw, conv_cases[i].sh, conv_cases[i].sw,
                            conv_cases[i].same);
        for (int v = 0; v < 4; v++)
            run_conv_f32(&g, 0, v & 1, v >> 1, 300 + i * 10 + (uint64_t)v);
    }
}

static void dense_f32(void **state)
{
    (void)state;
    static const int sizes[][2] = {{37, 11}, {1, 1}, {64, 10}, {5, 3}, {576, 6}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        mf_rt_geom g = geom(1, 1, sizes[i][0], sizes[i][1], 1, 1, 1, 1, 0);
        for (int v = 0; v < 4; v++)
            run_conv_f32(&g, 1, v & 1, v >> 1, 400 + i * 10 + (uint64_t)v);
    }
}

/* ---- pools ---- */

/* Calls a windowed pool (kind 0 max, 1 avg) or, with g == NULL, a global pool over
 * `positions` × `channels`. */
static void call_pool(const mf_rt_geom *g, int positions, int channels, int kind, int bits,
                      int relu, int rounding, const int64_t *x, int64_t *y)
{
    size_t nx = g ? (size_t)g->h * g->w * g->cin : (size_t)positions * channels;
    size_t ny = g ? (size_t)g->oh * g->ow * g->cin : (size_t)channels;
    if (bits == 8) {
        int8_t *xx = xcalloc(nx, 1), *yy = xcalloc(ny, 1);
        for (size_t i = 0; i < nx; i++)
            xx[i] = (int8_t)x[i];
        memset(yy, 0x5a, ny);
        if (g && kind == 0) K(mf_rt_maxpool_s8)(g, xx, relu, yy);
        if (g && kind == 1) K(mf_rt_avgpool_s8)(g, xx, relu, rounding, yy);
        if (!g && kind == 0) K(mf_rt_global_maxpool_s8)(positions, channels, xx, yy);
        if (!g && kind == 1) K(mf_rt_global_avgpool_s8)(positions, channels, xx, rounding, yy);
        for (size_t i = 0; i < ny; i++)
            y[i] = yy[i];
        free(xx), free(yy);
    } else {
        int16_t *xx = xcalloc(nx, 2), *yy = xcalloc(ny, 2);
        for (size_t i = 0; i < nx; i++)
            xx[i] = (int16_t)x[i];
        memset(yy, 0x5a, ny * 2);
        if (g && kind == 0) K(mf_rt_maxpool_s16)(g, xx, relu, yy);
        if (g && kind == 1) K(mf_rt_avgpool_s16)(g, xx, relu, rounding, yy);
        if (!g && kind == 0) K(mf_rt_global_maxpool_s16)(positions, channels, xx, yy);
        if (!g && kind == 1) K(mf_rt_global_avgpool_s16)(positions, channels, xx, rounding, yy);
        for (size_t i = 0; i < ny; i++)
            y[i] = yy[i];
        free(xx), free(yy);
    }
}

/* Expected pooled value of the taps v[0..n): (b) exactly, (a) the real mean in LSBs. */
static int64_t ref_pool(const int64_t *v, int n, int kind, int relu, int rounding, double *mean)
{
    int64_t r, sum = 0, m = v[0];
    for (int i = 0; i < n; i++) {
        sum += v[i];
        if (v[i] > m) m = v[i];
    }
    *mean = kind == 0 ? (double)m : (double)sum / n;
    if (kind == 0)
        r = m;
    else if (rounding == HALF) /* floor((2·sum + n) / (2·n)), as the formula says */
        r = (int64_t)floor_div128(2 * (i128)sum + n, 2 * (i128)n);
    else
        r = (int64_t)floor_div128(sum, n);
    if (relu && r < 0) r = 0;
    return r;
}

/* narrow: values in [−3, 2], many exact ties and negative sums */
static void run_pool_int(const mf_rt_geom *g, int positions, int channels, int kind, int bits,
                         int relu, int rounding, int narrow, uint64_t seed, stats *st)
{
    snprintf(ctx, sizeof ctx, "%s%s int%d %s relu %d %s narrow %d (positions %d channels %d)",
             g ? "" : "global ", kind ? "avgpool" : "maxpool", bits, g ? geom_str(g) : "", relu,
             rounding == HALF ? "half-up" : "floor", narrow, positions, channels);
    rng_t r = {seed};
    size_t nx = g ? (size_t)g->h * g->w * g->cin : (size_t)positions * channels;
    size_t ny = g ? (size_t)g->oh * g->ow * g->cin : (size_t)channels;
    int64_t *x = xcalloc(nx, 8), *y = xcalloc(ny, 8);
    for (size_t i = 0; i < nx; i++)
        x[i] = narrow ? rng_int(&r, -3, 2) : rng_int(&r, qmin_of(bits), qmax_of(bits));
    call_pool(g, positions, channels, kind, bits, relu, rounding, x, y);
    int oh = g ? g->oh : 1, ow = g ? g->ow : 1;
    int kh = g ? g->kh : 1, kw = g ? g->kw : positions;
    int64_t *taps = xcalloc((size_t)kh * kw, 8);
    for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++)
            for (int c = 0; c < channels; c++) {
                int n = 0;
                for (int ky = 0; ky < kh; ky++)
                    for (int kx = 0; kx < kw; kx++) {
                        if (!g) {
                            taps[n++] = x[(size_t)kx * channels + c];
                            continue;
                        }
                        int iy = oy * g->sh + ky - g->pad_top, ix = ox * g->sw + kx - g->pad_left;
                        if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w) continue;
                        taps[n++] = x[((size_t)iy * g->w + ix) * channels + c];
                    }
                size_t i = ((size_t)oy * ow + ox) * channels + c;
                double mean;
                int64_t want = ref_pool(taps, n, kind, relu, rounding, &mean);
                CHECK(y[i] == want, "output (%d, %d, %d): expected %lld, got %lld", oy, ox, c,
                      (long long)want, (long long)y[i]);
                int sat = check_lsb(mean, y[i], bits, kind ? rounding : FLOOR, relu);
                CHECK(!sat, "a pool cannot saturate");
            }
    st->outputs += (long)ny;
    free(x), free(y), free(taps);
}

static const struct {
    int h, w, c, kh, kw, sh, sw, same;
} pool_cases[] = {
    {1, 16, 3, 1, 2, 1, 2, 0}, {1, 17, 2, 1, 3, 1, 2, 0}, /* the tail is dropped */
    {1, 10, 4, 1, 3, 1, 1, 0},                            /* overlapping windows */
    {7, 9, 3, 3, 2, 2, 2, 0},  {6, 6, 1, 2, 2, 2, 2, 0},
    {5, 5, 2, 3, 3, 1, 1, 0},  {4, 4, 1, 4, 4, 1, 1, 0}, /* one window: the whole input */
    {5, 5, 2, 3, 3, 2, 2, 1},  {1, 7, 3, 1, 4, 1, 3, 1}, /* padding (see pool.c) */
};

static void pool_int(void **state)
{
    (void)state;
    stats st = {0, 0};
    for (size_t i = 0; i < sizeof pool_cases / sizeof pool_cases[0]; i++) {
        mf_rt_geom g = geom(pool_cases[i].h, pool_cases[i].w, pool_cases[i].c, pool_cases[i].c,
                            pool_cases[i].kh, pool_cases[i].kw, pool_cases[i].sh, pool_cases[i].sw,
                            pool_cases[i].same);
        for (int v = 0; v < 32; v++)
            run_pool_int(&g, 0, g.cin, v & 1, v & 2 ? 16 : 8, v >> 2 & 1, v >> 3 & 1, v >> 4,
                         500 + i * 100 + (uint64_t)v, &st);
    }
    static const int global[][2] = {{1, 3}, {17, 4}, {64, 5}, {300, 2}, {2, 1}};
    for (size_t i = 0; i < sizeof global / sizeof global[0]; i++)
        for (int v = 0; v < 16; v++) /* global pools take no relu */
            run_pool_int(NULL, global[i][0], global[i][1], v & 1, v & 2 ? 16 : 8, 0, v >> 2 & 1,
                         v >> 3, 900 + i * 100 + (uint64_t)v, &st);
    if (verbose()) printf("pool int: %ld outputs\n", st.outputs);
}

/* Averages of negative sums: floor, not C's truncation toward zero. */
static void avgpool_hand(void **state)
{
    (void)state;
    snprintf(ctx, sizeof ctx, "hand-computed average pools");
    static const struct {
        int n;
        int8_t v[3];
        int8_t floor_, half;
    } cases[] = {
        {2, {-3, -4}, -4, -3},    /* −3.5 */
        {2, {-3, -2}, -3, -2},    /* −2.5 */
        {2, {3, 2}, 2, 3},        /* 2.5 */
        {3, {-1, -1, 0}, -1, -1}, /* −0.67 */
        {3, {-1, 0, 0}, -1, 0},   /* −0.33 */
        {3, {1, 1, 0}, 0, 1},     /* 0.67 */
        {3, {1, 0, 0}, 0, 0},     /* 0.33 */
        {3, {-128, -128, -127}, -128, -128},
        {2, {127, 126}, 126, 127},
        {1, {-5}, -5, -5},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int n = cases[i].n;
        mf_rt_geom g = geom(1, n, 1, 1, 1, n, 1, n, 0);
        int8_t y8;
        int16_t x16[3], y16;
        for (int k = 0; k < n; k++)
            x16[k] = (int16_t)(cases[i].v[k] * 256);
        for (int rounding = 0; rounding < 2; rounding++) {
            int8_t want = rounding == HALF ? cases[i].half : cases[i].floor_;
            K(mf_rt_avgpool_s8)(&g, cases[i].v, 0, rounding, &y8);
            CHECK(y8 == want, "case %zu rounding %d: expected %d, got %d", i, rounding, want, y8);
            K(mf_rt_global_avgpool_s8)(n, 1, cases[i].v, rounding, &y8);
            CHECK(y8 == want, "global case %zu rounding %d: expected %d, got %d", i, rounding, want,
                  y8);
            K(mf_rt_avgpool_s8)(&g, cases[i].v, 1, rounding, &y8);
            CHECK(y8 == (want < 0 ? 0 : want), "relu case %zu: got %d", i, y8);
            /* int16: the taps times 256 */
            K(mf_rt_avgpool_s16)(&g, x16, 0, rounding, &y16);
            int64_t sum = 0;
            for (int k = 0; k < n; k++)
                sum += x16[k];
            int64_t w16 = (int64_t)floor_div128(rounding == HALF ? 2 * (i128)sum + n : sum,
                                                rounding == HALF ? 2 * n : n);
            CHECK(y16 == w16, "int16 case %zu rounding %d: expected %lld, got %d", i, rounding,
                  (long long)w16, y16);
        }
    }
    /* int16 window sums beyond int16: 9 taps of −32768 and of 32767 */
    int16_t x[9], y;
    mf_rt_geom g = geom(3, 3, 1, 1, 3, 3, 1, 1, 0);
    for (int k = 0; k < 9; k++)
        x[k] = INT16_MIN;
    K(mf_rt_avgpool_s16)(&g, x, 0, HALF, &y);
    CHECK(y == INT16_MIN, "got %d", y);
    for (int k = 0; k < 9; k++)
        x[k] = INT16_MAX;
    K(mf_rt_avgpool_s16)(&g, x, 0, HALF, &y);
    CHECK(y == INT16_MAX, "got %d", y);
    x[8] = INT16_MAX - 1; /* mean 32767 − 1/9: floor 32766, half-up 32767 */
    K(mf_rt_avgpool_s16)(&g, x, 0, FLOOR, &y);
    CHECK(y == INT16_MAX - 1, "got %d", y);
    K(mf_rt_avgpool_s16)(&g, x, 0, HALF, &y);
    CHECK(y == INT16_MAX, "got %d", y);
}

static void run_pool_f32(const mf_rt_geom *g, int positions, int channels, int kind, int relu,
                         uint64_t seed)
{
    snprintf(ctx, sizeof ctx, "%s%s f32 %s relu %d (positions %d channels %d)", g ? "" : "global ",
             kind ? "avgpool" : "maxpool", g ? geom_str(g) : "", relu, positions, channels);
    rng_t r = {seed};
    size_t nx = g ? (size_t)g->h * g->w * g->cin : (size_t)positions * channels;
    size_t ny = g ? (size_t)g->oh * g->ow * g->cin : (size_t)channels;
    float *x = xcalloc(nx, 4), *y = xcalloc(ny, 4);
    for (size_t i = 0; i < nx; i++)
        x[i] = rng_float(&r, -1, 1);
    if (g && kind == 0) K(mf_rt_maxpool_f32)(g, x, relu, y);
    if (g && kind == 1) K(mf_rt_avgpool_f32)(g, x, relu, y);
    if (!g && kind == 0) K(mf_rt_global_maxpool_f32)(positions, channels, x, y);
    if (!g && kind == 1) K(mf_rt_global_avgpool_f32)(positions, channels, x, y);
    int oh = g ? g->oh : 1, ow = g ? g->ow : 1;
    int kh = g ? g->kh : 1, kw = g ? g->kw : positions;
    for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++)
            for (int c = 0; c < channels; c++) {
                float fsum = 0.0f, fmax = 0.0f;
                double dsum = 0.0, mag = 0.0;
                int n = 0;
                for (int ky = 0; ky < kh; ky++)
                    for (int kx = 0; kx < kw; kx++) {
                        float v;
                        if (g) {
                            int iy = oy * g->sh + ky - g->pad_top;
                            int ix = ox * g->sw + kx - g->pad_left;
                            if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w) continue;
                            v = x[((size_t)iy * g->w + ix) * channels + c];
                        } else {
                            v = x[(size_t)kx * channels + c];
                        }
                        if (n == 0 || v > fmax) fmax = v;
                        fsum += v;
                        dsum += v;
                        mag += fabs(v);
                        n++;
                    }
                float f = kind ? fsum / (float)n : fmax;
                double d = kind ? dsum / n : fmax;
                if (relu && f < 0.0f) f = 0.0f;
                if (relu && d < 0.0) d = 0.0;
                float got = y[((size_t)oy * ow + ox) * channels + c];
                CHECK(memcmp(&got, &f, sizeof f) == 0, "(%d, %d, %d): expected %a, got %a", oy, ox,
                      c, (double)f, (double)got);
                CHECK(fabs((double)got - d) <= 1e-5 * mag / n + 1e-30,
                      "(%d, %d, %d): double %.9g, got %.9g", oy, ox, c, d, (double)got);
            }
    free(x), free(y);
}

static void pool_f32(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof pool_cases / sizeof pool_cases[0]; i++) {
        mf_rt_geom g = geom(pool_cases[i].h, pool_cases[i].w, pool_cases[i].c, pool_cases[i].c,
                            pool_cases[i].kh, pool_cases[i].kw, pool_cases[i].sh, pool_cases[i].sw,
                            pool_cases[i].same);
        for (int v = 0; v < 4; v++)
            run_pool_f32(&g, 0, g.cin, v & 1, v >> 1, 1500 + i * 10 + (uint64_t)v);
    }
    static const int global[][2] = {{1, 3}, {17, 4}, {64, 5}, {100, 2}};
    for (size_t i = 0; i < sizeof global / sizeof global[0]; i++)
        for (int kind = 0; kind < 2; kind++)
            run_pool_f32(NULL, global[i][0], global[i][1], kind, 0, 1900 + i * 10 + (uint64_t)kind);
}

/* ---- add ---- */

static void run_add_int(int bits, size_t n, int n_a, int n_b, int n_out, int relu, int rounding,
                        int small, uint64_t seed, stats *st)
{
    int n_fine = n_a > n_b ? n_a : n_b, al_a = n_fine - n_a, al_b = n_fine - n_b;
    snprintf(ctx, sizeof ctx, "add int%d n %zu formats a %d b %d out %d relu %d %s", bits, n, n_a,
             n_b, n_out, relu, rounding == HALF ? "half-up" : "floor");
    rng_t r = {seed};
    int64_t *a = xcalloc(n, 8), *b = xcalloc(n, 8), *y = xcalloc(n, 8);
    int64_t lo = small ? -3 : qmin_of(bits), hi = small ? 3 : qmax_of(bits);
    for (size_t i = 0; i < n; i++) {
        a[i] = rng_int(&r, lo, hi);
        b[i] = rng_int(&r, lo, hi);
    }
    mf_rt_requant rq = {n_fine - n_out, NULL, relu, rounding};
    if (bits == 8) {
        int8_t *aa = xcalloc(n, 1), *bb = xcalloc(n, 1), *yy = xcalloc(n, 1);
        for (size_t i = 0; i < n; i++)
            aa[i] = (int8_t)a[i], bb[i] = (int8_t)b[i];
        K(mf_rt_add_s8)(n, aa, al_a, bb, al_b, &rq, yy);
        for (size_t i = 0; i < n; i++)
            y[i] = yy[i];
        K(mf_rt_add_s8)(n, aa, al_a, bb, al_b, &rq, aa); /* in place into a */
        CHECK(memcmp(aa, yy, n) == 0, "in place differs");
        free(aa), free(bb), free(yy);
    } else {
        int16_t *aa = xcalloc(n, 2), *bb = xcalloc(n, 2), *yy = xcalloc(n, 2);
        for (size_t i = 0; i < n; i++)
            aa[i] = (int16_t)a[i], bb[i] = (int16_t)b[i];
        K(mf_rt_add_s16)(n, aa, al_a, bb, al_b, &rq, yy);
        for (size_t i = 0; i < n; i++)
            y[i] = yy[i];
        K(mf_rt_add_s16)(n, aa, al_a, bb, al_b, &rq, bb); /* in place into b */
        CHECK(memcmp(bb, yy, n * 2) == 0, "in place differs");
        free(aa), free(bb), free(yy);
    }
    for (size_t i = 0; i < n; i++) {
        int64_t acc = a[i] * ((int64_t)1 << al_a) + b[i] * ((int64_t)1 << al_b);
        int64_t want = ref_requant(acc, n_fine - n_out, relu, rounding, bits);
        CHECK(y[i] == want, "element %zu: %lld + %lld: expected %lld, got %lld", i, (long long)a[i],
              (long long)b[i], (long long)want, (long long)y[i]);
        double real = ldexp((double)a[i], -n_a) + ldexp((double)b[i], -n_b);
        st->saturated += check_lsb(ldexp(real, n_out), y[i], bits, rounding, relu);
    }
    st->outputs += (long)n;
    free(a), free(b), free(y);
}

static void add_int(void **state)
{
    (void)state;
    /* formats (n_a, n_b, n_out) per width; small: data in [−3, 3] for left shifts */
    static const struct {
        int bits, n_a, n_b, n_out, small, fits;
    } cases[] = {
        {8, 5, 5, 4, 0, 1},    {8, 5, 5, 5, 0, 0},   {8, 7, 4, 3, 0, 1},  {8, 2, 6, 1, 0, 1},
        {8, 3, 3, 1, 0, 1},    {8, 0, 7, 4, 0, 0},   {8, 4, 4, 7, 1, 1},  {8, 4, 2, 7, 1, 1},
        {8, 2, 5, 6, 1, 1},    {8, 0, 23, 0, 1, 1},  {8, -2, 3, 1, 0, 0}, {8, 6, 6, 6, 0, 0},
        {8, 10, 33, 30, 0, 0}, {16, 9, 9, 8, 0, 1},  {16, 9, 9, 9, 0, 0}, {16, 12, 9, 8, 0, 1},
        {16, 6, 15, 12, 0, 0}, {16, 9, 9, 20, 1, 1}, {16, 9, 0, 6, 0, 0}, {16, 9, 9, 5, 0, 1},
        {16, 1, 47, 44, 0, 0}, {16, 0, 47, 0, 1, 1},
    };
    stats st = {0, 0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int v = 0; v < 4; v++) {
            long sat0 = st.saturated;
            run_add_int(cases[i].bits, 101, cases[i].n_a, cases[i].n_b, cases[i].n_out, v & 1,
                        v >> 1, cases[i].small, 2000 + i * 10 + (uint64_t)v, &st);
            if (cases[i].fits) CHECK(st.saturated == sat0, "a fitting format saturated");
        }
    assert_true(st.saturated > 0);
    if (verbose()) printf("add int: %ld outputs, %ld saturated\n", st.outputs, st.saturated);
}

/* Adds of 3 and 4 inputs (DESIGN.md §13): against an independent computation (every input
 * aligned to the finest format in 64 bits, one ref_requant), random formats up to the largest
 * alignments (22 bits int8, 46 int16) with extreme data, both roundings, ReLU, in place over any
 * input; their ReLU6 forms clamp at q6; float sums in the documented order. */
static void addn_all(void **state)
{
    (void)state;
    rng_t r = {0xADD4};
    for (int it = 0; it < 400; it++) {
        const int k = (int)rng_int(&r, 3, 4), bits = rng_int(&r, 0, 1) ? 16 : 8;
        const size_t n = (size_t)rng_int(&r, 1, 70);
        const int maxal = bits == 8 ? 22 : 46;
        int al[4];
        for (int q = 0; q < 4; q++)
            al[q] = rng_int(&r, 0, 3) ? (int)rng_int(&r, 0, 4) : (int)rng_int(&r, 0, maxal);
        const int relu = (int)rng_int(&r, 0, 1), rounding = rng_int(&r, 0, 1) ? HALF : FLOOR;
        const int shift = (int)rng_int(&r, -4, bits == 8 ? 30 : 50);
        const int inplace = (int)rng_int(&r, -1, k - 1); /* -1: a separate output */
        const int extreme = (int)rng_int(&r, 0, 3) == 0;
        snprintf(ctx, sizeof ctx, "addn k%d int%d n%zu align %d,%d,%d,%d shift %d relu %d %s", k,
                 bits, n, al[0], al[1], al[2], al[3], shift, relu,
                 rounding == HALF ? "half-up" : "floor");
        int64_t v[4][70];
        for (int q = 0; q < 4; q++)
            for (size_t i = 0; i < n; i++)
                v[q][i] = extreme ? (rng_int(&r, 0, 1) ? qmax_of(bits) : qmin_of(bits))
                                  : rng_int(&r, qmin_of(bits), qmax_of(bits));
        int64_t want[70];
        for (size_t i = 0; i < n; i++) {
            int64_t acc = 0;
            for (int q = 0; q < k; q++)
                acc += v[q][i] * ((int64_t)1 << al[q]);
            want[i] = ref_requant(acc, shift, relu, rounding, bits);
        }
        const mf_rt_requant rq = {shift, NULL, relu, rounding};
        if (bits == 8) {
            int8_t x[4][70], out[70];
            for (int q = 0; q < 4; q++)
                for (size_t i = 0; i < n; i++)
                    x[q][i] = (int8_t)v[q][i];
            int8_t *o = inplace >= 0 ? x[inplace] : out;
            mf_rt_addn_s8(n, k, x[0], al[0], x[1], al[1], x[2], al[2], k > 3 ? x[3] : NULL, al[3],
                          &rq, o);
            for (size_t i = 0; i < n; i++)
                CHECK(o[i] == want[i], "output %zu: %d, want %lld", i, o[i], (long long)want[i]);
        } else {
            int16_t x[4][70], out[70];
            for (int q = 0; q < 4; q++)
                for (size_t i = 0; i < n; i++)
                    x[q][i] = (int16_t)v[q][i];
            int16_t *o = inplace >= 0 ? x[inplace] : out;
            mf_rt_addn_s16(n, k, x[0], al[0], x[1], al[1], x[2], al[2], k > 3 ? x[3] : NULL, al[3],
                           &rq, o);
            for (size_t i = 0; i < n; i++)
                CHECK(o[i] == want[i], "output %zu: %d, want %lld", i, o[i], (long long)want[i]);
        }
        /* the ReLU6 form: the same with ReLU, clamped at q6 */
        const int q6 = (int)rng_int(&r, 0, bits == 8 ? 127 : 32767);
        const mf_rt_requant r6 = {shift, NULL, MF_RT_RELU6(q6), rounding};
        int8_t y8[4][70];
        int16_t y16[4][70];
        for (int q = 0; q < 4; q++)
            for (size_t i = 0; i < n; i++)
                y8[q][i] = (int8_t)v[q][i], y16[q][i] = (int16_t)v[q][i];
        for (size_t i = 0; i < n; i++) {
            int64_t acc = 0;
            for (int q = 0; q < k; q++)
                acc += v[q][i] * ((int64_t)1 << al[q]);
            const int64_t w = ref_requant(acc, shift, 1, rounding, bits);
            want[i] = w > q6 ? q6 : w;
        }
        if (bits == 8) {
            mf_rt_addn_relu6_s8(n, k, y8[0], al[0], y8[1], al[1], y8[2], al[2], y8[3], al[3], &r6,
                                y8[0]);
            for (size_t i = 0; i < n; i++)
                CHECK(y8[0][i] == want[i], "ReLU6 output %zu: %d, want %lld", i, y8[0][i],
                      (long long)want[i]);
        } else {
            mf_rt_addn_relu6_s16(n, k, y16[0], al[0], y16[1], al[1], y16[2], al[2], y16[3], al[3],
                                 &r6, y16[0]);
            for (size_t i = 0; i < n; i++)
                CHECK(y16[0][i] == want[i], "ReLU6 output %zu: %d, want %lld", i, y16[0][i],
                      (long long)want[i]);
        }
        /* float: ((a + b) + c) + d, ReLU, ReLU6 */
        float f[4][70], of[70], o6[70];
        for (int q = 0; q < 4; q++)
            for (size_t i = 0; i < n; i++)
                f[q][i] = rng_float(&r, -5.0f, 5.0f);
        mf_rt_addn_f32(n, k, f[0], f[1], f[2], k > 3 ? f[3] : NULL, relu, of);
        mf_rt_addn_relu6_f32(n, k, f[0], f[1], f[2], f[3], 0, o6);
        for (size_t i = 0; i < n; i++) {
            volatile float s = f[0][i] + f[1][i];
            s = s + f[2][i];
            if (k > 3) s = s + f[3][i];
            const float w = relu && s < 0.0f ? 0.0f : s;
            const float w6 = s < 0.0f ? 0.0f : s > 6.0f ? 6.0f : s;
            CHECK(memcmp(&of[i], &w, 4) == 0, "float output %zu: %a, want %a", i, (double)of[i],
                  (double)w);
            CHECK(memcmp(&o6[i], &w6, 4) == 0, "float ReLU6 output %zu: %a, want %a", i,
                  (double)o6[i], (double)w6);
        }
    }
}

/* Concatenation (DESIGN.md §13): every input requantized to the output's format (ref_requant of
 * each value with its shift, no ReLU; shift 0 a copy), its channels at their offset; 2 to 4
 * inputs, random positions and channel counts, shifts from −9 to 12 (left shifts saturate), both
 * roundings; float copies bit for bit; nothing written past the output. */
static void concat_all(void **state)
{
    (void)state;
    rng_t r = {0xCA7};
    for (int it = 0; it < 300; it++) {
        mf_rt_concat p;
        memset(&p, 0, sizeof p);
        p.k = (int)rng_int(&r, 2, 4);
        p.rounding = rng_int(&r, 0, 1) ? HALF : FLOOR;
        const int bits = rng_int(&r, 0, 1) ? 16 : 8, positions = (int)rng_int(&r, 1, 12);
        int cout = 0;
        for (int i = 0; i < p.k; i++) {
            p.channels[i] = (int)rng_int(&r, 1, 6);
            p.shift[i] = rng_int(&r, 0, 2) ? 0 : (int)rng_int(&r, -9, 12);
            cout += p.channels[i];
        }
        snprintf(ctx, sizeof ctx, "concat k%d int%d positions %d shifts %d,%d,%d,%d %s", p.k, bits,
                 positions, p.shift[0], p.shift[1], p.shift[2], p.shift[3],
                 p.rounding == HALF ? "half-up" : "floor");
        int64_t v[4][72];
        int8_t x8[4][72];
        int16_t x16[4][72];
        float xf[4][72];
        for (int i = 0; i < 4; i++)
            for (int e = 0; e < 72; e++) {
                v[i][e] = rng_int(&r, qmin_of(bits), qmax_of(bits));
                x8[i][e] = (int8_t)(v[i][e] >> (bits == 16 ? 8 : 0));
                x16[i][e] = (int16_t)v[i][e];
                xf[i][e] = rng_float(&r, -3.0f, 3.0f);
            }
        const size_t n = (size_t)positions * (size_t)cout;
        int8_t o8[4 * 72 + 8];
        int16_t o16[4 * 72 + 8];
        float of[4 * 72 + 8];
        memset(o8, 0x5A, sizeof o8), memset(o16, 0x5A, sizeof o16), memset(of, 0x5A, sizeof of);
        const int null_rest = p.k < 4; /* inputs past k may be NULL */
        mf_rt_concat_s8(positions, &p, x8[0], x8[1], p.k > 2 ? x8[2] : NULL,
                        p.k > 3 || !null_rest ? x8[3] : NULL, o8);
        mf_rt_concat_s16(positions, &p, x16[0], x16[1], p.k > 2 ? x16[2] : NULL,
                         p.k > 3 ? x16[3] : NULL, o16);
        mf_rt_concat_f32(positions, &p, xf[0], xf[1], p.k > 2 ? xf[2] : NULL,
                         p.k > 3 ? xf[3] : NULL, of);
        for (int q = 0; q < positions; q++)
            for (int i = 0, at = 0; i < p.k; at += p.channels[i], i++)
                for (int c = 0; c < p.channels[i]; c++) {
                    const size_t o = (size_t)q * cout + at + c, s = (size_t)q * p.channels[i] + c;
                    const int64_t w8 = ref_requant(x8[i][s], p.shift[i], 0, p.rounding, 8);
                    const int64_t w16 = ref_requant(x16[i][s], p.shift[i], 0, p.rounding, 16);
                    CHECK(o8[o] == w8, "int8 output %zu: %d, want %lld", o, o8[o], (long long)w8);
                    CHECK(o16[o] == w16, "int16 output %zu: %d, want %lld", o, o16[o],
                          (long long)w16);
                    CHECK(memcmp(&of[o], &xf[i][s], 4) == 0, "float output %zu", o);
                }
        for (size_t e = n; e < n + 8; e++)
            CHECK(o8[e] == 0x5A && o16[e] == 0x5A5A, "a write past the output at %zu", e);
    }
}

/* Per-channel affine (DESIGN.md §13, a batch-norm that cannot fold): out = requant(b[c] +
 * in·a[c]) per channel with that channel's shift (or the one shift without per-channel shifts),
 * ReLU 0 or 1, no bias (NULL) or one, full-range values, both roundings; computed in place as
 * well (out == in); float b[c] + in·a[c] rounded as the kernel's documented order. */
static void affine_all(void **state)
{
    (void)state;
    rng_t r = {0xAFF};
    for (int it = 0; it < 300; it++) {
        const int bits = rng_int(&r, 0, 1) ? 16 : 8, positions = (int)rng_int(&r, 1, 9);
        const int channels = (int)rng_int(&r, 1, 8), relu = (int)rng_int(&r, 0, 1);
        const int per_channel = (int)rng_int(&r, 0, 1), with_bias = (int)rng_int(&r, 0, 3) > 0;
        mf_rt_requant rq = {(int)rng_int(&r, -4, 20), NULL, relu, rng_int(&r, 0, 1) ? HALF : FLOOR};
        int8_t shifts[8];
        for (int c = 0; c < 8; c++)
            shifts[c] = (int8_t)rng_int(&r, -4, 24);
        if (per_channel) rq.shifts = shifts;
        snprintf(ctx, sizeof ctx, "affine int%d positions %d channels %d relu %d %s bias %d %s",
                 bits, positions, channels, relu, per_channel ? "per-channel" : "one shift",
                 with_bias, rq.rounding == HALF ? "half-up" : "floor");
        const size_t n = (size_t)positions * (size_t)channels;
        int8_t x8[72 + 8], a8[8];
        int16_t x16[72 + 8], a16[8];
        int32_t b32[8];
        int64_t b64[8];
        float xf[72], af[8], bf[8], of[72];
        for (size_t e = 0; e < n; e++) {
            x8[e] = (int8_t)rng_int(&r, -128, 127);
            x16[e] = (int16_t)rng_int(&r, -32768, 32767);
            xf[e] = rng_float(&r, -3.0f, 3.0f);
        }
        for (int c = 0; c < channels; c++) {
            a8[c] = (int8_t)rng_int(&r, -128, 127);
            a16[c] = (int16_t)rng_int(&r, -32768, 32767);
            b32[c] = (int32_t)rng_int(&r, -(1 << 20), 1 << 20);
            b64[c] = rng_int(&r, -(1LL << 36), 1LL << 36);
            af[c] = rng_float(&r, -2.0f, 2.0f);
            bf[c] = rng_float(&r, -1.0f, 1.0f);
        }
        for (int e = 0; e < 8; e++)
            x8[n + (size_t)e] = 0x5A, x16[n + (size_t)e] = 0x5A5A;
        int8_t o8[72 + 8], i8[72 + 8];
        int16_t o16[72 + 8], i16[72 + 8];
        memset(o8, 0x5A, sizeof o8), memset(o16, 0x5A, sizeof o16);
        memcpy(i8, x8, sizeof i8), memcpy(i16, x16, sizeof i16);
        mf_rt_affine_s8(positions, channels, x8, a8, with_bias ? b32 : NULL, &rq, o8);
        mf_rt_affine_s16(positions, channels, x16, a16, with_bias ? b64 : NULL, &rq, o16);
        mf_rt_affine_s8(positions, channels, i8, a8, with_bias ? b32 : NULL, &rq, i8);
        mf_rt_affine_s16(positions, channels, i16, a16, with_bias ? b64 : NULL, &rq, i16);
        mf_rt_affine_f32(positions, channels, xf, af, with_bias ? bf : NULL, of);
        for (size_t e = 0; e < n; e++) {
            const int c = (int)(e % (size_t)channels), s = per_channel ? shifts[c] : rq.shift;
            const int64_t w8 = ref_requant((with_bias ? b32[c] : 0) + (int64_t)x8[e] * a8[c], s,
                                           relu, rq.rounding, 8);
            const int64_t w16 = ref_requant((with_bias ? b64[c] : 0) + (int64_t)x16[e] * a16[c], s,
                                            relu, rq.rounding, 16);
            CHECK(o8[e] == w8, "int8 output %zu: %d, want %lld", e, o8[e], (long long)w8);
            CHECK(o16[e] == w16, "int16 output %zu: %d, want %lld", e, o16[e], (long long)w16);
            CHECK(i8[e] == w8 && i16[e] == w16, "in place, output %zu", e);
            volatile float acc = with_bias ? bf[c] : 0.0f;
            acc = acc + xf[e] * af[c];
            const float want = acc;
            CHECK(memcmp(&of[e], &want, 4) == 0, "float output %zu: %g, want %g", e, of[e], want);
        }
        for (size_t e = n; e < n + 8; e++)
            CHECK(o8[e] == 0x5A && o16[e] == 0x5A5A && i8[e] == 0x5A && i16[e] == 0x5A5A,
                  "a write past the output at %zu", e);
    }
}

/* The optimized int8 / int16 add against the reference for every alignment pair in [0, 4]²
 * (plus a few far apart) and every shift in [−18, 20], both roundings, with and without ReLU:
 * these cover each plan of add_opt.c (halvings before and after the combine, the rounding
 * combine, 1–8 saturating adds, doublings) and the reference fallback. The first operand runs
 * through every int8 value (int16: every power of two ± 0, 1, 2 and the ends), the second
 * through the extremes and values around the rounding points; n is not a multiple of 4, so the
 * tail after the last word runs too. */
static void add_int_sweep(void **state)
{
    (void)state;
    static const int aligns[][2] = {{0, 0}, {0, 1}, {1, 0}, {0, 2},  {2, 0},  {0, 3},  {3, 0},
                                    {0, 4}, {4, 0}, {1, 1}, {2, 1},  {1, 3},  {4, 4},  {2, 2},
                                    {3, 3}, {0, 7}, {8, 0}, {0, 15}, {16, 1}, {23, 20}};
    static const int vb[] = {-32768, -32767, -16385, -16384, -16383, -129,  -128,  -127, -65, -64,
                             -63,    -3,     -2,     -1,     0,      1,     2,     3,    63,  64,
                             65,     126,    127,    128,    16383,  16384, 32766, 32767};
    enum { NA8 = 256, NB = sizeof vb / sizeof vb[0] };
    int16_t va16[64 * 5];
    int na16 = 0;
    for (int k = 0; k < 16; k++)
        for (int sign = -1; sign <= 1; sign += 2)
            for (int o = -2; o <= 2; o++) {
                long v = sign * (1L << k) + o;
                if (v >= -32768 && v <= 32767) va16[na16++] = (int16_t)v;
            }
    va16[na16++] = -32768, va16[na16++] = 32767;
    const size_t n8 = (size_t)NA8 * NB + 3, n16 = (size_t)na16 * NB + 1;
    int8_t *a8 = xcalloc(n8, 1), *b8 = xcalloc(n8, 1), *o8 = xcalloc(n8, 1), *r8 = xcalloc(n8, 1);
    int16_t *a16 = xcalloc(n16, 2), *b16 = xcalloc(n16, 2), *o16 = xcalloc(n16, 2),
            *r16 = xcalloc(n16, 2);
    for (size_t i = 0; i < n8; i++) {
        a8[i] = (int8_t)((i % NA8) - 128);
        int v = vb[(i / NA8) % NB];
        b8[i] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
    }
    for (size_t i = 0; i < n16; i++)
        a16[i] = va16[i % (size_t)na16], b16[i] = (int16_t)vb[(i / (size_t)na16) % NB];
    for (size_t k = 0; k < sizeof aligns / sizeof aligns[0]; k++)
        for (int shift = -18; shift <= 20; shift++)
            for (int v = 0; v < 4; v++) {
                const int la = aligns[k][0], lb = aligns[k][1];
                mf_rt_requant rq = {shift, NULL, v & 1, v & 2 ? HALF : FLOOR};
                snprintf(ctx, sizeof ctx, "add sweep aligns %d %d shift %d relu %d %s", la, lb,
                         shift, v & 1, v & 2 ? "half-up" : "floor");
                mf_rt_add_s8_opt(n8, a8, la, b8, lb, &rq, o8);
                mf_rt_add_s8_ref(n8, a8, la, b8, lb, &rq, r8);
                for (size_t i = 0; i < n8; i++)
                    CHECK(o8[i] == r8[i], "int8 element %zu: %d, %d: expected %d, got %d", i, a8[i],
                          b8[i], r8[i], o8[i]);
                mf_rt_add_s16_opt(n16, a16, la, b16, lb, &rq, o16);
                mf_rt_add_s16_ref(n16, a16, la, b16, lb, &rq, r16);
                for (size_t i = 0; i < n16; i++)
                    CHECK(o16[i] == r16[i], "int16 element %zu: %d, %d: expected %d, got %d", i,
                          a16[i], b16[i], r16[i], o16[i]);
            }
    free(a8), free(b8), free(o8), free(r8), free(a16), free(b16), free(o16), free(r16);
}

static void add_f32(void **state)
{
    (void)state;
    snprintf(ctx, sizeof ctx, "add f32");
    rng_t r = {77};
    enum { N = 257 };
    float a[N], b[N], y[N], y2[N];
    for (int i = 0; i < N; i++)
        a[i] = rng_float(&r, -2, 2), b[i] = rng_float(&r, -2, 2);
    for (int relu = 0; relu < 2; relu++) {
        K(mf_rt_add_f32)(N, a, b, relu, y);
        memcpy(y2, a, sizeof a);
        K(mf_rt_add_f32)(N, y2, b, relu, y2); /* in place */
        for (int i = 0; i < N; i++) {
            float f = a[i] + b[i];
            if (relu && f < 0.0f) f = 0.0f;
            CHECK(memcmp(&f, &y[i], sizeof f) == 0 && memcmp(&f, &y2[i], sizeof f) == 0,
                  "element %d", i);
            double d = (double)a[i] + b[i];
            if (relu && d < 0) d = 0;
            CHECK(fabs(d - y[i]) <= 1e-5 * (fabs(a[i]) + fabs(b[i])), "element %d", i);
        }
    }
}

/* ---- relu and rescale ---- */

static void relu_all(void **state)
{
    (void)state;
    snprintf(ctx, sizeof ctx, "relu");
    int8_t x8[5] = {-128, -1, 0, 1, 127}, y8[5];
    int16_t x16[5] = {-32768, -1, 0, 1, 32767}, y16[5];
    float xf[6] = {-1.5f, -0.0f, 0.0f, 2.5f, -1e-30f, NAN}, yf[6];
    K(mf_rt_relu_s8)(5, x8, y8);
    CHECK(y8[0] == 0 && y8[1] == 0 && y8[2] == 0 && y8[3] == 1 && y8[4] == 127, "s8");
    K(mf_rt_relu_s8)(5, x8, x8); /* in place */
    CHECK(memcmp(x8, y8, sizeof y8) == 0, "s8 in place");
    K(mf_rt_relu_s16)(5, x16, y16);
    CHECK(y16[0] == 0 && y16[1] == 0 && y16[2] == 0 && y16[3] == 1 && y16[4] == 32767, "s16");
    K(mf_rt_relu_s16)(5, x16, x16);
    CHECK(memcmp(x16, y16, sizeof y16) == 0, "s16 in place");
    K(mf_rt_relu_f32)(6, xf, yf);
    CHECK(yf[0] == 0.0f && !signbit(yf[0]), "-1.5 → +0");
    CHECK(yf[1] == 0.0f && signbit(yf[1]), "-0 passes unchanged");
    CHECK(yf[2] == 0.0f && yf[3] == 2.5f && yf[4] == 0.0f && isnan(yf[5]), "f32");
    K(mf_rt_relu_f32)(6, xf, xf);
    CHECK(memcmp(xf, yf, sizeof yf) == 0, "f32 in place");
}

/* ---- depthwise conv ----
 * A depthwise conv is the conv whose weights are 0 except, for output channel co, on input
 * channel co / m (DESIGN.md §13): every depthwise kernel (int8 through K(): the Cortex-M4 path in
 * the optimized group) equals the conv reference on those expanded weights, bit for bit for the
 * integers, value for value for float (the zero products only add ±0), on random geometries,
 * multipliers 1 to 3, per-tensor and per-channel shifts, ReLU, both roundings. */
static void dwconv_vs_conv(void **state)
{
    (void)state;
    rng_t r = {0xD3D3};
    for (int it = 0; it < 150; it++) {
        mf_rt_geom g;
        const int two_d = (int)rng_int(&r, 0, 1), same = (int)rng_int(&r, 0, 1);
        const int m = (int)rng_int(&r, 1, 3);
        g.h = two_d ? (int)rng_int(&r, 1, 7) : 1;
        g.w = (int)rng_int(&r, 1, 9);
        g.cin = (int)rng_int(&r, 1, 10);
        g.cout = g.cin * m;
        g.kh = two_d ? (int)rng_int(&r, 1, 4) : 1;
        g.kw = (int)rng_int(&r, 1, 4);
        g.sh = two_d ? (int)rng_int(&r, 1, 3) : 1;
        g.sw = (int)rng_int(&r, 1, 3);
        if (!same && (g.kh > g.h || g.kw > g.w)) continue;
        eq_axis(g.h, g.kh, g.sh, same, &g.oh, &g.pad_top);
        eq_axis(g.w, g.kw, g.sw, same, &g.ow, &g.pad_left);
        const int K = g.kh * g.kw;
        const size_t nx = (size_t)g.h * g.w * g.cin, ny = (size_t)g.oh * g.ow * g.cout,
                     nw = (size_t)g.cout * K, nwc = nw * (size_t)g.cin;
        snprintf(ctx, sizeof ctx, "dwconv %dx%dx%d m%d k %dx%d s %dx%d %s", g.h, g.w, g.cin, m,
                 g.kh, g.kw, g.sh, g.sw, same ? "same" : "valid");
        int8_t *x8 = xcalloc(nx, 1), *w8 = xcalloc(nw, 1), *wc8 = xcalloc(nwc, 1);
        int8_t *y8 = xcalloc(ny, 1), *z8 = xcalloc(ny, 1);
        int16_t *x16 = xcalloc(nx, 2), *w16 = xcalloc(nw, 2), *wc16 = xcalloc(nwc, 2);
        int16_t *y16 = xcalloc(ny, 2), *z16 = xcalloc(ny, 2);
        float *xf = xcalloc(nx, 4), *wf = xcalloc(nw, 4), *wcf = xcalloc(nwc, 4);
        float *yf = xcalloc(ny, 4), *zf = xcalloc(ny, 4);
        int32_t *b8 = xcalloc((size_t)g.cout, 4);
        int64_t *b16 = xcalloc((size_t)g.cout, 8);
        float *bf = xcalloc((size_t)g.cout, 4);
        int8_t *shifts = xcalloc((size_t)g.cout, 1);
        for (size_t i = 0; i < nx; i++) {
            x8[i] = (int8_t)rng_int(&r, -128, 127);
            x16[i] = (int16_t)rng_int(&r, -32768, 32767);
            xf[i] = rng_float(&r, -2.0f, 2.0f);
        }
        for (int co = 0; co < g.cout; co++) {
            b8[co] = (int32_t)rng_int(&r, -40000, 40000);
            b16[co] = rng_int(&r, -(1LL << 36), 1LL << 36);
            bf[co] = rng_float(&r, -1.0f, 1.0f);
            for (int t = 0; t < K; t++) {
                const size_t at = (size_t)co * K + t;
                w8[at] = (int8_t)rng_int(&r, -128, 127);
                w16[at] = (int16_t)rng_int(&r, -32768, 32767);
                wf[at] = rng_float(&r, -1.0f, 1.0f);
                /* the conv's [co][ky][kx][ci]: only ci = co / m */
                const size_t c = at * (size_t)g.cin + (size_t)(co / m);
                wc8[c] = w8[at], wc16[c] = w16[at], wcf[c] = wf[at];
            }
        }
        const int per_channel = (int)rng_int(&r, 0, 1), relu = (int)rng_int(&r, 0, 1);
        const int rounding = rng_int(&r, 0, 1) ? HALF : FLOOR;
        for (int co = 0; co < g.cout; co++)
            shifts[co] = (int8_t)rng_int(&r, 0, 12);
        mf_rt_requant rq = {(int)rng_int(&r, -2, 12), per_channel ? shifts : NULL, relu, rounding};
        void *scratch = xcalloc(mf_rt_dwconv_s8_scratch_bytes(&g) + 8, 1);
        K(mf_rt_dwconv_s8)(&g, x8, w8, b8, &rq, y8, scratch);
        mf_rt_conv_s8_ref(&g, x8, wc8, b8, &rq, z8, NULL);
        for (size_t i = 0; i < ny; i++)
            CHECK(y8[i] == z8[i], "int8 output %zu: depthwise %d, conv %d", i, y8[i], z8[i]);
        for (int co = 0; co < g.cout; co++)
            shifts[co] = (int8_t)rng_int(&r, 10, 40);
        rq.shift = (int)rng_int(&r, 10, 40);
        mf_rt_dwconv_s16(&g, x16, w16, b16, &rq, y16);
        mf_rt_conv_s16_ref(&g, x16, wc16, b16, &rq, z16, NULL);
        for (size_t i = 0; i < ny; i++)
            CHECK(y16[i] == z16[i], "int16 output %zu: depthwise %d, conv %d", i, y16[i], z16[i]);
        mf_rt_dwconv_f32(&g, xf, wf, bf, relu, yf);
        mf_rt_conv_f32_ref(&g, xf, wcf, bf, relu, zf);
        for (size_t i = 0; i < ny; i++)
            CHECK(yf[i] == zf[i], "float output %zu: depthwise %a, conv %a", i, (double)yf[i],
                  (double)zf[i]);
        free(x8), free(w8), free(wc8), free(y8), free(z8);
        free(x16), free(w16), free(wc16), free(y16), free(z16);
        free(xf), free(wf), free(wcf), free(yf), free(zf);
        free(b8), free(b16), free(bf), free(shifts), free(scratch);
    }
}

static void rescale(void **state)
{
    (void)state;
    rng_t r = {4242};
    enum { N = 300 };
    long sat = 0;
    for (int bits = 8; bits <= 16; bits += 8)
        for (int shift = -17; shift <= 17; shift++)
            for (int rounding = 0; rounding < 2; rounding++) {
                snprintf(ctx, sizeof ctx, "rescale int%d shift %d %s", bits, shift,
                         rounding == HALF ? "half-up" : "floor");
                int64_t x[N], y[N];
                for (int i = 0; i < N; i++)
                    x[i] = i == 0   ? qmax_of(bits)
                           : i == 1 ? qmin_of(bits)
                           : i == 2 ? 0
                                    : rng_int(&r, qmin_of(bits), qmax_of(bits));
                if (bits == 8) {
                    int8_t xx[N], yy[N];
                    for (int i = 0; i < N; i++)
                        xx[i] = (int8_t)x[i];
                    K(mf_rt_rescale_s8)(N, xx, shift, rounding, yy);
                    K(mf_rt_rescale_s8)(N, xx, shift, rounding, xx); /* in place */
                    CHECK(memcmp(xx, yy, sizeof yy) == 0, "in place differs");
                    for (int i = 0; i < N; i++)
                        y[i] = yy[i];
                } else {
                    int16_t xx[N], yy[N];
                    for (int i = 0; i < N; i++)
                        xx[i] = (int16_t)x[i];
                    K(mf_rt_rescale_s16)(N, xx, shift, rounding, yy);
                    K(mf_rt_rescale_s16)(N, xx, shift, rounding, xx);
                    CHECK(memcmp(xx, yy, sizeof yy) == 0, "in place differs");
                    for (int i = 0; i < N; i++)
                        y[i] = yy[i];
                }
                for (int i = 0; i < N; i++) {
                    int64_t want = ref_requant(x[i], shift, 0, rounding, bits);
                    CHECK(y[i] == want, "%lld: expected %lld, got %lld", (long long)x[i],
                          (long long)want, (long long)y[i]);
                    /* real value x·2^(−n_in) in LSBs of n_out = n_in − shift */
                    sat += check_lsb(ldexp((double)x[i], -shift), y[i], bits, rounding, 0);
                }
            }
    if (verbose()) printf("rescale: %ld saturated\n", sat);
}

/* ---- the model's input: z-score then quantization (model_quantize_input) ----
 * Against a model written here: x' = (x − mean[i mod n_stats]) / std[…] in float (x' = x for
 * n_stats = 0), v = x'·scale in float, q = NaN → 0, else round() (half away from zero) in double,
 * saturated. Hand cases: ties ±k.5 and the floats next to them (0.49999997f, 0.50000006f), the
 * saturation boundaries of both types after scaling, ±0.0, ±inf, NaN, huge values, subnormals,
 * scales that can and cannot be folded into the divisor (2^±64 and beyond, not a power of two),
 * stds that are zero, ±inf, NaN, negative, subnormal; n_stats 0, 1, 3, n and n + 1 over lengths
 * that leave every remainder of the 4-value loops. Then a random sweep with the same model. */

static float in_model_z(const float *raw, const float *mean, const float *std, size_t n_stats,
                        size_t i)
{
    if (n_stats == 0) return raw[i];
    size_t c = i % n_stats;
    return (raw[i] - mean[c]) / std[c];
}

static int64_t in_model_q(float z, float scale, int bits)
{
    float v = z * scale;
    if (isnan(v)) return 0;
    double r = round((double)v);
    if (r > (double)qmax_of(bits)) return qmax_of(bits);
    if (r < (double)qmin_of(bits)) return qmin_of(bits);
    return (int64_t)r;
}

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* Runs the three kernels on one case and checks every output against the model. */
static void in_check(size_t n, const float *raw, const float *mean, const float *std,
                     size_t n_stats, float scale)
{
    float *yf = xcalloc(n + 1, sizeof *yf);
    int16_t *y16 = xcalloc(n + 1, sizeof *y16);
    int8_t *y8 = xcalloc(n + 1, sizeof *y8);
    yf[n] = 7.0f, y16[n] = 77, y8[n] = 77; /* canaries */
    K(mf_rt_input_f32)(n, raw, mean, std, n_stats, yf);
    K(mf_rt_input_s16)(n, raw, mean, std, n_stats, scale, y16);
    K(mf_rt_input_s8)(n, raw, mean, std, n_stats, scale, y8);
    CHECK(yf[n] == 7.0f && y16[n] == 77 && y8[n] == 77, "wrote past n = %zu", n);
    for (size_t i = 0; i < n; i++) {
        float z = in_model_z(raw, mean, std, n_stats, i);
        /* the float output: the same bits (NaN: any NaN; a copy keeps the raw bits) */
        CHECK(f32_bits(yf[i]) == f32_bits(z) || (isnan(yf[i]) && isnan(z)),
              "f32 [%zu] x %a: expected %a, got %a", i, (double)raw[i], (double)z, (double)yf[i]);
        if (n_stats == 0) CHECK(f32_bits(yf[i]) == f32_bits(raw[i]), "f32 copy [%zu]", i);
        int64_t w16 = in_model_q(z, scale, 16), w8 = in_model_q(z, scale, 8);
        CHECK(y16[i] == w16, "s16 [%zu] x %a x' %a scale %a: expected %lld, got %d", i,
              (double)raw[i], (double)z, (double)scale, (long long)w16, y16[i]);
        CHECK(y8[i] == w8, "s8 [%zu] x %a x' %a scale %a: expected %lld, got %d", i, (double)raw[i],
              (double)z, (double)scale, (long long)w8, y8[i]);
    }
    free(yf);
    free(y16);
    free(y8);
}

static void input_hand(void **state)
{
    (void)state;
    const float below_half = nextafterf(0.5f, 0.0f), above_half = nextafterf(0.5f, 1.0f);
    const float vals[] = {0.0f,
                          -0.0f,
                          0.5f,
                          -0.5f,
                          below_half,
                          -below_half,
                          above_half,
                          -above_half,
                          1.5f,
                          -1.5f,
                          2.5f,
                          -2.5f,
                          nextafterf(2.5f, 0.0f),
                          nextafterf(-2.5f, 0.0f),
                          126.5f,
                          -126.5f,
                          127.5f,
                          -127.5f,
                          nextafterf(127.5f, 0.0f),
                          nextafterf(-127.5f, 0.0f),
                          128.5f,
                          -128.5f,
                          nextafterf(-128.5f, 0.0f),
                          -129.0f,
                          32766.5f,
                          -32766.5f,
                          32767.5f,
                          -32767.5f,
                          nextafterf(32767.5f, 0.0f),
                          -32768.5f,
                          nextafterf(-32768.5f, 0.0f),
                          32768.0f,
                          -32769.0f,
                          65535.0f,
                          65536.0f,
                          -65536.0f,
                          -65537.0f,
                          1073741760.0f,
                          1073741824.0f,
                          -1073741824.0f,
                          -1073741760.0f,
                          2147483648.0f,
                          -2147483648.0f,
                          4294967296.0f,
                          8388607.5f,
                          -8388607.5f,
                          8388609.0f,
                          FLT_MAX,
                          -FLT_MAX,
                          INFINITY,
                          -INFINITY,
                          NAN,
                          -NAN,
                          1e-45f,
                          -1e-45f,
                          FLT_MIN,
                          0.25f,
                          -0.75f,
                          3.0f,
                          -3.49999976f,
                          100.0f,
                          -100.0f};
    const size_t nv = sizeof vals / sizeof vals[0];
    const float scales[] = {1.0f,    2.0f,      0.5f,     256.0f, 0x1p-64f, 0x1p64f,  0x1p-65f,
                            0x1p65f, 0x1p-126f, 0x1p100f, 3.0f,   0.3f,     0x1p-149f};
    for (size_t si = 0; si < sizeof scales / sizeof scales[0]; si++) {
        float scale = scales[si];
        /* n_stats = 0: x' = x; every length up to nv (every loop remainder) */
        for (size_t n = 0; n <= nv; n += n < 9 ? 1 : 7) {
            snprintf(ctx, sizeof ctx, "n_stats 0, n %zu, scale %a", n, (double)scale);
            in_check(n, vals, NULL, NULL, 0, scale);
        }
        snprintf(ctx, sizeof ctx, "n_stats 0, n %zu, scale %a", nv, (double)scale);
        in_check(nv, vals, NULL, NULL, 0, scale);
        /* n_stats = 1, 3 and n with statistics that land on the same edges and on odd ones */
        const float means[] = {0.0f, 0.25f, -1.0f, 0.5f, INFINITY, NAN, -0.0f, 1e-40f};
        const float stds[] = {1.0f,     0.5f, 2.0f, 0.25f,     1e-40f,  0.0f,      -0.0f, -1.0f,
                              INFINITY, NAN,  3.0f, 0x1p-127f, FLT_MAX, 0x1p-100f, 0.1f};
        float mean[3 * sizeof vals / sizeof vals[0] + 3], std[sizeof mean / sizeof mean[0]];
        for (size_t mi = 0; mi < sizeof means / sizeof means[0]; mi++)
            for (size_t di = 0; di < sizeof stds / sizeof stds[0]; di++) {
                for (size_t c = 0; c < sizeof mean / sizeof mean[0]; c++) {
                    mean[c] =
                        c % 2 ? means[mi] : means[(mi + c) % (sizeof means / sizeof means[0])];
                    std[c] =
                        c % 3 == 0 ? stds[di] : stds[(di + c) % (sizeof stds / sizeof stds[0])];
                }
                mean[0] = means[mi], std[0] = stds[di];
                const size_t ns[] = {1, 3, nv, nv + 1};
                for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++)
                    for (size_t n = nv - 5; n <= nv; n++) {
                        snprintf(ctx, sizeof ctx, "n_stats %zu, n %zu, mean %a, std %a, scale %a",
                                 ns[k], n, (double)means[mi], (double)stds[di], (double)scale);
                        in_check(n, vals, mean, std, ns[k], scale);
                    }
            }
    }
}

/* A float from every binade (subnormals, ±0, ±inf and NaN included) or a plain value. */
static float in_float(rng_t *r, int wide)
{
    if (wide && rng_int(r, 0, 99) < 4) {
        const float sp[] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 1e-45f, FLT_MAX, -FLT_MAX};
        return sp[rng_int(r, 0, 7)];
    }
    if (wide && rng_int(r, 0, 99) < 40) {
        uint32_t u = (uint32_t)rng_int(r, 0, 0xFF7FFFFF) | (rng_int(r, 0, 1) ? 0x80000000u : 0);
        float f;
        memcpy(&f, &u, 4);
        return f;
    }
    if (rng_int(r, 0, 99) < 20) return (float)rng_int(r, -70000, 70000) * 0.5f; /* ties */
    return rng_float(r, -3.0f, 3.0f);
}

static void input_random(void **state)
{
    (void)state;
    rng_t r = {777};
    enum { NMAX = 400 };
    float raw[NMAX], mean[NMAX + 1], std[NMAX + 1];
    for (int it = 0; it < 3000; it++) {
        size_t n = (size_t)(rng_int(&r, 0, 99) < 30 ? rng_int(&r, 0, 13) : rng_int(&r, 0, NMAX));
        const int pick = rng_int(&r, 0, 6), extra = rng_int(&r, 0, 1);
        size_t n_stats = eq_n_stats(pick, n, extra, (size_t)rng_int(&r, 1, n + 1));
        int wide = rng_int(&r, 0, 99) < 30;
        float scale = ldexpf(1.0f, (int)rng_int(&r, -8, 16));
        if (rng_int(&r, 0, 99) < 10) scale = ldexpf(1.0f, (int)rng_int(&r, -80, 80));
        if (rng_int(&r, 0, 99) < 5) scale = rng_float(&r, 0.01f, 100.0f);
        for (size_t i = 0; i < n; i++)
            raw[i] = in_float(&r, wide);
        for (size_t c = 0; c < n_stats && c <= NMAX; c++) {
            mean[c] = wide ? in_float(&r, 1) : rng_float(&r, -1.0f, 1.0f);
            std[c] = wide ? in_float(&r, 1) : rng_float(&r, 0.05f, 4.0f);
        }
        snprintf(ctx, sizeof ctx, "random %d: n %zu, n_stats %zu, scale %a%s", it, n, n_stats,
                 (double)scale, wide ? ", wide floats" : "");
        in_check(n, raw, mean, std, n_stats, scale);
    }
}

/* ---- the same on the target: tests/target built with arm-none-eabi-gcc, run in QEMU ----
 * Builds the harness (make, out of tree in the build folder) and runs it on qemu-system-arm's
 * netduinoplus2 with -icount shift=0,sleep=off: on the Cortex-M4F every optimized kernel (real
 * DSP instructions) is compared with its reference on random data, then the instruction counts
 * of the reference CNN (TARGET.md §8.1) and ResNetv1-6 are measured with TIM2 and printed. The
 * firmware's exit status is 0 only if every comparison matched. Skipped when the cross compiler,
 * QEMU or make is missing (failed instead with CI=true: tu_tool_missing_ok), or when
 * MF_TEST_NO_QEMU is set (non-empty, not "0"). */

static void target_qemu(void **state)
{
    (void)state;
    const char *no = getenv("MF_TEST_NO_QEMU");
    if (no && *no && strcmp(no, "0") != 0) {
        print_message("MF_TEST_NO_QEMU is set: target test skipped\n");
        skip();
    }
    const char *missing = mf_deploy_missing_tool(); /* the harness needs the same tools */
    if (missing) {
        if (!tu_tool_missing_ok(missing)) fail_msg("%s is missing (CI=true)", missing);
        skip();
    }
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "make -s -j2 -C '%s/tests/target' BUILD='%s/tests/target-harness' "
             ">'%s/tests/target-harness.log' 2>&1",
             MF_SOURCE_DIR, MF_BINARY_DIR, MF_BINARY_DIR);
    if (system(cmd) != 0) {
        snprintf(cmd, sizeof cmd, "cat '%s/tests/target-harness.log'", MF_BINARY_DIR);
        if (system(cmd) != 0) print_error("(no build log)\n");
        fail_msg("building the target harness failed (log above)");
    }
    snprintf(cmd, sizeof cmd,
             "timeout 600 qemu-system-arm -M netduinoplus2 -display none -monitor none "
             "-serial null -chardev stdio,id=semi "
             "-semihosting-config enable=on,target=native,chardev=semi "
             "-icount shift=0,sleep=off -kernel '%s/tests/target-harness/harness.elf' "
             "</dev/null 2>&1",
             MF_BINARY_DIR);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    char line[512];
    while (fgets(line, sizeof line, f))
        fputs(line, stdout);
    fflush(stdout);
    int status = pclose(f);
    assert_true(status != -1 && WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- optimized paths against the references, on random shapes and data ---- */

static void log_line(const char *line)
{
    print_error("%s\n", line);
}

static void opt_equals_ref(void **state)
{
    (void)state;
    long fails = mf_equiv_run(20240611, 300, log_line);
    assert_int_equal(fails, 0);
}

/* mf_rt_conv_s8_slots against a count of the 1D positions whose field the engine copies or
 * gathers, written from the engine's rule (field_s8): the window leaves the input, or its word
 * reads (K rounded up to 4) would. Every 1D geometry of small sizes; 2D ones take 4. */
static void conv_s8_slots(void **state)
{
    (void)state;
    static const int cins[] = {1, 2, 3, 5, 9, 16};
    long n = 0, fewer = 0;
    for (int w = 1; w <= 20; w++)
        for (int kw = 1; kw <= 5; kw++)
            for (int sw = 1; sw <= 3; sw++)
                for (int pad = 0; pad <= kw + 1; pad++)
                    for (int ci = 0; ci < 6; ci++) {
                        const int cin = cins[ci], K = kw * cin, ow = (w + 2 * pad - kw) / sw + 1;
                        if (ow < 1) continue;
                        mf_rt_geom g = {.h = 1,
                                        .w = w,
                                        .cin = cin,
                                        .oh = 1,
                                        .ow = ow,
                                        .cout = 3,
                                        .kh = 1,
                                        .kw = kw,
                                        .sh = 1,
                                        .sw = sw,
                                        .pad_top = 0,
                                        .pad_left = pad};
                        int count = 0;
                        for (int ox = 0; ox < ow; ox++) {
                            const int ix = ox * sw - pad;
                            count += ix < 0 || ix > w - kw || ix * cin > w * cin - ((K + 3) & ~3);
                        }
                        const int want = count < 4 ? count : 4;
                        snprintf(ctx, sizeof ctx, "w %d kw %d sw %d pad %d cin %d", w, kw, sw, pad,
                                 cin);
                        CHECK(mf_rt_conv_s8_slots(&g) == want, "slots %d, want %d",
                              mf_rt_conv_s8_slots(&g), want);
                        n++, fewer += want < 4;
                        g.h = g.kh = 2, g.oh = 1;
                        CHECK(mf_rt_conv_s8_slots(&g) == 4, "2D: slots %d",
                              mf_rt_conv_s8_slots(&g));
                    }
    if (verbose()) print_message("%ld 1D geometries, %ld with fewer than 4 slots\n", n, fewer);
    assert_true(fewer > n / 4);
}

/* The sparse conv's reach: offsets and per-channel counts are halfwords. */
/* The sparse dense layer's format by hand: deltas, fillers over gaps of 255, padding to groups
 * of 4, an empty output,
 * and the refusal of an output with more than 65535 entries. */
static void dense_sparse_encode_hand(void **state)
{
    (void)state;
    enum { N = 600 };
    static int8_t w[3 * N];
    memset(w, 0, sizeof w);
    w[0] = 5, w[N - 1] = -7;      /* output 0: gap 599 = 255 + 255 + 89 */
    w[N + 3] = 1, w[N + 259] = 2; /* output 1: gap 256 = 255 + 1 */
    /* output 2: no weight at all */
    uint8_t idx[32];
    int8_t wn[16];
    const size_t entries = mf_rt_dense_sparse_s8_encode(N, 3, w, NULL, NULL);
    assert_int_equal(entries, 4 + 4); /* output 1: 3 entries + 1 of padding */
    memset(idx, 0xEE, sizeof idx);
    assert_int_equal(mf_rt_dense_sparse_s8_encode(N, 3, w, idx, wn), entries);
    const uint8_t want_idx[] = {4, 0, 0, 255, 255, 89, 4, 0, 3, 255, 1, 0, 0, 0};
    const int8_t want_w[] = {5, 0, 0, -7, 1, 0, 2, 0};
    assert_memory_equal(idx, want_idx, sizeof want_idx);
    assert_int_equal(idx[sizeof want_idx], 0xEE); /* nothing written beyond */
    assert_memory_equal(wn, want_w, sizeof want_w);
    /* the kernel on it equals the dense reference */
    static int8_t x[N];
    for (int i = 0; i < N; i++)
        x[i] = (int8_t)(i * 37 % 251 - 125);
    const int32_t bias[3] = {100, -50, 7};
    const mf_rt_requant rq = {1, NULL, 0, MF_RT_ROUND_HALF_UP};
    int8_t a[3], b[3];
    mf_rt_dense_sparse_s8(N, 3, x, idx, wn, bias, &rq, a);
    mf_rt_dense_s8_ref(N, 3, x, w, bias, &rq, b, NULL);
    assert_memory_equal(a, b, 3);
    /* 65,536 entries in one output: refused, nothing written */
    int8_t *big = malloc(65536);
    assert_non_null(big);
    memset(big, 1, 65536);
    idx[0] = 0xAB;
    assert_true(mf_rt_dense_sparse_s8_encode(65536, 1, big, idx, wn) == SIZE_MAX);
    assert_int_equal(idx[0], 0xAB);
    free(big);
}

static void conv_sparse_covers(void **state)
{
    (void)state;
    mf_rt_geom g = {.h = 1,
                    .w = 512,
                    .cin = 128,
                    .oh = 1,
                    .ow = 1,
                    .cout = 2,
                    .kh = 1,
                    .kw = 512,
                    .sh = 1,
                    .sw = 1,
                    .pad_top = 0,
                    .pad_left = 0};
    assert_false(mf_rt_conv_sparse_s8_covers(&g)); /* K = 65536: a full channel's count wraps */
    g.cin = 127;
    assert_true(mf_rt_conv_sparse_s8_covers(&g)); /* K = 65024 */
    g.kw = 513;
    assert_false(mf_rt_conv_sparse_s8_covers(&g)); /* a kernel row wider than the input */
    g = (mf_rt_geom){.h = 3,
                     .w = 40000,
                     .cin = 1,
                     .oh = 1,
                     .ow = 39998,
                     .cout = 1,
                     .kh = 3,
                     .kw = 3,
                     .sh = 1,
                     .sw = 1,
                     .pad_top = 0,
                     .pad_left = 0};
    assert_false(mf_rt_conv_sparse_s8_covers(&g)); /* the last offset 2·40000 + 2: no halfword */
    g.w = 30000, g.ow = 29998;
    assert_true(mf_rt_conv_sparse_s8_covers(&g));
}

static int select_opt(void **state)
{
    (void)state;
    use_opt = 1;
    return 0;
}

static int select_ref(void **state)
{
    (void)state;
    use_opt = 0;
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(requant_s8_hand), cmocka_unit_test(requant_s16_hand),
        cmocka_unit_test(requant_random),  cmocka_unit_test(conv_hand),
        cmocka_unit_test(conv_int),        cmocka_unit_test(dense_int),
        cmocka_unit_test(conv_f32),        cmocka_unit_test(dense_f32),
        cmocka_unit_test(pool_int),        cmocka_unit_test(avgpool_hand),
        cmocka_unit_test(pool_f32),        cmocka_unit_test(add_int),
        cmocka_unit_test(add_f32),         cmocka_unit_test(relu_all),
        cmocka_unit_test(dwconv_vs_conv),  cmocka_unit_test(addn_all),
        cmocka_unit_test(concat_all),      cmocka_unit_test(affine_all),
        cmocka_unit_test(rescale),         cmocka_unit_test(input_hand),
        cmocka_unit_test(input_random),    cmocka_unit_test(conv_choice_scratch_bound),
    };
    const struct CMUnitTest opt_tests[] = {
        cmocka_unit_test(conv_hand),
        cmocka_unit_test(conv_int),
        cmocka_unit_test(dense_int),
        cmocka_unit_test(conv_f32),
        cmocka_unit_test(dense_f32),
        cmocka_unit_test(pool_int),
        cmocka_unit_test(avgpool_hand),
        cmocka_unit_test(pool_f32),
        cmocka_unit_test(add_int),
        cmocka_unit_test(add_int_sweep),
        cmocka_unit_test(add_f32),
        cmocka_unit_test(relu_all),
        cmocka_unit_test(dwconv_vs_conv),
        cmocka_unit_test(addn_all),
        cmocka_unit_test(concat_all),
        cmocka_unit_test(affine_all),
        cmocka_unit_test(rescale),
        cmocka_unit_test(input_hand),
        cmocka_unit_test(input_random),
        cmocka_unit_test(conv_s8_slots),
        cmocka_unit_test(conv_sparse_covers),
        cmocka_unit_test(dense_sparse_encode_hand),
        cmocka_unit_test(opt_equals_ref),
        cmocka_unit_test(target_qemu),
    };
    int fails = cmocka_run_group_tests_name("reference", tests, select_ref, NULL);
    fails +=
        cmocka_run_group_tests_name("optimized (emulated DSP)", opt_tests, select_opt, select_ref);
    return fails;
}
