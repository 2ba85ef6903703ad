/* Building the integer model: formats from ranges (DESIGN.md §13), weights transposed to the
 * runtime layout and quantized offline with lround, biases at the accumulator format. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mf_quantize.h"
#include "mf_runtime.h"

void mf_qmodel_free(mf_qmodel *q)
{
    if (!q) return;
    if (q->nodes)
        for (int i = 0; i < q->model->n_nodes; i++) {
            free(q->nodes[i].n_w_ch);
            free(q->nodes[i].w);
            free(q->nodes[i].bias);
            free(q->nodes[i].shifts);
        }
    free(q->nodes);
    mf_model_free(q->model);
    free(q);
}

/* A tensor's format from its range, within [−MF_QFORMAT_N_LIMIT, MF_QFORMAT_N_LIMIT]: a range
 * below 2^−57 (int8) quantizes to zeros at the limit anyway, one above 2^64 saturates. */
static int pick_n(const mf_quant_options *o, double range)
{
    int n = o->force_n >= 0 ? o->force_n : mf_qformat_from_range(range, o->bits);
    return n > MF_QFORMAT_N_LIMIT    ? MF_QFORMAT_N_LIMIT
           : n < -MF_QFORMAT_N_LIMIT ? -MF_QFORMAT_N_LIMIT
                                     : n;
}

/* Keras [k…][cin][cout] (the K × cout matrix of mf_param_cout) → runtime [cout][k…][cin]
 * (cout × K), quantized: the node's inference kernel and bias (mf_node_inference_weights), one
 * format per output channel with per-channel quantization or when the op asks for it
 * (MF_OPF_PER_CHANNEL). */
static int quantize_weights_from(mf_qmodel *q, int j, const mf_quant_options *o, int n_in,
                                 const float *w, const float *b);

static int quantize_weights(mf_qmodel *q, int j, const mf_quant_options *o, int n_in)
{
    const mf_model *m = q->model;
    mf_param_desc d[4];
    const int np = mf_node_params(m, j, d);
    const mf_op_info *info = mf_op_get(m->nodes[j].spec.op);
    const size_t total = mf_shape_size(&d[0].shape), cout = mf_param_cout(&d[0]);
    float *kernel = malloc(sizeof(float) * (total ? total : 1));
    float *bias = malloc(sizeof(float) * (cout ? cout : 1));
    int rc = MF_ERR;
    if (kernel && bias) {
        mf_node_inference_weights(m, j, kernel, bias);
        const int has_bias = info->inference_weights || np > 1;
        mf_quant_options oc = *o;
        if (info->flags & MF_OPF_PER_CHANNEL) oc.per_channel = 1;
        rc = quantize_weights_from(q, j, &oc, n_in, kernel, has_bias ? bias : NULL);
    }
    free(kernel);
    free(bias);
    return rc;
}

static int quantize_weights_from(mf_qmodel *q, int j, const mf_quant_options *o, int n_in,
                                 const float *w, const float *b)
{
    free(q->nodes[j].w);
    free(q->nodes[j].bias);
    free(q->nodes[j].n_w_ch);
    free(q->nodes[j].shifts);
    q->nodes[j].w = q->nodes[j].bias = NULL;
    q->nodes[j].n_w_ch = q->nodes[j].shifts = NULL;
    q->nodes[j].saturated = 0;
    const mf_model *m = q->model;
    mf_qnode *qn = &q->nodes[j];
    mf_param_desc d[4];
    mf_node_params(m, j, d);
    const mf_shape *ks = &d[0].shape;
    int cout = (int)mf_param_cout(&d[0]);
    size_t total = mf_shape_size(ks), k = total / (size_t)cout;
    double tensor_max = 0.0;
    for (size_t e = 0; e < total; e++)
        if (fabs(w[e]) > tensor_max) tensor_max = fabs(w[e]);
    qn->n_w = pick_n(o, tensor_max);
    qn->n_weights = total;
    qn->n_bias = b ? (size_t)cout : 0;
    size_t esz = o->bits == 8 ? 1 : 2;
    qn->w = malloc(esz * total);
    qn->bias = b ? malloc((o->bits == 8 ? 4 : 8) * (size_t)cout) : NULL;
    if (o->per_channel) {
        qn->n_w_ch = malloc((size_t)cout);
        qn->shifts = malloc((size_t)cout);
    }
    if (!qn->w || (b && !qn->bias) || (o->per_channel && (!qn->n_w_ch || !qn->shifts)))
        return MF_ERR;
    for (int c = 0; c < cout; c++) {
        int nw = qn->n_w;
        if (o->per_channel) {
            double cmax = 0.0;
            for (size_t e = 0; e < k; e++)
                if (fabs(w[e * cout + c]) > cmax) cmax = fabs(w[e * cout + c]);
            nw = pick_n(o, cmax);
            /* the requantization shift n_in + nw − n_out must fit the int8 shift table: a
             * channel that extreme is all but zero, and loses nothing at the clamped format */
            if (n_in + nw - qn->n_out > 127) nw = 127 + qn->n_out - n_in;
            if (n_in + nw - qn->n_out < -128) nw = -128 + qn->n_out - n_in;
            qn->n_w_ch[c] = (int8_t)nw;
            qn->shifts[c] = (int8_t)(n_in + nw - qn->n_out);
        }
        const int64_t lim = ((int64_t)1 << (o->bits - 1)) - 1;
        uint64_t sum_w = 0; /* Σ|w| of the channel, for the accumulator bound below */
        for (size_t e = 0; e < k; e++) {
            int64_t v = mf_quantize_value(w[e * cout + c], nw, o->bits);
            if (v == lim || v == -lim - 1) qn->saturated += fabs(ldexp(w[e * cout + c], nw)) > lim;
            sum_w += (uint64_t)(v < 0 ? -v : v);
            if (o->bits == 8)
                ((int8_t *)qn->w)[(size_t)c * k + e] = (int8_t)v;
            else
                ((int16_t *)qn->w)[(size_t)c * k + e] = (int16_t)v;
        }
        if (b) {
            int acc_bits = o->bits == 8 ? 32 : 64;
            int64_t v = mf_quantize_value(b[c], n_in + nw, acc_bits);
            /* the kernels' precondition: |bias| + 2^(bits−1)·Σ|w| fits the accumulator (a bias
             * that large only comes with a degenerate format; it saturates symmetrically) */
            const uint64_t acc_max = o->bits == 8 ? INT32_MAX : INT64_MAX;
            const uint64_t mac_max = sum_w << (o->bits - 1);
            const int64_t room = mac_max < acc_max ? (int64_t)(acc_max - mac_max) : 0;
            if (v > room) v = room;
            if (v < -room) v = -room;
            if (o->bits == 8)
                ((int32_t *)qn->bias)[c] = (int32_t)v;
            else
                ((int64_t *)qn->bias)[c] = v;
        }
    }
    return MF_OK;
}

