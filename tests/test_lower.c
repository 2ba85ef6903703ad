/* Lowering (lower/) against the firmware's C (deploy/emit.c), without QEMU or the ARM toolchain.
 *
 * generated_c_equals_interpreter: seeded random small models (conv1d and conv2d with same/valid
 * padding and strides, max pools fused into their conv (stride ≥ size) and unfused ones, average
 * pools, global pools, residual adds, standalone ReLUs, flatten, dense; per-tensor and
 * per-channel formats, both roundings; int8, int16 and float32; with and without z-score
 * preprocessing) become firmware projects (mf_deploy_generate). Their model.c, model_weights.c
 * and runtime/ copies are compiled for the HOST with the system cc and a small main written here,
 * once with the portable reference kernels and once with the optimized paths emulated in C
 * (MF_RT_EMULATE_DSP: the paths that use the planned scratch in the arena). Both builds must give
 * bit for bit the expected.bin the generator wrote, the host interpreter's run of the same
 * lowered program (fused, planned) and the unfused interpreter (mf_qexec_run).
 *
 * scratch_inside_arena_no_overlap: for the same models (int8, int16), every call's scratch has
 * the size its kernel's getter gives and lies inside the arena, apart from the call's inputs and
 * output and from every tensor live at the call's step. A conv1d with a 3600-value receptive
 * field (kernel 9, 400 channels) gets mf_rt_conv_s8_scratch_bytes (int16:
 * mf_rt_conv_s16_scratch_bytes) of planned scratch: it used to be a VLA on the stack, which
 * overflowed the firmware's; test 1 runs it bit-exact too. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "mf_fileio.h" /* mf_hash_fnv1a32: the hash expected.bin uses */
#include "mf_core.h"
#include "mf_deploy.h"
#include "mf_compress.h"
#include "mf_lower.h"
#include "mf_quantize.h"
#include "mf_runtime.h"
#include "testutil.h"

#define N_RANDOM 5 /* random models (each in int8, int16 and float32) */
/* + the huge receptive field, the pruned dense layers, issue 23's 2D and 1D models */
#define N_CASES  (N_RANDOM + 4)
#define N_CAL    24   /* calibration samples */
#define N_VEC    5    /* test vectors per project */
#define DIR_LEN  1100 /* a project folder (the test root is 1024) */
#define PATH_LEN 1400 /* a file in it */
#define MAX_RT   32   /* runtime sources in a project */

/* ---- random models ---- */

typedef struct builder {
    mf_model *m;
    mf_rng *r;
    int rc;
    int n;                 /* layers added */
    char cur[MF_NAME_MAX]; /* the tensor the next layer reads */
    int dims;              /* spatial dimensions of the input: 1 or 2 */
    int h, w, c;           /* the current tensor's shape (h = 1 in 1D) */
} builder;

/* Adds s reading `in0` (and `in1` if not NULL); the layer becomes the current tensor. */
static void add_layer(builder *b, mf_layer_spec *s, const char *in0, const char *in1, mf_error *err)
{
    if (b->rc) return;
    snprintf(s->name, sizeof s->name, "%s_%d", mf_op_get(s->op)->name, ++b->n);
    s->n_inputs = in1 ? 2 : 1;
    snprintf(s->inputs[0], MF_NAME_MAX, "%s", in0);
    if (in1) snprintf(s->inputs[1], MF_NAME_MAX, "%s", in1);
    b->rc = mf_model_add(b->m, s, err);
    snprintf(b->cur, sizeof b->cur, "%s", s->name);
}

static int room(const builder *b)
{
    return b->dims == 1 || b->w < b->h ? b->w : b->h;
}

static int out_len(int in, int k, int s, int same)
{
    return same ? (in + s - 1) / s : (in - k) / s + 1;
}

static void conv(builder *b, int filters, int k, int stride, int same, int relu, mf_error *err)
{
    mf_layer_spec s;
    mf_layer_spec_init(&s, b->dims == 1 ? MF_OP_CONV1D : MF_OP_CONV2D, "x");
    s.filters = filters;
    s.kernel = k;
    s.stride = stride;
    s.padding = same ? MF_PAD_SAME : MF_PAD_VALID;
    s.activation = relu ? MF_ACT_RELU : MF_ACT_NONE;
    s.use_bias = mf_rng_below(b->r, 4) != 0;
    add_layer(b, &s, b->cur, NULL, err);
    b->w = out_len(b->w, k, stride, same);
    if (b->dims == 2) b->h = out_len(b->h, k, stride, same);
    b->c = filters;
}

static void pool(builder *b, int max, int k, int stride, mf_error *err)
{
    mf_layer_spec s;
    mf_op op = b->dims == 1 ? (max ? MF_OP_MAXPOOL1D : MF_OP_AVGPOOL1D)
                            : (max ? MF_OP_MAXPOOL2D : MF_OP_AVGPOOL2D);
    mf_layer_spec_init(&s, op, "x");
    s.kernel = k;
    s.stride = stride;
    add_layer(b, &s, b->cur, NULL, err);
    b->w = out_len(b->w, k, stride, 0);
    if (b->dims == 2) b->h = out_len(b->h, k, stride, 0);
}

static void simple(builder *b, mf_op op, mf_error *err)
{
    mf_layer_spec s;
    mf_layer_spec_init(&s, op, "x");
    add_layer(b, &s, b->cur, NULL, err);
}

static void add2(builder *b, const char *a, int relu, mf_error *err)
{
    mf_layer_spec s;
    mf_layer_spec_init(&s, MF_OP_ADD, "x");
    s.activation = relu ? MF_ACT_RELU : MF_ACT_NONE;
    char other[MF_NAME_MAX];
    snprintf(other, sizeof other, "%s", b->cur);
    add_layer(b, &s, a, other, err);
}

static void dense(builder *b, int units, int relu, mf_error *err)
{
    mf_layer_spec s;
    mf_layer_spec_init(&s, MF_OP_DENSE, "x");
    s.filters = units;
    s.activation = relu ? MF_ACT_RELU : MF_ACT_NONE;
    s.use_bias = mf_rng_below(b->r, 4) != 0;
    add_layer(b, &s, b->cur, NULL, err);
}

static int below(mf_rng *r, int n)
{
    return (int)mf_rng_below(r, (uint32_t)n);
}

/* z-score statistics per element or per channel, or none */
static int random_preprocess(mf_model *m, mf_rng *r, mf_error *err)
{
    int kind = below(r, 3);
    if (kind == 0) return MF_OK;
    size_t n =
        kind == 1 ? mf_model_input_size(m) : (size_t)m->input_shape.dim[m->input_shape.rank - 1];
    float *mean = malloc(sizeof(float) * n), *std = malloc(sizeof(float) * n);
    int rc = MF_ERR;
    if (!mean || !std) {
        mf_error_set(err, "out of memory");
    } else {
        for (size_t i = 0; i < n; i++) {
            mean[i] = (float)(2.0 * mf_rng_normal(r));
            std[i] = (float)(0.25 + 2.0 * mf_rng_uniform(r));
        }
        rc = mf_model_set_preprocess(m, kind, n, mean, std, err);
    }
    free(mean);
    free(std);
    return rc;
}

static mf_model *random_model(uint64_t seed, mf_error *err)
{
    mf_rng r;
    mf_rng_seed(&r, seed);
    builder b;
    memset(&b, 0, sizeof b);
    b.r = &r;
    b.dims = 1 + below(&r, 2);
    mf_shape in;
    if (b.dims == 1) {
        b.h = 1, b.w = 16 + below(&r, 17), b.c = 1 + below(&r, 6);
        in = (mf_shape){2, {b.w, b.c}};
    } else {
        b.h = 6 + below(&r, 6), b.w = 6 + below(&r, 6), b.c = 1 + below(&r, 4);
        in = (mf_shape){3, {b.h, b.w, b.c}};
    }
    b.m = mf_model_new(&in, err);
    if (!b.m) return NULL;
    snprintf(b.cur, sizeof b.cur, "input");
    if (below(&r, 5) == 0) simple(&b, MF_OP_RELU, err); /* on the input: a ReLU call, in place */
    /* a conv, a residual block and an average pool in a random order, then up to 2 more */
    int kinds[5] = {0, 1, 2, below(&r, 3), below(&r, 3)};
    for (int i = 2; i > 0; i--) {
        int j = below(&r, i + 1), t = kinds[i];
        kinds[i] = kinds[j], kinds[j] = t;
    }
    const int blocks = 3 + below(&r, 3);
    for (int i = 0; i < blocks && !b.rc; i++) {
        int k;
        switch (kinds[i]) {
        case 0: /* conv, then perhaps a max pool (fused or not) and a ReLU */
            k = 1 + below(&r, room(&b) < 5 ? room(&b) : 5);
            conv(&b, 2 + below(&r, 9), k, room(&b) >= 8 ? 1 + below(&r, 2) : 1, below(&r, 2),
                 below(&r, 2), err);
            if (room(&b) >= 3) {
                int p = below(&r, 4);
                if (p == 1 || p == 3) pool(&b, 1, 2, 2 + below(&r, 2), err); /* fused */
                if (p == 2) pool(&b, 1, 3, 2, err);      /* stride < size: not fused */
                if (p == 3) simple(&b, MF_OP_RELU, err); /* onto the conv, or standalone */
            }
            break;
        case 1: { /* residual block: conv(s) keeping the shape, add */
            char a[MF_NAME_MAX];
            snprintf(a, sizeof a, "%s", b.cur);
            conv(&b, b.c, 1 + 2 * below(&r, 3), 1, 1, below(&r, 2), err);
            if (below(&r, 2)) conv(&b, b.c, 1 + 2 * below(&r, 2), 1, 1, 0, err);
            add2(&b, a, below(&r, 2), err);
            break;
        }
        default: /* average pool, then perhaps a ReLU or an unfused max pool */
            if (room(&b) < 3) break;
            k = 2 + below(&r, room(&b) < 4 ? 1 : 2);
            pool(&b, 0, k, 1 + below(&r, k), err);
            if (below(&r, 2))
                simple(&b, MF_OP_RELU, err); /* not fused into a pool: a call */
            else if (room(&b) >= 2)
                pool(&b, 1, 2, 2, err); /* after a pool: not fused */
            break;
        }
    }
    /* Some models: a conv of 8 or 16 filters, then one of 1 filter, kernel 3 (1D or 3×3), over
     * those channels: a layer the lane kernels take (mf_rt_conv_lanes_s8_chosen: one output
     * channel, cin % 8 == 0; small, so its scratch stays far below any bound on it). Its draws
     * come from a generator of their own, so the other layers stay those of the seed. */
    mf_rng lr;
    mf_rng_seed(&lr, seed ^ 0x1A4E5u);
    if (below(&lr, 2) == 0) {
        b.r = &lr; /* conv's own draws (use_bias) too */
        conv(&b, 8 << below(&lr, 2), 1 + 2 * below(&lr, 2), 1, 1, below(&lr, 2), err);
        conv(&b, 1, 3, 1, below(&lr, 2) || room(&b) < 3, below(&lr, 2), err);
        b.r = &r;
    }
    switch (below(&r, 4)) {
    case 0:
        simple(&b, MF_OP_GLOBAL_AVGPOOL, err);
        dense(&b, 2 + below(&r, 5), 0, err);
        break;
    case 1:
        simple(&b, MF_OP_GLOBAL_MAXPOOL, err);
        dense(&b, 3 + below(&r, 6), below(&r, 2), err);
        dense(&b, 2 + below(&r, 5), 0, err);
        break;
    case 2:
        simple(&b, MF_OP_FLATTEN, err);
        dense(&b, 4 + below(&r, 9), 1, err);
        dense(&b, 2 + below(&r, 5), 0, err);
        break;
    default:
        simple(&b, MF_OP_GLOBAL_AVGPOOL, err); /* the output */
        break;
    }
    if (!b.rc && !mf_model_finalize(b.m, err)) {
        mf_model_init_params(b.m, seed * 7 + 1);
        if (!random_preprocess(b.m, &r, err)) return b.m;
    }
    mf_model_free(b.m);
    return NULL;
}

