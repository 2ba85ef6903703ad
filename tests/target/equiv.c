/* Optimized runtime kernels against their portable references, on random data and shapes.
 *
 * Freestanding C (stdint/stddef/string), shared by the QEMU firmware (tests/target/main.c, real
 * DSP instructions) and by tests/test_runtime.c (the host, with MF_RT_EMULATE_DSP and the *_opt.c
 * files included before this one). Every case fills inputs from a small PRNG, runs `<kernel>_opt`
 * and `<kernel>_ref` into two output buffers pre-filled with the same canary, and compares the
 * whole buffers (so a write past the output is caught too): bytes for the integer kernels, bits
 * for float (two NaNs count as equal; −0.0 and +0.0 do not). The fused conv + max-pool kernels
 * are also checked against the unfused reference pair.
 *
 * Inputs sit at the start or at the end of their static buffers (alternating), so that on the
 * host AddressSanitizer's global redzones catch a read past either end; int8 tensors start at odd
 * addresses too (unaligned word loads). Shapes cover conv1d and conv2d, strides 1–3, "same" and
 * "valid", kernels larger than the input, odd channel counts; requantization covers per-tensor
 * and per-channel shifts from −40 to 40 (left shifts, 0, ≥ the accumulator width), both rounding
 * modes, ReLU, saturation, and biases at the accumulator's limit (the slow requantization path).
 *
 * mf_equiv_run(seed, cases, log) runs `cases` random cases per kernel and returns the number of
 * mismatches; log (may be NULL) receives one line per mismatch (the first 20). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mf_runtime.h"
#include "mf_rt_dsp.h"

#if !defined(MF_RT_OPT_INT) || !defined(MF_RT_OPT_F32)
#error "equiv.c needs the optimized paths (a DSP + FPU target, or MF_RT_EMULATE_DSP)"
#endif

/* ---- capacities: h ≤ 5, w ≤ 20, cin ≤ 17, cout ≤ 9, kh ≤ 5, kw ≤ 5 ---- */
enum {
    EQ_IN = 1700,   /* 5·20·17 */
    EQ_W = 3825,    /* 9·5·5·17 */
    EQ_OUT = 1700,  /* pools: as large as their input */
    EQ_CANARY = 16, /* elements after the output that must stay untouched */
};

typedef void (*eq_log_fn)(const char *line);

/* eq_t* hold the unfused conv output, or the second operand of an add. A case uses the buffers
 * of one type at a time: on the target they overlay each other (RAM), on the host they are
 * separate arrays so that AddressSanitizer's redzones sit at both ends of each. */
#define EQ_BUFFERS(T, BT)                                                                          \
    struct {                                                                                       \
        T x[EQ_IN + 4], t[EQ_IN + 4], w[EQ_W + 4];                                                 \
        T o1[EQ_OUT + EQ_CANARY], o2[EQ_OUT + EQ_CANARY], o3[EQ_OUT + EQ_CANARY];                  \
    }
#if defined(__arm__)
static union {
    EQ_BUFFERS(float, float) f;
    EQ_BUFFERS(int16_t, int64_t) h;
    EQ_BUFFERS(int8_t, int32_t) b;
} eq_buf;
#define eq_xf   eq_buf.f.x
#define eq_tf   eq_buf.f.t
#define eq_wf   eq_buf.f.w
#define eq_of1  eq_buf.f.o1
#define eq_of2  eq_buf.f.o2
#define eq_of3  eq_buf.f.o3
#define eq_x16  eq_buf.h.x
#define eq_t16  eq_buf.h.t
#define eq_w16  eq_buf.h.w
#define eq_o16a eq_buf.h.o1
#define eq_o16b eq_buf.h.o2
#define eq_o16c eq_buf.h.o3
#define eq_x8   eq_buf.b.x
#define eq_t8   eq_buf.b.t
#define eq_w8   eq_buf.b.w
#define eq_o8a  eq_buf.b.o1
#define eq_o8b  eq_buf.b.o2
#define eq_o8c  eq_buf.b.o3
#else
static float eq_xf[EQ_IN + 4], eq_tf[EQ_IN + 4], eq_wf[EQ_W + 4];
static float eq_of1[EQ_OUT + EQ_CANARY], eq_of2[EQ_OUT + EQ_CANARY], eq_of3[EQ_OUT + EQ_CANARY];
static int16_t eq_x16[EQ_IN + 4], eq_t16[EQ_IN + 4], eq_w16[EQ_W + 4];
static int16_t eq_o16a[EQ_OUT + EQ_CANARY], eq_o16b[EQ_OUT + EQ_CANARY],
    eq_o16c[EQ_OUT + EQ_CANARY];
static int8_t eq_x8[EQ_IN + 4], eq_t8[EQ_IN + 4], eq_w8[EQ_W + 4];
static int8_t eq_o8a[EQ_OUT + EQ_CANARY], eq_o8b[EQ_OUT + EQ_CANARY], eq_o8c[EQ_OUT + EQ_CANARY];
#endif
/* int8 biases and per-channel shifts: EQ_CH channels (the dot kernels' cout of 129-200) */
enum { EQ_CH = 200 };
static float eq_biasf[16];
static int64_t eq_bias16[16];
static int32_t eq_bias8[EQ_CH];
static int8_t eq_shifts[EQ_CH];

/* Kernel scratch (mf_rt_*_scratch_bytes): the requested bytes at the very end of a static
 * array, so that a kernel writing past its scratch leaves the array (AddressSanitizer's redzone
 * on the host). 8 KB hold the largest case (K ≤ 425, cout ≤ 9; the dot kernels' 129-200
 * channels are cut to what it holds); NULL beyond (a fault). */
static uint64_t eq_scratch_mem[1024];

static void *eq_scratch(size_t bytes)
{
    if (bytes == 0 || bytes > sizeof eq_scratch_mem) return NULL; /* 0: the kernel wants NULL */
    return (char *)eq_scratch_mem + (sizeof eq_scratch_mem - bytes);
}

/* ---- state of a run ---- */
typedef struct {
    uint64_t s;
    long fails;
    long cases;
    int placement; /* alternates inputs between buffer start and end */
    eq_log_fn log;
    long unsafe_runs, unsafe_caught; /* eq_field_overlap one byte past its fast path's bound */
} eq_state;

static uint32_t eq_next(eq_state *st) /* splitmix64, upper half */
{
    uint64_t z = (st->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (uint32_t)((z ^ (z >> 31)) >> 32);
}

static int32_t eq_int(eq_state *st, int32_t lo, int32_t hi) /* uniform in [lo, hi] */
{
    uint32_t span = (uint32_t)hi - (uint32_t)lo + 1u;
    uint32_t v = span == 0 ? eq_next(st) : eq_next(st) % span;
    return (int32_t)((int64_t)lo + v);
}

static int eq_pct(eq_state *st, int pct)
{
    return (int)(eq_next(st) % 100u) < pct;
}

/* ---- messages without printf ---- */
typedef struct {
    char b[200];
    size_t n;
} eq_msg;

static void eq_puts(eq_msg *m, const char *s)
{
    while (*s && m->n + 1 < sizeof m->b)
        m->b[m->n++] = *s++;
    m->b[m->n] = 0;
}

static void eq_puti(eq_msg *m, long v)
{
    char t[24];
    int i = 23;
    unsigned long u = v < 0 ? 0ul - (unsigned long)v : (unsigned long)v;
    t[i] = 0;
    do {
        t[--i] = (char)('0' + u % 10u);
        u /= 10u;
    } while (u);
    if (v < 0) t[--i] = '-';
    eq_puts(m, t + i);
}

static void eq_geom_str(eq_msg *m, const mf_rt_geom *g)
{
    eq_puts(m, " in ");
    eq_puti(m, g->h), eq_puts(m, "x"), eq_puti(m, g->w), eq_puts(m, "x"), eq_puti(m, g->cin);
    eq_puts(m, " k "), eq_puti(m, g->kh), eq_puts(m, "x"), eq_puti(m, g->kw);
    eq_puts(m, " s "), eq_puti(m, g->sh), eq_puts(m, "x"), eq_puti(m, g->sw);
    eq_puts(m, " pad "), eq_puti(m, g->pad_top), eq_puts(m, ","), eq_puti(m, g->pad_left);
    eq_puts(m, " out "), eq_puti(m, g->oh), eq_puts(m, "x"), eq_puti(m, g->ow), eq_puts(m, "x");
    eq_puti(m, g->cout);
}

static void eq_fail(eq_state *st, const char *kernel, const mf_rt_geom *g, const char *extra,
                    long index)
{
    st->fails++;
    if (!st->log || st->fails > 20) return;
    eq_msg m = {{0}, 0};
    eq_puts(&m, "MISMATCH ");
    eq_puts(&m, kernel);
    eq_puts(&m, " case ");
    eq_puti(&m, st->cases);
    if (g) eq_geom_str(&m, g);
    if (extra) eq_puts(&m, " "), eq_puts(&m, extra);
    eq_puts(&m, " first difference at ");
    eq_puti(&m, index);
    st->log(m.b);
}

/* First differing element, or −1. */
static long eq_cmp8(const int8_t *a, const int8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i]) return (long)i;
    return -1;
}

static long eq_cmp16(const int16_t *a, const int16_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i]) return (long)i;
    return -1;
}

static long eq_cmpf(const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t u, v;
        memcpy(&u, &a[i], 4);
        memcpy(&v, &b[i], 4);
        int nan_u = (u & 0x7F800000u) == 0x7F800000u && (u & 0x7FFFFFu);
        int nan_v = (v & 0x7F800000u) == 0x7F800000u && (v & 0x7FFFFFu);
        if (nan_u && nan_v) continue;
        if (u != v) return (long)i;
    }
    return -1;
}

static void eq_clamp8(int8_t *p, size_t n, int q6);

/* ---- placement of an n-element input inside a buffer of cap elements ---- */
static size_t eq_place(eq_state *st, size_t n, size_t cap)
{
    st->placement++;
    if (n > cap) n = cap;
    switch (st->placement % 3) {
    case 0:
        return 0;
    case 1:
        return cap - n;
    default:
        return cap - n >= 1 ? 1 : 0;
    }
}

/* ---- random data ---- */
static void eq_fill8(eq_state *st, int8_t *p, size_t n)
{
    int mode = eq_int(st, 0, 11), k = eq_pct(st, 50) ? -128 : 127;
    for (size_t i = 0; i < n; i++)
        p[i] = (int8_t)(mode == 0   ? eq_int(st, -1, 1)
                        : mode == 1 ? (eq_pct(st, 50) ? -128 : 127)
                        : mode == 2 ? k /* sums at their extremes */
                                    : eq_int(st, -128, 127));
}

static void eq_fill16(eq_state *st, int16_t *p, size_t n)
{
    int mode = eq_int(st, 0, 11), k = eq_pct(st, 50) ? -32768 : 32767;
    for (size_t i = 0; i < n; i++)
        p[i] = (int16_t)(mode == 0   ? eq_int(st, -3, 3)
                         : mode == 1 ? (eq_pct(st, 50) ? -32768 : 32767)
                         : mode == 3 ? k
                         : mode == 2 ? eq_int(st, -512, 511)
                                     : eq_int(st, -32768, 32767));
}

static float eq_float(eq_state *st, int specials)
{
    if (specials && eq_pct(st, 3)) {
        static const uint32_t sp[] = {0x00000000u, 0x80000000u, 0x7F800000u, 0xFF800000u,
                                      0x7FC00000u, 0x00000001u, 0x80400000u, 0x7F7FFFFFu};
        float f;
        memcpy(&f, &sp[eq_next(st) % 8u], 4);
        return f;
    }
    int32_t m = eq_int(st, -(1 << 23), 1 << 23);
    return (float)m / (float)(1 << 23);
}

static void eq_fillf(eq_state *st, float *p, size_t n, int specials)
{
    for (size_t i = 0; i < n; i++)
        p[i] = eq_float(st, specials);
}

static int eq_shift(eq_state *st, int lo, int hi)
{
    static const int extreme[] = {-40, -31, -30, -24, -23, -16, -15, -9, -1, 0,
                                  29,  30,  31,  32,  33,  40,  62,  63, 64};
    if (eq_pct(st, 12)) return extreme[eq_next(st) % (sizeof extreme / sizeof extreme[0])];
    return eq_int(st, lo, hi);
}

/* rq with a per-tensor shift or per-channel shifts (in eq_shifts) */
static mf_rt_requant eq_rq(eq_state *st, int channels, int lo, int hi)
{
    mf_rt_requant rq;
    rq.shift = eq_shift(st, lo, hi);
    rq.shifts = NULL;
    if (eq_pct(st, 40)) {
        for (int c = 0; c < channels && c < EQ_CH; c++)
            eq_shifts[c] = (int8_t)eq_shift(st, lo, hi);
        rq.shifts = eq_shifts;
    }
    rq.relu = eq_pct(st, 50);
    rq.rounding = eq_pct(st, 50) ? MF_RT_ROUND_HALF_UP : MF_RT_ROUND_FLOOR;
    return rq;
}

/* TensorFlow's rules: valid out = (in − k)/s + 1; same out = ceil(in/s), pad before = half of
 * max((out − 1)·s + k − in, 0). */
static void eq_axis(int in, int k, int s, int same, int *out, int *pad)
{
    if (same) {
        *out = (in + s - 1) / s;
        int total = (*out - 1) * s + k - in;
        *pad = total > 0 ? total / 2 : 0;
    } else {
        *out = (in - k) / s + 1;
        *pad = 0;
    }
}

static mf_rt_geom eq_geom(eq_state *st, int pool)
{
    static const int cins[] = {1, 2, 3, 4, 5, 7, 8, 9, 12, 16, 17};
    static const int couts[] = {1, 2, 3, 4, 5, 6, 8, 9};
    mf_rt_geom g;
    int two_d = eq_pct(st, 40);
    const int tall = two_d && eq_pct(st, 20); /* kernels of up to 5 rows: more straddling groups */
    g.h = two_d ? eq_int(st, 1, 5) : 1;
    g.kh = two_d ? eq_int(st, 1, tall ? 5 : 3) : 1;
    g.sh = two_d ? eq_int(st, 1, 3) : 1;
    g.w = eq_int(st, 1, 20);
    g.kw = eq_int(st, 1, 5);
    g.sw = eq_int(st, 1, eq_pct(st, 60) ? 1 : 3);
    g.cin = cins[eq_next(st) % (sizeof cins / sizeof cins[0])];
    g.cout = pool ? g.cin : couts[eq_next(st) % (sizeof couts / sizeof couts[0])];
    int same = eq_pct(st, 60) || g.kh > g.h || g.kw > g.w;
    eq_axis(g.h, g.kh, g.sh, same, &g.oh, &g.pad_top);
    eq_axis(g.w, g.kw, g.sw, same, &g.ow, &g.pad_left);
    if (!pool && eq_pct(st, 5)) /* padding wider than the kernel: outputs of zero taps */
        g.pad_left += eq_int(st, 1, 4), g.ow += eq_int(st, 0, 2);
    return g;
}

static size_t eq_nin(const mf_rt_geom *g)
{
    return (size_t)g->h * g->w * g->cin;
}

static size_t eq_nout(const mf_rt_geom *g)
{
    return (size_t)g->oh * g->ow * g->cout;
}

static size_t eq_nw(const mf_rt_geom *g)
{
    return (size_t)g->cout * g->kh * g->kw * g->cin;
}

/* ---- conv and fused conv + max pool ---- */

/* A pool geometry over the conv output; 0 when the output is too small for one. */
static int eq_pool_of(eq_state *st, const mf_rt_geom *g, int *pkh, int *pkw, int *psh, int *psw)
{
    *pkh = g->oh >= 2 && eq_pct(st, 60) ? eq_int(st, 1, g->oh < 3 ? g->oh : 3) : 1;
    *pkw = eq_int(st, 1, g->ow < 4 ? g->ow : 4); /* 1×4: a 4-tap window one row high */
    *psh = eq_pct(st, 70) ? *pkh : eq_int(st, 1, 3);
    *psw = eq_pct(st, 70) ? *pkw : eq_int(st, 1, 3);
    return 1;
}

