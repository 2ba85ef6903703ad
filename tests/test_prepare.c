/* Shared dataset steps: validation split by group, normalisation statistics, the HDF5 cache,
 * metrics and mixup's sampler. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cache.h"
#include "mf_train.h"
#include "prepare.h"
#include "testutil.h"

/* 10 training samples of 2x2 in 5 groups of 2; sample i holds the value i everywhere. */
static mf_dataset *grouped(void)
{
    mf_error err;
    mf_shape s = {2, {2, 2}};
    mf_dataset *d = mf_dataset_alloc("t", &s, 2, 10, 3, 1, &err);
    assert_non_null(d);
    for (int i = 0; i < 10; i++) {
        for (int k = 0; k < 4; k++)
            d->x_train[i * 4 + k] = (float)i;
        d->y_train[i] = i % 2;
        d->group_train[i] = 100 + i / 2;
    }
    for (int i = 0; i < 12; i++)
        d->x_test[i] = 1.0f;
    for (int i = 0; i < 3; i++)
        d->y_test[i] = i % 2;
    return d;
}

static void test_validation_keeps_groups_together(void **state)
{
    (void)state;
    mf_error err;
    mf_dataset *d = grouped();
    assert_int_equal(mf_dataset_split_validation(d, 0.4f, 7, &err), MF_OK);
    assert_int_equal(d->n_val, 4); /* ceil(0.4 · 5) = 2 groups of 2 */
    assert_int_equal(d->n_train, 6);
    /* a group is wholly on one side: sample values 2g and 2g+1 travel together */
    for (int v = 0; v < d->n_val; v += 2) {
        int a = (int)d->x_val[v * 4], b = (int)d->x_val[(v + 1) * 4];
        assert_int_equal(a / 2, b / 2);
        for (int t = 0; t < d->n_train; t++)
            assert_int_not_equal(d->group_train[t], 100 + a / 2);
    }
    /* training samples keep their order and their labels */
    for (int t = 1; t < d->n_train; t++)
        assert_true(d->x_train[t * 4] > d->x_train[(t - 1) * 4]);
    for (int t = 0; t < d->n_train; t++)
        assert_int_equal(d->y_train[t], (int)d->x_train[t * 4] % 2);
    /* the same seed gives the same split */
    mf_dataset *e = grouped();
    assert_int_equal(mf_dataset_split_validation(e, 0.4f, 7, &err), MF_OK);
    assert_memory_equal(d->x_val, e->x_val, sizeof(float) * 16);
    mf_dataset_free(d);
    mf_dataset_free(e);
}

static void test_validation_without_groups_and_errors(void **state)
{
    (void)state;
    mf_error err;
    mf_dataset *d = grouped();
    free(d->group_train);
    d->group_train = NULL;
    assert_int_equal(mf_dataset_split_validation(d, 0.25f, 1, &err), MF_OK);
    assert_int_equal(d->n_val, 3); /* ceil(0.25 · 10) single samples */
    mf_dataset_free(d);
    d = grouped();
    mf_dataset_limit(d, 2, 1);
    assert_int_equal(d->n_train, 2);
    assert_int_equal(d->n_test, 1);
    /* one group cannot be split */
    for (int i = 0; i < 2; i++)
        d->group_train[i] = 5;
    assert_int_equal(mf_dataset_split_validation(d, 0.5f, 1, &err), MF_ERR);
    assert_non_null(strstr(err.message, "leaves no group"));
    mf_dataset_free(d);
}

static void test_norm_stats(void **state)
{
    (void)state;
    mf_error err;
    mf_dataset *d = grouped();
    d->x_train[1] = 100.0f; /* element 1 of sample 0 */
    size_t n;
    float *mean, *std;
    assert_int_equal(mf_dataset_norm_stats(d, MF_NORM_ELEMENT, &n, &mean, &std, &err), MF_OK);
    assert_int_equal(n, 4);
    assert_float_equal(mean[0], 4.5f, 1e-6);        /* mean of 0..9 */
    assert_float_equal(std[0], sqrtf(8.25f), 1e-5); /* population std of 0..9 */
    assert_float_equal(mean[1], 4.5f + 10.0f, 1e-5);
    free(mean);
    free(std);
    assert_int_equal(mf_dataset_norm_stats(d, MF_NORM_CHANNEL, &n, &mean, &std, &err), MF_OK);
    assert_int_equal(n, 2);
    assert_float_equal(mean[0], 4.5f, 1e-6); /* channel 0: elements 0 and 2 */
    assert_float_equal(mean[1], 4.5f + 5.0f, 1e-5);
    free(mean);
    free(std);
    /* a constant feature keeps std 1 */
    for (int i = 0; i < 10; i++)
        d->x_train[i * 4 + 3] = 2.0f;
    assert_int_equal(mf_dataset_norm_stats(d, MF_NORM_ELEMENT, &n, &mean, &std, &err), MF_OK);
    assert_float_equal(std[3], 1.0f, 0.0);
    assert_float_equal(mean[3], 2.0f, 0.0);
    free(mean);
    free(std);
    assert_int_equal(mf_dataset_norm_stats(d, MF_NORM_NONE, &n, &mean, &std, &err), MF_OK);
    assert_int_equal(n, 0);
    mf_dataset_free(d);
}

