/* The resnetv1_6 template against PAPER.md §1: the layer graph of §1.1, the shapes and
 * per-layer parameter counts of §1.2 (UCI-HAR, width 16), the parameter formulas and the MAC
 * table of §1.3 (UCI-HAR 128x9/6, Spoken MNIST 39x13/10, GTSRB 32x32x3/43), and bad arguments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mf_core.h"

static mf_model *build(int dims, int d0, int d1, int d2, int classes, int width)
{
    mf_template_args a;
    memset(&a, 0, sizeof a);
    a.width = width;
    a.dims = dims;
    a.input_shape.rank = dims + 1;
    a.input_shape.dim[0] = d0;
    a.input_shape.dim[1] = d1;
    a.input_shape.dim[2] = d2;
    a.classes = classes;
    mf_error err;
    memset(&err, 0, sizeof err);
    mf_model *m = mf_template_build("resnetv1_6", &a, &err);
    if (!m) fail_msg("resnetv1_6 dims %d width %d: %s", dims, width, err.message);
    return m;
}

typedef struct dataset {
    const char *name;
    int dims, d0, d1, d2, classes;
    long a, b, c; /* params = a f^2 + b f + c (PAPER.md §1.3) */
} dataset;

static const dataset UCI = {"UCI-HAR", 1, 128, 9, 0, 6, 13, 39, 6};
static const dataset SPOKEN = {"Spoken MNIST", 1, 39, 13, 0, 10, 13, 55, 10};
static const dataset GTSRB = {"GTSRB", 2, 32, 32, 3, 43, 37, 76, 43};

/* PAPER.md §1.3 table: width, UCI-HAR params, Spoken params, GTSRB params, UCI-HAR MACs, Spoken
 * MACs, GTSRB 32x32 MACs. */
static const long TABLE[8][7] = {
    {8, 1150, 1282, 3019, 97328, 33176, 1319256},
    {16, 3958, 4218, 10731, 333920, 108208, 4833968},
    {24, 8430, 8818, 23179, 709776, 225096, 10544136},
    {32, 14566, 15082, 40363, 1224896, 383840, 18449760},
    {40, 22366, 23010, 62283, 1879280, 584440, 28550840},
    {48, 31830, 32602, 88939, 2672928, 826896, 40847376},
    {64, 55750, 56778, 156459, 4678016, 1437376, 72026816},
    {80, 86326, 87610, 242923, 7240160, 2215280, 111988080},
};

static mf_model *build_ds(const dataset *d, int width)
{
    return build(d->dims, d->d0, d->d1, d->d2, d->classes, width);
}

static void check_counts(const dataset *d, int width, long params, long macs)
{
    mf_model *m = build_ds(d, width);
    long f = width, formula = d->a * f * f + d->b * f + d->c;
    if ((long)m->n_params != formula || (long)m->n_params != params)
        fail_msg("%s width %d: %zu parameters, formula %ld, table %ld", d->name, width, m->n_params,
                 formula, params);
    if ((long)mf_model_macs(m) != macs)
        fail_msg("%s width %d: %llu MACs, table %ld", d->name, width,
                 (unsigned long long)mf_model_macs(m), macs);
    /* the node counts add up to the model's, and there is no batch-norm state */
    size_t sum = 0;
    uint64_t msum = 0;
    for (int i = 1; i < m->n_nodes; i++) {
        sum += m->nodes[i].n_params;
        msum += mf_node_macs(m, i);
    }
    assert_int_equal(sum, m->n_params);
    assert_int_equal(msum, mf_model_macs(m));
    assert_int_equal(m->n_state, 0);
    assert_int_equal(mf_model_output_size(m), d->classes);
    mf_model_free(m);
}

static void test_param_and_mac_table(void **state)
{
    (void)state;
    for (int r = 0; r < 8; r++) {
        int f = (int)TABLE[r][0];
        check_counts(&UCI, f, TABLE[r][1], TABLE[r][4]);
        check_counts(&SPOKEN, f, TABLE[r][2], TABLE[r][5]);
        check_counts(&GTSRB, f, TABLE[r][3], TABLE[r][6]);
        /* UCI-HAR MACs = 1088 f^2 + 3462 f */
        assert_int_equal(TABLE[r][4], 1088L * f * f + 3462L * f);
    }
    /* the formula at widths outside the table, and the f = 8 number the reference tests use */
    const int widths[4] = {1, 6, 12, 100};
    for (int k = 0; k < 4; k++) {
        long f = widths[k];
        check_counts(&UCI, widths[k], 13 * f * f + 39 * f + 6, 1088 * f * f + 3462 * f);
    }
    mf_model *m = build_ds(&UCI, 8);
    assert_int_equal(m->n_params, 1150);
    mf_model_free(m);
}

