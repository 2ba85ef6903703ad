/* Free Spoken Digit Dataset (data/README.md §2): dir holds {digit}_{speaker}_{index}.wav, RIFF
 * WAVE, mono, 16-bit PCM, 8000 Hz. Index 0–4 is the test split, 5–49 training. Each recording
 * becomes frames × coefficients MFCC features (mfcc.c); label = digit; group_train = a dense id
 * of the (speaker, index) pair, so a validation split keeps one repetition of a speaker (all ten
 * digits of it) together. Files are processed in (digit, speaker, index) order. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sndfile.h>

#include "mf_datasets.h"

#define FSDD_RATE        8000
#define FSDD_SPEAKER_MAX 64
#define FSDD_MAX_SAMPLES ((sf_count_t)FSDD_RATE * 3600) /* one hour: anything longer is wrong */

/* Internal MFCC engine (mfcc.c): one FFTW plan for the whole load. */
typedef struct mf_mfcc_engine mf_mfcc_engine;
mf_mfcc_engine *mf_mfcc_engine_new(const mf_mfcc_config *cfg, int sample_rate, mf_error *err);
int mf_mfcc_engine_run(mf_mfcc_engine *e, const float *signal, size_t n, float *out);
void mf_mfcc_engine_free(mf_mfcc_engine *e);

static const char *const digit_names[10] = {"zero", "one", "two",   "three", "four",
                                            "five", "six", "seven", "eight", "nine"};

typedef struct {
    char *name;
    int digit;
    char speaker[FSDD_SPEAKER_MAX];
    int index;
    int group; /* training files only */
} entry;

typedef struct {
    entry *v;
    size_t n, cap;
} entry_list;

static void list_free(entry_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].name);
    free(l->v);
}

/* 1 if name ends in ".wav" (any case). */
static int is_wav_name(const char *name)
{
    size_t len = strlen(name);
    return len >= 4 && strcasecmp(name + len - 4, ".wav") == 0;
}

/* {digit}_{speaker}_{index}.wav: digit 0–9, speaker non-empty without '_', index 0–49 without
 * leading zeros, lower-case ".wav". */
static int parse_name(const char *name, entry *e)
{
    size_t len = strlen(name);
    if (len < 9 || strcmp(name + len - 4, ".wav") != 0) return 0;
    if (name[0] < '0' || name[0] > '9' || name[1] != '_') return 0;
    const char *sp = name + 2;
    const char *us = strchr(sp, '_');
    if (!us || us == sp || (size_t)(us - sp) >= FSDD_SPEAKER_MAX) return 0;
    const char *ix = us + 1, *end = name + len - 4;
    if (ix == end || end - ix > 2 || (ix[0] == '0' && end - ix > 1)) return 0;
    int index = 0;
    for (const char *c = ix; c < end; c++) {
        if (*c < '0' || *c > '9') return 0;
        index = index * 10 + (*c - '0');
    }
    if (index > 49) return 0;
    e->digit = name[0] - '0';
    memcpy(e->speaker, sp, (size_t)(us - sp));
    e->speaker[us - sp] = '\0';
    e->index = index;
    return 1;
}

static int cmp_entry(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    if (x->digit != y->digit) return x->digit < y->digit ? -1 : 1;
    int c = strcmp(x->speaker, y->speaker);
    if (c) return c;
    return (x->index > y->index) - (x->index < y->index);
}

static int cmp_group(const void *a, const void *b)
{
    const entry *x = *(const entry *const *)a, *y = *(const entry *const *)b;
    int c = strcmp(x->speaker, y->speaker);
    if (c) return c;
    return (x->index > y->index) - (x->index < y->index);
}

static int join_path(char *buf, size_t size, const char *dir, const char *name, mf_error *err)
{
    int w = snprintf(buf, size, "%s/%s", dir, name);
    if (w < 0 || (size_t)w >= size) {
        mf_error_set(err, "FSDD: path of '%s' in '%s' is too long", name, dir);
        mf_error_at(err, dir, 0, 0, NULL);
        return MF_ERR;
    }
    return MF_OK;
}

