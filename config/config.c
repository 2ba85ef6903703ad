/* Configs: the libcyaml schema of mf_config, loading (libyaml for the document and positions,
 * the schema walk of config_override.c for the data), defaults, overrides, validation and dump
 * (libcyaml).
 *
 * Loading runs in this order, so each error can name a line and column:
 *   0. a pass of libyaml's scanner bounds the text's nesting depth and number of values
 *      (mf_yaml_check_bounds), before anything costs more than linear time;
 *   1. libyaml parses the file into a document: syntax errors come with libyaml's mark;
 *   2. the marks index records where every path was written (config_marks.c);
 *   3. the document is checked against the schema: unknown keys and values of the wrong type are
 *      reported at their position (libcyaml 1.3.1 would only log them, without positions);
 *   4. the checked document is stored into an mf_config by the schema walk overrides take
 *      (config_override.c), which also reads a size given as a scalar where the schema has a
 *      list of sizes (mf_size_entry: a layer's kernel and stride);
 *   5. defaults fill the fields the file does not give;
 *   6. overrides change any field by path (config_override.c); the quantize section is present
 *      if the file has it or an override writes into it;
 *   7. the defaults that depend on dataset.name (path, normalize) fill what is still not given;
 *   8. values are checked: ranges, layer types and their hyperparameters, input names, which
 *      dataset fields apply to which dataset, which quantize fields apply to which method. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_internal.h"
#include "mf_fileio.h"

/* ---- schema ---- */

#define OPT  CYAML_FLAG_OPTIONAL
#define LIST (CYAML_FLAG_OPTIONAL | CYAML_FLAG_POINTER | CYAML_FLAG_FLOW)

static const cyaml_schema_value_t int_entry = {CYAML_VALUE_INT(CYAML_FLAG_DEFAULT, int)};
static const cyaml_schema_value_t string_entry = {
    CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 0, CYAML_UNLIMITED)};
const cyaml_schema_value_t mf_size_entry = {CYAML_VALUE_INT(CYAML_FLAG_DEFAULT, int)};

#define ENUM_FLAGS (OPT | CYAML_FLAG_STRICT)

static const cyaml_strval_t normalize_names[] = {
    {"none", MF_NORM_NONE}, {"element", MF_NORM_ELEMENT}, {"channel", MF_NORM_CHANNEL}};

static const cyaml_strval_t mfcc_layout_names[] = {{"sequence", MF_MFCC_SEQUENCE},
                                                   {"image", MF_MFCC_IMAGE}};

static const cyaml_schema_field_t mfcc_fields[] = {
    CYAML_FIELD_FLOAT("frame_ms", OPT, mf_mfcc_config, frame_ms),
    CYAML_FIELD_FLOAT("shift_ms", OPT, mf_mfcc_config, shift_ms),
    CYAML_FIELD_INT("filters", OPT, mf_mfcc_config, filters),
    CYAML_FIELD_INT("coefficients", OPT, mf_mfcc_config, coefficients),
    CYAML_FIELD_INT("frames", OPT, mf_mfcc_config, frames),
    CYAML_FIELD_FLOAT("preemphasis", OPT, mf_mfcc_config, preemphasis),
    CYAML_FIELD_INT("fft_size", OPT, mf_mfcc_config, fft_size),
    CYAML_FIELD_ENUM("layout", ENUM_FLAGS, mf_mfcc_config, layout, mfcc_layout_names,
                     CYAML_ARRAY_LEN(mfcc_layout_names)),
    CYAML_FIELD_END};

static const cyaml_schema_field_t dataset_fields[] = {
    CYAML_FIELD_STRING_PTR("name", OPT, mf_dataset_config, name, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("path", OPT, mf_dataset_config, path, 0, CYAML_UNLIMITED),
    CYAML_FIELD_SEQUENCE_COUNT("shape", LIST, mf_dataset_config, shape, shape_count, &int_entry, 0,
                               CYAML_UNLIMITED),
    CYAML_FIELD_INT("classes", OPT, mf_dataset_config, classes),
    CYAML_FIELD_INT("train_samples", OPT, mf_dataset_config, train_samples),
    CYAML_FIELD_INT("test_samples", OPT, mf_dataset_config, test_samples),
    CYAML_FIELD_FLOAT("noise", OPT, mf_dataset_config, noise),
    CYAML_FIELD_UINT("seed", OPT, mf_dataset_config, seed),
    CYAML_FIELD_ENUM("normalize", ENUM_FLAGS, mf_dataset_config, normalize, normalize_names,
                     CYAML_ARRAY_LEN(normalize_names)),
    CYAML_FIELD_BOOL("cache", OPT, mf_dataset_config, cache),
    CYAML_FIELD_STRING_PTR("cache_dir", OPT, mf_dataset_config, cache_dir, 0, CYAML_UNLIMITED),
    CYAML_FIELD_FLOAT("validation", OPT, mf_dataset_config, validation),
    CYAML_FIELD_BOOL("resize", OPT, mf_dataset_config, resize),
    CYAML_FIELD_INT("train_limit", OPT, mf_dataset_config, train_limit),
    CYAML_FIELD_INT("test_limit", OPT, mf_dataset_config, test_limit),
    CYAML_FIELD_MAPPING("mfcc", OPT, mf_dataset_config, mfcc, mfcc_fields),
    CYAML_FIELD_END};

static const cyaml_schema_field_t layer_fields[] = {
    CYAML_FIELD_STRING_PTR("name", OPT, mf_layer_config, name, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("type", OPT, mf_layer_config, type, 0, CYAML_UNLIMITED),
    CYAML_FIELD_SEQUENCE_COUNT("inputs", LIST, mf_layer_config, inputs, inputs_count, &string_entry,
                               0, CYAML_UNLIMITED),
    CYAML_FIELD_INT("filters", OPT, mf_layer_config, filters),
    CYAML_FIELD_INT("units", OPT, mf_layer_config, units),
    CYAML_FIELD_SEQUENCE_COUNT("kernel", LIST, mf_layer_config, kernel, kernel_count,
                               &mf_size_entry, 1, 2),
    CYAML_FIELD_SEQUENCE_COUNT("stride", LIST, mf_layer_config, stride, stride_count,
                               &mf_size_entry, 1, 2),
    CYAML_FIELD_STRING_PTR("padding", OPT, mf_layer_config, padding, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("activation", OPT, mf_layer_config, activation, 0, CYAML_UNLIMITED),
    CYAML_FIELD_BOOL("use_bias", OPT, mf_layer_config, use_bias),
    CYAML_FIELD_FLOAT("rate", OPT, mf_layer_config, rate),
    CYAML_FIELD_FLOAT("momentum", OPT, mf_layer_config, momentum),
    CYAML_FIELD_FLOAT("epsilon", OPT, mf_layer_config, epsilon),
#define INT_KEY_FIELD_(key, bit, min, max, def) CYAML_FIELD_INT(#key, OPT, mf_layer_config, key),
    MF_LAYER_INT_KEYS(INT_KEY_FIELD_)
#undef INT_KEY_FIELD_
        CYAML_FIELD_END};

const cyaml_schema_value_t mf_layer_schema = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, mf_layer_config, layer_fields)};

static const cyaml_schema_field_t model_fields[] = {
    CYAML_FIELD_STRING_PTR("template", OPT, mf_model_config, template_name, 0, CYAML_UNLIMITED),
    CYAML_FIELD_INT("width", OPT, mf_model_config, width),
    CYAML_FIELD_INT("dims", OPT, mf_model_config, dims),
    CYAML_FIELD_SEQUENCE_COUNT("input_shape", LIST, mf_model_config, input_shape, input_shape_count,
                               &int_entry, 0, CYAML_UNLIMITED),
    CYAML_FIELD_INT("classes", OPT, mf_model_config, classes),
    CYAML_FIELD_SEQUENCE_COUNT("layers", OPT | CYAML_FLAG_POINTER, mf_model_config, layers,
                               layers_count, &mf_layer_schema, 0, CYAML_UNLIMITED),
    CYAML_FIELD_END};

static const cyaml_strval_t optimizer_names[] = {{"sgd", MF_OPT_SGD}, {"adam", MF_OPT_ADAM}};
static const cyaml_strval_t schedule_names[] = {{"constant", MF_SCHED_CONSTANT},
                                                {"multistep", MF_SCHED_MULTISTEP},
                                                {"cosine", MF_SCHED_COSINE}};
static const cyaml_strval_t progress_names[] = {{"auto", MF_PROGRESS_AUTO},
                                                {"bar", MF_PROGRESS_BAR},
                                                {"lines", MF_PROGRESS_LINES},
                                                {"none", MF_PROGRESS_NONE}};

/* train.distill and prune.distill (section is not a key: the loader sets it) */
static const cyaml_schema_field_t distill_fields[] = {
    CYAML_FIELD_STRING_PTR("teacher", OPT, mf_distill_config, teacher, 0, CYAML_UNLIMITED),
    CYAML_FIELD_FLOAT("temperature", OPT, mf_distill_config, temperature),
    CYAML_FIELD_FLOAT("alpha", OPT, mf_distill_config, alpha), CYAML_FIELD_END};

static const cyaml_schema_field_t train_fields[] = {
    CYAML_FIELD_INT("epochs", OPT, mf_train_config, epochs),
    CYAML_FIELD_INT("batch_size", OPT, mf_train_config, batch_size),
    CYAML_FIELD_ENUM("optimizer", ENUM_FLAGS, mf_train_config, optimizer, optimizer_names,
                     CYAML_ARRAY_LEN(optimizer_names)),
    CYAML_FIELD_FLOAT("lr", OPT, mf_train_config, lr),
    CYAML_FIELD_FLOAT("momentum", OPT, mf_train_config, momentum),
    CYAML_FIELD_BOOL("nesterov", OPT, mf_train_config, nesterov),
    CYAML_FIELD_FLOAT("weight_decay", OPT, mf_train_config, weight_decay),
    CYAML_FIELD_FLOAT("beta1", OPT, mf_train_config, beta1),
    CYAML_FIELD_FLOAT("beta2", OPT, mf_train_config, beta2),
    CYAML_FIELD_FLOAT("eps", OPT, mf_train_config, eps),
    CYAML_FIELD_ENUM("schedule", ENUM_FLAGS, mf_train_config, schedule, schedule_names,
                     CYAML_ARRAY_LEN(schedule_names)),
    CYAML_FIELD_SEQUENCE_COUNT("milestones", LIST, mf_train_config, milestones, milestones_count,
                               &int_entry, 0, CYAML_UNLIMITED),
    CYAML_FIELD_FLOAT("gamma", OPT, mf_train_config, gamma),
    CYAML_FIELD_FLOAT("min_lr", OPT, mf_train_config, min_lr),
    CYAML_FIELD_UINT("seed", OPT, mf_train_config, seed),
    CYAML_FIELD_INT("threads", OPT, mf_train_config, threads),
    CYAML_FIELD_BOOL("deterministic", OPT, mf_train_config, deterministic),
    CYAML_FIELD_STRING_PTR("output", OPT, mf_train_config, output, 0, CYAML_UNLIMITED),
    CYAML_FIELD_ENUM("progress", ENUM_FLAGS, mf_train_config, progress, progress_names,
                     CYAML_ARRAY_LEN(progress_names)),
    CYAML_FIELD_FLOAT("mixup_alpha", OPT, mf_train_config, mixup_alpha),
    CYAML_FIELD_MAPPING("distill", OPT, mf_train_config, distill, distill_fields),
    CYAML_FIELD_END};

static const cyaml_strval_t method_names[] = {{"ptq", MF_QUANT_PTQ}, {"qat", MF_QUANT_QAT}};
static const cyaml_strval_t rounding_names[] = {{"half-up", MF_RT_ROUND_HALF_UP},
                                                {"floor", MF_RT_ROUND_FLOOR}};
static const cyaml_strval_t range_names[] = {{"max", 0}, {"mse", 1}};

/* (present is not a key: the loader sets it) */
static const cyaml_schema_field_t quantize_fields[] = {
    CYAML_FIELD_INT("bits", OPT, mf_quantize_config, bits),
    CYAML_FIELD_ENUM("method", ENUM_FLAGS, mf_quantize_config, method, method_names,
                     CYAML_ARRAY_LEN(method_names)),
    CYAML_FIELD_INT("epochs", OPT, mf_quantize_config, epochs),
    CYAML_FIELD_FLOAT("lr", OPT, mf_quantize_config, lr),
    CYAML_FIELD_BOOL("per_channel", OPT, mf_quantize_config, per_channel),
    CYAML_FIELD_ENUM("rounding", ENUM_FLAGS, mf_quantize_config, rounding, rounding_names,
                     CYAML_ARRAY_LEN(rounding_names)),
    CYAML_FIELD_ENUM("range", ENUM_FLAGS, mf_quantize_config, range_mse, range_names,
                     CYAML_ARRAY_LEN(range_names)),
    CYAML_FIELD_INT("force_n", OPT, mf_quantize_config, force_n),
    CYAML_FIELD_INT("calibration", OPT, mf_quantize_config, calibration),
    CYAML_FIELD_END};

static const cyaml_strval_t objective_names[] = {{"instructions", 0}, {"flash", 1}};

/* (present is not a key: the loader sets it) */
static const cyaml_schema_field_t deploy_fields[] = {
    CYAML_FIELD_STRING_PTR("out", OPT, mf_deploy_config, out, 0, CYAML_UNLIMITED),
    CYAML_FIELD_INT("vectors", OPT, mf_deploy_config, vectors),
    CYAML_FIELD_BOOL("all_test", OPT, mf_deploy_config, all_test),
    CYAML_FIELD_BOOL("stream", OPT, mf_deploy_config, stream),
    CYAML_FIELD_BOOL("run", OPT, mf_deploy_config, run),
    CYAML_FIELD_STRING_PTR("opt", OPT, mf_deploy_config, opt, 0, CYAML_UNLIMITED),
    CYAML_FIELD_INT("timeout", OPT, mf_deploy_config, timeout),
    CYAML_FIELD_ENUM("objective", ENUM_FLAGS, mf_deploy_config, objective, objective_names,
                     CYAML_ARRAY_LEN(objective_names)),
    CYAML_FIELD_INT("flash_budget", OPT, mf_deploy_config, flash_budget),
    CYAML_FIELD_INT("instruction_budget", OPT, mf_deploy_config, instruction_budget),
    CYAML_FIELD_END};

static const cyaml_schema_field_t prune_layer_fields[] = {
    CYAML_FIELD_STRING_PTR("name", OPT, mf_prune_layer_config, name, 0, CYAML_UNLIMITED),
    CYAML_FIELD_FLOAT("sparsity", OPT, mf_prune_layer_config, sparsity), CYAML_FIELD_END};

static const cyaml_schema_value_t prune_layer_schema = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, mf_prune_layer_config, prune_layer_fields)};

