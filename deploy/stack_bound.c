/* The static stack bound of a linked firmware from its disassembly (see stack_bound.h). Run on
 * the very image QEMU runs (after link-time optimisation), so inlining and cloning are seen as
 * they are; the painted peak of every run is checked against it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stack_bound.h"

#define MAX_DEPTH 64
#define UNBOUNDED ((size_t)-1) /* a stack adjustment by a register (alloca, a VLA) */

typedef struct fn {
    char name[160];
    size_t frame;
    int indirect; /* an indirect call: no bound */
    int dynamic;  /* a stack adjustment by a register: no bound */
    int *callees; /* function indices */
    int n_callees, cap;
    int state; /* 0 new, 1 on the current path, 2 done */
    size_t bound;
    int best; /* the callee on the deepest path, or -1 */
} fn;

typedef struct {
    fn *f;
    int n, cap;
} fn_table;

static int find(const fn_table *t, const char *name)
{
    for (int i = 0; i < t->n; i++)
        if (!strcmp(t->f[i].name, name)) return i;
    return -1;
}

/* Registers in "{r4, r5, lr}" / "{d8-d15}": count, ranges expanded. */
static int reg_count(const char *s)
{
    const char *open = strchr(s, '{'), *close = open ? strchr(open, '}') : NULL;
    if (!open || !close) return 0;
    int n = 0;
    for (const char *p = open + 1; p < close;) {
        while (p < close && (*p == ' ' || *p == ','))
            p++;
        if (p >= close) break;
        const char *e = p;
        while (e < close && *e != ',')
            e++;
        const char *dash = memchr(p, '-', (size_t)(e - p));
        if (dash) {
            int a = atoi(p + 1), b = atoi(dash + 2); /* "d8-d15", "r4-r11" */
            n += b >= a ? b - a + 1 : 1;
        } else {
            n++;
        }
        p = e;
    }
    return n;
}

/* Bytes an instruction reserves on the stack (0 for any other). */
static size_t reserves(const char *mn, const char *ops)
{
    if (!strcmp(mn, "push") || !strcmp(mn, "push.w") ||
        ((!strcmp(mn, "stmdb") || !strcmp(mn, "stmdb.w")) && !strncmp(ops, "sp!", 3)))
        return 4 * (size_t)reg_count(ops);
    if (!strcmp(mn, "vpush") || ((!strcmp(mn, "vstmdb")) && !strncmp(ops, "sp!", 3))) {
        const int dbl = strchr(ops, 'd') && strchr(ops, '{') && strchr(strchr(ops, '{'), 'd');
        return (dbl ? 8 : 4) * (size_t)reg_count(ops);
    }
    if ((!strcmp(mn, "sub") || !strcmp(mn, "sub.w") || !strcmp(mn, "subw")) &&
        !strncmp(ops, "sp,", 3)) {
        const char *h = strchr(ops, '#');
        return h ? (size_t)strtoul(h + 1, NULL, 0) : UNBOUNDED; /* by a register: unknown */
    }
    if (!strncmp(mn, "str", 3) && strstr(ops, "[sp, #-") && strchr(ops, '!')) /* pre-indexed */
        return (size_t)strtoul(strstr(ops, "[sp, #-") + 7, NULL, 0);
    if ((!strcmp(mn, "add") || !strcmp(mn, "add.w")) && !strncmp(ops, "sp,", 3) &&
        strstr(ops, "#-"))
        return (size_t)strtoul(strstr(ops, "#-") + 2, NULL, 0);
    return 0;
}

/* After the 'b' of a mnemonic: a plain or conditional branch ("", "eq", "ne", … with an
 * optional .w/.n), not bl, bx, blx, bic or bfi. */
static int is_branch(const char *rest)
{
    static const char *const cond[] = {"",   "eq", "ne", "cs", "cc", "hs", "lo", "mi", "pl",
                                       "vs", "vc", "hi", "ls", "ge", "lt", "gt", "le", "al"};
    for (size_t i = 0; i < sizeof cond / sizeof cond[0]; i++) {
        size_t n = strlen(cond[i]);
        if (strncmp(rest, cond[i], n)) continue;
        const char *w = rest + n;
        if (!*w || !strcmp(w, ".w") || !strcmp(w, ".n")) return 1;
    }
    return 0;
}

static int add_fn(fn_table *t, const char *name, mf_error *err)
{
    if (t->n == t->cap) {
        int cap = t->cap ? 2 * t->cap : 64;
        fn *g = realloc(t->f, sizeof *g * (size_t)cap);
        if (!g) return mf_error_set(err, "out of memory");
        t->f = g;
        t->cap = cap;
    }
    fn *f = &t->f[t->n++];
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "%s", name);
    f->best = -1;
    return MF_OK;
}

/* Callee names are resolved after the whole listing is read: kept as text first. */
typedef struct {
    int caller;
    char callee[160];
} edge;

