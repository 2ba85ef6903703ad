/* mcuforge run CONFIG.yaml [key.sub=value ...]: the whole chain the config describes — train,
 * then quantize when the config has a quantize section. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "mf_config.h"
#include "mf_runtime.h"

static void run_usage(FILE *f)
{
    fprintf(f, "usage: mcuforge run CONFIG.yaml [key.sub=value ...]\n\n"
               "Runs the chain the config describes: trains the model (as 'mcuforge train'),\n"
               "then, when the config has a quantize section, quantizes it (as 'mcuforge\n"
               "quantize' with the section's settings) and writes <model>.q8.h5 / .q16.h5 beside\n"
               "it. Overrides apply to every section, e.g. quantize.bits=8.\n");
}

int cmd_run(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        run_usage(stdout);
        return 0;
    }
    const char *config_path = NULL;
    char **overrides = calloc((size_t)argc, sizeof *overrides);
    int n_overrides = 0;
    if (!overrides) return 1;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] != '-' && strchr(argv[i], '='))
            overrides[n_overrides++] = argv[i];
        else if (argv[i][0] != '-' && !config_path)
            config_path = argv[i];
        else {
            fprintf(stderr, "mcuforge run: unexpected argument '%s'\n", argv[i]);
            run_usage(stderr);
            free(overrides);
            return 2;
        }
    }
    if (!config_path) {
        run_usage(stderr);
        free(overrides);
        return 2;
    }
    mf_error err;
    mf_error_clear(&err);
    mf_config *cfg = NULL;
    int rc = 1;
    if (mf_config_load(config_path, overrides, n_overrides, &cfg, &err) ||
        train_from_config(cfg, &err))
        goto done;
    const mf_quantize_config *qc = &cfg->quantize;
    if (qc->present) {
        char out[4200];
        const char *model = cfg->train.output;
        size_t len = strlen(model);
        int h5 = len > 3 && !strcmp(model + len - 3, ".h5");
        snprintf(out, sizeof out, "%.*s.q%d.h5", (int)(h5 ? len - 3 : len), model, qc->bits);
        quantize_request req = {
            model,
            out,
            {qc->bits, qc->rounding == MF_ROUNDING_FLOOR ? MF_RT_ROUND_FLOOR : MF_RT_ROUND_HALF_UP,
             qc->per_channel ? 1 : 0, qc->force_n},
            qc->calibration,
            0,
            qc->method == MF_QUANT_QAT,
            qc->epochs,
            qc->lr,
            cfg->train.threads,
            NULL,
            0};
        printf("quantize: int%d %s\n", qc->bits, qc->method == MF_QUANT_QAT ? "QAT" : "PTQ");
        fflush(stdout);
        if (quantize_model(&req, &err)) goto done;
    }
    rc = 0;
done:
    if (rc) cli_fail(&err);
    mf_config_free(cfg);
    free(overrides);
    return rc;
}
