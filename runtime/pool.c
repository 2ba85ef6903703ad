/* Max and average pools, windowed and global, portable C reference path. Outputs keep the
 * input format; pools take no requantization.
 *
 * Windowed pools: output (oy, ox, c) covers the taps iy = oy·sh − pad_top + ky,
 * ix = ox·sw − pad_left + kx (ky < kh, kx < kw). Models use valid windows (pad 0, every tap
 * inside the input). Should a geometry carry padding, taps outside the input are skipped and
 * `count` is the number of taps inside (TensorFlow's "same" pooling); a window with no tap inside
 * gives 0.
 *   max: the first tap in (ky, kx) order, replaced by every later tap that is strictly greater
 *        (float: `>`, so NaN taps after the first are ignored); then relu → v < 0 ? 0 : v.
 *   avg, int8/int16: sum of the taps in int32, then
 *        floor mode:   floor(sum / count)
 *        half-up mode: floor((2·sum + count) / (2·count)) = floor((sum + ⌊count/2⌋) / count)
 *        (see avg_s32), never C's truncation toward zero; the result lies inside the input range
 *        (it is a rounded mean), so no saturation is needed. Requires count < 65536, so that
 *        the sum fits in int32 for int16 inputs. Then relu.
 *   avg, float: sum = 0.0f + taps in (ky, kx) order, then sum / (float)count; then relu.
 * Global pools: in [positions][channels] → out [channels], the same rules with the positions in
 * ascending order as the window (positions < 65536 for the integer averages).
 * `out` must not alias `in`. */
#include "mf_runtime.h"
#include "mf_rt_dsp.h"

/* floor(num / den) for den > 0 (C's `/` truncates toward zero). */
static int32_t floor_div_s32(int32_t num, int32_t den)
{
    int32_t q = num / den;
    if (num % den != 0 && num < 0) q -= 1;
    return q;
}

/* The rounded mean. Half-up: floor((2·sum + count) / (2·count)) = floor((sum + count/2) / count)
 * with count/2 the exact half. For even count, ⌊count/2⌋ = count/2. For odd count, with
 * N = sum + ⌊count/2⌋ the argument is (N + 1/2) / count, and floor(x / count) only changes at
 * multiples of count, which are integers, so it does not change between N and N + 1/2.
 * This form also avoids the overflow of 2·sum: |sum + ⌊count/2⌋| < 2^15·count < 2^31. */
static int32_t avg_s32(int32_t sum, int32_t count, int rounding)
{
    if (count <= 0) return 0;
    if (rounding == MF_RT_ROUND_HALF_UP) return floor_div_s32(sum + count / 2, count);
    return floor_div_s32(sum, count);
}

/* ---- max ---- */

void mf_rt_maxpool_f32_ref(const mf_rt_geom *g, const float *in, int relu, float *out)
{
    for (int oy = 0; oy < g->oh; oy++)
        for (int ox = 0; ox < g->ow; ox++)
            for (int c = 0; c < g->cin; c++) {
                float m = 0.0f;
                int seen = 0;
                for (int ky = 0; ky < g->kh; ky++) {
                    int iy = oy * g->sh - g->pad_top + ky;
                    if (iy < 0 || iy >= g->h) continue;
                    for (int kx = 0; kx < g->kw; kx++) {
                        int ix = ox * g->sw - g->pad_left + kx;
                        if (ix < 0 || ix >= g->w) continue;
                        float v = in[((size_t)iy * g->w + ix) * g->cin + c];
                        if (!seen || v > m) m = v;
                        seen = 1;
                    }
                }
                if (relu && m < 0.0f) m = 0.0f;
                out[((size_t)oy * g->ow + ox) * g->cin + c] = m;
            }
}

void mf_rt_maxpool_s16_ref(const mf_rt_geom *g, const int16_t *in, int relu, int16_t *out)
{
    for (int oy = 0; oy < g->oh; oy++)
        for (int ox = 0; ox < g->ow; ox++)
            for (int c = 0; c < g->cin; c++) {
                int16_t m = 0;
                int seen = 0;
                for (int ky = 0; ky < g->kh; ky++) {
                    int iy = oy * g->sh - g->pad_top + ky;
                    if (iy < 0 || iy >= g->h) continue;
                    for (int kx = 0; kx < g->kw; kx++) {
                        int ix = ox * g->sw - g->pad_left + kx;
                        if (ix < 0 || ix >= g->w) continue;
                        int16_t v = in[((size_t)iy * g->w + ix) * g->cin + c];
                        if (!seen || v > m) m = v;
                        seen = 1;
                    }
                }
                if (relu && m < 0) m = 0;
                out[((size_t)oy * g->ow + ox) * g->cin + c] = m;
            }
}

