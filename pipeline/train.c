/* The training step of the pipeline: a config → a trained model file and its reports. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mf_fileio.h"
#include "mf_model_io.h"
#include "mf_pipeline.h"
#include "mf_train.h"

/* mkdir -p for the folder part of path. */
static int make_parent_dirs(const char *path, mf_error *err)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path) return MF_OK;
    char buf[4096];
    if ((size_t)(slash - path) >= sizeof buf)
        return mf_error_set(err, "folder name too long: %s", path);
    snprintf(buf, sizeof buf, "%.*s", (int)(slash - path), path);
    return mf_file_make_dirs(buf, err);
}

/* dir(path)/name into out */
static void sibling_path(const char *path, const char *name, char *out, size_t size)
{
    const char *slash = strrchr(path, '/');
    if (slash)
        snprintf(out, size, "%.*s/%s", (int)(slash - path), path, name);
    else
        snprintf(out, size, "%s", name);
}

static int report_test(const mf_model *model, mf_pool *pool, const mf_dataset *data,
                       const char *confusion, const char *per_class, FILE *log, mf_error *err)
{
    int *pred = malloc(sizeof(int) * (size_t)(data->n_test ? data->n_test : 1));
    if (!pred) return mf_error_set(err, "out of memory");
    mf_metrics met = {0};
    int rc = mf_predict(model, pool, data->x_test, data->n_test, pred, err);
    if (rc == MF_OK)
        rc = mf_metrics_compute(data->y_test, pred, data->n_test, data->classes, &met, err);
    if (rc == MF_OK) {
        if (log) {
            fprintf(log, "test split, float32:\n");
            mf_metrics_print(log, &met, (const char(*)[MF_LABEL_MAX])model->class_names);
        }
        rc = mf_metrics_write_csv(&met, (const char(*)[MF_LABEL_MAX])model->class_names, confusion,
                                  per_class, err);
    }
    mf_metrics_free(&met);
    free(pred);
    return rc;
}

int mf_pipeline_train(const mf_config *cfg, FILE *log, mf_error *err)
{
    mf_dataset *data = NULL;
    mf_model *model = NULL;
    mf_pool *pool = NULL;
    mf_train_result res = {0};
    int rc = 1;
    if (mf_dataset_load(&cfg->dataset, log, &data, err)) goto done;
    model = mf_config_build_model(cfg, &data->shape, data->classes, err);
    if (!model) goto done;
    mf_model_init_params(model, cfg->train.seed);
    model->config_text = mf_config_dump(cfg, err);
    if (!model->config_text) goto done;
    if (mf_model_fit_dataset(model, data, (int)cfg->dataset.normalize, err)) goto done;
    char shape[64];
    if (log) {
        fprintf(log,
                "model: %d layers, %zu parameters, %llu MACs per inference; input %s, %d classes\n",
                model->n_nodes - 1, model->n_params, (unsigned long long)mf_model_macs(model),
                mf_shape_str(&model->input_shape, shape, sizeof shape), data->classes);
        fprintf(
            log,
            "data: %s, %d train / %d validation / %d test samples; training %d epochs, batch %d, "
            "%d thread(s)\n",
            data->name, data->n_train, data->n_val, data->n_test, cfg->train.epochs,
            cfg->train.batch_size, cfg->train.threads);
        fflush(log);
    }
    if (mf_train(model, &cfg->train, data, log, &res, err)) goto done;
    if (make_parent_dirs(cfg->train.output, err)) goto done;
    if (mf_model_save(model, cfg->train.output, err)) goto done;
    char hist[4096], plot[4096], confusion[4096], per_class[4096];
    sibling_path(cfg->train.output, "history.csv", hist, sizeof hist);
    sibling_path(cfg->train.output, "history.png", plot, sizeof plot);
    sibling_path(cfg->train.output, "confusion.csv", confusion, sizeof confusion);
    sibling_path(cfg->train.output, "per_class.csv", per_class, sizeof per_class);
    if (mf_history_write_csv(&res, hist, err)) goto done;
    /* the final figures come from the test split, whatever was watched during training */
    pool = mf_pool_new(cfg->train.threads, err);
    if (!pool || report_test(model, pool, data, confusion, per_class, log, err)) goto done;
    mf_error plot_err;
    mf_error_clear(&plot_err);
    if (mf_history_plot(hist, plot, &plot_err)) {
        char buf[1024];
        if (log)
            fprintf(log, "warning: no plot: %s\n", mf_error_format(&plot_err, buf, sizeof buf));
        plot[0] = '\0';
    }
    if (log)
        fprintf(log, "model saved to %s; history %s%s%s; confusion matrix %s; per class %s\n",
                cfg->train.output, hist, plot[0] ? ", plot " : "", plot, confusion, per_class);
    rc = 0;
done:
    mf_pool_free(pool);
    free(res.history);
    mf_model_free(model);
    mf_dataset_free(data);
    return rc ? MF_ERR : MF_OK;
}
