/* The float layers, op by op.
 *
 * Forward: every node's output is compared with a naive double-precision reference written here
 * with plain loops, straight from the channels-last activation layouts and the Keras kernel
 * layouts (conv1d [k][cin][cout], conv2d [kh][kw][cin][cout], dense [in][out]) and TensorFlow's
 * "same" padding (out = ceil(in/stride), pad_total = max((out-1)*stride + k - in, 0),
 * pad_before = pad_total/2). The reference also works out shapes, parameter counts, MACs and
 * parameter descriptors on its own and checks the engine's.
 *
 * Backward: with L = sum_i w_i y_i for fixed random w (so dout = w), the parameter gradient of
 * mf_backward is compared with central finite differences of L, both of the engine's float
 * forward (as a float32 model sees it, loss summed in double) and of the double reference. The
 * tested op normally reads the output of a pointwise "pre" layer (identity plus noise), so the
 * op's input gradient is checked too, through the gradient of pre's parameters. Perturbations
 * that would cross a kink (a ReLU sign or a max-pool winner changes between -eps, 0 and +eps,
 * as the reference records) are skipped and counted.
 *
 * MF_TEST_VERBOSE=1 prints the error statistics of every case. */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mf_core.h"

#define MAXN 32

/* Finite differences: step on float32 parameters, and the two tolerances. */
#define FD_EPS     1e-3
#define FD_TOL_ENG 1e-2 /* engine forward (float32) */
#define FD_TOL_REF 5e-3 /* double reference forward */
#define FWD_TOL    1e-5
#define FD_NOISE   4.0 /* multiples of FLT_EPSILON * loss scale / h, see check_model */

static int verbose(void)
{
    const char *v = getenv("MF_TEST_VERBOSE");
    return v && *v && strcmp(v, "0") != 0;
}

static double urand(mf_rng *r, double lo, double hi)
{
    return lo + (hi - lo) * mf_rng_uniform(r);
}

/* ---- building models ---- */

static mf_layer_spec spec(mf_op op, const char *name)
{
    mf_layer_spec s;
    mf_layer_spec_init(&s, op, name);
    return s;
}

static mf_layer_spec conv_spec(int dims, const char *name, int filters, int kernel, int stride,
                               mf_padding pad, int bias, mf_activation act)
{
    mf_layer_spec s = spec(dims == 1 ? MF_OP_CONV1D : MF_OP_CONV2D, name);
    s.filters = filters;
    s.kernel = kernel;
    s.stride = stride;
    s.padding = pad;
    s.use_bias = bias;
    s.activation = act;
    return s;
}

static mf_layer_spec dense_spec(const char *name, int units, int bias, mf_activation act)
{
    mf_layer_spec s = spec(MF_OP_DENSE, name);
    s.filters = units;
    s.use_bias = bias;
    s.activation = act;
    return s;
}

static mf_layer_spec pool_spec(mf_op op, const char *name, int kernel, int stride)
{
    mf_layer_spec s = spec(op, name);
    s.kernel = kernel;
    s.stride = stride;
    return s;
}

/* Input names, NULL-terminated. */
static mf_layer_spec with_inputs(mf_layer_spec s, ...)
{
    va_list ap;
    va_start(ap, s);
    s.n_inputs = 0;
    for (const char *name; (name = va_arg(ap, const char *)) != NULL;)
        snprintf(s.inputs[s.n_inputs++], MF_NAME_MAX, "%s", name);
    va_end(ap);
    return s;
}

static mf_model *model_new(int rank, int d0, int d1, int d2)
{
    mf_shape in = {rank, {d0, d1, d2, 0}};
    mf_error err;
    memset(&err, 0, sizeof err);
    mf_model *m = mf_model_new(&in, &err);
    if (!m) fail_msg("mf_model_new: %s", err.message);
    return m;
}

static void add_ok(mf_model *m, mf_layer_spec s)
{
    mf_error err;
    memset(&err, 0, sizeof err);
    if (mf_model_add(m, &s, &err) != MF_OK) fail_msg("mf_model_add(%s): %s", s.name, err.message);
}

static void finalize_ok(mf_model *m)
{
    mf_error err;
    memset(&err, 0, sizeof err);
    if (mf_model_finalize(m, &err) != MF_OK) fail_msg("mf_model_finalize: %s", err.message);
}

/* A pointwise layer named "pre" that the tested op reads (identity plus noise after
 * randomize_params), so the op's input gradient reaches a parameter gradient. */
static mf_layer_spec pre_spec(int dims, int channels)
{
    if (dims == 0) return dense_spec("pre", channels, 1, MF_ACT_NONE);
    return conv_spec(dims, "pre", channels, 1, 0, MF_PAD_VALID, 1, MF_ACT_NONE);
}

/* "pre8": a pre layer scaling by 8 (randomize_params), so that values cross ReLU6's kink at 6. */
static mf_layer_spec pre8_spec(int dims, int channels)
{
    mf_layer_spec s = pre_spec(dims, channels);
    snprintf(s.name, sizeof s.name, "pre8");
    return s;
}

/* ---- the reference ---- */

static int is_conv(mf_op op)
{
    return op == MF_OP_CONV1D || op == MF_OP_CONV2D;
}

static int is_dw(mf_op op)
{
    return op == MF_OP_DWCONV1D || op == MF_OP_DWCONV2D;
}

/* a conv's window rules (stride 1 by default, "same" padding): conv and depthwise conv */
static int conv_window(mf_op op)
{
    return is_conv(op) || is_dw(op);
}

static int is_maxpool(mf_op op)
{
    return op == MF_OP_MAXPOOL1D || op == MF_OP_MAXPOOL2D;
}

static int op_dims(mf_op op)
{
    return op == MF_OP_CONV2D || op == MF_OP_MAXPOOL2D || op == MF_OP_AVGPOOL2D ||
                   op == MF_OP_DWCONV2D
               ? 2
               : 1;
}

/* Window geometry of a conv or pool, 1D as h = 1. Pools are always valid (Keras default). */
typedef struct geo {
    int h, w, c, kh, kw, sh, sw, pt, pl, oh, ow;
} geo;

static geo ref_geo(const mf_layer_spec *s, const mf_shape *in)
{
    geo g;
    /* kernel [kh, kw] (kernel_h 0: square), stride [sh, sw] (stride_h 0: as stride; stride 0:
     * a conv's 1, a pool's window) */
    int dims = op_dims(s->op), kw = s->kernel, kh = s->kernel_h ? s->kernel_h : kw;
    int sw = s->stride > 0 ? s->stride : (conv_window(s->op) ? 1 : kw);
    int sh = s->stride_h > 0      ? s->stride_h
             : s->stride > 0      ? s->stride
             : conv_window(s->op) ? 1
                                  : kh;
    g.h = dims == 1 ? 1 : in->dim[0];
    g.w = in->dim[dims - 1];
    g.c = in->dim[dims];
    g.kh = dims == 1 ? 1 : kh;
    g.kw = kw;
    g.sh = dims == 1 ? 1 : sh;
    g.sw = sw;
    if (conv_window(s->op) && s->padding == MF_PAD_SAME) {
        g.oh = (g.h + g.sh - 1) / g.sh;
        g.ow = (g.w + g.sw - 1) / g.sw;
        int th = (g.oh - 1) * g.sh + g.kh - g.h, tw = (g.ow - 1) * g.sw + g.kw - g.w;
        g.pt = th > 0 ? th / 2 : 0;
        g.pl = tw > 0 ? tw / 2 : 0;
    } else {
        g.oh = (g.h - g.kh) / g.sh + 1;
        g.ow = (g.w - g.kw) / g.sw + 1;
        g.pt = g.pl = 0;
    }
    return g;
}

typedef struct ref {
    const mf_model *m;
    int n, training, output;
    int order[MAXN];
    int n_in[MAXN], in[MAXN][MF_MAX_INPUTS];
    mf_shape shape[MAXN];
    size_t size[MAXN];
    double *act[MAXN];
    double *mask[MAXN]; /* dropout, training: the engine's mask */
    long *sig;          /* the decisions of this forward: ReLU signs, max winners */
    size_t n_sig, cap_sig;
} ref;

static void sig_push(ref *r, long v)
{
    if (r->n_sig == r->cap_sig) {
        r->cap_sig = r->cap_sig ? 2 * r->cap_sig : 1024;
        r->sig = realloc(r->sig, r->cap_sig * sizeof *r->sig);
        assert_non_null(r->sig);
    }
    r->sig[r->n_sig++] = v;
}

static mf_shape ref_shape(const mf_layer_spec *s, const mf_shape *in)
{
    mf_shape o = *in;
    geo g;
    switch (s->op) {
    case MF_OP_CONV1D:
    case MF_OP_CONV2D:
    case MF_OP_MAXPOOL1D:
    case MF_OP_MAXPOOL2D:
    case MF_OP_AVGPOOL1D:
    case MF_OP_AVGPOOL2D:
    case MF_OP_DWCONV1D:
    case MF_OP_DWCONV2D: {
        g = ref_geo(s, in);
        int c = is_conv(s->op) ? s->filters : is_dw(s->op) ? g.c * s->depth_multiplier : g.c;
        if (op_dims(s->op) == 1)
            o = (mf_shape){2, {g.ow, c, 0, 0}};
        else
            o = (mf_shape){3, {g.oh, g.ow, c, 0}};
        break;
    }
    case MF_OP_DENSE:
        o = (mf_shape){1, {s->filters, 0, 0, 0}};
        break;
    case MF_OP_GLOBAL_MAXPOOL:
    case MF_OP_GLOBAL_AVGPOOL:
        o = (mf_shape){1, {in->dim[in->rank - 1], 0, 0, 0}};
        break;
    case MF_OP_FLATTEN:
        o = (mf_shape){1, {(int)mf_shape_size(in), 0, 0, 0}};
        break;
    default:
        break;
    }
    return o;
}

static size_t ref_n_params(const mf_layer_spec *s, const mf_shape *in)
{
    if (is_conv(s->op)) {
        geo g = ref_geo(s, in);
        return (size_t)g.kh * g.kw * g.c * s->filters + (s->use_bias ? (size_t)s->filters : 0);
    }
    if (is_dw(s->op)) {
        geo g = ref_geo(s, in);
        size_t cout = (size_t)g.c * s->depth_multiplier;
        return (size_t)g.kh * g.kw * cout + (s->use_bias ? cout : 0);
    }
    if (s->op == MF_OP_DENSE)
        return (size_t)in->dim[0] * s->filters + (s->use_bias ? (size_t)s->filters : 0);
    if (s->op == MF_OP_BATCHNORM) return 2 * (size_t)in->dim[in->rank - 1];
    return 0;
}

static void check_descs(const mf_model *m, int i, const mf_shape *in)
{
    const mf_layer_spec *s = &m->nodes[i].spec;
    mf_param_desc d[4];
    memset(d, 0, sizeof d);
    int nd = mf_node_params(m, i, d);
    if (is_dw(s->op)) { /* Keras's [kh][kw][cin][m] (1D [k][cin][m]): cout = cin·m, 2 dims */
        geo g = ref_geo(s, in);
        const int mult = s->depth_multiplier;
        mf_shape ks = s->op == MF_OP_DWCONV1D ? (mf_shape){3, {g.kw, g.c, mult, 0}}
                                              : (mf_shape){4, {g.kh, g.kw, g.c, mult}};
        assert_int_equal(nd, s->use_bias ? 2 : 1);
        assert_string_equal(d[0].name, "kernel");
        assert_true(mf_shape_equal(&d[0].shape, &ks));
        assert_int_equal(mf_param_cout(&d[0]), g.c * mult);
        if (s->use_bias) {
            mf_shape bs = {1, {g.c * mult, 0, 0, 0}};
            assert_string_equal(d[1].name, "bias");
            assert_int_equal(d[1].offset, mf_shape_size(&ks));
            assert_true(mf_shape_equal(&d[1].shape, &bs));
        }
    } else if (is_conv(s->op) || s->op == MF_OP_DENSE) {
        mf_shape ks;
        size_t kn;
        if (s->op == MF_OP_DENSE) {
            ks = (mf_shape){2, {in->dim[0], s->filters, 0, 0}};
        } else {
            geo g = ref_geo(s, in);
            if (s->op == MF_OP_CONV1D)
                ks = (mf_shape){3, {g.kw, g.c, s->filters, 0}};
            else
                ks = (mf_shape){4, {g.kh, g.kw, g.c, s->filters}};
        }
        kn = mf_shape_size(&ks);
        assert_int_equal(nd, s->use_bias ? 2 : 1);
        assert_string_equal(d[0].name, "kernel");
        assert_int_equal(d[0].is_state, 0);
        assert_int_equal(d[0].offset, 0);
        assert_true(mf_shape_equal(&d[0].shape, &ks));
        if (s->use_bias) {
            mf_shape bs = {1, {s->filters, 0, 0, 0}};
            assert_string_equal(d[1].name, "bias");
            assert_int_equal(d[1].is_state, 0);
            assert_int_equal(d[1].offset, kn);
            assert_true(mf_shape_equal(&d[1].shape, &bs));
        }
    } else if (s->op == MF_OP_BATCHNORM) {
        int c = in->dim[in->rank - 1];
        mf_shape cs = {1, {c, 0, 0, 0}};
        const char *names[4] = {"gamma", "beta", "moving_mean", "moving_variance"};
        const int state[4] = {0, 0, 1, 1};
        const size_t off[4] = {0, (size_t)c, 0, (size_t)c};
        assert_int_equal(nd, 4);
        for (int k = 0; k < 4; k++) {
            assert_string_equal(d[k].name, names[k]);
            assert_int_equal(d[k].is_state, state[k]);
            assert_int_equal(d[k].offset, off[k]);
            assert_true(mf_shape_equal(&d[k].shape, &cs));
        }
    } else {
        assert_int_equal(nd, 0);
    }
}

