/* The kernel table: for each kernel kind and precision, the runtime function, its argument list
 * (mf_call_args: what the generator prints) and its scratch getter; and the host interpreter's
 * call of that same function with the same arguments (mf_program_run_call). tests/test_lower.c
 * compiles the generated C against these kernels and checks both agree on random models. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lower_internal.h"

static const struct {
    const char *stem;
    const char *args[3]; /* float32, int16, int8 */
} kernels[MF_K_COUNT] = {
    [MF_K_CONV] = {"conv", {"G I W B L O", "G I W B R O S", "G I W B R O S"}},
    [MF_K_CONV_MAXPOOL] = {"conv_maxpool", {"G P I W B L O", "G P I W B R O S", "G P I W B R O S"}},
    [MF_K_DENSE] = {"dense", {"N M I W B L O", "N M I W B R O", "N M I W B R O S"}},
    [MF_K_MAXPOOL] = {"maxpool", {"G I 0 O", "G I 0 O", "G I 0 O"}},
    [MF_K_AVGPOOL] = {"avgpool", {"G I 0 O", "G I 0 D O", "G I 0 D O"}},
    [MF_K_GLOBAL_MAXPOOL] = {"global_maxpool", {"Q H I O", "Q H I O", "Q H I O"}},
    [MF_K_GLOBAL_AVGPOOL] = {"global_avgpool", {"Q H I O", "Q H I D O", "Q H I D O"}},
    [MF_K_ADD] = {"add", {"Z I J L O", "Z I A J C R O", "Z I A J C R O"}},
    [MF_K_RELU] = {"relu", {"Z I O", "Z I O", "Z I O"}},
    [MF_K_RELU6] = {"relu6", {"Z I O", "Z I R O", "Z I R O"}},
    [MF_K_DWCONV] = {"dwconv", {"G I W B L O", "G I W B R O", "G I W B R O S"}},
    [MF_K_AFFINE] = {"affine", {"Q H I W B O", "Q H I W B R O", "Q H I W B R O"}},
    [MF_K_CONCAT] = {"concat", {"Q Y I J T U O", "Q Y I J T U O", "Q Y I J T U O"}},
    [MF_K_ADDN] = {"addn",
                   {"Z K I J T U L O", "Z K I A J C T E U F R O", "Z K I A J C T E U F R O"}},
};

static int prec(int bits)
{
    return bits == 8 ? 2 : bits == 16 ? 1 : 0;
}

const char *mf_call_args(const mf_call *c, int bits)
{
    if (c->sparse && c->kind == MF_K_DENSE) return "N M I X W B R O";
    if (c->sparse && c->kind == MF_K_CONV) return "G I X W B R O S";
    if (c->sparse) return "G P I X W B R O S"; /* conv + max pool */
    return kernels[c->kind].args[prec(bits)];
}

