/* Image datasets (datasets/idx.c, mnist.c, gtsrb.c, png_folder.c): IDX reading (plain and gzip)
 * with every error it reports, MNIST padding and resizing, GTSRB annotations and groups, PNG
 * folders decoded from every colour type, and the real datasets when ../shared/data is there
 * (set MF_TEST_SKIP_REAL=1 to skip those, e.g. under valgrind). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <png.h>
#include <zlib.h>

#include "mf_datasets.h"
#include "testutil.h"

/* ---- helpers ---- */

static char g_path[4096];

static const char *join(const char *dir, const char *name)
{
    int w = snprintf(g_path, sizeof g_path, "%s/%s", dir, name);
    assert_true(w > 0 && (size_t)w < sizeof g_path);
    return g_path;
}

static void write_raw(const char *path, const void *data, size_t n, int gz)
{
    if (gz) {
        gzFile f = gzopen(path, "wb9");
        assert_non_null(f);
        if (n) assert_int_equal(gzwrite(f, data, (unsigned)n), (int)n);
        assert_int_equal(gzclose(f), Z_OK);
    } else {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        if (n) assert_int_equal(fwrite(data, 1, n, f), n);
        fclose(f);
    }
}

/* Header + data of an IDX file of unsigned bytes, in a buffer with 16 spare bytes at the end. */
static uint8_t *idx_bytes(int ndim, const int *dims, const uint8_t *data, size_t *len)
{
    size_t total = 1;
    for (int i = 0; i < ndim; i++)
        total *= (size_t)dims[i];
    size_t h = 4 + 4 * (size_t)ndim;
    uint8_t *b = malloc(h + total + 16);
    assert_non_null(b);
    b[0] = b[1] = 0;
    b[2] = 8;
    b[3] = (uint8_t)ndim;
    for (int i = 0; i < ndim; i++) {
        uint32_t d = (uint32_t)dims[i];
        b[4 + 4 * i] = (uint8_t)(d >> 24);
        b[5 + 4 * i] = (uint8_t)(d >> 16);
        b[6 + 4 * i] = (uint8_t)(d >> 8);
        b[7 + 4 * i] = (uint8_t)d;
    }
    memcpy(b + h, data, total);
    *len = h + total;
    return b;
}

static void write_idx(const char *path, int ndim, const int *dims, const uint8_t *data, int gz)
{
    size_t len;
    uint8_t *b = idx_bytes(ndim, dims, data, &len);
    write_raw(path, b, len, gz);
    free(b);
}

static void expect_error(int rc, const mf_error *err, const char *file, const char *part)
{
    char buf[2048];
    mf_error_format(err, buf, sizeof buf);
    if (getenv("MF_TEST_VERBOSE")) fprintf(stderr, "    expected error: %s\n", buf);
    if (rc != MF_ERR || (file && strcmp(err->file, file) != 0) ||
        (part && !strstr(err->message, part)))
        fprintf(stderr, "rc %d, error: %s\n  expected file '%s' and message part '%s'\n", rc, buf,
                file ? file : "", part ? part : "");
    assert_int_equal(rc, MF_ERR);
    if (file) assert_string_equal(err->file, file);
    if (part) assert_non_null(strstr(err->message, part));
}

