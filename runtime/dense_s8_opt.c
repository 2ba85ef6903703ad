/* int8 dense: the optimized path (see mf_rt_dsp.h for when it is used). Bit-identical to
 * dense.c's reference.
 *
 * The input is split once into 16-bit lanes in the caller's scratch (per 4 values SXTB16 of the
 * even and of the odd bytes: mf_rt_dense_s8_scratch_bytes), because every output reuses it; the
 * weights, read once per inference, are split as they are loaded. Outputs go four at a time
 * (mac_s8_1x4, inline assembly on the M4): per 4 inputs one LDRD of the lanes, then for each of
 * the 4 outputs one LDR of its 4 weights straight from flash ([n_out][n_in], as stored), 2
 * SXTB16 and 2 SMLAD: 16 MACs in 21 instructions + the loop's 2 per 4 groups. A last block of fewer
 * than 4 outputs repeats its last output (computed again, stored once). The n_in mod 4 last inputs
 * are added in C. Sums are exact int32 sums (the quantizer bounds them, conv.c). Requantization
 * (mf_rt_init_s8, once per call into scratch): when every output passes the bound, accumulators
 * start at bias + 2^(s−1) and end with one shift and SSAT/USAT; otherwise every output starts at
 * its plain bias and ends in the reference's mf_rt_requant_s32. */
#include "mf_rt_dsp.h"

#if defined(MF_RT_OPT_INT)

/* What the multiply-add loop reads and updates. */
typedef struct {
    const uint32_t *lanes; /*  0: per 4 inputs 2 words: SXTB16(x), SXTB16(x ROR 8) */
    const int8_t *w[4];    /*  4: the 4 outputs' weights */
    const int32_t *start;  /* 20: the 4 accumulator starts */
    int32_t *sum;          /* 24: out: the 4 sums */
    int groups;            /* 28: n_in / 4, ≥ 1 */
} dense_job;

#if defined(MF_RT_EMULATE_DSP)
MF_RT_NOINLINE void mac_s8_1x4(const dense_job *j)
{
    for (int e = 0; e < 4; e++) {
        const uint32_t *l = j->lanes;
        const int8_t *w = j->w[e];
        int32_t a = j->start[e];
        for (int n = j->groups; n > 0; n--, l += 2, w += 4) {
            const uint32_t k = mf_ld32(w);
            a = mf_smlad(l[1], mf_sxtb16_ror8(k), mf_smlad(l[0], mf_sxtb16(k), a));
        }
        j->sum[e] = a;
    }
}
#else
/* In assembly: GCC would spill some of the 14 values the loop keeps live. */
#define MAC_S8_1X4_OUTPUT(acc, wp)                                                                 \
    "ldr r12, [" wp "], #4\n\t"                                                                    \
    "sxtb16 lr, r12\n\t"                                                                           \
    "sxtb16 r12, r12, ror #8\n\t"                                                                  \
    "smlad " acc ", r10, lr, " acc "\n\t"                                                          \
    "smlad " acc ", r11, r12, " acc "\n\t"
#define MAC_S8_1X4_GROUP                                                                           \
    "ldrd r10, r11, [r8], #8\n\t" MAC_S8_1X4_OUTPUT("r0", "r4") MAC_S8_1X4_OUTPUT("r1", "r5")      \
        MAC_S8_1X4_OUTPUT("r2", "r6") MAC_S8_1X4_OUTPUT("r3", "r7")
