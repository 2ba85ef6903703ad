/* The host interpreter: runs a quantized (or float) model one sample at a time through the
 * runtime kernels of deploy/runtime — the same C the firmware compiles — so host figures and
 * target figures agree bit for bit. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mf_quantize.h"
#include "mf_runtime.h"

struct mf_qexec {
    const mf_qmodel *q; /* NULL: float32 */
    const mf_model *m;
    int esz;    /* bytes per activation element: 1, 2 or 4 */
    void **buf; /* per node output */
    void *mem;
    float **wf; /* float path: weights in runtime layout, per node */
};

void mf_qexec_free(mf_qexec *e)
{
    if (!e) return;
    if (e->wf)
        for (int i = 0; i < e->m->n_nodes; i++)
            free(e->wf[i]);
    free(e->wf);
    free(e->buf);
    free(e->mem);
    free(e);
}

static int is_weighted(mf_op op)
{
    return op == MF_OP_CONV1D || op == MF_OP_CONV2D || op == MF_OP_DENSE;
}

mf_qexec *mf_qexec_new(const mf_qmodel *q, const mf_model *model, mf_error *err)
{
    const mf_model *m = q ? q->model : model;
    mf_qexec *e = calloc(1, sizeof *e);
    if (!e) goto oom;
    e->q = q;
    e->m = m;
    e->esz = q ? (q->bits == 8 ? 1 : 2) : 4;
    e->buf = calloc((size_t)m->n_nodes, sizeof *e->buf);
    if (!e->buf) goto oom;
    size_t total = 0;
    for (int i = 0; i < m->n_nodes; i++)
        if (!m->nodes[i].alias_input) total += mf_shape_size(&m->nodes[i].out_shape);
    e->mem = malloc((size_t)e->esz * total);
    if (!e->mem) goto oom;
    size_t off = 0;
    for (int k = 0; k < m->n_nodes; k++) {
        int i = m->order[k];
        if (m->nodes[i].alias_input) {
            e->buf[i] = e->buf[m->nodes[i].inputs[0]];
            continue;
        }
        e->buf[i] = (char *)e->mem + off * (size_t)e->esz;
        off += mf_shape_size(&m->nodes[i].out_shape);
    }
    if (!q) {
        /* float weights to the runtime layout [cout][k…][cin] */
        e->wf = calloc((size_t)m->n_nodes, sizeof *e->wf);
        if (!e->wf) goto oom;
        for (int i = 1; i < m->n_nodes; i++) {
            if (!is_weighted(m->nodes[i].spec.op)) continue;
            mf_param_desc d[4];
            mf_node_params(m, i, d);
            const float *w = m->params + m->nodes[i].param_offset + d[0].offset;
            int cout = d[0].shape.dim[d[0].shape.rank - 1];
            size_t kk = mf_shape_size(&d[0].shape) / (size_t)cout;
            e->wf[i] = malloc(sizeof(float) * kk * cout);
            if (!e->wf[i]) goto oom;
            for (int c = 0; c < cout; c++)
                for (size_t x = 0; x < kk; x++)
                    e->wf[i][(size_t)c * kk + x] = w[x * cout + c];
        }
    }
    return e;
oom:
    mf_qexec_free(e);
    mf_error_set(err, "out of memory for the interpreter");
    return NULL;
}

static mf_rt_geom geom_of(const mf_model *m, int i)
{
    mf_window w;
    mf_node_window(m, i, &w);
    mf_rt_geom g = {w.h,  w.w,  w.cin, w.oh, w.ow,      w.cout,
                    w.kh, w.kw, w.sh,  w.sw, w.pad_top, w.pad_left};
    return g;
}

