/* Configs (config/config*.c): loading, defaults, overrides, dump round trips, building models,
 * and every validation error with its message, line, column and field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mf_config.h"
#include "mf_core.h"
#include "testutil.h"

/* A residual block written out: conv1 feeds both conv2 and the add. */
static const char *const residual_yaml = "dataset:\n"                     /* 1 */
                                         "  name: synthetic\n"            /* 2 */
                                         "  shape: [64, 3]\n"             /* 3 */
                                         "  classes: 4\n"                 /* 4 */
                                         "model:\n"                       /* 5 */
                                         "  layers:\n"                    /* 6 */
                                         "    - name: conv1\n"            /* 7 */
                                         "      type: conv1d\n"           /* 8 */
                                         "      filters: 8\n"             /* 9 */
                                         "      kernel: 3\n"              /* 10 */
                                         "      padding: same\n"          /* 11 */
                                         "      activation: relu\n"       /* 12 */
                                         "    - name: conv2\n"            /* 13 */
                                         "      type: conv1d\n"           /* 14 */
                                         "      filters: 8\n"             /* 15 */
                                         "      kernel: 3\n"              /* 16 */
                                         "      padding: same\n"          /* 17 */
                                         "    - name: add1\n"             /* 18 */
                                         "      type: add\n"              /* 19 */
                                         "      inputs: [conv1, conv2]\n" /* 20 */
                                         "      activation: relu\n"       /* 21 */
                                         "    - type: global_maxpool\n"   /* 22 */
                                         "    - type: flatten\n"          /* 23 */
                                         "    - name: out\n"              /* 24 */
                                         "      type: dense\n"            /* 25 */
                                         "      units: 4\n"               /* 26 */
                                         "      use_bias: false\n"        /* 27 */
                                         "train:\n"                       /* 28 */
                                         "  epochs: 3\n"                  /* 29 */
                                         "  optimizer: adam\n"            /* 30 */
                                         "  lr: 0.001\n";                 /* 31 */

static const char *const template_yaml = "dataset:\n"
                                         "  name: synthetic\n"
                                         "  shape: [128, 9]\n"
                                         "  classes: 6\n"
                                         "model:\n"
                                         "  template: resnetv1_6\n"
                                         "  width: 8\n"
                                         "train:\n"
                                         "  schedule: multistep\n"
                                         "  milestones: [5, 8]\n";

static mf_config *load_ok(const char *path, char **overrides, int n)
{
    mf_config *c = NULL;
    mf_error err;
    int rc = mf_config_load(path, overrides, n, &c, &err);
    if (rc != MF_OK) {
        char buf[1400];
        fprintf(stderr, "unexpected error: %s\n", mf_error_format(&err, buf, sizeof buf));
    }
    assert_int_equal(rc, MF_OK);
    assert_non_null(c);
    return c;
}

static mf_config *load_text(const char *dir, const char *name, const char *yaml, char **overrides,
                            int n)
{
    return load_ok(tu_write_file(dir, name, yaml), overrides, n);
}

/* ---- happy paths ---- */

static void test_residual_layers(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("test_config_residual");
    mf_config *c = load_text(dir, "residual.yaml", residual_yaml, NULL, 0);

    assert_string_equal(c->dataset.name, "synthetic");
    assert_int_equal(c->dataset.shape_count, 2);
    assert_int_equal(c->dataset.shape[0], 64);
    assert_int_equal(c->dataset.classes, 4);
    /* defaults of what the file leaves out */
    assert_int_equal(c->dataset.train_samples, 2048);
    assert_int_equal(c->dataset.test_samples, 512);
    assert_true(c->dataset.noise == 1.0f);
    assert_int_equal(c->dataset.seed, 1);
    assert_int_equal(c->train.epochs, 3);
    assert_int_equal(c->train.batch_size, 64);
    assert_int_equal(c->train.optimizer, MF_OPT_ADAM);
    assert_true(c->train.lr == 0.001f);
    assert_true(c->train.momentum == 0.9f);
    assert_false(c->train.nesterov);
    assert_true(c->train.weight_decay == 5e-4f);
    assert_true(c->train.beta1 == 0.9f && c->train.beta2 == 0.999f && c->train.eps == 1e-8f);
    assert_int_equal(c->train.schedule, MF_SCHED_CONSTANT);
    assert_true(c->train.gamma == 0.1f && c->train.min_lr == 0.0f);
    assert_int_equal(c->train.seed, 1);
    assert_int_equal(c->train.threads, 2);
    assert_true(c->train.deterministic);
    assert_string_equal(c->train.output, "runs/residual/model.h5");
    assert_int_equal(c->train.progress, MF_PROGRESS_AUTO);

    assert_null(c->model.template_name);
    assert_int_equal(c->model.layers_count, 6);
    const mf_layer_config *add = &c->model.layers[2];
    assert_string_equal(add->name, "add1");
    assert_int_equal(add->inputs_count, 2);
    assert_string_equal(add->inputs[0], "conv1");
    assert_string_equal(add->inputs[1], "conv2");
    /* unnamed layers are called <type>_<index>; absent values are marked */
    assert_string_equal(c->model.layers[3].name, "global_maxpool_3");
    assert_string_equal(c->model.layers[4].name, "flatten_4");
    assert_int_equal(c->model.layers[0].use_bias, -1);
    assert_int_equal(c->model.layers[5].use_bias, 0);
    assert_true(c->model.layers[0].rate < 0.0f);

    mf_shape data = {2, {64, 3}};
    mf_error err;
    mf_model *m = mf_config_build_model(c, &data, 4, &err);
    assert_non_null(m);
    assert_int_equal(m->n_nodes, 7);
    assert_int_equal(mf_model_output_size(m), 4);
    int a = mf_model_find(m, "add1");
    assert_true(a > 0);
    assert_int_equal(m->nodes[a].n_inputs, 2);
    assert_int_equal(m->nodes[a].inputs[0], mf_model_find(m, "conv1"));
    assert_int_equal(m->nodes[a].inputs[1], mf_model_find(m, "conv2"));
    assert_int_equal(m->nodes[a].spec.activation, MF_ACT_RELU);
    assert_int_equal(m->nodes[mf_model_find(m, "conv2")].spec.padding, MF_PAD_SAME);
    assert_int_equal(m->nodes[mf_model_find(m, "out")].spec.use_bias, 0);
    assert_int_equal(m->nodes[mf_model_find(m, "conv1")].spec.use_bias, 1);
    mf_model_free(m);
    mf_config_free(c);
}

static void test_template(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("test_config_template");
    mf_config *c = load_text(dir, "har.yaml", template_yaml, NULL, 0);
    assert_string_equal(c->model.template_name, "resnetv1_6");
    assert_int_equal(c->model.width, 8);
    assert_int_equal(c->model.dims, 0);
    assert_int_equal(c->model.layers_count, 0);
    assert_int_equal(c->train.schedule, MF_SCHED_MULTISTEP);
    assert_int_equal(c->train.milestones_count, 2);
    assert_int_equal(c->train.milestones[1], 8);

    /* input shape and classes come from the data; dims from the input's rank */
    mf_shape data = {2, {128, 9}};
    mf_error err;
    mf_model *m = mf_config_build_model(c, &data, 6, &err);
    assert_non_null(m);
    assert_int_equal(m->n_nodes, 15);
    assert_int_equal(mf_model_output_size(m), 6);
    assert_true(mf_shape_equal(&m->input_shape, &data));
    assert_true(mf_model_find(m, "block1_add") > 0);
    mf_model_free(m);

    /* a 2D input builds the 2D variant */
    mf_shape image = {3, {32, 32, 3}};
    m = mf_config_build_model(c, &image, 6, &err);
    assert_non_null(m);
    assert_int_equal(m->nodes[mf_model_find(m, "conv1")].spec.op, MF_OP_CONV2D);
    mf_model_free(m);
    mf_config_free(c);
}

/* ---- overrides ---- */

static void test_overrides(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("test_config_overrides");
    char *over[] = {
        "train.epochs=7",                          /* scalar */
        "train.lr=2e-3",                           /* float */
        "train.nesterov=true",                     /* bool */
        "train.optimizer=sgd",                     /* enum */
        "train.schedule=multistep",                /* enum */
        "train.milestones=[100,200]",              /* list */
        "dataset.shape=[32, 5]",                   /* list replacing a list */
        "dataset.shape[1]=3",                      /* one list entry */
        "model.layers[0].filters=16",              /* layer by index */
        "model.layers.conv2.kernel=5",             /* layer by name */
        "model.layers.conv2.filters=16",           /* (keeps the add's inputs equal) */
        "model.layers.out.use_bias=true",          /* bool in a layer */
        "model.layers.add1.inputs=[conv2, conv1]", /* list of names */
        "train.output=runs/x/y.h5",                /* string */
    };
    int n = (int)(sizeof over / sizeof over[0]);
    mf_config *c = load_text(dir, "residual.yaml", residual_yaml, over, n);
    assert_int_equal(c->train.epochs, 7);
    assert_true(c->train.lr == 2e-3f);
    assert_true(c->train.nesterov);
    assert_int_equal(c->train.optimizer, MF_OPT_SGD);
    assert_int_equal(c->train.schedule, MF_SCHED_MULTISTEP);
    assert_int_equal(c->train.milestones_count, 2);
    assert_int_equal(c->train.milestones[0], 100);
    assert_int_equal(c->train.milestones[1], 200);
    assert_int_equal(c->dataset.shape_count, 2);
    assert_int_equal(c->dataset.shape[0], 32);
    assert_int_equal(c->dataset.shape[1], 3);
    assert_int_equal(c->model.layers[0].filters, 16);
    assert_int_equal(c->model.layers[1].kernel_count, 1);
    assert_int_equal(c->model.layers[1].kernel[0], 5);
    assert_int_equal(c->model.layers[5].use_bias, 1);
    assert_string_equal(c->model.layers[2].inputs[0], "conv2");
    assert_string_equal(c->train.output, "runs/x/y.h5");

    mf_shape data = {2, {32, 3}};
    mf_error err;
    mf_model *m = mf_config_build_model(c, &data, 4, &err);
    assert_non_null(m);
    assert_int_equal(m->nodes[mf_model_find(m, "conv1")].spec.filters, 16);
    assert_int_equal(m->nodes[mf_model_find(m, "conv2")].spec.kernel, 5);
    mf_model_free(m);
    mf_config_free(c);

    /* a template's width; a whole layer list; a mapping merged into a layer */
    char *template_over[] = {"model.width=16", "model.dims=1"};
    c = load_text(dir, "har.yaml", template_yaml, template_over, 2);
    assert_int_equal(c->model.width, 16);
    assert_int_equal(c->model.dims, 1);
    mf_shape har = {2, {128, 9}};
    m = mf_config_build_model(c, &har, 6, &err);
    assert_non_null(m);
    assert_int_equal(m->nodes[mf_model_find(m, "conv1")].spec.filters, 16);
    mf_model_free(m);
    mf_config_free(c);

    char *switch_over[] = {
        "model.template=",
        "model.width=",
        "model.layers=[{name: c, type: conv1d, filters: 4, kernel: 3}, {type: flatten}, "
        "{name: d, type: dense, units: 6}]",
        "model.layers.d={use_bias: false, activation: relu}",
    };
    /* "model.width=" would be an empty integer: expect that error first */
    mf_error werr;
    mf_config *bad = NULL;
    assert_int_equal(
        mf_config_load(tu_write_file(dir, "har.yaml", template_yaml), switch_over, 4, &bad, &werr),
        MF_ERR);
    assert_non_null(strstr(werr.message, "override 'model.width=': expected an integer"));
    switch_over[1] = "train.epochs=2";
    c = load_text(dir, "har.yaml", template_yaml, switch_over, 4);
    assert_null(c->model.template_name);
    assert_int_equal(c->model.layers_count, 3);
    assert_string_equal(c->model.layers[1].name, "flatten_1");
    assert_int_equal(c->model.layers[2].use_bias, 0);
    assert_string_equal(c->model.layers[2].activation, "relu");
    assert_true(c->model.layers[2].rate < 0.0f); /* new entries get the absent markers */
    m = mf_config_build_model(c, &har, 6, &err);
    assert_non_null(m);
    assert_int_equal(m->n_nodes, 4);
    mf_model_free(m);
    mf_config_free(c);
}

/* ---- dump ---- */

static void test_dump_round_trip(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("test_config_dump");
    const char *inputs[] = {residual_yaml, template_yaml};
    for (int k = 0; k < 2; k++) {
        char *over[] = {"train.milestones=[3, 6]", "train.min_lr=1e-5", "dataset.noise=0.25"};
        mf_config *a = load_text(dir, "first.yaml", inputs[k], over, 3);
        mf_error err;
        char *text = mf_config_dump(a, &err);
        assert_non_null(text);
        mf_config *b = load_text(dir, "second.yaml", text, NULL, 0);
        char *again = mf_config_dump(b, &err);
        assert_non_null(again);
        assert_string_equal(text, again);

        assert_string_equal(a->dataset.name, b->dataset.name);
        assert_int_equal(a->dataset.shape_count, b->dataset.shape_count);
        for (unsigned i = 0; i < a->dataset.shape_count; i++)
            assert_int_equal(a->dataset.shape[i], b->dataset.shape[i]);
        assert_true(a->dataset.noise == b->dataset.noise);
        assert_int_equal(a->train.epochs, b->train.epochs);
        assert_int_equal(a->train.optimizer, b->train.optimizer);
        assert_true(a->train.lr == b->train.lr);
        assert_true(a->train.min_lr == b->train.min_lr);
        assert_true(a->train.eps == b->train.eps);
        assert_true(a->train.weight_decay == b->train.weight_decay);
        assert_int_equal(a->train.milestones_count, b->train.milestones_count);
        assert_int_equal(a->train.milestones[1], b->train.milestones[1]);
        /* the output path resolved from the first file's name stays */
        assert_string_equal(b->train.output, "runs/first/model.h5");
        assert_int_equal(a->model.layers_count, b->model.layers_count);
        for (unsigned i = 0; i < a->model.layers_count; i++) {
            assert_string_equal(a->model.layers[i].name, b->model.layers[i].name);
            assert_string_equal(a->model.layers[i].type, b->model.layers[i].type);
            assert_int_equal(a->model.layers[i].inputs_count, b->model.layers[i].inputs_count);
            assert_int_equal(a->model.layers[i].filters, b->model.layers[i].filters);
            assert_int_equal(a->model.layers[i].units, b->model.layers[i].units);
        }
        if (k == 0) {
            /* layer defaults are written out */
            assert_non_null(strstr(text, "use_bias: false"));
            assert_non_null(strstr(text, "inputs: [conv1, conv2]"));
            assert_int_equal(b->model.layers[0].use_bias, 1);
        } else {
            assert_string_equal(b->model.template_name, "resnetv1_6");
            assert_int_equal(b->model.width, 8);
            assert_null(strstr(text, "layers"));
        }
        free(text);
        free(again);
        mf_config_free(a);
        mf_config_free(b);
    }
}

/* Rectangular windows: kernel and stride as one size (square, or 1D) or [height, width], in the
 * file, in overrides (a list or a scalar replaces either form) and through the dump. */
