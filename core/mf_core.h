/* mcuforge core: shapes, the layer registry, the model graph, float forward/backward.
 *
 * Data flow (DESIGN.md §2): a model is a list of named nodes; node 0 is the input. Every parameter
 * lives in one flat float array (model->params); non-trainable state (batch-norm running
 * statistics) in a second one (model->state). A layer only holds offsets into them. Gradients
 * and optimizer state are parallel arrays of the same length, owned by the trainer.
 *
 * Activations are channels-last: a sample is [L][C] (1D) or [H][W][C] (2D); a batch puts
 * samples one after another. Shapes never include the batch dimension. */
#ifndef MF_CORE_H
#define MF_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "layers/mf_ops.h"
#include "mf_error.h"

#define MF_MAX_RANK   4
#define MF_NAME_MAX   64
#define MF_MAX_INPUTS 4
#define MF_MAX_NODES  1024
/* Hard limits checked before allocation (DESIGN.md §11). */
#define MF_MAX_DIM    (1 << 20)
#define MF_MAX_ELEMS  ((size_t)1 << 28)
#define MF_MAX_PARAMS ((size_t)1 << 28)

/* model file attribute mcuforge_format_version: the newest this build writes (2: pruning masks;
 * a model without masks is written as 1) */
#define MF_FORMAT_VERSION 2

typedef struct mf_shape {
    int rank;
    int dim[MF_MAX_RANK];
} mf_shape;

size_t mf_shape_size(const mf_shape *s);
int mf_shape_equal(const mf_shape *a, const mf_shape *b);
/* "128x9" style, for messages and reports. */
const char *mf_shape_str(const mf_shape *s, char *buf, size_t size);

typedef enum mf_padding { MF_PAD_VALID = 0, MF_PAD_SAME = 1 } mf_padding;

/* What a config entry or a model file says about one layer. */
typedef struct mf_layer_spec {
    char name[MF_NAME_MAX];
    mf_op op;
    int filters; /* conv filters or dense units */
    int kernel;  /* window width (1D: its length; 2D: also its height unless kernel_h is set) */
    int stride;  /* step along the width (and the height unless stride_h is set); 0: default */
    int kernel_h, stride_h; /* 2D only: a rectangular window's height and vertical step; 0: the
                               same as kernel / stride (the square shorthand) */
    mf_padding padding;
    int use_bias;
    mf_activation activation;
    float rate;
    float momentum;
    float epsilon;
#define MF_SPEC_INT_KEY_(name, bit, min, max, def) int name;
    MF_LAYER_INT_KEYS(MF_SPEC_INT_KEY_)
#undef MF_SPEC_INT_KEY_
    int n_inputs; /* 0: the previous layer (or the model input for the first layer) */
    char inputs[MF_MAX_INPUTS][MF_NAME_MAX];
} mf_layer_spec;

/* A spec with the op's defaults (use_bias 1, stride = 0 meaning "default", bn momentum 0.99,
 * epsilon 1e-3). */
void mf_layer_spec_init(mf_layer_spec *s, mf_op op, const char *name);

/* A named parameter tensor of a layer (for model files and reports). */
typedef struct mf_param_desc {
    const char *name; /* "kernel", "bias", "gamma", "beta", "moving_mean", "moving_variance" */
    int is_state;     /* 1: lives in model->state (not trained), 0: in model->params */
    size_t offset;    /* relative to the node's param_offset or state_offset */
    mf_shape shape; /* file layout (Keras): conv1d [k][cin][cout], conv2d [kh][kw][cin][cout], dense
                       [in][out] */
    int cout_dims;  /* a kernel: how many trailing dimensions of shape make its output channels
                       (0 means 1): read row-major it is the K × cout matrix mf_param_cout gives */
} mf_param_desc;

/* A kernel's output channels: the product of its last max(1, cout_dims) dimensions. Quantization,
 * folding and lowering view every kernel as a K × cout matrix (K = size / cout). */
size_t mf_param_cout(const mf_param_desc *d);

typedef struct mf_node {
    mf_layer_spec spec;
    int n_inputs;
    int inputs[MF_MAX_INPUTS]; /* node indices */
    mf_shape out_shape;
    size_t param_offset, n_params;
    size_t state_offset, n_state;
    /* Set by shape inference: per-sample auxiliary floats kept from forward for backward
     * (argmax indices, dropout masks), per-batch fixed auxiliary floats (batch statistics),
     * and scratch floats per sample / fixed (im2col chunks). */
    size_t aux_per_sample, aux_fixed;
    size_t scratch_fixed;
    int alias_input; /* output shares its input's buffers (flatten) */
} mf_node;

