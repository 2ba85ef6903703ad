/* A folder of PNG images: root/{train,test}/<class>/NAME.png. Class folders sorted by name give
 * the labels and the class names; images are decoded with libpng to grey (Rec.601 luma) or RGB,
 * alpha dropped, 8 bits per channel, then scaled / 255 (and bilinearly resized when asked). */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <png.h>
#include <zlib.h>

#include "mf_datasets.h"
#include "mf_fileio.h"
#include "resize.h"

#define PNG_MAX_SIDE   16384
#define PNG_MAX_PIXELS ((size_t)1 << 26)
#define PNG_MAX_FILES  (1 << 24)

typedef struct {
    char **names;
    int n, cap;
} name_list;

static void names_free(name_list *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->names[i]);
    free(l->names);
    l->names = NULL;
    l->n = l->cap = 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int has_png_suffix(const char *name)
{
    size_t len = strlen(name);
    return len > 4 && strcasecmp(name + len - 4, ".png") == 0;
}

/* The entries of dir, sorted by strcmp: sub-folders (want_dirs) or regular *.png files; names
 * starting with '.' are skipped. */
static int list_dir(const char *dir, int want_dirs, name_list *out, mf_error *err)
{
    memset(out, 0, sizeof *out);
    DIR *dp = opendir(dir);
    if (!dp) {
        mf_error_set(err, "cannot open folder '%s': %s", dir, strerror(errno));
        mf_error_at(err, dir, 0, 0, NULL);
        return MF_ERR;
    }
    char path[4096];
    struct dirent *e;
    while ((e = readdir(dp)) != NULL) {
        if (e->d_name[0] == '.') continue;
        if (!want_dirs && !has_png_suffix(e->d_name)) continue;
        int w = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (w < 0 || (size_t)w >= sizeof path || stat(path, &st) != 0) continue;
        if (want_dirs ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) continue;
        if (out->n >= PNG_MAX_FILES) {
            mf_error_set(err, "folder '%s' holds more than %d entries", dir, PNG_MAX_FILES);
            mf_error_at(err, dir, 0, 0, NULL);
            goto fail;
        }
        if (out->n == out->cap) {
            int cap = out->cap ? 2 * out->cap : 64;
            char **p = realloc(out->names, (size_t)cap * sizeof *p);
            if (!p) goto oom;
            out->names = p;
            out->cap = cap;
        }
        char *s = malloc(strlen(e->d_name) + 1);
        if (!s) goto oom;
        strcpy(s, e->d_name);
        out->names[out->n++] = s;
    }
    closedir(dp);
    if (out->n > 1) qsort(out->names, (size_t)out->n, sizeof *out->names, cmp_names);
    return MF_OK;
oom:
    mf_error_set(err, "out of memory listing folder '%s'", dir);
    mf_error_at(err, dir, 0, 0, NULL);
fail:
    closedir(dp);
    names_free(out);
    return MF_ERR;
}

/* ---- one PNG ---- */

typedef struct {
    FILE *f;
    long offset; /* bytes consumed so far */
    char msg[256];
} png_ctx;

static void png_error_fn(png_structp png, png_const_charp msg)
{
    png_ctx *c = png_get_error_ptr(png);
    snprintf(c->msg, sizeof c->msg, "%s", msg ? msg : "error");
    png_longjmp(png, 1);
}

static void png_warning_fn(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

static void png_read_fn(png_structp png, png_bytep data, size_t len)
{
    png_ctx *c = png_get_io_ptr(png);
    size_t n = fread(data, 1, len, c->f);
    c->offset += (long)n;
    if (n != len) png_error(png, ferror(c->f) ? "read error" : "unexpected end of file");
}

/* 8-bit pixels with sc (1 or 3) channels → floats with ch (1 or 3) channels, / 255. */
static void to_float(const png_byte *pix, size_t count, int sc, int ch, float *out)
{
    for (size_t i = 0; i < count; i++) {
        const png_byte *p = pix + i * (size_t)sc;
        float *o = out + i * (size_t)ch;
        if (sc == ch) {
            for (int c = 0; c < ch; c++)
                o[c] = p[c] / 255.0f;
        } else if (sc == 1) {
            o[0] = o[1] = o[2] = p[0] / 255.0f;
        } else {
            o[0] = (0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2]) / 255.0f;
        }
    }
}

