/* Running a quantized (or float) model on the host: the lowered program (lower/), unfused and
 * with every tensor kept, executed by the interpreter with the runtime kernels, the same C the
 * firmware compiles, so host figures and target figures agree bit for bit. This file only
 * quantizes inputs, dequantizes outputs and spreads predictions over threads. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mf_quantize.h"
#include "mf_runtime.h"

struct mf_qexec {
    const mf_qmodel *q; /* NULL: float32 */
    const mf_model *m;
    mf_program prog; /* unfused, every tensor kept: per-node outputs stay readable */
    void *arena;
};

void mf_qexec_free(mf_qexec *e)
{
    if (!e) return;
    mf_program_free(&e->prog);
    free(e->arena);
    free(e);
}

mf_qexec *mf_qexec_new(const mf_qmodel *q, const mf_model *model, mf_error *err)
{
    mf_qexec *e = calloc(1, sizeof *e);
    if (!e) {
        mf_error_set(err, "out of memory for the interpreter");
        return NULL;
    }
    e->q = q;
    e->m = q ? q->model : model;
    mf_lower_options o = {.fuse_pools = 0, .keep_all = 1, .align = 8};
    if (mf_lower_program(q, e->m, &o, &e->prog, err)) {
        free(e);
        return NULL;
    }
    e->arena = calloc(1, e->prog.plan.arena ? e->prog.plan.arena : 1);
    if (!e->arena) {
        mf_qexec_free(e);
        mf_error_set(err, "out of memory for the interpreter");
        return NULL;
    }
    return e;
}

int mf_qexec_refresh(mf_qexec *e, mf_error *err)
{
    mf_program_free(&e->prog);
    mf_lower_options o = {.fuse_pools = 0, .keep_all = 1, .align = 8};
    return mf_lower_program(e->q, e->m, &o, &e->prog, err);
}

/* the storage of node i's output in the arena (every node has its own: keep_all) */
static void *node_buf(const mf_qexec *e, int node)
{
    const mf_program *p = &e->prog;
    while (p->call_of[node] < 0 && node != 0)
        node = e->m->nodes[node].inputs[0]; /* a view */
    size_t off = node == 0 ? p->in_off : p->calls[p->call_of[node]].out_off;
    return (char *)e->arena + off;
}

static void quantize_into(const mf_qexec *e, const float *x, size_t count, int n, void *dst)
{
    for (size_t i = 0; i < count; i++) {
        int64_t v = mf_quantize_value(x[i], n, e->q->bits);
        if (e->q->bits == 8)
            ((int8_t *)dst)[i] = (int8_t)v;
        else
            ((int16_t *)dst)[i] = (int16_t)v;
    }
}

static void dequantize(const mf_qexec *e, const void *y, size_t count, int n, float *out)
{
    for (size_t i = 0; i < count; i++)
        out[i] =
            !e->q ? ((const float *)y)[i]
                  : (float)ldexp(e->q->bits == 8 ? ((const int8_t *)y)[i] : ((const int16_t *)y)[i],
                                 -n);
}

void mf_qexec_run(mf_qexec *e, const float *x, float *out)
{
    const mf_model *m = e->m;
    size_t in = mf_model_input_size(m);
    void *q_in = node_buf(e, 0);
    /* the runtime's input quantizer, as the firmware's model_quantize_input (x is already
     * preprocessed: no statistics here) */
    if (!e->q)
        memcpy(q_in, x, sizeof(float) * in);
    else if (e->q->bits == 8)
        mf_rt_input_s8(in, x, NULL, NULL, 0, e->prog.in_scale, q_in);
    else
        mf_rt_input_s16(in, x, NULL, NULL, 0, e->prog.in_scale, q_in);
    mf_program_run(&e->prog, e->arena);
    dequantize(e, node_buf(e, m->output), mf_model_output_size(m),
               e->q ? e->q->nodes[m->output].n_out : 0, out);
}

void mf_qexec_node_batch(mf_qexec *e, int node, const float *const *x, int n, float *y)
{
    const mf_model *m = e->m;
    const mf_node *nd = &m->nodes[node];
    size_t out = mf_shape_size(&nd->out_shape);
    int n_out = e->q ? e->q->nodes[node].n_out : 0;
    if (!e->prog.call_of) return; /* a failed refresh (its error is reported by QAT) */
    int call = e->prog.call_of[node];
    for (int s = 0; s < n; s++) {
        for (int k = 0; k < nd->n_inputs; k++) {
            int src = nd->inputs[k];
            size_t cnt = mf_shape_size(&m->nodes[src].out_shape);
            const float *xs = x[k] + (size_t)s * cnt;
            if (!e->q)
                memcpy(node_buf(e, src), xs, sizeof(float) * cnt);
            else
                quantize_into(e, xs, cnt, e->q->nodes[src].n_out, node_buf(e, src));
        }
        if (call >= 0) mf_program_run_call(&e->prog, call, e->arena);
        dequantize(e, node_buf(e, node), out, n_out, y + (size_t)s * out);
    }
}

const void *mf_qexec_node_output(const mf_qexec *e, int node, size_t *count)
{
    *count = mf_shape_size(&e->m->nodes[node].out_shape);
    return node_buf(e, node);
}

typedef struct {
    const mf_qmodel *q;
    const mf_model *m;
    const float *x;
    int lo, hi;
    int *pred;
    int rc;
    mf_error err;
} predict_job;

static void *predict_range(void *p)
{
    predict_job *j = p;
    mf_qexec *e = mf_qexec_new(j->q, j->m, &j->err);
    if (!e) {
        j->rc = MF_ERR;
        return NULL;
    }
    const mf_model *m = j->q ? j->q->model : j->m;
    size_t in = mf_model_input_size(m);
    int k = (int)mf_model_output_size(m);
    float *logits = malloc(sizeof(float) * (size_t)k);
    if (!logits) {
        mf_qexec_free(e);
        j->rc = mf_error_set(&j->err, "out of memory");
        return NULL;
    }
    for (int s = j->lo; s < j->hi; s++) {
        mf_qexec_run(e, j->x + (size_t)s * in, logits);
        int best = 0;
        for (int c = 1; c < k; c++)
            if (logits[c] > logits[best]) best = c;
        j->pred[s] = best;
    }
    free(logits);
    mf_qexec_free(e);
    j->rc = MF_OK;
    return NULL;
}

int mf_qexec_predict(const mf_qmodel *q, const mf_model *model, const float *x, int n, int threads,
                     int *pred, mf_error *err)
{
    if (threads < 1) threads = 1;
    if (threads > 64) threads = 64;
    predict_job jobs[64];
    pthread_t tid[64];
    for (int t = 0; t < threads; t++) {
        memset(&jobs[t], 0, sizeof jobs[t]);
        jobs[t].q = q;
        jobs[t].m = model;
        jobs[t].x = x;
        jobs[t].lo = (int)((long)n * t / threads);
        jobs[t].hi = (int)((long)n * (t + 1) / threads);
        jobs[t].pred = pred;
        if (t > 0 && pthread_create(&tid[t], NULL, predict_range, &jobs[t]) != 0) {
            predict_range(&jobs[t]); /* run it here rather than fail */
            tid[t] = 0;
        }
    }
    predict_range(&jobs[0]);
    for (int t = 1; t < threads; t++)
        if (tid[t]) pthread_join(tid[t], NULL);
    for (int t = 0; t < threads; t++)
        if (jobs[t].rc) {
            *err = jobs[t].err;
            return MF_ERR;
        }
    return MF_OK;
}
