/* Private to lower/: the lowering table's entry type and the kernel table. */
#ifndef MF_LOWER_INTERNAL_H
#define MF_LOWER_INTERNAL_H

#include "mf_lower.h"

typedef struct lower_ctx {
    const mf_model *m;
    const mf_qmodel *q; /* NULL: float32 */
    int bits;
    float *const *wf;              /* float32: runtime-layout weights per node */
    float *const *bf;              /* float32: computed biases per node (or NULL) */
    const unsigned char *variants; /* per node MF_VARIANT_* or NULL (mf_lower_options) */
    int fused_pool; /* the node being lowered is a conv whose max pool is fused into its call */
} lower_ctx;

/* One op's lowering: how quantization formats its output, the checks before anything is
 * lowered (NULL: none beyond the common ones), and the call it becomes (NULL: a view, flatten). */
typedef struct lower_entry {
    mf_qrule qrule;
    int (*validate)(const lower_ctx *x, int node, mf_error *err);
    void (*lower)(const lower_ctx *x, int node, mf_call *c);
} lower_entry;

/* NULL: the op has no lowering (it cannot be quantized or deployed). */
const lower_entry *mf_lower_entry(mf_op op);
/* The conv a max-pool node can be fused with (stride ≥ size, valid windows, the conv feeding
 * nothing else and not the output), or -1. */
int mf_lower_fusable_pool(const mf_model *m, int node);

/* Kernel table (kernels.c): the runtime function's name, its scratch bytes. */
void mf_call_name(mf_call *c, int bits);
size_t mf_call_scratch_bytes(const mf_call *c, int bits);

#endif
