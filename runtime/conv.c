/* Convolution (conv1d as conv2d with h = 1), portable C reference path.
 *
 * For every output position (oy, ox) and output channel co, with
 *   iy = oy·sh − pad_top + ky,  ix = ox·sw − pad_left + kx:
 *   acc = bias[co] (0 when bias is NULL)
 *         + Σ_{ky < kh} Σ_{kx < kw} Σ_{ci < cin} in[iy][ix][ci] · w[co][ky][kx][ci]
 * where taps with (iy, ix) outside [0, h) × [0, w) are skipped (zero padding before the first
 * row/column and after the last, as much as the geometry implies).
 *   int8:  products and sum in int32; int16: products and sum in int64. The caller (quantizer)
 *          guarantees the sum does not overflow (int8: kh·kw·cin·2^14 + |bias| < 2^31).
 *   float: acc starts at bias (or 0.0f) and adds in[..]·w[..] in the order ky, kx, ci ascending,
 *          one rounding per multiply and per add (built with -ffp-contract=off).
 * Output [oh][ow][cout] = requant(acc) with the shift of the tensor or of channel co
 * (mf_rt_requant_s32/_s64); float: relu → acc < 0 ? 0 : acc. `out` must not alias `in`, with
 * one exception the int8 1D kernels rely on (mf_rt_conv1d_s8_lag, which these references back
 * on the host): the int8 conv and conv + max pool compute output after output (position, or pool
 * window, then channel), each after the reads of its own window and before any read of a later
 * one, so `out` may start where that lag allows; keep that order. */
#include "mf_runtime.h"
#include "mf_rt_dsp.h"

void mf_rt_conv_f32_ref(const mf_rt_geom *g, const float *in, const float *w, const float *bias,
                        int relu, float *out)
{
    for (int oy = 0; oy < g->oh; oy++)
        for (int ox = 0; ox < g->ow; ox++)
            for (int co = 0; co < g->cout; co++) {
                float acc = bias ? bias[co] : 0.0f;
                for (int ky = 0; ky < g->kh; ky++) {
                    int iy = oy * g->sh - g->pad_top + ky;
                    if (iy < 0 || iy >= g->h) continue;
                    for (int kx = 0; kx < g->kw; kx++) {
                        int ix = ox * g->sw - g->pad_left + kx;
                        if (ix < 0 || ix >= g->w) continue;
                        const float *x = in + ((size_t)iy * g->w + ix) * g->cin;
                        const float *k = w + (((size_t)co * g->kh + ky) * g->kw + kx) * g->cin;
                        for (int ci = 0; ci < g->cin; ci++)
                            acc += x[ci] * k[ci];
                    }
                }
                if (relu && acc < 0.0f) acc = 0.0f;
                out[((size_t)oy * g->ow + ox) * g->cout + co] = acc;
            }
}

void mf_rt_conv_s16_ref(const mf_rt_geom *g, const int16_t *in, const int16_t *w,
                        const int64_t *bias, const mf_rt_requant *rq, int16_t *out, void *scratch)
{
    (void)scratch; /* the reference needs no working memory */
    for (int oy = 0; oy < g->oh; oy++)
        for (int ox = 0; ox < g->ow; ox++)
            for (int co = 0; co < g->cout; co++) {
                int64_t acc = bias ? bias[co] : 0;
                for (int ky = 0; ky < g->kh; ky++) {
                    int iy = oy * g->sh - g->pad_top + ky;
                    if (iy < 0 || iy >= g->h) continue;
                    for (int kx = 0; kx < g->kw; kx++) {
                        int ix = ox * g->sw - g->pad_left + kx;
                        if (ix < 0 || ix >= g->w) continue;
                        const int16_t *x = in + ((size_t)iy * g->w + ix) * g->cin;
                        const int16_t *k = w + (((size_t)co * g->kh + ky) * g->kw + kx) * g->cin;
                        for (int ci = 0; ci < g->cin; ci++)
                            acc += (int64_t)x[ci] * k[ci];
                    }
                }
                int shift = rq->shifts ? rq->shifts[co] : rq->shift;
                out[((size_t)oy * g->ow + ox) * g->cout + co] =
                    mf_rt_requant_s64(acc, shift, rq->relu, rq->rounding);
            }
}

void mf_rt_conv_s8_ref(const mf_rt_geom *g, const int8_t *in, const int8_t *w, const int32_t *bias,
                       const mf_rt_requant *rq, int8_t *out, void *scratch)
{
    (void)scratch; /* the reference needs no working memory */
    for (int oy = 0; oy < g->oh; oy++)
        for (int ox = 0; ox < g->ow; ox++)
            for (int co = 0; co < g->cout; co++) {
                int32_t acc = bias ? bias[co] : 0;
                for (int ky = 0; ky < g->kh; ky++) {
                    int iy = oy * g->sh - g->pad_top + ky;
                    if (iy < 0 || iy >= g->h) continue;
                    for (int kx = 0; kx < g->kw; kx++) {
                        int ix = ox * g->sw - g->pad_left + kx;
                        if (ix < 0 || ix >= g->w) continue;
                        const int8_t *x = in + ((size_t)iy * g->w + ix) * g->cin;
                        const int8_t *k = w + (((size_t)co * g->kh + ky) * g->kw + kx) * g->cin;
                        for (int ci = 0; ci < g->cin; ci++)
                            acc += (int32_t)x[ci] * k[ci];
                    }
                }
                int shift = rq->shifts ? rq->shifts[co] : rq->shift;
                out[((size_t)oy * g->ow + ox) * g->cout + co] =
                    mf_rt_requant_s32(acc, shift, rq->relu, rq->rounding);
            }
}

/* ---- fused conv + max pool, reference: each conv output of a pool window computed as above
 * (one output at a time), then the window's maximum as mf_rt_maxpool_* takes it ---- */

