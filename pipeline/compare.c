/* mcuforge compare (mf_compare.h): float reference, host integer program and firmware, call by
 * call of the lowered program. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "deploy_util.h" /* mf_sb */
#include "mf_compare.h"
#include "mf_deploy.h"
#include "mf_fileio.h"
#include "mf_model_io.h"
#include "mf_runtime.h"
#include "mf_train.h"

#define FW_ELF "firmware_dump.elf"

void mf_compare_result_free(mf_compare_result *r)
{
    if (!r) return;
    free(r->layers);
    memset(r, 0, sizeof *r);
}

/* one raw output value of the program: integers as they are, float32 as its bit pattern */
static int64_t raw_value(const void *buf, int bits, size_t i)
{
    if (bits == 8) return ((const int8_t *)buf)[i];
    if (bits == 16) return ((const int16_t *)buf)[i];
    uint32_t u;
    memcpy(&u, (const char *)buf + 4 * i, 4);
    return u;
}

static double float_of_bits(int64_t v)
{
    uint32_t u = (uint32_t)v;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* The firmware's "D <vector> <call> <count> <values>" lines into tgt (n_samples × per-sample
 * values, call k at off[k]); every (vector, call) must appear once with the right count. */
static int parse_dump(const char *out, const mf_program *p, const size_t *off, size_t per_sample,
                      int n_samples, int64_t *tgt, mf_error *err)
{
    char *seen = calloc((size_t)n_samples * (size_t)p->n_calls, 1);
    if (!seen) return mf_error_set(err, "out of memory");
    int rc = MF_OK;
    const char *line = out;
    while (line && *line && rc == MF_OK) {
        const char *eol = strchr(line, '\n');
        if (!strncmp(line, "D ", 2)) {
            char *q;
            unsigned long v = strtoul(line + 2, &q, 10), k = strtoul(q, &q, 10),
                          n = strtoul(q, &q, 10);
            if (v >= (unsigned long)n_samples || k >= (unsigned long)p->n_calls ||
                n != mf_shape_size(&p->m->nodes[p->calls[k].node].out_shape) ||
                seen[v * (size_t)p->n_calls + k]) {
                rc = mf_error_set(err,
                                  "%s: malformed or unexpected dump line (vector %lu, call %lu, "
                                  "%lu values)",
                                  FW_ELF, v, k, n);
                break;
            }
            seen[v * (size_t)p->n_calls + k] = 1;
            int64_t *dst = tgt + v * per_sample + off[k];
            for (unsigned long i = 0; i < n; i++) {
                char *e;
                long long x = p->bits == 32 ? (long long)strtoull(q, &e, 16) : strtoll(q, &e, 10);
                if (e == q || (eol && e > eol)) {
                    rc = mf_error_set(err, "%s: dump line of vector %lu, call %lu is truncated",
                                      FW_ELF, v, k);
                    break;
                }
                dst[i] = x;
                q = e;
            }
        }
        line = eol ? eol + 1 : NULL;
    }
    for (size_t i = 0; rc == MF_OK && i < (size_t)n_samples * (size_t)p->n_calls; i++)
        if (!seen[i])
            rc = mf_error_set(err, "%s printed no output for vector %zu, call %zu", FW_ELF,
                              i / (size_t)p->n_calls, i % (size_t)p->n_calls);
    free(seen);
    return rc;
}

/* Generates the firmware project from the untouched lowering, builds firmware_dump.elf, runs it
 * and parses every call's output. */
static int run_target(const mf_qmodel *q, const mf_model *m, const mf_program *p,
                      const mf_compare_options *o, const size_t *off, size_t per_sample,
                      int64_t *tgt, mf_error *err)
{
    if (!o->fw_dir || !*o->fw_dir) return mf_error_set(err, "compare: no firmware folder given");
    mf_deploy_options d = {0};
    d.out_dir = o->fw_dir;
    d.vectors = o->samples;
    d.n_vectors = o->n_samples;
    d.stream = 1;
    d.cflags = o->cflags;
    d.cflags_field = "cflags";
    d.no_fuse = o->no_fuse;
    mf_deploy_summary sum;
    if (mf_deploy_generate(q, q ? NULL : m, &d, &sum, err)) return MF_ERR;
    if (sum.n_layers != p->n_calls)
        return mf_error_set(err, "%s: the firmware has %d kernel calls, the host program %d",
                            o->fw_dir, sum.n_layers, p->n_calls);
    if (o->log) fprintf(o->log, "building %s/%s...\n", o->fw_dir, FW_ELF), fflush(o->log);
    if (mf_deploy_make_target(o->fw_dir, FW_ELF, o->jobs, err)) return MF_ERR;
    if (o->log)
        fprintf(o->log, "running %d samples in QEMU, every call's output dumped...\n",
                o->n_samples),
            fflush(o->log);
    char *out = NULL;
    if (mf_deploy_run_elf(o->fw_dir, FW_ELF, o->timeout_s, &out, err)) return MF_ERR;
    int rc = parse_dump(out, p, off, per_sample, o->n_samples, tgt, err);
    free(out);
    return rc;
}

