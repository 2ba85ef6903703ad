/* int8 convolution (and fused max pool) on pruned weights: mf_rt_conv_sparse_s8 and
 * mf_rt_conv_sparse_maxpool_s8 (mf_runtime.h). One C path for host and target.
 *
 * The conv positions of the output are walked window by window (a plain conv: windows of one
 * tap), each window's taps in a row, four positions at a time. For each output channel, its
 * nonzero weights are walked once per four positions: per weight a halfword offset into the
 * receptive field (as the field lies in the input: ky·w·cin + kx·cin + ci, so a field inside the
 * input is read in place), the weight, and for each position a byte of input and a multiply-add. A
 * field that leaves the input is first gathered into scratch with the same row stride, zeros
 * outside. Sums are exact int32 sums (the same as the dense kernel's, in another order); each conv
 * output is requantized as the reference does, and a window's later taps fold in with max (pool
 * windows of a fused call do not overlap; overlapping ones would only be computed twice). */
#include "mf_rt_dsp.h"
#include "mf_runtime.h"

/* The field of the conv output whose first tap is input (iy0, ix0): in place, or gathered into
 * buf (rows `row` bytes apart, its kw·cin bytes of each row written, zeros outside the input). */
__attribute__((noinline)) static const int8_t *field_sparse(const mf_rt_geom *g, const int8_t *in,
                                                            int iy0, int ix0, int8_t *buf)
{
    const int cin = g->cin;
    const long row = (long)g->w * cin;
    if (iy0 >= 0 && iy0 + g->kh <= g->h && ix0 >= 0 && ix0 + g->kw <= g->w)
        return in + (long)iy0 * row + (long)ix0 * cin;
    for (int ky = 0; ky < g->kh; ky++) {
        int8_t *d = buf + (long)ky * row;
        const int iy = iy0 + ky;
        for (int kx = 0; kx < g->kw; kx++) {
            const int ix = ix0 + kx;
            const int inside = iy >= 0 && iy < g->h && ix >= 0 && ix < g->w;
            const int8_t *s = inside ? in + (long)iy * row + (long)ix * cin : NULL;
            for (int ci = 0; ci < cin; ci++)
                d[kx * cin + ci] = inside ? s[ci] : 0;
        }
    }
    return buf;
}

/* Stores (or folds with max) requantized value v of channel c into out. */
static inline void put_sparse(int8_t *out, int fold, int8_t v)
{
    *out = fold && *out > v ? *out : v;
}

/* Four conv positions: their fields, outputs (channel 0) and fold flags; kept in scratch after
 * the gathered fields, as what the quads share (the runtime's -Wstack-usage bound, also in
 * unoptimized sanitizer builds, leaves no room for them in the frame). */
typedef struct {
    const int8_t *f[4];
    int8_t *o[4];
    int fold[4];
} sparse_quad;

/* What the quads of one call share. */
typedef struct {
    const mf_rt_geom *g;
    const uint16_t *idx;
    const int8_t *w;
    /* per channel c: rec[2c] its accumulator start (mf_rt_init_s8), rec[2c + 1] its shift
     * (fast only; + 256 on the last channel, which ends the assembly's loop): one LDRD for
     * both in the assembly */
    const int32_t *rec;
    const mf_rt_requant *rq;
    int fast; /* every channel ends in a shift (0 to 31) and a saturation */
} sparse_layer;

/* The first np (1 to 4) positions of q. Missing positions repeat the first (computed, not
 * stored). */
#if defined(MF_RT_OPT_INT)
/* Which windows q's four positions make (quad_sparse): 1, four windows of one tap (a plain
 * conv); 2, two of two taps (fold 0 1 0 1); 4, one of four (fold 0 1 1 1); 0, anything else. */
__attribute__((noinline)) static int whole_sparse(const sparse_quad *q, int np)
{
    if (np != 4) return 0;
    const int fl = q->fold[0] | q->fold[1] << 1 | q->fold[2] << 2 | q->fold[3] << 3;
    int8_t *const *o = q->o;
    if (fl == 0) return 1;
    if (fl == 0xA && o[0] == o[1] && o[2] == o[3]) return 2;
    if (fl == 0xE && o[0] == o[1] && o[0] == o[2] && o[0] == o[3]) return 4;
    return 0;
}
#endif

