/* The steps every real dataset shares after loading: limits, the validation split by group,
 * and z-score statistics from the training samples. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mf_datasets.h"
#include "prepare.h"

void mf_dataset_limit(mf_dataset *d, int train_limit, int test_limit)
{
    if (train_limit > 0 && train_limit < d->n_train) d->n_train = train_limit;
    if (test_limit > 0 && test_limit < d->n_test) d->n_test = test_limit;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

int mf_dataset_split_validation(mf_dataset *d, float fraction, uint64_t seed, mf_error *err)
{
    if (fraction <= 0.0f || d->n_train < 2) return MF_OK;
    size_t per = mf_shape_size(&d->shape);
    int n = d->n_train;
    int *groups = malloc(sizeof(int) * n);
    int *held = NULL;
    if (!groups) return mf_error_set(err, "out of memory");
    for (int i = 0; i < n; i++)
        groups[i] = d->group_train ? d->group_train[i] : i;
    int *distinct = malloc(sizeof(int) * n);
    if (!distinct) {
        free(groups);
        return mf_error_set(err, "out of memory");
    }
    memcpy(distinct, groups, sizeof(int) * n);
    qsort(distinct, (size_t)n, sizeof(int), cmp_int);
    int g = 0;
    for (int i = 0; i < n; i++)
        if (i == 0 || distinct[i] != distinct[g - 1]) distinct[g++] = distinct[i];
    int n_val_groups = (int)ceil(fraction * g);
    if (n_val_groups >= g) n_val_groups = g - 1;
    if (n_val_groups < 1) {
        free(groups);
        free(distinct);
        return mf_error_set(err, "validation %.3g of %d group(s) leaves no group for validation",
                            fraction, g);
    }
    /* seeded Fisher–Yates over the sorted groups: the split depends on the seed only */
    mf_rng rng;
    mf_rng_seed(&rng, seed ^ 0x76616c6964ull);
    for (int i = g - 1; i > 0; i--) {
        int k = (int)mf_rng_below(&rng, (uint32_t)(i + 1));
        int t = distinct[i];
        distinct[i] = distinct[k];
        distinct[k] = t;
    }
    qsort(distinct, (size_t)n_val_groups, sizeof(int), cmp_int);
    held = malloc(sizeof(int) * n);
    int n_val = 0;
    for (int i = 0; held && i < n; i++) {
        held[i] = bsearch(&groups[i], distinct, (size_t)n_val_groups, sizeof(int), cmp_int) != NULL;
        n_val += held[i];
    }
    d->x_val = held ? malloc(sizeof(float) * per * (n_val ? n_val : 1)) : NULL;
    d->y_val = held ? malloc(sizeof(int) * (n_val ? n_val : 1)) : NULL;
    if (!held || !d->x_val || !d->y_val) {
        free(groups);
        free(distinct);
        free(held);
        return mf_error_set(err, "out of memory");
    }
    /* stable partition: kept samples stay in order at the front of the training arrays */
    int kept = 0, v = 0;
    for (int i = 0; i < n; i++) {
        const float *src = d->x_train + (size_t)i * per;
        if (held[i]) {
            memcpy(d->x_val + (size_t)v * per, src, sizeof(float) * per);
            d->y_val[v++] = d->y_train[i];
        } else {
            if (kept != i) {
                memmove(d->x_train + (size_t)kept * per, src, sizeof(float) * per);
                d->y_train[kept] = d->y_train[i];
                if (d->group_train) d->group_train[kept] = d->group_train[i];
            }
            kept++;
        }
    }
    d->n_train = kept;
    d->n_val = n_val;
    free(groups);
    free(distinct);
    free(held);
    return MF_OK;
}

int mf_dataset_norm_stats(const mf_dataset *d, int kind, size_t *n_out, float **mean_out,
                          float **std_out, mf_error *err)
{
    *n_out = 0;
    *mean_out = *std_out = NULL;
    if (kind == MF_NORM_NONE) return MF_OK;
    size_t per = mf_shape_size(&d->shape);
    size_t n = kind == MF_NORM_ELEMENT ? per : (size_t)d->shape.dim[d->shape.rank - 1];
    double *sum = calloc(n, sizeof(double)), *sq = calloc(n, sizeof(double));
    float *mean = malloc(sizeof(float) * n), *std = malloc(sizeof(float) * n);
    if (!sum || !sq || !mean || !std) {
        free(sum);
        free(sq);
        free(mean);
        free(std);
        return mf_error_set(err, "out of memory");
    }
    for (int s = 0; s < d->n_train; s++) {
        const float *x = d->x_train + (size_t)s * per;
        for (size_t i = 0; i < per; i++)
            sum[i % n] += x[i];
    }
    double count = (double)d->n_train * (double)(per / n);
    for (size_t j = 0; j < n; j++)
        sum[j] /= count;
    for (int s = 0; s < d->n_train; s++) {
        const float *x = d->x_train + (size_t)s * per;
        for (size_t i = 0; i < per; i++) {
            double dv = x[i] - sum[i % n];
            sq[i % n] += dv * dv;
        }
    }
    for (size_t j = 0; j < n; j++) {
        double sd = sqrt(sq[j] / count);
        mean[j] = (float)sum[j];
        /* a constant feature (MNIST's padding border) is left as it is, only centred */
        std[j] = sd > 1e-6 ? (float)sd : 1.0f;
    }
    free(sum);
    free(sq);
    *n_out = n;
    *mean_out = mean;
    *std_out = std;
    return MF_OK;
}
