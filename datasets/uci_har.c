/* UCI-HAR in its original layout (data/README.md §1): per split, y_<split>.txt (labels 1..6),
 * subject_<split>.txt (volunteers 1..30) and the 9 "Inertial Signals" files, one window of 128
 * values per line, plain or gzipped. Samples are 128 × 9, channels-last, in PAPER.md §2's
 * channel order: body_acc x,y,z, body_gyro x,y,z, total_acc x,y,z. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mf_datasets.h"
#include "mf_fileio.h"
#include "textio.h"

#define HAR_STEPS    128
#define HAR_CHANNELS 9
#define HAR_CLASSES  6
#define HAR_SUBJECTS 30
#define HAR_PATH     1024
/* A window line is 128 × 16 bytes in the data set's own files; anything far longer is not one. */
#define HAR_SIGNAL_LINE ((size_t)64 * 1024)
#define HAR_SMALL_LINE  ((size_t)4096)

static const char *const HAR_SIGNALS[HAR_CHANNELS] = {"body_acc_x",  "body_acc_y",  "body_acc_z",
                                                      "body_gyro_x", "body_gyro_y", "body_gyro_z",
                                                      "total_acc_x", "total_acc_y", "total_acc_z"};

static const char *const HAR_DEFAULT_NAMES[HAR_CLASSES] = {
    "WALKING", "WALKING_UPSTAIRS", "WALKING_DOWNSTAIRS", "SITTING", "STANDING", "LAYING"};

static const char HAR_LAYOUT[] =
    "the UCI-HAR folder must contain train/ and test/, each with y_<split>.txt, "
    "subject_<split>.txt and \"Inertial Signals/\" holding "
    "{body_acc,body_gyro,total_acc}_{x,y,z}_<split>.txt (or .txt.gz)";

typedef struct {
    const char *split;
    char y[HAR_PATH];
    char subject[HAR_PATH];
    char signal[HAR_CHANNELS][HAR_PATH];
} har_files;

static int path_join(char *out, const char *dir, const char *name, mf_error *err)
{
    int w = snprintf(out, HAR_PATH, "%s/%s", dir, name);
    if (w < 0 || w >= HAR_PATH) {
        mf_error_set(err, "UCI-HAR: path '%s/%s' is too long", dir, name);
        mf_error_at(err, dir, 0, 0, NULL);
        return MF_ERR;
    }
    return MF_OK;
}

static int need_dir(const char *path, mf_error *err)
{
    if (mf_file_is_dir(path)) return MF_OK;
    mf_error_set(err, "UCI-HAR: folder '%s' not found; %s", path, HAR_LAYOUT);
    mf_error_at(err, path, 0, 0, NULL);
    return MF_ERR;
}

/* Finds dir/name (or dir/name.gz, mf_file_find_gz) into out. */
static int need_file(char *out, const char *dir, const char *name, mf_error *err)
{
    char base[HAR_PATH];
    if (path_join(base, dir, name, err)) return MF_ERR;
    if (mf_file_find_gz(base, out, HAR_PATH)) return MF_OK;
    mf_error_set(err, "UCI-HAR: file '%s' not found (nor '%s.gz'); %s", base, base, HAR_LAYOUT);
    mf_error_at(err, base, 0, 0, NULL);
    return MF_ERR;
}

static int find_split(const char *root, har_files *f, mf_error *err)
{
    char dir[HAR_PATH], sig_dir[HAR_PATH], name[128];
    if (path_join(dir, root, f->split, err) || need_dir(dir, err)) return MF_ERR;
    if (path_join(sig_dir, dir, "Inertial Signals", err) || need_dir(sig_dir, err)) return MF_ERR;
    snprintf(name, sizeof name, "y_%s.txt", f->split);
    if (need_file(f->y, dir, name, err)) return MF_ERR;
    snprintf(name, sizeof name, "subject_%s.txt", f->split);
    if (need_file(f->subject, dir, name, err)) return MF_ERR;
    for (int c = 0; c < HAR_CHANNELS; c++) {
        snprintf(name, sizeof name, "%s_%s.txt", HAR_SIGNALS[c], f->split);
        if (need_file(f->signal[c], sig_dir, name, err)) return MF_ERR;
    }
    return MF_OK;
}

