/* float32 convolution, fused convolution + max pool, and dense: the optimized paths (see
 * mf_rt_dsp.h for when they are used). Bit-identical to conv.c's and dense.c's references for
 * every input.
 *
 * Order: each output keeps its own accumulator, started at the bias (or 0.0f) and updated with
 *   x·w in the order ky, kx, ci ascending — the reference's order, one rounding per multiply and
 *   per add. On the M4 the update is VMLA.F32, which is not fused (ARMv7-M: the product is
 *   rounded, then added with a second rounding), i.e. exactly the reference's `acc += x * w`.
 *   GCC does not emit VMLA under -ffp-contract=off, so the inner loops are inline assembly;
 *   MF_RT_EMULATE_DSP runs the same loop structure in C. Blocking across outputs is free, the
 *   order within one output is not: blocks share loads, never reorder a sum.
 * Taps: a position's valid taps form a rectangle [ky0, ky1) × [kx0, kx1); for each ky the valid
 *   input and the matching weights are contiguous runs of n = (kx1 − kx0)·cin values
 *   (channels-last input, [cout][kh][kw][cin] weights). Zero padding is never read nor
 *   multiplied, it is skipped exactly as the reference skips it.
 * Blocks: output channels in pairs (c0, c1); an odd last channel is computed with its neighbour
 *   as the pair (cout − 2, cout − 1), recomputing cout − 2 identically, and a single channel as
 *   (0, 0) stored once. Positions sharing one tap rectangle (interior columns of a conv row: all
 *   kw taps inside the input) go 4 at a time: mac_f32_4x2 keeps 8 accumulators in s24–s31 and per
 *   4 values of a kernel row loads 4 floats of each position and of each channel (6 VLDM into
 *   s0–s23) for 32 VMLA, two such chunks per loop pass; the n mod 8 last values of a row take a
 *   4-, 2- and 1-value step, so any cin and kw run at the same rate. One call of run4_f32
 *   computes a whole row of such blocks, then ReLU and the store or the pool fold. Edge columns,
 *   leftover positions and dense layers take mac_f32_1x2 (1 position × 2 channels, VLDM of 8)
 *   with the position's own tap rectangle.
 * Fused max pool: a window's maximum is folded in the pool's tap order, first tap (ReLU'd) then
 *   every strictly greater one, exactly as mf_rt_maxpool_f32 does after the conv's ReLU (a later
 *   tap needs no ReLU of its own: see run4_f32). Interior windows 1 or 2 taps wide (every 1D
 *   pool, the 2 × 2 of 2D nets; 1 × 1 is the plain conv) run along the conv rows of the pool row,
 *   4 or 2 windows per block: the first conv row stores, each later one folds into the stored
 *   maxima, so every row keeps its own tap rectangle. Other windows (edges, wider pools) are
 *   computed output by output.
 * Dense: a 1 × 1 conv of one position, output pairs through mac_f32_1x2. */
#include "mf_rt_dsp.h"

#if defined(MF_RT_OPT_F32)

/* ---- output geometry: valid tap ranges, interior columns, row offsets ---- */

/* Valid taps of output o along one axis: k0 ≤ k < k1 with 0 ≤ o·s − pad + k < n (may be empty). */
MF_RT_INLINE void conv_tap_range(int o, int s, int pad, int n, int k, int *k0, int *k1)
{
    int start = o * s - pad;
    int end = n - start;
    *k0 = start < 0 ? -start : 0;
    *k1 = end < k ? end : k;
}

/* What every output row shares. */
typedef struct {
    int ox_lo, ox_hi; /* interior columns [ox_lo, ox_hi): all kw taps inside the input */
    int n;            /* kw·cin: one row of taps, contiguous in the input and in the weights */
    ptrdiff_t dx;     /* sw·cin: input elements between neighbouring output columns */
    ptrdiff_t row;    /* w·cin: input elements between rows */
    size_t K;         /* kh·kw·cin: the weights of one output channel */
} conv_plan;

