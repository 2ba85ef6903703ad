/* int8 convolution and fused convolution + max pool for layers one kernel row high whose fields
 * hold at most 16 values (K = kw·cin ≤ 16) and that have several output channels
 * (mf_rt_conv_dot_s8, _maxpool_s8): the optimized path (see mf_rt_dsp.h for when it is used).
 * Bit-identical to conv.c's references. The lowering calls them where mf_rt_conv_s8_choose
 * (mf_rt_conv_dot_s8_chosen) says they beat the other kernels: 2D 1×1 convs and 1D layers of 8
 * or 15-16 values per field with 8 or more output channels, where the quad engine's fixed cost
 * per quad of positions and per channel around the MACs is not amortised by so few values.
 *
 * Channels innermost, one position after the other: a position's field (K values, read in place
 * as 2 or 4 words) is split once into 16-bit lanes kept in registers (SXTB16 / SXTB16 ROR #8:
 * the pairs (v0, v2), (v1, v3) of each word), then every channel takes one LDM of its block (its
 * weights split the same way, zero past K, with its accumulator start and shift in the same
 * block), one SMLAD per pair, a shift, SSAT #8 (USAT #7 with ReLU) and a byte store. The blocks
 * are made once per call in scratch. Zero padding: the input is copied once per call with its
 * zero border (and zeros past its end for the word reads of the last field) when the layer pads;
 * otherwise fields are read in place, and the last positions whose word reads would pass the
 * input's end read a copy of their field on the stack.
 *
 * Requantization: when every channel passes the bound of mf_rt_dsp.h (as mf_rt_init_s8 checks
 * it) and the activation is none or a plain ReLU (the usual case), the accumulator starts at
 * bias + 2^(s−1) and ends with one shift and SSAT #8 / USAT #7; otherwise the call is the
 * reference's (conv.c), which is rare enough not to need a loop of its own. Fused max pool
 * (windows at most 2 wide that tile the rows, pool_sw = pool_kw; any pool_kh, pool_sh): with
 * K ≤ 8 and windows 2 wide, both taps of a window in one pass, the larger sum requantized once
 * (requantization is monotonic), a window's later rows folded into the output there with max;
 * otherwise a chunk of a window row's conv outputs is computed into scratch and folded into the
 * pooled outputs bytewise. Either is the reference's maximum: every tap requantized as the
 * reference does, and the max of int8 values does not depend on their order.
 * `out` must not alias `in`, but on 1D layers it may start up to mf_rt_conv_dot_s8_lag bytes
 * past it (mf_runtime.h says why).
 * Working memory: mf_rt_conv_dot_s8_scratch_bytes() (the blocks, the pooled form's chunk, the
 * padded input copy when the layer pads). */
#include "mf_rt_dsp.h"

#if defined(MF_RT_OPT_INT)

/* A run of positions: n fields `step` bytes apart from f, each into the outputs of every
 * channel (blocks w up to wend) stored one after the other from out. The pair runs (K ≤ 8, pool
 * windows 2 wide): n windows, the fields f + i·step and f + i·step + dx, each channel's larger
 * sum requantized (and with `fold`, the larger of it and the output already there). */
typedef struct {
    const int8_t *f;
    ptrdiff_t step;
    int n;
    const uint32_t *w, *wend;
    int8_t *out;
    ptrdiff_t dx;
} dt_run;

/* Words per channel block: 2 lane groups of 4 values → start, 4 weight pairs, shift (K ≤ 8);
 * 4 → start, 8 pairs, shift (K ≤ 16). The last channel's shift word has bit 31 set: the loops
 * that have no register left for the blocks' end stop on it (ASR reads the shift's low byte
 * only). */
#define DT_BLOCK1 6
#define DT_BLOCK2 10
#define DT_LAST   0x80000000u

