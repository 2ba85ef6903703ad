/* mcuforge run CONFIG.yaml [key.sub=value ...]: the whole chain the config describes — train,
 * then quantize when the config has a quantize section, then deploy (and run on the emulated
 * target) when it has a deploy section. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "mf_config.h"
#include "mf_runtime.h"

static void run_usage(FILE *f)
{
    fprintf(f,
            "usage: mcuforge run CONFIG.yaml [key.sub=value ...]\n\n"
            "Runs the chain the config describes: trains the model (as 'mcuforge train'),\n"
            "then, when the config has a quantize section, quantizes it (as 'mcuforge\n"
            "quantize' with the section's settings) and writes <model>.q8.h5 / .q16.h5 beside\n"
            "it, then, when the config has a deploy section, deploys that model (or the float\n"
            "model, in float32, without a quantize section) as 'mcuforge deploy' does: firmware\n"
            "in deploy.out (default <model folder>/firmware), built and measured in QEMU unless\n"
            "deploy.run is false, report.json there. Overrides apply to every section, e.g.\n"
            "quantize.bits=8 deploy.all_test=true.\n");
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
    char out[4200];
    snprintf(out, sizeof out, "%s", cfg->train.output); /* the model the next step takes */
    if (qc->present) {
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
    const mf_deploy_config *dc = &cfg->deploy;
    if (dc->present) {
        char fw[4200];
        const char *slash = strrchr(cfg->train.output, '/');
        if (dc->out)
            snprintf(fw, sizeof fw, "%s", dc->out);
        else if (slash)
            snprintf(fw, sizeof fw, "%.*s/firmware", (int)(slash - cfg->train.output),
                     cfg->train.output);
        else
            snprintf(fw, sizeof fw, "firmware");
        deploy_request dr = {out,
                             fw,
                             NULL,
                             dc->opt,
                             qc->present ? 0 : 32,
                             dc->run,
                             dc->all_test ? -1 : dc->vectors,
                             dc->all_test,
                             dc->stream,
                             cfg->train.threads,
                             dc->timeout,
                             0,
                             NULL, /* the model's embedded config has the overrides already */
                             0};
        printf("deploy: %s → %s\n", out, fw);
        fflush(stdout);
        if (deploy_model(&dr, &err)) goto done;
    }
    rc = 0;
done:
    if (rc) cli_fail(&err);
    mf_config_free(cfg);
    free(overrides);
    return rc;
}
