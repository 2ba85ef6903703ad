/* Geometry sweep of the conv kernels on the target (bench/kernel_sweep builds and runs it; see
 * there for the table and the targets). For 1D inputs of length 64 and 2D inputs of 16×16,
 * 'same' padding, cin and cout in {1, 3, 8, 16, 64}, k in {1, 3, 5} (2D: k×k), stride 1 and 2,
 * without and with a fused max pool (1D 1×2, 2D 2×2, stride 2, valid), it times one call of the
 * public kernel of each precision (mf_rt_conv_s8/s16/f32 or mf_rt_conv_maxpool_*; int8: the
 * geometry-specific kernels deploy uses where mf_rt_conv_s8_choose says so: the register-field
 * ones mf_rt_conv_field<P>_s8 / _maxpool_s8, the small-geometry ones mf_rt_conv_small_s8 /
 * mf_rt_conv_small_maxpool_s8, the 1D ones mf_rt_conv1d_s8 / mf_rt_conv1d_maxpool_s8;
 * -DSWEEP_SMALL_ALL / -DSWEEP_FIELD_ALL: the small-geometry / register-field ones wherever they
 * run, to compare) with TIM2
 * (-icount shift=0: 1 tick = 1 instruction) and prints one line per geometry:
 *   row <dims> <cin> <cout> <k> <stride> <pool> <macs> <int8> <int16> <float32>
 * pool is 0 or 2; macs = oh·ow·cout·kh·kw·cin of the conv part (taps in the zero padding count);
 * the figures are instructions between two TIM2 reads around the call (the call and ≈ 2–4
 * instructions of the reads included). A geometry whose fused pool does not fit (conv output
 * below 2) prints "skip …"; a problem of the sweep itself prints "error …". The last line is
 * "rows <n>". Only mf_runtime.h's public API is called: the sweep measures whatever runtime/
 * holds. -DSWEEP_QUICK: a small subset (cin, cout in {1, 16}, k = 3), to check the pipeline.
 *
 * Data: instruction counts depend on values only through data-dependent branches, so all weights
 * come from one flash pool (sweep_pool.S: words that are finite float32 values, read as int8 and
 * int16 as they are) and the input is the pool's tail copied once into RAM. Requantization is the
 * quantizer's default (one power-of-two shift per tensor, half-up rounding) with ReLU; the shift
 * grows with log2(kh·kw·cin)/2 like the accumulator's spread, so outputs span the output range
 * instead of saturating or vanishing. Biases: small pseudo-random values in RAM.
 *
 * Memory: activations stay in RAM. The float32 64 → 64 2D stride-1 layer needs 64 KiB of input
 * and 64 KiB of output, more than the 128 KiB SRAM of link.ld holds beside the stack: on the chip
 * its output would go to the 64 KiB core-coupled RAM (CCM, 0x10000000). QEMU 7.2 does not model
 * the CCM but maps the STM32F405's 192 KiB of SRAM in one piece from 0x20000000, so every output
 * goes to the 64 KiB above the linker script's RAM (0x20020000, above the initial stack
 * pointer), a stand-in of the CCM's size: instruction counts do not depend on addresses. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bench.h" /* BENCH_FLAGS */
#include "mf_icount.h"
#include "mf_runtime.h"
#include "semihost.h"

extern const uint64_t sweep_pool[]; /* sweep_pool.S */
#define POOL_WEIGHT_BYTES (64u * 64u * 5u * 5u * 4u)
#define IO_BYTES          (16u * 16u * 64u * 4u) /* the largest input or output (float32) */

extern uint32_t _estack;
#define OUT_MEM ((void *)0x20020000u) /* the CCM stand-in (file comment) */

/* Kernel working memory, sized for the getters' figures with room for kernels that ask more; a
 * geometry that needs more prints an error rather than overrun. */
#define SCRATCH_BYTES (48u * 1024u)
static uint64_t in_mem[IO_BYTES / 8], scratch_mem[SCRATCH_BYTES / 8];
static int32_t bias_s32[64];
static int64_t bias_s64[64];
static float bias_f32[64];

enum { P_S8, P_S16, P_F32, N_PREC };
static const char *const prec_name[N_PREC] = {"int8", "int16", "float32"};

