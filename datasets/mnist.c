/* MNIST from its four IDX files (gzip or plain): 28×28 digits become LeNet-5's 32×32×1 input,
 * zero-padded by 2 pixels on every side (DESIGN.md §13) or bilinearly resized; values / 255. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mf_datasets.h"
#include "mf_fileio.h"
#include "resize.h"

#define MNIST_SIDE 28
#define MNIST_OUT  32
#define MNIST_PAD  ((MNIST_OUT - MNIST_SIDE) / 2)

/* Reads one split: images (N×28×28) and labels (N, 0..9), checked against each other. */
static int read_split(const char *dir, const char *prefix, char *img_path, char *lab_path,
                      size_t size, uint8_t **img, uint8_t **lab, int *n, mf_error *err)
{
    char base[64];
    int nd, dims[4];
    *img = *lab = NULL;
    snprintf(base, sizeof base, "%s-images-idx3-ubyte", prefix);
    if (mf_file_need_gz(dir, base, "MNIST", img_path, size, err)) return MF_ERR;
    snprintf(base, sizeof base, "%s-labels-idx1-ubyte", prefix);
    if (mf_file_need_gz(dir, base, "MNIST", lab_path, size, err)) return MF_ERR;
    if (mf_idx_read(img_path, 3, &nd, dims, img, err)) return MF_ERR;
    if (nd != 3 || dims[1] != MNIST_SIDE || dims[2] != MNIST_SIDE) {
        mf_error_set(err, "MNIST images must be N x 28 x 28, found %d dimensions (%d x %d x %d)",
                     nd, dims[0], dims[1], dims[2]);
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
        if ((*lab)[i] > 9) {
            mf_error_set(err, "label %d of sample %d is out of range (0 to 9)", (*lab)[i], i);
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

static void convert(const uint8_t *img, const uint8_t *lab, int n, int resize, float *x, int *y)
{
    const size_t per_in = (size_t)MNIST_SIDE * MNIST_SIDE, per_out = (size_t)MNIST_OUT * MNIST_OUT;
    float tmp[MNIST_SIDE * MNIST_SIDE];
    for (int i = 0; i < n; i++) {
        const uint8_t *s = img + (size_t)i * per_in;
        float *o = x + (size_t)i * per_out;
        y[i] = lab[i];
        if (resize) {
            for (size_t k = 0; k < per_in; k++)
                tmp[k] = s[k] / 255.0f;
            mf_resize_bilinear(tmp, MNIST_SIDE, MNIST_SIDE, 1, o, MNIST_OUT, MNIST_OUT);
        } else {
            memset(o, 0, per_out * sizeof *o);
            for (int r = 0; r < MNIST_SIDE; r++)
                for (int c = 0; c < MNIST_SIDE; c++)
                    o[(r + MNIST_PAD) * MNIST_OUT + c + MNIST_PAD] = s[r * MNIST_SIDE + c] / 255.0f;
        }
    }
}

int mf_load_mnist(const char *dir, int resize, mf_dataset **out, mf_error *err)
{
    *out = NULL;
    if (!mf_file_is_dir(dir)) {
        mf_error_set(err, "MNIST folder '%s' does not exist", dir ? dir : "");
        mf_error_at(err, dir, 0, 0, NULL);
        return MF_ERR;
    }
    char tr_img[4096], tr_lab[4096], te_img[4096], te_lab[4096];
    uint8_t *xi = NULL, *yi = NULL, *xt = NULL, *yt = NULL;
    int n_train = 0, n_test = 0;
    if (read_split(dir, "train", tr_img, tr_lab, sizeof tr_img, &xi, &yi, &n_train, err))
        return MF_ERR;
    if (read_split(dir, "t10k", te_img, te_lab, sizeof te_img, &xt, &yt, &n_test, err)) {
        free(xi);
        free(yi);
        return MF_ERR;
    }
    mf_shape shape = {3, {MNIST_OUT, MNIST_OUT, 1, 0}};
    mf_dataset *d = mf_dataset_alloc("mnist", &shape, 10, n_train, n_test, 0, err);
    if (d) {
        d->class_names = calloc(10, sizeof *d->class_names);
        if (!d->class_names) {
            mf_dataset_free(d);
            d = NULL;
            mf_error_set(err, "mnist: out of memory for class names");
        }
    }
    if (d) {
        for (int k = 0; k < 10; k++)
            snprintf(d->class_names[k], MF_CLASS_NAME_MAX, "%d", k);
        convert(xi, yi, n_train, resize, d->x_train, d->y_train);
        convert(xt, yt, n_test, resize, d->x_test, d->y_test);
    }
    free(xi);
    free(yi);
    free(xt);
    free(yt);
    if (!d) return MF_ERR;
    *out = d;
    return MF_OK;
}