static mf_rt_geom eq_pool_geom(const mf_rt_geom *g, int pkh, int pkw, int psh, int psw)
{
    mf_rt_geom p;
    p.h = g->oh, p.w = g->ow, p.cin = p.cout = g->cout;
    p.kh = pkh, p.kw = pkw, p.sh = psh, p.sw = psw;
    p.oh = (g->oh - pkh) / psh + 1, p.ow = (g->ow - pkw) / psw + 1;
    p.pad_top = p.pad_left = 0;
    return p;
}

/* A 1D kernel written over its input (mf_rt_conv1d_s8_lag): the output at the tightest offset the
 * lag allows over a copy of the input in eq_t8, for the optimized path and the reference; both
 * must give eq_o8b, the reference's output in a separate buffer. (1D inputs and outputs take at
 * most 340 and 234 bytes: the pair always fits in eq_t8.) */
static void eq_conv1d_s8_overlap(eq_state *st, const mf_rt_geom *g, int pkw, const int8_t *x,
                                 const int8_t *w, const int32_t *bias, const mf_rt_requant *rq,
                                 size_t nout)
{
    const long lag = mf_rt_conv1d_s8_lag(g, pkw);
    const long nin = (long)eq_nin(g), base = lag < 0 ? -lag : 0;
    const long top = nin > lag + (long)nout ? nin : lag + (long)nout;
    if (base + top > EQ_IN + 4) { /* cannot happen with the 1D capacities above */
        eq_fail(st, "conv1d_s8 over its input: the pair does not fit eq_t8", g, NULL, 0);
        return;
    }
    for (int opt = 0; opt < 2; opt++) {
        int8_t *in = eq_t8 + base, *out = in + lag;
        memcpy(in, x, (size_t)nin);
        void *scratch = eq_scratch(mf_rt_conv_s8_scratch_bytes(g));
        if (opt && pkw == 1)
            mf_rt_conv1d_s8_opt(g, in, w, bias, rq, out, scratch);
        else if (opt)
            mf_rt_conv1d_maxpool_s8_opt(g, 1, 2, 1, 2, in, w, bias, rq, out, scratch);
        else if (pkw == 1)
            mf_rt_conv_s8_ref(g, in, w, bias, rq, out, scratch);
        else
            mf_rt_conv_maxpool_s8_ref(g, 1, 2, 1, 2, in, w, bias, rq, out, scratch);
        const long d = eq_cmp8(out, eq_o8b, nout);
        if (d >= 0)
            eq_fail(st, opt ? "conv1d_s8 over its input" : "conv_s8_ref over its input", g,
                    pkw == 1 ? "plain" : "pool 1x2", d);
    }
}

/* The 1D variants (mf_rt_conv1d_s8, mf_rt_conv1d_maxpool_s8 with its 1×2 stride-2 pool) against
 * the reference on 1D geometries; on any other geometry they must write nothing. */
static void eq_conv1d_s8(eq_state *st, const mf_rt_geom *g, const int8_t *x, const int8_t *w,
                         const int32_t *bias, const mf_rt_requant *rq)
{
    const int is_1d = g->h == 1 && g->kh == 1 && g->oh == 1 && g->sh == 1 && g->pad_top == 0;
    memset(eq_o8a, 0x5A, sizeof eq_o8a);
    memset(eq_o8b, 0x5A, sizeof eq_o8b);
    mf_rt_conv1d_s8_opt(g, x, w, bias, rq, eq_o8a, eq_scratch(mf_rt_conv_s8_scratch_bytes(g)));
    if (is_1d)
        mf_rt_conv_s8_ref(g, x, w, bias, rq, eq_o8b, eq_scratch(mf_rt_conv_s8_scratch_bytes(g)));
    long d = eq_cmp8(eq_o8a, eq_o8b, eq_nout(g) + EQ_CANARY);
    if (d >= 0) eq_fail(st, "conv1d_s8", g, NULL, d);
    if (is_1d) eq_conv1d_s8_overlap(st, g, 1, x, w, bias, rq, eq_nout(g));
    if (g->ow < 2) return;
    const mf_rt_geom p = eq_pool_geom(g, 1, 2, 1, 2);
    memset(eq_o8a, 0x5A, sizeof eq_o8a);
    memset(eq_o8b, 0x5A, sizeof eq_o8b);
    mf_rt_conv1d_maxpool_s8_opt(g, 1, 2, 1, 2, x, w, bias, rq, eq_o8a,
                                eq_scratch(mf_rt_conv_s8_scratch_bytes(g)));
    if (is_1d)
        mf_rt_conv_maxpool_s8_ref(g, 1, 2, 1, 2, x, w, bias, rq, eq_o8b,
                                  eq_scratch(mf_rt_conv_s8_scratch_bytes(g)));
    d = eq_cmp8(eq_o8a, eq_o8b, eq_nout(&p) + EQ_CANARY);
    if (d >= 0) eq_fail(st, "conv1d_maxpool_s8", g, NULL, d);
    if (is_1d) eq_conv1d_s8_overlap(st, g, 2, x, w, bias, rq, eq_nout(&p));
}

/* The small-geometry kernels (conv_s8_small.c) against the reference on every geometry, plain,
 * with the case's pool and with a 1×2 one of stride 2, and their ReLU6 forms. */
static void eq_conv_small_s8(eq_state *st, const mf_rt_geom *g, int pkh, int pkw, int psh, int psw,
                             const int8_t *x, const int8_t *w, const int32_t *bias,
                             const mf_rt_requant *rq)
{
    void *scratch = eq_scratch(mf_rt_conv_small_s8_scratch_bytes(g));
    memset(eq_o8a, 0x5A, sizeof eq_o8a);
    memset(eq_o8b, 0x5A, sizeof eq_o8b);
    mf_rt_conv_small_s8_opt(g, x, w, bias, rq, eq_o8a, scratch);
    mf_rt_conv_s8_ref(g, x, w, bias, rq, eq_o8b, NULL);
    long d = eq_cmp8(eq_o8a, eq_o8b, eq_nout(g) + EQ_CANARY);
    if (d >= 0) eq_fail(st, "conv_small_s8", g, NULL, d);
    for (int k = 0; k < 2; k++) {
        const int ph = k ? 1 : pkh, pw = k ? 2 : pkw, sh = k ? 1 : psh, sw = k ? 2 : psw;
        if (g->oh < ph || g->ow < pw) continue;
        const mf_rt_geom p = eq_pool_geom(g, ph, pw, sh, sw);
        memset(eq_o8a, 0x5A, sizeof eq_o8a);
        memset(eq_o8b, 0x5A, sizeof eq_o8b);
        mf_rt_conv_small_maxpool_s8_opt(g, ph, pw, sh, sw, x, w, bias, rq, eq_o8a, scratch);
        mf_rt_conv_maxpool_s8_ref(g, ph, pw, sh, sw, x, w, bias, rq, eq_o8b, NULL);
        d = eq_cmp8(eq_o8a, eq_o8b, eq_nout(&p) + EQ_CANARY);
        if (d >= 0) eq_fail(st, "conv_small_maxpool_s8", g, k ? "pool 1x2" : "case pool", d);
    }
    /* the ReLU6 forms (relu6.c): the reference without activation, clamped to [0, q6] */
    mf_rt_requant r6 = *rq, r0 = *rq;
    const int q6 = eq_int(st, 0, 127);
    r6.relu = MF_RT_RELU6(q6), r0.relu = 0;
    const mf_rt_geom p = eq_pool_geom(g, pkh, pkw, psh, psw);
    for (int pooled = 0; pooled < 2; pooled++) {
        const size_t n = eq_nout(pooled ? &p : g);
        memset(eq_o8a, 0x5A, sizeof eq_o8a);
        memset(eq_o8b, 0x5A, sizeof eq_o8b);
        if (pooled) {
            mf_rt_conv_small_maxpool_relu6_s8(g, pkh, pkw, psh, psw, x, w, bias, &r6, eq_o8a,
                                              scratch);
            mf_rt_conv_maxpool_s8_ref(g, pkh, pkw, psh, psw, x, w, bias, &r0, eq_o8b, NULL);
        } else {
            mf_rt_conv_small_relu6_s8(g, x, w, bias, &r6, eq_o8a, scratch);
            mf_rt_conv_s8_ref(g, x, w, bias, &r0, eq_o8b, NULL);
        }
        eq_clamp8(eq_o8b, n, q6);
        d = eq_cmp8(eq_o8a, eq_o8b, n + EQ_CANARY);
        if (d >= 0)
            eq_fail(st, pooled ? "conv_small_maxpool_relu6_s8" : "conv_small_relu6_s8", g, NULL, d);
    }
}

/* The reference's outputs in eq_o8b for a kernel's form: pooled (window pkh × pkw, steps psh,
 * psw) or plain, requantized by rq, then clamped to [0, q6] when relu6 (rq then without its
 * activation: the ReLU6 forms' reference); n outputs. */
static void eq_ref_form8(const mf_rt_geom *g, int pooled, int pkh, int pkw, int psh, int psw,
                         const int8_t *x, const int8_t *w, const int32_t *bias,
                         const mf_rt_requant *rq, int relu6, int q6, size_t n)
{
    if (pooled)
        mf_rt_conv_maxpool_s8_ref(g, pkh, pkw, psh, psw, x, w, bias, rq, eq_o8b, NULL);
    else
        mf_rt_conv_s8_ref(g, x, w, bias, rq, eq_o8b, NULL);
    if (relu6) eq_clamp8(eq_o8b, n, q6);
}

/* The patch kernel of g's shape (conv_s8_patch.c), optimized path (pooled: the window pkh × pkw,
 * steps psh, psw) or its ReLU6 form (relu6.c): direct calls, one per entry point. */
#define EQ_PATCH_CASE(S, U)                                                                        \
    case MF_RT_CONV_PATCH_##U:                                                                     \
        if (r6 && pooled)                                                                          \
            mf_rt_conv_patch##S##_maxpool_relu6_s8(g, pkh, pkw, psh, psw, x, w, bias, rq, out,     \
                                                   scratch);                                       \
        else if (r6)                                                                               \
            mf_rt_conv_patch##S##_relu6_s8(g, x, w, bias, rq, out, scratch);                       \
        else if (pooled)                                                                           \
            mf_rt_conv_patch##S##_maxpool_s8_opt(g, pkh, pkw, psh, psw, x, w, bias, rq, out,       \
                                                 scratch);                                         \
        else                                                                                       \
            mf_rt_conv_patch##S##_s8_opt(g, x, w, bias, rq, out, scratch);                         \
        break;
static void eq_patch_run(int shape, int r6, int pooled, const mf_rt_geom *g, int pkh, int pkw,
                         int psh, int psw, const int8_t *x, const int8_t *w, const int32_t *bias,
                         const mf_rt_requant *rq, int8_t *out, void *scratch)
{
    switch (shape) {
        EQ_PATCH_CASE(3x3o3, 3X3O3)
        EQ_PATCH_CASE(1x3o3, 1X3O3)
        EQ_PATCH_CASE(5x5o1, 5X5O1)
        EQ_PATCH_CASE(go3, GO3)
    default:
        break;
    }
}

/* The patch kernels (conv_s8_patch.c) against the reference on a geometry of their shapes, plain
 * and with the case's pool, and their ReLU6 forms; every entry point of another shape writes
 * nothing there. */
static void eq_conv_patch_s8(eq_state *st, const mf_rt_geom *g, int pkh, int pkw, int psh, int psw,
                             const int8_t *x, const int8_t *w, const int32_t *bias,
                             const mf_rt_requant *rq)
{
    const int shape = mf_rt_conv_patch_s8_shape(g);
    if (!shape || mf_rt_conv_patch_s8_scratch_bytes(g) > sizeof eq_scratch_mem) return;
    void *scratch = eq_scratch(mf_rt_conv_patch_s8_scratch_bytes(g));
    const mf_rt_geom p = eq_pool_geom(g, pkh, pkw, psh, psw);
    /* the ReLU6 forms: the reference without activation, clamped to [0, q6] */
    mf_rt_requant r6 = *rq, r0 = *rq;
    const int q6 = eq_int(st, 0, 127);
    r6.relu = MF_RT_RELU6(q6), r0.relu = 0;
    static const char *const names[2][2] = {{"conv_patch_s8", "conv_patch_maxpool_s8"},
                                            {"conv_patch_relu6_s8", "conv_patch_maxpool_relu6_s8"}};
    for (int relu6 = 0; relu6 < 2; relu6++)
        for (int pooled = 0; pooled < 2; pooled++) {
            const size_t n = eq_nout(pooled ? &p : g);
            memset(eq_o8a, 0x5A, sizeof eq_o8a);
            memset(eq_o8b, 0x5A, sizeof eq_o8b);
            eq_patch_run(shape, relu6, pooled, g, pkh, pkw, psh, psw, x, w, bias, relu6 ? &r6 : rq,
                         eq_o8a, scratch);
            eq_ref_form8(g, pooled, pkh, pkw, psh, psw, x, w, bias, relu6 ? &r0 : rq, relu6, q6, n);
            long d = eq_cmp8(eq_o8a, eq_o8b, n + EQ_CANARY);
            if (d >= 0) eq_fail(st, names[relu6][pooled], g, NULL, d);
            /* the other shapes' entry points write nothing here */
            const int other = shape % 4 + 1;
            memset(eq_o8a, 0x5A, sizeof eq_o8a);
            eq_patch_run(other, relu6, pooled, g, pkh, pkw, psh, psw, x, w, bias, relu6 ? &r6 : rq,
                         eq_o8a, scratch);
            for (size_t i = 0; i < n + EQ_CANARY; i++)
                if ((uint8_t)eq_o8a[i] != 0x5A) {
                    eq_fail(st, "conv_patch of another shape wrote", g, NULL, (long)i);
                    break;
                }
        }
}

/* The patch kernels on each of their shapes (1 → 3 k3 and 3 → 3 [3, 1]: 3x3o3; 3 → 3 k1: 1x3o3;
 * 1 → 1 k5 and 5 → 1 [5, 1]: 5x5o1; go3: 3 channels, 1-16 input channels (4·GO3_GROUPS / kw =
 * 320 / kw on the longest rows, 15 % of them), kernels 1-5 high and wide, kernel rows of 1-80
 * words, half of them 1D): random sizes, strides 1-2, 'same' or 'valid' padding, any pool,
 * per-channel shifts, saturating biases. */
static void eq_conv_patch_shapes(eq_state *st)
{
    static const int shapes[][4] = {{1, 3, 3, 3},
                                    {3, 3, 3, 1},
                                    {3, 3, 1, 1},
                                    {1, 1, 5, 5},
                                    {5, 1, 5, 1}}; /* cin, cout, kh, kw */
    const int *sh = shapes[eq_next(st) % 5];
    mf_rt_geom g;
    g.cin = sh[0], g.cout = sh[1], g.kh = sh[2], g.kw = sh[3];
    g.h = eq_int(st, g.kh > 2 ? g.kh - 2 : 1, 12), g.w = eq_int(st, g.kw > 2 ? g.kw - 2 : 1, 12);
    if (eq_pct(st, 50)) { /* go3: the input and the scratch within the test's buffers */
        const int oned = eq_pct(st, 50), longest = eq_pct(st, 15);
        g.cout = 3, g.kw = eq_int(st, 1, 5), g.kh = oned || longest ? 1 : eq_int(st, 1, 5);
        g.cin = longest ? 4 * MF_RT_CONV_PATCH_GO3_GROUPS / g.kw : eq_int(st, 1, 16);
        g.h = oned ? 1 : eq_int(st, 1, 12), g.w = eq_int(st, 1, oned ? 40 : 12);
        while ((long)g.h * g.w * g.cin > EQ_IN / 2)
            *(g.w > 1 && g.w >= g.h ? &g.w : &g.h) -= 1;
    }
    g.sh = eq_int(st, 1, 2), g.sw = eq_int(st, 1, 2);
    const int same = eq_pct(st, 70) || g.kh > g.h || g.kw > g.w;
    eq_axis(g.h, g.kh, g.sh, same, &g.oh, &g.pad_top);
    eq_axis(g.w, g.kw, g.sw, same, &g.ow, &g.pad_left);
    size_t nx = eq_nin(&g), nw = eq_nw(&g);
    int8_t *x = eq_x8 + eq_place(st, nx, EQ_IN + 4);
    int8_t *w = eq_w8 + eq_place(st, nw, EQ_W + 4);
    eq_fill8(st, x, nx);
    eq_fill8(st, w, nw);
    int64_t K = (int64_t)g.kh * g.kw * g.cin;
    int32_t bmax = (int32_t)(INT32_MAX - K * 16384);
    for (int c = 0; c < g.cout; c++)
        eq_bias8[c] = eq_pct(st, 10) ? (eq_pct(st, 50) ? bmax : -bmax) : eq_int(st, -65536, 65536);
    const int32_t *bias = eq_pct(st, 15) ? NULL : eq_bias8;
    mf_rt_requant rq = eq_rq(st, g.cout, -3, 16);
    int pkh, pkw, psh, psw;
    eq_pool_of(st, &g, &pkh, &pkw, &psh, &psw);
    eq_conv_patch_s8(st, &g, pkh, pkw, psh, psw, x, w, bias, &rq);
}

