/* The code generator (DESIGN.md §7): a folded float or quantized model → a firmware project
 * (see mf_deploy.h for the files). Everything is checked and generated in memory first; files
 * are written only once the whole project is known to be emittable. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "deploy_util.h"
#include "mf_deploy.h"
#include "mf_plan.h"
#include "mf_runtime.h"

#ifndef MF_SOURCE_DIR
#define MF_SOURCE_DIR "."
#endif
#ifndef MF_VERSION
#define MF_VERSION "unknown"
#endif

#define MAX_KERNELS 64
#define IDENT_MAX   (MF_NAME_MAX + 16)

typedef struct gen {
    const mf_model *m;  /* folded graph */
    const mf_qmodel *q; /* NULL: float32 */
    int bits;           /* 32, 16, 8 */
    size_t esz;         /* bytes per activation element */
    const char *ctype, *sfx, *wtype, *btype;
    const char *rounding; /* C expression for the rounding mode */
    char (*ident)[IDENT_MAX];
    int *layer_of;   /* node → kernel call index or -1 */
    int *fused_src;  /* max-pool node → the conv computed inside it (fused), else -1 */
    int *fused_into; /* conv node → the max-pool it is fused into, else -1 */
    int n_layers;
    mf_plan plan;
    float **wf; /* float32: weights per node in runtime layout */
    const char *kernels[MAX_KERNELS];
    int n_kernels;
    size_t weight_bytes;
} gen;

static const char *source_dir(void)
{
    const char *s = getenv("MCUFORGE_SOURCE_DIR");
    return s && *s ? s : MF_SOURCE_DIR;
}

static int is_weighted(mf_op op)
{
    return op == MF_OP_CONV1D || op == MF_OP_CONV2D || op == MF_OP_DENSE;
}

static int n_of(const gen *g, int node)
{
    return g->q ? g->q->nodes[node].n_out : 0;
}

/* Qm.n of a b-bit value with n fractional bits */
static const char *qfmt(const gen *g, int n, char *buf, size_t size)
{
    if (!g->q)
        snprintf(buf, size, "float");
    else
        snprintf(buf, size, "Q%d.%d", g->bits - 1 - n, n);
    return buf;
}

/* ---- names: only C identifiers reach generated C (core/graph.c enforces the same when a model
 * is built or loaded; checked again here, since the text goes into code and comments) ---- */
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

/* A C string literal body: printable ASCII except '"', '\\' and '?' (trigraphs) pass, the rest
 * as octal escapes; the result is also safe inside a comment (no '*' '/'). */
static void c_string(mf_sb *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\' && c != '?' && c != '*' && c != '/')
            mf_sb_append(b, s, 1);
        else
            mf_sb_printf(b, "\\%03o", c);
    }
}

static void add_kernel(gen *g, const char *name)
{
    for (int i = 0; i < g->n_kernels; i++)
        if (!strcmp(g->kernels[i], name)) return;
    if (g->n_kernels < MAX_KERNELS) g->kernels[g->n_kernels++] = name;
}

static void gen_free(gen *g)
{
    if (g->wf)
        for (int i = 0; i < g->m->n_nodes; i++)
            free(g->wf[i]);
    free(g->wf);
    free(g->ident);
    free(g->layer_of);
    free(g->fused_src);
    free(g->fused_into);
    mf_plan_free(&g->plan);
}

/* ---- checks before anything is written ---- */

static int check_node(const gen *g, int i, mf_error *err)
{
    const mf_model *m = g->m;
    const mf_node *node = &m->nodes[i];
    const char *opname = mf_op_get(node->spec.op)->name;
    if (!name_ok(node->spec.name))
        return mf_error_set(err,
                            "layer name '%s' cannot be used in generated C (a C identifier of 1 "
                            "to %d letters, digits and '_' is required)",
                            node->spec.name, MF_NAME_MAX - 1);
    switch (node->spec.op) {
    case MF_OP_CONV1D:
    case MF_OP_CONV2D:
    case MF_OP_DENSE:
    case MF_OP_MAXPOOL1D:
    case MF_OP_MAXPOOL2D:
    case MF_OP_RELU:
    case MF_OP_FLATTEN:
        break;
    case MF_OP_AVGPOOL1D:
    case MF_OP_AVGPOOL2D: {
        mf_window w;
        mf_node_window(m, i, &w);
        if ((long)w.kh * w.kw >= 65536)
            return mf_error_set(err,
                                "layer '%s' (%s): a window of %d taps is too large for the "
                                "integer average (< 65536)",
                                node->spec.name, opname, w.kh * w.kw);
        break;
    }
    case MF_OP_GLOBAL_MAXPOOL:
    case MF_OP_GLOBAL_AVGPOOL: {
        size_t ch = mf_shape_size(&node->out_shape);
        size_t pos = mf_shape_size(&m->nodes[node->inputs[0]].out_shape) / (ch ? ch : 1);
        if (pos >= 65536)
            return mf_error_set(err, "layer '%s' (%s): %zu positions is too many (< 65536)",
                                node->spec.name, opname, pos);
        break;
    }
    case MF_OP_ADD:
        if (node->n_inputs != 2)
            return mf_error_set(err,
                                "layer '%s' (add) has %d inputs: the generator emits adds of two "
                                "tensors only",
                                node->spec.name, node->n_inputs);
        if (g->q) {
            int na = g->q->nodes[node->inputs[0]].n_out, nb = g->q->nodes[node->inputs[1]].n_out;
            int d = na > nb ? na - nb : nb - na, max = g->bits == 8 ? 23 : 47;
            if (d > max)
                return mf_error_set(err,
                                    "layer '%s' (add): its inputs' formats differ by %d bits, more "
                                    "than the int%d add kernel aligns (%d)",
                                    node->spec.name, d, g->bits, max);
        }
        break;
    default:
        return mf_error_set(err,
                            "layer '%s' (%s) cannot be deployed: the generator emits conv1d, "
                            "conv2d, dense, max/average pools, global pools, add, relu and "
                            "flatten (batch-norm must follow a conv or dense layer to fold away)",
                            node->spec.name, opname);
    }
    if (node->spec.op == MF_OP_CONV1D || node->spec.op == MF_OP_CONV2D ||
        node->spec.op == MF_OP_MAXPOOL1D || node->spec.op == MF_OP_MAXPOOL2D ||
        node->spec.op == MF_OP_AVGPOOL1D || node->spec.op == MF_OP_AVGPOOL2D) {
        mf_window w;
        mf_node_window(m, i, &w);
        if (w.oh < 1 || w.ow < 1 || w.kh < 1 || w.kw < 1 || w.sh < 1 || w.sw < 1)
            return mf_error_set(err, "layer '%s' (%s): degenerate window geometry", node->spec.name,
                                opname);
    }
    if (is_weighted(node->spec.op)) {
        if (g->q && !g->q->nodes[i].w)
            return mf_error_set(err, "layer '%s' (%s) has no quantized weights", node->spec.name,
                                opname);
        mf_param_desc d[4];
        int np = mf_node_params(m, i, d);
        for (int k = 0; k < np; k++) {
            const float *p = m->params + node->param_offset + d[k].offset;
            size_t n = mf_shape_size(&d[k].shape);
            for (size_t e = 0; e < n; e++)
                if (!isfinite(p[e]))
                    return mf_error_set(err, "layer '%s': %s[%zu] is not finite (%g)",
                                        node->spec.name, d[k].name, e, (double)p[e]);
        }
    }
    return MF_OK;
}

/* ---- fusion and the plan over the graph that runs ----
 * A max-pool with stride ≥ its size (valid windows) whose input is a conv that feeds nothing else
 * is computed inside the conv by the fused kernels mf_rt_conv_maxpool_* (DESIGN.md §7): the
 * full-resolution conv output never exists. The pair becomes ONE step (in = the conv's input, out
 * = the pool's tensor) at the pool's position; the conv's tensor drops out of the plan. The fused
 * kernels are bit-identical to the pair (deploy/runtime/mf_runtime.h), which the firmware's
 * comparison with the host (unfused) checks on every run. */
static int pool_fusable_into(const gen *g, int i)
{
    const mf_model *m = g->m;
    const mf_node *node = &m->nodes[i];
    if (node->spec.op != MF_OP_MAXPOOL1D && node->spec.op != MF_OP_MAXPOOL2D) return -1;
    int src = node->inputs[0];
    mf_op sop = m->nodes[src].spec.op;
    if (sop != MF_OP_CONV1D && sop != MF_OP_CONV2D) return -1;
    int consumers = 0;
    for (int j = 1; j < m->n_nodes; j++)
        for (int k = 0; k < m->nodes[j].n_inputs; k++)
            consumers += m->nodes[j].inputs[k] == src;
    mf_window w;
    mf_node_window(m, i, &w);
    if (consumers != 1 || src == m->output || w.sh < w.kh || w.sw < w.kw || w.pad_top || w.pad_left)
        return -1;
    return src;
}