static void expect_ok(int rc, const mf_error *err)
{
    if (rc != MF_OK) {
        char buf[2048];
        fprintf(stderr, "unexpected error: %s\n", mf_error_format(err, buf, sizeof buf));
    }
    assert_int_equal(rc, MF_OK);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* ---- IDX ---- */

static void test_idx_plain_and_gzip(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("test_images_idx");
    int dims[3] = {3, 4, 5};
    uint8_t data[60];
    for (int i = 0; i < 60; i++)
        data[i] = (uint8_t)(i * 37 + 11);
    char plain[4096], gz[4096];
    snprintf(plain, sizeof plain, "%s/a-idx3-ubyte", dir);
    snprintf(gz, sizeof gz, "%s/a-idx3-ubyte.gz", dir);
    write_idx(plain, 3, dims, data, 0);
    write_idx(gz, 3, dims, data, 1);
    const char *paths[2] = {plain, gz};
    for (int k = 0; k < 2; k++) {
        mf_error err;
        mf_error_clear(&err);
        int nd, d[4];
        uint8_t *out = NULL;
        expect_ok(mf_idx_read(paths[k], 3, &nd, d, &out, &err), &err);
        assert_int_equal(nd, 3);
        assert_int_equal(d[0], 3);
        assert_int_equal(d[1], 4);
        assert_int_equal(d[2], 5);
        assert_memory_equal(out, data, 60);
        free(out);
        /* more dimensions than allowed */
        expect_error(mf_idx_read(paths[k], 2, &nd, d, &out, &err), &err, paths[k], "3 dimensions");
        assert_int_equal(err.offset, 3);
        assert_null(out);
    }
    /* a 1-D file with a single element */
    int one = 1;
    uint8_t v = 200;
    write_idx(plain, 1, &one, &v, 0);
    mf_error err;
    int nd, d[4];
    uint8_t *out = NULL;
    expect_ok(mf_idx_read(plain, 1, &nd, d, &out, &err), &err);
    assert_int_equal(nd, 1);
    assert_int_equal(d[0], 1);
    assert_int_equal(out[0], 200);
    free(out);
}

/* Reads the IDX file path in a child whose address space may grow by 256 MB only, so that
 * allocating a header's declared 822 MB fails ("out of memory") where the growing buffer does
 * not; returns the child's exit status: 0 when the read was refused with "file ends", 1 with
 * another error, 2 when it succeeded. Not under AddressSanitizer, whose shadow memory takes
 * terabytes of address space from the start. */
#if !defined(__SANITIZE_ADDRESS__)
static int idx_read_with_bounded_memory(const char *path)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        long pages = 0;
        FILE *statm = fopen("/proc/self/statm", "r");
        if (!statm || fscanf(statm, "%ld", &pages) != 1) _exit(3);
        fclose(statm);
        struct rlimit lim;
        lim.rlim_cur = lim.rlim_max = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + (256u << 20);
        if (setrlimit(RLIMIT_AS, &lim)) _exit(3);
        mf_error err;
        mf_error_clear(&err);
        int nd, d[4];
        uint8_t *out = NULL;
        if (mf_idx_read(path, 1, &nd, d, &out, &err) == MF_OK) _exit(2);
        _exit(strstr(err.message, "file ends") ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}
#endif

/* A header's declared size is not allocated before the data arrive (fuzz/corpus/idx/
 * oom_declared_822mb: 14 bytes declaring 822 MB made mf_idx_read allocate 822 MB before
 * noticing the file ends); the buffer grows with the data, across several doublings. */
static void test_idx_declared_size_not_allocated(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("test_images_idx_declared");
    mf_error err;
    int nd, d[4];
    uint8_t *out = NULL;
    char path[4096];
    snprintf(path, sizeof path, "%s/x.idx", dir);
    const uint8_t lying[14] = {0, 0, 8, 1, 0x31, 0, 0, 0, 5, 1, 2, 3, 4, 5};
    write_raw(path, lying, sizeof lying, 0);
    expect_error(mf_idx_read(path, 1, &nd, d, &out, &err), &err, path,
                 "file ends at byte offset 14, expected 822083584 bytes of data after the 8-byte "
                 "header");
    assert_int_equal(err.offset, 14);
    assert_null(out);
#if !defined(__SANITIZE_ADDRESS__)
    /* the same refusal with 256 MB of address space to spare: the 822 MB were never asked for */
    assert_int_equal(idx_read_with_bounded_memory(path), 0);
#endif

    /* 2.5 MiB of data: read whole, plain and gzip; cut at 1.5 MiB: the offset where it ends */
    int dims[2] = {5, 512 * 1024};
    size_t total = (size_t)dims[0] * (size_t)dims[1];
    uint8_t *data = malloc(total);
    assert_non_null(data);
    for (size_t i = 0; i < total; i++)
        data[i] = (uint8_t)(i * 2654435761u >> 13);
    size_t len;
    uint8_t *b = idx_bytes(2, dims, data, &len);
    for (int gz = 0; gz < 2; gz++) {
        write_raw(path, b, len, gz);
        expect_ok(mf_idx_read(path, 2, &nd, d, &out, &err), &err);
        assert_int_equal(d[1], dims[1]);
        assert_memory_equal(out, data, total);
        free(out);
        out = NULL;
        write_raw(path, b, 12 + 3 * 512 * 1024, gz);
        expect_error(mf_idx_read(path, 2, &nd, d, &out, &err), &err, path,
                     "file ends at byte offset 1572876, expected 2621440 bytes of data");
        assert_int_equal(err.offset, 1572876);
        assert_null(out);
    }
    free(b);
    free(data);
}

static void test_idx_errors(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("test_images_idx_errors");
    mf_error err;
    int nd, d[4];
    uint8_t *out = NULL;
    char path[4096];
    snprintf(path, sizeof path, "%s/x.idx", dir);

    /* bad magic: float type 0x0D */
    const uint8_t bad[12] = {0, 0, 0x0d, 1, 0, 0, 0, 4, 1, 2, 3, 4};
    write_raw(path, bad, sizeof bad, 0);
    expect_error(mf_idx_read(path, 4, &nd, d, &out, &err), &err, path,
                 "not an IDX file of unsigned bytes: magic 0x00000d01");
    assert_int_equal(err.offset, 0);
    /* the same gzipped */
    write_raw(path, bad, sizeof bad, 1);
    expect_error(mf_idx_read(path, 4, &nd, d, &out, &err), &err, path, "magic 0x00000d01");

    /* 0 dimensions, a zero dimension, a size over the limit */
    const uint8_t nodim[4] = {0, 0, 8, 0};
    write_raw(path, nodim, sizeof nodim, 0);
    expect_error(mf_idx_read(path, 4, &nd, d, &out, &err), &err, path, "0 dimensions");
    const uint8_t zero[12] = {0, 0, 8, 2, 0, 0, 0, 3, 0, 0, 0, 0};
    write_raw(path, zero, sizeof zero, 0);
    expect_error(mf_idx_read(path, 4, &nd, d, &out, &err), &err, path, "dimension 1 is 0");
    assert_int_equal(err.offset, 8);
    const uint8_t huge[16] = {0, 0, 8, 3, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 2};
    write_raw(path, huge, sizeof huge, 0);
    expect_error(mf_idx_read(path, 4, &nd, d, &out, &err), &err, path, "limit");
    assert_int_equal(err.offset, 8);

    /* truncated header */
    const uint8_t shorthead[10] = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0};
    write_raw(path, shorthead, sizeof shorthead, 0);
    expect_error(mf_idx_read(path, 4, &nd, d, &out, &err), &err, path,
                 "file ends at byte offset 10");
    assert_int_equal(err.offset, 10);
    write_raw(path, shorthead, 2, 0);
    expect_error(mf_idx_read(path, 4, &nd, d, &out, &err), &err, path,
                 "file ends at byte offset 2");

    /* truncated data, plain and inside a complete gzip stream */
    int dims[3] = {2, 3, 3};
    uint8_t data[18];
    for (int i = 0; i < 18; i++)
        data[i] = (uint8_t)i;
    size_t len;
    uint8_t *b = idx_bytes(3, dims, data, &len);
    for (int gz = 0; gz < 2; gz++) {
        write_raw(path, b, len - 8, gz);
        expect_error(mf_idx_read(path, 4, &nd, d, &out, &err), &err, path,
                     "file ends at byte offset 26, expected 18 bytes of data");
        assert_int_equal(err.offset, 26);
        assert_null(out);
        /* trailing garbage */
        b[len] = 0x55;
        write_raw(path, b, len + 1, gz);
        expect_error(mf_idx_read(path, 4, &nd, d, &out, &err), &err, path, "trailing data");
        assert_int_equal(err.offset, 34);
        write_raw(path, b, len, gz);
        expect_ok(mf_idx_read(path, 4, &nd, d, &out, &err), &err);
        free(out);
        out = NULL;
    }
    free(b);

    /* truncated gzip: a compressed stream cut short */
    int big[2] = {100, 100};
    uint8_t *pix = malloc(10000);
    assert_non_null(pix);
    uint32_t s = 12345;
    for (int i = 0; i < 10000; i++) {
        s = s * 1103515245u + 12345u;
        pix[i] = (uint8_t)(i % 7 == 0 ? (int)(s >> 24) : i / 100); /* partly compressible */
    }
    write_idx(path, 2, big, pix, 1);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(truncate(path, st.st_size / 2), 0);
    expect_error(mf_idx_read(path, 4, &nd, d, &out, &err), &err, path, "truncated gzip");
    assert_non_null(strstr(err.message, "zlib: "));
    assert_true(err.offset > 0);
    /* only the gzip trailer (CRC, length) missing */
    write_idx(path, 2, big, pix, 1);
    assert_int_equal(truncate(path, st.st_size - 4), 0);
    expect_error(mf_idx_read(path, 4, &nd, d, &out, &err), &err, path, "truncated gzip");

    /* corrupt gzip: an invalid deflate block type, then a bad CRC */
    write_idx(path, 2, big, pix, 1);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, 10, SEEK_SET);
    fputc(0xff, f);
    fclose(f);
    expect_error(mf_idx_read(path, 4, &nd, d, &out, &err), &err, path, "corrupt gzip data");
    assert_non_null(strstr(err.message, "zlib: "));
    write_idx(path, 2, big, pix, 1);
    f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, -8, SEEK_END);
    fputc(0x00, f);
    fputc(0x00, f);
    fclose(f);
    expect_error(mf_idx_read(path, 4, &nd, d, &out, &err), &err, path, "incorrect data check");
    free(pix);

    /* missing file, a folder */
    expect_error(mf_idx_read(join(dir, "nope"), 4, &nd, d, &out, &err), &err, NULL, "cannot open");
    expect_error(mf_idx_read(dir, 4, &nd, d, &out, &err), &err, dir, "not a regular file");
    assert_null(out);
}

