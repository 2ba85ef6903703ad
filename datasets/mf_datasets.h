/* Datasets: train, validation and test tensors (channels-last, float32) with integer labels.
 *
 * Loaders (one file each) return the raw tensors of a dataset as its files hold them, converted
 * to float; datasets/dataset.c adds what every dataset shares: the validation split, z-score
 * normalisation with training statistics, limits and the HDF5 cache. */
#ifndef MF_DATASETS_H
#define MF_DATASETS_H

#include <stdint.h>
#include <stdio.h>

#include "mf_config.h"
#include "mf_core.h"

#define MF_CLASS_NAME_MAX MF_LABEL_MAX

typedef struct mf_dataset {
    char name[64];
    mf_shape shape; /* one sample */
    int classes;
    char (*class_names)[MF_CLASS_NAME_MAX]; /* classes entries; NULL: "0", "1", … */
    int n_train, n_val, n_test;
    float *x_train; /* n_train × shape */
    int *y_train;
    int *group_train; /* per training sample: the group a validation split keeps together
                         (subject, track, speaker·repetition); NULL: every sample alone */
    float *x_val;     /* n_val × shape (NULL when n_val = 0) */
    int *y_val;
    float *x_test;
    int *y_test;
} mf_dataset;

/* Allocates an empty dataset for n_train / n_test samples of `shape` (x, y and, if
 * with_groups, group_train); class_names left NULL. */
mf_dataset *mf_dataset_alloc(const char *name, const mf_shape *shape, int classes, int n_train,
                             int n_test, int with_groups, mf_error *err);
void mf_dataset_free(mf_dataset *d);

/* Loads (or generates) the dataset a config describes — from the cache when it is current —
 * then applies the limits and the validation split. Progress notes go to log (may be NULL). */
int mf_dataset_load(const mf_dataset_config *cfg, FILE *log, mf_dataset **out, mf_error *err);

/* ---- loaders: raw values, no normalisation; every error names the file (and line, row or
 * byte offset where it applies) ---- */

/* The seeded `synthetic` kind: each class is a random pattern of sinusoids (per channel, along
 * every spatial axis); a sample is its class pattern, randomly scaled and shifted along the
 * first axis, plus Gaussian noise of std `noise`. Same arguments ⇒ same data. */
int mf_synthetic_generate(const mf_shape *shape, int classes, int n_train, int n_test,
                          float noise, uint64_t seed, mf_dataset **out, mf_error *err);

/* UCI-HAR from the original layout under root: {train,test}/Inertial Signals/
 * {body_acc,body_gyro,total_acc}_{x,y,z}_{train,test}.txt (or .txt.gz), y_*.txt, subject_*.txt;
 * samples 128 × 9 in PAPER.md's channel order (body_acc xyz, body_gyro xyz, total_acc xyz),
 * labels 0..5, groups = subject; class names from activity_labels.txt when present in root or
 * root/.., else the standard six. */
int mf_load_uci_har(const char *root, mf_dataset **out, mf_error *err);

/* Free Spoken Digit Dataset: dir holds {digit}_{speaker}_{index}.wav (8 kHz mono 16-bit);
 * index 0–4 is the test split; samples frames × coefficients from the MFCC front end; groups =
 * speaker·repetition index. */
int mf_load_fsdd(const char *dir, const mf_mfcc_config *mfcc, mf_dataset **out, mf_error *err);

/* MFCC of one signal (samples scaled to [-1, 1]) at sample_rate into out (frames ×
 * coefficients, row-major): pre-emphasis, Hamming-windowed frames, power spectrum (FFTW), mel
 * filter bank, log, DCT-II; feature 0 is the log frame energy, then c1…; fixed frame count by
 * zero-padding or truncating the signal at the end. */
int mf_mfcc(const mf_mfcc_config *cfg, int sample_rate, const float *signal, size_t n,
            float *out, mf_error *err);

/* IDX (gzip or plain) of unsigned bytes: reads header and data with checks; *data is malloc'd
 * (dims[0] × … bytes). */
int mf_idx_read(const char *path, int max_dims, int *ndim, int dims[4], uint8_t **data,
                mf_error *err);

/* MNIST IDX files in dir; 28×28 zero-padded by 2 to 32×32 (or resized when `resize`), values
 * scaled to [0, 1]; shape 32×32×1. */
int mf_load_mnist(const char *dir, int resize, mf_dataset **out, mf_error *err);

/* GTSRB 32×32 RGB IDX files and annotation CSVs in dir; values in [0, 1]; groups = track
 * (from the train annotations' filenames); class names as the data README lists them. */
int mf_load_gtsrb(const char *dir, mf_dataset **out, mf_error *err);

/* A folder of PNG images: root/train/<class>/NAME.png and root/test/<class>/NAME.png (class folders
 * sorted by name give labels 0..K-1 and the class names); every image must be height × width
 * with `channels` channels (1 grey, 3 RGB) or is resized (bilinear) when `resize`, otherwise
 * rejected with a message naming it; values in [0, 1]. */
int mf_load_png_folder(const char *root, int height, int width, int channels, int resize,
                       mf_dataset **out, mf_error *err);

#endif
