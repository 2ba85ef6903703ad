/* Per-sample outputs (README "Reports"): `deploy --run` writes DIR/outputs.csv from what the
 * firmware printed, `eval --dump` the same CSV from the host's runtime kernels; for int8, int16
 * and float32 the two files are equal row by row (the float32 dump runs the folded float
 * program with the runtime kernels, not the training engine). Also: report.json carries
 * schema_version, eval's new arguments are parsed strictly, and the firmware-line parser refuses
 * malformed or missing vectors. The QEMU tests skip without the toolchain (fail with CI=true). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "mf_deploy.h"
#include "mf_outputs.h"
#include "testutil.h"

static char out[65536];

/* Runs mcuforge with args (a shell fragment) from the source dir; returns the exit status and
 * keeps stdout+stderr in `out`. */
static int mcuforge(const char *args)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s/mcuforge' %s 2>&1", MF_SOURCE_DIR, MF_BINARY_DIR,
             args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void assert_output_has(const char *text)
{
    if (!strstr(out, text)) fail_msg("output lacks '%s':\n%s", text, out);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot read %s", path);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *copy = strdup(buf);
    assert_non_null(copy);
    return copy;
}

static int count_lines(const char *text)
{
    int n = 0;
    for (; *text; text++)
        n += *text == '\n';
    return n;
}

/* the folder of a small trained float model (model.h5, 16 test samples), trained once */
static char model_dir[1200];

static int setup(void **state)
{
    (void)state;
    snprintf(model_dir, sizeof model_dir, "%s", tu_tmpdir("outputs_model"));
    tu_write_file(model_dir, "o.yaml",
                  "dataset: {name: synthetic, shape: [32, 3], classes: 3, train_samples: 200,\n"
                  "          test_samples: 16, noise: 0.5}\n"
                  "model: {template: resnetv1_6, width: 4}\n"
                  "train: {epochs: 1, batch_size: 32, lr: 0.05, progress: none}\n");
    char args[3000];
    snprintf(args, sizeof args, "train '%s/o.yaml' train.output='%s/model.h5'", model_dir,
             model_dir);
    if (mcuforge(args) != 0) {
        fprintf(stderr, "training the test model failed:\n%s\n", out);
        return -1;
    }
    return 0;
}

/* report.json starts with its schema version */
static void test_report_schema_version(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("outputs_schema");
    mf_deploy_report r;
    memset(&r, 0, sizeof r);
    r.accuracy = -1.0;
    char path[1300];
    snprintf(path, sizeof path, "%s/report.json", dir);
    mf_error err;
    mf_error_clear(&err);
    assert_int_equal(mf_deploy_report_write_json(&r, path, &err), MF_OK);
    char *text = slurp(path);
    const char *head = "{\n  \"schema_version\": 1,\n";
    assert_true(!strncmp(text, head, strlen(head)));
    free(text);
}

/* the firmware's V lines → rows; a missing, repeated or short vector is an error */
static void test_parse_firmware_lines(void **state)
{
    (void)state;
    mf_outputs o;
    mf_error err;
    int32_t labels[2] = {1, -1};
    const char *good = "MF-BEGIN x\n"
                       "V 1 icount 9 stack 8 hash 1f pred 0 out 5 -3\n"
                       "V 0 icount 9 stack 8 hash 1f pred 1 out -128 127\n"
                       "MF-END ok\n";
    assert_int_equal(mf_outputs_from_firmware(good, 2, 2, 8, 3, labels, &o, &err), MF_OK);
    assert_int_equal(o.pred[0], 1);
    assert_int_equal(o.pred[1], 0);
    assert_int_equal(((int8_t *)o.raw)[0], -128);
    assert_int_equal(((int8_t *)o.raw)[3], -3);
    const char *dir = tu_tmpdir("outputs_parse");
    char path[1300];
    snprintf(path, sizeof path, "%s/outputs.csv", dir);
    assert_int_equal(mf_outputs_write_csv(&o, path, &err), MF_OK);
    char *text = slurp(path);
    assert_string_equal(text, "index,label,pred,raw_0,raw_1,logit_0,logit_1\n"
                              "0,1,1,-128,127,-16,15.875\n"
                              "1,,0,5,-3,0.625,-0.375\n");
    free(text);
    mf_outputs_free(&o);
    /* float32: bit patterns in hex, printed back with %.9g */
    const char *f32 = "V 0 icount 1 stack 1 hash 0 pred 0 out 3f800000 bf000000\n";
    assert_int_equal(mf_outputs_from_firmware(f32, 1, 2, 32, 0, NULL, &o, &err), MF_OK);
    assert_int_equal(mf_outputs_write_csv(&o, path, &err), MF_OK);
    text = slurp(path);
    assert_string_equal(text, "index,label,pred,raw_0,raw_1,logit_0,logit_1\n0,,0,1,-0.5,1,-0.5\n");
    free(text);
    mf_outputs_free(&o);
    static const char *const bad[] = {
        "V 0 icount 9 stack 8 hash 1f pred 0 out 5 -3\n", /* vector 1 missing */
        "V 0 icount 9 stack 8 hash 1f pred 0 out 5\nV 1 icount 9 stack 8 hash 1f pred 0 out 5 6\n",
        "V 0 icount 9 stack 8 hash 1f pred 0 out 5 6\nV 0 icount 9 stack 8 hash 1f pred 0 out 5 "
        "6\n",
        "V 0 icount 9 stack 8 hash 1f pred 0 out 5 200\nV 1 icount 9 stack 8 hash 1f pred 0 out 5 "
        "6\n",
        "V 0 icount 9 stack 8 hash 1f pred 7 out 5 6\nV 1 icount 9 stack 8 hash 1f pred 0 out 5 "
        "6\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mf_error_clear(&err);
        assert_int_equal(mf_outputs_from_firmware(bad[i], 2, 2, 8, 0, NULL, &o, &err), MF_ERR);
        print_message("%s\n", err.message);
        assert_non_null(strstr(err.message, "firmware output"));
    }
}

