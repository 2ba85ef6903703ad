/* Max and average pools, optimized paths (mf_rt_dsp.h). Bit-identical to pool.c's reference.
 *
 * Windowed pools walk one output position at a time with the channels innermost (contiguous in
 * the channels-last layout) and the window's taps (clipped to the input, as the reference
 * skips outside taps) in (ky, kx) order:
 *   max, int8: 4 channels per 32-bit word, SSUB8 + SEL give the lane-wise maximum (an integer
 *     maximum does not depend on the order of the taps); ReLU is a maximum with 0, no ReLU the
 *     same maximum with the lane minimum (no branch per word). The window's rows are found once
 *     per output row, its columns per output (start advanced by the stride); a 1 × 2 window (the
 *     usual 1D pool, and clipped edges) reads its two taps per word without the tap loops.
 *   max, int16: 2 channels per word with SSUB16 + SEL, the same code.
 *   max, float: per channel the first tap, then every later tap that is strictly greater (NaN
 *     and −0.0 behave as in the reference), 4 channels at a time.
 *   avg, int8: 4 channels per word, SXTB16 (+ ROR #8) and SADD16 sum them in 16-bit lanes, exact
 *     for at most 256 taps (|sum| ≤ 256·128 = 2^15); larger windows sum in int32. Then the
 *     reference's floor division (half-up: floor((sum + ⌊count/2⌋) / count)).
 *   avg, int16: int32 sums, 4 channels at a time. avg, float: per channel 0.0f + taps in (ky, kx)
 *     order, then / (float)count, 4 channels at a time (the reference's order).
 * Global pools: the same per channel group, positions ascending (int8 average: none, see
 * pool.c); the integer maxima take 2 positions per turn.
 * int16 and float: the channels left after the groups (C mod 4, or C mod 2, from c = C rounded
 * down) run one at a time in a loop counted by that remainder, not bounded by c < C. With C known
 * at link time (LTO propagates a layer's geometry) the count is a constant (0 when C is a
 * multiple of the group: the loop is gone), whereas GCC could not bound the old form on paths
 * it could not rule out and warned "iteration N invokes undefined behavior"
 * (-Waggressive-loop-optimizations), which broke -Werror builds of float32 and int16 firmware.
 * The int8 average loops keep c < C (no warning); the integer max pools count their remainder
 * the same way as int16. */
#include "mf_rt_dsp.h"

#if defined(MF_RT_OPT_INT) || defined(MF_RT_OPT_F32)

/* Valid taps of output o along one axis: k0 ≤ k < k1 with 0 ≤ o·s − pad + k < n. */
MF_RT_INLINE void pool_tap_range(int o, int s, int pad, int n, int k, int *k0, int *k1)
{
    int start = o * s - pad;
    int end = n - start;
    *k0 = start < 0 ? -start : 0;
    *k1 = end < k ? end : k;
}

/* The window of output (oy, ox): its first tap's element offset in `in` (channel 0) and the
 * numbers of rows and columns inside; 0 when the window holds no tap. */
typedef struct {
    size_t first;
    int rows, cols;
} pool_window;

MF_RT_INLINE pool_window pool_window_at(const mf_rt_geom *g, int oy, int ox)
{
    pool_window pw = {0, 0, 0};
    int ky0, ky1, kx0, kx1;
    pool_tap_range(oy, g->sh, g->pad_top, g->h, g->kh, &ky0, &ky1);
    pool_tap_range(ox, g->sw, g->pad_left, g->w, g->kw, &kx0, &kx1);
    if (ky0 >= ky1 || kx0 >= kx1) return pw;
    pw.rows = ky1 - ky0;
    pw.cols = kx1 - kx0;
    pw.first = ((size_t)(oy * g->sh - g->pad_top + ky0) * g->w + (ox * g->sw - g->pad_left + kx0)) *
               g->cin;
    return pw;
}

#endif