/* conv1d kernel 9 over 400 channels (K = 3600), fused max pool, flatten, dense */
static mf_model *huge_receptive_field_model(mf_error *err)
{
    mf_rng r;
    mf_rng_seed(&r, 99);
    builder b;
    memset(&b, 0, sizeof b);
    b.r = &r;
    b.dims = 1, b.h = 1, b.w = 16, b.c = 400;
    mf_shape in = {2, {16, 400}};
    b.m = mf_model_new(&in, err);
    if (!b.m) return NULL;
    snprintf(b.cur, sizeof b.cur, "input");
    conv(&b, 6, 9, 1, 1, 1, err);
    pool(&b, 1, 2, 2, err);
    simple(&b, MF_OP_FLATTEN, err);
    dense(&b, 3, 0, err);
    if (b.rc || mf_model_finalize(b.m, err)) {
        mf_model_free(b.m);
        return NULL;
    }
    mf_model_init_params(b.m, 5);
    return b.m;
}

/* conv1d 64 → 8, k 5, + ReLU and a fused max pool 2 on 20×64, flatten (64), dense 64 → 24 +
 * ReLU, dense 24 → 5, each pruned to 90 % by magnitude (the last one to nothing): the conv runs
 * mf_rt_conv_sparse_maxpool_s8, the dense layers mf_rt_dense_sparse_s8 */
static mf_model *pruned_dense_model(mf_error *err)
{
    mf_rng r;
    mf_rng_seed(&r, 98);
    builder b;
    memset(&b, 0, sizeof b);
    b.r = &r;
    b.dims = 1, b.h = 1, b.w = 20, b.c = 64;
    mf_shape in = {2, {20, 64}};
    b.m = mf_model_new(&in, err);
    if (!b.m) return NULL;
    snprintf(b.cur, sizeof b.cur, "input");
    conv(&b, 8, 5, 1, 0, 1, err);
    pool(&b, 1, 2, 2, err);
    simple(&b, MF_OP_FLATTEN, err);
    dense(&b, 24, 1, err);
    dense(&b, 5, 0, err);
    if (b.rc || mf_model_finalize(b.m, err)) {
        mf_model_free(b.m);
        return NULL;
    }
    mf_model_init_params(b.m, 6);
    const mf_prune_spec spec = {.sparsity = 0.9, .per_layer = 1}; /* every layer at 90 % */
    if (mf_prune_magnitude(b.m, &spec, err)) {
        mf_model_free(b.m);
        return NULL;
    }
    /* the last layer pruned to nothing: a sparse call without a single weight */
    size_t off, n;
    if (mf_node_kernel(b.m, b.m->output, &off, &n))
        for (size_t e = 0; e < n; e++)
            b.m->params[off + e] = 0.0f, b.m->mask[off + e] = 0;
    return b.m;
}

/* Batch-norm layers with statistics and affine parameters away from the identity, so that
 * folding them matters. */
static void random_batchnorm(mf_model *m, uint64_t seed)
{
    mf_rng r;
    mf_rng_seed(&r, seed);
    for (int i = 1; i < m->n_nodes; i++) {
        const mf_node *n = &m->nodes[i];
        if (n->spec.op != MF_OP_BATCHNORM) continue;
        const size_t c = n->n_params / 2;
        for (size_t j = 0; j < c; j++) {
            m->params[n->param_offset + j] = (float)(0.5 + mf_rng_uniform(&r));
            m->params[n->param_offset + c + j] = (float)(mf_rng_uniform(&r) - 0.5);
            m->state[n->state_offset + j] = (float)(0.4 * mf_rng_uniform(&r) - 0.2);
            m->state[n->state_offset + c + j] = (float)(0.5 + mf_rng_uniform(&r));
        }
    }
}

/* A 2D layer of issue 23's kinds, its geometry given per axis (kernel [kh, kw], stride [sh, sw]).
 */
static void layer_hw(builder *b, mf_op op, int filters, int kh, int kw, int sh, int sw, int same,
                     mf_activation act, mf_error *err)
{
    mf_layer_spec s;
    mf_layer_spec_init(&s, op, "x");
    s.filters = filters;
    s.kernel_h = kh, s.kernel = kw, s.stride_h = sh, s.stride = sw;
    s.padding = same ? MF_PAD_SAME : MF_PAD_VALID;
    if (mf_op_get(op)->keys & MF_KEY_ACTIVATION) s.activation = act;
    add_layer(b, &s, b->cur, NULL, err);
}

/* An add (or concat) of k inputs (names), the current tensor afterwards. */
static void join_k(builder *b, mf_op op, char (*names)[MF_NAME_MAX], int k, mf_activation act,
                   mf_error *err)
{
    if (b->rc) return;
    mf_layer_spec s;
    mf_layer_spec_init(&s, op, "x");
    snprintf(s.name, sizeof s.name, "%s_%d", mf_op_get(op)->name, ++b->n);
    s.activation = act;
    s.n_inputs = k;
    for (int q = 0; q < k; q++) {
        memcpy(s.inputs[q], names[q], MF_NAME_MAX);
        s.inputs[q][MF_NAME_MAX - 1] = '\0';
    }
    b->rc = mf_model_add(b->m, &s, err);
    snprintf(b->cur, sizeof b->cur, "%s", s.name);
}

static void add_k(builder *b, char (*names)[MF_NAME_MAX], int k, mf_activation act, mf_error *err)
{
    join_k(b, MF_OP_ADD, names, k, act, err);
}

static void cat_k(builder *b, char (*names)[MF_NAME_MAX], int k, mf_error *err)
{
    join_k(b, MF_OP_CONCAT, names, k, MF_ACT_NONE, err);
}

/* Issue 23's layers on a 12×13×2 input: rectangular kernels, strides and pools, ReLU6, depthwise
 * (conv [3, 1] / [2, 1] same + ReLU6 → 6×13×4, a fused max pool [1, 2] → 6×6×4, depthwise 3×3
 * × 2 same, batch-norm and ReLU6 folded into it → 6×6×8, conv [1, 3] / [1, 2] valid → 6×2×5,
 * average pool [2, 1] → 3×2×5, a batch-norm that cannot fold (an affine call), a standalone
 * ReLU6), flatten, dense 30 → 6 + ReLU6, dense 6 → 3. */
static mf_model *issue23_model(mf_error *err)
{
    mf_rng r;
    mf_rng_seed(&r, 97);
    builder b;
    memset(&b, 0, sizeof b);
    b.r = &r;
    b.dims = 2, b.h = 12, b.w = 13, b.c = 2;
    mf_shape in = {3, {12, 13, 2}};
    b.m = mf_model_new(&in, err);
    if (!b.m) return NULL;
    snprintf(b.cur, sizeof b.cur, "input");
    layer_hw(&b, MF_OP_CONV2D, 4, 3, 1, 2, 1, 1, MF_ACT_RELU6, err);
    layer_hw(&b, MF_OP_MAXPOOL2D, 0, 1, 2, 1, 2, 0, MF_ACT_NONE, err);
    mf_layer_spec d;
    mf_layer_spec_init(&d, MF_OP_DWCONV2D, "x");
    d.kernel = 3, d.depth_multiplier = 2, d.padding = MF_PAD_SAME, d.use_bias = 0;
    add_layer(&b, &d, b.cur, NULL, err);
    simple(&b, MF_OP_BATCHNORM, err);
    simple(&b, MF_OP_RELU6, err);
    char br[3][MF_NAME_MAX]; /* an add of 3 inputs: the depthwise conv and two 1x1 convs of it */
    snprintf(br[0], MF_NAME_MAX, "%s", b.cur);
    layer_hw(&b, MF_OP_CONV2D, 8, 1, 1, 1, 1, 0, MF_ACT_NONE, err);
    snprintf(br[1], MF_NAME_MAX, "%s", b.cur);
    snprintf(b.cur, sizeof b.cur, "%s", br[0]);
    layer_hw(&b, MF_OP_CONV2D, 8, 1, 1, 1, 1, 0, MF_ACT_RELU, err);
    snprintf(br[2], MF_NAME_MAX, "%s", b.cur);
    add_k(&b, br, 3, MF_ACT_NONE, err);
    snprintf(br[2], MF_NAME_MAX, "%s", br[0]); /* concat (the add, 2 of its inputs) → 6×6×24 */
    snprintf(br[0], MF_NAME_MAX, "%s", b.cur);
    cat_k(&b, br, 3, err);
    layer_hw(&b, MF_OP_CONV2D, 5, 1, 3, 1, 2, 0, MF_ACT_NONE, err);
    layer_hw(&b, MF_OP_AVGPOOL2D, 0, 2, 1, 2, 1, 0, MF_ACT_NONE, err);
    simple(&b, MF_OP_BATCHNORM, err); /* after a pool: the per-channel affine */
    simple(&b, MF_OP_RELU6, err);     /* after the affine: a call of its own */
    simple(&b, MF_OP_FLATTEN, err);
    mf_layer_spec s;
    mf_layer_spec_init(&s, MF_OP_DENSE, "x");
    s.filters = 6;
    s.activation = MF_ACT_RELU6;
    add_layer(&b, &s, b.cur, NULL, err);
    dense(&b, 3, 0, err);
    if (b.rc || mf_model_finalize(b.m, err)) {
        mf_model_free(b.m);
        return NULL;
    }
    mf_model_init_params(b.m, 8);
    random_batchnorm(b.m, 8);
    return b.m;
}

