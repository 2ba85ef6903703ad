/* Quantized model files: the folded float model written by mf_model_save (graph, float weights,
 * input transform, class names, config), plus the integer model: root attributes
 * mcuforge_quantized_version, bits, rounding ("floor" | "half-up"), per_channel, n_in, and when
 * known range ("max" | "mse") and calibration_samples; per layer
 * group attribute n_out and, for conv/dense, n_w, datasets kernel_q (int8/int16, runtime layout
 * [cout][k…][cin]), bias_q (int32/int64) and, per channel, n_w_ch. Written atomically
 * (mf_h5_write_atomic); every attribute and dataset is checked before it is read (mf_h5.h). */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mf_h5.h"
#include "mf_model_io.h"
#include "mf_quantize.h"
#include "mf_runtime.h"

#define ROOT "/"

/* One layer's integer part: attribute n_out; for conv/dense n_w, kernel_q, bias_q, n_w_ch. */
static int write_qnode(const mf_h5 *h, const mf_qmodel *q, int i)
{
    const mf_model *m = q->model;
    const mf_qnode *qn = &q->nodes[i];
    char field[MF_NAME_MAX + 16], dfield[MF_NAME_MAX + 32];
    snprintf(field, sizeof field, "/layers/%s", m->nodes[i].spec.name);
    hid_t g = mf_h5_group_open(h, h->file, field, field);
    if (g < 0) return MF_ERR;
    int rc = mf_h5_attr_write_int(h, g, field, "n_out", qn->n_out);
    if (!rc && qn->w) {
        /* one format per output channel, with or without a bias */
        mf_param_desc d[4];
        mf_node_params(m, i, d);
        hsize_t cout = (hsize_t)mf_param_cout(&d[0]);
        hsize_t nw = qn->n_weights, nb = qn->n_bias;
        mf_h5_type wt = q->bits == 8 ? MF_H5_I8 : MF_H5_I16;
        mf_h5_type bt = q->bits == 8 ? MF_H5_I32 : MF_H5_I64;
        rc = mf_h5_attr_write_int(h, g, field, "n_w", qn->n_w);
        snprintf(dfield, sizeof dfield, "%s/kernel_q", field);
        rc = rc || mf_h5_dataset_write(h, g, "kernel_q", dfield, wt, 1, &nw, qn->w);
        snprintf(dfield, sizeof dfield, "%s/bias_q", field);
        rc = rc || (qn->bias && mf_h5_dataset_write(h, g, "bias_q", dfield, bt, 1, &nb, qn->bias));
        snprintf(dfield, sizeof dfield, "%s/n_w_ch", field);
        rc = rc || (qn->n_w_ch &&
                    mf_h5_dataset_write(h, g, "n_w_ch", dfield, MF_H5_I8, 1, &cout, qn->n_w_ch));
    }
    H5Oclose(g);
    return rc ? MF_ERR : MF_OK;
}

static int write_qmodel(mf_h5 *h, void *ctx)
{
    const mf_qmodel *q = ctx;
    hid_t f = h->file;
    int rc = mf_model_write_h5(q->model, h) ||
             mf_h5_attr_write_int(h, f, ROOT, "mcuforge_quantized_version", MF_QFORMAT_VERSION) ||
             mf_h5_attr_write_int(h, f, ROOT, "bits", q->bits) ||
             mf_h5_attr_write_str(h, f, ROOT, "rounding",
                                  q->rounding == MF_RT_ROUND_FLOOR ? "floor" : "half-up") ||
             mf_h5_attr_write_int(h, f, ROOT, "per_channel", q->per_channel) ||
             mf_h5_attr_write_int(h, f, ROOT, "n_in", q->n_in) ||
             (q->range_method &&
              mf_h5_attr_write_str(h, f, ROOT, "range", q->range_method == 2 ? "mse" : "max")) ||
             (q->calibration_samples &&
              mf_h5_attr_write_int(h, f, ROOT, "calibration_samples", q->calibration_samples));
    for (int i = 1; !rc && i < q->model->n_nodes; i++)
        rc = write_qnode(h, q, i);
    return rc ? MF_ERR : MF_OK;
}

int mf_qmodel_save(const mf_qmodel *q, const char *path, mf_error *err)
{
    return mf_h5_write_atomic(path, write_qmodel, (void *)q, err);
}

/* Dataset field/name of exactly n integers of type into out. Errors name the layer group (field)
 * and, in the message, the dataset. */
