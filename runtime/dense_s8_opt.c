/* int8 dense: the optimized path (see mf_rt_dsp.h for when it is used). Bit-identical to
 * dense.c's reference.
 *
 * The input is split once into 16-bit lanes in the caller's scratch (per 4 values SXTB16 of the
 * even and of the odd bytes: mf_rt_dense_s8_scratch_bytes), because every output reuses it; the
 * weights, read once per inference, are split as they are loaded. Outputs go four at a time
 * (mac_s8_1x4, inline assembly on the M4): per 4 inputs one LDRD of the lanes, then for each of
 * the 4 outputs one LDR of its 4 weights straight from flash ([n_out][n_in], as stored), 2
 * SXTB16 and 2 SMLAD: 16 MACs in 21 instructions + the loop's 2. A last block of fewer than 4
 * outputs repeats its last output (computed again, stored once). The n_in mod 4 last inputs are
 * added in C. Sums are exact int32 sums (the quantizer bounds them, conv.c).
 * Requantization: per block of 4 outputs, when all 4 pass mf_rt_chan_setup_s8's bound the
 * accumulators start at bias + 2^(s−1) and end with one shift and SSAT/USAT; otherwise the block
 * starts at the plain biases and ends in the reference's mf_rt_requant_s32. */
#include "mf_rt_dsp.h"

#if defined(MF_RT_OPT_INT)

/* What the multiply-add loop reads and updates. */
typedef struct {
    const uint32_t *lanes; /*  0: per 4 inputs 2 words: SXTB16(x), SXTB16(x ROR 8) */
    const int8_t *w[4];    /*  4: the 4 outputs' weights */
    int32_t *acc;          /* 20: in: the 4 starts; out: the 4 sums */
    int groups;            /* 24: n_in / 4, ≥ 1 */
} dense_job;

#if defined(MF_RT_EMULATE_DSP)
MF_RT_NOINLINE void mac_s8_1x4(const dense_job *j)
{
    for (int e = 0; e < 4; e++) {
        const uint32_t *l = j->lanes;
        const int8_t *w = j->w[e];
        int32_t a = j->acc[e];
        for (int n = j->groups; n > 0; n--, l += 2, w += 4) {
            const uint32_t k = mf_ld32(w);
            a = mf_smlad(l[1], mf_sxtb16_ror8(k), mf_smlad(l[0], mf_sxtb16(k), a));
        }
        j->acc[e] = a;
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
/* clang-format off */
__attribute__((naked, noinline)) static void mac_s8_1x4(MF_RT_UNUSED const dense_job *j)
{
    __asm__ volatile("push {r4-r11, lr}\n\t"
                     "ldr r8, [r0]\n\t"
                     "ldr r9, [r0, #24]\n\t"
                     "ldr r12, [r0, #20]\n\t"
                     "adds r0, r0, #4\n\t"
                     "ldm r0, {r4-r7}\n\t"
                     "push {r12}\n\t"
                     "ldm r12, {r0-r3}\n\t"
                     "1:\n\t"
                     "ldrd r10, r11, [r8], #8\n\t"
                     MAC_S8_1X4_OUTPUT("r0", "r4")
                     MAC_S8_1X4_OUTPUT("r1", "r5")
                     MAC_S8_1X4_OUTPUT("r2", "r6")
                     MAC_S8_1X4_OUTPUT("r3", "r7")
                     "subs r9, r9, #1\n\t"
                     "bne 1b\n\t"
                     "pop {r12}\n\t"
                     "stm r12, {r0-r3}\n\t"
                     "pop {r4-r11, pc}\n\t");
}
/* clang-format on */
#endif

void mf_rt_dense_s8_opt(int n_in, int n_out, const int8_t *in, const int8_t *w, const int32_t *bias,
                        const mf_rt_requant *rq, int8_t *out, void *scratch)
{
    if (n_in < 0 || n_out < 1) return;
    const int groups = n_in >> 2;
    uint32_t *lanes = scratch; /* 2 words per 4 inputs (mf_rt_dense_s8_scratch_bytes) */
    for (int i = 0; i < groups; i++) {
        const uint32_t u = mf_ld32(in + 4 * i);
        lanes[2 * i] = mf_sxtb16(u), lanes[2 * i + 1] = mf_sxtb16_ror8(u);
    }
    const int relu = rq->relu, rounding = rq->rounding;
    for (int c = 0; c < n_out; c += 4) {
        dense_job j;
        int32_t acc[4];
        int shift[4], fast = 1;
        for (int e = 0; e < 4; e++) {
            const int o = c + e < n_out ? c + e : n_out - 1;
            const mf_rt_chan_s8 ch = mf_rt_chan_setup_s8(bias, o, rq, n_in);
            acc[e] = ch.init, shift[e] = ch.shift, fast &= ch.fast;
            j.w[e] = w + (size_t)o * (size_t)n_in;
        }
        if (!fast)
            for (int e = 0; e < 4; e++)
                acc[e] = bias ? bias[c + e < n_out ? c + e : n_out - 1] : 0;
        if (groups) {
            j.lanes = lanes, j.acc = acc, j.groups = groups;
            mac_s8_1x4(&j);
        }
        for (int i = 4 * groups; i < n_in; i++)
            for (int e = 0; e < 4; e++)
                acc[e] += (int32_t)in[i] * j.w[e][i];
        for (int e = 0; e < 4 && c + e < n_out; e++)
            out[c + e] =
                fast ? (int8_t)(relu ? mf_usat7(acc[e] >> shift[e]) : mf_ssat8(acc[e] >> shift[e]))
                     : mf_rt_requant_s32(acc[e], shift[e], relu, rounding);
    }
}

#endif /* MF_RT_OPT_INT */
