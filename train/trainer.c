/* The training loop. Each mini-batch is split into `threads` contiguous shards; shard s always
 * runs on worker s with its own workspace and gradient array, BLAS runs single-threaded inside
 * each shard, and the shard gradients are summed in shard order. A config (including its
 * thread count) therefore gives bit-identical weights run after run on one machine. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mf_fileio.h"
#include "mf_train.h"
#include "progress.h"

typedef struct {
    const mf_model *m;
    float *params, *state;
    int threads;
    mf_workspace **ws;
    float **grad;
    float **xbuf;
    int **ybuf;
    int **ybuf_b;
    float **dlogits;
    /* this batch */
    const float *x;
    const int *y;
    const int *idx; /* NULL: samples idx0.. in order */
    int idx0;
    /* mixup: sample i of the batch is λ·x[idx[i]] + (1 − λ)·x[idx[mix[i]]] */
    const int *mix;
    float lambda;
    int *pred; /* inference: argmax per sample, at the sample's index (NULL: not wanted) */
    /* training with a teacher (NULL: cross-entropy alone) */
    mf_distiller *distill;
    float temperature, alpha;
    int n;
    int training;
    uint64_t seed;
    double loss[MF_CONFIG_MAX_THREADS];
    int correct[MF_CONFIG_MAX_THREADS];
} batch_job;

static void shard_range(int n, int threads, int s, int *lo, int *hi)
{
    *lo = (int)((long)n * s / threads);
    *hi = (int)((long)n * (s + 1) / threads);
}

static void run_shard(void *arg, int s)
{
    batch_job *j = arg;
    int lo, hi;
    shard_range(j->n, j->threads, s, &lo, &hi);
    int cnt = hi - lo;
    j->loss[s] = 0.0;
    j->correct[s] = 0;
    /* an empty shard (fewer samples than threads) still contributes a zero gradient: shard 0's
     * array is where the others are summed */
    if (j->training) memset(j->grad[s], 0, sizeof(float) * j->m->n_params);
    if (cnt <= 0) return;
    size_t in = mf_model_input_size(j->m);
    int k = (int)mf_model_output_size(j->m);
    for (int i = 0; i < cnt; i++) {
        int src = j->idx ? j->idx[lo + i] : j->idx0 + lo + i;
        float *dst = j->xbuf[s] + (size_t)i * in;
        memcpy(dst, j->x + (size_t)src * in, sizeof(float) * in);
        j->ybuf[s][i] = j->y ? j->y[src] : 0;
        if (j->mix) {
            int other = j->idx[j->mix[lo + i]];
            const float *xb = j->x + (size_t)other * in;
            const float lam = j->lambda, rest = 1.0f - j->lambda;
            for (size_t e = 0; e < in; e++)
                dst[e] = lam * dst[e] + rest * xb[e];
            j->ybuf_b[s][i] = j->y[other];
        }
    }
    /* the teacher sees the (mixed) samples the student sees; alpha 0 needs nothing from it */
    const int distill = j->training && j->distill && j->y;
    const float *teacher =
        distill && j->alpha > 0.0f ? mf_distiller_logits(j->distill, s, j->xbuf[s], cnt) : NULL;
    const float *out =
        mf_forward(j->ws[s], j->params, j->state, j->xbuf[s], cnt, j->training, j->seed, lo);
    if (j->pred)
        for (int i = 0; i < cnt; i++) {
            const float *z = out + (size_t)i * k;
            int best = 0;
            for (int c = 1; c < k; c++)
                if (z[c] > z[best]) best = c;
            j->pred[j->idx0 + lo + i] = best;
        }
    if (!j->y) return;
    if (distill)
        j->loss[s] = mf_distill_xent(out, teacher, cnt, k, j->ybuf[s], j->mix ? j->ybuf_b[s] : NULL,
                                     j->lambda, j->temperature, j->alpha, j->n, j->dlogits[s],
                                     &j->correct[s]);
    else
        j->loss[s] =
            mf_softmax_xent(out, cnt, k, j->ybuf[s], j->mix ? j->ybuf_b[s] : NULL, j->lambda, j->n,
                            j->training ? j->dlogits[s] : NULL, &j->correct[s]);
    if (!j->training) return;
    mf_backward(j->ws[s], j->params, j->dlogits[s], j->grad[s]);
}