/* The size limit: an image's message names its size and both limits. */
static int size_error(const char *path, unsigned long ih, unsigned long iw, mf_error *err)
{
    mf_error_set(err,
                 "image of %lu x %lu pixels (height x width) exceeds the size limit (at most %d "
                 "pixels a side and %zu pixels)",
                 ih, iw, PNG_MAX_SIDE, PNG_MAX_PIXELS);
    mf_error_at(err, path, 0, 0, NULL);
    return MF_ERR;
}

static int too_large(unsigned long ih, unsigned long iw)
{
    return ih > PNG_MAX_SIDE || iw > PNG_MAX_SIDE || (size_t)ih * iw > PNG_MAX_PIXELS;
}

/* The size in the first chunk, when it is a well-formed IHDR (length 13, CRC correct): 1 and
 * *ih, *iw; else 0 (libpng then reports what is wrong). Reads from the current position. */
static int peek_ihdr(FILE *f, unsigned long *ih, unsigned long *iw)
{
    unsigned char b[25];
    if (fread(b, 1, sizeof b, f) != sizeof b) return 0;
    unsigned long len =
        (unsigned long)b[0] << 24 | (unsigned long)b[1] << 16 | (unsigned long)b[2] << 8 | b[3];
    unsigned long crc =
        (unsigned long)b[21] << 24 | (unsigned long)b[22] << 16 | (unsigned long)b[23] << 8 | b[24];
    if (len != 13 || memcmp(b + 4, "IHDR", 4) != 0 || crc32(0L, b + 4, 17) != crc) return 0;
    *iw = (unsigned long)b[8] << 24 | (unsigned long)b[9] << 16 | (unsigned long)b[10] << 8 | b[11];
    *ih =
        (unsigned long)b[12] << 24 | (unsigned long)b[13] << 16 | (unsigned long)b[14] << 8 | b[15];
    return 1;
}