/* The lane kernels (conv_s8_lanes.c) against the reference, plain and with the case's pool, and
 * their ReLU6 forms, on a geometry they fit whose scratch eq_scratch holds. */
static void eq_conv_lanes_s8(eq_state *st, const mf_rt_geom *g, int pkh, int pkw, int psh, int psw,
                             const int8_t *x, const int8_t *w, const int32_t *bias,
                             const mf_rt_requant *rq)
{
    if (!mf_rt_conv_lanes_s8_fits(g)) return;
    void *scratch = eq_scratch(mf_rt_conv_lanes_s8_scratch_bytes(g));
    if (!scratch) return;
    const mf_rt_geom p = eq_pool_geom(g, pkh, pkw, psh, psw);
    mf_rt_requant r6 = *rq, r0 = *rq;
    const int q6 = eq_int(st, 0, 127);
    r6.relu = MF_RT_RELU6(q6), r0.relu = 0;
    static const char *const names[2][2] = {{"conv_lanes_s8", "conv_lanes_maxpool_s8"},
                                            {"conv_lanes_relu6_s8", "conv_lanes_maxpool_relu6_s8"}};
    for (int relu6 = 0; relu6 < 2; relu6++)
        for (int pooled = 0; pooled < 2; pooled++) {
            const size_t n = eq_nout(pooled ? &p : g);
            memset(eq_o8a, 0x5A, sizeof eq_o8a);
            memset(eq_o8b, 0x5A, sizeof eq_o8b);
            if (relu6 && pooled)
                mf_rt_conv_lanes_maxpool_relu6_s8(g, pkh, pkw, psh, psw, x, w, bias, &r6, eq_o8a,
                                                  scratch);
            else if (relu6)
                mf_rt_conv_lanes_relu6_s8(g, x, w, bias, &r6, eq_o8a, scratch);
            else if (pooled)
                mf_rt_conv_lanes_maxpool_s8_opt(g, pkh, pkw, psh, psw, x, w, bias, rq, eq_o8a,
                                                scratch);
            else
                mf_rt_conv_lanes_s8_opt(g, x, w, bias, rq, eq_o8a, scratch);
            eq_ref_form8(g, pooled, pkh, pkw, psh, psw, x, w, bias, relu6 ? &r0 : rq, relu6, q6, n);
            const long d = eq_cmp8(eq_o8a, eq_o8b, n + EQ_CANARY);
            if (d >= 0) eq_fail(st, names[relu6][pooled], g, NULL, d);
        }
}

/* The lane kernels' output size and padding of g's input and kernel: 'same' (or the kernel
 * larger than the input) or 'valid', plus xpad columns of padding and xow outputs more. */
static void eq_lanes_axes(mf_rt_geom *g, int same, int xpad, int xow)
{
    same = same || g->kh > g->h || g->kw > g->w;
    eq_axis(g->h, g->kh, g->sh, same, &g->oh, &g->pad_top);
    eq_axis(g->w, g->kw, g->sw, same, &g->ow, &g->pad_left);
    g->pad_left += xpad, g->ow += xow;
}

/* The lane kernels on geometries they fit: one output channel, 8, 16, 24, 32 or 64 input
 * channels (ln_split: one group of 8 values or of 16 a pixel, 16-value groups followed by an
 * 8-value group, several 16-value groups; with kernels more than 1 row high the pixels' lane
 * words have a gap between them), kernels of 1-5 rows and columns (2-5 rows on 2D layers of 24
 * or more channels), strides 1-3, random sizes (shrunk until the input fits EQ_IN and the
 * scratch eq_scratch), 'same' or 'valid' padding or padding wider than the kernel, any pool,
 * per-channel shifts, saturating biases, inputs at any alignment. */
static void eq_conv_lanes_shapes(eq_state *st)
{
    static const int wide[] = {24, 32, 64};
    mf_rt_geom g;
    g.cin = eq_pct(st, 40) ? 8 : eq_pct(st, 40) ? 16 : wide[eq_next(st) % 3], g.cout = 1;
    const int two_d = eq_pct(st, 60);
    g.kh = two_d ? eq_int(st, g.cin > 16 ? 2 : 1, 5) : 1, g.kw = eq_int(st, 1, 5);
    g.h = two_d ? eq_int(st, 1, 8) : 1, g.w = eq_int(st, 1, 12);
    g.sh = two_d ? eq_int(st, 1, 3) : 1, g.sw = eq_int(st, 1, 3);
    const int same = eq_pct(st, 70), wider = eq_pct(st, 10);
    /* padding wider than the kernel: outputs of zero taps */
    const int xpad = wider ? eq_int(st, 1, 4) : 0, xow = wider ? eq_int(st, 0, 2) : 0;
    eq_lanes_axes(&g, same, xpad, xow);
    while (eq_nin(&g) > EQ_IN || mf_rt_conv_lanes_s8_scratch_bytes(&g) > sizeof eq_scratch_mem) {
        if (g.w > 2)
            g.w--;
        else if (g.kw > 1)
            g.kw--;
        else if (g.h > 2)
            g.h--;
        else if (g.kh > 2)
            g.kh--;
        else
            break; /* 1 or 2 rows and columns of 64 channels: fits */
        eq_lanes_axes(&g, same, xpad, xow);
    }
    size_t nx = eq_nin(&g), nw = eq_nw(&g);
    int8_t *x = eq_x8 + eq_place(st, nx, EQ_IN + 4);
    int8_t *w = eq_w8 + eq_place(st, nw, EQ_W + 4);
    eq_fill8(st, x, nx);
    eq_fill8(st, w, nw);
    int64_t K = (int64_t)g.kh * g.kw * g.cin;
    int32_t bmax = (int32_t)(INT32_MAX - K * 16384);
    eq_bias8[0] = eq_pct(st, 10) ? (eq_pct(st, 50) ? bmax : -bmax) : eq_int(st, -65536, 65536);
    const int32_t *bias = eq_pct(st, 15) ? NULL : eq_bias8;
    mf_rt_requant rq = eq_rq(st, g.cout, -3, 16);
    int pkh, pkw, psh, psw;
    eq_pool_of(st, &g, &pkh, &pkw, &psh, &psw);
    if (!mf_rt_conv_lanes_s8_fits(&g) || !eq_scratch(mf_rt_conv_lanes_s8_scratch_bytes(&g)))
        eq_fail(st, "conv_lanes_shapes: a geometry the test does not run", &g, NULL, 0);
    eq_conv_lanes_s8(st, &g, pkh, pkw, psh, psw, x, w, bias, &rq);
}

/* A dot kernel on a 1D layer written over its input (mf_rt_conv_dot_s8_lag): the output at
 * in + lag, the optimized path against the reference's outputs `ref` (nout bytes). */
static void eq_dot_overlap(eq_state *st, const mf_rt_geom *g, int pooled, int pkh, int pkw, int psh,
                           int psw, const int8_t *x, const int8_t *w, const int32_t *bias,
                           const mf_rt_requant *rq, const int8_t *ref, size_t nout)
{
    const long lag = mf_rt_conv_dot_s8_lag(g, pooled ? pkw : 1), nin = (long)eq_nin(g);
    const long base = lag < 0 ? -lag : 0, top = nin > lag + (long)nout ? nin : lag + (long)nout;
    if (base + top > EQ_IN + 4) return; /* a large layer of eq_conv_s8: not placed */
    int8_t *in = eq_t8 + base, *out = in + lag;
    memcpy(in, x, (size_t)nin);
    void *scratch = eq_scratch(mf_rt_conv_dot_s8_scratch_bytes(g));
    if (pooled)
        mf_rt_conv_dot_maxpool_s8_opt(g, pkh, pkw, psh, psw, in, w, bias, rq, out, scratch);
    else
        mf_rt_conv_dot_s8_opt(g, in, w, bias, rq, out, scratch);
    const long d = eq_cmp8(out, ref, nout);
    if (d >= 0) eq_fail(st, "conv_dot_s8 over its input", g, pooled ? "pooled" : "plain", d);
}

/* The dot kernels (conv_s8_dot.c) against the reference on g (when they cover it): plain and
 * with the window pkh × pkw, steps psh, psw (when they cover that), and their ReLU6 forms; a
 * geometry or window they do not cover: nothing written. */
static void eq_conv_dot_run(eq_state *st, const mf_rt_geom *g, int pkh, int pkw, int psh, int psw,
                            const int8_t *x, const int8_t *w, const int32_t *bias,
                            const mf_rt_requant *rq)
{
    void *scratch = eq_scratch(mf_rt_conv_dot_s8_scratch_bytes(g));
    const mf_rt_geom p = eq_pool_geom(g, pkh, pkw, psh, psw);
    mf_rt_requant r6 = *rq, r0 = *rq;
    const int q6 = eq_int(st, 0, 127);
    r6.relu = MF_RT_RELU6(q6), r0.relu = 0;
    static const char *const names[2][2] = {{"conv_dot_s8", "conv_dot_maxpool_s8"},
                                            {"conv_dot_relu6_s8", "conv_dot_maxpool_relu6_s8"}};
    for (int relu6 = 0; relu6 < 2; relu6++)
        for (int pooled = 0; pooled < 2; pooled++) {
            const int covered = pooled ? mf_rt_conv_dot_s8_covers(g, pkh, pkw, psh, psw)
                                       : mf_rt_conv_dot_s8_covers(g, 1, 1, 1, 1);
            const size_t n = eq_nout(pooled ? &p : g);
            memset(eq_o8a, 0x5A, sizeof eq_o8a);
            memset(eq_o8b, 0x5A, sizeof eq_o8b);
            const mf_rt_requant *r = relu6 ? &r6 : rq;
            if (relu6 && pooled)
                mf_rt_conv_dot_maxpool_relu6_s8(g, pkh, pkw, psh, psw, x, w, bias, r, eq_o8a,
                                                scratch);
            else if (relu6)
                mf_rt_conv_dot_relu6_s8(g, x, w, bias, r, eq_o8a, scratch);
            else if (pooled)
                mf_rt_conv_dot_maxpool_s8_opt(g, pkh, pkw, psh, psw, x, w, bias, r, eq_o8a,
                                              scratch);
            else
                mf_rt_conv_dot_s8_opt(g, x, w, bias, r, eq_o8a, scratch);
            if (covered)
                eq_ref_form8(g, pooled, pkh, pkw, psh, psw, x, w, bias, relu6 ? &r0 : rq, relu6, q6,
                             n);
            const long d = eq_cmp8(eq_o8a, eq_o8b, (covered ? n : 0) + EQ_CANARY);
            if (d >= 0) eq_fail(st, names[relu6][pooled], g, NULL, d);
            if (covered && !relu6 && g->h == 1)
                eq_dot_overlap(st, g, pooled, pkh, pkw, psh, psw, x, w, bias, rq, eq_o8b, n);
        }
}

/* The dot kernels (conv_s8_dot.c: one kernel row, at most 16 values per field) on geometries
 * drawn where they run: 1D and 2D, 1-17 output channels (odd counts: the loop entered past a
 * channel) or, one case in 8, 129-200 channels over 2-8 positions pooled 1×2 or 2×2 (2·cout >
 * 256: the pooled form's chunk of 2·cout bytes, mf_rt_conv_dot_s8_chunk; mostly fields of 9-16
 * values, which take the chunk; fewer channels where the scratch would pass 8 KB), strides 1-3,
 * 'same' or 'valid' padding (fields at the input's end through the stack), padding wider than
 * the kernel, pools 1×2 / 2×2 / 2×1 / 3×2 of steps 2 (overlapping rows) and 1×1, every
 * requantization (eq_rq: per-channel and negative shifts, the reference's path). */
static void eq_conv_dot_s8(eq_state *st)
{
    static const int pools[][4] = {
        {1, 2, 1, 2}, {2, 2, 2, 2}, {2, 1, 2, 1}, {3, 2, 2, 2}, {1, 1, 1, 1}};
    mf_rt_geom g;
    g.kh = 1, g.pad_top = 0;
    g.h = eq_pct(st, 50) ? 1 : eq_int(st, 2, 5);
    g.sh = g.h > 1 ? eq_int(st, 1, 2) : 1;
    g.oh = (g.h - 1) / g.sh + 1;
    const int many = eq_pct(st, 12); /* 129-200 channels */
    if (many) g.h = eq_int(st, 1, 2), g.sh = 1, g.oh = g.h;
    g.cin = eq_int(st, 1, 16);
    g.kw = eq_int(st, 1, 16 / g.cin < 5 ? 16 / g.cin : 5);
    if (many && g.kw * g.cin <= 8 && eq_pct(st, 80)) /* mostly fields of 9-16 values */
        g.cin = eq_int(st, 9, 16), g.kw = 1;
    g.cout = many ? eq_int(st, 129, EQ_CH) : eq_int(st, 1, 17);
    g.w = many ? eq_int(st, 2, 4 * g.kw) : eq_int(st, 1, 20);
    g.sw = eq_int(st, 1, eq_pct(st, 60) ? 1 : 3);
    const int same = eq_pct(st, 60) || g.kw > g.w;
    eq_axis(g.w, g.kw, g.sw, same, &g.ow, &g.pad_left);
    if (eq_pct(st, 5)) /* padding wider than the kernel: outputs of zero taps */
        g.pad_left += eq_int(st, 1, 4), g.ow += eq_int(st, 0, 2);
    if (many) /* 2-8 outputs of 200 channels: within EQ_OUT */
        while ((size_t)g.oh * g.ow > 8 || ((size_t)g.oh * g.ow < 2 && g.sw > 1)) {
            if (g.oh * g.ow < 2) /* one position: 2 at stride 1 */
                g.sw = 1;
            else if (g.w > 2)
                g.w--;
            else
                g.h = g.oh = 1;
            eq_axis(g.w, g.kw, g.sw, same || g.kw > g.w, &g.ow, &g.pad_left);
        }
    while ((size_t)g.oh * g.ow * g.cout > EQ_OUT) /* the input fits: 5·20·16 */
        g.cout--;
    while (mf_rt_conv_dot_s8_scratch_bytes(&g) > sizeof eq_scratch_mem) /* 40 bytes a channel */
        g.cout--;
    size_t nx = eq_nin(&g), nw = eq_nw(&g);
    int8_t *x = eq_x8 + eq_place(st, nx, EQ_IN + 4);
    int8_t *w = eq_w8 + eq_place(st, nw, EQ_W + 4);
    eq_fill8(st, x, nx);
    eq_fill8(st, w, nw);
    const int64_t K = (int64_t)g.kw * g.cin;
    const int32_t bmax = (int32_t)(INT32_MAX - K * 16384);
    for (int c = 0; c < g.cout; c++)
        eq_bias8[c] = eq_pct(st, 10) ? (eq_pct(st, 50) ? bmax : -bmax) : eq_int(st, -65536, 65536);
    const int32_t *bias = eq_pct(st, 15) ? NULL : eq_bias8;
    mf_rt_requant rq = eq_rq(st, g.cout, -3, 16);
    if (!mf_rt_conv_dot_s8_covers(&g, 1, 1, 1, 1)) {
        eq_fail(st, "conv_dot_s8_covers", &g, NULL, 0);
        return;
    }
    const int *pl = pools[many ? eq_next(st) % 2 : eq_next(st) % 5]; /* many: 1×2 or 2×2 */
    int pkh = pl[0] <= g.oh ? pl[0] : 1, pkw = pl[1] <= g.ow ? pl[1] : 1;
    eq_conv_dot_run(st, &g, pkh, pkw, pkh == 1 ? 1 : pl[2], pkw == 1 ? 1 : pl[3], x, w, bias, &rq);
}

