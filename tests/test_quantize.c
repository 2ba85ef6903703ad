/* Quantization: formats, folding, PTQ through the runtime kernels, QAT's forward, quantized
 * model files. */
#include <hdf5.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mf_model_io.h"
#include "mf_pipeline.h"
#include "mf_quantize.h"
#include "mf_runtime.h"
#include "mf_train.h"
#include "testutil.h"

static void test_formats(void **state)
{
    (void)state;
    assert_int_equal(mf_qformat_from_range(1.0, 8), 6); /* Q1.6, DESIGN.md §13 */
    assert_int_equal(mf_qformat_from_range(0.0, 8), 7);
    assert_int_equal(mf_qformat_from_range(0.99, 8), 7);
    assert_int_equal(mf_qformat_from_range(0.3, 8), 8);    /* m = -1 */
    assert_int_equal(mf_qformat_from_range(200.0, 16), 7); /* m = 8 */
    assert_int_equal(mf_qformat_from_range(3.9, 16), 13);
    assert_int_equal(mf_quantize_value(0.5, 0, 8), 1); /* half away from zero */
    assert_int_equal(mf_quantize_value(-0.5, 0, 8), -1);
    assert_int_equal(mf_quantize_value(1.25, 1, 8), 3);
    assert_int_equal(mf_quantize_value(-1.25, 1, 8), -3);
    assert_int_equal(mf_quantize_value(1000.0, 0, 8), 127);
    assert_int_equal(mf_quantize_value(-1000.0, 0, 8), -128);
    assert_int_equal(mf_quantize_value(1e30, 0, 16), 32767);
    assert_int_equal(mf_quantize_value(NAN, 3, 16), 0);
    /* 64-bit (int16 layers' biases): saturates instead of overflowing */
    assert_true(mf_quantize_value(1e30, 0, 64) == INT64_MAX);
    assert_true(mf_quantize_value(-1e30, 0, 64) == INT64_MIN);
    assert_int_equal(mf_quantize_value(-2.5, 20, 64), -2621440);
}

/* conv → batchnorm → relu → dropout → maxpool → relu(after pool) … folds to conv(+relu) → pool */
static mf_model *bn_model(void)
{
    mf_error err;
    mf_shape in = {2, {12, 3}};
    mf_model *m = mf_model_new(&in, &err);
    mf_layer_spec s;
    mf_layer_spec_init(&s, MF_OP_CONV1D, "c1");
    s.filters = 4;
    s.kernel = 3;
    s.padding = MF_PAD_SAME;
    s.use_bias = 0;
    mf_model_add(m, &s, &err);
    mf_layer_spec_init(&s, MF_OP_BATCHNORM, "bn");
    mf_model_add(m, &s, &err);
    mf_layer_spec_init(&s, MF_OP_RELU, "r1");
    mf_model_add(m, &s, &err);
    mf_layer_spec_init(&s, MF_OP_DROPOUT, "drop");
    s.rate = 0.5f;
    mf_model_add(m, &s, &err);
    mf_layer_spec_init(&s, MF_OP_CONV1D, "c2");
    s.filters = 4;
    s.kernel = 3;
    s.padding = MF_PAD_SAME;
    mf_model_add(m, &s, &err);
    mf_layer_spec_init(&s, MF_OP_MAXPOOL1D, "p");
    s.kernel = 2;
    mf_model_add(m, &s, &err);
    mf_layer_spec_init(&s, MF_OP_RELU, "r2");
    mf_model_add(m, &s, &err);
    mf_layer_spec_init(&s, MF_OP_FLATTEN, "f");
    mf_model_add(m, &s, &err);
    mf_layer_spec_init(&s, MF_OP_DENSE, "out");
    s.filters = 3;
    mf_model_add(m, &s, &err);
    assert_int_equal(mf_model_finalize(m, &err), MF_OK);
    mf_model_init_params(m, 5);
    /* non-trivial batch-norm statistics and affine parameters */
    const mf_node *bn = &m->nodes[mf_model_find(m, "bn")];
    for (int c = 0; c < 4; c++) {
        m->params[bn->param_offset + c] = 0.5f + 0.25f * c;
        m->params[bn->param_offset + 4 + c] = 0.1f * c - 0.1f;
        m->state[bn->state_offset + c] = 0.05f * c;
        m->state[bn->state_offset + 4 + c] = 0.5f + 0.3f * c;
    }
    return m;
}

static void random_inputs(float *x, size_t n, uint64_t seed)
{
    mf_rng r;
    mf_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(2.0 * mf_rng_uniform(&r) - 1.0);
}

static void test_fold_keeps_the_function(void **state)
{
    (void)state;
    mf_error err;
    mf_model *m = bn_model();
    mf_model *f = mf_fold_model(m, &err);
    assert_non_null(f);
    assert_int_equal(mf_model_find(f, "bn"), -1);
    assert_int_equal(mf_model_find(f, "r1"), -1);
    assert_int_equal(mf_model_find(f, "r2"), -1);
    assert_int_equal(mf_model_find(f, "drop"), -1);
    assert_int_equal(f->nodes[mf_model_find(f, "c1")].spec.activation, MF_ACT_RELU);
    assert_int_equal(f->nodes[mf_model_find(f, "c2")].spec.activation, MF_ACT_RELU);
    const int n = 5;
    float *x = malloc(sizeof(float) * 36 * n);
    random_inputs(x, 36 * (size_t)n, 3);
    mf_workspace *a = mf_workspace_new(m, n, 0, &err), *b = mf_workspace_new(f, n, 0, &err);
    const float *ya = mf_forward(a, m->params, m->state, x, n, 0, 0, 0);
    const float *yb = mf_forward(b, f->params, f->state, x, n, 0, 0, 0);
    for (int i = 0; i < 3 * n; i++)
        assert_float_equal(ya[i], yb[i], 1e-5);
    /* and the runtime float kernels agree with the engine on the folded model */
    mf_qexec *e = mf_qexec_new(NULL, f, &err);
    float out[3];
    mf_qexec_run(e, x, out);
    for (int i = 0; i < 3; i++)
        assert_float_equal(out[i], yb[i], 1e-5);
    mf_qexec_free(e);
    mf_workspace_free(a);
    mf_workspace_free(b);
    mf_model_free(f);
    mf_model_free(m);
    free(x);
}

/* ReLU6 layers fold like ReLU: onto a conv, onto the conv before a max pool (they commute),
 * onto an add; after an average pool one stays a layer of its own. The folded model computes the
 * same function, and at int8 and int16 QAT's forward is the integer program (the *_relu6
 * kernels, clamping at saturate(lround(6·2^n_out))). */
