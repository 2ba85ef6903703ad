/* Element-wise kernels: standalone ReLU and format conversion, portable C reference path.
 *
 *   relu:    out[i] = in[i] < 0 ? 0 : in[i]  (float: −0.0f and NaN pass through unchanged, as
 *            in every fused float ReLU of the runtime)
 *   rescale: out[i] = mf_rt_requant_s32/_s64(in[i], shift, 0, rounding), shift = n_in − n_out:
 *            a right shift with the rounding mode or a saturating left shift, no ReLU.
 * `out` may equal `in` (in place); no other overlap. */
#include "mf_runtime.h"

void mf_rt_relu_f32(size_t n, const float *in, float *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = in[i] < 0.0f ? 0.0f : in[i];
}

void mf_rt_relu_s16(size_t n, const int16_t *in, int16_t *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = in[i] < 0 ? 0 : in[i];
}

void mf_rt_relu_s8(size_t n, const int8_t *in, int8_t *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = in[i] < 0 ? 0 : in[i];
}

void mf_rt_rescale_s16(size_t n, const int16_t *in, int shift, int rounding, int16_t *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = mf_rt_requant_s64(in[i], shift, 0, rounding);
}

void mf_rt_rescale_s8(size_t n, const int8_t *in, int shift, int rounding, int8_t *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = mf_rt_requant_s32(in[i], shift, 0, rounding);
}
