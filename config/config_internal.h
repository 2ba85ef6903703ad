/* Private to the config module (config/config*.c; nothing outside config/ includes it): the
 * libcyaml schema, the index of where each field was written (marks), and the schema walk over
 * YAML nodes that loading (type checks with line/column) and overrides (setting any field by its
 * dotted path) share. */
#ifndef MF_CONFIG_INTERNAL_H
#define MF_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <cyaml/cyaml.h>
#include <yaml.h>

#include "mf_config.h"

/* Longest dotted path ("model.layers[12].inputs[3]") the module builds. */
#define MF_CONFIG_PATH_MAX 256

/* Errors quote an override argument up to this many characters (then "..."), so the message
 * itself always fits. */
#define MF_OVERRIDE_SHOWN 200

/* Bounds on the YAML text itself (a config file, an embedded config, an override's value),
 * checked by mf_yaml_check_bounds before libyaml builds a document:
 *   MF_CONFIG_MAX_BYTES  16 MiB: configs are a few KiB; a 1023-layer one is ~150 KiB (and
 *                        model files store configs under the same bound);
 *   MF_CONFIG_MAX_DEPTH  64 lists/mappings inside each other: a config needs 5 (config >
 *                        model > layers > layer > inputs); libyaml's scanner walks every open
 *                        flow level for every token, so depth costs quadratic time;
 *   MF_CONFIG_MAX_NODES  65536 values (scalars, lists and mappings): 1023 layers with every
 *                        key are ~30,000; bounds the document, the marks index and every pass
 *                        over them. */
#define MF_CONFIG_MAX_BYTES ((size_t)16 << 20)
#define MF_CONFIG_MAX_DEPTH 64
#define MF_CONFIG_MAX_NODES 65536

/* Scans text with libyaml's scanner only (no document) and refuses it at the first token
 * beyond MF_CONFIG_MAX_DEPTH or MF_CONFIG_MAX_NODES, or text longer than MF_CONFIG_MAX_BYTES,
 * in time linear in the text (the scan stops at the bound). Errors are located like other
 * config errors: file:line:column when file is given, else prefixed "override '<override>': ".
 * Syntax errors are left to the parse that follows (MF_OK). */
int mf_yaml_check_bounds(const unsigned char *text, size_t size, const char *file,
                         const char *override, mf_error *err);

/* ---- schema and helpers (config.c) ---- */

/* Top level: a mapping with the sections dataset, model, train and (optional) quantize, loaded
 * into an mf_config. */
extern const cyaml_schema_value_t mf_config_schema;
/* One entry of model.layers. */
extern const cyaml_schema_value_t mf_layer_schema;
/* The entry of a size list (a layer's kernel and stride): a list with this entry also takes a
 * scalar, as a list of one ("kernel: 3" = "kernel: [3]"), in files and overrides alike. */
extern const cyaml_schema_value_t mf_size_entry;

/* libcyaml's error log, collected instead of printed (cyaml_config_t.log_ctx). */
typedef struct mf_cyaml_log {
    char text[512];
    size_t used;
} mf_cyaml_log;

/* libcyaml settings: malloc/realloc/free for memory (so this module's own allocations can be
 * freed by cyaml_free and the other way round), errors into log (may be NULL: no logging). */
void mf_cyaml_config(cyaml_config_t *cfg, mf_cyaml_log *log);

/* The field of a mapping schema with that key, or NULL. */
const cyaml_schema_field_t *mf_schema_field(const cyaml_schema_value_t *mapping, const char *key);
/* "epochs, batch_size, …": the keys of a mapping schema, for error messages. */
const char *mf_schema_keys(const cyaml_schema_value_t *mapping, char *buf, size_t size);
/* Bytes between consecutive entries of a sequence (libcyaml stores pointer entries as pointers). */
size_t mf_schema_entry_stride(const cyaml_schema_value_t *sequence);
/* Puts the "absent" markers into a fresh layer entry (use_bias -1, rate/momentum/epsilon -1). */
void mf_layer_config_init(mf_layer_config *layer);

