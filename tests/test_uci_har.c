/* UCI-HAR loader (datasets/uci_har.c) and the text reader it uses (datasets/textio.c): a tiny
 * generated data set (plain and gzipped files) checked value by value, every error with its
 * message, file and line, and the reconstructed data set when it is present.
 * MF_SKIP_REAL_DATA=1 skips the real data (e.g. under valgrind). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "mf_datasets.h"
#include "mf_fileio.h"
#include "textio.h"
#include "testutil.h"

#define STEPS 128
#define CH    9

static const char *const SIGNALS[CH] = {"body_acc_x",  "body_acc_y",  "body_acc_z",
                                        "body_gyro_x", "body_gyro_y", "body_gyro_z",
                                        "total_acc_x", "total_acc_y", "total_acc_z"};
static const char *const SPLITS[2] = {"train", "test"};
static const int N[2] = {3, 2};
static const int LABELS[2][3] = {{1, 6, 3}, {2, 4, 0}};
static const int SUBJECTS[2][3] = {{1, 30, 7}, {2, 9, 0}};

/* Gzip mask bits: signal c of train = bit c, of test = bit 9 + c; y_train bit 18, subject_test
 * bit 19. */
#define GZ_DEFAULT ((1u << 0) | (1u << 4) | (1u << 8) | (1u << 10) | (1u << 11) | (1u << 19))

/* The value of channel c at time t of window i of split s: exact in float and in "%.7e". */
static float value(int s, int i, int c, int t)
{
    return (float)(((s * 8 + i) * CH + c) * STEPS + t) * 0.25f - 200.0f;
}

static void write_bytes(const char *path, const char *data, size_t len, int gz)
{
    if (gz) {
        char gzpath[2048];
        snprintf(gzpath, sizeof gzpath, "%s.gz", path);
        gzFile f = gzopen(gzpath, "wb");
        assert_non_null(f);
        if (len) assert_int_equal(gzwrite(f, data, (unsigned)len), (int)len);
        assert_int_equal(gzclose(f), Z_OK);
    } else {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        if (len) assert_int_equal(fwrite(data, 1, len, f), len);
        assert_int_equal(fclose(f), 0);
    }
}

static void write_text(const char *path, const char *text, int gz)
{
    write_bytes(path, text, strlen(text), gz);
}

/* Appends one value in the data set's style: "%.7e" with a 3-digit exponent, right-aligned in
 * 16 characters (" 1.8085150e-004"). */
static size_t put_value(char *out, float v)
{
    char num[32];
    snprintf(num, sizeof num, "%.7e", (double)v);
    char *e = strchr(num, 'e');
    char fixed[40];
    snprintf(fixed, sizeof fixed, "%.*se%c0%s", (int)(e - num), num, e[1], e + 2);
    return (size_t)sprintf(out, "%16s", fixed);
}

/* The text of signal file c of split s with n lines; line bad_line (1-based) gets bad_count
 * values instead of 128. malloc'd. */
static char *signal_text(int s, int n, int c, int bad_line, int bad_count)
{
    char *text = malloc((size_t)(n + 1) * 300 * 16 + 1);
    assert_non_null(text);
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        int count = i + 1 == bad_line ? bad_count : STEPS;
        for (int t = 0; t < count; t++)
            len += put_value(text + len, value(s, i, c, t % STEPS));
        text[len++] = '\n';
    }
    text[len] = '\0';
    return text;
}

static char g_root[1024];
static char g_path[1300];

static const char *path_of(const char *rel)
{
    snprintf(g_path, sizeof g_path, "%s/%s", g_root, rel);
    return g_path;
}

static const char *signal_path(int s, int c)
{
    char rel[200];
    snprintf(rel, sizeof rel, "%s/Inertial Signals/%s_%s.txt", SPLITS[s], SIGNALS[c], SPLITS[s]);
    return path_of(rel);
}

