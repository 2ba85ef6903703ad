/* Overrides ("train.epochs=3", "model.layers[2].filters=8", "model.layers.conv1.filters=8",
 * "dataset.shape=[32,32,3]") and the schema walk they share with loading. A dotted path is
 * resolved against the libcyaml schema (field names, types, offsets, sequence counts), so every
 * field of the config can be overridden without a list of fields here. A value is parsed as YAML,
 * so lists and mappings are written as in the file; a mapping merges into the target, a list or
 * a scalar replaces it. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_internal.h"

/* ---- scalars ---- */

static const char *type_phrase(const cyaml_schema_value_t *v, bool plural)
{
    switch (v->type) {
    case CYAML_INT:
        return plural ? "integers" : "an integer";
    case CYAML_UINT:
        return plural ? "non-negative integers" : "a non-negative integer";
    case CYAML_BOOL:
        return plural ? "booleans" : "true or false";
    case CYAML_FLOAT:
        return plural ? "numbers" : "a number";
    case CYAML_STRING:
        return plural ? "strings" : "a string";
    case CYAML_ENUM:
        return plural ? "names" : "a name";
    case CYAML_MAPPING:
        return plural ? "mappings" : "a mapping";
    case CYAML_SEQUENCE:
        return plural ? "lists" : "a list";
    default:
        return plural ? "values" : "a value";
    }
}

/* 'text' in quotes, shortened, for "found ..." */
static const char *quote(const char *text, char *buf, size_t size)
{
    size_t len = strlen(text);
    if (len > 40)
        snprintf(buf, size, "'%.37s...'", text);
    else
        snprintf(buf, size, "'%s'", text);
    return buf;
}

/* Base 0 as libcyaml reads integers (0x10, 010 octal), so both read any accepted text alike;
 * but unlike libcyaml, trailing characters ("10abc") are an error. */
static bool parse_integer(const char *text, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 0);
    if (end == text || *end || errno == ERANGE) return false;
    *out = v;
    return true;
}

static void store_integer(void *data, size_t size, long long v)
{
    switch (size) {
    case 1: {
        int8_t x = (int8_t)v;
        memcpy(data, &x, 1);
        break;
    }
    case 2: {
        int16_t x = (int16_t)v;
        memcpy(data, &x, 2);
        break;
    }
    case 4: {
        int32_t x = (int32_t)v;
        memcpy(data, &x, 4);
        break;
    }
    default: {
        int64_t x = v;
        memcpy(data, &x, 8);
        break;
    }
    }
}

static unsigned long long load_unsigned(const void *data, size_t size)
{
    switch (size) {
    case 1: {
        uint8_t x;
        memcpy(&x, data, 1);
        return x;
    }
    case 2: {
        uint16_t x;
        memcpy(&x, data, 2);
        return x;
    }
    case 4: {
        uint32_t x;
        memcpy(&x, data, 4);
        return x;
    }
    default: {
        uint64_t x;
        memcpy(&x, data, 8);
        return x;
    }
    }
}

