/* Training loop, optimizers, schedules, determinism. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "mf_train.h"
#include "mf_fileio.h"
#include "testutil.h"

/* conv1d(4, k3, same, relu) → batchnorm → maxpool1d(2) → global_avgpool → dense(3) */
static mf_model *tiny_model(void)
{
    mf_error err;
    mf_shape in = {2, {16, 2}};
    mf_model *m = mf_model_new(&in, &err);
    mf_layer_spec s;
    mf_layer_spec_init(&s, MF_OP_CONV1D, "conv");
    s.filters = 4;
    s.kernel = 3;
    s.padding = MF_PAD_SAME;
    s.activation = MF_ACT_RELU;
    assert_int_equal(mf_model_add(m, &s, &err), MF_OK);
    mf_layer_spec_init(&s, MF_OP_BATCHNORM, "bn");
    assert_int_equal(mf_model_add(m, &s, &err), MF_OK);
    mf_layer_spec_init(&s, MF_OP_MAXPOOL1D, "pool");
    s.kernel = 2;
    assert_int_equal(mf_model_add(m, &s, &err), MF_OK);
    mf_layer_spec_init(&s, MF_OP_GLOBAL_AVGPOOL, "gap");
    assert_int_equal(mf_model_add(m, &s, &err), MF_OK);
    mf_layer_spec_init(&s, MF_OP_DENSE, "out");
    s.filters = 3;
    assert_int_equal(mf_model_add(m, &s, &err), MF_OK);
    assert_int_equal(mf_model_finalize(m, &err), MF_OK);
    mf_model_init_params(m, 11);
    return m;
}

/* Ten one-step epochs: the training loss after each step must match the values this code
 * produced when the test was written (1e-4 relative: BLAS kernels differ between CPUs). */
static void test_loss_trajectory(void **state)
{
    (void)state;
    static const double expected[10] = {1.171559644345215, 1.156698037937034, 1.13689105192294,
                                        1.11243377875726,  1.089009663646362, 1.040458894773011,
                                        1.022969432976088, 0.995776045617069, 0.9641911661949527,
                                        0.9297270421233982};
    mf_error err;
    mf_dataset *d;
    mf_shape shape = {2, {16, 2}};
    assert_int_equal(mf_synthetic_generate(&shape, 3, 16, 32, 0.5f, 5, &d, &err), MF_OK);
    mf_model *m = tiny_model();
    mf_train_config tc = tu_train_config();
    mf_train_result res;
    assert_int_equal(mf_train(m, &tc, d, NULL, &res, &err), MF_OK);
    assert_int_equal(res.epochs, 10);
    int print = getenv("MF_PRINT_TRAJECTORY") != NULL;
    for (int e = 0; print && e < 10; e++)
        printf("%.16g,\n", res.history[e].loss);
    for (int e = 0; e < 10; e++) {
        double rel = fabs(res.history[e].loss - expected[e]) / expected[e];
        if (rel > 1e-4)
            fail_msg("epoch %d: loss %.10f, stored %.10f", e, res.history[e].loss, expected[e]);
    }
    free(res.history);
    mf_model_free(m);
    mf_dataset_free(d);
}

static void train_once(int threads, mf_optimizer_kind opt, float **params, size_t *n, float **state)
{
    mf_error err;
    mf_dataset *d;
    mf_shape shape = {2, {16, 2}};
    assert_int_equal(mf_synthetic_generate(&shape, 3, 100, 20, 0.5f, 9, &d, &err), MF_OK);
    mf_model *m = tiny_model();
    mf_train_config tc = tu_train_config();
    tc.threads = threads;
    tc.epochs = 3;
    tc.optimizer = opt;
    tc.lr = opt == MF_OPT_ADAM ? 0.01f : 0.05f;
    mf_train_result res;
    assert_int_equal(mf_train(m, &tc, d, NULL, &res, &err), MF_OK);
    *n = m->n_params;
    *params = malloc(sizeof(float) * m->n_params);
    memcpy(*params, m->params, sizeof(float) * m->n_params);
    *state = malloc(sizeof(float) * m->n_state);
    memcpy(*state, m->state, sizeof(float) * m->n_state);
    free(res.history);
    mf_model_free(m);
    mf_dataset_free(d);
}