/* clang-format off */
__attribute__((naked, noinline)) static void mac_s8_1x4(MF_RT_UNUSED const dense_job *j)
{
    __asm__ volatile("push {r4-r11, lr}\n\t"
                     "ldr r8, [r0]\n\t"
                     "ldrd r12, r9, [r0, #20]\n\t"  /* start, sum */
                     "push {r9}\n\t"
                     "ldr r9, [r0, #28]\n\t"
                     "adds r0, r0, #4\n\t"
                     "ldm r0, {r4-r7}\n\t"
                     "ldm r12, {r0-r3}\n\t"
                     "rsb r10, r9, #0\n\t" /* 4 groups per pass, the first entered past */
                     "and r10, r10, #3\n\t" /* (−groups) mod 4 of them (TBB) */
                     "add r9, r9, #3\n\t"
                     "lsr r9, r9, #2\n\t"
                     "tbb [pc, r10]\n\t"
                     "9:\n\t"
                     ".byte (1f - 9b) / 2, (10f - 9b) / 2, (11f - 9b) / 2, (12f - 9b) / 2\n\t"
                     "1:\n\t"
                     MAC_S8_1X4_GROUP
                     "10:\n\t"
                     MAC_S8_1X4_GROUP
                     "11:\n\t"
                     MAC_S8_1X4_GROUP
                     "12:\n\t"
                     MAC_S8_1X4_GROUP
                     "subs r9, r9, #1\n\t"
                     "bne 1b\n\t"
                     "pop {r12}\n\t"
                     "stm r12, {r0-r3}\n\t"
                     "pop {r4-r11, pc}\n\t");
}
/* clang-format on */
#endif

MF_RT_OUTLINE void mf_rt_dense_s8_opt(int n_in, int n_out, const int8_t *in, const int8_t *w,
                                      const int32_t *bias, const mf_rt_requant *rq, int8_t *out,
                                      void *scratch)
{
    if (n_in < 0 || n_out < 1) return;
    /* scratch (mf_rt_dense_s8_scratch_bytes): the input's lanes, 2 words per 4 inputs, then the
     * n_out accumulator starts */
    const int groups = n_in >> 2;
    uint32_t *lanes = scratch;
    int32_t *start = (int32_t *)(lanes + 2 * groups);
    for (int i = 0; i < groups; i++) {
        const uint32_t u = mf_ld32(in + 4 * i);
        lanes[2 * i] = mf_sxtb16(u), lanes[2 * i + 1] = mf_sxtb16_ror8(u);
    }
    const int fast = mf_rt_init_s8(bias, rq, n_in, n_out, start, 1);
    const int8_t *shifts = rq->shifts;
    const int shift = rq->shift, relu = rq->relu, rounding = rq->rounding;
    const size_t stride = (size_t)n_in;
    const int plain = fast && !shifts; /* one shift: straight-line stores */
    for (int c = 0; c < n_out; c += 4) {
        const int n = n_out - c < 4 ? n_out - c : 4; /* outputs of this block */
        const int8_t *wc = w + (size_t)c * stride;
        int32_t last[4], acc[4]; /* last: a short block's starts, its last output repeated */
        dense_job j = {lanes, {wc, wc, wc, wc}, start + c, acc, groups};
        if (n == 4)
            j.w[1] = wc + stride, j.w[2] = wc + 2 * stride, j.w[3] = wc + 3 * stride;
        else {
            for (int e = 0; e < 4; e++) {
                const int k = e < n ? e : n - 1;
                j.w[e] = wc + (size_t)k * stride, last[e] = start[c + k];
            }
            j.start = last;
        }
        if (groups)
            mac_s8_1x4(&j);
        else
            for (int e = 0; e < 4; e++)
                acc[e] = j.start[e];
        for (int i = 4 * groups; i < n_in; i++)
            for (int e = 0; e < 4; e++)
                acc[e] += (int32_t)in[i] * j.w[e][i];
        if (plain && n == 4) {
            int8_t *o = out + c;
            if (relu)
                o[0] = (int8_t)mf_usat7(acc[0] >> shift), o[1] = (int8_t)mf_usat7(acc[1] >> shift),
                o[2] = (int8_t)mf_usat7(acc[2] >> shift), o[3] = (int8_t)mf_usat7(acc[3] >> shift);
            else
                o[0] = (int8_t)mf_ssat8(acc[0] >> shift), o[1] = (int8_t)mf_ssat8(acc[1] >> shift),
                o[2] = (int8_t)mf_ssat8(acc[2] >> shift), o[3] = (int8_t)mf_ssat8(acc[3] >> shift);
            continue;
        }
        for (int e = 0; e < n; e++) {
            const int s = shifts ? shifts[c + e] : shift;
            out[c + e] = fast ? (int8_t)(relu ? mf_usat7(acc[e] >> s) : mf_ssat8(acc[e] >> s))
                              : mf_rt_requant_s32(acc[e], s, relu, rounding);
        }
    }
}

#endif /* MF_RT_OPT_INT */