/* The matching recordings of dir, sorted. */
static int list_dir(const char *dir, entry_list *l, mf_error *err)
{
    DIR *d = opendir(dir);
    if (!d) {
        mf_error_set(err, "cannot open the FSDD folder: %s", strerror(errno));
        mf_error_at(err, dir, 0, 0, NULL);
        return MF_ERR;
    }
    struct dirent *de;
    int rc = MF_OK;
    while ((de = readdir(d)) != NULL) {
        if (!is_wav_name(de->d_name)) continue;
        entry e;
        memset(&e, 0, sizeof e);
        if (!parse_name(de->d_name, &e)) {
            char path[4096];
            mf_error_set(err,
                         "FSDD: file name '%s' is not {digit}_{speaker}_{index}.wav (digit 0-9, "
                         "index 0-49)",
                         de->d_name);
            if (snprintf(path, sizeof path, "%s/%s", dir, de->d_name) < (int)sizeof path)
                mf_error_at(err, path, 0, 0, NULL);
            rc = MF_ERR;
            break;
        }
        if (l->n == l->cap) {
            size_t cap = l->cap ? 2 * l->cap : 256;
            entry *v = realloc(l->v, cap * sizeof *v);
            if (!v) {
                rc = mf_error_set(err, "FSDD: out of memory listing %s", dir);
                break;
            }
            l->v = v;
            l->cap = cap;
        }
        e.name = malloc(strlen(de->d_name) + 1);
        if (!e.name) {
            rc = mf_error_set(err, "FSDD: out of memory listing %s", dir);
            break;
        }
        strcpy(e.name, de->d_name);
        l->v[l->n++] = e;
    }
    closedir(d);
    if (rc != MF_OK) return rc;
    if (l->n == 0) {
        mf_error_set(err, "FSDD: no {digit}_{speaker}_{index}.wav recordings in the folder");
        mf_error_at(err, dir, 0, 0, NULL);
        return MF_ERR;
    }
    qsort(l->v, l->n, sizeof *l->v, cmp_entry);
    return MF_OK;
}

static const char *subformat_name(int format, char *buf, size_t size)
{
    SF_FORMAT_INFO fi;
    memset(&fi, 0, sizeof fi);
    fi.format = format & SF_FORMAT_SUBMASK;
    if (sf_command(NULL, SFC_GET_FORMAT_INFO, &fi, sizeof fi) == 0 && fi.name)
        snprintf(buf, size, "%s", fi.name);
    else
        snprintf(buf, size, "encoding 0x%04x", (unsigned)(format & SF_FORMAT_SUBMASK));
    return buf;
}

/* Reads one recording into *buf (grown as needed) as floats in [-1, 1]; *n samples. */
static int read_wav(const char *path, float **buf, size_t *cap, size_t *n, mf_error *err)
{
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    if (!f) {
        mf_error_set(err, "cannot read the WAV file: %s", sf_strerror(NULL));
        mf_error_at(err, path, 0, 0, NULL);
        return MF_ERR;
    }
    char fmt[128];
    int rc = MF_OK;
    if ((info.format & SF_FORMAT_TYPEMASK) != SF_FORMAT_WAV)
        rc = mf_error_set(err, "not a RIFF/WAVE file (format 0x%08x); FSDD recordings are WAV",
                          (unsigned)info.format);
    else if (info.channels != 1)
        rc = mf_error_set(err, "has %d channels; FSDD recordings must be mono", info.channels);
    else if (info.samplerate != FSDD_RATE)
        rc = mf_error_set(err, "has a sample rate of %d Hz; FSDD recordings must be %d Hz",
                          info.samplerate, FSDD_RATE);
    else if ((info.format & SF_FORMAT_SUBMASK) != SF_FORMAT_PCM_16)
        rc = mf_error_set(err, "is encoded as %s; FSDD recordings must be 16-bit PCM",
                          subformat_name(info.format, fmt, sizeof fmt));
    else if (info.frames <= 0)
        rc = mf_error_set(err, "holds no samples");
    else if (info.frames > FSDD_MAX_SAMPLES)
        rc = mf_error_set(err, "holds %lld samples (more than an hour at %d Hz)",
                          (long long)info.frames, FSDD_RATE);
    if (rc == MF_OK) {
        /* libsndfile reads a data chunk cut short without an error, noting it in its log as
         * "data : <declared> (should be <present>)". */
        char log[2048];
        log[0] = '\0';
        sf_command(f, SFC_GET_LOG_INFO, log, sizeof log);
        log[sizeof log - 1] = '\0';
        for (char *line = log; line && *line;) {
            char *nl = strchr(line, '\n');
            if (nl) *nl = '\0';
            long long declared, present;
            if (sscanf(line, "data : %lld (should be %lld)", &declared, &present) == 2) {
                rc = mf_error_set(err,
                                  "truncated: the data chunk declares %lld bytes but the file "
                                  "holds %lld",
                                  declared, present);
                break;
            }
            line = nl ? nl + 1 : NULL;
        }
    }
    if (rc == MF_OK && (size_t)info.frames > *cap) {
        float *b = realloc(*buf, sizeof(float) * (size_t)info.frames);
        if (!b)
            rc = mf_error_set(err, "out of memory for %lld samples", (long long)info.frames);
        else {
            *buf = b;
            *cap = (size_t)info.frames;
        }
    }
    if (rc == MF_OK) {
        sf_count_t got = sf_readf_float(f, *buf, info.frames);
        if (got != info.frames) {
            const char *why = sf_error(f) ? sf_strerror(f) : "unexpected end of file";
            rc = mf_error_set(err, "truncated or unreadable: read %lld of %lld samples (%s)",
                              (long long)got, (long long)info.frames, why);
        }
        *n = (size_t)info.frames;
    }
    sf_close(f);
    if (rc != MF_OK) mf_error_at(err, path, 0, 0, NULL);
    return rc;
}

