/* ReLU6 (DESIGN.md §13): after requantization, clamp to [0, q6], q6 = saturate(lround(6·2^n_out));
 * float: to [0, 6].
 *
 * Fused into a layer, it is the layer's kernel with a plain ReLU (mf_rt_requant.relu 1, float
 * relu 1), then a clamp of its outputs at q6 (float 6) in place. Every output of the plain kernel
 * is requant → ReLU; min(·, q6) is monotonic, so clamping after a fused max pool gives the max of
 * the clamped taps: the result is requant → ReLU → min(·, q6) of every output, exactly, on every
 * path (reference or optimized). The plain kernels are untouched (a firmware without ReLU6 links
 * nothing of this file). */
#include "mf_runtime.h"

/* q6 of rq->relu = MF_RT_RELU6(q6); a plain ReLU (or none) gives no clamp (-1). */
static int q6_of(const mf_rt_requant *rq)
{
    return rq->relu >= 2 ? rq->relu - 2 : -1;
}

/* rq with its ReLU6 as a plain ReLU: what the wrapped kernel computes before the clamp. */
static mf_rt_requant relu_of(const mf_rt_requant *rq)
{
    mf_rt_requant r = *rq;
    r.relu = rq->relu != 0;
    return r;
}

static void clamp_s8(size_t n, int8_t *x, int q6)
{
    if (q6 < 0) return;
    const int8_t hi = (int8_t)(q6 < INT8_MAX ? q6 : INT8_MAX);
    for (size_t i = 0; i < n; i++)
        x[i] = x[i] > hi ? hi : x[i];
}

static void clamp_s16(size_t n, int16_t *x, int q6)
{
    if (q6 < 0) return;
    const int16_t hi = (int16_t)(q6 < INT16_MAX ? q6 : INT16_MAX);
    for (size_t i = 0; i < n; i++)
        x[i] = x[i] > hi ? hi : x[i];
}

static void clamp_f32(size_t n, float *x)
{
    for (size_t i = 0; i < n; i++)
        x[i] = x[i] > 6.0f ? 6.0f : x[i];
}

static size_t conv_outputs(const mf_rt_geom *g)
{
    return (size_t)g->oh * g->ow * g->cout;
}

/* the output of a conv + max pool (valid windows) */
static size_t pooled_outputs(const mf_rt_geom *g, int pkh, int pkw, int psh, int psw)
{
    if (pkh < 1 || pkw < 1 || psh < 1 || psw < 1 || pkh > g->oh || pkw > g->ow) return 0;
    return (size_t)((g->oh - pkh) / psh + 1) * (size_t)((g->ow - pkw) / psw + 1) * g->cout;
}

/* ---- standalone ---- */

void mf_rt_relu6_f32(size_t n, const float *in, float *out)
{
    for (size_t i = 0; i < n; i++) {
        const float v = in[i] < 0.0f ? 0.0f : in[i];
        out[i] = v > 6.0f ? 6.0f : v;
    }
}

void mf_rt_relu6_s16(size_t n, const int16_t *in, const mf_rt_requant *rq, int16_t *out)
{
    const int q6 = q6_of(rq) < 0 ? 0 : q6_of(rq);
    const int16_t hi = (int16_t)(q6 < INT16_MAX ? q6 : INT16_MAX);
    for (size_t i = 0; i < n; i++)
        out[i] = in[i] < 0 ? 0 : in[i] > hi ? hi : in[i];
}

void mf_rt_relu6_s8(size_t n, const int8_t *in, const mf_rt_requant *rq, int8_t *out)
{
    const int q6 = q6_of(rq) < 0 ? 0 : q6_of(rq);
    const int8_t hi = (int8_t)(q6 < INT8_MAX ? q6 : INT8_MAX);
    for (size_t i = 0; i < n; i++)
        out[i] = in[i] < 0 ? 0 : in[i] > hi ? hi : in[i];
}

/* ---- fused into a conv ---- */

void mf_rt_conv_relu6_f32(const mf_rt_geom *g, const float *in, const float *w, const float *bias,
                          int relu, float *out)
{
    (void)relu;
    mf_rt_conv_f32(g, in, w, bias, 1, out);
    clamp_f32(conv_outputs(g), out);
}

