/* mcuforge dataset info|prepare NAME|CONFIG.yaml [key.sub=value ...] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "mf_config.h"
#include "mf_datasets.h"

static void dataset_usage(FILE *f)
{
    fprintf(f,
            "usage: mcuforge dataset info NAME|CONFIG.yaml [key.sub=value ...]\n"
            "       mcuforge dataset prepare NAME|CONFIG.yaml [key.sub=value ...]\n\n"
            "NAME is uci-har, fsdd, gtsrb or mnist (with the default folder and settings) or a\n"
            "config file whose dataset section is used. 'info' prints the sample shape and the\n"
            "counts per split and per class; 'prepare' builds the HDF5 cache (dataset.cache_dir)\n"
            "so that later runs start at once. Overrides change the dataset section, e.g.\n"
            "dataset.path=/my/copy dataset.validation=0.1.\n");
}

static void print_counts(const char *split, const int *y, int n, const mf_dataset *d)
{
    long *count = calloc((size_t)d->classes, sizeof *count);
    if (!count) return;
    for (int i = 0; i < n; i++)
        if (y[i] >= 0 && y[i] < d->classes) count[y[i]]++;
    printf("%s: %d samples\n", split, n);
    for (int c = 0; c < d->classes; c++) {
        char num[16];
        snprintf(num, sizeof num, "%d", c);
        printf("  %3d %-40.40s %6ld\n", c, d->class_names ? d->class_names[c] : num, count[c]);
    }
    free(count);
}

int cmd_dataset(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        dataset_usage(stdout);
        return 0;
    }
    if (argc < 2) return cli_usage_error("dataset", "name an action: info or prepare");
    if (strcmp(argv[1], "info") && strcmp(argv[1], "prepare"))
        return cli_usage_error("dataset", "'%s': expected info or prepare", argv[1]);
    if (argc < 3 || argv[2][0] == '-')
        return cli_usage_error("dataset", "name a dataset (uci-har, fsdd, gtsrb, mnist, ...) or a "
                                          "config file");
    int info = !strcmp(argv[1], "info");
    const char *what = argv[2];
    for (int i = 3; i < argc; i++) {
        if (argv[i][0] == '-') return cli_usage_error("dataset", "unknown option '%s'", argv[i]);
        if (!strchr(argv[i], '='))
            return cli_usage_error("dataset", "unexpected argument '%s' (key.sub=value)", argv[i]);
    }
    mf_error err;
    mf_error_clear(&err);
    mf_config *cfg = NULL;
    mf_dataset *d = NULL;
    int rc = 1;
    size_t len = strlen(what);
    int is_file = (len > 5 && !strcmp(what + len - 5, ".yaml")) ||
                  (len > 4 && !strcmp(what + len - 4, ".yml"));
    if (is_file) {
        if (mf_config_load(what, argv + 3, argc - 3, &cfg, &err)) goto done;
    } else {
        char text[256];
        snprintf(text, sizeof text, "dataset:\n  name: \"%s\"\n", what);
        if (strchr(what, '"') || strchr(what, '\\')) {
            mf_error_set(&err, "'%s' is not a dataset name", what);
            goto done;
        }
        if (mf_config_load_text(text, "command line", argv + 3, argc - 3, MF_CONFIG_DATASET_ONLY,
                                &cfg, &err))
            goto done;
    }
    if (mf_dataset_load(&cfg->dataset, stdout, &d, &err)) goto done;
    char shape[64];
    printf("dataset %s%s%s: sample %s, %d classes\n", d->name, cfg->dataset.path ? " from " : "",
           cfg->dataset.path ? cfg->dataset.path : "", mf_shape_str(&d->shape, shape, sizeof shape),
           d->classes);
    if (info) {
        print_counts("train", d->y_train, d->n_train, d);
        if (d->n_val) print_counts("validation", d->y_val, d->n_val, d);
        print_counts("test", d->y_test, d->n_test, d);
    } else {
        printf("prepared: %d train / %d validation / %d test samples\n", d->n_train, d->n_val,
               d->n_test);
    }
    rc = 0;
done:
    if (rc) cli_fail(&err);
    mf_dataset_free(d);
    mf_config_free(cfg);
    return rc;
}