#if defined(MF_RT_EMULATE_DSP)
/* The portable twin of the assembly below: the same blocks, the same arithmetic. */
MF_RT_INLINE void dt_rows(const dt_run *r, int pairs, int relu)
{
    const int words = pairs / 2, block = pairs + 2;
    const int8_t *f = r->f;
    int8_t *out = r->out;
    for (int i = 0; i < r->n; i++, f += r->step) {
        uint32_t lane[8];
        for (int j = 0; j < words; j++) {
            const uint32_t u = mf_ld32(f + 4 * j);
            lane[2 * j] = mf_sxtb16(u), lane[2 * j + 1] = mf_sxtb16_ror8(u);
        }
        for (const uint32_t *b = r->w; b != r->wend; b += block) {
            int32_t acc = mf_s32(b[0]);
            for (int j = 0; j < pairs; j++)
                acc = mf_smlad(b[1 + j], lane[j], acc);
            acc >>= (int)(b[pairs + 1] & 0xFFu);
            *out++ = (int8_t)(relu ? mf_usat7(acc) : mf_ssat8(acc));
        }
    }
}
/* The pair runs' twin (K ≤ 8: 4 pairs per field). */
MF_RT_INLINE void dt_pairs(const dt_run *r, int relu, int fold)
{
    const int8_t *f = r->f;
    int8_t *out = r->out;
    for (int i = 0; i < r->n; i++, f += r->step) {
        uint32_t a[4], b[4];
        for (int j = 0; j < 2; j++) {
            const uint32_t u = mf_ld32(f + 4 * j), v = mf_ld32(f + r->dx + 4 * j);
            a[2 * j] = mf_sxtb16(u), a[2 * j + 1] = mf_sxtb16_ror8(u);
            b[2 * j] = mf_sxtb16(v), b[2 * j + 1] = mf_sxtb16_ror8(v);
        }
        for (const uint32_t *k = r->w; k != r->wend; k += DT_BLOCK1, out++) {
            int32_t x = mf_s32(k[0]), y = x;
            for (int j = 0; j < 4; j++)
                x = mf_smlad(k[1 + j], a[j], x), y = mf_smlad(k[1 + j], b[j], y);
            x = (x > y ? x : y) >> (int)(k[5] & 0xFFu);
            x = relu ? mf_usat7(x) : mf_ssat8(x);
            *out = (int8_t)(fold && *out > x ? *out : x);
        }
    }
}
MF_RT_NOINLINE void dt_pair(const dt_run *r)
{
    dt_pairs(r, 0, 0);
}
MF_RT_NOINLINE void dt_pair_relu(const dt_run *r)
{
    dt_pairs(r, 1, 0);
}
MF_RT_NOINLINE void dt_pair_fold(const dt_run *r)
{
    dt_pairs(r, 0, 1);
}
MF_RT_NOINLINE void dt_pair_fold_relu(const dt_run *r)
{
    dt_pairs(r, 1, 1);
}
MF_RT_NOINLINE void dt_run1(const dt_run *r)
{
    dt_rows(r, 4, 0);
}
MF_RT_NOINLINE void dt_run1_relu(const dt_run *r)
{
    dt_rows(r, 4, 1);
}
MF_RT_NOINLINE void dt_run2(const dt_run *r)
{
    dt_rows(r, 8, 0);
}
MF_RT_NOINLINE void dt_run2_relu(const dt_run *r)
{
    dt_rows(r, 8, 1);
}
#else
/* clang-format off */
/* In assembly (naked): GCC would spill some of the 12-14 values the loops keep live.
 * K ≤ 8: lanes r0-r3, a block r4-r9, r10 → blocks, r11 → outputs, lr: the blocks' end, r12 → the
 * next field; [sp] step, [sp, #4] first block, [sp, #8] positions left, [sp, #12] cout odd. Two
 * channels per pass, the first entered past one channel when cout is odd. */
#define DT_CH1(SAT)                                                                                \
    "ldm r10!, {r4-r9}\n\t"                                                                        \
    "smlad r4, r5, r0, r4\n\t"                                                                     \
    "smlad r4, r6, r1, r4\n\t"                                                                     \
    "smlad r4, r7, r2, r4\n\t"                                                                     \
    "smlad r4, r8, r3, r4\n\t"                                                                     \
    "asr r4, r4, r9\n\t" SAT "strb r4, [r11], #1\n\t"
