/* int8 convolution and fused convolution + max pool: the optimized paths (see
 * mf_rt_dsp.h for when they are used). Bit-identical to conv.c's references.
 *
 * One engine serves every geometry (1D, 2D, strides, padding, any pool window); the 1D kernels
 * (mf_rt_conv1d_s8, mf_rt_conv1d_maxpool_s8) are the same engine compiled with the 1D case as a
 * constant (variant V_1D), so they hold none of the 2D paths.
 *
 * Convolution: the conv positions to compute are walked window by window (a plain conv is a
 * pool of one tap) and taken four at a time ("quads"). A position's receptive field (K =
 * kh·kw·cin values, weight order [ky][kx][ci]) is read where it lies in the input: in place when
 * it is contiguous there (1D), through a per-layer table of value-group offsets when its kernel
 * rows are (2D, rows of 4 values or more: lanes_s8_4t; the few groups that straddle two rows are
 * rebuilt from their bytes, patch_s8), copied by rows otherwise, and gathered with zeros where the
 * window hangs over the input's edge (gather_s8). The four fields are split once into 16-bit
 * lanes (SXTB16 of the even and of the odd bytes of every 4 values). Every output channel then
 * runs one inner loop over the lanes (mac_s8_4x1, inline assembly on the M4): per 4 values one
 * LDR of the channel's 4 weights straight from flash, 2 SXTB16, 2 LDM of lanes and 8 SMLAD, 4
 * groups per pass (16 MACs in 13 instructions + the loop's 2 per 4 groups). Weights are read as
 * stored ([cout][kh][kw][cin], no repacking); the K mod 4 last weights of a channel come from
 * the word that ends with them, shifted, so no read leaves the weight array (K < 4: a zero-padded
 * word per channel in scratch). Sums are exact int32 sums (the quantizer bounds them, conv.c),
 * added in another order than the reference's: integer addition does not care.
 *
 * Requantization: when every channel passes the bound of mf_rt_init_s8 (the usual case),
 * accumulators start at bias + 2^(s−1) and end with one shift and SSAT/USAT; otherwise every
 * channel starts at its bias and ends in the reference's mf_rt_requant_s32. Fused max pool:
 * requantization is monotonic (shift, rounding, saturation and ReLU never reverse an order) and
 * one channel has one shift, so the maximum of the requantized outputs equals the requantized
 * maximum: windows of 1, 2 or 4 taps are computed whole in one quad and reduced over their
 * accumulators before one requantization; other windows store their first tap and fold the
 * others in with max. Windows that lie inside the input side by side fill a quad from a
 * per-layer template of offsets.
 * Working memory: the caller's scratch of mf_rt_conv_s8_scratch_bytes() (the lanes, per channel
 * its start twice and 4 sums, 4 copied or gathered fields (1D: only as many as the geometry has
 * positions that need one, mf_rt_conv_s8_slots), the offset table and straddling groups of 2D
 * kernels: about 12·K + 24·cout bytes + K for 2D, 8·K + 24·cout bytes + K per slot for 1D,
 * planned in the arena); the stack holds only the frames. */
#include "mf_rt_dsp.h"

#if defined(MF_RT_OPT_INT)

/* What the multiply-add loop reads and advances (mac_s8_4x1). */
typedef struct {
    const uint32_t *lanes; /*  0: per 4 values 8 words: SXTB16(x), SXTB16(x ROR 8) of 4 positions */
    const int8_t *w;       /*  4: the first channel's weights (the others follow, K apart) */
    int32_t *acc;        /*  8: 6 words per channel: [0, 1] its start twice (in), [2..5] its sums */
    int passes;          /* 12: ⌈groups / 4⌉, groups = ⌊K / 4⌋ ≥ 1 */
    int skip;            /* 16: 4·passes − groups: groups the first pass skips */
    const int8_t *w_end; /* 20: w + channels·K (channels ≥ 1) */
    int back;            /* 24: 4 − K mod 4, or 0 when K mod 4 = 0 */
} mac_job;

MF_RT_INLINE mac_job mac_job_of(const uint32_t *lanes, const int8_t *w, int32_t *acc, int K,
                                const int8_t *w_end)
{
    const int groups = K >> 2;
    mac_job j = {lanes, w, acc, (groups + 3) >> 2, -groups & 3, w_end, K & 3 ? 4 - (K & 3) : 0};
    return j;
}

/* For each channel: acc[2..5] = acc[0] + the sums of the 4 positions' K values times the
 * channel's weights. Per 4 values: one LDR of the 4 weights straight from the weight array, 2
 * SXTB16, 2 LDM of the lanes and 8 SMLAD: 16 MACs in 13 instructions + the loop's 2 per 4
 * groups. The K mod 4 last weights come from the word that ends at w + K (inside the array, K ≥
 * 4) shifted right by 8·back bits: they land in the low bytes with zeros above, so the lanes'
 * values past K (any) are multiplied by 0. Sums are exact int32 sums (the quantizer bounds
 * them, conv.c). */
#if defined(MF_RT_EMULATE_DSP)
MF_RT_NOINLINE void mac_s8_4x1(const mac_job *j)
{
    const int8_t *w = j->w;
    for (int32_t *acc = j->acc; w != j->w_end; acc += 6) {
        const uint32_t *l = j->lanes;
        int32_t a[4] = {acc[0], acc[0], acc[0], acc[0]};
        for (int n = 4 * j->passes - j->skip + (j->back != 0); n > 0; n--, l += 8, w += 4) {
            int sh = 0;
            if (n == 1 && j->back) w -= j->back, sh = 8 * j->back;
            const uint32_t k = mf_ld32(w) >> sh, ke = mf_sxtb16(k), ko = mf_sxtb16_ror8(k);
            for (int e = 0; e < 4; e++)
                a[e] = mf_smlad(l[2 * e + 1], ko, mf_smlad(l[2 * e], ke, a[e]));
        }
        for (int e = 0; e < 4; e++)
            acc[2 + e] = a[e];
    }
}
#else
/* The same in assembly (naked; the job's counters copied to the stack frame): GCC would spill
 * some of the 13 values the inner loop keeps live. The loop takes 4 groups per pass, the first
 * pass entered past the groups it skips (TBB); the K mod 4 step repeats the loop body with LSR'd
 * weights. */
