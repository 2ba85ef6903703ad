/* The lowering table: one entry per op of the layer registry (quantization rule, validate,
 * lower; the scratch size comes from the kernel the entry picks, kernels.c). Everything an op
 * needs to become a kernel call is decided here, once: its kernel, geometry, requantization
 * shift, alignments, rounding, and its blobs in the runtime layout. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lower_internal.h"

/* ---- helpers shared by entries ---- */

static int check_window(const lower_ctx *x, int i, mf_error *err)
{
    mf_window w;
    mf_node_window(x->m, i, &w);
    if (w.oh < 1 || w.ow < 1 || w.kh < 1 || w.kw < 1 || w.sh < 1 || w.sw < 1)
        return mf_error_set(err, "layer '%s' (%s): degenerate window geometry",
                            x->m->nodes[i].spec.name, mf_op_get(x->m->nodes[i].spec.op)->name);
    return MF_OK;
}

static int n_of(const lower_ctx *x, int node)
{
    return x->q ? x->q->nodes[node].n_out : 0;
}

static mf_rt_geom geom_of(const mf_model *m, int i)
{
    mf_window w;
    mf_node_window(m, i, &w);
    mf_rt_geom g = {w.h,  w.w,  w.cin, w.oh, w.ow,      w.cout,
                    w.kh, w.kw, w.sh,  w.sw, w.pad_top, w.pad_left};
    return g;
}

static size_t size_of(const mf_model *m, int node)
{
    return mf_shape_size(&m->nodes[node].out_shape);
}

/* ---- conv and dense ---- */

/* Fractional bits of every tensor format a weighted layer uses (n_in, n_w, n_w_ch, n_out) lie in
 * [-N_LIMIT, N_LIMIT], as quantized model files require (quantize/qmodel_io.c): every shift
 * derived from them is then a small int, and a per-channel shift fits the int8 shift table
 * unless its three terms are extreme together (checked). */
#define N_LIMIT MF_QFORMAT_N_LIMIT

/* The kernels' no-overflow precondition (mf_lower.h mf_qnode_accumulator_check). */
int mf_qnode_accumulator_check(const mf_qnode *qn, int bits, size_t cout, char *why, size_t size)
{
    const uint64_t lim = bits == 8 ? (uint64_t)INT32_MAX : (uint64_t)INT64_MAX;
    const size_t k = qn->n_weights / cout;
    for (size_t c = 0; c < cout; c++) {
        uint64_t sum = 0, b = 0;
        for (size_t e = 0; e < k; e++) {
            int64_t v = bits == 8 ? ((const int8_t *)qn->w)[c * k + e]
                                  : ((const int16_t *)qn->w)[c * k + e];
            sum += (uint64_t)(v < 0 ? -v : v);
        }
        if (qn->bias) {
            int64_t v = bits == 8 ? ((const int32_t *)qn->bias)[c] : ((const int64_t *)qn->bias)[c];
            b = v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;
        }
        /* sum ≤ k·2^15 ≤ 2^43 (k ≤ MF_MAX_PARAMS), so the products and the sum fit uint64 */
        uint64_t worst = sum << (bits - 1);
        if (worst > lim || b > lim - worst) {
            snprintf(why, size,
                     "output channel %zu: |bias| %llu + 2^%d * sum|w| %llu = %llu exceeds %llu, "
                     "the int%d accumulator's largest value (the kernels must not overflow)",
                     c, (unsigned long long)b, bits - 1, (unsigned long long)sum,
                     (unsigned long long)(b + worst), (unsigned long long)lim, bits == 8 ? 32 : 64);
            return MF_ERR;
        }
    }
    return MF_OK;
}

static int check_accumulator(const lower_ctx *x, int i, const mf_qnode *qn, size_t cout,
                             mf_error *err)
{
    char why[256];
    if (mf_qnode_accumulator_check(qn, x->bits, cout, why, sizeof why) == MF_OK) return MF_OK;
    const mf_node *node = &x->m->nodes[i];
    return mf_error_set(err, "layer '%s' (%s): %s", node->spec.name, mf_op_get(node->spec.op)->name,
                        why);
}

