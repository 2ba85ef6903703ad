/* maxpool1d/2d and avgpool1d/2d (valid windows; stride defaults to the kernel). 1D runs as 2D
 * with h = 1. */
#include "layers.h"

static int pool_dims(const mf_node *node)
{
    return node->spec.op == MF_OP_MAXPOOL2D || node->spec.op == MF_OP_AVGPOOL2D ? 2 : 1;
}

static int pool_infer(const mf_model *m, mf_node *node, mf_error *err)
{
    int dims = pool_dims(node);
    if (node->spec.padding != MF_PAD_VALID)
        return mf_node_fail(err, m, node, "pools use valid windows; padding must be 'valid'");
    mf_window g;
    if (mf_window_init(m, node, dims, 0, &g, err)) return MF_ERR;
    if (dims == 1)
        node->out_shape = (mf_shape){2, {g.ow, g.cin}};
    else
        node->out_shape = (mf_shape){3, {g.oh, g.ow, g.cin}};
    return MF_OK;
}

static void maxpool_forward(const mf_layer_ctx *c)
{
    mf_window g;
    mf_window_of(c->model, c->node, &g);
    const size_t in_sample = (size_t)g.h * g.w * g.cin;
    const size_t out_sample = (size_t)g.oh * g.ow * g.cin;
    for (int s = 0; s < c->n; s++) {
        const float *x = c->x[0] + s * in_sample;
        float *y = c->y + s * out_sample;
        for (int oy = 0; oy < g.oh; oy++)
            for (int ox = 0; ox < g.ow; ox++) {
                float *yo = y + ((size_t)oy * g.ow + ox) * g.cin;
                const float *first = x + ((size_t)oy * g.sh * g.w + (size_t)ox * g.sw) * g.cin;
                for (int ch = 0; ch < g.cin; ch++)
                    yo[ch] = first[ch];
                for (int ky = 0; ky < g.kh; ky++)
                    for (int kx = 0; kx < g.kw; kx++) {
                        const float *xi = first + ((size_t)ky * g.w + kx) * g.cin;
                        for (int ch = 0; ch < g.cin; ch++)
                            yo[ch] = xi[ch] > yo[ch] ? xi[ch] : yo[ch];
                    }
            }
    }
}

/* The gradient goes to the first window element equal to the maximum (the one a strict
 * "greater than" scan keeps), found again here rather than stored by forward. The scan is
 * branch-free over channels: `pending` holds each channel's gradient until its winner takes it. */
static void route_to_winner(int nc, const float *restrict xi, const float *restrict yo,
                            float *restrict dxi, float *restrict pending)
{
    /* 0/1 factors instead of selects: GCC vectorises this form */
    for (int ch = 0; ch < nc; ch++) {
        float hit = (float)(xi[ch] == yo[ch]);
        float moved = hit * pending[ch];
        dxi[ch] += moved;
        pending[ch] -= moved;
    }
}

static void maxpool_backward(const mf_layer_ctx *c)
{
    if (!c->dx[0]) return;
    mf_window g;
    mf_window_of(c->model, c->node, &g);
    const size_t in_sample = (size_t)g.h * g.w * g.cin;
    const size_t out_sample = (size_t)g.oh * g.ow * g.cin;
    enum { BLOCK = 64 };
    float pending[BLOCK];
    for (int s = 0; s < c->n; s++) {
        const float *x = c->x[0] + s * in_sample;
        float *dx = c->dx[0] + s * in_sample;
        const float *y = c->y + s * out_sample;
        const float *dy = c->dy + s * out_sample;
        for (int oy = 0; oy < g.oh; oy++)
            for (int ox = 0; ox < g.ow; ox++) {
                size_t o = ((size_t)oy * g.ow + ox) * g.cin;
                size_t base = ((size_t)oy * g.sh * g.w + (size_t)ox * g.sw) * g.cin;
                for (int c0 = 0; c0 < g.cin; c0 += BLOCK) {
                    int nc = g.cin - c0 < BLOCK ? g.cin - c0 : BLOCK;
                    const float *yo = y + o + c0;
                    for (int ch = 0; ch < nc; ch++)
                        pending[ch] = dy[o + c0 + ch];
                    for (int ky = 0; ky < g.kh; ky++)
                        for (int kx = 0; kx < g.kw; kx++) {
                            size_t i = base + ((size_t)ky * g.w + kx) * g.cin + c0;
                            route_to_winner(nc, x + i, yo, dx + i, pending);
                        }
                }
            }
    }
}