typedef struct sweep_case {
    mf_rt_geom g;
    int dims, k, stride, pool; /* pool: 0 or 2 */
    int shift_s8, shift_s16;   /* requantization shifts */
} sweep_case;

/* The int8 kernel deploy calls for c's layer (mf_rt_conv_s8_choose, as lower/kernels.c);
 * -DSWEEP_SMALL_ALL: the small-geometry kernels on every geometry, -DSWEEP_FIELD_ALL: the
 * register-field kernels on every geometry they run (mf_rt_conv_field_s8_p), -DSWEEP_PATCH_ALL:
 * the patch kernels on every geometry of their shapes (mf_rt_conv_patch_s8_shape),
 * -DSWEEP_LANES_ALL: the lane kernels on every geometry they fit (mf_rt_conv_lanes_s8_fits),
 * -DSWEEP_DOT_ALL: the dot kernels on every geometry they cover (mf_rt_conv_dot_s8_covers), to
 * compare. */
static mf_rt_conv_s8_kernel kernel_s8(const sweep_case *c)
{
    const int ph = c->pool ? (c->dims == 1 ? 1 : 2) : 1, pw = c->pool ? 2 : 1;
#if defined(SWEEP_SMALL_ALL)
    (void)ph, (void)pw;
    return MF_RT_CONV_S8_SMALL;
#elif defined(SWEEP_FIELD_ALL)
    if (mf_rt_conv_field_s8_p(&c->g, ph, pw, ph, pw)) return MF_RT_CONV_S8_FIELD;
#elif defined(SWEEP_PATCH_ALL)
    if (mf_rt_conv_patch_s8_shape(&c->g)) return MF_RT_CONV_S8_PATCH;
#elif defined(SWEEP_LANES_ALL)
    if (mf_rt_conv_lanes_s8_fits(&c->g)) return MF_RT_CONV_S8_LANES;
#elif defined(SWEEP_DOT_ALL)
    if (mf_rt_conv_dot_s8_covers(&c->g, ph, pw, ph, pw)) return MF_RT_CONV_S8_DOT;
#endif
    return mf_rt_conv_s8_choose(&c->g, ph, pw, ph, pw);
}

/* Scratch bytes the kernel of `prec` needs for c: the public getters (0: none, NULL is passed).
 * The one place to extend when a kernel gets a getter. */
static size_t scratch_bytes(int prec, const sweep_case *c)
{
    switch (prec) {
    case P_S8: /* the kernel deploy calls (run, run_chosen) */
        switch (kernel_s8(c)) {
        case MF_RT_CONV_S8_FIELD:
            return mf_rt_conv_field_s8_scratch_bytes(&c->g);
        case MF_RT_CONV_S8_SMALL:
            return mf_rt_conv_small_s8_scratch_bytes(&c->g);
        case MF_RT_CONV_S8_PATCH:
            return mf_rt_conv_patch_s8_scratch_bytes(&c->g);
        case MF_RT_CONV_S8_LANES:
            return mf_rt_conv_lanes_s8_scratch_bytes(&c->g);
        case MF_RT_CONV_S8_DOT:
            return mf_rt_conv_dot_s8_scratch_bytes(&c->g);
        default:
            return mf_rt_conv_s8_scratch_bytes(&c->g);
        }
    case P_S16:
        return mf_rt_conv_s16_scratch_bytes(&c->g);
    default:
        return 0;
    }
}

static inline __attribute__((always_inline)) uint32_t now(void)
{
    MF_BARRIER();
    uint32_t t = mf_icount_read();
    MF_BARRIER();
    return t;
}

static int same_out(int in, int s)
{
    return (in + s - 1) / s;
}

static int pad_before(int in, int k, int s, int out)
{
    int total = (out - 1) * s + k - in;
    return total > 0 ? total / 2 : 0;
}

static int ceil_half_log2(uint32_t v) /* ⌈log2(v) / 2⌉ */
{
    int l = 0;
    while ((1u << l) < v)
        l++;
    return (l + 1) / 2;
}

