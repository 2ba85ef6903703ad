/* Per-sample outputs (mf_outputs.h): the rows of outputs.csv from the firmware's output or from
 * the host's runtime kernels, and the CSV writer both use. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mf_fileio.h"
#include "mf_outputs.h"

void mf_outputs_free(mf_outputs *o)
{
    if (!o) return;
    free(o->labels);
    free(o->pred);
    free(o->raw);
    free(o->icount);
    free(o->stack);
    free(o->hash);
    memset(o, 0, sizeof *o);
}

static size_t value_size(int bits)
{
    return bits == 8 ? 1 : bits == 16 ? 2 : 4;
}

int mf_outputs_alloc(mf_outputs *o, int n, int k, int bits, int n_out, mf_error *err)
{
    memset(o, 0, sizeof *o);
    if (n < 1 || k < 1 || (bits != 8 && bits != 16 && bits != 32))
        return mf_error_set(err, "per-sample outputs: bad size (%d rows of %d outputs, %d bits)", n,
                            k, bits);
    o->n = n;
    o->k = k;
    o->bits = bits;
    o->n_out = n_out;
    o->labels = malloc(sizeof(int) * (size_t)n);
    o->pred = calloc((size_t)n, sizeof(int));
    o->raw = calloc((size_t)n * (size_t)k, value_size(bits));
    if (!o->labels || !o->pred || !o->raw) {
        mf_outputs_free(o);
        return mf_error_set(err, "out of memory for %d rows of per-sample outputs", n);
    }
    for (int i = 0; i < n; i++)
        o->labels[i] = -1;
    return MF_OK;
}

/* raw value i of row v as a double */
static double raw_value(const mf_outputs *o, int v, int i)
{
    size_t at = (size_t)v * (size_t)o->k + (size_t)i;
    if (o->bits == 8) return ((const int8_t *)o->raw)[at];
    if (o->bits == 16) return ((const int16_t *)o->raw)[at];
    return ((const float *)o->raw)[at];
}

/* ---- the firmware's lines ---- */

static int line_error(mf_error *err, const char *line, const char *eol, const char *why)
{
    return mf_error_set(err, "firmware output: %s: %.*s", why,
                        (int)(eol ? eol - line : (long)strlen(line)), line);
}

int mf_outputs_from_firmware(const char *text, int n, int k, int bits, int n_out,
                             const int32_t *labels, mf_outputs *o, mf_error *err)
{
    if (mf_outputs_alloc(o, n, k, bits, n_out, err)) return MF_ERR;
    char *seen = calloc((size_t)n, 1);
    o->icount = calloc((size_t)n, sizeof *o->icount);
    o->stack = calloc((size_t)n, sizeof *o->stack);
    o->hash = calloc((size_t)n, sizeof *o->hash);
    if (!seen || !o->icount || !o->stack || !o->hash) {
        free(seen);
        mf_outputs_free(o);
        return mf_error_set(err, "out of memory");
    }
    int rows = 0, rc = MF_OK;
    for (const char *line = text; line && *line && !rc;) {
        const char *eol = strchr(line, '\n');
        if (!strncmp(line, "V ", 2)) {
            unsigned v, icount, stack, hash, pred;
            int off = 0;
            if (sscanf(line, "V %u icount %u stack %u hash %x pred %u out%n", &v, &icount, &stack,
                       &hash, &pred, &off) != 5 ||
                off == 0 || v >= (unsigned)n || seen[v] || pred >= (unsigned)k) {
                rc = line_error(err, line, eol, "malformed, out of range or repeated vector line");
                break;
            }
            const char *p = line + off;
            for (int i = 0; i < k; i++) {
                char *end;
                size_t at = (size_t)v * (size_t)k + (size_t)i;
                if (bits == 32) {
                    unsigned long b = strtoul(p, &end, 16);
                    uint32_t u = (uint32_t)b;
                    memcpy((float *)o->raw + at, &u, sizeof u);
                } else {
                    long val = strtol(p, &end, 10);
                    if (bits == 8)
                        ((int8_t *)o->raw)[at] = (int8_t)val;
                    else
                        ((int16_t *)o->raw)[at] = (int16_t)val;
                    if (end != p && (!eol || end <= eol) &&
                        (val < (bits == 8 ? -128 : -32768) || val > (bits == 8 ? 127 : 32767))) {
                        rc = line_error(err, line, eol, "an output value outside the int range");
                        break;
                    }
                }
                if (end == p || (eol && end > eol)) {
                    rc = line_error(err, line, eol, "fewer output values than the model has");
                    break;
                }
                p = end;
            }
            if (rc) break;
            seen[v] = 1;
            o->icount[v] = icount;
            o->stack[v] = stack;
            o->hash[v] = hash;
            o->pred[v] = (int)pred;
            o->labels[v] = labels ? labels[v] : -1;
            rows++;
        }
        line = eol ? eol + 1 : NULL;
    }
    free(seen);
    if (!rc && rows != n) rc = mf_error_set(err, "firmware output: %d of %d vector lines", rows, n);
    if (rc) mf_outputs_free(o);
    return rc;
}

