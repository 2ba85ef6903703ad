/* GTSRB at 32×32 RGB from IDX files (gzip or plain) and the annotation CSVs (data README §4):
 * values / 255, class ids 0..42, groups = class·100000 + track from the train filenames. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mf_datasets.h"
#include "mf_fileio.h"
#include "textio.h"

#define GTSRB_CLASSES    43
#define GTSRB_SIDE       32
#define GTSRB_CH         3
#define GTSRB_MAX_FIELDS 64
#define GTSRB_MAX_LINE   4096

static const char *const gtsrb_names[GTSRB_CLASSES] = {
    "Speed limit (20km/h)",
    "Speed limit (30km/h)",
    "Speed limit (50km/h)",
    "Speed limit (60km/h)",
    "Speed limit (70km/h)",
    "Speed limit (80km/h)",
    "End of speed limit (80km/h)",
    "Speed limit (100km/h)",
    "Speed limit (120km/h)",
    "No passing",
    "No passing for vehicles over 3.5 metric tons",
    "Right-of-way at the next intersection",
    "Priority road",
    "Yield",
    "Stop",
    "No vehicles",
    "Vehicles over 3.5 metric tons prohibited",
    "No entry",
    "General caution",
    "Dangerous curve to the left",
    "Dangerous curve to the right",
    "Double curve",
    "Bumpy road",
    "Slippery road",
    "Road narrows on the right",
    "Road work",
    "Traffic signals",
    "Pedestrians",
    "Children crossing",
    "Bicycles crossing",
    "Beware of ice/snow",
    "Wild animals crossing",
    "End of all speed and passing limits",
    "Turn right ahead",
    "Turn left ahead",
    "Ahead only",
    "Go straight or right",
    "Go straight or left",
    "Keep right",
    "Keep left",
    "Roundabout mandatory",
    "End of no passing",
    "End of no passing by vehicles over 3.5 metric tons",
};

/* Splits a line at ';' in place, trimming blanks; returns the field count (or max + 1 when there
 * are more than max fields). */
static int split_fields(char *line, char **fields, int max)
{
    int n = 0;
    char *s = line;
    for (;;) {
        char *e = strchr(s, ';');
        if (e) *e = '\0';
        while (*s == ' ' || *s == '\t')
            s++;
        size_t len = strlen(s);
        while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
            s[--len] = '\0';
        if (n < max) fields[n] = s;
        n++;
        if (!e) break;
        s = e + 1;
    }
    return n > max ? max + 1 : n;
}

static int parse_int(const char *s, long *v)
{
    if (!*s) return 0;
    char *end;
    errno = 0;
    *v = strtol(s, &end, 10);
    return errno == 0 && *end == '\0';
}

/* Reads n decimal digits (1..max_digits) at *p into *v; advances *p. */
static int parse_digits(const char **p, int max_digits, long *v)
{
    const char *s = *p;
    long r = 0;
    int k = 0;
    while (*s >= '0' && *s <= '9') {
        if (++k > max_digits) return 0;
        r = r * 10 + (*s - '0');
        s++;
    }
    if (k == 0) return 0;
    *p = s;
    *v = r;
    return 1;
}

/* "CCCCC/TTTTT_IIIII.ppm" → class folder and track. */
static int parse_train_filename(const char *name, long *cls, long *track)
{
    const char *p = name;
    long img;
    if (!parse_digits(&p, 9, cls) || *p++ != '/') return 0;
    if (!parse_digits(&p, 5, track) || *p++ != '_') return 0;
    if (!parse_digits(&p, 9, &img)) return 0;
    return *p == '\0' || *p == '.';
}

