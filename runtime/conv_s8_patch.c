/* int8 convolution and fused convolution + max pool for layers of 1 or 3 output channels
 * (mf_rt_conv_patch<shape>_s8, _maxpool_s8): the optimized path (see mf_rt_dsp.h for when it
 * is used). Bit-identical to conv.c's references. The lowering calls them where
 * mf_rt_conv_s8_choose (mf_rt_conv_patch_s8_chosen) says they beat the other kernels: three
 * fixed 2D shapes, 1 → 3 k3 (3x3o3: 3 kernel rows of 3 values, 3 channels), 3 → 3 k1 (1x3o3),
 * 1 → 1 k5 (5x5o1), where the small-geometry kernels pay their per-row loop and edge handling
 * for 3 or 5 values and the quad engine its per-quad cost for 1-3 channels; and go3, any other
 * 1D or 2D layer of 3 channels with kernel rows of at most MF_RT_CONV_PATCH_GO3_GROUPS words,
 * whose row of positions runs in assembly (further below; it always reads the padded copy or
 * the input in place, never the stack field). One entry point per
 * shape, each with its loop of its own and the generic loop of its channel count (for the
 * requantizations the fixed loop does not take), so a firmware links only the shapes it calls
 * (one shape: 2.5-3.5 KB with the shared setup; all seven loops behind one dispatcher were
 * 9.5 KB).
 *
 * Every output channel of a position from one pass over its field: each kernel row of
 * n = kw·cin values is read as ⌈n/4⌉ words in place, each split once by SXTB16 / SXTB16 ROR #8
 * into the pairs (v0, v2), (v1, v3), and every channel's accumulator takes one SMLAD per pair
 * against its weights split the same way (values past n meet zero weights, so the bytes read
 * past a kernel row never count). The weights are split once per call into scratch, the
 * channels of a pair side by side, so a pass reads them in order. Zero padding: the input is
 * copied once per call into scratch with its border of zeros (and 4 zero bytes past its end for
 * the word reads of the last row), so every position reads its field in place with the same
 * code; a geometry without padding reads the input itself, and the few positions whose word
 * reads would pass the input's end copy their field to the stack first.
 *
 * Requantization: when every channel passes the bound of mf_rt_init_s8 (the usual case), the
 * accumulator starts at bias + 2^(s−1) and ends with one shift and SSAT #8 (USAT #7 with ReLU);
 * otherwise it starts at the bias and ends in the reference's mf_rt_requant_s32. Fused max pool
 * (any window and stride): the window's taps are computed one after the other and each channel
 * keeps its largest sum, requantized once: requantization is monotonic (shift, rounding,
 * saturation and ReLU never reverse an order), so this is the maximum the reference takes.
 * `out` must not alias `in`.
 * Working memory: the caller's scratch of mf_rt_conv_patch_s8_scratch_bytes() (the split
 * weights and starts; the padded copy of the input when the geometry pads); the stack holds a
 * field of at most MF_RT_CONV_PATCH_BYTES bytes. */
#include "mf_rt_dsp.h"

#if defined(MF_RT_OPT_INT)

/* What every position of a layer shares. */
typedef struct {
    const int8_t *src;  /* the field of position (0, 0): in the input or its padded copy */
    const int8_t *end;  /* reads at or past it: the field goes through the stack */
    ptrdiff_t row;      /* bytes from one input row to the next */
    ptrdiff_t dy, dx;   /* bytes from one conv position to the next, down and across */
    const uint32_t *wp; /* per pair of the field, every channel's weight pair */
    const int32_t *start;
    const int8_t *shifts;
    int shift, fast, relu, rounding;
    int kh, groups, n; /* kernel rows, words per kernel row, values per kernel row */
} pt_layer;

/* One word u of a field (4 values) into the sums of C channels (C a constant): its even and
 * odd values as 16-bit lanes, each against the channels' weight pairs k[0..C-1], k[C..2C-1]. */
MF_RT_INLINE void pt_mac_word(uint32_t u, const uint32_t *k, int C, int32_t *a0, int32_t *a1,
                              int32_t *a2, int32_t *a3)
{
    const uint32_t lo = mf_sxtb16(u), hi = mf_sxtb16_ror8(u);
    *a0 = mf_smlad(lo, k[0], *a0);
    if (C > 1) *a1 = mf_smlad(lo, k[1], *a1);
    if (C > 2) *a2 = mf_smlad(lo, k[2], *a2);
    if (C > 3) *a3 = mf_smlad(lo, k[3], *a3);
    *a0 = mf_smlad(hi, k[C], *a0);
    if (C > 1) *a1 = mf_smlad(hi, k[C + 1], *a1);
    if (C > 2) *a2 = mf_smlad(hi, k[C + 2], *a2);
    if (C > 3) *a3 = mf_smlad(hi, k[C + 3], *a3);
}

