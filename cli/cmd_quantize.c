/* mcuforge quantize MODEL.h5 --bits 16|8 [options] [key.sub=value ...] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "mf_pipeline.h"
#include "mf_runtime.h"

static void quantize_usage(FILE *f)
{
    fprintf(
        f, "usage: mcuforge quantize MODEL.h5 --bits 16|8 [--per-channel] [--calibration N]\n"
           "                        [--rounding floor|half-up] [--force-n N] [--out PATH]\n"
           "                        [--qat [--epochs N] [--lr X]] [--threads T]\n"
           "                        [key.sub=value ...]\n\n"
           "Post-training quantization to power-of-two fixed point (DESIGN.md §13): folds\n"
           "batch-norm, fuses ReLUs, calibrates max|x| of every tensor on N training samples\n"
           "spread evenly over the split (default: all), picks formats (or forces n fractional\n"
           "bits everywhere, as MicroAI's int16 Q6.9 does with --force-n 9), and prints the\n"
           "test accuracy computed\n"
           "by the integer kernels themselves, beside the float model's, and a per-layer error\n"
           "report. Writes MODEL.q8.h5 / MODEL.q16.h5 (or --out).\n\n"
           "--qat fine-tunes after calibration for N epochs (default 3) with the model's own\n"
           "optimizer settings at learning rate X (default: a tenth of the config's), the forward\n"
           "pass computed by the integer kernels (straight-through gradients); the accuracy\n"
           "printed is again the integer kernels'.\n");
}

int cmd_quantize(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        quantize_usage(stdout);
        return 0;
    }
    const char *model_path = NULL, *out_path = NULL;
    mf_quant_options o = {0, MF_RT_ROUND_HALF_UP, 0, -1};
    int calibration = 0, threads = 2, qat = 0, qat_epochs = 3, mse = 0;
    double qat_lr = 0.0;
    char **overrides = calloc((size_t)argc, sizeof *overrides);
    int n_overrides = 0, usage = 0;
    if (!overrides) return 1;
    for (int i = 1; i < argc && !usage; i++) {
        const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--bits") && next)
            o.bits = atoi(argv[++i]);
        else if (!strcmp(a, "--range") && next) {
            const char *r = argv[++i];
            if (!strcmp(r, "mse"))
                mse = 1;
            else if (strcmp(r, "max"))
                usage = 1;
        } else if (!strcmp(a, "--qat"))
            qat = 1;
        else if (!strcmp(a, "--epochs") && next)
            qat_epochs = atoi(argv[++i]);
        else if (!strcmp(a, "--lr") && next)
            qat_lr = atof(argv[++i]);
        else if (!strcmp(a, "--per-channel"))
            o.per_channel = 1;
        else if (!strcmp(a, "--calibration") && next)
            calibration = atoi(argv[++i]);
        else if (!strcmp(a, "--force-n") && next)
            o.force_n = atoi(argv[++i]);
        else if (!strcmp(a, "--threads") && next)
            threads = atoi(argv[++i]);
        else if (!strcmp(a, "--out") && next)
            out_path = argv[++i];
        else if (!strcmp(a, "--rounding") && next) {
            const char *r = argv[++i];
            if (!strcmp(r, "floor"))
                o.rounding = MF_RT_ROUND_FLOOR;
            else if (!strcmp(r, "half-up"))
                o.rounding = MF_RT_ROUND_HALF_UP;
            else
                usage = 1;
        } else if (a[0] != '-' && strchr(a, '='))
            overrides[n_overrides++] = argv[i];
        else if (a[0] != '-' && !model_path)
            model_path = a;
        else
            usage = 1;
    }
    if (usage || !model_path || (o.bits != 8 && o.bits != 16) || calibration < 0 || threads < 1 ||
        threads > 64) {
        fprintf(stderr, "mcuforge quantize: %s\n",
                !model_path ? "name a model file" : "--bits must be 8 or 16 (see --help)");
        quantize_usage(stderr);
        free(overrides);
        return 2;
    }
    char default_out[4200];
    if (!out_path) {
        size_t len = strlen(model_path);
        int h5 = len > 3 && !strcmp(model_path + len - 3, ".h5");
        snprintf(default_out, sizeof default_out, "%.*s.q%d.h5", (int)(h5 ? len - 3 : len),
                 model_path, o.bits);
        out_path = default_out;
    }
    mf_quantize_request req = {model_path, out_path,   {o, calibration, mse, threads},
                               qat,        qat_epochs, qat_lr,
                               overrides,  n_overrides};
    mf_error err;
    mf_error_clear(&err);
    int rc = mf_pipeline_quantize(&req, stdout, &err) == MF_OK ? 0 : 1;
    if (rc) cli_fail(&err);
    free(overrides);
    return rc;
}