static float conv_f32_at(const mf_rt_geom *g, const float *in, const float *w, const float *bias,
                         int relu, int oy, int ox, int co)
{
    float acc = bias ? bias[co] : 0.0f;
    for (int ky = 0; ky < g->kh; ky++) {
        int iy = oy * g->sh - g->pad_top + ky;
        if (iy < 0 || iy >= g->h) continue;
        for (int kx = 0; kx < g->kw; kx++) {
            int ix = ox * g->sw - g->pad_left + kx;
            if (ix < 0 || ix >= g->w) continue;
            const float *x = in + ((size_t)iy * g->w + ix) * g->cin;
            const float *k = w + (((size_t)co * g->kh + ky) * g->kw + kx) * g->cin;
            for (int ci = 0; ci < g->cin; ci++)
                acc += x[ci] * k[ci];
        }
    }
    if (relu && acc < 0.0f) acc = 0.0f;
    return acc;
}

static int16_t conv_s16_at(const mf_rt_geom *g, const int16_t *in, const int16_t *w,
                           const int64_t *bias, const mf_rt_requant *rq, int oy, int ox, int co)
{
    int64_t acc = bias ? bias[co] : 0;
    for (int ky = 0; ky < g->kh; ky++) {
        int iy = oy * g->sh - g->pad_top + ky;
        if (iy < 0 || iy >= g->h) continue;
        for (int kx = 0; kx < g->kw; kx++) {
            int ix = ox * g->sw - g->pad_left + kx;
            if (ix < 0 || ix >= g->w) continue;
            const int16_t *x = in + ((size_t)iy * g->w + ix) * g->cin;
            const int16_t *k = w + (((size_t)co * g->kh + ky) * g->kw + kx) * g->cin;
            for (int ci = 0; ci < g->cin; ci++)
                acc += (int64_t)x[ci] * k[ci];
        }
    }
    int shift = rq->shifts ? rq->shifts[co] : rq->shift;
    return mf_rt_requant_s64(acc, shift, rq->relu, rq->rounding);
}

static int8_t conv_s8_at(const mf_rt_geom *g, const int8_t *in, const int8_t *w,
                         const int32_t *bias, const mf_rt_requant *rq, int oy, int ox, int co)
{
    int32_t acc = bias ? bias[co] : 0;
    for (int ky = 0; ky < g->kh; ky++) {
        int iy = oy * g->sh - g->pad_top + ky;
        if (iy < 0 || iy >= g->h) continue;
        for (int kx = 0; kx < g->kw; kx++) {
            int ix = ox * g->sw - g->pad_left + kx;
            if (ix < 0 || ix >= g->w) continue;
            const int8_t *x = in + ((size_t)iy * g->w + ix) * g->cin;
            const int8_t *k = w + (((size_t)co * g->kh + ky) * g->kw + kx) * g->cin;
            for (int ci = 0; ci < g->cin; ci++)
                acc += (int32_t)x[ci] * k[ci];
        }
    }
    int shift = rq->shifts ? rq->shifts[co] : rq->shift;
    return mf_rt_requant_s32(acc, shift, rq->relu, rq->rounding);
}

void mf_rt_conv_maxpool_f32_ref(const mf_rt_geom *g, int pool_kh, int pool_kw, int pool_sh,
                                int pool_sw, const float *in, const float *w, const float *bias,
                                int relu, float *out)
{
    if (pool_kh < 1 || pool_kw < 1 || pool_sh < 1 || pool_sw < 1 || pool_kh > g->oh ||
        pool_kw > g->ow)
        return; /* outside the documented preconditions: no output */
    int poh = (g->oh - pool_kh) / pool_sh + 1, pow = (g->ow - pool_kw) / pool_sw + 1;
    for (int py = 0; py < poh; py++)
        for (int px = 0; px < pow; px++)
            for (int co = 0; co < g->cout; co++) {
                float m = 0.0f;
                for (int wy = 0; wy < pool_kh; wy++)
                    for (int wx = 0; wx < pool_kw; wx++) {
                        float v = conv_f32_at(g, in, w, bias, relu, py * pool_sh + wy,
                                              px * pool_sw + wx, co);
                        if ((wy == 0 && wx == 0) || v > m) m = v;
                    }
                out[((size_t)py * pow + px) * g->cout + co] = m;
            }
}

void mf_rt_conv_maxpool_s16_ref(const mf_rt_geom *g, int pool_kh, int pool_kw, int pool_sh,
                                int pool_sw, const int16_t *in, const int16_t *w,
                                const int64_t *bias, const mf_rt_requant *rq, int16_t *out,
                                void *scratch)
{
    (void)scratch; /* the reference needs no working memory */
    if (pool_kh < 1 || pool_kw < 1 || pool_sh < 1 || pool_sw < 1 || pool_kh > g->oh ||
        pool_kw > g->ow)
        return; /* outside the documented preconditions: no output */
    int poh = (g->oh - pool_kh) / pool_sh + 1, pow = (g->ow - pool_kw) / pool_sw + 1;
    for (int py = 0; py < poh; py++)
        for (int px = 0; px < pow; px++)
            for (int co = 0; co < g->cout; co++) {
                int16_t m = 0;
                for (int wy = 0; wy < pool_kh; wy++)
                    for (int wx = 0; wx < pool_kw; wx++) {
                        int16_t v = conv_s16_at(g, in, w, bias, rq, py * pool_sh + wy,
                                                px * pool_sw + wx, co);
                        if ((wy == 0 && wx == 0) || v > m) m = v;
                    }
                out[((size_t)py * pow + px) * g->cout + co] = m;
            }
}

void mf_rt_conv_maxpool_s8_ref(const mf_rt_geom *g, int pool_kh, int pool_kw, int pool_sh,
                               int pool_sw, const int8_t *in, const int8_t *w, const int32_t *bias,
                               const mf_rt_requant *rq, int8_t *out, void *scratch)
{
    (void)scratch; /* the reference needs no working memory */
    if (pool_kh < 1 || pool_kw < 1 || pool_sh < 1 || pool_sw < 1 || pool_kh > g->oh ||
        pool_kw > g->ow)
        return; /* outside the documented preconditions: no output */
    int poh = (g->oh - pool_kh) / pool_sh + 1, pow = (g->ow - pool_kw) / pool_sw + 1;
    for (int py = 0; py < poh; py++)
        for (int px = 0; px < pow; px++)
            for (int co = 0; co < g->cout; co++) {
                int8_t m = 0;
                for (int wy = 0; wy < pool_kh; wy++)
                    for (int wx = 0; wx < pool_kw; wx++) {
                        int8_t v = conv_s8_at(g, in, w, bias, rq, py * pool_sh + wy,
                                              px * pool_sw + wx, co);
                        if ((wy == 0 && wx == 0) || v > m) m = v;
                    }
                out[((size_t)py * pow + px) * g->cout + co] = m;
            }
}

