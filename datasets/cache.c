/* The dataset cache: prepared tensors (after loading and feature extraction, before the
 * validation split and normalisation) in one HDF5 file per dataset under cache_dir, named by a
 * hash of the source files' paths and contents and of the loader's parameters, so that a
 * change to either selects a new file. */
#include <dirent.h>
#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"

#define FNV_PRIME 0x100000001b3ull

static uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * FNV_PRIME;
    return h;
}

/* Word-wise for file contents: 8 bytes per multiply keeps a 100 MB folder well under a
 * second; a change detector, not a cryptographic hash. */
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
            h = (h ^ buf[i]) * FNV_PRIME + (h >> 29);
        h = hash_bytes(h, (const unsigned char *)buf + words * 8, got - words * 8);
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
        h = hash_bytes(h, names[i], strlen(names[i]) + 1);
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
    uint64_t h = hash_bytes(0xcbf29ce484222325ull, params, strlen(params));
    h = hash_tree(h, source_dir, 0, err, &rc);
    *key = h;
    return rc;
}

/* ---- HDF5 file: attributes name, classes, shape; datasets x_train, y_train, group_train
 * (optional), x_test, y_test; attribute class_names (optional) ---- */

static int write_array(hid_t f, const char *name, hid_t type, hid_t mem, int rank,
                       const hsize_t *dims, const void *data)
{
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    if (sp < 0) return -1;
    hid_t ds = H5Dcreate2(f, name, type, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int rc = ds < 0 || H5Dwrite(ds, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0 ? -1 : 0;
    if (ds >= 0) H5Dclose(ds);
    H5Sclose(sp);
    return rc;
}

static int write_attr_ints(hid_t obj, const char *name, int n, const int *v)
{
    hsize_t dims[1] = {(hsize_t)n};
    hid_t sp = H5Screate_simple(1, dims, NULL);
    hid_t a = sp < 0 ? -1 : H5Acreate2(obj, name, H5T_STD_I32LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    int rc = a < 0 || H5Awrite(a, H5T_NATIVE_INT, v) < 0 ? -1 : 0;
    if (a >= 0) H5Aclose(a);
    if (sp >= 0) H5Sclose(sp);
    return rc;
}

static int write_attr_fixed_strings(hid_t obj, const char *name, int n, const char *data,
                                    size_t len)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, len);
    hsize_t dims[1] = {(hsize_t)n};
    hid_t sp = H5Screate_simple(1, dims, NULL);
    hid_t a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    int rc = a < 0 || H5Awrite(a, t, data) < 0 ? -1 : 0;
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
    return rc;
}

int mf_cache_save(const char *path, const mf_dataset *d, mf_error *err)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    H5E_auto2_t fn;
    void *data;
    H5Eget_auto2(H5E_DEFAULT, &fn, &data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    int rc = f < 0 ? -1 : 0;
    size_t per = mf_shape_size(&d->shape);
    int shape[MF_MAX_RANK];
    for (int i = 0; i < d->shape.rank; i++)
        shape[i] = d->shape.dim[i];
    if (!rc) {
        hsize_t xtr[2] = {(hsize_t)d->n_train, per}, xte[2] = {(hsize_t)d->n_test, per};
        hsize_t ntr[1] = {(hsize_t)d->n_train}, nte[1] = {(hsize_t)d->n_test};
        rc = write_attr_ints(f, "shape", d->shape.rank, shape) ||
             write_attr_ints(f, "classes", 1, &d->classes) ||
             write_array(f, "x_train", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, xtr, d->x_train) ||
             write_array(f, "y_train", H5T_STD_I32LE, H5T_NATIVE_INT, 1, ntr, d->y_train) ||
             write_array(f, "x_test", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, xte, d->x_test) ||
             write_array(f, "y_test", H5T_STD_I32LE, H5T_NATIVE_INT, 1, nte, d->y_test) ||
             (d->group_train && write_array(f, "group_train", H5T_STD_I32LE, H5T_NATIVE_INT, 1, ntr,
                                            d->group_train)) ||
             (d->class_names && write_attr_fixed_strings(f, "class_names", d->classes,
                                                         &d->class_names[0][0], MF_CLASS_NAME_MAX));
    }
    if (f >= 0 && H5Fclose(f) < 0) rc = -1;
    H5Eset_auto2(H5E_DEFAULT, fn, data);
    if (rc || rename(tmp, path) != 0) {
        remove(tmp);
        return mf_error_set(err, "cannot write the dataset cache %s", path);
    }
    return MF_OK;
}

static int read_array(hid_t f, const char *name, hid_t mem, hsize_t want0, hsize_t want1, void *out)
{
    hid_t ds = H5Dopen2(f, name, H5P_DEFAULT);
    if (ds < 0) return -1;
    hid_t sp = H5Dget_space(ds);
    hsize_t dims[2] = {0, 0};
    int rank = sp < 0 ? -1 : H5Sget_simple_extent_ndims(sp);
    int ok = rank == (want1 ? 2 : 1) && H5Sget_simple_extent_dims(sp, dims, NULL) >= 0 &&
             dims[0] == want0 && (!want1 || dims[1] == want1);
    if (ok) ok = H5Dread(ds, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) >= 0;
    if (sp >= 0) H5Sclose(sp);
    H5Dclose(ds);
    return ok ? 0 : -1;
}

static int read_attr_ints(hid_t obj, const char *name, int max, int *v, int *n)
{
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0) return -1;
    hid_t sp = H5Aget_space(a);
    hssize_t count = sp < 0 ? -1 : H5Sget_simple_extent_npoints(sp);
    int rc = count < 1 || count > max || H5Aread(a, H5T_NATIVE_INT, v) < 0 ? -1 : 0;
    *n = (int)count;
    if (sp >= 0) H5Sclose(sp);
    H5Aclose(a);
    return rc;
}

