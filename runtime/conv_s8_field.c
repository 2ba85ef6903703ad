/* int8 convolution of 1D layers with at most 16 values per receptive field and 4 or more
 * output channels, without pool (mf_rt_conv_field_s8; the small-geometry kernels of
 * conv_s8_small.c call it where mf_rt_conv_field_s8_covers says so): the optimized path (see
 * mf_rt_dsp.h for when it is used). Bit-identical to conv.c's references.
 *
 * On such layers the quad engine of conv_s8_opt.c pays per quad of positions and per channel a
 * fixed cost (lanes in scratch, the channel loop's entry and its K mod 4 step, the accumulator
 * table) that K = 8 or 9 values do not amortise. Here two positions at a time: each field (K ≤
 * 16 values, read in place or, at the edges, gathered with zeros into 16 bytes on the stack) is
 * split once into P ≤ 8 words of SXTB16 pairs held in registers, and every output channel loads
 * its P pair words of weights once for both positions (split the same way once per call into
 * scratch after its accumulator start: P + 1 words per channel) and runs 2·P SMLAD. P is a
 * constant of each copy of the channel loop (P = 2·⌊K/4⌋ + 0, 1 or 2 for K mod 4 = 0, 1, 2-3: a
 * pair past K meets zero weights); from P = 6 on the two fields' lanes no longer all fit in
 * registers. Sums are exact int32 sums (the quantizer bounds them, conv.c), added in another
 * order than the reference's: integer addition does not care.
 *
 * Requantization: when every channel passes the bound of mf_rt_init_s8 (the usual case) with one
 * shift and ReLU or none, the accumulator starts at bias + 2^(s−1) and ends with one shift and
 * SSAT #8 (USAT #7 with ReLU) in the channel loop; otherwise every channel runs a plain C sum
 * over the stored weights into the reference's mf_rt_requant_s32.
 * Working memory: the caller's scratch of mf_rt_conv_small_s8_scratch_bytes() (for these
 * geometries (4·P + 6)·cout bytes: the weights, and the two outputs of an odd last position).
 * `out` must not alias `in`. About 4 KB of code (4 copies per P of the channel loop), linked only
 * by a firmware that has such a layer. */
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

/* Every channel of two conv positions (fields f0 and f1; outputs out and out + cout), the
 * channel's weights read once for both; requantized with one shift (ReLU or none) and stored.
 * k: per channel its start and P pair words. */
MF_RT_INLINE void field_out_s8(const int8_t *f0, const int8_t *f1, const uint32_t *k, int8_t *out,
                               int8_t *end, int cout, int shift, const int P, const int relu)
{
    FIELD_LANES(f0, x)
    FIELD_LANES(f1, y)
    for (; out != end; out++, k += P + 1) {
        int32_t a = (int32_t)k[0], b = a;
        FIELD_SUM(a, x, (k + 1))
        FIELD_SUM(b, y, (k + 1))
        out[0] = (int8_t)(relu ? mf_usat7(a >> shift) : mf_ssat8(a >> shift));
        out[cout] = (int8_t)(relu ? mf_usat7(b >> shift) : mf_ssat8(b >> shift));
    }
}

/* One copy per P = 1..8 (a constant: the lanes stay in registers). */
#define FIELD_CASES(CALL)                                                                          \
    switch (P) {                                                                                   \
    case 1:                                                                                        \
        CALL(1);                                                                                   \
        break;                                                                                     \
    case 2:                                                                                        \
        CALL(2);                                                                                   \
        break;                                                                                     \
    case 3:                                                                                        \
        CALL(3);                                                                                   \
        break;                                                                                     \
    case 4:                                                                                        \
        CALL(4);                                                                                   \
        break;                                                                                     \
    case 5:                                                                                        \
        CALL(5);                                                                                   \
        break;                                                                                     \
    case 6:                                                                                        \
        CALL(6);                                                                                   \
        break;                                                                                     \
    case 7:                                                                                        \
        CALL(7);                                                                                   \
        break;                                                                                     \
    default:                                                                                       \
        CALL(8);                                                                                   \
        break;                                                                                     \
    }

/* The layer's constants for the position loop. */
typedef struct {
    const uint32_t *k;
    int shift, P, cout;
} field_job;