int mf_schema_parse_scalar(const cyaml_schema_value_t *v, const char *text, void *data, char *why,
                           size_t why_size)
{
    char found[64];
    quote(text, found, sizeof found);
    switch (v->type) {
    case CYAML_INT:
    case CYAML_UINT: {
        long long x;
        if (!parse_integer(text, &x) || (v->type == CYAML_UINT && x < 0)) {
            snprintf(why, why_size, "expected %s, found %s", type_phrase(v, false), found);
            return MF_ERR;
        }
        int bits = 8 * (int)(v->data_size < 8 ? v->data_size : 8);
        long long max = bits >= 64 ? INT64_MAX : (long long)((1ULL << (bits - 1)) - 1);
        long long min = v->type == CYAML_UINT ? 0 : -max - 1;
        if (v->type == CYAML_UINT && bits < 64) max = (long long)((1ULL << bits) - 1);
        if (x < min || x > max) {
            snprintf(why, why_size, "%s is out of range (%lld to %lld)", found, min, max);
            return MF_ERR;
        }
        if (data) store_integer(data, v->data_size, x);
        return MF_OK;
    }
    case CYAML_BOOL: {
        /* libcyaml reads false/no/disable/0 as false and anything else as true; accept only
         * words both read the same way ("off" would be true there). */
        static const char *const words[] = {"false", "no", "0", "true", "yes", "1"};
        for (int i = 0; i < 6; i++)
            if (!strcasecmp(text, words[i])) {
                if (data) store_integer(data, v->data_size, i >= 3);
                return MF_OK;
            }
        snprintf(why, why_size, "expected true or false, found %s", found);
        return MF_ERR;
    }
    case CYAML_FLOAT: {
        char *end;
        errno = 0;
        double x = v->data_size == sizeof(float) ? (double)strtof(text, &end) : strtod(text, &end);
        if (end == text || *end || errno == ERANGE || !isfinite(x)) {
            snprintf(why, why_size, "expected a number, found %s", found);
            return MF_ERR;
        }
        if (data) {
            if (v->data_size == sizeof(float)) {
                float f = (float)x;
                memcpy(data, &f, sizeof f);
            } else {
                memcpy(data, &x, sizeof x);
            }
        }
        return MF_OK;
    }
    case CYAML_ENUM: {
        for (uint32_t i = 0; i < v->enumeration.count; i++)
            if (!strcmp(text, v->enumeration.strings[i].str)) {
                if (data) store_integer(data, v->data_size, v->enumeration.strings[i].val);
                return MF_OK;
            }
        size_t used = (size_t)snprintf(why, why_size, "unknown value %s (expected one of: ", found);
        for (uint32_t i = 0; i < v->enumeration.count && used < why_size; i++)
            used += (size_t)snprintf(why + used, why_size - used, "%s%s", i ? ", " : "",
                                     v->enumeration.strings[i].str);
        if (used < why_size) snprintf(why + used, why_size - used, ")");
        return MF_ERR;
    }
    case CYAML_STRING: {
        if (data) {
            /* The schema keeps every string as a pointer (CYAML_FLAG_POINTER). */
            char *copy = strdup(text);
            if (!copy) {
                snprintf(why, why_size, "out of memory");
                return MF_ERR;
            }
            char *old;
            memcpy(&old, data, sizeof old);
            free(old);
            memcpy(data, &copy, sizeof copy);
        }
        return MF_OK;
    }
    default:
        snprintf(why, why_size, "expected %s", type_phrase(v, false));
        return MF_ERR;
    }
}

/* ---- checking YAML nodes against the schema ---- */

