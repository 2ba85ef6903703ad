/* Knowledge distillation (train/distill.c and its uses): the loss by hand and its gradient by
 * finite differences, alpha 0 being cross-entropy bit for bit, the teacher's own input
 * normalisation, the refusals (file, shape, classes, class names, temperature, alpha), a
 * student learning from a teacher what its (wrong) labels do not say, with mixup, and the
 * teacher reaching pruning's fine-tuning, QAT and the CLI. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mf_model_io.h"
#include "mf_pipeline.h"
#include "mf_train.h"
#include "testutil.h"

#define FIXTURE MF_SOURCE_DIR "/tests/fixtures/model_v1.h5"

/* The trainer tests' settings for 3 epochs, with distillation's usual T 4 and alpha 0.9. */
static mf_train_config base_config(void)
{
    mf_train_config tc = tu_train_config();
    tc.epochs = 3;
    tc.distill.temperature = 4.0f;
    tc.distill.alpha = 0.9f;
    return tc;
}

/* conv1d(filters, k3, same, relu) → maxpool1d(2) → flatten → dense(classes), input length×2 */
static mf_model *small_model(int length, int filters, int classes, uint64_t seed)
{
    mf_error err;
    mf_shape in = {2, {length, 2}};
    mf_model *m = mf_model_new(&in, &err);
    mf_layer_spec s;
    mf_layer_spec_init(&s, MF_OP_CONV1D, "conv");
    s.filters = filters;
    s.kernel = 3;
    s.padding = MF_PAD_SAME;
    s.activation = MF_ACT_RELU;
    assert_int_equal(mf_model_add(m, &s, &err), MF_OK);
    mf_layer_spec_init(&s, MF_OP_MAXPOOL1D, "pool");
    s.kernel = 2;
    assert_int_equal(mf_model_add(m, &s, &err), MF_OK);
    mf_layer_spec_init(&s, MF_OP_FLATTEN, "flatten");
    assert_int_equal(mf_model_add(m, &s, &err), MF_OK);
    mf_layer_spec_init(&s, MF_OP_DENSE, "out");
    s.filters = classes;
    assert_int_equal(mf_model_add(m, &s, &err), MF_OK);
    assert_int_equal(mf_model_finalize(m, &err), MF_OK);
    mf_model_init_params(m, seed);
    return m;
}

static mf_dataset *synthetic_noise(int n_train, int n_test, float noise, uint64_t seed)
{
    mf_error err;
    mf_dataset *d = NULL;
    mf_shape shape = {2, {16, 2}};
    assert_int_equal(mf_synthetic_generate(&shape, 3, n_train, n_test, noise, seed, &d, &err),
                     MF_OK);
    return d;
}

static mf_dataset *synthetic(int n_train, int n_test, uint64_t seed)
{
    return synthetic_noise(n_train, n_test, 0.5f, seed);
}

static void save(const mf_model *m, const char *path)
{
    mf_error err;
    mf_error_clear(&err);
    if (mf_model_save(m, path, &err)) fail_msg("%s: %s", path, err.message);
}

/* ---- the loss ---- */

static const int K = 4;
static const float Z_S[3 * 4] = {0.3f, -1.2f, 2.0f, 0.5f,  -0.7f, 0.1f,
                                 0.4f, 1.5f,  2.5f, -0.3f, -2.0f, 0.9f};
static const float Z_T[3 * 4] = {1.0f,  -0.5f, 3.0f, -1.0f, 0.2f,  0.2f,
                                 -1.0f, 2.5f,  4.0f, 1.0f,  -3.0f, 0.0f};
static const int LABEL_A[3] = {2, 3, 1}, LABEL_B[3] = {0, 3, 0};

/* softmax(z/T) in double */
static void soft(const float *z, double t, double *p)
{
    double m = z[0] / t, s = 0.0;
    for (int j = 1; j < K; j++)
        if (z[j] / t > m) m = z[j] / t;
    for (int j = 0; j < K; j++)
        s += (p[j] = exp(z[j] / t - m));
    for (int j = 0; j < K; j++)
        p[j] /= s;
}

