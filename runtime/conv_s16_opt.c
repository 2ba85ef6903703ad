/* int16 convolution, fused convolution + max pool, and dense: the optimized paths (see
 * mf_rt_dsp.h for when they are used). Bit-identical to conv.c's and dense.c's references for
 * every input.
 *
 * Structure (as conv_f32_opt.c): output channels in pairs (co, co + 1; an odd last channel is
 * computed as the pair (co, co) and stored once), output positions in pairs along a row: a
 * "block" is 2 channels × 2 positions, so every loaded word serves several multiply-adds. A
 * position's valid taps form a rectangle [ky0, ky1) × [kx0, kx1), and for each ky the valid
 * input and the matching weights are contiguous runs of (kx1 − kx0)·cin values (channels-last
 * input, [cout][kh][kw][cin] weights): zero padding is never read nor multiplied, it is skipped
 * exactly as the reference skips it. Columns whose kw taps all lie inside the input (the
 * interior: all but ⌈pad/stride⌉ columns at each edge) step pointers; edge columns take a
 * generic path with per-position tap ranges (conv_*_one).
 *
 * int16: once per channel pair the two channels' weights are interleaved pairwise (interleave_s16,
 *   odd rows padded with a zero weight); the inner loop (mac_s16_2x2, inline assembly) takes per
 *   2 values 1 LDR + 1 LDRD + 2 SMLALD into int64 accumulators (the reference's int64 sums
 *   exactly), two positions per call one after the other (4 int64 accumulators at once would
 *   not fit the M4's registers).
 * Requantization: a channel with shift s in [0, 63] starts its accumulator at bias + 2^(s−1)
 *   (half-up) and ends with one arithmetic shift and SSAT/USAT when no sum can leave int64
 *   (mf_rt_dsp.h); with s in [1, 31] it shifts the two 32-bit halves of the int64 sum
 *   (rq_s16_31). Any other channel ends in the reference's mf_rt_requant_s64 of the plain
 *   accumulator. The common case (interleaved weights, both channels, fast requantization) runs
 *   in one non-inlined loop per variant (run_s16_*) that keeps its state in callee-saved
 *   registers.
 * Fused max pool: the conv outputs of a window are computed in blocks and reduced to their
 *   maximum. Requantization is monotonic (shift, rounding, saturation and ReLU never
 *   reverse an order) and every output of a channel uses the same shift, so
 *   max_taps requant(acc) = requant(max_taps acc): the maximum is taken over accumulators and
 *   requantized once. Windows one conv row high (every 1D pool) step pointers along the row like
 *   the plain conv; others (2D pools, edges) are computed window by window.
 * Dense: outputs in pairs sharing every input load, the conv's inner kernels and
 *   requantization (a dense layer is a 1 × 1 conv of one position).
 * Working memory: the int16 conv's interleaved weights live in the caller's scratch
 *   (mf_rt_conv_s16_scratch_bytes, at most MF_RT_WEXP_WORDS words); the stack holds frames. */
#include "mf_rt_conv_plan.h"

#if defined(MF_RT_OPT_INT)

/* ======================= int16 ======================= */

/* a0 += x·w0, a1 += x·w1 over n values (2 channels × 1 position: 4 int64 accumulators). */
MF_RT_INLINE void dot_s16_1x2(int n, const int16_t *restrict x, const int16_t *restrict w0,
                              const int16_t *restrict w1, int64_t *restrict a0,
                              int64_t *restrict a1)
{
    int64_t s0 = *a0, s1 = *a1;
    for (; n >= 4; n -= 4) {
        uint32_t p = mf_ld32(x), q = mf_ld32(x + 2);
        x += 4;
        s0 = mf_smlald(p, mf_ld32(w0), s0);
        s1 = mf_smlald(p, mf_ld32(w1), s1);
        s0 = mf_smlald(q, mf_ld32(w0 + 2), s0);
        s1 = mf_smlald(q, mf_ld32(w1 + 2), s1);
        w0 += 4, w1 += 4;
    }
    if (n >= 2) {
        uint32_t p = mf_ld32(x);
        x += 2;
        s0 = mf_smlald(p, mf_ld32(w0), s0);
        s1 = mf_smlald(p, mf_ld32(w1), s1);
        w0 += 2, w1 += 2;
        n -= 2;
    }
    if (n > 0) {
        int32_t p = *x;
        s0 += (int64_t)(p * *w0), s1 += (int64_t)(p * *w1);
    }
    *a0 = s0, *a1 = s1;
}

