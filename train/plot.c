/* PNG plots through gnuplot with no file name ever in its script (mf_train.h mf_plot_png).
 *
 * gnuplot reads quoted names as script text (a quote in a folder name ends the string and what
 * follows runs, system() included), a data file named "<cmd" runs cmd, and an output named
 * "|cmd" pipes into cmd. So gnuplot runs (fork + execvp, no shell) inside a private folder made
 * with mkdtemp beside the PNG, on the data under a fixed name, drawing to a fixed name; the PNG
 * is then renamed into place (the same folder, so the rename is atomic) and the private folder
 * removed. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mf_fileio.h"
#include "mf_train.h"

#define PLOT_SCRIPT "plot.gp"
#define PLOT_LOG    "gnuplot.log"
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

static int write_file(const char *path, const void *data, size_t len, mf_error *err)
{
    FILE *f = fopen(path, "wbx");
    if (!f) return mf_error_set(err, "cannot create '%s': %s", path, strerror(errno));
    int ok = fwrite(data, 1, len, f) == len;
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

int mf_plot_png(const char *script_text, const char *data_path, const void *data, size_t n,
                const char *png_path, mf_error *err)
{
    /* the private folder beside the PNG */
    char tmp[4096], data_file[4200], script[4200], image[4200], log[4200];
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
    if (!join_path(data_file, sizeof data_file, tmp, MF_PLOT_DATA) ||
        !join_path(script, sizeof script, tmp, PLOT_SCRIPT) ||
        !join_path(image, sizeof image, tmp, MF_PLOT_IMAGE) ||
        !join_path(log, sizeof log, tmp, PLOT_LOG))
        rc = mf_error_set(err, "plot: the folder name of '%s' is too long", png_path);
    if (rc == MF_OK &&
        (data_path ? copy_file(data_path, data_file, err) : write_file(data_file, data, n, err)))
        rc = MF_ERR;
    if (rc == MF_OK && write_file(script, script_text, strlen(script_text), err)) rc = MF_ERR;
    if (rc == MF_OK) {
        int status = run_gnuplot(tmp, log, err);
        char why[400];
        if (status < 0) {
            rc = MF_ERR;
        } else if (status == 127) {
            rc = mf_error_set(err, "cannot run gnuplot (install it with tools/setup.sh)");
        } else if (status != 0 || !mf_file_is_regular(image)) {
            last_line(log, why, sizeof why);
            rc = mf_error_set(err, "gnuplot failed (exit status %d) drawing %s%s%s", status,
                              png_path, why[0] ? ": " : "", why);
        } else if (rename(image, png_path)) {
            rc = mf_error_set(err, "cannot move the plot to '%s': %s", png_path, strerror(errno));
        }
    }
    unlink(data_file);
    unlink(script);
    unlink(image);
    unlink(log);
    rmdir(tmp);
    return rc;
}