static void test_fold_relu6(void **state)
{
    (void)state;
    mf_error err;
    mf_shape in = {2, {12, 3}};
    mf_model *m = mf_model_new(&in, &err);
    mf_layer_spec s;
    mf_layer_spec_init(&s, MF_OP_CONV1D, "c1");
    s.filters = 4, s.kernel = 3, s.padding = MF_PAD_SAME;
    mf_model_add(m, &s, &err);
    mf_layer_spec_init(&s, MF_OP_RELU6, "r1");
    mf_model_add(m, &s, &err);
    mf_layer_spec_init(&s, MF_OP_CONV1D, "c2");
    s.filters = 4, s.kernel = 3, s.padding = MF_PAD_SAME;
    mf_model_add(m, &s, &err);
    mf_layer_spec_init(&s, MF_OP_MAXPOOL1D, "p");
    s.kernel = 2;
    mf_model_add(m, &s, &err);
    mf_layer_spec_init(&s, MF_OP_RELU6, "r2");
    mf_model_add(m, &s, &err);
    mf_layer_spec_init(&s, MF_OP_CONV1D, "c3");
    s.filters = 4, s.kernel = 1;
    mf_model_add(m, &s, &err);
    mf_layer_spec_init(&s, MF_OP_ADD, "a");
    s.n_inputs = 2;
    snprintf(s.inputs[0], MF_NAME_MAX, "c3");
    snprintf(s.inputs[1], MF_NAME_MAX, "r2");
    mf_model_add(m, &s, &err);
    mf_layer_spec_init(&s, MF_OP_RELU6, "r3");
    mf_model_add(m, &s, &err);
    mf_layer_spec_init(&s, MF_OP_AVGPOOL1D, "ap");
    s.kernel = 2;
    mf_model_add(m, &s, &err);
    mf_layer_spec_init(&s, MF_OP_RELU6, "r4");
    mf_model_add(m, &s, &err);
    mf_layer_spec_init(&s, MF_OP_FLATTEN, "f");
    mf_model_add(m, &s, &err);
    assert_int_equal(mf_model_finalize(m, &err), MF_OK);
    mf_model_init_params(m, 9);
    for (size_t i = 0; i < m->n_params; i++) /* large weights: outputs far past 6 */
        m->params[i] *= 6.0f;
    mf_model *f = mf_fold_model(m, &err);
    assert_non_null(f);
    for (int k = 0; k < 3; k++) {
        const char *gone[3] = {"r1", "r2", "r3"};
        assert_int_equal(mf_model_find(f, gone[k]), -1);
    }
    assert_true(mf_model_find(f, "r4") > 0);
    assert_int_equal(f->nodes[mf_model_find(f, "c1")].spec.activation, MF_ACT_RELU6);
    assert_int_equal(f->nodes[mf_model_find(f, "c2")].spec.activation, MF_ACT_RELU6);
    assert_int_equal(f->nodes[mf_model_find(f, "a")].spec.activation, MF_ACT_RELU6);
    enum { N = 24, IN = 36, OUT = 12 };
    float *x = malloc(sizeof(float) * IN * N);
    random_inputs(x, (size_t)IN * N, 4);
    for (int i = 0; i < IN * N; i++)
        x[i] *= 4.0f;
    mf_workspace *a = mf_workspace_new(m, N, 0, &err), *b = mf_workspace_new(f, N, 0, &err);
    const float *ya = mf_forward(a, m->params, m->state, x, N, 0, 0, 0);
    const float *yb = mf_forward(b, f->params, f->state, x, N, 0, 0, 0);
    int at6 = 0;
    for (int i = 0; i < OUT * N; i++) {
        assert_float_equal(ya[i], yb[i], 1e-5);
        assert_true(ya[i] >= 0.0f && ya[i] <= 6.0f);
        at6 += ya[i] == 6.0f;
    }
    assert_true(at6 > 0); /* the clamp is exercised */
    double *r = malloc(sizeof(double) * (size_t)f->n_nodes);
    assert_int_equal(mf_calibrate(f, x, N, 1, r, &err), MF_OK);
    for (int bits = 8; bits <= 16; bits += 8) {
        mf_model *fc = mf_fold_model(m, &err);
        mf_quant_options o = {bits, MF_RT_ROUND_HALF_UP, bits == 8, -1};
        mf_qmodel *q = mf_qmodel_build(fc, r, &o, &err);
        assert_non_null(q);
        float qa[OUT * N], qb[OUT];
        assert_int_equal(mf_qat_forward(q, x, N, qa, &err), MF_OK);
        mf_qexec *e = mf_qexec_new(q, NULL, &err);
        assert_non_null(e);
        for (int n = 0; n < N; n++) {
            mf_qexec_run(e, x + (size_t)n * IN, qb);
            assert_memory_equal(qa + OUT * n, qb, sizeof qb);
            for (int k = 0; k < OUT; k++) /* within a few output steps of the float model */
                assert_float_equal(qb[k], yb[OUT * n + k], bits == 8 ? 1.0 : 0.02);
        }
        mf_qexec_free(e);
        mf_qmodel_free(q);
    }
    free(r);
    mf_workspace_free(a);
    mf_workspace_free(b);
    mf_model_free(f);
    mf_model_free(m);
    free(x);
}

/* A depthwise conv takes the batch-norm after it (one scale per output channel ci·m + j of its
 * [kh][kw][cin][m] kernel) and its ReLU6; quantized per channel (cin·m formats), QAT's forward is
 * the integer program at int8 and int16. */
static void test_fold_depthwise(void **state)
{
    (void)state;
    mf_error err;
    mf_shape in = {3, {6, 7, 4}};
    mf_model *m = mf_model_new(&in, &err);
    mf_layer_spec s;
    mf_layer_spec_init(&s, MF_OP_DWCONV2D, "dw");
    s.kernel = 3, s.depth_multiplier = 2, s.padding = MF_PAD_SAME, s.use_bias = 0;
    mf_model_add(m, &s, &err);
    mf_layer_spec_init(&s, MF_OP_BATCHNORM, "bn");
    mf_model_add(m, &s, &err);
    mf_layer_spec_init(&s, MF_OP_RELU6, "r");
    mf_model_add(m, &s, &err);
    mf_layer_spec_init(&s, MF_OP_CONV2D, "pw");
    s.filters = 3, s.kernel = 1;
    mf_model_add(m, &s, &err);
    mf_layer_spec_init(&s, MF_OP_GLOBAL_AVGPOOL, "g");
    mf_model_add(m, &s, &err);
    assert_int_equal(mf_model_finalize(m, &err), MF_OK);
    mf_model_init_params(m, 12);
    const mf_node *bn = &m->nodes[mf_model_find(m, "bn")];
    for (int c = 0; c < 8; c++) {
        m->params[bn->param_offset + c] = 2.0f + 0.5f * (float)c;
        m->params[bn->param_offset + 8 + c] = 0.4f * (float)c - 1.0f;
        m->state[bn->state_offset + c] = 0.1f * (float)c - 0.3f;
        m->state[bn->state_offset + 8 + c] = 0.2f + 0.3f * (float)c;
    }
    mf_model *f = mf_fold_model(m, &err);
    assert_non_null(f);
    assert_int_equal(mf_model_find(f, "bn"), -1);
    assert_int_equal(mf_model_find(f, "r"), -1);
    const mf_node *dw = &f->nodes[mf_model_find(f, "dw")];
    assert_int_equal(dw->spec.activation, MF_ACT_RELU6);
    assert_int_equal(dw->spec.use_bias, 1);
    enum { N = 16, IN = 6 * 7 * 4, OUT = 3 };
    float *x = malloc(sizeof(float) * IN * N);
    random_inputs(x, (size_t)IN * N, 5);
    for (int i = 0; i < IN * N; i++)
        x[i] *= 3.0f;
    mf_workspace *a = mf_workspace_new(m, N, 0, &err), *b = mf_workspace_new(f, N, 0, &err);
    const float *ya = mf_forward(a, m->params, m->state, x, N, 0, 0, 0);
    const float *yb = mf_forward(b, f->params, f->state, x, N, 0, 0, 0);
    for (int i = 0; i < OUT * N; i++)
        assert_float_equal(ya[i], yb[i], 1e-5);
    double *r = malloc(sizeof(double) * (size_t)f->n_nodes);
    assert_int_equal(mf_calibrate(f, x, N, 1, r, &err), MF_OK);
    for (int bits = 8; bits <= 16; bits += 8) {
        mf_model *fc = mf_fold_model(m, &err);
        mf_quant_options o = {bits, MF_RT_ROUND_FLOOR, 1, -1};
        mf_qmodel *q = mf_qmodel_build(fc, r, &o, &err);
        assert_non_null(q);
        const mf_qnode *qd = &q->nodes[mf_model_find(q->model, "dw")];
        assert_int_equal(qd->n_weights, 9 * 8);
        assert_int_equal(qd->n_bias, 8);
        assert_non_null(qd->n_w_ch); /* one format per output channel */
        float qa[OUT * N], qb[OUT];
        assert_int_equal(mf_qat_forward(q, x, N, qa, &err), MF_OK);
        /* and through a quantized file (kernel_q, bias_q, n_w_ch of cin·m channels) */
        char path[1200];
        snprintf(path, sizeof path, "%s/depthwise%d.h5", tu_tmpdir("quantize"), bits);
        assert_int_equal(mf_qmodel_save(q, path, &err), MF_OK);
        int is_float = 1;
        mf_qmodel *loaded = mf_qmodel_load(path, &is_float, &err);
        assert_non_null(loaded);
        assert_int_equal(is_float, 0);
        mf_qexec *e = mf_qexec_new(q, NULL, &err), *e2 = mf_qexec_new(loaded, NULL, &err);
        assert_non_null(e);
        assert_non_null(e2);
        for (int n = 0; n < N; n++) {
            float qc[OUT];
            mf_qexec_run(e, x + (size_t)n * IN, qb);
            mf_qexec_run(e2, x + (size_t)n * IN, qc);
            assert_memory_equal(qa + OUT * n, qb, sizeof qb);
            assert_memory_equal(qb, qc, sizeof qb);
            for (int k = 0; k < OUT; k++)
                assert_float_equal(qb[k], yb[OUT * n + k], bits == 8 ? 0.2 : 0.01);
        }
        mf_qexec_free(e);
        mf_qexec_free(e2);
        mf_qmodel_free(loaded);
        mf_qmodel_free(q);
    }
    free(r);
    mf_workspace_free(a);
    mf_workspace_free(b);
    mf_model_free(f);
    mf_model_free(m);
    free(x);
}

