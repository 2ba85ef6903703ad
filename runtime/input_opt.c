/* The model's input (z-score and quantization), optimized paths (mf_rt_dsp.h). Bit-identical
 * to input.c's reference for every input, NaN, ±inf, −0.0 and subnormals included.
 *
 * Walk: n_stats = 1 runs contiguously with mean and std in registers; n_stats ≥ n (per element)
 * contiguously over three streams (raw, mean, std); any other n_stats channel by channel, each
 * a strided walk (stride n_stats) with its mean and std in registers. Main loops take 4 values
 * per turn (VLDM of 4 where contiguous); the rest runs in C with the same primitives.
 *   float32: (x − m) / b, one VSUB and one VDIV per value, as the reference; n_stats = 0 copies
 *     the bit patterns (VLDM/VSTM), as the reference's assignment does.
 *   int8/int16: q = saturate(lround(v)), v = x'·scale, without float range tests: VCVT.S32.F32
 *     with one fraction bit gives r = trunc(2v) exactly (the conversion scales by 2 in exact
 *     arithmetic), saturated to int32, NaN → 0. Round half away from zero of v is ⌈r/2⌉ for
 *     r ≥ 0 and ⌊r/2⌋ for r < 0, i.e. (r + 1 + (r >> 31)) >> 1: QADD forms r + 1 saturated (no
 *     wrap at r = INT32_MAX; adding r >> 31 then cannot overflow), SSAT with ASR #1 halves and
 *     saturates to the output type. Exact for every v: 0.49999997f gives r = 0, ±k.5 an odd r
 *     (rounded away from zero), |v| ≥ 2^30 and ±inf a saturated r (q saturated), NaN r = 0
 *     (q = 0, as the reference). int8 on the contiguous walks: the same on 16-bit lanes, two
 *     values per instruction, 4 values stored as one word (IN_QST4_s8 below).
 *   The scale is folded into the divisor where that is exact: with scale = 2^k, −64 ≤ k ≤ 64,
 *     and b' = std / scale exact (b'·scale = std, or std NaN), (x − m) / b' is the real
 *     quotient Q·2^k rounded once, whereas the reference rounds Q, then multiplies by 2^k.
 *     Both give the same float when Q and Q·2^k both lie in the normal range (rounding commutes
 *     with scaling by a power of two there). Otherwise one of them is subnormal or beyond
 *     FLT_MAX, and with |k| ≤ 64 both v are then below 2^−62 in magnitude (q = 0) or above
 *     2^63 with the same sign (q saturated alike); NaN, ±inf, ±0 and divisions by ±0 or ±inf
 *     agree since b' has b's class and sign. One VDIV per value then, no VMUL. Otherwise (per
 *     element statistics, another scale, an inexact b') x' is computed as the reference does
 *     and multiplied by the scale. n_stats = 0 is the walk of n_stats = 1 with
 *     mean 0 and std 1 (x − 0 = x and x / 1 = x exactly, −0.0 and NaN included).
 * MF_RT_EMULATE_DSP runs the same walks in C (VCVT, QADD and the lane instructions modelled
 * exactly). */
#include "mf_rt_dsp.h"

#if defined(MF_RT_OPT_F32)

/* ---- float32 ---- */

#if defined(MF_RT_EMULATE_DSP)
/* o[i] = x[i] for 4·n4 values (n4 ≥ 1). */
MF_RT_NOINLINE void mf_rt_input_f32_copy4(const float *x, float *o, size_t n4)
{
    for (size_t i = 0; i < 4 * n4; i++)
        o[i] = x[i];
}

/* o[i·st] = (x[i·st] − m) / b for 4·n4 values, st ≥ 1 (contiguous for st = 1). */
MF_RT_INLINE void mf_rt_input_f32_chan4(const float *x, size_t st, float *o, size_t n4, float m,
                                        float b)
{
    for (size_t i = 0; i < 4 * n4; i++)
        o[i * st] = (x[i * st] - m) / b;
}