/* The loss written out from its definition, mixup's labels and λ included. */
static void test_loss_by_hand(void **state)
{
    (void)state;
    const float lambda = 0.3f, t = 2.5f, alpha = 0.6f;
    double expected = 0.0;
    for (int i = 0; i < 3; i++) {
        double p1[4], ps[4], pt[4];
        soft(Z_S + i * K, 1.0, p1);
        soft(Z_S + i * K, t, ps);
        soft(Z_T + i * K, t, pt);
        double ce = -(lambda * log(p1[LABEL_A[i]]) + (1.0 - lambda) * log(p1[LABEL_B[i]]));
        double kl = 0.0;
        for (int j = 0; j < K; j++)
            kl += pt[j] * log(pt[j] / ps[j]);
        expected += (1.0 - alpha) * ce + alpha * (double)t * t * kl;
    }
    int correct = -1;
    double got =
        mf_distill_xent(Z_S, Z_T, 3, K, LABEL_A, LABEL_B, lambda, t, alpha, 3, NULL, &correct);
    assert_true(fabs(got - expected) < 1e-9 * fabs(expected));
    assert_int_equal(correct, 2); /* samples 0 and 1: the argmax is label a */
    /* alpha 1 with the teacher's own logits: no loss at all */
    assert_true(fabs(mf_distill_xent(Z_T, Z_T, 3, K, LABEL_A, NULL, 0.0f, t, 1.0f, 3, NULL, NULL)) <
                1e-12);
}

/* The gradient it writes is the derivative of the loss it returns (central differences), for
 * a shard of a larger batch (scale_n 5 > n 3), with mixup labels; alpha 1 gives the KL term
 * alone, alpha·T·(p_s − p_t) / scale_n exactly. */
static void test_gradient_finite_differences(void **state)
{
    (void)state;
    const float lambda = 0.3f;
    const float temps[3] = {1.0f, 2.5f, 6.0f}, alphas[3] = {0.0f, 0.6f, 1.0f};
    for (int ti = 0; ti < 3; ti++)
        for (int ai = 0; ai < 3; ai++) {
            const float t = temps[ti], a = alphas[ai];
            float d[12];
            mf_distill_xent(Z_S, Z_T, 3, K, LABEL_A, LABEL_B, lambda, t, a, 5, d, NULL);
            for (int e = 0; e < 12; e++) {
                const float h = 1e-2f;
                float z[12];
                memcpy(z, Z_S, sizeof z);
                z[e] = Z_S[e] + h;
                double up =
                    mf_distill_xent(z, Z_T, 3, K, LABEL_A, LABEL_B, lambda, t, a, 5, NULL, NULL);
                z[e] = Z_S[e] - h;
                double down =
                    mf_distill_xent(z, Z_T, 3, K, LABEL_A, LABEL_B, lambda, t, a, 5, NULL, NULL);
                double numeric = (up - down) / (2.0 * ((double)(Z_S[e] + h) - Z_S[e])) / 5.0;
                if (fabs(numeric - d[e]) > 2e-4)
                    fail_msg("T %g alpha %g logit %d: analytic %.7f, numeric %.7f", (double)t,
                             (double)a, e, (double)d[e], numeric);
            }
            if (a != 1.0f) continue;
            for (int i = 0; i < 3; i++) {
                double ps[4], pt[4];
                soft(Z_S + i * K, t, ps);
                soft(Z_T + i * K, t, pt);
                for (int j = 0; j < K; j++)
                    assert_true(fabs(d[i * K + j] - t * (ps[j] - pt[j]) / 5.0) < 1e-6);
            }
        }
}

/* alpha 0 is cross-entropy bit for bit: in the loss, and in a whole training run (with mixup)
 * against training without a teacher. */
