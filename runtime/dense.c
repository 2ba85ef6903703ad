/* Dense (fully connected), portable C reference path.
 *
 *   acc[o] = bias[o] (0 when bias is NULL) + Σ_{i < n_in} in[i] · w[o][i]
 *   int8:  products and sum in int32; int16: products and sum in int64 (no overflow is the
 *          quantizer's guarantee: int8 n_in·2^14 + |bias| < 2^31).
 *   float: acc starts at bias (or 0.0f) and adds in[i]·w[o][i] for i ascending, one rounding per
 *          multiply and per add (-ffp-contract=off).
 *   out[o] = requant(acc[o]) with the tensor shift or shifts[o] (mf_rt_requant_s32/_s64);
 *   float: relu → acc < 0 ? 0 : acc. `out` must not alias `in`. */
#include "mf_runtime.h"
#include "mf_rt_dsp.h"

void mf_rt_dense_f32_ref(int n_in, int n_out, const float *in, const float *w, const float *bias,
                         int relu, float *out)
{
    for (int o = 0; o < n_out; o++) {
        const float *k = w + (size_t)o * n_in;
        float acc = bias ? bias[o] : 0.0f;
        for (int i = 0; i < n_in; i++)
            acc += in[i] * k[i];
        if (relu && acc < 0.0f) acc = 0.0f;
        out[o] = acc;
    }
}

void mf_rt_dense_s16_ref(int n_in, int n_out, const int16_t *in, const int16_t *w,
                         const int64_t *bias, const mf_rt_requant *rq, int16_t *out)
{
    for (int o = 0; o < n_out; o++) {
        const int16_t *k = w + (size_t)o * n_in;
        int64_t acc = bias ? bias[o] : 0;
        for (int i = 0; i < n_in; i++)
            acc += (int64_t)in[i] * k[i];
        int shift = rq->shifts ? rq->shifts[o] : rq->shift;
        out[o] = mf_rt_requant_s64(acc, shift, rq->relu, rq->rounding);
    }
}

void mf_rt_dense_s8_ref(int n_in, int n_out, const int8_t *in, const int8_t *w, const int32_t *bias,
                        const mf_rt_requant *rq, int8_t *out, void *scratch)
{
    (void)scratch; /* the reference needs no working memory */
    for (int o = 0; o < n_out; o++) {
        const int8_t *k = w + (size_t)o * n_in;
        int32_t acc = bias ? bias[o] : 0;
        for (int i = 0; i < n_in; i++)
            acc += (int32_t)in[i] * k[i];
        int shift = rq->shifts ? rq->shifts[o] : rq->shift;
        out[o] = mf_rt_requant_s32(acc, shift, rq->relu, rq->rounding);
    }
}

/* ---- dispatch: the optimized path where the core has one (mf_rt_dsp.h), else the reference ----
 */

void mf_rt_dense_f32(int n_in, int n_out, const float *in, const float *w, const float *bias,
                     int relu, float *out)
{
#if defined(MF_RT_OPT_F32)
    mf_rt_dense_f32_opt(n_in, n_out, in, w, bias, relu, out);
#else
    mf_rt_dense_f32_ref(n_in, n_out, in, w, bias, relu, out);
#endif
}

void mf_rt_dense_s16(int n_in, int n_out, const int16_t *in, const int16_t *w, const int64_t *bias,
                     const mf_rt_requant *rq, int16_t *out)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_dense_s16_opt(n_in, n_out, in, w, bias, rq, out);
#else
    mf_rt_dense_s16_ref(n_in, n_out, in, w, bias, rq, out);
#endif
}

void mf_rt_dense_s8(int n_in, int n_out, const int8_t *in, const int8_t *w, const int32_t *bias,
                    const mf_rt_requant *rq, int8_t *out, void *scratch)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_dense_s8_opt(n_in, n_out, in, w, bias, rq, out, scratch);
#else
    mf_rt_dense_s8_ref(n_in, n_out, in, w, bias, rq, out, scratch);
#endif
}

size_t mf_rt_dense_s8_scratch_bytes(int n_in, int n_out)
{
    /* the input's lanes (2 words per 4 inputs) and the accumulator starts */
    const size_t bytes =
        (size_t)8 * (size_t)(n_in > 0 ? n_in / 4 : 0) + 4 * (size_t)(n_out > 0 ? n_out : 0);
    return (bytes + 7) & ~(size_t)7;
}