/* ---- dispatch: the optimized path where the core has one (mf_rt_dsp.h), else the reference ----
 */

void mf_rt_conv_f32(const mf_rt_geom *g, const float *in, const float *w, const float *bias,
                    int relu, float *out)
{
#if defined(MF_RT_OPT_F32)
    mf_rt_conv_f32_opt(g, in, w, bias, relu, out);
#else
    mf_rt_conv_f32_ref(g, in, w, bias, relu, out);
#endif
}

void mf_rt_conv_s16(const mf_rt_geom *g, const int16_t *in, const int16_t *w, const int64_t *bias,
                    const mf_rt_requant *rq, int16_t *out, void *scratch)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_conv_s16_opt(g, in, w, bias, rq, out, scratch);
#else
    mf_rt_conv_s16_ref(g, in, w, bias, rq, out, scratch);
#endif
}

void mf_rt_conv_s8(const mf_rt_geom *g, const int8_t *in, const int8_t *w, const int32_t *bias,
                   const mf_rt_requant *rq, int8_t *out, void *scratch)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_conv_s8_opt(g, in, w, bias, rq, out, scratch);
#else
    mf_rt_conv_s8_ref(g, in, w, bias, rq, out, scratch);
#endif
}

/* The 1D variants: on the host the reference, on the geometries they cover (mf_runtime.h). */
int mf_rt_conv1d_s8_covers(const mf_rt_geom *g, int pool_kh, int pool_kw, int pool_sh, int pool_sw)
{
    const int one_d = g->h == 1 && g->kh == 1 && g->oh == 1 && g->sh == 1 && g->pad_top == 0;
    /* windows of 1 tap (a plain conv) or 1×2 of stride 2 */
    return one_d && pool_kh == 1 && pool_sh == 1 && pool_kw == pool_sw &&
           (pool_kw == 1 || pool_kw == 2);
}

long mf_rt_conv1d_s8_lag(const mf_rt_geom *g, int pool_kw)
{
    const int windows = pool_kw >= 1 ? g->ow / pool_kw : 0;
    long lag = 0;
    for (int o = 0; o < windows; o++) {
        const long ix = (long)o * pool_kw * g->sw - g->pad_left;
        const long gap = (ix > 0 ? ix : 0) * g->cin - (long)(o + 1) * g->cout;
        if (o == 0 || gap < lag) lag = gap;
    }
    return lag;
}

long mf_rt_conv_field_s8_lag(const mf_rt_geom *g, int pool)
{
    return mf_rt_conv1d_s8_lag(g, pool ? 2 : 1); /* why: mf_runtime.h */
}

void mf_rt_conv1d_s8(const mf_rt_geom *g, const int8_t *in, const int8_t *w, const int32_t *bias,
                     const mf_rt_requant *rq, int8_t *out, void *scratch)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_conv1d_s8_opt(g, in, w, bias, rq, out, scratch);
#else
    if (mf_rt_conv1d_s8_covers(g, 1, 1, 1, 1)) mf_rt_conv_s8_ref(g, in, w, bias, rq, out, scratch);
#endif
}

void mf_rt_conv1d_maxpool_s8(const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh,
                             int pool_sw, const int8_t *in, const int8_t *w, const int32_t *bias,
                             const mf_rt_requant *rq, int8_t *out, void *scratch)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_conv1d_maxpool_s8_opt(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, rq, out,
                                scratch);
#else
    if (mf_rt_conv1d_s8_covers(conv, pool_kh, pool_kw, pool_sh, pool_sw))
        mf_rt_conv_maxpool_s8_ref(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, rq, out,
                                  scratch);
#endif
}

/* The small-geometry kernels (conv_s8_small.c): on the host the reference. */
void mf_rt_conv_small_s8(const mf_rt_geom *g, const int8_t *in, const int8_t *w,
                         const int32_t *bias, const mf_rt_requant *rq, int8_t *out, void *scratch)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_conv_small_s8_opt(g, in, w, bias, rq, out, scratch);
#else
    mf_rt_conv_s8_ref(g, in, w, bias, rq, out, scratch);
#endif
}

void mf_rt_conv_small_maxpool_s8(const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh,
                                 int pool_sw, const int8_t *in, const int8_t *w,
                                 const int32_t *bias, const mf_rt_requant *rq, int8_t *out,
                                 void *scratch)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_conv_small_maxpool_s8_opt(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, rq, out,
                                    scratch);
#else
    mf_rt_conv_maxpool_s8_ref(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, rq, out,
                              scratch);
#endif
}

/* The wide-row variant of the engine (conv_s8_opt.c): on the host the reference. */
void mf_rt_conv_wide_s8(const mf_rt_geom *g, const int8_t *in, const int8_t *w, const int32_t *bias,
                        const mf_rt_requant *rq, int8_t *out, void *scratch)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_conv_wide_s8_opt(g, in, w, bias, rq, out, scratch);
#else
    mf_rt_conv_s8_ref(g, in, w, bias, rq, out, scratch);
#endif
}

void mf_rt_conv_wide_maxpool_s8(const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh,
                                int pool_sw, const int8_t *in, const int8_t *w, const int32_t *bias,
                                const mf_rt_requant *rq, int8_t *out, void *scratch)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_conv_wide_maxpool_s8_opt(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, rq, out,
                                   scratch);
#else
    mf_rt_conv_maxpool_s8_ref(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, rq, out,
                              scratch);
#endif
}

void mf_rt_conv_maxpool_f32(const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh,
                            int pool_sw, const float *in, const float *w, const float *bias,
                            int relu, float *out)
{
#if defined(MF_RT_OPT_F32)
    mf_rt_conv_maxpool_f32_opt(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, relu, out);
#else
    mf_rt_conv_maxpool_f32_ref(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, relu, out);
#endif
}

