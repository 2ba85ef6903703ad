/* Quantization-aware training. The forward pass of every layer is the integer kernel itself
 * (through a forward hook), dequantized: so "fake-quant" here is not a float imitation of the
 * integer model but the integer model, and QAT's forward equals what the firmware computes. The
 * backward pass is the float engine's on those activations with the float shadow weights
 * (straight-through estimator: rounding passes gradients unchanged). Weights are quantized
 * again from the shadow weights before every step. A batch-norm that did not fold keeps its
 * running statistics frozen: it trains as the per-channel affine it is in the integer model. */
#include <stdlib.h>
#include <string.h>

#include "mf_quantize.h"
#include "mf_train.h"

typedef struct {
    mf_qmodel *q;
    int n;
    mf_workspace *const *ws;
    mf_qexec **exec; /* one interpreter per shard workspace: shards run in parallel */
    mf_error *err;
} qat_ctx;

static int qat_forward(void *p, const mf_workspace *ws, const mf_layer_ctx *c)
{
    qat_ctx *ctx = p;
    int node = (int)(c->node - ctx->q->model->nodes);
    if (c->node->alias_input) return 0; /* flatten: the float engine shares buffers */
    int s = 0;
    while (s < ctx->n && ctx->ws[s] != ws)
        s++;
    if (s == ctx->n) return 0;
    /* an op with running statistics (batch-norm that did not fold) runs its float forward in
     * inference mode first: its backward then differentiates the affine the integer kernel
     * computes, with the statistics frozen (they are not updated: no batch statistics) */
    const mf_op_info *info = mf_op_get(c->node->spec.op);
    if (info->update_state) {
        mf_layer_ctx inference = *c;
        inference.training = 0;
        info->forward(&inference);
    }
    mf_qexec_node_batch(ctx->exec[s], node, c->x, c->n, c->y);
    return 1;
}

static int qat_workspaces(void *p, mf_workspace *const *ws, int n, mf_error *err)
{
    qat_ctx *ctx = p;
    ctx->ws = ws;
    ctx->n = n;
    ctx->exec = calloc((size_t)n, sizeof *ctx->exec);
    if (!ctx->exec) return mf_error_set(err, "out of memory");
    for (int s = 0; s < n; s++) {
        ctx->exec[s] = mf_qexec_new(ctx->q, NULL, err);
        if (!ctx->exec[s]) return MF_ERR;
        mf_workspace_set_hook(ws[s], qat_forward, ctx);
    }
    return MF_OK;
}

static void qat_before_step(void *p, const float *params)
{
    (void)params; /* q->model->params are the shadow weights themselves */
    qat_ctx *ctx = p;
    if (mf_qmodel_requantize_weights(ctx->q, ctx->err)) return;
    for (int s = 0; s < ctx->n && ctx->exec; s++)
        if (ctx->exec[s] && mf_qexec_refresh(ctx->exec[s], ctx->err)) return;
}

int mf_qat(mf_qmodel *q, const mf_train_config *tc, const mf_dataset *d, FILE *log,
           mf_train_result *res, mf_error *err)
{
    mf_error step_err;
    mf_error_clear(&step_err);
    qat_ctx ctx = {q, 0, NULL, NULL, &step_err};
    mf_train_hooks hooks = {&ctx, qat_workspaces, qat_before_step, NULL};
    int rc = mf_train_with(q->model, tc, d, log, &hooks, res, err);
    for (int s = 0; s < ctx.n && ctx.exec; s++)
        mf_qexec_free(ctx.exec[s]);
    free(ctx.exec);
    if (rc == MF_OK && step_err.message[0]) {
        *err = step_err;
        rc = MF_ERR;
    }
    if (rc == MF_OK) rc = mf_qmodel_requantize_weights(q, err);
    return rc;
}

int mf_qat_forward(mf_qmodel *q, const float *x, int n, float *out, mf_error *err)
{
    const mf_model *m = q->model;
    mf_workspace *ws = mf_workspace_new(m, n, 0, err);
    if (!ws) return MF_ERR;
    qat_ctx ctx = {q, 0, NULL, NULL, err};
    int rc = qat_workspaces(&ctx, &ws, 1, err);
    if (rc == MF_OK) {
        const float *y = mf_forward(ws, m->params, m->state, x, n, 0, 0, 0);
        memcpy(out, y, sizeof(float) * (size_t)n * mf_model_output_size(m));
    }
    if (ctx.exec) mf_qexec_free(ctx.exec[0]);
    free(ctx.exec);
    mf_workspace_free(ws);
    return rc;
}
