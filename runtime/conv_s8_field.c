/* int8 convolution of 1D layers with at most 16 values per receptive field and 4 or more
 * output channels, plain or with a fused 1×2 stride-2 max pool (mf_rt_conv_field<P>_s8,
 * mf_rt_conv_field<P>_maxpool_s8, P = 1..8: one kernel per field size, so a firmware links only
 * the sizes its layers call; the lowering calls them where mf_rt_conv_s8_choose says so): the
 * optimized path (see mf_rt_dsp.h for when it is used). Bit-identical to conv.c's references.
 *
 * On such layers the quad engine of conv_s8_opt.c pays per quad of positions and per channel a
 * fixed cost (lanes in scratch, the channel loop's entry and its K mod 4 step, the accumulator
 * table) that K = 8 or 9 values do not amortise. Here two positions at a time (with the pool:
 * the window's two taps): each field (K ≤ 16 values, read in place or, at the edges, gathered
 * with zeros into 16 bytes on the stack) is split once into P ≤ 8 words of SXTB16 pairs held in
 * registers, and every output channel loads its P pair words of weights once for both positions
 * (split the same way once per call into scratch after its accumulator start: P + 1 words per
 * channel) and runs 2·P SMLAD. P is a constant of each copy of the channel loop (P = 2·⌊K/4⌋ +
 * 0, 1 or 2 for K mod 4 = 0, 1, 2-3: a pair past K meets zero weights); from P = 6 on the two
 * fields' lanes no longer all fit in registers. Sums are exact int32 sums (the quantizer bounds
 * them, conv.c), added in another order than the reference's: integer addition does not care.
 *
 * Requantization: when every channel passes the bound of mf_rt_init_s8 (the usual case) with one
 * shift and ReLU or none, the accumulator starts at bias + 2^(s−1) and ends with one shift and
 * SSAT #8 (USAT #7 with ReLU) in the channel loop; the pool takes the larger of the window's two
 * sums first (requantization is monotonic and one channel has one shift: the maximum the
 * reference takes). Otherwise every channel runs a plain C sum over the stored weights into the
 * reference's mf_rt_requant_s32, a pool's second tap folded in with max.
 * Working memory: the caller's scratch of mf_rt_conv_field_s8_scratch_bytes() ((4·P + 6)·cout
 * bytes: the weights, and the two outputs of an odd last position). `out` may overlap `in`
 * within mf_rt_conv_field_s8_lag (mf_runtime.h): the fast path reads both fields of a pair (or
 * window), into registers or edge buffers, before the pair's first write; the slow path writes
 * each channel of a position after that channel's reads of the position's field and before any
 * read of a later position. Keep both orders: the plan relies on them.
 * Each P: its two channel loops (ReLU or none, about 200 bytes each) beside the driver all sizes
 * share (field_run_s8). The kernels are MF_RT_OUTLINE: inlined into the generated model_run
 * their locals (the layer's constants, the edge buffers) would join its frame, under every
 * other kernel's in the static stack bound. */
#include "mf_rt_dsp.h"

#if defined(MF_RT_OPT_INT)

/* The P pair words of the field at f (4·⌈K/4⌉ bytes readable), in registers l0..l7. */
#define FIELD_LANES(f, l)                                                                          \
    uint32_t l##0, l##1 = 0, l##2 = 0, l##3 = 0, l##4 = 0, l##5 = 0, l##6 = 0, l##7 = 0;           \
    {                                                                                              \
        const uint32_t u0 = mf_ld32(f);                                                            \
        l##0 = mf_sxtb16(u0);                                                                      \
        if (P > 1) l##1 = mf_sxtb16_ror8(u0);                                                      \
        if (P > 2) {                                                                               \
            const uint32_t u1 = mf_ld32(f + 4);                                                    \
            l##2 = mf_sxtb16(u1);                                                                  \
            if (P > 3) l##3 = mf_sxtb16_ror8(u1);                                                  \
        }                                                                                          \
        if (P > 4) {                                                                               \
            const uint32_t u2 = mf_ld32(f + 8);                                                    \
            l##4 = mf_sxtb16(u2);                                                                  \
            if (P > 5) l##5 = mf_sxtb16_ror8(u2);                                                  \
        }                                                                                          \
        if (P > 6) {                                                                               \
            const uint32_t u3 = mf_ld32(f + 12);                                                   \
            l##6 = mf_sxtb16(u3);                                                                  \
            if (P > 7) l##7 = mf_sxtb16_ror8(u3);                                                  \
        }                                                                                          \
    }

