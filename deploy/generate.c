/* The firmware project (DESIGN.md §7, mf_deploy.h for the files): lowers the model (lower/),
 * prints the program as C (emit.c), picks the runtime sources it calls (runtime_files.c),
 * computes the expected outputs by running the same program on the host, and writes the files.
 * Everything is checked and generated in memory first; files are written only once the whole
 * project is known to be emittable. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deploy_util.h"
#include "mf_fileio.h"
#include "mf_deploy.h"
#include "emit.h"
#include "mf_lower.h"
#include "runtime_files.h"

#ifndef MF_SOURCE_DIR
#define MF_SOURCE_DIR "."
#endif
#ifndef MF_VERSION
#define MF_VERSION "unknown"
#endif

static const char *source_dir(void)
{
    return mf_deploy_data_dir(MF_SOURCE_DIR);
}

/* ---- files ---- */

static int write_text(const char *dir, const char *name, const mf_sb *b, mf_error *err)
{
    char path[4500];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return mf_file_write_bytes(path, b->p ? b->p : "", b->len, err);
}

static int copy_template(const char *dir, const char *name, mf_error *err)
{
    char src[4500], dst[4500];
    snprintf(src, sizeof src, "%s/deploy/board/%s", source_dir(), name);
    snprintf(dst, sizeof dst, "%s/%s", dir, name);
    char *data;
    size_t n;
    if (mf_read_file(src, &data, &n, (size_t)1 << 20, err)) return MF_ERR;
    int rc = mf_file_write_bytes(dst, data, n, err);
    free(data);
    return rc;
}

/* ---- the output folder ---- */

/* 1 when dir holds a deploy.manifest written by deploy ("mcuforge-deploy " first). */
static int is_deploy_project(const char *dir)
{
    char path[4500], head[32] = {0};
    snprintf(path, sizeof path, "%s/deploy.manifest", dir);
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t n = fread(head, 1, sizeof head - 1, f);
    fclose(f);
    head[n] = 0;
    return !strncmp(head, "mcuforge-deploy ", 16);
}

/* 1 when the folder dir has no entries (or cannot be listed: the rename will tell). */
static int is_empty_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *de;
    int empty = 1;
    while (empty && (de = readdir(d)))
        empty = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
    closedir(d);
    return empty;
}

/* Whether the project may go to dir: a new name, an empty folder, a project of deploy's own
 * (deploy.manifest), or with force any folder. */
int mf_deploy_check_out_dir(const char *dir, int force, mf_error *err)
{
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno == ENOENT) return MF_OK;
        return mf_error_set(err, "cannot use the output folder %s: %s", dir, strerror(errno));
    }
    if (!S_ISDIR(st.st_mode))
        return mf_error_set(err, "the output folder %s exists and is not a folder", dir);
    if (force || is_empty_dir(dir) || is_deploy_project(dir)) return MF_OK;
    return mf_error_set(err,
                        "the output folder %s is not empty and is not a firmware project of "
                        "mcuforge deploy (no deploy.manifest): it is left as it is; name a new "
                        "or empty folder, or force (--force) to replace the whole folder",
                        dir);
}

/* The sibling folder the project is written into before it replaces out_dir. */
typedef struct out_folder {
    char tmp[4096]; /* "" when there is none (yet, or any more) */
} out_folder;

static int prepare_out(const mf_deploy_options *o, out_folder *out, mf_error *err)
{
    char parent[3800];
    size_t len = strlen(o->out_dir);
    while (len > 1 && o->out_dir[len - 1] == '/')
        len--;
    if (len >= sizeof parent)
        return mf_error_set(err, "output folder name too long: %s", o->out_dir);
    memcpy(parent, o->out_dir, len);
    parent[len] = 0;
    char *slash = strrchr(parent, '/');
    const char *base = slash ? slash + 1 : parent;
    if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
        return mf_error_set(err,
                            "the output folder %s must end in a name of its own (not '/', '.' "
                            "or '..')",
                            o->out_dir);
    char name[256];
    snprintf(name, sizeof name, ".%.200s.deploy-tmp.%ld", base, (long)getpid());
    if (slash == parent)
        parent[1] = 0; /* "/name" */
    else if (slash)
        *slash = 0;
    else
        snprintf(parent, sizeof parent, ".");
    if (mf_file_make_dirs(parent, err)) return MF_ERR;
    snprintf(out->tmp, sizeof out->tmp, "%s/%s", strcmp(parent, "/") ? parent : "", name);
    /* a leftover of an earlier process with this pid */
    if (mf_file_remove_tree(out->tmp, err)) {
        out->tmp[0] = 0;
        return MF_ERR;
    }
    if (mkdir(out->tmp, 0777) != 0) {
        mf_error_set(err, "cannot create the folder %s: %s", out->tmp, strerror(errno));
        out->tmp[0] = 0;
        return MF_ERR;
    }
    return MF_OK;
}