static sweep_case make_case(int dims, int cin, int cout, int k, int stride, int pool)
{
    sweep_case c;
    memset(&c, 0, sizeof c);
    mf_rt_geom *g = &c.g;
    g->h = dims == 1 ? 1 : 16;
    g->w = dims == 1 ? 64 : 16;
    g->cin = cin;
    g->cout = cout;
    g->kh = dims == 1 ? 1 : k;
    g->kw = k;
    g->sh = dims == 1 ? 1 : stride;
    g->sw = stride;
    g->oh = same_out(g->h, g->sh);
    g->ow = same_out(g->w, g->sw);
    g->pad_top = pad_before(g->h, g->kh, g->sh, g->oh);
    g->pad_left = pad_before(g->w, g->kw, g->sw, g->ow);
    c.dims = dims;
    c.k = k;
    c.stride = stride;
    c.pool = pool;
    /* accumulator spread ≈ √K · (spread of the products): int8 products ~2^12, outputs to ~2^5;
     * int16 products ~2^28, outputs to ~2^13 */
    int half = ceil_half_log2((uint32_t)(g->kh * g->kw * cin));
    c.shift_s8 = 7 + half;
    c.shift_s16 = 15 + half;
    return c;
}

static uint32_t out_elems(const sweep_case *c)
{
    const mf_rt_geom *g = &c->g;
    if (!c->pool) return (uint32_t)(g->oh * g->ow * g->cout);
    int ph = c->dims == 1 ? 1 : 2;
    return (uint32_t)(((g->oh - ph) / ph + 1) * ((g->ow - 2) / 2 + 1) * g->cout);
}

/* One call of the public kernel of `prec`, timed. noinline: each measurement is one call site
 * with the geometry in memory, as the generated model code calls the kernels. */
__attribute__((noinline)) static uint32_t run(int prec, const sweep_case *c, void *scratch)
{
    const mf_rt_geom *g = &c->g;
    const int ph = c->dims == 1 ? 1 : 2, pw = 2;
    const void *in = in_mem;
    void *out = OUT_MEM;
    uint32_t t0 = 0, t1 = 0;
    if (prec == P_S8) {
        const mf_rt_requant rq = {c->shift_s8, NULL, 1, MF_RT_ROUND_HALF_UP};
        const int8_t *w = (const int8_t *)sweep_pool;
        t0 = now();
        /* 1D layers: the 1D kernels, which mcuforge deploy calls for them (lower/kernels.c) */
        if (c->pool && c->dims == 1)
            mf_rt_conv1d_maxpool_s8(g, ph, pw, ph, pw, in, w, bias_s32, &rq, out, scratch);
        else if (c->pool)
            mf_rt_conv_maxpool_s8(g, ph, pw, ph, pw, in, w, bias_s32, &rq, out, scratch);
        else if (c->dims == 1)
            mf_rt_conv1d_s8(g, in, w, bias_s32, &rq, out, scratch);
        else
            mf_rt_conv_s8(g, in, w, bias_s32, &rq, out, scratch);
        t1 = now();
    } else if (prec == P_S16) {
        const mf_rt_requant rq = {c->shift_s16, NULL, 1, MF_RT_ROUND_HALF_UP};
        const int16_t *w = (const int16_t *)sweep_pool;
        t0 = now();
        if (c->pool)
            mf_rt_conv_maxpool_s16(g, ph, pw, ph, pw, in, w, bias_s64, &rq, out, scratch);
        else
            mf_rt_conv_s16(g, in, w, bias_s64, &rq, out, scratch);
        t1 = now();
    } else {
        const float *w = (const float *)sweep_pool;
        t0 = now();
        if (c->pool)
            mf_rt_conv_maxpool_f32(g, ph, pw, ph, pw, in, w, bias_f32, 1, out);
        else
            mf_rt_conv_f32(g, in, w, bias_f32, 1, out);
        t1 = now();
    }
    return t1 - t0;
}

/* The register-field kernel of P, timed (each P its own timed region: no dispatch inside). */
#define FIELD_CASE(P)                                                                              \
    case P:                                                                                        \
        t0 = now();                                                                                \
        if (c->pool)                                                                               \
            mf_rt_conv_field##P##_maxpool_s8(g, 1, 2, 1, 2, in, w, bias_s32, &rq, out, scratch);   \
        else                                                                                       \
            mf_rt_conv_field##P##_s8(g, in, w, bias_s32, &rq, out, scratch);                       \
        t1 = now();                                                                                \
        break;
