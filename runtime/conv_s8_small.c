/* int8 convolution and fused convolution + max pool for small geometries (mf_rt_conv_small_s8,
 * mf_rt_conv_small_maxpool_s8): the optimized path (see mf_rt_dsp.h for when it is used).
 * Bit-identical to conv.c's references. The lowering calls it where mf_rt_conv_s8_choose
 * (mf_rt_conv_small_s8_chosen) says it beats the quad engine of conv_s8_opt.c: layers with 1-3
 * output channels or a few values per receptive field, on which the engine's fixed cost per quad of
 * positions (four fields split into lanes in scratch, a call of its channel loop, the accumulator
 * table) and per call is not amortised.
 *
 * Plain loops, no quads: one output channel at a time, one conv position after the other. For
 * each position the taps inside the input form a rectangle [ky0, ky1) × [kx0, kx1): per kernel
 * row a contiguous run of n = (kx1 − kx0)·cin values in the input and in the channel's weights
 * ([cout][kh][kw][cin], read as stored), so zero padding is neither read nor multiplied. Per 4
 * values: one LDR and 2 SXTB16 of the input, one LDR and 2 SXTB16 of the weights, 2 SMLAD; the
 * n mod 4 last values as a pair and a single (LDRSB, SMLABB). No read leaves the run. Positions
 * side by side with the same rectangle (a row's interior) form one run (run_s8_fast: one call,
 * the loop in assembly on the M4; run_s8_c in C); edge positions run one at a time; from one
 * row to the next a run whose kernel rows all lie inside the input only moves. Sums are exact int32
 * sums (the quantizer bounds them, conv.c), added in another order than the reference's: integer
 * addition does not care.
 *
 * Requantization: when every channel passes the bound of mf_rt_init_s8 (the usual case), the
 * accumulator starts at bias + 2^(s−1) and ends with one shift and SSAT #8 (USAT #7 with ReLU);
 * otherwise it starts at the bias and ends in the reference's mf_rt_requant_s32 (C loop).
 * Fused max pool: windows 2 taps wide over a kernel one row high take the larger of their 2
 * sums in one pass per row of taps; other windows go tap after tap (every pool row). The first
 * pass stores its requantized outputs and every later one folds in with max: requantization is
 * monotonic (shift, rounding, saturation and ReLU never reverse an order) and one channel has
 * one shift, so this is the maximum the reference takes (any window, any stride). `out` must
 * not alias `in`.
 * Working memory: the caller's scratch of mf_rt_conv_small_s8_scratch_bytes() (each channel's
 * accumulator start); the stack holds the frames. */
#include "mf_rt_dsp.h"

#if defined(MF_RT_OPT_INT)

/* A run of conv positions side by side that share their tap rectangle, for one output channel
 * (offsets: the assembly reads them). */
typedef struct {
    const int8_t *x; /*  0: the first position's first value inside the input */
    const int8_t *k; /*  4: the channel's matching weight */
    int8_t *out;     /*  8: the first position's output */
    int8_t *end;     /* 12: out + count·cout */
    int32_t start;   /* 16: the accumulator's start */
    int rows1;       /* 20: kernel rows of the rectangle − 1 (≥ 0) */
    int groups;      /* 24: ⌊n / 4⌋, n = values per kernel row */
    int tail;        /* 28: n mod 4 */
    int xskip;       /* 32: row − n: input values from a row's end to the next row's start */
    int kskip;       /* 36: kw·cin − n: the same in the weights */
    int shift;       /* 40 */
    int fold;        /* 44: 1: fold into the stored outputs with max */
    int cout;        /* 48: output values between positions */
    int dx;          /* 52: input values between positions */
    int relu;        /* 56 */
    int pair;        /* 60: windows of 2 taps side by side (1 × 2 pools, one kernel row): the
                        second tap's input offset; 0: one tap */
} run_job;

/* The run in C, for every requantization (fast: the shift and saturation; else the
 * reference's); on the host (MF_RT_EMULATE_DSP) also the model of the assembly below. */
