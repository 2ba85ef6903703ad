/* Configs (YAML, loaded through libcyaml). Sections: dataset, model, train. Every error names
 * the file, line, column and field. Overrides "key.sub=value" (e.g. train.epochs=3,
 * model.width=16, model.layers[2].filters=8, model.layers.conv1.filters=8) change any field
 * after loading and are validated like the file. */
#ifndef MF_CONFIG_H
#define MF_CONFIG_H

#include <stdbool.h>

#include "mf_core.h"    /* mf_norm_kind, mf_model, mf_error */
#include "mf_runtime.h" /* MF_RT_ROUND_*: the rounding modes quantized files and firmware use */

typedef struct mf_yaml_marks mf_yaml_marks; /* field path -> line/column index */

/* Hard limits on every size a config gives (DESIGN.md §11), checked when the config is loaded,
 * before anything is allocated; a value outside is an error naming the field and where it was
 * written (file:line:column or the override). Each bound is far above what the tool's
 * datasets and MCU-sized models need and keeps what it sizes within a few hundred MiB.
 *
 *   field                                  bound              what it sizes
 *   train.epochs, quantize.epochs,         1 .. 100000        the per-epoch history (and
 *     train.milestones[i]                                     lines of history.csv)
 *   train.batch_size                       1 .. 65536         the training buffers (inputs,
 *                                                             labels, mixup, activations)
 *   train.threads                          1 .. 64            shards and their workspaces (the
 *                                                             trainer and pool run at most 64)
 *   dataset.classes, model.classes         2 .. 1000          class patterns, the output
 *                                                             layer, classes² confusion matrix
 *   dataset.shape[i], model.input_shape[i] 1 .. 2^20          (MF_MAX_DIM, as the graph)
 *   dataset.shape, model.input_shape       product <= 2^28    one sample (MF_MAX_ELEMS)
 *   dataset.train_samples, test_samples    1 .. 2^24          the synthetic splits; together
 *                                          (train + test) ×   at most MF_MAX_ELEMS values
 *                                          sample <= 2^28     (1 GiB of floats)
 *   dataset.train_limit, test_limit,       0 .. 2^24          sample counts (a cap, not an
 *     quantize.calibration                                    allocation: 0 = all)
 *   deploy.vectors                         1 .. 2^24          test vectors in the firmware
 *   model.width                            1 .. 4096          a template's filters per conv
 *   model.layers[i].filters, units         1 .. 65536         a layer's output channels
 *   model.layers[i].kernel, stride         1 .. 1024 (each    a window (and its padding)
 *                                          of [h, w])
 *   model.layers                           <= 1023 layers     (MF_MAX_NODES − 1)
 *   dataset.mfcc.filters                   1 .. 256           the mel filter bank (filters ×
 *                                                             fft_size/2 floats)
 *   dataset.mfcc.frames                    1 .. 4096          frames per recording (a sample
 *                                                             is frames × coefficients)
 *   dataset.mfcc.fft_size                  0, or a power of   the FFT (2^17 covers the longest
 *                                          two <= 2^17        window: 10 s at 8 kHz)
 *   dataset.mfcc.frame_ms, shift_ms        <= 10000 ms        a window or shift of 80000 samples
 *   deploy.timeout                         1 .. 86400 s       one QEMU run (a day)
 *   deploy.flash_budget                    0 .. 1 MiB         the chip's flash
 *   deploy.instruction_budget              0 .. 2^31 − 1      an int
 *   prune.epochs, prune.ramp_epochs        0 .. 100000        as train.epochs
 *   prune.every                            0 .. 2^30          optimizer steps
 *   dataset.path, dataset.cache_dir,       <= 1024 characters file names derived from them
 *     train.output, deploy.out, deploy.opt,                   (fixed 4096-byte buffers)
 *     train.distill.teacher,
 *     prune.distill.teacher
 *   the YAML text itself                   16 MiB, 64 nested  the parse (config_internal.h)
 *                                          levels, 65536 values */
