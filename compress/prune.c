/* Magnitude pruning and its gradual schedule (mf_compress.h). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mf_compress.h"

typedef struct {
    float mag;
    uint32_t at; /* index into the group's value list */
} prune_entry;

/* Ascending magnitude, NaN last (a total order even for a diverging model), then index. */
static int by_magnitude(const void *a, const void *b)
{
    const prune_entry *x = a, *y = b;
    const int nx = isnan(x->mag), ny = isnan(y->mag);
    if (nx != ny) return nx - ny;
    if (!nx && x->mag != y->mag) return x->mag < y->mag ? -1 : 1;
    return x->at < y->at ? -1 : x->at > y->at;
}

static int excluded(const mf_prune_spec *s, const char *name)
{
    for (int k = 0; k < s->n_exclude; k++)
        if (!strcmp(s->exclude[k], name)) return 1;
    return 0;
}

/* The index of name's own target, or -1. */
static int targeted(const mf_prune_spec *s, const char *name)
{
    for (int k = 0; k < s->n_targets; k++)
        if (!strcmp(s->targets[k].name, name)) return k;
    return -1;
}

/* Every name of exclude and targets is a layer with a kernel, named once. */
static int check_names(const mf_model *m, const mf_prune_spec *s, mf_error *err)
{
    for (int k = 0; k < s->n_exclude + s->n_targets; k++) {
        const int is_target = k >= s->n_exclude;
        const char *name = is_target ? s->targets[k - s->n_exclude].name : s->exclude[k];
        const int i = mf_model_find(m, name);
        size_t off, cnt;
        if (i < 1) return mf_error_set(err, "pruning: no layer is named '%s'", name);
        if (!mf_node_kernel(m, i, &off, &cnt))
            return mf_error_set(err, "pruning: layer '%s' has no kernel to %s", name,
                                is_target ? "prune" : "keep dense");
        if (is_target) {
            const double t = s->targets[k - s->n_exclude].sparsity;
            if (!(t >= 0.0 && t < 1.0))
                return mf_error_set(err, "pruning: sparsity %g of layer '%s' is outside [0, 1)", t,
                                    name);
            if (excluded(s, name))
                return mf_error_set(
                    err, "pruning: layer '%s' is both excluded and given a sparsity", name);
            if (targeted(s, name) != k - s->n_exclude)
                return mf_error_set(err, "pruning: layer '%s' is given a sparsity twice", name);
        }
    }
    return MF_OK;
}

/* The group's kernels: nodes[0..n) (offsets and counts into m->params). Prunes the smallest
 * unpruned values until round(sparsity · total) are pruned. */
static int prune_group(mf_model *m, const int *nodes, int n, double sparsity, mf_error *err)
{
    size_t total = 0, pruned = 0;
    for (int i = 0; i < n; i++) {
        size_t off, cnt;
        mf_node_kernel(m, nodes[i], &off, &cnt);
        total += cnt;
        for (size_t k = 0; k < cnt; k++)
            pruned += !m->mask[off + k];
    }
    const size_t want = (size_t)llround(sparsity * (double)total);
    if (want <= pruned) return MF_OK;
    if (total > UINT32_MAX) return mf_error_set(err, "pruning: more than 2^32 kernel values");
    prune_entry *e = malloc(sizeof *e * (total - pruned));
    size_t *where = malloc(sizeof *where * (total - pruned));
    if (!e || !where) {
        free(e);
        free(where);
        return mf_error_set(err, "out of memory pruning %zu values", total);
    }
    size_t ne = 0;
    for (int i = 0; i < n; i++) {
        size_t off, cnt;
        mf_node_kernel(m, nodes[i], &off, &cnt);
        for (size_t k = 0; k < cnt; k++)
            if (m->mask[off + k]) {
                e[ne].mag = fabsf(m->params[off + k]);
                e[ne].at = (uint32_t)ne;
                where[ne++] = off + k;
            }
    }
    qsort(e, ne, sizeof *e, by_magnitude);
    for (size_t k = 0; k < want - pruned; k++) {
        m->mask[where[e[k].at]] = 0;
        m->params[where[e[k].at]] = 0.0f;
    }
    free(e);
    free(where);
    return MF_OK;
}

int mf_prune_magnitude(mf_model *m, const mf_prune_spec *s, mf_error *err)
{
    if (!(s->sparsity >= 0.0 && s->sparsity < 1.0))
        return mf_error_set(err, "pruning: sparsity %g is outside [0, 1)", s->sparsity);
    if (check_names(m, s, err)) return MF_ERR;
    int *nodes = malloc(sizeof *nodes * (size_t)m->n_nodes);
    if (!nodes) return mf_error_set(err, "out of memory");
    int n = 0, n_own = 0; /* the layers at `sparsity`; those with their own target */
    for (int i = 1; i < m->n_nodes; i++) {
        size_t off, cnt;
        const char *name = m->nodes[i].spec.name;
        if (!mf_node_kernel(m, i, &off, &cnt) || excluded(s, name)) continue;
        if (targeted(s, name) >= 0)
            n_own++;
        else
            nodes[n++] = i;
    }
    int rc = MF_OK;
    if (n + n_own == 0)
        rc = mf_error_set(err, "pruning: no conv or dense layer is left to prune");
    else if (mf_model_mask_alloc(m, err))
        rc = MF_ERR;
    else if (s->per_layer)
        for (int i = 0; i < n && rc == MF_OK; i++)
            rc = prune_group(m, &nodes[i], 1, s->sparsity, err);
    else if (n)
        rc = prune_group(m, nodes, n, s->sparsity, err);
    for (int k = 0; k < s->n_targets && rc == MF_OK; k++) {
        const int i = mf_model_find(m, s->targets[k].name);
        rc = prune_group(m, &i, 1, s->targets[k].sparsity, err);
    }
    free(nodes);
    return rc;
}

double mf_prune_schedule_toward(const mf_prune_schedule *s, long step, double final)
{
    if (step >= s->end) return final;
    if (step <= s->begin) return s->initial;
    const double r = 1.0 - (double)(step - s->begin) / (double)(s->end - s->begin);
    return final + (s->initial - final) * r * r * r;
}

double mf_prune_schedule_at(const mf_prune_schedule *s, long step)
{
    return mf_prune_schedule_toward(s, step, s->final);
}

int mf_prune_schedule_due(const mf_prune_schedule *s, long step)
{
    if (step < s->begin || step > s->end) return 0;
    return step == s->end || (step - s->begin) % s->every == 0;
}

void mf_prune_print(const mf_model *m, FILE *f)
{
    fprintf(f, "  %-24s %12s %12s %8s\n", "layer", "pruned", "kernel", "sparsity");
    for (int i = 1; i < m->n_nodes; i++) {
        size_t off, total;
        if (!mf_node_kernel(m, i, &off, &total)) continue;
        const size_t z = mf_model_mask_zeros(m, i, NULL);
        fprintf(f, "  %-24s %12zu %12zu %7.2f %%\n", m->nodes[i].spec.name, z, total,
                total ? 100.0 * (double)z / (double)total : 0.0);
    }
    size_t total;
    const size_t z = mf_model_mask_zeros(m, -1, &total);
    fprintf(f, "  %-24s %12zu %12zu %7.2f %%\n", "all kernels", z, total,
            total ? 100.0 * (double)z / (double)total : 0.0);
}
