/* Pruning (compress/, pipeline/prune.c, cli/cmd_prune.c): magnitude selection (global, per
 * layer, exclusions, ties, masks that only grow), the gradual schedule (hand-computed values),
 * the trainer keeping pruned weights at 0, folding and QAT keeping them, the pruned file, and
 * the CLI's errors. The model is tests/fixtures/model_v1.h5 (conv1d 2→4 k3, pool, dense 28→3 on
 * a synthetic dataset its embedded config describes). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mf_compress.h"
#include "mf_model_io.h"
#include "mf_pipeline.h"
#include "mf_quantize.h"
#include "testutil.h"

#define FIXTURE MF_SOURCE_DIR "/tests/fixtures/model_v1.h5"

static mf_model *load_fixture(void)
{
    mf_error err;
    mf_error_clear(&err);
    mf_model *m = mf_model_load(FIXTURE, &err);
    if (!m) fail_msg("%s", err.message);
    return m;
}

/* Kernel values of every prunable layer set to distinct magnitudes: value k of the model's
 * kernels (in order) is ±(k + 1) / 1000, the sign alternating, except that values 10 and 11
 * share one magnitude (a tie). */
static void distinct_kernels(mf_model *m)
{
    size_t k = 0;
    for (int i = 1; i < m->n_nodes; i++) {
        size_t off, n;
        if (!mf_node_kernel(m, i, &off, &n)) continue;
        for (size_t e = 0; e < n; e++, k++) {
            const double mag = (double)(k == 11 ? 11 : k + 1) / 1000.0;
            m->params[off + e] = (float)(k % 2 ? -mag : mag);
        }
    }
}

/* The smallest magnitudes go, exactly round(s · values), per group. */
static void test_magnitude_global_and_per_layer(void **state)
{
    (void)state;
    mf_model *m = load_fixture();
    mf_error err;
    mf_error_clear(&err);
    distinct_kernels(m);
    const int conv = mf_model_find(m, "conv1"), fc = mf_model_find(m, "fc");
    size_t coff, cn, foff, fn;
    assert_true(mf_node_kernel(m, conv, &coff, &cn));
    assert_true(mf_node_kernel(m, fc, &foff, &fn));
    assert_int_equal(cn, 24); /* 3 · 2 · 4 */
    assert_int_equal(fn, 84); /* 28 · 3 (7 positions · 4 channels) */
    /* global 25 %: 27 of 108 values, the 27 smallest: conv1's 24 (1..24 / 1000) and fc's 3 */
    mf_prune_spec s = {.sparsity = 0.25};
    assert_int_equal(mf_prune_magnitude(m, &s, &err), MF_OK);
    assert_non_null(m->mask);
    assert_int_equal(mf_model_mask_zeros(m, conv, NULL), 24);
    assert_int_equal(mf_model_mask_zeros(m, fc, NULL), 3);
    for (size_t e = 0; e < fn; e++)
        assert_int_equal(m->mask[foff + e], e >= 3);
    for (size_t e = 0; e < cn; e++)
        assert_true(m->params[coff + e] == 0.0f);
    /* a smaller target later prunes nothing more and restores nothing */
    s.sparsity = 0.1;
    assert_int_equal(mf_prune_magnitude(m, &s, &err), MF_OK);
    assert_int_equal(mf_model_mask_zeros(m, -1, NULL), 27);
    mf_model_free(m);

    /* per layer 11/24: 11 of conv1, 39 of fc, each its own smallest; the tie (values 10 and 11
     * of conv1, both 11 / 1000) splits by index: 10 goes first */
    m = load_fixture();
    distinct_kernels(m);
    s.sparsity = 11.0 / 24.0, s.per_layer = 1;
    assert_int_equal(mf_prune_magnitude(m, &s, &err), MF_OK);
    assert_int_equal(mf_model_mask_zeros(m, conv, NULL), 11);
    assert_int_equal(m->mask[coff + 10], 0);
    assert_int_equal(m->mask[coff + 11], 1);
    assert_int_equal(mf_model_mask_zeros(m, fc, NULL), 39); /* round(84 · 11 / 24 = 38.5) */
    mf_model_free(m);

    /* excluded layers stay dense; the others take the whole target */
    m = load_fixture();
    distinct_kernels(m);
    char *ex[1] = {"conv1"};
    mf_prune_spec se = {.sparsity = 0.5, .exclude = ex, .n_exclude = 1};
    assert_int_equal(mf_prune_magnitude(m, &se, &err), MF_OK);
    assert_int_equal(mf_model_mask_zeros(m, conv, NULL), 0);
    assert_int_equal(mf_model_mask_zeros(m, fc, NULL), 42);
    mf_model_free(m);

    /* a layer's own target: conv1 at 25 % (6 of 24, its own smallest) whatever the others; fc
     * alone is the global group: 50 % of its 84 */
    m = load_fixture();
    distinct_kernels(m);
    mf_prune_target own[1] = {{"conv1", 0.25}};
    mf_prune_spec st = {.sparsity = 0.5, .targets = own, .n_targets = 1};
    assert_int_equal(mf_prune_magnitude(m, &st, &err), MF_OK);
    assert_int_equal(mf_model_mask_zeros(m, conv, NULL), 6);
    for (size_t e = 0; e < cn; e++)
        assert_int_equal(m->mask[coff + e], e >= 6);
    assert_int_equal(mf_model_mask_zeros(m, fc, NULL), 42);
    mf_model_free(m);
}