#define MF_CONFIG_MAX_EPOCHS       100000
#define MF_CONFIG_MAX_BATCH        65536
#define MF_CONFIG_MAX_THREADS      64
#define MF_CONFIG_MAX_CLASSES      1000
#define MF_CONFIG_MAX_SAMPLES      (1 << 24)
#define MF_CONFIG_MAX_WIDTH        4096
#define MF_CONFIG_MAX_CHANNELS     65536
#define MF_CONFIG_MAX_KERNEL       1024
#define MF_CONFIG_MAX_MFCC_FILTERS 256
#define MF_CONFIG_MAX_MFCC_FRAMES  4096
#define MF_CONFIG_MAX_FFT          (1 << 17)
#define MF_CONFIG_MAX_TIMEOUT      86400
#define MF_CONFIG_MAX_PATH         1024

/* MFCC front end (fsdd). Defaults (DESIGN.md §13): 50 ms Hamming window, 25 ms shift, 26 mel
 * filters, 13 features = log frame energy + c1..c12, 39 frames, pre-emphasis 0.97, FFT size the
 * next power of two >= the window, mel filters from 0 Hz to half the sample rate. */
typedef struct mf_mfcc_config {
    float frame_ms;    /* default 50 */
    float shift_ms;    /* default 25 */
    int filters;       /* default 26 */
    int coefficients;  /* default 13 (feature 0 is log energy, then c1..c12) */
    int frames;        /* default 39: zero-pad or truncate the signal at the end */
    float preemphasis; /* default 0.97; 0 disables */
    int fft_size;      /* 0 (default): next power of two >= the window length */
    int layout; /* MF_MFCC_SEQUENCE (default): samples [frames][coefficients], the coefficients
                   as channels of a 1D sequence; MF_MFCC_IMAGE: [frames][coefficients][1], a
                   one-channel image for 2D models (keyword-spotting CNNs); the same values */
} mf_mfcc_config;

enum { MF_MFCC_SEQUENCE = 0, MF_MFCC_IMAGE = 1 };

typedef struct mf_dataset_config {
    char *name; /* synthetic | uci-har | fsdd | gtsrb | mnist | png */
    char *path; /* folder; default per DESIGN.md §13 (relative to the repo root), e.g.
                   ../shared/data/uci-har/reconstructed; png: required */
    int *shape; /* synthetic: sample shape; png: [height, width, channels] */
    unsigned shape_count;
    int classes;            /* synthetic: number of classes */
    int train_samples;      /* synthetic: default 2048 */
    int test_samples;       /* synthetic: default 512 */
    float noise;            /* synthetic: noise std, default 1.0 */
    unsigned seed;          /* synthetic: generator seed, default 1; validation split seed */
    mf_norm_kind normalize; /* none | element | channel; default element (synthetic: none) */
    bool cache;             /* keep prepared tensors in HDF5 under cache_dir; default true
                               (synthetic: never cached) */
    char *cache_dir;        /* default "cache" */
    float validation;       /* fraction of the training groups (subjects for uci-har, tracks
                               for gtsrb, speakers' repetitions for fsdd, random samples
                               otherwise) held out for validation; default 0 */
    bool resize;            /* mnist: resize 28x28 to 32x32 instead of zero-padding by 2;
                               png: resize images whose size differs from shape instead of
                               rejecting them; default false */
    int train_limit;        /* use only the first N training samples (0: all); for quick runs */
    int test_limit;         /* same for the test split */
    mf_mfcc_config mfcc;    /* fsdd */
} mf_dataset_config;

typedef struct mf_layer_config {
    char *name;
    char *type;
    char **inputs;
    unsigned inputs_count;
    int filters, units;
    /* a window's size and stride: one value (1D, or square 2D) or [height, width] (2D); NULL
     * (count 0) if absent */
    int *kernel, *stride;
    unsigned kernel_count, stride_count;
    char *padding;                 /* "same" | "valid" */
    char *activation;              /* an activation name (mf_ops.h): "relu", …, "none" */
    int use_bias;                  /* -1 if absent (default 1) */
    float rate, momentum, epsilon; /* < 0 if absent */
    /* the layer folder's plain integer keys (MF_LAYER_INT_KEYS), 0 if absent */
#define MF_CONFIG_INT_KEY_(key, bit, min, max, def) int key;
    MF_LAYER_INT_KEYS(MF_CONFIG_INT_KEY_)
#undef MF_CONFIG_INT_KEY_
} mf_layer_config;