/* Same config and seed twice ⇒ bit-identical weights and running statistics. */
static void test_bit_identical_runs(void **state)
{
    (void)state;
    for (int opt = 0; opt < 2; opt++) {
        float *p1, *p2, *s1, *s2;
        size_t n1, n2;
        train_once(2, (mf_optimizer_kind)opt, &p1, &n1, &s1);
        train_once(2, (mf_optimizer_kind)opt, &p2, &n2, &s2);
        assert_int_equal(n1, n2);
        assert_memory_equal(p1, p2, sizeof(float) * n1);
        assert_memory_equal(s1, s2, sizeof(float) * 8);
        /* and training really changed something: the init differs from the result */
        mf_model *fresh = tiny_model();
        assert_true(memcmp(fresh->params, p1, sizeof(float) * n1) != 0);
        mf_model_free(fresh);
        free(p1);
        free(p2);
        free(s1);
        free(s2);
    }
}

/* A last mini-batch smaller than the thread count leaves shard 0 empty; its gradient must be
 * zero, not the previous step's. One and two threads then agree up to float rounding. */
static void test_partial_batch_with_empty_shard(void **state)
{
    (void)state;
    float result[2][6];
    for (int t = 0; t < 2; t++) {
        mf_error err;
        mf_dataset *d;
        mf_shape shape = {1, {2}};
        assert_int_equal(mf_synthetic_generate(&shape, 2, 3, 2, 0.5f, 4, &d, &err), MF_OK);
        mf_model *m = mf_model_new(&shape, &err);
        mf_layer_spec s;
        mf_layer_spec_init(&s, MF_OP_DENSE, "out");
        s.filters = 2;
        assert_int_equal(mf_model_add(m, &s, &err), MF_OK);
        assert_int_equal(mf_model_finalize(m, &err), MF_OK);
        mf_model_init_params(m, 2);
        mf_train_config tc = tu_train_config();
        tc.epochs = 1;
        tc.batch_size = 2;
        tc.lr = 1.0f;
        tc.momentum = 0.0f;
        tc.threads = t + 1;
        mf_train_result res;
        assert_int_equal(mf_train(m, &tc, d, NULL, &res, &err), MF_OK);
        memcpy(result[t], m->params, sizeof(float) * 6);
        free(res.history);
        mf_model_free(m);
        mf_dataset_free(d);
    }
    for (int i = 0; i < 6; i++)
        assert_float_equal(result[0][i], result[1][i], 1e-5);
}

static void test_sgd_step_by_hand(void **state)
{
    (void)state;
    mf_train_config tc = tu_train_config();
    tc.momentum = 0.5f;
    tc.weight_decay = 0.1f;
    mf_optimizer o;
    mf_error err;
    assert_int_equal(mf_optimizer_init(&o, &tc, 1, &err), MF_OK);
    float w = 1.0f, g = 2.0f;
    mf_optimizer_step(&o, &w, &g, 0.1f); /* d = 2 + 0.1 = 2.1; buf = 2.1; w = 1 - 0.21 */
    assert_float_equal(w, 0.79f, 1e-6);
    mf_optimizer_step(&o, &w, &g, 0.1f); /* d = 2.079; buf = 1.05 + 2.079 = 3.129 */
    assert_float_equal(w, 0.79f - 0.3129f, 1e-6);
    mf_optimizer_free(&o);
    tc.nesterov = true;
    assert_int_equal(mf_optimizer_init(&o, &tc, 1, &err), MF_OK);
    w = 1.0f;
    mf_optimizer_step(&o, &w, &g, 0.1f); /* buf = 2.1; d = 2.1 + 0.5·2.1 = 3.15 */
    assert_float_equal(w, 1.0f - 0.315f, 1e-6);
    mf_optimizer_free(&o);
}

static void test_adam_step_by_hand(void **state)
{
    (void)state;
    mf_train_config tc = tu_train_config();
    tc.optimizer = MF_OPT_ADAM;
    tc.weight_decay = 0.0f;
    mf_optimizer o;
    mf_error err;
    assert_int_equal(mf_optimizer_init(&o, &tc, 1, &err), MF_OK);
    float w = 1.0f, g = 0.5f;
    /* first step: m̂ = g, v̂ = g², update = lr · g/|g| */
    mf_optimizer_step(&o, &w, &g, 0.01f);
    assert_float_equal(w, 0.99f, 1e-6);
    g = -0.25f;
    /* m = 0.9·0.05 + 0.1·(−0.25) = 0.02; v = 0.999·0.00025 + 0.001·0.0625 = 0.00031225
     * m̂ = 0.02/0.19; v̂ = 0.00031225/0.001999 */
    mf_optimizer_step(&o, &w, &g, 0.01f);
    double mh = 0.02 / 0.19, vh = 0.00031225 / (1 - 0.999 * 0.999);
    assert_float_equal(w, 0.99 - 0.01 * mh / (sqrt(vh) + 1e-8), 1e-5);
    mf_optimizer_free(&o);
}

