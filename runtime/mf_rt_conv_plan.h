/* Private to runtime: the output-geometry helpers of the float32 conv path (conv_f32_opt.c):
 * valid tap ranges, interior columns, row offsets. */
#ifndef MF_RT_CONV_PLAN_H
#define MF_RT_CONV_PLAN_H

#include "mf_rt_dsp.h"

#if defined(MF_RT_OPT_INT) || defined(MF_RT_OPT_F32)

/* Valid taps of output o along one axis: k0 ≤ k < k1 with 0 ≤ o·s − pad + k < n (may be empty). */
MF_RT_INLINE void conv_tap_range(int o, int s, int pad, int n, int k, int *k0, int *k1)
{
    int start = o * s - pad;
    int end = n - start;
    *k0 = start < 0 ? -start : 0;
    *k1 = end < k ? end : k;
}

/* What every output row shares. */
typedef struct {
    int ox_lo, ox_hi; /* interior columns [ox_lo, ox_hi): all kw taps inside the input */
    int n;            /* kw·cin: one row of taps, contiguous in the input and in the weights */
    ptrdiff_t dx;     /* sw·cin: input elements between neighbouring output columns */
    ptrdiff_t row;    /* w·cin: input elements between rows */
    size_t K;         /* kh·kw·cin: the weights of one output channel */
} conv_plan;

MF_RT_INLINE conv_plan conv_plan_of(const mf_rt_geom *g)
{
    conv_plan p;
    int last = g->w + g->pad_left - g->kw; /* interior: 0 ≤ ox·sw − pad_left, ox·sw ≤ last */
    p.ox_lo = g->pad_left > 0 ? (g->pad_left + g->sw - 1) / g->sw : 0;
    p.ox_hi = last < 0 ? 0 : last / g->sw + 1;
    if (p.ox_lo > g->ow) p.ox_lo = g->ow;
    if (p.ox_hi > g->ow) p.ox_hi = g->ow;
    if (p.ox_hi < p.ox_lo) p.ox_hi = p.ox_lo;
    p.n = g->kw * g->cin;
    p.dx = (ptrdiff_t)g->sw * g->cin;
    p.row = (ptrdiff_t)g->w * g->cin;
    p.K = (size_t)g->kh * g->kw * g->cin;
    return p;
}

/* The valid kernel rows of output row oy: ky0 ≤ ky < ky0 + rows (rows ≤ 0: none lies inside);
 * conv_x_at gives the input offset of output (oy, ox)'s tap (ky, 0), channel 0. */
typedef struct {
    int rows, ky0;
} conv_rows;

MF_RT_INLINE conv_rows conv_rows_of(const mf_rt_geom *g, int oy)
{
    conv_rows r;
    int ky1;
    conv_tap_range(oy, g->sh, g->pad_top, g->h, g->kh, &r.ky0, &ky1);
    r.rows = ky1 - r.ky0;
    return r;
}

MF_RT_INLINE size_t conv_x_at(const mf_rt_geom *g, int oy, int ky0, int ox)
{
    return ((size_t)(oy * g->sh - g->pad_top + ky0) * g->w + (size_t)(ox * g->sw - g->pad_left)) *
           g->cin;
}

#endif

#endif