static void test_rectangular_kernels(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("test_config_rect");
    const char *yaml = "dataset: {name: synthetic, shape: [39, 13, 1], classes: 4}\n"
                       "model:\n"
                       "  layers:\n"
                       "    - {name: c1, type: conv2d, filters: 4, kernel: [10, 4], stride: [2, 1],"
                       " padding: same}\n"
                       "    - {name: p1, type: maxpool2d, kernel: [2, 1]}\n"
                       "    - {name: c2, type: conv2d, filters: 4, kernel: 3, stride: 2}\n"
                       "    - {name: g, type: global_avgpool}\n";
    char *over[] = {"model.layers.c2.kernel=[1, 3]", "model.layers.c1.stride=2"};
    for (int k = 0; k < 2; k++) {
        mf_config *a = load_text(dir, "rect.yaml", yaml, over, k ? 2 : 0);
        const mf_layer_config *c1 = &a->model.layers[0], *c2 = &a->model.layers[2];
        assert_int_equal(c1->kernel_count, 2);
        assert_int_equal(c1->kernel[0], 10);
        assert_int_equal(c1->kernel[1], 4);
        assert_int_equal(c1->stride_count, k ? 1 : 2);
        assert_int_equal(c2->kernel_count, k ? 2 : 1);
        mf_error err;
        mf_shape data = {3, {39, 13, 1}};
        mf_model *m = mf_config_build_model(a, &data, 4, &err);
        assert_non_null(m);
        mf_window g;
        mf_node_window(m, mf_model_find(m, "c1"), &g);
        assert_int_equal(g.kh, 10);
        assert_int_equal(g.kw, 4);
        assert_int_equal(g.sh, 2);
        assert_int_equal(g.sw, k ? 2 : 1);
        mf_node_window(m, mf_model_find(m, "p1"), &g);
        assert_int_equal(g.kh, 2);
        assert_int_equal(g.kw, 1);
        assert_int_equal(g.sh, 2); /* a pool's stride: its window */
        assert_int_equal(g.sw, 1);
        mf_node_window(m, mf_model_find(m, "c2"), &g);
        assert_int_equal(g.kh, k ? 1 : 3);
        assert_int_equal(g.kw, 3);
        mf_model_free(m);
        /* the dump writes one size as a scalar and two as a list, and loads again */
        char *text = mf_config_dump(a, &err);
        assert_non_null(text);
        assert_non_null(strstr(text, "kernel: [10, 4]"));
        assert_non_null(strstr(text, k ? "kernel: [1, 3]" : "kernel: 3"));
        assert_non_null(strstr(text, k ? "stride: 2" : "stride: [2, 1]"));
        mf_config *b = load_text(dir, "again.yaml", text, NULL, 0);
        char *again = mf_config_dump(b, &err);
        assert_string_equal(text, again);
        free(text);
        free(again);
        mf_config_free(a);
        mf_config_free(b);
    }
}

/* ReLU6: an activation of conv, dense and add layers, and a layer of its own. */
static void test_relu6_layers(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("test_config_relu6");
    const char *yaml = "dataset: {name: synthetic, shape: [16, 3], classes: 4}\n"
                       "model:\n"
                       "  layers:\n"
                       "    - {name: c1, type: conv1d, filters: 4, kernel: 3, activation: relu6}\n"
                       "    - {name: r, type: relu6}\n"
                       "    - {type: flatten}\n"
                       "    - {name: out, type: dense, units: 4, activation: relu6}\n";
    mf_config *c = load_text(dir, "relu6.yaml", yaml, NULL, 0);
    mf_error err;
    mf_shape data = {2, {16, 3}};
    mf_model *m = mf_config_build_model(c, &data, 4, &err);
    assert_non_null(m);
    assert_int_equal(m->nodes[mf_model_find(m, "c1")].spec.activation, MF_ACT_RELU6);
    assert_int_equal(m->nodes[mf_model_find(m, "r")].spec.op, MF_OP_RELU6);
    assert_int_equal(m->nodes[mf_model_find(m, "out")].spec.activation, MF_ACT_RELU6);
    mf_model_free(m);
    char *text = mf_config_dump(c, &err);
    assert_non_null(strstr(text, "activation: relu6"));
    assert_non_null(strstr(text, "type: relu6"));
    free(text);
    mf_config_free(c);
}

/* Depthwise convs: depth_multiplier (default 1, written out by the dump), a separable conv as a
 * depthwise conv and a 1x1 conv, through overrides too. */
static void test_depthwise_layers(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("test_config_depthwise");
    const char *yaml =
        "dataset: {name: synthetic, shape: [10, 8, 2], classes: 4}\n"
        "model:\n"
        "  layers:\n"
        "    - {name: dw, type: depthwise_conv2d, kernel: [3, 1], depth_multiplier: 3,"
        " padding: same, activation: relu}\n"
        "    - {name: pw, type: conv2d, filters: 5, kernel: 1}\n"
        "    - {name: dw1, type: depthwise_conv1d, kernel: 3, inputs: [flat1]}\n"
        "    - {name: flat1, type: dense, units: 12, inputs: [pw]}\n"
        "    - {name: g, type: global_avgpool, inputs: [pw]}\n";
    /* (dw1 reads a flat tensor: it is only loaded, not built) */
    for (int k = 0; k < 2; k++) {
        char *over[] = {"model.layers.dw.depth_multiplier=2"};
        mf_config *c = load_text(dir, "dw.yaml", yaml, over, k);
        assert_int_equal(c->model.layers[0].depth_multiplier, k ? 2 : 3);
        assert_int_equal(c->model.layers[2].depth_multiplier, 0); /* not given: the default */
        mf_error err;
        char *text = mf_config_dump(c, &err);
        assert_non_null(strstr(text, k ? "depth_multiplier: 2" : "depth_multiplier: 3"));
        assert_non_null(strstr(text, "depth_multiplier: 1")); /* dw1's default, written */
        mf_config *again = load_text(dir, "again.yaml", text, NULL, 0);
        char *text2 = mf_config_dump(again, &err);
        assert_string_equal(text, text2);
        free(text);
        free(text2);
        mf_config_free(again);
        mf_config_free(c);
    }
    const char *build = "dataset: {name: synthetic, shape: [10, 8, 2], classes: 4}\n"
                        "model:\n"
                        "  layers:\n"
                        "    - {name: dw, type: depthwise_conv2d, kernel: [3, 1],"
                        " depth_multiplier: 3, padding: same}\n"
                        "    - {name: pw, type: conv2d, filters: 4, kernel: 1}\n"
                        "    - {name: g, type: global_avgpool}\n";
    mf_config *c = load_text(dir, "build.yaml", build, NULL, 0);
    mf_error err;
    mf_shape data = {3, {10, 8, 2}};
    mf_model *m = mf_config_build_model(c, &data, 4, &err);
    assert_non_null(m);
    const mf_node *dw = &m->nodes[mf_model_find(m, "dw")];
    assert_int_equal(dw->spec.op, MF_OP_DWCONV2D);
    assert_int_equal(dw->spec.depth_multiplier, 3);
    assert_int_equal(dw->out_shape.dim[2], 6);
    assert_int_equal(dw->n_params, 3 * 1 * 6 + 6);
    mf_model_free(m);
    mf_config_free(c);
}

/* ---- dataset fields ---- */

static const char *const template_model = "model: {template: resnetv1_6, width: 8}\n";

/* "dataset: <mapping>\n" + the template model, loaded from dir/<file>. */
static mf_config *load_dataset(const char *dir, const char *file, const char *dataset,
                               char **overrides, int n)
{
    char yaml[1024];
    snprintf(yaml, sizeof yaml, "dataset: %s\n%s", dataset, template_model);
    return load_text(dir, file, yaml, overrides, n);
}

static void assert_mfcc_defaults(const mf_mfcc_config *m)
{
    assert_true(m->frame_ms == 50.0f);
    assert_true(m->shift_ms == 25.0f);
    assert_int_equal(m->filters, 26);
    assert_int_equal(m->coefficients, 13);
    assert_int_equal(m->frames, 39);
    assert_true(m->preemphasis == 0.97f);
    assert_int_equal(m->fft_size, 0);
}

static void test_dataset_defaults(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("test_config_dataset_defaults");
    static const struct {
        const char *name, *path;
    } real[] = {
        {"uci-har", "../shared/data/uci-har/reconstructed"},
        {"fsdd", "../shared/data/fsdd/recordings"},
        {"gtsrb", "../shared/data/gtsrb"},
        {"mnist", "../shared/data/mnist"},
    };
    for (size_t i = 0; i < sizeof real / sizeof real[0]; i++) {
        char dataset[100];
        snprintf(dataset, sizeof dataset, "{name: %s}", real[i].name);
        mf_config *c = load_dataset(dir, "real.yaml", dataset, NULL, 0);
        const mf_dataset_config *d = &c->dataset;
        assert_string_equal(d->name, real[i].name);
        assert_string_equal(d->path, real[i].path);
        assert_int_equal(d->normalize, MF_NORM_ELEMENT);
        assert_true(d->cache);
        assert_string_equal(d->cache_dir, "cache");
        assert_true(d->validation == 0.0f);
        assert_false(d->resize);
        assert_int_equal(d->train_limit, 0);
        assert_int_equal(d->test_limit, 0);
        assert_int_equal(d->seed, 1);
        assert_null(d->shape);
        assert_int_equal(d->classes, 0);
        assert_mfcc_defaults(&d->mfcc);
        assert_true(c->train.mixup_alpha == 0.0f);
        mf_config_free(c);
    }

    /* synthetic: no folder, no normalization */
    mf_config *c = load_text(dir, "synthetic.yaml", template_yaml, NULL, 0);
    assert_null(c->dataset.path);
    assert_int_equal(c->dataset.normalize, MF_NORM_NONE);
    assert_true(c->dataset.cache);
    assert_string_equal(c->dataset.cache_dir, "cache");
    assert_true(c->dataset.validation == 0.0f);
    assert_false(c->dataset.resize);
    assert_mfcc_defaults(&c->dataset.mfcc);
    assert_true(c->train.mixup_alpha == 0.0f);
    mf_config_free(c);

    /* png: the path as given (relative paths are resolved by the dataset code) */
    c = load_dataset(dir, "png.yaml", "{name: png, path: data/signs, shape: [32, 32, 3]}", NULL, 0);
    assert_string_equal(c->dataset.path, "data/signs");
    assert_int_equal(c->dataset.shape_count, 3);
    assert_int_equal(c->dataset.shape[2], 3);
    assert_int_equal(c->dataset.normalize, MF_NORM_ELEMENT);
    assert_false(c->dataset.resize);
    mf_config_free(c);

    /* the name-dependent defaults follow an override of the name */
    char *rename[] = {"dataset.name=mnist"};
    c = load_dataset(dir, "renamed.yaml", "{name: fsdd}", rename, 1);
    assert_string_equal(c->dataset.path, "../shared/data/mnist");
    mf_config_free(c);
    char *to_synthetic[] = {"dataset={name: synthetic, shape: [16], classes: 2}"};
    c = load_dataset(dir, "renamed.yaml", "{name: gtsrb, normalize: channel}", to_synthetic, 1);
    assert_null(c->dataset.path);
    assert_int_equal(c->dataset.normalize, MF_NORM_CHANNEL); /* given: kept */
    mf_config_free(c);
}

static void test_dataset_fields(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("test_config_dataset_fields");
    /* every new field written in the file */
    mf_config *c = load_text(dir, "fsdd.yaml",
                             "dataset:\n"
                             "  name: fsdd\n"
                             "  path: /data/fsdd\n"
                             "  seed: 7\n"
                             "  normalize: channel\n"
                             "  cache: false\n"
                             "  cache_dir: /tmp/mf-cache\n"
                             "  validation: 0.2\n"
                             "  train_limit: 100\n"
                             "  test_limit: 50\n"
                             "  mfcc:\n"
                             "    frame_ms: 32\n"
                             "    shift_ms: 16\n"
                             "    filters: 40\n"
                             "    coefficients: 20\n"
                             "    frames: 60\n"
                             "    preemphasis: 0\n"
                             "    fft_size: 256\n"
                             "model: {template: resnetv1_6, width: 8}\n"
                             "train:\n"
                             "  mixup_alpha: 0.4\n",
                             NULL, 0);
    const mf_dataset_config *d = &c->dataset;
    assert_string_equal(d->path, "/data/fsdd");
    assert_int_equal(d->seed, 7);
    assert_int_equal(d->normalize, MF_NORM_CHANNEL);
    assert_false(d->cache);
    assert_string_equal(d->cache_dir, "/tmp/mf-cache");
    assert_true(d->validation == 0.2f);
    assert_int_equal(d->train_limit, 100);
    assert_int_equal(d->test_limit, 50);
    assert_true(d->mfcc.frame_ms == 32.0f);
    assert_true(d->mfcc.shift_ms == 16.0f);
    assert_int_equal(d->mfcc.filters, 40);
    assert_int_equal(d->mfcc.coefficients, 20);
    assert_int_equal(d->mfcc.frames, 60);
    assert_true(d->mfcc.preemphasis == 0.0f);
    assert_int_equal(d->mfcc.fft_size, 256); /* 32 ms = 256 samples at 8 kHz */
    assert_true(c->train.mixup_alpha == 0.4f);
    mf_config_free(c);

    /* a partial mfcc mapping keeps the other defaults; mnist and png take resize */
    c = load_dataset(dir, "fsdd2.yaml", "{name: fsdd, mfcc: {frames: 30}}", NULL, 0);
    assert_int_equal(c->dataset.mfcc.frames, 30);
    assert_int_equal(c->dataset.mfcc.filters, 26);
    assert_true(c->dataset.mfcc.frame_ms == 50.0f);
    mf_config_free(c);
    c = load_dataset(dir, "mnist.yaml", "{name: mnist, resize: true}", NULL, 0);
    assert_true(c->dataset.resize);
    mf_config_free(c);
    c = load_dataset(dir, "png.yaml", "{name: png, path: imgs, shape: [28, 28, 1], resize: yes}",
                     NULL, 0);
    assert_true(c->dataset.resize);
    assert_int_equal(c->dataset.shape[2], 1);
    mf_config_free(c);

    /* overrides of the new fields */
    char *over[] = {
        "dataset.mfcc.frames=20",
        "dataset.normalize=channel",
        "train.mixup_alpha=0.2",
        "dataset.mfcc={filters: 40, coefficients: 20}", /* merged into the mapping */
        "dataset.path=/srv/fsdd",
        "dataset.cache=false",
        "dataset.cache_dir=.cache",
        "dataset.validation=0.1",
        "dataset.train_limit=64",
        "dataset.test_limit=32",
        "dataset.mfcc.fft_size=1024",
        "dataset.seed=9",
    };
    int n = (int)(sizeof over / sizeof over[0]);
    c = load_dataset(dir, "fsdd3.yaml", "{name: fsdd}", over, n);
    d = &c->dataset;
    assert_int_equal(d->mfcc.frames, 20);
    assert_int_equal(d->normalize, MF_NORM_CHANNEL);
    assert_true(c->train.mixup_alpha == 0.2f);
    assert_int_equal(d->mfcc.filters, 40);
    assert_int_equal(d->mfcc.coefficients, 20);
    assert_true(d->mfcc.shift_ms == 25.0f);
    assert_string_equal(d->path, "/srv/fsdd");
    assert_false(d->cache);
    assert_string_equal(d->cache_dir, ".cache");
    assert_true(d->validation == 0.1f);
    assert_int_equal(d->train_limit, 64);
    assert_int_equal(d->test_limit, 32);
    assert_int_equal(d->mfcc.fft_size, 1024);
    assert_int_equal(d->seed, 9);
    mf_config_free(c);

    /* the synthetic dataset may set normalize, the split and the limits */
    char *synthetic_over[] = {"dataset.normalize=element", "dataset.validation=0.25",
                              "dataset.train_limit=10"};
    c = load_text(dir, "synthetic.yaml", template_yaml, synthetic_over, 3);
    assert_int_equal(c->dataset.normalize, MF_NORM_ELEMENT);
    assert_true(c->dataset.validation == 0.25f);
    assert_int_equal(c->dataset.train_limit, 10);
    mf_config_free(c);
}

