/* depthwise_conv1d and depthwise_conv2d (Keras's DepthwiseConv1D/2D): one filter per input
 * channel and multiplier, output channel c = ci·m + j (m = depth_multiplier) reading input
 * channel ci = c / m only:
 *   y[oy][ox][ci·m + j] = b[ci·m + j] + Σ_{ky,kx} x[iy][ix][ci] · w[ky][kx][ci][j]
 * with the window geometry of conv (kernel and stride one size or [h, w], "same" or "valid").
 * The kernel is stored as Keras does, [kh][kw][cin][m] (1D: [k][cin][m]): read row-major it is
 * the K × cout matrix (K = kh·kw, cout = cin·m) every weighted layer has (cout_dims 2), so
 * batch-norm folding, quantization and lowering treat it like a conv's; the runtime layout is
 * [cout][kh][kw] (DESIGN.md §13). A separable conv is a depthwise conv followed by a 1×1 conv.
 *
 * Forward and backward run position by position, the channels innermost (contiguous in the
 * channels-last layouts, and in the kernel's [..][cin][m]). The work is K·cout per position,
 * small next to the pointwise convs of a separable block, so plain loops serve. */
#include <math.h>
#include <string.h>

#include "layers.h"

static int dw_dims(const mf_node *node)
{
    return node->spec.op == MF_OP_DWCONV2D ? 2 : 1;
}

static int dw_infer(const mf_model *m, mf_node *node, mf_error *err)
{
    const int dims = dw_dims(node), mult = node->spec.depth_multiplier;
    if (mult < 1) return mf_node_fail(err, m, node, "depth_multiplier must be >= 1 (got %d)", mult);
    mf_window g;
    if (mf_window_init(m, node, dims, 0, &g, err)) return MF_ERR;
    if ((size_t)g.cin * (size_t)mult > (size_t)MF_MAX_DIM)
        return mf_node_fail(err, m, node,
                            "%d input channels x depth_multiplier %d = %zu output channels "
                            "exceeds %d",
                            g.cin, mult, (size_t)g.cin * (size_t)mult, MF_MAX_DIM);
    if (dims == 1)
        node->out_shape = (mf_shape){2, {g.ow, g.cout}};
    else
        node->out_shape = (mf_shape){3, {g.oh, g.ow, g.cout}};
    const size_t k = (size_t)g.kh * g.kw;
    node->n_params = k * g.cout + (node->spec.use_bias ? (size_t)g.cout : 0);
    return MF_OK;
}

/* The taps of output position (oy, ox) that fall inside the input: ky in [*ky0, *ky1), kx in
 * [*kx0, *kx1) (zero padding elsewhere). */
static void taps_inside(const mf_window *g, int oy, int ox, int *ky0, int *ky1, int *kx0, int *kx1)
{
    const int iy = oy * g->sh - g->pad_top, ix = ox * g->sw - g->pad_left;
    *ky0 = iy < 0 ? -iy : 0;
    *ky1 = g->h - iy < g->kh ? g->h - iy : g->kh;
    *kx0 = ix < 0 ? -ix : 0;
    *kx1 = g->w - ix < g->kw ? g->w - ix : g->kw;
}

static void dw_forward(const mf_layer_ctx *c)
{
    mf_window g;
    mf_window_of(c->model, c->node, &g);
    const int cin = g.cin, cout = g.cout, mult = cout / cin;
    const size_t k = (size_t)g.kh * g.kw, in_sample = (size_t)g.h * g.w * cin,
                 out_sample = (size_t)g.oh * g.ow * cout;
    const float *w = c->params, *bias = c->node->spec.use_bias ? c->params + k * cout : NULL;
    for (int s = 0; s < c->n; s++) {
        const float *x = c->x[0] + (size_t)s * in_sample;
        float *y = c->y + (size_t)s * out_sample;
        for (int oy = 0; oy < g.oh; oy++)
            for (int ox = 0; ox < g.ow; ox++) {
                float *yo = y + ((size_t)oy * g.ow + ox) * cout;
                if (bias)
                    memcpy(yo, bias, sizeof(float) * (size_t)cout);
                else
                    memset(yo, 0, sizeof(float) * (size_t)cout);
                int ky0, ky1, kx0, kx1;
                taps_inside(&g, oy, ox, &ky0, &ky1, &kx0, &kx1);
                const int iy = oy * g.sh - g.pad_top, ix = ox * g.sw - g.pad_left;
                for (int ky = ky0; ky < ky1; ky++)
                    for (int kx = kx0; kx < kx1; kx++) {
                        const float *xi = x + ((size_t)(iy + ky) * g.w + (ix + kx)) * cin;
                        const float *wk = w + ((size_t)ky * g.kw + kx) * cout;
                        if (mult == 1)
                            for (int ch = 0; ch < cout; ch++)
                                yo[ch] += xi[ch] * wk[ch];
                        else
                            for (int ci = 0; ci < cin; ci++)
                                for (int j = 0; j < mult; j++)
                                    yo[ci * mult + j] += xi[ci] * wk[ci * mult + j];
                    }
            }
    }
    mf_act_forward(c->y, (size_t)c->n * out_sample, c->node->spec.activation);
}

