/* mcuforge eval MODEL.h5 [--config CONFIG.yaml] [--split test|val|train] [--samples N]
 *               [--dump PATH] [key.sub=value ...] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "mf_config.h"
#include "mf_datasets.h"
#include "mf_model_io.h"
#include "mf_outputs.h"
#include "mf_quantize.h"
#include "mf_train.h"

static void eval_usage(FILE *f)
{
    fprintf(f,
            "usage: mcuforge eval MODEL.h5 [--config CONFIG.yaml] [--split test|val|train]\n"
            "                    [--samples N] [--dump PATH] [--threads T] [key.sub=value ...]\n\n"
            "Evaluates a model on a split of its dataset (default: test) and prints the\n"
            "accuracy, the per-class accuracy and the confusion matrix. The dataset comes from\n"
            "the config embedded in the model file, or from --config; overrides such as\n"
            "dataset.path=/my/copy change it. The model's own input normalisation is applied.\n"
            "--threads T: 1 to 64 (default 2).\n"
            "--samples N: only the first N samples of the split (1 to 16777216; default all).\n"
            "--dump PATH: writes the per-sample outputs as CSV (index, label, pred, raw outputs,\n"
            "logits: the columns of outputs.csv of deploy --run), computed by the runtime\n"
            "kernels as the firmware runs them: the integer program of a quantized model, the\n"
            "folded float program (runtime float32 kernels) of a float model. deploy's vectors\n"
            "are the first N of the test split, so `eval --dump P --samples N` gives the rows\n"
            "of `deploy --vectors N --run` (README \"Reports\").\n");
}

/* --dump: the per-sample outputs of the runtime kernels (mf_outputs.h) */
static int dump_outputs(const mf_qmodel *q, const mf_model *model, const float *x, const int *y,
                        int n, const char *path, mf_error *err)
{
    mf_outputs o;
    if (mf_outputs_host(q, q ? NULL : model, x, y, n, &o, err)) return MF_ERR;
    int rc = mf_outputs_write_csv(&o, path, err);
    if (!rc)
        printf("per-sample outputs of %d samples (%s) written to %s\n", n,
               q ? (q->bits == 8 ? "int8" : "int16") : "float32", path);
    mf_outputs_free(&o);
    return rc;
}

