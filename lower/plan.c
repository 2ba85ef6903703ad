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

/* An overlap step's two buffers: out's offset ≤ in's + lag (lag a multiple of the alignment). */
typedef struct {
    int out, in;
    long long lag;
} plan_pair;

static long long floor_align(long long v, size_t a)
{
    const long long m = (long long)a;
    return v >= 0 ? v / m * m : -((-v + m - 1) / m * m);
}

/* Whether buffers x at ox and y at oy may share bytes: an overlap pair in the right order. */
static int pair_allows(const plan_pair *pairs, int np, int x, long long ox, int y, long long oy)
{
    for (int k = 0; k < np; k++) {
        if (pairs[k].out == x && pairs[k].in == y) return ox <= oy + pairs[k].lag;
        if (pairs[k].out == y && pairs[k].in == x) return oy <= ox + pairs[k].lag;
    }
    return 0;
}

/* Placement in the given order: per buffer, the candidate offsets (0, the aligned end of every
 * placed buffer it meets in time, and for an overlap pair the tightest offset the pair allows),
 * the valid one leaving the smallest span (then the lowest) kept; offsets may be negative until
 * the caller shifts them. Returns the span. */
static long long place(const mf_plan_buffer *b, int n, const int *order, size_t align,
                       const plan_pair *pairs, int np, long long *off, int *placed, long long *cand)
{
    long long lo = 0, hi = 0;
    for (int i = 0; i < n; i++)
        placed[i] = 0;
    for (int k = 0; k < n; k++) {
        const int x = order[k];
        const long long size = (long long)b[x].size;
        int nc = 0;
        cand[nc++] = 0;
        for (int y = 0; y < n; y++)
            if (placed[y] && overlaps(&b[x], &b[y]))
                cand[nc++] = off[y] + (long long)align_up(b[y].size, align);
        for (int q = 0; q < np; q++) {
            if (pairs[q].out == x && placed[pairs[q].in])
                cand[nc++] = off[pairs[q].in] + pairs[q].lag;
            if (pairs[q].in == x && placed[pairs[q].out])
                cand[nc++] = off[pairs[q].out] - pairs[q].lag;
        }
        int have = 0;
        long long best = 0, best_span = 0;
        for (int c = 0; c < nc; c++) {
            const long long o = cand[c];
            int ok = 1;
            for (int y = 0; y < n && ok; y++)
                if (placed[y] && overlaps(&b[x], &b[y]) && o < off[y] + (long long)b[y].size &&
                    off[y] < o + size && !pair_allows(pairs, np, x, o, y, off[y]))
                    ok = 0;
            if (!ok) continue;
            const long long l = k && lo < o ? lo : o, h = k && hi > o + size ? hi : o + size;
            if (!have || h - l < best_span || (h - l == best_span && o < best))
                have = 1, best = o, best_span = h - l;
        }
        off[x] = best; /* (0 is always valid for the first buffer) */
        placed[x] = 1;
        if (k == 0 || best < lo) lo = best;
        if (k == 0 || best + size > hi) hi = best + size;
    }
    return n ? hi - lo : 0;
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
    long long *off = NULL, *best_off = NULL, *cand = NULL;
    plan_pair *pairs = NULL;
    int np = 0;
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
            (st->alias && st->n_in != 1) || (st->overlap && st->n_in < 1)) {
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
    off = malloc(sizeof *off * (size_t)(nb ? nb : 1));
    best_off = malloc(sizeof *best_off * (size_t)(nb ? nb : 1));
    cand = malloc(sizeof *cand * (size_t)(nb + 2 * n_steps + 1));
    pairs = malloc(sizeof *pairs * (size_t)(n_steps ? n_steps : 1));
    if (!p->buffers || !order || !placed || !off || !best_off || !cand || !pairs) {
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
    for (int t = 0; t < n_tensors; t++)
        p->tensors[t].overlaps = -1;
    /* overlap pairs: the output's buffer starts at this step, the input's ends there */
    for (int s = 0; s < n_steps; s++) {
        const mf_plan_step *st = &steps[s];
        if (!st->overlap || st->alias) continue;
        const int bo = bufof[find_root(parent, st->out)], bi = bufof[find_root(parent, st->in[0])];
        if (bo == bi || p->buffers[bo].first != s + 1 || p->buffers[bi].last != s + 1) continue;
        pairs[np].out = bo, pairs[np].in = bi;
        pairs[np++].lag = floor_align(st->lag, align);
        p->tensors[st->out].overlaps = st->in[0];
        p->tensors[st->out].lag = st->lag;
    }
    /* lower bound over time points 0 .. n_steps + 1 (a pair meets at its step only) */
    for (int t = 0; t <= n_steps + 1; t++) {
        size_t live = 0;
        for (int b = 0; b < nb; b++)
            if (p->buffers[b].first <= t && t <= p->buffers[b].last) live += p->buffers[b].size;
        for (int k = 0; k < np; k++) {
            const mf_plan_buffer *o = &p->buffers[pairs[k].out], *i = &p->buffers[pairs[k].in];
            if (o->first != t) continue;
            const size_t below = pairs[k].lag < 0 ? (size_t)-pairs[k].lag : 0;
            const size_t foot = i->size + below > o->size ? i->size + below : o->size;
            live -= i->size + o->size - (foot < i->size + o->size ? foot : i->size + o->size);
        }
        if (live > p->lower_bound) {
            p->lower_bound = live;
            p->bound_time = t;
        }
    }
    /* placement: several orders, keep the smallest arena */
    size_t best = (size_t)-1;
    for (int strategy = 0; strategy < 4; strategy++) {
        for (int b = 0; b < nb; b++)
            order[b] = b;
        sort_order(order, nb, p->buffers, strategy);
        size_t arena = align_up(
            (size_t)place(p->buffers, nb, order, align, pairs, np, off, placed, cand), align);
        if (arena < best) {
            best = arena;
            memcpy(best_off, off, sizeof *off * (size_t)nb);
            p->strategy = strategy_names[strategy];
        }
        if (best <= align_up(p->lower_bound, align)) break; /* optimal */
    }
    long long lowest = 0;
    for (int b = 0; b < nb; b++)
        if (b == 0 || best_off[b] < lowest) lowest = best_off[b];
    for (int b = 0; b < nb; b++)
        p->buffers[b].offset = (size_t)(best_off[b] - lowest);
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
    free(pairs);
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
        char nm[48], life[32], share[128] = "";
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
        if (x->overlaps >= 0 && !share[0]) {
            const char *on = names && names[x->overlaps] ? names[x->overlaps] : NULL;
            char tn[16];
            snprintf(tn, sizeof tn, "t%d", x->overlaps);
            snprintf(share, sizeof share, "overlaps %s (written behind its reads, lag %ld)",
                     on ? on : tn, x->lag);
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
