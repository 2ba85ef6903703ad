/* mcuforge compare (pipeline/compare.c): per-layer SQNR against float, host vs target. The
 * QEMU part skips when the firmware tools are missing (fails with CI=true). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "mf_compare.h"
#include "mf_deploy.h"
#include "mf_quantize.h"
#include "mf_train.h"
#include "testutil.h"

typedef struct fixture {
    mf_model *model;  /* resnetv1_6 width 4, 32×3 input, 4 classes, z-score per element */
    mf_dataset *data; /* preprocessed training split (calibration) */
    float *raw_test;  /* raw test inputs */
    mf_qmodel *q;     /* int8, per tensor */
} fixture;

static int setup_fixture(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    mf_error err;
    mf_shape shape = {2, {32, 3}};
    if (!f || mf_synthetic_generate(&shape, 4, 128, 8, 0.5f, 7, &f->data, &err)) return -1;
    size_t in = 32 * 3;
    for (size_t i = 0; i < in * (size_t)f->data->n_test; i++)
        f->data->x_test[i] = 3.0f * f->data->x_test[i] + 1.5f;
    for (size_t i = 0; i < in * (size_t)f->data->n_train; i++)
        f->data->x_train[i] = 3.0f * f->data->x_train[i] + 1.5f;
    f->raw_test = malloc(sizeof(float) * in * (size_t)f->data->n_test);
    if (!f->raw_test) return -1;
    memcpy(f->raw_test, f->data->x_test, sizeof(float) * in * (size_t)f->data->n_test);
    mf_template_args a = {.width = 4, .dims = 1, .input_shape = shape, .classes = 4};
    f->model = mf_template_build("resnetv1_6", &a, &err);
    if (!f->model) return -1;
    mf_model_init_params(f->model, 5);
    if (mf_model_fit_dataset(f->model, f->data, MF_NORM_ELEMENT, &err)) return -1;
    mf_train_config tc;
    memset(&tc, 0, sizeof tc);
    tc.epochs = 1;
    tc.batch_size = 32;
    tc.lr = 0.05f;
    tc.momentum = 0.9f;
    tc.seed = 1;
    tc.threads = 2;
    tc.progress = MF_PROGRESS_NONE;
    mf_train_result res;
    if (mf_train(f->model, &tc, f->data, NULL, &res, &err)) return -1;
    mf_model *folded = mf_fold_model(f->model, &err);
    if (!folded) return -1;
    double *r = malloc(sizeof(double) * (size_t)folded->n_nodes);
    if (!r || mf_calibrate(folded, f->data->x_train, f->data->n_train, 1, r, &err)) return -1;
    mf_quant_options o = {8, MF_RT_ROUND_HALF_UP, 0, -1};
    f->q = mf_qmodel_build(folded, r, &o, &err);
    free(r);
    if (!f->q) return -1;
    *state = f;
    return 0;
}

static int teardown_fixture(void **state)
{
    fixture *f = *state;
    if (!f) return 0;
    mf_qmodel_free(f->q);
    mf_model_free(f->model);
    mf_dataset_free(f->data);
    free(f->raw_test);
    free(f);
    return 0;
}

/* the test hook: one call's requantization shift one larger, on the host only */
typedef struct perturb {
    int call; /* in: which conv call (0: the first); out: its index in the program */
} perturb;

static void perturb_shift(mf_program *p, void *ctx)
{
    perturb *pc = ctx;
    int seen = 0;
    for (int k = 0; k < p->n_calls; k++) {
        mf_call *c = &p->calls[k];
        if ((c->kind != MF_K_CONV && c->kind != MF_K_CONV_MAXPOOL) || c->shifts.data) continue;
        if (seen++ != pc->call) continue;
        c->rq.shift += 1;
        pc->call = k;
        return;
    }
    pc->call = -1;
}

static mf_compare_options options(const fixture *f, const char *dir)
{
    mf_compare_options o = {0};
    o.samples = f->raw_test;
    o.n_samples = 3;
    o.fw_dir = dir;
    o.timeout_s = 60;
    o.cflags = "-Werror";
    return o;
}

