/* The model graph: building from layer specs, topological order, shape inference and the flat
 * parameter/state arrays. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers/layers.h"

mf_model *mf_model_new(const mf_shape *input_shape, mf_error *err)
{
    char buf[64];
    if (input_shape->rank < 1 || input_shape->rank > 3) {
        mf_error_set(err, "input shape must have 1 to 3 dimensions (got %d)", input_shape->rank);
        return NULL;
    }
    for (int i = 0; i < input_shape->rank; i++)
        if (input_shape->dim[i] < 1 || input_shape->dim[i] > MF_MAX_DIM) {
            mf_error_set(err, "input shape %s: every dimension must be in [1, %d]",
                         mf_shape_str(input_shape, buf, sizeof buf), MF_MAX_DIM);
            return NULL;
        }
    if (mf_shape_size(input_shape) > MF_MAX_ELEMS) {
        mf_error_set(err, "input shape %s is too large",
                     mf_shape_str(input_shape, buf, sizeof buf));
        return NULL;
    }
    mf_model *m = calloc(1, sizeof *m);
    if (m) m->nodes = calloc(MF_MAX_NODES, sizeof *m->nodes);
    if (!m || !m->nodes) {
        free(m);
        mf_error_set(err, "out of memory");
        return NULL;
    }
    m->input_shape = *input_shape;
    m->n_nodes = 1;
    mf_layer_spec_init(&m->nodes[0].spec, MF_OP_INPUT, "input");
    m->nodes[0].out_shape = *input_shape;
    m->output = -1;
    return m;
}

void mf_model_free(mf_model *m)
{
    if (!m) return;
    free(m->nodes);
    free(m->order);
    free(m->params);
    free(m->mask);
    free(m->state);
    free(m->config_text);
    free(m->pre.mean);
    free(m->pre.std);
    free(m->class_names);
    free(m);
}

int mf_model_set_preprocess(mf_model *m, int kind, size_t n, const float *mean, const float *std,
                            mf_error *err)
{
    size_t in = mf_model_input_size(m);
    size_t ch = (size_t)m->input_shape.dim[m->input_shape.rank - 1];
    size_t want = kind == 1 ? in : kind == 2 ? ch : 0;
    if (kind < 0 || kind > 2) return mf_error_set(err, "unknown normalisation kind %d", kind);
    if (n != want)
        return mf_error_set(err, "normalisation statistics have %zu entries, the input needs %zu",
                            n, want);
    for (size_t i = 0; i < n; i++)
        if (!(std[i] > 0.0f))
            return mf_error_set(err, "normalisation std[%zu] = %g is not positive", i, std[i]);
    float *mc = n ? malloc(sizeof(float) * n) : NULL, *sc = n ? malloc(sizeof(float) * n) : NULL;
    if (n && (!mc || !sc)) {
        free(mc);
        free(sc);
        return mf_error_set(err, "out of memory");
    }
    if (n) {
        memcpy(mc, mean, sizeof(float) * n);
        memcpy(sc, std, sizeof(float) * n);
    }
    free(m->pre.mean);
    free(m->pre.std);
    m->pre = (mf_preprocess){kind, n, mc, sc};
    return MF_OK;
}

void mf_model_preprocess(const mf_model *m, float *x, size_t count)
{
    if (m->pre.kind == 0 || m->pre.n == 0) return;
    size_t per = mf_model_input_size(m), n = m->pre.n;
    for (size_t s = 0; s < count; s++) {
        float *xs = x + s * per;
        for (size_t i = 0; i < per; i++)
            xs[i] = (xs[i] - m->pre.mean[i % n]) / m->pre.std[i % n];
    }
}

int mf_model_set_class_names(mf_model *m, int n, const char (*names)[MF_LABEL_MAX], mf_error *err)
{
    if (n < 0 || n > (1 << 16)) return mf_error_set(err, "%d class names is out of range", n);
    char(*copy)[MF_LABEL_MAX] = n ? calloc((size_t)n, MF_LABEL_MAX) : NULL;
    if (n && !copy) return mf_error_set(err, "out of memory");
    for (int i = 0; i < n; i++)
        snprintf(copy[i], MF_LABEL_MAX, "%s", names[i]);
    free(m->class_names);
    m->class_names = copy;
    m->n_class_names = n;
    return MF_OK;
}

int mf_model_find(const mf_model *m, const char *name)
{
    for (int i = 0; i < m->n_nodes; i++)
        if (!strcmp(m->nodes[i].spec.name, name)) return i;
    return -1;
}

static int valid_name(const char *s)
{
    /* names reach generated C and HDF5 paths: keep them to identifiers */
    if (!s[0] || (s[0] >= '0' && s[0] <= '9')) return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return 0;
    return 1;
}