static void test_schedules(void **state)
{
    (void)state;
    mf_train_config tc = tu_train_config();
    int milestones[] = {3, 6};
    tc.lr = 1.0f;
    tc.schedule = MF_SCHED_MULTISTEP;
    tc.milestones = milestones;
    tc.milestones_count = 2;
    tc.gamma = 0.5f;
    assert_float_equal(mf_schedule_lr(&tc, 0), 1.0f, 1e-7);
    assert_float_equal(mf_schedule_lr(&tc, 2), 1.0f, 1e-7);
    assert_float_equal(mf_schedule_lr(&tc, 3), 0.5f, 1e-7);
    assert_float_equal(mf_schedule_lr(&tc, 6), 0.25f, 1e-7);
    tc.schedule = MF_SCHED_COSINE;
    tc.epochs = 10;
    tc.min_lr = 0.0f;
    assert_float_equal(mf_schedule_lr(&tc, 0), 1.0f, 1e-7);
    assert_float_equal(mf_schedule_lr(&tc, 5), 0.5f, 1e-6);
    assert_true(mf_schedule_lr(&tc, 9) < 0.03f);
}

/* The synthetic data is learnable: resnetv1_6 width 8 gets well above chance in eight epochs;
 * a broken gradient anywhere in the template keeps it near 1/6. */
static void test_resnet_learns_synthetic(void **state)
{
    (void)state;
    mf_error err;
    mf_dataset *d;
    mf_shape shape = {2, {128, 9}};
    assert_int_equal(mf_synthetic_generate(&shape, 6, 2048, 256, 1.0f, 1, &d, &err), MF_OK);
    mf_template_args a = {.width = 8, .dims = 1, .input_shape = shape, .classes = 6};
    mf_model *m = mf_template_build("resnetv1_6", &a, &err);
    assert_non_null(m);
    mf_model_init_params(m, 1);
    mf_train_config tc = tu_train_config();
    int milestones[] = {6};
    tc.epochs = 8;
    tc.batch_size = 64;
    tc.schedule = MF_SCHED_MULTISTEP;
    tc.milestones = milestones;
    tc.milestones_count = 1;
    mf_train_result res;
    assert_int_equal(mf_train(m, &tc, d, NULL, &res, &err), MF_OK);
    double acc = res.history[res.epochs - 1].test_accuracy;
    if (acc < 0.85) fail_msg("test accuracy after 8 epochs: %.3f (expected >= 0.85)", acc);
    free(res.history);
    mf_model_free(m);
    mf_dataset_free(d);
}

static void test_shape_mismatch_is_an_error(void **state)
{
    (void)state;
    mf_error err;
    mf_dataset *d;
    mf_shape shape = {2, {8, 2}};
    assert_int_equal(mf_synthetic_generate(&shape, 3, 10, 10, 0.5f, 9, &d, &err), MF_OK);
    mf_model *m = tiny_model();
    mf_train_config tc = tu_train_config();
    mf_train_result res;
    assert_int_equal(mf_train(m, &tc, d, NULL, &res, &err), MF_ERR);
    assert_non_null(strstr(err.message, "the model takes 16x2"));
    mf_model_free(m);
    mf_dataset_free(d);
}

/* ---- no training on nothing, no model from a diverged run ---- */