#if defined(MF_RT_OPT_INT)

/* floor(num / den), den > 0, and the rounded mean: pool.c's avg_s32. */
MF_RT_INLINE int32_t pool_floor_div(int32_t num, int32_t den)
{
    int32_t q = num / den;
    if (num % den != 0 && num < 0) q -= 1;
    return q;
}

MF_RT_INLINE int32_t pool_avg(int32_t sum, int32_t count, int rounding)
{
    if (count <= 0) return 0;
    if (rounding == MF_RT_ROUND_HALF_UP) return pool_floor_div(sum + count / 2, count);
    return pool_floor_div(sum, count);
}

/* ---- max ---- */

MF_RT_INLINE uint32_t pool_max2(uint32_t a, uint32_t b, int w16)
{
    return w16 ? mf_max_s16x2(a, b) : mf_max_s8x4(a, b);
}

/* The maximum of one channel word over a window of rows × cols taps, r at its first tap. */
MF_RT_INLINE uint32_t pool_max_word(const char *r, size_t row, size_t step, int rows, int cols,
                                    int w16)
{
    uint32_t m = mf_ld32(r);
    for (int kx = 1; kx < cols; kx++)
        m = pool_max2(m, mf_ld32(r + (size_t)kx * step), w16);
    for (int ky = 1; ky < rows; ky++) {
        r += row;
        for (int kx = 0; kx < cols; kx++)
            m = pool_max2(m, mf_ld32(r + (size_t)kx * step), w16);
    }
    return m;
}

MF_RT_INLINE int32_t pool_elt(const char *p, int w16)
{
    return w16 ? *(const int16_t *)(const void *)p : *(const int8_t *)p;
}

/* Both widths: the rows of a window are found once per output row, its columns per output;
 * a 1 × 2 window (the usual 1D pool) reads its two taps per word without the tap loops. ReLU
 * is a maximum with 0, without ReLU the same maximum with the lane minimum (no branch). */
MF_RT_INLINE void pool_max_int(const mf_rt_geom *g, const char *in, int relu, char *out, int w16)
{
    const int C = g->cin > 0 ? g->cin : 0, lanes = w16 ? 2 : 4, es = w16 ? 2 : 1;
    const int words = C / lanes, ow = g->ow, sw = g->sw, kw = g->kw, w = g->w;
    const size_t step = (size_t)C * (size_t)es, row = (size_t)w * step;
    const uint32_t z = relu ? 0 : w16 ? 0x80008000u : 0x80808080u;
    char *o = out;
    for (int oy = 0; oy < g->oh; oy++) {
        int ky0, ky1;
        pool_tap_range(oy, g->sh, g->pad_top, g->h, g->kh, &ky0, &ky1);
        const int rows = ky1 - ky0;
        const char *line = in + (size_t)(oy * g->sh - g->pad_top + ky0) * row;
        for (int ox = 0, start = -g->pad_left; ox < ow; ox++, start += sw, o += step) {
            const int kx0 = start < 0 ? -start : 0, kx1 = w - start < kw ? w - start : kw;
            const int cols = kx1 - kx0;
            if (rows <= 0 || cols <= 0) {
                memset(o, 0, step);
                continue;
            }
            const char *r = line + (size_t)(start + kx0) * step;
            char *q = o;
            if (rows == 1 && cols == 2)
                for (int c = 0; c < words; c++, r += 4, q += 4)
                    mf_st32(q, pool_max2(pool_max2(mf_ld32(r), mf_ld32(r + step), w16), z, w16));
            else
                for (int c = 0; c < words; c++, r += 4, q += 4)
                    mf_st32(q, pool_max2(pool_max_word(r, row, step, rows, cols, w16), z, w16));
            for (int t = C - words * lanes; t > 0; t--, r += es, q += es) {
                int32_t m = pool_elt(r, w16);
                for (int ky = 0; ky < rows; ky++)
                    for (int kx = 0; kx < cols; kx++) {
                        int32_t v = pool_elt(r + ky * row + (size_t)kx * step, w16);
                        m = v > m ? v : m;
                    }
                if (relu && m < 0) m = 0;
                if (w16)
                    *(int16_t *)(void *)q = (int16_t)m;
                else
                    *(int8_t *)q = (int8_t)m;
            }
        }
    }
}