/* A quantized conv/dense: blob sizes, formats within N_LIMIT, per-channel shifts consistent
 * with the formats, and accumulators that cannot overflow. */
static int validate_qweighted(const lower_ctx *x, int i, mf_error *err)
{
    const mf_node *node = &x->m->nodes[i];
    const char *name = node->spec.name, *op = mf_op_get(node->spec.op)->name;
    const mf_qnode *qn = &x->q->nodes[i];
    if (!qn->w) return mf_error_set(err, "layer '%s' (%s) has no quantized weights", name, op);
    mf_param_desc d[4];
    int np = mf_node_params(x->m, i, d);
    size_t cout = mf_param_cout(&d[0]);
    if (qn->n_weights != mf_shape_size(&d[0].shape) || (qn->bias && (np < 2 || qn->n_bias != cout)))
        return mf_error_set(err,
                            "layer '%s' (%s): %zu quantized weights and %zu biases, expected %zu "
                            "and %zu",
                            name, op, qn->n_weights, qn->bias ? qn->n_bias : 0,
                            mf_shape_size(&d[0].shape), np > 1 ? cout : 0);
    const int n_in = n_of(x, node->inputs[0]);
    const struct {
        const char *what;
        int n;
    } formats[3] = {{"the input's n_out", n_in}, {"n_w", qn->n_w}, {"n_out", qn->n_out}};
    for (int f = 0; f < 3; f++)
        if (formats[f].n < -N_LIMIT || formats[f].n > N_LIMIT)
            return mf_error_set(err, "layer '%s' (%s): %s = %d is out of range (%d to %d)", name,
                                op, formats[f].what, formats[f].n, -N_LIMIT, N_LIMIT);
    if (!qn->n_w_ch != !qn->shifts)
        return mf_error_set(
            err, "layer '%s' (%s): per-channel formats and shifts must come together", name, op);
    for (size_t c = 0; qn->n_w_ch && c < cout; c++) {
        int nw = qn->n_w_ch[c], s = n_in + nw - qn->n_out;
        if (nw < -N_LIMIT || nw > N_LIMIT)
            return mf_error_set(err, "layer '%s' (%s): n_w_ch[%zu] = %d is out of range (%d to %d)",
                                name, op, c, nw, -N_LIMIT, N_LIMIT);
        if (qn->shifts[c] != s)
            return mf_error_set(err,
                                "layer '%s' (%s): shifts[%zu] = %d, but n_in + n_w_ch[%zu] - n_out "
                                "= %d + %d - (%d) = %d (it must fit the int8 shift table)",
                                name, op, c, qn->shifts[c], c, n_in, nw, qn->n_out, s);
    }
    return check_accumulator(x, i, qn, cout, err);
}

static int validate_weighted(const lower_ctx *x, int i, mf_error *err)
{
    const mf_node *node = &x->m->nodes[i];
    const int windowed = node->spec.op != MF_OP_DENSE && node->spec.op != MF_OP_BATCHNORM;
    if (windowed && check_window(x, i, err)) return MF_ERR;
    if (x->q && validate_qweighted(x, i, err)) return MF_ERR;
    mf_param_desc d[4];
    int np = mf_node_params(x->m, i, d);
    for (int k = 0; k < np; k++) {
        const float *p = d[k].is_state ? x->m->state + node->state_offset + d[k].offset
                                       : x->m->params + node->param_offset + d[k].offset;
        size_t n = mf_shape_size(&d[k].shape);
        for (size_t e = 0; e < n; e++)
            if (!isfinite(p[e]))
                return mf_error_set(err, "layer '%s': %s[%zu] is not finite (%g)", node->spec.name,
                                    d[k].name, e, (double)p[e]);
    }
    return MF_OK;
}

/* ReLU6's upper bound in a b-bit format with n fractional bits: saturate_b(lround(6·2^n)). */
static int relu6_q6(int bits, int n)
{
    const double v = ldexp(6.0, n), max = ldexp(1.0, bits - 1) - 1.0;
    return v >= max ? (int)max : (int)lround(v);
}

