/* int8 convolution (and fused max pool) on pruned weights: mf_rt_conv_sparse_s8 and
 * mf_rt_conv_sparse_maxpool_s8 (mf_runtime.h). One C path for host and target.
 *
 * The conv positions of the output are walked window by window (a plain conv: windows of one
 * tap), each window's taps in a row, four positions at a time. For each output channel, its
 * nonzero weights are walked once per four positions: per weight a halfword offset into the
 * receptive field (as the field lies in the input: ky·w·cin + kx·cin + ci, so a field inside the
 * input is read in place), the weight, and for each position a byte of input and a multiply-add. A
 * field that leaves the input is first gathered into scratch with the same row stride, zeros
 * outside. Sums are exact int32 sums (the same as the dense kernel's, in another order); each conv
 * output is requantized as the reference does, and a window's later taps fold in with max (pool
 * windows of a fused call do not overlap; overlapping ones would only be computed twice). */
#include "mf_rt_dsp.h"
#include "mf_runtime.h"

/* The field of the conv output whose first tap is input (iy0, ix0): in place, or gathered into
 * buf (rows `row` bytes apart, its kw·cin bytes of each row written, zeros outside the input). */
__attribute__((noinline)) static const int8_t *field_sparse(const mf_rt_geom *g, const int8_t *in,
                                                            int iy0, int ix0, int8_t *buf)
{
    const int cin = g->cin;
    const long row = (long)g->w * cin;
    if (iy0 >= 0 && iy0 + g->kh <= g->h && ix0 >= 0 && ix0 + g->kw <= g->w)
        return in + (long)iy0 * row + (long)ix0 * cin;
    for (int ky = 0; ky < g->kh; ky++) {
        int8_t *d = buf + (long)ky * row;
        const int iy = iy0 + ky;
        for (int kx = 0; kx < g->kw; kx++) {
            const int ix = ix0 + kx;
            const int inside = iy >= 0 && iy < g->h && ix >= 0 && ix < g->w;
            const int8_t *s = inside ? in + (long)iy * row + (long)ix * cin : NULL;
            for (int ci = 0; ci < cin; ci++)
                d[kx * cin + ci] = inside ? s[ci] : 0;
        }
    }
    return buf;
}

/* Stores (or folds with max) requantized value v of channel c into out. */
static inline void put_sparse(int8_t *out, int fold, int8_t v)
{
    *out = fold && *out > v ? *out : v;
}

/* Four conv positions: their fields, outputs (channel 0) and fold flags; kept in scratch after
 * the gathered fields, as what the quads share (the runtime's -Wstack-usage bound, also in
 * unoptimized sanitizer builds, leaves no room for them in the frame). */
typedef struct {
    const int8_t *f[4];
    int8_t *o[4];
    int fold[4];
} sparse_quad;

/* What the quads of one call share. */
typedef struct {
    const mf_rt_geom *g;
    const uint16_t *idx;
    const int8_t *w;
    const int32_t *start; /* per channel its accumulator start (mf_rt_init_s8) */
    const mf_rt_requant *rq;
    int fast; /* every channel ends in a shift and a saturation */
} sparse_layer;

/* The first np (1 to 4) positions of q. Missing positions repeat the first (computed, not
 * stored). */
#if defined(MF_RT_OPT_INT)
/* Which windows q's four positions make (quad_sparse): 1, four windows of one tap (a plain
 * conv); 2, two of two taps (fold 0 1 0 1); 4, one of four (fold 0 1 1 1); 0, anything else. */
__attribute__((noinline)) static int whole_sparse(const sparse_quad *q, int np)
{
    if (np != 4) return 0;
    const int fl = q->fold[0] | q->fold[1] << 1 | q->fold[2] << 2 | q->fold[3] << 3;
    int8_t *const *o = q->o;
    if (fl == 0) return 1;
    if (fl == 0xA && o[0] == o[1] && o[2] == o[3]) return 2;
    if (fl == 0xE && o[0] == o[1] && o[0] == o[2] && o[0] == o[3]) return 4;
    return 0;
}
#endif