/* Channel c's sums over q's four fields: start + per nonzero weight (its offset, the weight)
 * four multiply-adds; idx and w advance past the channel. */
#define SUMS_SPARSE(c)                                                                             \
    int n = *idx++;                                                                                \
    int32_t a0 = L->rec[2 * (c)], a1 = a0, a2 = a0, a3 = a0;                                       \
    for (; n > 0; n--) {                                                                           \
        const int k = *idx++;                                                                      \
        const int32_t wk = *w++;                                                                   \
        a0 += wk * f0[k];                                                                          \
        a1 += wk * f1[k];                                                                          \
        a2 += wk * f2[k];                                                                          \
        a3 += wk * f3[k];                                                                          \
    }

/* Every channel over q's first np positions (missing positions repeat the first: computed, not
 * stored), each requantized and stored, or folded in with max (a pool window's later taps). */
__attribute__((noinline)) static void quad_sparse_any(const sparse_layer *L, const sparse_quad *q,
                                                      int np)
{
    const int8_t *f0 = q->f[0], *f1 = q->f[np > 1 ? 1 : 0], *f2 = q->f[np > 2 ? 2 : 0],
                 *f3 = q->f[np > 3 ? 3 : 0];
    const uint16_t *idx = L->idx;
    const int8_t *w = L->w;
    const mf_rt_requant *rq = L->rq;
    for (int c = 0; c < L->g->cout; c++) {
        SUMS_SPARSE(c)
        const int shift = rq->shifts ? rq->shifts[c] : rq->shift;
        for (int e = 0; e < np; e++) {
            const int32_t ae = e == 0 ? a0 : e == 1 ? a1 : e == 2 ? a2 : a3;
            int8_t v;
#if defined(MF_RT_OPT_INT)
            if (L->fast)
                v = (int8_t)(rq->relu ? mf_usat7(ae >> shift) : mf_ssat8(ae >> shift));
            else
#endif
                v = mf_rt_requant_s32(ae, shift, rq->relu, rq->rounding);
            put_sparse(q->o[e] + c, q->fold[e], v);
        }
    }
}

#if defined(MF_RT_OPT_INT)
/* The same for four positions that make whole windows (whole_sparse: 1, 2 or 4 taps each) with
 * the fast requantization: one requantization per window, of the maximum of its taps' sums
 * (monotonic), stored directly. */
__attribute__((noinline)) static void quad_sparse_whole(const sparse_layer *L, const sparse_quad *q,
                                                        int taps)
{
    const int8_t *f0 = q->f[0], *f1 = q->f[1], *f2 = q->f[2], *f3 = q->f[3];
    int8_t *o0 = q->o[0], *o1 = q->o[1], *o2 = q->o[2], *o3 = q->o[3];
    const uint16_t *idx = L->idx;
    const int8_t *w = L->w;
    const int8_t *shifts = L->rq->shifts;
    const int shift0 = L->rq->shift, cout = L->g->cout, relu = L->rq->relu;
#define SAT_SPARSE(v) ((int8_t)(relu ? mf_usat7((v) >> shift) : mf_ssat8((v) >> shift)))
    for (int c = 0; c < cout; c++) {
        SUMS_SPARSE(c)
        const int shift = shifts ? shifts[c] : shift0;
        if (taps == 1) {
            o0[c] = SAT_SPARSE(a0), o1[c] = SAT_SPARSE(a1);
            o2[c] = SAT_SPARSE(a2), o3[c] = SAT_SPARSE(a3);
        } else if (taps == 2) {
            o0[c] = SAT_SPARSE(a1 > a0 ? a1 : a0), o2[c] = SAT_SPARSE(a3 > a2 ? a3 : a2);
        } else {
            int32_t m = a1 > a0 ? a1 : a0;
            m = a2 > m ? a2 : m;
            o0[c] = SAT_SPARSE(a3 > m ? a3 : m);
        }
    }
#undef SAT_SPARSE
}
#endif