void mf_rt_conv_relu6_s16(const mf_rt_geom *g, const int16_t *in, const int16_t *w,
                          const int64_t *bias, const mf_rt_requant *rq, int16_t *out, void *scratch)
{
    const mf_rt_requant r = relu_of(rq);
    mf_rt_conv_s16(g, in, w, bias, &r, out, scratch);
    clamp_s16(conv_outputs(g), out, q6_of(rq));
}

void mf_rt_conv_relu6_s8(const mf_rt_geom *g, const int8_t *in, const int8_t *w,
                         const int32_t *bias, const mf_rt_requant *rq, int8_t *out, void *scratch)
{
    const mf_rt_requant r = relu_of(rq);
    mf_rt_conv_s8(g, in, w, bias, &r, out, scratch);
    clamp_s8(conv_outputs(g), out, q6_of(rq));
}

void mf_rt_conv1d_relu6_s8(const mf_rt_geom *g, const int8_t *in, const int8_t *w,
                           const int32_t *bias, const mf_rt_requant *rq, int8_t *out, void *scratch)
{
    if (!mf_rt_conv1d_s8_covers(g, 1, 1, 1, 1)) return; /* it writes nothing */
    const mf_rt_requant r = relu_of(rq);
    mf_rt_conv1d_s8(g, in, w, bias, &r, out, scratch);
    clamp_s8(conv_outputs(g), out, q6_of(rq));
}

void mf_rt_conv_small_relu6_s8(const mf_rt_geom *g, const int8_t *in, const int8_t *w,
                               const int32_t *bias, const mf_rt_requant *rq, int8_t *out,
                               void *scratch)
{
    const mf_rt_requant r = relu_of(rq);
    mf_rt_conv_small_s8(g, in, w, bias, &r, out, scratch);
    clamp_s8(conv_outputs(g), out, q6_of(rq));
}

void mf_rt_conv_maxpool_relu6_f32(const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh,
                                  int pool_sw, const float *in, const float *w, const float *bias,
                                  int relu, float *out)
{
    (void)relu;
    mf_rt_conv_maxpool_f32(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, 1, out);
    clamp_f32(pooled_outputs(conv, pool_kh, pool_kw, pool_sh, pool_sw), out);
}

void mf_rt_conv_maxpool_relu6_s16(const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh,
                                  int pool_sw, const int16_t *in, const int16_t *w,
                                  const int64_t *bias, const mf_rt_requant *rq, int16_t *out,
                                  void *scratch)
{
    const mf_rt_requant r = relu_of(rq);
    mf_rt_conv_maxpool_s16(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, &r, out, scratch);
    clamp_s16(pooled_outputs(conv, pool_kh, pool_kw, pool_sh, pool_sw), out, q6_of(rq));
}

void mf_rt_conv_maxpool_relu6_s8(const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh,
                                 int pool_sw, const int8_t *in, const int8_t *w,
                                 const int32_t *bias, const mf_rt_requant *rq, int8_t *out,
                                 void *scratch)
{
    const mf_rt_requant r = relu_of(rq);
    mf_rt_conv_maxpool_s8(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, &r, out, scratch);
    clamp_s8(pooled_outputs(conv, pool_kh, pool_kw, pool_sh, pool_sw), out, q6_of(rq));
}

void mf_rt_conv1d_maxpool_relu6_s8(const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh,
                                   int pool_sw, const int8_t *in, const int8_t *w,
                                   const int32_t *bias, const mf_rt_requant *rq, int8_t *out,
                                   void *scratch)
{
    if (!mf_rt_conv1d_s8_covers(conv, pool_kh, pool_kw, pool_sh, pool_sw)) return;
    const mf_rt_requant r = relu_of(rq);
    mf_rt_conv1d_maxpool_s8(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, &r, out,
                            scratch);
    clamp_s8(pooled_outputs(conv, pool_kh, pool_kw, pool_sh, pool_sw), out, q6_of(rq));
}