mf_qmodel *mf_qmodel_build(mf_model *folded, const double *ranges, const mf_quant_options *o,
                           mf_error *err)
{
    if (o->bits != 8 && o->bits != 16) {
        mf_model_free(folded);
        mf_error_set(err, "bits must be 8 or 16 (got %d)", o->bits);
        return NULL;
    }
    if (o->force_n > o->bits * 2 + 8 || o->force_n < -1) {
        mf_model_free(folded);
        mf_error_set(err, "forced format n = %d is out of range for %d bits", o->force_n, o->bits);
        return NULL;
    }
    mf_qmodel *q = calloc(1, sizeof *q);
    if (!q) {
        mf_model_free(folded);
        mf_error_set(err, "out of memory");
        return NULL;
    }
    q->model = folded;
    q->bits = o->bits;
    q->rounding = o->rounding;
    q->per_channel = o->per_channel;
    q->force_n = o->force_n;
    q->nodes = calloc((size_t)folded->n_nodes, sizeof *q->nodes);
    if (!q->nodes) goto oom;
    q->n_in = pick_n(o, ranges[0]);
    q->nodes[0].n_out = q->n_in;
    for (int k = 1; k < folded->n_nodes; k++) {
        int j = folded->order[k];
        const mf_node *node = &folded->nodes[j];
        mf_qnode *qn = &q->nodes[j];
        int n_in = q->nodes[node->inputs[0]].n_out;
        switch (mf_lower_qrule(node->spec.op)) {
        case MF_QRULE_WEIGHTED:
            qn->n_out = pick_n(o, ranges[j]);
            if (quantize_weights(q, j, o, n_in)) goto oom;
            break;
        case MF_QRULE_CALIBRATED:
            qn->n_out = pick_n(o, ranges[j]);
            break;
        case MF_QRULE_KEEP_INPUT:
            qn->n_out = n_in; /* these keep their input's format */
            break;
        case MF_QRULE_UNSUPPORTED:
            mf_error_set(err,
                         "layer '%s' (%s) cannot be quantized: only a batch-norm right after a "
                         "conv or dense layer folds away",
                         node->spec.name, mf_op_get(node->spec.op)->name);
            goto fail;
        }
    }
    return q;
oom:
    mf_error_set(err, "out of memory quantizing the model");
fail:
    mf_qmodel_free(q);
    return NULL;
}

int mf_qmodel_requantize_weights(mf_qmodel *q, mf_error *err)
{
    mf_quant_options o = {q->bits, q->rounding, q->per_channel, q->force_n};
    const mf_model *m = q->model;
    for (int j = 1; j < m->n_nodes; j++) {
        if (mf_lower_qrule(m->nodes[j].spec.op) != MF_QRULE_WEIGHTED) continue;
        if (quantize_weights(q, j, &o, q->nodes[m->nodes[j].inputs[0]].n_out))
            return mf_error_set(err, "out of memory quantizing the weights");
    }
    return MF_OK;
}