typedef struct layer_row {
    const char *name;
    mf_op op;
    int rank, d0, d1;
    size_t params;
    uint64_t macs;
    mf_activation act;
    const char *in0, *in1; /* NULL: the previous layer */
} layer_row;

/* PAPER.md §1.2 (UCI-HAR, f = 16), with the graph of §1.1. */
static const layer_row UCI16[] = {
    {"conv1", MF_OP_CONV1D, 2, 128, 16, 448, 128 * 16 * 27, MF_ACT_RELU, "input", NULL},
    {"block1_conv1", MF_OP_CONV1D, 2, 128, 16, 784, 128 * 16 * 48, MF_ACT_NONE, "conv1", NULL},
    {"block1_pool1", MF_OP_MAXPOOL1D, 2, 64, 16, 0, 0, MF_ACT_NONE, "block1_conv1", NULL},
    {"block1_relu1", MF_OP_RELU, 2, 64, 16, 0, 0, MF_ACT_NONE, "block1_pool1", NULL},
    {"block1_conv2", MF_OP_CONV1D, 2, 64, 16, 784, 64 * 16 * 48, MF_ACT_NONE, "block1_relu1", NULL},
    {"block1_sconv", MF_OP_CONV1D, 2, 128, 16, 272, 128 * 16 * 16, MF_ACT_NONE, "conv1", NULL},
    {"block1_smax", MF_OP_MAXPOOL1D, 2, 64, 16, 0, 0, MF_ACT_NONE, "block1_sconv", NULL},
    {"block1_add", MF_OP_ADD, 2, 64, 16, 0, 0, MF_ACT_RELU, "block1_conv2", "block1_smax"},
    {"block2_conv1", MF_OP_CONV1D, 2, 64, 16, 784, 64 * 16 * 48, MF_ACT_RELU, "block1_add", NULL},
    {"block2_conv2", MF_OP_CONV1D, 2, 64, 16, 784, 64 * 16 * 48, MF_ACT_NONE, "block2_conv1", NULL},
    {"block2_add", MF_OP_ADD, 2, 64, 16, 0, 0, MF_ACT_RELU, "block2_conv2", "block1_add"},
    {"postpool", MF_OP_GLOBAL_MAXPOOL, 1, 16, 0, 0, 0, MF_ACT_NONE, "block2_add", NULL},
    {"flatten", MF_OP_FLATTEN, 1, 16, 0, 0, 0, MF_ACT_NONE, "postpool", NULL},
    {"linear", MF_OP_DENSE, 1, 6, 0, 102, 16 * 6, MF_ACT_NONE, "flatten", NULL},
};

