/* Instruction counts of the runtime kernels on the target (QEMU netduinoplus2, TIM2 under
 * -icount shift=0,sleep=off: 1 tick = 1 executed instruction, TARGET.md §6), per layer, for
 *   - the reference 1D CNN of TARGET.md §8.1 (conv1d 9→16 k3 same + ReLU on 128×9, maxpool 2,
 *     conv 16→16, maxpool 2, conv 16→32, global average, dense 32→6), and
 *   - MicroAI's ResNetv1-6 width 8 on 128×9 (PAPER.md §1.1),
 * in int8, int16 and float32, each run three ways: the portable reference kernels (*_ref), the
 * public kernels (the optimized paths on this core), and the optimized paths with every
 * conv → max-pool pair fused (mf_rt_conv_maxpool_*). The three runs must give identical outputs
 * (float fused: equal values; see mf_runtime.h on the sign of zero).
 *
 * Data: deterministic pseudo-random weights in [−64, 63], inputs in [−128, 127] (int16: the same
 * values · 256, float: weights / 64, input / 128, biases / 4096, as in TARGET.md §8.1);
 * power-of-two requantization with round half up. Each layer figure is a TIM2 delta between two
 * reads around the kernel call (so it includes the call and ≈ 2–4 instructions of the reads);
 * "total" is one delta around the whole inference. "stack growth" is the peak stack use of the
 * run below its caller's stack pointer (stack painting), the runner's own frame included.
 * Last, the model's input (mf_rt_input_*: z-score and quantization) on 128×9 raw values with
 * each kind of statistics, reference and optimized path, in instructions per value. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bench.h"
#include "mf_runtime.h"

#define TIM2_CNT (*(volatile uint32_t *)0x40000024u)

static inline __attribute__((always_inline)) uint32_t now(void)
{
    __asm__ volatile("" ::: "memory");
    uint32_t t = TIM2_CNT;
    __asm__ volatile("" ::: "memory");
    return t;
}

/* ---- stack use: paint the free stack, run, find the deepest word written ---- */
extern uint32_t _ebss;
#define STACK_PAINT 0xA5A5A5A5u

static inline __attribute__((always_inline)) uint32_t sp_now(void)
{
    uint32_t sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    return sp;
}

__attribute__((noinline, optimize("no-tree-loop-distribute-patterns"))) static void paint(void)
{
    volatile uint32_t *p = &_ebss;
    uint32_t *end = (uint32_t *)(sp_now() - 256u);
    while ((uint32_t *)p < end)
        *p++ = STACK_PAINT;
}

/* bytes between `base` (the caller's stack pointer before the run) and the deepest word used */
static uint32_t stack_used(uint32_t base)
{
    const volatile uint32_t *p = &_ebss;
    while (*p == STACK_PAINT)
        p++;
    return base - (uint32_t)p;
}

/* ---- deterministic data ---- */
static uint32_t rng_state;

static uint32_t rnd(void) /* xorshift32 */
{
    uint32_t x = rng_state;
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    return rng_state = x;
}

static int32_t rnd_in(int32_t lo, int32_t hi)
{
    return lo + (int32_t)(rnd() % (uint32_t)(hi - lo + 1));
}

static void fill_s8(int8_t *p, size_t n, int lo, int hi)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (int8_t)rnd_in(lo, hi);
}

static void fill_s16(int16_t *p, size_t n, int lo, int hi)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (int16_t)(rnd_in(lo, hi) * 256);
}

static void fill_f32(float *p, size_t n, int lo, int hi, float scale)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (float)rnd_in(lo, hi) / scale;
}

static void fill_b32(int32_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = rnd_in(-4096, 4095);
}

static void fill_b64(int64_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (int64_t)rnd_in(-4096, 4095) * 65536;
}

static void fill_bf(float *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (float)rnd_in(-4096, 4095) / 4096.0f;
}

static mf_rt_geom conv1d(int len, int cin, int cout, int k)
{
    mf_rt_geom g = {1, len, cin, 1, len, cout, 1, k, 1, 1, 0, (k - 1) / 2};
    return g;
}

static mf_rt_geom pool1d(int len, int ch, int k)
{
    mf_rt_geom g = {1, len, ch, 1, len / k, ch, 1, k, 1, k, 0, 0};
    return g;
}

/* ---- the buffers of one network at a time ---- */
#define CNN_W1 (16 * 3 * 9)
#define CNN_W2 (16 * 3 * 16)
#define CNN_W3 (32 * 3 * 16)
#define CNN_WD (6 * 32)
#define RES_W1 (8 * 3 * 9)
#define RES_WK (8 * 3 * 8)
#define RES_WS (8 * 8)
#define RES_WD (6 * 8)

#define BUFS(T, BT)                                                                                \
    struct {                                                                                       \
        T x[128 * 9], a[128 * 16], b[128 * 16], c[128 * 8], d[128 * 8], e[128 * 8];                \
        T w1[CNN_W1], w2[CNN_W2], w3[CNN_W3], w4[RES_WK], w5[RES_WK], ws[RES_WS], wd[CNN_WD];      \
        BT b1[32], b2[32], b3[32], b4[8], b5[8], bs[8], bd[8];                                     \
        T out[3][8];                                                                               \
    }

static union {
    BUFS(int8_t, int32_t) s8;
    BUFS(int16_t, int64_t) s16;
    BUFS(float, float) f32;
} B;