/* Resolves inputs by name, orders, infers shapes, and checks the engine's shapes, parameter
 * counts, MACs, descriptors and output against them. */
static void ref_init(ref *r, const mf_model *m, int n, int training)
{
    char b1[64], b2[64];
    memset(r, 0, sizeof *r);
    assert_true(m->n_nodes <= MAXN);
    r->m = m;
    r->n = n;
    r->training = training;
    int used[MAXN] = {0};
    for (int i = 1; i < m->n_nodes; i++) {
        const mf_layer_spec *s = &m->nodes[i].spec;
        if (s->n_inputs == 0) {
            r->n_in[i] = 1;
            r->in[i][0] = i - 1;
        } else {
            r->n_in[i] = s->n_inputs;
            for (int k = 0; k < s->n_inputs; k++) {
                r->in[i][k] = mf_model_find(m, s->inputs[k]);
                assert_true(r->in[i][k] >= 0);
            }
        }
        for (int k = 0; k < r->n_in[i]; k++)
            used[r->in[i][k]] = 1;
    }
    r->output = -1;
    for (int i = 1; i < m->n_nodes; i++)
        if (!used[i]) r->output = i;
    assert_int_equal(m->output, r->output);
    int done[MAXN] = {0}, count = 1;
    done[0] = 1;
    while (count < m->n_nodes) {
        int progress = 0;
        for (int i = 1; i < m->n_nodes; i++) {
            if (done[i]) continue;
            int ready = 1;
            for (int k = 0; k < r->n_in[i]; k++)
                ready &= done[r->in[i][k]];
            if (!ready) continue;
            done[i] = 1;
            r->order[count++] = i;
            progress = 1;
        }
        assert_true(progress);
    }
    r->shape[0] = m->input_shape;
    size_t n_params = 0, n_state = 0;
    for (int k = 1; k < m->n_nodes; k++) {
        int i = r->order[k];
        const mf_node *node = &m->nodes[i];
        const mf_shape *in = &r->shape[r->in[i][0]];
        r->shape[i] = ref_shape(&node->spec, in);
        if (node->spec.op == MF_OP_CONCAT) /* the channels of every input */
            for (int k = 1; k < r->n_in[i]; k++)
                r->shape[i].dim[in->rank - 1] += r->shape[r->in[i][k]].dim[in->rank - 1];
        if (!mf_shape_equal(&r->shape[i], &node->out_shape))
            fail_msg("layer %s: engine shape %s, reference %s", node->spec.name,
                     mf_shape_str(&node->out_shape, b1, sizeof b1),
                     mf_shape_str(&r->shape[i], b2, sizeof b2));
        assert_int_equal(node->n_params, ref_n_params(&node->spec, in));
        assert_int_equal(node->n_state, node->spec.op == MF_OP_BATCHNORM ? node->n_params : 0);
        n_params += node->n_params;
        n_state += node->n_state;
        uint64_t macs = 0;
        if (is_conv(node->spec.op)) {
            geo g = ref_geo(&node->spec, in);
            macs = (uint64_t)g.oh * g.ow * node->spec.filters * g.kh * g.kw * g.c;
        } else if (is_dw(node->spec.op)) {
            geo g = ref_geo(&node->spec, in);
            macs = (uint64_t)g.oh * g.ow * g.c * node->spec.depth_multiplier * g.kh * g.kw;
        } else if (node->spec.op == MF_OP_DENSE) {
            macs = (uint64_t)in->dim[0] * node->spec.filters;
        }
        if (conv_window(node->spec.op) || node->spec.op == MF_OP_DENSE)
            assert_int_equal(mf_node_macs(m, i), macs);
        check_descs(m, i, in);
    }
    assert_int_equal(m->n_params, n_params);
    assert_int_equal(m->n_state, n_state);
    assert_int_equal(mf_model_output_size(m), mf_shape_size(&r->shape[r->output]));
    for (int i = 0; i < m->n_nodes; i++) {
        r->size[i] = mf_shape_size(&r->shape[i]);
        r->act[i] = calloc((size_t)n * r->size[i], sizeof(double));
        assert_non_null(r->act[i]);
    }
}

static void ref_free(ref *r)
{
    for (int i = 0; i < MAXN; i++) {
        free(r->act[i]);
        free(r->mask[i]);
    }
    free(r->sig);
}

static double relu_sig(ref *r, double v)
{
    sig_push(r, v > 0.0);
    return v > 0.0 ? v : 0.0;
}

/* A fused activation (or an activation layer): ReLU, or ReLU6 with its two kinks recorded. */
static double act_sig(ref *r, double v, mf_activation a)
{
    if (a == MF_ACT_RELU) return relu_sig(r, v);
    if (a != MF_ACT_RELU6) return v;
    sig_push(r, v > 0.0);
    sig_push(r, v < 6.0);
    return v < 0.0 ? 0.0 : v > 6.0 ? 6.0 : v;
}

static void ref_conv(ref *r, const mf_layer_spec *s, const mf_shape *ins, const double *x,
                     const double *p, double *y)
{
    geo g = ref_geo(s, ins);
    const int cout = s->filters;
    const size_t isz = (size_t)g.h * g.w * g.c, osz = (size_t)g.oh * g.ow * cout;
    const double *b = s->use_bias ? p + (size_t)g.kh * g.kw * g.c * cout : NULL;
    for (int n = 0; n < r->n; n++)
        for (int oy = 0; oy < g.oh; oy++)
            for (int ox = 0; ox < g.ow; ox++)
                for (int co = 0; co < cout; co++) {
                    double acc = b ? b[co] : 0.0;
                    for (int ky = 0; ky < g.kh; ky++) {
                        int iy = oy * g.sh - g.pt + ky;
                        if (iy < 0 || iy >= g.h) continue;
                        for (int kx = 0; kx < g.kw; kx++) {
                            int ix = ox * g.sw - g.pl + kx;
                            if (ix < 0 || ix >= g.w) continue;
                            for (int ci = 0; ci < g.c; ci++)
                                acc += x[n * isz + ((size_t)iy * g.w + ix) * g.c + ci] *
                                       p[(((size_t)ky * g.kw + kx) * g.c + ci) * cout + co];
                        }
                    }
                    y[n * osz + ((size_t)oy * g.ow + ox) * cout + co] =
                        act_sig(r, acc, s->activation);
                }
}

/* Depthwise: output channel ci·m + j reads input channel ci through kernel [ky][kx][ci][j]. */
static void ref_dw(ref *r, const mf_layer_spec *s, const mf_shape *ins, const double *x,
                   const double *p, double *y)
{
    geo g = ref_geo(s, ins);
    const int mult = s->depth_multiplier, cout = g.c * mult;
    const size_t isz = (size_t)g.h * g.w * g.c, osz = (size_t)g.oh * g.ow * cout;
    const double *b = s->use_bias ? p + (size_t)g.kh * g.kw * cout : NULL;
    for (int n = 0; n < r->n; n++)
        for (int oy = 0; oy < g.oh; oy++)
            for (int ox = 0; ox < g.ow; ox++)
                for (int ci = 0; ci < g.c; ci++)
                    for (int j = 0; j < mult; j++) {
                        const int co = ci * mult + j;
                        double acc = b ? b[co] : 0.0;
                        for (int ky = 0; ky < g.kh; ky++) {
                            int iy = oy * g.sh - g.pt + ky;
                            if (iy < 0 || iy >= g.h) continue;
                            for (int kx = 0; kx < g.kw; kx++) {
                                int ix = ox * g.sw - g.pl + kx;
                                if (ix < 0 || ix >= g.w) continue;
                                acc += x[n * isz + ((size_t)iy * g.w + ix) * g.c + ci] *
                                       p[(((size_t)ky * g.kw + kx) * g.c + ci) * mult + j];
                            }
                        }
                        y[n * osz + ((size_t)oy * g.ow + ox) * cout + co] =
                            act_sig(r, acc, s->activation);
                    }
}

static void ref_pool(ref *r, const mf_layer_spec *s, const mf_shape *ins, const double *x,
                     double *y)
{
    geo g = ref_geo(s, ins);
    const size_t isz = (size_t)g.h * g.w * g.c, osz = (size_t)g.oh * g.ow * g.c;
    for (int n = 0; n < r->n; n++)
        for (int oy = 0; oy < g.oh; oy++)
            for (int ox = 0; ox < g.ow; ox++)
                for (int ch = 0; ch < g.c; ch++) {
                    double best = -INFINITY, sum = 0.0;
                    long arg = -1;
                    for (int ky = 0; ky < g.kh; ky++)
                        for (int kx = 0; kx < g.kw; kx++) {
                            int iy = oy * g.sh + ky, ix = ox * g.sw + kx;
                            assert_true(iy < g.h && ix < g.w);
                            size_t idx = ((size_t)iy * g.w + ix) * g.c + ch;
                            double v = x[n * isz + idx];
                            sum += v;
                            if (v > best) {
                                best = v;
                                arg = (long)idx;
                            }
                        }
                    double out = sum / (g.kh * g.kw);
                    if (is_maxpool(s->op)) {
                        sig_push(r, arg);
                        out = best;
                    }
                    y[n * osz + ((size_t)oy * g.ow + ox) * g.c + ch] = out;
                }
}

