/* The deploy step's choice of weight variants per layer: measured in QEMU or from the cost
 * model, then mf_variants_choose (lower/variants.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mf_deploy.h"
#include "mf_fileio.h"
#include "mf_lower.h"
#include "mf_pipeline.h"

/* Vectors each profiling build runs (the measurement is exact: the mean is the same for every
 * vector of a static network, a few show any data dependence). */
#define VARIANT_PROFILE_VECTORS 3

/* A project of the model in dir with each node's weight variant as req says, a few vectors in
 * flash (for the measurements below). */
static int generate(const mf_deploy_request *r, const mf_deploy_inputs *in, const char *dir,
                    const unsigned char *req, mf_error *err)
{
    mf_deploy_options o = {0};
    o.out_dir = dir;
    o.vectors = in->vectors;
    o.n_vectors = in->n_vectors < VARIANT_PROFILE_VECTORS ? in->n_vectors : VARIANT_PROFILE_VECTORS;
    o.opt = r->opt;
    o.cflags = r->cflags;
    o.opt_field = r->opt_field ? r->opt_field : "--opt";
    o.cflags_field = "--cflags";
    o.no_fuse = r->no_fuse;
    o.force = 1; /* our own temporary folder, rebuilt per candidate */
    o.variants = req;
    return mf_deploy_generate(in->q, NULL, &o, NULL, err);
}

/* Each call's instructions with every variant-holding layer forced to `want`, from a profiling
 * build in dir, and the whole model_run's (*total). */
static int measure(const mf_deploy_request *r, const mf_deploy_inputs *in, const char *dir,
                   const mf_program *p, unsigned char want, double **instr, double *total,
                   mf_error *err)
{
    unsigned char *req = malloc((size_t)p->m->n_nodes);
    if (!req) return mf_error_set(err, "out of memory");
    memset(req, want, (size_t)p->m->n_nodes);
    int n = 0, rc = generate(r, in, dir, req, err);
    free(req);
    if (rc || mf_deploy_profile(dir, r->timeout_s, r->threads, instr, &n, total, err))
        return MF_ERR;
    if (n != p->n_calls) {
        free(*instr);
        *instr = NULL;
        return mf_error_set(err, "%s: the firmware has %d kernel calls, the host program %d", dir,
                            n, p->n_calls);
    }
    return MF_OK;
}

/* The lowering requests of a choice: per node, dense or sparse for the n layers call[i]. */
static void requests(const mf_program *p, const int *call, int n, const unsigned char *sparse,
                     unsigned char *req)
{
    memset(req, MF_VARIANT_AUTO, (size_t)p->m->n_nodes);
    for (int i = 0; i < n; i++)
        req[p->calls[call[i]].first] = sparse[i] ? MF_VARIANT_SPARSE : MF_VARIANT_DENSE;
}

/* Flash of the firmware with the choice `sparse` (built, not run). */
static int flash_of(const mf_deploy_request *r, const mf_deploy_inputs *in, const char *dir,
                    const mf_program *p, const int *call, int n, const unsigned char *sparse,
                    size_t *bytes, mf_error *err)
{
    unsigned char *req = malloc((size_t)p->m->n_nodes);
    if (!req) return mf_error_set(err, "out of memory");
    requests(p, call, n, sparse, req);
    int rc = generate(r, in, dir, req, err) || mf_deploy_flash(dir, r->threads, bytes, err);
    free(req);
    return rc ? MF_ERR : MF_OK;
}

/* Under the flash objective, the per-layer choice counts the layers' blobs only, but each
 * kernel a choice links costs code once (the sparse conv kernels about a kilobyte beside the
 * dense engine). So, from that choice: whenever switching every layer that runs one kernel to
 * its other variant (no longer linking that kernel) builds a smaller firmware within the
 * budgets, take it; until no switch does. Exact: every candidate is built and sized. */