static void assert_same_dataset(const mf_dataset_config *a, const mf_dataset_config *b)
{
    assert_string_equal(a->name, b->name);
    if (a->path)
        assert_string_equal(a->path, b->path);
    else
        assert_null(b->path);
    assert_int_equal(a->shape_count, b->shape_count);
    for (unsigned i = 0; i < a->shape_count; i++)
        assert_int_equal(a->shape[i], b->shape[i]);
    assert_int_equal(a->classes, b->classes);
    assert_int_equal(a->seed, b->seed);
    assert_int_equal(a->normalize, b->normalize);
    assert_int_equal(a->cache, b->cache);
    assert_string_equal(a->cache_dir, b->cache_dir);
    assert_true(a->validation == b->validation);
    assert_int_equal(a->resize, b->resize);
    assert_int_equal(a->train_limit, b->train_limit);
    assert_int_equal(a->test_limit, b->test_limit);
    assert_true(a->mfcc.frame_ms == b->mfcc.frame_ms);
    assert_true(a->mfcc.shift_ms == b->mfcc.shift_ms);
    assert_int_equal(a->mfcc.filters, b->mfcc.filters);
    assert_int_equal(a->mfcc.coefficients, b->mfcc.coefficients);
    assert_int_equal(a->mfcc.frames, b->mfcc.frames);
    assert_true(a->mfcc.preemphasis == b->mfcc.preemphasis);
    assert_int_equal(a->mfcc.fft_size, b->mfcc.fft_size);
}

static void test_dump_dataset_fields(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("test_config_dump_dataset");
    static const struct {
        const char *dataset;
        const char *over[4];
        const char *written[3]; /* must be in the dump */
        const char *absent[3];  /* must not be */
    } cases[] = {
        {"{name: fsdd}",
         {"dataset.mfcc.frames=20", "dataset.mfcc.preemphasis=0.5", "train.mixup_alpha=0.2",
          "dataset.mfcc.fft_size=512"},
         {"path: ../shared/data/fsdd/recordings", "mfcc:", "frames: 20"},
         {"resize", "classes", "noise"}},
        {"{name: uci-har, validation: 0.3, normalize: none}",
         {"dataset.cache=false", "dataset.train_limit=500", NULL, NULL},
         {"path: ../shared/data/uci-har/reconstructed", "normalize: none", "cache: false"},
         {"mfcc", "resize", "shape"}},
        {"{name: mnist, resize: true, normalize: channel}",
         {"dataset.cache_dir=/tmp/c", "dataset.seed=5", NULL, NULL},
         {"path: ../shared/data/mnist", "resize: true", "cache_dir: /tmp/c"},
         {"mfcc", "train_samples", NULL}},
        {"{name: gtsrb, test_limit: 9}",
         {NULL, NULL, NULL, NULL},
         {"path: ../shared/data/gtsrb", "test_limit: 9", "normalize: element"},
         {"mfcc", "resize", NULL}},
        {"{name: png, path: imgs/a, shape: [24, 24, 1]}",
         {"dataset.resize=true", NULL, NULL, NULL},
         {"path: imgs/a", "resize: true", "shape: [24, 24, 1]"},
         {"mfcc", "classes", NULL}},
        {"{name: synthetic, shape: [32, 3], classes: 3, validation: 0.5}",
         {"dataset.normalize=channel", NULL, NULL, NULL},
         {"normalize: channel", "noise:", "train_samples:"},
         {"path", "mfcc", "resize"}},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char *over[4];
        int n = 0;
        for (int i = 0; i < 4 && cases[k].over[i]; i++)
            over[n++] = (char *)cases[k].over[i];
        mf_config *a = load_dataset(dir, "first.yaml", cases[k].dataset, over, n);
        mf_error err;
        char *text = mf_config_dump(a, &err);
        assert_non_null(text);
        for (int i = 0; i < 3; i++) {
            if (cases[k].written[i] && !strstr(text, cases[k].written[i]))
                fprintf(stderr, "case %zu: '%s' is not in the dump:\n%s", k, cases[k].written[i],
                        text);
            if (cases[k].written[i]) assert_non_null(strstr(text, cases[k].written[i]));
            if (cases[k].absent[i] && strstr(text, cases[k].absent[i]))
                fprintf(stderr, "case %zu: '%s' is in the dump:\n%s", k, cases[k].absent[i], text);
            if (cases[k].absent[i]) assert_null(strstr(text, cases[k].absent[i]));
        }
        mf_config *b = load_text(dir, "second.yaml", text, NULL, 0);
        char *again = mf_config_dump(b, &err);
        assert_non_null(again);
        assert_string_equal(text, again);
        assert_same_dataset(&a->dataset, &b->dataset);
        assert_true(a->train.mixup_alpha == b->train.mixup_alpha);
        free(text);
        free(again);
        mf_config_free(a);
        mf_config_free(b);
    }
}

/* ---- errors ---- */

typedef struct error_case {
    const char *yaml;
    const char *override; /* NULL: none */
    const char *message;  /* must occur in err.message */
    int line, column;     /* 0: none */
    const char *field;
} error_case;

static void expect_errors(const char *test, const error_case *cases, size_t n)
{
    const char *dir = tu_tmpdir(test);
    for (size_t i = 0; i < n; i++) {
        const error_case *ec = &cases[i];
        char path[1200];
        snprintf(path, sizeof path, "%s", tu_write_file(dir, "bad.yaml", ec->yaml));
        char *over[1] = {(char *)ec->override};
        mf_config *c = (mf_config *)&over; /* must come back NULL */
        mf_error err;
        int rc = mf_config_load(path, over, ec->override ? 1 : 0, &c, &err);
        char buf[1400];
        mf_error_format(&err, buf, sizeof buf);
        if (rc != MF_ERR || !strstr(err.message, ec->message) || err.line != ec->line ||
            err.column != ec->column || strcmp(err.field, ec->field))
            fprintf(stderr, "%s case %zu: expected %d:%d %s: ...%s...\n  got: %s\n", test, i,
                    ec->line, ec->column, ec->field, ec->message, buf);
        assert_int_equal(rc, MF_ERR);
        assert_null(c);
        assert_non_null(strstr(err.message, ec->message));
        assert_int_equal(err.line, ec->line);
        assert_int_equal(err.column, ec->column);
        assert_string_equal(err.field, ec->field);
        /* errors in the file name it; errors in an override argument do not */
        assert_string_equal(err.file, ec->override ? "" : path);
    }
}

#define DATASET  "dataset: {name: synthetic, shape: [128, 9], classes: 6}\n"
#define MODEL    "model: {template: resnetv1_6, width: 8}\n"
#define TEMPLATE DATASET MODEL
/* line 2 is "model:", line 3 "  layers:", the first layer from line 4 */
#define LAYERS DATASET "model:\n  layers:\n"

static void test_error_syntax_and_file(void **state)
{
    (void)state;
    const error_case cases[] = {
        {TEMPLATE "train: [1\n", NULL, "invalid YAML: did not find expected ',' or ']'", 4, 1, ""},
        {TEMPLATE "train:\n  epochs: 3\n lr: 1\n", NULL, "invalid YAML", 5, 2, ""},
        {"", NULL,
         "the config is empty (expected the sections dataset, model, train and optionally "
         "prune, quantize and deploy)",
         0, 0, ""},
        {TEMPLATE "---\ntrain: {}\n", NULL, "one YAML document", 4, 1, ""},
        {TEMPLATE "dataset: {name: synthetic}\n", NULL,
         "'dataset' is given twice in the config (first at line 1)", 3, 1, "dataset"},
        {"dataset: &d {name: synthetic, shape: [128, 9], classes: 6}\n"
         "model: {template: resnetv1_6, width: 8}\n"
         "train: *d\n",
         NULL, "YAML aliases (*name) are not supported", 3, 1, "train"},
    };
    expect_errors("test_config_syntax", cases, sizeof cases / sizeof cases[0]);

    mf_config *c = NULL;
    mf_error err;
    assert_int_equal(mf_config_load("/nonexistent/dir/cfg.yaml", NULL, 0, &c, &err), MF_ERR);
    assert_null(c);
    assert_non_null(strstr(err.message, "cannot open config file '/nonexistent/dir/cfg.yaml'"));
    assert_string_equal(err.file, "/nonexistent/dir/cfg.yaml");
    assert_int_equal(err.line, 0);
    assert_int_equal(err.column, 0);
}

static void test_error_unknown_keys(void **state)
{
    (void)state;
    const error_case cases[] = {
        {TEMPLATE "train:\n  epoch: 3\n", NULL,
         "unknown key 'epoch' in train (expected one of: epochs, batch_size, optimizer, lr, "
         "momentum, nesterov, weight_decay, beta1, beta2, eps, schedule, milestones, gamma, "
         "min_lr, seed, threads, deterministic, output, progress, mixup_alpha, distill)",
         4, 3, "train.epoch"},
        {TEMPLATE "trian:\n  epochs: 3\n", NULL,
         "unknown section 'trian' (expected one of: dataset, model, train, quantize, prune, "
         "deploy)",
         3, 1, "trian"},
        {"dataset: {name: synthetic, shape: [128, 9], clases: 6}\n", NULL,
         "unknown key 'clases' in dataset (expected one of: name, path, shape, classes,", 1, 45,
         "dataset.clases"},
        {LAYERS "    - name: c1\n      type: conv1d\n      filter: 8\n", NULL,
         "unknown key 'filter' in model.layers[0] (expected one of: name, type, inputs, "
         "filters, units,",
         6, 7, "model.layers[0].filter"},
        {TEMPLATE "train:\n  epochs: 3\n  epochs: 4\n", NULL,
         "'epochs' is given twice in train (first at line 4)", 5, 3, "train.epochs"},
    };
    expect_errors("test_config_keys", cases, sizeof cases / sizeof cases[0]);
}

static void test_error_types(void **state)
{
    (void)state;
    const error_case cases[] = {
        {TEMPLATE "train:\n  epochs: ten\n", NULL, "expected an integer, found 'ten'", 4, 11,
         "train.epochs"},
        {TEMPLATE "train:\n  epochs: 10abc\n", NULL, "expected an integer, found '10abc'", 4, 11,
         "train.epochs"},
        {TEMPLATE "train:\n  epochs: [1]\n", NULL, "expected an integer, found a list", 4, 11,
         "train.epochs"},
        {TEMPLATE "train:\n  epochs:\n", NULL, "expected an integer, found an empty value", 4, 10,
         "train.epochs"},
        {TEMPLATE "train:\n  lr: fast\n", NULL, "expected a number, found 'fast'", 4, 7,
         "train.lr"},
        {TEMPLATE "train:\n  lr: .nan\n", NULL, "expected a number, found '.nan'", 4, 7,
         "train.lr"},
        {TEMPLATE "train:\n  nesterov: maybe\n", NULL, "expected true or false, found 'maybe'", 4,
         13, "train.nesterov"},
        {TEMPLATE "train:\n  seed: -1\n", NULL, "expected a non-negative integer, found '-1'", 4, 9,
         "train.seed"},
        {TEMPLATE "train:\n  epochs: 99999999999\n", NULL, "'99999999999' is out of range", 4, 11,
         "train.epochs"},
        {"dataset: {name: synthetic, shape: abc, classes: 6}\n", NULL,
         "expected a list of integers, found 'abc'", 1, 35, "dataset.shape"},
        {"dataset: {name: synthetic, shape: [128, x], classes: 6}\n", NULL,
         "expected an integer, found 'x'", 1, 41, "dataset.shape[1]"},
        {TEMPLATE "train: 5\n", NULL, "expected a mapping, found '5'", 3, 8, "train"},
        {DATASET "model:\n  layers: {name: c1}\n", NULL,
         "expected a list of mappings, found a mapping", 3, 11, "model.layers"},
        {DATASET "model:\n  template: [resnetv1_6]\n", NULL, "expected a string, found a list", 3,
         13, "model.template"},
    };
    expect_errors("test_config_types", cases, sizeof cases / sizeof cases[0]);
}

static void test_error_layers(void **state)
{
    (void)state;
    const error_case cases[] = {
        {LAYERS "    - name: c1\n      type: conv3d\n", NULL,
         "unknown layer type 'conv3d' (expected one of: conv1d, conv2d, dense, maxpool1d,", 5, 13,
         "model.layers[0].type"},
        {LAYERS "    - {name: c1, type: conv1d, filters: 4, kernel: 3, depth_multiplier: 2}\n",
         NULL, "layer 'c1' (conv1d) does not take 'depth_multiplier'", 4, 55,
         "model.layers[0].depth_multiplier"},
        {LAYERS "    - {name: d, type: depthwise_conv1d, kernel: 3, depth_multiplier: 0}\n", NULL,
         "must be >= 1, found 0", 4, 70, "model.layers[0].depth_multiplier"},
        {LAYERS "    - {name: d, type: depthwise_conv1d, depth_multiplier: 2}\n", NULL,
         "layer 'd' (depthwise_conv1d) needs 'kernel'", 4, 7, "model.layers[0]"},
        {LAYERS "    - {name: c, type: concat}\n", NULL,
         "layer 'c' (concat) takes 2 to 4 inputs, found 1", 4, 7, "model.layers[0]"},
        {LAYERS "    - {name: a, type: dense, units: 2}\n"
                "    - {name: c, type: concat, inputs: [a, a, a, a, a]}\n",
         NULL, "layer 'c' (concat) takes 2 to 4 inputs, found 5", 5, 39, "model.layers[1].inputs"},
        {LAYERS "    - {name: r6, type: relu6, kernel: 3}\n", NULL,
         "layer 'r6' (relu6) does not take 'kernel' (it takes no hyperparameters)", 4, 31,
         "model.layers[0].kernel"},
        {LAYERS "    - name: relu1\n      type: relu\n      filters: 8\n", NULL,
         "layer 'relu1' (relu) does not take 'filters'", 6, 7, "model.layers[0].filters"},
        {LAYERS "    - name: c1\n      type: conv1d\n      filters: 8\n      kernel: 3\n"
                "      units: 4\n",
         NULL, "layer 'c1' (conv1d) does not take 'units' (it takes: filters, kernel, stride,", 8,
         7, "model.layers[0].units"},
        {LAYERS "    - {name: c1, type: conv1d, filters: 8, kernel: 3}\n"
                "    - {name: a1, type: add, inputs: [c1, nope]}\n",
         NULL, "layer 'a1': input 'nope' is not a layer of this model (known: input, c1)", 5, 42,
         "model.layers[1].inputs[1]"},
        {LAYERS "    - {name: c1, type: conv1d, filters: 8, kernel: 3, inputs: [c1]}\n", NULL,
         "layer 'c1' cannot take its own output", 4, 64, "model.layers[0].inputs[0]"},
        {LAYERS "    - {name: c1, type: conv1d, filters: 8, kernel: 3}\n"
                "    - {name: a1, type: add, inputs: [c1]}\n",
         NULL, "layer 'a1' (add) takes 2 to 4 inputs, found 1", 5, 37, "model.layers[1].inputs"},
        {LAYERS "    - name: c1\n      filters: 8\n", NULL, "layer 'c1' needs a type", 4, 7,
         "model.layers[0]"},
        {LAYERS "    - name: c1\n      type: conv1d\n      kernel: 3\n", NULL,
         "layer 'c1' (conv1d) needs 'filters'", 4, 7, "model.layers[0]"},
        {LAYERS "    - {name: c1, type: flatten}\n    - {name: c1, type: dense, units: 6}\n", NULL,
         "layer name 'c1' is used twice (first at line 4)", 5, 14, "model.layers[1].name"},
        {LAYERS "    - {name: 1c, type: flatten}\n", NULL, "layer name '1c' must be a C identifier",
         4, 14, "model.layers[0].name"},
        {LAYERS "    - {name: input, type: flatten}\n", NULL, "'input' names the model input", 4,
         14, "model.layers[0].name"},
        {DATASET "model:\n  template: resnetv1_6\n  width: 8\n  layers:\n"
                 "    - {type: flatten}\n",
         NULL, "give either 'template' or 'layers', not both", 5, 3, "model.layers"},
        {DATASET "train: {epochs: 1}\n", NULL, "the model needs either 'template'", 0, 0, "model"},
        {DATASET "model:\n  layers: []\n", NULL, "the model needs either 'template'", 2, 1,
         "model"},
        {DATASET "model:\n  template: resnet9\n  width: 8\n", NULL,
         "unknown template 'resnet9' (expected one of: resnetv1_6)", 3, 13, "model.template"},
        {DATASET "model:\n  template: resnetv1_6\n", NULL, "template 'resnetv1_6' needs a width", 2,
         1, "model.width"},
        {LAYERS "    - {type: flatten}\n  width: 8\n", NULL, "'width' applies to a template", 5, 3,
         "model.width"},
    };
    expect_errors("test_config_layers", cases, sizeof cases / sizeof cases[0]);
}

