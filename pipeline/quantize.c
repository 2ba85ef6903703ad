/* The quantization step of the pipeline: a float model file → a quantized model file, with the
 * accuracy of the integer program (the lowered program on the host) against the float one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mf_model_io.h"
#include "mf_pipeline.h"
#include "mf_train.h"

int mf_pipeline_quantize(const mf_quantize_request *r, FILE *log, mf_error *err)
{
    float *report = NULL;
    mf_model *model = NULL;
    mf_config *cfg = NULL;
    mf_dataset *data = NULL;
    mf_qmodel *q = NULL;
    int *pred_f = NULL, *pred_q = NULL, rc = 1;
    const int bits = r->ptq.q.bits, threads = r->ptq.threads > 0 ? r->ptq.threads : 1;
    mf_metrics mq = {0};
    if (mf_pipeline_model_data(r->model_path, r->overrides, r->n_overrides, log, &model, &cfg,
                               &data, err))
        goto done;
    q = mf_ptq(model, data->x_train, data->n_train, &r->ptq, err);
    if (!q) goto done;
    int n_cal = r->ptq.calibration > 0 && r->ptq.calibration < data->n_train ? r->ptq.calibration
                                                                             : data->n_train;
    int n_rep = n_cal < 256 ? n_cal : 256;
    report = mf_ptq_subset(data->x_train, data->n_train, mf_model_input_size(model), n_rep);
    if (!report) {
        mf_error_set(err, "out of memory");
        goto done;
    }
    pred_f = malloc(sizeof(int) * (size_t)data->n_test);
    pred_q = malloc(sizeof(int) * (size_t)data->n_test);
    if (!pred_f || !pred_q) {
        mf_error_set(err, "out of memory");
        goto done;
    }
    /* the float reference (through the runtime float kernels) comes from the model as trained,
     * before any quantization-aware fine-tuning */
    if (mf_qexec_predict(NULL, q->model, data->x_test, data->n_test, threads, pred_f, err))
        goto done;
    if (r->qat) {
        mf_train_config tc = cfg->train;
        tc.epochs = r->qat_epochs;
        /* fine-tuning continues where the float schedule ended: a larger rate first undoes
         * the converged weights (measured on UCI-HAR: lr/10 loses 0.5-2 pt against PTQ) */
        tc.lr =
            r->qat_lr > 0 ? (float)r->qat_lr : mf_schedule_lr(&cfg->train, cfg->train.epochs - 1);
        tc.schedule = MF_SCHED_CONSTANT;
        tc.threads = threads;
        tc.progress = MF_PROGRESS_AUTO;
        mf_train_result res = {0};
        if (log) {
            fprintf(log,
                    "quantization-aware training: %d epochs at lr %g (integer forward, "
                    "straight-through backward)\n",
                    tc.epochs, tc.lr);
            fflush(log);
        }
        int qrc = mf_qat(q, &tc, data, log, &res, err);
        free(res.history);
        if (qrc) goto done;
    }
    if (mf_qexec_predict(q, NULL, data->x_test, data->n_test, threads, pred_q, err)) goto done;
    long ok_f = 0, ok_q = 0, agree = 0;
    for (int i = 0; i < data->n_test; i++) {
        ok_f += pred_f[i] == data->y_test[i];
        ok_q += pred_q[i] == data->y_test[i];
        agree += pred_f[i] == pred_q[i];
    }
    if (log && mf_quant_report(q, report, n_rep, log, err)) goto done;
    if (mf_metrics_compute(data->y_test, pred_q, data->n_test, data->classes, &mq, err)) goto done;
    if (log) {
        fprintf(log, "test split, int%d (integer kernels):\n", bits);
        mf_metrics_print(log, &mq, (const char(*)[MF_LABEL_MAX])model->class_names);
        fprintf(log,
                "float32 %.2f %% (%ld / %d), int%d %.2f %% (%ld / %d): %+.2f pt, %ld more "
                "misclassified; predictions agree on %.2f %%\n",
                100.0 * ok_f / data->n_test, ok_f, data->n_test, bits, 100.0 * ok_q / data->n_test,
                ok_q, data->n_test, 100.0 * (ok_q - ok_f) / data->n_test, ok_f - ok_q,
                100.0 * agree / data->n_test);
    }
    if (mf_qmodel_save(q, r->out_path, err)) goto done;
    if (log) fprintf(log, "quantized model saved to %s\n", r->out_path);
    rc = 0;
done:
    mf_metrics_free(&mq);
    free(pred_f);
    free(pred_q);
    free(report);
    mf_qmodel_free(q);
    mf_dataset_free(data);
    mf_config_free(cfg);
    mf_model_free(model);
    return rc ? MF_ERR : MF_OK;
}
