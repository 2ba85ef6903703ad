/* Internal to core: the op tables (one per layer file) and helpers they share. */
#ifndef MF_LAYERS_H
#define MF_LAYERS_H

#include "mf_core.h"

extern const mf_op_info mf_op_input_info;
#define OP_INFO_DECL_(e, name) extern const mf_op_info mf_op_##name##_info;
MF_OPS(OP_INFO_DECL_)
#undef OP_INFO_DECL_

/* Fills g from the input shape and the node's kernel/stride/padding; returns MF_ERR with a
 * message naming the layer (and its input) if the window does not fit. dims = 1 or 2. */
int mf_window_init(const mf_model *m, const mf_node *node, int dims, int cout, mf_window *g,
                   mf_error *err);
/* Same, without checks, for forward/backward (the node already passed inference). */
void mf_window_of(const mf_model *m, const mf_node *node, mf_window *g);

/* Input shape of a node's i-th input. */
const mf_shape *mf_input_shape(const mf_model *m, const mf_node *node, int i);
/* Sets err to "layer 'name' (type): <message>" with field "layers[i]" (i = the order the layer
 * was added, which is its node index - 1); returns MF_ERR. */
int mf_node_fail(mf_error *err, const mf_model *m, const mf_node *node, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Row-major GEMM wrappers on cblas_sgemm: C = alpha*op(A)*op(B) + beta*C. */
void mf_gemm_nn(int m, int n, int k, const float *a, const float *b, float beta, float *c);
void mf_gemm_tn(int m, int n, int k, const float *a, const float *b, float beta, float *c);
void mf_gemm_nt(int m, int n, int k, const float *a, const float *b, float beta, float *c);

/* y[r][j] = bias[j] (or 0) for r in [0, rows). */
void mf_fill_bias(float *y, int rows, int cols, const float *bias);
/* A fused activation (mf_ops.h) applied in place to y, and its backward: dy scaled by the
 * activation's derivative, read from its output y (dy[i] = 0 where the activation is flat). */
void mf_act_forward(float *y, size_t n, mf_activation a);
void mf_act_backward(float *dy, const float *y, size_t n, mf_activation a);
/* db[j] += sum over rows of dy[r][j]. */
void mf_bias_grad(float *db, const float *dy, int rows, int cols);

#endif