static int build_plan(gen *g, int align, mf_error *err)
{
    const mf_model *m = g->m;
    int n = m->n_nodes;
    size_t *sizes = malloc(sizeof(size_t) * (size_t)n);
    mf_plan_step *steps = calloc((size_t)n, sizeof *steps);
    if (!sizes || !steps) {
        free(sizes);
        free(steps);
        return mf_error_set(err, "out of memory");
    }
    for (int i = 0; i < n; i++)
        sizes[i] = mf_shape_size(&m->nodes[i].out_shape) * g->esz;
    int ns = 0;
    for (int k = 1; k < n; k++) {
        int i = m->order[k];
        if (g->fused_into[i] >= 0) continue; /* computed inside its pool's step */
        const mf_node *node = &m->nodes[g->fused_src[i] >= 0 ? g->fused_src[i] : i];
        mf_plan_step *s = &steps[ns++];
        s->out = i;
        s->n_in = node->n_inputs;
        for (int j = 0; j < node->n_inputs; j++)
            s->in[j] = node->inputs[j];
        s->alias = node->spec.op == MF_OP_FLATTEN;
        if (node->spec.op == MF_OP_RELU) s->inplace = 1u;
        if (node->spec.op == MF_OP_ADD) s->inplace = 3u;
    }
    int rc = mf_plan_build(n, sizes, 0, m->output, ns, steps, (size_t)align, &g->plan, err);
    free(sizes);
    free(steps);
    return rc;
}

/* ---- emitting arrays ---- */

static void emit_int_array(mf_sb *b, const char *type, const char *name, const void *data, int esz,
                           size_t n)
{
    mf_sb_printf(b, "const %s %s[%zu] = {", type, name, n);
    for (size_t i = 0; i < n; i++) {
        if (i % 16 == 0) mf_sb_printf(b, "\n    ");
        long long v;
        switch (esz) {
        case 1:
            v = ((const int8_t *)data)[i];
            break;
        case 2:
            v = ((const int16_t *)data)[i];
            break;
        case 4:
            v = ((const int32_t *)data)[i];
            break;
        default:
            v = ((const int64_t *)data)[i];
            break;
        }
        if (esz == 8 && v == INT64_MIN)
            mf_sb_printf(b, "(-9223372036854775807LL - 1),");
        else if (esz == 4 && v == INT32_MIN)
            mf_sb_printf(b, "(-2147483647 - 1),");
        else if (esz == 8)
            mf_sb_printf(b, "%lldLL,", v);
        else
            mf_sb_printf(b, "%lld,", v);
        if (i + 1 < n && (i + 1) % 16) mf_sb_printf(b, " ");
    }
    mf_sb_printf(b, "\n};\n");
}

/* exact: hexadecimal float constants */
static void emit_float_values(mf_sb *b, const float *data, size_t n, const char *indent)
{
    for (size_t i = 0; i < n; i++) {
        if (i % 6 == 0) mf_sb_printf(b, "\n%s", indent);
        mf_sb_printf(b, "%af,", (double)data[i]);
        if (i + 1 < n && (i + 1) % 6) mf_sb_printf(b, " ");
    }
}

static void emit_float_array(mf_sb *b, const char *qual, const char *name, const float *data,
                             size_t n)
{
    mf_sb_printf(b, "%sconst float %s[%zu] = {", qual, name, n);
    emit_float_values(b, data, n, "    ");
    mf_sb_printf(b, "\n};\n");
}

static const float *float_bias(const gen *g, int i)
{
    const mf_node *node = &g->m->nodes[i];
    if (!node->spec.use_bias) return NULL;
    mf_param_desc d[4];
    if (mf_node_params(g->m, i, d) < 2) return NULL;
    return g->m->params + node->param_offset + d[1].offset;
}

/* kernel shape [cout][k…][cin] / [out][in] as text */
static void kernel_shape(const gen *g, int i, char *buf, size_t size)
{
    const mf_node *node = &g->m->nodes[i];
    if (node->spec.op == MF_OP_DENSE) {
        snprintf(buf, size, "[%zu out][%zu in]", mf_shape_size(&node->out_shape),
                 mf_shape_size(&g->m->nodes[node->inputs[0]].out_shape));
        return;
    }
    mf_window w;
    mf_node_window(g->m, i, &w);
    if (node->spec.op == MF_OP_CONV1D)
        snprintf(buf, size, "[%d cout][%d k][%d cin]", w.cout, w.kw, w.cin);
    else
        snprintf(buf, size, "[%d cout][%d kh][%d kw][%d cin]", w.cout, w.kh, w.kw, w.cin);
}

static int emit_weights(gen *g, mf_sb *b, mf_sb *decl)
{
    const mf_model *m = g->m;
    mf_sb_printf(b,
                 "/* model_weights.c — generated by mcuforge %s (deploy). Do not edit.\n"
                 " * Weights and biases in flash, runtime layout (conv [cout][k…][cin], dense "
                 "[out][in]).\n"
                 " * %s */\n#include <stdint.h>\n\n",
                 MF_VERSION,
                 g->q ? "Integers: x ≈ q·2^(−n); biases at the accumulator's format n_in + n_w."
                      : "float32, written as exact hexadecimal constants.");
    for (int k = 1; k < m->n_nodes; k++) {
        int i = m->order[k];
        const mf_node *node = &m->nodes[i];
        if (!is_weighted(node->spec.op)) continue;
        char ks[96], name[IDENT_MAX + 16];
        kernel_shape(g, i, ks, sizeof ks);
        size_t cout = node->spec.op == MF_OP_DENSE
                          ? mf_shape_size(&node->out_shape)
                          : (size_t)node->out_shape.dim[node->out_shape.rank - 1];
        if (g->q) {
            const mf_qnode *qn = &g->q->nodes[i];
            int n_in = g->q->nodes[node->inputs[0]].n_out;
            if (qn->n_w_ch)
                mf_sb_printf(b,
                             "/* %s: kernel %s, per-channel formats (n_w per channel below) */\n",
                             node->spec.name, ks);
            else
                mf_sb_printf(b, "/* %s: kernel %s, Q%d.%d (n_w = %d) */\n", node->spec.name, ks,
                             g->bits - 1 - qn->n_w, qn->n_w, qn->n_w);
            snprintf(name, sizeof name, "%s_w", g->ident[i]);
            emit_int_array(b, g->wtype, name, qn->w, g->bits / 8, qn->n_weights);
            mf_sb_printf(decl, "extern const %s %s[%zu];\n", g->wtype, name, qn->n_weights);
            g->weight_bytes += qn->n_weights * (size_t)(g->bits / 8);
            if (qn->bias) {
                if (qn->n_w_ch)
                    mf_sb_printf(b, "/* %s: bias [%zu], %s at n_in + n_w[c] (n_in = %d) */\n",
                                 node->spec.name, qn->n_bias, g->btype, n_in);
                else
                    mf_sb_printf(b, "/* %s: bias [%zu], %s at n_in + n_w = %d */\n",
                                 node->spec.name, qn->n_bias, g->btype, n_in + qn->n_w);
                snprintf(name, sizeof name, "%s_b", g->ident[i]);
                emit_int_array(b, g->btype, name, qn->bias, g->bits == 8 ? 4 : 8, qn->n_bias);
                mf_sb_printf(decl, "extern const %s %s[%zu];\n", g->btype, name, qn->n_bias);
                g->weight_bytes += qn->n_bias * (size_t)(g->bits == 8 ? 4 : 8);
            }
            if (qn->shifts) {
                mf_sb_printf(b,
                             "/* %s: requantization shift per output channel, n_in + n_w[c] − "
                             "n_out (n_w[c] = shift + %d) */\n",
                             node->spec.name, qn->n_out - n_in);
                snprintf(name, sizeof name, "%s_shifts", g->ident[i]);
                emit_int_array(b, "int8_t", name, qn->shifts, 1, cout);
                mf_sb_printf(decl, "extern const int8_t %s[%zu];\n", name, cout);
                g->weight_bytes += cout;
            }
        } else {
            size_t nw = node->n_params - (node->spec.use_bias ? cout : 0);
            mf_sb_printf(b, "/* %s: kernel %s, float32 */\n", node->spec.name, ks);
            snprintf(name, sizeof name, "%s_w", g->ident[i]);
            emit_float_array(b, "", name, g->wf[i], nw);
            mf_sb_printf(decl, "extern const float %s[%zu];\n", name, nw);
            g->weight_bytes += nw * 4;
            const float *bias = float_bias(g, i);
            if (bias) {
                mf_sb_printf(b, "/* %s: bias [%zu], float32 */\n", node->spec.name, cout);
                snprintf(name, sizeof name, "%s_b", g->ident[i]);
                emit_float_array(b, "", name, bias, cout);
                mf_sb_printf(decl, "extern const float %s[%zu];\n", name, cout);
                g->weight_bytes += cout * 4;
            }
        }
        mf_sb_printf(b, "\n");
    }
    return b->oom || decl->oom ? MF_ERR : MF_OK;
}

/* ---- model.c ---- */

