/* Deploy (DESIGN.md §7, §8): generates a self-contained bare-metal firmware project for the
 * Cortex-M4F (STM32F405 as QEMU 7.2's netduinoplus2 emulates it, TARGET.md) from a quantized
 * model (int8, int16) or a float model (float32), builds it with arm-none-eabi-gcc and runs it
 * in qemu-system-arm, and reports what it measured.
 *
 * The project (DIR):
 *   model.h, model.c      the model's API and straight-line code: the lowered program
 *                         (lower/mf_lower.h) printed as one runtime-kernel call per entry,
 *                         activations and kernel scratch in one static arena placed by the
 *                         memory plan (mf_plan.h); model_quantize_input() applies the model's
 *                         own preprocessing and input quantization
 *   model_weights.c       const arrays in flash, runtime layout, with shape comments
 *   runtime/              verbatim copies of the runtime kernel sources used (runtime/)
 *   main.c, startup.c, semihost.[ch], mf_icount.h, link.ld, Makefile
 *                         copied from deploy/board/ (the harness: test vectors, instruction
 *                         counts with TIM2, stack painting, semihosting, fault reports)
 *   config.mk             compiler flags and source lists chosen by the generator
 *   vectors.h + vectors.c (vectors in flash) or vectors.bin (streamed through semihosting)
 *   expected.bin          the host's outputs for the same vectors: the same lowered program run
 *                         by the interpreter with the same kernels, for the bit-exactness check
 *   deploy.manifest       what the runner needs to know (layers, MACs, plan figures)
 *   plan.txt              the memory plan as printed
 *   report.json           written by mf_deploy_run
 *
 * Nothing on the target allocates, interprets a graph or reads a model file. */
#ifndef MF_DEPLOY_H
#define MF_DEPLOY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mf_core.h"
#include "mf_quantize.h"

#define MF_DEPLOY_FLASH_BYTES     (1024u * 1024u) /* STM32F405: 1 MiB flash */
#define MF_DEPLOY_RAM_BYTES       (128u * 1024u)  /* 128 KiB SRAM (no CCM in QEMU 7.2) */
#define MF_DEPLOY_MIN_STACK_BYTES (4u * 1024u)    /* reserved below the top of RAM (link.ld) */
/* Compiler optimisation flags of the generated Makefile unless told otherwise. Chosen by
 * measurement (bench/deploy_reference and the UCI-HAR ResNetv1-6, arm-none-eabi-gcc 12.2): -O2
 * with link-time optimisation in one partition (the firmware is small; the result does not
 * depend on the machine's core count). On the int8 reference CNN / UCI-HAR ResNetv1-6 width 8:
 * -Os is 268 B / 324 B smaller and 4 % / 6 % slower; -fipa-cp-clone (kernels cloned per layer)
 * saves 1 % / 4 % of the instructions for 336 B / 864 B more flash; -O3 saves 5 % / 11 % for
 * 1.7 KB / 1.9 KB more. The fixed flags (-ffp-contract=off -fno-fast-math, sections +
 * --gc-sections, nano.specs) are in the Makefile template. */
#define MF_DEPLOY_DEFAULT_OPT "-O2 -flto -flto-partition=one"

typedef struct mf_deploy_options {
    const char *out_dir;  /* the project folder: see mf_deploy_generate */
    const float *vectors; /* raw test inputs (before the model's preprocessing), n × input */
    const int *labels;    /* n labels (or NULL, or -1 entries: unknown) */
    int n_vectors;        /* ≥ 1 */
    int stream;           /* 1: vectors.bin read through semihosting; 0: in flash */
    const char *opt;      /* optimisation flags (NULL: MF_DEPLOY_DEFAULT_OPT) */
    const char *cflags;   /* extra compiler flags appended (NULL: none) */
    /* What the user called opt and cflags, for errors ("--opt", "deploy.opt", "--cflags");
     * NULL: "opt" and "cflags". Both must pass mf_deploy_check_flags. */
    const char *opt_field, *cflags_field;
    int profile_vectors; /* vectors the per-layer build runs (0: 3) */
    int align;           /* arena offset alignment in bytes (0: 8) */
    int no_fuse;         /* 1: keep conv → max-pool pairs as two calls (default: fused) */
    FILE *log;           /* the plan and notes (NULL: quiet) */
    int force;           /* 1: out_dir may be any folder, replaced as a whole (--force) */
    /* Called with the new project's folder (not yet out_dir) once every generated file is in it
     * and before it replaces out_dir, to add files of the caller's (e.g. the quantized model);
     * an error there fails the deploy and leaves out_dir as it was. NULL: none. */
    int (*finish)(const char *dir, void *ctx, mf_error *err);
    void *finish_ctx;
    /* Per node (of a conv/dense that has a sparse variant, mf_lower.h): the weight
     * representation its call takes (MF_VARIANT_*; NULL: the cost model's choice), and both
     * variants' instructions per inference measured in QEMU, [2·node] dense and [2·node + 1]
     * sparse (NULL: the manifest and the report give the cost model's figures). */
    const unsigned char *variants;
    const double *variant_instr;
} mf_deploy_options;

