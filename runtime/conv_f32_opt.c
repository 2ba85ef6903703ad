/* float32 convolution, fused convolution + max pool, and dense: the optimized paths (see
 * mf_rt_dsp.h for when they are used). Bit-identical to conv.c's and dense.c's references for
 * every input.
 *
 * Structure: output channels in pairs (co, co + 1; an odd last channel is
 * computed as the pair (co, co) and stored once), output positions in pairs along a row: a
 * "block" is 2 channels × 2 positions, so every loaded word serves several multiply-adds. A
 * position's valid taps form a rectangle [ky0, ky1) × [kx0, kx1), and for each ky the valid
 * input and the matching weights are contiguous runs of (kx1 − kx0)·cin values (channels-last
 * input, [cout][kh][kw][cin] weights): zero padding is never read nor multiplied, it is skipped
 * exactly as the reference skips it. Columns whose kw taps all lie inside the input (the
 * interior: all but ⌈pad/stride⌉ columns at each edge) step pointers; edge columns take a
 * generic path with per-position tap ranges (conv_*_one).
 *
 * float: each output keeps its own accumulator, started at the bias (or 0.0f) and updated with
 *   x·w in the order ky, kx, ci ascending — the reference's order, one rounding per multiply and
 *   per add. On the M4 the update is VMLA.F32, which is not fused (ARMv7-M: the product is
 *   rounded, then added with a second rounding), i.e. exactly the reference's `acc += x * w`;
 *   GCC does not emit VMLA under -ffp-contract=off, so the inner loop is inline assembly
 *   (VLDM of 4 floats per operand, 16 VMLA for a 2 × 2 block); MF_RT_EMULATE_DSP runs the same
 *   loop structure in C.
 * Fused max pool: the conv outputs of a window are computed in blocks; the outputs (ReLU
 *   applied) are folded in the pool's tap order, first tap then every strictly greater one,
 *   exactly as mf_rt_maxpool_f32 does. Windows one conv row high (every 1D pool) step pointers
 *   along the row like the plain conv; others (2D pools, edges) are computed window by window.
 * Dense: outputs in pairs sharing every input load and the conv's inner kernels (a dense layer is
 *   a 1 × 1 conv of one position). */
#include "mf_rt_conv_plan.h"

#if defined(MF_RT_OPT_F32)

/* ======================= float32 ======================= */

/* acc + a·b with two roundings (VMLA.F32 on the M4, not fused). */
#if defined(MF_RT_EMULATE_DSP)
MF_RT_INLINE float mf_vmla(float acc, float a, float b)
{
    return acc + a * b;
}
#else
MF_RT_INLINE float mf_vmla(float acc, float a, float b)
{
    __asm__("vmla.f32 %0, %1, %2" : "+t"(acc) : "t"(a), "t"(b));
    return acc;
}
#endif

/* acc[0] += x0·w0, acc[1] += x1·w0, acc[2] += x0·w1, acc[3] += x1·w1 over n values
 * (x1 = x0 + dx, w1 = w0 + wst), each sum in index order, as the reference adds. */
