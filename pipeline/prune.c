/* The pruning step of the pipeline: a float model file → a pruned float model file (its masks
 * inside), pruned gradually while fine-tuning (Zhu & Gupta 2017) or at once. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "mf_model_io.h"
#include "mf_pipeline.h"
#include "mf_train.h"

typedef struct {
    const mf_prune_spec *spec;
    mf_prune_schedule sched;
    long updates, last, steps; /* mask updates, the step of the last one, steps seen */
} prune_ctx;

/* Prunes m to where the schedule is at `step`: spec's sparsity and every layer's own target
 * ramp from the same initial sparsity, the same share of the way. */
static int prune_at(mf_model *m, const mf_prune_spec *spec, const mf_prune_schedule *sched,
                    long step, mf_error *err)
{
    mf_prune_spec s = *spec;
    s.sparsity = mf_prune_schedule_at(sched, step);
    mf_prune_target *t = NULL;
    if (spec->n_targets) {
        t = malloc(sizeof *t * (size_t)spec->n_targets);
        if (!t) return mf_error_set(err, "out of memory");
        for (int k = 0; k < spec->n_targets; k++) {
            t[k] = spec->targets[k];
            t[k].sparsity = mf_prune_schedule_toward(sched, step, spec->targets[k].sparsity);
        }
        s.targets = t;
    }
    int rc = mf_prune_magnitude(m, &s, err);
    free(t);
    return rc;
}

/* after every optimizer step: the mask grows to the schedule's sparsity when it is due */
static int prune_after_step(void *ctx, mf_model *m, long step, mf_error *err)
{
    prune_ctx *c = ctx;
    c->steps = step;
    if (!mf_prune_schedule_due(&c->sched, step)) return MF_OK;
    c->updates++, c->last = step;
    return prune_at(m, c->spec, &c->sched, step, err);
}

static int test_accuracy(const mf_model *m, mf_pool *pool, const mf_dataset *d, double *acc,
                         mf_error *err)
{
    double loss;
    return mf_evaluate(m, pool, d->x_test, d->y_test, d->n_test, acc, &loss, err);
}

int mf_pipeline_prune(const mf_prune_request *r, FILE *log, mf_error *err)
{
    mf_model *model = NULL;
    mf_config *cfg = NULL;
    mf_dataset *data = NULL;
    mf_pool *pool = NULL;
    int rc = MF_ERR;
    if (!(r->spec.sparsity >= 0.0 && r->spec.sparsity < 1.0))
        return mf_error_set(err, "sparsity %g is outside [0, 1)", r->spec.sparsity);
    if (!(r->initial >= 0.0 && r->initial <= r->spec.sparsity))
        return mf_error_set(err, "initial sparsity %g is outside [0, %g] (the target)", r->initial,
                            r->spec.sparsity);
    for (int k = 0; k < r->spec.n_targets; k++)
        if (!(r->spec.targets[k].sparsity >= r->initial))
            return mf_error_set(err, "layer %s's sparsity %g is below the initial sparsity %g",
                                r->spec.targets[k].name, r->spec.targets[k].sparsity, r->initial);
    if (r->epochs < 0 || r->ramp_epochs < 0 || r->ramp_epochs > r->epochs || r->every < 0 ||
        r->lr < 0 || r->threads < 0)
        return mf_error_set(err,
                            "pruning: epochs %d, ramp epochs %d (at most epochs), every %ld steps, "
                            "lr %g, threads %d: none may be negative",
                            r->epochs, r->ramp_epochs, r->every, r->lr, r->threads);
    if (mf_pipeline_model_data(r->model_path, r->overrides, r->n_overrides, log, &model, &cfg,
                               &data, err))
        return MF_ERR;
    const int threads = r->threads > 0 ? r->threads : cfg->train.threads;
    double before = 0.0, after = 0.0;
    pool = mf_pool_new(threads, err);
    if (!pool || test_accuracy(model, pool, data, &before, err)) goto done;
    if (r->epochs == 0) {
        if (log)
            fprintf(log, "pruning to %.2f %% at once (no fine-tuning)\n", 100 * r->spec.sparsity);
        if (mf_prune_magnitude(model, &r->spec, err)) goto done;
    } else {
        if (mf_dataset_check_train_split(data, err)) goto done;
        mf_train_config tc = cfg->train;
        tc.epochs = r->epochs;
        tc.lr = r->lr > 0 ? (float)r->lr : cfg->train.lr / 10.0f;
        tc.schedule = MF_SCHED_CONSTANT;
        tc.threads = threads;
        if (r->distill) {
            tc.distill = *r->distill;
            if (!tc.distill.teacher || !tc.distill.teacher[0])
                tc.distill.teacher = (char *)r->model_path; /* read before anything is written */
        }
        const long per_epoch = (data->n_train + tc.batch_size - 1) / tc.batch_size;
        const int ramp = r->ramp_epochs > 0 ? r->ramp_epochs : (2 * r->epochs + 2) / 3;
        prune_ctx c = {&r->spec, {r->initial, r->spec.sparsity, 0, ramp * per_epoch, 0}, 0, 0, 0};
        c.sched.every = r->every > 0 ? r->every : (per_epoch >= 4 ? per_epoch / 4 : 1);
        if (log) {
            fprintf(log,
                    "pruning gradually from %.2f %% to %.2f %% over %d of %d epochs (%ld steps, "
                    "mask every %ld steps), fine-tuning at lr %g\n",
                    100 * r->initial, 100 * r->spec.sparsity, ramp, r->epochs, c.sched.end,
                    c.sched.every, tc.lr);
            fflush(log);
        }
        if (prune_at(model, &r->spec, &c.sched, 0, err)) goto done;
        mf_train_hooks hooks = {&c, NULL, NULL, prune_after_step};
        mf_train_result res = {0};
        int trc = mf_train_with(model, &tc, data, log, &hooks, &res, err);
        free(res.history);
        if (trc) goto done;
        if (log)
            fprintf(log, "mask updated %ld times over %ld steps (the last at step %ld)\n",
                    c.updates, c.steps, c.last);
        /* the last step reached the target already; a run shorter than the ramp has not */
        if (mf_prune_magnitude(model, &r->spec, err)) goto done;
    }
    if (test_accuracy(model, pool, data, &after, err)) goto done;
    if (log) {
        fprintf(log, "sparsity per layer (conv and dense kernels):\n");
        mf_prune_print(model, log);
        fprintf(log, "test accuracy: dense %.2f %%, pruned %.2f %% (%+.2f pt)\n", 100 * before,
                100 * after, 100 * (after - before));
    }
    if (mf_model_save(model, r->out_path, err)) goto done;
    if (log) fprintf(log, "pruned model saved to %s\n", r->out_path);
    rc = MF_OK;
done:
    mf_pool_free(pool);
    mf_dataset_free(data);
    mf_config_free(cfg);
    mf_model_free(model);
    return rc;
}
