/* mcuforge train CONFIG [key.sub=value ...] */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "mf_config.h"
#include "mf_datasets.h"
#include "mf_model_io.h"
#include "mf_train.h"

static void train_usage(FILE *f)
{
    fprintf(f, "usage: mcuforge train CONFIG.yaml [key.sub=value ...]\n\n"
               "Trains the model a config describes and saves it (train.output, default\n"
               "runs/<config name>/model.h5) with its per-epoch history (history.csv) beside it.\n"
               "Any config field can be overridden, e.g. train.epochs=3 model.width=16.\n");
}

/* mkdir -p for the folder part of path. */
static int make_parent_dirs(const char *path, mf_error *err)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return mf_error_set(err, "cannot create folder %s: %s", buf, strerror(errno));
        *p = '/';
    }
    return MF_OK;
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
    for (int i = 1; i < argc; i++) {
        if (strchr(argv[i], '=') && argv[i][0] != '-')
            overrides[n_overrides++] = argv[i];
        else if (argv[i][0] == '-' || config_path) {
            fprintf(stderr, "mcuforge train: unexpected argument '%s'\n", argv[i]);
            train_usage(stderr);
            free(overrides);
            return 2;
        } else
            config_path = argv[i];
    }
    if (!config_path) {
        train_usage(stderr);
        free(overrides);
        return 2;
    }
    mf_error err;
    mf_error_clear(&err);
    mf_config *cfg = NULL;
    mf_dataset *data = NULL;
    mf_model *model = NULL;
    mf_train_result res = {0};
    int rc = 1;
    if (mf_config_load(config_path, overrides, n_overrides, &cfg, &err)) goto done;
    if (mf_dataset_load(&cfg->dataset, &data, &err)) goto done;
    model = mf_config_build_model(cfg, &data->shape, data->classes, &err);
    if (!model) goto done;
    mf_model_init_params(model, cfg->train.seed);
    model->config_text = mf_config_dump(cfg, &err);
    if (!model->config_text) goto done;
    char shape[64];
    printf("model: %d layers, %zu parameters, %llu MACs per inference; input %s, %d classes\n",
           model->n_nodes - 1, model->n_params, (unsigned long long)mf_model_macs(model),
           mf_shape_str(&model->input_shape, shape, sizeof shape), data->classes);
    printf("data: %s, %d train / %d test samples; training %d epochs, batch %d, %d thread(s)\n",
           data->name, data->n_train, data->n_test, cfg->train.epochs, cfg->train.batch_size,
           cfg->train.threads);
    fflush(stdout);
    if (mf_train(model, &cfg->train, data, stdout, &res, &err)) goto done;
    if (make_parent_dirs(cfg->train.output, &err)) goto done;
    if (mf_model_save(model, cfg->train.output, &err)) goto done;
    char hist[4096];
    snprintf(hist, sizeof hist, "%s", cfg->train.output);
    char *slash = strrchr(hist, '/');
    snprintf(slash ? slash + 1 : hist, sizeof hist - (size_t)(slash ? slash + 1 - hist : 0),
             "history.csv");
    if (mf_history_write_csv(&res, hist, &err)) goto done;
    const mf_epoch_stats *last = &res.history[res.epochs - 1];
    printf("test accuracy %.2f %% (%d samples); model saved to %s, history to %s\n",
           100.0 * last->test_accuracy, data->n_test, cfg->train.output, hist);
    rc = 0;
done:
    if (rc) cli_fail(&err);
    free(res.history);
    mf_model_free(model);
    mf_dataset_free(data);
    mf_config_free(cfg);
    free(overrides);
    return rc;
}
