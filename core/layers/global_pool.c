/* global_maxpool and global_avgpool: reduce every position of a 1D or 2D input to one value
 * per channel; the output is flat (C). */
#include <stdint.h>

#include "layers.h"

static int gpool_infer(const mf_model *m, mf_node *node, mf_error *err)
{
    const mf_shape *in = mf_input_shape(m, node, 0);
    char buf[64];
    if (in->rank < 2)
        return mf_node_fail(err, m, node,
                            "needs a 1D or 2D input with channels, but '%s' outputs %s",
                            m->nodes[node->inputs[0]].spec.name, mf_shape_str(in, buf, sizeof buf));
    node->out_shape = (mf_shape){1, {in->dim[in->rank - 1]}};
    if (node->spec.op == MF_OP_GLOBAL_MAXPOOL)
        node->aux_per_sample = (size_t)node->out_shape.dim[0];
    return MF_OK;
}

static void gpool_geometry(const mf_layer_ctx *c, size_t *positions, int *ch)
{
    const mf_shape *in = mf_input_shape(c->model, c->node, 0);
    *ch = in->dim[in->rank - 1];
    *positions = mf_shape_size(in) / (size_t)*ch;
}

static void gmax_forward(const mf_layer_ctx *c)
{
    size_t p;
    int ch;
    gpool_geometry(c, &p, &ch);
    int32_t *arg = (int32_t *)c->aux;
    for (int s = 0; s < c->n; s++) {
        const float *x = c->x[0] + (size_t)s * p * ch;
        float *y = c->y + (size_t)s * ch;
        int32_t *a = arg + (size_t)s * ch;
        for (int j = 0; j < ch; j++) {
            y[j] = x[j];
            a[j] = j;
        }
        for (size_t i = 1; i < p; i++)
            for (int j = 0; j < ch; j++)
                if (x[i * ch + j] > y[j]) {
                    y[j] = x[i * ch + j];
                    a[j] = (int32_t)(i * ch + j);
                }
    }
}

static void gmax_backward(const mf_layer_ctx *c)
{
    if (!c->dx[0]) return;
    size_t p;
    int ch;
    gpool_geometry(c, &p, &ch);
    const int32_t *arg = (const int32_t *)c->aux;
    for (int s = 0; s < c->n; s++)
        for (int j = 0; j < ch; j++)
            c->dx[0][(size_t)s * p * ch + arg[(size_t)s * ch + j]] += c->dy[(size_t)s * ch + j];
}

static void gavg_forward(const mf_layer_ctx *c)
{
    size_t p;
    int ch;
    gpool_geometry(c, &p, &ch);
    const float inv = 1.0f / (float)p;
    for (int s = 0; s < c->n; s++) {
        const float *x = c->x[0] + (size_t)s * p * ch;
        float *y = c->y + (size_t)s * ch;
        for (int j = 0; j < ch; j++)
            y[j] = 0.0f;
        for (size_t i = 0; i < p; i++)
            for (int j = 0; j < ch; j++)
                y[j] += x[i * ch + j];
        for (int j = 0; j < ch; j++)
            y[j] *= inv;
    }
}

static void gavg_backward(const mf_layer_ctx *c)
{
    if (!c->dx[0]) return;
    size_t p;
    int ch;
    gpool_geometry(c, &p, &ch);
    const float inv = 1.0f / (float)p;
    for (int s = 0; s < c->n; s++) {
        float *dx = c->dx[0] + (size_t)s * p * ch;
        const float *dy = c->dy + (size_t)s * ch;
        for (size_t i = 0; i < p; i++)
            for (int j = 0; j < ch; j++)
                dx[i * ch + j] += dy[j] * inv;
    }
}

const mf_op_info mf_op_global_maxpool_info = {
    "global_maxpool", 0,    1,    1,    gpool_infer, NULL,        gmax_forward,
    gmax_backward,    NULL, NULL, NULL, 0,           MF_ACT_NONE, NULL};
const mf_op_info mf_op_global_avgpool_info = {
    "global_avgpool", 0,    1,    1,    gpool_infer, NULL,        gavg_forward,
    gavg_backward,    NULL, NULL, NULL, 0,           MF_ACT_NONE, NULL};