/* o[i] = (x[i] − mean[i]) / std[i] for 4·n4 values. */
MF_RT_NOINLINE void mf_rt_input_f32_elem4(const float *x, const float *mean, const float *std,
                                          float *o, size_t n4)
{
    for (size_t i = 0; i < 4 * n4; i++)
        o[i] = (x[i] - mean[i]) / std[i];
}
#else
/* VLDM/VSTM move the 32-bit patterns unchanged (NaN payloads too): a copy like the reference's. */
MF_RT_NOINLINE void mf_rt_input_f32_copy4(const float *x, float *o, size_t n4)
{
    __asm__ volatile("1:\n\t"
                     "vldmia %[x]!, {s0-s3}\n\t"
                     "vstmia %[o]!, {s0-s3}\n\t"
                     "subs %[n], %[n], #1\n\t"
                     "bne 1b\n\t"
                     : [x] "+r"(x), [o] "+r"(o), [n] "+r"(n4)
                     :
                     : "s0", "s1", "s2", "s3", "cc", "memory");
}

#define F32_SUBDIV4(m, b)                                                                          \
    "vsub.f32 s0, s0, " m "\n\t"                                                                   \
    "vsub.f32 s1, s1, " m "\n\t"                                                                   \
    "vsub.f32 s2, s2, " m "\n\t"                                                                   \
    "vsub.f32 s3, s3, " m "\n\t"                                                                   \
    "vdiv.f32 s0, s0, " b "\n\t"                                                                   \
    "vdiv.f32 s1, s1, " b "\n\t"                                                                   \
    "vdiv.f32 s2, s2, " b "\n\t"                                                                   \
    "vdiv.f32 s3, s3, " b "\n\t"

MF_RT_INLINE void mf_rt_input_f32_chan4(const float *x, size_t st, float *o, size_t n4, float m,
                                        float b)
{
    if (st == 1) {
        __asm__ volatile(
            "1:\n\t"
            "vldmia %[x]!, {s0-s3}\n\t" F32_SUBDIV4("%[m]", "%[b]") "vstmia %[o]!, {s0-s3}\n\t"
                                                                    "subs %[n], %[n], #1\n\t"
                                                                    "bne 1b\n\t"
            : [x] "+r"(x), [o] "+r"(o), [n] "+r"(n4)
            : [m] "t"(m), [b] "t"(b)
            : "s0", "s1", "s2", "s3", "cc", "memory");
        return;
    }
    const size_t sb = 4 * st; /* bytes between values */
    __asm__ volatile(
        "1:\n\t"
        "vldr s0, [%[x]]\n\t"
        "add %[x], %[x], %[sb]\n\t"
        "vldr s1, [%[x]]\n\t"
        "add %[x], %[x], %[sb]\n\t"
        "vldr s2, [%[x]]\n\t"
        "add %[x], %[x], %[sb]\n\t"
        "vldr s3, [%[x]]\n\t"
        "add %[x], %[x], %[sb]\n\t" F32_SUBDIV4("%[m]", "%[b]") "vstr s0, [%[o]]\n\t"
                                                                "add %[o], %[o], %[sb]\n\t"
                                                                "vstr s1, [%[o]]\n\t"
                                                                "add %[o], %[o], %[sb]\n\t"
                                                                "vstr s2, [%[o]]\n\t"
                                                                "add %[o], %[o], %[sb]\n\t"
                                                                "vstr s3, [%[o]]\n\t"
                                                                "add %[o], %[o], %[sb]\n\t"
                                                                "subs %[n], %[n], #1\n\t"
                                                                "bne 1b\n\t"
        : [x] "+r"(x), [o] "+r"(o), [n] "+r"(n4)
        : [m] "t"(m), [b] "t"(b), [sb] "r"(sb)
        : "s0", "s1", "s2", "s3", "cc", "memory");
}