/* Kernel working memory (mf_rt_*_scratch_bytes): the largest layer here, conv 16 → 32 with
 * k = 3 in int8, needs 1.2 KB; bench_run checks the getters of its largest layers against this size
 * first. */
static uint64_t bench_scratch_mem[256];
#define bench_scratch ((void *)bench_scratch_mem)

/* ---- results ---- */
enum { MODE_REF, MODE_OPT, MODE_FUSED, MODES };

typedef struct {
    const char *name;
    uint32_t t[MODES];
    int fused_away; /* the layer is part of the previous one in the fused run */
} row;

typedef struct {
    const char *title;
    int n;
    row r[12];
    uint32_t total[MODES];
    uint32_t stack[MODES]; /* peak stack growth of the run, bytes */
    long macs;
} table;

static const char *const mode_name[MODES] = {"reference", "optimized", "opt + fused"};

/* ======================= reference CNN (TARGET.md §8.1) ======================= */

static const char *const cnn_layers[] = {"conv1 9->16 k3 +relu",
                                         "maxpool 2",
                                         "conv2 16->16 k3 +relu",
                                         "maxpool 2",
                                         "conv3 16->32 k3 +relu",
                                         "global avgpool 32",
                                         "dense 32->6"};

static void cnn_table_init(table *t, const char *title)
{
    memset(t, 0, sizeof *t);
    t->title = title;
    t->n = 7;
    for (int i = 0; i < 7; i++)
        t->r[i].name = cnn_layers[i];
    t->r[1].fused_away = t->r[3].fused_away = 1;
    t->macs = 153792;
}

__attribute__((noipa)) static void cnn_s8_run(table *t, int mode)
{
    const mf_rt_requant rq_conv = {8, NULL, 1, MF_RT_ROUND_HALF_UP};
    const mf_rt_requant rq_dense = {7, NULL, 0, MF_RT_ROUND_HALF_UP};
    const mf_rt_geom g1 = conv1d(128, 9, 16, 3), g2 = conv1d(64, 16, 16, 3);
    const mf_rt_geom g3 = conv1d(32, 16, 32, 3), p1 = pool1d(128, 16, 2), p2 = pool1d(64, 16, 2);
    uint32_t m[8];
    if (mode == MODE_REF) {
        m[0] = now();
        mf_rt_conv_s8_ref(&g1, B.s8.x, B.s8.w1, B.s8.b1, &rq_conv, B.s8.a, bench_scratch);
        m[1] = now();
        mf_rt_maxpool_s8_ref(&p1, B.s8.a, 0, B.s8.b);
        m[2] = now();
        mf_rt_conv_s8_ref(&g2, B.s8.b, B.s8.w2, B.s8.b2, &rq_conv, B.s8.a, bench_scratch);
        m[3] = now();
        mf_rt_maxpool_s8_ref(&p2, B.s8.a, 0, B.s8.b);
        m[4] = now();
        mf_rt_conv_s8_ref(&g3, B.s8.b, B.s8.w3, B.s8.b3, &rq_conv, B.s8.a, bench_scratch);
        m[5] = now();
        mf_rt_global_avgpool_s8_ref(32, 32, B.s8.a, MF_RT_ROUND_HALF_UP, B.s8.b);
        m[6] = now();
        mf_rt_dense_s8_ref(32, 6, B.s8.b, B.s8.wd, B.s8.bd, &rq_dense, B.s8.out[mode],
                           bench_scratch);
        m[7] = now();
    } else if (mode == MODE_OPT) {
        m[0] = now();
        mf_rt_conv_s8(&g1, B.s8.x, B.s8.w1, B.s8.b1, &rq_conv, B.s8.a, bench_scratch);
        m[1] = now();
        mf_rt_maxpool_s8(&p1, B.s8.a, 0, B.s8.b);
        m[2] = now();
        mf_rt_conv_s8(&g2, B.s8.b, B.s8.w2, B.s8.b2, &rq_conv, B.s8.a, bench_scratch);
        m[3] = now();
        mf_rt_maxpool_s8(&p2, B.s8.a, 0, B.s8.b);
        m[4] = now();
        mf_rt_conv_s8(&g3, B.s8.b, B.s8.w3, B.s8.b3, &rq_conv, B.s8.a, bench_scratch);
        m[5] = now();
        mf_rt_global_avgpool_s8(32, 32, B.s8.a, MF_RT_ROUND_HALF_UP, B.s8.b);
        m[6] = now();
        mf_rt_dense_s8(32, 6, B.s8.b, B.s8.wd, B.s8.bd, &rq_dense, B.s8.out[mode], bench_scratch);
        m[7] = now();
    } else {
        m[0] = now();
        mf_rt_conv_maxpool_s8(&g1, 1, 2, 1, 2, B.s8.x, B.s8.w1, B.s8.b1, &rq_conv, B.s8.b,
                              bench_scratch);
        m[1] = m[2] = now();
        mf_rt_conv_maxpool_s8(&g2, 1, 2, 1, 2, B.s8.b, B.s8.w2, B.s8.b2, &rq_conv, B.s8.a,
                              bench_scratch);
        m[3] = m[4] = now();
        mf_rt_conv_s8(&g3, B.s8.a, B.s8.w3, B.s8.b3, &rq_conv, B.s8.b, bench_scratch);
        m[5] = now();
        mf_rt_global_avgpool_s8(32, 32, B.s8.b, MF_RT_ROUND_HALF_UP, B.s8.a);
        m[6] = now();
        mf_rt_dense_s8(32, 6, B.s8.a, B.s8.wd, B.s8.bd, &rq_dense, B.s8.out[mode], bench_scratch);
        m[7] = now();
    }
    for (int i = 0; i < 7; i++)
        t->r[i].t[mode] = m[i + 1] - m[i];
    t->total[mode] = m[7] - m[0];
}

