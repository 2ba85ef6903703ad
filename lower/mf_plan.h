/* Static memory plan for the generated firmware (DESIGN.md §7, §13): every activation tensor
 * (the model input and output included) and every kernel's scratch gets a size, the step that
 * produces it and the last step that reads it (scratch: its own step only); tensors that may share
 * storage (a flatten's view, an element-wise op writing into an input that dies there) are merged
 * into one buffer; buffers are placed in ONE arena by first-fit over lifetimes, trying several
 * orders (largest first, earliest first, longest lifetime first, largest size·lifetime first) and
 * keeping the smallest arena.
 *
 * Time: the input is written at time 0 (before step 1), step s (1..n_steps) runs at time s, and
 * the output is read at time n_steps + 1 (model_run copies it out). Two buffers conflict when
 * their closed intervals [first, last] intersect: a step never writes over a tensor it reads,
 * unless the step declares that input in place-able and the input dies at that very step.
 *
 * Overlap (write behind read): a step whose kernel writes every output only over input bytes it
 * will not read again may declare that its output overlaps its input in[0] (which must die at
 * that step) as long as out_offset ≤ in_offset + lag, lag the kernel's bound in bytes (negative:
 * the output starts that far before the input). The two stay separate buffers; placement treats
 * the pair as compatible where that inequality holds and tries the tightest such offset, then
 * shifts every offset so the lowest is 0. Candidate offsets are taken in order of the arena span
 * they leave (then the lowest offset), which without overlaps is first-fit.
 *
 * Lower bound: the largest total size of buffers live at one time point, i.e. the smallest
 * arena any placement of these buffers can have (an overlapping pair counts as its smallest
 * footprint, max(in − min(lag, 0), out)); printed beside the arena. It is computed on the graph
 * that actually runs (after fusions and in-place merges), over the arena's tensors. */
#ifndef MF_PLAN_H
#define MF_PLAN_H

#include <stddef.h>
#include <stdio.h>

#include "mf_error.h"

#define MF_PLAN_MAX_IN 4

typedef struct mf_plan_step {
    int out;  /* tensor this step produces */
    int n_in; /* tensors it reads */
    int in[MF_PLAN_MAX_IN];
    unsigned inplace; /* bit k: out may overwrite in[k] when in[k] dies at this step and
                         has out's size (element-wise ops: relu, add) */
    int alias;        /* 1: out is a view of in[0] (flatten): same storage, no code */
    int overlap;      /* 1: out may overlap in[0] where out_offset ≤ in_offset + lag (above) */
    long lag;         /* bytes, with overlap */
    int has_scratch;  /* 1: tensor `scratch` is this step's working memory: it lives during
                         this step only, so it overlaps neither the inputs nor the output */
    int scratch;
} mf_plan_step;

typedef struct mf_plan_tensor {
    size_t size;     /* bytes */
    int first, last; /* produced at / last read at (own lifetime, before merging) */
    int buffer;      /* the buffer holding it */
    int overlaps;    /* the tensor whose storage it may overlap (an overlap step's input), or -1 */
    long lag;        /* then: its offset ≤ that tensor's + lag */
} mf_plan_tensor;

typedef struct mf_plan_buffer {
    size_t size;     /* bytes */
    int first, last; /* union of its tensors' lifetimes */
    size_t offset;   /* in the arena, a multiple of the plan's alignment */
} mf_plan_buffer;

typedef struct mf_plan {
    int n_tensors, n_steps, n_buffers;
    mf_plan_tensor *tensors;
    mf_plan_buffer *buffers;
    int input, output;    /* tensor indices */
    size_t align;         /* offset alignment in bytes */
    size_t arena;         /* bytes: max(offset + size), rounded up to the alignment */
    size_t lower_bound;   /* bytes: max over time of the live buffers' total size */
    int bound_time;       /* a time point where the bound is reached */
    const char *strategy; /* the placement order that won */
} mf_plan;

/* Builds the plan. sizes: n_tensors byte sizes; steps[0..n_steps-1] are steps 1..n_steps in
 * execution order; every tensor except `input` must be produced by exactly one step before it is
 * read (a tensor nobody produces or reads is an error). align: a power of two (e.g. 8). */
int mf_plan_build(int n_tensors, const size_t *sizes, int input, int output, int n_steps,
                  const mf_plan_step *steps, size_t align, mf_plan *p, mf_error *err);
void mf_plan_free(mf_plan *p);

/* Offset of a tensor in the arena (0 for a tensor no step produces: it has no storage). */
size_t mf_plan_offset(const mf_plan *p, int tensor);

/* The plan as a table: per tensor its name (names may be NULL: "t<i>"), offset, size, lifetime
 * and the tensor whose storage it shares; then the arena and the lower bound. */
void mf_plan_print(const mf_plan *p, const char *const *names, FILE *f);

#endif