/* A call's fused activation (a conv, dense or add node i's): ReLU as rq.relu 1 (float relu 1),
 * ReLU6 as the *_relu6 kernel with rq.relu = MF_RT_RELU6(q6) in node i's output format (float:
 * relu 1, the kernel clamps at 6). */
static void fused_activation(const lower_ctx *x, int i, mf_call *c)
{
    const mf_activation a = x->m->nodes[i].spec.activation;
    c->relu = a != MF_ACT_NONE;
    c->relu6 = a == MF_ACT_RELU6;
    if (!x->q) return;
    c->rq.relu = c->relu6 ? MF_RT_RELU6(relu6_q6(x->bits, x->q->nodes[i].n_out)) : c->relu;
}

/* Weights, biases and per-channel shifts in the runtime layout, and the requantization of the
 * accumulator (s = n_in + n_w − n_out, DESIGN.md §13). */
static void weight_blobs(const lower_ctx *x, int i, size_t cout, const char *wshape, mf_call *c)
{
    const mf_node *node = &x->m->nodes[i];
    if (x->q) {
        const mf_qnode *qn = &x->q->nodes[i];
        c->w = (mf_blob){qn->w, qn->n_weights, x->bits / 8, 0, ""};
        if (qn->bias) c->bias = (mf_blob){qn->bias, qn->n_bias, x->bits == 8 ? 4 : 8, 0, ""};
        if (qn->shifts) c->shifts = (mf_blob){qn->shifts, cout, 1, 0, ""};
        c->rq.shift = n_of(x, node->inputs[0]) + qn->n_w - qn->n_out;
        c->rq.shifts = qn->shifts;
        c->rq.rounding = x->q->rounding;
    } else {
        mf_param_desc d[4];
        int np = mf_node_params(x->m, i, d);
        c->w = (mf_blob){x->wf[i], mf_shape_size(&d[0].shape), 4, 1, ""};
        if (x->bf && x->bf[i]) /* computed by the op (inference_weights) */
            c->bias = (mf_blob){x->bf[i], cout, 4, 1, ""};
        else if (node->spec.use_bias && np > 1)
            c->bias = (mf_blob){x->m->params + node->param_offset + d[1].offset, cout, 4, 1, ""};
    }
    fused_activation(x, i, c);
    snprintf(c->w.shape, sizeof c->w.shape, "%s", wshape);
    snprintf(c->bias.shape, sizeof c->bias.shape, "[%zu]", cout);
    snprintf(c->shifts.shape, sizeof c->shifts.shape, "[%zu]", cout);
}

/* The nonzero int8 weights of c (groups rows of K values in the runtime layout) as the sparse
 * kernels take them: the weights, and per row its count and each weight's offset (k / n)·row +
 * k mod n, with n values per kernel row and `row` bytes between input rows (a dense layer: n =
 * K, the index itself). Out of memory the call stays dense. */
static void sparse_blobs(mf_call *c, size_t groups, size_t K, size_t n, size_t row, size_t nnz,
                         const char *unit)
{
    const int8_t *w = c->w.data;
    int8_t *wn = malloc(nnz ? nnz : 1);
    uint16_t *idx = malloc(sizeof *idx * (groups + nnz));
    if (!wn || !idx) {
        free(wn);
        free(idx);
        return;
    }
    wn[0] = 0; /* a layer pruned to nothing keeps one (unread) weight: no zero-size array */
    size_t e = 0, at = 0;
    for (size_t o = 0; o < groups; o++) {
        const size_t count_at = at++;
        for (size_t k = 0; k < K; k++) {
            const int8_t v = w[o * K + k];
            if (!v) continue;
            idx[at++] = (uint16_t)((k / n) * row + k % n);
            wn[e++] = v;
        }
        idx[count_at] = (uint16_t)(at - count_at - 1);
    }
    c->sparse = 1;
    c->w = (mf_blob){wn, nnz ? nnz : 1, 1, 0, ""};
    c->idx = (mf_blob){idx, groups + nnz, 2, 0, ""};
    snprintf(c->w.shape, sizeof c->w.shape, "[%zu nonzero of %zu x %zu]", nnz, groups, K);
    snprintf(c->idx.shape, sizeof c->idx.shape, "[%zu counts + %zu %s]", groups, nnz, unit);
}

