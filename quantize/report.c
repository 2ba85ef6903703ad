/* Per-layer error report: where accuracy goes when a model becomes integers. */
#include <math.h>
#include <stdlib.h>

#include "mf_quantize.h"

int mf_quant_report(const mf_qmodel *q, const float *x, int n, FILE *out, mf_error *err)
{
    const mf_model *m = q->model;
    mf_qexec *e = mf_qexec_new(q, NULL, err);
    mf_workspace *ws = mf_workspace_new(m, 1, 0, err);
    double *sig = calloc((size_t)m->n_nodes, sizeof(double));
    double *noise = calloc((size_t)m->n_nodes, sizeof(double));
    long *sat = calloc((size_t)m->n_nodes, sizeof(long));
    float *logits = malloc(sizeof(float) * mf_model_output_size(m));
    int rc = MF_OK;
    if (!e || !ws || !sig || !noise || !sat || !logits) {
        if (e && ws) mf_error_set(err, "out of memory");
        rc = MF_ERR;
        goto done;
    }
    size_t in = mf_model_input_size(m);
    const long hi = (1L << (q->bits - 1)) - 1, lo = -hi - 1;
    for (int s = 0; s < n; s++) {
        const float *xs = x + (size_t)s * in;
        mf_forward(ws, m->params, m->state, xs, 1, 0, 0, 0);
        mf_qexec_run(e, xs, logits);
        for (int i = 0; i < m->n_nodes; i++) {
            size_t cnt;
            const void *qo = mf_qexec_node_output(e, i, &cnt);
            const float *fo = i == 0 ? xs : mf_workspace_output(ws, i);
            int nf = q->nodes[i].n_out;
            for (size_t k = 0; k < cnt; k++) {
                long v = q->bits == 8 ? ((const int8_t *)qo)[k] : ((const int16_t *)qo)[k];
                double d = ldexp((double)v, -nf) - fo[k];
                sig[i] += (double)fo[k] * fo[k];
                noise[i] += d * d;
                sat[i] += v == hi || v == lo;
            }
        }
    }
    fprintf(out, "per-layer quantization report (int%d, %d calibration samples):\n", q->bits, n);
    fprintf(out, "  %-16s %-14s %8s %8s %10s %9s\n", "layer", "type", "format", "weights",
            "saturated", "SQNR dB");
    for (int k = 0; k < m->n_nodes; k++) {
        int i = m->order[k];
        const mf_node *node = &m->nodes[i];
        const mf_qnode *qn = &q->nodes[i];
        char fmt[16], wfmt[16];
        snprintf(fmt, sizeof fmt, "Q%d.%d", q->bits - 1 - qn->n_out, qn->n_out);
        if (qn->w && !qn->n_w_ch)
            snprintf(wfmt, sizeof wfmt, "Q%d.%d", q->bits - 1 - qn->n_w, qn->n_w);
        else
            snprintf(wfmt, sizeof wfmt, "%s", qn->w ? "per-ch" : "-");
        double sqnr = noise[i] > 0 ? 10.0 * log10(sig[i] / noise[i]) : INFINITY;
        fprintf(out, "  %-16s %-14s %8s %8s %10ld %9.1f\n", node->spec.name,
                mf_op_get(node->spec.op)->name, fmt, wfmt, sat[i], sqnr);
    }
done:
    free(logits);
    free(sig);
    free(noise);
    free(sat);
    mf_workspace_free(ws);
    mf_qexec_free(e);
    return rc;
}