MF_RT_NOINLINE void run_s8_c(const run_job *J, int fast, int rounding)
{
    const int8_t *x = J->x;
    for (int8_t *out = J->out; out != J->end; out += J->cout, x += J->dx) {
        int32_t a = INT32_MIN; /* the larger of the window's taps (one tap: its sum) */
        for (int t = 0; t < (J->pair ? 2 : 1); t++) {
            const int8_t *xp = x + t * J->pair, *kp = J->k;
            int32_t sum = J->start;
            for (int r = J->rows1;; r--, xp += J->xskip, kp += J->kskip) {
                for (int i = J->groups; i > 0; i--, xp += 4, kp += 4) {
                    const uint32_t u = mf_ld32(xp), v = mf_ld32(kp);
                    sum = mf_smlad(mf_sxtb16(u), mf_sxtb16(v), sum);
                    sum = mf_smlad(mf_sxtb16_ror8(u), mf_sxtb16_ror8(v), sum);
                }
                for (int i = J->tail; i > 0; i--)
                    sum += *xp++ * *kp++;
                if (r == 0) break;
            }
            a = sum > a ? sum : a;
        }
        int8_t o;
        if (fast)
            o = (int8_t)(J->relu ? mf_usat7(a >> J->shift) : mf_ssat8(a >> J->shift));
        else
            o = mf_rt_requant_s32(a, J->shift, J->relu, rounding);
        *out = J->fold && *out > o ? *out : o;
    }
}

#if defined(MF_RT_EMULATE_DSP)
MF_RT_NOINLINE void run_s8_fast(const run_job *J)
{
    run_s8_c(J, 1, MF_RT_ROUND_HALF_UP);
}
#else
/* The fast run in assembly (naked): GCC spills the loop's constants and reloads them per
 * position. r0 x, r2 out, r11 end, r1 the tail (n mod 4), r4 the accumulator, r5/r6 the value
 * and weight pointers, r3 the group count, r7-r10 values, r12 the job, lr the shift; the row
 * count on the stack. Per position: the start, per kernel row the 4-value groups (2 LDR, 4
 * SXTB16, 2 SMLAD), the pair and the single of the tail (LDRSB, SMLABB; LSLS #31 of the tail
 * puts its bit 1 in C and its bit 0 in N), then ASR, SSAT #8 or USAT #7, the fold with the stored
 * output (pool taps after the first) and the store. Eight copies of the loop (ReLU or not, fold
 * or not, one kernel row or more: 1D layers keep no row count) and four for rows of windows 2
 * taps wide of a one-row kernel (ReLU or not, fold or not; the first tap's sum kept in r1, the
 * tail reloaded), chosen once per run (TBH). */
/* clang-format off */
/* A kernel row's ⌊n/4⌋ groups of 4 values (one LDR and 2 SXTB16 each side, 2 SMLAD). */
#define RUN_S8_GROUPS \
    "ldr r3, [r12, #24]\n\t" \
    "cbz r3, 4f\n\t" \
    "3:\n\t" \
    "ldr r9, [r5], #4\n\t" \
    "ldr r8, [r6], #4\n\t" \
    "sxtb16 r10, r9\n\t" \
    "sxtb16 r7, r8\n\t" \
    "smlad r4, r10, r7, r4\n\t" \
    "sxtb16 r9, r9, ror #8\n\t" \
    "sxtb16 r8, r8, ror #8\n\t" \
    "smlad r4, r9, r8, r4\n\t" \
    "subs r3, r3, #1\n\t" \
    "bne 3b\n\t" \
    "4:\n\t"
#define RUN_S8_LOOP(ROWS_HEAD, ROWS_NEXT, SAT, FOLD) \
    "1:\n\t" \
    "ldr r4, [r12, #16]\n\t" \
    "mov r5, r0\n\t" \
    "ldr r6, [r12, #4]\n\t" \
    ROWS_HEAD \
    "2:\n\t" \
    RUN_S8_GROUPS \
    "lsls r7, r1, #31\n\t" \
    "bcc 5f\n\t" \
    "ldrsb r9, [r5], #1\n\t" \
    "ldrsb r8, [r6], #1\n\t" \
    "ldrsb r10, [r5], #1\n\t" \
    "ldrsb r7, [r6], #1\n\t" \
    "smlabb r4, r9, r8, r4\n\t" \
    "smlabb r4, r10, r7, r4\n\t" \
    "5:\n\t" \
    "bpl 6f\n\t" \
    "ldrsb r9, [r5], #1\n\t" \
    "ldrsb r8, [r6], #1\n\t" \
    "smlabb r4, r9, r8, r4\n\t" \
    "6:\n\t" \
    ROWS_NEXT \
    "7:\n\t" \
    "asr r4, r4, lr\n\t" \
    SAT \
    FOLD \
    "strb r4, [r2]\n\t" \
    "ldr r7, [r12, #48]\n\t" \
    "add r2, r2, r7\n\t" \
    "ldr r7, [r12, #52]\n\t" \
    "add r0, r0, r7\n\t" \
    "cmp r2, r11\n\t" \
    "bne 1b\n\t" \
    "b 9f\n\t"