/* An add of 4 inputs in different formats (a ReLU after it fused in): at int8 and int16 the
 * integer program runs the addn kernels, QAT's forward is that program, and it follows the float
 * model. */
static void test_add_of_four_inputs(void **state)
{
    (void)state;
    mf_error err;
    mf_shape in = {2, {10, 3}};
    mf_model *m = mf_model_new(&in, &err);
    mf_layer_spec s;
    const char *names[4] = {"a", "b", "c", "d"};
    for (int k = 0; k < 4; k++) {
        mf_layer_spec_init(&s, MF_OP_CONV1D, names[k]);
        s.filters = 4, s.kernel = 1 + 2 * (k % 2), s.padding = MF_PAD_SAME;
        s.n_inputs = 1;
        snprintf(s.inputs[0], MF_NAME_MAX, "input");
        mf_model_add(m, &s, &err);
    }
    mf_layer_spec_init(&s, MF_OP_ADD, "sum");
    s.n_inputs = 4;
    for (int k = 0; k < 4; k++)
        snprintf(s.inputs[k], MF_NAME_MAX, "%s", names[k]);
    mf_model_add(m, &s, &err);
    mf_layer_spec_init(&s, MF_OP_RELU, "r");
    mf_model_add(m, &s, &err);
    mf_layer_spec_init(&s, MF_OP_GLOBAL_AVGPOOL, "g");
    mf_model_add(m, &s, &err);
    assert_int_equal(mf_model_finalize(m, &err), MF_OK);
    mf_model_init_params(m, 14);
    for (int k = 0; k < 4; k++) { /* four ranges: four formats */
        const mf_node *c = &m->nodes[mf_model_find(m, names[k])];
        for (size_t i = 0; i < c->n_params; i++)
            m->params[c->param_offset + i] *= (float)(1 << (2 * k));
    }
    mf_model *f = mf_fold_model(m, &err);
    assert_int_equal(f->nodes[mf_model_find(f, "sum")].spec.activation, MF_ACT_RELU);
    enum { N = 16, IN = 30, OUT = 4 };
    float *x = malloc(sizeof(float) * IN * N);
    random_inputs(x, (size_t)IN * N, 6);
    mf_workspace *ws = mf_workspace_new(f, N, 0, &err);
    const float *y = mf_forward(ws, f->params, f->state, x, N, 0, 0, 0);
    double *r = malloc(sizeof(double) * (size_t)f->n_nodes);
    assert_int_equal(mf_calibrate(f, x, N, 1, r, &err), MF_OK);
    for (int bits = 8; bits <= 16; bits += 8) {
        mf_model *fc = mf_fold_model(m, &err);
        mf_quant_options o = {bits, MF_RT_ROUND_HALF_UP, 0, -1};
        mf_qmodel *q = mf_qmodel_build(fc, r, &o, &err);
        assert_non_null(q);
        int distinct = 0; /* the inputs' formats differ: the alignments matter */
        for (int k = 1; k < 4; k++)
            distinct += q->nodes[mf_model_find(q->model, names[k])].n_out !=
                        q->nodes[mf_model_find(q->model, names[0])].n_out;
        assert_true(distinct > 0);
        float qa[OUT * N], qb[OUT];
        assert_int_equal(mf_qat_forward(q, x, N, qa, &err), MF_OK);
        mf_qexec *e = mf_qexec_new(q, NULL, &err);
        assert_non_null(e);
        for (int n = 0; n < N; n++) {
            mf_qexec_run(e, x + (size_t)n * IN, qb);
            assert_memory_equal(qa + OUT * n, qb, sizeof qb);
            /* within 4 steps of the output format (each layer rounds once) */
            const double step = ldexp(1.0, -q->nodes[q->model->output].n_out);
            for (int k = 0; k < OUT; k++)
                assert_float_equal(qb[k], y[OUT * n + k], 4.0 * step);
        }
        mf_qexec_free(e);
        /* formats 22 bits apart still lower (4·2^7·2^22 fits int32), 23 do not */
        const int ia = mf_model_find(q->model, "a"), ib = mf_model_find(q->model, "b");
        for (int gap = 22; bits == 8 && gap <= 23; gap++) {
            q->nodes[ia].n_out = q->nodes[ib].n_out - gap;
            mf_program p;
            mf_lower_options lo = {.fuse_pools = 1, .keep_all = 0, .align = 8};
            mf_error_clear(&err);
            int rc = mf_lower_program(q, NULL, &lo, &p, &err);
            if (gap == 22) {
                assert_int_equal(rc, MF_OK);
                mf_program_free(&p);
            } else {
                assert_int_equal(rc, MF_ERR);
                assert_non_null(strstr(err.message, "more than the int8 add kernel aligns for 4 "
                                                    "inputs (22)"));
            }
        }
        mf_qmodel_free(q);
    }
    free(r);
    free(x);
    mf_workspace_free(ws);
    mf_model_free(f);
    mf_model_free(m);
}

/* Batch-norm where it cannot fold: on the input, and after a conv with a ReLU. Both stay in the
 * deployable graph as per-channel affines (one format per channel although the model is
 * quantized per tensor, the bias at the accumulator's format); the integer program follows the
 * float model, QAT's forward is that program, a quantized file gives the same outputs, and one
 * epoch of QAT trains γ and β with the running statistics frozen. */