/* One group of 4 values: r2 → the channel's next 4 weights (advanced), r1 → the 8 lane words
 * (advanced). */
#define MAC_S8_4X1_GROUP "ldr r12, [r2], #4\n\t" MAC_S8_4X1_BODY
#define MAC_S8_4X1_BODY                                                                            \
    "sxtb16 lr, r12\n\t"                                                                           \
    "sxtb16 r12, r12, ror #8\n\t"                                                                  \
    "ldm r1!, {r8-r11}\n\t"                                                                        \
    "smlad r4, r8, lr, r4\n\t"                                                                     \
    "smlad r4, r9, r12, r4\n\t"                                                                    \
    "smlad r5, r10, lr, r5\n\t"                                                                    \
    "smlad r5, r11, r12, r5\n\t"                                                                   \
    "ldm r1!, {r8-r11}\n\t"                                                                        \
    "smlad r6, r8, lr, r6\n\t"                                                                     \
    "smlad r6, r9, r12, r6\n\t"                                                                    \
    "smlad r7, r10, lr, r7\n\t"                                                                    \
    "smlad r7, r11, r12, r7\n\t"
/* clang-format off */
__attribute__((naked, noinline)) static void mac_s8_4x1(MF_RT_UNUSED const mac_job *j)
{
    __asm__ volatile("push {r4-r11, lr}\n\t"
                     "sub sp, sp, #20\n\t"   /* [sp] lanes, passes, skip, w_end, back */
                     "ldm r0, {r1, r2, r3}\n\t" /* lanes, w, acc */
                     "ldrd r4, r5, [r0, #12]\n\t"  /* passes, skip */
                     "ldrd r6, r7, [r0, #20]\n\t"  /* w_end, back */
                     "str r1, [sp]\n\t"
                     "strd r4, r5, [sp, #4]\n\t"
                     "strd r6, r7, [sp, #12]\n\t"
                     "0:\n\t" /* r2: this channel's weights (each loop ends at the next's) */
                     "ldr r1, [sp]\n\t"
                     "ldrd r4, r5, [r3]\n\t"
                     "ldrd r6, r7, [r3], #8\n\t"
                     "ldrd r0, r12, [sp, #4]\n\t"
                     "tbb [pc, r12]\n\t"
                     "9:\n\t"
                     ".byte (1f - 9b) / 2, (10f - 9b) / 2, (11f - 9b) / 2, (12f - 9b) / 2\n\t"
                     "1:\n\t"
                     MAC_S8_4X1_GROUP
                     "10:\n\t"
                     MAC_S8_4X1_GROUP
                     "11:\n\t"
                     MAC_S8_4X1_GROUP
                     "12:\n\t"
                     MAC_S8_4X1_GROUP
                     "subs r0, r0, #1\n\t"
                     "bne 1b\n\t"
                     "ldr r0, [sp, #16]\n\t"
                     "cbz r0, 2f\n\t"
                     "subs r2, r2, r0\n\t"
                     "lsls r0, r0, #3\n\t"
                     "ldr r12, [r2], #4\n\t"
                     "lsr r12, r12, r0\n\t"
                     MAC_S8_4X1_BODY
                     "2:\n\t"
                     "stm r3!, {r4-r7}\n\t"
                     "ldr r12, [sp, #12]\n\t"
                     "cmp r2, r12\n\t"
                     "bne 0b\n\t"
                     "add sp, sp, #20\n\t"
                     "pop {r4-r11, pc}\n\t");
}
/* clang-format on */
#endif

/* The lanes of 4 fields f[0..3] over 4·groups values: per 4 values, SXTB16(x) and
 * SXTB16(x ROR 8) of each field in turn (8 words). */
#if defined(MF_RT_EMULATE_DSP)
MF_RT_NOINLINE void lanes_s8_4(const int8_t *const *f, uint32_t *lanes, int groups)
{
    for (int i = 0; i < 4 * groups; i += 4)
        for (int e = 0; e < 4; e++, lanes += 2) {
            const uint32_t u = mf_ld32(f[e] + i);
            lanes[0] = mf_sxtb16(u), lanes[1] = mf_sxtb16_ror8(u);
        }
}
#else
/* In assembly: 4 LDR, 8 SXTB16 and 2 STM per 4 values (GCC keeps the pointers in memory). */
__attribute__((naked, noinline)) static void lanes_s8_4(MF_RT_UNUSED const int8_t *const *f,
                                                        MF_RT_UNUSED uint32_t *lanes,
                                                        MF_RT_UNUSED int groups)
{
    __asm__ volatile("push {r4-r11, lr}\n\t"
                     "ldm r0, {r4-r7}\n\t"
                     "1:\n\t"
                     "ldr r8, [r4], #4\n\t"
                     "ldr r10, [r5], #4\n\t"
                     "sxtb16 r9, r8, ror #8\n\t"
                     "sxtb16 r8, r8\n\t"
                     "sxtb16 r11, r10, ror #8\n\t"
                     "sxtb16 r10, r10\n\t"
                     "stm r1!, {r8-r11}\n\t"
                     "ldr r0, [r6], #4\n\t"
                     "ldr r12, [r7], #4\n\t"
                     "sxtb16 r3, r0, ror #8\n\t"
                     "sxtb16 r0, r0\n\t"
                     "sxtb16 lr, r12, ror #8\n\t"
                     "sxtb16 r12, r12\n\t"
                     "stm r1!, {r0, r3, r12, lr}\n\t"
                     "subs r2, r2, #1\n\t"
                     "bne 1b\n\t"
                     "pop {r4-r11, pc}\n\t");
}
#endif

