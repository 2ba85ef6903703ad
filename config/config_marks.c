/* The marks index: for every field path of a config ("train.epochs", "model.layers[3].inputs[0]"),
 * where it was written: the line and column of its key and of its value in the file, or the
 * override argument that set it. libcyaml 1.3.1 reports no positions, so every config error takes
 * its location from here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "mf_fileio.h" /* mf_hash_fnv1a64 */

/* Deeper than any config the schema accepts; bounds the recursion on hostile input (the text
 * was bounded the same way before it was parsed: mf_yaml_check_bounds). */
#define MAX_DEPTH MF_CONFIG_MAX_DEPTH

typedef struct mark_entry {
    char *path;
    int key_line, key_column; /* 1-based; a list item has no key, so this is the item too */
    int value_line, value_column;
    char *override; /* the override argument that set the path; NULL for the file */
} mark_entry;

/* Entries [0, n_file) come from the file, in document order; overrides follow. The file's
 * entries are hashed by path (FNV-1a, open addressing; the first entry of a path wins), so a
 * lookup costs O(1) instead of a walk over the whole index: validation asks about every key of
 * every layer. */
struct mf_yaml_marks {
    mark_entry *entries; /* in the order recorded: the file first, then overrides as applied */
    size_t n, cap;
    size_t n_file;
    size_t *table; /* entry index + 1 per slot, 0: empty; table_size a power of two */
    size_t table_size;
};

mf_yaml_marks *mf_marks_new(void)
{
    return calloc(1, sizeof(mf_yaml_marks));
}

void mf_marks_free(mf_yaml_marks *m)
{
    if (!m) return;
    for (size_t i = 0; i < m->n; i++) {
        free(m->entries[i].path);
        free(m->entries[i].override);
    }
    free(m->entries);
    free(m->table);
    free(m);
}

static size_t path_hash(const char *path)
{
    return (size_t)mf_hash_fnv1a64(MF_FNV1A64_INIT, path, strlen(path));
}

/* Hashes the file's entries (called once the document is indexed). */
static int build_table(mf_yaml_marks *m)
{
    size_t size = 64;
    while (size < 2 * m->n_file)
        size *= 2;
    size_t *table = calloc(size, sizeof *table);
    if (!table) return MF_ERR;
    for (size_t i = 0; i < m->n_file; i++) {
        size_t slot = path_hash(m->entries[i].path) & (size - 1);
        for (; table[slot]; slot = (slot + 1) & (size - 1))
            if (!strcmp(m->entries[table[slot] - 1].path, m->entries[i].path)) break;
        if (!table[slot]) table[slot] = i + 1;
    }
    free(m->table);
    m->table = table;
    m->table_size = size;
    return MF_OK;
}

static int add_entry(mf_yaml_marks *m, const char *path, const yaml_mark_t *key,
                     const yaml_mark_t *value, const char *override)
{
    if (m->n == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 64;
        mark_entry *grown = realloc(m->entries, cap * sizeof *grown);
        if (!grown) return MF_ERR;
        m->entries = grown;
        m->cap = cap;
    }
    mark_entry *e = &m->entries[m->n];
    memset(e, 0, sizeof *e);
    e->path = strdup(path);
    e->override = override ? strdup(override) : NULL;
    if (!e->path || (override && !e->override)) {
        free(e->path);
        free(e->override);
        return MF_ERR;
    }
    if (key) {
        e->key_line = (int)key->line + 1;
        e->key_column = (int)key->column + 1;
    }
    if (value) {
        e->value_line = (int)value->line + 1;
        e->value_column = (int)value->column + 1;
    }
    m->n++;
    return MF_OK;
}

/* "a.b" or "a.b[2]" is under "a" (and "a.b"); "a.bc" is not under "a.b". */
static bool is_ancestor(const char *parent, const char *path)
{
    size_t len = strlen(parent);
    return strncmp(parent, path, len) == 0 && (path[len] == '.' || path[len] == '[');
}

