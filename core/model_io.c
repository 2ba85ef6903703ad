/* Model files (DESIGN.md §3) through the HDF5 C API.
 *
 * Layout (format version 2 when the model has pruning masks, else 1, which has none):
 *   /                      attributes: mcuforge_format_version (int32), mcuforge_version,
 *                          git_describe (strings), input_shape (int32[rank]), layer_names
 *                          (string[n], node order without the input), output (string), config
 *                          (string, the resolved YAML; only if the model has one)
 *   /layers/<name>         one group per layer; attributes: index (int32, position in
 *                          layer_names), type (string), inputs (string[k], "input" = the model
 *                          input) and the hyperparameters the op accepts (filters, units,
 *                          kernel, stride, use_bias as int32; padding "same"/"valid", activation
 *                          "relu"/"none" as strings; rate, momentum, epsilon as float32)
 *   /layers/<name>/<param> float32 datasets (kernel, bias, gamma, beta, moving_mean,
 *                          moving_variance) in Keras layout, shaped as mf_node_params() says.
 *   /layers/<name>/kernel_mask  int8, the kernel's shape: 1 kept, 0 pruned (the kernel value
 *                          there is 0); written for every kernel of a model with a pruning mask
 *                          (version 2), absent otherwise.
 * Strings are variable-length UTF-8 (readers also accept fixed-length strings).
 *
 * The checked reads and writes are core/mf_h5.h's: errors say err->file = the model file and
 * err->field = the HDF5 path of the object concerned. Saving is atomic (mf_h5_write_atomic).
 * Loading checks every dataset's storage before the graph is built, every tensor against the
 * graph before any is read, and every value read: finite, std > 0, moving_variance >= 0. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mf_h5.h"
#include "mf_model_io.h"

#ifndef MF_GIT_DESCRIBE
#define MF_GIT_DESCRIBE "unknown"
#endif

#define ROOT_FIELD       "/"
#define LAYERS_GROUP     "layers"
#define INPUT_NAME       "input"
#define MAX_CONFIG_BYTES ((size_t)16 << 20)
#define FIELD_MAX        160

/* Layer names become HDF5 link names: one path component, no '/', not "." or "..". */
static int name_ok(const char *s)
{
    size_t len = strlen(s);
    return len > 0 && len < MF_NAME_MAX && !strchr(s, '/') && strcmp(s, ".") && strcmp(s, "..");
}

static const char *node_name(const mf_model *m, int i)
{
    return i == 0 ? INPUT_NAME : m->nodes[i].spec.name;
}

/* ---- writing ---- */

/* A float32 dataset shaped like shape (rank 0: a scalar). */
static int write_tensor(const mf_h5 *c, hid_t g, const char *name, const char *field,
                        const mf_shape *shape, const float *data)
{
    hsize_t dims[MF_MAX_RANK];
    for (int i = 0; i < shape->rank; i++)
        dims[i] = (hsize_t)shape->dim[i];
    return mf_h5_dataset_write(c, g, name, field, MF_H5_F32, shape->rank, dims, data);
}

/* A window size or stride: an int32 scalar (1D, or one size for height and width), or int32[2]
 * [height, width] when the layer gives the height on its own (h > 0). */
static int write_size(const mf_h5 *c, hid_t g, const char *field, const char *name, int h, int w)
{
    if (h <= 0) return mf_h5_attr_write_int(c, g, field, name, w);
    const int32_t hw[2] = {h, w};
    return mf_h5_attr_write(c, g, field, name, MF_H5_I32, 2, hw);
}

/* Its reading: *h = 0 for a scalar (or a list of one), else the first of two values. */
static int read_size(const mf_h5 *c, hid_t g, const char *field, const char *name, int lo, int *h,
                     int *w)
{
    long long v[2];
    size_t n = 0;
    if (mf_h5_attr_read_ints(c, g, field, name, 1, 2, lo, MF_MAX_DIM, v, &n)) return MF_ERR;
    *h = n == 2 ? (int)v[0] : 0;
    *w = (int)v[n - 1];
    return MF_OK;
}

/* A kernel's pruning mask: int8 flags shaped like the kernel (kfield: the kernel's path). */
static int write_mask(const mf_h5 *c, hid_t g, const char *kfield, const mf_shape *shape,
                      const uint8_t *mask)
{
    char field[FIELD_MAX + MF_NAME_MAX + 8];
    snprintf(field, sizeof field, "%s_mask", kfield);
    hsize_t dims[MF_MAX_RANK];
    for (int i = 0; i < shape->rank; i++)
        dims[i] = (hsize_t)shape->dim[i];
    return mf_h5_dataset_write(c, g, "kernel_mask", field, MF_H5_I8, shape->rank, dims, mask);
}