__attribute__((noipa)) static void cnn_s16_run(table *t, int mode)
{
    const mf_rt_requant rq_conv = {16, NULL, 1, MF_RT_ROUND_HALF_UP};
    const mf_rt_requant rq_dense = {15, NULL, 0, MF_RT_ROUND_HALF_UP};
    const mf_rt_geom g1 = conv1d(128, 9, 16, 3), g2 = conv1d(64, 16, 16, 3);
    const mf_rt_geom g3 = conv1d(32, 16, 32, 3), p1 = pool1d(128, 16, 2), p2 = pool1d(64, 16, 2);
    uint32_t m[8];
    if (mode == MODE_REF) {
        m[0] = now();
        mf_rt_conv_s16_ref(&g1, B.s16.x, B.s16.w1, B.s16.b1, &rq_conv, B.s16.a, bench_scratch);
        m[1] = now();
        mf_rt_maxpool_s16_ref(&p1, B.s16.a, 0, B.s16.b);
        m[2] = now();
        mf_rt_conv_s16_ref(&g2, B.s16.b, B.s16.w2, B.s16.b2, &rq_conv, B.s16.a, bench_scratch);
        m[3] = now();
        mf_rt_maxpool_s16_ref(&p2, B.s16.a, 0, B.s16.b);
        m[4] = now();
        mf_rt_conv_s16_ref(&g3, B.s16.b, B.s16.w3, B.s16.b3, &rq_conv, B.s16.a, bench_scratch);
        m[5] = now();
        mf_rt_global_avgpool_s16_ref(32, 32, B.s16.a, MF_RT_ROUND_HALF_UP, B.s16.b);
        m[6] = now();
        mf_rt_dense_s16_ref(32, 6, B.s16.b, B.s16.wd, B.s16.bd, &rq_dense, B.s16.out[mode]);
        m[7] = now();
    } else if (mode == MODE_OPT) {
        m[0] = now();
        mf_rt_conv_s16(&g1, B.s16.x, B.s16.w1, B.s16.b1, &rq_conv, B.s16.a, bench_scratch);
        m[1] = now();
        mf_rt_maxpool_s16(&p1, B.s16.a, 0, B.s16.b);
        m[2] = now();
        mf_rt_conv_s16(&g2, B.s16.b, B.s16.w2, B.s16.b2, &rq_conv, B.s16.a, bench_scratch);
        m[3] = now();
        mf_rt_maxpool_s16(&p2, B.s16.a, 0, B.s16.b);
        m[4] = now();
        mf_rt_conv_s16(&g3, B.s16.b, B.s16.w3, B.s16.b3, &rq_conv, B.s16.a, bench_scratch);
        m[5] = now();
        mf_rt_global_avgpool_s16(32, 32, B.s16.a, MF_RT_ROUND_HALF_UP, B.s16.b);
        m[6] = now();
        mf_rt_dense_s16(32, 6, B.s16.b, B.s16.wd, B.s16.bd, &rq_dense, B.s16.out[mode]);
        m[7] = now();
    } else {
        m[0] = now();
        mf_rt_conv_maxpool_s16(&g1, 1, 2, 1, 2, B.s16.x, B.s16.w1, B.s16.b1, &rq_conv, B.s16.b,
                               bench_scratch);
        m[1] = m[2] = now();
        mf_rt_conv_maxpool_s16(&g2, 1, 2, 1, 2, B.s16.b, B.s16.w2, B.s16.b2, &rq_conv, B.s16.a,
                               bench_scratch);
        m[3] = m[4] = now();
        mf_rt_conv_s16(&g3, B.s16.a, B.s16.w3, B.s16.b3, &rq_conv, B.s16.b, bench_scratch);
        m[5] = now();
        mf_rt_global_avgpool_s16(32, 32, B.s16.b, MF_RT_ROUND_HALF_UP, B.s16.a);
        m[6] = now();
        mf_rt_dense_s16(32, 6, B.s16.a, B.s16.wd, B.s16.bd, &rq_dense, B.s16.out[mode]);
        m[7] = now();
    }
    for (int i = 0; i < 7; i++)
        t->r[i].t[mode] = m[i + 1] - m[i];
    t->total[mode] = m[7] - m[0];
}