/* A fresh data set in <tmp>/name/har (so that the parent has no activity_labels.txt). */
static const char *make_har(const char *name, unsigned gz)
{
    const char *tmp = tu_tmpdir(name);
    snprintf(g_root, sizeof g_root, "%s/har", tmp);
    assert_int_equal(mkdir(g_root, 0777), 0);
    for (int s = 0; s < 2; s++) {
        assert_int_equal(mkdir(path_of(SPLITS[s]), 0777), 0);
        char rel[200], text[256];
        snprintf(rel, sizeof rel, "%s/Inertial Signals", SPLITS[s]);
        assert_int_equal(mkdir(path_of(rel), 0777), 0);
        size_t len = 0;
        for (int i = 0; i < N[s]; i++)
            len += (size_t)sprintf(text + len, "%d\n", LABELS[s][i]);
        snprintf(rel, sizeof rel, "%s/y_%s.txt", SPLITS[s], SPLITS[s]);
        write_text(path_of(rel), text, s == 0 && (gz >> 18 & 1));
        len = 0;
        for (int i = 0; i < N[s]; i++)
            len += (size_t)sprintf(text + len, "%d\n", SUBJECTS[s][i]);
        snprintf(rel, sizeof rel, "%s/subject_%s.txt", SPLITS[s], SPLITS[s]);
        write_text(path_of(rel), text, s == 1 && (gz >> 19 & 1));
        for (int c = 0; c < CH; c++) {
            char *sig = signal_text(s, N[s], c, 0, 0);
            write_text(signal_path(s, c), sig, gz >> (s * 9 + c) & 1);
            free(sig);
        }
    }
    return g_root;
}

static void check_values(const mf_dataset *d)
{
    for (int s = 0; s < 2; s++) {
        const float *x = s == 0 ? d->x_train : d->x_test;
        for (int i = 0; i < N[s]; i++)
            for (int t = 0; t < STEPS; t++)
                for (int c = 0; c < CH; c++) {
                    float got = x[((size_t)i * STEPS + t) * CH + c];
                    if (got != value(s, i, c, t))
                        fail_msg("split %d window %d t %d channel %d: %g, expected %g", s, i, t, c,
                                 (double)got, (double)value(s, i, c, t));
                }
    }
}

/* Loads root expecting an error whose message holds `needle` and whose file ends with
 * `file_end` (line checked when line >= 0). */
static void expect_error(const char *root, const char *needle, const char *file_end, int line)
{
    mf_dataset *d = (mf_dataset *)0x1;
    mf_error err;
    mf_error_clear(&err);
    assert_int_equal(mf_load_uci_har(root, &d, &err), MF_ERR);
    assert_null(d);
    char buf[2048];
    mf_error_format(&err, buf, sizeof buf);
    if (!strstr(err.message, needle)) fail_msg("message '%s' lacks '%s'", buf, needle);
    size_t fl = strlen(err.file), el = strlen(file_end);
    if (fl < el || strcmp(err.file + fl - el, file_end) != 0)
        fail_msg("error file '%s' does not end with '%s' (%s)", err.file, file_end, buf);
    if (line >= 0 && err.line != line)
        fail_msg("error line %d, expected %d (%s)", err.line, line, buf);
}

/* ---- loading ---- */

static void test_small_values(void **state)
{
    (void)state;
    const char *root = make_har("small", GZ_DEFAULT);
    mf_dataset *d = NULL;
    mf_error err;
    mf_error_clear(&err);
    int rc = mf_load_uci_har(root, &d, &err);
    if (rc) fail_msg("%s: %s", err.file, err.message);
    assert_non_null(d);
    assert_string_equal(d->name, "uci-har");
    assert_int_equal(d->shape.rank, 2);
    assert_int_equal(d->shape.dim[0], 128);
    assert_int_equal(d->shape.dim[1], 9);
    assert_int_equal(d->classes, 6);
    assert_int_equal(d->n_train, 3);
    assert_int_equal(d->n_test, 2);
    assert_int_equal(d->n_val, 0);
    check_values(d);
    /* channel order spelled out: window 0, t = 5 of train */
    for (int c = 0; c < CH; c++)
        assert_true(d->x_train[5 * CH + c] == value(0, 0, c, 5));
    assert_true(d->x_train[0] == -200.0f);
    int y_train[3] = {0, 5, 2}, g_train[3] = {1, 30, 7}, y_test[2] = {1, 3};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(d->y_train[i], y_train[i]);
        assert_int_equal(d->group_train[i], g_train[i]);
    }
    for (int i = 0; i < 2; i++)
        assert_int_equal(d->y_test[i], y_test[i]);
    assert_non_null(d->class_names);
    const char *names[6] = {"WALKING", "WALKING_UPSTAIRS", "WALKING_DOWNSTAIRS",
                            "SITTING", "STANDING",         "LAYING"};
    for (int k = 0; k < 6; k++)
        assert_string_equal(d->class_names[k], names[k]);
    mf_dataset_free(d);
}