static void dw_backward(const mf_layer_ctx *c)
{
    mf_window g;
    mf_window_of(c->model, c->node, &g);
    const int cin = g.cin, cout = g.cout, mult = cout / cin;
    const size_t k = (size_t)g.kh * g.kw, in_sample = (size_t)g.h * g.w * cin,
                 out_sample = (size_t)g.oh * g.ow * cout;
    const float *w = c->params;
    float *dw = c->dparams, *dy = c->dy;
    mf_act_backward(dy, c->y, (size_t)c->n * out_sample, c->node->spec.activation);
    if (c->node->spec.use_bias)
        mf_bias_grad(dw + k * cout, dy, (int)((size_t)c->n * g.oh * g.ow), cout);
    for (int s = 0; s < c->n; s++) {
        const float *x = c->x[0] + (size_t)s * in_sample;
        float *dx = c->dx[0] ? c->dx[0] + (size_t)s * in_sample : NULL;
        const float *d = dy + (size_t)s * out_sample;
        for (int oy = 0; oy < g.oh; oy++)
            for (int ox = 0; ox < g.ow; ox++) {
                const float *dyo = d + ((size_t)oy * g.ow + ox) * cout;
                int ky0, ky1, kx0, kx1;
                taps_inside(&g, oy, ox, &ky0, &ky1, &kx0, &kx1);
                const int iy = oy * g.sh - g.pad_top, ix = ox * g.sw - g.pad_left;
                for (int ky = ky0; ky < ky1; ky++)
                    for (int kx = kx0; kx < kx1; kx++) {
                        const size_t at = ((size_t)(iy + ky) * g.w + (ix + kx)) * cin;
                        const float *xi = x + at;
                        const size_t wat = ((size_t)ky * g.kw + kx) * cout;
                        float *dwk = dw + wat;
                        const float *wk = w + wat;
                        for (int ci = 0; ci < cin; ci++)
                            for (int j = 0; j < mult; j++)
                                dwk[ci * mult + j] += dyo[ci * mult + j] * xi[ci];
                        if (dx)
                            for (int ci = 0; ci < cin; ci++) {
                                float sum = 0.0f;
                                for (int j = 0; j < mult; j++)
                                    sum += dyo[ci * mult + j] * wk[ci * mult + j];
                                dx[at + (size_t)ci] += sum;
                            }
                    }
            }
    }
}

/* PyTorch's default for a grouped conv: U(±1/sqrt(fan_in)), fan_in = kh·kw (one input channel
 * per group), for the kernel and the bias. */
static void dw_init(const mf_model *m, const mf_node *node, float *params, float *state,
                    uint64_t seed)
{
    (void)state;
    mf_window g;
    mf_window_of(m, node, &g);
    const double bound = 1.0 / sqrt((double)g.kh * g.kw);
    mf_rng rng;
    mf_rng_seed(&rng, seed);
    for (size_t i = 0; i < node->n_params; i++)
        params[i] = (float)((2.0 * mf_rng_uniform(&rng) - 1.0) * bound);
}

static uint64_t dw_macs(const mf_model *m, const mf_node *node)
{
    mf_window g;
    mf_window_of(m, node, &g);
    return (uint64_t)g.oh * g.ow * g.cout * g.kh * g.kw;
}

static int dw_params(const mf_model *m, const mf_node *node, mf_param_desc out[4])
{
    mf_window g;
    mf_window_of(m, node, &g);
    const int mult = g.cout / g.cin;
    if (dw_dims(node) == 1)
        out[0] = (mf_param_desc){"kernel", 0, 0, {3, {g.kw, g.cin, mult}}, 2};
    else
        out[0] = (mf_param_desc){"kernel", 0, 0, {4, {g.kh, g.kw, g.cin, mult}}, 2};
    if (!node->spec.use_bias) return 1;
    out[1] = (mf_param_desc){"bias", 0, (size_t)g.kh * g.kw * g.cout, {1, {g.cout}}, 0};
    return 2;
}

#define DW_KEYS                                                                                    \
    (MF_KEY_KERNEL | MF_KEY_STRIDE | MF_KEY_PADDING | MF_KEY_USE_BIAS | MF_KEY_ACTIVATION |        \
     MF_KEY_DEPTH_MULTIPLIER)

const mf_op_info mf_op_depthwise_conv1d_info = {
    "depthwise_conv1d", DW_KEYS, 1,         1,    dw_infer,        dw_init,     dw_forward,
    dw_backward,        dw_macs, dw_params, NULL, MF_OPF_WEIGHTED, MF_ACT_NONE, NULL};
const mf_op_info mf_op_depthwise_conv2d_info = {
    "depthwise_conv2d", DW_KEYS, 1,         1,    dw_infer,        dw_init,     dw_forward,
    dw_backward,        dw_macs, dw_params, NULL, MF_OPF_WEIGHTED, MF_ACT_NONE, NULL};