/* The sums of C channels (C a constant) over the field at p, rows `row` bytes apart, kh rows of
 * `groups` words, from the channels' starts st; weights w. */
MF_RT_INLINE void pt_sums(const int8_t *p, ptrdiff_t row, int kh, int groups, const uint32_t *w,
                          const int32_t *st, int32_t *acc, int C)
{
    int32_t a0 = st[0], a1 = C > 1 ? st[1] : 0, a2 = C > 2 ? st[2] : 0, a3 = C > 3 ? st[3] : 0;
    for (int r = kh; r > 0; r--, p += row) {
        const int8_t *q = p;
        for (int i = groups; i > 0; i--, q += 4, w += 2 * C) {
            pt_mac_word(mf_ld32(q), w, C, &a0, &a1, &a2, &a3);
        }
    }
    acc[0] = a0;
    if (C > 1) acc[1] = a1;
    if (C > 2) acc[2] = a2;
    if (C > 3) acc[3] = a3;
}

/* The field at p, or its copy in buf (the kernel rows' n values, zeros after them) when its word
 * reads would pass L->end; *row: the rows' distance. */
MF_RT_INLINE const int8_t *pt_field(const pt_layer *L, const int8_t *p, const int8_t *lim,
                                    int8_t *buf, ptrdiff_t *row)
{
    *row = L->row;
    if (p <= lim) return p;
    const int bytes = 4 * L->groups;
    for (int r = 0; r < L->kh; r++)
        for (int i = 0; i < bytes; i++)
            buf[r * bytes + i] = i < L->n ? p[r * L->row + i] : 0;
    *row = bytes;
    return buf;
}

/* C requantized outputs of the sums a. */
MF_RT_INLINE void pt_store(const pt_layer *L, const int32_t *a, int8_t *out, int C)
{
    for (int c = 0; c < C; c++) {
        const int s = L->shifts ? L->shifts[c] : L->shift;
        if (L->fast)
            out[c] = (int8_t)(L->relu ? mf_usat7(a[c] >> s) : mf_ssat8(a[c] >> s));
        else
            out[c] = mf_rt_requant_s32(a[c], s, L->relu, L->rounding);
    }
}

/* Every pool window (plain conv: pkh = pkw = 1) for C channels: the window's taps one after the
 * other, each channel's largest sum, one requantization. */
MF_RT_INLINE void pt_windows(const pt_layer *L, int poh, int pow, int pkh, int pkw, int psh,
                             int psw, int8_t *out, int C)
{
    /* a field whose word reads would pass L->end: only the fixed shapes' small fields; go3's
     * never come here (its word reads stay inside the padded copy, or inside the input when it
     * reads it in place: no padding and rows of whole words, so p ≤ lim) */
    int8_t buf[MF_RT_CONV_PATCH_BYTES];
    const int kh = L->kh, groups = L->groups;
    const uint32_t *w = L->wp;
    const int32_t *st = L->start;
    const ptrdiff_t dx = L->dx, dy = L->dy, wdx = psw * dx;
    const int8_t *lim = L->end - ((ptrdiff_t)(kh - 1) * L->row + 4 * groups);
    int32_t acc[4], m[4];
    if (pkh == 1 && pkw == 1) { /* plain: position after position */
        for (int py = 0; py < poh; py++) {
            const int8_t *p = L->src + (ptrdiff_t)py * psh * dy;
            for (int8_t *e = out + (ptrdiff_t)pow * C; out != e; out += C, p += wdx) {
                ptrdiff_t row;
                const int8_t *f = pt_field(L, p, lim, buf, &row);
                pt_sums(f, row, kh, groups, w, st, acc, C);
                pt_store(L, acc, out, C);
            }
        }
        return;
    }
    for (int py = 0; py < poh; py++)
        for (int px = 0; px < pow; px++, out += C) {
            for (int c = 0; c < C; c++)
                m[c] = INT32_MIN;
            for (int wy = 0; wy < pkh; wy++) {
                const int8_t *p = L->src + (ptrdiff_t)(py * psh + wy) * dy + px * wdx;
                for (int wx = 0; wx < pkw; wx++, p += dx) {
                    ptrdiff_t row;
                    const int8_t *f = pt_field(L, p, lim, buf, &row);
                    pt_sums(f, row, kh, groups, w, st, acc, C);
                    for (int c = 0; c < C; c++)
                        m[c] = acc[c] > m[c] ? acc[c] : m[c];
                }
            }
            pt_store(L, m, out, C);
        }
}

/* The sums of C channels over KH kernel rows of G words and T single values (T = 1: the row's
 * last value, n = 4·G + 1, one LDRSB and one MLA per channel instead of a word of 3 zeros). */