static size_t nonzero_s8(const mf_blob *w)
{
    size_t nnz = 0;
    for (size_t k = 0; k < w->count; k++)
        nnz += ((const int8_t *)w->data)[k] != 0;
    return nnz;
}

/* Whether call c takes its sparse variant, given what the cost model says each takes and the
 * sparse variant's weight and index bytes. Only a pruned layer (its mask has zeros) has a sparse
 * variant: zeros that quantization makes are too few to pay, and deploy measures every variant
 * it is given. Then the one the options request for the node, by default sparse when the model
 * says it is at least 10 % cheaper (MF_VARIANT_MODEL_MARGIN). Both variants' costs stay in
 * c->var for the reports and mf_variants_choose. */
static int choose_variant(const lower_ctx *x, int node, mf_call *c, double dense, double sparse,
                          size_t sparse_bytes)
{
    const size_t rest = mf_blob_bytes(&c->bias) + mf_blob_bytes(&c->shifts),
                 dense_bytes = mf_blob_bytes(&c->w);
    if (!x->m->mask || mf_model_mask_zeros(x->m, node, NULL) == 0) return 0;
    c->var.has_sparse = 1;
    c->var.model_instr[0] = dense;
    c->var.model_instr[1] = sparse;
    c->var.bytes[0] = dense_bytes + rest;
    c->var.bytes[1] = sparse_bytes + rest;
    const int want = x->variants ? x->variants[node] : MF_VARIANT_AUTO;
    return want == MF_VARIANT_SPARSE ||
           (want == MF_VARIANT_AUTO && sparse < MF_VARIANT_MODEL_MARGIN * dense);
}

/* An int8 conv with a geometry mf_rt_conv_sparse_s8_covers can run the sparse conv kernels on
 * its nonzero weights. Cost model, instructions per inference fitted to bench/sparse_kernels on
 * the Cortex-M4: dense ≈ 1.1 per MAC; sparse without a fused pool (four positions per pass of
 * the assembly channel loop) ≈ 2.75 per nonzero MAC + 10 per conv output value (position ×
 * channel), with a fused pool (the C path) ≈ 3.0 per nonzero MAC + 16 per conv output value. By
 * default a 1D 16 → 16 k 3 conv turns sparse from about 70 % zeros, LeNet-5's conv2 + pool from
 * about 75 %. Blobs: the nonzero weights, and per output channel the count and the field
 * offsets (ky·w·cin + kx·cin + ci, uint16). */
#define MF_DENSE_CONV_PER_MAC               1.1
#define MF_SPARSE_CONV_PER_NONZERO_MAC      2.75
#define MF_SPARSE_CONV_PER_OUTPUT           10.0
#define MF_SPARSE_CONV_POOL_PER_NONZERO_MAC 3.0
#define MF_SPARSE_CONV_POOL_PER_OUTPUT      16.0
static void sparse_conv_variant(const lower_ctx *x, int node, mf_call *c)
{
    const mf_rt_geom *g = &c->geom;
    if (!mf_rt_conv_sparse_s8_covers(g)) return;
    const size_t K = (size_t)g->kh * g->kw * g->cin, nnz = nonzero_s8(&c->w);
    const double positions = (double)g->oh * g->ow;
    const double per_nz = x->fused_pool ? MF_SPARSE_CONV_POOL_PER_NONZERO_MAC
                                        : MF_SPARSE_CONV_PER_NONZERO_MAC,
                 per_out =
                     x->fused_pool ? MF_SPARSE_CONV_POOL_PER_OUTPUT : MF_SPARSE_CONV_PER_OUTPUT;
    const double dense = MF_DENSE_CONV_PER_MAC * positions * (double)(K * (size_t)g->cout),
                 sparse = per_nz * positions * (double)nnz + per_out * positions * g->cout;
    const size_t bytes = (nnz ? nnz : 1) + 2 * ((size_t)g->cout + nnz);
    if (choose_variant(x, node, c, dense, sparse, bytes))
        sparse_blobs(c, (size_t)g->cout, K, (size_t)g->kw * g->cin, (size_t)g->w * g->cin, nnz,
                     "field offsets");
}