/* Depthwise 1D on a 24×8 input: multiplier 1 (the int8 quads), kernel 3, stride 2, same, with
 * batch-norm and ReLU6 folded in → 12×8, a 1x1 conv (a separable conv) → 12×6; an add of 4
 * inputs (the 1x1 conv, two convs of it and a standalone ReLU of it) + ReLU6; depthwise
 * multiplier 3, kernel 5, valid, + ReLU → 8×18, global average pool, a batch-norm (the
 * per-channel affine), dense 18 → 4. */
static mf_model *issue23_1d_model(mf_error *err)
{
    mf_rng r;
    mf_rng_seed(&r, 96);
    builder b;
    memset(&b, 0, sizeof b);
    b.r = &r;
    b.dims = 1, b.h = 1, b.w = 24, b.c = 8;
    mf_shape in = {2, {24, 8}};
    b.m = mf_model_new(&in, err);
    if (!b.m) return NULL;
    snprintf(b.cur, sizeof b.cur, "input");
    mf_layer_spec d;
    mf_layer_spec_init(&d, MF_OP_DWCONV1D, "x");
    d.kernel = 3, d.stride = 2, d.padding = MF_PAD_SAME;
    add_layer(&b, &d, b.cur, NULL, err);
    simple(&b, MF_OP_BATCHNORM, err);
    simple(&b, MF_OP_RELU6, err);
    conv(&b, 6, 1, 1, 0, 0, err);
    char br[4][MF_NAME_MAX];
    snprintf(br[0], MF_NAME_MAX, "%s", b.cur);
    conv(&b, 6, 3, 1, 1, 0, err);
    snprintf(br[1], MF_NAME_MAX, "%s", b.cur);
    snprintf(b.cur, sizeof b.cur, "%s", br[0]);
    conv(&b, 6, 1, 1, 0, 1, err);
    snprintf(br[2], MF_NAME_MAX, "%s", b.cur);
    snprintf(b.cur, sizeof b.cur, "%s", br[0]);
    simple(&b, MF_OP_RELU, err);
    snprintf(br[3], MF_NAME_MAX, "%s", b.cur);
    add_k(&b, br, 4, MF_ACT_RELU6, err);
    snprintf(br[0], MF_NAME_MAX, "%s", b.cur); /* concat (the add, a conv) → 12×12 */
    cat_k(&b, br, 2, err);
    mf_layer_spec_init(&d, MF_OP_DWCONV1D, "x");
    d.kernel = 5, d.depth_multiplier = 3, d.activation = MF_ACT_RELU;
    add_layer(&b, &d, b.cur, NULL, err);
    simple(&b, MF_OP_GLOBAL_AVGPOOL, err);
    simple(&b, MF_OP_BATCHNORM, err); /* after a pool: the per-channel affine */
    dense(&b, 4, 0, err);
    if (b.rc || mf_model_finalize(b.m, err)) {
        mf_model_free(b.m);
        return NULL;
    }
    mf_model_init_params(b.m, 9);
    random_batchnorm(b.m, 9);
    return b.m;
}

/* ---- fixture: the models, their calibration samples and raw test vectors ---- */

typedef struct mcase {
    mf_model *m; /* float, unfolded, with its preprocessing */
    float *cal;  /* N_CAL preprocessed samples */
    float *raw;  /* N_VEC raw test vectors */
    int huge;
} mcase;

typedef struct fixture {
    mcase c[N_CASES];
} fixture;

static int make_data(mcase *mc, uint64_t seed, mf_error *err)
{
    size_t in = mf_model_input_size(mc->m);
    mc->cal = malloc(sizeof(float) * in * N_CAL);
    mc->raw = malloc(sizeof(float) * in * N_VEC);
    if (!mc->cal || !mc->raw) return mf_error_set(err, "out of memory");
    mf_rng r;
    mf_rng_seed(&r, seed);
    const mf_preprocess *pre = &mc->m->pre;
    /* raw = mean + std · z: the preprocessing gives z back */
    for (int s = 0; s < N_CAL + N_VEC; s++) {
        float *x = s < N_CAL ? mc->cal + (size_t)s * in : mc->raw + (size_t)(s - N_CAL) * in;
        double scale = s == N_CAL + 2 ? 3.0 : 1.0; /* a test vector past the calibrated range */
        for (size_t i = 0; i < in; i++) {
            double z = scale * mf_rng_normal(&r);
            x[i] = pre->kind ? (float)(pre->mean[i % pre->n] + pre->std[i % pre->n] * z) : (float)z;
        }
    }
    mf_model_preprocess(mc->m, mc->cal, N_CAL);
    return MF_OK;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (!f) return 0;
    for (int i = 0; i < N_CASES; i++) {
        mf_model_free(f->c[i].m);
        free(f->c[i].cal);
        free(f->c[i].raw);
    }
    free(f);
    return 0;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f) return -1;
    *state = f;
    mf_error err;
    mf_error_clear(&err);
    for (int i = 0; i < N_CASES; i++) {
        mcase *mc = &f->c[i];
        mc->huge = i == N_RANDOM;
        mc->m = mc->huge            ? huge_receptive_field_model(&err)
                : i == N_RANDOM + 1 ? pruned_dense_model(&err)
                : i == N_RANDOM + 2 ? issue23_model(&err)
                : i == N_RANDOM + 3 ? issue23_1d_model(&err)
                                    : random_model(7000 + (uint64_t)i, &err);
        if (!mc->m || make_data(mc, 77 + (uint64_t)i, &err)) {
            fprintf(stderr, "test_lower setup, model %d: %s\n", i, err.message);
            teardown(state);
            *state = NULL;
            return -1;
        }
    }
    return 0;
}

/* The quantized model of case mc (takes its own folded copy), or NULL with err set. */
static mf_qmodel *quantize(const mcase *mc, int bits, int per_channel, int rounding, mf_error *err)
{
    mf_model *folded = mf_fold_model(mc->m, err);
    if (!folded) return NULL;
    double *ranges = malloc(sizeof(double) * (size_t)folded->n_nodes);
    if (!ranges) {
        mf_model_free(folded);
        mf_error_set(err, "out of memory");
        return NULL;
    }
    mf_qmodel *q = NULL;
    if (mf_calibrate(folded, mc->cal, N_CAL, 1, ranges, err)) {
        mf_model_free(folded);
    } else {
        mf_quant_options o = {bits, rounding, per_channel, -1};
        q = mf_qmodel_build(folded, ranges, &o, err); /* owns folded, also on error */
    }
    free(ranges);
    return q;
}

/* Precision variants of case i: bits, per-channel formats, rounding. */
static void variant(int i, int bits, int *per_channel, int *rounding)
{
    *per_channel = bits == 8 ? i % 2 : (i + 1) % 2;
    *rounding = (i / 2) % 2 ? MF_RT_ROUND_FLOOR : MF_RT_ROUND_HALF_UP;
}

static const char *prec_name(int bits)
{
    return bits == 32 ? "float32" : bits == 16 ? "int16" : "int8";
}

/* ---- processes (fork + execvp with an argument vector, no shell) ---- */

/* Starts argv in folder dir with its stdout and stderr into the file log there; the child's pid,
 * or -1. */
static pid_t spawn(const char *dir, char *const argv[], const char *log)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid != 0) return pid;
    if (chdir(dir) != 0) _exit(126);
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
    }
    execvp(argv[0], argv);
    _exit(127);
}

/* Exit status from a waitpid status (128 + signal if killed). */
static int exit_status(int st)
{
    if (WIFEXITED(st)) return WEXITSTATUS(st);
    return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
}

static int finish(pid_t pid)
{
    int st;
    if (pid < 0) return -1;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return -1;
    return exit_status(st);
}

static int read_all(const char *path, unsigned char **data, size_t *len, mf_error *err)
{
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return mf_error_set(err, "cannot open %s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        unsigned char *bigger = realloc(buf, cap * 2);
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        free(buf);
        return mf_error_set(err, "cannot read %s", path);
    }
    *data = buf;
    *len = n;
    return MF_OK;
}

/* Index of the first value that differs between a and b (n values of esz bytes each), or -1. */
static long first_diff(const unsigned char *a, const unsigned char *b, size_t n, size_t esz)
{
    for (size_t k = 0; k < n; k++)
        if (memcmp(a + k * esz, b + k * esz, esz)) return (long)k;
    return -1;
}

/* ---- the projects ---- */

/* A generated project and what its host builds must reproduce (interp.bin in its folder: per
 * vector the quantized input, then the raw outputs, as the interpreter computed them). */
typedef struct project {
    char dir[DIR_LEN];
    char label[48];
    int failed; /* generation or the host-side checks failed (reported) */
    size_t esz, in_bytes, out_bytes;
    int n_rt;
    char rt[MAX_RT][280]; /* "runtime/conv.c" */
} project;