/* The same for 4 fields that lie inside the input with 2D rows: value group g of every field
 * starts at offset tab[g] from the field's first value ((4g / n)·row + 4g mod n, n = kw·cin), so
 * the rows are read where they lie (no copy). A group that straddles two kernel rows reads
 * past its row here and is rebuilt afterwards (patch_s8). */
#if defined(MF_RT_EMULATE_DSP)
MF_RT_NOINLINE void lanes_s8_4t(const int8_t *const *f, uint32_t *lanes, int groups,
                                const int32_t *tab)
{
    for (int g = 0; g < groups; g++)
        for (int e = 0; e < 4; e++, lanes += 2) {
            const uint32_t u = mf_ld32(f[e] + tab[g]);
            lanes[0] = mf_sxtb16(u), lanes[1] = mf_sxtb16_ror8(u);
        }
}
#else
/* In assembly: 1 + 4 LDR, 8 SXTB16 and 2 STM per 4 values. */
__attribute__((naked, noinline)) static void lanes_s8_4t(MF_RT_UNUSED const int8_t *const *f,
                                                         MF_RT_UNUSED uint32_t *lanes,
                                                         MF_RT_UNUSED int groups,
                                                         MF_RT_UNUSED const int32_t *tab)
{
    __asm__ volatile("push {r4-r11, lr}\n\t"
                     "ldm r0, {r4-r7}\n\t"
                     "1:\n\t"
                     "ldr r0, [r3], #4\n\t"
                     "ldr r8, [r4, r0]\n\t"
                     "ldr r10, [r5, r0]\n\t"
                     "sxtb16 r9, r8, ror #8\n\t"
                     "sxtb16 r8, r8\n\t"
                     "sxtb16 r11, r10, ror #8\n\t"
                     "sxtb16 r10, r10\n\t"
                     "stm r1!, {r8-r11}\n\t"
                     "ldr r8, [r6, r0]\n\t"
                     "ldr r10, [r7, r0]\n\t"
                     "sxtb16 r9, r8, ror #8\n\t"
                     "sxtb16 r8, r8\n\t"
                     "sxtb16 r11, r10, ror #8\n\t"
                     "sxtb16 r10, r10\n\t"
                     "stm r1!, {r8-r11}\n\t"
                     "subs r2, r2, #1\n\t"
                     "bne 1b\n\t"
                     "pop {r4-r11, pc}\n\t");
}
#endif

MF_RT_INLINE void copy_s8(int8_t *d, const int8_t *s, int n)
{
    int i = 0;
    for (; i + 4 <= n; i += 4)
        mf_st32(d + i, mf_ld32(s + i));
    for (; i < n; i++)
        d[i] = s[i];
}

MF_RT_INLINE void zero_s8(int8_t *d, int n)
{
    int i = 0;
    for (; i + 4 <= n; i += 4) /* whole words (the M4 stores unaligned words) */
        mf_st32(d + i, 0);
    for (; i < n; i++)
        d[i] = 0;
}

/* A field inside the input whose word reads stay inside it (field_s8): whole words per kernel
 * row. A row's last word spills up to 3 bytes into the next row (rewritten next), the next
 * field's place (gathered after this one) or col's 4 spare bytes (lanes past K meet zero
 * weights). */
MF_RT_NOINLINE void copy_rows_s8(const int8_t *x, int8_t *col, int kh, int n, int words,
                                 ptrdiff_t row)
{
    if (words <= 2) { /* small rows (cin 1-2, kw ≤ 8): straight-line */
        for (int ky = 0; ky < kh; ky++, col += n, x += row) {
            const uint32_t v0 = mf_ld32(x);
            if (words == 2) mf_st32(col + 4, mf_ld32(x + 4));
            mf_st32(col, v0);
        }
        return;
    }
    for (int ky = 0; ky < kh; ky++, col += n, x += row) {
        const int8_t *s = x;
        int8_t *d = col;
        for (int i = words & 3; i > 0; i--, s += 4, d += 4)
            mf_st32(d, mf_ld32(s));
        for (int i = words >> 2; i > 0; i--, s += 16, d += 16) {
            const uint32_t v0 = mf_ld32(s), v1 = mf_ld32(s + 4), v2 = mf_ld32(s + 8),
                           v3 = mf_ld32(s + 12);
            mf_st32(d, v0), mf_st32(d + 4, v1), mf_st32(d + 8, v2), mf_st32(d + 12, v3);
        }
    }
}

/* The receptive field of output (oy, ox), K values in weight order, gathered into col with
 * zeros outside the input: the field zeroed by words first, then per kernel row inside the
 * input the run of taps inside it, one contiguous run of the channels-last input, copied by
 * words. Offsets, not pointers, until a row is inside (no pointer is formed outside the input).
 * No memset for the zeros: a call, and its frame on the stack bound. */