MF_RT_INLINE conv_plan conv_plan_of(const mf_rt_geom *g)
{
    conv_plan p;
    int last = g->w + g->pad_left - g->kw; /* interior: 0 ≤ ox·sw − pad_left, ox·sw ≤ last */
    p.ox_lo = g->pad_left > 0 ? (g->pad_left + g->sw - 1) / g->sw : 0;
    p.ox_hi = last < 0 ? 0 : last / g->sw + 1;
    if (p.ox_lo > g->ow) p.ox_lo = g->ow;
    if (p.ox_hi > g->ow) p.ox_hi = g->ow;
    if (p.ox_hi < p.ox_lo) p.ox_hi = p.ox_lo;
    p.n = g->kw * g->cin;
    p.dx = (ptrdiff_t)g->sw * g->cin;
    p.row = (ptrdiff_t)g->w * g->cin;
    p.K = (size_t)g->kh * g->kw * g->cin;
    return p;
}

/* The valid kernel rows of output row oy: ky0 ≤ ky < ky0 + rows (rows ≤ 0: none lies inside);
 * conv_x_at gives the input offset of output (oy, ox)'s tap (ky, 0), channel 0. */
typedef struct {
    int rows, ky0;
} conv_rows;

MF_RT_INLINE conv_rows conv_rows_of(const mf_rt_geom *g, int oy)
{
    conv_rows r;
    int ky1;
    conv_tap_range(oy, g->sh, g->pad_top, g->h, g->kh, &r.ky0, &ky1);
    r.rows = ky1 - r.ky0;
    return r;
}

MF_RT_INLINE size_t conv_x_at(const mf_rt_geom *g, int oy, int ky0, int ox)
{
    return ((size_t)(oy * g->sh - g->pad_top + ky0) * g->w + (size_t)(ox * g->sw - g->pad_left)) *
           g->cin;
}

/* The taps shared by the positions of a block: `rows` kernel rows of n contiguous values; after
 * a row's n values the input pointers step xadv more and the weight pointers wadv more. */
typedef struct {
    int n, rows;
    ptrdiff_t xadv, wadv;
} f32_taps;

enum { R4_STORE, R4_MAX, R4_POOL2, R4_POOL2_MAX };

/* A run of 4-position blocks: block b reads positions x + b·step + {0, off[0], off[1], off[2]};
 * accumulator j = 2·position + channel. */
typedef struct {
    float start[8]; /* accumulator starts: b0, b1 per position (loaded by one VLDM) */
    f32_taps t;
    const float *w0, *w1; /* the channels' weights at the first tap */
    const float *x;
    ptrdiff_t off[3], step;
    float *o;        /* the first block's outputs: 4 windows of one tap, or 2 windows of 2 taps */
    ptrdiff_t ostep; /* between blocks' outputs */
    int blocks, mode, relu, two, cout;
} f32_run;

MF_RT_INLINE float relu_f32(float v, int relu)
{
    return relu && v < 0.0f ? 0.0f : v;
}

#if defined(MF_RT_EMULATE_DSP)
/* a[2p + c] = start + Σ x_p·w_c over the taps (rows ≥ 1; the weights of consecutive rows are
 * contiguous), each sum in tap order (VMLA: acc + x·w). */
MF_RT_INLINE void mac_f32_4x2(const f32_run *r, const float *x0, const float *x1, const float *x2,
                              const float *x3, float *a)
{
    const float *x[4] = {x0, x1, x2, x3}, *w[2] = {r->w0, r->w1};
    const int n = r->t.n;
    for (int j = 0; j < 8; j++)
        a[j] = r->start[j];
    for (int row = r->t.rows; row > 0; row--) {
        for (int i = 0; i < n; i++)
            for (int j = 0; j < 8; j++)
                a[j] += x[j >> 1][i] * w[j & 1][i];
        for (int p = 0; p < 4; p++)
            x[p] += n + r->t.xadv;
        w[0] += n, w[1] += n;
    }
}

