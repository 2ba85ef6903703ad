/* What every dataset shares: allocation, the loader dispatch, limits, the validation split and
 * z-score normalisation with training statistics. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "mf_datasets.h"
#include "mf_fileio.h"
#include "prepare.h"

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

/* Loader dispatch: which loader a config's dataset name selects, the cache around it, then
 * limits and the validation split. */
static int load_raw(const mf_dataset_config *cfg, mf_dataset **out, mf_error *err)
{
    const char *name = cfg->name, *path = cfg->path;
    if (!strcmp(name, "uci-har")) return mf_load_uci_har(path, out, err);
    if (!strcmp(name, "fsdd")) return mf_load_fsdd(path, &cfg->mfcc, out, err);
    if (!strcmp(name, "mnist")) return mf_load_mnist(path, cfg->resize, out, err);
    if (!strcmp(name, "gtsrb")) return mf_load_gtsrb(path, out, err);
    if (!strcmp(name, "png")) {
        if (cfg->shape_count != 3)
            return mf_error_set(err, "dataset png needs shape: [height, width, channels]");
        return mf_load_png_folder(path, cfg->shape[0], cfg->shape[1], cfg->shape[2], cfg->resize,
                                  out, err);
    }
    return mf_error_set(err,
                        "unknown dataset '%s' (known: synthetic, uci-har, fsdd, gtsrb, "
                        "mnist, png)",
                        name);
}

/* The loader parameters that change the prepared tensors, for the cache key. */
static void loader_params(const mf_dataset_config *cfg, char *buf, size_t size)
{
    const mf_mfcc_config *m = &cfg->mfcc;
    int n = snprintf(buf, size, "v1 %s resize=%d", cfg->name, cfg->resize ? 1 : 0);
    if (n < 0 || (size_t)n >= size) return;
    if (!strcmp(cfg->name, "fsdd"))
        snprintf(buf + n, size - (size_t)n, " mfcc=%g,%g,%d,%d,%d,%g,%d", m->frame_ms, m->shift_ms,
                 m->filters, m->coefficients, m->frames, m->preemphasis, m->fft_size);
    else if (!strcmp(cfg->name, "png") && cfg->shape_count == 3)
        snprintf(buf + n, size - (size_t)n, " shape=%d,%d,%d", cfg->shape[0], cfg->shape[1],
                 cfg->shape[2]);
}

static int mf_dataset_load_cached(const mf_dataset_config *cfg, FILE *log, mf_dataset **out,
                                  mf_error *err)
{
    *out = NULL;
    if (!strcmp(cfg->name, "synthetic") || !cfg->cache) return load_raw(cfg, out, err);
    char params[256], file[4200];
    uint64_t key;
    loader_params(cfg, params, sizeof params);
    if (!mf_file_is_dir(cfg->path))
        return mf_error_set(err,
                            "dataset %s: folder %s does not exist (set dataset.path to your "
                            "copy)",
                            cfg->name, cfg->path);
    if (mf_cache_key(cfg->path, params, &key, err)) return MF_ERR;
    snprintf(file, sizeof file, "%s/%s-%016llx.h5", cfg->cache_dir, cfg->name,
             (unsigned long long)key);
    if (mf_cache_load(file, cfg->name, out, err)) return MF_ERR;
    if (*out) {
        if (log) fprintf(log, "dataset %s: loaded from cache %s\n", cfg->name, file);
        return MF_OK;
    }
    if (load_raw(cfg, out, err)) return MF_ERR;
    if (mf_file_make_dirs(cfg->cache_dir, err) || mf_cache_save(file, *out, err)) {
        /* the system's reason (e.g. "Permission denied" for a read-only folder) stays in the
         * message; it also says which setting chose the folder and what to do */
        mf_error inner;
        mf_error_clear(&inner);
        if (err) inner = *err;
        mf_error_set(err,
                     "dataset %s: cannot write its cache in %s (dataset.cache_dir): %s; make the "
                     "folder writable, choose another dataset.cache_dir or set dataset.cache: "
                     "false",
                     cfg->name, cfg->cache_dir, inner.message);
        mf_error_at(err, inner.file[0] ? inner.file : cfg->cache_dir, 0, 0, NULL);
        mf_dataset_free(*out);
        *out = NULL;
        return MF_ERR;
    }
    if (log) fprintf(log, "dataset %s: prepared and cached in %s\n", cfg->name, file);
    return MF_OK;
}

int mf_dataset_load(const mf_dataset_config *cfg, FILE *log, mf_dataset **out, mf_error *err)
{
    *out = NULL;
    if (!cfg->name) return mf_error_set(err, "the dataset has no name");
    int rc;
    if (!strcmp(cfg->name, "synthetic")) {
        mf_shape shape = {(int)cfg->shape_count, {0}};
        if (cfg->shape_count < 1 || cfg->shape_count > 3)
            return mf_error_set(err, "dataset.shape must have 1 to 3 dimensions");
        for (unsigned i = 0; i < cfg->shape_count; i++)
            shape.dim[i] = cfg->shape[i];
        rc = mf_synthetic_generate(&shape, cfg->classes, cfg->train_samples, cfg->test_samples,
                                   cfg->noise, cfg->seed, out, err);
    } else {
        rc = mf_dataset_load_cached(cfg, log, out, err);
    }
    if (rc) return MF_ERR;
    /* FSDD as one-channel images: the same values in the same order, after the cache */
    if (!strcmp(cfg->name, "fsdd") && cfg->mfcc.layout == MF_MFCC_IMAGE &&
        (*out)->shape.rank == 2)
        (*out)->shape = (mf_shape){3, {(*out)->shape.dim[0], (*out)->shape.dim[1], 1}};
    mf_dataset_limit(*out, cfg->train_limit, cfg->test_limit);
    if (mf_dataset_split_validation(*out, cfg->validation, cfg->seed, err)) {
        mf_dataset_free(*out);
        *out = NULL;
        return MF_ERR;
    }
    return MF_OK;
}
