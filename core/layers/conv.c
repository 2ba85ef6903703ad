/* conv1d and conv2d, float forward/backward, through im2col + cblas_sgemm.
 *
 * The kernel is stored [kh][kw][cin][cout] (Keras layout, DESIGN.md §13), which read row-major
 * is exactly the K x cout right-hand matrix of the GEMM, K = kh*kw*cin; im2col rows are output
 * positions of the whole batch, so one GEMM covers the mini-batch. Columns are built in chunks
 * of rows that fit in cache; a 1x1 stride-1 convolution needs no columns at all. 1D is 2D with
 * h = 1. */
#include <math.h>
#include <string.h>

#include "layers.h"

/* Column chunk target: 64 Ki floats (256 KiB), half of a typical L2. */
#define COL_CHUNK_FLOATS 65536

static int conv_dims(const mf_node *node)
{
    return node->spec.op == MF_OP_CONV2D ? 2 : 1;
}

static int is_pointwise(const mf_window *g)
{
    return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->pad_top == 0 &&
           g->pad_left == 0;
}

static int chunk_rows(int k)
{
    int rows = COL_CHUNK_FLOATS / k;
    return rows < 16 ? 16 : rows;
}

/* Rows [r0, r0+nr) of the batch's column matrix into cols (nr x K). */
static void im2col(const mf_window *g, const float *x, size_t r0, int nr, float *cols)
{
    const int k = g->kh * g->kw * g->cin;
    const size_t per_sample = (size_t)g->oh * g->ow;
    const size_t in_sample = (size_t)g->h * g->w * g->cin;
    for (int i = 0; i < nr; i++) {
        size_t r = r0 + (size_t)i;
        size_t s = r / per_sample, p = r % per_sample;
        int oy = (int)(p / g->ow), ox = (int)(p % g->ow);
        const float *xs = x + s * in_sample;
        float *dst = cols + (size_t)i * k;
        int ix0 = ox * g->sw - g->pad_left;
        int kx0 = ix0 < 0 ? -ix0 : 0;
        int kx1 = g->w - ix0 < g->kw ? g->w - ix0 : g->kw;
        for (int ky = 0; ky < g->kh; ky++) {
            int iy = oy * g->sh - g->pad_top + ky;
            float *d = dst + (size_t)ky * g->kw * g->cin;
            if (iy < 0 || iy >= g->h || kx1 <= kx0) {
                memset(d, 0, sizeof(float) * g->kw * g->cin);
                continue;
            }
            if (kx0 > 0) memset(d, 0, sizeof(float) * kx0 * g->cin);
            memcpy(d + (size_t)kx0 * g->cin, xs + ((size_t)iy * g->w + ix0 + kx0) * g->cin,
                   sizeof(float) * (kx1 - kx0) * g->cin);
            if (kx1 < g->kw)
                memset(d + (size_t)kx1 * g->cin, 0, sizeof(float) * (g->kw - kx1) * g->cin);
        }
    }
}

/* The adjoint of im2col: adds column rows back into dx. */
static void col2im_add(const mf_window *g, const float *cols, size_t r0, int nr, float *dx)
{
    const int k = g->kh * g->kw * g->cin;
    const size_t per_sample = (size_t)g->oh * g->ow;
    const size_t in_sample = (size_t)g->h * g->w * g->cin;
    for (int i = 0; i < nr; i++) {
        size_t r = r0 + (size_t)i;
        size_t s = r / per_sample, p = r % per_sample;
        int oy = (int)(p / g->ow), ox = (int)(p % g->ow);
        float *xs = dx + s * in_sample;
        const float *src = cols + (size_t)i * k;
        int ix0 = ox * g->sw - g->pad_left;
        int kx0 = ix0 < 0 ? -ix0 : 0;
        int kx1 = g->w - ix0 < g->kw ? g->w - ix0 : g->kw;
        if (kx1 <= kx0) continue;
        size_t len = (size_t)(kx1 - kx0) * g->cin;
        for (int ky = 0; ky < g->kh; ky++) {
            int iy = oy * g->sh - g->pad_top + ky;
            if (iy < 0 || iy >= g->h) continue;
            const float *s2 = src + ((size_t)ky * g->kw + kx0) * g->cin;
            float *d = xs + ((size_t)iy * g->w + ix0 + kx0) * g->cin;
            for (size_t j = 0; j < len; j++)
                d[j] += s2[j];
        }
    }
}

static int conv_infer(const mf_model *m, mf_node *node, mf_error *err)
{
    int dims = conv_dims(node);
    if (node->spec.filters < 1)
        return mf_node_fail(err, m, node, "filters must be >= 1 (got %d)", node->spec.filters);
    mf_window g;
    if (mf_window_init(m, node, dims, node->spec.filters, &g, err)) return MF_ERR;
    if (dims == 1)
        node->out_shape = (mf_shape){2, {g.ow, g.cout}};
    else
        node->out_shape = (mf_shape){3, {g.oh, g.ow, g.cout}};
    size_t k = (size_t)g.kh * g.kw * g.cin;
    node->n_params = k * g.cout + (node->spec.use_bias ? (size_t)g.cout : 0);
    node->scratch_fixed = is_pointwise(&g) ? 0 : 2 * (size_t)chunk_rows((int)k) * k;
    return MF_OK;
}