static void test_alpha_zero_is_cross_entropy(void **state)
{
    (void)state;
    float d1[12], d2[12];
    int c1, c2;
    double l1 = mf_softmax_xent(Z_S, 3, K, LABEL_A, LABEL_B, 0.3f, 5, d1, &c1);
    double l2 = mf_distill_xent(Z_S, NULL, 3, K, LABEL_A, LABEL_B, 0.3f, 4.0f, 0.0f, 5, d2, &c2);
    assert_true(l1 == l2);
    assert_int_equal(c1, c2);
    assert_memory_equal(d1, d2, sizeof d1);

    const char *dir = tu_tmpdir("distill_alpha0");
    char teacher[1024];
    snprintf(teacher, sizeof teacher, "%s/teacher.h5", dir);
    mf_model *t = small_model(16, 6, 3, 5);
    save(t, teacher);
    mf_model_free(t);
    mf_dataset *d = synthetic(80, 16, 9);
    mf_train_config tc = base_config();
    tc.mixup_alpha = 0.5f;
    mf_model *plain = small_model(16, 4, 3, 11), *distilled = small_model(16, 4, 3, 11);
    mf_train_result res;
    mf_error err;
    assert_int_equal(mf_train(plain, &tc, d, NULL, &res, &err), MF_OK);
    free(res.history);
    tc.distill.teacher = teacher;
    tc.distill.alpha = 0.0f;
    assert_int_equal(mf_train(distilled, &tc, d, NULL, &res, &err), MF_OK);
    free(res.history);
    assert_memory_equal(plain->params, distilled->params, sizeof(float) * plain->n_params);
    /* and a teacher that counts does change the weights */
    mf_model *taught = small_model(16, 4, 3, 11);
    tc.distill.alpha = 0.5f;
    assert_int_equal(mf_train(taught, &tc, d, NULL, &res, &err), MF_OK);
    free(res.history);
    assert_true(memcmp(plain->params, taught->params, sizeof(float) * plain->n_params) != 0);
    mf_model_free(plain);
    mf_model_free(distilled);
    mf_model_free(taught);
    mf_dataset_free(d);
}

/* ---- the teacher's input ---- */

/* The student's samples (normalised per channel with its statistics) reach a teacher with other
 * statistics (per element) as if that teacher had normalised the raw samples itself; a teacher
 * with the student's statistics gets the student's samples bit for bit. */
static void test_teacher_own_normalisation(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("distill_normalisation");
    char path[1024];
    snprintf(path, sizeof path, "%s/teacher.h5", dir);
    mf_error err;
    mf_error_clear(&err);
    mf_dataset *d = synthetic(40, 8, 21);
    const int n = 40;
    const size_t in = 32;
    mf_model *student = small_model(16, 4, 3, 1), *teacher = small_model(16, 5, 3, 2);
    const float s_mean[2] = {0.5f, -1.0f}, s_std[2] = {2.0f, 0.25f};
    assert_int_equal(mf_model_set_preprocess(student, MF_NORM_CHANNEL, 2, s_mean, s_std, &err),
                     MF_OK);
    float t_mean[32], t_std[32];
    for (size_t e = 0; e < in; e++) {
        t_mean[e] = 0.1f * (float)e - 1.3f;
        t_std[e] = 0.5f + 0.05f * (float)e;
    }
    assert_int_equal(mf_model_set_preprocess(teacher, MF_NORM_ELEMENT, in, t_mean, t_std, &err),
                     MF_OK);
    save(teacher, path);

    float *xs = malloc(sizeof(float) * in * n), *xt = malloc(sizeof(float) * in * n);
    memcpy(xs, d->x_train, sizeof(float) * in * n);
    memcpy(xt, d->x_train, sizeof(float) * in * n);
    mf_model_preprocess(student, xs, n);
    mf_model_preprocess(teacher, xt, n); /* by hand: the raw samples, the teacher's statistics */
    mf_workspace *ws = mf_workspace_new(teacher, n, 0, &err);
    const float *expected = mf_forward(ws, teacher->params, teacher->state, xt, n, 0, 0, 0);

    mf_distill_config dc = {path, 4.0f, 0.9f, NULL};
    mf_distiller *t = NULL;
    if (mf_distiller_open(&dc, student, d, 1, n, NULL, &t, &err)) fail_msg("%s", err.message);
    const float *got = mf_distiller_logits(t, 0, xs, n);
    double worst = 0.0;
    for (int i = 0; i < n * 3; i++)
        worst = fmax(worst, fabs((double)got[i] - expected[i]) / (1.0 + fabs(expected[i])));
    if (worst > 1e-5) fail_msg("teacher logits differ from the hand-normalised ones by %g", worst);
    mf_distiller_free(t);

    /* the same statistics: the student's samples as they are */
    assert_int_equal(mf_model_set_preprocess(teacher, MF_NORM_CHANNEL, 2, s_mean, s_std, &err),
                     MF_OK);
    save(teacher, path);
    expected = mf_forward(ws, teacher->params, teacher->state, xs, n, 0, 0, 0);
    if (mf_distiller_open(&dc, student, d, 1, n, NULL, &t, &err)) fail_msg("%s", err.message);
    got = mf_distiller_logits(t, 0, xs, n);
    assert_memory_equal(got, expected, sizeof(float) * 3 * n);
    mf_distiller_free(t);

    mf_workspace_free(ws);
    free(xs);
    free(xt);
    mf_model_free(student);
    mf_model_free(teacher);
    mf_dataset_free(d);
}