static void test_uci_har_layers(void **state)
{
    (void)state;
    mf_model *m = build_ds(&UCI, 16);
    const int n_rows = (int)(sizeof UCI16 / sizeof UCI16[0]);
    assert_int_equal(m->n_nodes, n_rows + 1);
    assert_int_equal(m->input_shape.rank, 2);
    assert_int_equal(m->input_shape.dim[0], 128);
    assert_int_equal(m->input_shape.dim[1], 9);
    size_t total = 0;
    for (int r = 0; r < n_rows; r++) {
        const layer_row *row = &UCI16[r];
        int i = mf_model_find(m, row->name);
        if (i < 1) fail_msg("no layer '%s'", row->name);
        const mf_node *node = &m->nodes[i];
        char buf[64];
        mf_shape want = {row->rank, {row->d0, row->d1, 0, 0}};
        if (!mf_shape_equal(&node->out_shape, &want))
            fail_msg("%s: output %s", row->name, mf_shape_str(&node->out_shape, buf, sizeof buf));
        if (node->spec.op != row->op) fail_msg("%s: op %d", row->name, (int)node->spec.op);
        if (node->n_params != row->params)
            fail_msg("%s: %zu parameters, PAPER.md says %zu", row->name, node->n_params,
                     row->params);
        if (mf_node_macs(m, i) != row->macs)
            fail_msg("%s: %llu MACs, expected %llu", row->name,
                     (unsigned long long)mf_node_macs(m, i), (unsigned long long)row->macs);
        total += node->n_params;
        /* the graph of §1.1 */
        int want_inputs = row->in1 ? 2 : 1;
        assert_int_equal(node->n_inputs, want_inputs);
        assert_string_equal(m->nodes[node->inputs[0]].spec.name, row->in0);
        if (row->in1) assert_string_equal(m->nodes[node->inputs[1]].spec.name, row->in1);
        if (node->spec.op == MF_OP_CONV1D || node->spec.op == MF_OP_DENSE ||
            node->spec.op == MF_OP_ADD)
            if (node->spec.activation != row->act)
                fail_msg("%s: activation %d", row->name, (int)node->spec.activation);
        if (node->spec.op == MF_OP_CONV1D) {
            /* k3 with pad 1 is "same"; the shortcut is 1x1; stride 1, bias everywhere */
            assert_int_equal(node->spec.kernel, strcmp(row->name, "block1_sconv") ? 3 : 1);
            assert_int_equal(node->spec.padding, MF_PAD_SAME);
            assert_true(node->spec.stride == 0 || node->spec.stride == 1);
            assert_int_equal(node->spec.use_bias, 1);
            assert_int_equal(node->spec.filters, 16);
        }
        if (node->spec.op == MF_OP_MAXPOOL1D) {
            assert_int_equal(node->spec.kernel, 2);
            assert_true(node->spec.stride == 0 || node->spec.stride == 2);
        }
        if (node->spec.op == MF_OP_DENSE) assert_int_equal(node->spec.use_bias, 1);
    }
    assert_int_equal(total, 3958);
    assert_int_equal(m->n_params, 3958);
    assert_int_equal(m->output, mf_model_find(m, "linear"));
    /* topological order: every node after its inputs */
    int pos[64];
    for (int k = 0; k < m->n_nodes; k++)
        pos[m->order[k]] = k;
    assert_int_equal(m->order[0], 0);
    for (int i = 1; i < m->n_nodes; i++)
        for (int k = 0; k < m->nodes[i].n_inputs; k++)
            assert_true(pos[m->nodes[i].inputs[k]] < pos[i]);
    /* per-tensor shapes in the Keras layouts */
    mf_param_desc d[4];
    int nd = mf_node_params(m, mf_model_find(m, "conv1"), d);
    assert_int_equal(nd, 2);
    mf_shape k1 = {3, {3, 9, 16, 0}}, b1 = {1, {16, 0, 0, 0}};
    assert_true(mf_shape_equal(&d[0].shape, &k1));
    assert_true(mf_shape_equal(&d[1].shape, &b1));
    nd = mf_node_params(m, mf_model_find(m, "linear"), d);
    assert_int_equal(nd, 2);
    mf_shape kl = {2, {16, 6, 0, 0}};
    assert_true(mf_shape_equal(&d[0].shape, &kl));
    mf_model_free(m);
}

static void test_other_shapes(void **state)
{
    (void)state;
    /* Spoken MNIST: 39 frames, 19 after the pool */
    mf_model *m = build_ds(&SPOKEN, 16);
    const mf_shape *s = &m->nodes[mf_model_find(m, "block1_pool1")].out_shape;
    assert_int_equal(s->rank, 2);
    assert_int_equal(s->dim[0], 19);
    assert_int_equal(s->dim[1], 16);
    s = &m->nodes[mf_model_find(m, "block1_smax")].out_shape;
    assert_int_equal(s->dim[0], 19);
    s = &m->nodes[mf_model_find(m, "conv1")].out_shape;
    assert_int_equal(s->dim[0], 39);
    assert_int_equal(mf_model_output_size(m), 10);
    mf_model_free(m);

    /* GTSRB 32x32x3: 3x3 convs, 2x2 pools, a 1x1 shortcut */
    m = build_ds(&GTSRB, 8);
    const char *names[5] = {"conv1", "block1_pool1", "block1_sconv", "block2_add", "postpool"};
    const mf_shape want[5] = {{3, {32, 32, 8, 0}},
                              {3, {16, 16, 8, 0}},
                              {3, {32, 32, 8, 0}},
                              {3, {16, 16, 8, 0}},
                              {1, {8, 0, 0, 0}}};
    for (int k = 0; k < 5; k++) {
        int i = mf_model_find(m, names[k]);
        assert_true(i > 0);
        assert_true(mf_shape_equal(&m->nodes[i].out_shape, &want[k]));
    }
    assert_int_equal(m->nodes[mf_model_find(m, "conv1")].spec.op, MF_OP_CONV2D);
    assert_int_equal(m->nodes[mf_model_find(m, "block1_smax")].spec.op, MF_OP_MAXPOOL2D);
    assert_int_equal(m->nodes[mf_model_find(m, "block1_conv1")].n_params, 9 * 8 * 8 + 8);
    assert_int_equal(m->nodes[mf_model_find(m, "block1_sconv")].n_params, 8 * 8 + 8);
    assert_int_equal(m->nodes[mf_model_find(m, "linear")].n_params, 8 * 43 + 43);
    mf_model_free(m);

    /* the public GTSRB config's 16x16 input, and odd sizes */
    m = build(2, 16, 16, 3, 43, 8);
    assert_int_equal(m->n_params, 37 * 64 + 76 * 8 + 43);
    mf_model_free(m);
    m = build(2, 7, 9, 1, 3, 4);
    s = &m->nodes[mf_model_find(m, "block1_add")].out_shape;
    assert_int_equal(s->dim[0], 3);
    assert_int_equal(s->dim[1], 4);
    mf_model_free(m);
}