static void geom_init(const gen *g, int i, mf_sb *b)
{
    mf_window w;
    mf_node_window(g->m, i, &w);
    mf_sb_printf(b,
                 "static const mf_rt_geom %s_geom = {\n"
                 "    .h = %d, .w = %d, .cin = %d, .oh = %d, .ow = %d, .cout = %d,\n"
                 "    .kh = %d, .kw = %d, .sh = %d, .sw = %d, .pad_top = %d, .pad_left = %d};\n",
                 g->ident[i], w.h, w.w, w.cin, w.oh, w.ow, w.cout, w.kh, w.kw, w.sh, w.sw,
                 w.pad_top, w.pad_left);
}

static void tensor_ref(const gen *g, int node, char *buf, size_t size)
{
    snprintf(buf, size, "MF_AT(%zu)", mf_plan_offset(&g->plan, node));
}

/* "conv1d k3 s1 pad 1, weights Q0.7 + ReLU" */
static void op_desc(const gen *g, int i, char *extra, size_t size)
{
    const mf_model *m = g->m;
    const mf_node *node = &m->nodes[i];
    mf_op op = node->spec.op;
    size_t len = (size_t)snprintf(extra, size, "%s", mf_op_get(op)->name);
    if (op == MF_OP_CONV1D || op == MF_OP_CONV2D || op == MF_OP_MAXPOOL1D ||
        op == MF_OP_MAXPOOL2D || op == MF_OP_AVGPOOL1D || op == MF_OP_AVGPOOL2D) {
        mf_window w;
        mf_node_window(m, i, &w);
        if (op == MF_OP_CONV1D || op == MF_OP_MAXPOOL1D || op == MF_OP_AVGPOOL1D)
            len += (size_t)snprintf(extra + len, size - len, " k%d s%d pad %d", w.kw, w.sw,
                                    w.pad_left);
        else
            len += (size_t)snprintf(extra + len, size - len, " k%dx%d s%dx%d pad %d,%d", w.kh, w.kw,
                                    w.sh, w.sw, w.pad_top, w.pad_left);
    }
    if (g->q && is_weighted(op) && len < size) {
        const mf_qnode *qn = &g->q->nodes[i];
        if (qn->n_w_ch)
            len += (size_t)snprintf(extra + len, size - len, ", weights per-channel formats");
        else
            len += (size_t)snprintf(extra + len, size - len, ", weights Q%d.%d",
                                    g->bits - 1 - qn->n_w, qn->n_w);
    }
    if (node->spec.activation == MF_ACT_RELU && len < size)
        snprintf(extra + len, size - len, " + ReLU");
}

/* first = the node whose inputs are read (the conv of a fused pair), i = the node written */
static void layer_comment(const gen *g, int first, int i, mf_sb *b)
{
    const mf_model *m = g->m;
    const mf_node *node = &m->nodes[first];
    char s_in[48], s_out[48], f_in[24], f_out[24], d1[160], d2[160];
    mf_shape_str(&m->nodes[node->inputs[0]].out_shape, s_in, sizeof s_in);
    mf_shape_str(&m->nodes[i].out_shape, s_out, sizeof s_out);
    qfmt(g, n_of(g, node->inputs[0]), f_in, sizeof f_in);
    qfmt(g, n_of(g, i), f_out, sizeof f_out);
    op_desc(g, first, d1, sizeof d1);
    if (first != i) {
        op_desc(g, i, d2, sizeof d2);
        mf_sb_printf(b, "    /* %s + %s: %s, then %s, fused (the %s output never exists); %s %s",
                     node->spec.name, m->nodes[i].spec.name, d1, d2, node->spec.name, s_in, f_in);
    } else {
        mf_sb_printf(b, "    /* %s: %s, %s %s", node->spec.name, d1, s_in, f_in);
    }
    if (node->n_inputs == 2) {
        char s2[48], f2[24];
        mf_shape_str(&m->nodes[node->inputs[1]].out_shape, s2, sizeof s2);
        qfmt(g, n_of(g, node->inputs[1]), f2, sizeof f2);
        mf_sb_printf(b, " + %s %s", s2, f2);
    }
    mf_sb_printf(b, " -> %s %s; arena", s_out, f_out);
    for (int k = 0; k < node->n_inputs; k++) {
        int t = node->inputs[k];
        size_t o = mf_plan_offset(&g->plan, t);
        mf_sb_printf(b, " [%zu,%zu)", o, o + g->plan.tensors[t].size);
    }
    size_t o = mf_plan_offset(&g->plan, i);
    int in_place = 0;
    for (int k = 0; k < node->n_inputs; k++)
        in_place |= g->plan.tensors[node->inputs[k]].buffer == g->plan.tensors[i].buffer;
    mf_sb_printf(b, " -> [%zu,%zu)%s */\n", o, o + g->plan.tensors[i].size,
                 in_place ? " in place" : "");
}

/* requantization statics of an integer conv/dense/add */
static void emit_rq(const gen *g, int i, mf_sb *stat)
{
    const mf_model *m = g->m;
    const mf_node *node = &m->nodes[i];
    mf_op op = node->spec.op;
    if (!g->q || !(is_weighted(op) || op == MF_OP_ADD)) return;
    const mf_qnode *qn = &g->q->nodes[i];
    int n_in = g->q->nodes[node->inputs[0]].n_out, shift;
    if (op == MF_OP_ADD) {
        int nb = g->q->nodes[node->inputs[1]].n_out;
        shift = (n_in > nb ? n_in : nb) - qn->n_out;
    } else {
        shift = n_in + qn->n_w - qn->n_out;
    }
    char shifts[IDENT_MAX + 16] = "NULL";
    if (is_weighted(op) && qn->shifts) snprintf(shifts, sizeof shifts, "%s_shifts", g->ident[i]);
    mf_sb_printf(stat,
                 "static const mf_rt_requant %s_rq = {.shift = %d, .shifts = %s, .relu = %d, "
                 ".rounding = %s};\n",
                 g->ident[i], shift, shifts, node->spec.activation == MF_ACT_RELU, g->rounding);
}

