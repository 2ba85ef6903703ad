/* int8 dense layer on pruned weights (mf_runtime.h mf_rt_dense_sparse_s8): per output, its start
 * and the products of its nonzero weights with the inputs they name, in int32 (exact: the same
 * sum as the dense kernel's in another order), then the reference requantization. One C path
 * for host and target: per nonzero weight a halfword index, a byte of input at that index, a
 * byte of weight and a multiply-add, four at a time. */
#include "mf_runtime.h"

void mf_rt_dense_sparse_s8(int n_in, int n_out, const int8_t *in, const uint16_t *idx,
                           const int8_t *w, const int32_t *bias, const mf_rt_requant *rq,
                           int8_t *out)
{
    (void)n_in; /* the indices are below it (the lowering builds them) */
    for (int o = 0; o < n_out; o++) {
        int n = *idx++;
        int32_t a = bias ? bias[o] : 0, b = 0;
        for (; n >= 4; n -= 4, idx += 4, w += 4) {
            a += (int32_t)in[idx[0]] * w[0];
            b += (int32_t)in[idx[1]] * w[1];
            a += (int32_t)in[idx[2]] * w[2];
            b += (int32_t)in[idx[3]] * w[3];
        }
        for (; n > 0; n--)
            a += (int32_t)in[*idx++] * *w++;
        const int shift = rq->shifts ? rq->shifts[o] : rq->shift;
        out[o] = mf_rt_requant_s32(a + b, shift, rq->relu, rq->rounding);
    }
}