void mf_rt_maxpool_s8_opt(const mf_rt_geom *g, const int8_t *in, int relu, int8_t *out)
{
    pool_max_int(g, (const char *)in, relu, (char *)out, 0);
}

void mf_rt_maxpool_s16_opt(const mf_rt_geom *g, const int16_t *in, int relu, int16_t *out)
{
    pool_max_int(g, (const char *)(const void *)in, relu, (char *)(void *)out, 1);
}

/* ---- average ---- */

/* Sums of 4 channels over a window: 16-bit lanes (≤ 256 taps), then int32. */
MF_RT_INLINE void pool_sum4_s8(const int8_t *r, size_t row, int C, int rows, int cols, int32_t *s)
{
    uint32_t e = 0, d = 0;
    for (int ky = 0; ky < rows; ky++, r += row)
        for (int kx = 0; kx < cols; kx++) {
            uint32_t v = mf_ld32(r + (size_t)kx * C);
            e = mf_sxtab16(e, v);
            d = mf_sxtab16_ror8(d, v);
        }
    s[0] = mf_lane16(e, 0), s[1] = mf_lane16(d, 0), s[2] = mf_lane16(e, 1), s[3] = mf_lane16(d, 1);
}

void mf_rt_avgpool_s8_opt(const mf_rt_geom *g, const int8_t *in, int relu, int rounding,
                          int8_t *out)
{
    const int C = g->cin;
    const size_t row = (size_t)g->w * C;
    int8_t *o = out;
    for (int oy = 0; oy < g->oh; oy++)
        for (int ox = 0; ox < g->ow; ox++, o += C) {
            const pool_window pw = pool_window_at(g, oy, ox);
            const int32_t count = pw.rows * pw.cols;
            const int8_t *base = in + pw.first;
            int c = 0;
            if (count <= 256)
                for (; c + 4 <= C; c += 4) {
                    int32_t s[4];
                    pool_sum4_s8(base + c, row, C, pw.rows, pw.cols, s);
                    for (int i = 0; i < 4; i++) {
                        int32_t v = pool_avg(s[i], count, rounding);
                        o[c + i] = (int8_t)(relu && v < 0 ? 0 : v);
                    }
                }
            for (; c < C; c++) {
                int32_t sum = 0;
                for (int ky = 0; ky < pw.rows; ky++)
                    for (int kx = 0; kx < pw.cols; kx++)
                        sum += base[ky * row + (size_t)kx * C + c];
                int32_t v = pool_avg(sum, count, rounding);
                o[c] = (int8_t)(relu && v < 0 ? 0 : v);
            }
        }
}