/* ---- the host ---- */

int mf_outputs_host(const mf_qmodel *q, const mf_model *m, const float *x, const int *y, int n,
                    mf_outputs *o, mf_error *err)
{
    memset(o, 0, sizeof *o);
    mf_model *folded = NULL;
    const mf_model *g = q ? q->model : NULL;
    if (!q) {
        if (!m) return mf_error_set(err, "per-sample outputs: no model given");
        folded = mf_fold_model(m, err); /* what deploy float32 lowers */
        if (!folded) return MF_ERR;
        g = folded;
    }
    int bits = q ? q->bits : 32, n_out = q ? q->nodes[g->output].n_out : 0;
    int k = (int)mf_model_output_size(g);
    size_t in = mf_model_input_size(g), esz = value_size(bits);
    float *logits = malloc(sizeof(float) * (size_t)k);
    mf_qexec *e = logits ? mf_qexec_new(q, q ? NULL : folded, err) : NULL;
    int rc = MF_ERR;
    if (!logits) mf_error_set(err, "out of memory");
    if (!e || mf_outputs_alloc(o, n, k, bits, n_out, err)) goto done;
    for (int s = 0; s < n; s++) {
        mf_qexec_run(e, x + (size_t)s * in, logits);
        size_t count = 0;
        const void *raw = mf_qexec_node_output(e, g->output, &count);
        if (count != (size_t)k) {
            mf_error_set(err, "per-sample outputs: the output node has %zu values, not %d", count,
                         k);
            goto done;
        }
        memcpy((char *)o->raw + (size_t)s * (size_t)k * esz, raw, (size_t)k * esz);
        int best = 0; /* the firmware's argmax: the first of equal maxima */
        for (int i = 1; i < k; i++)
            if (raw_value(o, s, i) > raw_value(o, s, best)) best = i;
        o->pred[s] = best;
        o->labels[s] = y ? y[s] : -1;
    }
    rc = MF_OK;
done:
    if (rc) mf_outputs_free(o);
    mf_qexec_free(e);
    free(logits);
    mf_model_free(folded);
    return rc;
}

/* ---- CSV ---- */

static int print_csv(FILE *f, void *ctx, mf_error *err)
{
    (void)err;
    const mf_outputs *o = ctx;
    fprintf(f, "index,label,pred");
    for (int i = 0; i < o->k; i++)
        fprintf(f, ",raw_%d", i);
    for (int i = 0; i < o->k; i++)
        fprintf(f, ",logit_%d", i);
    fprintf(f, "\n");
    for (int v = 0; v < o->n; v++) {
        fprintf(f, "%d,", v);
        if (o->labels[v] >= 0) fprintf(f, "%d", o->labels[v]);
        fprintf(f, ",%d", o->pred[v]);
        for (int i = 0; i < o->k; i++) {
            double r = raw_value(o, v, i);
            if (o->bits == 32)
                fprintf(f, ",%.9g", r);
            else
                fprintf(f, ",%d", (int)r);
        }
        for (int i = 0; i < o->k; i++)
            fprintf(f, ",%.9g", ldexp(raw_value(o, v, i), -o->n_out));
        fprintf(f, "\n");
    }
    return MF_OK;
}

int mf_outputs_write_csv(const mf_outputs *o, const char *path, mf_error *err)
{
    return mf_file_write_text(path, print_csv, (void *)o, err);
}
