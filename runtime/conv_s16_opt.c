/* int16 convolution, fused convolution + max pool, and dense: the optimized paths (see
 * mf_rt_dsp.h for when they are used). Bit-identical to conv.c's and dense.c's references for
 * every input.
 *
 * The int8 engine's structure (conv_s8_opt.c): one small loop structure serves every geometry
 * (1D, 2D, strides, padding, any pool window).
 *
 * Convolution: the conv positions to compute are walked window by window (a plain conv is a
 * pool of one tap) and taken four at a time ("quads"). The four receptive fields (K = kh·kw·cin
 * values, weight order [ky][kx][ci]) are interleaved once into lanes: per pair of values one
 * word (2 int16) of each position. A field is copied from where it lies in the input when it is
 * contiguous there (kernel one row high, not over an edge), else gathered with zeros where the
 * window hangs over the input's edge. Every output channel then runs one inner loop over the
 * lanes (mac_s16_4x1, inline assembly on the M4): per pair of values one LDR of the channel's 2
 * weights straight from flash, 2 LDM of lanes and 4 SMLALD into four int64 accumulators: 8 MACs
 * in 7 instructions. Weights are read as stored ([cout][kh][kw][cin], no repacking, no copy);
 * an odd K's last weight comes from the word that ends with it, shifted, so no read leaves the
 * weight array. Sums are the reference's int64 sums, added in another order: integer addition
 * does not care. (An int32 SMLAD accumulator would need Σ|w|·2^15 + |bias| < 2^31, which int16
 * weights scaled to their format almost never meet: one engine, int64.)
 *
 * Requantization: when every channel passes the bound of init_s16 (the usual case: shift s in
 * [1, 31] and |bias + 2^(s−1)| + K·2^30 < 2^(31+s)), accumulators start at bias + 2^(s−1)
 * (half-up), (acc >> s) fits in int32, so its low word (two shifts and an OR of the halves) goes
 * through SSAT/USAT, in the assembly, straight into the output. Otherwise every channel starts at
 * its bias, the loop hands back the int64 sums and the reference's mf_rt_requant_s64 ends them.
 * Fused max pool: requantization is monotonic (shift, rounding, saturation and ReLU never reverse
 * an order) and one channel has one shift, so the maximum of the requantized outputs equals the
 * requantized maximum: a window's first tap stores its requantized value into the output, the
 * others are stored into a row of scratch and folded in with max, two channels per SSUB16 + SEL.
 * Dense: outputs in pairs sharing each input word (SMLALD), the conv's requantization.
 * Working memory: the caller's scratch of mf_rt_conv_s16_scratch_bytes() (the lanes, a start and
 * a shift per channel, 4 rows of outputs to fold: 16·⌈K/2⌉ + 17·cout bytes, planned in the
 * arena); the stack holds only the frames. */
#include "mf_rt_dsp.h"

#if defined(MF_RT_OPT_INT)

/* What the multiply-add loop reads (mac_s16_4x1); the assembly copies it to its frame. */
typedef struct {
    void *d[4];            /*  0: per position, the first channel's output (raw: d[0] only) */
    const uint32_t *lanes; /* 16: per pair of values 4 words, one per position */
    const int16_t *w;      /* 20: the first channel's weights (the others follow, K apart) */
    const int64_t *init;   /* 24: accumulator start per channel */
    const uint8_t *shifts; /* 28: shift per channel; NULL: raw */
    int pk;                /* 32: passes << 3 | (K odd) << 2 | pairs skipped in the first pass */
    const int16_t *w_end;  /* 36: the last channel's weights end here */
    int relu;              /* 40: saturate to [0, 32767], not to int16 */
} job_s16;

/* The loop's pk for K values: the K/2 pairs go 4 per pass, the first pass skipping the
 * missing ones. */
MF_RT_INLINE int pk_s16(int K)
{
    const int pairs = K >> 1;
    return ((pairs + 3) >> 2) << 3 | (K & 1) << 2 | (-pairs & 3);
}

