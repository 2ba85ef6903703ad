/* Layers that work element by element: input, relu and relu6 (activation layers, which folding
 * fuses into their producer when it can), add (with an optional fused activation), flatten
 * (shares its input's buffers: the layout does not change) and dropout (inverted, masks
 * derived from a hash so they do not depend on how the batch is split across threads). */
#include <string.h>

#include "layers.h"

static int input_infer(const mf_model *m, mf_node *node, mf_error *err)
{
    (void)err;
    node->out_shape = m->input_shape;
    return MF_OK;
}

const mf_op_info mf_op_input_info = {"input", 0,    0,    0,    input_infer, NULL,        NULL,
                                     NULL,    NULL, NULL, NULL, 0,           MF_ACT_NONE, NULL};

static int same_shape_infer(const mf_model *m, mf_node *node, mf_error *err)
{
    (void)err;
    node->out_shape = *mf_input_shape(m, node, 0);
    return MF_OK;
}

static void relu_forward(const mf_layer_ctx *c)
{
    size_t n = (size_t)c->n * mf_shape_size(&c->node->out_shape);
    for (size_t i = 0; i < n; i++)
        c->y[i] = c->x[0][i] > 0.0f ? c->x[0][i] : 0.0f;
}

static void relu_backward(const mf_layer_ctx *c)
{
    if (!c->dx[0]) return;
    size_t n = (size_t)c->n * mf_shape_size(&c->node->out_shape);
    for (size_t i = 0; i < n; i++)
        c->dx[0][i] += c->y[i] > 0.0f ? c->dy[i] : 0.0f;
}

/* relu6: min(max(x, 0), 6), its gradient passed where 0 < y < 6 (mf_act_backward) */
static void relu6_forward(const mf_layer_ctx *c)
{
    size_t n = (size_t)c->n * mf_shape_size(&c->node->out_shape);
    memcpy(c->y, c->x[0], sizeof(float) * n);
    mf_act_forward(c->y, n, MF_ACT_RELU6);
}

static void relu6_backward(const mf_layer_ctx *c)
{
    if (!c->dx[0]) return;
    size_t n = (size_t)c->n * mf_shape_size(&c->node->out_shape);
    mf_act_backward(c->dy, c->y, n, MF_ACT_RELU6);
    for (size_t i = 0; i < n; i++)
        c->dx[0][i] += c->dy[i];
}

const mf_op_info mf_op_relu6_info = {
    "relu6", 0,    1,    1, same_shape_infer, NULL, relu6_forward, relu6_backward,
    NULL,    NULL, NULL, 0, MF_ACT_RELU6,     NULL};

const mf_op_info mf_op_relu_info = {
    "relu", 0,    1,    1, same_shape_infer, NULL, relu_forward, relu_backward,
    NULL,   NULL, NULL, 0, MF_ACT_RELU,      NULL};

static int add_infer(const mf_model *m, mf_node *node, mf_error *err)
{
    const mf_shape *a = mf_input_shape(m, node, 0);
    char b1[64], b2[64];
    for (int i = 1; i < node->n_inputs; i++) {
        const mf_shape *b = mf_input_shape(m, node, i);
        if (!mf_shape_equal(a, b))
            return mf_node_fail(err, m, node,
                                "inputs must have the same shape, but '%s' outputs %s and '%s' "
                                "outputs %s",
                                m->nodes[node->inputs[0]].spec.name, mf_shape_str(a, b1, sizeof b1),
                                m->nodes[node->inputs[i]].spec.name,
                                mf_shape_str(b, b2, sizeof b2));
    }
    node->out_shape = *a;
    return MF_OK;
}

static void add_forward(const mf_layer_ctx *c)
{
    size_t n = (size_t)c->n * mf_shape_size(&c->node->out_shape);
    for (size_t i = 0; i < n; i++)
        c->y[i] = c->x[0][i] + c->x[1][i];
    for (int k = 2; k < c->node->n_inputs; k++)
        for (size_t i = 0; i < n; i++)
            c->y[i] += c->x[k][i];
    mf_act_forward(c->y, n, c->node->spec.activation);
}

static void add_backward(const mf_layer_ctx *c)
{
    size_t n = (size_t)c->n * mf_shape_size(&c->node->out_shape);
    mf_act_backward(c->dy, c->y, n, c->node->spec.activation);
    for (int k = 0; k < c->node->n_inputs; k++) {
        float *dx = c->dx[k];
        if (!dx) continue;
        for (size_t i = 0; i < n; i++)
            dx[i] += c->dy[i];
    }
}

const mf_op_info mf_op_add_info = {"add",       MF_KEY_ACTIVATION,
                                   2,           MF_MAX_INPUTS,
                                   add_infer,   NULL,
                                   add_forward, add_backward,
                                   NULL,        NULL,
                                   NULL,        0,
                                   MF_ACT_NONE, NULL};

static int flatten_infer(const mf_model *m, mf_node *node, mf_error *err)
{
    (void)err;
    size_t n = mf_shape_size(mf_input_shape(m, node, 0));
    node->out_shape = (mf_shape){1, {(int)n}};
    node->alias_input = 1;
    return MF_OK;
}

static void nothing(const mf_layer_ctx *c)
{
    (void)c; /* flatten: the workspace aliases output and gradient to the input's */
}

const mf_op_info mf_op_flatten_info = {"flatten", 0,       1,           1,    flatten_infer,
                                       NULL,      nothing, nothing,     NULL, NULL,
                                       NULL,      0,       MF_ACT_NONE, NULL};

static int dropout_infer(const mf_model *m, mf_node *node, mf_error *err)
{
    if (!(node->spec.rate >= 0.0f && node->spec.rate < 1.0f))
        return mf_node_fail(err, m, node, "rate must be in [0, 1) (got %g)", node->spec.rate);
    node->out_shape = *mf_input_shape(m, node, 0);
    node->aux_per_sample = mf_shape_size(&node->out_shape);
    return MF_OK;
}

static void dropout_forward(const mf_layer_ctx *c)
{
    size_t per = mf_shape_size(&c->node->out_shape);
    size_t n = (size_t)c->n * per;
    if (!c->training || c->node->spec.rate == 0.0f) {
        for (size_t i = 0; i < n; i++) {
            c->y[i] = c->x[0][i];
            c->aux[i] = 1.0f;
        }
        return;
    }
    const double keep = 1.0 - c->node->spec.rate;
    const float scale = (float)(1.0 / keep);
    const uint64_t node_key = mf_hash64(c->seed, (uint64_t)(c->node - c->model->nodes));
    for (int s = 0; s < c->n; s++) {
        uint64_t key = mf_hash64(node_key, (uint64_t)(c->sample_base + s));
        for (size_t j = 0; j < per; j++) {
            double u = (double)(mf_hash64(key, j) >> 11) * 0x1.0p-53;
            size_t i = (size_t)s * per + j;
            c->aux[i] = u < keep ? scale : 0.0f;
            c->y[i] = c->x[0][i] * c->aux[i];
        }
    }
}

static void dropout_backward(const mf_layer_ctx *c)
{
    if (!c->dx[0]) return;
    size_t n = (size_t)c->n * mf_shape_size(&c->node->out_shape);
    for (size_t i = 0; i < n; i++)
        c->dx[0][i] += c->dy[i] * c->aux[i];
}

const mf_op_info mf_op_dropout_info = {
    "dropout", MF_KEY_RATE, 1,    1, dropout_infer, NULL, dropout_forward, dropout_backward,
    NULL,      NULL,        NULL, 0, MF_ACT_NONE,   NULL};