/* A template model runs: forward on a batch gives finite logits of the right size. */
static void test_runs(void **state)
{
    (void)state;
    mf_model *m = build_ds(&UCI, 8);
    mf_model_init_params(m, 3);
    mf_error err;
    mf_workspace *ws = mf_workspace_new(m, 2, 0, &err);
    assert_non_null(ws);
    float *x = malloc(sizeof(float) * 2 * 128 * 9);
    assert_non_null(x);
    mf_rng rng;
    mf_rng_seed(&rng, 1);
    for (int i = 0; i < 2 * 128 * 9; i++)
        x[i] = (float)mf_rng_normal(&rng);
    const float *y = mf_forward(ws, m->params, m->state, x, 2, 0, 0, 0);
    for (int i = 0; i < 12; i++)
        assert_true(y[i] == y[i] && y[i] > -1e6f && y[i] < 1e6f);
    free(x);
    mf_workspace_free(ws);
    mf_model_free(m);
}

static void expect_error(const char *name, int dims, mf_shape in, int width, int classes,
                         const char *needle)
{
    mf_template_args a;
    memset(&a, 0, sizeof a);
    a.width = width;
    a.dims = dims;
    a.input_shape = in;
    a.classes = classes;
    mf_error err;
    memset(&err, 0, sizeof err);
    mf_model *m = mf_template_build(name, &a, &err);
    if (m) {
        mf_model_free(m);
        fail_msg("%s dims %d width %d classes %d: built; expected an error with '%s'", name, dims,
                 width, classes, needle);
    }
    if (!strstr(err.message, needle)) fail_msg("error \"%s\" lacks \"%s\"", err.message, needle);
}

static void test_bad_args(void **state)
{
    (void)state;
    const mf_shape in1 = {2, {128, 9, 0, 0}}, in2 = {3, {32, 32, 3, 0}};
    expect_error("resnetv1_6", 3, (mf_shape){4, {8, 8, 8, 3}}, 16, 6, "dims");
    expect_error("resnetv1_6", 0, in1, 16, 6, "dims");
    expect_error("resnetv1_6", 1, in1, 0, 6, "width");
    expect_error("resnetv1_6", 1, in1, -4, 6, "width");
    expect_error("resnetv1_6", 1, in2, 16, 6, "32x32x3"); /* rank 3 input for 1D */
    expect_error("resnetv1_6", 2, in1, 16, 6, "128x9");   /* rank 2 input for 2D */
    expect_error("resnetv1_6", 1, (mf_shape){1, {128, 0, 0, 0}}, 16, 6, "length x channels");
    expect_error("resnetv1_6", 1, in1, 16, 1, "classes");
    expect_error("resnet", 1, in1, 16, 6, "unknown model template");
    expect_error("", 1, in1, 16, 6, "resnetv1_6"); /* the message lists the known names */
    /* an input too short for the pools */
    expect_error("resnetv1_6", 1, (mf_shape){2, {1, 9, 0, 0}}, 8, 6, "does not fit");
    assert_non_null(strstr(mf_template_names(), "resnetv1_6"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_param_and_mac_table),
        cmocka_unit_test(test_uci_har_layers),
        cmocka_unit_test(test_other_shapes),
        cmocka_unit_test(test_runs),
        cmocka_unit_test(test_bad_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