#define MF_LABEL_MAX 64 /* class name length, terminator included */

/* Input normalisation: the config's dataset.normalize and a model file's preprocessing kind. */
typedef enum {
    MF_NORM_NONE = 0,    /* "none" */
    MF_NORM_ELEMENT = 1, /* "element": z-score per (position, channel), MicroAI's axis=0 */
    MF_NORM_CHANNEL = 2  /* "channel": z-score per channel */
} mf_norm_kind;

/* The input transform a model was trained with (DESIGN.md §13): x' = (x − mean) / std, either
 * per input element (n = input size) or per channel (n = channels); kind 0 = none (n = 0).
 * Evaluation and deployment apply the same transform. */
typedef struct mf_preprocess {
    int kind; /* an mf_norm_kind: 0 none, 1 element, 2 channel */
    size_t n;
    float *mean;
    float *std;
} mf_preprocess;

typedef struct mf_model {
    mf_shape input_shape;
    int n_nodes; /* including node 0, the input */
    mf_node *nodes;
    int *order; /* topological order of node indices, order[0] == 0 */
    int output; /* index of the output node */
    size_t n_params;
    float *params;
    uint8_t *mask; /* pruning (DESIGN §2, §9): one flag per parameter, 1 kept, 0 pruned (its value
                      is 0 and stays 0); NULL: nothing pruned. Only kernels are ever pruned. */
    size_t n_state;
    float *state;
    char *config_text; /* resolved config (YAML) the model was trained from, may be NULL */
    mf_preprocess pre;
    char dataset[MF_LABEL_MAX];        /* dataset name, "" if unknown */
    int n_class_names;                 /* 0 or the output size */
    char (*class_names)[MF_LABEL_MAX]; /* may be NULL */
} mf_model;

/* Building: new → add layers (any order; inputs resolved by name) → finalize (topological
 * order, shape inference, parameter allocation). Errors from add/finalize set err->field to
 * "layers[i]" (i = index in the order layers were added, 0-based) so a config can point at the
 * entry; a shape mismatch names both layers in the message. */
mf_model *mf_model_new(const mf_shape *input_shape, mf_error *err);
int mf_model_add(mf_model *m, const mf_layer_spec *spec, mf_error *err);
int mf_model_finalize(mf_model *m, mf_error *err);
/* The same, refusing before any allocation a graph whose parameters and state values exceed
 * max_values (a loader passes the number of values its file stores). */
int mf_model_finalize_within(mf_model *m, size_t max_values, mf_error *err);
void mf_model_free(mf_model *m);
/* Copies preprocessing statistics (kind, n, mean, std) into m; MF_ERR if n does not fit the
 * input (input size for kind 1, channels for kind 2). */
int mf_model_set_preprocess(mf_model *m, int kind, size_t n, const float *mean, const float *std,
                            mf_error *err);
/* Applies m's preprocessing in place to `count` samples. */
void mf_model_preprocess(const mf_model *m, float *x, size_t count);
int mf_model_set_class_names(mf_model *m, int n, const char (*names)[MF_LABEL_MAX], mf_error *err);
/* Fresh parameters: PyTorch defaults (U(±1/sqrt(fan_in)) for kernels and biases), BN gamma 1,
 * beta 0, moving mean 0, moving variance 1. */
void mf_model_init_params(mf_model *m, uint64_t seed);
int mf_model_find(const mf_model *m, const char *name); /* node index or -1 */
size_t mf_model_input_size(const mf_model *m);
size_t mf_model_output_size(const mf_model *m);
uint64_t mf_node_macs(const mf_model *m, int node);
uint64_t mf_model_macs(const mf_model *m);
/* Spatial geometry of a window op (conv or pool); 1D runs as 2D with h = 1 (kernel 1 x k). */
typedef struct mf_window {
    int h, w, cin; /* input */
    int kh, kw, sh, sw;
    int pad_top, pad_left;
    int oh, ow, cout; /* output */
} mf_window;
/* The window geometry of a conv or pool node (what deploy and the runtime kernels need). */
void mf_node_window(const mf_model *m, int node, mf_window *g);
/* Parameter tensors of a node, at most 4; returns the count. */
int mf_node_params(const mf_model *m, int node, mf_param_desc out[4]);

