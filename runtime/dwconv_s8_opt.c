/* Depthwise int8 convolution, Cortex-M4 path (bit-identical to mf_rt_dwconv_s8_ref).
 *
 * With a depth multiplier of 1, output channel c reads input channel c, and the channels of one
 * tap lie side by side in the channels-last input: one word holds channels c..c+3. Channels go
 * four at a time ("quads"): per tap, one LDR of the input word, SXTB16 and SXTB16 ROR #8 split
 * it into the 16-bit lanes (c, c+2) and (c+1, c+3), and SMLABB / SMLATT multiply each lane by its
 * channel's weight from two words of weights laid out the same way (packed once per call into
 * scratch from the runtime layout [cout][kh][kw]): 4 MACs in about 8 instructions, the taps of
 * the window that lie inside the input only (zero padding costs nothing). The accumulators start
 * at bias + the rounding constant when the fast requantization applies (mf_rt_init_s8), which then
 * is a shift and SSAT / USAT. Channels past the last whole quad, and every channel of a layer with
 * a multiplier above 1, run the same accumulation one channel at a time in C. Sums are exact in
 * int32 (the caller's bound), so the order of the products does not matter. */
#include "mf_runtime.h"
#include "mf_rt_dsp.h"

#if defined(MF_RT_OPT_INT)

#if defined(MF_RT_EMULATE_DSP)
/* SMLABB / SMLATT: acc + the product of the bottom (top) halfwords, modulo 2^32. */
MF_RT_INLINE int32_t mf_smlabb(uint32_t x, uint32_t y, int32_t acc)
{
    return mf_s32((uint32_t)acc + (uint32_t)(mf_lane16(x, 0) * mf_lane16(y, 0)));
}

MF_RT_INLINE int32_t mf_smlatt(uint32_t x, uint32_t y, int32_t acc)
{
    return mf_s32((uint32_t)acc + (uint32_t)(mf_lane16(x, 1) * mf_lane16(y, 1)));
}
#else
MF_RT_INLINE int32_t mf_smlabb(uint32_t x, uint32_t y, int32_t acc)
{
    return __smlabb((int32_t)x, (int32_t)y, acc);
}

MF_RT_INLINE int32_t mf_smlatt(uint32_t x, uint32_t y, int32_t acc)
{
    return __smlatt((int32_t)x, (int32_t)y, acc);
}
#endif

/* What every position of a layer shares. */
typedef struct {
    const mf_rt_geom *g;
    const int8_t *in, *w;
    const mf_rt_requant *rq;
    const int32_t *start; /* per channel: bias (+ the rounding constant when fast) */
    const uint32_t *pk;   /* per quad and tap: lanes (c, c+2) and (c+1, c+3) of the weights */
    int fast, quads, mult, K;
} dw_layer;

/* One tap of a quad: the input word of channels c..c+3 at x, its two weight words at w. */
#define DW_TAP(x, w)                                                                               \
    do {                                                                                           \
        const uint32_t v_ = mf_ld32(x), e_ = mf_sxtb16(v_), d_ = mf_sxtb16_ror8(v_);               \
        const uint32_t we_ = (w)[0], wd_ = (w)[1];                                                 \
        a0 = mf_smlabb(e_, we_, a0);                                                               \
        a2 = mf_smlatt(e_, we_, a2);                                                               \
        a1 = mf_smlabb(d_, wd_, a1);                                                               \
        a3 = mf_smlatt(d_, wd_, a3);                                                               \
    } while (0)

MF_RT_INLINE int8_t dw_rq(int32_t a, int s, int fast, int relu, int rounding)
{
    if (fast) return (int8_t)(relu ? mf_usat7(a >> s) : mf_ssat8(a >> s));
    return mf_rt_requant_s32(a, s, relu, rounding);
}

/* The sums of one quad over `rows` ≥ 1 rows of `cols` ≥ 1 taps inside the input: x the first
 * tap's input word (channels c..c+3), w its two weight words (a row's taps 2 words apart, the
 * next row's first `wskip` bytes past the word after the last tap's), `row` bytes between input
 * rows, acc[4] in and out. The field offsets (0 to 28) are the assembly's. */
typedef struct {
    const int8_t *x;
    const uint32_t *w;
    int cin, rows, row, wskip;
    int32_t *acc;
    int cols;
} dw_rows_job;

/* Any number of columns, in C: the host's model of the assembly below, and on the M4 the rows of
 * 1 or of more than 3 taps. */
MF_RT_NOINLINE void dw_rows_c(const dw_rows_job *j)
{
    int32_t a0 = j->acc[0], a1 = j->acc[1], a2 = j->acc[2], a3 = j->acc[3];
    const int8_t *x = j->x;
    const uint32_t *w = j->w;
    const int cin = j->cin, cols = j->cols, skip = j->wskip / 4;
    for (int r = 0; r < j->rows; r++, x += j->row, w += skip) {
        const int8_t *xt = x;
        for (int k = 0; k < cols; k++, xt += cin, w += 2)
            DW_TAP(xt, w);
    }
    j->acc[0] = a0, j->acc[1] = a1, j->acc[2] = a2, j->acc[3] = a3;
}