void mf_rt_avgpool_s16_opt(const mf_rt_geom *g, const int16_t *in, int relu, int rounding,
                           int16_t *out)
{
    const int C = g->cin;
    const size_t row = (size_t)g->w * C;
    int16_t *o = out;
    for (int oy = 0; oy < g->oh; oy++)
        for (int ox = 0; ox < g->ow; ox++, o += C) {
            const pool_window pw = pool_window_at(g, oy, ox);
            const int32_t count = pw.rows * pw.cols;
            const int16_t *base = in + pw.first;
            int c = 0;
            for (; c + 4 <= C; c += 4) {
                int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                const int16_t *r = base + c;
                for (int ky = 0; ky < pw.rows; ky++, r += row) {
                    const int16_t *t = r;
                    for (int kx = 0; kx < pw.cols; kx++, t += C)
                        s0 += t[0], s1 += t[1], s2 += t[2], s3 += t[3];
                }
                int32_t v0 = pool_avg(s0, count, rounding), v1 = pool_avg(s1, count, rounding);
                int32_t v2 = pool_avg(s2, count, rounding), v3 = pool_avg(s3, count, rounding);
                if (relu) {
                    v0 = v0 < 0 ? 0 : v0, v1 = v1 < 0 ? 0 : v1;
                    v2 = v2 < 0 ? 0 : v2, v3 = v3 < 0 ? 0 : v3;
                }
                o[c] = (int16_t)v0, o[c + 1] = (int16_t)v1, o[c + 2] = (int16_t)v2;
                o[c + 3] = (int16_t)v3;
            }
            for (int t = C > 0 ? C & 3 : 0; t > 0; t--, c++) {
                int32_t sum = 0;
                for (int ky = 0; ky < pw.rows; ky++)
                    for (int kx = 0; kx < pw.cols; kx++)
                        sum += base[ky * row + (size_t)kx * C + c];
                int32_t v = pool_avg(sum, count, rounding);
                o[c] = (int16_t)(relu && v < 0 ? 0 : v);
            }
        }
}

/* ---- global ---- */

/* Global maxima: per channel word 2 positions per turn (fewer loop instructions). */
MF_RT_INLINE uint32_t pool_gmax_word(const char *p, int positions, size_t step, int w16)
{
    uint32_t m = mf_ld32(p);
    int i = 1;
    for (; i + 2 <= positions; i += 2, p += 2 * step)
        m = pool_max2(pool_max2(m, mf_ld32(p + step), w16), mf_ld32(p + 2 * step), w16);
    if (i < positions) m = pool_max2(m, mf_ld32(p + step), w16);
    return m;
}

void mf_rt_global_maxpool_s8_opt(int positions, int channels, const int8_t *in, int8_t *out)
{
    const size_t C = (size_t)(channels > 0 ? channels : 0);
    if (positions <= 0) {
        memset(out, 0, C);
        return;
    }
    size_t c = 0;
    for (; c + 4 <= C; c += 4)
        mf_st32(out + c, pool_gmax_word((const char *)(in + c), positions, C, 0));
    for (; c < C; c++) {
        int32_t m = in[c];
        for (int i = 1; i < positions; i++) {
            int32_t v = in[(size_t)i * C + c];
            m = v > m ? v : m;
        }
        out[c] = (int8_t)m;
    }
}

void mf_rt_global_maxpool_s16_opt(int positions, int channels, const int16_t *in, int16_t *out)
{
    const size_t C = (size_t)(channels > 0 ? channels : 0);
    if (positions <= 0) {
        memset(out, 0, C * sizeof *out);
        return;
    }
    size_t c = 0;
    for (; c + 2 <= C; c += 2)
        mf_st32(out + c, pool_gmax_word((const char *)(const void *)(in + c), positions, 2 * C, 1));
    for (size_t t = C & 1; t > 0; t--, c++) {
        int32_t m = in[c];
        for (int i = 1; i < positions; i++) {
            int32_t v = in[(size_t)i * C + c];
            m = v > m ? v : m;
        }
        out[c] = (int16_t)m;
    }
}

/* 4 channels at a time: per position one LDR and 2 SXTAB16 into 16-bit lane sums, folded into
 * int32 every 255 positions (255·128 < 2^15: no lane wraps). */
