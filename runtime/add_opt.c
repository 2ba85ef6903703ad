/* Element-wise add, optimized paths (mf_rt_dsp.h). Bit-identical to add.c's reference.
 *
 * int8 / int16: 4 (2) elements per 32-bit word, in the input's own lanes, with the lane-wise
 * saturating add QADD8 (QADD16) and the halving add / subtract SHADD8 / SHSUB8 (…16), which form
 * floor((x ± y) / 2) exactly (one bit wider inside the instruction). Write x = a, y = b, L = the
 * lane width, sat() = saturation to L bits. First the common factor 2^min(align_a, align_b)
 * leaves both alignments and the shift: the operand with alignment 0 is x, the other y with
 * d = |align_a − align_b|, s = shift − min(align_a, align_b); the reference's value is then
 *   v = sat(floor((x + 2^d·y + rc) / 2^s)), rc = 2^(s−1) for half-up (else 0), when s ≥ 1,
 *   v = sat((x + 2^d·y) · 2^−s)                                                when s ≤ 0
 * (a common factor 2^m of the aligned sum and of rc changes neither the quotient nor the
 * saturated product). Every step below is exact on L-bit lanes:
 *   halving:  h(t, r) = floor((t + r) / 2), r ∈ {0, 1}: SHSUB(t, −r) (−r = 0 or all ones);
 *             k halvings, the last with r: floor((t + r·2^(k−1)) / 2^k) (nested floors).
 *   s ≥ d, e = s − d: rc is a multiple of 2^d when e ≥ 1, so
 *     floor((x + 2^d·y + rc) / 2^s) = floor((floor(x / 2^d) + y + rc / 2^d) / 2^e):
 *     e = 0: sat(y + floor((x + rc) / 2^d)): d halvings of x (the last rounding for half-up),
 *            then QADD with y (the sum of two lanes, saturated once);
 *     e ≥ 1: d floor halvings of x → p, then floor((p + y) / 2) (SHADD), or for half-up with
 *            e = 1 floor((p + y + 1) / 2) = SHSUB(p, ~y) (~y = −y − 1), then e − 1 halvings,
 *            the last rounding for half-up. Each result lies in the lane's range (a halved sum
 *            of two lanes), so the reference's saturation does nothing.
 *   s < d: p = floor((x + rc) / 2^s) (s ≥ 0, as above) or p = x (s < 0), then q = 2^(d−max(s,0))
 *     saturating adds of y: sat(p + q·y) (all of them move the same way, so once saturated the
 *     lane stays at the bound the exact sum exceeds), then −s saturating doublings
 *     (sat(2·sat(t)) = sat(2t)) when s < 0.
 *   ReLU: the lane-wise maximum with 0 (SSUB8 / SSUB16 + SEL), after the saturation as in the
 *     reference; without ReLU the same maximum with the lane minimum (no branch in the loop).
 * The usual plans (s = d ≤ 2; d = 0 and s = 1 half-up) have their own loops with the step
 * counts known at compile time; the rest run one loop with counts. Plans with s > 16, q > 8 or more
 * than 16 doublings, the elements after the last whole word, and nothing else, take the reference's
 * per-element requantization (mf_rt_requant_s32 / _s64). float: a + b, ReLU, unchanged.
 * `out` may be `a` or `b`: each word is read before it is written. */
#include "mf_rt_dsp.h"

#if defined(MF_RT_OPT_INT)

static int add_clamp_align(int align, int max)
{
    return align < 0 ? 0 : align > max ? max : align;
}

/* The steps of one word (see the header): ha halvings of x, the last one rounding with ra;
 * nq saturating adds of y; a halving combine (hc = 1: SHADD(t, y), 2: SHSUB(t, ~y)); ht
 * halvings, the last one rounding with rt; dbl saturating doublings; the maximum with z. */
typedef struct {
    int ha, nq, hc, ht, dbl, swap;
    uint32_t ra, rt, z;
} add_plan;

/* The plan for aligned inputs (clamped alignments), or 0 when the reference must run. */
static int add_plan_make(int la, int lb, const mf_rt_requant *rq, int w16, add_plan *p)
{
    const int m = la < lb ? la : lb, d = la > lb ? la - lb : lb - la;
    if (rq->shift < -64 || rq->shift > 64) return 0;
    const int s = rq->shift - m;
    const uint32_t r = rq->rounding == MF_RT_ROUND_HALF_UP ? 0xFFFFFFFFu : 0;
    *p = (add_plan){0, 0, 0, 0, 0, la > lb, 0, 0, 0};
    p->z = rq->relu ? 0 : w16 ? 0x80008000u : 0x80808080u;
    if (s >= d) {
        if (s > 16) return 0;
        const int e = s - d;
        p->ha = d;
        if (e == 0)
            p->ra = r, p->nq = 1;
        else
            p->hc = e == 1 && r ? 2 : 1, p->ht = e - 1, p->rt = r;
        return 1;
    }
    const int h = s > 0 ? s : 0;
    if (d - h > 3 || s < -16) return 0;
    p->ha = h, p->ra = r, p->nq = 1 << (d - h), p->dbl = s < 0 ? -s : 0;
    return 1;
}