/* the statics a layer needs (geometry, requantization) and its call */
static int emit_layer(gen *g, int i, mf_sb *stat, mf_sb *body, mf_error *err)
{
    const mf_model *m = g->m;
    const mf_node *node = &m->nodes[i];
    const char *id = g->ident[i];
    char in[48] = "", in2[48] = "", out[48], kname[64];
    if (g->fused_into[i] >= 0) return MF_OK; /* emitted with its max-pool */
    int c = g->fused_src[i];                 /* ≥ 0: the conv fused into this max-pool */
    if (c < 0) tensor_ref(g, node->inputs[0], in, sizeof in);
    tensor_ref(g, i, out, sizeof out);
    if (node->n_inputs > 1) tensor_ref(g, node->inputs[1], in2, sizeof in2);
    int relu = node->spec.activation == MF_ACT_RELU;
    const mf_qnode *qn = g->q ? &g->q->nodes[i] : NULL;
    int n_in = g->q ? g->q->nodes[node->inputs[0]].n_out : 0;
    size_t count = mf_shape_size(&node->out_shape);
    int k = g->layer_of[i];
    mf_op op = node->spec.op;
    if (op == MF_OP_FLATTEN) {
        mf_sb_printf(body, "    /* %s: flatten, a view of %s (no code, no memory) */\n",
                     node->spec.name, m->nodes[node->inputs[0]].spec.name);
        return MF_OK;
    }
    if (c >= 0) {
        /* conv + max-pool in one kernel */
        const mf_node *conv = &m->nodes[c];
        const char *cid = g->ident[c];
        mf_window pw;
        mf_node_window(m, i, &pw);
        layer_comment(g, c, i, body);
        emit_rq(g, c, stat);
        geom_init(g, c, stat);
        tensor_ref(g, conv->inputs[0], in, sizeof in);
        char cbias[IDENT_MAX + 8] = "NULL";
        if (g->q ? g->q->nodes[c].bias != NULL : float_bias(g, c) != NULL)
            snprintf(cbias, sizeof cbias, "%s_b", cid);
        snprintf(kname, sizeof kname, "mf_rt_conv_maxpool_%s", g->sfx);
        if (g->q)
            mf_sb_printf(body,
                         "    MF_LAYER(%d, %s(&%s_geom, %d, %d, %d, %d, %s, %s_w, %s, &%s_rq, "
                         "%s));\n",
                         k, kname, cid, pw.kh, pw.kw, pw.sh, pw.sw, in, cid, cbias, cid, out);
        else
            mf_sb_printf(body,
                         "    MF_LAYER(%d, %s(&%s_geom, %d, %d, %d, %d, %s, %s_w, %s, %d, %s));\n",
                         k, kname, cid, pw.kh, pw.kw, pw.sh, pw.sw, in, cid, cbias,
                         conv->spec.activation == MF_ACT_RELU, out);
    } else {
        layer_comment(g, i, i, body);
        emit_rq(g, i, stat);
    }
    char bias[IDENT_MAX + 8] = "NULL";
    if (is_weighted(op) && (g->q ? qn->bias != NULL : float_bias(g, i) != NULL))
        snprintf(bias, sizeof bias, "%s_b", id);
    switch (c >= 0 ? MF_OP_COUNT : op) {
    case MF_OP_COUNT: /* fused, emitted above */
        break;
    case MF_OP_CONV1D:
    case MF_OP_CONV2D:
        geom_init(g, i, stat);
        snprintf(kname, sizeof kname, "mf_rt_conv_%s", g->sfx);
        if (g->q)
            mf_sb_printf(body, "    MF_LAYER(%d, %s(&%s_geom, %s, %s_w, %s, &%s_rq, %s));\n", k,
                         kname, id, in, id, bias, id, out);
        else
            mf_sb_printf(body, "    MF_LAYER(%d, %s(&%s_geom, %s, %s_w, %s, %d, %s));\n", k, kname,
                         id, in, id, bias, relu, out);
        break;
    case MF_OP_DENSE: {
        size_t ni = mf_shape_size(&m->nodes[node->inputs[0]].out_shape);
        snprintf(kname, sizeof kname, "mf_rt_dense_%s", g->sfx);
        if (g->q)
            mf_sb_printf(body, "    MF_LAYER(%d, %s(%zu, %zu, %s, %s_w, %s, &%s_rq, %s));\n", k,
                         kname, ni, count, in, id, bias, id, out);
        else
            mf_sb_printf(body, "    MF_LAYER(%d, %s(%zu, %zu, %s, %s_w, %s, %d, %s));\n", k, kname,
                         ni, count, in, id, bias, relu, out);
        break;
    }
    case MF_OP_MAXPOOL1D:
    case MF_OP_MAXPOOL2D:
        geom_init(g, i, stat);
        snprintf(kname, sizeof kname, "mf_rt_maxpool_%s", g->sfx);
        mf_sb_printf(body, "    MF_LAYER(%d, %s(&%s_geom, %s, 0, %s));\n", k, kname, id, in, out);
        break;
    case MF_OP_AVGPOOL1D:
    case MF_OP_AVGPOOL2D:
        geom_init(g, i, stat);
        snprintf(kname, sizeof kname, "mf_rt_avgpool_%s", g->sfx);
        if (g->q)
            mf_sb_printf(body, "    MF_LAYER(%d, %s(&%s_geom, %s, 0, %s, %s));\n", k, kname, id, in,
                         g->rounding, out);
        else
            mf_sb_printf(body, "    MF_LAYER(%d, %s(&%s_geom, %s, 0, %s));\n", k, kname, id, in,
                         out);
        break;
    case MF_OP_GLOBAL_MAXPOOL:
    case MF_OP_GLOBAL_AVGPOOL: {
        size_t pos = mf_shape_size(&m->nodes[node->inputs[0]].out_shape) / count;
        int avg = op == MF_OP_GLOBAL_AVGPOOL;
        snprintf(kname, sizeof kname, "mf_rt_global_%spool_%s", avg ? "avg" : "max", g->sfx);
        if (g->q && avg)
            mf_sb_printf(body, "    MF_LAYER(%d, %s(%zu, %zu, %s, %s, %s));\n", k, kname, pos,
                         count, in, g->rounding, out);
        else
            mf_sb_printf(body, "    MF_LAYER(%d, %s(%zu, %zu, %s, %s));\n", k, kname, pos, count,
                         in, out);
        break;
    }
    case MF_OP_ADD:
        snprintf(kname, sizeof kname, "mf_rt_add_%s", g->sfx);
        if (g->q) {
            int na = n_in, nb = g->q->nodes[node->inputs[1]].n_out, fine = na > nb ? na : nb;
            mf_sb_printf(body, "    MF_LAYER(%d, %s(%zu, %s, %d, %s, %d, &%s_rq, %s));\n", k, kname,
                         count, in, fine - na, in2, fine - nb, id, out);
        } else {
            mf_sb_printf(body, "    MF_LAYER(%d, %s(%zu, %s, %s, %d, %s));\n", k, kname, count, in,
                         in2, relu, out);
        }
        break;
    case MF_OP_RELU:
        snprintf(kname, sizeof kname, "mf_rt_relu_%s", g->sfx);
        mf_sb_printf(body, "    MF_LAYER(%d, %s(%zu, %s, %s));\n", k, kname, count, in, out);
        break;
    default:
        return mf_error_set(err, "layer '%s' (%s) cannot be emitted", node->spec.name,
                            mf_op_get(op)->name);
    }
    /* kernel names live as long as g: they point at static strings */
    static const char *const known[] = {"mf_rt_conv_f32",
                                        "mf_rt_conv_s16",
                                        "mf_rt_conv_s8",
                                        "mf_rt_dense_f32",
                                        "mf_rt_dense_s16",
                                        "mf_rt_dense_s8",
                                        "mf_rt_maxpool_f32",
                                        "mf_rt_maxpool_s16",
                                        "mf_rt_maxpool_s8",
                                        "mf_rt_avgpool_f32",
                                        "mf_rt_avgpool_s16",
                                        "mf_rt_avgpool_s8",
                                        "mf_rt_global_maxpool_f32",
                                        "mf_rt_global_maxpool_s16",
                                        "mf_rt_global_maxpool_s8",
                                        "mf_rt_global_avgpool_f32",
                                        "mf_rt_global_avgpool_s16",
                                        "mf_rt_global_avgpool_s8",
                                        "mf_rt_add_f32",
                                        "mf_rt_add_s16",
                                        "mf_rt_add_s8",
                                        "mf_rt_relu_f32",
                                        "mf_rt_relu_s16",
                                        "mf_rt_relu_s8",
                                        "mf_rt_conv_maxpool_f32",
                                        "mf_rt_conv_maxpool_s16",
                                        "mf_rt_conv_maxpool_s8"};
    for (size_t j = 0; j < sizeof known / sizeof known[0]; j++)
        if (!strcmp(known[j], kname)) add_kernel(g, known[j]);
    return MF_OK;
}

static void emit_preprocess(const gen *g, mf_sb *b)
{
    const mf_model *m = g->m;
    size_t in = mf_model_input_size(m);
    int pre = m->pre.kind != 0 && m->pre.n > 0;
    mf_sb_printf(b, "/* ---- input: the model's own preprocessing and quantization ---- */\n");
    if (pre) {
        mf_sb_printf(b,
                     "/* z-score %s: x' = (x − mean[i %% %zu]) / std[i %% %zu], in float as the "
                     "host computes it */\n",
                     m->pre.kind == 1 ? "per element" : "per channel", m->pre.n, m->pre.n);
        emit_float_array(b, "static ", "mf_pre_mean", m->pre.mean, m->pre.n);
        emit_float_array(b, "static ", "mf_pre_std", m->pre.std, m->pre.n);
        mf_sb_printf(b, "\n");
    }
    if (g->q) {
        int lim = g->bits == 8 ? 127 : 32767;
        mf_sb_printf(b,
                     "/* q = saturate(lround(x · 2^%d)): round half away from zero, as the host's\n"
                     " * offline quantizer (x · 2^n is exact in float) */\n"
                     "static model_t mf_quantize_in(float x)\n{\n"
                     "    const float v = x * %af; /* 2^%d */\n"
                     "    if (!(v < %d.0f)) return v != v ? 0 : %d;\n"
                     "    if (!(v > %d.0f)) return %d;\n"
                     "    int32_t t = (int32_t)v; /* toward zero; |v| < 2^15 */\n"
                     "    const float frac = v - (float)t; /* exact */\n"
                     "    if (frac >= 0.5f)\n        t++;\n"
                     "    else if (frac <= -0.5f)\n        t--;\n"
                     "    return (model_t)t;\n}\n\n",
                     g->q->n_in, ldexp(1.0, g->q->n_in), g->q->n_in, lim, lim, -lim - 1, -lim - 1);
    }
    mf_sb_printf(b, "__attribute__((noinline)) void model_quantize_input(const float *raw, "
                    "model_t *q)\n{\n");
    mf_sb_printf(b, "    for (uint32_t i = 0; i < %zuu; i++) {\n", in);
    if (pre) {
        if (m->pre.n == in)
            mf_sb_printf(b, "        const float x = (raw[i] - mf_pre_mean[i]) / mf_pre_std[i];\n");
        else
            mf_sb_printf(b,
                         "        const uint32_t c = i %% %zuu;\n"
                         "        const float x = (raw[i] - mf_pre_mean[c]) / mf_pre_std[c];\n",
                         m->pre.n);
    } else {
        mf_sb_printf(b, "        const float x = raw[i];\n");
    }
    mf_sb_printf(b, g->q ? "        q[i] = mf_quantize_in(x);\n" : "        q[i] = x;\n");
    mf_sb_printf(b, "    }\n}\n\n");
    if (g->q)
        mf_sb_printf(b,
                     "float model_dequantize_output(model_t q)\n{\n"
                     "    return (float)q * %af; /* 2^-%d, exact */\n}\n\n",
                     ldexp(1.0, -g->q->nodes[m->output].n_out), g->q->nodes[m->output].n_out);
    else
        mf_sb_printf(b, "float model_dequantize_output(model_t q)\n{\n    return q;\n}\n\n");
}