static void ref_forward(ref *r, const double *params, const double *state, const double *x)
{
    const mf_model *m = r->m;
    const int n = r->n;
    r->n_sig = 0;
    memcpy(r->act[0], x, sizeof(double) * n * r->size[0]);
    for (int k = 1; k < m->n_nodes; k++) {
        int i = r->order[k];
        const mf_node *node = &m->nodes[i];
        const mf_layer_spec *s = &node->spec;
        const double *p = params + node->param_offset, *st = state + node->state_offset;
        const int i0 = r->in[i][0];
        const double *x0 = r->act[i0];
        const mf_shape *ins = &r->shape[i0];
        const size_t isz = r->size[i0], osz = r->size[i], total = (size_t)n * osz;
        double *y = r->act[i];
        switch (s->op) {
        case MF_OP_CONV1D:
        case MF_OP_CONV2D:
            ref_conv(r, s, ins, x0, p, y);
            break;
        case MF_OP_DWCONV1D:
        case MF_OP_DWCONV2D:
            ref_dw(r, s, ins, x0, p, y);
            break;
        case MF_OP_DENSE:
            for (int b = 0; b < n; b++)
                for (int o = 0; o < s->filters; o++) {
                    double acc = s->use_bias ? p[isz * s->filters + o] : 0.0;
                    for (size_t j = 0; j < isz; j++)
                        acc += x0[b * isz + j] * p[j * s->filters + o];
                    y[b * osz + o] = act_sig(r, acc, s->activation);
                }
            break;
        case MF_OP_MAXPOOL1D:
        case MF_OP_MAXPOOL2D:
        case MF_OP_AVGPOOL1D:
        case MF_OP_AVGPOOL2D:
            ref_pool(r, s, ins, x0, y);
            break;
        case MF_OP_GLOBAL_MAXPOOL:
        case MF_OP_GLOBAL_AVGPOOL: {
            size_t c = osz, positions = isz / c;
            for (int b = 0; b < n; b++)
                for (size_t ch = 0; ch < c; ch++) {
                    double best = -INFINITY, sum = 0.0;
                    long arg = -1;
                    for (size_t q = 0; q < positions; q++) {
                        double v = x0[b * isz + q * c + ch];
                        sum += v;
                        if (v > best) {
                            best = v;
                            arg = (long)q;
                        }
                    }
                    if (s->op == MF_OP_GLOBAL_MAXPOOL) sig_push(r, arg);
                    y[b * osz + ch] = s->op == MF_OP_GLOBAL_MAXPOOL ? best : sum / positions;
                }
            break;
        }
        case MF_OP_BATCHNORM: {
            size_t c = (size_t)ins->dim[ins->rank - 1], rows = (size_t)n * isz / c;
            for (size_t ch = 0; ch < c; ch++) {
                double mean, var;
                if (r->training) {
                    double sum = 0.0, sq = 0.0;
                    for (size_t q = 0; q < rows; q++)
                        sum += x0[q * c + ch];
                    mean = sum / rows;
                    for (size_t q = 0; q < rows; q++)
                        sq += (x0[q * c + ch] - mean) * (x0[q * c + ch] - mean);
                    var = sq / rows;
                } else {
                    mean = st[ch];
                    var = st[c + ch];
                }
                double inv = 1.0 / sqrt(var + (double)s->epsilon);
                for (size_t q = 0; q < rows; q++)
                    y[q * c + ch] = p[ch] * (x0[q * c + ch] - mean) * inv + p[c + ch];
            }
            break;
        }
        case MF_OP_RELU:
            for (size_t j = 0; j < total; j++)
                y[j] = relu_sig(r, x0[j]);
            break;
        case MF_OP_RELU6:
            for (size_t j = 0; j < total; j++)
                y[j] = act_sig(r, x0[j], MF_ACT_RELU6);
            break;
        case MF_OP_ADD:
            for (size_t j = 0; j < total; j++) {
                double v = 0.0;
                for (int q = 0; q < r->n_in[i]; q++)
                    v += r->act[r->in[i][q]][j];
                y[j] = act_sig(r, v, s->activation);
            }
            break;
        case MF_OP_FLATTEN:
            memcpy(y, x0, sizeof(double) * total);
            break;
        case MF_OP_CONCAT: { /* per position: input 0's channels, then input 1's, … */
            const size_t cout = (size_t)r->shape[i].dim[r->shape[i].rank - 1];
            const size_t rows = total / cout;
            size_t at = 0;
            for (int q = 0; q < r->n_in[i]; q++) {
                const int src = r->in[i][q];
                const size_t ci = (size_t)r->shape[src].dim[r->shape[src].rank - 1];
                for (size_t row = 0; row < rows; row++)
                    for (size_t k = 0; k < ci; k++)
                        y[row * cout + at + k] = r->act[src][row * ci + k];
                at += ci;
            }
            break;
        }
        case MF_OP_DROPOUT:
            if (r->training && s->rate > 0.0f) {
                assert_non_null(r->mask[i]);
                for (size_t j = 0; j < total; j++)
                    y[j] = x0[j] * r->mask[i][j];
            } else {
                memcpy(y, x0, sizeof(double) * total);
            }
            break;
        default:
            fail_msg("reference: unexpected op %d", (int)s->op);
        }
    }
}

static double ref_loss(const ref *r, const float *w)
{
    double l = 0.0;
    const double *y = r->act[r->output];
    for (size_t j = 0; j < (size_t)r->n * r->size[r->output]; j++)
        l += (double)w[j] * y[j];
    return l;
}

/* ---- the harness ---- */

typedef struct check_opts {
    int n;           /* samples */
    int training;    /* forward mode of the whole check */
    uint64_t seed;   /* dropout */
    int max_fd;      /* 0: every parameter, else a random subset of this many */
    double max_skip; /* fraction of perturbations allowed to be skipped at kinks */
} check_opts;

static check_opts opts(int n, int training)
{
    check_opts o = {n, training, 77, 0, 0.2};
    return o;
}

/* PyTorch-default parameters made less trivial: "pre" layers become identity plus noise, biases
 * move, batch-norm parameters and running statistics get random values. */
static void randomize_params(mf_model *m, mf_rng *rng)
{
    for (int i = 1; i < m->n_nodes; i++) {
        const mf_node *node = &m->nodes[i];
        const mf_layer_spec *s = &node->spec;
        float *p = m->params + node->param_offset, *st = m->state + node->state_offset;
        if (is_dw(s->op) && s->use_bias) { /* biases move (cout = the node's output channels) */
            const size_t cout = (size_t)node->out_shape.dim[node->out_shape.rank - 1];
            for (size_t b = 0; b < cout; b++)
                p[node->n_params - cout + b] += (float)urand(rng, -0.2, 0.2);
        } else if (is_conv(s->op) || s->op == MF_OP_DENSE) {
            size_t cout = (size_t)s->filters;
            size_t nk = node->n_params - (s->use_bias ? cout : 0);
            /* "pre8": 8 × identity, so that values reach past ReLU6's upper kink at 6 */
            const double diag = !strcmp(s->name, "pre8") ? 8.0 : 1.0;
            if (!strncmp(s->name, "pre", 3))
                for (size_t a = 0; a < nk / cout; a++)
                    for (size_t b = 0; b < cout; b++)
                        p[a * cout + b] = (float)((a == b ? diag : 0.0) + urand(rng, -0.1, 0.1));
            if (s->use_bias)
                for (size_t b = 0; b < cout; b++)
                    p[nk + b] += (float)urand(rng, -0.2, 0.2);
        } else if (s->op == MF_OP_BATCHNORM) {
            size_t c = node->n_params / 2;
            for (size_t j = 0; j < c; j++) {
                p[j] = (float)urand(rng, 0.5, 1.5);
                p[c + j] = (float)urand(rng, -0.5, 0.5);
                st[j] = (float)urand(rng, -0.5, 0.5);
                st[c + j] = (float)urand(rng, 0.5, 2.0);
            }
        }
    }
}

/* n*size distinct values, well separated, in random order, none zero. */
static void separated_values(float *x, size_t count, mf_rng *rng)
{
    size_t *perm = malloc(count * sizeof *perm);
    assert_non_null(perm);
    for (size_t i = 0; i < count; i++)
        perm[i] = i;
    for (size_t i = count; i > 1; i--) {
        size_t j = mf_rng_below(rng, (uint32_t)i);
        size_t t = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = t;
    }
    for (size_t i = 0; i < count; i++)
        x[i] = (float)(((double)perm[i] + 0.5 - count / 2.0) * 3.0 / count);
    free(perm);
}

/* L = sum w_i y_i of the engine's forward, summed in double; *noise (if not NULL) gets
 * sqrt(sum (w_i y_i)^2), the scale of L's float32 rounding noise. */
static double engine_loss(mf_workspace *ws, const mf_model *m, const float *x, const float *w,
                          const check_opts *o, double *noise)
{
    const float *y = mf_forward(ws, m->params, m->state, x, o->n, o->training, o->seed, 0);
    double l = 0.0, sq = 0.0;
    for (size_t j = 0; j < (size_t)o->n * mf_model_output_size(m); j++) {
        l += (double)w[j] * y[j];
        sq += ((double)w[j] * y[j]) * ((double)w[j] * y[j]);
    }
    if (noise) *noise = sqrt(sq);
    return l;
}

static void compare_forward(const ref *r, const mf_workspace *ws, const char *label)
{
    const mf_model *m = r->m;
    for (int i = 1; i < m->n_nodes; i++) {
        const float *e = mf_workspace_output(ws, i);
        const double *y = r->act[i];
        size_t total = (size_t)r->n * r->size[i];
        double mean_abs = 0.0;
        for (size_t j = 0; j < total; j++)
            mean_abs += fabs(y[j]);
        mean_abs /= (double)total;
        for (size_t j = 0; j < total; j++) {
            double tol = FWD_TOL * (fabs(y[j]) + mean_abs) + 1e-7;
            if (!(fabs(e[j] - y[j]) <= tol))
                fail_msg("%s: forward of layer '%s', element %zu of %zu: engine %.9g, reference "
                         "%.9g",
                         label, m->nodes[i].spec.name, j, total, e[j], y[j]);
        }
    }
}

/* The dropout masks the engine drew, checked to be 0 or exactly 1/(1-rate). */
static void take_masks(ref *r, const mf_workspace *ws)
{
    const mf_model *m = r->m;
    for (int i = 1; i < m->n_nodes; i++) {
        const mf_layer_spec *s = &m->nodes[i].spec;
        if (s->op != MF_OP_DROPOUT || !r->training || s->rate == 0.0f) continue;
        const float *ey = mf_workspace_output(ws, i), *ex = mf_workspace_output(ws, r->in[i][0]);
        const float scale = (float)(1.0 / (1.0 - s->rate));
        size_t total = (size_t)r->n * r->size[i];
        free(r->mask[i]);
        r->mask[i] = malloc(total * sizeof(double));
        assert_non_null(r->mask[i]);
        for (size_t j = 0; j < total; j++) {
            if (ey[j] != 0.0f && ey[j] != ex[j] * scale)
                fail_msg("dropout '%s' element %zu: %g is neither 0 nor %g * %g", s->name, j, ey[j],
                         ex[j], scale);
            r->mask[i][j] = ey[j] == 0.0f ? 0.0 : (double)scale;
        }
    }
}

static double rel_err(double a, double b)
{
    return fabs(a - b) / fmax(1e-3, fabs(a) + fabs(b));
}