/* ---- MNIST ---- */

static uint8_t mnist_pixel(int i, int y, int x)
{
    return (uint8_t)((i * 31 + y * 28 + x) % 256);
}

/* n images with mnist_pixel values (or the constant c when c >= 0) and labels i % 10. */
static void write_mnist_split(const char *dir, const char *prefix, int n, int gz, int c)
{
    uint8_t *img = malloc((size_t)n * 784), *lab = malloc((size_t)n);
    assert_non_null(img);
    assert_non_null(lab);
    for (int i = 0; i < n; i++) {
        lab[i] = (uint8_t)(i % 10);
        for (int y = 0; y < 28; y++)
            for (int x = 0; x < 28; x++)
                img[i * 784 + y * 28 + x] = c >= 0 ? (uint8_t)c : mnist_pixel(i, y, x);
    }
    char name[4096];
    int dims[3] = {n, 28, 28};
    snprintf(name, sizeof name, "%s/%s-images-idx3-ubyte%s", dir, prefix, gz ? ".gz" : "");
    write_idx(name, 3, dims, img, gz);
    snprintf(name, sizeof name, "%s/%s-labels-idx1-ubyte%s", dir, prefix, gz ? ".gz" : "");
    write_idx(name, 1, dims, lab, gz);
    free(img);
    free(lab);
}

static void test_mnist_padding(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("test_images_mnist");
    write_mnist_split(dir, "train", 12, 1, -1);
    write_mnist_split(dir, "t10k", 5, 0, -1); /* plain names accepted too */
    mf_error err;
    mf_dataset *d = NULL;
    expect_ok(mf_load_mnist(dir, 0, &d, &err), &err);
    assert_int_equal(d->n_train, 12);
    assert_int_equal(d->n_test, 5);
    assert_int_equal(d->n_val, 0);
    assert_int_equal(d->classes, 10);
    assert_int_equal(d->shape.rank, 3);
    assert_int_equal(d->shape.dim[0], 32);
    assert_int_equal(d->shape.dim[1], 32);
    assert_int_equal(d->shape.dim[2], 1);
    assert_null(d->group_train);
    assert_non_null(d->class_names);
    assert_string_equal(d->class_names[0], "0");
    assert_string_equal(d->class_names[9], "9");
    for (int split = 0; split < 2; split++) {
        int n = split ? d->n_test : d->n_train;
        const float *x = split ? d->x_test : d->x_train;
        const int *y = split ? d->y_test : d->y_train;
        for (int i = 0; i < n; i++) {
            assert_int_equal(y[i], i % 10);
            const float *s = x + (size_t)i * 1024;
            for (int r = 0; r < 32; r++)
                for (int c = 0; c < 32; c++) {
                    float v = s[r * 32 + c];
                    if (r < 2 || r >= 30 || c < 2 || c >= 30)
                        assert_true(v == 0.0f);
                    else
                        assert_true(v == mnist_pixel(i, r - 2, c - 2) / 255.0f);
                }
        }
    }
    /* pixel (y, x) lands at (y + 2, x + 2): spot checks */
    assert_true(d->x_train[2 * 32 + 2] == mnist_pixel(0, 0, 0) / 255.0f);
    assert_true(d->x_train[1024 * 3 + 29 * 32 + 29] == mnist_pixel(3, 27, 27) / 255.0f);
    assert_true(d->x_train[1024 * 3 + 5 * 32 + 9] == mnist_pixel(3, 3, 7) / 255.0f);
    mf_dataset_free(d);
}

static void test_mnist_resize(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("test_images_mnist_resize");
    write_mnist_split(dir, "train", 3, 1, 200);
    /* test split: a horizontal ramp 9·x */
    uint8_t img[2 * 784], lab[2] = {4, 7};
    for (int i = 0; i < 2; i++)
        for (int y = 0; y < 28; y++)
            for (int x = 0; x < 28; x++)
                img[i * 784 + y * 28 + x] = (uint8_t)(9 * x);
    int dims[3] = {2, 28, 28};
    write_idx(join(dir, "t10k-images-idx3-ubyte.gz"), 3, dims, img, 1);
    write_idx(join(dir, "t10k-labels-idx1-ubyte.gz"), 1, dims, lab, 1);
    mf_error err;
    mf_dataset *d = NULL;
    expect_ok(mf_load_mnist(dir, 1, &d, &err), &err);
    assert_int_equal(d->shape.dim[0], 32);
    /* a constant image stays exactly constant, borders included */
    for (size_t k = 0; k < 3 * 1024; k++)
        assert_true(d->x_train[k] == 200 / 255.0f);
    /* half-pixel centres: output column c samples input x = (c + 0.5)·28/32 − 0.5, clamped */
    for (int i = 0; i < 2; i++)
        for (int r = 0; r < 32; r++)
            for (int c = 0; c < 32; c++) {
                double sx = (c + 0.5) * 28.0 / 32.0 - 0.5;
                if (sx < 0) sx = 0;
                if (sx > 27) sx = 27;
                assert_float_equal(d->x_test[i * 1024 + r * 32 + c], 9.0 * sx / 255.0, 1e-5);
            }
    assert_float_equal(d->x_test[0], 0.0, 1e-7);
    assert_int_equal(d->y_test[1], 7);
    mf_dataset_free(d);
}

static void test_mnist_errors(void **state)
{
    (void)state;
    mf_error err;
    mf_dataset *d = NULL;
    char img[4096], lab[4096];

    /* count mismatch: the error names both files */
    const char *dir = tu_tmpdir("test_images_mnist_err1");
    write_mnist_split(dir, "train", 6, 1, -1);
    write_mnist_split(dir, "t10k", 4, 1, -1);
    uint8_t labels[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1};
    int n5 = 5;
    snprintf(lab, sizeof lab, "%s/t10k-labels-idx1-ubyte.gz", dir);
    snprintf(img, sizeof img, "%s/t10k-images-idx3-ubyte.gz", dir);
    write_idx(lab, 1, &n5, labels, 1);
    expect_error(mf_load_mnist(dir, 0, &d, &err), &err, lab, "holds 5 labels");
    assert_non_null(strstr(err.message, img));
    assert_non_null(strstr(err.message, "4 images"));
    assert_null(d);

    /* label out of range: file, byte offset and value */
    int n4 = 4;
    labels[3] = 10;
    write_idx(lab, 1, &n4, labels, 1);
    expect_error(mf_load_mnist(dir, 0, &d, &err), &err, lab, "label 10 of sample 3");
    assert_int_equal(err.offset, 11);
    assert_null(d);

    /* images of the wrong size */
    dir = tu_tmpdir("test_images_mnist_err2");
    write_mnist_split(dir, "train", 2, 1, -1);
    write_mnist_split(dir, "t10k", 2, 1, -1);
    uint8_t pix[2 * 27 * 28] = {0};
    int dims[3] = {2, 27, 28};
    snprintf(img, sizeof img, "%s/train-images-idx3-ubyte.gz", dir);
    write_idx(img, 3, dims, pix, 1);
    expect_error(mf_load_mnist(dir, 0, &d, &err), &err, img, "28 x 28");

    /* a bad IDX file surfaces with its own message */
    write_raw(img, "not an idx", 10, 1);
    expect_error(mf_load_mnist(dir, 0, &d, &err), &err, img, "not an IDX file");

    /* missing files and folders */
    dir = tu_tmpdir("test_images_mnist_err3");
    write_mnist_split(dir, "train", 2, 1, -1);
    expect_error(mf_load_mnist(dir, 0, &d, &err), &err, NULL, "t10k-images-idx3-ubyte");
    expect_error(mf_load_mnist(join(dir, "missing"), 0, &d, &err), &err, NULL, "does not exist");
    assert_null(d);
}

