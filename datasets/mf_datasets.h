/* Datasets: train and test tensors (channels-last, float32) with integer labels. */
#ifndef MF_DATASETS_H
#define MF_DATASETS_H

#include "mf_config.h"
#include "mf_core.h"

typedef struct mf_dataset {
    char name[64];
    mf_shape shape; /* one sample */
    int classes;
    int n_train, n_test;
    float *x_train; /* n_train × shape */
    int *y_train;
    float *x_test;
    int *y_test;
} mf_dataset;

/* Loads (or generates) the dataset a config describes. */
int mf_dataset_load(const mf_dataset_config *cfg, mf_dataset **out, mf_error *err);
void mf_dataset_free(mf_dataset *d);

/* The seeded `synthetic` kind: each class is a random pattern of sinusoids (per channel, along
 * every spatial axis); a sample is its class pattern, randomly scaled and shifted along the
 * first axis, plus Gaussian noise of std `noise`. Learnable by a CNN (the shift asks for
 * translation invariance), not linearly trivial at noise ≥ 1. Same arguments ⇒ same data. */
int mf_synthetic_generate(const mf_shape *shape, int classes, int n_train, int n_test, float noise,
                          uint64_t seed, mf_dataset **out, mf_error *err);

#endif