static void test_magnitude_errors(void **state)
{
    (void)state;
    mf_model *m = load_fixture();
    mf_error err;
    mf_error_clear(&err);
    mf_prune_spec s = {.sparsity = 1.0};
    assert_int_equal(mf_prune_magnitude(m, &s, &err), MF_ERR);
    assert_non_null(strstr(err.message, "outside [0, 1)"));
    s.sparsity = -0.1;
    assert_int_equal(mf_prune_magnitude(m, &s, &err), MF_ERR);
    char *unknown[1] = {"nope"}, *pool[1] = {"pool1"}, *all[2] = {"conv1", "fc"};
    mf_prune_spec e1 = {.sparsity = 0.5, .exclude = unknown, .n_exclude = 1},
                  e2 = {.sparsity = 0.5, .exclude = pool, .n_exclude = 1},
                  e3 = {.sparsity = 0.5, .exclude = all, .n_exclude = 2};
    assert_int_equal(mf_prune_magnitude(m, &e1, &err), MF_ERR);
    assert_non_null(strstr(err.message, "no layer is named 'nope'"));
    assert_int_equal(mf_prune_magnitude(m, &e2, &err), MF_ERR);
    assert_non_null(strstr(err.message, "'pool1' has no kernel"));
    assert_int_equal(mf_prune_magnitude(m, &e3, &err), MF_ERR);
    assert_non_null(strstr(err.message, "no conv or dense layer is left"));
    /* own targets: an unknown layer, a layer without kernel, out of range, twice, excluded */
    mf_prune_target t_unknown[1] = {{"nope", 0.5}}, t_pool[1] = {{"pool1", 0.5}},
                    t_range[1] = {{"fc", 1.0}}, t_twice[2] = {{"fc", 0.5}, {"fc", 0.6}},
                    t_ex[1] = {{"conv1", 0.5}};
    const struct {
        mf_prune_target *t;
        int n;
        const char *says;
    } bad[] = {{t_unknown, 1, "no layer is named 'nope'"},
               {t_pool, 1, "'pool1' has no kernel to prune"},
               {t_range, 1, "sparsity 1 of layer 'fc' is outside [0, 1)"},
               {t_twice, 2, "'fc' is given a sparsity twice"},
               {t_ex, 1, "'conv1' is both excluded and given a sparsity"}};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        mf_prune_spec sb = {.sparsity = 0.5, .targets = bad[k].t, .n_targets = bad[k].n};
        if (k == 4) sb.exclude = all, sb.n_exclude = 1; /* conv1 */
        mf_error_clear(&err);
        assert_int_equal(mf_prune_magnitude(m, &sb, &err), MF_ERR);
        if (!strstr(err.message, bad[k].says)) fail_msg("case %zu: %s", k, err.message);
    }
    assert_null(m->mask); /* nothing was pruned */
    mf_model_free(m);
}