/* ---- refusals ---- */

static void expect_refusal(const mf_distill_config *dc, const mf_model *student,
                           const mf_dataset *d, const char *file, const char *field,
                           const char *const *parts)
{
    mf_error err;
    mf_error_clear(&err);
    mf_distiller *t = (mf_distiller *)&err; /* must come back NULL */
    int rc = mf_distiller_open(dc, student, d, 2, 8, NULL, &t, &err);
    char buf[1600];
    mf_error_format(&err, buf, sizeof buf);
    assert_int_equal(rc, MF_ERR);
    assert_null(t);
    for (int i = 0; parts[i]; i++)
        if (!strstr(buf, parts[i])) fail_msg("'%s' is not in: %s", parts[i], buf);
    assert_string_equal(err.field, field);
    if (file) assert_string_equal(err.file, file);
}

static void test_teacher_refused(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("distill_refused");
    char missing[1024], shape[1024], classes[1024], names[1024], good[1024];
    snprintf(missing, sizeof missing, "%s/no_such_teacher.h5", dir);
    snprintf(shape, sizeof shape, "%s/shape.h5", dir);
    snprintf(classes, sizeof classes, "%s/classes.h5", dir);
    snprintf(names, sizeof names, "%s/names.h5", dir);
    snprintf(good, sizeof good, "%s/good.h5", dir);
    mf_error err;
    mf_dataset *d = synthetic(16, 4, 3);
    mf_model *student = small_model(16, 4, 3, 1);

    mf_model *m = small_model(8, 4, 3, 1);
    save(m, shape);
    mf_model_free(m);
    m = small_model(16, 4, 4, 1);
    save(m, classes);
    mf_model_free(m);
    m = small_model(16, 4, 3, 1);
    const char teacher_names[3][MF_LABEL_MAX] = {"walk", "sit", "lie"};
    assert_int_equal(mf_model_set_class_names(m, 3, teacher_names, &err), MF_OK);
    save(m, names);
    mf_model_free(m);
    m = small_model(16, 4, 3, 1);
    save(m, good);
    mf_model_free(m);

    mf_distill_config dc = {missing, 4.0f, 0.9f, NULL};
    const char *const p_missing[] = {missing, "cannot load the teacher", NULL};
    expect_refusal(&dc, student, d, missing, "train.distill.teacher", p_missing);
    dc.section = "prune.distill"; /* pruning's own settings name themselves */
    expect_refusal(&dc, student, d, missing, "prune.distill.teacher", p_missing);
    dc.section = NULL;

    dc.teacher = shape;
    const char *const p_shape[] = {shape, "the teacher takes 8x2 samples",
                                   "the student's dataset 'synthetic' has 16x2", NULL};
    expect_refusal(&dc, student, d, shape, "train.distill.teacher", p_shape);

    dc.teacher = classes;
    const char *const p_classes[] = {"the teacher predicts 4 classes",
                                     "the student's dataset 'synthetic' has 3", NULL};
    expect_refusal(&dc, student, d, classes, "train.distill.teacher", p_classes);

    dc.teacher = names;
    d->class_names = calloc(3, sizeof *d->class_names);
    snprintf(d->class_names[0], MF_LABEL_MAX, "walk");
    snprintf(d->class_names[1], MF_LABEL_MAX, "stand");
    snprintf(d->class_names[2], MF_LABEL_MAX, "lie");
    const char *const p_names[] = {"class 1 is 'sit' for the teacher and 'stand' in the "
                                   "student's dataset 'synthetic'",
                                   NULL};
    expect_refusal(&dc, student, d, names, "train.distill.teacher", p_names);
    /* the same names pass */
    snprintf(d->class_names[1], MF_LABEL_MAX, "sit");
    mf_distiller *t = NULL;
    if (mf_distiller_open(&dc, student, d, 2, 8, NULL, &t, &err)) fail_msg("%s", err.message);
    mf_distiller_free(t);

    dc.teacher = good;
    dc.temperature = 0.0f;
    const char *const p_temp[] = {"must be a finite number > 0, found 0", NULL};
    expect_refusal(&dc, student, d, NULL, "train.distill.temperature", p_temp);
    dc.temperature = -1.0f;
    const char *const p_temp2[] = {"found -1", NULL};
    expect_refusal(&dc, student, d, NULL, "train.distill.temperature", p_temp2);
    dc.temperature = 4.0f;
    dc.alpha = 1.5f;
    const char *const p_alpha[] = {"must be in [0, 1], found 1.5", NULL};
    expect_refusal(&dc, student, d, NULL, "train.distill.alpha", p_alpha);
    dc.alpha = -0.5f;
    const char *const p_alpha2[] = {"found -0.5", NULL};
    expect_refusal(&dc, student, d, NULL, "train.distill.alpha", p_alpha2);

    /* the trainer refuses before training: the student's weights stay as they were */
    mf_train_config tc = base_config();
    tc.distill.teacher = shape;
    float *before = malloc(sizeof(float) * student->n_params);
    memcpy(before, student->params, sizeof(float) * student->n_params);
    mf_train_result res;
    assert_int_equal(mf_train(student, &tc, d, NULL, &res, &err), MF_ERR);
    assert_non_null(strstr(err.message, "the teacher takes 8x2 samples"));
    assert_memory_equal(before, student->params, sizeof(float) * student->n_params);
    free(before);
    mf_model_free(student);
    mf_dataset_free(d);
}

