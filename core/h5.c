/* Checked HDF5 attributes and datasets (mf_h5.h). */
#include "mf_h5.h"
#include "mf_fileio.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_FIXED_STRING ((size_t)16 << 20)

/* ---- errors ---- */

static int failv(const mf_h5 *h, const char *field, const char *detail, const char *fmt, va_list ap)
{
    mf_error_setv(h->err, fmt, ap);
    if (h->err && detail && detail[0]) {
        size_t used = strlen(h->err->message);
        snprintf(h->err->message + used, sizeof h->err->message - used, " (HDF5: %s)", detail);
    }
    mf_error_at(h->err, h->name, 0, 0, field);
    return MF_ERR;
}

int mf_h5_fail(const mf_h5 *h, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    failv(h, field, NULL, fmt, ap);
    va_end(ap);
    return MF_ERR;
}

typedef struct h5_detail {
    char text[256];
} h5_detail;

static herr_t h5_walk(unsigned n, const H5E_error2_t *e, void *data)
{
    h5_detail *d = data;
    if (n == 0 && e && e->desc) snprintf(d->text, sizeof d->text, "%s", e->desc);
    return 0;
}

int mf_h5_fail_hdf5(const mf_h5 *h, const char *field, const char *fmt, ...)
{
    h5_detail d = {{0}};
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, h5_walk, &d);
    va_list ap;
    va_start(ap, fmt);
    failv(h, field, d.text[0] ? d.text : NULL, fmt, ap);
    va_end(ap);
    return MF_ERR;
}

static const char *class_name(H5T_class_t cls)
{
    switch (cls) {
    case H5T_INTEGER:
        return "an integer";
    case H5T_FLOAT:
        return "a float";
    case H5T_STRING:
        return "a string";
    case H5T_COMPOUND:
        return "a compound";
    case H5T_ARRAY:
        return "an array type";
    case H5T_VLEN:
        return "a variable-length sequence";
    case H5T_ENUM:
        return "an enum";
    case H5T_REFERENCE:
        return "a reference";
    case H5T_OPAQUE:
        return "an opaque type";
    case H5T_BITFIELD:
        return "a bitfield";
    case H5T_TIME:
        return "a time type";
    default:
        return "an unknown type";
    }
}

/* "float32", "uint8", … or the class ("a string") of a stored type. */
static const char *type_str(hid_t t, char *buf, size_t size)
{
    H5T_class_t cls = H5Tget_class(t);
    size_t bits = H5Tget_size(t) * 8;
    if (cls == H5T_FLOAT)
        snprintf(buf, size, "float%zu", bits);
    else if (cls == H5T_INTEGER)
        snprintf(buf, size, "%sint%zu", H5Tget_sign(t) == H5T_SGN_NONE ? "u" : "", bits);
    else
        snprintf(buf, size, "%s", class_name(cls));
    return buf;
}

/* "3x3x4", or "scalar" for rank 0. */
static const char *dims_str(int rank, const hsize_t *dims, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < rank && used < size; i++) {
        int w =
            snprintf(buf + used, size - used, i ? "x%llu" : "%llu", (unsigned long long)dims[i]);
        if (w < 0) break;
        used += (size_t)w;
    }
    if (rank == 0) snprintf(buf, size, "scalar");
    return buf;
}

/* ---- types ---- */

typedef struct type_info {
    const char *name;
    size_t size;
    int is_float;
} type_info;

static const type_info types[] = {
    [MF_H5_F32] = {"float32", 4, 1}, [MF_H5_I8] = {"int8", 1, 0},   [MF_H5_I16] = {"int16", 2, 0},
    [MF_H5_I32] = {"int32", 4, 0},   [MF_H5_I64] = {"int64", 8, 0},
};

static hid_t file_type(mf_h5_type t)
{
    switch (t) {
    case MF_H5_F32:
        return H5T_IEEE_F32LE;
    case MF_H5_I8:
        return H5T_STD_I8LE;
    case MF_H5_I16:
        return H5T_STD_I16LE;
    case MF_H5_I32:
        return H5T_STD_I32LE;
    default:
        return H5T_STD_I64LE;
    }
}

static hid_t mem_type(mf_h5_type t)
{
    switch (t) {
    case MF_H5_F32:
        return H5T_NATIVE_FLOAT;
    case MF_H5_I8:
        return H5T_NATIVE_INT8;
    case MF_H5_I16:
        return H5T_NATIVE_INT16;
    case MF_H5_I32:
        return H5T_NATIVE_INT32;
    default:
        return H5T_NATIVE_INT64;
    }
}