MF_RT_NOINLINE void conv_s16_one(const mf_rt_geom *g, const int16_t *in, const int16_t *w0,
                                 size_t wst, int oy, int ox, int64_t *a)
{
    int ky0, ky1, kx0, kx1;
    conv_tap_range(oy, g->sh, g->pad_top, g->h, g->kh, &ky0, &ky1);
    conv_tap_range(ox, g->sw, g->pad_left, g->w, g->kw, &kx0, &kx1);
    int n = (kx1 - kx0) * g->cin;
    if (n <= 0) return;
    for (int ky = ky0; ky < ky1; ky++) {
        const int16_t *x = in + conv_x_at(g, oy, ky, ox) + (size_t)kx0 * g->cin;
        const int16_t *k = w0 + ((size_t)ky * g->kw + kx0) * g->cin;
        dot_s16_1x2(n, x, k, k + wst, &a[0], &a[1]);
    }
}

/* ---- int16 interior: interleaved weights ----
 * Per channel pair, once: for each kernel row and each pair of values, the words w0[2i, 2i+1]
 * and w1[2i, 2i+1] side by side (the caller's scratch, at most MF_RT_WEXP_WORDS words; an odd row
 * ends with a pair padded with a zero weight), so one LDRD fetches both channels' weights: per 2
 * values 1 LDR, 1 LDRD, 2 SMLALD (4 MACs). Inline assembly on the M4 (2 pairs per iteration),
 * the same loop in C on the host. A padded lane reads one int16 past the row; blocks whose
 * reads would leave the input take the exact path on the original weights. */

MF_RT_NOINLINE void interleave_s16(const int16_t *w0, size_t wst, int rows, int n, uint32_t *out)
{
    for (int r = 0; r < rows; r++) {
        const int16_t *k = w0 + (size_t)r * n;
        for (int i = 0; i < n; i += 2, out += 2) {
            if (i + 2 <= n) {
                out[0] = mf_ld32(k + i), out[1] = mf_ld32(k + wst + i);
            } else {
                out[0] = (uint32_t)(uint16_t)k[i];
                out[1] = (uint32_t)(uint16_t)k[wst + i];
            }
        }
    }
}

/* s0 += x·w0, s1 += x·w1 over 2·pairs values, pairs ≥ 1. */
MF_RT_INLINE void mac_s16_run(int64_t *s0p, int64_t *s1p, const int16_t *x, const uint32_t *wp,
                              int pairs)
{
    int64_t s0 = *s0p, s1 = *s1p;
#if defined(MF_RT_EMULATE_DSP)
    for (; pairs > 0; pairs--, x += 2, wp += 2) {
        uint32_t v = mf_ld32(x);
        s0 = mf_smlald(v, wp[0], s0);
        s1 = mf_smlald(v, wp[1], s1);
    }
#else
    uint32_t v, k0, k1;
    if (pairs & 1)
        __asm__("ldr %[v], [%[x]], #4\n\t"
                "ldrd %[k0], %[k1], [%[wp]], #8\n\t"
                "smlald %Q[s0], %R[s0], %[v], %[k0]\n\t"
                "smlald %Q[s1], %R[s1], %[v], %[k1]\n\t"
                : [s0] "+r"(s0), [s1] "+r"(s1), [x] "+r"(x), [wp] "+r"(wp), [v] "=&r"(v),
                  [k0] "=&r"(k0), [k1] "=&r"(k1)
                :
                : "memory");
    pairs >>= 1;
    if (pairs > 0)
        __asm__("1:\n\t"
                "ldr %[v], [%[x]], #4\n\t"
                "ldrd %[k0], %[k1], [%[wp]], #8\n\t"
                "smlald %Q[s0], %R[s0], %[v], %[k0]\n\t"
                "smlald %Q[s1], %R[s1], %[v], %[k1]\n\t"
                "ldr %[v], [%[x]], #4\n\t"
                "ldrd %[k0], %[k1], [%[wp]], #8\n\t"
                "smlald %Q[s0], %R[s0], %[v], %[k0]\n\t"
                "smlald %Q[s1], %R[s1], %[v], %[k1]\n\t"
                "subs %[n], %[n], #1\n\t"
                "bne 1b\n\t"
                : [s0] "+r"(s0), [s1] "+r"(s1), [x] "+r"(x), [wp] "+r"(wp), [n] "+r"(pairs),
                  [v] "=&r"(v), [k0] "=&r"(k0), [k1] "=&r"(k1)
                :
                : "cc", "memory");
#endif
    *s0p = s0, *s1p = s1;
}