/* The sparse kernels' test buffers: nonzero weights and their index stream (RAM on the target:
 * 1,100 weights). */
enum { EQ_SPARSE_W = 1100 };
static uint16_t eq_sparse_idx[EQ_SPARSE_W + 16];
static int8_t eq_sparse_w[EQ_SPARSE_W + 64]; /* + the dense layer's padding (≤ 3 per output) */
static uint8_t eq_sparse_delta[EQ_SPARSE_W + 64]; /* the dense layer's: + 5 bytes per output */

/* The sparse int8 conv (plain and with the case's pool) against the reference on the same
 * weights, pruned here per channel (none, all, or 50-97 % of them); the first channels whose
 * weights fit the sparse buffers. */
static void eq_conv_sparse_s8(eq_state *st, const mf_rt_geom *g0, int pkh, int pkw, int psh,
                              int psw, const int8_t *x, const int8_t *w0, const int32_t *bias,
                              const mf_rt_requant *rq)
{
    static const int pcts[] = {0, 100, 50, 75, 90, 97};
    mf_rt_geom g = *g0;
    const int K = g.kh * g.kw * g.cin;
    if (g.cout > EQ_SPARSE_W / K) g.cout = EQ_SPARSE_W / K; /* K ≤ 425: at least 2 */
    int8_t *w = eq_t8; /* the pruned dense weights (eq_t8 is free here) */
    size_t at = 0, nnz = 0;
    for (int c = 0; c < g.cout; c++) {
        const int pct = pcts[eq_next(st) % (sizeof pcts / sizeof pcts[0])];
        const size_t count_at = at++;
        for (int ky = 0; ky < g.kh; ky++)
            for (int kx = 0; kx < g.kw; kx++)
                for (int ci = 0; ci < g.cin; ci++) {
                    const int k = (ky * g.kw + kx) * g.cin + ci;
                    int8_t v = w0[c * K + k];
                    if (eq_pct(st, pct)) v = 0;
                    w[c * K + k] = v;
                    if (v)
                        eq_sparse_idx[at++] = (uint16_t)((ky * g.w + kx) * g.cin + ci),
                        eq_sparse_w[nnz++] = v;
                }
        eq_sparse_idx[count_at] = (uint16_t)(at - count_at - 1);
    }
    void *scratch = eq_scratch(mf_rt_conv_sparse_s8_scratch_bytes(&g));
    const int covered = mf_rt_conv_sparse_s8_covers(&g); /* else: nothing written */
    memset(eq_o8a, 0x5A, sizeof eq_o8a);
    memset(eq_o8b, 0x5A, sizeof eq_o8b);
    mf_rt_conv_sparse_s8(&g, x, eq_sparse_idx, eq_sparse_w, bias, rq, eq_o8a, scratch);
    if (covered) mf_rt_conv_s8_ref(&g, x, w, bias, rq, eq_o8b, NULL);
    long d = eq_cmp8(eq_o8a, eq_o8b, eq_nout(&g) + EQ_CANARY);
    if (d >= 0) eq_fail(st, "conv_sparse_s8", &g, NULL, d);
    const mf_rt_geom p = eq_pool_geom(&g, pkh, pkw, psh, psw);
    memset(eq_o8a, 0x5A, sizeof eq_o8a);
    memset(eq_o8b, 0x5A, sizeof eq_o8b);
    mf_rt_conv_sparse_maxpool_s8(&g, pkh, pkw, psh, psw, x, eq_sparse_idx, eq_sparse_w, bias, rq,
                                 eq_o8a, scratch);
    if (covered) mf_rt_conv_maxpool_s8_ref(&g, pkh, pkw, psh, psw, x, w, bias, rq, eq_o8b, NULL);
    d = eq_cmp8(eq_o8a, eq_o8b, eq_nout(&p) + EQ_CANARY);
    if (d >= 0) eq_fail(st, "conv_sparse_maxpool_s8", &g, NULL, d);
    /* their ReLU6 forms (relu6.c): the reference without activation, clamped to [0, q6] */
    mf_rt_requant r6 = *rq, r0 = *rq;
    const int q6 = eq_int(st, 0, 127);
    r6.relu = MF_RT_RELU6(q6), r0.relu = 0;
    for (int pooled = 0; pooled < 2; pooled++) {
        const size_t n = eq_nout(pooled ? &p : &g);
        memset(eq_o8a, 0x5A, sizeof eq_o8a);
        memset(eq_o8b, 0x5A, sizeof eq_o8b);
        if (pooled)
            mf_rt_conv_sparse_maxpool_relu6_s8(&g, pkh, pkw, psh, psw, x, eq_sparse_idx,
                                               eq_sparse_w, bias, &r6, eq_o8a, scratch);
        else
            mf_rt_conv_sparse_relu6_s8(&g, x, eq_sparse_idx, eq_sparse_w, bias, &r6, eq_o8a,
                                       scratch);
        if (covered && pooled)
            mf_rt_conv_maxpool_s8_ref(&g, pkh, pkw, psh, psw, x, w, bias, &r0, eq_o8b, NULL);
        else if (covered)
            mf_rt_conv_s8_ref(&g, x, w, bias, &r0, eq_o8b, NULL);
        if (covered) eq_clamp8(eq_o8b, n, q6);
        d = eq_cmp8(eq_o8a, eq_o8b, n + EQ_CANARY);
        if (d >= 0)
            eq_fail(st, pooled ? "conv_sparse_maxpool_relu6_s8" : "conv_sparse_relu6_s8", &g, NULL,
                    d);
    }
}

static void eq_conv_s8(eq_state *st)
{
    mf_rt_geom g = eq_geom(st, 0);
    size_t nx = eq_nin(&g), nw = eq_nw(&g), ny = eq_nout(&g);
    int8_t *x = eq_x8 + eq_place(st, nx, EQ_IN + 4);
    int8_t *w = eq_w8 + eq_place(st, nw, EQ_W + 4);
    eq_fill8(st, x, nx);
    eq_fill8(st, w, nw);
    int64_t K = (int64_t)g.kh * g.kw * g.cin;
    int32_t bmax = (int32_t)(INT32_MAX - K * 16384);
    for (int c = 0; c < g.cout; c++)
        eq_bias8[c] = eq_pct(st, 10) ? (eq_pct(st, 50) ? bmax : -bmax) : eq_int(st, -65536, 65536);
    const int32_t *bias = eq_pct(st, 15) ? NULL : eq_bias8;
    mf_rt_requant rq = eq_rq(st, g.cout, -3, 16);

    memset(eq_o8a, 0x5A, sizeof eq_o8a);
    memset(eq_o8b, 0x5A, sizeof eq_o8b);
    mf_rt_conv_s8_opt(&g, x, w, bias, &rq, eq_o8a, eq_scratch(mf_rt_conv_s8_scratch_bytes(&g)));
    mf_rt_conv_s8_ref(&g, x, w, bias, &rq, eq_o8b, eq_scratch(mf_rt_conv_s8_scratch_bytes(&g)));
    long d = eq_cmp8(eq_o8a, eq_o8b, ny + EQ_CANARY);
    if (d >= 0) eq_fail(st, "conv_s8", &g, NULL, d);

    int pkh, pkw, psh, psw;
    eq_pool_of(st, &g, &pkh, &pkw, &psh, &psw);
    mf_rt_geom p = eq_pool_geom(&g, pkh, pkw, psh, psw);
    size_t np = eq_nout(&p);
    memset(eq_o8a, 0x5A, sizeof eq_o8a);
    memset(eq_o8b, 0x5A, sizeof eq_o8b);
    memset(eq_o8c, 0x5A, sizeof eq_o8c);
    mf_rt_conv_maxpool_s8_opt(&g, pkh, pkw, psh, psw, x, w, bias, &rq, eq_o8a,
                              eq_scratch(mf_rt_conv_s8_scratch_bytes(&g)));
    mf_rt_conv_maxpool_s8_ref(&g, pkh, pkw, psh, psw, x, w, bias, &rq, eq_o8b,
                              eq_scratch(mf_rt_conv_s8_scratch_bytes(&g)));
    mf_rt_conv_s8_ref(&g, x, w, bias, &rq, eq_t8, eq_scratch(mf_rt_conv_s8_scratch_bytes(&g)));
    mf_rt_maxpool_s8_ref(&p, eq_t8, 0, eq_o8c);
    d = eq_cmp8(eq_o8a, eq_o8b, np + EQ_CANARY);
    if (d >= 0) eq_fail(st, "conv_maxpool_s8 opt/ref", &g, NULL, d);
    d = eq_cmp8(eq_o8b, eq_o8c, np + EQ_CANARY);
    if (d >= 0) eq_fail(st, "conv_maxpool_s8 ref/unfused", &g, NULL, d);
    /* the wide-row engine (every geometry; its row-by-row gather on every edge field) */
    memset(eq_o8a, 0x5A, sizeof eq_o8a);
    memset(eq_o8b, 0x5A, sizeof eq_o8b);
    mf_rt_conv_wide_s8_opt(&g, x, w, bias, &rq, eq_o8a,
                           eq_scratch(mf_rt_conv_s8_scratch_bytes(&g)));
    mf_rt_conv_s8_ref(&g, x, w, bias, &rq, eq_o8b, eq_scratch(mf_rt_conv_s8_scratch_bytes(&g)));
    d = eq_cmp8(eq_o8a, eq_o8b, ny + EQ_CANARY);
    if (d >= 0) eq_fail(st, "conv_wide_s8", &g, NULL, d);
    memset(eq_o8a, 0x5A, sizeof eq_o8a);
    mf_rt_conv_wide_maxpool_s8_opt(&g, pkh, pkw, psh, psw, x, w, bias, &rq, eq_o8a,
                                   eq_scratch(mf_rt_conv_s8_scratch_bytes(&g)));
    d = eq_cmp8(eq_o8a, eq_o8c, np + EQ_CANARY);
    if (d >= 0) eq_fail(st, "conv_wide_maxpool_s8", &g, NULL, d);
    eq_conv1d_s8(st, &g, x, w, bias, &rq);
    eq_conv_small_s8(st, &g, pkh, pkw, psh, psw, x, w, bias, &rq);
    eq_conv_patch_s8(st, &g, pkh, pkw, psh, psw, x, w, bias, &rq);
    eq_conv_lanes_s8(st, &g, pkh, pkw, psh, psw, x, w, bias, &rq);
    eq_conv_dot_run(st, &g, pkh, pkw, psh, psw, x, w, bias, &rq);
    eq_conv_sparse_s8(st, &g, pkh, pkw, psh, psw, x, w, bias, &rq);
}

/* The register-field kernel of P (conv_s8_field.c), optimized path: plain (pool 0) or with the
 * 1×2 stride-2 pool. */
#define EQ_FIELD_CASE(P)                                                                           \
    case P:                                                                                        \
        if (pool)                                                                                  \
            mf_rt_conv_field##P##_maxpool_s8_opt(g, 1, 2, 1, 2, x, w, bias, rq, out, scratch);     \
        else                                                                                       \
            mf_rt_conv_field##P##_s8_opt(g, x, w, bias, rq, out, scratch);                         \
        break;
static void eq_field_opt(int P, int pool, const mf_rt_geom *g, const int8_t *x, const int8_t *w,
                         const int32_t *bias, const mf_rt_requant *rq, int8_t *out, void *scratch)
{
    switch (P) {
        EQ_FIELD_CASE(1)
        EQ_FIELD_CASE(2)
        EQ_FIELD_CASE(3)
        EQ_FIELD_CASE(4)
        EQ_FIELD_CASE(5)
        EQ_FIELD_CASE(6)
        EQ_FIELD_CASE(7)
        EQ_FIELD_CASE(8)
    default:
        break;
    }
}
#undef EQ_FIELD_CASE

/* Its ReLU6 forms (relu6.c; the public kernels: on the host the reference). */
#define EQ_FIELD_R6_CASE(P)                                                                        \
    case P:                                                                                        \
        if (pool)                                                                                  \
            mf_rt_conv_field##P##_maxpool_relu6_s8(g, 1, 2, 1, 2, x, w, bias, rq, out, scratch);   \
        else                                                                                       \
            mf_rt_conv_field##P##_relu6_s8(g, x, w, bias, rq, out, scratch);                       \
        break;
static void eq_field_relu6(int P, int pool, const mf_rt_geom *g, const int8_t *x, const int8_t *w,
                           const int32_t *bias, const mf_rt_requant *rq, int8_t *out, void *scratch)
{
    switch (P) {
        EQ_FIELD_R6_CASE(1)
        EQ_FIELD_R6_CASE(2)
        EQ_FIELD_R6_CASE(3)
        EQ_FIELD_R6_CASE(4)
        EQ_FIELD_R6_CASE(5)
        EQ_FIELD_R6_CASE(6)
        EQ_FIELD_R6_CASE(7)
        EQ_FIELD_R6_CASE(8)
    default:
        break;
    }
}
#undef EQ_FIELD_R6_CASE

/* A register-field kernel written over its input (mf_rt_conv_field_s8_lag): the output at the
 * tightest offset the lag allows over a copy of the input in eq_t8, for the optimized path and
 * the public ReLU6 form (rq's plain ReLU or none: the public kernel unclamped; on the host the
 * reference); both must give eq_o8b, the reference's output in a separate buffer. Then the
 * optimized path one byte past the bound of its fast path: pair (or window) j reads its fields
 * from byte start(j) = max(0, 2·j·sw − pad_left)·cin on, all before its first write, and pairs
 * 0..j−1 have written j·G bytes by then (G = 2·cout plain, cout pooled), so out = in +
 * min over j ≥ 1 of start(j) − j·G + 1 overwrites a byte the pair of that j still reads: the
 * run counts in st->unsafe_runs and, when the output differs, st->unsafe_caught (mf_equiv_run
 * wants most of them caught, showing that the placement is checked at all). (1D inputs and
 * outputs take at most 340 and 234 bytes: the pair always fits in eq_t8.) */
static void eq_field_overlap(eq_state *st, int P, int pool, const mf_rt_geom *g, const int8_t *x,
                             const int8_t *w, const int32_t *bias, const mf_rt_requant *rq,
                             size_t nout)
{
    const long G = (pool ? 1L : 2L) * g->cout, nin = (long)eq_nin(g);
    const int pairs = pool ? g->ow / 2 : (g->ow + 1) / 2;
    long fast = 0;
    for (int j = 1; j < pairs; j++) {
        const long ix = 2L * j * g->sw - g->pad_left;
        const long gap = (ix > 0 ? ix : 0) * g->cin - j * G;
        if (j == 1 || gap < fast) fast = gap;
    }
    const long lag = mf_rt_conv_field_s8_lag(g, pool);
    for (int k = 0; k < 3; k++) {
        if (k == 2 && pairs < 2) break; /* one pair: every placement is safe */
        const long at = k < 2 ? lag : fast + 1, base = at < 0 ? -at : 0;
        const long top = nin > at + (long)nout ? nin : at + (long)nout;
        if (base + top > EQ_IN + 4) { /* cannot happen with the 1D capacities above */
            eq_fail(st, "conv_field_s8 over its input: the pair does not fit eq_t8", g, NULL, 0);
            return;
        }
        int8_t *in = eq_t8 + base, *out = in + at;
        memcpy(in, x, (size_t)nin);
        void *scratch = eq_scratch(mf_rt_conv_field_s8_scratch_bytes(g));
        if (k == 1)
            eq_field_relu6(P, pool, g, in, w, bias, rq, out, scratch);
        else
            eq_field_opt(P, pool, g, in, w, bias, rq, out, scratch);
        const long d = eq_cmp8(out, eq_o8b, nout);
        if (k == 2)
            st->unsafe_runs++, st->unsafe_caught += d >= 0;
        else if (d >= 0)
            eq_fail(st,
                    k ? "conv_field_s8 (public) over its input" : "conv_field_s8 over its input", g,
                    pool ? "pool 1x2" : "plain", d);
    }
}

/* The register-field kernels (conv_s8_field.c: 1D convs of at most 16 values per field, plain
 * and with the 1×2 stride-2 pool, one kernel per P = mf_rt_conv_field_s8_p) on geometries drawn
 * where they run: edges, strides, padding wider than the kernel, 1-9 output channels, every
 * requantization (eq_rq: per-channel and negative shifts); the kernel of another P writes
 * nothing; the ReLU6 forms; and the small-geometry kernels on the same geometries (their pools
 * and ReLU6 forms included). */
