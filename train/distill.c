/* Knowledge distillation (Hinton, Vinyals & Dean 2015) as a training loss: the student learns
 * from the labels and from a teacher's temperature-softened outputs.
 *
 * The teacher's outputs are computed on the fly, one inference-mode forward pass of the teacher
 * per batch shard, not cached per epoch. With mixup every batch mixes new pairs of samples with
 * a new λ, and a network's output on a mixed sample is not the mix of its outputs, so outputs
 * cached per sample would be wrong exactly where mixup is on; pruning's fine-tuning changes
 * nothing the teacher sees, but one code path that is exact everywhere is worth more than the
 * saving. The cost is a teacher forward per step (no backward, no stored activations).
 *
 * The trainer's samples carry the student's input normalisation; the teacher gets them back in
 * its own: x_teacher = (x·std_s + mean_s − mean_t) / std_t per input element, an affine map, so
 * it commutes with mixup's convex combination (the teacher sees the mixed raw sample in its own
 * normalisation). With identical statistics the student's samples go to the teacher as they are,
 * bit for bit. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mf_model_io.h"
#include "mf_train.h"

struct mf_distiller {
    mf_model *teacher;
    int shards, batch;
    size_t in;
    /* the teacher's input = x·scale + offset per element; NULL: the same normalisation */
    double *scale, *offset;
    mf_workspace **ws; /* one per shard: shards run in parallel */
    float **xbuf;      /* per shard: the teacher's input (only with scale) */
};

double mf_distill_xent(const float *logits, const float *teacher, int n, int k, const int *labels_a,
                       const int *labels_b, float lambda, float temperature, float alpha,
                       int scale_n, float *dlogits, int *correct)
{
    double ce =
        mf_softmax_xent(logits, n, k, labels_a, labels_b, lambda, scale_n, dlogits, correct);
    /* α = 0 is the cross-entropy itself, loss and gradient bit for bit */
    if (alpha == 0.0f) return ce;
    const double t = temperature, a = alpha, inv = 1.0 / (double)scale_n;
    double kl = 0.0;
    for (int i = 0; i < n; i++) {
        const float *zs = logits + (size_t)i * k, *zt = teacher + (size_t)i * k;
        /* log-softmax of z/T in double around the max, for both */
        double ms = zs[0] / t, mt = zt[0] / t;
        for (int j = 1; j < k; j++) {
            if (zs[j] / t > ms) ms = zs[j] / t;
            if (zt[j] / t > mt) mt = zt[j] / t;
        }
        double ss = 0.0, st = 0.0;
        for (int j = 0; j < k; j++) {
            ss += exp(zs[j] / t - ms);
            st += exp(zt[j] / t - mt);
        }
        const double lse_s = ms + log(ss), lse_t = mt + log(st);
        float *d = dlogits ? dlogits + (size_t)i * k : NULL;
        for (int j = 0; j < k; j++) {
            double ls = zs[j] / t - lse_s, lt = zt[j] / t - lse_t;
            double ps = exp(ls), pt = exp(lt);
            kl += pt * (lt - ls);
            /* d(T²·KL)/dz_s = T²·(1/T)·(p_s − p_t) */
            if (d) d[j] = (float)((1.0 - a) * d[j] + a * t * (ps - pt) * inv);
        }
    }
    return (1.0 - a) * ce + a * t * t * kl;
}

/* mean and std of element e under p (none: 0 and 1) */
static void stat_at(const mf_preprocess *p, size_t e, double *mean, double *std)
{
    if (p->kind == 0 || p->n == 0) {
        *mean = 0.0, *std = 1.0;
        return;
    }
    *mean = p->mean[e % p->n], *std = p->std[e % p->n];
}

void mf_distiller_free(mf_distiller *t)
{
    if (!t) return;
    for (int s = 0; s < t->shards; s++) {
        if (t->ws) mf_workspace_free(t->ws[s]);
        if (t->xbuf) free(t->xbuf[s]);
    }
    free(t->ws);
    free(t->xbuf);
    free(t->scale);
    free(t->offset);
    mf_model_free(t->teacher);
    free(t);
}

/* The error so far (from loading) or a new one, located at the teacher file and its field. */
static int teacher_fail(mf_error *err, const char *path, const char *field)
{
    if (!err) return MF_ERR;
    if (!err->file[0]) mf_error_at(err, path, 0, 0, NULL);
    mf_error_at(err, NULL, 0, 0, field);
    return MF_ERR;
}

/* The teacher must read the student's samples and mean the same classes by the same indices. */
static int check_teacher(const mf_model *t, const char *path, const char *field,
                         const mf_dataset *d, mf_error *err)
{
    char a[64], b[64];
    if (!mf_shape_equal(&t->input_shape, &d->shape)) {
        mf_error_set(err, "the teacher takes %s samples, the student's dataset '%s' has %s",
                     mf_shape_str(&t->input_shape, a, sizeof a), d->name,
                     mf_shape_str(&d->shape, b, sizeof b));
        return teacher_fail(err, path, field);
    }
    if ((int)mf_model_output_size(t) != d->classes) {
        mf_error_set(err, "the teacher predicts %zu classes, the student's dataset '%s' has %d",
                     mf_model_output_size(t), d->name, d->classes);
        return teacher_fail(err, path, field);
    }
    /* names are compared when both sides have them (a synthetic dataset has none) */
    if (t->n_class_names && d->class_names)
        for (int c = 0; c < d->classes; c++)
            if (strcmp(t->class_names[c], d->class_names[c])) {
                mf_error_set(err,
                             "class %d is '%s' for the teacher and '%s' in the student's "
                             "dataset '%s'",
                             c, t->class_names[c], d->class_names[c], d->name);
                return teacher_fail(err, path, field);
            }
    return MF_OK;
}