#if defined(MF_RT_EMULATE_DSP)
#define dw_rows(j) dw_rows_c(j)
#else
/* Rows of 3 and of 2 taps in assembly (3×3 kernels inside the input and at its left and right
 * edges): per tap one LDR of the input word (unaligned allowed), one LDRD of its weights, two
 * SXTB16 and four SMLAxy into the 4 accumulators (r4-r7), 8 instructions for 4 MACs, and 4 per
 * row; every register in use (the acc pointer waits on the stack). */
#define DW_TAP_ASM(addr)                                                                           \
    "ldr r8, " addr "\n\t"                                                                         \
    "ldrd r10, r11, [r1], #8\n\t"                                                                  \
    "sxtb16 r9, r8, ror #8\n\t"                                                                    \
    "sxtb16 r8, r8\n\t"                                                                            \
    "smlabb r4, r8, r10, r4\n\t"                                                                   \
    "smlatt r6, r8, r10, r6\n\t"                                                                   \
    "smlabb r5, r9, r11, r5\n\t"                                                                   \
    "smlatt r7, r9, r11, r7\n\t"
#define DW_ROWS_ASM(taps)                                                                          \
    __asm__ volatile("push {r4-r11, lr}\n\t"                                                       \
                     "ldr r12, [r0, #24]\n\t" /* acc */                                            \
                     "sub sp, sp, #8\n\t"                                                          \
                     "str r12, [sp]\n\t"                                                           \
                     "ldm r12, {r4-r7}\n\t"                                                        \
                     "ldrd r12, lr, [r0, #16]\n\t" /* row, wskip */                                \
                     "ldrd r2, r3, [r0, #8]\n\t"   /* cin, rows */                                 \
                     "ldrd r0, r1, [r0]\n\t"       /* x, w */                                      \
                     "0:\n\t" taps "add r0, r0, r12\n\t"                                           \
                     "add r1, r1, lr\n\t"                                                          \
                     "subs r3, r3, #1\n\t"                                                         \
                     "bne 0b\n\t"                                                                  \
                     "ldr r12, [sp]\n\t"                                                           \
                     "stm r12, {r4-r7}\n\t"                                                        \
                     "add sp, sp, #8\n\t"                                                          \
                     "pop {r4-r11, pc}\n\t")

__attribute__((naked, noinline)) static void dw_rows3(MF_RT_UNUSED const dw_rows_job *j)
{
    DW_ROWS_ASM(DW_TAP_ASM("[r0]") DW_TAP_ASM("[r0, r2]") DW_TAP_ASM("[r0, r2, lsl #1]"));
}

__attribute__((naked, noinline)) static void dw_rows2(MF_RT_UNUSED const dw_rows_job *j)
{
    DW_ROWS_ASM(DW_TAP_ASM("[r0]") DW_TAP_ASM("[r0, r2]"));
}

MF_RT_INLINE void dw_rows(const dw_rows_job *j)
{
    if (j->cols == 3)
        dw_rows3(j);
    else if (j->cols == 2)
        dw_rows2(j);
    else
        dw_rows_c(j);
}
#endif

/* The quads of one output position whose window has `rows` ≥ 1 rows of `cols` ≥ 1 taps inside
 * the input: x the first tap's input word of channels 0..3, w its weights (rows kw taps apart,
 * quads 2K words apart). */
typedef struct {
    const int8_t *x;
    const uint32_t *w;
    ptrdiff_t row;
    int cin, kw, K, rows, cols, quads;
    const int32_t *start;
    const mf_rt_requant *rq;
    int fast;
    int8_t *o;
} dw_quads_job;

/* Every quad of the position: its taps (dw_rows), then its 4 requantizations, the
 * requantization's fields in locals (the int8 stores could alias anything). */
