/* The deploy step of the pipeline: a model file → a firmware project, built and measured in QEMU
 * on request. A float model deployed at int8/int16 is quantized with the one PTQ policy
 * (mf_ptq) and the quantized model is written beside the firmware. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mf_deploy.h"
#include "mf_model_io.h"
#include "mf_pipeline.h"
#include "mf_train.h"

void mf_deploy_inputs_free(mf_deploy_inputs *in)
{
    free(in->vectors);
    free(in->labels);
    mf_dataset_free(in->data);
    mf_config_free(in->cfg);
    mf_qmodel_free(in->q);
    mf_model_free(in->model);
    memset(in, 0, sizeof *in);
}

int mf_pipeline_deploy_inputs(const mf_deploy_request *r, FILE *log, mf_deploy_inputs *in,
                              mf_error *err)
{
    memset(in, 0, sizeof *in);
    const char *model_path = r->model_path;
    int precision = r->precision, n_vectors = r->n_vectors < 0 ? 20 : r->n_vectors;
    const int all_test = r->all_test, stream = r->stream || r->all_test, threads = r->threads;
    int is_float = 0;
    in->q = mf_qmodel_load(model_path, &is_float, err);
    if (!in->q && !is_float) goto fail;
    if (in->q) {
        if (precision && precision != in->q->bits) {
            mf_error_set(err,
                         "%s is an int%d model; --precision %s disagrees (deploy the float model "
                         "with that precision instead)",
                         model_path, in->q->bits,
                         precision == 32   ? "float32"
                         : precision == 16 ? "int16"
                                           : "int8");
            goto fail;
        }
        precision = in->q->bits;
    } else {
        in->model = mf_model_load(model_path, err);
        if (!in->model) goto fail;
        if (!precision) {
            mf_error_set(err, "%s is a float model: choose --precision float32, int16 or int8",
                         model_path);
            goto fail;
        }
    }
    const mf_model *m = in->q ? in->q->model : in->model;
    size_t in_size = mf_model_input_size(m);
    /* the dataset: test vectors (raw) and, for PTQ, the calibration set */
    if (m->config_text) {
        char origin[4200];
        snprintf(origin, sizeof origin, "%s (embedded config)", model_path);
        if (mf_config_load_text(m->config_text, origin, r->overrides, r->n_overrides,
                                MF_CONFIG_DATASET_ONLY, &in->cfg, err) ||
            mf_dataset_load(&in->cfg->dataset, log ? stderr : NULL, &in->data, err))
            goto fail;
        mf_dataset *data = in->data;
        if (!mf_shape_equal(&data->shape, &m->input_shape) ||
            (int)mf_model_output_size(m) != data->classes) {
            char a[64], b[64];
            mf_error_set(err,
                         "%s takes %s and predicts %zu classes; dataset %s has %s and %d "
                         "classes",
                         model_path, mf_shape_str(&m->input_shape, a, sizeof a),
                         mf_model_output_size(m), data->name,
                         mf_shape_str(&data->shape, b, sizeof b), data->classes);
            goto fail;
        }
        if (all_test || n_vectors > data->n_test) n_vectors = data->n_test;
        if (n_vectors < 1) {
            mf_error_set(err, "dataset %s has no test samples", data->name);
            goto fail;
        }
        in->vectors = malloc(sizeof(float) * in_size * (size_t)n_vectors);
        in->labels = malloc(sizeof(int) * (size_t)n_vectors);
        if (!in->vectors || !in->labels) {
            mf_error_set(err, "out of memory");
            goto fail;
        }
        memcpy(in->vectors, data->x_test, sizeof(float) * in_size * (size_t)n_vectors);
        memcpy(in->labels, data->y_test, sizeof(int) * (size_t)n_vectors);
        if (log)
            fprintf(log, "test vectors: %d of %d from the %s test split (%s)\n", n_vectors,
                    data->n_test, data->name, stream ? "streamed from vectors.bin" : "in flash");
    } else {
        if (all_test || (!in->q && precision != 32)) {
            mf_error_set(err, "%s has no embedded config: no dataset for %s", model_path,
                         all_test ? "--all-test" : "calibration");
            goto fail;
        }
        in->vectors = malloc(sizeof(float) * in_size * (size_t)n_vectors);
        if (!in->vectors) {
            mf_error_set(err, "out of memory");
            goto fail;
        }
        mf_rng rng;
        mf_rng_seed(&rng, 1);
        for (size_t i = 0; i < in_size * (size_t)n_vectors; i++)
            in->vectors[i] = (float)(2.0 * mf_rng_uniform(&rng) - 1.0);
        if (log)
            fprintf(log,
                    "%s has no embedded config: %d pseudo-random test vectors in [-1, 1), no "
                    "labels\n",
                    model_path, n_vectors);
    }
    in->n_vectors = n_vectors;
    if (!in->q && precision != 32) {
        mf_ptq_options po = r->ptq;
        po.q.bits = precision;
        po.threads = threads;
        int n_cal = po.calibration > 0 && po.calibration < in->data->n_train ? po.calibration
                                                                             : in->data->n_train;
        if (log) {
            fprintf(log,
                    "%s is a float model: quantizing to int%d (post-training, %s formats, %s "
                    "rounding, %s ranges, calibration on %d of %d training samples, as mcuforge "
                    "quantize does)\n",
                    model_path, precision, po.q.per_channel ? "per-channel" : "per-tensor",
                    po.q.rounding == MF_RT_ROUND_FLOOR ? "floor" : "half-up",
                    po.mse ? "MSE" : "max", n_cal, in->data->n_train);
            fflush(log);
        }
        mf_dataset_apply_model(in->model, in->data); /* the test copy above stays raw */
        in->q = mf_ptq(in->model, in->data->x_train, in->data->n_train, &po, err);
        if (!in->q) goto fail;
        in->quantized_here = 1;
    }
    return MF_OK;
