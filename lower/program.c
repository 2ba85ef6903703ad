/* Lowering a model into a program: validation of every node, conv → max-pool fusion, one call
 * per remaining op (ops.c), the memory plan over activations and kernel scratch, arena offsets. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lower_internal.h"

void mf_program_free(mf_program *p)
{
    if (!p) return;
    if (p->wf)
        for (int i = 0; i < p->m->n_nodes; i++)
            free(p->wf[i]);
    free(p->wf);
    if (p->bf)
        for (int i = 0; i < p->m->n_nodes; i++)
            free(p->bf[i]);
    free(p->bf);
    for (int k = 0; p->calls && k < p->n_calls; k++)
        if (p->calls[k].sparse) {
            free((void *)p->calls[k].w.data);
            free((void *)p->calls[k].idx.data);
        }
    free(p->calls);
    free(p->call_of);
    mf_plan_free(&p->plan);
    memset(p, 0, sizeof *p);
}

/* Only C identifiers reach generated C (core/graph.c enforces the same when a model is built or
 * loaded; checked again here, since the names go into code and comments). */
static int name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= MF_NAME_MAX || isdigit((unsigned char)s[0])) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(isalnum(c) || c == '_')) return 0;
    }
    return 1;
}

static int validate(const lower_ctx *x, mf_error *err)
{
    const mf_model *m = x->m;
    for (int k = 1; k < m->n_nodes; k++) {
        int i = m->order[k];
        const mf_node *node = &m->nodes[i];
        if (!name_ok(node->spec.name))
            return mf_error_set(err,
                                "layer name '%s' cannot be used in generated C (a C identifier "
                                "of 1 to %d letters, digits and '_' is required)",
                                node->spec.name, MF_NAME_MAX - 1);
        const lower_entry *e = mf_lower_entry(node->spec.op);
        if (!e)
            return mf_error_set(err,
                                "layer '%s' (%s) cannot be lowered to kernels: there are kernels "
                                "for conv1d, conv2d, depthwise convs, dense, batch-norm, "
                                "max/average pools, global pools, add, concat, relu, relu6 and "
                                "flatten",
                                node->spec.name, mf_op_get(node->spec.op)->name);
        if (e->validate && e->validate(x, i, err)) return MF_ERR;
        /* an op that keeps its input's format copies or compares values without rescaling */
        if (x->q && e->qrule == MF_QRULE_KEEP_INPUT &&
            x->q->nodes[i].n_out != x->q->nodes[node->inputs[0]].n_out)
            return mf_error_set(err,
                                "layer '%s' (%s) must keep its input's format: n_out %d, but its "
                                "input '%s' has %d",
                                node->spec.name, mf_op_get(node->spec.op)->name,
                                x->q->nodes[i].n_out, m->nodes[node->inputs[0]].spec.name,
                                x->q->nodes[node->inputs[0]].n_out);
    }
    if (m->output <= 0) return mf_error_set(err, "the model has no layer to run");
    return MF_OK;
}

/* float32: weights from Keras [k…][cin][cout] to the runtime layout [cout][k…][cin]; an op that
 * computes its kernel and bias (inference_weights) keeps its bias too */
static int float_weights(mf_program *p, mf_error *err)
{
    const mf_model *m = p->m;
    p->wf = calloc((size_t)m->n_nodes, sizeof *p->wf);
    p->bf = calloc((size_t)m->n_nodes, sizeof *p->bf);
    if (!p->wf || !p->bf) return mf_error_set(err, "out of memory");
    for (int i = 1; i < m->n_nodes; i++) {
        if (mf_lower_qrule(m->nodes[i].spec.op) != MF_QRULE_WEIGHTED) continue;
        mf_param_desc d[4];
        mf_node_params(m, i, d);
        size_t cout = mf_param_cout(&d[0]);
        size_t kk = mf_shape_size(&d[0].shape) / cout;
        float *w = malloc(sizeof(float) * kk * cout), *b = malloc(sizeof(float) * cout);
        p->wf[i] = malloc(sizeof(float) * kk * cout);
        if (!w || !b || !p->wf[i]) {
            free(w);
            free(b);
            return mf_error_set(err, "out of memory");
        }
        mf_node_inference_weights(m, i, w, b);
        for (size_t c = 0; c < cout; c++)
            for (size_t e = 0; e < kk; e++)
                p->wf[i][c * kk + e] = w[e * cout + c];
        free(w);
        if (mf_op_get(m->nodes[i].spec.op)->inference_weights)
            p->bf[i] = b;
        else
            free(b);
    }
    return MF_OK;
}

static size_t align_up(size_t v, size_t a)
{
    return (v + a - 1) & ~(a - 1);
}