#define RUN_S8_ROWS_HEAD \
    "ldr r7, [r12, #20]\n\t" \
    "str r7, [sp]\n\t"
#define RUN_S8_ROWS_NEXT \
    "ldr r7, [sp]\n\t" \
    "cbz r7, 7f\n\t" \
    "subs r7, r7, #1\n\t" \
    "str r7, [sp]\n\t" \
    "ldr r7, [r12, #32]\n\t" \
    "add r5, r5, r7\n\t" \
    "ldr r7, [r12, #36]\n\t" \
    "add r6, r6, r7\n\t" \
    "b 2b\n\t"
#define RUN_S8_FOLD \
    "ldrsb r7, [r2]\n\t" \
    "cmp r4, r7\n\t" \
    "it lt\n\t" \
    "movlt r4, r7\n\t"
#define RUN_S8_SUMS_T \
    RUN_S8_GROUPS \
    "ldr r7, [r12, #28]\n\t" \
    "lsls r7, r7, #31\n\t" \
    "bcc 5f\n\t" \
    "ldrsb r9, [r5], #1\n\t" \
    "ldrsb r8, [r6], #1\n\t" \
    "ldrsb r10, [r5], #1\n\t" \
    "ldrsb r7, [r6], #1\n\t" \
    "smlabb r4, r9, r8, r4\n\t" \
    "smlabb r4, r10, r7, r4\n\t" \
    "5:\n\t" \
    "bpl 6f\n\t" \
    "ldrsb r9, [r5], #1\n\t" \
    "ldrsb r8, [r6], #1\n\t" \
    "smlabb r4, r9, r8, r4\n\t" \
    "6:\n\t"
#define RUN_S8_PAIR(SAT, FOLD) \
    "1:\n\t" \
    "ldr r4, [r12, #16]\n\t" \
    "mov r5, r0\n\t" \
    "ldr r6, [r12, #4]\n\t" \
    RUN_S8_SUMS_T \
    "mov r1, r4\n\t" \
    "ldr r4, [r12, #16]\n\t" \
    "ldr r7, [r12, #60]\n\t" \
    "add r5, r0, r7\n\t" \
    "ldr r6, [r12, #4]\n\t" \
    RUN_S8_SUMS_T \
    "cmp r4, r1\n\t" \
    "it lt\n\t" \
    "movlt r4, r1\n\t" \
    "asr r4, r4, lr\n\t" \
    SAT \
    FOLD \
    "strb r4, [r2]\n\t" \
    "ldr r7, [r12, #48]\n\t" \
    "add r2, r2, r7\n\t" \
    "ldr r7, [r12, #52]\n\t" \
    "add r0, r0, r7\n\t" \
    "cmp r2, r11\n\t" \
    "bne 1b\n\t" \
    "b 9f\n\t"
