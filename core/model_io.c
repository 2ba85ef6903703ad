/* Model files (DESIGN.md §3) through the HDF5 C API.
 *
 * Layout (format version 1):
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
 * Strings are variable-length UTF-8 (readers also accept fixed-length strings).
 *
 * Every function silences HDF5's own error printing and reports through mf_error instead, with
 * err->file = the model file and err->field = the HDF5 path of the object concerned. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hdf5.h>

#include "mf_model_io.h"

#ifndef MF_GIT_DESCRIBE
#define MF_GIT_DESCRIBE "unknown"
#endif

#define ROOT_FIELD       "/"
#define LAYERS_GROUP     "layers"
#define INPUT_NAME       "input"
#define MAX_CONFIG_BYTES ((size_t)16 << 20)
#define MAX_FIXED_STRING ((size_t)16 << 20)
#define FIELD_MAX        160

/* Where errors go and which file they are about. */
typedef struct io {
    const char *file;
    mf_error *err;
} io;

/* ---- errors ---- */

static int io_failv(const io *c, const char *field, const char *detail, const char *fmt, va_list ap)
{
    char msg[sizeof c->err->message];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (detail && detail[0])
        mf_error_set(c->err, "%s (HDF5: %s)", msg, detail);
    else
        mf_error_set(c->err, "%s", msg);
    mf_error_at(c->err, c->file, 0, 0, field);
    return MF_ERR;
}