/* ---- GTSRB ---- */

#define GT_NTRAIN 7
#define GT_NTEST  3
static const uint8_t gt_train_labels[GT_NTRAIN] = {0, 0, 0, 1, 1, 42, 42};
static const uint8_t gt_test_labels[GT_NTEST] = {5, 0, 42};
static const int gt_groups[GT_NTRAIN] = {0, 0, 1, 100000, 100000, 4200003, 4200003};

static const char *gt_train_csv =
    "index;Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId\n"
    "6;00042/00003_00001.ppm;40;41;5;5;35;36;42\n"
    "0;00000/00000_00000.ppm;29;30;5;6;24;25;0\n"
    "1;00000/00000_00001.ppm;30;30;5;5;25;25;0\n"
    "2;00000/00001_00000.ppm;31;30;5;5;26;25;0\n"
    "3;00001/00000_00000.ppm;50;52;6;6;44;46;1\n"
    "\n"
    "4;00001/00000_00001.ppm;52;54;6;6;46;48;1\n"
    "5;00042/00003_00000.ppm;38;40;5;5;33;35;42\n";

/* columns in another order: found by name */
static const char *gt_test_csv =
    "ClassId;index;Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2\r\n"
    "5;0;00000.ppm;53;54;6;5;48;49\r\n"
    "0;1;00001.ppm;42;45;5;5;36;40\r\n"
    "42;2;00002.ppm;48;52;6;6;43;47\r\n";

static uint8_t gt_pixel(int split, int n, int k)
{
    return (uint8_t)((split * 1000 + n * 3072 + k * 7) % 251);
}

static void write_gtsrb(const char *dir)
{
    int n[2] = {GT_NTRAIN, GT_NTEST};
    const char *pre[2] = {"train", "test"};
    const uint8_t *labels[2] = {gt_train_labels, gt_test_labels};
    char path[4096];
    for (int s = 0; s < 2; s++) {
        uint8_t *img = malloc((size_t)n[s] * 3072);
        assert_non_null(img);
        for (int i = 0; i < n[s]; i++)
            for (int k = 0; k < 3072; k++)
                img[i * 3072 + k] = gt_pixel(s, i, k);
        int dims[4] = {n[s], 32, 32, 3};
        snprintf(path, sizeof path, "%s/%s-images-idx4-ubyte.gz", dir, pre[s]);
        write_idx(path, 4, dims, img, 1);
        snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte%s", dir, pre[s], s ? "" : ".gz");
        write_idx(path, 1, dims, labels[s], !s);
        free(img);
    }
    tu_write_file(dir, "train-annotations.csv", gt_train_csv);
    snprintf(path, sizeof path, "%s/test-annotations.csv.gz", dir);
    write_raw(path, gt_test_csv, strlen(gt_test_csv), 1);
}

static void test_gtsrb_small(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("test_images_gtsrb");
    write_gtsrb(dir);
    mf_error err;
    mf_dataset *d = NULL;
    expect_ok(mf_load_gtsrb(dir, &d, &err), &err);
    assert_int_equal(d->n_train, GT_NTRAIN);
    assert_int_equal(d->n_test, GT_NTEST);
    assert_int_equal(d->classes, 43);
    assert_int_equal(d->shape.rank, 3);
    assert_int_equal(d->shape.dim[0], 32);
    assert_int_equal(d->shape.dim[1], 32);
    assert_int_equal(d->shape.dim[2], 3);
    assert_non_null(d->class_names);
    assert_string_equal(d->class_names[0], "Speed limit (20km/h)");
    assert_string_equal(d->class_names[6], "End of speed limit (80km/h)");
    assert_string_equal(d->class_names[10], "No passing for vehicles over 3.5 metric tons");
    assert_string_equal(d->class_names[30], "Beware of ice/snow");
    assert_string_equal(d->class_names[42], "End of no passing by vehicles over 3.5 metric tons");
    assert_non_null(d->group_train);
    for (int i = 0; i < GT_NTRAIN; i++) {
        assert_int_equal(d->y_train[i], gt_train_labels[i]);
        assert_int_equal(d->group_train[i], gt_groups[i]);
        for (int k = 0; k < 3072; k++)
            assert_true(d->x_train[i * 3072 + k] == gt_pixel(0, i, k) / 255.0f);
    }
    for (int i = 0; i < GT_NTEST; i++) {
        assert_int_equal(d->y_test[i], gt_test_labels[i]);
        for (int k = 0; k < 3072; k++)
            assert_true(d->x_test[i * 3072 + k] == gt_pixel(1, i, k) / 255.0f);
    }
    /* pixel (n, y, x, c) is byte ((n·32 + y)·32 + x)·3 + c of the data: HWC kept */
    assert_true(d->x_train[((1 * 32 + 5) * 32 + 7) * 3 + 2] ==
                gt_pixel(0, 1, (5 * 32 + 7) * 3 + 2) / 255.0f);
    mf_dataset_free(d);
}

/* A fresh fixture with the train annotations replaced by csv (NULL: kept) and the test
 * annotations by test_csv (NULL: kept); returns the loader's result. */
static int gtsrb_with(const char *csv, const char *test_csv, char *dir_out, mf_error *err)
{
    const char *dir = tu_tmpdir("test_images_gtsrb_err");
    snprintf(dir_out, 4096, "%s", dir);
    write_gtsrb(dir_out);
    if (csv) tu_write_file(dir_out, "train-annotations.csv", csv);
    if (test_csv) {
        char path[4200];
        snprintf(path, sizeof path, "%s/test-annotations.csv.gz", dir_out);
        write_raw(path, test_csv, strlen(test_csv), 1);
    }
    mf_dataset *d = NULL;
    int rc = mf_load_gtsrb(dir_out, &d, err);
    assert_true(rc == MF_ERR ? d == NULL : d != NULL);
    mf_dataset_free(d);
    return rc;
}