typedef struct mf_model_config {
    char *template_name; /* key "template": "resnetv1_6", or NULL for an explicit layer list */
    int width;
    int dims;
    int *input_shape; /* optional: defaults to the dataset's sample shape */
    unsigned input_shape_count;
    int classes; /* optional (0): defaults to the dataset's class count */
    mf_layer_config *layers;
    unsigned layers_count;
} mf_model_config;

typedef enum { MF_OPT_SGD = 0, MF_OPT_ADAM = 1 } mf_optimizer_kind;
typedef enum {
    MF_SCHED_CONSTANT = 0,
    MF_SCHED_MULTISTEP = 1,
    MF_SCHED_COSINE = 2
} mf_schedule_kind;
typedef enum {
    MF_PROGRESS_AUTO = 0,
    MF_PROGRESS_BAR = 1,
    MF_PROGRESS_LINES = 2,
    MF_PROGRESS_NONE = 3
} mf_progress_kind;

/* Knowledge distillation (Hinton et al. 2015): the training loss becomes
 * (1 − alpha)·CE(labels) + alpha·T²·KL(softmax(teacher/T) ‖ softmax(student/T)), the teacher a
 * float model file run in inference mode on the same (mixed) samples with its own input
 * normalisation. Used by every training run that takes the train section: training, pruning's
 * fine-tuning and QAT. */
typedef struct mf_distill_config {
    char *teacher;     /* float model file; NULL or "" (default): no distillation */
    float temperature; /* T > 0, default 4 */
    float alpha;       /* weight of the teacher's term, 0 .. 1, default 0.9 */
    /* for errors, not a key: the config path these settings came from ("train.distill" when
     * NULL; "prune.distill" for pruning's own) */
    const char *section;
} mf_distill_config;

typedef struct mf_train_config {
    int epochs;                  /* default 10 */
    int batch_size;              /* default 64 */
    mf_optimizer_kind optimizer; /* sgd | adam, default sgd */
    float lr;                    /* default 0.05 */
    float momentum;              /* sgd, default 0.9 */
    bool nesterov;               /* sgd, default false */
    float weight_decay;          /* default 5e-4 (L2 added to the gradient, as PyTorch SGD/Adam) */
    float beta1, beta2, eps;     /* adam: 0.9, 0.999, 1e-8 */
    mf_schedule_kind schedule;   /* constant | multistep | cosine, default constant */
    int *milestones;             /* multistep: epochs at which lr *= gamma */
    unsigned milestones_count;
    float gamma;        /* multistep, default 0.1 */
    float min_lr;       /* cosine: final lr, default 0 */
    unsigned seed;      /* init and shuffling, default 1 */
    int threads;        /* batch shards run in parallel, default 2; BLAS itself runs 1 thread */
    bool deterministic; /* default true: fixed thread count, fixed reduction order */
    char *output;       /* model file, default "runs/<config stem>/model.h5" */
    mf_progress_kind progress; /* auto (bar on a terminal, lines otherwise) | bar | lines | none */
    float mixup_alpha; /* mixup (PAPER.md §3): λ ~ Beta(α, α) per batch; 0 (default) = off */
    mf_distill_config distill; /* train.distill: off unless a teacher is given */
} mf_train_config;

typedef enum { MF_QUANT_PTQ = 0, MF_QUANT_QAT = 1 } mf_quant_method;
/* quantize.rounding holds the runtime's values (MF_RT_ROUND_HALF_UP for "half-up",
 * MF_RT_ROUND_FLOOR for "floor"): one numbering for configs, quantized files and firmware. */

/* The optional quantize section: `mcuforge run` quantizes the trained model with it. */
typedef struct mf_quantize_config {
    bool present;           /* the section is in the config (set by the loader) */
    int bits;               /* 8 | 16, required */
    mf_quant_method method; /* ptq | qat, default ptq */
    int epochs;             /* qat: default 3 */
    float lr;               /* qat: 0 (default) = train's schedule at its last epoch */
    bool per_channel;       /* default false */
    int rounding;           /* MF_RT_ROUND_*: half-up | floor, default half-up */
    int range_mse;          /* range: max (0, default) | mse (1, the MSE range search) */
    int force_n;            /* -1 (default): formats from calibrated ranges; else n everywhere */
    int calibration;        /* training samples to calibrate on, 0 (default) = all */
} mf_quantize_config;