static int emit_model_c(gen *g, const mf_sb *decl, mf_sb *b, mf_error *err)
{
    const mf_model *m = g->m;
    const mf_plan *p = &g->plan;
    mf_sb stat = {0}, body = {0};
    mf_sb_printf(b,
                 "/* model.c — generated by mcuforge %s (deploy). Do not edit.\n"
                 " * %d kernel calls in topological order; activations in ONE static arena placed "
                 "by\n * the memory plan below; no allocation, no graph, no interpreter. */\n"
                 "#include <stdint.h>\n\n#include \"mf_runtime.h\"\n"
                 "#include \"model.h\"\n\n",
                 MF_VERSION, g->n_layers);
    mf_sb_printf(b,
                 "/* Memory plan (%s): tensor, arena offset, bytes, lifetime [produced, last "
                 "read]\n",
                 p->strategy);
    for (int t = 0; t < p->n_tensors; t++) {
        if (p->tensors[t].buffer < 0) continue;
        mf_sb_printf(b, " *   %-24s %7zu %7zu  [%d,%d]\n", m->nodes[t].spec.name,
                     mf_plan_offset(p, t), p->tensors[t].size, p->tensors[t].first,
                     p->tensors[t].last);
    }
    mf_sb_printf(b,
                 " * arena %zu bytes, lower bound (largest live set) %zu bytes */\n"
                 "_Static_assert(MODEL_ARENA_BYTES == %zu, \"arena size differs from the "
                 "plan\");\n"
                 "_Static_assert(MODEL_ARENA_BYTES + %u <= %u, \"the arena alone exceeds the "
                 "128 KiB RAM budget\");\n"
                 "static model_t mf_arena[MODEL_ARENA_BYTES / sizeof(model_t)] "
                 "__attribute__((aligned(%zu)));\n"
                 "_Static_assert(sizeof mf_arena == MODEL_ARENA_BYTES, \"arena size\");\n"
                 "#define MF_AT(byte_offset) (mf_arena + (byte_offset) / sizeof(model_t))\n",
                 p->arena, p->lower_bound, p->arena, MF_DEPLOY_MIN_STACK_BYTES, MF_DEPLOY_RAM_BYTES,
                 p->align);
    for (int t = 0; t < p->n_tensors; t++) {
        if (p->tensors[t].buffer < 0) continue;
        mf_sb_printf(b,
                     "_Static_assert(%zu + %zu <= MODEL_ARENA_BYTES && %zu %% sizeof(model_t) == "
                     "0, \"%s\");\n",
                     mf_plan_offset(p, t), p->tensors[t].size, mf_plan_offset(p, t),
                     m->nodes[t].spec.name);
    }
    mf_sb_printf(b, "\n/* weights (model_weights.c) */\n");
    mf_sb_append(b, decl->p ? decl->p : "", decl->len);
    mf_sb_printf(b,
                 "\n#ifdef MF_PROFILE_LAYERS\n"
                 "/* instructions per layer call (TIM2 under -icount shift=0), for the harness */\n"
                 "#include \"mf_icount.h\"\n"
                 "uint32_t model_layer_icount[MODEL_N_LAYERS];\n"
                 "#define MF_LAYER(k, call)                                                  \\\n"
                 "    do {                                                                   \\\n"
                 "        MF_BARRIER();                                                      \\\n"
                 "        const uint32_t t0_ = mf_icount_read();                             \\\n"
                 "        MF_BARRIER();                                                      \\\n"
                 "        call;                                                              \\\n"
                 "        MF_BARRIER();                                                      \\\n"
                 "        model_layer_icount[k] = mf_icount_read() - t0_;                    \\\n"
                 "        MF_BARRIER();                                                      \\\n"
                 "    } while (0)\n"
                 "#else\n#define MF_LAYER(k, call) call\n#endif\n\n");
    for (int k = 1; k < m->n_nodes; k++) {
        int i = m->order[k];
        if (emit_layer(g, i, &stat, &body, err)) {
            mf_sb_free(&stat);
            mf_sb_free(&body);
            return MF_ERR;
        }
    }
    mf_sb_printf(b, "/* layer geometry and requantization */\n");
    mf_sb_append(b, stat.p ? stat.p : "", stat.len);
    mf_sb_printf(b, "\n");
    emit_preprocess(g, b);
    size_t in_off = mf_plan_offset(p, 0), out_off = mf_plan_offset(p, m->output);
    mf_sb_printf(b,
                 "model_t *model_input_buffer(void)\n{\n    return MF_AT(%zu);\n}\n\n"
                 "const model_t *model_output_buffer(void)\n{\n    return MF_AT(%zu);\n}\n\n",
                 in_off, out_off);
    mf_sb_printf(b, "/* element copy for model_run's input/output; a loop, not memcpy (which would "
                    "add\n * ~300 bytes of newlib to the model's flash for a few dozen bytes "
                    "copied) */\n"
                    "__attribute__((optimize(\"no-tree-loop-distribute-patterns\"))) static void "
                    "mf_copy(model_t *dst, const model_t *src, uint32_t n)\n{\n"
                    "    for (uint32_t i = 0; i < n; i++)\n        dst[i] = src[i];\n}\n\n");
    mf_sb_printf(b,
                 "/* noipa: a real call, never inlined into or specialised for its caller, so "
                 "that\n * the caller's instruction counts and stack painting measure exactly "
                 "this */\n"
                 "__attribute__((noipa)) int model_run(const model_t *in, model_t *out)\n{\n"
                 "    if (in != MF_AT(%zu)) mf_copy(MF_AT(%zu), in, MODEL_INPUT_SIZE);\n",
                 in_off, in_off);
    mf_sb_append(b, body.p ? body.p : "", body.len);
    mf_sb_printf(b,
                 "    if (out != MF_AT(%zu)) mf_copy(out, MF_AT(%zu), MODEL_OUTPUT_SIZE);\n"
                 "    return 0;\n}\n",
                 out_off, out_off);
    int oom = stat.oom || body.oom || b->oom;
    mf_sb_free(&stat);
    mf_sb_free(&body);
    return oom ? mf_error_set(err, "out of memory generating model.c") : MF_OK;
}

static void emit_model_h(const gen *g, const char *hash, mf_sb *b)
{
    const mf_model *m = g->m;
    char sh[64];
    mf_sb_printf(b,
                 "/* model.h — generated by mcuforge %s (deploy). Do not edit.\n"
                 " * The model's API: run one inference on a quantized input, prepare that input "
                 "from\n * raw sensor values, read the output. No allocation; the activations "
                 "live in one\n * static arena of MODEL_ARENA_BYTES. */\n"
                 "#ifndef MODEL_H\n#define MODEL_H\n\n#include <stdint.h>\n\n",
                 MF_VERSION);
    mf_sb_printf(b, "#define MODEL_GENERATOR \"mcuforge %s\"\n", MF_VERSION);
    mf_sb_printf(b, "#define MODEL_HASH      \"%s\" /* FNV-1a 64 of model.c + model_weights.c */\n",
                 hash);
    if (m->dataset[0]) {
        mf_sb_printf(b, "#define MODEL_DATASET   \"");
        c_string(b, m->dataset);
        mf_sb_printf(b, "\"\n");
    }
    mf_sb_printf(b, "#define MODEL_PRECISION \"%s\"\n#define MODEL_BITS      %d\n",
                 g->bits == 32   ? "float32"
                 : g->bits == 16 ? "int16"
                                 : "int8",
                 g->bits);
    mf_sb_printf(b, "typedef %s model_t;\n\n", g->ctype);
    mf_sb_printf(b, "/* input, channels-last */\n#define MODEL_INPUT_RANK  %d\n",
                 m->input_shape.rank);
    for (int d = 0; d < m->input_shape.rank; d++)
        mf_sb_printf(b, "#define MODEL_INPUT_DIM%d  %d\n", d, m->input_shape.dim[d]);
    mf_sb_printf(b, "#define MODEL_INPUT_SHAPE \"%s\"\n#define MODEL_INPUT_SIZE  %zuu\n",
                 mf_shape_str(&m->input_shape, sh, sizeof sh), mf_model_input_size(m));
    mf_sb_printf(b, "#define MODEL_OUTPUT_SHAPE \"%s\"\n#define MODEL_OUTPUT_SIZE  %zuu\n",
                 mf_shape_str(&m->nodes[m->output].out_shape, sh, sizeof sh),
                 mf_model_output_size(m));
    if (g->q) {
        int ni = g->q->n_in, no = g->q->nodes[m->output].n_out;
        mf_sb_printf(b,
                     "/* fixed point: x ≈ q · 2^(−N) */\n"
                     "#define MODEL_INPUT_N     %d /* Q%d.%d */\n"
                     "#define MODEL_OUTPUT_N    %d /* Q%d.%d */\n"
                     "#define MODEL_ROUNDING    \"%s\"\n",
                     ni, g->bits - 1 - ni, ni, no, g->bits - 1 - no, no,
                     g->q->rounding == MF_RT_ROUND_HALF_UP ? "half-up" : "floor");
    }
    mf_sb_printf(b,
                 "#define MODEL_ARENA_BYTES %zuu /* activations (static, one arena) */\n"
                 "#define MODEL_ARENA_LOWER_BOUND %zuu /* largest set of live tensors */\n"
                 "#define MODEL_N_LAYERS    %d /* kernel calls per inference */\n"
                 "#define MODEL_MACS        %lluu\n",
                 g->plan.arena, g->plan.lower_bound, g->n_layers,
                 (unsigned long long)mf_model_macs(m));
    if (m->n_class_names && m->class_names) {
        mf_sb_printf(b, "#define MODEL_N_CLASSES   %d\n#define MODEL_CLASS_NAMES {",
                     m->n_class_names);
        for (int c = 0; c < m->n_class_names; c++) {
            mf_sb_printf(b, "%s\"", c ? ", " : "");
            c_string(b, m->class_names[c]);
            mf_sb_printf(b, "\"");
        }
        mf_sb_printf(b, "}\n");
    }
    mf_sb_printf(
        b,
        "\n/* One inference: in (MODEL_INPUT_SIZE values, already quantized) → out\n"
        " * (MODEL_OUTPUT_SIZE raw values). in is copied into the arena unless it is\n"
        " * model_input_buffer() (then it may be overwritten). Returns 0. */\n"
        "int model_run(const model_t *in, model_t *out);\n"
        "/* raw sensor values (MODEL_INPUT_SIZE floats, channels-last) → the model's input: its\n"
        " * own preprocessing (z-score statistics embedded) then %s. */\n"
        "void model_quantize_input(const float *raw, model_t *q);\n"
        "/* one output value as a float%s */\n"
        "float model_dequantize_output(model_t q);\n"
        "/* the input and output tensors inside the arena (zero-copy use of model_run) */\n"
        "model_t *model_input_buffer(void);\nconst model_t *model_output_buffer(void);\n\n"
        "#ifdef MF_PROFILE_LAYERS\nextern uint32_t model_layer_icount[MODEL_N_LAYERS];\n#endif\n\n"
        "#endif\n",
        g->q ? "q = saturate(lround(x · 2^MODEL_INPUT_N))" : "nothing more (float32)",
        g->q ? " (q · 2^(−MODEL_OUTPUT_N))" : "");
}

