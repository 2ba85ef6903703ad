/* The whole chain a config describes: train, then prune (prune section), then quantize (quantize
 * section), then deploy and measure on the emulated target (deploy section); each step takes
 * the model file the one before wrote. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mf_deploy.h"
#include "mf_pipeline.h"
#include "mf_runtime.h"

int mf_pipeline_run(const mf_config *cfg, FILE *log, mf_error *err)
{
    /* what can be checked before training: the deploy section's compiler flags */
    if (cfg->deploy.present && mf_deploy_check_flags("deploy.opt", cfg->deploy.opt, err))
        return MF_ERR;
    if (mf_pipeline_train(cfg, log, err)) return MF_ERR;
    const mf_quantize_config *qc = &cfg->quantize;
    const mf_prune_config *pc = &cfg->prune;
    char out[4200], pruned[4200];
    snprintf(out, sizeof out, "%s", cfg->train.output); /* the model the next step takes */
    if (pc->present) {
        size_t len = strlen(out);
        int h5 = len > 3 && !strcmp(out + len - 3, ".h5");
        snprintf(pruned, sizeof pruned, "%.*s.pruned.h5", (int)(h5 ? len - 3 : len), out);
        mf_prune_target *targets = calloc(pc->layers_count + 1, sizeof *targets);
        if (!targets) return mf_error_set(err, "out of memory");
        for (unsigned k = 0; k < pc->layers_count; k++)
            targets[k] = (mf_prune_target){pc->layers[k].name, pc->layers[k].sparsity};
        mf_prune_request req = {out,
                                pruned,
                                {.sparsity = pc->sparsity,
                                 .per_layer = pc->per_layer,
                                 .exclude = pc->exclude,
                                 .n_exclude = (int)pc->exclude_count,
                                 .targets = targets,
                                 .n_targets = (int)pc->layers_count},
                                pc->epochs,
                                pc->lr,
                                pc->initial,
                                pc->ramp_epochs,
                                pc->every,
                                cfg->train.threads,
                                NULL,
                                0,
                                pc->distill_present ? &pc->distill : NULL};
        if (log) {
            fprintf(log, "prune: %.2f %% of the kernels%s\n", 100.0 * pc->sparsity,
                    pc->layers_count ? " (the layers of prune.layers at their own sparsity)" : "");
            fflush(log);
        }
        int rc = mf_pipeline_prune(&req, log, err);
        free(targets);
        if (rc) return MF_ERR;
        snprintf(out, sizeof out, "%s", pruned);
    }
    if (qc->present) {
        char model[4200];
        snprintf(model, sizeof model, "%s", out);
        size_t len = strlen(model);
        int h5 = len > 3 && !strcmp(model + len - 3, ".h5");
        snprintf(out, sizeof out, "%.*s.q%d.h5", (int)(h5 ? len - 3 : len), model, qc->bits);
        mf_quantize_request req = {model,
                                   out,
                                   {{qc->bits, qc->rounding, qc->per_channel ? 1 : 0, qc->force_n},
                                    qc->calibration,
                                    qc->range_mse,
                                    cfg->train.threads},
                                   qc->method == MF_QUANT_QAT,
                                   qc->epochs,
                                   qc->lr,
                                   NULL,
                                   0};
        if (log) {
            fprintf(log, "quantize: int%d %s, %s ranges\n", qc->bits,
                    qc->method == MF_QUANT_QAT ? "QAT" : "PTQ", qc->range_mse ? "MSE" : "max");
            fflush(log);
        }
        if (mf_pipeline_quantize(&req, log, err)) return MF_ERR;
    }
    const mf_deploy_config *dc = &cfg->deploy;
    if (dc->present) {
        char fw[4200];
        const char *slash = strrchr(cfg->train.output, '/');
        if (dc->out)
            snprintf(fw, sizeof fw, "%s", dc->out);
        else if (slash)
            snprintf(fw, sizeof fw, "%.*s/firmware", (int)(slash - cfg->train.output),
                     cfg->train.output);
        else
            snprintf(fw, sizeof fw, "firmware");
        mf_deploy_request dr = {
            .model_path = out,
            .out_dir = fw,
            .cflags = NULL,
            .opt = dc->opt,
            .precision = qc->present ? 0 : 32,
            .run = dc->run,
            .n_vectors = dc->all_test ? -1 : dc->vectors,
            .all_test = dc->all_test,
            .stream = dc->stream,
            .threads = cfg->train.threads,
            .timeout_s = dc->timeout,
            .no_fuse = 0,
            .ptq = {{32, MF_RT_ROUND_HALF_UP, 0, -1}, 0, 0, cfg->train.threads},
            .overrides = NULL, /* the model's embedded config has the overrides already */
            .n_overrides = 0,
            .opt_field = "deploy.opt",
            .objective = dc->objective,
            .flash_budget = (size_t)dc->flash_budget,
            .instr_budget = dc->instruction_budget};
        if (log) {
            fprintf(log, "deploy: %s → %s\n", out, fw);
            fflush(log);
        }
        if (mf_pipeline_deploy(&dr, log, err)) return MF_ERR;
    }
    return MF_OK;
}