void mf_rt_global_avgpool_s8_opt(int positions, int channels, const int8_t *in, int rounding,
                                 int8_t *out)
{
    const size_t C = (size_t)(channels > 0 ? channels : 0);
    size_t c = 0;
    for (; c + 4 <= C; c += 4) {
        int32_t s[4] = {0, 0, 0, 0};
        const int8_t *p = in + c;
        for (int i = 0; i < positions;) {
            const int n = positions - i < 255 ? positions - i : 255;
            uint32_t e = 0, d = 0;
            for (int k = 0; k < n; k++, p += C) {
                const uint32_t v = mf_ld32(p);
                e = mf_sxtab16(e, v), d = mf_sxtab16_ror8(d, v);
            }
            s[0] += mf_lane16(e, 0), s[1] += mf_lane16(d, 0);
            s[2] += mf_lane16(e, 1), s[3] += mf_lane16(d, 1);
            i += n;
        }
        for (int k = 0; k < 4; k++)
            out[c + k] = (int8_t)pool_avg(s[k], positions, rounding);
    }
    for (; c < C; c++) {
        int32_t sum = 0;
        for (int i = 0; i < positions; i++)
            sum += in[(size_t)i * C + c];
        out[c] = (int8_t)pool_avg(sum, positions, rounding);
    }
}

void mf_rt_global_avgpool_s16_opt(int positions, int channels, const int16_t *in, int rounding,
                                  int16_t *out)
{
    const size_t C = (size_t)(channels > 0 ? channels : 0);
    size_t c = 0;
    for (; c + 4 <= C; c += 4) {
        int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        const int16_t *p = in + c;
        for (int i = 0; i < positions; i++, p += C)
            s0 += p[0], s1 += p[1], s2 += p[2], s3 += p[3];
        out[c] = (int16_t)pool_avg(s0, positions, rounding);
        out[c + 1] = (int16_t)pool_avg(s1, positions, rounding);
        out[c + 2] = (int16_t)pool_avg(s2, positions, rounding);
        out[c + 3] = (int16_t)pool_avg(s3, positions, rounding);
    }
    for (size_t t = C & 3; t > 0; t--, c++) {
        int32_t sum = 0;
        for (int i = 0; i < positions; i++)
            sum += in[(size_t)i * C + c];
        out[c] = (int16_t)pool_avg(sum, positions, rounding);
    }
}

#endif /* MF_RT_OPT_INT */

#if defined(MF_RT_OPT_F32)

void mf_rt_maxpool_f32_opt(const mf_rt_geom *g, const float *in, int relu, float *out)
{
    const int C = g->cin;
    const size_t row = (size_t)g->w * C;
    float *o = out;
    for (int oy = 0; oy < g->oh; oy++)
        for (int ox = 0; ox < g->ow; ox++, o += C) {
            const pool_window pw = pool_window_at(g, oy, ox);
            if (pw.rows == 0) {
                for (int c = 0; c < C; c++)
                    o[c] = 0.0f;
                continue;
            }
            const float *base = in + pw.first;
            int c = 0;
            for (; c + 4 <= C; c += 4) {
                const float *r = base + c;
                float m0 = r[0], m1 = r[1], m2 = r[2], m3 = r[3];
                for (int ky = 0; ky < pw.rows; ky++, r += row) {
                    const float *t = r + (ky == 0 ? C : 0);
                    for (int kx = ky == 0 ? 1 : 0; kx < pw.cols; kx++, t += C) {
                        if (t[0] > m0) m0 = t[0];
                        if (t[1] > m1) m1 = t[1];
                        if (t[2] > m2) m2 = t[2];
                        if (t[3] > m3) m3 = t[3];
                    }
                }
                if (relu) {
                    if (m0 < 0.0f) m0 = 0.0f;
                    if (m1 < 0.0f) m1 = 0.0f;
                    if (m2 < 0.0f) m2 = 0.0f;
                    if (m3 < 0.0f) m3 = 0.0f;
                }
                o[c] = m0, o[c + 1] = m1, o[c + 2] = m2, o[c + 3] = m3;
            }
            for (int t = C > 0 ? C & 3 : 0; t > 0; t--, c++) {
                const float *r = base + c;
                float m = r[0];
                for (int ky = 0; ky < pw.rows; ky++, r += row)
                    for (int kx = ky == 0 ? 1 : 0; kx < pw.cols; kx++)
                        if (r[(size_t)kx * C] > m) m = r[(size_t)kx * C];
                if (relu && m < 0.0f) m = 0.0f;
                o[c] = m;
            }
        }
}

