/* Weight variants per layer (issue: pruning, per-layer choice at deploy).
 *
 * choose_*: mf_variants_choose on hand-built costs (objective, margin, budgets, the greedy
 * trade, messages of budgets that cannot be met).
 * lower_requests: a pruned int8 model lowered with every layer forced dense, forced sparse and
 * by the cost model: the calls follow the request, each variant's bytes are its blobs', and the
 * three programs give the same outputs bit for bit.
 * deploy_measured (QEMU): `mcuforge deploy --run` of a pruned int8 model measures both variants,
 * report.json lists them, the instructions objective picks the faster of each and the flash
 * objective a firmware no larger; budgets that cannot be met fail naming the figure. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "mf_compress.h"
#include "mf_core.h"
#include "mf_deploy.h"
#include "mf_fileio.h"
#include "mf_lower.h"
#include "mf_model_io.h"
#include "mf_quantize.h"
#include "testutil.h"

#define FIXTURE MF_SOURCE_DIR "/tests/fixtures/model_v1.h5"

static mf_variant_goal goal(mf_objective o, double margin)
{
    mf_variant_goal g = {0};
    g.objective = o;
    g.margin = margin;
    return g;
}

static void choose_objectives(void **state)
{
    (void)state;
    /* instr dense/sparse, bytes dense/sparse */
    const mf_variant_cost v[3] = {
        {{1000, 800}, {500, 300}},  /* sparse faster and smaller */
        {{1000, 950}, {500, 700}},  /* sparse 5 % faster, larger */
        {{1000, 1200}, {500, 200}}, /* sparse slower, smaller */
    };
    unsigned char s[3];
    char why[256];
    double instr;
    size_t bytes;
    mf_variant_goal g = goal(MF_OBJECTIVE_INSTRUCTIONS, 1.0);
    assert_int_equal(mf_variants_choose(v, 3, &g, s, &instr, &bytes, why, sizeof why), 0);
    assert_int_equal(s[0], 1);
    assert_int_equal(s[1], 1);
    assert_int_equal(s[2], 0);
    assert_true(instr == 800 + 950 + 1000);
    assert_int_equal(bytes, 300 + 700 + 500);
    /* the cost model's margin: 5 % faster is not enough */
    g.margin = MF_VARIANT_MODEL_MARGIN;
    assert_int_equal(mf_variants_choose(v, 3, &g, s, NULL, NULL, why, sizeof why), 0);
    assert_int_equal(s[1], 0);
    /* flash: the smaller of each (ties: the faster) */
    g = goal(MF_OBJECTIVE_FLASH, 1.0);
    assert_int_equal(mf_variants_choose(v, 3, &g, s, &instr, &bytes, why, sizeof why), 0);
    assert_int_equal(s[0], 1);
    assert_int_equal(s[1], 0);
    assert_int_equal(s[2], 1);
    const mf_variant_cost tie[1] = {{{1000, 900}, {400, 400}}};
    assert_int_equal(mf_variants_choose(tie, 1, &g, s, NULL, NULL, why, sizeof why), 0);
    assert_int_equal(s[0], 1);
}

