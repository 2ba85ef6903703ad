/* The installed mcuforge: `cmake --install` of this build into a fresh prefix, then the installed
 * executable, run from an unrelated folder with MCUFORGE_SOURCE_DIR unset, trains a small model
 * and deploys it. The project's runtime and board files must come from PREFIX/share/mcuforge
 * (marker comments appended to the installed copies prove it: the source tree, compiled in as
 * the fallback, has none); with the firmware tools present the project is also built and run in
 * QEMU (--run), bit-exact (skipped without them, failed instead with CI=true). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "mf_deploy.h"
#include "testutil.h"

#define MARKER "/* mcuforge test_install: the installed copy */"

static char tmp[1024];    /* mkdtemp folder: prefix/ and work/ inside */
static char prefix[1100]; /* the install prefix */
static char work[1100];   /* the working folder of every mcuforge run */
static char exe[1200];    /* prefix/bin/mcuforge */
static int installed;     /* test_install_tree passed */
static int generated;     /* test_deploy_from_install passed */
static char out[1 << 20]; /* the last command's stdout + stderr */

/* Runs argv (PATH lookup) in cwd with stdin from /dev/null and MCUFORGE_SOURCE_DIR unset;
 * stdout + stderr go to `out`. Returns the exit status (-1: no exit, e.g. a signal). */
static int run(const char *cwd, char *const argv[])
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, 0);
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        if (chdir(cwd) != 0) _exit(126);
        unsetenv("MCUFORGE_SOURCE_DIR");
        execvp(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    size_t n = 0;
    for (;;) {
        char buf[4096];
        ssize_t r = read(fds[0], buf, sizeof buf);
        if (r <= 0) break;
        size_t take = (size_t)r < sizeof out - 1 - n ? (size_t)r : sizeof out - 1 - n;
        memcpy(out + n, buf, take);
        n += take;
    }
    out[n] = 0;
    close(fds[0]);
    int status;
    pid_t w;
    while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
        ;
    assert_true(w == pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void assert_output_has(const char *text)
{
    if (!strstr(out, text)) fail_msg("output lacks '%s':\n%s", text, out);
}

static void assert_file(const char *dir, const char *name)
{
    char path[2400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (access(path, R_OK) != 0) fail_msg("missing %s", path);
}

/* Whether the file dir/name contains text. */
static int file_has(const char *dir, const char *name, const char *text)
{
    char path[2400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot read %s", path);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return strstr(buf, text) != NULL;
}

static void append(const char *dir, const char *name, const char *text)
{
    char path[2400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "ab");
    if (!f) fail_msg("cannot append to %s", path);
    fprintf(f, "\n%s\n", text);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(tmp, sizeof tmp, "%s/mcuforge-install-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmp)) return -1;
    snprintf(prefix, sizeof prefix, "%s/prefix", tmp);
    snprintf(work, sizeof work, "%s/work", tmp);
    snprintf(exe, sizeof exe, "%s/bin/mcuforge", prefix);
    return mkdir(work, 0755);
}

static int teardown(void **state)
{
    (void)state;
    char *argv[] = {"rm", "-rf", tmp, NULL};
    return run("/", argv) == 0 ? 0 : -1;
}

/* cmake --install: the executable in bin/, runtime/ and deploy/board/ in share/mcuforge/. */
static void test_install_tree(void **state)
{
    (void)state;
    char *argv[] = {MF_CMAKE_COMMAND, "--install", MF_BINARY_DIR, "--prefix", prefix, NULL};
    int rc = run(work, argv);
    if (rc != 0) fail_msg("cmake --install failed (%d):\n%s", rc, out);
    if (access(exe, X_OK) != 0) fail_msg("%s is not installed", exe);
    char data[1200];
    snprintf(data, sizeof data, "%s/share/mcuforge", prefix);
    const char *files[] = {
        "runtime/mf_runtime.h",     "runtime/conv.c",          "deploy/board/main.c",
        "deploy/board/startup.c",   "deploy/board/semihost.c", "deploy/board/semihost.h",
        "deploy/board/mf_icount.h", "deploy/board/link.ld",    "deploy/board/Makefile"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        assert_file(data, files[i]);
    append(data, "runtime/mf_runtime.h", MARKER);
    append(data, "deploy/board/main.c", MARKER);
    installed = 1;
}

/* The installed mcuforge from an unrelated folder: train, then deploy (generate only). */
static void test_deploy_from_install(void **state)
{
    (void)state;
    if (!installed) fail_msg("nothing installed (test_install_tree failed)");
    tu_write_file(work, "tiny.yaml",
                  "dataset: {name: synthetic, shape: [32, 3], classes: 3, train_samples: 128,\n"
                  "          test_samples: 32, noise: 0.5}\n"
                  "model: {template: resnetv1_6, width: 4}\n"
                  "train: {epochs: 1, batch_size: 32, lr: 0.05}\n");
    char *train[] = {exe, "train", "tiny.yaml", "train.output=run/model.h5", NULL};
    int rc = run(work, train);
    if (rc != 0) fail_msg("mcuforge train failed (%d):\n%s", rc, out);
    char *deploy[] = {exe,     "deploy", "run/model.h5", "--precision", "int8",
                      "--out", "fw",     "--vectors",    "5",           NULL};
    rc = run(work, deploy);
    if (rc != 0) fail_msg("mcuforge deploy failed (%d):\n%s", rc, out);
    char fw[1200];
    snprintf(fw, sizeof fw, "%s/fw", work);
    const char *files[] = {"deploy.manifest",     "model.c",     "model.h",   "model_weights.c",
                           "config.mk",           "main.c",      "startup.c", "semihost.c",
                           "semihost.h",          "mf_icount.h", "link.ld",   "Makefile",
                           "runtime/mf_runtime.h"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        assert_file(fw, files[i]);
    /* every runtime source config.mk lists was copied, and there is at least one */
    char path[1300];
    snprintf(path, sizeof path, "%s/config.mk", fw);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[4096];
    int n_rt = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "RUNTIME_SRC :=", 14)) continue;
        for (char *t = strtok(line + 14, " \n"); t; t = strtok(NULL, " \n")) {
            assert_file(fw, t);
            n_rt++;
        }
    }
    fclose(f);
    assert_true(n_rt > 0);
    /* from the installed data folder, not from the source tree compiled in */
    if (!file_has(fw, "main.c", MARKER) || !file_has(fw, "runtime/mf_runtime.h", MARKER))
        fail_msg("the project's files do not come from %s/share/mcuforge", prefix);
    generated = 1;
}

/* The same deploy with --run: built and run in QEMU, every output identical to the host's. */
static void test_run_from_install(void **state)
{
    (void)state;
    const char *missing = mf_deploy_missing_tool();
    if (missing) {
        if (!tu_tool_missing_ok(missing)) fail_msg("%s is missing (CI=true)", missing);
        skip();
    }
    if (!generated) fail_msg("no project was generated (test_deploy_from_install failed)");
    char *deploy[] = {exe,         "deploy", "run/model.h5", "--precision", "int8", "--out", "fw",
                      "--vectors", "5",      "--run",        NULL};
    int rc = run(work, deploy);
    if (rc != 0) fail_msg("mcuforge deploy --run failed (%d):\n%s", rc, out);
    assert_output_has("100.00 % of outputs identical");
    char fw[1200];
    snprintf(fw, sizeof fw, "%s/fw", work);
    assert_file(fw, "report.json");
    assert_file(fw, "firmware.elf");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_install_tree),
        cmocka_unit_test(test_deploy_from_install),
        cmocka_unit_test(test_run_from_install),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
