/* Lowering (DESIGN.md §6-7): a folded model (float32) or a quantized model (int16, int8) becomes
 * a lowered program, the ONE form that both the host executes (mf_program_run: evaluation,
 * quantize's reports, QAT's forward, the expected outputs of firmware tests) and the generator
 * prints as C (deploy/). A program is an ordered list of kernel calls; each call holds the
 * runtime kernel, its constant parameters (geometry, shifts, alignments, rounding, fused ReLU
 * and pool), its weight/bias/shift blobs in the runtime layout, and arena offsets for its
 * inputs, output and scratch, placed by the memory planner (mf_plan.h).
 *
 * Every op has ONE lowering entry (lower/ops.c: validate → lower → scratch size), in the spirit
 * of TFLM's Prepare/Eval. Per-op knowledge (which ops quantize how, which kernel runs them, with
 * which shifts) is reached only through that table. */
#ifndef MF_LOWER_H
#define MF_LOWER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mf_core.h"
#include "mf_plan.h"
#include "mf_runtime.h"

/* ---- the quantized model lowering consumes (built by quantize/) ---- */

/* One node of a quantized model: formats and integer parameters. Index i of mf_qmodel.nodes
 * matches node i of the folded float model. */
typedef struct mf_qnode {
    int n_out;      /* output fractional bits (for max/avg pool, flatten, relu: the input's) */
    int n_w;        /* conv/dense weight fractional bits (per tensor) */
    int8_t *n_w_ch; /* per output channel (cout entries) or NULL */
    void *w;        /* int8_t or int16_t, runtime layout [cout][kh][kw][cin] / [out][in] */
    void *bias;     /* int32_t (int8 models) or int64_t (int16), at n_in + n_w, or NULL */
    size_t n_weights, n_bias;
    int8_t *shifts; /* per-channel requantization shifts (n_in + n_w_ch − n_out) or NULL */
    int saturated;  /* calibration report: weights that saturated when quantized */
} mf_qnode;

typedef struct mf_qmodel {
    mf_model *model; /* the folded float model (owned): graph, float weights, input transform */
    int bits;        /* 8 or 16 */
    int rounding;    /* MF_RT_ROUND_FLOOR or MF_RT_ROUND_HALF_UP */
    int per_channel;
    int n_in;    /* input fractional bits */
    int force_n; /* >= 0: the forced format of every tensor, else -1 */
    /* how the activation ranges were calibrated (provenance, kept in the file): 0 unknown (a
     * file written before it was recorded), 1 max, 2 MSE; and on how many samples (0 unknown) */
    int range_method;
    int calibration_samples;
    mf_qnode *nodes; /* model->n_nodes entries; nodes[0] describes the input (n_out = n_in) */
} mf_qmodel;

/* Every format's fractional bits (n_in, n_out, n_w, n_w_ch) lie in [−N_LIMIT, N_LIMIT]: the
 * quantizer clamps to it, quantized files and lowering refuse anything else, so every shift
 * derived from formats is a small int. */
#define MF_QFORMAT_N_LIMIT 64

/* The kernels' no-overflow precondition (runtime/mf_runtime.h), proven per output channel c
 * of a quantized conv/dense from its integer weights and bias: every partial sum of
 * bias + Σ x·w is at most |bias| + 2^(bits−1)·Σ|w| in magnitude (|x| ≤ 2^(bits−1)), which must
 * not exceed the accumulator's largest value (int32 for int8, int64 for int16). The header's
 * sufficient condition k·2^(2(bits−1)) + |bias| < 2^(accumulator bits − 1) is this bound with
 * every |w| at its largest. MF_ERR with the first offending channel described in why. Used by
 * lowering and by the quantized-file loader. */
int mf_qnode_accumulator_check(const mf_qnode *qn, int bits, size_t cout, char *why, size_t size);