MF_RT_INLINE void pt_sums_fixed(const int8_t *f, ptrdiff_t row, const uint32_t *w, int32_t *a,
                                int C, int KH, int G, int T)
{
    /* scalars and unrolled loops: GCC keeps arrays indexed in loops in memory */
    int32_t a0 = a[0], a1 = C > 1 ? a[1] : 0, a2 = C > 2 ? a[2] : 0, a3 = C > 3 ? a[3] : 0;
#pragma GCC unroll 8
    for (int r = 0; r < KH; r++) {
        const uint32_t *k = w + r * (2 * G + T) * C;
#pragma GCC unroll 8
        for (int i = 0; i < G; i++, k += 2 * C) {
            pt_mac_word(mf_ld32(f + r * row + 4 * i), k, C, &a0, &a1, &a2, &a3);
        }
        if (T) { /* the row's last value: one product per channel (exact int32 sums, wrapping
                    as SMLAD would) */
            const int32_t v = f[r * row + 4 * G];
            a0 = mf_s32((uint32_t)a0 + (uint32_t)(v * mf_s32(k[0])));
            if (C > 1) a1 = mf_s32((uint32_t)a1 + (uint32_t)(v * mf_s32(k[1])));
            if (C > 2) a2 = mf_s32((uint32_t)a2 + (uint32_t)(v * mf_s32(k[2])));
            if (C > 3) a3 = mf_s32((uint32_t)a3 + (uint32_t)(v * mf_s32(k[3])));
        }
    }
    a[0] = a0;
    if (C > 1) a[1] = a1;
    if (C > 2) a[2] = a2;
    if (C > 3) a[3] = a3;
}

/* The fast requantization with every constant of the loop fixed (C channels, KH kernel rows of G
 * words): the sums unrolled into registers, the weights read in order, the shifts held. */
MF_RT_INLINE void pt_fixed(const pt_layer *L, int poh, int pow, int pkh, int pkw, int psh, int psw,
                           int8_t *out, int C, int KH, int G, int T)
{
    int8_t buf[MF_RT_CONV_PATCH_BYTES];
    const uint32_t *w = L->wp;
    const int32_t *st = L->start;
    const ptrdiff_t dx = L->dx, dy = L->dy, wdx = psw * dx;
    const int8_t *lim = L->end - ((ptrdiff_t)(KH - 1) * L->row + 4 * G + T);
    int sh[4];
    for (int c = 0; c < C; c++)
        sh[c] = L->shifts ? L->shifts[c] : L->shift;
    const int relu = L->relu;
    if (pkh == 1 && pkw == 1) { /* plain: position after position, no window maximum */
        for (int py = 0; py < poh; py++) {
            const int8_t *p = L->src + (ptrdiff_t)py * psh * dy;
            for (int8_t *e = out + (ptrdiff_t)pow * C; out != e; out += C, p += wdx) {
                ptrdiff_t row;
                const int8_t *f = pt_field(L, p, lim, buf, &row);
                int32_t a[4];
                for (int c = 0; c < C; c++)
                    a[c] = st[c];
                pt_sums_fixed(f, row, w, a, C, KH, G, T);
                for (int c = 0; c < C; c++)
                    out[c] = (int8_t)(relu ? mf_usat7(a[c] >> sh[c]) : mf_ssat8(a[c] >> sh[c]));
            }
        }
        return;
    }
    for (int py = 0; py < poh; py++)
        for (int px = 0; px < pow; px++, out += C) {
            int32_t m[4] = {INT32_MIN, INT32_MIN, INT32_MIN, INT32_MIN};
            for (int wy = 0; wy < pkh; wy++) {
                const int8_t *p = L->src + (ptrdiff_t)(py * psh + wy) * dy + px * wdx;
                for (int wx = 0; wx < pkw; wx++, p += dx) {
                    ptrdiff_t row;
                    const int8_t *f = pt_field(L, p, lim, buf, &row);
                    int32_t a[4];
                    for (int c = 0; c < C; c++)
                        a[c] = st[c];
                    pt_sums_fixed(f, row, w, a, C, KH, G, T);
                    for (int c = 0; c < C; c++)
                        m[c] = a[c] > m[c] ? a[c] : m[c];
                }
            }
            for (int c = 0; c < C; c++)
                out[c] = (int8_t)(relu ? mf_usat7(m[c] >> sh[c]) : mf_ssat8(m[c] >> sh[c]));
        }
}

/* One function per channel count of a shape (1 or 3): the channel loop unrolled, one stack field
 * each; the loop of requantizations the fixed loops do not take. */
#define WINDOWS(C)                                                                                 \
    MF_RT_NOINLINE void pt_windows_##C(const pt_layer *L, int poh, int pow, int pkh, int pkw,      \
                                       int psh, int psw, int8_t *out)                              \
    {                                                                                              \
        pt_windows(L, poh, pow, pkh, pkw, psh, psw, out, C);                                       \
    }
WINDOWS(1)
WINDOWS(3)

/* The shapes' loops of their own (C channels, KH rows of G words and T single values), one per
 * entry point's shape (mf_rt_conv_patch_s8_shape). */
