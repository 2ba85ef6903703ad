/* mcuforge train CONFIG [key.sub=value ...] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "mf_pipeline.h"

static void train_usage(FILE *f)
{
    fprintf(f,
            "usage: mcuforge train CONFIG.yaml [key.sub=value ...]\n\n"
            "Trains the model a config describes and saves it (train.output, default\n"
            "runs/<config name>/model.h5) with, beside it, history.csv and history.png (loss and\n"
            "accuracy per epoch), confusion.csv and per_class.csv (test split).\n"
            "Any config field can be overridden, e.g. train.epochs=3 model.width=16.\n\n"
            "train.distill.teacher=TEACHER.h5 distils from a trained float model (knowledge\n"
            "distillation): the loss mixes cross-entropy on the labels with the KL divergence\n"
            "to the teacher's outputs softened by train.distill.temperature (default 4),\n"
            "weighted by train.distill.alpha (default 0.9; see README, \"Distillation\").\n");
}

int cmd_train(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        train_usage(stdout);
        return 0;
    }
    const char *config_path = NULL;
    char **overrides = calloc((size_t)argc, sizeof *overrides);
    int n_overrides = 0;
    if (!overrides) return 1;
    int bad = 0;
    for (int i = 1; i < argc && !bad; i++) {
        if (strchr(argv[i], '=') && argv[i][0] != '-')
            overrides[n_overrides++] = argv[i];
        else if (argv[i][0] == '-')
            bad = cli_usage_error("train", "unknown option '%s'", argv[i]);
        else if (config_path)
            bad = cli_usage_error("train", "unexpected argument '%s' (one config file)", argv[i]);
        else
            config_path = argv[i];
    }
    if (!bad && !config_path) bad = cli_usage_error("train", "name a config file (CONFIG.yaml)");
    if (bad) {
        free(overrides);
        return 2;
    }
    mf_error err;
    mf_error_clear(&err);
    mf_config *cfg = NULL;
    int rc = 1;
    if (mf_config_load(config_path, overrides, n_overrides, &cfg, &err) == MF_OK &&
        mf_pipeline_train(cfg, stdout, &err) == MF_OK)
        rc = 0;
    if (rc) cli_fail(&err);
    mf_config_free(cfg);
    free(overrides);
    return rc;
}
