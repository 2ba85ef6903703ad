/* Private to runtime: what the optimized kernel paths (*_opt.c) share. Not part of the
 * runtime's API; the firmware copies it with the other runtime files.
 *
 * Which path a public kernel takes (the dispatch sits in each family's reference file):
 *   MF_RT_OPT_INT  integer kernels use their *_opt path: in Thumb-2 code (32-bit ARM, every
 *                  Cortex-M) on a core with the DSP extension (__ARM_FEATURE_DSP: Cortex-M4/M7/
 *                  M33 …), or when MF_RT_EMULATE_DSP is defined.
 *   MF_RT_OPT_F32  float kernels use their *_opt path: in Thumb-2 code with a single-precision
 *                  FPU (__ARM_FP & 4), or when MF_RT_EMULATE_DSP is defined.
 * Otherwise every public kernel is its *_ref (the portable reference), e.g. on the host.
 *
 * MF_RT_EMULATE_DSP replaces the ARM intrinsics below by portable C with the same results, so a
 * host build (tests/test_runtime.c) compiles the very code of the optimized paths and compares it
 * bit for bit with the reference. The emulations are exact models of the instructions (including
 * the wrap-around of SMLAD's 32-bit accumulation), not "what the kernel needs".
 *
 * The optimized paths assume two's complement integers and an arithmetic right shift of negative
 * signed values (GCC and Clang document both; every target of this runtime has them). */
#ifndef MF_RT_DSP_H
#define MF_RT_DSP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mf_runtime.h"

#if defined(MF_RT_EMULATE_DSP)
#define MF_RT_OPT_INT 1
#define MF_RT_OPT_F32 1
#elif defined(__arm__) && defined(__thumb2__) /* the assembly below is AArch32 Thumb-2 */
#if defined(__ARM_FEATURE_DSP)
#define MF_RT_OPT_INT 1
#include <arm_acle.h>
#endif
#if defined(__ARM_FP) && (__ARM_FP & 4)
#define MF_RT_OPT_F32 1
#endif
#endif

#if defined(__GNUC__)
#define MF_RT_INLINE   static inline __attribute__((always_inline))
#define MF_RT_NOINLINE static __attribute__((noinline))
#define MF_RT_UNUSED   __attribute__((unused))
/* a public *_opt path kept out of line even under LTO: its frame stays off the caller's (the
 * generated model_run's), so the static stack bound is the deepest kernel, not their sum */
#define MF_RT_OUTLINE __attribute__((noinline))
#else
#define MF_RT_INLINE   static inline
#define MF_RT_NOINLINE static
#define MF_RT_UNUSED
#define MF_RT_OUTLINE
#endif

/* Whether the int8 conv reads 2D fields inside the input through an offset table (rows of
 * n = kw·cin values, no straddling group or few of them) instead of copying them; the scratch
 * getter (conv.c) sizes the table from it on every platform. */
static inline int mf_rt_conv_s8_tabbed(const mf_rt_geom *g)
{
    const int n = g->kw * g->cin;
    return g->kh > 1 && n >= 4;
}

/* How many fields of K values the int8 conv copies or gathers into its scratch per quad of 4
 * positions: 4, but a 1D geometry (h = kh = oh = 1, pad_top = 0) needs one per position that
 * takes it (at most 4 in a quad; the last quad's repeated positions reuse theirs): those
 * whose window leaves the input (ix < 0 or ix > w − kw, ix = ox·sw − pad_left) or whose word
 * reads would (ix·cin past w·cin − K rounded up to 4). In conv.c, shared by the getter; out of
 * line (once per call). */
int mf_rt_conv_s8_slots(const mf_rt_geom *g);

/* The pooled dot kernel's chunk of a window row's conv outputs (conv_s8_dot.c): one window of 2
 * taps for K ≤ 8, else 256 bytes or that window; in conv.c, shared by the getter. */
size_t mf_rt_conv_dot_s8_chunk(const mf_rt_geom *g);

/* ---- the optimized paths (bit-identical to the *_ref functions of mf_runtime.h) ---- */
#if defined(MF_RT_OPT_INT)
void mf_rt_conv_s16_opt(const mf_rt_geom *g, const int16_t *in, const int16_t *w,
                        const int64_t *bias, const mf_rt_requant *rq, int16_t *out, void *scratch);
void mf_rt_conv_s8_opt(const mf_rt_geom *g, const int8_t *in, const int8_t *w, const int32_t *bias,
                       const mf_rt_requant *rq, int8_t *out, void *scratch);