__attribute__((optimize("no-tree-loop-distribute-patterns"))) MF_RT_NOINLINE void
gather_s8(const mf_rt_geom *g, const int8_t *in, int oy, int ox, int8_t *col)
{
    const int cin = g->cin, n = g->kw * cin;
    const int iy0 = oy * g->sh - g->pad_top, ix0 = ox * g->sw - g->pad_left;
    zero_s8(col, g->kh * n);
    /* taps [kx0, kx1) inside the input; padding wider than the kernel leaves none (kx0 = kw) */
    const int kx0 = ix0 < 0 ? (-ix0 < g->kw ? -ix0 : g->kw) : 0;
    const int kx1 = g->w - ix0 < g->kw ? g->w - ix0 : g->kw;
    if (kx1 <= kx0) return;
    const int lo = kx0 * cin, len = (kx1 - kx0) * cin; /* [lo, lo + len): inside the input */
    const ptrdiff_t row = (ptrdiff_t)g->w * cin;
    ptrdiff_t at = (ptrdiff_t)iy0 * row + (ptrdiff_t)ix0 * cin + lo; /* tap (ky, kx0) */
    col += lo;
    for (int ky = 0, iy = iy0; ky < g->kh; ky++, iy++, col += n, at += row)
        if (iy >= 0 && iy < g->h) copy_s8(col, in + at, len);
}

/* The same row by row (variant V_WIDE): a kernel row outside the input is zeroed; one inside
 * gets its taps left of the input zeroed, its run inside copied and its taps right of the input
 * zeroed, so every byte of the field is written once (gather_s8 writes the copied ones twice:
 * on wide kernel rows the zeroing costs about as much as the copy). */
__attribute__((optimize("no-tree-loop-distribute-patterns"))) MF_RT_NOINLINE void
gather_rows_s8(const mf_rt_geom *g, const int8_t *in, int oy, int ox, int8_t *col)
{
    const int cin = g->cin, n = g->kw * cin;
    const int iy0 = oy * g->sh - g->pad_top, ix0 = ox * g->sw - g->pad_left;
    const int kx0 = ix0 < 0 ? (-ix0 < g->kw ? -ix0 : g->kw) : 0;
    const int kx1 = g->w - ix0 < g->kw ? g->w - ix0 : g->kw;
    const int lo = kx1 > kx0 ? kx0 * cin : n, len = kx1 > kx0 ? (kx1 - kx0) * cin : 0;
    const ptrdiff_t row = (ptrdiff_t)g->w * cin;
    ptrdiff_t at = (ptrdiff_t)iy0 * row + (ptrdiff_t)ix0 * cin + lo; /* tap (ky, kx0) */
    for (int ky = 0, iy = iy0; ky < g->kh; ky++, iy++, col += n, at += row) {
        if (iy < 0 || iy >= g->h || len == 0) {
            zero_s8(col, n);
            continue;
        }
        zero_s8(col, lo);
        copy_s8(col + lo, in + at, len);
        zero_s8(col + lo + len, n - lo - len);
    }
}

/* Requantization: shift and saturation (fast), or the reference's. */
MF_RT_INLINE int8_t rq_s8(int32_t acc, int s, int fast, int relu, int rounding)
{
    if (fast) return (int8_t)(relu ? mf_usat7(acc >> s) : mf_ssat8(acc >> s));
    return mf_rt_requant_s32(acc, s, relu, rounding);
}

/* What the quads of one layer share. */
typedef struct {
    const mf_rt_geom *g;
    const int8_t *in, *w;
    const mf_rt_requant *rq;
    int8_t *col;     /* slots·K + 4 bytes: copied or gathered fields (+ 4 bytes read past the
                        last), mf_rt_conv_s8_slots */
    int slotted;     /* 1D: fields take the next free slot, not slot e */
    uint32_t *lanes; /* 8 words per 4 values */
    int32_t *acc;    /* 6 words per channel: its start twice, its 4 sums (mac_job) */
    int K, fast;
    int taps; /* window mode: every quad holds 4 / taps whole pool windows (taps 1, 2 or 4); 0:
                 fold mode (taps of a window may straddle quads) */
    /* a field inside the input (field_s8) starting at offset `at` is read in place when the
     * kernel is one row high (its K values are contiguous) and at ≤ end (its padded reads stay
     * inside), else copied by rows of `words` words when at ≤ copy_end */
    int direct, words;
    ptrdiff_t end, copy_end, row;
    /* 2D fields inside the input (copy flag) are read through the offset table instead of
     * copied when `tabbed` (mf_rt_conv_s8_tabbed): tab[g] per value group; cross: 5 words per
     * group that straddles two rows (patch_s8), ncross of them */
    int tabbed, ncross;
    const int32_t *tab, *cross;
} layer_s8;

/* One conv position of a quad: its field (a pointer into the input, or NULL: gather it), its
 * output and whether its value folds into the output with max (a pool window's later taps). */
typedef struct {
    const int8_t *f;
    int8_t *o;
    int oy, ox; /* gathered fields */
    uint8_t fold;
    uint8_t copy; /* f is the field's place in the input, to be copied by rows (copy_rows_s8) */
} pos_s8;

/* The largest of a window's T accumulators (T = 1, 2 or 4, consecutive in acc). */
MF_RT_INLINE int32_t max_taps_s8(const int32_t *a, int T)
{
    int32_t m = a[0];
    if (T >= 2) m = a[1] > m ? a[1] : m;
    if (T == 4) {
        m = a[2] > m ? a[2] : m;
        m = a[3] > m ? a[3] : m;
    }
    return m;
}

/* Window mode, fast requantization with one shift: per channel and window the window's
 * maximum sum, shifted and saturated; a → the first channel's 4 sums (6 words apart). Constant
 * T and relu specialise the loop. */
MF_RT_INLINE int32_t sat_s8(int32_t v, int shift, int relu)
{
    return relu ? mf_usat7(v >> shift) : mf_ssat8(v >> shift);
}

