/* concat: 2 to 4 inputs joined along the channels (the last dimension), in input order. Every
 * input has the same rank and the same dimensions but the last; the output's last dimension is
 * the sum of theirs. Channels-last, so per position (every index but the last) the output holds
 * input 0's channels, then input 1's, and so on; backward hands each input its slice of the
 * gradient. Integer models give the output a calibrated format and requantize each input to it
 * (DESIGN.md §13). */
#include <string.h>

#include "layers.h"

static int concat_infer(const mf_model *m, mf_node *node, mf_error *err)
{
    const mf_shape *a = mf_input_shape(m, node, 0);
    char b1[64], b2[64];
    long channels = 0;
    for (int i = 0; i < node->n_inputs; i++) {
        const mf_shape *b = mf_input_shape(m, node, i);
        int same = b->rank == a->rank;
        for (int d = 0; same && d < a->rank - 1; d++)
            same = b->dim[d] == a->dim[d];
        if (!same)
            return mf_node_fail(err, m, node,
                                "inputs must have the same shape but for the channels (the last "
                                "dimension), but '%s' outputs %s and '%s' outputs %s",
                                m->nodes[node->inputs[0]].spec.name, mf_shape_str(a, b1, sizeof b1),
                                m->nodes[node->inputs[i]].spec.name,
                                mf_shape_str(b, b2, sizeof b2));
        channels += b->dim[b->rank - 1];
    }
    if (channels > MF_MAX_DIM)
        return mf_node_fail(err, m, node, "%ld channels in all exceed %d", channels, MF_MAX_DIM);
    node->out_shape = *a;
    node->out_shape.dim[a->rank - 1] = (int)channels;
    return MF_OK;
}

static void concat_forward(const mf_layer_ctx *c)
{
    const mf_shape *os = &c->node->out_shape;
    const size_t cout = (size_t)os->dim[os->rank - 1], positions = mf_shape_size(os) / cout;
    const size_t rows = (size_t)c->n * positions;
    size_t at = 0;
    for (int i = 0; i < c->node->n_inputs; i++) {
        const mf_shape *is = mf_input_shape(c->model, c->node, i);
        const size_t ci = (size_t)is->dim[is->rank - 1];
        for (size_t r = 0; r < rows; r++)
            memcpy(c->y + r * cout + at, c->x[i] + r * ci, sizeof(float) * ci);
        at += ci;
    }
}

static void concat_backward(const mf_layer_ctx *c)
{
    const mf_shape *os = &c->node->out_shape;
    const size_t cout = (size_t)os->dim[os->rank - 1], positions = mf_shape_size(os) / cout;
    const size_t rows = (size_t)c->n * positions;
    size_t at = 0;
    for (int i = 0; i < c->node->n_inputs; i++) {
        const mf_shape *is = mf_input_shape(c->model, c->node, i);
        const size_t ci = (size_t)is->dim[is->rank - 1];
        float *dx = c->dx[i];
        for (size_t r = 0; dx && r < rows; r++) {
            const float *dy = c->dy + r * cout + at;
            for (size_t k = 0; k < ci; k++)
                dx[r * ci + k] += dy[k];
        }
        at += ci;
    }
}

const mf_op_info mf_op_concat_info = {
    "concat", 0,    2, MF_MAX_INPUTS, concat_infer, NULL, concat_forward, concat_backward, NULL,
    NULL,     NULL, 0, MF_ACT_NONE,   NULL};