/* All plain, all gzipped, a trailing slash, CRLF line ends, trailing blank lines. */
static void test_variants(void **state)
{
    (void)state;
    unsigned masks[2] = {0, (1u << 20) - 1};
    for (int m = 0; m < 2; m++) {
        char root[1100];
        snprintf(root, sizeof root, "%s/", make_har(m ? "all_gz" : "all_plain", masks[m]));
        mf_dataset *d = NULL;
        mf_error err;
        if (mf_load_uci_har(root, &d, &err)) fail_msg("%s: %s", err.file, err.message);
        check_values(d);
        mf_dataset_free(d);
    }
    make_har("crlf", GZ_DEFAULT);
    write_text(path_of("train/y_train.txt"), "1\r\n6\r\n3\r\n\r\n\n", 0);
    write_text(path_of("train/subject_train.txt"), "  1 \n30\t\n7\n\n", 0);
    char *sig = signal_text(1, 2, 5, 0, 0);
    size_t len = strlen(sig);
    char *crlf = malloc(len * 2 + 8);
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        if (sig[i] == '\n') crlf[k++] = '\r';
        crlf[k++] = sig[i];
    }
    memcpy(crlf + k - 1, "", 1); /* last line without its line end (keeps the CR) */
    write_text(signal_path(1, 5), crlf, 0);
    free(crlf);
    free(sig);
    mf_dataset *d = NULL;
    mf_error err;
    if (mf_load_uci_har(g_root, &d, &err)) fail_msg("%s: %s", err.file, err.message);
    check_values(d);
    assert_int_equal(d->y_train[1], 5);
    assert_int_equal(d->group_train[1], 30);
    mf_dataset_free(d);
}

static void test_class_names(void **state)
{
    (void)state;
    const char *labels = "1 Walk\n2 Up stairs \n3 Down\n4 Sit\n5 Stand\n6 Lie\n";
    const char *want[6] = {"Walk", "Up stairs", "Down", "Sit", "Stand", "Lie"};
    mf_dataset *d = NULL;
    mf_error err;
    /* in root */
    make_har("names_root", GZ_DEFAULT);
    write_text(path_of("activity_labels.txt"), labels, 0);
    if (mf_load_uci_har(g_root, &d, &err)) fail_msg("%s: %s", err.file, err.message);
    for (int k = 0; k < 6; k++)
        assert_string_equal(d->class_names[k], want[k]);
    mf_dataset_free(d);
    /* in root/../UCI HAR Dataset, lines in any order */
    make_har("names_parent", GZ_DEFAULT);
    char dir[2048];
    snprintf(dir, sizeof dir, "%s/../UCI HAR Dataset", g_root);
    assert_int_equal(mkdir(dir, 0777), 0);
    tu_write_file(dir, "activity_labels.txt", "6 L\n5 K\n4 J\n3 I\n2 H\n1 G\n");
    if (mf_load_uci_har(g_root, &d, &err)) fail_msg("%s: %s", err.file, err.message);
    assert_string_equal(d->class_names[0], "G");
    assert_string_equal(d->class_names[5], "L");
    mf_dataset_free(d);
    /* in root/.. */
    make_har("names_up", GZ_DEFAULT);
    snprintf(dir, sizeof dir, "%s/..", g_root);
    tu_write_file(dir, "activity_labels.txt", labels);
    if (mf_load_uci_har(g_root, &d, &err)) fail_msg("%s: %s", err.file, err.message);
    assert_string_equal(d->class_names[1], "Up stairs");
    mf_dataset_free(d);
}

/* ---- errors ---- */

