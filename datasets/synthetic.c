#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mf_datasets.h"

/* Per class and channel: a frequency along each spatial axis and a phase. */
typedef struct {
    double freq[2];
    double phase;
} wave;

static void make_samples(const mf_shape *shape, int classes, const wave *waves, int n, float noise,
                         mf_rng *rng, float *x, int *y)
{
    const int ch = shape->dim[shape->rank - 1];
    const int len = shape->rank >= 2 ? shape->dim[0] : 1;
    const int wid = shape->rank == 3 ? shape->dim[1] : 1;
    const double two_pi = 6.283185307179586;
    const size_t per = mf_shape_size(shape);
    for (int i = 0; i < n; i++) {
        int c = (int)mf_rng_below(rng, (uint32_t)classes);
        double scale = 0.5 + mf_rng_uniform(rng);
        int shift = (int)mf_rng_below(rng, (uint32_t)(len / 4 + 1));
        float *s = x + (size_t)i * per;
        y[i] = c;
        for (int p = 0; p < len; p++)
            for (int q = 0; q < wid; q++)
                for (int k = 0; k < ch; k++) {
                    const wave *w = &waves[c * ch + k];
                    double t = two_pi * (w->freq[0] * (p + shift) / len + w->freq[1] * q / wid);
                    double v = scale * sin(t + w->phase) + noise * mf_rng_normal(rng);
                    s[((size_t)p * wid + q) * ch + k] = (float)v;
                }
    }
}

int mf_synthetic_generate(const mf_shape *shape, int classes, int n_train, int n_test, float noise,
                          uint64_t seed, mf_dataset **out, mf_error *err)
{
    char buf[64];
    *out = NULL;
    if (shape->rank < 1 || shape->rank > 3)
        return mf_error_set(err, "synthetic dataset: shape must have 1 to 3 dimensions");
    size_t per = mf_shape_size(shape);
    if (per < 1 || per > MF_MAX_ELEMS)
        return mf_error_set(err, "synthetic dataset: shape %s is out of range",
                            mf_shape_str(shape, buf, sizeof buf));
    if (classes < 2 || classes > 1000)
        return mf_error_set(err, "synthetic dataset: classes must be in [2, 1000] (got %d)",
                            classes);
    if (n_train < 1 || n_test < 1 || (size_t)(n_train + n_test) * per > MF_MAX_ELEMS)
        return mf_error_set(err,
                            "synthetic dataset: %d train and %d test samples of %s are out "
                            "of range",
                            n_train, n_test, mf_shape_str(shape, buf, sizeof buf));
    mf_dataset *d = mf_dataset_alloc("synthetic", shape, classes, n_train, n_test, 0, err);
    if (!d) return MF_ERR;
    int ch = shape->dim[shape->rank - 1];
    wave *waves = calloc((size_t)classes * ch, sizeof *waves);
    if (!waves) {
        mf_dataset_free(d);
        return mf_error_set(err, "out of memory generating the synthetic dataset");
    }
    mf_rng rng;
    mf_rng_seed(&rng, seed);
    for (int i = 0; i < classes * ch; i++) {
        waves[i].freq[0] = 1.0 + 3.0 * mf_rng_uniform(&rng);
        waves[i].freq[1] = shape->rank == 3 ? 1.0 + 2.0 * mf_rng_uniform(&rng) : 0.0;
        waves[i].phase = 6.283185307179586 * mf_rng_uniform(&rng);
    }
    make_samples(shape, classes, waves, n_train, noise, &rng, d->x_train, d->y_train);
    make_samples(shape, classes, waves, n_test, noise, &rng, d->x_test, d->y_test);
    free(waves);
    *out = d;
    return MF_OK;
}