/* host only: one row per call, finite SQNR for the integer layers, the CSV written */
static void test_compare_host(void **state)
{
    fixture *f = *state;
    const char *dir = tu_tmpdir("compare_host");
    mf_compare_options o = options(f, NULL);
    mf_compare_result r;
    mf_error err;
    mf_error_clear(&err);
    if (mf_compare_run(f->q, NULL, &o, &r, &err)) fail_msg("%s", err.message);
    mf_compare_print(&r, stdout);
    assert_int_equal(r.bits, 8);
    assert_int_equal(r.first_diff, -1);
    assert_true(r.n_layers > 3);
    for (int k = 0; k < r.n_layers; k++) {
        assert_true(r.layers[k].count > 0);
        assert_true(r.layers[k].sqnr_db > 0.0);
        assert_int_equal(r.layers[k].total, 0);
    }
    char path[1200];
    snprintf(path, sizeof path, "%s/compare.csv", dir);
    if (mf_compare_write_csv(&r, path, &err)) fail_msg("%s", err.message);
    FILE *in = fopen(path, "r");
    assert_non_null(in);
    char line[512];
    assert_non_null(fgets(line, sizeof line, in));
    assert_string_equal(line, "call,layer,kernel,values,sqnr_db,identical_share,max_abs_diff\n");
    int rows = 0;
    while (fgets(line, sizeof line, in))
        rows++;
    fclose(in);
    assert_int_equal(rows, r.n_layers);
    /* a perturbed host layer loses SQNR there */
    perturb pc = {1};
    o.host_hook = perturb_shift;
    o.hook_ctx = &pc;
    mf_compare_result r2;
    if (mf_compare_run(f->q, NULL, &o, &r2, &err)) fail_msg("%s", err.message);
    assert_true(pc.call > 0);
    assert_true(r2.layers[pc.call].sqnr_db < r.layers[pc.call].sqnr_db);
    assert_true(r2.layers[0].sqnr_db == r.layers[0].sqnr_db);
    mf_compare_result_free(&r2);
    mf_compare_result_free(&r);
}

static void require_toolchain(void)
{
    const char *missing = mf_deploy_missing_tool();
    if (!missing) return;
    if (!tu_tool_missing_ok(missing)) fail_msg("%s is missing (CI=true)", missing);
    skip();
}

/* QEMU: without an injection every layer is identical; with the second conv call's shift
 * perturbed on the host only, exactly that layer is named as the first difference */
static void test_compare_target(void **state)
{
    require_toolchain();
    fixture *f = *state;
    char dir[1200];
    snprintf(dir, sizeof dir, "%s/fw", tu_tmpdir("compare_target"));
    mf_compare_options o = options(f, dir);
    o.target = 1;
    mf_compare_result r;
    mf_error err;
    mf_error_clear(&err);
    if (mf_compare_run(f->q, NULL, &o, &r, &err)) fail_msg("%s", err.message);
    mf_compare_print(&r, stdout);
    assert_int_equal(r.first_diff, -1);
    for (int k = 0; k < r.n_layers; k++) {
        assert_int_equal(r.layers[k].total, (long long)r.layers[k].count * 3);
        assert_int_equal(r.layers[k].identical, r.layers[k].total);
        assert_true(r.layers[k].max_abs_diff == 0.0);
    }
    mf_compare_result_free(&r);
    perturb pc = {1};
    o.host_hook = perturb_shift;
    o.hook_ctx = &pc;
    if (mf_compare_run(f->q, NULL, &o, &r, &err)) fail_msg("%s", err.message);
    mf_compare_print(&r, stdout);
    assert_true(pc.call > 0);
    assert_int_equal(r.first_diff, pc.call);
    for (int k = 0; k < pc.call; k++)
        assert_int_equal(r.layers[k].identical, r.layers[k].total);
    assert_true(r.layers[pc.call].identical < r.layers[pc.call].total);
    assert_true(r.layers[pc.call].max_abs_diff >= 1.0);
    mf_compare_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compare_host),
        cmocka_unit_test(test_compare_target),
    };
    return cmocka_run_group_tests(tests, setup_fixture, teardown_fixture);
}