void mf_rt_conv_small_maxpool_relu6_s8(const mf_rt_geom *conv, int pool_kh, int pool_kw,
                                       int pool_sh, int pool_sw, const int8_t *in, const int8_t *w,
                                       const int32_t *bias, const mf_rt_requant *rq, int8_t *out,
                                       void *scratch)
{
    const mf_rt_requant r = relu_of(rq);
    mf_rt_conv_small_maxpool_s8(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, &r, out,
                                scratch);
    clamp_s8(pooled_outputs(conv, pool_kh, pool_kw, pool_sh, pool_sw), out, q6_of(rq));
}

void mf_rt_conv_sparse_relu6_s8(const mf_rt_geom *g, const int8_t *in, const uint16_t *idx,
                                const int8_t *w, const int32_t *bias, const mf_rt_requant *rq,
                                int8_t *out, void *scratch)
{
    if (!mf_rt_conv_sparse_s8_covers(g)) return;
    const mf_rt_requant r = relu_of(rq);
    mf_rt_conv_sparse_s8(g, in, idx, w, bias, &r, out, scratch);
    clamp_s8(conv_outputs(g), out, q6_of(rq));
}

void mf_rt_conv_sparse_maxpool_relu6_s8(const mf_rt_geom *conv, int pool_kh, int pool_kw,
                                        int pool_sh, int pool_sw, const int8_t *in,
                                        const uint16_t *idx, const int8_t *w, const int32_t *bias,
                                        const mf_rt_requant *rq, int8_t *out, void *scratch)
{
    if (!mf_rt_conv_sparse_s8_covers(conv)) return;
    const mf_rt_requant r = relu_of(rq);
    mf_rt_conv_sparse_maxpool_s8(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, idx, w, bias, &r,
                                 out, scratch);
    clamp_s8(pooled_outputs(conv, pool_kh, pool_kw, pool_sh, pool_sw), out, q6_of(rq));
}

/* ---- fused into a dense layer ---- */

void mf_rt_dense_relu6_f32(int n_in, int n_out, const float *in, const float *w, const float *bias,
                           int relu, float *out)
{
    (void)relu;
    mf_rt_dense_f32(n_in, n_out, in, w, bias, 1, out);
    clamp_f32(n_out > 0 ? (size_t)n_out : 0, out);
}

void mf_rt_dense_relu6_s16(int n_in, int n_out, const int16_t *in, const int16_t *w,
                           const int64_t *bias, const mf_rt_requant *rq, int16_t *out)
{
    const mf_rt_requant r = relu_of(rq);
    mf_rt_dense_s16(n_in, n_out, in, w, bias, &r, out);
    clamp_s16(n_out > 0 ? (size_t)n_out : 0, out, q6_of(rq));
}

void mf_rt_dense_relu6_s8(int n_in, int n_out, const int8_t *in, const int8_t *w,
                          const int32_t *bias, const mf_rt_requant *rq, int8_t *out, void *scratch)
{
    const mf_rt_requant r = relu_of(rq);
    mf_rt_dense_s8(n_in, n_out, in, w, bias, &r, out, scratch);
    clamp_s8(n_out > 0 ? (size_t)n_out : 0, out, q6_of(rq));
}

void mf_rt_dense_sparse_relu6_s8(int n_in, int n_out, const int8_t *in, const uint8_t *idx,
                                 const int8_t *w, const int32_t *bias, const mf_rt_requant *rq,
                                 int8_t *out)
{
    const mf_rt_requant r = relu_of(rq);
    mf_rt_dense_sparse_s8(n_in, n_out, in, idx, w, bias, &r, out);
    clamp_s8(n_out > 0 ? (size_t)n_out : 0, out, q6_of(rq));
}

/* ---- fused into an add (out may be a or b: the clamp reads only out) ---- */

void mf_rt_add_relu6_f32(size_t n, const float *a, const float *b, int relu, float *out)
{
    (void)relu;
    mf_rt_add_f32(n, a, b, 1, out);
    clamp_f32(n, out);
}

