/* Private to deploy/: printing a lowered program as the firmware's C (emit.c). */
#ifndef MF_DEPLOY_EMIT_H
#define MF_DEPLOY_EMIT_H

#include "deploy_util.h"
#include "mf_lower.h"

/* model_weights.c: every call's blobs as const arrays with shape and format comments; their
 * extern declarations go to decl. */
int mf_emit_weights(const mf_program *p, mf_sb *b, mf_sb *decl);
/* model.c: the plan, the arena, the statics (geometry, requantization) and one commented call
 * per program entry, the input quantizer and model_run. */
int mf_emit_model_c(const mf_program *p, const mf_sb *decl, mf_sb *b, mf_error *err);
/* model.h: the model's API and figures. */
void mf_emit_model_h(const mf_program *p, const char *hash, mf_sb *b);
/* A C string literal body (also safe inside a comment). */
void mf_c_string(mf_sb *b, const char *s);
/* Float values as exact hexadecimal constants, 6 a line. */
void mf_emit_float_values(mf_sb *b, const float *data, size_t n, const char *indent);

#endif