#define DT_RUN1(NAME, SAT)                                                                         \
    __attribute__((naked, noinline)) static void NAME(MF_RT_UNUSED const dt_run *r)                \
    {                                                                                              \
        __asm__ volatile("push {r4-r11, lr}\n\t"                                                   \
                         "sub sp, sp, #16\n\t"                                                     \
                         "ldm r0, {r1-r6}\n\t" /* f, step, n, w, wend, out */                      \
                         "mov r12, r1\n\t"                                                         \
                         "mov lr, r5\n\t"                                                          \
                         "mov r11, r6\n\t"                                                         \
                         "subs r5, r5, r4\n\t"                                                     \
                         "lsrs r5, r5, #3\n\t" /* cout·3: odd iff cout is */                      \
                         "and r5, r5, #1\n\t"                                                      \
                         "strd r2, r4, [sp]\n\t"                                                   \
                         "strd r3, r5, [sp, #8]\n\t"                                               \
                         "1:\n\t"                                                                  \
                         "ldr r2, [r12, #4]\n\t"                                                   \
                         "ldr r1, [r12]\n\t"                                                       \
                         "sxtb16 r3, r2, ror #8\n\t"                                               \
                         "sxtb16 r2, r2\n\t"                                                       \
                         "sxtb16 r0, r1\n\t"                                                       \
                         "sxtb16 r1, r1, ror #8\n\t"                                               \
                         "ldrd r4, r10, [sp]\n\t"                                                  \
                         "add r12, r12, r4\n\t"                                                    \
                         "ldr r4, [sp, #12]\n\t"                                                   \
                         "cbnz r4, 3f\n\t"                                                         \
                         "2:\n\t"                                                                  \
                         DT_CH1(SAT)                                                               \
                         "3:\n\t"                                                                  \
                         DT_CH1(SAT)                                                               \
                         "cmp r10, lr\n\t"                                                         \
                         "bne 2b\n\t"                                                              \
                         "ldr r4, [sp, #8]\n\t"                                                    \
                         "subs r4, r4, #1\n\t"                                                     \
                         "str r4, [sp, #8]\n\t"                                                    \
                         "bne 1b\n\t"                                                              \
                         "add sp, sp, #16\n\t"                                                     \
                         "pop {r4-r11, pc}\n\t");                                                  \
    }
/* K ≤ 16: lanes r0-r7, the accumulator r8, weights r9, r10, lr, r11 → blocks, r12 → outputs;
 * [sp] the next field, [sp, #4] step, [sp, #8] first block, [sp, #12] positions left. */