static void test_missing(void **state)
{
    (void)state;
    const char *tmp = tu_tmpdir("missing");
    char root[1100];
    snprintf(root, sizeof root, "%s/nowhere", tmp);
    expect_error(root, "must contain train/ and test/", "/nowhere", 0);
    expect_error(root, "not found", "/nowhere", 0);

    make_har("missing_test", GZ_DEFAULT);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path_of("test"));
    assert_int_equal(system(cmd), 0);
    expect_error(g_root, "folder", "/har/test", 0);
    expect_error(g_root, "train/ and test/", "/har/test", 0);

    make_har("missing_signals", GZ_DEFAULT);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path_of("train/Inertial Signals"));
    assert_int_equal(system(cmd), 0);
    expect_error(g_root, "Inertial Signals", "/train/Inertial Signals", 0);

    make_har("missing_file", GZ_DEFAULT);
    assert_int_equal(remove(signal_path(1, 4)), 0);
    expect_error(g_root, "body_gyro_y_test.txt' not found (nor '", "body_gyro_y_test.txt", 0);
    expect_error(g_root, "Inertial Signals", "body_gyro_y_test.txt", 0);

    make_har("missing_gz", GZ_DEFAULT); /* train signal 0 is gzipped */
    char gz[2048];
    snprintf(gz, sizeof gz, "%s.gz", signal_path(0, 0));
    assert_int_equal(remove(gz), 0);
    expect_error(g_root, "body_acc_x_train.txt.gz'", "body_acc_x_train.txt", 0);

    make_har("missing_subject", GZ_DEFAULT);
    assert_int_equal(remove(path_of("train/subject_train.txt")), 0);
    expect_error(g_root, "subject_train.txt' not found", "subject_train.txt", 0);
}

static void test_bad_rows(void **state)
{
    (void)state;
    char *sig;
    /* 127 values on line 2 */
    make_har("short_row", GZ_DEFAULT);
    sig = signal_text(0, 3, 2, 2, 127);
    write_text(signal_path(0, 2), sig, 0);
    free(sig);
    expect_error(g_root, "expected 128 values, found 127",
                 "train/Inertial Signals/body_acc_z_train.txt", 2);
    /* 129 values on line 3, gzipped */
    make_har("long_row", GZ_DEFAULT);
    sig = signal_text(0, 3, 0, 3, 129);
    write_text(signal_path(0, 0), sig, 1);
    free(sig);
    expect_error(g_root, "expected 128 values, found 129", "body_acc_x_train.txt.gz", 3);
    /* an empty line in the middle */
    make_har("empty_row", GZ_DEFAULT);
    sig = signal_text(1, 2, 7, 0, 0);
    char *with_gap = malloc(strlen(sig) + 2);
    strcpy(with_gap, "\n");
    strcat(with_gap, sig);
    write_text(signal_path(1, 7), with_gap, 0);
    free(with_gap);
    free(sig);
    expect_error(g_root, "expected 128 values, found 0", "total_acc_y_test.txt", 1);
    /* a non-number: value 5 of line 3 */
    make_har("nan_row", GZ_DEFAULT);
    sig = signal_text(0, 3, 3, 0, 0);
    char *line3 = sig;
    for (int k = 0; k < 2; k++)
        line3 = strchr(line3, '\n') + 1;
    memcpy(line3 + 4 * 16, "             abc", 16);
    write_text(signal_path(0, 3), sig, 0);
    free(sig);
    expect_error(g_root, "value 5 'abc' on line 3 is not a finite number", "body_gyro_x_train.txt",
                 3);
    /* a number glued to garbage, and inf */
    make_har("glued_row", GZ_DEFAULT);
    sig = signal_text(1, 2, 8, 0, 0);
    memcpy(sig + 16, "   1.5e+000,2.0 ", 16);
    write_text(signal_path(1, 8), sig, 0);
    free(sig);
    expect_error(g_root, "value 2 '1.5e+000,2.0' on line 1", "total_acc_z_test.txt", 1);
    make_har("inf_row", GZ_DEFAULT);
    sig = signal_text(1, 2, 8, 0, 0);
    memcpy(sig + 2049 + 32, "             inf", 16);
    write_text(signal_path(1, 8), sig, 0);
    free(sig);
    expect_error(g_root, "value 3 'inf' on line 2 is not a finite number", "total_acc_z_test.txt",
                 2);
    /* a line over the length limit */
    make_har("huge_row", GZ_DEFAULT);
    size_t big = 70000;
    char *huge = malloc(2049 + big + 3);
    sig = signal_text(0, 1, 6, 0, 0);
    strcpy(huge, sig);
    memset(huge + 2049, ' ', big);
    strcpy(huge + 2049 + big, "1\n");
    free(sig);
    write_text(signal_path(0, 6), huge, 0);
    free(huge);
    expect_error(g_root, "line 2 is longer than 65536 bytes", "total_acc_x_train.txt", 2);
}

