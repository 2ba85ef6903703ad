/* Workspaces: every buffer a forward/backward pass needs for up to `batch` samples, allocated
 * once (DESIGN.md §2), and the passes themselves, walking the topological order. */
#include <stdlib.h>
#include <string.h>

#include "layers/layers.h"

struct mf_workspace {
    const mf_model *model;
    int batch;
    int training;
    int n;             /* samples in the last forward */
    const float **act; /* per node: output (node 0: the caller's input) */
    float **grad;      /* per node: gradient of the output (NULL for node 0 / inference) */
    float **aux;       /* per node */
    float *scratch;    /* shared by all layers: one runs at a time */
    /* owned allocations */
    float *act_mem, *grad_mem, *aux_mem;
    size_t grad_floats;
    uint64_t seed;
    int sample_base;
    mf_forward_hook hook;
    void *hook_ctx;
};

void mf_workspace_set_hook(mf_workspace *ws, mf_forward_hook hook, void *ctx)
{
    ws->hook = hook;
    ws->hook_ctx = ctx;
}

void mf_workspace_free(mf_workspace *ws)
{
    if (!ws) return;
    free(ws->act);
    free(ws->grad);
    free(ws->aux);
    free(ws->scratch);
    free(ws->act_mem);
    free(ws->grad_mem);
    free(ws->aux_mem);
    free(ws);
}

int mf_workspace_batch(const mf_workspace *ws)
{
    return ws->batch;
}

static int owns_buffer(const mf_node *node, int index)
{
    return index > 0 && !node->alias_input;
}

mf_workspace *mf_workspace_new(const mf_model *m, int batch, int training, mf_error *err)
{
    if (batch < 1 || batch > (1 << 20)) {
        mf_error_set(err, "batch size %d is out of range [1, %d]", batch, 1 << 20);
        return NULL;
    }
    mf_workspace *ws = calloc(1, sizeof *ws);
    if (!ws) goto oom;
    ws->model = m;
    ws->batch = batch;
    ws->training = training;
    size_t n = (size_t)m->n_nodes;
    ws->act = calloc(n, sizeof *ws->act);
    ws->grad = calloc(n, sizeof *ws->grad);
    ws->aux = calloc(n, sizeof *ws->aux);
    if (!ws->act || !ws->grad || !ws->aux) goto oom;
    size_t act_total = 0, aux_total = 0, scratch = 0;
    for (int i = 0; i < m->n_nodes; i++) {
        const mf_node *node = &m->nodes[i];
        if (owns_buffer(node, i)) act_total += (size_t)batch * mf_shape_size(&node->out_shape);
        aux_total += (size_t)batch * node->aux_per_sample + node->aux_fixed;
        if (node->scratch_fixed > scratch) scratch = node->scratch_fixed;
    }
    if (act_total > MF_MAX_ELEMS || aux_total > MF_MAX_ELEMS) {
        mf_workspace_free(ws);
        mf_error_set(err, "batch %d needs %zu activation floats, more than the limit %zu", batch,
                     act_total + aux_total, (size_t)MF_MAX_ELEMS);
        return NULL;
    }
    ws->act_mem = malloc(sizeof(float) * (act_total ? act_total : 1));
    ws->aux_mem = calloc(aux_total ? aux_total : 1, sizeof(float));
    ws->scratch = malloc(sizeof(float) * (scratch ? scratch : 1));
    if (training) ws->grad_mem = calloc(act_total ? act_total : 1, sizeof(float));
    if (!ws->act_mem || !ws->aux_mem || !ws->scratch || (training && !ws->grad_mem)) goto oom;
    ws->grad_floats = training ? act_total : 0;
    size_t a = 0, x = 0;
    for (int k = 0; k < m->n_nodes; k++) {
        int i = m->order[k];
        const mf_node *node = &m->nodes[i];
        if (owns_buffer(node, i)) {
            ws->act[i] = ws->act_mem + a;
            if (training) ws->grad[i] = ws->grad_mem + a;
            a += (size_t)batch * mf_shape_size(&node->out_shape);
        } else if (i > 0) {
            /* an alias (flatten) shares its input's buffers; topological order makes sure
             * the input's are set */
            ws->act[i] = ws->act[node->inputs[0]];
            ws->grad[i] = ws->grad[node->inputs[0]];
        }
        ws->aux[i] = ws->aux_mem + x;
        x += (size_t)batch * node->aux_per_sample + node->aux_fixed;
    }
    return ws;
oom:
    mf_workspace_free(ws);
    mf_error_set(err, "out of memory allocating a workspace for batch %d", batch);
    return NULL;
}