/* How quantization gives an op's output its format (the op's lowering entry says). */
typedef enum mf_qrule {
    MF_QRULE_UNSUPPORTED = 0, /* the op cannot be quantized (e.g. a batch-norm left unfolded) */
    MF_QRULE_WEIGHTED,        /* calibrated output format; weights and biases quantized */
    MF_QRULE_CALIBRATED,      /* calibrated output format (add) */
    MF_QRULE_KEEP_INPUT,      /* the input's format (pools, relu, flatten) */
} mf_qrule;
mf_qrule mf_lower_qrule(mf_op op);

/* ---- the program ---- */

typedef enum mf_kernel_kind {
    MF_K_CONV,
    MF_K_CONV_MAXPOOL, /* a conv with the max-pool that follows it fused in (DESIGN.md §7) */
    MF_K_DENSE,
    MF_K_MAXPOOL,
    MF_K_AVGPOOL,
    MF_K_GLOBAL_MAXPOOL,
    MF_K_GLOBAL_AVGPOOL,
    MF_K_ADD,
    MF_K_RELU,
    MF_K_RELU6,  /* a standalone ReLU6 (one that could not fuse into its producer) */
    MF_K_DWCONV, /* depthwise conv (1D or 2D) */
    MF_K_ADDN,   /* an add of 3 or 4 inputs (2: MF_K_ADD) */
    MF_K_CONCAT, /* concatenation along the channels */
    MF_K_AFFINE, /* per-channel affine: a batch-norm that cannot fold */
    MF_K_COUNT
} mf_kernel_kind;

/* A constant array a call reads from flash: weights, biases or per-channel shifts. */
typedef struct mf_blob {
    const void *data; /* NULL: absent (a NULL argument) */
    size_t count;     /* elements */
    int esz;          /* bytes per element: 1, 2, 4 (int32 or float) or 8 */
    int is_float;
    char shape[96]; /* "[16 cout][3 k][9 cin]" */
} mf_blob;

/* Bytes of a blob in flash (0: absent). */
size_t mf_blob_bytes(const mf_blob *b);

#define MF_CALL_MAX_IN 4

/* A layer's weight representations (issue: pruning). An int8 conv or dense layer whose weights
 * have zeros can run its dense kernel or the sparse one on the nonzero weights; which one is the
 * lowering's choice (mf_lower_options.variants), by default the cost model's (lower/ops.c). */
enum { MF_VARIANT_AUTO = 0, MF_VARIANT_DENSE = 1, MF_VARIANT_SPARSE = 2 };

/* The cost model's variant is taken only when it says it is at least 10 % cheaper: the dense
 * kernels' cost varies with the geometry more than the model says. */
#define MF_VARIANT_MODEL_MARGIN 0.9

/* What each variant of a call costs; index 0 dense, 1 sparse. */
typedef struct mf_call_variants {
    int has_sparse;        /* an int8 conv/dense the sparse kernels cover (else dense only) */
    double model_instr[2]; /* the cost model's instructions per inference (conv: without a fused
                              pool's share) */
    size_t bytes[2];       /* the call's blobs in flash: weights, index, bias, shifts */
} mf_call_variants;