/* a[c] += Σ x·w_c over the taps of t (rows ≥ 1), in tap order. */
MF_RT_NOINLINE void mac_f32_1x2(const f32_taps *t, const float *x, const float *w0, const float *w1,
                                float *a)
{
    for (int row = t->rows; row > 0; row--) {
        for (int i = 0; i < t->n; i++) {
            a[0] += x[i] * w0[i];
            a[1] += x[i] * w1[i];
        }
        x += t->n + t->xadv, w0 += t->n + t->wadv, w1 += t->n + t->wadv;
    }
}
#else
/* clang-format off */
/* Value i of 4 positions (i0..i3) × 2 channels (k0, k1) into s24 + 2·position + channel. */
#define F32_MLA8(i0, i1, i2, i3, k0, k1)                                                           \
    "vmla.f32 s24, " i0 ", " k0 "\n\t"                                                             \
    "vmla.f32 s26, " i1 ", " k0 "\n\t"                                                             \
    "vmla.f32 s28, " i2 ", " k0 "\n\t"                                                             \
    "vmla.f32 s30, " i3 ", " k0 "\n\t"                                                             \
    "vmla.f32 s25, " i0 ", " k1 "\n\t"                                                             \
    "vmla.f32 s27, " i1 ", " k1 "\n\t"                                                             \
    "vmla.f32 s29, " i2 ", " k1 "\n\t"                                                             \
    "vmla.f32 s31, " i3 ", " k1 "\n\t"
#define F32_LD6(l0, l1, l2, l3, k0, k1)                                                            \
    "vldmia %[x0]!, {" l0 "}\n\t"                                                                  \
    "vldmia %[x1]!, {" l1 "}\n\t"                                                                  \
    "vldmia %[x2]!, {" l2 "}\n\t"                                                                  \
    "vldmia %[x3]!, {" l3 "}\n\t"                                                                  \
    "vldmia %[w0]!, {" k0 "}\n\t"                                                                  \
    "vldmia %[w1]!, {" k1 "}\n\t"
#define F32_CHUNK4                                                                                 \
    F32_LD6("s0-s3", "s4-s7", "s8-s11", "s12-s15", "s16-s19", "s20-s23")                          \
    F32_MLA8("s0", "s4", "s8", "s12", "s16", "s20")                                                \
    F32_MLA8("s1", "s5", "s9", "s13", "s17", "s21")                                                \
    F32_MLA8("s2", "s6", "s10", "s14", "s18", "s22")                                               \
    F32_MLA8("s3", "s7", "s11", "s15", "s19", "s23")

/* Per row: 8 values per loop pass (two chunks of 4: VLDM of 4 per operand, 32 VMLA), then 4, 2
 * and 1 (flags of n << 30: C = bit 2, N = bit 1; of n << 31: N = bit 0; VLDM and VMLA leave
 * them alone); between rows the inputs step xadv more, the weights run on. */