void mf_rt_maxpool_s8_ref(const mf_rt_geom *g, const int8_t *in, int relu, int8_t *out)
{
    for (int oy = 0; oy < g->oh; oy++)
        for (int ox = 0; ox < g->ow; ox++)
            for (int c = 0; c < g->cin; c++) {
                int8_t m = 0;
                int seen = 0;
                for (int ky = 0; ky < g->kh; ky++) {
                    int iy = oy * g->sh - g->pad_top + ky;
                    if (iy < 0 || iy >= g->h) continue;
                    for (int kx = 0; kx < g->kw; kx++) {
                        int ix = ox * g->sw - g->pad_left + kx;
                        if (ix < 0 || ix >= g->w) continue;
                        int8_t v = in[((size_t)iy * g->w + ix) * g->cin + c];
                        if (!seen || v > m) m = v;
                        seen = 1;
                    }
                }
                if (relu && m < 0) m = 0;
                out[((size_t)oy * g->ow + ox) * g->cin + c] = m;
            }
}

/* ---- average ---- */

void mf_rt_avgpool_f32_ref(const mf_rt_geom *g, const float *in, int relu, float *out)
{
    for (int oy = 0; oy < g->oh; oy++)
        for (int ox = 0; ox < g->ow; ox++)
            for (int c = 0; c < g->cin; c++) {
                float sum = 0.0f;
                int count = 0;
                for (int ky = 0; ky < g->kh; ky++) {
                    int iy = oy * g->sh - g->pad_top + ky;
                    if (iy < 0 || iy >= g->h) continue;
                    for (int kx = 0; kx < g->kw; kx++) {
                        int ix = ox * g->sw - g->pad_left + kx;
                        if (ix < 0 || ix >= g->w) continue;
                        sum += in[((size_t)iy * g->w + ix) * g->cin + c];
                        count++;
                    }
                }
                float v = count > 0 ? sum / (float)count : 0.0f;
                if (relu && v < 0.0f) v = 0.0f;
                out[((size_t)oy * g->ow + ox) * g->cin + c] = v;
            }
}

void mf_rt_avgpool_s16_ref(const mf_rt_geom *g, const int16_t *in, int relu, int rounding,
                           int16_t *out)
{
    for (int oy = 0; oy < g->oh; oy++)
        for (int ox = 0; ox < g->ow; ox++)
            for (int c = 0; c < g->cin; c++) {
                int32_t sum = 0, count = 0;
                for (int ky = 0; ky < g->kh; ky++) {
                    int iy = oy * g->sh - g->pad_top + ky;
                    if (iy < 0 || iy >= g->h) continue;
                    for (int kx = 0; kx < g->kw; kx++) {
                        int ix = ox * g->sw - g->pad_left + kx;
                        if (ix < 0 || ix >= g->w) continue;
                        sum += in[((size_t)iy * g->w + ix) * g->cin + c];
                        count++;
                    }
                }
                int32_t v = avg_s32(sum, count, rounding);
                if (relu && v < 0) v = 0;
                out[((size_t)oy * g->ow + ox) * g->cin + c] = (int16_t)v;
            }
}

void mf_rt_avgpool_s8_ref(const mf_rt_geom *g, const int8_t *in, int relu, int rounding,
                          int8_t *out)
{
    for (int oy = 0; oy < g->oh; oy++)
        for (int ox = 0; ox < g->ow; ox++)
            for (int c = 0; c < g->cin; c++) {
                int32_t sum = 0, count = 0;
                for (int ky = 0; ky < g->kh; ky++) {
                    int iy = oy * g->sh - g->pad_top + ky;
                    if (iy < 0 || iy >= g->h) continue;
                    for (int kx = 0; kx < g->kw; kx++) {
                        int ix = ox * g->sw - g->pad_left + kx;
                        if (ix < 0 || ix >= g->w) continue;
                        sum += in[((size_t)iy * g->w + ix) * g->cin + c];
                        count++;
                    }
                }
                int32_t v = avg_s32(sum, count, rounding);
                if (relu && v < 0) v = 0;
                out[((size_t)oy * g->ow + ox) * g->cin + c] = (int8_t)v;
            }
}

/* ---- global ---- */

void mf_rt_global_maxpool_f32_ref(int positions, int channels, const float *in, float *out)
{
    for (int c = 0; c < channels; c++) {
        float m = positions > 0 ? in[c] : 0.0f;
        for (int p = 1; p < positions; p++) {
            float v = in[(size_t)p * channels + c];
            if (v > m) m = v;
        }
        out[c] = m;
    }
}

void mf_rt_global_maxpool_s16_ref(int positions, int channels, const int16_t *in, int16_t *out)
{
    for (int c = 0; c < channels; c++) {
        int16_t m = positions > 0 ? in[c] : 0;
        for (int p = 1; p < positions; p++) {
            int16_t v = in[(size_t)p * channels + c];
            if (v > m) m = v;
        }
        out[c] = m;
    }
}

void mf_rt_global_maxpool_s8_ref(int positions, int channels, const int8_t *in, int8_t *out)
{
    for (int c = 0; c < channels; c++) {
        int8_t m = positions > 0 ? in[c] : 0;
        for (int p = 1; p < positions; p++) {
            int8_t v = in[(size_t)p * channels + c];
            if (v > m) m = v;
        }
        out[c] = m;
    }
}