#define DT_RUN2(NAME, SAT)                                                                         \
    __attribute__((naked, noinline)) static void NAME(MF_RT_UNUSED const dt_run *r)                \
    {                                                                                              \
        __asm__ volatile("push {r4-r11, lr}\n\t"                                                   \
                         "sub sp, sp, #16\n\t"                                                     \
                         "ldm r0, {r1-r4}\n\t" /* f, step, n, w */                                 \
                         "ldr r12, [r0, #20]\n\t"                                                  \
                         "strd r1, r2, [sp]\n\t"                                                   \
                         "strd r4, r3, [sp, #8]\n\t"                                               \
                         "1:\n\t"                                                                  \
                         "ldrd r8, r9, [sp]\n\t"                                                   \
                         "ldr r1, [r8]\n\t"                                                        \
                         "ldr r3, [r8, #4]\n\t"                                                    \
                         "ldr r5, [r8, #8]\n\t"                                                    \
                         "ldr r7, [r8, #12]\n\t"                                                   \
                         "add r8, r8, r9\n\t"                                                      \
                         "str r8, [sp]\n\t"                                                        \
                         "sxtb16 r0, r1\n\t"                                                       \
                         "sxtb16 r1, r1, ror #8\n\t"                                               \
                         "sxtb16 r2, r3\n\t"                                                       \
                         "sxtb16 r3, r3, ror #8\n\t"                                               \
                         "sxtb16 r4, r5\n\t"                                                       \
                         "sxtb16 r5, r5, ror #8\n\t"                                               \
                         "sxtb16 r6, r7\n\t"                                                       \
                         "sxtb16 r7, r7, ror #8\n\t"                                               \
                         "ldr r11, [sp, #8]\n\t"                                                   \
                         "2:\n\t"                                                                  \
                         "ldm r11!, {r8, r9, r10, lr}\n\t"                                         \
                         "smlad r8, r9, r0, r8\n\t"                                                \
                         "smlad r8, r10, r1, r8\n\t"                                               \
                         "smlad r8, lr, r2, r8\n\t"                                                \
                         "ldm r11!, {r9, r10, lr}\n\t"                                             \
                         "smlad r8, r9, r3, r8\n\t"                                                \
                         "smlad r8, r10, r4, r8\n\t"                                               \
                         "smlad r8, lr, r5, r8\n\t"                                                \
                         "ldm r11!, {r9, r10, lr}\n\t"                                             \
                         "smlad r8, r9, r6, r8\n\t"                                                \
                         "smlad r8, r10, r7, r8\n\t"                                               \
                         "asr r8, r8, lr\n\t" SAT "strb r8, [r12], #1\n\t"                         \
                         "cmp lr, #0\n\t"                                                          \
                         "bge 2b\n\t"                                                              \
                         "ldr r8, [sp, #12]\n\t"                                                   \
                         "subs r8, r8, #1\n\t"                                                     \
                         "str r8, [sp, #12]\n\t"                                                   \
                         "bne 1b\n\t"                                                              \
                         "add sp, sp, #16\n\t"                                                     \
                         "pop {r4-r11, pc}\n\t");                                                  \
    }
/* The pair runs: the lanes of the two fields r0-r3 and r4-r7, the two sums r8 (the start's
 * register) and r9, weights r10, r11, r12 → blocks, lr → outputs; [sp] the next window's first
 * field, [sp, #4] step, [sp, #8] first block, [sp, #12] windows left, [sp, #16] dx. The larger
 * sum is shifted once (requantization is monotonic); FOLD: then the larger of it and the output
 * there. */