static void test_bad_labels(void **state)
{
    (void)state;
    make_har("label_range", GZ_DEFAULT);
    write_text(path_of("train/y_train.txt"), "1\n7\n3\n", 0);
    expect_error(g_root, "label 7 on line 2 is out of range 1..6", "train/y_train.txt", 2);
    write_text(path_of("train/y_train.txt"), "1\n6\n0\n", 0);
    expect_error(g_root, "label 0 on line 3 is out of range 1..6", "train/y_train.txt", 3);
    write_text(path_of("train/y_train.txt"), "1\nx\n3\n", 0);
    expect_error(g_root, "label 'x' on line 2 is not an integer", "train/y_train.txt", 2);
    write_text(path_of("train/y_train.txt"), "1\n2.0\n3\n", 0);
    expect_error(g_root, "label '2.0' on line 2 is not an integer", "train/y_train.txt", 2);
    write_text(path_of("train/y_train.txt"), "1\n99999999999999999999\n3\n", 0);
    expect_error(g_root, "is not an integer", "train/y_train.txt", 2);

    make_har("subject_range", GZ_DEFAULT);
    write_text(path_of("test/subject_test.txt"), "31\n2\n", 1); /* replaces the .gz */
    expect_error(g_root, "subject 31 on line 1 is out of range 1..30", "test/subject_test.txt.gz",
                 1);
    write_text(path_of("test/subject_test.txt"), "2\n0\n", 1);
    expect_error(g_root, "subject 0 on line 2 is out of range 1..30", "subject_test.txt.gz", 2);

    make_har("labels_empty", GZ_DEFAULT);
    write_text(path_of("test/y_test.txt"), "\n\n", 0);
    expect_error(g_root, "holds no labels", "test/y_test.txt", 0);

    make_har("names_bad", GZ_DEFAULT);
    write_text(path_of("activity_labels.txt"), "1 A\n2 B\n9 C\n", 0);
    expect_error(g_root, "activity id 9 is out of range 1..6", "/har/activity_labels.txt", 3);
    write_text(path_of("activity_labels.txt"), "1 A\n2 B\n3 C\n4 D\n5 E\n", 0);
    expect_error(g_root, "activity id 6 is missing", "/har/activity_labels.txt", 0);
    write_text(path_of("activity_labels.txt"), "1 A\n1 B\n", 0);
    expect_error(g_root, "activity id 1 is defined twice", "/har/activity_labels.txt", 2);
    write_text(path_of("activity_labels.txt"), "1 A\n2\n", 0);
    expect_error(g_root, "expected 'id NAME'", "/har/activity_labels.txt", 2);
}

static void test_line_counts(void **state)
{
    (void)state;
    char *sig;
    /* a signal file one line short */
    make_har("count_short", GZ_DEFAULT);
    sig = signal_text(0, 2, 6, 0, 0);
    write_text(signal_path(0, 6), sig, 0);
    free(sig);
    expect_error(g_root, "total_acc_x_train.txt' has 2 lines but '", "total_acc_x_train.txt", 2);
    expect_error(g_root, "y_train.txt' has 3", "total_acc_x_train.txt", -1);
    /* a gzipped signal file with a line too many */
    make_har("count_long", GZ_DEFAULT);
    sig = signal_text(1, 4, 1, 0, 0);
    write_text(signal_path(1, 1), sig, 1);
    free(sig);
    expect_error(g_root, "body_acc_y_test.txt.gz' has 4 lines but '", "body_acc_y_test.txt.gz", 3);
    expect_error(g_root, "test/y_test.txt' has 2", "body_acc_y_test.txt.gz", 3);
    /* subjects: one more, then one fewer */
    make_har("count_subject", GZ_DEFAULT);
    write_text(path_of("train/subject_train.txt"), "1\n2\n3\n4\n", 0);
    expect_error(g_root, "subject_train.txt' has 4 lines but '", "subject_train.txt", 4);
    write_text(path_of("train/subject_train.txt"), "1\n2\n", 0);
    expect_error(g_root, "subject_train.txt' has 2 lines but '", "subject_train.txt", 2);
    expect_error(g_root, "y_train.txt' has 3", "subject_train.txt", 2);
    /* a label file of 100,000 lines (gzipped it would take a few hundred bytes; plain here) over
     * 3-window files: refused
     * by the first signal file, read before the split's arrays are allocated (about 460 MB for
     * 100,000 windows); the subject file, read after the allocation, would name itself instead */
    make_har("count_labels_huge", GZ_DEFAULT);
    char *many = malloc(100000 * 2 + 1);
    assert_non_null(many);
    for (int i = 0; i < 100000; i++)
        memcpy(many + 2 * i, "1\n", 2);
    many[2 * 100000] = '\0';
    write_text(path_of("train/y_train.txt"), many, 0);
    free(many);
    expect_error(g_root, "body_acc_x_train.txt.gz' has 3 lines but '", "body_acc_x_train.txt.gz",
                 3);
    expect_error(g_root, "y_train.txt' has 100000", "body_acc_x_train.txt.gz", 3);
}