static int io_fail(const io *c, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int io_fail(const io *c, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    io_failv(c, field, NULL, fmt, ap);
    va_end(ap);
    return MF_ERR;
}

typedef struct h5_detail {
    char text[256];
} h5_detail;

static herr_t h5_walk(unsigned n, const H5E_error2_t *e, void *data)
{
    h5_detail *d = data;
    if (n == 0 && e && e->desc) snprintf(d->text, sizeof d->text, "%s", e->desc);
    return 0;
}

/* Like io_fail, with the innermost message of HDF5's error stack appended (call it right after
 * the failing HDF5 call, before any other HDF5 call resets the stack). */
static int io_fail_h5(const io *c, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int io_fail_h5(const io *c, const char *field, const char *fmt, ...)
{
    h5_detail d = {{0}};
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, h5_walk, &d);
    va_list ap;
    va_start(ap, fmt);
    io_failv(c, field, d.text[0] ? d.text : NULL, fmt, ap);
    va_end(ap);
    return MF_ERR;
}

static const char *class_name(H5T_class_t cls)
{
    switch (cls) {
    case H5T_INTEGER:
        return "an integer";
    case H5T_FLOAT:
        return "a float";
    case H5T_STRING:
        return "a string";
    case H5T_COMPOUND:
        return "a compound";
    case H5T_ARRAY:
        return "an array type";
    case H5T_VLEN:
        return "a variable-length sequence";
    case H5T_ENUM:
        return "an enum";
    case H5T_REFERENCE:
        return "a reference";
    case H5T_OPAQUE:
        return "an opaque type";
    case H5T_BITFIELD:
        return "a bitfield";
    case H5T_TIME:
        return "a time type";
    default:
        return "an unknown type";
    }
}

/* Silences HDF5's automatic error printing for the duration of one API call of ours. */
typedef struct h5_quiet {
    H5E_auto2_t func;
    void *data;
} h5_quiet;

static void quiet_begin(h5_quiet *q)
{
    q->func = NULL;
    q->data = NULL;
    H5Eget_auto2(H5E_DEFAULT, &q->func, &q->data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static void quiet_end(const h5_quiet *q)
{
    H5Eset_auto2(H5E_DEFAULT, q->func, q->data);
}

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

static int write_attr(const io *c, const char *field, hid_t obj, const char *name, hid_t ftype,
                      hid_t mtype, hid_t space, const void *buf)
{
    int rc = MF_ERR;
    hid_t a = H5Acreate2(obj, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0) {
        io_fail_h5(c, field, "cannot create attribute '%s'", name);
        goto done;
    }
    if (H5Awrite(a, mtype, buf) < 0) {
        io_fail_h5(c, field, "cannot write attribute '%s'", name);
        goto done;
    }
    rc = MF_OK;
done:
    if (a >= 0 && H5Aclose(a) < 0 && rc == MF_OK)
        rc = io_fail_h5(c, field, "cannot close attribute '%s'", name);
    return rc;
}

/* n < 0: a scalar; otherwise a 1-D array of n elements. */
static int write_attr_n(const io *c, const char *field, hid_t obj, const char *name, hid_t ftype,
                        hid_t mtype, long n, const void *buf)
{
    hsize_t dim = n < 0 ? 1 : (hsize_t)n;
    hid_t space = n < 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dim, NULL);
    if (space < 0) return io_fail_h5(c, field, "cannot create a dataspace for '%s'", name);
    int rc = write_attr(c, field, obj, name, ftype, mtype, space, buf);
    H5Sclose(space);
    return rc;
}

static int write_int(const io *c, const char *field, hid_t obj, const char *name, int v)
{
    return write_attr_n(c, field, obj, name, H5T_STD_I32LE, H5T_NATIVE_INT, -1, &v);
}

static int write_float(const io *c, const char *field, hid_t obj, const char *name, float v)
{
    return write_attr_n(c, field, obj, name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, -1, &v);
}

static int write_str(const io *c, const char *field, hid_t obj, hid_t str, const char *name,
                     const char *s)
{
    return write_attr_n(c, field, obj, name, str, str, -1, &s);
}

static int write_dataset(const io *c, const char *field, hid_t g, const char *name,
                         const mf_shape *shape, const float *data)
{
    int rc = MF_ERR;
    hid_t space = -1, ds = -1;
    hsize_t dims[MF_MAX_RANK];
    for (int i = 0; i < shape->rank; i++)
        dims[i] = (hsize_t)shape->dim[i];
    space = shape->rank ? H5Screate_simple(shape->rank, dims, NULL) : H5Screate(H5S_SCALAR);
    if (space < 0) {
        io_fail_h5(c, field, "cannot create a dataspace");
        goto done;
    }
    ds = H5Dcreate2(g, name, H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (ds < 0) {
        io_fail_h5(c, field, "cannot create dataset");
        goto done;
    }
    if (H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
        io_fail_h5(c, field, "cannot write dataset");
        goto done;
    }
    rc = MF_OK;
done:
    if (ds >= 0 && H5Dclose(ds) < 0 && rc == MF_OK)
        rc = io_fail_h5(c, field, "cannot close dataset");
    if (space >= 0) H5Sclose(space);
    return rc;
}

static int write_layer(const io *c, hid_t layers, hid_t str, const mf_model *m, int i)
{
    const mf_node *nd = &m->nodes[i];
    const mf_layer_spec *sp = &nd->spec;
    const mf_op_info *op = mf_op_get(sp->op);
    char field[FIELD_MAX];
    snprintf(field, sizeof field, "/%s/%s", LAYERS_GROUP, sp->name);
    int rc = MF_ERR;
    hid_t g = H5Gcreate2(layers, sp->name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) {
        io_fail_h5(c, field, "cannot create group");
        goto done;
    }
    const char *inputs[MF_MAX_INPUTS];
    if (nd->n_inputs < 0 || nd->n_inputs > MF_MAX_INPUTS) {
        io_fail(c, field, "layer has %d inputs (at most %d)", nd->n_inputs, MF_MAX_INPUTS);
        goto done;
    }
    for (int k = 0; k < nd->n_inputs; k++) {
        int src = nd->inputs[k];
        if (src < 0 || src >= m->n_nodes) {
            io_fail(c, field, "input %d refers to node %d of %d", k, src, m->n_nodes);
            goto done;
        }
        inputs[k] = node_name(m, src);
    }
    if (write_int(c, field, g, "index", i - 1) || write_str(c, field, g, str, "type", op->name) ||
        write_attr_n(c, field, g, "inputs", str, str, nd->n_inputs, inputs))
        goto done;
    unsigned keys = op->keys;
    if (((keys & MF_KEY_FILTERS) && write_int(c, field, g, "filters", sp->filters)) ||
        ((keys & MF_KEY_UNITS) && write_int(c, field, g, "units", sp->filters)) ||
        ((keys & MF_KEY_KERNEL) && write_int(c, field, g, "kernel", sp->kernel)) ||
        ((keys & MF_KEY_STRIDE) && write_int(c, field, g, "stride", sp->stride)) ||
        ((keys & MF_KEY_PADDING) &&
         write_str(c, field, g, str, "padding", sp->padding == MF_PAD_SAME ? "same" : "valid")) ||
        ((keys & MF_KEY_USE_BIAS) && write_int(c, field, g, "use_bias", sp->use_bias ? 1 : 0)) ||
        ((keys & MF_KEY_ACTIVATION) &&
         write_str(c, field, g, str, "activation",
                   sp->activation == MF_ACT_RELU ? "relu" : "none")) ||
        ((keys & MF_KEY_RATE) && write_float(c, field, g, "rate", sp->rate)) ||
        ((keys & MF_KEY_MOMENTUM) && write_float(c, field, g, "momentum", sp->momentum)) ||
        ((keys & MF_KEY_EPSILON) && write_float(c, field, g, "epsilon", sp->epsilon)))
        goto done;

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
            io_fail(c, dfield, "tensor lies outside the model's %s array",
                    d[k].is_state ? "state" : "parameter");
            goto done;
        }
        if (write_dataset(c, dfield, g, d[k].name, &d[k].shape, arr + base + d[k].offset))
            goto done;
    }
    rc = MF_OK;
done:
    if (g >= 0 && H5Gclose(g) < 0 && rc == MF_OK) rc = io_fail_h5(c, field, "cannot close group");
    return rc;
}

static const char *const norm_names[] = {"none", "element", "channel"};

/* Optional parts: dataset name, class names, and the /preprocessing group (normalize
 * attribute, mean and std datasets). */
static int write_extras(const io *c, hid_t f, hid_t str, const mf_model *m)
{
    if (m->dataset[0] && write_str(c, ROOT_FIELD, f, str, "dataset", m->dataset)) return MF_ERR;
    if (m->n_class_names > 0) {
        const char **names = malloc(sizeof *names * (size_t)m->n_class_names);
        if (!names) return io_fail(c, ROOT_FIELD, "out of memory");
        for (int i = 0; i < m->n_class_names; i++) names[i] = m->class_names[i];
        int rc = write_attr_n(c, ROOT_FIELD, f, "class_names", str, str, m->n_class_names, names);
        free(names);
        if (rc) return MF_ERR;
    }
    if (m->pre.kind == 0) return MF_OK;
    const char *field = "/preprocessing";
    hid_t g = H5Gcreate2(f, "preprocessing", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) return io_fail_h5(c, field, "cannot create group");
    mf_shape shape = {1, {(int)m->pre.n}};
    int rc = write_str(c, field, g, str, "normalize", norm_names[m->pre.kind]) ||
                     write_dataset(c, field, g, "mean", &shape, m->pre.mean) ||
                     write_dataset(c, field, g, "std", &shape, m->pre.std)
                 ? MF_ERR
                 : MF_OK;
    if (H5Gclose(g) < 0 && rc == MF_OK) rc = io_fail_h5(c, field, "cannot close group");
    return rc;
}

static int write_model(const io *c, hid_t f, hid_t str, const mf_model *m)
{
    int rc = MF_ERR;
    hid_t layers = -1;
    const char **names = NULL;
    int n = m->n_nodes - 1;
    int shape[MF_MAX_RANK];
    for (int i = 0; i < m->input_shape.rank; i++)
        shape[i] = m->input_shape.dim[i];
    names = malloc(sizeof *names * (size_t)(n > 0 ? n : 1));
    if (!names) {
        io_fail(c, ROOT_FIELD, "out of memory");
        goto done;
    }
    for (int i = 0; i < n; i++)
        names[i] = m->nodes[i + 1].spec.name;
    if (write_int(c, ROOT_FIELD, f, "mcuforge_format_version", MF_FORMAT_VERSION) ||
        write_str(c, ROOT_FIELD, f, str, "mcuforge_version", MF_VERSION) ||
        write_str(c, ROOT_FIELD, f, str, "git_describe", MF_GIT_DESCRIBE) ||
        write_attr_n(c, ROOT_FIELD, f, "input_shape", H5T_STD_I32LE, H5T_NATIVE_INT,
                     m->input_shape.rank, shape) ||
        write_attr_n(c, ROOT_FIELD, f, "layer_names", str, str, n, names) ||
        write_str(c, ROOT_FIELD, f, str, "output", node_name(m, m->output)) ||
        (m->config_text && write_str(c, ROOT_FIELD, f, str, "config", m->config_text)) ||
        write_extras(c, f, str, m))
        goto done;
    layers = H5Gcreate2(f, LAYERS_GROUP, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (layers < 0) {
        io_fail_h5(c, "/" LAYERS_GROUP, "cannot create group");
        goto done;
    }
    for (int i = 1; i < m->n_nodes; i++)
        if (write_layer(c, layers, str, m, i)) goto done;
    rc = MF_OK;
done:
    if (layers >= 0 && H5Gclose(layers) < 0 && rc == MF_OK)
        rc = io_fail_h5(c, "/" LAYERS_GROUP, "cannot close group");
    free(names);
    return rc;
}

/* What can be checked without HDF5: the graph is one a loader would accept. */
static int check_savable(const io *c, const mf_model *m)
{
    if (!m || !m->nodes || m->n_nodes < 1 || m->n_nodes > MF_MAX_NODES)
        return io_fail(c, NULL, "cannot save: the model is empty or not finalized");
    if (m->output < 0 || m->output >= m->n_nodes)
        return io_fail(c, NULL, "cannot save: the model has no output node");
    if (m->input_shape.rank < 1 || m->input_shape.rank > MF_MAX_RANK)
        return io_fail(c, NULL, "cannot save: input rank %d (expected 1 to %d)",
                       m->input_shape.rank, MF_MAX_RANK);
    for (int i = 1; i < m->n_nodes; i++) {
        const char *name = m->nodes[i].spec.name;
        if (!memchr(name, '\0', MF_NAME_MAX) || !name_ok(name) || !strcmp(name, INPUT_NAME))
            return io_fail(c, NULL,
                           "cannot save: layer %d has the name '%.*s', which cannot be a group "
                           "name (empty, '/', '.', '..' or '" INPUT_NAME "')",
                           i - 1, MF_NAME_MAX - 1, name);
        if ((unsigned)m->nodes[i].spec.op >= MF_OP_COUNT || m->nodes[i].spec.op == MF_OP_INPUT)
            return io_fail(c, NULL, "cannot save: layer '%s' has no valid type", name);
    }
    return MF_OK;
}

int mf_model_save(const mf_model *m, const char *path, mf_error *err)
{
    io c = {path, err};
    h5_quiet q;
    int rc = MF_ERR, created = 0, fd = -1;
    char *tmp = NULL;
    hid_t f = -1, str = -1;
    quiet_begin(&q);
    if (check_savable(&c, m)) goto done;
    size_t len = strlen(path) + 32;
    tmp = malloc(len);
    if (!tmp) {
        io_fail(&c, NULL, "out of memory");
        goto done;
    }
    snprintf(tmp, len, "%s.tmp.%ld", path, (long)getpid());
    errno = 0;
    f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) {
        int e = errno;
        io_fail_h5(&c, NULL, "cannot create the temporary file '%s'%s%s", tmp, e ? ": " : "",
                   e ? strerror(e) : "");
        goto done;
    }
    created = 1;
    str = H5Tcopy(H5T_C_S1);
    if (str < 0 || H5Tset_size(str, H5T_VARIABLE) < 0 || H5Tset_cset(str, H5T_CSET_UTF8) < 0) {
        io_fail_h5(&c, NULL, "cannot create the string type");
        goto done;
    }
    if (write_model(&c, f, str, m)) goto done;
    H5Tclose(str);
    str = -1;
    herr_t closed = H5Fclose(f);
    f = -1;
    if (closed < 0) {
        io_fail_h5(&c, NULL, "cannot finish writing '%s'", tmp);
        goto done;
    }
    /* the data must be on disk before the rename makes it the model file */
    fd = open(tmp, O_RDONLY);
    if (fd < 0 || (fsync(fd) < 0 && errno != EINVAL)) {
        io_fail(&c, NULL, "cannot flush '%s': %s", tmp, strerror(errno));
        goto done;
    }
    close(fd);
    fd = -1;
    if (rename(tmp, path) < 0) {
        io_fail(&c, NULL, "cannot rename '%s' to the model file: %s", tmp, strerror(errno));
        goto done;
    }
    created = 0;
    rc = MF_OK;
done:
    if (fd >= 0) close(fd);
    if (str >= 0) H5Tclose(str);
    if (f >= 0) H5Fclose(f);
    if (created) remove(tmp);
    free(tmp);
    quiet_end(&q);
    return rc;
}

/* ---- reading ---- */

/* Opens parent/name, which must be a hard link to an object of the wanted kind. Returns the
 * object (close with H5Oclose), or -1 with err set. */
static hid_t open_child(const io *c, hid_t parent, const char *name, const char *field,
                        H5I_type_t want)
{
    const char *what = want == H5I_GROUP ? "group" : "dataset";
    hid_t o = -1;
    int ok = 0;
    H5L_info_t li;
    htri_t exists = H5Lexists(parent, name, H5P_DEFAULT);
    if (exists < 0) {
        io_fail_h5(c, field, "cannot look up the %s", what);
        goto done;
    }
    if (exists == 0) {
        io_fail(c, field, "missing %s", what);
        goto done;
    }
    if (H5Lget_info(parent, name, &li, H5P_DEFAULT) < 0) {
        io_fail_h5(c, field, "cannot look up the %s", what);
        goto done;
    }
    if (li.type != H5L_TYPE_HARD) {
        io_fail(c, field, "is a soft or external link, expected a %s", what);
        goto done;
    }
    o = H5Oopen(parent, name, H5P_DEFAULT);
    if (o < 0) {
        io_fail_h5(c, field, "cannot open the %s", what);
        goto done;
    }
    H5I_type_t t = H5Iget_type(o);
    if (t != want) {
        io_fail(c, field, "expected a %s, found a %s", what,
                t == H5I_GROUP     ? "group"
                : t == H5I_DATASET ? "dataset"
                                   : "named datatype");
        goto done;
    }
    ok = 1;
done:
    if (!ok && o >= 0) {
        H5Oclose(o);
        o = -1;
    }
    return o;
}

/* Opens attribute `name` of obj and checks its class and element count (scalar or 1-D,
 * between min_n and max_n elements). Returns the attribute, or -1 with err set. */
static hid_t open_attr(const io *c, hid_t obj, const char *field, const char *name,
                       H5T_class_t want, size_t min_n, size_t max_n, size_t *n_out)
{
    hid_t a = -1, t = -1, sp = -1;
    int ok = 0;
    htri_t exists = H5Aexists(obj, name);
    if (exists < 0) {
        io_fail_h5(c, field, "cannot look up attribute '%s'", name);
        goto done;
    }
    if (exists == 0) {
        io_fail(c, field, "missing attribute '%s'", name);
        goto done;
    }
    a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0) {
        io_fail_h5(c, field, "cannot open attribute '%s'", name);
        goto done;
    }
    t = H5Aget_type(a);
    sp = H5Aget_space(a);
    if (t < 0 || sp < 0) {
        io_fail_h5(c, field, "cannot read the type of attribute '%s'", name);
        goto done;
    }
    H5T_class_t cls = H5Tget_class(t);
    if (cls != want) {
        io_fail(c, field, "attribute '%s': expected %s, found %s", name, class_name(want),
                class_name(cls));
        goto done;
    }
    int rank = H5Sget_simple_extent_ndims(sp);
    hssize_t np = H5Sget_simple_extent_npoints(sp);
    if (rank < 0 || rank > 1 || np < 0) {
        io_fail(c, field, "attribute '%s': expected a scalar or a 1-D array", name);
        goto done;
    }
    if ((size_t)np < min_n || (size_t)np > max_n) {
        if (min_n == max_n)
            io_fail(c, field, "attribute '%s': expected %zu value%s, found %lld", name, min_n,
                    min_n == 1 ? "" : "s", (long long)np);
        else
            io_fail(c, field, "attribute '%s': expected %zu to %zu values, found %lld", name, min_n,
                    max_n, (long long)np);
        goto done;
    }
    *n_out = (size_t)np;
    ok = 1;
done:
    if (sp >= 0) H5Sclose(sp);
    if (t >= 0) H5Tclose(t);
    if (!ok && a >= 0) {
        H5Aclose(a);
        a = -1;
    }
    return a;
}