MF_RT_NOINLINE void dw_quads(const dw_quads_job *j)
{
    const int fast = j->fast, relu = j->rq->relu, rounding = j->rq->rounding, shift = j->rq->shift;
    const int8_t *shifts = j->rq->shifts;
    const int32_t *start = j->start;
    const int wquad = 2 * j->K;
    int8_t *o = j->o;
    int32_t a[4];
    dw_rows_job r = {j->x, j->w, j->cin, j->rows, (int)j->row, 8 * (j->kw - j->cols), a, j->cols};
    for (int q = 0; q < j->quads; q++, r.x += 4, r.w += wquad, start += 4, o += 4) {
        a[0] = start[0], a[1] = start[1], a[2] = start[2], a[3] = start[3];
        dw_rows(&r);
        if (fast && !shifts) { /* one shift: the usual case */
            if (relu)
                o[0] = (int8_t)mf_usat7(a[0] >> shift), o[1] = (int8_t)mf_usat7(a[1] >> shift),
                o[2] = (int8_t)mf_usat7(a[2] >> shift), o[3] = (int8_t)mf_usat7(a[3] >> shift);
            else
                o[0] = (int8_t)mf_ssat8(a[0] >> shift), o[1] = (int8_t)mf_ssat8(a[1] >> shift),
                o[2] = (int8_t)mf_ssat8(a[2] >> shift), o[3] = (int8_t)mf_ssat8(a[3] >> shift);
            continue;
        }
        const int c = 4 * q;
        for (int e = 0; e < 4; e++)
            o[e] = dw_rq(a[e], shifts ? shifts[c + e] : shift, fast, relu, rounding);
    }
}

/* Output position (oy, ox): its quads, then its other channels (one at a time). */
MF_RT_NOINLINE void dw_position(const dw_layer *L, int oy, int ox, int8_t *o)
{
    const mf_rt_geom *g = L->g;
    const int iy = oy * g->sh - g->pad_top, ix = ox * g->sw - g->pad_left;
    const int ky0 = iy < 0 ? -iy : 0, kx0 = ix < 0 ? -ix : 0;
    const int kx1 = g->w - ix < g->kw ? g->w - ix : g->kw;
    const int ky1 = g->h - iy < g->kh ? g->h - iy : g->kh;
    const int cin = g->cin, kw = g->kw, K = L->K, cout = g->cout;
    const mf_rt_requant *rq = L->rq;
    const ptrdiff_t row = (ptrdiff_t)g->w * cin;
    /* the first tap inside the input, (ky0, kx0); an empty window (all padding) reads nothing */
    const int rows = ky1 - ky0, cols = kx1 - kx0, empty = rows <= 0 || cols <= 0;
    const int8_t *first =
        empty ? L->in : L->in + (ptrdiff_t)(iy + ky0) * row + (ptrdiff_t)(ix + kx0) * cin;
    int c = 0;
    if (!empty && L->quads > 0) {
        const dw_quads_job j = {first,    L->pk + 2 * (ky0 * kw + kx0),
                                row,      cin,
                                kw,       K,
                                rows,     cols,
                                L->quads, L->start,
                                rq,       L->fast,
                                o};
        dw_quads(&j);
        c = 4 * L->quads;
    }
    for (; c < cout; c++) {
        int32_t a = L->start[c];
        if (!empty) {
            const int8_t *xr = first + c / L->mult;
            const int8_t *wc = L->w + (size_t)c * K + ky0 * kw + kx0;
            for (int r = 0; r < rows; r++, xr += row, wc += kw) {
                const int8_t *x = xr, *wk = wc;
                for (int k = 0; k < cols; k++, x += cin)
                    a += (int32_t)*x * *wk++;
            }
        }
        o[c] = dw_rq(a, rq->shifts ? rq->shifts[c] : rq->shift, L->fast, rq->relu, rq->rounding);
    }
}

MF_RT_OUTLINE void mf_rt_dwconv_s8_opt(const mf_rt_geom *g, const int8_t *in, const int8_t *w,
                                       const int32_t *bias, const mf_rt_requant *rq, int8_t *out,
                                       void *scratch)
{
    if (g->cin < 1 || g->cout < g->cin) return;
    dw_layer L;
    L.g = g, L.in = in, L.w = w, L.rq = rq;
    L.K = g->kh * g->kw;
    L.mult = g->cout / g->cin;
    L.quads = L.mult == 1 ? g->cout / 4 : 0;
    int32_t *start = scratch;
    uint32_t *pk = (uint32_t *)(start + g->cout);
    L.fast = mf_rt_init_s8(bias, rq, L.K, g->cout, start, 1);
    for (int q = 0; q < L.quads; q++) /* [cout][K] → per quad and tap (c, c+2), (c+1, c+3) */
        for (int t = 0; t < L.K; t++) {
            const int8_t *wc = w + (size_t)4 * q * L.K + t;
            uint32_t *d = pk + (size_t)2 * (q * L.K + t);
            d[0] = ((uint32_t)(uint16_t)(int16_t)wc[0]) |
                   ((uint32_t)(uint16_t)(int16_t)wc[2 * L.K] << 16);
            d[1] = ((uint32_t)(uint16_t)(int16_t)wc[L.K]) |
                   ((uint32_t)(uint16_t)(int16_t)wc[3 * L.K] << 16);
        }
    L.start = start, L.pk = pk;
    for (int oy = 0; oy < g->oh; oy++)
        for (int ox = 0; ox < g->ow; ox++)
            dw_position(&L, oy, ox, out + ((size_t)oy * g->ow + ox) * g->cout);
}

#endif /* MF_RT_OPT_INT */
