/* Static memory plan: lifetimes, in-place merges, first-fit placement in one arena, lower bound
 * (see mf_plan.h). */
#include <stdlib.h>
#include <string.h>

#include "mf_plan.h"

void mf_plan_free(mf_plan *p)
{
    if (!p) return;
    free(p->tensors);
    free(p->buffers);
    memset(p, 0, sizeof *p);
}

size_t mf_plan_offset(const mf_plan *p, int tensor)
{
    int b = tensor >= 0 && tensor < p->n_tensors ? p->tensors[tensor].buffer : -1;
    return b >= 0 ? p->buffers[b].offset : 0;
}

static size_t align_up(size_t v, size_t a)
{
    return (v + a - 1) & ~(a - 1);
}

static int find_root(int *parent, int t)
{
    while (parent[t] != t) {
        parent[t] = parent[parent[t]];
        t = parent[t];
    }
    return t;
}

static int overlaps(const mf_plan_buffer *a, const mf_plan_buffer *b)
{
    return a->first <= b->last && b->first <= a->last;
}

/* Placement orders tried; each compares two buffer indices through the plan. */
typedef struct {
    const mf_plan_buffer *b;
    int strategy;
} sort_ctx;

static long long key_of(const mf_plan_buffer *b, int strategy)
{
    long long len = (long long)(b->last - b->first + 1);
    switch (strategy) {
    case 0:
        return -(long long)b->size; /* largest first */
    case 1:
        return (long long)b->first; /* earliest first */
    case 2:
        return -len; /* longest lifetime first */
    default:
        return -(long long)b->size * len; /* largest size·lifetime first */
    }
}

static const char *const strategy_names[4] = {"largest-first first-fit", "earliest-first first-fit",
                                              "longest-lifetime-first first-fit",
                                              "largest-area-first first-fit"};

/* insertion sort (stable, no global context needed): order by key, then size desc, then index */
static void sort_order(int *order, int n, const mf_plan_buffer *b, int strategy)
{
    for (int i = 1; i < n; i++) {
        int x = order[i], j = i - 1;
        long long kx = key_of(&b[x], strategy);
        while (j >= 0) {
            int y = order[j];
            long long ky = key_of(&b[y], strategy);
            int after = ky > kx ||
                        (ky == kx && (b[y].size < b[x].size || (b[y].size == b[x].size && y > x)));
            if (!after) break;
            order[j + 1] = y;
            j--;
        }
        order[j + 1] = x;
    }
}

/* First-fit in the given order; offsets into off[]; returns the arena size. */
static size_t place(const mf_plan_buffer *b, int n, const int *order, size_t align, size_t *off,
                    int *placed, size_t *cand)
{
    size_t arena = 0;
    for (int i = 0; i < n; i++)
        placed[i] = 0;
    for (int k = 0; k < n; k++) {
        int x = order[k];
        int nc = 0;
        cand[nc++] = 0;
        for (int y = 0; y < n; y++)
            if (placed[y] && overlaps(&b[x], &b[y]))
                cand[nc++] = align_up(off[y] + b[y].size, align);
        /* sort candidates ascending (insertion sort; n is small) */
        for (int i = 1; i < nc; i++) {
            size_t v = cand[i];
            int j = i - 1;
            while (j >= 0 && cand[j] > v) {
                cand[j + 1] = cand[j];
                j--;
            }
            cand[j + 1] = v;
        }
        size_t best = 0;
        for (int c = 0; c < nc; c++) {
            size_t o = cand[c];
            int ok = 1;
            for (int y = 0; y < n && ok; y++)
                if (placed[y] && overlaps(&b[x], &b[y]) && o < off[y] + b[y].size &&
                    off[y] < o + b[x].size)
                    ok = 0;
            if (ok) {
                best = o;
                break;
            }
        }
        off[x] = best;
        placed[x] = 1;
        if (best + b[x].size > arena) arena = best + b[x].size;
    }
    return align_up(arena, align);
}