static void test_error_ranges(void **state)
{
    (void)state;
    const error_case cases[] = {
        {TEMPLATE "train:\n  epochs: 0\n", NULL, "must be >= 1, found 0", 4, 11, "train.epochs"},
        {TEMPLATE "train:\n  batch_size: 0\n", NULL, "must be >= 1, found 0", 4, 15,
         "train.batch_size"},
        {TEMPLATE "train:\n  lr: 0\n", NULL, "must be > 0, found 0", 4, 7, "train.lr"},
        {TEMPLATE "train:\n  lr: -0.1\n", NULL, "must be > 0, found -0.1", 4, 7, "train.lr"},
        {TEMPLATE "train:\n  momentum: 1.5\n", NULL, "must be in [0, 1), found 1.5", 4, 13,
         "train.momentum"},
        {TEMPLATE "train:\n  weight_decay: -1\n", NULL, "must be >= 0, found -1", 4, 17,
         "train.weight_decay"},
        {TEMPLATE "train:\n  eps: 0\n", NULL, "must be > 0, found 0", 4, 8, "train.eps"},
        {TEMPLATE "train:\n  threads: 0\n", NULL, "must be >= 1, found 0", 4, 12, "train.threads"},
        {TEMPLATE "train:\n  schedule: multistep\n  milestones: [200, 100]\n", NULL,
         "milestones must increase, but 100 follows 200", 5, 21, "train.milestones[1]"},
        {TEMPLATE "train:\n  schedule: multistep\n", NULL, "schedule multistep needs milestones", 3,
         1, "train.milestones"},
        {TEMPLATE "train:\n  schedule: cosine\n  lr: 0.01\n  min_lr: 0.1\n", NULL,
         "the cosine schedule's final lr (0.1) exceeds train.lr (0.01)", 6, 11, "train.min_lr"},
        {TEMPLATE "train:\n  output: ''\n", NULL, "the output path is empty", 4, 11,
         "train.output"},
        {LAYERS "    - {name: c1, type: conv1d, filters: 8, kernel: 0}\n", NULL,
         "must be >= 1, found 0", 4, 52, "model.layers[0].kernel"},
        {LAYERS "    - {name: c1, type: conv1d, filters: 0, kernel: 3}\n", NULL,
         "must be >= 1, found 0", 4, 41, "model.layers[0].filters"},
        {LAYERS "    - {name: c1, type: conv1d, filters: 8, kernel: 3, stride: -2}\n", NULL,
         "must be >= 1, found -2", 4, 63, "model.layers[0].stride"},
        {LAYERS "    - {name: c1, type: conv2d, filters: 8, kernel: [3, 0]}\n", NULL,
         "must be >= 1, found 0", 4, 56, "model.layers[0].kernel[1]"},
        {LAYERS "    - {name: c1, type: conv2d, filters: 8, kernel: [3, 2, 1]}\n", NULL,
         "expected 1 to 2 entries, found 3", 4, 52, "model.layers[0].kernel"},
        {LAYERS "    - {name: c1, type: conv2d, filters: 8, kernel: []}\n", NULL,
         "expected 1 to 2 entries, found 0", 4, 52, "model.layers[0].kernel"},
        {LAYERS "    - {name: c1, type: conv2d, filters: 8, kernel: [3, x]}\n", NULL,
         "expected an integer, found 'x'", 4, 56, "model.layers[0].kernel[1]"},
        {LAYERS "    - {name: c1, type: conv2d, filters: 8, kernel: 3}\n",
         "model.layers.c1.stride=[2, 5000]", "must be <= 1024, found 5000", 0, 0,
         "model.layers[0].stride[1]"},
        {LAYERS "    - name: d1\n      type: dropout\n      rate: 1.0\n", NULL,
         "must be in [0, 1), found 1", 6, 13, "model.layers[0].rate"},
        {LAYERS "    - {name: b1, type: batchnorm, epsilon: 0}\n", NULL, "must be > 0, found 0", 4,
         44, "model.layers[0].epsilon"},
        {DATASET "model: {template: resnetv1_6, width: 0}\n", NULL, "must be >= 1, found 0", 2, 38,
         "model.width"},
        {DATASET "model: {template: resnetv1_6, width: 8, dims: 3}\n", NULL,
         "must be 1 or 2, found 3", 2, 47, "model.dims"},
        {DATASET "model: {template: resnetv1_6, width: 8, input_shape: [128, 0]}\n", NULL,
         "must be in [1, 1048576], found 0", 2, 60, "model.input_shape[1]"},
        {DATASET "model: {template: resnetv1_6, width: 8, classes: 1}\n", NULL,
         "must be >= 2, found 1", 2, 50, "model.classes"},
        {"dataset: {name: synthetic, shape: [128, 9, 3, 2], classes: 6}\n" MODEL, NULL,
         "expected 1 to 3 dimensions", 1, 35, "dataset.shape"},
        {"dataset: {name: synthetic, shape: [128, 9], classes: 1}\n", NULL, "must be >= 2, found 1",
         1, 54, "dataset.classes"},
        {"dataset: {name: synthetic, shape: [128, 9], classes: 6, noise: -1}\n", NULL,
         "must be >= 0, found -1", 1, 64, "dataset.noise"},
        {"dataset: {name: synthetic, classes: 6}\n", NULL,
         "the synthetic dataset needs a sample shape", 1, 1, "dataset.shape"},
        {"dataset: {name: cifar}\n", NULL,
         "unknown dataset 'cifar' (expected one of: synthetic, uci-har, fsdd, gtsrb, mnist, png)",
         1, 17, "dataset.name"},
        {"train: {epochs: 1}\n", NULL, "the dataset needs a name", 0, 0, "dataset.name"},
    };
    expect_errors("test_config_ranges", cases, sizeof cases / sizeof cases[0]);
}

static void test_error_enums(void **state)
{
    (void)state;
    const error_case cases[] = {
        {TEMPLATE "train:\n  optimizer: rmsprop\n", NULL,
         "unknown value 'rmsprop' (expected one of: sgd, adam)", 4, 14, "train.optimizer"},
        {TEMPLATE "train:\n  schedule: linear\n", NULL,
         "unknown value 'linear' (expected one of: constant, multistep, cosine)", 4, 13,
         "train.schedule"},
        {TEMPLATE "train:\n  progress: fancy\n", NULL,
         "unknown value 'fancy' (expected one of: auto, bar, lines, none)", 4, 13,
         "train.progress"},
        {LAYERS "    - name: c1\n      type: conv1d\n      filters: 8\n      kernel: 3\n"
                "      padding: full\n",
         NULL, "unknown padding 'full' (expected same or valid)", 8, 16, "model.layers[0].padding"},
        {LAYERS "    - name: c1\n      type: conv1d\n      filters: 8\n      kernel: 3\n"
                "      activation: sigmoid\n",
         NULL, "unknown activation 'sigmoid' (expected relu, relu6 or none)", 8, 19,
         "model.layers[0].activation"},
    };
    expect_errors("test_config_enums", cases, sizeof cases / sizeof cases[0]);
}

/* "dataset:\n  name: <name>\n" then the given lines (from line 3), then the template model. */
#define DS(name, lines) "dataset:\n  name: " name "\n" lines MODEL

static void test_error_dataset_fields(void **state)
{
    (void)state;
    const error_case cases[] = {
        /* the generator's parameters */
        {DS("uci-har", "  shape: [128, 9]\n"), NULL,
         "'shape' is only for the synthetic and png datasets", 3, 3, "dataset.shape"},
        {DS("mnist", "  classes: 10\n"), NULL, "'classes' is only for the synthetic dataset", 3, 3,
         "dataset.classes"},
        {DS("gtsrb", "  train_samples: 100\n"), NULL,
         "'train_samples' is only for the synthetic dataset (to train on fewer samples, set "
         "train_limit)",
         3, 3, "dataset.train_samples"},
        {DS("fsdd", "  test_samples: 100\n"), NULL, "'test_samples' is only for the synthetic", 3,
         3, "dataset.test_samples"},
        {DS("uci-har", "  noise: 0.5\n"), NULL, "'noise' is only for the synthetic dataset", 3, 3,
         "dataset.noise"},
        {DS("png", "  path: imgs\n  shape: [8, 8, 1]\n  classes: 3\n"), NULL,
         "'classes' is only for the synthetic dataset", 5, 3, "dataset.classes"},
        /* paths */
        {DS("synthetic", "  shape: [8]\n  classes: 2\n  path: data\n"), NULL,
         "'path' does not apply to the synthetic dataset", 5, 3, "dataset.path"},
        {DS("png", "  shape: [32, 32, 3]\n"), NULL, "the png dataset needs a path", 1, 1,
         "dataset.path"},
        {DS("mnist", "  path: ''\n"), NULL, "the dataset path is empty", 3, 9, "dataset.path"},
        {DS("mnist", "  path: [a]\n"), NULL, "expected a string, found a list", 3, 9,
         "dataset.path"},
        /* png's shape */
        {DS("png", "  path: imgs\n"), NULL, "the png dataset needs the image shape", 1, 1,
         "dataset.shape"},
        {DS("png", "  path: imgs\n  shape: [32, 32]\n"), NULL,
         "the png dataset's shape is [height, width, channels], found 2 dimension(s)", 4, 10,
         "dataset.shape"},
        {DS("png", "  path: imgs\n  shape: [32, 32, 4]\n"), NULL,
         "png images have 1 (grey) or 3 (RGB) channels, found 4", 4, 19, "dataset.shape[2]"},
        {DS("png", "  path: imgs\n  shape: [32, 0, 3]\n"), NULL, "must be in [1, 1048576], found 0",
         4, 15, "dataset.shape[1]"},
        /* which dataset takes resize and mfcc */
        {DS("gtsrb", "  resize: true\n"), NULL,
         "'resize' applies only to the mnist and png datasets, not gtsrb", 3, 3, "dataset.resize"},
        {DS("synthetic", "  shape: [8]\n  classes: 2\n  resize: false\n"), NULL,
         "'resize' applies only to the mnist and png datasets, not synthetic", 5, 3,
         "dataset.resize"},
        {DS("uci-har", "  mfcc:\n    frames: 20\n"), NULL,
         "'mfcc' applies only to the fsdd dataset, not uci-har", 3, 3, "dataset.mfcc"},
        {DS("mnist", "  mfcc: {}\n"), NULL, "'mfcc' applies only to the fsdd dataset, not mnist", 3,
         3, "dataset.mfcc"},
        /* types and ranges */
        {DS("mnist", "  normalize: zscore\n"), NULL,
         "unknown value 'zscore' (expected one of: none, element, channel)", 3, 14,
         "dataset.normalize"},
        {DS("mnist", "  cache: maybe\n"), NULL, "expected true or false, found 'maybe'", 3, 10,
         "dataset.cache"},
        {DS("mnist", "  cache_dir: ''\n"), NULL, "the cache folder is empty", 3, 14,
         "dataset.cache_dir"},
        {DS("synthetic", "  shape: [8]\n  classes: 2\n  cache: false\n  cache_dir: ''\n"), NULL,
         "the cache folder is empty", 6, 14, "dataset.cache_dir"},
        {DS("mnist", "  validation: 1\n"), NULL, "must be in [0, 1), found 1", 3, 15,
         "dataset.validation"},
        {DS("mnist", "  validation: -0.1\n"), NULL, "must be in [0, 1), found -0.1", 3, 15,
         "dataset.validation"},
        {DS("mnist", "  train_limit: -1\n"), NULL, "must be >= 0, found -1", 3, 16,
         "dataset.train_limit"},
        {DS("mnist", "  test_limit: -5\n"), NULL, "must be >= 0, found -5", 3, 15,
         "dataset.test_limit"},
        {DS("mnist", "  train_limit: 1.5\n"), NULL, "expected an integer, found '1.5'", 3, 16,
         "dataset.train_limit"},
        {TEMPLATE "train:\n  mixup_alpha: -0.5\n", NULL, "must be >= 0, found -0.5", 4, 16,
         "train.mixup_alpha"},
        {TEMPLATE "train:\n  mixup_alpha: lots\n", NULL, "expected a number, found 'lots'", 4, 16,
         "train.mixup_alpha"},
        /* mfcc */
        {DS("fsdd", "  mfcc: 5\n"), NULL, "expected a mapping, found '5'", 3, 9, "dataset.mfcc"},
        {DS("fsdd", "  mfcc:\n    frame: 20\n"), NULL,
         "unknown key 'frame' in dataset.mfcc (expected one of: frame_ms, shift_ms, filters, "
         "coefficients, frames, preemphasis, fft_size, layout)",
         4, 5, "dataset.mfcc.frame"},
        {DS("fsdd", "  mfcc:\n    frame_ms: 0\n"), NULL, "must be > 0, found 0", 4, 15,
         "dataset.mfcc.frame_ms"},
        {DS("fsdd", "  mfcc:\n    frame_ms: 20000\n"), NULL, "must be <= 10000 ms, found 20000", 4,
         15, "dataset.mfcc.frame_ms"},
        {DS("fsdd", "  mfcc:\n    shift_ms: -1\n"), NULL, "must be > 0, found -1", 4, 15,
         "dataset.mfcc.shift_ms"},
        {DS("fsdd", "  mfcc:\n    shift_ms: 0.1\n"), NULL,
         "must be >= 0.125 ms (one sample at 8000 Hz), found 0.1", 4, 15, "dataset.mfcc.shift_ms"},
        {DS("fsdd", "  mfcc:\n    filters: 0\n"), NULL, "must be >= 1, found 0", 4, 14,
         "dataset.mfcc.filters"},
        {DS("fsdd", "  mfcc:\n    coefficients: 0\n"), NULL, "must be >= 1, found 0", 4, 19,
         "dataset.mfcc.coefficients"},
        {DS("fsdd", "  mfcc:\n    coefficients: 30\n"), NULL,
         "coefficients (30) must be <= filters (26)", 4, 19, "dataset.mfcc.coefficients"},
        {DS("fsdd", "  mfcc:\n    filters: 10\n"), NULL,
         "coefficients (13) must be <= filters (10)", 4, 14, "dataset.mfcc.filters"},
        {DS("fsdd", "  mfcc:\n    frames: 0\n"), NULL, "must be >= 1, found 0", 4, 13,
         "dataset.mfcc.frames"},
        {DS("fsdd", "  mfcc:\n    preemphasis: 1\n"), NULL, "must be in [0, 1), found 1", 4, 18,
         "dataset.mfcc.preemphasis"},
        {DS("fsdd", "  mfcc:\n    fft_size: 300\n"), NULL,
         "must be 0 (the next power of two >= the window) or a power of two, found 300", 4, 15,
         "dataset.mfcc.fft_size"},
        {DS("fsdd", "  mfcc:\n    fft_size: -512\n"), NULL, "or a power of two, found -512", 4, 15,
         "dataset.mfcc.fft_size"},
        {DS("fsdd", "  mfcc:\n    fft_size: 256\n"), NULL,
         "must be >= the window length (400 samples = 50 ms at 8000 Hz), found 256", 4, 15,
         "dataset.mfcc.fft_size"},
        /* overrides */
        {DS("mnist", ""), "dataset.mfcc.frames=20",
         "override 'dataset.mfcc.frames=20': 'mfcc' applies only to the fsdd dataset, not mnist", 0,
         0, "dataset.mfcc.frames"},
        {DS("mnist", ""), "dataset.normalize=zscore",
         "override 'dataset.normalize=zscore': unknown value 'zscore' (expected one of: none, "
         "element, channel)",
         0, 0, "dataset.normalize"},
        {TEMPLATE, "train.mixup_alpha=-1",
         "override 'train.mixup_alpha=-1': must be >= 0, found -1", 0, 0, "train.mixup_alpha"},
        {TEMPLATE, "dataset.path=data",
         "override 'dataset.path=data': 'path' does not apply to the synthetic dataset", 0, 0,
         "dataset.path"},
        {DS("fsdd", ""), "dataset.mfcc.fft_size=128",
         "override 'dataset.mfcc.fft_size=128': must be >= the window length", 0, 0,
         "dataset.mfcc.fft_size"},
        {DS("fsdd", ""), "dataset.mfcc.frame=3",
         "override 'dataset.mfcc.frame=3': unknown key 'frame' in dataset.mfcc", 0, 0,
         "dataset.mfcc.frame"},
        {DS("png", "  shape: [8, 8, 3]\n"), "dataset.path=",
         "override 'dataset.path=': the dataset path is empty", 0, 0, "dataset.path"},
    };
    expect_errors("test_config_dataset_errors", cases, sizeof cases / sizeof cases[0]);

    /* an override of the name makes a field of the file wrong: the error points at the file */
    const char *dir = tu_tmpdir("test_config_dataset_errors");
    const char *path = tu_write_file(dir, "renamed.yaml", DS("fsdd", "  mfcc: {frames: 20}\n"));
    char *rename[] = {"dataset.name=mnist"};
    mf_config *c = NULL;
    mf_error err;
    assert_int_equal(mf_config_load(path, rename, 1, &c, &err), MF_ERR);
    assert_null(c);
    assert_non_null(strstr(err.message, "'mfcc' applies only to the fsdd dataset, not mnist"));
    assert_string_equal(err.file, path);
    assert_int_equal(err.line, 3);
    assert_int_equal(err.column, 3);
    assert_string_equal(err.field, "dataset.mfcc");
}