/* ---- training ---- */

/* The student's labels are all wrong (class c labelled c + 1): with alpha 1 it learns the
 * teacher's function instead and is right on the test split (chance: a third); with alpha 0 it
 * learns the wrong labels. Teacher and student normalise per channel with different statistics,
 * and mixup is on: the teacher must see the same mixed samples in its own normalisation for this
 * to work. */
static void test_student_learns_from_teacher(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("distill_learns");
    char path[1024];
    snprintf(path, sizeof path, "%s/teacher.h5", dir);
    mf_error err;
    mf_error_clear(&err);
    mf_train_result res;
    mf_pool *pool = mf_pool_new(1, &err);

    mf_dataset *raw = synthetic_noise(240, 60, 0.3f, 31);
    mf_model *teacher = small_model(16, 8, 3, 7);
    assert_int_equal(mf_model_fit_dataset(teacher, raw, MF_NORM_CHANNEL, &err), MF_OK);
    mf_train_config tc = base_config();
    tc.epochs = 15;
    if (mf_train(teacher, &tc, raw, NULL, &res, &err)) fail_msg("%s", err.message);
    free(res.history);
    double teacher_acc = 0.0;
    assert_int_equal(
        mf_evaluate(teacher, pool, raw->x_test, raw->y_test, raw->n_test, &teacher_acc, NULL, &err),
        MF_OK);
    if (!(teacher_acc > 0.9)) fail_msg("the teacher is right on %.1f %%", 100 * teacher_acc);
    save(teacher, path);

    for (int pass = 0; pass < 2; pass++) {
        mf_dataset *d = synthetic_noise(240, 60, 0.3f, 31);
        /* the student's statistics: the teacher's mean moved by one deviation, twice the
         * deviation (its samples are (x_teacher − 1) / 2) */
        mf_model *student = small_model(16, 4, 3, 13);
        float s_mean[2], s_std[2];
        for (int c = 0; c < 2; c++) {
            s_mean[c] = teacher->pre.mean[c] + teacher->pre.std[c];
            s_std[c] = 2.0f * teacher->pre.std[c];
        }
        assert_int_equal(mf_model_set_preprocess(student, MF_NORM_CHANNEL, 2, s_mean, s_std, &err),
                         MF_OK);
        mf_dataset_apply_model(student, d);
        for (int i = 0; i < d->n_train; i++)
            d->y_train[i] = (d->y_train[i] + 1) % 3;
        tc = base_config();
        tc.epochs = 12;
        tc.mixup_alpha = 0.4f;
        tc.distill.teacher = path;
        tc.distill.temperature = 2.0f;
        tc.distill.alpha = pass == 0 ? 1.0f : 0.0f;
        if (mf_train(student, &tc, d, NULL, &res, &err)) fail_msg("%s", err.message);
        free(res.history);
        double acc = 0.0;
        assert_int_equal(
            mf_evaluate(student, pool, d->x_test, d->y_test, d->n_test, &acc, NULL, &err), MF_OK);
        if (pass == 0 && !(acc > 0.75))
            fail_msg("alpha 1: the student is right on %.1f %% (teacher %.1f %%)", 100 * acc,
                     100 * teacher_acc);
        if (pass == 1 && !(acc < 0.2))
            fail_msg("alpha 0: the student is right on %.1f %% despite its labels", 100 * acc);
        mf_model_free(student);
        mf_dataset_free(d);
    }
    mf_pool_free(pool);
    mf_model_free(teacher);
    mf_dataset_free(raw);
}