/* acc[0] += x·w0, acc[1] += x·w1 (one position). */
MF_RT_NOINLINE void mac_s16_1x2(int64_t *acc, const int16_t *x, const uint32_t *wp, int pairs)
{
    mac_s16_run(&acc[0], &acc[1], x, wp, pairs);
}

/* acc[0] = (c0, x0), acc[1] = (c0, x0 + dx), acc[2] = (c1, x0), acc[3] = (c1, x0 + dx): two
 * positions per call, one after the other over the same weights. */
#if defined(MF_RT_EMULATE_DSP)
MF_RT_NOINLINE void mac_s16_2x2(int64_t *acc, const int16_t *x0, ptrdiff_t dx, const uint32_t *wp,
                                int pairs)
{
    mac_s16_run(&acc[0], &acc[2], x0, wp, pairs);
    mac_s16_run(&acc[1], &acc[3], x0 + dx, wp, pairs);
}
#else
/* The same in assembly, as a naked function (AAPCS: r0 acc, r1 x0, r2 dx in int16 elements, r3
 * wp, pairs on the stack): per pass the two accumulators of one position in r4:r5 and r6:r7,
 * per pair of values 1 LDR (unaligned) + 1 LDRD + 2 SMLALD, two pairs per iteration. */
/* clang-format off */
#define MF_MAC_S16_PASS(X, L1, L2, L3)        \
    "mov lr, r3\n\t"                          \
    "tst r12, #1\n\t"                         \
    "beq " L2 "f\n\t"                         \
    "ldr r9, [" X "], #4\n\t"                 \
    "ldrd r10, r11, [lr], #8\n\t"             \
    "smlald r4, r5, r9, r10\n\t"              \
    "smlald r6, r7, r9, r11\n"                \
    L2 ":\n\t"                                \
    "lsrs r8, r12, #1\n\t"                    \
    "beq " L3 "f\n"                           \
    L1 ":\n\t"                                \
    "ldr r9, [" X "], #4\n\t"                 \
    "ldrd r10, r11, [lr], #8\n\t"             \
    "smlald r4, r5, r9, r10\n\t"              \
    "smlald r6, r7, r9, r11\n\t"              \
    "ldr r9, [" X "], #4\n\t"                 \
    "ldrd r10, r11, [lr], #8\n\t"             \
    "smlald r4, r5, r9, r10\n\t"              \
    "smlald r6, r7, r9, r11\n\t"              \
    "subs r8, r8, #1\n\t"                     \
    "bne " L1 "b\n"                           \
    L3 ":\n\t"
__attribute__((naked, noinline)) static void mac_s16_2x2(MF_RT_UNUSED int64_t *acc,
                                                         MF_RT_UNUSED const int16_t *x0,
                                                         MF_RT_UNUSED ptrdiff_t dx,
                                                         MF_RT_UNUSED const uint32_t *wp,
                                                         MF_RT_UNUSED int pairs)
{
    __asm__ volatile(
        "push {r4-r11, lr}\n\t"
        "ldr r12, [sp, #36]\n\t"        /* pairs */
        "add r2, r1, r2, lsl #1\n\t"    /* x1 */
        "ldrd r4, r5, [r0]\n\t"         /* acc[0] (c0, x0) */
        "ldrd r6, r7, [r0, #16]\n\t"    /* acc[2] (c1, x0) */
        MF_MAC_S16_PASS("r1", "1", "2", "3")
        "strd r4, r5, [r0]\n\t"
        "strd r6, r7, [r0, #16]\n\t"
        "ldrd r4, r5, [r0, #8]\n\t"     /* acc[1] (c0, x1) */
        "ldrd r6, r7, [r0, #24]\n\t"    /* acc[3] (c1, x1) */
        MF_MAC_S16_PASS("r2", "4", "5", "6")
        "strd r4, r5, [r0, #8]\n\t"
        "strd r6, r7, [r0, #24]\n\t"
        "pop {r4-r11, pc}\n\t");
}
/* clang-format on */
#undef MF_MAC_S16_PASS
#endif

