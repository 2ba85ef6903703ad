/* mcuforge deploy MODEL.h5 --precision float32|int16|int8 --out DIR [--run] [--vectors N |
 * --all-test] [--stream] [--cflags "..."] [--opt "..."] [--objective instructions|flash]
 * [--flash-budget BYTES] [--instruction-budget N] [key.sub=value ...] */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "mf_deploy.h"
#include "mf_pipeline.h"
#include "mf_runtime.h"

static void deploy_usage(FILE *f)
{
    fprintf(
        f,
        "usage: mcuforge deploy MODEL.h5 [--precision float32|int16|int8] --out DIR [--force]\n"
        "                      [--run] [--vectors N | --all-test] [--stream] [--no-fuse]\n"
        "                      [--opt FLAGS] [--cflags FLAGS] [--timeout S] [--threads T]\n"
        "                      [--calibration N] [--range max|mse] [--per-channel]\n"
        "                      [--rounding floor|half-up] [--objective instructions|flash]\n"
        "                      [--flash-budget BYTES] [--instruction-budget N]\n"
        "                      [key.sub=value ...]\n\n"
        "Generates a self-contained bare-metal firmware project for the STM32F405 (Cortex-M4F)\n"
        "that QEMU's netduinoplus2 emulates: model.h/model.c (one runtime-kernel call per layer,\n"
        "activations in one static arena placed by a memory plan, printed), model_weights.c,\n"
        "copies of the runtime kernels, startup code, a linker script with the real 1 MiB flash\n"
        "and 128 KiB RAM budget, a test harness (main.c) and a Makefile for arm-none-eabi-gcc.\n\n"
        "MODEL.h5 is a quantized model (mcuforge quantize; its precision is used, and --precision\n"
        "must agree) or a float model: float32 deploys it as is (batch-norm folded, ReLU fused);\n"
        "int16/int8 first quantize it exactly as mcuforge quantize does, with its options\n"
        "--calibration N (training samples spread over the split; default all), --range max|mse,\n"
        "--per-channel and --rounding floor|half-up (default half-up), and write the quantized\n"
        "model to DIR/model.q8.h5 (.q16.h5).\n\n"
        "DIR may be a new folder, an empty one or a project deploy wrote before (it holds\n"
        "deploy.manifest); the project is written beside it and replaces it as a whole (its\n"
        "build and report too) only once complete, so a failed deploy leaves DIR as it was.\n"
        "Any other existing folder is refused; --force replaces it as a whole.\n\n"
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
        "DIR/report.json, and every vector's outputs as DIR/outputs.csv (the format of eval\n"
        "--dump). Needs arm-none-eabi-gcc and qemu-system-arm (bash tools/setup.sh).\n\n"
        "A max-pool (stride >= size) after a conv that feeds nothing else is computed inside\n"
        "the conv (fused kernel, the full-resolution output never exists); --no-fuse keeps\n"
        "the two calls. --cflags appends compiler flags; --opt replaces the optimisation\n"
        "flags, by default:\n    %s\n"
        "Both take flags separated by spaces, each one of -O0|1|2|3|s|g|z, -g, -fNAME[=VALUE],\n"
        "-mNAME, -WNAME[=VALUE], -DMACRO[=VALUE] (NAME: a-z 0-9 -; VALUE: letters, digits,\n"
        "_ . , -); anything else is refused (the flags go into a Makefile run by the shell).\n"
        "Pruned int8 layers have two variants, the dense kernel and the sparse one on the\n"
        "nonzero weights; each layer takes the one that suits --objective: instructions\n"
        "(default: the faster, so no layer is slower than dense) or flash (the smaller).\n"
        "With --run both are measured first in QEMU (two profiling builds, 3 vectors each),\n"
        "and under flash each kernel's code is weighed by building the firmware; without,\n"
        "the cost model of mcuforge lower decides. --flash-budget BYTES caps the\n"
        "model's weights in flash (all blobs: weights, sparse indices, biases, shifts) and\n"
        "--instruction-budget N the instructions per inference (needs --run); layers switch\n"
        "variant, the cheapest trade first, until the budgets hold, else deploy fails naming\n"
        "the best figure reachable. The report lists both variants of every such layer.\n"
        "--timeout S limits each QEMU run (1 to 86400, default 120 s); --threads T (1 to 64,\n"
        "default 2) is make's -j and the calibration's threads; --vectors N: 1 to 16777216.\n",
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
    static const char verb[] = "deploy";
    const char *model_path = NULL, *out_dir = NULL, *cflags = NULL, *opt = NULL;
    int precision = 0, run = 0, n_vectors = -1, all_test = 0, stream = 0, threads = 2;
    int timeout_s = 120, bad = 0, no_fuse = 0, calibration = 0, mse = 0, per_channel = 0;
    int rounding = MF_RT_ROUND_HALF_UP, force = 0, objective = 0, flash_budget = 0;
    int instr_budget = 0;
    mf_error err;
    mf_error_clear(&err);
    char **overrides = calloc((size_t)argc, sizeof *overrides);
    int n_overrides = 0;
    if (!overrides) return 1;
    static const char *const with_value[] = {
        "--precision",
        "--out",
        "--vectors",
        "--cflags",
        "--opt",
        "--timeout",
        "--threads",
        "--calibration",
        "--range",
        "--rounding",
        "--objective",
        "--flash-budget",
        "--instruction-budget",
    };
    for (int i = 1; i < argc && !bad; i++) {
        const char *a = argv[i], *v = NULL;
        int takes_value = 0;
        for (size_t k = 0; k < sizeof with_value / sizeof with_value[0]; k++)
            takes_value |= !strcmp(a, with_value[k]);
        if (!strcmp(a, "--run"))
            run = 1;
        else if (!strcmp(a, "--all-test"))
            all_test = 1;
        else if (!strcmp(a, "--stream"))
            stream = 1;
        else if (!strcmp(a, "--no-fuse"))
            no_fuse = 1;
        else if (!strcmp(a, "--force"))
            force = 1;
        else if (!strcmp(a, "--per-channel"))
            per_channel = 1;
        else if (a[0] != '-' && strchr(a, '='))
            overrides[n_overrides++] = argv[i];
        else if (a[0] != '-' && !model_path)
            model_path = a;
        else if (a[0] != '-')
            bad = cli_usage_error(verb, "unexpected argument '%s' (one model file)", a);
        else if (!takes_value)
            bad = cli_usage_error(verb, "unknown option '%s'", a);
        else if (!(v = cli_value(verb, argc, argv, &i)))
            bad = 2;
        else if (!strcmp(a, "--precision")) {
            precision = parse_precision(v);
            if (!precision)
                bad = cli_usage_error(verb, "--precision '%s': expected float32, int16 or int8", v);
        } else if (!strcmp(a, "--out"))
            out_dir = v;
        else if (!strcmp(a, "--vectors"))
            bad = cli_parse_int(verb, a, v, 1, CLI_MAX_SAMPLES, &n_vectors);
        else if (!strcmp(a, "--cflags") || !strcmp(a, "--opt")) {
            *(!strcmp(a, "--opt") ? &opt : &cflags) = v;
            if (mf_deploy_check_flags(a, v, &err)) bad = cli_usage_error(verb, "%s", err.message);
        } else if (!strcmp(a, "--timeout"))
            bad = cli_parse_int(verb, a, v, 1, CLI_MAX_TIMEOUT, &timeout_s);
        else if (!strcmp(a, "--threads"))
            bad = cli_parse_int(verb, a, v, 1, CLI_MAX_THREADS, &threads);
        else if (!strcmp(a, "--flash-budget"))
            bad = cli_parse_int(verb, a, v, 1, MF_DEPLOY_FLASH_BYTES, &flash_budget);
        else if (!strcmp(a, "--instruction-budget"))
            bad = cli_parse_int(verb, a, v, 1, INT_MAX, &instr_budget);
        else if (!strcmp(a, "--objective")) {
            if (!strcmp(v, "instructions") || !strcmp(v, "flash"))
                objective = !strcmp(v, "flash");
            else
                bad = cli_usage_error(verb, "--objective '%s': expected instructions or flash", v);
        } else if (!strcmp(a, "--calibration"))
            bad = cli_parse_int(verb, a, v, 0, CLI_MAX_SAMPLES, &calibration);
        else if (!strcmp(a, "--range")) {
            if (!strcmp(v, "max") || !strcmp(v, "mse"))
                mse = !strcmp(v, "mse");
            else
                bad = cli_usage_error(verb, "--range '%s': expected max or mse", v);
        } else { /* --rounding */
            if (!strcmp(v, "floor") || !strcmp(v, "half-up"))
                rounding = !strcmp(v, "floor") ? MF_RT_ROUND_FLOOR : MF_RT_ROUND_HALF_UP;
            else
                bad = cli_usage_error(verb, "--rounding '%s': expected floor or half-up", v);
        }
    }
    if (!bad && !model_path) bad = cli_usage_error(verb, "name a model file (MODEL.h5)");
    if (!bad && !out_dir) bad = cli_usage_error(verb, "name the output folder with --out DIR");
    if (!bad && all_test && n_vectors > 0)
        bad = cli_usage_error(verb, "--vectors %d and --all-test exclude each other", n_vectors);
    if (!bad && instr_budget && !run)
        bad = cli_usage_error(verb, "--instruction-budget needs --run (the instructions are "
                                    "measured in QEMU)");
    if (bad) {
        free(overrides);
        return 2;
    }
    mf_deploy_request req = {
        .model_path = model_path,
        .out_dir = out_dir,
        .cflags = cflags,
        .opt = opt,
        .precision = precision,
        .run = run,
        .n_vectors = n_vectors,
        .all_test = all_test,
        .stream = stream,
        .threads = threads,
        .timeout_s = timeout_s,
        .no_fuse = no_fuse,
        .ptq = {{precision, rounding, per_channel, -1}, calibration, mse, threads},
        .overrides = overrides,
        .n_overrides = n_overrides,
        .opt_field = "--opt",
        .force = force,
        .objective = objective,
        .flash_budget = (size_t)flash_budget,
        .instr_budget = instr_budget};
    int rc = mf_pipeline_deploy(&req, stdout, &err) ? cli_fail(&err) : 0;
    free(overrides);
    return rc;
}
