#include <math.h>
#include <stdint.h>

#include "mf_quantize.h"

int mf_qformat_from_range(double r, int bits)
{
    if (!(r > 0.0) || !isfinite(r)) return bits - 1;
    int m = (int)floor(log2(r)) + 1;
    return bits - 1 - m;
}

int64_t mf_quantize_value(double x, int n, int bits)
{
    /* bits = 64 (int16 biases) would overflow the shift */
    const int64_t hi = bits >= 64 ? INT64_MAX : ((int64_t)1 << (bits - 1)) - 1, lo = -hi - 1;
    double v = ldexp(x, n);
    if (!(v < (double)hi)) return isnan(v) ? 0 : hi;
    if (!(v > (double)lo)) return lo;
    return (int64_t)llround(v);
}
