#include <cblas.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "layers.h"

const mf_shape *mf_input_shape(const mf_model *m, const mf_node *node, int i)
{
    return &m->nodes[node->inputs[i]].out_shape;
}

int mf_node_fail(mf_error *err, const mf_model *m, const mf_node *node, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    mf_error_set(err, "layer '%s' (%s): %s", node->spec.name, mf_op_get(node->spec.op)->name, msg);
    char field[32];
    snprintf(field, sizeof field, "layers[%d]", (int)(node - m->nodes) - 1);
    mf_error_at(err, NULL, 0, 0, field);
    return MF_ERR;
}

static int same_out(int in, int s)
{
    return (in + s - 1) / s;
}

static int pad_before(int in, int k, int s, int out)
{
    int total = (out - 1) * s + k - in;
    return total > 0 ? total / 2 : 0;
}

static void window_fill(const mf_model *m, const mf_node *node, int dims, int cout, mf_window *g)
{
    const mf_shape *in = mf_input_shape(m, node, 0);
    const mf_layer_spec *sp = &node->spec;
    /* a conv's stride defaults to 1, a pool's to its window */
    const mf_op op = node->spec.op;
    const int pool =
        op != MF_OP_CONV1D && op != MF_OP_CONV2D && op != MF_OP_DWCONV1D && op != MF_OP_DWCONV2D;
    const int kh = sp->kernel_h > 0 ? sp->kernel_h : sp->kernel;
    const int sw = sp->stride > 0 ? sp->stride : pool ? sp->kernel : 1;
    const int sh = sp->stride_h > 0 ? sp->stride_h : sp->stride > 0 ? sp->stride : pool ? kh : 1;
    memset(g, 0, sizeof *g);
    if (dims == 1) {
        g->h = 1;
        g->w = in->dim[0];
        g->cin = in->dim[1];
        g->kh = 1;
        g->sh = 1;
    } else {
        g->h = in->dim[0];
        g->w = in->dim[1];
        g->cin = in->dim[2];
        g->kh = kh;
        g->sh = sh;
    }
    g->kw = sp->kernel;
    g->sw = sw;
    g->cout = cout > 0 ? cout : g->cin;
    if (op == MF_OP_DWCONV1D || op == MF_OP_DWCONV2D) /* one filter per input channel × m */
        g->cout = g->cin * (sp->depth_multiplier > 0 ? sp->depth_multiplier : 1);
    if (sp->padding == MF_PAD_SAME) {
        g->oh = dims == 1 ? 1 : same_out(g->h, g->sh);
        g->ow = same_out(g->w, g->sw);
        g->pad_top = dims == 1 ? 0 : pad_before(g->h, g->kh, g->sh, g->oh);
        g->pad_left = pad_before(g->w, g->kw, g->sw, g->ow);
    } else {
        g->oh = g->h >= g->kh ? (g->h - g->kh) / g->sh + 1 : 0;
        g->ow = g->w >= g->kw ? (g->w - g->kw) / g->sw + 1 : 0;
    }
}

void mf_window_of(const mf_model *m, const mf_node *node, mf_window *g)
{
    window_fill(m, node,
                node->spec.op == MF_OP_CONV2D || node->spec.op == MF_OP_MAXPOOL2D ||
                        node->spec.op == MF_OP_AVGPOOL2D || node->spec.op == MF_OP_DWCONV2D
                    ? 2
                    : 1,
                node->spec.filters, g);
}

void mf_node_window(const mf_model *m, int node, mf_window *g)
{
    mf_window_of(m, &m->nodes[node], g);
}

int mf_window_init(const mf_model *m, const mf_node *node, int dims, int cout, mf_window *g,
                   mf_error *err)
{
    const mf_shape *in = mf_input_shape(m, node, 0);
    const mf_node *src = &m->nodes[node->inputs[0]];
    char buf[64];
    if (in->rank != dims + 1)
        return mf_node_fail(err, m, node, "expects a %dD input (%s), but '%s' outputs %s (rank %d)",
                            dims, dims == 1 ? "length x channels" : "height x width x channels",
                            src->spec.name, mf_shape_str(in, buf, sizeof buf), in->rank);
    const mf_layer_spec *sp = &node->spec;
    if (sp->kernel < 1 || sp->kernel_h < 0)
        return mf_node_fail(err, m, node, "kernel must be >= 1 (got %d)",
                            sp->kernel < 1 ? sp->kernel : sp->kernel_h);
    if (sp->stride < 0 || sp->stride_h < 0)
        return mf_node_fail(err, m, node, "stride must be >= 1 (got %d)",
                            sp->stride < 0 ? sp->stride : sp->stride_h);
    if (dims == 1 && (sp->kernel_h > 0 || sp->stride_h > 0))
        return mf_node_fail(
            err, m, node, "a 1D layer takes one %s size, not [height, width] (got [%d, %d])",
            sp->kernel_h > 0 ? "kernel" : "stride", sp->kernel_h > 0 ? sp->kernel_h : sp->stride_h,
            sp->kernel_h > 0 ? sp->kernel : sp->stride);
    window_fill(m, node, dims, cout, g);
    if (g->oh < 1 || g->ow < 1) {
        char k[32];
        if (g->kh != g->kw && dims == 2)
            snprintf(k, sizeof k, "[%d, %d]", g->kh, g->kw);
        else
            snprintf(k, sizeof k, "%d", g->kw);
        return mf_node_fail(err, m, node,
                            "kernel %s with padding '%s' does not fit the %s output of '%s'", k,
                            sp->padding == MF_PAD_SAME ? "same" : "valid",
                            mf_shape_str(in, buf, sizeof buf), src->spec.name);
    }
    return MF_OK;
}