MF_RT_NOINLINE void mf_rt_input_f32_elem4(const float *x, const float *mean, const float *std,
                                          float *o, size_t n4)
{
    __asm__ volatile("1:\n\t"
                     "vldmia %[x]!, {s0-s3}\n\t"
                     "vldmia %[mp]!, {s4-s7}\n\t"
                     "vldmia %[bp]!, {s8-s11}\n\t"
                     "vsub.f32 s0, s0, s4\n\t"
                     "vsub.f32 s1, s1, s5\n\t"
                     "vsub.f32 s2, s2, s6\n\t"
                     "vsub.f32 s3, s3, s7\n\t"
                     "vdiv.f32 s0, s0, s8\n\t"
                     "vdiv.f32 s1, s1, s9\n\t"
                     "vdiv.f32 s2, s2, s10\n\t"
                     "vdiv.f32 s3, s3, s11\n\t"
                     "vstmia %[o]!, {s0-s3}\n\t"
                     "subs %[n], %[n], #1\n\t"
                     "bne 1b\n\t"
                     : [x] "+r"(x), [mp] "+r"(mean), [bp] "+r"(std), [o] "+r"(o), [n] "+r"(n4)
                     :
                     : "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11",
                       "cc", "memory");
}
#endif /* MF_RT_EMULATE_DSP */

void mf_rt_input_f32_opt(size_t n, const float *raw, const float *mean, const float *std,
                         size_t n_stats, float *out)
{
    const size_t n4 = n / 4;
    if (n_stats == 0) {
        if (n4) mf_rt_input_f32_copy4(raw, out, n4);
        for (size_t i = 4 * n4; i < n; i++)
            out[i] = raw[i];
    } else if (n_stats >= n) {
        if (n4) mf_rt_input_f32_elem4(raw, mean, std, out, n4);
        for (size_t i = 4 * n4; i < n; i++)
            out[i] = (raw[i] - mean[i]) / std[i];
    } else {
        for (size_t c = 0; c < n_stats; c++) {
            const size_t k = (n - c + n_stats - 1) / n_stats, k4 = k / 4;
            const float m = mean[c], b = std[c];
            if (k4) mf_rt_input_f32_chan4(raw + c, n_stats, out + c, k4, m, b);
            for (size_t i = c + 4 * k4 * n_stats; i < n; i += n_stats)
                out[i] = (raw[i] - m) / b;
        }
    }
}

#if defined(MF_RT_OPT_INT)

/* ---- int8 / int16 ---- */

#if defined(MF_RT_EMULATE_DSP)
/* VCVT.S32.F32 Sd, Sd, #1: trunc(2v) toward zero, saturated to int32, NaN → 0. */
MF_RT_INLINE int32_t mf_vcvt_fix1(float v)
{
    if (v != v) return 0;
    if (v >= 1073741824.0f) return INT32_MAX; /* 2v ≥ 2^31 */
    if (v <= -1073741824.0f) return INT32_MIN;
    return (int32_t)(v * 2.0f); /* |2v| < 2^31; v·2 is exact */
}

/* QADD: a + b saturated to int32. */
MF_RT_INLINE int32_t mf_qadd(int32_t a, int32_t b)
{
    const int64_t s = (int64_t)a + b;
    return s > INT32_MAX ? INT32_MAX : s < INT32_MIN ? INT32_MIN : (int32_t)s;
}
#else
MF_RT_INLINE int32_t mf_vcvt_fix1(float v)
{
    int32_t r;
    __asm__("vcvt.s32.f32 %1, %1, #1\n\t"
            "vmov %0, %1"
            : "=r"(r), "+t"(v));
    return r;
}

MF_RT_INLINE int32_t mf_qadd(int32_t a, int32_t b)
{
    return __qadd(a, b);
}
#endif

/* lround(v) before saturation to the output type (see the header): r = trunc(2v), then
 * (QADD(r, 1) + (r >> 31)) >> 1. */
MF_RT_INLINE int32_t mf_rt_input_round(float v)
{
    const int32_t r = mf_vcvt_fix1(v);
    return (mf_qadd(r, 1) + (r >> 31)) >> 1;
}