/* One layer of prune.layers: pruned to its own sparsity. */
typedef struct mf_prune_layer_config {
    char *name;
    float sparsity; /* required, 0 .. 0.99, at least prune.initial */
} mf_prune_layer_config;

/* The optional prune section: `mcuforge run` prunes the trained model with it (as `mcuforge
 * prune`, DESIGN §9) before quantizing, and the next steps take the pruned model. */
typedef struct mf_prune_config {
    bool present;    /* the section is in the config (set by the loader) */
    float sparsity;  /* required: share of the conv/dense kernel values pruned, 0 .. 0.99 */
    int epochs;      /* fine-tuning epochs while pruning gradually, default 4; 0: at once */
    float lr;        /* fine-tuning rate, 0 (default) = a tenth of train.lr */
    float initial;   /* the schedule's first sparsity, default 0 */
    int ramp_epochs; /* epochs of the ramp to the target, 0 (default) = two thirds of epochs */
    int every;       /* optimizer steps between mask updates, 0 (default) = a quarter epoch */
    bool per_layer;  /* every kernel at the sparsity (default false: one global threshold) */
    char **exclude;  /* layer names kept dense */
    unsigned exclude_count;
    mf_prune_layer_config *layers; /* layers at their own sparsity (the others at sparsity) */
    unsigned layers_count;
    /* prune.distill: the fine-tuning distils with these settings instead of train.distill's;
     * teacher NULL or "": the model being pruned, before pruning (the dense model) */
    bool distill_present; /* the file or an override gave prune.distill (set by the loader) */
    mf_distill_config distill;
} mf_prune_config;

/* The optional deploy section: `mcuforge run` then deploys the (quantized) model as firmware
 * and, with run, measures it in QEMU (as `mcuforge deploy`). Precision: the quantize
 * section's bits, float32 without one. */
typedef struct mf_deploy_config {
    bool present;  /* the section is in the config (set by the loader) */
    char *out;     /* firmware folder, default "<model folder>/firmware" (NULL: default) */
    int vectors;   /* test vectors, default 20 */
    bool all_test; /* the whole test split (streamed), default false */
    bool stream;   /* vectors through semihosting instead of flash, default false */
    bool run;      /* build and run in QEMU, default true */
    char *opt;     /* optimisation flags (NULL: the generator's default) */
    int timeout;   /* seconds per QEMU run, default 120 */
    /* the weight variant per pruned layer (mcuforge deploy --objective, --flash-budget,
     * --instruction-budget): objective 0 instructions (default), 1 flash (mf_objective's
     * values); budgets 0: none */
    int objective;
    int flash_budget;       /* bytes of the model's weights in flash */
    int instruction_budget; /* per inference; needs run */
} mf_deploy_config;

typedef struct mf_config {
    char *path; /* the file it came from */
    mf_dataset_config dataset;
    mf_model_config model;
    mf_train_config train;
    mf_quantize_config quantize;
    mf_prune_config prune;
    mf_deploy_config deploy;
    mf_yaml_marks *marks;
} mf_config;

int mf_config_load(const char *path, char *const *overrides, int n_overrides, mf_config **out,
                   mf_error *err);
/* The same from text (e.g. the config embedded in a model file); origin names it in errors.
 * MF_CONFIG_DATASET_ONLY checks only the dataset section (the model and train sections may be
 * absent), for commands that only need data. */
#define MF_CONFIG_DATASET_ONLY 1u
int mf_config_load_text(const char *text, const char *origin, char *const *overrides,
                        int n_overrides, unsigned flags, mf_config **out, mf_error *err);
void mf_config_free(mf_config *c);

/* Builds (and finalizes) the model the config describes for data of the given sample shape and
 * class count; errors point at the config line/column of the layer (or field) at fault. */
mf_model *mf_config_build_model(const mf_config *c, const mf_shape *data_shape, int data_classes,
                                mf_error *err);

/* The resolved config (defaults and overrides applied) as YAML text; caller frees. */
char *mf_config_dump(const mf_config *c, mf_error *err);

#endif
