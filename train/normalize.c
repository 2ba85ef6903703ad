/* The bridge between a dataset and a model's input transform: statistics come from the
 * training split and are stored in the model (so evaluation and deployment apply the same
 * transform), then applied to every split. */
#include <stdlib.h>
#include <string.h>

#include "mf_train.h"
#include "prepare.h"

void mf_dataset_apply_model(const mf_model *m, mf_dataset *d)
{
    mf_model_preprocess(m, d->x_train, (size_t)d->n_train);
    if (d->n_val) mf_model_preprocess(m, d->x_val, (size_t)d->n_val);
    mf_model_preprocess(m, d->x_test, (size_t)d->n_test);
}

int mf_model_fit_dataset(mf_model *m, mf_dataset *d, int normalize, mf_error *err)
{
    size_t n;
    float *mean, *std;
    if (mf_dataset_check_train_split(d, err)) return MF_ERR;
    if (mf_dataset_norm_stats(d, normalize, &n, &mean, &std, err)) return MF_ERR;
    int rc = mf_model_set_preprocess(m, normalize, n, mean, std, err);
    free(mean);
    free(std);
    if (rc) return MF_ERR;
    snprintf(m->dataset, sizeof m->dataset, "%s", d->name);
    if (d->class_names &&
        mf_model_set_class_names(m, d->classes, (const char(*)[MF_LABEL_MAX])d->class_names, err))
        return MF_ERR;
    mf_dataset_apply_model(m, d);
    return MF_OK;
}
