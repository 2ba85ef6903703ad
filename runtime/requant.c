/* Requantization of an accumulator to an int8 or int16 output (DESIGN.md §13).
 *
 * Semantics, for an accumulator `acc` (an exact integer) and s = shift = n_acc − n_out:
 *   s > 0, floor:    floor(acc / 2^s)                 (= acc >> s with an arithmetic shift)
 *   s > 0, half-up:  floor((acc + 2^(s−1)) / 2^s)     (= (acc + (1 << (s − 1))) >> s, computed
 *                                                      without overflow, ties go up: +∞)
 *   s = 0:           acc
 *   s < 0:           acc · 2^(−s), saturated
 *   then saturate to the output type; relu != 0 then clamps at 0.
 * These are exact integer functions for every int shift, also s ≥ 31 / 63 (floor gives 0 or −1,
 * half-up gives 0) and s ≤ −31 (any non-zero acc saturates). Any rounding value other than
 * MF_RT_ROUND_HALF_UP means floor.
 *
 * Portability: the code never right-shifts a negative value and never left-shifts at all, so
 * it relies on no implementation-defined behaviour and has no undefined behaviour. gcc -O2
 * compiles the floor form below to a single arithmetic shift (checked with gcc 12, x86-64). */
#include "mf_runtime.h"

/* floor(acc / 2^s), 1 ≤ s ≤ 31. For acc < 0, with a = −1 − acc ≥ 0 (no overflow, even for
 * INT32_MIN): floor(acc / d) = floor((−1 − a) / d) = −ceil((a + 1) / d) = −1 − floor(a / d). */
static int32_t shr_floor_s32(int32_t acc, int s)
{
    if (acc >= 0) return acc >> s;
    return -1 - ((-1 - acc) >> s);
}

static int64_t shr_floor_s64(int64_t acc, int s) /* 1 ≤ s ≤ 63, same derivation */
{
    if (acc >= 0) return acc >> s;
    return -1 - ((-1 - acc) >> s);
}

/* Half-up without the overflow of acc + 2^(s−1): write acc = q·2^s + r with q = floor(acc/2^s)
 * and 0 ≤ r < 2^s; then floor((acc + 2^(s−1)) / 2^s) = q + floor((r + 2^(s−1)) / 2^s)
 * = q + [r ≥ 2^(s−1)], and r ≥ 2^(s−1) exactly when bit s−1 of r is set. r is the low s bits of
 * acc in two's complement, i.e. of (uint32_t)acc (a conversion defined modulo 2^32). q + 1
 * cannot overflow: q ≤ (2^31 − 1) / 2 for s ≥ 1. */
static int32_t shr_s32(int32_t acc, int s, int rounding)
{
    if (s >= 32) {
        /* |acc| ≤ 2^31 ≤ 2^(s−1): floor gives −1 or 0, and acc + 2^(s−1) ∈ [0, 2^s) gives 0 */
        if (rounding == MF_RT_ROUND_HALF_UP) return 0;
        return acc < 0 ? -1 : 0;
    }
    int32_t q = shr_floor_s32(acc, s);
    if (rounding == MF_RT_ROUND_HALF_UP) q += (int32_t)(((uint32_t)acc >> (s - 1)) & 1u);
    return q;
}

static int64_t shr_s64(int64_t acc, int s, int rounding)
{
    if (s >= 64) {
        if (rounding == MF_RT_ROUND_HALF_UP) return 0;
        return acc < 0 ? -1 : 0;
    }
    int64_t q = shr_floor_s64(acc, s);
    if (rounding == MF_RT_ROUND_HALF_UP) q += (int64_t)(((uint64_t)acc >> (s - 1)) & 1u);
    return q;
}

/* clamp(acc · 2^k, lo, hi) for k = −shift ≥ 1 and lo < 0 < hi ≤ 2^15. Saturating the shift to
 * the accumulator type first and then to [lo, hi] gives the same value, since [lo, hi] lies
 * inside the accumulator's range. acc·2^k ≤ hi ⇔ acc ≤ floor(hi/2^k) = hi >> k, and
 * acc·2^k ≥ lo ⇔ acc ≥ ceil(lo/2^k) = −((−lo) >> k); the product is formed only when it is
 * known to lie in [lo, hi], so it cannot overflow. shift is not negated before the k ≥ 31 test
 * (−INT_MIN would overflow). */
static int32_t shl_sat_s32(int32_t acc, int shift, int32_t lo, int32_t hi)
{
    if (acc == 0) return 0;
    if (shift <= -31) return acc > 0 ? hi : lo; /* |acc|·2^k ≥ 2^31 > hi, −lo */
    int k = -shift;
    if (acc > (hi >> k)) return hi;
    if (acc < -((-lo) >> k)) return lo;
    return acc * ((int32_t)1 << k);
}

static int64_t shl_sat_s64(int64_t acc, int shift, int64_t lo, int64_t hi)
{
    if (acc == 0) return 0;
    if (shift <= -31) return acc > 0 ? hi : lo;
    int k = -shift;
    if (acc > (hi >> k)) return hi;
    if (acc < -((-lo) >> k)) return lo;
    return acc * ((int64_t)1 << k);
}

int8_t mf_rt_requant_s32(int32_t acc, int shift, int relu, int rounding)
{
    int32_t v;
    if (shift > 0)
        v = shr_s32(acc, shift, rounding);
    else if (shift < 0)
        v = shl_sat_s32(acc, shift, INT8_MIN, INT8_MAX);
    else
        v = acc;
    if (v > INT8_MAX) v = INT8_MAX;
    if (v < INT8_MIN) v = INT8_MIN;
    if (relu && v < 0) v = 0;
    return (int8_t)v;
}

int16_t mf_rt_requant_s64(int64_t acc, int shift, int relu, int rounding)
{
    int64_t v;
    if (shift > 0)
        v = shr_s64(acc, shift, rounding);
    else if (shift < 0)
        v = shl_sat_s64(acc, shift, INT16_MIN, INT16_MAX);
    else
        v = acc;
    if (v > INT16_MAX) v = INT16_MAX;
    if (v < INT16_MIN) v = INT16_MIN;
    if (relu && v < 0) v = 0;
    return (int16_t)v;
}