void mf_rt_add_relu6_s16(size_t n, const int16_t *a, int align_a, const int16_t *b, int align_b,
                         const mf_rt_requant *rq, int16_t *out)
{
    const mf_rt_requant r = relu_of(rq);
    mf_rt_add_s16(n, a, align_a, b, align_b, &r, out);
    clamp_s16(n, out, q6_of(rq));
}

void mf_rt_add_relu6_s8(size_t n, const int8_t *a, int align_a, const int8_t *b, int align_b,
                        const mf_rt_requant *rq, int8_t *out)
{
    const mf_rt_requant r = relu_of(rq);
    mf_rt_add_s8(n, a, align_a, b, align_b, &r, out);
    clamp_s8(n, out, q6_of(rq));
}

/* The register-field kernels, one per P (conv_s8_field.c), written out one by one (deploy finds
 * a kernel's file by its definition, deploy/runtime_files.c). */

void mf_rt_conv_field1_relu6_s8(MF_RT_CONV_S8_PARAMS)
{
    if (mf_rt_conv_field_s8_p(g, 1, 1, 1, 1) != 1) return; /* it writes nothing */
    const mf_rt_requant r = relu_of(rq);
    mf_rt_conv_field1_s8(g, in, w, bias, &r, out, scratch);
    clamp_s8(conv_outputs(g), out, q6_of(rq));
}

void mf_rt_conv_field1_maxpool_relu6_s8(MF_RT_CONV_MAXPOOL_S8_PARAMS)
{
    if (mf_rt_conv_field_s8_p(conv, pool_kh, pool_kw, pool_sh, pool_sw) != 1) return;
    const mf_rt_requant r = relu_of(rq);
    mf_rt_conv_field1_maxpool_s8(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, &r, out,
                                 scratch);
    clamp_s8(pooled_outputs(conv, pool_kh, pool_kw, pool_sh, pool_sw), out, q6_of(rq));
}

void mf_rt_conv_field2_relu6_s8(MF_RT_CONV_S8_PARAMS)
{
    if (mf_rt_conv_field_s8_p(g, 1, 1, 1, 1) != 2) return; /* it writes nothing */
    const mf_rt_requant r = relu_of(rq);
    mf_rt_conv_field2_s8(g, in, w, bias, &r, out, scratch);
    clamp_s8(conv_outputs(g), out, q6_of(rq));
}

void mf_rt_conv_field2_maxpool_relu6_s8(MF_RT_CONV_MAXPOOL_S8_PARAMS)
{
    if (mf_rt_conv_field_s8_p(conv, pool_kh, pool_kw, pool_sh, pool_sw) != 2) return;
    const mf_rt_requant r = relu_of(rq);
    mf_rt_conv_field2_maxpool_s8(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, &r, out,
                                 scratch);
    clamp_s8(pooled_outputs(conv, pool_kh, pool_kw, pool_sh, pool_sw), out, q6_of(rq));
}

void mf_rt_conv_field3_relu6_s8(MF_RT_CONV_S8_PARAMS)
{
    if (mf_rt_conv_field_s8_p(g, 1, 1, 1, 1) != 3) return; /* it writes nothing */
    const mf_rt_requant r = relu_of(rq);
    mf_rt_conv_field3_s8(g, in, w, bias, &r, out, scratch);
    clamp_s8(conv_outputs(g), out, q6_of(rq));
}

void mf_rt_conv_field3_maxpool_relu6_s8(MF_RT_CONV_MAXPOOL_S8_PARAMS)
{
    if (mf_rt_conv_field_s8_p(conv, pool_kh, pool_kw, pool_sh, pool_sw) != 3) return;
    const mf_rt_requant r = relu_of(rq);
    mf_rt_conv_field3_maxpool_s8(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, &r, out,
                                 scratch);
    clamp_s8(pooled_outputs(conv, pool_kh, pool_kw, pool_sh, pool_sw), out, q6_of(rq));
}

void mf_rt_conv_field4_relu6_s8(MF_RT_CONV_S8_PARAMS)
{
    if (mf_rt_conv_field_s8_p(g, 1, 1, 1, 1) != 4) return; /* it writes nothing */
    const mf_rt_requant r = relu_of(rq);
    mf_rt_conv_field4_s8(g, in, w, bias, &r, out, scratch);
    clamp_s8(conv_outputs(g), out, q6_of(rq));
}