MF_RT_INLINE void mac_f32_2x2(float *acc, const float *x0, ptrdiff_t dx, const float *w0,
                              size_t wst, int n)
{
    const float *x1 = x0 + dx, *w1 = w0 + wst;
    float a00 = acc[0], a01 = acc[1], a10 = acc[2], a11 = acc[3];
    int blocks = n >> 2;
#if defined(MF_RT_EMULATE_DSP)
    for (; blocks > 0; blocks--, x0 += 4, x1 += 4, w0 += 4, w1 += 4)
        for (int i = 0; i < 4; i++) {
            a00 = mf_vmla(a00, x0[i], w0[i]);
            a01 = mf_vmla(a01, x1[i], w0[i]);
            a10 = mf_vmla(a10, x0[i], w1[i]);
            a11 = mf_vmla(a11, x1[i], w1[i]);
        }
#else
    if (blocks > 0)
        __asm__("1:\n\t"
                "vldmia %[x0]!, {s0-s3}\n\t"
                "vldmia %[x1]!, {s4-s7}\n\t"
                "vldmia %[w0]!, {s8-s11}\n\t"
                "vldmia %[w1]!, {s12-s15}\n\t"
                "vmla.f32 %[a00], s0, s8\n\t"
                "vmla.f32 %[a01], s4, s8\n\t"
                "vmla.f32 %[a10], s0, s12\n\t"
                "vmla.f32 %[a11], s4, s12\n\t"
                "vmla.f32 %[a00], s1, s9\n\t"
                "vmla.f32 %[a01], s5, s9\n\t"
                "vmla.f32 %[a10], s1, s13\n\t"
                "vmla.f32 %[a11], s5, s13\n\t"
                "vmla.f32 %[a00], s2, s10\n\t"
                "vmla.f32 %[a01], s6, s10\n\t"
                "vmla.f32 %[a10], s2, s14\n\t"
                "vmla.f32 %[a11], s6, s14\n\t"
                "vmla.f32 %[a00], s3, s11\n\t"
                "vmla.f32 %[a01], s7, s11\n\t"
                "vmla.f32 %[a10], s3, s15\n\t"
                "vmla.f32 %[a11], s7, s15\n\t"
                "subs %[cnt], %[cnt], #1\n\t"
                "bne 1b\n\t"
                : [a00] "+t"(a00), [a01] "+t"(a01), [a10] "+t"(a10), [a11] "+t"(a11), [x0] "+r"(x0),
                  [x1] "+r"(x1), [w0] "+r"(w0), [w1] "+r"(w1), [cnt] "+r"(blocks)
                :
                : "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "s12",
                  "s13", "s14", "s15", "cc", "memory");
#endif
    for (n &= 3; n > 0; n--) {
        float p = *x0++, q = *x1++, k0 = *w0++, k1 = *w1++;
        a00 = mf_vmla(a00, p, k0);
        a01 = mf_vmla(a01, q, k0);
        a10 = mf_vmla(a10, p, k1);
        a11 = mf_vmla(a11, q, k1);
    }
    acc[0] = a00, acc[1] = a01, acc[2] = a10, acc[3] = a11;
}

MF_RT_NOINLINE void dot_f32_1x2(int n, const float *restrict x, const float *restrict w0,
                                const float *restrict w1, float *restrict a)
{
    float a0 = a[0], a1 = a[1];
    for (int i = 0; i < n; i++) {
        float p = x[i];
        a0 = mf_vmla(a0, p, w0[i]);
        a1 = mf_vmla(a1, p, w1[i]);
    }
    a[0] = a0, a[1] = a1;
}

MF_RT_NOINLINE void conv_f32_one(const mf_rt_geom *g, const float *in, const float *w0, size_t wst,
                                 int oy, int ox, float *a)
{
    int ky0, ky1, kx0, kx1;
    conv_tap_range(oy, g->sh, g->pad_top, g->h, g->kh, &ky0, &ky1);
    conv_tap_range(ox, g->sw, g->pad_left, g->w, g->kw, &kx0, &kx1);
    int n = (kx1 - kx0) * g->cin;
    if (n <= 0) return;
    for (int ky = ky0; ky < ky1; ky++) {
        const float *x = in + conv_x_at(g, oy, ky, ox) + (size_t)kx0 * g->cin;
        const float *k = w0 + ((size_t)ky * g->kw + kx0) * g->cin;
        dot_f32_1x2(n, x, k, k + wst, a);
    }
}

MF_RT_INLINE float relu_f32(float v, int relu)
{
    return relu && v < 0.0f ? 0.0f : v;
}

/* What the interior blocks of one output row share. */
typedef struct {
    const float *k; /* c0's weights from the first valid kernel row (c1's at k + wst) */
    size_t wst;
    ptrdiff_t dx, row;
    int rows, n;
    float b0, b1; /* accumulator starts (the biases) */
} blk_f32;

MF_RT_INLINE blk_f32 blk_f32_of(const mf_rt_geom *g, const conv_plan *p, const float *w0,
                                size_t wst, float b0, float b1, int oy)
{
    blk_f32 b;
    const conv_rows r = conv_rows_of(g, oy);
    b.rows = r.rows > 0 ? r.rows : 0;
    b.n = p->n;
    b.k = w0 + (size_t)(r.rows > 0 ? r.ky0 : 0) * p->n;
    b.wst = wst;
    b.dx = p->dx, b.row = p->row;
    b.b0 = b0, b.b1 = b1;
    return b;
}

MF_RT_INLINE const float *conv_f32_x(const mf_rt_geom *g, const float *in, int oy, int ox)
{
    const conv_rows r = conv_rows_of(g, oy);
    return r.rows > 0 ? in + conv_x_at(g, oy, r.ky0, ox) : in;
}