__attribute__((noipa)) static void cnn_f32_run(table *t, int mode)
{
    const mf_rt_geom g1 = conv1d(128, 9, 16, 3), g2 = conv1d(64, 16, 16, 3);
    const mf_rt_geom g3 = conv1d(32, 16, 32, 3), p1 = pool1d(128, 16, 2), p2 = pool1d(64, 16, 2);
    uint32_t m[8];
    if (mode == MODE_REF) {
        m[0] = now();
        mf_rt_conv_f32_ref(&g1, B.f32.x, B.f32.w1, B.f32.b1, 1, B.f32.a);
        m[1] = now();
        mf_rt_maxpool_f32_ref(&p1, B.f32.a, 0, B.f32.b);
        m[2] = now();
        mf_rt_conv_f32_ref(&g2, B.f32.b, B.f32.w2, B.f32.b2, 1, B.f32.a);
        m[3] = now();
        mf_rt_maxpool_f32_ref(&p2, B.f32.a, 0, B.f32.b);
        m[4] = now();
        mf_rt_conv_f32_ref(&g3, B.f32.b, B.f32.w3, B.f32.b3, 1, B.f32.a);
        m[5] = now();
        mf_rt_global_avgpool_f32_ref(32, 32, B.f32.a, B.f32.b);
        m[6] = now();
        mf_rt_dense_f32_ref(32, 6, B.f32.b, B.f32.wd, B.f32.bd, 0, B.f32.out[mode]);
        m[7] = now();
    } else if (mode == MODE_OPT) {
        m[0] = now();
        mf_rt_conv_f32(&g1, B.f32.x, B.f32.w1, B.f32.b1, 1, B.f32.a);
        m[1] = now();
        mf_rt_maxpool_f32(&p1, B.f32.a, 0, B.f32.b);
        m[2] = now();
        mf_rt_conv_f32(&g2, B.f32.b, B.f32.w2, B.f32.b2, 1, B.f32.a);
        m[3] = now();
        mf_rt_maxpool_f32(&p2, B.f32.a, 0, B.f32.b);
        m[4] = now();
        mf_rt_conv_f32(&g3, B.f32.b, B.f32.w3, B.f32.b3, 1, B.f32.a);
        m[5] = now();
        mf_rt_global_avgpool_f32(32, 32, B.f32.a, B.f32.b);
        m[6] = now();
        mf_rt_dense_f32(32, 6, B.f32.b, B.f32.wd, B.f32.bd, 0, B.f32.out[mode]);
        m[7] = now();
    } else {
        m[0] = now();
        mf_rt_conv_maxpool_f32(&g1, 1, 2, 1, 2, B.f32.x, B.f32.w1, B.f32.b1, 1, B.f32.b);
        m[1] = m[2] = now();
        mf_rt_conv_maxpool_f32(&g2, 1, 2, 1, 2, B.f32.b, B.f32.w2, B.f32.b2, 1, B.f32.a);
        m[3] = m[4] = now();
        mf_rt_conv_f32(&g3, B.f32.a, B.f32.w3, B.f32.b3, 1, B.f32.b);
        m[5] = now();
        mf_rt_global_avgpool_f32(32, 32, B.f32.b, B.f32.a);
        m[6] = now();
        mf_rt_dense_f32(32, 6, B.f32.a, B.f32.wd, B.f32.bd, 0, B.f32.out[mode]);
        m[7] = now();
    }
    for (int i = 0; i < 7; i++)
        t->r[i].t[mode] = m[i + 1] - m[i];
    t->total[mode] = m[7] - m[0];
}

/* ======================= ResNetv1-6, width 8, 128×9 (PAPER.md §1.1) ======================= */

static const char *const res_layers[] = {
    "conv1 9->8 k3 +relu", "b1.conv1 8->8 k3", "b1.pool1 2 +relu",  "b1.conv2 8->8 k3",
    "b1.sconv 8->8 k1",    "b1.smax 2",        "b1.add +relu",      "b2.conv1 8->8 k3 +relu",
    "b2.conv2 8->8 k3",    "b2.add +relu",     "global maxpool 64", "dense 8->6"};

static void res_table_init(table *t, const char *title)
{
    memset(t, 0, sizeof *t);
    t->title = title;
    t->n = 12;
    for (int i = 0; i < 12; i++)
        t->r[i].name = res_layers[i];
    t->r[2].fused_away = t->r[5].fused_away = 1;
    t->macs = 97328;
}

/* buffers: x input, a = conv1 (128×8, live until the shortcut), b full-resolution temporary,
 * c = block 1 main, d = shortcut / block 1 output, e = block 2 */
