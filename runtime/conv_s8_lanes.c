/* int8 convolution and fused convolution + max pool for the layers of one output channel whose
 * input channels come in multiples of 8 (mf_rt_conv_lanes_s8, _maxpool_s8): the optimized path
 * (see mf_rt_dsp.h for when it is used). Bit-identical to conv.c's references. The lowering calls
 * them where mf_rt_conv_s8_choose (mf_rt_conv_lanes_s8_chosen) says they beat the other kernels.
 *
 * With one output channel no channel shares the split of a field's values into 16-bit lanes, so
 * the other kernels split each value once per use (kh·kw times at stride 1). Here the input is
 * split once per call: every 4 values (v0, v1, v2, v3) become the two words SXTB16 = (v0, v2)
 * and SXTB16 ROR #8 = (v1, v3), and the weights once likewise; a position's sum is then one SMLAD
 * per lane word against its weight word, 8 values in LDM 4 lane words + LDM 4 weight words + 4
 * SMLAD (ln_run, inline assembly on the M4, the steps unrolled 16 deep and entered past the ones a
 * field does not have through a TBB table). Twelve copies of the loop (SSAT, USAT or sums; one or
 * two taps; one pass or several), about 8 KB of the kernel's 10.6 KB, each picked per run.
 *
 * Layout: the split input lives in a band of kh padded input rows, column after column, each
 * column holding its kh rows' pixels one after the other (slot s: the padded row y with
 * y mod kh = s), so a position's field (kw columns of kh pixels) is one run of kh·kw·cin / 2 lane
 * words and the next position's is sw columns on (cin a multiple of 8 keeps every pixel's values
 * whole groups of 4). Moving down an output row refills only the slots of the rows it enters
 * (each input row is split once at stride ≤ kh); the field's rows then sit in the slots in a
 * rotated order, so the weights are split kh times, once per rotation. The zero padding is in
 * the band: columns left and right of the input are zeroed once, rows above and below the input
 * are zero slots.
 *
 * Requantization: when the bound of mf_rt_init_s8 holds (the usual case) the sum starts at
 * bias + 2^(s−1) and ends with one shift and SSAT #8 (USAT #7 with ReLU), inside the loop;
 * otherwise the loop stores sums and the reference's mf_rt_requant_s32 ends them. Fused max pool
 * (any window and stride): a window 2 columns wide at stride 2 takes the larger of its two
 * positions inside the loop (two copies of the steps, no flag), other windows reduce the stored
 * sums of each conv row; each pooled output keeps the largest of its taps, requantized once:
 * requantization is monotonic (shift, rounding, saturation and ReLU never reverse an order), so
 * this is the maximum the reference takes. `out` must not alias `in`. Working memory: the caller's
 * scratch of mf_rt_conv_lanes_s8_scratch_bytes() (kh rotations of the split weights, the band, a
 * tag per slot, two rows of sums). */
#include "mf_rt_dsp.h"

#if defined(MF_RT_OPT_INT)

#define LN_DEPTH 16 /* steps of 8 values in ln_run's unrolled pass */

/* What ln_run reads: a run of outputs of one conv row. The first six words are copied to the
 * stack frame by the assembly, in this order. */
typedef struct {
    int32_t start;         /*  0: the sum's start */
    const uint32_t *w;     /*  4: the split weights of the run's rotation */
    int shift;             /*  8 */
    int back;              /* 12: bytes from a field's end to the next position's field */
    int passes;            /* 16: ⌈steps / LN_DEPTH⌉ */
    int skip;              /* 20: LN_DEPTH·passes − steps: steps the first pass skips */
    const uint32_t *lanes; /* 24: the first position's field */
    void *out;             /* 28: int8 outputs or int32 sums */
    void *end;             /* 32: past the run's last output */
} ln_job;