static int refine_flash(const mf_deploy_request *r, const mf_deploy_inputs *in, const char *dir,
                        const mf_program *p, const mf_program *kernels[2], const int *call, int n,
                        const mf_variant_cost *cost, const mf_variant_goal *g,
                        unsigned char *sparse, FILE *log, mf_error *err)
{
    unsigned char *alt = malloc((size_t)n);
    if (!alt) return mf_error_set(err, "out of memory");
    size_t best;
    int rc = flash_of(r, in, dir, p, call, n, sparse, &best, err);
    for (int improved = !rc; improved && !rc;) {
        improved = 0;
        for (int i = 0; i < n && !improved && !rc; i++) {
            const char *k = kernels[sparse[i]]->calls[call[i]].kernel;
            int seen = 0; /* try each kernel once: from its first layer */
            for (int j = 0; j < i; j++)
                seen |= !strcmp(kernels[sparse[j]]->calls[call[j]].kernel, k);
            if (seen) continue;
            for (int j = 0; j < n; j++)
                alt[j] = sparse[j] ^ !strcmp(kernels[sparse[j]]->calls[call[j]].kernel, k);
            double instr;
            size_t bytes, flash;
            mf_variant_goal fixed = *g;
            fixed.margin = 1.0;
            if (mf_variants_total(cost, n, &fixed, alt, &instr, &bytes)) continue; /* budgets */
            if ((rc = flash_of(r, in, dir, p, call, n, alt, &flash, err))) break;
            if (flash < best) {
                if (log)
                    fprintf(log, "  without %s: firmware %zu B instead of %zu B\n", k, flash, best);
                best = flash;
                memcpy(sparse, alt, (size_t)n);
                improved = 1;
            }
        }
    }
    free(alt);
    return rc;
}