MF_RT_INLINE void store_fast_s8(const pos_s8 *q, const int32_t *a, int cout, int shift, int T,
                                int relu)
{
    int8_t *o0 = q[0].o, *o1 = q[T == 1 ? 1 : 2].o, *o2 = q[2].o, *o3 = q[3].o;
    for (int c = 0; c < cout; c++, a += 6) {
        if (T == 1) {
            const int32_t a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
            o0[c] = (int8_t)sat_s8(a0, shift, relu), o1[c] = (int8_t)sat_s8(a1, shift, relu);
            o2[c] = (int8_t)sat_s8(a2, shift, relu), o3[c] = (int8_t)sat_s8(a3, shift, relu);
        } else if (T == 2) {
            const int32_t m0 = max_taps_s8(a, 2), m1 = max_taps_s8(a + 2, 2);
            o0[c] = (int8_t)sat_s8(m0, shift, relu), o1[c] = (int8_t)sat_s8(m1, shift, relu);
        } else {
            o0[c] = (int8_t)sat_s8(max_taps_s8(a, 4), shift, relu);
        }
    }
}

/* The lanes of the groups that straddle two kernel rows (n ≥ 4 values per row: a group spans at
 * most two rows, none past the field). cross: 5 words per group: the byte offset of its first
 * lane word, the offset of the word that ends row A (its top j bytes are the group's first j
 * values), the offset of the word whose top 4 − j bytes start row B, 32 − 8j and the mask of
 * those top bytes: two word reads and a merge per field instead of four byte reads. */
#if defined(MF_RT_EMULATE_DSP)
MF_RT_NOINLINE void patch_s8(const int8_t *const *f, uint32_t *lanes, const int32_t *c, int ncross)
{
    for (int k = 0; k < ncross; k++, c += 5) {
        uint32_t *l = (uint32_t *)((char *)lanes + c[0]);
        for (int e = 0; e < 4; e++, l += 2) {
            const uint32_t u =
                mf_ld32(f[e] + c[1]) >> c[3] | (mf_ld32(f[e] + c[2]) & (uint32_t)c[4]);
            l[0] = mf_sxtb16(u), l[1] = mf_sxtb16_ror8(u);
        }
    }
}
#else
/* In assembly: per group one LDM of its 5 words, per field 2 LDR, LSR, AND, ORR, 2 SXTB16 and
 * STRD. */
#define PATCH_S8_FIELD(F)                                                                          \
    "ldr r12, [" F ", r8]\n\t"                                                                     \
    "ldr lr, [" F ", r9]\n\t"                                                                      \
    "lsr r12, r12, r10\n\t"                                                                        \
    "and lr, lr, r11\n\t"                                                                          \
    "orr r12, r12, lr\n\t"                                                                         \
    "sxtb16 lr, r12, ror #8\n\t"                                                                   \
    "sxtb16 r12, r12\n\t"                                                                          \
    "strd r12, lr, [r0], #8\n\t"
__attribute__((naked, noinline)) static void patch_s8(MF_RT_UNUSED const int8_t *const *f,
                                                      MF_RT_UNUSED uint32_t *lanes,
                                                      MF_RT_UNUSED const int32_t *c,
                                                      MF_RT_UNUSED int ncross)
{
    /* clang-format off */
    __asm__ volatile("push {r4-r11, lr}\n\t"
                     "ldm r0, {r4-r7}\n\t"
                     "1:\n\t"
                     "ldm r2!, {r0, r8-r11}\n\t"
                     "add r0, r1, r0\n\t"
                     PATCH_S8_FIELD("r4")
                     PATCH_S8_FIELD("r5")
                     PATCH_S8_FIELD("r6")
                     PATCH_S8_FIELD("r7")
                     "subs r3, r3, #1\n\t"
                     "bne 1b\n\t"
                     "pop {r4-r11, pc}\n\t");
    /* clang-format on */
}
#endif

/* The engine's variants: every geometry (V_ANY), or a 1D conv (h = kh = 1) alone or with a 1×2
 * stride-2 max pool (V_1D: windows of 1 or 2 taps), or every geometry with the edge fields
 * gathered row by row (V_WIDE: gather_rows_s8, for kernel rows of many values; the kernels
 * mf_rt_conv_wide_s8 and mf_rt_conv_wide_maxpool_s8). A variant is a constant for the compiler, so
 * the 1D kernels hold none of the 2D paths (offset table, row copies, other windows): a firmware
 * whose layers call only them links only them. */
enum { V_ANY, V_1D, V_WIDE };

/* The fields of a quad that are not read in place (f[e] NULL or a copy flag): copied by rows or
 * gathered into col, slot e, or on 1D geometries (slotted) the next free slot; a repeated
 * position (the last quad) reuses its field. */
MF_RT_INLINE void fields_s8(const layer_s8 *L, const pos_s8 *q, const int8_t **f, const int v)
{
    int used = 0;
    for (int e = 0; e < 4; e++) {
        if (f[e] && !q[e].copy) continue; /* in place */
        int8_t *c = L->col + e * L->K;
        if (L->slotted) {
            int d = 0;
            while (d < e && (q[d].ox != q[e].ox || (q[d].f && !q[d].copy)))
                d++;
            if (d < e) {
                f[e] = f[d];
                continue;
            }
            c = L->col + used++ * L->K;
        }
        if (v != V_1D && q[e].copy)
            copy_rows_s8(f[e], c, L->g->kh, L->g->kw * L->g->cin, L->words, L->row);
        else if (v == V_WIDE)
            gather_rows_s8(L->g, L->in, q[e].oy, q[e].ox, c);
        else
            gather_s8(L->g, L->in, q[e].oy, q[e].ox, c);
        f[e] = c;
    }
}