/* Integer attribute(s) into out[0..n) after checking each is within [lo, hi]. */
static int read_ints(const io *c, hid_t obj, const char *field, const char *name, size_t min_n,
                     size_t max_n, long long lo, long long hi, long long *out, size_t *n_out)
{
    size_t n = 0;
    hid_t a = open_attr(c, obj, field, name, H5T_INTEGER, min_n, max_n, &n);
    if (a < 0) return MF_ERR;
    int rc = MF_ERR;
    long long v[MF_MAX_RANK > MF_MAX_INPUTS ? MF_MAX_RANK : MF_MAX_INPUTS];
    if (n > sizeof v / sizeof v[0]) {
        io_fail(c, field, "attribute '%s': too many values (%zu)", name, n);
        goto done;
    }
    if (H5Aread(a, H5T_NATIVE_LLONG, v) < 0) {
        io_fail_h5(c, field, "cannot read attribute '%s'", name);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        if (v[i] < lo || v[i] > hi) {
            io_fail(c, field, "attribute '%s': value %lld is out of range (%lld to %lld)", name,
                    v[i], lo, hi);
            goto done;
        }
        out[i] = v[i];
    }
    if (n_out) *n_out = n;
    rc = MF_OK;
done:
    H5Aclose(a);
    return rc;
}

