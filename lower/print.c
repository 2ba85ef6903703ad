/* The lowered program as text: what `mcuforge lower` prints and deploy's plan.txt holds. */
#include <stdio.h>
#include <stdlib.h>

#include "lower_internal.h"

static void tensor_text(const mf_program *p, int node, char *buf, size_t size)
{
    char sh[48], f[24];
    mf_shape_str(&p->m->nodes[node].out_shape, sh, sizeof sh);
    mf_lower_qfmt(p->bits, p->q ? p->q->nodes[node].n_out : 0, f, sizeof f);
    snprintf(buf, size, "%s %s %s", p->m->nodes[node].spec.name, sh, f);
}

void mf_program_print(const mf_program *p, FILE *f)
{
    const mf_model *m = p->m;
    fprintf(f,
            "lowered program: %s, %d kernel calls, %zu bytes of weights, arena %zu bytes "
            "(largest scratch %zu bytes)\n",
            p->bits == 32   ? "float32"
            : p->bits == 16 ? "int16"
                            : "int8",
            p->n_calls, p->weight_bytes, p->plan.arena, p->scratch_peak);
    for (int k = 0; k < p->n_calls; k++) {
        const mf_call *c = &p->calls[k];
        char t[160];
        fprintf(f, "  %2d %-24s", k, c->kernel);
        if (c->first != c->node)
            fprintf(f, " %s + %s", m->nodes[c->first].spec.name, m->nodes[c->node].spec.name);
        else
            fprintf(f, " %s", m->nodes[c->node].spec.name);
        fprintf(f, " (%s)\n", mf_op_get(m->nodes[c->first].spec.op)->name);
        for (int j = 0; j < c->n_inputs; j++) {
            tensor_text(p, c->in[j], t, sizeof t);
            fprintf(f, "       in  %-40s arena [%zu, %zu)\n", t, c->in_off[j],
                    c->in_off[j] + mf_shape_size(&m->nodes[c->in[j]].out_shape) * p->esz);
        }
        tensor_text(p, c->out, t, sizeof t);
        fprintf(f, "       out %-40s arena [%zu, %zu)\n", t, c->out_off,
                c->out_off + mf_shape_size(&m->nodes[c->out].out_shape) * p->esz);
        if (c->scratch_bytes)
            fprintf(f, "       scratch %zu bytes                             arena [%zu, %zu)\n",
                    c->scratch_bytes, c->scratch_off, c->scratch_off + c->scratch_bytes);
        const mf_rt_geom *g = &c->geom;
        if (c->kind == MF_K_CONV || c->kind == MF_K_CONV_MAXPOOL || c->kind == MF_K_MAXPOOL ||
            c->kind == MF_K_AVGPOOL || c->kind == MF_K_DWCONV)
            fprintf(f,
                    "       geometry %dx%dx%d -> %dx%dx%d, kernel %dx%d, stride %dx%d, pad %d,%d\n",
                    g->h, g->w, g->cin, g->oh, g->ow, g->cout, g->kh, g->kw, g->sh, g->sw,
                    g->pad_top, g->pad_left);
        if (c->kind == MF_K_CONV_MAXPOOL)
            fprintf(f, "       fused max pool %dx%d, stride %dx%d\n", c->pool_kh, c->pool_kw,
                    c->pool_sh, c->pool_sw);
        if (c->kind == MF_K_DENSE) fprintf(f, "       %d -> %d\n", c->n_in, c->n_out);
        if (c->kind == MF_K_CONCAT) {
            fprintf(f, "       %d positions, channels", c->n_in);
            for (int k = 0; k < c->cat.k; k++)
                fprintf(f, "%s%d", k ? " + " : " ", c->cat.channels[k]);
            if (p->q) {
                fprintf(f, ", requantize: shifts");
                for (int k = 0; k < c->cat.k; k++)
                    fprintf(f, "%s%d", k ? ", " : " ", c->cat.shift[k]);
                fprintf(f, ", %s", c->cat.rounding == MF_RT_ROUND_HALF_UP ? "half-up" : "floor");
            }
            fprintf(f, "\n");
        }
        if (c->kind == MF_K_GLOBAL_AVGPOOL || c->kind == MF_K_GLOBAL_MAXPOOL ||
            c->kind == MF_K_AFFINE)
            fprintf(f, "       %d positions x %d channels\n", c->n_in, c->n_out);
        if (p->q && (c->w.data || c->kind == MF_K_ADD || c->kind == MF_K_ADDN)) {
            if (c->shifts.data)
                fprintf(f, "       requantize: per-channel shifts");
            else
                fprintf(f, "       requantize: shift %d", c->rq.shift);
            if (c->kind == MF_K_ADD) fprintf(f, ", alignments %d and %d", c->align_a, c->align_b);
            if (c->kind == MF_K_ADDN)
                fprintf(f, ", alignments %d, %d, %d", c->align_a, c->align_b, c->align_c);
            if (c->kind == MF_K_ADDN && c->n_inputs > 3) fprintf(f, ", %d", c->align_d);
            fprintf(f, ", %s", c->rq.rounding == MF_RT_ROUND_HALF_UP ? "half-up" : "floor");
            if (c->relu6)
                fprintf(f, ", ReLU6 (clamp to [0, %d])\n", c->rq.relu - 2);
            else
                fprintf(f, "%s\n", c->rq.relu ? ", ReLU" : "");
        } else if (c->kind == MF_K_RELU6 && p->q) {
            fprintf(f, "       clamp to [0, %d]\n", c->rq.relu - 2);
        } else if (c->relu) {
            fprintf(f, "       %s fused\n", c->relu6 ? "ReLU6" : "ReLU");
        }
        if (c->w.data)
            fprintf(f, "       weights %s %zu bytes", c->w.shape, c->w.count * (size_t)c->w.esz);
        if (c->bias.data) fprintf(f, ", bias %zu bytes", c->bias.count * (size_t)c->bias.esz);
        if (c->shifts.data) fprintf(f, ", shifts %zu bytes", c->shifts.count);
        if (c->idx.data)
            fprintf(f, ", sparse index %s %zu bytes", c->idx.shape, mf_blob_bytes(&c->idx));
        if (c->w.data) fprintf(f, "\n");
    }
    if (p->plan.tensors) {
        const char **names = calloc((size_t)p->plan.n_tensors, sizeof *names);
        char(*scr)[MF_NAME_MAX + 16] = calloc((size_t)p->n_calls, sizeof *scr);
        if (names && scr) {
            for (int i = 0; i < m->n_nodes; i++)
                names[i] = m->nodes[i].spec.name;
            for (int k = 0; k < p->n_calls; k++) {
                snprintf(scr[k], sizeof scr[k], "%s.scratch", m->nodes[p->calls[k].node].spec.name);
                names[m->n_nodes + k] = scr[k];
            }
        }
        mf_plan_print(&p->plan, names, f);
        if (p->scratch_peak)
            fprintf(f, "  kernel scratch: %zu bytes at most, planned with a one-call lifetime\n",
                    p->scratch_peak);
        free(names);
        free(scr);
    } else {
        fprintf(f, "arena %zu bytes: every tensor kept (no reuse), scratch shared at the end\n",
                p->plan.arena);
    }
}

const char *mf_program_call_label(const mf_program *p, const mf_call *c, char *buf, size_t size)
{
    if (c->first != c->node)
        snprintf(buf, size, "%s+%s", p->m->nodes[c->first].spec.name,
                 p->m->nodes[c->node].spec.name);
    else
        snprintf(buf, size, "%s", p->m->nodes[c->node].spec.name);
    return buf;
}