/* (present is not a key: the loader sets it) */
static const cyaml_schema_field_t prune_fields[] = {
    CYAML_FIELD_FLOAT("sparsity", OPT, mf_prune_config, sparsity),
    CYAML_FIELD_INT("epochs", OPT, mf_prune_config, epochs),
    CYAML_FIELD_FLOAT("lr", OPT, mf_prune_config, lr),
    CYAML_FIELD_FLOAT("initial", OPT, mf_prune_config, initial),
    CYAML_FIELD_INT("ramp_epochs", OPT, mf_prune_config, ramp_epochs),
    CYAML_FIELD_INT("every", OPT, mf_prune_config, every),
    CYAML_FIELD_BOOL("per_layer", OPT, mf_prune_config, per_layer),
    CYAML_FIELD_SEQUENCE_COUNT("exclude", OPT | CYAML_FLAG_POINTER, mf_prune_config, exclude,
                               exclude_count, &string_entry, 0, CYAML_UNLIMITED),
    CYAML_FIELD_SEQUENCE_COUNT("layers", OPT | CYAML_FLAG_POINTER, mf_prune_config, layers,
                               layers_count, &prune_layer_schema, 0, CYAML_UNLIMITED),
    CYAML_FIELD_MAPPING("distill", OPT, mf_prune_config, distill, distill_fields),
    CYAML_FIELD_END};

static const cyaml_schema_field_t config_fields[] = {
    CYAML_FIELD_MAPPING("dataset", OPT, mf_config, dataset, dataset_fields),
    CYAML_FIELD_MAPPING("model", OPT, mf_config, model, model_fields),
    CYAML_FIELD_MAPPING("train", OPT, mf_config, train, train_fields),
    CYAML_FIELD_MAPPING("quantize", OPT, mf_config, quantize, quantize_fields),
    CYAML_FIELD_MAPPING("prune", OPT, mf_config, prune, prune_fields),
    CYAML_FIELD_MAPPING("deploy", OPT, mf_config, deploy, deploy_fields),
    CYAML_FIELD_END,
};

const cyaml_schema_value_t mf_config_schema = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, mf_config, config_fields)};

/* Defaults of the scalar fields, as YAML text: set through the schema like any value. */
static const struct {
    const char *path, *value;
} config_defaults[] = {
    {"dataset.train_samples", "2048"},
    {"dataset.test_samples", "512"},
    {"dataset.noise", "1.0"},
    {"dataset.seed", "1"},
    {"dataset.cache", "true"},
    {"dataset.cache_dir", "cache"},
    {"dataset.validation", "0"},
    {"dataset.resize", "false"},
    {"dataset.train_limit", "0"},
    {"dataset.test_limit", "0"},
    {"dataset.mfcc.frame_ms", "50"},
    {"dataset.mfcc.shift_ms", "25"},
    {"dataset.mfcc.filters", "26"},
    {"dataset.mfcc.coefficients", "13"},
    {"dataset.mfcc.frames", "39"},
    {"dataset.mfcc.preemphasis", "0.97"},
    {"dataset.mfcc.fft_size", "0"},
    {"dataset.mfcc.layout", "sequence"},
    {"train.epochs", "10"},
    {"train.batch_size", "64"},
    {"train.optimizer", "sgd"},
    {"train.lr", "0.05"},
    {"train.momentum", "0.9"},
    {"train.nesterov", "false"},
    {"train.weight_decay", "5e-4"},
    {"train.beta1", "0.9"},
    {"train.beta2", "0.999"},
    {"train.eps", "1e-8"},
    {"train.schedule", "constant"},
    {"train.gamma", "0.1"},
    {"train.min_lr", "0"},
    {"train.seed", "1"},
    {"train.threads", "2"},
    {"train.deterministic", "true"},
    {"train.progress", "auto"},
    {"train.mixup_alpha", "0"},
    /* soft targets at T = 4 carrying 0.9 of the loss: a common starting point in the
     * distillation literature; the committed configs state their own */
    {"train.distill.temperature", "4"},
    {"train.distill.alpha", "0.9"},
    /* (also when the section is absent, so a config built without it has sane values) */
    {"quantize.method", "ptq"},
    {"quantize.epochs", "3"},
    {"quantize.lr", "0"},
    {"quantize.per_channel", "false"},
    {"quantize.rounding", "half-up"},
    {"quantize.range", "max"},
    {"quantize.force_n", "-1"},
    {"quantize.calibration", "0"},
    {"prune.epochs", "4"},
    {"prune.lr", "0"},
    {"prune.initial", "0"},
    {"prune.ramp_epochs", "0"},
    {"prune.every", "0"},
    {"prune.per_layer", "false"},
    {"prune.distill.temperature", "4"},
    {"prune.distill.alpha", "0.9"},
    {"deploy.vectors", "20"},
    {"deploy.all_test", "false"},
    {"deploy.stream", "false"},
    {"deploy.run", "true"},
    {"deploy.timeout", "120"},
    {"deploy.objective", "instructions"},
    {"deploy.flash_budget", "0"},
    {"deploy.instruction_budget", "0"},
};

/* quantize.force_n: -1 (formats from the calibrated ranges) or n fractional bits everywhere. */
#define MAX_FORCE_N 40

static const char *const dataset_names[] = {"synthetic", "uci-har", "fsdd",
                                            "gtsrb",     "mnist",   "png"};
#define N_DATASET_NAMES (sizeof dataset_names / sizeof dataset_names[0])

/* Defaults that depend on the dataset's name (applied after overrides, which may change it).
 * Folders are relative to the current directory (DESIGN.md §13: the repo root). */
static const struct {
    const char *name, *path;
} dataset_paths[] = {
    {"uci-har", "../shared/data/uci-har/reconstructed"},
    {"fsdd", "../shared/data/fsdd/recordings"},
    {"gtsrb", "../shared/data/gtsrb"},
    {"mnist", "../shared/data/mnist"},
};

/* The MFCC front end reads FSDD's 8 kHz recordings. */
#define MFCC_SAMPLE_RATE 8000

/* ---- schema helpers ---- */

static void *mem_realloc(void *ctx, void *ptr, size_t size)
{
    (void)ctx;
    if (size == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, size);
}

static void collect_log(cyaml_log_t level, void *ctx, const char *fmt, va_list args)
{
    mf_cyaml_log *log = ctx;
    if (!log || level < CYAML_LOG_ERROR || log->used + 1 >= sizeof log->text) return;
    int w = vsnprintf(log->text + log->used, sizeof log->text - log->used, fmt, args);
    if (w > 0) log->used += (size_t)w;
    if (log->used >= sizeof log->text) log->used = sizeof log->text - 1;
}

void mf_cyaml_config(cyaml_config_t *cfg, mf_cyaml_log *log)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->log_fn = log ? collect_log : NULL;
    cfg->log_ctx = log;
    cfg->mem_fn = mem_realloc;
    cfg->log_level = CYAML_LOG_ERROR;
    /* Aliases are rejected with a position before libcyaml runs (config_marks.c). */
    cfg->flags = CYAML_CFG_STYLE_BLOCK | CYAML_CFG_NO_ALIAS;
}

const cyaml_schema_field_t *mf_schema_field(const cyaml_schema_value_t *mapping, const char *key)
{
    for (const cyaml_schema_field_t *f = mapping->mapping.fields; f->key; f++)
        if (!strcmp(f->key, key)) return f;
    return NULL;
}

const char *mf_schema_keys(const cyaml_schema_value_t *mapping, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (const cyaml_schema_field_t *f = mapping->mapping.fields; f->key && used < size; f++) {
        int w = snprintf(buf + used, size - used, "%s%s", used ? ", " : "", f->key);
        if (w > 0) used += (size_t)w;
    }
    return buf;
}

size_t mf_schema_entry_stride(const cyaml_schema_value_t *sequence)
{
    const cyaml_schema_value_t *entry = sequence->sequence.entry;
    return (entry->flags & CYAML_FLAG_POINTER) ? sizeof(void *) : entry->data_size;
}

void mf_layer_config_init(mf_layer_config *layer)
{
    layer->use_bias = -1;
    layer->rate = -1.0f;
    layer->momentum = -1.0f;
    layer->epsilon = -1.0f;
}

/* ---- locating errors ---- */