void mf_rt_conv_maxpool_s16(const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh,
                            int pool_sw, const int16_t *in, const int16_t *w, const int64_t *bias,
                            const mf_rt_requant *rq, int16_t *out, void *scratch)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_conv_maxpool_s16_opt(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, rq, out,
                               scratch);
#else
    mf_rt_conv_maxpool_s16_ref(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, rq, out,
                               scratch);
#endif
}

void mf_rt_conv_maxpool_s8(const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh,
                           int pool_sw, const int8_t *in, const int8_t *w, const int32_t *bias,
                           const mf_rt_requant *rq, int8_t *out, void *scratch)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_conv_maxpool_s8_opt(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, rq, out,
                              scratch);
#else
    mf_rt_conv_maxpool_s8_ref(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, rq, out,
                              scratch);
#endif
}

MF_RT_OUTLINE int mf_rt_conv_s8_slots(const mf_rt_geom *g)
{
    if (g->h != 1 || g->kh != 1 || g->oh != 1 || g->pad_top != 0) return 4;
    const long K = (long)g->kw * g->cin, end = (long)g->w * g->cin - ((K + 3) & ~3L);
    long lim = g->w - g->kw; /* the last ix whose field is read in place */
    if (end < 0)
        lim = -1;
    else if (end / g->cin < lim)
        lim = end / g->cin;
    const long left = (g->pad_left + g->sw - 1) / g->sw; /* ox with ix < 0 */
    const long first = lim + g->pad_left < 0 ? 0 : (lim + g->pad_left) / g->sw + 1; /* ix > lim */
    const long n = (left < g->ow ? left : g->ow) + (first < g->ow ? g->ow - first : 0);
    return n < 4 ? (int)n : 4;
}

size_t mf_rt_conv_s8_scratch_bytes(const mf_rt_geom *g)
{
    const size_t K = (size_t)g->kh * g->kw * g->cin, cout = (size_t)g->cout;
    /* lanes (8 words per 4 values), 4 accumulators + its start twice per channel, the copied or
     * gathered fields (mf_rt_conv_s8_slots) + 4 zeros, rounded to words;
     * tabbed 2D: an offset per 4 values and 5 words per group straddling two rows (≤ kh − 1) */
    const size_t groups = (K + 3) / 4, kh = (size_t)g->kh;
    const size_t fields = ((size_t)mf_rt_conv_s8_slots(g) * K + 4 + 3) & ~(size_t)3;
    size_t bytes = 32 * groups + 24 * cout + fields;
    if (mf_rt_conv_s8_tabbed(g)) bytes += 4 * groups + 20 * (groups < kh ? groups : kh);
    if (K < 4) bytes += 4 * cout; /* the weights zero-padded to a word per channel */
    return (bytes + 7) & ~(size_t)7;
}

size_t mf_rt_conv_s16_scratch_bytes(const mf_rt_geom *g)
{
    const size_t K = (size_t)g->kh * g->kw * g->cin, cout = (size_t)g->cout;
    /* a start (int64), 4 outputs to fold and a shift per channel; lanes (4 words per 2 values) */
    const size_t bytes = 17 * cout + 16 * ((K + 1) / 2);
    return (bytes + 7) & ~(size_t)7;
}

int mf_rt_conv_small_s8_chosen(const mf_rt_geom *g, int pool_kh, int pool_kw, int pool_sh,
                               int pool_sw)
{
    /* Measured with bench/kernel_sweep (Cortex-M4, default flags; -DSWEEP_SMALL_ALL runs these
     * kernels everywhere): with one output channel the plain loops win everywhere but on long
     * fields the quad engine reads in place (kernel one row high, K ≥ 64: within a few % either
     * way); with 2-3 channels on 1D layers of at most 5 values per field and on layers of one
     * value per field. The pool window does not change the choice. */
    (void)pool_kh, (void)pool_kw, (void)pool_sh, (void)pool_sw;
    const long K = (long)g->kh * g->kw * g->cin;
    if (g->cout == 1) return g->kh > 1 || K < 64;
    if (g->cout > 3) return 0;
    return (g->h == 1 && g->kh == 1 && K <= 5) || K == 1;
}

int mf_rt_conv_field_s8_p(const mf_rt_geom *g, int pool_kh, int pool_kw, int pool_sh, int pool_sw)
{
    const long K = (long)g->kh * g->kw * g->cin;
    const int pool = pool_kh == 1 && pool_kw == 2 && pool_sh == 1 && pool_sw == 2;
    if (g->h != 1 || g->kh != 1 || g->oh != 1 || g->pad_top != 0 || K < 1 || K > 16 ||
        g->cout < 1 || !(pool || (pool_kh == 1 && pool_kw == 1 && pool_sh == 1 && pool_sw == 1)))
        return 0;
    return (int)(2 * (K / 4) + (K % 4 == 0 ? 0 : K % 4 == 1 ? 1 : 2));
}

int mf_rt_conv_field_s8_chosen(const mf_rt_geom *g, int pool_kh, int pool_kw, int pool_sh,
                               int pool_sw)
{
    /* Measured with bench/kernel_sweep against the quad engine's 1D kernels (the 2·P lane words
     * of two positions fill the registers from P = 6 on): plain convs take fewer instructions on
     * K ≤ 9 with 4-64 channels and on K = 15-16 with 8, more on K = 15-16 with 16 or 64 channels;
     * with the 1×2 pool likewise. */
    const long K = (long)g->kh * g->kw * g->cin;
    return mf_rt_conv_field_s8_p(g, pool_kh, pool_kw, pool_sh, pool_sw) && g->cout >= 3 &&
           (K <= 9 || g->cout <= 8);
}

int mf_rt_conv_wide_s8_chosen(const mf_rt_geom *g, int pool_kh, int pool_kw, int pool_sh,
                              int pool_sw)
{
    /* Measured with bench/kernel_sweep against the quad engine's gather_s8: fewer instructions on
     * 2D layers whose kernel rows hold 64 values or more and whose windows hang over the input's
     * edges (the only fields gathered), more on short rows. */
    const int edges = g->pad_top > 0 || g->pad_left > 0 ||
                      (long)(g->oh - 1) * g->sh - g->pad_top + g->kh > g->h ||
                      (long)(g->ow - 1) * g->sw - g->pad_left + g->kw > g->w;
    return !mf_rt_conv1d_s8_covers(g, pool_kh, pool_kw, pool_sh, pool_sw) &&
           (long)g->kw * g->cin >= 64 && edges;
}

