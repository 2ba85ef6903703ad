/* batchnorm over the last (channel) axis. Training mode normalises with the statistics of the
 * samples this workspace sees (with several shards, each shard its own, like unsynchronised
 * data-parallel BN); running statistics are updated once per step from all shards together
 * (Keras convention: moving = momentum·moving + (1 − momentum)·batch, unbiased variance). */
#include <math.h>

#include "layers.h"

/* aux_fixed layout: mean[C], invstd[C], var[C] (biased), count (samples·positions; 0 when the
 * forward normalised with the running statistics) */

static int bn_infer(const mf_model *m, mf_node *node, mf_error *err)
{
    const mf_shape *in = mf_input_shape(m, node, 0);
    if (in->rank < 1) return mf_node_fail(err, m, node, "needs an input with channels");
    if (!(node->spec.epsilon > 0.0f))
        return mf_node_fail(err, m, node, "epsilon must be > 0 (got %g)", node->spec.epsilon);
    if (!(node->spec.momentum >= 0.0f && node->spec.momentum < 1.0f))
        return mf_node_fail(err, m, node, "momentum must be in [0, 1) (got %g)",
                            node->spec.momentum);
    int ch = in->dim[in->rank - 1];
    node->out_shape = *in;
    node->n_params = 2 * (size_t)ch; /* gamma, beta */
    node->n_state = 2 * (size_t)ch;  /* moving_mean, moving_variance */
    node->aux_fixed = 3 * (size_t)ch + 1;
    return MF_OK;
}

static void bn_geometry(const mf_layer_ctx *c, size_t *rows, int *ch)
{
    const mf_shape *in = mf_input_shape(c->model, c->node, 0);
    *ch = in->dim[in->rank - 1];
    *rows = (size_t)c->n * (mf_shape_size(in) / (size_t)*ch);
}

static void bn_forward(const mf_layer_ctx *c)
{
    size_t rows;
    int ch;
    bn_geometry(c, &rows, &ch);
    const float *gamma = c->params, *beta = c->params + ch;
    float *mean = c->aux, *invstd = c->aux + ch, *var = c->aux + 2 * ch;
    const float eps = c->node->spec.epsilon;
    const float *x = c->x[0];
    if (c->training) {
        for (int j = 0; j < ch; j++) {
            double sum = 0.0, sq = 0.0;
            for (size_t r = 0; r < rows; r++)
                sum += x[r * ch + j];
            double mu = sum / (double)rows;
            for (size_t r = 0; r < rows; r++) {
                double d = x[r * ch + j] - mu;
                sq += d * d;
            }
            mean[j] = (float)mu;
            var[j] = (float)(sq / (double)rows);
            invstd[j] = (float)(1.0 / sqrt(sq / (double)rows + eps));
        }
        c->aux[3 * ch] = (float)rows;
    } else {
        const float *mm = c->state, *mv = c->state + ch;
        for (int j = 0; j < ch; j++) {
            mean[j] = mm[j];
            var[j] = mv[j];
            invstd[j] = (float)(1.0 / sqrt((double)mv[j] + eps));
        }
        c->aux[3 * ch] = 0.0f; /* no samples: the running statistics, which stay as they are */
    }
    for (size_t r = 0; r < rows; r++)
        for (int j = 0; j < ch; j++)
            c->y[r * ch + j] = gamma[j] * (x[r * ch + j] - mean[j]) * invstd[j] + beta[j];
}