/* The run's outputs, each the largest sum of `taps` (1 or 2) positions side by side: requantized
 * with SSAT #8 (mode 0) or USAT #7 (mode 1, ReLU), or stored as the sum (mode 2). A position's
 * sum: start + Σ SMLAD over its field's 4·steps lane words. Sums wrap as SMLAD does (exact int32
 * sums: the quantizer bounds them, conv.c). */
#if defined(MF_RT_EMULATE_DSP)
MF_RT_INLINE void ln_run(const ln_job *j, int mode, int taps)
{
    const int words = 4 * (LN_DEPTH * j->passes - j->skip);
    const uint32_t *l = j->lanes;
    for (char *o = j->out; o != (char *)j->end;) {
        int32_t m = INT32_MIN;
        for (int t = 0; t < taps; t++) {
            int32_t acc = j->start;
            for (int i = 0; i < words; i++)
                acc = mf_smlad(l[i], j->w[i], acc);
            l = (const uint32_t *)((const char *)l + 4 * words + j->back);
            m = acc > m ? acc : m;
        }
        if (mode == 2) {
            memcpy(o, &m, 4);
            o += 4;
        } else {
            *o++ = (char)(mode ? mf_usat7(m >> j->shift) : mf_ssat8(m >> j->shift));
        }
    }
}
#define LN_TWIN(NAME, MODE, TAPS)                                                                  \
    MF_RT_NOINLINE void NAME(const ln_job *j)                                                      \
    {                                                                                              \
        ln_run(j, MODE, TAPS);                                                                     \
    }