#define FIXED(C, KH, G, T)                                                                         \
    MF_RT_NOINLINE void pt_fixed_##C##_##KH##_##G##_##T(                                           \
        const pt_layer *L, int poh, int pow, int pkh, int pkw, int psh, int psw, int8_t *out)      \
    {                                                                                              \
        pt_fixed(L, poh, pow, pkh, pkw, psh, psw, out, C, KH, G, T);                               \
    }
FIXED(3, 3, 1, 0)
FIXED(3, 1, 1, 0)
FIXED(1, 5, 1, 1)

/* go3, the generic shape of 3 channels: one run of positions of a row of outputs, fast
 * requantization only (the other requantizations take pt_windows_3). The frame of a run; its
 * order is the assembly's (one LDM, then the stack frame from `out` on, so one LDM from SP
 * loads the output pointer, the shifts, relu and the run's end). */
typedef struct {
    const int8_t *p;      /* the field of the run's first position */
    const uint32_t *wend; /* the end of the split weights: a field's pass ends there */
    int8_t *out;          /* the run's outputs, 3 bytes per position */
    int32_t sh[3], relu;  /* the channels' shifts, USAT #7 (1) or SSAT #8 (0) */
    int8_t *oend;         /* the run's end */
    const int32_t *start; /* the 3 starts and a spare word, the split weights after them */
    int32_t groups;       /* words per kernel row, 1 ... MF_RT_CONV_PATCH_GO3_GROUPS */
    int32_t skip;         /* bytes from a kernel row's last word to the next row */
    int32_t adv;          /* bytes from the field's last word to the next field */
} pt3_run;

#if defined(MF_RT_EMULATE_DSP)
MF_RT_NOINLINE void pt3_row(const pt3_run *R)
{
    const int8_t *p = R->p;
    for (int8_t *o = R->out; o != R->oend; o += 3) {
        int32_t a0 = R->start[0], a1 = R->start[1], a2 = R->start[2], a3 = 0;
        const uint32_t *w = (const uint32_t *)(R->start + 4);
        for (;;) {
            for (int i = R->groups; i > 0; i--, p += 4, w += 6)
                pt_mac_word(mf_ld32(p), w, 3, &a0, &a1, &a2, &a3);
            if (w == R->wend) break;
            p += R->skip;
        }
        p += R->adv;
        a0 >>= R->sh[0], a1 >>= R->sh[1], a2 >>= R->sh[2];
        o[0] = (int8_t)(R->relu ? mf_usat7(a0) : mf_ssat8(a0));
        o[1] = (int8_t)(R->relu ? mf_usat7(a1) : mf_ssat8(a1));
        o[2] = (int8_t)(R->relu ? mf_usat7(a2) : mf_ssat8(a2));
    }
}
#else
/* The same in assembly (naked: the inner step keeps 13 values live, GCC would spill). One word
 * of a kernel row (4 values): LDR, one LDM of the 6 weight pairs (3 channels × even/odd), 2
 * SXTB16 and 6 SMLAD, 12 MACs in 10 instructions, every step 40 bytes of 32-bit encodings. A
 * kernel row of G words is the last G of the MF_RT_CONV_PATCH_GO3_GROUPS unrolled steps, entered
 * by one LDR PC of the precomputed entry: no loop counter, no per-word branch. Registers: r0-r2
 * the sums, r3 the word, r4-r9 the weights, r10 the even values, r11 the field, r12 the weights'
 * pointer, lr their end; the rest of the run on the stack: [sp] out, shifts ×3, relu, oend,
 * starts, entry, skip, adv. */
#define PT3_STEP                                                                                   \
    "ldr.w r3, [r11], #4\n\t"                                                                      \
    "ldmia.w r12!, {r4-r9}\n\t"                                                                    \
    "sxtb16 r10, r3\n\t"                                                                           \
    "sxtb16 r3, r3, ror #8\n\t"                                                                    \
    "smlad r0, r10, r4, r0\n\t"                                                                    \
    "smlad r1, r10, r5, r1\n\t"                                                                    \
    "smlad r2, r10, r6, r2\n\t"                                                                    \
    "smlad r0, r3, r7, r0\n\t"                                                                     \
    "smlad r1, r3, r8, r1\n\t"                                                                     \
    "smlad r2, r3, r9, r2\n\t"
