/* int8 dense layer on pruned weights (mf_runtime.h mf_rt_dense_sparse_s8): per output, its start
 * and the products of its nonzero weights with the inputs they name, in int32 (exact: the same
 * sum as the dense kernel's in another order), then the reference requantization. Per nonzero
 * weight a halfword index, a byte of input at that index, the weight and a multiply-add, four
 * weights at a time: on a Cortex-M with the DSP extension in assembly (dot4_sparse: the four
 * weights in one word split by two SXTB16 into halfword pairs, SMLABB/SMLABT, 17 instructions
 * per four weights), elsewhere in C. */
#include "mf_rt_dsp.h"
#include "mf_runtime.h"

#if defined(MF_RT_OPT_INT) && !defined(MF_RT_EMULATE_DSP)
/* Σ in[idx[e]]·w[e] over 4·groups entries (groups ≥ 1). */
__attribute__((naked, noinline)) static int32_t dot4_sparse(MF_RT_UNUSED const int8_t *in,
                                                            MF_RT_UNUSED const uint16_t *idx,
                                                            MF_RT_UNUSED const int8_t *w,
                                                            MF_RT_UNUSED int groups)
{
    /* clang-format off */
    __asm__ volatile("push {r4-r9, lr}\n\t"
                     "movs r12, #0\n\t"
                     "1:\n\t"
                     "ldrh r4, [r1], #2\n\t"
                     "ldrh r5, [r1], #2\n\t"
                     "ldrh r6, [r1], #2\n\t"
                     "ldrh r7, [r1], #2\n\t"
                     "ldr r8, [r2], #4\n\t"
                     "ldrsb r4, [r0, r4]\n\t"
                     "ldrsb r5, [r0, r5]\n\t"
                     "ldrsb r6, [r0, r6]\n\t"
                     "ldrsb r7, [r0, r7]\n\t"
                     "sxtb16 r9, r8\n\t"          /* w0, w2 */
                     "sxtb16 r8, r8, ror #8\n\t"  /* w1, w3 */
                     "smlabb r12, r4, r9, r12\n\t"
                     "smlabt r12, r6, r9, r12\n\t"
                     "smlabb r12, r5, r8, r12\n\t"
                     "smlabt r12, r7, r8, r12\n\t"
                     "subs r3, r3, #1\n\t"
                     "bne 1b\n\t"
                     "mov r0, r12\n\t"
                     "pop {r4-r9, pc}\n\t");
    /* clang-format on */
}
#endif

void mf_rt_dense_sparse_s8(int n_in, int n_out, const int8_t *in, const uint16_t *idx,
                           const int8_t *w, const int32_t *bias, const mf_rt_requant *rq,
                           int8_t *out)
{
    (void)n_in; /* the indices are below it (the lowering builds them) */
    for (int o = 0; o < n_out; o++) {
        int n = *idx++;
        int32_t a = bias ? bias[o] : 0, b = 0;
#if defined(MF_RT_OPT_INT) && !defined(MF_RT_EMULATE_DSP)
        if (n >= 4) {
            const int groups = n >> 2;
            a += dot4_sparse(in, idx, w, groups);
            idx += 4 * groups, w += 4 * groups, n &= 3;
        }
#else
        for (; n >= 4; n -= 4, idx += 4, w += 4) {
            a += (int32_t)in[idx[0]] * w[0];
            b += (int32_t)in[idx[1]] * w[1];
            a += (int32_t)in[idx[2]] * w[2];
            b += (int32_t)in[idx[3]] * w[3];
        }
#endif
        for (; n > 0; n--)
            a += (int32_t)in[*idx++] * *w++;
        const int shift = rq->shifts ? rq->shifts[o] : rq->shift;
        out[o] = mf_rt_requant_s32(a + b, shift, rq->relu, rq->rounding);
    }
}