/* Writes parent + ".key" (or "key" at the top) into out; false if it does not fit. */
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

typedef struct index_walk {
    mf_yaml_marks *marks;
    yaml_document_t *doc;
    unsigned char *seen; /* per node of the document: already indexed */
    const char *file;
    mf_error *err;
} index_walk;

static int walk_fail(index_walk *w, const yaml_mark_t *mark, const char *path, const char *msg)
{
    mf_error_set(w->err, "%s", msg);
    mf_error_at(w->err, w->file, (int)mark->line + 1, (int)mark->column + 1, path);
    return MF_ERR;
}

static int index_node(index_walk *w, yaml_node_t *node, const char *path,
                      const yaml_mark_t *key_mark, int depth)
{
    size_t id = (size_t)(node - w->doc->nodes.start);
    /* The document API resolves an alias to the node it names, so a second visit is an alias.
     * Rejecting them keeps a small file from expanding into a huge config. */
    if (w->seen[id])
        return walk_fail(w, key_mark, path,
                         "YAML aliases (*name) are not supported in configs; write the value out");
    w->seen[id] = 1;
    if (depth > MAX_DEPTH) return walk_fail(w, key_mark, path, "the YAML is nested too deeply");
    if (add_entry(w->marks, path, key_mark, &node->start_mark, NULL))
        return mf_error_set(w->err, "out of memory");
    char child[MF_CONFIG_PATH_MAX];
    if (node->type == YAML_MAPPING_NODE) {
        for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top;
             p++) {
            yaml_node_t *key = yaml_document_get_node(w->doc, p->key);
            yaml_node_t *value = yaml_document_get_node(w->doc, p->value);
            if (!key || !value) continue;
            /* A non-scalar key is rejected by the schema check, which reports it. */
            const char *name =
                key->type == YAML_SCALAR_NODE ? (const char *)key->data.scalar.value : "?";
            if (!child_key_path(child, path, name))
                return walk_fail(w, &key->start_mark, path, "key path too long");
            if (index_node(w, value, child, &key->start_mark, depth + 1)) return MF_ERR;
        }
    } else if (node->type == YAML_SEQUENCE_NODE) {
        size_t i = 0;
        for (yaml_node_item_t *it = node->data.sequence.items.start;
             it < node->data.sequence.items.top; it++, i++) {
            yaml_node_t *item = yaml_document_get_node(w->doc, *it);
            if (!item) continue;
            if (!child_index_path(child, path, i))
                return walk_fail(w, &item->start_mark, path, "key path too long");
            if (index_node(w, item, child, &item->start_mark, depth + 1)) return MF_ERR;
        }
    }
    return MF_OK;
}

int mf_marks_index_document(mf_yaml_marks *m, yaml_document_t *doc, const char *file, mf_error *err)
{
    yaml_node_t *root = yaml_document_get_root_node(doc);
    if (!root) return MF_OK;
    size_t n_nodes = (size_t)(doc->nodes.top - doc->nodes.start);
    index_walk w = {m, doc, calloc(n_nodes, 1), file, err};
    if (!w.seen) return mf_error_set(err, "out of memory");
    int rc = index_node(&w, root, "", &root->start_mark, 0);
    free(w.seen);
    m->n_file = m->n;
    if (rc == MF_OK && build_table(m)) rc = mf_error_set(err, "out of memory");
    return rc;
}

