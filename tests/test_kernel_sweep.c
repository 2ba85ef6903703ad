/* bench/kernel_sweep --quick end to end: the conv geometry sweep firmware (tests/target/sweep.c)
 * builds with arm-none-eabi-gcc, runs in QEMU, and the driver parses its 32 geometries into the
 * table and the target lines (the targets are printed, not checked, in --quick: exit 0 means a
 * complete table). Skipped when the cross compiler, QEMU or make is missing (failed instead with
 * CI=true: tu_tool_missing_ok) or when MF_TEST_NO_QEMU is set (non-empty, not "0"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mf_deploy.h"
#include "testutil.h"

static char out[1 << 16];

/* Runs argv (no shell), stdout + stderr into `out`; returns the exit status (-1: signal). */
static int run(char *const argv[])
{
    const int rc = tu_run_capture(NULL, argv, out, sizeof out);
    assert_true(rc >= -1);
    return rc;
}

static void sweep_quick(void **state)
{
    (void)state;
    const char *no = getenv("MF_TEST_NO_QEMU");
    if (no && *no && strcmp(no, "0") != 0) {
        print_message("MF_TEST_NO_QEMU is set: target test skipped\n");
        skip();
    }
    const char *missing = mf_deploy_missing_tool();
    if (missing) {
        if (!tu_tool_missing_ok(missing)) fail_msg("%s is missing (CI=true)", missing);
        skip();
    }
    char exe[1200], dir[1200];
    snprintf(exe, sizeof exe, "%s/bench/kernel_sweep", MF_BINARY_DIR);
    snprintf(dir, sizeof dir, "%s/tests/kernel-sweep-quick", MF_BINARY_DIR);
    char *argv[] = {exe, "--quick", dir, NULL};
    int status = run(argv);
    if (status != 0) fail_msg("kernel_sweep --quick: exit status %d:\n%s", status, out);
    /* one table line per geometry, every figure parsed and positive */
    int rows = 0;
    for (const char *p = strstr(out, "\n  "); p; p = strstr(p + 1, "\n  ")) {
        int dims, cin, cout, k, s;
        char pool[4];
        unsigned long macs;
        double v[4];
        if (sscanf(p + 1, " %dD %d %d %d %d %3s %lu %lf %lf %lf %lf", &dims, &cin, &cout, &k, &s,
                   pool, &macs, &v[0], &v[1], &v[2], &v[3]) != 11)
            continue;
        assert_true(macs > 0 && v[0] > 0 && v[1] > 0 && v[2] > 0 && v[3] > 0);
        rows++;
    }
    if (rows != 32) fail_msg("%d table rows, expected 32:\n%s", rows, out);
    if (!strstr(out, "32 geometries (--quick subset)") || !strstr(out, "median int8/float32") ||
        !strstr(out, "median int8 instructions per MAC"))
        fail_msg("summary lines missing:\n%s", out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(sweep_quick)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
