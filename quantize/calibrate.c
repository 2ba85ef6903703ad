/* Calibration: max |x| of every node's output (after fused ReLUs) and of the input, from an
 * inference pass of the folded float model. */
#include <math.h>
#include <stdlib.h>

#include "mf_quantize.h"

/* The ops whose output format is chosen from a calibrated range (the lowering's quantization
 * rule): weighted layers and adds; the others keep their input's. */
static int calibrated(mf_op op)
{
    mf_qrule r = mf_lower_qrule(op);
    return r == MF_QRULE_WEIGHTED || r == MF_QRULE_CALIBRATED;
}

int mf_calibrate(const mf_model *folded, const float *x, int n, int threads, double *ranges,
                 mf_error *err)
{
    (void)threads; /* one workspace: calibration is a single pass, not worth the threads */
    const int batch = 256;
    mf_workspace *ws = mf_workspace_new(folded, batch, 0, err);
    if (!ws) return MF_ERR;
    size_t in = mf_model_input_size(folded);
    for (int i = 0; i < folded->n_nodes; i++)
        ranges[i] = 0.0;
    for (int start = 0; start < n; start += batch) {
        int cnt = n - start < batch ? n - start : batch;
        const float *xb = x + (size_t)start * in;
        mf_forward(ws, folded->params, folded->state, xb, cnt, 0, 0, start);
        for (int i = 0; i < folded->n_nodes; i++) {
            const float *y = i == 0 ? xb : mf_workspace_output(ws, i);
            size_t total = (size_t)cnt * mf_shape_size(&folded->nodes[i].out_shape);
            double r = ranges[i];
            for (size_t e = 0; e < total; e++) {
                double v = fabs((double)y[e]);
                if (v > r) r = v;
            }
            ranges[i] = r;
        }
    }
    mf_workspace_free(ws);
    return MF_OK;
}

/* MSE range setting: for each tensor whose format is chosen from its range (the input, conv,
 * dense, add), try the max-range format n0 and the finer n0+1 … n0+3 (which clip the largest
 * values), and keep the one with the least squared error over the calibration samples. The
 * choice is written back as an equivalent range so format selection stays in one place. */
int mf_calibrate_mse(const mf_model *folded, const float *x, int n, int bits, double *ranges,
                     mf_error *err)
{
    enum { CANDIDATES = 4 };
    const int batch = 256;
    int nodes = folded->n_nodes;
    double *sse = calloc((size_t)nodes * CANDIDATES, sizeof(double));
    mf_workspace *ws = sse ? mf_workspace_new(folded, batch, 0, err) : NULL;
    if (!ws) {
        free(sse);
        return sse ? MF_ERR : mf_error_set(err, "out of memory");
    }
    size_t in = mf_model_input_size(folded);
    const double hi = ldexp(1.0, bits - 1) - 1.0, lo = -hi - 1.0;
    for (int start = 0; start < n; start += batch) {
        int cnt = n - start < batch ? n - start : batch;
        const float *xb = x + (size_t)start * in;
        mf_forward(ws, folded->params, folded->state, xb, cnt, 0, 0, start);
        for (int i = 0; i < nodes; i++) {
            mf_op op = folded->nodes[i].spec.op;
            if (i > 0 && !calibrated(op)) continue;
            const float *y = i == 0 ? xb : mf_workspace_output(ws, i);
            size_t total = (size_t)cnt * mf_shape_size(&folded->nodes[i].out_shape);
            int n0 = mf_qformat_from_range(ranges[i], bits);
            for (int c = 0; c < CANDIDATES; c++) {
                double scale = ldexp(1.0, n0 + c), sum = 0.0;
                for (size_t e = 0; e < total; e++) {
                    double q = round(y[e] * scale);
                    q = q > hi ? hi : q < lo ? lo : q;
                    double d = q / scale - y[e];
                    sum += d * d;
                }
                sse[(size_t)i * CANDIDATES + c] += sum;
            }
        }
    }
    for (int i = 0; i < nodes; i++) {
        mf_op op = folded->nodes[i].spec.op;
        if (i > 0 && !calibrated(op)) continue;
        if (!(ranges[i] > 0.0)) continue;
        int n0 = mf_qformat_from_range(ranges[i], bits), best = 0;
        for (int c = 1; c < CANDIDATES; c++)
            if (sse[(size_t)i * CANDIDATES + c] < sse[(size_t)i * CANDIDATES + best]) best = c;
        /* the range whose max-format is n0 + best: 2^(bits − 2 − n) */
        ranges[i] = ldexp(1.0, bits - 2 - (n0 + best));
    }
    mf_workspace_free(ws);
    free(sse);
    return MF_OK;
}