static void test_batchnorm_anywhere(void **state)
{
    (void)state;
    mf_error err;
    mf_shape in = {2, {12, 3}};
    mf_model *m = mf_model_new(&in, &err);
    mf_layer_spec s;
    mf_layer_spec_init(&s, MF_OP_BATCHNORM, "bn0");
    mf_model_add(m, &s, &err);
    mf_layer_spec_init(&s, MF_OP_CONV1D, "c");
    s.filters = 4, s.kernel = 3, s.padding = MF_PAD_SAME, s.activation = MF_ACT_RELU;
    mf_model_add(m, &s, &err);
    mf_layer_spec_init(&s, MF_OP_BATCHNORM, "bn1");
    mf_model_add(m, &s, &err);
    mf_layer_spec_init(&s, MF_OP_FLATTEN, "f");
    mf_model_add(m, &s, &err);
    mf_layer_spec_init(&s, MF_OP_DENSE, "d");
    s.filters = 3;
    mf_model_add(m, &s, &err);
    assert_int_equal(mf_model_finalize(m, &err), MF_OK);
    mf_model_init_params(m, 16);
    const char *bns[2] = {"bn0", "bn1"};
    for (int k = 0; k < 2; k++) {
        const mf_node *bn = &m->nodes[mf_model_find(m, bns[k])];
        const int ch = (int)bn->n_params / 2;
        for (int c = 0; c < ch; c++) { /* scales from 0.3 to 12: formats per channel differ */
            m->params[bn->param_offset + c] = (0.3f + 0.9f * (float)(c * c)) * (k ? 1.0f : 0.5f);
            m->params[bn->param_offset + ch + c] = 0.3f * (float)c - 0.4f;
            m->state[bn->state_offset + c] = 0.2f * (float)c - 0.2f;
            m->state[bn->state_offset + ch + c] = 0.5f + 0.25f * (float)c;
        }
    }
    mf_model *f = mf_fold_model(m, &err);
    assert_non_null(f);
    assert_true(mf_model_find(f, "bn0") > 0 && mf_model_find(f, "bn1") > 0);
    enum { N = 16, IN = 36, OUT = 3 };
    float *x = malloc(sizeof(float) * IN * N);
    random_inputs(x, (size_t)IN * N, 8);
    mf_workspace *ws = mf_workspace_new(f, N, 0, &err);
    const float *y = mf_forward(ws, f->params, f->state, x, N, 0, 0, 0);
    double *r = malloc(sizeof(double) * (size_t)f->n_nodes);
    assert_int_equal(mf_calibrate(f, x, N, 1, r, &err), MF_OK);
    mf_shape shape = {2, {12, 3}};
    mf_dataset *data = NULL;
    assert_int_equal(mf_synthetic_generate(&shape, 3, 64, 32, 1.0f, 4, &data, &err), MF_OK);
    for (int bits = 8; bits <= 16; bits += 8) {
        mf_model *fc = mf_fold_model(m, &err);
        mf_quant_options o = {bits, MF_RT_ROUND_HALF_UP, 0, -1};
        mf_qmodel *q = mf_qmodel_build(fc, r, &o, &err);
        assert_non_null(q);
        for (int k = 0; k < 2; k++) {
            const mf_qnode *qb = &q->nodes[mf_model_find(q->model, bns[k])];
            const int ch = k ? 4 : 3;
            assert_int_equal(qb->n_weights, ch), assert_int_equal(qb->n_bias, ch);
            assert_non_null(qb->n_w_ch);
            int distinct = 0;
            for (int c = 1; c < ch; c++)
                distinct += qb->n_w_ch[c] != qb->n_w_ch[0];
            assert_true(distinct > 0);
        }
        mf_program p;
        mf_lower_options lo = {.fuse_pools = 1, .keep_all = 0, .align = 8};
        assert_int_equal(mf_lower_program(q, NULL, &lo, &p, &err), MF_OK);
        assert_int_equal(p.calls[0].kind, MF_K_AFFINE);
        assert_int_equal(p.calls[2].kind, MF_K_AFFINE);
        assert_string_equal(p.calls[0].kernel, bits == 8 ? "mf_rt_affine_s8" : "mf_rt_affine_s16");
        mf_program_free(&p);
        float qa[OUT * N], qb[OUT], qc[OUT];
        assert_int_equal(mf_qat_forward(q, x, N, qa, &err), MF_OK);
        char path[1200];
        snprintf(path, sizeof path, "%s/batchnorm%d.h5", tu_tmpdir("quantize"), bits);
        assert_int_equal(mf_qmodel_save(q, path, &err), MF_OK);
        int is_float = 1;
        mf_qmodel *loaded = mf_qmodel_load(path, &is_float, &err);
        assert_non_null(loaded);
        mf_qexec *e = mf_qexec_new(q, NULL, &err), *e2 = mf_qexec_new(loaded, NULL, &err);
        assert_true(e && e2);
        for (int n = 0; n < N; n++) {
            mf_qexec_run(e, x + (size_t)n * IN, qb);
            mf_qexec_run(e2, x + (size_t)n * IN, qc);
            assert_memory_equal(qa + OUT * n, qb, sizeof qb);
            assert_memory_equal(qb, qc, sizeof qb);
            for (int k = 0; k < OUT; k++)
                assert_float_equal(qb[k], y[OUT * n + k], bits == 8 ? 0.25 : 0.01);
        }
        mf_qexec_free(e);
        mf_qexec_free(e2);
        mf_qmodel_free(loaded);
        /* QAT: γ and β train, the running statistics stay, the program still equals QAT */
        const mf_node *bn1 = &q->model->nodes[mf_model_find(q->model, "bn1")];
        float g0[8], st0[8];
        memcpy(g0, q->model->params + bn1->param_offset, sizeof g0);
        memcpy(st0, q->model->state + bn1->state_offset, sizeof st0);
        mf_train_config tc;
        memset(&tc, 0, sizeof tc);
        tc.epochs = 1, tc.batch_size = 16, tc.lr = 0.01f, tc.momentum = 0.9f, tc.seed = 1;
        tc.threads = 2, tc.progress = MF_PROGRESS_NONE;
        mf_train_result res;
        assert_int_equal(mf_qat(q, &tc, data, NULL, &res, &err), MF_OK);
        free(res.history);
        const float *g1 = q->model->params + bn1->param_offset; /* γ[4], β[4] */
        assert_true(memcmp(g0, g1, 4 * sizeof(float)) != 0 && memcmp(g0 + 4, g1 + 4, 16) != 0);
        assert_memory_equal(st0, q->model->state + bn1->state_offset, sizeof st0);
        assert_int_equal(mf_qat_forward(q, x, N, qa, &err), MF_OK);
        e = mf_qexec_new(q, NULL, &err);
        for (int n = 0; n < N; n++) {
            mf_qexec_run(e, x + (size_t)n * IN, qb);
            assert_memory_equal(qa + OUT * n, qb, sizeof qb);
        }
        mf_qexec_free(e);
        mf_qmodel_free(q);
    }
    mf_dataset_free(data);
    free(r);
    free(x);
    mf_workspace_free(ws);
    mf_model_free(f);
    mf_model_free(m);
}

/* A concatenation of 3 inputs in 3 formats: the output's format is calibrated, each input is
 * requantized to it (shifts n_in − n_out, not all 0); QAT's forward is the integer program. */
static void test_concat_of_three_formats(void **state)
{
    (void)state;
    mf_error err;
    mf_shape in = {3, {4, 5, 2}};
    mf_model *m = mf_model_new(&in, &err);
    mf_layer_spec s;
    const char *names[3] = {"a", "b", "c"};
    for (int k = 0; k < 3; k++) {
        mf_layer_spec_init(&s, MF_OP_CONV2D, names[k]);
        s.filters = 2 + k, s.kernel = 1 + 2 * (k == 1), s.padding = MF_PAD_SAME;
        s.n_inputs = 1;
        snprintf(s.inputs[0], MF_NAME_MAX, "input");
        mf_model_add(m, &s, &err);
    }
    mf_layer_spec_init(&s, MF_OP_CONCAT, "cat");
    s.n_inputs = 3;
    for (int k = 0; k < 3; k++)
        snprintf(s.inputs[k], MF_NAME_MAX, "%s", names[k]);
    mf_model_add(m, &s, &err);
    mf_layer_spec_init(&s, MF_OP_FLATTEN, "f");
    mf_model_add(m, &s, &err);
    assert_int_equal(mf_model_finalize(m, &err), MF_OK);
    mf_model_init_params(m, 15);
    for (int k = 0; k < 3; k++) {
        const mf_node *c = &m->nodes[mf_model_find(m, names[k])];
        for (size_t i = 0; i < c->n_params; i++)
            m->params[c->param_offset + i] *= (float)(1 << (3 * k));
    }
    enum { N = 12, IN = 40, OUT = 4 * 5 * 9 };
    float *x = malloc(sizeof(float) * IN * N), *qa = malloc(sizeof(float) * OUT * N);
    float qb[OUT];
    random_inputs(x, (size_t)IN * N, 7);
    mf_model *f = mf_fold_model(m, &err);
    double *r = malloc(sizeof(double) * (size_t)f->n_nodes);
    assert_int_equal(mf_calibrate(f, x, N, 1, r, &err), MF_OK);
    for (int bits = 8; bits <= 16; bits += 8) {
        mf_model *fc = mf_fold_model(m, &err);
        mf_quant_options o = {bits, MF_RT_ROUND_FLOOR, 0, -1};
        mf_qmodel *q = mf_qmodel_build(fc, r, &o, &err);
        assert_non_null(q);
        mf_program p;
        mf_lower_options lo = {.fuse_pools = 1, .keep_all = 0, .align = 8};
        assert_int_equal(mf_lower_program(q, NULL, &lo, &p, &err), MF_OK);
        const mf_call *cc = &p.calls[p.call_of[mf_model_find(q->model, "cat")]];
        assert_int_equal(cc->kind, MF_K_CONCAT);
        int moved = 0;
        for (int k = 0; k < 3; k++) {
            const int src = mf_model_find(q->model, names[k]);
            assert_int_equal(cc->cat.shift[k], q->nodes[src].n_out - q->nodes[cc->node].n_out);
            assert_int_equal(cc->cat.channels[k], 2 + k);
            moved += cc->cat.shift[k] != 0;
        }
        assert_true(moved > 0);
        mf_program_free(&p);
        assert_int_equal(mf_qat_forward(q, x, N, qa, &err), MF_OK);
        mf_qexec *e = mf_qexec_new(q, NULL, &err);
        for (int n = 0; n < N; n++) {
            mf_qexec_run(e, x + (size_t)n * IN, qb);
            assert_memory_equal(qa + (size_t)OUT * n, qb, sizeof qb);
        }
        mf_qexec_free(e);
        mf_qmodel_free(q);
    }
    free(r);
    free(x);
    free(qa);
    mf_model_free(f);
    mf_model_free(m);
}

/* A trained resnetv1_6 on UCI-HAR-shaped synthetic data, folded and calibrated. */
typedef struct {
    mf_model *model;
    mf_dataset *data;
} trained;

static trained train_small(void)
{
    trained t;
    mf_error err;
    mf_shape shape = {2, {128, 9}};
    assert_int_equal(mf_synthetic_generate(&shape, 6, 512, 256, 1.0f, 3, &t.data, &err), MF_OK);
    mf_template_args a = {.width = 8, .dims = 1, .input_shape = shape, .classes = 6};
    t.model = mf_template_build("resnetv1_6", &a, &err);
    mf_model_init_params(t.model, 2);
    mf_train_config tc;
    memset(&tc, 0, sizeof tc);
    tc.epochs = 4;
    tc.batch_size = 32;
    tc.lr = 0.05f;
    tc.momentum = 0.9f;
    tc.seed = 1;
    tc.threads = 2;
    tc.progress = MF_PROGRESS_NONE;
    mf_train_result res;
    assert_int_equal(mf_train(t.model, &tc, t.data, NULL, &res, &err), MF_OK);
    free(res.history);
    return t;
}