int mf_distiller_open(const mf_distill_config *dc, const mf_model *student, const mf_dataset *d,
                      int shards, int batch, FILE *log, mf_distiller **out, mf_error *err)
{
    *out = NULL;
    const char *section = dc->section ? dc->section : "train.distill";
    char field[96];
    snprintf(field, sizeof field, "%s.temperature", section);
    if (!(dc->temperature > 0.0f && isfinite(dc->temperature))) {
        mf_error_set(err, "must be a finite number > 0, found %g", (double)dc->temperature);
        mf_error_at(err, NULL, 0, 0, field);
        return MF_ERR;
    }
    snprintf(field, sizeof field, "%s.alpha", section);
    if (!(dc->alpha >= 0.0f && dc->alpha <= 1.0f)) {
        mf_error_set(err, "must be in [0, 1], found %g", (double)dc->alpha);
        mf_error_at(err, NULL, 0, 0, field);
        return MF_ERR;
    }
    snprintf(field, sizeof field, "%s.teacher", section);
    if (!dc->teacher || !dc->teacher[0]) {
        mf_error_set(err, "no teacher model file given");
        mf_error_at(err, NULL, 0, 0, field);
        return MF_ERR;
    }
    mf_distiller *t = calloc(1, sizeof *t);
    if (!t) return mf_error_set(err, "out of memory");
    t->in = mf_model_input_size(student);
    t->batch = batch;
    t->teacher = mf_model_load(dc->teacher, err);
    if (!t->teacher) {
        char why[sizeof err->message];
        snprintf(why, sizeof why, "%s", err->message);
        mf_error_set(err, "cannot load the teacher: %s", why);
        /* the loader's location (the file, a dataset inside it) stays */
        mf_distiller_free(t);
        return teacher_fail(err, dc->teacher, field);
    }
    if (check_teacher(t->teacher, dc->teacher, field, d, err)) {
        mf_distiller_free(t);
        return MF_ERR;
    }
    int same = 1;
    for (size_t e = 0; e < t->in && same; e++) {
        double ms, ss, mt, st;
        stat_at(&student->pre, e, &ms, &ss);
        stat_at(&t->teacher->pre, e, &mt, &st);
        same = ms == mt && ss == st;
    }
    if (!same) {
        t->scale = malloc(sizeof(double) * t->in);
        t->offset = malloc(sizeof(double) * t->in);
        if (!t->scale || !t->offset) goto oom;
        for (size_t e = 0; e < t->in; e++) {
            double ms, ss, mt, st;
            stat_at(&student->pre, e, &ms, &ss);
            stat_at(&t->teacher->pre, e, &mt, &st);
            t->scale[e] = ss / st;
            t->offset[e] = (ms - mt) / st;
        }
    }
    t->ws = calloc((size_t)shards, sizeof *t->ws);
    t->xbuf = calloc((size_t)shards, sizeof *t->xbuf);
    if (!t->ws || !t->xbuf) goto oom;
    t->shards = shards;
    for (int s = 0; s < shards; s++) {
        t->ws[s] = mf_workspace_new(t->teacher, batch, 0, err);
        if (!t->ws[s]) {
            mf_distiller_free(t);
            return MF_ERR;
        }
        if (t->scale && !(t->xbuf[s] = malloc(sizeof(float) * t->in * (size_t)batch))) goto oom;
    }
    if (log) {
        fprintf(log,
                "distillation: teacher %s (%zu parameters, %llu MACs per inference%s), "
                "temperature %g, alpha %g; its outputs computed on the fly\n",
                dc->teacher, t->teacher->n_params, (unsigned long long)mf_model_macs(t->teacher),
                t->scale ? ", its own input normalisation" : "", (double)dc->temperature,
                (double)dc->alpha);
        fflush(log);
    }
    *out = t;
    return MF_OK;
oom:
    mf_distiller_free(t);
    return mf_error_set(err, "out of memory for the distillation teacher (batch %d)", batch);
}

const float *mf_distiller_logits(mf_distiller *t, int shard, const float *x, int n)
{
    const float *in = x;
    if (t->scale) {
        float *dst = t->xbuf[shard];
        for (int i = 0; i < n; i++)
            for (size_t e = 0; e < t->in; e++) {
                size_t at = (size_t)i * t->in + e;
                dst[at] = (float)((double)x[at] * t->scale[e] + t->offset[e]);
            }
        in = dst;
    }
    return mf_forward(t->ws[shard], t->teacher->params, t->teacher->state, in, n, 0, 0, 0);
}