static void avgpool_forward(const mf_layer_ctx *c)
{
    mf_window g;
    mf_window_of(c->model, c->node, &g);
    const size_t in_sample = (size_t)g.h * g.w * g.cin;
    const size_t out_sample = (size_t)g.oh * g.ow * g.cin;
    const float inv = 1.0f / (float)(g.kh * g.kw);
    for (int s = 0; s < c->n; s++) {
        const float *x = c->x[0] + s * in_sample;
        float *y = c->y + s * out_sample;
        for (int oy = 0; oy < g.oh; oy++)
            for (int ox = 0; ox < g.ow; ox++) {
                float *yo = y + ((size_t)oy * g.ow + ox) * g.cin;
                for (int ch = 0; ch < g.cin; ch++)
                    yo[ch] = 0.0f;
                for (int ky = 0; ky < g.kh; ky++)
                    for (int kx = 0; kx < g.kw; kx++) {
                        const float *xi =
                            x + ((size_t)(oy * g.sh + ky) * g.w + ox * g.sw + kx) * g.cin;
                        for (int ch = 0; ch < g.cin; ch++)
                            yo[ch] += xi[ch];
                    }
                for (int ch = 0; ch < g.cin; ch++)
                    yo[ch] *= inv;
            }
    }
}

static void avgpool_backward(const mf_layer_ctx *c)
{
    if (!c->dx[0]) return;
    mf_window g;
    mf_window_of(c->model, c->node, &g);
    const size_t in_sample = (size_t)g.h * g.w * g.cin;
    const size_t out_sample = (size_t)g.oh * g.ow * g.cin;
    const float inv = 1.0f / (float)(g.kh * g.kw);
    for (int s = 0; s < c->n; s++) {
        float *dx = c->dx[0] + s * in_sample;
        const float *dy = c->dy + s * out_sample;
        for (int oy = 0; oy < g.oh; oy++)
            for (int ox = 0; ox < g.ow; ox++) {
                const float *dyo = dy + ((size_t)oy * g.ow + ox) * g.cin;
                for (int ky = 0; ky < g.kh; ky++)
                    for (int kx = 0; kx < g.kw; kx++) {
                        float *dxi = dx + ((size_t)(oy * g.sh + ky) * g.w + ox * g.sw + kx) * g.cin;
                        for (int ch = 0; ch < g.cin; ch++)
                            dxi[ch] += dyo[ch] * inv;
                    }
            }
    }
}

#define POOL_KEYS (MF_KEY_KERNEL | MF_KEY_STRIDE)

const mf_op_info mf_op_maxpool1d_info = {
    "maxpool1d",      POOL_KEYS, 1,    1,    pool_infer,          NULL,        maxpool_forward,
    maxpool_backward, NULL,      NULL, NULL, MF_OPF_ACT_COMMUTES, MF_ACT_NONE, NULL};
const mf_op_info mf_op_maxpool2d_info = {
    "maxpool2d",      POOL_KEYS, 1,    1,    pool_infer,          NULL,        maxpool_forward,
    maxpool_backward, NULL,      NULL, NULL, MF_OPF_ACT_COMMUTES, MF_ACT_NONE, NULL};
const mf_op_info mf_op_avgpool1d_info = {
    "avgpool1d",      POOL_KEYS, 1,    1,    pool_infer, NULL,        avgpool_forward,
    avgpool_backward, NULL,      NULL, NULL, 0,          MF_ACT_NONE, NULL};
const mf_op_info mf_op_avgpool2d_info = {
    "avgpool2d",      POOL_KEYS, 1,    1,    pool_infer, NULL,        avgpool_forward,
    avgpool_backward, NULL,      NULL, NULL, 0,          MF_ACT_NONE, NULL};
