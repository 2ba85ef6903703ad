/* Standalone ReLU and rescale, optimized paths (mf_rt_dsp.h). Bit-identical to elementwise.c's
 * reference.
 *   relu, int8: 4 values per word, SSUB8 + SEL against 0 (lane-wise maximum); int16: 2 values
 *     per word with SSUB16 + SEL; float: unchanged (v < 0 ? 0 : v keeps −0.0 and NaN).
 *   rescale: shift s in [0, 31]: SSAT((x + rc) >> s), rc = 2^(s−1) for half-up (0 for floor or
 *     s = 0), exact since |x| + rc < 2^31; s < 0 with |x|·2^(−s) < 2^31 (int8: −s ≤ 23, int16:
 *     −s ≤ 15): SSAT(x·2^(−s)), the saturating left shift; any other shift: the reference's
 *     mf_rt_requant_s32/_s64.
 * In place allowed (out == in). */
#include "mf_rt_dsp.h"

#if defined(MF_RT_OPT_INT)

void mf_rt_relu_s8_opt(size_t n, const int8_t *in, int8_t *out)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        mf_st32(out + i, mf_max_s8x4(mf_ld32(in + i), 0));
    for (; i < n; i++)
        out[i] = in[i] < 0 ? 0 : in[i];
}

void mf_rt_relu_s16_opt(size_t n, const int16_t *in, int16_t *out)
{
    size_t i = 0;
    for (; i + 2 <= n; i += 2)
        mf_st32(out + i, mf_max_s16x2(mf_ld32(in + i), 0));
    for (; i < n; i++)
        out[i] = in[i] < 0 ? 0 : in[i];
}

void mf_rt_rescale_s16_opt(size_t n, const int16_t *in, int shift, int rounding, int16_t *out)
{
    if (shift >= 0 && shift <= 31) {
        const int32_t rc =
            rounding == MF_RT_ROUND_HALF_UP && shift > 0 ? (int32_t)1 << (shift - 1) : 0;
        for (size_t i = 0; i < n; i++)
            out[i] = (int16_t)mf_ssat16((in[i] + rc) >> shift);
    } else if (shift < 0 && shift >= -15) {
        const int32_t m = (int32_t)1 << -shift;
        for (size_t i = 0; i < n; i++)
            out[i] = (int16_t)mf_ssat16(in[i] * m);
    } else {
        for (size_t i = 0; i < n; i++)
            out[i] = mf_rt_requant_s64(in[i], shift, 0, rounding);
    }
}

void mf_rt_rescale_s8_opt(size_t n, const int8_t *in, int shift, int rounding, int8_t *out)
{
    if (shift >= 0 && shift <= 31) {
        const int32_t rc =
            rounding == MF_RT_ROUND_HALF_UP && shift > 0 ? (int32_t)1 << (shift - 1) : 0;
        for (size_t i = 0; i < n; i++)
            out[i] = (int8_t)mf_ssat8((in[i] + rc) >> shift);
    } else if (shift < 0 && shift >= -23) {
        const int32_t m = (int32_t)1 << -shift;
        for (size_t i = 0; i < n; i++)
            out[i] = (int8_t)mf_ssat8(in[i] * m);
    } else {
        for (size_t i = 0; i < n; i++)
            out[i] = mf_rt_requant_s32(in[i], shift, 0, rounding);
    }
}

#endif /* MF_RT_OPT_INT */

#if defined(MF_RT_OPT_F32)
void mf_rt_relu_f32_opt(size_t n, const float *in, float *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = in[i] < 0.0f ? 0.0f : in[i];
}
#endif