/* scale = 2^k with −64 ≤ k ≤ 64, and b' = b / scale exact: *d = b'. */
MF_RT_INLINE int mf_rt_input_fold(float b, float scale, float *d)
{
    uint32_t u;
    MF_RT_MEMCPY(&u, &scale, 4);
    const uint32_t e = u >> 23;
    *d = b / scale;
    return (u & 0x007FFFFFu) == 0 && e >= 127 - 64 && e <= 127 + 64 && (*d * scale == b || b != b);
}

/* Four int8 values packed into one word (contiguous walks), on 16-bit lanes: r = trunc(2v)
 * from VCVT.S16.F32 #1 (saturated to int16, which still saturates q), lanes (v0, v2) and
 * (v1, v3) by PKHBT; per lane r ≥ 0 adds 1 (BIC of 0x00010001 with the lane signs), SHADD16
 * halves without overflow: (r + (r ≥ 0)) >> 1 is the rounding above; SSAT16 #8 saturates,
 * UXTB16 and ORR … LSL #8 interleave the low bytes into v0 v1 v2 v3. */
#if defined(MF_RT_EMULATE_DSP)
MF_RT_INLINE int32_t mf_vcvt_s16_fix1(float v) /* VCVT.S16.F32 Sd, Sd, #1 (sign-extended) */
{
    const int32_t r = mf_vcvt_fix1(v);
    return r > 32767 ? 32767 : r < -32768 ? -32768 : r;
}

MF_RT_INLINE uint32_t mf_pkhbt16(uint32_t lo, uint32_t hi) /* PKHBT lo, hi, LSL #16 */
{
    return (lo & 0xFFFFu) | hi << 16;
}

MF_RT_INLINE uint32_t mf_ssat16_8(uint32_t a) /* SSAT16 #8 */
{
    return mf_pack16(mf_ssat8(mf_lane16(a, 0)), mf_ssat8(mf_lane16(a, 1)));
}

MF_RT_INLINE void mf_rt_input_q4_s8(int8_t *o, const float *v)
{
    const uint32_t p =
        mf_pkhbt16((uint32_t)mf_vcvt_s16_fix1(v[0]), (uint32_t)mf_vcvt_s16_fix1(v[2]));
    const uint32_t q =
        mf_pkhbt16((uint32_t)mf_vcvt_s16_fix1(v[1]), (uint32_t)mf_vcvt_s16_fix1(v[3]));
    const uint32_t pr = mf_ssat16_8(mf_shadd16(p, 0x00010001u & ~(p >> 15)));
    const uint32_t qr = mf_ssat16_8(mf_shadd16(q, 0x00010001u & ~(q >> 15)));
    mf_st32(o, (pr & 0x00FF00FFu) | (qr & 0x00FF00FFu) << 8);
}

MF_RT_INLINE void mf_rt_input_q4_s16(int16_t *o, const float *v)
{
    for (int j = 0; j < 4; j++)
        o[j] = (int16_t)mf_ssat16(mf_rt_input_round(v[j]));
}
#endif

/* Four values in assembly: s0-s3 → VCVT #1 → a, b, c, e → QADD (k = 1), ADD, SSAT each. */
#define IN_Q(r, bits)                                                                              \
    "qadd %[t], %[" #r "], %[k]\n\t"                                                               \
    "add %[" #r "], %[t], %[" #r "], asr #31\n\t"                                                  \
    "ssat %[" #r "], #" #bits ", %[" #r "], asr #1\n\t"
#define IN_Q4(bits)                                                                                \
    "vcvt.s32.f32 s0, s0, #1\n\t"                                                                  \
    "vcvt.s32.f32 s1, s1, #1\n\t"                                                                  \
    "vcvt.s32.f32 s2, s2, #1\n\t"                                                                  \
    "vcvt.s32.f32 s3, s3, #1\n\t"                                                                  \
    "vmov %[a], %[b], s0, s1\n\t"                                                                  \
    "vmov %[c], %[e], s2, s3\n\t" IN_Q(a, bits) IN_Q(b, bits) IN_Q(c, bits) IN_Q(e, bits)
