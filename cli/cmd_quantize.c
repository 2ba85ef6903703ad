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
           "                        [--range max|mse] [--rounding floor|half-up] [--force-n N]\n"
           "                        [--out PATH] [--qat [--epochs N] [--lr X]] [--threads T]\n"
           "                        [key.sub=value ...]\n\n"
           "Post-training quantization to power-of-two fixed point (DESIGN.md §13): folds\n"
           "batch-norm, fuses ReLUs, calibrates the range of every tensor on N training samples\n"
           "spread evenly over the split (default: all; N from 0 = all to 16777216), picks\n"
           "formats (or forces n fractional bits everywhere, -1 to 40, as MicroAI's int16 Q6.9\n"
           "does with --force-n 9), and prints the test accuracy computed by the integer\n"
           "kernels themselves, beside the float model's, and a per-layer error report. Writes\n"
           "MODEL.q8.h5 / MODEL.q16.h5 (or --out).\n\n"
           "--range max (default) formats every tensor from max|x|; --range mse picks, per\n"
           "tensor, the format among the max-range one and up to 3 finer (clipping) ones with\n"
           "the least squared error on the calibration samples (outliers saturate). --rounding\n"
           "is the requantization rounding (default half-up). --threads T: 1 to 64 (default 2).\n\n"
           "--qat fine-tunes after calibration for N epochs (1 to 100000, default 3) with the\n"
           "model's own optimizer settings at learning rate X (0 to 100; default 0:\n"
           "the float schedule's learning rate at its last epoch), the forward pass computed by\n"
           "the integer kernels (straight-through gradients); the accuracy printed is again the\n"
           "integer kernels'. It distils from the teacher of the embedded config's\n"
           "train.distill when it names one (train.distill.teacher=PATH sets one).\n");
}

int cmd_quantize(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        quantize_usage(stdout);
        return 0;
    }
    static const char verb[] = "quantize";
    const char *model_path = NULL, *out_path = NULL;
    mf_quant_options o = {0, MF_RT_ROUND_HALF_UP, 0, -1};
    int calibration = 0, threads = 2, qat = 0, qat_epochs = 3, mse = 0;
    double qat_lr = 0.0;
    char **overrides = calloc((size_t)argc, sizeof *overrides);
    int n_overrides = 0, bad = 0;
    if (!overrides) return 1;
    for (int i = 1; i < argc && !bad; i++) {
        const char *a = argv[i], *v = NULL;
        if (!strcmp(a, "--qat"))
            qat = 1;
        else if (!strcmp(a, "--per-channel"))
            o.per_channel = 1;
        else if (a[0] != '-' && strchr(a, '='))
            overrides[n_overrides++] = argv[i];
        else if (a[0] != '-' && !model_path)
            model_path = a;
        else if (a[0] != '-')
            bad = cli_usage_error(verb, "unexpected argument '%s' (one model file)", a);
        else if (strcmp(a, "--bits") && strcmp(a, "--range") && strcmp(a, "--epochs") &&
                 strcmp(a, "--lr") && strcmp(a, "--calibration") && strcmp(a, "--force-n") &&
                 strcmp(a, "--threads") && strcmp(a, "--out") && strcmp(a, "--rounding"))
            bad = cli_usage_error(verb, "unknown option '%s'", a);
        else if (!(v = cli_value(verb, argc, argv, &i)))
            bad = 2;
        else if (!strcmp(a, "--bits")) {
            if (!strcmp(v, "8") || !strcmp(v, "16"))
                o.bits = v[0] == '8' ? 8 : 16;
            else
                bad = cli_usage_error(verb, "--bits '%s': expected 8 or 16", v);
        } else if (!strcmp(a, "--range")) {
            if (!strcmp(v, "mse") || !strcmp(v, "max"))
                mse = !strcmp(v, "mse");
            else
                bad = cli_usage_error(verb, "--range '%s': expected max or mse", v);
        } else if (!strcmp(a, "--epochs"))
            bad = cli_parse_int(verb, a, v, 1, CLI_MAX_EPOCHS, &qat_epochs);
        else if (!strcmp(a, "--lr"))
            bad = cli_parse_double(verb, a, v, 0.0, 100.0, &qat_lr);
        else if (!strcmp(a, "--calibration"))
            bad = cli_parse_int(verb, a, v, 0, CLI_MAX_SAMPLES, &calibration);
        else if (!strcmp(a, "--force-n"))
            bad = cli_parse_int(verb, a, v, -1, CLI_MAX_FORCE_N, &o.force_n);
        else if (!strcmp(a, "--threads"))
            bad = cli_parse_int(verb, a, v, 1, CLI_MAX_THREADS, &threads);
        else if (!strcmp(a, "--out"))
            out_path = v;
        else { /* --rounding */
            if (!strcmp(v, "floor") || !strcmp(v, "half-up"))
                o.rounding = !strcmp(v, "floor") ? MF_RT_ROUND_FLOOR : MF_RT_ROUND_HALF_UP;
            else
                bad = cli_usage_error(verb, "--rounding '%s': expected floor or half-up", v);
        }
    }
    if (!bad && !model_path) bad = cli_usage_error(verb, "name a model file (MODEL.h5)");
    if (!bad && !o.bits) bad = cli_usage_error(verb, "choose --bits 8 or 16");
    if (bad) {
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