void mf_rt_conv_maxpool_s16_opt(const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh,
                                int pool_sw, const int16_t *in, const int16_t *w,
                                const int64_t *bias, const mf_rt_requant *rq, int16_t *out,
                                void *scratch);
void mf_rt_conv_maxpool_s8_opt(const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh,
                               int pool_sw, const int8_t *in, const int8_t *w, const int32_t *bias,
                               const mf_rt_requant *rq, int8_t *out, void *scratch);
void mf_rt_conv1d_s8_opt(const mf_rt_geom *g, const int8_t *in, const int8_t *w,
                         const int32_t *bias, const mf_rt_requant *rq, int8_t *out, void *scratch);
void mf_rt_conv1d_maxpool_s8_opt(const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh,
                                 int pool_sw, const int8_t *in, const int8_t *w,
                                 const int32_t *bias, const mf_rt_requant *rq, int8_t *out,
                                 void *scratch);
void mf_rt_conv_small_s8_opt(const mf_rt_geom *g, const int8_t *in, const int8_t *w,
                             const int32_t *bias, const mf_rt_requant *rq, int8_t *out,
                             void *scratch);
/* The patch kernels, one per shape (conv_s8_patch.c). */
#define MF_RT_CONV_PATCH_OPT_DECL(S)                                                               \
    void mf_rt_conv_patch##S##_s8_opt(const mf_rt_geom *g, const int8_t *in, const int8_t *w,      \
                                      const int32_t *bias, const mf_rt_requant *rq, int8_t *out,   \
                                      void *scratch);                                              \
    void mf_rt_conv_patch##S##_maxpool_s8_opt(                                                     \
        const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh, int pool_sw,                \
        const int8_t *in, const int8_t *w, const int32_t *bias, const mf_rt_requant *rq,           \
        int8_t *out, void *scratch);
MF_RT_CONV_PATCH_OPT_DECL(3x3o3)
MF_RT_CONV_PATCH_OPT_DECL(1x3o3)
MF_RT_CONV_PATCH_OPT_DECL(5x5o1)
/* The lane kernels (conv_s8_lanes.c). */
void mf_rt_conv_lanes_s8_opt(const mf_rt_geom *g, const int8_t *in, const int8_t *w,
                             const int32_t *bias, const mf_rt_requant *rq, int8_t *out,
                             void *scratch);
void mf_rt_conv_lanes_maxpool_s8_opt(const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh,
                                     int pool_sw, const int8_t *in, const int8_t *w,
                                     const int32_t *bias, const mf_rt_requant *rq, int8_t *out,
                                     void *scratch);
MF_RT_CONV_PATCH_OPT_DECL(go3)
void mf_rt_conv_wide_s8_opt(const mf_rt_geom *g, const int8_t *in, const int8_t *w,
                            const int32_t *bias, const mf_rt_requant *rq, int8_t *out,
                            void *scratch);
void mf_rt_conv_wide_maxpool_s8_opt(const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh,
                                    int pool_sw, const int8_t *in, const int8_t *w,
                                    const int32_t *bias, const mf_rt_requant *rq, int8_t *out,
                                    void *scratch);
/* The dot kernels (conv_s8_dot.c); the bytes of the pooled form's chunk of conv outputs, which
 * scratch holds after the blocks (conv.c, shared with the getter). */
void mf_rt_conv_dot_s8_opt(const mf_rt_geom *g, const int8_t *in, const int8_t *w,
                           const int32_t *bias, const mf_rt_requant *rq, int8_t *out,
                           void *scratch);
void mf_rt_conv_dot_maxpool_s8_opt(const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh,
                                   int pool_sw, const int8_t *in, const int8_t *w,
                                   const int32_t *bias, const mf_rt_requant *rq, int8_t *out,
                                   void *scratch);
/* The register-field kernels, one per P (conv_s8_field.c). */
#define MF_RT_CONV_FIELD_OPT_DECL(P)                                                               \
    void mf_rt_conv_field##P##_s8_opt(const mf_rt_geom *g, const int8_t *in, const int8_t *w,      \
                                      const int32_t *bias, const mf_rt_requant *rq, int8_t *out,   \
                                      void *scratch);                                              \
    void mf_rt_conv_field##P##_maxpool_s8_opt(                                                     \
        const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh, int pool_sw,                \
        const int8_t *in, const int8_t *w, const int32_t *bias, const mf_rt_requant *rq,           \
        int8_t *out, void *scratch);
