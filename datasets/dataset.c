/* What every dataset shares: allocation, the loader dispatch, limits, the validation split and
 * z-score normalisation with training statistics. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mf_datasets.h"

mf_dataset *mf_dataset_alloc(const char *name, const mf_shape *shape, int classes, int n_train,
                             int n_test, int with_groups, mf_error *err)
{
    char buf[64];
    size_t per = mf_shape_size(shape);
    if (n_train < 0 || n_test < 0 || per < 1 ||
        (size_t)n_train + (size_t)n_test > MF_MAX_ELEMS / per) {
        mf_error_set(err, "%s: %d train and %d test samples of %s exceed the size limit", name,
                     n_train, n_test, mf_shape_str(shape, buf, sizeof buf));
        return NULL;
    }
    mf_dataset *d = calloc(1, sizeof *d);
    if (!d) goto oom;
    snprintf(d->name, sizeof d->name, "%s", name);
    d->shape = *shape;
    d->classes = classes;
    d->n_train = n_train;
    d->n_test = n_test;
    d->x_train = malloc(sizeof(float) * per * (n_train ? n_train : 1));
    d->y_train = malloc(sizeof(int) * (n_train ? n_train : 1));
    d->x_test = malloc(sizeof(float) * per * (n_test ? n_test : 1));
    d->y_test = malloc(sizeof(int) * (n_test ? n_test : 1));
    if (with_groups) d->group_train = malloc(sizeof(int) * (n_train ? n_train : 1));
    if (!d->x_train || !d->y_train || !d->x_test || !d->y_test || (with_groups && !d->group_train))
        goto oom;
    return d;
oom:
    mf_dataset_free(d);
    mf_error_set(err, "%s: out of memory for %d + %d samples", name, n_train, n_test);
    return NULL;
}

void mf_dataset_free(mf_dataset *d)
{
    if (!d) return;
    free(d->class_names);
    free(d->x_train);
    free(d->y_train);
    free(d->group_train);
    free(d->x_val);
    free(d->y_val);
    free(d->x_test);
    free(d->y_test);
    free(d);
}

int mf_dataset_load(const mf_dataset_config *cfg, FILE *log, mf_dataset **out, mf_error *err)
{
    (void)log;
    *out = NULL;
    if (!cfg->name || strcmp(cfg->name, "synthetic") != 0)
        return mf_error_set(err, "unknown dataset '%s' (known: synthetic)",
                            cfg->name ? cfg->name : "");
    mf_shape shape = {0, {0}};
    if (cfg->shape_count < 1 || cfg->shape_count > 3)
        return mf_error_set(err, "dataset.shape must have 1 to 3 dimensions");
    shape.rank = (int)cfg->shape_count;
    for (unsigned i = 0; i < cfg->shape_count; i++) {
        if (cfg->shape[i] < 1 || cfg->shape[i] > MF_MAX_DIM)
            return mf_error_set(err, "dataset.shape[%u] = %d is out of range", i, cfg->shape[i]);
        shape.dim[i] = cfg->shape[i];
    }
    return mf_synthetic_generate(&shape, cfg->classes, cfg->train_samples, cfg->test_samples,
                                 cfg->noise, cfg->seed, out, err);
}