void mf_config_locate(const mf_config *c, const char *path, bool at_key, mf_error *err)
{
    if (!err) return;
    mf_mark_loc loc;
    mf_marks_locate(c ? c->marks : NULL, path, at_key, &loc);
    if (loc.override) {
        char message[sizeof err->message];
        memcpy(message, err->message, sizeof message);
        int w =
            snprintf(err->message, sizeof err->message, "override '%.*s%s': %s", MF_OVERRIDE_SHOWN,
                     loc.override, strlen(loc.override) > MF_OVERRIDE_SHOWN ? "..." : "", message);
        if (w < 0) err->message[0] = '\0';
        mf_error_at(err, NULL, 0, 0, path);
    } else {
        mf_error_at(err, c ? c->path : NULL, loc.line, loc.column, path);
    }
}

int mf_config_fail(const mf_config *c, mf_error *err, const char *path, bool at_key,
                   const char *fmt, ...)
{
    if (!err) return MF_ERR;
    char message[sizeof err->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    mf_error_set(err, "%s", message);
    mf_config_locate(c, path, at_key, err);
    return MF_ERR;
}

/* ---- reading and parsing the file ---- */

/* Config files are small; this bounds what a wrong path (a dataset, say) can make us read. */
#define MAX_CONFIG_BYTES ((long)MF_CONFIG_MAX_BYTES)

/* Only a regular file is read: opening a FIFO without a writer would block forever, and a
 * device such as /dev/zero never ends. The open itself does not block (O_NONBLOCK), so a FIFO
 * put in place after a check cannot hang it either; fstat on what was opened decides. */
static int read_file(const char *path, unsigned char **out, size_t *size, mf_error *err)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        mf_error_set(err, "cannot open config file '%s': %s", path, strerror(errno));
        mf_error_at(err, path, 0, 0, NULL);
        return MF_ERR;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        /* "'<path>' is not a regular file" (or why it cannot be checked) */
        if (mf_file_check_regular(path, err) == MF_OK)
            mf_error_set(err, "'%s' is not a regular file", path);
        char why[sizeof err->message];
        memcpy(why, err->message, sizeof why);
        mf_error_set(err, "config file %s (a FIFO, device or folder cannot be a config)", why);
        mf_error_at(err, path, 0, 0, NULL);
        return MF_ERR;
    }
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        mf_error_set(err, "cannot open config file '%s': %s", path, strerror(errno));
        close(fd);
        mf_error_at(err, path, 0, 0, NULL);
        return MF_ERR;
    }
    unsigned char *buf = NULL;
    size_t used = 0, cap = 0;
    int rc = MF_OK;
    for (;;) {
        if (used == cap) {
            if (cap >= (size_t)MAX_CONFIG_BYTES) {
                rc = mf_error_set(err, "config file '%s' is larger than %ld bytes", path,
                                  MAX_CONFIG_BYTES);
                break;
            }
            cap = cap ? 2 * cap : 4096;
            unsigned char *grown = realloc(buf, cap);
            if (!grown) {
                rc = mf_error_set(err, "out of memory");
                break;
            }
            buf = grown;
        }
        size_t got = fread(buf + used, 1, cap - used, f);
        used += got;
        if (got == 0) {
            if (ferror(f))
                rc = mf_error_set(err, "cannot read config file '%s': %s", path, strerror(errno));
            break;
        }
    }
    fclose(f);
    if (rc) {
        free(buf);
        mf_error_at(err, path, 0, 0, NULL);
        return MF_ERR;
    }
    *out = buf;
    *size = used;
    return MF_OK;
}

static int syntax_error(const yaml_parser_t *p, const char *path, mf_error *err)
{
    const char *problem = p->problem ? p->problem : "syntax error";
    if (p->error == YAML_READER_ERROR) {
        mf_error_set(err, "invalid YAML: %s", problem);
        mf_error_at_offset(err, path, (long)p->problem_offset);
        return MF_ERR;
    }
    if (p->context)
        mf_error_set(err, "invalid YAML: %s (%s at line %zu, column %zu)", problem, p->context,
                     p->context_mark.line + 1, p->context_mark.column + 1);
    else
        mf_error_set(err, "invalid YAML: %s", problem);
    mf_error_at(err, path, (int)p->problem_mark.line + 1, (int)p->problem_mark.column + 1, NULL);
    return MF_ERR;
}

/* ---- bounds on the YAML text ---- */

static int bounds_fail(const char *file, const char *override, const yaml_mark_t *mark,
                       mf_error *err, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int bounds_fail(const char *file, const char *override, const yaml_mark_t *mark,
                       mf_error *err, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (override) {
        mf_error_set(err, "override '%.*s%s': %s", MF_OVERRIDE_SHOWN, override,
                     strlen(override) > MF_OVERRIDE_SHOWN ? "..." : "", msg);
        mf_error_at(err, NULL, 0, 0, NULL);
    } else {
        mf_error_set(err, "%s", msg);
        mf_error_at(err, file, mark ? (int)mark->line + 1 : 0, mark ? (int)mark->column + 1 : 0,
                    NULL);
    }
    return MF_ERR;
}

/* Tokens, not a document: libyaml's parser asks its scanner for one token at a time, so the
 * bounds fire after at most MF_CONFIG_MAX_DEPTH open levels (the scanner looks ahead at most
 * 1024 characters for a simple key). Indentless sequences ("key:\n- a") open no level of their
 * own, so a document may be up to twice as deep as counted: still far below any cost. */
int mf_yaml_check_bounds(const unsigned char *text, size_t size, const char *file,
                         const char *override, mf_error *err)
{
    if (size > MF_CONFIG_MAX_BYTES)
        return bounds_fail(file, override, NULL, err, "the YAML is larger than %zu bytes",
                           MF_CONFIG_MAX_BYTES);
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) return mf_error_set(err, "out of memory");
    yaml_parser_set_input_string(&parser, text, size);
    int depth = 0, rc = MF_OK;
    long nodes = 0;
    for (bool done = false; !done && rc == MF_OK;) {
        yaml_token_t token;
        if (!yaml_parser_scan(&parser, &token)) break; /* the parse reports syntax errors */
        yaml_mark_t mark = token.start_mark;
        switch (token.type) {
        case YAML_STREAM_END_TOKEN:
            done = true;
            break;
        case YAML_BLOCK_SEQUENCE_START_TOKEN:
        case YAML_BLOCK_MAPPING_START_TOKEN:
        case YAML_FLOW_SEQUENCE_START_TOKEN:
        case YAML_FLOW_MAPPING_START_TOKEN:
            nodes++;
            if (++depth > MF_CONFIG_MAX_DEPTH)
                rc = bounds_fail(file, override, &mark, err,
                                 "the YAML is nested deeper than %d levels (lists and mappings "
                                 "inside each other; a config needs 5)",
                                 MF_CONFIG_MAX_DEPTH);
            break;
        case YAML_BLOCK_END_TOKEN:
        case YAML_FLOW_SEQUENCE_END_TOKEN:
        case YAML_FLOW_MAPPING_END_TOKEN:
            depth--;
            break;
        case YAML_SCALAR_TOKEN:
        case YAML_ALIAS_TOKEN:
            nodes++;
            break;
        default:
            break;
        }
        if (rc == MF_OK && nodes > MF_CONFIG_MAX_NODES)
            rc = bounds_fail(file, override, &mark, err,
                             "the YAML has more than %d values (scalars, lists and mappings; "
                             "a config with %d layers has about 30000)",
                             MF_CONFIG_MAX_NODES, MF_MAX_NODES - 1);
        yaml_token_delete(&token);
    }
    yaml_parser_delete(&parser);
    return rc;
}

/* Steps 1-4: parse, index, check against the schema, store into a new config (*out). */
static int check_file(const char *path, const unsigned char *text, size_t size,
                      mf_yaml_marks *marks, mf_config **out, mf_error *err)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    if (mf_yaml_check_bounds(text, size, path, NULL, err)) return MF_ERR;
    if (!yaml_parser_initialize(&parser)) return mf_error_set(err, "out of memory");
    yaml_parser_set_input_string(&parser, text, size);
    if (!yaml_parser_load(&parser, &doc)) {
        syntax_error(&parser, path, err);
        yaml_parser_delete(&parser);
        return MF_ERR;
    }
    int rc = MF_OK;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root) {
        rc = mf_error_set(err, "the config is empty (expected the sections dataset, model, "
                               "train and optionally prune, quantize and deploy)");
        mf_error_at(err, path, 0, 0, NULL);
    } else {
        /* A second document would be ignored: refuse it rather than drop it. */
        yaml_document_t next;
        if (!yaml_parser_load(&parser, &next)) {
            rc = syntax_error(&parser, path, err);
        } else {
            yaml_node_t *extra = yaml_document_get_root_node(&next);
            if (extra) {
                rc = mf_error_set(err, "a config holds one YAML document; another starts here");
                mf_error_at(err, path, (int)extra->start_mark.line + 1,
                            (int)extra->start_mark.column + 1, NULL);
            }
            yaml_document_delete(&next);
        }
    }
    if (rc == MF_OK) rc = mf_marks_index_document(marks, &doc, path, err);
    mf_node_source src = {&doc, path, NULL};
    if (rc == MF_OK) rc = mf_schema_check_node(&src, root, &mf_config_schema, "", err);
    if (rc == MF_OK && !(*out = calloc(1, sizeof **out))) rc = mf_error_set(err, "out of memory");
    if (rc == MF_OK) rc = mf_config_store_document(*out, &src, root, err);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return rc;
}

/* ---- defaults ---- */

static const char *layer_path(char *buf, unsigned i, const char *key)
{
    if (key)
        snprintf(buf, MF_CONFIG_PATH_MAX, "model.layers[%u].%s", i, key);
    else
        snprintf(buf, MF_CONFIG_PATH_MAX, "model.layers[%u]", i);
    return buf;
}

static int apply_defaults(mf_config *c, mf_error *err)
{
    for (size_t i = 0; i < sizeof config_defaults / sizeof config_defaults[0]; i++)
        if (!mf_marks_in_file(c->marks, config_defaults[i].path) &&
            mf_config_set_text(c, config_defaults[i].path, config_defaults[i].value, err))
            return MF_ERR;
    if (!mf_marks_in_file(c->marks, "train.output")) {
        /* runs/<config file name without folder and extension>/model.h5 */
        const char *base = strrchr(c->path, '/');
        base = base ? base + 1 : c->path;
        const char *dot = strrchr(base, '.');
        int stem = dot && dot > base ? (int)(dot - base) : (int)strlen(base);
        char output[MF_CONFIG_PATH_MAX + 64];
        snprintf(output, sizeof output, "runs/%.*s/model.h5", stem, base);
        if (mf_config_set_text(c, "train.output", output, err)) return MF_ERR;
    }
    char path[MF_CONFIG_PATH_MAX];
    for (unsigned i = 0; i < c->model.layers_count; i++) {
        mf_layer_config *l = &c->model.layers[i];
        if (!mf_marks_in_file(c->marks, layer_path(path, i, "use_bias"))) l->use_bias = -1;
        if (!mf_marks_in_file(c->marks, layer_path(path, i, "rate"))) l->rate = -1.0f;
        if (!mf_marks_in_file(c->marks, layer_path(path, i, "momentum"))) l->momentum = -1.0f;
        if (!mf_marks_in_file(c->marks, layer_path(path, i, "epsilon"))) l->epsilon = -1.0f;
    }
    return MF_OK;
}

static bool given(const mf_config *c, const char *path);

/* The defaults that depend on dataset.name: its folder and its normalization. An unknown or
 * missing name is left for validate_dataset to report. */