/* Channel c's sums over q's four fields: start + per nonzero weight (its offset, the weight)
 * four multiply-adds; idx and w advance past the channel. */
#define SUMS_SPARSE(c)                                                                             \
    int n = *idx++;                                                                                \
    int32_t a0 = L->start[c], a1 = a0, a2 = a0, a3 = a0;                                           \
    for (; n > 0; n--) {                                                                           \
        const int k = *idx++;                                                                      \
        const int32_t wk = *w++;                                                                   \
        a0 += wk * f0[k];                                                                          \
        a1 += wk * f1[k];                                                                          \
        a2 += wk * f2[k];                                                                          \
        a3 += wk * f3[k];                                                                          \
    }

/* Every channel over q's first np positions (missing positions repeat the first: computed, not
 * stored), each requantized and stored, or folded in with max (a pool window's later taps). */
__attribute__((noinline)) static void quad_sparse_any(const sparse_layer *L, const sparse_quad *q,
                                                      int np)
{
    const int8_t *f0 = q->f[0], *f1 = q->f[np > 1 ? 1 : 0], *f2 = q->f[np > 2 ? 2 : 0],
                 *f3 = q->f[np > 3 ? 3 : 0];
    const uint16_t *idx = L->idx;
    const int8_t *w = L->w;
    const mf_rt_requant *rq = L->rq;
    for (int c = 0; c < L->g->cout; c++) {
        SUMS_SPARSE(c)
        const int shift = rq->shifts ? rq->shifts[c] : rq->shift;
        for (int e = 0; e < np; e++) {
            const int32_t ae = e == 0 ? a0 : e == 1 ? a1 : e == 2 ? a2 : a3;
            int8_t v;
#if defined(MF_RT_OPT_INT)
            if (L->fast)
                v = (int8_t)(rq->relu ? mf_usat7(ae >> shift) : mf_ssat8(ae >> shift));
            else
#endif
                v = mf_rt_requant_s32(ae, shift, rq->relu, rq->rounding);
            put_sparse(q->o[e] + c, q->fold[e], v);
        }
    }
}

#if defined(MF_RT_OPT_INT)
/* The same for four positions that make whole windows (whole_sparse: 1, 2 or 4 taps each) with
 * the fast requantization: one requantization per window, of the maximum of its taps' sums
 * (monotonic), stored directly. */
__attribute__((noinline)) static void quad_sparse_whole(const sparse_layer *L, const sparse_quad *q,
                                                        int taps)
{
    const int8_t *f0 = q->f[0], *f1 = q->f[1], *f2 = q->f[2], *f3 = q->f[3];
    int8_t *o0 = q->o[0], *o1 = q->o[1], *o2 = q->o[2], *o3 = q->o[3];
    const uint16_t *idx = L->idx;
    const int8_t *w = L->w;
    const int8_t *shifts = L->rq->shifts;
    const int shift0 = L->rq->shift, cout = L->g->cout, relu = L->rq->relu;
#define SAT_SPARSE(v) ((int8_t)(relu ? mf_usat7((v) >> shift) : mf_ssat8((v) >> shift)))
    for (int c = 0; c < cout; c++) {
        SUMS_SPARSE(c)
        const int shift = shifts ? shifts[c] : shift0;
        if (taps == 1) {
            o0[c] = SAT_SPARSE(a0), o1[c] = SAT_SPARSE(a1);
            o2[c] = SAT_SPARSE(a2), o3[c] = SAT_SPARSE(a3);
        } else if (taps == 2) {
            o0[c] = SAT_SPARSE(a1 > a0 ? a1 : a0), o2[c] = SAT_SPARSE(a3 > a2 ? a3 : a2);
        } else {
            int32_t m = a1 > a0 ? a1 : a0;
            m = a2 > m ? a2 : m;
            o0[c] = SAT_SPARSE(a3 > m ? a3 : m);
        }
    }
#undef SAT_SPARSE
}
#endif