static void run_node(mf_qexec *e, int i)
{
    const mf_model *m = e->m;
    const mf_node *node = &m->nodes[i];
    const mf_qmodel *q = e->q;
    const mf_qnode *qn = q ? &q->nodes[i] : NULL;
    const void *in = e->buf[node->inputs[0]];
    void *out = e->buf[i];
    int relu = node->spec.activation == MF_ACT_RELU;
    int rnd = q ? q->rounding : 0;
    int n_in = q ? q->nodes[node->inputs[0]].n_out : 0;
    mf_rt_requant rq = {0, NULL, relu, rnd};
    if (qn) rq.shift = n_in + qn->n_w - qn->n_out;
    if (qn && qn->shifts) rq.shifts = qn->shifts;
    const float *fb = NULL;
    if (!q && is_weighted(node->spec.op) && node->spec.use_bias) {
        mf_param_desc d[4];
        mf_node_params(m, i, d);
        fb = m->params + node->param_offset + d[1].offset;
    }
    size_t count = mf_shape_size(&node->out_shape);
    switch (node->spec.op) {
    case MF_OP_CONV1D:
    case MF_OP_CONV2D: {
        mf_rt_geom g = geom_of(m, i);
        if (!q)
            mf_rt_conv_f32(&g, in, e->wf[i], fb, relu, out);
        else if (q->bits == 8)
            mf_rt_conv_s8(&g, in, qn->w, qn->bias, &rq, out);
        else
            mf_rt_conv_s16(&g, in, qn->w, qn->bias, &rq, out);
        break;
    }
    case MF_OP_DENSE: {
        int n_i = (int)mf_shape_size(&m->nodes[node->inputs[0]].out_shape), n_o = (int)count;
        if (!q)
            mf_rt_dense_f32(n_i, n_o, in, e->wf[i], fb, relu, out);
        else if (q->bits == 8)
            mf_rt_dense_s8(n_i, n_o, in, qn->w, qn->bias, &rq, out);
        else
            mf_rt_dense_s16(n_i, n_o, in, qn->w, qn->bias, &rq, out);
        break;
    }
    case MF_OP_MAXPOOL1D:
    case MF_OP_MAXPOOL2D: {
        mf_rt_geom g = geom_of(m, i);
        if (!q)
            mf_rt_maxpool_f32(&g, in, 0, out);
        else if (q->bits == 8)
            mf_rt_maxpool_s8(&g, in, 0, out);
        else
            mf_rt_maxpool_s16(&g, in, 0, out);
        break;
    }
    case MF_OP_AVGPOOL1D:
    case MF_OP_AVGPOOL2D: {
        mf_rt_geom g = geom_of(m, i);
        if (!q)
            mf_rt_avgpool_f32(&g, in, 0, out);
        else if (q->bits == 8)
            mf_rt_avgpool_s8(&g, in, 0, rnd, out);
        else
            mf_rt_avgpool_s16(&g, in, 0, rnd, out);
        break;
    }
    case MF_OP_GLOBAL_MAXPOOL:
    case MF_OP_GLOBAL_AVGPOOL: {
        int ch = (int)count;
        int pos = (int)(mf_shape_size(&m->nodes[node->inputs[0]].out_shape) / (size_t)ch);
        int avg = node->spec.op == MF_OP_GLOBAL_AVGPOOL;
        if (!q)
            avg ? mf_rt_global_avgpool_f32(pos, ch, in, out)
                : mf_rt_global_maxpool_f32(pos, ch, in, out);
        else if (q->bits == 8)
            avg ? mf_rt_global_avgpool_s8(pos, ch, in, rnd, out)
                : mf_rt_global_maxpool_s8(pos, ch, in, out);
        else
            avg ? mf_rt_global_avgpool_s16(pos, ch, in, rnd, out)
                : mf_rt_global_maxpool_s16(pos, ch, in, out);
        break;
    }
    case MF_OP_ADD: {
        const void *b = e->buf[node->inputs[1]];
        if (!q) {
            mf_rt_add_f32(count, in, b, relu, out);
            break;
        }
        int n_a = n_in, n_b = q->nodes[node->inputs[1]].n_out;
        int fine = n_a > n_b ? n_a : n_b;
        rq.shift = fine - qn->n_out;
        if (q->bits == 8)
            mf_rt_add_s8(count, in, fine - n_a, b, fine - n_b, &rq, out);
        else
            mf_rt_add_s16(count, in, fine - n_a, b, fine - n_b, &rq, out);
        break;
    }
    case MF_OP_RELU:
        if (!q)
            mf_rt_relu_f32(count, in, out);
        else if (q->bits == 8)
            mf_rt_relu_s8(count, in, out);
        else
            mf_rt_relu_s16(count, in, out);
        break;
    default: /* flatten aliases its input; nothing else survives folding */
        break;
    }
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

void mf_qexec_run(mf_qexec *e, const float *x, float *out)
{
    const mf_model *m = e->m;
    size_t in = mf_model_input_size(m);
    if (!e->q)
        memcpy(e->buf[0], x, sizeof(float) * in);
    else
        quantize_into(e, x, in, e->q->n_in, e->buf[0]);
    for (int k = 1; k < m->n_nodes; k++)
        run_node(e, m->order[k]);
    size_t no = mf_model_output_size(m);
    const void *y = e->buf[m->output];
    if (!e->q) {
        memcpy(out, y, sizeof(float) * no);
        return;
    }
    int n = e->q->nodes[m->output].n_out;
    for (size_t i = 0; i < no; i++)
        out[i] =
            (float)ldexp(e->q->bits == 8 ? ((const int8_t *)y)[i] : ((const int16_t *)y)[i], -n);
}

void mf_qexec_node_batch(mf_qexec *e, int node, const float *const *x, int n, float *y)
{
    const mf_model *m = e->m;
    const mf_node *nd = &m->nodes[node];
    size_t out = mf_shape_size(&nd->out_shape);
    int n_out = e->q ? e->q->nodes[node].n_out : 0;
    for (int s = 0; s < n; s++) {
        for (int k = 0; k < nd->n_inputs; k++) {
            int src = nd->inputs[k];
            size_t cnt = mf_shape_size(&m->nodes[src].out_shape);
            const float *xs = x[k] + (size_t)s * cnt;
            if (!e->q)
                memcpy(e->buf[src], xs, sizeof(float) * cnt);
            else
                quantize_into(e, xs, cnt, e->q->nodes[src].n_out, e->buf[src]);
        }
        run_node(e, node);
        float *ys = y + (size_t)s * out;
        const void *b = e->buf[node];
        for (size_t i = 0; i < out; i++) {
            if (!e->q)
                ys[i] = ((const float *)b)[i];
            else
                ys[i] = (float)ldexp(
                    e->q->bits == 8 ? ((const int8_t *)b)[i] : ((const int16_t *)b)[i], -n_out);
        }
    }
}

const void *mf_qexec_node_output(const mf_qexec *e, int node, size_t *count)
{
    *count = mf_shape_size(&e->m->nodes[node].out_shape);
    return e->buf[node];
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
