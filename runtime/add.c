/* Element-wise add of two tensors (residual connections), portable C reference path.
 *
 *   int8:  acc = a[i]·2^align_a + b[i]·2^align_b in int32, out[i] = mf_rt_requant_s32(acc,
 *          rq->shift, rq->relu, rq->rounding)
 *   int16: the same in int64 with mf_rt_requant_s64.
 * align_a = n_fine − n_a and align_b = n_fine − n_b (n_fine = max(n_a, n_b), so one of them is
 * normally 0) make both operands exact integers at n_fine; rq->shift = n_fine − n_out may be
 * negative; rq->shifts is ignored (per tensor only). The alignments must lie in [0, 23] (int8)
 * or [0, 47] (int16), which keeps the aligned sum inside the accumulator; a value outside is
 * clamped into that range, so that the kernel stays free of undefined behaviour, but the result
 * is then meaningless.
 *   float: out[i] = a[i] + b[i], then relu → v < 0 ? 0 : v.
 * `out` may be `a` or `b` (element i is read before it is written); no other overlap. */
#include "mf_runtime.h"
#include "mf_rt_dsp.h"

static int clamp_align(int align, int max)
{
    return align < 0 ? 0 : align > max ? max : align;
}

void mf_rt_add_f32_ref(size_t n, const float *a, const float *b, int relu, float *out)
{
    for (size_t i = 0; i < n; i++) {
        float v = a[i] + b[i];
        if (relu && v < 0.0f) v = 0.0f;
        out[i] = v;
    }
}

void mf_rt_add_s16_ref(size_t n, const int16_t *a, int align_a, const int16_t *b, int align_b,
                       const mf_rt_requant *rq, int16_t *out)
{
    /* |a·2^47| ≤ 2^62, so the sum of two lies in [−2^63, 2^63) */
    const int64_t ma = (int64_t)1 << clamp_align(align_a, 47);
    const int64_t mb = (int64_t)1 << clamp_align(align_b, 47);
    for (size_t i = 0; i < n; i++) {
        int64_t acc = a[i] * ma + b[i] * mb; /* exact left shifts, written as products */
        out[i] = mf_rt_requant_s64(acc, rq->shift, rq->relu, rq->rounding);
    }
}

void mf_rt_add_s8_ref(size_t n, const int8_t *a, int align_a, const int8_t *b, int align_b,
                      const mf_rt_requant *rq, int8_t *out)
{
    /* |a·2^23| ≤ 2^30, so the sum of two lies in [−2^31, 2^31) */
    const int32_t ma = (int32_t)1 << clamp_align(align_a, 23);
    const int32_t mb = (int32_t)1 << clamp_align(align_b, 23);
    for (size_t i = 0; i < n; i++) {
        int32_t acc = a[i] * ma + b[i] * mb;
        out[i] = mf_rt_requant_s32(acc, rq->shift, rq->relu, rq->rounding);
    }
}

/* ---- dispatch: the optimized path where the core has one (mf_rt_dsp.h), else the reference ----
 */

void mf_rt_add_f32(size_t n, const float *a, const float *b, int relu, float *out)
{
#if defined(MF_RT_OPT_F32)
    mf_rt_add_f32_opt(n, a, b, relu, out);
#else
    mf_rt_add_f32_ref(n, a, b, relu, out);
#endif
}

void mf_rt_add_s16(size_t n, const int16_t *a, int align_a, const int16_t *b, int align_b,
                   const mf_rt_requant *rq, int16_t *out)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_add_s16_opt(n, a, align_a, b, align_b, rq, out);
#else
    mf_rt_add_s16_ref(n, a, align_a, b, align_b, rq, out);
#endif
}

void mf_rt_add_s8(size_t n, const int8_t *a, int align_a, const int8_t *b, int align_b,
                  const mf_rt_requant *rq, int8_t *out)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_add_s8_opt(n, a, align_a, b, align_b, rq, out);
#else
    mf_rt_add_s8_ref(n, a, align_a, b, align_b, rq, out);
#endif
}