static int read_int(const io *c, hid_t obj, const char *field, const char *name, long long lo,
                    long long hi, int *out)
{
    long long v;
    if (read_ints(c, obj, field, name, 1, 1, lo, hi, &v, NULL)) return MF_ERR;
    *out = (int)v;
    return MF_OK;
}

static int read_float(const io *c, hid_t obj, const char *field, const char *name, float *out)
{
    size_t n = 0;
    hid_t a = open_attr(c, obj, field, name, H5T_FLOAT, 1, 1, &n);
    if (a < 0) return MF_ERR;
    int rc = MF_ERR;
    float v;
    if (H5Aread(a, H5T_NATIVE_FLOAT, &v) < 0) {
        io_fail_h5(c, field, "cannot read attribute '%s'", name);
        goto done;
    }
    if (!isfinite(v)) {
        io_fail(c, field, "attribute '%s': value is not a finite number", name);
        goto done;
    }
    *out = v;
    rc = MF_OK;
done:
    H5Aclose(a);
    return rc;
}

static void free_strs(char **s, size_t n)
{
    if (!s) return;
    for (size_t i = 0; i < n; i++)
        free(s[i]);
    free(s);
}

/* A string attribute (scalar or 1-D, variable or fixed length) into n malloc'ed strings, each
 * at most max_len bytes. */