#define LN_FNS(STORE, MODE)                                                                        \
    LN_TWIN(ln_##STORE##_1s, MODE, 1)                                                              \
    LN_TWIN(ln_##STORE##_1m, MODE, 1)                                                              \
    LN_TWIN(ln_##STORE##_2s, MODE, 2) LN_TWIN(ln_##STORE##_2m, MODE, 2)
#else
/* The same in assembly (naked). Registers: r0 the sum, r1 the lanes, r2 the weights, r3 the
 * passes left (one-pass forms: the skip), r4-r7 lane words, r8-r11 weight words, r12 the output,
 * lr its end. Frame: the job's first six words, [24] the first tap's sum. A block holds
 * LN_DEPTH steps of 24 bytes (.w forms) and is entered past the skipped ones through a TBB
 * table (a jump inside the function: deploy's stack bound refuses BX to a register); the
 * two-tap forms have a second copy of the block for the second position, so no flag is kept. */
#define LN_STEP                                                                                    \
    "ldm.w r1!, {r4-r7}\n\t"                                                                       \
    "ldm.w r2!, {r8-r11}\n\t"                                                                      \
    "smlad r0, r4, r8, r0\n\t"                                                                     \
    "smlad r0, r5, r9, r0\n\t"                                                                     \
    "smlad r0, r6, r10, r0\n\t"                                                                    \
    "smlad r0, r7, r11, r0\n\t"
#define LN_STEPS4  LN_STEP LN_STEP LN_STEP LN_STEP
#define LN_STEPS16 LN_STEPS4 LN_STEPS4 LN_STEPS4 LN_STEPS4
#define LN_SSAT    "asr r0, r0, r4\n\tssat r0, #8, r0\n\tstrb r0, [r12], #1\n\t"
#define LN_USAT    "asr r0, r0, r4\n\tusat r0, #7, r0\n\tstrb r0, [r12], #1\n\t"
#define LN_SUMS    "str r0, [r12], #4\n\t"
#define LN_PROLOGUE                                                                                \
    "push {r4-r11, lr}\n\t"                                                                        \
    "sub sp, sp, #32\n\t"                                                                          \
    "ldm r0, {r1-r6}\n\t"                                                                          \
    "stm sp, {r1-r6}\n\t"                                                                          \
    "mov r3, r6\n\t"                                                                               \
    "ldr r1, [r0, #24]\n\t"                                                                        \
    "ldr r12, [r0, #28]\n\t"                                                                       \
    "ldr lr, [r0, #32]\n\t"                                                                        \
    "cmp r12, lr\n\t"                                                                              \
    "beq 3f\n\t"
/* the TBB table into block L: step k at L + 24·k */
#define LN_E(L, K) "(" #L "f - 9b + 24 * " #K ") / 2"
#define LN_TABLE(L)                                                                                \
    "9:\n\t"                                                                                       \
    ".byte " LN_E(L, 0) ", " LN_E(L, 1) ", " LN_E(L, 2) ", " LN_E(                                 \
        L, 3) "\n\t"                                                                               \
              ".byte " LN_E(L, 4) ", " LN_E(L, 5) ", " LN_E(L, 6) ", " LN_E(                       \
                  L, 7) "\n\t"                                                                     \
                        ".byte " LN_E(L, 8) ", " LN_E(L, 9) ", " LN_E(L, 10) ", " LN_E(            \
                            L, 11) "\n\t"                                                          \
                                   ".byte " LN_E(L, 12) ", " LN_E(L, 13) ", " LN_E(                \
                                       L, 14) ", " LN_E(L, 15) "\n\t"
/* the position's start and weights, then into block L (s: one pass, the skip in r3; m: several,
 * the passes in r3) */
#define LN_GOs(L)    "ldm sp, {r0, r2}\n\ttbb [pc, r3]\n\t" LN_TABLE(L)
#define LN_GOm(L)    "ldm sp, {r0, r2}\n\tldrd r3, r4, [sp, #16]\n\ttbb [pc, r4]\n\t" LN_TABLE(L)
#define LN_BLOCKs(L) ".p2align 2\n\t" #L ":\n\t" LN_STEPS16
#define LN_BLOCKm(L) LN_BLOCKs(L) "subs r3, r3, #1\n\tbne " #L "b\n\t"
#define LN_NEXT      "ldrd r4, r5, [sp, #8]\n\tadd r1, r1, r5\n\t" /* shift; the next field */
#define LN_TAIL(STORE)                                                                             \
    STORE "cmp r12, lr\n\t"                                                                        \
          "bne 0b\n\t"                                                                             \
          "3:\n\t"                                                                                 \
          "add sp, sp, #32\n\t"                                                                    \
          "pop {r4-r11, pc}\n\t"
/* one tap per output */
#define LN_ONE(NAME, STORE, F)                                                                     \
    __attribute__((naked, noinline)) static void NAME(MF_RT_UNUSED const ln_job *j)                \
    {                                                                                              \
        __asm__ volatile(LN_PROLOGUE "0:\n\t" LN_GO##F(1) LN_BLOCK##F(1) LN_NEXT LN_TAIL(STORE));  \
    }
/* two taps per output: the larger sum */
#define LN_TWO(NAME, STORE, F)                                                                     \
    __attribute__((naked, noinline)) static void NAME(MF_RT_UNUSED const ln_job *j)                \
    {                                                                                              \
        __asm__ volatile(LN_PROLOGUE "0:\n\t" LN_GO##F(1) LN_BLOCK##F(1) LN_NEXT                   \
                         "str r0, [sp, #24]\n\t" LN_GO##F(2) LN_BLOCK##F(2) LN_NEXT                \
                         "ldr r6, [sp, #24]\n\t"                                                   \
                         "cmp r0, r6\n\t"                                                          \
                         "it lt\n\t"                                                               \
                         "movlt r0, r6\n\t" LN_TAIL(STORE));                                       \
    }
#define LN_FNS(STORE, MODE)                                                                        \
    LN_ONE(ln_##STORE##_1s, LN_##STORE, s)                                                         \
    LN_ONE(ln_##STORE##_1m, LN_##STORE, m)                                                         \
    LN_TWO(ln_##STORE##_2s, LN_##STORE, s) LN_TWO(ln_##STORE##_2m, LN_##STORE, m)
#endif
/* clang-format off */
LN_FNS(SSAT, 0)
LN_FNS(USAT, 1)
LN_FNS(SUMS, 2)
/* clang-format on */

/* The run of job j: mode 0-2 as ln_run, `taps` 1 or 2, one pass or several. Direct calls: the
 * firmware's stack bound (deploy) refuses a call through a pointer. */
MF_RT_NOINLINE void ln_go(const ln_job *j, int mode, int taps)
{
    const int one = j->passes == 1;
    if (taps == 1) {
        if (mode == 0)
            one ? ln_SSAT_1s(j) : ln_SSAT_1m(j);
        else if (mode == 1)
            one ? ln_USAT_1s(j) : ln_USAT_1m(j);
        else
            one ? ln_SUMS_1s(j) : ln_SUMS_1m(j);
    } else {
        if (mode == 0)
            one ? ln_SSAT_2s(j) : ln_SSAT_2m(j);
        else if (mode == 1)
            one ? ln_USAT_2s(j) : ln_USAT_2m(j);
        else
            one ? ln_SUMS_2s(j) : ln_SUMS_2m(j);
    }
}

/* What ln_split reads: `pixels` pixels of n16 groups of 16 values and n8 (0 or 1) of 8, from src
 * on (word-aligned), each pixel's lane words from dst on, `gap` bytes between two pixels' words. */
typedef struct {
    const int8_t *src;
    uint32_t *dst;
    int pixels, n16, n8, gap;
} ln_split_job;

/* Each 4 values v0..v3 into the lane words (v0, v2), (v1, v3), in order. */
#if defined(MF_RT_EMULATE_DSP)
MF_RT_NOINLINE void ln_split(const ln_split_job *j)
{
    const int8_t *s = j->src;
    uint32_t *d = j->dst;
    for (int p = 0; p < j->pixels; p++) {
        for (int i = 0; i < 4 * j->n16 + 2 * j->n8; i++, s += 4, d += 2) {
            const uint32_t u = mf_ld32(s);
            d[0] = mf_sxtb16(u), d[1] = mf_sxtb16_ror8(u);
        }
        d = (uint32_t *)((char *)d + j->gap);
    }
}
#else
/* The same in assembly (naked): per 16 values LDM 4 words, 8 SXTB16, STM 8 words; pixels of 8
 * values two at a time, of 16 values without the inner loop. */
#define LN_SPLIT8(A, B)                                                                            \
    "sxtb16 r4, " A "\n\t"                                                                         \
    "sxtb16 r5, " A ", ror #8\n\t"                                                                 \
    "sxtb16 r6, " B "\n\t"                                                                         \
    "sxtb16 r7, " B ", ror #8\n\t"                                                                 \
    "stm r1!, {r4-r7}\n\t"                                                                         \
    "add r1, r1, lr\n\t"
#define LN_SPLIT16                                                                                 \
    "ldm r0!, {r8-r11}\n\t"                                                                        \
    "sxtb16 r4, r8\n\t"                                                                            \
    "sxtb16 r5, r8, ror #8\n\t"                                                                    \
    "sxtb16 r6, r9\n\t"                                                                            \
    "sxtb16 r7, r9, ror #8\n\t"                                                                    \
    "sxtb16 r8, r10\n\t"                                                                           \
    "sxtb16 r9, r10, ror #8\n\t"                                                                   \
    "sxtb16 r10, r11\n\t"                                                                          \
    "sxtb16 r11, r11, ror #8\n\t"                                                                  \
    "stm r1!, {r4-r11}\n\t"
/* clang-format off */
__attribute__((naked, noinline)) static void ln_split(MF_RT_UNUSED const ln_split_job *j)
{
    __asm__ volatile("push {r4-r11, lr}\n\t"
                     "ldm r0, {r0-r3, r12, lr}\n\t" /* src, dst, pixels, n16, n8, gap */
                     "push {r3, r12}\n\t"           /* [sp] n16, [sp, #4] n8 */
                     "cmp r2, #0\n\t"
                     "beq 4f\n\t"
                     "cmp r3, #0\n\t"
                     "bne 7f\n\t"
                     /* 8 values a pixel (n16 = 0, n8 = 1): an odd one, then pairs */
                     "tst r2, #1\n\t"
                     "beq 6f\n\t"
                     "ldm r0!, {r8, r9}\n\t"
                     LN_SPLIT8("r8", "r9")
                     "subs r2, r2, #1\n\t"
                     "beq 4f\n\t"
                     "6:\n\t"
                     "ldm r0!, {r8-r11}\n\t"
                     LN_SPLIT8("r8", "r9")
                     LN_SPLIT8("r10", "r11")
                     "subs r2, r2, #2\n\t"
                     "bne 6b\n\t"
                     "b 4f\n\t"
                     "7:\n\t"
                     "cmp r3, #1\n\t"
                     "bne 0f\n\t"
                     "cmp r12, #0\n\t"
                     "bne 0f\n\t"
                     "5:\n\t" /* 16 values a pixel (n16 = 1, n8 = 0) */
                     LN_SPLIT16
                     "add r1, r1, lr\n\t"
                     "subs r2, r2, #1\n\t"
                     "bne 5b\n\t"
                     "b 4f\n\t"
                     "0:\n\t"
                     "ldr r3, [sp]\n\t"
                     "1:\n\t"
                     LN_SPLIT16
                     "subs r3, r3, #1\n\t"
                     "bne 1b\n\t"
                     "ldr r3, [sp, #4]\n\t"
                     "cbz r3, 2f\n\t"
                     "ldm r0!, {r8, r9}\n\t"
                     "sxtb16 r4, r8\n\t"
                     "sxtb16 r5, r8, ror #8\n\t"
                     "sxtb16 r6, r9\n\t"
                     "sxtb16 r7, r9, ror #8\n\t"
                     "stm r1!, {r4-r7}\n\t"
                     "2:\n\t"
                     "add r1, r1, lr\n\t"
                     "subs r2, r2, #1\n\t"
                     "bne 0b\n\t"
                     "4:\n\t"
                     "add sp, sp, #8\n\t"
                     "pop {r4-r11, pc}\n\t");
}
/* clang-format on */
#endif

/* `pixels` pixels of cin values (a multiple of 8) from src into lane words from dst on, `gap`
 * bytes between two pixels' words (0: one run). */
MF_RT_NOINLINE void ln_split_pixels(const int8_t *src, uint32_t *dst, int pixels, int cin, int gap)
{
    if ((uintptr_t)src & 3) { /* LDM needs words: value group by value group */
        for (int p = 0; p < pixels; p++, dst = (uint32_t *)((char *)dst + gap))
            for (int i = 0; i < cin / 4; i++, src += 4, dst += 2) {
                const uint32_t u = mf_ld32(src);
                dst[0] = mf_sxtb16(u), dst[1] = mf_sxtb16_ror8(u);
            }
        return;
    }
    if (gap == 0) cin *= pixels, pixels = 1;
    const ln_split_job j = {src, dst, pixels, cin / 16, (cin / 8) & 1, gap};
    ln_split(&j);
}

/* What every row of a layer shares. */
typedef struct {
    const mf_rt_geom *g;
    const int8_t *in;
    uint32_t *wv;   /* kh rotations of the split weights, `words` each */
    uint32_t *band; /* wp columns of kh slots of cin / 2 words */
    int32_t *tag;   /* the padded row each slot holds (−1: none) */
    int32_t *sums, *maxs;
    int words, colw, wp, passes, skip, fast;
    int32_t start;
    int shift;
} ln_layer;

/* Padded row y into slot s: the input row split, or zeros above and below the input. */
MF_RT_NOINLINE void ln_fill(const ln_layer *L, int y, int s)
{
    const mf_rt_geom *g = L->g;
    const int cin = g->cin, iy = y - g->pad_top;
    const int cols = g->w < L->wp - g->pad_left ? g->w : L->wp - g->pad_left;
    L->tag[s] = y;
    if (cols <= 0) return;
    uint32_t *d = L->band + (size_t)g->pad_left * L->colw + (size_t)s * (cin / 2);
    if (iy < 0 || iy >= g->h) {
        for (int c = 0; c < cols; c++, d += L->colw)
            for (int i = 0; i < cin / 2; i++)
                d[i] = 0;
        return;
    }
    ln_split_pixels(L->in + (ptrdiff_t)iy * g->w * cin, d, cols, cin, 4 * (L->colw - cin / 2));
}

/* `n` outputs of conv row oy into out (mode and taps: ln_run), its kh padded rows in the band
 * first. */
MF_RT_NOINLINE void ln_row(const ln_layer *L, int oy, int n, void *out, int mode, int taps)
{
    const mf_rt_geom *g = L->g;
    const int y0 = oy * g->sh, kh = g->kh, v = y0 % kh;
    for (int r = 0, s = v; r < kh; r++, s = s + 1 == kh ? 0 : s + 1)
        if (L->tag[s] != y0 + r) ln_fill(L, y0 + r, s);
    const ln_job j = {L->start,
                      L->wv + (size_t)v * L->words,
                      L->shift,
                      4 * (g->sw * L->colw - L->words),
                      L->passes,
                      L->skip,
                      L->band,
                      out,
                      (char *)out + (mode == 2 ? 4 * n : n)};
    ln_go(&j, mode, taps);
}

MF_RT_INLINE int8_t ln_requant(const ln_layer *L, int32_t acc, const mf_rt_requant *rq)
{
    if (L->fast) return (int8_t)(rq->relu ? mf_usat7(acc >> L->shift) : mf_ssat8(acc >> L->shift));
    return mf_rt_requant_s32(acc, L->shift, rq->relu, rq->rounding);
}

/* The whole call: setup, then every conv row (plain) or every pool window's rows. */
MF_RT_NOINLINE void ln_conv(const mf_rt_geom *g, int pkh, int pkw, int psh, int psw,
                            const int8_t *in, const int8_t *w, const int32_t *bias,
                            const mf_rt_requant *rq, int8_t *out, void *scratch)
{
    if (!mf_rt_conv_lanes_s8_fits(g) || pkh < 1 || pkw < 1 || psh < 1 || psw < 1 || g->oh < pkh ||
        g->ow < pkw)
        return;
    const int kh = g->kh, kw = g->kw, cin = g->cin, K = kh * kw * cin;
    ln_layer L;
    L.g = g, L.in = in;
    L.words = K / 2, L.colw = kh * cin / 2, L.wp = (g->ow - 1) * g->sw + kw;
    const int steps = L.words / 4;
    L.passes = (steps + LN_DEPTH - 1) / LN_DEPTH, L.skip = LN_DEPTH * L.passes - steps;
    L.wv = scratch;
    L.band = L.wv + (size_t)kh * L.words;
    L.tag = (int32_t *)(L.band + (size_t)L.wp * L.colw);
    L.sums = L.tag + kh, L.maxs = L.sums + g->ow;
    L.shift = rq->shifts ? rq->shifts[0] : rq->shift;
    L.fast = mf_rt_init_s8(bias, rq, K, 1, &L.start, 1) && (rq->relu == 0 || rq->relu == 1);
    if (!L.fast) L.start = bias ? bias[0] : 0;
    const int mode = !L.fast ? 2 : rq->relu ? 1 : 0; /* what a run of final outputs stores */
    /* rotation v: slot s holds kernel row (s − v) mod kh, its kw columns kh slots apart */
    for (int v = 0; v < kh; v++)
        for (int s = 0; s < kh; s++)
            ln_split_pixels(w + (ptrdiff_t)((s - v + kh) % kh) * kw * cin,
                            L.wv + (size_t)v * L.words + (size_t)s * (cin / 2), kw, cin,
                            4 * (L.colw - cin / 2));
    for (int s = 0; s < kh; s++)
        L.tag[s] = -1;
    /* the columns left and right of the input: zeros for good */
    const int left = g->pad_left < L.wp ? g->pad_left : L.wp;
    for (uint32_t *z = L.band, *e = L.band + (size_t)left * L.colw; z != e; z++)
        *z = 0;
    for (uint32_t *z = L.band + (size_t)(g->pad_left + g->w) * L.colw,
                  *e = L.band + (size_t)L.wp * L.colw;
         z < e; z++)
        *z = 0;
    if (pkh == 1 && pkw == 1 && psh == 1 && psw == 1) {
        for (int oy = 0; oy < g->oh; oy++, out += g->ow) {
            ln_row(&L, oy, g->ow, mode == 2 ? (void *)L.sums : out, mode, 1);
            if (mode == 2)
                for (int ox = 0; ox < g->ow; ox++)
                    out[ox] = ln_requant(&L, L.sums[ox], rq);
        }
        return;
    }
    const int poh = (g->oh - pkh) / psh + 1, pow = (g->ow - pkw) / psw + 1;
    if (pkw == 2 && psw == 2) { /* each run takes the larger of two positions side by side */
        for (int py = 0; py < poh; py++, out += pow) {
            if (pkh == 1 && mode != 2) { /* 1 × 2: the runs' outputs are final */
                ln_row(&L, py * psh, pow, out, mode, 2);
                continue;
            }
            ln_row(&L, py * psh, pow, L.maxs, 2, 2);
            for (int wy = 1; wy < pkh - 1; wy++) {
                ln_row(&L, py * psh + wy, pow, L.sums, 2, 2);
                for (int px = 0; px < pow; px++)
                    L.maxs[px] = L.sums[px] > L.maxs[px] ? L.sums[px] : L.maxs[px];
            }
            const int32_t *t = L.maxs;
            if (pkh > 1) { /* the last row's sums folded in as they are requantized */
                ln_row(&L, py * psh + pkh - 1, pow, L.sums, 2, 2);
                t = L.sums;
            }
            if (mode != 2) {
                for (int px = 0; px < pow; px++) {
                    const int32_t m = (t[px] > L.maxs[px] ? t[px] : L.maxs[px]) >> L.shift;
                    out[px] = (int8_t)(mode ? mf_usat7(m) : mf_ssat8(m));
                }
            } else {
                for (int px = 0; px < pow; px++)
                    out[px] = ln_requant(&L, t[px] > L.maxs[px] ? t[px] : L.maxs[px], rq);
            }
        }
        return;
    }
    const int ncol = (pow - 1) * psw + pkw;
    for (int py = 0; py < poh; py++, out += pow) {
        for (int px = 0; px < pow; px++)
            L.maxs[px] = INT32_MIN;
        for (int wy = 0; wy < pkh; wy++) {
            ln_row(&L, py * psh + wy, ncol, L.sums, 2, 1);
            for (int px = 0; px < pow; px++) {
                const int32_t *t = L.sums + px * psw;
                int32_t m = L.maxs[px];
                for (int wx = 0; wx < pkw; wx++)
                    m = t[wx] > m ? t[wx] : m;
                L.maxs[px] = m;
            }
        }
        for (int px = 0; px < pow; px++)
            out[px] = ln_requant(&L, L.maxs[px], rq);
    }
}

/* The entry points, plain and pooled, written out one by one (deploy finds a kernel's file by
 * its definition, deploy/runtime_files.c). */

MF_RT_OUTLINE void mf_rt_conv_lanes_s8_opt(MF_RT_CONV_S8_PARAMS)
{
    ln_conv(g, 1, 1, 1, 1, in, w, bias, rq, out, scratch);
}

MF_RT_OUTLINE void mf_rt_conv_lanes_maxpool_s8_opt(MF_RT_CONV_MAXPOOL_S8_PARAMS)
{
    ln_conv(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, rq, out, scratch);
}

#endif /* MF_RT_OPT_INT */