MF_RT_INLINE void mac_f32_4x2(const f32_run *r, const float *x0, const float *x1, const float *x2,
                              const float *x3, float *a)
{
    register float a0 __asm__("s24"), a1 __asm__("s25"), a2 __asm__("s26"), a3 __asm__("s27");
    register float a4 __asm__("s28"), a5 __asm__("s29"), a6 __asm__("s30"), a7 __asm__("s31");
    const float *w0, *w1;
    int n, rows, cnt;
    __asm__ volatile(
        "vldmia %[r], {s24-s31}\n\t"
        "ldrd %[w0], %[w1], [%[r], %[ow]]\n\t"
        "ldrd %[n], %[rows], [%[r], %[ot]]\n\t"
        "1:\n\t"
        "lsrs %[cnt], %[n], #3\n\t"
        "beq 3f\n\t"
        "2:\n\t"
        F32_CHUNK4
        F32_CHUNK4
        "subs %[cnt], %[cnt], #1\n\t"
        "bne 2b\n\t"
        "3:\n\t"
        "lsls %[cnt], %[n], #30\n\t"
        "bcc 4f\n\t"
        F32_CHUNK4
        "4:\n\t"
        "bpl 7f\n\t"
        F32_LD6("s0-s1", "s4-s5", "s8-s9", "s12-s13", "s16-s17", "s20-s21")
        F32_MLA8("s0", "s4", "s8", "s12", "s16", "s20")
        F32_MLA8("s1", "s5", "s9", "s13", "s17", "s21")
        "7:\n\t"
        "lsls %[cnt], %[n], #31\n\t"
        "bpl 5f\n\t"
        F32_LD6("s0", "s4", "s8", "s12", "s16", "s20")
        F32_MLA8("s0", "s4", "s8", "s12", "s16", "s20")
        "5:\n\t"
        "subs %[rows], %[rows], #1\n\t"
        "beq 6f\n\t"
        "ldr %[cnt], [%[r], %[oxa]]\n\t"
        "add %[x0], %[x0], %[cnt], lsl #2\n\t"
        "add %[x1], %[x1], %[cnt], lsl #2\n\t"
        "add %[x2], %[x2], %[cnt], lsl #2\n\t"
        "add %[x3], %[x3], %[cnt], lsl #2\n\t"
        "b 1b\n\t"
        "6:\n\t"
        : "=t"(a0), "=t"(a1), "=t"(a2), "=t"(a3), "=t"(a4), "=t"(a5), "=t"(a6), "=t"(a7),
          [x0] "+r"(x0), [x1] "+r"(x1), [x2] "+r"(x2), [x3] "+r"(x3), [w0] "=&r"(w0),
          [w1] "=&r"(w1), [n] "=&r"(n), [rows] "=&r"(rows), [cnt] "=&r"(cnt)
        : [r] "r"(r), [ow] "i"(offsetof(f32_run, w0)), [ot] "i"(offsetof(f32_run, t.n)),
          [oxa] "i"(offsetof(f32_run, t.xadv))
        : "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "s12", "s13",
          "s14", "s15", "s16", "s17", "s18", "s19", "s20", "s21", "s22", "s23", "cc", "memory");
    a[0] = a0, a[1] = a1, a[2] = a2, a[3] = a3, a[4] = a4, a[5] = a5, a[6] = a6, a[7] = a7;
}
#undef F32_CHUNK4
#undef F32_LD6
#undef F32_MLA8

#define F32_MLA2(i, k0, k1)                                                                        \
    "vmla.f32 %[a0], " i ", " k0 "\n\t"                                                            \
    "vmla.f32 %[a1], " i ", " k1 "\n\t"
#define F32_LD3(l, k0, k1)                                                                         \
    "vldmia %[x]!, {" l "}\n\t"                                                                    \
    "vldmia %[w0]!, {" k0 "}\n\t"                                                                  \
    "vldmia %[w1]!, {" k1 "}\n\t"

/* a[c] += Σ x·w_c over the taps of t (rows ≥ 1), in tap order. Per row: chunks of 8 values (one
 * VLDM of 8 per operand), then 4, 2 and 1 (flags of n << 30 and n << 31). */
