/* Quantized model files: the folded float model written by mf_model_save (graph, float weights,
 * input transform, class names, config), plus the integer model: root attributes
 * mcuforge_quantized_version, bits, rounding ("floor" | "half-up"), per_channel, n_in; per layer
 * group attribute n_out and, for conv/dense, n_w, datasets kernel_q (int8/int16, runtime layout
 * [cout][k…][cin]), bias_q (int32/int64) and, per channel, n_w_ch. Written to a temp file that
 * is renamed into place; every dataset is checked before it is read. */
#include <hdf5.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mf_model_io.h"
#include "mf_quantize.h"
#include "mf_runtime.h"

static int attr_int(hid_t obj, const char *name, int v)
{
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, H5T_STD_I32LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    int rc = a < 0 || H5Awrite(a, H5T_NATIVE_INT, &v) < 0 ? -1 : 0;
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    return rc;
}

static int attr_str(hid_t obj, const char *name, const char *v)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, strlen(v) + 1);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    int rc = a < 0 || H5Awrite(a, t, v) < 0 ? -1 : 0;
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
    return rc;
}

static int write_ints(hid_t g, const char *name, hid_t ftype, hid_t mtype, size_t n,
                      const void *data)
{
    hsize_t dims[1] = {n};
    hid_t sp = H5Screate_simple(1, dims, NULL);
    hid_t d = H5Dcreate2(g, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int rc = d < 0 || H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0 ? -1 : 0;
    if (d >= 0) H5Dclose(d);
    H5Sclose(sp);
    return rc;
}

int mf_qmodel_save(const mf_qmodel *q, const char *path, mf_error *err)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.q.tmp.%ld", path, (long)getpid());
    if (mf_model_save(q->model, tmp, err)) return MF_ERR;
    H5E_auto2_t fn;
    void *fd;
    H5Eget_auto2(H5E_DEFAULT, &fn, &fd);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fopen(tmp, H5F_ACC_RDWR, H5P_DEFAULT);
    int rc = f < 0 ? -1 : 0;
    const mf_model *m = q->model;
    hid_t wt = q->bits == 8 ? H5T_STD_I8LE : H5T_STD_I16LE;
    hid_t wm = q->bits == 8 ? H5T_NATIVE_INT8 : H5T_NATIVE_INT16;
    hid_t bt = q->bits == 8 ? H5T_STD_I32LE : H5T_STD_I64LE;
    hid_t bm = q->bits == 8 ? H5T_NATIVE_INT32 : H5T_NATIVE_INT64;
    if (!rc)
        rc = attr_int(f, "mcuforge_quantized_version", MF_QFORMAT_VERSION) ||
             attr_int(f, "bits", q->bits) ||
             attr_str(f, "rounding", q->rounding == MF_RT_ROUND_FLOOR ? "floor" : "half-up") ||
             attr_int(f, "per_channel", q->per_channel) || attr_int(f, "n_in", q->n_in);
    for (int i = 1; !rc && i < m->n_nodes; i++) {
        char gp[MF_NAME_MAX + 16];
        snprintf(gp, sizeof gp, "/layers/%s", m->nodes[i].spec.name);
        hid_t g = H5Gopen2(f, gp, H5P_DEFAULT);
        if (g < 0) {
            rc = -1;
            break;
        }
        const mf_qnode *qn = &q->nodes[i];
        rc = attr_int(g, "n_out", qn->n_out);
        if (!rc && qn->w) {
            /* one format per output channel, with or without a bias */
            mf_param_desc d[4];
            mf_node_params(m, i, d);
            size_t cout = (size_t)d[0].shape.dim[d[0].shape.rank - 1];
            rc = attr_int(g, "n_w", qn->n_w) ||
                 write_ints(g, "kernel_q", wt, wm, qn->n_weights, qn->w) ||
                 (qn->bias && write_ints(g, "bias_q", bt, bm, qn->n_bias, qn->bias)) ||
                 (qn->n_w_ch &&
                  write_ints(g, "n_w_ch", H5T_STD_I8LE, H5T_NATIVE_INT8, cout, qn->n_w_ch));
        }
        H5Gclose(g);
    }
    if (f >= 0 && H5Fclose(f) < 0) rc = -1;
    H5Eset_auto2(H5E_DEFAULT, fn, fd);
    if (rc || rename(tmp, path) != 0) {
        remove(tmp);
        return mf_error_set(err, "cannot write quantized model %s", path);
    }
    return MF_OK;
}