static void test_gtsrb_errors(void **state)
{
    (void)state;
    mf_error err;
    char dir[4096], csv[4200], tcsv[4200];
    const char *head = "index;Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId\n";
    char text[4096];

    /* missing column */
    int rc = gtsrb_with("index;Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2\n"
                        "0;00000/00000_00000.ppm;29;30;5;6;24;25\n",
                        NULL, dir, &err);
    snprintf(csv, sizeof csv, "%s/train-annotations.csv", dir);
    expect_error(rc, &err, csv, "column 'ClassId' is missing");
    assert_int_equal(err.line, 1);
    rc = gtsrb_with("Index;Filename;ClassId\n", NULL, dir, &err);
    expect_error(rc, &err, csv, "column 'index' is missing");

    /* ClassId differs from the IDX label (line 3) */
    snprintf(text, sizeof text,
             "%s0;00000/00000_00000.ppm;29;30;5;6;24;25;0\n1;00000/00000_00001.ppm;30;30;5;5;25;"
             "25;3\n",
             head);
    rc = gtsrb_with(text, NULL, dir, &err);
    expect_error(rc, &err, csv, "ClassId '3' of index 1 differs from its label 0");
    assert_int_equal(err.line, 3);

    /* wrong number of fields (line 2) */
    snprintf(text, sizeof text, "%s0;00000/00000_00000.ppm;29;30;5;6;24;0\n", head);
    rc = gtsrb_with(text, NULL, dir, &err);
    expect_error(rc, &err, csv, "8 ;-separated fields, the header has 9");
    assert_int_equal(err.line, 2);

    /* index out of range, duplicated, a bad filename, a class folder that is not the ClassId */
    snprintf(text, sizeof text, "%s7;00000/00000_00000.ppm;29;30;5;6;24;25;0\n", head);
    rc = gtsrb_with(text, NULL, dir, &err);
    expect_error(rc, &err, csv, "index '7' is not a sample number from 0 to 6");
    assert_int_equal(err.line, 2);
    snprintf(text, sizeof text,
             "%s0;00000/00000_00000.ppm;1;1;0;0;1;1;0\n0;00000/00000_00000.ppm;1;1;0;0;1;1;0\n",
             head);
    rc = gtsrb_with(text, NULL, dir, &err);
    expect_error(rc, &err, csv, "appears twice");
    assert_int_equal(err.line, 3);
    snprintf(text, sizeof text, "%s0;00000.ppm;1;1;0;0;1;1;0\n", head);
    rc = gtsrb_with(text, NULL, dir, &err);
    expect_error(rc, &err, csv, "CCCCC/TTTTT_IIIII.ppm");
    snprintf(text, sizeof text, "%s0;00001/00000_00000.ppm;1;1;0;0;1;1;0\n", head);
    rc = gtsrb_with(text, NULL, dir, &err);
    expect_error(rc, &err, csv, "class folder 1 but ClassId is 0");

    /* a sample without an annotation */
    const char *cut = strstr(gt_train_csv, "5;00042");
    snprintf(text, sizeof text, "%.*s", (int)(cut - gt_train_csv), gt_train_csv);
    rc = gtsrb_with(text, NULL, dir, &err);
    expect_error(rc, &err, csv, "annotates 6 samples");
    assert_non_null(strstr(err.message, "index 5 is missing"));

    /* test annotations: validated (ClassId, count) */
    snprintf(tcsv, sizeof tcsv, "%s/test-annotations.csv.gz", dir);
    rc = gtsrb_with(NULL, "index;Filename;ClassId\n0;00000.ppm;5\n1;00001.ppm;0\n2;00002.ppm;41\n",
                    dir, &err);
    expect_error(rc, &err, tcsv, "ClassId '41' of index 2 differs from its label 42");
    assert_int_equal(err.line, 4);
    rc = gtsrb_with(NULL, "index;Filename;ClassId\n0;00000.ppm;5\n1;00001.ppm;0\n", dir, &err);
    expect_error(rc, &err, tcsv, "annotates 2 samples");
    rc = gtsrb_with(NULL, "", dir, &err);
    expect_error(rc, &err, tcsv, "empty");

    /* label out of range, count mismatch */
    const char *d2 = tu_tmpdir("test_images_gtsrb_err2");
    snprintf(dir, sizeof dir, "%s", d2);
    write_gtsrb(dir);
    uint8_t labels[3] = {5, 43, 0};
    int n3 = 3;
    char lab[4200];
    snprintf(lab, sizeof lab, "%s/test-labels-idx1-ubyte", dir);
    write_idx(lab, 1, &n3, labels, 0);
    mf_dataset *d = NULL;
    expect_error(mf_load_gtsrb(dir, &d, &err), &err, lab, "class id 43 of sample 1");
    assert_int_equal(err.offset, 9);
    int n2 = 2;
    write_idx(lab, 1, &n2, labels, 0);
    expect_error(mf_load_gtsrb(dir, &d, &err), &err, lab, "holds 2 labels");
    assert_non_null(strstr(err.message, "test-images-idx4-ubyte.gz"));

    /* missing train annotations */
    unlink(join(dir, "train-annotations.csv"));
    expect_error(mf_load_gtsrb(dir, &d, &err), &err, NULL, "train-annotations.csv");
    expect_error(mf_load_gtsrb(join(dir, "nope"), &d, &err), &err, NULL, "does not exist");
    assert_null(d);
}

/* ---- PNG folders ---- */

#define PH 4
#define PW 5

static uint8_t pv(int y, int x, int c, int seed)
{
    return (uint8_t)((y * 53 + x * 21 + c * 71 + seed * 13) % 256);
}

/* Writes a PH×PW (or h×w) PNG of the given colour type and depth with pv() values (grey: channel
 * 0; palette: index = pv(y, x, 0) % 16 into pal). */
static void write_png(const char *path, int h, int w, int ctype, int depth, int seed)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    assert_non_null(info);
    if (setjmp(png_jmpbuf(png))) {
        fclose(f);
        fail_msg("libpng failed writing %s", path);
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, ctype, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (ctype == PNG_COLOR_TYPE_PALETTE) {
        png_color pal[16];
        for (int i = 0; i < 16; i++) {
            pal[i].red = (png_byte)(i * 16);
            pal[i].green = (png_byte)(255 - i * 9);
            pal[i].blue = (png_byte)(i * 5 + 3);
        }
        png_set_PLTE(png, info, pal, 16);
    }
    png_write_info(png, info);
    int ch = ctype == PNG_COLOR_TYPE_GRAY      ? 1
             : ctype == PNG_COLOR_TYPE_RGB     ? 3
             : ctype == PNG_COLOR_TYPE_RGBA    ? 4
             : ctype == PNG_COLOR_TYPE_PALETTE ? 1
                                               : 2;
    int bpc = depth / 8;
    png_byte row[256];
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++)
            for (int c = 0; c < ch; c++) {
                int v =
                    ctype == PNG_COLOR_TYPE_PALETTE ? pv(y, x, 0, seed) % 16 : pv(y, x, c, seed);
                if (bpc == 2) {
                    int v16 = v * 257;
                    row[(x * ch + c) * 2] = (png_byte)(v16 >> 8);
                    row[(x * ch + c) * 2 + 1] = (png_byte)v16;
                } else {
                    row[x * ch + c] = (png_byte)v;
                }
            }
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    fclose(f);
}