/* ---- runtime sources: the files defining the kernels used, and what they call ---- */

typedef struct rt_file {
    char name[256];
    char *text;
    int is_c, used;
} rt_file;

/* Non-static functions defined at file scope: "type name(args) {" starting in column 0. */
static int defines(const char *text, const char *sym)
{
    size_t n = strlen(sym);
    const char *line = text;
    while (line && *line) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        if (len && (isalpha((unsigned char)line[0]) || line[0] == '_') &&
            strncmp(line, "static", 6) && strncmp(line, "typedef", 7)) {
            const char *paren = memchr(line, '(', len);
            if (paren) {
                const char *e = paren;
                while (e > line && isspace((unsigned char)e[-1]))
                    e--;
                const char *s = e;
                while (s > line && (isalnum((unsigned char)s[-1]) || s[-1] == '_'))
                    s--;
                if ((size_t)(e - s) == n && !memcmp(s, sym, n)) {
                    /* definition, not a prototype: the matching ')' is followed by '{' */
                    int depth = 0;
                    const char *c = paren;
                    for (; *c; c++) {
                        if (*c == '(') depth++;
                        if (*c == ')' && --depth == 0) break;
                    }
                    if (*c) {
                        c++;
                        while (*c && isspace((unsigned char)*c))
                            c++;
                        if (*c == '{') return 1;
                    }
                }
            }
        }
        line = eol ? eol + 1 : NULL;
    }
    return 0;
}

static int file_defining(rt_file *f, int nf, const char *sym)
{
    for (int i = 0; i < nf; i++)
        if (f[i].is_c && defines(f[i].text, sym)) return i;
    return -1;
}

/* Marks every .c file that defines an identifier used by file k (transitively). */
static void mark_uses(rt_file *f, int nf, int k)
{
    if (f[k].used) return;
    f[k].used = 1;
    const char *p = f[k].text;
    while (*p) {
        if (isalpha((unsigned char)*p) || *p == '_') {
            const char *s = p;
            while (isalnum((unsigned char)*p) || *p == '_')
                p++;
            size_t len = (size_t)(p - s);
            if (len > 3 && len < 128) {
                char sym[128];
                memcpy(sym, s, len);
                sym[len] = 0;
                int d = file_defining(f, nf, sym);
                if (d >= 0 && d != k) mark_uses(f, nf, d);
            }
        } else {
            p++;
        }
    }
}

static void free_rt(rt_file *f, int n)
{
    if (!f) return;
    for (int i = 0; i < n; i++)
        free(f[i].text);
    free(f);
}

static int load_runtime(rt_file **out, int *n_out, mf_error *err)
{
    char dirpath[4200];
    snprintf(dirpath, sizeof dirpath, "%s/deploy/runtime", source_dir());
    DIR *d = opendir(dirpath);
    if (!d)
        return mf_error_set(err,
                            "cannot open the runtime sources in %s: %s (set "
                            "MCUFORGE_SOURCE_DIR to the mcuforge source tree)",
                            dirpath, strerror(errno));
    rt_file *f = NULL;
    int n = 0, cap = 0;
    struct dirent *e;
    int rc = MF_OK;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        int is_c = len > 2 && !strcmp(e->d_name + len - 2, ".c");
        int is_h = len > 2 && !strcmp(e->d_name + len - 2, ".h");
        if ((!is_c && !is_h) || len >= sizeof f->name || e->d_name[0] == '.') continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            rt_file *nf = realloc(f, sizeof *f * (size_t)cap);
            if (!nf) {
                rc = mf_error_set(err, "out of memory");
                break;
            }
            f = nf;
        }
        memset(&f[n], 0, sizeof f[n]);
        snprintf(f[n].name, sizeof f[n].name, "%s", e->d_name);
        f[n].is_c = is_c;
        char path[4500];
        snprintf(path, sizeof path, "%s/%s", dirpath, e->d_name);
        if (mf_read_file(path, &f[n].text, NULL, (size_t)16 << 20, err)) {
            rc = MF_ERR;
            break;
        }
        n++;
    }
    closedir(d);
    if (rc) {
        free_rt(f, n);
        return rc;
    }
    /* stable order: by name */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && strcmp(f[j - 1].name, f[j].name) > 0; j--) {
            rt_file t = f[j];
            f[j] = f[j - 1];
            f[j - 1] = t;
        }
    *out = f;
    *n_out = n;
    return MF_OK;
}

/* ---- files ---- */

static int write_text(const char *dir, const char *name, const mf_sb *b, mf_error *err)
{
    char path[4500];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return mf_write_atomic(path, b->p ? b->p : "", b->len, err);
}

static int copy_template(const char *dir, const char *name, mf_error *err)
{
    char src[4500], dst[4500];
    snprintf(src, sizeof src, "%s/deploy/firmware/%s", source_dir(), name);
    snprintf(dst, sizeof dst, "%s/%s", dir, name);
    char *data;
    size_t n;
    if (mf_read_file(src, &data, &n, (size_t)1 << 20, err)) return MF_ERR;
    int rc = mf_write_atomic(dst, data, n, err);
    free(data);
    return rc;
}

static void remove_file(const char *dir, const char *name)
{
    char path[4500];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    remove(path);
}

/* ---- the entry point ---- */