static int add_override_node(mf_yaml_marks *m, const char *path, yaml_document_t *doc,
                             yaml_node_t *node, const char *arg, int depth)
{
    if (depth > MAX_DEPTH) return MF_ERR;
    /* A mapping merges into what was there, so only its keys are recorded; a list or a scalar
     * replaces the old value, and recording it hides the file's entries under it. */
    if (node->type != YAML_MAPPING_NODE && add_entry(m, path, NULL, NULL, arg)) return MF_ERR;
    char child[MF_CONFIG_PATH_MAX];
    if (node->type == YAML_MAPPING_NODE) {
        for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top;
             p++) {
            yaml_node_t *key = yaml_document_get_node(doc, p->key);
            yaml_node_t *value = yaml_document_get_node(doc, p->value);
            if (!key || !value || key->type != YAML_SCALAR_NODE) continue;
            if (!child_key_path(child, path, (const char *)key->data.scalar.value)) return MF_ERR;
            if (add_override_node(m, child, doc, value, arg, depth + 1)) return MF_ERR;
        }
    } else if (node->type == YAML_SEQUENCE_NODE) {
        size_t i = 0;
        for (yaml_node_item_t *it = node->data.sequence.items.start;
             it < node->data.sequence.items.top; it++, i++) {
            yaml_node_t *item = yaml_document_get_node(doc, *it);
            if (!item) continue;
            if (!child_index_path(child, path, i)) return MF_ERR;
            if (add_override_node(m, child, doc, item, arg, depth + 1)) return MF_ERR;
        }
    }
    return MF_OK;
}

int mf_marks_add_override(mf_yaml_marks *m, const char *path, yaml_document_t *doc,
                          yaml_node_t *node, const char *arg)
{
    return add_override_node(m, path, doc, node, arg, 0);
}

static const mark_entry *find_in_file(const mf_yaml_marks *m, const char *path)
{
    if (!m->table) return NULL; /* no document indexed: nothing from a file */
    for (size_t slot = path_hash(path) & (m->table_size - 1); m->table[slot];
         slot = (slot + 1) & (m->table_size - 1))
        if (!strcmp(m->entries[m->table[slot] - 1].path, path))
            return &m->entries[m->table[slot] - 1];
    return NULL;
}

bool mf_marks_in_file(const mf_yaml_marks *m, const char *path)
{
    return m && find_in_file(m, path) != NULL;
}

bool mf_marks_given(const mf_yaml_marks *m, const char *path)
{
    if (!m) return false;
    /* Newest override first: the path itself, or a list or scalar above it that replaced the
     * file's content (its own entries were recorded after it, so they come first here). */
    for (size_t i = m->n; i-- > m->n_file;) {
        const mark_entry *e = &m->entries[i];
        if (!e->override) continue;
        if (!strcmp(e->path, path)) return true;
        if (is_ancestor(e->path, path)) return false;
    }
    return find_in_file(m, path) != NULL;
}

bool mf_marks_given_under(const mf_yaml_marks *m, const char *path, char *found, size_t size)
{
    if (!m) return false;
    for (size_t i = 0; i < m->n; i++) {
        const char *p = m->entries[i].path;
        if ((!strcmp(p, path) || is_ancestor(path, p)) && mf_marks_given(m, p)) {
            if (found && size) snprintf(found, size, "%s", p);
            return true;
        }
    }
    return false;
}

void mf_marks_locate(const mf_yaml_marks *m, const char *path, bool at_key, mf_mark_loc *out)
{
    memset(out, 0, sizeof *out);
    if (!m) return;
    for (size_t i = m->n; i-- > m->n_file;) {
        const mark_entry *e = &m->entries[i];
        if (e->override && (!strcmp(e->path, path) || is_ancestor(e->path, path))) {
            out->override = e->override;
            return;
        }
    }
    /* Absent from the file (a default): point at the nearest parent that is there. */
    char buf[MF_CONFIG_PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    bool exact = true;
    while (buf[0]) {
        const mark_entry *e = find_in_file(m, buf);
        if (e) {
            /* a missing field is reported at its parent's key ("train:") */
            bool key = at_key || !exact;
            out->line = key ? e->key_line : e->value_line;
            out->column = key ? e->key_column : e->value_column;
            return;
        }
        char *cut = strrchr(buf, '.');
        char *bracket = strrchr(buf, '[');
        if (bracket && (!cut || bracket > cut)) cut = bracket;
        if (!cut) break;
        *cut = '\0';
        exact = false;
    }
}