/* keep_all: every tensor its own storage for the whole run, one scratch area shared by the
 * calls (they run one at a time); flatten stays a view. */
static int place_all(mf_program *p, size_t align, mf_error *err)
{
    const mf_model *m = p->m;
    size_t *off = malloc(sizeof(size_t) * (size_t)m->n_nodes);
    if (!off) return mf_error_set(err, "out of memory");
    size_t total = 0;
    for (int k = 0; k < m->n_nodes; k++) {
        int i = m->order[k];
        if (m->nodes[i].alias_input) {
            off[i] = off[m->nodes[i].inputs[0]];
            continue;
        }
        off[i] = total;
        total = align_up(total + mf_shape_size(&m->nodes[i].out_shape) * p->esz, align);
    }
    for (int k = 0; k < p->n_calls; k++) {
        mf_call *c = &p->calls[k];
        for (int j = 0; j < c->n_inputs; j++)
            c->in_off[j] = off[c->in[j]];
        c->out_off = off[c->out];
        c->scratch_off = total;
    }
    p->in_off = off[0];
    p->out_off = off[m->output];
    p->plan.arena = total + align_up(p->scratch_peak, align);
    p->plan.align = align;
    free(off);
    return MF_OK;
}

static int place_planned(mf_program *p, size_t align, mf_error *err)
{
    const mf_model *m = p->m;
    int nt = m->n_nodes + p->n_calls;
    size_t *sizes = calloc((size_t)nt, sizeof *sizes);
    mf_plan_step *steps = calloc((size_t)m->n_nodes, sizeof *steps);
    if (!sizes || !steps) {
        free(sizes);
        free(steps);
        return mf_error_set(err, "out of memory");
    }
    for (int i = 0; i < m->n_nodes; i++)
        sizes[i] = mf_shape_size(&m->nodes[i].out_shape) * p->esz;
    int ns = 0;
    for (int k = 1; k < m->n_nodes; k++) {
        int i = m->order[k];
        const mf_node *node = &m->nodes[i];
        mf_plan_step *s;
        if (node->alias_input) { /* a view: same storage, no code */
            s = &steps[ns++];
            s->out = i;
            s->n_in = 1;
            s->in[0] = node->inputs[0];
            s->alias = 1;
            continue;
        }
        int c = p->call_of[i];
        if (c < 0) continue; /* a conv computed inside its pool's call */
        const mf_call *call = &p->calls[c];
        s = &steps[ns++];
        s->out = i;
        s->n_in = call->n_inputs;
        for (int j = 0; j < call->n_inputs; j++)
            s->in[j] = call->in[j];
        if (call->kind == MF_K_RELU || call->kind == MF_K_RELU6 || call->kind == MF_K_AFFINE)
            s->inplace = 1u; /* element-wise: out may be an input */
        if (call->kind == MF_K_ADD || call->kind == MF_K_ADDN) /* out may be any input */
            s->inplace = (1u << call->n_inputs) - 1u;
        if (call->conv8 ==
            MF_RT_CONV_S8_1D) { /* the 1D int8 kernels write behind their reads (mf_runtime.h) */
            s->overlap = 1;
            s->lag = mf_rt_conv1d_s8_lag(&call->geom,
                                         call->kind == MF_K_CONV_MAXPOOL ? call->pool_kw : 1);
        }
        if (call->conv8 ==
            MF_RT_CONV_S8_FIELD) { /* so do the register-field kernels, within their own lag */
            s->overlap = 1;
            s->lag = mf_rt_conv_field_s8_lag(&call->geom, call->kind == MF_K_CONV_MAXPOOL);
        }
        if (call->conv8 == MF_RT_CONV_S8_DOT && call->geom.h == 1) { /* the dot kernels on 1D */
            s->overlap = 1;
            s->lag = mf_rt_conv_dot_s8_lag(&call->geom,
                                           call->kind == MF_K_CONV_MAXPOOL ? call->pool_kw : 1);
        }
        if (call->scratch_bytes) {
            s->has_scratch = 1;
            s->scratch = m->n_nodes + c;
            sizes[m->n_nodes + c] = call->scratch_bytes;
        }
    }
    int rc = mf_plan_build(nt, sizes, 0, m->output, ns, steps, align, &p->plan, err);
    free(sizes);
    free(steps);
    if (rc) return rc;
    for (int k = 0; k < p->n_calls; k++) {
        mf_call *c = &p->calls[k];
        for (int j = 0; j < c->n_inputs; j++)
            c->in_off[j] = mf_plan_offset(&p->plan, c->in[j]);
        c->out_off = mf_plan_offset(&p->plan, c->out);
        c->scratch_off = c->scratch_bytes ? mf_plan_offset(&p->plan, m->n_nodes + k) : 0;
    }
    p->in_off = mf_plan_offset(&p->plan, 0);
    p->out_off = mf_plan_offset(&p->plan, m->output);
    return MF_OK;
}