typedef struct mf_call {
    mf_kernel_kind kind;
    int node;        /* the graph node this call writes (the pool of a fused conv + pool) */
    int first;       /* the node whose inputs it reads (the conv of a fused pair; else = node) */
    char kernel[40]; /* runtime function, "mf_rt_conv_s8" */
    mf_rt_conv_s8_kernel conv8; /* an int8 conv (not sparse): the kernel mf_rt_conv_s8_choose
                                   picked (1D, small-geometry, register-field, wide-row, patch,
                                   lanes, dot;
                                   MF_RT_CONV_S8_ENGINE otherwise and for every other call) */
    int conv8_variant;          /* its field size P (register-field: mf_rt_conv_field<P>_s8) or
                                   shape (patch: MF_RT_CONV_PATCH_*), else 0 */
    int sparse; /* int8 conv or dense on pruned weights: the sparse kernels (w: the nonzero
                   weights, idx: counts and offsets; both owned by the call) */
    mf_call_variants var; /* the variants it had to choose from */
    /* constant parameters */
    mf_rt_geom geom;                        /* conv and pools (of the conv when fused) */
    int pool_kh, pool_kw, pool_sh, pool_sw; /* fused max pool */
    int n_in, n_out;                        /* dense: sizes; global pools: positions, channels */
    size_t count;                           /* element-wise ops: elements */
    mf_rt_requant rq;                       /* integer conv/dense/add; rq.shifts = shifts.data */
    int relu;                               /* float kernels' fused ReLU */
    int relu6;            /* the fused activation is ReLU6: the kernel's *_relu6 form (rq.relu =
                             MF_RT_RELU6(q6); float: relu 1, the form clamps at 6) */
    int rounding;         /* integer avgpool */
    int align_a, align_b; /* integer add */
    int align_c, align_d; /* an integer add's third and fourth input (MF_K_ADDN) */
    mf_rt_concat cat;     /* concatenation: channels and requantization shifts per input */
    mf_blob w, bias, shifts, idx;
    /* tensors: graph node indices, and where they live */
    int n_inputs, in[MF_CALL_MAX_IN], out;
    size_t in_off[MF_CALL_MAX_IN], out_off;
    size_t scratch_bytes, scratch_off; /* scratch_bytes 0: none (NULL) */
} mf_call;

typedef struct mf_lower_options {
    int fuse_pools; /* 1: conv → max-pool pairs with stride ≥ size run as one fused call */
    int keep_all;   /* 1: every tensor keeps its own storage to the end (per-node outputs stay
                       readable: reports, QAT); 0: the planned arena with reuse (firmware) */
    int align;      /* arena offset alignment (0: 8) */
    /* per node (of the conv/dense a call starts from), MF_VARIANT_*: which weight representation
     * its call takes when it has a sparse one; NULL: all MF_VARIANT_AUTO (the cost model) */
    const unsigned char *variants;
} mf_lower_options;

typedef struct mf_program {
    const mf_model *m;  /* the folded graph (not owned) */
    const mf_qmodel *q; /* NULL: float32 (not owned) */
    int bits;           /* 32, 16, 8 */
    size_t esz;         /* bytes per activation element */
    int n_calls;
    mf_call *calls;
    int *call_of; /* node → index of the call that writes it, or -1 (views, fused convs) */
    mf_plan plan; /* tensors 0..n_nodes−1 = nodes, n_nodes + k = call k's scratch */
    size_t in_off, out_off; /* the model input and output in the arena */
    size_t weight_bytes;    /* bytes of all blobs */
    size_t scratch_peak;    /* the largest scratch of one call */
    float **wf;             /* float32: weights per node in the runtime layout (owned) */
    float **bf; /* float32: the biases of the nodes whose op computes them (inference_weights;
                   owned; NULL for the others: their bias parameter) */
    /* the input: the model's z-score statistics (pre_n 0: none) and quantization scale 2^n_in,
     * applied by input_kernel (mf_rt_input_*) */
    const float *pre_mean, *pre_std;
    size_t pre_n;
    float in_scale;
    char input_kernel[24];
} mf_program;

/* Lowers a folded float model (q NULL; m folded by mf_fold_model) or a quantized model (q;
 * m ignored). Every node is validated first: an op without a lowering, a name that cannot
 * become a C identifier, a degenerate window, non-finite parameters are errors naming the
 * layer. */
int mf_lower_program(const mf_qmodel *q, const mf_model *m, const mf_lower_options *o,
                     mf_program *p, mf_error *err);
void mf_program_free(mf_program *p);

/* Runs every call in order on `arena` (plan.arena bytes, 8-byte aligned, owned by the caller;
 * the input already in place at in_off). */
void mf_program_run(const mf_program *p, void *arena);
/* Raw input values (before the model's preprocessing) → the program's input in the arena,
 * with the runtime's input function (the firmware's model_quantize_input does the same). */
void mf_program_input(const mf_program *p, const float *raw, void *arena);
/* Runs call k alone (its inputs already in place). */
void mf_program_run_call(const mf_program *p, int k, void *arena);

