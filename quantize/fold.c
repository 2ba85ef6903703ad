/* The deployable float graph: what inference runs, with training-only structure removed.
 * - dropout is the identity at inference: dropped;
 * - batch-norm after a weighted layer (MF_OPF_WEIGHTED: conv, dense) that feeds nothing else
 *   folds into its kernel and bias: W' = W·γ/√(σ²+ε) per output channel, b' = (b − μ)·γ/√(σ²+ε)
 *   + β;
 * - an activation layer (an op with an `act`: relu) after a layer that fuses activations (its
 *   keys include `activation`: conv, dense, add) and feeds nothing else becomes that layer's
 *   fused activation; one after a max-pool (MF_OPF_ACT_COMMUTES) moves in front of it onto the
 *   pool's producer when that is a weighted layer (max and a nondecreasing activation commute),
 *   as in ResNetv1-6's block 1. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mf_quantize.h"

static int consumers(const mf_model *m, int node)
{
    int c = 0;
    for (int i = 1; i < m->n_nodes; i++)
        for (int k = 0; k < m->nodes[i].n_inputs; k++)
            c += m->nodes[i].inputs[k] == node;
    return c;
}

static int fusable(const mf_layer_spec *s)
{
    return (mf_op_get(s->op)->keys & MF_KEY_ACTIVATION) && s->activation == MF_ACT_NONE;
}

static int weighted(const mf_layer_spec *s)
{
    return (mf_op_get(s->op)->flags & MF_OPF_WEIGHTED) != 0;
}

mf_model *mf_fold_model(const mf_model *m, mf_error *err)
{
    int n = m->n_nodes;
    int *alias = malloc(sizeof(int) * n); /* original node → original node providing it */
    int *kept = calloc((size_t)n, sizeof(int));
    int *bn_of = malloc(sizeof(int) * n); /* conv/dense → the batch-norm folded into it */
    mf_layer_spec *spec = malloc(sizeof *spec * n);
    mf_model *out = NULL;
    if (!alias || !kept || !bn_of || !spec) {
        mf_error_set(err, "out of memory");
        goto done;
    }
    for (int i = 0; i < n; i++) {
        alias[i] = i;
        bn_of[i] = -1;
        spec[i] = m->nodes[i].spec;
    }
    for (int k = 1; k < n; k++) {
        int i = m->order[k];
        const mf_node *node = &m->nodes[i];
        int src = node->n_inputs ? alias[node->inputs[0]] : 0;
        int single = node->n_inputs && consumers(m, node->inputs[0]) == 1;
        if (node->spec.op == MF_OP_DROPOUT) {
            alias[i] = src;
            continue;
        }
        if (node->spec.op == MF_OP_BATCHNORM && single && src > 0 && weighted(&spec[src]) &&
            spec[src].activation == MF_ACT_NONE && bn_of[src] < 0) {
            bn_of[src] = i;
            spec[src].use_bias = 1;
            alias[i] = src;
            continue;
        }
        const mf_activation act = mf_op_get(node->spec.op)->act;
        if (act != MF_ACT_NONE && single && src > 0) {
            if (fusable(&spec[src])) {
                spec[src].activation = act;
                alias[i] = src;
                continue;
            }
            const mf_node *pool = &m->nodes[src];
            if (mf_op_get(spec[src].op)->flags & MF_OPF_ACT_COMMUTES) {
                int prod = alias[pool->inputs[0]];
                if (prod > 0 && fusable(&spec[prod]) && weighted(&spec[prod]) &&
                    consumers(m, pool->inputs[0]) == 1) {
                    spec[prod].activation = act;
                    alias[i] = src;
                    continue;
                }
            }
        }
        kept[i] = 1;
    }
    out = mf_model_new(&m->input_shape, err);
    if (!out) goto done;
    for (int i = 1; i < n; i++) {
        if (!kept[i]) continue;
        mf_layer_spec s = spec[i];
        const mf_node *node = &m->nodes[i];
        s.n_inputs = node->n_inputs;
        for (int k = 0; k < node->n_inputs; k++)
            snprintf(s.inputs[k], MF_NAME_MAX, "%s", m->nodes[alias[node->inputs[k]]].spec.name);
        if (mf_model_add(out, &s, err)) goto fail;
    }
    if (mf_model_finalize(out, err)) goto fail;
    if (m->mask && mf_model_mask_alloc(out, err)) goto fail;
    /* parameters: copied by name, batch-norm folded on the way */
    for (int j = 1; j < out->n_nodes; j++) {
        int i = mf_model_find(m, out->nodes[j].spec.name);
        mf_param_desc src_d[4], dst_d[4];
        int ns = mf_node_params(m, i, src_d), nd = mf_node_params(out, j, dst_d);
        float *dst = out->params + out->nodes[j].param_offset;
        const float *srcp = m->params + m->nodes[i].param_offset;
        for (int a = 0; a < nd; a++)
            for (int b = 0; b < ns; b++)
                if (!strcmp(dst_d[a].name, src_d[b].name)) {
                    memcpy(dst + dst_d[a].offset, srcp + src_d[b].offset,
                           sizeof(float) * mf_shape_size(&dst_d[a].shape));
                    if (m->mask) /* pruned kernel values stay 0 through the folding below */
                        memcpy(out->mask + out->nodes[j].param_offset + dst_d[a].offset,
                               m->mask + m->nodes[i].param_offset + src_d[b].offset,
                               mf_shape_size(&dst_d[a].shape));
                }
        float *dst_state = out->state + out->nodes[j].state_offset;
        const float *src_state = m->state + m->nodes[i].state_offset;
        memcpy(dst_state, src_state, sizeof(float) * out->nodes[j].n_state);
        if (bn_of[i] < 0) continue;
        /* fold: the kernel is a K × cout matrix (mf_param_cout, Keras layout), the bias [cout] */
        const mf_node *bn = &m->nodes[bn_of[i]];
        int ch = (int)(bn->n_params / 2);
        const float *gamma = m->params + bn->param_offset, *beta = gamma + ch;
        const float *mean = m->state + bn->state_offset, *var = mean + ch;
        size_t kernel = mf_shape_size(&dst_d[0].shape);
        float *w = dst + dst_d[0].offset, *bias = dst + dst_d[1].offset;
        int had_bias = m->nodes[i].spec.use_bias;
        for (int c = 0; c < ch; c++) {
            double scale = gamma[c] / sqrt((double)var[c] + bn->spec.epsilon);
            for (size_t e = (size_t)c; e < kernel; e += (size_t)ch)
                w[e] = (float)(w[e] * scale);
            double b0 = had_bias ? bias[c] : 0.0;
            bias[c] = (float)((b0 - mean[c]) * scale + beta[c]);
        }
    }
    if (m->pre.kind &&
        mf_model_set_preprocess(out, m->pre.kind, m->pre.n, m->pre.mean, m->pre.std, err))
        goto fail;
    if (m->n_class_names &&
        mf_model_set_class_names(out, m->n_class_names, (const char(*)[MF_LABEL_MAX])m->class_names,
                                 err))
        goto fail;
    snprintf(out->dataset, sizeof out->dataset, "%s", m->dataset);
    if (m->config_text && !(out->config_text = strdup(m->config_text))) {
        mf_error_set(err, "out of memory");
        goto fail;
    }
    goto done;
fail:
    mf_model_free(out);
    out = NULL;
done:
    free(alias);
    free(kept);
    free(bn_of);
    free(spec);
    return out;
}