#define FIELD_FN(name)                                                                             \
    MF_RT_NOINLINE void name(const field_job *J, const int8_t *f0, const int8_t *f1, int8_t *out)  \
    {                                                                                              \
        const int P = J->P, cout = J->cout, shift = J->shift;                                      \
        const uint32_t *k = J->k;                                                                  \
        int8_t *end = out + cout;                                                                  \
        _Pragma("GCC diagnostic push")                                                             \
            _Pragma("GCC diagnostic ignored \"-Wunused-but-set-variable\"")                        \
                FIELD_CASES(CALL_##name) _Pragma("GCC diagnostic pop")                             \
    }
#define CALL_field_two_s8(p)      field_out_s8(f0, f1, k, out, end, cout, shift, p, 0)
#define CALL_field_two_relu_s8(p) field_out_s8(f0, f1, k, out, end, cout, shift, p, 1)
FIELD_FN(field_two_s8)
FIELD_FN(field_two_relu_s8)

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

/* Any requantization: per channel the sum over the K values, then the reference's
 * requantization; the weights as stored. */
MF_RT_NOINLINE void field_slow_s8(const mf_rt_geom *g, const int8_t *in, const int8_t *w,
                                  const int32_t *bias, const mf_rt_requant *rq, int8_t *out,
                                  ptrdiff_t total, ptrdiff_t last, int px)
{
    const int cin = g->cin, K = g->kw * cin;
    int8_t buf[16];
    const ptrdiff_t at = (ptrdiff_t)(px * g->sw - g->pad_left) * cin;
    const int8_t *f = field_at_s8(in, at, total, last, K, buf);
    for (int c = 0; c < g->cout; c++) {
        int32_t a = bias ? bias[c] : 0;
        for (int i = 0; i < K; i++)
            a += f[i] * w[c * K + i];
        out[c] =
            mf_rt_requant_s32(a, rq->shifts ? rq->shifts[c] : rq->shift, rq->relu, rq->rounding);
    }
}

void mf_rt_conv_field_s8(const mf_rt_geom *g, const int8_t *in, const int8_t *w,
                         const int32_t *bias, const mf_rt_requant *rq, int8_t *out, void *scratch)
{
    const int cin = g->cin, cout = g->cout, K = g->kw * cin;
    if (cout < 1 || K < 1 || K > 16) return;
    const int groups = (K + 3) >> 2, P = 2 * (K >> 2) + ((K & 3) == 0 ? 0 : (K & 3) == 1 ? 1 : 2);
    const ptrdiff_t total = (ptrdiff_t)g->w * cin;
    /* fields at ≤ last lie inside the input with their word reads */
    const ptrdiff_t last = total - (4 * groups > K ? 4 * groups : K);
    /* scratch: per channel its start and P pair words of weights (zeros past K) */
    uint32_t *k = scratch;
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
    const int fast = mf_rt_init_s8(bias, rq, K, cout, (int32_t *)k, P + 1) && !rq->shifts &&
                     (rq->relu == 0 || rq->relu == 1);
    if (!fast) {
        for (int px = 0; px < g->ow; px++, out += cout)
            field_slow_s8(g, in, w, bias, rq, out, total, last, px);
        return;
    }
    const field_job J = {k, rq->shift, P, cout};
    const ptrdiff_t dx = (ptrdiff_t)g->sw * cin;
    ptrdiff_t at = -(ptrdiff_t)g->pad_left * cin;
    int px = 0;
    for (; px < g->ow; px += 2, out += 2 * cout, at += 2 * dx) {
        int8_t b0[16], b1[16];
        const int8_t *f0 = field_at_s8(in, at, total, last, K, b0);
        const int last_one = px + 1 == g->ow; /* an odd last position: both into scratch */
        const int8_t *f1 = last_one ? f0 : field_at_s8(in, at + dx, total, last, K, b1);
        int8_t *o = last_one ? (int8_t *)(k + (P + 1) * cout) : out;
        if (rq->relu)
            field_two_relu_s8(&J, f0, f1, o);
        else
            field_two_s8(&J, f0, f1, o);
        if (last_one)
            for (int c = 0; c < cout; c++)
                out[c] = o[c];
    }
}

#endif /* MF_RT_OPT_INT */