typedef struct {
    const int16_t *k;   /* c0's weights from the first valid kernel row (c1's at k + wst) */
    const uint32_t *wp; /* the interleaved weights from that row, or NULL */
    size_t wst;
    ptrdiff_t dx, row;
    ptrdiff_t lim; /* the interleaved path reads inside the input iff x − in ≤ lim */
    int rows, n, pairs;
    int64_t i0, i1;
} blk_s16;

MF_RT_NOINLINE void blk_s16_1x2_c(const blk_s16 *b, const int16_t *x, int64_t *a)
{
    const int16_t *k = b->k;
    for (int r = b->rows; r > 0; r--, x += b->row, k += b->n)
        dot_s16_1x2(b->n, x, k, k + b->wst, &a[0], &a[1]);
}

/* a[0] = (c0, x), a[1] = (c1, x). */
MF_RT_INLINE void blk_s16_1x2(const blk_s16 *b, const int16_t *in, const int16_t *x, int64_t *a)
{
    a[0] = b->i0, a[1] = b->i1;
    if (b->wp && x - in <= b->lim) {
        const uint32_t *wp = b->wp;
        for (int r = b->rows; r > 0; r--, x += b->row, wp += 2 * b->pairs)
            mac_s16_1x2(a, x, wp, b->pairs);
    } else {
        blk_s16_1x2_c(b, x, a);
    }
}

/* a[0] = (c0, x), a[1] = (c0, x + dx), a[2] = (c1, x), a[3] = (c1, x + dx); the second
 * position must satisfy the limit too (x + dx − in ≤ lim). */
MF_RT_INLINE void blk_s16_2x2(const blk_s16 *b, const int16_t *in, const int16_t *x, int64_t *a)
{
    if (b->wp && x + b->dx - in <= b->lim) {
        a[0] = a[1] = b->i0;
        a[2] = a[3] = b->i1;
        const uint32_t *wp = b->wp;
        for (int r = b->rows; r > 0; r--, x += b->row, wp += 2 * b->pairs)
            mac_s16_2x2(a, x, b->dx, wp, b->pairs);
    } else {
        int64_t t[2];
        blk_s16_1x2(b, in, x, t);
        a[0] = t[0], a[2] = t[1];
        blk_s16_1x2(b, in, x + b->dx, t);
        a[1] = t[0], a[3] = t[1];
    }
}

/* ---- the common case in one loop (see run_s8): interleaved weights, both channels, fast
 * requantization with a shift in [1, 31], blocks whose padded reads stay inside the input ---- */
typedef struct {
    const uint32_t *wp;
    ptrdiff_t dx, row;
    int rows, pairs;
    int64_t i0, i1;
    int s0, s1;
} run_s16;

/* sat16(acc >> s) (ReLU: [0, 32767]) for s in [1, 31], from the two halves of acc. */
MF_RT_INLINE int16_t rq_s16_31(int64_t acc, int sh, const int relu)
{
    const uint32_t lo = (uint32_t)acc;
    const int32_t hi = (int32_t)(acc >> 32);
    const int32_t l2 = mf_s32((lo >> sh) | ((uint32_t)hi << (32 - sh)));
    const int32_t h2 = hi >> sh;
    int32_t v;
    if (h2 == (l2 >> 31))
        v = relu ? mf_usat15(l2) : mf_ssat16(l2);
    else
        v = relu ? (h2 < 0 ? 0 : 32767) : (h2 < 0 ? -32768 : 32767);
    return (int16_t)v;
}

MF_RT_INLINE void run_s16_body(const run_s16 *r, const int16_t *x, ptrdiff_t step, int16_t *o,
                               ptrdiff_t ostep, int cout, int blocks, const int relu,
                               const int pool)
{
    for (; blocks > 0; blocks--, x += step, o += ostep) {
        int64_t a[4];
        a[0] = a[1] = r->i0;
        a[2] = a[3] = r->i1;
        if (r->rows == 1) {
            mac_s16_2x2(a, x, r->dx, r->wp, r->pairs);
        } else {
            const int16_t *xr = x;
            const uint32_t *wp = r->wp;
            for (int k = r->rows; k > 0; k--, xr += r->row, wp += 2 * r->pairs)
                mac_s16_2x2(a, xr, r->dx, wp, r->pairs);
        }
        if (pool) {
            o[0] = rq_s16_31(a[0] > a[1] ? a[0] : a[1], r->s0, relu);
            o[1] = rq_s16_31(a[2] > a[3] ? a[2] : a[3], r->s1, relu);
        } else {
            o[0] = rq_s16_31(a[0], r->s0, relu);
            o[cout] = rq_s16_31(a[1], r->s0, relu);
            o[1] = rq_s16_31(a[2], r->s1, relu);
            o[cout + 1] = rq_s16_31(a[3], r->s1, relu);
        }
    }
}

