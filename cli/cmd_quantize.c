/* mcuforge quantize MODEL.h5 --bits 16|8 [options] [key.sub=value ...] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "mf_config.h"
#include "mf_datasets.h"
#include "mf_model_io.h"
#include "mf_quantize.h"
#include "mf_runtime.h"
#include "mf_train.h"

static void quantize_usage(FILE *f)
{
    fprintf(
        f, "usage: mcuforge quantize MODEL.h5 --bits 16|8 [--per-channel] [--calibration N]\n"
           "                        [--rounding floor|half-up] [--force-n N] [--out PATH]\n"
           "                        [--qat [--epochs N] [--lr X]] [--threads T]\n"
           "                        [key.sub=value ...]\n\n"
           "Post-training quantization to power-of-two fixed point (DESIGN.md §13): folds\n"
           "batch-norm, fuses ReLUs, calibrates max|x| of every tensor on N training samples\n"
           "spread evenly over the split (default: all), picks formats (or forces n fractional\n"
           "bits everywhere, as MicroAI's int16 Q6.9 does with --force-n 9), and prints the\n"
           "test accuracy computed\n"
           "by the integer kernels themselves, beside the float model's, and a per-layer error\n"
           "report. Writes MODEL.q8.h5 / MODEL.q16.h5 (or --out).\n\n"
           "--qat fine-tunes after calibration for N epochs (default 3) with the model's own\n"
           "optimizer settings at learning rate X (default: a tenth of the config's), the forward\n"
           "pass computed by the integer kernels (straight-through gradients); the accuracy\n"
           "printed is again the integer kernels'.\n");
}

/* m samples of `per` floats taken evenly from n (all of them when m = n). */
static float *strided_copy(const float *x, int n, size_t per, int m)
{
    float *out = malloc(sizeof(float) * per * (size_t)(m ? m : 1));
    for (int k = 0; out && k < m; k++)
        memcpy(out + (size_t)k * per, x + (size_t)((long)k * n / m) * per, sizeof(float) * per);
    return out;
}

int quantize_model(const quantize_request *r, mf_error *err)
{
    float *cal = NULL, *report = NULL;
    mf_model *model = NULL;
    mf_config *cfg = NULL;
    mf_dataset *data = NULL;
    mf_qmodel *q = NULL;
    double *ranges = NULL;
    int *pred_f = NULL, *pred_q = NULL, rc = 1;
    mf_metrics mq = {0};
    model = mf_model_load(r->model_path, err);
    if (!model) goto done;
    if (!model->config_text) {
        mf_error_set(err, "%s has no embedded config: cannot find its dataset", r->model_path);
        goto done;
    }
    char origin[4200];
    snprintf(origin, sizeof origin, "%s (embedded config)", r->model_path);
    if (mf_config_load_text(model->config_text, origin, r->overrides, r->n_overrides,
                            MF_CONFIG_DATASET_ONLY, &cfg, err) ||
        mf_dataset_load(&cfg->dataset, stderr, &data, err))
        goto done;
    mf_dataset_apply_model(model, data);
    mf_model *folded = mf_fold_model(model, err);
    if (!folded) goto done;
    int n_cal =
        r->calibration > 0 && r->calibration < data->n_train ? r->calibration : data->n_train;
    /* evenly spaced over the training split: some datasets are stored sorted by class */
    cal = strided_copy(data->x_train, data->n_train, mf_model_input_size(model), n_cal);
    report = strided_copy(data->x_train, data->n_train, mf_model_input_size(model),
                          n_cal < 256 ? n_cal : 256);
    ranges = malloc(sizeof(double) * (size_t)folded->n_nodes);
    if (!cal || !report) mf_error_set(err, "out of memory");
    if (!cal || !report || !ranges || mf_calibrate(folded, cal, n_cal, r->threads, ranges, err)) {
        if (!ranges) mf_error_set(err, "out of memory");
        mf_model_free(folded);
        goto done;
    }
    if (r->mse && r->o.force_n < 0 &&
        mf_calibrate_mse(folded, cal, n_cal, r->o.bits, ranges, err)) {
        mf_model_free(folded);
        goto done;
    }
    q = mf_qmodel_build(folded, ranges, &r->o, err);
    if (!q) goto done;
    pred_f = malloc(sizeof(int) * (size_t)data->n_test);
    pred_q = malloc(sizeof(int) * (size_t)data->n_test);
    if (!pred_f || !pred_q) {
        mf_error_set(err, "out of memory");
        goto done;
    }
    /* the float reference (through the runtime float kernels) comes from the model as trained,
     * before any quantization-aware fine-tuning */
    if (mf_qexec_predict(NULL, q->model, data->x_test, data->n_test, r->threads, pred_f, err))
        goto done;
    if (r->qat) {
        mf_train_config tc = cfg->train;
        tc.epochs = r->qat_epochs;
        /* fine-tuning continues where the float schedule ended: a larger rate first undoes
         * the converged weights (measured on UCI-HAR: lr/10 loses 0.5-2 pt against PTQ) */
        tc.lr =
            r->qat_lr > 0 ? (float)r->qat_lr : mf_schedule_lr(&cfg->train, cfg->train.epochs - 1);
        tc.schedule = MF_SCHED_CONSTANT;
        tc.threads = r->threads;
        tc.progress = MF_PROGRESS_AUTO;
        mf_train_result res = {0};
        printf("quantization-aware training: %d epochs at lr %g (integer forward, "
               "straight-through backward)\n",
               tc.epochs, tc.lr);
        fflush(stdout);
        int qrc = mf_qat(q, &tc, data, stdout, &res, err);
        free(res.history);
        if (qrc) goto done;
    }
    if (mf_qexec_predict(q, NULL, data->x_test, data->n_test, r->threads, pred_q, err)) goto done;
    long ok_f = 0, ok_q = 0, agree = 0;
    for (int i = 0; i < data->n_test; i++) {
        ok_f += pred_f[i] == data->y_test[i];
        ok_q += pred_q[i] == data->y_test[i];
        agree += pred_f[i] == pred_q[i];
    }
    int n_rep = n_cal < 256 ? n_cal : 256;
    if (mf_quant_report(q, report, n_rep, stdout, err)) goto done;
    if (mf_metrics_compute(data->y_test, pred_q, data->n_test, data->classes, &mq, err)) goto done;
    printf("test split, int%d (integer kernels):\n", r->o.bits);
    mf_metrics_print(stdout, &mq, (const char(*)[MF_LABEL_MAX])model->class_names);
    printf("float32 %.2f %% (%ld / %d), int%d %.2f %% (%ld / %d): %+.2f pt, %ld more "
           "misclassified; predictions agree on %.2f %%\n",
           100.0 * ok_f / data->n_test, ok_f, data->n_test, r->o.bits, 100.0 * ok_q / data->n_test,
           ok_q, data->n_test, 100.0 * (ok_q - ok_f) / data->n_test, ok_f - ok_q,
           100.0 * agree / data->n_test);
    if (mf_qmodel_save(q, r->out_path, err)) goto done;
    printf("quantized model saved to %s\n", r->out_path);
    rc = 0;
done:
    mf_metrics_free(&mq);
    free(pred_f);
    free(pred_q);
    free(ranges);
    free(cal);
    free(report);
    mf_qmodel_free(q);
    mf_dataset_free(data);
    mf_config_free(cfg);
    mf_model_free(model);
    return rc ? MF_ERR : MF_OK;
}