static void test_cache_roundtrip_and_key(void **state)
{
    (void)state;
    mf_error err;
    const char *dir = tu_tmpdir("cache");
    char src[1200], file[1300];
    snprintf(src, sizeof src, "%s/src", dir);
    char cmd[2600];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/sub'", src);
    assert_int_equal(system(cmd), 0);
    tu_write_file(src, "a.txt", "hello");
    uint64_t k1, k2, k3, k4;
    assert_int_equal(mf_cache_key(src, "p1", &k1, &err), MF_OK);
    assert_int_equal(mf_cache_key(src, "p1", &k2, &err), MF_OK);
    assert_true(k1 == k2);
    assert_int_equal(mf_cache_key(src, "p2", &k3, &err), MF_OK);
    assert_true(k1 != k3); /* parameters change the key */
    tu_write_file(src, "a.txt", "hellp");
    assert_int_equal(mf_cache_key(src, "p1", &k4, &err), MF_OK);
    assert_true(k1 != k4); /* contents change the key */
    snprintf(file, sizeof file, "%s/missing", dir);
    assert_int_equal(mf_cache_key(file, "p1", &k4, &err), MF_ERR);

    mf_dataset *d = grouped(), *back = NULL;
    d->class_names = calloc(2, MF_CLASS_NAME_MAX);
    snprintf(d->class_names[1], MF_CLASS_NAME_MAX, "second, with a comma");
    snprintf(file, sizeof file, "%s/c.h5", dir);
    assert_int_equal(mf_cache_load(file, "t", &back, &err), MF_OK);
    assert_null(back); /* nothing cached yet */
    assert_int_equal(mf_cache_save(file, d, &err), MF_OK);
    assert_int_equal(mf_cache_load(file, "t", &back, &err), MF_OK);
    assert_non_null(back);
    assert_int_equal(back->n_train, 10);
    assert_int_equal(back->n_test, 3);
    assert_true(mf_shape_equal(&back->shape, &d->shape));
    assert_memory_equal(back->x_train, d->x_train, sizeof(float) * 40);
    assert_memory_equal(back->group_train, d->group_train, sizeof(int) * 10);
    assert_memory_equal(back->y_test, d->y_test, sizeof(int) * 3);
    assert_string_equal(back->class_names[1], "second, with a comma");
    mf_dataset_free(back);
    /* a damaged cache file is dropped (and rebuilt by the caller), not fatal */
    FILE *f = fopen(file, "wb");
    fputs("not hdf5", f);
    fclose(f);
    back = NULL;
    assert_int_equal(mf_cache_load(file, "t", &back, &err), MF_OK);
    assert_null(back);
    assert_int_not_equal(access(file, F_OK), 0);
    mf_dataset_free(d);
}

static void test_metrics(void **state)
{
    (void)state;
    mf_error err;
    int y[] = {0, 0, 1, 1, 2, 2}, p[] = {0, 1, 1, 1, 0, 2};
    mf_metrics m;
    assert_int_equal(mf_metrics_compute(y, p, 6, 3, &m, &err), MF_OK);
    assert_int_equal(m.correct, 4);
    assert_int_equal(m.confusion[0 * 3 + 1], 1);
    assert_int_equal(m.confusion[2 * 3 + 0], 1);
    assert_int_equal(m.confusion[1 * 3 + 1], 2);
    const char *dir = tu_tmpdir("metrics");
    char c[1200], pc[1200];
    snprintf(c, sizeof c, "%s/confusion.csv", dir);
    snprintf(pc, sizeof pc, "%s/per_class.csv", dir);
    assert_int_equal(mf_metrics_write_csv(&m, NULL, c, pc, &err), MF_OK);
    FILE *f = fopen(c, "r");
    char line[256];
    assert_non_null(fgets(line, sizeof line, f));
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "0,1,1,0\n");
    fclose(f);
    f = fopen(pc, "r");
    assert_non_null(fgets(line, sizeof line, f));
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "0,\"0\",2,1,0.500000\n");
    fclose(f);
    mf_metrics_free(&m);
}