MF_RT_NOINLINE void run_s16_plain(const run_s16 *r, const int16_t *x, ptrdiff_t step, int16_t *o,
                                  ptrdiff_t ostep, int cout, int blocks)
{
    run_s16_body(r, x, step, o, ostep, cout, blocks, 0, 0);
}

MF_RT_NOINLINE void run_s16_plain_relu(const run_s16 *r, const int16_t *x, ptrdiff_t step,
                                       int16_t *o, ptrdiff_t ostep, int cout, int blocks)
{
    run_s16_body(r, x, step, o, ostep, cout, blocks, 1, 0);
}

MF_RT_NOINLINE void run_s16_pool(const run_s16 *r, const int16_t *x, ptrdiff_t step, int16_t *o,
                                 ptrdiff_t ostep, int cout, int blocks)
{
    run_s16_body(r, x, step, o, ostep, cout, blocks, 0, 1);
}

MF_RT_NOINLINE void run_s16_pool_relu(const run_s16 *r, const int16_t *x, ptrdiff_t step,
                                      int16_t *o, ptrdiff_t ostep, int cout, int blocks)
{
    run_s16_body(r, x, step, o, ostep, cout, blocks, 1, 1);
}

typedef struct {
    const int16_t *w0;
    size_t wst;
    mf_rt_chan_s16 c0, c1;
    int two;
    uint32_t *wx; /* interleaved weights (NULL: none) */
} pair_s16;

MF_RT_INLINE blk_s16 blk_s16_of(const mf_rt_geom *g, const conv_plan *p, const pair_s16 *c, int oy)
{
    blk_s16 b;
    const conv_rows r = conv_rows_of(g, oy);
    const int ky0 = r.rows > 0 ? r.ky0 : 0;
    b.rows = r.rows > 0 ? r.rows : 0;
    b.n = p->n;
    b.pairs = (p->n + 1) >> 1;
    b.k = c->w0 + (size_t)ky0 * p->n;
    b.wp = c->wx ? c->wx + (size_t)ky0 * 2 * b.pairs : NULL;
    b.wst = c->wst;
    b.dx = p->dx, b.row = p->row;
    b.lim = (p->n & 1) == 0 ? PTRDIFF_MAX
                            : (ptrdiff_t)((size_t)g->h * g->w * g->cin) -
                                  ((ptrdiff_t)(b.rows - 1) * p->row + 2 * b.pairs);
    b.i0 = c->c0.init, b.i1 = c->c1.init;
    return b;
}

MF_RT_INLINE const int16_t *conv_s16_x(const mf_rt_geom *g, const int16_t *in, int oy, int ox)
{
    const conv_rows r = conv_rows_of(g, oy);
    return r.rows > 0 ? in + conv_x_at(g, oy, r.ky0, ox) : in;
}

/* The fast int16 requantization: (acc >> s) saturated to int16 (ReLU: to [0, 32767]). When the
 * shifted value fits in int32 (its high word is the sign of its low word), SSAT/USAT does it. */
MF_RT_INLINE int16_t rq_s16(int64_t acc, const mf_rt_chan_s16 *c, const mf_rt_requant *rq,
                            const int mode)
{
    if (mode == RQ_SLOW) return mf_rt_requant_s64(acc, c->shift, rq->relu, rq->rounding);
    const int sh = c->shift;
    if (sh >= 1 && sh <= 31) return rq_s16_31(acc, sh, mode == RQ_FAST_RELU);
    int64_t q = acc >> sh;
    int32_t v;
    if (q >= INT32_MIN && q <= INT32_MAX)
        v = (int32_t)q;
    else
        v = q < 0 ? INT32_MIN : INT32_MAX;
    return (int16_t)(mode == RQ_FAST_RELU ? mf_usat15(v) : mf_ssat16(v));
}

