/* mcuforge deploy MODEL.h5 --precision float32|int16|int8 --out DIR [--run] [--vectors N |
 * --all-test] [--stream] [--cflags "..."] [--opt "..."] [key.sub=value ...] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "mf_config.h"
#include "mf_datasets.h"
#include "mf_deploy.h"
#include "mf_model_io.h"
#include "mf_quantize.h"
#include "mf_runtime.h"
#include "mf_train.h"

static void deploy_usage(FILE *f)
{
    fprintf(
        f,
        "usage: mcuforge deploy MODEL.h5 [--precision float32|int16|int8] --out DIR [--run]\n"
        "                      [--vectors N | --all-test] [--stream] [--no-fuse] [--opt FLAGS]\n"
        "                      [--cflags FLAGS] [--timeout S] [--threads T] [key.sub=value ...]\n\n"
        "Generates a self-contained bare-metal firmware project for the STM32F405 (Cortex-M4F)\n"
        "that QEMU's netduinoplus2 emulates: model.h/model.c (one runtime-kernel call per layer,\n"
        "activations in one static arena placed by a memory plan, printed), model_weights.c,\n"
        "copies of the runtime kernels, startup code, a linker script with the real 1 MiB flash\n"
        "and 128 KiB RAM budget, a test harness (main.c) and a Makefile for arm-none-eabi-gcc.\n\n"
        "MODEL.h5 is a quantized model (mcuforge quantize; its precision is used, and --precision\n"
        "must agree) or a float model: float32 deploys it as is (batch-norm folded, ReLU fused);\n"
        "int16/int8 first quantize it with the PTQ defaults of mcuforge quantize (per-tensor\n"
        "formats, half-up rounding, calibration on the whole training set).\n\n"
        "Test vectors come from the test split of the model's dataset (embedded config; key=value\n"
        "overrides apply, e.g. dataset.path=...): --vectors N (default 20) puts the first N in\n"
        "flash, --stream streams them from DIR/vectors.bin through semihosting instead, and\n"
        "--all-test streams the whole test split. The host's outputs for the same inputs, from "
        "the\n"
        "same kernels, go to DIR/expected.bin.\n\n"
        "--run builds the project (make), runs it in qemu-system-arm with -icount shift=0 and\n"
        "reports accuracy on target, bit-exactness against the host, instructions per inference\n"
        "(total and per layer), MACs per instruction, ROM split, RAM (arena, peak stack) and the\n"
        "model's flash (firmware minus the same firmware without the model), as a table and as\n"
        "DIR/report.json. Needs arm-none-eabi-gcc and qemu-system-arm (bash tools/setup.sh).\n\n"
        "A max-pool (stride >= size) after a conv that feeds nothing else is computed inside\n"
        "the conv (fused kernel, the full-resolution output never exists); --no-fuse keeps\n"
        "the two calls. --cflags appends compiler flags; --opt replaces the optimisation\n"
        "flags, by default:\n    %s\n"
        "--timeout S limits each QEMU run (default 120 s).\n",
        MF_DEPLOY_DEFAULT_OPT);
}

static int parse_precision(const char *s)
{
    if (!strcmp(s, "float32")) return MF_PREC_FLOAT32;
    if (!strcmp(s, "int16")) return MF_PREC_INT16;
    if (!strcmp(s, "int8")) return MF_PREC_INT8;
    return 0;
}

int cmd_deploy(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        deploy_usage(stdout);
        return 0;
    }
    const char *model_path = NULL, *out_dir = NULL, *cflags = NULL, *opt = NULL;
    int precision = 0, run = 0, n_vectors = -1, all_test = 0, stream = 0, threads = 2;
    int timeout_s = 120, usage = 0, no_fuse = 0;
    char **overrides = calloc((size_t)argc, sizeof *overrides);
    int n_overrides = 0;
    if (!overrides) return 1;
    for (int i = 1; i < argc && !usage; i++) {
        const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--precision") && next) {
            precision = parse_precision(argv[++i]);
            if (!precision) usage = 1;
        } else if (!strcmp(a, "--out") && next)
            out_dir = argv[++i];
        else if (!strcmp(a, "--run"))
            run = 1;
        else if (!strcmp(a, "--vectors") && next)
            n_vectors = atoi(argv[++i]);
        else if (!strcmp(a, "--all-test"))
            all_test = 1;
        else if (!strcmp(a, "--stream"))
            stream = 1;
        else if (!strcmp(a, "--no-fuse"))
            no_fuse = 1;
        else if (!strcmp(a, "--cflags") && next)
            cflags = argv[++i];
        else if (!strcmp(a, "--opt") && next)
            opt = argv[++i];
        else if (!strcmp(a, "--timeout") && next)
            timeout_s = atoi(argv[++i]);
        else if (!strcmp(a, "--threads") && next)
            threads = atoi(argv[++i]);
        else if (a[0] != '-' && strchr(a, '='))
            overrides[n_overrides++] = argv[i];
        else if (a[0] != '-' && !model_path)
            model_path = a;
        else
            usage = 1;
    }
    if (usage || !model_path || !out_dir || (all_test && n_vectors >= 0) ||
        (n_vectors == 0 || n_vectors < -1) || threads < 1 || threads > 64 || timeout_s < 1) {
        fprintf(stderr, "mcuforge deploy: %s\n",
                !model_path                  ? "name a model file"
                : !out_dir                   ? "name the output folder with --out DIR"
                : all_test && n_vectors >= 0 ? "--vectors N and --all-test exclude each other"
                                             : "bad arguments (see --help)");
        deploy_usage(stderr);
        free(overrides);
        return 2;
    }
    deploy_request req = {model_path, out_dir,   cflags,    opt,        precision,
                          run,        n_vectors, all_test,  stream,     threads,
                          timeout_s,  no_fuse,   overrides, n_overrides};
    mf_error err;
    mf_error_clear(&err);
    int rc = deploy_model(&req, &err) ? cli_fail(&err) : 0;
    free(overrides);
    return rc;
}

void deploy_inputs_free(deploy_inputs *in)
{
    free(in->ranges);
    mf_model_free(in->folded);
    free(in->vectors);
    free(in->labels);
    mf_dataset_free(in->data);
    mf_config_free(in->cfg);
    mf_qmodel_free(in->q);
    mf_model_free(in->model);
    memset(in, 0, sizeof *in);
}

int deploy_inputs_load(const deploy_request *r, FILE *log, deploy_inputs *in, mf_error *err)
{
    memset(in, 0, sizeof *in);
    const char *model_path = r->model_path;
    int precision = r->precision, n_vectors = r->n_vectors < 0 ? 20 : r->n_vectors;
    const int all_test = r->all_test, stream = r->stream || r->all_test, threads = r->threads;
    int is_float = 0;
    in->q = mf_qmodel_load(model_path, &is_float, err);
    if (!in->q && !is_float) goto fail;
    if (in->q) {
        if (precision && precision != in->q->bits) {
            mf_error_set(err,
                         "%s is an int%d model; --precision %s disagrees (deploy the float model "
                         "with that precision instead)",
                         model_path, in->q->bits,
                         precision == 32   ? "float32"
                         : precision == 16 ? "int16"
                                           : "int8");
            goto fail;
        }
        precision = in->q->bits;
    } else {
        in->model = mf_model_load(model_path, err);
        if (!in->model) goto fail;
        if (!precision) {
            mf_error_set(err, "%s is a float model: choose --precision float32, int16 or int8",
                         model_path);
            goto fail;
        }
    }
    const mf_model *m = in->q ? in->q->model : in->model;
    size_t in_size = mf_model_input_size(m);
    /* the dataset: test vectors (raw) and, for PTQ, the calibration set */
    if (m->config_text) {
        char origin[4200];
        snprintf(origin, sizeof origin, "%s (embedded config)", model_path);
        if (mf_config_load_text(m->config_text, origin, r->overrides, r->n_overrides,
                                MF_CONFIG_DATASET_ONLY, &in->cfg, err) ||
            mf_dataset_load(&in->cfg->dataset, log ? stderr : NULL, &in->data, err))
            goto fail;
        mf_dataset *data = in->data;
        if (!mf_shape_equal(&data->shape, &m->input_shape) ||
            (int)mf_model_output_size(m) != data->classes) {
            char a[64], b[64];
            mf_error_set(err,
                         "%s takes %s and predicts %zu classes; dataset %s has %s and %d "
                         "classes",
                         model_path, mf_shape_str(&m->input_shape, a, sizeof a),
                         mf_model_output_size(m), data->name,
                         mf_shape_str(&data->shape, b, sizeof b), data->classes);
            goto fail;
        }
        if (all_test || n_vectors > data->n_test) n_vectors = data->n_test;
        if (n_vectors < 1) {
            mf_error_set(err, "dataset %s has no test samples", data->name);
            goto fail;
        }
        in->vectors = malloc(sizeof(float) * in_size * (size_t)n_vectors);
        in->labels = malloc(sizeof(int) * (size_t)n_vectors);
        if (!in->vectors || !in->labels) {
            mf_error_set(err, "out of memory");
            goto fail;
        }
        memcpy(in->vectors, data->x_test, sizeof(float) * in_size * (size_t)n_vectors);
        memcpy(in->labels, data->y_test, sizeof(int) * (size_t)n_vectors);
        if (log)
            fprintf(log, "test vectors: %d of %d from the %s test split (%s)\n", n_vectors,
                    data->n_test, data->name, stream ? "streamed from vectors.bin" : "in flash");
    } else {
        if (all_test || (!in->q && precision != 32)) {
            mf_error_set(err, "%s has no embedded config: no dataset for %s", model_path,
                         all_test ? "--all-test" : "calibration");
            goto fail;
        }
        in->vectors = malloc(sizeof(float) * in_size * (size_t)n_vectors);
        if (!in->vectors) {
            mf_error_set(err, "out of memory");
            goto fail;
        }
        mf_rng rng;
        mf_rng_seed(&rng, 1);
        for (size_t i = 0; i < in_size * (size_t)n_vectors; i++)
            in->vectors[i] = (float)(2.0 * mf_rng_uniform(&rng) - 1.0);
        if (log)
            fprintf(log,
                    "%s has no embedded config: %d pseudo-random test vectors in [-1, 1), no "
                    "labels\n",
                    model_path, n_vectors);
    }
    in->n_vectors = n_vectors;
    if (!in->q && precision != 32) {
        mf_quant_options qo = {precision, MF_RT_ROUND_HALF_UP, 0, -1};
        if (log) {
            fprintf(log,
                    "%s is a float model: quantizing to int%d with the PTQ defaults (per-tensor "
                    "formats, half-up rounding, calibration on all %d training samples); use "
                    "mcuforge quantize for other options\n",
                    model_path, precision, in->data->n_train);
            fflush(log);
        }
        mf_dataset_apply_model(in->model, in->data); /* the test copy above stays raw */
        in->folded = mf_fold_model(in->model, err);
        if (!in->folded) goto fail;
        in->ranges = malloc(sizeof(double) * (size_t)in->folded->n_nodes);
        if (!in->ranges) {
            mf_error_set(err, "out of memory");
            goto fail;
        }
        if (mf_calibrate(in->folded, in->data->x_train, in->data->n_train, threads, in->ranges,
                         err))
            goto fail;
        in->q = mf_qmodel_build(in->folded, in->ranges, &qo, err);
        in->folded = NULL; /* owned by q (freed on error too) */
        if (!in->q) goto fail;
    }
    return MF_OK;