int mf_plan_build(int n_tensors, const size_t *sizes, int input, int output, int n_steps,
                  const mf_plan_step *steps, size_t align, mf_plan *p, mf_error *err)
{
    memset(p, 0, sizeof *p);
    if (n_tensors < 1 || n_steps < 0 || input < 0 || input >= n_tensors || output < 0 ||
        output >= n_tensors)
        return mf_error_set(err, "memory plan: bad arguments (%d tensors, %d steps)", n_tensors,
                            n_steps);
    if (align == 0 || (align & (align - 1)))
        return mf_error_set(err, "memory plan: alignment %zu is not a power of two", align);
    int *first = malloc(sizeof(int) * (size_t)n_tensors);
    int *last = malloc(sizeof(int) * (size_t)n_tensors);
    int *parent = malloc(sizeof(int) * (size_t)n_tensors);
    int *gfirst = malloc(sizeof(int) * (size_t)n_tensors);
    int *glast = malloc(sizeof(int) * (size_t)n_tensors);
    int *bufof = malloc(sizeof(int) * (size_t)n_tensors);
    p->tensors = calloc((size_t)n_tensors, sizeof *p->tensors);
    int rc = MF_ERR;
    int *order = NULL, *placed = NULL;
    size_t *off = NULL, *best_off = NULL, *cand = NULL;
    if (!first || !last || !parent || !gfirst || !glast || !bufof || !p->tensors) {
        mf_error_set(err, "out of memory planning the arena");
        goto done;
    }
    for (int t = 0; t < n_tensors; t++) {
        first[t] = -1;
        last[t] = -1;
        parent[t] = t;
    }
    first[input] = 0;
    for (int s = 0; s < n_steps; s++) {
        const mf_plan_step *st = &steps[s];
        if (st->out < 0 || st->out >= n_tensors || st->n_in < 0 || st->n_in > MF_PLAN_MAX_IN ||
            (st->alias && st->n_in != 1)) {
            mf_error_set(err, "memory plan: step %d is malformed", s + 1);
            goto done;
        }
        for (int k = 0; k < st->n_in; k++) {
            int t = st->in[k];
            if (t < 0 || t >= n_tensors || first[t] < 0) {
                mf_error_set(err, "memory plan: step %d reads tensor %d before it is produced",
                             s + 1, t);
                goto done;
            }
            last[t] = s + 1;
        }
        if (first[st->out] >= 0) {
            mf_error_set(err, "memory plan: tensor %d is produced twice (step %d)", st->out, s + 1);
            goto done;
        }
        first[st->out] = s + 1;
        if (st->has_scratch) {
            int t = st->scratch;
            if (t < 0 || t >= n_tensors || first[t] >= 0 || t == st->out || st->alias) {
                mf_error_set(err, "memory plan: step %d has a malformed scratch tensor %d", s + 1,
                             t);
                goto done;
            }
            first[t] = last[t] = s + 1;
        }
    }
    if (first[output] < 0) {
        mf_error_set(err, "memory plan: the output tensor %d is never produced", output);
        goto done;
    }
    last[output] = n_steps + 1;
    for (int t = 0; t < n_tensors; t++) {
        if (first[t] < 0) continue; /* not part of the graph that runs (e.g. fused away) */
        if (last[t] < first[t]) last[t] = first[t]; /* produced, never read: lives one step */
        if (sizes[t] == 0) {
            mf_error_set(err, "memory plan: tensor %d has size 0", t);
            goto done;
        }
    }
    /* views share their source's storage */
    for (int s = 0; s < n_steps; s++)
        if (steps[s].alias) {
            if (sizes[steps[s].out] != sizes[steps[s].in[0]]) {
                mf_error_set(err, "memory plan: step %d is a view of a tensor of another size",
                             s + 1);
                goto done;
            }
            parent[find_root(parent, steps[s].out)] = find_root(parent, steps[s].in[0]);
        }
    for (int t = 0; t < n_tensors; t++) {
        gfirst[t] = 1 << 30;
        glast[t] = -1;
    }
    for (int t = 0; t < n_tensors; t++) {
        if (first[t] < 0) continue;
        int r = find_root(parent, t);
        if (first[t] < gfirst[r]) gfirst[r] = first[t];
        if (last[t] > glast[r]) glast[r] = last[t];
    }
    /* in place: the output takes over the storage of an input that dies at this step */
    for (int s = 0; s < n_steps; s++) {
        const mf_plan_step *st = &steps[s];
        if (st->alias || !st->inplace) continue;
        int ro = find_root(parent, st->out);
        for (int k = 0; k < st->n_in; k++) {
            if (!(st->inplace & (1u << k))) continue;
            int ri = find_root(parent, st->in[k]);
            if (ri == ro || glast[ri] != s + 1 || sizes[ri] != sizes[ro]) continue;
            parent[ro] = ri;
            if (gfirst[ro] < gfirst[ri]) gfirst[ri] = gfirst[ro];
            if (glast[ro] > glast[ri]) glast[ri] = glast[ro];
            break;
        }
    }
    /* buffers */
    int nb = 0;
    for (int t = 0; t < n_tensors; t++)
        bufof[t] = -1;
    for (int t = 0; t < n_tensors; t++)
        if (first[t] >= 0 && find_root(parent, t) == t) bufof[t] = nb++;
    p->buffers = calloc((size_t)(nb ? nb : 1), sizeof *p->buffers);
    order = malloc(sizeof(int) * (size_t)(nb ? nb : 1));
    placed = malloc(sizeof(int) * (size_t)(nb ? nb : 1));
    off = malloc(sizeof(size_t) * (size_t)(nb ? nb : 1));
    best_off = malloc(sizeof(size_t) * (size_t)(nb ? nb : 1));
    cand = malloc(sizeof(size_t) * (size_t)(nb + 1));
    if (!p->buffers || !order || !placed || !off || !best_off || !cand) {
        mf_error_set(err, "out of memory planning the arena");
        goto done;
    }
    for (int t = 0; t < n_tensors; t++) {
        p->tensors[t].size = sizes[t];
        p->tensors[t].first = first[t];
        p->tensors[t].last = last[t];
        p->tensors[t].buffer = -1;
        if (first[t] < 0) continue;
        int r = find_root(parent, t), b = bufof[r];
        p->tensors[t].buffer = b;
        p->buffers[b].size = sizes[r];
        p->buffers[b].first = gfirst[r];
        p->buffers[b].last = glast[r];
    }
    p->n_tensors = n_tensors;
    p->n_steps = n_steps;
    p->n_buffers = nb;
    p->input = input;
    p->output = output;
    p->align = align;
    /* lower bound over time points 0 .. n_steps + 1 */
    for (int t = 0; t <= n_steps + 1; t++) {
        size_t live = 0;
        for (int b = 0; b < nb; b++)
            if (p->buffers[b].first <= t && t <= p->buffers[b].last) live += p->buffers[b].size;
        if (live > p->lower_bound) {
            p->lower_bound = live;
            p->bound_time = t;
        }
    }
    /* placement: several first-fit orders, keep the smallest arena */
    size_t best = (size_t)-1;
    for (int strategy = 0; strategy < 4; strategy++) {
        for (int b = 0; b < nb; b++)
            order[b] = b;
        sort_order(order, nb, p->buffers, strategy);
        size_t arena = place(p->buffers, nb, order, align, off, placed, cand);
        if (arena < best) {
            best = arena;
            memcpy(best_off, off, sizeof(size_t) * (size_t)nb);
            p->strategy = strategy_names[strategy];
        }
        if (best <= align_up(p->lower_bound, align)) break; /* optimal */
    }
    for (int b = 0; b < nb; b++)
        p->buffers[b].offset = best_off[b];
    p->arena = nb ? best : 0;
    rc = MF_OK;
done:
    free(first);
    free(last);
    free(parent);
    free(gfirst);
    free(glast);
    free(bufof);
    free(order);
    free(placed);
    free(off);
    free(best_off);
    free(cand);
    if (rc) mf_plan_free(p);
    return rc;
}