#define PT3_STR(x)  #x
#define PT3_XSTR(x) PT3_STR(x)
/* clang-format off */
__attribute__((naked, noinline)) static void pt3_row(MF_RT_UNUSED const pt3_run *R)
{
    __asm__ volatile("push {r4-r11, lr}\n\t"
                     "ldm r0, {r1-r12}\n\t"      /* p, wend, out, sh ×3, relu, oend, start, groups, skip, adv */
                     "adr.w r0, 3f\n\t"          /* entry: 40·groups bytes before the steps' end */
                     "sub r0, r0, r10, lsl #5\n\t"
                     "sub r0, r0, r10, lsl #3\n\t"
                     "orr r10, r0, #1\n\t"       /* Thumb */
                     "push {r3-r12}\n\t"
                     "mov r11, r1\n\t"
                     "mov lr, r2\n\t"
                     "1:\n\t"                    /* a position: the starts */
                     "ldr r12, [sp, #24]\n\t"
                     "ldmia r12!, {r0-r3}\n\t"
                     "ldr pc, [sp, #28]\n\t"     /* its first kernel row */
                     "2:\n\t"
                     ".rept " PT3_XSTR(MF_RT_CONV_PATCH_GO3_GROUPS) "\n\t"
                     PT3_STEP
                     ".endr\n\t"
                     "3:\n\t"
                     ".if (3b - 2b) != 40 * " PT3_XSTR(MF_RT_CONV_PATCH_GO3_GROUPS) "\n\t"
                     ".error \"pt3_row: a step is not 40 bytes\"\n\t"
                     ".endif\n\t"
                     "cmp r12, lr\n\t"           /* the field's last row done? */
                     "beq 4f\n\t"
                     "ldr r3, [sp, #32]\n\t"
                     "add r11, r11, r3\n\t"
                     "ldr pc, [sp, #28]\n\t"     /* the next kernel row */
                     "4:\n\t"
                     "ldr r3, [sp, #36]\n\t"     /* the next field */
                     "add r11, r11, r3\n\t"
                     "ldm sp, {r3-r8}\n\t"       /* out, shifts, relu, oend */
                     "asr r0, r0, r4\n\t"
                     "asr r1, r1, r5\n\t"
                     "asr r2, r2, r6\n\t"
                     "cbnz r7, 5f\n\t"
                     "ssat r0, #8, r0\n\t"
                     "ssat r1, #8, r1\n\t"
                     "ssat r2, #8, r2\n\t"
                     "b 6f\n\t"
                     "5:\n\t"
                     "usat r0, #7, r0\n\t"
                     "usat r1, #7, r1\n\t"
                     "usat r2, #7, r2\n\t"
                     "6:\n\t"
                     "strb r0, [r3], #1\n\t"
                     "strb r1, [r3], #1\n\t"
                     "strb r2, [r3], #1\n\t"
                     "str r3, [sp]\n\t"
                     "cmp r3, r8\n\t"
                     "bne 1b\n\t"
                     "add sp, sp, #40\n\t"
                     "pop {r4-r11, pc}\n\t");
}
/* clang-format on */
#endif

/* go3 with the fast requantization: the plain conv row by row of outputs, one run each; pooled,
 * each pool row from the conv rows of its window (their outputs in L->rows, the first row's
 * folded with the others' by SSUB8/SEL maxima), then each window's columns. Requantization is
 * monotonic, so the maximum of the requantized outputs is the requantized maximum the reference
 * takes. */
MF_RT_NOINLINE void pt_go3(const pt_layer *L, int ow, int poh, int pow, int pkh, int pkw, int psh,
                           int psw, int8_t *out)
{
    const int kh = L->kh;
    pt3_run R;
    R.wend = L->wp + (ptrdiff_t)6 * L->groups * kh;
    R.start = L->start, R.groups = L->groups;
    R.skip = (int32_t)(L->row - 4 * L->groups);
    for (int c = 0; c < 3; c++)
        R.sh[c] = L->shifts ? L->shifts[c] : L->shift;
    R.relu = L->relu;
    if (pkh == 1 && pkw == 1) { /* plain: each row of outputs one run */
        R.adv = (int32_t)(psw * L->dx - (kh - 1) * L->row - 4 * L->groups);
        for (int py = 0; py < poh; py++, out += 3 * (ptrdiff_t)pow) {
            R.p = L->src + (ptrdiff_t)py * psh * L->dy, R.out = out, R.oend = out + 3 * pow;
            pt3_row(&R);
        }
        return;
    }
    /* the conv columns the windows cover, every one */
    const int cols = (pow - 1) * psw + pkw;
    /* two rows of outputs after the split weights (pt_setup), each a word longer than its 3·ow
     * values for the word reads of the maxima */
    int8_t *m = (int8_t *)R.wend, *t = m + ((3 * (ptrdiff_t)ow + 4 + 3) & ~(ptrdiff_t)3);
    R.adv = (int32_t)(L->dx - (kh - 1) * L->row - 4 * L->groups);
    for (int py = 0; py < poh; py++, out += 3 * (ptrdiff_t)pow) {
        for (int wy = 0; wy < pkh; wy++) {
            R.p = L->src + (ptrdiff_t)(py * psh + wy) * L->dy;
            R.out = wy ? t : m, R.oend = R.out + 3 * cols;
            pt3_row(&R);
            if (wy)
                for (int i = 0; i < 3 * cols; i += 4)
                    mf_st32(m + i, mf_max_s8x4(mf_ld32(m + i), mf_ld32(t + i)));
        }
        for (int px = 0; px < pow; px++) {
            const int8_t *q = m + 3 * (ptrdiff_t)px * psw;
            uint32_t v = mf_ld32(q);
            for (int wx = 1; wx < pkw; wx++)
                v = mf_max_s8x4(v, mf_ld32(q + 3 * wx));
            int8_t *o = out + 3 * px;
            o[0] = (int8_t)v, o[1] = (int8_t)(v >> 8), o[2] = (int8_t)(v >> 16);
        }
    }
}

