/* int8 dense layer on pruned weights (mf_runtime.h mf_rt_dense_sparse_s8): per output, its start
 * and the products of its entries' weights with the inputs they reach by their index deltas, in
 * int32 (exact: the same sum as the dense kernel's in another order; fillers and padding add
 * 0), then the reference requantization. Per entry a byte of delta, a byte of input and a
 * multiply-add, four entries at a time (each output's entries are padded to a multiple of 4, so
 * there is no remainder loop): on a Cortex-M with the DSP extension the whole layer in assembly
 * when it has a bias and one shift in [1, 31] (below), elsewhere and otherwise in C. */
#include <stdint.h>

#include "mf_rt_dsp.h"
#include "mf_runtime.h"

#if defined(MF_RT_OPT_INT) && !defined(MF_RT_EMULATE_DSP)
/* The whole layer in assembly, for a bias and one shift s in [1, 31] (the usual case): per
 * output its count, its bias, two groups of four entries per pass (each 16 instructions: a word
 * of deltas added to the input pointer by UXTAB, a word of weights split by two SXTB16 into
 * halfword pairs for SMLABB/SMLABT; an odd group first), then the requantization of DESIGN.md
 * §13 without a rounding constant that could overflow: v = acc >> (s − 1), (v >> 1) + (v & 1)
 * half-up, (v >> 1) + 0 floor, SSAT to int8, USAT to [0, 127] under a ReLU. One function for
 * every rounding and ReLU, so a firmware links one copy. The argument: */
typedef struct {
    const int8_t *in;    /* +0 */
    const uint8_t *idx;  /* +4 */
    const int8_t *w;     /* +8 */
    const int32_t *bias; /* +12 */
    int8_t *out;         /* +16 */
    int8_t *out_end;     /* +20: out + n_out (n_out ≥ 1) */
    int shift1;          /* +24: s − 1 */
    int round_bit;       /* +28: 1 half-up, 0 floor */
    int relu;            /* +32 */
} dense_run;
_Static_assert(sizeof(void *) != 4 || sizeof(dense_run) == 36, "dense_run's layout");

/* clang-format off */
#define DENSE_GROUP4                                                                               \
    "ldr r4, [r1], #4\n\t"               /* four deltas */                                         \
    "ldr r8, [r2], #4\n\t"               /* four weights */                                        \
    "uxtab r0, r0, r4\n\t"                                                                         \
    "ldrsb r5, [r0]\n\t"                                                                           \
    "uxtab r0, r0, r4, ror #8\n\t"                                                                 \
    "ldrsb r6, [r0]\n\t"                                                                           \
    "uxtab r0, r0, r4, ror #16\n\t"                                                                \
    "ldrsb r7, [r0]\n\t"                                                                           \
    "add r0, r0, r4, lsr #24\n\t"                                                                  \
    "ldrsb r4, [r0]\n\t"                                                                           \
    "sxtb16 r9, r8\n\t"                  /* w0, w2 */                                              \
    "sxtb16 r8, r8, ror #8\n\t"          /* w1, w3 */                                              \
    "smlabb r12, r5, r9, r12\n\t"                                                                  \
    "smlabt r12, r7, r9, r12\n\t"                                                                  \
    "smlabb r12, r6, r8, r12\n\t"                                                                  \
    "smlabt r12, r4, r8, r12\n\t"
/* clang-format on */