/* For each channel: the 4 positions' sums init + Σ lanes·weights over K values; requantized to
 * int16 at d[e] + c (shifts), or handed back, 4 int64 per channel from d[0] (raw). Per pair of
 * values one LDR of 2 weights, 2 LDM of lanes and 4 SMLALD: 8 MACs in 7 instructions. The last
 * weight of an odd K comes from the word that ends at it (K ≥ 2: inside the array) shifted right
 * by 16: it lands in the low half with a zero above, so the lanes' value past K (any) is
 * multiplied by 0. */
#if defined(MF_RT_EMULATE_DSP)
MF_RT_NOINLINE void mac_s16_4x1(const job_s16 *j)
{
    const int16_t *w = j->w;
    const int pairs = 4 * (j->pk >> 3) - (j->pk & 3), half = (j->pk >> 2) & 1;
    int16_t *d[4] = {j->d[0], j->d[1], j->d[2], j->d[3]};
    int64_t *raw = j->d[0];
    const int64_t *init = j->init;
    const uint8_t *shifts = j->shifts;
    while (w != j->w_end) {
        const uint32_t *l = j->lanes;
        const int64_t i = *init++;
        int64_t a[4] = {i, i, i, i};
        for (int p = 0; p < pairs + half; p++, l += 4) {
            uint32_t k;
            if (p == pairs) /* the odd K's last weight: the word that ends at it */
                k = mf_ld32(w - 1) >> 16, w -= 1;
            else
                k = mf_ld32(w);
            w += 2;
            for (int e = 0; e < 4; e++)
                a[e] = mf_smlald(l[e], k, a[e]);
        }
        if (!shifts) {
            for (int e = 0; e < 4; e++)
                *raw++ = a[e];
            continue;
        }
        const int s = *shifts++;
        for (int e = 0; e < 4; e++) {
            const int32_t v = mf_s32((uint32_t)a[e] >> s | (uint32_t)(a[e] >> 32) << (32 - s));
            *d[e]++ = (int16_t)(j->relu ? mf_usat15(v) : mf_ssat16(v));
        }
    }
}
#else
/* The same in assembly (naked; the job copied to the stack frame): GCC would spill some of the
 * 14 values the inner loop keeps live (8 accumulator words, 2 lanes, the weights, 2 pointers
 * and the counter). 4 pairs per pass; the first pass is entered past the pairs it skips (TBB). */
/* One pair of values: r2 → the channel's weights, r1 → the 4 lane words (both advanced). */
#define MAC_S16_LANES                                                                              \
    "ldm r1!, {r3, lr}\n\t"                                                                        \
    "smlald r4, r5, r3, r12\n\t"                                                                   \
    "smlald r6, r7, lr, r12\n\t"                                                                   \
    "ldm r1!, {r3, lr}\n\t"                                                                        \
    "smlald r8, r9, r3, r12\n\t"                                                                   \
    "smlald r10, r11, lr, r12\n\t"
#define MAC_S16_PAIR "ldr r12, [r2], #4\n\t" MAC_S16_LANES
/* The low word of (acc >> s) into the accumulator's low register: r3 = s, lr = 32 − s. */
#define MAC_S16_SHIFT(LO, HI)                                                                      \
    "lsr " LO ", " LO ", r3\n\t"                                                                   \
    "lsl " HI ", " HI ", lr\n\t"                                                                   \
    "orr " LO ", " LO ", " HI "\n\t"