#if defined(MF_RT_OPT_INT) && !defined(MF_RT_EMULATE_DSP)
/* Four positions of a plain conv whose outputs follow each other, every channel, in assembly:
 * the channel loop of quad_sparse_whole (taps 1) with all it needs in registers (the four
 * fields, the index and weight streams, the end of the channel's weights, four sums and three
 * temporaries: r0-r12 and lr) and the rest in the frame. Per nonzero weight 12 instructions (a
 * halfword offset, the weight, four bytes of input, four multiply-adds, the loop), per channel
 * about 30 (its start and shift in one LDRD, four shifts and saturations, four stores). The
 * argument: */
typedef struct {
    const int8_t *f[4];  /* +0: the fields */
    const uint16_t *idx; /* +16 */
    const int8_t *w;     /* +20 */
    const int32_t *rec;  /* +24: per channel its start and shift (sparse_layer) */
    int unused;          /* +28 */
    int8_t *out;         /* +32: channel 0 of the first position; the others cout apart */
    int cout;            /* +36 */
} sparse_run;
_Static_assert(sizeof(void *) != 4 || sizeof(sparse_run) == 40, "sparse_run's layout");

/* clang-format off */
/* one weight: its offset, the weight, four inputs, four multiply-adds */
#define MAC4_SPARSE                                                                                \
    "ldrh r11, [r4], #2\n\t"                                                                       \
    "ldrsb r12, [r5], #1\n\t"                                                                      \
    "ldrsb lr, [r0, r11]\n\t"                                                                      \
    "smlabb r7, lr, r12, r7\n\t"                                                                   \
    "ldrsb lr, [r1, r11]\n\t"                                                                      \
    "smlabb r8, lr, r12, r8\n\t"                                                                   \
    "ldrsb lr, [r2, r11]\n\t"                                                                      \
    "smlabb r9, lr, r12, r9\n\t"                                                                   \
    "ldrsb lr, [r3, r11]\n\t"                                                                      \
    "smlabb r10, lr, r12, r10\n\t"
#define SPARSE_PLAIN_ASM(SAT)                                                                      \
    "push {r4-r11, lr}\n\t"                                                                        \
    "sub sp, sp, #20\n\t"                                                                          \
    "ldr r4, [r0, #16]\n\t"              /* idx */                                                 \
    "ldr r5, [r0, #20]\n\t"              /* w */                                                   \
    "ldr r6, [r0, #24]\n\t" "str r6, [sp, #0]\n\t"   /* rec */                                     \
    "ldr r6, [r0, #32]\n\t" "str r6, [sp, #8]\n\t"   /* out */                                     \
    "ldr r6, [r0, #36]\n\t" "str r6, [sp, #12]\n\t"  /* cout: the stride */                        \
    "ldm r0, {r0-r3}\n\t"                /* the fields */                                          \
    "1:\n\t"                                                                                       \
    "ldr r11, [sp, #0]\n\t"                                                                        \
    "ldrd r7, r12, [r11], #8\n\t"        /* start, shift */                                        \
    "str r11, [sp, #0]\n\t"                                                                        \
    "str r12, [sp, #16]\n\t"                                                                       \
    "ldrh r6, [r4], #2\n\t"              /* the channel's nonzero weights */                       \
    "mov r8, r7\n\t"                                                                               \
    "mov r9, r7\n\t"                                                                               \
    "mov r10, r7\n\t"                                                                              \
    "lsrs r11, r6, #1\n\t"               /* C: an odd count, Z: none */                            \
    "add r6, r5, r6\n\t"                 /* the end of its weights (flags kept) */                 \
    "bcs 4f\n\t"                         /* odd: the second half first */                          \
    "beq 3f\n\t"                                                                                   \
    "2:\n\t"                             /* two weights per pass */                                \
    MAC4_SPARSE                                                                                    \
    "4:\n\t"                                                                                       \
    MAC4_SPARSE                                                                                    \
    "cmp r5, r6\n\t"                                                                               \
    "bne 2b\n\t"                                                                                   \
    "3:\n\t"                                                                                       \
    "ldr r6, [sp, #16]\n\t"              /* the shift (ASR takes its low byte) */                  \
    "asrs r7, r7, r6\n\t"                                                                          \
    "asrs r8, r8, r6\n\t"                                                                          \
    "asrs r9, r9, r6\n\t"                                                                          \
    "asrs r10, r10, r6\n\t"                                                                        \
    SAT(r7) SAT(r8) SAT(r9) SAT(r10)                                                               \
    "ldrd r11, r12, [sp, #8]\n\t"        /* out, cout */                                           \
    "add lr, r11, r12, lsl #1\n\t"                                                                 \
    "strb r8, [r11, r12]\n\t"                                                                      \
    "strb r9, [lr]\n\t"                                                                            \
    "strb r10, [lr, r12]\n\t"                                                                      \
    "strb r7, [r11], #1\n\t"                                                                       \
    "str r11, [sp, #8]\n\t"                                                                        \
    "tst r6, #256\n\t"                   /* the last channel's mark */                             \
    "beq 1b\n\t"                                                                                   \
    "add sp, sp, #20\n\t"                                                                          \
    "pop {r4-r11, pc}\n\t"