void mf_rt_conv_field4_maxpool_relu6_s8(MF_RT_CONV_MAXPOOL_S8_PARAMS)
{
    if (mf_rt_conv_field_s8_p(conv, pool_kh, pool_kw, pool_sh, pool_sw) != 4) return;
    const mf_rt_requant r = relu_of(rq);
    mf_rt_conv_field4_maxpool_s8(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, &r, out,
                                 scratch);
    clamp_s8(pooled_outputs(conv, pool_kh, pool_kw, pool_sh, pool_sw), out, q6_of(rq));
}

void mf_rt_conv_field5_relu6_s8(MF_RT_CONV_S8_PARAMS)
{
    if (mf_rt_conv_field_s8_p(g, 1, 1, 1, 1) != 5) return; /* it writes nothing */
    const mf_rt_requant r = relu_of(rq);
    mf_rt_conv_field5_s8(g, in, w, bias, &r, out, scratch);
    clamp_s8(conv_outputs(g), out, q6_of(rq));
}

void mf_rt_conv_field5_maxpool_relu6_s8(MF_RT_CONV_MAXPOOL_S8_PARAMS)
{
    if (mf_rt_conv_field_s8_p(conv, pool_kh, pool_kw, pool_sh, pool_sw) != 5) return;
    const mf_rt_requant r = relu_of(rq);
    mf_rt_conv_field5_maxpool_s8(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, &r, out,
                                 scratch);
    clamp_s8(pooled_outputs(conv, pool_kh, pool_kw, pool_sh, pool_sw), out, q6_of(rq));
}

void mf_rt_conv_field6_relu6_s8(MF_RT_CONV_S8_PARAMS)
{
    if (mf_rt_conv_field_s8_p(g, 1, 1, 1, 1) != 6) return; /* it writes nothing */
    const mf_rt_requant r = relu_of(rq);
    mf_rt_conv_field6_s8(g, in, w, bias, &r, out, scratch);
    clamp_s8(conv_outputs(g), out, q6_of(rq));
}

void mf_rt_conv_field6_maxpool_relu6_s8(MF_RT_CONV_MAXPOOL_S8_PARAMS)
{
    if (mf_rt_conv_field_s8_p(conv, pool_kh, pool_kw, pool_sh, pool_sw) != 6) return;
    const mf_rt_requant r = relu_of(rq);
    mf_rt_conv_field6_maxpool_s8(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, &r, out,
                                 scratch);
    clamp_s8(pooled_outputs(conv, pool_kh, pool_kw, pool_sh, pool_sw), out, q6_of(rq));
}

void mf_rt_conv_field7_relu6_s8(MF_RT_CONV_S8_PARAMS)
{
    if (mf_rt_conv_field_s8_p(g, 1, 1, 1, 1) != 7) return; /* it writes nothing */
    const mf_rt_requant r = relu_of(rq);
    mf_rt_conv_field7_s8(g, in, w, bias, &r, out, scratch);
    clamp_s8(conv_outputs(g), out, q6_of(rq));
}

void mf_rt_conv_field7_maxpool_relu6_s8(MF_RT_CONV_MAXPOOL_S8_PARAMS)
{
    if (mf_rt_conv_field_s8_p(conv, pool_kh, pool_kw, pool_sh, pool_sw) != 7) return;
    const mf_rt_requant r = relu_of(rq);
    mf_rt_conv_field7_maxpool_s8(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, &r, out,
                                 scratch);
    clamp_s8(pooled_outputs(conv, pool_kh, pool_kw, pool_sh, pool_sw), out, q6_of(rq));
}

void mf_rt_conv_field8_relu6_s8(MF_RT_CONV_S8_PARAMS)
{
    if (mf_rt_conv_field_s8_p(g, 1, 1, 1, 1) != 8) return; /* it writes nothing */
    const mf_rt_requant r = relu_of(rq);
    mf_rt_conv_field8_s8(g, in, w, bias, &r, out, scratch);
    clamp_s8(conv_outputs(g), out, q6_of(rq));
}