int mf_model_add(mf_model *m, const mf_layer_spec *spec, mf_error *err)
{
    char field[32];
    snprintf(field, sizeof field, "layers[%d]", m->n_nodes - 1);
    const mf_op_info *info = mf_op_get(spec->op);
    if (!info || spec->op == MF_OP_INPUT) {
        mf_error_set(err, "layer '%s': unknown layer type (known: %s)", spec->name, mf_op_names());
        mf_error_at(err, NULL, 0, 0, field);
        return MF_ERR;
    }
    if (!valid_name(spec->name)) {
        mf_error_set(err, "layer name '%s' must be a C identifier (letters, digits, '_')",
                     spec->name);
        mf_error_at(err, NULL, 0, 0, field);
        return MF_ERR;
    }
    if (mf_model_find(m, spec->name) >= 0) {
        mf_error_set(err, "layer name '%s' is used twice", spec->name);
        mf_error_at(err, NULL, 0, 0, field);
        return MF_ERR;
    }
    if (m->n_nodes >= MF_MAX_NODES) {
        mf_error_set(err, "too many layers (at most %d)", MF_MAX_NODES - 1);
        mf_error_at(err, NULL, 0, 0, field);
        return MF_ERR;
    }
    int n_in = spec->n_inputs ? spec->n_inputs : 1;
    if (n_in < info->min_inputs || n_in > info->max_inputs) {
        if (info->min_inputs == info->max_inputs)
            mf_error_set(err, "layer '%s' (%s) takes %d input(s), got %d", spec->name, info->name,
                         info->min_inputs, n_in);
        else
            mf_error_set(err, "layer '%s' (%s) takes %d to %d inputs, got %d", spec->name,
                         info->name, info->min_inputs, info->max_inputs, n_in);
        mf_error_at(err, NULL, 0, 0, field);
        return MF_ERR;
    }
    mf_node *node = &m->nodes[m->n_nodes++];
    memset(node, 0, sizeof *node);
    node->spec = *spec;
    return MF_OK;
}

/* Resolves input names; an absent list means the previously added node. */
static int resolve_inputs(mf_model *m, mf_error *err)
{
    for (int i = 1; i < m->n_nodes; i++) {
        mf_node *node = &m->nodes[i];
        if (node->spec.n_inputs == 0) {
            node->n_inputs = 1;
            node->inputs[0] = i - 1;
            continue;
        }
        node->n_inputs = node->spec.n_inputs;
        for (int k = 0; k < node->spec.n_inputs; k++) {
            int j = mf_model_find(m, node->spec.inputs[k]);
            if (j < 0 || j == i) {
                mf_error_set(err, "layer '%s': input '%s' %s", node->spec.name,
                             node->spec.inputs[k],
                             j == i ? "is the layer itself" : "is not a layer of this model");
                char field[48];
                snprintf(field, sizeof field, "layers[%d].inputs[%d]", i - 1, k);
                mf_error_at(err, NULL, 0, 0, field);
                return MF_ERR;
            }
            node->inputs[k] = j;
        }
    }
    return MF_OK;
}

/* Kahn's algorithm, taking ready nodes in the order they were added so a list that is already
 * in order keeps it. */
static int topological_order(mf_model *m, mf_error *err)
{
    int n = m->n_nodes;
    int *pending = calloc((size_t)n, sizeof *pending);
    int *done = calloc((size_t)n, sizeof *done);
    m->order = calloc((size_t)n, sizeof *m->order);
    if (!pending || !done || !m->order) {
        free(pending);
        free(done);
        return mf_error_set(err, "out of memory");
    }
    for (int i = 1; i < n; i++)
        pending[i] = m->nodes[i].n_inputs;
    int count = 0, progress = 1;
    m->order[count++] = 0;
    done[0] = 1;
    /* O(n²) is fine at MF_MAX_NODES; it keeps the order stable and the code obvious. */
    while (progress) {
        progress = 0;
        for (int i = 1; i < n; i++) {
            if (done[i]) continue;
            int ready = 1;
            for (int k = 0; k < m->nodes[i].n_inputs; k++)
                if (!done[m->nodes[i].inputs[k]]) ready = 0;
            if (!ready) continue;
            done[i] = 1;
            m->order[count++] = i;
            progress = 1;
            break;
        }
    }
    int rc = MF_OK;
    if (count < n) {
        for (int i = 1; i < n; i++)
            if (!done[i]) {
                mf_error_set(err, "layer '%s' is part of a cycle of inputs", m->nodes[i].spec.name);
                char field[32];
                snprintf(field, sizeof field, "layers[%d]", i - 1);
                mf_error_at(err, NULL, 0, 0, field);
                break;
            }
        rc = MF_ERR;
    }
    free(pending);
    free(done);
    return rc;
}