MF_RT_NOINLINE int16_t rq_s16_any(int64_t acc, const mf_rt_chan_s16 *c, const mf_rt_requant *rq)
{
    if (!c->fast) return mf_rt_requant_s64(acc, c->shift, rq->relu, rq->rounding);
    return rq->relu ? rq_s16(acc, c, rq, RQ_FAST_RELU) : rq_s16(acc, c, rq, RQ_FAST);
}

MF_RT_NOINLINE void conv_s16_edge(const mf_rt_geom *g, const pair_s16 *c, const int16_t *in,
                                  const mf_rt_requant *rq, int oy, int ox, int16_t *o)
{
    int64_t a[2] = {c->c0.init, c->c1.init};
    conv_s16_one(g, in, c->w0, c->wst, oy, ox, a);
    o[0] = rq_s16_any(a[0], &c->c0, rq);
    if (c->two) o[1] = rq_s16_any(a[1], &c->c1, rq);
}

MF_RT_NOINLINE void conv_s16_pair(const mf_rt_geom *g, const conv_plan *p, const pair_s16 *c,
                                  const int16_t *in, const mf_rt_requant *rq, int16_t *out,
                                  int mode)
{
    const int cout = g->cout;
    for (int oy = 0; oy < g->oh; oy++) {
        int16_t *o = out + (size_t)oy * g->ow * cout;
        for (int ox = 0; ox < p->ox_lo; ox++, o += cout)
            conv_s16_edge(g, c, in, rq, oy, ox, o);
        const blk_s16 b = blk_s16_of(g, p, c, oy);
        const int16_t *x = conv_s16_x(g, in, oy, p->ox_lo);
        int count = p->ox_hi - p->ox_lo;
        if (mode != RQ_SLOW && c->two && b.wp && b.rows > 0 && c->c0.shift >= 1 &&
            c->c0.shift <= 31 && c->c1.shift >= 1 && c->c1.shift <= 31) {
            /* the second position of a block reads furthest: offset x + dx */
            const ptrdiff_t dx2 = 2 * p->dx;
            const int fast = run_safe(b.lim, x + p->dx - in, dx2, count / 2);
            const run_s16 r = {b.wp, b.dx, b.row,       b.rows,     b.pairs,
                               b.i0, b.i1, c->c0.shift, c->c1.shift};
            if (mode == RQ_FAST_RELU)
                run_s16_plain_relu(&r, x, dx2, o, 2 * cout, cout, fast);
            else
                run_s16_plain(&r, x, dx2, o, 2 * cout, cout, fast);
            count -= 2 * fast, x += dx2 * fast, o += 2 * (ptrdiff_t)cout * fast;
        }
        for (; count >= 2; count -= 2, x += 2 * p->dx, o += 2 * cout) {
            int64_t a[4];
            blk_s16_2x2(&b, in, x, a);
            o[0] = rq_s16(a[0], &c->c0, rq, mode);
            o[cout] = rq_s16(a[1], &c->c0, rq, mode);
            if (c->two) {
                o[1] = rq_s16(a[2], &c->c1, rq, mode);
                o[cout + 1] = rq_s16(a[3], &c->c1, rq, mode);
            }
        }
        if (count > 0) {
            int64_t a[2];
            blk_s16_1x2(&b, in, x, a);
            o[0] = rq_s16(a[0], &c->c0, rq, mode);
            if (c->two) o[1] = rq_s16(a[1], &c->c1, rq, mode);
            o += cout;
        }
        for (int ox = p->ox_hi; ox < g->ow; ox++, o += cout)
            conv_s16_edge(g, c, in, rq, oy, ox, o);
    }
}