__attribute__((noipa)) static void res_s8_run(table *t, int mode)
{
    const mf_rt_requant rq_r = {8, NULL, 1, MF_RT_ROUND_HALF_UP};
    const mf_rt_requant rq_n = {8, NULL, 0, MF_RT_ROUND_HALF_UP};
    const mf_rt_requant rq_add = {1, NULL, 1, MF_RT_ROUND_HALF_UP};
    const mf_rt_requant rq_d = {7, NULL, 0, MF_RT_ROUND_HALF_UP};
    const mf_rt_geom g1 = conv1d(128, 9, 8, 3), gk = conv1d(128, 8, 8, 3);
    const mf_rt_geom gh = conv1d(64, 8, 8, 3), gs = conv1d(128, 8, 8, 1), p = pool1d(128, 8, 2);
    int8_t *x = B.s8.x, *a = B.s8.a, *b = B.s8.b, *c = B.s8.c, *d = B.s8.d, *e = B.s8.e;
    uint32_t m[13];
    const int ref = mode == MODE_REF;
    m[0] = now();
    (ref ? mf_rt_conv_s8_ref : mf_rt_conv_s8)(&g1, x, B.s8.w1, B.s8.b1, &rq_r, a, bench_scratch);
    m[1] = now();
    if (mode == MODE_FUSED) {
        mf_rt_conv_maxpool_s8(&gk, 1, 2, 1, 2, a, B.s8.w2, B.s8.b2, &rq_r, c, bench_scratch);
        m[2] = m[3] = now();
    } else {
        (ref ? mf_rt_conv_s8_ref : mf_rt_conv_s8)(&gk, a, B.s8.w2, B.s8.b2, &rq_n, b,
                                                  bench_scratch);
        m[2] = now();
        (ref ? mf_rt_maxpool_s8_ref : mf_rt_maxpool_s8)(&p, b, 1, c);
        m[3] = now();
    }
    (ref ? mf_rt_conv_s8_ref : mf_rt_conv_s8)(&gh, c, B.s8.w3, B.s8.b3, &rq_n, e, bench_scratch);
    m[4] = now();
    if (mode == MODE_FUSED) {
        mf_rt_conv_maxpool_s8(&gs, 1, 2, 1, 2, a, B.s8.ws, B.s8.bs, &rq_n, d, bench_scratch);
        m[5] = m[6] = now();
    } else {
        (ref ? mf_rt_conv_s8_ref : mf_rt_conv_s8)(&gs, a, B.s8.ws, B.s8.bs, &rq_n, b,
                                                  bench_scratch);
        m[5] = now();
        (ref ? mf_rt_maxpool_s8_ref : mf_rt_maxpool_s8)(&p, b, 0, d);
        m[6] = now();
    }
    (ref ? mf_rt_add_s8_ref : mf_rt_add_s8)(512, e, 0, d, 0, &rq_add, d);
    m[7] = now();
    (ref ? mf_rt_conv_s8_ref : mf_rt_conv_s8)(&gh, d, B.s8.w4, B.s8.b4, &rq_r, c, bench_scratch);
    m[8] = now();
    (ref ? mf_rt_conv_s8_ref : mf_rt_conv_s8)(&gh, c, B.s8.w5, B.s8.b5, &rq_n, e, bench_scratch);
    m[9] = now();
    (ref ? mf_rt_add_s8_ref : mf_rt_add_s8)(512, e, 0, d, 0, &rq_add, e);
    m[10] = now();
    (ref ? mf_rt_global_maxpool_s8_ref : mf_rt_global_maxpool_s8)(64, 8, e, c);
    m[11] = now();
    (ref ? mf_rt_dense_s8_ref : mf_rt_dense_s8)(8, 6, c, B.s8.wd, B.s8.bd, &rq_d, B.s8.out[mode],
                                                bench_scratch);
    m[12] = now();
    for (int i = 0; i < 12; i++)
        t->r[i].t[mode] = m[i + 1] - m[i];
    t->total[mode] = m[12] - m[0];
}

__attribute__((noipa)) static void res_s16_run(table *t, int mode)
{
    const mf_rt_requant rq_r = {16, NULL, 1, MF_RT_ROUND_HALF_UP};
    const mf_rt_requant rq_n = {16, NULL, 0, MF_RT_ROUND_HALF_UP};
    const mf_rt_requant rq_add = {1, NULL, 1, MF_RT_ROUND_HALF_UP};
    const mf_rt_requant rq_d = {15, NULL, 0, MF_RT_ROUND_HALF_UP};
    const mf_rt_geom g1 = conv1d(128, 9, 8, 3), gk = conv1d(128, 8, 8, 3);
    const mf_rt_geom gh = conv1d(64, 8, 8, 3), gs = conv1d(128, 8, 8, 1), p = pool1d(128, 8, 2);
    int16_t *x = B.s16.x, *a = B.s16.a, *b = B.s16.b, *c = B.s16.c, *d = B.s16.d, *e = B.s16.e;
    uint32_t m[13];
    const int ref = mode == MODE_REF;
    m[0] = now();
    (ref ? mf_rt_conv_s16_ref : mf_rt_conv_s16)(&g1, x, B.s16.w1, B.s16.b1, &rq_r, a,
                                                bench_scratch);
    m[1] = now();
    if (mode == MODE_FUSED) {
        mf_rt_conv_maxpool_s16(&gk, 1, 2, 1, 2, a, B.s16.w2, B.s16.b2, &rq_r, c, bench_scratch);
        m[2] = m[3] = now();
    } else {
        (ref ? mf_rt_conv_s16_ref : mf_rt_conv_s16)(&gk, a, B.s16.w2, B.s16.b2, &rq_n, b,
                                                    bench_scratch);
        m[2] = now();
        (ref ? mf_rt_maxpool_s16_ref : mf_rt_maxpool_s16)(&p, b, 1, c);
        m[3] = now();
    }
    (ref ? mf_rt_conv_s16_ref : mf_rt_conv_s16)(&gh, c, B.s16.w3, B.s16.b3, &rq_n, e,
                                                bench_scratch);
    m[4] = now();
    if (mode == MODE_FUSED) {
        mf_rt_conv_maxpool_s16(&gs, 1, 2, 1, 2, a, B.s16.ws, B.s16.bs, &rq_n, d, bench_scratch);
        m[5] = m[6] = now();
    } else {
        (ref ? mf_rt_conv_s16_ref : mf_rt_conv_s16)(&gs, a, B.s16.ws, B.s16.bs, &rq_n, b,
                                                    bench_scratch);
        m[5] = now();
        (ref ? mf_rt_maxpool_s16_ref : mf_rt_maxpool_s16)(&p, b, 0, d);
        m[6] = now();
    }
    (ref ? mf_rt_add_s16_ref : mf_rt_add_s16)(512, e, 0, d, 0, &rq_add, d);
    m[7] = now();
    (ref ? mf_rt_conv_s16_ref : mf_rt_conv_s16)(&gh, d, B.s16.w4, B.s16.b4, &rq_r, c,
                                                bench_scratch);
    m[8] = now();
    (ref ? mf_rt_conv_s16_ref : mf_rt_conv_s16)(&gh, c, B.s16.w5, B.s16.b5, &rq_n, e,
                                                bench_scratch);
    m[9] = now();
    (ref ? mf_rt_add_s16_ref : mf_rt_add_s16)(512, e, 0, d, 0, &rq_add, e);
    m[10] = now();
    (ref ? mf_rt_global_maxpool_s16_ref : mf_rt_global_maxpool_s16)(64, 8, e, c);
    m[11] = now();
    (ref ? mf_rt_dense_s16_ref : mf_rt_dense_s16)(8, 6, c, B.s16.wd, B.s16.bd, &rq_d,
                                                  B.s16.out[mode]);
    m[12] = now();
    for (int i = 0; i < 12; i++)
        t->r[i].t[mode] = m[i + 1] - m[i];
    t->total[mode] = m[12] - m[0];
}