static void eq_conv_field_s8(eq_state *st)
{
    mf_rt_geom g;
    g.h = g.kh = g.sh = g.oh = 1, g.pad_top = 0;
    g.cin = eq_int(st, 1, 16);
    g.kw = eq_int(st, 1, 16 / g.cin < 5 ? 16 / g.cin : 5);
    g.cout = eq_int(st, 1, 9);
    g.w = eq_int(st, 1, 20);
    g.sw = eq_int(st, 1, eq_pct(st, 60) ? 1 : 3);
    const int same = eq_pct(st, 60) || g.kw > g.w;
    eq_axis(g.w, g.kw, g.sw, same, &g.ow, &g.pad_left);
    if (eq_pct(st, 5)) /* padding wider than the kernel: outputs of zero taps */
        g.pad_left += eq_int(st, 1, 4), g.ow += eq_int(st, 0, 2);
    size_t nx = eq_nin(&g), nw = eq_nw(&g), ny = eq_nout(&g);
    int8_t *x = eq_x8 + eq_place(st, nx, EQ_IN + 4);
    int8_t *w = eq_w8 + eq_place(st, nw, EQ_W + 4);
    eq_fill8(st, x, nx);
    eq_fill8(st, w, nw);
    const int64_t K = (int64_t)g.kw * g.cin;
    const int32_t bmax = (int32_t)(INT32_MAX - K * 16384);
    for (int c = 0; c < g.cout; c++)
        eq_bias8[c] = eq_pct(st, 10) ? (eq_pct(st, 50) ? bmax : -bmax) : eq_int(st, -65536, 65536);
    const int32_t *bias = eq_pct(st, 15) ? NULL : eq_bias8;
    mf_rt_requant rq = eq_rq(st, g.cout, -3, 16);
    const int P = mf_rt_conv_field_s8_p(&g, 1, 1, 1, 1);
    if (P != (K % 4 == 0 ? K / 2 : 2 * (K / 4) + (K % 4 == 1 ? 1 : 2)) ||
        mf_rt_conv_field_s8_p(&g, 1, 2, 1, 2) != P) {
        eq_fail(st, "conv_field_s8_p", &g, NULL, 0);
        return;
    }
    void *scratch = eq_scratch(mf_rt_conv_field_s8_scratch_bytes(&g));
    const mf_rt_geom p = eq_pool_geom(&g, 1, 2, 1, 2);
    for (int pool = 0; pool < 2; pool++) {
        if (pool && g.ow < 2) break;
        const size_t n = pool ? eq_nout(&p) : ny;
        memset(eq_o8a, 0x5A, sizeof eq_o8a);
        memset(eq_o8b, 0x5A, sizeof eq_o8b);
        eq_field_opt(P, pool, &g, x, w, bias, &rq, eq_o8a, scratch);
        if (pool)
            mf_rt_conv_maxpool_s8_ref(&g, 1, 2, 1, 2, x, w, bias, &rq, eq_o8b, NULL);
        else
            mf_rt_conv_s8_ref(&g, x, w, bias, &rq, eq_o8b, NULL);
        long d = eq_cmp8(eq_o8a, eq_o8b, n + EQ_CANARY);
        if (d >= 0) eq_fail(st, pool ? "conv_field_maxpool_s8" : "conv_field_s8", &g, NULL, d);
        eq_field_overlap(st, P, pool, &g, x, w, bias, &rq, n); /* against eq_o8b */
        /* the kernel of another P: nothing written */
        memset(eq_o8a, 0x5A, sizeof eq_o8a);
        eq_field_opt(P % 8 + 1, pool, &g, x, w, bias, &rq, eq_o8a, scratch);
        for (size_t i = 0; i < n + EQ_CANARY; i++)
            if (eq_o8a[i] != 0x5A) {
                eq_fail(st, "conv_field_s8 of another P wrote", &g, NULL, (long)i);
                break;
            }
        /* the ReLU6 forms: the reference without activation, clamped to [0, q6] */
        mf_rt_requant r6 = rq, r0 = rq;
        const int q6 = eq_int(st, 0, 127);
        r6.relu = MF_RT_RELU6(q6), r0.relu = 0;
        memset(eq_o8a, 0x5A, sizeof eq_o8a);
        memset(eq_o8b, 0x5A, sizeof eq_o8b);
        eq_field_relu6(P, pool, &g, x, w, bias, &r6, eq_o8a, scratch);
        if (pool)
            mf_rt_conv_maxpool_s8_ref(&g, 1, 2, 1, 2, x, w, bias, &r0, eq_o8b, NULL);
        else
            mf_rt_conv_s8_ref(&g, x, w, bias, &r0, eq_o8b, NULL);
        eq_clamp8(eq_o8b, n, q6);
        d = eq_cmp8(eq_o8a, eq_o8b, n + EQ_CANARY);
        if (d >= 0)
            eq_fail(st, pool ? "conv_field_maxpool_relu6_s8" : "conv_field_relu6_s8", &g, NULL, d);
    }
    eq_conv_small_s8(st, &g, 1, g.ow >= 2 ? 2 : 1, 1, g.ow >= 2 ? 2 : 1, x, w, bias, &rq);
}

static void eq_conv_s16(eq_state *st)
{
    mf_rt_geom g = eq_geom(st, 0);
    size_t nx = eq_nin(&g), nw = eq_nw(&g), ny = eq_nout(&g);
    int16_t *x = eq_x16 + eq_place(st, nx, EQ_IN + 4);
    int16_t *w = eq_w16 + eq_place(st, nw, EQ_W + 4);
    eq_fill16(st, x, nx);
    eq_fill16(st, w, nw);
    for (int c = 0; c < g.cout; c++) {
        int64_t big = ((int64_t)1 << 62) + eq_int(st, -1000, 1000);
        eq_bias16[c] = eq_pct(st, 10)   ? (eq_pct(st, 50) ? big : -big)
                       : eq_pct(st, 50) ? (int64_t)eq_int(st, INT32_MIN, INT32_MAX) * 4096
                                        : eq_int(st, -65536, 65536);
    }
    const int64_t *bias = eq_pct(st, 15) ? NULL : eq_bias16;
    mf_rt_requant rq = eq_rq(st, g.cout, 10, 40);

    memset(eq_o16a, 0x5A, sizeof eq_o16a);
    memset(eq_o16b, 0x5A, sizeof eq_o16b);
    mf_rt_conv_s16_opt(&g, x, w, bias, &rq, eq_o16a, eq_scratch(mf_rt_conv_s16_scratch_bytes(&g)));
    mf_rt_conv_s16_ref(&g, x, w, bias, &rq, eq_o16b, eq_scratch(mf_rt_conv_s16_scratch_bytes(&g)));
    long d = eq_cmp16(eq_o16a, eq_o16b, ny + EQ_CANARY);
    if (d >= 0) eq_fail(st, "conv_s16", &g, NULL, d);

    int pkh, pkw, psh, psw;
    eq_pool_of(st, &g, &pkh, &pkw, &psh, &psw);
    mf_rt_geom p = eq_pool_geom(&g, pkh, pkw, psh, psw);
    size_t np = eq_nout(&p);
    memset(eq_o16a, 0x5A, sizeof eq_o16a);
    memset(eq_o16b, 0x5A, sizeof eq_o16b);
    memset(eq_o16c, 0x5A, sizeof eq_o16c);
    mf_rt_conv_maxpool_s16_opt(&g, pkh, pkw, psh, psw, x, w, bias, &rq, eq_o16a,
                               eq_scratch(mf_rt_conv_s16_scratch_bytes(&g)));
    mf_rt_conv_maxpool_s16_ref(&g, pkh, pkw, psh, psw, x, w, bias, &rq, eq_o16b,
                               eq_scratch(mf_rt_conv_s16_scratch_bytes(&g)));
    mf_rt_conv_s16_ref(&g, x, w, bias, &rq, eq_t16, eq_scratch(mf_rt_conv_s16_scratch_bytes(&g)));
    mf_rt_maxpool_s16_ref(&p, eq_t16, 0, eq_o16c);
    d = eq_cmp16(eq_o16a, eq_o16b, np + EQ_CANARY);
    if (d >= 0) eq_fail(st, "conv_maxpool_s16 opt/ref", &g, NULL, d);
    d = eq_cmp16(eq_o16b, eq_o16c, np + EQ_CANARY);
    if (d >= 0) eq_fail(st, "conv_maxpool_s16 ref/unfused", &g, NULL, d);
}

static void eq_conv_f32(eq_state *st)
{
    mf_rt_geom g = eq_geom(st, 0);
    size_t nx = eq_nin(&g), nw = eq_nw(&g), ny = eq_nout(&g);
    float *x = eq_xf + eq_place(st, nx, EQ_IN + 4);
    float *w = eq_wf + eq_place(st, nw, EQ_W + 4);
    int specials = eq_pct(st, 20);
    eq_fillf(st, x, nx, specials);
    eq_fillf(st, w, nw, specials);
    eq_fillf(st, eq_biasf, 16, specials);
    const float *bias = eq_pct(st, 15) ? NULL : eq_biasf;
    int relu = eq_pct(st, 50);

    memset(eq_of1, 0x5A, sizeof eq_of1);
    memset(eq_of2, 0x5A, sizeof eq_of2);
    mf_rt_conv_f32_opt(&g, x, w, bias, relu, eq_of1);
    mf_rt_conv_f32_ref(&g, x, w, bias, relu, eq_of2);
    long d = eq_cmpf(eq_of1, eq_of2, ny + EQ_CANARY);
    if (d >= 0) eq_fail(st, "conv_f32", &g, NULL, d);

    int pkh, pkw, psh, psw;
    eq_pool_of(st, &g, &pkh, &pkw, &psh, &psw);
    mf_rt_geom p = eq_pool_geom(&g, pkh, pkw, psh, psw);
    size_t np = eq_nout(&p);
    memset(eq_of1, 0x5A, sizeof eq_of1);
    memset(eq_of2, 0x5A, sizeof eq_of2);
    memset(eq_of3, 0x5A, sizeof eq_of3);
    mf_rt_conv_maxpool_f32_opt(&g, pkh, pkw, psh, psw, x, w, bias, relu, eq_of1);
    mf_rt_conv_maxpool_f32_ref(&g, pkh, pkw, psh, psw, x, w, bias, relu, eq_of2);
    mf_rt_conv_f32_ref(&g, x, w, bias, relu, eq_tf);
    mf_rt_maxpool_f32_ref(&p, eq_tf, 0, eq_of3);
    d = eq_cmpf(eq_of1, eq_of2, np + EQ_CANARY);
    if (d >= 0) eq_fail(st, "conv_maxpool_f32 opt/ref", &g, NULL, d);
    d = eq_cmpf(eq_of2, eq_of3, np + EQ_CANARY);
    if (d >= 0) eq_fail(st, "conv_maxpool_f32 ref/unfused", &g, NULL, d);
}

/* ---- dense ---- */

/* The sparse int8 dense layer against the dense reference on the same weights, pruned here per
 * output: none, all, or a random share (50 to 97 %) of them set to 0; the first outputs whose
 * weights fit the sparse buffers (RAM on the target: 1,100 weights). */

static void eq_dense_sparse(eq_state *st, const mf_rt_geom *g, int n_in, int n_out, const int8_t *x,
                            int8_t *w, const int32_t *bias, const mf_rt_requant *rq)
{
    static const int pcts[] = {0, 100, 50, 75, 90, 97};
    if (n_out > EQ_SPARSE_W / n_in) n_out = EQ_SPARSE_W / n_in; /* n_in ≤ 250: at least 4 */
    for (int o = 0; o < n_out; o++) {
        const int pct = pcts[eq_next(st) % (sizeof pcts / sizeof pcts[0])];
        int8_t *row = w + (size_t)o * (size_t)n_in;
        for (int i = 0; i < n_in; i++)
            if (eq_pct(st, pct)) row[i] = 0;
    }
    /* n_in ≤ 250: no fillers; entries ≤ the weights + 3 of padding per output */
    mf_rt_dense_sparse_s8_encode(n_in, n_out, w, eq_sparse_delta, eq_sparse_w);
    memset(eq_o8a, 0x5A, sizeof eq_o8a);
    memset(eq_o8b, 0x5A, sizeof eq_o8b);
    mf_rt_dense_sparse_s8(n_in, n_out, x, eq_sparse_delta, eq_sparse_w, bias, rq, eq_o8a);
    mf_rt_dense_s8_ref(n_in, n_out, x, w, bias, rq, eq_o8b, NULL);
    const long d = eq_cmp8(eq_o8a, eq_o8b, (size_t)n_out + EQ_CANARY);
    if (d >= 0) eq_fail(st, "dense_sparse_s8", g, NULL, d);
}

/* Fillers: one output over a wide input (256 to 1,100 values) with a few nonzero weights, so
 * that gaps over 255 (filler entries) are common, the last input sometimes among them. */
static void eq_dense_sparse_wide(eq_state *st)
{
    const int n_in = eq_int(st, 256, EQ_SPARSE_W);
    mf_rt_geom g = {1, 1, n_in, 1, 1, 1, 1, 1, 1, 1, 0, 0};
    eq_fill8(st, eq_x8, (size_t)n_in);
    memset(eq_w8, 0, (size_t)n_in);
    for (int k = eq_int(st, 0, 6); k > 0; k--)
        eq_w8[eq_int(st, 0, n_in - 1)] = (int8_t)(eq_pct(st, 50) ? eq_int(st, 1, 127) : -128);
    if (eq_pct(st, 30)) eq_w8[n_in - 1] = 77;
    eq_bias8[0] = eq_int(st, -100000, 100000);
    mf_rt_requant rq = eq_rq(st, 1, -3, 16);
    if (mf_rt_dense_sparse_s8_encode(n_in, 1, eq_w8, eq_sparse_delta, eq_sparse_w) == SIZE_MAX)
        eq_fail(st, "dense_sparse_s8 encode", &g, NULL, 0);
    memset(eq_o8a, 0x5A, sizeof eq_o8a);
    memset(eq_o8b, 0x5A, sizeof eq_o8b);
    mf_rt_dense_sparse_s8(n_in, 1, eq_x8, eq_sparse_delta, eq_sparse_w, eq_bias8, &rq, eq_o8a);
    mf_rt_dense_s8_ref(n_in, 1, eq_x8, eq_w8, eq_bias8, &rq, eq_o8b, NULL);
    const long d = eq_cmp8(eq_o8a, eq_o8b, 1 + EQ_CANARY);
    if (d >= 0) eq_fail(st, "dense_sparse_s8 (fillers)", &g, NULL, d);
}