static void test_error_overrides(void **state)
{
    (void)state;
    const error_case cases[] = {
        {TEMPLATE, "train.epochs=abc", "override 'train.epochs=abc': expected an integer", 0, 0,
         "train.epochs"},
        {TEMPLATE, "train.epoch=3",
         "override 'train.epoch=3': unknown key 'epoch' in train (expected one of: epochs,", 0, 0,
         "train.epoch"},
        {TEMPLATE, "trian.epochs=3", "override 'trian.epochs=3': unknown section 'trian'", 0, 0,
         "trian"},
        {TEMPLATE, "train.epochs", "override 'train.epochs': expected key=value", 0, 0, ""},
        {TEMPLATE, "train.epochs=0", "override 'train.epochs=0': must be >= 1, found 0", 0, 0,
         "train.epochs"},
        {TEMPLATE, "train.optimizer=rmsprop",
         "override 'train.optimizer=rmsprop': unknown value 'rmsprop' (expected one of: sgd, "
         "adam)",
         0, 0, "train.optimizer"},
        {TEMPLATE, "dataset.shape=abc",
         "override 'dataset.shape=abc': expected a list of integers, found 'abc'", 0, 0,
         "dataset.shape"},
        {TEMPLATE, "train.milestones=[1, x]",
         "override 'train.milestones=[1, x]': expected an integer, found 'x'", 0, 0,
         "train.milestones[1]"},
        {TEMPLATE, "train.epochs.max=3",
         "override 'train.epochs.max=3': train.epochs is an integer; it has no key 'max'", 0, 0,
         "train.epochs"},
        {TEMPLATE, "train.lr=[0.1", "override 'train.lr=[0.1': the value is not valid YAML", 0, 0,
         "train.lr"},
        {residual_yaml, "model.layers.conv9.filters=4",
         "override 'model.layers.conv9.filters=4': model.layers has no entry named 'conv9' "
         "(names: conv1, conv2, add1, global_maxpool_3, flatten_4, out)",
         0, 0, "model.layers"},
        {residual_yaml, "model.layers[9].filters=4",
         "model.layers has 6 entries; there is no index 9", 0, 0, "model.layers"},
        {residual_yaml, "model.layers[3].filters=4",
         "override 'model.layers[3].filters=4': layer 'global_maxpool_3' (global_maxpool) does "
         "not take 'filters'",
         0, 0, "model.layers[3].filters"},
        {residual_yaml, "model.layers.add1.inputs=[conv1, nope]",
         "override 'model.layers.add1.inputs=[conv1, nope]': layer 'add1': input 'nope' is not "
         "a layer",
         0, 0, "model.layers[2].inputs[1]"},
        {residual_yaml, "model.layers.conv1={filter: 3}",
         "override 'model.layers.conv1={filter: 3}': unknown key 'filter' in model.layers[0]", 0, 0,
         "model.layers[0].filter"},
    };
    expect_errors("test_config_override_errors", cases, sizeof cases / sizeof cases[0]);
}

/* ---- the quantize section ---- */

static void assert_quantize_defaults(const mf_quantize_config *q)
{
    assert_int_equal(q->method, MF_QUANT_PTQ);
    assert_int_equal(q->epochs, 3);
    assert_true(q->lr == 0.0f);
    assert_false(q->per_channel);
    assert_int_equal(q->rounding, MF_RT_ROUND_HALF_UP);
    assert_int_equal(q->range_mse, 0);
    assert_int_equal(q->force_n, -1);
    assert_int_equal(q->calibration, 0);
}

static void test_quantize_section(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("test_config_quantize");
    /* absent: not present, the fields still hold their defaults */
    mf_config *c = load_text(dir, "plain.yaml", template_yaml, NULL, 0);
    assert_false(c->quantize.present);
    assert_int_equal(c->quantize.bits, 0);
    assert_quantize_defaults(&c->quantize);
    mf_config_free(c);

    /* only bits: the rest are defaults */
    c = load_text(dir, "q8.yaml", TEMPLATE "quantize:\n  bits: 8\n", NULL, 0);
    assert_true(c->quantize.present);
    assert_int_equal(c->quantize.bits, 8);
    assert_quantize_defaults(&c->quantize);
    mf_config_free(c);

    /* every field */
    c = load_text(dir, "qat.yaml",
                  TEMPLATE "quantize:\n"
                           "  bits: 16\n"
                           "  method: qat\n"
                           "  epochs: 5\n"
                           "  lr: 0.002\n"
                           "  per_channel: true\n"
                           "  rounding: floor\n"
                           "  range: mse\n"
                           "  force_n: 9\n"
                           "  calibration: 512\n",
                  NULL, 0);
    const mf_quantize_config *q = &c->quantize;
    assert_true(q->present);
    assert_int_equal(q->bits, 16);
    assert_int_equal(q->method, MF_QUANT_QAT);
    assert_int_equal(q->epochs, 5);
    assert_true(q->lr == 0.002f);
    assert_true(q->per_channel);
    assert_int_equal(q->rounding, MF_RT_ROUND_FLOOR);
    assert_int_equal(q->range_mse, 1);
    assert_int_equal(q->force_n, 9);
    assert_int_equal(q->calibration, 512);
    mf_config_free(c);

    /* the ends of the ranges; 0 for lr means the default */
    c = load_text(dir, "ends.yaml",
                  TEMPLATE "quantize: {bits: 8, method: qat, epochs: 1, lr: 0, force_n: 40, "
                           "calibration: 0, per_channel: no}\n",
                  NULL, 0);
    assert_int_equal(c->quantize.epochs, 1);
    assert_true(c->quantize.lr == 0.0f);
    assert_int_equal(c->quantize.force_n, 40);
    mf_config_free(c);
    c = load_text(dir, "ends.yaml", TEMPLATE "quantize: {bits: 8, force_n: -1, method: ptq}\n",
                  NULL, 0);
    assert_int_equal(c->quantize.force_n, -1);
    mf_config_free(c);

    /* commands that only need data accept the section (with or without model and train) */
    const char *texts[] = {
        TEMPLATE "quantize:\n  bits: 8\n  method: qat\n  epochs: 2\n",
        DATASET "quantize: {bits: 16, rounding: floor}\n",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        mf_error err;
        c = NULL;
        assert_int_equal(
            mf_config_load_text(texts[i], "embedded", NULL, 0, MF_CONFIG_DATASET_ONLY, &c, &err),
            MF_OK);
        assert_true(c->quantize.present);
        assert_int_equal(c->quantize.bits, i == 0 ? 8 : 16);
        mf_config_free(c);
    }
}

static void test_quantize_overrides(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("test_config_quantize_overrides");
    /* one key creates the section */
    char *create[] = {"quantize.bits=8"};
    mf_config *c = load_text(dir, "plain.yaml", template_yaml, create, 1);
    assert_true(c->quantize.present);
    assert_int_equal(c->quantize.bits, 8);
    assert_quantize_defaults(&c->quantize);
    mf_config_free(c);

    /* so does a mapping, and keys after it change it */
    char *mapping[] = {"quantize={bits: 16, method: qat}", "quantize.epochs=2", "quantize.lr=1e-3"};
    c = load_text(dir, "plain.yaml", template_yaml, mapping, 3);
    assert_true(c->quantize.present);
    assert_int_equal(c->quantize.bits, 16);
    assert_int_equal(c->quantize.method, MF_QUANT_QAT);
    assert_int_equal(c->quantize.epochs, 2);
    assert_true(c->quantize.lr == 1e-3f);
    mf_config_free(c);

    /* the section created by a later key: the first override was not in it */
    char *later[] = {"train.epochs=2", "quantize.method=qat", "quantize.bits=16"};
    c = load_text(dir, "plain.yaml", template_yaml, later, 3);
    assert_true(c->quantize.present);
    assert_int_equal(c->quantize.method, MF_QUANT_QAT);
    assert_int_equal(c->train.epochs, 2);
    mf_config_free(c);

    /* other overrides do not create it */
    char *other[] = {"train.epochs=2", "model.width=16"};
    c = load_text(dir, "plain.yaml", template_yaml, other, 2);
    assert_false(c->quantize.present);
    mf_config_free(c);

    /* every field of a section in the file */
    char *change[] = {
        "quantize.bits=16",    "quantize.method=qat",       "quantize.epochs=4",
        "quantize.lr=0.01",    "quantize.per_channel=true", "quantize.rounding=floor",
        "quantize.force_n=12", "quantize.calibration=100",  "quantize.range=mse",
    };
    int n = (int)(sizeof change / sizeof change[0]);
    c = load_text(dir, "q.yaml", TEMPLATE "quantize:\n  bits: 8\n", change, n);
    const mf_quantize_config *q = &c->quantize;
    assert_true(q->present);
    assert_int_equal(q->bits, 16);
    assert_int_equal(q->method, MF_QUANT_QAT);
    assert_int_equal(q->epochs, 4);
    assert_true(q->lr == 0.01f);
    assert_true(q->per_channel);
    assert_int_equal(q->rounding, MF_RT_ROUND_FLOOR);
    assert_int_equal(q->range_mse, 1);
    assert_int_equal(q->force_n, 12);
    assert_int_equal(q->calibration, 100);
    mf_config_free(c);

    /* a mapping merges into the file's section */
    char *merge[] = {"quantize={method: qat, epochs: 6}"};
    c = load_text(dir, "q.yaml", TEMPLATE "quantize:\n  bits: 8\n  rounding: floor\n", merge, 1);
    assert_int_equal(c->quantize.bits, 8);
    assert_int_equal(c->quantize.rounding, MF_RT_ROUND_FLOOR);
    assert_int_equal(c->quantize.method, MF_QUANT_QAT);
    assert_int_equal(c->quantize.epochs, 6);
    mf_config_free(c);

    /* the override that makes the file's epochs wrong: the error points at the file */
    const char *path = tu_write_file(dir, "qat.yaml",
                                     TEMPLATE "quantize:\n  bits: 8\n  method: qat\n  epochs: 5\n");
    char *to_ptq[] = {"quantize.method=ptq"};
    mf_error err;
    c = NULL;
    assert_int_equal(mf_config_load(path, to_ptq, 1, &c, &err), MF_ERR);
    assert_null(c);
    assert_non_null(strstr(err.message, "'epochs' applies only to method qat (quantization-aware "
                                        "training), not ptq"));
    assert_string_equal(err.file, path);
    assert_int_equal(err.line, 6);
    assert_int_equal(err.column, 3);
    assert_string_equal(err.field, "quantize.epochs");
}

/* The text after "quantize:" in a dump ("" if none). */
static const char *quantize_part(const char *text)
{
    const char *q = strstr(text, "\nquantize:");
    return q ? q : "";
}