typedef struct mf_deploy_summary {
    int n_layers;       /* kernel calls in model_run */
    size_t arena;       /* bytes */
    size_t lower_bound; /* bytes */
    size_t weights;     /* bytes of weights, biases and shift tables in flash */
    uint64_t macs;
    char hash[17]; /* of model.c + model_weights.c */
    int precision; /* 32, 16 or 8 */
} mf_deploy_summary;

/* Writes the project for q (int8/int16; q->model is its folded float graph) or, when q is NULL,
 * for the float model m (float32; folded here). Every layer, name, flag and budget is checked
 * before the first file is written: a layer the generator cannot emit, a name that cannot go
 * into C, compiler flags outside mf_deploy_check_flags' shapes, or weights/arena that cannot fit
 * the chip's flash/RAM are errors naming the layer, the field or the budget and the excess in
 * bytes. summary may be NULL.
 *
 * out_dir may be a new name (parents are created), an empty folder, or a project deploy wrote
 * earlier (its deploy.manifest says so); any other existing folder is refused (naming it) unless
 * o->force. The project is written into a new sibling folder ".<name>.deploy-tmp.<pid>", which
 * then replaces out_dir as a whole (mf_file_replace_dir: files of the old project, its build
 * and report.json included, go with it); a generation that fails at any point removes the
 * sibling and leaves out_dir as it was. */
int mf_deploy_generate(const mf_qmodel *q, const mf_model *m, const mf_deploy_options *o,
                       mf_deploy_summary *summary, mf_error *err);

/* Compiler flags go into config.mk, whose recipe lines make runs through /bin/sh, so each flag
 * (flags are separated by spaces) must have one of the shapes -O0|1|2|3|s|g|z, -g,
 * -fNAME[=VALUE], -mNAME (a-z, 0-9, '=', '.', '-'), -WNAME[=VALUE], -DMACRO[=VALUE]
 * (NAME: lower-case letters, digits, '-'; VALUE: letters, digits, '_', '.', ',', '-'; a -D value
 * without ','). Anything else (shell metacharacters, quotes, control characters, other options)
 * is refused: MF_ERR with err naming `field` and the value. NULL or "" flags are fine. */
int mf_deploy_check_flags(const char *field, const char *flags, mf_error *err);

/* ---- build + QEMU + report ---- */

typedef struct mf_deploy_run_options {
    int timeout_s; /* QEMU wall-clock limit (0: 120) */
    int jobs;      /* make -j (0: 2) */
    FILE *log;     /* progress notes (NULL: quiet) */
} mf_deploy_run_options;

typedef struct mf_deploy_layer {
    char name[2 * MF_NAME_MAX]; /* "conv+pool" for a fused pair */
    char op[40];
    char shape_in[48], shape_out[48];
    uint64_t macs;
    double instructions; /* mean over the profiled vectors (includes ~4-6 profiling instructions) */
    /* a conv/dense with a sparse variant (deploy.manifest "variant" lines): which one runs, and
     * each one's instructions per inference (measured in QEMU when measured, else the cost
     * model's) and flash bytes of its blobs; index 0 dense, 1 sparse */
    int has_variants, sparse, measured;
    double variant_instr[2];
    size_t variant_bytes[2];
} mf_deploy_layer;