static void fill_ctx(mf_workspace *ws, int i, const float *params, float *state, float *grad,
                     mf_layer_ctx *c)
{
    const mf_model *m = ws->model;
    const mf_node *node = &m->nodes[i];
    memset(c, 0, sizeof *c);
    c->model = m;
    c->node = node;
    c->n = ws->n;
    c->training = ws->training;
    c->seed = ws->seed;
    c->sample_base = ws->sample_base;
    for (int k = 0; k < node->n_inputs; k++) {
        c->x[k] = ws->act[node->inputs[k]];
        c->dx[k] = ws->grad[node->inputs[k]];
    }
    c->y = (float *)ws->act[i];
    c->dy = ws->grad[i];
    c->params = params + node->param_offset;
    c->dparams = grad ? grad + node->param_offset : NULL;
    c->state = state ? state + node->state_offset : NULL;
    c->aux = ws->aux[i];
    c->scratch = ws->scratch;
}

const float *mf_forward(mf_workspace *ws, const float *params, float *state, const float *x, int n,
                        int training, uint64_t seed, int sample_base)
{
    const mf_model *m = ws->model;
    ws->n = n < ws->batch ? n : ws->batch;
    ws->training = training;
    ws->seed = seed;
    ws->sample_base = sample_base;
    ws->act[0] = x;
    mf_layer_ctx c;
    for (int k = 1; k < m->n_nodes; k++) {
        int i = m->order[k];
        if (m->nodes[i].alias_input) {
            ws->act[i] = ws->act[m->nodes[i].inputs[0]];
            continue;
        }
        fill_ctx(ws, i, params, state, NULL, &c);
        if (ws->hook && ws->hook(ws->hook_ctx, ws, &c)) continue;
        mf_op_get(m->nodes[i].spec.op)->forward(&c);
    }
    return ws->act[m->output];
}

void mf_backward(mf_workspace *ws, const float *params, const float *dout, float *grad)
{
    const mf_model *m = ws->model;
    /* nothing to do without gradients, or when the output is the input itself (flattened) */
    if (!ws->grad_mem || !ws->grad[m->output]) return;
    /* gradients accumulate from every consumer, so they start at zero */
    memset(ws->grad_mem, 0, sizeof(float) * ws->grad_floats);
    memcpy(ws->grad[m->output], dout, sizeof(float) * ws->n * mf_model_output_size(m));
    mf_layer_ctx c;
    for (int k = m->n_nodes - 1; k >= 1; k--) {
        int i = m->order[k];
        if (m->nodes[i].alias_input) continue;
        fill_ctx(ws, i, params, NULL, grad, &c);
        mf_op_get(m->nodes[i].spec.op)->backward(&c);
    }
}

void mf_update_state(const mf_model *m, float *state, mf_workspace *const *ws, int n_shards)
{
    const float *aux[64];
    if (n_shards > 64) n_shards = 64;
    for (int i = 1; i < m->n_nodes; i++) {
        const mf_op_info *info = mf_op_get(m->nodes[i].spec.op);
        if (!info->update_state) continue;
        for (int s = 0; s < n_shards; s++)
            aux[s] = ws[s]->aux[i];
        info->update_state(&m->nodes[i], state + m->nodes[i].state_offset, aux, n_shards);
    }
}

const float *mf_workspace_output(const mf_workspace *ws, int node)
{
    return ws->act[node];
}