static void test_empty_training_split_is_refused(void **state)
{
    (void)state;
    mf_error err;
    mf_dataset *d;
    mf_shape shape = {2, {16, 2}};
    assert_int_equal(mf_synthetic_generate(&shape, 3, 16, 8, 0.5f, 5, &d, &err), MF_OK);
    int n_train = d->n_train;
    d->n_train = 0;
    mf_model *m = tiny_model();
    mf_train_config tc = tu_train_config();
    mf_train_result res;
    mf_error_clear(&err);
    assert_int_equal(mf_train(m, &tc, d, NULL, &res, &err), MF_ERR);
    fprintf(stderr, "empty split: %s\n", err.message);
    assert_non_null(strstr(err.message, "dataset 'synthetic'"));
    assert_non_null(strstr(err.message, "the training split is empty"));
    assert_null(res.history);
    assert_int_equal(res.epochs, 0);
    /* the statistics of the input transform come from the training split too */
    mf_error_clear(&err);
    assert_int_equal(mf_model_fit_dataset(m, d, MF_NORM_ELEMENT, &err), MF_ERR);
    assert_non_null(strstr(err.message, "the training split is empty"));
    d->n_train = n_train;
    mf_model_free(m);
    mf_dataset_free(d);
}

typedef struct poison {
    mf_model *m;
    int calls, at; /* before_step call that puts NaNs into the weights */
} poison;

static void poison_before_step(void *ctx, const float *params)
{
    (void)params;
    poison *p = ctx;
    if (++p->calls == p->at)
        for (size_t i = 0; i < p->m->n_params; i++)
            p->m->params[i] = NAN;
}

static void test_non_finite_loss_stops_training(void **state)
{
    (void)state;
    mf_error err;
    mf_dataset *d;
    mf_shape shape = {2, {16, 2}};
    /* 48 samples in batches of 16: 3 steps per epoch; before_step runs before each step and
     * before each epoch's evaluation, so call 6 is epoch 2's second step */
    assert_int_equal(mf_synthetic_generate(&shape, 3, 48, 16, 0.5f, 5, &d, &err), MF_OK);
    mf_model *m = tiny_model();
    mf_train_config tc = tu_train_config();
    tc.epochs = 4;
    poison p = {m, 0, 6};
    mf_train_hooks hooks = {&p, NULL, poison_before_step, NULL};
    mf_train_result res;
    mf_error_clear(&err);
    assert_int_equal(mf_train_with(m, &tc, d, NULL, &hooks, &res, &err), MF_ERR);
    fprintf(stderr, "diverged: %s\n", err.message);
    assert_non_null(strstr(err.message, "not finite"));
    assert_non_null(strstr(err.message, "epoch 2, step 2 of 3"));
    assert_int_equal(res.epochs, 1);
    free(res.history);

    /* weights that turn non-finite in the very last step (one step, an infinite lr) are
     * caught too, though no later loss shows it */
    mf_model_init_params(m, 11);
    tc = tu_train_config();
    tc.epochs = 1;
    tc.batch_size = 48;
    tc.lr = INFINITY;
    mf_error_clear(&err);
    int rc = mf_train(m, &tc, d, NULL, &res, &err);
    fprintf(stderr, "infinite lr: %s\n", rc ? err.message : "(trained)");
    assert_int_equal(rc, MF_ERR);
    assert_non_null(strstr(err.message, "the weights are not finite after epoch 1, step 1 of 1"));
    free(res.history);
    mf_model_free(m);
    mf_dataset_free(d);
}

/* The trainer bounds what it allocates by itself too (a config's limits, mf_config.h), for
 * callers that fill mf_train_config without a config: 2,000,000,000 samples per batch used to
 * allocate 8 GB of mixup indices before anything refused it. */
