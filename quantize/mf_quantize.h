/* Quantization (DESIGN.md §5, §13): power-of-two fixed point for int8 and int16, chosen from
 * calibrated ranges or forced; batch-norm folded and ReLU fused first; a quantized model runs on
 * the host through the runtime kernels (runtime), the very code the firmware runs. */
#ifndef MF_QUANTIZE_H
#define MF_QUANTIZE_H

#include <stdint.h>
#include <stdio.h>

#include "mf_core.h"
#include "mf_lower.h"

/* attribute mcuforge_quantized_version of quantized model files: 2 writes the string attribute
 * `rounding` as a variable-length UTF-8 string (1: fixed-length); both are read */
#define MF_QFORMAT_VERSION 2

/* n (fractional bits) for a range r = max|x| at `bits` bits: r = 0 → bits − 1; otherwise
 * m = floor(log2 r) + 1, n = bits − 1 − m (so r = 1.0 gives int8 Q1.6). */
int mf_qformat_from_range(double r, int bits);
/* q = saturate_bits(round_half_away_from_zero(x·2^n)) (C lround), the offline quantizer. */
int64_t mf_quantize_value(double x, int n, int bits);

/* ---- the deployable float graph: batch-norm folded into the preceding conv/dense, every ReLU
 * that follows a conv, dense, add or max/avg pool as its only consumer fused into it. Returns a
 * new model (input transform and class names copied); m is not changed. ---- */
mf_model *mf_fold_model(const mf_model *m, mf_error *err);

typedef enum { MF_PREC_FLOAT32 = 32, MF_PREC_INT16 = 16, MF_PREC_INT8 = 8 } mf_precision;

/* mf_qnode and mf_qmodel, the quantized model lowering consumes, are in lower/mf_lower.h. */

typedef struct mf_quant_options {
    int bits;        /* 8 or 16 */
    int rounding;    /* MF_RT_ROUND_* */
    int per_channel; /* per-output-channel weight formats */
    int force_n;     /* ≥ 0: every tensor gets this many fractional bits (MicroAI's force_q) */
} mf_quant_options;

/* Ranges max|x| per node output (and [0] for the input) from an inference pass of the folded
 * model over n (preprocessed) samples; ranges has model->n_nodes entries. */
int mf_calibrate(const mf_model *folded, const float *x, int n, int threads, double *ranges,
                 mf_error *err);

/* Optional MSE range setting after mf_calibrate: per tensor, the format among the max-range
 * one and up to 3 finer (clipping) ones with the least squared error on the calibration
 * samples; ranges are rewritten to give that format. */
int mf_calibrate_mse(const mf_model *folded, const float *x, int n, int bits, double *ranges,
                     mf_error *err);

/* ---- post-training quantization: the one policy (quantize, deploy, run, benchmarks) ---- */
typedef struct mf_ptq_options {
    mf_quant_options q;
    int calibration; /* samples spread evenly over the given ones (0: all of them) */
    int mse;         /* 1: the MSE range search after max calibration (--range mse) */
    int threads;
} mf_ptq_options;
/* Folds `model` (not changed), calibrates on a strided subset of the n (preprocessed) samples
 * x, picks formats and quantizes. */
mf_qmodel *mf_ptq(const mf_model *model, const float *x, int n, const mf_ptq_options *o,
                  mf_error *err);
/* m samples of `per` floats taken evenly from the n in x (all of them, in order, when m = n);
 * malloc'd, NULL when out of memory. */
float *mf_ptq_subset(const float *x, int n, size_t per, int m);

/* Builds the integer model from a folded float model and its calibrated ranges; takes
 * ownership of folded (freed on error too). */
mf_qmodel *mf_qmodel_build(mf_model *folded, const double *ranges, const mf_quant_options *o,
                           mf_error *err);
void mf_qmodel_free(mf_qmodel *q);
/* Quantizes the weights and biases again from q->model's current float parameters (formats of
 * weights recomputed, activation formats kept): what QAT does before every step. */
int mf_qmodel_requantize_weights(mf_qmodel *q, mf_error *err);

/* ---- quantization-aware training: fine-tunes q->model's float (shadow) weights with the
 * forward pass computed by the integer kernels themselves (so the fake-quantized forward equals
 * the integer model exactly) and straight-through gradients; activation formats stay as
 * calibrated; q's integer weights are refreshed at the end. ---- */
struct mf_train_config;
struct mf_dataset;
struct mf_train_result;
int mf_qat(mf_qmodel *q, const struct mf_train_config *tc, const struct mf_dataset *d, FILE *log,
           struct mf_train_result *res, mf_error *err);

/* ---- running on the host through the runtime kernels ---- */
typedef struct mf_qexec mf_qexec;
/* q may be NULL with `model` given: the float32 path through the runtime float kernels. */
mf_qexec *mf_qexec_new(const mf_qmodel *q, const mf_model *model, mf_error *err);
void mf_qexec_free(mf_qexec *e);
/* Lowers the model again after its integer weights or weight formats changed (QAT's steps). */
int mf_qexec_refresh(mf_qexec *e, mf_error *err);
/* One sample (preprocessed float input): quantizes it (lround at n_in, saturated), runs every
 * node, returns the output dequantized to float (logits) in out. */
void mf_qexec_run(mf_qexec *e, const float *x, float *out);
/* Runs node i alone for n samples whose inputs are floats (quantized with lround at the
 * inputs' formats — exact for values that came out of this model) and writes the output
 * dequantized into y. */
void mf_qexec_node_batch(mf_qexec *e, int node, const float *const *x, int n, float *y);
/* The forward pass QAT trains with (the float engine with every layer computed by the integer
 * kernels) on n samples, into out (n × outputs): for tests, it must equal mf_qexec_run. */
int mf_qat_forward(mf_qmodel *q, const float *x, int n, float *out, mf_error *err);
/* The raw output of node i after the last run: int8/int16/float values, count elements. */
const void *mf_qexec_node_output(const mf_qexec *e, int node, size_t *count);
/* Argmax predictions for n samples, split over `threads` threads. */
int mf_qexec_predict(const mf_qmodel *q, const mf_model *model, const float *x, int n, int threads,
                     int *pred, mf_error *err);

/* Per-layer error report on a calibration batch: format, saturation count and SQNR (dB) of the
 * integer output against the float output of the same node. */
int mf_quant_report(const mf_qmodel *q, const float *x, int n, FILE *out, mf_error *err);

/* Quantized model files: the float model file layout plus, per layer group, integer datasets
 * (kernel_q, bias_q) and format attributes; root attributes bits, rounding, per_channel, n_in and
 * mcuforge_quantized_version. Atomic write. */
int mf_qmodel_save(const mf_qmodel *q, const char *path, mf_error *err);
/* NULL with *is_float = 1 (and no error) if the file is a float model. */
mf_qmodel *mf_qmodel_load(const char *path, int *is_float, mf_error *err);

#endif