/* The output is the one node nothing consumes. */
static int find_output(mf_model *m, mf_error *err)
{
    int *used = calloc((size_t)m->n_nodes, sizeof *used);
    if (!used) return mf_error_set(err, "out of memory");
    for (int i = 1; i < m->n_nodes; i++)
        for (int k = 0; k < m->nodes[i].n_inputs; k++)
            used[m->nodes[i].inputs[k]] = 1;
    int out = -1, rc = MF_OK;
    for (int i = 1; i < m->n_nodes && rc == MF_OK; i++) {
        if (used[i]) continue;
        if (out >= 0) {
            rc = mf_error_set(err,
                              "the outputs of layers '%s' and '%s' are both unused; a model has "
                              "one output",
                              m->nodes[out].spec.name, m->nodes[i].spec.name);
            char field[32];
            snprintf(field, sizeof field, "layers[%d]", out - 1);
            mf_error_at(err, NULL, 0, 0, field);
        }
        out = i;
    }
    free(used);
    m->output = out;
    return rc;
}

int mf_model_finalize(mf_model *m, mf_error *err)
{
    return mf_model_finalize_within(m, 2 * MF_MAX_PARAMS, err);
}

int mf_model_finalize_within(mf_model *m, size_t max_values, mf_error *err)
{
    if (m->n_nodes < 2) return mf_error_set(err, "the model has no layers");
    free(m->order);
    m->order = NULL;
    if (resolve_inputs(m, err) || topological_order(m, err) || find_output(m, err)) return MF_ERR;
    m->n_params = m->n_state = 0;
    for (int k = 1; k < m->n_nodes; k++) {
        mf_node *node = &m->nodes[m->order[k]];
        node->n_params = node->n_state = node->aux_per_sample = node->aux_fixed = 0;
        node->scratch_fixed = 0;
        node->alias_input = 0;
        if (mf_op_get(node->spec.op)->infer(m, node, err)) return MF_ERR;
        size_t size = mf_shape_size(&node->out_shape);
        if (size < 1 || size > MF_MAX_ELEMS)
            return mf_node_fail(err, m, node, "output size %zu is out of range", size);
        node->param_offset = m->n_params;
        node->state_offset = m->n_state;
        m->n_params += node->n_params;
        m->n_state += node->n_state;
        if (m->n_params > MF_MAX_PARAMS)
            return mf_node_fail(err, m, node, "the model has more than %zu parameters",
                                (size_t)MF_MAX_PARAMS);
    }
    if (m->n_params + m->n_state > max_values)
        return mf_error_set(err,
                            "the graph declares %zu parameters and state values, more than the "
                            "%zu values that can back them",
                            m->n_params + m->n_state, max_values);
    free(m->params);
    free(m->mask); /* a new parameter layout: no mask yet */
    m->mask = NULL;
    free(m->state);
    m->params = calloc(m->n_params ? m->n_params : 1, sizeof(float));
    m->state = calloc(m->n_state ? m->n_state : 1, sizeof(float));
    if (!m->params || !m->state) return mf_error_set(err, "out of memory");
    return MF_OK;
}

void mf_model_init_params(mf_model *m, uint64_t seed)
{
    for (int i = 1; i < m->n_nodes; i++) {
        const mf_node *node = &m->nodes[i];
        const mf_op_info *info = mf_op_get(node->spec.op);
        if (info->init)
            info->init(m, node, m->params + node->param_offset, m->state + node->state_offset,
                       mf_hash64(seed, (uint64_t)i));
    }
}

size_t mf_model_input_size(const mf_model *m)
{
    return mf_shape_size(&m->input_shape);
}

size_t mf_model_output_size(const mf_model *m)
{
    return mf_shape_size(&m->nodes[m->output].out_shape);
}

uint64_t mf_node_macs(const mf_model *m, int node)
{
    const mf_op_info *info = mf_op_get(m->nodes[node].spec.op);
    return info->macs ? info->macs(m, &m->nodes[node]) : 0;
}

uint64_t mf_model_macs(const mf_model *m)
{
    uint64_t total = 0;
    for (int i = 1; i < m->n_nodes; i++)
        total += mf_node_macs(m, i);
    return total;
}

int mf_node_params(const mf_model *m, int node, mf_param_desc out[4])
{
    const mf_op_info *info = mf_op_get(m->nodes[node].spec.op);
    return info->params ? info->params(m, &m->nodes[node], out) : 0;
}