fail:
    mf_deploy_inputs_free(in);
    return MF_ERR;
}

/* The quantized model the firmware runs, written into the new project before it replaces the
 * old one (mf_deploy_options.finish). */
static int save_quantized(const char *dir, void *ctx, mf_error *err)
{
    const mf_deploy_inputs *in = ctx;
    if (!in->quantized_here) return MF_OK;
    char path[4200];
    snprintf(path, sizeof path, "%s/model.q%d.h5", dir, in->q->bits);
    return mf_qmodel_save(in->q, path, err);
}

int mf_pipeline_deploy(const mf_deploy_request *r, FILE *log, mf_error *err)
{
    const char *out_dir = r->out_dir;
    const int stream = r->stream || r->all_test, threads = r->threads;
    int rc = MF_ERR;
    mf_deploy_inputs in;
    mf_deploy_report rep;
    memset(&rep, 0, sizeof rep);
    const char *opt_field = r->opt_field ? r->opt_field : "--opt";
    /* the flags before the model is loaded or quantized (the generator checks them again) */
    if (mf_deploy_check_flags(opt_field, r->opt, err) ||
        mf_deploy_check_flags("--cflags", r->cflags, err))
        return MF_ERR;
    if (mf_pipeline_deploy_inputs(r, log, &in, err)) return MF_ERR;
    unsigned char *variants = NULL;
    double *measured = NULL;
    if (mf_pipeline_variants(r, &in, log, &variants, &measured, err)) goto done;
    mf_deploy_options o = {0};
    o.out_dir = out_dir;
    o.vectors = in.vectors;
    o.labels = in.labels;
    o.n_vectors = in.n_vectors;
    o.stream = stream;
    o.opt = r->opt;
    o.cflags = r->cflags;
    o.opt_field = opt_field;
    o.cflags_field = "--cflags";
    o.no_fuse = r->no_fuse;
    o.log = log;
    o.force = r->force;
    o.finish = save_quantized;
    o.finish_ctx = &in;
    o.variants = variants;
    o.variant_instr = measured;
    if (mf_deploy_generate(in.q, in.q ? NULL : in.model, &o, NULL, err)) goto done;
    if (log && in.quantized_here)
        fprintf(log, "quantized model saved to %s/model.q%d.h5\n", out_dir, in.q->bits);
    if (r->run) {
        mf_deploy_run_options ro = {r->timeout_s, threads, log};
        if (mf_deploy_run(out_dir, &ro, &rep, err)) goto done;
        if (log) {
            mf_deploy_report_print(&rep, log);
            fprintf(log, "report written to %s/report.json\n", out_dir);
        }
        if (rep.bit_exact != rep.n_vectors) {
            mf_error_set(err,
                         "only %d of %d outputs on target are bit-identical to the host's: the "
                         "firmware and the host kernels disagree",
                         rep.bit_exact, rep.n_vectors);
            goto done;
        }
        if (r->instr_budget > 0 && rep.instr_mean > r->instr_budget) {
            mf_error_set(err,
                         "%s: %.0f instructions per inference measured, over the instruction "
                         "budget of %.0f",
                         out_dir, rep.instr_mean, r->instr_budget);
            goto done;
        }
    }
    rc = MF_OK;
done:
    free(variants);
    free(measured);
    mf_deploy_report_free(&rep);
    mf_deploy_inputs_free(&in);
    return rc;
}