/* The text a run wrote to log (a tmpfile), NUL-terminated, malloc'd. */
static char *read_log(FILE *log)
{
    long size = ftell(log);
    assert_true(size >= 0);
    char *text = calloc((size_t)size + 1, 1);
    rewind(log);
    assert_int_equal(fread(text, 1, (size_t)size, log), (size_t)size);
    return text;
}

static float *copy_params(const char *path, size_t *n)
{
    mf_error err;
    mf_model *m = mf_model_load(path, &err);
    assert_non_null(m);
    float *p = malloc(sizeof(float) * m->n_params);
    memcpy(p, m->params, sizeof(float) * m->n_params);
    *n = m->n_params;
    mf_model_free(m);
    return p;
}

/* Pruning's fine-tuning: prune.distill (the request's) with no teacher distils from the model
 * being pruned; the embedded config's train.distill (here by override) applies otherwise; alpha
 * 0 is the same as no distillation; a bad teacher stops pruning before anything is written. */
static void test_prune_fine_tuning(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("distill_prune");
    char plain[1024], dense_teacher[1024], embedded[1024], zero[1024], never[1024];
    snprintf(plain, sizeof plain, "%s/plain.h5", dir);
    snprintf(dense_teacher, sizeof dense_teacher, "%s/dense_teacher.h5", dir);
    snprintf(embedded, sizeof embedded, "%s/embedded.h5", dir);
    snprintf(zero, sizeof zero, "%s/zero.h5", dir);
    snprintf(never, sizeof never, "%s/never.h5", dir);
    mf_error err;
    mf_error_clear(&err);
    mf_prune_request r = {FIXTURE, plain, {.sparsity = 0.6}, 2, 0.0, 0.0, 1, 2, 1, NULL, 0, NULL};
    if (mf_pipeline_prune(&r, NULL, &err)) fail_msg("%s", err.message);

    mf_distill_config dc = {NULL, 3.0f, 0.8f, "prune.distill"};
    r.out_path = dense_teacher;
    r.distill = &dc;
    FILE *log = tmpfile();
    if (mf_pipeline_prune(&r, log, &err)) fail_msg("%s", err.message);
    char *text = read_log(log);
    fclose(log);
    char expected[1200];
    snprintf(expected, sizeof expected, "distillation: teacher %s (", FIXTURE);
    if (!strstr(text, expected)) fail_msg("'%s' is not in the log:\n%s", expected, text);
    assert_non_null(strstr(text, "temperature 3, alpha 0.8"));
    free(text);

    char *over[] = {"train.distill.teacher=" FIXTURE, "train.distill.alpha=0.5"};
    r.out_path = embedded;
    r.distill = NULL;
    r.overrides = over;
    r.n_overrides = 2;
    log = tmpfile();
    if (mf_pipeline_prune(&r, log, &err)) fail_msg("%s", err.message);
    text = read_log(log);
    fclose(log);
    assert_non_null(strstr(text, expected));
    assert_non_null(strstr(text, "alpha 0.5"));
    free(text);

    dc.alpha = 0.0f;
    r.out_path = zero;
    r.distill = &dc;
    r.overrides = NULL;
    r.n_overrides = 0;
    if (mf_pipeline_prune(&r, NULL, &err)) fail_msg("%s", err.message);

    size_t n;
    float *p_plain = copy_params(plain, &n), *p_teacher = copy_params(dense_teacher, &n),
          *p_embedded = copy_params(embedded, &n), *p_zero = copy_params(zero, &n);
    assert_memory_equal(p_plain, p_zero, sizeof(float) * n);
    assert_true(memcmp(p_plain, p_teacher, sizeof(float) * n) != 0);
    assert_true(memcmp(p_plain, p_embedded, sizeof(float) * n) != 0);
    assert_true(memcmp(p_teacher, p_embedded, sizeof(float) * n) != 0);
    free(p_plain);
    free(p_teacher);
    free(p_embedded);
    free(p_zero);

    dc.alpha = 0.8f;
    dc.teacher = "/nonexistent/teacher.h5";
    r.out_path = never;
    assert_int_equal(mf_pipeline_prune(&r, NULL, &err), MF_ERR);
    assert_string_equal(err.field, "prune.distill.teacher");
    assert_non_null(strstr(err.message, "cannot load the teacher"));
    assert_int_equal(tu_count_entries(dir), 4);
}

