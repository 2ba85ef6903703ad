/* Per-channel affine (a batch-norm that cannot fold into the layer before it; DESIGN.md §13),
 * portable C on every platform. `positions` rows of `channels` values (channels-last):
 *   int8 / int16: out[p][c] = requant(b[c] + in[p][c]·a[c]) in the accumulator type (int32 /
 *                 int64), a at its channel's format n_a,c, b at n_in + n_a,c, requantized with
 *                 the per-channel shifts of rq (n_in + n_a,c − n_out; rq->shift when shifts is
 *                 NULL), relu 0 or 1;
 *   float:        out[p][c] = b[c] + in[p][c]·a[c] (the bias first, one rounding each).
 * out may equal in (each value is read before it is written). */
#include "mf_runtime.h"

void mf_rt_affine_f32(int positions, int channels, const float *in, const float *a, const float *b,
                      float *out)
{
    for (int p = 0; p < positions; p++)
        for (int c = 0; c < channels; c++) {
            const size_t i = (size_t)p * channels + c;
            float acc = b ? b[c] : 0.0f;
            acc += in[i] * a[c];
            out[i] = acc;
        }
}

void mf_rt_affine_s16(int positions, int channels, const int16_t *in, const int16_t *a,
                      const int64_t *b, const mf_rt_requant *rq, int16_t *out)
{
    for (int p = 0; p < positions; p++)
        for (int c = 0; c < channels; c++) {
            const size_t i = (size_t)p * channels + c;
            const int64_t acc = (b ? b[c] : 0) + (int64_t)in[i] * a[c];
            out[i] = mf_rt_requant_s64(acc, rq->shifts ? rq->shifts[c] : rq->shift, rq->relu != 0,
                                       rq->rounding);
        }
}

void mf_rt_affine_s8(int positions, int channels, const int8_t *in, const int8_t *a,
                     const int32_t *b, const mf_rt_requant *rq, int8_t *out)
{
    for (int p = 0; p < positions; p++)
        for (int c = 0; c < channels; c++) {
            const size_t i = (size_t)p * channels + c;
            const int32_t acc = (b ? b[c] : 0) + (int32_t)in[i] * a[c];
            out[i] = mf_rt_requant_s32(acc, rq->shifts ? rq->shifts[c] : rq->shift, rq->relu != 0,
                                       rq->rounding);
        }
}