/* The padded copy of the input (rows [−pad_top, H' − pad_top), columns likewise, zeros outside
 * the input) and 4 zero bytes after it. Plain loops: a call of memset/memcpy would put its frame
 * on the stack bound. */
MF_RT_NOINLINE void pt_pad_copy(const mf_rt_geom *g, int hp, int wp, const int8_t *in, int8_t *dst)
{
    const int cin = g->cin;
    for (int r = 0; r < hp; r++) {
        const int iy = r - g->pad_top;
        for (int c = 0; c < wp; c++) {
            const int ix = c - g->pad_left;
            const int inside = iy >= 0 && iy < g->h && ix >= 0 && ix < g->w;
            const int8_t *s = in + ((ptrdiff_t)iy * g->w + ix) * cin;
            for (int i = 0; i < cin; i++)
                *dst++ = inside ? s[i] : 0;
        }
    }
    for (int i = 0; i < 4; i++)
        *dst++ = 0;
}

/* The same copy by words (go3, whose fields are long: the copy is paid once per byte of the
 * input): each padded row its zeros, the run of input columns inside it, its zeros. Unaligned
 * word accesses are fine on the M4 (LDR/STR, no LDM). */
MF_RT_INLINE void pt_zero_bytes(int8_t *d, ptrdiff_t n)
{
    for (; n >= 4; n -= 4, d += 4)
        mf_st32(d, 0);
    for (; n > 0; n--)
        *d++ = 0;
}

__attribute__((optimize("no-tree-loop-distribute-patterns"))) MF_RT_NOINLINE void
pt_pad_copy_words(const mf_rt_geom *g, int hp, int wp, const int8_t *in, int8_t *dst)
{
    const ptrdiff_t cin = g->cin, row = (ptrdiff_t)wp * cin;
    const int x0 = g->pad_left < wp ? g->pad_left : wp;
    const int x1 = g->pad_left + g->w < wp ? g->pad_left + g->w : wp; /* input columns [x0, x1) */
    for (int r = 0; r < hp; r++, dst += row) {
        const int iy = r - g->pad_top;
        if (iy < 0 || iy >= g->h || x1 <= x0) {
            pt_zero_bytes(dst, row);
            continue;
        }
        pt_zero_bytes(dst, x0 * cin);
        const int8_t *s = in + (ptrdiff_t)iy * g->w * cin;
        int8_t *d = dst + x0 * cin;
        ptrdiff_t n = (x1 - x0) * cin;
        for (; n >= 8; n -= 8, s += 8, d += 8) {
            const uint32_t u = mf_ld32(s), v = mf_ld32(s + 4);
            mf_st32(d, u), mf_st32(d + 4, v);
        }
        for (; n > 0; n--)
            *d++ = *s++;
        pt_zero_bytes(d, row - x1 * cin);
    }
    pt_zero_bytes(dst, 4);
}

/* go3's weights split as pt_setup's, by words: SXTB16 and SXTB16 ROR #8 of a word of 4 weights
 * are its two pairs, a row's last partial word assembled by bytes with zeros after its values
 * (no read past the weights). Long rows: the split is paid once per call for every weight. */
MF_RT_NOINLINE void pt_split_go3(const mf_rt_geom *g, const int8_t *w, uint32_t *wp)
{
    const int n = g->kw * g->cin, groups = (n + 3) / 4, full = n / 4;
    const ptrdiff_t K = (ptrdiff_t)g->kh * n;
    for (int c = 0; c < 3; c++)
        for (int r = 0; r < g->kh; r++) {
            const int8_t *k = w + c * K + (ptrdiff_t)r * n;
            uint32_t *d = wp + (ptrdiff_t)r * 2 * groups * 3 + c;
            for (int i = 0; i < full; i++, d += 6) {
                const uint32_t u = mf_ld32(k + 4 * i);
                d[0] = mf_sxtb16(u), d[3] = mf_sxtb16_ror8(u);
            }
            if (full < groups) {
                uint32_t u = 0;
                for (int j = 4 * full; j < n; j++)
                    u |= (uint32_t)(uint8_t)k[j] << (8 * (j - 4 * full));
                d[0] = mf_sxtb16(u), d[3] = mf_sxtb16_ror8(u);
            }
        }
}