/* Zhu & Gupta: s(t) = sf + (si − sf)(1 − (t − t0)/(t1 − t0))^3. */
static void test_schedule_hand_values(void **state)
{
    (void)state;
    const mf_prune_schedule s = {0.1, 0.9, 100, 300, 50};
    assert_true(fabs(mf_prune_schedule_at(&s, 0) - 0.1) < 1e-12);
    assert_true(fabs(mf_prune_schedule_at(&s, 100) - 0.1) < 1e-12);
    assert_true(fabs(mf_prune_schedule_at(&s, 200) - (0.9 - 0.8 * 0.125)) < 1e-12); /* r = 1/2 */
    assert_true(fabs(mf_prune_schedule_at(&s, 250) - (0.9 - 0.8 / 64)) < 1e-12);    /* r = 1/4 */
    assert_true(fabs(mf_prune_schedule_at(&s, 300) - 0.9) < 1e-12);
    assert_true(fabs(mf_prune_schedule_at(&s, 1000) - 0.9) < 1e-12);
    /* a layer's own target: the same ramp from the same initial sparsity toward 0.5 */
    assert_true(fabs(mf_prune_schedule_toward(&s, 100, 0.5) - 0.1) < 1e-12);
    assert_true(fabs(mf_prune_schedule_toward(&s, 200, 0.5) - (0.5 - 0.4 * 0.125)) < 1e-12);
    assert_true(fabs(mf_prune_schedule_toward(&s, 300, 0.5) - 0.5) < 1e-12);
    assert_false(mf_prune_schedule_due(&s, 99));
    assert_true(mf_prune_schedule_due(&s, 100));
    assert_false(mf_prune_schedule_due(&s, 120));
    assert_true(mf_prune_schedule_due(&s, 150));
    assert_true(mf_prune_schedule_due(&s, 300));
    assert_false(mf_prune_schedule_due(&s, 301));
    const mf_prune_schedule odd = {0.0, 0.5, 0, 7, 3}; /* the end is due off the grid too */
    assert_true(mf_prune_schedule_due(&odd, 6));
    assert_true(mf_prune_schedule_due(&odd, 7));
    const mf_prune_schedule at_once = {0.2, 0.5, 3, 3, 1}; /* no ramp: the target from `end` */
    assert_true(fabs(mf_prune_schedule_at(&at_once, 2) - 0.2) < 1e-12);
    assert_true(fabs(mf_prune_schedule_at(&at_once, 3) - 0.5) < 1e-12);
}

/* Gradual pruning while fine-tuning: the saved model has the exact target sparsity over its
 * kernels, its masks, and a 0 wherever the mask says pruned; the weights kept were trained. */
static void test_pipeline_gradual(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("prune_gradual");
    char out[1024];
    snprintf(out, sizeof out, "%s/pruned.h5", dir);
    mf_prune_request r = {FIXTURE, out, {.sparsity = 0.6}, 3, 0.0, 0.1, 2, 2, 1, NULL, 0, NULL};
    mf_error err;
    mf_error_clear(&err);
    if (mf_pipeline_prune(&r, NULL, &err)) fail_msg("%s", err.message);
    mf_model *dense = load_fixture(), *p = mf_model_load(out, &err);
    assert_non_null(p);
    assert_non_null(p->mask);
    size_t total = 0;
    assert_int_equal(mf_model_mask_zeros(p, -1, &total), 65); /* round(0.6 · 108) */
    assert_int_equal(total, 108);
    size_t kept_changed = 0;
    for (size_t i = 0; i < p->n_params; i++) {
        if (!p->mask[i]) assert_true(p->params[i] == 0.0f);
        kept_changed += p->mask[i] && p->params[i] != dense->params[i];
    }
    assert_true(kept_changed > 0); /* fine-tuned */
    mf_model_free(p);
    mf_model_free(dense);

    /* a bad request is refused before anything is written */
    char bad_out[1024];
    snprintf(bad_out, sizeof bad_out, "%s/never.h5", dir);
    mf_prune_request b = r;
    b.out_path = bad_out, b.initial = 0.7;
    assert_int_equal(mf_pipeline_prune(&b, NULL, &err), MF_ERR);
    assert_non_null(strstr(err.message, "initial sparsity"));
    assert_int_equal(tu_count_entries(dir), 1);
}

/* Folding and QAT keep pruned weights at 0: the folded model carries the mask, and the integer
 * weights of the QAT-trained model are 0 wherever the mask is (runtime layout [cout][K] against
 * the file's [K][cout]). */
