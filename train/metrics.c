/* Classification metrics: accuracy, per-class accuracy and the confusion matrix, printed and
 * written as CSV. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* Training curves as a PNG through gnuplot: loss (left) and accuracy (right) per epoch.
 *
 * No file name ever enters gnuplot's script: gnuplot reads quoted names as script text (a quote
 * in a folder name ends the string and what follows runs, system() included), a data file named
 * "<cmd" runs cmd, and an output named "|cmd" pipes into cmd. So gnuplot runs (fork + execvp,
 * no shell) inside a private folder made with mkdtemp beside the PNG, on a copy of the history
 * under a fixed name, drawing to a fixed name; the PNG is then renamed into place (the same
 * folder, so the rename is atomic) and the private folder removed. */
#define PLOT_DATA   "history.csv"
#define PLOT_IMAGE  "history.png"
#define PLOT_SCRIPT "plot.gp"
#define PLOT_LOG    "gnuplot.log"

static const char plot_script[] =
    "set terminal pngcairo size 1000,400 noenhanced\n"
    "set output '" PLOT_IMAGE "'\n"
    "set datafile separator ','\n"
    "set key autotitle columnhead\n"
    "set multiplot layout 1,2\n"
    "set xlabel 'epoch'\nset title 'loss'\nset grid\n"
    "plot '" PLOT_DATA "' using 1:2 with lines lw 2 title 'train', '' using 1:4 with lines lw 2 "
    "title columnheader(4)\n"
    "set title 'accuracy'\nset yrange [0:1]\nset key bottom right\n"
    "plot '" PLOT_DATA "' using 1:3 with lines lw 2 title 'train', '' using 1:5 with lines lw 2 "
    "title columnheader(5)\n"
    "unset multiplot\n";

/* dir/name into out; 0 when it does not fit. */
static int join_path(char *out, size_t size, const char *dir, const char *name)
{
    int w = snprintf(out, size, "%s/%s", dir, name);
    return w >= 0 && (size_t)w < size;
}

/* Copies the regular file src to dst (created, not replaced). */
static int copy_file(const char *src, const char *dst, mf_error *err)
{
    if (mf_file_check_regular(src, err)) return MF_ERR;
    FILE *in = fopen(src, "rb");
    if (!in) return mf_error_set(err, "cannot open '%s': %s", src, strerror(errno));
    FILE *out = fopen(dst, "wbx");
    if (!out) {
        fclose(in);
        return mf_error_set(err, "cannot create '%s': %s", dst, strerror(errno));
    }
    char buf[8192];
    size_t n;
    int rc = MF_OK;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n) {
            rc = mf_error_set(err, "cannot write '%s': %s", dst, strerror(errno));
            break;
        }
    if (rc == MF_OK && ferror(in))
        rc = mf_error_set(err, "cannot read '%s': %s", src, strerror(errno));
    fclose(in);
    if (fclose(out) && rc == MF_OK)
        rc = mf_error_set(err, "cannot write '%s': %s", dst, strerror(errno));
    return rc;
}

static int write_file(const char *path, const char *text, mf_error *err)
{
    FILE *f = fopen(path, "wbx");
    if (!f) return mf_error_set(err, "cannot create '%s': %s", path, strerror(errno));
    size_t len = strlen(text);
    int ok = fwrite(text, 1, len, f) == len;
    if (fclose(f)) ok = 0;
    return ok ? MF_OK : mf_error_set(err, "cannot write '%s': %s", path, strerror(errno));
}

/* The last non-empty line of a (small) log file, for error messages. */
static void last_line(const char *path, char *out, size_t size)
{
    out[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        size_t len = strcspn(line, "\r\n");
        line[len] = '\0';
        const char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s) snprintf(out, size, "%.*s", (int)(size - 1), s);
    }
    fclose(f);
}

/* Runs gnuplot on the script in dir (its working folder), output into dir/PLOT_LOG. Returns the
 * exit status (127: gnuplot could not be started), or -1 with err set. */
static int run_gnuplot(const char *dir, const char *log, mf_error *err)
{
    char *const argv[] = {"gnuplot", "-d", PLOT_SCRIPT, NULL};
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        mf_error_set(err, "cannot start gnuplot: fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        int out = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0 ||
            chdir(dir))
            _exit(127);
        close(in);
        close(out);
        execvp(argv[0], argv);
        _exit(127);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) {
            mf_error_set(err, "waiting for gnuplot: %s", strerror(errno));
            return -1;
        }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

int mf_history_plot(const char *csv_path, const char *png_path, mf_error *err)
{
    /* the private folder beside the PNG */
    char tmp[4096], data[4200], script[4200], image[4200], log[4200];
    const char *slash = strrchr(png_path, '/');
    int w = slash ? snprintf(tmp, sizeof tmp, "%.*s/.plot.XXXXXX",
                             (int)(slash == png_path ? 1 : slash - png_path), png_path)
                  : snprintf(tmp, sizeof tmp, ".plot.XXXXXX");
    if (w < 0 || (size_t)w >= sizeof tmp)
        return mf_error_set(err, "plot: the folder name of '%s' is too long", png_path);
    if (!mkdtemp(tmp))
        return mf_error_set(err, "plot: cannot make a temporary folder beside '%s': %s", png_path,
                            strerror(errno));
    int rc = MF_OK;
    if (!join_path(data, sizeof data, tmp, PLOT_DATA) ||
        !join_path(script, sizeof script, tmp, PLOT_SCRIPT) ||
        !join_path(image, sizeof image, tmp, PLOT_IMAGE) ||
        !join_path(log, sizeof log, tmp, PLOT_LOG))
        rc = mf_error_set(err, "plot: the folder name of '%s' is too long", png_path);
    if (rc == MF_OK && copy_file(csv_path, data, err)) rc = MF_ERR;
    if (rc == MF_OK && write_file(script, plot_script, err)) rc = MF_ERR;
    if (rc == MF_OK) {
        int status = run_gnuplot(tmp, log, err);
        char why[400];
        if (status < 0) {
            rc = MF_ERR;
        } else if (status == 127) {
            rc = mf_error_set(err, "cannot run gnuplot (install it with tools/setup.sh)");
        } else if (status != 0 || !mf_file_is_regular(image)) {
            last_line(log, why, sizeof why);
            rc = mf_error_set(err, "gnuplot failed (exit status %d) drawing %s from %s%s%s", status,
                              png_path, csv_path, why[0] ? ": " : "", why);
        } else if (rename(image, png_path)) {
            rc = mf_error_set(err, "cannot move the plot to '%s': %s", png_path, strerror(errno));
        }
    }
    unlink(data);
    unlink(script);
    unlink(image);
    unlink(log);
    rmdir(tmp);
    return rc;
}