static void lower_conv(const lower_ctx *x, int i, mf_call *c)
{
    char shape[96];
    c->kind = MF_K_CONV;
    c->geom = geom_of(x->m, i);
    const mf_rt_geom *g = &c->geom;
    if (x->m->nodes[i].spec.op == MF_OP_CONV1D)
        snprintf(shape, sizeof shape, "[%d cout][%d k][%d cin]", g->cout, g->kw, g->cin);
    else
        snprintf(shape, sizeof shape, "[%d cout][%d kh][%d kw][%d cin]", g->cout, g->kh, g->kw,
                 g->cin);
    weight_blobs(x, i, (size_t)g->cout, shape, c);
    if (x->q && x->bits == 8) sparse_conv_variant(x, i, c);
}

/* A depthwise conv: the conv's geometry with cout = cin·m, weights [cout][kh][kw] (the kernel's
 * K × cout matrix transposed, as for every weighted layer). No sparse variant. */
static void lower_dwconv(const lower_ctx *x, int i, mf_call *c)
{
    char shape[96];
    c->kind = MF_K_DWCONV;
    c->geom = geom_of(x->m, i);
    const mf_rt_geom *g = &c->geom;
    if (x->m->nodes[i].spec.op == MF_OP_DWCONV1D)
        snprintf(shape, sizeof shape, "[%d cout][%d k]", g->cout, g->kw);
    else
        snprintf(shape, sizeof shape, "[%d cout][%d kh][%d kw]", g->cout, g->kh, g->kw);
    weight_blobs(x, i, (size_t)g->cout, shape, c);
}

/* An int8 dense layer can run mf_rt_dense_sparse_s8 on its nonzero weights, in its format
 * (mf_rt_dense_sparse_s8_encode: per output a 2-byte count, then a byte of index delta per
 * entry, fillers bridging gaps over 255). The cost model, instructions per inference fitted to
 * bench/sparse_kernels (LeNet-5's fc1) on the Cortex-M4: dense ≈ 1.5 per weight + 20 per
 * output, sparse ≈ 4.25 per entry + 16 per output (by default sparse from about 70 % zeros on
 * large layers). Out of memory it stays dense. */
#define MF_DENSE_PER_WEIGHT  1.5
#define MF_DENSE_PER_OUTPUT  20.0
#define MF_SPARSE_PER_ENTRY  4.25
#define MF_SPARSE_PER_OUTPUT 16.0
static void sparse_dense_variant(const lower_ctx *x, int node, mf_call *c)
{
    const int8_t *w = c->w.data;
    const size_t n = (size_t)c->n_in * (size_t)c->n_out, nnz = nonzero_s8(&c->w),
                 entries = mf_rt_dense_sparse_s8_encode(c->n_in, c->n_out, w, NULL, NULL);
    if (entries == SIZE_MAX) return; /* an output with more than 65535 entries */
    const double dense = MF_DENSE_PER_WEIGHT * (double)n + MF_DENSE_PER_OUTPUT * c->n_out,
                 sparse = MF_SPARSE_PER_ENTRY * (double)entries + MF_SPARSE_PER_OUTPUT * c->n_out;
    const size_t idx_bytes = 2 * (size_t)c->n_out + entries;
    if (!choose_variant(x, node, c, dense, sparse, (entries ? entries : 1) + idx_bytes)) return;
    int8_t *wn = malloc(entries ? entries : 1);
    uint8_t *idx = malloc(idx_bytes);
    if (!wn || !idx) {
        free(wn);
        free(idx);
        return;
    }
    wn[0] = 0; /* a layer pruned to nothing keeps one (unread) weight: no zero-size array */
    mf_rt_dense_sparse_s8_encode(c->n_in, c->n_out, w, idx, wn);
    c->sparse = 1;
    c->w = (mf_blob){wn, entries ? entries : 1, 1, 0, ""};
    c->idx = (mf_blob){idx, idx_bytes, 1, 0, ""};
    snprintf(c->w.shape, sizeof c->w.shape, "[%zu nonzero + %zu fillers/padding of %d x %d]", nnz,
             entries - nnz, c->n_out, c->n_in);
    snprintf(c->idx.shape, sizeof c->idx.shape, "[%d counts (2 bytes) + %zu deltas]", c->n_out,
             entries);
}

