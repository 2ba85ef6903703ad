/* The layer registry: one table entry per op of the MF_OPS list (mf_ops.h, DESIGN.md §2), each
 * defined by its layer file in this folder. Adding a layer means one list entry, one layer file,
 * its lowering entry (lower/ops.c), its runtime kernel(s) and its tests. */
#include <string.h>

#include "layers.h"

#define OP_ENTRY_(e, name) [MF_OP_##e] = &mf_op_##name##_info,
static const mf_op_info *const ops[MF_OP_COUNT] = {[MF_OP_INPUT] = &mf_op_input_info,
                                                   MF_OPS(OP_ENTRY_)};
#undef OP_ENTRY_

const mf_op_info *mf_op_get(mf_op op)
{
    return (unsigned)op < MF_OP_COUNT ? ops[op] : NULL;
}

const mf_op_info *mf_op_lookup(const char *name, mf_op *op_out)
{
    /* "input" is not a layer a user can declare */
    for (int i = 1; i < MF_OP_COUNT; i++)
        if (!strcmp(ops[i]->name, name)) {
            if (op_out) *op_out = (mf_op)i;
            return ops[i];
        }
    return NULL;
}

const char *mf_op_names(void)
{
    /* ", conv1d, conv2d, …" without its first two characters */
#define OP_NAME_(e, name) ", " #name
    static const char names[] = MF_OPS(OP_NAME_);
#undef OP_NAME_
    return names + 2;
}

void mf_layer_spec_init(mf_layer_spec *s, mf_op op, const char *name)
{
    memset(s, 0, sizeof *s);
    s->op = op;
    if (name) {
        strncpy(s->name, name, MF_NAME_MAX - 1);
        s->name[MF_NAME_MAX - 1] = '\0';
    }
    s->use_bias = 1;
    s->padding = MF_PAD_VALID;
    s->activation = MF_ACT_NONE;
    s->momentum = 0.99f;
    s->epsilon = 1e-3f;
    s->rate = 0.0f;
#define INT_KEY_DEFAULT_(key, bit, min, max, def) s->key = (def);
    MF_LAYER_INT_KEYS(INT_KEY_DEFAULT_)
#undef INT_KEY_DEFAULT_
}