void mf_rt_conv_field8_maxpool_relu6_s8(MF_RT_CONV_MAXPOOL_S8_PARAMS)
{
    if (mf_rt_conv_field_s8_p(conv, pool_kh, pool_kw, pool_sh, pool_sw) != 8) return;
    const mf_rt_requant r = relu_of(rq);
    mf_rt_conv_field8_maxpool_s8(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, &r, out,
                                 scratch);
    clamp_s8(pooled_outputs(conv, pool_kh, pool_kw, pool_sh, pool_sw), out, q6_of(rq));
}

void mf_rt_conv_wide_relu6_s8(const mf_rt_geom *g, const int8_t *in, const int8_t *w,
                              const int32_t *bias, const mf_rt_requant *rq, int8_t *out,
                              void *scratch)
{
    const mf_rt_requant r = relu_of(rq);
    mf_rt_conv_wide_s8(g, in, w, bias, &r, out, scratch);
    clamp_s8(conv_outputs(g), out, q6_of(rq));
}

void mf_rt_conv_wide_maxpool_relu6_s8(const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh,
                                      int pool_sw, const int8_t *in, const int8_t *w,
                                      const int32_t *bias, const mf_rt_requant *rq, int8_t *out,
                                      void *scratch)
{
    const mf_rt_requant r = relu_of(rq);
    mf_rt_conv_wide_maxpool_s8(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, &r, out,
                               scratch);
    clamp_s8(pooled_outputs(conv, pool_kh, pool_kw, pool_sh, pool_sw), out, q6_of(rq));
}

/* The patch kernels, one per shape (conv_s8_patch.c), written out one by one likewise. */
void mf_rt_conv_patch3x3o3_relu6_s8(MF_RT_CONV_S8_PARAMS)
{
    if (mf_rt_conv_patch_s8_shape(g) != MF_RT_CONV_PATCH_3X3O3) return; /* it writes nothing */
    const mf_rt_requant r = relu_of(rq);
    mf_rt_conv_patch3x3o3_s8(g, in, w, bias, &r, out, scratch);
    clamp_s8(conv_outputs(g), out, q6_of(rq));
}

void mf_rt_conv_patch3x3o3_maxpool_relu6_s8(MF_RT_CONV_MAXPOOL_S8_PARAMS)
{
    if (mf_rt_conv_patch_s8_shape(conv) != MF_RT_CONV_PATCH_3X3O3) return; /* it writes nothing */
    const mf_rt_requant r = relu_of(rq);
    mf_rt_conv_patch3x3o3_maxpool_s8(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, &r, out,
                                     scratch);
    clamp_s8(pooled_outputs(conv, pool_kh, pool_kw, pool_sh, pool_sw), out, q6_of(rq));
}

void mf_rt_conv_patch1x3o3_relu6_s8(MF_RT_CONV_S8_PARAMS)
{
    if (mf_rt_conv_patch_s8_shape(g) != MF_RT_CONV_PATCH_1X3O3) return; /* it writes nothing */
    const mf_rt_requant r = relu_of(rq);
    mf_rt_conv_patch1x3o3_s8(g, in, w, bias, &r, out, scratch);
    clamp_s8(conv_outputs(g), out, q6_of(rq));
}

void mf_rt_conv_patch1x3o3_maxpool_relu6_s8(MF_RT_CONV_MAXPOOL_S8_PARAMS)
{
    if (mf_rt_conv_patch_s8_shape(conv) != MF_RT_CONV_PATCH_1X3O3) return; /* it writes nothing */
    const mf_rt_requant r = relu_of(rq);
    mf_rt_conv_patch1x3o3_maxpool_s8(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, &r, out,
                                     scratch);
    clamp_s8(pooled_outputs(conv, pool_kh, pool_kw, pool_sh, pool_sw), out, q6_of(rq));
}