static void lower_dense(const lower_ctx *x, int i, mf_call *c)
{
    char shape[96];
    c->kind = MF_K_DENSE;
    c->n_in = (int)size_of(x->m, x->m->nodes[i].inputs[0]);
    c->n_out = (int)size_of(x->m, i);
    snprintf(shape, sizeof shape, "[%d out][%d in]", c->n_out, c->n_in);
    weight_blobs(x, i, (size_t)c->n_out, shape, c);
    if (x->q && x->bits == 8) sparse_dense_variant(x, i, c);
}

/* ---- pools ---- */

static int validate_pool(const lower_ctx *x, int i, mf_error *err)
{
    return check_window(x, i, err);
}

static int validate_avgpool(const lower_ctx *x, int i, mf_error *err)
{
    if (check_window(x, i, err)) return MF_ERR;
    mf_window w;
    mf_node_window(x->m, i, &w);
    if ((long)w.kh * w.kw >= 65536)
        return mf_error_set(err,
                            "layer '%s' (%s): a window of %d taps is too large for the integer "
                            "average (< 65536)",
                            x->m->nodes[i].spec.name, mf_op_get(x->m->nodes[i].spec.op)->name,
                            w.kh * w.kw);
    return MF_OK;
}

static void lower_maxpool(const lower_ctx *x, int i, mf_call *c)
{
    c->kind = MF_K_MAXPOOL;
    c->geom = geom_of(x->m, i);
}

static void lower_avgpool(const lower_ctx *x, int i, mf_call *c)
{
    c->kind = MF_K_AVGPOOL;
    c->geom = geom_of(x->m, i);
    c->rounding = x->q ? x->q->rounding : 0;
}

static int validate_global(const lower_ctx *x, int i, mf_error *err)
{
    const mf_node *node = &x->m->nodes[i];
    size_t ch = size_of(x->m, i);
    size_t pos = size_of(x->m, node->inputs[0]) / (ch ? ch : 1);
    if (pos >= 65536)
        return mf_error_set(err, "layer '%s' (%s): %zu positions is too many (< 65536)",
                            node->spec.name, mf_op_get(node->spec.op)->name, pos);
    return MF_OK;
}

static void lower_global(const lower_ctx *x, int i, mf_call *c)
{
    const mf_node *node = &x->m->nodes[i];
    c->kind = node->spec.op == MF_OP_GLOBAL_AVGPOOL ? MF_K_GLOBAL_AVGPOOL : MF_K_GLOBAL_MAXPOOL;
    c->n_out = (int)size_of(x->m, i);
    c->n_in = (int)(size_of(x->m, node->inputs[0]) / (size_t)c->n_out);
    c->rounding = x->q ? x->q->rounding : 0;
}

/* ---- element-wise ---- */

/* The finest format of an add's inputs. */
static int finest_input(const lower_ctx *x, const mf_node *node)
{
    int fine = n_of(x, node->inputs[0]);
    for (int k = 1; k < node->n_inputs; k++)
        fine = n_of(x, node->inputs[k]) > fine ? n_of(x, node->inputs[k]) : fine;
    return fine;
}

/* 2 to 4 inputs; integer: the alignments keep the sum inside the accumulator (k values of
 * 2^(b−1)·2^align: int8 ≤ 23 bits for 2 inputs, 22 for 3 or 4; int16 47 and 46). */