/* Every output channel of four conv positions. */
MF_RT_INLINE void quad_s8_body(const layer_s8 *L, const pos_s8 *q, const int v)
{
    const int K = L->K, cout = L->g->cout, padded = (K + 3) & ~3;
    const int8_t *f[4];
    if (v != V_1D && L->tabbed && q[0].copy && q[1].copy && q[2].copy && q[3].copy) {
        for (int e = 0; e < 4; e++)
            f[e] = q[e].f;
        lanes_s8_4t(f, L->lanes, padded >> 2, L->tab);
        if (L->ncross) patch_s8(f, L->lanes, L->cross, L->ncross);
    } else {
        for (int e = 0; e < 4; e++)
            f[e] = q[e].f;
        if (!f[0] || !f[1] || !f[2] || !f[3] || q[0].copy || q[1].copy || q[2].copy || q[3].copy) {
            fields_s8(L, q, f, v);
        }
        lanes_s8_4(f, L->lanes, padded >> 2);
    }
    /* K < 4: the weights' zero-padded copy, 4 per channel (conv_s8_engine) */
    const int Kw = K >= 4 ? K : 4;
    mac_job j = mac_job_of(L->lanes, L->w, L->acc, Kw, L->w + cout * Kw);
    mac_s8_4x1(&j);
    /* int8 stores may alias anything: the layer's constants live in locals */
    const int8_t *shifts = L->rq->shifts;
    const int shift = L->rq->shift, rounding = L->rq->rounding, fast = L->fast, relu = L->rq->relu;
    const int T = v == V_1D ? (L->taps == 2 ? 2 : 1) : L->taps;
    const int32_t *sums = L->acc + 2;
    if (T && fast && !shifts) { /* the common case: its own loop per window size and ReLU */
        switch (2 * T + relu) {
        case 2:
            store_fast_s8(q, sums, cout, shift, 1, 0);
            break;
        case 3:
            store_fast_s8(q, sums, cout, shift, 1, 1);
            break;
        case 4:
            store_fast_s8(q, sums, cout, shift, 2, 0);
            break;
        case 5:
            store_fast_s8(q, sums, cout, shift, 2, 1);
            break;
        case 8:
            store_fast_s8(q, sums, cout, shift, 4, 0);
            break;
        default:
            store_fast_s8(q, sums, cout, shift, 4, 1);
            break;
        }
        return;
    }
    if (T) {
        for (int e = 0; e < 4; e += T) {
            const int32_t *a = sums + e;
            int8_t *out = q[e].o;
            for (int c = 0; c < cout; c++, a += 6)
                out[c] = rq_s8(max_taps_s8(a, T), shifts ? shifts[c] : shift, fast, relu, rounding);
        }
        return;
    }
    for (int e = 0; e < 4; e++) {
        const int32_t *a = sums + e;
        int8_t *out = q[e].o;
        const int fold = q[e].fold;
        for (int c = 0; c < cout; c++, a += 6) {
            const int8_t r = rq_s8(*a, shifts ? shifts[c] : shift, fast, relu, rounding);
            out[c] = fold && out[c] > r ? out[c] : r;
        }
    }
}

MF_RT_NOINLINE void quad_s8_any(const layer_s8 *L, const pos_s8 *q)
{
    quad_s8_body(L, q, V_ANY);
}

MF_RT_NOINLINE void quad_s8_1d(const layer_s8 *L, const pos_s8 *q)
{
    quad_s8_body(L, q, V_1D);
}

MF_RT_NOINLINE void quad_s8_wide(const layer_s8 *L, const pos_s8 *q)
{
    quad_s8_body(L, q, V_WIDE);
}

MF_RT_INLINE void quad_s8_run(const layer_s8 *L, const pos_s8 *q, const int v)
{
    if (v == V_1D)
        quad_s8_1d(L, q);
    else if (v == V_WIDE)
        quad_s8_wide(L, q);
    else
        quad_s8_any(L, q);
}

int mf_rt_init_s8(const int32_t *bias, const mf_rt_requant *rq, int taps, int n, int32_t *init,
                  int stride)
{
    /* the bound of mf_rt_dsp.h, per-call terms hoisted: |b| + taps·2^14 + rc ≤ 2^31 − 1
     * in uint32 without wrap-around (each term ≤ 2^31) */
    const uint32_t t = taps >= 0 && taps <= 131072 ? (uint32_t)taps << 14 : (uint32_t)INT32_MAX;
    const int half = rq->rounding == MF_RT_ROUND_HALF_UP;
    int c = 0;
    for (; c < n; c++) {
        const int32_t b = bias ? bias[c] : 0;
        const int s = rq->shifts ? rq->shifts[c] : rq->shift;
        if (s < 0 || s > 31) break;
        const uint32_t rc = half && s > 0 ? (uint32_t)1 << (s - 1) : 0;
        const uint32_t mag = b < 0 ? 0u - (uint32_t)b : (uint32_t)b;
        if (t > (uint32_t)INT32_MAX - rc || mag > (uint32_t)INT32_MAX - rc - t) break;
        init[stride * c] = (int32_t)(b + (int32_t)rc);
    }
    if (c == n) return 1;
    for (c = 0; c < n; c++)
        init[stride * c] = bias ? bias[c] : 0;
    return 0;
}

/* Position (oy, ox) of a quad: its field in place, copied by rows from the input, or (NULL)
 * gathered with zero padding. */
MF_RT_NOINLINE void field_s8(const layer_s8 *L, int oy, int ox, pos_s8 *p)
{
    const mf_rt_geom *g = L->g;
    const int iy = oy * g->sh - g->pad_top, ix = ox * g->sw - g->pad_left;
    p->oy = oy, p->ox = ox, p->f = NULL, p->copy = 0;
    if (iy < 0 || iy > g->h - g->kh || ix < 0 || ix > g->w - g->kw) return;
    const ptrdiff_t at = (ptrdiff_t)iy * L->row + (ptrdiff_t)ix * g->cin;
    if (L->direct && at <= L->end)
        p->f = L->in + at;
    else if (at <= L->copy_end)
        p->f = L->in + at, p->copy = 1;
}