static mf_gemm_observer gemm_observer;
static void *gemm_observer_ctx;

void mf_set_gemm_observer(mf_gemm_observer fn, void *ctx)
{
    gemm_observer = fn;
    gemm_observer_ctx = ctx;
}

#define OBSERVE(ta, tb)                                                                            \
    do {                                                                                           \
        if (gemm_observer) gemm_observer(gemm_observer_ctx, ta, tb, m, n, k);                      \
    } while (0)

void mf_gemm_nn(int m, int n, int k, const float *a, const float *b, float beta, float *c)
{
    OBSERVE(0, 0);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b, n, beta, c, n);
}

void mf_gemm_tn(int m, int n, int k, const float *a, const float *b, float beta, float *c)
{
    /* a is stored k x m */
    OBSERVE(1, 0);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m, n, k, 1.0f, a, m, b, n, beta, c, n);
}

void mf_gemm_nt(int m, int n, int k, const float *a, const float *b, float beta, float *c)
{
    /* b is stored n x k */
    OBSERVE(0, 1);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, a, k, b, k, beta, c, n);
}

void mf_fill_bias(float *y, int rows, int cols, const float *bias)
{
    if (!bias) {
        memset(y, 0, sizeof(float) * (size_t)rows * cols);
        return;
    }
    for (int r = 0; r < rows; r++)
        memcpy(y + (size_t)r * cols, bias, sizeof(float) * cols);
}

/* ---- activations ---- */

#define ACT_NAME_(e, name) [MF_ACT_##e] = #name,
static const char *const act_names[MF_ACT_COUNT] = {MF_ACTIVATIONS(ACT_NAME_)};
#undef ACT_NAME_

int mf_activation_lookup(const char *name, mf_activation *out)
{
    for (int a = 0; a < MF_ACT_COUNT; a++)
        if (!strcmp(name, act_names[a])) {
            if (out) *out = (mf_activation)a;
            return 1;
        }
    return 0;
}

const char *mf_activation_name(mf_activation a)
{
    return (unsigned)a < MF_ACT_COUNT ? act_names[a] : "?";
}

const char *mf_activation_list(char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int a = 1; a < MF_ACT_COUNT && used < size; a++) {
        int w = snprintf(buf + used, size - used, "%s%s", a == 1 ? "" : ", ", act_names[a]);
        if (w > 0) used += (size_t)w;
    }
    if (used < size) snprintf(buf + used, size - used, "%s%s", used ? " or " : "", act_names[0]);
    return buf;
}

/* ReLU: max(v, 0); ReLU6: min(max(v, 0), 6) (Keras/TensorFlow's relu6, whose gradient is 0 at
 * and beyond both kinks). */
void mf_act_forward(float *y, size_t n, mf_activation a)
{
    if (a == MF_ACT_RELU)
        for (size_t i = 0; i < n; i++)
            y[i] = y[i] > 0.0f ? y[i] : 0.0f;
    if (a == MF_ACT_RELU6)
        for (size_t i = 0; i < n; i++) {
            const float v = y[i] > 0.0f ? y[i] : 0.0f;
            y[i] = v < 6.0f ? v : 6.0f;
        }
}

void mf_act_backward(float *restrict dy, const float *restrict y, size_t n, mf_activation a)
{
    /* a select, not a branch: signs are random, and this vectorises */
    if (a == MF_ACT_RELU)
        for (size_t i = 0; i < n; i++)
            dy[i] = y[i] > 0.0f ? dy[i] : 0.0f;
    if (a == MF_ACT_RELU6)
        for (size_t i = 0; i < n; i++)
            dy[i] = y[i] > 0.0f && y[i] < 6.0f ? dy[i] : 0.0f;
}

void mf_bias_grad(float *db, const float *dy, int rows, int cols)
{
    for (int r = 0; r < rows; r++) {
        const float *d = dy + (size_t)r * cols;
        for (int j = 0; j < cols; j++)
            db[j] += d[j];
    }
}

void mf_node_inference_weights(const mf_model *m, int node, float *kernel, float *bias)
{
    const mf_node *nd = &m->nodes[node];
    const mf_op_info *info = mf_op_get(nd->spec.op);
    const float *params = m->params + nd->param_offset;
    if (info->inference_weights) {
        info->inference_weights(m, nd, params, m->state + nd->state_offset, kernel, bias);
        return;
    }
    mf_param_desc d[4];
    const int np = mf_node_params(m, node, d);
    const size_t cout = mf_param_cout(&d[0]);
    memcpy(kernel, params + d[0].offset, sizeof(float) * mf_shape_size(&d[0].shape));
    for (size_t c = 0; c < cout; c++)
        bias[c] = np > 1 ? params[d[1].offset + c] : 0.0f;
}