typedef struct {
    batch_job job;
    int shard_batch;
} engine;

static void engine_free(engine *e)
{
    for (int s = 0; s < e->job.threads; s++) {
        if (e->job.ws) mf_workspace_free(e->job.ws[s]);
        if (e->job.grad) free(e->job.grad[s]);
        if (e->job.xbuf) free(e->job.xbuf[s]);
        if (e->job.ybuf) free(e->job.ybuf[s]);
        if (e->job.ybuf_b) free(e->job.ybuf_b[s]);
        if (e->job.dlogits) free(e->job.dlogits[s]);
    }
    free(e->job.ws);
    free(e->job.grad);
    free(e->job.xbuf);
    free(e->job.ybuf);
    free(e->job.ybuf_b);
    free(e->job.dlogits);
}

static int engine_init(engine *e, const mf_model *m, int threads, int batch, int training,
                       mf_error *err)
{
    memset(e, 0, sizeof *e);
    batch_job *j = &e->job;
    j->m = m;
    j->threads = threads;
    e->shard_batch = (batch + threads - 1) / threads;
    j->ws = calloc((size_t)threads, sizeof *j->ws);
    j->grad = calloc((size_t)threads, sizeof *j->grad);
    j->xbuf = calloc((size_t)threads, sizeof *j->xbuf);
    j->ybuf = calloc((size_t)threads, sizeof *j->ybuf);
    j->ybuf_b = calloc((size_t)threads, sizeof *j->ybuf_b);
    j->dlogits = calloc((size_t)threads, sizeof *j->dlogits);
    if (!j->ws || !j->grad || !j->xbuf || !j->ybuf || !j->ybuf_b || !j->dlogits) goto oom;
    size_t in = mf_model_input_size(m), out = mf_model_output_size(m);
    for (int s = 0; s < threads; s++) {
        j->ws[s] = mf_workspace_new(m, e->shard_batch, training, err);
        if (!j->ws[s]) {
            engine_free(e);
            return MF_ERR;
        }
        j->xbuf[s] = malloc(sizeof(float) * in * e->shard_batch);
        j->ybuf[s] = malloc(sizeof(int) * e->shard_batch);
        j->ybuf_b[s] = malloc(sizeof(int) * e->shard_batch);
        j->dlogits[s] = malloc(sizeof(float) * out * e->shard_batch);
        if (training) j->grad[s] = malloc(sizeof(float) * (m->n_params ? m->n_params : 1));
        if (!j->xbuf[s] || !j->ybuf[s] || !j->ybuf_b[s] || !j->dlogits[s] ||
            (training && !j->grad[s]))
            goto oom;
    }
    return MF_OK;
oom:
    engine_free(e);
    return mf_error_set(err, "out of memory for training buffers (batch %d)", batch);
}

/* Inference over n samples in batches; returns summed loss and correct count. */
static void engine_eval(engine *e, mf_pool *pool, const float *x, const int *y, int n, double *loss,
                        long *correct)
{
    batch_job *j = &e->job;
    int batch = e->shard_batch * j->threads;
    *loss = 0.0;
    *correct = 0;
    j->x = x;
    j->y = y;
    j->idx = NULL;
    j->mix = NULL;
    j->lambda = 0.0f;
    j->training = 0;
    j->pred = NULL;
    for (int start = 0; start < n; start += batch) {
        j->idx0 = start;
        j->n = n - start < batch ? n - start : batch;
        mf_pool_run(pool, run_shard, j);
        for (int s = 0; s < j->threads; s++) {
            *loss += j->loss[s];
            *correct += j->correct[s];
        }
    }
}

