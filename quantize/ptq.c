/* Post-training quantization, the one policy every caller uses (quantize, deploy of a float
 * model, run, the benchmarks): fold, calibrate on a subset spread evenly over the samples, pick
 * formats from max ranges (or the MSE search), quantize. */
#include <stdlib.h>
#include <string.h>

#include "mf_quantize.h"

float *mf_ptq_subset(const float *x, int n, size_t per, int m)
{
    float *out = malloc(sizeof(float) * per * (size_t)(m > 0 ? m : 1));
    for (int k = 0; out && k < m; k++)
        memcpy(out + (size_t)k * per, x + (size_t)((long)k * n / m) * per, sizeof(float) * per);
    return out;
}

mf_qmodel *mf_ptq(const mf_model *model, const float *x, int n, const mf_ptq_options *o,
                  mf_error *err)
{
    if (n < 1) {
        mf_error_set(err, "post-training quantization needs calibration samples (got %d)", n);
        return NULL;
    }
    if (o->calibration < 0) {
        mf_error_set(err, "calibration sample count %d is negative", o->calibration);
        return NULL;
    }
    mf_model *folded = mf_fold_model(model, err);
    if (!folded) return NULL;
    /* evenly spaced over the samples: some datasets are stored sorted by class */
    int n_cal = o->calibration > 0 && o->calibration < n ? o->calibration : n;
    float *cal = mf_ptq_subset(x, n, mf_model_input_size(model), n_cal);
    double *ranges = malloc(sizeof(double) * (size_t)folded->n_nodes);
    if (!cal || !ranges) {
        mf_error_set(err, "out of memory calibrating");
        goto fail;
    }
    if (mf_calibrate(folded, cal, n_cal, o->threads > 0 ? o->threads : 1, ranges, err)) goto fail;
    if (o->mse && o->q.force_n < 0 && mf_calibrate_mse(folded, cal, n_cal, o->q.bits, ranges, err))
        goto fail;
    mf_qmodel *q = mf_qmodel_build(folded, ranges, &o->q, err); /* owns folded */
    if (q) {
        q->range_method = o->mse && o->q.force_n < 0 ? 2 : 1;
        q->calibration_samples = n_cal;
    }
    free(cal);
    free(ranges);
    return q;
fail:
    free(cal);
    free(ranges);
    mf_model_free(folded);
    return NULL;
}