#define RUN_S8_SSAT "ssat r4, #8, r4\n\t"
#define RUN_S8_USAT "usat r4, #7, r4\n\t"
__attribute__((naked, noinline)) static void run_s8_fast(MF_RT_UNUSED const run_job *J)
{
    __asm__ volatile("push {r4-r11, lr}\n\t"
                     "sub sp, sp, #4\n\t"
                     "mov r12, r0\n\t"
                     "ldr r0, [r12]\n\t"
                     "ldr r2, [r12, #8]\n\t"
                     "ldr r11, [r12, #12]\n\t"
                     "ldr r1, [r12, #28]\n\t"
                     "ldr lr, [r12, #40]\n\t"
                     "cmp r2, r11\n\t"
                     "beq 9f\n\t"
                     /* copy: relu + 2·fold + 4·(rows > 1), 2-tap windows 8 + relu + 2·fold */
                     "ldr r7, [r12, #56]\n\t"
                     "ldr r3, [r12, #60]\n\t"
                     "cbz r3, 12f\n\t"
                     "ldr r3, [r12, #44]\n\t"
                     "add r7, r7, r3, lsl #1\n\t"
                     "adds r7, r7, #8\n\t"
                     "b 13f\n\t"
                     "12:\n\t"
                     "ldr r3, [r12, #44]\n\t"
                     "add r7, r7, r3, lsl #1\n\t"
                     "ldr r3, [r12, #20]\n\t"
                     "cmp r3, #0\n\t"
                     "it ne\n\t"
                     "addne r7, r7, #4\n\t"
                     "13:\n\t"
                     "tbh [pc, r7, lsl #1]\n\t"
                     "11:\n\t"
                     ".hword (20f - 11b) / 2, (21f - 11b) / 2, (22f - 11b) / 2, (23f - 11b) / 2\n\t"
                     ".hword (24f - 11b) / 2, (25f - 11b) / 2, (26f - 11b) / 2, (27f - 11b) / 2\n\t"
                     ".hword (28f - 11b) / 2, (29f - 11b) / 2, (30f - 11b) / 2, (31f - 11b) / 2\n\t"
                     "20:\n\t"
                     RUN_S8_LOOP("", "", RUN_S8_SSAT, "")
                     "21:\n\t"
                     RUN_S8_LOOP("", "", RUN_S8_USAT, "")
                     "22:\n\t"
                     RUN_S8_LOOP("", "", RUN_S8_SSAT, RUN_S8_FOLD)
                     "23:\n\t"
                     RUN_S8_LOOP("", "", RUN_S8_USAT, RUN_S8_FOLD)
                     "24:\n\t"
                     RUN_S8_LOOP(RUN_S8_ROWS_HEAD, RUN_S8_ROWS_NEXT, RUN_S8_SSAT, "")
                     "25:\n\t"
                     RUN_S8_LOOP(RUN_S8_ROWS_HEAD, RUN_S8_ROWS_NEXT, RUN_S8_USAT, "")
                     "26:\n\t"
                     RUN_S8_LOOP(RUN_S8_ROWS_HEAD, RUN_S8_ROWS_NEXT, RUN_S8_SSAT, RUN_S8_FOLD)
                     "27:\n\t"
                     RUN_S8_LOOP(RUN_S8_ROWS_HEAD, RUN_S8_ROWS_NEXT, RUN_S8_USAT, RUN_S8_FOLD)
                     "28:\n\t"
                     RUN_S8_PAIR(RUN_S8_SSAT, "")
                     "29:\n\t"
                     RUN_S8_PAIR(RUN_S8_USAT, "")
                     "30:\n\t"
                     RUN_S8_PAIR(RUN_S8_SSAT, RUN_S8_FOLD)
                     "31:\n\t"
                     RUN_S8_PAIR(RUN_S8_USAT, RUN_S8_FOLD)
                     "9:\n\t"
                     "add sp, sp, #4\n\t"
                     "pop {r4-r11, pc}\n\t");
}
/* clang-format on */
#endif

/* Valid taps of output o along one axis: [k0, k1) with 0 ≤ o·s − pad + k < size (may be empty). */
MF_RT_INLINE void taps_of(int o, int s, int pad, int size, int k, int *k0, int *k1)
{
    const int at = o * s - pad;
    *k0 = at < 0 ? (-at < k ? -at : k) : 0;
    *k1 = size - at < k ? (size - at > 0 ? size - at : 0) : k;
}

/* What every run of a layer shares. */
typedef struct {
    const int32_t *start;
    const int8_t *shifts;
    int shift, fast, rounding, cout, K;
} layer_small_s8;