/* A variable-length UTF-8 string type, or -1. */
static hid_t vl_string(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0) return -1;
    if (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

/* ---- files ---- */

static void quiet_begin(mf_h5 *h, const char *name, mf_error *err)
{
    h->file = -1;
    h->name = name;
    h->err = err;
    h->saved_func = NULL;
    h->saved_data = NULL;
    H5Eget_auto2(H5E_DEFAULT, &h->saved_func, &h->saved_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    h->quiet = 1;
}

/* File access: closing the file closes whatever is still open in it. */
static hid_t strong_fapl(const mf_h5 *h)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0 || H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0) {
        mf_h5_fail_hdf5(h, NULL, "cannot set up file access");
        if (fapl >= 0) H5Pclose(fapl);
        return -1;
    }
    return fapl;
}

int mf_h5_create(mf_h5 *h, const char *path, const char *name, mf_error *err)
{
    quiet_begin(h, name ? name : path, err);
    hid_t fapl = strong_fapl(h);
    if (fapl < 0) return mf_h5_close(h, MF_ERR);
    errno = 0;
    h->file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    int e = errno;
    /* the reason: the system's (errno, e.g. a read-only folder), else HDF5's innermost message,
     * taken before the next HDF5 call (H5Pclose) clears it */
    if (h->file < 0 && e)
        mf_h5_fail(h, NULL, "cannot create the file '%s': %s", path, strerror(e));
    else if (h->file < 0)
        mf_h5_fail_hdf5(h, NULL, "cannot create the file '%s'", path);
    H5Pclose(fapl);
    if (h->file < 0) return mf_h5_close(h, MF_ERR);
    return MF_OK;
}

