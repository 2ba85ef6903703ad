/* Short training runs on slices of the real datasets (../shared/data): a broken loader, a
 * wrong channel order or a bad normalisation keeps the accuracy near chance and fails here.
 * Skipped when the data folder is absent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mf_train.h"

#define DATA MF_SOURCE_DIR "/../shared/data"

/* Trains the config text (paths relative to the repo root) and returns the test accuracy. */
static double train_text(const char *text)
{
    if (chdir(MF_SOURCE_DIR) != 0) fail_msg("cannot enter %s", MF_SOURCE_DIR);
    mf_error err;
    mf_config *cfg = NULL;
    mf_dataset *d = NULL;
    mf_model *m = NULL;
    mf_train_result res = {0};
    char buf[2048];
    if (mf_config_load_text(text, "test", NULL, 0, 0, &cfg, &err) ||
        mf_dataset_load(&cfg->dataset, NULL, &d, &err) ||
        !(m = mf_config_build_model(cfg, &d->shape, d->classes, &err)))
        fail_msg("%s", mf_error_format(&err, buf, sizeof buf));
    mf_model_init_params(m, cfg->train.seed);
    if (mf_model_fit_dataset(m, d, (int)cfg->dataset.normalize, &err) ||
        mf_train(m, &cfg->train, d, NULL, &res, &err))
        fail_msg("%s", mf_error_format(&err, buf, sizeof buf));
    double acc = res.history[res.epochs - 1].test_accuracy;
    free(res.history);
    mf_model_free(m);
    mf_dataset_free(d);
    mf_config_free(cfg);
    return acc;
}

static void expect_at_least(const char *what, double acc, double min)
{
    printf("%s: test accuracy %.4f (required %.2f)\n", what, acc, min);
    if (acc < min) fail_msg("%s: accuracy %.4f below %.2f", what, acc, min);
}

static void test_uci_har_slice(void **state)
{
    (void)state;
    if (access(DATA "/uci-har/reconstructed", R_OK) != 0) skip();
    /* the files are ordered by volunteer: a slice still holds every activity */
    double acc =
        train_text("dataset: {name: uci-har, cache: false, train_limit: 2500, test_limit: 1000}\n"
                   "model: {template: resnetv1_6, width: 8}\n"
                   "train: {epochs: 8, batch_size: 64, lr: 0.05, progress: none}\n");
    expect_at_least("uci-har, 2500 windows, 320 steps", acc, 0.70);
}

static void test_mnist_slice(void **state)
{
    (void)state;
    if (access(DATA "/mnist", R_OK) != 0) skip();
    double acc =
        train_text("dataset: {name: mnist, cache: false, normalize: channel,\n"
                   "          train_limit: 6000, test_limit: 2000}\n"
                   "model:\n  layers:\n"
                   "    - {name: c1, type: conv2d, filters: 6, kernel: 5, activation: relu}\n"
                   "    - {name: p1, type: maxpool2d, kernel: 2}\n"
                   "    - {name: c2, type: conv2d, filters: 16, kernel: 5, activation: relu}\n"
                   "    - {name: p2, type: maxpool2d, kernel: 2}\n"
                   "    - {name: f, type: flatten}\n"
                   "    - {name: d1, type: dense, units: 84, activation: relu}\n"
                   "    - {name: d2, type: dense, units: 10}\n"
                   "train: {epochs: 3, batch_size: 64, optimizer: adam, lr: 0.002,\n"
                   "        weight_decay: 0, progress: none}\n");
    expect_at_least("mnist, 6000 digits, 282 steps", acc, 0.90);
}

static void test_fsdd(void **state)
{
    (void)state;
    if (access(DATA "/fsdd/recordings", R_OK) != 0) skip();
    double acc = train_text("dataset: {name: fsdd, cache: false}\n"
                            "model: {template: resnetv1_6, width: 8}\n"
                            "train: {epochs: 15, batch_size: 64, lr: 0.05, progress: none}\n");
    expect_at_least("fsdd, 2700 recordings, 645 steps", acc, 0.80);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uci_har_slice),
        cmocka_unit_test(test_mnist_slice),
        cmocka_unit_test(test_fsdd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