static int apply_dataset_defaults(mf_config *c, mf_error *err)
{
    const char *name = c->dataset.name;
    if (!name) return MF_OK;
    if (!given(c, "dataset.path"))
        for (size_t i = 0; i < sizeof dataset_paths / sizeof dataset_paths[0]; i++)
            if (!strcmp(name, dataset_paths[i].name) &&
                mf_config_set_text(c, "dataset.path", dataset_paths[i].path, err))
                return MF_ERR;
    if (!given(c, "dataset.normalize") &&
        mf_config_set_text(c, "dataset.normalize", strcmp(name, "synthetic") ? "element" : "none",
                           err))
        return MF_ERR;
    return MF_OK;
}

/* An unnamed layer is called <type>_<index> ("conv1d_0"), so it can be named in inputs and
 * overrides. Runs before overrides (so they can use the name) and after (for new layers). */
static int name_layers(mf_config *c, mf_error *err)
{
    for (unsigned i = 0; i < c->model.layers_count; i++) {
        mf_layer_config *l = &c->model.layers[i];
        if (l->name) continue;
        char name[MF_NAME_MAX + 16];
        snprintf(name, sizeof name, "%.*s_%u", MF_NAME_MAX / 2, l->type ? l->type : "layer", i);
        if (!(l->name = strdup(name))) return mf_error_set(err, "out of memory");
    }
    return MF_OK;
}

/* An empty template ("model.template=" on the command line) means none, so an override can
 * switch a template config to a layer list. */
static void drop_empty_template(mf_config *c)
{
    if (c->model.template_name && !c->model.template_name[0]) {
        free(c->model.template_name);
        c->model.template_name = NULL;
    }
}

/* ---- validation ---- */

static bool given(const mf_config *c, const char *path)
{
    return mf_marks_given(c->marks, path);
}

static bool in_list(const char *name, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(name, list[i])) return true;
    return false;
}

static const char *join(const char *const *list, size_t n, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < size; i++) {
        int w = snprintf(buf + used, size - used, "%s%s", i ? ", " : "", list[i]);
        if (w > 0) used += (size_t)w;
    }
    return buf;
}

/* "a, b, c" lists (mf_template_names): is name one of them? */
static bool in_comma_list(const char *name, const char *list)
{
    size_t len = strlen(name);
    for (const char *s = list; *s;) {
        while (*s == ' ' || *s == ',')
            s++;
        size_t item = strcspn(s, ", ");
        if (item == len && !strncmp(s, name, len)) return true;
        s += item;
    }
    return false;
}

static bool valid_identifier(const char *s)
{
    if (!s[0] || (s[0] >= '0' && s[0] <= '9')) return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return false;
    return true;
}

/* Dimensions in [1, MF_MAX_DIM] and one sample of at most MF_MAX_ELEMS values (as the graph
 * and the dataset loaders require; here the error names the config field). */
static int check_shape(const mf_config *c, const char *path, const int *dims, unsigned count,
                       mf_error *err)
{
    if (count < 1 || count > 3)
        return mf_config_fail(c, err, path, false,
                              "expected 1 to 3 dimensions (e.g. [128, 9] or [32, 32, 3]), "
                              "found %u",
                              count);
    char item[MF_CONFIG_PATH_MAX + 16];
    for (unsigned i = 0; i < count; i++) {
        snprintf(item, sizeof item, "%s[%u]", path, i);
        if (dims[i] < 1 || dims[i] > MF_MAX_DIM)
            return mf_config_fail(c, err, item, false, "must be in [1, %d], found %d", MF_MAX_DIM,
                                  dims[i]);
    }
    unsigned long long values = 1;
    char shape[64];
    size_t used = 0;
    for (unsigned i = 0; i < count; i++) {
        values *= (unsigned long long)dims[i];
        used += (size_t)snprintf(shape + used, sizeof shape - used, "%s%d", i ? "x" : "", dims[i]);
    }
    if (values > MF_MAX_ELEMS)
        return mf_config_fail(c, err, path, false, "a sample of %s = %llu values exceeds %zu",
                              shape, values, (size_t)MF_MAX_ELEMS);
    return MF_OK;
}

static int check_min(const mf_config *c, const char *path, long long value, long long min,
                     mf_error *err)
{
    if (value < min)
        return mf_config_fail(c, err, path, false, "must be >= %lld, found %lld", min, value);
    return MF_OK;
}

/* min <= value <= max; the limits are listed in mf_config.h */
static int check_range(const mf_config *c, const char *path, long long value, long long min,
                       long long max, mf_error *err)
{
    if (check_min(c, path, value, min, err)) return MF_ERR;
    if (value > max)
        return mf_config_fail(c, err, path, false, "must be <= %lld, found %lld", max, value);
    return MF_OK;
}

/* A file or folder name (or flags) from the config: the pipeline derives file names from it in
 * fixed buffers, so a longer one would be cut silently. NULL (not given) passes. */
static int check_length(const mf_config *c, const char *path, const char *value, mf_error *err)
{
    size_t len = value ? strlen(value) : 0;
    if (len > MF_CONFIG_MAX_PATH)
        return mf_config_fail(c, err, path, false, "must be at most %d characters, found %zu",
                              MF_CONFIG_MAX_PATH, len);
    return MF_OK;
}

static int check_positive(const mf_config *c, const char *path, float value, mf_error *err)
{
    if (!(value > 0.0f))
        return mf_config_fail(c, err, path, false, "must be > 0, found %g", (double)value);
    return MF_OK;
}

static int check_non_negative(const mf_config *c, const char *path, float value, mf_error *err)
{
    if (!(value >= 0.0f))
        return mf_config_fail(c, err, path, false, "must be >= 0, found %g", (double)value);
    return MF_OK;
}

static int check_unit(const mf_config *c, const char *path, float value, mf_error *err)
{
    if (!(value >= 0.0f && value < 1.0f))
        return mf_config_fail(c, err, path, false, "must be in [0, 1), found %g", (double)value);
    return MF_OK;
}

static bool is_power_of_two(long long v)
{
    return v > 0 && (v & (v - 1)) == 0;
}

/* A frame length or shift in ms: > 0, at least one sample at 8 kHz, at most 10 s. */
static int check_mfcc_ms(const mf_config *c, const char *path, float ms, mf_error *err)
{
    if (check_positive(c, path, ms, err)) return MF_ERR;
    if ((double)ms * MFCC_SAMPLE_RATE / 1000.0 < 1.0)
        return mf_config_fail(c, err, path, false,
                              "must be >= %g ms (one sample at %d Hz), found %g",
                              1000.0 / MFCC_SAMPLE_RATE, MFCC_SAMPLE_RATE, (double)ms);
    if (ms > 10000.0f)
        return mf_config_fail(c, err, path, false, "must be <= 10000 ms, found %g", (double)ms);
    return MF_OK;
}

static int validate_mfcc(const mf_config *c, mf_error *err)
{
    const mf_mfcc_config *m = &c->dataset.mfcc;
    if (check_mfcc_ms(c, "dataset.mfcc.frame_ms", m->frame_ms, err) ||
        check_mfcc_ms(c, "dataset.mfcc.shift_ms", m->shift_ms, err) ||
        check_range(c, "dataset.mfcc.filters", m->filters, 1, MF_CONFIG_MAX_MFCC_FILTERS, err) ||
        check_min(c, "dataset.mfcc.coefficients", m->coefficients, 1, err) ||
        check_range(c, "dataset.mfcc.frames", m->frames, 1, MF_CONFIG_MAX_MFCC_FRAMES, err) ||
        check_unit(c, "dataset.mfcc.preemphasis", m->preemphasis, err))
        return MF_ERR;
    if (m->coefficients > m->filters) {
        /* at whichever of the two the config gave (coefficients if both, or neither) */
        const char *at = !given(c, "dataset.mfcc.coefficients") && given(c, "dataset.mfcc.filters")
                             ? "dataset.mfcc.filters"
                             : "dataset.mfcc.coefficients";
        return mf_config_fail(c, err, at, false,
                              "coefficients (%d) must be <= filters (%d): each coefficient comes "
                              "from the mel filter bank",
                              m->coefficients, m->filters);
    }
    if (m->fft_size != 0) {
        /* the window in samples, rounded to nearest, as the MFCC code frames the signal */
        long window = (long)((double)m->frame_ms * MFCC_SAMPLE_RATE / 1000.0 + 0.5);
        if (m->fft_size > MF_CONFIG_MAX_FFT)
            return mf_config_fail(c, err, "dataset.mfcc.fft_size", false, "must be <= %d, found %d",
                                  MF_CONFIG_MAX_FFT, m->fft_size);
        if (!is_power_of_two(m->fft_size))
            return mf_config_fail(c, err, "dataset.mfcc.fft_size", false,
                                  "must be 0 (the next power of two >= the window) or a power of "
                                  "two, found %d",
                                  m->fft_size);
        if (m->fft_size < window)
            return mf_config_fail(c, err, "dataset.mfcc.fft_size", false,
                                  "must be >= the window length (%ld samples = %g ms at %d Hz), "
                                  "found %d",
                                  window, (double)m->frame_ms, MFCC_SAMPLE_RATE, m->fft_size);
    }
    return MF_OK;
}

/* The png dataset reads images of one size: shape [height, width, channels], 1 or 3 channels. */
static int check_png_shape(const mf_config *c, const mf_dataset_config *d, mf_error *err)
{
    if (!given(c, "dataset.shape"))
        return mf_config_fail(c, err, "dataset.shape", true,
                              "the png dataset needs the image shape [height, width, channels], "
                              "e.g. shape: [32, 32, 3]");
    if (d->shape_count != 3)
        return mf_config_fail(c, err, "dataset.shape", false,
                              "the png dataset's shape is [height, width, channels], found %u "
                              "dimension(s)",
                              d->shape_count);
    if (check_shape(c, "dataset.shape", d->shape, d->shape_count, err)) return MF_ERR;
    if (d->shape[2] != 1 && d->shape[2] != 3)
        return mf_config_fail(c, err, "dataset.shape[2]", false,
                              "png images have 1 (grey) or 3 (RGB) channels, found %d",
                              d->shape[2]);
    return MF_OK;
}