static void eq_dense(eq_state *st)
{
    int n_in = eq_pct(st, 20) ? eq_int(st, 1, 4) : eq_int(st, 1, 250);
    int n_out = eq_int(st, 1, 9);
    mf_rt_geom g = {1, 1, n_in, 1, 1, n_out, 1, 1, 1, 1, 0, 0};
    size_t nw = (size_t)n_in * n_out;
    long d;
    /* int8 */
    int8_t *x8 = eq_x8 + eq_place(st, (size_t)n_in, EQ_IN + 4);
    int8_t *w8 = eq_w8 + eq_place(st, nw, EQ_W + 4);
    eq_fill8(st, x8, (size_t)n_in);
    eq_fill8(st, w8, nw);
    for (int c = 0; c < n_out; c++)
        eq_bias8[c] = eq_int(st, -100000, 100000);
    mf_rt_requant rq = eq_rq(st, n_out, -3, 16);
    const int32_t *bias8 = eq_pct(st, 20) ? NULL : eq_bias8;
    memset(eq_o8a, 0x5A, sizeof eq_o8a);
    memset(eq_o8b, 0x5A, sizeof eq_o8b);
    mf_rt_dense_s8_opt(n_in, n_out, x8, w8, bias8, &rq, eq_o8a,
                       eq_scratch(mf_rt_dense_s8_scratch_bytes(n_in, n_out)));
    mf_rt_dense_s8_ref(n_in, n_out, x8, w8, bias8, &rq, eq_o8b,
                       eq_scratch(mf_rt_dense_s8_scratch_bytes(n_in, n_out)));
    if ((d = eq_cmp8(eq_o8a, eq_o8b, (size_t)n_out + EQ_CANARY)) >= 0)
        eq_fail(st, "dense_s8", &g, NULL, d);
    eq_dense_sparse(st, &g, n_in, n_out, x8, w8, bias8, &rq);
    eq_dense_sparse_wide(st);
    /* int16 */
    int16_t *x16 = eq_x16 + eq_place(st, (size_t)n_in, EQ_IN + 4);
    int16_t *w16 = eq_w16 + eq_place(st, nw, EQ_W + 4);
    eq_fill16(st, x16, (size_t)n_in);
    eq_fill16(st, w16, nw);
    for (int c = 0; c < n_out; c++)
        eq_bias16[c] = (int64_t)eq_int(st, INT32_MIN, INT32_MAX) * 64;
    rq = eq_rq(st, n_out, 10, 40);
    memset(eq_o16a, 0x5A, sizeof eq_o16a);
    memset(eq_o16b, 0x5A, sizeof eq_o16b);
    mf_rt_dense_s16_opt(n_in, n_out, x16, w16, eq_bias16, &rq, eq_o16a);
    mf_rt_dense_s16_ref(n_in, n_out, x16, w16, eq_bias16, &rq, eq_o16b);
    if ((d = eq_cmp16(eq_o16a, eq_o16b, (size_t)n_out + EQ_CANARY)) >= 0)
        eq_fail(st, "dense_s16", &g, NULL, d);
    /* float */
    float *xf = eq_xf + eq_place(st, (size_t)n_in, EQ_IN + 4);
    float *wf = eq_wf + eq_place(st, nw, EQ_W + 4);
    int specials = eq_pct(st, 20), relu = eq_pct(st, 50);
    eq_fillf(st, xf, (size_t)n_in, specials);
    eq_fillf(st, wf, nw, specials);
    eq_fillf(st, eq_biasf, 16, specials);
    memset(eq_of1, 0x5A, sizeof eq_of1);
    memset(eq_of2, 0x5A, sizeof eq_of2);
    mf_rt_dense_f32_opt(n_in, n_out, xf, wf, eq_biasf, relu, eq_of1);
    mf_rt_dense_f32_ref(n_in, n_out, xf, wf, eq_biasf, relu, eq_of2);
    if ((d = eq_cmpf(eq_of1, eq_of2, (size_t)n_out + EQ_CANARY)) >= 0)
        eq_fail(st, "dense_f32", &g, NULL, d);
}

/* ---- pools ---- */

static void eq_pools(eq_state *st)
{
    mf_rt_geom g = eq_geom(st, 1);
    if (eq_pct(st, 50)) { /* valid windows, as models use them */
        eq_axis(g.h, g.kh <= g.h ? g.kh : (g.kh = g.h), g.sh, 0, &g.oh, &g.pad_top);
        eq_axis(g.w, g.kw <= g.w ? g.kw : (g.kw = g.w), g.sw, 0, &g.ow, &g.pad_left);
    }
    size_t nx = eq_nin(&g), ny = eq_nout(&g);
    int relu = eq_pct(st, 50), rounding = eq_pct(st, 50);
    long d;

#define EQ_POOL(kernel, call_opt, call_ref, a, b, cmp)                                             \
    do {                                                                                           \
        memset(a, 0x5A, sizeof a);                                                                 \
        memset(b, 0x5A, sizeof b);                                                                 \
        call_opt;                                                                                  \
        call_ref;                                                                                  \
        if ((d = cmp(a, b, ny + EQ_CANARY)) >= 0) eq_fail(st, kernel, &g, NULL, d);                \
    } while (0)

    int8_t *x8 = eq_x8 + eq_place(st, nx, EQ_IN + 4);
    eq_fill8(st, x8, nx);
    EQ_POOL("maxpool_s8", mf_rt_maxpool_s8_opt(&g, x8, relu, eq_o8a),
            mf_rt_maxpool_s8_ref(&g, x8, relu, eq_o8b), eq_o8a, eq_o8b, eq_cmp8);
    EQ_POOL("avgpool_s8", mf_rt_avgpool_s8_opt(&g, x8, relu, rounding, eq_o8a),
            mf_rt_avgpool_s8_ref(&g, x8, relu, rounding, eq_o8b), eq_o8a, eq_o8b, eq_cmp8);
    int16_t *x16 = eq_x16 + eq_place(st, nx, EQ_IN + 4);
    eq_fill16(st, x16, nx);
    EQ_POOL("maxpool_s16", mf_rt_maxpool_s16_opt(&g, x16, relu, eq_o16a),
            mf_rt_maxpool_s16_ref(&g, x16, relu, eq_o16b), eq_o16a, eq_o16b, eq_cmp16);
    EQ_POOL("avgpool_s16", mf_rt_avgpool_s16_opt(&g, x16, relu, rounding, eq_o16a),
            mf_rt_avgpool_s16_ref(&g, x16, relu, rounding, eq_o16b), eq_o16a, eq_o16b, eq_cmp16);
    float *xf = eq_xf + eq_place(st, nx, EQ_IN + 4);
    eq_fillf(st, xf, nx, eq_pct(st, 30));
    EQ_POOL("maxpool_f32", mf_rt_maxpool_f32_opt(&g, xf, relu, eq_of1),
            mf_rt_maxpool_f32_ref(&g, xf, relu, eq_of2), eq_of1, eq_of2, eq_cmpf);
    EQ_POOL("avgpool_f32", mf_rt_avgpool_f32_opt(&g, xf, relu, eq_of1),
            mf_rt_avgpool_f32_ref(&g, xf, relu, eq_of2), eq_of1, eq_of2, eq_cmpf);

    /* global pools: up to 1700 positions */
    int channels = eq_int(st, 1, 17);
    int positions = eq_int(st, 1, (int)(EQ_IN / (size_t)channels));
    if (eq_pct(st, 10)) positions = 0;
    nx = (size_t)positions * channels;
    ny = (size_t)channels;
    g.h = 1, g.w = positions, g.cin = g.cout = channels;
    x8 = eq_x8 + eq_place(st, nx, EQ_IN + 4);
    eq_fill8(st, x8, nx);
    EQ_POOL("global_maxpool_s8", mf_rt_global_maxpool_s8_opt(positions, channels, x8, eq_o8a),
            mf_rt_global_maxpool_s8_ref(positions, channels, x8, eq_o8b), eq_o8a, eq_o8b, eq_cmp8);
    EQ_POOL("global_avgpool_s8",
            mf_rt_global_avgpool_s8_opt(positions, channels, x8, rounding, eq_o8a),
            mf_rt_global_avgpool_s8_ref(positions, channels, x8, rounding, eq_o8b), eq_o8a, eq_o8b,
            eq_cmp8);
    x16 = eq_x16 + eq_place(st, nx, EQ_IN + 4);
    eq_fill16(st, x16, nx);
    EQ_POOL("global_maxpool_s16", mf_rt_global_maxpool_s16_opt(positions, channels, x16, eq_o16a),
            mf_rt_global_maxpool_s16_ref(positions, channels, x16, eq_o16b), eq_o16a, eq_o16b,
            eq_cmp16);
    EQ_POOL("global_avgpool_s16",
            mf_rt_global_avgpool_s16_opt(positions, channels, x16, rounding, eq_o16a),
            mf_rt_global_avgpool_s16_ref(positions, channels, x16, rounding, eq_o16b), eq_o16a,
            eq_o16b, eq_cmp16);
    xf = eq_xf + eq_place(st, nx, EQ_IN + 4);
    eq_fillf(st, xf, nx, eq_pct(st, 30));
    EQ_POOL("global_maxpool_f32", mf_rt_global_maxpool_f32_opt(positions, channels, xf, eq_of1),
            mf_rt_global_maxpool_f32_ref(positions, channels, xf, eq_of2), eq_of1, eq_of2, eq_cmpf);
    EQ_POOL("global_avgpool_f32", mf_rt_global_avgpool_f32_opt(positions, channels, xf, eq_of1),
            mf_rt_global_avgpool_f32_ref(positions, channels, xf, eq_of2), eq_of1, eq_of2, eq_cmpf);
#undef EQ_POOL
}

/* ---- add, relu, rescale (element-wise; in place too) ---- */

static void eq_eltwise(eq_state *st)
{
    size_t n = (size_t)(eq_pct(st, 20) ? eq_int(st, 0, 5) : eq_int(st, 0, 1300));
    size_t ny = n;
    long d;
    mf_rt_geom g = {1, (int)n, 1, 1, (int)n, 1, 1, 1, 1, 1, 0, 0};
    char what[48];

#define EQ_ELT(kernel, call_opt, call_ref, a, b, cmp)                                              \
    do {                                                                                           \
        memset(a, 0x5A, sizeof a);                                                                 \
        memset(b, 0x5A, sizeof b);                                                                 \
        call_opt;                                                                                  \
        call_ref;                                                                                  \
        if ((d = cmp(a, b, ny + EQ_CANARY)) >= 0) eq_fail(st, kernel, &g, what, d);                \
    } while (0)

    int la = eq_pct(st, 50) ? 0 : eq_int(st, 0, 24), lb = eq_pct(st, 50) ? 0 : eq_int(st, 0, 24);
    if (eq_pct(st, 50)) la = la % 4, lb = lb % 4; /* the add's lane plans: small alignments */
    mf_rt_requant rq = eq_rq(st, 1, -3, 12);
    rq.shifts = NULL;
    {
        eq_msg m = {{0}, 0};
        eq_puts(&m, "align "), eq_puti(&m, la), eq_puts(&m, ","), eq_puti(&m, lb);
        eq_puts(&m, " shift "), eq_puti(&m, rq.shift), eq_puts(&m, " relu ");
        eq_puti(&m, rq.relu), eq_puts(&m, " round "), eq_puti(&m, rq.rounding);
        memcpy(what, m.b, sizeof what - 1);
        what[sizeof what - 1] = 0;
    }

    /* int8 */
    int8_t *a8 = eq_x8 + eq_place(st, n, EQ_IN + 4), *b8 = eq_t8 + eq_place(st, n, EQ_IN + 4);
    eq_fill8(st, a8, n);
    eq_fill8(st, b8, n);
    EQ_ELT("add_s8", mf_rt_add_s8_opt(n, a8, la, b8, lb, &rq, eq_o8a),
           mf_rt_add_s8_ref(n, a8, la, b8, lb, &rq, eq_o8b), eq_o8a, eq_o8b, eq_cmp8);
    EQ_ELT("relu_s8", mf_rt_relu_s8_opt(n, a8, eq_o8a), mf_rt_relu_s8_ref(n, a8, eq_o8b), eq_o8a,
           eq_o8b, eq_cmp8);
    int s = eq_shift(st, -10, 12);
    EQ_ELT("rescale_s8", mf_rt_rescale_s8_opt(n, a8, s, rq.rounding, eq_o8a),
           mf_rt_rescale_s8_ref(n, a8, s, rq.rounding, eq_o8b), eq_o8a, eq_o8b, eq_cmp8);
    if (n <= EQ_OUT) { /* in place: out == in */
        memset(eq_o8a, 0x5A, sizeof eq_o8a);
        memset(eq_o8b, 0x5A, sizeof eq_o8b);
        memcpy(eq_o8a, a8, n);
        mf_rt_relu_s8_opt(n, eq_o8a, eq_o8a);
        mf_rt_relu_s8_ref(n, a8, eq_o8b);
        if ((d = eq_cmp8(eq_o8a, eq_o8b, n + EQ_CANARY)) >= 0)
            eq_fail(st, "relu_s8 in place", &g, NULL, d);
    }

    /* int16 */
    int16_t *a16 = eq_x16 + eq_place(st, n, EQ_IN + 4), *b16 = eq_t16 + eq_place(st, n, EQ_IN + 4);
    eq_fill16(st, a16, n);
    eq_fill16(st, b16, n);
    rq.shift = eq_shift(st, -3, 20);
    la = eq_pct(st, 50) ? 0 : eq_int(st, 0, 48), lb = eq_pct(st, 50) ? 0 : eq_int(st, 0, 48);
    if (eq_pct(st, 50)) la = la % 4, lb = lb % 4;
    EQ_ELT("add_s16", mf_rt_add_s16_opt(n, a16, la, b16, lb, &rq, eq_o16a),
           mf_rt_add_s16_ref(n, a16, la, b16, lb, &rq, eq_o16b), eq_o16a, eq_o16b, eq_cmp16);
    EQ_ELT("relu_s16", mf_rt_relu_s16_opt(n, a16, eq_o16a), mf_rt_relu_s16_ref(n, a16, eq_o16b),
           eq_o16a, eq_o16b, eq_cmp16);
    s = eq_shift(st, -10, 20);
    EQ_ELT("rescale_s16", mf_rt_rescale_s16_opt(n, a16, s, rq.rounding, eq_o16a),
           mf_rt_rescale_s16_ref(n, a16, s, rq.rounding, eq_o16b), eq_o16a, eq_o16b, eq_cmp16);
    if (n <= EQ_OUT) { /* in place: the add into its first operand */
        memset(eq_o16a, 0x5A, sizeof eq_o16a);
        memset(eq_o16b, 0x5A, sizeof eq_o16b);
        memcpy(eq_o16a, a16, n * 2);
        mf_rt_add_s16_opt(n, eq_o16a, 1, b16, 0, &rq, eq_o16a);
        mf_rt_add_s16_ref(n, a16, 1, b16, 0, &rq, eq_o16b);
        if ((d = eq_cmp16(eq_o16a, eq_o16b, n + EQ_CANARY)) >= 0)
            eq_fail(st, "add_s16 in place", &g, NULL, d);
    }

    /* float */
    float *af = eq_xf + eq_place(st, n, EQ_IN + 4), *bf = eq_tf + eq_place(st, n, EQ_IN + 4);
    eq_fillf(st, af, n, eq_pct(st, 30));
    eq_fillf(st, bf, n, eq_pct(st, 30));
    EQ_ELT("add_f32", mf_rt_add_f32_opt(n, af, bf, rq.relu, eq_of1),
           mf_rt_add_f32_ref(n, af, bf, rq.relu, eq_of2), eq_of1, eq_of2, eq_cmpf);
    EQ_ELT("relu_f32", mf_rt_relu_f32_opt(n, af, eq_of1), mf_rt_relu_f32_ref(n, af, eq_of2), eq_of1,
           eq_of2, eq_cmpf);
#undef EQ_ELT
}

/* ---- the model's input: z-score and quantization (n_stats 0, 1, 3, 9, n, n + 1 or any) ----
 * Raw values, means and stds in eq_of1..3: on the target those lie past every integer buffer
 * of the union, so the int8 and int16 outputs do not overwrite them; float outputs in eq_xf
 * and eq_tf. */

static float eq_in_float(eq_state *st, int wide)
{
    if (wide && eq_pct(st, 40)) { /* any bit pattern: subnormals, ±inf, NaN */
        uint32_t u = eq_next(st);
        float f;
        memcpy(&f, &u, 4);
        return f;
    }
    if (eq_pct(st, 20)) return (float)eq_int(st, -70000, 70000) * 0.5f; /* ties */
    return eq_float(st, wide) * 3.0f;
}

static float eq_in_scale(eq_state *st)
{
    if (eq_pct(st, 5)) return (float)eq_int(st, 1, 1000) / 7.0f; /* not a power of two */
    int k = eq_pct(st, 10) ? eq_int(st, -80, 80) : eq_int(st, -8, 16);
    float s = 1.0f;
    for (; k > 0; k--)
        s *= 2.0f;
    for (; k < 0; k++)
        s *= 0.5f;
    return s;
}

/* Runs the three kernels' optimized and reference paths on raw = eq_of1, mean = eq_of2,
 * std = eq_of3. */