void mf_rt_global_avgpool_f32_ref(int positions, int channels, const float *in, float *out)
{
    for (int c = 0; c < channels; c++) {
        float sum = 0.0f;
        for (int p = 0; p < positions; p++)
            sum += in[(size_t)p * channels + c];
        out[c] = positions > 0 ? sum / (float)positions : 0.0f;
    }
}

void mf_rt_global_avgpool_s16_ref(int positions, int channels, const int16_t *in, int rounding,
                                  int16_t *out)
{
    for (int c = 0; c < channels; c++) {
        int32_t sum = 0;
        for (int p = 0; p < positions; p++)
            sum += in[(size_t)p * channels + c];
        out[c] = (int16_t)avg_s32(sum, positions, rounding);
    }
}

void mf_rt_global_avgpool_s8_ref(int positions, int channels, const int8_t *in, int rounding,
                                 int8_t *out)
{
    for (int c = 0; c < channels; c++) {
        int32_t sum = 0;
        for (int p = 0; p < positions; p++)
            sum += in[(size_t)p * channels + c];
        out[c] = (int8_t)avg_s32(sum, positions, rounding);
    }
}

/* ---- dispatch: the optimized path where the core has one (mf_rt_dsp.h), else the reference ----
 */

void mf_rt_maxpool_f32(const mf_rt_geom *g, const float *in, int relu, float *out)
{
#if defined(MF_RT_OPT_F32)
    mf_rt_maxpool_f32_opt(g, in, relu, out);
#else
    mf_rt_maxpool_f32_ref(g, in, relu, out);
#endif
}

void mf_rt_maxpool_s16(const mf_rt_geom *g, const int16_t *in, int relu, int16_t *out)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_maxpool_s16_opt(g, in, relu, out);
#else
    mf_rt_maxpool_s16_ref(g, in, relu, out);
#endif
}

void mf_rt_maxpool_s8(const mf_rt_geom *g, const int8_t *in, int relu, int8_t *out)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_maxpool_s8_opt(g, in, relu, out);
#else
    mf_rt_maxpool_s8_ref(g, in, relu, out);
#endif
}

void mf_rt_avgpool_f32(const mf_rt_geom *g, const float *in, int relu, float *out)
{
#if defined(MF_RT_OPT_F32)
    mf_rt_avgpool_f32_opt(g, in, relu, out);
#else
    mf_rt_avgpool_f32_ref(g, in, relu, out);
#endif
}

void mf_rt_avgpool_s16(const mf_rt_geom *g, const int16_t *in, int relu, int rounding, int16_t *out)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_avgpool_s16_opt(g, in, relu, rounding, out);
#else
    mf_rt_avgpool_s16_ref(g, in, relu, rounding, out);
#endif
}

void mf_rt_avgpool_s8(const mf_rt_geom *g, const int8_t *in, int relu, int rounding, int8_t *out)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_avgpool_s8_opt(g, in, relu, rounding, out);
#else
    mf_rt_avgpool_s8_ref(g, in, relu, rounding, out);
#endif
}

void mf_rt_global_maxpool_f32(int positions, int channels, const float *in, float *out)
{
#if defined(MF_RT_OPT_F32)
    mf_rt_global_maxpool_f32_opt(positions, channels, in, out);
#else
    mf_rt_global_maxpool_f32_ref(positions, channels, in, out);
#endif
}

void mf_rt_global_maxpool_s16(int positions, int channels, const int16_t *in, int16_t *out)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_global_maxpool_s16_opt(positions, channels, in, out);
#else
    mf_rt_global_maxpool_s16_ref(positions, channels, in, out);
#endif
}

void mf_rt_global_maxpool_s8(int positions, int channels, const int8_t *in, int8_t *out)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_global_maxpool_s8_opt(positions, channels, in, out);
#else
    mf_rt_global_maxpool_s8_ref(positions, channels, in, out);
#endif
}

void mf_rt_global_avgpool_f32(int positions, int channels, const float *in, float *out)
{
#if defined(MF_RT_OPT_F32)
    mf_rt_global_avgpool_f32_opt(positions, channels, in, out);
#else
    mf_rt_global_avgpool_f32_ref(positions, channels, in, out);
#endif
}

void mf_rt_global_avgpool_s16(int positions, int channels, const int16_t *in, int rounding,
                              int16_t *out)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_global_avgpool_s16_opt(positions, channels, in, rounding, out);
#else
    mf_rt_global_avgpool_s16_ref(positions, channels, in, rounding, out);
#endif
}

/* No optimized path: a 4-lane version saves ~1 instruction per value, which a global pool
 * (once per network) does not repay in flash. */
void mf_rt_global_avgpool_s8(int positions, int channels, const int8_t *in, int rounding,
                             int8_t *out)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_global_avgpool_s8_opt(positions, channels, in, rounding, out);
#else
    mf_rt_global_avgpool_s8_ref(positions, channels, in, rounding, out);
#endif
}
