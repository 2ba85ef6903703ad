#include "testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

const char *tu_tmpdir(const char *test_name)
{
    static char dir[1024];
    snprintf(dir, sizeof dir, "%s/test-tmp/%s", MF_BINARY_DIR, test_name);
    char cmd[2200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", dir, dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot create %s\n", dir);
        abort();
    }
    return dir;
}

const char *tu_write_file(const char *dir, const char *name, const char *text)
{
    static char path[2200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "cannot write %s\n", path);
        abort();
    }
    fputs(text, f);
    fclose(f);
    return path;
}

int tu_count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

const char *tu_source_path(const char *rel)
{
    static char path[2200];
    snprintf(path, sizeof path, "%s/%s", MF_SOURCE_DIR, rel);
    return path;
}

int tu_tool_missing_ok(const char *tool)
{
    const char *ci = getenv("CI");
    if (ci && (!strcasecmp(ci, "true") || !strcmp(ci, "1"))) {
        fprintf(stderr,
                "FAILED: %s is not installed and CI=%s: tests needing the firmware tools must "
                "run in CI (bash tools/setup.sh installs them)\n",
                tool, ci);
        return 0;
    }
    fprintf(stderr, "skipped: %s not installed (bash tools/setup.sh; with CI=true this fails)\n",
            tool);
    return 1;
}

int tu_run_capture(const char *cwd, char *const argv[], char *out, size_t size)
{
    int fd[2];
    if (size == 0 || pipe(fd) != 0) return -2;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return -2;
    }
    if (pid == 0) {
        dup2(fd[1], 1);
        dup2(fd[1], 2);
        close(fd[0]);
        close(fd[1]);
        if (cwd && chdir(cwd) != 0) _exit(126);
        execv(argv[0], argv);
        _exit(127);
    }
    close(fd[1]);
    size_t len = 0;
    ssize_t got;
    char rest[4096];
    while ((got = len + 1 < size ? read(fd[0], out + len, size - 1 - len)
                                 : read(fd[0], rest, sizeof rest)) > 0)
        if (len + 1 < size) len += (size_t)got;
    out[len] = '\0';
    close(fd[0]);
    int status;
    if (waitpid(pid, &status, 0) != pid) return -2;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

mf_train_config tu_train_config(void)
{
    mf_train_config tc;
    memset(&tc, 0, sizeof tc);
    tc.epochs = 10;
    tc.batch_size = 16;
    tc.optimizer = MF_OPT_SGD;
    tc.lr = 0.05f;
    tc.momentum = 0.9f;
    tc.weight_decay = 5e-4f;
    tc.beta1 = 0.9f;
    tc.beta2 = 0.999f;
    tc.eps = 1e-8f;
    tc.gamma = 0.1f;
    tc.seed = 3;
    tc.threads = 2;
    tc.deterministic = true;
    tc.progress = MF_PROGRESS_NONE;
    return tc;
}