/* Beta(α, α) for mixup: the sample mean and variance match α/(2α) and 1/(4(2α+1)). */
static void test_beta_sampler(void **state)
{
    (void)state;
    const double alphas[] = {0.2, 1.0, 3.0};
    for (int a = 0; a < 3; a++) {
        mf_rng r;
        mf_rng_seed(&r, 42);
        double sum = 0, sq = 0;
        const int n = 20000;
        for (int i = 0; i < n; i++) {
            double b = mf_rng_beta(&r, alphas[a], alphas[a]);
            assert_true(b >= 0.0 && b <= 1.0);
            sum += b;
            sq += b * b;
        }
        double mean = sum / n, var = sq / n - mean * mean;
        assert_float_equal(mean, 0.5, 0.01);
        assert_float_equal(var, 1.0 / (4.0 * (2.0 * alphas[a] + 1.0)), 0.01);
    }
}

/* The mixup loss is λ·CE(a) + (1 − λ)·CE(b), its gradient softmax − (λ·onehot(a) +
 * (1−λ)·onehot(b)). */
static void test_mixup_loss(void **state)
{
    (void)state;
    float z[3] = {1.0f, 2.0f, 0.5f}, d[3];
    int a = 0, b = 1;
    double lse = log(exp(1.0) + exp(2.0) + exp(0.5));
    double loss = mf_softmax_xent(z, 1, 3, &a, &b, 0.3f, 1, d, NULL);
    assert_float_equal(loss, 0.3 * (lse - 1.0) + 0.7 * (lse - 2.0), 1e-6);
    assert_float_equal(d[0], exp(1.0 - lse) - 0.3, 1e-6);
    assert_float_equal(d[1], exp(2.0 - lse) - 0.7, 1e-6);
    assert_float_equal(d[2], exp(0.5 - lse), 1e-6);
}

/* Training with mixup runs, changes the result, and stays reproducible. */
static void test_mixup_training(void **state)
{
    (void)state;
    float *w[3];
    for (int run = 0; run < 3; run++) {
        mf_error err;
        mf_dataset *d;
        mf_shape shape = {2, {16, 2}};
        assert_int_equal(mf_synthetic_generate(&shape, 3, 64, 16, 0.5f, 5, &d, &err), MF_OK);
        mf_template_args a = {.width = 4, .dims = 1, .input_shape = shape, .classes = 3};
        mf_model *m = mf_template_build("resnetv1_6", &a, &err);
        mf_model_init_params(m, 1);
        mf_train_config tc;
        memset(&tc, 0, sizeof tc);
        tc.epochs = 2;
        tc.batch_size = 16;
        tc.lr = 0.05f;
        tc.momentum = 0.9f;
        tc.seed = 1;
        tc.threads = 2;
        tc.progress = MF_PROGRESS_NONE;
        tc.mixup_alpha = run == 2 ? 0.0f : 1.0f;
        mf_train_result res;
        assert_int_equal(mf_train(m, &tc, d, NULL, &res, &err), MF_OK);
        w[run] = malloc(sizeof(float) * m->n_params);
        memcpy(w[run], m->params, sizeof(float) * m->n_params);
        if (run == 2) {
            assert_memory_equal(w[0], w[1], sizeof(float) * m->n_params);
            assert_true(memcmp(w[0], w[2], sizeof(float) * m->n_params) != 0);
        }
        free(res.history);
        mf_model_free(m);
        mf_dataset_free(d);
    }
    for (int i = 0; i < 3; i++)
        free(w[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validation_keeps_groups_together),
        cmocka_unit_test(test_validation_without_groups_and_errors),
        cmocka_unit_test(test_norm_stats),
        cmocka_unit_test(test_cache_roundtrip_and_key),
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_beta_sampler),
        cmocka_unit_test(test_mixup_loss),
        cmocka_unit_test(test_mixup_training),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