static long file_size(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (long)st.st_size;
}

static void read_all(const char *path, unsigned char **data, long *size)
{
    *size = file_size(path);
    *data = malloc((size_t)*size);
    assert_non_null(*data);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fread(*data, 1, (size_t)*size, f), (size_t)*size);
    fclose(f);
}

static void test_bad_gzip(void **state)
{
    (void)state;
    char gz[2048];
    unsigned char *data;
    long size;
    mf_error err;
    mf_dataset *d = NULL;
    char buf[2048];

    /* truncated to half its bytes: a larger file so that some lines come out first */
    make_har("gz_truncated", GZ_DEFAULT);
    snprintf(gz, sizeof gz, "%s.gz", signal_path(0, 4));
    read_all(gz, &data, &size);
    write_bytes(gz, (const char *)data, (size_t)(size / 2), 0);
    free(data);
    assert_int_equal(mf_load_uci_har(g_root, &d, &err), MF_ERR);
    assert_null(d);
    mf_error_format(&err, buf, sizeof buf);
    assert_string_equal(err.file, gz);
    assert_in_range(err.line, 1, 3);
    char want[100];
    snprintf(want, sizeof want, "truncated gzip file: the data end while reading line %d",
             err.line);
    if (!strstr(err.message, want)) fail_msg("'%s' lacks '%s'", buf, want);
    if (!strstr(err.message, "zlib: unexpected end of file")) fail_msg("%s", buf);

    /* truncated inside the gzip header */
    write_bytes(gz, "\x1f\x8b\x08\x00", 4, 0);
    expect_error(g_root, "truncated gzip file: the data end while reading line 1",
                 "body_gyro_y_train.txt.gz", 1);

    /* a bad block type in the deflate data */
    make_har("gz_corrupt", GZ_DEFAULT);
    snprintf(gz, sizeof gz, "%s.gz", signal_path(1, 2));
    read_all(gz, &data, &size);
    unsigned char first = data[10];
    data[10] = 0x07;
    write_bytes(gz, (const char *)data, (size_t)size, 0);
    expect_error(g_root, "corrupt gzip data while reading line 1 (zlib: invalid block type)",
                 "body_acc_z_test.txt.gz", 1);
    /* a wrong CRC in the trailer */
    data[10] = first;
    data[size - 8] ^= 0xff;
    write_bytes(gz, (const char *)data, (size_t)size, 0);
    free(data);
    expect_error(g_root, "(zlib: incorrect data check)", "body_acc_z_test.txt.gz", -1);
    expect_error(g_root, "corrupt gzip data while reading line", "body_acc_z_test.txt.gz", -1);
}

/* ---- the text reader ---- */