__attribute__((noipa)) static void res_f32_run(table *t, int mode)
{
    const mf_rt_geom g1 = conv1d(128, 9, 8, 3), gk = conv1d(128, 8, 8, 3);
    const mf_rt_geom gh = conv1d(64, 8, 8, 3), gs = conv1d(128, 8, 8, 1), p = pool1d(128, 8, 2);
    float *x = B.f32.x, *a = B.f32.a, *b = B.f32.b, *c = B.f32.c, *d = B.f32.d, *e = B.f32.e;
    uint32_t m[13];
    const int ref = mode == MODE_REF;
    m[0] = now();
    (ref ? mf_rt_conv_f32_ref : mf_rt_conv_f32)(&g1, x, B.f32.w1, B.f32.b1, 1, a);
    m[1] = now();
    if (mode == MODE_FUSED) {
        mf_rt_conv_maxpool_f32(&gk, 1, 2, 1, 2, a, B.f32.w2, B.f32.b2, 1, c);
        m[2] = m[3] = now();
    } else {
        (ref ? mf_rt_conv_f32_ref : mf_rt_conv_f32)(&gk, a, B.f32.w2, B.f32.b2, 0, b);
        m[2] = now();
        (ref ? mf_rt_maxpool_f32_ref : mf_rt_maxpool_f32)(&p, b, 1, c);
        m[3] = now();
    }
    (ref ? mf_rt_conv_f32_ref : mf_rt_conv_f32)(&gh, c, B.f32.w3, B.f32.b3, 0, e);
    m[4] = now();
    if (mode == MODE_FUSED) {
        mf_rt_conv_maxpool_f32(&gs, 1, 2, 1, 2, a, B.f32.ws, B.f32.bs, 0, d);
        m[5] = m[6] = now();
    } else {
        (ref ? mf_rt_conv_f32_ref : mf_rt_conv_f32)(&gs, a, B.f32.ws, B.f32.bs, 0, b);
        m[5] = now();
        (ref ? mf_rt_maxpool_f32_ref : mf_rt_maxpool_f32)(&p, b, 0, d);
        m[6] = now();
    }
    (ref ? mf_rt_add_f32_ref : mf_rt_add_f32)(512, e, d, 1, d);
    m[7] = now();
    (ref ? mf_rt_conv_f32_ref : mf_rt_conv_f32)(&gh, d, B.f32.w4, B.f32.b4, 1, c);
    m[8] = now();
    (ref ? mf_rt_conv_f32_ref : mf_rt_conv_f32)(&gh, c, B.f32.w5, B.f32.b5, 0, e);
    m[9] = now();
    (ref ? mf_rt_add_f32_ref : mf_rt_add_f32)(512, e, d, 1, e);
    m[10] = now();
    (ref ? mf_rt_global_maxpool_f32_ref : mf_rt_global_maxpool_f32)(64, 8, e, c);
    m[11] = now();
    (ref ? mf_rt_dense_f32_ref : mf_rt_dense_f32)(8, 6, c, B.f32.wd, B.f32.bd, 0, B.f32.out[mode]);
    m[12] = now();
    for (int i = 0; i < 12; i++)
        t->r[i].t[mode] = m[i + 1] - m[i];
    t->total[mode] = m[12] - m[0];
}

/* ======================= data, checks, printing ======================= */

static void data_s8(void)
{
    rng_state = 0x12345678u;
    fill_s8(B.s8.x, 128 * 9, -128, 127);
    fill_s8(B.s8.w1, CNN_W1, -64, 63), fill_s8(B.s8.w2, CNN_W2, -64, 63);
    fill_s8(B.s8.w3, CNN_W3, -64, 63), fill_s8(B.s8.w4, RES_WK, -64, 63);
    fill_s8(B.s8.w5, RES_WK, -64, 63), fill_s8(B.s8.ws, RES_WS, -64, 63);
    fill_s8(B.s8.wd, CNN_WD, -64, 63);
    fill_b32(B.s8.b1, 32), fill_b32(B.s8.b2, 32), fill_b32(B.s8.b3, 32), fill_b32(B.s8.b4, 8);
    fill_b32(B.s8.b5, 8), fill_b32(B.s8.bs, 8), fill_b32(B.s8.bd, 8);
}

static void data_s16(void)
{
    rng_state = 0x12345678u;
    fill_s16(B.s16.x, 128 * 9, -128, 127);
    fill_s16(B.s16.w1, CNN_W1, -64, 63), fill_s16(B.s16.w2, CNN_W2, -64, 63);
    fill_s16(B.s16.w3, CNN_W3, -64, 63), fill_s16(B.s16.w4, RES_WK, -64, 63);
    fill_s16(B.s16.w5, RES_WK, -64, 63), fill_s16(B.s16.ws, RES_WS, -64, 63);
    fill_s16(B.s16.wd, CNN_WD, -64, 63);
    fill_b64(B.s16.b1, 32), fill_b64(B.s16.b2, 32), fill_b64(B.s16.b3, 32), fill_b64(B.s16.b4, 8);
    fill_b64(B.s16.b5, 8), fill_b64(B.s16.bs, 8), fill_b64(B.s16.bd, 8);
}