/* Every tap of every pool window (a plain conv is a pool of one tap), four at a time, window
 * after window, each window's taps in a row. Window mode (L->taps = pkh·pkw = 1, 2 or 4): each
 * quad holds 4 / T whole windows; the last quad repeats its last whole window (stored again,
 * unchanged). Fold mode (other windows): a window's first tap stores its output, the others fold
 * in with max; the last quad repeats its last position (a store or a max again changes
 * nothing). In window mode, W = 4 / T windows side by side whose fields all lie inside the input
 * (conv rows [oy_lo, oy_hi], columns [ox_lo, ox_hi]) with their reads (at ≤ lim) fill a quad from
 * a template of field and output offsets: no per-tap arithmetic. */
MF_RT_INLINE void walk_s8(const layer_s8 *L, int pkh, int pkw, int psh, int psw, int8_t *out,
                          const int v)
{
    const mf_rt_geom *g = L->g;
    const int T = v == V_1D ? (L->taps == 2 ? 2 : 1) : L->taps;
    const int cout = g->cout, cin = g->cin, W = T ? 4 / T : 0, copy = v != V_1D && !L->direct;
    const int poh = (g->oh - pkh) / psh + 1, pow = (g->ow - pkw) / psw + 1;
    const ptrdiff_t step = (ptrdiff_t)psw * g->sw * cin;
    ptrdiff_t qf[4], lim = -1;
    int qo[4];
    for (int k = 0; T && k < 4; k++) {
        const int t = k % T; /* tap (t / pkw, t % pkw) of window k / T */
        qf[k] = (k / T) * step + (ptrdiff_t)(t / pkw) * g->sh * L->row +
                (ptrdiff_t)(t % pkw) * g->sw * cin;
        qo[k] = (k / T) * cout;
    }
    if (T && g->h >= g->kh && g->w >= g->kw) lim = (L->direct ? L->end : L->copy_end) - qf[3];
    const int oy_lo = (g->pad_top + g->sh - 1) / g->sh, oy_hi = (g->h - g->kh + g->pad_top) / g->sh;
    const int ox_lo = (g->pad_left + g->sw - 1) / g->sw,
              ox_hi = (g->w - g->kw + g->pad_left) / g->sw;
    pos_s8 q[4];
    int e = 0;
    for (int py = 0; py < poh; py++) {
        const int oy0 = py * psh, rows_in = lim >= 0 && oy0 >= oy_lo && oy0 + pkh - 1 <= oy_hi;
        ptrdiff_t at =
            (ptrdiff_t)(oy0 * g->sh - g->pad_top) * L->row - (ptrdiff_t)g->pad_left * cin;
        for (int px = 0, ox0 = 0; px < pow; px++, ox0 += psw, at += step, out += cout) {
            if (e == 0 && rows_in && px + W <= pow && ox0 >= ox_lo &&
                ox0 + (W - 1) * psw + pkw - 1 <= ox_hi && at <= lim) {
                const int8_t *f = L->in + at;
                for (int k = 0; k < 4; k++)
                    q[k].f = f + qf[k], q[k].o = out + qo[k], q[k].copy = (uint8_t)copy;
                quad_s8_run(L, q, v);
                px += W - 1, ox0 += (W - 1) * psw, at += (W - 1) * step, out += (W - 1) * cout;
                continue;
            }
            for (int wy = 0, oy = oy0; wy < pkh; wy++, oy++)
                for (int wx = 0, ox = ox0; wx < pkw; wx++, ox++) {
                    field_s8(L, oy, ox, &q[e]);
                    q[e].o = out, q[e].fold = (uint8_t)(wy | wx);
                    if (++e == 4) quad_s8_run(L, q, v), e = 0;
                }
        }
    }
    if (e == 0) return;
    for (int k = e; k < 4; k++)
        q[k] = q[k - (T ? T : 1)];
    quad_s8_run(L, q, v);
}