/* a[0] = (c0, x), a[1] = (c0, x + dx), a[2] = (c1, x), a[3] = (c1, x + dx). */
MF_RT_INLINE void blk_f32_2x2(const blk_f32 *b, const float *x, float *a)
{
    a[0] = a[1] = b->b0;
    a[2] = a[3] = b->b1;
    const float *k = b->k;
    for (int r = b->rows; r > 0; r--, x += b->row, k += b->n)
        mac_f32_2x2(a, x, b->dx, k, b->wst, b->n);
}

/* a[0] = (c0, x), a[1] = (c1, x). */
MF_RT_NOINLINE void blk_f32_1x2(const blk_f32 *b, const float *x, float *a)
{
    const float *k = b->k;
    a[0] = b->b0, a[1] = b->b1;
    for (int r = b->rows; r > 0; r--, x += b->row, k += b->n)
        dot_f32_1x2(b->n, x, k, k + b->wst, a);
}

/* The window of (oy0, ox0), any window: outputs folded in the pool's tap order. */
MF_RT_NOINLINE void conv_f32_window(const mf_rt_geom *g, const conv_plan *p, const float *in,
                                    const float *w0, size_t wst, float b0, float b1, int relu,
                                    int pkh, int pkw, int oy0, int ox0, float *m)
{
    const int inside = ox0 >= p->ox_lo && ox0 + pkw <= p->ox_hi;
    float m0 = 0.0f, m1 = 0.0f;
    int first = 1;
    for (int wy = 0; wy < pkh; wy++) {
        const int oy = oy0 + wy;
        const blk_f32 b = blk_f32_of(g, p, w0, wst, b0, b1, oy);
        const float *x = inside ? conv_f32_x(g, in, oy, ox0) : in;
        for (int wx = 0; wx < pkw; wx++) {
            float a[2];
            if (inside) {
                blk_f32_1x2(&b, x, a);
                x += p->dx;
            } else {
                a[0] = b0, a[1] = b1;
                conv_f32_one(g, in, w0, wst, oy, ox0 + wx, a);
            }
            float u = relu_f32(a[0], relu), v = relu_f32(a[1], relu);
            if (first || u > m0) m0 = u;
            if (first || v > m1) m1 = v;
            first = 0;
        }
    }
    m[0] = m0, m[1] = m1;
}