void mf_plan_print(const mf_plan *p, const char *const *names, FILE *f)
{
    fprintf(f, "memory plan (%d tensors in %d buffers, offsets aligned to %zu bytes, %s):\n",
            p->n_tensors, p->n_buffers, p->align, p->strategy ? p->strategy : "-");
    fprintf(f, "  %-28s %8s %8s  %-9s  %s\n", "tensor", "offset", "bytes", "lifetime", "storage");
    for (int t = 0; t < p->n_tensors; t++) {
        const mf_plan_tensor *x = &p->tensors[t];
        char nm[48], life[32], share[64] = "";
        if (names && names[t])
            snprintf(nm, sizeof nm, "%s", names[t]);
        else
            snprintf(nm, sizeof nm, "t%d", t);
        if (x->buffer < 0 && x->size == 0) continue; /* a call without scratch */
        if (x->buffer < 0) {
            fprintf(f, "  %-28s %8s %8zu  %-9s  not materialised\n", nm, "-", x->size, "-");
            continue;
        }
        snprintf(life, sizeof life, "[%d,%d]", x->first, x->last);
        /* the first tensor (in index order) of the same buffer, if not this one */
        for (int u = 0; u < t; u++)
            if (p->tensors[u].buffer == x->buffer) {
                const char *un = names && names[u] ? names[u] : NULL;
                if (un)
                    snprintf(share, sizeof share, "shares %s", un);
                else
                    snprintf(share, sizeof share, "shares t%d", u);
                break;
            }
        fprintf(f, "  %-28s %8zu %8zu  %-9s  %s%s%s\n", nm, p->buffers[x->buffer].offset, x->size,
                life, share, t == p->input ? (share[0] ? ", input" : "input") : "",
                t == p->output ? (share[0] || t == p->input ? ", output" : "output") : "");
    }
    fprintf(f, "  arena %zu bytes; lower bound %zu bytes (live at step %d)", p->arena,
            p->lower_bound, p->bound_time);
    if (p->lower_bound)
        fprintf(f, "; arena = bound + %.1f %%\n",
                100.0 * ((double)p->arena - (double)p->lower_bound) / (double)p->lower_bound);
    else
        fprintf(f, "\n");
}