int mf_deploy_generate(const mf_qmodel *q, const mf_model *model, const mf_deploy_options *o,
                       mf_deploy_summary *summary, mf_error *err)
{
    if (!o || !o->out_dir || !*o->out_dir)
        return mf_error_set(err, "deploy: no output folder given");
    if (!q && !model) return mf_error_set(err, "deploy: no model given");
    if (o->n_vectors < 1 || !o->vectors)
        return mf_error_set(err, "deploy: at least one test vector is needed (got %d)",
                            o->n_vectors);
    gen g;
    memset(&g, 0, sizeof g);
    mf_model *folded = NULL;
    rt_file *rt = NULL;
    int n_rt = 0, rc = MF_ERR;
    mf_sb weights = {0}, decl = {0}, model_c = {0}, model_h = {0}, vec_h = {0}, vec_c = {0},
          config = {0}, manifest = {0}, plan_txt = {0}, expected = {0};
    float *x = NULL, *logits = NULL;
    mf_qexec *e = NULL;
    FILE *planf = NULL;
    char *plan_buf = NULL;
    size_t plan_len = 0;
    if (q) {
        g.q = q;
        g.m = q->model;
        g.bits = q->bits;
    } else {
        folded = mf_fold_model(model, err);
        if (!folded) return MF_ERR;
        g.m = folded;
        g.bits = 32;
    }
    const mf_model *m = g.m;
    g.esz = g.bits == 32 ? 4 : g.bits == 16 ? 2 : 1;
    g.ctype = g.bits == 32 ? "float" : g.bits == 16 ? "int16_t" : "int8_t";
    g.sfx = g.bits == 32 ? "f32" : g.bits == 16 ? "s16" : "s8";
    g.wtype = g.ctype;
    g.btype = g.bits == 16 ? "int64_t" : g.bits == 8 ? "int32_t" : "float";
    g.rounding =
        q && q->rounding == MF_RT_ROUND_HALF_UP ? "MF_RT_ROUND_HALF_UP" : "MF_RT_ROUND_FLOOR";
    /* 1. every layer and name is checked before anything is written */
    g.ident = calloc((size_t)m->n_nodes, sizeof *g.ident);
    g.layer_of = malloc(sizeof(int) * (size_t)m->n_nodes);
    g.fused_src = malloc(sizeof(int) * (size_t)m->n_nodes);
    g.fused_into = malloc(sizeof(int) * (size_t)m->n_nodes);
    if (!g.ident || !g.layer_of || !g.fused_src || !g.fused_into) {
        mf_error_set(err, "out of memory");
        goto done;
    }
    for (int k = 1; k < m->n_nodes; k++) {
        int i = m->order[k];
        if (check_node(&g, i, err)) goto done;
    }
    if (m->output <= 0) {
        mf_error_set(err, "the model has no layer to run");
        goto done;
    }
    for (int i = 0; i < m->n_nodes; i++)
        g.fused_src[i] = g.fused_into[i] = -1;
    for (int k = 1; k < m->n_nodes && !o->no_fuse; k++) {
        int i = m->order[k], src = pool_fusable_into(&g, i);
        if (src < 0) continue;
        g.fused_src[i] = src;
        g.fused_into[src] = i;
    }
    for (int i = 0; i < m->n_nodes; i++) {
        g.layer_of[i] = -1;
        char *id = g.ident[i];
        snprintf(id, IDENT_MAX, "L%02d_%s", i, m->nodes[i].spec.name);
    }
    for (int k = 1; k < m->n_nodes; k++) {
        int i = m->order[k];
        if (m->nodes[i].spec.op != MF_OP_FLATTEN && g.fused_into[i] < 0)
            g.layer_of[i] = g.n_layers++;
    }
    if (g.n_layers == 0) {
        mf_error_set(err, "the model has no layer to run (only views)");
        goto done;
    }
    for (int c = 0; c < m->n_class_names && m->class_names; c++)
        if (strlen(m->class_names[c]) >= MF_LABEL_MAX) {
            mf_error_set(err, "class name %d is too long", c);
            goto done;
        }
    if (!q) {
        /* float weights in the runtime layout [cout][k…][cin] (from Keras [k…][cin][cout]) */
        g.wf = calloc((size_t)m->n_nodes, sizeof *g.wf);
        if (!g.wf) {
            mf_error_set(err, "out of memory");
            goto done;
        }
        for (int i = 1; i < m->n_nodes; i++) {
            if (!is_weighted(m->nodes[i].spec.op)) continue;
            mf_param_desc d[4];
            mf_node_params(m, i, d);
            const float *w = m->params + m->nodes[i].param_offset + d[0].offset;
            int cout = d[0].shape.dim[d[0].shape.rank - 1];
            size_t kk = mf_shape_size(&d[0].shape) / (size_t)cout;
            g.wf[i] = malloc(sizeof(float) * kk * (size_t)cout);
            if (!g.wf[i]) {
                mf_error_set(err, "out of memory");
                goto done;
            }
            for (int c = 0; c < cout; c++)
                for (size_t xk = 0; xk < kk; xk++)
                    g.wf[i][(size_t)c * kk + xk] = w[xk * (size_t)cout + (size_t)c];
        }
    }
    /* 2. memory plan */
    if (build_plan(&g, o->align > 0 ? o->align : 8, err)) goto done;
    /* 3. code, in memory */
    if (emit_weights(&g, &weights, &decl)) {
        mf_error_set(err, "out of memory generating the weights");
        goto done;
    }
    if (emit_model_c(&g, &decl, &model_c, err)) goto done;
    /* budgets known before building: the weights alone, the arena alone, vectors in flash */
    size_t in_size = mf_model_input_size(m), out_size = mf_model_output_size(m);
    size_t vec_bytes = o->stream ? 0 : (size_t)o->n_vectors * in_size * sizeof(float);
    if (g.weight_bytes > MF_DEPLOY_FLASH_BYTES) {
        mf_error_set(err,
                     "flash budget (1 MiB = %u bytes) exceeded by %zu bytes: the weights alone "
                     "need %zu bytes",
                     MF_DEPLOY_FLASH_BYTES, g.weight_bytes - MF_DEPLOY_FLASH_BYTES, g.weight_bytes);
        goto done;
    }
    if (g.plan.arena + MF_DEPLOY_MIN_STACK_BYTES > MF_DEPLOY_RAM_BYTES) {
        mf_error_set(err,
                     "RAM budget (128 KiB = %u bytes) exceeded by %zu bytes: the activation arena "
                     "alone needs %zu bytes (lower bound %zu) plus a %u-byte minimum stack",
                     MF_DEPLOY_RAM_BYTES,
                     g.plan.arena + MF_DEPLOY_MIN_STACK_BYTES - MF_DEPLOY_RAM_BYTES, g.plan.arena,
                     g.plan.lower_bound, MF_DEPLOY_MIN_STACK_BYTES);
        goto done;
    }
    if (g.weight_bytes + vec_bytes > MF_DEPLOY_FLASH_BYTES) {
        mf_error_set(err,
                     "flash budget (1 MiB) exceeded by %zu bytes: %d test vectors in flash take "
                     "%zu bytes beside %zu bytes of weights; stream them from the host instead "
                     "(--stream or --all-test) or embed fewer",
                     g.weight_bytes + vec_bytes - MF_DEPLOY_FLASH_BYTES, o->n_vectors, vec_bytes,
                     g.weight_bytes);
        goto done;
    }
    /* the runtime sources the calls need */
    if (load_runtime(&rt, &n_rt, err)) goto done;
    for (int k = 0; k < g.n_kernels; k++) {
        int d = file_defining(rt, n_rt, g.kernels[k]);
        if (d < 0) {
            mf_error_set(err, "runtime kernel %s is not defined in %s/deploy/runtime", g.kernels[k],
                         source_dir());
            goto done;
        }
        mark_uses(rt, n_rt, d);
    }
    /* hash of what is deployed */
    uint64_t h = mf_fnv1a64(MF_FNV64_INIT, model_c.p, model_c.len);
    h = mf_fnv1a64(h, weights.p, weights.len);
    char hash[17];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)h);
    emit_model_h(&g, hash, &model_h);
    /* vectors: raw inputs; expected: the host's outputs through the same kernels */
    mf_sb_printf(&vec_h,
                 "/* vectors.h — generated by mcuforge deploy: the test vectors (raw inputs, "
                 "before the\n * model's preprocessing) %s. */\n#ifndef VECTORS_H\n#define "
                 "VECTORS_H\n\n#include \"model.h\"\n\n#define MF_N_VECTORS %d\n"
                 "#define MF_VECTORS_STREAMED %d\n",
                 o->stream ? "streamed from vectors.bin (float32 little-endian, one sample "
                             "after another)"
                           : "in flash (vectors.c)",
                 o->n_vectors, o->stream ? 1 : 0);
    if (!o->stream) {
        mf_sb_printf(&vec_h, "extern const float mf_vectors[MF_N_VECTORS][MODEL_INPUT_SIZE];\n");
        mf_sb_printf(
            &vec_c,
            "/* vectors.c — generated by mcuforge deploy: %d raw test inputs in flash. */\n"
            "#include \"vectors.h\"\n\nconst float mf_vectors[MF_N_VECTORS][MODEL_INPUT_"
            "SIZE] = {\n",
            o->n_vectors);
        for (int v = 0; v < o->n_vectors; v++) {
            mf_sb_printf(&vec_c, "  {");
            emit_float_values(&vec_c, o->vectors + (size_t)v * in_size, in_size, "    ");
            mf_sb_printf(&vec_c, "\n  },\n");
        }
        mf_sb_printf(&vec_c, "};\n");
    }
    mf_sb_printf(&vec_h, "\n#endif\n");
    e = mf_qexec_new(q, q ? NULL : m, err);
    x = malloc(sizeof(float) * in_size);
    logits = malloc(sizeof(float) * out_size);
    if (!e || !x || !logits) {
        if (e) mf_error_set(err, "out of memory");
        goto done;
    }
    {
        char magic[8] = {'M', 'F', 'E', 'X', 'P', 'V', '1', 0};
        uint32_t hdr[4] = {(uint32_t)o->n_vectors, (uint32_t)out_size, (uint32_t)g.esz,
                           (uint32_t)in_size};
        mf_sb_append(&expected, magic, sizeof magic);
        mf_sb_append(&expected, hdr, sizeof hdr);
    }
    for (int v = 0; v < o->n_vectors; v++) {
        memcpy(x, o->vectors + (size_t)v * in_size, sizeof(float) * in_size);
        mf_model_preprocess(m, x, 1);
        mf_qexec_run(e, x, logits);
        size_t cnt;
        const void *qin = mf_qexec_node_output(e, 0, &cnt);
        uint32_t rec[2] = {(uint32_t)(o->labels ? o->labels[v] : -1), mf_fnv1a32(qin, cnt * g.esz)};
        const void *y = mf_qexec_node_output(e, m->output, &cnt);
        mf_sb_append(&expected, rec, sizeof rec);
        mf_sb_append(&expected, y, cnt * g.esz);
    }
    /* config.mk, manifest, plan */
    const char *opt = o->opt && *o->opt ? o->opt : MF_DEPLOY_DEFAULT_OPT;
    const char *extra = o->cflags ? o->cflags : "";
    if (strchr(opt, '\n') || strchr(extra, '\n') || strchr(opt, '#') || strchr(extra, '#') ||
        strchr(opt, '$') || strchr(extra, '$')) {
        mf_error_set(err, "compiler flags must not contain newlines, '#' or '$'");
        goto done;
    }
    int profile_vectors = o->profile_vectors > 0 ? o->profile_vectors : 3;
    if (profile_vectors > o->n_vectors) profile_vectors = o->n_vectors;
    mf_sb_printf(&config,
                 "# config.mk — written by mcuforge deploy: flags and sources of this project\n"
                 "# Optimisation: %s (see the Makefile for the fixed flags)\n"
                 "OPT := %s\nEXTRA_CFLAGS := %s\nPROFILE_VECTORS := %d\n"
                 "HARNESS_SRC := main.c startup.c semihost.c%s\nRUNTIME_SRC :=",
                 opt, opt, extra, profile_vectors, o->stream ? "" : " vectors.c");
    for (int i = 0; i < n_rt; i++)
        if (rt[i].is_c && rt[i].used) mf_sb_printf(&config, " runtime/%s", rt[i].name);
    mf_sb_printf(&config, "\n");
    planf = open_memstream(&plan_buf, &plan_len);
    if (!planf) {
        mf_error_set(err, "out of memory");
        goto done;
    }
    {
        const char **names = malloc(sizeof(char *) * (size_t)m->n_nodes);
        if (!names) {
            mf_error_set(err, "out of memory");
            goto done;
        }
        for (int i = 0; i < m->n_nodes; i++)
            names[i] = m->nodes[i].spec.name;
        mf_plan_print(&g.plan, names, planf);
        free(names);
        for (int k = 1; k < m->n_nodes; k++) {
            int i = m->order[k], src = pool_fusable_into(&g, i);
            if (src >= 0)
                fprintf(planf, "  %s %s into %s (mf_rt_conv_maxpool_%s): %s is not materialised\n",
                        m->nodes[i].spec.name, o->no_fuse ? "could be fused" : "fused",
                        m->nodes[src].spec.name, g.sfx, m->nodes[src].spec.name);
        }
    }
    fclose(planf);
    planf = NULL;
    mf_sb_append(&plan_txt, plan_buf, plan_len);
    mf_sb_printf(&manifest,
                 "mcuforge-deploy 1\ngenerator mcuforge %s\nprecision %s\nbits %d\nhash %s\n"
                 "vectors %d\nstreamed %d\nprofile_vectors %d\ninput_size %zu\noutput_size %zu\n"
                 "macs %llu\narena %zu\nlower_bound %zu\nweights %zu\ncflags %s%s%s\nlayers %d\n",
                 MF_VERSION,
                 g.bits == 32   ? "float32"
                 : g.bits == 16 ? "int16"
                                : "int8",
                 g.bits, hash, o->n_vectors, o->stream ? 1 : 0, profile_vectors, in_size, out_size,
                 (unsigned long long)mf_model_macs(m), g.plan.arena, g.plan.lower_bound,
                 g.weight_bytes, opt, extra[0] ? " " : "", extra, g.n_layers);
    for (int k = 1; k < m->n_nodes; k++) {
        int i = m->order[k];
        if (g.layer_of[i] < 0) continue;
        char si[48], so[48];
        int first = g.fused_src[i] >= 0 ? g.fused_src[i] : i;
        mf_shape_str(&m->nodes[m->nodes[first].inputs[0]].out_shape, si, sizeof si);
        mf_shape_str(&m->nodes[i].out_shape, so, sizeof so);
        if (first != i)
            mf_sb_printf(&manifest, "layer %d %s+%s %s+%s %s %s %llu\n", g.layer_of[i],
                         m->nodes[first].spec.name, m->nodes[i].spec.name,
                         mf_op_get(m->nodes[first].spec.op)->name,
                         mf_op_get(m->nodes[i].spec.op)->name, si, so,
                         (unsigned long long)(mf_node_macs(m, first) + mf_node_macs(m, i)));
        else
            mf_sb_printf(&manifest, "layer %d %s %s %s %s %llu\n", g.layer_of[i],
                         m->nodes[i].spec.name, mf_op_get(m->nodes[i].spec.op)->name, si, so,
                         (unsigned long long)mf_node_macs(m, i));
    }
    if (weights.oom || model_c.oom || model_h.oom || vec_h.oom || vec_c.oom || config.oom ||
        manifest.oom || plan_txt.oom || expected.oom) {
        mf_error_set(err, "out of memory generating the project");
        goto done;
    }
    /* 4. files */
    const char *dir = o->out_dir;
    char rtdir[4200];
    snprintf(rtdir, sizeof rtdir, "%s/runtime", dir);
    if (mf_make_dir(dir, err) || mf_make_dir(rtdir, err)) goto done;
    {
        /* stale runtime copies of an earlier generation */
        DIR *d = opendir(rtdir);
        if (d) {
            struct dirent *de;
            while ((de = readdir(d))) {
                size_t len = strlen(de->d_name);
                if (len < 3 ||
                    (strcmp(de->d_name + len - 2, ".c") && strcmp(de->d_name + len - 2, ".h")))
                    continue;
                int keep = 0;
                for (int i = 0; i < n_rt; i++)
                    keep |= !strcmp(rt[i].name, de->d_name) && (!rt[i].is_c || rt[i].used);
                if (!keep) remove_file(rtdir, de->d_name);
            }
            closedir(d);
        }
    }
    for (int i = 0; i < n_rt; i++) {
        if (rt[i].is_c && !rt[i].used) continue;
        char path[4500];
        snprintf(path, sizeof path, "%s/%s", rtdir, rt[i].name);
        if (mf_write_atomic(path, rt[i].text, strlen(rt[i].text), err)) goto done;
    }
    static const char *const templates[] = {"main.c",      "startup.c", "semihost.c", "semihost.h",
                                            "mf_icount.h", "link.ld",   "Makefile"};
    for (size_t i = 0; i < sizeof templates / sizeof templates[0]; i++)
        if (copy_template(dir, templates[i], err)) goto done;
    if (write_text(dir, "model_weights.c", &weights, err) ||
        write_text(dir, "model.c", &model_c, err) || write_text(dir, "model.h", &model_h, err) ||
        write_text(dir, "vectors.h", &vec_h, err) || write_text(dir, "config.mk", &config, err) ||
        write_text(dir, "plan.txt", &plan_txt, err) ||
        write_text(dir, "expected.bin", &expected, err))
        goto done;
    if (o->stream) {
        remove_file(dir, "vectors.c");
        char path[4500];
        snprintf(path, sizeof path, "%s/vectors.bin", dir);
        if (mf_write_atomic(path, o->vectors, (size_t)o->n_vectors * in_size * sizeof(float), err))
            goto done;
    } else {
        remove_file(dir, "vectors.bin");
        if (write_text(dir, "vectors.c", &vec_c, err)) goto done;
    }
    remove_file(dir, "report.json"); /* belongs to an earlier build */
    /* the manifest last: a project with a manifest is complete */
    if (write_text(dir, "deploy.manifest", &manifest, err)) goto done;
    if (o->log) {
        fprintf(o->log, "%s", plan_buf);
        fprintf(o->log,
                "generated %s: %s, %d kernel calls, %zu bytes of weights, arena %zu bytes "
                "(lower bound %zu), %d test vectors %s, flags %s %s\n",
                dir,
                g.bits == 32   ? "float32"
                : g.bits == 16 ? "int16"
                               : "int8",
                g.n_layers, g.weight_bytes, g.plan.arena, g.plan.lower_bound, o->n_vectors,
                o->stream ? "streamed from vectors.bin" : "in flash", opt, extra);
    }
    if (summary) {
        summary->n_layers = g.n_layers;
        summary->arena = g.plan.arena;
        summary->lower_bound = g.plan.lower_bound;
        summary->weights = g.weight_bytes;
        summary->macs = mf_model_macs(m);
        summary->precision = g.bits;
        snprintf(summary->hash, sizeof summary->hash, "%s", hash);
    }
    rc = MF_OK;
done:
    if (planf) fclose(planf);
    free(plan_buf);
    mf_qexec_free(e);
    free(x);
    free(logits);
    free_rt(rt, n_rt);
    mf_sb_free(&weights);
    mf_sb_free(&decl);
    mf_sb_free(&model_c);
    mf_sb_free(&model_h);
    mf_sb_free(&vec_h);
    mf_sb_free(&vec_c);
    mf_sb_free(&config);
    mf_sb_free(&manifest);
    mf_sb_free(&plan_txt);
    mf_sb_free(&expected);
    gen_free(&g);
    mf_model_free(folded);
    return rc;
}
