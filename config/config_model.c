/* Building the model a config describes: a template (model.template) or the explicit layer list
 * (model.layers). The graph code reports a bad layer as "layers[i]"; here that becomes the
 * config path and the line/column of that layer entry. */
#include <stdio.h>
#include <string.h>

#include "config_internal.h"

static void shape_from(const int *dims, unsigned count, mf_shape *s)
{
    memset(s, 0, sizeof *s);
    s->rank = (int)count;
    for (unsigned i = 0; i < count && i < MF_MAX_RANK; i++)
        s->dim[i] = dims[i];
}

/* err came from mf_model_add/finalize with field "layers[i]" or "layers[i].inputs[k]". */
static void locate_engine_error(const mf_config *c, mf_error *err)
{
    if (!err) return;
    int layer, input;
    char path[MF_CONFIG_PATH_MAX];
    if (sscanf(err->field, "layers[%d].inputs[%d]", &layer, &input) == 2)
        snprintf(path, sizeof path, "model.layers[%d].inputs[%d]", layer, input);
    else if (sscanf(err->field, "layers[%d]", &layer) == 1)
        snprintf(path, sizeof path, "model.layers[%d]", layer);
    else
        snprintf(path, sizeof path, "model.layers");
    mf_config_locate(c, path, false, err);
}

static int layer_spec(const mf_config *c, unsigned i, mf_layer_spec *spec, mf_error *err)
{
    const mf_layer_config *l = &c->model.layers[i];
    char path[MF_CONFIG_PATH_MAX];
    snprintf(path, sizeof path, "model.layers[%u]", i);
    mf_op op;
    if (!l->type || !mf_op_lookup(l->type, &op))
        return mf_config_fail(c, err, path, false, "unknown layer type '%s' (expected one of: %s)",
                              l->type ? l->type : "", mf_op_names());
    if (l->inputs_count > MF_MAX_INPUTS)
        return mf_config_fail(c, err, path, false, "at most %d inputs", MF_MAX_INPUTS);
    mf_layer_spec_init(spec, op, l->name);
    /* The absent markers (0, -1, NULL) keep the op's defaults from mf_layer_spec_init. */
    if (l->filters > 0) spec->filters = l->filters;
    if (l->units > 0) spec->filters = l->units;
    /* [height, width]: kernel_h / stride_h hold the height (0: square, or 1D) */
    if (l->kernel_count > 0) spec->kernel = l->kernel[l->kernel_count - 1];
    if (l->kernel_count == 2) spec->kernel_h = l->kernel[0];
    if (l->stride_count > 0) spec->stride = l->stride[l->stride_count - 1];
    if (l->stride_count == 2) spec->stride_h = l->stride[0];
    if (l->padding) spec->padding = strcmp(l->padding, "same") ? MF_PAD_VALID : MF_PAD_SAME;
    if (l->activation && !mf_activation_lookup(l->activation, &spec->activation))
        spec->activation = MF_ACT_NONE; /* (validated when the config was loaded) */
    if (l->use_bias >= 0) spec->use_bias = l->use_bias;
    if (l->rate >= 0.0f) spec->rate = l->rate;
    if (l->momentum >= 0.0f) spec->momentum = l->momentum;
    if (l->epsilon >= 0.0f) spec->epsilon = l->epsilon;
#define SPEC_INT_KEY_(key, bit, min, max, def)                                                     \
    if (l->key > 0) spec->key = l->key;
    MF_LAYER_INT_KEYS(SPEC_INT_KEY_)
#undef SPEC_INT_KEY_
    spec->n_inputs = (int)l->inputs_count;
    for (unsigned k = 0; k < l->inputs_count; k++)
        snprintf(spec->inputs[k], MF_NAME_MAX, "%s", l->inputs[k]);
    return MF_OK;
}