/* ---- pruning masks (core/mask.c) ---- */
/* The node's prunable tensor, its kernel (conv and dense layers): 1 and its offset in
 * m->params and value count, or 0 (no kernel). */
int mf_node_kernel(const mf_model *m, int node, size_t *offset, size_t *count);
/* Gives m a mask of ones if it has none. */
int mf_model_mask_alloc(mf_model *m, mf_error *err);
/* Sets every pruned parameter to 0 (after an optimizer step; no-op without a mask). */
void mf_model_mask_apply(mf_model *m);
/* Pruned values of node's kernel (node < 0: of the whole model), and in *total the kernel
 * values counted. */
size_t mf_model_mask_zeros(const mf_model *m, int node, size_t *total);

/* Templates (PAPER.md §1): resnetv1_6 with width f, dims 1 or 2, an input shape and classes. */
typedef struct mf_template_args {
    int width;
    int dims;
    mf_shape input_shape;
    int classes;
} mf_template_args;
mf_model *mf_template_build(const char *name, const mf_template_args *a, mf_error *err);
const char *mf_template_names(void);

/* ---- the layer registry ---- */

typedef struct mf_layer_ctx {
    const mf_model *model;
    const mf_node *node;
    int n; /* samples in this batch */
    int training;
    uint64_t seed; /* per step; dropout masks hash (seed, node, sample_base + i, element) */
    int sample_base;
    const float *x[MF_MAX_INPUTS]; /* inputs, n samples each */
    float *y;                      /* output, n samples */
    float *dy;                     /* backward: gradient of the output (writable scratch) */
    float *dx[MF_MAX_INPUTS];      /* backward: add into these; NULL = not needed (model input) */
    const float *params;           /* this node's parameters (already offset) */
    float *dparams;                /* backward: add into these (already offset) */
    float *state;                  /* this node's state (already offset), may be NULL */
    float *aux;                    /* aux_per_sample*n + aux_fixed floats */
    float *scratch;                /* scratch_fixed floats */
} mf_layer_ctx;

typedef struct mf_op_info {
    const char *name;
    unsigned keys; /* MF_KEY_* bits accepted */
    int min_inputs, max_inputs;
    /* Sets node->out_shape, n_params, n_state, aux and scratch sizes from the input shapes.
     * Errors name the layer and, for a mismatch, its input layers. */
    int (*infer)(const mf_model *m, mf_node *node, mf_error *err);
    void (*init)(const mf_model *m, const mf_node *node, float *params, float *state,
                 uint64_t seed);
    void (*forward)(const mf_layer_ctx *c);
    void (*backward)(const mf_layer_ctx *c);
    uint64_t (*macs)(const mf_model *m, const mf_node *node);
    int (*params)(const mf_model *m, const mf_node *node, mf_param_desc out[4]);
    /* Training-mode state update after a step, from the batch statistics each shard kept in
     * its aux_fixed area (batch-norm running statistics); NULL if the op has no state. */
    void (*update_state)(const mf_node *node, float *state, const float *const *shard_aux,
                         int n_shards);
    unsigned flags; /* MF_OPF_*: what folding (quantize/fold.c) may do around the op */
    /* an activation layer (relu): the activation it applies, which folding turns into its
     * producer's fused activation; MF_ACT_NONE for every other op */
    mf_activation act;
    /* An op whose lowering quantizes weights but whose parameters are not stored as the kernel
     * and bias it computes with: writes its inference kernel (the K × cout matrix of its first
     * parameter's shape) and its cout biases; NULL: the first two parameters are they
     * (mf_node_inference_weights). */
    void (*inference_weights)(const mf_model *m, const mf_node *node, const float *params,
                              const float *state, float *kernel, float *bias);
} mf_op_info;

enum {
    /* its parameters are a kernel (a K × cout matrix, mf_param_cout) and an optional bias [cout]:
     * a batch-norm right after it folds into them, and an activation after a max pool that
     * follows it can move onto it */
    MF_OPF_WEIGHTED = 1u << 0,
    /* a nondecreasing activation after it may move in front of it (a max pool: taking a maximum
     * commutes with a nondecreasing function) */
    MF_OPF_ACT_COMMUTES = 1u << 1,
    /* its quantized weights take one format per output channel whatever the model's setting
     * (scales that differ by orders of magnitude across channels, as batch-norm's) */
    MF_OPF_PER_CHANNEL = 1u << 2,
};