/* Contiguous quantization and stores of four values (k: the constant they need):
 * int16 (k = 1): IN_Q4 and STRH with post-increment; int8 (k = 0x00010001): the lanes above. */
#define IN_QST4_s16                                                                                \
    IN_Q4(16)                                                                                      \
    "strh %[a], [%[o]], #2\n\t"                                                                    \
    "strh %[b], [%[o]], #2\n\t"                                                                    \
    "strh %[c], [%[o]], #2\n\t"                                                                    \
    "strh %[e], [%[o]], #2\n\t"
#define IN_QST4_s8                                                                                 \
    "vcvt.s16.f32 s0, s0, #1\n\t"                                                                  \
    "vcvt.s16.f32 s1, s1, #1\n\t"                                                                  \
    "vcvt.s16.f32 s2, s2, #1\n\t"                                                                  \
    "vcvt.s16.f32 s3, s3, #1\n\t"                                                                  \
    "vmov %[a], %[b], s0, s1\n\t"                                                                  \
    "vmov %[c], %[e], s2, s3\n\t"                                                                  \
    "pkhbt %[a], %[a], %[c], lsl #16\n\t"                                                          \
    "pkhbt %[b], %[b], %[e], lsl #16\n\t"                                                          \
    "bic %[c], %[k], %[a], lsr #15\n\t"                                                            \
    "bic %[e], %[k], %[b], lsr #15\n\t"                                                            \
    "shadd16 %[a], %[a], %[c]\n\t"                                                                 \
    "shadd16 %[b], %[b], %[e]\n\t"                                                                 \
    "ssat16 %[a], #8, %[a]\n\t"                                                                    \
    "ssat16 %[b], #8, %[b]\n\t"                                                                    \
    "uxtb16 %[a], %[a]\n\t"                                                                        \
    "uxtb16 %[b], %[b]\n\t"                                                                        \
    "orr %[a], %[a], %[b], lsl #8\n\t"                                                             \
    "str %[a], [%[o]], #4\n\t"
#define IN_K_s16 1
#define IN_K_s8  0x00010001
/* Strided stores (Thumb-2 has no register post-increment: register offset, then the pointer
 * steps twice). */
#define IN_ST4_STRIDED(store)                                                                      \
#store " %[a], [%[o]]\n\t" #store " %[b], [%[o], %[so]]\n\t"                                   \
           "add %[o], %[o], %[so], lsl #1\n\t" #store " %[c], [%[o]]\n\t" #store                   \
           " %[e], [%[o], %[so]]\n\t"                                                              \
           "add %[o], %[o], %[so], lsl #1\n\t"
#define IN_OUTS [t] "=&r"(t), [a] "=&r"(a), [b] "=&r"(b), [c] "=&r"(c), [e] "=&r"(e)

/* The kernels of one integer type T (int8_t: SSAT #8, STRB; int16_t: SSAT #16, STRH), 4·n4
 * values each (n4 ≥ 1):
 *   chan4: o[i·st] = q((x[i·st] − m) / d), st ≥ 1 (d: the folded divisor)
 *   elem4: o[i] = q((x[i] − mean[i]) / std[i] · scale) */