MF_RT_NOINLINE void conv_s16_window(const mf_rt_geom *g, const conv_plan *p, const pair_s16 *c,
                                    const int16_t *in, int pkh, int pkw, int oy0, int ox0,
                                    int64_t *m)
{
    const int inside = ox0 >= p->ox_lo && ox0 + pkw <= p->ox_hi;
    int64_t m0 = INT64_MIN, m1 = INT64_MIN;
    for (int wy = 0; wy < pkh; wy++) {
        const int oy = oy0 + wy;
        const blk_s16 b = blk_s16_of(g, p, c, oy);
        const int16_t *x = inside ? conv_s16_x(g, in, oy, ox0) : in;
        for (int wx = 0; wx < pkw; wx++, x += inside ? p->dx : 0) {
            int64_t a[2] = {c->c0.init, c->c1.init};
            if (inside)
                blk_s16_1x2(&b, in, x, a);
            else
                conv_s16_one(g, in, c->w0, c->wst, oy, ox0 + wx, a);
            m0 = a[0] > m0 ? a[0] : m0;
            m1 = a[1] > m1 ? a[1] : m1;
        }
    }
    m[0] = m0, m[1] = m1;
}

MF_RT_NOINLINE void conv_s16_pool_pair(const mf_rt_geom *g, const conv_plan *p, const pair_s16 *c,
                                       int pkh, int pkw, int psh, int psw, int poh, int pow,
                                       const int16_t *in, const mf_rt_requant *rq, int16_t *out,
                                       int mode)
{
    const int cout = g->cout;
    int px_lo = (p->ox_lo + psw - 1) / psw,
        px_hi = p->ox_hi >= pkw ? (p->ox_hi - pkw) / psw + 1 : 0;
    if (px_hi > pow) px_hi = pow;
    if (px_lo > px_hi || pkh != 1) px_lo = px_hi = pow;
    for (int py = 0; py < poh; py++) {
        int16_t *o = out + (size_t)py * pow * cout;
        int px = 0;
        for (; px < px_lo; px++, o += cout) {
            int64_t m[2];
            conv_s16_window(g, p, c, in, pkh, pkw, py * psh, px * psw, m);
            o[0] = rq_s16(m[0], &c->c0, rq, mode);
            if (c->two) o[1] = rq_s16(m[1], &c->c1, rq, mode);
        }
        if (px < px_hi) {
            const int oy = py * psh;
            const blk_s16 b = blk_s16_of(g, p, c, oy);
            const int16_t *x = conv_s16_x(g, in, oy, px * psw);
            const ptrdiff_t step = psw * p->dx;
            if (pkw == 2 && mode != RQ_SLOW && c->two && b.wp && b.rows > 0 && c->c0.shift >= 1 &&
                c->c0.shift <= 31 && c->c1.shift >= 1 && c->c1.shift <= 31) {
                const int fast = run_safe(b.lim, x + p->dx - in, step, px_hi - px);
                const run_s16 r = {b.wp, b.dx, b.row,       b.rows,     b.pairs,
                                   b.i0, b.i1, c->c0.shift, c->c1.shift};
                if (mode == RQ_FAST_RELU)
                    run_s16_pool_relu(&r, x, step, o, cout, cout, fast);
                else
                    run_s16_pool(&r, x, step, o, cout, cout, fast);
                px += fast, x += step * fast, o += (ptrdiff_t)cout * fast;
            }
            for (; px < px_hi; px++, o += cout, x += step) {
                if (pkw == 2) { /* the common case: one block per window */
                    int64_t a[4];
                    blk_s16_2x2(&b, in, x, a);
                    o[0] = rq_s16(a[0] > a[1] ? a[0] : a[1], &c->c0, rq, mode);
                    if (c->two) o[1] = rq_s16(a[2] > a[3] ? a[2] : a[3], &c->c1, rq, mode);
                    continue;
                }
                int64_t m0 = INT64_MIN, m1 = INT64_MIN;
                const int16_t *xw = x;
                for (int wx = 0; wx < pkw; wx++, xw += p->dx) {
                    int64_t a[2];
                    blk_s16_1x2(&b, in, xw, a);
                    m0 = a[0] > m0 ? a[0] : m0;
                    m1 = a[1] > m1 ? a[1] : m1;
                }
                o[0] = rq_s16(m0, &c->c0, rq, mode);
                if (c->two) o[1] = rq_s16(m1, &c->c1, rq, mode);
            }
        }
        for (; px < pow; px++, o += cout) {
            int64_t m[2];
            conv_s16_window(g, p, c, in, pkh, pkw, py * psh, px * psw, m);
            o[0] = rq_s16(m[0], &c->c0, rq, mode);
            if (c->two) o[1] = rq_s16(m[1], &c->c1, rq, mode);
        }
    }
}

