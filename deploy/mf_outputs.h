/* Per-sample outputs (README "Reports"): one row per test vector — its index, label, predicted
 * class, the raw outputs of the model (int8/int16 integers, or float32 values) and the
 * dequantized logits — written as CSV by `deploy --run` (DIR/outputs.csv, from what the firmware
 * printed) and by `eval --dump` (from the host's runtime kernels), so the two files can be
 * compared row by row, or byte for byte.
 *
 * outputs.csv: a header line, then one line per sample:
 *   index,label,pred,raw_0,...,raw_{k-1},logit_0,...,logit_{k-1}
 *   index  0-based position in the test split (the deployed vectors are its first N)
 *   label  the true class, empty when unknown
 *   pred   the argmax of the raw outputs (the first of equal maxima), as the firmware computes it
 *   raw_i  int8/int16: the integer (%d); float32: the float value printed with %.9g, which reads
 *          back (strtof) to the same bits
 *   logit_i raw_i · 2^−n_out, n_out the output's fractional bits (0 for float32), printed %.9g
 *          (exact as a float: an int16 times a power of two) */
#ifndef MF_OUTPUTS_H
#define MF_OUTPUTS_H
#include <stdint.h>

#include "mf_core.h"
#include "mf_quantize.h"

typedef struct mf_outputs {
    int n, k;    /* rows, outputs per row */
    int bits;    /* 8, 16 (integers) or 32 (float32) */
    int n_out;   /* fractional bits of the raw outputs (0 for float32) */
    int *labels; /* n entries, −1: unknown */
    int *pred;   /* n entries */
    void *raw;   /* n × k values: int8_t, int16_t or float */
    /* firmware rows only (NULL for the host's): per vector the instructions of model_run, its
     * painted stack peak and the FNV-1a 32 of its quantized input, as the firmware printed them */
    uint32_t *icount, *stack, *hash;
} mf_outputs;

/* Allocates the arrays for n rows of k outputs (labels −1). */
int mf_outputs_alloc(mf_outputs *o, int n, int k, int bits, int n_out, mf_error *err);
void mf_outputs_free(mf_outputs *o);

/* The rows of the firmware's "V <i> icount … pred <p> out <values>" lines (deploy/board/main.c:
 * integers in decimal, float32 as hex bit patterns); labels (n entries, −1 unknown, or NULL).
 * Every vector 0..n−1 must appear once with k values; errors name the line. */
int mf_outputs_from_firmware(const char *text, int n, int k, int bits, int n_out,
                             const int32_t *labels, mf_outputs *o, mf_error *err);

/* The rows the host computes for n preprocessed samples x (labels y or NULL) with the runtime
 * kernels through the lowered program, as the firmware runs it: q through the integer program
 * (mf_qexec), or, when q is NULL, the float model m folded (mf_fold_model) and run by the
 * runtime float kernels (mf_qexec with q NULL) — not the training engine. */
int mf_outputs_host(const mf_qmodel *q, const mf_model *m, const float *x, const int *y, int n,
                    mf_outputs *o, mf_error *err);

/* Writes o to path as outputs.csv (atomically, mf_file_write_text). */
int mf_outputs_write_csv(const mf_outputs *o, const char *path, mf_error *err);

#endif
