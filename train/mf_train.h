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
    const char *eval_split;  /* "val" when the dataset has a validation split, else "test" */
    mf_epoch_stats *history; /* epochs entries; caller frees */
} mf_train_result;

/* MF_OK when d has training samples; else an error naming the dataset and the empty split
 * (training, and the input statistics, would be 0/0). */
int mf_dataset_check_train_split(const mf_dataset *d, mf_error *err);

/* Trains m in place (parameters initialised by the caller) on d, whose samples carry m's input
 * normalisation (m->pre). A model with a pruning mask
 * keeps its pruned values 0: the mask is applied after every optimizer step. With a teacher in
 * tc->distill the training loss is mf_distill_xent against the teacher's outputs on the same
 * (mixed) samples (mf_distiller), computed on the fly; evaluation stays cross-entropy. Progress
 * goes to `log` (a bar if it is a terminal and tc->progress allows, else one line per epoch). An
 * empty training split is refused up front; the first non-finite loss (or non-finite weights at the
 * end of an epoch) stops training with an error naming the epoch and step. */
int mf_train(mf_model *m, const mf_train_config *tc, const mf_dataset *d, FILE *log,
             mf_train_result *res, mf_error *err);

/* Hooks for training variants (quantization-aware training): `workspaces` is told the shard
 * workspaces once they exist (to install forward hooks), `before_step` runs before every
 * optimizer step's forward passes with the current parameters, `after` once training ends. */
typedef struct mf_train_hooks {
    void *ctx;
    int (*workspaces)(void *ctx, mf_workspace *const *ws, int n, mf_error *err);
    void (*before_step)(void *ctx, const float *params);
    /* after every optimizer step (step counts from 1 over the whole run), before the model's
     * pruning mask is applied: may change the mask (gradual pruning); MF_ERR stops training */
    int (*after_step)(void *ctx, mf_model *m, long step, mf_error *err);
} mf_train_hooks;
int mf_train_with(mf_model *m, const mf_train_config *tc, const mf_dataset *d, FILE *log,
                  const mf_train_hooks *hooks, mf_train_result *res, mf_error *err);

/* ---- knowledge distillation (distill.c) ---- */

/* Hinton et al.'s loss on logits (n × k) against a teacher's logits (n × k), averaged over
 * scale_n samples like mf_softmax_xent (whose mixup labels it takes):
 *   (1 − alpha)·CE(labels, softmax(z_s)) + alpha·T²·KL(softmax(z_t/T) ‖ softmax(z_s/T));
 * the KL term's gradient is alpha·T·(softmax(z_s/T) − softmax(z_t/T)) / scale_n. Writes dlogits
 * (may be NULL), returns the summed loss, counts argmax == labels_a in *correct (may be NULL).
 * alpha 0 is mf_softmax_xent exactly (teacher may then be NULL). */
double mf_distill_xent(const float *logits, const float *teacher, int n, int k, const int *labels_a,
                       const int *labels_b, float lambda, float temperature, float alpha,
                       int scale_n, float *dlogits, int *correct);

/* A teacher ready to run beside a student: the float model file dc->teacher, checked against
 * the student's dataset d (sample shape, classes and, when both have them, class names: errors
 * name both values, the teacher file and <dc->section>.teacher), with a workspace of `batch`
 * samples for each of `shards` shards. The samples it is given carry the student's input
 * normalisation (student->pre); the teacher sees them in its own (teacher->pre). */
typedef struct mf_distiller mf_distiller;
int mf_distiller_open(const mf_distill_config *dc, const mf_model *student, const mf_dataset *d,
                      int shards, int batch, FILE *log, mf_distiller **out, mf_error *err);
void mf_distiller_free(mf_distiller *t);
/* The teacher's logits (inference mode) for n ≤ batch samples x in the student's
 * normalisation, in shard's buffers (valid until its next call). */
const float *mf_distiller_logits(mf_distiller *t, int shard, const float *x, int n);

/* Inference-mode accuracy and mean loss on (x, y), sharded over the pool. */
int mf_evaluate(const mf_model *m, mf_pool *pool, const float *x, const int *y, int n,
                double *accuracy, double *loss, mf_error *err);

/* Predicted classes (argmax) for n samples, sharded over the pool. */
int mf_predict(const mf_model *m, mf_pool *pool, const float *x, int n, int *pred, mf_error *err);

/* Computes the input statistics (normalize: 0 none, 1 per element, 2 per channel) on d's
 * training split, stores them, the dataset name and class names in m, and normalises every
 * split of d in place. */
int mf_model_fit_dataset(mf_model *m, mf_dataset *d, int normalize, mf_error *err);
/* Applies m's stored input transform to every split of d in place. */
void mf_dataset_apply_model(const mf_model *m, mf_dataset *d);

/* ---- metrics ---- */
typedef struct mf_metrics {
    int classes;
    long total, correct;
    long *confusion; /* classes × classes, [true][predicted] */
} mf_metrics;
int mf_metrics_compute(const int *labels, const int *pred, int n, int classes, mf_metrics *out,
                       mf_error *err);
void mf_metrics_free(mf_metrics *m);
/* Accuracy, per-class accuracy and (up to 20 classes) the confusion matrix. */
void mf_metrics_print(FILE *f, const mf_metrics *m, const char (*names)[MF_LABEL_MAX]);
int mf_metrics_write_csv(const mf_metrics *m, const char (*names)[MF_LABEL_MAX],
                         const char *confusion_path, const char *per_class_path, mf_error *err);
/* history.csv → PNG (loss and accuracy per epoch) with gnuplot. */
int mf_history_plot(const char *csv_path, const char *png_path, mf_error *err);
/* A PNG drawn by gnuplot with no file name in its script: the script reads MF_PLOT_DATA and
 * writes MF_PLOT_IMAGE, fixed names inside a private folder made beside png_path; the data are
 * the file data_path (copied) or, when it is NULL, the n bytes at data. gnuplot runs by
 * fork/execvp there; its PNG is renamed to png_path. */
#define MF_PLOT_DATA  "data.csv"
#define MF_PLOT_IMAGE "plot.png"
int mf_plot_png(const char *script, const char *data_path, const void *data, size_t n,
                const char *png_path, mf_error *err);

/* Writes epoch,loss,accuracy,test_loss,test_accuracy,lr,seconds atomically. */
int mf_history_write_csv(const mf_train_result *res, const char *path, mf_error *err);

#endif