fail:
    deploy_inputs_free(in);
    return MF_ERR;
}

int deploy_model(const deploy_request *r, mf_error *err)
{
    const char *out_dir = r->out_dir;
    const int stream = r->stream || r->all_test, threads = r->threads;
    int rc = MF_ERR;
    deploy_inputs in;
    mf_deploy_report rep;
    memset(&rep, 0, sizeof rep);
    if (deploy_inputs_load(r, stdout, &in, err)) return MF_ERR;
    mf_deploy_options o = {0};
    o.out_dir = out_dir;
    o.vectors = in.vectors;
    o.labels = in.labels;
    o.n_vectors = in.n_vectors;
    o.stream = stream;
    o.opt = r->opt;
    o.cflags = r->cflags;
    o.no_fuse = r->no_fuse;
    o.log = stdout;
    if (mf_deploy_generate(in.q, in.q ? NULL : in.model, &o, NULL, err)) goto done;
    if (r->run) {
        mf_deploy_run_options ro = {r->timeout_s, threads, stdout};
        if (mf_deploy_run(out_dir, &ro, &rep, err)) goto done;
        mf_deploy_report_print(&rep, stdout);
        printf("report written to %s/report.json\n", out_dir);
        if (rep.bit_exact != rep.n_vectors) {
            mf_error_set(err,
                         "only %d of %d outputs on target are bit-identical to the host's: the "
                         "firmware and the host kernels disagree",
                         rep.bit_exact, rep.n_vectors);
            goto done;
        }
    }
    rc = MF_OK;
done:
    mf_deploy_report_free(&rep);
    deploy_inputs_free(&in);
    return rc;
}
