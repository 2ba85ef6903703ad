/* mcuforge run CONFIG.yaml [key.sub=value ...]: the whole chain the config describes — train,
 * then quantize when the config has a quantize section, then deploy (and run on the emulated
 * target) when it has a deploy section. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "mf_pipeline.h"

static void run_usage(FILE *f)
{
    fprintf(f,
            "usage: mcuforge run CONFIG.yaml [key.sub=value ...]\n\n"
            "Runs the chain the config describes: trains the model (as 'mcuforge train'),\n"
            "then, when the config has a prune section, prunes it (as 'mcuforge prune'; with\n"
            "prune.distill the fine-tuning distils, by default from the model before pruning),\n"
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
    int bad = 0;
    for (int i = 1; i < argc && !bad; i++) {
        if (argv[i][0] != '-' && strchr(argv[i], '='))
            overrides[n_overrides++] = argv[i];
        else if (argv[i][0] != '-' && !config_path)
            config_path = argv[i];
        else if (argv[i][0] == '-')
            bad = cli_usage_error("run", "unknown option '%s'", argv[i]);
        else
            bad = cli_usage_error("run", "unexpected argument '%s' (one config file)", argv[i]);
    }
    if (!bad && !config_path) bad = cli_usage_error("run", "name a config file (CONFIG.yaml)");
    if (bad) {
        free(overrides);
        return 2;
    }
    mf_error err;
    mf_error_clear(&err);
    mf_config *cfg = NULL;
    int rc = 1;
    if (mf_config_load(config_path, overrides, n_overrides, &cfg, &err) ||
        mf_pipeline_run(cfg, stdout, &err))
        goto done;
    rc = 0;
done:
    if (rc) cli_fail(&err);
    mf_config_free(cfg);
    free(overrides);
    return rc;
}
