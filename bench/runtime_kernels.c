/* Instruction counts of the runtime kernels on the target, checked against the project's targets.
 *
 * Builds tests/target (the QEMU harness of the runtime kernels; start-up, linker script and
 * semihosting from deploy/board/, as the generated firmware) in benchmark-only mode
 * (EQUIV_CASES=0) with arm-none-eabi-gcc, runs it in qemu-system-arm's netduinoplus2 with
 * -icount shift=0,sleep=off (TIM2 counts executed instructions exactly, TARGET.md §6), prints its
 * per-layer tables (reference kernels, optimized kernels, optimized with conv → max-pool fused)
 * and checks the totals per inference:
 *   reference CNN (TARGET.md §8.1): int8 ≤ 400,000 (CMSIS-NN s8: 571,305), int16 and float32
 *   ≤ 450,000; ResNetv1-6 width 8 on 128×9, int8 ≤ 250,000.
 * The fused variant is what `mcuforge deploy` generates and is checked against the target; the
 * unfused one (deploy --no-fuse) is printed beside it. Exit status 0 when all are met, 1 when
 * one is not, 2 when the harness cannot be built or run.
 * Usage: runtime_kernels [build-dir] (default ./runtime_kernels_target); OPT="-O3" etc. in the
 * environment is passed to the firmware build (default: deploy's, MF_DEPLOY_DEFAULT_OPT). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mf_deploy.h"

static const struct {
    const char *title; /* prefix of the harness's table title */
    long target;
} targets[] = {
    {"reference CNN (TARGET.md 8.1), int8", 400000},
    {"reference CNN (TARGET.md 8.1), int16", 450000},
    {"reference CNN (TARGET.md 8.1), float32", 450000},
    {"ResNetv1-6 width 8, 128x9 (PAPER.md 1.1), int8", 250000},
};
enum { N_TARGETS = sizeof targets / sizeof targets[0] };

/* "total per inference   1,497,993   286,027   273,503" → the three numbers */
static int parse_totals(const char *line, long *v)
{
    const char *p = line + strlen("total per inference");
    for (int i = 0; i < 3; i++) {
        while (*p == ' ')
            p++;
        long x = 0;
        int digits = 0;
        for (; (*p >= '0' && *p <= '9') || *p == ','; p++)
            if (*p != ',') x = x * 10 + (*p - '0'), digits++;
        if (!digits) return 0;
        v[i] = x;
    }
    return 1;
}

int main(int argc, char **argv)
{
    /* tests/target relative to this source file (CMake compiles it by its absolute path) */
    char src[1024];
    snprintf(src, sizeof src, "%s", __FILE__);
    char *slash = strrchr(src, '/');
    if (slash)
        *slash = 0;
    else
        snprintf(src, sizeof src, ".");
    const char *build = argc > 1 ? argv[1] : "runtime_kernels_target";
    const char *opt = getenv("OPT");
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "make -s -j2 -C '%s/../tests/target' BUILD=\"$(pwd)/%s\" EXTRA_CFLAGS=-DEQUIV_CASES=0 "
             "OPT='%s' >/dev/null",
             src, build, opt && *opt ? opt : MF_DEPLOY_DEFAULT_OPT);
    if (build[0] == '/')
        snprintf(cmd, sizeof cmd,
                 "make -s -j2 -C '%s/../tests/target' BUILD='%s' EXTRA_CFLAGS=-DEQUIV_CASES=0 "
                 "OPT='%s' >/dev/null",
                 src, build, opt && *opt ? opt : MF_DEPLOY_DEFAULT_OPT);
    if (system(cmd) != 0) {
        fprintf(stderr, "runtime_kernels: building the harness failed (%s)\n", cmd);
        return 2;
    }
    snprintf(cmd, sizeof cmd,
             "timeout 600 qemu-system-arm -M netduinoplus2 -display none -monitor none -serial "
             "null -chardev stdio,id=semi -semihosting-config enable=on,target=native,chardev=semi "
             "-icount shift=0,sleep=off -kernel '%s%s/harness.elf' </dev/null",
             build[0] == '/' ? "" : "./", build);
    FILE *f = popen(cmd, "r");
    if (!f) {
        fprintf(stderr, "runtime_kernels: cannot run qemu-system-arm\n");
        return 2;
    }
    char line[512], title[512] = "";
    long got[N_TARGETS][3];
    int seen[N_TARGETS] = {0};
    while (fgets(line, sizeof line, f)) {
        fputs(line, stdout);
        if (!strncmp(line, "reference CNN", 13) || !strncmp(line, "ResNetv1-6", 10))
            snprintf(title, sizeof title, "%s", line);
        if (!strncmp(line, "total per inference", 19))
            for (int i = 0; i < N_TARGETS; i++)
                if (!strncmp(title, targets[i].title, strlen(targets[i].title)) &&
                    title[strlen(targets[i].title)] == '\n')
                    seen[i] = parse_totals(line, got[i]);
    }
    int status = pclose(f);
    if (status != 0) {
        fprintf(stderr, "runtime_kernels: the harness failed (status %d)\n", status);
        return 2;
    }
    int missed = 0;
    printf("\ntargets (instructions per inference; optimized / optimized + fused):\n");
    for (int i = 0; i < N_TARGETS; i++) {
        if (!seen[i]) {
            printf("  %-48s  no figure found\n", targets[i].title);
            missed++;
            continue;
        }
        int ok = got[i][2] <= targets[i].target;
        missed += !ok;
        printf("  %-48s  %8ld / %8ld  (reference kernels %ld)  target <= %ld  %s\n",
               targets[i].title, got[i][1], got[i][2], got[i][0], targets[i].target,
               ok ? "met" : "MISSED");
    }
    return missed ? 1 : 0;
}