MF_RT_CONV_FIELD_OPT_DECL(1)
MF_RT_CONV_FIELD_OPT_DECL(2)
MF_RT_CONV_FIELD_OPT_DECL(3)
MF_RT_CONV_FIELD_OPT_DECL(4)
MF_RT_CONV_FIELD_OPT_DECL(5)
MF_RT_CONV_FIELD_OPT_DECL(6)
MF_RT_CONV_FIELD_OPT_DECL(7)
MF_RT_CONV_FIELD_OPT_DECL(8)
void mf_rt_conv_small_maxpool_s8_opt(const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh,
                                     int pool_sw, const int8_t *in, const int8_t *w,
                                     const int32_t *bias, const mf_rt_requant *rq, int8_t *out,
                                     void *scratch);
void mf_rt_dense_s16_opt(int n_in, int n_out, const int16_t *in, const int16_t *w,
                         const int64_t *bias, const mf_rt_requant *rq, int16_t *out);
void mf_rt_dwconv_s8_opt(const mf_rt_geom *g, const int8_t *in, const int8_t *w,
                         const int32_t *bias, const mf_rt_requant *rq, int8_t *out, void *scratch);
void mf_rt_dense_s8_opt(int n_in, int n_out, const int8_t *in, const int8_t *w, const int32_t *bias,
                        const mf_rt_requant *rq, int8_t *out, void *scratch);
void mf_rt_maxpool_s16_opt(const mf_rt_geom *g, const int16_t *in, int relu, int16_t *out);
void mf_rt_maxpool_s8_opt(const mf_rt_geom *g, const int8_t *in, int relu, int8_t *out);
void mf_rt_avgpool_s16_opt(const mf_rt_geom *g, const int16_t *in, int relu, int rounding,
                           int16_t *out);
void mf_rt_avgpool_s8_opt(const mf_rt_geom *g, const int8_t *in, int relu, int rounding,
                          int8_t *out);
void mf_rt_global_maxpool_s16_opt(int positions, int channels, const int16_t *in, int16_t *out);
void mf_rt_global_maxpool_s8_opt(int positions, int channels, const int8_t *in, int8_t *out);
void mf_rt_global_avgpool_s8_opt(int positions, int channels, const int8_t *in, int rounding,
                                 int8_t *out);
void mf_rt_global_avgpool_s16_opt(int positions, int channels, const int16_t *in, int rounding,
                                  int16_t *out);
void mf_rt_add_s16_opt(size_t n, const int16_t *a, int align_a, const int16_t *b, int align_b,
                       const mf_rt_requant *rq, int16_t *out);
void mf_rt_add_s8_opt(size_t n, const int8_t *a, int align_a, const int8_t *b, int align_b,
                      const mf_rt_requant *rq, int8_t *out);
void mf_rt_relu_s16_opt(size_t n, const int16_t *in, int16_t *out);
void mf_rt_relu_s8_opt(size_t n, const int8_t *in, int8_t *out);
void mf_rt_rescale_s16_opt(size_t n, const int16_t *in, int shift, int rounding, int16_t *out);
void mf_rt_rescale_s8_opt(size_t n, const int8_t *in, int shift, int rounding, int8_t *out);
#endif
#if defined(MF_RT_OPT_F32)
void mf_rt_conv_f32_opt(const mf_rt_geom *g, const float *in, const float *w, const float *bias,
                        int relu, float *out);
void mf_rt_conv_maxpool_f32_opt(const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh,
                                int pool_sw, const float *in, const float *w, const float *bias,
                                int relu, float *out);
void mf_rt_dense_f32_opt(int n_in, int n_out, const float *in, const float *w, const float *bias,
                         int relu, float *out);
void mf_rt_maxpool_f32_opt(const mf_rt_geom *g, const float *in, int relu, float *out);
void mf_rt_avgpool_f32_opt(const mf_rt_geom *g, const float *in, int relu, float *out);
void mf_rt_global_maxpool_f32_opt(int positions, int channels, const float *in, float *out);
void mf_rt_global_avgpool_f32_opt(int positions, int channels, const float *in, float *out);
void mf_rt_add_f32_opt(size_t n, const float *a, const float *b, int relu, float *out);
void mf_rt_relu_f32_opt(size_t n, const float *in, float *out);
void mf_rt_input_f32_opt(size_t n, const float *raw, const float *mean, const float *std,
                         size_t n_stats, float *out);
#endif
#if defined(MF_RT_OPT_F32) && defined(MF_RT_OPT_INT) /* VCVT and QADD */
void mf_rt_input_s16_opt(size_t n, const float *raw, const float *mean, const float *std,
                         size_t n_stats, float scale, int16_t *out);