#define DT_PAIR(NAME, SAT, FOLD)                                                                   \
    __attribute__((naked, noinline)) static void NAME(MF_RT_UNUSED const dt_run *r)                \
    {                                                                                              \
        __asm__ volatile("push {r4-r11, lr}\n\t"                                                   \
                         "sub sp, sp, #24\n\t"                                                     \
                         "ldm r0, {r1-r4}\n\t" /* f, step, n, w */                                 \
                         "ldr lr, [r0, #20]\n\t"                                                   \
                         "ldr r5, [r0, #24]\n\t"                                                   \
                         "strd r1, r2, [sp]\n\t"                                                   \
                         "strd r4, r3, [sp, #8]\n\t"                                               \
                         "str r5, [sp, #16]\n\t"                                                   \
                         "1:\n\t"                                                                  \
                         "ldrd r8, r9, [sp]\n\t"                                                   \
                         "ldr r10, [sp, #16]\n\t"                                                  \
                         "add r11, r8, r10\n\t"                                                    \
                         "ldr r1, [r8]\n\t"                                                        \
                         "ldr r3, [r8, #4]\n\t"                                                    \
                         "ldr r5, [r11]\n\t"                                                       \
                         "ldr r7, [r11, #4]\n\t"                                                   \
                         "add r8, r8, r9\n\t"                                                      \
                         "str r8, [sp]\n\t"                                                        \
                         "sxtb16 r0, r1\n\t"                                                       \
                         "sxtb16 r1, r1, ror #8\n\t"                                               \
                         "sxtb16 r2, r3\n\t"                                                       \
                         "sxtb16 r3, r3, ror #8\n\t"                                               \
                         "sxtb16 r4, r5\n\t"                                                       \
                         "sxtb16 r5, r5, ror #8\n\t"                                               \
                         "sxtb16 r6, r7\n\t"                                                       \
                         "sxtb16 r7, r7, ror #8\n\t"                                               \
                         "ldr r12, [sp, #8]\n\t"                                                   \
                         "2:\n\t"                                                                  \
                         "ldm r12!, {r8, r10, r11}\n\t"                                            \
                         "smlad r9, r10, r4, r8\n\t"                                               \
                         "smlad r8, r10, r0, r8\n\t"                                               \
                         "smlad r9, r11, r5, r9\n\t"                                               \
                         "smlad r8, r11, r1, r8\n\t"                                               \
                         "ldm r12!, {r10, r11}\n\t"                                                \
                         "smlad r9, r10, r6, r9\n\t"                                               \
                         "smlad r8, r10, r2, r8\n\t"                                               \
                         "smlad r9, r11, r7, r9\n\t"                                               \
                         "smlad r8, r11, r3, r8\n\t"                                               \
                         "ldr r10, [r12], #4\n\t"                                                  \
                         "cmp r8, r9\n\t"                                                          \
                         "it lt\n\t"                                                               \
                         "movlt r8, r9\n\t"                                                        \
                         "asr r8, r8, r10\n\t" SAT FOLD "strb r8, [lr], #1\n\t"                    \
                         "cmp r10, #0\n\t"                                                         \
                         "bge 2b\n\t"                                                              \
                         "ldr r8, [sp, #12]\n\t"                                                   \
                         "subs r8, r8, #1\n\t"                                                     \
                         "str r8, [sp, #12]\n\t"                                                   \
                         "bne 1b\n\t"                                                              \
                         "add sp, sp, #24\n\t"                                                     \
                         "pop {r4-r11, pc}\n\t");                                                  \
    }
#define DT_FOLD "ldrsb r9, [lr]\n\tcmp r8, r9\n\tit lt\n\tmovlt r8, r9\n\t"
DT_PAIR(dt_pair, "ssat r8, #8, r8\n\t", "")
DT_PAIR(dt_pair_relu, "usat r8, #7, r8\n\t", "")
DT_PAIR(dt_pair_fold, "ssat r8, #8, r8\n\t", DT_FOLD)
DT_PAIR(dt_pair_fold_relu, "usat r8, #7, r8\n\t", DT_FOLD)
DT_RUN1(dt_run1, "ssat r4, #8, r4\n\t")
DT_RUN1(dt_run1_relu, "usat r4, #7, r4\n\t")
DT_RUN2(dt_run2, "ssat r8, #8, r8\n\t")
DT_RUN2(dt_run2_relu, "usat r8, #7, r8\n\t")
/* clang-format on */
#endif

/* The run r for the layer's block size and activation. */
MF_RT_INLINE void dt_go(const dt_run *r, int big, int relu)
{
    if (big) {
        if (relu)
            dt_run2_relu(r);
        else
            dt_run2(r);
    } else if (relu) {
        dt_run1_relu(r);
    } else {
        dt_run1(r);
    }
}

/* What every row of positions shares. */
typedef struct {
    const int8_t *src; /* the field of position (0, 0): the input or its padded copy */
    const int8_t *end; /* word reads at or past it: the field goes through the stack */
    ptrdiff_t dy, dx;  /* bytes from one conv position to the next, down and across */
    const uint32_t *w, *wend;
    size_t chunk;            /* the pooled form's chunk of conv outputs, bytes */
    int K, bytes, big, relu; /* bytes: the word reads of a field (8 or 16) */
} dt_layer;

