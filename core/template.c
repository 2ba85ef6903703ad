/* Named model templates. resnetv1_6 is MicroAI's ResNetv1-6 exactly as PAPER.md §1 gives it:
 * the "stride 2" of block 1 is a max-pool after its first conv, the shortcut is a 1x1 conv then
 * a max-pool, every conv and the dense layer have a bias, no batch-norm, a global max-pool head. */
#include <stdio.h>
#include <string.h>

#include "mf_core.h"

const char *mf_template_names(void)
{
    return "resnetv1_6";
}

static int add_layer(mf_model *m, mf_op op, const char *name, int filters, int kernel,
                     mf_activation act, const char *in0, const char *in1, mf_error *err)
{
    mf_layer_spec s;
    mf_layer_spec_init(&s, op, name);
    s.filters = filters;
    s.kernel = kernel;
    if (op == MF_OP_CONV1D || op == MF_OP_CONV2D) s.padding = MF_PAD_SAME;
    s.activation = act;
    if (in0) {
        snprintf(s.inputs[0], MF_NAME_MAX, "%s", in0);
        s.n_inputs = 1;
    }
    if (in1) {
        snprintf(s.inputs[1], MF_NAME_MAX, "%s", in1);
        s.n_inputs = 2;
    }
    return mf_model_add(m, &s, err);
}

static mf_model *resnetv1_6(const mf_template_args *a, mf_error *err)
{
    if (a->dims != 1 && a->dims != 2) {
        mf_error_set(err, "resnetv1_6: dims must be 1 or 2 (got %d)", a->dims);
        return NULL;
    }
    if (a->width < 1 || a->width > 4096) {
        mf_error_set(err, "resnetv1_6: width must be in [1, 4096] (got %d)", a->width);
        return NULL;
    }
    if (a->classes < 2) {
        mf_error_set(err, "resnetv1_6: classes must be >= 2 (got %d)", a->classes);
        return NULL;
    }
    if (a->input_shape.rank != a->dims + 1) {
        char buf[64];
        mf_error_set(err, "resnetv1_6 with dims %d needs a %s input, got %s", a->dims,
                     a->dims == 1 ? "length x channels" : "height x width x channels",
                     mf_shape_str(&a->input_shape, buf, sizeof buf));
        return NULL;
    }
    mf_model *m = mf_model_new(&a->input_shape, err);
    if (!m) return NULL;
    const int f = a->width;
    const mf_op conv = a->dims == 1 ? MF_OP_CONV1D : MF_OP_CONV2D;
    const mf_op pool = a->dims == 1 ? MF_OP_MAXPOOL1D : MF_OP_MAXPOOL2D;
    const mf_activation relu = MF_ACT_RELU, none = MF_ACT_NONE;
    int rc = add_layer(m, conv, "conv1", f, 3, relu, NULL, NULL, err);
    rc = rc ? rc : add_layer(m, conv, "block1_conv1", f, 3, none, NULL, NULL, err);
    rc = rc ? rc : add_layer(m, pool, "block1_pool1", 0, 2, none, NULL, NULL, err);
    rc = rc ? rc : add_layer(m, MF_OP_RELU, "block1_relu1", 0, 0, none, NULL, NULL, err);
    rc = rc ? rc : add_layer(m, conv, "block1_conv2", f, 3, none, NULL, NULL, err);
    rc = rc ? rc : add_layer(m, conv, "block1_sconv", f, 1, none, "conv1", NULL, err);
    rc = rc ? rc : add_layer(m, pool, "block1_smax", 0, 2, none, NULL, NULL, err);
    rc = rc ? rc
            : add_layer(m, MF_OP_ADD, "block1_add", 0, 0, relu, "block1_conv2", "block1_smax", err);
    rc = rc ? rc : add_layer(m, conv, "block2_conv1", f, 3, relu, NULL, NULL, err);
    rc = rc ? rc : add_layer(m, conv, "block2_conv2", f, 3, none, NULL, NULL, err);
    rc = rc ? rc
            : add_layer(m, MF_OP_ADD, "block2_add", 0, 0, relu, "block2_conv2", "block1_add", err);
    rc = rc ? rc : add_layer(m, MF_OP_GLOBAL_MAXPOOL, "postpool", 0, 0, none, NULL, NULL, err);
    rc = rc ? rc : add_layer(m, MF_OP_FLATTEN, "flatten", 0, 0, none, NULL, NULL, err);
    rc = rc ? rc : add_layer(m, MF_OP_DENSE, "linear", a->classes, 0, none, NULL, NULL, err);
    rc = rc ? rc : mf_model_finalize(m, err);
    if (rc) {
        mf_model_free(m);
        return NULL;
    }
    return m;
}

mf_model *mf_template_build(const char *name, const mf_template_args *a, mf_error *err)
{
    if (!strcmp(name, "resnetv1_6")) return resnetv1_6(a, err);
    mf_error_set(err, "unknown model template '%s' (known: %s)", name, mf_template_names());
    return NULL;
}
