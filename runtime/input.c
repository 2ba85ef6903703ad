/* The model's input from raw sensor values: its own preprocessing (z-score) and quantization,
 * what the firmware's model_quantize_input() runs and the host computes the firmware test's
 * expected outputs with (DESIGN.md §13 "Input"). Portable C reference path; a Cortex-M4F runs
 * input_opt.c, bit-identical. */
#include "mf_runtime.h"
#include "mf_rt_dsp.h"

/* x' = (x − mean[c]) / std[c] in float, c = i mod n_stats, walked as positions × n_stats so
 * that no division by n_stats is needed; n_stats = 0: x' = x. */
#define MF_RT_ZSCORE_LOOP(STORE)                                                                   \
    do {                                                                                           \
        if (n_stats == 0) {                                                                        \
            for (size_t i = 0; i < n; i++) {                                                       \
                const float x = raw[i];                                                            \
                STORE;                                                                             \
            }                                                                                      \
            break;                                                                                 \
        }                                                                                          \
        for (size_t p = 0; p < n; p += n_stats)                                                    \
            for (size_t c = 0; c < n_stats && p + c < n; c++) {                                    \
                const size_t i = p + c;                                                            \
                const float x = (raw[i] - mean[c]) / std[c];                                       \
                STORE;                                                                             \
            }                                                                                      \
    } while (0)

/* q = saturate(lround(x · scale)) with scale = 2^n: x · scale is exact in float, so the
 * fraction is exact and rounding half away from zero matches the offline quantizer (lround). */
static int32_t quantize_one(float x, float scale, int32_t lim)
{
    const float v = x * scale;
    if (!(v < (float)lim)) return v != v ? 0 : lim;
    if (!(v > (float)(-lim - 1))) return -lim - 1;
    int32_t t = (int32_t)v; /* toward zero; |v| < 2^15 */
    const float frac = v - (float)t;
    if (frac >= 0.5f)
        t++;
    else if (frac <= -0.5f)
        t--;
    return t;
}

void mf_rt_input_f32_ref(size_t n, const float *raw, const float *mean, const float *std,
                         size_t n_stats, float *out)
{
    MF_RT_ZSCORE_LOOP(out[i] = x);
}

void mf_rt_input_s16_ref(size_t n, const float *raw, const float *mean, const float *std,
                         size_t n_stats, float scale, int16_t *out)
{
    MF_RT_ZSCORE_LOOP(out[i] = (int16_t)quantize_one(x, scale, 32767));
}

void mf_rt_input_s8_ref(size_t n, const float *raw, const float *mean, const float *std,
                        size_t n_stats, float scale, int8_t *out)
{
    MF_RT_ZSCORE_LOOP(out[i] = (int8_t)quantize_one(x, scale, 127));
}

/* ---- dispatch: the optimized path where the core has one (mf_rt_dsp.h), else the reference ----
 */

void mf_rt_input_f32(size_t n, const float *raw, const float *mean, const float *std,
                     size_t n_stats, float *out)
{
#if defined(MF_RT_OPT_F32)
    mf_rt_input_f32_opt(n, raw, mean, std, n_stats, out);
#else
    mf_rt_input_f32_ref(n, raw, mean, std, n_stats, out);
#endif
}

void mf_rt_input_s16(size_t n, const float *raw, const float *mean, const float *std,
                     size_t n_stats, float scale, int16_t *out)
{
#if defined(MF_RT_OPT_F32) && defined(MF_RT_OPT_INT)
    mf_rt_input_s16_opt(n, raw, mean, std, n_stats, scale, out);
#else
    mf_rt_input_s16_ref(n, raw, mean, std, n_stats, scale, out);
#endif
}

void mf_rt_input_s8(size_t n, const float *raw, const float *mean, const float *std, size_t n_stats,
                    float scale, int8_t *out)
{
#if defined(MF_RT_OPT_F32) && defined(MF_RT_OPT_INT)
    mf_rt_input_s8_opt(n, raw, mean, std, n_stats, scale, out);
#else
    mf_rt_input_s8_ref(n, raw, mean, std, n_stats, scale, out);
#endif
}