static int validate_add(const lower_ctx *x, int i, mf_error *err)
{
    const mf_node *node = &x->m->nodes[i];
    if (node->n_inputs < 2 || node->n_inputs > 4)
        return mf_error_set(err, "layer '%s' (add) has %d inputs: the add kernels take 2 to 4",
                            node->spec.name, node->n_inputs);
    if (x->q) {
        const int fine = finest_input(x, node);
        const int max = (x->bits == 8 ? 23 : 47) - (node->n_inputs > 2);
        for (int k = 0; k < node->n_inputs; k++)
            if (fine - n_of(x, node->inputs[k]) > max)
                return mf_error_set(err,
                                    "layer '%s' (add): its inputs' formats differ by %d bits, more "
                                    "than the int%d add kernel aligns for %d inputs (%d)",
                                    node->spec.name, fine - n_of(x, node->inputs[k]), x->bits,
                                    node->n_inputs, max);
    }
    return MF_OK;
}

/* Every input aligned to the finest format by an exact left shift, summed, then requantized
 * once (DESIGN.md §13): two inputs run the add kernels, 3 or 4 the addn kernels. */
static void lower_add(const lower_ctx *x, int i, mf_call *c)
{
    const mf_node *node = &x->m->nodes[i];
    c->kind = node->n_inputs > 2 ? MF_K_ADDN : MF_K_ADD;
    c->count = size_of(x->m, i);
    fused_activation(x, i, c);
    if (x->q) {
        const int fine = finest_input(x, node);
        int *align[4] = {&c->align_a, &c->align_b, &c->align_c, &c->align_d};
        for (int k = 0; k < node->n_inputs; k++)
            *align[k] = fine - n_of(x, node->inputs[k]);
        c->rq.shift = fine - n_of(x, i);
        c->rq.rounding = x->q->rounding;
    }
}

/* ---- batch-norm that cannot fold ---- */

/* A per-channel affine y = a·x + b (DESIGN.md §13): a at one format per channel, b at the
 * accumulator's, requantized per channel; float a and b as batch-norm computes them
 * (mf_node_inference_weights). Rows of its channels (the last dimension). */
static void lower_affine(const lower_ctx *x, int i, mf_call *c)
{
    const mf_shape *os = &x->m->nodes[i].out_shape;
    c->kind = MF_K_AFFINE;
    c->n_out = os->dim[os->rank - 1];
    c->n_in = (int)(size_of(x->m, i) / (size_t)c->n_out);
    char shape[96];
    snprintf(shape, sizeof shape, "[%d channels] (scale)", c->n_out);
    weight_blobs(x, i, (size_t)c->n_out, shape, c);
}

/* ---- concatenation ---- */

/* Each input's requantization to the output's format: shift n_in[i] − n_out, a small int. */
static int validate_concat(const lower_ctx *x, int i, mf_error *err)
{
    const mf_node *node = &x->m->nodes[i];
    if (node->n_inputs < 2 || node->n_inputs > 4)
        return mf_error_set(err, "layer '%s' (concat) has %d inputs: the kernels take 2 to 4",
                            node->spec.name, node->n_inputs);
    for (int k = 0; x->q && k < node->n_inputs; k++) {
        const int n = n_of(x, node->inputs[k]);
        if (n < -N_LIMIT || n > N_LIMIT || n_of(x, i) < -N_LIMIT || n_of(x, i) > N_LIMIT)
            return mf_error_set(err, "layer '%s' (concat): a format is out of range (%d to %d)",
                                node->spec.name, -N_LIMIT, N_LIMIT);
    }
    return MF_OK;
}

/* Positions (every index but the last) and per input its channels and the shift that
 * requantizes it to the output's format (DESIGN.md §13; 0: a plain copy). */
static void lower_concat(const lower_ctx *x, int i, mf_call *c)
{
    const mf_node *node = &x->m->nodes[i];
    const mf_shape *os = &node->out_shape;
    c->kind = MF_K_CONCAT;
    c->n_in = (int)(size_of(x->m, i) / (size_t)os->dim[os->rank - 1]);
    c->cat.k = node->n_inputs;
    c->cat.rounding = x->q ? x->q->rounding : 0;
    for (int k = 0; k < node->n_inputs; k++) {
        const mf_shape *is = &x->m->nodes[node->inputs[k]].out_shape;
        c->cat.channels[k] = is->dim[is->rank - 1];
        c->cat.shift[k] = x->q ? n_of(x, node->inputs[k]) - n_of(x, i) : 0;
    }
}