/* clang-format off */
__attribute__((naked, noinline)) static void mac_s16_4x1(MF_RT_UNUSED const job_s16 *j)
{
    __asm__ volatile("push {r4-r11, lr}\n\t"
                     "sub sp, sp, #44\n\t" /* the job: [sp] d[4], lanes, w, init, shifts, pk, w_end, relu */
                     "ldm r0, {r1-r11}\n\t"
                     "stm sp, {r1-r11}\n\t"
                     "ldr r2, [r0, #20]\n\t"
                     "0:\n\t" /* r2: this channel's weights (each loop ends at the next's) */
                     "ldr r12, [sp, #24]\n\t"
                     "ldrd r4, r5, [r12]\n\t"
                     "ldrd r6, r7, [r12]\n\t"
                     "ldrd r8, r9, [r12]\n\t"
                     "ldrd r10, r11, [r12], #8\n\t"
                     "str r12, [sp, #24]\n\t"
                     "ldr r1, [sp, #16]\n\t"
                     "ldr r0, [sp, #32]\n\t"
                     "and r3, r0, #3\n\t"
                     "lsrs r0, r0, #3\n\t" /* passes */
                     "beq 3f\n\t"
                     "tbb [pc, r3]\n\t"
                     "9:\n\t"
                     ".byte (2f - 9b) / 2, (10f - 9b) / 2, (11f - 9b) / 2, (12f - 9b) / 2\n\t"
                     "2:\n\t"
                     MAC_S16_PAIR
                     "10:\n\t"
                     MAC_S16_PAIR
                     "11:\n\t"
                     MAC_S16_PAIR
                     "12:\n\t"
                     MAC_S16_PAIR
                     "subs r0, r0, #1\n\t"
                     "bne 2b\n\t"
                     "3:\n\t"
                     "ldr r0, [sp, #32]\n\t"
                     "lsls r0, r0, #30\n\t" /* C: K odd */
                     "bcc 4f\n\t"
                     "ldr r12, [r2, #-2]\n\t"
                     "add r2, r2, #2\n\t"
                     "lsr r12, r12, #16\n\t"
                     MAC_S16_LANES
                     "4:\n\t"
                     "ldr r0, [sp, #28]\n\t"
                     "cbnz r0, 13f\n\t"
                     "ldr r12, [sp]\n\t" /* raw */
                     "stm r12!, {r4-r11}\n\t"
                     "str r12, [sp]\n\t"
                     "b 7f\n\t"
                     "13:\n\t"
                     "ldrb r3, [r0], #1\n\t"
                     "str r0, [sp, #28]\n\t"
                     "rsb lr, r3, #32\n\t"
                     MAC_S16_SHIFT("r4", "r5")
                     MAC_S16_SHIFT("r6", "r7")
                     MAC_S16_SHIFT("r8", "r9")
                     MAC_S16_SHIFT("r10", "r11")
                     "ldr r0, [sp, #40]\n\t"
                     "cbnz r0, 5f\n\t"
                     "ssat r4, #16, r4\n\t"
                     "ssat r6, #16, r6\n\t"
                     "ssat r8, #16, r8\n\t"
                     "ssat r10, #16, r10\n\t"
                     "b 6f\n\t"
                     "5:\n\t"
                     "usat r4, #15, r4\n\t"
                     "usat r6, #15, r6\n\t"
                     "usat r8, #15, r8\n\t"
                     "usat r10, #15, r10\n\t"
                     "6:\n\t"
                     "ldm sp, {r0, r1, r3, r12}\n\t"
                     "strh r4, [r0], #2\n\t"
                     "strh r6, [r1], #2\n\t"
                     "strh r8, [r3], #2\n\t"
                     "strh r10, [r12], #2\n\t"
                     "stm sp, {r0, r1, r3, r12}\n\t"
                     "7:\n\t"
                     "ldr r0, [sp, #36]\n\t"
                     "cmp r2, r0\n\t"
                     "bne 0b\n\t"
                     "add sp, sp, #44\n\t"
                     "pop {r4-r11, pc}\n\t");
}
/* clang-format on */
#undef MAC_S16_LANES
#undef MAC_S16_PAIR
#undef MAC_S16_SHIFT
#endif