/* Plain conv: pkh = pkw = psh = psw = 1. */
MF_RT_INLINE void conv_s8_engine(const mf_rt_geom *g, int pkh, int pkw, int psh, int psw,
                                 const int8_t *in, const int8_t *w, const int32_t *bias,
                                 const mf_rt_requant *rq, int8_t *out, void *scratch, const int v)
{
    if (g->oh < pkh || g->ow < pkw || pkh < 1 || pkw < 1 || psh < 1 || psw < 1 || g->cout < 1)
        return;
    const int K = g->kh * g->kw * g->cin;
    if (K < 1) return; /* validated geometries have K ≥ 1 */
    /* scratch (mf_rt_conv_s8_scratch_bytes): lanes, accumulators and their starts, the offset
     * table and crossing groups (2D), the fields' slots */
    const int groups = (K + 3) >> 2, n = g->kw * g->cin;
    uint32_t *lanes = scratch;
    int32_t *acc = (int32_t *)(lanes + groups * 8);
    int8_t *col = (int8_t *)(acc + 6 * g->cout);
    const int slots = mf_rt_conv_s8_slots(g);
    int32_t *tab = (int32_t *)(col + ((slots * K + 4 + 3) & ~3)), *cross = tab + groups;
    const int taps = pkh * pkw;
    if (K < 4) { /* every channel's weights zero-padded to one word: a word read stays inside */
        int8_t *wpad = (int8_t *)tab; /* (no offset table below 4 values) */
        for (int c = 0; c < g->cout; c++)
            for (int i = 0; i < 4; i++)
                wpad[4 * c + i] = i < K ? w[c * K + i] : 0;
        w = wpad;
    }
    layer_s8 L = {
        .g = g, .in = in, .w = w, .rq = rq, .col = col, .lanes = lanes, .acc = acc, .K = K};
    L.taps = taps == 1 || taps == 2 || taps == 4 ? taps : 0;
    L.direct = g->kh == 1;
    L.fast = mf_rt_init_s8(bias, rq, K, g->cout, acc, 6);
    for (int c = 0; c < g->cout; c++)
        acc[6 * c + 1] = acc[6 * c];
    const ptrdiff_t total = (ptrdiff_t)g->h * g->w * g->cin;
    L.words = (g->kw * g->cin + 3) >> 2;
    L.row = (ptrdiff_t)g->w * g->cin;
    L.end = total - ((K + 3) & ~3);
    ptrdiff_t reach = (ptrdiff_t)(g->kh - 1) * L.row + 4 * L.words; /* a copied field's reads */
    if (v != V_1D && mf_rt_conv_s8_tabbed(g)) {
        L.tabbed = 1, L.tab = tab, L.cross = cross;
        for (int gi = 0, i = 0; gi < groups; gi++, i += 4) {
            tab[gi] = (int32_t)((ptrdiff_t)(i / n) * L.row + i % n);
            if (i % n + 4 <= n || i / n + 1 >= g->kh) continue;
            int32_t *c = cross + 5 * L.ncross++;   /* patch_s8 */
            const int r = i / n, in_a = n - i % n; /* its row, its values in that row (1-3) */
            c[0] = 32 * gi;
            c[1] = (int32_t)((ptrdiff_t)r * L.row + n - 4);
            c[2] = (int32_t)((ptrdiff_t)(r + 1) * L.row - in_a);
            c[3] = 32 - 8 * in_a;
            c[4] = (int32_t)(0xFFFFFFFFu << (8 * in_a));
        }
        if (tab[groups - 1] + 4 > reach) reach = tab[groups - 1] + 4;
    }
    L.copy_end = total - reach;
    L.slotted = slots < 4;
    col[slots * K] = col[slots * K + 1] = col[slots * K + 2] = col[slots * K + 3] = 0;
    walk_s8(&L, pkh, pkw, psh, psw, out, v);
}

MF_RT_NOINLINE void conv_s8_any(const mf_rt_geom *g, int pkh, int pkw, int psh, int psw,
                                const int8_t *in, const int8_t *w, const int32_t *bias,
                                const mf_rt_requant *rq, int8_t *out, void *scratch)
{
    conv_s8_engine(g, pkh, pkw, psh, psw, in, w, bias, rq, out, scratch, V_ANY);
}

void mf_rt_conv_s8_opt(const mf_rt_geom *g, const int8_t *in, const int8_t *w, const int32_t *bias,
                       const mf_rt_requant *rq, int8_t *out, void *scratch)
{
    conv_s8_any(g, 1, 1, 1, 1, in, w, bias, rq, out, scratch);
}

void mf_rt_conv_maxpool_s8_opt(const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh,
                               int pool_sw, const int8_t *in, const int8_t *w, const int32_t *bias,
                               const mf_rt_requant *rq, int8_t *out, void *scratch)
{
    conv_s8_any(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, rq, out, scratch);
}

/* 1D variants: a geometry they do not cover (mf_rt_conv1d_s8_covers) writes nothing (the lowering
 * only calls them for 1D layers, and a 2D fallback would link the generic engine into every 1D
 * firmware). */
MF_RT_NOINLINE void conv_s8_1d(const mf_rt_geom *g, int pkw, const int8_t *in, const int8_t *w,
                               const int32_t *bias, const mf_rt_requant *rq, int8_t *out,
                               void *scratch)
{
    conv_s8_engine(g, 1, pkw, 1, pkw, in, w, bias, rq, out, scratch, V_1D);
}

void mf_rt_conv1d_s8_opt(const mf_rt_geom *g, const int8_t *in, const int8_t *w,
                         const int32_t *bias, const mf_rt_requant *rq, int8_t *out, void *scratch)
{
    if (mf_rt_conv1d_s8_covers(g, 1, 1, 1, 1)) conv_s8_1d(g, 1, in, w, bias, rq, out, scratch);
}

void mf_rt_conv1d_maxpool_s8_opt(const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh,
                                 int pool_sw, const int8_t *in, const int8_t *w,
                                 const int32_t *bias, const mf_rt_requant *rq, int8_t *out,
                                 void *scratch)
{
    if (mf_rt_conv1d_s8_covers(conv, pool_kh, pool_kw, pool_sh, pool_sw))
        conv_s8_1d(conv, pool_kw, in, w, bias, rq, out, scratch);
}

/* The wide-row variant (mf_rt_conv_wide_s8_covers: every geometry). */
MF_RT_NOINLINE void conv_s8_wide(const mf_rt_geom *g, int pkh, int pkw, int psh, int psw,
                                 const int8_t *in, const int8_t *w, const int32_t *bias,
                                 const mf_rt_requant *rq, int8_t *out, void *scratch)
{
    conv_s8_engine(g, pkh, pkw, psh, psw, in, w, bias, rq, out, scratch, V_WIDE);
}

void mf_rt_conv_wide_s8_opt(const mf_rt_geom *g, const int8_t *in, const int8_t *w,
                            const int32_t *bias, const mf_rt_requant *rq, int8_t *out,
                            void *scratch)
{
    conv_s8_wide(g, 1, 1, 1, 1, in, w, bias, rq, out, scratch);
}

void mf_rt_conv_wide_maxpool_s8_opt(const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh,
                                    int pool_sw, const int8_t *in, const int8_t *w,
                                    const int32_t *bias, const mf_rt_requant *rq, int8_t *out,
                                    void *scratch)
{
    conv_s8_wide(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, rq, out, scratch);
}

#endif /* MF_RT_OPT_INT */
