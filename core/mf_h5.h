/* HDF5 files through one set of checked helpers (DESIGN.md §11), used by model files, quantized
 * model files and the dataset cache.
 *
 *     mf_h5 h;
 *     if (mf_h5_open(&h, path, 0, "an mcuforge model (.h5)", err)) return MF_ERR;
 *     int v;
 *     int rc = mf_h5_attr_read_int(&h, h.file, "/", "bits", 8, 16, &v);
 *     return mf_h5_close(&h, rc);
 *
 * Readers check before they read: an attribute's type class and value count, a dataset's type,
 * rank and every dimension. Every error fills the mf_error with the file (err->file: h->name),
 * the HDF5 path of the object concerned (err->field: the `field` argument; for an attribute the
 * object that carries it, for a dataset the dataset itself), and a message saying what was
 * expected and what was found ("attribute 'bits': expected an integer, found a string",
 * "expected shape 3x3x4, found 3x3x5"); failures inside HDF5 append its innermost message. While a
 * file is open through mf_h5_create/mf_h5_open, HDF5's own printing of errors is off.
 *
 * Written strings are variable-length UTF-8; readers take variable- and fixed-length strings.
 * Written numbers are little-endian (int8/16/32/64, float32). */
#ifndef MF_H5_H
#define MF_H5_H

#include <stddef.h>

#include <hdf5.h>

#include "mf_error.h"

typedef struct mf_h5 {
    hid_t file;       /* the open file, -1 when closed */
    const char *name; /* the file errors name (the final name while a temporary one is written) */
    mf_error *err;
    int quiet;              /* HDF5's error printing is off until mf_h5_close */
    H5E_auto2_t saved_func; /* ... and is then set back to this */
    void *saved_data;
} mf_h5;

/* Element types: file type little-endian, memory type native. */
typedef enum mf_h5_type { MF_H5_F32, MF_H5_I8, MF_H5_I16, MF_H5_I32, MF_H5_I64 } mf_h5_type;

/* Creates (or truncates) the HDF5 file path. name: the file errors name (NULL: path). */
int mf_h5_create(mf_h5 *h, const char *path, const char *name, mf_error *err);
/* Opens path (read-only, or read-write when writable) after checking that it is a readable
 * regular file with an HDF5 signature; expected says what the file should be, for the message
 * ("not an HDF5 file (no HDF5 signature found); expected <expected>"). */
int mf_h5_open(mf_h5 *h, const char *path, int writable, const char *expected, mf_error *err);
/* Closes the file and every object still open in it and turns HDF5's error printing back on.
 * Returns rc when rc is already an error (err untouched), else MF_ERR with err set when HDF5
 * cannot finish writing the file, else MF_OK. Safe on a closed or failed handle. */
int mf_h5_close(mf_h5 *h, int rc);

/* Writes the HDF5 file path atomically (mf_file_write_atomic): write fills the new, empty file
 * h->file (errors name path, not the temporary file) and returns MF_OK or MF_ERR with h->err set;
 * the file is closed and renamed into place only when it returns MF_OK. */
typedef int (*mf_h5_writer)(mf_h5 *h, void *ctx);
int mf_h5_write_atomic(const char *path, mf_h5_writer write, void *ctx, mf_error *err);

/* Sets h->err (message, file, field) and returns MF_ERR; mf_h5_fail_hdf5 appends HDF5's
 * innermost error message (call it right after the failing HDF5 call). */