int mf_compare_run(const mf_qmodel *q, const mf_model *m, const mf_compare_options *o,
                   mf_compare_result *r, mf_error *err)
{
    memset(r, 0, sizeof *r);
    if (!o || !o->samples || o->n_samples < 1)
        return mf_error_set(err, "compare: at least one sample is needed");
    if (!q && !m) return mf_error_set(err, "compare: no model given");
    mf_model *folded = NULL;
    mf_program p;
    memset(&p, 0, sizeof p);
    mf_workspace *ws = NULL;
    void *arena = NULL;
    float *xf = NULL;
    size_t *off = NULL;
    int64_t *tgt = NULL;
    double *sig = NULL, *noise = NULL;
    int rc = MF_ERR;
    if (!q && !(folded = mf_fold_model(m, err))) return MF_ERR;
    /* the firmware's lowering (fused as deploy fuses), every tensor kept to be read after */
    mf_lower_options lo = {.fuse_pools = !o->no_fuse, .keep_all = 1, .align = 8};
    if (mf_lower_program(q, folded, &lo, &p, err)) goto done;
    if (o->host_hook) o->host_hook(&p, o->hook_ctx);
    const mf_model *g = p.m;
    size_t in = mf_model_input_size(g), per_sample = 0;
    r->bits = p.bits;
    r->n_samples = o->n_samples;
    r->target = o->target;
    r->first_diff = -1;
    r->n_layers = p.n_calls;
    r->layers = calloc((size_t)p.n_calls, sizeof *r->layers);
    off = calloc((size_t)p.n_calls, sizeof *off);
    sig = calloc((size_t)p.n_calls, sizeof *sig);
    noise = calloc((size_t)p.n_calls, sizeof *noise);
    arena = calloc(1, p.plan.arena ? p.plan.arena : 1);
    xf = malloc(sizeof(float) * in);
    if (!r->layers || !off || !sig || !noise || !arena || !xf) {
        mf_error_set(err, "out of memory");
        goto done;
    }
    for (int k = 0; k < p.n_calls; k++) {
        mf_compare_layer *L = &r->layers[k];
        const mf_call *c = &p.calls[k];
        L->call = k;
        L->node = c->node;
        mf_program_call_label(&p, c, L->name, sizeof L->name);
        snprintf(L->kernel, sizeof L->kernel, "%s", c->kernel);
        L->count = mf_shape_size(&g->nodes[c->node].out_shape);
        off[k] = per_sample;
        per_sample += L->count;
    }
    if (o->target) {
        tgt = malloc(sizeof(int64_t) * (per_sample ? per_sample : 1) * (size_t)o->n_samples);
        if (!tgt) {
            mf_error_set(err, "out of memory for %d samples of every layer's output", o->n_samples);
            goto done;
        }
        if (run_target(q, m, &p, o, off, per_sample, tgt, err)) goto done;
    }
    if (!(ws = mf_workspace_new(g, 1, 0, err))) goto done;
    for (int v = 0; v < o->n_samples; v++) {
        const float *raw = o->samples + (size_t)v * in;
        mf_program_input(&p, raw, arena);
        mf_program_run(&p, arena);
        mf_rt_input_f32(in, raw, p.pre_mean, p.pre_std, p.pre_n, xf);
        mf_forward(ws, g->params, g->state, xf, 1, 0, 0, 0);
        for (int k = 0; k < p.n_calls; k++) {
            mf_compare_layer *L = &r->layers[k];
            const void *h = (const char *)arena + p.calls[k].out_off;
            const float *fo = mf_workspace_output(ws, L->node);
            int n_out = q ? q->nodes[L->node].n_out : 0;
            const int64_t *t = tgt ? tgt + (size_t)v * per_sample + off[k] : NULL;
            for (size_t i = 0; i < L->count; i++) {
                int64_t hv = raw_value(h, p.bits, i);
                double hd = p.bits == 32 ? float_of_bits(hv) : ldexp((double)hv, -n_out);
                double d = hd - fo[i];
                sig[k] += (double)fo[i] * fo[i];
                noise[k] += d * d;
                if (!t) continue;
                L->total++;
                if (t[i] == hv) {
                    L->identical++;
                    continue;
                }
                double diff =
                    p.bits == 32 ? fabs(float_of_bits(t[i]) - hd) : fabs((double)t[i] - (double)hv);
                if (!(diff <= L->max_abs_diff)) L->max_abs_diff = diff; /* NaN counts */
            }
        }
    }
    for (int k = 0; k < p.n_calls; k++) {
        mf_compare_layer *L = &r->layers[k];
        L->sqnr_db = noise[k] > 0 ? 10.0 * log10(sig[k] / noise[k]) : INFINITY;
        if (o->target && L->identical != L->total && r->first_diff < 0) r->first_diff = k;
    }
    rc = MF_OK;
done:
    if (rc) mf_compare_result_free(r);
    free(tgt);
    free(off);
    free(sig);
    free(noise);
    free(arena);
    free(xf);
    mf_workspace_free(ws);
    mf_program_free(&p);
    mf_model_free(folded);
    return rc;
}

