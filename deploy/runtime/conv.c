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
 * (mf_rt_requant_s32/_s64); float: relu → acc < 0 ? 0 : acc. `out` must not alias `in`. */
#include "mf_runtime.h"

void mf_rt_conv_f32(const mf_rt_geom *g, const float *in, const float *w, const float *bias,
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

void mf_rt_conv_s16(const mf_rt_geom *g, const int16_t *in, const int16_t *w, const int64_t *bias,
                    const mf_rt_requant *rq, int16_t *out)
{
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

void mf_rt_conv_s8(const mf_rt_geom *g, const int8_t *in, const int8_t *w, const int32_t *bias,
                   const mf_rt_requant *rq, int8_t *out)
{
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