MF_RT_NOINLINE void mac_f32_1x2(const f32_taps *t, const float *x, const float *w0, const float *w1,
                                float *a)
{
    float a0 = a[0], a1 = a[1];
    int n, rows, cnt;
    __asm__ volatile(
        "ldrd %[n], %[rows], [%[t]]\n\t"
        "1:\n\t"
        "lsrs %[cnt], %[n], #3\n\t"
        "beq 3f\n\t"
        "2:\n\t"
        F32_LD3("s0-s7", "s8-s15", "s16-s23")
        F32_MLA2("s0", "s8", "s16") F32_MLA2("s1", "s9", "s17")
        F32_MLA2("s2", "s10", "s18") F32_MLA2("s3", "s11", "s19")
        F32_MLA2("s4", "s12", "s20") F32_MLA2("s5", "s13", "s21")
        F32_MLA2("s6", "s14", "s22") F32_MLA2("s7", "s15", "s23")
        "subs %[cnt], %[cnt], #1\n\t"
        "bne 2b\n\t"
        "3:\n\t"
        "lsls %[cnt], %[n], #30\n\t"
        "bcc 4f\n\t"
        F32_LD3("s0-s3", "s8-s11", "s16-s19")
        F32_MLA2("s0", "s8", "s16") F32_MLA2("s1", "s9", "s17")
        F32_MLA2("s2", "s10", "s18") F32_MLA2("s3", "s11", "s19")
        "4:\n\t"
        "bpl 5f\n\t"
        F32_LD3("s0-s1", "s8-s9", "s16-s17")
        F32_MLA2("s0", "s8", "s16") F32_MLA2("s1", "s9", "s17")
        "5:\n\t"
        "lsls %[cnt], %[n], #31\n\t"
        "bpl 7f\n\t"
        F32_LD3("s0", "s8", "s16")
        F32_MLA2("s0", "s8", "s16")
        "7:\n\t"
        "subs %[rows], %[rows], #1\n\t"
        "beq 6f\n\t"
        "ldr %[cnt], [%[t], %[oxa]]\n\t"
        "add %[x], %[x], %[cnt], lsl #2\n\t"
        "ldr %[cnt], [%[t], %[owa]]\n\t"
        "add %[w0], %[w0], %[cnt], lsl #2\n\t"
        "add %[w1], %[w1], %[cnt], lsl #2\n\t"
        "b 1b\n\t"
        "6:\n\t"
        : [a0] "+t"(a0), [a1] "+t"(a1), [x] "+r"(x), [w0] "+r"(w0), [w1] "+r"(w1), [n] "=&r"(n),
          [rows] "=&r"(rows), [cnt] "=&r"(cnt)
        : [t] "r"(t), [oxa] "i"(offsetof(f32_taps, xadv)), [owa] "i"(offsetof(f32_taps, wadv))
        : "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "s12", "s13",
          "s14", "s15", "s16", "s17", "s18", "s19", "s20", "s21", "s22", "s23", "cc", "memory");
    a[0] = a0, a[1] = a1;
}
#undef F32_LD3
#undef F32_MLA2
/* clang-format on */
#endif

/* Stores the fold of a later tap into a window maximum: v replaces *o when strictly greater. */
MF_RT_INLINE void max_into(float *o, float v)
{
    if (v > *o) *o = v;
}

/* Runs r->blocks blocks: accumulate, then by mode (ReLU only on a window's first tap: with
 * m = ReLU(u0) ≥ +0, −0 or NaN, ReLU(u) > m exactly when u > m, and then ReLU(u) = u):
 *   R4_STORE     4 windows of one tap, or the window's first conv row: ReLU and store;
 *   R4_MAX       the same windows' later conv rows: folded into the stored maximum;
 *   R4_POOL2     2 windows 2 taps wide, first conv row: fold the pair, store;
 *   R4_POOL2_MAX their later conv rows: both taps folded into the stored maximum. */
