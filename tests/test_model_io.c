/* Model files (core/model_io.c): round trips, validation errors, atomic writes, h5dump. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hdf5.h>

#include "mf_core.h"
#include "mf_model_io.h"
#include "testutil.h"

/* ---- building models ---- */

static mf_layer_spec spec(mf_op op, const char *name)
{
    mf_layer_spec s;
    mf_layer_spec_init(&s, op, name);
    return s;
}

static void set_inputs(mf_layer_spec *s, int n, ...)
{
    va_list ap;
    va_start(ap, n);
    s->n_inputs = n;
    for (int i = 0; i < n; i++)
        snprintf(s->inputs[i], MF_NAME_MAX, "%s", va_arg(ap, const char *));
    va_end(ap);
}

static void add(mf_model *m, const mf_layer_spec *s)
{
    mf_error err;
    mf_error_clear(&err);
    int rc = mf_model_add(m, s, &err);
    if (rc) fprintf(stderr, "add %s: %s\n", s->name, err.message);
    assert_int_equal(rc, MF_OK);
}

/* Non-trivial values everywhere, including -0.0 and a denormal, so that bit-exactness means
 * something. */
static void fill_values(mf_model *m, uint64_t seed)
{
    mf_model_init_params(m, seed);
    mf_rng r;
    mf_rng_seed(&r, seed + 17);
    for (size_t i = 0; i < m->n_state; i++)
        m->state[i] = 0.25f + (float)mf_rng_uniform(&r);
    if (m->n_params > 2) {
        m->params[0] = -0.0f;
        m->params[1] = 1e-40f;
    }
}

static mf_model *finish(mf_model *m, uint64_t seed)
{
    mf_error err;
    mf_error_clear(&err);
    int rc = mf_model_finalize(m, &err);
    if (rc) fprintf(stderr, "finalize: %s (%s)\n", err.message, err.field);
    assert_int_equal(rc, MF_OK);
    fill_values(m, seed);
    return m;
}

/* 1D: conv1d, batchnorm, relu, residual add, max/avg pool, dropout, flatten, dense. */
static mf_model *model_1d(void)
{
    mf_error err;
    mf_shape in = {2, {16, 3}};
    mf_model *m = mf_model_new(&in, &err);
    assert_non_null(m);
    mf_layer_spec s = spec(MF_OP_CONV1D, "c1");
    s.filters = 4;
    s.kernel = 3;
    s.padding = MF_PAD_SAME;
    add(m, &s);
    s = spec(MF_OP_BATCHNORM, "bn1");
    s.momentum = 0.9f;
    s.epsilon = 1e-5f;
    add(m, &s);
    s = spec(MF_OP_RELU, "r1");
    add(m, &s);
    s = spec(MF_OP_CONV1D, "c2");
    s.filters = 4;
    s.kernel = 3;
    s.stride = 1;
    s.padding = MF_PAD_SAME;
    s.use_bias = 0;
    add(m, &s);
    s = spec(MF_OP_ADD, "add1");
    s.activation = MF_ACT_RELU;
    set_inputs(&s, 2, "c2", "r1");
    add(m, &s);
    s = spec(MF_OP_MAXPOOL1D, "mp");
    s.kernel = 2;
    add(m, &s);
    s = spec(MF_OP_AVGPOOL1D, "ap");
    s.kernel = 2;
    s.stride = 2;
    add(m, &s);
    s = spec(MF_OP_DROPOUT, "drop");
    s.rate = 0.25f;
    add(m, &s);
    s = spec(MF_OP_FLATTEN, "fl");
    add(m, &s);
    s = spec(MF_OP_DENSE, "fc");
    s.filters = 5;
    s.activation = MF_ACT_NONE;
    add(m, &s);
    finish(m, 1);
    m->config_text = strdup("model:\n  layers: [...]\ntrain:\n  epochs: 3\n");
    assert_non_null(m->config_text);
    return m;
}

/* 2D: conv2d (valid, no bias and with fused relu; a rectangular kernel and stride), batchnorm,
 * pools (one rectangular), global pools, dense. */
static mf_model *model_2d(void)
{
    mf_error err;
    mf_shape in = {3, {8, 8, 2}};
    mf_model *m = mf_model_new(&in, &err);
    assert_non_null(m);
    mf_layer_spec s = spec(MF_OP_CONV2D, "conv_a");
    s.filters = 3;
    s.kernel_h = 3, s.kernel = 2; /* [3, 2], stride [1, 2]: 6x4 */
    s.stride_h = 1, s.stride = 2;
    s.use_bias = 0;
    add(m, &s);
    s = spec(MF_OP_BATCHNORM, "bn_a");
    add(m, &s);
    s = spec(MF_OP_MAXPOOL2D, "pool_a");
    s.kernel_h = 2, s.kernel = 1; /* [2, 1]: 3x4 */
    add(m, &s);
    s = spec(MF_OP_CONV2D, "conv_b");
    s.filters = 4;
    s.kernel = 1;
    s.activation = MF_ACT_RELU;
    add(m, &s);
    s = spec(MF_OP_DWCONV2D, "dw"); /* 2x2, multiplier 2: 2x3x8, kernel [2][2][4][2] */
    s.kernel = 2;
    s.depth_multiplier = 2;
    add(m, &s);
    s = spec(MF_OP_RELU6, "clip");
    add(m, &s);
    s = spec(MF_OP_GLOBAL_MAXPOOL, "gmax");
    add(m, &s);
    s = spec(MF_OP_DENSE, "logits");
    s.activation = MF_ACT_RELU6;
    s.filters = 3;
    s.use_bias = 0;
    add(m, &s);
    return finish(m, 2);
}

/* Layers added out of topological order; the output is the first layer added. */
static mf_model *model_unordered(void)
{
    mf_error err;
    mf_shape in = {3, {6, 6, 1}};
    mf_model *m = mf_model_new(&in, &err);
    assert_non_null(m);
    mf_layer_spec s = spec(MF_OP_DENSE, "out");
    s.filters = 2;
    s.activation = MF_ACT_RELU;
    set_inputs(&s, 1, "gap");
    add(m, &s);
    s = spec(MF_OP_AVGPOOL2D, "ap");
    s.kernel = 2;
    set_inputs(&s, 1, "input");
    add(m, &s);
    s = spec(MF_OP_GLOBAL_AVGPOOL, "gap");
    set_inputs(&s, 1, "ap");
    add(m, &s);
    return finish(m, 3);
}

