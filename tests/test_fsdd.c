/* FSDD loader (datasets/fsdd.c): small generated folders (split, labels, groups, order, shapes,
 * features equal to mf_mfcc of the samples), every rejected file with the file named, and the
 * real dataset's counts when it is present. */
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

#include <sndfile.h>

#include "mf_datasets.h"
#include "testutil.h"

#define PI 3.14159265358979323846

static const char *path_of(const char *dir, const char *name)
{
    static char path[2200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

/* Writes a WAV of n frames (a tone at freq Hz, amplitude 0.5, the same on every channel); the
 * first channel's 16-bit samples go to pcm when not NULL. */
static void write_wav(const char *dir, const char *name, int rate, int channels, int subformat,
                      int n, double freq, short *pcm)
{
    SF_INFO info;
    memset(&info, 0, sizeof info);
    info.samplerate = rate;
    info.channels = channels;
    info.format = SF_FORMAT_WAV | subformat;
    SNDFILE *f = sf_open(path_of(dir, name), SFM_WRITE, &info);
    if (!f) fail_msg("cannot write %s: %s", name, sf_strerror(NULL));
    short *s = malloc(sizeof(short) * (size_t)(n ? n : 1) * channels);
    for (int i = 0; i < n; i++) {
        short v = (short)lround(16384.0 * sin(2 * PI * freq * i / rate));
        for (int c = 0; c < channels; c++)
            s[i * channels + c] = v;
        if (pcm) pcm[i] = v;
    }
    assert_int_equal(sf_writef_short(f, s, n), n);
    free(s);
    sf_close(f);
}

static void write_ok(const char *dir, const char *name, int n, double freq, short *pcm)
{
    write_wav(dir, name, 8000, 1, SF_FORMAT_PCM_16, n, freq, pcm);
}

static mf_dataset *load_ok(const char *dir, const mf_mfcc_config *cfg)
{
    mf_dataset *d = NULL;
    mf_error err;
    int rc = mf_load_fsdd(dir, cfg, &d, &err);
    if (rc != MF_OK) {
        char buf[1400];
        fail_msg("unexpected error: %s", mf_error_format(&err, buf, sizeof buf));
    }
    assert_non_null(d);
    return d;
}

/* Loading dir fails; the formatted error contains each of the (up to two) strings. */
static void load_fails(const char *dir, const char *want1, const char *want2)
{
    mf_dataset *d = (mf_dataset *)1;
    mf_error err;
    mf_mfcc_config cfg = {50.0f, 25.0f, 26, 13, 39, 0.97f, 0, 0};
    assert_int_equal(mf_load_fsdd(dir, &cfg, &d, &err), MF_ERR);
    assert_null(d);
    char buf[1400];
    mf_error_format(&err, buf, sizeof buf);
    if (!strstr(buf, want1) || (want2 && !strstr(buf, want2)))
        fail_msg("error '%s' should contain '%s' and '%s'", buf, want1, want2 ? want2 : "");
}

static void all_finite(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) fail_msg("feature %zu is not finite", i);
}

static void test_small_folder(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("fsdd_small");
    short *pcm = malloc(sizeof(short) * 9000);
    write_ok(dir, "3_alice_0.wav", 3000, 440.0, NULL);
    write_ok(dir, "3_alice_7.wav", 9000, 600.0, pcm);
    write_ok(dir, "0_alice_7.wav", 1000, 300.0, NULL);
    write_ok(dir, "5_bob_12.wav", 4000, 900.0, NULL);
    write_ok(dir, "5_bob_2.wav", 2000, 1200.0, NULL);
    write_ok(dir, "9_alice_49.wav", 5000, 2000.0, NULL);
    tu_write_file(dir, "SHA256SUMS", "0000  3_alice_0.wav\n");
    tu_write_file(dir, "notes.txt", "not audio\n");

    mf_mfcc_config cfg = {50.0f, 25.0f, 26, 13, 39, 0.97f, 0, 0};
    mf_dataset *d = load_ok(dir, &cfg);
    assert_string_equal(d->name, "fsdd");
    assert_int_equal(d->shape.rank, 2);
    assert_int_equal(d->shape.dim[0], 39);
    assert_int_equal(d->shape.dim[1], 13);
    assert_int_equal(d->classes, 10);
    assert_non_null(d->class_names);
    assert_string_equal(d->class_names[0], "zero");
    assert_string_equal(d->class_names[3], "three");
    assert_string_equal(d->class_names[9], "nine");
    assert_int_equal(d->n_train, 4);
    assert_int_equal(d->n_test, 2);
    assert_int_equal(d->n_val, 0);
    /* (digit, speaker, index) order: 0_alice_7, 3_alice_7, 5_bob_12, 9_alice_49. */
    const int y_train[4] = {0, 3, 5, 9}, y_test[2] = {3, 5};
    for (int i = 0; i < 4; i++)
        assert_int_equal(d->y_train[i], y_train[i]);
    for (int i = 0; i < 2; i++)
        assert_int_equal(d->y_test[i], y_test[i]);
    /* Groups: (alice, 7) = 0, (alice, 49) = 1, (bob, 12) = 2; both alice_7 files share one. */
    assert_non_null(d->group_train);
    const int g[4] = {0, 0, 2, 1};
    for (int i = 0; i < 4; i++)
        assert_int_equal(d->group_train[i], g[i]);
    all_finite(d->x_train, 4 * 39 * 13);
    all_finite(d->x_test, 2 * 39 * 13);

    /* 3_alice_7 is training sample 1: the MFCC of its samples / 32768. */
    float *x = malloc(sizeof(float) * 9000), out[39 * 13];
    for (int i = 0; i < 9000; i++)
        x[i] = pcm[i] / 32768.0f;
    mf_error err;
    assert_int_equal(mf_mfcc(&cfg, 8000, x, 9000, out, &err), MF_OK);
    assert_memory_equal(out, d->x_train + 39 * 13, sizeof out);
    /* 0_alice_7 (1000 samples) ends in silent frames: log energy ln(1e-10). */
    assert_true(d->x_train[38 * 13] == (float)log(1e-10));
    assert_true(d->x_train[0] > -10.0f);
    mf_dataset_free(d);

    /* Another MFCC config changes the sample shape. */
    mf_mfcc_config small = {25.0f, 10.0f, 20, 10, 50, 0.0f, 256, 0};
    d = load_ok(dir, &small);
    assert_int_equal(d->shape.dim[0], 50);
    assert_int_equal(d->shape.dim[1], 10);
    all_finite(d->x_train, 4 * 50 * 10);
    mf_dataset_free(d);

    /* NULL config: the defaults. */
    d = load_ok(dir, NULL);
    assert_int_equal(d->shape.dim[0], 39);
    assert_int_equal(d->shape.dim[1], 13);
    assert_memory_equal(out, d->x_train + 39 * 13, sizeof out);
    mf_dataset_free(d);

    /* Only test files: an empty training split. */
    dir = tu_tmpdir("fsdd_test_only");
    write_ok(dir, "4_carol_3.wav", 2000, 500.0, NULL);
    d = load_ok(dir, &cfg);
    assert_int_equal(d->n_train, 0);
    assert_int_equal(d->n_test, 1);
    assert_int_equal(d->y_test[0], 4);
    mf_dataset_free(d);
    free(x);
    free(pcm);
}

/* dataset.mfcc.layout: image gives [frames][coefficients][1] samples holding the values of the
 * sequence layout in the same order, with the cache and without. */
static void test_image_layout(void **state)
{
    (void)state;
    char dir[1024], cache_dir[1024];
    snprintf(dir, sizeof dir, "%s", tu_tmpdir("fsdd_layout"));
    snprintf(cache_dir, sizeof cache_dir, "%s", tu_tmpdir("fsdd_layout_cache"));
    write_ok(dir, "3_alice_0.wav", 3000, 440.0, NULL);
    write_ok(dir, "5_bob_12.wav", 4000, 900.0, NULL);
    mf_dataset *d[2][2];
    for (int cache = 0; cache < 2; cache++)
        for (int image = 0; image < 2; image++) {
            mf_dataset_config cfg;
            memset(&cfg, 0, sizeof cfg);
            cfg.name = "fsdd";
            cfg.path = dir;
            cfg.cache = cache;
            cfg.cache_dir = cache_dir;
            cfg.mfcc = (mf_mfcc_config){50.0f, 25.0f, 26, 13, 39, 0.97f, 0, image};
            mf_error err;
            mf_error_clear(&err);
            if (mf_dataset_load(&cfg, NULL, &d[cache][image], &err))
                fail_msg("load: %s", err.message);
        }
    for (int cache = 0; cache < 2; cache++) {
        const mf_dataset *seq = d[cache][0], *img = d[cache][1];
        assert_int_equal(seq->shape.rank, 2);
        assert_int_equal(img->shape.rank, 3);
        assert_int_equal(img->shape.dim[0], 39);
        assert_int_equal(img->shape.dim[1], 13);
        assert_int_equal(img->shape.dim[2], 1);
        assert_int_equal(img->n_train, seq->n_train);
        assert_int_equal(img->n_test, seq->n_test);
        assert_memory_equal(img->x_train, seq->x_train, sizeof(float) * 39 * 13 * seq->n_train);
        assert_memory_equal(img->x_test, seq->x_test, sizeof(float) * 39 * 13 * seq->n_test);
    }
    for (int cache = 0; cache < 2; cache++)
        for (int image = 0; image < 2; image++)
            mf_dataset_free(d[cache][image]);
}

/* A fresh folder holding one good recording (the bad one is added next to it). */
static const char *good_folder(const char *test)
{
    const char *dir = tu_tmpdir(test);
    write_ok(dir, "1_bob_10.wav", 3000, 700.0, NULL);
    return dir;
}

static void test_rejected_files(void **state)
{
    (void)state;
    const char *dir;

    dir = good_folder("fsdd_stereo");
    write_wav(dir, "2_carol_10.wav", 8000, 2, SF_FORMAT_PCM_16, 2000, 440.0, NULL);
    load_fails(dir, "2_carol_10.wav", "2 channels");

    dir = good_folder("fsdd_16k");
    write_wav(dir, "2_carol_11.wav", 16000, 1, SF_FORMAT_PCM_16, 2000, 440.0, NULL);
    load_fails(dir, "2_carol_11.wav", "16000 Hz");

    dir = good_folder("fsdd_pcm24");
    write_wav(dir, "2_carol_12.wav", 8000, 1, SF_FORMAT_PCM_24, 2000, 440.0, NULL);
    load_fails(dir, "2_carol_12.wav", "24 bit");

    dir = good_folder("fsdd_float");
    write_wav(dir, "2_carol_13.wav", 8000, 1, SF_FORMAT_FLOAT, 2000, 440.0, NULL);
    load_fails(dir, "2_carol_13.wav", "must be 16-bit PCM");

    /* Truncated inside the header: libsndfile's own message. */
    dir = good_folder("fsdd_trunc30");
    write_ok(dir, "2_carol_14.wav", 2000, 440.0, NULL);
    assert_int_equal(truncate(path_of(dir, "2_carol_14.wav"), 30), 0);
    load_fails(dir, "2_carol_14.wav", "cannot read the WAV file");

    /* Truncated inside the samples (libsndfile itself would read what is there). */
    dir = good_folder("fsdd_truncdata");
    write_ok(dir, "2_carol_15.wav", 2000, 440.0, NULL);
    assert_int_equal(truncate(path_of(dir, "2_carol_15.wav"), 44 + 1000), 0);
    load_fails(dir, "2_carol_15.wav", "truncated");

    dir = good_folder("fsdd_garbage");
    tu_write_file(dir, "2_carol_16.wav", "this is not a RIFF file at all, just text\n");
    load_fails(dir, "2_carol_16.wav", "cannot read the WAV file");

    dir = good_folder("fsdd_empty_wav");
    write_ok(dir, "2_carol_17.wav", 0, 440.0, NULL);
    load_fails(dir, "2_carol_17.wav", "no samples");

    dir = good_folder("fsdd_x");
    tu_write_file(dir, "x.wav", "garbage");
    load_fails(dir, "x.wav", "is not {digit}_{speaker}_{index}.wav");

    const char *bad_names[] = {"1_bob_50.wav", "1_bob_07.wav", "12_bob_7.wav", "1__7.wav",
                               "1_bob_7.WAV",  "a_bob_7.wav",  "1_bob_x.wav",  "1_bob.wav"};
    for (size_t i = 0; i < sizeof bad_names / sizeof *bad_names; i++) {
        dir = good_folder("fsdd_badname");
        write_ok(dir, bad_names[i], 100, 440.0, NULL);
        load_fails(dir, bad_names[i], "is not {digit}_{speaker}_{index}.wav");
    }

    /* Folders: missing, a file, and one without recordings. */
    char missing[1200];
    snprintf(missing, sizeof missing, "%s/no-such-folder", tu_tmpdir("fsdd_missing"));
    load_fails(missing, "no-such-folder", "cannot open the FSDD folder");
    dir = tu_tmpdir("fsdd_no_wav");
    const char *file = tu_write_file(dir, "SHA256SUMS", "0000  0_a_0.wav\n");
    load_fails(dir, "no {digit}_{speaker}_{index}.wav recordings", "fsdd_no_wav");
    load_fails(file, "cannot open the FSDD folder", "SHA256SUMS");

    /* A bad MFCC config is reported before any file is read. */
    dir = good_folder("fsdd_cfg");
    mf_mfcc_config cfg = {50.0f, 25.0f, 26, 30, 39, 0.97f, 0, 0};
    mf_dataset *d = NULL;
    mf_error err;
    assert_int_equal(mf_load_fsdd(dir, &cfg, &d, &err), MF_ERR);
    assert_null(d);
    assert_string_equal(err.field, "dataset.mfcc.coefficients");
}

static void test_real_fsdd(void **state)
{
    (void)state;
    const char *dir = MF_SOURCE_DIR "/../shared/data/fsdd/recordings";
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "%s not present: skipped\n", dir);
        skip();
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    mf_dataset *d = load_ok(dir, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    fprintf(stderr, "FSDD: %d train + %d test recordings loaded in %.2f s\n", d->n_train, d->n_test,
            (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9);
    assert_int_equal(d->n_train, 2700);
    assert_int_equal(d->n_test, 300);
    assert_int_equal(d->shape.dim[0], 39);
    assert_int_equal(d->shape.dim[1], 13);
    int train[10] = {0}, test[10] = {0}, group[270] = {0};
    for (int i = 0; i < d->n_train; i++) {
        assert_in_range(d->y_train[i], 0, 9);
        assert_in_range(d->group_train[i], 0, 269);
        train[d->y_train[i]]++;
        group[d->group_train[i]]++;
    }
    for (int i = 0; i < d->n_test; i++) {
        assert_in_range(d->y_test[i], 0, 9);
        test[d->y_test[i]]++;
    }
    for (int c = 0; c < 10; c++) {
        assert_int_equal(train[c], 270);
        assert_int_equal(test[c], 30);
    }
    /* 6 speakers × 45 training repetitions, each holding the ten digits. */
    for (int g = 0; g < 270; g++)
        assert_int_equal(group[g], 10);
    all_finite(d->x_train, (size_t)d->n_train * 39 * 13);
    all_finite(d->x_test, (size_t)d->n_test * 39 * 13);
    mf_dataset_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_folder),
        cmocka_unit_test(test_image_layout),
        cmocka_unit_test(test_rejected_files),
        cmocka_unit_test(test_real_fsdd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