/* Forward against the reference, backward against finite differences. */
static void check_model(mf_model *m, const char *label, check_opts o, uint64_t seed)
{
    mf_error err;
    memset(&err, 0, sizeof err);
    mf_rng rng;
    mf_rng_seed(&rng, seed);
    mf_model_init_params(m, seed);
    randomize_params(m, &rng);

    const size_t nin = (size_t)o.n * mf_model_input_size(m);
    const size_t nout = (size_t)o.n * mf_model_output_size(m);
    float *x = malloc(nin * sizeof *x), *w = malloc(nout * sizeof *w);
    double *xd = malloc(nin * sizeof *xd);
    double *pd = malloc((m->n_params + 1) * sizeof *pd),
           *sd = malloc((m->n_state + 1) * sizeof *sd);
    float *grad = calloc(m->n_params + 1, sizeof *grad);
    assert_true(x && w && xd && pd && sd && grad);
    separated_values(x, nin, &rng);
    for (size_t j = 0; j < nin; j++)
        xd[j] = x[j];
    for (size_t j = 0; j < nout; j++)
        w[j] = (float)urand(&rng, -1.0, 1.0);
    for (size_t j = 0; j < m->n_params; j++)
        pd[j] = m->params[j];
    for (size_t j = 0; j < m->n_state; j++)
        sd[j] = m->state[j];

    /* a workspace one sample larger than used: partial batches must work */
    mf_workspace *ws = mf_workspace_new(m, o.n + 1, 1, &err);
    if (!ws) fail_msg("%s: mf_workspace_new: %s", label, err.message);
    assert_int_equal(mf_workspace_batch(ws), o.n + 1);
    float *state_before = malloc((m->n_state + 1) * sizeof(float));
    assert_non_null(state_before);
    memcpy(state_before, m->state, m->n_state * sizeof(float));

    const float *y = mf_forward(ws, m->params, m->state, x, o.n, o.training, o.seed, 0);
    assert_ptr_equal(y, mf_workspace_output(ws, m->output));
    assert_memory_equal(state_before, m->state, m->n_state * sizeof(float));
    ref r;
    ref_init(&r, m, o.n, o.training);
    take_masks(&r, ws);
    ref_forward(&r, pd, sd, xd);
    compare_forward(&r, ws, label);
    long *sig0 = malloc((r.n_sig + 1) * sizeof *sig0);
    assert_non_null(sig0);
    if (r.n_sig) memcpy(sig0, r.sig, r.n_sig * sizeof *sig0);
    const size_t n_sig0 = r.n_sig;

    double loss_scale;
    engine_loss(ws, m, x, w, &o, &loss_scale);
    mf_backward(ws, m->params, w, grad);

    /* the parameters to perturb */
    size_t n_check = m->n_params;
    size_t *idx = malloc((m->n_params + 1) * sizeof *idx);
    assert_non_null(idx);
    for (size_t j = 0; j < m->n_params; j++)
        idx[j] = j;
    if (o.max_fd > 0 && (size_t)o.max_fd < m->n_params) {
        n_check = (size_t)o.max_fd;
        for (size_t j = 0; j < n_check; j++) {
            size_t k = j + mf_rng_below(&rng, (uint32_t)(m->n_params - j));
            size_t t = idx[j];
            idx[j] = idx[k];
            idx[k] = t;
        }
    }

    int skipped = 0, checked = 0, bad = 0, noisy = 0;
    double worst_eng = 0.0, worst_ref = 0.0, worst_noise = 0.0, noise_abs = 0.0, max_grad = 0.0;
    for (size_t j = 0; j < m->n_params; j++)
        max_grad = fmax(max_grad, fabs(grad[j]));
    for (size_t q = 0; q < n_check; q++) {
        size_t p = idx[q];
        const float v = m->params[p];
        const float vp = (float)(v + FD_EPS), vm = (float)(v - FD_EPS);
        const double h = (double)vp - (double)vm;
        int kink = 0;
        m->params[p] = vp;
        pd[p] = vp;
        double le_p = engine_loss(ws, m, x, w, &o, NULL);
        ref_forward(&r, pd, sd, xd);
        double lr_p = ref_loss(&r, w);
        kink |= r.n_sig != n_sig0 || (n_sig0 && memcmp(r.sig, sig0, n_sig0 * sizeof *sig0) != 0);
        m->params[p] = vm;
        pd[p] = vm;
        double le_m = engine_loss(ws, m, x, w, &o, NULL);
        ref_forward(&r, pd, sd, xd);
        double lr_m = ref_loss(&r, w);
        kink |= r.n_sig != n_sig0 || (n_sig0 && memcmp(r.sig, sig0, n_sig0 * sizeof *sig0) != 0);
        m->params[p] = v;
        pd[p] = v;
        if (kink) {
            skipped++;
            continue;
        }
        checked++;
        double fd_eng = (le_p - le_m) / h, fd_ref = (lr_p - lr_m) / h, a = grad[p];
        double re = rel_err(a, fd_eng), rr = rel_err(a, fd_ref);
        /* float32 rounding of the engine's outputs limits its finite difference to about
         * FLT_EPSILON * loss_scale / h; below that only the reference's can judge */
        double noise = FD_NOISE * FLT_EPSILON * loss_scale / h;
        if (re >= FD_TOL_ENG && fabs(a - fd_eng) <= noise) {
            noisy++;
            re = 0.0;
        }
        worst_eng = fmax(worst_eng, re);
        worst_ref = fmax(worst_ref, rr);
        worst_noise = fmax(worst_noise, fabs(a - fd_eng) / noise);
        noise_abs = noise;
        if (re >= FD_TOL_ENG || rr >= FD_TOL_REF) {
            int node = 0;
            for (int i = 1; i < m->n_nodes; i++)
                if (m->nodes[i].n_params && p >= m->nodes[i].param_offset &&
                    p < m->nodes[i].param_offset + m->nodes[i].n_params)
                    node = i;
            if (bad++ < 8)
                print_error("%s: d loss / d param %zu (layer '%s', offset %zu): backward %.7g, "
                            "finite difference %.7g (engine forward), %.7g (reference)\n",
                            label, p, m->nodes[node].spec.name, p - m->nodes[node].param_offset, a,
                            fd_eng, fd_ref);
        }
    }
    if (verbose())
        print_message("%-52s params %4zu checked %4d skipped %3d noise-limited %3d  worst rel: "
                      "engine-fd %.2e ref-fd %.2e  worst |engine-fd error|/noise %.2f (noise %.1e, "
                      "max |grad| %.1e)\n",
                      label, m->n_params, checked, skipped, noisy, worst_eng, worst_ref,
                      worst_noise, noise_abs, max_grad);
    if (bad) fail_msg("%s: %d gradient(s) disagree with finite differences", label, bad);
    if (skipped > o.max_skip * (double)n_check + 1)
        fail_msg("%s: %d of %zu perturbations crossed a kink", label, skipped, n_check);

    /* backward adds into grad: a second pass doubles it */
    if (m->n_params) {
        float *g2 = malloc(m->n_params * sizeof *g2);
        assert_non_null(g2);
        memcpy(g2, grad, m->n_params * sizeof *g2);
        mf_forward(ws, m->params, m->state, x, o.n, o.training, o.seed, 0);
        mf_backward(ws, m->params, w, g2);
        for (size_t j = 0; j < m->n_params; j++)
            if (fabsf(g2[j] - 2.0f * grad[j]) > 1e-5f * (1.0f + fabsf(grad[j])))
                fail_msg("%s: second backward did not add: param %zu %g then %g", label, j, grad[j],
                         g2[j]);
        free(g2);
    }

    ref_free(&r);
    mf_workspace_free(ws);
    free(state_before);
    free(sig0);
    free(idx);
    free(x);
    free(w);
    free(xd);
    free(pd);
    free(sd);
    free(grad);
}

/* ---- convolutions ---- */

static void conv_case(int dims, int h, int w, int cin, int filters, int kernel, int stride,
                      mf_padding pad, int bias, mf_activation act, int with_pre, int n, int max_fd)
{
    mf_model *m = dims == 1 ? model_new(2, w, cin, 0) : model_new(3, h, w, cin);
    if (with_pre) add_ok(m, pre_spec(dims, cin));
    add_ok(m, conv_spec(dims, "op", filters, kernel, stride, pad, bias, act));
    finalize_ok(m);
    char label[160];
    snprintf(label, sizeof label, "conv%dd %dx%dx%d f%d k%d s%d %s bias%d %s%s n%d", dims, h, w,
             cin, filters, kernel, stride, pad == MF_PAD_SAME ? "same" : "valid", bias,
             act == MF_ACT_RELU ? "relu" : "linear", with_pre ? "" : " (no pre)", n);
    check_opts o = opts(n, 1);
    o.max_fd = max_fd;
    check_model(m, label, o, 1000u + (uint64_t)(kernel * 97 + stride * 13 + bias * 7 + h + w));
    mf_model_free(m);
}

static void test_conv1d(void **state)
{
    (void)state;
    const int lengths[2] = {7, 8}, kernels[3] = {1, 3, 4};
    for (int li = 0; li < 2; li++)
        for (int ki = 0; ki < 3; ki++)
            for (int stride = 1; stride <= 2; stride++)
                for (int pad = 0; pad < 2; pad++)
                    for (int bias = 0; bias < 2; bias++)
                        for (int act = 0; act < 2; act++)
                            conv_case(1, 1, lengths[li], 3, 4, kernels[ki], stride, (mf_padding)pad,
                                      bias, (mf_activation)act, 1, 3, 0);
    /* stride 0 means the default 1; directly on the model input (no input gradient) */
    conv_case(1, 1, 7, 3, 4, 3, 0, MF_PAD_SAME, 1, MF_ACT_RELU, 0, 2, 0);
    /* a kernel longer than the input with same padding, and stride larger than the kernel */
    conv_case(1, 1, 3, 3, 4, 5, 1, MF_PAD_SAME, 1, MF_ACT_NONE, 1, 2, 0);
    conv_case(1, 1, 9, 2, 3, 2, 3, MF_PAD_SAME, 1, MF_ACT_NONE, 1, 2, 0);
    conv_case(1, 1, 9, 2, 3, 2, 3, MF_PAD_VALID, 1, MF_ACT_NONE, 1, 2, 0);
}

static void test_conv2d(void **state)
{
    (void)state;
    const int kernels[3] = {1, 3, 4};
    for (int ki = 0; ki < 3; ki++)
        for (int stride = 1; stride <= 2; stride++)
            for (int pad = 0; pad < 2; pad++)
                for (int bias = 0; bias < 2; bias++)
                    for (int act = 0; act < 2; act++)
                        conv_case(2, 5, 6, 3, 4, kernels[ki], stride, (mf_padding)pad, bias,
                                  (mf_activation)act, 1, 2, 0);
    conv_case(2, 6, 5, 3, 4, 3, 2, MF_PAD_SAME, 1, MF_ACT_RELU, 1, 2, 0);
    conv_case(2, 5, 6, 3, 4, 3, 0, MF_PAD_SAME, 1, MF_ACT_NONE, 0, 2, 0);
    /* more output rows than one im2col chunk (64 Ki floats / 27 = 2427 rows): 2 x 40 x 41 */
    conv_case(2, 40, 41, 3, 4, 3, 1, MF_PAD_SAME, 1, MF_ACT_NONE, 1, 2, 40);
}

/* Rectangular kernels and strides (kernel [kh, kw], stride [sh, sw]), same and valid padding:
 * the reference pads and strides each axis on its own. */
static void conv_rect_case(int h, int w, int kh, int kw, int sh, int sw, mf_padding pad,
                           mf_activation act)
{
    mf_model *m = model_new(3, h, w, 2);
    add_ok(m, pre_spec(2, 2));
    mf_layer_spec s = conv_spec(2, "op", 3, kw, sw, pad, 1, act);
    s.kernel_h = kh, s.stride_h = sh;
    add_ok(m, s);
    finalize_ok(m);
    char label[160];
    snprintf(label, sizeof label, "conv2d %dx%dx2 f3 k[%d,%d] s[%d,%d] %s %s", h, w, kh, kw, sh, sw,
             pad == MF_PAD_SAME ? "same" : "valid", mf_activation_name(act));
    check_model(m, label, opts(2, 1), 1600u + (uint64_t)(kh * 41 + kw * 13 + sh * 5 + sw + pad));
    mf_model_free(m);
}

static void test_conv2d_rectangular(void **state)
{
    (void)state;
    const int k[4][2] = {{3, 1}, {1, 3}, {4, 2}, {2, 5}}, s[3][2] = {{1, 1}, {2, 1}, {1, 3}};
    for (int ki = 0; ki < 4; ki++)
        for (int si = 0; si < 3; si++)
            for (int pad = 0; pad < 2; pad++)
                conv_rect_case(5, 6, k[ki][0], k[ki][1], s[si][0], s[si][1], (mf_padding)pad,
                               (mf_activation)((ki + si) % 2));
    /* MLPerf's DS-CNN front: a 10 x 4 kernel, stride 2, same padding, over 39 x 13 MFCC */
    conv_rect_case(39, 13, 10, 4, 2, 2, MF_PAD_SAME, MF_ACT_RELU);
    /* the engine's shapes and geometry for a rectangular window */
    mf_model *m = model_new(3, 9, 8, 2);
    mf_layer_spec c = conv_spec(2, "c", 3, 3, 2, MF_PAD_SAME, 1, MF_ACT_NONE);
    c.kernel_h = 5, c.stride_h = 1;
    add_ok(m, c);
    finalize_ok(m);
    mf_window g;
    mf_node_window(m, 1, &g);
    assert_int_equal(g.kh, 5);
    assert_int_equal(g.kw, 3);
    assert_int_equal(g.sh, 1);
    assert_int_equal(g.sw, 2);
    assert_int_equal(g.oh, 9);
    assert_int_equal(g.ow, 4);
    assert_int_equal(g.pad_top, 2);
    assert_int_equal(g.pad_left, 0); /* (4 - 1) * 2 + 3 - 8 = 1: 0 before, 1 after */
    mf_model_free(m);
}

/* ---- depthwise convolutions ---- */

static mf_layer_spec dw_spec(int dims, const char *name, int mult, int kh, int kw, int sh, int sw,
                             mf_padding pad, int bias, mf_activation act)
{
    mf_layer_spec s = spec(dims == 1 ? MF_OP_DWCONV1D : MF_OP_DWCONV2D, name);
    s.depth_multiplier = mult;
    s.kernel = kw, s.stride = sw;
    if (dims == 2) s.kernel_h = kh, s.stride_h = sh;
    s.padding = pad;
    s.use_bias = bias;
    s.activation = act;
    return s;
}

static void dw_case(int dims, int h, int w, int cin, int mult, int kh, int kw, int sh, int sw,
                    mf_padding pad, int bias, mf_activation act, int n)
{
    mf_model *m = dims == 1 ? model_new(2, w, cin, 0) : model_new(3, h, w, cin);
    /* pre8 (8 x identity) when the activation is ReLU6, so outputs cross 6 */
    add_ok(m, act == MF_ACT_RELU6 ? pre8_spec(dims, cin) : pre_spec(dims, cin));
    add_ok(m, dw_spec(dims, "op", mult, kh, kw, sh, sw, pad, bias, act));
    finalize_ok(m);
    char label[160];
    snprintf(label, sizeof label, "depthwise_conv%dd %dx%dx%d m%d k[%d,%d] s[%d,%d] %s bias%d %s",
             dims, h, w, cin, mult, kh, kw, sh, sw, pad == MF_PAD_SAME ? "same" : "valid", bias,
             mf_activation_name(act));
    check_model(m, label, opts(n, 1),
                2000u + (uint64_t)(mult * 101 + kh * 31 + kw * 17 + sh * 7 + sw * 3 + pad + bias));
    mf_model_free(m);
}

