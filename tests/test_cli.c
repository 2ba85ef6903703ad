/* The mcuforge executable end to end: help, train → files → eval, dataset info, exit codes and
 * error messages on bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "mf_deploy.h"
#include "mf_quantize.h"
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

/* Runs mcuforge with an argument vector (no shell: the arguments reach it byte for byte) in the
 * folder cwd; returns the exit status and keeps stdout+stderr in `out`. */
static int mcuforge_argv(const char *cwd, const char *const *args)
{
    char exe[2200];
    snprintf(exe, sizeof exe, "%s/mcuforge", MF_BINARY_DIR);
    const char *argv[64];
    int n = 0;
    argv[n++] = exe;
    for (int i = 0; args[i] && n < 63; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    const int rc = tu_run_capture(cwd, (char *const *)argv, out, sizeof out);
    assert_true(rc >= -1);
    return rc;
}

static int path_exists(const char *dir, const char *name)
{
    char path[2400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

static void test_help(void **state)
{
    (void)state;
    assert_int_equal(mcuforge("--help"), 0);
    assert_output_has("train");
    assert_output_has("eval");
    assert_output_has("dataset");
    const char *verbs[] = {"train", "info", "eval", "dataset", "quantize", "run", "lower"};
    for (int i = 0; i < 7; i++) {
        char args[64];
        snprintf(args, sizeof args, "%s --help", verbs[i]);
        assert_int_equal(mcuforge(args), 0);
        assert_output_has("usage: mcuforge");
    }
    assert_int_equal(mcuforge("frobnicate"), 2);
    assert_output_has("unknown subcommand 'frobnicate'");
    assert_int_equal(mcuforge("train"), 2);
    assert_int_equal(mcuforge("eval"), 2);
}

static void test_train_then_eval(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("cli_train");
    tu_write_file(dir, "tiny.yaml",
                  "dataset: {name: synthetic, shape: [32, 3], classes: 3, train_samples: 256,\n"
                  "          test_samples: 64, noise: 0.5, validation: 0.25}\n"
                  "model: {template: resnetv1_6, width: 4}\n"
                  "train: {epochs: 2, batch_size: 32, lr: 0.05}\n");
    char args[2048];
    snprintf(args, sizeof args,
             "train '%s/tiny.yaml' train.output='%s/run/model.h5' train.epochs=3", dir, dir);
    assert_int_equal(mcuforge(args), 0);
    assert_output_has("epoch 3/3");
    assert_output_has("val_acc="); /* a validation split is watched during training */
    assert_output_has("192 train / 64 validation / 64 test");
    assert_output_has("test split, float32:");
    const char *files[] = {"model.h5", "history.csv", "confusion.csv", "per_class.csv"};
    for (int i = 0; i < 4; i++) {
        char path[1400];
        snprintf(path, sizeof path, "%s/run/%s", dir, files[i]);
        if (access(path, R_OK) != 0) fail_msg("missing %s", path);
    }
    snprintf(args, sizeof args, "eval '%s/run/model.h5'", dir);
    assert_int_equal(mcuforge(args), 0);
    assert_output_has("test split (64 samples)");
    assert_output_has("confusion matrix");
    snprintf(args, sizeof args, "eval '%s/run/model.h5' --split val", dir);
    assert_int_equal(mcuforge(args), 0);
    assert_output_has("val split (64 samples)");
    /* an override the model cannot take is an error naming both shapes */
    snprintf(args, sizeof args, "eval '%s/run/model.h5' dataset.shape=[16,3]", dir);
    assert_int_equal(mcuforge(args), 1);
    assert_output_has("takes 32x3");
    snprintf(args, sizeof args, "info '%s/run/model.h5'", dir);
    assert_int_equal(mcuforge(args), 0);
    assert_output_has("block1_add");
}

/* run = train → quantize (the config's quantize section); eval of a quantized file uses the
 * integer kernels and agrees with what quantize printed. */
static void test_run_quantize_eval(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("cli_run");
    tu_write_file(dir, "q.yaml",
                  "dataset: {name: synthetic, shape: [32, 3], classes: 3, train_samples: 256,\n"
                  "          test_samples: 64, noise: 0.5}\n"
                  "model: {template: resnetv1_6, width: 4}\n"
                  "train: {epochs: 2, batch_size: 32, lr: 0.05}\n"
                  "quantize: {bits: 16}\n");
    char args[2048];
    snprintf(args, sizeof args, "run '%s/q.yaml' train.output='%s/r/model.h5'", dir, dir);
    assert_int_equal(mcuforge(args), 0);
    assert_output_has("quantize: int16 PTQ");
    assert_output_has("per-layer quantization report");
    char *line = strstr(out, "float32 ");
    assert_non_null(line);
    char *int_acc = strstr(line, "int16 ");
    assert_non_null(int_acc);
    char printed[16];
    snprintf(printed, sizeof printed, "%.7s", int_acc + 6); /* e.g. "85.94 %" */
    snprintf(args, sizeof args, "eval '%s/r/model.q16.h5'", dir);
    assert_int_equal(mcuforge(args), 0);
    assert_output_has("int16 (integer kernels)");
    assert_output_has(printed);
    /* int8 QAT from the command line, and bad options */
    snprintf(args, sizeof args, "quantize '%s/r/model.h5' --bits 8 --qat --epochs 1 --range mse",
             dir);
    assert_int_equal(mcuforge(args), 0);
    assert_output_has("quantization-aware training: 1 epochs");
    assert_output_has("model.q8.h5");
    snprintf(args, sizeof args, "quantize '%s/r/model.h5' --bits 12", dir);
    assert_int_equal(mcuforge(args), 2);
    assert_output_has("--bits '12': expected 8 or 16");
    snprintf(args, sizeof args, "info '%s/r/model.q8.h5'", dir);
    assert_int_equal(mcuforge(args), 0);
    assert_output_has("quantized: int8");
}

/* lower: the program and memory plan of a float model at each precision; bad arguments. */
static void test_lower_prints_program(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("cli_lower");
    tu_write_file(dir, "l.yaml",
                  "dataset: {name: synthetic, shape: [32, 3], classes: 3, train_samples: 128,\n"
                  "          test_samples: 32, noise: 0.5}\n"
                  "model: {template: resnetv1_6, width: 4}\n"
                  "train: {epochs: 1, batch_size: 32, lr: 0.05, progress: none}\n");
    char args[2048];
    snprintf(args, sizeof args, "train '%s/l.yaml' train.output='%s/model.h5'", dir, dir);
    assert_int_equal(mcuforge(args), 0);
    snprintf(args, sizeof args, "lower '%s/model.h5' --precision int8", dir);
    assert_int_equal(mcuforge(args), 0);
    assert_output_has("lowered program: int8");
    /* a 1D model of 4 channels, K = 12 with a pool: the register-field kernel of P = 6 */
    assert_output_has("mf_rt_conv_field6_maxpool_s8");
    assert_output_has("mf_rt_add_s8");
    assert_output_has("scratch");
    assert_output_has("requantize: shift");
    assert_output_has("memory plan");
    assert_output_has("lower bound");
    snprintf(args, sizeof args, "lower '%s/model.h5' --precision float32 --no-fuse", dir);
    assert_int_equal(mcuforge(args), 0);
    assert_output_has("lowered program: float32");
    assert_output_has("mf_rt_maxpool_f32");
    snprintf(args, sizeof args, "lower '%s/model.h5'", dir);
    assert_int_equal(mcuforge(args), 1);
    assert_output_has("choose --precision");
    snprintf(args, sizeof args, "lower '%s/model.h5' --precision int9", dir);
    assert_int_equal(mcuforge(args), 2);
    assert_int_equal(mcuforge("lower"), 2);
    snprintf(args, sizeof args, "lower '%s/missing.h5' --precision int8", dir);
    assert_int_equal(mcuforge(args), 1);
    assert_output_has("missing.h5");
}

/* Two quantized model files hold the same formats and integers. */
static void assert_same_qmodel(const char *a_path, const char *b_path)
{
    mf_error err;
    int is_float = 0;
    mf_qmodel *a = mf_qmodel_load(a_path, &is_float, &err);
    if (!a) fail_msg("%s: %s", a_path, err.message);
    mf_qmodel *b = mf_qmodel_load(b_path, &is_float, &err);
    if (!b) fail_msg("%s: %s", b_path, err.message);
    assert_int_equal(a->bits, b->bits);
    assert_int_equal(a->n_in, b->n_in);
    assert_int_equal(a->rounding, b->rounding);
    assert_int_equal(a->range_method, b->range_method);
    assert_int_equal(a->calibration_samples, b->calibration_samples);
    assert_int_equal(a->model->n_nodes, b->model->n_nodes);
    for (int i = 0; i < a->model->n_nodes; i++) {
        const mf_qnode *x = &a->nodes[i], *y = &b->nodes[i];
        assert_int_equal(x->n_out, y->n_out);
        assert_int_equal(x->n_weights, y->n_weights);
        assert_int_equal(x->n_bias, y->n_bias);
        if (!x->w) continue;
        assert_int_equal(x->n_w, y->n_w);
        assert_memory_equal(x->w, y->w, x->n_weights * (size_t)(a->bits / 8));
        if (x->bias) assert_memory_equal(x->bias, y->bias, x->n_bias * (a->bits == 8 ? 4 : 8));
        assert_true((x->n_w_ch == NULL) == (y->n_w_ch == NULL));
    }
    mf_qmodel_free(a);
    mf_qmodel_free(b);
}

/* One PTQ policy: deploy of a float model at int8 quantizes exactly as quantize does, with the
 * same options (default, and a strided calibration subset with MSE ranges). */
static void test_deploy_quantizes_as_quantize(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("cli_one_ptq");
    tu_write_file(dir, "p.yaml",
                  "dataset: {name: synthetic, shape: [32, 3], classes: 3, train_samples: 200,\n"
                  "          test_samples: 16, noise: 0.5}\n"
                  "model: {template: resnetv1_6, width: 4}\n"
                  "train: {epochs: 1, batch_size: 32, lr: 0.05, progress: none}\n");
    char args[2048], a[1400], b[1400];
    snprintf(args, sizeof args, "train '%s/p.yaml' train.output='%s/model.h5'", dir, dir);
    assert_int_equal(mcuforge(args), 0);
    static const char *const options[] = {"", "--calibration 50 --range mse"};
    for (int k = 0; k < 2; k++) {
        snprintf(args, sizeof args, "quantize '%s/model.h5' --bits 8 %s --out '%s/q%d.h5'", dir,
                 options[k], dir, k);
        assert_int_equal(mcuforge(args), 0);
        snprintf(args, sizeof args, "deploy '%s/model.h5' --precision int8 %s --out '%s/fw%d'", dir,
                 options[k], dir, k);
        assert_int_equal(mcuforge(args), 0);
        assert_output_has("model.q8.h5");
        snprintf(a, sizeof a, "%s/q%d.h5", dir, k);
        snprintf(b, sizeof b, "%s/fw%d/model.q8.h5", dir, k);
        assert_same_qmodel(a, b);
    }
    /* the files say how their ranges were calibrated */
    snprintf(args, sizeof args, "info '%s/q1.h5'", dir);
    assert_int_equal(mcuforge(args), 0);
    assert_output_has("calibration: MSE ranges on 50 training samples");
    snprintf(args, sizeof args, "info '%s/q0.h5'", dir);
    assert_int_equal(mcuforge(args), 0);
    assert_output_has("calibration: max ranges on 200 training samples");
    snprintf(args, sizeof args, "deploy '%s/model.h5' --precision int8 --range median --out x",
             dir);
    assert_int_equal(mcuforge(args), 2);
}

/* run with a deploy section: train → int8 → firmware → QEMU, the report where the config says;
 * and the deploy section's own errors. */
static void test_run_deploy(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("cli_run_deploy");
    tu_write_file(dir, "d.yaml",
                  "dataset: {name: synthetic, shape: [32, 3], classes: 3, train_samples: 256,\n"
                  "          test_samples: 64, noise: 0.5}\n"
                  "model: {template: resnetv1_6, width: 4}\n"
                  "train: {epochs: 1, batch_size: 32, lr: 0.05}\n"
                  "quantize: {bits: 8}\n"
                  "deploy: {vectors: 5}\n");
    char args[2048];
    snprintf(args, sizeof args, "run '%s/d.yaml' deploy.vectors=0", dir);
    assert_int_equal(mcuforge(args), 1);
    assert_output_has("deploy.vectors");
    snprintf(args, sizeof args, "run '%s/d.yaml' deploy.all_test=true", dir);
    assert_int_equal(mcuforge(args), 1);
    assert_output_has("d.yaml:6:");
    assert_output_has("vectors and all_test exclude each other");
    const char *missing = mf_deploy_missing_tool();
    if (missing) {
        if (!tu_tool_missing_ok(missing)) fail_msg("%s is missing (CI=true)", missing);
        print_message("skipped the firmware run\n");
        return;
    }
    snprintf(args, sizeof args, "run '%s/d.yaml' train.output='%s/r/model.h5'", dir, dir);
    assert_int_equal(mcuforge(args), 0);
    assert_output_has("deploy: ");
    assert_output_has("100.00 % of outputs identical");
    char path[2200];
    snprintf(path, sizeof path, "%s/r/firmware/report.json", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    fclose(f);
}

/* Shell metacharacters in compiler flags never reach make: --cflags, --opt (deploy) and
 * deploy.opt (run, from the config) are refused, naming the field and the value, before any
 * firmware folder exists, and the injected command never runs. */
static const char *const injections[] = {
    "-DX=`touch PWNED`1",   "-DX=1;touch PWNED", "-DX=$(touch PWNED)1", "-DX=1|touch PWNED",
    "-DX=1 && touch PWNED", "-DX='a b'",         "-DX=\"1\"",           "-DX=1\ntouch PWNED",
};
#define N_INJECTIONS (sizeof injections / sizeof injections[0])

static void assert_refused(int rc, const char *field, const char *value, const char *dir)
{
    if (rc == 0) fail_msg("%s '%s' was accepted:\n%s", field, value, out);
    assert_output_has(field);
    if (!strchr(value, '\n'))
        assert_output_has(value);
    else
        assert_output_has("\\n");
    if (path_exists(dir, "fw/PWNED") || path_exists(dir, "PWNED"))
        fail_msg("%s '%s' ran the injected command", field, value);
    assert_false(path_exists(dir, "fw/config.mk"));
}

static void test_flag_injection_refused(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("cli_inject");
    char d[1200];
    snprintf(d, sizeof d, "%s", dir);
    tu_write_file(d, "m.yaml",
                  "dataset: {name: synthetic, shape: [16, 3], classes: 3, train_samples: 64,\n"
                  "          test_samples: 8, noise: 0.5}\n"
                  "model: {template: resnetv1_6, width: 4}\n"
                  "train: {epochs: 1, batch_size: 32, lr: 0.05, progress: none}\n");
    const char *train[] = {"train", "m.yaml", "train.output=m.h5", NULL};
    assert_int_equal(mcuforge_argv(d, train), 0);
    for (size_t i = 0; i < N_INJECTIONS; i++)
        for (int k = 0; k < 2; k++) {
            const char *flag = k ? "--opt" : "--cflags";
            const char *args[] = {"deploy", "m.h5", "--precision", "float32",
                                  "--out",  "fw",   "--vectors",   "2",
                                  "--run",  flag,   injections[i], NULL};
            assert_refused(mcuforge_argv(d, args), flag, injections[i], d);
        }
    /* deploy.opt from a config's deploy section, through run */
    for (size_t i = 0; i < N_INJECTIONS; i++) {
        char yaml[2048], quoted[256];
        size_t q = 0;
        for (const char *c = injections[i]; *c && q + 3 < sizeof quoted; c++) {
            if (*c == '\n') {
                quoted[q++] = '\\', quoted[q++] = 'n';
                continue;
            }
            if (*c == '"' || *c == '\\') quoted[q++] = '\\';
            quoted[q++] = *c;
        }
        quoted[q] = '\0';
        snprintf(yaml, sizeof yaml,
                 "dataset: {name: synthetic, shape: [16, 3], classes: 3, train_samples: 64,\n"
                 "          test_samples: 8, noise: 0.5}\n"
                 "model: {template: resnetv1_6, width: 4}\n"
                 "train: {epochs: 1, batch_size: 32, lr: 0.05, progress: none, output: r/m.h5}\n"
                 "deploy: {out: fw, vectors: 2, run: true, opt: \"%s\"}\n",
                 quoted);
        tu_write_file(d, "inject.yaml", yaml);
        const char *args[] = {"run", "inject.yaml", NULL};
        assert_refused(mcuforge_argv(d, args), "deploy.opt", injections[i], d);
    }
    /* allowed flags still work (generation only) */
    const char *ok[] = {"deploy", "m.h5",      "--precision", "float32",          "--out", "fw",
                        "--opt",  "-Os -flto", "--cflags",    "-Werror -DMF_X=1", NULL};
    assert_int_equal(mcuforge_argv(d, ok), 0);
    assert_true(path_exists(d, "fw/config.mk"));
}

/* deploy --out into a folder that is not a project of deploy's own is refused (exit 1, the
 * folder named, its files kept); --force replaces it as a whole, with the quantized model in
 * the new project; a later deploy into the project replaces it again (model.q8.h5 of the int8
 * deploy does not survive a float32 one). */
static void test_deploy_out_folder(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("cli_out_folder");
    char d[1200];
    snprintf(d, sizeof d, "%s", dir);
    tu_write_file(d, "m.yaml",
                  "dataset: {name: synthetic, shape: [16, 3], classes: 3, train_samples: 64,\n"
                  "          test_samples: 8, noise: 0.5}\n"
                  "model: {template: resnetv1_6, width: 4}\n"
                  "train: {epochs: 1, batch_size: 32, lr: 0.05, progress: none}\n");
    const char *train[] = {"train", "m.yaml", "train.output=m.h5", NULL};
    assert_int_equal(mcuforge_argv(d, train), 0);
    char mine[1300];
    snprintf(mine, sizeof mine, "%s/mine", d);
    assert_int_equal(mkdir(mine, 0777), 0);
    tu_write_file(mine, "main.c", "my own\n");
    const char *deploy[] = {"deploy", "m.h5", "--precision", "int8", "--out", "mine", NULL};
    assert_int_equal(mcuforge_argv(d, deploy), 1);
    assert_output_has("mine is not empty");
    assert_output_has("--force");
    assert_true(path_exists(d, "mine/main.c") && !path_exists(d, "mine/deploy.manifest"));
    const char *force[] = {"deploy", "m.h5", "--precision", "int8",
                           "--out",  "mine", "--force",     NULL};
    assert_int_equal(mcuforge_argv(d, force), 0);
    assert_output_has("quantized model saved to mine/model.q8.h5");
    assert_true(path_exists(d, "mine/model.q8.h5") && path_exists(d, "mine/deploy.manifest"));
    const char *f32[] = {"deploy", "m.h5", "--precision", "float32", "--out", "mine/", NULL};
    assert_int_equal(mcuforge_argv(d, f32), 0);
    assert_false(path_exists(d, "mine/model.q8.h5"));
    assert_true(path_exists(d, "mine/deploy.manifest"));
    assert_int_equal(tu_count_entries(d), 7); /* m.yaml, m.h5, 4 reports, mine: nothing else */
}

/* Argument errors: every number is parsed strictly (no trailing junk, no NaN or infinity, in
 * range), and every error names the argument, the value and what is expected, with exit status
 * 2, before any file is read. */
static void test_argument_errors(void **state)
{
    (void)state;
    static const struct {
        const char *args[16];
        const char *says[3];
    } cases[] = {
        {{"quantize", "m.h5", "--bits", "8", "--frobnicate"}, {"unknown option '--frobnicate'"}},
        {{"quantize", "m.h5", "--bits", "8", "--calibration", "-5"},
         {"--calibration '-5'", "from 0 to"}},
        {{"quantize", "m.h5", "--bits", "8", "--threads", "0"}, {"--threads '0'", "from 1 to 64"}},
        {{"quantize", "m.h5", "--bits", "8junk"}, {"--bits '8junk'", "8 or 16"}},
        {{"quantize", "m.h5", "--bits", "12"}, {"--bits '12'", "8 or 16"}},
        {{"quantize", "m.h5", "--bits", "8", "--calibration", "abc"}, {"--calibration 'abc'"}},
        {{"quantize", "m.h5", "--bits", "8", "--qat", "--lr", "nan"}, {"--lr 'nan'", "finite"}},
        {{"quantize", "m.h5", "--bits", "8", "--qat", "--lr", "inf"}, {"--lr 'inf'"}},
        {{"quantize", "m.h5", "--bits", "8", "--qat", "--lr", "0.01x"}, {"--lr '0.01x'"}},
        {{"quantize", "m.h5", "--bits", "8", "--qat", "--lr", "-0.1"}, {"--lr '-0.1'"}},
        {{"quantize", "m.h5", "--bits", "8", "--qat", "--epochs", "-3"},
         {"--epochs '-3'", "from 1 to"}},
        {{"quantize", "m.h5", "--bits", "8", "--force-n", "9x"}, {"--force-n '9x'"}},
        {{"quantize", "m.h5", "--bits", "8", "--rounding", "up"},
         {"--rounding 'up'", "floor or half-up"}},
        {{"quantize", "m.h5", "--bits", "8", "--range", "median"},
         {"--range 'median'", "max or mse"}},
        {{"quantize", "m.h5", "--bits"}, {"--bits needs a value"}},
        {{"quantize", "--bits", "8"}, {"name a model file"}},
        {{"quantize", "m.h5", "n.h5", "--bits", "8"}, {"unexpected argument 'n.h5'"}},
        {{"deploy", "m.h5", "--precision", "int8", "--out", "d", "--frob"},
         {"unknown option '--frob'"}},
        {{"deploy", "m.h5", "--precision", "int4", "--out", "d"},
         {"--precision 'int4'", "float32, int16 or int8"}},
        {{"deploy", "m.h5", "--precision", "int8", "--out", "d", "--vectors", "-1"},
         {"--vectors '-1'", "from 1 to"}},
        {{"deploy", "m.h5", "--precision", "int8", "--out", "d", "--vectors", "0"},
         {"--vectors '0'"}},
        {{"deploy", "m.h5", "--precision", "int8", "--out", "d", "--vectors", "5x"},
         {"--vectors '5x'"}},
        {{"deploy", "m.h5", "--precision", "int8", "--out", "d", "--timeout", "0"},
         {"--timeout '0'"}},
        {{"deploy", "m.h5", "--precision", "int8", "--out", "d", "--threads", "65"},
         {"--threads '65'", "from 1 to 64"}},
        {{"deploy", "m.h5", "--precision", "int8", "--out", "d", "--calibration", "-1"},
         {"--calibration '-1'"}},
        {{"deploy", "m.h5", "--precision", "int8", "--out", "d", "--range", "median"},
         {"--range 'median'"}},
        {{"deploy", "m.h5", "--precision", "int8", "--out", "d", "--rounding", "up"},
         {"--rounding 'up'"}},
        {{"deploy", "m.h5", "--precision", "int8", "--out"}, {"--out needs a value"}},
        {{"deploy", "m.h5", "--precision", "int8"}, {"--out"}},
        {{"deploy", "m.h5", "--precision", "int8", "--out", "d", "--vectors", "5", "--all-test"},
         {"exclude each other"}},
        {{"eval", "m.h5", "--threads", "2x"}, {"--threads '2x'"}},
        {{"eval", "m.h5", "--split", "bogus"}, {"--split 'bogus'", "test, val or train"}},
        {{"eval", "m.h5", "--frob"}, {"unknown option '--frob'"}},
        {{"lower", "m.h5", "--precision", "int4"}, {"--precision 'int4'"}},
        {{"lower", "m.h5", "--frob"}, {"unknown option '--frob'"}},
        {{"train", "c.yaml", "--frob"}, {"unknown option '--frob'"}},
        {{"run", "c.yaml", "--frob"}, {"unknown option '--frob'"}},
        {{"info", "m.h5", "--frob"}, {"unknown option '--frob'"}},
        {{"dataset", "info", "synthetic", "--frob"}, {"unknown option '--frob'"}},
    };
    const char *dir = tu_tmpdir("cli_arguments");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = mcuforge_argv(dir, cases[i].args);
        char line[512] = "";
        for (int a = 0; cases[i].args[a]; a++)
            snprintf(line + strlen(line), sizeof line - strlen(line), " %s", cases[i].args[a]);
        if (rc != 2) fail_msg("mcuforge%s: exit %d, not 2:\n%s", line, rc, out);
        for (int k = 0; k < 3 && cases[i].says[k]; k++)
            if (!strstr(out, cases[i].says[k]))
                fail_msg("mcuforge%s: the message lacks '%s':\n%s", line, cases[i].says[k], out);
        if (strcmp(cases[i].args[2] ? cases[i].args[2] : "", "--bits") &&
            strstr(out, "--bits must"))
            fail_msg("mcuforge%s: blames --bits:\n%s", line, out);
    }
    assert_int_equal(tu_count_entries(dir), 0); /* nothing written */
    const char *help[] = {"quantize", "--help", NULL};
    assert_int_equal(mcuforge_argv(dir, help), 0);
    assert_output_has("--range max|mse");
}

static void test_config_errors_reach_the_user(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("cli_errors");
    tu_write_file(dir, "bad.yaml",
                  "dataset: {name: synthetic, shape: [32, 3], classes: 3}\n"
                  "model:\n"
                  "  layers:\n"
                  "    - {name: c1, type: conv1d, filters: 4, kernel: 3}\n"
                  "    - {name: p, type: maxpool1d, kernel: 2}\n"
                  "    - {name: s, type: add, inputs: [c1, p]}\n"
                  "    - {name: g, type: global_avgpool}\n"
                  "    - {name: o, type: dense, units: 3}\n"
                  "train: {epochs: 1}\n");
    char args[2048];
    snprintf(args, sizeof args, "train '%s/bad.yaml'", dir);
    assert_int_equal(mcuforge(args), 1);
    assert_output_has("bad.yaml:6:");
    assert_output_has("'c1' outputs 30x4 and 'p' outputs 15x4");
    snprintf(args, sizeof args, "train '%s/bad.yaml' train.epochs=zero", dir);
    assert_int_equal(mcuforge(args), 1);
    assert_output_has("train.epochs=zero");
    snprintf(args, sizeof args, "train '%s/missing.yaml'", dir);
    assert_int_equal(mcuforge(args), 1);
    assert_output_has("missing.yaml");
}

static void test_dataset_info(void **state)
{
    (void)state;
    assert_int_equal(mcuforge("dataset info nosuch"), 1);
    assert_output_has("unknown dataset 'nosuch'");
    assert_int_equal(mcuforge("dataset info uci-har dataset.path=/nonexistent/folder"), 1);
    assert_output_has("/nonexistent/folder");
    assert_int_equal(mcuforge("dataset info synthetic dataset.shape=[8,2] dataset.classes=3 "
                              "dataset.train_samples=30"),
                     0);
    assert_output_has("train: 30 samples");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_train_then_eval),
        cmocka_unit_test(test_run_quantize_eval),
        cmocka_unit_test(test_lower_prints_program),
        cmocka_unit_test(test_deploy_quantizes_as_quantize),
        cmocka_unit_test(test_run_deploy),
        cmocka_unit_test(test_flag_injection_refused),
        cmocka_unit_test(test_deploy_out_folder),
        cmocka_unit_test(test_argument_errors),
        cmocka_unit_test(test_config_errors_reach_the_user),
        cmocka_unit_test(test_dataset_info),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