/* One compile: the reference kernels (dsp 0) or MF_RT_EMULATE_DSP (dsp 1). */
typedef struct job {
    project *p;
    int dsp;
    pid_t pid;
    int status;
} job;

/* At most `parallel` compilers at once; jobs[0..n) submitted so far. */
typedef struct job_pool {
    job *jobs;
    int n, running, parallel;
} job_pool;

static const char *const variant_name[2] = {"ref", "dsp"};

/* Waits for one running job. */
static void pool_wait_one(job_pool *pl)
{
    int st;
    pid_t pid = waitpid(-1, &st, 0);
    if (pid < 0) {
        if (errno == EINTR) return;
        for (int k = 0; k < pl->n; k++) /* no children left: cannot happen */
            if (pl->jobs[k].pid > 0) pl->jobs[k].pid = 0, pl->jobs[k].status = -1;
        pl->running = 0;
        return;
    }
    for (int k = 0; k < pl->n; k++)
        if (pl->jobs[k].pid == pid) {
            pl->jobs[k].pid = 0;
            pl->jobs[k].status = exit_status(st);
            pl->running--;
        }
}

/* cc -std=c11 -O1 -ffp-contract=off -Wall -Werror [-DMF_RT_EMULATE_DSP] -I . -I runtime
 *    -o host_<variant> host_main.c model.c model_weights.c runtime/<each>.c, in the project */
static void pool_submit(job_pool *pl, project *p, int dsp)
{
    while (pl->running >= pl->parallel)
        pool_wait_one(pl);
    job *j = &pl->jobs[pl->n++];
    j->p = p;
    j->dsp = dsp;
    char exe[16], log[32];
    snprintf(exe, sizeof exe, "host_%s", variant_name[dsp]);
    snprintf(log, sizeof log, "cc_%s.log", variant_name[dsp]);
    char *argv[24 + MAX_RT];
    int a = 0;
    argv[a++] = "cc";
    argv[a++] = "-std=c11";
    argv[a++] = "-O1";
    argv[a++] = "-ffp-contract=off";
    argv[a++] = "-Wall";
    argv[a++] = "-Werror";
    if (dsp) argv[a++] = "-DMF_RT_EMULATE_DSP";
    argv[a++] = "-I";
    argv[a++] = ".";
    argv[a++] = "-I";
    argv[a++] = "runtime";
    argv[a++] = "-o";
    argv[a++] = exe;
    argv[a++] = "host_main.c";
    argv[a++] = "model.c";
    argv[a++] = "model_weights.c";
    for (int s = 0; s < p->n_rt; s++)
        argv[a++] = p->rt[s];
    argv[a] = NULL;
    j->pid = spawn(p->dir, argv, log);
    j->status = -1;
    if (j->pid > 0) pl->running++;
}

static void pool_drain(job_pool *pl)
{
    while (pl->running > 0)
        pool_wait_one(pl);
}

/* err = what + the start of the log file */
static int fail_with_log(mf_error *err, const char *what, const char *dir, const char *log)
{
    char path[PATH_LEN];
    snprintf(path, sizeof path, "%s/%s", dir, log);
    unsigned char *text = NULL;
    size_t len = 0;
    mf_error ignored;
    read_all(path, &text, &len, &ignored);
    if (len > 600) len = 600;
    int rc = mf_error_set(err, "%s: %.*s", what, (int)len, text ? (const char *)text : "");
    free(text);
    return rc;
}

static const char host_main_c[] =
    "/* host_main.c — written by tests/test_lower.c: runs the generated model on the host.\n"
    " * host <raw input file> <output file> <vectors>: per vector, the quantized input and the\n"
    " * raw outputs. Odd vectors go zero-copy through model_input_buffer(). */\n"
    "#include <stdio.h>\n#include <stdlib.h>\n\n#include \"model.h\"\n\n"
    "static float raw[MODEL_INPUT_SIZE];\n"
    "static model_t q[MODEL_INPUT_SIZE], out[MODEL_OUTPUT_SIZE];\n\n"
    "int main(int argc, char **argv)\n{\n"
    "    if (argc != 4) return 2;\n"
    "    const int n = atoi(argv[3]);\n"
    "    FILE *fi = fopen(argv[1], \"rb\");\n"
    "    if (!fi) return 3;\n"
    "    FILE *fo = fopen(argv[2], \"wb\");\n"
    "    if (!fo) {\n        fclose(fi);\n        return 3;\n    }\n"
    "    int rc = 0;\n"
    "    for (int v = 0; v < n && !rc; v++) {\n"
    "        model_t *in = v % 2 ? model_input_buffer() : q;\n"
    "        if (fread(raw, sizeof raw, 1, fi) != 1)\n            rc = 4;\n"
    "        else if (model_quantize_input(raw, in), fwrite(in, sizeof q, 1, fo) != 1)\n"
    "            rc = 6;\n"
    "        else if (model_run(in, out) != 0)\n            rc = 5;\n"
    "        else if (fwrite(out, sizeof out, 1, fo) != 1)\n            rc = 6;\n"
    "    }\n"
    "    fclose(fi);\n"
    "    if (fclose(fo) != 0 && !rc) rc = 6;\n"
    "    return rc;\n}\n";

/* The runtime sources the generator copied (runtime/<name>.c). */
static int list_runtime(project *p, mf_error *err)
{
    char rtdir[PATH_LEN];
    snprintf(rtdir, sizeof rtdir, "%s/runtime", p->dir);
    DIR *d = opendir(rtdir);
    if (!d) return mf_error_set(err, "cannot list %s: %s", rtdir, strerror(errno));
    struct dirent *de;
    p->n_rt = 0;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len < 3 || strcmp(de->d_name + len - 2, ".c")) continue;
        if (p->n_rt == MAX_RT) {
            closedir(d);
            return mf_error_set(err, "more than %d runtime sources in %s", MAX_RT, rtdir);
        }
        snprintf(p->rt[p->n_rt++], sizeof p->rt[0], "runtime/%s", de->d_name);
    }
    closedir(d);
    return p->n_rt ? MF_OK : mf_error_set(err, "no runtime sources in %s", rtdir);
}

/* Runs host build dsp (0 reference, 1 MF_RT_EMULATE_DSP) of p on host_in.bin: its output must
 * equal interp.bin. */
static int run_host(const project *p, int dsp, mf_error *err)
{
    char exe[16], out_path[PATH_LEN], ref_path[PATH_LEN], log[32], n[16];
    snprintf(exe, sizeof exe, "./host_%s", variant_name[dsp]);
    snprintf(out_path, sizeof out_path, "%s/host_out_%s.bin", p->dir, variant_name[dsp]);
    snprintf(ref_path, sizeof ref_path, "%s/interp.bin", p->dir);
    snprintf(log, sizeof log, "run_%s.log", variant_name[dsp]);
    snprintf(n, sizeof n, "%d", N_VEC);
    char *argv[5] = {exe, "host_in.bin", out_path, n, NULL};
    int st = finish(spawn(p->dir, argv, log));
    if (st != 0) {
        char what[64];
        snprintf(what, sizeof what, "host_%s exited with %d", variant_name[dsp], st);
        return fail_with_log(err, what, p->dir, log);
    }
    unsigned char *got = NULL, *want = NULL;
    size_t len, want_len;
    if (read_all(out_path, &got, &len, err) || read_all(ref_path, &want, &want_len, err)) {
        free(got);
        return MF_ERR;
    }
    int rc = MF_OK;
    const size_t rec = p->in_bytes + p->out_bytes;
    if (len != want_len || len != N_VEC * rec) {
        rc = mf_error_set(err, "host_%s wrote %zu bytes, not %zu", variant_name[dsp], len,
                          N_VEC * rec);
    } else {
        for (int v = 0; v < N_VEC && !rc; v++) {
            const unsigned char *a = got + (size_t)v * rec, *b = want + (size_t)v * rec;
            long d = first_diff(a, b, p->in_bytes / p->esz, p->esz);
            if (d >= 0) {
                rc = mf_error_set(err,
                                  "host_%s: vector %d: model_quantize_input differs from the "
                                  "host's quantization at value %ld",
                                  variant_name[dsp], v, d);
                break;
            }
            d = first_diff(a + p->in_bytes, b + p->in_bytes, p->out_bytes / p->esz, p->esz);
            if (d >= 0)
                rc = mf_error_set(err,
                                  "host_%s: vector %d: model_run's output %ld differs from the "
                                  "interpreter's",
                                  variant_name[dsp], v, d);
        }
    }
    free(got);
    free(want);
    return rc;
}

/* expected.bin: "MFEXPV1\0", {vectors, outputs, bytes per value, inputs}, then per vector
 * {label, FNV-1a of the quantized input} and the raw outputs (deploy/generate.c). rec: the
 * interpreter's records (quantized input, raw outputs). */
static int check_expected_bin(const char *dir, size_t in_size, size_t out_size, size_t esz,
                              const unsigned char *recs, mf_error *err)
{
    char path[PATH_LEN];
    snprintf(path, sizeof path, "%s/expected.bin", dir);
    unsigned char *e;
    size_t len;
    if (read_all(path, &e, &len, err)) return MF_ERR;
    const size_t rec = 8 + out_size * esz, want = 8 + 16 + N_VEC * rec;
    const size_t in_b = in_size * esz, out_b = out_size * esz;
    uint32_t hdr[4];
    int rc = MF_OK;
    if (len != want) {
        rc = mf_error_set(err, "%s has %zu bytes, not %zu", path, len, want);
    } else if (memcmp(e, "MFEXPV1", 8)) {
        rc = mf_error_set(err, "%s: bad magic", path);
    } else {
        memcpy(hdr, e + 8, sizeof hdr);
        if (hdr[0] != N_VEC || hdr[1] != out_size || hdr[2] != esz || hdr[3] != in_size)
            rc = mf_error_set(err, "%s: header %u %u %u %u, not %d %zu %zu %zu", path, hdr[0],
                              hdr[1], hdr[2], hdr[3], N_VEC, out_size, esz, in_size);
    }
    for (int v = 0; v < N_VEC && !rc; v++) {
        const unsigned char *r = e + 24 + (size_t)v * rec,
                            *mine = recs + (size_t)v * (in_b + out_b);
        uint32_t h[2];
        memcpy(h, r, sizeof h);
        if (h[0] != UINT32_MAX)
            rc = mf_error_set(err, "%s: vector %d: label %u, not -1", path, v, h[0]);
        else if (h[1] != mf_hash_fnv1a32(MF_FNV1A32_INIT, mine, in_b))
            rc =
                mf_error_set(err, "%s: vector %d: the input hash differs from the host's", path, v);
        else if (memcmp(r + 8, mine + in_b, out_b))
            rc = mf_error_set(err, "%s: vector %d: output %ld differs from the interpreter's", path,
                              v, first_diff(r + 8, mine + in_b, out_size, esz));
    }
    free(e);
    return rc;
}