void mf_rt_input_s8_opt(size_t n, const float *raw, const float *mean, const float *std,
                        size_t n_stats, float scale, int8_t *out);
#endif

#if defined(MF_RT_OPT_INT)

/* ---- primitives: ARM instructions, or their exact C models ---- */

/* 32-bit load/store of 4 int8 or 2 int16 at any byte address: a single LDR/STR on the M4
 * (unaligned LDR/STR are allowed; LDRD/LDM are never used for packed data, TARGET.md §7.8).
 * __builtin_memcpy, because -ffreestanding (-fno-builtin) would turn memcpy into a call. */
#if defined(__GNUC__)
#define MF_RT_MEMCPY __builtin_memcpy
#else
#define MF_RT_MEMCPY memcpy
#endif

MF_RT_INLINE uint32_t mf_ld32(const void *p)
{
    uint32_t v;
    MF_RT_MEMCPY(&v, p, 4);
    return v;
}

MF_RT_INLINE void mf_st32(void *p, uint32_t v)
{
    MF_RT_MEMCPY(p, &v, 4);
}

/* uint32 → int32 modulo 2^32 without implementation-defined conversion. */
MF_RT_INLINE int32_t mf_s32(uint32_t u)
{
    return u <= (uint32_t)INT32_MAX ? (int32_t)u : -(int32_t)(~u) - 1;
}

/* Lanes of packed words: byte i = bits 8i..8i+7, halfword i = bits 16i..16i+15 (little endian). */
MF_RT_INLINE int32_t mf_lane8(uint32_t x, int i)
{
    return (int32_t)((x >> (8 * i)) & 0xFFu) - (int32_t)(((x >> (8 * i)) & 0x80u) << 1);
}

MF_RT_INLINE int32_t mf_lane16(uint32_t x, int i)
{
    return (int32_t)((x >> (16 * i)) & 0xFFFFu) - (int32_t)(((x >> (16 * i)) & 0x8000u) << 1);
}

#if defined(MF_RT_EMULATE_DSP)

MF_RT_INLINE uint32_t mf_pack16(int32_t lo, int32_t hi)
{
    return ((uint32_t)lo & 0xFFFFu) | ((uint32_t)hi & 0xFFFFu) << 16;
}

/* SXTB16: halfwords ← sign-extended bytes 0 and 2; with ROR #8: bytes 1 and 3. */
MF_RT_INLINE uint32_t mf_sxtb16(uint32_t x)
{
    return mf_pack16(mf_lane8(x, 0), mf_lane8(x, 2));
}

MF_RT_INLINE uint32_t mf_sxtb16_ror8(uint32_t x)
{
    return mf_pack16(mf_lane8(x, 1), mf_lane8(x, 3));
}

/* SMLAD: acc + lo·lo + hi·hi, modulo 2^32. */
MF_RT_INLINE int32_t mf_smlad(uint32_t x, uint32_t y, int32_t acc)
{
    int64_t s = (int64_t)acc + (int64_t)mf_lane16(x, 0) * mf_lane16(y, 0) +
                (int64_t)mf_lane16(x, 1) * mf_lane16(y, 1);
    return mf_s32((uint32_t)((uint64_t)s & 0xFFFFFFFFu));
}

/* SMLALD: acc + lo·lo + hi·hi in 64 bits (modulo 2^64). */
MF_RT_INLINE int64_t mf_smlald(uint32_t x, uint32_t y, int64_t acc)
{
    uint64_t s = (uint64_t)acc + (uint64_t)((int64_t)mf_lane16(x, 0) * mf_lane16(y, 0)) +
                 (uint64_t)((int64_t)mf_lane16(x, 1) * mf_lane16(y, 1));
    return s <= (uint64_t)INT64_MAX ? (int64_t)s : -(int64_t)(~s) - 1;
}

/* SSAT #8, USAT #7 (= ReLU after SSAT #8), SSAT #16, USAT #15. */
MF_RT_INLINE int32_t mf_ssat8(int32_t x)
{
    return x > 127 ? 127 : x < -128 ? -128 : x;
}

MF_RT_INLINE int32_t mf_usat7(int32_t x)
{
    return x > 127 ? 127 : x < 0 ? 0 : x;
}

MF_RT_INLINE int32_t mf_ssat16(int32_t x)
{
    return x > 32767 ? 32767 : x < -32768 ? -32768 : x;
}