static void conv_f32_engine(const mf_rt_geom *g, int pkh, int pkw, int psh, int psw,
                            const float *in, const float *w, const float *bias, int relu,
                            float *out)
{
    if (g->oh < pkh || g->ow < pkw || pkh < 1 || pkw < 1 || psh < 1 || psw < 1) return;
    const int poh = (g->oh - pkh) / psh + 1, pow = (g->ow - pkw) / psw + 1;
    const int plain = pkh == 1 && pkw == 1 && psh == 1 && psw == 1;
    const conv_plan p = conv_plan_of(g);
    const int cout = g->cout;
    for (int co = 0; co < cout; co += 2) {
        const int two = co + 1 < cout;
        const float b0 = bias ? bias[co] : 0.0f, b1 = bias && two ? bias[co + 1] : b0;
        const float *w0 = w + (size_t)co * p.K;
        const size_t wst = two ? p.K : 0;
        if (plain) {
            for (int oy = 0; oy < g->oh; oy++) {
                float *o = out + (size_t)oy * g->ow * cout + co;
                for (int ox = 0; ox < p.ox_lo; ox++, o += cout) {
                    float a[2] = {b0, b1};
                    conv_f32_one(g, in, w0, wst, oy, ox, a);
                    o[0] = relu_f32(a[0], relu);
                    if (two) o[1] = relu_f32(a[1], relu);
                }
                const blk_f32 b = blk_f32_of(g, &p, w0, wst, b0, b1, oy);
                const float *x = conv_f32_x(g, in, oy, p.ox_lo);
                int count = p.ox_hi - p.ox_lo;
                for (; count >= 2; count -= 2, x += 2 * p.dx, o += 2 * cout) {
                    float a[4];
                    blk_f32_2x2(&b, x, a);
                    o[0] = relu_f32(a[0], relu);
                    o[cout] = relu_f32(a[1], relu);
                    if (two) {
                        o[1] = relu_f32(a[2], relu);
                        o[cout + 1] = relu_f32(a[3], relu);
                    }
                }
                if (count > 0) {
                    float a[2];
                    blk_f32_1x2(&b, x, a);
                    o[0] = relu_f32(a[0], relu);
                    if (two) o[1] = relu_f32(a[1], relu);
                    o += cout;
                }
                for (int ox = p.ox_hi; ox < g->ow; ox++, o += cout) {
                    float a[2] = {b0, b1};
                    conv_f32_one(g, in, w0, wst, oy, ox, a);
                    o[0] = relu_f32(a[0], relu);
                    if (two) o[1] = relu_f32(a[1], relu);
                }
            }
            continue;
        }
        /* fused: windows one row high with interior columns step pointers, pairs of taps per
         * block; the others take conv_f32_window */
        int px_lo = (p.ox_lo + psw - 1) / psw,
            px_hi = p.ox_hi >= pkw ? (p.ox_hi - pkw) / psw + 1 : 0;
        if (px_hi > pow) px_hi = pow;
        if (px_lo > px_hi || pkh != 1) px_lo = px_hi = pow;
        for (int py = 0; py < poh; py++) {
            float *o = out + (size_t)py * pow * cout + co;
            int px = 0;
            for (; px < pow; px++, o += cout) {
                float m[2];
                if (px == px_lo && px < px_hi) {
                    const int oy = py * psh;
                    const blk_f32 b = blk_f32_of(g, &p, w0, wst, b0, b1, oy);
                    const float *x = conv_f32_x(g, in, oy, px * psw);
                    for (; px < px_hi; px++, o += cout, x += psw * p.dx) {
                        if (pkw == 2) { /* the common case: one block per window */
                            float a[4];
                            blk_f32_2x2(&b, x, a);
                            float u0 = relu_f32(a[0], relu), u1 = relu_f32(a[1], relu);
                            float v0 = relu_f32(a[2], relu), v1 = relu_f32(a[3], relu);
                            o[0] = u1 > u0 ? u1 : u0; /* first tap, then a strictly greater */
                            if (two) o[1] = v1 > v0 ? v1 : v0;
                            continue;
                        }
                        const float *xw = x;
                        int wx = 0;
                        float m0 = 0.0f, m1 = 0.0f;
                        for (; wx + 1 < pkw; wx += 2, xw += 2 * p.dx) {
                            float a[4];
                            blk_f32_2x2(&b, xw, a);
                            float u0 = relu_f32(a[0], relu), u1 = relu_f32(a[1], relu);
                            float v0 = relu_f32(a[2], relu), v1 = relu_f32(a[3], relu);
                            if (wx == 0 || u0 > m0) m0 = u0;
                            if (wx == 0 || v0 > m1) m1 = v0;
                            if (u1 > m0) m0 = u1;
                            if (v1 > m1) m1 = v1;
                        }
                        if (wx < pkw) {
                            float a[2];
                            blk_f32_1x2(&b, xw, a);
                            float u = relu_f32(a[0], relu), v = relu_f32(a[1], relu);
                            if (wx == 0 || u > m0) m0 = u;
                            if (wx == 0 || v > m1) m1 = v;
                        }
                        o[0] = m0;
                        if (two) o[1] = m1;
                    }
                    if (px >= pow) break;
                }
                conv_f32_window(g, &p, in, w0, wst, b0, b1, relu, pkh, pkw, py * psh, px * psw, m);
                o[0] = m[0];
                if (two) o[1] = m[1];
            }
        }
    }
}

void mf_rt_conv_f32_opt(const mf_rt_geom *g, const float *in, const float *w, const float *bias,
                        int relu, float *out)
{
    conv_f32_engine(g, 1, 1, 1, 1, in, w, bias, relu, out);
}

void mf_rt_conv_maxpool_f32_opt(const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh,
                                int pool_sw, const float *in, const float *w, const float *bias,
                                int relu, float *out)
{
    conv_f32_engine(conv, pool_kh, pool_kw, pool_sh, pool_sw, in, w, bias, relu, out);
}

/* dense float: outputs in pairs sharing the input loads, each sum bias first, then i ascending
 * (the reference's order), VMLA on the M4. */
void mf_rt_dense_f32_opt(int n_in, int n_out, const float *in, const float *w, const float *bias,
                         int relu, float *out)
{
    const size_t K = (size_t)(n_in > 0 ? n_in : 0);
    for (int o = 0; o < n_out; o += 2) {
        const int two = o + 1 < n_out;
        float a[2] = {bias ? bias[o] : 0.0f, bias && two ? bias[o + 1] : 0.0f};
        const float *w0 = w + (size_t)o * K;
        dot_f32_1x2((int)K, in, w0, two ? w0 + K : w0, a);
        out[o] = relu_f32(a[0], relu);
        if (two) out[o + 1] = relu_f32(a[1], relu);
    }
}

#endif /* MF_RT_OPT_F32 */
