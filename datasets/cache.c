/* The dataset cache: prepared tensors (after loading and feature extraction, before the
 * validation split and normalisation) in one HDF5 file per dataset under cache_dir, named by a
 * hash of the source files' paths and contents and of the loader's parameters, so that a
 * change to either selects a new file. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "mf_fileio.h"
#include "mf_h5.h"

/* FNV-1a for names and parameters; word-wise for file contents (an FNV-like mix of 8 bytes per
 * multiply keeps a 100 MB folder well under a second); a change detector, not a cryptographic
 * hash. */
static uint64_t hash_file(uint64_t h, const char *path, mf_error *err, int *rc)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        *rc = mf_error_set(err, "cannot read %s: %s", path, strerror(errno));
        return h;
    }
    uint64_t buf[8192];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0) {
        size_t words = got / 8;
        for (size_t i = 0; i < words; i++)
            h = (h ^ buf[i]) * MF_FNV1A64_PRIME + (h >> 29);
        h = mf_hash_fnv1a64(h, (const unsigned char *)buf + words * 8, got - words * 8);
    }
    if (ferror(f)) *rc = mf_error_set(err, "cannot read %s", path);
    fclose(f);
    return h;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file under dir, in sorted order, depth first. */
static uint64_t hash_tree(uint64_t h, const char *dir, int depth, mf_error *err, int *rc)
{
    if (depth > 8 || *rc) return h;
    DIR *d = opendir(dir);
    if (!d) {
        *rc = mf_error_set(err, "cannot open folder %s: %s", dir, strerror(errno));
        return h;
    }
    size_t n = 0, cap = 64;
    char **names = malloc(sizeof *names * cap);
    struct dirent *e;
    while (names && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        if (n == cap) {
            char **grown = realloc(names, sizeof *names * (cap *= 2));
            if (!grown) break;
            names = grown;
        }
        names[n] = strdup(e->d_name);
        if (names[n]) n++;
    }
    closedir(d);
    if (!names) {
        *rc = mf_error_set(err, "out of memory listing %s", dir);
        return h;
    }
    qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n && !*rc; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        struct stat st;
        if (stat(path, &st) != 0) continue;
        h = mf_hash_fnv1a64(h, names[i], strlen(names[i]) + 1);
        if (S_ISDIR(st.st_mode))
            h = hash_tree(h, path, depth + 1, err, rc);
        else if (S_ISREG(st.st_mode))
            h = hash_file(h, path, err, rc);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return h;
}

int mf_cache_key(const char *source_dir, const char *params, uint64_t *key, mf_error *err)
{
    int rc = MF_OK;
    uint64_t h = mf_hash_fnv1a64(MF_FNV1A64_INIT, params, strlen(params));
    h = hash_tree(h, source_dir, 0, err, &rc);
    *key = h;
    return rc;
}

/* ---- HDF5 file: attributes shape, classes (int32[1]); datasets x_train, y_train, group_train
 * (optional), x_test, y_test; attribute class_names (optional) ---- */

static int write_rows(const mf_h5 *h, const char *name, mf_h5_type type, int n, hsize_t per,
                      const void *data)
{
    char field[64];
    snprintf(field, sizeof field, "/%s", name);
    hsize_t dims[2] = {(hsize_t)n, per};
    return mf_h5_dataset_write(h, h->file, name, field, type, per ? 2 : 1, dims, data);
}

static int write_cache(mf_h5 *h, void *ctx)
{
    const mf_dataset *d = ctx;
    hid_t f = h->file;
    hsize_t per = mf_shape_size(&d->shape);
    int32_t shape[MF_MAX_RANK], classes = d->classes;
    for (int i = 0; i < d->shape.rank; i++)
        shape[i] = d->shape.dim[i];
    int rc =
        mf_h5_attr_write(h, f, "/", "shape", MF_H5_I32, d->shape.rank, shape) ||
        mf_h5_attr_write(h, f, "/", "classes", MF_H5_I32, 1, &classes) ||
        write_rows(h, "x_train", MF_H5_F32, d->n_train, per, d->x_train) ||
        write_rows(h, "y_train", MF_H5_I32, d->n_train, 0, d->y_train) ||
        write_rows(h, "x_test", MF_H5_F32, d->n_test, per, d->x_test) ||
        write_rows(h, "y_test", MF_H5_I32, d->n_test, 0, d->y_test) ||
        (d->group_train && write_rows(h, "group_train", MF_H5_I32, d->n_train, 0, d->group_train));
    if (!rc && d->class_names) {
        const char **names = malloc(sizeof *names * (size_t)d->classes);
        if (!names) return mf_h5_fail(h, "/", "out of memory");
        for (int i = 0; i < d->classes; i++)
            names[i] = d->class_names[i];
        rc = mf_h5_attr_write_strs(h, f, "/", "class_names", names, d->classes);
        free(names);
    }
    return rc ? MF_ERR : MF_OK;
}

int mf_cache_save(const char *path, const mf_dataset *d, mf_error *err)
{
    return mf_h5_write_atomic(path, write_cache, (void *)d, err);
}

/* Dataset name of n rows of per values (per 0: n values) into out; out NULL: only checked
 * (type, shape and the data stored in the file, mf_h5_dataset_check). */