static void test_textio(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("textio");
    char path[2048];
    snprintf(path, sizeof path, "%s/a.txt", dir);
    write_text(path, "one\r\n\ntwo  \nthree", 0);
    for (int gz = 0; gz < 2; gz++) {
        if (gz) {
            write_text(path, "one\r\n\ntwo  \nthree", 1);
            strcat(path, ".gz");
        }
        mf_textio t;
        mf_error err;
        assert_int_equal(mf_textio_open(&t, path, 5, &err), MF_OK);
        char *line;
        size_t len;
        const char *want[4] = {"one", "", "two  ", "three"};
        for (int k = 0; k < 4; k++) {
            assert_int_equal(mf_textio_next(&t, &line, &len, &err), 1);
            assert_string_equal(line, want[k]);
            assert_int_equal(len, strlen(want[k]));
            assert_int_equal(t.line, k + 1);
        }
        assert_int_equal(mf_textio_next(&t, &line, &len, &err), 0);
        assert_int_equal(mf_textio_next(&t, &line, &len, &err), 0);
        mf_textio_close(&t);
        mf_textio_close(&t); /* twice is harmless */
        /* a limit of 4 bytes: line 3 ("two  ") is too long */
        assert_int_equal(mf_textio_open(&t, path, 4, &err), MF_OK);
        int r;
        while ((r = mf_textio_next(&t, &line, &len, &err)) == 1) {
        }
        assert_int_equal(r, MF_ERR);
        assert_string_equal(err.file, path);
        assert_int_equal(err.line, 3);
        assert_non_null(strstr(err.message, "line 3 is longer than 4 bytes"));
        mf_textio_close(&t);
    }
    /* many long lines across buffer refills */
    snprintf(path, sizeof path, "%s/long.txt", dir);
    size_t n_lines = 3000, width = 1000;
    char *text = malloc(n_lines * (width + 1) + 1);
    for (size_t i = 0; i < n_lines; i++) {
        memset(text + i * (width + 1), 'a' + (int)(i % 26), width);
        text[i * (width + 1) + width] = '\n';
    }
    text[n_lines * (width + 1)] = '\0';
    write_text(path, text, 1);
    free(text);
    strcat(path, ".gz");
    mf_textio t;
    mf_error err;
    assert_int_equal(mf_textio_open(&t, path, width, &err), MF_OK);
    char *line;
    size_t len, count = 0;
    int r;
    while ((r = mf_textio_next(&t, &line, &len, &err)) == 1) {
        assert_int_equal(len, width);
        assert_int_equal(line[0], 'a' + (int)(count % 26));
        assert_int_equal(line[width - 1], 'a' + (int)(count % 26));
        count++;
    }
    assert_int_equal(r, 0);
    assert_int_equal(count, n_lines);
    mf_textio_close(&t);
    /* the same file cut to half its bytes: intact lines, then an error at the line reached */
    unsigned char *data;
    long size;
    read_all(path, &data, &size);
    write_bytes(path, (const char *)data, (size_t)(size / 2), 0);
    free(data);
    assert_int_equal(mf_textio_open(&t, path, width, &err), MF_OK);
    count = 0;
    while ((r = mf_textio_next(&t, &line, &len, &err)) == 1) {
        assert_int_equal(len, width);
        assert_int_equal(line[0], 'a' + (int)(count % 26));
        count++;
    }
    assert_int_equal(r, MF_ERR);
    assert_true(count > 100 && count < n_lines);
    assert_int_equal(err.line, (int)count + 1);
    assert_string_equal(err.file, path);
    char want[120];
    snprintf(want, sizeof want,
             "truncated gzip file: the data end while reading line %d (zlib: unexpected end of "
             "file)",
             (int)count + 1);
    assert_string_equal(err.message, want);
    mf_textio_close(&t);
    /* empty file, NUL byte, missing file, folder */
    snprintf(path, sizeof path, "%s/empty.txt", dir);
    write_text(path, "", 0);
    assert_int_equal(mf_textio_open(&t, path, 10, &err), MF_OK);
    assert_int_equal(mf_textio_next(&t, &line, &len, &err), 0);
    mf_textio_close(&t);
    snprintf(path, sizeof path, "%s/nul.txt", dir);
    write_bytes(path, "ok\nbad\0x\n", 9, 0);
    assert_int_equal(mf_textio_open(&t, path, 10, &err), MF_OK);
    assert_int_equal(mf_textio_next(&t, &line, &len, &err), 1);
    assert_int_equal(mf_textio_next(&t, &line, &len, &err), MF_ERR);
    assert_int_equal(err.line, 2);
    assert_non_null(strstr(err.message, "NUL byte"));
    mf_textio_close(&t);
    snprintf(path, sizeof path, "%s/none.txt", dir);
    assert_int_equal(mf_textio_open(&t, path, 10, &err), MF_ERR);
    assert_non_null(strstr(err.message, "No such file"));
    assert_string_equal(err.file, path);
    mf_textio_close(&t);
    assert_int_equal(mf_textio_open(&t, dir, 10, &err), MF_ERR);
    assert_non_null(strstr(err.message, "not a regular file"));
    mf_textio_close(&t);
    /* find: .txt first, then .txt.gz */
    char base[1200], found[2048];
    snprintf(base, sizeof base, "%s/a.txt", dir);
    assert_int_equal(mf_file_find_gz(base, found, sizeof found), 1);
    assert_string_equal(found, base);
    assert_int_equal(remove(base), 0);
    assert_int_equal(mf_file_find_gz(base, found, sizeof found), 1);
    assert_non_null(strstr(found, "a.txt.gz"));
    snprintf(base, sizeof base, "%s/zzz.txt", dir);
    assert_int_equal(mf_file_find_gz(base, found, sizeof found), 0);
    assert_int_equal(mf_file_find_gz(base, found, 8), 0);
}