static int read_strs(const io *c, hid_t obj, const char *field, const char *name, size_t min_n,
                     size_t max_n, size_t max_len, char ***out, size_t *n_out)
{
    int rc = MF_ERR;
    size_t n = 0, n_vl = 0;
    hid_t ft = -1, mt = -1;
    char **vl = NULL, *fixed = NULL, **res = NULL;
    *out = NULL;
    *n_out = 0;
    hid_t a = open_attr(c, obj, field, name, H5T_STRING, min_n, max_n, &n);
    if (a < 0) return MF_ERR;
    ft = H5Aget_type(a);
    mt = H5Tcopy(H5T_C_S1);
    htri_t is_vl = ft < 0 ? -1 : H5Tis_variable_str(ft);
    H5T_cset_t cset = ft < 0 ? H5T_CSET_ERROR : H5Tget_cset(ft);
    if (mt < 0 || is_vl < 0 || cset == H5T_CSET_ERROR || H5Tset_cset(mt, cset) < 0) {
        io_fail_h5(c, field, "cannot read the type of attribute '%s'", name);
        goto done;
    }
    res = calloc(n + 1, sizeof *res);
    if (!res) {
        io_fail(c, field, "out of memory");
        goto done;
    }
    if (is_vl) {
        vl = calloc(n + 1, sizeof *vl);
        if (!vl || H5Tset_size(mt, H5T_VARIABLE) < 0) {
            io_fail(c, field, "out of memory");
            goto done;
        }
        if (H5Aread(a, mt, vl) < 0) {
            io_fail_h5(c, field, "cannot read attribute '%s'", name);
            goto done;
        }
        n_vl = n;
        for (size_t i = 0; i < n; i++) {
            const char *s = vl[i] ? vl[i] : "";
            size_t len = strnlen(s, max_len + 1);
            if (len > max_len) {
                io_fail(c, field, "attribute '%s': string %zu is longer than %zu bytes", name, i,
                        max_len);
                goto done;
            }
            res[i] = strndup(s, len);
            if (!res[i]) {
                io_fail(c, field, "out of memory");
                goto done;
            }
        }
    } else {
        size_t size = H5Tget_size(ft);
        if (size == 0 || size > MAX_FIXED_STRING || (n && size > MAX_FIXED_STRING / n)) {
            io_fail(c, field, "attribute '%s': string size %zu is out of range", name, size);
            goto done;
        }
        fixed = malloc(n * size + 1);
        if (!fixed || H5Tset_size(mt, size) < 0 || H5Tset_strpad(mt, H5T_STR_NULLPAD) < 0) {
            io_fail(c, field, "out of memory");
            goto done;
        }
        if (H5Aread(a, mt, fixed) < 0) {
            io_fail_h5(c, field, "cannot read attribute '%s'", name);
            goto done;
        }
        for (size_t i = 0; i < n; i++) {
            const char *s = fixed + i * size;
            size_t len = strnlen(s, size);
            if (len > max_len) {
                io_fail(c, field, "attribute '%s': string %zu is longer than %zu bytes", name, i,
                        max_len);
                goto done;
            }
            res[i] = strndup(s, len);
            if (!res[i]) {
                io_fail(c, field, "out of memory");
                goto done;
            }
        }
    }
    *out = res;
    *n_out = n;
    res = NULL;
    rc = MF_OK;
done:
    for (size_t i = 0; i < n_vl; i++)
        if (vl[i]) H5free_memory(vl[i]);
    free(vl);
    free(fixed);
    free_strs(res, n);
    if (mt >= 0) H5Tclose(mt);
    if (ft >= 0) H5Tclose(ft);
    H5Aclose(a);
    return rc;
}

/* One string into buf (size bytes including the terminator). */
static int read_str(const io *c, hid_t obj, const char *field, const char *name, char *buf,
                    size_t size)
{
    char **s = NULL;
    size_t n = 0;
    if (read_strs(c, obj, field, name, 1, 1, size - 1, &s, &n)) return MF_ERR;
    snprintf(buf, size, "%s", s[0]);
    free_strs(s, n);
    return MF_OK;
}