static void test_quantize_dump(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("test_config_quantize_dump");
    static const struct {
        const char *section;    /* appended to TEMPLATE */
        const char *over[2];    /* overrides of the first load */
        const char *written[4]; /* must be in the quantize part of the dump */
        const char *absent[2];  /* must not be */
    } cases[] = {
        {"", {NULL, NULL}, {NULL, NULL, NULL, NULL}, {NULL, NULL}},
        {"quantize:\n  bits: 8\n",
         {NULL, NULL},
         {"bits: 8", "method: ptq", "range: max"},
         {"epochs", "lr"}},
        {"quantize:\n  bits: 16\n  per_channel: true\n  force_n: 9\n  calibration: 64\n",
         {"quantize.rounding=floor", "quantize.range=mse"},
         {"per_channel: true", "force_n: 9", "rounding: floor", "range: mse"},
         {"epochs", "lr:"}},
        {"quantize: {bits: 8, method: qat, epochs: 4, lr: 0.005}\n",
         {NULL, NULL},
         {"method: qat", "epochs: 4", "lr: 0.005"},
         {NULL, NULL}},
        {"quantize: {bits: 8, method: qat}\n", /* qat with the default lr and epochs */
         {NULL, NULL},
         {"epochs: 3", "lr: 0", "force_n: -1"},
         {NULL, NULL}},
        {"", /* created by overrides */
         {"quantize.bits=16", "quantize.method=qat"},
         {"bits: 16", "method: qat", "calibration: 0"},
         {NULL, NULL}},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char yaml[1024], *over[2];
        snprintf(yaml, sizeof yaml, "%s%s", TEMPLATE, cases[k].section);
        int n = 0;
        for (int i = 0; i < 2 && cases[k].over[i]; i++)
            over[n++] = (char *)cases[k].over[i];
        mf_config *a = load_text(dir, "first.yaml", yaml, over, n);
        mf_error err;
        char *text = mf_config_dump(a, &err);
        assert_non_null(text);
        const char *part = quantize_part(text);
        if (!a->quantize.present) {
            assert_null(strstr(text, "quantize"));
        } else {
            assert_true(part[0] != '\0');
            for (int i = 0; i < 4; i++) {
                if (cases[k].written[i] && !strstr(part, cases[k].written[i]))
                    fprintf(stderr, "case %zu: '%s' is not in the dump:\n%s", k,
                            cases[k].written[i], text);
                if (cases[k].written[i]) assert_non_null(strstr(part, cases[k].written[i]));
            }
            for (int i = 0; i < 2; i++) {
                if (cases[k].absent[i] && strstr(part, cases[k].absent[i]))
                    fprintf(stderr, "case %zu: '%s' is in the dump:\n%s", k, cases[k].absent[i],
                            text);
                if (cases[k].absent[i]) assert_null(strstr(part, cases[k].absent[i]));
            }
        }
        mf_config *b = load_text(dir, "second.yaml", text, NULL, 0);
        char *again = mf_config_dump(b, &err);
        assert_non_null(again);
        assert_string_equal(text, again);
        const mf_quantize_config *qa = &a->quantize, *qb = &b->quantize;
        assert_int_equal(qa->present, qb->present);
        assert_int_equal(qa->bits, qb->bits);
        assert_int_equal(qa->method, qb->method);
        assert_int_equal(qa->epochs, qb->epochs);
        assert_true(qa->lr == qb->lr);
        assert_int_equal(qa->per_channel, qb->per_channel);
        assert_int_equal(qa->rounding, qb->rounding);
        assert_int_equal(qa->range_mse, qb->range_mse);
        assert_int_equal(qa->force_n, qb->force_n);
        assert_int_equal(qa->calibration, qb->calibration);
        /* the embedded config of a model loads for data-only commands */
        mf_config *e = NULL;
        assert_int_equal(
            mf_config_load_text(text, "embedded", NULL, 0, MF_CONFIG_DATASET_ONLY, &e, &err),
            MF_OK);
        assert_int_equal(e->quantize.present, qa->present);
        mf_config_free(e);
        free(text);
        free(again);
        mf_config_free(a);
        mf_config_free(b);
    }
}

/* line 3 is "quantize:", its keys from line 4 */
#define QUANTIZE TEMPLATE "quantize:\n"

/* line 3 is "deploy:", its keys from line 4 */
#define DEPLOY TEMPLATE "deploy:\n"

static void test_error_deploy(void **state)
{
    (void)state;
    const error_case cases[] = {
        {DEPLOY "  vector: 5\n", NULL,
         "unknown key 'vector' in deploy (expected one of: out, vectors, all_test, stream, run, "
         "opt, timeout, objective, flash_budget, instruction_budget)",
         4, 3, "deploy.vector"},
        {DEPLOY "  vectors: 0\n", NULL, "must be >= 1, found 0", 4, 12, "deploy.vectors"},
        {DEPLOY "  vectors: 5\n  all_test: true\n", NULL, "vectors and all_test exclude each other",
         4, 3, "deploy.vectors"},
        {DEPLOY "  timeout: 0\n", NULL, "must be >= 1, found 0", 4, 12, "deploy.timeout"},
        {DEPLOY "  out: ''\n", NULL, "the firmware folder is empty", 4, 8, "deploy.out"},
        {DEPLOY "  run: sometimes\n", NULL, "expected true or false, found 'sometimes'", 4, 8,
         "deploy.run"},
        {TEMPLATE, "deploy.vectors=-2", "must be >= 1, found -2", 0, 0, "deploy.vectors"},
        {DEPLOY "  objective: speed\n", NULL, "'speed'", 4, 14, "deploy.objective"},
        {DEPLOY "  flash_budget: 2000000\n", NULL, "must be <= 1048576, found 2000000", 4, 17,
         "deploy.flash_budget"},
        {DEPLOY "  instruction_budget: -5\n", NULL, "must be >= 0, found -5", 4, 23,
         "deploy.instruction_budget"},
        {DEPLOY "  run: false\n  instruction_budget: 400000\n", NULL,
         "an instruction budget needs run: true", 5, 3, "deploy.instruction_budget"},
    };
    expect_errors("test_config_deploy_errors", cases, sizeof cases / sizeof cases[0]);
    /* the section's defaults, and its absence */
    const char *dir = tu_tmpdir("test_config_deploy");
    mf_config *c = NULL;
    mf_error err;
    assert_int_equal(
        mf_config_load(tu_write_file(dir, "a.yaml", DEPLOY "  stream: true\n"), NULL, 0, &c, &err),
        MF_OK);
    assert_true(c->deploy.present && c->deploy.stream && c->deploy.run);
    assert_int_equal(c->deploy.vectors, 20);
    assert_int_equal(c->deploy.timeout, 120);
    assert_null(c->deploy.out);
    assert_int_equal(c->deploy.objective, 0); /* instructions */
    assert_int_equal(c->deploy.flash_budget, 0);
    mf_config_free(c);
    assert_int_equal(
        mf_config_load(
            tu_write_file(dir, "o.yaml", DEPLOY "  objective: flash\n  flash_budget: 14336\n"),
            NULL, 0, &c, &err),
        MF_OK);
    assert_int_equal(c->deploy.objective, 1);
    assert_int_equal(c->deploy.flash_budget, 14336);
    mf_config_free(c);
    assert_int_equal(mf_config_load(tu_write_file(dir, "b.yaml", TEMPLATE), NULL, 0, &c, &err),
                     MF_OK);
    assert_false(c->deploy.present);
    mf_config_free(c);
}

static void test_error_quantize(void **state)
{
    (void)state;
    const error_case cases[] = {
        /* keys and types */
        {TEMPLATE "quantise:\n  bits: 8\n", NULL,
         "unknown section 'quantise' (expected one of: dataset, model, train, quantize, prune, "
         "deploy)",
         3, 1, "quantise"},
        {QUANTIZE "  bits: 8\n  bit: 8\n", NULL,
         "unknown key 'bit' in quantize (expected one of: bits, method, epochs, lr, per_channel, "
         "rounding, range, force_n, calibration)",
         5, 3, "quantize.bit"},
        {QUANTIZE "  bits: 8\n  bits: 16\n", NULL,
         "'bits' is given twice in quantize (first at line 4)", 5, 3, "quantize.bits"},
        {TEMPLATE "quantize: 8\n", NULL, "expected a mapping, found '8'", 3, 11, "quantize"},
        {TEMPLATE "quantize:\n", NULL, "expected a mapping, found an empty value", 3, 10,
         "quantize"},
        {QUANTIZE "  bits: eight\n", NULL, "expected an integer, found 'eight'", 4, 9,
         "quantize.bits"},
        {QUANTIZE "  bits: 8\n  epochs: 2.5\n  method: qat\n", NULL,
         "expected an integer, found '2.5'", 5, 11, "quantize.epochs"},
        {QUANTIZE "  bits: 8\n  method: qat\n  lr: fast\n", NULL, "expected a number, found 'fast'",
         6, 7, "quantize.lr"},
        {QUANTIZE "  bits: 8\n  per_channel: maybe\n", NULL,
         "expected true or false, found 'maybe'", 5, 16, "quantize.per_channel"},
        {QUANTIZE "  bits: 8\n  force_n: [9]\n", NULL, "expected an integer, found a list", 5, 12,
         "quantize.force_n"},
        {QUANTIZE "  bits: 8\n  calibration: all\n", NULL, "expected an integer, found 'all'", 5,
         16, "quantize.calibration"},
        /* enums */
        {QUANTIZE "  bits: 8\n  method: int8\n", NULL,
         "unknown value 'int8' (expected one of: ptq, qat)", 5, 11, "quantize.method"},
        {QUANTIZE "  bits: 8\n  rounding: nearest\n", NULL,
         "unknown value 'nearest' (expected one of: half-up, floor)", 5, 13, "quantize.rounding"},
        {QUANTIZE "  bits: 8\n  range: minmax\n", NULL,
         "unknown value 'minmax' (expected one of: max, mse)", 5, 10, "quantize.range"},
        /* bits */
        {QUANTIZE "  method: qat\n", NULL,
         "the quantize section needs bits (8 or 16), e.g. bits: 8", 3, 1, "quantize.bits"},
        {TEMPLATE "quantize: {}\n", NULL, "the quantize section needs bits (8 or 16)", 3, 1,
         "quantize.bits"},
        {QUANTIZE "  bits: 12\n", NULL, "must be 8 or 16, found 12", 4, 9, "quantize.bits"},
        {TEMPLATE "quantize: {bits: 0}\n", NULL, "must be 8 or 16, found 0", 3, 18,
         "quantize.bits"},
        /* what applies to qat only */
        {QUANTIZE "  bits: 8\n  epochs: 5\n", NULL,
         "'epochs' applies only to method qat (quantization-aware training), not ptq", 5, 3,
         "quantize.epochs"},
        {QUANTIZE "  bits: 8\n  method: ptq\n  lr: 0.01\n", NULL,
         "'lr' applies only to method qat (quantization-aware training), not ptq", 6, 3,
         "quantize.lr"},
        {QUANTIZE "  bits: 8\n  lr: 0\n", NULL, "'lr' applies only to method qat", 5, 3,
         "quantize.lr"},
        /* ranges */
        {QUANTIZE "  bits: 8\n  method: qat\n  epochs: 0\n", NULL, "must be >= 1, found 0", 6, 11,
         "quantize.epochs"},
        {QUANTIZE "  bits: 8\n  method: qat\n  lr: -0.1\n", NULL,
         "must be > 0 (or 0 for train's last learning rate), found -0.1", 6, 7, "quantize.lr"},
        {QUANTIZE "  bits: 8\n  force_n: 41\n", NULL,
         "must be in [-1, 40] (-1: formats from the calibrated ranges), found 41", 5, 12,
         "quantize.force_n"},
        {QUANTIZE "  bits: 16\n  force_n: -2\n", NULL, "must be in [-1, 40]", 5, 12,
         "quantize.force_n"},
        {QUANTIZE "  bits: 8\n  calibration: -1\n", NULL, "must be >= 0, found -1", 5, 16,
         "quantize.calibration"},
        /* overrides */
        {TEMPLATE, "quantize.method=qat",
         "override 'quantize.method=qat': the quantize section needs bits (8 or 16), e.g. "
         "quantize.bits=8",
         0, 0, "quantize.bits"},
        {TEMPLATE, "quantize={}", "override 'quantize={}': the quantize section needs bits", 0, 0,
         "quantize.bits"},
        {TEMPLATE, "quantize.bits=4", "override 'quantize.bits=4': must be 8 or 16, found 4", 0, 0,
         "quantize.bits"},
        {TEMPLATE, "quantize.bit=8",
         "override 'quantize.bit=8': unknown key 'bit' in quantize (expected one of: bits, "
         "method,",
         0, 0, "quantize.bit"},
        {TEMPLATE, "quantise.bits=8",
         "override 'quantise.bits=8': unknown section 'quantise' (expected one of: dataset, "
         "model, train, quantize, prune, deploy)",
         0, 0, "quantise"},
        {TEMPLATE, "quantize=8", "override 'quantize=8': expected a mapping, found '8'", 0, 0,
         "quantize"},
        {TEMPLATE "quantize: {bits: 8}\n", "quantize.epochs=2",
         "override 'quantize.epochs=2': 'epochs' applies only to method qat", 0, 0,
         "quantize.epochs"},
        {TEMPLATE "quantize: {bits: 8}\n", "quantize.rounding=up",
         "override 'quantize.rounding=up': unknown value 'up' (expected one of: half-up, floor)", 0,
         0, "quantize.rounding"},
        {TEMPLATE "quantize: {bits: 8, method: qat}\n", "quantize.lr=-1",
         "override 'quantize.lr=-1': must be > 0 (or 0 for train's last learning rate), found -1",
         0, 0, "quantize.lr"},
        {TEMPLATE "quantize: {bits: 8}\n", "quantize.force_n=99",
         "override 'quantize.force_n=99': must be in [-1, 40]", 0, 0, "quantize.force_n"},
        {TEMPLATE "quantize: {bits: 8}\n", "quantize.per_channel=2",
         "override 'quantize.per_channel=2': expected true or false, found '2'", 0, 0,
         "quantize.per_channel"},
    };
    expect_errors("test_config_quantize_errors", cases, sizeof cases / sizeof cases[0]);
}

/* The prune section: absent by default; given in the file or created by an override, with its
 * defaults; errors at the line and column of the value (or naming the override). */
static void test_prune_section(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("test_config_prune");
    mf_config *c = load_text(dir, "a.yaml", TEMPLATE, NULL, 0);
    assert_false(c->prune.present);
    mf_config_free(c);
    c = load_text(dir, "b.yaml",
                  TEMPLATE "prune:\n  sparsity: 0.875\n  per_layer: true\n  exclude: [conv1, fc]\n",
                  NULL, 0);
    assert_true(c->prune.present);
    assert_true(fabsf(c->prune.sparsity - 0.875f) < 1e-6f);
    assert_int_equal(c->prune.epochs, 4);
    assert_int_equal(c->prune.ramp_epochs, 0);
    assert_true(c->prune.per_layer);
    assert_int_equal(c->prune.exclude_count, 2);
    assert_string_equal(c->prune.exclude[1], "fc");
    assert_int_equal(c->prune.layers_count, 0);
    mf_config_free(c);
    c = load_text(dir, "l.yaml",
                  TEMPLATE
                  "prune:\n  sparsity: 0.9\n  layers:\n    - {name: conv1, sparsity: 0.5}\n"
                  "    - {name: fc, sparsity: 0.95}\n",
                  NULL, 0);
    assert_int_equal(c->prune.layers_count, 2);
    assert_string_equal(c->prune.layers[1].name, "fc");
    assert_true(fabsf(c->prune.layers[0].sparsity - 0.5f) < 1e-6f);
    mf_config_free(c);
    char *create[] = {"prune.sparsity=0.5", "prune.epochs=0"};
    c = load_text(dir, "c.yaml", TEMPLATE, create, 2);
    assert_true(c->prune.present);
    assert_int_equal(c->prune.epochs, 0);
    mf_config_free(c);
}