#if defined(MF_RT_EMULATE_DSP)
#define IN_INT_KERNELS(T, sfx, bits, store)                                                        \
    MF_RT_INLINE void mf_rt_input_##sfx##_chan4(const float *x, size_t st, T *o, size_t n4,        \
                                                float m, float d)                                  \
    {                                                                                              \
        for (size_t i = 0; i < 4 * n4; i += 4) {                                                   \
            if (st == 1) {                                                                         \
                const float v[4] = {(x[i] - m) / d, (x[i + 1] - m) / d, (x[i + 2] - m) / d,        \
                                    (x[i + 3] - m) / d};                                           \
                mf_rt_input_q4_##sfx(o + i, v);                                                    \
                continue;                                                                          \
            }                                                                                      \
            for (size_t j = i; j < i + 4; j++)                                                     \
                o[j * st] = (T)mf_ssat##bits(mf_rt_input_round((x[j * st] - m) / d));              \
        }                                                                                          \
    }                                                                                              \
    MF_RT_NOINLINE void mf_rt_input_##sfx##_elem4(const float *x, const float *mean,               \
                                                  const float *std, float scale, T *o, size_t n4)  \
    {                                                                                              \
        for (size_t i = 0; i < 4 * n4; i += 4) {                                                   \
            float v[4];                                                                            \
            for (int j = 0; j < 4; j++)                                                            \
                v[j] = (x[i + j] - mean[i + j]) / std[i + j] * scale;                              \
            mf_rt_input_q4_##sfx(o + i, v);                                                        \
        }                                                                                          \
    }