/* Expected 8-bit RGB of pixel (y, x) of a file written by write_png. */
static void expect_rgb(int ctype, int y, int x, int seed, int rgb[3])
{
    if (ctype == PNG_COLOR_TYPE_PALETTE) {
        int i = pv(y, x, 0, seed) % 16;
        rgb[0] = i * 16;
        rgb[1] = 255 - i * 9;
        rgb[2] = i * 5 + 3;
    } else if (ctype == PNG_COLOR_TYPE_GRAY) {
        rgb[0] = rgb[1] = rgb[2] = pv(y, x, 0, seed);
    } else {
        for (int c = 0; c < 3; c++)
            rgb[c] = pv(y, x, c, seed);
    }
}

static void mkdirs(const char *root, const char *const *rel, int n)
{
    char path[4096];
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s", root, rel[i]);
        assert_int_equal(mkdir(path, 0755), 0);
    }
}

/* The train files in load order: ant/g8, ant/rgb, zebra/g16, zebra/pal, zebra/rgba; test:
 * ant/x (RGB), zebra/y (palette). */
static const int png_types[7] = {
    PNG_COLOR_TYPE_GRAY,      PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_GRAY,   PNG_COLOR_TYPE_PALETTE,
    PNG_COLOR_TYPE_RGB_ALPHA, PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_PALETTE};

static void write_png_folder(const char *root)
{
    const char *dirs[] = {"train",    "test",       "train/zebra",      "train/ant",
                          "test/ant", "test/zebra", "train/ant/sub.png"};
    mkdirs(root, dirs, 7);
    char p[4096];
    snprintf(p, sizeof p, "%s/train/zebra/rgba.png", root);
    write_png(p, PH, PW, PNG_COLOR_TYPE_RGB_ALPHA, 8, 4);
    snprintf(p, sizeof p, "%s/train/zebra/pal.png", root);
    write_png(p, PH, PW, PNG_COLOR_TYPE_PALETTE, 8, 3);
    snprintf(p, sizeof p, "%s/train/zebra/g16.png", root);
    write_png(p, PH, PW, PNG_COLOR_TYPE_GRAY, 16, 2);
    snprintf(p, sizeof p, "%s/train/ant/rgb.png", root);
    write_png(p, PH, PW, PNG_COLOR_TYPE_RGB, 8, 1);
    snprintf(p, sizeof p, "%s/train/ant/g8.png", root);
    write_png(p, PH, PW, PNG_COLOR_TYPE_GRAY, 8, 0);
    tu_write_file(root, "train/ant/notes.txt", "not an image\n");
    tu_write_file(root, "train/readme.md", "not a class\n");
    snprintf(p, sizeof p, "%s/test/ant/x.png", root);
    write_png(p, PH, PW, PNG_COLOR_TYPE_RGB, 8, 5);
    snprintf(p, sizeof p, "%s/test/zebra/y.png", root);
    write_png(p, PH, PW, PNG_COLOR_TYPE_PALETTE, 8, 6);
}

static void check_png_sample(const float *s, int ch, int ctype, int seed)
{
    for (int y = 0; y < PH; y++)
        for (int x = 0; x < PW; x++) {
            int rgb[3];
            expect_rgb(ctype, y, x, seed, rgb);
            const float *p = s + (y * PW + x) * ch;
            if (ch == 3) {
                for (int c = 0; c < 3; c++)
                    assert_true(p[c] == rgb[c] / 255.0f);
            } else {
                double luma = (0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]) / 255.0;
                assert_float_equal(p[0], luma, 1e-5);
            }
        }
}

static void test_png_folder(void **state)
{
    (void)state;
    const char *tmp = tu_tmpdir("test_images_png");
    char root[4096];
    snprintf(root, sizeof root, "%s", tmp);
    write_png_folder(root);
    for (int ch = 1; ch <= 3; ch += 2) {
        mf_error err;
        mf_dataset *d = NULL;
        expect_ok(mf_load_png_folder(root, PH, PW, ch, 0, &d, &err), &err);
        assert_int_equal(d->classes, 2);
        assert_string_equal(d->class_names[0], "ant");
        assert_string_equal(d->class_names[1], "zebra");
        assert_int_equal(d->n_train, 5);
        assert_int_equal(d->n_test, 2);
        assert_int_equal(d->shape.rank, 3);
        assert_int_equal(d->shape.dim[0], PH);
        assert_int_equal(d->shape.dim[1], PW);
        assert_int_equal(d->shape.dim[2], ch);
        const int y_train[5] = {0, 0, 1, 1, 1}, seeds[7] = {0, 1, 2, 3, 4, 5, 6};
        size_t per = (size_t)PH * PW * ch;
        for (int i = 0; i < 5; i++) {
            assert_int_equal(d->y_train[i], y_train[i]);
            check_png_sample(d->x_train + i * per, ch, png_types[i], seeds[i]);
        }
        for (int i = 0; i < 2; i++) {
            assert_int_equal(d->y_test[i], i);
            check_png_sample(d->x_test + i * per, ch, png_types[5 + i], seeds[5 + i]);
        }
        mf_dataset_free(d);
    }
}

