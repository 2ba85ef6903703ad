/* Adds of 3 or 4 inputs (DESIGN.md §13, "Add with n inputs"), portable C on every platform; two
 * inputs run add.c's kernels (mf_rt_add_*).
 *
 *   int8 / int16: every input aligned to the finest format by an exact left shift (align ≥ 0)
 *                 in the accumulator type (int32 / int64), the k values summed, then ONE
 *                 requantization with rq (per tensor: rq->shifts is ignored; relu 0 or 1):
 *                 out[i] = requant(a[i]·2^la + b[i]·2^lb + c[i]·2^lc (+ d[i]·2^ld)).
 *                 The caller keeps the sum inside the accumulator: align ≤ 22 (int8), ≤ 46
 *                 (int16) for 3 or 4 inputs.
 *   float:        out[i] = ((a[i] + b[i]) + c[i]) (+ d[i]), one rounding per addition, then
 *                 relu → v < 0 ? 0 : v (the order of core's add layer).
 * k is 3 or 4; with 3, d is not read (it may be NULL). n elements; out may be any input (each
 * element is read before it is written). The ReLU6 forms follow relu6.c's rule: the kernel with
 * a plain ReLU, then the clamp at q6 (rq->relu = MF_RT_RELU6(q6); float at 6). */
#include "mf_runtime.h"

void mf_rt_addn_f32(size_t n, int k, const float *a, const float *b, const float *c, const float *d,
                    int relu, float *out)
{
    for (size_t i = 0; i < n; i++) {
        float v = a[i] + b[i];
        v = v + c[i];
        if (k > 3) v = v + d[i];
        out[i] = relu && v < 0.0f ? 0.0f : v;
    }
}

void mf_rt_addn_s16(size_t n, int k, const int16_t *a, int la, const int16_t *b, int lb,
                    const int16_t *c, int lc, const int16_t *d, int ld, const mf_rt_requant *rq,
                    int16_t *out)
{
    const int64_t ma = (int64_t)1 << la, mb = (int64_t)1 << lb, mc = (int64_t)1 << lc;
    const int64_t md = k > 3 ? (int64_t)1 << ld : 0;
    for (size_t i = 0; i < n; i++) {
        int64_t acc = a[i] * ma + b[i] * mb + c[i] * mc;
        if (k > 3) acc += d[i] * md;
        out[i] = mf_rt_requant_s64(acc, rq->shift, rq->relu != 0, rq->rounding);
    }
}

void mf_rt_addn_s8(size_t n, int k, const int8_t *a, int la, const int8_t *b, int lb,
                   const int8_t *c, int lc, const int8_t *d, int ld, const mf_rt_requant *rq,
                   int8_t *out)
{
    const int32_t ma = (int32_t)1 << la, mb = (int32_t)1 << lb, mc = (int32_t)1 << lc;
    const int32_t md = k > 3 ? (int32_t)1 << ld : 0;
    for (size_t i = 0; i < n; i++) {
        int32_t acc = a[i] * ma + b[i] * mb + c[i] * mc;
        if (k > 3) acc += d[i] * md;
        out[i] = mf_rt_requant_s32(acc, rq->shift, rq->relu != 0, rq->rounding);
    }
}

/* ---- the ReLU6 forms ---- */

void mf_rt_addn_relu6_f32(size_t n, int k, const float *a, const float *b, const float *c,
                          const float *d, int relu, float *out)
{
    (void)relu;
    mf_rt_addn_f32(n, k, a, b, c, d, 1, out);
    for (size_t i = 0; i < n; i++)
        out[i] = out[i] > 6.0f ? 6.0f : out[i];
}

void mf_rt_addn_relu6_s16(size_t n, int k, const int16_t *a, int la, const int16_t *b, int lb,
                          const int16_t *c, int lc, const int16_t *d, int ld,
                          const mf_rt_requant *rq, int16_t *out)
{
    mf_rt_addn_s16(n, k, a, la, b, lb, c, lc, d, ld, rq, out);
    const int q6 = rq->relu >= 2 ? rq->relu - 2 : INT16_MAX;
    const int16_t hi = (int16_t)(q6 < INT16_MAX ? q6 : INT16_MAX);
    for (size_t i = 0; i < n; i++)
        out[i] = out[i] > hi ? hi : out[i];
}

void mf_rt_addn_relu6_s8(size_t n, int k, const int8_t *a, int la, const int8_t *b, int lb,
                         const int8_t *c, int lc, const int8_t *d, int ld, const mf_rt_requant *rq,
                         int8_t *out)
{
    mf_rt_addn_s8(n, k, a, la, b, lb, c, lc, d, ld, rq, out);
    const int q6 = rq->relu >= 2 ? rq->relu - 2 : INT8_MAX;
    const int8_t hi = (int8_t)(q6 < INT8_MAX ? q6 : INT8_MAX);
    for (size_t i = 0; i < n; i++)
        out[i] = out[i] > hi ? hi : out[i];
}