int mf_h5_open(mf_h5 *h, const char *path, int writable, const char *expected, mf_error *err)
{
    quiet_begin(h, path, err);
    if (!expected) expected = "an HDF5 file";
    struct stat st;
    FILE *fp = fopen(path, writable ? "r+b" : "rb");
    if (!fp || stat(path, &st) < 0) {
        mf_h5_fail(h, NULL, "cannot open: %s", strerror(errno));
        if (fp) fclose(fp);
        return mf_h5_close(h, MF_ERR);
    }
    fclose(fp);
    if (!S_ISREG(st.st_mode)) {
        mf_h5_fail(h, NULL, "not a regular file; expected %s", expected);
        return mf_h5_close(h, MF_ERR);
    }
#if H5_VERSION_GE(1, 12, 0)
    htri_t is_h5 = H5Fis_accessible(path, H5P_DEFAULT);
#else
    htri_t is_h5 = H5Fis_hdf5(path);
#endif
    if (is_h5 <= 0) {
        mf_h5_fail(h, NULL, "not an HDF5 file (no HDF5 signature found); expected %s", expected);
        return mf_h5_close(h, MF_ERR);
    }
    hid_t fapl = strong_fapl(h);
    if (fapl < 0) return mf_h5_close(h, MF_ERR);
    h->file = H5Fopen(path, writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    if (h->file < 0) {
        mf_h5_fail_hdf5(h, NULL, "cannot open the HDF5 file: truncated or corrupt");
        return mf_h5_close(h, MF_ERR);
    }
    return MF_OK;
}

int mf_h5_close(mf_h5 *h, int rc)
{
    if (h->file >= 0) {
        if (H5Fclose(h->file) < 0 && rc == MF_OK)
            rc = mf_h5_fail_hdf5(h, NULL, "cannot finish writing the file");
        h->file = -1;
    }
    if (h->quiet) H5Eset_auto2(H5E_DEFAULT, h->saved_func, h->saved_data);
    h->quiet = 0;
    return rc;
}

typedef struct atomic {
    const char *path;
    mf_h5_writer write;
    void *ctx;
} atomic;

static int fill_h5(const char *tmp, void *ctx, mf_error *err)
{
    const atomic *a = ctx;
    mf_h5 h;
    if (mf_h5_create(&h, tmp, a->path, err)) return MF_ERR;
    return mf_h5_close(&h, a->write(&h, a->ctx) ? MF_ERR : MF_OK);
}

int mf_h5_write_atomic(const char *path, mf_h5_writer write, void *ctx, mf_error *err)
{
    atomic a = {path, write, ctx};
    return mf_file_write_atomic(path, fill_h5, &a, err);
}

/* ---- groups and links ---- */

int mf_h5_exists(const mf_h5 *h, hid_t parent, const char *field, const char *name)
{
    htri_t e = H5Lexists(parent, name, H5P_DEFAULT);
    if (e < 0) return mf_h5_fail_hdf5(h, field, "cannot look up '%s'", name);
    return e > 0;
}

hid_t mf_h5_group_create(const mf_h5 *h, hid_t parent, const char *name, const char *field)
{
    hid_t g = H5Gcreate2(parent, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) mf_h5_fail_hdf5(h, field, "cannot create group");
    return g;
}

/* Opens parent/name, which must be a hard link to an object of the wanted kind. Returns the
 * object (close with H5Oclose), or -1 with err set. */
static hid_t open_object(const mf_h5 *h, hid_t parent, const char *name, const char *field,
                         H5I_type_t want)
{
    const char *what = want == H5I_GROUP ? "group" : "dataset";
    hid_t o = -1;
    int ok = 0;
    H5L_info_t li;
    htri_t exists = H5Lexists(parent, name, H5P_DEFAULT);
    if (exists < 0) {
        mf_h5_fail_hdf5(h, field, "cannot look up the %s", what);
        goto done;
    }
    if (exists == 0) {
        mf_h5_fail(h, field, "missing %s", what);
        goto done;
    }
    if (H5Lget_info(parent, name, &li, H5P_DEFAULT) < 0) {
        mf_h5_fail_hdf5(h, field, "cannot look up the %s", what);
        goto done;
    }
    if (li.type != H5L_TYPE_HARD) {
        mf_h5_fail(h, field, "is a soft or external link, expected a %s", what);
        goto done;
    }
    o = H5Oopen(parent, name, H5P_DEFAULT);
    if (o < 0) {
        mf_h5_fail_hdf5(h, field, "cannot open the %s", what);
        goto done;
    }
    H5I_type_t t = H5Iget_type(o);
    if (t != want) {
        mf_h5_fail(h, field, "expected a %s, found a %s", what,
                   t == H5I_GROUP     ? "group"
                   : t == H5I_DATASET ? "dataset"
                                      : "named datatype");
        goto done;
    }
    ok = 1;
done:
    if (!ok && o >= 0) {
        H5Oclose(o);
        o = -1;
    }
    return o;
}

hid_t mf_h5_group_open(const mf_h5 *h, hid_t parent, const char *name, const char *field)
{
    return open_object(h, parent, name, field, H5I_GROUP);
}

/* ---- attributes: writing ---- */

static int write_attr(const mf_h5 *h, hid_t obj, const char *field, const char *name, hid_t ftype,
                      hid_t mtype, long n, const void *buf)
{
    hsize_t dim = n < 0 ? 1 : (hsize_t)n;
    hid_t space = n < 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dim, NULL);
    if (space < 0) return mf_h5_fail_hdf5(h, field, "cannot create a dataspace for '%s'", name);
    int rc = MF_ERR;
    hid_t a = H5Acreate2(obj, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0) {
        mf_h5_fail_hdf5(h, field, "cannot create attribute '%s'", name);
        goto done;
    }
    if (H5Awrite(a, mtype, buf) < 0) {
        mf_h5_fail_hdf5(h, field, "cannot write attribute '%s'", name);
        goto done;
    }
    rc = MF_OK;
done:
    if (a >= 0 && H5Aclose(a) < 0 && rc == MF_OK)
        rc = mf_h5_fail_hdf5(h, field, "cannot close attribute '%s'", name);
    H5Sclose(space);
    return rc;
}

int mf_h5_attr_write(const mf_h5 *h, hid_t obj, const char *field, const char *name,
                     mf_h5_type type, long n, const void *v)
{
    return write_attr(h, obj, field, name, file_type(type), mem_type(type), n, v);
}

int mf_h5_attr_write_int(const mf_h5 *h, hid_t obj, const char *field, const char *name, int v)
{
    int32_t x = (int32_t)v;
    return mf_h5_attr_write(h, obj, field, name, MF_H5_I32, -1, &x);
}

int mf_h5_attr_write_float(const mf_h5 *h, hid_t obj, const char *field, const char *name, float v)
{
    return mf_h5_attr_write(h, obj, field, name, MF_H5_F32, -1, &v);
}

