#include <math.h>
#include <stdlib.h>

#include "mf_train.h"

int mf_optimizer_init(mf_optimizer *o, const mf_train_config *tc, size_t n, mf_error *err)
{
    *o = (mf_optimizer){0};
    o->kind = tc->optimizer;
    o->momentum = tc->momentum;
    o->weight_decay = tc->weight_decay;
    o->beta1 = tc->beta1;
    o->beta2 = tc->beta2;
    o->eps = tc->eps;
    o->nesterov = tc->nesterov;
    o->n = n;
    o->m = calloc(n ? n : 1, sizeof(float));
    if (o->kind == MF_OPT_ADAM) o->v = calloc(n ? n : 1, sizeof(float));
    if (!o->m || (o->kind == MF_OPT_ADAM && !o->v)) {
        mf_optimizer_free(o);
        return mf_error_set(err, "out of memory for optimizer state");
    }
    return MF_OK;
}

void mf_optimizer_free(mf_optimizer *o)
{
    free(o->m);
    free(o->v);
    o->m = o->v = NULL;
}

void mf_optimizer_step(mf_optimizer *o, float *w, const float *grad, float lr)
{
    const float wd = o->weight_decay;
    o->step++;
    if (o->kind == MF_OPT_SGD) {
        const float mom = o->momentum;
        for (size_t i = 0; i < o->n; i++) {
            float g = grad[i] + wd * w[i];
            if (mom != 0.0f) {
                /* PyTorch: the first step sets the buffer to g */
                o->m[i] = o->step == 1 ? g : mom * o->m[i] + g;
                g = o->nesterov ? g + mom * o->m[i] : o->m[i];
            }
            w[i] -= lr * g;
        }
        return;
    }
    const float b1 = o->beta1, b2 = o->beta2;
    const double c1 = 1.0 - pow(b1, (double)o->step), c2 = 1.0 - pow(b2, (double)o->step);
    const float step = (float)(lr / c1);
    const float sc2 = (float)sqrt(c2);
    for (size_t i = 0; i < o->n; i++) {
        float g = grad[i] + wd * w[i];
        o->m[i] = b1 * o->m[i] + (1.0f - b1) * g;
        o->v[i] = b2 * o->v[i] + (1.0f - b2) * g * g;
        w[i] -= step * o->m[i] / (sqrtf(o->v[i]) / sc2 + o->eps);
    }
}

float mf_schedule_lr(const mf_train_config *tc, int epoch)
{
    switch (tc->schedule) {
    case MF_SCHED_MULTISTEP: {
        double lr = tc->lr;
        for (unsigned i = 0; i < tc->milestones_count; i++)
            if (epoch >= tc->milestones[i]) lr *= tc->gamma;
        return (float)lr;
    }
    case MF_SCHED_COSINE: {
        double t = tc->epochs > 1 ? (double)epoch / (double)tc->epochs : 0.0;
        return (float)(tc->min_lr +
                       (tc->lr - tc->min_lr) * 0.5 * (1.0 + cos(3.141592653589793 * t)));
    }
    case MF_SCHED_CONSTANT:
    default:
        return tc->lr;
    }
}