static void test_depthwise(void **state)
{
    (void)state;
    /* 1D: multipliers 1 to 3, kernels 1 to 4, strides 1 and 2, both paddings */
    for (int mult = 1; mult <= 3; mult++)
        for (int k = 1; k <= 4; k += 3)
            for (int stride = 1; stride <= 2; stride++)
                for (int pad = 0; pad < 2; pad++)
                    dw_case(1, 1, 8, 3, mult, 1, k, 1, stride, (mf_padding)pad, (mult + k) % 2,
                            (mf_activation)((mult + stride + pad) % 2), 3);
    /* 2D: square and rectangular windows and strides */
    const int kk[4][2] = {{3, 3}, {1, 1}, {3, 1}, {2, 4}}, ss[3][2] = {{1, 1}, {2, 2}, {1, 2}};
    for (int mult = 1; mult <= 2; mult++)
        for (int ki = 0; ki < 4; ki++)
            for (int si = 0; si < 3; si++)
                for (int pad = 0; pad < 2; pad++)
                    dw_case(2, 5, 6, 3, mult, kk[ki][0], kk[ki][1], ss[si][0], ss[si][1],
                            (mf_padding)pad, (ki + pad) % 2 == 0, (mf_activation)((si + pad) % 2),
                            2);
    /* fused ReLU6, no bias, one channel, a kernel wider than the input with same padding */
    dw_case(2, 5, 6, 4, 1, 3, 3, 1, 1, MF_PAD_SAME, 1, MF_ACT_RELU6, 2);
    dw_case(1, 1, 7, 2, 2, 1, 3, 1, 1, MF_PAD_SAME, 0, MF_ACT_RELU6, 3);
    dw_case(2, 4, 5, 1, 3, 2, 2, 1, 1, MF_PAD_VALID, 1, MF_ACT_NONE, 2);
    dw_case(1, 1, 3, 2, 1, 1, 5, 1, 1, MF_PAD_SAME, 1, MF_ACT_NONE, 2);
    /* straight on the model input (no input gradient) */
    mf_model *m = model_new(3, 5, 4, 2);
    add_ok(m, dw_spec(2, "op", 2, 3, 3, 1, 1, MF_PAD_SAME, 1, MF_ACT_RELU));
    finalize_ok(m);
    check_model(m, "depthwise_conv2d on the input", opts(2, 1), 2100);
    mf_model_free(m);
}

/* A separable conv as the composite it is: depthwise, batch-norm, ReLU, 1x1 conv, batch-norm,
 * ReLU (MobileNet's and DS-CNN's block). */
static void test_separable_block(void **state)
{
    (void)state;
    for (int dims = 1; dims <= 2; dims++) {
        mf_model *m = dims == 1 ? model_new(2, 9, 3, 0) : model_new(3, 5, 6, 3);
        add_ok(m, pre_spec(dims, 3));
        add_ok(m, dw_spec(dims, "dw", 1, 3, 3, 1, 1, MF_PAD_SAME, 0, MF_ACT_NONE));
        add_ok(m, spec(MF_OP_BATCHNORM, "bn1"));
        add_ok(m, spec(MF_OP_RELU, "r1"));
        add_ok(m, conv_spec(dims, "pw", 4, 1, 1, MF_PAD_VALID, 0, MF_ACT_NONE));
        add_ok(m, spec(MF_OP_BATCHNORM, "bn2"));
        add_ok(m, spec(MF_OP_RELU, "r2"));
        finalize_ok(m);
        /* 2D in inference mode: with batch statistics every perturbation moves every output,
         * and two ReLUs over 120 values cross too many kinks for finite differences */
        check_model(m, dims == 1 ? "separable block 1D (training)" : "separable block 2D",
                    opts(3, dims == 1), 2200u + (uint64_t)dims);
        mf_model_free(m);
    }
}

/* ---- dense ---- */

static void test_dense(void **state)
{
    (void)state;
    for (int bias = 0; bias < 2; bias++)
        for (int act = 0; act < 2; act++) {
            mf_model *m = model_new(1, 7, 0, 0);
            add_ok(m, pre_spec(0, 7));
            add_ok(m, dense_spec("op", 4, bias, (mf_activation)act));
            finalize_ok(m);
            char label[96];
            snprintf(label, sizeof label, "dense 7->4 bias%d %s", bias, act ? "relu" : "linear");
            check_model(m, label, opts(3, 1), 200u + (uint64_t)(2 * bias + act));
            mf_model_free(m);
        }
    /* straight on the input, one sample */
    mf_model *m = model_new(1, 5, 0, 0);
    add_ok(m, dense_spec("op", 3, 1, MF_ACT_NONE));
    finalize_ok(m);
    check_model(m, "dense 5->3 on the input, n1", opts(1, 1), 210);
    mf_model_free(m);
}

/* ---- pools ---- */

static void pool_case(mf_op op, int h, int w, int c, int kernel, int stride)
{
    int dims = op_dims(op);
    mf_model *m = dims == 1 ? model_new(2, w, c, 0) : model_new(3, h, w, c);
    add_ok(m, pre_spec(dims, c));
    add_ok(m, pool_spec(op, "op", kernel, stride));
    finalize_ok(m);
    char label[96];
    snprintf(label, sizeof label, "%s %dx%dx%d k%d s%d", mf_op_get(op)->name, h, w, c, kernel,
             stride);
    check_model(m, label, opts(3, 1), 300u + (uint64_t)(op * 31 + kernel * 7 + stride));
    mf_model_free(m);
}

/* A 2D pool with window [kh, kw] and stride [sh, sw] (sw 0: the default, the window). */
static void pool_rect_case(mf_op op, int kh, int kw, int sh, int sw)
{
    mf_model *m = model_new(3, 6, 7, 2);
    add_ok(m, pre_spec(2, 2));
    mf_layer_spec s = pool_spec(op, "op", kw, sw);
    s.kernel_h = kh, s.stride_h = sh;
    add_ok(m, s);
    finalize_ok(m);
    char label[96];
    snprintf(label, sizeof label, "%s 6x7x2 k[%d,%d] s[%d,%d]", mf_op_get(op)->name, kh, kw, sh,
             sw);
    check_model(m, label, opts(3, 1), 350u + (uint64_t)(op * 31 + kh * 11 + kw * 7 + sh + sw));
    mf_model_free(m);
}

static void pool_cases(mf_op op)
{
    for (int kernel = 2; kernel <= 3; kernel++)
        for (int stride = 0; stride <= 3; stride++)
            pool_case(op, 5, 7, 3, kernel, stride);
    pool_case(op, 6, 8, 2, 2, 0);
    pool_case(op, 5, 5, 2, 5, 0); /* one window covering everything */
    if (op_dims(op) == 1) return;
    pool_rect_case(op, 2, 1, 0, 0); /* [2, 1], stride the window */
    pool_rect_case(op, 1, 3, 0, 0);
    pool_rect_case(op, 3, 2, 1, 2);
    pool_rect_case(op, 2, 3, 2, 1);
    pool_rect_case(op, 6, 1, 0, 0); /* a whole column */
}

static void test_maxpool1d(void **state)
{
    (void)state;
    pool_cases(MF_OP_MAXPOOL1D);
}

static void test_maxpool2d(void **state)
{
    (void)state;
    pool_cases(MF_OP_MAXPOOL2D);
}

static void test_avgpool1d(void **state)
{
    (void)state;
    pool_cases(MF_OP_AVGPOOL1D);
}

static void test_avgpool2d(void **state)
{
    (void)state;
    pool_cases(MF_OP_AVGPOOL2D);
}

static void test_global_pools(void **state)
{
    (void)state;
    const mf_op ops[2] = {MF_OP_GLOBAL_MAXPOOL, MF_OP_GLOBAL_AVGPOOL};
    for (int k = 0; k < 2; k++)
        for (int dims = 1; dims <= 2; dims++) {
            mf_model *m = dims == 1 ? model_new(2, 7, 3, 0) : model_new(3, 5, 6, 3);
            add_ok(m, pre_spec(dims, 3));
            add_ok(m, spec(ops[k], "op"));
            finalize_ok(m);
            char label[96];
            snprintf(label, sizeof label, "%s %dD", mf_op_get(ops[k])->name, dims);
            check_model(m, label, opts(3, 1), 400u + (uint64_t)(k * 2 + dims));
            mf_model_free(m);
        }
    /* a single position */
    mf_model *m = model_new(2, 1, 4, 0);
    add_ok(m, pre_spec(1, 4));
    add_ok(m, spec(MF_OP_GLOBAL_MAXPOOL, "op"));
    finalize_ok(m);
    check_model(m, "global_maxpool 1x4", opts(2, 1), 410);
    mf_model_free(m);
}

/* Pools take no padding (it is not one of their keys, so configs and model files never set
 * it). A spec that sets it anyway through the C API must be rejected or handled, never make the
 * pool read outside its input: the input is followed by huge sentinels here. */
static void test_pool_padding_is_not_a_pool_key(void **state)
{
    (void)state;
    const mf_op ops[4] = {MF_OP_MAXPOOL1D, MF_OP_MAXPOOL2D, MF_OP_AVGPOOL1D, MF_OP_AVGPOOL2D};
    for (int k = 0; k < 4; k++) {
        int dims = op_dims(ops[k]);
        mf_model *m = dims == 1 ? model_new(2, 7, 2, 0) : model_new(3, 5, 7, 2);
        mf_layer_spec s = pool_spec(ops[k], "pool", 2, 0);
        s.padding = MF_PAD_SAME;
        add_ok(m, s);
        mf_error err;
        if (mf_model_finalize(m, &err) != MF_OK) {
            mf_model_free(m);
            continue;
        }
        size_t in = mf_model_input_size(m), out = mf_model_output_size(m);
        float *x = malloc(sizeof(float) * (in + 64));
        assert_non_null(x);
        for (size_t j = 0; j < in + 64; j++)
            x[j] = j < in ? (float)j / (float)in : 1e30f;
        mf_workspace *ws = mf_workspace_new(m, 1, 0, &err);
        assert_non_null(ws);
        const float *y = mf_forward(ws, m->params, m->state, x, 1, 0, 0, 0);
        for (size_t j = 0; j < out; j++)
            if (!(fabsf(y[j]) <= 1.0f))
                fail_msg("%s with padding 'same' (output %zu values): output %zu is %g, read "
                         "from outside the input",
                         mf_op_get(ops[k])->name, out, j, y[j]);
        mf_workspace_free(ws);
        free(x);
        mf_model_free(m);
    }
}

/* ---- batch norm ---- */

static void bn_case(int rank, int training, float momentum)
{
    mf_model *m = rank == 1   ? model_new(1, 5, 0, 0)
                  : rank == 2 ? model_new(2, 7, 3, 0)
                              : model_new(3, 5, 6, 3);
    add_ok(m, pre_spec(rank - 1, rank == 1 ? 5 : 3));
    mf_layer_spec s = spec(MF_OP_BATCHNORM, "op");
    s.momentum = momentum;
    add_ok(m, s);
    finalize_ok(m);
    char label[96];
    snprintf(label, sizeof label, "batchnorm rank %d %s", rank, training ? "training" : "eval");
    check_model(m, label, opts(3, training), 500u + (uint64_t)(rank * 2 + training));
    mf_model_free(m);
}

static void test_batchnorm(void **state)
{
    (void)state;
    for (int rank = 1; rank <= 3; rank++)
        for (int training = 0; training < 2; training++)
            bn_case(rank, training, 0.99f);
    /* followed by a relu and a conv, so a non-trivial gradient reaches it */
    mf_model *m = model_new(2, 7, 3, 0);
    add_ok(m, pre_spec(1, 3));
    add_ok(m, spec(MF_OP_BATCHNORM, "bn"));
    add_ok(m, spec(MF_OP_RELU, "relu"));
    add_ok(m, conv_spec(1, "conv", 2, 3, 1, MF_PAD_SAME, 1, MF_ACT_NONE));
    finalize_ok(m);
    check_model(m, "batchnorm -> relu -> conv, training", opts(3, 1), 520);
    mf_model_free(m);
}

/* A batch-norm whose forward a hook replaced by its inference-mode forward while training (as
 * QAT does, quantize/qat.c): its backward is the inference-mode one (the running statistics as a
 * constant affine, gradient-checked by test_batchnorm's eval cases), bit for bit, and the
 * running statistics stay as they are. */