#define PRUNE TEMPLATE "prune:\n"
static void test_error_prune(void **state)
{
    (void)state;
    const error_case cases[] = {
        {PRUNE "  epochs: 2\n", NULL, "the prune section needs sparsity (0 to 0.99)", 3, 1,
         "prune.sparsity"},
        {PRUNE "  sparsity: 1.5\n", NULL, "must be in [0, 0.99], found 1.5", 4, 13,
         "prune.sparsity"},
        {PRUNE "  sparsity: 0.5\n  initial: 0.6\n", NULL, "must be in [0, sparsity = 0.5]", 5, 12,
         "prune.initial"},
        {PRUNE "  sparsity: 0.5\n  epochs: 2\n  ramp_epochs: 3\n", NULL, "found 3", 6, 16,
         "prune.ramp_epochs"},
        {PRUNE "  sparsity: 0.5\n  every: -1\n", NULL, "must be >= 0, found -1", 5, 10,
         "prune.every"},
        {PRUNE "  sparsity: 0.5\n  exclude: [conv1, \"\"]\n", NULL, "an empty layer name", 5, 20,
         "prune.exclude[1]"},
        {PRUNE "  sparsity: half\n", NULL, "expected a number, found 'half'", 4, 13,
         "prune.sparsity"},
        {PRUNE "  sparsity: 0.5\n  layers: [{sparsity: 0.9}]\n", NULL, "name the layer", 5, 12,
         "prune.layers[0]"},
        {PRUNE "  sparsity: 0.5\n  layers: [{name: fc}]\n", NULL, "give the layer's sparsity", 5,
         12, "prune.layers[0]"},
        {PRUNE "  sparsity: 0.5\n  layers:\n    - {name: fc, sparsity: 1.2}\n", NULL,
         "must be in [initial = 0, 0.99], found 1.2", 6, 28, "prune.layers[0].sparsity"},
        {PRUNE
         "  sparsity: 0.5\n  layers: [{name: fc, sparsity: 0.6}, {name: fc, sparsity: 0.7}]\n",
         NULL, "layer 'fc' is given a sparsity twice (also prune.layers[0])", 5, 46,
         "prune.layers[1].name"},
        {PRUNE "  sparsity: 0.5\n  exclude: [fc]\n  layers: [{name: fc, sparsity: 0.6}]\n", NULL,
         "layer 'fc' is both excluded (prune.exclude[0]) and given a sparsity", 6, 19,
         "prune.layers[0].name"},
        {PRUNE "  sparsity: 0.5\n  initial: 0.2\n  layers: [{name: fc, sparsity: 0.1}]\n", NULL,
         "must be in [initial = 0.2, 0.99], found 0.1", 6, 33, "prune.layers[0].sparsity"},
        {TEMPLATE, "prune.epochs=3",
         "override 'prune.epochs=3': the prune section needs sparsity (0 to 0.99)", 0, 0,
         "prune.sparsity"},
    };
    expect_errors("test_config_prune_errors", cases, sizeof cases / sizeof cases[0]);
}

/* train.distill: off by default (no teacher) with T 4 and alpha 0.9; given in the file or by
 * overrides; written into the dump (the embedded config of a distilled model names its teacher)
 * and loaded again; an empty teacher switches it off. prune.distill: present only when given,
 * with the same defaults. */
static void test_distill_section(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("test_config_distill");
    mf_config *c = load_text(dir, "a.yaml", TEMPLATE, NULL, 0);
    assert_null(c->train.distill.teacher);
    assert_true(c->train.distill.temperature == 4.0f);
    assert_true(c->train.distill.alpha == 0.9f);
    assert_string_equal(c->train.distill.section, "train.distill");
    assert_false(c->prune.distill_present);
    mf_config_free(c);

    c = load_text(dir, "b.yaml",
                  TEMPLATE "train:\n  distill: {teacher: runs/t/model.h5, temperature: 2.5, "
                           "alpha: 0.5}\n",
                  NULL, 0);
    assert_string_equal(c->train.distill.teacher, "runs/t/model.h5");
    assert_true(c->train.distill.temperature == 2.5f);
    assert_true(c->train.distill.alpha == 0.5f);
    mf_error err;
    char *text = mf_config_dump(c, &err);
    assert_non_null(text);
    assert_non_null(strstr(text, "teacher: runs/t/model.h5"));
    mf_config *b = load_text(dir, "b2.yaml", text, NULL, 0);
    assert_string_equal(b->train.distill.teacher, "runs/t/model.h5");
    assert_true(b->train.distill.temperature == 2.5f);
    assert_true(b->train.distill.alpha == 0.5f);
    mf_config_free(b);
    free(text);
    mf_config_free(c);

    char *over[] = {"train.distill.teacher=t.h5", "train.distill.alpha=1"};
    c = load_text(dir, "c.yaml", TEMPLATE, over, 2);
    assert_string_equal(c->train.distill.teacher, "t.h5");
    assert_true(c->train.distill.alpha == 1.0f);
    mf_config_free(c);
    /* the embedded config of a distilled model, with distillation switched off */
    char *off[] = {"train.distill.teacher="};
    c = load_text(dir, "d.yaml", TEMPLATE "train: {distill: {teacher: t.h5}}\n", off, 1);
    assert_string_equal(c->train.distill.teacher, "");
    /* and written into the next model file, where it must load again (no empty value) */
    text = mf_config_dump(c, &err);
    assert_non_null(text);
    assert_null(strstr(text, "teacher"));
    b = load_text(dir, "d2.yaml", text, NULL, 0);
    assert_null(b->train.distill.teacher);
    mf_config_free(b);
    free(text);
    mf_config_free(c);

    c = load_text(dir, "e.yaml", TEMPLATE "prune:\n  sparsity: 0.5\n  distill: {alpha: 0.7}\n",
                  NULL, 0);
    assert_true(c->prune.distill_present);
    assert_null(c->prune.distill.teacher);
    assert_true(c->prune.distill.temperature == 4.0f);
    assert_true(c->prune.distill.alpha == 0.7f);
    assert_string_equal(c->prune.distill.section, "prune.distill");
    assert_null(c->train.distill.teacher);
    mf_config_free(c);
    char *prune_over[] = {"prune.sparsity=0.5", "prune.distill.teacher=dense.h5"};
    c = load_text(dir, "f.yaml", TEMPLATE, prune_over, 2);
    assert_true(c->prune.distill_present);
    assert_string_equal(c->prune.distill.teacher, "dense.h5");
    mf_config_free(c);
    c = load_text(dir, "g.yaml", TEMPLATE "prune: {sparsity: 0.5}\n", NULL, 0);
    assert_false(c->prune.distill_present);
    mf_config_free(c);

    /* commands that only need data (prune, quantize) still check train.distill: their
     * fine-tuning uses it */
    mf_config *d = NULL;
    char *bad[] = {"train.distill.temperature=0"};
    assert_int_equal(mf_config_load_text(TEMPLATE, "model.h5 (embedded config)", bad, 1,
                                         MF_CONFIG_DATASET_ONLY, &d, &err),
                     MF_ERR);
    assert_null(d);
    assert_string_equal(err.field, "train.distill.temperature");
    assert_non_null(strstr(err.message, "must be > 0, found 0"));
}

#define DISTILL TEMPLATE "train:\n  distill:\n"
static void test_error_distill(void **state)
{
    (void)state;
    char long_path[1100];
    memset(long_path, 'a', sizeof long_path - 1);
    long_path[sizeof long_path - 1] = '\0';
    char long_override[1200];
    snprintf(long_override, sizeof long_override, "train.distill.teacher=%s", long_path);
    const error_case cases[] = {
        {DISTILL "    teacher: t.h5\n    temperature: 0\n", NULL, "must be > 0, found 0", 6, 18,
         "train.distill.temperature"},
        {DISTILL "    temperature: -2\n", NULL, "must be > 0, found -2", 5, 18,
         "train.distill.temperature"},
        {DISTILL "    alpha: 1.5\n", NULL, "must be in [0, 1], found 1.5", 5, 12,
         "train.distill.alpha"},
        {DISTILL "    alpha: -0.1\n", NULL, "must be in [0, 1], found -0.1", 5, 12,
         "train.distill.alpha"},
        {DISTILL "    teachr: t.h5\n", NULL,
         "unknown key 'teachr' in train.distill (expected one of: teacher, temperature, alpha)", 5,
         5, "train.distill.teachr"},
        {DISTILL "    temperature: hot\n", NULL, "expected a number, found 'hot'", 5, 18,
         "train.distill.temperature"},
        {TEMPLATE, "train.distill.alpha=2",
         "override 'train.distill.alpha=2': must be in [0, 1], found 2", 0, 0,
         "train.distill.alpha"},
        {TEMPLATE, long_override, "must be at most 1024 characters, found 1099", 0, 0,
         "train.distill.teacher"},
        {TEMPLATE "prune:\n  sparsity: 0.5\n  distill: {temperature: 0}\n", NULL,
         "must be > 0, found 0", 5, 26, "prune.distill.temperature"},
        {TEMPLATE "prune:\n  sparsity: 0.5\n  distill: {alpha: 3}\n", NULL,
         "must be in [0, 1], found 3", 5, 20, "prune.distill.alpha"},
        {TEMPLATE, "prune.distill.alpha=0.5",
         "override 'prune.distill.alpha=0.5': the prune section needs sparsity", 0, 0,
         "prune.sparsity"},
    };
    expect_errors("test_config_distill_errors", cases, sizeof cases / sizeof cases[0]);
}

/* Errors from building: the config loads, the model does not fit the data or itself. */
static void expect_build_error(const char *yaml, const mf_shape *data, int classes,
                               const char *message, int line, int column, const char *field)
{
    const char *dir = tu_tmpdir("test_config_build_errors");
    mf_config *c = load_text(dir, "build.yaml", yaml, NULL, 0);
    mf_error err;
    mf_model *m = mf_config_build_model(c, data, classes, &err);
    char buf[1400];
    mf_error_format(&err, buf, sizeof buf);
    if (m || !strstr(err.message, message) || err.line != line || err.column != column ||
        strcmp(err.field, field))
        fprintf(stderr, "expected %d:%d %s: ...%s...\n  got: %s\n", line, column, field, message,
                buf);
    assert_null(m);
    assert_non_null(strstr(err.message, message));
    assert_int_equal(err.line, line);
    assert_int_equal(err.column, column);
    assert_string_equal(err.field, field);
    assert_string_equal(err.file, c->path);
    mf_config_free(c);
}

static void test_error_build(void **state)
{
    (void)state;
    mf_shape har = {2, {128, 9}};
    expect_build_error(DATASET "model: {template: resnetv1_6, width: 8, input_shape: [64, 9]}\n",
                       &har, 6,
                       "the model input shape 64x9 differs from the dataset's sample "
                       "shape 128x9",
                       2, 54, "model.input_shape");
    expect_build_error(DATASET "model: {template: resnetv1_6, width: 8, classes: 5}\n", &har, 6,
                       "model.classes is 5 but the dataset has 6 classes", 2, 50, "model.classes");
    expect_build_error(DATASET "model: {template: resnetv1_6, width: 8, dims: 2}\n", &har, 6,
                       "dims 2 needs a height x width x channels input, but the input shape is "
                       "128x9",
                       2, 47, "model.dims");
    /* the graph code's "layers[1]" becomes the config entry */
    expect_build_error(LAYERS "    - {name: c1, type: conv1d, filters: 8, kernel: 3}\n"
                              "    - name: c2\n"
                              "      type: conv1d\n"
                              "      filters: 8\n"
                              "      kernel: 200\n",
                       &har, 0, "layer 'c2' (conv1d): kernel 200 with padding 'valid' does not fit",
                       5, 7, "model.layers[1]");
    expect_build_error(LAYERS "    - {name: c1, type: conv1d, filters: 8, kernel: 3}\n"
                              "    - {name: c2, type: conv2d, filters: 8, kernel: 3}\n",
                       &har, 0, "layer 'c2' (conv2d): expects a 2D input", 5, 7, "model.layers[1]");
    expect_build_error(LAYERS "    - {name: c1, type: conv1d, filters: 8, kernel: [3, 5]}\n", &har,
                       0,
                       "layer 'c1' (conv1d): a 1D layer takes one kernel size, not [height, "
                       "width] (got [3, 5])",
                       4, 7, "model.layers[0]");
    expect_build_error(LAYERS "    - {name: a, type: dense, units: 4, inputs: [b]}\n"
                              "    - {name: b, type: dense, units: 4, inputs: [a]}\n",
                       &har, 0, "is part of a cycle of inputs", 4, 7, "model.layers[0]");
    expect_build_error(LAYERS "    - {type: flatten}\n    - {name: out, type: dense, units: 5}\n",
                       &har, 6,
                       "layer 'out' is the model's output and gives 5 values (5), but there are "
                       "6 classes",
                       5, 7, "model.layers[1]");
}

/* Input names are checked when loading; a config changed in memory afterwards still gets the
 * graph code's error mapped to the entry in the file. */
static void test_error_build_engine_mapping(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("test_config_build_mapping");
    mf_config *c = load_text(dir, "residual.yaml", residual_yaml, NULL, 0);
    free(c->model.layers[2].inputs[1]);
    c->model.layers[2].inputs[1] = strdup("nope");
    mf_shape data = {2, {64, 3}};
    mf_error err;
    assert_null(mf_config_build_model(c, &data, 4, &err));
    assert_non_null(strstr(err.message, "layer 'add1': input 'nope' is not a layer"));
    assert_string_equal(err.field, "model.layers[2].inputs[1]");
    assert_int_equal(err.line, 20);
    assert_int_equal(err.column, 23);
    assert_string_equal(err.file, c->path);

    /* no data shape and no model.input_shape */
    assert_null(mf_config_build_model(c, NULL, 4, &err));
    assert_non_null(strstr(err.message, "the input shape is unknown"));
    assert_string_equal(err.field, "model.input_shape");
    assert_int_equal(err.line, 5); /* the model: key */
    assert_int_equal(err.column, 1);
    mf_config_free(c);

    /* an error inside the template points at model.template */
    c = load_text(dir, "har.yaml", template_yaml, NULL, 0);
    mf_shape tiny = {2, {1, 9}};
    assert_null(mf_config_build_model(c, &tiny, 6, &err));
    assert_non_null(strstr(err.message, "does not fit"));
    assert_string_equal(err.field, "model.template");
    assert_int_equal(err.line, 6);
    assert_int_equal(err.column, 13);
    mf_config_free(c);
}

/* Invalid UTF-8 has no line: the error gives the byte offset. */
static void test_error_encoding(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("test_config_encoding");
    const char *path = tu_write_file(dir, "bin.yaml", "dataset: {name: \xff\xfe}\n");
    mf_config *c = NULL;
    mf_error err;
    assert_int_equal(mf_config_load(path, NULL, 0, &c, &err), MF_ERR);
    assert_null(c);
    assert_non_null(strstr(err.message, "invalid YAML"));
    assert_int_equal(err.offset, 16);
}

