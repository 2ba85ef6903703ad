/* dense: y = x·W + b with W stored [in][out] (Keras layout), one GEMM over the batch. */
#include <math.h>

#include "layers.h"

static int dense_infer(const mf_model *m, mf_node *node, mf_error *err)
{
    const mf_shape *in = mf_input_shape(m, node, 0);
    char buf[64];
    if (node->spec.filters < 1)
        return mf_node_fail(err, m, node, "units must be >= 1 (got %d)", node->spec.filters);
    if (in->rank != 1)
        return mf_node_fail(err, m, node,
                            "needs a flat input, but '%s' outputs %s; insert a flatten layer",
                            m->nodes[node->inputs[0]].spec.name, mf_shape_str(in, buf, sizeof buf));
    node->out_shape = (mf_shape){1, {node->spec.filters}};
    node->n_params =
        (size_t)in->dim[0] * node->spec.filters + (node->spec.use_bias ? node->spec.filters : 0);
    return MF_OK;
}

static void dense_forward(const mf_layer_ctx *c)
{
    int in = mf_input_shape(c->model, c->node, 0)->dim[0], out = c->node->spec.filters;
    const float *bias = c->node->spec.use_bias ? c->params + (size_t)in * out : NULL;
    mf_fill_bias(c->y, c->n, out, bias);
    mf_gemm_nn(c->n, out, in, c->x[0], c->params, 1.0f, c->y);
    mf_act_forward(c->y, (size_t)c->n * out, c->node->spec.activation);
}

static void dense_backward(const mf_layer_ctx *c)
{
    int in = mf_input_shape(c->model, c->node, 0)->dim[0], out = c->node->spec.filters;
    mf_act_backward(c->dy, c->y, (size_t)c->n * out, c->node->spec.activation);
    if (c->node->spec.use_bias) mf_bias_grad(c->dparams + (size_t)in * out, c->dy, c->n, out);
    mf_gemm_tn(in, out, c->n, c->x[0], c->dy, 1.0f, c->dparams);
    if (c->dx[0]) mf_gemm_nt(c->n, in, out, c->dy, c->params, 1.0f, c->dx[0]);
}

static void dense_init(const mf_model *m, const mf_node *node, float *params, float *state,
                       uint64_t seed)
{
    (void)state;
    double bound = 1.0 / sqrt((double)mf_input_shape(m, node, 0)->dim[0]);
    mf_rng rng;
    mf_rng_seed(&rng, seed);
    for (size_t i = 0; i < node->n_params; i++)
        params[i] = (float)((2.0 * mf_rng_uniform(&rng) - 1.0) * bound);
}

static uint64_t dense_macs(const mf_model *m, const mf_node *node)
{
    return (uint64_t)mf_input_shape(m, node, 0)->dim[0] * node->spec.filters;
}

static int dense_params(const mf_model *m, const mf_node *node, mf_param_desc out[4])
{
    int in = mf_input_shape(m, node, 0)->dim[0], units = node->spec.filters;
    out[0] = (mf_param_desc){"kernel", 0, 0, {2, {in, units}}, 0};
    if (!node->spec.use_bias) return 1;
    out[1] = (mf_param_desc){"bias", 0, (size_t)in * units, {1, {units}}, 0};
    return 2;
}

const mf_op_info mf_op_dense_info = {"dense",
                                     MF_KEY_UNITS | MF_KEY_USE_BIAS | MF_KEY_ACTIVATION,
                                     1,
                                     1,
                                     dense_infer,
                                     dense_init,
                                     dense_forward,
                                     dense_backward,
                                     dense_macs,
                                     dense_params,
                                     NULL,
                                     MF_OPF_WEIGHTED,
                                     MF_ACT_NONE,
                                     NULL};