/* Lines of a file up to its last non-blank one (trailing blank lines are tolerated). */
static int count_lines(const char *path, size_t max_line, int *count, mf_error *err)
{
    mf_textio t;
    if (mf_textio_open(&t, path, max_line, err)) return MF_ERR;
    char *line;
    size_t len;
    int r, last = 0;
    while ((r = mf_textio_next(&t, &line, &len, err)) == 1)
        if (!mf_textio_blank(line, len)) last = t.line;
    mf_textio_close(&t);
    *count = last;
    return r < 0 ? MF_ERR : MF_OK;
}

/* After the n lines a file must hold: only blank lines may follow; otherwise the error names
 * both files and their counts. */
static int expect_end(mf_textio *t, int n, const char *ref, mf_error *err)
{
    char *line;
    size_t len;
    int r, last = t->line, first_extra = 0;
    while ((r = mf_textio_next(t, &line, &len, err)) == 1)
        if (!mf_textio_blank(line, len)) {
            last = t->line;
            if (!first_extra) first_extra = t->line;
        }
    if (r < 0) return MF_ERR;
    if (!first_extra) return MF_OK;
    mf_error_set(err,
                 "UCI-HAR: '%s' has %d lines but '%s' has %d: line i of every file of a split "
                 "describes the same window",
                 t->path, last, ref, n);
    mf_error_at(err, t->path, first_extra, 0, NULL);
    return MF_ERR;
}

static int short_file(const mf_textio *t, int found, int n, const char *ref, mf_error *err)
{
    mf_error_set(err,
                 "UCI-HAR: '%s' has %d lines but '%s' has %d: line i of every file of a split "
                 "describes the same window",
                 t->path, found, ref, n);
    mf_error_at(err, t->path, found, 0, NULL);
    return MF_ERR;
}

/* Reads n integers in lo..hi, one per line, into out[i] = value - shift (out may be NULL). */
static int read_ints(const char *path, const char *what, int n, int lo, int hi, int shift, int *out,
                     const char *ref, mf_error *err)
{
    mf_textio t;
    if (mf_textio_open(&t, path, HAR_SMALL_LINE, err)) return MF_ERR;
    char *line;
    size_t len;
    int r = 0;
    for (int i = 0; i < n; i++) {
        r = mf_textio_next(&t, &line, &len, err);
        if (r < 0) goto fail;
        if (r == 0) {
            short_file(&t, t.line, n, ref, err);
            goto fail;
        }
        char *p = line, *e;
        while (*p == ' ' || *p == '\t')
            p++;
        errno = 0;
        long v = strtol(p, &e, 10);
        char *q = e;
        while (*q == ' ' || *q == '\t')
            q++;
        if (e == p || *q || errno == ERANGE) {
            mf_error_set(err, "UCI-HAR: %s '%.40s' on line %d is not an integer", what, p, t.line);
            mf_error_at(err, t.path, t.line, (int)(p - line) + 1, NULL);
            goto fail;
        }
        if (v < lo || v > hi) {
            mf_error_set(err, "UCI-HAR: %s %ld on line %d is out of range %d..%d", what, v, t.line,
                         lo, hi);
            mf_error_at(err, t.path, t.line, (int)(p - line) + 1, NULL);
            goto fail;
        }
        if (out) out[i] = (int)v - shift;
    }
    if (expect_end(&t, n, ref, err)) goto fail;
    mf_textio_close(&t);
    return MF_OK;
fail:
    mf_textio_close(&t);
    return MF_ERR;
}