/* q's first np positions, through quad_sparse_whole where they make whole windows. */
static void quad_sparse(const sparse_layer *L, const sparse_quad *q, int np)
{
#if defined(MF_RT_OPT_INT)
    const int taps = L->fast ? whole_sparse(q, np) : 0;
    if (taps) {
        quad_sparse_whole(L, q, taps);
        return;
    }
#endif
    quad_sparse_any(L, q, np);
}

void mf_rt_conv_sparse_maxpool_s8(const mf_rt_geom *g, int pool_kh, int pool_kw, int pool_sh,
                                  int pool_sw, const int8_t *in, const uint16_t *idx,
                                  const int8_t *w, const int32_t *bias, const mf_rt_requant *rq,
                                  int8_t *out, void *scratch)
{
    if (!mf_rt_conv_sparse_s8_covers(g) || pool_kh < 1 || pool_kw < 1 || pool_sh < 1 ||
        pool_sw < 1 || pool_kh > g->oh || pool_kw > g->ow)
        return; /* outside the documented preconditions: no output */
    const int poh = (g->oh - pool_kh) / pool_sh + 1, pow = (g->ow - pool_kw) / pool_sw + 1;
    const long field = ((long)(g->kh - 1) * g->w * g->cin + (long)g->kw * g->cin + 3) & ~3L;
    /* scratch (mf_rt_conv_sparse_s8_scratch_bytes): 4 fields, the quad, the starts */
    sparse_quad *q = (sparse_quad *)((int8_t *)scratch + 4 * field);
    sparse_layer *L = (sparse_layer *)(q + 1);
    int32_t *start = (int32_t *)(L + 1);
    *L = (sparse_layer){g, idx, w, start, rq, 0};
#if defined(MF_RT_OPT_INT)
    L->fast = mf_rt_init_s8(bias, rq, g->kh * g->kw * g->cin, g->cout, start, 1);
#else
    for (int c = 0; c < g->cout; c++)
        start[c] = bias ? bias[c] : 0;
#endif
    int np = 0;
    for (int py = 0; py < poh; py++)
        for (int px = 0; px < pow; px++)
            for (int t = 0; t < pool_kh * pool_kw; t++) {
                const int oy = py * pool_sh + t / pool_kw, ox = px * pool_sw + t % pool_kw;
                q->f[np] = field_sparse(g, in, oy * g->sh - g->pad_top, ox * g->sw - g->pad_left,
                                        (int8_t *)scratch + np * field);
                q->o[np] = out + ((long)py * pow + px) * g->cout;
                q->fold[np] = t > 0;
                if (++np == 4) quad_sparse(L, q, 4), np = 0;
            }
    if (np) quad_sparse(L, q, np);
}

void mf_rt_conv_sparse_s8(const mf_rt_geom *g, const int8_t *in, const uint16_t *idx,
                          const int8_t *w, const int32_t *bias, const mf_rt_requant *rq,
                          int8_t *out, void *scratch)
{
    mf_rt_conv_sparse_maxpool_s8(g, 1, 1, 1, 1, in, idx, w, bias, rq, out, scratch);
}

int mf_rt_conv_sparse_s8_covers(const mf_rt_geom *g)
{
    /* a kernel row fits an input row (else field offsets of two rows would coincide), the last
     * offset fits a halfword, and so does a channel's count (at most K) */
    return g->kw <= g->w && (long)(g->kh - 1) * g->w * g->cin + (long)g->kw * g->cin <= 65536 &&
           (long)g->kh * g->kw * g->cin <= 65535;
}

size_t mf_rt_conv_sparse_s8_scratch_bytes(const mf_rt_geom *g)
{
    /* four gathered fields, each (kh − 1) input rows and kw·cin bytes, rounded to words, then
     * the four positions' pointers and flags (sized on the platform that asks: a host's 8-byte
     * pointers overstate a firmware's need), what the quads share, then a start per output
     * channel */
    const size_t field =
        ((size_t)(g->kh - 1) * (size_t)g->w * (size_t)g->cin + (size_t)g->kw * (size_t)g->cin + 3) &
        ~(size_t)3;
    return (4 * field + sizeof(sparse_quad) + sizeof(sparse_layer) + 4 * (size_t)g->cout + 7) &
           ~(size_t)7;
}