int mf_pipeline_variants(const mf_deploy_request *r, const mf_deploy_inputs *in, FILE *log,
                         unsigned char **variants, double **measured, mf_error *err)
{
    *variants = NULL;
    *measured = NULL;
    const int budgets = r->flash_budget || r->instr_budget > 0;
    if (r->instr_budget > 0 && !r->run)
        return mf_error_set(err, "an instruction budget needs --run (the instructions of each "
                                 "variant are measured in QEMU)");
    if (!in->q && !budgets) return MF_OK; /* float32: one variant per layer */
    mf_model *folded = NULL;
    if (!in->q && !(folded = mf_fold_model(in->model, err))) return MF_ERR;
    mf_program p;
    mf_lower_options lo = {.fuse_pools = !r->no_fuse, .keep_all = 1, .align = 8};
    if (mf_lower_program(in->q, folded, &lo, &p, err)) {
        mf_model_free(folded);
        return MF_ERR;
    }
    int rc = MF_ERR, n = 0, *call = malloc(sizeof(int) * (size_t)p.n_calls);
    mf_variant_cost *cost = malloc(sizeof *cost * (size_t)p.n_calls);
    unsigned char *sparse = malloc((size_t)p.n_calls);
    double *instr[2] = {NULL, NULL};
    char tmp[4096] = "";
    if (!call || !cost || !sparse) {
        mf_error_set(err, "out of memory");
        goto done;
    }
    mf_variant_goal g = {.objective = r->objective ? MF_OBJECTIVE_FLASH : MF_OBJECTIVE_INSTRUCTIONS,
                         .margin = MF_VARIANT_MODEL_MARGIN,
                         .instr_budget = r->instr_budget,
                         .flash_budget = r->flash_budget,
                         .fixed_bytes = p.weight_bytes};
    for (int k = 0; k < p.n_calls; k++) {
        const mf_call *c = &p.calls[k];
        if (!c->var.has_sparse) continue;
        call[n] = k;
        for (int v = 0; v < 2; v++) {
            cost[n].instr[v] = c->var.model_instr[v];
            cost[n].bytes[v] = c->var.bytes[v];
        }
        g.fixed_bytes -= c->var.bytes[c->sparse];
        n++;
    }
    if (!n && !budgets) {
        rc = MF_OK;
        goto done;
    }
    /* the output folder is checked before the long measurements, not only when written */
    if (mf_deploy_check_out_dir(r->out_dir, r->force, err)) goto done;
    if (r->run && n) {
        const char *base = getenv("TMPDIR");
        snprintf(tmp, sizeof tmp, "%s/mcuforge-variants-XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(tmp)) {
            mf_error_set(err,
                         "cannot create a temporary folder %s for the variants' profiling "
                         "builds",
                         tmp);
            tmp[0] = 0;
            goto done;
        }
        if (log)
            fprintf(log,
                    "measuring %d layer(s) with a sparse variant in QEMU: profiling builds with "
                    "them all dense, then all sparse (%s)...\n",
                    n, tmp),
                fflush(log);
        static const char *const names[2] = {"dense", "sparse"};
        double total[2];
        for (int v = 0; v < 2; v++) {
            char dir[4200];
            snprintf(dir, sizeof dir, "%s/%s", tmp, names[v]);
            if (measure(r, in, dir, &p, v ? MF_VARIANT_SPARSE : MF_VARIANT_DENSE, &instr[v],
                        &total[v], err))
                goto done;
        }
        g.margin = 1.0;
        /* the fixed part: model_run's instructions outside the variant layers (the other
         * layers, the calls between them), as the dense build measured them */
        g.fixed_instr = total[0];
        for (int i = 0; i < n; i++)
            g.fixed_instr -= instr[0][call[i]];
        for (int i = 0; i < n; i++)
            for (int v = 0; v < 2; v++)
                cost[i].instr[v] = instr[v][call[i]];
    }
    if (!instr[0]) g.instr_budget = 0; /* nothing measured: mf_pipeline_deploy checks the run */
    char why[512];
    double total_instr;
    size_t total_bytes;
    if (mf_variants_choose(cost, n, &g, sparse, &total_instr, &total_bytes, why, sizeof why)) {
        mf_error_set(err, "%s", why);
        goto done;
    }
    if (g.objective == MF_OBJECTIVE_FLASH && instr[0]) {
        mf_program forced[2];
        const mf_program *kernels[2] = {&forced[0], &forced[1]};
        int lowered = 0;
        for (; lowered < 2; lowered++) {
            mf_lower_options fo = lo;
            unsigned char *req = malloc((size_t)p.m->n_nodes);
            if (req)
                memset(req, lowered ? MF_VARIANT_SPARSE : MF_VARIANT_DENSE, (size_t)p.m->n_nodes);
            fo.variants = req;
            int bad = !req || mf_lower_program(in->q, NULL, &fo, &forced[lowered], err);
            free(req);
            if (bad) {
                if (!req) mf_error_set(err, "out of memory");
                break;
            }
        }
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/flash", tmp);
        int bad = lowered < 2 ||
                  refine_flash(r, in, dir, &p, kernels, call, n, cost, &g, sparse, log, err);
        while (lowered-- > 0)
            mf_program_free(&forced[lowered]);
        if (bad) goto done;
        mf_variants_total(cost, n, &g, sparse, &total_instr, &total_bytes);
    }
    *variants = calloc((size_t)p.m->n_nodes, 1);
    *measured = r->run && n ? calloc(2 * (size_t)p.m->n_nodes, sizeof **measured) : NULL;
    if (!*variants || (r->run && n && !*measured)) {
        mf_error_set(err, "out of memory");
        goto done;
    }
    for (int i = 0; i < n; i++) {
        const mf_call *c = &p.calls[call[i]];
        (*variants)[c->first] = sparse[i] ? MF_VARIANT_SPARSE : MF_VARIANT_DENSE;
        if (*measured)
            for (int v = 0; v < 2; v++)
                (*measured)[2 * c->first + v] = cost[i].instr[v];
        if (log) {
            char name[2 * MF_NAME_MAX];
            mf_program_call_label(&p, c, name, sizeof name);
            fprintf(
                log,
                "  %-16s dense %9.0f instructions %7zu B | sparse %9.0f instructions %7zu B → %s\n",
                name, cost[i].instr[0], cost[i].bytes[0], cost[i].instr[1], cost[i].bytes[1],
                sparse[i] ? "sparse" : "dense");
        }
    }
    if (log) {
        fprintf(log, "weight variants chosen for %s (%s): weights %zu B",
                g.objective == MF_OBJECTIVE_FLASH ? "flash" : "instructions",
                *measured ? "measured in QEMU" : "the cost model's figures", total_bytes);
        if (*measured)
            fprintf(log, ", about %.0f instructions per inference (the profiling builds')",
                    total_instr);
        fprintf(log, "\n");
    }
    rc = MF_OK;
done:
    if (tmp[0] && rc) { /* kept for a look at what failed */
        char more[4300];
        snprintf(more, sizeof more, " (the variants' projects are kept in %s)", tmp);
        if (strlen(err->message) + strlen(more) < sizeof err->message) strcat(err->message, more);
    } else if (tmp[0]) {
        mf_error e;
        if (mf_file_remove_tree(tmp, &e) && log) fprintf(log, "warning: %s\n", e.message);
    }
    if (rc) {
        free(*variants);
        free(*measured);
        *variants = NULL;
        *measured = NULL;
    }
    free(instr[0]);
    free(instr[1]);
    free(call);
    free(cost);
    free(sparse);
    mf_program_free(&p);
    mf_model_free(folded);
    return rc;
}