static int bn_inference_hook(void *ctx, const mf_workspace *ws, const mf_layer_ctx *c)
{
    (void)ws;
    *(int *)ctx += 1;
    mf_layer_ctx e = *c;
    e.training = 0;
    mf_op_get(c->node->spec.op)->forward(&e);
    return 1;
}

static void test_batchnorm_frozen(void **state)
{
    (void)state;
    enum { L = 6, C = 3, N = 4 };
    mf_model *m = model_new(2, L, C, 0);
    add_ok(m, pre_spec(1, C)); /* so the input gradient reaches the pre layer's kernel */
    add_ok(m, spec(MF_OP_BATCHNORM, "bn"));
    finalize_ok(m);
    mf_model_init_params(m, 1);
    const mf_node *bn = &m->nodes[mf_model_find(m, "bn")];
    float *gamma = m->params + bn->param_offset, *st = m->state + bn->state_offset;
    mf_rng rng;
    mf_rng_seed(&rng, 7);
    float mm0[C], mv0[C], x[N * L * C], dy[N * L * C];
    for (int j = 0; j < C; j++) {
        gamma[j] = (float)urand(&rng, 0.5, 1.5);
        gamma[C + j] = (float)urand(&rng, -0.5, 0.5);
        st[j] = mm0[j] = (float)urand(&rng, -1.0, 1.0);
        st[C + j] = mv0[j] = (float)urand(&rng, 0.5, 2.0);
    }
    for (int j = 0; j < N * L * C; j++) {
        x[j] = (float)urand(&rng, -2.0, 2.0);
        dy[j] = (float)urand(&rng, -1.0, 1.0);
    }
    mf_error err;
    mf_workspace *ws = mf_workspace_new(m, N, 1, &err);
    assert_non_null(ws);
    const size_t np = m->n_params;
    float *g_eval = calloc(np, sizeof(float)), *g_hook = calloc(np, sizeof(float));
    float *g_batch = calloc(np, sizeof(float)), y_eval[N * L * C];
    assert_true(g_eval && g_hook && g_batch);
    memcpy(y_eval, mf_forward(ws, m->params, m->state, x, N, 0, 0, 0), sizeof y_eval);
    mf_backward(ws, m->params, dy, g_eval);
    int calls = 0;
    mf_workspace_set_hook(ws, bn_inference_hook, &calls);
    const float *y = mf_forward(ws, m->params, m->state, x, N, 1, 0, 0);
    assert_int_equal(calls, 2); /* pre and bn, both in inference mode */
    assert_memory_equal(y, y_eval, sizeof y_eval);
    mf_backward(ws, m->params, dy, g_hook);
    assert_memory_equal(g_hook, g_eval, sizeof(float) * np);
    mf_update_state(m, m->state, &ws, 1);
    for (int j = 0; j < C; j++)
        assert_true(st[j] == mm0[j] && st[C + j] == mv0[j]);
    /* without the hook the same call trains on the batch's statistics: other gradients, for
     * the pre layer's kernel (through the input gradient) as well */
    mf_workspace_set_hook(ws, NULL, NULL);
    mf_forward(ws, m->params, m->state, x, N, 1, 0, 0);
    mf_backward(ws, m->params, dy, g_batch);
    const mf_node *pre = &m->nodes[mf_model_find(m, "pre")];
    assert_true(memcmp(g_batch + pre->param_offset, g_eval + pre->param_offset,
                       sizeof(float) * pre->n_params) != 0);
    free(g_eval);
    free(g_hook);
    free(g_batch);
    mf_workspace_free(ws);
    mf_model_free(m);
}

static void test_batchnorm_defaults(void **state)
{
    (void)state;
    mf_layer_spec s;
    mf_layer_spec_init(&s, MF_OP_BATCHNORM, "bn");
    assert_true(fabsf(s.momentum - 0.99f) < 1e-7f);
    assert_true(fabsf(s.epsilon - 1e-3f) < 1e-10f);
    /* fresh parameters: gamma 1, beta 0, moving mean 0, moving variance 1 */
    mf_model *m = model_new(2, 4, 3, 0);
    add_ok(m, s);
    finalize_ok(m);
    mf_model_init_params(m, 5);
    assert_int_equal(m->n_params, 6);
    assert_int_equal(m->n_state, 6);
    for (int j = 0; j < 3; j++) {
        assert_true(m->params[j] == 1.0f && m->params[3 + j] == 0.0f);
        assert_true(m->state[j] == 0.0f && m->state[3 + j] == 1.0f);
    }
    mf_model_free(m);
}

/* Running statistics: moving = momentum*moving + (1-momentum)*batch, the batch variance unbiased,
 * over all samples of all shards together. */
static void test_batchnorm_update_state(void **state)
{
    (void)state;
    const int L = 7, C = 3, na = 3, nb = 2;
    const float mom = 0.9f;
    mf_model *m = model_new(2, L, C, 0);
    mf_layer_spec s = spec(MF_OP_BATCHNORM, "bn");
    s.momentum = mom;
    add_ok(m, s);
    finalize_ok(m);
    mf_model_init_params(m, 1);
    mf_rng rng;
    mf_rng_seed(&rng, 99);
    float mm0[3], mv0[3];
    for (int j = 0; j < C; j++) {
        m->params[j] = (float)urand(&rng, 0.5, 1.5);
        m->params[C + j] = (float)urand(&rng, -0.5, 0.5);
        m->state[j] = mm0[j] = (float)urand(&rng, -1.0, 1.0);
        m->state[C + j] = mv0[j] = (float)urand(&rng, 0.5, 2.0);
    }
    const int ntot = na + nb;
    float *x = malloc(sizeof(float) * ntot * L * C);
    assert_non_null(x);
    for (int j = 0; j < ntot * L * C; j++)
        x[j] = (float)(urand(&rng, -1, 1) * 2.0 + (j % C));
    mf_error err;
    mf_workspace *ws[2] = {mf_workspace_new(m, na, 1, &err), mf_workspace_new(m, na, 1, &err)};
    assert_true(ws[0] && ws[1]);

    /* exact statistics of all ntot*L rows */
    double mean[3], var[3];
    for (int j = 0; j < C; j++) {
        double sum = 0.0, sq = 0.0;
        int rows = ntot * L;
        for (int r = 0; r < rows; r++)
            sum += x[r * C + j];
        mean[j] = sum / rows;
        for (int r = 0; r < rows; r++)
            sq += (x[r * C + j] - mean[j]) * (x[r * C + j] - mean[j]);
        var[j] = sq / (rows - 1);
    }
    mf_forward(ws[0], m->params, m->state, x, na, 1, 0, 0);
    mf_forward(ws[1], m->params, m->state, x + na * L * C, nb, 1, 0, na);
    for (int j = 0; j < C; j++) /* a training forward leaves the state alone */
        assert_true(m->state[j] == mm0[j] && m->state[C + j] == mv0[j]);
    mf_update_state(m, m->state, ws, 2);
    for (int j = 0; j < C; j++) {
        double em = mom * (double)mm0[j] + (1.0 - mom) * mean[j];
        double ev = mom * (double)mv0[j] + (1.0 - mom) * var[j];
        if (fabs(m->state[j] - em) > 1e-5 * (1 + fabs(em)) ||
            fabs(m->state[C + j] - ev) > 1e-5 * (1 + fabs(ev)))
            fail_msg("2 shards, channel %d: moving mean %.7g (expected %.7g), variance %.7g "
                     "(expected %.7g)",
                     j, m->state[j], em, m->state[C + j], ev);
    }

    /* one shard of the first na samples; a second update moves again from the new values */
    for (int j = 0; j < C; j++) {
        m->state[j] = mm0[j];
        m->state[C + j] = mv0[j];
    }
    mf_forward(ws[0], m->params, m->state, x, na, 1, 0, 0);
    for (int step = 1; step <= 2; step++) {
        mf_update_state(m, m->state, ws, 1);
        for (int j = 0; j < C; j++) {
            double sum = 0.0, sq = 0.0;
            int rows = na * L;
            for (int r = 0; r < rows; r++)
                sum += x[r * C + j];
            double mu = sum / rows;
            for (int r = 0; r < rows; r++)
                sq += (x[r * C + j] - mu) * (x[r * C + j] - mu);
            double v = sq / (rows - 1);
            double em = mm0[j], ev = mv0[j];
            for (int t = 0; t < step; t++) {
                em = mom * em + (1.0 - mom) * mu;
                ev = mom * ev + (1.0 - mom) * v;
            }
            if (fabs(m->state[j] - em) > 1e-5 * (1 + fabs(em)) ||
                fabs(m->state[C + j] - ev) > 1e-5 * (1 + fabs(ev)))
                fail_msg("1 shard, step %d, channel %d: moving mean %.7g (expected %.7g), "
                         "variance %.7g (expected %.7g)",
                         step, j, m->state[j], em, m->state[C + j], ev);
        }
    }

    /* inference then normalises with the running statistics */
    const float *y = mf_forward(ws[0], m->params, m->state, x, na, 0, 0, 0);
    for (int r = 0; r < na * L; r++)
        for (int j = 0; j < C; j++) {
            double e = m->params[j] * (x[r * C + j] - (double)m->state[j]) /
                           sqrt((double)m->state[C + j] + 1e-3) +
                       m->params[C + j];
            if (fabs(y[r * C + j] - e) > 1e-5 * (1 + fabs(e)))
                fail_msg("inference row %d channel %d: %g, expected %g", r, j, y[r * C + j], e);
        }
    mf_workspace_free(ws[0]);
    mf_workspace_free(ws[1]);
    free(x);
    mf_model_free(m);
}

/* ---- element-wise ops ---- */

static void test_relu(void **state)
{
    (void)state;
    for (int dims = 0; dims <= 2; dims++) {
        mf_model *m = dims == 0   ? model_new(1, 6, 0, 0)
                      : dims == 1 ? model_new(2, 7, 3, 0)
                                  : model_new(3, 5, 6, 3);
        add_ok(m, pre_spec(dims, dims == 0 ? 6 : 3));
        add_ok(m, spec(MF_OP_RELU, "op"));
        finalize_ok(m);
        char label[64];
        snprintf(label, sizeof label, "relu rank %d", dims + 1);
        check_model(m, label, opts(3, 1), 600u + (uint64_t)dims);
        mf_model_free(m);
    }
}

/* ReLU6: the activation layer, and fused into conv, dense and add, behind a pointwise layer that
 * scales the input by 8 (values from -12 to 12 cross both kinks, 0 and 6). */

static void test_relu6(void **state)
{
    (void)state;
    for (int dims = 0; dims <= 2; dims++) {
        mf_model *m = dims == 0   ? model_new(1, 6, 0, 0)
                      : dims == 1 ? model_new(2, 7, 3, 0)
                                  : model_new(3, 5, 6, 3);
        add_ok(m, pre8_spec(dims, dims == 0 ? 6 : 3));
        add_ok(m, spec(MF_OP_RELU6, "op"));
        finalize_ok(m);
        char label[64];
        snprintf(label, sizeof label, "relu6 rank %d", dims + 1);
        check_model(m, label, opts(3, 1), 650u + (uint64_t)dims);
        mf_model_free(m);
    }
    for (int dims = 1; dims <= 2; dims++) {
        mf_model *m = dims == 1 ? model_new(2, 7, 3, 0) : model_new(3, 5, 6, 3);
        add_ok(m, pre8_spec(dims, 3));
        add_ok(m, conv_spec(dims, "op", 4, 3, 1, MF_PAD_SAME, 1, MF_ACT_RELU6));
        finalize_ok(m);
        check_model(m, dims == 1 ? "conv1d + relu6" : "conv2d + relu6", opts(2, 1),
                    660u + (uint64_t)dims);
        mf_model_free(m);
    }
    mf_model *m = model_new(1, 7, 0, 0);
    add_ok(m, pre8_spec(0, 7));
    add_ok(m, dense_spec("op", 5, 1, MF_ACT_RELU6));
    finalize_ok(m);
    check_model(m, "dense + relu6", opts(3, 1), 670);
    mf_model_free(m);
    m = model_new(2, 7, 3, 0);
    add_ok(m, pre8_spec(1, 3));
    add_ok(m, conv_spec(1, "a", 3, 3, 1, MF_PAD_SAME, 1, MF_ACT_NONE));
    mf_layer_spec s = with_inputs(spec(MF_OP_ADD, "op"), "a", "pre8", (const char *)NULL);
    s.activation = MF_ACT_RELU6;
    add_ok(m, s);
    finalize_ok(m);
    check_model(m, "add + relu6", opts(3, 1), 680);
    mf_model_free(m);
}

