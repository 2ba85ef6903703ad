/* Deploy: the memory planner (lifetimes, in-place reuse, views, lower bound ≤ arena, a
 * hand-checked residual graph), the generator's checks (unsupported layers and budgets before
 * any file is written, linker budget messages), and firmware for float32, int16 and int8 built
 * with arm-none-eabi-gcc and run in QEMU with 100 % bit-exactness against the host (skipped when
 * the toolchain or QEMU is missing, failed instead with CI=true: tu_tool_missing_ok). */
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

#include "mf_deploy.h"
#include "mf_plan.h"
#include "mf_quantize.h"
#include "mf_runtime.h"
#include "mf_train.h"
#include "stack_bound.h"
#include "testutil.h"

/* ---- planner ---- */

static mf_plan_step step1(int out, int in, unsigned inplace, int alias)
{
    mf_plan_step s;
    memset(&s, 0, sizeof s);
    s.out = out;
    s.n_in = 1;
    s.in[0] = in;
    s.inplace = inplace;
    s.alias = alias;
    return s;
}

static mf_plan_step step2(int out, int a, int b, unsigned inplace)
{
    mf_plan_step s = step1(out, a, inplace, 0);
    s.n_in = 2;
    s.in[1] = b;
    return s;
}

/* Whether buffers a and b hold an overlap step's output and its input with the output at most
 * lag bytes after the input. */
static int overlap_allowed(const mf_plan *p, int a, int b)
{
    for (int t = 0; t < p->n_tensors; t++) {
        const mf_plan_tensor *x = &p->tensors[t];
        if (x->overlaps < 0) continue;
        const int bo = x->buffer, bi = p->tensors[x->overlaps].buffer;
        if ((bo == a && bi == b) || (bo == b && bi == a))
            return (long)p->buffers[bo].offset <= (long)p->buffers[bi].offset + x->lag;
    }
    return 0;
}

/* no two buffers whose lifetimes intersect overlap in the arena, except an overlap step's pair
 * in the order its lag allows; every tensor inside it */
static void check_placement(const mf_plan *p)
{
    for (int a = 0; a < p->n_buffers; a++) {
        const mf_plan_buffer *x = &p->buffers[a];
        assert_true(x->offset % p->align == 0);
        assert_true(x->offset + x->size <= p->arena);
        for (int b = a + 1; b < p->n_buffers; b++) {
            const mf_plan_buffer *y = &p->buffers[b];
            int live_together = x->first <= y->last && y->first <= x->last;
            int disjoint = x->offset + x->size <= y->offset || y->offset + y->size <= x->offset;
            if (live_together) assert_true(disjoint || overlap_allowed(p, a, b));
        }
    }
    assert_true(p->lower_bound <= p->arena);
}

static mf_plan_step step_over(int out, int in, long lag)
{
    mf_plan_step s = step1(out, in, 0, 0);
    s.overlap = 1;
    s.lag = lag;
    return s;
}

/* Hand-checked chain of kernels that write behind their reads: x(1152) → a(1024, lag −23) →
 * b(512, lag −16) → d(8). Aligned to 8 the lags are −24 and −16: a starts ≥ 24 bytes before x,
 * b ≥ 16 before a, so the span is at least 1152 + 24 + 16 = 1192 (reached); the lower bound
 * counts each pair at its smallest footprint: max(1152 + 24, 1024) = 1176 at step 1. */
static void test_plan_overlap_hand_checked(void **state)
{
    (void)state;
    size_t sizes[4] = {1152, 1024, 512, 8};
    mf_plan_step steps[3] = {step_over(1, 0, -23), step_over(2, 1, -16), step1(3, 2, 0, 0)};
    mf_plan p;
    mf_error err;
    assert_int_equal(mf_plan_build(4, sizes, 0, 3, 3, steps, 8, &p, &err), MF_OK);
    assert_int_equal(p.tensors[1].overlaps, 0);
    assert_int_equal(p.tensors[2].overlaps, 1);
    assert_int_equal(p.tensors[3].overlaps, -1);
    assert_int_equal(p.lower_bound, 1176);
    assert_int_equal(p.bound_time, 1);
    assert_int_equal(p.arena, 1192);
    assert_true((long)mf_plan_offset(&p, 1) <= (long)mf_plan_offset(&p, 0) - 24);
    assert_true((long)mf_plan_offset(&p, 2) <= (long)mf_plan_offset(&p, 1) - 16);
    check_placement(&p);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    const char *names[4] = {"x", "a", "b", "d"};
    mf_plan_print(&p, names, f);
    fclose(f);
    assert_non_null(strstr(text, "overlaps x (written behind its reads, lag -23)"));
    free(text);
    mf_plan_free(&p);

    /* the input is read again later: no overlap, separate storage */
    size_t sizes2[4] = {64, 64, 64, 64};
    mf_plan_step steps2[3] = {step_over(1, 0, 0), step2(2, 1, 0, 0), step1(3, 2, 0, 0)};
    assert_int_equal(mf_plan_build(4, sizes2, 0, 3, 3, steps2, 8, &p, &err), MF_OK);
    assert_int_equal(p.tensors[1].overlaps, -1);
    assert_int_equal(p.lower_bound, 192); /* x, a and b at step 2 */
    check_placement(&p);
    mf_plan_free(&p);
}

static void test_plan_chain_lifetimes(void **state)
{
    (void)state;
    /* input(96) → a(200) → b(48) → c(16, output) */
    size_t sizes[4] = {96, 200, 48, 16};
    mf_plan_step steps[3] = {step1(1, 0, 0, 0), step1(2, 1, 0, 0), step1(3, 2, 0, 0)};
    mf_plan p;
    mf_error err;
    assert_int_equal(mf_plan_build(4, sizes, 0, 3, 3, steps, 8, &p, &err), MF_OK);
    assert_int_equal(p.tensors[0].first, 0);
    assert_int_equal(p.tensors[0].last, 1);
    assert_int_equal(p.tensors[1].first, 1);
    assert_int_equal(p.tensors[1].last, 2);
    assert_int_equal(p.tensors[2].first, 2);
    assert_int_equal(p.tensors[2].last, 3);
    assert_int_equal(p.tensors[3].first, 3);
    assert_int_equal(p.tensors[3].last, 4); /* the output is read after the last step */
    assert_int_equal(p.n_buffers, 4);
    assert_int_equal(p.lower_bound, 296); /* input + a at step 1 */
    assert_int_equal(p.arena, 296);       /* optimal here */
    check_placement(&p);
    mf_plan_free(&p);
}

static void test_plan_inplace_relu_and_views(void **state)
{
    (void)state;
    /* input(64) → conv(128) → relu(128, in place) → flatten(view) → dense(8) */
    size_t sizes[5] = {64, 128, 128, 128, 8};
    mf_plan_step steps[4] = {step1(1, 0, 0, 0), step1(2, 1, 1u, 0), step1(3, 2, 0, 1),
                             step1(4, 3, 0, 0)};
    mf_plan p;
    mf_error err;
    assert_int_equal(mf_plan_build(5, sizes, 0, 4, 4, steps, 8, &p, &err), MF_OK);
    assert_int_equal(p.tensors[2].buffer, p.tensors[1].buffer); /* relu in place */
    assert_int_equal(p.tensors[3].buffer, p.tensors[2].buffer); /* flatten = alias */
    assert_int_equal(p.n_buffers, 3);
    const mf_plan_buffer *b = &p.buffers[p.tensors[1].buffer];
    assert_int_equal(b->first, 1);
    assert_int_equal(b->last, 4); /* extended to the dense layer that reads the view */
    assert_int_equal(p.lower_bound, 192);
    assert_int_equal(p.arena, 192);
    check_placement(&p);
    mf_plan_free(&p);

    /* the relu's input is still read later: no in-place */
    size_t sizes2[4] = {64, 128, 128, 128};
    mf_plan_step steps2[3] = {step1(1, 0, 0, 0), step1(2, 1, 1u, 0), step2(3, 2, 1, 0)};
    assert_int_equal(mf_plan_build(4, sizes2, 0, 3, 3, steps2, 8, &p, &err), MF_OK);
    assert_int_not_equal(p.tensors[2].buffer, p.tensors[1].buffer);
    check_placement(&p);
    mf_plan_free(&p);
}

/* Hand-checked residual block: x(64) → c1(128) → c2(128) → add(c2, c1) → d(16).
 * Lifetimes: x [0,1], c1 [1,3], c2 [2,3], add in place into c2 → buffer [2,4], d [4,5].
 * Live sums: t0 64, t1 192, t2 256, t3 256, t4 144, t5 16 → lower bound 256; x and the c2/add
 * buffer never live together, so the arena is exactly 256. */
static void test_plan_residual_hand_checked(void **state)
{
    (void)state;
    size_t sizes[5] = {64, 128, 128, 128, 16};
    mf_plan_step steps[4] = {step1(1, 0, 0, 0), step1(2, 1, 0, 0), step2(3, 2, 1, 3u),
                             step1(4, 3, 0, 0)};
    mf_plan p;
    mf_error err;
    assert_int_equal(mf_plan_build(5, sizes, 0, 4, 4, steps, 8, &p, &err), MF_OK);
    assert_int_equal(p.tensors[3].buffer, p.tensors[2].buffer); /* add into c2, which dies */
    const mf_plan_buffer *bc1 = &p.buffers[p.tensors[1].buffer];
    const mf_plan_buffer *badd = &p.buffers[p.tensors[3].buffer];
    assert_int_equal(bc1->first, 1);
    assert_int_equal(bc1->last, 3);
    assert_int_equal(badd->first, 2);
    assert_int_equal(badd->last, 4);
    assert_int_equal(p.lower_bound, 256);
    assert_int_equal(p.bound_time, 2);
    assert_int_equal(p.arena, 256);
    assert_true(mf_plan_offset(&p, 1) != mf_plan_offset(&p, 2));
    check_placement(&p);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    const char *names[5] = {"x", "c1", "c2", "add", "d"};
    mf_plan_print(&p, names, f);
    fclose(f);
    assert_non_null(strstr(text, "arena 256 bytes; lower bound 256 bytes"));
    assert_non_null(strstr(text, "shares c2"));
    free(text);
    mf_plan_free(&p);
}