static void test_train_sizes_are_bounded(void **state)
{
    (void)state;
    mf_error err;
    mf_dataset *d;
    mf_shape shape = {2, {16, 2}};
    assert_int_equal(mf_synthetic_generate(&shape, 3, 16, 8, 0.5f, 5, &d, &err), MF_OK);
    mf_model *m = tiny_model();
    static const struct {
        int batch, epochs, threads;
        const char *message;
    } cases[] = {
        {2000000000, 1, 2, "train.batch_size must be in [1, 65536] (got 2000000000)"},
        {0, 1, 2, "train.batch_size must be in [1, 65536] (got 0)"},
        {16, 1000000, 2, "train.epochs must be in [1, 100000] (got 1000000)"},
        {16, 0, 2, "train.epochs must be in [1, 100000] (got 0)"},
        {16, 1, 65, "train.threads must be in [1, 64] (got 65)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mf_train_config tc = tu_train_config();
        tc.batch_size = cases[i].batch;
        tc.epochs = cases[i].epochs;
        tc.threads = cases[i].threads;
        mf_train_result res;
        mf_error_clear(&err);
        assert_int_equal(mf_train(m, &tc, d, NULL, &res, &err), MF_ERR);
        if (!strstr(err.message, cases[i].message))
            fprintf(stderr, "case %zu: %s\n", i, err.message);
        assert_non_null(strstr(err.message, cases[i].message));
        assert_null(res.history);
    }
    mf_model_free(m);
    mf_dataset_free(d);
}

/* ---- the history plot: file names reach gnuplot as data, never as script text ---- */

static int is_png(const char *path)
{
    unsigned char magic[8] = {0};
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t got = fread(magic, 1, sizeof magic, f);
    fclose(f);
    return got == 8 && !memcmp(magic, "\x89PNG\r\n\x1a\n", 8);
}

static void write_history(const char *path)
{
    mf_epoch_stats h[3] = {{1.0, 0.5, 1.1, 0.4, 0.05, 1, 100},
                           {0.8, 0.6, 0.9, 0.55, 0.05, 1, 100},
                           {0.6, 0.7, 0.8, 0.6, 0.05, 1, 100}};
    mf_train_result res = {3, "val", h};
    mf_error err;
    assert_int_equal(mf_history_write_csv(&res, path, &err), MF_OK);
}

static void test_plot_file_names_are_data(void **state)
{
    (void)state;
    if (!mf_file_in_path("gnuplot")) {
        if (!tu_tool_missing_ok("gnuplot")) fail();
        skip();
    }
    const char *dir = tu_tmpdir("test_train_plot");
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(dir), 0);
    mf_error err;

    /* train.output = "x';system('touch PWNED');'y/model.h5": the folder exists (the pipeline
     * makes it), gnuplot must draw into it and run nothing */
    const char *evil = "x';system('touch PWNED');'y";
    assert_int_equal(mkdir(evil, 0777), 0);
    char csv[4200], png[4200];
    snprintf(csv, sizeof csv, "%s/history.csv", evil);
    snprintf(png, sizeof png, "%s/history.png", evil);
    write_history(csv);
    int rc = mf_history_plot(csv, png, &err);
    if (rc) fprintf(stderr, "plot: %s\n", err.message);
    assert_int_equal(access("PWNED", F_OK), -1);
    assert_int_equal(access(evil, F_OK), 0);
    assert_int_equal(rc, MF_OK);
    assert_true(is_png(png));
    assert_int_equal(tu_count_entries(evil), 2); /* history.csv, history.png: no temporaries */

    /* a folder with a quote in its name */
    assert_int_equal(mkdir("bob's runs", 0777), 0);
    write_history("bob's runs/history.csv");
    rc = mf_history_plot("bob's runs/history.csv", "bob's runs/history.png", &err);
    if (rc) fprintf(stderr, "plot: %s\n", err.message);
    assert_int_equal(rc, MF_OK);
    assert_true(is_png("bob's runs/history.png"));

    /* names gnuplot reads as commands: '<cmd' as a data file, '|cmd' as the output */
    write_history("<touch PWNED2");
    rc = mf_history_plot("<touch PWNED2", "|touch PWNED3", &err);
    if (rc) fprintf(stderr, "plot: %s\n", err.message);
    assert_int_equal(access("PWNED2", F_OK), -1);
    assert_int_equal(access("PWNED3", F_OK), -1);
    assert_int_equal(rc, MF_OK);
    assert_true(is_png("|touch PWNED3"));

    /* a missing history: the error names it, and nothing is left behind */
    int before = tu_count_entries(".");
    assert_int_equal(mf_history_plot("missing.csv", "missing.png", &err), MF_ERR);
    assert_non_null(strstr(err.message, "missing.csv"));
    assert_int_equal(access("missing.png", F_OK), -1);
    assert_int_equal(tu_count_entries("."), before);

    assert_int_equal(chdir(cwd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loss_trajectory),
        cmocka_unit_test(test_bit_identical_runs),
        cmocka_unit_test(test_partial_batch_with_empty_shard),
        cmocka_unit_test(test_sgd_step_by_hand),
        cmocka_unit_test(test_adam_step_by_hand),
        cmocka_unit_test(test_schedules),
        cmocka_unit_test(test_resnet_learns_synthetic),
        cmocka_unit_test(test_shape_mismatch_is_an_error),
        cmocka_unit_test(test_plot_file_names_are_data),
        cmocka_unit_test(test_empty_training_split_is_refused),
        cmocka_unit_test(test_non_finite_loss_stops_training),
        cmocka_unit_test(test_train_sizes_are_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