static void choose_budgets(void **state)
{
    (void)state;
    const mf_variant_cost v[3] = {
        {{100, 120}, {1000, 400}}, /* sparse saves 600 B for 20 instructions */
        {{100, 50}, {1000, 800}},  /* sparse faster and smaller */
        {{100, 400}, {1000, 900}}, /* sparse saves 100 B for 300 instructions */
    };
    unsigned char s[3];
    char why[256];
    double instr;
    size_t bytes;
    /* the fastest choice (0, 1, 0) takes 100 fixed + 2,800 B */
    mf_variant_goal g = goal(MF_OBJECTIVE_INSTRUCTIONS, 1.0);
    g.fixed_bytes = 100;
    g.flash_budget = 2400; /* the cheapest trade first: layer 0 */
    assert_int_equal(mf_variants_choose(v, 3, &g, s, &instr, &bytes, why, sizeof why), 0);
    assert_true(s[0] == 1 && s[1] == 1 && s[2] == 0);
    assert_int_equal(bytes, 2300);
    assert_true(instr == 270);
    g.flash_budget = 2250; /* then layer 2 */
    assert_int_equal(mf_variants_choose(v, 3, &g, s, &instr, &bytes, why, sizeof why), 0);
    assert_true(s[0] == 1 && s[1] == 1 && s[2] == 1);
    assert_int_equal(bytes, 2200);
    g.flash_budget = 2100; /* below the smallest choice */
    assert_int_equal(mf_variants_choose(v, 3, &g, s, &instr, &bytes, why, sizeof why), -1);
    assert_non_null(strstr(why, "flash budget of 2100 bytes cannot be met: the smallest choice "
                                "of variants takes 2200 bytes"));
    /* flash first (1, 1, 1: 570 instructions), then an instruction budget of 300: layer 2 goes
     * back to dense (300 instructions for 100 B) */
    g = goal(MF_OBJECTIVE_FLASH, 1.0);
    g.fixed_bytes = 100;
    g.instr_budget = 300;
    assert_int_equal(mf_variants_choose(v, 3, &g, s, &instr, &bytes, why, sizeof why), 0);
    assert_true(s[0] == 1 && s[1] == 1 && s[2] == 0);
    assert_true(instr == 270);
    g.instr_budget = 200; /* the fastest takes 250 */
    assert_int_equal(mf_variants_choose(v, 3, &g, s, &instr, &bytes, why, sizeof why), -1);
    assert_non_null(strstr(why, "instruction budget of 200 per inference cannot be met: the "
                                "fastest choice of variants takes 250"));
    /* both budgets: every choice is tried; these two exclude each other (the smallest takes
     * 570 instructions, the fastest 2,900 bytes) */
    g = goal(MF_OBJECTIVE_INSTRUCTIONS, 1.0);
    g.fixed_bytes = 100;
    g.flash_budget = 2250;
    g.instr_budget = 400;
    assert_int_equal(mf_variants_choose(v, 3, &g, s, &instr, &bytes, why, sizeof why), -1);
    assert_non_null(strstr(why, "no choice of variants meets both budgets, 2250 bytes of flash "
                                "and 400 instructions per inference: the smallest takes 2200 "
                                "bytes, the fastest 250 instructions"));
    g.flash_budget = 2300; /* only (1, 1, 0) meets both */
    assert_int_equal(mf_variants_choose(v, 3, &g, s, &instr, &bytes, why, sizeof why), 0);
    assert_true(s[0] == 1 && s[1] == 1 && s[2] == 0);
    /* where one pass after the other would undo the first: a greedy flash pass switches A to
     * dense, the instruction pass back; A sparse, B dense meets both exactly */
    const mf_variant_cost ab[2] = {{{100, 50}, {10, 30}}, {{100, 90}, {10, 12}}};
    mf_variant_goal gab = goal(MF_OBJECTIVE_INSTRUCTIONS, 1.0);
    gab.flash_budget = 40;
    gab.instr_budget = 150;
    assert_int_equal(mf_variants_choose(ab, 2, &gab, s, &instr, &bytes, why, sizeof why), 0);
    assert_true(s[0] == 1 && s[1] == 0);
    assert_true(instr == 150);
    assert_int_equal(bytes, 40);
    g.flash_budget = 2250;
    assert_int_equal(mf_variants_total(v, 3, &g, s, &instr, &bytes), -1);
    const unsigned char fast[3] = {0, 1, 0};
    g.flash_budget = 0;
    assert_int_equal(mf_variants_total(v, 3, &g, fast, &instr, &bytes), 0);
    assert_true(instr == 250);
    assert_int_equal(bytes, 2900);
}

/* The fixture (conv1d 3 taps 2 → 4 channels, pool, dense 28 → 3) pruned to 80 % per layer (or
 * not) and quantized to int8 on random samples. */