/* The run J (its geometry set) for every output channel. */
MF_RT_NOINLINE void run_channels_s8(run_job *J, const layer_small_s8 *L)
{
    const int8_t *k = J->k;
    int8_t *out = J->out, *end = J->end;
    for (int c = 0; c < L->cout; c++) {
        J->k = k + (ptrdiff_t)c * L->K, J->out = out + c, J->end = end + c;
        J->start = L->start[c], J->shift = L->shifts ? L->shifts[c] : L->shift;
        if (L->fast)
            run_s8_fast(J);
        else
            run_s8_c(J, 0, L->rounding);
    }
    J->k = k, J->out = out, J->end = end; /* the run as it was set */
}

/* A run's geometry: `count` positions from conv position (oy, ox) on, every one with the tap
 * rectangle of (oy, ox) (interior: the whole kernel width), outputs from `out` on. */
MF_RT_INLINE void rect_s8(run_job *J, const mf_rt_geom *g, const int8_t *in, const int8_t *w,
                          int oy, int ox, int interior, int count, int8_t *out)
{
    const int cin = g->cin, nrow = g->kw * cin;
    const ptrdiff_t row = (ptrdiff_t)g->w * cin;
    int y0, y1, x0 = 0, x1 = g->kw;
    taps_of(oy, g->sh, g->pad_top, g->h, g->kh, &y0, &y1);
    if (!interior) taps_of(ox, g->sw, g->pad_left, g->w, g->kw, &x0, &x1);
    const int n = (x1 - x0) * cin;
    J->out = out, J->end = out + (ptrdiff_t)count * g->cout;
    J->groups = n >> 2, J->tail = n & 3;
    J->rows1 = y1 - y0 - 1, J->xskip = (int)(row - n), J->kskip = nrow - n;
    if (y1 > y0 && n > 0) {
        J->x = in + (ptrdiff_t)(oy * g->sh - g->pad_top + y0) * row +
               (ptrdiff_t)(ox * g->sw - g->pad_left + x0) * cin;
        J->k = w + (ptrdiff_t)y0 * nrow + x0 * cin;
    } else { /* no tap inside (padding wider than the kernel): the start */
        J->x = in, J->k = w, J->rows1 = 0, J->groups = J->tail = 0;
    }
}

/* Every pool window (pkh × pkw conv positions, strides psh × psw; a plain conv: 1 × 1 of stride
 * 1). Windows 2 taps wide over a one-row kernel: see below. Others: tap after tap of the windows
 * (the first stores, the others fold in with max), per tap pool row after pool row; in a row the
 * windows whose tap has the whole kernel width inside the input form one run, the others run one at
 * a time. Between two rows whose tap has every kernel row inside the input a run only moves (its
 * input and output pointers). */