MF_RT_NOINLINE void run4_f32(const f32_run *r)
{
    const float *x = r->x;
    float *o = r->o;
    const ptrdiff_t cs = r->cout;
    for (int b = r->blocks; b > 0; b--, x += r->step) {
        float a[8];
        mac_f32_4x2(r, x, x + r->off[0], x + r->off[1], x + r->off[2], a);
        if (r->mode == R4_STORE) {
            if (r->relu) {
                a[0] = relu_f32(a[0], 1), a[1] = relu_f32(a[1], 1);
                a[2] = relu_f32(a[2], 1), a[3] = relu_f32(a[3], 1);
                a[4] = relu_f32(a[4], 1), a[5] = relu_f32(a[5], 1);
                a[6] = relu_f32(a[6], 1), a[7] = relu_f32(a[7], 1);
            }
            o[0] = a[0], o[cs] = a[2], o[2 * cs] = a[4], o[3 * cs] = a[6];
            if (r->two) o[1] = a[1], o[cs + 1] = a[3], o[2 * cs + 1] = a[5], o[3 * cs + 1] = a[7];
        } else if (r->mode == R4_POOL2) {
            if (r->relu) {
                a[0] = relu_f32(a[0], 1), a[1] = relu_f32(a[1], 1);
                a[4] = relu_f32(a[4], 1), a[5] = relu_f32(a[5], 1);
            }
            o[0] = a[2] > a[0] ? a[2] : a[0];
            o[cs] = a[6] > a[4] ? a[6] : a[4];
            if (r->two) o[1] = a[3] > a[1] ? a[3] : a[1], o[cs + 1] = a[7] > a[5] ? a[7] : a[5];
        } else if (r->mode == R4_MAX) {
            max_into(o, a[0]), max_into(o + cs, a[2]);
            max_into(o + 2 * cs, a[4]), max_into(o + 3 * cs, a[6]);
            if (r->two) {
                max_into(o + 1, a[1]), max_into(o + cs + 1, a[3]);
                max_into(o + 2 * cs + 1, a[5]), max_into(o + 3 * cs + 1, a[7]);
            }
        } else {
            max_into(o, a[0]), max_into(o, a[2]);
            max_into(o + cs, a[4]), max_into(o + cs, a[6]);
            if (r->two) {
                max_into(o + 1, a[1]), max_into(o + 1, a[3]);
                max_into(o + cs + 1, a[5]), max_into(o + cs + 1, a[7]);
            }
        }
        o += r->ostep;
    }
}

/* What every block of one channel pair shares. */
typedef struct {
    const mf_rt_geom *g;
    conv_plan p;
    const float *in, *w0, *w1;
    float b0, b1;
    int relu, two;
} f32_ctx;

/* The taps of interior positions in output row oy: r's row count, values per row and weights
 * (a row with no valid kernel row runs as n = 0: the starts alone). */
MF_RT_INLINE void f32_rows(const f32_ctx *c, int oy, f32_run *r)
{
    const conv_rows rw = conv_rows_of(c->g, oy);
    r->t.n = rw.rows > 0 ? c->p.n : 0;
    r->t.rows = rw.rows > 0 ? rw.rows : 1;
    const size_t wo = rw.rows > 0 ? (size_t)rw.ky0 * c->p.n : 0;
    r->w0 = c->w0 + wo, r->w1 = c->w1 + wo;
}

/* A run with the pair's starts and epilogue settings (taps, positions and outputs still open). */
MF_RT_INLINE void f32_run_of(const f32_ctx *c, int mode, f32_run *r)
{
    for (int j = 0; j < 8; j += 2)
        r->start[j] = c->b0, r->start[j + 1] = c->b1;
    r->t.xadv = c->p.row - c->p.n;
    r->t.wadv = 0;
    r->mode = mode, r->relu = c->relu, r->two = c->two, r->cout = c->g->cout;
}

/* The input of interior position (oy, ox) at its first valid tap. */
MF_RT_INLINE const float *conv_f32_x(const f32_ctx *c, int oy, int ox)
{
    const conv_rows r = conv_rows_of(c->g, oy);
    return r.rows > 0 ? c->in + conv_x_at(c->g, oy, r.ky0, ox) : c->in;
}