static mf_qmodel *quantize(const trained *t, int bits, int per_channel, int rounding)
{
    mf_error err;
    mf_model *f = mf_fold_model(t->model, &err);
    assert_non_null(f);
    double *r = malloc(sizeof(double) * f->n_nodes);
    assert_int_equal(mf_calibrate(f, t->data->x_train, t->data->n_train, 1, r, &err), MF_OK);
    mf_quant_options o = {bits, rounding, per_channel, -1};
    mf_qmodel *q = mf_qmodel_build(f, r, &o, &err);
    free(r);
    assert_non_null(q);
    return q;
}

static double agreement(const mf_qmodel *q, const trained *t, int *pred_q)
{
    mf_error err;
    int n = t->data->n_test;
    int *pred_f = malloc(sizeof(int) * n);
    assert_int_equal(mf_qexec_predict(NULL, q->model, t->data->x_test, n, 2, pred_f, &err), MF_OK);
    assert_int_equal(mf_qexec_predict(q, NULL, t->data->x_test, n, 2, pred_q, &err), MF_OK);
    int same = 0;
    for (int i = 0; i < n; i++)
        same += pred_f[i] == pred_q[i];
    free(pred_f);
    return (double)same / n;
}

static void test_ptq_and_files(void **state)
{
    (void)state;
    trained t = train_small();
    const char *dir = tu_tmpdir("quantize");
    int n = t.data->n_test;
    int *pred = malloc(sizeof(int) * n), *pred2 = malloc(sizeof(int) * n);
    for (int variant = 0; variant < 4; variant++) {
        int bits = variant < 2 ? 16 : 8, per_channel = variant % 2;
        mf_qmodel *q =
            quantize(&t, bits, per_channel, variant == 1 ? MF_RT_ROUND_FLOOR : MF_RT_ROUND_HALF_UP);
        double agree = agreement(q, &t, pred);
        printf("int%d%s: predictions agree with float on %.4f\n", bits,
               per_channel ? " per-channel" : "", agree);
        assert_true(agree >= (bits == 16 ? 0.99 : 0.95));
        /* a saved and re-loaded quantized model predicts exactly the same */
        char path[1300];
        snprintf(path, sizeof path, "%s/q%d.h5", dir, variant);
        mf_error err;
        assert_int_equal(mf_qmodel_save(q, path, &err), MF_OK);
        int is_float = 0;
        mf_qmodel *back = mf_qmodel_load(path, &is_float, &err);
        assert_non_null(back);
        assert_int_equal(back->bits, bits);
        assert_int_equal(back->rounding, q->rounding);
        assert_int_equal(mf_qexec_predict(back, NULL, t.data->x_test, n, 2, pred2, &err), MF_OK);
        assert_memory_equal(pred, pred2, sizeof(int) * n);
        mf_qmodel_free(back);
        mf_qmodel_free(q);
    }
    free(pred);
    free(pred2);
    mf_model_free(t.model);
    mf_dataset_free(t.data);
}

/* Regression: per-channel formats of layers without a bias. The writer took the per-channel
 * count from the bias (0 without one) and wrote n_weights entries from a cout-entry buffer:
 * heap bytes in the file, and a load error "dataset 'n_w_ch': expected 4 integers". */
static void test_per_channel_without_bias_round_trips(void **state)
{
    (void)state;
    mf_error err;
    mf_shape in = {2, {12, 3}};
    mf_model *m = mf_model_new(&in, &err);
    mf_layer_spec s;
    mf_layer_spec_init(&s, MF_OP_CONV1D, "c1");
    s.filters = 4;
    s.kernel = 3;
    s.padding = MF_PAD_SAME;
    s.use_bias = 0;
    s.activation = MF_ACT_RELU;
    assert_int_equal(mf_model_add(m, &s, &err), MF_OK);
    mf_layer_spec_init(&s, MF_OP_FLATTEN, "f");
    assert_int_equal(mf_model_add(m, &s, &err), MF_OK);
    mf_layer_spec_init(&s, MF_OP_DENSE, "out");
    s.filters = 3;
    s.use_bias = 0;
    assert_int_equal(mf_model_add(m, &s, &err), MF_OK);
    assert_int_equal(mf_model_finalize(m, &err), MF_OK);
    mf_model_init_params(m, 11);
    float x[16 * 36];
    random_inputs(x, 16 * 36, 3);
    for (int bits = 8; bits <= 16; bits += 8) {
        mf_model *f = mf_fold_model(m, &err);
        assert_non_null(f);
        double r[8];
        assert_int_equal(mf_calibrate(f, x, 16, 1, r, &err), MF_OK);
        mf_quant_options o = {bits, MF_RT_ROUND_HALF_UP, 1, -1};
        mf_qmodel *q = mf_qmodel_build(f, r, &o, &err);
        assert_non_null(q);
        char path[1300];
        snprintf(path, sizeof path, "%s/nobias%d.h5", tu_tmpdir("quantize"), bits);
        assert_int_equal(mf_qmodel_save(q, path, &err), MF_OK);
        int is_float = 0;
        mf_qmodel *back = mf_qmodel_load(path, &is_float, &err);
        if (!back) fail_msg("%s", err.message);
        for (int i = 1; i < q->model->n_nodes; i++) {
            const mf_qnode *a = &q->nodes[i], *b = &back->nodes[i];
            if (!a->n_w_ch) continue;
            const mf_shape *os = &q->model->nodes[i].out_shape;
            size_t cout = (size_t)os->dim[os->rank - 1];
            assert_null(a->bias);
            assert_non_null(b->n_w_ch);
            assert_memory_equal(a->n_w_ch, b->n_w_ch, cout);
            assert_memory_equal(a->shifts, b->shifts, cout);
        }
        float y1[3], y2[3];
        mf_qexec *e1 = mf_qexec_new(q, NULL, &err), *e2 = mf_qexec_new(back, NULL, &err);
        assert_non_null(e1);
        assert_non_null(e2);
        mf_qexec_run(e1, x, y1);
        mf_qexec_run(e2, x, y2);
        assert_memory_equal(y1, y2, sizeof y1);
        mf_qexec_free(e1);
        mf_qexec_free(e2);
        mf_qmodel_free(back);
        mf_qmodel_free(q);
    }
    mf_model_free(m);
}

/* QAT's forward is the integer model: equal output bits on random inputs, int8 and int16. */
static void test_qat_forward_is_the_integer_model(void **state)
{
    (void)state;
    trained t = train_small();
    for (int bits = 8; bits <= 16; bits += 8) {
        mf_qmodel *q = quantize(&t, bits, bits == 8, MF_RT_ROUND_HALF_UP);
        const int n = 16;
        float *x = malloc(sizeof(float) * 128 * 9 * n), a[6 * 16], b[6];
        random_inputs(x, 128 * 9 * (size_t)n, 11 + bits);
        for (int i = 0; i < 128 * 9 * n; i++)
            x[i] *= 3.0f;
        mf_error err;
        assert_int_equal(mf_qat_forward(q, x, n, a, &err), MF_OK);
        mf_qexec *e = mf_qexec_new(q, NULL, &err);
        for (int s = 0; s < n; s++) {
            mf_qexec_run(e, x + (size_t)s * 128 * 9, b);
            assert_memory_equal(a + 6 * s, b, sizeof b);
        }
        mf_qexec_free(e);
        free(x);
        /* one epoch of QAT runs, changes the weights, and keeps the integer model consistent */
        mf_train_config tc;
        memset(&tc, 0, sizeof tc);
        tc.epochs = 1;
        tc.batch_size = 32;
        tc.lr = 0.01f;
        tc.momentum = 0.9f;
        tc.seed = 1;
        tc.threads = 2;
        tc.progress = MF_PROGRESS_NONE;
        size_t nw = q->nodes[1].n_weights * (size_t)(bits / 8);
        void *before = malloc(nw);
        memcpy(before, q->nodes[1].w, nw);
        mf_train_result res;
        assert_int_equal(mf_qat(q, &tc, t.data, NULL, &res, &err), MF_OK);
        assert_true(memcmp(before, q->nodes[1].w, nw) != 0);
        int *pred = malloc(sizeof(int) * t.data->n_test);
        assert_int_equal(mf_qexec_predict(q, NULL, t.data->x_test, t.data->n_test, 2, pred, &err),
                         MF_OK);
        int ok = 0;
        for (int i = 0; i < t.data->n_test; i++)
            ok += pred[i] == t.data->y_test[i];
        /* the last epoch's evaluation ran the same integer model */
        assert_float_equal(res.history[0].test_accuracy, (double)ok / t.data->n_test, 1e-12);
        free(pred);
        free(before);
        free(res.history);
        mf_qmodel_free(q);
    }
    mf_model_free(t.model);
    mf_dataset_free(t.data);
}