/* go3, the generic patch shape of 3 channels, where no fixed shape is: a call of its own, so the
 * fixed shapes' tests stay as they were */
static __attribute__((noinline)) int patch_go3(const mf_rt_geom *g)
{
    return g->cout == 3 && (long)g->kw * g->cin <= 4L * MF_RT_CONV_PATCH_GO3_GROUPS
               ? MF_RT_CONV_PATCH_GO3
               : MF_RT_CONV_PATCH_NONE;
}

int mf_rt_conv_patch_s8_shape(const mf_rt_geom *g)
{
    /* only the shapes mf_rt_conv_patch_s8_chosen can pick: each has a loop of its own, and a
     * firmware links one shape's loops only where a layer calls it */
    if (g->kh < 1 || g->kw < 1 || g->cin < 1 || g->sh < 1 || g->sw < 1 || g->oh < 1 || g->ow < 1 ||
        g->h < 1 || g->w < 1 || g->pad_top < 0 || g->pad_left < 0)
        return MF_RT_CONV_PATCH_NONE;
    const long n = (long)g->kw * g->cin;
    if (g->cout == 3 && g->kh == 3 && n == 3) return MF_RT_CONV_PATCH_3X3O3;
    if (g->cout == 3 && g->kh == 1 && g->kw == 1 && n == 3) return MF_RT_CONV_PATCH_1X3O3;
    if (g->cout == 1 && g->kh == 5 && n == 5) return MF_RT_CONV_PATCH_5X5O1;
    return patch_go3(g);
}

int mf_rt_conv_patch_s8_chosen(const mf_rt_geom *g, int pool_kh, int pool_kw, int pool_sh,
                               int pool_sw)
{
    /* Measured with bench/kernel_sweep (Cortex-M4, default flags; -DSWEEP_PATCH_ALL runs these
     * kernels on every geometry of their shapes): fewer instructions than the quad engine or the
     * small-geometry kernels on the three 2D shapes with a loop of their own (1 → 3 k3, 3 → 3 k1, 1
     * → 1 k5: fields of 3 or 5 values, 1 or 3 channels) at stride 1, plain or pooled; at stride 2
     * the padded copy is paid for a quarter of the positions and only the 1×1 kernel (no copy)
     * still wins. The pool window changes only go3's choice. Scratch above
     * MF_RT_CONV_COPY_MAX_SCRATCH (the padded copy of a large input): not chosen. */
    (void)pool_sh, (void)pool_sw;
    const int shape = mf_rt_conv_patch_s8_shape(g);
    if (!shape || mf_rt_conv_patch_s8_scratch_bytes(g) > MF_RT_CONV_COPY_MAX_SCRATCH) return 0;
    if (shape == MF_RT_CONV_PATCH_GO3) {
        /* go3 (3 channels, any other kernel): fewer instructions on every 2D geometry and every
         * 1D one of 16 values per field or more, a third to a half fewer than the quad engine
         * on 2D fields of 8-16 values. On the shortest 1D fields the register-field and
         * small-geometry kernels keep the plain layers of one value per field and the pooled
         * ones of at most 2 values, or of 3-4 at stride 2 (go3 stores every conv output before
         * the pool, and a field's last word holds zero weights) */
        const long K = (long)g->kh * g->kw * g->cin;
        if (g->h > 1 || K >= 16) return 1;
        if (pool_kh * pool_kw > 1) return K >= 5 || (K >= 3 && g->sw == 1);
        return K > 1;
    }
    return g->h > 1 && shape && ((g->sh == 1 && g->sw == 1) || g->kh * g->kw == 1);
}

size_t mf_rt_conv_patch_s8_scratch_bytes(const mf_rt_geom *g)
{
    const int shape = mf_rt_conv_patch_s8_shape(g);
    if (!shape) return 0;
    /* the starts (4 words), the split weights, the padded input and its 4 zero bytes; go3: two
     * rows of outputs (the pool's), each a word longer for the word reads of its maximum */
    const size_t groups = ((size_t)g->kw * (size_t)g->cin + 3) / 4;
    size_t bytes = 16 + 8 * groups * (size_t)g->kh * (size_t)g->cout;
    if (shape == MF_RT_CONV_PATCH_GO3) bytes += 2 * ((3 * (size_t)g->ow + 4 + 3) & ~(size_t)3);
    const long hp = (long)(g->oh - 1) * g->sh + g->kh, wp = (long)(g->ow - 1) * g->sw + g->kw;
    if (g->pad_top > 0 || g->pad_left > 0 || hp - g->pad_top > g->h || wp - g->pad_left > g->w ||
        (shape == MF_RT_CONV_PATCH_GO3 && (g->kw * g->cin) % 4 != 0))
        bytes += (size_t)hp * (size_t)wp * (size_t)g->cin + 4;
    return (bytes + 7) & ~(size_t)7;
}

int mf_rt_conv_lanes_s8_fits(const mf_rt_geom *g)
{
    return g->cout == 1 && g->cin >= 8 && g->cin % 8 == 0 && g->kh >= 1 && g->kw >= 1 &&
           g->sh >= 1 && g->sw >= 1 && g->oh >= 1 && g->ow >= 1 && g->h >= 1 && g->w >= 1 &&
           g->pad_top >= 0 && g->pad_left >= 0;
}

