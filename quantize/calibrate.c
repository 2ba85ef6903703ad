/* Calibration: max |x| of every node's output (after fused ReLUs) and of the input, from an
 * inference pass of the folded float model. */
#include <math.h>
#include <stdlib.h>

#include "mf_quantize.h"

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