/* Positions ox0 .. ox0 + n − 1 of conv row oy into out (cout bytes each, in order). */
MF_RT_NOINLINE void dt_positions(const dt_layer *L, int oy, int ox0, int n, int8_t *out)
{
    const int8_t *f = L->src + (ptrdiff_t)oy * L->dy + (ptrdiff_t)ox0 * L->dx;
    /* the positions whose word reads stay before L->end read in place */
    int in_place = n;
    const ptrdiff_t room = (L->end - f) - L->bytes; /* the last field start read in place */
    if ((ptrdiff_t)(n - 1) * L->dx > room) in_place = room < 0 ? 0 : (int)(room / L->dx) + 1;
    const dt_run r = {f, L->dx, in_place, L->w, L->wend, out, 0};
    if (in_place > 0) dt_go(&r, L->big, L->relu);
    const size_t cout = (size_t)(L->wend - L->w) / (L->big ? DT_BLOCK2 : DT_BLOCK1);
    for (int i = in_place; i < n; i++) {
        uint32_t buf[4] = {0, 0, 0, 0}; /* the field, zeros after it */
        const int8_t *p = f + (ptrdiff_t)i * L->dx;
        int8_t *b = (int8_t *)buf;
        for (int j = 0; j < L->K; j++)
            b[j] = p[j];
        const dt_run one = {b, 0, 1, L->w, L->wend, out + (size_t)i * cout, 0};
        dt_go(&one, L->big, L->relu);
    }
}

/* n bytes from s to d, or zeros (s NULL), a word at a time. */
MF_RT_INLINE void dt_copy(int8_t *d, const int8_t *s, int n)
{
    for (; n >= 4; n -= 4, d += 4, s = s ? s + 4 : s)
        mf_st32(d, s ? mf_ld32(s) : 0);
    for (; n > 0; n--)
        *d++ = s ? *s++ : 0;
}

/* The input with its zero border (oh rows of wp positions; kh = 1 and no padding above or below,
 * mf_rt_conv_dot_s8_covers) and 16 zero bytes after it. */
MF_RT_NOINLINE void dt_pad_copy(const mf_rt_geom *g, int wp, const int8_t *in, int8_t *dst)
{
    const int cin = g->cin;
    const int lead = g->pad_left < wp ? g->pad_left : wp;
    const int inside = wp - lead < g->w ? wp - lead : g->w; /* ≥ 0 */
    for (int r = 0; r < g->oh; r++, dst += (ptrdiff_t)wp * cin) {
        dt_copy(dst, NULL, lead * cin);
        dt_copy(dst + lead * cin, in + (ptrdiff_t)r * g->sh * g->w * cin, inside * cin);
        dt_copy(dst + (lead + inside) * cin, NULL, (wp - lead - inside) * cin);
    }
    dt_copy(dst, NULL, 16);
}

/* The blocks of cout channels from p: per channel its accumulator start, bias + 2^(s−1) (the fast
 * requantization of mf_rt_dsp.h, its bound checked as mf_rt_init_s8 does, in the same pass), word
 * i of its weights (K each, in order; zeros past K) → the pairs (v0, v2), (v1, v3) of its values
 * as the lanes of a field's word, `words` of them, and its shift; the last shift word flagged.
 * 0: a channel fails the bound (the reference's requantization). */