/* Decodes path into dst (h × w × ch floats), resizing when allowed. */
static int decode_png(const char *path, int h, int w, int ch, int resize, float *dst, mf_error *err)
{
    png_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.f = fopen(path, "rb");
    if (!ctx.f) {
        mf_error_set(err, "cannot open '%s': %s", path, strerror(errno));
        mf_error_at(err, path, 0, 0, NULL);
        return MF_ERR;
    }
    png_byte sig[8];
    size_t got = fread(sig, 1, sizeof sig, ctx.f);
    if (got < sizeof sig || png_sig_cmp(sig, 0, sizeof sig) != 0) {
        fclose(ctx.f);
        mf_error_set(err, "not a PNG file (%s)",
                     got < sizeof sig ? "shorter than the 8-byte signature" : "bad signature");
        mf_error_at_offset(err, path, 0);
        return MF_ERR;
    }
    /* a valid header of an image over the size limit is said to be one (libpng would call it
     * invalid), before anything is decoded */
    unsigned long hh = 0, hw = 0;
    if (peek_ihdr(ctx.f, &hh, &hw) && too_large(hh, hw)) {
        fclose(ctx.f);
        return size_error(path, hh, hw, err);
    }
    if (fseek(ctx.f, 8, SEEK_SET) != 0) {
        mf_error_set(err, "cannot read '%s': %s", path, strerror(errno));
        mf_error_at(err, path, 0, 0, NULL);
        fclose(ctx.f);
        return MF_ERR;
    }
    ctx.offset = 8;
    png_structp png =
        png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, png_error_fn, png_warning_fn);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_read_struct(png ? &png : NULL, NULL, NULL);
        fclose(ctx.f);
        mf_error_set(err, "out of memory for the PNG decoder");
        mf_error_at(err, path, 0, 0, NULL);
        return MF_ERR;
    }
    /* changed after setjmp and used after a longjmp: volatile */
    png_bytep volatile pix = NULL;
    png_bytepp volatile rows = NULL;
    float *volatile tmp = NULL;
    volatile int rc = MF_ERR;
    if (setjmp(png_jmpbuf(png))) {
        mf_error_set(err, "corrupt or truncated PNG (libpng: %s)", ctx.msg);
        mf_error_at_offset(err, path, ctx.offset);
        goto done;
    }
    png_set_read_fn(png, &ctx, png_read_fn);
    png_set_sig_bytes(png, 8);
    png_set_user_limits(png, PNG_MAX_SIDE, PNG_MAX_SIDE);
    png_read_info(png, info);
    png_uint_32 iw = png_get_image_width(png, info), ih = png_get_image_height(png, info);
    int depth = png_get_bit_depth(png, info), ctype = png_get_color_type(png, info);
    if (too_large(ih, iw)) {
        size_error(path, ih, iw, err);
        goto done;
    }
    if (((int)iw != w || (int)ih != h) && !resize) {
        mf_error_set(err, "image is %u x %u (height x width), expected %d x %d", (unsigned)ih,
                     (unsigned)iw, h, w);
        mf_error_at(err, path, 0, 0, NULL);
        goto done;
    }
    if (ctype == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (ctype == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (depth == 16) png_set_scale_16(png);
    if (ctype & PNG_COLOR_MASK_ALPHA) png_set_strip_alpha(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    int sc = png_get_channels(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    if ((sc != 1 && sc != 3) || rowbytes != (size_t)iw * sc) {
        mf_error_set(err, "unsupported PNG layout (%d channels, %zu bytes per row)", sc, rowbytes);
        mf_error_at(err, path, 0, 0, NULL);
        goto done;
    }
    pix = malloc(rowbytes * ih);
    rows = malloc(sizeof *rows * ih);
    if (!pix || !rows) {
        mf_error_set(err, "out of memory decoding a %u x %u image", (unsigned)ih, (unsigned)iw);
        mf_error_at(err, path, 0, 0, NULL);
        goto done;
    }
    for (png_uint_32 y = 0; y < ih; y++)
        rows[y] = pix + (size_t)y * rowbytes;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    if ((int)iw == w && (int)ih == h) {
        to_float(pix, (size_t)iw * ih, sc, ch, dst);
    } else {
        tmp = malloc(sizeof(float) * (size_t)iw * ih * ch);
        if (!tmp) {
            mf_error_set(err, "out of memory resizing a %u x %u image", (unsigned)ih, (unsigned)iw);
            mf_error_at(err, path, 0, 0, NULL);
            goto done;
        }
        to_float(pix, (size_t)iw * ih, sc, ch, tmp);
        mf_resize_bilinear(tmp, (int)ih, (int)iw, ch, dst, h, w);
    }
    rc = MF_OK;
done:
    png_destroy_read_struct(&png, &info, NULL);
    fclose(ctx.f);
    free(pix);
    free(rows);
    free(tmp);
    return rc;
}

/* ---- the folder ---- */

/* The *.png files of every class folder of one split; count = their total. */
static int list_split(const char *split_dir, const name_list *classes, name_list *files, int *count,
                      mf_error *err)
{
    char dir[4096];
    *count = 0;
    for (int k = 0; k < classes->n; k++) {
        snprintf(dir, sizeof dir, "%s/%s", split_dir, classes->names[k]);
        if (list_dir(dir, 0, &files[k], err)) return MF_ERR;
        if (files[k].n > PNG_MAX_FILES - *count) {
            mf_error_set(err, "'%s' holds more than %d images", split_dir, PNG_MAX_FILES);
            mf_error_at(err, split_dir, 0, 0, NULL);
            return MF_ERR;
        }
        *count += files[k].n;
    }
    return MF_OK;
}

static int decode_split(const char *split_dir, const name_list *classes, const name_list *files,
                        int h, int w, int ch, int resize, float *x, int *y, mf_error *err)
{
    char path[8192];
    size_t per = (size_t)h * w * ch;
    int i = 0;
    for (int k = 0; k < classes->n; k++)
        for (int j = 0; j < files[k].n; j++, i++) {
            snprintf(path, sizeof path, "%s/%s/%s", split_dir, classes->names[k],
                     files[k].names[j]);
            if (decode_png(path, h, w, ch, resize, x + (size_t)i * per, err)) return MF_ERR;
            y[i] = k;
        }
    return MF_OK;
}

int mf_load_png_folder(const char *root, int height, int width, int channels, int resize,
                       mf_dataset **out, mf_error *err)
{
    *out = NULL;
    if (height < 1 || width < 1 || height > PNG_MAX_SIDE || width > PNG_MAX_SIDE)
        return mf_error_set(err, "PNG folder: image size %d x %d is out of range (1 to %d)", height,
                            width, PNG_MAX_SIDE);
    if (channels != 1 && channels != 3)
        return mf_error_set(err, "PNG folder: channels must be 1 (grey) or 3 (RGB), got %d",
                            channels);
    char train_dir[4096], test_dir[4096];
    int w1 = snprintf(train_dir, sizeof train_dir, "%s/train", root ? root : "");
    int w2 = snprintf(test_dir, sizeof test_dir, "%s/test", root ? root : "");
    if (!root || w1 < 0 || w2 < 0 || (size_t)w1 >= sizeof train_dir ||
        (size_t)w2 >= sizeof test_dir)
        return mf_error_set(err, "PNG folder: the root path is missing or too long");
    if (!mf_file_is_dir(root)) {
        mf_error_set(err, "PNG folder '%s' does not exist", root);
        mf_error_at(err, root, 0, 0, NULL);
        return MF_ERR;
    }
    const char *split_dirs[2] = {train_dir, test_dir};
    for (int s = 0; s < 2; s++)
        if (!mf_file_is_dir(split_dirs[s])) {
            mf_error_set(err,
                         "folder '%s' does not exist (expected %s/train/<class>/*.png and "
                         "%s/test/<class>/*.png)",
                         split_dirs[s], root, root);
            mf_error_at(err, split_dirs[s], 0, 0, NULL);
            return MF_ERR;
        }

    name_list classes, test_classes;
    name_list *files[2] = {NULL, NULL};
    mf_dataset *d = NULL;
    int counts[2] = {0, 0}, rc = MF_ERR;
    memset(&test_classes, 0, sizeof test_classes);
    if (list_dir(train_dir, 1, &classes, err)) return MF_ERR;
    if (classes.n == 0) {
        mf_error_set(err, "no class folders in '%s'", train_dir);
        mf_error_at(err, train_dir, 0, 0, NULL);
        goto done;
    }
    for (int k = 0; k < classes.n; k++)
        if (strlen(classes.names[k]) >= MF_CLASS_NAME_MAX) {
            mf_error_set(err, "class folder name '%s' is longer than %d characters",
                         classes.names[k], MF_CLASS_NAME_MAX - 1);
            mf_error_at(err, train_dir, 0, 0, NULL);
            goto done;
        }
    if (list_dir(test_dir, 1, &test_classes, err)) goto done;
    for (int k = 0; k < classes.n || k < test_classes.n; k++) {
        const char *a = k < classes.n ? classes.names[k] : NULL;
        const char *b = k < test_classes.n ? test_classes.names[k] : NULL;
        if (a && b && strcmp(a, b) == 0) continue;
        /* the first name (in sorted order) that only one split has */
        int only_train = !b || (a && strcmp(a, b) < 0);
        mf_error_set(err,
                     "the test split must have the same class folders as the train split: "
                     "'%s' is in %s but not in %s",
                     only_train ? a : b, only_train ? train_dir : test_dir,
                     only_train ? test_dir : train_dir);
        mf_error_at(err, test_dir, 0, 0, NULL);
        goto done;
    }
    for (int s = 0; s < 2; s++) {
        files[s] = calloc((size_t)classes.n, sizeof *files[s]);
        if (!files[s]) {
            mf_error_set(err, "out of memory listing '%s'", split_dirs[s]);
            goto done;
        }
        if (list_split(split_dirs[s], &classes, files[s], &counts[s], err)) goto done;
    }
    if (counts[0] == 0) {
        mf_error_set(err, "no *.png images in the class folders of '%s'", train_dir);
        mf_error_at(err, train_dir, 0, 0, NULL);
        goto done;
    }
    mf_shape shape = {3, {height, width, channels, 0}};
    d = mf_dataset_alloc("png-folder", &shape, classes.n, counts[0], counts[1], 0, err);
    if (!d) goto done;
    d->class_names = calloc((size_t)classes.n, sizeof *d->class_names);
    if (!d->class_names) {
        mf_error_set(err, "png-folder: out of memory for class names");
        goto done;
    }
    for (int k = 0; k < classes.n; k++)
        snprintf(d->class_names[k], MF_CLASS_NAME_MAX, "%s", classes.names[k]);
    if (decode_split(train_dir, &classes, files[0], height, width, channels, resize, d->x_train,
                     d->y_train, err))
        goto done;
    if (decode_split(test_dir, &classes, files[1], height, width, channels, resize, d->x_test,
                     d->y_test, err))
        goto done;
    *out = d;
    d = NULL;
    rc = MF_OK;
done:
    mf_dataset_free(d);
    for (int s = 0; s < 2; s++)
        if (files[s]) {
            for (int k = 0; k < classes.n; k++)
                names_free(&files[s][k]);
            free(files[s]);
        }
    names_free(&classes);
    names_free(&test_classes);
    return rc;
}