static int row_error(mf_error *err, const mf_textio *t, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Sets err to the formatted message at the line t last returned. */
static int row_error(mf_error *err, const mf_textio *t, const char *fmt, ...)
{
    char msg[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    mf_error_set(err, "%s", msg);
    mf_error_at(err, t->path, t->line, 0, NULL);
    return MF_ERR;
}

/* Checks an annotation CSV against the labels read from lab_path (n samples): every index once,
 * ClassId equal to the label; for the train file also fills groups (class·100000 + track). */
static int read_annotations(const char *path, const char *lab_path, int n, const uint8_t *labels,
                            int *groups, mf_error *err)
{
    mf_textio t;
    if (mf_textio_open(&t, path, GTSRB_MAX_LINE, err)) return MF_ERR;
    int *seen = calloc(n > 0 ? (size_t)n : 1, sizeof *seen); /* line of each index, 0 = none */
    if (!seen) {
        mf_textio_close(&t);
        mf_error_set(err, "out of memory reading annotations");
        mf_error_at(err, path, 0, 0, NULL);
        return MF_ERR;
    }
    char *fields[GTSRB_MAX_FIELDS + 1];
    char *line;
    size_t len;
    int r, nf = 0, col_index = -1, col_file = -1, col_class = -1, rows = 0, rc = MF_ERR;
    while ((r = mf_textio_next(&t, &line, &len, err)) == 1) {
        if (mf_textio_blank(line, len)) continue;
        if (nf == 0) { /* the header */
            nf = split_fields(line, fields, GTSRB_MAX_FIELDS);
            if (nf > GTSRB_MAX_FIELDS) {
                row_error(err, &t, "the header has more than %d columns", GTSRB_MAX_FIELDS);
                goto done;
            }
            for (int i = 0; i < nf; i++) {
                if (strcmp(fields[i], "index") == 0) col_index = i;
                if (strcmp(fields[i], "Filename") == 0) col_file = i;
                if (strcmp(fields[i], "ClassId") == 0) col_class = i;
            }
            const char *missing = col_index < 0   ? "index"
                                  : col_file < 0  ? "Filename"
                                  : col_class < 0 ? "ClassId"
                                                  : NULL;
            if (missing) {
                row_error(err, &t,
                          "column '%s' is missing from the header (expected "
                          "index;Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId)",
                          missing);
                goto done;
            }
            continue;
        }
        int k = split_fields(line, fields, GTSRB_MAX_FIELDS);
        if (k != nf) {
            row_error(err, &t, "the row has %s%d ;-separated fields, the header has %d",
                      k > GTSRB_MAX_FIELDS ? "more than " : "",
                      k > GTSRB_MAX_FIELDS ? GTSRB_MAX_FIELDS : k, nf);
            goto done;
        }
        long idx, cls;
        if (!parse_int(fields[col_index], &idx) || idx < 0 || idx >= n) {
            row_error(err, &t, "index '%s' is not a sample number from 0 to %d", fields[col_index],
                      n - 1);
            goto done;
        }
        if (seen[idx]) {
            row_error(err, &t, "index %ld appears twice (first on line %d)", idx, seen[idx]);
            goto done;
        }
        seen[idx] = t.line;
        if (!parse_int(fields[col_class], &cls) || cls != labels[idx]) {
            row_error(err, &t, "ClassId '%s' of index %ld differs from its label %d in '%s'",
                      fields[col_class], idx, labels[idx], lab_path);
            goto done;
        }
        if (groups) {
            long folder, track;
            if (!parse_train_filename(fields[col_file], &folder, &track)) {
                row_error(err, &t,
                          "Filename '%s' is not of the form CCCCC/TTTTT_IIIII.ppm (class folder / "
                          "track_image)",
                          fields[col_file]);
                goto done;
            }
            if (folder != cls) {
                row_error(err, &t, "Filename '%s' lies in class folder %ld but ClassId is %ld",
                          fields[col_file], folder, cls);
                goto done;
            }
            groups[idx] = (int)(cls * 100000 + track);
        }
        rows++;
    }
    if (r < 0) goto done;
    if (nf == 0) {
        mf_error_set(err, "the file is empty (expected a header line and %d rows)", n);
        mf_error_at(err, path, 0, 0, NULL);
        goto done;
    }
    if (rows != n) {
        int first = 0;
        while (first < n && seen[first])
            first++;
        mf_error_set(err, "the file annotates %d samples but '%s' holds %d (index %d is missing)",
                     rows, lab_path, n, first);
        mf_error_at(err, path, 0, 0, NULL);
        goto done;
    }
    rc = MF_OK;
done:
    free(seen);
    mf_textio_close(&t);
    return rc;
}

/* One split: N×32×32×3 images and N labels 0..42. */
static int read_split(const char *dir, const char *prefix, char *img_path, char *lab_path,
                      size_t size, uint8_t **img, uint8_t **lab, int *n, mf_error *err)
{
    char base[64];
    int nd, dims[4];
    *img = *lab = NULL;
    snprintf(base, sizeof base, "%s-images-idx4-ubyte", prefix);
    if (mf_file_need_gz(dir, base, "GTSRB", img_path, size, err)) return MF_ERR;
    snprintf(base, sizeof base, "%s-labels-idx1-ubyte", prefix);
    if (mf_file_need_gz(dir, base, "GTSRB", lab_path, size, err)) return MF_ERR;
    if (mf_idx_read(img_path, 4, &nd, dims, img, err)) return MF_ERR;
    if (nd != 4 || dims[1] != GTSRB_SIDE || dims[2] != GTSRB_SIDE || dims[3] != GTSRB_CH) {
        mf_error_set(
            err, "GTSRB images must be N x 32 x 32 x 3, found %d dimensions (%d x %d x %d x %d)",
            nd, dims[0], dims[1], dims[2], dims[3]);
        mf_error_at_offset(err, img_path, 3);
        goto fail;
    }
    int n_img = dims[0];
    if (mf_idx_read(lab_path, 1, &nd, dims, lab, err)) goto fail;
    if (dims[0] != n_img) {
        mf_error_set(err, "'%s' holds %d labels but '%s' holds %d images", lab_path, dims[0],
                     img_path, n_img);
        mf_error_at_offset(err, lab_path, 4);
        goto fail;
    }
    for (int i = 0; i < n_img; i++)
        if ((*lab)[i] >= GTSRB_CLASSES) {
            mf_error_set(err, "class id %d of sample %d is out of range (0 to 42)", (*lab)[i], i);
            mf_error_at_offset(err, lab_path, 8 + (long)i);
            goto fail;
        }
    *n = n_img;
    return MF_OK;
fail:
    free(*img);
    free(*lab);
    *img = *lab = NULL;
    return MF_ERR;
}

static void convert(const uint8_t *img, const uint8_t *lab, int n, float *x, int *y)
{
    float table[256];
    for (int v = 0; v < 256; v++)
        table[v] = v / 255.0f;
    size_t total = (size_t)n * GTSRB_SIDE * GTSRB_SIDE * GTSRB_CH;
    for (size_t k = 0; k < total; k++)
        x[k] = table[img[k]];
    for (int i = 0; i < n; i++)
        y[i] = lab[i];
}

int mf_load_gtsrb(const char *dir, mf_dataset **out, mf_error *err)
{
    *out = NULL;
    if (!mf_file_is_dir(dir)) {
        mf_error_set(err, "GTSRB folder '%s' does not exist", dir ? dir : "");
        mf_error_at(err, dir, 0, 0, NULL);
        return MF_ERR;
    }
    char tr_img[4096], tr_lab[4096], tr_csv[4096], te_img[4096], te_lab[4096], te_csv[4096];
    uint8_t *xi = NULL, *yi = NULL, *xt = NULL, *yt = NULL;
    mf_dataset *d = NULL;
    int n_train = 0, n_test = 0;
    if (mf_file_need_gz(dir, "train-annotations.csv", "GTSRB", tr_csv, sizeof tr_csv, err))
        return MF_ERR;
    char te_base[4096];
    snprintf(te_base, sizeof te_base, "%s/test-annotations.csv", dir);
    int have_test_csv = mf_file_find_gz(te_base, te_csv, sizeof te_csv);
    if (read_split(dir, "train", tr_img, tr_lab, sizeof tr_img, &xi, &yi, &n_train, err)) goto fail;
    if (read_split(dir, "test", te_img, te_lab, sizeof te_img, &xt, &yt, &n_test, err)) goto fail;
    mf_shape shape = {3, {GTSRB_SIDE, GTSRB_SIDE, GTSRB_CH, 0}};
    d = mf_dataset_alloc("gtsrb", &shape, GTSRB_CLASSES, n_train, n_test, 1, err);
    if (!d) goto fail;
    d->class_names = calloc(GTSRB_CLASSES, sizeof *d->class_names);
    if (!d->class_names) {
        mf_error_set(err, "gtsrb: out of memory for class names");
        goto fail;
    }
    for (int k = 0; k < GTSRB_CLASSES; k++)
        snprintf(d->class_names[k], MF_CLASS_NAME_MAX, "%.*s", MF_CLASS_NAME_MAX - 1,
                 gtsrb_names[k]);
    if (read_annotations(tr_csv, tr_lab, n_train, yi, d->group_train, err)) goto fail;
    if (have_test_csv && read_annotations(te_csv, te_lab, n_test, yt, NULL, err)) goto fail;
    convert(xi, yi, n_train, d->x_train, d->y_train);
    convert(xt, yt, n_test, d->x_test, d->y_test);
    free(xi);
    free(yi);
    free(xt);
    free(yt);
    *out = d;
    return MF_OK;
fail:
    mf_dataset_free(d);
    free(xi);
    free(yi);
    free(xt);
    free(yt);
    return MF_ERR;
}