static void test_add(void **state)
{
    (void)state;
    for (int act = 0; act < 2; act++) {
        /* two branches of pre */
        mf_model *m = model_new(2, 7, 3, 0);
        add_ok(m, pre_spec(1, 4));
        add_ok(m, conv_spec(1, "a", 4, 3, 1, MF_PAD_SAME, 1, MF_ACT_NONE));
        add_ok(m, with_inputs(conv_spec(1, "b", 4, 1, 1, MF_PAD_VALID, 1, MF_ACT_NONE), "pre",
                              (const char *)NULL));
        mf_layer_spec s = with_inputs(spec(MF_OP_ADD, "op"), "a", "b", (const char *)NULL);
        s.activation = (mf_activation)act;
        add_ok(m, s);
        finalize_ok(m);
        check_model(m, act ? "add 2 inputs relu" : "add 2 inputs", opts(3, 1), 700u + act);
        mf_model_free(m);

        /* three inputs, one of them pre itself, 2D */
        m = model_new(3, 5, 6, 2);
        add_ok(m, pre_spec(2, 3));
        add_ok(m, conv_spec(2, "a", 3, 3, 1, MF_PAD_SAME, 1, MF_ACT_NONE));
        add_ok(m, with_inputs(conv_spec(2, "b", 3, 1, 1, MF_PAD_VALID, 0, MF_ACT_RELU), "pre",
                              (const char *)NULL));
        s = with_inputs(spec(MF_OP_ADD, "op"), "a", "b", "pre", (const char *)NULL);
        s.activation = (mf_activation)act;
        add_ok(m, s);
        finalize_ok(m);
        check_model(m, act ? "add 3 inputs relu" : "add 3 inputs", opts(2, 1), 710u + act);
        mf_model_free(m);
    }
    /* the same input twice: its gradient arrives twice */
    mf_model *m = model_new(2, 7, 3, 0);
    add_ok(m, pre_spec(1, 3));
    add_ok(m, with_inputs(spec(MF_OP_ADD, "op"), "pre", "pre", (const char *)NULL));
    finalize_ok(m);
    check_model(m, "add pre + pre", opts(3, 1), 720);
    mf_model_free(m);
    /* four inputs (the maximum), listed out of order, layers declared before their inputs */
    m = model_new(1, 6, 0, 0);
    add_ok(m, with_inputs(spec(MF_OP_ADD, "op"), "d", "c", "b", "pre", (const char *)NULL));
    add_ok(m, with_inputs(dense_spec("pre", 6, 1, MF_ACT_NONE), "input", (const char *)NULL));
    add_ok(m, with_inputs(dense_spec("b", 6, 1, MF_ACT_NONE), "pre", (const char *)NULL));
    add_ok(m, with_inputs(dense_spec("c", 6, 0, MF_ACT_RELU), "pre", (const char *)NULL));
    add_ok(m, with_inputs(dense_spec("d", 6, 1, MF_ACT_NONE), "c", (const char *)NULL));
    finalize_ok(m);
    assert_int_equal(m->output, mf_model_find(m, "op"));
    check_model(m, "add 4 inputs, declared first", opts(3, 1), 730);
    mf_model_free(m);
}

static void expect_finalize_error(mf_model *m, const char *const *needles, const char *field);

/* Concatenation along the channels: 2 to 4 inputs, rank 1 to 3, an input used twice, inputs
 * listed in any order; wrong shapes are errors naming both layers. */
static void test_concat(void **state)
{
    (void)state;
    for (int dims = 0; dims <= 2; dims++)
        for (int k = 2; k <= 4; k++) {
            mf_model *m = dims == 0   ? model_new(1, 5, 0, 0)
                          : dims == 1 ? model_new(2, 6, 3, 0)
                                      : model_new(3, 4, 5, 2);
            const int c = dims == 0 ? 5 : dims == 1 ? 3 : 2;
            add_ok(m, pre_spec(dims, c));
            const char *names[4] = {"a", "b", "c", "d"};
            const int branches = k == 4 ? 3 : k; /* with 4 inputs, "pre" is one of them */
            for (int q = 0; q < branches; q++) { /* branches of 1 to 3 channels */
                mf_layer_spec s = dims == 0 ? dense_spec(names[q], 1 + q, 1, MF_ACT_NONE)
                                            : conv_spec(dims, names[q], 1 + q, 1 + 2 * (q % 2), 1,
                                                        MF_PAD_SAME, 1, MF_ACT_NONE);
                add_ok(m, with_inputs(s, "pre", (const char *)NULL));
            }
            mf_layer_spec s = spec(MF_OP_CONCAT, "op");
            s.n_inputs = k;
            for (int q = 0; q < k; q++) /* reversed, "pre" itself first when k = 4 */
                snprintf(s.inputs[q], MF_NAME_MAX, "%s",
                         k == 4 && q == 0 ? "pre" : names[k - 1 - q]);
            add_ok(m, s);
            finalize_ok(m);
            char label[64];
            snprintf(label, sizeof label, "concat %d inputs rank %d", k, dims + 1);
            check_model(m, label, opts(3, 1), 800u + (uint64_t)(dims * 5 + k));
            mf_model_free(m);
        }
    /* the same tensor twice: its gradient arrives twice */
    mf_model *m = model_new(2, 6, 3, 0);
    add_ok(m, pre_spec(1, 3));
    add_ok(m, with_inputs(spec(MF_OP_CONCAT, "op"), "pre", "pre", (const char *)NULL));
    finalize_ok(m);
    check_model(m, "concat pre + pre", opts(3, 1), 820);
    mf_model_free(m);
    /* a different length: refused, naming both layers and shapes */
    m = model_new(2, 6, 3, 0);
    add_ok(m, conv_spec(1, "left", 2, 3, 1, MF_PAD_SAME, 1, MF_ACT_NONE));
    add_ok(m, with_inputs(conv_spec(1, "right", 2, 3, 2, MF_PAD_SAME, 1, MF_ACT_NONE), "input",
                          (const char *)NULL));
    add_ok(m, with_inputs(spec(MF_OP_CONCAT, "cat"), "left", "right", (const char *)NULL));
    expect_finalize_error(m,
                          (const char *[]){"'left'", "'right'", "6x2", "3x2",
                                           "but for the channels", (const char *)NULL},
                          "layers[2]");
}

static void test_flatten(void **state)
{
    (void)state;
    /* 2D -> flatten -> dense */
    mf_model *m = model_new(3, 5, 6, 3);
    add_ok(m, pre_spec(2, 3));
    add_ok(m, spec(MF_OP_FLATTEN, "flat"));
    add_ok(m, dense_spec("dense", 4, 1, MF_ACT_NONE));
    finalize_ok(m);
    assert_int_equal(m->nodes[2].out_shape.rank, 1);
    assert_int_equal(m->nodes[2].out_shape.dim[0], 90);
    assert_int_equal(m->nodes[2].n_params, 0);
    check_model(m, "conv2d -> flatten -> dense", opts(3, 1), 800);
    mf_model_free(m);
    /* flatten as the output, and flatten of a 1D input feeding relu */
    m = model_new(2, 7, 3, 0);
    add_ok(m, pre_spec(1, 3));
    add_ok(m, spec(MF_OP_FLATTEN, "op"));
    finalize_ok(m);
    check_model(m, "conv1d -> flatten (output)", opts(3, 1), 810);
    mf_model_free(m);
    m = model_new(2, 7, 3, 0);
    add_ok(m, spec(MF_OP_FLATTEN, "flat"));
    add_ok(m, spec(MF_OP_RELU, "relu"));
    add_ok(m, dense_spec("dense", 2, 1, MF_ACT_NONE));
    finalize_ok(m);
    check_model(m, "input -> flatten -> relu -> dense", opts(2, 1), 820);
    mf_model_free(m);
    /* flatten whose input has another consumer too: both gradients reach pre */
    m = model_new(2, 4, 3, 0);
    add_ok(m, pre_spec(1, 3));
    add_ok(m, spec(MF_OP_FLATTEN, "flat"));
    add_ok(m, dense_spec("d1", 5, 1, MF_ACT_NONE));
    add_ok(m, with_inputs(spec(MF_OP_GLOBAL_AVGPOOL, "gap"), "pre", (const char *)NULL));
    add_ok(m, dense_spec("d2", 5, 1, MF_ACT_NONE));
    add_ok(m, with_inputs(spec(MF_OP_ADD, "op"), "d1", "d2", (const char *)NULL));
    finalize_ok(m);
    check_model(m, "flatten sharing its input with another branch", opts(3, 1), 830);
    mf_model_free(m);
}

static mf_model *dropout_model(float rate, int n_in)
{
    mf_model *m = model_new(1, n_in, 0, 0);
    mf_layer_spec s = spec(MF_OP_DROPOUT, "drop");
    s.rate = rate;
    add_ok(m, s);
    finalize_ok(m);
    return m;
}

static void test_dropout(void **state)
{
    (void)state;
    const int N = 1000, n = 3;
    mf_rng rng;
    mf_rng_seed(&rng, 5);
    float *x = malloc(sizeof(float) * N * n), *y1 = malloc(sizeof(float) * N * n);
    assert_true(x && y1);
    separated_values(x, (size_t)N * n, &rng);
    mf_error err;

    /* rate 0: identity, in training too */
    mf_model *m = dropout_model(0.0f, N);
    mf_workspace *ws = mf_workspace_new(m, n, 1, &err);
    assert_non_null(ws);
    const float *y = mf_forward(ws, m->params, m->state, x, n, 1, 42, 0);
    assert_memory_equal(y, x, sizeof(float) * N * n);
    mf_workspace_free(ws);
    mf_model_free(m);

    m = dropout_model(0.5f, N);
    ws = mf_workspace_new(m, n, 1, &err);
    assert_non_null(ws);
    /* inference: identity */
    y = mf_forward(ws, m->params, m->state, x, n, 0, 42, 0);
    assert_memory_equal(y, x, sizeof(float) * N * n);
    /* training: about half zeros, survivors scaled by exactly 2 */
    y = mf_forward(ws, m->params, m->state, x, n, 1, 42, 0);
    int zeros = 0;
    for (int j = 0; j < N * n; j++) {
        if (y[j] == 0.0f)
            zeros++;
        else if (y[j] != 2.0f * x[j])
            fail_msg("dropout element %d: %g from %g", j, y[j], x[j]);
    }
    double frac = (double)zeros / (N * n);
    if (frac < 0.45 || frac > 0.55) fail_msg("dropout 0.5 zeroed a fraction %.3f", frac);
    memcpy(y1, y, sizeof(float) * N * n);
    /* each sample's mask also differs from the others' */
    int same01 = 0;
    for (int j = 0; j < N; j++)
        same01 += (y1[j] == 0.0f) == (y1[N + j] == 0.0f);
    assert_true(same01 < 0.6 * N);
    /* same seed: same mask, also from a fresh workspace */
    mf_workspace *ws2 = mf_workspace_new(m, n, 1, &err);
    assert_non_null(ws2);
    y = mf_forward(ws2, m->params, m->state, x, n, 1, 42, 0);
    assert_memory_equal(y, y1, sizeof(float) * N * n);
    /* another seed: another mask */
    y = mf_forward(ws2, m->params, m->state, x, n, 1, 43, 0);
    int differ = 0;
    for (int j = 0; j < N * n; j++)
        differ += (y[j] == 0.0f) != (y1[j] == 0.0f);
    assert_true(differ > 0.3 * N * n);
    /* the mask of a sample depends on sample_base + its index, not on how the batch is split */
    for (int s = 0; s < n; s++) {
        y = mf_forward(ws2, m->params, m->state, x + (size_t)s * N, 1, 1, 42, s);
        assert_memory_equal(y, y1 + (size_t)s * N, sizeof(float) * N);
    }
    y = mf_forward(ws2, m->params, m->state, x + N, 2, 1, 42, 1);
    assert_memory_equal(y, y1 + N, sizeof(float) * 2 * N);
    mf_workspace_free(ws2);
    mf_workspace_free(ws);
    mf_model_free(m);
    free(x);
    free(y1);

    /* backward through the mask (training) and as identity (rate 0, inference) */
    const float rates[2] = {0.5f, 0.0f};
    for (int k = 0; k < 2; k++)
        for (int training = 0; training < 2; training++) {
            m = model_new(2, 7, 3, 0);
            add_ok(m, pre_spec(1, 3));
            mf_layer_spec s = spec(MF_OP_DROPOUT, "op");
            s.rate = rates[k];
            add_ok(m, s);
            add_ok(m, conv_spec(1, "post", 2, 3, 1, MF_PAD_SAME, 1, MF_ACT_NONE));
            finalize_ok(m);
            char label[64];
            snprintf(label, sizeof label, "dropout %.1f %s", rates[k],
                     training ? "training" : "inference");
            check_model(m, label, opts(3, training), 900u + (uint64_t)(k * 2 + training));
            mf_model_free(m);
        }
}