static void eq_input_run(eq_state *st, size_t n, size_t n_stats, float scale, const char *what)
{
    long d;
    mf_rt_geom g = {1, (int)n, 1, 1, (int)n, 1, 1, 1, 1, 1, 0, 0};
    memset(eq_xf, 0x5A, (n + EQ_CANARY) * sizeof(float));
    memset(eq_tf, 0x5A, (n + EQ_CANARY) * sizeof(float));
    mf_rt_input_f32_opt(n, eq_of1, eq_of2, eq_of3, n_stats, eq_xf);
    mf_rt_input_f32_ref(n, eq_of1, eq_of2, eq_of3, n_stats, eq_tf);
    if ((d = eq_cmpf(eq_xf, eq_tf, n + EQ_CANARY)) >= 0) eq_fail(st, "input_f32", &g, what, d);
    memset(eq_o16a, 0x5A, sizeof eq_o16a);
    memset(eq_o16b, 0x5A, sizeof eq_o16b);
    mf_rt_input_s16_opt(n, eq_of1, eq_of2, eq_of3, n_stats, scale, eq_o16a);
    mf_rt_input_s16_ref(n, eq_of1, eq_of2, eq_of3, n_stats, scale, eq_o16b);
    if ((d = eq_cmp16(eq_o16a, eq_o16b, n + EQ_CANARY)) >= 0) eq_fail(st, "input_s16", &g, what, d);
    memset(eq_o8a, 0x5A, sizeof eq_o8a);
    memset(eq_o8b, 0x5A, sizeof eq_o8b);
    mf_rt_input_s8_opt(n, eq_of1, eq_of2, eq_of3, n_stats, scale, eq_o8a);
    mf_rt_input_s8_ref(n, eq_of1, eq_of2, eq_of3, n_stats, scale, eq_o8b);
    if ((d = eq_cmp8(eq_o8a, eq_o8b, n + EQ_CANARY)) >= 0) eq_fail(st, "input_s8", &g, what, d);
}

static void eq_input_what(char *what, size_t cap, size_t n_stats, float scale)
{
    eq_msg m = {{0}, 0};
    uint32_t u;
    memcpy(&u, &scale, 4);
    eq_puts(&m, "n_stats "), eq_puti(&m, (long)n_stats);
    eq_puts(&m, " scale bits "), eq_puti(&m, (long)u);
    memcpy(what, m.b, cap - 1);
    what[cap - 1] = 0;
}

/* The input statistics' count for n values from a pick in [0, 6]: none, 1, 3, 9, per element
 * (n or n + 1 with `extra`), or any count in [1, n + 1] (`any`); shared with test_runtime.c. */
static size_t eq_n_stats(int pick, size_t n, int extra, size_t any)
{
    static const size_t fixed[] = {0, 1, 3, 9};
    return pick < 4 ? fixed[pick] : pick == 4 ? n + (size_t)extra : any;
}

static void eq_input(eq_state *st)
{
    size_t n = (size_t)(eq_pct(st, 20) ? eq_int(st, 0, 9) : eq_int(st, 0, 1300));
    const int pick = eq_int(st, 0, 6), extra = eq_int(st, 0, 1);
    size_t n_stats = eq_n_stats(pick, n, extra, (size_t)eq_int(st, 1, (int32_t)n + 1));
    int wide = eq_pct(st, 30);
    float scale = eq_in_scale(st);
    for (size_t i = 0; i < n; i++)
        eq_of1[i] = eq_in_float(st, wide);
    for (size_t c = 0; c < n_stats && c < EQ_OUT; c++) {
        eq_of2[c] = wide ? eq_in_float(st, 1) : eq_float(st, 0);
        eq_of3[c] = wide ? eq_in_float(st, 1) : 0.05f + 2.0f * (eq_float(st, 0) + 1.0f);
    }
    char what[48];
    eq_input_what(what, sizeof what, n_stats, scale);
    eq_input_run(st, n, n_stats, scale, what);
}

/* Values at the rounding and saturation edges after scaling, through every walk. */
static void eq_extreme_input(eq_state *st)
{
    static const uint32_t v[] = {0x00000000u, 0x80000000u, 0x3F000000u,
                                 0xBF000000u, 0x3EFFFFFFu, 0xBEFFFFFFu, /* ±0.5 */
                                 0x3F000001u, 0xBF000001u, 0x3FC00000u,
                                 0xBFC00000u, 0x40200000u, 0xC0200000u, /* 1.5 2.5 */
                                 0x401FFFFFu, 0xC01FFFFFu, 0x42FD0000u,
                                 0xC2FD0000u, 0x42FF0000u, 0xC2FF0000u, /* 126.5 127.5 */
                                 0x42FEFFFFu, 0xC2FEFFFFu, 0x43008000u,
                                 0xC3008000u, 0xC300FFFFu, 0xC3010000u, /* 128.5 */
                                 0x46FFFD00u, 0xC6FFFD00u, 0x46FFFF00u,
                                 0xC6FFFF00u, 0x46FFFEFFu, 0xC7000080u, /* 32767.5 */
                                 0xC700007Fu, 0x47000000u, 0xC7000100u,
                                 0x477FFF00u, 0x47800000u, 0xC7800000u, /* 65536 */
                                 0x4E7FFFFFu, 0x4E800000u, 0xCE800000u,
                                 0xCE7FFFFFu, 0x4F000000u, 0xCF000000u, /* 2^30 2^31 */
                                 0x4F800000u, 0x4AFFFFFFu, 0xCAFFFFFFu,
                                 0x4B000001u, 0x7F7FFFFFu, 0xFF7FFFFFu, /* 8388607.5 */
                                 0x7F800000u, 0xFF800000u, 0x7FC00000u,
                                 0xFFC00000u, 0x7F800001u, 0x00000001u, /* inf NaN */
                                 0x80000001u, 0x00800000u, 0x3E800000u,
                                 0xBF400000u, 0x40400000u, 0xC05FFFFFu};
    static const uint32_t scales[] = {0x3F800000u, 0x40000000u, 0x3F000000u, 0x43800000u,
                                      0x1F800000u, 0x5F800000u, 0x1F000000u, 0x60000000u,
                                      0x00800000u, 0x71800000u, 0x40400000u, 0x3E99999Au};
    static const uint32_t stats[][2] = {
        /* mean, std */
        {0x00000000u, 0x3F800000u}, {0x3E800000u, 0x3F000000u}, {0xBF800000u, 0x40000000u},
        {0x3F000000u, 0x3E800000u}, {0x00000000u, 0x0006CE3Eu}, {0x3F800000u, 0x00000000u},
        {0x3F800000u, 0x80000000u}, {0x00000000u, 0xBF800000u}, {0x3F800000u, 0x7F800000u},
        {0x00000000u, 0x7FC00000u}, {0x7F800000u, 0x40400000u}, {0x7FC00000u, 0x3F800000u},
        {0x00000000u, 0x7F7FFFFFu}, {0x00000000u, 0x0D800000u}, {0x3DCCCCCDu, 0x3DCCCCCDu}};
    const size_t nv = sizeof v / sizeof v[0], ns = sizeof stats / sizeof stats[0];
    memcpy(eq_of1, v, sizeof v);
    char what[48];
    for (size_t si = 0; si < sizeof scales / sizeof scales[0]; si++) {
        float scale;
        memcpy(&scale, &scales[si], 4);
        for (size_t k = 0; k < ns; k++) { /* channel c: stats[(k + c) mod ns] */
            for (size_t c = 0; c < nv + 1; c++) {
                memcpy(&eq_of2[c], &stats[(k + c) % ns][0], 4);
                memcpy(&eq_of3[c], &stats[(k + c) % ns][1], 4);
            }
            const size_t n_stats[] = {0, 1, 3, 9, nv, nv + 1};
            for (size_t j = 0; j < sizeof n_stats / sizeof n_stats[0]; j++)
                for (size_t n = nv - 3; n <= nv; n++) {
                    if (n_stats[j] == 0 && k) continue;
                    st->cases++;
                    eq_input_what(what, sizeof what, n_stats[j], scale);
                    eq_input_run(st, n, n_stats[j], scale, what);
                }
        }
    }
}

/* ---- deterministic sweeps at the limits: accumulators at the edge of int32 / int64 (constant
 * extreme data, biases at the quantizer's bound), every shift, both roundings, with and without
 * ReLU; the fast requantization's applicability bounds are exercised on both sides ---- */

static void eq_extreme_conv(eq_state *st)
{
    mf_rt_geom g = {1, 8, 5, 1, 8, 3, 1, 3, 1, 1, 0, 1}; /* conv1d, k 3, same: taps 15 inside */
    const int64_t K = 15;
    static const int xw8[4][2] = {{-128, -128}, {127, -128}, {-128, 127}, {127, 127}};
    static const int xw16[4][2] = {
        {-32768, -32768}, {32767, -32768}, {-32768, 32767}, {32767, 32767}};
    const int32_t bmax8 = (int32_t)(INT32_MAX - K * 16384);
    const int32_t b8[] = {bmax8, -bmax8, bmax8 - 1, 1 << 30, -(1 << 30), 0};
    const int64_t p61 = (int64_t)1 << 61, p62 = (int64_t)1 << 62;
    const int64_t b16[] = {p61 - 1, p61, -p61 + 1, -p61, p62, -p62, 0};
    long d;
    for (int pat = 0; pat < 4; pat++)
        for (int bi = 0; bi < (int)(sizeof b8 / sizeof b8[0]); bi++)
            for (int s = -2; s <= 40; s++)
                for (int v = 0; v < 2; v++) {
                    st->cases++;
                    memset(eq_x8, xw8[pat][0], 40);
                    memset(eq_w8, xw8[pat][1], 45);
                    eq_bias8[0] = b8[bi], eq_bias8[1] = -b8[bi], eq_bias8[2] = b8[bi] / 2;
                    mf_rt_requant rq = {s, NULL, (s & 1) ^ v, v ? MF_RT_ROUND_HALF_UP : 0};
                    memset(eq_o8a, 0x5A, 64);
                    memset(eq_o8b, 0x5A, 64);
                    mf_rt_conv_s8_opt(&g, eq_x8, eq_w8, eq_bias8, &rq, eq_o8a,
                                      eq_scratch(mf_rt_conv_s8_scratch_bytes(&g)));
                    mf_rt_conv_s8_ref(&g, eq_x8, eq_w8, eq_bias8, &rq, eq_o8b,
                                      eq_scratch(mf_rt_conv_s8_scratch_bytes(&g)));
                    if ((d = eq_cmp8(eq_o8a, eq_o8b, 64)) >= 0)
                        eq_fail(st, "conv_s8 extreme", &g, NULL, d);
                }
    for (int pat = 0; pat < 4; pat++)
        for (int bi = 0; bi < (int)(sizeof b16 / sizeof b16[0]); bi++)
            for (int s = -2; s <= 66; s++)
                for (int v = 0; v < 2; v++) {
                    st->cases++;
                    for (int i = 0; i < 45; i++)
                        eq_x16[i] = (int16_t)xw16[pat][0], eq_w16[i] = (int16_t)xw16[pat][1];
                    eq_bias16[0] = b16[bi], eq_bias16[1] = -b16[bi], eq_bias16[2] = b16[bi] / 2;
                    mf_rt_requant rq = {s, NULL, (s & 1) ^ v, v ? MF_RT_ROUND_HALF_UP : 0};
                    memset(eq_o16a, 0x5A, 128);
                    memset(eq_o16b, 0x5A, 128);
                    mf_rt_conv_s16_opt(&g, eq_x16, eq_w16, eq_bias16, &rq, eq_o16a,
                                       eq_scratch(mf_rt_conv_s16_scratch_bytes(&g)));
                    mf_rt_conv_s16_ref(&g, eq_x16, eq_w16, eq_bias16, &rq, eq_o16b,
                                       eq_scratch(mf_rt_conv_s16_scratch_bytes(&g)));
                    if ((d = eq_cmp16(eq_o16a, eq_o16b, 64)) >= 0)
                        eq_fail(st, "conv_s16 extreme", &g, NULL, d);
                }
}

static void eq_extreme_eltwise(eq_state *st)
{
    static const int8_t v8[] = {-128, -127, -65, -64, -2, -1, 0, 1, 2, 63, 64, 126, 127, 5, -5, 99};
    static const int16_t v16[] = {-32768, -32767, -16385, -16384, -2,    -1, 0,   1,
                                  2,      16383,  16384,  32766,  32767, 77, -77, 1000};
    static const int aligns[] = {0, 1, 2, 3, 7, 8, 14, 15, 16, 17, 23, 24, 30, 47, 48};
    const int na = (int)(sizeof aligns / sizeof aligns[0]);
    mf_rt_geom g = {1, 16, 1, 1, 16, 1, 1, 1, 1, 1, 0, 0};
    long d;
    for (int bits = 8; bits <= 16; bits += 8) {
        for (int i = 0; i < 16; i++) {
            if (bits == 8)
                eq_x8[i] = v8[i], eq_t8[i] = v8[15 - i];
            else
                eq_x16[i] = v16[i], eq_t16[i] = v16[15 - i];
        }
        for (int s = -40; s <= 40; s++)
            for (int v = 0; v < 2; v++) {
                int rounding = v ? MF_RT_ROUND_HALF_UP : MF_RT_ROUND_FLOOR;
                st->cases++;
                if (bits == 8) {
                    memset(eq_o8a, 0x5A, 32), memset(eq_o8b, 0x5A, 32);
                    mf_rt_rescale_s8_opt(16, eq_x8, s, rounding, eq_o8a);
                    mf_rt_rescale_s8_ref(16, eq_x8, s, rounding, eq_o8b);
                    if ((d = eq_cmp8(eq_o8a, eq_o8b, 32)) >= 0)
                        eq_fail(st, "rescale_s8 extreme", &g, NULL, d);
                } else {
                    memset(eq_o16a, 0x5A, 64), memset(eq_o16b, 0x5A, 64);
                    mf_rt_rescale_s16_opt(16, eq_x16, s, rounding, eq_o16a);
                    mf_rt_rescale_s16_ref(16, eq_x16, s, rounding, eq_o16b);
                    if ((d = eq_cmp16(eq_o16a, eq_o16b, 32)) >= 0)
                        eq_fail(st, "rescale_s16 extreme", &g, NULL, d);
                }
                if (s < -20 || s > 34) continue;
                for (int a = 0; a < na; a++)
                    for (int b = 0; b < na; b++) {
                        mf_rt_requant rq = {s, NULL, (a + b) & 1, rounding};
                        if (bits == 8) {
                            memset(eq_o8a, 0x5A, 32), memset(eq_o8b, 0x5A, 32);
                            mf_rt_add_s8_opt(16, eq_x8, aligns[a], eq_t8, aligns[b], &rq, eq_o8a);
                            mf_rt_add_s8_ref(16, eq_x8, aligns[a], eq_t8, aligns[b], &rq, eq_o8b);
                            if ((d = eq_cmp8(eq_o8a, eq_o8b, 32)) >= 0)
                                eq_fail(st, "add_s8 extreme", &g, NULL, d);
                        } else {
                            memset(eq_o16a, 0x5A, 64), memset(eq_o16b, 0x5A, 64);
                            mf_rt_add_s16_opt(16, eq_x16, aligns[a], eq_t16, aligns[b], &rq,
                                              eq_o16a);
                            mf_rt_add_s16_ref(16, eq_x16, aligns[a], eq_t16, aligns[b], &rq,
                                              eq_o16b);
                            if ((d = eq_cmp16(eq_o16a, eq_o16b, 32)) >= 0)
                                eq_fail(st, "add_s16 extreme", &g, NULL, d);
                        }
                    }
            }
    }
}

/* ---- depthwise conv (dwconv_s8_opt.c) ----
 * The int8 path against the reference: multiplier 1 (the quads; cin a multiple of 4 or not:
 * remainder channels, unaligned words) or 2 to 3 (every channel in C), the conv geometries of
 * eq_geom (1D and 2D, padding, strides, kernels wider than the input), per-tensor and
 * per-channel shifts, biases at the accumulator's limit (the slow requantization). */
static int8_t eq_dw_shifts[64];
static int32_t eq_dw_bias8[64];