/* A call's layer as the reports name it: the node, or "conv+pool" for a fused pair. */
const char *mf_program_call_label(const mf_program *p, const mf_call *c, char *buf, size_t size);

/* The program and its memory plan as text (mcuforge lower). */
void mf_program_print(const mf_program *p, FILE *f);

/* The runtime function's arguments of call c, in order, one letter each (what the host
 * interpreter passes, for the generator to print the same call):
 *   G &geom   P pool_kh, pool_kw, pool_sh, pool_sw   I input 0   J input 1   O output
 *   W weights B bias (or NULL)   R &rq   L relu   D rounding   A align_a   C align_b
 *   K inputs (n_inputs)   T input 2   U input 3 (or NULL)   E align_c   F align_d
 *   Y &cat (the concatenation's parameters; T and U: NULL past the inputs)
 *   N n_in    M n_out   Q positions (n_in)   H channels (n_out)   Z count   0 the literal 0
 *   S scratch (or NULL)   X the sparse index blob */
const char *mf_call_args(const mf_call *c, int bits);

/* Call c as C, what the generator prints (deploy/emit.c): into stat its constant parameter
 * structs, `static const` declarations named <id>_rq (R) and <id>_geom (G), one per line; into
 * args its arguments in mf_call_args's order, comma-separated: arena tensors as MF_AT(offset),
 * blobs as <id>_w, <id>_b, <id>_shifts (inside <id>_rq) and <id>_idx, numbers and macros as
 * written. Each buffer is NUL-terminated; returns MF_ERR when one was too small. */
int mf_call_c(const mf_call *c, int bits, const char *id, char *stat, size_t stat_size, char *args,
              size_t args_size);

/* ---- choosing variants (lower/variants.c) ---- */

typedef enum mf_objective { MF_OBJECTIVE_INSTRUCTIONS = 0, MF_OBJECTIVE_FLASH } mf_objective;

/* One layer with two variants: instructions per inference (measured or the cost model's) and
 * flash bytes of its blobs; index 0 dense, 1 sparse. */
typedef struct mf_variant_cost {
    double instr[2];
    size_t bytes[2];
} mf_variant_cost;

typedef struct mf_variant_goal {
    mf_objective objective;
    /* instructions: a sparse variant counts as faster only below margin × dense (1 for
       measured figures, MF_VARIANT_MODEL_MARGIN for the cost model's) */
    double margin;
    /* budgets, 0: none. Over the whole program: the fixed part (the layers without variants, the
     * other blobs) plus the chosen variants. */
    double instr_budget, fixed_instr;
    size_t flash_budget, fixed_bytes;
} mf_variant_goal;

/* Picks a variant per layer (sparse[i] = 1: the sparse one). Each layer first takes the best
 * variant for the objective (instructions: the faster, ties dense; flash: the smaller, ties the
 * faster), so with no budget, under MF_OBJECTIVE_INSTRUCTIONS no layer is slower than its dense
 * variant. With one budget: while it is exceeded, the layer whose switch costs the least of the
 * objective per unit saved switches (greedy; the objective's own budget after the other's,
 * never breaking it). With both budgets and at most 20 such layers: every choice is tried, the
 * best for the objective within both wins (exact); more layers: the greedy way. -1 with why
 * naming the budget and the best figure reachable when the budgets cannot be met; totals (may
 * be NULL) receive the chosen figures including the fixed part. */
int mf_variants_choose(const mf_variant_cost *v, int n, const mf_variant_goal *g,
                       unsigned char *sparse, double *total_instr, size_t *total_bytes, char *why,
                       size_t size);

/* The totals of a choice (fixed part included); -1 when it breaks a budget. */
int mf_variants_total(const mf_variant_cost *v, int n, const mf_variant_goal *g,
                      const unsigned char *sparse, double *instr, size_t *bytes);

/* Qm.n of a b-bit format as text ("Q0.7"), or "float" */
const char *mf_lower_qfmt(int bits, int n, char *buf, size_t size);

#endif