/* What the quads of one layer share. */
typedef struct {
    const mf_rt_geom *g;
    const int16_t *in, *w;
    const int64_t *init;
    const uint8_t *shifts;
    const mf_rt_requant *rq;
    uint32_t *lanes; /* 4 words per pair of values */
    int16_t *fold;   /* 4 rows of cout outputs that fold into theirs with max */
    int K, pk, fast;
    /* a field is read where it lies in the input for ox in [ox_lo, ox_hi), kernel rows inside
     * it and an offset ≤ `end`; 4 such fields are copied 4 wide (lanes_s16_4) when `direct` (a
     * kernel one row high, or rows of an even kw·cin values: no pair of values straddles two
     * rows; `end` then keeps the last row's reads, rounded up to even, inside the input), one
     * by one otherwise (no read past a field); `n`: values per kernel row, `row`: per input row */
    int direct, ox_lo, ox_hi, n;
    ptrdiff_t row;
    ptrdiff_t end;
} layer_s16;

/* One conv position of a quad: its field (a pointer into the input when every tap lies inside
 * it, or NULL: gather it), its output and whether its value folds into the output with max (a
 * pool window's later taps). */
typedef struct {
    const int16_t *f;
    int16_t *o;
    int oy, ox, fold;
} pos_s16;

/* Position e's field into the lanes (word 4·p + e holds its values 2p and 2p + 1): copied
 * from f row by row, or gathered with zeros outside the input (f NULL; an odd K's value past
 * the field is 0 then, any input value when copied: the weight it meets is 0). */
MF_RT_NOINLINE void lanes_s16_1(const layer_s16 *L, const pos_s16 *q, int e)
{
    const mf_rt_geom *g = L->g;
    uint32_t *l = L->lanes + e;
    if (q->f) { /* a pair may straddle two rows (kw·cin odd): it waits in `half` */
        uint32_t half = 0;
        int odd = 0;
        for (int ky = 0; ky < g->kh; ky++) {
            const int16_t *x = q->f + ky * L->row;
            int i = 0;
            if (odd) *l = half | (uint32_t)(uint16_t)x[0] << 16, l += 4, i = 1;
            for (; i + 2 <= L->n; i += 2, l += 4)
                *l = mf_ld32(x + i);
            odd = i < L->n;
            if (odd) half = (uint16_t)x[i];
        }
        if (odd) *l = half;
        return;
    }
    uint32_t lo = 0;
    int j = 0;
    for (int ky = 0; ky < g->kh; ky++)
        for (int kx = 0; kx < g->kw; kx++) {
            const int iy = q->oy * g->sh - g->pad_top + ky, ix = q->ox * g->sw - g->pad_left + kx;
            const int inside = iy >= 0 && iy < g->h && ix >= 0 && ix < g->w;
            const int16_t *x = L->in + ((ptrdiff_t)iy * g->w + ix) * g->cin;
            for (int ci = 0; ci < g->cin; ci++, j ^= 1) {
                const uint32_t v = inside ? (uint16_t)x[ci] : 0;
                if (!j) {
                    lo = v;
                } else {
                    *l = lo | v << 16;
                    l += 4;
                }
            }
        }
    if (j) *l = lo;
}

/* The lanes of 4 fields that all lie in the input: per pair of values one word of each. */
#if defined(MF_RT_EMULATE_DSP)
MF_RT_NOINLINE void lanes_s16_4(const int16_t *const *f, uint32_t *l, int pairs)
{
    for (int i = 0; i < 2 * pairs; i += 2, l += 4)
        for (int e = 0; e < 4; e++)
            l[e] = mf_ld32(f[e] + i);
}
#else
/* In assembly: 4 LDR and 1 STM per pair (GCC indexes every load and store apart). */
__attribute__((naked, noinline)) static void
lanes_s16_4(MF_RT_UNUSED const int16_t *const *f, MF_RT_UNUSED uint32_t *l, MF_RT_UNUSED int pairs)
{
    __asm__ volatile("push {r4-r7, lr}\n\t"
                     "ldm r0, {r4-r7}\n\t"
                     "1:\n\t"
                     "ldr r0, [r4], #4\n\t"
                     "ldr r3, [r5], #4\n\t"
                     "ldr r12, [r6], #4\n\t"
                     "ldr lr, [r7], #4\n\t"
                     "stm r1!, {r0, r3, r12, lr}\n\t"
                     "subs r2, r2, #1\n\t"
                     "bne 1b\n\t"
                     "pop {r4-r7, pc}\n\t");
}
#endif