void mf_rt_avgpool_f32_opt(const mf_rt_geom *g, const float *in, int relu, float *out)
{
    const int C = g->cin;
    const size_t row = (size_t)g->w * C;
    float *o = out;
    for (int oy = 0; oy < g->oh; oy++)
        for (int ox = 0; ox < g->ow; ox++, o += C) {
            const pool_window pw = pool_window_at(g, oy, ox);
            const int count = pw.rows * pw.cols;
            const float *base = in + pw.first;
            int c = 0;
            for (; c + 4 <= C; c += 4) {
                float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
                const float *r = base + c;
                for (int ky = 0; ky < pw.rows; ky++, r += row) {
                    const float *t = r;
                    for (int kx = 0; kx < pw.cols; kx++, t += C)
                        s0 += t[0], s1 += t[1], s2 += t[2], s3 += t[3];
                }
                float v[4] = {s0, s1, s2, s3};
                for (int i = 0; i < 4; i++) {
                    float a = count > 0 ? v[i] / (float)count : 0.0f;
                    o[c + i] = relu && a < 0.0f ? 0.0f : a;
                }
            }
            for (int t = C > 0 ? C & 3 : 0; t > 0; t--, c++) {
                float s = 0.0f;
                for (int ky = 0; ky < pw.rows; ky++)
                    for (int kx = 0; kx < pw.cols; kx++)
                        s += base[ky * row + (size_t)kx * C + c];
                float a = count > 0 ? s / (float)count : 0.0f;
                o[c] = relu && a < 0.0f ? 0.0f : a;
            }
        }
}

void mf_rt_global_maxpool_f32_opt(int positions, int channels, const float *in, float *out)
{
    const size_t C = (size_t)(channels > 0 ? channels : 0);
    if (positions <= 0) {
        for (size_t c = 0; c < C; c++)
            out[c] = 0.0f;
        return;
    }
    size_t c = 0;
    for (; c + 4 <= C; c += 4) {
        const float *p = in + c;
        float m0 = p[0], m1 = p[1], m2 = p[2], m3 = p[3];
        for (int i = 1; i < positions; i++) {
            p += C;
            if (p[0] > m0) m0 = p[0];
            if (p[1] > m1) m1 = p[1];
            if (p[2] > m2) m2 = p[2];
            if (p[3] > m3) m3 = p[3];
        }
        out[c] = m0, out[c + 1] = m1, out[c + 2] = m2, out[c + 3] = m3;
    }
    for (size_t t = C & 3; t > 0; t--, c++) {
        float m = in[c];
        for (int i = 1; i < positions; i++)
            if (in[(size_t)i * C + c] > m) m = in[(size_t)i * C + c];
        out[c] = m;
    }
}

void mf_rt_global_avgpool_f32_opt(int positions, int channels, const float *in, float *out)
{
    const size_t C = (size_t)(channels > 0 ? channels : 0);
    size_t c = 0;
    for (; c + 4 <= C; c += 4) {
        const float *p = in + c;
        float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
        for (int i = 0; i < positions; i++, p += C)
            s0 += p[0], s1 += p[1], s2 += p[2], s3 += p[3];
        float v[4] = {s0, s1, s2, s3};
        for (int k = 0; k < 4; k++)
            out[c + k] = positions > 0 ? v[k] / (float)positions : 0.0f;
    }
    for (size_t t = C & 3; t > 0; t--, c++) {
        float s = 0.0f;
        for (int i = 0; i < positions; i++)
            s += in[(size_t)i * C + c];
        out[c] = positions > 0 ? s / (float)positions : 0.0f;
    }
}

#endif /* MF_RT_OPT_F32 */