static int parse(const char *text, fn_table *t, edge **edges, int *n_edges, mf_error *err)
{
    int cur = -1, cap = 0;
    const char *line = text;
    while (line && *line) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        char buf[512];
        if (len >= sizeof buf) len = sizeof buf - 1;
        memcpy(buf, line, len);
        buf[len] = 0;
        line = eol ? eol + 1 : NULL;
        unsigned long addr;
        char name[160];
        if (sscanf(buf, "%lx <%159[^>]>:", &addr, name) == 2) { /* a function starts */
            if (add_fn(t, name, err)) return MF_ERR;
            cur = t->n - 1;
            continue;
        }
        char *tab = strchr(buf, '\t');
        if (cur < 0 || !tab) continue;
        char mn[32] = "", ops[400] = "";
        if (sscanf(tab + 1, "%31s %399[^\n]", mn, ops) < 1) continue;
        fn *f = &t->f[cur];
        const size_t r = reserves(mn, ops);
        if (r == UNBOUNDED)
            f->dynamic = 1;
        else
            f->frame += r;
        const int is_bl = !strcmp(mn, "bl");
        const int is_b = mn[0] == 'b' && is_branch(mn + 1);
        if (!strcmp(mn, "blx") || (!strcmp(mn, "bx") && strncmp(ops, "lr", 2))) f->indirect = 1;
        if (!is_bl && !is_b) continue;
        const char *lt = strchr(ops, '<'), *gt = lt ? strchr(lt, '>') : NULL;
        if (!lt || !gt || memchr(lt, '+', (size_t)(gt - lt))) continue; /* local branch */
        if (*n_edges == cap) {
            cap = cap ? 2 * cap : 256;
            edge *e = realloc(*edges, sizeof *e * (size_t)cap);
            if (!e) return mf_error_set(err, "out of memory");
            *edges = e;
        }
        edge *e = &(*edges)[(*n_edges)++];
        e->caller = cur;
        snprintf(e->callee, sizeof e->callee, "%.*s", (int)(gt - lt - 1), lt + 1);
    }
    return MF_OK;
}

static int bound_of(fn_table *t, int i, int depth, mf_error *err)
{
    fn *f = &t->f[i];
    if (f->state == 2) return MF_OK;
    if (f->state == 1) return mf_error_set(err, "stack bound: %s is recursive", f->name);
    if (depth > MAX_DEPTH)
        return mf_error_set(err, "stack bound: calls nest deeper than %d levels", MAX_DEPTH);
    if (f->indirect) return mf_error_set(err, "stack bound: %s calls through a pointer", f->name);
    if (f->dynamic)
        return mf_error_set(err, "stack bound: %s moves the stack pointer by a register amount",
                            f->name);
    f->state = 1;
    size_t deepest = 0;
    for (int k = 0; k < f->n_callees; k++) {
        int c = f->callees[k];
        if (c == i) continue; /* a branch to its own start is a loop, not a call */
        if (bound_of(t, c, depth + 1, err)) return MF_ERR;
        if (t->f[c].bound > deepest || f->best < 0) {
            deepest = t->f[c].bound;
            f->best = c;
        }
    }
    f->bound = f->frame + deepest;
    f->state = 2;
    return MF_OK;
}

int mf_stack_bound_objdump(const char *objdump_text, const char *root, mf_stack_bound *out,
                           mf_error *err)
{
    memset(out, 0, sizeof *out);
    fn_table t = {NULL, 0, 0};
    edge *edges = NULL;
    int n_edges = 0, rc = MF_ERR;
    if (parse(objdump_text, &t, &edges, &n_edges, err)) goto done;
    for (int k = 0; k < n_edges; k++) {
        int c = find(&t, edges[k].callee);
        if (c < 0) continue; /* a branch to a label that is not a function */
        fn *f = &t.f[edges[k].caller];
        int dup = 0;
        for (int j = 0; j < f->n_callees; j++)
            dup |= f->callees[j] == c;
        if (dup) continue;
        if (f->n_callees == f->cap) {
            int cap = f->cap ? 2 * f->cap : 8;
            int *g = realloc(f->callees, sizeof *g * (size_t)cap);
            if (!g) {
                mf_error_set(err, "out of memory");
                goto done;
            }
            f->callees = g;
            f->cap = cap;
        }
        f->callees[f->n_callees++] = c;
    }
    int r = find(&t, root);
    if (r < 0) {
        mf_error_set(err, "stack bound: no function %s in the disassembly", root);
        goto done;
    }
    if (bound_of(&t, r, 0, err)) goto done;
    out->bytes = t.f[r].bound;
    size_t len = 0;
    for (int i = r; i >= 0 && len < sizeof out->path; i = t.f[i].best)
        len += (size_t)snprintf(out->path + len, sizeof out->path - len, "%s%s (%zu)",
                                i == r ? "" : " > ", t.f[i].name, t.f[i].frame);
    rc = MF_OK;
done:
    for (int i = 0; i < t.n; i++)
        free(t.f[i].callees);
    free(t.f);
    free(edges);
    return rc;
}