MF_RT_NOINLINE void conv_small_s8(const mf_rt_geom *g, int pkh, int pkw, int psh, int psw,
                                  const int8_t *in, const int8_t *w, const int32_t *bias,
                                  const mf_rt_requant *rq, int8_t *out, void *scratch)
{
    if (g->oh < pkh || g->ow < pkw || pkh < 1 || pkw < 1 || psh < 1 || psw < 1 || g->cout < 1)
        return;
    const int K = g->kh * g->kw * g->cin, cin = g->cin, cout = g->cout;
    if (K < 1) return; /* validated geometries have K ≥ 1 */
    int32_t *start = scratch;
    layer_small_s8 L = {start, rq->shifts, rq->shift, 0, rq->rounding, cout, K};
    L.fast = mf_rt_init_s8(bias, rq, K, cout, start, 1);
    if (rq->relu != 0 && rq->relu != 1) { /* the fast path knows a plain ReLU or none */
        L.fast = 0;
        for (int c = 0; c < cout; c++)
            start[c] = bias ? bias[c] : 0;
    }
    const int poh = (g->oh - pkh) / psh + 1, pow = (g->ow - pkw) / psw + 1;
    const ptrdiff_t orow = (ptrdiff_t)pow * cout, xrow = (ptrdiff_t)psh * g->sh * g->w * cin;
    run_job J;
    J.cout = cout, J.dx = psw * g->sw * cin, J.relu = rq->relu;
    const int step = psw * g->sw, reach = g->w - g->kw + g->pad_left; /* ox·sw ≤ reach: inside */
    /* conv rows whose kernel rows all lie inside the input: iy = oy·sh − pad_top ∈ [0, h − kh] */
    const int oy_lo = (g->pad_top + g->sh - 1) / g->sh;
    const int oy_hi = g->h - g->kh + g->pad_top < 0 ? -1 : (g->h - g->kh + g->pad_top) / g->sh;
    run_job I; /* the interior runs (J: the edge windows) */
    I.cout = cout, I.dx = J.dx, I.relu = J.relu, I.pair = J.pair = 0;
    if (pkw == 2 && g->kh == 1) {
        /* windows 2 taps wide of a one-row kernel, row of taps after row of taps (the first
         * stores, the others fold in): the windows whose 2 taps both have the whole kernel width
         * inside the input in one pass (the larger of the 2 sums), the others tap after tap */
        const int lo = (g->pad_left + step - 1) / step;
        int hi = reach < 0 || reach / g->sw < 1 ? 0 : (reach / g->sw - 1) / psw + 1;
        hi = hi > pow ? pow : hi < lo ? lo : hi;
        I.pair = g->sw * cin;
        for (int py = 0; py < poh; py++)
            for (int wy = 0; wy < pkh; wy++) {
                const int oy = py * psh + wy;
                int8_t *o = out + (ptrdiff_t)py * orow;
                I.fold = wy > 0;
                for (int px = 0; px < pow; px++) {
                    if (px == lo && hi > lo) {
                        rect_s8(&I, g, in, w, oy, lo * psw, 1, hi - lo, o + (ptrdiff_t)lo * cout);
                        run_channels_s8(&I, &L);
                        px = hi - 1;
                        continue;
                    }
                    for (int t = 0; t < 2; t++) {
                        J.fold = wy > 0 || t > 0;
                        rect_s8(&J, g, in, w, oy, px * psw + t, 0, 1, o + (ptrdiff_t)px * cout);
                        run_channels_s8(&J, &L);
                    }
                }
            }
        return;
    }
    for (int wy = 0; wy < pkh; wy++)
        for (int wx = 0; wx < pkw; wx++) {
            J.fold = wy > 0 || wx > 0;
            /* windows [lo, hi) whose tap (wy, wx) has the whole kernel width inside the input
             * (0 ≤ ix ≤ w − kw, ix = (px·psw + wx)·sw − pad_left): one run per pool row */
            const int lo =
                g->pad_left > wx * g->sw ? (g->pad_left - wx * g->sw + step - 1) / step : 0;
            int hi = reach < 0 || reach / g->sw < wx ? 0 : (reach / g->sw - wx) / psw + 1;
            hi = hi > pow ? pow : hi < lo ? lo : hi;
            I.fold = J.fold;
            int moved = 0; /* I holds the interior run of the row before, whole in y */
            for (int py = 0; py < poh; py++) {
                const int oy = py * psh + wy, whole = oy >= oy_lo && oy <= oy_hi;
                int8_t *o = out + (ptrdiff_t)py * orow;
                for (int px = 0; px < pow; px++) {
                    if (px == lo && hi > lo) {
                        if (moved && whole)
                            I.x += xrow, I.out += orow, I.end += orow;
                        else
                            rect_s8(&I, g, in, w, oy, lo * psw + wx, 1, hi - lo,
                                    o + (ptrdiff_t)lo * cout);
                        run_channels_s8(&I, &L);
                        moved = whole;
                        px = hi - 1;
                        continue;
                    }
                    rect_s8(&J, g, in, w, oy, px * psw + wx, 0, 1, o + (ptrdiff_t)px * cout);
                    run_channels_s8(&J, &L);
                }
            }
        }
}

void mf_rt_conv_small_s8_opt(const mf_rt_geom *g, const int8_t *in, const int8_t *w,
                             const int32_t *bias, const mf_rt_requant *rq, int8_t *out,
                             void *scratch)
{
    conv_small_s8(g, 1, 1, 1, 1, in, w, bias, rq, out, scratch);
}

void mf_rt_conv_small_maxpool_s8_opt(const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh,
                                     int pool_sw, const int8_t *in, const int8_t *w,
                                     const int32_t *bias, const mf_rt_requant *rq, int8_t *out,
                                     void *scratch)
{
    conv_small_s8(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, rq, out, scratch);
}

#endif /* MF_RT_OPT_INT */
