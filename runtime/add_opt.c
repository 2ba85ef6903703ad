/* Element-wise add, optimized paths (mf_rt_dsp.h). Bit-identical to add.c's reference.
 *
 * int8 / int16: when the aligned sum plus the rounding constant provably fits in int32
 * (int8: 128·(2^align_a + 2^align_b) + 2^(s−1) ≤ 2^31 − 1; int16: the same with 2^15) and the
 * shift s lies in [0, 31], out = SSAT/USAT((a·2^align_a + b·2^align_b + rc) >> s) with
 * rc = 2^(s−1) for half-up (0 for floor or s = 0): the reference's value exactly (see the fast
 * requantization in mf_rt_dsp.h). A negative shift −k (the output keeps more fractional bits
 * than the aligned sum, up to k = 16) is folded into the alignments first: the sum times 2^k,
 * saturated, is the reference's value as long as that product fits in int32.
 * Otherwise the reference's int32 / int64 sum and mf_rt_requant_s32/_s64. float: a + b, ReLU,
 * unchanged. `out` may be `a` or `b`. */
#include "mf_rt_dsp.h"

#if defined(MF_RT_OPT_INT)

static int add_clamp_align(int align, int max)
{
    return align < 0 ? 0 : align > max ? max : align;
}

/* The rounding constant of the fast path, or −1 when the fast path does not apply. A shift −k
 * in [−16, −1] becomes 0 with both multipliers times 2^k. */
static int64_t add_fast_rc(int *shift, int rounding, int64_t *ma, int64_t *mb, int64_t maxabs)
{
    if (*shift < 0 && *shift >= -16 && maxabs * ((*ma + *mb) << -*shift) <= INT32_MAX)
        *ma <<= -*shift, *mb <<= -*shift, *shift = 0;
    const int s = *shift;
    if (s < 0 || s > 31) return -1;
    int64_t rc = rounding == MF_RT_ROUND_HALF_UP && s > 0 ? (int64_t)1 << (s - 1) : 0;
    return maxabs * (*ma + *mb) + rc <= INT32_MAX ? rc : -1;
}

void mf_rt_add_s16_opt(size_t n, const int16_t *a, int align_a, const int16_t *b, int align_b,
                       const mf_rt_requant *rq, int16_t *out)
{
    const int la = add_clamp_align(align_a, 47), lb = add_clamp_align(align_b, 47);
    int64_t ma = (int64_t)1 << la, mb = (int64_t)1 << lb;
    int s = rq->shift;
    const int64_t rc = la <= 16 && lb <= 16 ? add_fast_rc(&s, rq->rounding, &ma, &mb, 32768) : -1;
    if (rc < 0) {
        ma = (int64_t)1 << la, mb = (int64_t)1 << lb;
        for (size_t i = 0; i < n; i++)
            out[i] = mf_rt_requant_s64(a[i] * ma + b[i] * mb, rq->shift, rq->relu, rq->rounding);
        return;
    }
    const int32_t ma32 = (int32_t)ma, mb32 = (int32_t)mb, rc32 = (int32_t)rc;
    if (rq->relu)
        for (size_t i = 0; i < n; i++)
            out[i] = (int16_t)mf_usat15((a[i] * ma32 + b[i] * mb32 + rc32) >> s);
    else
        for (size_t i = 0; i < n; i++)
            out[i] = (int16_t)mf_ssat16((a[i] * ma32 + b[i] * mb32 + rc32) >> s);
}

void mf_rt_add_s8_opt(size_t n, const int8_t *a, int align_a, const int8_t *b, int align_b,
                      const mf_rt_requant *rq, int8_t *out)
{
    const int32_t ma0 = (int32_t)1 << add_clamp_align(align_a, 23);
    const int32_t mb0 = (int32_t)1 << add_clamp_align(align_b, 23);
    int64_t ma64 = ma0, mb64 = mb0;
    int s = rq->shift;
    const int64_t rc = add_fast_rc(&s, rq->rounding, &ma64, &mb64, 128);
    if (rc < 0) {
        for (size_t i = 0; i < n; i++)
            out[i] = mf_rt_requant_s32(a[i] * ma0 + b[i] * mb0, rq->shift, rq->relu, rq->rounding);
        return;
    }
    const int32_t rc32 = (int32_t)rc, ma = (int32_t)ma64, mb = (int32_t)mb64;
    if (rq->relu)
        for (size_t i = 0; i < n; i++)
            out[i] = (int8_t)mf_usat7((a[i] * ma + b[i] * mb + rc32) >> s);
    else
        for (size_t i = 0; i < n; i++)
            out[i] = (int8_t)mf_ssat8((a[i] * ma + b[i] * mb + rc32) >> s);
}

#endif /* MF_RT_OPT_INT */

#if defined(MF_RT_OPT_F32)
void mf_rt_add_f32_opt(size_t n, const float *a, const float *b, int relu, float *out)
{
    if (relu)
        for (size_t i = 0; i < n; i++) {
            float v = a[i] + b[i];
            out[i] = v < 0.0f ? 0.0f : v;
        }
    else
        for (size_t i = 0; i < n; i++)
            out[i] = a[i] + b[i];
}
#endif