/* eval --dump / --samples: rows, strict arguments */
static void test_eval_dump_arguments(void **state)
{
    (void)state;
    char args[3000], path[1300];
    snprintf(args, sizeof args, "eval '%s/model.h5' --dump '%s/all.csv'", model_dir, model_dir);
    assert_int_equal(mcuforge(args), 0);
    assert_output_has("per-sample outputs of 16 samples (float32)");
    snprintf(path, sizeof path, "%s/all.csv", model_dir);
    char *text = slurp(path);
    assert_int_equal(count_lines(text), 1 + 16);
    const char *header = "index,label,pred,raw_0,raw_1,raw_2,logit_0,logit_1,logit_2\n";
    assert_true(!strncmp(text, header, strlen(header)));
    free(text);
    snprintf(args, sizeof args, "eval '%s/model.h5' --samples 5 --dump '%s/five.csv'", model_dir,
             model_dir);
    assert_int_equal(mcuforge(args), 0);
    assert_output_has("test split (5 samples)");
    snprintf(path, sizeof path, "%s/five.csv", model_dir);
    text = slurp(path);
    assert_int_equal(count_lines(text), 1 + 5);
    free(text);
    static const char *const refused[] = {"--samples 0", "--samples 5x", "--samples", "--dump",
                                          "--dump ''"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        snprintf(args, sizeof args, "eval '%s/model.h5' %s", model_dir, refused[i]);
        assert_int_equal(mcuforge(args), 2);
        assert_output_has("mcuforge eval: ");
    }
}

/* Skips the test when a firmware tool is missing (fails with CI=true). */
static void require_toolchain(void)
{
    const char *missing = mf_deploy_missing_tool();
    if (!missing) return;
    if (!tu_tool_missing_ok(missing)) fail_msg("%s is missing (CI=true)", missing);
    skip();
}

/* deploy --run's outputs.csv equals eval --dump's file of the same model on the same first N
 * test samples, byte for byte (so row by row) */
static void deploy_equals_dump(const char *precision, const char *quantized, const char *extra)
{
    require_toolchain();
    char args[4000], fw[1400], a[1500], b[1500];
    snprintf(fw, sizeof fw, "%s/fw_%s", model_dir, precision);
    snprintf(args, sizeof args,
             "deploy '%s/model.h5' --precision %s --out '%s' --run --vectors 10 %s --cflags "
             "-Werror --force",
             model_dir, precision, fw, extra);
    int rc = mcuforge(args);
    if (rc) fail_msg("deploy failed:\n%s", out);
    /* the quantized model the firmware runs (deploy wrote it), or the float model itself */
    if (quantized)
        snprintf(args, sizeof args, "eval '%s/%s' --samples 10 --dump '%s/dump.csv'", fw, quantized,
                 fw);
    else
        snprintf(args, sizeof args, "eval '%s/model.h5' --samples 10 --dump '%s/dump.csv'",
                 model_dir, fw);
    rc = mcuforge(args);
    if (rc) fail_msg("eval failed:\n%s", out);
    snprintf(a, sizeof a, "%s/outputs.csv", fw);
    snprintf(b, sizeof b, "%s/dump.csv", fw);
    char *target = slurp(a), *host = slurp(b);
    assert_int_equal(count_lines(target), 1 + 10);
    /* row by row, for a readable failure */
    const char *p = target, *q = host;
    for (int row = 0; *p || *q; row++) {
        size_t lp = strcspn(p, "\n"), lq = strcspn(q, "\n");
        if (lp != lq || memcmp(p, q, lp))
            fail_msg("%s row %d differs:\n  target %.*s\n  host   %.*s", precision, row, (int)lp, p,
                     (int)lq, q);
        p += lp + (p[lp] != 0);
        q += lq + (q[lq] != 0);
    }
    assert_string_equal(target, host);
    free(target);
    free(host);
    snprintf(a, sizeof a, "%s/report.json", fw);
    char *report = slurp(a);
    assert_non_null(strstr(report, "\"schema_version\": 1,"));
    free(report);
}

static void test_deploy_equals_dump_int8(void **state)
{
    (void)state;
    deploy_equals_dump("int8", "model.q8.h5", "");
}

static void test_deploy_equals_dump_int16(void **state)
{
    (void)state;
    deploy_equals_dump("int16", "model.q16.h5", "--stream");
}

static void test_deploy_equals_dump_float32(void **state)
{
    (void)state;
    deploy_equals_dump("float32", NULL, "--stream");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_schema_version),
        cmocka_unit_test(test_parse_firmware_lines),
        cmocka_unit_test(test_eval_dump_arguments),
        cmocka_unit_test(test_deploy_equals_dump_int8),
        cmocka_unit_test(test_deploy_equals_dump_int16),
        cmocka_unit_test(test_deploy_equals_dump_float32),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