int mf_load_fsdd(const char *dir, const mf_mfcc_config *mfcc, mf_dataset **out, mf_error *err)
{
    *out = NULL;
    if (!dir || !*dir) return mf_error_set(err, "FSDD: no folder given");
    entry_list l = {NULL, 0, 0};
    mf_dataset *d = NULL;
    float *wav = NULL;
    size_t wav_cap = 0;
    entry **train = NULL;
    mf_mfcc_engine *eng = mf_mfcc_engine_new(mfcc, FSDD_RATE, err);
    if (!eng) return MF_ERR;
    if (list_dir(dir, &l, err) != MF_OK) goto fail;

    int n_train = 0, n_test = 0;
    for (size_t i = 0; i < l.n; i++) {
        if (l.v[i].index < 5)
            n_test++;
        else
            n_train++;
    }
    /* Dense group ids over the training (speaker, index) pairs, in sorted order. */
    train = malloc(sizeof *train * (size_t)(n_train ? n_train : 1));
    if (!train) {
        mf_error_set(err, "FSDD: out of memory");
        goto fail;
    }
    int k = 0;
    for (size_t i = 0; i < l.n; i++)
        if (l.v[i].index >= 5) train[k++] = &l.v[i];
    qsort(train, (size_t)n_train, sizeof *train, cmp_group);
    for (int i = 0, g = -1; i < n_train; i++) {
        if (i == 0 || cmp_group(&train[i - 1], &train[i]) != 0) g++;
        train[i]->group = g;
    }

    mf_shape shape = {2, {mfcc ? mfcc->frames : 39, mfcc ? mfcc->coefficients : 13}};
    d = mf_dataset_alloc("fsdd", &shape, 10, n_train, n_test, 1, err);
    if (!d) goto fail;
    d->class_names = malloc(sizeof *d->class_names * 10);
    if (!d->class_names) {
        mf_error_set(err, "FSDD: out of memory");
        goto fail;
    }
    for (int c = 0; c < 10; c++)
        snprintf(d->class_names[c], MF_CLASS_NAME_MAX, "%s", digit_names[c]);

    const size_t per = mf_shape_size(&shape);
    int it = 0, is = 0;
    for (size_t i = 0; i < l.n; i++) {
        const entry *e = &l.v[i];
        char path[4096];
        size_t n = 0;
        if (join_path(path, sizeof path, dir, e->name, err) != MF_OK) goto fail;
        if (read_wav(path, &wav, &wav_cap, &n, err) != MF_OK) goto fail;
        float *x;
        if (e->index < 5) {
            x = d->x_test + (size_t)is * per;
            d->y_test[is++] = e->digit;
        } else {
            x = d->x_train + (size_t)it * per;
            d->y_train[it] = e->digit;
            d->group_train[it++] = e->group;
        }
        mf_mfcc_engine_run(eng, wav, n, x);
    }
    free(train);
    free(wav);
    list_free(&l);
    mf_mfcc_engine_free(eng);
    *out = d;
    return MF_OK;
fail:
    free(train);
    free(wav);
    list_free(&l);
    mf_mfcc_engine_free(eng);
    mf_dataset_free(d);
    return MF_ERR;
}