/* Every output channel of four conv positions. */
MF_RT_NOINLINE void quad_s16_run(const layer_s16 *L, const pos_s16 *q)
{
    const int K = L->K, cout = L->g->cout, fast = L->fast;
    const int16_t *f[4] = {q[0].f, q[1].f, q[2].f, q[3].f};
    const int wide = L->direct && f[0] && f[1] && f[2] && f[3];
    if (wide && L->g->kh == 1)
        lanes_s16_4(f, L->lanes, (K + 1) >> 1);
    else if (wide)
        for (int ky = 0, pairs = L->n >> 1; ky < L->g->kh; ky++) {
            const int16_t *r[4] = {f[0] + ky * L->row, f[1] + ky * L->row, f[2] + ky * L->row,
                                   f[3] + ky * L->row};
            lanes_s16_4(r, L->lanes + 4 * pairs * ky, pairs);
        }
    else
        for (int e = 0; e < 4; e++)
            lanes_s16_1(L, q + e, e);
    /* a window's later taps go to a row of scratch first, then fold in with max */
    job_s16 j = {{0},   L->lanes,        L->w,       L->init, fast ? L->shifts : NULL,
                 L->pk, L->w + cout * K, L->rq->relu};
    for (int e = 0; e < 4; e++)
        j.d[e] = q[e].fold ? L->fold + e * cout : q[e].o;
    if (fast && K >= 2) {
        mac_s16_4x1(&j);
    } else { /* one channel at a time: the sums back to C, or K = 1 (a copy of the weight) */
        int16_t *d[4] = {j.d[0], j.d[1], j.d[2], j.d[3]};
        for (int c = 0; c < cout; c++) {
            int64_t a[4];
            const int16_t t[2] = {0, L->w[c * K]};
            j.w = K >= 2 ? L->w + c * K : t + 1, j.w_end = j.w + K;
            j.init = L->init + c, j.shifts = fast ? L->shifts + c : NULL;
            for (int e = 0; e < 4; e++)
                j.d[e] = fast ? (void *)(d[e] + c) : (void *)a;
            mac_s16_4x1(&j);
            if (fast) continue;
            const mf_rt_requant *rq = L->rq;
            const int s = rq->shifts ? rq->shifts[c] : rq->shift;
            for (int e = 0; e < 4; e++) {
                const int16_t v = mf_rt_requant_s64(a[e], s, rq->relu, rq->rounding);
                int16_t *o = q[e].o + c;
                *o = q[e].fold && *o > v ? *o : v;
            }
        }
        if (!fast) return;
    }
    for (int e = 0; e < 4; e++) {
        if (!q[e].fold) continue;
        int16_t *o = q[e].o;
        const int16_t *t = L->fold + e * cout;
        int c = 0;
        for (; c + 2 <= cout; c += 2)
            mf_st32(o + c, mf_max_s16x2(mf_ld32(o + c), mf_ld32(t + c)));
        if (c < cout && t[c] > o[c]) o[c] = t[c];
    }
}

/* Channel c's accumulator start, and whether it takes the fast requantization: shift s in
 * [1, 31] and |bias + rc| + K·2^30 < 2^(31+s) (rc = 2^(s−1) for half-up, else 0; every product
 * is at most 2^30 in magnitude), so the sum never leaves int64 and (sum >> s) fits in int32. */
MF_RT_NOINLINE int chan_s16(const int64_t *bias, int c, int s, int rounding, int K, int64_t *init)
{
    const int64_t b = bias ? bias[c] : 0;
    *init = b;
    if (s < 1 || s > 31 || b <= -((int64_t)1 << 61) || b >= (int64_t)1 << 61) return 0;
    const int64_t v = b + (rounding == MF_RT_ROUND_HALF_UP ? (int64_t)((uint32_t)1 << (s - 1)) : 0);
    const uint64_t mag = v < 0 ? 0u - (uint64_t)v : (uint64_t)v;
    /* mag + K·2^30 < 2^62: below 2^(31+s) iff its high word is below 2^(s−1) */
    if ((uint32_t)((mag + ((uint64_t)K << 30)) >> 32) >> (s - 1)) return 0;
    *init = v;
    return 1;
}