MF_RT_INLINE int32_t mf_usat15(int32_t x)
{
    return x > 32767 ? 32767 : x < 0 ? 0 : x;
}

/* SSUB8 + SEL: lane-wise signed maximum of 4 int8 lanes; SSUB16 + SEL: of 2 int16 lanes. */
MF_RT_INLINE uint32_t mf_max_s8x4(uint32_t a, uint32_t b)
{
    uint32_t r = 0;
    for (int i = 0; i < 4; i++) {
        int32_t x = mf_lane8(a, i), y = mf_lane8(b, i);
        r |= ((uint32_t)(x >= y ? x : y) & 0xFFu) << (8 * i);
    }
    return r;
}

MF_RT_INLINE uint32_t mf_max_s16x2(uint32_t a, uint32_t b)
{
    int32_t x0 = mf_lane16(a, 0), y0 = mf_lane16(b, 0), x1 = mf_lane16(a, 1), y1 = mf_lane16(b, 1);
    return mf_pack16(x0 >= y0 ? x0 : y0, x1 >= y1 ? x1 : y1);
}

/* SADD16: lane-wise add of 2 int16 lanes, modulo 2^16 per lane. */
MF_RT_INLINE uint32_t mf_sadd16(uint32_t a, uint32_t b)
{
    return mf_pack16(mf_lane16(a, 0) + mf_lane16(b, 0), mf_lane16(a, 1) + mf_lane16(b, 1));
}

/* SXTAB16: a + SXTB16(x) lane-wise (modulo 2^16 per lane); with ROR #8: of bytes 1 and 3. */
MF_RT_INLINE uint32_t mf_sxtab16(uint32_t a, uint32_t x)
{
    return mf_sadd16(a, mf_sxtb16(x));
}

MF_RT_INLINE uint32_t mf_sxtab16_ror8(uint32_t a, uint32_t x)
{
    return mf_sadd16(a, mf_sxtb16_ror8(x));
}

/* QADD8 / QADD16: lane-wise saturating add. SHADD8 / SHSUB8 / SHADD16 / SHSUB16: lane-wise
 * halving add / subtract, floor((x ± y) / 2) formed without overflow (one bit wider). */
MF_RT_INLINE uint32_t mf_qadd8(uint32_t a, uint32_t b)
{
    uint32_t r = 0;
    for (int i = 0; i < 4; i++)
        r |= ((uint32_t)mf_ssat8(mf_lane8(a, i) + mf_lane8(b, i)) & 0xFFu) << (8 * i);
    return r;
}

MF_RT_INLINE uint32_t mf_shadd8(uint32_t a, uint32_t b)
{
    uint32_t r = 0;
    for (int i = 0; i < 4; i++)
        r |= ((uint32_t)((mf_lane8(a, i) + mf_lane8(b, i)) >> 1) & 0xFFu) << (8 * i);
    return r;
}

MF_RT_INLINE uint32_t mf_shsub8(uint32_t a, uint32_t b)
{
    uint32_t r = 0;
    for (int i = 0; i < 4; i++)
        r |= ((uint32_t)((mf_lane8(a, i) - mf_lane8(b, i)) >> 1) & 0xFFu) << (8 * i);
    return r;
}

MF_RT_INLINE uint32_t mf_qadd16(uint32_t a, uint32_t b)
{
    return mf_pack16(mf_ssat16(mf_lane16(a, 0) + mf_lane16(b, 0)),
                     mf_ssat16(mf_lane16(a, 1) + mf_lane16(b, 1)));
}

MF_RT_INLINE uint32_t mf_shadd16(uint32_t a, uint32_t b)
{
    return mf_pack16((mf_lane16(a, 0) + mf_lane16(b, 0)) >> 1,
                     (mf_lane16(a, 1) + mf_lane16(b, 1)) >> 1);
}

MF_RT_INLINE uint32_t mf_shsub16(uint32_t a, uint32_t b)
{
    return mf_pack16((mf_lane16(a, 0) - mf_lane16(b, 0)) >> 1,
                     (mf_lane16(a, 1) - mf_lane16(b, 1)) >> 1);
}

#else /* the M4's instructions */

MF_RT_INLINE uint32_t mf_sxtb16(uint32_t x)
{
    return (uint32_t)__sxtb16((int8x4_t)x);
}

MF_RT_INLINE uint32_t mf_sxtb16_ror8(uint32_t x)
{
    uint32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}