static int dataset_rows(hid_t f, const char *name, hsize_t *rows)
{
    hid_t ds = H5Dopen2(f, name, H5P_DEFAULT);
    if (ds < 0) return -1;
    hid_t sp = H5Dget_space(ds);
    hsize_t dims[2] = {0, 0};
    int rank = sp < 0 ? -1 : H5Sget_simple_extent_ndims(sp);
    int rc = rank < 1 || rank > 2 || H5Sget_simple_extent_dims(sp, dims, NULL) < 0 ? -1 : 0;
    *rows = dims[0];
    if (sp >= 0) H5Sclose(sp);
    H5Dclose(ds);
    return rc;
}

int mf_cache_load(const char *path, const char *name, mf_dataset **out, mf_error *err)
{
    *out = NULL;
    if (access(path, R_OK) != 0) return MF_OK; /* no cache yet */
    H5E_auto2_t fn;
    void *data;
    H5Eget_auto2(H5E_DEFAULT, &fn, &data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    int rc = f < 0 ? -1 : 0;
    int shape[MF_MAX_RANK], rank = 0, classes = 0, one = 0;
    hsize_t n_train = 0, n_test = 0;
    mf_dataset *d = NULL;
    if (!rc)
        rc = read_attr_ints(f, "shape", MF_MAX_RANK, shape, &rank) ||
             read_attr_ints(f, "classes", 1, &classes, &one) ||
             dataset_rows(f, "x_train", &n_train) || dataset_rows(f, "x_test", &n_test) ||
             n_train > (hsize_t)MF_MAX_ELEMS || n_test > (hsize_t)MF_MAX_ELEMS || classes < 2 ||
             classes > 65536;
    if (!rc) {
        mf_shape s = {rank, {0}};
        for (int i = 0; i < rank; i++)
            s.dim[i] = shape[i];
        for (int i = 0; i < rank && !rc; i++)
            rc = shape[i] < 1 || shape[i] > MF_MAX_DIM;
        if (!rc) {
            htri_t groups = H5Lexists(f, "group_train", H5P_DEFAULT);
            d = mf_dataset_alloc(name, &s, classes, (int)n_train, (int)n_test, groups > 0, err);
            rc = d == NULL;
        }
    }
    if (!rc) {
        hsize_t per = mf_shape_size(&d->shape);
        rc = read_array(f, "x_train", H5T_NATIVE_FLOAT, n_train, per, d->x_train) ||
             read_array(f, "y_train", H5T_NATIVE_INT, n_train, 0, d->y_train) ||
             read_array(f, "x_test", H5T_NATIVE_FLOAT, n_test, per, d->x_test) ||
             read_array(f, "y_test", H5T_NATIVE_INT, n_test, 0, d->y_test) ||
             (d->group_train &&
              read_array(f, "group_train", H5T_NATIVE_INT, n_train, 0, d->group_train));
    }
    if (!rc && H5Aexists(f, "class_names") > 0) {
        d->class_names = calloc((size_t)classes, MF_CLASS_NAME_MAX);
        hid_t a = H5Aopen(f, "class_names", H5P_DEFAULT);
        hid_t t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, MF_CLASS_NAME_MAX);
        hid_t sp = a < 0 ? -1 : H5Aget_space(a);
        rc = !d->class_names || a < 0 || H5Sget_simple_extent_npoints(sp) != classes ||
             H5Aread(a, t, d->class_names) < 0;
        if (!rc)
            for (int i = 0; i < classes; i++)
                d->class_names[i][MF_CLASS_NAME_MAX - 1] = '\0';
        if (sp >= 0) H5Sclose(sp);
        H5Tclose(t);
        if (a >= 0) H5Aclose(a);
    }
    for (int i = 0; !rc && i < (int)n_train; i++)
        rc = d->y_train[i] < 0 || d->y_train[i] >= classes;
    for (int i = 0; !rc && i < (int)n_test; i++)
        rc = d->y_test[i] < 0 || d->y_test[i] >= classes;
    if (f >= 0) H5Fclose(f);
    H5Eset_auto2(H5E_DEFAULT, fn, data);
    if (rc) {
        /* a damaged or foreign cache file is rebuilt, not fatal */
        mf_dataset_free(d);
        remove(path);
        mf_error_clear(err);
        return MF_OK;
    }
    *out = d;
    return MF_OK;
}