int mf_h5_fail(const mf_h5 *h, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int mf_h5_fail_hdf5(const mf_h5 *h, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- groups and links ---- */

/* 1 when parent has a link name, 0 when not, MF_ERR on failure. */
int mf_h5_exists(const mf_h5 *h, hid_t parent, const char *field, const char *name);
/* The new group parent/name (field: its path), or -1 with err set. Close with H5Gclose. */
hid_t mf_h5_group_create(const mf_h5 *h, hid_t parent, const char *name, const char *field);
/* Opens parent/name, which must be a hard link to a group; -1 with err set ("missing group",
 * "expected a group, found a dataset", ...). Close with H5Oclose. */
hid_t mf_h5_group_open(const mf_h5 *h, hid_t parent, const char *name, const char *field);

/* ---- attributes (field: the path of obj) ---- */

/* 1 when obj has attribute name, 0 when not, MF_ERR on failure. */
int mf_h5_attr_exists(const mf_h5 *h, hid_t obj, const char *field, const char *name);
/* n values of type from v: a scalar when n < 0, else a 1-D array of n elements. */
int mf_h5_attr_write(const mf_h5 *h, hid_t obj, const char *field, const char *name,
                     mf_h5_type type, long n, const void *v);
int mf_h5_attr_write_int(const mf_h5 *h, hid_t obj, const char *field, const char *name, int v);
int mf_h5_attr_write_float(const mf_h5 *h, hid_t obj, const char *field, const char *name, float v);
/* Strings: a scalar when n < 0, else a 1-D array of n strings. */
int mf_h5_attr_write_strs(const mf_h5 *h, hid_t obj, const char *field, const char *name,
                          const char *const *s, long n);
int mf_h5_attr_write_str(const mf_h5 *h, hid_t obj, const char *field, const char *name,
                         const char *s);

/* An integer attribute (any integer type; a scalar or 1-D of min_n to max_n values, each within
 * [lo, hi]) into out[0..*n_out); out holds at least max_n values. n_out may be NULL. */
int mf_h5_attr_read_ints(const mf_h5 *h, hid_t obj, const char *field, const char *name,
                         size_t min_n, size_t max_n, long long lo, long long hi, long long *out,
                         size_t *n_out);
/* One integer within [lo, hi]. */
int mf_h5_attr_read_int(const mf_h5 *h, hid_t obj, const char *field, const char *name,
                        long long lo, long long hi, int *out);
/* One finite float. */
int mf_h5_attr_read_float(const mf_h5 *h, hid_t obj, const char *field, const char *name,
                          float *out);
/* A string attribute (scalar or 1-D of min_n to max_n strings, each at most max_len bytes) into
 * *out: n malloc'ed strings in a malloc'ed array; free with mf_h5_strs_free. */
int mf_h5_attr_read_strs(const mf_h5 *h, hid_t obj, const char *field, const char *name,
                         size_t min_n, size_t max_n, size_t max_len, char ***out, size_t *n_out);
/* One string into buf (size bytes with the terminator; a longer one is an error). */
int mf_h5_attr_read_str(const mf_h5 *h, hid_t obj, const char *field, const char *name, char *buf,
                        size_t size);
void mf_h5_strs_free(char **s, size_t n);

/* ---- datasets (field: the dataset's own path) ---- */

/* Dataset parent/name of type and shape (rank 0: a scalar) from data. */
int mf_h5_dataset_write(const mf_h5 *h, hid_t parent, const char *name, const char *field,
                        mf_h5_type type, int rank, const hsize_t *dims, const void *data);
/* The rank and dimensions of dataset parent/name: at most max_rank dimensions. */
int mf_h5_dataset_shape(const mf_h5 *h, hid_t parent, const char *name, const char *field,
                        int max_rank, int *rank, hsize_t *dims);
/* Checks dataset parent/name without reading it: its type (MF_H5_F32: any float type; an
 * integer type: integers of that size and signedness), its rank and each of its dimensions
 * against dims, and that the file holds its data (DESIGN.md §11: sizes are checked before any
 * allocation or read): no external or virtual storage; contiguous or compact storage of exactly
 * the declared bytes; chunked storage with every chunk written and, when compressed, at most
 * 1032 declared bytes per stored byte (deflate's largest ratio). A dataset declared but never
 * written is refused ("holds 0 bytes of data, but its shape and type declare ..."). */
int mf_h5_dataset_check(const mf_h5 *h, hid_t parent, const char *name, const char *field,
                        mf_h5_type type, int rank, const hsize_t *dims);
/* The storage checks of mf_h5_dataset_check for every dataset directly in group g (field: the
 * group's path), each against its own shape and type: what a loader runs before it builds
 * anything from a group's description, so that no dataset can make it allocate or read more
 * than the file holds. values (may be NULL) is increased by the datasets' element counts. */
int mf_h5_group_check_stored(const mf_h5 *h, hid_t g, const char *field, size_t *values);
/* Reads dataset parent/name into out (converted to type's native form) after the checks of
 * mf_h5_dataset_check. */
int mf_h5_dataset_read(const mf_h5 *h, hid_t parent, const char *name, const char *field,
                       mf_h5_type type, int rank, const hsize_t *dims, void *out);

#endif