static int read_layer_spec(const io *c, hid_t layers, const char *name, mf_layer_spec *sp,
                           int n_layers, int *index)
{
    char field[FIELD_MAX];
    snprintf(field, sizeof field, "/%s/%s", LAYERS_GROUP, name);
    int rc = MF_ERR;
    char **inputs = NULL;
    size_t n_inputs = 0;
    hid_t g = open_child(c, layers, name, field, H5I_GROUP);
    if (g < 0) return MF_ERR;
    char type[MF_NAME_MAX], text[16];
    if (read_str(c, g, field, "type", type, sizeof type)) goto done;
    mf_op op;
    const mf_op_info *info = mf_op_lookup(type, &op);
    if (!info || op == MF_OP_INPUT) {
        io_fail(c, field, "unknown layer type '%s' (known: %s)", type, mf_op_names());
        goto done;
    }
    mf_layer_spec_init(sp, op, name);
    if (read_int(c, g, field, "index", 0, n_layers - 1, index)) goto done;
    if (read_strs(c, g, field, "inputs", (size_t)(info->min_inputs > 0 ? info->min_inputs : 1),
                  MF_MAX_INPUTS, MF_NAME_MAX - 1, &inputs, &n_inputs))
        goto done;
    sp->n_inputs = (int)n_inputs;
    for (size_t k = 0; k < n_inputs; k++)
        snprintf(sp->inputs[k], MF_NAME_MAX, "%s", inputs[k]);
    unsigned keys = info->keys;
    if (((keys & MF_KEY_FILTERS) &&
         read_int(c, g, field, "filters", 1, MF_MAX_DIM, &sp->filters)) ||
        ((keys & MF_KEY_UNITS) && read_int(c, g, field, "units", 1, MF_MAX_DIM, &sp->filters)) ||
        ((keys & MF_KEY_KERNEL) && read_int(c, g, field, "kernel", 1, MF_MAX_DIM, &sp->kernel)) ||
        ((keys & MF_KEY_STRIDE) && read_int(c, g, field, "stride", 0, MF_MAX_DIM, &sp->stride)) ||
        ((keys & MF_KEY_USE_BIAS) && read_int(c, g, field, "use_bias", 0, 1, &sp->use_bias)) ||
        ((keys & MF_KEY_RATE) && read_float(c, g, field, "rate", &sp->rate)) ||
        ((keys & MF_KEY_MOMENTUM) && read_float(c, g, field, "momentum", &sp->momentum)) ||
        ((keys & MF_KEY_EPSILON) && read_float(c, g, field, "epsilon", &sp->epsilon)))
        goto done;
    if (keys & MF_KEY_PADDING) {
        if (read_str(c, g, field, "padding", text, sizeof text)) goto done;
        if (!strcmp(text, "same")) {
            sp->padding = MF_PAD_SAME;
        } else if (!strcmp(text, "valid")) {
            sp->padding = MF_PAD_VALID;
        } else {
            io_fail(c, field, "attribute 'padding': expected \"same\" or \"valid\", found \"%s\"",
                    text);
            goto done;
        }
    }
    if (keys & MF_KEY_ACTIVATION) {
        if (read_str(c, g, field, "activation", text, sizeof text)) goto done;
        if (!strcmp(text, "relu")) {
            sp->activation = MF_ACT_RELU;
        } else if (!strcmp(text, "none")) {
            sp->activation = MF_ACT_NONE;
        } else {
            io_fail(c, field, "attribute 'activation': expected \"relu\" or \"none\", found \"%s\"",
                    text);
            goto done;
        }
    }
    rc = MF_OK;
done:
    free_strs(inputs, n_inputs);
    H5Oclose(g);
    return rc;
}

/* Checks dataset group/<d->name> against d (float, rank, dims) and only then reads it. */
static int read_param(const io *c, hid_t g, const char *gfield, const mf_param_desc *d, float *dst)
{
    char field[FIELD_MAX + MF_NAME_MAX + 2];
    snprintf(field, sizeof field, "%s/%s", gfield, d->name);
    int rc = MF_ERR;
    hid_t t = -1, sp = -1;
    hid_t ds = open_child(c, g, d->name, field, H5I_DATASET);
    if (ds < 0) return MF_ERR;
    t = H5Dget_type(ds);
    sp = H5Dget_space(ds);
    if (t < 0 || sp < 0) {
        io_fail_h5(c, field, "cannot read the dataset's type and shape");
        goto done;
    }
    H5T_class_t cls = H5Tget_class(t);
    if (cls != H5T_FLOAT) {
        io_fail(c, field, "expected float32 data, found %s type", class_name(cls));
        goto done;
    }
    int rank = H5Sget_simple_extent_ndims(sp);
    hsize_t dims[H5S_MAX_RANK];
    if (rank < 0 || rank > H5S_MAX_RANK || H5Sget_simple_extent_dims(sp, dims, NULL) < 0) {
        io_fail_h5(c, field, "cannot read the dataset's shape");
        goto done;
    }
    int same = rank == d->shape.rank;
    for (int i = 0; same && i < rank; i++)
        same = dims[i] == (hsize_t)d->shape.dim[i];
    if (!same) {
        char want[64], found[256];
        size_t used = 0;
        found[0] = '\0';
        for (int i = 0; i < rank && used < sizeof found; i++) {
            int w = snprintf(found + used, sizeof found - used, i ? "x%llu" : "%llu",
                             (unsigned long long)dims[i]);
            if (w < 0) break;
            used += (size_t)w;
        }
        if (rank == 0) snprintf(found, sizeof found, "scalar");
        io_fail(c, field, "expected shape %s, found %s", mf_shape_str(&d->shape, want, sizeof want),
                found);
        goto done;
    }
    if (H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, dst) < 0) {
        io_fail_h5(c, field, "cannot read the dataset (file truncated or corrupt?)");
        goto done;
    }
    rc = MF_OK;
done:
    if (sp >= 0) H5Sclose(sp);
    if (t >= 0) H5Tclose(t);
    H5Oclose(ds);
    return rc;
}