void mf_rt_conv_patch5x5o1_relu6_s8(MF_RT_CONV_S8_PARAMS)
{
    if (mf_rt_conv_patch_s8_shape(g) != MF_RT_CONV_PATCH_5X5O1) return; /* it writes nothing */
    const mf_rt_requant r = relu_of(rq);
    mf_rt_conv_patch5x5o1_s8(g, in, w, bias, &r, out, scratch);
    clamp_s8(conv_outputs(g), out, q6_of(rq));
}

void mf_rt_conv_patch5x5o1_maxpool_relu6_s8(MF_RT_CONV_MAXPOOL_S8_PARAMS)
{
    if (mf_rt_conv_patch_s8_shape(conv) != MF_RT_CONV_PATCH_5X5O1) return; /* it writes nothing */
    const mf_rt_requant r = relu_of(rq);
    mf_rt_conv_patch5x5o1_maxpool_s8(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, &r, out,
                                     scratch);
    clamp_s8(pooled_outputs(conv, pool_kh, pool_kw, pool_sh, pool_sw), out, q6_of(rq));
}

/* The lane kernels (conv_s8_lanes.c), likewise. */
void mf_rt_conv_lanes_relu6_s8(MF_RT_CONV_S8_PARAMS)
{
    if (!mf_rt_conv_lanes_s8_fits(g)) return; /* it writes nothing */
    const mf_rt_requant r = relu_of(rq);
    mf_rt_conv_lanes_s8(g, in, w, bias, &r, out, scratch);
    clamp_s8(conv_outputs(g), out, q6_of(rq));
}

void mf_rt_conv_lanes_maxpool_relu6_s8(MF_RT_CONV_MAXPOOL_S8_PARAMS)
{
    if (!mf_rt_conv_lanes_s8_fits(conv)) return; /* it writes nothing */
    const mf_rt_requant r = relu_of(rq);
    mf_rt_conv_lanes_maxpool_s8(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, &r, out,
                                scratch);
    clamp_s8(pooled_outputs(conv, pool_kh, pool_kw, pool_sh, pool_sw), out, q6_of(rq));
}

/* The dot kernels (conv_s8_dot.c), likewise. */
void mf_rt_conv_dot_relu6_s8(MF_RT_CONV_S8_PARAMS)
{
    if (!mf_rt_conv_dot_s8_covers(g, 1, 1, 1, 1)) return; /* it writes nothing */
    const mf_rt_requant r = relu_of(rq);
    mf_rt_conv_dot_s8(g, in, w, bias, &r, out, scratch);
    clamp_s8(conv_outputs(g), out, q6_of(rq));
}

void mf_rt_conv_dot_maxpool_relu6_s8(MF_RT_CONV_MAXPOOL_S8_PARAMS)
{
    if (!mf_rt_conv_dot_s8_covers(conv, pool_kh, pool_kw, pool_sh, pool_sw)) return;
    const mf_rt_requant r = relu_of(rq);
    mf_rt_conv_dot_maxpool_s8(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, &r, out,
                              scratch);
    clamp_s8(pooled_outputs(conv, pool_kh, pool_kw, pool_sh, pool_sw), out, q6_of(rq));
}

void mf_rt_conv_patchgo3_relu6_s8(MF_RT_CONV_S8_PARAMS)
{
    if (mf_rt_conv_patch_s8_shape(g) != MF_RT_CONV_PATCH_GO3) return; /* it writes nothing */
    const mf_rt_requant r = relu_of(rq);
    mf_rt_conv_patchgo3_s8(g, in, w, bias, &r, out, scratch);
    clamp_s8(conv_outputs(g), out, q6_of(rq));
}

void mf_rt_conv_patchgo3_maxpool_relu6_s8(MF_RT_CONV_MAXPOOL_S8_PARAMS)
{
    if (mf_rt_conv_patch_s8_shape(conv) != MF_RT_CONV_PATCH_GO3) return; /* it writes nothing */
    const mf_rt_requant r = relu_of(rq);
    mf_rt_conv_patchgo3_maxpool_s8(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, &r, out,
                                   scratch);
    clamp_s8(pooled_outputs(conv, pool_kh, pool_kw, pool_sh, pool_sw), out, q6_of(rq));
}
