/* The layer registry: one table entry per op (DESIGN.md §2). Adding a layer means one layer
 * file in core/layers/, one line here, its runtime kernel(s) and its tests. */
#include <string.h>

#include "layers/layers.h"

static const mf_op_info *const ops[MF_OP_COUNT] = {
    [MF_OP_INPUT] = &mf_op_input_info,
    [MF_OP_CONV1D] = &mf_op_conv1d_info,
    [MF_OP_CONV2D] = &mf_op_conv2d_info,
    [MF_OP_DENSE] = &mf_op_dense_info,
    [MF_OP_MAXPOOL1D] = &mf_op_maxpool1d_info,
    [MF_OP_MAXPOOL2D] = &mf_op_maxpool2d_info,
    [MF_OP_AVGPOOL1D] = &mf_op_avgpool1d_info,
    [MF_OP_AVGPOOL2D] = &mf_op_avgpool2d_info,
    [MF_OP_GLOBAL_MAXPOOL] = &mf_op_global_maxpool_info,
    [MF_OP_GLOBAL_AVGPOOL] = &mf_op_global_avgpool_info,
    [MF_OP_BATCHNORM] = &mf_op_batchnorm_info,
    [MF_OP_RELU] = &mf_op_relu_info,
    [MF_OP_ADD] = &mf_op_add_info,
    [MF_OP_FLATTEN] = &mf_op_flatten_info,
    [MF_OP_DROPOUT] = &mf_op_dropout_info,
};

const mf_op_info *mf_op_get(mf_op op)
{
    return (unsigned)op < MF_OP_COUNT ? ops[op] : NULL;
}

const mf_op_info *mf_op_lookup(const char *name, mf_op *op_out)
{
    /* "input" is not a layer a user can declare */
    for (int i = 1; i < MF_OP_COUNT; i++)
        if (!strcmp(ops[i]->name, name)) {
            if (op_out) *op_out = (mf_op)i;
            return ops[i];
        }
    return NULL;
}

const char *mf_op_names(void)
{
    return "conv1d, conv2d, dense, maxpool1d, maxpool2d, avgpool1d, avgpool2d, global_maxpool, "
           "global_avgpool, batchnorm, relu, add, flatten, dropout";
}

void mf_layer_spec_init(mf_layer_spec *s, mf_op op, const char *name)
{
    memset(s, 0, sizeof *s);
    s->op = op;
    if (name) {
        strncpy(s->name, name, MF_NAME_MAX - 1);
        s->name[MF_NAME_MAX - 1] = '\0';
    }
    s->use_bias = 1;
    s->padding = MF_PAD_VALID;
    s->activation = MF_ACT_NONE;
    s->momentum = 0.99f;
    s->epsilon = 1e-3f;
    s->rate = 0.0f;
}