int mf_rt_conv_lanes_s8_chosen(const mf_rt_geom *g, int pool_kh, int pool_kw, int pool_sh,
                               int pool_sw)
{
    /* Measured with bench/kernel_sweep (Cortex-M4, default flags; -DSWEEP_LANES_ALL runs these
     * kernels on every geometry they fit): with 8, 16 or 64 input channels fewer instructions than
     * the small-geometry and 1D kernels on every geometry of the sweep (kernels of 3 or 5: about
     * 1.4-2.6x fewer; 1×1: 1.02-1.6x fewer) but one: a 2D 1×1 kernel of stride 2 over 8 channels
     * with a pool, where the split of the columns and rows no position reads does not pay
     * (0.4 % more); 2D 1×1 kernels of stride > 1 over fewer than 16 channels are left to the
     * others. Scratch above MF_RT_CONV_COPY_MAX_SCRATCH (long or wide inputs of many channels):
     * not chosen. The pool window does not change the choice. */
    (void)pool_kh, (void)pool_kw, (void)pool_sh, (void)pool_sw;
    const int strided_1x1 = g->h > 1 && g->kh * g->kw == 1 && (g->sh > 1 || g->sw > 1);
    return mf_rt_conv_lanes_s8_fits(g) && !(strided_1x1 && g->cin < 16) &&
           mf_rt_conv_lanes_s8_scratch_bytes(g) <= MF_RT_CONV_COPY_MAX_SCRATCH;
}

size_t mf_rt_conv_lanes_s8_scratch_bytes(const mf_rt_geom *g)
{
    if (!mf_rt_conv_lanes_s8_fits(g)) return 0;
    /* kh rotations of the split weights, the band of kh padded rows (2 bytes per value), a tag
     * per slot, two rows of sums */
    const size_t kh = (size_t)g->kh, cin = (size_t)g->cin;
    const size_t wp = (size_t)(g->ow - 1) * (size_t)g->sw + (size_t)g->kw;
    const size_t bytes =
        2 * kh * kh * (size_t)g->kw * cin + 2 * wp * kh * cin + 4 * kh + 8 * (size_t)g->ow;
    return (bytes + 7) & ~(size_t)7;
}

int mf_rt_conv_dot_s8_covers(const mf_rt_geom *g, int pool_kh, int pool_kw, int pool_sh,
                             int pool_sw)
{
    /* one kernel row, no padding above or below, fields of at most 16 values (conv_s8_dot.c);
     * plain, or windows that tile the rows horizontally, at most 2 wide (the chunk's bound) */
    const long K = (long)g->kw * g->cin;
    const int plain = pool_kh == 1 && pool_kw == 1 && pool_sh == 1 && pool_sw == 1;
    const int pool = pool_kh >= 1 && pool_kh <= g->oh && pool_sh >= 1 && pool_kw >= 1 &&
                     pool_kw <= 2 && pool_sw == pool_kw && pool_kw <= g->ow;
    return g->kh == 1 && g->pad_top == 0 && g->h >= 1 && g->w >= 1 && g->cin >= 1 && g->cout >= 1 &&
           g->kw >= 1 && g->sh >= 1 && g->sw >= 1 && g->oh >= 1 && g->ow >= 1 && g->pad_left >= 0 &&
           (long)(g->oh - 1) * g->sh < g->h && K <= 16 && (plain || pool);
}

int mf_rt_conv_dot_s8_chosen(const mf_rt_geom *g, int pool_kh, int pool_kw, int pool_sh,
                             int pool_sw)
{
    /* Measured with bench/kernel_sweep (Cortex-M4, default flags; -DSWEEP_DOT_ALL runs these
     * kernels everywhere they cover): with 8 or more channels fewer instructions than the quad
     * engine and the register-field kernels on 2D 1×1 convs (1-16 input channels) and on 1D
     * layers of 8, 15 or 16 values per field, plain or pooled; on 1D layers of 1-5 or 9 values
     * the padding to 8 or 16 costs more than it saves (or nearly so). The sweep has no layer of
     * 4-7 channels. 1D 8 → 8 (K = 8, the UCI-HAR ResNet's shortcut) stays on the register-field
     * kernel: there the dot kernels take about a quarter fewer instructions, a few % of such a
     * model's, for 1.6 KB more flash (README). */
    const long K = (long)g->kw * g->cin;
    if (!mf_rt_conv_dot_s8_covers(g, pool_kh, pool_kw, pool_sh, pool_sw) || g->cout < 8) return 0;
    return g->h > 1 ? g->kw == 1 : (K == 8 && g->cout > 8) || K >= 15;
}

size_t mf_rt_conv_dot_s8_chunk(const mf_rt_geom *g)
{
    /* K ≤ 8: one window of 2 taps (the pair runs take 2-wide windows read in place; the chunk
     * holds the rest); else whole windows of 256 bytes of outputs */
    const size_t two = 2 * (size_t)g->cout;
    if ((long)g->kw * g->cin <= 8) return (two + 3) & ~(size_t)3;
    return ((two > 256 ? two : 256) + 3) & ~(size_t)3;
}

long mf_rt_conv_dot_s8_lag(const mf_rt_geom *g, int pool_kw)
{
    return mf_rt_conv1d_s8_lag(g, pool_kw); /* why: mf_runtime.h */
}

size_t mf_rt_conv_dot_s8_scratch_bytes(const mf_rt_geom *g)
{
    if (!mf_rt_conv_dot_s8_covers(g, 1, 1, 1, 1)) return 0;
    /* the blocks (6 or 10 words per channel), the pool's chunk, and when the layer pads the
     * padded rows with 16 zero bytes after them */
    const long K = (long)g->kw * g->cin, wp = (long)(g->ow - 1) * g->sw + g->kw;
    size_t bytes = (size_t)g->cout * (K > 8 ? 40 : 24) + mf_rt_conv_dot_s8_chunk(g);
    if (g->pad_left > 0 || wp - g->pad_left > g->w)
        bytes += (size_t)g->oh * (size_t)wp * (size_t)g->cin + 16;
    return (bytes + 7) & ~(size_t)7;
}

/* The dot kernels (conv_s8_dot.c): on the host the reference, on the geometries they cover. */
void mf_rt_conv_dot_s8(MF_RT_CONV_S8_PARAMS)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_conv_dot_s8_opt(g, in, w, bias, rq, out, scratch);
#else
    (void)scratch;
    if (mf_rt_conv_dot_s8_covers(g, 1, 1, 1, 1)) mf_rt_conv_s8_ref(g, in, w, bias, rq, out, NULL);
#endif
}