static void lower_relu(const lower_ctx *x, int i, mf_call *c)
{
    c->kind = MF_K_RELU;
    c->count = size_of(x->m, i);
}

/* A ReLU6 that did not fuse: min(max(x, 0), q6) in its input's format (rq.relu carries q6). */
static void lower_relu6(const lower_ctx *x, int i, mf_call *c)
{
    c->kind = MF_K_RELU6;
    c->count = size_of(x->m, i);
    if (x->q) c->rq.relu = MF_RT_RELU6(relu6_q6(x->bits, x->q->nodes[i].n_out));
}

/* ---- the table ---- */

static const lower_entry entries[MF_OP_COUNT] = {
    [MF_OP_CONV1D] = {MF_QRULE_WEIGHTED, validate_weighted, lower_conv},
    [MF_OP_CONV2D] = {MF_QRULE_WEIGHTED, validate_weighted, lower_conv},
    [MF_OP_DENSE] = {MF_QRULE_WEIGHTED, validate_weighted, lower_dense},
    [MF_OP_MAXPOOL1D] = {MF_QRULE_KEEP_INPUT, validate_pool, lower_maxpool},
    [MF_OP_MAXPOOL2D] = {MF_QRULE_KEEP_INPUT, validate_pool, lower_maxpool},
    [MF_OP_AVGPOOL1D] = {MF_QRULE_KEEP_INPUT, validate_avgpool, lower_avgpool},
    [MF_OP_AVGPOOL2D] = {MF_QRULE_KEEP_INPUT, validate_avgpool, lower_avgpool},
    [MF_OP_GLOBAL_MAXPOOL] = {MF_QRULE_KEEP_INPUT, validate_global, lower_global},
    [MF_OP_GLOBAL_AVGPOOL] = {MF_QRULE_KEEP_INPUT, validate_global, lower_global},
    [MF_OP_ADD] = {MF_QRULE_CALIBRATED, validate_add, lower_add},
    [MF_OP_RELU] = {MF_QRULE_KEEP_INPUT, NULL, lower_relu},
    [MF_OP_RELU6] = {MF_QRULE_KEEP_INPUT, NULL, lower_relu6},
    [MF_OP_DWCONV1D] = {MF_QRULE_WEIGHTED, validate_weighted, lower_dwconv},
    [MF_OP_DWCONV2D] = {MF_QRULE_WEIGHTED, validate_weighted, lower_dwconv},
    [MF_OP_CONCAT] = {MF_QRULE_CALIBRATED, validate_concat, lower_concat},
    [MF_OP_BATCHNORM] = {MF_QRULE_WEIGHTED, validate_weighted, lower_affine},
    [MF_OP_FLATTEN] = {MF_QRULE_KEEP_INPUT, NULL, NULL}, /* a view: no call, no memory */
};

const lower_entry *mf_lower_entry(mf_op op)
{
    if ((int)op < 0 || op >= MF_OP_COUNT || entries[op].qrule == MF_QRULE_UNSUPPORTED) return NULL;
    return &entries[op];
}

mf_qrule mf_lower_qrule(mf_op op)
{
    const lower_entry *e = mf_lower_entry(op);
    return e ? e->qrule : MF_QRULE_UNSUPPORTED;
}

int mf_lower_fusable_pool(const mf_model *m, int i)
{
    const mf_node *node = &m->nodes[i];
    if (node->spec.op != MF_OP_MAXPOOL1D && node->spec.op != MF_OP_MAXPOOL2D) return -1;
    int src = node->inputs[0];
    mf_op sop = m->nodes[src].spec.op;
    if (sop != MF_OP_CONV1D && sop != MF_OP_CONV2D) return -1;
    int consumers = 0;
    for (int j = 1; j < m->n_nodes; j++)
        for (int k = 0; k < m->nodes[j].n_inputs; k++)
            consumers += m->nodes[j].inputs[k] == src;
    mf_window w;
    mf_node_window(m, i, &w);
    if (consumers != 1 || src == m->output || w.sh < w.kh || w.sw < w.kw || w.pad_top || w.pad_left)
        return -1;
    return src;
}