/* The patch kernel of a shape (S its name, U its MF_RT_CONV_PATCH_ constant). */
#define PATCH_CASE(S, U)                                                                           \
    case MF_RT_CONV_PATCH_##U:                                                                     \
        t0 = now();                                                                                \
        if (c->pool)                                                                               \
            mf_rt_conv_patch##S##_maxpool_s8(g, ph, pw, ph, pw, in, w, bias_s32, &rq, out,         \
                                             scratch);                                             \
        else                                                                                       \
            mf_rt_conv_patch##S##_s8(g, in, w, bias_s32, &rq, out, scratch);                       \
        t1 = now();                                                                                \
        break;

/* The int8 call where deploy calls the small-geometry, register-field or wide-row kernels
 * (mf_rt_conv_s8_choose), timed in a function of its own: run() and the kernels it times stay as
 * they were. */
__attribute__((noinline)) static uint32_t run_chosen(const sweep_case *c, void *scratch)
{
    const mf_rt_geom *g = &c->g;
    const int ph = c->dims == 1 ? 1 : 2, pw = 2;
    const mf_rt_requant rq = {c->shift_s8, NULL, 1, MF_RT_ROUND_HALF_UP};
    const int8_t *w = (const int8_t *)sweep_pool;
    const void *in = in_mem;
    void *out = OUT_MEM;
    uint32_t t0 = 0, t1 = 0;
    const mf_rt_conv_s8_kernel k = kernel_s8(c);
    switch (k == MF_RT_CONV_S8_FIELD   ? mf_rt_conv_field_s8_p(g, 1, 1, 1, 1)
            : k == MF_RT_CONV_S8_WIDE  ? 9
            : k == MF_RT_CONV_S8_PATCH ? 10
            : k == MF_RT_CONV_S8_LANES ? 11
                                       : 0) {
        FIELD_CASE(1)
        FIELD_CASE(2)
        FIELD_CASE(3)
        FIELD_CASE(4)
        FIELD_CASE(5)
        FIELD_CASE(6)
        FIELD_CASE(7)
        FIELD_CASE(8)
    case 9:
        t0 = now();
        if (c->pool)
            mf_rt_conv_wide_maxpool_s8(g, ph, pw, ph, pw, in, w, bias_s32, &rq, out, scratch);
        else
            mf_rt_conv_wide_s8(g, in, w, bias_s32, &rq, out, scratch);
        t1 = now();
        break;
    case 10: /* the entry point of the layer's shape */
        switch (mf_rt_conv_patch_s8_shape(g)) {
            PATCH_CASE(3x3o3, 3X3O3)
            PATCH_CASE(1x3o3, 1X3O3)
            PATCH_CASE(5x5o1, 5X5O1)
            PATCH_CASE(go3, GO3)
        default:
            t0 = t1 = now();
        }
        break;
    case 11:
        t0 = now();
        if (c->pool)
            mf_rt_conv_lanes_maxpool_s8(g, ph, pw, ph, pw, in, w, bias_s32, &rq, out, scratch);
        else
            mf_rt_conv_lanes_s8(g, in, w, bias_s32, &rq, out, scratch);
        t1 = now();
        break;
    default:
        t0 = now();
        if (c->pool)
            mf_rt_conv_small_maxpool_s8(g, ph, pw, ph, pw, in, w, bias_s32, &rq, out, scratch);
        else
            mf_rt_conv_small_s8(g, in, w, bias_s32, &rq, out, scratch);
        t1 = now();
    }
    return t1 - t0;
}

/* The int8 call where deploy calls the dot kernels, timed in a function of its own (run_chosen's
 * timed code stays as it was). */
__attribute__((noinline)) static uint32_t run_dot(const sweep_case *c, void *scratch)
{
    const mf_rt_geom *g = &c->g;
    const int ph = c->dims == 1 ? 1 : 2, pw = 2;
    const mf_rt_requant rq = {c->shift_s8, NULL, 1, MF_RT_ROUND_HALF_UP};
    const int8_t *w = (const int8_t *)sweep_pool;
    const void *in = in_mem;
    void *out = OUT_MEM;
    const uint32_t t0 = now();
    if (c->pool)
        mf_rt_conv_dot_maxpool_s8(g, ph, pw, ph, pw, in, w, bias_s32, &rq, out, scratch);
    else
        mf_rt_conv_dot_s8(g, in, w, bias_s32, &rq, out, scratch);
    const uint32_t t1 = now();
    return t1 - t0;
}