static int read_params(const io *c, hid_t layers, mf_model *m, int i)
{
    const mf_node *nd = &m->nodes[i];
    char field[FIELD_MAX];
    snprintf(field, sizeof field, "/%s/%s", LAYERS_GROUP, nd->spec.name);
    mf_param_desc d[4];
    int np = mf_node_params(m, i, d);
    if (np <= 0) return MF_OK;
    int rc = MF_ERR;
    hid_t g = open_child(c, layers, nd->spec.name, field, H5I_GROUP);
    if (g < 0) return MF_ERR;
    for (int k = 0; k < np; k++) {
        size_t size = mf_shape_size(&d[k].shape);
        size_t base = d[k].is_state ? nd->state_offset : nd->param_offset;
        size_t total = d[k].is_state ? m->n_state : m->n_params;
        float *arr = d[k].is_state ? m->state : m->params;
        if (!arr || base + d[k].offset + size > total) {
            io_fail(c, field, "tensor '%s' lies outside the model's %s array", d[k].name,
                    d[k].is_state ? "state" : "parameter");
            goto done;
        }
        if (read_param(c, g, field, &d[k], arr + base + d[k].offset)) goto done;
    }
    rc = MF_OK;
done:
    H5Oclose(g);
    return rc;
}

/* Engine errors say "layers[i]" (add order); in a model file that is /layers/<name>. */
static void engine_error(const io *c, const mf_layer_spec *specs, const int *order, int n)
{
    char field[FIELD_MAX];
    int i = -1;
    const char *name = NULL;
    if (sscanf(c->err->field, "layers[%d]", &i) == 1 && i >= 0 && i < n)
        name = specs[order[i]].name;
    if (name) {
        snprintf(field, sizeof field, "/%s/%s", LAYERS_GROUP, name);
        mf_error_at(c->err, c->file, 0, 0, field);
    } else {
        mf_error_at(c->err, c->file, 0, 0, NULL);
    }
}

static int read_extras(const io *c, hid_t f, mf_model *m)
{
    htri_t has = H5Aexists(f, "dataset");
    if (has < 0) return io_fail_h5(c, ROOT_FIELD, "cannot look up attribute 'dataset'");
    if (has && read_str(c, f, ROOT_FIELD, "dataset", m->dataset, sizeof m->dataset))
        return MF_ERR;
    has = H5Aexists(f, "class_names");
    if (has < 0) return io_fail_h5(c, ROOT_FIELD, "cannot look up attribute 'class_names'");
    if (has) {
        char **names = NULL;
        size_t n = 0;
        size_t k = mf_model_output_size(m);
        if (read_strs(c, f, ROOT_FIELD, "class_names", k, k, MF_LABEL_MAX - 1, &names, &n))
            return MF_ERR;
        m->class_names = calloc(n, MF_LABEL_MAX);
        if (!m->class_names) {
            free_strs(names, n);
            return io_fail(c, ROOT_FIELD, "out of memory");
        }
        for (size_t i = 0; i < n; i++) snprintf(m->class_names[i], MF_LABEL_MAX, "%s", names[i]);
        m->n_class_names = (int)n;
        free_strs(names, n);
    }
    htri_t has_pre = H5Lexists(f, "preprocessing", H5P_DEFAULT);
    if (has_pre < 0) return io_fail_h5(c, "/preprocessing", "cannot look up the group");
    if (!has_pre) return MF_OK;
    const char *field = "/preprocessing";
    hid_t g = open_child(c, f, "preprocessing", field, H5I_GROUP);
    if (g < 0) return MF_ERR;
    char kind_name[16];
    int rc = MF_ERR, kind = -1;
    float *mean = NULL, *std = NULL;
    if (read_str(c, g, field, "normalize", kind_name, sizeof kind_name)) goto done;
    for (int k = 0; k < 3; k++)
        if (!strcmp(kind_name, norm_names[k])) kind = k;
    if (kind < 0) {
        io_fail(c, field, "attribute 'normalize': expected \"none\", \"element\" or \"channel\", "
                          "found \"%s\"", kind_name);
        goto done;
    }
    size_t n = kind == 1   ? mf_model_input_size(m)
               : kind == 2 ? (size_t)m->input_shape.dim[m->input_shape.rank - 1]
                           : 0;
    if (n) {
        mean = malloc(sizeof(float) * n);
        std = malloc(sizeof(float) * n);
        if (!mean || !std) {
            io_fail(c, field, "out of memory");
            goto done;
        }
        mf_param_desc dm = {"mean", 0, 0, {1, {(int)n}}}, ds = {"std", 0, 0, {1, {(int)n}}};
        if (read_param(c, g, field, &dm, mean) || read_param(c, g, field, &ds, std)) goto done;
    }
    if (mf_model_set_preprocess(m, kind, n, mean, std, c->err)) {
        mf_error_at(c->err, c->file, 0, 0, field);
        goto done;
    }
    rc = MF_OK;
done:
    free(mean);
    free(std);
    H5Oclose(g);
    return rc;
}