/* ---- a whole network ---- */

static void test_resnet_gradients(void **state)
{
    (void)state;
    mf_error err;
    mf_template_args a = {4, 1, {2, {12, 3, 0, 0}}, 3};
    mf_model *m = mf_template_build("resnetv1_6", &a, &err);
    if (!m) fail_msg("%s", err.message);
    check_opts o = opts(2, 1);
    o.max_skip = 0.3;
    check_model(m, "resnetv1_6 1D 12x3 f4", o, 1100);
    mf_model_free(m);
    mf_template_args b = {3, 2, {3, {6, 7, 2, 0}}, 3};
    m = mf_template_build("resnetv1_6", &b, &err);
    if (!m) fail_msg("%s", err.message);
    check_model(m, "resnetv1_6 2D 6x7x2 f3", o, 1101);
    mf_model_free(m);
}

/* ---- errors ---- */

static void expect_finalize_error(mf_model *m, const char *const *needles, const char *field)
{
    mf_error err;
    memset(&err, 0, sizeof err);
    int rc = mf_model_finalize(m, &err);
    if (rc != MF_ERR) fail_msg("finalize succeeded; expected an error with '%s'", needles[0]);
    for (int k = 0; needles[k]; k++)
        if (!strstr(err.message, needles[k]))
            fail_msg("error message \"%s\" lacks \"%s\"", err.message, needles[k]);
    if (field && strcmp(err.field, field) != 0)
        fail_msg("error \"%s\": field \"%s\", expected \"%s\"", err.message, err.field, field);
    mf_model_free(m);
}

static void test_errors(void **state)
{
    (void)state;
    mf_error err;
    /* a kernel larger than a valid-padded input */
    mf_model *m = model_new(2, 5, 3, 0);
    add_ok(m, conv_spec(1, "big", 4, 6, 1, MF_PAD_VALID, 1, MF_ACT_NONE));
    expect_finalize_error(m, (const char *[]){"does not fit", "'big'", (const char *)NULL},
                          "layers[0]");
    m = model_new(3, 5, 6, 3);
    add_ok(m, conv_spec(2, "c", 4, 3, 1, MF_PAD_SAME, 1, MF_ACT_NONE));
    add_ok(m, conv_spec(2, "big", 4, 6, 1, MF_PAD_VALID, 1, MF_ACT_NONE));
    expect_finalize_error(m, (const char *[]){"does not fit", "'big'", (const char *)NULL},
                          "layers[1]");
    m = model_new(2, 5, 3, 0);
    add_ok(m, pool_spec(MF_OP_MAXPOOL1D, "pool", 6, 0));
    expect_finalize_error(m, (const char *[]){"does not fit", (const char *)NULL}, "layers[0]");
    m = model_new(3, 5, 6, 3);
    add_ok(m, pool_spec(MF_OP_AVGPOOL2D, "pool", 6, 0));
    expect_finalize_error(m, (const char *[]){"does not fit", (const char *)NULL}, "layers[0]");
    /* a rectangular window taller than the input: the message gives [kh, kw] */
    m = model_new(3, 5, 6, 3);
    mf_layer_spec tall = conv_spec(2, "tall", 4, 3, 1, MF_PAD_VALID, 1, MF_ACT_NONE);
    tall.kernel_h = 6;
    add_ok(m, tall);
    expect_finalize_error(m, (const char *[]){"kernel [6, 3]", "does not fit", (const char *)NULL},
                          "layers[0]");
    /* a 1D layer given [height, width] */
    m = model_new(2, 7, 3, 0);
    mf_layer_spec flat = conv_spec(1, "flat", 4, 3, 1, MF_PAD_SAME, 1, MF_ACT_NONE);
    flat.kernel_h = 2;
    add_ok(m, flat);
    expect_finalize_error(
        m, (const char *[]){"a 1D layer takes one kernel size", "[2, 3]", (const char *)NULL},
        "layers[0]");
    m = model_new(2, 7, 3, 0);
    mf_layer_spec flat_pool = pool_spec(MF_OP_MAXPOOL1D, "flat_pool", 2, 2);
    flat_pool.stride_h = 1;
    add_ok(m, flat_pool);
    expect_finalize_error(m, (const char *[]){"one stride size", (const char *)NULL}, "layers[0]");

    /* add of two shapes: the message names both inputs */
    m = model_new(2, 7, 3, 0);
    add_ok(m, conv_spec(1, "left", 4, 3, 1, MF_PAD_SAME, 1, MF_ACT_NONE));
    add_ok(m, with_inputs(conv_spec(1, "right", 5, 3, 1, MF_PAD_SAME, 1, MF_ACT_NONE), "input",
                          (const char *)NULL));
    add_ok(m, with_inputs(spec(MF_OP_ADD, "sum"), "left", "right", (const char *)NULL));
    expect_finalize_error(
        m, (const char *[]){"'left'", "'right'", "7x4", "7x5", (const char *)NULL}, "layers[2]");
    m = model_new(2, 8, 3, 0);
    add_ok(m, conv_spec(1, "left", 3, 3, 2, MF_PAD_SAME, 1, MF_ACT_NONE));
    add_ok(m, with_inputs(spec(MF_OP_ADD, "sum"), "left", "input", (const char *)NULL));
    expect_finalize_error(m, (const char *[]){"'left'", "'input'", (const char *)NULL},
                          "layers[1]");

    /* dense on a non-flat input */
    m = model_new(2, 7, 3, 0);
    add_ok(m, conv_spec(1, "c", 4, 3, 1, MF_PAD_SAME, 1, MF_ACT_NONE));
    add_ok(m, dense_spec("d", 4, 1, MF_ACT_NONE));
    expect_finalize_error(m, (const char *[]){"insert a flatten layer", "'c'", (const char *)NULL},
                          "layers[1]");

    /* an unknown input name */
    m = model_new(2, 7, 3, 0);
    add_ok(m, conv_spec(1, "c", 4, 3, 1, MF_PAD_SAME, 1, MF_ACT_NONE));
    add_ok(m, with_inputs(spec(MF_OP_RELU, "r"), "nope", (const char *)NULL));
    expect_finalize_error(
        m, (const char *[]){"is not a layer of this model", "'nope'", (const char *)NULL},
        "layers[1].inputs[0]");

    /* a cycle */
    m = model_new(2, 7, 3, 0);
    add_ok(m, with_inputs(spec(MF_OP_RELU, "a"), "b", (const char *)NULL));
    add_ok(m, with_inputs(spec(MF_OP_RELU, "b"), "a", (const char *)NULL));
    add_ok(m, spec(MF_OP_RELU, "c"));
    expect_finalize_error(m, (const char *[]){"cycle", (const char *)NULL}, NULL);
    m = model_new(2, 7, 3, 0);
    add_ok(m, spec(MF_OP_RELU, "a"));
    add_ok(m, with_inputs(spec(MF_OP_ADD, "b"), "a", "c", (const char *)NULL));
    add_ok(m, spec(MF_OP_RELU, "c"));
    add_ok(m, spec(MF_OP_RELU, "d"));
    expect_finalize_error(m, (const char *[]){"cycle", (const char *)NULL}, NULL);
    /* a layer that is its own input */
    m = model_new(2, 7, 3, 0);
    add_ok(m, with_inputs(spec(MF_OP_RELU, "a"), "a", (const char *)NULL));
    expect_finalize_error(m, (const char *[]){"itself", (const char *)NULL}, NULL);

    /* two unused outputs */
    m = model_new(2, 7, 3, 0);
    add_ok(m, conv_spec(1, "c1", 4, 3, 1, MF_PAD_SAME, 1, MF_ACT_NONE));
    add_ok(m, with_inputs(conv_spec(1, "c2", 4, 3, 1, MF_PAD_SAME, 1, MF_ACT_NONE), "input",
                          (const char *)NULL));
    expect_finalize_error(m, (const char *[]){"one output", "'c1'", "'c2'", (const char *)NULL},
                          NULL);

    /* duplicate names */
    m = model_new(2, 7, 3, 0);
    add_ok(m, spec(MF_OP_RELU, "a"));
    mf_layer_spec s = spec(MF_OP_RELU, "a");
    memset(&err, 0, sizeof err);
    assert_int_equal(mf_model_add(m, &s, &err), MF_ERR);
    assert_non_null(strstr(err.message, "used twice"));
    assert_non_null(strstr(err.message, "'a'"));
    assert_string_equal(err.field, "layers[1]");
    s = spec(MF_OP_RELU, "input"); /* the input's name is taken too */
    assert_int_equal(mf_model_add(m, &s, &err), MF_ERR);
    assert_non_null(strstr(err.message, "used twice"));
    mf_model_free(m);

    /* input counts, bad hyperparameters */
    m = model_new(2, 7, 3, 0);
    s = with_inputs(spec(MF_OP_ADD, "a"), "input", (const char *)NULL);
    assert_int_equal(mf_model_add(m, &s, &err), MF_ERR);
    s = with_inputs(spec(MF_OP_RELU, "r"), "input", "input", (const char *)NULL);
    assert_int_equal(mf_model_add(m, &s, &err), MF_ERR);
    s = spec(MF_OP_RELU, "bad name");
    assert_int_equal(mf_model_add(m, &s, &err), MF_ERR);
    s = conv_spec(1, "c", 0, 3, 1, MF_PAD_SAME, 1, MF_ACT_NONE);
    add_ok(m, s);
    expect_finalize_error(m, (const char *[]){"filters", (const char *)NULL}, "layers[0]");
    m = model_new(2, 7, 3, 0);
    s = spec(MF_OP_DROPOUT, "d");
    s.rate = 1.0f;
    add_ok(m, s);
    expect_finalize_error(m, (const char *[]){"rate", (const char *)NULL}, "layers[0]");
    m = model_new(2, 7, 3, 0);
    s = spec(MF_OP_BATCHNORM, "bn");
    s.momentum = 1.0f;
    add_ok(m, s);
    expect_finalize_error(m, (const char *[]){"momentum", (const char *)NULL}, "layers[0]");
    m = model_new(1, 7, 0, 0);
    add_ok(m, spec(MF_OP_GLOBAL_MAXPOOL, "g"));
    expect_finalize_error(m, (const char *[]){"needs a 1D or 2D input", (const char *)NULL},
                          "layers[0]");
    m = model_new(2, 7, 3, 0);
    add_ok(m, conv_spec(2, "c", 2, 3, 1, MF_PAD_SAME, 1, MF_ACT_NONE));
    expect_finalize_error(m, (const char *[]){"expects a 2D input", (const char *)NULL},
                          "layers[0]");
    m = model_new(2, 7, 3, 0);
    expect_finalize_error(m, (const char *[]){"no layers", (const char *)NULL}, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv1d),
        cmocka_unit_test(test_conv2d),
        cmocka_unit_test(test_conv2d_rectangular),
        cmocka_unit_test(test_depthwise),
        cmocka_unit_test(test_separable_block),
        cmocka_unit_test(test_dense),
        cmocka_unit_test(test_maxpool1d),
        cmocka_unit_test(test_maxpool2d),
        cmocka_unit_test(test_avgpool1d),
        cmocka_unit_test(test_avgpool2d),
        cmocka_unit_test(test_global_pools),
        cmocka_unit_test(test_pool_padding_is_not_a_pool_key),
        cmocka_unit_test(test_batchnorm),
        cmocka_unit_test(test_batchnorm_frozen),
        cmocka_unit_test(test_batchnorm_defaults),
        cmocka_unit_test(test_batchnorm_update_state),
        cmocka_unit_test(test_relu),
        cmocka_unit_test(test_relu6),
        cmocka_unit_test(test_add),
        cmocka_unit_test(test_concat),
        cmocka_unit_test(test_flatten),
        cmocka_unit_test(test_dropout),
        cmocka_unit_test(test_resnet_gradients),
        cmocka_unit_test(test_errors),
    };
    /* MF_TEST_FILTER / MF_TEST_SKIP: cmocka name patterns ("test_conv*") */
    if (getenv("MF_TEST_FILTER")) cmocka_set_test_filter(getenv("MF_TEST_FILTER"));
    if (getenv("MF_TEST_SKIP")) cmocka_set_skip_filter(getenv("MF_TEST_SKIP"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