/* Output (oy, ox) of both channels with its own tap rectangle, a = the accumulators. */
MF_RT_NOINLINE void conv_f32_one(const f32_ctx *c, int oy, int ox, float *a)
{
    const mf_rt_geom *g = c->g;
    int ky0, ky1, kx0, kx1;
    conv_tap_range(oy, g->sh, g->pad_top, g->h, g->kh, &ky0, &ky1);
    conv_tap_range(ox, g->sw, g->pad_left, g->w, g->kw, &kx0, &kx1);
    a[0] = c->b0, a[1] = c->b1;
    f32_taps t;
    t.n = (kx1 - kx0) * g->cin;
    t.rows = ky1 - ky0;
    if (t.n <= 0 || t.rows <= 0) return;
    t.xadv = c->p.row - t.n;
    t.wadv = c->p.n - t.n;
    const size_t wo = ((size_t)ky0 * g->kw + kx0) * g->cin;
    mac_f32_1x2(&t, c->in + conv_x_at(g, oy, ky0, ox) + (size_t)kx0 * g->cin, c->w0 + wo,
                c->w1 + wo, a);
}

/* Folds one output of both channels into a window maximum: the first tap (ReLU'd), then every
 * strictly greater one (no ReLU needed, see run4_f32). */
MF_RT_INLINE void fold_f32(float *m, float u, float v, int first, int relu)
{
    if (first) {
        m[0] = relu_f32(u, relu), m[1] = relu_f32(v, relu);
        return;
    }
    if (u > m[0]) m[0] = u;
    if (v > m[1]) m[1] = v;
}

/* The window pkh × pkw at conv output (oy0, ox0): m = its maximum per channel. */
MF_RT_NOINLINE void conv_f32_window(const f32_ctx *c, int oy0, int ox0, int pkh, int pkw, float *m)
{
    for (int k = 0; k < pkh * pkw; k++) {
        float a[2];
        conv_f32_one(c, oy0 + k / pkw, ox0 + k % pkw, a);
        fold_f32(m, a[0], a[1], k == 0, c->relu);
    }
}

/* Pool windows along a row, the same for every channel pair. */
typedef struct {
    int pkh, pkw, psh, psw, poh, pow;
    int lo, hi;      /* windows [lo, hi) have all their taps in interior columns */
    int per, blocks; /* windows per block (0: none), blocks per row */
} f32_pool;

/* One channel pair, pool row by pool row (the plain conv: windows 1 × 1, strides 1). Interior
 * windows 1 or 2 taps wide run in blocks, conv row by conv row: the first row stores, the later
 * ones fold into the stored maxima (each window still sees its taps in (ky, kx) order). The other
 * windows are computed one by one. o = the pair's first output. */
MF_RT_NOINLINE void conv_f32_pair(const f32_ctx *c, const f32_pool *q, float *out)
{
    const ptrdiff_t cs = c->g->cout, dx = c->p.dx, W = q->psw * dx; /* W: between windows */
    const int one = q->pkh == 1 && q->pkw == 1; /* plain: leftovers share the row's taps */
    f32_run r;
    f32_run_of(c, q->per == 4 ? R4_STORE : R4_POOL2, &r);
    if (q->per == 4)
        r.off[0] = W, r.off[1] = 2 * W, r.off[2] = 3 * W;
    else
        r.off[0] = dx, r.off[1] = W, r.off[2] = W + dx;
    r.step = q->per * W;
    r.ostep = q->per * cs;
    r.blocks = q->blocks;
    for (int py = 0; py < q->poh; py++) {
        float *o = out + (size_t)py * q->pow * cs;
        for (int wy = 0; wy < q->pkh; wy++) {
            const int oy = py * q->psh + wy;
            f32_rows(c, oy, &r);
            if (q->blocks <= 0) break;
            r.x = conv_f32_x(c, oy, q->lo * q->psw);
            r.o = o + (size_t)q->lo * cs;
            r.mode = (q->per == 4 ? R4_STORE : R4_POOL2) + (wy > 0);
            run4_f32(&r);
        }
        for (int px = 0; px < q->pow; px++) {
            if (px == q->lo) px += q->blocks * q->per;
            if (px >= q->pow) break;
            float m[2];
            if (one && px >= q->lo && px < q->hi) {
                m[0] = c->b0, m[1] = c->b1;
                mac_f32_1x2(&r.t, conv_f32_x(c, py * q->psh, px * q->psw), r.w0, r.w1, m);
                m[0] = relu_f32(m[0], c->relu), m[1] = relu_f32(m[1], c->relu);
            } else if (one) {
                conv_f32_one(c, py * q->psh, px * q->psw, m);
                m[0] = relu_f32(m[0], c->relu), m[1] = relu_f32(m[1], c->relu);
            } else {
                conv_f32_window(c, py * q->psh, px * q->psw, q->pkh, q->pkw, m);
            }
            o[px * cs] = m[0];
            if (c->two) o[px * cs + 1] = m[1];
        }
    }
}

