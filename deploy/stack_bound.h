/* Private to deploy/: the static stack bound of a linked firmware (stack_bound.c). */
#ifndef MF_DEPLOY_STACK_BOUND_H
#define MF_DEPLOY_STACK_BOUND_H

#include <stddef.h>

#include "mf_error.h"

typedef struct mf_stack_bound {
    size_t bytes;    /* the deepest call chain's frames, root included */
    char path[1024]; /* that chain: "model_run (36) > conv_s8_engine.constprop.0 (112) > …" */
} mf_stack_bound;

/* From the text of `arm-none-eabi-objdump -d --no-show-raw-insn` of an ELF: every function's
 * frame is the sum of the stack it reserves anywhere in its body (push/stmdb sp!, vpush/vstmdb
 * sp!, sub sp) — naked assembly included, which -fstack-usage cannot see — and its callees are
 * the targets of its bl and of its tail-call branches (b to another function's start). The bound
 * of `root` is its frame plus the largest bound among its callees. An indirect call (blx rN,
 * bx to a register other than lr), recursion or more than 64 levels is an error: no bound. */
int mf_stack_bound_objdump(const char *objdump_text, const char *root, mf_stack_bound *out,
                           mf_error *err);

#endif