static void bn_backward(const mf_layer_ctx *c)
{
    size_t rows;
    int ch;
    bn_geometry(c, &rows, &ch);
    const float *gamma = c->params;
    float *dgamma = c->dparams, *dbeta = c->dparams + ch;
    const float *mean = c->aux, *invstd = c->aux + ch;
    const float *x = c->x[0], *dy = c->dy;
    for (int j = 0; j < ch; j++) {
        double sdy = 0.0, sdyx = 0.0;
        for (size_t r = 0; r < rows; r++) {
            double xh = (x[r * ch + j] - mean[j]) * invstd[j];
            sdy += dy[r * ch + j];
            sdyx += dy[r * ch + j] * xh;
        }
        dgamma[j] += (float)sdyx;
        dbeta[j] += (float)sdy;
        if (!c->dx[0]) continue;
        /* the batch's statistics when its forward normalised with them; the running ones (a
         * constant affine) when it ran in inference mode, as under QAT (quantize/qat.c) */
        if (c->training && c->aux[3 * ch] > 0.0f) {
            /* dx = γ·invstd/M · (M·dy − Σdy − x̂·Σ(dy·x̂)) */
            double k = gamma[j] * invstd[j] / (double)rows;
            for (size_t r = 0; r < rows; r++) {
                double xh = (x[r * ch + j] - mean[j]) * invstd[j];
                c->dx[0][r * ch + j] +=
                    (float)(k * ((double)rows * dy[r * ch + j] - sdy - xh * sdyx));
            }
        } else {
            for (size_t r = 0; r < rows; r++)
                c->dx[0][r * ch + j] += gamma[j] * invstd[j] * dy[r * ch + j];
        }
    }
}

static void bn_init(const mf_model *m, const mf_node *node, float *params, float *state,
                    uint64_t seed)
{
    (void)m;
    (void)seed;
    size_t ch = node->n_params / 2;
    for (size_t j = 0; j < ch; j++) {
        params[j] = 1.0f;
        params[ch + j] = 0.0f;
        state[j] = 0.0f;
        state[ch + j] = 1.0f;
    }
}

static int bn_params(const mf_model *m, const mf_node *node, mf_param_desc out[4])
{
    (void)m;
    int ch = (int)(node->n_params / 2);
    out[0] = (mf_param_desc){"gamma", 0, 0, {1, {ch}}, 0};
    out[1] = (mf_param_desc){"beta", 0, (size_t)ch, {1, {ch}}, 0};
    out[2] = (mf_param_desc){"moving_mean", 1, 0, {1, {ch}}, 0};
    out[3] = (mf_param_desc){"moving_variance", 1, (size_t)ch, {1, {ch}}, 0};
    return 4;
}

static void bn_update_state(const mf_node *node, float *state, const float *const *shard_aux,
                            int n_shards)
{
    int ch = (int)(node->n_params / 2);
    float mom = node->spec.momentum;
    for (int j = 0; j < ch; j++) {
        double total = 0.0, mean = 0.0;
        for (int s = 0; s < n_shards; s++) {
            double cnt = shard_aux[s][3 * ch];
            total += cnt;
            mean += cnt * shard_aux[s][j];
        }
        if (total <= 0.0) return;
        mean /= total;
        double var = 0.0;
        for (int s = 0; s < n_shards; s++) {
            double cnt = shard_aux[s][3 * ch], d = shard_aux[s][j] - mean;
            var += cnt * (shard_aux[s][2 * ch + j] + d * d);
        }
        var /= total;
        if (total > 1.0) var *= total / (total - 1.0);
        state[j] = (float)(mom * state[j] + (1.0 - mom) * mean);
        state[ch + j] = (float)(mom * state[ch + j] + (1.0 - mom) * var);
    }
}

/* In inference, a batch-norm is the per-channel affine y = a·x + b with a = γ / √(σ² + ε) and
 * b = β − μ·a (computed as folding computes them, quantize/fold.c): its kernel [C] (K = 1) and
 * bias, for one that cannot fold into a conv or dense layer before it (DESIGN.md §13). */
static void bn_inference_weights(const mf_model *m, const mf_node *node, const float *params,
                                 const float *state, float *kernel, float *bias)
{
    (void)m;
    const size_t ch = node->n_params / 2;
    const float *gamma = params, *beta = params + ch, *mean = state, *var = state + ch;
    for (size_t c = 0; c < ch; c++) {
        const double scale = gamma[c] / sqrt((double)var[c] + node->spec.epsilon);
        kernel[c] = (float)scale;
        bias[c] = (float)((0.0 - mean[c]) * scale + beta[c]);
    }
}

const mf_op_info mf_op_batchnorm_info = {"batchnorm",
                                         MF_KEY_MOMENTUM | MF_KEY_EPSILON,
                                         1,
                                         1,
                                         bn_infer,
                                         bn_init,
                                         bn_forward,
                                         bn_backward,
                                         NULL,
                                         bn_params,
                                         bn_update_state,
                                         MF_OPF_PER_CHANNEL,
                                         MF_ACT_NONE,
                                         bn_inference_weights};