static void put_case(sh_line *l, const char *tag, const sweep_case *c)
{
    sh_line_str(l, tag);
    const int v[6] = {c->dims, c->g.cin, c->g.cout, c->k, c->stride, c->pool};
    for (int i = 0; i < 6; i++) {
        sh_line_str(l, " ");
        sh_line_i32(l, v[i]);
    }
}

static void init_data(void)
{
    memcpy(in_mem, (const uint8_t *)sweep_pool + POOL_WEIGHT_BYTES, IO_BYTES);
    uint32_t x = 0x9E3779B9u; /* xorshift32 */
    for (int i = 0; i < 64; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        int32_t r = (int32_t)(x % 8192u) - 4096;
        bias_s32[i] = r;
        bias_s64[i] = (int64_t)r * 256;
        bias_f32[i] = (float)r / 33554432.0f;
    }
}

/* Measures c in every precision and prints its line; returns 1 if it printed a row. */
static int sweep_one(const sweep_case *c, sh_line *l)
{
    const mf_rt_geom *g = &c->g;
    if (c->pool && (g->ow < 2 || (c->dims == 2 && g->oh < 2))) {
        put_case(l, "skip", c);
        sh_line_str(l, " (conv output below the pool)\n");
        sh_line_flush(l);
        return 0;
    }
    uint32_t t[N_PREC] = {0};
    for (int p = 0; p < N_PREC; p++) {
        size_t need = scratch_bytes(p, c);
        uint32_t elem = p == P_S8 ? 1u : p == P_S16 ? 2u : 4u;
        if (need > SCRATCH_BYTES || out_elems(c) * elem > IO_BYTES) {
            put_case(l, "error", c);
            sh_line_str(l, " ");
            sh_line_str(l, prec_name[p]);
            sh_line_str(l, ": scratch or output larger than sweep.c's buffers, not measured\n");
            sh_line_flush(l);
            continue;
        }
        const mf_rt_conv_s8_kernel k = p == P_S8 ? kernel_s8(c) : MF_RT_CONV_S8_ENGINE;
        if (k == MF_RT_CONV_S8_SMALL || k == MF_RT_CONV_S8_FIELD || k == MF_RT_CONV_S8_WIDE ||
            k == MF_RT_CONV_S8_PATCH || k == MF_RT_CONV_S8_LANES)
            t[p] = run_chosen(c, need ? scratch_mem : NULL);
        else if (k == MF_RT_CONV_S8_DOT)
            t[p] = run_dot(c, need ? scratch_mem : NULL);
        else
            t[p] = run(p, c, need ? scratch_mem : NULL);
    }
    put_case(l, "row", c);
    const uint32_t v[4] = {(uint32_t)(g->oh * g->ow * g->cout) * (uint32_t)(g->kh * g->kw * g->cin),
                           t[P_S8], t[P_S16], t[P_F32]};
    for (int i = 0; i < 4; i++) {
        sh_line_str(l, " ");
        sh_line_u32(l, v[i]);
    }
    sh_line_str(l, "\n");
    sh_line_flush(l);
    return 1;
}

int main(void)
{
    static const int chans[] = {1, 3, 8, 16, 64}, ks[] = {1, 3, 5};
    mf_icount_init();
    init_data();
    sh_puts("conv geometry sweep, " BENCH_FLAGS "\n");
    if ((uintptr_t)&_estack != (uintptr_t)OUT_MEM) {
        sh_puts("error: link.ld's RAM no longer ends at the output area (sweep.c)\n");
        return 1;
    }
    sh_line l = {0};
    uint32_t rows = 0;
    for (int dims = 1; dims <= 2; dims++)
        for (int a = 0; a < 5; a++)
            for (int b = 0; b < 5; b++)
                for (int ki = 0; ki < 3; ki++)
                    for (int stride = 1; stride <= 2; stride++)
                        for (int pool = 0; pool <= 2; pool += 2) {
#ifdef SWEEP_QUICK
                            if ((a != 0 && a != 3) || (b != 0 && b != 3) || ks[ki] != 3) continue;
#endif
                            sweep_case c =
                                make_case(dims, chans[a], chans[b], ks[ki], stride, pool);
                            rows += (uint32_t)sweep_one(&c, &l);
                        }
    sh_puts("rows ");
    sh_put_u32(rows);
    sh_puts("\n");
    return 0;
}