/* Case mc at `bits`: generated into p->dir, checked against the interpreters (fused + planned:
 * (b), unfused: (c)) and expected.bin (a); the host builds' inputs (host_main.c, host_in.bin)
 * and reference (interp.bin) written. */
static int prepare_project(const mcase *mc, int i, int bits, project *p, mf_error *err)
{
    int rc = MF_ERR, per_channel, rounding;
    variant(i, bits, &per_channel, &rounding);
    mf_qmodel *q = NULL;
    mf_model *folded = NULL;
    mf_program prog;
    memset(&prog, 0, sizeof prog);
    mf_qexec *e = NULL;
    void *arena = NULL;
    unsigned char *recs = NULL;
    float *x = NULL, *y = NULL;
    if (bits == 32)
        folded = mf_fold_model(mc->m, err);
    else
        q = quantize(mc, bits, per_channel, rounding, err);
    if (!q && !folded) goto done;
    /* the generator */
    mf_deploy_options o = {0};
    o.out_dir = p->dir;
    o.vectors = mc->raw;
    o.n_vectors = N_VEC;
    o.stream = 1;
    mf_deploy_summary sum;
    if (mf_deploy_generate(q, q ? NULL : mc->m, &o, &sum, err)) goto done;
    /* (b) the same lowered program, fused and planned, on the host interpreter */
    mf_lower_options lo = {.fuse_pools = 1, .keep_all = 0, .align = 8};
    if (mf_lower_program(q, folded, &lo, &prog, err)) goto done;
    const mf_model *m = prog.m;
    const size_t in_size = mf_model_input_size(m), out_size = mf_model_output_size(m);
    const size_t esz = prog.esz, in_b = in_size * esz, out_b = out_size * esz;
    p->esz = esz;
    p->in_bytes = in_b;
    p->out_bytes = out_b;
    if (sum.arena != prog.plan.arena || sum.n_layers != prog.n_calls) {
        mf_error_set(err,
                     "the generator's plan (%zu bytes, %d calls) is not the program's (%zu, %d)",
                     sum.arena, sum.n_layers, prog.plan.arena, prog.n_calls);
        goto done;
    }
    arena = calloc(1, prog.plan.arena);
    recs = malloc(N_VEC * (in_b + out_b));
    x = malloc(sizeof(float) * in_size);
    y = malloc(sizeof(float) * out_size * 2);
    if (!arena || !recs || !x || !y) {
        mf_error_set(err, "out of memory");
        goto done;
    }
    e = mf_qexec_new(q, folded, err);
    if (!e) goto done;
    for (int v = 0; v < N_VEC; v++) {
        unsigned char *rec = recs + (size_t)v * (in_b + out_b);
        memcpy(x, mc->raw + (size_t)v * in_size, sizeof(float) * in_size);
        mf_model_preprocess(m, x, 1);
        char *a_in = (char *)arena + prog.in_off;
        for (size_t k = 0; k < in_size; k++) {
            if (!q)
                ((float *)a_in)[k] = x[k];
            else if (bits == 8)
                ((int8_t *)a_in)[k] = (int8_t)mf_quantize_value(x[k], q->n_in, 8);
            else
                ((int16_t *)a_in)[k] = (int16_t)mf_quantize_value(x[k], q->n_in, 16);
        }
        memcpy(rec, a_in, in_b);
        mf_program_run(&prog, arena);
        const void *r = (char *)arena + prog.out_off;
        memcpy(rec + in_b, r, out_b);
        /* (c) the unfused interpreter, every tensor kept: its dequantized outputs */
        mf_qexec_run(e, x, y);
        for (size_t k = 0; k < out_size; k++) {
            const int n_out = q ? q->nodes[m->output].n_out : 0;
            y[out_size + k] = !q          ? ((const float *)r)[k]
                              : bits == 8 ? (float)ldexp(((const int8_t *)r)[k], -n_out)
                                          : (float)ldexp(((const int16_t *)r)[k], -n_out);
        }
        long d = first_diff((const unsigned char *)y, (const unsigned char *)(y + out_size),
                            out_size, sizeof(float));
        if (d >= 0) {
            mf_error_set(err,
                         "vector %d: output %ld of mf_qexec_run (unfused) is %a, the fused "
                         "program's %a",
                         v, d, (double)y[d], (double)y[out_size + d]);
            goto done;
        }
    }
    /* (a) expected.bin */
    if (check_expected_bin(p->dir, in_size, out_size, esz, recs, err)) goto done;
    /* what the host builds need and must reproduce */
    char path[PATH_LEN];
    snprintf(path, sizeof path, "%s/host_main.c", p->dir);
    if (mf_file_write_bytes(path, host_main_c, strlen(host_main_c), err)) goto done;
    snprintf(path, sizeof path, "%s/host_in.bin", p->dir);
    if (mf_file_write_bytes(path, mc->raw, sizeof(float) * N_VEC * in_size, err)) goto done;
    snprintf(path, sizeof path, "%s/interp.bin", p->dir);
    if (mf_file_write_bytes(path, recs, N_VEC * (in_b + out_b), err) || list_runtime(p, err))
        goto done;
    rc = MF_OK;
done:
    free(arena);
    free(recs);
    free(x);
    free(y);
    mf_qexec_free(e);
    mf_program_free(&prog);
    mf_qmodel_free(q);
    mf_model_free(folded);
    return rc;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

#define N_PROJECTS (3 * N_CASES)

static void test_generated_c_equals_interpreter(void **state)
{
    const fixture *f = *state;
    char root[1024];
    snprintf(root, sizeof root, "%s", tu_tmpdir("lower"));
    project *prj = calloc(N_PROJECTS, sizeof *prj);
    job *jobs = calloc(2 * N_PROJECTS, sizeof *jobs);
    if (!prj || !jobs) {
        free(prj);
        free(jobs);
        fail_msg("out of memory");
    }
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    job_pool pl = {jobs, 0, 0, cpus < 2 ? 1 : cpus > 4 ? 4 : (int)cpus};
    double t0 = now_s();
    int failures = 0;
    /* generate and check on the host side; the compilers run meanwhile */
    for (int k = 0; k < N_PROJECTS; k++) {
        project *p = &prj[k];
        const int i = k / 3, bits = 8 << (k % 3);
        snprintf(p->dir, sizeof p->dir, "%s/m%d_%s", root, i, prec_name(bits));
        snprintf(p->label, sizeof p->label, "model %d %s", i, prec_name(bits));
        mf_error err;
        mf_error_clear(&err);
        if (prepare_project(&f->c[i], i, bits, p, &err)) {
            print_message("%s: %s\n", p->label, err.message);
            p->failed = 1;
            failures++;
            continue;
        }
        pool_submit(&pl, p, 1); /* the longer compile first */
        pool_submit(&pl, p, 0);
    }
    pool_drain(&pl);
    double t1 = now_s();
    /* run both host builds of every project */
    for (int k = 0; k < pl.n; k++) {
        const job *j = &jobs[k];
        mf_error err;
        mf_error_clear(&err);
        char what[64];
        snprintf(what, sizeof what, "cc%s exited with %d", j->dsp ? " -DMF_RT_EMULATE_DSP" : "",
                 j->status);
        int rc = j->status != 0
                     ? fail_with_log(&err, what, j->p->dir, j->dsp ? "cc_dsp.log" : "cc_ref.log")
                     : run_host(j->p, j->dsp, &err);
        if (rc) {
            print_message("%s (%s): %s\n", j->p->label, j->dsp ? "MF_RT_EMULATE_DSP" : "reference",
                          err.message);
            failures++;
        }
    }
    print_message("%d projects generated and compiled twice for the host (%d compilers at once) "
                  "in %.1f s, run in %.1f s\n",
                  N_PROJECTS, pl.parallel, t1 - t0, now_s() - t1);
    free(prj);
    free(jobs);
    assert_int_equal(failures, 0);
}

/* Issue 23's model lowers with its rectangular windows as given (the generated-C test above
 * runs it in every precision): kernel, stride, padding and the fused pool per axis. */
static void test_issue23_geometry(void **state)
{
    const fixture *f = *state;
    mf_error err;
    mf_model *folded = mf_fold_model(f->c[N_RANDOM + 2].m, &err);
    assert_non_null(folded);
    mf_program p;
    mf_lower_options lo = {.fuse_pools = 1, .keep_all = 0, .align = 8};
    assert_int_equal(mf_lower_program(NULL, folded, &lo, &p, &err), MF_OK);
    assert_true(p.n_calls >= 3);
    const mf_rt_geom *g = &p.calls[0].geom; /* conv [3, 1] / [2, 1] same + max pool [1, 2] */
    assert_int_equal(p.calls[0].kind, MF_K_CONV_MAXPOOL);
    assert_int_equal(g->kh, 3), assert_int_equal(g->kw, 1);
    assert_int_equal(g->sh, 2), assert_int_equal(g->sw, 1);
    assert_int_equal(g->oh, 6), assert_int_equal(g->ow, 13);
    assert_int_equal(g->pad_top, 0), assert_int_equal(g->pad_left, 0);
    assert_int_equal(p.calls[0].pool_kh, 1), assert_int_equal(p.calls[0].pool_kw, 2);
    assert_int_equal(p.calls[0].pool_sh, 1), assert_int_equal(p.calls[0].pool_sw, 2);
    g = &p.calls[1].geom; /* depthwise 3×3 × 2 same, batch-norm and ReLU6 folded in */
    assert_int_equal(p.calls[1].kind, MF_K_DWCONV);
    assert_string_equal(p.calls[1].kernel, "mf_rt_dwconv_relu6_f32");
    assert_int_equal(g->cin, 4), assert_int_equal(g->cout, 8);
    assert_int_equal(g->oh, 6), assert_int_equal(g->ow, 6);
    assert_int_equal(g->pad_top, 1), assert_int_equal(g->pad_left, 1);
    assert_non_null(p.calls[1].bias.data); /* the folded batch-norm's */
    g = &p.calls[6].geom;                  /* conv [1, 3] / [1, 2] valid */
    assert_int_equal(g->kh, 1), assert_int_equal(g->kw, 3);
    assert_int_equal(g->sh, 1), assert_int_equal(g->sw, 2);
    assert_int_equal(g->oh, 6), assert_int_equal(g->ow, 2);
    g = &p.calls[7].geom; /* average pool [2, 1] */
    assert_int_equal(p.calls[7].kind, MF_K_AVGPOOL);
    assert_int_equal(g->kh, 2), assert_int_equal(g->kw, 1);
    assert_int_equal(g->sh, 2), assert_int_equal(g->sw, 1);
    /* the batch-norm after the pool: an affine call of its 5 channels over 3×2 positions, its
     * scale and shift computed from γ, β and the running statistics */
    const mf_call *bn = &p.calls[8];
    assert_int_equal(bn->kind, MF_K_AFFINE);
    assert_string_equal(bn->kernel, "mf_rt_affine_f32");
    assert_int_equal(bn->n_out, 5), assert_int_equal(bn->n_in, 6);
    const mf_node *bnode = &folded->nodes[bn->node];
    assert_int_equal(bnode->spec.op, MF_OP_BATCHNORM);
    for (int ch = 0; ch < 5; ch++) {
        const float *gb = folded->params + bnode->param_offset;
        const float *mv = folded->state + bnode->state_offset;
        const double a = gb[ch] / sqrt((double)mv[5 + ch] + bnode->spec.epsilon);
        assert_float_equal(((const float *)bn->w.data)[ch], a, 1e-6 * (1 + fabs(a)));
        assert_float_equal(((const float *)bn->bias.data)[ch], gb[5 + ch] - mv[ch] * a,
                           1e-6 * (1 + fabs(a * mv[ch])));
    }
    /* ReLU6: fused into the first conv (+ pool), the depthwise conv and the dense layer,
     * standalone after the batch-norm */
    assert_int_equal(p.n_calls, 12);
    /* the concatenation of the add and two of its inputs: 8 + 8 + 8 channels */
    assert_int_equal(p.calls[5].kind, MF_K_CONCAT);
    assert_string_equal(p.calls[5].kernel, "mf_rt_concat_f32");
    assert_int_equal(p.calls[5].cat.k, 3);
    assert_int_equal(p.calls[5].n_in, 36);
    assert_int_equal(
        p.calls[5].cat.channels[0] + p.calls[5].cat.channels[1] + p.calls[5].cat.channels[2], 24);
    /* the add of 3 inputs (the depthwise conv and two 1x1 convs of it) */
    assert_int_equal(p.calls[4].kind, MF_K_ADDN);
    assert_int_equal(p.calls[4].n_inputs, 3);
    assert_string_equal(p.calls[4].kernel, "mf_rt_addn_f32");
    assert_string_equal(p.calls[0].kernel, "mf_rt_conv_maxpool_relu6_f32");
    assert_string_equal(p.calls[9].kernel, "mf_rt_relu6_f32");
    assert_string_equal(p.calls[10].kernel, "mf_rt_dense_relu6_f32");
    mf_program_free(&p);
    mf_model_free(folded);
    /* int8: q6 = saturate(lround(6·2^n_out)) of each call's output format */
    mf_qmodel *q = quantize(&f->c[N_RANDOM + 2], 8, 0, MF_RT_ROUND_HALF_UP, &err);
    assert_non_null(q);
    assert_int_equal(mf_lower_program(q, NULL, &lo, &p, &err), MF_OK);
    const int calls[4] = {0, 1, 9, 10};
    for (int k = 0; k < 4; k++) {
        const mf_call *c = &p.calls[calls[k]];
        const double q6 = fmin(127.0, (double)lround(ldexp(6.0, q->nodes[c->node].n_out)));
        assert_int_equal(c->rq.relu, MF_RT_RELU6((int)q6));
        assert_true(c->relu6 || c->kind == MF_K_RELU6);
    }
    assert_string_equal(p.calls[0].kernel, "mf_rt_conv_maxpool_relu6_s8");
    assert_string_equal(p.calls[1].kernel, "mf_rt_dwconv_relu6_s8");
    assert_int_equal(p.calls[1].scratch_bytes, mf_rt_dwconv_s8_scratch_bytes(&p.calls[1].geom));
    assert_string_equal(p.calls[10].kernel, "mf_rt_dense_relu6_s8");
    /* the affine: one format per channel although the model is quantized per tensor, each
     * channel's shift n_in + n_a,c − n_out, the bias at n_in + n_a,c (DESIGN.md §13) */
    const mf_call *af = &p.calls[8];
    assert_string_equal(af->kernel, "mf_rt_affine_s8");
    const mf_qnode *qa = &q->nodes[af->node];
    assert_int_equal(q->per_channel, 0);
    assert_non_null(qa->n_w_ch), assert_non_null(af->rq.shifts), assert_non_null(af->bias.data);
    for (int ch = 0; ch < 5; ch++)
        assert_int_equal(af->rq.shifts[ch], q->nodes[af->in[0]].n_out + qa->n_w_ch[ch] - qa->n_out);
    /* the concatenation: each input requantized to the output format */
    const mf_call *cc = &p.calls[5];
    assert_string_equal(cc->kernel, "mf_rt_concat_s8");
    for (int k = 0; k < 3; k++)
        assert_int_equal(cc->cat.shift[k], q->nodes[cc->in[k]].n_out - q->nodes[cc->node].n_out);
    /* the add: every input aligned to the finest format, one requantization to its own */
    const mf_call *a = &p.calls[4];
    assert_string_equal(a->kernel, "mf_rt_addn_s8");
    int fine = -1000;
    for (int k = 0; k < 3; k++)
        fine = q->nodes[a->in[k]].n_out > fine ? q->nodes[a->in[k]].n_out : fine;
    assert_int_equal(a->align_a, fine - q->nodes[a->in[0]].n_out);
    assert_int_equal(a->align_b, fine - q->nodes[a->in[1]].n_out);
    assert_int_equal(a->align_c, fine - q->nodes[a->in[2]].n_out);
    assert_int_equal(a->rq.shift, fine - q->nodes[a->node].n_out);
    mf_program_free(&p);
    mf_qmodel_free(q);
}

/* ---- the plan's scratch ---- */

static int overlap(size_t a, size_t na, size_t b, size_t nb)
{
    return a < b + nb && b < a + na;
}

static size_t getter_bytes(const mf_call *c, int bits)
{
    int conv = c->kind == MF_K_CONV || c->kind == MF_K_CONV_MAXPOOL;
    if (conv && bits == 8 && c->sparse) return mf_rt_conv_sparse_s8_scratch_bytes(&c->geom);
    if (conv && c->conv8 == MF_RT_CONV_S8_FIELD) return mf_rt_conv_field_s8_scratch_bytes(&c->geom);
    if (conv && c->conv8 == MF_RT_CONV_S8_SMALL) return mf_rt_conv_small_s8_scratch_bytes(&c->geom);
    if (conv && c->conv8 == MF_RT_CONV_S8_PATCH) return mf_rt_conv_patch_s8_scratch_bytes(&c->geom);
    if (conv && c->conv8 == MF_RT_CONV_S8_LANES) return mf_rt_conv_lanes_s8_scratch_bytes(&c->geom);
    if (conv && c->conv8 == MF_RT_CONV_S8_DOT) return mf_rt_conv_dot_s8_scratch_bytes(&c->geom);
    if (conv && bits == 8) return mf_rt_conv_s8_scratch_bytes(&c->geom);
    if (conv && bits == 16) return mf_rt_conv_s16_scratch_bytes(&c->geom);
    if (c->kind == MF_K_DENSE && bits == 8 && !c->sparse)
        return mf_rt_dense_s8_scratch_bytes(c->n_in, c->n_out);
    if (c->kind == MF_K_DWCONV && bits == 8) return mf_rt_dwconv_s8_scratch_bytes(&c->geom);
    return 0;
}

/* Every call's scratch: the getter's size, 8-aligned, inside the arena, apart from the call's
 * tensors and every tensor live at its step. *n_checked counts calls with scratch. */
static int check_scratch(const mf_program *p, int *n_checked, mf_error *err)
{
    const mf_plan *pl = &p->plan;
    const int nn = p->m->n_nodes;
    if (pl->n_tensors != nn + p->n_calls)
        return mf_error_set(err, "the plan has %d tensors, not %d", pl->n_tensors, nn + p->n_calls);
    for (int k = 0; k < p->n_calls; k++) {
        const mf_call *c = &p->calls[k];
        const char *name = p->m->nodes[c->node].spec.name;
        for (int j = 0; j < c->n_inputs; j++)
            if (c->in_off[j] + pl->tensors[c->in[j]].size > pl->arena)
                return mf_error_set(err, "%s: input %d leaves the arena", name, j);
        if (c->out_off + pl->tensors[c->out].size > pl->arena)
            return mf_error_set(err, "%s: the output leaves the arena", name);
        if (c->scratch_bytes != getter_bytes(c, p->bits))
            return mf_error_set(err, "%s (%s): scratch %zu bytes, the getter says %zu", name,
                                c->kernel, c->scratch_bytes, getter_bytes(c, p->bits));
        if (!c->scratch_bytes) continue;
        const int st = nn + k;
        const mf_plan_tensor *s = &pl->tensors[st];
        const size_t off = c->scratch_off, n = c->scratch_bytes;
        if (s->buffer < 0 || s->size != n || s->first != s->last || s->first < 1)
            return mf_error_set(err, "%s: scratch tensor %d: size %zu, lifetime [%d,%d]", name, st,
                                s->size, s->first, s->last);
        const int step = s->first;
        if (pl->tensors[c->out].first != step)
            return mf_error_set(err, "%s: scratch at step %d, the output produced at step %d", name,
                                step, pl->tensors[c->out].first);
        if (off != mf_plan_offset(pl, st) || off % 8)
            return mf_error_set(err, "%s: scratch offset %zu (plan %zu)", name, off,
                                mf_plan_offset(pl, st));
        if (off + n > pl->arena)
            return mf_error_set(err, "%s: scratch [%zu,%zu) leaves the arena of %zu bytes", name,
                                off, off + n, pl->arena);
        for (int j = 0; j < c->n_inputs; j++)
            if (overlap(off, n, c->in_off[j], pl->tensors[c->in[j]].size))
                return mf_error_set(err, "%s: scratch [%zu,%zu) overlaps input %d at %zu", name,
                                    off, off + n, j, c->in_off[j]);
        if (overlap(off, n, c->out_off, pl->tensors[c->out].size))
            return mf_error_set(err, "%s: scratch [%zu,%zu) overlaps the output at %zu", name, off,
                                off + n, c->out_off);
        for (int t = 0; t < pl->n_tensors; t++) {
            const mf_plan_tensor *u = &pl->tensors[t];
            if (t == st || u->buffer < 0 || u->first > step || u->last < step) continue;
            if (overlap(off, n, mf_plan_offset(pl, t), u->size))
                return mf_error_set(err,
                                    "%s: scratch [%zu,%zu) at step %d overlaps tensor %d [%zu,%zu) "
                                    "live [%d,%d]",
                                    name, off, off + n, step, t, mf_plan_offset(pl, t),
                                    mf_plan_offset(pl, t) + u->size, u->first, u->last);
        }
        (*n_checked)++;
    }
    return MF_OK;
}

/* What the random models exercise (int8 programs): every kernel kind, conv1d and conv2d, strides,
 * same and valid padding, each preprocessing kind. */
enum {
    COV_CONV1D = 1u << MF_K_COUNT,
    COV_CONV2D = COV_CONV1D << 1,
    COV_STRIDE2 = COV_CONV1D << 2,
    COV_SAME = COV_CONV1D << 3,
    COV_VALID = COV_CONV1D << 4,
    COV_RELU_MID = COV_CONV1D << 5, /* a ReLU call that is not on the model input */
    COV_PRE0 = COV_CONV1D << 6,     /* then COV_PRE0 << kind */
    COV_ALL = (COV_PRE0 << 3) - 1
};

static unsigned coverage(const mf_program *p, const mf_model *raw)
{
    unsigned c = COV_PRE0 << raw->pre.kind;
    for (int k = 0; k < p->n_calls; k++) {
        const mf_call *call = &p->calls[k];
        const mf_layer_spec *s = &p->m->nodes[call->first].spec;
        c |= 1u << call->kind;
        if (call->kind == MF_K_RELU && call->in[0] != 0) c |= COV_RELU_MID;
        if (call->kind != MF_K_CONV && call->kind != MF_K_CONV_MAXPOOL) continue;
        c |= s->op == MF_OP_CONV1D ? COV_CONV1D : COV_CONV2D;
        if (call->geom.sw > 1) c |= COV_STRIDE2;
        if (s->kernel > 1) c |= s->padding == MF_PAD_SAME ? COV_SAME : COV_VALID;
    }
    return c;
}

/* int8 convs call the geometry-specific 1D kernels exactly where they apply: a 1D geometry, and
 * for the fused pool a 1×2 stride-2 window (mf_runtime.h); every other conv the generic one. */
/* Only the 1D int8 calls (mf_rt_conv1d_s8_lag) and the register-field ones
 * (mf_rt_conv_field_s8_lag) may write over their input, and where they share bytes only within
 * their lag; *n_shared counts those that do share (*n_field_shared the register-field ones). */
static int check_overlaps(const mf_program *p, int *n_shared, int *n_field_shared, mf_error *err)
{
    for (int k = 0; k < p->n_calls; k++) {
        const mf_call *c = &p->calls[k];
        const mf_plan_tensor *o = &p->plan.tensors[c->out];
        if (o->overlaps < 0) continue;
        const int field = c->conv8 == MF_RT_CONV_S8_FIELD;
        const int dot = c->conv8 == MF_RT_CONV_S8_DOT && c->geom.h == 1;
        if (!(c->conv8 == MF_RT_CONV_S8_1D || field || dot) || o->overlaps != c->in[0])
            return mf_error_set(err, "call %d (%s) overlaps tensor %d", k, c->kernel, o->overlaps);
        const int pkw = c->kind == MF_K_CONV_MAXPOOL ? c->pool_kw : 1;
        const long lag = field ? mf_rt_conv_field_s8_lag(&c->geom, c->kind == MF_K_CONV_MAXPOOL)
                         : dot ? mf_rt_conv_dot_s8_lag(&c->geom, pkw)
                               : mf_rt_conv1d_s8_lag(&c->geom, pkw);
        const int shared =
            overlap(c->out_off, o->size, c->in_off[0], p->plan.tensors[c->in[0]].size);
        if (o->lag != lag || (shared && (long)c->out_off > (long)c->in_off[0] + lag))
            return mf_error_set(err, "call %d: output at %zu, input at %zu, lag %ld", k, c->out_off,
                                c->in_off[0], lag);
        *n_shared += shared;
        *n_field_shared += shared && field;
    }
    return MF_OK;
}

static int check_kernel_names(const mf_program *p, int *n1d, int *n_generic, int *n_small,
                              int *n_lanes, mf_error *err)
{
    for (int k = 0; k < p->n_calls; k++) {
        const mf_call *c = &p->calls[k];
        if (c->kind != MF_K_CONV && c->kind != MF_K_CONV_MAXPOOL) continue;
        char want[48];
        const char *r6 = c->relu6 ? "_relu6" : ""; /* a fused ReLU6: the kernel's ReLU6 form */
        if (c->sparse) { /* a pruned conv: the sparse kernels, never the 1D ones */
            snprintf(want, sizeof want, "mf_rt_conv_sparse%s%s_s8",
                     c->kind == MF_K_CONV ? "" : "_maxpool", r6);
            if (strcmp(c->kernel, want) || c->conv8 != MF_RT_CONV_S8_ENGINE)
                return mf_error_set(err, "call %d: kernel %s, want %s", k, c->kernel, want);
            continue;
        }
        const mf_rt_geom *g = &c->geom;
        /* a dot geometry (mf_rt_conv_dot_s8_chosen, checked first by the choice): the dot
         * kernels */
        const int dot = c->kind == MF_K_CONV ? mf_rt_conv_dot_s8_chosen(g, 1, 1, 1, 1)
                                             : mf_rt_conv_dot_s8_chosen(g, c->pool_kh, c->pool_kw,
                                                                        c->pool_sh, c->pool_sw);
        if (dot) {
            snprintf(want, sizeof want, "mf_rt_conv_dot%s%s_s8",
                     c->kind == MF_K_CONV ? "" : "_maxpool", r6);
            if (strcmp(c->kernel, want) || c->conv8 != MF_RT_CONV_S8_DOT)
                return mf_error_set(err, "call %d: kernel %s, want %s", k, c->kernel, want);
            *n_small += 1;
            continue;
        }
        /* a patch geometry (mf_rt_conv_patch_s8_chosen, checked first as mf_rt_conv_s8_choose
         * does): the entry point of its shape */
        const int patch =
            c->kind == MF_K_CONV
                ? mf_rt_conv_patch_s8_chosen(g, 1, 1, 1, 1)
                : mf_rt_conv_patch_s8_chosen(g, c->pool_kh, c->pool_kw, c->pool_sh, c->pool_sw);
        if (patch) {
            static const char *const shapes[] = {"", "3x3o3", "1x3o3", "5x5o1", "go3"};
            const int shape = mf_rt_conv_patch_s8_shape(g);
            snprintf(want, sizeof want, "mf_rt_conv_patch%s%s%s_s8", shapes[shape],
                     c->kind == MF_K_CONV ? "" : "_maxpool", r6);
            if (strcmp(c->kernel, want) || c->conv8 != MF_RT_CONV_S8_PATCH ||
                c->conv8_variant != shape)
                return mf_error_set(err, "call %d: kernel %s, want %s", k, c->kernel, want);
            *n_small += 1;
            continue;
        }
        /* a lane geometry (mf_rt_conv_lanes_s8_chosen, checked after patch as the choice does:
         * one output channel over a multiple of 8 input channels): the lane kernels */
        const int lanes =
            c->kind == MF_K_CONV
                ? mf_rt_conv_lanes_s8_chosen(g, 1, 1, 1, 1)
                : mf_rt_conv_lanes_s8_chosen(g, c->pool_kh, c->pool_kw, c->pool_sh, c->pool_sw);
        if (lanes) {
            snprintf(want, sizeof want, "mf_rt_conv_lanes%s%s_s8",
                     c->kind == MF_K_CONV ? "" : "_maxpool", r6);
            if (strcmp(c->kernel, want) || c->conv8 != MF_RT_CONV_S8_LANES || c->conv8_variant != 0)
                return mf_error_set(err, "call %d: kernel %s, want %s", k, c->kernel, want);
            *n_lanes += 1;
            continue;
        }
        /* a register-field geometry (mf_rt_conv_field_s8_chosen): the kernel of its P */
        const int field =
            c->kind == MF_K_CONV
                ? mf_rt_conv_field_s8_chosen(g, 1, 1, 1, 1)
                : mf_rt_conv_field_s8_chosen(g, c->pool_kh, c->pool_kw, c->pool_sh, c->pool_sw);
        if (field) {
            const int P = mf_rt_conv_field_s8_p(g, 1, 1, 1, 1);
            snprintf(want, sizeof want, "mf_rt_conv_field%d%s%s_s8", P,
                     c->kind == MF_K_CONV ? "" : "_maxpool", r6);
            if (strcmp(c->kernel, want) || c->conv8 != MF_RT_CONV_S8_FIELD || c->conv8_variant != P)
                return mf_error_set(err, "call %d: kernel %s, want %s", k, c->kernel, want);
            *n_small += 1;
            continue;
        }
        /* a small geometry (mf_rt_conv_small_s8_chosen): the small-geometry kernels, never the
         * 1D or generic ones */
        const int small =
            c->kind == MF_K_CONV
                ? mf_rt_conv_small_s8_chosen(g, 1, 1, 1, 1)
                : mf_rt_conv_small_s8_chosen(g, c->pool_kh, c->pool_kw, c->pool_sh, c->pool_sw);
        if (small) {
            snprintf(want, sizeof want, "mf_rt_conv_small%s%s_s8",
                     c->kind == MF_K_CONV ? "" : "_maxpool", r6);
            if (strcmp(c->kernel, want) || c->conv8 != MF_RT_CONV_S8_SMALL)
                return mf_error_set(err, "call %d: kernel %s, want %s", k, c->kernel, want);
            *n_small += 1;
            continue;
        }
        int one_d = g->h == 1 && g->kh == 1 && g->oh == 1 && g->sh == 1 && g->pad_top == 0;
        if (c->kind == MF_K_CONV_MAXPOOL)
            one_d =
                one_d && c->pool_kh == 1 && c->pool_kw == 2 && c->pool_sh == 1 && c->pool_sw == 2;
        const int wide =
            !one_d && (c->kind == MF_K_CONV ? mf_rt_conv_wide_s8_chosen(g, 1, 1, 1, 1)
                                            : mf_rt_conv_wide_s8_chosen(g, c->pool_kh, c->pool_kw,
                                                                        c->pool_sh, c->pool_sw));
        snprintf(want, sizeof want, "mf_rt_%s%s%s_s8",
                 one_d  ? "conv1d"
                 : wide ? "conv_wide"
                        : "conv",
                 c->kind == MF_K_CONV ? "" : "_maxpool", r6);
        if (strcmp(c->kernel, want) || c->conv8 != (one_d  ? MF_RT_CONV_S8_1D
                                                    : wide ? MF_RT_CONV_S8_WIDE
                                                           : MF_RT_CONV_S8_ENGINE))
            return mf_error_set(err, "call %d: kernel %s, want %s", k, c->kernel, want);
        *(one_d ? n1d : n_generic) += 1;
    }
    return MF_OK;
}

static void test_scratch_inside_arena_no_overlap(void **state)
{
    const fixture *f = *state;
    int failures = 0, checked = 0, huge_ok = 0, n1d = 0, n_generic = 0, n_small = 0, n_lanes = 0,
        n_shared = 0, n_field_shared = 0, n_sparse = 0, n_sparse_conv = 0;
    unsigned covered = 0;
    for (int i = 0; i < N_CASES; i++)
        for (int bits = 8; bits <= 16; bits += 8) {
            int per_channel, rounding;
            variant(i, bits, &per_channel, &rounding);
            mf_error err;
            mf_error_clear(&err);
            mf_program p;
            memset(&p, 0, sizeof p);
            mf_lower_options lo = {.fuse_pools = 1, .keep_all = 0, .align = 8};
            mf_qmodel *q = quantize(&f->c[i], bits, per_channel, rounding, &err);
            int rc =
                !q || mf_lower_program(q, NULL, &lo, &p, &err) || check_scratch(&p, &checked, &err);
            if (!rc && bits == 8 && !f->c[i].huge) covered |= coverage(&p, f->c[i].m);
            if (!rc && bits == 8)
                rc = check_kernel_names(&p, &n1d, &n_generic, &n_small, &n_lanes, &err);
            if (!rc) rc = check_overlaps(&p, &n_shared, &n_field_shared, &err);
            for (int k = 0; !rc && k < p.n_calls; k++) {
                n_sparse += p.calls[k].sparse &&
                            !strcmp(p.calls[k].kernel, "mf_rt_dense_sparse_s8") && bits == 8;
                n_sparse_conv +=
                    p.calls[k].sparse && !strcmp(p.calls[k].kernel, "mf_rt_conv_sparse_maxpool_s8");
            }
            if (!rc && f->c[i].huge) {
                /* the conv + pool call: K = 9 · 400 = 3600, scratch from the getter */
                const mf_call *c = &p.calls[0];
                size_t want = bits == 8 ? mf_rt_conv_s8_scratch_bytes(&c->geom)
                                        : mf_rt_conv_s16_scratch_bytes(&c->geom);
                if (c->kind != MF_K_CONV_MAXPOOL || c->geom.kw * c->geom.cin != 3600 ||
                    c->scratch_bytes != want || want < 8 * 3600) {
                    rc = mf_error_set(&err, "the huge conv: %s, K %d, scratch %zu (want %zu)",
                                      c->kernel, c->geom.kw * c->geom.cin, c->scratch_bytes, want);
                } else {
                    huge_ok++;
                    print_message("huge receptive field %s: %s scratch %zu bytes at %zu, arena "
                                  "%zu bytes\n",
                                  prec_name(bits), c->kernel, c->scratch_bytes, c->scratch_off,
                                  p.plan.arena);
                }
            }
            if (rc) {
                print_message("model %d %s: %s\n", i, prec_name(bits), err.message);
                failures++;
            }
            mf_program_free(&p);
            mf_qmodel_free(q);
        }
    print_message("%d calls with scratch checked\n", checked);
    assert_int_equal(failures, 0);
    assert_int_equal(huge_ok, 2);
    assert_true(checked >= N_CASES); /* every model has an int8 conv or dense */
    print_message("int8 convs: %d on the 1D kernels, %d on the generic ones, %d on the "
                  "small-geometry ones\n",
                  n1d, n_generic, n_small);
    assert_true(n1d > 0 && n_generic > 0 && n_small > 0);
    print_message("int8 convs on the lane kernels (1 output channel, cin %% 8 == 0): %d\n",
                  n_lanes);
    assert_true(n_lanes > 0); /* random_model's lane block: the LANES branch above ran */
    print_message("1D int8 convs written over their input: %d (register-field ones %d)\n", n_shared,
                  n_field_shared);
    assert_true(n_shared > 0);
    print_message("int8 layers on the sparse kernels: dense %d, conv + pool %d\n", n_sparse,
                  n_sparse_conv);
    assert_true(n_sparse > 0 && n_sparse_conv > 0);
    print_message("coverage %x of %x\n", covered, (unsigned)COV_ALL);
    assert_int_equal(covered, COV_ALL); /* the seeds still make the models this file is about */
}

/* The register-field kernels write over their input like the 1D ones: a 1×1 conv1d of 8 → 8
 * channels (K = 8, P = 4) plain, then one with a fused 1×2 max pool (as in the UCI-HAR
 * ResNet's shortcut), each the last reader of its input, must get an output buffer that shares
 * bytes with the input, within mf_rt_conv_field_s8_lag. */
static void test_field_overlaps_input(void **state)
{
    (void)state;
    mf_error err;
    mf_error_clear(&err);
    mf_rng r;
    mf_rng_seed(&r, 97);
    builder b;
    memset(&b, 0, sizeof b);
    b.r = &r;
    b.dims = 1, b.h = 1, b.w = 32, b.c = 8;
    mf_shape in = {2, {32, 8}};
    b.m = mf_model_new(&in, &err);
    assert_non_null(b.m);
    snprintf(b.cur, sizeof b.cur, "input");
    conv(&b, 8, 1, 1, 1, 1, &err);
    conv(&b, 8, 1, 1, 1, 0, &err);
    pool(&b, 1, 2, 2, &err);
    simple(&b, MF_OP_FLATTEN, &err);
    dense(&b, 3, 0, &err);
    assert_int_equal(b.rc, MF_OK);
    assert_int_equal(mf_model_finalize(b.m, &err), MF_OK);
    mf_model_init_params(b.m, 7);
    mcase mc = {b.m, NULL, NULL, 0};
    assert_int_equal(make_data(&mc, 97, &err), MF_OK);
    mf_qmodel *q = quantize(&mc, 8, 0, MF_RT_ROUND_HALF_UP, &err);
    assert_non_null(q);
    mf_program p;
    mf_lower_options lo = {.fuse_pools = 1, .keep_all = 0, .align = 8};
    assert_int_equal(mf_lower_program(q, NULL, &lo, &p, &err), MF_OK);
    int n_shared = 0, n_field_shared = 0;
    assert_int_equal(check_overlaps(&p, &n_shared, &n_field_shared, &err), MF_OK);
    for (int k = 0; k < 2; k++) {
        const mf_call *c = &p.calls[k];
        assert_int_equal(c->conv8, MF_RT_CONV_S8_FIELD);
        assert_int_equal(c->conv8_variant, 4);
        assert_int_equal(c->kind, k ? MF_K_CONV_MAXPOOL : MF_K_CONV);
        const mf_plan_tensor *o = &p.plan.tensors[c->out];
        const long lag = mf_rt_conv_field_s8_lag(&c->geom, k);
        print_message("%s: input at %zu, output at %zu, lag %ld\n", c->kernel, c->in_off[0],
                      c->out_off, lag);
        assert_int_equal(o->overlaps, c->in[0]);
        assert_int_equal(o->lag, lag);
        assert_true(overlap(c->out_off, o->size, c->in_off[0], p.plan.tensors[c->in[0]].size));
        assert_true((long)c->out_off <= (long)c->in_off[0] + lag);
    }
    assert_int_equal(n_field_shared, 2);
    mf_program_free(&p);
    mf_qmodel_free(q);
    mf_model_free(mc.m);
    free(mc.cal);
    free(mc.raw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generated_c_equals_interpreter),
        cmocka_unit_test(test_issue23_geometry),
        cmocka_unit_test(test_scratch_inside_arena_no_overlap),
        cmocka_unit_test(test_field_overlaps_input),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