static int validate_dataset(const mf_config *c, mf_error *err)
{
    const mf_dataset_config *d = &c->dataset;
    char names[200];
    join(dataset_names, N_DATASET_NAMES, names, sizeof names);
    if (!d->name)
        return mf_config_fail(c, err, "dataset.name", true, "the dataset needs a name (one of: %s)",
                              names);
    if (!in_list(d->name, dataset_names, N_DATASET_NAMES))
        return mf_config_fail(c, err, "dataset.name", false,
                              "unknown dataset '%s' (expected one of: %s)", d->name, names);
    bool synthetic = !strcmp(d->name, "synthetic");
    bool png = !strcmp(d->name, "png");

    /* where the data comes from */
    if (synthetic && given(c, "dataset.path"))
        return mf_config_fail(c, err, "dataset.path", true,
                              "'path' does not apply to the synthetic dataset (it is generated)");
    if (png && !given(c, "dataset.path"))
        return mf_config_fail(c, err, "dataset.path", true,
                              "the png dataset needs a path (the folder of images)");
    if (d->path && !d->path[0])
        return mf_config_fail(c, err, "dataset.path", false, "the dataset path is empty");
    if (check_length(c, "dataset.path", d->path, err) ||
        check_length(c, "dataset.cache_dir", d->cache_dir, err))
        return MF_ERR;

    /* the generator's parameters */
    if (!synthetic) {
        static const struct {
            const char *key, *hint;
        } synthetic_only[] = {
            {"shape", " and png datasets (the others know their sample shape)"},
            {"classes", " dataset (the others know their classes)"},
            {"train_samples", " dataset (to train on fewer samples, set train_limit)"},
            {"test_samples", " dataset (to test on fewer samples, set test_limit)"},
            {"noise", " dataset"},
        };
        char path[MF_CONFIG_PATH_MAX];
        for (size_t i = 0; i < sizeof synthetic_only / sizeof synthetic_only[0]; i++) {
            if (png && !strcmp(synthetic_only[i].key, "shape")) continue;
            snprintf(path, sizeof path, "dataset.%s", synthetic_only[i].key);
            if (given(c, path))
                return mf_config_fail(c, err, path, true, "'%s' is only for the synthetic%s",
                                      synthetic_only[i].key, synthetic_only[i].hint);
        }
    }
    if (synthetic) {
        if (!given(c, "dataset.shape"))
            return mf_config_fail(c, err, "dataset.shape", true,
                                  "the synthetic dataset needs a sample shape, e.g. shape: "
                                  "[128, 9]");
        if (check_shape(c, "dataset.shape", d->shape, d->shape_count, err)) return MF_ERR;
        if (!given(c, "dataset.classes"))
            return mf_config_fail(c, err, "dataset.classes", true,
                                  "the synthetic dataset needs a number of classes");
        if (check_range(c, "dataset.classes", d->classes, 2, MF_CONFIG_MAX_CLASSES, err))
            return MF_ERR;
    }
    if (png && check_png_shape(c, d, err)) return MF_ERR;
    if (check_range(c, "dataset.train_samples", d->train_samples, 1, MF_CONFIG_MAX_SAMPLES, err) ||
        check_range(c, "dataset.test_samples", d->test_samples, 1, MF_CONFIG_MAX_SAMPLES, err) ||
        check_non_negative(c, "dataset.noise", d->noise, err))
        return MF_ERR;
    if (synthetic) {
        /* the generator holds both splits: at most MF_MAX_ELEMS values (1 GiB of floats) */
        unsigned long long per = 1;
        for (unsigned i = 0; i < d->shape_count; i++)
            per *= (unsigned long long)d->shape[i];
        unsigned long long samples = (unsigned long long)d->train_samples + d->test_samples;
        if (samples * per > MF_MAX_ELEMS) {
            const char *at = given(c, "dataset.train_samples")  ? "dataset.train_samples"
                             : given(c, "dataset.test_samples") ? "dataset.test_samples"
                                                                : "dataset.shape";
            return mf_config_fail(c, err, at, false,
                                  "%d + %d samples of %llu values exceed %zu values (train_samples "
                                  "+ test_samples, times the sample shape)",
                                  d->train_samples, d->test_samples, per, (size_t)MF_MAX_ELEMS);
        }
    }

    /* preparation and splits */
    if (given(c, "dataset.resize") && strcmp(d->name, "mnist") && !png)
        return mf_config_fail(c, err, "dataset.resize", true,
                              "'resize' applies only to the mnist and png datasets, not %s",
                              d->name);
    char mfcc_at[MF_CONFIG_PATH_MAX];
    if (strcmp(d->name, "fsdd") &&
        mf_marks_given_under(c->marks, "dataset.mfcc", mfcc_at, sizeof mfcc_at))
        return mf_config_fail(c, err, mfcc_at, true,
                              "'mfcc' applies only to the fsdd dataset, not %s", d->name);
    if (validate_mfcc(c, err)) return MF_ERR;
    if (check_unit(c, "dataset.validation", d->validation, err) ||
        check_range(c, "dataset.train_limit", d->train_limit, 0, MF_CONFIG_MAX_SAMPLES, err) ||
        check_range(c, "dataset.test_limit", d->test_limit, 0, MF_CONFIG_MAX_SAMPLES, err))
        return MF_ERR;
    /* (also when not caching: an empty string would not load again from the dump) */
    if (!d->cache_dir || !d->cache_dir[0])
        return mf_config_fail(c, err, "dataset.cache_dir", false,
                              "the cache folder is empty (give a folder, e.g. cache_dir: cache)");
    return MF_OK;
}

/* The layer keys the registry knows about, with their MF_KEY_* bits. */
static const struct {
    const char *key;
    unsigned bit;
} layer_keys[] = {{"filters", MF_KEY_FILTERS},       {"units", MF_KEY_UNITS},
                  {"kernel", MF_KEY_KERNEL},         {"stride", MF_KEY_STRIDE},
                  {"padding", MF_KEY_PADDING},       {"use_bias", MF_KEY_USE_BIAS},
                  {"activation", MF_KEY_ACTIVATION}, {"rate", MF_KEY_RATE},
                  {"momentum", MF_KEY_MOMENTUM},     {"epsilon", MF_KEY_EPSILON},
#define INT_KEY_BIT_(key, bit, min, max, def) {#key, (bit)},
                  MF_LAYER_INT_KEYS(INT_KEY_BIT_)
#undef INT_KEY_BIT_
};
#define N_LAYER_KEYS (sizeof layer_keys / sizeof layer_keys[0])

static const char *keys_taken(unsigned bits, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t k = 0; k < N_LAYER_KEYS && used < size; k++)
        if (bits & layer_keys[k].bit) {
            int w = snprintf(buf + used, size - used, "%s%s", used ? ", " : "", layer_keys[k].key);
            if (w > 0) used += (size_t)w;
        }
    return buf;
}

/* A layer's kernel or stride, when given: each size in [1, MF_CONFIG_MAX_KERNEL], reported at
 * the entry of a list or at the key of a single size. */
static int check_sizes(const mf_config *c, unsigned i, const char *key, const int *v, unsigned n,
                       mf_error *err)
{
    char path[MF_CONFIG_PATH_MAX], item[MF_CONFIG_PATH_MAX + 16];
    if (!given(c, layer_path(path, i, key))) return MF_OK;
    for (unsigned k = 0; k < n; k++) {
        snprintf(item, sizeof item, "%s[%u]", path, k);
        if (check_range(c, given(c, item) ? item : path, v[k], 1, MF_CONFIG_MAX_KERNEL, err))
            return MF_ERR;
    }
    return MF_OK;
}