static mf_qmodel *pruned_int8(float **vectors, int n_vectors, int prune)
{
    mf_error err;
    mf_model *m = mf_model_load(FIXTURE, &err);
    if (!m) fail_msg("%s", err.message);
    const mf_prune_spec spec = {.sparsity = 0.8, .per_layer = 1};
    if (prune && mf_prune_magnitude(m, &spec, &err)) fail_msg("%s", err.message);
    const size_t in = mf_model_input_size(m);
    const int n = 32;
    float *x = malloc(sizeof *x * in * (size_t)n);
    assert_non_null(x);
    mf_rng r;
    mf_rng_seed(&r, 5);
    for (size_t k = 0; k < in * (size_t)n; k++)
        x[k] = (float)(2.0 * mf_rng_uniform(&r) - 1.0);
    const mf_ptq_options po = {{8, MF_RT_ROUND_HALF_UP, 1, -1}, 0, 0, 1};
    mf_qmodel *q = mf_ptq(m, x, n, &po, &err);
    if (!q) fail_msg("%s", err.message);
    mf_model_free(m);
    assert_true(n_vectors <= n);
    *vectors = x;
    return q;
}

static void lower_requests(void **state)
{
    (void)state;
    float *x;
    /* an unpruned model: no variants (quantization's zeros are not pruning) */
    mf_qmodel *q = pruned_int8(&x, 4, 0);
    mf_program up;
    mf_error err;
    const mf_lower_options plain = {.fuse_pools = 1, .keep_all = 0, .align = 8};
    if (mf_lower_program(q, NULL, &plain, &up, &err)) fail_msg("%s", err.message);
    for (int k = 0; k < up.n_calls; k++)
        assert_false(up.calls[k].var.has_sparse || up.calls[k].sparse);
    mf_program_free(&up);
    mf_qmodel_free(q);
    free(x);
    q = pruned_int8(&x, 4, 1);
    const mf_model *m = q->model;
    unsigned char *req = malloc((size_t)m->n_nodes);
    assert_non_null(req);
    mf_program p[3];
    const unsigned char want[3] = {MF_VARIANT_DENSE, MF_VARIANT_SPARSE, MF_VARIANT_AUTO};
    for (int v = 0; v < 3; v++) {
        memset(req, want[v], (size_t)m->n_nodes);
        mf_lower_options lo = {.fuse_pools = 1, .keep_all = 0, .align = 8, .variants = req};
        if (mf_lower_program(q, NULL, &lo, &p[v], &err)) fail_msg("%s", err.message);
    }
    int with_variants = 0;
    for (int k = 0; k < p[0].n_calls; k++) {
        const mf_call *d = &p[0].calls[k], *sp = &p[1].calls[k];
        assert_int_equal(d->var.has_sparse, sp->var.has_sparse);
        if (!d->var.has_sparse) continue;
        with_variants++;
        assert_false(d->sparse);
        assert_true(sp->sparse);
        const size_t dense_bytes = mf_blob_bytes(&d->w) + mf_blob_bytes(&d->bias) +
                                   mf_blob_bytes(&d->shifts) + mf_blob_bytes(&d->idx),
                     sparse_bytes = mf_blob_bytes(&sp->w) + mf_blob_bytes(&sp->bias) +
                                    mf_blob_bytes(&sp->shifts) + mf_blob_bytes(&sp->idx);
        assert_int_equal(d->var.bytes[0], dense_bytes);
        assert_int_equal(d->var.bytes[1], sparse_bytes);
        assert_int_equal(sp->var.bytes[1], sparse_bytes);
        assert_true(sparse_bytes < dense_bytes); /* 80 % zeros */
        /* the cost model's choice when nothing is requested */
        assert_int_equal(p[2].calls[k].sparse,
                         d->var.model_instr[1] < MF_VARIANT_MODEL_MARGIN * d->var.model_instr[0]);
    }
    assert_int_equal(with_variants, 2); /* the conv (+ pool) and the dense layer */
    /* the same outputs bit for bit */
    const size_t in = mf_model_input_size(m), out = mf_model_output_size(m);
    for (int s = 0; s < 4; s++) {
        int8_t first[16];
        assert_true(out <= sizeof first);
        for (int v = 0; v < 3; v++) {
            void *arena = calloc(1, p[v].plan.arena);
            assert_non_null(arena);
            mf_program_input(&p[v], x + (size_t)s * in, arena);
            mf_program_run(&p[v], arena);
            if (v == 0)
                memcpy(first, (char *)arena + p[v].out_off, out);
            else
                assert_memory_equal(first, (char *)arena + p[v].out_off, out);
            free(arena);
        }
    }
    for (int v = 0; v < 3; v++)
        mf_program_free(&p[v]);
    free(req);
    free(x);
    mf_qmodel_free(q);
}

