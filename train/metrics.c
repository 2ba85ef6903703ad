/* Classification metrics: accuracy, per-class accuracy and the confusion matrix, printed and
 * written as CSV. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mf_fileio.h"
#include "mf_train.h"

int mf_metrics_compute(const int *labels, const int *pred, int n, int classes, mf_metrics *out,
                       mf_error *err)
{
    out->classes = classes;
    out->total = n;
    out->correct = 0;
    out->confusion = calloc((size_t)classes * classes, sizeof(long));
    if (!out->confusion) return mf_error_set(err, "out of memory");
    for (int i = 0; i < n; i++) {
        if (labels[i] < 0 || labels[i] >= classes || pred[i] < 0 || pred[i] >= classes) continue;
        out->confusion[(size_t)labels[i] * classes + pred[i]]++;
        out->correct += labels[i] == pred[i];
    }
    return MF_OK;
}

void mf_metrics_free(mf_metrics *m)
{
    free(m->confusion);
    m->confusion = NULL;
}

static long row_total(const mf_metrics *m, int c)
{
    long t = 0;
    for (int j = 0; j < m->classes; j++)
        t += m->confusion[(size_t)c * m->classes + j];
    return t;
}

static const char *name_of(const char (*names)[MF_LABEL_MAX], int c, char *buf, size_t size)
{
    if (names) return names[c];
    snprintf(buf, size, "%d", c);
    return buf;
}

void mf_metrics_print(FILE *f, const mf_metrics *m, const char (*names)[MF_LABEL_MAX])
{
    char buf[16];
    fprintf(f, "accuracy %.2f %% (%ld / %ld)\n", m->total ? 100.0 * m->correct / m->total : 0.0,
            m->correct, m->total);
    fprintf(f, "per class:\n");
    for (int c = 0; c < m->classes; c++) {
        long t = row_total(m, c), ok = m->confusion[(size_t)c * m->classes + c];
        fprintf(f, "  %3d %-32.32s %7.2f %% (%ld / %ld)\n", c, name_of(names, c, buf, sizeof buf),
                t ? 100.0 * ok / t : 0.0, ok, t);
    }
    if (m->classes > 20) {
        fprintf(f, "confusion matrix: %d classes, see the CSV\n", m->classes);
        return;
    }
    fprintf(f, "confusion matrix (rows: true class, columns: predicted):\n     ");
    for (int j = 0; j < m->classes; j++)
        fprintf(f, " %5d", j);
    fprintf(f, "\n");
    for (int c = 0; c < m->classes; c++) {
        fprintf(f, "  %3d", c);
        for (int j = 0; j < m->classes; j++)
            fprintf(f, " %5ld", m->confusion[(size_t)c * m->classes + j]);
        fprintf(f, "\n");
    }
}

/* CSV with a header row of predicted classes and one row per true class; then a per-class
 * file: class,name,samples,correct,accuracy. Both atomic. */
typedef struct metrics_out {
    const mf_metrics *m;
    const char (*names)[MF_LABEL_MAX];
} metrics_out;

static int print_confusion(FILE *f, void *ctx, mf_error *err)
{
    (void)err;
    const mf_metrics *m = ((const metrics_out *)ctx)->m;
    fprintf(f, "true\\predicted");
    for (int j = 0; j < m->classes; j++)
        fprintf(f, ",%d", j);
    fprintf(f, "\n");
    for (int c = 0; c < m->classes; c++) {
        fprintf(f, "%d", c);
        for (int j = 0; j < m->classes; j++)
            fprintf(f, ",%ld", m->confusion[(size_t)c * m->classes + j]);
        fprintf(f, "\n");
    }
    return MF_OK;
}

static int print_per_class(FILE *f, void *ctx, mf_error *err)
{
    (void)err;
    const metrics_out *o = ctx;
    const mf_metrics *m = o->m;
    char buf[16];
    fprintf(f, "class,name,samples,correct,accuracy\n");
    for (int c = 0; c < m->classes; c++) {
        long t = row_total(m, c), ok = m->confusion[(size_t)c * m->classes + c];
        const char *name = name_of(o->names, c, buf, sizeof buf);
        /* names may hold commas (GTSRB): quote them */
        fprintf(f, "%d,\"%s\",%ld,%ld,%.6f\n", c, name, t, ok, t ? (double)ok / t : 0.0);
    }
    return MF_OK;
}

int mf_metrics_write_csv(const mf_metrics *m, const char (*names)[MF_LABEL_MAX],
                         const char *confusion_path, const char *per_class_path, mf_error *err)
{
    metrics_out o = {m, names};
    if (mf_file_write_text(confusion_path, print_confusion, &o, err)) return MF_ERR;
    return mf_file_write_text(per_class_path, print_per_class, &o, err);
}

/* Training curves as a PNG (mf_plot_png: no file name enters the script): loss (left) and
 * accuracy (right) per epoch. */

static const char plot_script[] =
    "set terminal pngcairo size 1000,400 noenhanced\n"
    "set output '" MF_PLOT_IMAGE "'\n"
    "set datafile separator ','\n"
    "set key autotitle columnhead\n"
    "set multiplot layout 1,2\n"
    "set xlabel 'epoch'\nset title 'loss'\nset grid\n"
    "plot '" MF_PLOT_DATA "' using 1:2 with lines lw 2 title 'train', '' using 1:4 with lines lw 2 "
    "title columnheader(4)\n"
    "set title 'accuracy'\nset yrange [0:1]\nset key bottom right\n"
    "plot '" MF_PLOT_DATA "' using 1:3 with lines lw 2 title 'train', '' using 1:5 with lines lw 2 "
    "title columnheader(5)\n"
    "unset multiplot\n";

int mf_history_plot(const char *csv_path, const char *png_path, mf_error *err)
{
    return mf_plot_png(plot_script, csv_path, NULL, 0, png_path, err);
}
