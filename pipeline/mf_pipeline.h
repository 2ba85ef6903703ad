/* The pipeline (DESIGN.md §1): train → quantize → deploy → run on the emulated target, as
 * library calls shared by the CLI verbs (train, quantize, deploy, lower, run), the benchmarks
 * and any program linking the libraries. Post-training quantization has one policy everywhere
 * (mf_ptq: a calibration subset spread evenly over the training split, max or MSE ranges).
 * Progress notes and results go to `log` (NULL: quiet); errors are returned in err. */
#ifndef MF_PIPELINE_H
#define MF_PIPELINE_H

#include <stdio.h>

#include "mf_compress.h"
#include "mf_config.h"
#include "mf_core.h"
#include "mf_datasets.h"
#include "mf_quantize.h"

/* Trains the model cfg describes and writes train.output with history.csv, history.png,
 * confusion.csv and per_class.csv beside it. */
int mf_pipeline_train(const mf_config *cfg, FILE *log, mf_error *err);

/* A float model file, the config embedded in it (overrides applied; the dataset section
 * checked) and that dataset, normalised with the model's statistics; the dataset's sample shape
 * and classes must be the model's. On error nothing is left allocated. */
int mf_pipeline_model_data(const char *model_path, char *const *overrides, int n_overrides,
                           FILE *log, mf_model **model, mf_config **cfg, mf_dataset **data,
                           mf_error *err);

/* Prunes a float model file (DESIGN.md §9): magnitude pruning of its conv and dense kernels to
 * spec.sparsity, gradually while fine-tuning on its embedded config's dataset (epochs > 0; the
 * schedule mf_prune_schedule_at from `initial` at the first step to the target after
 * ramp_epochs, the mask recomputed every `every` steps) or at once (epochs 0); then the test
 * accuracy before and after, the sparsity per layer, and the pruned model file (with its masks)
 * at out_path. */
typedef struct mf_prune_request {
    const char *model_path, *out_path;
    mf_prune_spec spec;
    int epochs;       /* fine-tuning epochs (0: one-shot pruning, no training) */
    double lr;        /* 0: a tenth of the config's train.lr */
    double initial;   /* the schedule's first sparsity */
    int ramp_epochs;  /* epochs the ramp takes (0: two thirds of epochs, at least 1) */
    long every;       /* optimizer steps between mask updates (0: a quarter of an epoch) */
    int threads;      /* 0: the config's train.threads */
    char **overrides; /* key=value applied to the embedded config */
    int n_overrides;
    /* distillation while fine-tuning: NULL, the embedded config's train.distill (when it names a
     * teacher); else these settings, a NULL or "" teacher meaning model_path (the model before
     * pruning) */
    const mf_distill_config *distill;
} mf_prune_request;
int mf_pipeline_prune(const mf_prune_request *r, FILE *log, mf_error *err);

/* Quantizes a float model file with its embedded config's dataset: PTQ (or PTQ then QAT),
 * accuracy of the integer program against the float one, the per-layer error report, then the
 * quantized model file. */
typedef struct mf_quantize_request {
    const char *model_path, *out_path;
    mf_ptq_options ptq;
    int qat, qat_epochs;
    double qat_lr;    /* 0: the learning rate of the last epoch of the float schedule */
    char **overrides; /* key=value applied to the embedded config */
    int n_overrides;
} mf_quantize_request;
int mf_pipeline_quantize(const mf_quantize_request *r, FILE *log, mf_error *err);

/* Deploys a model file: a quantized model at its precision, or a float model at float32 or,
 * quantized first with r->ptq (written to out_dir/model.q8.h5 / .q16.h5), at int16/int8. The
 * project replaces out_dir as a whole, only once complete (mf_deploy_generate: a new folder, an
 * empty one or an earlier deploy's; any folder with force). */
typedef struct mf_deploy_request {
    const char *model_path, *out_dir, *cflags, *opt;
    int precision; /* 0 (a quantized model's own), 32, 16 or 8 */
    int run, n_vectors, all_test, stream, threads, timeout_s, no_fuse;
    mf_ptq_options ptq; /* bits and threads are set from precision and threads */
    char **overrides;   /* key=value applied to the model's embedded config */
    int n_overrides;
    const char *opt_field; /* what the user called opt, for errors (NULL: "--opt"); cflags are
                              "--cflags" */
    int force;             /* out_dir may be any folder, replaced as a whole (--force) */
    /* the weight variant of each pruned int8 layer (mf_pipeline_variants) */
    int objective;       /* mf_objective */
    size_t flash_budget; /* bytes of the model's weights (0: none) */
    double instr_budget; /* instructions per inference (0: none; needs run) */
} mf_deploy_request;
int mf_pipeline_deploy(const mf_deploy_request *r, FILE *log, mf_error *err);

/* What deploy (and lower) start from: the quantized model (loaded, or quantized here), or the
 * float model for float32; the dataset of its embedded config; the raw test vectors (n_vectors
 * −1: 20; all_test: the whole split) and their labels. */
typedef struct mf_deploy_inputs {
    mf_model *model;
    mf_qmodel *q;
    int quantized_here; /* q came from a float model through mf_ptq */
    mf_config *cfg;
    mf_dataset *data;
    float *vectors;
    int *labels, n_vectors;
} mf_deploy_inputs;
int mf_pipeline_deploy_inputs(const mf_deploy_request *r, FILE *log, mf_deploy_inputs *in,
                              mf_error *err);
void mf_deploy_inputs_free(mf_deploy_inputs *in);

/* Which weight representation each int8 conv/dense layer with a sparse variant takes
 * (mf_variants_choose under r's objective and budgets), as lowering requests per node
 * (*variants) and, when r->run, the instructions each variant takes measured in QEMU
 * (*measured, 2 per node): two profiling builds of a few vectors in a temporary folder, every
 * such layer dense then every one sparse. Without run, the cost model's figures (an instruction
 * budget is refused). Nothing to choose and no budget: both NULL. Budgets that cannot be met are
 * errors naming the best figure reachable. */
int mf_pipeline_variants(const mf_deploy_request *r, const mf_deploy_inputs *in, FILE *log,
                         unsigned char **variants, double **measured, mf_error *err);

/* The chain a config describes: train, then quantize when it has a quantize section, then
 * deploy (and measure on the target) when it has a deploy section. */
int mf_pipeline_run(const mf_config *cfg, FILE *log, mf_error *err);

#endif