static void test_fold_and_qat_keep_zeros(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("prune_qat");
    char pruned[1024], q8[1024];
    snprintf(pruned, sizeof pruned, "%s/pruned.h5", dir);
    snprintf(q8, sizeof q8, "%s/pruned.q8.h5", dir);
    mf_prune_request r = {
        FIXTURE, pruned, {.sparsity = 0.5, .per_layer = 1}, 0, 0.0, 0.0, 0, 0, 1, NULL, 0, NULL};
    mf_error err;
    mf_error_clear(&err);
    if (mf_pipeline_prune(&r, NULL, &err)) fail_msg("%s", err.message);
    mf_model *p = mf_model_load(pruned, &err);
    assert_non_null(p);
    mf_model *folded = mf_fold_model(p, &err);
    assert_non_null(folded);
    assert_non_null(folded->mask);
    assert_int_equal(mf_model_mask_zeros(folded, -1, NULL), mf_model_mask_zeros(p, -1, NULL));
    mf_model_free(folded);

    mf_quantize_request q = {pruned, q8, {{8, MF_RT_ROUND_HALF_UP, 0, -1}, 0, 0, 1}, 1, 2, 0.01,
                             NULL,   0};
    if (mf_pipeline_quantize(&q, NULL, &err)) fail_msg("%s", err.message);
    int is_float = 0;
    mf_qmodel *qm = mf_qmodel_load(q8, &is_float, &err);
    assert_non_null(qm);
    const mf_model *f = qm->model;
    assert_non_null(f->mask); /* the quantized file carries the masks too */
    size_t zeros_checked = 0;
    for (int i = 1; i < f->n_nodes; i++) {
        size_t off, n;
        if (!mf_node_kernel(f, i, &off, &n)) continue;
        const size_t cout = (size_t)f->nodes[i].out_shape.dim[f->nodes[i].out_shape.rank - 1];
        const int8_t *w = qm->nodes[i].w;
        assert_int_equal(qm->nodes[i].n_weights, n);
        for (size_t e = 0; e < n; e++) {
            if (f->mask[off + e]) continue;
            assert_true(f->params[off + e] == 0.0f);
            assert_int_equal(w[(e % cout) * (n / cout) + e / cout], 0);
            zeros_checked++;
        }
    }
    assert_int_equal(zeros_checked, mf_model_mask_zeros(p, -1, NULL));
    mf_qmodel_free(qm);
    mf_model_free(p);
}

/* The CLI: a pruned file beside the model by default; usage errors exit 2 naming the option;
 * a missing model file exits 1 naming it. */
