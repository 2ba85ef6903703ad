/* Training: the loop, optimizers, learning-rate schedules, evaluation. */
#ifndef MF_TRAIN_H
#define MF_TRAIN_H

#include <stdio.h>

#include "mf_config.h"
#include "mf_core.h"
#include "mf_datasets.h"

/* ---- shard pool: runs one function on T shards, the calling thread doing shard 0 ---- */
typedef struct mf_pool mf_pool;
mf_pool *mf_pool_new(int threads, mf_error *err);
void mf_pool_free(mf_pool *p);
int mf_pool_threads(const mf_pool *p);
void mf_pool_run(mf_pool *p, void (*fn)(void *arg, int shard), void *arg);

/* ---- optimizers over flat arrays (PyTorch semantics: weight decay is L2 added to the
 * gradient; SGD momentum without dampening) ---- */
typedef struct mf_optimizer {
    mf_optimizer_kind kind;
    float momentum, weight_decay, beta1, beta2, eps;
    int nesterov;
    size_t n;
    float *m; /* sgd: momentum buffer; adam: first moment */
    float *v; /* adam: second moment */
    long step;
} mf_optimizer;
int mf_optimizer_init(mf_optimizer *o, const mf_train_config *tc, size_t n, mf_error *err);
void mf_optimizer_free(mf_optimizer *o);
void mf_optimizer_step(mf_optimizer *o, float *w, const float *grad, float lr);

/* Learning rate of an epoch (0-based) under the config's schedule. */
float mf_schedule_lr(const mf_train_config *tc, int epoch);

/* ---- one training run ---- */
typedef struct mf_epoch_stats {
    double loss, accuracy; /* training, averaged over the epoch */
    double test_loss, test_accuracy;
    double lr, seconds, samples_per_s;
} mf_epoch_stats;

typedef struct mf_train_result {
    int epochs;
    mf_epoch_stats *history; /* epochs entries; caller frees */
} mf_train_result;

/* Trains m in place (parameters initialised by the caller) on d. Progress goes to `log`
 * (a bar if it is a terminal and tc->progress allows, else one line per epoch). */
int mf_train(mf_model *m, const mf_train_config *tc, const mf_dataset *d, FILE *log,
             mf_train_result *res, mf_error *err);

/* Inference-mode accuracy and mean loss on (x, y), sharded over the pool. */
int mf_evaluate(const mf_model *m, mf_pool *pool, const float *x, const int *y, int n,
                double *accuracy, double *loss, mf_error *err);

/* Writes epoch,loss,accuracy,test_loss,test_accuracy,lr,seconds atomically. */
int mf_history_write_csv(const mf_train_result *res, const char *path, mf_error *err);

#endif
