/* Depthwise convolution (depthwise_conv1d/2d; 1D as 2D with h = 1), portable C reference path.
 *
 * Geometry g as for conv, with cout = cin·m (m, the depth multiplier, = cout / cin). Output
 * channel co reads input channel co / m only (DESIGN.md §13): for every output position
 * (oy, ox), with iy = oy·sh − pad_top + ky and ix = ox·sw − pad_left + kx,
 *   acc = bias[co] (0 when bias is NULL) + Σ_{ky < kh} Σ_{kx < kw} in[iy][ix][co / m]·w[co][ky][kx]
 * taps outside the input skipped (zero padding). Weights [cout][kh][kw].
 *   int8: products and sum in int32; int16: in int64 (the caller guarantees no overflow: int8
 *         kh·kw·2^14 + |bias| < 2^31).
 *   float: acc starts at bias (or 0.0f) and adds the products in (ky, kx) order, one rounding per
 *          operation (-ffp-contract=off).
 * Output [oh][ow][cout] = requant(acc) with the tensor's or channel co's shift
 * (mf_rt_requant_s32/_s64, relu 0 or 1); float: relu → acc < 0 ? 0 : acc. `out` must not alias
 * `in`. The ReLU6 forms follow relu6.c's rule: the kernel with a plain ReLU, then the clamp. */
#include "mf_runtime.h"
#include "mf_rt_dsp.h"

/* The taps of output (oy, ox) inside the input: ky in [*ky0, *ky1), kx in [*kx0, *kx1). */
static void dw_taps(const mf_rt_geom *g, int oy, int ox, int *ky0, int *ky1, int *kx0, int *kx1)
{
    const int iy = oy * g->sh - g->pad_top, ix = ox * g->sw - g->pad_left;
    *ky0 = iy < 0 ? -iy : 0;
    *ky1 = g->h - iy < g->kh ? g->h - iy : g->kh;
    *kx0 = ix < 0 ? -ix : 0;
    *kx1 = g->w - ix < g->kw ? g->w - ix : g->kw;
}

/* The accumulator of output channel co at a position whose first tap inside the input is x (in
 * channel co / m), taps [ky0, ky1) × [kx0, kx1); one function per type, out of line so that the
 * callers' frames stay small. */
MF_RT_NOINLINE float dw_f32(const mf_rt_geom *g, const float *x, const float *wc, float acc,
                            int ky0, int ky1, int kx0, int kx1)
{
    const size_t row = (size_t)g->w * g->cin;
    for (int ky = ky0; ky < ky1; ky++, x += row)
        for (int kx = kx0; kx < kx1; kx++)
            acc += x[(size_t)(kx - kx0) * g->cin] * wc[ky * g->kw + kx];
    return acc;
}

MF_RT_NOINLINE int64_t dw_s16(const mf_rt_geom *g, const int16_t *x, const int16_t *wc, int64_t acc,
                              int ky0, int ky1, int kx0, int kx1)
{
    const size_t row = (size_t)g->w * g->cin;
    for (int ky = ky0; ky < ky1; ky++, x += row)
        for (int kx = kx0; kx < kx1; kx++)
            acc += (int64_t)x[(size_t)(kx - kx0) * g->cin] * wc[ky * g->kw + kx];
    return acc;
}

MF_RT_NOINLINE int32_t dw_s8(const mf_rt_geom *g, const int8_t *x, const int8_t *wc, int32_t acc,
                             int ky0, int ky1, int kx0, int kx1)
{
    const size_t row = (size_t)g->w * g->cin;
    for (int ky = ky0; ky < ky1; ky++, x += row)
        for (int kx = kx0; kx < kx1; kx++)
            acc += (int32_t)x[(size_t)(kx - kx0) * g->cin] * wc[ky * g->kw + kx];
    return acc;
}

/* Output (oy, ox): its taps inside the input (t: ky0, ky1, kx0, kx1) and the offset of the first
 * one (0 when none). */
static size_t dw_window(const mf_rt_geom *g, int oy, int ox, int *t)
{
    dw_taps(g, oy, ox, &t[0], &t[1], &t[2], &t[3]);
    if (t[0] >= t[1] || t[2] >= t[3]) { /* all padding: no tap (and no pointer stepping) */
        t[1] = t[0];
        return 0;
    }
    const int iy = oy * g->sh - g->pad_top + t[0], ix = ox * g->sw - g->pad_left + t[2];
    return ((size_t)iy * g->w + (size_t)ix) * g->cin;
}

void mf_rt_dwconv_f32_ref(const mf_rt_geom *g, const float *in, const float *w, const float *bias,
                          int relu, float *out)
{
    const int m = g->cin > 0 ? g->cout / g->cin : 1, K = g->kh * g->kw;
    for (int oy = 0; oy < g->oh; oy++)
        for (int ox = 0; ox < g->ow; ox++) {
            int t[4];
            const float *x = in + dw_window(g, oy, ox, t);
            float *o = out + ((size_t)oy * g->ow + ox) * g->cout;
            for (int co = 0; co < g->cout; co++) {
                float acc = dw_f32(g, x + co / m, w + (size_t)co * K, bias ? bias[co] : 0.0f, t[0],
                                   t[1], t[2], t[3]);
                o[co] = relu && acc < 0.0f ? 0.0f : acc;
            }
        }
}