static const char *describe_node(const yaml_node_t *node, char *buf, size_t size)
{
    switch (node->type) {
    case YAML_SCALAR_NODE:
        if (node->data.scalar.length == 0 && node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
            return "an empty value";
        return quote((const char *)node->data.scalar.value, buf, size);
    case YAML_SEQUENCE_NODE:
        return "a list";
    case YAML_MAPPING_NODE:
        return "a mapping";
    default:
        return "nothing";
    }
}

static int node_fail(const mf_node_source *src, const yaml_mark_t *mark, const char *path,
                     mf_error *err, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int node_fail(const mf_node_source *src, const yaml_mark_t *mark, const char *path,
                     mf_error *err, const char *fmt, ...)
{
    char msg[640];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (src->override)
        mf_error_set(err, "override '%.*s%s': %s", MF_OVERRIDE_SHOWN, src->override,
                     strlen(src->override) > MF_OVERRIDE_SHOWN ? "..." : "", msg);
    else
        mf_error_set(err, "%s", msg);
    if (src->file && mark)
        mf_error_at(err, src->file, (int)mark->line + 1, (int)mark->column + 1, path);
    else
        mf_error_at(err, NULL, 0, 0, path);
    return MF_ERR;
}

static bool child_key_path(char *out, const char *parent, const char *key)
{
    int w = parent[0] ? snprintf(out, MF_CONFIG_PATH_MAX, "%s.%s", parent, key)
                      : snprintf(out, MF_CONFIG_PATH_MAX, "%s", key);
    return w >= 0 && w < MF_CONFIG_PATH_MAX;
}

static bool child_index_path(char *out, const char *parent, size_t index)
{
    int w = snprintf(out, MF_CONFIG_PATH_MAX, "%s[%zu]", parent, index);
    return w >= 0 && w < MF_CONFIG_PATH_MAX;
}

static int check_mapping(const mf_node_source *src, yaml_node_t *node,
                         const cyaml_schema_value_t *v, const char *path, mf_error *err)
{
    char child[MF_CONFIG_PATH_MAX], found[64], keys[400];
    for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top;
         p++) {
        yaml_node_t *key = yaml_document_get_node(src->doc, p->key);
        yaml_node_t *value = yaml_document_get_node(src->doc, p->value);
        if (!key || !value) continue;
        if (key->type != YAML_SCALAR_NODE)
            return node_fail(src, &key->start_mark, path, err, "expected a key name, found %s",
                             describe_node(key, found, sizeof found));
        const char *name = (const char *)key->data.scalar.value;
        if (!child_key_path(child, path, name))
            return node_fail(src, &key->start_mark, path, err, "key path too long");
        const cyaml_schema_field_t *f = mf_schema_field(v, name);
        if (!f) {
            mf_schema_keys(v, keys, sizeof keys);
            if (!path[0])
                return node_fail(src, &key->start_mark, child, err,
                                 "unknown section '%s' (expected one of: %s)", name, keys);
            return node_fail(src, &key->start_mark, child, err,
                             "unknown key '%s' in %s (expected one of: %s)", name, path, keys);
        }
        for (yaml_node_pair_t *q = node->data.mapping.pairs.start; q < p; q++) {
            yaml_node_t *earlier = yaml_document_get_node(src->doc, q->key);
            if (earlier && earlier->type == YAML_SCALAR_NODE &&
                !strcmp((const char *)earlier->data.scalar.value, name))
                return node_fail(src, &key->start_mark, child, err,
                                 "'%s' is given twice in %s (first at line %zu)", name,
                                 path[0] ? path : "the config", earlier->start_mark.line + 1);
        }
        if (mf_schema_check_node(src, value, &f->value, child, err)) return MF_ERR;
    }
    return MF_OK;
}

int mf_schema_check_node(const mf_node_source *src, yaml_node_t *node,
                         const cyaml_schema_value_t *v, const char *path, mf_error *err)
{
    char found[64];
    const yaml_mark_t *mark = &node->start_mark;
    switch (v->type) {
    case CYAML_MAPPING:
        if (node->type != YAML_MAPPING_NODE)
            return node_fail(src, mark, path, err, "expected a mapping, found %s",
                             describe_node(node, found, sizeof found));
        return check_mapping(src, node, v, path, err);
    case CYAML_SEQUENCE: {
        const cyaml_schema_value_t *entry = v->sequence.entry;
        if (entry == &mf_size_entry && node->type == YAML_SCALAR_NODE)
            return mf_schema_check_node(src, node, entry, path, err); /* a list of one */
        if (node->type != YAML_SEQUENCE_NODE)
            return node_fail(src, mark, path, err, "expected a list of %s, found %s",
                             type_phrase(entry, true), describe_node(node, found, sizeof found));
        size_t n = (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
        if (n < v->sequence.min || n > v->sequence.max)
            return node_fail(src, mark, path, err, "expected %u to %u entries, found %zu",
                             v->sequence.min, v->sequence.max, n);
        char child[MF_CONFIG_PATH_MAX];
        for (size_t i = 0; i < n; i++) {
            yaml_node_t *item =
                yaml_document_get_node(src->doc, node->data.sequence.items.start[i]);
            if (!item) continue;
            if (!child_index_path(child, path, i))
                return node_fail(src, mark, path, err, "key path too long");
            if (mf_schema_check_node(src, item, entry, child, err)) return MF_ERR;
        }
        return MF_OK;
    }
    default: {
        if (node->type != YAML_SCALAR_NODE)
            return node_fail(src, mark, path, err, "expected %s, found %s", type_phrase(v, false),
                             describe_node(node, found, sizeof found));
        if (node->data.scalar.length == 0 && node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
            return node_fail(src, mark, path, err, "expected %s, found an empty value",
                             type_phrase(v, false));
        char why[400];
        if (mf_schema_parse_scalar(v, (const char *)node->data.scalar.value, NULL, why, sizeof why))
            return node_fail(src, mark, path, err, "%s", why);
        return MF_OK;
    }
    }
}

/* ---- resolving a dotted path to a place in the config ---- */

/* A place in the config: the schema of the value there and its storage. For a mapping, data is
 * the struct itself; otherwise the member (for a pointer type, the pointer). */
typedef struct target {
    const cyaml_schema_value_t *schema;
    uint8_t *data;
    uint8_t *count; /* sequences: the entry count member */
    unsigned count_size;
} target;

static void *load_pointer(const uint8_t *slot)
{
    void *p;
    memcpy(&p, slot, sizeof p);
    return p;
}

static int resolve_fail(const char *arg, const char *path, mf_error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int resolve_fail(const char *arg, const char *path, mf_error *err, const char *fmt, ...)
{
    char msg[640];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (arg)
        mf_error_set(err, "override '%.*s%s': %s", MF_OVERRIDE_SHOWN, arg,
                     strlen(arg) > MF_OVERRIDE_SHOWN ? "..." : "", msg);
    else
        mf_error_set(err, "%s", msg);
    mf_error_at(err, NULL, 0, 0, path);
    return MF_ERR;
}

/* Enters a field or sequence entry: mappings become their struct. */
static void enter(target *t, const cyaml_schema_value_t *schema, uint8_t *data, uint8_t *count,
                  unsigned count_size)
{
    t->schema = schema;
    t->data = data;
    t->count = count;
    t->count_size = count_size;
    if (schema->type == CYAML_MAPPING && (schema->flags & CYAML_FLAG_POINTER))
        t->data = load_pointer(data);
}

static int enter_entry(target *t, size_t index, const char *arg, const char *path, mf_error *err)
{
    size_t n = (size_t)load_unsigned(t->count, t->count_size);
    if (index >= n)
        return resolve_fail(arg, path, err, "%s has %zu entries; there is no index %zu", path, n,
                            index);
    const cyaml_schema_value_t *entry = t->schema->sequence.entry;
    uint8_t *base = load_pointer(t->data);
    enter(t, entry, base + index * mf_schema_entry_stride(t->schema), NULL, 0);
    return MF_OK;
}

/* model.layers.conv1: the entry of a list of mappings whose "name" is conv1. */
static int find_named_entry(const target *t, const char *name, size_t *index)
{
    const cyaml_schema_value_t *entry = t->schema->sequence.entry;
    if (entry->type != CYAML_MAPPING) return MF_ERR;
    const cyaml_schema_field_t *f = mf_schema_field(entry, "name");
    if (!f || f->value.type != CYAML_STRING) return MF_ERR;
    size_t n = (size_t)load_unsigned(t->count, t->count_size);
    size_t stride = mf_schema_entry_stride(t->schema);
    uint8_t *base = load_pointer(t->data);
    for (size_t i = 0; i < n; i++) {
        const char *entry_name = load_pointer(base + i * stride + f->data_offset);
        if (entry_name && !strcmp(entry_name, name)) {
            *index = i;
            return MF_OK;
        }
    }
    return MF_ERR;
}

static int named_entry_fail(const target *t, const char *name, const char *arg, const char *path,
                            mf_error *err)
{
    char names[400] = "";
    size_t used = 0;
    const cyaml_schema_value_t *entry = t->schema->sequence.entry;
    const cyaml_schema_field_t *f =
        entry->type == CYAML_MAPPING ? mf_schema_field(entry, "name") : NULL;
    if (!f)
        return resolve_fail(arg, path, err,
                            "%s is a list of %s: use an index, e.g. %s[0], not '%s'", path,
                            type_phrase(entry, true), path, name);
    size_t n = (size_t)load_unsigned(t->count, t->count_size);
    uint8_t *base = load_pointer(t->data);
    for (size_t i = 0; i < n && used < sizeof names; i++) {
        const char *entry_name =
            load_pointer(base + i * mf_schema_entry_stride(t->schema) + f->data_offset);
        used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "",
                                 entry_name ? entry_name : "?");
    }
    return resolve_fail(arg, path, err, "%s has no entry named '%s' (names: %s)", path, name,
                        n ? names : "none");
}

/* Walks key ("model.layers[2].filters", "model.layers.conv1.filters") from the top of the
 * config. path receives the canonical form ("model.layers[2].filters"). */
static int resolve(mf_config *c, const char *key, const char *arg, target *t, char *path,
                   mf_error *err)
{
    enter(t, &mf_config_schema, (uint8_t *)&c, NULL, 0);
    path[0] = '\0';
    const char *s = key;
    char name[MF_CONFIG_PATH_MAX], keys[400];
    for (;;) {
        if (*s == '[') {
            char *end;
            errno = 0;
            unsigned long long index = strtoull(s + 1, &end, 10);
            if (end == s + 1 || *end != ']' || errno == ERANGE || s[1] == '-' || s[1] == '+')
                return resolve_fail(arg, path, err, "bad index in '%s' (expected [number])", key);
            if (t->schema->type != CYAML_SEQUENCE)
                return resolve_fail(arg, path, err, "%s is %s, not a list", path[0] ? path : key,
                                    type_phrase(t->schema, false));
            char next[MF_CONFIG_PATH_MAX];
            if (!child_index_path(next, path, (size_t)index))
                return resolve_fail(arg, path, err, "key too long");
            if (enter_entry(t, (size_t)index, arg, path, err)) return MF_ERR;
            snprintf(path, MF_CONFIG_PATH_MAX, "%s", next);
            s = end + 1;
        } else {
            size_t len = strcspn(s, ".[");
            if (len == 0 || len >= sizeof name)
                return resolve_fail(arg, path, err, "bad key '%s' (expected e.g. train.epochs)",
                                    key);
            memcpy(name, s, len);
            name[len] = '\0';
            s += len;
            char next[MF_CONFIG_PATH_MAX];
            if (t->schema->type == CYAML_MAPPING) {
                const cyaml_schema_field_t *f = mf_schema_field(t->schema, name);
                if (!f) {
                    mf_schema_keys(t->schema, keys, sizeof keys);
                    if (!path[0])
                        return resolve_fail(arg, name, err,
                                            "unknown section '%s' (expected one of: %s)", name,
                                            keys);
                    if (!child_key_path(next, path, name))
                        return resolve_fail(arg, path, err, "key too long");
                    return resolve_fail(arg, next, err,
                                        "unknown key '%s' in %s (expected one of: %s)", name, path,
                                        keys);
                }
                if (!child_key_path(next, path, name))
                    return resolve_fail(arg, path, err, "key too long");
                enter(t, &f->value, t->data + f->data_offset, t->data + f->count_offset,
                      f->count_size);
            } else if (t->schema->type == CYAML_SEQUENCE) {
                size_t index;
                if (find_named_entry(t, name, &index))
                    return named_entry_fail(t, name, arg, path, err);
                if (!child_index_path(next, path, index))
                    return resolve_fail(arg, path, err, "key too long");
                if (enter_entry(t, index, arg, path, err)) return MF_ERR;
            } else {
                return resolve_fail(arg, path, err, "%s is %s; it has no key '%s'", path,
                                    type_phrase(t->schema, false), name);
            }
            snprintf(path, MF_CONFIG_PATH_MAX, "%s", next);
        }
        if (!*s) return MF_OK;
        if (*s == '.') {
            s++;
            if (!*s || *s == '.' || *s == '[')
                return resolve_fail(arg, path, err, "bad key '%s' (expected e.g. train.epochs)",
                                    key);
        } else if (*s != '[') {
            return resolve_fail(arg, path, err, "bad key '%s' (expected e.g. train.epochs)", key);
        }
    }
}

/* ---- storing checked YAML nodes ---- */

static void free_sequence(const cyaml_schema_value_t *sequence, void *entries, unsigned count)
{
    cyaml_config_t cfg;
    mf_cyaml_config(&cfg, NULL);
    cyaml_free(&cfg, sequence, entries, count);
}

static int store_node(const mf_node_source *src, yaml_node_t *node, const target *t,
                      const char *path, mf_error *err);

static int store_sequence(const mf_node_source *src, yaml_node_t *node, const target *t,
                          const char *path, mf_error *err)
{
    const cyaml_schema_value_t *entry = t->schema->sequence.entry;
    /* a size given as a scalar is a list of one (mf_size_entry) */
    const int scalar = node->type == YAML_SCALAR_NODE;
    size_t n =
        scalar ? 1 : (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
    size_t stride = mf_schema_entry_stride(t->schema);
    uint8_t *entries = n ? calloc(n, stride) : NULL;
    if (n && !entries) return resolve_fail(src->override, path, err, "out of memory");
    /* Build the new list completely before replacing the old one, so a failure leaves the
     * config as it was (and freeable). */
    for (size_t i = 0; i < n; i++) {
        uint8_t *slot = entries + i * stride;
        if (entry == &mf_layer_schema) mf_layer_config_init((mf_layer_config *)slot);
        yaml_node_t *item =
            scalar ? node : yaml_document_get_node(src->doc, node->data.sequence.items.start[i]);
        target et;
        enter(&et, entry, slot, NULL, 0);
        char child[MF_CONFIG_PATH_MAX];
        child_index_path(child, path, i);
        if (!item || store_node(src, item, &et, child, err)) {
            free_sequence(t->schema, entries, (unsigned)n);
            return item ? MF_ERR : resolve_fail(src->override, child, err, "missing entry");
        }
    }
    free_sequence(t->schema, load_pointer(t->data),
                  (unsigned)load_unsigned(t->count, t->count_size));
    memcpy(t->data, &entries, sizeof entries);
    store_integer(t->count, t->count_size, (long long)n);
    return MF_OK;
}

static int store_node(const mf_node_source *src, yaml_node_t *node, const target *t,
                      const char *path, mf_error *err)
{
    switch (t->schema->type) {
    case CYAML_MAPPING: {
        for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top;
             p++) {
            yaml_node_t *key = yaml_document_get_node(src->doc, p->key);
            yaml_node_t *value = yaml_document_get_node(src->doc, p->value);
            const cyaml_schema_field_t *f =
                key ? mf_schema_field(t->schema, (const char *)key->data.scalar.value) : NULL;
            if (!f || !value) continue; /* rejected by the check before */
            target ft;
            enter(&ft, &f->value, t->data + f->data_offset, t->data + f->count_offset,
                  f->count_size);
            char child[MF_CONFIG_PATH_MAX];
            child_key_path(child, path, f->key);
            if (store_node(src, value, &ft, child, err)) return MF_ERR;
        }
        return MF_OK;
    }
    case CYAML_SEQUENCE:
        return store_sequence(src, node, t, path, err);
    default: {
        char why[400];
        if (mf_schema_parse_scalar(t->schema, (const char *)node->data.scalar.value, t->data, why,
                                   sizeof why))
            return resolve_fail(src->override, path, err, "%s", why);
        return MF_OK;
    }
    }
}

/* ---- entry points ---- */

int mf_config_store_document(mf_config *c, const mf_node_source *src, yaml_node_t *root,
                             mf_error *err)
{
    target t;
    enter(&t, &mf_config_schema, (uint8_t *)&c, NULL, 0);
    return store_node(src, root, &t, "", err);
}

int mf_config_set_text(mf_config *c, const char *path, const char *text, mf_error *err)
{
    target t;
    char canonical[MF_CONFIG_PATH_MAX];
    if (resolve(c, path, NULL, &t, canonical, err)) return MF_ERR;
    char why[400];
    if (mf_schema_parse_scalar(t.schema, text, t.data, why, sizeof why))
        return resolve_fail(NULL, canonical, err, "%s", why);
    return MF_OK;
}

static int apply_override(mf_config *c, const char *arg, mf_error *err)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return resolve_fail(arg, "", err, "expected key=value, e.g. train.epochs=3");
    size_t key_len = (size_t)(eq - arg);
    while (key_len > 0 && (arg[key_len - 1] == ' ' || arg[key_len - 1] == '\t'))
        key_len--;
    char *key = strndup(arg, key_len);
    if (!key) return mf_error_set(err, "out of memory");
    /* "key=" means an empty string, as '' would in the file. */
    const char *value = eq[1] ? eq + 1 : "''";

    yaml_parser_t parser;
    yaml_document_t doc;
    bool have_parser = false, have_doc = false;
    int rc = MF_ERR;
    target t;
    char path[MF_CONFIG_PATH_MAX];
    if (resolve(c, key, arg, &t, path, err)) goto done;
    if (!yaml_parser_initialize(&parser)) {
        mf_error_set(err, "out of memory");
        goto done;
    }
    have_parser = true;
    if (mf_yaml_check_bounds((const unsigned char *)value, strlen(value), NULL, arg, err)) {
        mf_error_at(err, NULL, 0, 0, path);
        goto done;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)value, strlen(value));
    if (!yaml_parser_load(&parser, &doc)) {
        resolve_fail(arg, path, err, "the value is not valid YAML: %s",
                     parser.problem ? parser.problem : "syntax error");
        goto done;
    }
    have_doc = true;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root) {
        resolve_fail(arg, path, err, "no value after '='");
        goto done;
    }
    mf_node_source src = {&doc, NULL, arg};
    if (mf_schema_check_node(&src, root, t.schema, path, err)) goto done;
    if (store_node(&src, root, &t, path, err)) goto done;
    if (mf_marks_add_override(c->marks, path, &doc, root, arg)) {
        mf_error_set(err, "out of memory");
        goto done;
    }
    rc = MF_OK;
done:
    if (have_doc) yaml_document_delete(&doc);
    if (have_parser) yaml_parser_delete(&parser);
    free(key);
    return rc;
}

int mf_config_apply_overrides(mf_config *c, char *const *overrides, int n_overrides, mf_error *err)
{
    for (int i = 0; i < n_overrides; i++)
        if (apply_override(c, overrides[i], err)) return MF_ERR;
    return MF_OK;
}