__attribute__((naked, noinline)) static void dense_sparse_fast(MF_RT_UNUSED const dense_run *r)
{
    /* clang-format off */
    __asm__ volatile("push {r4-r11, lr}\n\t"
                     "sub sp, sp, #20\n\t"
                     "ldr r3, [r0, #24]\n\t" "str r3, [sp, #0]\n\t"  /* s − 1 */
                     "ldr r3, [r0, #28]\n\t" "str r3, [sp, #4]\n\t"  /* the rounding bit */
                     "ldr r3, [r0, #32]\n\t" "str r3, [sp, #8]\n\t"  /* ReLU */
                     "ldr r3, [r0, #0]\n\t" "str r3, [sp, #12]\n\t"  /* in */
                     "ldr r1, [r0, #4]\n\t"
                     "ldr r2, [r0, #8]\n\t"
                     "ldr r10, [r0, #12]\n\t"
                     "ldr r11, [r0, #16]\n\t"
                     "ldr lr, [r0, #20]\n\t"
                     "1:\n\t"
                     "ldrh r3, [r1], #2\n\t"         /* entries: a multiple of 4 */
                     "ldr r12, [r10], #4\n\t"        /* bias */
                     "ldr r0, [sp, #12]\n\t"         /* the input pointer */
                     "cmp r3, #0\n\t"
                     "beq 3f\n\t"
                     "lsls r4, r3, #30\n\t"          /* C: an odd number of groups */
                     "add r3, r2, r3\n\t"            /* the end of the weights (flags kept) */
                     "bcs 4f\n\t"
                     "2:\n\t"
                     DENSE_GROUP4
                     "4:\n\t"
                     DENSE_GROUP4
                     "cmp r2, r3\n\t"
                     "bne 2b\n\t"
                     "3:\n\t"
                     "ldrd r6, r7, [sp, #0]\n\t"     /* s − 1, the rounding bit */
                     "asr r12, r12, r6\n\t"
                     "and r7, r12, r7\n\t"
                     "add r12, r7, r12, asr #1\n\t"
                     "ssat r12, #8, r12\n\t"
                     "ldr r6, [sp, #8]\n\t"
                     "cbz r6, 5f\n\t"
                     "usat r12, #7, r12\n\t"
                     "5:\n\t"
                     "strb r12, [r11], #1\n\t"
                     "cmp r11, lr\n\t"
                     "bne 1b\n\t"
                     "add sp, sp, #20\n\t"
                     "pop {r4-r11, pc}\n\t");
    /* clang-format on */
}
#endif

void mf_rt_dense_sparse_s8(int n_in, int n_out, const int8_t *in, const uint8_t *idx,
                           const int8_t *w, const int32_t *bias, const mf_rt_requant *rq,
                           int8_t *out)
{
    (void)n_in; /* the deltas stay below it (the encoder writes them) */
#if defined(MF_RT_OPT_INT) && !defined(MF_RT_EMULATE_DSP)
    if (bias && !rq->shifts && rq->shift >= 1 && rq->shift <= 31 && n_out >= 1) {
        const dense_run r = {in,
                             idx,
                             w,
                             bias,
                             out,
                             out + n_out,
                             rq->shift - 1,
                             rq->rounding == MF_RT_ROUND_HALF_UP,
                             rq->relu};
        dense_sparse_fast(&r);
        return;
    }
#endif
    for (int o = 0; o < n_out; o++) {
        const int n = idx[0] | idx[1] << 8; /* a multiple of 4 */
        idx += 2;
        const int8_t *p = in;
        int32_t a = bias ? bias[o] : 0, b = 0;
        for (int e = 0; e < n; e += 4) {
            p += idx[e];
            a += (int32_t)*p * w[e];
            p += idx[e + 1];
            b += (int32_t)*p * w[e + 1];
            p += idx[e + 2];
            a += (int32_t)*p * w[e + 2];
            p += idx[e + 3];
            b += (int32_t)*p * w[e + 3];
        }
        idx += n, w += n;
        const int shift = rq->shifts ? rq->shifts[o] : rq->shift;
        out[o] = mf_rt_requant_s32(a + b, shift, rq->relu, rq->rounding);
    }
}

/* One pass of the encoder: counts the entries, and writes them when idx is not NULL; SIZE_MAX
 * when an output has more than 65535. */
static size_t encode(int n_in, int n_out, const int8_t *w, uint8_t *idx, int8_t *wn)
{
    size_t e = 0, at = 0;
    for (int o = 0; o < n_out; o++) {
        const int8_t *row = w + (size_t)o * (size_t)n_in;
        const size_t first = e, count_at = at;
        at += 2;
        int prev = 0;
        for (int i = 0; i < n_in; i++) {
            if (!row[i]) continue;
            for (; i - prev > 255; prev += 255, e++) /* fillers: weight 0, delta 255 */
                if (idx) idx[at++] = 255, wn[e] = 0;
            if (idx) idx[at++] = (uint8_t)(i - prev), wn[e] = row[i];
            prev = i, e++;
        }
        for (; (e - first) % 4; e++) /* padding to whole groups: weight 0, delta 0 */
            if (idx) idx[at++] = 0, wn[e] = 0;
        const size_t n = e - first;
        if (n > 65535) return SIZE_MAX;
        if (idx) idx[count_at] = (uint8_t)(n & 255), idx[count_at + 1] = (uint8_t)(n >> 8);
    }
    return e;
}

size_t mf_rt_dense_sparse_s8_encode(int n_in, int n_out, const int8_t *w, uint8_t *idx, int8_t *wn)
{
    const size_t entries = encode(n_in, n_out, w, NULL, NULL);
    if (entries != SIZE_MAX && idx && wn) encode(n_in, n_out, w, idx, wn);
    return entries;
}