/* QAT's fine-tuning takes the embedded config's train.distill (here by override). */
static void test_qat_fine_tuning(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("distill_qat");
    char plain[1024], taught[1024];
    snprintf(plain, sizeof plain, "%s/plain.q8.h5", dir);
    snprintf(taught, sizeof taught, "%s/taught.q8.h5", dir);
    mf_error err;
    mf_error_clear(&err);
    mf_quantize_request q = {FIXTURE, plain, {{8, MF_RT_ROUND_HALF_UP, 0, -1}, 0, 0, 1}, 1, 2, 0.01,
                             NULL,    0};
    if (mf_pipeline_quantize(&q, NULL, &err)) fail_msg("%s", err.message);
    char *over[] = {"train.distill.teacher=" FIXTURE};
    q.out_path = taught;
    q.overrides = over;
    q.n_overrides = 1;
    FILE *log = tmpfile();
    if (mf_pipeline_quantize(&q, log, &err)) fail_msg("%s", err.message);
    char *text = read_log(log);
    fclose(log);
    char expected[1200];
    snprintf(expected, sizeof expected, "distillation: teacher %s (", FIXTURE);
    if (!strstr(text, expected)) fail_msg("'%s' is not in the log:\n%s", expected, text);
    free(text);
    size_t n;
    float *a = copy_params(plain, &n), *b = copy_params(taught, &n);
    assert_true(memcmp(a, b, sizeof(float) * n) != 0); /* the shadow weights took another path */
    free(a);
    free(b);

    char *missing[] = {"train.distill.teacher=/nonexistent/teacher.h5"};
    q.overrides = missing;
    assert_int_equal(mf_pipeline_quantize(&q, NULL, &err), MF_ERR);
    assert_string_equal(err.field, "train.distill.teacher");
    assert_string_equal(err.file, "/nonexistent/teacher.h5");
}