static void conv_s16_engine(const mf_rt_geom *g, int pkh, int pkw, int psh, int psw,
                            const int16_t *in, const int16_t *w, const int64_t *bias,
                            const mf_rt_requant *rq, int16_t *out, void *scratch)
{
    if (g->oh < pkh || g->ow < pkw || pkh < 1 || pkw < 1 || psh < 1 || psw < 1) return;
    const int poh = (g->oh - pkh) / psh + 1, pow = (g->ow - pkw) / psw + 1;
    const int plain = pkh == 1 && pkw == 1 && psh == 1 && psw == 1;
    const conv_plan p = conv_plan_of(g);
    /* scratch: mf_rt_conv_s16_scratch_bytes, NULL when the kernel is too large to interleave */
    const long positions = plain ? (long)g->oh * (p.ox_hi - p.ox_lo) : (long)poh * pow * pkh * pkw;
    pair_s16 c;
    c.wx = positions >= 3 ? scratch : NULL; /* the same buffer for every pair */
    for (int co = 0; co < g->cout; co += 2) {
        c.two = co + 1 < g->cout;
        c.c0 = mf_rt_chan_setup_s16(bias, co, rq, (int64_t)p.K);
        c.c1 = c.two ? mf_rt_chan_setup_s16(bias, co + 1, rq, (int64_t)p.K) : c.c0;
        c.w0 = w + (size_t)co * p.K;
        c.wst = c.two ? p.K : 0;
        if (c.wx) interleave_s16(c.w0, c.wst, g->kh, p.n, c.wx);
        const int mode = !(c.c0.fast && c.c1.fast) ? RQ_SLOW : rq->relu ? RQ_FAST_RELU : RQ_FAST;
        if (mode == RQ_SLOW) {
            c.c0.init = bias ? bias[co] : 0;
            c.c1.init = bias ? bias[c.two ? co + 1 : co] : 0;
            c.c0.fast = c.c1.fast = 0;
        }
        if (plain)
            conv_s16_pair(g, &p, &c, in, rq, out + co, mode);
        else
            conv_s16_pool_pair(g, &p, &c, pkh, pkw, psh, psw, poh, pow, in, rq, out + co, mode);
    }
}

void mf_rt_conv_s16_opt(const mf_rt_geom *g, const int16_t *in, const int16_t *w,
                        const int64_t *bias, const mf_rt_requant *rq, int16_t *out, void *scratch)
{
    conv_s16_engine(g, 1, 1, 1, 1, in, w, bias, rq, out, scratch);
}

void mf_rt_conv_maxpool_s16_opt(const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh,
                                int pool_sw, const int16_t *in, const int16_t *w,
                                const int64_t *bias, const mf_rt_requant *rq, int16_t *out,
                                void *scratch)
{
    conv_s16_engine(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, rq, out, scratch);
}

/* ======================= dense (int16) =======================
 * out[o] = requant(bias[o] + Σ in[i]·w[o][i]): outputs in pairs sharing every input load
 * (SMLALD, dot_s16_1x2), the conv's requantization
 * (fast when the bound holds, with n_in taps; else the reference's). */
void mf_rt_dense_s16_opt(int n_in, int n_out, const int16_t *in, const int16_t *w,
                         const int64_t *bias, const mf_rt_requant *rq, int16_t *out)
{
    const size_t K = (size_t)(n_in > 0 ? n_in : 0);
    for (int o = 0; o < n_out; o += 2) {
        const int two = o + 1 < n_out;
        mf_rt_chan_s16 c0 = mf_rt_chan_setup_s16(bias, o, rq, (int64_t)K);
        mf_rt_chan_s16 c1 = two ? mf_rt_chan_setup_s16(bias, o + 1, rq, (int64_t)K) : c0;
        if (!c0.fast || !c1.fast) {
            c0.init = bias ? bias[o] : 0, c0.fast = 0;
            c1.init = bias ? bias[two ? o + 1 : o] : 0, c1.fast = 0;
        }
        int64_t a0 = c0.init, a1 = c1.init;
        const int16_t *w0 = w + (size_t)o * K;
        dot_s16_1x2((int)K, in, w0, two ? w0 + K : w0, &a0, &a1);
        out[o] = rq_s16_any(a0, &c0, rq);
        if (two) out[o + 1] = rq_s16_any(a1, &c1, rq);
    }
}

#endif /* MF_RT_OPT_INT */