/* report.json's variants: per layer that has them, chosen (1 sparse), source measured, and
 * both variants' instructions and bytes; returns how many layers. */
typedef struct json_variant {
    int sparse, measured;
    double instr[2];
    size_t bytes[2];
} json_variant;
static int report_variants(const char *dir, json_variant *v, int max, size_t *flash_model)
{
    char path[4200], *text;
    snprintf(path, sizeof path, "%s/report.json", dir);
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("%s is missing", path);
    text = calloc(1, 1 << 20);
    assert_non_null(text);
    assert_true(fread(text, 1, (1 << 20) - 1, f) > 0);
    fclose(f);
    int n = 0;
    for (const char *at = strstr(text, "\"variants\": "); at && n < max;
         at = strstr(at + 1, "\"variants\": ")) {
        char chosen[16], source[16];
        unsigned long long b0, b1;
        if (sscanf(at,
                   "\"variants\": {\"chosen\": \"%15[a-z]\", \"source\": \"%15[a-z ]\", \"dense\": "
                   "{\"instructions\": %lf, \"bytes\": %llu}, \"sparse\": {\"instructions\": %lf, "
                   "\"bytes\": %llu}}",
                   chosen, source, &v[n].instr[0], &b0, &v[n].instr[1], &b1) != 6)
            fail_msg("%s: unexpected variants entry: %.200s", path, at);
        v[n].sparse = !strcmp(chosen, "sparse");
        v[n].measured = !strcmp(source, "measured");
        v[n].bytes[0] = (size_t)b0, v[n].bytes[1] = (size_t)b1;
        n++;
    }
    const char *fm = strstr(text, "\"flash_model\": ");
    assert_non_null(fm);
    *flash_model = strtoull(fm + strlen("\"flash_model\": "), NULL, 10);
    free(text);
    return n;
}