static void set_int_attr(const char *path, const char *obj, const char *name, int v)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t o = H5Oopen(f, obj, H5P_DEFAULT);
    H5Adelete(o, name);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(o, name, H5T_STD_I32LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_INT, &v);
    H5Aclose(a);
    H5Sclose(sp);
    H5Oclose(o);
    H5Fclose(f);
}

/* A channel with vanishing weights (and a tensor with a vanishing range) quantizes to formats
 * within MF_QFORMAT_N_LIMIT and shifts within the int8 table: the file loads and lowers. */
static void test_extreme_ranges_stay_within_the_format_limits(void **state)
{
    (void)state;
    trained t = train_small();
    for (int per_channel = 0; per_channel <= 1; per_channel++) {
        mf_model *m = t.model;
        int c1 = mf_model_find(m, "c1") > 0 ? mf_model_find(m, "c1") : 1;
        mf_param_desc d[4];
        mf_node_params(m, c1, d);
        float *w = m->params + m->nodes[c1].param_offset + d[0].offset;
        size_t n = mf_shape_size(&d[0].shape);
        float *saved = malloc(sizeof(float) * n);
        memcpy(saved, w, sizeof(float) * n);
        for (size_t e = 0; e < n; e++)
            w[e] = per_channel && e % (size_t)d[0].shape.dim[d[0].shape.rank - 1] ? w[e] : 1e-30f;
        mf_qmodel *q = quantize(&t, 8, per_channel, MF_RT_ROUND_HALF_UP);
        memcpy(w, saved, sizeof(float) * n);
        free(saved);
        for (int i = 0; i < q->model->n_nodes; i++) {
            assert_true(abs(q->nodes[i].n_out) <= MF_QFORMAT_N_LIMIT);
            assert_true(abs(q->nodes[i].n_w) <= MF_QFORMAT_N_LIMIT);
        }
        char path[1300];
        snprintf(path, sizeof path, "%s/extreme%d.h5", tu_tmpdir("quantize"), per_channel);
        mf_error err;
        assert_int_equal(mf_qmodel_save(q, path, &err), MF_OK);
        int is_float = 0;
        mf_qmodel *back = mf_qmodel_load(path, &is_float, &err);
        if (!back) fail_msg("%s", err.message);
        mf_qexec *e = mf_qexec_new(back, NULL, &err);
        if (!e) fail_msg("%s", err.message);
        mf_qexec_free(e);
        mf_qmodel_free(back);
        mf_qmodel_free(q);
    }
    mf_model_free(t.model);
    mf_dataset_free(t.data);
}

/* A quantized model whose pool, relu or flatten does not keep its input's format is refused by
 * lowering (those kernels copy or compare values without rescaling). */
static void test_lowering_refuses_a_format_change_in_a_keep_input_op(void **state)
{
    (void)state;
    trained t = train_small();
    mf_qmodel *q = quantize(&t, 8, 0, MF_RT_ROUND_HALF_UP);
    int node = -1;
    for (int i = 1; i < q->model->n_nodes && node < 0; i++)
        if (mf_lower_qrule(q->model->nodes[i].spec.op) == MF_QRULE_KEEP_INPUT) node = i;
    assert_true(node > 0);
    q->nodes[node].n_out += 1;
    mf_error err;
    mf_error_clear(&err);
    assert_null(mf_qexec_new(q, NULL, &err));
    assert_non_null(strstr(err.message, "must keep its input's format"));
    assert_non_null(strstr(err.message, q->model->nodes[node].spec.name));
    mf_qmodel_free(q);
    mf_model_free(t.model);
    mf_dataset_free(t.data);
}

/* A version-1 file (rounding as a fixed-length string, as mcuforge wrote it before version 2)
 * still loads, with the same rounding. */
static void test_reads_version_1_files(void **state)
{
    (void)state;
    trained t = train_small();
    mf_qmodel *q = quantize(&t, 8, 0, MF_RT_ROUND_FLOOR);
    char path[1300];
    snprintf(path, sizeof path, "%s/v1.h5", tu_tmpdir("quantize"));
    mf_error err;
    assert_int_equal(mf_qmodel_save(q, path, &err), MF_OK);
    set_int_attr(path, "/", "mcuforge_quantized_version", 1);
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    H5Adelete(f, "rounding");
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, 6);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(f, "rounding", st, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, st, "floor");
    H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(st);
    H5Fclose(f);
    int is_float = 0;
    mf_qmodel *back = mf_qmodel_load(path, &is_float, &err);
    if (!back) fail_msg("%s", err.message);
    assert_int_equal(back->rounding, MF_RT_ROUND_FLOOR);
    assert_int_equal(back->n_in, q->n_in);
    mf_qmodel_free(back);
    mf_qmodel_free(q);
    mf_model_free(t.model);
    mf_dataset_free(t.data);
}