/* Random DAGs: placements are valid, lower bound ≤ arena, the arena stays near the bound. */
static void test_plan_random_graphs(void **state)
{
    (void)state;
    mf_rng r;
    mf_rng_seed(&r, 42);
    double worst = 0.0;
    for (int g = 0; g < 300; g++) {
        int n = 2 + (int)mf_rng_below(&r, 30);
        size_t sizes[32];
        mf_plan_step steps[31];
        for (int t = 0; t < n; t++)
            sizes[t] = 8 * (1 + mf_rng_below(&r, 64));
        for (int s = 1; s < n; s++) {
            int a = (int)mf_rng_below(&r, (uint32_t)s);
            if (s > 1 && mf_rng_below(&r, 3) == 0) {
                int b = (int)mf_rng_below(&r, (uint32_t)s);
                sizes[s] = sizes[a];
                if (sizes[b] != sizes[a]) b = a;
                steps[s - 1] = step2(s, a, b, 3u);
            } else {
                unsigned kind = mf_rng_below(&r, 4);
                if (kind == 0) sizes[s] = sizes[a];
                steps[s - 1] = step1(s, a, kind == 0 ? 1u : 0u, 0);
                if (kind == 1) /* writes behind its reads, output before or after its input */
                    steps[s - 1] = step_over(s, a, (long)mf_rng_below(&r, 1024) - 768);
            }
        }
        mf_plan p;
        mf_error err;
        assert_int_equal(mf_plan_build(n, sizes, 0, n - 1, n - 1, steps, 8, &p, &err), MF_OK);
        check_placement(&p);
        double over = (double)p.arena / (double)p.lower_bound;
        if (over > worst) worst = over;
        mf_plan_free(&p);
    }
    print_message("random graphs: worst arena / lower bound = %.3f\n", worst);
    assert_true(worst < 1.5);
}

static void test_plan_errors(void **state)
{
    (void)state;
    size_t sizes[3] = {8, 8, 8};
    mf_plan_step bad[2] = {step1(1, 2, 0, 0), step1(2, 1, 0, 0)}; /* reads 2 before it exists */
    mf_plan p;
    mf_error err;
    mf_error_clear(&err);
    assert_int_equal(mf_plan_build(3, sizes, 0, 2, 2, bad, 8, &p, &err), MF_ERR);
    assert_non_null(strstr(err.message, "before it is produced"));
}

/* ---- generator checks (no toolchain needed) ---- */

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* A layer the lowering rejects (a parameter that is not finite) fails generation before any
 * file is written. */
static void test_unlowerable_layer_before_any_file(void **state)
{
    (void)state;
    mf_error err;
    mf_shape in = {2, {16, 4}};
    mf_model *m = mf_model_new(&in, &err);
    mf_layer_spec s;
    mf_layer_spec_init(&s, MF_OP_BATCHNORM, "bn"); /* on the input: a per-channel affine */
    assert_int_equal(mf_model_add(m, &s, &err), MF_OK);
    mf_layer_spec_init(&s, MF_OP_FLATTEN, "f");
    assert_int_equal(mf_model_add(m, &s, &err), MF_OK);
    mf_layer_spec_init(&s, MF_OP_DENSE, "out");
    s.filters = 3;
    assert_int_equal(mf_model_add(m, &s, &err), MF_OK);
    assert_int_equal(mf_model_finalize(m, &err), MF_OK);
    mf_model_init_params(m, 1);
    /* a running mean that is not a number: the batch-norm cannot be lowered */
    m->state[m->nodes[mf_model_find(m, "bn")].state_offset + 2] = NAN;
    float x[64] = {0};
    char dir[1200];
    snprintf(dir, sizeof dir, "%s/never-written", tu_tmpdir("deploy_unsupported"));
    mf_deploy_options o = {0};
    o.out_dir = dir;
    o.vectors = x;
    o.n_vectors = 1;
    mf_error_clear(&err);
    assert_int_equal(mf_deploy_generate(NULL, m, &o, NULL, &err), MF_ERR);
    assert_non_null(strstr(err.message, "layer 'bn': moving_mean[2] is not finite"));
    assert_false(exists(dir));
    mf_model_free(m);
}

static mf_model *dense_model(int n_in, int units)
{
    mf_error err;
    mf_shape in = {1, {n_in}};
    mf_model *m = mf_model_new(&in, &err);
    assert_non_null(m);
    mf_layer_spec s;
    mf_layer_spec_init(&s, MF_OP_DENSE, "big");
    s.filters = units;
    assert_int_equal(mf_model_add(m, &s, &err), MF_OK);
    assert_int_equal(mf_model_finalize(m, &err), MF_OK);
    mf_model_init_params(m, 3);
    return m;
}

static void test_budgets_before_any_file(void **state)
{
    (void)state;
    char dir[1200];
    snprintf(dir, sizeof dir, "%s/never-written", tu_tmpdir("deploy_budget"));
    mf_error err;
    /* flash: (1024·300 + 300) float32 parameters = 1,230,000 bytes = 1 MiB + 181,424 */
    mf_model *m = dense_model(1024, 300);
    float *x = calloc(40000, sizeof(float));
    mf_deploy_options o = {0};
    o.out_dir = dir;
    o.vectors = x;
    o.n_vectors = 1;
    mf_error_clear(&err);
    assert_int_equal(mf_deploy_generate(NULL, m, &o, NULL, &err), MF_ERR);
    print_message("%s\n", err.message);
    assert_non_null(strstr(err.message, "flash budget"));
    assert_non_null(strstr(err.message, "exceeded by 181424 bytes"));
    mf_model_free(m);
    /* RAM: a 40,000-float input and a 2-float output live together: arena 160,008 bytes, + 4 KiB
     * of stack = 164,104 bytes = 128 KiB + 33,032 */
    m = dense_model(40000, 2);
    mf_error_clear(&err);
    assert_int_equal(mf_deploy_generate(NULL, m, &o, NULL, &err), MF_ERR);
    print_message("%s\n", err.message);
    assert_non_null(strstr(err.message, "RAM budget"));
    assert_non_null(strstr(err.message, "exceeded by 33032 bytes"));
    assert_false(exists(dir));
    mf_model_free(m);
    free(x);
}

static void test_linker_budget_messages(void **state)
{
    (void)state;
    char msg[512];
    const char *ld = "/usr/bin/ld: firmware.elf section `.rodata' will not fit in region `FLASH'\n"
                     "/usr/bin/ld: region `FLASH' overflowed by 5128 bytes\n"
                     "collect2: error: ld returned 1 exit status\n";
    assert_int_equal(mf_deploy_parse_budget(ld, msg, sizeof msg), 1);
    assert_string_equal(msg, "flash budget (1 MiB) exceeded by 5128 bytes");
    const char *ram = "ld: region `RAM' overflowed by 300 bytes\n";
    assert_int_equal(mf_deploy_parse_budget(ram, msg, sizeof msg), 1);
    assert_non_null(strstr(msg, "RAM budget"));
    assert_non_null(strstr(msg, "exceeded by 300 bytes"));
    assert_int_equal(mf_deploy_parse_budget("undefined reference to `foo'", msg, sizeof msg), 0);
}

/* A name that is not a C identifier (a tampered model in memory; files are checked on load)
 * is refused before anything is written, by the fold (float32) or by the generator (integers). */
static void test_bad_names_rejected(void **state)
{
    (void)state;
    mf_error err;
    mf_shape in = {1, {8}};
    mf_model *m = mf_model_new(&in, &err);
    mf_layer_spec s;
    mf_layer_spec_init(&s, MF_OP_DENSE, "fine");
    s.filters = 2;
    assert_int_equal(mf_model_add(m, &s, &err), MF_OK);
    assert_int_equal(mf_model_finalize(m, &err), MF_OK);
    mf_model_init_params(m, 1);
    float x[8] = {0};
    char dir[1200];
    snprintf(dir, sizeof dir, "%s/never-written", tu_tmpdir("deploy_names"));
    mf_deploy_options o = {0};
    o.out_dir = dir;
    o.vectors = x;
    o.n_vectors = 1;
    /* the quantized path (no fold): the generator's own check */
    mf_model *folded = mf_fold_model(m, &err);
    double ranges[2] = {1.0, 1.0};
    mf_quant_options qo = {8, MF_RT_ROUND_HALF_UP, 0, -1};
    mf_qmodel *q = mf_qmodel_build(folded, ranges, &qo, &err);
    assert_non_null(q);
    snprintf(q->model->nodes[1].spec.name, MF_NAME_MAX, "x*/ evil();/*");
    mf_error_clear(&err);
    assert_int_equal(mf_deploy_generate(q, NULL, &o, NULL, &err), MF_ERR);
    assert_non_null(strstr(err.message, "cannot be used in generated C"));
    /* the float path */
    snprintf(m->nodes[1].spec.name, MF_NAME_MAX, "x*/ evil();/*");
    mf_error_clear(&err);
    assert_int_equal(mf_deploy_generate(NULL, m, &o, NULL, &err), MF_ERR);
    assert_non_null(strstr(err.message, "x*/ evil();/*"));
    assert_false(exists(dir));
    mf_qmodel_free(q);
    mf_model_free(m);
}

/* Compiler flags reach config.mk, whose recipe lines make runs through /bin/sh: every flag
 * (split on spaces) must match an allow-list of option shapes, checked before anything is
 * written; the error names the field (opt_field / cflags_field) and the value. */