void mf_rt_conv_dot_maxpool_s8(MF_RT_CONV_MAXPOOL_S8_PARAMS)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_conv_dot_maxpool_s8_opt(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, rq, out,
                                  scratch);
#else
    (void)scratch;
    if (mf_rt_conv_dot_s8_covers(conv, pool_kh, pool_kw, pool_sh, pool_sw))
        mf_rt_conv_maxpool_s8_ref(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, rq, out,
                                  NULL);
#endif
}

mf_rt_conv_s8_kernel mf_rt_conv_s8_choose(const mf_rt_geom *g, int pool_kh, int pool_kw,
                                          int pool_sh, int pool_sw)
{
    if (mf_rt_conv_dot_s8_chosen(g, pool_kh, pool_kw, pool_sh, pool_sw)) return MF_RT_CONV_S8_DOT;
    /* patch before the register-field kernels: where go3 is chosen it beats them too */
    if (mf_rt_conv_patch_s8_chosen(g, pool_kh, pool_kw, pool_sh, pool_sw))
        return MF_RT_CONV_S8_PATCH;
    if (mf_rt_conv_lanes_s8_chosen(g, pool_kh, pool_kw, pool_sh, pool_sw))
        return MF_RT_CONV_S8_LANES;
    if (mf_rt_conv_field_s8_chosen(g, pool_kh, pool_kw, pool_sh, pool_sw))
        return MF_RT_CONV_S8_FIELD;
    if (mf_rt_conv_small_s8_chosen(g, pool_kh, pool_kw, pool_sh, pool_sw))
        return MF_RT_CONV_S8_SMALL;
    if (mf_rt_conv1d_s8_covers(g, pool_kh, pool_kw, pool_sh, pool_sw)) return MF_RT_CONV_S8_1D;
    if (mf_rt_conv_wide_s8_chosen(g, pool_kh, pool_kw, pool_sh, pool_sw)) return MF_RT_CONV_S8_WIDE;
    return MF_RT_CONV_S8_ENGINE;
}

size_t mf_rt_conv_field_s8_scratch_bytes(const mf_rt_geom *g)
{
    const size_t P = (size_t)mf_rt_conv_field_s8_p(g, 1, 1, 1, 1); /* P pair words */
    return ((4 * P + 6) * (size_t)g->cout + 7) & ~(size_t)7;       /* + 2 outputs per channel */
}

/* The register-field kernels (conv_s8_field.c), one per P: on the host the reference, on the
 * geometries of their P. Written out one by one: deploy finds a kernel's file by its definition
 * (deploy/runtime_files.c). */
#if defined(MF_RT_OPT_INT)
#define FIELD_REF(P)         (void)0
#define FIELD_MAXPOOL_REF(P) (void)0
#else
#define FIELD_REF(P)                                                                               \
    if (mf_rt_conv_field_s8_p(g, 1, 1, 1, 1) == P) mf_rt_conv_s8_ref(g, in, w, bias, rq, out, NULL)
#define FIELD_MAXPOOL_REF(P)                                                                       \
    if (mf_rt_conv_field_s8_p(conv, pool_kh, pool_kw, pool_sh, pool_sw) == P)                      \
    mf_rt_conv_maxpool_s8_ref(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, rq, out, NULL)
#endif

void mf_rt_conv_field1_s8(MF_RT_CONV_S8_PARAMS)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_conv_field1_s8_opt(g, in, w, bias, rq, out, scratch);
#else
    (void)scratch;
    FIELD_REF(1);
#endif
}

void mf_rt_conv_field1_maxpool_s8(MF_RT_CONV_MAXPOOL_S8_PARAMS)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_conv_field1_maxpool_s8_opt(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, rq, out,
                                     scratch);
#else
    (void)scratch;
    FIELD_MAXPOOL_REF(1);
#endif
}

void mf_rt_conv_field2_s8(MF_RT_CONV_S8_PARAMS)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_conv_field2_s8_opt(g, in, w, bias, rq, out, scratch);
#else
    (void)scratch;
    FIELD_REF(2);
#endif
}

void mf_rt_conv_field2_maxpool_s8(MF_RT_CONV_MAXPOOL_S8_PARAMS)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_conv_field2_maxpool_s8_opt(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, rq, out,
                                     scratch);
#else
    (void)scratch;
    FIELD_MAXPOOL_REF(2);
#endif
}

void mf_rt_conv_field3_s8(MF_RT_CONV_S8_PARAMS)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_conv_field3_s8_opt(g, in, w, bias, rq, out, scratch);
#else
    (void)scratch;
    FIELD_REF(3);
#endif
}

void mf_rt_conv_field3_maxpool_s8(MF_RT_CONV_MAXPOOL_S8_PARAMS)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_conv_field3_maxpool_s8_opt(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, rq, out,
                                     scratch);
#else
    (void)scratch;
    FIELD_MAXPOOL_REF(3);
#endif
}

void mf_rt_conv_field4_s8(MF_RT_CONV_S8_PARAMS)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_conv_field4_s8_opt(g, in, w, bias, rq, out, scratch);
#else
    (void)scratch;
    FIELD_REF(4);
#endif
}

void mf_rt_conv_field4_maxpool_s8(MF_RT_CONV_MAXPOOL_S8_PARAMS)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_conv_field4_maxpool_s8_opt(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, rq, out,
                                     scratch);
#else
    (void)scratch;
    FIELD_MAXPOOL_REF(4);
#endif
}

void mf_rt_conv_field5_s8(MF_RT_CONV_S8_PARAMS)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_conv_field5_s8_opt(g, in, w, bias, rq, out, scratch);
#else
    (void)scratch;
    FIELD_REF(5);
#endif
}

void mf_rt_conv_field5_maxpool_s8(MF_RT_CONV_MAXPOOL_S8_PARAMS)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_conv_field5_maxpool_s8_opt(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, rq, out,
                                     scratch);
#else
    (void)scratch;
    FIELD_MAXPOOL_REF(5);
#endif
}

void mf_rt_conv_field6_s8(MF_RT_CONV_S8_PARAMS)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_conv_field6_s8_opt(g, in, w, bias, rq, out, scratch);
#else
    (void)scratch;
    FIELD_REF(6);