MF_RT_INLINE int32_t mf_smlad(uint32_t x, uint32_t y, int32_t acc)
{
    return __smlad((int16x2_t)x, (int16x2_t)y, acc);
}

MF_RT_INLINE int64_t mf_smlald(uint32_t x, uint32_t y, int64_t acc)
{
    return __smlald((int16x2_t)x, (int16x2_t)y, acc);
}

MF_RT_INLINE int32_t mf_ssat8(int32_t x)
{
    return __ssat(x, 8);
}

MF_RT_INLINE int32_t mf_usat7(int32_t x)
{
    return (int32_t)__usat(x, 7);
}

MF_RT_INLINE int32_t mf_ssat16(int32_t x)
{
    return __ssat(x, 16);
}

MF_RT_INLINE int32_t mf_usat15(int32_t x)
{
    return (int32_t)__usat(x, 15);
}

MF_RT_INLINE uint32_t mf_max_s8x4(uint32_t a, uint32_t b)
{
    uint32_t r;
    __asm__("ssub8 %0, %1, %2\n\tsel %0, %1, %2" : "=&r"(r) : "r"(a), "r"(b) : "cc");
    return r;
}

MF_RT_INLINE uint32_t mf_max_s16x2(uint32_t a, uint32_t b)
{
    uint32_t r;
    __asm__("ssub16 %0, %1, %2\n\tsel %0, %1, %2" : "=&r"(r) : "r"(a), "r"(b) : "cc");
    return r;
}

MF_RT_INLINE uint32_t mf_sadd16(uint32_t a, uint32_t b)
{
    return (uint32_t)__sadd16((int16x2_t)a, (int16x2_t)b);
}

MF_RT_INLINE uint32_t mf_sxtab16(uint32_t a, uint32_t x)
{
    return (uint32_t)__sxtab16((int16x2_t)a, (int8x4_t)x);
}

MF_RT_INLINE uint32_t mf_sxtab16_ror8(uint32_t a, uint32_t x)
{
    uint32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(x));
    return r;
}

MF_RT_INLINE uint32_t mf_qadd8(uint32_t a, uint32_t b)
{
    return (uint32_t)__qadd8((int8x4_t)a, (int8x4_t)b);
}

MF_RT_INLINE uint32_t mf_shadd8(uint32_t a, uint32_t b)
{
    return (uint32_t)__shadd8((int8x4_t)a, (int8x4_t)b);
}

MF_RT_INLINE uint32_t mf_shsub8(uint32_t a, uint32_t b)
{
    return (uint32_t)__shsub8((int8x4_t)a, (int8x4_t)b);
}

MF_RT_INLINE uint32_t mf_qadd16(uint32_t a, uint32_t b)
{
    return (uint32_t)__qadd16((int16x2_t)a, (int16x2_t)b);
}

MF_RT_INLINE uint32_t mf_shadd16(uint32_t a, uint32_t b)
{
    return (uint32_t)__shadd16((int16x2_t)a, (int16x2_t)b);
}

MF_RT_INLINE uint32_t mf_shsub16(uint32_t a, uint32_t b)
{
    return (uint32_t)__shsub16((int16x2_t)a, (int16x2_t)b);
}

#endif /* MF_RT_EMULATE_DSP */

/* ---- fast requantization ----
 * An int8 channel whose shift s lies in [0, 31] and whose int32 accumulator cannot leave the
 * type even with the rounding constant added, starts its accumulator at bias + rc, rc = 2^(s−1)
 * for half-up (0 for floor or s = 0); int16 has its own bound (conv_s16_opt.c, chan_s16). Then
 *   requant(acc) = sat(floor((acc + rc) / 2^s)) = sat((bias + rc + Σ) >> s),
 * the half-up rule of DESIGN.md §13 exactly (acc + rc is formed without overflow, so no
 * wrap-around), then SSAT/USAT (ReLU) to the output type. Any other channel (s < 0, s ≥ width,
 * or a bound that does not hold) takes the reference requantization (mf_rt_requant_s32) of the
 * plain accumulator.
 * bound: the largest |Σ| of the products, taps·2^14.
 * mf_rt_init_s8 gives the accumulator starts of n int8 channels with `taps` products each
 * (init[stride·c]) and whether all of them take the fast requantization; if not, every channel
 * starts at its plain bias (the reference's). Shared by the int8 conv and dense paths
 * (conv_s8_opt.c). */
int mf_rt_init_s8(const int32_t *bias, const mf_rt_requant *rq, int taps, int n, int32_t *init,
                  int stride);

#endif /* MF_RT_OPT_INT */

#endif