/* What every entry point shares: checks the geometry is of `shape` and the pool window fits,
 * splits the weights into scratch, copies the input with its zero border when the layer pads,
 * fills *L and the pooled output size; 0: nothing to do (the call writes nothing). go3 (a
 * constant): go3's setup, in a function of its own so the fixed shapes' stays as it was. */
MF_RT_INLINE int pt_setup_shape(pt_layer *L, const mf_rt_geom *g, int shape, int pkh, int pkw,
                                int psh, int psw, const int8_t *in, const int8_t *w,
                                const int32_t *bias, const mf_rt_requant *rq, void *scratch,
                                int *poh, int *pow, int go3)
{
    if (mf_rt_conv_patch_s8_shape(g) != shape || g->oh < pkh || g->ow < pkw || pkh < 1 || pkw < 1 ||
        psh < 1 || psw < 1)
        return 0;
    const int cout = g->cout, cin = g->cin, n = g->kw * cin, groups = (n + 3) / 4;
    const int pairs = 2 * groups * g->kh, K = g->kh * n;
    int32_t *start = scratch;
    uint32_t *wp = (uint32_t *)scratch + 4;
    L->fast = mf_rt_init_s8(bias, rq, K, cout, start, 1);
    if (rq->relu != 0 && rq->relu != 1) { /* the fast path knows a plain ReLU or none */
        L->fast = 0;
        for (int c = 0; c < cout; c++)
            start[c] = bias ? bias[c] : 0;
    }
    /* the fixed loop of 1 → 1 k5 reads each row's fifth value alone (pt_sums_fixed, T = 1) */
    const int single = L->fast && shape == MF_RT_CONV_PATCH_5X5O1;
    /* weights: pair j of kernel row r and word i: (v0, v2) or (v1, v3) of the word, channels
     * side by side; values past n are zero */
    if (go3)
        pt_split_go3(g, w, wp);
    else
        for (int c = 0; c < cout; c++)
            for (int r = 0; r < g->kh; r++) {
                const int8_t *k = w + (ptrdiff_t)c * K + r * n;
                for (int i = 0; i < groups - single; i++)
                    for (int h = 0; h < 2; h++) {
                        const int j0 = 4 * i + h, j1 = j0 + 2;
                        const int32_t lo = j0 < n ? k[j0] : 0, hi = j1 < n ? k[j1] : 0;
                        wp[(r * (2 * groups - single) + 2 * i + h) * cout + c] =
                            ((uint32_t)lo & 0xFFFFu) | (uint32_t)hi << 16;
                    }
                if (single) /* the row's last value as a word */
                    wp[(r * (2 * groups - 1) + 2 * (groups - 1)) * cout + c] = (uint32_t)k[n - 1];
            }
    L->wp = wp, L->start = start, L->shifts = rq->shifts, L->shift = rq->shift, L->relu = rq->relu;
    L->rounding = rq->rounding, L->kh = g->kh, L->groups = groups, L->n = n;
    const int hp = (g->oh - 1) * g->sh + g->kh, wpx = (g->ow - 1) * g->sw + g->kw;
    if (g->pad_top > 0 || g->pad_left > 0 || hp - g->pad_top > g->h || wpx - g->pad_left > g->w ||
        (go3 && n % 4 != 0)) {
        int8_t *copy = (int8_t *)(wp + (size_t)pairs * cout);
        /* go3: after the pool's rows (pt_go3); it reads every field in place with no stack
         * copy, so a row whose values end inside a word reads from the copy, whose 4 zero bytes
         * cover the last word */
        if (go3) {
            copy += 2 * ((3 * (ptrdiff_t)g->ow + 4 + 3) & ~(ptrdiff_t)3);
            pt_pad_copy_words(g, hp, wpx, in, copy);
        } else {
            pt_pad_copy(g, hp, wpx, in, copy);
        }
        L->src = copy, L->row = (ptrdiff_t)wpx * cin, L->end = copy + (ptrdiff_t)hp * L->row + 4;
    } else {
        L->src = in, L->row = (ptrdiff_t)g->w * cin, L->end = in + (ptrdiff_t)g->h * L->row;
    }
    L->dy = g->sh * L->row, L->dx = (ptrdiff_t)g->sw * cin;
    *poh = (g->oh - pkh) / psh + 1, *pow = (g->ow - pkw) / psw + 1;
    return 1;
}

MF_RT_NOINLINE int pt_setup(pt_layer *L, const mf_rt_geom *g, int shape, int pkh, int pkw, int psh,
                            int psw, const int8_t *in, const int8_t *w, const int32_t *bias,
                            const mf_rt_requant *rq, void *scratch, int *poh, int *pow)
{
    return pt_setup_shape(L, g, shape, pkh, pkw, psh, psw, in, w, bias, rq, scratch, poh, pow, 0);
}