/* ---- comparing ---- */

static void assert_same_spec(const mf_layer_spec *a, const mf_layer_spec *b, int inputs_too)
{
    assert_string_equal(a->name, b->name);
    assert_int_equal(a->op, b->op);
    assert_int_equal(a->filters, b->filters);
    assert_int_equal(a->kernel, b->kernel);
    assert_int_equal(a->stride, b->stride);
    assert_int_equal(a->kernel_h, b->kernel_h);
    assert_int_equal(a->stride_h, b->stride_h);
    assert_int_equal(a->depth_multiplier, b->depth_multiplier);
    assert_int_equal(a->padding, b->padding);
    assert_int_equal(a->use_bias, b->use_bias);
    assert_int_equal(a->activation, b->activation);
    assert_memory_equal(&a->rate, &b->rate, sizeof a->rate);
    assert_memory_equal(&a->momentum, &b->momentum, sizeof a->momentum);
    assert_memory_equal(&a->epsilon, &b->epsilon, sizeof a->epsilon);
    if (!inputs_too) return;
    assert_int_equal(a->n_inputs, b->n_inputs);
    for (int k = 0; k < a->n_inputs; k++)
        assert_string_equal(a->inputs[k], b->inputs[k]);
}

/* Same graph, shapes, offsets and bit-identical params and state. inputs_too: also the spec's
 * input lists (a model built with implicit inputs gets explicit ones from a file). */
static void assert_same_model(const mf_model *a, const mf_model *b, int inputs_too)
{
    assert_int_equal(a->n_nodes, b->n_nodes);
    assert_true(mf_shape_equal(&a->input_shape, &b->input_shape));
    assert_int_equal(a->output, b->output);
    assert_memory_equal(a->order, b->order, sizeof *a->order * (size_t)a->n_nodes);
    for (int i = 0; i < a->n_nodes; i++) {
        const mf_node *x = &a->nodes[i], *y = &b->nodes[i];
        assert_same_spec(&x->spec, &y->spec, inputs_too);
        assert_int_equal(x->n_inputs, y->n_inputs);
        for (int k = 0; k < x->n_inputs; k++)
            assert_int_equal(x->inputs[k], y->inputs[k]);
        assert_true(mf_shape_equal(&x->out_shape, &y->out_shape));
        assert_int_equal(x->param_offset, y->param_offset);
        assert_int_equal(x->n_params, y->n_params);
        assert_int_equal(x->state_offset, y->state_offset);
        assert_int_equal(x->n_state, y->n_state);
    }
    assert_int_equal(a->n_params, b->n_params);
    assert_int_equal(a->n_state, b->n_state);
    assert_memory_equal(a->params, b->params, sizeof(float) * a->n_params);
    if (a->n_state) assert_memory_equal(a->state, b->state, sizeof(float) * a->n_state);
    if (a->config_text || b->config_text) {
        assert_non_null(a->config_text);
        assert_non_null(b->config_text);
        assert_string_equal(a->config_text, b->config_text);
    }
}