int cmd_eval(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        eval_usage(stdout);
        return 0;
    }
    static const char verb[] = "eval";
    const char *model_path = NULL, *config_path = NULL, *split = "test", *dump_path = NULL;
    int threads = 2, bad = 0, samples = 0;
    char **overrides = calloc((size_t)argc, sizeof *overrides);
    int n_overrides = 0;
    if (!overrides) return 1;
    for (int i = 1; i < argc && !bad; i++) {
        const char *a = argv[i], *v = NULL;
        if (a[0] != '-' && strchr(a, '='))
            overrides[n_overrides++] = argv[i];
        else if (a[0] != '-' && !model_path)
            model_path = a;
        else if (a[0] != '-')
            bad = cli_usage_error(verb, "unexpected argument '%s' (one model file)", a);
        else if (strcmp(a, "--config") && strcmp(a, "--split") && strcmp(a, "--threads") &&
                 strcmp(a, "--samples") && strcmp(a, "--dump"))
            bad = cli_usage_error(verb, "unknown option '%s'", a);
        else if (!(v = cli_value(verb, argc, argv, &i)))
            bad = 2;
        else if (!strcmp(a, "--config"))
            config_path = v;
        else if (!strcmp(a, "--threads"))
            bad = cli_parse_int(verb, a, v, 1, CLI_MAX_THREADS, &threads);
        else if (!strcmp(a, "--samples"))
            bad = cli_parse_int(verb, a, v, 1, CLI_MAX_SAMPLES, &samples);
        else if (!strcmp(a, "--dump")) {
            if (!*v) bad = cli_usage_error(verb, "--dump '': expected a file name");
            dump_path = v;
        } else if (!strcmp(v, "test") || !strcmp(v, "val") || !strcmp(v, "train"))
            split = v;
        else
            bad = cli_usage_error(verb, "--split '%s': expected test, val or train", v);
    }
    if (!bad && !model_path) bad = cli_usage_error(verb, "name a model file (MODEL.h5)");
    if (bad) {
        free(overrides);
        return 2;
    }
    mf_error err;
    mf_error_clear(&err);
    mf_model *model = NULL;
    mf_config *cfg = NULL;
    mf_dataset *data = NULL;
    mf_pool *pool = NULL;
    int *pred = NULL, rc = 1;
    mf_metrics met = {0};
    mf_qmodel *q = NULL;
    model = mf_model_load(model_path, &err);
    if (!model) goto done;
    if (config_path) {
        if (mf_config_load(config_path, overrides, n_overrides, &cfg, &err)) goto done;
    } else {
        if (!model->config_text) {
            mf_error_set(&err, "%s has no embedded config: name the dataset with --config",
                         model_path);
            goto done;
        }
        char origin[4200];
        snprintf(origin, sizeof origin, "%s (embedded config)", model_path);
        if (mf_config_load_text(model->config_text, origin, overrides, n_overrides,
                                MF_CONFIG_DATASET_ONLY, &cfg, &err))
            goto done;
    }
    if (mf_dataset_load(&cfg->dataset, stderr, &data, &err)) goto done;
    if (!mf_shape_equal(&data->shape, &model->input_shape) ||
        (int)mf_model_output_size(model) != data->classes) {
        char a[64], b[64];
        mf_error_set(&err, "%s takes %s and predicts %zu classes; dataset %s has %s and %d classes",
                     model_path, mf_shape_str(&model->input_shape, a, sizeof a),
                     mf_model_output_size(model), data->name,
                     mf_shape_str(&data->shape, b, sizeof b), data->classes);
        goto done;
    }
    mf_dataset_apply_model(model, data);
    const float *x = data->x_test;
    const int *y = data->y_test;
    int n = data->n_test;
    if (!strcmp(split, "val")) {
        if (!data->n_val) {
            mf_error_set(&err, "the dataset has no validation split (set dataset.validation)");
            goto done;
        }
        x = data->x_val, y = data->y_val, n = data->n_val;
    } else if (!strcmp(split, "train")) {
        x = data->x_train, y = data->y_train, n = data->n_train;
    }
    if (samples > 0 && samples < n) n = samples; /* the first N, as deploy takes its vectors */
    pool = mf_pool_new(threads, &err);
    pred = malloc(sizeof(int) * (size_t)(n ? n : 1));
    if (!pool || !pred) {
        if (!pred) mf_error_set(&err, "out of memory");
        goto done;
    }
    int is_float = 0;
    q = mf_qmodel_load(model_path, &is_float, &err);
    if (!q && !is_float) goto done;
    /* a quantized model is evaluated by the integer kernels, as the firmware runs it */
    if ((q ? mf_qexec_predict(q, NULL, x, n, threads, pred, &err)
           : mf_predict(model, pool, x, n, pred, &err)) ||
        mf_metrics_compute(y, pred, n, data->classes, &met, &err))
        goto done;
    char prec[32];
    snprintf(prec, sizeof prec, q ? "int%d (integer kernels)" : "float32", q ? q->bits : 32);
    printf("%s on %s, %s split (%d samples), %s:\n", model_path, data->name, split, n, prec);
    mf_metrics_print(stdout, &met, (const char(*)[MF_LABEL_MAX])model->class_names);
    if (dump_path && dump_outputs(q, model, x, y, n, dump_path, &err)) goto done;
    rc = 0;
done:
    if (rc) cli_fail(&err);
    mf_metrics_free(&met);
    mf_qmodel_free(q);
    free(pred);
    mf_pool_free(pool);
    mf_dataset_free(data);
    mf_config_free(cfg);
    mf_model_free(model);
    free(overrides);
    return rc;
}