/* Sum a += the P pair words l0.. times the channel's weights kw[0..P−1]. */
#define FIELD_SUM(a, l, kw)                                                                        \
    a = mf_smlad(l##0, kw[0], a);                                                                  \
    if (P > 1) a = mf_smlad(l##1, kw[1], a);                                                       \
    if (P > 2) a = mf_smlad(l##2, kw[2], a);                                                       \
    if (P > 3) a = mf_smlad(l##3, kw[3], a);                                                       \
    if (P > 4) a = mf_smlad(l##4, kw[4], a);                                                       \
    if (P > 5) a = mf_smlad(l##5, kw[5], a);                                                       \
    if (P > 6) a = mf_smlad(l##6, kw[6], a);                                                       \
    if (P > 7) a = mf_smlad(l##7, kw[7], a);

/* Every channel of two conv positions (fields f0 and f1; outputs out and out + cout, or with
 * the pool their maximum at out), the channel's weights read once for both; requantized with
 * one shift (ReLU or none) and stored. k: per channel its start and P pair words. */
MF_RT_INLINE void field_out_s8(const int8_t *f0, const int8_t *f1, const uint32_t *k, int8_t *out,
                               int8_t *end, int cout, int shift, const int P, const int relu,
                               const int pool)
{
    FIELD_LANES(f0, x)
    FIELD_LANES(f1, y)
    for (; out != end; out++, k += P + 1) {
        int32_t a = (int32_t)k[0], b = a;
        FIELD_SUM(a, x, (k + 1))
        FIELD_SUM(b, y, (k + 1))
        if (pool) {
            a = a > b ? a : b;
            out[0] = (int8_t)(relu ? mf_usat7(a >> shift) : mf_ssat8(a >> shift));
        } else {
            out[0] = (int8_t)(relu ? mf_usat7(a >> shift) : mf_ssat8(a >> shift));
            out[cout] = (int8_t)(relu ? mf_usat7(b >> shift) : mf_ssat8(b >> shift));
        }
    }
}

/* The layer's constants for the position loop. */
typedef struct {
    const uint32_t *k;
    int shift, cout;
} field_job;

/* One channel loop: every channel of two positions (or one window of two taps). */
typedef void (*field_loop_s8)(const field_job *J, const int8_t *f0, const int8_t *f1, int8_t *out);

/* A field that hangs over the input's edge (or whose word reads would leave it): its taps inside
 * the input, zeros outside, in buf (16 bytes). */
MF_RT_INLINE const int8_t *field_at_s8(const int8_t *in, ptrdiff_t at, ptrdiff_t total,
                                       ptrdiff_t last, int K, int8_t *buf)
{
    if (at >= 0 && at <= last) return in + at;
    for (int i = 0; i < 16; i++) {
        const ptrdiff_t j = at + i;
        buf[i] = i < K && j >= 0 && j < total ? in[j] : 0;
    }
    return buf;
}

/* Any requantization: per channel the sum over the K values of the field at `at`, then the
 * reference's requantization, stored (fold 0) or folded in with max; the weights as stored. */
MF_RT_NOINLINE void field_slow_s8(const mf_rt_geom *g, const int8_t *in, const int8_t *w,
                                  const int32_t *bias, const mf_rt_requant *rq, int8_t *out,
                                  ptrdiff_t total, ptrdiff_t last, ptrdiff_t at, int fold)
{
    const int K = g->kw * g->cin;
    int8_t buf[16];
    const int8_t *f = field_at_s8(in, at, total, last, K, buf);
    for (int c = 0; c < g->cout; c++) {
        int32_t a = bias ? bias[c] : 0;
        for (int i = 0; i < K; i++)
            a += f[i] * w[c * K + i];
        const int8_t o =
            mf_rt_requant_s32(a, rq->shifts ? rq->shifts[c] : rq->shift, rq->relu, rq->rounding);
        out[c] = fold && out[c] > o ? out[c] : o;
    }
}

/* Per channel its start and P pair words of weights (zeros past K) into k; whether the fast
 * requantization holds (one shift, ReLU or none, the bound of mf_rt_init_s8). */
MF_RT_NOINLINE int field_weights_s8(const mf_rt_geom *g, const int8_t *w, const int32_t *bias,
                                    const mf_rt_requant *rq, uint32_t *k, int P)
{
    const int cout = g->cout, K = g->kw * g->cin;
    for (int c = 0; c < cout; c++) {
        const int8_t *wc = w + c * K;
        for (int i = 0; i < P; i += 2) {
            const int n = K - 2 * i; /* values of this group (≥ 1) */
            uint32_t u;
            if (n >= 4) {
                u = mf_ld32(wc + 2 * i);
            } else {
                u = 0;
                for (int b = 0; b < n; b++)
                    u |= (uint32_t)(uint8_t)wc[2 * i + b] << (8 * b);
            }
            k[(P + 1) * c + 1 + i] = mf_sxtb16(u);
            if (i + 1 < P) k[(P + 1) * c + 2 + i] = mf_sxtb16_ror8(u);
        }
    }
    return mf_rt_init_s8(bias, rq, K, cout, (int32_t *)k, P + 1) && !rq->shifts &&
           (rq->relu == 0 || rq->relu == 1);
}

/* The layer (pool: 1×2 windows of stride 2) with the channel loops of its P (plain: ReLU or
 * none); inlined into each P's kernels, so the loops are direct calls (the static stack bound
 * follows no call through a pointer). */
MF_RT_INLINE void field_run_s8(const mf_rt_geom *g, const int8_t *in, const int8_t *w,
                               const int32_t *bias, const mf_rt_requant *rq, int8_t *out,
                               void *scratch, const int pool, const field_loop_s8 plain,
                               const field_loop_s8 relu)
{
    const int cin = g->cin, cout = g->cout, K = g->kw * cin;
    if (cout < 1 || K < 1 || K > 16 || (pool && g->ow < 2)) return;
    const int groups = (K + 3) >> 2, P = 2 * (K >> 2) + ((K & 3) == 0 ? 0 : (K & 3) == 1 ? 1 : 2);
    const ptrdiff_t total = (ptrdiff_t)g->w * cin;
    /* fields at ≤ last lie inside the input with their word reads */
    const ptrdiff_t last = total - (4 * groups > K ? 4 * groups : K);
    uint32_t *k = scratch;
    const int fast = field_weights_s8(g, w, bias, rq, k, P);
    const ptrdiff_t dx = (ptrdiff_t)g->sw * cin;
    const int n = pool ? g->ow / 2 : g->ow; /* windows, or positions */
    if (!fast) {
        for (int i = 0; i < n; i++, out += cout)
            for (int t = 0; t <= pool; t++)
                field_slow_s8(g, in, w, bias, rq, out, total, last,
                              ((ptrdiff_t)(pool + 1) * i + t) * dx - (ptrdiff_t)g->pad_left * cin,
                              t);
        return;
    }
    const field_job J = {k, rq->shift, cout};
    const int r = rq->relu;
    ptrdiff_t at = -(ptrdiff_t)g->pad_left * cin;
    if (pool) {
        for (int i = 0; i < n; i++, out += cout, at += 2 * dx) {
            int8_t b0[16], b1[16];
            const int8_t *f0 = field_at_s8(in, at, total, last, K, b0),
                         *f1 = field_at_s8(in, at + dx, total, last, K, b1);
            if (r)
                relu(&J, f0, f1, out);
            else
                plain(&J, f0, f1, out);
        }
        return;
    }
    for (int px = 0; px < n; px += 2, out += 2 * cout, at += 2 * dx) {
        int8_t b0[16], b1[16];
        const int8_t *f0 = field_at_s8(in, at, total, last, K, b0);
        const int last_one = px + 1 == n; /* an odd last position: both into scratch */
        const int8_t *f1 = last_one ? f0 : field_at_s8(in, at + dx, total, last, K, b1);
        int8_t *o = last_one ? (int8_t *)(k + (P + 1) * cout) : out;
        if (r)
            relu(&J, f0, f1, o);
        else
            plain(&J, f0, f1, o);
        if (last_one)
            for (int c = 0; c < cout; c++)
                out[c] = o[c];
    }
}

/* The channel loops of one P (plain or pooled, ReLU or none). */
#define FIELD_LOOP(name, P, relu, pool)                                                            \
    MF_RT_NOINLINE void name(const field_job *J, const int8_t *f0, const int8_t *f1, int8_t *out)  \
    {                                                                                              \
        _Pragma("GCC diagnostic push")                                                             \
            _Pragma("GCC diagnostic ignored \"-Wunused-but-set-variable\"")                        \
                field_out_s8(f0, f1, J->k, out, out + J->cout, J->cout, J->shift, P, relu, pool);  \
        _Pragma("GCC diagnostic pop")                                                              \
    }
#define FIELD_LOOPS(P)                                                                             \
    FIELD_LOOP(field##P##_two_s8, P, 0, 0)                                                         \
    FIELD_LOOP(field##P##_two_relu_s8, P, 1, 0)                                                    \
    FIELD_LOOP(field##P##_max_s8, P, 0, 1)                                                         \
    FIELD_LOOP(field##P##_max_relu_s8, P, 1, 1)

/* The kernels, written out one by one (deploy finds a kernel's file by its definition,
 * deploy/runtime_files.c). */

FIELD_LOOPS(1)

MF_RT_OUTLINE void mf_rt_conv_field1_s8_opt(MF_RT_CONV_S8_PARAMS)
{
    if (mf_rt_conv_field_s8_p(g, 1, 1, 1, 1) == 1)
        field_run_s8(g, in, w, bias, rq, out, scratch, 0, field1_two_s8, field1_two_relu_s8);
}

MF_RT_OUTLINE void mf_rt_conv_field1_maxpool_s8_opt(MF_RT_CONV_MAXPOOL_S8_PARAMS)
{
    if (mf_rt_conv_field_s8_p(conv, pool_kh, pool_kw, pool_sh, pool_sw) == 1)
        field_run_s8(conv, in, w, bias, rq, out, scratch, 1, field1_max_s8, field1_max_relu_s8);
}

FIELD_LOOPS(2)

MF_RT_OUTLINE void mf_rt_conv_field2_s8_opt(MF_RT_CONV_S8_PARAMS)
{
    if (mf_rt_conv_field_s8_p(g, 1, 1, 1, 1) == 2)
        field_run_s8(g, in, w, bias, rq, out, scratch, 0, field2_two_s8, field2_two_relu_s8);
}

MF_RT_OUTLINE void mf_rt_conv_field2_maxpool_s8_opt(MF_RT_CONV_MAXPOOL_S8_PARAMS)
{
    if (mf_rt_conv_field_s8_p(conv, pool_kh, pool_kw, pool_sh, pool_sw) == 2)
        field_run_s8(conv, in, w, bias, rq, out, scratch, 1, field2_max_s8, field2_max_relu_s8);
}

FIELD_LOOPS(3)

MF_RT_OUTLINE void mf_rt_conv_field3_s8_opt(MF_RT_CONV_S8_PARAMS)
{
    if (mf_rt_conv_field_s8_p(g, 1, 1, 1, 1) == 3)
        field_run_s8(g, in, w, bias, rq, out, scratch, 0, field3_two_s8, field3_two_relu_s8);
}

MF_RT_OUTLINE void mf_rt_conv_field3_maxpool_s8_opt(MF_RT_CONV_MAXPOOL_S8_PARAMS)
{
    if (mf_rt_conv_field_s8_p(conv, pool_kh, pool_kw, pool_sh, pool_sw) == 3)
        field_run_s8(conv, in, w, bias, rq, out, scratch, 1, field3_max_s8, field3_max_relu_s8);
}

FIELD_LOOPS(4)

MF_RT_OUTLINE void mf_rt_conv_field4_s8_opt(MF_RT_CONV_S8_PARAMS)
{
    if (mf_rt_conv_field_s8_p(g, 1, 1, 1, 1) == 4)
        field_run_s8(g, in, w, bias, rq, out, scratch, 0, field4_two_s8, field4_two_relu_s8);
}

MF_RT_OUTLINE void mf_rt_conv_field4_maxpool_s8_opt(MF_RT_CONV_MAXPOOL_S8_PARAMS)
{
    if (mf_rt_conv_field_s8_p(conv, pool_kh, pool_kw, pool_sh, pool_sw) == 4)
        field_run_s8(conv, in, w, bias, rq, out, scratch, 1, field4_max_s8, field4_max_relu_s8);
}

FIELD_LOOPS(5)

MF_RT_OUTLINE void mf_rt_conv_field5_s8_opt(MF_RT_CONV_S8_PARAMS)
{
    if (mf_rt_conv_field_s8_p(g, 1, 1, 1, 1) == 5)
        field_run_s8(g, in, w, bias, rq, out, scratch, 0, field5_two_s8, field5_two_relu_s8);
}

MF_RT_OUTLINE void mf_rt_conv_field5_maxpool_s8_opt(MF_RT_CONV_MAXPOOL_S8_PARAMS)
{
    if (mf_rt_conv_field_s8_p(conv, pool_kh, pool_kw, pool_sh, pool_sw) == 5)
        field_run_s8(conv, in, w, bias, rq, out, scratch, 1, field5_max_s8, field5_max_relu_s8);
}

FIELD_LOOPS(6)

MF_RT_OUTLINE void mf_rt_conv_field6_s8_opt(MF_RT_CONV_S8_PARAMS)
{
    if (mf_rt_conv_field_s8_p(g, 1, 1, 1, 1) == 6)
        field_run_s8(g, in, w, bias, rq, out, scratch, 0, field6_two_s8, field6_two_relu_s8);
}

MF_RT_OUTLINE void mf_rt_conv_field6_maxpool_s8_opt(MF_RT_CONV_MAXPOOL_S8_PARAMS)
{
    if (mf_rt_conv_field_s8_p(conv, pool_kh, pool_kw, pool_sh, pool_sw) == 6)
        field_run_s8(conv, in, w, bias, rq, out, scratch, 1, field6_max_s8, field6_max_relu_s8);
}

FIELD_LOOPS(7)

MF_RT_OUTLINE void mf_rt_conv_field7_s8_opt(MF_RT_CONV_S8_PARAMS)
{
    if (mf_rt_conv_field_s8_p(g, 1, 1, 1, 1) == 7)
        field_run_s8(g, in, w, bias, rq, out, scratch, 0, field7_two_s8, field7_two_relu_s8);
}

MF_RT_OUTLINE void mf_rt_conv_field7_maxpool_s8_opt(MF_RT_CONV_MAXPOOL_S8_PARAMS)
{
    if (mf_rt_conv_field_s8_p(conv, pool_kh, pool_kw, pool_sh, pool_sw) == 7)
        field_run_s8(conv, in, w, bias, rq, out, scratch, 1, field7_max_s8, field7_max_relu_s8);
}

FIELD_LOOPS(8)

MF_RT_OUTLINE void mf_rt_conv_field8_s8_opt(MF_RT_CONV_S8_PARAMS)
{
    if (mf_rt_conv_field_s8_p(g, 1, 1, 1, 1) == 8)
        field_run_s8(g, in, w, bias, rq, out, scratch, 0, field8_two_s8, field8_two_relu_s8);
}

MF_RT_OUTLINE void mf_rt_conv_field8_maxpool_s8_opt(MF_RT_CONV_MAXPOOL_S8_PARAMS)
{
    if (mf_rt_conv_field_s8_p(conv, pool_kh, pool_kw, pool_sh, pool_sw) == 8)
        field_run_s8(conv, in, w, bias, rq, out, scratch, 1, field8_max_s8, field8_max_relu_s8);
}

#endif /* MF_RT_OPT_INT */
