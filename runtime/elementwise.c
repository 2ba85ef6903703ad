/* Element-wise kernels: standalone ReLU and format conversion, portable C reference path.
 *
 *   relu:    out[i] = in[i] < 0 ? 0 : in[i]  (float: −0.0f and NaN pass through unchanged, as
 *            in every fused float ReLU of the runtime)
 *   rescale: out[i] = mf_rt_requant_s32/_s64(in[i], shift, 0, rounding), shift = n_in − n_out:
 *            a right shift with the rounding mode or a saturating left shift, no ReLU.
 * `out` may equal `in` (in place); no other overlap. */
#include "mf_runtime.h"
#include "mf_rt_dsp.h"

void mf_rt_relu_f32_ref(size_t n, const float *in, float *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = in[i] < 0.0f ? 0.0f : in[i];
}

void mf_rt_relu_s16_ref(size_t n, const int16_t *in, int16_t *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = in[i] < 0 ? 0 : in[i];
}

void mf_rt_relu_s8_ref(size_t n, const int8_t *in, int8_t *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = in[i] < 0 ? 0 : in[i];
}

void mf_rt_rescale_s16_ref(size_t n, const int16_t *in, int shift, int rounding, int16_t *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = mf_rt_requant_s64(in[i], shift, 0, rounding);
}

void mf_rt_rescale_s8_ref(size_t n, const int8_t *in, int shift, int rounding, int8_t *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = mf_rt_requant_s32(in[i], shift, 0, rounding);
}

/* ---- dispatch: the optimized path where the core has one (mf_rt_dsp.h), else the reference ----
 */

void mf_rt_relu_f32(size_t n, const float *in, float *out)
{
#if defined(MF_RT_OPT_F32)
    mf_rt_relu_f32_opt(n, in, out);
#else
    mf_rt_relu_f32_ref(n, in, out);
#endif
}

void mf_rt_relu_s16(size_t n, const int16_t *in, int16_t *out)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_relu_s16_opt(n, in, out);
#else
    mf_rt_relu_s16_ref(n, in, out);
#endif
}

void mf_rt_relu_s8(size_t n, const int8_t *in, int8_t *out)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_relu_s8_opt(n, in, out);
#else
    mf_rt_relu_s8_ref(n, in, out);
#endif
}

void mf_rt_rescale_s16(size_t n, const int16_t *in, int shift, int rounding, int16_t *out)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_rescale_s16_opt(n, in, shift, rounding, out);
#else
    mf_rt_rescale_s16_ref(n, in, shift, rounding, out);
#endif
}

void mf_rt_rescale_s8(size_t n, const int8_t *in, int shift, int rounding, int8_t *out)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_rescale_s8_opt(n, in, shift, rounding, out);
#else
    mf_rt_rescale_s8_ref(n, in, shift, rounding, out);
#endif
}