static mf_model *build_layers(const mf_config *c, const mf_shape *input, int classes, mf_error *err)
{
    mf_model *m = mf_model_new(input, err);
    if (!m) {
        mf_config_locate(c, c->model.input_shape_count ? "model.input_shape" : "dataset.shape",
                         false, err);
        return NULL;
    }
    for (unsigned i = 0; i < c->model.layers_count; i++) {
        mf_layer_spec spec;
        if (layer_spec(c, i, &spec, err)) {
            mf_model_free(m);
            return NULL;
        }
        if (mf_model_add(m, &spec, err)) {
            locate_engine_error(c, err);
            mf_model_free(m);
            return NULL;
        }
    }
    if (mf_model_finalize(m, err)) {
        locate_engine_error(c, err);
        mf_model_free(m);
        return NULL;
    }
    size_t outputs = mf_model_output_size(m);
    if (classes > 0 && outputs != (size_t)classes) {
        const mf_node *out = &m->nodes[m->output];
        char path[MF_CONFIG_PATH_MAX], shape[64];
        snprintf(path, sizeof path, "model.layers[%d]", m->output - 1);
        mf_config_fail(c, err, path, false,
                       "layer '%s' is the model's output and gives %zu values (%s), but there "
                       "are %d classes",
                       out->spec.name, outputs, mf_shape_str(&out->out_shape, shape, sizeof shape),
                       classes);
        mf_model_free(m);
        return NULL;
    }
    return m;
}

static mf_model *build_template(const mf_config *c, const mf_shape *input, int classes,
                                mf_error *err)
{
    const mf_model_config *mc = &c->model;
    char shape[64];
    mf_template_args args = {
        .width = mc->width, .dims = mc->dims, .input_shape = *input, .classes = classes};
    mf_shape_str(input, shape, sizeof shape);
    if (args.dims == 0) {
        args.dims = input->rank - 1;
        if (args.dims != 1 && args.dims != 2) {
            mf_config_fail(c, err, "model.template", false,
                           "template '%s' needs a length x channels (1D) or height x width x "
                           "channels (2D) input, but the input shape is %s",
                           mc->template_name, shape);
            return NULL;
        }
    } else if (input->rank != args.dims + 1) {
        mf_config_fail(c, err, "model.dims", false,
                       "dims %d needs a %s input, but the input shape is %s", args.dims,
                       args.dims == 1 ? "length x channels" : "height x width x channels", shape);
        return NULL;
    }
    if (classes < 2) {
        mf_config_fail(c, err, "model.classes", true,
                       "the number of classes is unknown: set model.classes");
        return NULL;
    }
    mf_model *m = mf_template_build(mc->template_name, &args, err);
    if (!m) mf_config_locate(c, "model.template", false, err);
    return m;
}

mf_model *mf_config_build_model(const mf_config *c, const mf_shape *data_shape, int data_classes,
                                mf_error *err)
{
    const mf_model_config *mc = &c->model;
    char a[64], b[64];
    mf_shape input;
    bool have_data_shape = data_shape && data_shape->rank > 0;
    if (mc->input_shape_count > 0) {
        if (mc->input_shape_count > MF_MAX_RANK) {
            mf_config_fail(c, err, "model.input_shape", false, "at most %d dimensions",
                           MF_MAX_RANK);
            return NULL;
        }
        shape_from(mc->input_shape, mc->input_shape_count, &input);
        if (have_data_shape && !mf_shape_equal(&input, data_shape)) {
            mf_config_fail(c, err, "model.input_shape", false,
                           "the model input shape %s differs from the dataset's sample shape %s",
                           mf_shape_str(&input, a, sizeof a),
                           mf_shape_str(data_shape, b, sizeof b));
            return NULL;
        }
    } else if (have_data_shape) {
        input = *data_shape;
    } else {
        mf_config_fail(c, err, "model.input_shape", true,
                       "the input shape is unknown: set model.input_shape");
        return NULL;
    }
    int classes = mc->classes;
    if (classes > 0 && data_classes > 0 && classes != data_classes) {
        mf_config_fail(c, err, "model.classes", false,
                       "model.classes is %d but the dataset has %d classes", classes, data_classes);
        return NULL;
    }
    if (classes <= 0) classes = data_classes;
    if (mc->template_name) return build_template(c, &input, classes, err);
    return build_layers(c, &input, classes, err);
}