static void deploy_measured(void **state)
{
    (void)state;
    const char *missing = mf_deploy_missing_tool();
    if (missing) {
        if (!tu_tool_missing_ok(missing)) fail_msg("%s is missing (CI=true)", missing);
        skip();
    }
    const char *dir = tu_tmpdir("variants_deploy");
    tu_write_file(dir, "c.yaml",
                  "dataset: {name: synthetic, shape: [32, 4], classes: 3, train_samples: 96,\n"
                  "          test_samples: 16, noise: 0.5}\n"
                  "model:\n"
                  "  layers:\n"
                  "    - {name: conv1, type: conv1d, filters: 16, kernel: 3, activation: relu}\n"
                  "    - {name: pool1, type: maxpool1d, kernel: 2}\n"
                  "    - {name: conv2, type: conv1d, filters: 16, kernel: 3, activation: relu}\n"
                  "    - {name: flatten, type: flatten}\n"
                  "    - {name: fc, type: dense, units: 3}\n"
                  "train: {epochs: 1, batch_size: 16, lr: 0.05, threads: 1}\n"
                  "prune: {sparsity: 0.9, epochs: 1, per_layer: true,\n"
                  "        layers: [{name: conv1, sparsity: 0.3}]}\n"
                  "quantize: {bits: 8}\n");
    char exe[1024], cfg[1100], output[1100], model[1100], out[16384];
    snprintf(exe, sizeof exe, "%s/mcuforge", MF_BINARY_DIR);
    snprintf(cfg, sizeof cfg, "%s/c.yaml", dir);
    snprintf(output, sizeof output, "train.output=%s/m.h5", dir);
    snprintf(model, sizeof model, "%s/m.pruned.q8.h5", dir);
    char *run[] = {exe, "run", cfg, output, NULL};
    int status = tu_run_capture(NULL, run, out, sizeof out);
    if (status != 0) fail_msg("run: status %d\n%s", status, out);
    char fw[2][1200];
    const char *objective[2] = {"instructions", "flash"};
    json_variant v[2][8];
    size_t flash[2];
    int n[2];
    for (int o = 0; o < 2; o++) {
        snprintf(fw[o], sizeof fw[o], "%s/fw_%s", dir, objective[o]);
        char *dep[] = {exe,     "deploy",    model, "--out",       fw[o],
                       "--run", "--vectors", "4",   "--objective", (char *)objective[o],
                       NULL};
        status = tu_run_capture(NULL, dep, out, sizeof out);
        if (status != 0)
            fail_msg("deploy --objective %s: status %d\n%s", objective[o], status, out);
        /* conv1 (pruned to 30 %), conv2 (+ pool: not fused, conv2 feeds flatten), fc */
        assert_non_null(strstr(out, "measuring 3 layer(s) with a sparse variant in QEMU"));
        n[o] = report_variants(fw[o], v[o], 8, &flash[o]);
        assert_int_equal(n[o], 3);
        for (int k = 0; k < n[o]; k++) {
            assert_true(v[o][k].measured);
            assert_true(v[o][k].instr[0] > 0 && v[o][k].instr[1] > 0);
            if (o == 0) /* no layer slower than its dense variant */
                assert_int_equal(v[o][k].sparse, v[o][k].instr[1] < v[o][k].instr[0]);
        }
    }
    /* the same measurements both times (exact counts); flash builds no larger a firmware */
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < 2; i++) {
            assert_true(v[0][k].instr[i] == v[1][k].instr[i]);
            assert_int_equal(v[0][k].bytes[i], v[1][k].bytes[i]);
        }
    print_message("model flash: objective instructions %zu B, flash %zu B\n", flash[0], flash[1]);
    assert_true(flash[1] <= flash[0]);
    /* budgets: too small a flash budget, an instruction budget without --run or too small */
    char fw3[1200];
    snprintf(fw3, sizeof fw3, "%s/fw_budget", dir);
    struct {
        char *args[10];
        int status;
        const char *says;
    } bad[] = {
        {{"--flash-budget", "100", NULL}, 1, "the flash budget of 100 bytes cannot be met"},
        {{"--instruction-budget", "1000", NULL}, 2, "--instruction-budget needs --run"},
        {{"--run", "--vectors", "2", "--instruction-budget", "100", NULL},
         1,
         "the instruction budget of 100 per inference cannot be met"},
        {{"--objective", "fast", NULL}, 2, "--objective 'fast': expected instructions or flash"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        char *argv[16] = {exe, "deploy", model, "--out", fw3};
        int a = 5;
        for (int j = 0; bad[k].args[j]; j++)
            argv[a++] = bad[k].args[j];
        status = tu_run_capture(NULL, argv, out, sizeof out);
        if (status != bad[k].status || !strstr(out, bad[k].says))
            fail_msg("case %zu: status %d (want %d), output:\n%s", k, status, bad[k].status, out);
    }
    /* a folder deploy did not write is refused before the measurements, not after them */
    char mine[1300];
    snprintf(mine, sizeof mine, "%s/mine", dir);
    assert_int_equal(mkdir(mine, 0777), 0);
    tu_write_file(mine, "notes.txt", "mine\n");
    char *argv[] = {exe, "deploy", model, "--out", mine, "--run", "--vectors", "2", NULL};
    status = tu_run_capture(NULL, argv, out, sizeof out);
    if (status != 1 || !strstr(out, mine) || strstr(out, "measuring"))
        fail_msg("an existing folder: status %d, output:\n%s", status, out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(choose_objectives),
        cmocka_unit_test(choose_budgets),
        cmocka_unit_test(lower_requests),
        cmocka_unit_test(deploy_measured),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