static int is_blank_char(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Reads n windows of 128 values into channel c of x (n × 128 × 9); x NULL: checks them only. */
static int read_signal(const char *path, int n, int c, float *x, const char *ref, mf_error *err)
{
    mf_textio t;
    if (mf_textio_open(&t, path, HAR_SIGNAL_LINE, err)) return MF_ERR;
    const size_t per = (size_t)HAR_STEPS * HAR_CHANNELS;
    char *line;
    size_t len;
    for (int i = 0; i < n; i++) {
        int r = mf_textio_next(&t, &line, &len, err);
        if (r < 0) goto fail;
        if (r == 0) {
            short_file(&t, t.line, n, ref, err);
            goto fail;
        }
        float *dst = x ? x + (size_t)i * per + (size_t)c : NULL;
        char *p = line;
        int k = 0;
        for (;;) {
            while (is_blank_char(*p))
                p++;
            if (!*p) break;
            if (k >= HAR_STEPS) { /* count the rest for the message */
                while (*p && !is_blank_char(*p))
                    p++;
                k++;
                continue;
            }
            char *e;
            float v = strtof(p, &e);
            if (e == p || (*e && !is_blank_char(*e)) || !isfinite(v)) {
                int w = 0;
                while (p[w] && !is_blank_char(p[w]) && w < 40)
                    w++;
                mf_error_set(err, "UCI-HAR: value %d '%.*s' on line %d is not a finite number",
                             k + 1, w, p, t.line);
                mf_error_at(err, t.path, t.line, (int)(p - line) + 1, NULL);
                goto fail;
            }
            if (dst) dst[(size_t)k * HAR_CHANNELS] = v;
            k++;
            p = e;
        }
        if (k != HAR_STEPS) {
            mf_error_set(err, "UCI-HAR: expected %d values, found %d on line %d", HAR_STEPS, k,
                         t.line);
            mf_error_at(err, t.path, t.line, 0, NULL);
            goto fail;
        }
    }
    if (expect_end(&t, n, ref, err)) goto fail;
    mf_textio_close(&t);
    return MF_OK;
fail:
    mf_textio_close(&t);
    return MF_ERR;
}

static int read_split(const har_files *f, int n, float *x, int *y, int *group, mf_error *err)
{
    if (read_ints(f->y, "label", n, 1, HAR_CLASSES, 1, y, f->y, err)) return MF_ERR;
    if (read_ints(f->subject, "subject", n, 1, HAR_SUBJECTS, 0, group, f->y, err)) return MF_ERR;
    for (int c = 0; c < HAR_CHANNELS; c++)
        if (read_signal(f->signal[c], n, c, x, f->y, err)) return MF_ERR;
    return MF_OK;
}

/* activity_labels.txt: "id NAME" per line, ids 1..6 each once. */
static int read_class_names(const char *path, char (*names)[MF_CLASS_NAME_MAX], mf_error *err)
{
    mf_textio t;
    if (mf_textio_open(&t, path, HAR_SMALL_LINE, err)) return MF_ERR;
    int seen[HAR_CLASSES] = {0};
    char *line;
    size_t len;
    int r;
    while ((r = mf_textio_next(&t, &line, &len, err)) == 1) {
        if (mf_textio_blank(line, len)) continue;
        char *p = line, *e;
        while (*p == ' ' || *p == '\t')
            p++;
        errno = 0;
        long id = strtol(p, &e, 10);
        if (e == p || errno == ERANGE || (*e != ' ' && *e != '\t')) {
            mf_error_set(err, "UCI-HAR: expected 'id NAME' in the activity labels, found '%.60s'",
                         line);
            mf_error_at(err, t.path, t.line, 0, NULL);
            goto fail;
        }
        if (id < 1 || id > HAR_CLASSES) {
            mf_error_set(err, "UCI-HAR: activity id %ld is out of range 1..%d", id, HAR_CLASSES);
            mf_error_at(err, t.path, t.line, 0, NULL);
            goto fail;
        }
        if (seen[id - 1]) {
            mf_error_set(err, "UCI-HAR: activity id %ld is defined twice", id);
            mf_error_at(err, t.path, t.line, 0, NULL);
            goto fail;
        }
        while (*e == ' ' || *e == '\t')
            e++;
        size_t n = strlen(e);
        while (n > 0 && is_blank_char(e[n - 1]))
            n--;
        if (n == 0 || n >= MF_CLASS_NAME_MAX) {
            mf_error_set(err, "UCI-HAR: activity %ld has %s name", id,
                         n ? "a too long (max 63 bytes)" : "no");
            mf_error_at(err, t.path, t.line, 0, NULL);
            goto fail;
        }
        memcpy(names[id - 1], e, n);
        names[id - 1][n] = '\0';
        seen[id - 1] = 1;
    }
    if (r < 0) goto fail;
    for (int k = 0; k < HAR_CLASSES; k++)
        if (!seen[k]) {
            mf_error_set(err, "UCI-HAR: activity id %d is missing from the activity labels", k + 1);
            mf_error_at(err, t.path, 0, 0, NULL);
            goto fail;
        }
    mf_textio_close(&t);
    return MF_OK;
fail:
    mf_textio_close(&t);
    return MF_ERR;
}

static int load_class_names(const char *root, mf_dataset *d, mf_error *err)
{
    char(*names)[MF_CLASS_NAME_MAX] = calloc(HAR_CLASSES, sizeof *names);
    if (!names) return mf_error_set(err, "UCI-HAR: out of memory");
    d->class_names = names;
    static const char *const where[] = {"activity_labels.txt", "../activity_labels.txt",
                                        "../UCI HAR Dataset/activity_labels.txt"};
    char base[HAR_PATH], path[HAR_PATH];
    for (size_t w = 0; w < sizeof where / sizeof where[0]; w++) {
        int len = snprintf(base, sizeof base, "%s/%s", root, where[w]);
        if (len < 0 || len >= (int)sizeof base) continue;
        if (mf_file_find_gz(base, path, sizeof path)) return read_class_names(path, names, err);
    }
    for (int k = 0; k < HAR_CLASSES; k++)
        snprintf(names[k], MF_CLASS_NAME_MAX, "%s", HAR_DEFAULT_NAMES[k]);
    return MF_OK;
}

int mf_load_uci_har(const char *root_arg, mf_dataset **out, mf_error *err)
{
    *out = NULL;
    char root[HAR_PATH];
    if (!root_arg || !root_arg[0]) {
        mf_error_set(err, "UCI-HAR: no folder given; %s", HAR_LAYOUT);
        return MF_ERR;
    }
    int w = snprintf(root, sizeof root, "%s", root_arg);
    if (w < 0 || w >= (int)sizeof root) {
        mf_error_set(err, "UCI-HAR: folder name is too long");
        return MF_ERR;
    }
    for (size_t n = strlen(root); n > 1 && root[n - 1] == '/'; n--)
        root[n - 1] = '\0';
    if (need_dir(root, err)) return MF_ERR;

    har_files train = {.split = "train"}, test = {.split = "test"};
    if (find_split(root, &train, err) || find_split(root, &test, err)) return MF_ERR;

    int n_train, n_test;
    if (count_lines(train.y, HAR_SMALL_LINE, &n_train, err) ||
        count_lines(test.y, HAR_SMALL_LINE, &n_test, err))
        return MF_ERR;
    if (n_train < 1 || n_test < 1) {
        const char *empty = n_train < 1 ? train.y : test.y;
        mf_error_set(err, "UCI-HAR: '%s' holds no labels", empty);
        mf_error_at(err, empty, 0, 0, NULL);
        return MF_ERR;
    }

    /* The label files set the windows' count, and the arrays take 4.6 KB a window: a small
     * gzipped label file of many lines would have the loader allocate gigabytes before a short
     * signal file refused it. The first signal file of each split is read once before the
     * allocation (its windows must all be there and well formed), so the allocation follows the
     * signal data, not the label count alone. */
    if (read_signal(train.signal[0], n_train, 0, NULL, train.y, err) ||
        read_signal(test.signal[0], n_test, 0, NULL, test.y, err))
        return MF_ERR;
    const mf_shape shape = {2, {HAR_STEPS, HAR_CHANNELS}};
    mf_dataset *d = mf_dataset_alloc("uci-har", &shape, HAR_CLASSES, n_train, n_test, 1, err);
    if (!d) return MF_ERR;
    if (load_class_names(root, d, err) ||
        read_split(&train, n_train, d->x_train, d->y_train, d->group_train, err) ||
        read_split(&test, n_test, d->x_test, d->y_test, NULL, err)) {
        mf_dataset_free(d);
        return MF_ERR;
    }
    *out = d;
    return MF_OK;
}