static void test_png_errors(void **state)
{
    (void)state;
    const char *tmp = tu_tmpdir("test_images_png_err");
    char root[4096], p[4200];
    snprintf(root, sizeof root, "%s", tmp);
    write_png_folder(root);
    mf_error err;
    mf_dataset *d = NULL;

    /* wrong size: rejected, accepted with resize (a constant image stays constant) */
    snprintf(p, sizeof p, "%s/train/ant/big.png", root);
    {
        FILE *f = fopen(p, "wb");
        assert_non_null(f);
        png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
        png_infop info = png_create_info_struct(png);
        if (setjmp(png_jmpbuf(png))) fail_msg("libpng failed writing %s", p);
        png_init_io(png, f);
        png_set_IHDR(png, info, 9, 7, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_ADAM7,
                     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
        png_write_info(png, info);
        png_byte row[27];
        for (int i = 0; i < 27; i++)
            row[i] = (png_byte)(i % 3 == 0 ? 90 : i % 3 == 1 ? 160 : 30);
        png_bytep rows[7];
        for (int y = 0; y < 7; y++)
            rows[y] = row;
        png_write_image(png, rows);
        png_write_end(png, NULL);
        png_destroy_write_struct(&png, &info);
        fclose(f);
    }
    expect_error(mf_load_png_folder(root, PH, PW, 3, 0, &d, &err), &err, p,
                 "image is 7 x 9 (height x width), expected 4 x 5");
    assert_null(d);
    expect_ok(mf_load_png_folder(root, PH, PW, 3, 1, &d, &err), &err);
    assert_int_equal(d->n_train, 6);
    const float *s = d->x_train; /* ant/big.png sorts first */
    for (int k = 0; k < PH * PW; k++) {
        assert_true(s[3 * k] == 90 / 255.0f);
        assert_true(s[3 * k + 1] == 160 / 255.0f);
        assert_true(s[3 * k + 2] == 30 / 255.0f);
    }
    check_png_sample(d->x_train + 1 * PH * PW * 3, 3, png_types[0], 0); /* same size: as is */
    mf_dataset_free(d);
    d = NULL;
    expect_ok(mf_load_png_folder(root, 14, 18, 1, 1, &d, &err), &err); /* upscaling */
    for (int k = 0; k < 14 * 18; k++)
        assert_float_equal(d->x_train[k], (0.299 * 90 + 0.587 * 160 + 0.114 * 30) / 255.0, 1e-5);
    mf_dataset_free(d);
    d = NULL;
    unlink(p);

    /* corrupt PNGs: truncated, a damaged chunk, not a PNG at all */
    snprintf(p, sizeof p, "%s/test/zebra/y.png", root);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(truncate(p, st.st_size - 20), 0);
    expect_error(mf_load_png_folder(root, PH, PW, 3, 0, &d, &err), &err, p, "libpng: ");
    assert_non_null(strstr(err.message, "corrupt or truncated PNG"));
    assert_true(err.offset > 0);
    write_png(p, PH, PW, PNG_COLOR_TYPE_PALETTE, 8, 6);
    FILE *f = fopen(p, "r+b");
    assert_non_null(f);
    fseek(f, 40, SEEK_SET); /* inside the PLTE chunk: CRC error */
    fputc(0x5a, f);
    fputc(0xa5, f);
    fclose(f);
    expect_error(mf_load_png_folder(root, PH, PW, 3, 0, &d, &err), &err, p, "libpng: ");
    write_png(p, PH, PW, PNG_COLOR_TYPE_PALETTE, 8, 6);
    snprintf(p, sizeof p, "%s/train/zebra/zz.png", root);
    tu_write_file(root, "train/zebra/zz.png", "GIF89a, not a PNG");
    expect_error(mf_load_png_folder(root, PH, PW, 3, 0, &d, &err), &err, p, "not a PNG file");
    unlink(p);
    expect_ok(mf_load_png_folder(root, PH, PW, 3, 0, &d, &err), &err);
    mf_dataset_free(d);
    d = NULL;

    /* class folders of the test split differ */
    snprintf(p, sizeof p, "%s/test/cow", root);
    assert_int_equal(mkdir(p, 0755), 0);
    expect_error(mf_load_png_folder(root, PH, PW, 3, 0, &d, &err), &err, NULL, "'cow' is in");
    rmdir(p);
    snprintf(p, sizeof p, "%s/test/ant/x.png", root);
    unlink(p);
    snprintf(p, sizeof p, "%s/test/ant", root);
    rmdir(p);
    expect_error(mf_load_png_folder(root, PH, PW, 3, 0, &d, &err), &err, NULL, "'ant' is in");

    /* missing folders, bad arguments */
    snprintf(p, sizeof p, "%s/test/zebra/y.png", root);
    unlink(p);
    snprintf(p, sizeof p, "%s/test/zebra", root);
    rmdir(p);
    snprintf(p, sizeof p, "%s/test", root);
    rmdir(p);
    expect_error(mf_load_png_folder(root, PH, PW, 3, 0, &d, &err), &err, p, "does not exist");
    expect_error(mf_load_png_folder(join(root, "nope"), PH, PW, 3, 0, &d, &err), &err, NULL,
                 "does not exist");
    expect_error(mf_load_png_folder(root, PH, PW, 2, 0, &d, &err), &err, NULL, "channels");
    assert_null(d);
}

/* A PNG that is only a signature, an IHDR chunk (8-bit grey, h x w) and IEND: a valid header of
 * any size in a few bytes. */
static void write_png_header(const char *path, uint32_t h, uint32_t w)
{
    uint8_t b[8 + 25 + 12] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    uint8_t *c = b + 8;
    const uint8_t ihdr[17] = {'I',
                              'H',
                              'D',
                              'R',
                              (uint8_t)(w >> 24),
                              (uint8_t)(w >> 16),
                              (uint8_t)(w >> 8),
                              (uint8_t)w,
                              (uint8_t)(h >> 24),
                              (uint8_t)(h >> 16),
                              (uint8_t)(h >> 8),
                              (uint8_t)h,
                              8,
                              0,
                              0,
                              0,
                              0};
    c[3] = 13; /* length, big-endian */
    memcpy(c + 4, ihdr, sizeof ihdr);
    uLong crc = crc32(0L, ihdr, sizeof ihdr);
    for (int i = 0; i < 4; i++)
        c[21 + i] = (uint8_t)(crc >> (24 - 8 * i));
    uint8_t *e = c + 25;
    memcpy(e + 4, "IEND", 4);
    crc = crc32(0L, (const Bytef *)"IEND", 4);
    for (int i = 0; i < 4; i++)
        e[8 + i] = (uint8_t)(crc >> (24 - 8 * i));
    write_raw(path, b, sizeof b, 0);
}

/* Regression: a valid 50000 x 50000 PNG header was called "corrupt or truncated PNG (libpng:
 * Image width exceeds user limit ...)"; an image over the size limit is now said to be one,
 * with its size and the limits, before libpng reads anything else. */
static void test_png_size_limit(void **state)
{
    (void)state;
    const char *tmp = tu_tmpdir("test_images_png_size");
    char root[4096], p[4200];
    snprintf(root, sizeof root, "%s", tmp);
    write_png_folder(root);
    snprintf(p, sizeof p, "%s/train/ant/huge.png", root);
    const uint32_t sizes[3][2] = {{50000, 50000}, {4, 16385}, {8193, 8193}};
    for (int i = 0; i < 3; i++) {
        write_png_header(p, sizes[i][0], sizes[i][1]);
        mf_error err;
        mf_dataset *d = NULL;
        char want[128];
        snprintf(want, sizeof want,
                 "image of %u x %u pixels (height x width) exceeds the size limit",
                 (unsigned)sizes[i][0], (unsigned)sizes[i][1]);
        expect_error(mf_load_png_folder(root, PH, PW, 3, 1, &d, &err), &err, p, want);
        assert_null(strstr(err.message, "corrupt"));
        assert_null(d);
    }
}

/* Regression: a cache_dir the process may not write gave no reason ("cannot write the dataset
 * cache X"). The error names the dataset, the folder, the setting and the system's reason. As
 * root (who may write anywhere) the load runs in a child process as user nobody, from inside the
 * test folder with relative paths: nobody may not traverse the folders above it (a clone in a
 * 0700 mktemp folder). */
static void test_read_only_cache_dir(void **state)
{
    (void)state;
    const char *tmp = tu_tmpdir("test_images_ro_cache");
    char root[4096], ro[4200];
    snprintf(root, sizeof root, "%s", tmp);
    write_png_folder(root);
    snprintf(ro, sizeof ro, "%s/ro-cache", root);
    assert_int_equal(mkdir(ro, 0555), 0);
    assert_int_equal(chmod(ro, 0555), 0);
    int shape[3] = {PH, PW, 3};
    mf_dataset_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.name = "png";
    cfg.path = ".";
    cfg.shape = shape;
    cfg.shape_count = 3;
    cfg.cache = true;
    cfg.cache_dir = "ro-cache";
    char msg[2048] = "";
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fd[0]);
        if (chdir(root) != 0) _exit(4);
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(3);
        mf_error err;
        mf_error_clear(&err);
        mf_dataset *d = NULL;
        int rc = mf_dataset_load(&cfg, NULL, &d, &err);
        mf_error_format(&err, msg, sizeof msg);
        ssize_t w = write(fd[1], msg, strlen(msg));
        (void)w;
        _exit(rc == MF_ERR ? 1 : 0);
    }
    close(fd[1]);
    size_t n = 0;
    ssize_t r;
    while (n + 1 < sizeof msg && (r = read(fd[0], msg + n, sizeof msg - 1 - n)) > 0)
        n += (size_t)r;
    msg[n] = '\0';
    close(fd[0]);
    int status = 0;
    assert_true(waitpid(pid, &status, 0) == pid);
    chmod(ro, 0755);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) == 3) {
        print_message("cannot drop root privileges here: skipped\n");
        skip();
    }
    print_message("%s\n", msg);
    assert_int_equal(WEXITSTATUS(status), 1);
    assert_non_null(strstr(msg, "dataset png: cannot write its cache in"));
    assert_non_null(strstr(msg, "ro-cache"));
    assert_non_null(strstr(msg, "dataset.cache_dir"));
    assert_non_null(strstr(msg, strerror(EACCES)));
}