int mf_h5_attr_write_strs(const mf_h5 *h, hid_t obj, const char *field, const char *name,
                          const char *const *s, long n)
{
    hid_t t = vl_string();
    if (t < 0) return mf_h5_fail_hdf5(h, field, "cannot create the string type");
    int rc = write_attr(h, obj, field, name, t, t, n, s);
    H5Tclose(t);
    return rc;
}

int mf_h5_attr_write_str(const mf_h5 *h, hid_t obj, const char *field, const char *name,
                         const char *s)
{
    return mf_h5_attr_write_strs(h, obj, field, name, &s, -1);
}

/* ---- attributes: reading ---- */

int mf_h5_attr_exists(const mf_h5 *h, hid_t obj, const char *field, const char *name)
{
    htri_t e = H5Aexists(obj, name);
    if (e < 0) return mf_h5_fail_hdf5(h, field, "cannot look up attribute '%s'", name);
    return e > 0;
}

/* Opens attribute `name` of obj and checks its class and element count (scalar or 1-D,
 * between min_n and max_n elements). Returns the attribute, or -1 with err set. */
static hid_t open_attr(const mf_h5 *h, hid_t obj, const char *field, const char *name,
                       H5T_class_t want, size_t min_n, size_t max_n, size_t *n_out)
{
    hid_t a = -1, t = -1, sp = -1;
    int ok = 0;
    htri_t exists = H5Aexists(obj, name);
    if (exists < 0) {
        mf_h5_fail_hdf5(h, field, "cannot look up attribute '%s'", name);
        goto done;
    }
    if (exists == 0) {
        mf_h5_fail(h, field, "missing attribute '%s'", name);
        goto done;
    }
    a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0) {
        mf_h5_fail_hdf5(h, field, "cannot open attribute '%s'", name);
        goto done;
    }
    t = H5Aget_type(a);
    sp = H5Aget_space(a);
    if (t < 0 || sp < 0) {
        mf_h5_fail_hdf5(h, field, "cannot read the type of attribute '%s'", name);
        goto done;
    }
    H5T_class_t cls = H5Tget_class(t);
    if (cls != want) {
        mf_h5_fail(h, field, "attribute '%s': expected %s, found %s", name, class_name(want),
                   class_name(cls));
        goto done;
    }
    int rank = H5Sget_simple_extent_ndims(sp);
    hssize_t np = H5Sget_simple_extent_npoints(sp);
    if (rank < 0 || rank > 1 || np < 0) {
        mf_h5_fail(h, field,
                   "attribute '%s': expected a scalar or a 1-D array, found %d dimensions", name,
                   rank);
        goto done;
    }
    if ((size_t)np < min_n || (size_t)np > max_n) {
        if (min_n == max_n)
            mf_h5_fail(h, field, "attribute '%s': expected %zu value%s, found %lld", name, min_n,
                       min_n == 1 ? "" : "s", (long long)np);
        else
            mf_h5_fail(h, field, "attribute '%s': expected %zu to %zu values, found %lld", name,
                       min_n, max_n, (long long)np);
        goto done;
    }
    *n_out = (size_t)np;
    ok = 1;
done:
    if (sp >= 0) H5Sclose(sp);
    if (t >= 0) H5Tclose(t);
    if (!ok && a >= 0) {
        H5Aclose(a);
        a = -1;
    }
    return a;
}

