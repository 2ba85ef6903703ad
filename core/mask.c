/* Pruning masks: one flag per parameter, parallel to the flat parameter array (DESIGN §2); the
 * trainer applies them after every optimizer step, model files carry them (model_io.c), folding
 * keeps them (quantize/fold.c). */
#include <stdlib.h>
#include <string.h>

#include "mf_core.h"

int mf_node_kernel(const mf_model *m, int node, size_t *offset, size_t *count)
{
    if (node < 1 || node >= m->n_nodes) return 0;
    mf_param_desc d[4];
    int n = mf_node_params(m, node, d);
    for (int k = 0; k < n; k++)
        if (!d[k].is_state && !strcmp(d[k].name, "kernel")) {
            *offset = m->nodes[node].param_offset + d[k].offset;
            *count = mf_shape_size(&d[k].shape);
            return 1;
        }
    return 0;
}

int mf_model_mask_alloc(mf_model *m, mf_error *err)
{
    if (m->mask) return MF_OK;
    m->mask = malloc(m->n_params ? m->n_params : 1);
    if (!m->mask) return mf_error_set(err, "out of memory for the pruning mask");
    memset(m->mask, 1, m->n_params);
    return MF_OK;
}

void mf_model_mask_apply(mf_model *m)
{
    if (!m->mask) return;
    for (size_t i = 0; i < m->n_params; i++)
        if (!m->mask[i]) m->params[i] = 0.0f;
}

size_t mf_model_mask_zeros(const mf_model *m, int node, size_t *total)
{
    size_t zeros = 0, all = 0;
    for (int i = node < 0 ? 1 : node; i < (node < 0 ? m->n_nodes : node + 1); i++) {
        size_t off, n;
        if (!mf_node_kernel(m, i, &off, &n)) continue;
        all += n;
        if (!m->mask) continue;
        for (size_t k = 0; k < n; k++)
            zeros += !m->mask[off + k];
    }
    if (total) *total = all;
    return zeros;
}