/* ---- the entry point ---- */

/* The output's fractional bits (deploy.manifest "output_n"): raw outputs · 2^−n are the logits
 * (outputs.csv); 0 for float32. */
static int output_frac_bits(const mf_program *g)
{
    return g->q ? g->q->nodes[g->m->output].n_out : 0;
}

int mf_deploy_generate(const mf_qmodel *q, const mf_model *model, const mf_deploy_options *o,
                       mf_deploy_summary *summary, mf_error *err)
{
    if (!o || !o->out_dir || !*o->out_dir)
        return mf_error_set(err, "deploy: no output folder given");
    if (!q && !model) return mf_error_set(err, "deploy: no model given");
    if (o->n_vectors < 1 || !o->vectors)
        return mf_error_set(err, "deploy: at least one test vector is needed (got %d)",
                            o->n_vectors);
    if (mf_deploy_check_flags(o->opt_field ? o->opt_field : "opt", o->opt, err) ||
        mf_deploy_check_flags(o->cflags_field ? o->cflags_field : "cflags", o->cflags, err) ||
        mf_deploy_check_out_dir(o->out_dir, o->force, err))
        return MF_ERR;
    mf_program g;
    memset(&g, 0, sizeof g);
    mf_model *folded = NULL;
    rt_file *rt = NULL;
    int n_rt = 0, rc = MF_ERR;
    mf_sb weights = {0}, decl = {0}, model_c = {0}, model_h = {0}, vec_h = {0}, vec_c = {0},
          config = {0}, manifest = {0}, plan_txt = {0}, expected = {0};
    void *arena = NULL;
    out_folder out = {{0}};
    FILE *planf = NULL;
    char *plan_buf = NULL;
    size_t plan_len = 0;
    if (!q) {
        folded = mf_fold_model(model, err);
        if (!folded) return MF_ERR;
    }
    /* 1. the lowered program: every layer and name is checked before anything is written */
    mf_lower_options lo = {.fuse_pools = !o->no_fuse,
                           .keep_all = 0,
                           .align = o->align > 0 ? o->align : 8,
                           .variants = o->variants};
    if (mf_lower_program(q, folded, &lo, &g, err)) goto done;
    const mf_model *m = g.m;
    for (int c = 0; c < m->n_class_names && m->class_names; c++)
        if (strlen(m->class_names[c]) >= MF_LABEL_MAX) {
            mf_error_set(err, "class name %d is too long", c);
            goto done;
        }
    /* 2. code, in memory */
    if (mf_emit_weights(&g, &weights, &decl)) {
        mf_error_set(err, "out of memory generating the weights");
        goto done;
    }
    if (mf_emit_model_c(&g, &decl, &model_c, err)) goto done;
    /* budgets known before building: the weights alone, the arena alone, vectors in flash */
    size_t in_size = mf_model_input_size(m), out_size = mf_model_output_size(m);
    size_t vec_bytes = o->stream ? 0 : (size_t)o->n_vectors * in_size * sizeof(float);
    if (g.weight_bytes > MF_DEPLOY_FLASH_BYTES) {
        mf_error_set(err,
                     "flash budget (1 MiB = %u bytes) exceeded by %zu bytes: the weights alone "
                     "need %zu bytes",
                     MF_DEPLOY_FLASH_BYTES, g.weight_bytes - MF_DEPLOY_FLASH_BYTES, g.weight_bytes);
        goto done;
    }
    if (g.plan.arena + MF_DEPLOY_MIN_STACK_BYTES > MF_DEPLOY_RAM_BYTES) {
        mf_error_set(err,
                     "RAM budget (128 KiB = %u bytes) exceeded by %zu bytes: the arena alone "
                     "needs %zu bytes (activations and kernel scratch, the largest scratch %zu "
                     "bytes; lower bound %zu) plus a %u-byte minimum stack",
                     MF_DEPLOY_RAM_BYTES,
                     g.plan.arena + MF_DEPLOY_MIN_STACK_BYTES - MF_DEPLOY_RAM_BYTES, g.plan.arena,
                     g.scratch_peak, g.plan.lower_bound, MF_DEPLOY_MIN_STACK_BYTES);
        goto done;
    }
    if (g.weight_bytes + vec_bytes > MF_DEPLOY_FLASH_BYTES) {
        mf_error_set(err,
                     "flash budget (1 MiB) exceeded by %zu bytes: %d test vectors in flash take "
                     "%zu bytes beside %zu bytes of weights; stream them from the host instead "
                     "(--stream or --all-test) or embed fewer",
                     g.weight_bytes + vec_bytes - MF_DEPLOY_FLASH_BYTES, o->n_vectors, vec_bytes,
                     g.weight_bytes);
        goto done;
    }
    /* the runtime sources the calls need */
    if (mf_rt_files_load(source_dir(), &rt, &n_rt, err)) goto done;
    for (int k = 0; k < g.n_calls; k++) {
        int d = mf_rt_file_defining(rt, n_rt, g.calls[k].kernel);
        if (d < 0) {
            mf_error_set(err, "runtime kernel %s is not defined in %s/runtime", g.calls[k].kernel,
                         source_dir());
            goto done;
        }
        mf_rt_mark_uses(rt, n_rt, d);
    }
    {
        int d = mf_rt_file_defining(rt, n_rt, g.input_kernel);
        if (d < 0) {
            mf_error_set(err, "runtime function %s is not defined in %s/runtime", g.input_kernel,
                         source_dir());
            goto done;
        }
        mf_rt_mark_uses(rt, n_rt, d);
    }
    /* hash of what is deployed */
    uint64_t h = mf_hash_fnv1a64(MF_FNV1A64_INIT, model_c.p, model_c.len);
    h = mf_hash_fnv1a64(h, weights.p, weights.len);
    char hash[17];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)h);
    mf_emit_model_h(&g, hash, &model_h);
    /* vectors: raw inputs; expected: the host's outputs through the same kernels */
    mf_sb_printf(&vec_h,
                 "/* vectors.h — generated by mcuforge deploy: the test vectors (raw inputs, "
                 "before the\n * model's preprocessing) %s. */\n#ifndef VECTORS_H\n#define "
                 "VECTORS_H\n\n#include \"model.h\"\n\n#define MF_N_VECTORS %d\n"
                 "#define MF_VECTORS_STREAMED %d\n",
                 o->stream ? "streamed from vectors.bin (float32 little-endian, one sample "
                             "after another)"
                           : "in flash (vectors.c)",
                 o->n_vectors, o->stream ? 1 : 0);
    if (!o->stream) {
        mf_sb_printf(&vec_h, "extern const float mf_vectors[MF_N_VECTORS][MODEL_INPUT_SIZE];\n");
        mf_sb_printf(
            &vec_c,
            "/* vectors.c — generated by mcuforge deploy: %d raw test inputs in flash. */\n"
            "#include \"vectors.h\"\n\nconst float mf_vectors[MF_N_VECTORS][MODEL_INPUT_"
            "SIZE] = {\n",
            o->n_vectors);
        for (int v = 0; v < o->n_vectors; v++) {
            mf_sb_printf(&vec_c, "  {");
            mf_emit_float_values(&vec_c, o->vectors + (size_t)v * in_size, in_size, "    ");
            mf_sb_printf(&vec_c, "\n  },\n");
        }
        mf_sb_printf(&vec_c, "};\n");
    }
    mf_sb_printf(&vec_h, "\n#endif\n");
    /* expected outputs: the host runs this very program (fused, planned) with the kernels */
    arena = calloc(1, g.plan.arena ? g.plan.arena : 1);
    if (!arena) {
        mf_error_set(err, "out of memory");
        goto done;
    }
    {
        char magic[8] = {'M', 'F', 'E', 'X', 'P', 'V', '1', 0};
        uint32_t hdr[4] = {(uint32_t)o->n_vectors, (uint32_t)out_size, (uint32_t)g.esz,
                           (uint32_t)in_size};
        mf_sb_append(&expected, magic, sizeof magic);
        mf_sb_append(&expected, hdr, sizeof hdr);
    }
    for (int v = 0; v < o->n_vectors; v++) {
        const char *qin = (const char *)arena + g.in_off;
        mf_program_input(&g, o->vectors + (size_t)v * in_size, arena);
        uint32_t rec[2] = {(uint32_t)(o->labels ? o->labels[v] : -1),
                           mf_hash_fnv1a32(MF_FNV1A32_INIT, qin, in_size * g.esz)};
        mf_program_run(&g, arena);
        mf_sb_append(&expected, rec, sizeof rec);
        mf_sb_append(&expected, (char *)arena + g.out_off, out_size * g.esz);
    }
    /* config.mk, manifest, plan */
    const char *opt = o->opt && *o->opt ? o->opt : MF_DEPLOY_DEFAULT_OPT;
    const char *extra = o->cflags ? o->cflags : ""; /* both checked above */
    int profile_vectors = o->profile_vectors > 0 ? o->profile_vectors : 3;
    if (profile_vectors > o->n_vectors) profile_vectors = o->n_vectors;
    mf_sb_printf(&config,
                 "# config.mk — written by mcuforge deploy: flags and sources of this project\n"
                 "# Optimisation: %s (see the Makefile for the fixed flags)\n"
                 "OPT := %s\nEXTRA_CFLAGS := %s\nPROFILE_VECTORS := %d\n"
                 "HARNESS_SRC := main.c startup.c semihost.c%s\nRUNTIME_SRC :=",
                 opt, opt, extra, profile_vectors, o->stream ? "" : " vectors.c");
    for (int i = 0; i < n_rt; i++)
        if (rt[i].is_c && rt[i].used) mf_sb_printf(&config, " runtime/%s", rt[i].name);
    mf_sb_printf(&config, "\n");
    planf = open_memstream(&plan_buf, &plan_len);
    if (!planf) {
        mf_error_set(err, "out of memory");
        goto done;
    }
    mf_program_print(&g, planf);
    fclose(planf);
    planf = NULL;
    mf_sb_append(&plan_txt, plan_buf, plan_len);
    mf_sb_printf(&manifest,
                 "mcuforge-deploy 1\ngenerator mcuforge %s\nprecision %s\nbits %d\nhash %s\n"
                 "vectors %d\nstreamed %d\nprofile_vectors %d\ninput_size %zu\noutput_size %zu\n"
                 "macs %llu\narena %zu\nscratch %zu\nlower_bound %zu\nweights %zu\ncflags %s%s%s\n"
                 "layers %d\noutput_n %d\n",
                 MF_VERSION,
                 g.bits == 32   ? "float32"
                 : g.bits == 16 ? "int16"
                                : "int8",
                 g.bits, hash, o->n_vectors, o->stream ? 1 : 0, profile_vectors, in_size, out_size,
                 (unsigned long long)mf_model_macs(m), g.plan.arena, g.scratch_peak,
                 g.plan.lower_bound, g.weight_bytes, opt, extra[0] ? " " : "", extra, g.n_calls,
                 output_frac_bits(&g));
    for (int k = 0; k < g.n_calls; k++) {
        const mf_call *c = &g.calls[k];
        char si[48], so[48];
        int first = c->first, i = c->node;
        mf_shape_str(&m->nodes[c->in[0]].out_shape, si, sizeof si);
        mf_shape_str(&m->nodes[i].out_shape, so, sizeof so);
        if (first != i)
            mf_sb_printf(&manifest, "layer %d %s+%s %s+%s %s %s %llu\n", k,
                         m->nodes[first].spec.name, m->nodes[i].spec.name,
                         mf_op_get(m->nodes[first].spec.op)->name,
                         mf_op_get(m->nodes[i].spec.op)->name, si, so,
                         (unsigned long long)(mf_node_macs(m, first) + mf_node_macs(m, i)));
        else
            mf_sb_printf(&manifest, "layer %d %s %s %s %s %llu\n", k, m->nodes[i].spec.name,
                         mf_op_get(m->nodes[i].spec.op)->name, si, so,
                         (unsigned long long)mf_node_macs(m, i));
    }
    for (int k = 0; k < g.n_calls; k++) {
        const mf_call *c = &g.calls[k];
        if (!c->var.has_sparse) continue;
        const double *measured = o->variant_instr ? o->variant_instr + 2 * c->first : NULL;
        const double *instr = measured ? measured : c->var.model_instr;
        mf_sb_printf(&manifest, "variant %d %d %d %.1f %zu %.1f %zu\n", k, c->sparse,
                     measured ? 1 : 0, instr[0], c->var.bytes[0], instr[1], c->var.bytes[1]);
    }
    if (weights.oom || model_c.oom || model_h.oom || vec_h.oom || vec_c.oom || config.oom ||
        manifest.oom || plan_txt.oom || expected.oom) {
        mf_error_set(err, "out of memory generating the project");
        goto done;
    }
    /* 4. files: the whole project in a new sibling folder, which then replaces out_dir */
    if (prepare_out(o, &out, err)) goto done;
    const char *dir = out.tmp;
    char rtdir[4200];
    snprintf(rtdir, sizeof rtdir, "%s/runtime", dir);
    if (mkdir(rtdir, 0777) != 0) {
        mf_error_set(err, "cannot create the folder %s: %s", rtdir, strerror(errno));
        goto done;
    }
    for (int i = 0; i < n_rt; i++) {
        if (rt[i].is_c && !rt[i].used) continue;
        char path[4500];
        snprintf(path, sizeof path, "%s/%s", rtdir, rt[i].name);
        if (mf_file_write_bytes(path, rt[i].text, strlen(rt[i].text), err)) goto done;
    }
    static const char *const templates[] = {"main.c",      "startup.c", "semihost.c", "semihost.h",
                                            "mf_icount.h", "link.ld",   "Makefile"};
    for (size_t i = 0; i < sizeof templates / sizeof templates[0]; i++)
        if (copy_template(dir, templates[i], err)) goto done;
    if (write_text(dir, "model_weights.c", &weights, err) ||
        write_text(dir, "model.c", &model_c, err) || write_text(dir, "model.h", &model_h, err) ||
        write_text(dir, "vectors.h", &vec_h, err) || write_text(dir, "config.mk", &config, err) ||
        write_text(dir, "plan.txt", &plan_txt, err) ||
        write_text(dir, "expected.bin", &expected, err))
        goto done;
    if (o->stream) {
        char path[4500];
        snprintf(path, sizeof path, "%s/vectors.bin", dir);
        if (mf_file_write_bytes(path, o->vectors, (size_t)o->n_vectors * in_size * sizeof(float),
                                err))
            goto done;
    } else if (write_text(dir, "vectors.c", &vec_c, err))
        goto done;
    if (write_text(dir, "deploy.manifest", &manifest, err)) goto done;
    if (o->finish && o->finish(dir, o->finish_ctx, err)) goto done;
    /* the new project replaces the old one in one step, only now that it is complete */
    if (mf_deploy_check_out_dir(o->out_dir, o->force, err) ||
        mf_file_replace_dir(dir, o->out_dir, err))
        goto done;
    out.tmp[0] = '\0';
    if (o->log) {
        fprintf(o->log, "%s", plan_buf);
        fprintf(o->log,
                "generated %s: %s, %d kernel calls, %zu bytes of weights, arena %zu bytes "
                "(lower bound %zu), %d test vectors %s, flags %s %s\n",
                o->out_dir,
                g.bits == 32   ? "float32"
                : g.bits == 16 ? "int16"
                               : "int8",
                g.n_calls, g.weight_bytes, g.plan.arena, g.plan.lower_bound, o->n_vectors,
                o->stream ? "streamed from vectors.bin" : "in flash", opt, extra);
    }
    if (summary) {
        summary->n_layers = g.n_calls;
        summary->arena = g.plan.arena;
        summary->lower_bound = g.plan.lower_bound;
        summary->weights = g.weight_bytes;
        summary->macs = mf_model_macs(m);
        summary->precision = g.bits;
        snprintf(summary->hash, sizeof summary->hash, "%s", hash);
    }
    rc = MF_OK;
done:
    if (out.tmp[0]) mf_file_remove_tree(out.tmp, NULL); /* a failed generation leaves nothing */
    if (planf) fclose(planf);
    free(plan_buf);
    free(arena);
    mf_rt_files_free(rt, n_rt);
    mf_sb_free(&weights);
    mf_sb_free(&decl);
    mf_sb_free(&model_c);
    mf_sb_free(&model_h);
    mf_sb_free(&vec_h);
    mf_sb_free(&vec_c);
    mf_sb_free(&config);
    mf_sb_free(&manifest);
    mf_sb_free(&plan_txt);
    mf_sb_free(&expected);
    mf_program_free(&g);
    mf_model_free(folded);
    return rc;
}