/* The CLI: `mcuforge train CONFIG train.distill.teacher=...` distils (and says so); a teacher
 * of another shape exits 1 naming the file, the field and both shapes. */
static void test_cli(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("distill_cli");
    char exe[1024], out[16384], cfg[1024], teacher_arg[1200], bad_arg[1300], output_arg[1200];
    snprintf(exe, sizeof exe, "%s/mcuforge", MF_BINARY_DIR);
    snprintf(cfg, sizeof cfg, "%s",
             tu_write_file(dir, "student.yaml",
                           "dataset: {name: synthetic, shape: [16, 2], classes: 3, "
                           "train_samples: 64, test_samples: 16, noise: 0.5}\n"
                           "model:\n  layers:\n"
                           "    - {name: conv1, type: conv1d, filters: 2, kernel: 3}\n"
                           "    - {type: flatten}\n    - {name: fc, type: dense, units: 3}\n"
                           "train: {epochs: 1, batch_size: 16, threads: 1, progress: none}\n"));
    snprintf(teacher_arg, sizeof teacher_arg, "train.distill.teacher=%s", FIXTURE);
    snprintf(output_arg, sizeof output_arg, "train.output=%s/student/model.h5", dir);
    char *ok[] = {exe, "train", cfg, teacher_arg, output_arg, NULL};
    int rc = tu_run_capture(NULL, ok, out, sizeof out);
    if (rc != 0) fail_msg("exit %d: %s", rc, out);
    assert_non_null(strstr(out, "distillation: teacher"));
    /* the model file's embedded config names its teacher */
    char student[1200];
    snprintf(student, sizeof student, "%s/student/model.h5", dir);
    mf_error err;
    mf_model *m = mf_model_load(student, &err);
    assert_non_null(m);
    assert_non_null(strstr(m->config_text, "teacher: " FIXTURE));
    mf_model_free(m);

    snprintf(bad_arg, sizeof bad_arg, "train.distill.teacher=%s", student);
    char *wrong[] = {exe, "train", cfg, bad_arg, "dataset.shape=[8, 2]", output_arg, NULL};
    rc = tu_run_capture(NULL, wrong, out, sizeof out);
    assert_int_equal(rc, 1);
    char expected[2048];
    snprintf(expected, sizeof expected,
             "%s: train.distill.teacher: the teacher takes 16x2 samples, the student's dataset "
             "'synthetic' has 8x2",
             student);
    if (!strstr(out, expected)) fail_msg("'%s' is not in: %s", expected, out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loss_by_hand),
        cmocka_unit_test(test_gradient_finite_differences),
        cmocka_unit_test(test_alpha_zero_is_cross_entropy),
        cmocka_unit_test(test_teacher_own_normalisation),
        cmocka_unit_test(test_teacher_refused),
        cmocka_unit_test(test_student_learns_from_teacher),
        cmocka_unit_test(test_prune_fine_tuning),
        cmocka_unit_test(test_qat_fine_tuning),
        cmocka_unit_test(test_cli),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
