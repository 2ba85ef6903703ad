/* Compression (DESIGN.md §9): unstructured magnitude pruning on the model's flat mask array
 * (mf_model.mask, core/mask.c), with the gradual schedule of Zhu & Gupta 2017. The trainer keeps
 * pruned weights at 0 (mf_train applies the mask after every optimizer step); model files carry
 * the masks; folding and QAT keep them. */
#ifndef MF_COMPRESS_H
#define MF_COMPRESS_H

#include "mf_core.h"

/* A layer pruned to its own sparsity (its own magnitude threshold), whatever the others. */
typedef struct mf_prune_target {
    const char *name;
    double sparsity; /* in [0, 1) */
} mf_prune_target;

/* What to prune: the kernels of conv and dense layers (biases and batch-norm parameters stay),
 * except the layers named in exclude; the layers named in targets at their own sparsity, the
 * others at `sparsity`. */
typedef struct mf_prune_spec {
    double sparsity; /* share of the kernel values pruned, in [0, 1) */
    int per_layer;   /* 1: every kernel at that sparsity; 0: one magnitude threshold over all
                        of them (global: layers with small weights lose more) */
    char **exclude;  /* layer names kept dense (NULL when n_exclude is 0) */
    int n_exclude;
    mf_prune_target *targets; /* NULL when n_targets is 0 */
    int n_targets;
} mf_prune_spec;

/* Prunes m to spec's sparsity by magnitude: within each group (one layer, or all of them),
 * round(sparsity · values) of the smallest |w| end up pruned, counting those pruned already (a
 * mask only grows; ties go to the lower index, so a run is reproducible). Gives m a mask if it
 * has none. Errors: a sparsity outside [0, 1), an excluded or targeted name that is no layer
 * with a kernel (or is both, or is targeted twice), or no prunable layer left. */
int mf_prune_magnitude(mf_model *m, const mf_prune_spec *spec, mf_error *err);

/* The gradual schedule: sparsity `initial` until optimizer step `begin`, then
 *   s(t) = final + (initial − final) · (1 − (t − begin) / (end − begin))^3,
 * `final` from step `end` on; the mask is recomputed every `every` steps of the ramp and at
 * `end` (begin ≥ 0, end ≥ begin, every ≥ 1). */
typedef struct mf_prune_schedule {
    double initial, final;
    long begin, end, every;
} mf_prune_schedule;
double mf_prune_schedule_at(const mf_prune_schedule *s, long step);
/* The same ramp toward another final sparsity (a layer's own target), from the same initial. */
double mf_prune_schedule_toward(const mf_prune_schedule *s, long step, double final);
/* 1 when the mask is due for an update after `step` (a multiple of every inside [begin, end],
 * or end itself). */
int mf_prune_schedule_due(const mf_prune_schedule *s, long step);

/* Per prunable layer: pruned / total kernel values and the share; then the model's total. */
void mf_prune_print(const mf_model *m, FILE *f);

#endif
