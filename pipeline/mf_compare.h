/* mcuforge compare: where a deployed model's numbers go, layer by layer (DESIGN.md §7, §8).
 *
 * For each call of the lowered program the firmware runs (the same lowering options as deploy:
 * conv → max-pool pairs fused unless no_fuse), on the same raw samples:
 *   - the float reference: the folded float model run by the training engine (mf_forward,
 *     core/), fed the model's own preprocessing (mf_rt_input_f32); its output of the call's node;
 *   - the host integer program: that lowered program with every tensor kept (keep_all), run by
 *     the host interpreter with the runtime kernels; the call's output;
 *   - with target: the firmware built as firmware_dump.elf (model.c compiled with
 *     -DMF_DUMP_LAYERS sends every call's output tensor through semihosting after the call) and
 *     run in QEMU.
 * Per call: the SQNR (dB) of the host integer output (dequantized) against float, the share of
 * values identical host vs target (bit for bit) and the largest |difference| host vs target (in
 * the output's integer units; float32: absolute), and the first call where host and target
 * differ. */
#ifndef MF_COMPARE_H
#define MF_COMPARE_H

#include <stdio.h>

#include "mf_core.h"
#include "mf_lower.h"
#include "mf_pipeline.h"
#include "mf_quantize.h"

typedef struct mf_compare_layer {
    int call, node;             /* the program's call index; the node it writes */
    char name[2 * MF_NAME_MAX]; /* "conv1" or "conv1+pool1" for a fused pair */
    char kernel[40];
    size_t count;        /* values per sample */
    double sqnr_db;      /* host integer vs float (INFINITY: no error) */
    long long identical; /* values equal host vs target (target only) */
    long long total;     /* values compared (count × samples) */
    double max_abs_diff; /* host vs target */
} mf_compare_layer;

typedef struct mf_compare_result {
    int bits; /* 32, 16, 8 */
    int n_samples;
    int target; /* 1: the target columns are filled */
    int n_layers;
    mf_compare_layer *layers;
    int first_diff; /* the first call where host and target differ, −1: none (or no target) */
} mf_compare_result;

typedef struct mf_compare_options {
    const float *samples; /* raw inputs (before the model's preprocessing), n_samples × input */
    int n_samples;        /* ≥ 1 */
    int target;           /* 1: build and run firmware_dump.elf in QEMU */
    const char *fw_dir;   /* the firmware project folder (target; replaced, see deploy) */
    int timeout_s, jobs;  /* QEMU limit (0: 120 s), make -j (0: 2) */
    int no_fuse;          /* as deploy --no-fuse */
    const char *cflags;   /* extra compiler flags for the firmware (NULL: none) */
    FILE *log;            /* progress notes (NULL: quiet) */
    /* Test hook: called with the HOST program after lowering, before anything runs (e.g. to
     * perturb one call's shift); the firmware is generated from its own, untouched lowering.
     * NULL: none. */
    void (*host_hook)(mf_program *p, void *ctx);
    void *hook_ctx;
} mf_compare_options;

/* Compares q (int8/int16) or, when q is NULL, the float model m (float32; folded here). */
int mf_compare_run(const mf_qmodel *q, const mf_model *m, const mf_compare_options *o,
                   mf_compare_result *r, mf_error *err);
void mf_compare_result_free(mf_compare_result *r);
void mf_compare_print(const mf_compare_result *r, FILE *f);
/* call,layer,kernel,values,sqnr_db,identical_share,max_abs_diff (target columns empty without
 * a target run) */
int mf_compare_write_csv(const mf_compare_result *r, const char *path, mf_error *err);
/* SQNR per layer as a PNG, drawn by gnuplot in a private temporary folder beside png_path
 * (fixed file names; layer names travel as data). */
int mf_compare_plot(const mf_compare_result *r, const char *png_path, mf_error *err);

/* The CLI's compare: the model as deploy loads it (mf_pipeline_deploy_inputs: a quantized file
 * at its precision, or a float file at `precision`, quantized as deploy does), n_samples of
 * `split` ("test", "val", "train"), the result printed to log and written to
 * out_dir/compare.csv and out_dir/compare.png (the firmware in out_dir/firmware). */
typedef struct mf_compare_request {
    mf_deploy_request deploy; /* model_path, precision, ptq, overrides, threads, timeout_s */
    const char *split;        /* NULL: "test" */
    int n_samples;
    int target;
    const char *out_dir;
} mf_compare_request;
int mf_pipeline_compare(const mf_compare_request *r, FILE *log, mf_error *err);

#endif