/* Raw bytes of a float dataset, read with the HDF5 API (malloc'ed; *n = bytes). */
static unsigned char *dataset_bytes(const char *path, const char *h5path, size_t *n)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    hid_t d = H5Dopen2(f, h5path, H5P_DEFAULT);
    assert_true(d >= 0);
    hid_t t = H5Dget_type(d), sp = H5Dget_space(d);
    assert_true(H5Tequal(t, H5T_IEEE_F32LE) > 0);
    hssize_t np = H5Sget_simple_extent_npoints(sp);
    assert_true(np > 0);
    *n = (size_t)np * 4;
    unsigned char *buf = malloc(*n);
    assert_non_null(buf);
    assert_true(H5Dread(d, H5T_IEEE_F32LE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    H5Sclose(sp);
    H5Tclose(t);
    H5Dclose(d);
    H5Fclose(f);
    return buf;
}

static void assert_same_datasets(const mf_model *m, const char *p1, const char *p2)
{
    int count = 0;
    for (int i = 1; i < m->n_nodes; i++) {
        mf_param_desc d[4];
        int np = mf_node_params(m, i, d);
        for (int k = 0; k < np; k++) {
            char h5path[200];
            snprintf(h5path, sizeof h5path, "/layers/%s/%s", m->nodes[i].spec.name, d[k].name);
            size_t n1, n2;
            unsigned char *a = dataset_bytes(p1, h5path, &n1);
            unsigned char *b = dataset_bytes(p2, h5path, &n2);
            assert_int_equal(n1, n2);
            assert_int_equal(n1, mf_shape_size(&d[k].shape) * 4);
            assert_memory_equal(a, b, n1);
            free(a);
            free(b);
            count++;
        }
    }
    assert_true(count > 0);
}

/* ---- helpers ---- */

/* HDF5 objects open in any file: files, groups, datasets, attributes, committed types. The
 * library must leave this count as it found it. (HDF5 offers no public count of transient
 * types and dataspaces.) */
static hsize_t open_ids(void)
{
    ssize_t n = H5Fget_obj_count((hid_t)H5F_OBJ_ALL, H5F_OBJ_ALL);
    assert_true(n >= 0);
    return (hsize_t)n;
}

typedef struct paths {
    char dir[1024];
    char model[1200];
} paths;

static void setup_paths(paths *p, const char *test)
{
    snprintf(p->dir, sizeof p->dir, "%s", tu_tmpdir(test));
    snprintf(p->model, sizeof p->model, "%s/model.h5", p->dir);
}

static void save_ok(const mf_model *m, const char *path)
{
    mf_error err;
    mf_error_clear(&err);
    hsize_t ids = open_ids();
    int rc = mf_model_save(m, path, &err);
    if (rc) fprintf(stderr, "save: %s\n", err.message);
    assert_int_equal(rc, MF_OK);
    assert_int_equal(open_ids(), ids);
}

static mf_model *load_ok(const char *path)
{
    mf_error err;
    mf_error_clear(&err);
    hsize_t ids = open_ids();
    mf_model *m = mf_model_load(path, &err);
    if (!m) {
        char buf[2048];
        fprintf(stderr, "load: %s\n", mf_error_format(&err, buf, sizeof buf));
    }
    assert_non_null(m);
    assert_int_equal(open_ids(), ids);
    return m;
}

/* Loads a file that must fail; returns the formatted error (static storage). */
static const char *load_fails(const char *path, mf_error *err)
{
    static char buf[2048];
    mf_error_clear(err);
    hsize_t ids = open_ids();
    mf_model *m = mf_model_load(path, err);
    assert_null(m);
    assert_int_equal(open_ids(), ids);
    mf_error_format(err, buf, sizeof buf);
    if (getenv("MF_TEST_VERBOSE")) fprintf(stderr, "  expected error: %s\n", buf);
    assert_true(err->message[0] != '\0');
    assert_string_equal(err->file, path);
    return buf;
}

static void assert_contains(const char *text, const char *part)
{
    if (!strstr(text, part)) fprintf(stderr, "expected '%s' in: %s\n", part, text);
    assert_non_null(strstr(text, part));
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    assert_non_null(buf);
    size_t r;
    while ((r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
            assert_non_null(buf);
        }
    }
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static int run(const char *cmd)
{
    int st = system(cmd);
    return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Opens a saved file for editing with the HDF5 API (errors silenced in these tests). */
static hid_t edit(const char *path)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    return f;
}

static void replace_int_attr(hid_t obj, const char *name, int v)
{
    if (H5Aexists(obj, name) > 0) assert_true(H5Adelete(obj, name) >= 0);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, H5T_STD_I32LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(a >= 0);
    assert_true(H5Awrite(a, H5T_NATIVE_INT, &v) >= 0);
    H5Aclose(a);
    H5Sclose(sp);
}

static void replace_str_attr(hid_t obj, const char *name, const char *v)
{
    if (H5Aexists(obj, name) > 0) assert_true(H5Adelete(obj, name) >= 0);
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, strlen(v) + 1);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(a >= 0);
    assert_true(H5Awrite(a, t, v) >= 0);
    H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
}

static void replace_dataset(hid_t f, const char *h5path, hid_t type, int rank, const hsize_t *dims)
{
    if (H5Lexists(f, h5path, H5P_DEFAULT) > 0) assert_true(H5Ldelete(f, h5path, H5P_DEFAULT) >= 0);
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t d = H5Dcreate2(f, h5path, type, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(d >= 0);
    hssize_t n = H5Sget_simple_extent_npoints(sp);
    double *zeros = calloc((size_t)n, sizeof *zeros);
    assert_non_null(zeros);
    assert_true(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, zeros) >= 0);
    free(zeros);
    H5Dclose(d);
    H5Sclose(sp);
}

/* ---- tests ---- */

static void roundtrip(mf_model *m, const char *test)
{
    paths p;
    setup_paths(&p, test);
    char second[1300];
    snprintf(second, sizeof second, "%s/again.h5", p.dir);
    save_ok(m, p.model);
    mf_model *a = load_ok(p.model);
    assert_same_model(m, a, 0);
    save_ok(a, second);
    mf_model *b = load_ok(second);
    assert_same_model(a, b, 1);
    assert_same_model(m, b, 0);
    assert_same_datasets(m, p.model, second);
    mf_model_free(a);
    mf_model_free(b);
    mf_model_free(m);
}

static void test_roundtrip_1d(void **state)
{
    (void)state;
    roundtrip(model_1d(), "roundtrip_1d");
}

static void test_roundtrip_2d(void **state)
{
    (void)state;
    roundtrip(model_2d(), "roundtrip_2d");
}

/* Dataset name, class names and the input normalisation travel with the model. */
static void test_roundtrip_preprocessing(void **state)
{
    (void)state;
    for (int kind = 1; kind <= 2; kind++) {
        mf_model *m = model_1d();
        mf_error err;
        size_t n = kind == 1 ? mf_model_input_size(m)
                             : (size_t)m->input_shape.dim[m->input_shape.rank - 1];
        float *mean = malloc(sizeof(float) * n), *std = malloc(sizeof(float) * n);
        for (size_t i = 0; i < n; i++) {
            mean[i] = 0.25f * (float)i - 1.0f;
            std[i] = 0.5f + 0.125f * (float)i;
        }
        assert_int_equal(mf_model_set_preprocess(m, kind, n, mean, std, &err), MF_OK);
        snprintf(m->dataset, sizeof m->dataset, "uci-har");
        int k = (int)mf_model_output_size(m);
        char(*names)[MF_LABEL_MAX] = calloc((size_t)k, MF_LABEL_MAX);
        for (int i = 0; i < k; i++)
            snprintf(names[i], MF_LABEL_MAX, "class %d", i);
        assert_int_equal(mf_model_set_class_names(m, k, (const char(*)[MF_LABEL_MAX])names, &err),
                         MF_OK);
        paths p;
        setup_paths(&p, "roundtrip_preprocessing");
        save_ok(m, p.model);
        mf_model *a = load_ok(p.model);
        assert_int_equal(a->pre.kind, kind);
        assert_int_equal(a->pre.n, n);
        assert_memory_equal(a->pre.mean, mean, sizeof(float) * n);
        assert_memory_equal(a->pre.std, std, sizeof(float) * n);
        assert_string_equal(a->dataset, "uci-har");
        assert_int_equal(a->n_class_names, k);
        assert_string_equal(a->class_names[k - 1], names[k - 1]);
        /* the transform itself: (x − mean) / std per element or per channel */
        float *x = calloc(mf_model_input_size(a), sizeof(float));
        mf_model_preprocess(a, x, 1);
        size_t last = mf_model_input_size(a) - 1;
        assert_float_equal(x[last], -mean[last % n] / std[last % n], 1e-6);
        free(x);
        mf_model_free(a);
        mf_model_free(m);
        free(names);
        free(mean);
        free(std);
    }
}

static void test_roundtrip_unordered(void **state)
{
    (void)state;
    mf_model *m = model_unordered();
    assert_int_equal(m->output, 1);
    roundtrip(m, "roundtrip_unordered");
}

/* A config larger than HDF5's 64 KiB object-header limit for compact attributes. */
static void test_large_config(void **state)
{
    (void)state;
    paths p;
    setup_paths(&p, "large_config");
    mf_model *m = model_2d();
    size_t n = 300000;
    m->config_text = malloc(n + 1);
    assert_non_null(m->config_text);
    for (size_t i = 0; i < n; i++)
        m->config_text[i] = i % 64 == 63 ? '\n' : (char)('a' + i % 26);
    m->config_text[n] = '\0';
    save_ok(m, p.model);
    mf_model *back = load_ok(p.model);
    assert_same_model(m, back, 0);
    mf_model_free(back);
    mf_model_free(m);
}

static void test_file_layout(void **state)
{
    (void)state;
    paths p;
    setup_paths(&p, "file_layout");
    mf_model *m = model_1d();
    save_ok(m, p.model);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fopen(p.model, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    int v = 0;
    hid_t a = H5Aopen(f, "mcuforge_format_version", H5P_DEFAULT);
    assert_true(a >= 0);
    assert_true(H5Aread(a, H5T_NATIVE_INT, &v) >= 0);
    assert_int_equal(v, 1); /* no masks: version 1 (test_masks_round_trip: 2) */
    H5Aclose(a);
    const char *root[] = {"mcuforge_version", "git_describe", "input_shape",
                          "layer_names",      "output",       "config"};
    for (size_t i = 0; i < sizeof root / sizeof root[0]; i++)
        assert_true(H5Aexists(f, root[i]) > 0);
    /* Keras layout: conv1d kernel [k][cin][cout], dense [in][out] */
    hid_t d = H5Dopen2(f, "/layers/c1/kernel", H5P_DEFAULT);
    assert_true(d >= 0);
    hid_t sp = H5Dget_space(d);
    hsize_t dims[3];
    assert_int_equal(H5Sget_simple_extent_ndims(sp), 3);
    H5Sget_simple_extent_dims(sp, dims, NULL);
    assert_int_equal(dims[0], 3);
    assert_int_equal(dims[1], 3);
    assert_int_equal(dims[2], 4);
    H5Sclose(sp);
    H5Dclose(d);
    assert_true(H5Lexists(f, "/layers/c2/bias", H5P_DEFAULT) == 0); /* use_bias 0 */
    hid_t g = H5Gopen2(f, "/layers/fc", H5P_DEFAULT);
    assert_true(g >= 0);
    assert_true(H5Aexists(g, "units") > 0);
    assert_true(H5Aexists(g, "filters") == 0);
    int index = -1;
    a = H5Aopen(g, "index", H5P_DEFAULT);
    assert_true(H5Aread(a, H5T_NATIVE_INT, &index) >= 0);
    assert_int_equal(index, 9);
    H5Aclose(a);
    H5Gclose(g);
    g = H5Gopen2(f, "/layers/bn1", H5P_DEFAULT);
    assert_true(H5Aexists(g, "momentum") > 0 && H5Aexists(g, "epsilon") > 0);
    assert_true(H5Aexists(g, "kernel") == 0);
    H5Gclose(g);
    H5Fclose(f);
    mf_model_free(m);
}

static void test_version_mismatch(void **state)
{
    (void)state;
    paths p;
    setup_paths(&p, "version");
    mf_model *m = model_2d();
    save_ok(m, p.model);
    hid_t f = edit(p.model);
    replace_int_attr(f, "mcuforge_format_version", 99);
    H5Fclose(f);
    mf_error err;
    const char *msg = load_fails(p.model, &err);
    assert_contains(msg, p.model);
    assert_contains(msg, "version 99");
    assert_contains(msg, "reads versions 1 to 2");

    f = edit(p.model);
    assert_true(H5Adelete(f, "mcuforge_format_version") >= 0);
    H5Fclose(f);
    msg = load_fails(p.model, &err);
    assert_contains(msg, "not an mcuforge model file");
    mf_model_free(m);
}

static void test_truncated(void **state)
{
    (void)state;
    paths p;
    setup_paths(&p, "truncated");
    mf_model *m = model_1d();
    save_ok(m, p.model);
    struct stat st;
    assert_int_equal(stat(p.model, &st), 0);
    assert_int_equal(truncate(p.model, st.st_size / 2), 0);
    mf_error err;
    const char *msg = load_fails(p.model, &err);
    assert_contains(msg, "truncated");
    /* Every cut must fail cleanly, never crash. */
    for (int k = 1; k < 16; k++) {
        save_ok(m, p.model);
        assert_int_equal(truncate(p.model, st.st_size * k / 16), 0);
        load_fails(p.model, &err);
    }
    assert_int_equal(truncate(p.model, 0), 0);
    load_fails(p.model, &err);
    mf_model_free(m);
}

static void test_garbage_and_missing(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("garbage");
    const char *path = tu_write_file(dir, "garbage.h5", "this is not an HDF5 file\n");
    mf_error err;
    const char *msg = load_fails(path, &err);
    assert_contains(msg, "not an HDF5 file");

    char missing[1200];
    snprintf(missing, sizeof missing, "%s/does-not-exist.h5", dir);
    msg = load_fails(missing, &err);
    assert_contains(msg, "No such file");
}

static void test_wrong_shape(void **state)
{
    (void)state;
    paths p;
    setup_paths(&p, "wrong_shape");
    mf_model *m = model_1d();
    save_ok(m, p.model);
    hid_t f = edit(p.model);
    hsize_t dims[3] = {3, 3, 5};
    replace_dataset(f, "/layers/c1/kernel", H5T_IEEE_F32LE, 3, dims);
    H5Fclose(f);
    mf_error err;
    const char *msg = load_fails(p.model, &err);
    assert_string_equal(err.field, "/layers/c1/kernel");
    assert_string_equal(err.message, "expected shape 3x3x4, found 3x3x5");
    assert_contains(msg, "model.h5: /layers/c1/kernel: expected shape 3x3x4, found 3x3x5");

    /* wrong rank */
    save_ok(m, p.model);
    f = edit(p.model);
    hsize_t flat[1] = {36};
    replace_dataset(f, "/layers/c1/kernel", H5T_IEEE_F32LE, 1, flat);
    H5Fclose(f);
    load_fails(p.model, &err);
    assert_string_equal(err.message, "expected shape 3x3x4, found 36");

    /* integers instead of floats */
    save_ok(m, p.model);
    f = edit(p.model);
    hsize_t five[1] = {5};
    replace_dataset(f, "/layers/fc/bias", H5T_STD_I32LE, 1, five);
    H5Fclose(f);
    msg = load_fails(p.model, &err);
    assert_string_equal(err.field, "/layers/fc/bias");
    assert_contains(msg, "expected float32");

    /* float64 of the right shape is converted */
    save_ok(m, p.model);
    f = edit(p.model);
    replace_dataset(f, "/layers/fc/bias", H5T_IEEE_F64LE, 1, five);
    H5Fclose(f);
    mf_model *z = load_ok(p.model);
    mf_model_free(z);

    /* a missing dataset */
    save_ok(m, p.model);
    f = edit(p.model);
    assert_true(H5Ldelete(f, "/layers/bn1/moving_mean", H5P_DEFAULT) >= 0);
    H5Fclose(f);
    msg = load_fails(p.model, &err);
    assert_string_equal(err.field, "/layers/bn1/moving_mean");
    assert_contains(msg, "missing dataset");
    mf_model_free(m);
}

static void test_bad_attributes(void **state)
{
    (void)state;
    paths p;
    setup_paths(&p, "bad_attributes");
    mf_model *m = model_1d();
    mf_error err;

    save_ok(m, p.model);
    hid_t f = edit(p.model);
    hid_t g = H5Gopen2(f, "/layers/c1", H5P_DEFAULT);
    assert_true(H5Adelete(g, "kernel") >= 0);
    H5Gclose(g);
    H5Fclose(f);
    const char *msg = load_fails(p.model, &err);
    assert_string_equal(err.field, "/layers/c1");
    assert_contains(msg, "missing attribute 'kernel'");

    save_ok(m, p.model);
    f = edit(p.model);
    g = H5Gopen2(f, "/layers/c2", H5P_DEFAULT);
    replace_str_attr(g, "padding", "full");
    H5Gclose(g);
    H5Fclose(f);
    msg = load_fails(p.model, &err);
    assert_string_equal(err.field, "/layers/c2");
    assert_contains(msg, "padding");

    save_ok(m, p.model);
    f = edit(p.model);
    g = H5Gopen2(f, "/layers/c2", H5P_DEFAULT);
    replace_str_attr(g, "filters", "four");
    H5Gclose(g);
    H5Fclose(f);
    msg = load_fails(p.model, &err);
    assert_contains(msg, "attribute 'filters': expected an integer, found a string");

    save_ok(m, p.model);
    f = edit(p.model);
    g = H5Gopen2(f, "/layers/fc", H5P_DEFAULT);
    replace_str_attr(g, "type", "transformer");
    H5Gclose(g);
    H5Fclose(f);
    msg = load_fails(p.model, &err);
    assert_contains(msg, "unknown layer type 'transformer'");

    /* a size over the limits is refused before anything is allocated */
    save_ok(m, p.model);
    f = edit(p.model);
    g = H5Gopen2(f, "/layers/fc", H5P_DEFAULT);
    replace_int_attr(g, "units", 1 << 30);
    H5Gclose(g);
    H5Fclose(f);
    msg = load_fails(p.model, &err);
    assert_contains(msg, "out of range");

    save_ok(m, p.model);
    f = edit(p.model);
    replace_int_attr(f, "input_shape", -3);
    H5Fclose(f);
    msg = load_fails(p.model, &err);
    assert_contains(msg, "input_shape");

    /* a graph the engine rejects: an input that does not exist */
    save_ok(m, p.model);
    f = edit(p.model);
    g = H5Gopen2(f, "/layers/c1", H5P_DEFAULT);
    replace_str_attr(g, "inputs", "nowhere");
    H5Gclose(g);
    H5Fclose(f);
    msg = load_fails(p.model, &err);
    assert_string_equal(err.field, "/layers/c1");
    assert_contains(msg, "nowhere");

    /* a listed layer without a group */
    save_ok(m, p.model);
    f = edit(p.model);
    assert_true(H5Ldelete(f, "/layers/drop", H5P_DEFAULT) >= 0);
    H5Fclose(f);
    msg = load_fails(p.model, &err);
    assert_string_equal(err.field, "/layers/drop");
    assert_contains(msg, "missing group");

    /* two layers claiming the same index */
    save_ok(m, p.model);
    f = edit(p.model);
    g = H5Gopen2(f, "/layers/fc", H5P_DEFAULT);
    replace_int_attr(g, "index", 0);
    H5Gclose(g);
    H5Fclose(f);
    msg = load_fails(p.model, &err);
    assert_contains(msg, "index");

    /* a layer group not listed in layer_names */
    save_ok(m, p.model);
    f = edit(p.model);
    g = H5Gcreate2(f, "/layers/stray", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Gclose(g);
    H5Fclose(f);
    msg = load_fails(p.model, &err);
    assert_string_equal(err.field, "/layers");

    /* output attribute disagreeing with the graph */
    save_ok(m, p.model);
    f = edit(p.model);
    replace_str_attr(f, "output", "c1");
    H5Fclose(f);
    msg = load_fails(p.model, &err);
    assert_contains(msg, "output");
    mf_model_free(m);
}

static void test_atomic_write(void **state)
{
    (void)state;
    paths p;
    setup_paths(&p, "atomic");
    mf_model *m = model_2d();
    save_ok(m, p.model);
    assert_int_equal(tu_count_entries(p.dir), 1); /* no temp file left */

    /* overwriting an existing file */
    mf_model *other = model_unordered();
    save_ok(other, p.model);
    mf_model *back = load_ok(p.model);
    assert_same_model(other, back, 0);
    mf_model_free(back);
    assert_int_equal(tu_count_entries(p.dir), 1);

    /* a save that fails half-way (after the temp file exists) leaves the old file intact */
    size_t saved = m->n_params;
    m->n_params = 1;
    mf_error err;
    mf_error_clear(&err);
    hsize_t ids = open_ids();
    assert_int_equal(mf_model_save(m, p.model, &err), MF_ERR);
    assert_int_equal(open_ids(), ids);
    m->n_params = saved;
    assert_string_equal(err.file, p.model);
    assert_int_equal(tu_count_entries(p.dir), 1);
    back = load_ok(p.model);
    assert_same_model(other, back, 0);
    mf_model_free(back);

    /* into a folder that does not exist */
    char bad[1300];
    snprintf(bad, sizeof bad, "%s/no/such/dir/model.h5", p.dir);
    mf_error_clear(&err);
    assert_int_equal(mf_model_save(m, bad, &err), MF_ERR);
    assert_string_equal(err.file, bad);
    assert_contains(err.message, "cannot create");

    /* onto a directory: the rename fails, the temp file is removed */
    char as_dir[1300];
    snprintf(as_dir, sizeof as_dir, "%s/folder.h5", p.dir);
    assert_int_equal(mkdir(as_dir, 0755), 0);
    mf_error_clear(&err);
    assert_int_equal(mf_model_save(m, as_dir, &err), MF_ERR);
    assert_int_equal(open_ids(), ids);
    assert_contains(err.message, "rename");
    assert_int_equal(tu_count_entries(p.dir), 2);
    assert_int_equal(tu_count_entries(as_dir), 0);
    mf_model_free(other);
    mf_model_free(m);
}

static void test_h5dump_reads_it(void **state)
{
    (void)state;
    if (run("command -v h5dump >/dev/null 2>&1") != 0) {
        skip();
        return;
    }
    paths p;
    setup_paths(&p, "h5dump");
    mf_model *m = model_1d();
    save_ok(m, p.model);
    char out[1300], cmd[3000];
    snprintf(out, sizeof out, "%s/dump.txt", p.dir);
    snprintf(cmd, sizeof cmd, "h5dump -A '%s' > '%s' 2>&1", p.model, out);
    assert_int_equal(run(cmd), 0);
    char *text = read_text(out);
    assert_contains(text, "mcuforge_format_version");
    assert_contains(text, "layer_names");
    assert_contains(text, "GROUP \"layers\"");
    assert_contains(text, "GROUP \"c1\"");
    assert_contains(text, "\"conv1d\"");
    free(text);
    mf_model_free(m);
}

static void test_cli_info(void **state)
{
    (void)state;
    char exe[1200];
    snprintf(exe, sizeof exe, "%s/mcuforge", MF_BINARY_DIR);
    if (access(exe, X_OK) != 0) {
        skip();
        return;
    }
    paths p;
    setup_paths(&p, "cli_info");
    mf_model *m = model_1d();
    save_ok(m, p.model);
    char out[1300], cmd[4000];
    snprintf(out, sizeof out, "%s/info.txt", p.dir);
    snprintf(cmd, sizeof cmd, "'%s' info '%s' > '%s' 2>&1", exe, p.model, out);
    assert_int_equal(run(cmd), 0);
    char *text = read_text(out);
    assert_contains(text, "mcuforge_format_version 1");
    assert_contains(text, "conv1d");
    assert_contains(text, "add1");
    assert_contains(text, "c2,r1");
    assert_contains(text, "total parameters");
    char line[128];
    snprintf(line, sizeof line, "total MACs:       %llu", (unsigned long long)mf_model_macs(m));
    assert_contains(text, line);
    free(text);

    snprintf(cmd, sizeof cmd, "'%s' info --help > /dev/null 2>&1", exe);
    assert_int_equal(run(cmd), 0);
    snprintf(cmd, sizeof cmd, "'%s' info > /dev/null 2>&1", exe);
    assert_int_equal(run(cmd), 2);
    snprintf(cmd, sizeof cmd, "'%s' info a.h5 b.h5 > /dev/null 2>&1", exe);
    assert_int_equal(run(cmd), 2);
    const char *garbage = tu_write_file(p.dir, "garbage.h5", "garbage");
    snprintf(cmd, sizeof cmd, "'%s' info '%s' > '%s' 2>&1", exe, garbage, out);
    assert_int_equal(run(cmd), 1);
    text = read_text(out);
    assert_contains(text, "not an HDF5 file");
    free(text);
    mf_model_free(m);
}

/* A small model whose conv layer "big" declares `filters` output channels of a 255-tap kernel
 * over a [255, 1] input; saved with 4 filters, then edited with the HDF5 C API to declare
 * `filters` and a kernel dataset of 255x1x`filters` float32 laid out as `layout` (H5D_CONTIGUOUS
 * or H5D_CHUNKED with deflate) and written only when `write` is set. */
static void declare_big_kernel(const char *path, int filters, H5D_layout_t layout, int write)
{
    mf_error err;
    mf_shape in = {2, {255, 1}};
    mf_model *m = mf_model_new(&in, &err);
    assert_non_null(m);
    mf_layer_spec s = spec(MF_OP_CONV1D, "big");
    s.filters = 4;
    s.kernel = 255;
    s.padding = MF_PAD_VALID;
    s.use_bias = 0;
    add(m, &s);
    finish(m, 3);
    save_ok(m, path);
    mf_model_free(m);
    hid_t f = edit(path);
    hid_t g = H5Gopen2(f, "/layers/big", H5P_DEFAULT);
    replace_int_attr(g, "filters", filters);
    assert_true(H5Ldelete(g, "kernel", H5P_DEFAULT) >= 0);
    hsize_t dims[3] = {255, 1, (hsize_t)filters}, chunk[3] = {255, 1, 4};
    hid_t sp = H5Screate_simple(3, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (layout == H5D_CHUNKED) {
        assert_true(H5Pset_chunk(dcpl, 3, chunk) >= 0);
        assert_true(H5Pset_deflate(dcpl, 6) >= 0);
    }
    hid_t d = H5Dcreate2(g, "kernel", H5T_IEEE_F32LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    assert_true(d >= 0);
    if (write) {
        size_t n = (size_t)255 * filters;
        float *v = malloc(sizeof(float) * n);
        assert_non_null(v);
        for (size_t i = 0; i < n; i++)
            v[i] = (float)(i % 7) * 0.125f - 0.25f;
        assert_true(H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
        free(v);
    }
    H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(sp);
    H5Gclose(g);
    H5Fclose(f);
}

/* Loads path in a child process: whether it failed, its error, how much its peak resident
 * memory grew during the load (KiB) and the wall time. */
static int load_in_child(const char *path, char *msg, size_t size, long *grew_kib, double *secs)
{
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fd[0]);
        struct rusage before, after;
        getrusage(RUSAGE_SELF, &before);
        mf_error err;
        mf_error_clear(&err);
        mf_model *m = mf_model_load(path, &err);
        getrusage(RUSAGE_SELF, &after);
        char buf[2100];
        int n = snprintf(buf, sizeof buf, "%ld\n", after.ru_maxrss - before.ru_maxrss);
        mf_error_format(&err, buf + n, sizeof buf - (size_t)n);
        ssize_t w = write(fd[1], buf, strlen(buf));
        (void)w;
        close(fd[1]);
        _exit(m ? 0 : 1);
    }
    close(fd[1]);
    char buf[2100];
    size_t n = 0;
    ssize_t r;
    while (n + 1 < sizeof buf && (r = read(fd[0], buf + n, sizeof buf - 1 - n)) > 0)
        n += (size_t)r;
    buf[n] = '\0';
    close(fd[0]);
    int status = 0;
    assert_true(waitpid(pid, &status, 0) == pid);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    *secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    char *nl = strchr(buf, '\n');
    assert_non_null(nl);
    *grew_kib = strtol(buf, NULL, 10);
    snprintf(msg, size, "%s", nl + 1);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* Regression: a 22 KB model declaring an unwritten 255 x 1,048,576 kernel (within every graph
 * limit: 2^28 parameters) made info/eval/deploy allocate and read 1 GiB of HDF5 fill values.
 * A dataset must hold its data in the file: contiguous storage of exactly the declared bytes,
 * chunked storage with every chunk written and, compressed, at most 1032 declared bytes per
 * stored byte (deflate's largest ratio). Every layer dataset is checked before any is read. */
static void test_unwritten_datasets_are_refused_fast(void **state)
{
    (void)state;
    paths p;
    setup_paths(&p, "unwritten");
    const H5D_layout_t layouts[2] = {H5D_CONTIGUOUS, H5D_CHUNKED};
    for (int k = 0; k < 2; k++) {
        declare_big_kernel(p.model, 1 << 20, layouts[k], 0);
        struct stat st;
        assert_int_equal(stat(p.model, &st), 0);
        assert_true(st.st_size < 64 * 1024);
        char msg[2048];
        long grew = 0;
        double secs = 0;
        int rc = load_in_child(p.model, msg, sizeof msg, &grew, &secs);
        printf("%s kernel: exit %d, %.2f s, peak RSS grew by %ld MiB: %s\n",
               k ? "chunked" : "contiguous", rc, secs, grew / 1024, msg);
        assert_int_equal(rc, 1);
        assert_contains(msg, p.model);
        assert_contains(msg, "/layers/big/kernel");
        assert_contains(msg, "holds 0 bytes");
        assert_true(grew < 64 * 1024); /* not the 1 GiB the kernel declares */
        assert_true(secs < 10.0);
    }
    /* a graph declaring more parameters than the file's datasets hold is refused before its
     * arrays are allocated (the kernel stays the written 4-filter one) */
    declare_big_kernel(p.model, 4, H5D_CONTIGUOUS, 1);
    {
        hid_t f = edit(p.model);
        hid_t g = H5Gopen2(f, "/layers/big", H5P_DEFAULT);
        replace_int_attr(g, "filters", 1 << 20);
        H5Gclose(g);
        H5Fclose(f);
        char msg[2048];
        long grew = 0;
        double secs = 0;
        int rc = load_in_child(p.model, msg, sizeof msg, &grew, &secs);
        printf("declared 2^28 parameters over a 1020-value kernel: exit %d: %s\n", rc, msg);
        assert_int_equal(rc, 1);
        assert_contains(msg, "more than the 1049596 values that can back them"); /* 1020 + 2^20 */
    }
    /* written datasets load, contiguous or chunked and compressed */
    for (int k = 0; k < 2; k++) {
        declare_big_kernel(p.model, 8, layouts[k], 1);
        mf_model *m = load_ok(p.model);
        assert_true(m->params[1] == -0.125f);
        mf_model_free(m);
    }
}

/* Sets element `index` of dataset h5path of a saved file to *v, read and written as `type`
 * (esz bytes per element). */
static void poke(const char *path, const char *h5path, size_t index, hid_t type, size_t esz,
                 const void *v)
{
    hid_t f = edit(path);
    hid_t d = H5Dopen2(f, h5path, H5P_DEFAULT);
    assert_true(d >= 0);
    hid_t sp = H5Dget_space(d);
    size_t n = (size_t)H5Sget_simple_extent_npoints(sp);
    assert_true(index < n);
    char *buf = malloc(esz * n);
    assert_non_null(buf);
    assert_true(H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    memcpy(buf + esz * index, v, esz);
    assert_true(H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    free(buf);
    H5Sclose(sp);
    H5Dclose(d);
    H5Fclose(f);
}

static void poke_float(const char *path, const char *h5path, size_t index, float v)
{
    poke(path, h5path, index, H5T_NATIVE_FLOAT, sizeof v, &v);
}

static void poke_int8(const char *path, const char *h5path, size_t index, int v)
{
    const signed char c = (signed char)v;
    poke(path, h5path, index, H5T_NATIVE_SCHAR, 1, &c);
}

/* Pruning masks (format version 2): every kernel's kernel_mask is saved and loaded back with
 * the parameters; a model without a mask saves none and loads without one; a flag other than
 * 0/1, or a pruned value that is not 0, is refused naming the dataset and the index. */
static void test_masks_round_trip(void **state)
{
    (void)state;
    paths p;
    setup_paths(&p, "masks");
    mf_model *m = model_1d();
    mf_error err;
    mf_error_clear(&err);
    save_ok(m, p.model);
    mf_model *b = mf_model_load(p.model, &err);
    assert_non_null(b);
    assert_null(b->mask); /* dense */
    mf_model_free(b);

    assert_int_equal(mf_model_mask_alloc(m, &err), MF_OK);
    size_t off, n, pruned = 0;
    for (int i = 1; i < m->n_nodes; i++)
        if (mf_node_kernel(m, i, &off, &n))
            for (size_t k = 0; k < n; k += 3)
                m->mask[off + k] = 0, pruned++;
    mf_model_mask_apply(m);
    size_t total = 0;
    assert_int_equal(mf_model_mask_zeros(m, -1, &total), pruned);
    assert_true(total > pruned);
    save_ok(m, p.model);
    hid_t fv = H5Fopen(p.model, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t av = H5Aopen(fv, "mcuforge_format_version", H5P_DEFAULT);
    int version = 0;
    assert_true(av >= 0 && H5Aread(av, H5T_NATIVE_INT, &version) >= 0);
    assert_int_equal(version, 2); /* masks: version 2 */
    H5Aclose(av);
    H5Fclose(fv);
    b = mf_model_load(p.model, &err);
    assert_non_null(b);
    assert_non_null(b->mask);
    assert_memory_equal(b->mask, m->mask, m->n_params);
    assert_memory_equal(b->params, m->params, sizeof(float) * m->n_params);
    mf_model_free(b);

    assert_true(mf_node_kernel(m, mf_model_find(m, "c2"), &off, &n));
    poke_float(p.model, "/layers/c2/kernel", 3, 0.5f); /* index 3 is pruned (3 = 0 mod 3) */
    const char *msg = load_fails(p.model, &err);
    assert_contains(msg, "/layers/c2/kernel_mask");
    assert_contains(msg, "index 3 is pruned");
    save_ok(m, p.model);
    poke_int8(p.model, "/layers/c1/kernel_mask", 4, 2);
    msg = load_fails(p.model, &err);
    assert_contains(msg, "/layers/c1/kernel_mask");
    assert_contains(msg, "expected 0 (pruned) or 1");
    save_ok(m, p.model); /* a mask in a file that says version 1 */
    hid_t f = edit(p.model);
    replace_int_attr(f, "mcuforge_format_version", 1);
    H5Fclose(f);
    msg = load_fails(p.model, &err);
    assert_contains(msg, "/layers/c1/kernel_mask");
    assert_contains(msg, "format version 1");
    mf_model_free(m);
}

/* A model file of format version 1 (committed, written before masks existed) still loads. */
static void test_format_version_1_loads(void **state)
{
    (void)state;
    mf_error err;
    mf_error_clear(&err);
    mf_model *m = mf_model_load(MF_SOURCE_DIR "/tests/fixtures/model_v1.h5", &err);
    if (!m) fail_msg("%s", err.message);
    assert_null(m->mask);
    assert_int_equal(m->n_nodes, 5); /* input, conv1, pool1, flatten, fc */
    assert_true(mf_model_find(m, "fc") > 0);
    assert_true(m->n_params > 0);
    mf_model_free(m);
}

/* Regression: non-finite preprocessing statistics were loaded and printed into the firmware's
 * model.c as nanf/inff (which does not compile); NaN/inf weights and negative variances were
 * loaded without a word (a negative variance was later blamed on the folded kernel); a zero std
 * was refused without naming the dataset. Every float tensor must be finite, std positive and
 * moving_variance non-negative; errors name the file, the dataset and the index. */
static void test_invalid_values_are_refused(void **state)
{
    (void)state;
    paths p;
    setup_paths(&p, "invalid_values");
    mf_model *m = model_1d();
    mf_error err;
    float mean[3] = {0.5f, -0.25f, 1.0f}, std[3] = {1.0f, 2.0f, 0.5f};
    assert_int_equal(mf_model_set_preprocess(m, 2, 3, mean, std, &err), MF_OK);
    struct {
        const char *dataset;
        size_t index;
        float value;
        const char *message;
    } cases[] = {
        {"/preprocessing/mean", 1, NAN, "value at index 1 is nan; expected a finite number"},
        {"/preprocessing/std", 2, INFINITY, "value at index 2 is inf; expected a finite number"},
        {"/preprocessing/std", 0, 0.0f,
         "value at index 0 is 0; expected a positive standard "
         "deviation"},
        {"/preprocessing/std", 1, -2.0f,
         "value at index 1 is -2; expected a positive standard "
         "deviation"},
        {"/layers/c1/kernel", 23, NAN,
         "value at index 23 ([1][2][3]) is nan; expected a finite "
         "number"},
        {"/layers/fc/bias", 4, -INFINITY, "value at index 4 is -inf; expected a finite number"},
        {"/layers/bn1/moving_variance", 3, -0.5f,
         "value at index 3 is -0.5; expected a variance "
         ">= 0"},
        {"/layers/bn1/gamma", 0, NAN, "value at index 0 is nan"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        save_ok(m, p.model);
        poke_float(p.model, cases[i].dataset, cases[i].index, cases[i].value);
        const char *msg = load_fails(p.model, &err);
        assert_string_equal(err.field, cases[i].dataset);
        assert_contains(msg, p.model);
        assert_contains(err.message, cases[i].message);
    }
    /* a variance of 0 is a constant channel, not an error */
    save_ok(m, p.model);
    poke_float(p.model, "/layers/bn1/moving_variance", 0, 0.0f);
    mf_model *z = load_ok(p.model);
    mf_model_free(z);
    mf_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_1d),
        cmocka_unit_test(test_roundtrip_2d),
        cmocka_unit_test(test_roundtrip_unordered),
        cmocka_unit_test(test_roundtrip_preprocessing),
        cmocka_unit_test(test_large_config),
        cmocka_unit_test(test_file_layout),
        cmocka_unit_test(test_version_mismatch),
        cmocka_unit_test(test_masks_round_trip),
        cmocka_unit_test(test_format_version_1_loads),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_garbage_and_missing),
        cmocka_unit_test(test_wrong_shape),
        cmocka_unit_test(test_bad_attributes),
        cmocka_unit_test(test_unwritten_datasets_are_refused_fast),
        cmocka_unit_test(test_invalid_values_are_refused),
        cmocka_unit_test(test_atomic_write),
        cmocka_unit_test(test_h5dump_reads_it),
        cmocka_unit_test(test_cli_info),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