/* The accumulator start and the shift of every channel, and whether all of them take the fast
 * requantization; if not, every channel starts at its plain bias (the reference's). */
MF_RT_NOINLINE int init_s16(const int64_t *bias, const mf_rt_requant *rq, int K, int cout,
                            int64_t *init, uint8_t *shifts)
{
    int fast = 1;
    for (int c = 0; c < cout; c++) {
        const int s = rq->shifts ? rq->shifts[c] : rq->shift;
        fast &= chan_s16(bias, c, s, rq->rounding, K, init + c);
        shifts[c] = (uint8_t)s;
    }
    for (int c = 0; c < cout; c++)
        if (!fast) init[c] = bias ? bias[c] : 0;
    return fast;
}

/* Every tap of every pool window (a plain conv is a pool of one tap), four at a time, row of
 * windows by row of windows and within one kernel row of the windows (wy) after the other; a
 * window's first tap stores its output, the others fold in with max. The last quad repeats its
 * last position: a store or a max again changes nothing. */
MF_RT_NOINLINE void walk_s16(const layer_s16 *L, int pkh, int pkw, int psh, int psw, int16_t *out)
{
    const mf_rt_geom *g = L->g;
    const int cout = g->cout, ox_lo = L->ox_lo, ox_hi = L->ox_hi;
    const int poh = (g->oh - pkh) / psh + 1, pow = (g->ow - pkw) / psw + 1;
    const ptrdiff_t end = L->end, step = (ptrdiff_t)g->sw * g->cin;
    pos_s16 q[4];
    int e = 0;
    for (int py = 0; py < poh; py++, out += (size_t)pow * cout)
        for (int wy = 0; wy < pkh; wy++) {
            const int oy = py * psh + wy, iy = oy * g->sh - g->pad_top;
            const int row_ok = iy >= 0 && iy + g->kh <= g->h;
            const ptrdiff_t row = ((ptrdiff_t)iy * g->w - g->pad_left) * g->cin;
            int16_t *o = out;
            for (int px = 0; px < pow; px++, o += cout)
                for (int wx = 0, ox = px * psw; wx < pkw; wx++, ox++) {
                    const ptrdiff_t at = row + ox * step;
                    q[e].f = row_ok && ox >= ox_lo && ox < ox_hi && at <= end ? L->in + at : NULL;
                    q[e].o = o, q[e].oy = oy, q[e].ox = ox, q[e].fold = wy | wx;
                    if (++e == 4) quad_s16_run(L, q), e = 0;
                }
        }
    if (e == 0) return;
    for (int k = e; k < 4; k++)
        q[k] = q[e - 1];
    quad_s16_run(L, q);
}