int cmd_quantize(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        quantize_usage(stdout);
        return 0;
    }
    const char *model_path = NULL, *out_path = NULL;
    mf_quant_options o = {0, MF_RT_ROUND_HALF_UP, 0, -1};
    int calibration = 0, threads = 2, qat = 0, qat_epochs = 3, mse = 0;
    double qat_lr = 0.0;
    char **overrides = calloc((size_t)argc, sizeof *overrides);
    int n_overrides = 0, usage = 0;
    if (!overrides) return 1;
    for (int i = 1; i < argc && !usage; i++) {
        const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--bits") && next)
            o.bits = atoi(argv[++i]);
        else if (!strcmp(a, "--range") && next) {
            const char *r = argv[++i];
            if (!strcmp(r, "mse"))
                mse = 1;
            else if (strcmp(r, "max"))
                usage = 1;
        } else if (!strcmp(a, "--qat"))
            qat = 1;
        else if (!strcmp(a, "--epochs") && next)
            qat_epochs = atoi(argv[++i]);
        else if (!strcmp(a, "--lr") && next)
            qat_lr = atof(argv[++i]);
        else if (!strcmp(a, "--per-channel"))
            o.per_channel = 1;
        else if (!strcmp(a, "--calibration") && next)
            calibration = atoi(argv[++i]);
        else if (!strcmp(a, "--force-n") && next)
            o.force_n = atoi(argv[++i]);
        else if (!strcmp(a, "--threads") && next)
            threads = atoi(argv[++i]);
        else if (!strcmp(a, "--out") && next)
            out_path = argv[++i];
        else if (!strcmp(a, "--rounding") && next) {
            const char *r = argv[++i];
            if (!strcmp(r, "floor"))
                o.rounding = MF_RT_ROUND_FLOOR;
            else if (!strcmp(r, "half-up"))
                o.rounding = MF_RT_ROUND_HALF_UP;
            else
                usage = 1;
        } else if (a[0] != '-' && strchr(a, '='))
            overrides[n_overrides++] = argv[i];
        else if (a[0] != '-' && !model_path)
            model_path = a;
        else
            usage = 1;
    }
    if (usage || !model_path || (o.bits != 8 && o.bits != 16) || calibration < 0 || threads < 1 ||
        threads > 64) {
        fprintf(stderr, "mcuforge quantize: %s\n",
                !model_path ? "name a model file" : "--bits must be 8 or 16 (see --help)");
        quantize_usage(stderr);
        free(overrides);
        return 2;
    }
    char default_out[4200];
    if (!out_path) {
        size_t len = strlen(model_path);
        int h5 = len > 3 && !strcmp(model_path + len - 3, ".h5");
        snprintf(default_out, sizeof default_out, "%.*s.q%d.h5", (int)(h5 ? len - 3 : len),
                 model_path, o.bits);
        out_path = default_out;
    }
    quantize_request req = {model_path, out_path, o,       calibration, mse,        qat,
                            qat_epochs, qat_lr,   threads, overrides,   n_overrides};
    mf_error err;
    mf_error_clear(&err);
    int rc = quantize_model(&req, &err) == MF_OK ? 0 : 1;
    if (rc) cli_fail(&err);
    free(overrides);
    return rc;
}