/* One word's steps; the counts are constants in the specialized loops. */
MF_RT_INLINE uint32_t add_word(uint32_t x, uint32_t y, const add_plan *p, int w16, int ha, int nq,
                               int hc, int ht, int dbl)
{
    for (int i = 1; i < ha; i++)
        x = w16 ? mf_shsub16(x, 0) : mf_shsub8(x, 0);
    if (ha > 0) x = w16 ? mf_shsub16(x, p->ra) : mf_shsub8(x, p->ra);
    for (int i = 0; i < nq; i++)
        x = w16 ? mf_qadd16(x, y) : mf_qadd8(x, y);
    if (hc == 1) x = w16 ? mf_shadd16(x, y) : mf_shadd8(x, y);
    if (hc == 2) x = w16 ? mf_shsub16(x, ~y) : mf_shsub8(x, ~y);
    for (int i = 1; i < ht; i++)
        x = w16 ? mf_shsub16(x, 0) : mf_shsub8(x, 0);
    if (ht > 0) x = w16 ? mf_shsub16(x, p->rt) : mf_shsub8(x, p->rt);
    for (int i = 0; i < dbl; i++)
        x = w16 ? mf_qadd16(x, x) : mf_qadd8(x, x);
    return w16 ? mf_max_s16x2(x, p->z) : mf_max_s8x4(x, p->z);
}

MF_RT_INLINE void add_loop(size_t words, const char *x, const char *y, char *out, const add_plan *p,
                           int w16, int ha, int nq, int hc, int ht, int dbl)
{
    for (size_t i = 0; i < words; i++, x += 4, y += 4, out += 4)
        mf_st32(out, add_word(mf_ld32(x), mf_ld32(y), p, w16, ha, nq, hc, ht, dbl));
}

/* The whole words of both widths: the specialized loops, else the one with counts. */
MF_RT_INLINE void add_words(size_t words, const void *a, const void *b, void *out,
                            const add_plan *p, int w16)
{
    const char *x = p->swap ? b : a, *y = p->swap ? a : b;
    if (p->nq == 1 && p->ha <= 2 && !p->hc && !p->ht && !p->dbl) {
        if (p->ha == 0) add_loop(words, x, y, out, p, w16, 0, 1, 0, 0, 0);
        if (p->ha == 1) add_loop(words, x, y, out, p, w16, 1, 1, 0, 0, 0);
        if (p->ha == 2) add_loop(words, x, y, out, p, w16, 2, 1, 0, 0, 0);
    } else if (p->hc == 2 && !p->ha && !p->ht && !p->dbl) {
        add_loop(words, x, y, out, p, w16, 0, 0, 2, 0, 0);
    } else {
        add_loop(words, x, y, out, p, w16, p->ha, p->nq, p->hc, p->ht, p->dbl);
    }
}

void mf_rt_add_s16_opt(size_t n, const int16_t *a, int align_a, const int16_t *b, int align_b,
                       const mf_rt_requant *rq, int16_t *out)
{
    const int la = add_clamp_align(align_a, 47), lb = add_clamp_align(align_b, 47);
    size_t i = 0;
    add_plan p;
    if (add_plan_make(la, lb, rq, 1, &p)) {
        i = n & ~(size_t)1;
        add_words(n / 2, a, b, out, &p, 1);
    }
    const int64_t ma = (int64_t)1 << la, mb = (int64_t)1 << lb;
    for (; i < n; i++)
        out[i] = mf_rt_requant_s64(a[i] * ma + b[i] * mb, rq->shift, rq->relu, rq->rounding);
}

void mf_rt_add_s8_opt(size_t n, const int8_t *a, int align_a, const int8_t *b, int align_b,
                      const mf_rt_requant *rq, int8_t *out)
{
    const int la = add_clamp_align(align_a, 23), lb = add_clamp_align(align_b, 23);
    size_t i = 0;
    add_plan p;
    if (add_plan_make(la, lb, rq, 0, &p)) {
        i = n & ~(size_t)3;
        add_words(n / 4, a, b, out, &p, 0);
    }
    const int32_t ma = (int32_t)1 << la, mb = (int32_t)1 << lb;
    for (; i < n; i++)
        out[i] = mf_rt_requant_s32(a[i] * ma + b[i] * mb, rq->shift, rq->relu, rq->rounding);
}

#endif /* MF_RT_OPT_INT */

#if defined(MF_RT_OPT_F32)
void mf_rt_add_f32_opt(size_t n, const float *a, const float *b, int relu, float *out)
{
    if (relu)
        for (size_t i = 0; i < n; i++) {
            float v = a[i] + b[i];
            out[i] = v < 0.0f ? 0.0f : v;
        }
    else
        for (size_t i = 0; i < n; i++)
            out[i] = a[i] + b[i];
}
#endif