static void data_f32(void)
{
    rng_state = 0x12345678u;
    fill_f32(B.f32.x, 128 * 9, -128, 127, 128.0f);
    fill_f32(B.f32.w1, CNN_W1, -64, 63, 64.0f), fill_f32(B.f32.w2, CNN_W2, -64, 63, 64.0f);
    fill_f32(B.f32.w3, CNN_W3, -64, 63, 64.0f), fill_f32(B.f32.w4, RES_WK, -64, 63, 64.0f);
    fill_f32(B.f32.w5, RES_WK, -64, 63, 64.0f), fill_f32(B.f32.ws, RES_WS, -64, 63, 64.0f);
    fill_f32(B.f32.wd, CNN_WD, -64, 63, 64.0f);
    fill_bf(B.f32.b1, 32), fill_bf(B.f32.b2, 32), fill_bf(B.f32.b3, 32), fill_bf(B.f32.b4, 8);
    fill_bf(B.f32.b5, 8), fill_bf(B.f32.bs, 8), fill_bf(B.f32.bd, 8);
}

static void put(const char *s)
{
    bench_puts(s);
}

static void put_num(long v, int width) /* right-aligned, thousands separated */
{
    char t[32];
    int i = 31, digits = 0;
    unsigned long u = v < 0 ? 0ul - (unsigned long)v : (unsigned long)v;
    t[i] = 0;
    do {
        if (digits && digits % 3 == 0) t[--i] = ',';
        t[--i] = (char)('0' + u % 10u);
        u /= 10u;
        digits++;
    } while (u);
    if (v < 0) t[--i] = '-';
    for (int pad = width - (31 - i); pad > 0; pad--)
        put(" ");
    put(t + i);
}

static void put_padded(const char *s, int width)
{
    int n = 0;
    while (s[n])
        n++;
    put(s);
    for (; n < width; n++)
        put(" ");
}

static void print_table(const table *t, int outputs_match)
{
    put("\n");
    put(t->title);
    put("\n");
    put_padded("layer", 26);
    for (int m = 0; m < MODES; m++)
        put_padded(m == 0 ? "   reference" : m == 1 ? "   optimized" : "  opt + fused", 14);
    put("\n");
    for (int i = 0; i < t->n; i++) {
        put_padded(t->r[i].name, 26);
        put_num((long)t->r[i].t[MODE_REF], 12), put("  ");
        put_num((long)t->r[i].t[MODE_OPT], 12), put("  ");
        if (t->r[i].fused_away)
            put("     (fused)");
        else
            put_num((long)t->r[i].t[MODE_FUSED], 12);
        put("\n");
    }
    put_padded("total per inference", 26);
    for (int m = 0; m < MODES; m++)
        put_num((long)t->total[m], 12), put("  ");
    put("\n");
    put_padded("instructions per MAC", 26);
    for (int m = 0; m < MODES; m++) {
        long x100 = (long)((t->total[m] * 100ull + (unsigned long long)t->macs / 2) /
                           (unsigned long long)t->macs);
        put("        ");
        put_num(x100 / 100, 1);
        put(".");
        put(x100 % 100 < 10 ? "0" : "");
        put_num(x100 % 100, 1);
        put("  ");
    }
    put("\n");
    put_padded("stack growth (bytes)", 26);
    for (int m = 0; m < MODES; m++)
        put_num((long)t->stack[m], 12), put("  ");
    put("\n");
    put(outputs_match ? "outputs: identical in all three runs\n"
                      : "outputs: MISMATCH between the runs\n");
    (void)mode_name;
}

typedef void (*run_fn)(table *, int);

/* The three runs of a network, each with its stack use. */
static void run_all(table *t, run_fn run)
{
    for (int m = 0; m < MODES; m++) {
        uint32_t base = sp_now();
        paint();
        run(t, m);
        t->stack[m] = stack_used(base);
    }
}

static void row_sums(const table *t, long *sum)
{
    for (int m = 0; m < MODES; m++) {
        sum[m] = 0;
        for (int i = 0; i < t->n; i++)
            sum[m] += (long)t->r[i].t[m];
    }
}

/* ======================= the model's input (model_quantize_input) ======================= */

/* 128×9 raw values (1,152, as the reference CNN's input) through mf_rt_input_* with no
 * statistics, global ones, per channel (3 and 9: c = i mod n_stats) and per element; raw
 * values, means and stds in B.f32 (x, a, b), outputs here. Instructions per value, reference
 * and optimized path, and whether both paths gave the same outputs. */
#define IN_N 1152
static union {
    float f[IN_N];
    int16_t h[IN_N];
    int8_t b[IN_N];
} in_out[2];

static void put_per_value(uint32_t t) /* t / IN_N with 2 decimals, in 12 columns */
{
    long x100 = (long)((t * 100ull + IN_N / 2) / IN_N);
    put_num(x100 / 100, 9);
    put(".");
    put(x100 % 100 < 10 ? "0" : "");
    put_num(x100 % 100, 1);
}