int mf_h5_attr_read_ints(const mf_h5 *h, hid_t obj, const char *field, const char *name,
                         size_t min_n, size_t max_n, long long lo, long long hi, long long *out,
                         size_t *n_out)
{
    size_t n = 0;
    hid_t a = open_attr(h, obj, field, name, H5T_INTEGER, min_n, max_n, &n);
    if (a < 0) return MF_ERR;
    int rc = MF_ERR;
    if (H5Aread(a, H5T_NATIVE_LLONG, out) < 0) {
        mf_h5_fail_hdf5(h, field, "cannot read attribute '%s'", name);
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        if (out[i] < lo || out[i] > hi) {
            mf_h5_fail(h, field, "attribute '%s': value %lld is out of range (%lld to %lld)", name,
                       out[i], lo, hi);
            goto done;
        }
    if (n_out) *n_out = n;
    rc = MF_OK;
done:
    H5Aclose(a);
    return rc;
}

int mf_h5_attr_read_int(const mf_h5 *h, hid_t obj, const char *field, const char *name,
                        long long lo, long long hi, int *out)
{
    long long v;
    if (lo < -2147483647LL - 1) lo = -2147483647LL - 1;
    if (hi > 2147483647LL) hi = 2147483647LL;
    if (mf_h5_attr_read_ints(h, obj, field, name, 1, 1, lo, hi, &v, NULL)) return MF_ERR;
    *out = (int)v;
    return MF_OK;
}

int mf_h5_attr_read_float(const mf_h5 *h, hid_t obj, const char *field, const char *name,
                          float *out)
{
    size_t n = 0;
    hid_t a = open_attr(h, obj, field, name, H5T_FLOAT, 1, 1, &n);
    if (a < 0) return MF_ERR;
    int rc = MF_ERR;
    float v;
    if (H5Aread(a, H5T_NATIVE_FLOAT, &v) < 0) {
        mf_h5_fail_hdf5(h, field, "cannot read attribute '%s'", name);
        goto done;
    }
    if (!isfinite(v)) {
        mf_h5_fail(h, field, "attribute '%s': value is not a finite number", name);
        goto done;
    }
    *out = v;
    rc = MF_OK;
done:
    H5Aclose(a);
    return rc;
}

void mf_h5_strs_free(char **s, size_t n)
{
    if (!s) return;
    for (size_t i = 0; i < n; i++)
        free(s[i]);
    free(s);
}

/* Copies string i (len bytes at s) into res[i] after checking it against max_len. */
static int keep_str(const mf_h5 *h, const char *field, const char *name, size_t i, const char *s,
                    size_t len, size_t max_len, char **res)
{
    if (len > max_len)
        return mf_h5_fail(h, field, "attribute '%s': string %zu is longer than %zu bytes", name, i,
                          max_len);
    res[i] = strndup(s, len);
    if (!res[i]) return mf_h5_fail(h, field, "out of memory");
    return MF_OK;
}

int mf_h5_attr_read_strs(const mf_h5 *h, hid_t obj, const char *field, const char *name,
                         size_t min_n, size_t max_n, size_t max_len, char ***out, size_t *n_out)
{
    int rc = MF_ERR;
    size_t n = 0, n_vl = 0;
    hid_t ft = -1, mt = -1;
    char **vl = NULL, *fixed = NULL, **res = NULL;
    *out = NULL;
    *n_out = 0;
    hid_t a = open_attr(h, obj, field, name, H5T_STRING, min_n, max_n, &n);
    if (a < 0) return MF_ERR;
    ft = H5Aget_type(a);
    mt = H5Tcopy(H5T_C_S1);
    htri_t is_vl = ft < 0 ? -1 : H5Tis_variable_str(ft);
    H5T_cset_t cset = ft < 0 ? H5T_CSET_ERROR : H5Tget_cset(ft);
    if (mt < 0 || is_vl < 0 || cset == H5T_CSET_ERROR || H5Tset_cset(mt, cset) < 0) {
        mf_h5_fail_hdf5(h, field, "cannot read the type of attribute '%s'", name);
        goto done;
    }
    res = calloc(n + 1, sizeof *res);
    if (!res) {
        mf_h5_fail(h, field, "out of memory");
        goto done;
    }
    if (is_vl) {
        vl = calloc(n + 1, sizeof *vl);
        if (!vl || H5Tset_size(mt, H5T_VARIABLE) < 0) {
            mf_h5_fail(h, field, "out of memory");
            goto done;
        }
        if (H5Aread(a, mt, vl) < 0) {
            mf_h5_fail_hdf5(h, field, "cannot read attribute '%s'", name);
            goto done;
        }
        n_vl = n;
        for (size_t i = 0; i < n; i++) {
            const char *s = vl[i] ? vl[i] : "";
            if (keep_str(h, field, name, i, s, strnlen(s, max_len + 1), max_len, res)) goto done;
        }
    } else {
        size_t size = H5Tget_size(ft);
        if (size == 0 || size > MAX_FIXED_STRING || (n && size > MAX_FIXED_STRING / n)) {
            mf_h5_fail(h, field, "attribute '%s': string size %zu is out of range", name, size);
            goto done;
        }
        fixed = malloc(n * size + 1);
        if (!fixed || H5Tset_size(mt, size) < 0 || H5Tset_strpad(mt, H5T_STR_NULLPAD) < 0) {
            mf_h5_fail(h, field, "out of memory");
            goto done;
        }
        if (H5Aread(a, mt, fixed) < 0) {
            mf_h5_fail_hdf5(h, field, "cannot read attribute '%s'", name);
            goto done;
        }
        for (size_t i = 0; i < n; i++) {
            const char *s = fixed + i * size;
            if (keep_str(h, field, name, i, s, strnlen(s, size), max_len, res)) goto done;
        }
    }
    *out = res;
    *n_out = n;
    res = NULL;
    rc = MF_OK;
done:
    for (size_t i = 0; i < n_vl; i++)
        if (vl[i]) H5free_memory(vl[i]);
    free(vl);
    free(fixed);
    mf_h5_strs_free(res, n);
    if (mt >= 0) H5Tclose(mt);
    if (ft >= 0) H5Tclose(ft);
    H5Aclose(a);
    return rc;
}

int mf_h5_attr_read_str(const mf_h5 *h, hid_t obj, const char *field, const char *name, char *buf,
                        size_t size)
{
    char **s = NULL;
    size_t n = 0;
    if (!size) return mf_h5_fail(h, field, "attribute '%s': no room for the string", name);
    if (mf_h5_attr_read_strs(h, obj, field, name, 1, 1, size - 1, &s, &n)) return MF_ERR;
    snprintf(buf, size, "%s", s[0]);
    mf_h5_strs_free(s, n);
    return MF_OK;
}

/* ---- datasets ---- */

int mf_h5_dataset_write(const mf_h5 *h, hid_t parent, const char *name, const char *field,
                        mf_h5_type type, int rank, const hsize_t *dims, const void *data)
{
    int rc = MF_ERR;
    hid_t ds = -1;
    hid_t space = rank ? H5Screate_simple(rank, dims, NULL) : H5Screate(H5S_SCALAR);
    if (space < 0) {
        mf_h5_fail_hdf5(h, field, "cannot create a dataspace");
        goto done;
    }
    ds = H5Dcreate2(parent, name, file_type(type), space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (ds < 0) {
        mf_h5_fail_hdf5(h, field, "cannot create dataset");
        goto done;
    }
    if (H5Dwrite(ds, mem_type(type), H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
        mf_h5_fail_hdf5(h, field, "cannot write dataset");
        goto done;
    }
    rc = MF_OK;
done:
    if (ds >= 0 && H5Dclose(ds) < 0 && rc == MF_OK)
        rc = mf_h5_fail_hdf5(h, field, "cannot close dataset");
    if (space >= 0) H5Sclose(space);
    return rc;
}

/* The dataspace's rank (at most max_rank) and dimensions. */
static int space_dims(const mf_h5 *h, hid_t sp, const char *field, int max_rank, int *rank,
                      hsize_t *dims)
{
    int r = H5Sget_simple_extent_ndims(sp);
    if (r < 0) return mf_h5_fail_hdf5(h, field, "cannot read the dataset's shape");
    if (r > max_rank)
        return mf_h5_fail(h, field, "expected at most %d dimension%s, found %d", max_rank,
                          max_rank == 1 ? "" : "s", r);
    if (H5Sget_simple_extent_dims(sp, dims, NULL) < 0)
        return mf_h5_fail_hdf5(h, field, "cannot read the dataset's shape");
    *rank = r;
    return MF_OK;
}

int mf_h5_dataset_shape(const mf_h5 *h, hid_t parent, const char *name, const char *field,
                        int max_rank, int *rank, hsize_t *dims)
{
    hid_t ds = open_object(h, parent, name, field, H5I_DATASET);
    if (ds < 0) return MF_ERR;
    hid_t sp = H5Dget_space(ds);
    int rc = sp < 0 ? mf_h5_fail_hdf5(h, field, "cannot read the dataset's shape")
                    : space_dims(h, sp, field, max_rank, rank, dims);
    if (sp >= 0) H5Sclose(sp);
    H5Oclose(ds);
    return rc;
}

/* Deflate, the strongest filter HDF5 builds in for float data, stores at most 1032 bytes in
 * one; a compressed dataset that declares more per stored byte does not hold its data. */
#define MAX_EXPANSION 1032

/* The file holds the dataset's data (sp, rank, dims: its dataspace and shape; expected: its
 * declared bytes): no external or virtual storage; contiguous and compact storage of exactly the
 * declared size; chunked storage with every chunk written, at least the declared size uncompressed
 * and at most MAX_EXPANSION declared bytes per stored byte compressed. A dataset declared but never
 * written holds 0 bytes, and reading it would return fill values for however many bytes it
 * declares. */
static int check_storage(const mf_h5 *h, hid_t ds, hid_t sp, const char *field, int rank,
                         const hsize_t *dims, unsigned long long expected)
{
    int rc = MF_ERR;
    hid_t dcpl = H5Dget_create_plist(ds);
    if (dcpl < 0) return mf_h5_fail_hdf5(h, field, "cannot read the dataset's storage layout");
    H5D_layout_t layout = H5Pget_layout(dcpl);
    int external = H5Pget_external_count(dcpl), filters = H5Pget_nfilters(dcpl);
    unsigned long long stored = (unsigned long long)H5Dget_storage_size(ds);
    if (layout < 0 || external < 0 || filters < 0) {
        mf_h5_fail_hdf5(h, field, "cannot read the dataset's storage layout");
        goto done;
    }
    if (external > 0 ||
        (layout != H5D_COMPACT && layout != H5D_CONTIGUOUS && layout != H5D_CHUNKED)) {
        mf_h5_fail(h, field,
                   "stores its data %s; expected the data in the file itself (contiguous, "
                   "compact or chunked)",
                   external > 0 ? "in external files" : "through a virtual mapping");
        goto done;
    }
    if (expected == 0) {
        rc = MF_OK;
        goto done;
    }
    if (layout != H5D_CHUNKED) {
        if (stored != expected) {
            mf_h5_fail(h, field,
                       "holds %llu bytes of data, but its shape and type declare %llu (a dataset "
                       "declared and never written, or damaged)",
                       stored, expected);
            goto done;
        }
        rc = MF_OK;
        goto done;
    }
    hsize_t chunk[H5S_MAX_RANK];
    if (rank < 1 || H5Pget_chunk(dcpl, rank, chunk) != rank) {
        mf_h5_fail_hdf5(h, field, "cannot read the dataset's chunk shape");
        goto done;
    }
    unsigned long long total = 1; /* ≤ the number of elements: no overflow */
    for (int i = 0; i < rank; i++) {
        if (chunk[i] == 0) {
            mf_h5_fail(h, field, "has a chunk dimension of 0");
            goto done;
        }
        total *= (unsigned long long)((dims[i] + chunk[i] - 1) / chunk[i]);
    }
    hsize_t written = 0;
    if (H5Dget_num_chunks(ds, sp, &written) < 0) {
        mf_h5_fail_hdf5(h, field, "cannot count the dataset's chunks");
        goto done;
    }
    if ((unsigned long long)written < total) {
        mf_h5_fail(h, field,
                   "holds %llu bytes of data: %llu of its %llu chunks are written, and its shape "
                   "and type declare %llu bytes (a dataset declared and never written "
                   "completely, or damaged)",
                   stored, (unsigned long long)written, total, expected);
        goto done;
    }
    if (filters == 0 ? stored < expected
                     : stored < (expected + MAX_EXPANSION - 1) / MAX_EXPANSION) {
        mf_h5_fail(h, field,
                   "holds %llu bytes of data in %s chunks, but its shape and type declare %llu "
                   "(%s; damaged)",
                   stored, filters ? "compressed" : "uncompressed", expected,
                   filters ? "more than 1032 per stored byte, deflate's largest ratio"
                           : "fewer bytes than declared");
        goto done;
    }
    rc = MF_OK;
done:
    H5Pclose(dcpl);
    return rc;
}

/* The storage checks (check_storage) of an open dataset against its own shape and type. */
static int check_stored(const mf_h5 *h, hid_t ds, hid_t t, hid_t sp, const char *field)
{
    int r = 0;
    hsize_t dims[H5S_MAX_RANK];
    if (space_dims(h, sp, field, H5S_MAX_RANK, &r, dims)) return MF_ERR;
    hssize_t points = H5Sget_simple_extent_npoints(sp);
    size_t esize = H5Tget_size(t);
    if (points < 0 || esize == 0 || (unsigned long long)points > ULLONG_MAX / esize)
        return mf_h5_fail_hdf5(h, field, "cannot read the dataset's size");
    return check_storage(h, ds, sp, field, r, dims, (unsigned long long)points * esize);
}

/* Checks an open dataset's type, rank, dimensions and storage against what the caller expects. */
static int check_dataset(const mf_h5 *h, hid_t ds, const char *field, mf_h5_type type, int rank,
                         const hsize_t *want)
{
    int rc = MF_ERR;
    hid_t t = H5Dget_type(ds), sp = H5Dget_space(ds);
    if (t < 0 || sp < 0) {
        mf_h5_fail_hdf5(h, field, "cannot read the dataset's type and shape");
        goto done;
    }
    const type_info *ti = &types[type];
    H5T_class_t cls = H5Tget_class(t);
    int same_type = ti->is_float ? cls == H5T_FLOAT
                                 : cls == H5T_INTEGER && H5Tget_size(t) == ti->size &&
                                       H5Tget_sign(t) == H5T_SGN_2;
    if (!same_type) {
        char found[64];
        mf_h5_fail(h, field, "expected %s data, found %s", ti->name,
                   type_str(t, found, sizeof found));
        goto done;
    }
    int r = 0;
    hsize_t dims[H5S_MAX_RANK];
    if (space_dims(h, sp, field, H5S_MAX_RANK, &r, dims)) goto done;
    int same = r == rank;
    for (int i = 0; same && i < r; i++)
        same = dims[i] == want[i];
    if (!same) {
        char w[128], f[256];
        mf_h5_fail(h, field, "expected shape %s, found %s", dims_str(rank, want, w, sizeof w),
                   dims_str(r, dims, f, sizeof f));
        goto done;
    }
    rc = check_stored(h, ds, t, sp, field);
done:
    if (sp >= 0) H5Sclose(sp);
    if (t >= 0) H5Tclose(t);
    return rc;
}

int mf_h5_group_check_stored(const mf_h5 *h, hid_t g, const char *field, size_t *values)
{
    H5G_info_t gi;
    if (H5Gget_info(g, &gi) < 0) return mf_h5_fail_hdf5(h, field, "cannot read the group");
    for (hsize_t i = 0; i < gi.nlinks; i++) {
        char name[256], dfield[512];
        ssize_t len = H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof name,
                                         H5P_DEFAULT);
        if (len < 0) return mf_h5_fail_hdf5(h, field, "cannot read the group's entries");
        if ((size_t)len >= sizeof name)
            return mf_h5_fail(h, field, "holds an entry whose name is longer than %zu bytes",
                              sizeof name - 1);
        H5L_info_t li;
        if (H5Lget_info(g, name, &li, H5P_DEFAULT) < 0)
            return mf_h5_fail_hdf5(h, field, "cannot look up entry '%s'", name);
        if (li.type != H5L_TYPE_HARD) continue; /* readers refuse links when they open them */
        hid_t o = H5Oopen(g, name, H5P_DEFAULT);
        if (o < 0) return mf_h5_fail_hdf5(h, field, "cannot open entry '%s'", name);
        int rc = MF_OK;
        if (H5Iget_type(o) == H5I_DATASET) {
            snprintf(dfield, sizeof dfield, "%s/%s", field, name);
            hid_t t = H5Dget_type(o), sp = H5Dget_space(o);
            rc = t < 0 || sp < 0 ? mf_h5_fail_hdf5(h, dfield, "cannot read the dataset's type")
                                 : check_stored(h, o, t, sp, dfield);
            hssize_t n = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
            if (!rc && values && n > 0) *values += (size_t)n;
            if (sp >= 0) H5Sclose(sp);
            if (t >= 0) H5Tclose(t);
        }
        H5Oclose(o);
        if (rc) return MF_ERR;
    }
    return MF_OK;
}

int mf_h5_dataset_check(const mf_h5 *h, hid_t parent, const char *name, const char *field,
                        mf_h5_type type, int rank, const hsize_t *dims)
{
    hid_t ds = open_object(h, parent, name, field, H5I_DATASET);
    if (ds < 0) return MF_ERR;
    int rc = check_dataset(h, ds, field, type, rank, dims);
    H5Oclose(ds);
    return rc;
}

int mf_h5_dataset_read(const mf_h5 *h, hid_t parent, const char *name, const char *field,
                       mf_h5_type type, int rank, const hsize_t *want, void *out)
{
    hid_t ds = open_object(h, parent, name, field, H5I_DATASET);
    if (ds < 0) return MF_ERR;
    int rc = check_dataset(h, ds, field, type, rank, want);
    if (rc == MF_OK && H5Dread(ds, mem_type(type), H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0)
        rc = mf_h5_fail_hdf5(h, field, "cannot read the dataset (file truncated or corrupt?)");
    H5Oclose(ds);
    return rc;
}