static void test_flags_allow_list(void **state)
{
    (void)state;
    mf_model *m = dense_model(8, 2);
    float x[8] = {0};
    char dir[1200];
    snprintf(dir, sizeof dir, "%s/fw", tu_tmpdir("deploy_flags"));
    static const char *const bad[] = {
        "-DX=1;touch PWNED",
        "-DX=`touch PWNED`1",
        "-DX=$(touch PWNED)1",
        "-DX=1|touch PWNED",
        "-O2 && touch PWNED",
        "-DX='a b'",
        "-DX=\"a\"",
        "-DX=1\ntouch PWNED",
        "-O2 -Wl,--gc-sections",
        "-Ofast",
        "-O2\t-g",
        "-fplugin=/tmp/evil.so",
        "-DX=a/b",
        "x",
        "-include/etc/passwd",
        /* allowed shapes that would break bit-exactness with the host or load code */
        "-ffast-math",
        "-ffp-contract=fast",
        "-fassociative-math",
        "-fplugin=evil.so",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        for (int field = 0; field < 2; field++) {
            mf_deploy_options o = {0};
            o.out_dir = dir;
            o.vectors = x;
            o.n_vectors = 1;
            if (field == 0) {
                o.opt = bad[i];
                o.opt_field = "deploy.opt";
            } else {
                o.cflags = bad[i];
                o.cflags_field = "--cflags";
            }
            mf_error err;
            mf_error_clear(&err);
            if (mf_deploy_generate(NULL, m, &o, NULL, &err) != MF_ERR)
                fail_msg("%s '%s' was accepted", field ? "--cflags" : "deploy.opt", bad[i]);
            print_message("%s\n", err.message);
            assert_non_null(strstr(err.message, field ? "--cflags" : "deploy.opt"));
            if (!strchr(bad[i], '\n') && !strchr(bad[i], '\t'))
                assert_non_null(strstr(err.message, bad[i]));
            else
                assert_non_null(strstr(err.message, strchr(bad[i], '\n') ? "\\n" : "\\t"));
            assert_false(exists(dir));
        }
    /* the library's own names when the caller gives none */
    mf_deploy_options o = {0};
    o.out_dir = dir;
    o.vectors = x;
    o.n_vectors = 1;
    o.cflags = "-DX=1;ls";
    mf_error err;
    mf_error_clear(&err);
    assert_int_equal(mf_deploy_generate(NULL, m, &o, NULL, &err), MF_ERR);
    assert_non_null(strstr(err.message, "cflags"));
    assert_int_equal(mf_deploy_check_flags("--opt", "-Os -flto", &err), MF_OK);
    assert_int_equal(mf_deploy_check_flags("--opt", "-O2 `id`", &err), MF_ERR);
    assert_non_null(strstr(err.message, "--opt"));
    assert_non_null(strstr(err.message, "`id`"));
    /* every allowed shape */
    o.opt = "-O3 -flto -flto-partition=one -fno-tree-vectorize -fipa-cp-clone  -g";
    o.cflags = "-Werror -Wno-error=unused-parameter -Wstack-usage=512 -mno-unaligned-access "
               "-mcpu=cortex-m4 -DMF_X -DMF_Y=1.5 -D_Z=a-b_c -DE= -Os -Og -Oz -O0 -O1";
    mf_error_clear(&err);
    if (mf_deploy_generate(NULL, m, &o, NULL, &err)) fail_msg("%s", err.message);
    assert_true(exists(dir));
    mf_model_free(m);
}

/* ---- firmware in QEMU ---- */

typedef struct fixture {
    mf_model *model;  /* resnetv1_6 width 4, 32×3 input, 4 classes, z-score per element */
    mf_dataset *data; /* preprocessed (training split, for calibration) */
    float *raw_test;  /* raw test inputs */
    int *labels;
    int n_test;
} fixture;

static int setup_fixture(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    mf_error err;
    mf_shape shape = {2, {32, 3}};
    if (mf_synthetic_generate(&shape, 4, 256, 20, 0.5f, 7, &f->data, &err)) return -1;
    f->n_test = f->data->n_test;
    size_t in = 32 * 3;
    f->raw_test = malloc(sizeof(float) * in * (size_t)f->n_test);
    f->labels = malloc(sizeof(int) * (size_t)f->n_test);
    /* raw values with an offset and scale, so that the firmware's z-score matters */
    for (size_t i = 0; i < in * (size_t)f->n_test; i++)
        f->data->x_test[i] = 3.0f * f->data->x_test[i] + 1.5f;
    for (int i = 0; i < f->data->n_train * (int)in; i++)
        f->data->x_train[i] = 3.0f * f->data->x_train[i] + 1.5f;
    memcpy(f->raw_test, f->data->x_test, sizeof(float) * in * (size_t)f->n_test);
    memcpy(f->labels, f->data->y_test, sizeof(int) * (size_t)f->n_test);
    mf_template_args a = {.width = 4, .dims = 1, .input_shape = shape, .classes = 4};
    f->model = mf_template_build("resnetv1_6", &a, &err);
    if (!f->model) return -1;
    mf_model_init_params(f->model, 5);
    if (mf_model_fit_dataset(f->model, f->data, MF_NORM_ELEMENT, &err)) return -1;
    mf_train_config tc;
    memset(&tc, 0, sizeof tc);
    tc.epochs = 2;
    tc.batch_size = 32;
    tc.lr = 0.05f;
    tc.momentum = 0.9f;
    tc.seed = 1;
    tc.threads = 2;
    tc.progress = MF_PROGRESS_NONE;
    mf_train_result res;
    if (mf_train(f->model, &tc, f->data, NULL, &res, &err)) return -1;
    free(res.history);
    *state = f;
    return 0;
}

static int teardown_fixture(void **state)
{
    fixture *f = *state;
    if (!f) return 0;
    mf_model_free(f->model);
    mf_dataset_free(f->data);
    free(f->raw_test);
    free(f->labels);
    free(f);
    return 0;
}

static mf_qmodel *quantize(const fixture *f, int bits)
{
    mf_error err;
    mf_model *folded = mf_fold_model(f->model, &err);
    assert_non_null(folded);
    double *r = malloc(sizeof(double) * (size_t)folded->n_nodes);
    assert_int_equal(mf_calibrate(folded, f->data->x_train, f->data->n_train, 1, r, &err), MF_OK);
    mf_quant_options o = {bits, MF_RT_ROUND_HALF_UP, 0, -1};
    mf_qmodel *q = mf_qmodel_build(folded, r, &o, &err);
    free(r);
    assert_non_null(q);
    return q;
}

/* ---- the output folder ---- */

static char *slurp_file(const char *dir, const char *name)
{
    char path[2400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = calloc(1, 1 << 20);
    assert_non_null(buf);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* "name name ..." of a folder's entries, sorted (for before/after comparisons). */
static void listing(const char *dir, char *buf, size_t size)
{
    char cmd[2400];
    snprintf(cmd, sizeof cmd, "ls -A '%s' 2>/dev/null | tr '\\n' ' '", dir);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(buf, 1, size - 1, p);
    buf[n] = '\0';
    pclose(p);
}

static int add_note(const char *dir, void *ctx, mf_error *err)
{
    (void)err;
    char path[2400];
    snprintf(path, sizeof path, "%s/note.txt", dir);
    FILE *f = fopen(path, "w");
    if (!f) return MF_ERR;
    fputs((const char *)ctx, f);
    fclose(f);
    return MF_OK;
}

static int fail_late(const char *dir, void *ctx, mf_error *err)
{
    (void)dir, (void)ctx;
    return mf_error_set(err, "the quantized model could not be saved");
}

/* deploy --out into an existing folder: a folder of deploy's own (deploy.manifest) is replaced
 * as a whole, only at the end (a deploy that fails part-way leaves the old project as it was),
 * any other non-empty folder is refused unless force, and nothing is left beside it. */
static void test_out_folder(void **state)
{
    fixture *f = *state;
    char root[1200], fw[1300], user[1300], file[1300], list[4096], before[4096];
    snprintf(root, sizeof root, "%s", tu_tmpdir("deploy_out_folder"));
    snprintf(fw, sizeof fw, "%s/fw", root);
    snprintf(user, sizeof user, "%s/user", root);
    snprintf(file, sizeof file, "%s/plain", root);
    mf_qmodel *q = quantize(f, 8);
    mf_deploy_options o = {0};
    o.vectors = f->raw_test;
    o.labels = f->labels;
    o.n_vectors = 2;
    o.stream = 1;
    mf_error err;
    /* a user's folder with files of its own: refused, untouched */
    assert_int_equal(mkdir(user, 0777), 0);
    tu_write_file(user, "main.c", "int main(void) { return 0; } /* mine */\n");
    char rt[1400];
    snprintf(rt, sizeof rt, "%s/runtime", user);
    assert_int_equal(mkdir(rt, 0777), 0);
    tu_write_file(rt, "mine.c", "int mine;\n");
    o.out_dir = user;
    mf_error_clear(&err);
    assert_int_equal(mf_deploy_generate(NULL, f->model, &o, NULL, &err), MF_ERR);
    print_message("%s\n", err.message);
    assert_non_null(strstr(err.message, user));
    assert_non_null(strstr(err.message, "deploy.manifest"));
    assert_non_null(strstr(err.message, "force"));
    char *text = slurp_file(user, "main.c");
    assert_non_null(strstr(text, "/* mine */"));
    free(text);
    listing(rt, list, sizeof list);
    assert_string_equal(list, "mine.c ");
    /* a file where the folder should be */
    tu_write_file(root, "plain", "x");
    o.out_dir = file;
    assert_int_equal(mf_deploy_generate(NULL, f->model, &o, NULL, &err), MF_ERR);
    assert_non_null(strstr(err.message, "not a folder"));
    /* a new folder, then deploy's own folder again: replaced as a whole */
    o.out_dir = fw;
    if (mf_deploy_generate(NULL, f->model, &o, NULL, &err)) fail_msg("%s", err.message);
    text = slurp_file(fw, "deploy.manifest");
    assert_non_null(strstr(text, "precision float32"));
    free(text);
    tu_write_file(fw, "report.json", "{}\n");
    char fwrt[1400];
    snprintf(fwrt, sizeof fwrt, "%s/runtime", fw);
    tu_write_file(fwrt, "stale.c", "int stale;\n");
    o.finish = add_note;
    o.finish_ctx = "int8\n";
    if (mf_deploy_generate(q, NULL, &o, NULL, &err)) fail_msg("%s", err.message);
    text = slurp_file(fw, "deploy.manifest");
    assert_non_null(strstr(text, "precision int8"));
    free(text);
    text = slurp_file(fw, "note.txt"); /* written into the new project before the swap */
    assert_non_null(text);
    assert_string_equal(text, "int8\n");
    free(text);
    char path[1500];
    snprintf(path, sizeof path, "%s/report.json", fw);
    assert_false(exists(path));
    snprintf(path, sizeof path, "%s/stale.c", fwrt);
    assert_false(exists(path));
    listing(root, list, sizeof list);
    assert_string_equal(list, "fw plain user "); /* no temporary folder left */
    /* a deploy that fails part-way (a board template missing, then a late step failing) leaves
     * the int8 project exactly as it was */
    char *manifest = slurp_file(fw, "deploy.manifest"), *config = slurp_file(fw, "config.mk");
    char fwlist[4096];
    listing(fwrt, fwlist, sizeof fwlist);
    char data[1300], cmd[8000];
    snprintf(data, sizeof data, "%s/data", root);
    snprintf(cmd, sizeof cmd,
             "mkdir -p '%s/deploy' && cp -r '%s/runtime' '%s/' && cp -r '%s/deploy/board' "
             "'%s/deploy/' && rm '%s/deploy/board/Makefile'",
             data, MF_SOURCE_DIR, data, MF_SOURCE_DIR, data, data);
    assert_int_equal(system(cmd), 0);
    listing(root, before, sizeof before);
    setenv("MCUFORGE_SOURCE_DIR", data, 1);
    o.finish = NULL;
    mf_error_clear(&err);
    int rc = mf_deploy_generate(NULL, f->model, &o, NULL, &err);
    unsetenv("MCUFORGE_SOURCE_DIR");
    assert_int_equal(rc, MF_ERR);
    print_message("%s\n", err.message);
    assert_non_null(strstr(err.message, "Makefile"));
    o.finish = fail_late;
    mf_error_clear(&err);
    assert_int_equal(mf_deploy_generate(NULL, f->model, &o, NULL, &err), MF_ERR);
    assert_non_null(strstr(err.message, "could not be saved"));
    text = slurp_file(fw, "deploy.manifest");
    assert_string_equal(text, manifest);
    free(text);
    text = slurp_file(fw, "config.mk");
    assert_string_equal(text, config);
    free(text);
    listing(fwrt, list, sizeof list);
    assert_string_equal(list, fwlist);
    listing(root, list, sizeof list);
    assert_string_equal(list, before);
    free(manifest);
    free(config);
    /* force replaces any folder */
    o.finish = NULL;
    o.out_dir = user;
    o.force = 1;
    if (mf_deploy_generate(q, NULL, &o, NULL, &err)) fail_msg("%s", err.message);
    text = slurp_file(user, "main.c");
    assert_null(strstr(text, "/* mine */"));
    free(text);
    snprintf(path, sizeof path, "%s/mine.c", rt);
    assert_false(exists(path));
    snprintf(path, sizeof path, "%s/deploy.manifest", user);
    assert_true(exists(path));
    /* an empty folder is fine without force */
    char empty[1300];
    snprintf(empty, sizeof empty, "%s/empty", root);
    assert_int_equal(mkdir(empty, 0777), 0);
    o.out_dir = empty;
    o.force = 0;
    if (mf_deploy_generate(q, NULL, &o, NULL, &err)) fail_msg("%s", err.message);
    snprintf(path, sizeof path, "%s/deploy.manifest", empty);
    assert_true(exists(path));
    listing(root, list, sizeof list);
    assert_string_equal(list, "data empty fw plain user ");
    mf_qmodel_free(q);
}

/* Skips the test when a firmware tool is missing (fails with CI=true). */
static void require_toolchain(void)
{
    const char *missing = mf_deploy_missing_tool();
    if (!missing) return;
    if (!tu_tool_missing_ok(missing)) fail_msg("%s is missing (CI=true)", missing);
    skip();
}

/* The firmware tests build with every warning an error: the generated project and the runtime
 * copies compile cleanly at the default flags, link-time optimisation included. */
#define FIRMWARE_CFLAGS "-Werror"

static void run_one(const fixture *f, int bits, int stream)
{
    char name[64];
    snprintf(name, sizeof name, "deploy_fw_%d", bits);
    const char *dir = tu_tmpdir(name);
    mf_qmodel *q = bits == 32 ? NULL : quantize(f, bits);
    mf_deploy_options o = {0};
    o.out_dir = dir;
    o.vectors = f->raw_test;
    o.labels = f->labels;
    o.n_vectors = f->n_test;
    o.stream = stream;
    o.cflags = FIRMWARE_CFLAGS;
    mf_deploy_summary sum;
    mf_error err;
    mf_error_clear(&err);
    int rc = mf_deploy_generate(q, bits == 32 ? f->model : NULL, &o, &sum, &err);
    if (rc) print_message("generate: %s\n", err.message);
    assert_int_equal(rc, MF_OK);
    assert_true(sum.lower_bound <= sum.arena);
    mf_deploy_report r;
    mf_deploy_run_options ro = {60, 2, NULL};
    rc = mf_deploy_run(dir, &ro, &r, &err);
    if (rc) print_message("run: %s\n", err.message);
    assert_int_equal(rc, MF_OK);
    print_message("%s: %d vectors, bit-exact %d, inputs exact %d, %.0f instructions, model flash "
                  "%zu B, arena %zu B (bound %zu), stack %zu B, build %.1f s, run %.2f s\n",
                  r.precision, r.n_vectors, r.bit_exact, r.input_exact, r.instr_mean, r.flash_model,
                  r.ram_arena, r.arena_lower_bound, r.ram_stack_peak, r.build_s, r.run_s);
    assert_int_equal(r.n_vectors, f->n_test);
    assert_int_equal(r.bit_exact, f->n_test); /* 100 %: the same kernels on both sides */
    assert_int_equal(r.input_exact, f->n_test);
    assert_int_equal(r.ram_arena, sum.arena);
    assert_true(r.ram_stack_peak <= r.ram_stack_bound); /* the run checks it too */
    print_message("stack bound %zu B: %s\n", r.ram_stack_bound, r.stack_path);
    assert_true(r.instr_min > 0 && r.instr_min <= r.instr_max);
    assert_true(r.flash_model > sum.weights);
    assert_int_equal(r.n_layers, sum.n_layers);
    char path[1200];
    snprintf(path, sizeof path, "%s/report.json", dir);
    assert_true(exists(path));
    mf_deploy_report_free(&r);
    mf_qmodel_free(q);
}

static void test_firmware_float32(void **state)
{
    require_toolchain();
    run_one(*state, 32, 1);
}

static void test_firmware_int16(void **state)
{
    require_toolchain();
    run_one(*state, 16, 0); /* vectors in flash */
}

static void test_firmware_int8(void **state)
{
    require_toolchain();
    run_one(*state, 8, 1);
}

/* z-score per channel (3 means, 3 deviations in the firmware instead of 96 of each): the
 * firmware's model_quantize_input must index its statistics by channel and still give the
 * host's quantized inputs bit for bit. */
static void test_firmware_int8_channel_zscore(void **state)
{
    require_toolchain();
    fixture *f = *state;
    mf_error err;
    mf_preprocess saved = f->model->pre;
    f->model->pre = (mf_preprocess){0, 0, NULL, NULL};
    const float mean[3] = {1.25f, 1.5f, 1.75f}, std[3] = {2.5f, 3.0f, 3.5f};
    assert_int_equal(mf_model_set_preprocess(f->model, 2, 3, mean, std, &err), MF_OK);
    run_one(f, 8, 1);
    char path[1200];
    snprintf(path, sizeof path, "%s/test-tmp/deploy_fw_8/model.c", MF_BINARY_DIR);
    FILE *mc = fopen(path, "r");
    assert_non_null(mc);
    char line[512];
    int per_channel = 0, per_element = 0;
    while (fgets(line, sizeof line, mc)) {
        /* the statistics have one entry per channel (3), not per element (96) */
        per_channel |= strstr(line, "mf_pre_mean, mf_pre_std, 3u") != NULL;
        per_element |= strstr(line, "mf_pre_mean, mf_pre_std, 96u") != NULL;
    }
    fclose(mc);
    assert_true(per_channel && !per_element);
    free(f->model->pre.mean);
    free(f->model->pre.std);
    f->model->pre = saved;
}

/* A model whose weights pass the generator's check but whose firmware does not fit: the link
 * fails and the error says which budget and by how many bytes. */
static void test_firmware_over_flash_budget(void **state)
{
    (void)state;
    require_toolchain();
    const char *dir = tu_tmpdir("deploy_fw_over");
    /* float32 dense 2046 → 128: (2046·128 + 128)·4 = 1,048,064 bytes of weights (512 under
     * 1 MiB); code, vectors and startup push the image over */
    mf_model *m = dense_model(2046, 128);
    float *x = calloc(2046, sizeof(float));
    mf_deploy_options o = {0};
    o.out_dir = dir;
    o.vectors = x;
    o.n_vectors = 1;
    o.stream = 1;
    mf_error err;
    mf_error_clear(&err);
    assert_int_equal(mf_deploy_generate(NULL, m, &o, NULL, &err), MF_OK);
    mf_deploy_report r;
    mf_deploy_run_options ro = {60, 2, NULL};
    assert_int_equal(mf_deploy_run(dir, &ro, &r, &err), MF_ERR);
    print_message("%s\n", err.message);
    assert_non_null(strstr(err.message, "flash budget (1 MiB) exceeded by"));
    mf_model_free(m);
    free(x);
}

/* The static stack bound from a disassembly: frames from push/stmdb/vpush/sub sp, calls from
 * bl and tail branches, the deepest chain; recursion and indirect calls give no bound. */
static void test_stack_bound_from_disassembly(void **state)
{
    (void)state;
    const char *text = "08000c1c <model_run>:\n"
                       " 8000c1c:\tstmdb\tsp!, {r4, r5, r6, r7, r8, r9, sl, fp, lr}\n"
                       " 8000c24:\tsub\tsp, #36\t@ 0x24\n"
                       " 8000c32:\tbl\t800021c <mf_copy>\n"
                       " 8000c56:\tbl\t8000ab0 <engine.constprop.0>\n"
                       " 8000c60:\tb.n\t8000c24 <model_run+0x8>\n"
                       " 8000c70:\tb.w\t8000d00 <dense>\n"
                       "0800021c <mf_copy>:\n"
                       " 800021c:\tbx\tlr\n"
                       "08000ab0 <engine.constprop.0>:\n"
                       " 8000ab0:\tpush\t{r4, r5, lr}\n"
                       " 8000ab2:\tvpush\t{d8-d9}\n"
                       " 8000ab6:\tsub.w\tsp, sp, #200\n"
                       " 8000aba:\tbl\t8000b00 <mac>\n"
                       "08000b00 <mac>:\n"
                       " 8000b00:\tpush\t{r4-r11, lr}\n"
                       " 8000b04:\tsub\tsp, sp, #28\n"
                       " 8000b08:\tb.n\t8000b00 <mac>\n"
                       "08000d00 <dense>:\n"
                       " 8000d00:\tpush\t{r4, lr}\n"
                       " 8000d02:\tbne.w\t8000e00 <tail>\n"
                       "08000e00 <tail>:\n"
                       " 8000e00:\tstr.w\tlr, [sp, #-4]!\n"
                       " 8000e04:\tsub\tsp, #400\n";
    mf_stack_bound b;
    mf_error err;
    mf_error_clear(&err);
    assert_int_equal(mf_stack_bound_objdump(text, "model_run", &b, &err), MF_OK);
    /* model_run 36 + 36; engine 12 + 16 + 200 > mac 36 + 28 (292); dense 8 > tail, reached by a
     * conditional tail call, 4 (a pre-indexed push) + 400 (412): the deepest chain */
    assert_int_equal(b.bytes, 72 + 8 + 404);
    assert_string_equal(b.path, "model_run (72) > dense (8) > tail (404)");
    const char *rec = "08000000 <f>:\n 8000000:\tpush\t{lr}\n 8000002:\tbl\t8000010 <g>\n"
                      "08000010 <g>:\n 8000010:\tbl\t8000000 <f>\n";
    assert_int_equal(mf_stack_bound_objdump(rec, "f", &b, &err), MF_ERR);
    assert_non_null(strstr(err.message, "recursive"));
    /* a stack adjustment by a register (alloca, a VLA) has no static bound */
    const char *dyn = "08000000 <f>:\n 8000000:\tsub\tsp, sp, r3\n";
    assert_int_equal(mf_stack_bound_objdump(dyn, "f", &b, &err), MF_ERR);
    assert_non_null(strstr(err.message, "register amount"));
    const char *ind = "08000000 <f>:\n 8000000:\tblx\tr3\n";
    assert_int_equal(mf_stack_bound_objdump(ind, "f", &b, &err), MF_ERR);
    assert_non_null(strstr(err.message, "pointer"));
    assert_int_equal(mf_stack_bound_objdump(ind, "model_run", &b, &err), MF_ERR);
}

/* conv1d (C filters) → avgpool → maxpool → a global pool (average or max) → dense: every
 * pool kernel on C channels. */
static mf_model *pool_model(int channels, int global_max)
{
    mf_error err;
    mf_shape in = {2, {16, 3}};
    mf_model *m = mf_model_new(&in, &err);
    mf_layer_spec s;
    mf_layer_spec_init(&s, MF_OP_CONV1D, "conv");
    s.filters = channels;
    s.kernel = 3;
    s.padding = MF_PAD_SAME;
    s.activation = MF_ACT_RELU;
    assert_int_equal(mf_model_add(m, &s, &err), MF_OK);
    mf_layer_spec_init(&s, MF_OP_AVGPOOL1D, "avg");
    s.kernel = 2;
    assert_int_equal(mf_model_add(m, &s, &err), MF_OK);
    mf_layer_spec_init(&s, MF_OP_MAXPOOL1D, "max");
    s.kernel = 2;
    assert_int_equal(mf_model_add(m, &s, &err), MF_OK);
    mf_layer_spec_init(&s, global_max ? MF_OP_GLOBAL_MAXPOOL : MF_OP_GLOBAL_AVGPOOL, "global");
    assert_int_equal(mf_model_add(m, &s, &err), MF_OK);
    mf_layer_spec_init(&s, MF_OP_DENSE, "out");
    s.filters = 3;
    assert_int_equal(mf_model_add(m, &s, &err), MF_OK);
    if (mf_model_finalize(m, &err)) fail_msg("%s", err.message);
    mf_model_init_params(m, 11);
    return m;
}

/* Regression: with C a multiple of 4 the pools' remainder loops (after 4 or 2 channels at a
 * time) never run, and GCC's link-time optimisation warned "iteration 2147483647 invokes
 * undefined behavior" (-Waggressive-loop-optimizations) in the float32 and int16 pools, so a
 * firmware could not build with -Werror. Every pool at every precision, C = 8 (the remainder
 * loops dead) and C = 7 (they run), builds with -Werror and runs bit-exact in QEMU. */
static void test_firmware_pools_build_with_werror(void **state)
{
    (void)state;
    require_toolchain();
    static const int precisions[3] = {32, 16, 8};
    static const int channels[2] = {8, 7};
    float *x = malloc(sizeof(float) * 8 * 16 * 3);
    mf_rng r;
    mf_rng_seed(&r, 5);
    for (int i = 0; i < 8 * 16 * 3; i++)
        x[i] = (float)(2.0 * mf_rng_uniform(&r) - 1.0);
    for (int c = 0; c < 2; c++)
        for (int g = 0; g < 2; g++) {
            mf_model *m = pool_model(channels[c], g);
            for (int p = 0; p < 3; p++) {
                int bits = precisions[p];
                mf_qmodel *q = NULL;
                mf_error err;
                mf_error_clear(&err);
                if (bits != 32) {
                    mf_model *folded = mf_fold_model(m, &err);
                    assert_non_null(folded);
                    double ranges[8];
                    assert_int_equal(mf_calibrate(folded, x, 8, 1, ranges, &err), MF_OK);
                    mf_quant_options qo = {bits, MF_RT_ROUND_HALF_UP, 0, -1};
                    q = mf_qmodel_build(folded, ranges, &qo, &err);
                    assert_non_null(q); /* q owns folded */
                }
                char name[64];
                snprintf(name, sizeof name, "deploy_fw_pools_c%d_%s_%d", channels[c],
                         g ? "max" : "avg", bits);
                const char *dir = tu_tmpdir(name);
                mf_deploy_options o = {0};
                o.out_dir = dir;
                o.vectors = x;
                o.n_vectors = 8;
                o.stream = 1;
                o.cflags = FIRMWARE_CFLAGS;
                if (mf_deploy_generate(q, q ? NULL : m, &o, NULL, &err))
                    fail_msg("generate %s: %s", name, err.message);
                mf_deploy_report rep;
                mf_deploy_run_options ro = {60, 2, NULL};
                if (mf_deploy_run(dir, &ro, &rep, &err)) fail_msg("%s: %s", name, err.message);
                print_message("%s: bit-exact %d/%d, %.0f instructions\n", name, rep.bit_exact,
                              rep.n_vectors, rep.instr_mean);
                assert_int_equal(rep.bit_exact, 8);
                assert_non_null(strstr(rep.cflags, "-Werror"));
                mf_deploy_report_free(&rep);
                mf_qmodel_free(q);
            }
            mf_model_free(m);
        }
    free(x);
}

/* Issue 23's layers in one small 2D model: rectangular kernels, strides and pools, ReLU6 fused
 * into a conv (with its max pool), a dense layer and an add, and a standalone one; a separable
 * conv (depthwise 3x3 with batch-norm and ReLU folded in, on 6 channels: one quad and two single
 * channels on the M4, then a 1x1 conv), a depthwise conv of multiplier 2, an add of 3 inputs, a
 * concatenation, a batch-norm after a pool (the per-channel affine). */
static void add_ok(mf_model *m, mf_layer_spec *s)
{
    mf_error err;
    if (mf_model_add(m, s, &err)) fail_msg("%s: %s", s->name, err.message);
}

static mf_model *issue23_model(void)
{
    mf_error err;
    mf_shape in = {3, {12, 13, 2}};
    mf_model *m = mf_model_new(&in, &err);
    mf_layer_spec s;
    mf_layer_spec_init(&s, MF_OP_CONV2D, "c1"); /* [3, 1] / [2, 1] same → 6x13x6 */
    s.filters = 6, s.kernel_h = 3, s.kernel = 1, s.stride_h = 2, s.stride = 1;
    s.padding = MF_PAD_SAME, s.activation = MF_ACT_RELU6;
    add_ok(m, &s);
    mf_layer_spec_init(&s, MF_OP_MAXPOOL2D, "p1"); /* [1, 2] → 6x6x6, fused into c1 */
    s.kernel_h = 1, s.kernel = 2;
    add_ok(m, &s);
    mf_layer_spec_init(&s, MF_OP_CONV2D, "c2"); /* [1, 3] same → 6x6x6 */
    s.filters = 6, s.kernel_h = 1, s.kernel = 3, s.padding = MF_PAD_SAME;
    add_ok(m, &s);
    mf_layer_spec_init(&s, MF_OP_CONV2D, "c3"); /* 1x1 of p1 → 6x6x6 */
    s.filters = 6, s.kernel = 1;
    s.n_inputs = 1;
    snprintf(s.inputs[0], MF_NAME_MAX, "p1");
    add_ok(m, &s);
    mf_layer_spec_init(&s, MF_OP_ADD, "sum"); /* 3 inputs */
    s.n_inputs = 3, s.activation = MF_ACT_RELU6;
    snprintf(s.inputs[0], MF_NAME_MAX, "p1");
    snprintf(s.inputs[1], MF_NAME_MAX, "c2");
    snprintf(s.inputs[2], MF_NAME_MAX, "c3");
    add_ok(m, &s);
    mf_layer_spec_init(&s, MF_OP_CONCAT, "cat"); /* sum and c3 (two formats) → 6x6x12 */
    s.n_inputs = 2;
    snprintf(s.inputs[0], MF_NAME_MAX, "sum");
    snprintf(s.inputs[1], MF_NAME_MAX, "c3");
    add_ok(m, &s);
    mf_layer_spec_init(&s, MF_OP_DWCONV2D, "dw1"); /* 3x3 same → 6x6x12 */
    s.kernel = 3, s.padding = MF_PAD_SAME, s.use_bias = 0;
    add_ok(m, &s);
    mf_layer_spec_init(&s, MF_OP_BATCHNORM, "bn1");
    add_ok(m, &s);
    mf_layer_spec_init(&s, MF_OP_RELU, "r1");
    add_ok(m, &s);
    mf_layer_spec_init(&s, MF_OP_CONV2D, "pw1"); /* 1x1 → 6x6x8 */
    s.filters = 8, s.kernel = 1, s.activation = MF_ACT_RELU6;
    add_ok(m, &s);
    mf_layer_spec_init(&s, MF_OP_DWCONV2D, "dw2"); /* [1, 3] × 2 / [1, 2] valid → 6x2x16 */
    s.kernel_h = 1, s.kernel = 3, s.stride_h = 1, s.stride = 2, s.depth_multiplier = 2;
    s.activation = MF_ACT_RELU;
    add_ok(m, &s);
    mf_layer_spec_init(&s, MF_OP_AVGPOOL2D, "p2"); /* [2, 2] → 3x1x16 */
    s.kernel = 2;
    add_ok(m, &s);
    mf_layer_spec_init(&s, MF_OP_BATCHNORM, "bn2"); /* after a pool: the per-channel affine */
    add_ok(m, &s);
    mf_layer_spec_init(&s, MF_OP_RELU6, "r6");
    add_ok(m, &s);
    mf_layer_spec_init(&s, MF_OP_FLATTEN, "flat");
    add_ok(m, &s);
    mf_layer_spec_init(&s, MF_OP_DENSE, "fc");
    s.filters = 8, s.activation = MF_ACT_RELU6;
    add_ok(m, &s);
    mf_layer_spec_init(&s, MF_OP_DENSE, "out");
    s.filters = 4;
    add_ok(m, &s);
    if (mf_model_finalize(m, &err)) fail_msg("%s", err.message);
    mf_model_init_params(m, 23);
    for (size_t i = 0; i < m->n_params; i++) /* outputs past 6: the ReLU6 clamps work */
        m->params[i] *= 4.0f;
    for (int k = 0; k < 2; k++) { /* batch-norms that matter */
        const mf_node *bn = &m->nodes[mf_model_find(m, k ? "bn2" : "bn1")];
        const int nc = (int)(bn->n_params / 2);
        for (int c = 0; c < nc; c++) {
            m->params[bn->param_offset + c] = 0.5f + 0.2f * (float)c;
            m->params[bn->param_offset + nc + c] = 0.3f * (float)c - 0.7f;
            m->state[bn->state_offset + c] = 0.1f * (float)c;
            m->state[bn->state_offset + nc + c] = 2.0f + (float)c;
        }
    }
    return m;
}

/* Issue 23's layers in firmware at every precision, with -Werror: every output in QEMU bit for
 * bit the host's. */
static void test_firmware_issue23_layers(void **state)
{
    (void)state;
    require_toolchain();
    enum { N = 8, IN = 12 * 13 * 2 };
    float *x = malloc(sizeof(float) * N * IN);
    mf_rng r;
    mf_rng_seed(&r, 23);
    for (int i = 0; i < N * IN; i++)
        x[i] = (float)(4.0 * mf_rng_uniform(&r) - 2.0);
    mf_model *m = issue23_model();
    for (int bits = 32; bits >= 8; bits /= 2) {
        mf_qmodel *q = NULL;
        mf_error err;
        mf_error_clear(&err);
        if (bits != 32) {
            mf_model *folded = mf_fold_model(m, &err);
            assert_non_null(folded);
            double ranges[24];
            assert_int_equal(mf_calibrate(folded, x, N, 1, ranges, &err), MF_OK);
            mf_quant_options qo = {bits, MF_RT_ROUND_HALF_UP, bits == 8, -1};
            q = mf_qmodel_build(folded, ranges, &qo, &err);
            assert_non_null(q);
        }
        char name[64];
        snprintf(name, sizeof name, "deploy_fw_issue23_%d", bits);
        const char *dir = tu_tmpdir(name);
        mf_deploy_options o = {0};
        o.out_dir = dir;
        o.vectors = x;
        o.n_vectors = N;
        o.stream = 1;
        o.cflags = FIRMWARE_CFLAGS;
        if (mf_deploy_generate(q, q ? NULL : m, &o, NULL, &err))
            fail_msg("generate %s: %s", name, err.message);
        char *model_c = slurp_file(dir, "model.c");
        assert_non_null(strstr(model_c, bits == 32   ? "mf_rt_conv_maxpool_relu6_f32("
                                        : bits == 16 ? "mf_rt_conv_maxpool_relu6_s16("
                                                     : "mf_rt_conv_maxpool_relu6_s8("));
        assert_non_null(strstr(model_c, bits == 32   ? "mf_rt_relu6_f32("
                                        : bits == 16 ? "mf_rt_relu6_s16("
                                                     : "mf_rt_relu6_s8("));
        assert_non_null(strstr(model_c, bits == 32   ? "mf_rt_dwconv_f32("
                                        : bits == 16 ? "mf_rt_dwconv_s16("
                                                     : "mf_rt_dwconv_s8("));
        assert_null(strstr(model_c, "bn1"));                               /* folded into dw1 */
        assert_non_null(strstr(model_c, bits == 32   ? "mf_rt_affine_f32(" /* bn2 */
                                        : bits == 16 ? "mf_rt_affine_s16("
                                                     : "mf_rt_affine_s8("));
        assert_non_null(strstr(model_c, bits == 32   ? "mf_rt_concat_f32("
                                        : bits == 16 ? "mf_rt_concat_s16("
                                                     : "mf_rt_concat_s8("));
        assert_non_null(strstr(model_c, bits == 32   ? "mf_rt_addn_relu6_f32("
                                        : bits == 16 ? "mf_rt_addn_relu6_s16("
                                                     : "mf_rt_addn_relu6_s8("));
        free(model_c);
        mf_deploy_report rep;
        mf_deploy_run_options ro = {60, 2, NULL};
        if (mf_deploy_run(dir, &ro, &rep, &err)) fail_msg("%s: %s", name, err.message);
        print_message("%s: bit-exact %d/%d, %.0f instructions, model flash %zu B\n", name,
                      rep.bit_exact, rep.n_vectors, rep.instr_mean, rep.flash_model);
        assert_int_equal(rep.bit_exact, N);
        assert_int_equal(rep.input_exact, N);
        mf_deploy_report_free(&rep);
        mf_qmodel_free(q);
    }
    mf_model_free(m);
    free(x);
}

/* The int8 firmware tests of the kernels the lowering chooses by geometry: the model's
 * parameters (seed) scaled by 4 so that outputs pass 6 (the ReLU6 clamp works), n random inputs
 * of in_size values in [-2, 2) (*x), per-channel int8 PTQ on them (*q), and a firmware project
 * streaming them generated into tu_tmpdir(name), returned. */
static const char *generate_int8_relu6_firmware(mf_model *m, unsigned seed, int n, int in_size,
                                                const char *name, float **x, mf_qmodel **q)
{
    mf_error err;
    mf_error_clear(&err);
    mf_model_init_params(m, seed);
    for (size_t i = 0; i < m->n_params; i++)
        m->params[i] *= 4.0f;
    *x = malloc(sizeof(float) * (size_t)n * (size_t)in_size);
    assert_non_null(*x);
    mf_rng r;
    mf_rng_seed(&r, seed);
    for (int i = 0; i < n * in_size; i++)
        (*x)[i] = (float)(4.0 * mf_rng_uniform(&r) - 2.0);
    mf_model *folded = mf_fold_model(m, &err);
    assert_non_null(folded);
    double ranges[16];
    assert_int_equal(mf_calibrate(folded, *x, n, 1, ranges, &err), MF_OK);
    mf_quant_options qo = {8, MF_RT_ROUND_HALF_UP, 1, -1};
    *q = mf_qmodel_build(folded, ranges, &qo, &err);
    assert_non_null(*q);
    const char *dir = tu_tmpdir(name);
    mf_deploy_options o = {0};
    o.out_dir = dir;
    o.vectors = *x;
    o.n_vectors = n;
    o.stream = 1;
    o.cflags = FIRMWARE_CFLAGS;
    if (mf_deploy_generate(*q, NULL, &o, NULL, &err)) fail_msg("generate: %s", err.message);
    return dir;
}

/* Builds and runs the firmware in dir in QEMU: all n outputs bit for bit the host's (and, with
 * check_inputs, the quantized inputs too). */
static void run_firmware_bit_exact(const char *dir, int n, const char *label, int check_inputs)
{
    mf_error err;
    mf_error_clear(&err);
    mf_deploy_report rep;
    mf_deploy_run_options ro = {60, 2, NULL};
    if (mf_deploy_run(dir, &ro, &rep, &err)) fail_msg("%s", err.message);
    print_message("%s: bit-exact %d/%d, %.0f instructions, model flash %zu B\n", label,
                  rep.bit_exact, rep.n_vectors, rep.instr_mean, rep.flash_model);
    assert_int_equal(rep.bit_exact, n);
    if (check_inputs) assert_int_equal(rep.input_exact, n);
    mf_deploy_report_free(&rep);
}

/* The kernel-choice firmware tests' common part: m's firmware generated as
 * generate_int8_relu6_firmware does, its model.c checked for every call in `calls` (NULL-ended:
 * the kernels the lowering must have chosen), then run bit-exact (run_firmware_bit_exact); m is
 * freed. */
static void firmware_calls_bit_exact(mf_model *m, unsigned seed, int n, int in_size,
                                     const char *name, const char *const *calls, const char *label,
                                     int check_inputs)
{
    float *x = NULL;
    mf_qmodel *q = NULL;
    const char *dir = generate_int8_relu6_firmware(m, seed, n, in_size, name, &x, &q);
    char *model_c = slurp_file(dir, "model.c");
    for (const char *const *c = calls; *c; c++)
        if (!strstr(model_c, *c)) fail_msg("%s: model.c does not call %s", label, *c);
    free(model_c);
    run_firmware_bit_exact(dir, n, label, check_inputs);
    mf_qmodel_free(q);
    mf_model_free(m);
    free(x);
}

/* The small-geometry int8 kernels in firmware (conv_s8_small.c, conv_s8_field.c, chosen by the
 * lowering): a conv of 1 output channel with its max pool fused (small), then one of 3 channels
 * over 1 value per field with ReLU6 (field, P = 1), then one of 8 channels over 9 values per
 * field with its max pool fused (field, P = 5); per-channel shifts. Every output in QEMU bit for
 * bit the host's. */
static void test_firmware_small_geometry_int8(void **state)
{
    (void)state;
    require_toolchain();
    enum { N = 8, IN = 32 * 3 };
    mf_error err;
    mf_error_clear(&err);
    mf_shape in = {2, {32, 3}};
    mf_model *m = mf_model_new(&in, &err);
    mf_layer_spec s;
    mf_layer_spec_init(&s, MF_OP_CONV1D, "c1"); /* 32x3 -> 32x1, k 3 same */
    s.filters = 1, s.kernel = 3, s.padding = MF_PAD_SAME, s.activation = MF_ACT_RELU;
    add_ok(m, &s);
    mf_layer_spec_init(&s, MF_OP_MAXPOOL1D, "p1"); /* -> 16x1, fused into c1 */
    s.kernel = 2;
    add_ok(m, &s);
    mf_layer_spec_init(&s, MF_OP_CONV1D, "c2"); /* 16x1 -> 16x3, k 1 */
    s.filters = 3, s.kernel = 1, s.activation = MF_ACT_RELU6;
    add_ok(m, &s);
    mf_layer_spec_init(&s, MF_OP_CONV1D,
                       "c3"); /* 16x3 -> 16x8, k 3 same: K = 9 (conv_s8_field.c) */
    s.filters = 8, s.kernel = 3, s.padding = MF_PAD_SAME, s.activation = MF_ACT_RELU;
    add_ok(m, &s);
    mf_layer_spec_init(&s, MF_OP_MAXPOOL1D, "p3"); /* -> 8x8, fused into c3 */
    s.kernel = 2;
    add_ok(m, &s);
    mf_layer_spec_init(&s, MF_OP_FLATTEN, "flat");
    add_ok(m, &s);
    mf_layer_spec_init(&s, MF_OP_DENSE, "out");
    s.filters = 3;
    add_ok(m, &s);
    if (mf_model_finalize(m, &err)) fail_msg("%s", err.message);
    static const char *const calls[] = {
        "mf_rt_conv_small_maxpool_s8(", /* c1 */
        /* c2 (K = 1, 3 channels), c3 (K = 9, pooled): the register-field kernels of P = 1 and 5 */
        "mf_rt_conv_field1_relu6_s8(", "mf_rt_conv_field5_maxpool_s8(", NULL};
    firmware_calls_bit_exact(m, 21, N, IN, "deploy_fw_small_geometry_8", calls,
                             "small geometries int8", 0);
}

/* The patch int8 kernels in firmware (conv_s8_patch.c, chosen by the lowering): a 2D model whose
 * four convs take each of the kernel's forms and its three shapes: 1 → 1 k5 'same' with ReLU6
 * and its 2×2 max pool fused (the fifth value of each kernel row by LDRSB, the padded copy),
 * 1 → 3 k3 'same' with ReLU6, 3 → 3 k1 with ReLU and its pool fused, 3 → 3 k1 without an
 * activation; per-channel shifts (the fast requantization). The generated C's calls and scratch
 * and the firmware's link of the kernel are otherwise untested: every output in QEMU bit for
 * bit the host's. */
static void test_firmware_patch_int8(void **state)
{
    (void)state;
    require_toolchain();
    enum { N = 8, IN = 16 * 16 };
    mf_error err;
    mf_error_clear(&err);
    mf_shape in = {3, {16, 16, 1}};
    mf_model *m = mf_model_new(&in, &err);
    mf_layer_spec s;
    mf_layer_spec_init(&s, MF_OP_CONV2D, "c1"); /* 16x16x1 -> 16x16x1, k5 same */
    s.filters = 1, s.kernel = 5, s.padding = MF_PAD_SAME, s.activation = MF_ACT_RELU6;
    add_ok(m, &s);
    mf_layer_spec_init(&s, MF_OP_MAXPOOL2D, "p1"); /* -> 8x8x1, fused into c1 */
    s.kernel = 2;
    add_ok(m, &s);
    mf_layer_spec_init(&s, MF_OP_CONV2D, "c2"); /* -> 8x8x3, k3 same */
    s.filters = 3, s.kernel = 3, s.padding = MF_PAD_SAME, s.activation = MF_ACT_RELU6;
    add_ok(m, &s);
    mf_layer_spec_init(&s, MF_OP_CONV2D, "c3"); /* -> 8x8x3, k1 */
    s.filters = 3, s.kernel = 1, s.activation = MF_ACT_RELU;
    add_ok(m, &s);
    mf_layer_spec_init(&s, MF_OP_MAXPOOL2D, "p3"); /* -> 4x4x3, fused into c3 */
    s.kernel = 2;
    add_ok(m, &s);
    mf_layer_spec_init(&s, MF_OP_CONV2D, "c4"); /* -> 4x4x3, k1, no activation */
    s.filters = 3, s.kernel = 1;
    add_ok(m, &s);
    mf_layer_spec_init(&s, MF_OP_FLATTEN, "flat");
    add_ok(m, &s);
    mf_layer_spec_init(&s, MF_OP_DENSE, "out");
    s.filters = 3;
    add_ok(m, &s);
    if (mf_model_finalize(m, &err)) fail_msg("%s", err.message);
    static const char *const calls[] = {
        /* one entry point per shape (rows × values per row, output channels) */
        "mf_rt_conv_patch5x5o1_maxpool_relu6_s8(", /* c1 */
        "mf_rt_conv_patch3x3o3_relu6_s8(",         /* c2 */
        "mf_rt_conv_patch1x3o3_maxpool_s8(",       /* c3 */
        "mf_rt_conv_patch1x3o3_s8(",               /* c4 */
        NULL};
    firmware_calls_bit_exact(m, 22, N, IN, "deploy_fw_patch_8", calls, "patch int8", 1);
}

/* The lane int8 kernels in firmware (conv_s8_lanes.c, chosen by the lowering): a 2D model whose
 * convs of one output channel over 8 input channels take each form: 8 → 1 k3 'same' with ReLU6
 * and its 2×2 max pool fused, 8 → 1 k5 'same' with ReLU (the fast requantization, every
 * position's field in the band's zero columns and rows somewhere), and a 1D branch is not
 * needed: the band is the same code with one slot. The generated C's calls and scratch and the
 * firmware's link of the kernel are otherwise untested: every output in QEMU bit for bit the
 * host's. */
static void test_firmware_lanes_int8(void **state)
{
    (void)state;
    require_toolchain();
    enum { N = 8, IN = 12 * 12 * 8 };
    mf_error err;
    mf_error_clear(&err);
    mf_shape in = {3, {12, 12, 8}};
    mf_model *m = mf_model_new(&in, &err);
    mf_layer_spec s;
    mf_layer_spec_init(&s, MF_OP_CONV2D, "c1"); /* 12x12x8 -> 12x12x1, k3 same */
    s.filters = 1, s.kernel = 3, s.padding = MF_PAD_SAME, s.activation = MF_ACT_RELU6;
    add_ok(m, &s);
    mf_layer_spec_init(&s, MF_OP_MAXPOOL2D, "p1"); /* -> 6x6x1, fused into c1 */
    s.kernel = 2;
    add_ok(m, &s);
    mf_layer_spec_init(&s, MF_OP_CONV2D, "c2"); /* -> 6x6x8, k1 */
    s.filters = 8, s.kernel = 1, s.activation = MF_ACT_RELU;
    add_ok(m, &s);
    mf_layer_spec_init(&s, MF_OP_CONV2D, "c3"); /* -> 6x6x1, k5 same */
    s.filters = 1, s.kernel = 5, s.padding = MF_PAD_SAME, s.activation = MF_ACT_RELU;
    add_ok(m, &s);
    mf_layer_spec_init(&s, MF_OP_FLATTEN, "flat");
    add_ok(m, &s);
    mf_layer_spec_init(&s, MF_OP_DENSE, "out");
    s.filters = 3;
    add_ok(m, &s);
    if (mf_model_finalize(m, &err)) fail_msg("%s", err.message);
    static const char *const calls[] = {"mf_rt_conv_lanes_maxpool_relu6_s8(", /* c1 */
                                        "mf_rt_conv_lanes_s8(",               /* c3 */
                                        NULL};
    firmware_calls_bit_exact(m, 23, N, IN, "deploy_fw_lanes_8", calls, "lanes int8", 1);
}

/* The dot int8 kernels in firmware (conv_s8_dot.c, chosen by the lowering): a 2D model of 1×1
 * convs taking each of the kernel's loops: 8 → 16 with ReLU6 and its 2×2 max pool fused (K = 8:
 * the pair runs, the second row folded), 16 → 8 with ReLU and its pool fused (K = 16: the chunks
 * folded bytewise), 8 → 8 without an activation (K = 8, SSAT); per-channel shifts. Every output
 * in QEMU bit for bit the host's. */
static void test_firmware_dot_int8(void **state)
{
    (void)state;
    require_toolchain();
    enum { N = 8, IN = 8 * 8 * 8 };
    mf_error err;
    mf_error_clear(&err);
    mf_shape in = {3, {8, 8, 8}};
    mf_model *m = mf_model_new(&in, &err);
    mf_layer_spec s;
    mf_layer_spec_init(&s, MF_OP_CONV2D, "c1"); /* 8x8x8 -> 8x8x16, k1 */
    s.filters = 16, s.kernel = 1, s.activation = MF_ACT_RELU6;
    add_ok(m, &s);
    mf_layer_spec_init(&s, MF_OP_MAXPOOL2D, "p1"); /* -> 4x4x16, fused into c1 */
    s.kernel = 2;
    add_ok(m, &s);
    mf_layer_spec_init(&s, MF_OP_CONV2D, "c2"); /* -> 4x4x8, k1 */
    s.filters = 8, s.kernel = 1, s.activation = MF_ACT_RELU;
    add_ok(m, &s);
    mf_layer_spec_init(&s, MF_OP_MAXPOOL2D, "p2"); /* -> 2x2x8, fused into c2 */
    s.kernel = 2;
    add_ok(m, &s);
    mf_layer_spec_init(&s, MF_OP_CONV2D, "c3"); /* -> 2x2x8, k1, no activation */
    s.filters = 8, s.kernel = 1;
    add_ok(m, &s);
    mf_layer_spec_init(&s, MF_OP_FLATTEN, "flat");
    add_ok(m, &s);
    mf_layer_spec_init(&s, MF_OP_DENSE, "out");
    s.filters = 3;
    add_ok(m, &s);
    if (mf_model_finalize(m, &err)) fail_msg("%s", err.message);
    static const char *const calls[] = {"mf_rt_conv_dot_maxpool_relu6_s8(", /* c1 */
                                        "mf_rt_conv_dot_maxpool_s8(",       /* c2 */
                                        "mf_rt_conv_dot_s8(",               /* c3 */
                                        NULL};
    firmware_calls_bit_exact(m, 23, N, IN, "deploy_fw_dot_8", calls, "dot int8", 1);
}

/* go3, the generic 3-channel patch kernel (conv_s8_patch.c's assembly loop), in firmware: a 2D
 * model of 4 → 3 k3 'same' with ReLU6 (the padded copy, kernel rows of 12 values: 3 words),
 * 3 → 3 k3 with ReLU and its 2×2 max pool fused (rows of 9 values: the last word's 3 zero
 * weights), 3 → 3 k5 stride 2 without an activation (5 rows of 4 words); per-channel shifts. Every
 * output in QEMU bit for bit the host's. */
static void test_firmware_patch_go3_int8(void **state)
{
    (void)state;
    require_toolchain();
    enum { N = 8, IN = 12 * 12 * 4 };
    mf_error err;
    mf_error_clear(&err);
    mf_shape in = {3, {12, 12, 4}};
    mf_model *m = mf_model_new(&in, &err);
    mf_layer_spec s;
    mf_layer_spec_init(&s, MF_OP_CONV2D, "c1"); /* 12x12x4 -> 12x12x3, k3 same */
    s.filters = 3, s.kernel = 3, s.padding = MF_PAD_SAME, s.activation = MF_ACT_RELU6;
    add_ok(m, &s);
    mf_layer_spec_init(&s, MF_OP_CONV2D, "c2"); /* -> 12x12x3, k3 same */
    s.filters = 3, s.kernel = 3, s.padding = MF_PAD_SAME, s.activation = MF_ACT_RELU;
    add_ok(m, &s);
    mf_layer_spec_init(&s, MF_OP_MAXPOOL2D, "p2"); /* -> 6x6x3, fused into c2 */
    s.kernel = 2;
    add_ok(m, &s);
    mf_layer_spec_init(&s, MF_OP_CONV2D, "c3"); /* -> 3x3x3, k5 same, stride 2 */
    s.filters = 3, s.kernel = 5, s.stride = 2, s.padding = MF_PAD_SAME;
    add_ok(m, &s);
    mf_layer_spec_init(&s, MF_OP_FLATTEN, "flat");
    add_ok(m, &s);
    mf_layer_spec_init(&s, MF_OP_DENSE, "out");
    s.filters = 3;
    add_ok(m, &s);
    if (mf_model_finalize(m, &err)) fail_msg("%s", err.message);
    static const char *const calls[] = {"mf_rt_conv_patchgo3_relu6_s8(",   /* c1 */
                                        "mf_rt_conv_patchgo3_maxpool_s8(", /* c2 */
                                        "mf_rt_conv_patchgo3_s8(",         /* c3 */
                                        NULL};
    firmware_calls_bit_exact(m, 23, N, IN, "deploy_fw_patch_go3_8", calls, "patch go3 int8", 1);
}

/* conv1d over `len` positions of `cin` channels, kernel 9 (a receptive field of 9·cin values),
 * then a global average and a dense layer: random weights, PTQ on random inputs. */
static mf_qmodel *wide_conv(int len, int cin, int bits, float **x_out)
{
    mf_error err;
    mf_shape in = {2, {len, cin}};
    mf_model *m = mf_model_new(&in, &err);
    mf_layer_spec s;
    mf_layer_spec_init(&s, MF_OP_CONV1D, "wide");
    s.filters = 8;
    s.kernel = 9;
    s.padding = MF_PAD_SAME;
    s.activation = MF_ACT_RELU;
    assert_int_equal(mf_model_add(m, &s, &err), MF_OK);
    mf_layer_spec_init(&s, MF_OP_GLOBAL_AVGPOOL, "gap");
    assert_int_equal(mf_model_add(m, &s, &err), MF_OK);
    mf_layer_spec_init(&s, MF_OP_DENSE, "out");
    s.filters = 3;
    assert_int_equal(mf_model_add(m, &s, &err), MF_OK);
    assert_int_equal(mf_model_finalize(m, &err), MF_OK);
    mf_model_init_params(m, 3);
    size_t n = 8 * (size_t)len * (size_t)cin;
    float *x = malloc(sizeof(float) * n);
    mf_rng r;
    mf_rng_seed(&r, 9);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(2.0 * mf_rng_uniform(&r) - 1.0);
    mf_model *folded = mf_fold_model(m, &err);
    assert_non_null(folded);
    double ranges[8];
    assert_int_equal(mf_calibrate(folded, x, 8, 1, ranges, &err), MF_OK);
    mf_quant_options o = {bits, MF_RT_ROUND_HALF_UP, 0, -1};
    mf_qmodel *q = mf_qmodel_build(folded, ranges, &o, &err);
    assert_non_null(q);
    mf_model_free(m);
    *x_out = x;
    return q;
}

/* Regression: the int8 conv kept ~12·K bytes of variable-length arrays on the stack, so a
 * receptive field of thousands of values overflowed into the arena and the firmware printed
 * wrong outputs without an error. Its working memory is now planned scratch: K = 3,600 runs
 * bit-exact in QEMU (int8 and int16), and a field that cannot fit is refused before any file is
 * written, naming the RAM budget and the bytes over. */
static void test_firmware_large_receptive_field(void **state)
{
    (void)state;
    require_toolchain();
    for (int bits = 8; bits <= 16; bits += 8) {
        float *x;
        mf_qmodel *q = wide_conv(16, 400, bits, &x);
        char name[64];
        snprintf(name, sizeof name, "deploy_fw_wide%d", bits);
        const char *dir = tu_tmpdir(name);
        mf_deploy_options o = {0};
        o.out_dir = dir;
        o.vectors = x;
        o.n_vectors = 4;
        o.stream = 1;
        o.cflags = FIRMWARE_CFLAGS;
        mf_deploy_summary sum;
        mf_error err;
        mf_error_clear(&err);
        int rc = mf_deploy_generate(q, NULL, &o, &sum, &err);
        if (rc) fail_msg("generate: %s", err.message);
        mf_deploy_report r;
        mf_deploy_run_options ro = {60, 2, NULL};
        rc = mf_deploy_run(dir, &ro, &r, &err);
        if (rc) fail_msg("run: %s", err.message);
        print_message("int%d conv K = 3600: arena %zu B (scratch included), stack %zu B, bit-exact "
                      "%d/%d\n",
                      bits, r.ram_arena, r.ram_stack_peak, r.bit_exact, r.n_vectors);
        assert_int_equal(r.bit_exact, 4);
        if (bits == 8)
            assert_true(r.ram_arena >= mf_rt_conv_s8_scratch_bytes(
                                           &(mf_rt_geom){1, 16, 400, 1, 16, 8, 1, 9, 1, 1, 0, 4}));
        assert_true(r.ram_stack_peak < 1024);
        mf_deploy_report_free(&r);
        mf_qmodel_free(q);
        free(x);
    }
    /* K = 18,000: ~216 KB of scratch cannot fit 128 KiB */
    float *x;
    mf_qmodel *q = wide_conv(4, 2000, 8, &x);
    const char *dir = tu_tmpdir("deploy_fw_wide_over");
    mf_deploy_options o = {0};
    o.out_dir = dir;
    o.vectors = x;
    o.n_vectors = 1;
    o.stream = 1;
    mf_error err;
    mf_error_clear(&err);
    assert_int_equal(mf_deploy_generate(q, NULL, &o, NULL, &err), MF_ERR);
    print_message("%s\n", err.message);
    assert_non_null(strstr(err.message, "RAM budget"));
    assert_non_null(strstr(err.message, "exceeded by"));
    assert_non_null(strstr(err.message, "scratch"));
    char path[1200];
    snprintf(path, sizeof path, "%s/model.c", dir);
    assert_false(exists(path));
    mf_qmodel_free(q);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_chain_lifetimes),
        cmocka_unit_test(test_plan_inplace_relu_and_views),
        cmocka_unit_test(test_plan_residual_hand_checked),
        cmocka_unit_test(test_plan_overlap_hand_checked),
        cmocka_unit_test(test_plan_random_graphs),
        cmocka_unit_test(test_plan_errors),
        cmocka_unit_test(test_unlowerable_layer_before_any_file),
        cmocka_unit_test(test_budgets_before_any_file),
        cmocka_unit_test(test_linker_budget_messages),
        cmocka_unit_test(test_stack_bound_from_disassembly),
        cmocka_unit_test(test_bad_names_rejected),
        cmocka_unit_test(test_flags_allow_list),
        cmocka_unit_test(test_out_folder),
        cmocka_unit_test(test_firmware_float32),
        cmocka_unit_test(test_firmware_int16),
        cmocka_unit_test(test_firmware_int8),
        cmocka_unit_test(test_firmware_int8_channel_zscore),
        cmocka_unit_test(test_firmware_over_flash_budget),
        cmocka_unit_test(test_firmware_large_receptive_field),
        cmocka_unit_test(test_firmware_pools_build_with_werror),
        cmocka_unit_test(test_firmware_issue23_layers),
        cmocka_unit_test(test_firmware_small_geometry_int8),
        cmocka_unit_test(test_firmware_patch_int8),
        cmocka_unit_test(test_firmware_lanes_int8),
        cmocka_unit_test(test_firmware_dot_int8),
        cmocka_unit_test(test_firmware_patch_go3_int8),
    };
    return cmocka_run_group_tests(tests, setup_fixture, teardown_fixture);
}
