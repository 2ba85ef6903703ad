/* Shared dataset steps (datasets/prepare.c). */
#ifndef MF_PREPARE_H
#define MF_PREPARE_H

#include "mf_datasets.h"

/* Keeps the first train_limit / test_limit samples (0: all). */
void mf_dataset_limit(mf_dataset *d, int train_limit, int test_limit);
/* Moves a seeded random `fraction` of the training groups (group_train, or single samples) to
 * the validation arrays; the remaining training samples keep their order. */
int mf_dataset_split_validation(mf_dataset *d, float fraction, uint64_t seed, mf_error *err);
/* z-score statistics over the training samples: per element (n = sample size) or per channel
 * (n = channels); std of a constant feature is 1. NONE gives n = 0. */
int mf_dataset_norm_stats(const mf_dataset *d, int kind, size_t *n, float **mean, float **std,
                          mf_error *err);
#endif