static int read_ints(const mf_h5 *h, hid_t g, const char *field, const char *name, mf_h5_type type,
                     size_t n, void *out)
{
    char dfield[MF_NAME_MAX + 32];
    snprintf(dfield, sizeof dfield, "%s/%s", field, name);
    hsize_t dims[1] = {n};
    if (mf_h5_dataset_read(h, g, name, dfield, type, 1, dims, out) == MF_OK) return MF_OK;
    if (!h->err) return MF_ERR;
    char msg[sizeof h->err->message];
    int w = snprintf(msg, sizeof msg, "dataset '%s': ", name);
    if (w > 0 && (size_t)w < sizeof msg) {
        size_t len = strnlen(h->err->message, sizeof msg - (size_t)w - 1);
        memcpy(msg + w, h->err->message, len);
        msg[(size_t)w + len] = '\0';
    }
    return mf_h5_fail(h, field, "%s", msg);
}

/* Bounds of quantized files, so that what the kernels and the generator compute from them
 * cannot overflow: fractional bits of every format (n_in, n_out, n_w, n_w_ch) within
 * [-N_LIMIT, N_LIMIT] (shifts derived from them are small ints; lower/ops.c keeps the same
 * bound for models built in memory), a per-channel requantization shift n_in + n_w_ch − n_out
 * within the int8 shift table, and per output channel |bias| + 2^(bits−1)·Σ|w| within the
 * accumulator (int32 for int8, int64 for int16): the runtime kernels' precondition. */
#define N_LIMIT MF_QFORMAT_N_LIMIT

/* The kernels' no-overflow precondition, per output channel (mf_qnode_accumulator_check). */
static int check_accumulators(const mf_h5 *h, const char *field, const mf_qnode *qn, int bits,
                              size_t cout)
{
    char why[256];
    if (mf_qnode_accumulator_check(qn, bits, cout, why, sizeof why) == MF_OK) return MF_OK;
    return mf_h5_fail(h, field, "dataset '%s': %s", qn->bias ? "bias_q" : "kernel_q", why);
}

/* The integer part of conv/dense layer i: n_w, kernel_q, bias_q and, per channel, n_w_ch. */
static int read_weights(const mf_h5 *h, hid_t g, const char *field, mf_qmodel *q, int i)
{
    const mf_model *m = q->model;
    mf_qnode *qn = &q->nodes[i];
    int bits = q->bits;
    mf_param_desc d[4];
    /* a bias: a second parameter, or one the op computes (mf_node_inference_weights) */
    const int has_bias =
        mf_node_params(m, i, d) > 1 || mf_op_get(m->nodes[i].spec.op)->inference_weights;
    size_t total = mf_shape_size(&d[0].shape);
    int cout = (int)mf_param_cout(&d[0]);
    qn->n_weights = total;
    qn->n_bias = has_bias ? (size_t)cout : 0;
    qn->w = malloc(total * (size_t)(bits / 8));
    qn->bias = has_bias ? malloc((size_t)cout * (bits == 8 ? 4 : 8)) : NULL;
    if (!qn->w || (has_bias && !qn->bias)) return mf_h5_fail(h, field, "out of memory");
    if (mf_h5_attr_read_int(h, g, field, "n_w", -N_LIMIT, N_LIMIT, &qn->n_w) ||
        read_ints(h, g, field, "kernel_q", bits == 8 ? MF_H5_I8 : MF_H5_I16, total, qn->w) ||
        (has_bias && read_ints(h, g, field, "bias_q", bits == 8 ? MF_H5_I32 : MF_H5_I64,
                               (size_t)cout, qn->bias)) ||
        check_accumulators(h, field, qn, bits, (size_t)cout))
        return MF_ERR;
    if (!q->per_channel && !(mf_op_get(m->nodes[i].spec.op)->flags & MF_OPF_PER_CHANNEL))
        return MF_OK;
    qn->n_w_ch = malloc((size_t)cout);
    qn->shifts = malloc((size_t)cout);
    if (!qn->n_w_ch || !qn->shifts) return mf_h5_fail(h, field, "out of memory");
    if (read_ints(h, g, field, "n_w_ch", MF_H5_I8, (size_t)cout, qn->n_w_ch)) return MF_ERR;
    int n_prev = q->nodes[m->nodes[i].inputs[0]].n_out;
    for (int c = 0; c < cout; c++) {
        int nw = qn->n_w_ch[c], s = n_prev + nw - qn->n_out;
        if (nw < -N_LIMIT || nw > N_LIMIT)
            return mf_h5_fail(h, field,
                              "dataset 'n_w_ch': value %d at index %d is out of range (%d to %d)",
                              nw, c, -N_LIMIT, N_LIMIT);
        if (s < INT8_MIN || s > INT8_MAX)
            return mf_h5_fail(h, field,
                              "dataset 'n_w_ch': n_w_ch[%d] = %d gives the requantization shift "
                              "%d + %d - (%d) = %d (n_in + n_w_ch - n_out), outside the int8 "
                              "shift table (%d to %d)",
                              c, nw, n_prev, nw, qn->n_out, s, INT8_MIN, INT8_MAX);
        qn->shifts[c] = (int8_t)s;
    }
    return MF_OK;
}