static void test_malformed_quantized_files(void **state)
{
    (void)state;
    mf_error err;
    mf_model *m = bn_model();
    mf_model *f = mf_fold_model(m, &err);
    double r[16];
    float x[36 * 4];
    random_inputs(x, sizeof x / sizeof x[0], 1);
    assert_int_equal(mf_calibrate(f, x, 4, 1, r, &err), MF_OK);
    mf_quant_options o = {8, MF_RT_ROUND_HALF_UP, 0, -1};
    mf_qmodel *q = mf_qmodel_build(f, r, &o, &err);
    const char *dir = tu_tmpdir("quantize_bad");
    char path[1300], cmd[3000];
    snprintf(path, sizeof path, "%s/q.h5", dir);
    int is_float;
    /* a float model is recognised as such */
    assert_int_equal(mf_model_save(m, path, &err), MF_OK);
    assert_null(mf_qmodel_load(path, &is_float, &err));
    assert_int_equal(is_float, 1);
    struct {
        const char *obj, *attr;
        int value;
        const char *message;
    } cases[] = {
        {"/", "bits", 12, "'bits' must be 8 or 16"},
        {"/", "mcuforge_quantized_version", 7, "unsupported quantized format version 7"},
        {"/layers/c2", "n_out", 99, "'n_out'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(mf_qmodel_save(q, path, &err), MF_OK);
        set_int_attr(path, cases[i].obj, cases[i].attr, cases[i].value);
        assert_null(mf_qmodel_load(path, &is_float, &err));
        if (!strstr(err.message, cases[i].message))
            fail_msg("case %zu: '%s' lacks '%s'", i, err.message, cases[i].message);
        assert_string_equal(err.file, path);
    }
    /* a kernel_q dataset of the wrong size */
    assert_int_equal(mf_qmodel_save(q, path, &err), MF_OK);
    hid_t h = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    H5Ldelete(h, "/layers/c2/kernel_q", H5P_DEFAULT);
    hsize_t dims[1] = {5};
    hid_t sp = H5Screate_simple(1, dims, NULL);
    hid_t d = H5Dcreate2(h, "/layers/c2/kernel_q", H5T_STD_I8LE, sp, H5P_DEFAULT, H5P_DEFAULT,
                         H5P_DEFAULT);
    const int8_t five[5] = {1, 2, 3, 4, 5}; /* written: a dataset never written is refused first */
    H5Dwrite(d, H5T_NATIVE_INT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, five);
    H5Dclose(d);
    H5Sclose(sp);
    H5Fclose(h);
    assert_null(mf_qmodel_load(path, &is_float, &err));
    assert_non_null(strstr(err.message, "kernel_q"));
    assert_string_equal(err.field, "/layers/c2");
    /* a truncated file */
    assert_int_equal(mf_qmodel_save(q, path, &err), MF_OK);
    snprintf(cmd, sizeof cmd, "truncate -s 3000 '%s'", path);
    assert_int_equal(system(cmd), 0);
    assert_null(mf_qmodel_load(path, &is_float, &err));
    assert_true(strlen(err.message) > 0);
    mf_qmodel_free(q);
    mf_model_free(m);
}

/* Regression: quantize checked neither the input shape nor the class count of the model against
 * its dataset (eval and deploy do): with dataset.shape=[8,4] PTQ read past the training buffer
 * (ASan: heap overflow in mf_pipeline_quantize) and Release wrote a quantized model; a class
 * count mismatch was accepted too. Both are refused before anything is quantized or written. */
static void test_quantize_refuses_a_dataset_the_model_cannot_take(void **state)
{
    (void)state;
    mf_model *m = bn_model(); /* takes 12x3, predicts 3 classes */
    m->config_text = strdup("dataset: {name: synthetic, shape: [12, 3], classes: 3, "
                            "train_samples: 64, test_samples: 16}\n");
    assert_non_null(m->config_text);
    const char *dir = tu_tmpdir("quantize_mismatch");
    char path[1300], out[1300];
    snprintf(path, sizeof path, "%s/m.h5", dir);
    snprintf(out, sizeof out, "%s/m.q8.h5", dir);
    mf_error err;
    assert_int_equal(mf_model_save(m, path, &err), MF_OK);
    struct {
        const char *override, *message;
    } cases[] = {
        {"dataset.shape=[8,4]", "takes 12x3 and predicts 3 classes; dataset synthetic has 8x4 "
                                "and 3 classes"},
        {"dataset.classes=5", "takes 12x3 and predicts 3 classes; dataset synthetic has 12x3 "
                              "and 5 classes"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *ov[1] = {(char *)cases[i].override};
        mf_quantize_request r;
        memset(&r, 0, sizeof r);
        r.model_path = path;
        r.out_path = out;
        r.ptq.q = (mf_quant_options){8, MF_RT_ROUND_HALF_UP, 0, -1};
        r.ptq.threads = 1;
        r.overrides = ov;
        r.n_overrides = 1;
        mf_error_clear(&err);
        assert_int_equal(mf_pipeline_quantize(&r, NULL, &err), MF_ERR);
        if (!strstr(err.message, cases[i].message))
            fail_msg("%s: '%s' lacks '%s'", cases[i].override, err.message, cases[i].message);
        assert_non_null(strstr(err.message, path));
        assert_int_equal(tu_count_entries(dir), 1); /* no quantized model written */
    }
    /* the model's own dataset still quantizes */
    mf_quantize_request r;
    memset(&r, 0, sizeof r);
    r.model_path = path;
    r.out_path = out;
    r.ptq.q = (mf_quant_options){8, MF_RT_ROUND_HALF_UP, 0, -1};
    r.ptq.threads = 1;
    if (mf_pipeline_quantize(&r, NULL, &err)) fail_msg("%s", err.message);
    assert_int_equal(tu_count_entries(dir), 2);
    mf_model_free(m);
}

/* Overwrites element `index` of an integer dataset of a saved file with `value` (mtype, esz). */
static void poke_dataset(const char *path, const char *dset, hid_t mtype, size_t esz, size_t index,
                         const void *value)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, dset, H5P_DEFAULT);
    assert_true(d >= 0);
    hid_t sp = H5Dget_space(d);
    size_t n = (size_t)H5Sget_simple_extent_npoints(sp);
    assert_true(index < n);
    unsigned char *buf = malloc(n * esz);
    assert_true(H5Dread(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    memcpy(buf + index * esz, value, esz);
    assert_true(H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    free(buf);
    H5Sclose(sp);
    H5Dclose(d);
    H5Fclose(f);
}

static mf_qmodel *bn_qmodel(int bits, int per_channel)
{
    mf_error err;
    mf_model *m = bn_model();
    mf_model *f = mf_fold_model(m, &err);
    assert_non_null(f);
    double r[16];
    float x[36 * 4];
    random_inputs(x, sizeof x / sizeof x[0], 1);
    assert_int_equal(mf_calibrate(f, x, 4, 1, r, &err), MF_OK);
    mf_quant_options o = {bits, MF_RT_ROUND_HALF_UP, per_channel, -1};
    mf_qmodel *q = mf_qmodel_build(f, r, &o, &err);
    assert_non_null(q);
    mf_model_free(m);
    return q;
}

/* Regression: quantized files were not range-checked. n_w = 2^31 - 1 overflowed the shift
 * n_in + n_w - n_out in the lowering and the generator (UBSan); bias_q = INT32_MAX / INT64_MAX
 * overflowed the kernels' accumulators (their stated precondition). Every format attribute and
 * every per-channel format is bounded on load, and each output channel's |bias| + 2^(b-1) *
 * sum|w| must fit the accumulator; files outside are refused naming the dataset and the bound. */
static void test_quantized_files_are_range_checked(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("quantize_ranges");
    char path[1300];
    snprintf(path, sizeof path, "%s/q.h5", dir);
    mf_error err;
    int is_float;
    const int32_t big32 = INT32_MAX;
    const int64_t big64 = INT64_MAX, min64 = INT64_MIN;
    const int8_t wide = 100, edge = 64, low = -64;
    struct {
        int bits, per_channel;
        const char *obj, *attr; /* an int attribute to set ... */
        int value;
        const char *dset; /* ... or a dataset element */
        hid_t mtype;
        size_t esz, index;
        const void *v;
        const char *field, *message;
    } cases[] = {
        {8, 0, "/layers/c2", "n_w", INT32_MAX, NULL, 0, 0, 0, NULL, "/layers/c2",
         "attribute 'n_w': value 2147483647 is out of range (-64 to 64)"},
        {16, 0, "/layers/out", "n_w", -65, NULL, 0, 0, 0, NULL, "/layers/out",
         "attribute 'n_w': value -65 is out of range (-64 to 64)"},
        {8, 0, "/", "per_channel", 7, NULL, 0, 0, 0, NULL, "/",
         "attribute 'per_channel': value 7 is out of range (0 to 1)"},
        {8, 0, NULL, NULL, 0, "/layers/c2/bias_q", H5T_NATIVE_INT32, 4, 1, &big32, "/layers/c2",
         "dataset 'bias_q': output channel 1: |bias| 2147483647 + 2^7 * sum|w| "},
        {16, 0, NULL, NULL, 0, "/layers/out/bias_q", H5T_NATIVE_INT64, 8, 2, &big64, "/layers/out",
         "dataset 'bias_q': output channel 2: |bias| 9223372036854775807 + 2^15 * sum|w| "},
        {16, 1, NULL, NULL, 0, "/layers/c2/bias_q", H5T_NATIVE_INT64, 8, 0, &min64, "/layers/c2",
         "dataset 'bias_q': output channel 0: |bias| 9223372036854775808 + 2^15 * sum|w| "},
        {8, 1, NULL, NULL, 0, "/layers/c2/n_w_ch", H5T_NATIVE_INT8, 1, 3, &wide, "/layers/c2",
         "dataset 'n_w_ch': value 100 at index 3 is out of range (-64 to 64)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mf_qmodel *q = bn_qmodel(cases[i].bits, cases[i].per_channel);
        assert_int_equal(mf_qmodel_save(q, path, &err), MF_OK);
        mf_qmodel_free(q);
        if (cases[i].attr)
            set_int_attr(path, cases[i].obj, cases[i].attr, cases[i].value);
        else
            poke_dataset(path, cases[i].dset, cases[i].mtype, cases[i].esz, cases[i].index,
                         cases[i].v);
        mf_error_clear(&err);
        mf_qmodel *back = mf_qmodel_load(path, &is_float, &err);
        if (back) fail_msg("case %zu: loaded", i);
        if (!strstr(err.message, cases[i].message))
            fail_msg("case %zu: '%s' lacks '%s'", i, err.message, cases[i].message);
        if (cases[i].dset && cases[i].esz > 1 &&
            !strstr(err.message, cases[i].bits == 8 ? "int32 accumulator" : "int64 accumulator"))
            fail_msg("case %zu: '%s' does not name the accumulator", i, err.message);
        assert_string_equal(err.file, path);
        assert_string_equal(err.field, cases[i].field);
    }
    /* per-channel formats within their bounds whose requantization shift n_in + n_w_ch - n_out
     * leaves the int8 shift table */
    mf_qmodel *q = bn_qmodel(8, 1);
    assert_int_equal(mf_qmodel_save(q, path, &err), MF_OK);
    mf_qmodel_free(q);
    set_int_attr(path, "/layers/c1", "n_out", 64); /* c2's input */
    set_int_attr(path, "/layers/c2", "n_out", -64);
    poke_dataset(path, "/layers/c2/n_w_ch", H5T_NATIVE_INT8, 1, 0, &edge);
    assert_null(mf_qmodel_load(path, &is_float, &err));
    if (!strstr(err.message, "n_w_ch[0] = 64 gives the requantization shift 64 + 64 - (-64) = 192"))
        fail_msg("'%s'", err.message);
    poke_dataset(path, "/layers/c2/n_w_ch", H5T_NATIVE_INT8, 1, 0, &low);
    set_int_attr(path, "/layers/c2", "n_out", 64);
    mf_qmodel *ok = mf_qmodel_load(path, &is_float, &err); /* shift 64 - 64 - 64 = -64 */
    if (!ok) fail_msg("%s", err.message);
    mf_qmodel_free(ok);
}

/* The same bounds hold for quantized models built in memory: lowering refuses them (before the
 * fix an n_w of 2^31 - 1 overflowed the shift computation and a saturated bias was lowered). */
static void test_lowering_refuses_out_of_range_qmodels(void **state)
{
    (void)state;
    for (int k = 0; k < 4; k++) {
        int bits = k == 1 || k == 3 ? 16 : 8;
        mf_qmodel *q = bn_qmodel(bits, k == 3);
        int c2 = mf_model_find(q->model, "c2");
        assert_true(c2 > 0);
        mf_qnode *qn = &q->nodes[c2];
        const char *want;
        if (k == 0) {
            qn->n_w = INT32_MAX;
            want = "layer 'c2' (conv1d): n_w = 2147483647 is out of range (-64 to 64)";
        } else if (k == 1) {
            ((int64_t *)qn->bias)[3] = INT64_MIN;
            want = "layer 'c2' (conv1d): output channel 3: |bias| 9223372036854775808 + 2^15 * "
                   "sum|w| ";
        } else if (k == 2) {
            ((int32_t *)qn->bias)[0] = -INT32_MAX;
            want = "layer 'c2' (conv1d): output channel 0: |bias| 2147483647 + 2^7 * sum|w| ";
        } else {
            qn->shifts[2] = (int8_t)(qn->shifts[2] + 1);
            want = "layer 'c2' (conv1d): shifts[2]";
        }
        mf_error err;
        mf_error_clear(&err);
        mf_qexec *e = mf_qexec_new(q, NULL, &err);
        if (e) fail_msg("case %d: lowered", k);
        if (!strstr(err.message, want)) fail_msg("case %d: '%s' lacks '%s'", k, err.message, want);
        mf_qmodel_free(q);
    }
    /* the largest bias that fits still lowers */
    mf_qmodel *q = bn_qmodel(8, 0);
    int c2 = mf_model_find(q->model, "c2");
    const mf_qnode *qn = &q->nodes[c2];
    size_t k = qn->n_weights / qn->n_bias;
    int64_t sum = 0;
    for (size_t e = 0; e < k; e++)
        sum += llabs((long long)((const int8_t *)qn->w)[e]);
    ((int32_t *)qn->bias)[0] = (int32_t)(INT32_MAX - 128 * sum);
    mf_error err;
    mf_qexec *e = mf_qexec_new(q, NULL, &err);
    if (!e) fail_msg("%s", err.message);
    mf_qexec_free(e);
    ((int32_t *)qn->bias)[0] = (int32_t)(INT32_MAX - 128 * sum + 1);
    assert_null(mf_qexec_new(q, NULL, &err));
    mf_qmodel_free(q);
}

static herr_t collect_name(hid_t obj, const char *name, const H5A_info_t *info, void *data)
{
    (void)obj;
    (void)info;
    char(*names)[64] = data;
    int i = 0;
    while (names[i][0])
        i++;
    if (i < 31) snprintf(names[i], 64, "%s", name);
    return 0;
}

/* Rewrites every string attribute of object h5path as h5py writes str (variable-length, cset
 * UTF-8) or bytes (variable-length ASCII): a scalar stays a scalar, an array stays an array. */
static void strings_as_h5py(hid_t f, const char *h5path, H5T_cset_t cset)
{
    hid_t o = H5Oopen(f, h5path, H5P_DEFAULT);
    assert_true(o >= 0);
    char names[32][64];
    memset(names, 0, sizeof names);
    hsize_t idx = 0;
    assert_true(H5Aiterate2(o, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_name, names) >= 0);
    for (int i = 0; names[i][0]; i++) {
        hid_t a = H5Aopen(o, names[i], H5P_DEFAULT);
        hid_t ft = H5Aget_type(a);
        if (H5Tget_class(ft) != H5T_STRING) {
            H5Tclose(ft);
            H5Aclose(a);
            continue;
        }
        hid_t sp = H5Aget_space(a);
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_cset(mt, H5Tget_cset(ft));
        H5Tset_size(mt, H5T_VARIABLE);
        size_t n = (size_t)H5Sget_simple_extent_npoints(sp);
        char **v = calloc(n, sizeof *v);
        assert_true(H5Aread(a, mt, v) >= 0);
        H5Aclose(a);
        assert_true(H5Adelete(o, names[i]) >= 0);
        hid_t vt = H5Tcopy(H5T_C_S1);
        H5Tset_size(vt, H5T_VARIABLE);
        H5Tset_cset(vt, cset);
        a = H5Acreate2(o, names[i], vt, sp, H5P_DEFAULT, H5P_DEFAULT);
        assert_true(a >= 0);
        assert_true(H5Awrite(a, vt, v) >= 0);
        H5Aclose(a);
        H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, v);
        free(v);
        H5Tclose(vt);
        H5Tclose(mt);
        H5Sclose(sp);
        H5Tclose(ft);
    }
    H5Oclose(o);
}

/* Regression: a variable-length string attribute, h5py's default for str and bytes, with a valid
 * value was refused: the quantized file reader took 'rounding' as a 16-byte fixed-length string
 * and said 'attribute 'rounding' must be "floor" or "half-up"' for "floor" (quantize/qmodel_io.c
 * before the shared reader of core/h5.c). Every string attribute of a quantized file (format
 * version 1 or 2), rewritten as h5py writes it, loads with the same values. */
static void test_reads_h5py_variable_length_strings(void **state)
{
    (void)state;
    mf_qmodel *q = bn_qmodel(8, 1);
    q->rounding = MF_RT_ROUND_FLOOR;
    snprintf(q->model->dataset, sizeof q->model->dataset, "uci-har");
    q->model->config_text = strdup("dataset: {name: uci-har}\n");
    char path[1300];
    snprintf(path, sizeof path, "%s/h5py.h5", tu_tmpdir("quantize_h5py_strings"));
    mf_error err;
    for (int k = 0; k < 4; k++) {
        assert_int_equal(mf_qmodel_save(q, path, &err), MF_OK);
        if (k >= 2) set_int_attr(path, "/", "mcuforge_quantized_version", 1);
        H5T_cset_t cset = k % 2 ? H5T_CSET_ASCII : H5T_CSET_UTF8;
        hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
        strings_as_h5py(f, "/", cset);
        for (int i = 1; i < q->model->n_nodes; i++) {
            char g[128];
            snprintf(g, sizeof g, "/layers/%s", q->model->nodes[i].spec.name);
            strings_as_h5py(f, g, cset);
        }
        H5Fclose(f);
        int is_float = 0;
        mf_qmodel *back = mf_qmodel_load(path, &is_float, &err);
        if (!back) fail_msg("variant %d: %s", k, err.message);
        assert_int_equal(back->rounding, MF_RT_ROUND_FLOOR);
        assert_string_equal(back->model->dataset, "uci-har");
        assert_string_equal(back->model->config_text, q->model->config_text);
        assert_int_equal(back->model->n_nodes, q->model->n_nodes);
        for (int i = 1; i < q->model->n_nodes; i++) {
            assert_string_equal(back->model->nodes[i].spec.name, q->model->nodes[i].spec.name);
            assert_int_equal(back->model->nodes[i].spec.padding, q->model->nodes[i].spec.padding);
            assert_int_equal(back->model->nodes[i].spec.activation,
                             q->model->nodes[i].spec.activation);
        }
        mf_qmodel_free(back);
    }
    mf_qmodel_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_fold_keeps_the_function),
        cmocka_unit_test(test_fold_relu6),
        cmocka_unit_test(test_fold_depthwise),
        cmocka_unit_test(test_add_of_four_inputs),
        cmocka_unit_test(test_concat_of_three_formats),
        cmocka_unit_test(test_batchnorm_anywhere),
        cmocka_unit_test(test_ptq_and_files),
        cmocka_unit_test(test_per_channel_without_bias_round_trips),
        cmocka_unit_test(test_qat_forward_is_the_integer_model),
        cmocka_unit_test(test_extreme_ranges_stay_within_the_format_limits),
        cmocka_unit_test(test_lowering_refuses_a_format_change_in_a_keep_input_op),
        cmocka_unit_test(test_reads_version_1_files),
        cmocka_unit_test(test_malformed_quantized_files),
        cmocka_unit_test(test_quantize_refuses_a_dataset_the_model_cannot_take),
        cmocka_unit_test(test_quantized_files_are_range_checked),
        cmocka_unit_test(test_lowering_refuses_out_of_range_qmodels),
        cmocka_unit_test(test_reads_h5py_variable_length_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