void mf_compare_print(const mf_compare_result *r, FILE *f)
{
    int wn = 5, wk = 6;
    for (int k = 0; k < r->n_layers; k++) {
        int a = (int)strlen(r->layers[k].name), b = (int)strlen(r->layers[k].kernel);
        if (a > wn) wn = a;
        if (b > wk) wk = b;
    }
    fprintf(f,
            "per layer (%s, %d samples): SQNR of the host's %s program against the float model "
            "(training engine)%s\n",
            r->bits == 32   ? "float32"
            : r->bits == 16 ? "int16"
                            : "int8",
            r->n_samples, r->bits == 32 ? "float32" : "integer",
            r->target ? "; host vs target (QEMU, firmware_dump.elf)" : "");
    fprintf(f, "  %-3s %-*s %-*s %8s %9s", "#", wn, "layer", wk, "kernel", "values", "SQNR dB");
    if (r->target) fprintf(f, " %10s %10s", "identical", "max|diff|");
    fprintf(f, "\n");
    for (int k = 0; k < r->n_layers; k++) {
        const mf_compare_layer *L = &r->layers[k];
        fprintf(f, "  %-3d %-*s %-*s %8zu %9.1f", k, wn, L->name, wk, L->kernel, L->count,
                L->sqnr_db);
        if (r->target)
            fprintf(f, " %9.2f%% %10g",
                    L->total ? 100.0 * (double)L->identical / (double)L->total : 100.0,
                    L->max_abs_diff);
        fprintf(f, "\n");
    }
    if (!r->target)
        fprintf(f, "host vs target: not run (--target)\n");
    else if (r->first_diff < 0)
        fprintf(f, "host vs target: all layers identical (%d samples)\n", r->n_samples);
    else
        fprintf(f, "host vs target: first differing layer: call %d (%s, %s)\n", r->first_diff,
                r->layers[r->first_diff].name, r->layers[r->first_diff].kernel);
}

int mf_compare_write_csv(const mf_compare_result *r, const char *path, mf_error *err)
{
    mf_sb b = {0};
    mf_sb_printf(&b, "call,layer,kernel,values,sqnr_db,identical_share,max_abs_diff\n");
    for (int k = 0; k < r->n_layers; k++) {
        const mf_compare_layer *L = &r->layers[k];
        mf_sb_printf(&b, "%d,%s,%s,%zu,", k, L->name, L->kernel, L->count);
        if (isinf(L->sqnr_db))
            mf_sb_printf(&b, "inf,");
        else
            mf_sb_printf(&b, "%.4f,", L->sqnr_db);
        if (r->target)
            mf_sb_printf(&b, "%.6f,%g\n", L->total ? (double)L->identical / (double)L->total : 1.0,
                         L->max_abs_diff);
        else
            mf_sb_printf(&b, ",\n");
    }
    if (b.oom) {
        mf_sb_free(&b);
        return mf_error_set(err, "out of memory writing %s", path);
    }
    int rc = mf_file_write_bytes(path, b.p, b.len, err);
    mf_sb_free(&b);
    return rc;
}

/* ---- the plot (mf_plot_png: no name enters the script) ---- */

#define PLOT_INF_DB 150.0 /* where a layer without error is drawn */

