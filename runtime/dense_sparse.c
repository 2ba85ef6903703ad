/* int8 dense layer on pruned weights (mf_runtime.h mf_rt_dense_sparse_s8): per output, its start
 * and the products of its entries' weights with the inputs they reach by their index deltas, in
 * int32 (exact: the same sum as the dense kernel's in another order; fillers and padding add
 * 0), then the reference requantization. Per entry a byte of delta, a byte of input and a
 * multiply-add, four entries at a time (each output's entries are padded to a multiple of 4, so
 * there is no remainder loop): on a Cortex-M with the DSP extension in assembly (dot4_delta: the
 * four deltas in one word, each added to the input pointer by UXTAB, the four weights in one
 * word split by two SXTB16 into halfword pairs for SMLABB/SMLABT, 18 instructions per four
 * entries), elsewhere in C. */
#include <stdint.h>

#include "mf_rt_dsp.h"
#include "mf_runtime.h"

#if defined(MF_RT_OPT_INT) && !defined(MF_RT_EMULATE_DSP)
/* Σ over 4·groups entries (groups ≥ 1) of w[e]·(the input reached by adding delta e to p). */
__attribute__((naked, noinline)) static int32_t dot4_delta(MF_RT_UNUSED const int8_t *p,
                                                           MF_RT_UNUSED const uint8_t *d,
                                                           MF_RT_UNUSED const int8_t *w,
                                                           MF_RT_UNUSED int groups)
{
    /* clang-format off */
    __asm__ volatile("push {r4-r9, lr}\n\t"
                     "movs r12, #0\n\t"
                     "1:\n\t"
                     "ldr r4, [r1], #4\n\t"          /* four deltas */
                     "ldr r8, [r2], #4\n\t"          /* four weights */
                     "uxtab r0, r0, r4\n\t"
                     "ldrsb r5, [r0]\n\t"
                     "uxtab r0, r0, r4, ror #8\n\t"
                     "ldrsb r6, [r0]\n\t"
                     "uxtab r0, r0, r4, ror #16\n\t"
                     "ldrsb r7, [r0]\n\t"
                     "add r0, r0, r4, lsr #24\n\t"
                     "ldrsb r4, [r0]\n\t"
                     "sxtb16 r9, r8\n\t"             /* w0, w2 */
                     "sxtb16 r8, r8, ror #8\n\t"     /* w1, w3 */
                     "smlabb r12, r5, r9, r12\n\t"
                     "smlabt r12, r7, r9, r12\n\t"
                     "smlabb r12, r6, r8, r12\n\t"
                     "smlabt r12, r4, r8, r12\n\t"
                     "subs r3, r3, #1\n\t"
                     "bne 1b\n\t"
                     "mov r0, r12\n\t"
                     "pop {r4-r9, pc}\n\t");
    /* clang-format on */
}
#endif

void mf_rt_dense_sparse_s8(int n_in, int n_out, const int8_t *in, const uint8_t *idx,
                           const int8_t *w, const int32_t *bias, const mf_rt_requant *rq,
                           int8_t *out)
{
    (void)n_in; /* the deltas stay below it (the encoder writes them) */
    for (int o = 0; o < n_out; o++) {
        const int n = idx[0] | idx[1] << 8; /* a multiple of 4 */
        idx += 2;
        int32_t a = bias ? bias[o] : 0;
        if (n) {
#if defined(MF_RT_OPT_INT) && !defined(MF_RT_EMULATE_DSP)
            a += dot4_delta(in, idx, w, n >> 2);
#else
            const int8_t *p = in;
            int32_t b = 0;
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
            a += b;
#endif
            idx += n, w += n;
        }
        const int shift = rq->shifts ? rq->shifts[o] : rq->shift;
        out[o] = mf_rt_requant_s32(a, shift, rq->relu, rq->rounding);
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