MF_RT_INLINE int dt_split(const int8_t *k, const int32_t *bias, uint32_t *p, int cout, int K,
                          int words, const mf_rt_requant *rq)
{
    const int full = K / 4, rest = K % 4, half = rq->rounding == MF_RT_ROUND_HALF_UP;
    const int8_t *shifts = rq->shifts;
    /* the largest |Σ| of the products, K·2^14 ≤ 2^18: with rc ≤ 2^30 it is below INT32_MAX − rc
     * (mf_rt_init_s8's first test) */
    const uint32_t t = (uint32_t)K << 14;
    for (int c = 0; c < cout; c++) {
        const int32_t b = bias ? bias[c] : 0;
        const int s = shifts ? shifts[c] : rq->shift;
        if (s < 0 || s > 31) return 0;
        const uint32_t rc = half && s > 0 ? (uint32_t)1 << (s - 1) : 0;
        const uint32_t mag = b < 0 ? 0u - (uint32_t)b : (uint32_t)b;
        if (mag > (uint32_t)INT32_MAX - rc - t) return 0;
        *p++ = (uint32_t)(b + (int32_t)rc);
        for (int i = 0; i < full; i++, k += 4, p += 2) {
            const uint32_t u = mf_ld32(k);
            p[0] = mf_sxtb16(u), p[1] = mf_sxtb16_ror8(u);
        }
        int i = full;
        if (rest) {
            uint32_t u = 0;
            for (int e = 0; e < rest; e++)
                u |= ((uint32_t)*k++ & 0xFFu) << (8 * e);
            p[0] = mf_sxtb16(u), p[1] = mf_sxtb16_ror8(u), p += 2, i++;
        }
        for (; i < words; i++, p += 2)
            p[0] = p[1] = 0;
        *p++ = (uint32_t)s;
    }
    p[-1] |= DT_LAST;
    return 1;
}

/* Splits the weights into the channel blocks, copies the input when the layer pads (after the
 * blocks and the pooled form's chunk, mf_rt_conv_dot_s8_chunk), fills *L; 0: the fast path does not
 * apply (the requantization or activation), the reference's call. */
MF_RT_NOINLINE int dt_setup(dt_layer *L, const mf_rt_geom *g, const int8_t *in, const int8_t *w,
                            const int32_t *bias, const mf_rt_requant *rq, void *scratch)
{
    const int cout = g->cout, K = g->kw * g->cin, big = K > 8;
    const int block = big ? DT_BLOCK2 : DT_BLOCK1, pairs = block - 2;
    uint32_t *blk = scratch;
    if (rq->relu != 0 && rq->relu != 1) return 0;
    int fast;
    if (K == 8) /* the common field sizes with loops of their own (unrolled) */
        fast = dt_split(w, bias, blk, cout, 8, 2, rq);
    else if (K == 16)
        fast = dt_split(w, bias, blk, cout, 16, 4, rq);
    else
        fast = dt_split(w, bias, blk, cout, K, pairs / 2, rq);
    if (!fast) return 0;
    L->w = blk, L->wend = blk + (ptrdiff_t)cout * block, L->chunk = mf_rt_conv_dot_s8_chunk(g);
    L->K = K, L->bytes = big ? 16 : 8, L->big = big, L->relu = rq->relu;
    const int wp = (g->ow - 1) * g->sw + g->kw;
    L->dx = (ptrdiff_t)g->sw * g->cin;
    if (g->pad_left > 0 || wp - g->pad_left > g->w) {
        int8_t *copy = (int8_t *)L->wend + L->chunk;
        dt_pad_copy(g, wp, in, copy);
        L->src = copy, L->dy = (ptrdiff_t)wp * g->cin;
        L->end = copy + (ptrdiff_t)g->oh * L->dy + 16;
    } else {
        L->src = in, L->dy = (ptrdiff_t)g->sh * g->w * g->cin;
        L->end = in + (ptrdiff_t)g->h * g->w * g->cin;
    }
    return 1;
}

MF_RT_OUTLINE void mf_rt_conv_dot_s8_opt(MF_RT_CONV_S8_PARAMS)
{
    if (!mf_rt_conv_dot_s8_covers(g, 1, 1, 1, 1)) return;
    dt_layer L;
    if (!dt_setup(&L, g, in, w, bias, rq, scratch)) {
        mf_rt_conv_s8_ref(g, in, w, bias, rq, out, NULL);
        return;
    }
    for (int oy = 0; oy < g->oh; oy++)
        dt_positions(&L, oy, 0, g->ow, out + (size_t)oy * g->ow * g->cout);
}

/* The pair run r for the activation, fold: into the outputs there. */
MF_RT_INLINE void dt_pair_go(const dt_run *r, int relu, int fold)
{
    if (fold) {
        if (relu)
            dt_pair_fold_relu(r);
        else
            dt_pair_fold(r);
    } else if (relu) {
        dt_pair_relu(r);
    } else {
        dt_pair(r);
    }
}