static const char plot_script[] =
    "set terminal pngcairo size 1000,450 noenhanced\n"
    "set output '" MF_PLOT_IMAGE "'\n"
    "set datafile separator ','\n"
    "set title 'SQNR per layer (integer program vs float; no error drawn at 150 dB)'\n"
    "set ylabel 'SQNR (dB)'\nset xlabel 'kernel call'\nset grid ytics\n"
    "set style fill solid 0.6\nset boxwidth 0.7\nset xtics rotate by -45\nset yrange [0:*]\n"
    "plot '" MF_PLOT_DATA "' using 1:3:xtic(2) with boxes notitle\n";

int mf_compare_plot(const mf_compare_result *r, const char *png_path, mf_error *err)
{
    mf_sb b = {0};
    for (int k = 0; k < r->n_layers; k++) {
        double s = r->layers[k].sqnr_db;
        mf_sb_printf(&b, "%d,%s,%.4f\n", k, r->layers[k].name,
                     isinf(s) || s > PLOT_INF_DB ? PLOT_INF_DB
                     : s < 0                     ? 0.0
                                                 : s);
    }
    int rc = b.oom ? mf_error_set(err, "out of memory")
                   : mf_plot_png(plot_script, NULL, b.p, b.len, png_path, err);
    mf_sb_free(&b);
    return rc;
}

/* ---- the CLI's compare ---- */

int mf_pipeline_compare(const mf_compare_request *r, FILE *log, mf_error *err)
{
    const char *split = r->split ? r->split : "test";
    if (strcmp(split, "test") && strcmp(split, "val") && strcmp(split, "train"))
        return mf_error_set(err, "--split '%s': expected test, val or train", split);
    if (!r->out_dir || !*r->out_dir) return mf_error_set(err, "compare: no output folder given");
    if (mf_deploy_check_flags("--cflags", r->deploy.cflags, err)) return MF_ERR;
    mf_deploy_request dr = r->deploy;
    dr.n_vectors = r->n_samples > 0 ? r->n_samples : 5;
    dr.all_test = 0;
    mf_deploy_inputs in;
    if (mf_pipeline_deploy_inputs(&dr, log, &in, err)) return MF_ERR;
    mf_dataset *reloaded = NULL;
    mf_compare_result res;
    memset(&res, 0, sizeof res);
    int rc = MF_ERR;
    const float *samples = in.vectors;
    int n = in.n_vectors;
    if (strcmp(split, "test")) {
        if (!in.data) {
            mf_error_set(err, "%s has no embedded config: no dataset for --split %s", dr.model_path,
                         split);
            goto done;
        }
        const mf_dataset *d = in.data;
        /* quantizing here normalised the loaded splits in place: load them raw again */
        if (in.quantized_here) {
            if (mf_dataset_load(&in.cfg->dataset, NULL, &reloaded, err)) goto done;
            d = reloaded;
        }
        int avail = !strcmp(split, "train") ? d->n_train : d->n_val;
        if (avail < 1) {
            mf_error_set(err, "dataset %s has no %s samples%s", d->name, split,
                         !strcmp(split, "val") ? " (set dataset.validation)" : "");
            goto done;
        }
        n = dr.n_vectors < avail ? dr.n_vectors : avail;
        samples = !strcmp(split, "train") ? d->x_train : d->x_val;
    }
    if (mf_file_make_dirs(r->out_dir, err)) goto done;
    char fw[4200], path[4200];
    snprintf(fw, sizeof fw, "%s/firmware", r->out_dir);
    mf_compare_options o = {0};
    o.samples = samples;
    o.n_samples = n;
    o.target = r->target;
    o.fw_dir = fw;
    o.timeout_s = dr.timeout_s;
    o.jobs = dr.threads;
    o.no_fuse = dr.no_fuse;
    o.cflags = dr.cflags;
    o.log = log;
    if (log) fprintf(log, "comparing on %d samples of the %s split\n", n, split);
    if (mf_compare_run(in.q, in.q ? NULL : in.model, &o, &res, err)) goto done;
    if (log) mf_compare_print(&res, log);
    snprintf(path, sizeof path, "%s/compare.csv", r->out_dir);
    if (mf_compare_write_csv(&res, path, err)) goto done;
    snprintf(path, sizeof path, "%s/compare.png", r->out_dir);
    if (mf_compare_plot(&res, path, err)) goto done;
    if (log) fprintf(log, "written %s/compare.csv and %s/compare.png\n", r->out_dir, r->out_dir);
    rc = MF_OK;
done:
    mf_compare_result_free(&res);
    mf_dataset_free(reloaded);
    mf_deploy_inputs_free(&in);
    return rc;
}