#else
#define IN_INT_KERNELS(T, sfx, bits, store)                                                        \
    MF_RT_INLINE void mf_rt_input_##sfx##_chan4(const float *x, size_t st, T *o, size_t n4,        \
                                                float m, float d)                                  \
    {                                                                                              \
        int32_t t, a, b, c, e;                                                                     \
        if (st == 1) {                                                                             \
            __asm__ volatile("1:\n\t"                                                              \
                             "vldmia %[x]!, {s0-s3}\n\t" F32_SUBDIV4("%[m]", "%[d]") IN_QST4_##sfx \
                             "subs %[n], %[n], #1\n\t"                                             \
                             "bne 1b\n\t"                                                          \
                             : [x] "+r"(x), [o] "+r"(o), [n] "+r"(n4), IN_OUTS                     \
                             : [m] "t"(m), [d] "t"(d), [k] "r"(IN_K_##sfx)                         \
                             : "s0", "s1", "s2", "s3", "cc", "memory");                            \
            return;                                                                                \
        }                                                                                          \
        const size_t sb = 4 * st, so = sizeof(T) * st; /* bytes between values: in, out */         \
        __asm__ volatile("1:\n\t"                                                                  \
                         "vldr s0, [%[x]]\n\t"                                                     \
                         "add %[x], %[x], %[sb]\n\t"                                               \
                         "vldr s1, [%[x]]\n\t"                                                     \
                         "add %[x], %[x], %[sb]\n\t"                                               \
                         "vldr s2, [%[x]]\n\t"                                                     \
                         "add %[x], %[x], %[sb]\n\t"                                               \
                         "vldr s3, [%[x]]\n\t"                                                     \
                         "add %[x], %[x], %[sb]\n\t" F32_SUBDIV4("%[m]", "%[d]") IN_Q4(bits)       \
                             IN_ST4_STRIDED(store) "subs %[n], %[n], #1\n\t"                       \
                                                   "bne 1b\n\t"                                    \
                         : [x] "+r"(x), [o] "+r"(o), [n] "+r"(n4), IN_OUTS                         \
                         : [m] "t"(m), [d] "t"(d), [k] "r"(1), [sb] "r"(sb), [so] "r"(so)          \
                         : "s0", "s1", "s2", "s3", "cc", "memory");                                \
    }                                                                                              \
    MF_RT_NOINLINE void mf_rt_input_##sfx##_elem4(const float *x, const float *mean,               \
                                                  const float *std, float scale, T *o, size_t n4)  \
    {                                                                                              \
        int32_t t, a, b, c, e;                                                                     \
        __asm__ volatile(                                                                          \
            "1:\n\t"                                                                               \
            "vldmia %[x]!, {s0-s3}\n\t"                                                            \
            "vldmia %[mp]!, {s4-s7}\n\t"                                                           \
            "vldmia %[bp]!, {s8-s11}\n\t"                                                          \
            "vsub.f32 s0, s0, s4\n\t"                                                              \
            "vsub.f32 s1, s1, s5\n\t"                                                              \
            "vsub.f32 s2, s2, s6\n\t"                                                              \
            "vsub.f32 s3, s3, s7\n\t"                                                              \
            "vdiv.f32 s0, s0, s8\n\t"                                                              \
            "vdiv.f32 s1, s1, s9\n\t"                                                              \
            "vdiv.f32 s2, s2, s10\n\t"                                                             \
            "vdiv.f32 s3, s3, s11\n\t"                                                             \
            "vmul.f32 s0, s0, %[s]\n\t"                                                            \
            "vmul.f32 s1, s1, %[s]\n\t"                                                            \
            "vmul.f32 s2, s2, %[s]\n\t"                                                            \
            "vmul.f32 s3, s3, %[s]\n\t" IN_QST4_##sfx "subs %[n], %[n], #1\n\t"                    \
                                                      "bne 1b\n\t"                                 \
            : [x] "+r"(x), [mp] "+r"(mean), [bp] "+r"(std), [o] "+r"(o), [n] "+r"(n4), IN_OUTS     \
            : [s] "t"(scale), [k] "r"(IN_K_##sfx)                                                  \
            : "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "cc",      \
              "memory");                                                                           \
    }
#endif /* MF_RT_EMULATE_DSP */

IN_INT_KERNELS(int8_t, s8, 8, strb)
IN_INT_KERNELS(int16_t, s16, 16, strh)

/* One channel: the k values x[i·st], i < k, into o[i·st], with mean m and std b. */
#define IN_INT_CHANNEL(T, sfx, bits)                                                               \
    MF_RT_INLINE void mf_rt_input_##sfx##_channel(size_t k, const float *x, size_t st, T *o,       \
                                                  float m, float b, float scale)                   \
    {                                                                                              \
        float d;                                                                                   \
        size_t i = 0;                                                                              \
        if (mf_rt_input_fold(b, scale, &d)) {                                                      \
            if (k >= 4) mf_rt_input_##sfx##_chan4(x, st, o, k / 4, m, d);                          \
            for (i = k & ~(size_t)3; i < k; i++)                                                   \
                o[i * st] = (T)mf_ssat##bits(mf_rt_input_round((x[i * st] - m) / d));              \
        } else {                                                                                   \
            for (; i < k; i++)                                                                     \
                o[i * st] = (T)mf_ssat##bits(mf_rt_input_round((x[i * st] - m) / b * scale));      \
        }                                                                                          \
    }

IN_INT_CHANNEL(int8_t, s8, 8)
IN_INT_CHANNEL(int16_t, s16, 16)

/* The walks of the public function: none, per element, per channel. */
#define IN_INT_OPT(T, sfx, bits)                                                                   \
    void mf_rt_input_##sfx##_opt(size_t n, const float *raw, const float *mean, const float *std,  \
                                 size_t n_stats, float scale, T *out)                              \
    {                                                                                              \
        if (n_stats == 0) {                                                                        \
            mf_rt_input_##sfx##_channel(n, raw, 1, out, 0.0f, 1.0f, scale);                        \
        } else if (n_stats >= n) {                                                                 \
            const size_t n4 = n / 4;                                                               \
            if (n4) mf_rt_input_##sfx##_elem4(raw, mean, std, scale, out, n4);                     \
            for (size_t i = 4 * n4; i < n; i++)                                                    \
                out[i] = (T)mf_ssat##bits(mf_rt_input_round((raw[i] - mean[i]) / std[i] * scale)); \
        } else {                                                                                   \
            for (size_t c = 0; c < n_stats; c++)                                                   \
                mf_rt_input_##sfx##_channel((n - c + n_stats - 1) / n_stats, raw + c, n_stats,     \
                                            out + c, mean[c], std[c], scale);                      \
        }                                                                                          \
    }

IN_INT_OPT(int16_t, s16, 16)
IN_INT_OPT(int8_t, s8, 8)

#endif /* MF_RT_OPT_INT */

#endif /* MF_RT_OPT_F32 */