#define SPARSE_USAT7(r) "usat " #r ", #7, " #r "\n\t"
#define SPARSE_SSAT8(r) "ssat " #r ", #8, " #r "\n\t"
/* clang-format on */

/* With a fused ReLU (USAT to [0, 127]) and without (SSAT to [−128, 127]); cout ≥ 1. */
__attribute__((naked, noinline)) static void plain_sparse_relu(MF_RT_UNUSED const sparse_run *r)
{
    __asm__ volatile(SPARSE_PLAIN_ASM(SPARSE_USAT7));
}
__attribute__((naked, noinline)) static void plain_sparse_sat(MF_RT_UNUSED const sparse_run *r)
{
    __asm__ volatile(SPARSE_PLAIN_ASM(SPARSE_SSAT8));
}

static void quad_sparse(const sparse_layer *L, const sparse_quad *q, int np);

/* A plain conv (no pool) with the fast requantization, position after position in raster
 * order: four at a time in assembly, their fields found in place inline (gathered at the
 * edges), their outputs following each other; the last one to three through quad_sparse. */
__attribute__((noinline)) static void walk_plain(const sparse_layer *L, sparse_quad *q,
                                                 const int8_t *in, int8_t *out, int8_t *scratch,
                                                 long field)
{
    const mf_rt_geom *g = L->g;
    const int cout = g->cout, n = g->oh * g->ow, cin = g->cin, relu = L->rq->relu;
    const int sh = g->sh, sw = g->sw, ow = g->ow, ix0 = -g->pad_left, ix_max = g->w - g->kw,
              iy_max = g->h - g->kh;
    const long row = (long)g->w * cin;
    sparse_run r = {{NULL, NULL, NULL, NULL}, L->idx, L->w, L->rec, 0, out, cout};
    int iy = -g->pad_top, ix = ix0, ox = 0, np = 0;
    for (int p = 0; p < n; p++) {
        r.f[np] = iy >= 0 && iy <= iy_max && ix >= 0 && ix <= ix_max
                      ? in + (long)iy * row + (long)ix * cin
                      : field_sparse(g, in, iy, ix, scratch + np * field);
        ix += sw;
        if (++ox == ow) ox = 0, ix = ix0, iy += sh;
        if (++np == 4) {
            if (relu) /* a direct call: the stack bound follows no pointer */
                plain_sparse_relu(&r);
            else
                plain_sparse_sat(&r);
            r.out += 4 * cout;
            np = 0;
        }
    }
    for (int e = 0; e < np; e++) /* the rest: the general path */
        q->f[e] = r.f[e], q->o[e] = out + (long)(n - np + e) * cout, q->fold[e] = 0;
    if (np) quad_sparse(L, q, np);
}
#endif

/* q's first np positions, through quad_sparse_whole where they make whole windows. */
static void quad_sparse(const sparse_layer *L, const sparse_quad *q, int np)
{
#if defined(MF_RT_OPT_INT)
    const int taps = L->fast ? whole_sparse(q, np) : 0;
    if (taps) {
        quad_sparse_whole(L, q, taps);
        return;
    }
#endif
    quad_sparse_any(L, q, np);
}