/* The root attributes and every layer's integer part into q (q->model set). */
static int read_qmodel(const mf_h5 *h, mf_qmodel *q)
{
    hid_t f = h->file;
    const mf_model *m = q->model;
    int version = 0;
    char rounding[16];
    if (mf_h5_attr_read_int(h, f, ROOT, "mcuforge_quantized_version", INT_MIN, INT_MAX, &version))
        return MF_ERR;
    if (version < 1 || version > MF_QFORMAT_VERSION)
        return mf_h5_fail(h, ROOT,
                          "unsupported quantized format version %d (mcuforge_quantized_version); "
                          "this mcuforge reads versions 1 to %d",
                          version, MF_QFORMAT_VERSION);
    if (mf_h5_attr_read_int(h, f, ROOT, "bits", INT_MIN, INT_MAX, &q->bits)) return MF_ERR;
    if (q->bits != 8 && q->bits != 16)
        return mf_h5_fail(h, ROOT, "attribute 'bits' must be 8 or 16 (found %d)", q->bits);
    if (mf_h5_attr_read_int(h, f, ROOT, "per_channel", 0, 1, &q->per_channel) ||
        mf_h5_attr_read_int(h, f, ROOT, "n_in", -N_LIMIT, N_LIMIT, &q->n_in) ||
        mf_h5_attr_read_str(h, f, ROOT, "rounding", rounding, sizeof rounding))
        return MF_ERR;
    if (strcmp(rounding, "floor") && strcmp(rounding, "half-up"))
        return mf_h5_fail(h, ROOT,
                          "attribute 'rounding' must be \"floor\" or \"half-up\" (found \"%s\")",
                          rounding);
    q->rounding = strcmp(rounding, "floor") ? MF_RT_ROUND_HALF_UP : MF_RT_ROUND_FLOOR;
    q->force_n = -1;
    /* provenance, absent from files written before it was recorded */
    char range[8];
    int has = mf_h5_attr_exists(h, f, ROOT, "range");
    if (has < 0) return MF_ERR;
    if (has) {
        if (mf_h5_attr_read_str(h, f, ROOT, "range", range, sizeof range)) return MF_ERR;
        if (strcmp(range, "max") && strcmp(range, "mse"))
            return mf_h5_fail(h, ROOT,
                              "attribute 'range' must be \"max\" or \"mse\" (found \"%s\")", range);
        q->range_method = strcmp(range, "mse") ? 1 : 2;
    }
    has = mf_h5_attr_exists(h, f, ROOT, "calibration_samples");
    if (has < 0) return MF_ERR;
    if (has &&
        mf_h5_attr_read_int(h, f, ROOT, "calibration_samples", 1, 1 << 24, &q->calibration_samples))
        return MF_ERR;
    q->nodes[0].n_out = q->n_in;
    for (int k = 1; k < m->n_nodes; k++) {
        int i = m->order[k];
        char field[MF_NAME_MAX + 16];
        snprintf(field, sizeof field, "/layers/%s", m->nodes[i].spec.name);
        hid_t g = mf_h5_group_open(h, f, field, field);
        if (g < 0) return MF_ERR;
        mf_op op = m->nodes[i].spec.op;
        int rc = mf_h5_attr_read_int(h, g, field, "n_out", -N_LIMIT, N_LIMIT, &q->nodes[i].n_out);
        if (!rc && mf_lower_qrule(op) == MF_QRULE_WEIGHTED) rc = read_weights(h, g, field, q, i);
        H5Oclose(g);
        if (rc) return MF_ERR;
    }
    return MF_OK;
}

mf_qmodel *mf_qmodel_load(const char *path, int *is_float, mf_error *err)
{
    *is_float = 0;
    mf_model *m = mf_model_load(path, err);
    if (!m) return NULL;
    mf_h5 h;
    if (mf_h5_open(&h, path, 0, "an mcuforge model (.h5)", err)) {
        mf_model_free(m);
        return NULL;
    }
    int rc = mf_h5_attr_exists(&h, h.file, ROOT, "mcuforge_quantized_version");
    *is_float = rc == 0;
    mf_qmodel *q = NULL;
    if (rc > 0) {
        q = calloc(1, sizeof *q);
        if (q) {
            q->model = m;
            m = NULL;
            q->nodes = calloc((size_t)q->model->n_nodes, sizeof *q->nodes);
        }
        rc = !q || !q->nodes ? mf_h5_fail(&h, NULL, "out of memory") : read_qmodel(&h, q);
    }
    if (mf_h5_close(&h, rc < 0 ? MF_ERR : MF_OK) == MF_OK && q) return q;
    mf_qmodel_free(q);
    mf_model_free(m);
    return NULL;
}