/* A FIFO (or a folder) given as the config is refused at once, naming it: opening a FIFO without
 * a writer would block forever. (The alarm interrupts a blocked open, so a regression fails
 * instead of hanging.) */
static void on_alarm(int sig)
{
    (void)sig;
}

static void test_error_not_regular_file(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("test_config_fifo");
    char fifo[1200];
    snprintf(fifo, sizeof fifo, "%s/config.yaml", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm; /* no SA_RESTART: a blocked open() returns EINTR */
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
    const char *paths[] = {fifo, dir};
    for (int i = 0; i < 2; i++) {
        mf_config *c = NULL;
        mf_error err;
        mf_error_clear(&err);
        alarm(3);
        int rc = mf_config_load(paths[i], NULL, 0, &c, &err);
        alarm(0);
        char buf[1400];
        fprintf(stderr, "%s\n", mf_error_format(&err, buf, sizeof buf));
        assert_int_equal(rc, MF_ERR);
        assert_null(c);
        char expected[1300];
        snprintf(expected, sizeof expected, "'%s' is not a regular file", paths[i]);
        assert_non_null(strstr(err.message, expected));
        assert_string_equal(err.file, paths[i]);
    }
    sigaction(SIGALRM, &old, NULL);
}

/* Every size a config gives is bounded (mf_config.h lists the limits) before anything is
 * allocated: train.batch_size=2000000000 used to allocate 8 GB before it was refused. */
static void test_error_size_limits(void **state)
{
    (void)state;
    /* "train.output=runs/aaa…a/model.h5", 1100 characters after '=' */
    char long_output[1200];
    int w = snprintf(long_output, sizeof long_output, "train.output=runs/");
    memset(long_output + w, 'a', 1100 - 5 - 9);
    snprintf(long_output + w + 1100 - 5 - 9, sizeof long_output - (size_t)(w + 1100 - 5 - 9),
             "/model.h5");
    const error_case cases[] = {
        {TEMPLATE "train:\n  batch_size: 2000000000\n", NULL, "must be <= 65536, found 2000000000",
         4, 15, "train.batch_size"},
        {TEMPLATE, "train.batch_size=2000000000", "must be <= 65536, found 2000000000", 0, 0,
         "train.batch_size"},
        {TEMPLATE "train:\n  epochs: 1000000\n", NULL, "must be <= 100000, found 1000000", 4, 11,
         "train.epochs"},
        {TEMPLATE "train:\n  threads: 100\n", NULL, "must be <= 64, found 100", 4, 12,
         "train.threads"},
        {TEMPLATE, long_output, "must be at most 1024 characters, found 1100", 0, 0,
         "train.output"},
        {TEMPLATE "train:\n  schedule: multistep\n  milestones: [5, 200000]\n", NULL,
         "must be <= 100000, found 200000", 5, 19, "train.milestones[1]"},
        {LAYERS "    - {name: c1, type: conv1d, filters: 100000, kernel: 3}\n", NULL,
         "must be <= 65536, found 100000", 4, 41, "model.layers[0].filters"},
        {LAYERS "    - {name: d1, type: dense, units: 70000}\n", NULL,
         "must be <= 65536, found 70000", 4, 38, "model.layers[0].units"},
        {LAYERS "    - {name: c1, type: conv1d, filters: 8, kernel: 5000}\n", NULL,
         "must be <= 1024, found 5000", 4, 52, "model.layers[0].kernel"},
        {LAYERS "    - {name: c1, type: conv1d, filters: 8, kernel: 3, stride: 2000}\n", NULL,
         "must be <= 1024, found 2000", 4, 63, "model.layers[0].stride"},
        {DATASET "model: {template: resnetv1_6, width: 8, classes: 2000}\n", NULL,
         "must be <= 1000, found 2000", 2, 50, "model.classes"},
        {DATASET "model: {template: resnetv1_6, width: 8, input_shape: [4096, 4096, 64]}\n", NULL,
         "a sample of 4096x4096x64 = 1073741824 values exceeds 268435456", 2, 54,
         "model.input_shape"},
        {"dataset: {name: synthetic, shape: [128, 9], classes: 5000}\n", NULL,
         "must be <= 1000, found 5000", 1, 54, "dataset.classes"},
        {"dataset: {name: synthetic, shape: [4096, 4096, 64], classes: 6}\n", NULL,
         "a sample of 4096x4096x64 = 1073741824 values exceeds 268435456", 1, 35, "dataset.shape"},
        {"dataset: {name: synthetic, shape: [128, 9], classes: 6, train_samples: 20000000}\n", NULL,
         "must be <= 16777216, found 20000000", 1, 72, "dataset.train_samples"},
        {"dataset: {name: synthetic, shape: [128, 9], classes: 6, test_samples: 20000000}\n", NULL,
         "must be <= 16777216, found 20000000", 1, 71, "dataset.test_samples"},
        {"dataset: {name: synthetic, shape: [1024, 64], classes: 6, train_samples: 8192}\n", NULL,
         "8192 + 512 samples of 65536 values exceed 268435456", 1, 74, "dataset.train_samples"},
        {"dataset: {name: synthetic, shape: [128, 9], classes: 6, train_limit: 20000000}\n", NULL,
         "must be <= 16777216, found 20000000", 1, 70, "dataset.train_limit"},
        {"dataset: {name: synthetic, shape: [128, 9], classes: 6, test_limit: 20000000}\n", NULL,
         "must be <= 16777216, found 20000000", 1, 69, "dataset.test_limit"},
        {"dataset: {name: fsdd, mfcc: {frames: 5000}}\n", NULL, "must be <= 4096, found 5000", 1,
         38, "dataset.mfcc.frames"},
        {"dataset: {name: fsdd, mfcc: {filters: 300}}\n", NULL, "must be <= 256, found 300", 1, 39,
         "dataset.mfcc.filters"},
        {"dataset: {name: fsdd, mfcc: {fft_size: 262144}}\n", NULL,
         "must be <= 131072, found 262144", 1, 40, "dataset.mfcc.fft_size"},
        {TEMPLATE "quantize: {bits: 8, method: qat, epochs: 1000000}\n", NULL,
         "must be <= 100000, found 1000000", 3, 42, "quantize.epochs"},
        {TEMPLATE "quantize: {bits: 8, calibration: 20000000}\n", NULL,
         "must be <= 16777216, found 20000000", 3, 34, "quantize.calibration"},
        {TEMPLATE "deploy: {vectors: 20000000}\n", NULL, "must be <= 16777216, found 20000000", 3,
         19, "deploy.vectors"},
        {TEMPLATE "deploy: {timeout: 100000}\n", NULL, "must be <= 86400, found 100000", 3, 19,
         "deploy.timeout"},
    };
    expect_errors("test_config_limits", cases, sizeof cases / sizeof cases[0]);
}

/* ---- bounds on the YAML itself: nesting depth and node count are refused before libyaml
 * builds anything (its scanner walks every open level for every token: 200,000 nested '['
 * took minutes), in a config file, an embedded config and an override alike ---- */

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* prefix + open × n + close × n + suffix (caller frees) */
static char *nested(const char *prefix, const char *open, const char *close, int n,
                    const char *suffix)
{
    size_t lp = strlen(prefix), lo = strlen(open), lc = strlen(close), ls = strlen(suffix);
    char *text = malloc(lp + (lo + lc) * (size_t)n + ls + 1);
    assert_non_null(text);
    char *w = text;
    memcpy(w, prefix, lp);
    w += lp;
    for (int i = 0; i < n; i++, w += lo)
        memcpy(w, open, lo);
    for (int i = 0; i < n; i++, w += lc)
        memcpy(w, close, lc);
    memcpy(w, suffix, ls + 1);
    return text;
}

typedef enum { FROM_FILE, FROM_TEXT, FROM_OVERRIDE } yaml_origin;

/* Loads yaml (from a file, as an embedded config, or as the value of override key) and expects
 * a refusal within a quarter of a second whose message holds `message`, at line:column. */
static void expect_fast_refusal(const char *dir, yaml_origin origin, const char *yaml,
                                const char *key, const char *message, int line, int column)
{
    mf_config *c = NULL;
    mf_error err;
    mf_error_clear(&err);
    char path[1200];
    char *arg = NULL;
    if (origin == FROM_OVERRIDE) {
        arg = malloc(strlen(key) + strlen(yaml) + 2);
        assert_non_null(arg);
        sprintf(arg, "%s=%s", key, yaml);
        snprintf(path, sizeof path, "%s", tu_write_file(dir, "ok.yaml", TEMPLATE));
    } else if (origin == FROM_FILE) {
        snprintf(path, sizeof path, "%s", tu_write_file(dir, "deep.yaml", yaml));
    } else {
        snprintf(path, sizeof path, "model.h5 (embedded config)");
    }
    double t0 = seconds_now();
    int rc = origin == FROM_TEXT ? mf_config_load_text(yaml, path, NULL, 0, 0, &c, &err)
                                 : mf_config_load(path, &arg, arg ? 1 : 0, &c, &err);
    double elapsed = seconds_now() - t0;
    char buf[1400];
    fprintf(stderr, "%.3f s: %.300s\n", elapsed, mf_error_format(&err, buf, sizeof buf));
    free(arg);
    assert_true(elapsed < 0.25);
    assert_int_equal(rc, MF_ERR);
    assert_null(c);
    assert_non_null(strstr(err.message, message));
    assert_string_equal(err.file, origin == FROM_OVERRIDE ? "" : path);
    assert_int_equal(err.line, line);
    assert_int_equal(err.column, column);
}

static void test_error_yaml_bounds(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("test_config_yaml_bounds");
    const char *deeper = "nested deeper than 64 levels";
    /* "dataset: " then 200,000 '[': the root mapping is level 1, so the 64th '[' (column 73)
     * opens level 65 */
    char *flow = nested("dataset: ", "[", "]", 200000, "\n");
    expect_fast_refusal(dir, FROM_FILE, flow, NULL, deeper, 1, 73);
    expect_fast_refusal(dir, FROM_TEXT, flow, NULL, deeper, 1, 73);
    free(flow);
    char *map = nested("dataset: ", "{a: ", "}", 200000, "\n");
    expect_fast_refusal(dir, FROM_FILE, map, NULL, deeper, 1, 10 + 4 * 63);
    free(map);
    /* an override's value is YAML too: 100,000 '[' (the value alone: the first is level 1) */
    char *value = nested("", "[", "]", 100000, "");
    expect_fast_refusal(dir, FROM_OVERRIDE, value, "dataset.shape", deeper, 0, 0);
    free(value);
    /* block nesting: "- - - ... 1" (the first '-', level with its key, opens no level of its
     * own: the 65th, at column 129, opens level 65) */
    char *dashes = nested("dataset:\n", "- ", "", 200000, "1\n");
    expect_fast_refusal(dir, FROM_FILE, dashes, NULL, deeper, 2, 1 + 2 * 64);
    free(dashes);

    /* size: more values than any config has (1023 layers of a dozen keys are ~30,000). Lines
     * 1-3 hold 15 values (the layer list's start included), each layer 3: the key "type" of
     * layer 21841 (line 21844, column 8) is value 65537 */
    char *many = nested(DATASET "model:\n  layers:\n", "    - {type: relu}\n", "", 30000, "");
    expect_fast_refusal(dir, FROM_FILE, many, NULL, "more than 65536 values", 21844, 8);
    free(many);
}

/* Every committed config loads and validates; the deploy config of UCI-HAR keeps the
 * per-channel z-score its firmware size depends on; the distillation configs are wired as
 * README ("Distillation") says. */
static void test_committed_configs(void **state)
{
    (void)state;
    static const char *names[] = {"uci_har_resnet",
                                  "uci_har_resnet_w8",
                                  "spoken_resnet",
                                  "gtsrb_resnet",
                                  "mnist_lenet5",
                                  "synthetic_resnet",
                                  "mnist_lenet5_pruned",
                                  "uci_har_resnet_w32",
                                  "uci_har_resnet_w8_distill",
                                  "mnist_lenet5_pruned_distill"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/configs/%s.yaml", MF_SOURCE_DIR, names[i]);
        mf_config *c = NULL;
        mf_error err;
        mf_error_clear(&err);
        if (mf_config_load(path, NULL, 0, &c, &err)) fail_msg("%s: %s", path, err.message);
        if (!strcmp(names[i], "uci_har_resnet_w8")) {
            assert_int_equal(c->dataset.normalize, MF_NORM_CHANNEL);
            assert_int_equal(c->model.width, 8);
        }
        /* issue 24: the student distils from the teacher config's output; the LeNet-5 one
         * prunes with distillation from the dense model, trained without */
        if (!strcmp(names[i], "uci_har_resnet_w32")) {
            assert_int_equal(c->model.width, 32);
            assert_string_equal(c->train.output, "runs/uci_har_resnet_w32/model.h5");
        }
        if (!strcmp(names[i], "uci_har_resnet_w8_distill")) {
            assert_int_equal(c->model.width, 8);
            assert_string_equal(c->train.distill.teacher, "runs/uci_har_resnet_w32/model.h5");
            assert_true(c->quantize.present && c->deploy.present);
        }
        if (!strcmp(names[i], "mnist_lenet5_pruned_distill")) {
            assert_null(c->train.distill.teacher);
            assert_true(c->prune.present && c->prune.distill_present);
            assert_null(c->prune.distill.teacher);
        }
        mf_config_free(c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_residual_layers),
        cmocka_unit_test(test_template),
        cmocka_unit_test(test_overrides),
        cmocka_unit_test(test_dump_round_trip),
        cmocka_unit_test(test_rectangular_kernels),
        cmocka_unit_test(test_relu6_layers),
        cmocka_unit_test(test_depthwise_layers),
        cmocka_unit_test(test_dataset_defaults),
        cmocka_unit_test(test_dataset_fields),
        cmocka_unit_test(test_dump_dataset_fields),
        cmocka_unit_test(test_error_syntax_and_file),
        cmocka_unit_test(test_error_unknown_keys),
        cmocka_unit_test(test_error_types),
        cmocka_unit_test(test_error_layers),
        cmocka_unit_test(test_error_ranges),
        cmocka_unit_test(test_error_enums),
        cmocka_unit_test(test_error_dataset_fields),
        cmocka_unit_test(test_error_overrides),
        cmocka_unit_test(test_quantize_section),
        cmocka_unit_test(test_quantize_overrides),
        cmocka_unit_test(test_quantize_dump),
        cmocka_unit_test(test_error_quantize),
        cmocka_unit_test(test_prune_section),
        cmocka_unit_test(test_error_prune),
        cmocka_unit_test(test_distill_section),
        cmocka_unit_test(test_error_distill),
        cmocka_unit_test(test_error_build),
        cmocka_unit_test(test_error_build_engine_mapping),
        cmocka_unit_test(test_error_encoding),
        cmocka_unit_test(test_error_not_regular_file),
        cmocka_unit_test(test_error_yaml_bounds),
        cmocka_unit_test(test_error_size_limits),
        cmocka_unit_test(test_committed_configs),
        cmocka_unit_test(test_error_deploy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