static int read_rows(const mf_h5 *h, const char *name, mf_h5_type type, int n, hsize_t per,
                     void *out)
{
    char field[64];
    snprintf(field, sizeof field, "/%s", name);
    hsize_t dims[2] = {(hsize_t)n, per};
    if (!out) return mf_h5_dataset_check(h, h->file, name, field, type, per ? 2 : 1, dims);
    return mf_h5_dataset_read(h, h->file, name, field, type, per ? 2 : 1, dims, out);
}

/* The number of rows of dataset name (within the hard limit). */
static int dataset_rows(const mf_h5 *h, const char *name, int *rows)
{
    char field[64];
    snprintf(field, sizeof field, "/%s", name);
    int rank = 0;
    hsize_t dims[2] = {0, 0};
    if (mf_h5_dataset_shape(h, h->file, name, field, 2, &rank, dims)) return MF_ERR;
    if (rank < 1 || dims[0] > (hsize_t)MF_MAX_ELEMS)
        return mf_h5_fail(h, field, "expected 1 to %zu rows, found %llu", MF_MAX_ELEMS,
                          (unsigned long long)dims[0]);
    *rows = (int)dims[0];
    return MF_OK;
}

/* The dataset in the open cache file, checked throughout. */
static int read_cache(const mf_h5 *h, const char *name, mf_dataset **out)
{
    hid_t f = h->file;
    long long shape[MF_MAX_RANK], classes = 0;
    size_t rank = 0;
    int n_train = 0, n_test = 0;
    if (mf_h5_attr_read_ints(h, f, "/", "shape", 1, MF_MAX_RANK, 1, MF_MAX_DIM, shape, &rank) ||
        mf_h5_attr_read_ints(h, f, "/", "classes", 1, 1, 2, 65536, &classes, NULL) ||
        dataset_rows(h, "x_train", &n_train) || dataset_rows(h, "x_test", &n_test))
        return MF_ERR;
    mf_shape s = {(int)rank, {0}};
    for (size_t i = 0; i < rank; i++)
        s.dim[i] = (int)shape[i];
    int groups = mf_h5_exists(h, f, "/", "group_train");
    if (groups < 0) return MF_ERR;
    /* every tensor holds its data before anything is allocated for it */
    hsize_t per0 = mf_shape_size(&s);
    if (read_rows(h, "x_train", MF_H5_F32, n_train, per0, NULL) ||
        read_rows(h, "y_train", MF_H5_I32, n_train, 0, NULL) ||
        read_rows(h, "x_test", MF_H5_F32, n_test, per0, NULL) ||
        read_rows(h, "y_test", MF_H5_I32, n_test, 0, NULL) ||
        (groups && read_rows(h, "group_train", MF_H5_I32, n_train, 0, NULL)))
        return MF_ERR;
    mf_dataset *d = mf_dataset_alloc(name, &s, (int)classes, n_train, n_test, groups, h->err);
    if (!d) return MF_ERR;
    hsize_t per = mf_shape_size(&d->shape);
    int rc = read_rows(h, "x_train", MF_H5_F32, n_train, per, d->x_train) ||
             read_rows(h, "y_train", MF_H5_I32, n_train, 0, d->y_train) ||
             read_rows(h, "x_test", MF_H5_F32, n_test, per, d->x_test) ||
             read_rows(h, "y_test", MF_H5_I32, n_test, 0, d->y_test) ||
             (groups && read_rows(h, "group_train", MF_H5_I32, n_train, 0, d->group_train));
    int has_names = rc ? 0 : mf_h5_attr_exists(h, f, "/", "class_names");
    rc = rc || has_names < 0;
    if (has_names > 0) {
        char **names = NULL;
        size_t n = 0;
        rc = mf_h5_attr_read_strs(h, f, "/", "class_names", (size_t)classes, (size_t)classes,
                                  MF_CLASS_NAME_MAX - 1, &names, &n) != MF_OK;
        d->class_names = rc ? NULL : calloc((size_t)classes, MF_CLASS_NAME_MAX);
        if (!rc && !d->class_names) rc = mf_h5_fail(h, "/", "out of memory") != MF_OK;
        for (size_t i = 0; !rc && i < n; i++)
            snprintf(d->class_names[i], MF_CLASS_NAME_MAX, "%s", names[i]);
        mf_h5_strs_free(names, n);
    }
    for (int i = 0; !rc && i < n_train; i++)
        if (d->y_train[i] < 0 || d->y_train[i] >= classes)
            rc = mf_h5_fail(h, "/y_train", "label %d of sample %d is out of range", d->y_train[i],
                            i) != MF_OK;
    for (int i = 0; !rc && i < n_test; i++)
        if (d->y_test[i] < 0 || d->y_test[i] >= classes)
            rc = mf_h5_fail(h, "/y_test", "label %d of sample %d is out of range", d->y_test[i],
                            i) != MF_OK;
    if (rc) {
        mf_dataset_free(d);
        return MF_ERR;
    }
    *out = d;
    return MF_OK;
}

int mf_cache_load(const char *path, const char *name, mf_dataset **out, mf_error *err)
{
    *out = NULL;
    if (access(path, R_OK) != 0) return MF_OK; /* no cache yet */
    mf_h5 h;
    mf_error why;
    int rc = mf_h5_open(&h, path, 0, "a dataset cache file", &why);
    if (rc == MF_OK) rc = mf_h5_close(&h, read_cache(&h, name, out));
    if (rc != MF_OK) {
        /* a damaged or foreign cache file is rebuilt, not fatal */
        mf_dataset_free(*out);
        *out = NULL;
        remove(path);
        mf_error_clear(err);
    }
    return MF_OK;
}