void mf_rt_dwconv_s16_ref(const mf_rt_geom *g, const int16_t *in, const int16_t *w,
                          const int64_t *bias, const mf_rt_requant *rq, int16_t *out)
{
    const int m = g->cin > 0 ? g->cout / g->cin : 1, K = g->kh * g->kw;
    for (int oy = 0; oy < g->oh; oy++)
        for (int ox = 0; ox < g->ow; ox++) {
            int t[4];
            const int16_t *x = in + dw_window(g, oy, ox, t);
            int16_t *o = out + ((size_t)oy * g->ow + ox) * g->cout;
            for (int co = 0; co < g->cout; co++) {
                const int64_t acc = dw_s16(g, x + co / m, w + (size_t)co * K, bias ? bias[co] : 0,
                                           t[0], t[1], t[2], t[3]);
                const int shift = rq->shifts ? rq->shifts[co] : rq->shift;
                o[co] = mf_rt_requant_s64(acc, shift, rq->relu, rq->rounding);
            }
        }
}

void mf_rt_dwconv_s8_ref(const mf_rt_geom *g, const int8_t *in, const int8_t *w,
                         const int32_t *bias, const mf_rt_requant *rq, int8_t *out, void *scratch)
{
    (void)scratch;
    const int m = g->cin > 0 ? g->cout / g->cin : 1, K = g->kh * g->kw;
    for (int oy = 0; oy < g->oh; oy++)
        for (int ox = 0; ox < g->ow; ox++) {
            int t[4];
            const int8_t *x = in + dw_window(g, oy, ox, t);
            int8_t *o = out + ((size_t)oy * g->ow + ox) * g->cout;
            for (int co = 0; co < g->cout; co++) {
                const int32_t acc = dw_s8(g, x + co / m, w + (size_t)co * K, bias ? bias[co] : 0,
                                          t[0], t[1], t[2], t[3]);
                const int shift = rq->shifts ? rq->shifts[co] : rq->shift;
                o[co] = mf_rt_requant_s32(acc, shift, rq->relu, rq->rounding);
            }
        }
}

/* ---- dispatch: the int8 Cortex-M4 path where the core has one, else the reference; int16 and
 * float32 run the reference everywhere ---- */

void mf_rt_dwconv_f32(const mf_rt_geom *g, const float *in, const float *w, const float *bias,
                      int relu, float *out)
{
    mf_rt_dwconv_f32_ref(g, in, w, bias, relu, out);
}

void mf_rt_dwconv_s16(const mf_rt_geom *g, const int16_t *in, const int16_t *w, const int64_t *bias,
                      const mf_rt_requant *rq, int16_t *out)
{
    mf_rt_dwconv_s16_ref(g, in, w, bias, rq, out);
}

void mf_rt_dwconv_s8(const mf_rt_geom *g, const int8_t *in, const int8_t *w, const int32_t *bias,
                     const mf_rt_requant *rq, int8_t *out, void *scratch)
{
#if defined(MF_RT_OPT_INT)
    mf_rt_dwconv_s8_opt(g, in, w, bias, rq, out, scratch);
#else
    mf_rt_dwconv_s8_ref(g, in, w, bias, rq, out, scratch);
#endif
}

size_t mf_rt_dwconv_s8_scratch_bytes(const mf_rt_geom *g)
{
    /* the accumulator starts; with a multiplier of 1, the weights of each quad of channels as
     * two words of int16 lanes per tap */
    const size_t cout = (size_t)(g->cout > 0 ? g->cout : 0),
                 K = (size_t)(g->kh > 0 ? g->kh : 0) * (size_t)(g->kw > 0 ? g->kw : 0);
    const size_t packed = g->cout == g->cin ? 8 * (cout / 4) * K : 0;
    return (4 * cout + packed + 7) & ~(size_t)7;
}

/* ---- the ReLU6 forms (rq->relu = MF_RT_RELU6(q6); float: clamp at 6) ---- */

void mf_rt_dwconv_relu6_f32(const mf_rt_geom *g, const float *in, const float *w, const float *bias,
                            int relu, float *out)
{
    (void)relu;
    mf_rt_dwconv_f32(g, in, w, bias, 1, out);
    const size_t n = (size_t)g->oh * g->ow * g->cout;
    for (size_t i = 0; i < n; i++)
        out[i] = out[i] > 6.0f ? 6.0f : out[i];
}

void mf_rt_dwconv_relu6_s16(const mf_rt_geom *g, const int16_t *in, const int16_t *w,
                            const int64_t *bias, const mf_rt_requant *rq, int16_t *out)
{
    mf_rt_requant r = *rq;
    r.relu = rq->relu != 0;
    mf_rt_dwconv_s16(g, in, w, bias, &r, out);
    const int q6 = rq->relu >= 2 ? rq->relu - 2 : INT16_MAX;
    const int16_t hi = (int16_t)(q6 < INT16_MAX ? q6 : INT16_MAX);
    const size_t n = (size_t)g->oh * g->ow * g->cout;
    for (size_t i = 0; i < n; i++)
        out[i] = out[i] > hi ? hi : out[i];
}

void mf_rt_dwconv_relu6_s8(const mf_rt_geom *g, const int8_t *in, const int8_t *w,
                           const int32_t *bias, const mf_rt_requant *rq, int8_t *out, void *scratch)
{
    mf_rt_requant r = *rq;
    r.relu = rq->relu != 0;
    mf_rt_dwconv_s8(g, in, w, bias, &r, out, scratch);
    const int q6 = rq->relu >= 2 ? rq->relu - 2 : INT8_MAX;
    const int8_t hi = (int8_t)(q6 < INT8_MAX ? q6 : INT8_MAX);
    const size_t n = (size_t)g->oh * g->ow * g->cout;
    for (size_t i = 0; i < n; i++)
        out[i] = out[i] > hi ? hi : out[i];
}