static int write_layer(const mf_h5 *c, hid_t layers, const mf_model *m, int i)
{
    const mf_node *nd = &m->nodes[i];
    const mf_layer_spec *sp = &nd->spec;
    const mf_op_info *op = mf_op_get(sp->op);
    char field[FIELD_MAX];
    snprintf(field, sizeof field, "/%s/%s", LAYERS_GROUP, sp->name);
    int rc = MF_ERR;
    hid_t g = mf_h5_group_create(c, layers, sp->name, field);
    if (g < 0) goto done;
    const char *inputs[MF_MAX_INPUTS];
    if (nd->n_inputs < 0 || nd->n_inputs > MF_MAX_INPUTS) {
        mf_h5_fail(c, field, "layer has %d inputs (at most %d)", nd->n_inputs, MF_MAX_INPUTS);
        goto done;
    }
    for (int k = 0; k < nd->n_inputs; k++) {
        int src = nd->inputs[k];
        if (src < 0 || src >= m->n_nodes) {
            mf_h5_fail(c, field, "input %d refers to node %d of %d", k, src, m->n_nodes);
            goto done;
        }
        inputs[k] = node_name(m, src);
    }
    if (mf_h5_attr_write_int(c, g, field, "index", i - 1) ||
        mf_h5_attr_write_str(c, g, field, "type", op->name) ||
        mf_h5_attr_write_strs(c, g, field, "inputs", inputs, nd->n_inputs))
        goto done;
    unsigned keys = op->keys;
    if (((keys & MF_KEY_FILTERS) && mf_h5_attr_write_int(c, g, field, "filters", sp->filters)) ||
        ((keys & MF_KEY_UNITS) && mf_h5_attr_write_int(c, g, field, "units", sp->filters)) ||
        ((keys & MF_KEY_KERNEL) && write_size(c, g, field, "kernel", sp->kernel_h, sp->kernel)) ||
        ((keys & MF_KEY_STRIDE) && write_size(c, g, field, "stride", sp->stride_h, sp->stride)) ||
        ((keys & MF_KEY_PADDING) &&
         mf_h5_attr_write_str(c, g, field, "padding",
                              sp->padding == MF_PAD_SAME ? "same" : "valid")) ||
        ((keys & MF_KEY_USE_BIAS) &&
         mf_h5_attr_write_int(c, g, field, "use_bias", sp->use_bias ? 1 : 0)) ||
        ((keys & MF_KEY_ACTIVATION) &&
         mf_h5_attr_write_str(c, g, field, "activation", mf_activation_name(sp->activation))) ||
        ((keys & MF_KEY_RATE) && mf_h5_attr_write_float(c, g, field, "rate", sp->rate)) ||
        ((keys & MF_KEY_MOMENTUM) &&
         mf_h5_attr_write_float(c, g, field, "momentum", sp->momentum)) ||
        ((keys & MF_KEY_EPSILON) && mf_h5_attr_write_float(c, g, field, "epsilon", sp->epsilon)))
        goto done;
#define WRITE_INT_KEY_(key, bit, min, max, def)                                                    \
    if ((keys & (bit)) && mf_h5_attr_write_int(c, g, field, #key, sp->key)) goto done;
    MF_LAYER_INT_KEYS(WRITE_INT_KEY_)
#undef WRITE_INT_KEY_

    mf_param_desc d[4];
    int np = mf_node_params(m, i, d);
    for (int k = 0; k < np; k++) {
        char dfield[FIELD_MAX + MF_NAME_MAX + 2];
        snprintf(dfield, sizeof dfield, "%s/%s", field, d[k].name);
        size_t size = mf_shape_size(&d[k].shape);
        size_t base = d[k].is_state ? nd->state_offset : nd->param_offset;
        size_t total = d[k].is_state ? m->n_state : m->n_params;
        const float *arr = d[k].is_state ? m->state : m->params;
        if (!arr || base + d[k].offset + size > total) {
            mf_h5_fail(c, dfield, "tensor lies outside the model's %s array",
                       d[k].is_state ? "state" : "parameter");
            goto done;
        }
        if (write_tensor(c, g, d[k].name, dfield, &d[k].shape, arr + base + d[k].offset)) goto done;
        if (m->mask && !d[k].is_state && !strcmp(d[k].name, "kernel") &&
            write_mask(c, g, dfield, &d[k].shape, m->mask + base + d[k].offset))
            goto done;
    }
    rc = MF_OK;
done:
    if (g >= 0 && H5Gclose(g) < 0 && rc == MF_OK)
        rc = mf_h5_fail_hdf5(c, field, "cannot close group");
    return rc;
}

static const char *const norm_names[] = {"none", "element", "channel"};

/* Optional parts: dataset name, class names, and the /preprocessing group (normalize
 * attribute, mean and std datasets). */
static int write_extras(const mf_h5 *c, hid_t f, const mf_model *m)
{
    if (m->dataset[0] && mf_h5_attr_write_str(c, f, ROOT_FIELD, "dataset", m->dataset))
        return MF_ERR;
    if (m->n_class_names > 0) {
        const char **names = malloc(sizeof *names * (size_t)m->n_class_names);
        if (!names) return mf_h5_fail(c, ROOT_FIELD, "out of memory");
        for (int i = 0; i < m->n_class_names; i++)
            names[i] = m->class_names[i];
        int rc = mf_h5_attr_write_strs(c, f, ROOT_FIELD, "class_names", names, m->n_class_names);
        free(names);
        if (rc) return MF_ERR;
    }
    if (m->pre.kind == 0) return MF_OK;
    const char *field = "/preprocessing";
    hid_t g = mf_h5_group_create(c, f, "preprocessing", field);
    if (g < 0) return MF_ERR;
    mf_shape shape = {1, {(int)m->pre.n}};
    int rc = mf_h5_attr_write_str(c, g, field, "normalize", norm_names[m->pre.kind]) ||
                     write_tensor(c, g, "mean", field, &shape, m->pre.mean) ||
                     write_tensor(c, g, "std", field, &shape, m->pre.std)
                 ? MF_ERR
                 : MF_OK;
    if (H5Gclose(g) < 0 && rc == MF_OK) rc = mf_h5_fail_hdf5(c, field, "cannot close group");
    return rc;
}

static int write_model(const mf_h5 *c, hid_t f, const mf_model *m)
{
    int rc = MF_ERR;
    hid_t layers = -1;
    const char **names = NULL;
    int n = m->n_nodes - 1;
    int32_t shape[MF_MAX_RANK];
    for (int i = 0; i < m->input_shape.rank; i++)
        shape[i] = m->input_shape.dim[i];
    names = malloc(sizeof *names * (size_t)(n > 0 ? n : 1));
    if (!names) {
        mf_h5_fail(c, ROOT_FIELD, "out of memory");
        goto done;
    }
    for (int i = 0; i < n; i++)
        names[i] = m->nodes[i + 1].spec.name;
    /* a model without masks is written as version 1, which earlier mcuforge builds read */
    if (mf_h5_attr_write_int(c, f, ROOT_FIELD, "mcuforge_format_version",
                             m->mask ? MF_FORMAT_VERSION : 1) ||
        mf_h5_attr_write_str(c, f, ROOT_FIELD, "mcuforge_version", MF_VERSION) ||
        mf_h5_attr_write_str(c, f, ROOT_FIELD, "git_describe", MF_GIT_DESCRIBE) ||
        mf_h5_attr_write(c, f, ROOT_FIELD, "input_shape", MF_H5_I32, m->input_shape.rank, shape) ||
        mf_h5_attr_write_strs(c, f, ROOT_FIELD, "layer_names", names, n) ||
        mf_h5_attr_write_str(c, f, ROOT_FIELD, "output", node_name(m, m->output)) ||
        (m->config_text && mf_h5_attr_write_str(c, f, ROOT_FIELD, "config", m->config_text)) ||
        write_extras(c, f, m))
        goto done;
    layers = mf_h5_group_create(c, f, LAYERS_GROUP, "/" LAYERS_GROUP);
    if (layers < 0) goto done;
    for (int i = 1; i < m->n_nodes; i++)
        if (write_layer(c, layers, m, i)) goto done;
    rc = MF_OK;
done:
    if (layers >= 0 && H5Gclose(layers) < 0 && rc == MF_OK)
        rc = mf_h5_fail_hdf5(c, "/" LAYERS_GROUP, "cannot close group");
    free(names);
    return rc;
}

/* What can be checked without HDF5: the graph is one a loader would accept. */
static int check_savable(const mf_h5 *c, const mf_model *m)
{
    if (!m || !m->nodes || m->n_nodes < 1 || m->n_nodes > MF_MAX_NODES)
        return mf_h5_fail(c, NULL, "cannot save: the model is empty or not finalized");
    if (m->output < 0 || m->output >= m->n_nodes)
        return mf_h5_fail(c, NULL, "cannot save: the model has no output node");
    if (m->input_shape.rank < 1 || m->input_shape.rank > MF_MAX_RANK)
        return mf_h5_fail(c, NULL, "cannot save: input rank %d (expected 1 to %d)",
                          m->input_shape.rank, MF_MAX_RANK);
    for (int i = 1; i < m->n_nodes; i++) {
        const char *name = m->nodes[i].spec.name;
        if (!memchr(name, '\0', MF_NAME_MAX) || !name_ok(name) || !strcmp(name, INPUT_NAME))
            return mf_h5_fail(c, NULL,
                              "cannot save: layer %d has the name '%.*s', which cannot be a group "
                              "name (empty, '/', '.', '..' or '" INPUT_NAME "')",
                              i - 1, MF_NAME_MAX - 1, name);
        if ((unsigned)m->nodes[i].spec.op >= MF_OP_COUNT || m->nodes[i].spec.op == MF_OP_INPUT)
            return mf_h5_fail(c, NULL, "cannot save: layer '%s' has no valid type", name);
    }
    return MF_OK;
}

int mf_model_write_h5(const mf_model *m, mf_h5 *h)
{
    if (check_savable(h, m)) return MF_ERR;
    return write_model(h, h->file, m);
}

static int write_file(mf_h5 *h, void *m)
{
    return mf_model_write_h5(m, h);
}

int mf_model_save(const mf_model *m, const char *path, mf_error *err)
{
    /* nothing is created for a model that cannot be saved */
    mf_h5 c = {.file = -1, .name = path, .err = err};
    if (check_savable(&c, m)) return MF_ERR;
    return mf_h5_write_atomic(path, write_file, (void *)m, err);
}

/* ---- reading ---- */

static int read_layer_spec(const mf_h5 *c, hid_t layers, const char *name, mf_layer_spec *sp,
                           int n_layers, int *index, size_t *stored)
{
    char field[FIELD_MAX];
    snprintf(field, sizeof field, "/%s/%s", LAYERS_GROUP, name);
    int rc = MF_ERR;
    char **inputs = NULL;
    size_t n_inputs = 0;
    hid_t g = mf_h5_group_open(c, layers, name, field);
    if (g < 0) return MF_ERR;
    char type[MF_NAME_MAX], text[16];
    if (mf_h5_attr_read_str(c, g, field, "type", type, sizeof type)) goto done;
    mf_op op;
    const mf_op_info *info = mf_op_lookup(type, &op);
    if (!info || op == MF_OP_INPUT) {
        mf_h5_fail(c, field, "unknown layer type '%s' (known: %s)", type, mf_op_names());
        goto done;
    }
    mf_layer_spec_init(sp, op, name);
    /* before the graph is built (and its parameters allocated): the group's datasets hold the
     * data they declare */
    if (mf_h5_group_check_stored(c, g, field, stored) ||
        mf_h5_attr_read_int(c, g, field, "index", 0, n_layers - 1, index))
        goto done;
    if (mf_h5_attr_read_strs(c, g, field, "inputs",
                             (size_t)(info->min_inputs > 0 ? info->min_inputs : 1), MF_MAX_INPUTS,
                             MF_NAME_MAX - 1, &inputs, &n_inputs))
        goto done;
    sp->n_inputs = (int)n_inputs;
    for (size_t k = 0; k < n_inputs; k++)
        snprintf(sp->inputs[k], MF_NAME_MAX, "%s", inputs[k]);
    unsigned keys = info->keys;
    if (((keys & MF_KEY_FILTERS) &&
         mf_h5_attr_read_int(c, g, field, "filters", 1, MF_MAX_DIM, &sp->filters)) ||
        ((keys & MF_KEY_UNITS) &&
         mf_h5_attr_read_int(c, g, field, "units", 1, MF_MAX_DIM, &sp->filters)) ||
        ((keys & MF_KEY_KERNEL) &&
         read_size(c, g, field, "kernel", 1, &sp->kernel_h, &sp->kernel)) ||
        ((keys & MF_KEY_STRIDE) &&
         read_size(c, g, field, "stride", 0, &sp->stride_h, &sp->stride)) ||
        ((keys & MF_KEY_USE_BIAS) &&
         mf_h5_attr_read_int(c, g, field, "use_bias", 0, 1, &sp->use_bias)) ||
        ((keys & MF_KEY_RATE) && mf_h5_attr_read_float(c, g, field, "rate", &sp->rate)) ||
        ((keys & MF_KEY_MOMENTUM) &&
         mf_h5_attr_read_float(c, g, field, "momentum", &sp->momentum)) ||
        ((keys & MF_KEY_EPSILON) && mf_h5_attr_read_float(c, g, field, "epsilon", &sp->epsilon)))
        goto done;
#define READ_INT_KEY_(key, bit, min, max, def)                                                     \
    if ((keys & (bit)) && mf_h5_attr_read_int(c, g, field, #key, (min), (max), &sp->key)) goto done;
    MF_LAYER_INT_KEYS(READ_INT_KEY_)
#undef READ_INT_KEY_
    if (keys & MF_KEY_PADDING) {
        if (mf_h5_attr_read_str(c, g, field, "padding", text, sizeof text)) goto done;
        if (!strcmp(text, "same")) {
            sp->padding = MF_PAD_SAME;
        } else if (!strcmp(text, "valid")) {
            sp->padding = MF_PAD_VALID;
        } else {
            mf_h5_fail(c, field,
                       "attribute 'padding': expected \"same\" or \"valid\", found \"%s\"", text);
            goto done;
        }
    }
    if (keys & MF_KEY_ACTIVATION) {
        if (mf_h5_attr_read_str(c, g, field, "activation", text, sizeof text)) goto done;
        if (!mf_activation_lookup(text, &sp->activation)) {
            char names[200];
            mf_h5_fail(c, field, "attribute 'activation': expected %s, found \"%s\"",
                       mf_activation_list(names, sizeof names), text);
            goto done;
        }
    }
    rc = MF_OK;
done:
    mf_h5_strs_free(inputs, n_inputs);
    H5Oclose(g);
    return rc;
}

/* The values a tensor may hold: every value finite; a standard deviation (/preprocessing/std)
 * also positive, a batch-norm moving_variance also non-negative. The first value outside is an
 * error naming the dataset (field) and the value's index (and its position for rank > 1). */
static int check_values(const mf_h5 *c, const char *field, const mf_param_desc *d, const float *v)
{
    int positive = !strcmp(d->name, "std"), nonneg = !strcmp(d->name, "moving_variance");
    size_t n = mf_shape_size(&d->shape);
    for (size_t i = 0; i < n; i++) {
        const char *want = !isfinite(v[i])              ? "a finite number"
                           : positive && !(v[i] > 0.0f) ? "a positive standard deviation"
                           : nonneg && v[i] < 0.0f      ? "a variance >= 0"
                                                        : NULL;
        if (!want) continue;
        char pos[96] = "";
        if (d->shape.rank > 1) {
            size_t used = 0, rest = i, stride = n;
            used += (size_t)snprintf(pos, sizeof pos, " (");
            for (int k = 0; k < d->shape.rank && used < sizeof pos; k++) {
                stride /= (size_t)d->shape.dim[k];
                used += (size_t)snprintf(pos + used, sizeof pos - used, "[%zu]", rest / stride);
                rest %= stride;
            }
            if (used < sizeof pos) snprintf(pos + used, sizeof pos - used, ")");
        }
        return mf_h5_fail(c, field, "value at index %zu%s is %g; expected %s", i, pos, (double)v[i],
                          want);
    }
    return MF_OK;
}

/* Checks dataset group/<d->name> against d (float, rank, dims, the data stored in the file)
 * and only then reads it into dst, then checks its values (check_values); dst NULL: only the
 * checks before reading. */
static int read_param(const mf_h5 *c, hid_t g, const char *gfield, const mf_param_desc *d,
                      float *dst)
{
    char field[FIELD_MAX + MF_NAME_MAX + 2];
    snprintf(field, sizeof field, "%s/%s", gfield, d->name);
    hsize_t dims[MF_MAX_RANK];
    for (int i = 0; i < d->shape.rank; i++)
        dims[i] = (hsize_t)d->shape.dim[i];
    if (!dst) return mf_h5_dataset_check(c, g, d->name, field, MF_H5_F32, d->shape.rank, dims);
    if (mf_h5_dataset_read(c, g, d->name, field, MF_H5_F32, d->shape.rank, dims, dst))
        return MF_ERR;
    return check_values(c, field, d, dst);
}

/* A kernel's pruning mask, if the layer has one (gfield/kernel_mask, the kernel's shape):
 * checked (read 0), or read into m->mask at offset (allocated at the first mask) and checked:
 * every flag 0 or 1, every pruned kernel value 0. */
static int read_mask(const mf_h5 *c, hid_t g, const char *gfield, const mf_param_desc *d,
                     mf_model *m, size_t offset, int read, int version)
{
    char field[FIELD_MAX + MF_NAME_MAX + 8];
    snprintf(field, sizeof field, "%s/kernel_mask", gfield);
    int has = mf_h5_exists(c, g, field, "kernel_mask");
    if (has <= 0) return has < 0 ? MF_ERR : MF_OK;
    if (version < 2)
        return mf_h5_fail(c, field,
                          "a pruning mask in a file of format version %d (masks came with "
                          "version 2)",
                          version);
    hsize_t dims[MF_MAX_RANK];
    for (int i = 0; i < d->shape.rank; i++)
        dims[i] = (hsize_t)d->shape.dim[i];
    if (!read)
        return mf_h5_dataset_check(c, g, "kernel_mask", field, MF_H5_I8, d->shape.rank, dims);
    if (!m->mask && mf_model_mask_alloc(m, c->err)) return mf_h5_fail(c, field, "out of memory");
    uint8_t *mask = m->mask + offset;
    if (mf_h5_dataset_read(c, g, "kernel_mask", field, MF_H5_I8, d->shape.rank, dims, mask))
        return MF_ERR;
    size_t n = mf_shape_size(&d->shape);
    for (size_t i = 0; i < n; i++) {
        if (mask[i] > 1)
            return mf_h5_fail(c, field, "value at index %zu is %d; expected 0 (pruned) or 1", i,
                              (int)(int8_t)mask[i]);
        if (!mask[i] && m->params[offset + i] != 0.0f)
            return mf_h5_fail(c, field,
                              "index %zu is pruned (0) but the kernel holds %g there; a pruned "
                              "value must be 0",
                              i, (double)m->params[offset + i]);
    }
    return MF_OK;
}

/* Layer i's tensors: checked (read 0), or checked and read (read 1). */
static int read_params(const mf_h5 *c, hid_t layers, mf_model *m, int i, int read, int version)
{
    const mf_node *nd = &m->nodes[i];
    char field[FIELD_MAX];
    snprintf(field, sizeof field, "/%s/%s", LAYERS_GROUP, nd->spec.name);
    mf_param_desc d[4];
    int np = mf_node_params(m, i, d);
    if (np <= 0) return MF_OK;
    int rc = MF_ERR;
    hid_t g = mf_h5_group_open(c, layers, nd->spec.name, field);
    if (g < 0) return MF_ERR;
    for (int k = 0; k < np; k++) {
        size_t size = mf_shape_size(&d[k].shape);
        size_t base = d[k].is_state ? nd->state_offset : nd->param_offset;
        size_t total = d[k].is_state ? m->n_state : m->n_params;
        float *arr = d[k].is_state ? m->state : m->params;
        if (!arr || base + d[k].offset + size > total) {
            mf_h5_fail(c, field, "tensor '%s' lies outside the model's %s array", d[k].name,
                       d[k].is_state ? "state" : "parameter");
            goto done;
        }
        if (read_param(c, g, field, &d[k], read ? arr + base + d[k].offset : NULL)) goto done;
        if (!d[k].is_state && !strcmp(d[k].name, "kernel") &&
            read_mask(c, g, field, &d[k], m, base + d[k].offset, read, version))
            goto done;
    }
    rc = MF_OK;
done:
    H5Oclose(g);
    return rc;
}

/* Engine errors say "layers[i]" (add order); in a model file that is /layers/<name>. */
static void engine_error(const mf_h5 *c, const mf_layer_spec *specs, const int *order, int n)
{
    char field[FIELD_MAX];
    int i = -1;
    const char *name = NULL;
    if (sscanf(c->err->field, "layers[%d]", &i) == 1 && i >= 0 && i < n)
        name = specs[order[i]].name;
    if (name) {
        snprintf(field, sizeof field, "/%s/%s", LAYERS_GROUP, name);
        mf_error_at(c->err, c->name, 0, 0, field);
    } else {
        mf_error_at(c->err, c->name, 0, 0, NULL);
    }
}

static int read_extras(const mf_h5 *c, hid_t f, mf_model *m)
{
    int has = mf_h5_attr_exists(c, f, ROOT_FIELD, "dataset");
    if (has < 0) return MF_ERR;
    if (has && mf_h5_attr_read_str(c, f, ROOT_FIELD, "dataset", m->dataset, sizeof m->dataset))
        return MF_ERR;
    has = mf_h5_attr_exists(c, f, ROOT_FIELD, "class_names");
    if (has < 0) return MF_ERR;
    if (has) {
        char **names = NULL;
        size_t n = 0;
        size_t k = mf_model_output_size(m);
        if (mf_h5_attr_read_strs(c, f, ROOT_FIELD, "class_names", k, k, MF_LABEL_MAX - 1, &names,
                                 &n))
            return MF_ERR;
        m->class_names = calloc(n, MF_LABEL_MAX);
        if (!m->class_names) {
            mf_h5_strs_free(names, n);
            return mf_h5_fail(c, ROOT_FIELD, "out of memory");
        }
        for (size_t i = 0; i < n; i++)
            snprintf(m->class_names[i], MF_LABEL_MAX, "%s", names[i]);
        m->n_class_names = (int)n;
        mf_h5_strs_free(names, n);
    }
    const char *field = "/preprocessing";
    int has_pre = mf_h5_exists(c, f, field, "preprocessing");
    if (has_pre < 0) return MF_ERR;
    if (!has_pre) return MF_OK;
    hid_t g = mf_h5_group_open(c, f, "preprocessing", field);
    if (g < 0) return MF_ERR;
    char kind_name[16];
    int rc = MF_ERR, kind = -1;
    float *mean = NULL, *std = NULL;
    if (mf_h5_attr_read_str(c, g, field, "normalize", kind_name, sizeof kind_name)) goto done;
    for (int k = 0; k < 3; k++)
        if (!strcmp(kind_name, norm_names[k])) kind = k;
    if (kind < 0) {
        mf_h5_fail(c, field,
                   "attribute 'normalize': expected \"none\", \"element\" or \"channel\", "
                   "found \"%s\"",
                   kind_name);
        goto done;
    }
    size_t n = kind == 1   ? mf_model_input_size(m)
               : kind == 2 ? (size_t)m->input_shape.dim[m->input_shape.rank - 1]
                           : 0;
    if (n) {
        mf_param_desc dm = {"mean", 0, 0, {1, {(int)n}}, 0}, ds = {"std", 0, 0, {1, {(int)n}}, 0};
        if (read_param(c, g, field, &dm, NULL) || read_param(c, g, field, &ds, NULL)) goto done;
        mean = malloc(sizeof(float) * n);
        std = malloc(sizeof(float) * n);
        if (!mean || !std) {
            mf_h5_fail(c, field, "out of memory");
            goto done;
        }
        if (read_param(c, g, field, &dm, mean) || read_param(c, g, field, &ds, std)) goto done;
    }
    if (mf_model_set_preprocess(m, kind, n, mean, std, c->err)) {
        mf_error_at(c->err, c->name, 0, 0, field);
        goto done;
    }
    rc = MF_OK;
done:
    free(mean);
    free(std);
    H5Oclose(g);
    return rc;
}

static mf_model *load_model(const mf_h5 *c, hid_t f)
{
    mf_model *m = NULL;
    char **names = NULL, **config = NULL;
    size_t n_names = 0, n_config = 0;
    mf_layer_spec *specs = NULL;
    int *order = NULL;
    hid_t layers = -1;
    int ok = 0;
    char output[MF_NAME_MAX];

    int version = 0;
    if (mf_h5_attr_read_int(c, f, ROOT_FIELD, "mcuforge_format_version", -2147483647LL - 1,
                            2147483647LL, &version)) {
        if (mf_h5_attr_exists(c, f, ROOT_FIELD, "mcuforge_format_version") == 0)
            mf_h5_fail(c, NULL,
                       "not an mcuforge model file (no attribute 'mcuforge_format_version' at the "
                       "root)");
        goto done;
    }
    if (version < 1 || version > MF_FORMAT_VERSION) {
        mf_h5_fail(c, NULL,
                   "unsupported model format version %d (mcuforge_format_version); this mcuforge "
                   "(%s) reads versions 1 to %d",
                   version, MF_VERSION, MF_FORMAT_VERSION);
        goto done;
    }

    long long dims[MF_MAX_RANK];
    size_t rank = 0;
    if (mf_h5_attr_read_ints(c, f, ROOT_FIELD, "input_shape", 1, MF_MAX_RANK, 1, MF_MAX_DIM, dims,
                             &rank))
        goto done;
    mf_shape shape = {(int)rank, {0}};
    size_t elems = 1;
    for (size_t i = 0; i < rank; i++) {
        shape.dim[i] = (int)dims[i];
        elems *= (size_t)dims[i];
        if (elems > MF_MAX_ELEMS) {
            mf_h5_fail(c, ROOT_FIELD, "attribute 'input_shape': more than %zu elements",
                       MF_MAX_ELEMS);
            goto done;
        }
    }
    if (mf_h5_attr_read_strs(c, f, ROOT_FIELD, "layer_names", 0, MF_MAX_NODES - 1, MF_NAME_MAX - 1,
                             &names, &n_names) ||
        mf_h5_attr_read_str(c, f, ROOT_FIELD, "output", output, sizeof output))
        goto done;
    int n = (int)n_names;
    for (int k = 0; k < n; k++) {
        if (!name_ok(names[k]) || !strcmp(names[k], INPUT_NAME)) {
            mf_h5_fail(c, ROOT_FIELD, "attribute 'layer_names': '%s' is not a valid layer name",
                       names[k]);
            goto done;
        }
        for (int j = 0; j < k; j++)
            if (!strcmp(names[j], names[k])) {
                mf_h5_fail(c, ROOT_FIELD, "attribute 'layer_names': '%s' is listed twice",
                           names[k]);
                goto done;
            }
    }

    layers = mf_h5_group_open(c, f, LAYERS_GROUP, "/" LAYERS_GROUP);
    if (layers < 0) goto done;
    specs = calloc((size_t)(n > 0 ? n : 1), sizeof *specs);
    order = malloc(sizeof *order * (size_t)(n > 0 ? n : 1));
    if (!specs || !order) {
        mf_h5_fail(c, NULL, "out of memory");
        goto done;
    }
    for (int k = 0; k < n; k++)
        order[k] = -1;
    size_t stored = 0; /* values the layers' datasets hold */
    for (int k = 0; k < n; k++) {
        int index = -1;
        if (read_layer_spec(c, layers, names[k], &specs[k], n, &index, &stored)) goto done;
        if (order[index] >= 0) {
            char field[FIELD_MAX];
            snprintf(field, sizeof field, "/%s/%s", LAYERS_GROUP, names[k]);
            mf_h5_fail(c, field, "attribute 'index': %d is also the index of layer '%s'", index,
                       names[order[index]]);
            goto done;
        }
        order[index] = k;
    }
    /* every listed layer has its group; anything else in /layers is unexplained */
    H5G_info_t gi;
    if (H5Gget_info(layers, &gi) < 0) {
        mf_h5_fail_hdf5(c, "/" LAYERS_GROUP, "cannot read the group");
        goto done;
    }
    if (gi.nlinks != (hsize_t)n) {
        mf_h5_fail(c, "/" LAYERS_GROUP,
                   "holds %llu entries, but attribute 'layer_names' lists %d layers",
                   (unsigned long long)gi.nlinks, n);
        goto done;
    }

    m = mf_model_new(&shape, c->err);
    if (!m) {
        mf_error_at(c->err, c->name, 0, 0, ROOT_FIELD);
        goto done;
    }
    for (int i = 0; i < n; i++) {
        if (mf_model_add(m, &specs[order[i]], c->err)) {
            char field[FIELD_MAX];
            snprintf(field, sizeof field, "/%s/%s", LAYERS_GROUP, specs[order[i]].name);
            mf_error_at(c->err, c->name, 0, 0, field);
            goto done;
        }
    }
    /* every parameter and state value comes from a dataset of the file: a graph declaring far
     * more (beyond a margin of 2^20 values, 4 MiB, so that a missing or misshapen dataset is
     * still reported precisely below) is refused before its arrays are allocated */
    if (mf_model_finalize_within(m, stored + ((size_t)1 << 20), c->err)) {
        engine_error(c, specs, order, n);
        goto done;
    }
    if (strcmp(node_name(m, m->output), output)) {
        mf_h5_fail(c, ROOT_FIELD, "attribute 'output' names '%s', but the graph's output is '%s'",
                   output, node_name(m, m->output));
        goto done;
    }
    if (m->n_params > MF_MAX_PARAMS || m->n_state > MF_MAX_PARAMS) {
        mf_h5_fail(c, NULL, "the model has more than %zu parameters", MF_MAX_PARAMS);
        goto done;
    }
    /* every tensor's type, shape and stored size before any is read: a file cannot make the
     * loader read more than it holds (DESIGN.md §11) */
    for (int read = 0; read <= 1; read++)
        for (int i = 1; i < m->n_nodes; i++)
            if (read_params(c, layers, m, i, read, version)) goto done;

    int has_config = mf_h5_attr_exists(c, f, ROOT_FIELD, "config");
    if (has_config < 0) goto done;
    if (has_config) {
        if (mf_h5_attr_read_strs(c, f, ROOT_FIELD, "config", 1, 1, MAX_CONFIG_BYTES, &config,
                                 &n_config))
            goto done;
        m->config_text = config[0];
        config[0] = NULL;
    }
    if (read_extras(c, f, m)) goto done;
    ok = 1;
done:
    if (layers >= 0) H5Oclose(layers);
    mf_h5_strs_free(config, n_config);
    mf_h5_strs_free(names, n_names);
    free(specs);
    free(order);
    if (!ok) {
        mf_model_free(m);
        m = NULL;
    }
    return m;
}

mf_model *mf_model_load(const char *path, mf_error *err)
{
    mf_h5 h;
    if (mf_h5_open(&h, path, 0, "an mcuforge model (.h5)", err)) return NULL;
    mf_model *m = load_model(&h, h.file);
    if (mf_h5_close(&h, m ? MF_OK : MF_ERR) != MF_OK && m) {
        mf_model_free(m);
        m = NULL;
    }
    return m;
}