/* "%s"-style append into buf at *used (truncation counted in *trunc). */
static void put(char *buf, size_t size, size_t *used, int *trunc, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void put(char *buf, size_t size, size_t *used, int *trunc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const int w = *used < size ? vsnprintf(buf + *used, size - *used, fmt, ap) : -1;
    va_end(ap);
    if (w < 0 || (size_t)w >= size - (*used < size ? *used : size)) {
        *trunc = 1;
        *used = size;
        return;
    }
    *used += (size_t)w;
}

static const char *rounding_c(int rounding)
{
    return rounding == MF_RT_ROUND_HALF_UP ? "MF_RT_ROUND_HALF_UP" : "MF_RT_ROUND_FLOOR";
}

int mf_call_c(const mf_call *c, int bits, const char *id, char *stat, size_t stat_size, char *args,
              size_t args_size)
{
    size_t us = 0, ua = 0;
    int trunc = 0;
    if (stat_size) stat[0] = '\0';
    if (args_size) args[0] = '\0';
    const char *letters = mf_call_args(c, bits);
    if (strchr(letters, 'R')) {
        char relu[32];
        if (c->rq.relu >= 2) /* ReLU6 (the *_relu6 kernels) */
            snprintf(relu, sizeof relu, "MF_RT_RELU6(%d)", c->rq.relu - 2);
        else
            snprintf(relu, sizeof relu, "%d", c->rq.relu);
        put(stat, stat_size, &us, &trunc,
            "static const mf_rt_requant %s_rq = {.shift = %d, .shifts = %s%s, .relu = %s, "
            ".rounding = %s};\n",
            id, c->rq.shift, c->shifts.data ? id : "NULL", c->shifts.data ? "_shifts" : "", relu,
            rounding_c(c->rq.rounding));
    }
    if (strchr(letters, 'Y')) {
        const mf_rt_concat *q = &c->cat;
        put(stat, stat_size, &us, &trunc,
            "static const mf_rt_concat %s_cat = {.k = %d, .channels = {%d, %d, %d, %d}, .shift = "
            "{%d, %d, %d, %d}, .rounding = %s};\n",
            id, q->k, q->channels[0], q->channels[1], q->channels[2], q->channels[3], q->shift[0],
            q->shift[1], q->shift[2], q->shift[3], rounding_c(q->rounding));
    }
    if (strchr(letters, 'G')) {
        const mf_rt_geom *g = &c->geom;
        put(stat, stat_size, &us, &trunc,
            "static const mf_rt_geom %s_geom = {\n"
            "    .h = %d, .w = %d, .cin = %d, .oh = %d, .ow = %d, .cout = %d,\n"
            "    .kh = %d, .kw = %d, .sh = %d, .sw = %d, .pad_top = %d, .pad_left = %d};\n",
            id, g->h, g->w, g->cin, g->oh, g->ow, g->cout, g->kh, g->kw, g->sh, g->sw, g->pad_top,
            g->pad_left);
    }
    for (const char *a = letters; *a; a++) {
        if (*a == ' ') continue;
        if (a != letters) put(args, args_size, &ua, &trunc, ", ");
        switch (*a) {
        case 'G':
            put(args, args_size, &ua, &trunc, "&%s_geom", id);
            break;
        case 'P':
            put(args, args_size, &ua, &trunc, "%d, %d, %d, %d", c->pool_kh, c->pool_kw, c->pool_sh,
                c->pool_sw);
            break;
        case 'I':
            put(args, args_size, &ua, &trunc, "MF_AT(%zu)", c->in_off[0]);
            break;
        case 'J':
            put(args, args_size, &ua, &trunc, "MF_AT(%zu)", c->in_off[1]);
            break;
        case 'O':
            put(args, args_size, &ua, &trunc, "MF_AT(%zu)", c->out_off);
            break;
        case 'W':
            put(args, args_size, &ua, &trunc, "%s_w", id);
            break;
        case 'X':
            put(args, args_size, &ua, &trunc, "%s_idx", id);
            break;
        case 'B':
            if (c->bias.data)
                put(args, args_size, &ua, &trunc, "%s_b", id);
            else
                put(args, args_size, &ua, &trunc, "NULL");
            break;
        case 'R':
            put(args, args_size, &ua, &trunc, "&%s_rq", id);
            break;
        case 'L':
            put(args, args_size, &ua, &trunc, "%d", c->relu);
            break;
        case 'D':
            put(args, args_size, &ua, &trunc, "%s", rounding_c(c->rounding));
            break;
        case 'A':
            put(args, args_size, &ua, &trunc, "%d", c->align_a);
            break;
        case 'C':
            put(args, args_size, &ua, &trunc, "%d", c->align_b);
            break;
        case 'E':
            put(args, args_size, &ua, &trunc, "%d", c->align_c);
            break;
        case 'F':
            put(args, args_size, &ua, &trunc, "%d", c->align_d);
            break;
        case 'K':
            put(args, args_size, &ua, &trunc, "%d", c->n_inputs);
            break;
        case 'T':
            if (c->n_inputs > 2)
                put(args, args_size, &ua, &trunc, "MF_AT(%zu)", c->in_off[2]);
            else
                put(args, args_size, &ua, &trunc, "NULL");
            break;
        case 'Y':
            put(args, args_size, &ua, &trunc, "&%s_cat", id);
            break;
        case 'U':
            if (c->n_inputs > 3)
                put(args, args_size, &ua, &trunc, "MF_AT(%zu)", c->in_off[3]);
            else
                put(args, args_size, &ua, &trunc, "NULL");
            break;
        case 'N':
        case 'Q':
            put(args, args_size, &ua, &trunc, "%d", c->n_in);
            break;
        case 'M':
        case 'H':
            put(args, args_size, &ua, &trunc, "%d", c->n_out);
            break;
        case 'Z':
            put(args, args_size, &ua, &trunc, "%zu", c->count);
            break;
        case '0':
            put(args, args_size, &ua, &trunc, "0");
            break;
        case 'S':
            if (c->scratch_bytes)
                put(args, args_size, &ua, &trunc, "MF_AT(%zu)", c->scratch_off);
            else
                put(args, args_size, &ua, &trunc, "NULL");
            break;
        }
    }
    return trunc ? MF_ERR : MF_OK;
}

/* The int8 conv kernel of a conv call (mf_rt_conv_s8_choose: the choice the firmware and
 * bench/kernel_sweep share). */
static mf_rt_conv_s8_kernel conv_s8_kernel(const mf_call *c)
{
    if (c->kind == MF_K_CONV) return mf_rt_conv_s8_choose(&c->geom, 1, 1, 1, 1);
    return mf_rt_conv_s8_choose(&c->geom, c->pool_kh, c->pool_kw, c->pool_sh, c->pool_sw);
}

void mf_call_name(mf_call *c, int bits)
{
    static const char *const sfx[3] = {"f32", "s16", "s8"};
    static const char *const patch[5] = {"", "conv_patch3x3o3", "conv_patch1x3o3",
                                         "conv_patch5x5o1", "conv_patchgo3"};
    const int conv8 =
        bits == 8 && !c->sparse && (c->kind == MF_K_CONV || c->kind == MF_K_CONV_MAXPOOL);
    c->conv8 = conv8 ? conv_s8_kernel(c) : MF_RT_CONV_S8_ENGINE;
    c->conv8_variant = c->conv8 == MF_RT_CONV_S8_FIELD ? mf_rt_conv_field_s8_p(&c->geom, 1, 1, 1, 1)
                       : c->conv8 == MF_RT_CONV_S8_PATCH ? mf_rt_conv_patch_s8_shape(&c->geom)
                                                         : 0;
    char stem[16]; /* the longest, "conv_patch5x5o1", fits c->kernel with every suffix */
    switch (c->conv8) {
    case MF_RT_CONV_S8_FIELD:
        snprintf(stem, sizeof stem, "conv_field%d", c->conv8_variant);
        break;
    case MF_RT_CONV_S8_SMALL:
        snprintf(stem, sizeof stem, "conv_small");
        break;
    case MF_RT_CONV_S8_1D:
        snprintf(stem, sizeof stem, "conv1d");
        break;
    case MF_RT_CONV_S8_WIDE:
        snprintf(stem, sizeof stem, "conv_wide");
        break;
    case MF_RT_CONV_S8_PATCH:
        snprintf(stem, sizeof stem, "%s", patch[c->conv8_variant]);
        break;
    case MF_RT_CONV_S8_LANES:
        snprintf(stem, sizeof stem, "conv_lanes");
        break;
    case MF_RT_CONV_S8_DOT:
        snprintf(stem, sizeof stem, "conv_dot");
        break;
    case MF_RT_CONV_S8_ENGINE:
        snprintf(stem, sizeof stem, "%s",
                 c->sparse && c->kind == MF_K_DENSE ? "dense_sparse"
                 : c->sparse                        ? "conv_sparse"
                                                    : kernels[c->kind].stem);
        break;
    }
    /* the special kernels carry the pool in their names; the engine's conv_maxpool in its stem */
    const int named_pool =
        (c->conv8 != MF_RT_CONV_S8_ENGINE || c->sparse) && c->kind == MF_K_CONV_MAXPOOL;
    snprintf(c->kernel, sizeof c->kernel, "mf_rt_%s%s%s_%s", stem, named_pool ? "_maxpool" : "",
             c->relu6 ? "_relu6" : "", sfx[prec(bits)]);
}

size_t mf_call_scratch_bytes(const mf_call *c, int bits)
{
    if (c->kind == MF_K_CONV || c->kind == MF_K_CONV_MAXPOOL) {
        if (bits == 8 && c->sparse) return mf_rt_conv_sparse_s8_scratch_bytes(&c->geom);
        if (c->conv8 == MF_RT_CONV_S8_FIELD) return mf_rt_conv_field_s8_scratch_bytes(&c->geom);
        if (c->conv8 == MF_RT_CONV_S8_SMALL) return mf_rt_conv_small_s8_scratch_bytes(&c->geom);
        if (c->conv8 == MF_RT_CONV_S8_PATCH) return mf_rt_conv_patch_s8_scratch_bytes(&c->geom);
        if (c->conv8 == MF_RT_CONV_S8_LANES) return mf_rt_conv_lanes_s8_scratch_bytes(&c->geom);
        if (c->conv8 == MF_RT_CONV_S8_DOT) return mf_rt_conv_dot_s8_scratch_bytes(&c->geom);
        if (bits == 8) return mf_rt_conv_s8_scratch_bytes(&c->geom);
        if (bits == 16) return mf_rt_conv_s16_scratch_bytes(&c->geom);
    }
    if (c->kind == MF_K_DENSE && bits == 8 && !c->sparse)
        return mf_rt_dense_s8_scratch_bytes(c->n_in, c->n_out);
    if (c->kind == MF_K_DWCONV && bits == 8) return mf_rt_dwconv_s8_scratch_bytes(&c->geom);
    return 0;
}

/* ---- the host interpreter: one call ---- */

#define AT(off) ((void *)((char *)arena + (off)))

/* The register-field kernels by P − 1 (mf_call.conv8_variant). */
typedef void (*conv_s8_fn)(const mf_rt_geom *, const int8_t *, const int8_t *, const int32_t *,
                           const mf_rt_requant *, int8_t *, void *);
typedef void (*conv_maxpool_s8_fn)(const mf_rt_geom *, int, int, int, int, const int8_t *,
                                   const int8_t *, const int32_t *, const mf_rt_requant *, int8_t *,
                                   void *);
#define FIELD_FNS(sfx)                                                                             \
    {                                                                                              \
        mf_rt_conv_field1##sfx, mf_rt_conv_field2##sfx, mf_rt_conv_field3##sfx,                    \
            mf_rt_conv_field4##sfx, mf_rt_conv_field5##sfx, mf_rt_conv_field6##sfx,                \
            mf_rt_conv_field7##sfx, mf_rt_conv_field8##sfx                                         \
    }
static const conv_s8_fn field_s8[8] = FIELD_FNS(_s8), field_relu6_s8[8] = FIELD_FNS(_relu6_s8);
static const conv_maxpool_s8_fn field_maxpool_s8[8] = FIELD_FNS(_maxpool_s8),
                                field_maxpool_relu6_s8[8] = FIELD_FNS(_maxpool_relu6_s8);
/* The patch kernels by shape − 1 (mf_call.conv8_variant, MF_RT_CONV_PATCH_*). */
#define PATCH_FNS(sfx)                                                                             \
    {                                                                                              \
        mf_rt_conv_patch3x3o3##sfx, mf_rt_conv_patch1x3o3##sfx, mf_rt_conv_patch5x5o1##sfx,        \
            mf_rt_conv_patchgo3##sfx                                                               \
    }
static const conv_s8_fn patch_s8[4] = PATCH_FNS(_s8), patch_relu6_s8[4] = PATCH_FNS(_relu6_s8);
static const conv_maxpool_s8_fn patch_maxpool_s8[4] = PATCH_FNS(_maxpool_s8),
                                patch_maxpool_relu6_s8[4] = PATCH_FNS(_maxpool_relu6_s8);

/* A dense int8 conv call on the kernel the lowering chose (mf_call.conv8). */
static void run_conv_s8(const mf_call *c, int r6, const mf_rt_geom *g, const int8_t *a,
                        const int8_t *w, const int32_t *bias, const mf_rt_requant *rq, int8_t *o,
                        void *s)
{
    const int v = c->conv8_variant - 1;
    switch (c->conv8) {
    case MF_RT_CONV_S8_FIELD:
        (r6 ? field_relu6_s8 : field_s8)[v](g, a, w, bias, rq, o, s);
        break;
    case MF_RT_CONV_S8_SMALL:
        (r6 ? mf_rt_conv_small_relu6_s8 : mf_rt_conv_small_s8)(g, a, w, bias, rq, o, s);
        break;
    case MF_RT_CONV_S8_1D:
        (r6 ? mf_rt_conv1d_relu6_s8 : mf_rt_conv1d_s8)(g, a, w, bias, rq, o, s);
        break;
    case MF_RT_CONV_S8_WIDE:
        (r6 ? mf_rt_conv_wide_relu6_s8 : mf_rt_conv_wide_s8)(g, a, w, bias, rq, o, s);
        break;
    case MF_RT_CONV_S8_PATCH:
        (r6 ? patch_relu6_s8 : patch_s8)[v](g, a, w, bias, rq, o, s);
        break;
    case MF_RT_CONV_S8_LANES:
        (r6 ? mf_rt_conv_lanes_relu6_s8 : mf_rt_conv_lanes_s8)(g, a, w, bias, rq, o, s);
        break;
    case MF_RT_CONV_S8_DOT:
        (r6 ? mf_rt_conv_dot_relu6_s8 : mf_rt_conv_dot_s8)(g, a, w, bias, rq, o, s);
        break;
    case MF_RT_CONV_S8_ENGINE:
        (r6 ? mf_rt_conv_relu6_s8 : mf_rt_conv_s8)(g, a, w, bias, rq, o, s);
        break;
    }
}

static void run_conv_maxpool_s8(const mf_call *c, int r6, const mf_rt_geom *g, const int8_t *a,
                                const int8_t *w, const int32_t *bias, const mf_rt_requant *rq,
                                int8_t *o, void *s)
{
    const int v = c->conv8_variant - 1;
    const int kh = c->pool_kh, kw = c->pool_kw, sh = c->pool_sh, sw = c->pool_sw;
    switch (c->conv8) {
    case MF_RT_CONV_S8_FIELD:
        (r6 ? field_maxpool_relu6_s8 : field_maxpool_s8)[v](g, kh, kw, sh, sw, a, w, bias, rq, o,
                                                            s);
        break;
    case MF_RT_CONV_S8_SMALL:
        (r6 ? mf_rt_conv_small_maxpool_relu6_s8 : mf_rt_conv_small_maxpool_s8)(g, kh, kw, sh, sw, a,
                                                                               w, bias, rq, o, s);
        break;
    case MF_RT_CONV_S8_1D:
        (r6 ? mf_rt_conv1d_maxpool_relu6_s8 : mf_rt_conv1d_maxpool_s8)(g, kh, kw, sh, sw, a, w,
                                                                       bias, rq, o, s);
        break;
    case MF_RT_CONV_S8_WIDE:
        (r6 ? mf_rt_conv_wide_maxpool_relu6_s8 : mf_rt_conv_wide_maxpool_s8)(g, kh, kw, sh, sw, a,
                                                                             w, bias, rq, o, s);
        break;
    case MF_RT_CONV_S8_PATCH:
        (r6 ? patch_maxpool_relu6_s8 : patch_maxpool_s8)[v](g, kh, kw, sh, sw, a, w, bias, rq, o,
                                                            s);
        break;
    case MF_RT_CONV_S8_LANES:
        (r6 ? mf_rt_conv_lanes_maxpool_relu6_s8 : mf_rt_conv_lanes_maxpool_s8)(g, kh, kw, sh, sw, a,
                                                                               w, bias, rq, o, s);
        break;
    case MF_RT_CONV_S8_DOT:
        (r6 ? mf_rt_conv_dot_maxpool_relu6_s8 : mf_rt_conv_dot_maxpool_s8)(g, kh, kw, sh, sw, a, w,
                                                                           bias, rq, o, s);
        break;
    case MF_RT_CONV_S8_ENGINE:
        (r6 ? mf_rt_conv_maxpool_relu6_s8 : mf_rt_conv_maxpool_s8)(g, kh, kw, sh, sw, a, w, bias,
                                                                   rq, o, s);
        break;
    }
}

void mf_program_run_call(const mf_program *p, int k, void *arena)
{
    const mf_call *c = &p->calls[k];
    const void *a = AT(c->in_off[0]), *b = c->n_inputs > 1 ? AT(c->in_off[1]) : NULL;
    const void *in2 = c->n_inputs > 2 ? AT(c->in_off[2]) : NULL,
               *in3 = c->n_inputs > 3 ? AT(c->in_off[3]) : NULL;
    void *o = AT(c->out_off), *s = c->scratch_bytes ? AT(c->scratch_off) : NULL;
    const void *w = c->w.data, *bias = c->bias.data;
    const mf_rt_geom *g = &c->geom;
    const mf_rt_requant *rq = &c->rq;
    const int bits = p->bits;
    const int r6 = c->relu6; /* the *_relu6 forms (mf_call_name) */
    switch (c->kind) {
    case MF_K_CONV:
        if (bits == 32) (r6 ? mf_rt_conv_relu6_f32 : mf_rt_conv_f32)(g, a, w, bias, c->relu, o);
        if (bits == 16) (r6 ? mf_rt_conv_relu6_s16 : mf_rt_conv_s16)(g, a, w, bias, rq, o, s);
        if (bits == 8 && c->sparse)
            (r6 ? mf_rt_conv_sparse_relu6_s8 : mf_rt_conv_sparse_s8)(g, a, c->idx.data, w, bias, rq,
                                                                     o, s);
        else if (bits == 8)
            run_conv_s8(c, r6, g, a, w, bias, rq, o, s);
        break;
    case MF_K_CONV_MAXPOOL:
        if (bits == 32)
            (r6 ? mf_rt_conv_maxpool_relu6_f32 : mf_rt_conv_maxpool_f32)(
                g, c->pool_kh, c->pool_kw, c->pool_sh, c->pool_sw, a, w, bias, c->relu, o);
        if (bits == 16)
            (r6 ? mf_rt_conv_maxpool_relu6_s16 : mf_rt_conv_maxpool_s16)(
                g, c->pool_kh, c->pool_kw, c->pool_sh, c->pool_sw, a, w, bias, rq, o, s);
        if (bits == 8 && c->sparse)
            (r6 ? mf_rt_conv_sparse_maxpool_relu6_s8
                : mf_rt_conv_sparse_maxpool_s8)(g, c->pool_kh, c->pool_kw, c->pool_sh, c->pool_sw,
                                                a, c->idx.data, w, bias, rq, o, s);
        else if (bits == 8)
            run_conv_maxpool_s8(c, r6, g, a, w, bias, rq, o, s);
        break;
    case MF_K_DENSE:
        if (bits == 32)
            (r6 ? mf_rt_dense_relu6_f32 : mf_rt_dense_f32)(c->n_in, c->n_out, a, w, bias, c->relu,
                                                           o);
        if (bits == 16)
            (r6 ? mf_rt_dense_relu6_s16 : mf_rt_dense_s16)(c->n_in, c->n_out, a, w, bias, rq, o);
        if (bits == 8 && c->sparse)
            (r6 ? mf_rt_dense_sparse_relu6_s8 : mf_rt_dense_sparse_s8)(c->n_in, c->n_out, a,
                                                                       c->idx.data, w, bias, rq, o);
        else if (bits == 8)
            (r6 ? mf_rt_dense_relu6_s8 : mf_rt_dense_s8)(c->n_in, c->n_out, a, w, bias, rq, o, s);
        break;
    case MF_K_MAXPOOL:
        if (bits == 32) mf_rt_maxpool_f32(g, a, 0, o);
        if (bits == 16) mf_rt_maxpool_s16(g, a, 0, o);
        if (bits == 8) mf_rt_maxpool_s8(g, a, 0, o);
        break;
    case MF_K_AVGPOOL:
        if (bits == 32) mf_rt_avgpool_f32(g, a, 0, o);
        if (bits == 16) mf_rt_avgpool_s16(g, a, 0, c->rounding, o);
        if (bits == 8) mf_rt_avgpool_s8(g, a, 0, c->rounding, o);
        break;
    case MF_K_GLOBAL_MAXPOOL:
        if (bits == 32) mf_rt_global_maxpool_f32(c->n_in, c->n_out, a, o);
        if (bits == 16) mf_rt_global_maxpool_s16(c->n_in, c->n_out, a, o);
        if (bits == 8) mf_rt_global_maxpool_s8(c->n_in, c->n_out, a, o);
        break;
    case MF_K_GLOBAL_AVGPOOL:
        if (bits == 32) mf_rt_global_avgpool_f32(c->n_in, c->n_out, a, o);
        if (bits == 16) mf_rt_global_avgpool_s16(c->n_in, c->n_out, a, c->rounding, o);
        if (bits == 8) mf_rt_global_avgpool_s8(c->n_in, c->n_out, a, c->rounding, o);
        break;
    case MF_K_ADD:
        if (bits == 32) (r6 ? mf_rt_add_relu6_f32 : mf_rt_add_f32)(c->count, a, b, c->relu, o);
        if (bits == 16)
            (r6 ? mf_rt_add_relu6_s16 : mf_rt_add_s16)(c->count, a, c->align_a, b, c->align_b, rq,
                                                       o);
        if (bits == 8)
            (r6 ? mf_rt_add_relu6_s8 : mf_rt_add_s8)(c->count, a, c->align_a, b, c->align_b, rq, o);
        break;
    case MF_K_DWCONV:
        if (bits == 32) (r6 ? mf_rt_dwconv_relu6_f32 : mf_rt_dwconv_f32)(g, a, w, bias, c->relu, o);
        if (bits == 16) (r6 ? mf_rt_dwconv_relu6_s16 : mf_rt_dwconv_s16)(g, a, w, bias, rq, o);
        if (bits == 8) (r6 ? mf_rt_dwconv_relu6_s8 : mf_rt_dwconv_s8)(g, a, w, bias, rq, o, s);
        break;
    case MF_K_AFFINE:
        if (bits == 32) mf_rt_affine_f32(c->n_in, c->n_out, a, w, bias, o);
        if (bits == 16) mf_rt_affine_s16(c->n_in, c->n_out, a, w, bias, rq, o);
        if (bits == 8) mf_rt_affine_s8(c->n_in, c->n_out, a, w, bias, rq, o);
        break;
    case MF_K_CONCAT:
        if (bits == 32) mf_rt_concat_f32(c->n_in, &c->cat, a, b, in2, in3, o);
        if (bits == 16) mf_rt_concat_s16(c->n_in, &c->cat, a, b, in2, in3, o);
        if (bits == 8) mf_rt_concat_s8(c->n_in, &c->cat, a, b, in2, in3, o);
        break;
    case MF_K_ADDN:
        if (bits == 32)
            (r6 ? mf_rt_addn_relu6_f32 : mf_rt_addn_f32)(c->count, c->n_inputs, a, b, in2, in3,
                                                         c->relu, o);
        if (bits == 16)
            (r6 ? mf_rt_addn_relu6_s16 : mf_rt_addn_s16)(c->count, c->n_inputs, a, c->align_a, b,
                                                         c->align_b, in2, c->align_c, in3,
                                                         c->align_d, rq, o);
        if (bits == 8)
            (r6 ? mf_rt_addn_relu6_s8 : mf_rt_addn_s8)(c->count, c->n_inputs, a, c->align_a, b,
                                                       c->align_b, in2, c->align_c, in3, c->align_d,
                                                       rq, o);
        break;
    case MF_K_RELU6:
        if (bits == 32) mf_rt_relu6_f32(c->count, a, o);
        if (bits == 16) mf_rt_relu6_s16(c->count, a, rq, o);
        if (bits == 8) mf_rt_relu6_s8(c->count, a, rq, o);
        break;
    case MF_K_RELU:
        if (bits == 32) mf_rt_relu_f32(c->count, a, o);
        if (bits == 16) mf_rt_relu_s16(c->count, a, o);
        if (bits == 8) mf_rt_relu_s8(c->count, a, o);
        break;
    case MF_K_COUNT:
        break;
    }
}

void mf_program_input(const mf_program *p, const float *raw, void *arena)
{
    const size_t n = mf_model_input_size(p->m);
    void *o = AT(p->in_off);
    if (p->bits == 32) mf_rt_input_f32(n, raw, p->pre_mean, p->pre_std, p->pre_n, o);
    if (p->bits == 16) mf_rt_input_s16(n, raw, p->pre_mean, p->pre_std, p->pre_n, p->in_scale, o);
    if (p->bits == 8) mf_rt_input_s8(n, raw, p->pre_mean, p->pre_std, p->pre_n, p->in_scale, o);
}

void mf_program_run(const mf_program *p, void *arena)
{
    for (int k = 0; k < p->n_calls; k++)
        mf_program_run_call(p, k, arena);
}

size_t mf_blob_bytes(const mf_blob *b)
{
    return b->data ? b->count * (size_t)b->esz : 0;
}