int mf_predict(const mf_model *m, mf_pool *pool, const float *x, int n, int *pred, mf_error *err)
{
    engine e;
    if (engine_init(&e, m, mf_pool_threads(pool), 256, 0, err)) return MF_ERR;
    batch_job *j = &e.job;
    j->params = m->params;
    j->state = m->state;
    j->x = x;
    j->y = NULL;
    j->idx = NULL;
    j->mix = NULL;
    j->training = 0;
    j->pred = pred;
    int batch = e.shard_batch * j->threads;
    for (int start = 0; start < n; start += batch) {
        j->idx0 = start;
        j->n = n - start < batch ? n - start : batch;
        mf_pool_run(pool, run_shard, j);
    }
    engine_free(&e);
    return MF_OK;
}

int mf_evaluate(const mf_model *m, mf_pool *pool, const float *x, const int *y, int n,
                double *accuracy, double *loss, mf_error *err)
{
    engine e;
    if (engine_init(&e, m, mf_pool_threads(pool), 256, 0, err)) return MF_ERR;
    e.job.params = m->params;
    e.job.state = m->state;
    double l;
    long c;
    engine_eval(&e, pool, x, y, n, &l, &c);
    engine_free(&e);
    if (accuracy) *accuracy = n ? (double)c / n : 0.0;
    if (loss) *loss = n ? l / n : 0.0;
    return MF_OK;
}