void mf_rt_conv_sparse_maxpool_s8(const mf_rt_geom *g, int pool_kh, int pool_kw, int pool_sh,
                                  int pool_sw, const int8_t *in, const uint16_t *idx,
                                  const int8_t *w, const int32_t *bias, const mf_rt_requant *rq,
                                  int8_t *out, void *scratch)
{
    if (!mf_rt_conv_sparse_s8_covers(g) || pool_kh < 1 || pool_kw < 1 || pool_sh < 1 ||
        pool_sw < 1 || pool_kh > g->oh || pool_kw > g->ow)
        return; /* outside the documented preconditions: no output */
    const int poh = (g->oh - pool_kh) / pool_sh + 1, pow = (g->ow - pool_kw) / pool_sw + 1;
    const long field = ((long)(g->kh - 1) * g->w * g->cin + (long)g->kw * g->cin + 3) & ~3L;
    /* scratch (mf_rt_conv_sparse_s8_scratch_bytes): 4 fields, the quad, the starts */
    sparse_quad *q = (sparse_quad *)((int8_t *)scratch + 4 * field);
    sparse_layer *L = (sparse_layer *)(q + 1);
    int32_t *rec = (int32_t *)((int8_t *)L + ((sizeof *L + 7) & ~(size_t)7));
    *L = (sparse_layer){g, idx, w, rec, rq, 0};
#if defined(MF_RT_OPT_INT)
    L->fast = mf_rt_init_s8(bias, rq, g->kh * g->kw * g->cin, g->cout, rec, 2);
    for (int c = 0; c < g->cout && L->fast; c++) /* 0 to 31 when fast; + 256: the last */
        rec[2 * c + 1] = (rq->shifts ? rq->shifts[c] : rq->shift) | (c + 1 == g->cout) << 8;
#if !defined(MF_RT_EMULATE_DSP)
    if (L->fast && pool_kh == 1 && pool_kw == 1 && pool_sh == 1 && pool_sw == 1 && g->cout >= 1) {
        walk_plain(L, q, in, out, (int8_t *)scratch, field);
        return;
    }
#endif
#else
    for (int c = 0; c < g->cout; c++)
        rec[2 * c] = bias ? bias[c] : 0;
#endif
    int np = 0;
    for (int py = 0; py < poh; py++)
        for (int px = 0; px < pow; px++)
            for (int t = 0; t < pool_kh * pool_kw; t++) {
                const int oy = py * pool_sh + t / pool_kw, ox = px * pool_sw + t % pool_kw;
                q->f[np] = field_sparse(g, in, oy * g->sh - g->pad_top, ox * g->sw - g->pad_left,
                                        (int8_t *)scratch + np * field);
                q->o[np] = out + ((long)py * pow + px) * g->cout;
                q->fold[np] = t > 0;
                if (++np == 4) quad_sparse(L, q, 4), np = 0;
            }
    if (np) quad_sparse(L, q, np);
}

void mf_rt_conv_sparse_s8(const mf_rt_geom *g, const int8_t *in, const uint16_t *idx,
                          const int8_t *w, const int32_t *bias, const mf_rt_requant *rq,
                          int8_t *out, void *scratch)
{
    mf_rt_conv_sparse_maxpool_s8(g, 1, 1, 1, 1, in, idx, w, bias, rq, out, scratch);
}

int mf_rt_conv_sparse_s8_covers(const mf_rt_geom *g)
{
    /* a kernel row fits an input row (else field offsets of two rows would coincide), the last
     * offset fits a halfword, and so does a channel's count (at most K) */
    return g->kw <= g->w && (long)(g->kh - 1) * g->w * g->cin + (long)g->kw * g->cin <= 65536 &&
           (long)g->kh * g->kw * g->cin <= 65535;
}

size_t mf_rt_conv_sparse_s8_scratch_bytes(const mf_rt_geom *g)
{
    /* four gathered fields, each (kh − 1) input rows and kw·cin bytes, rounded to words, then
     * the four positions' pointers and flags (sized on the platform that asks: a host's 8-byte
     * pointers overstate a firmware's need), what the quads share (to 8 bytes: the records),
     * then a start and a shift per output channel */
    const size_t field =
        ((size_t)(g->kh - 1) * (size_t)g->w * (size_t)g->cin + (size_t)g->kw * (size_t)g->cin + 3) &
        ~(size_t)3;
    return 4 * field + sizeof(sparse_quad) + ((sizeof(sparse_layer) + 7) & ~(size_t)7) +
           8 * (size_t)g->cout;
}