/* Plain conv: pkh = pkw = psh = psw = 1. */
static void conv_s16_engine(const mf_rt_geom *g, int pkh, int pkw, int psh, int psw,
                            const int16_t *in, const int16_t *w, const int64_t *bias,
                            const mf_rt_requant *rq, int16_t *out, void *scratch)
{
    if (g->oh < pkh || g->ow < pkw || pkh < 1 || pkw < 1 || psh < 1 || psw < 1 || g->cout < 1)
        return;
    const int K = g->kh * g->kw * g->cin, cout = g->cout;
    if (K < 1) return; /* validated geometries have K ≥ 1 */
    /* scratch (mf_rt_conv_s16_scratch_bytes): starts, lanes, rows to fold, shifts */
    int64_t *init = scratch;
    uint32_t *lanes = (uint32_t *)(init + cout);
    int16_t *fold = (int16_t *)(lanes + 4 * ((K + 1) >> 1));
    uint8_t *shifts = (uint8_t *)(fold + 4 * cout);
    layer_s16 L = {.g = g,
                   .in = in,
                   .w = w,
                   .init = init,
                   .shifts = shifts,
                   .rq = rq,
                   .lanes = lanes,
                   .fold = fold,
                   .K = K,
                   .pk = pk_s16(K)};
    L.n = g->kw * g->cin, L.row = (ptrdiff_t)g->w * g->cin;
    L.direct = g->kh == 1 || (L.n & 1) == 0;
    L.fast = init_s16(bias, rq, K, cout, init, shifts);
    /* interior columns: ox·sw − pad_left ≥ 0 and ox·sw − pad_left + kw ≤ w */
    L.ox_lo = (g->pad_left + g->sw - 1) / g->sw;
    L.ox_hi = g->w + g->pad_left - g->kw >= 0 ? (g->w + g->pad_left - g->kw) / g->sw + 1 : 0;
    L.end =
        L.direct ? (ptrdiff_t)g->h * L.row - ((g->kh - 1) * L.row + L.n + (L.n & 1)) : PTRDIFF_MAX;
    walk_s16(&L, pkh, pkw, psh, psw, out);
}

void mf_rt_conv_s16_opt(const mf_rt_geom *g, const int16_t *in, const int16_t *w,
                        const int64_t *bias, const mf_rt_requant *rq, int16_t *out, void *scratch)
{
    conv_s16_engine(g, 1, 1, 1, 1, in, w, bias, rq, out, scratch);
}

void mf_rt_conv_maxpool_s16_opt(const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh,
                                int pool_sw, const int16_t *in, const int16_t *w,
                                const int64_t *bias, const mf_rt_requant *rq, int16_t *out,
                                void *scratch)
{
    conv_s16_engine(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, rq, out, scratch);
}

/* Dense: output c's requantization (fast: chan_s16 said so). */
MF_RT_NOINLINE int16_t rq_dense_s16(int64_t a, int fast, const mf_rt_requant *rq, int c)
{
    const int s = rq->shifts ? rq->shifts[c] : rq->shift;
    if (!fast) return mf_rt_requant_s64(a, s, rq->relu, rq->rounding);
    const int32_t v = mf_s32((uint32_t)a >> s | (uint32_t)(a >> 32) << (32 - s));
    return (int16_t)(rq->relu ? mf_usat15(v) : mf_ssat16(v));
}

/* Dense: outputs in pairs sharing each input word (SMLALD; an odd n_in's last value in C; an odd
 * last output is computed twice and stored once), the conv's requantization decided per output
 * (chan_s16). */
void mf_rt_dense_s16_opt(int n_in, int n_out, const int16_t *in, const int16_t *w,
                         const int64_t *bias, const mf_rt_requant *rq, int16_t *out)
{
    if (n_in < 0) return;
    for (int c = 0; c < n_out; c += 2) {
        const int d = c + 1 < n_out;
        const int16_t *k0 = w + (size_t)c * n_in, *k1 = k0 + (size_t)d * n_in;
        int64_t a0, a1;
        const int f0 =
            chan_s16(bias, c, rq->shifts ? rq->shifts[c] : rq->shift, rq->rounding, n_in, &a0);
        const int f1 = chan_s16(bias, c + d, rq->shifts ? rq->shifts[c + d] : rq->shift,
                                rq->rounding, n_in, &a1);
        int i = 0;
        for (; i + 2 <= n_in; i += 2) {
            const uint32_t x = mf_ld32(in + i);
            a0 = mf_smlald(x, mf_ld32(k0 + i), a0);
            a1 = mf_smlald(x, mf_ld32(k1 + i), a1);
        }
        if (i < n_in) a0 += (int32_t)in[i] * k0[i], a1 += (int32_t)in[i] * k1[i];
        out[c] = rq_dense_s16(a0, f0, rq, c);
        if (d) out[c + 1] = rq_dense_s16(a1, f1, rq, c + 1);
    }
}

#endif /* MF_RT_OPT_INT */