static void test_cli(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("prune_cli");
    char model[1024], exe[1024], out[8192];
    snprintf(model, sizeof model, "%s/m.h5", dir);
    snprintf(exe, sizeof exe, "%s/mcuforge", MF_BINARY_DIR);
    {
        mf_error err;
        mf_model *m = load_fixture();
        assert_int_equal(mf_model_save(m, model, &err), MF_OK);
        mf_model_free(m);
    }
    char *ok[] = {exe,        "prune", model,       "--sparsity", "0.5",
                  "--epochs", "1",     "--threads", "1",          NULL};
    assert_int_equal(tu_run_capture(NULL, ok, out, sizeof out), 0);
    /* 64 samples in batches of 16: 4 steps an epoch; 1 epoch, its ramp 1 epoch (steps 1-4),
     * a mask update every step (a quarter of an epoch) */
    assert_non_null(strstr(out, "mask updated 4 times over 4 steps (the last at step 4)"));
    assert_non_null(strstr(out, "all kernels"));
    assert_non_null(strstr(out, "50.00 %"));
    char pruned[1100];
    snprintf(pruned, sizeof pruned, "%s/m.pruned.h5", dir);
    mf_error err;
    mf_model *p = mf_model_load(pruned, &err);
    assert_non_null(p);
    assert_int_equal(mf_model_mask_zeros(p, -1, NULL), 54);
    mf_model_free(p);
    char *info[] = {exe, "info", pruned, NULL}; /* info lists the sparsity per layer */
    assert_int_equal(tu_run_capture(NULL, info, out, sizeof out), 0);
    assert_non_null(strstr(out, "pruned (kernel_mask)"));
    assert_non_null(strstr(out, "all kernels                        54          108   50.00 %"));

    struct {
        char *args[10];
        int status;
        const char *says;
    } bad[] = {
        {{"prune", model, NULL}, 2, "give the target --sparsity"},
        {{"prune", model, "--sparsity", "1.5", NULL}, 2, "--sparsity '1.5'"},
        {{"prune", model, "--sparsity", "0.5", "--initial", "0.6", NULL}, 2, "--initial 0.6"},
        {{"prune", model, "--sparsity", "0.5", "--exclude", "a,,b", NULL}, 2, "empty layer name"},
        {{"prune", model, "--sparsity", "0.5", "--epochs", "2", "--ramp-epochs", "3", NULL},
         2,
         "--ramp-epochs 3"},
        {{"prune", model, "--sparsity", "0.5", "--bogus", NULL}, 2, "unknown option '--bogus'"},
        {{"prune", "/nonexistent/m.h5", "--sparsity", "0.5", NULL}, 1, "/nonexistent/m.h5"},
        {{"prune", model, "--sparsity", "0.5", "--epochs", "0", "--exclude", "fc,zz", NULL},
         1,
         "no layer is named 'zz'"},
        {{"prune", model, "--sparsity", "0.5", "--layer", "fc", NULL}, 2, "expected NAME=S"},
        {{"prune", model, "--sparsity", "0.5", "--layer", "fc=2", NULL}, 2, "--layer '2'"},
        {{"prune", model, "--sparsity", "0.5", "--epochs", "0", "--layer", "zz=0.5", NULL},
         1,
         "no layer is named 'zz'"},
        {{"prune", model, "--sparsity", "0.5", "--initial", "0.3", "--layer", "fc=0.2", NULL},
         1,
         "below the initial sparsity"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        char *argv[12] = {exe};
        for (int a = 0; bad[k].args[a]; a++)
            argv[a + 1] = bad[k].args[a];
        const int status = tu_run_capture(NULL, argv, out, sizeof out);
        if (status != bad[k].status || !strstr(out, bad[k].says))
            fail_msg("case %zu: status %d (want %d), output:\n%s", k, status, bad[k].status, out);
    }
}

/* `mcuforge run` chains train → prune → quantize: the pruned model and its int8 model beside
 * the trained one, the pruned file at the config's sparsity (fc at its own, prune.layers), the
 * int8 model calibrated with the section's range (quantize.range). */
static void test_run_chain(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("prune_run");
    tu_write_file(dir, "c.yaml",
                  "dataset: {name: synthetic, shape: [16, 2], classes: 3, train_samples: 64,\n"
                  "          test_samples: 16, noise: 0.5}\n"
                  "model:\n"
                  "  layers:\n"
                  "    - {name: conv1, type: conv1d, filters: 4, kernel: 3, activation: relu}\n"
                  "    - {name: flatten, type: flatten}\n"
                  "    - {name: fc, type: dense, units: 3}\n"
                  "train: {epochs: 1, batch_size: 16, lr: 0.05, threads: 1}\n"
                  "prune: {sparsity: 0.75, epochs: 2, exclude: [conv1],\n"
                  "        layers: [{name: fc, sparsity: 0.5}]}\n"
                  "quantize: {bits: 8, range: mse}\n");
    char exe[1024], cfg[1100], output[1100], out[8192];
    snprintf(exe, sizeof exe, "%s/mcuforge", MF_BINARY_DIR);
    snprintf(cfg, sizeof cfg, "%s/c.yaml", dir);
    snprintf(output, sizeof output, "train.output=%s/m.h5", dir);
    char *argv[] = {exe, "run", cfg, output, NULL};
    const int status = tu_run_capture(NULL, argv, out, sizeof out);
    if (status != 0) fail_msg("run: status %d\n%s", status, out);
    assert_non_null(strstr(out, "prune: 75.00 %"));
    assert_non_null(strstr(out, "quantize: int8 PTQ, MSE ranges"));
    char path[1200];
    snprintf(path, sizeof path, "%s/m.pruned.h5", dir);
    mf_error err;
    mf_model *p = mf_model_load(path, &err);
    assert_non_null(p);
    size_t total = 0;
    assert_int_equal(mf_model_mask_zeros(p, mf_model_find(p, "conv1"), NULL), 0);
    assert_int_equal(mf_model_mask_zeros(p, mf_model_find(p, "fc"), &total), 84); /* 168·0.5 */
    assert_int_equal(total, 168);
    mf_model_free(p);
    snprintf(path, sizeof path, "%s/m.pruned.q8.h5", dir);
    int is_float = 1;
    mf_qmodel *q = mf_qmodel_load(path, &is_float, &err);
    assert_non_null(q);
    assert_false(is_float);
    assert_int_equal(q->range_method, 2); /* MSE */
    mf_qmodel_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_magnitude_global_and_per_layer),
        cmocka_unit_test(test_magnitude_errors),
        cmocka_unit_test(test_schedule_hand_values),
        cmocka_unit_test(test_pipeline_gradual),
        cmocka_unit_test(test_fold_and_qat_keep_zeros),
        cmocka_unit_test(test_cli),
        cmocka_unit_test(test_run_chain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