static int read_attr_int(hid_t obj, const char *name, int *v)
{
    if (H5Aexists(obj, name) <= 0) return -1;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0) return -1;
    hid_t sp = H5Aget_space(a);
    int rc = H5Sget_simple_extent_npoints(sp) != 1 || H5Aread(a, H5T_NATIVE_INT, v) < 0 ? -1 : 0;
    H5Sclose(sp);
    H5Aclose(a);
    return rc;
}

/* Reads dataset `name` of exactly n integers whose stored size is `bytes` into out. */
static int read_ints(hid_t g, const char *name, size_t n, size_t bytes, hid_t mtype, void *out,
                     char *why, size_t why_size)
{
    if (H5Lexists(g, name, H5P_DEFAULT) <= 0) {
        snprintf(why, why_size, "dataset '%s' is missing", name);
        return -1;
    }
    hid_t d = H5Dopen2(g, name, H5P_DEFAULT);
    hid_t t = H5Dget_type(d), sp = H5Dget_space(d);
    hsize_t dims[2] = {0, 0};
    int rank = H5Sget_simple_extent_ndims(sp);
    int ok = H5Tget_class(t) == H5T_INTEGER && H5Tget_size(t) == bytes && rank == 1 &&
             H5Sget_simple_extent_dims(sp, dims, NULL) >= 0 && dims[0] == n;
    if (!ok)
        snprintf(why, why_size, "dataset '%s': expected %zu integers of %zu bytes", name, n, bytes);
    else if (H5Dread(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0) {
        snprintf(why, why_size, "dataset '%s' cannot be read (truncated file?)", name);
        ok = 0;
    }
    H5Sclose(sp);
    H5Tclose(t);
    H5Dclose(d);
    return ok ? 0 : -1;
}

mf_qmodel *mf_qmodel_load(const char *path, int *is_float, mf_error *err)
{
    *is_float = 0;
    mf_model *m = mf_model_load(path, err);
    if (!m) return NULL;
    H5E_auto2_t fn;
    void *fd;
    H5Eget_auto2(H5E_DEFAULT, &fn, &fd);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    mf_qmodel *q = NULL;
    char why[512] = "";
    char where[MF_NAME_MAX + 16] = "/";
    int version = 0, bits = 0, per_channel = 0, n_in = 0;
    char rounding[16] = "";
    if (f < 0) {
        snprintf(why, sizeof why, "cannot open the file");
        goto fail;
    }
    if (H5Aexists(f, "mcuforge_quantized_version") <= 0) {
        *is_float = 1;
        H5Fclose(f);
        H5Eset_auto2(H5E_DEFAULT, fn, fd);
        mf_model_free(m);
        return NULL;
    }
    if (read_attr_int(f, "mcuforge_quantized_version", &version) || version != MF_QFORMAT_VERSION) {
        snprintf(why, sizeof why,
                 "unsupported quantized format version %d (mcuforge_quantized_version); this "
                 "mcuforge reads version %d",
                 version, MF_QFORMAT_VERSION);
        goto fail;
    }
    if (read_attr_int(f, "bits", &bits) || (bits != 8 && bits != 16)) {
        snprintf(why, sizeof why, "attribute 'bits' must be 8 or 16 (found %d)", bits);
        goto fail;
    }
    if (read_attr_int(f, "per_channel", &per_channel) || read_attr_int(f, "n_in", &n_in) ||
        n_in < -64 || n_in > 64) {
        snprintf(why, sizeof why,
                 "attributes 'per_channel' and 'n_in' (in [-64, 64]) are required");
        goto fail;
    }
    {
        hid_t a = H5Aexists(f, "rounding") > 0 ? H5Aopen(f, "rounding", H5P_DEFAULT) : -1;
        hid_t t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, sizeof rounding);
        int ok = a >= 0 && H5Aread(a, t, rounding) >= 0;
        rounding[sizeof rounding - 1] = '\0';
        if (a >= 0) H5Aclose(a);
        H5Tclose(t);
        if (!ok || (strcmp(rounding, "floor") && strcmp(rounding, "half-up"))) {
            snprintf(why, sizeof why, "attribute 'rounding' must be \"floor\" or \"half-up\"");
            goto fail;
        }
    }
    q = calloc(1, sizeof *q);
    if (!q || !(q->nodes = calloc((size_t)m->n_nodes, sizeof *q->nodes))) {
        snprintf(why, sizeof why, "out of memory");
        goto fail;
    }
    q->model = m;
    q->bits = bits;
    q->per_channel = per_channel;
    q->n_in = n_in;
    q->force_n = -1;
    q->rounding = strcmp(rounding, "floor") ? MF_RT_ROUND_HALF_UP : MF_RT_ROUND_FLOOR;
    q->nodes[0].n_out = n_in;
    for (int k = 1; k < m->n_nodes; k++) {
        int i = m->order[k];
        const mf_node *node = &m->nodes[i];
        mf_qnode *qn = &q->nodes[i];
        snprintf(where, sizeof where, "/layers/%s", node->spec.name);
        hid_t g = H5Gopen2(f, where, H5P_DEFAULT);
        int ok = g >= 0 && read_attr_int(g, "n_out", &qn->n_out) == 0 && qn->n_out >= -64 &&
                 qn->n_out <= 64;
        if (!ok)
            snprintf(why, sizeof why,
                     "attribute 'n_out' (in [-64, 64]) is missing or out of range");
        mf_op op = node->spec.op;
        if (ok && (op == MF_OP_CONV1D || op == MF_OP_CONV2D || op == MF_OP_DENSE)) {
            mf_param_desc d[4];
            int np = mf_node_params(m, i, d);
            size_t total = mf_shape_size(&d[0].shape);
            int cout = d[0].shape.dim[d[0].shape.rank - 1];
            qn->n_weights = total;
            qn->n_bias = np > 1 ? (size_t)cout : 0;
            qn->w = malloc(total * (size_t)(bits / 8));
            qn->bias = np > 1 ? malloc((size_t)cout * (bits == 8 ? 4 : 8)) : NULL;
            ok = qn->w && (np < 2 || qn->bias) && read_attr_int(g, "n_w", &qn->n_w) == 0;
            if (!ok) snprintf(why, sizeof why, "attribute 'n_w' is missing");
            ok = ok &&
                 !read_ints(g, "kernel_q", total, (size_t)bits / 8,
                            bits == 8 ? H5T_NATIVE_INT8 : H5T_NATIVE_INT16, qn->w, why, sizeof why);
            ok = ok && (np < 2 || !read_ints(g, "bias_q", (size_t)cout, bits == 8 ? 4 : 8,
                                             bits == 8 ? H5T_NATIVE_INT32 : H5T_NATIVE_INT64,
                                             qn->bias, why, sizeof why));
            if (ok && per_channel) {
                qn->n_w_ch = malloc((size_t)cout);
                qn->shifts = malloc((size_t)cout);
                ok = qn->n_w_ch && qn->shifts &&
                     !read_ints(g, "n_w_ch", (size_t)cout, 1, H5T_NATIVE_INT8, qn->n_w_ch, why,
                                sizeof why);
                int n_prev = q->nodes[node->inputs[0]].n_out;
                for (int c = 0; ok && c < cout; c++)
                    qn->shifts[c] = (int8_t)(n_prev + qn->n_w_ch[c] - qn->n_out);
            }
        }
        if (g >= 0) H5Gclose(g);
        if (!ok) goto fail;
    }
    H5Fclose(f);
    H5Eset_auto2(H5E_DEFAULT, fn, fd);
    return q;
fail:
    if (f >= 0) H5Fclose(f);
    H5Eset_auto2(H5E_DEFAULT, fn, fd);
    mf_error_set(err, "%s", why);
    mf_error_at(err, path, 0, 0, where);
    if (q)
        mf_qmodel_free(q);
    else
        mf_model_free(m);
    return NULL;
}