static int input_table(void)
{
    static const size_t n_stats[] = {0, 1, 3, 9, IN_N};
    static const char *const name[] = {"none (n_stats 0)", "global (n_stats 1)", "per channel, 3",
                                       "per channel, 9", "per element (n_stats n)"};
    int bad = 0;
    rng_state = 0x2468ACE1u;
    fill_f32(B.f32.x, IN_N, -384, 383, 128.0f); /* raw in [−3, 3) */
    fill_f32(B.f32.a, IN_N, -64, 63, 128.0f);   /* means in [−0.5, 0.5) */
    fill_f32(B.f32.b, IN_N, 16, 255, 64.0f);    /* stds in [0.25, 4) */
    put("\nmodel input, 128x9 raw floats (mf_rt_input_*): instructions per value\n");
    put_padded("statistics", 26);
    put("    int8 ref    int8 opt   int16 ref   int16 opt     f32 ref     f32 opt\n");
    for (int k = 0; k < 5; k++) {
        uint32_t t[6];
        int same = 1;
        for (int opt = 0; opt < 2; opt++) {
            uint32_t t0 = now();
            (opt ? mf_rt_input_s8 : mf_rt_input_s8_ref)(IN_N, B.f32.x, B.f32.a, B.f32.b, n_stats[k],
                                                        8.0f, in_out[opt].b);
            t[opt] = now() - t0;
        }
        same = same && !memcmp(in_out[0].b, in_out[1].b, IN_N);
        for (int opt = 0; opt < 2; opt++) {
            uint32_t t0 = now();
            (opt ? mf_rt_input_s16 : mf_rt_input_s16_ref)(IN_N, B.f32.x, B.f32.a, B.f32.b,
                                                          n_stats[k], 2048.0f, in_out[opt].h);
            t[2 + opt] = now() - t0;
        }
        same = same && !memcmp(in_out[0].h, in_out[1].h, 2 * IN_N);
        for (int opt = 0; opt < 2; opt++) {
            uint32_t t0 = now();
            (opt ? mf_rt_input_f32 : mf_rt_input_f32_ref)(IN_N, B.f32.x, B.f32.a, B.f32.b,
                                                          n_stats[k], in_out[opt].f);
            t[4 + opt] = now() - t0;
        }
        same = same && !memcmp(in_out[0].f, in_out[1].f, 4 * IN_N);
        put_padded(name[k], 26);
        for (int i = 0; i < 6; i++)
            put_per_value(t[i]);
        put(same ? "\n" : "  MISMATCH\n");
        bad += !same;
    }
    return bad;
}

int bench_run(void)
{
    static table t;
    int bad = 0, ok;
    long sums[MODES];
    put("\n=== instruction counts (QEMU netduinoplus2, TIM2, -icount shift=0,sleep=off) ===\n");
    put("flags: arm-none-eabi-gcc " __VERSION__ " " BENCH_FLAGS "\n");
    const mf_rt_geom largest = conv1d(32, 16, 32, 3);
    if (mf_rt_conv_s8_scratch_bytes(&largest) > sizeof bench_scratch_mem ||
        mf_rt_conv_s16_scratch_bytes(&largest) > sizeof bench_scratch_mem) {
        put("bench: the kernels' scratch exceeds bench_scratch_mem\n");
        return 1;
    }

    data_s8();
    cnn_table_init(&t, "reference CNN (TARGET.md 8.1), int8");
    run_all(&t, cnn_s8_run);
    ok = !memcmp(B.s8.out[0], B.s8.out[1], 6) && !memcmp(B.s8.out[0], B.s8.out[2], 6);
    print_table(&t, ok), bad += !ok;
    row_sums(&t, sums);

    data_s16();
    cnn_table_init(&t, "reference CNN (TARGET.md 8.1), int16");
    run_all(&t, cnn_s16_run);
    ok = !memcmp(B.s16.out[0], B.s16.out[1], 12) && !memcmp(B.s16.out[0], B.s16.out[2], 12);
    print_table(&t, ok), bad += !ok;

    data_f32();
    cnn_table_init(&t, "reference CNN (TARGET.md 8.1), float32");
    run_all(&t, cnn_f32_run);
    ok = !memcmp(B.f32.out[0], B.f32.out[1], 24) && !memcmp(B.f32.out[0], B.f32.out[2], 24);
    print_table(&t, ok), bad += !ok;

    data_s8();
    res_table_init(&t, "ResNetv1-6 width 8, 128x9 (PAPER.md 1.1), int8");
    run_all(&t, res_s8_run);
    ok = !memcmp(B.s8.out[0], B.s8.out[1], 6) && !memcmp(B.s8.out[0], B.s8.out[2], 6);
    print_table(&t, ok), bad += !ok;

    data_s16();
    res_table_init(&t, "ResNetv1-6 width 8, 128x9 (PAPER.md 1.1), int16");
    run_all(&t, res_s16_run);
    ok = !memcmp(B.s16.out[0], B.s16.out[1], 12) && !memcmp(B.s16.out[0], B.s16.out[2], 12);
    print_table(&t, ok), bad += !ok;

    data_f32();
    res_table_init(&t, "ResNetv1-6 width 8, 128x9 (PAPER.md 1.1), float32");
    run_all(&t, res_f32_run);
    ok = !memcmp(B.f32.out[0], B.f32.out[1], 24);
    for (int i = 0; i < 6; i++) /* fused: ReLU before the pool may flip the sign of a zero */
        ok = ok && B.f32.out[0][i] == B.f32.out[2][i];
    print_table(&t, ok), bad += !ok;
    bad += input_table();
    (void)sums;
    return bad;
}