static int all_finite(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

int mf_dataset_check_train_split(const mf_dataset *d, mf_error *err)
{
    if (d->n_train >= 1) return MF_OK;
    if (d->n_val > 0)
        return mf_error_set(err,
                            "dataset '%s': the training split is empty (0 samples; the "
                            "validation split holds %d): nothing to train on (lower "
                            "dataset.validation)",
                            d->name, d->n_val);
    return mf_error_set(err,
                        "dataset '%s': the training split is empty (0 samples): nothing to "
                        "train on",
                        d->name);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int mf_train(mf_model *m, const mf_train_config *tc, const mf_dataset *d, FILE *log,
             mf_train_result *res, mf_error *err)
{
    return mf_train_with(m, tc, d, log, NULL, res, err);
}

int mf_train_with(mf_model *m, const mf_train_config *tc, const mf_dataset *d, FILE *log,
                  const mf_train_hooks *hooks, mf_train_result *res, mf_error *err)
{
    memset(res, 0, sizeof *res);
    if (mf_dataset_check_train_split(d, err)) return MF_ERR;
    if (!mf_shape_equal(&m->input_shape, &d->shape) || (int)mf_model_output_size(m) != d->classes) {
        char a[64], b[64];
        return mf_error_set(err,
                            "the model takes %s and predicts %zu classes, the dataset has %s "
                            "and %d classes",
                            mf_shape_str(&m->input_shape, a, sizeof a), mf_model_output_size(m),
                            mf_shape_str(&d->shape, b, sizeof b), d->classes);
    }
    /* the config's limits (mf_config.h), before anything is sized by them */
    if (tc->threads < 1 || tc->threads > MF_CONFIG_MAX_THREADS)
        return mf_error_set(err, "train.threads must be in [1, %d] (got %d)", MF_CONFIG_MAX_THREADS,
                            tc->threads);
    if (tc->batch_size < 1 || tc->batch_size > MF_CONFIG_MAX_BATCH)
        return mf_error_set(err, "train.batch_size must be in [1, %d] (got %d)",
                            MF_CONFIG_MAX_BATCH, tc->batch_size);
    if (tc->epochs < 1 || tc->epochs > MF_CONFIG_MAX_EPOCHS)
        return mf_error_set(err, "train.epochs must be in [1, %d] (got %d)", MF_CONFIG_MAX_EPOCHS,
                            tc->epochs);
    /* Our shards are the parallelism; a multi-threaded BLAS inside them would only add
     * contention (and in deterministic mode, its own scheduling). */
    if (tc->deterministic) openblas_set_num_threads(1);
    int threads = tc->threads < tc->batch_size ? tc->threads : tc->batch_size;
    mf_distiller *distill = NULL;
    if (tc->distill.teacher && tc->distill.teacher[0] &&
        mf_distiller_open(&tc->distill, m, d, threads, (tc->batch_size + threads - 1) / threads,
                          log, &distill, err))
        return MF_ERR;
    mf_pool *pool = mf_pool_new(threads, err);
    if (!pool) {
        mf_distiller_free(distill);
        return MF_ERR;
    }
    engine e;
    mf_optimizer opt;
    int *perm = malloc(sizeof(int) * (size_t)d->n_train);
    int *mix = malloc(sizeof(int) * (size_t)tc->batch_size);
    res->history = calloc((size_t)tc->epochs, sizeof *res->history);
    if (!perm || !mix || !res->history) {
        free(perm);
        free(mix);
        mf_pool_free(pool);
        mf_distiller_free(distill);
        return mf_error_set(err, "out of memory");
    }
    if (engine_init(&e, m, threads, tc->batch_size, 1, err)) {
        free(perm);
        free(mix);
        mf_pool_free(pool);
        mf_distiller_free(distill);
        return MF_ERR;
    }
    if (hooks && hooks->workspaces && hooks->workspaces(hooks->ctx, e.job.ws, threads, err)) {
        engine_free(&e);
        free(perm);
        free(mix);
        mf_pool_free(pool);
        mf_distiller_free(distill);
        return MF_ERR;
    }
    if (mf_optimizer_init(&opt, tc, m->n_params, err)) {
        engine_free(&e);
        free(perm);
        free(mix);
        mf_pool_free(pool);
        mf_distiller_free(distill);
        return MF_ERR;
    }
    batch_job *j = &e.job;
    j->params = m->params;
    j->state = m->state;
    j->distill = distill;
    j->temperature = tc->distill.temperature;
    j->alpha = tc->distill.alpha;
    res->eval_split = d->n_val ? "val" : "test";
    mf_progress prog;
    mf_progress_init(&prog, log, tc->progress, tc->epochs, d->n_train);
    prog.eval_split = res->eval_split;
    int rc = MF_OK;
    long step = 0; /* optimizer steps taken (batches drawn) */
    for (int epoch = 0; epoch < tc->epochs && rc == MF_OK; epoch++) {
        double t0 = now_seconds();
        float lr = mf_schedule_lr(tc, epoch);
        mf_rng rng;
        mf_rng_seed(&rng, mf_hash64(tc->seed, 0x5348554646ull + (uint64_t)epoch));
        for (int i = 0; i < d->n_train; i++)
            perm[i] = i;
        for (int i = d->n_train - 1; i > 0; i--) {
            int k = (int)mf_rng_below(&rng, (uint32_t)(i + 1));
            int t = perm[i];
            perm[i] = perm[k];
            perm[k] = t;
        }
        double loss_sum = 0.0;
        long correct = 0;
        int steps = (d->n_train + tc->batch_size - 1) / tc->batch_size;
        for (int start = 0; start < d->n_train; start += tc->batch_size) {
            j->x = d->x_train;
            j->y = d->y_train;
            j->idx = perm + start;
            j->n = d->n_train - start < tc->batch_size ? d->n_train - start : tc->batch_size;
            j->training = 1;
            j->seed = mf_hash64(tc->seed, (uint64_t)step++);
            j->mix = NULL;
            j->pred = NULL;
            j->lambda = 0.0f;
            if (tc->mixup_alpha > 0.0f) {
                /* PAPER.md §3: one λ ~ Beta(α, α) per batch, mixed with a permutation of itself */
                j->lambda = (float)mf_rng_beta(&rng, tc->mixup_alpha, tc->mixup_alpha);
                for (int i = 0; i < j->n; i++)
                    mix[i] = i;
                for (int i = j->n - 1; i > 0; i--) {
                    int k = (int)mf_rng_below(&rng, (uint32_t)(i + 1));
                    int t = mix[i];
                    mix[i] = mix[k];
                    mix[k] = t;
                }
                j->mix = mix;
            }
            if (hooks && hooks->before_step) hooks->before_step(hooks->ctx, m->params);
            mf_pool_run(pool, run_shard, j);
            double batch_loss = 0.0;
            for (int s = 0; s < threads; s++) {
                batch_loss += j->loss[s];
                correct += j->correct[s];
            }
            for (int s = 1; s < threads; s++) {
                int lo, hi;
                shard_range(j->n, threads, s, &lo, &hi);
                if (hi <= lo) continue;
                for (size_t i = 0; i < m->n_params; i++)
                    j->grad[0][i] += j->grad[s][i];
            }
            mf_workspace *ran[MF_CONFIG_MAX_THREADS];
            int active = 0;
            for (int s = 0; s < threads; s++) {
                int lo, hi;
                shard_range(j->n, threads, s, &lo, &hi);
                if (hi > lo) ran[active++] = j->ws[s];
            }
            /* the first non-finite loss stops the run before it touches the weights or the
             * running statistics: the caller gets an error, not a NaN model */
            if (!isfinite(batch_loss)) {
                rc = mf_error_set(err,
                                  "training diverged: the loss is not finite at epoch %d, step %d "
                                  "of %d (lower train.lr)",
                                  epoch + 1, start / tc->batch_size + 1, steps);
                break;
            }
            mf_update_state(m, m->state, ran, active);
            mf_optimizer_step(&opt, m->params, j->grad[0], lr);
            if (hooks && hooks->after_step && hooks->after_step(hooks->ctx, m, step, err)) {
                rc = MF_ERR;
                break;
            }
            mf_model_mask_apply(m); /* pruned weights stay exactly 0 */
            loss_sum += batch_loss;
            mf_progress_batch(&prog, epoch, start + j->n, loss_sum / (start + j->n),
                              (double)correct / (start + j->n), now_seconds() - t0);
        }
        if (rc) break;
        /* a finite loss can still leave non-finite weights behind (the last step's update) */
        if (!all_finite(m->params, m->n_params) || !all_finite(m->state, m->n_state)) {
            rc = mf_error_set(err,
                              "training diverged: the weights are not finite after epoch %d, "
                              "step %d of %d (lower train.lr)",
                              epoch + 1, steps, steps);
            break;
        }
        double train_seconds = now_seconds() - t0;
        mf_epoch_stats *st = &res->history[epoch];
        st->loss = loss_sum / d->n_train;
        st->accuracy = (double)correct / d->n_train;
        st->lr = lr;
        st->seconds = train_seconds;
        st->samples_per_s = d->n_train / (train_seconds > 0 ? train_seconds : 1e-9);
        long tc_correct;
        double tl;
        /* per-epoch evaluation on the validation split when there is one: the test split
         * stays unseen until the end */
        if (hooks && hooks->before_step) hooks->before_step(hooks->ctx, m->params);
        const float *ex = d->n_val ? d->x_val : d->x_test;
        const int *ey = d->n_val ? d->y_val : d->y_test;
        int en = d->n_val ? d->n_val : d->n_test;
        engine_eval(&e, pool, ex, ey, en, &tl, &tc_correct);
        st->test_loss = en ? tl / en : 0.0;
        st->test_accuracy = en ? (double)tc_correct / en : 0.0;
        res->epochs = epoch + 1;
        mf_progress_epoch(&prog, epoch, st);
    }
    mf_progress_finish(&prog);
    mf_optimizer_free(&opt);
    engine_free(&e);
    free(perm);
    free(mix);
    mf_pool_free(pool);
    mf_distiller_free(distill);
    return rc;
}

static int print_history(FILE *f, void *ctx, mf_error *err)
{
    (void)err;
    const mf_train_result *res = ctx;
    const char *e = res->eval_split ? res->eval_split : "test";
    fprintf(f, "epoch,loss,accuracy,%s_loss,%s_accuracy,lr,seconds\n", e, e);
    for (int k = 0; k < res->epochs; k++) {
        const mf_epoch_stats *s = &res->history[k];
        fprintf(f, "%d,%.6f,%.6f,%.6f,%.6f,%.6g,%.3f\n", k + 1, s->loss, s->accuracy, s->test_loss,
                s->test_accuracy, s->lr, s->seconds);
    }
    return MF_OK;
}

int mf_history_write_csv(const mf_train_result *res, const char *path, mf_error *err)
{
    return mf_file_write_text(path, print_history, (void *)res, err);
}
