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
 * the one that gives up the least of the other figure per unit it saves. */
static void meet_budget(const mf_variant_cost *v, int n, const mf_variant_goal *g, int flash,
                        double budget, unsigned char *sparse)
{
    for (;;) {
        double instr;
        size_t bytes;
        totals(v, n, g, sparse, &instr, &bytes);
        if ((flash ? (double)bytes : instr) <= budget) return;
        int best = -1;
        double best_rate = 0;
        for (int i = 0; i < n; i++) {
            const int a = sparse[i], b = !a;
            const double saved = flash ? (double)v[i].bytes[a] - (double)v[i].bytes[b]
                                       : v[i].instr[a] - v[i].instr[b];
            const double lost = flash ? v[i].instr[b] - v[i].instr[a]
                                      : (double)v[i].bytes[b] - (double)v[i].bytes[a];
            if (saved <= 0) continue;
            const double rate = lost / saved;
            if (best < 0 || rate < best_rate) best = i, best_rate = rate;
        }
        if (best < 0) return; /* nothing left that saves: the caller reports the miss */
        sparse[best] = !sparse[best];
    }
}

int mf_variants_choose(const mf_variant_cost *v, int n, const mf_variant_goal *g,
                       unsigned char *sparse, double *total_instr, size_t *total_bytes, char *why,
                       size_t size)
{
    for (int i = 0; i < n; i++)
        sparse[i] = (unsigned char)better(&v[i], g);
    /* the other figure's budget first (it is what the objective gives up), then the
     * objective's own (met already unless a margin or the first budget kept a better variant) */
    const int other_is_flash = g->objective == MF_OBJECTIVE_INSTRUCTIONS;
    for (int pass = 0; pass < 2; pass++) {
        const int flash = pass == 0 ? other_is_flash : !other_is_flash;
        if (flash && g->flash_budget) meet_budget(v, n, g, 1, (double)g->flash_budget, sparse);
        if (!flash && g->instr_budget > 0) meet_budget(v, n, g, 0, g->instr_budget, sparse);
    }
    double instr;
    size_t bytes;
    totals(v, n, g, sparse, &instr, &bytes);
    if (total_instr) *total_instr = instr;
    if (total_bytes) *total_bytes = bytes;
    if (g->flash_budget && bytes > g->flash_budget) {
        size_t least = g->fixed_bytes;
        for (int i = 0; i < n; i++)
            least += v[i].bytes[0] < v[i].bytes[1] ? v[i].bytes[0] : v[i].bytes[1];
        snprintf(why, size,
                 "the flash budget of %zu bytes cannot be met: the smallest choice of variants "
                 "takes %zu bytes%s",
                 g->flash_budget, least,
                 least < bytes ? " (more with the instruction budget kept)" : "");
        return -1;
    }
    if (g->instr_budget > 0 && instr > g->instr_budget) {
        double least = g->fixed_instr;
        for (int i = 0; i < n; i++)
            least += v[i].instr[0] < v[i].instr[1] ? v[i].instr[0] : v[i].instr[1];
        snprintf(why, size,
                 "the instruction budget of %.0f per inference cannot be met: the fastest choice "
                 "of variants takes %.0f%s",
                 g->instr_budget, least, least < instr ? " (more with the flash budget kept)" : "");
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