MF_RT_NOINLINE int pt_setup_go3(pt_layer *L, const mf_rt_geom *g, int pkh, int pkw, int psh,
                                int psw, const int8_t *in, const int8_t *w, const int32_t *bias,
                                const mf_rt_requant *rq, void *scratch, int *poh, int *pow)
{
    return pt_setup_shape(L, g, MF_RT_CONV_PATCH_GO3, pkh, pkw, psh, psw, in, w, bias, rq, scratch,
                          poh, pow, 1);
}

/* One entry point's run, `shape` a constant: after inlining only its fixed loop and the generic
 * loop of its channel count are referenced, so a firmware links only those. Direct calls: the
 * firmware's stack bound (deploy) refuses a call through a pointer. */
MF_RT_INLINE void pt_run(const mf_rt_geom *g, int shape, int pkh, int pkw, int psh, int psw,
                         const int8_t *in, const int8_t *w, const int32_t *bias,
                         const mf_rt_requant *rq, int8_t *out, void *scratch)
{
    pt_layer L;
    int poh, pow;
    if (shape == MF_RT_CONV_PATCH_GO3
            ? !pt_setup_go3(&L, g, pkh, pkw, psh, psw, in, w, bias, rq, scratch, &poh, &pow)
            : !pt_setup(&L, g, shape, pkh, pkw, psh, psw, in, w, bias, rq, scratch, &poh, &pow))
        return;
    if (shape == MF_RT_CONV_PATCH_3X3O3) {
        if (L.fast)
            pt_fixed_3_3_1_0(&L, poh, pow, pkh, pkw, psh, psw, out);
        else
            pt_windows_3(&L, poh, pow, pkh, pkw, psh, psw, out);
    } else if (shape == MF_RT_CONV_PATCH_1X3O3) {
        if (L.fast)
            pt_fixed_3_1_1_0(&L, poh, pow, pkh, pkw, psh, psw, out);
        else
            pt_windows_3(&L, poh, pow, pkh, pkw, psh, psw, out);
    } else if (shape == MF_RT_CONV_PATCH_5X5O1) {
        if (L.fast)
            pt_fixed_1_5_1_1(&L, poh, pow, pkh, pkw, psh, psw, out);
        else
            pt_windows_1(&L, poh, pow, pkh, pkw, psh, psw, out);
    } else {
        if (L.fast)
            pt_go3(&L, g->ow, poh, pow, pkh, pkw, psh, psw, out);
        else
            pt_windows_3(&L, poh, pow, pkh, pkw, psh, psw, out);
    }
}

/* The entry points, one per shape, plain and pooled, written out one by one (deploy finds a
 * kernel's file by its definition, deploy/runtime_files.c). */

MF_RT_OUTLINE void mf_rt_conv_patch3x3o3_s8_opt(MF_RT_CONV_S8_PARAMS)
{
    pt_run(g, MF_RT_CONV_PATCH_3X3O3, 1, 1, 1, 1, in, w, bias, rq, out, scratch);
}

MF_RT_OUTLINE void mf_rt_conv_patch3x3o3_maxpool_s8_opt(MF_RT_CONV_MAXPOOL_S8_PARAMS)
{
    pt_run(conv, MF_RT_CONV_PATCH_3X3O3, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, rq, out,
           scratch);
}

MF_RT_OUTLINE void mf_rt_conv_patch1x3o3_s8_opt(MF_RT_CONV_S8_PARAMS)
{
    pt_run(g, MF_RT_CONV_PATCH_1X3O3, 1, 1, 1, 1, in, w, bias, rq, out, scratch);
}

MF_RT_OUTLINE void mf_rt_conv_patch1x3o3_maxpool_s8_opt(MF_RT_CONV_MAXPOOL_S8_PARAMS)
{
    pt_run(conv, MF_RT_CONV_PATCH_1X3O3, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, rq, out,
           scratch);
}

MF_RT_OUTLINE void mf_rt_conv_patch5x5o1_s8_opt(MF_RT_CONV_S8_PARAMS)
{
    pt_run(g, MF_RT_CONV_PATCH_5X5O1, 1, 1, 1, 1, in, w, bias, rq, out, scratch);
}

MF_RT_OUTLINE void mf_rt_conv_patch5x5o1_maxpool_s8_opt(MF_RT_CONV_MAXPOOL_S8_PARAMS)
{
    pt_run(conv, MF_RT_CONV_PATCH_5X5O1, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, rq, out,
           scratch);
}

MF_RT_OUTLINE void mf_rt_conv_patchgo3_s8_opt(MF_RT_CONV_S8_PARAMS)
{
    pt_run(g, MF_RT_CONV_PATCH_GO3, 1, 1, 1, 1, in, w, bias, rq, out, scratch);
}

MF_RT_OUTLINE void mf_rt_conv_patchgo3_maxpool_s8_opt(MF_RT_CONV_MAXPOOL_S8_PARAMS)
{
    pt_run(conv, MF_RT_CONV_PATCH_GO3, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, rq, out,
           scratch);
}

#endif /* MF_RT_OPT_INT */
