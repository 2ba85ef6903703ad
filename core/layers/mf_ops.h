/* The layer folder's public declarations (included by mf_core.h): the ops, the fused activations
 * and the layer hyperparameter keys. Everything that names an op or an activation is listed
 * here and in the layer files beside it, so a new op or activation is declared in this folder
 * alone: the registry (registry.c), configs (config/), model files (core/model_io.c) and the
 * other modules take the lists from here (DESIGN.md §2). */
#ifndef MF_OPS_H
#define MF_OPS_H

#include <stddef.h>

/* The ops a model can hold, in registry order: X(ENUM, name), each with its table
 * mf_op_<name>_info in a layer file. MF_OP_INPUT (the model input) comes first and is not
 * listed: a config cannot declare it. */
#define MF_OPS(X)                                                                                  \
    X(CONV1D, conv1d)                                                                              \
    X(CONV2D, conv2d)                                                                              \
    X(DENSE, dense)                                                                                \
    X(MAXPOOL1D, maxpool1d)                                                                        \
    X(MAXPOOL2D, maxpool2d)                                                                        \
    X(AVGPOOL1D, avgpool1d)                                                                        \
    X(AVGPOOL2D, avgpool2d)                                                                        \
    X(GLOBAL_MAXPOOL, global_maxpool)                                                              \
    X(GLOBAL_AVGPOOL, global_avgpool)                                                              \
    X(BATCHNORM, batchnorm)                                                                        \
    X(RELU, relu)                                                                                  \
    X(ADD, add)                                                                                    \
    X(FLATTEN, flatten)                                                                            \
    X(DROPOUT, dropout)                                                                            \
    X(RELU6, relu6)                                                                                \
    X(DWCONV1D, depthwise_conv1d)                                                                  \
    X(DWCONV2D, depthwise_conv2d)                                                                  \
    X(CONCAT, concat)

#define MF_OP_ENUM_(e, name) MF_OP_##e,
typedef enum mf_op { MF_OP_INPUT = 0, MF_OPS(MF_OP_ENUM_) MF_OP_COUNT } mf_op;
#undef MF_OP_ENUM_

/* Activations a conv, dense or add layer can fuse (its `activation` hyperparameter), and that an
 * activation layer applies on its own: X(ENUM, name). Their float forms and gradients are
 * mf_act_forward / mf_act_backward (core/layers/common.c); their integer forms act after
 * requantization (DESIGN.md §13, the runtime's mf_rt_requant.relu). */
#define MF_ACTIVATIONS(X)                                                                          \
    X(NONE, none)                                                                                  \
    X(RELU, relu)                                                                                  \
    X(RELU6, relu6)

#define MF_ACT_ENUM_(e, name) MF_ACT_##e,
typedef enum mf_activation { MF_ACTIVATIONS(MF_ACT_ENUM_) MF_ACT_COUNT } mf_activation;
#undef MF_ACT_ENUM_

/* "relu" → MF_ACT_RELU: 1, or 0 for an unknown name. */
int mf_activation_lookup(const char *name, mf_activation *out);
/* MF_ACT_RELU → "relu" ("?" out of range). */
const char *mf_activation_name(mf_activation a);
/* "relu or none" (every name, none last), for messages; returns buf. */
const char *mf_activation_list(char *buf, size_t size);

/* Hyperparameter keys, as bits: each op declares which ones it accepts (config validation,
 * model files). */
enum {
    MF_KEY_FILTERS = 1u << 0,    /* conv: output channels */
    MF_KEY_UNITS = 1u << 1,      /* dense: output units */
    MF_KEY_KERNEL = 1u << 2,     /* conv/pool: window size (2D: one, square, or [h, w]) */
    MF_KEY_STRIDE = 1u << 3,     /* conv/pool: stride (2D: one or [h, w]; pool default: kernel) */
    MF_KEY_PADDING = 1u << 4,    /* conv: same/valid */
    MF_KEY_USE_BIAS = 1u << 5,   /* conv/dense */
    MF_KEY_ACTIVATION = 1u << 6, /* conv/dense/add: fused activation */
    MF_KEY_RATE = 1u << 7,       /* dropout */
    MF_KEY_MOMENTUM = 1u << 8,   /* batchnorm (Keras convention: moving = m*moving + (1-m)*batch) */
    MF_KEY_EPSILON = 1u << 9,    /* batchnorm */
    MF_KEY_DEPTH_MULTIPLIER = 1u << 10, /* depthwise conv: output channels per input channel */
};

/* Plain integer hyperparameters beyond the keys above: X(name, bit, min, max, default). Each
 * becomes a member `int name` of mf_layer_spec (set to its default by mf_layer_spec_init), a key
 * of a config's layer entry (checked against [min, max] where it is written) and an int32
 * attribute of a layer group in model files, for the ops whose keys include its bit. */
#define MF_LAYER_INT_KEYS(X) X(depth_multiplier, MF_KEY_DEPTH_MULTIPLIER, 1, 4096, 1)

#endif