/* ---- the real datasets ---- */

static int real_data_dir(const char *name, char *out, size_t size)
{
    const char *skip = getenv("MF_TEST_SKIP_REAL");
    if (skip && skip[0] && strcmp(skip, "0") != 0) return 0;
    snprintf(out, size, "%s/../shared/data/%s", MF_SOURCE_DIR, name);
    struct stat st;
    return stat(out, &st) == 0 && S_ISDIR(st.st_mode);
}

static void test_real_mnist(void **state)
{
    (void)state;
    char dir[4096];
    if (!real_data_dir("mnist", dir, sizeof dir)) {
        skip();
        return;
    }
    mf_error err;
    mf_dataset *d = NULL;
    double t0 = now_s();
    expect_ok(mf_load_mnist(dir, 0, &d, &err), &err);
    double t1 = now_s();
    printf("  real MNIST loaded in %.2f s\n", t1 - t0);
    assert_int_equal(d->n_train, 60000);
    assert_int_equal(d->n_test, 10000);
    const int test_counts[10] = {980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009};
    const int train_counts[10] = {5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949};
    int ct[10] = {0}, cr[10] = {0};
    for (int i = 0; i < d->n_test; i++)
        ct[d->y_test[i]]++;
    for (int i = 0; i < d->n_train; i++)
        cr[d->y_train[i]]++;
    for (int k = 0; k < 10; k++) {
        assert_int_equal(ct[k], test_counts[k]);
        assert_int_equal(cr[k], train_counts[k]);
    }
    /* padding border is zero, values within [0, 1] and some ink present */
    double sum = 0;
    for (int i = 0; i < d->n_test; i++) {
        const float *s = d->x_test + (size_t)i * 1024;
        for (int r = 0; r < 32; r++)
            for (int c = 0; c < 32; c++) {
                float v = s[r * 32 + c];
                assert_true(v >= 0.0f && v <= 1.0f);
                if (r < 2 || r >= 30 || c < 2 || c >= 30) assert_true(v == 0.0f);
                sum += v;
            }
    }
    assert_true(sum / (10000.0 * 784) > 0.1 && sum / (10000.0 * 784) < 0.2);
    mf_dataset_free(d);
}

static void test_real_gtsrb(void **state)
{
    (void)state;
    char dir[4096];
    if (!real_data_dir("gtsrb", dir, sizeof dir)) {
        skip();
        return;
    }
    mf_error err;
    mf_dataset *d = NULL;
    double t0 = now_s();
    expect_ok(mf_load_gtsrb(dir, &d, &err), &err);
    double t1 = now_s();
    printf("  real GTSRB loaded in %.2f s\n", t1 - t0);
    assert_int_equal(d->n_train, 39209);
    assert_int_equal(d->n_test, 12630);
    assert_int_equal(d->classes, 43);
    int ct[43] = {0}, cr[43] = {0};
    for (int i = 0; i < d->n_train; i++)
        cr[d->y_train[i]]++;
    for (int i = 0; i < d->n_test; i++)
        ct[d->y_test[i]]++;
    assert_int_equal(cr[0], 210);
    assert_int_equal(ct[0], 60);
    assert_int_equal(cr[1], 2220);
    assert_int_equal(ct[42], 90);
    /* every train group holds one class; count the tracks */
    int *first = malloc(sizeof(int) * 4300000);
    assert_non_null(first);
    for (int g = 0; g < 4300000; g++)
        first[g] = -1;
    int tracks = 0;
    for (int i = 0; i < d->n_train; i++) {
        int g = d->group_train[i];
        assert_true(g >= 0 && g < 4300000);
        if (first[g] < 0) {
            first[g] = d->y_train[i];
            tracks++;
        }
        assert_int_equal(first[g], d->y_train[i]);
    }
    free(first);
    printf("  GTSRB: %d train tracks\n", tracks);
    assert_true(tracks > 1000 && tracks < 2000);
    mf_dataset_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idx_plain_and_gzip),
        cmocka_unit_test(test_idx_errors),
        cmocka_unit_test(test_idx_declared_size_not_allocated),
        cmocka_unit_test(test_mnist_padding),
        cmocka_unit_test(test_mnist_resize),
        cmocka_unit_test(test_mnist_errors),
        cmocka_unit_test(test_gtsrb_small),
        cmocka_unit_test(test_gtsrb_errors),
        cmocka_unit_test(test_png_folder),
        cmocka_unit_test(test_png_errors),
        cmocka_unit_test(test_png_size_limit),
        cmocka_unit_test(test_read_only_cache_dir),
        cmocka_unit_test(test_real_mnist),
        cmocka_unit_test(test_real_gtsrb),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