int mf_lower_program(const mf_qmodel *q, const mf_model *model, const mf_lower_options *o,
                     mf_program *p, mf_error *err)
{
    memset(p, 0, sizeof *p);
    if (!q && !model) return mf_error_set(err, "lower: no model given");
    p->q = q;
    p->m = q ? q->model : model;
    p->bits = q ? q->bits : 32;
    p->esz = p->bits == 32 ? 4 : p->bits == 16 ? 2 : 1;
    const mf_model *m = p->m;
    size_t align = o && o->align > 0 ? (size_t)o->align : 8;
    lower_ctx x = {m, q, p->bits, NULL, NULL, o ? o->variants : NULL, 0};
    int *fused_into = NULL, *fused_src = NULL;
    if (validate(&x, err)) return MF_ERR;
    if (!q && float_weights(p, err)) goto fail;
    x.wf = p->wf;
    x.bf = p->bf;
    p->calls = calloc((size_t)m->n_nodes, sizeof *p->calls);
    p->call_of = malloc(sizeof(int) * (size_t)m->n_nodes);
    fused_into = malloc(sizeof(int) * (size_t)m->n_nodes);
    fused_src = malloc(sizeof(int) * (size_t)m->n_nodes);
    if (!p->calls || !p->call_of || !fused_into || !fused_src) {
        mf_error_set(err, "out of memory");
        goto fail;
    }
    for (int i = 0; i < m->n_nodes; i++)
        p->call_of[i] = fused_into[i] = fused_src[i] = -1;
    for (int k = 1; k < m->n_nodes && o && o->fuse_pools; k++) {
        int i = m->order[k], src = mf_lower_fusable_pool(m, i);
        if (src < 0) continue;
        fused_src[i] = src;
        fused_into[src] = i;
    }
    for (int k = 1; k < m->n_nodes; k++) {
        int i = m->order[k];
        const lower_entry *e = mf_lower_entry(m->nodes[i].spec.op);
        if (!e->lower || fused_into[i] >= 0) continue; /* a view, or computed inside its pool */
        int first = fused_src[i] >= 0 ? fused_src[i] : i;
        mf_call *c = &p->calls[p->n_calls];
        x.fused_pool = first != i;
        mf_lower_entry(m->nodes[first].spec.op)->lower(&x, first, c);
        if (first != i) { /* conv + max pool in one kernel */
            mf_window pw;
            mf_node_window(m, i, &pw);
            c->kind = MF_K_CONV_MAXPOOL;
            c->pool_kh = pw.kh, c->pool_kw = pw.kw, c->pool_sh = pw.sh, c->pool_sw = pw.sw;
        }
        c->node = i;
        c->first = first;
        c->out = i;
        c->n_inputs = m->nodes[first].n_inputs;
        for (int j = 0; j < c->n_inputs && j < MF_CALL_MAX_IN; j++)
            c->in[j] = m->nodes[first].inputs[j];
        mf_call_name(c, p->bits);
        c->scratch_bytes = mf_call_scratch_bytes(c, p->bits);
        if (c->scratch_bytes > p->scratch_peak) p->scratch_peak = c->scratch_bytes;
        p->weight_bytes += mf_blob_bytes(&c->w) + mf_blob_bytes(&c->bias) +
                           mf_blob_bytes(&c->shifts) + mf_blob_bytes(&c->idx);
        p->call_of[i] = p->n_calls++;
    }
    if (p->n_calls == 0) {
        mf_error_set(err, "the model has no layer to run (only views)");
        goto fail;
    }
    if ((o && o->keep_all ? place_all(p, align, err) : place_planned(p, align, err))) goto fail;
    if (m->pre.kind != 0 && m->pre.n > 0) {
        p->pre_mean = m->pre.mean;
        p->pre_std = m->pre.std;
        p->pre_n = m->pre.n;
    }
    p->in_scale = q ? ldexpf(1.0f, q->n_in) : 1.0f;
    snprintf(p->input_kernel, sizeof p->input_kernel, "mf_rt_input_%s",
             p->bits == 32   ? "f32"
             : p->bits == 16 ? "s16"
                             : "s8");
    free(fused_into);
    free(fused_src);
    return MF_OK;
fail:
    free(fused_into);
    free(fused_src);
    mf_program_free(p);
    return MF_ERR;
}

const char *mf_lower_qfmt(int bits, int n, char *buf, size_t size)
{
    if (bits == 32)
        snprintf(buf, size, "float");
    else
        snprintf(buf, size, "Q%d.%d", bits - 1 - n, n);
    return buf;
}