#endif
}

void mf_rt_conv_field6_maxpool_s8(MF_RT_CONV_MAXPOOL_S8_PARAMS)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_conv_field6_maxpool_s8_opt(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, rq, out,
                                     scratch);
#else
    (void)scratch;
    FIELD_MAXPOOL_REF(6);
#endif
}

void mf_rt_conv_field7_s8(MF_RT_CONV_S8_PARAMS)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_conv_field7_s8_opt(g, in, w, bias, rq, out, scratch);
#else
    (void)scratch;
    FIELD_REF(7);
#endif
}

void mf_rt_conv_field7_maxpool_s8(MF_RT_CONV_MAXPOOL_S8_PARAMS)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_conv_field7_maxpool_s8_opt(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, rq, out,
                                     scratch);
#else
    (void)scratch;
    FIELD_MAXPOOL_REF(7);
#endif
}

void mf_rt_conv_field8_s8(MF_RT_CONV_S8_PARAMS)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_conv_field8_s8_opt(g, in, w, bias, rq, out, scratch);
#else
    (void)scratch;
    FIELD_REF(8);
#endif
}

void mf_rt_conv_field8_maxpool_s8(MF_RT_CONV_MAXPOOL_S8_PARAMS)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_conv_field8_maxpool_s8_opt(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, rq, out,
                                     scratch);
#else
    (void)scratch;
    FIELD_MAXPOOL_REF(8);
#endif
}

size_t mf_rt_conv_small_s8_scratch_bytes(const mf_rt_geom *g)
{
    /* each channel's accumulator start (mf_rt_init_s8) */
    return ((size_t)4 * (size_t)g->cout + 7) & ~(size_t)7;
}

/* The patch kernels (conv_s8_patch.c), one per shape: on the host the reference, on the
 * geometries of their shape. Written out one by one: deploy finds a kernel's file by its
 * definition (deploy/runtime_files.c). */
#if defined(MF_RT_OPT_INT)
#define PATCH_REF(S)         (void)0
#define PATCH_MAXPOOL_REF(S) (void)0
#else
#define PATCH_REF(S)                                                                               \
    if (mf_rt_conv_patch_s8_shape(g) == S) mf_rt_conv_s8_ref(g, in, w, bias, rq, out, NULL)
#define PATCH_MAXPOOL_REF(S)                                                                       \
    if (mf_rt_conv_patch_s8_shape(conv) == S)                                                      \
    mf_rt_conv_maxpool_s8_ref(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, rq, out, NULL)
#endif

void mf_rt_conv_patch3x3o3_s8(MF_RT_CONV_S8_PARAMS)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_conv_patch3x3o3_s8_opt(g, in, w, bias, rq, out, scratch);
#else
    (void)scratch;
    PATCH_REF(MF_RT_CONV_PATCH_3X3O3);
#endif
}

void mf_rt_conv_patch3x3o3_maxpool_s8(MF_RT_CONV_MAXPOOL_S8_PARAMS)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_conv_patch3x3o3_maxpool_s8_opt(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, rq,
                                         out, scratch);
#else
    (void)scratch;
    PATCH_MAXPOOL_REF(MF_RT_CONV_PATCH_3X3O3);
#endif
}

void mf_rt_conv_patch1x3o3_s8(MF_RT_CONV_S8_PARAMS)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_conv_patch1x3o3_s8_opt(g, in, w, bias, rq, out, scratch);
#else
    (void)scratch;
    PATCH_REF(MF_RT_CONV_PATCH_1X3O3);
#endif
}

void mf_rt_conv_patch1x3o3_maxpool_s8(MF_RT_CONV_MAXPOOL_S8_PARAMS)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_conv_patch1x3o3_maxpool_s8_opt(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, rq,
                                         out, scratch);
#else
    (void)scratch;
    PATCH_MAXPOOL_REF(MF_RT_CONV_PATCH_1X3O3);
#endif
}

void mf_rt_conv_patch5x5o1_s8(MF_RT_CONV_S8_PARAMS)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_conv_patch5x5o1_s8_opt(g, in, w, bias, rq, out, scratch);
#else
    (void)scratch;
    PATCH_REF(MF_RT_CONV_PATCH_5X5O1);
#endif
}

void mf_rt_conv_patch5x5o1_maxpool_s8(MF_RT_CONV_MAXPOOL_S8_PARAMS)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_conv_patch5x5o1_maxpool_s8_opt(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, rq,
                                         out, scratch);
#else
    (void)scratch;
    PATCH_MAXPOOL_REF(MF_RT_CONV_PATCH_5X5O1);
#endif
}

/* The lane kernels (conv_s8_lanes.c): on the host the reference, on the geometries they fit. */
void mf_rt_conv_lanes_s8(MF_RT_CONV_S8_PARAMS)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_conv_lanes_s8_opt(g, in, w, bias, rq, out, scratch);
#else
    (void)scratch;
    if (mf_rt_conv_lanes_s8_fits(g)) mf_rt_conv_s8_ref(g, in, w, bias, rq, out, NULL);
#endif
}

void mf_rt_conv_lanes_maxpool_s8(MF_RT_CONV_MAXPOOL_S8_PARAMS)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_conv_lanes_maxpool_s8_opt(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, rq, out,
                                    scratch);
#else
    (void)scratch;
    if (mf_rt_conv_lanes_s8_fits(conv))
        mf_rt_conv_maxpool_s8_ref(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, rq, out,
                                  NULL);
#endif
}

void mf_rt_conv_patchgo3_s8(MF_RT_CONV_S8_PARAMS)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_conv_patchgo3_s8_opt(g, in, w, bias, rq, out, scratch);
#else
    (void)scratch;
    PATCH_REF(MF_RT_CONV_PATCH_GO3);
#endif
}

void mf_rt_conv_patchgo3_maxpool_s8(MF_RT_CONV_MAXPOOL_S8_PARAMS)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_conv_patchgo3_maxpool_s8_opt(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, rq,
                                       out, scratch);
#else
    (void)scratch;
    PATCH_MAXPOOL_REF(MF_RT_CONV_PATCH_GO3);
#endif
}
