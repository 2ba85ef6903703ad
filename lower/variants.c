/* Choosing each layer's weight representation under an objective and budgets (mf_lower.h). */
#include <stdio.h>

#include "mf_lower.h"

static int better(const mf_variant_cost *c, const mf_variant_goal *g)
{
    if (g->objective == MF_OBJECTIVE_FLASH)
        return c->bytes[1] < c->bytes[0] ||
               (c->bytes[1] == c->bytes[0] && c->instr[1] < c->instr[0]);
    return c->instr[1] < g->margin * c->instr[0];
}

static void totals(const mf_variant_cost *v, int n, const mf_variant_goal *g,
                   const unsigned char *sparse, double *instr, size_t *bytes)
{
    *instr = g->fixed_instr;
    *bytes = g->fixed_bytes;
    for (int i = 0; i < n; i++) {
        *instr += v[i].instr[sparse[i]];
        *bytes += v[i].bytes[sparse[i]];
    }
}

/* Switches layers while the figure `flash ? bytes : instructions` is above `budget`, each time
 * the one that gives up the least of the other figure per unit it saves, among the switches
 * that keep the other figure within `keep` (0: any). */
static void meet_budget(const mf_variant_cost *v, int n, const mf_variant_goal *g, int flash,
                        double budget, double keep, unsigned char *sparse)
{
    for (;;) {
        double instr;
        size_t bytes;
        totals(v, n, g, sparse, &instr, &bytes);
        if ((flash ? (double)bytes : instr) <= budget) return;
        const double other = flash ? instr : (double)bytes;
        int best = -1;
        double best_rate = 0;
        for (int i = 0; i < n; i++) {
            const int a = sparse[i], b = !a;
            const double saved = flash ? (double)v[i].bytes[a] - (double)v[i].bytes[b]
                                       : v[i].instr[a] - v[i].instr[b];
            const double lost = flash ? v[i].instr[b] - v[i].instr[a]
                                      : (double)v[i].bytes[b] - (double)v[i].bytes[a];
            if (saved <= 0 || (keep > 0 && other + lost > keep)) continue;
            const double rate = lost / saved;
            if (best < 0 || rate < best_rate) best = i, best_rate = rate;
        }
        if (best < 0) return; /* nothing left that saves: the caller reports the miss */
        sparse[best] = !sparse[best];
    }
}

/* Both budgets on a few layers: every choice, the best for the objective among those within
 * both (ties: the better other figure). 0 when none is. */
#define MF_VARIANTS_EXHAUSTIVE 20
static int search_all(const mf_variant_cost *v, int n, const mf_variant_goal *g,
                      unsigned char *sparse)
{
    int found = 0;
    double best_obj = 0, best_other = 0;
    unsigned char try[MF_VARIANTS_EXHAUSTIVE];
    for (unsigned long mask = 0; mask < 1ul << n; mask++) {
        for (int i = 0; i < n; i++)
            try[i] = (unsigned char)(mask >> i & 1);
        double instr;
        size_t bytes;
        totals(v, n, g, try, &instr, &bytes);
        if ((double)bytes > (double)g->flash_budget || instr > g->instr_budget) continue;
        const double obj = g->objective == MF_OBJECTIVE_FLASH ? (double)bytes : instr,
                     other = g->objective == MF_OBJECTIVE_FLASH ? instr : (double)bytes;
        if (found && (obj > best_obj || (obj == best_obj && other >= best_other))) continue;
        found = 1, best_obj = obj, best_other = other;
        for (int i = 0; i < n; i++)
            sparse[i] = try[i];
    }
    return found;
}

static void least(const mf_variant_cost *v, int n, const mf_variant_goal *g, double *instr,
                  size_t *bytes)
{
    *instr = g->fixed_instr;
    *bytes = g->fixed_bytes;
    for (int i = 0; i < n; i++) {
        *instr += v[i].instr[0] < v[i].instr[1] ? v[i].instr[0] : v[i].instr[1];
        *bytes += v[i].bytes[0] < v[i].bytes[1] ? v[i].bytes[0] : v[i].bytes[1];
    }
}

int mf_variants_choose(const mf_variant_cost *v, int n, const mf_variant_goal *g,
                       unsigned char *sparse, double *total_instr, size_t *total_bytes, char *why,
                       size_t size)
{
    for (int i = 0; i < n; i++)
        sparse[i] = (unsigned char)better(&v[i], g);
    const int both = g->flash_budget && g->instr_budget > 0;
    double instr, least_instr;
    size_t bytes, least_bytes;
    least(v, n, g, &least_instr, &least_bytes);
    if (both && n <= MF_VARIANTS_EXHAUSTIVE) {
        if (!search_all(v, n, g, sparse)) {
            snprintf(why, size,
                     "no choice of variants meets both budgets, %zu bytes of flash and %.0f "
                     "instructions per inference: the smallest takes %zu bytes, the fastest %.0f "
                     "instructions",
                     g->flash_budget, g->instr_budget, least_bytes, least_instr);
            return -1;
        }
    } else {
        /* the other figure's budget first (it is what the objective gives up), then the
         * objective's own (met already unless a margin or the first budget kept a better
         * variant), keeping the first */
        const int flash_first = g->objective == MF_OBJECTIVE_INSTRUCTIONS;
        const double fb = (double)g->flash_budget, ib = g->instr_budget;
        if (flash_first) {
            if (fb > 0) meet_budget(v, n, g, 1, fb, 0, sparse);
            if (ib > 0) meet_budget(v, n, g, 0, ib, fb, sparse);
        } else {
            if (ib > 0) meet_budget(v, n, g, 0, ib, 0, sparse);
            if (fb > 0) meet_budget(v, n, g, 1, fb, ib, sparse);
        }
    }
    totals(v, n, g, sparse, &instr, &bytes);
    if (total_instr) *total_instr = instr;
    if (total_bytes) *total_bytes = bytes;
    if (g->flash_budget && bytes > g->flash_budget) {
        snprintf(why, size,
                 "the flash budget of %zu bytes cannot be met: the smallest choice of variants "
                 "takes %zu bytes%s",
                 g->flash_budget, least_bytes,
                 both ? " (none found that also keeps the instruction budget)" : "");
        return -1;
    }
    if (g->instr_budget > 0 && instr > g->instr_budget) {
        snprintf(why, size,
                 "the instruction budget of %.0f per inference cannot be met: the fastest choice "
                 "of variants takes %.0f%s",
                 g->instr_budget, least_instr,
                 both ? " (none found that also keeps the flash budget)" : "");
        return -1;
    }
    return 0;
}

int mf_variants_total(const mf_variant_cost *v, int n, const mf_variant_goal *g,
                      const unsigned char *sparse, double *instr, size_t *bytes)
{
    totals(v, n, g, sparse, instr, bytes);
    return (g->flash_budget && *bytes > g->flash_budget) ||
                   (g->instr_budget > 0 && *instr > g->instr_budget)
               ? -1
               : 0;
}