static int validate_layer_values(const mf_config *c, unsigned i, const mf_layer_config *l,
                                 mf_error *err)
{
    char path[MF_CONFIG_PATH_MAX];
    static const char *const paddings[] = {"same", "valid"};
    if (given(c, layer_path(path, i, "filters")) &&
        check_range(c, path, l->filters, 1, MF_CONFIG_MAX_CHANNELS, err))
        return MF_ERR;
    if (given(c, layer_path(path, i, "units")) &&
        check_range(c, path, l->units, 1, MF_CONFIG_MAX_CHANNELS, err))
        return MF_ERR;
    if (check_sizes(c, i, "kernel", l->kernel, l->kernel_count, err) ||
        check_sizes(c, i, "stride", l->stride, l->stride_count, err))
        return MF_ERR;
    if (l->padding && !in_list(l->padding, paddings, 2))
        return mf_config_fail(c, err, layer_path(path, i, "padding"), false,
                              "unknown padding '%s' (expected same or valid)", l->padding);
    char names[200];
    if (l->activation && !mf_activation_lookup(l->activation, NULL))
        return mf_config_fail(c, err, layer_path(path, i, "activation"), false,
                              "unknown activation '%s' (expected %s)", l->activation,
                              mf_activation_list(names, sizeof names));
#define CHECK_INT_KEY_(key, bit, min, max, def)                                                    \
    if (given(c, layer_path(path, i, #key)) && check_range(c, path, l->key, (min), (max), err))    \
        return MF_ERR;
    MF_LAYER_INT_KEYS(CHECK_INT_KEY_)
#undef CHECK_INT_KEY_
    if (given(c, layer_path(path, i, "rate")) && check_unit(c, path, l->rate, err)) return MF_ERR;
    if (given(c, layer_path(path, i, "momentum")) && check_unit(c, path, l->momentum, err))
        return MF_ERR;
    if (given(c, layer_path(path, i, "epsilon")) && check_positive(c, path, l->epsilon, err))
        return MF_ERR;
    return MF_OK;
}

static int validate_layer_inputs(const mf_config *c, unsigned i, const mf_op_info *info,
                                 mf_error *err)
{
    const mf_model_config *m = &c->model;
    const mf_layer_config *l = &m->layers[i];
    char path[MF_CONFIG_PATH_MAX];
    layer_path(path, i, "inputs");
    int n = l->inputs_count ? (int)l->inputs_count : 1;
    if (n < info->min_inputs || n > info->max_inputs) {
        const char *where = given(c, path) ? path : layer_path(path, i, NULL);
        if (info->min_inputs == info->max_inputs)
            return mf_config_fail(c, err, where, false,
                                  "layer '%s' (%s) takes %d input(s), found %d", l->name, l->type,
                                  info->min_inputs, n);
        return mf_config_fail(c, err, where, false,
                              "layer '%s' (%s) takes %d to %d inputs, found %d", l->name, l->type,
                              info->min_inputs, info->max_inputs, n);
    }
    for (unsigned k = 0; k < l->inputs_count; k++) {
        const char *in = l->inputs[k];
        char item[MF_CONFIG_PATH_MAX + 16];
        snprintf(item, sizeof item, "%s[%u]", path, k);
        if (!strcmp(in, l->name))
            return mf_config_fail(c, err, item, false, "layer '%s' cannot take its own output",
                                  l->name);
        bool found = !strcmp(in, "input");
        for (unsigned j = 0; j < m->layers_count && !found; j++)
            found = !strcmp(in, m->layers[j].name);
        if (!found) {
            char names[400];
            size_t used = (size_t)snprintf(names, sizeof names, "input");
            for (unsigned j = 0; j < m->layers_count && used < sizeof names; j++)
                if (j != i)
                    used += (size_t)snprintf(names + used, sizeof names - used, ", %s",
                                             m->layers[j].name);
            return mf_config_fail(c, err, item, false,
                                  "layer '%s': input '%s' is not a layer of this model (known: "
                                  "%s)",
                                  l->name, in, names);
        }
    }
    return MF_OK;
}

static int validate_layer(const mf_config *c, unsigned i, mf_error *err)
{
    const mf_model_config *m = &c->model;
    const mf_layer_config *l = &m->layers[i];
    char path[MF_CONFIG_PATH_MAX], keys[200];
    if (!l->type)
        return mf_config_fail(c, err, layer_path(path, i, NULL), false,
                              "layer '%s' needs a type (one of: %s)", l->name, mf_op_names());
    mf_op op;
    const mf_op_info *info = mf_op_lookup(l->type, &op);
    if (!info)
        return mf_config_fail(c, err, layer_path(path, i, "type"), false,
                              "unknown layer type '%s' (expected one of: %s)", l->type,
                              mf_op_names());
    layer_path(path, i, "name");
    if (strlen(l->name) >= MF_NAME_MAX)
        return mf_config_fail(c, err, path, false, "layer names have at most %d characters",
                              MF_NAME_MAX - 1);
    if (!valid_identifier(l->name))
        return mf_config_fail(c, err, path, false,
                              "layer name '%s' must be a C identifier (letters, digits, '_'; "
                              "not starting with a digit)",
                              l->name);
    if (!strcmp(l->name, "input"))
        return mf_config_fail(c, err, path, false,
                              "'input' names the model input; choose another layer name");
    for (unsigned j = 0; j < i; j++)
        if (!strcmp(m->layers[j].name, l->name)) {
            char first[MF_CONFIG_PATH_MAX];
            mf_mark_loc loc;
            mf_marks_locate(c->marks, layer_path(first, j, NULL), false, &loc);
            if (loc.line)
                return mf_config_fail(c, err, path, false,
                                      "layer name '%s' is used twice (first at line %d)", l->name,
                                      loc.line);
            return mf_config_fail(c, err, path, false,
                                  "layer name '%s' is used twice (first by "
                                  "model.layers[%u])",
                                  l->name, j);
        }
    for (size_t k = 0; k < N_LAYER_KEYS; k++)
        if (given(c, layer_path(path, i, layer_keys[k].key)) && !(info->keys & layer_keys[k].bit)) {
            if (!info->keys)
                return mf_config_fail(c, err, path, true,
                                      "layer '%s' (%s) does not take '%s' (it takes no "
                                      "hyperparameters)",
                                      l->name, l->type, layer_keys[k].key);
            return mf_config_fail(
                c, err, path, true, "layer '%s' (%s) does not take '%s' (it takes: %s)", l->name,
                l->type, layer_keys[k].key, keys_taken(info->keys, keys, sizeof keys));
        }
    /* Sizes have no sensible default; everything else does (mf_layer_spec_init). */
    static const unsigned required[] = {MF_KEY_FILTERS, MF_KEY_UNITS, MF_KEY_KERNEL};
    for (size_t r = 0; r < 3; r++)
        for (size_t k = 0; k < N_LAYER_KEYS; k++)
            if (layer_keys[k].bit == required[r] && (info->keys & required[r]) &&
                !given(c, layer_path(path, i, layer_keys[k].key)))
                return mf_config_fail(c, err, layer_path(path, i, NULL), false,
                                      "layer '%s' (%s) needs '%s'", l->name, l->type,
                                      layer_keys[k].key);
    if (validate_layer_values(c, i, l, err)) return MF_ERR;
    return validate_layer_inputs(c, i, info, err);
}

static int validate_model(const mf_config *c, mf_error *err)
{
    const mf_model_config *m = &c->model;
    bool has_layers = m->layers_count > 0;
    if (!m->template_name && !has_layers)
        return mf_config_fail(c, err, "model", true,
                              "the model needs either 'template' (one of: %s) or 'layers'",
                              mf_template_names());
    if (m->template_name && has_layers)
        return mf_config_fail(c, err, "model.layers", true,
                              "give either 'template' or 'layers', not both");
    if (m->template_name) {
        if (!in_comma_list(m->template_name, mf_template_names()))
            return mf_config_fail(c, err, "model.template", false,
                                  "unknown template '%s' (expected one of: %s)", m->template_name,
                                  mf_template_names());
        if (!given(c, "model.width"))
            return mf_config_fail(c, err, "model.width", true,
                                  "template '%s' needs a width (filters per conv, e.g. 16)",
                                  m->template_name);
        if (check_range(c, "model.width", m->width, 1, MF_CONFIG_MAX_WIDTH, err)) return MF_ERR;
        if (given(c, "model.dims") && m->dims != 1 && m->dims != 2)
            return mf_config_fail(c, err, "model.dims", false, "must be 1 or 2, found %d", m->dims);
    } else if (!mf_marks_in_file(c->marks, "model.template")) {
        /* (An override that drops the file's template cannot drop its width and dims too.) */
        if (given(c, "model.width"))
            return mf_config_fail(c, err, "model.width", true,
                                  "'width' applies to a template; this model lists its layers");
        if (given(c, "model.dims"))
            return mf_config_fail(c, err, "model.dims", true,
                                  "'dims' applies to a template; this model lists its layers");
    }
    if (m->layers_count >= MF_MAX_NODES)
        return mf_config_fail(c, err, "model.layers", false, "at most %d layers, found %u",
                              MF_MAX_NODES - 1, m->layers_count);
    if (given(c, "model.input_shape") &&
        check_shape(c, "model.input_shape", m->input_shape, m->input_shape_count, err))
        return MF_ERR;
    if (given(c, "model.classes") &&
        check_range(c, "model.classes", m->classes, 2, MF_CONFIG_MAX_CLASSES, err))
        return MF_ERR;
    for (unsigned i = 0; i < m->layers_count; i++)
        if (validate_layer(c, i, err)) return MF_ERR;
    return MF_OK;
}

static int validate_train(const mf_config *c, mf_error *err)
{
    const mf_train_config *t = &c->train;
    if (check_range(c, "train.epochs", t->epochs, 1, MF_CONFIG_MAX_EPOCHS, err) ||
        check_range(c, "train.batch_size", t->batch_size, 1, MF_CONFIG_MAX_BATCH, err) ||
        check_positive(c, "train.lr", t->lr, err) ||
        check_unit(c, "train.momentum", t->momentum, err) ||
        check_non_negative(c, "train.weight_decay", t->weight_decay, err) ||
        check_unit(c, "train.beta1", t->beta1, err) ||
        check_unit(c, "train.beta2", t->beta2, err) ||
        check_positive(c, "train.eps", t->eps, err) ||
        check_positive(c, "train.gamma", t->gamma, err) ||
        check_non_negative(c, "train.min_lr", t->min_lr, err) ||
        check_range(c, "train.threads", t->threads, 1, MF_CONFIG_MAX_THREADS, err) ||
        check_non_negative(c, "train.mixup_alpha", t->mixup_alpha, err))
        return MF_ERR;
    if (t->schedule == MF_SCHED_COSINE && t->min_lr > t->lr)
        return mf_config_fail(c, err, "train.min_lr", false,
                              "the cosine schedule's final lr (%g) exceeds train.lr (%g)",
                              (double)t->min_lr, (double)t->lr);
    if (t->schedule == MF_SCHED_MULTISTEP && t->milestones_count == 0)
        return mf_config_fail(c, err, "train.milestones", true,
                              "schedule multistep needs milestones (epochs at which lr *= "
                              "gamma), e.g. milestones: [100, 200]");
    char item[MF_CONFIG_PATH_MAX];
    for (unsigned i = 0; i < t->milestones_count; i++) {
        snprintf(item, sizeof item, "train.milestones[%u]", i);
        if (check_range(c, item, t->milestones[i], 1, MF_CONFIG_MAX_EPOCHS, err)) return MF_ERR;
        if (i > 0 && t->milestones[i] <= t->milestones[i - 1])
            return mf_config_fail(c, err, item, false,
                                  "milestones must increase, but %d follows %d", t->milestones[i],
                                  t->milestones[i - 1]);
    }
    if (!t->output || !t->output[0])
        return mf_config_fail(c, err, "train.output", false, "the output path is empty");
    if (check_length(c, "train.output", t->output, err)) return MF_ERR;
    return MF_OK;
}

/* train.distill or prune.distill (section: its path). The teacher file itself is read when
 * training starts: in `mcuforge run` an earlier step may be what writes it. */
static int validate_distill(const mf_config *c, const char *section, const mf_distill_config *d,
                            mf_error *err)
{
    char path[64];
    snprintf(path, sizeof path, "%s.temperature", section);
    if (check_positive(c, path, d->temperature, err)) return MF_ERR;
    snprintf(path, sizeof path, "%s.alpha", section);
    if (!(d->alpha >= 0.0f && d->alpha <= 1.0f))
        return mf_config_fail(c, err, path, false, "must be in [0, 1], found %g", (double)d->alpha);
    snprintf(path, sizeof path, "%s.teacher", section);
    return check_length(c, path, d->teacher, err);
}

/* An optional section without its required key `key` (what: how the message names it, example:
 * a value): the error at the section in the file, or naming the override that created it
 * (creator; NULL if the file has the section). */
static int section_needs(const mf_config *c, const char *creator, const char *section,
                         const char *key, const char *what, const char *example, mf_error *err)
{
    char path[64];
    snprintf(path, sizeof path, "%s.%s", section, key);
    if (!creator)
        return mf_config_fail(c, err, path, true, "the %s section needs %s, e.g. %s: %s", section,
                              what, key, example);
    mf_error_set(err, "override '%.*s%s': the %s section needs %s, e.g. %s=%s", MF_OVERRIDE_SHOWN,
                 creator, strlen(creator) > MF_OVERRIDE_SHOWN ? "..." : "", section, what, path,
                 example);
    mf_error_at(err, NULL, 0, 0, path);
    return MF_ERR;
}

/* The optional quantize section; creator is the override that created it (NULL if the file has
 * it), for the errors about keys that no one wrote. */
static int validate_quantize(const mf_config *c, const char *creator, mf_error *err)
{
    const mf_quantize_config *q = &c->quantize;
    if (!q->present) return MF_OK;
    if (!given(c, "quantize.bits"))
        return section_needs(c, creator, "quantize", "bits", "bits (8 or 16)", "8", err);
    if (q->bits != 8 && q->bits != 16)
        return mf_config_fail(c, err, "quantize.bits", false, "must be 8 or 16, found %d", q->bits);
    if (q->method != MF_QUANT_QAT) {
        static const char *const qat_only[] = {"quantize.epochs", "quantize.lr"};
        for (size_t i = 0; i < sizeof qat_only / sizeof qat_only[0]; i++)
            if (given(c, qat_only[i]))
                return mf_config_fail(c, err, qat_only[i], true,
                                      "'%s' applies only to method qat (quantization-aware "
                                      "training), not ptq",
                                      qat_only[i] + strlen("quantize."));
    }
    if (check_range(c, "quantize.epochs", q->epochs, 1, MF_CONFIG_MAX_EPOCHS, err)) return MF_ERR;
    if (!(q->lr >= 0.0f))
        return mf_config_fail(c, err, "quantize.lr", false,
                              "must be > 0 (or 0 for train's last learning rate), found %g",
                              (double)q->lr);
    if (q->force_n < -1 || q->force_n > MAX_FORCE_N)
        return mf_config_fail(c, err, "quantize.force_n", false,
                              "must be in [-1, %d] (-1: formats from the calibrated ranges), "
                              "found %d",
                              MAX_FORCE_N, q->force_n);
    if (check_range(c, "quantize.calibration", q->calibration, 0, MF_CONFIG_MAX_SAMPLES, err))
        return MF_ERR;
    return MF_OK;
}

/* The optional prune section (creator as for quantize). The layer names of exclude are checked
 * against the model when it is pruned. */
static int validate_prune(const mf_config *c, const char *creator, mf_error *err)
{
    const mf_prune_config *p = &c->prune;
    if (!p->present) return MF_OK;
    if (!given(c, "prune.sparsity"))
        return section_needs(c, creator, "prune", "sparsity", "sparsity (0 to 0.99)", "0.875", err);
    if (!(p->sparsity >= 0.0f && p->sparsity <= 0.99f))
        return mf_config_fail(c, err, "prune.sparsity", false, "must be in [0, 0.99], found %g",
                              (double)p->sparsity);
    if (!(p->initial >= 0.0f && p->initial <= p->sparsity))
        return mf_config_fail(c, err, "prune.initial", false,
                              "must be in [0, sparsity = %g], found %g", (double)p->sparsity,
                              (double)p->initial);
    if (!(p->lr >= 0.0f && p->lr <= 100.0f))
        return mf_config_fail(c, err, "prune.lr", false,
                              "must be in [0, 100] (0: a tenth of train.lr), found %g",
                              (double)p->lr);
    if (check_range(c, "prune.epochs", p->epochs, 0, MF_CONFIG_MAX_EPOCHS, err) ||
        check_range(c, "prune.ramp_epochs", p->ramp_epochs, 0, p->epochs, err) ||
        check_range(c, "prune.every", p->every, 0, 1 << 30, err))
        return MF_ERR;
    for (unsigned i = 0; i < p->exclude_count; i++) {
        char item[48];
        snprintf(item, sizeof item, "prune.exclude[%u]", i);
        if (!p->exclude[i] || !p->exclude[i][0])
            return mf_config_fail(c, err, item, false, "an empty layer name");
        if (check_length(c, item, p->exclude[i], err)) return MF_ERR;
    }
    for (unsigned i = 0; i < p->layers_count; i++) {
        const mf_prune_layer_config *l = &p->layers[i];
        char item[64], field[80];
        snprintf(item, sizeof item, "prune.layers[%u]", i);
        snprintf(field, sizeof field, "%s.name", item);
        if (!l->name || !l->name[0])
            return mf_config_fail(c, err, given(c, field) ? field : item, !given(c, field),
                                  "name the layer (name: conv2)");
        if (check_length(c, field, l->name, err)) return MF_ERR;
        for (unsigned j = 0; j < i; j++)
            if (p->layers[j].name && !strcmp(p->layers[j].name, l->name))
                return mf_config_fail(c, err, field, false,
                                      "layer '%s' is given a sparsity twice (also "
                                      "prune.layers[%u])",
                                      l->name, j);
        for (unsigned j = 0; j < p->exclude_count; j++)
            if (p->exclude[j] && !strcmp(p->exclude[j], l->name))
                return mf_config_fail(c, err, field, false,
                                      "layer '%s' is both excluded (prune.exclude[%u]) and given "
                                      "a sparsity",
                                      l->name, j);
        snprintf(field, sizeof field, "%s.sparsity", item);
        if (!given(c, field))
            return mf_config_fail(c, err, item, true, "give the layer's sparsity (sparsity: 0.9)");
        if (!(l->sparsity >= p->initial && l->sparsity <= 0.99f))
            return mf_config_fail(c, err, field, false, "must be in [initial = %g, 0.99], found %g",
                                  (double)p->initial, (double)l->sparsity);
    }
    if (p->distill_present && validate_distill(c, "prune.distill", &p->distill, err)) return MF_ERR;
    return MF_OK;
}

/* The optional deploy section. */
static int validate_deploy(const mf_config *c, mf_error *err)
{
    const mf_deploy_config *d = &c->deploy;
    if (!d->present) return MF_OK;
    if (d->all_test && given(c, "deploy.vectors"))
        return mf_config_fail(c, err, "deploy.vectors", true,
                              "vectors and all_test exclude each other (all_test streams the "
                              "whole test split)");
    if (check_range(c, "deploy.vectors", d->vectors, 1, MF_CONFIG_MAX_SAMPLES, err) ||
        check_range(c, "deploy.timeout", d->timeout, 1, MF_CONFIG_MAX_TIMEOUT, err) ||
        check_range(c, "deploy.flash_budget", d->flash_budget, 0, 1 << 20, err) ||
        check_range(c, "deploy.instruction_budget", d->instruction_budget, 0, INT_MAX, err))
        return MF_ERR;
    if (d->instruction_budget && !d->run)
        return mf_config_fail(c, err, "deploy.instruction_budget", true,
                              "an instruction budget needs run: true (the variants' instructions "
                              "are measured in QEMU)");
    if (d->out && !d->out[0])
        return mf_config_fail(c, err, "deploy.out", false, "the firmware folder is empty");
    if (check_length(c, "deploy.out", d->out, err) || check_length(c, "deploy.opt", d->opt, err))
        return MF_ERR;
    return MF_OK;
}

/* ---- load and free ---- */

/* The first override whose key is in the section ("quantize.bits=8", "quantize={...}"), or NULL.
 * Only called after the overrides were applied, so every key is a valid path. */
static const char *section_override(const char *section, char *const *overrides, int n_overrides)
{
    size_t len = strlen(section);
    for (int i = 0; i < n_overrides; i++) {
        const char *arg = overrides[i];
        if (!strncmp(arg, section, len) && arg[len] && strchr(".[= \t", arg[len])) return arg;
    }
    return NULL;
}

/* Loads text (owned, freed here) that came from `path` (a file name or a description such as
 * "model.h5 (embedded config)"). */
static int load_bytes(unsigned char *text, size_t size, const char *path, char *const *overrides,
                      int n_overrides, unsigned flags, mf_config **out, mf_error *err)
{
    mf_yaml_marks *marks = mf_marks_new();
    if (!marks) {
        free(text);
        return mf_error_set(err, "out of memory");
    }
    mf_config *c = NULL;
    int checked = check_file(path, text, size, marks, &c, err);
    free(text);
    if (checked) {
        mf_marks_free(marks);
        mf_config_free(c);
        return MF_ERR;
    }
    c->marks = marks;
    if (!(c->path = strdup(path))) {
        mf_config_free(c);
        return mf_error_set(err, "out of memory");
    }
    int rc = apply_defaults(c, err);
    if (rc == MF_OK) rc = name_layers(c, err);
    if (rc == MF_OK) rc = mf_config_apply_overrides(c, overrides, n_overrides, err);
    const char *quantize_creator = NULL, *prune_creator = NULL;
    if (rc == MF_OK) {
        drop_empty_template(c);
        rc = name_layers(c, err);
        /* The section is there if the file has it or an override wrote into it. */
        if (!mf_marks_in_file(c->marks, "quantize"))
            quantize_creator = section_override("quantize", overrides, n_overrides);
        c->quantize.present = mf_marks_in_file(c->marks, "quantize") || quantize_creator;
        if (!mf_marks_in_file(c->marks, "prune"))
            prune_creator = section_override("prune", overrides, n_overrides);
        c->prune.present = mf_marks_in_file(c->marks, "prune") || prune_creator;
        c->deploy.present = mf_marks_in_file(c->marks, "deploy") ||
                            section_override("deploy", overrides, n_overrides);
        char distill_at[MF_CONFIG_PATH_MAX];
        c->prune.distill_present =
            mf_marks_given_under(c->marks, "prune.distill", distill_at, sizeof distill_at);
        c->train.distill.section = "train.distill";
        c->prune.distill.section = "prune.distill";
    }
    if (rc == MF_OK) rc = apply_dataset_defaults(c, err);
    if (rc == MF_OK) rc = validate_dataset(c, err);
    /* also for commands that only need data: pruning's fine-tuning and QAT train with the
     * embedded config's train.distill */
    if (rc == MF_OK) rc = validate_distill(c, "train.distill", &c->train.distill, err);
    if (rc == MF_OK && !(flags & MF_CONFIG_DATASET_ONLY)) rc = validate_model(c, err);
    if (rc == MF_OK && !(flags & MF_CONFIG_DATASET_ONLY)) rc = validate_train(c, err);
    if (rc == MF_OK && !(flags & MF_CONFIG_DATASET_ONLY))
        rc = validate_quantize(c, quantize_creator, err);
    if (rc == MF_OK && !(flags & MF_CONFIG_DATASET_ONLY))
        rc = validate_prune(c, prune_creator, err);
    if (rc == MF_OK && !(flags & MF_CONFIG_DATASET_ONLY)) rc = validate_deploy(c, err);
    if (rc != MF_OK) {
        mf_config_free(c);
        return MF_ERR;
    }
    *out = c;
    return MF_OK;
}

void mf_config_free(mf_config *c)
{
    if (!c) return;
    free(c->path);
    c->path = NULL;
    mf_marks_free(c->marks);
    c->marks = NULL;
    cyaml_config_t cfg;
    mf_cyaml_config(&cfg, NULL);
    cyaml_free(&cfg, &mf_config_schema, c, 0);
}

/* ---- dump ---- */

/* The dump writes what a config resolves to: every train field and the dataset fields that apply
 * to its dataset (defaults included: a real dataset's default path is written), the model as given,
 * and each layer's hyperparameters with the op's defaults filled in; the quantize section only when
 * the config has it (epochs and lr only for qat). Views with pointer members let
 * libcyaml leave out what does not apply (a NULL optional pointer is not written). */
typedef struct dump_layer {
    char *name, *type;
    char **inputs;
    unsigned inputs_count;
    int *filters, *units, *kernel, *stride;
    int *kernel_hw, *stride_hw; /* [height, width] (then kernel / stride are NULL) */
    unsigned kernel_hw_count, stride_hw_count;
    char *padding, *activation;
    int *use_bias;
    float *rate, *momentum, *epsilon;
#define DUMP_INT_KEY_(key, bit, min, max, def) int *key, key##_value;
    MF_LAYER_INT_KEYS(DUMP_INT_KEY_)
#undef DUMP_INT_KEY_
    /* storage for the defaults filled in */
    int use_bias_value;
    float rate_value, momentum_value, epsilon_value;
} dump_layer;

typedef struct dump_model {
    char *template_name;
    int *width, *dims;
    int *input_shape;
    unsigned input_shape_count;
    int *classes;
    dump_layer *layers;
    unsigned layers_count;
} dump_model;

typedef struct dump_dataset {
    char *name;
    char *path;
    int *shape;
    unsigned shape_count;
    int *classes, *train_samples, *test_samples;
    float *noise;
    unsigned *seed;
    mf_norm_kind *normalize;
    bool *cache;
    char *cache_dir;
    float *validation;
    bool *resize;
    int *train_limit, *test_limit;
    mf_mfcc_config *mfcc;
} dump_dataset;

/* epochs and lr only for qat (a ptq config with them does not load) */
typedef struct dump_quantize {
    int *bits;
    mf_quant_method *method;
    int *epochs;
    float *lr;
    bool *per_channel;
    int *rounding, *range_mse;
    int *force_n, *calibration;
} dump_quantize;

typedef struct dump_config {
    dump_dataset *dataset;
    dump_model *model;
    mf_train_config *train;
    dump_quantize *quantize; /* NULL: the config has no quantize section */
} dump_config;

static const cyaml_schema_field_t dump_layer_fields[] = {
    CYAML_FIELD_STRING_PTR("name", OPT, dump_layer, name, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("type", OPT, dump_layer, type, 0, CYAML_UNLIMITED),
    CYAML_FIELD_SEQUENCE_COUNT("inputs", LIST, dump_layer, inputs, inputs_count, &string_entry, 0,
                               CYAML_UNLIMITED),
    CYAML_FIELD_INT_PTR("filters", OPT, dump_layer, filters),
    CYAML_FIELD_INT_PTR("units", OPT, dump_layer, units),
    /* one key, written from whichever of its two forms is set */
    CYAML_FIELD_INT_PTR("kernel", OPT, dump_layer, kernel),
    CYAML_FIELD_SEQUENCE_COUNT("kernel", LIST, dump_layer, kernel_hw, kernel_hw_count, &int_entry,
                               0, 2),
    CYAML_FIELD_INT_PTR("stride", OPT, dump_layer, stride),
    CYAML_FIELD_SEQUENCE_COUNT("stride", LIST, dump_layer, stride_hw, stride_hw_count, &int_entry,
                               0, 2),
    CYAML_FIELD_STRING_PTR("padding", OPT, dump_layer, padding, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("activation", OPT, dump_layer, activation, 0, CYAML_UNLIMITED),
    CYAML_FIELD_BOOL_PTR("use_bias", OPT, dump_layer, use_bias),
    CYAML_FIELD_FLOAT_PTR("rate", OPT, dump_layer, rate),
    CYAML_FIELD_FLOAT_PTR("momentum", OPT, dump_layer, momentum),
    CYAML_FIELD_FLOAT_PTR("epsilon", OPT, dump_layer, epsilon),
#define DUMP_INT_FIELD_(key, bit, min, max, def) CYAML_FIELD_INT_PTR(#key, OPT, dump_layer, key),
    MF_LAYER_INT_KEYS(DUMP_INT_FIELD_)
#undef DUMP_INT_FIELD_
        CYAML_FIELD_END};

static const cyaml_schema_value_t dump_layer_schema = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, dump_layer, dump_layer_fields)};

static const cyaml_schema_field_t dump_model_fields[] = {
    CYAML_FIELD_STRING_PTR("template", OPT, dump_model, template_name, 0, CYAML_UNLIMITED),
    CYAML_FIELD_INT_PTR("width", OPT, dump_model, width),
    CYAML_FIELD_INT_PTR("dims", OPT, dump_model, dims),
    CYAML_FIELD_SEQUENCE_COUNT("input_shape", LIST, dump_model, input_shape, input_shape_count,
                               &int_entry, 0, CYAML_UNLIMITED),
    CYAML_FIELD_INT_PTR("classes", OPT, dump_model, classes),
    CYAML_FIELD_SEQUENCE_COUNT("layers", OPT | CYAML_FLAG_POINTER, dump_model, layers, layers_count,
                               &dump_layer_schema, 0, CYAML_UNLIMITED),
    CYAML_FIELD_END};

static const cyaml_schema_field_t dump_dataset_fields[] = {
    CYAML_FIELD_STRING_PTR("name", OPT, dump_dataset, name, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("path", OPT, dump_dataset, path, 0, CYAML_UNLIMITED),
    CYAML_FIELD_SEQUENCE_COUNT("shape", LIST, dump_dataset, shape, shape_count, &int_entry, 0,
                               CYAML_UNLIMITED),
    CYAML_FIELD_INT_PTR("classes", OPT, dump_dataset, classes),
    CYAML_FIELD_INT_PTR("train_samples", OPT, dump_dataset, train_samples),
    CYAML_FIELD_INT_PTR("test_samples", OPT, dump_dataset, test_samples),
    CYAML_FIELD_FLOAT_PTR("noise", OPT, dump_dataset, noise),
    CYAML_FIELD_UINT_PTR("seed", OPT, dump_dataset, seed),
    CYAML_FIELD_ENUM_PTR("normalize", ENUM_FLAGS, dump_dataset, normalize, normalize_names,
                         CYAML_ARRAY_LEN(normalize_names)),
    CYAML_FIELD_BOOL_PTR("cache", OPT, dump_dataset, cache),
    CYAML_FIELD_STRING_PTR("cache_dir", OPT, dump_dataset, cache_dir, 0, CYAML_UNLIMITED),
    CYAML_FIELD_FLOAT_PTR("validation", OPT, dump_dataset, validation),
    CYAML_FIELD_BOOL_PTR("resize", OPT, dump_dataset, resize),
    CYAML_FIELD_INT_PTR("train_limit", OPT, dump_dataset, train_limit),
    CYAML_FIELD_INT_PTR("test_limit", OPT, dump_dataset, test_limit),
    CYAML_FIELD_MAPPING_PTR("mfcc", OPT, dump_dataset, mfcc, mfcc_fields),
    CYAML_FIELD_END};

static const cyaml_schema_field_t dump_quantize_fields[] = {
    CYAML_FIELD_INT_PTR("bits", OPT, dump_quantize, bits),
    CYAML_FIELD_ENUM_PTR("method", ENUM_FLAGS, dump_quantize, method, method_names,
                         CYAML_ARRAY_LEN(method_names)),
    CYAML_FIELD_INT_PTR("epochs", OPT, dump_quantize, epochs),
    CYAML_FIELD_FLOAT_PTR("lr", OPT, dump_quantize, lr),
    CYAML_FIELD_BOOL_PTR("per_channel", OPT, dump_quantize, per_channel),
    CYAML_FIELD_ENUM_PTR("rounding", ENUM_FLAGS, dump_quantize, rounding, rounding_names,
                         CYAML_ARRAY_LEN(rounding_names)),
    CYAML_FIELD_ENUM_PTR("range", ENUM_FLAGS, dump_quantize, range_mse, range_names,
                         CYAML_ARRAY_LEN(range_names)),
    CYAML_FIELD_INT_PTR("force_n", OPT, dump_quantize, force_n),
    CYAML_FIELD_INT_PTR("calibration", OPT, dump_quantize, calibration),
    CYAML_FIELD_END};

static const cyaml_schema_field_t dump_fields[] = {
    CYAML_FIELD_MAPPING_PTR("dataset", OPT, dump_config, dataset, dump_dataset_fields),
    CYAML_FIELD_MAPPING_PTR("model", OPT, dump_config, model, dump_model_fields),
    CYAML_FIELD_MAPPING_PTR("train", OPT, dump_config, train, train_fields),
    CYAML_FIELD_MAPPING_PTR("quantize", OPT, dump_config, quantize, dump_quantize_fields),
    CYAML_FIELD_END};

static const cyaml_schema_value_t dump_schema = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, dump_config, dump_fields)};

static void dump_layer_view(mf_layer_config *l, dump_layer *d)
{
    memset(d, 0, sizeof *d);
    d->name = l->name;
    d->type = l->type;
    d->inputs = l->inputs;
    d->inputs_count = l->inputs_count;
    mf_op op;
    const mf_op_info *info = l->type ? mf_op_lookup(l->type, &op) : NULL;
    if (!info) return; /* not from mf_config_load; write what is known */
    mf_layer_spec spec;
    mf_layer_spec_init(&spec, op, l->name);
    unsigned keys = info->keys;
    if ((keys & MF_KEY_FILTERS) && l->filters > 0) d->filters = &l->filters;
    if ((keys & MF_KEY_UNITS) && l->units > 0) d->units = &l->units;
    /* a single size as a scalar, two as [height, width]; no stride means "the op's default"
     * (pool: its kernel), which has no value to write */
    if ((keys & MF_KEY_KERNEL) && l->kernel_count == 1) d->kernel = &l->kernel[0];
    if ((keys & MF_KEY_KERNEL) && l->kernel_count == 2) {
        d->kernel_hw = l->kernel;
        d->kernel_hw_count = 2;
    }
    if ((keys & MF_KEY_STRIDE) && l->stride_count == 1) d->stride = &l->stride[0];
    if ((keys & MF_KEY_STRIDE) && l->stride_count == 2) {
        d->stride_hw = l->stride;
        d->stride_hw_count = 2;
    }
    if (keys & MF_KEY_PADDING)
        d->padding =
            l->padding ? l->padding : (char *)(spec.padding == MF_PAD_SAME ? "same" : "valid");
    if (keys & MF_KEY_ACTIVATION)
        d->activation = l->activation ? l->activation : (char *)mf_activation_name(spec.activation);
    if (keys & MF_KEY_USE_BIAS) {
        d->use_bias_value = l->use_bias >= 0 ? l->use_bias : spec.use_bias;
        d->use_bias = &d->use_bias_value;
    }
    if (keys & MF_KEY_RATE) {
        d->rate_value = l->rate >= 0.0f ? l->rate : spec.rate;
        d->rate = &d->rate_value;
    }
    if (keys & MF_KEY_MOMENTUM) {
        d->momentum_value = l->momentum >= 0.0f ? l->momentum : spec.momentum;
        d->momentum = &d->momentum_value;
    }
    if (keys & MF_KEY_EPSILON) {
        d->epsilon_value = l->epsilon >= 0.0f ? l->epsilon : spec.epsilon;
        d->epsilon = &d->epsilon_value;
    }
#define DUMP_INT_VIEW_(key, bit, min, max, def)                                                    \
    if (keys & (bit)) {                                                                            \
        d->key##_value = l->key > 0 ? l->key : spec.key;                                           \
        d->key = &d->key##_value;                                                                  \
    }
    MF_LAYER_INT_KEYS(DUMP_INT_VIEW_)
#undef DUMP_INT_VIEW_
}

char *mf_config_dump(const mf_config *c, mf_error *err)
{
    /* The views point into c; libcyaml only reads through them. */
    mf_config *src = (mf_config *)c;
    mf_dataset_config *d = &src->dataset;
    /* Each dataset gets the fields that apply to it, so the dump loads again. */
    const char *name = d->name ? d->name : "";
    dump_dataset dataset = {
        .name = d->name,
        .path = d->path,
        .shape = d->shape,
        .shape_count = d->shape_count,
        .seed = &d->seed,
        .normalize = &d->normalize,
        .cache = &d->cache,
        .cache_dir = d->cache_dir,
        .validation = &d->validation,
        .train_limit = &d->train_limit,
        .test_limit = &d->test_limit,
    };
    if (d->classes > 0) dataset.classes = &d->classes;
    if (!strcmp(name, "synthetic")) {
        dataset.train_samples = &d->train_samples;
        dataset.test_samples = &d->test_samples;
        dataset.noise = &d->noise;
    }
    if (!strcmp(name, "mnist") || !strcmp(name, "png")) dataset.resize = &d->resize;
    if (!strcmp(name, "fsdd")) dataset.mfcc = &d->mfcc;
    dump_model model = {
        .template_name = src->model.template_name,
        .input_shape = src->model.input_shape,
        .input_shape_count = src->model.input_shape_count,
        .layers_count = src->model.layers_count,
    };
    if (src->model.template_name) {
        model.width = &src->model.width;
        if (src->model.dims > 0) model.dims = &src->model.dims;
    }
    if (src->model.classes > 0) model.classes = &src->model.classes;
    if (src->model.layers_count > 0) {
        model.layers = calloc(src->model.layers_count, sizeof *model.layers);
        if (!model.layers) {
            mf_error_set(err, "out of memory");
            return NULL;
        }
        for (unsigned i = 0; i < src->model.layers_count; i++)
            dump_layer_view(&src->model.layers[i], &model.layers[i]);
    }
    mf_quantize_config *q = &src->quantize;
    dump_quantize quantize = {
        .bits = &q->bits,
        .method = &q->method,
        .per_channel = &q->per_channel,
        .rounding = &q->rounding,
        .range_mse = &q->range_mse,
        .force_n = &q->force_n,
        .calibration = &q->calibration,
    };
    if (q->method == MF_QUANT_QAT) {
        quantize.epochs = &q->epochs;
        quantize.lr = &q->lr;
    }
    /* an emptied teacher (`train.distill.teacher=`: no distillation) is left out: an empty
     * value would not load again */
    mf_train_config train = src->train;
    if (train.distill.teacher && !train.distill.teacher[0]) train.distill.teacher = NULL;
    dump_config view = {&dataset, &model, &train, q->present ? &quantize : NULL};

    mf_cyaml_log log = {.used = 0};
    cyaml_config_t cfg;
    mf_cyaml_config(&cfg, &log);
    char *yaml = NULL;
    size_t len = 0;
    cyaml_err_t cerr = cyaml_save_data(&yaml, &len, &cfg, &dump_schema, &view, 0);
    free(model.layers);
    if (cerr != CYAML_OK) {
        mf_error_set(err, "cannot write the config as YAML: %s%s%.200s", cyaml_strerror(cerr),
                     log.used ? ": " : "", log.text);
        return NULL;
    }
    /* libcyaml's text has no terminating NUL */
    char *text = malloc(len + 1);
    if (!text) {
        free(yaml);
        mf_error_set(err, "out of memory");
        return NULL;
    }
    memcpy(text, yaml, len);
    text[len] = '\0';
    free(yaml);
    return text;
}

int mf_config_load(const char *path, char *const *overrides, int n_overrides, mf_config **out,
                   mf_error *err)
{
    *out = NULL;
    mf_error_clear(err);
    unsigned char *text = NULL;
    size_t size = 0;
    if (read_file(path, &text, &size, err)) return MF_ERR;
    return load_bytes(text, size, path, overrides, n_overrides, 0, out, err);
}

int mf_config_load_text(const char *text, const char *origin, char *const *overrides,
                        int n_overrides, unsigned flags, mf_config **out, mf_error *err)
{
    *out = NULL;
    mf_error_clear(err);
    size_t size = strlen(text);
    if (size > (size_t)MAX_CONFIG_BYTES)
        return mf_error_set(err, "%s: the config is larger than %ld bytes", origin,
                            MAX_CONFIG_BYTES);
    unsigned char *copy = malloc(size + 1);
    if (!copy) return mf_error_set(err, "out of memory");
    memcpy(copy, text, size + 1);
    return load_bytes(copy, size, origin, overrides, n_overrides, flags, out, err);
}