typedef struct mf_deploy_report {
    char dir[1024];
    char precision[16];
    char model_hash[17];
    char cflags[1400]; /* the compiler flags used */
    int n_vectors, n_labelled, correct;
    double accuracy; /* on target, over labelled vectors (−1 if none) */
    int bit_exact;   /* vectors whose raw outputs equal the host's bit for bit */
    int input_exact; /* vectors whose quantized input (hash) equals the host's */
    double bit_exact_share;
    double instr_mean;
    uint32_t instr_min, instr_max;
    uint64_t macs;
    double macs_per_instr;
    int n_layers, profile_vectors;
    mf_deploy_layer *layers;
    /* flash (text + rodata + data bytes; arm-none-eabi-size + the link map) */
    size_t rom_total;      /* the whole firmware image */
    size_t rom_kernels;    /* the runtime copies (runtime/) */
    size_t rom_weights;    /* model_weights.c */
    size_t rom_model_code; /* model.c (model_run, geometry tables) */
    size_t rom_preprocess; /* model_quantize_input's statistics and code */
    size_t rom_harness;    /* startup, main, semihosting, vectors in flash */
    size_t rom_libs;       /* libc, libgcc, padding */
    size_t flash_empty;    /* the same firmware built without the model */
    size_t flash_model;    /* rom_total − flash_empty (DESIGN.md §13) */
    /* RAM */
    size_t ram_arena, ram_stack_peak, ram_model_other, ram_static_total;
    size_t ram_arena_scratch; /* the largest kernel scratch, planned inside the arena */
    size_t ram_stack_bound;   /* static bound of model_run's stack (disassembly of the image) */
    char stack_path[1024];    /* the call chain that reaches it, frames in bytes */
    size_t arena_lower_bound;
    double build_s, run_s, profile_s;
} mf_deploy_report;

/* Builds the project in dir (three variants: firmware.elf, firmware_profile.elf with per-layer
 * counts, firmware_empty.elf without the model), runs firmware.elf and firmware_profile.elf in
 * QEMU under `timeout`, compares the outputs with expected.bin, measures sizes, bounds model_run's
 * stack statically from the disassembly (a run whose painted peak exceeds it fails), fills r and
 * writes dir/report.json atomically. Errors: missing tools (bash tools/setup.sh installs them),
 * budgets (which one, by how many bytes), build/QEMU failures with the tool's message, faults
 * (the fault registers), hangs (the timeout). Free r with mf_deploy_report_free. */
int mf_deploy_run(const char *dir, const mf_deploy_run_options *o, mf_deploy_report *r,
                  mf_error *err);
void mf_deploy_report_free(mf_deploy_report *r);
void mf_deploy_report_print(const mf_deploy_report *r, FILE *f);
int mf_deploy_report_write_json(const mf_deploy_report *r, const char *path, mf_error *err);

/* Single steps of the runner, for other runners (mcuforge compare): make `target` in dir
 * (checks the tools first; errors carry the compiler's error lines), and run the firmware image
 * dir/elf in QEMU under `timeout` (0: 120 s), its semihosting output into *out (malloc'd, the
 * caller frees; NULL after an error naming a fault, hang or exit status). */
int mf_deploy_make_target(const char *dir, const char *target, int jobs, mf_error *err);
/* Builds dir's firmware_profile.elf and runs it in QEMU: each kernel call's mean instructions
 * per inference over the profiled vectors, n_layers (the manifest's) entries into *instr
 * (malloc'd; the caller frees), and the mean of the whole model_run into *total (may be NULL;
 * the profiling build's, a few instructions per layer above the plain firmware's). */
int mf_deploy_profile(const char *dir, int timeout_s, int jobs, double **instr, int *n_layers,
                      double *total, mf_error *err);
/* The checks mf_deploy_generate makes of its output folder first (see there), for callers that
 * do long work before generating. */
int mf_deploy_check_out_dir(const char *out_dir, int force, mf_error *err);
/* Builds dir's firmware.elf: its flash bytes (text + data) into *bytes. */
int mf_deploy_flash(const char *dir, int jobs, size_t *bytes, mf_error *err);
/* The same with make arguments before the target (e.g. "BUILD=/abs/dir", "OPT=-O2 -flto"): a
 * NULL-terminated list of at most 16, each passed as one argument (no shell); NULL: none. */
int mf_deploy_make_args(const char *dir, const char *target, const char *const *args, int jobs,
                        mf_error *err);
int mf_deploy_run_elf(const char *dir, const char *elf, int timeout_s, char **out, mf_error *err);

/* Which of the tools the runner needs is missing from PATH (NULL: all present). */
const char *mf_deploy_missing_tool(void);

/* "region `FLASH' overflowed by N bytes" style linker output → a budget message in msg
 * ("flash budget (1 MiB) exceeded by N bytes"); returns 1 if one was found. */
int mf_deploy_parse_budget(const char *linker_output, char *msg, size_t size);

#endif