static void eq_dwconv(eq_state *st)
{
    mf_rt_geom g = eq_geom(st, 1); /* cout = cin, then × the multiplier */
    int mult = eq_pct(st, 60) ? 1 : eq_int(st, 2, 3);
    while (mult > 1 && (size_t)g.oh * g.ow * g.cin * mult > EQ_OUT)
        mult--;
    g.cout = g.cin * mult;
    if (eq_pct(st, 5)) /* padding wider than the kernel: windows of zero taps */
        g.pad_left += eq_int(st, 1, 3);
    const size_t nx = eq_nin(&g), ny = eq_nout(&g), nw = (size_t)g.cout * g.kh * g.kw;
    if (ny > EQ_OUT) return;
    int8_t *x = eq_x8 + eq_place(st, nx, EQ_IN + 4);
    int8_t *w = eq_w8 + eq_place(st, nw, EQ_W + 4);
    eq_fill8(st, x, nx);
    eq_fill8(st, w, nw);
    const int32_t K = g.kh * g.kw, bmax = INT32_MAX - K * 16384;
    for (int c = 0; c < g.cout; c++)
        eq_dw_bias8[c] =
            eq_pct(st, 10) ? (eq_pct(st, 50) ? bmax : -bmax) : eq_int(st, -65536, 65536);
    const int32_t *bias = eq_pct(st, 15) ? NULL : eq_dw_bias8;
    mf_rt_requant rq = eq_rq(st, 1, -3, 14);
    if (rq.shifts) {
        for (int c = 0; c < g.cout; c++)
            eq_dw_shifts[c] = (int8_t)eq_shift(st, -3, 14);
        rq.shifts = eq_dw_shifts;
    }
    void *scratch = eq_scratch(mf_rt_dwconv_s8_scratch_bytes(&g));
    memset(eq_o8a, 0x5A, sizeof eq_o8a);
    memset(eq_o8b, 0x5A, sizeof eq_o8b);
    mf_rt_dwconv_s8_opt(&g, x, w, bias, &rq, eq_o8a, scratch);
    mf_rt_dwconv_s8_ref(&g, x, w, bias, &rq, eq_o8b, scratch);
    long d = eq_cmp8(eq_o8a, eq_o8b, ny + EQ_CANARY);
    if (d >= 0) eq_fail(st, mult == 1 ? "dwconv_s8" : "dwconv_s8 (multiplier > 1)", &g, NULL, d);
    /* its ReLU6 form: the reference without activation, clamped to [0, q6] */
    mf_rt_requant r6 = rq, r0 = rq;
    const int q6 = eq_int(st, 0, 127);
    r6.relu = MF_RT_RELU6(q6), r0.relu = 0;
    memset(eq_o8a, 0x5A, sizeof eq_o8a);
    memset(eq_o8b, 0x5A, sizeof eq_o8b);
    mf_rt_dwconv_relu6_s8(&g, x, w, bias, &r6, eq_o8a, scratch);
    mf_rt_dwconv_s8_ref(&g, x, w, bias, &r0, eq_o8b, scratch);
    eq_clamp8(eq_o8b, ny, q6);
    d = eq_cmp8(eq_o8a, eq_o8b, ny + EQ_CANARY);
    if (d >= 0) eq_fail(st, "dwconv_relu6_s8", &g, NULL, d);
}

/* ---- ReLU6 (relu6.c) ----
 * Every *_relu6 kernel (the layer's kernel with a plain ReLU, then its clamp; on the target the
 * optimized paths) against the references without an activation, clamped here to [0, q6]; float:
 * the references with their ReLU, clamped to 6. q6 from 0 to the type's largest value. */
static void eq_clamp8(int8_t *p, size_t n, int q6)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (int8_t)(p[i] < 0 ? 0 : p[i] > q6 ? q6 : p[i]);
}

static void eq_clamp16(int16_t *p, size_t n, int q6)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (int16_t)(p[i] < 0 ? 0 : p[i] > q6 ? q6 : p[i]);
}

static void eq_copy8(int8_t *d, const int8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        d[i] = s[i];
}

static void eq_copy16(int16_t *d, const int16_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        d[i] = s[i];
}

static void eq_clampf(float *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = p[i] > 6.0f ? 6.0f : p[i];
}

static void eq_relu6(eq_state *st)
{
    mf_rt_geom g = eq_geom(st, 0);
    const size_t nx = eq_nin(&g), nw = eq_nw(&g), ny = eq_nout(&g);
    int pkh, pkw, psh, psw;
    eq_pool_of(st, &g, &pkh, &pkw, &psh, &psw);
    const mf_rt_geom p = eq_pool_geom(&g, pkh, pkw, psh, psw);
    const size_t np = eq_nout(&p);
    const int n_in = eq_int(st, 1, 250), n_out = eq_int(st, 1, 9);
    const size_t n = (size_t)eq_int(st, 0, 1300);
    const int la = eq_int(st, 0, 3), lb = eq_int(st, 0, 3);
    long d;
    char what[24] = "q6 ";
    /* inputs and weights for every kernel of the case (conv, dense, add) */
    size_t sx = nx > n ? nx : n, sw = (size_t)n_in * (size_t)n_out;
    sx = sx > (size_t)n_in ? sx : (size_t)n_in;
    sw = sw > nw ? sw : nw;
    /* int8 */
    int8_t *x8 = eq_x8 + eq_place(st, sx, EQ_IN + 4);
    int8_t *w8 = eq_w8 + eq_place(st, sw, EQ_W + 4);
    eq_fill8(st, x8, sx);
    eq_fill8(st, w8, sw);
    eq_fill8(st, eq_t8, n);
    for (int c = 0; c < 16; c++)
        eq_bias8[c] = eq_int(st, -65536, 65536);
    mf_rt_requant rq = eq_rq(st, 16, -3, 12), r0 = rq;
    const int q8 = eq_pct(st, 20) ? eq_int(st, 0, 3) : eq_int(st, 0, 127);
    rq.relu = MF_RT_RELU6(q8), r0.relu = 0;
    what[3] = (char)('0' + q8 / 100), what[4] = (char)('0' + q8 / 10 % 10);
    what[5] = (char)('0' + q8 % 10), what[6] = 0;
    void *scratch = eq_scratch(mf_rt_conv_s8_scratch_bytes(&g));
#define EQ_R6(kernel, call, call_ref, out, ref, count, clamp, cmp)                                 \
    do {                                                                                           \
        memset(out, 0x5A, sizeof out);                                                             \
        memset(ref, 0x5A, sizeof ref);                                                             \
        call;                                                                                      \
        call_ref;                                                                                  \
        clamp;                                                                                     \
        if ((d = cmp(out, ref, (count) + EQ_CANARY)) >= 0) eq_fail(st, kernel, &g, what, d);       \
    } while (0)
    EQ_R6("conv_relu6_s8", mf_rt_conv_relu6_s8(&g, x8, w8, eq_bias8, &rq, eq_o8a, scratch),
          mf_rt_conv_s8_ref(&g, x8, w8, eq_bias8, &r0, eq_o8b, scratch), eq_o8a, eq_o8b, ny,
          eq_clamp8(eq_o8b, ny, q8), eq_cmp8);
    EQ_R6(
        "conv_maxpool_relu6_s8",
        mf_rt_conv_maxpool_relu6_s8(&g, pkh, pkw, psh, psw, x8, w8, eq_bias8, &rq, eq_o8a, scratch),
        mf_rt_conv_maxpool_s8_ref(&g, pkh, pkw, psh, psw, x8, w8, eq_bias8, &r0, eq_o8b, scratch),
        eq_o8a, eq_o8b, np, eq_clamp8(eq_o8b, np, q8), eq_cmp8);
    if (mf_rt_conv1d_s8_covers(&g, 1, 1, 1, 1)) {
        EQ_R6("conv1d_relu6_s8", mf_rt_conv1d_relu6_s8(&g, x8, w8, eq_bias8, &rq, eq_o8a, scratch),
              mf_rt_conv_s8_ref(&g, x8, w8, eq_bias8, &r0, eq_o8b, scratch), eq_o8a, eq_o8b, ny,
              eq_clamp8(eq_o8b, ny, q8), eq_cmp8);
        if (g.ow >= 2) {
            const mf_rt_geom p2 = eq_pool_geom(&g, 1, 2, 1, 2);
            EQ_R6("conv1d_maxpool_relu6_s8",
                  mf_rt_conv1d_maxpool_relu6_s8(&g, 1, 2, 1, 2, x8, w8, eq_bias8, &rq, eq_o8a,
                                                scratch),
                  mf_rt_conv_maxpool_s8_ref(&g, 1, 2, 1, 2, x8, w8, eq_bias8, &r0, eq_o8b, scratch),
                  eq_o8a, eq_o8b, eq_nout(&p2), eq_clamp8(eq_o8b, eq_nout(&p2), q8), eq_cmp8);
        }
    }
    EQ_R6("dense_relu6_s8",
          mf_rt_dense_relu6_s8(n_in, n_out, x8, w8, eq_bias8, &rq, eq_o8a,
                               eq_scratch(mf_rt_dense_s8_scratch_bytes(n_in, n_out))),
          mf_rt_dense_s8_ref(n_in, n_out, x8, w8, eq_bias8, &r0, eq_o8b, NULL), eq_o8a, eq_o8b,
          (size_t)n_out, eq_clamp8(eq_o8b, (size_t)n_out, q8), eq_cmp8);
    if (mf_rt_dense_sparse_s8_encode(n_in, n_out, w8, NULL, NULL) <= EQ_SPARSE_W &&
        mf_rt_dense_sparse_s8_encode(n_in, n_out, w8, eq_sparse_delta, eq_sparse_w) <= EQ_SPARSE_W)
        EQ_R6("dense_sparse_relu6_s8",
              mf_rt_dense_sparse_relu6_s8(n_in, n_out, x8, eq_sparse_delta, eq_sparse_w, eq_bias8,
                                          &rq, eq_o8a),
              mf_rt_dense_s8_ref(n_in, n_out, x8, w8, eq_bias8, &r0, eq_o8b, NULL), eq_o8a, eq_o8b,
              (size_t)n_out, eq_clamp8(eq_o8b, (size_t)n_out, q8), eq_cmp8);
    rq.shifts = r0.shifts = NULL;
    EQ_R6("add_relu6_s8", mf_rt_add_relu6_s8(n, x8, la, eq_t8, lb, &rq, eq_o8a),
          mf_rt_add_s8_ref(n, x8, la, eq_t8, lb, &r0, eq_o8b), eq_o8a, eq_o8b, n,
          eq_clamp8(eq_o8b, n, q8), eq_cmp8);
    EQ_R6("relu6_s8", mf_rt_relu6_s8(n, x8, &rq, eq_o8a), eq_copy8(eq_o8b, x8, n), eq_o8a, eq_o8b,
          n, eq_clamp8(eq_o8b, n, q8), eq_cmp8);
    /* int16 */
    int16_t *x16 = eq_x16 + eq_place(st, sx, EQ_IN + 4);
    int16_t *w16 = eq_w16 + eq_place(st, sw, EQ_W + 4);
    eq_fill16(st, x16, sx);
    eq_fill16(st, w16, sw);
    eq_fill16(st, eq_t16, n);
    for (int c = 0; c < 16; c++)
        eq_bias16[c] = (int64_t)eq_int(st, INT32_MIN, INT32_MAX) * 64;
    rq = eq_rq(st, 16, 10, 30), r0 = rq;
    const int q16 = eq_pct(st, 20) ? eq_int(st, 0, 3) : eq_int(st, 0, 32767);
    rq.relu = MF_RT_RELU6(q16), r0.relu = 0;
    scratch = eq_scratch(mf_rt_conv_s16_scratch_bytes(&g));
    EQ_R6("conv_relu6_s16", mf_rt_conv_relu6_s16(&g, x16, w16, eq_bias16, &rq, eq_o16a, scratch),
          mf_rt_conv_s16_ref(&g, x16, w16, eq_bias16, &r0, eq_o16b, scratch), eq_o16a, eq_o16b, ny,
          eq_clamp16(eq_o16b, ny, q16), eq_cmp16);
    EQ_R6("conv_maxpool_relu6_s16",
          mf_rt_conv_maxpool_relu6_s16(&g, pkh, pkw, psh, psw, x16, w16, eq_bias16, &rq, eq_o16a,
                                       scratch),
          mf_rt_conv_maxpool_s16_ref(&g, pkh, pkw, psh, psw, x16, w16, eq_bias16, &r0, eq_o16b,
                                     scratch),
          eq_o16a, eq_o16b, np, eq_clamp16(eq_o16b, np, q16), eq_cmp16);
    EQ_R6("dense_relu6_s16", mf_rt_dense_relu6_s16(n_in, n_out, x16, w16, eq_bias16, &rq, eq_o16a),
          mf_rt_dense_s16_ref(n_in, n_out, x16, w16, eq_bias16, &r0, eq_o16b), eq_o16a, eq_o16b,
          (size_t)n_out, eq_clamp16(eq_o16b, (size_t)n_out, q16), eq_cmp16);
    rq.shifts = r0.shifts = NULL;
    EQ_R6("add_relu6_s16", mf_rt_add_relu6_s16(n, x16, la, eq_t16, lb, &rq, eq_o16a),
          mf_rt_add_s16_ref(n, x16, la, eq_t16, lb, &r0, eq_o16b), eq_o16a, eq_o16b, n,
          eq_clamp16(eq_o16b, n, q16), eq_cmp16);
    EQ_R6("relu6_s16", mf_rt_relu6_s16(n, x16, &rq, eq_o16a), eq_copy16(eq_o16b, x16, n), eq_o16a,
          eq_o16b, n, eq_clamp16(eq_o16b, n, q16), eq_cmp16);
    /* float: values up to ±8, so that sums pass 6 */
    float *xf = eq_xf + eq_place(st, sx, EQ_IN + 4);
    float *wf = eq_wf + eq_place(st, sw, EQ_W + 4);
    const int specials = eq_pct(st, 20);
    eq_fillf(st, xf, sx, specials);
    eq_fillf(st, wf, sw, specials);
    eq_fillf(st, eq_tf, n, specials);
    eq_fillf(st, eq_biasf, 16, specials);
    for (size_t i = 0; i < sx; i++)
        xf[i] *= 8.0f;
    EQ_R6("conv_relu6_f32", mf_rt_conv_relu6_f32(&g, xf, wf, eq_biasf, 0, eq_of1),
          mf_rt_conv_f32_ref(&g, xf, wf, eq_biasf, 1, eq_of2), eq_of1, eq_of2, ny,
          eq_clampf(eq_of2, ny), eq_cmpf);
    EQ_R6("conv_maxpool_relu6_f32",
          mf_rt_conv_maxpool_relu6_f32(&g, pkh, pkw, psh, psw, xf, wf, eq_biasf, 0, eq_of1),
          mf_rt_conv_maxpool_f32_ref(&g, pkh, pkw, psh, psw, xf, wf, eq_biasf, 1, eq_of2), eq_of1,
          eq_of2, np, eq_clampf(eq_of2, np), eq_cmpf);
    EQ_R6("dense_relu6_f32", mf_rt_dense_relu6_f32(n_in, n_out, xf, wf, eq_biasf, 0, eq_of1),
          mf_rt_dense_f32_ref(n_in, n_out, xf, wf, eq_biasf, 1, eq_of2), eq_of1, eq_of2,
          (size_t)n_out, eq_clampf(eq_of2, (size_t)n_out), eq_cmpf);
    EQ_R6("add_relu6_f32", mf_rt_add_relu6_f32(n, xf, eq_tf, 0, eq_of1),
          mf_rt_add_f32_ref(n, xf, eq_tf, 1, eq_of2), eq_of1, eq_of2, n, eq_clampf(eq_of2, n),
          eq_cmpf);
    EQ_R6("relu6_f32", mf_rt_relu6_f32(n, xf, eq_of1), mf_rt_relu_f32_ref(n, xf, eq_of2), eq_of1,
          eq_of2, n, eq_clampf(eq_of2, n), eq_cmpf);
#undef EQ_R6
}

static long mf_equiv_run(uint64_t seed, int cases, eq_log_fn log)
{
    eq_state st = {seed, 0, 0, 0, log, 0, 0};
    eq_extreme_conv(&st);
    eq_extreme_eltwise(&st);
    eq_extreme_input(&st);
    for (int i = 0; i < cases; i++) {
        st.cases = i;
        eq_conv_s8(&st);
        eq_conv_field_s8(&st);
        eq_conv_patch_shapes(&st);
        eq_conv_lanes_shapes(&st);
        eq_conv_dot_s8(&st);
        eq_conv_s16(&st);
        eq_conv_f32(&st);
        eq_dense(&st);
        eq_pools(&st);
        eq_eltwise(&st);
        eq_input(&st);
        eq_relu6(&st);
        eq_dwconv(&st);
    }
    /* the in-place placements of the register-field kernels are checked at all: one byte past
     * the bound of their fast path, most runs come out wrong */
    if (st.unsafe_runs > 0 && st.unsafe_caught * 4 < st.unsafe_runs)
        eq_fail(&st, "conv_field_s8 over its input: too few unsafe placements caught", NULL, NULL,
                st.unsafe_caught);
    return st.fails;
}