static mf_model *load_model(const io *c, hid_t f)
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
    if (read_int(c, f, ROOT_FIELD, "mcuforge_format_version", -2147483647LL - 1, 2147483647LL,
                 &version)) {
        if (H5Aexists(f, "mcuforge_format_version") == 0)
            io_fail(c, NULL,
                    "not an mcuforge model file (no attribute 'mcuforge_format_version' at the "
                    "root)");
        goto done;
    }
    if (version != MF_FORMAT_VERSION) {
        io_fail(c, NULL,
                "unsupported model format version %d (mcuforge_format_version); this mcuforge "
                "(%s) reads version %d",
                version, MF_VERSION, MF_FORMAT_VERSION);
        goto done;
    }

    long long dims[MF_MAX_RANK];
    size_t rank = 0;
    if (read_ints(c, f, ROOT_FIELD, "input_shape", 1, MF_MAX_RANK, 1, MF_MAX_DIM, dims, &rank))
        goto done;
    mf_shape shape = {(int)rank, {0}};
    size_t elems = 1;
    for (size_t i = 0; i < rank; i++) {
        shape.dim[i] = (int)dims[i];
        elems *= (size_t)dims[i];
        if (elems > MF_MAX_ELEMS) {
            io_fail(c, ROOT_FIELD, "attribute 'input_shape': more than %zu elements", MF_MAX_ELEMS);
            goto done;
        }
    }
    if (read_strs(c, f, ROOT_FIELD, "layer_names", 0, MF_MAX_NODES - 1, MF_NAME_MAX - 1, &names,
                  &n_names) ||
        read_str(c, f, ROOT_FIELD, "output", output, sizeof output))
        goto done;
    int n = (int)n_names;
    for (int k = 0; k < n; k++) {
        if (!name_ok(names[k]) || !strcmp(names[k], INPUT_NAME)) {
            io_fail(c, ROOT_FIELD, "attribute 'layer_names': '%s' is not a valid layer name",
                    names[k]);
            goto done;
        }
        for (int j = 0; j < k; j++)
            if (!strcmp(names[j], names[k])) {
                io_fail(c, ROOT_FIELD, "attribute 'layer_names': '%s' is listed twice", names[k]);
                goto done;
            }
    }

    layers = open_child(c, f, LAYERS_GROUP, "/" LAYERS_GROUP, H5I_GROUP);
    if (layers < 0) goto done;
    specs = calloc((size_t)(n > 0 ? n : 1), sizeof *specs);
    order = malloc(sizeof *order * (size_t)(n > 0 ? n : 1));
    if (!specs || !order) {
        io_fail(c, NULL, "out of memory");
        goto done;
    }
    for (int k = 0; k < n; k++)
        order[k] = -1;
    for (int k = 0; k < n; k++) {
        int index = -1;
        if (read_layer_spec(c, layers, names[k], &specs[k], n, &index)) goto done;
        if (order[index] >= 0) {
            char field[FIELD_MAX];
            snprintf(field, sizeof field, "/%s/%s", LAYERS_GROUP, names[k]);
            io_fail(c, field, "attribute 'index': %d is also the index of layer '%s'", index,
                    names[order[index]]);
            goto done;
        }
        order[index] = k;
    }
    /* every listed layer has its group; anything else in /layers is unexplained */
    H5G_info_t gi;
    if (H5Gget_info(layers, &gi) < 0) {
        io_fail_h5(c, "/" LAYERS_GROUP, "cannot read the group");
        goto done;
    }
    if (gi.nlinks != (hsize_t)n) {
        io_fail(c, "/" LAYERS_GROUP,
                "holds %llu entries, but attribute 'layer_names' lists %d layers",
                (unsigned long long)gi.nlinks, n);
        goto done;
    }

    m = mf_model_new(&shape, c->err);
    if (!m) {
        mf_error_at(c->err, c->file, 0, 0, ROOT_FIELD);
        goto done;
    }
    for (int i = 0; i < n; i++) {
        if (mf_model_add(m, &specs[order[i]], c->err)) {
            char field[FIELD_MAX];
            snprintf(field, sizeof field, "/%s/%s", LAYERS_GROUP, specs[order[i]].name);
            mf_error_at(c->err, c->file, 0, 0, field);
            goto done;
        }
    }
    if (mf_model_finalize(m, c->err)) {
        engine_error(c, specs, order, n);
        goto done;
    }
    if (strcmp(node_name(m, m->output), output)) {
        io_fail(c, ROOT_FIELD, "attribute 'output' names '%s', but the graph's output is '%s'",
                output, node_name(m, m->output));
        goto done;
    }
    if (m->n_params > MF_MAX_PARAMS || m->n_state > MF_MAX_PARAMS) {
        io_fail(c, NULL, "the model has more than %zu parameters", MF_MAX_PARAMS);
        goto done;
    }
    for (int i = 1; i < m->n_nodes; i++)
        if (read_params(c, layers, m, i)) goto done;

    htri_t has_config = H5Aexists(f, "config");
    if (has_config < 0) {
        io_fail_h5(c, ROOT_FIELD, "cannot look up attribute 'config'");
        goto done;
    }
    if (has_config) {
        if (read_strs(c, f, ROOT_FIELD, "config", 1, 1, MAX_CONFIG_BYTES, &config, &n_config))
            goto done;
        m->config_text = config[0];
        config[0] = NULL;
    }
    if (read_extras(c, f, m)) goto done;
    ok = 1;
done:
    if (layers >= 0) H5Oclose(layers);
    free_strs(config, n_config);
    free_strs(names, n_names);
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
    io c = {path, err};
    h5_quiet q;
    mf_model *m = NULL;
    hid_t fapl = -1, f = -1;
    quiet_begin(&q);
    struct stat st;
    FILE *fp = fopen(path, "rb");
    if (!fp || stat(path, &st) < 0) {
        io_fail(&c, NULL, "cannot open: %s", strerror(errno));
        if (fp) fclose(fp);
        goto done;
    }
    fclose(fp);
    if (!S_ISREG(st.st_mode)) {
        io_fail(&c, NULL, "not a regular file; expected an mcuforge model (.h5)");
        goto done;
    }
#if H5_VERSION_GE(1, 12, 0)
    htri_t is_h5 = H5Fis_accessible(path, H5P_DEFAULT);
#else
    htri_t is_h5 = H5Fis_hdf5(path);
#endif
    if (is_h5 <= 0) {
        io_fail(&c, NULL, "not an HDF5 file (no HDF5 signature found); expected an mcuforge model");
        goto done;
    }
    fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0 || H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0) {
        io_fail_h5(&c, NULL, "cannot set up file access");
        goto done;
    }
    f = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    if (f < 0) {
        io_fail_h5(&c, NULL, "cannot open the HDF5 file: truncated or corrupt");
        goto done;
    }
    m = load_model(&c, f);
done:
    if (f >= 0) H5Fclose(f);
    if (fapl >= 0) H5Pclose(fapl);
    quiet_end(&q);
    return m;
}