static void conv_forward(const mf_layer_ctx *c)
{
    mf_window g;
    mf_window_of(c->model, c->node, &g);
    const int k = g.kh * g.kw * g.cin, cout = g.cout;
    const size_t rows = (size_t)c->n * g.oh * g.ow;
    const float *w = c->params;
    const float *bias = c->node->spec.use_bias ? c->params + (size_t)k * cout : NULL;
    const mf_activation act = c->node->spec.activation;
    if (is_pointwise(&g)) {
        mf_fill_bias(c->y, (int)rows, cout, bias);
        mf_gemm_nn((int)rows, cout, k, c->x[0], w, 1.0f, c->y);
        mf_act_forward(c->y, rows * cout, act);
        return;
    }
    const int chunk = chunk_rows(k);
    float *cols = c->scratch;
    for (size_t r0 = 0; r0 < rows; r0 += (size_t)chunk) {
        int nr = rows - r0 < (size_t)chunk ? (int)(rows - r0) : chunk;
        float *y = c->y + r0 * cout;
        im2col(&g, c->x[0], r0, nr, cols);
        mf_fill_bias(y, nr, cout, bias);
        mf_gemm_nn(nr, cout, k, cols, w, 1.0f, y);
        mf_act_forward(y, (size_t)nr * cout, act);
    }
}

static void conv_backward(const mf_layer_ctx *c)
{
    mf_window g;
    mf_window_of(c->model, c->node, &g);
    const int k = g.kh * g.kw * g.cin, cout = g.cout;
    const size_t rows = (size_t)c->n * g.oh * g.ow;
    const float *w = c->params;
    float *dw = c->dparams;
    float *dy = c->dy;
    mf_act_backward(dy, c->y, rows * cout, c->node->spec.activation);
    if (c->node->spec.use_bias) mf_bias_grad(dw + (size_t)k * cout, dy, (int)rows, cout);
    if (is_pointwise(&g)) {
        mf_gemm_tn(k, cout, (int)rows, c->x[0], dy, 1.0f, dw);
        if (c->dx[0]) mf_gemm_nt((int)rows, k, cout, dy, w, 1.0f, c->dx[0]);
        return;
    }
    const int chunk = chunk_rows(k);
    float *cols = c->scratch, *dcols = c->scratch + (size_t)chunk * k;
    for (size_t r0 = 0; r0 < rows; r0 += (size_t)chunk) {
        int nr = rows - r0 < (size_t)chunk ? (int)(rows - r0) : chunk;
        const float *dyc = dy + r0 * cout;
        im2col(&g, c->x[0], r0, nr, cols);
        mf_gemm_tn(k, cout, nr, cols, dyc, 1.0f, dw);
        if (c->dx[0]) {
            mf_gemm_nt(nr, k, cout, dyc, w, 0.0f, dcols);
            col2im_add(&g, dcols, r0, nr, c->dx[0]);
        }
    }
}

static void conv_init(const mf_model *m, const mf_node *node, float *params, float *state,
                      uint64_t seed)
{
    (void)state;
    mf_window g;
    mf_window_of(m, node, &g);
    size_t k = (size_t)g.kh * g.kw * g.cin;
    double bound = 1.0 / sqrt((double)k);
    mf_rng rng;
    mf_rng_seed(&rng, seed);
    for (size_t i = 0; i < node->n_params; i++)
        params[i] = (float)((2.0 * mf_rng_uniform(&rng) - 1.0) * bound);
}

static uint64_t conv_macs(const mf_model *m, const mf_node *node)
{
    mf_window g;
    mf_window_of(m, node, &g);
    return (uint64_t)g.oh * g.ow * g.cout * g.kh * g.kw * g.cin;
}

static int conv_params(const mf_model *m, const mf_node *node, mf_param_desc out[4])
{
    mf_window g;
    mf_window_of(m, node, &g);
    if (conv_dims(node) == 1)
        out[0] = (mf_param_desc){"kernel", 0, 0, {3, {g.kw, g.cin, g.cout}}, 0};
    else
        out[0] = (mf_param_desc){"kernel", 0, 0, {4, {g.kh, g.kw, g.cin, g.cout}}, 0};
    if (!node->spec.use_bias) return 1;
    out[1] = (mf_param_desc){"bias", 0, (size_t)g.kh * g.kw * g.cin * g.cout, {1, {g.cout}}, 0};
    return 2;
}

#define CONV_KEYS                                                                                  \
    (MF_KEY_FILTERS | MF_KEY_KERNEL | MF_KEY_STRIDE | MF_KEY_PADDING | MF_KEY_USE_BIAS |           \
     MF_KEY_ACTIVATION)

const mf_op_info mf_op_conv1d_info = {
    "conv1d",      CONV_KEYS, 1,           1,    conv_infer,      conv_init,   conv_forward,
    conv_backward, conv_macs, conv_params, NULL, MF_OPF_WEIGHTED, MF_ACT_NONE, NULL};
const mf_op_info mf_op_conv2d_info = {
    "conv2d",      CONV_KEYS, 1,           1,    conv_infer,      conv_init,   conv_forward,
    conv_backward, conv_macs, conv_params, NULL, MF_OPF_WEIGHTED, MF_ACT_NONE, NULL};