/* The kernel (mf_param_cout's K × cout matrix, Keras layout) and the cout biases node computes
 * with in inference, into kernel and bias (bias: 0 without one): its op's inference_weights, or
 * its first two parameters as stored. */
void mf_node_inference_weights(const mf_model *m, int node, float *kernel, float *bias);

const mf_op_info *mf_op_get(mf_op op);
/* By name ("conv1d", …); NULL if unknown. */
const mf_op_info *mf_op_lookup(const char *name, mf_op *op_out);
/* "conv1d, conv2d, dense, …" (static string) for error messages. */
const char *mf_op_names(void);

/* ---- execution ---- */

/* Buffers to run a model on up to `batch` samples (activations, gradients, aux, scratch),
 * allocated once and reused (DESIGN.md §2). One workspace per thread. */
typedef struct mf_workspace mf_workspace;
mf_workspace *mf_workspace_new(const mf_model *m, int batch, int training, mf_error *err);
void mf_workspace_free(mf_workspace *ws);
int mf_workspace_batch(const mf_workspace *ws);

/* Runs n ≤ batch samples of x; returns the output (n × output size), owned by ws. training=1
 * uses batch statistics in batch-norm and masks in dropout (seed, sample_base: see ctx). */
const float *mf_forward(mf_workspace *ws, const float *params, float *state, const float *x, int n,
                        int training, uint64_t seed, int sample_base);
/* Back-propagates dout (n × output size, n as in the last forward); adds the parameter
 * gradients into grad (model->n_params floats). */
void mf_backward(mf_workspace *ws, const float *params, const float *dout, float *grad);
/* After training-mode forwards on several shards: updates running statistics in state. */
void mf_update_state(const mf_model *m, float *state, mf_workspace *const *ws, int n_shards);
/* A forward hook may compute a node's output itself (quantization-aware training runs the
 * integer kernels here): called before each node's float forward with the node's context;
 * returning 1 skips the float forward. Set once per workspace, before running it. */
typedef int (*mf_forward_hook)(void *ctx, const mf_workspace *ws, const mf_layer_ctx *c);
void mf_workspace_set_hook(mf_workspace *ws, mf_forward_hook hook, void *ctx);

/* Output of a node after the last forward (n × node size), for tests and reports. */
const float *mf_workspace_output(const mf_workspace *ws, int node);

/* Softmax cross-entropy on logits (n × k), averaged over `scale_n` samples (the whole batch
 * when computed per shard). Labels b and lambda give mixup's λ·CE(a) + (1−λ)·CE(b); pass
 * labels_b = NULL otherwise. Writes dlogits (may be NULL), returns the summed loss (not
 * averaged), counts argmax == labels_a in *correct (may be NULL). */
double mf_softmax_xent(const float *logits, int n, int k, const int *labels_a, const int *labels_b,
                       float lambda, int scale_n, float *dlogits, int *correct);

/* GEMM observer for benchmarks (bench/train_throughput replays a step's GEMMs alone): when
 * set, every GEMM the layers run reports its shape first, from whichever thread runs it. This is
 * the one piece of global mutable state in core; set it only while no model is running. */
typedef void (*mf_gemm_observer)(void *ctx, int trans_a, int trans_b, int m, int n, int k);
void mf_set_gemm_observer(mf_gemm_observer fn, void *ctx);

/* ---- deterministic random numbers (no global state) ---- */
typedef struct mf_rng {
    uint64_t s[4];
} mf_rng;
void mf_rng_seed(mf_rng *r, uint64_t seed);
uint64_t mf_rng_u64(mf_rng *r);
double mf_rng_uniform(mf_rng *r); /* [0, 1) */
double mf_rng_normal(mf_rng *r);
uint32_t mf_rng_below(mf_rng *r, uint32_t n); /* [0, n) without modulo bias */
double mf_rng_gamma(mf_rng *r, double shape); /* Gamma(shape, 1), shape > 0 */
double mf_rng_beta(mf_rng *r, double a, double b);
uint64_t mf_hash64(uint64_t a, uint64_t b);

#endif