/* ---- the reconstructed data set ---- */

static void test_reconstructed(void **state)
{
    (void)state;
    const char *env = getenv("MF_SKIP_REAL_DATA");
    if (env && env[0] && strcmp(env, "0") != 0) skip();
    const char *root = MF_SOURCE_DIR "/../shared/data/uci-har/reconstructed";
    if (!mf_file_is_dir(root)) skip();
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    mf_dataset *d = NULL;
    mf_error err;
    if (mf_load_uci_har(root, &d, &err)) fail_msg("%s:%d: %s", err.file, err.line, err.message);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    print_message("UCI-HAR reconstructed: %d train + %d test windows loaded in %.2f s\n",
                  d->n_train, d->n_test, secs);
    assert_int_equal(d->n_train, 7415);
    assert_int_equal(d->n_test, 2996);
    const int want_train[6] = {1226, 1073, 987, 1293, 1423, 1413};
    const int want_test[6] = {496, 471, 420, 508, 556, 545};
    int got_train[6] = {0}, got_test[6] = {0}, subjects[31] = {0};
    for (int i = 0; i < d->n_train; i++) {
        assert_in_range(d->y_train[i], 0, 5);
        assert_in_range(d->group_train[i], 1, 30);
        got_train[d->y_train[i]]++;
        subjects[d->group_train[i]] = 1;
    }
    for (int i = 0; i < d->n_test; i++) {
        assert_in_range(d->y_test[i], 0, 5);
        got_test[d->y_test[i]]++;
    }
    for (int k = 0; k < 6; k++) {
        assert_int_equal(got_train[k], want_train[k]);
        assert_int_equal(got_test[k], want_test[k]);
    }
    int n_subjects = 0;
    for (int s = 1; s <= 30; s++)
        n_subjects += subjects[s];
    assert_int_equal(n_subjects, 21);
    /* test subjects are not kept in the data set: read them back, disjoint from train */
    int test_subjects[31] = {0}, n_test_subjects = 0;
    mf_textio t;
    assert_int_equal(mf_textio_open(&t,
                                    MF_SOURCE_DIR
                                    "/../shared/data/uci-har/reconstructed/test/subject_test.txt",
                                    64, &err),
                     MF_OK);
    char *line;
    size_t len;
    while (mf_textio_next(&t, &line, &len, &err) == 1) {
        int s = atoi(line);
        assert_in_range(s, 1, 30);
        assert_int_equal(subjects[s], 0);
        if (!test_subjects[s]) n_test_subjects++;
        test_subjects[s] = 1;
    }
    mf_textio_close(&t);
    assert_int_equal(n_test_subjects, 9);
    /* class names from ../UCI HAR Dataset/activity_labels.txt */
    assert_string_equal(d->class_names[0], "WALKING");
    assert_string_equal(d->class_names[5], "LAYING");
    /* channel order: total_acc x (channel 6) has mean about 0.806 g, body_acc means near 0 */
    double sum[CH] = {0};
    size_t per = (size_t)STEPS * CH;
    for (int i = 0; i < d->n_train; i++)
        for (int t2 = 0; t2 < STEPS; t2++)
            for (int c = 0; c < CH; c++)
                sum[c] += d->x_train[i * per + (size_t)t2 * CH + c];
    double n_values = (double)d->n_train * STEPS;
    assert_true(fabs(sum[6] / n_values - 0.806) < 0.01);
    assert_true(fabs(sum[7] / n_values - 0.028) < 0.01);
    assert_true(fabs(sum[8] / n_values - 0.086) < 0.01);
    for (int c = 0; c < 3; c++)
        assert_true(fabs(sum[c] / n_values) < 1e-3);
    mf_dataset_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_values), cmocka_unit_test(test_variants),
        cmocka_unit_test(test_class_names),  cmocka_unit_test(test_missing),
        cmocka_unit_test(test_bad_rows),     cmocka_unit_test(test_bad_labels),
        cmocka_unit_test(test_line_counts),  cmocka_unit_test(test_bad_gzip),
        cmocka_unit_test(test_textio),       cmocka_unit_test(test_reconstructed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