/* Windows px0 .. px1 − 1 (pkw wide, as far apart) of pooled row o on conv row oy, any block
 * size: chunks of conv outputs in `row` (whole windows, mf_rt_conv_dot_s8_chunk), each window's
 * taps folded bytewise into its outputs (fold: with the outputs there). */
MF_RT_NOINLINE void dt_windows(const dt_layer *L, int oy, int fold, int px0, int px1, int pkw,
                               int8_t *row, int8_t *o)
{
    const int cout = (int)((L->wend - L->w) / (L->big ? DT_BLOCK2 : DT_BLOCK1));
    const int chunk = (int)(L->chunk / ((size_t)pkw * cout));
    const int words = cout % 4 == 0 ? cout / 4 : 0;
    for (int p0 = px0; p0 < px1; p0 += chunk) {
        const int nw = px1 - p0 < chunk ? px1 - p0 : chunk;
        dt_positions(L, oy, p0 * pkw, nw * pkw, row);
        const int8_t *t = row;
        int8_t *q = o + (size_t)p0 * cout;
        for (int i = 0; i < nw; i++, q += cout, t += (size_t)pkw * cout) {
            if (words) {
                for (int c = 0; c < words; c++) {
                    uint32_t m = mf_ld32(t + 4 * c);
                    for (int wx = 1; wx < pkw; wx++)
                        m = mf_max_s8x4(m, mf_ld32(t + (size_t)wx * cout + 4 * c));
                    if (fold) m = mf_max_s8x4(m, mf_ld32(q + 4 * c));
                    mf_st32(q + 4 * c, m);
                }
            } else {
                for (int c = 0; c < cout; c++) {
                    int8_t m = t[c];
                    for (int wx = 1; wx < pkw; wx++)
                        if (t[(size_t)wx * cout + c] > m) m = t[(size_t)wx * cout + c];
                    if (fold && q[c] > m) m = q[c];
                    q[c] = m;
                }
            }
        }
    }
}

MF_RT_OUTLINE void mf_rt_conv_dot_maxpool_s8_opt(MF_RT_CONV_MAXPOOL_S8_PARAMS)
{
    const mf_rt_geom *g = conv;
    if (!mf_rt_conv_dot_s8_covers(g, pool_kh, pool_kw, pool_sh, pool_sw)) return;
    dt_layer L;
    if (!dt_setup(&L, g, in, w, bias, rq, scratch)) {
        mf_rt_conv_maxpool_s8_ref(g, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, rq, out,
                                  NULL);
        return;
    }
    const int poh = (g->oh - pool_kh) / pool_sh + 1, pow = (g->ow - pool_kw) / pool_sw + 1;
    const int pair = !L.big && pool_kw == 2; /* windows 2 wide of K ≤ 8: the pair runs */
    int8_t *row = (int8_t *)L.wend;          /* the chunk, after the blocks */
    for (int py = 0; py < poh; py++) {
        int8_t *o = out + (size_t)py * pow * g->cout;
        for (int wy = 0; wy < pool_kh; wy++) {
            const int oy = py * pool_sh + wy;
            int done = 0;
            if (pair) { /* the windows whose second field's word reads stay before L.end */
                const int8_t *f = L.src + (ptrdiff_t)oy * L.dy;
                const ptrdiff_t room = (L.end - f) - L.dx - L.bytes;
                done = room < 0 ? 0 : (int)(room / (2 * L.dx)) + 1;
                if (done > pow) done = pow;
                const dt_run r = {f, 2 * L.dx, done, L.w, L.wend, o, L.dx};
                if (done > 0) dt_pair_go(&r, L.relu, wy > 0);
            }
            if (done < pow) dt_windows(&L, oy, wy > 0, done, pow, pool_kw, row, o);
        }
    }
}

#endif /* MF_RT_OPT_INT */