static void conv_f32_engine(const mf_rt_geom *g, int pkh, int pkw, int psh, int psw,
                            const float *in, const float *w, const float *bias, int relu,
                            float *out)
{
    if (g->oh < pkh || g->ow < pkw || pkh < 1 || pkw < 1 || psh < 1 || psw < 1) return;
    const int cout = g->cout;
    f32_ctx c;
    c.g = g;
    c.p = conv_plan_of(g);
    c.in = in;
    c.relu = relu;
    f32_pool q;
    q.pkh = pkh, q.pkw = pkw, q.psh = psh, q.psw = psw;
    q.poh = (g->oh - pkh) / psh + 1, q.pow = (g->ow - pkw) / psw + 1;
    q.lo = (c.p.ox_lo + psw - 1) / psw;
    q.hi = c.p.ox_hi >= pkw ? (c.p.ox_hi - pkw) / psw + 1 : 0;
    if (q.hi > q.pow) q.hi = q.pow;
    if (q.lo > q.hi) q.lo = q.hi;
    q.per = pkw == 1 ? 4 : pkw == 2 ? 2 : 0;
    q.blocks = q.per ? (q.hi - q.lo) / q.per : 0;
    for (int co = 0; co < cout; co += 2) {
        int c0 = co, c1 = co + 1;
        if (c1 >= cout) c0 = cout >= 2 ? cout - 2 : co, c1 = cout >= 2 ? cout - 1 : co;
        c.two = c1 != c0;
        c.w0 = w + (size_t)c0 * c.p.K, c.w1 = w + (size_t)c1 * c.p.K;
        c.b0 = bias ? bias[c0] : 0.0f, c.b1 = bias ? bias[c1] : 0.0f;
        conv_f32_pair(&c, &q, out + c0);
    }
}

void mf_rt_conv_f32_opt(const mf_rt_geom *g, const float *in, const float *w, const float *bias,
                        int relu, float *out)
{
    conv_f32_engine(g, 1, 1, 1, 1, in, w, bias, relu, out);
}

void mf_rt_conv_maxpool_f32_opt(const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh,
                                int pool_sw, const float *in, const float *w, const float *bias,
                                int relu, float *out)
{
    conv_f32_engine(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, relu, out);
}

/* dense float: outputs in pairs sharing the input loads, each sum bias first, then i ascending
 * (the reference's order), VMLA on the M4. */
void mf_rt_dense_f32_opt(int n_in, int n_out, const float *in, const float *w, const float *bias,
                         int relu, float *out)
{
    const size_t K = (size_t)(n_in > 0 ? n_in : 0);
    const f32_taps t = {(int)K, K > 0, 0, 0};
    for (int o = 0; o < n_out; o += 2) {
        const int two = o + 1 < n_out;
        float a[2] = {bias ? bias[o] : 0.0f, bias && two ? bias[o + 1] : 0.0f};
        const float *w0 = w + (size_t)o * K;
        mac_f32_1x2(&t, in, w0, two ? w0 + K : w0, a);
        out[o] = relu_f32(a[0], relu);
        if (two) out[o + 1] = relu_f32(a[1], relu);
    }
}

#endif /* MF_RT_OPT_F32 */