/* Sets err's location from where `path` was written: the file's line/column (of the key when
 * at_key, else of the value), or, if an override set it, the message gets the prefix
 * "override '<argument>': ". err->field becomes path. */
void mf_config_locate(const mf_config *c, const char *path, bool at_key, mf_error *err);
/* mf_error_set + mf_config_locate; returns MF_ERR. */
int mf_config_fail(const mf_config *c, mf_error *err, const char *path, bool at_key,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* ---- marks: dotted path -> where it was written (config_marks.c) ---- */

/* Where a path was written: an override argument, or a line/column in the file (0 if the path
 * and all its parents are absent from the file). */
typedef struct mf_mark_loc {
    const char *override;
    int line, column;
} mf_mark_loc;

mf_yaml_marks *mf_marks_new(void);
void mf_marks_free(mf_yaml_marks *m);
/* Indexes every node of the document under its dotted path, with the marks of its key and of its
 * value. A node reached twice (a YAML alias) is an error: aliases are not supported. */
int mf_marks_index_document(mf_yaml_marks *m, yaml_document_t *doc, const char *file,
                            mf_error *err);
/* Records that override `arg` set `path` to `node`. A list or a scalar replaces what was there;
 * a mapping is merged key by key. */
int mf_marks_add_override(mf_yaml_marks *m, const char *path, yaml_document_t *doc,
                          yaml_node_t *node, const char *arg);
/* The file has this path (overrides are not considered). */
bool mf_marks_in_file(const mf_yaml_marks *m, const char *path);
/* The file or an override gave this path, and no later override replaced a list it was in. */
bool mf_marks_given(const mf_yaml_marks *m, const char *path);
/* Like mf_marks_given, for path or any path under it ("dataset.mfcc" or "dataset.mfcc.frames");
 * the first such path found goes into found (the file's first, then overrides in order). */
bool mf_marks_given_under(const mf_yaml_marks *m, const char *path, char *found, size_t size);
/* Where path (else its nearest written parent) was written. */
void mf_marks_locate(const mf_yaml_marks *m, const char *path, bool at_key, mf_mark_loc *out);

/* ---- schema walk over YAML nodes (config_override.c) ---- */

/* Where the YAML nodes came from, for errors: a file (errors get file:line:column from the
 * node's mark) or an override argument (errors get the prefix "override '<arg>': "). */
typedef struct mf_node_source {
    yaml_document_t *doc;
    const char *file;
    const char *override;
} mf_node_source;

/* Checks a node against a schema value: mapping keys exist (and appear once), scalars parse as
 * their type, lists are lists. Errors name `path` and the node's location. */
int mf_schema_check_node(const mf_node_source *src, yaml_node_t *node,
                         const cyaml_schema_value_t *schema, const char *path, mf_error *err);
/* Parses scalar text as the schema's type and, unless data is NULL, stores it there (strings are
 * duplicated, replacing the old one). On failure writes why ("expected an integer, found 'x'")
 * and returns MF_ERR. */
int mf_schema_parse_scalar(const cyaml_schema_value_t *schema, const char *text, void *data,
                           char *why, size_t why_size);

/* Stores a document that passed mf_schema_check_node against mf_config_schema into c (the load's
 * step 4: the walk overrides take, so files and overrides are read by the same code). */
int mf_config_store_document(mf_config *c, const mf_node_source *src, yaml_node_t *root,
                             mf_error *err);

/* Sets the scalar field at path (e.g. "train.epochs") from text, without recording it as an
 * override: for defaults. */
int mf_config_set_text(mf_config *c, const char *path, const char *text, mf_error *err);
/* Applies "key.sub=value" arguments in order and records them in c->marks. */
int mf_config_apply_overrides(mf_config *c, char *const *overrides, int n_overrides, mf_error *err);

#endif
