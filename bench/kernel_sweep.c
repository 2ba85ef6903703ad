/* Instructions per MAC of the conv kernels over a sweep of geometries, on the target, checked
 * against issue 21's targets.
 *
 * Builds the sweep firmware of tests/target (sweep.c: 1D L = 64 and 2D 16×16 inputs, 'same'
 * padding, cin and cout in {1, 3, 8, 16, 64}, k in {1, 3, 5}, stride 1 and 2, without and with a
 * fused 2-wide stride-2 max pool; one call of the public int8, int16 and float32 kernel each,
 * counted with TIM2) with arm-none-eabi-gcc and deploy's default flags (MF_DEPLOY_DEFAULT_OPT),
 * runs it in qemu-system-arm's netduinoplus2 with -icount shift=0,sleep=off (1 tick = 1
 * executed instruction, TARGET.md §6), and prints one line per geometry: its MACs
 * (oh·ow·cout·kh·kw·cin of the conv part, taps in the zero padding included; a fused pool's work
 * is in the instructions, not in the MACs), instructions per MAC of each precision and the
 * int8/float32 ratio. Then it checks, against the float32 kernels of the same build:
 *   median int8/float32 ≤ 0.85;
 *   int8/float32 ≤ 1.0 on every geometry with kh·kw·cin ≥ 8 and cout ≥ 4, ≤ 1.3 on the rest;
 *   median int8 instructions per MAC ≤ 1.5;
 * and that the whole run (build + QEMU) took under 5 minutes. Exit status 0 when all are met, 1
 * when one is not, 2 when the firmware cannot be built or run or its output is incomplete.
 * Usage: kernel_sweep [--quick] [build-dir] (default ./kernel_sweep_target). --quick: a subset
 * of 32 geometries (cin, cout in {1, 16}, k = 3) to check the pipeline; the targets are printed
 * but not checked (they are defined on the whole sweep). OPT="-O3" etc. in the environment is
 * passed to the firmware build (default: deploy's). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mf_deploy.h"

#define MEDIAN_RATIO_TARGET 0.85
#define DENSE_RATIO_TARGET  1.0 /* kh·kw·cin ≥ 8 and cout ≥ 4 */
#define SPARSE_RATIO_TARGET 1.3 /* the other geometries */
#define MEDIAN_INT8_PER_MAC 1.5
#define WALL_TIME_TARGET_S  300.0
#define QEMU_TIMEOUT_S      600

typedef struct row {
    int dims, cin, cout, k, stride, pool;
    unsigned long macs, t[3]; /* int8, int16, float32 */
} row;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int dense(const row *r) /* the geometries held to int8 ≤ 1.0 × float32 */
{
    int taps = (r->dims == 2 ? r->k * r->k : r->k) * r->cin;
    return taps >= 8 && r->cout >= 4;
}

static double ratio(const row *r)
{
    return (double)r->t[0] / (double)r->t[2];
}

static double per_mac(const row *r, int p)
{
    return (double)r->t[p] / (double)r->macs;
}

static const char *describe(const row *r, char *buf, size_t size)
{
    snprintf(buf, size, "%dD %d->%d k%d s%d%s", r->dims, r->cin, r->cout, r->k, r->stride,
             r->pool ? " +pool" : "");
    return buf;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static const char *verdict(int ok, int quick)
{
    return quick ? "(not checked: --quick)" : ok ? "met" : "NOT MET";
}

/* The per-geometry target of one group: the largest ratio, where, and how many geometries exceed
 * the limit. Returns 1 when met. */
static int group_target(const row *rows, int n, int want_dense, double limit, int quick)
{
    int count = 0, over = 0, worst = -1;
    for (int i = 0; i < n; i++) {
        if (dense(&rows[i]) != want_dense) continue;
        count++;
        over += ratio(&rows[i]) > limit;
        if (worst < 0 || ratio(&rows[i]) > ratio(&rows[worst])) worst = i;
    }
    char what[64], where[64] = "";
    snprintf(what, sizeof what, "int8/float32, %s (%d)",
             want_dense ? "kh*kw*cin >= 8 and cout >= 4" : "the other geometries", count);
    if (worst >= 0) describe(&rows[worst], where, sizeof where);
    printf("  %-50s  max %.2f (%s), %d above  target <= %.1f each  %s\n", what,
           worst >= 0 ? ratio(&rows[worst]) : 0.0, where, over, limit, verdict(!over, quick));
    return !over;
}

static int usage(void)
{
    fprintf(stderr, "usage: kernel_sweep [--quick] [build-dir]\n");
    return 2;
}

int main(int argc, char **argv)
{
    int quick = 0;
    const char *build = "kernel_sweep_target";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick"))
            quick = 1;
        else if (argv[i][0] == '-')
            return usage();
        else
            build = argv[i];
    }
    char build_abs[4096], cwd[2048];
    if (build[0] == '/')
        snprintf(build_abs, sizeof build_abs, "%s", build);
    else if (getcwd(cwd, sizeof cwd))
        snprintf(build_abs, sizeof build_abs, "%s/%s", cwd, build);
    else {
        perror("kernel_sweep: getcwd");
        return 2;
    }
    const char *opt = getenv("OPT");
    if (!opt || !*opt) opt = MF_DEPLOY_DEFAULT_OPT;
    mf_error err = {0};
    if (mf_deploy_check_flags("OPT", opt, &err)) {
        fprintf(stderr, "kernel_sweep: %s\n", err.message);
        return 2;
    }

    char build_arg[4200], opt_arg[1100];
    snprintf(build_arg, sizeof build_arg, "BUILD=%s", build_abs);
    snprintf(opt_arg, sizeof opt_arg, "OPT=%s", opt);
    const char *make_args[] = {build_arg, opt_arg, NULL};
    double t0 = now_s();
    if (mf_deploy_make_args(MF_SOURCE_DIR "/tests/target", quick ? "sweep-quick" : "sweep",
                            make_args, 2, &err)) {
        fprintf(stderr, "kernel_sweep: %s\n", err.message);
        return 2;
    }
    double t1 = now_s();
    char *out = NULL;
    if (mf_deploy_run_elf(build_abs, quick ? "sweep_quick.elf" : "sweep.elf", QEMU_TIMEOUT_S, &out,
                          &err)) {
        fprintf(stderr, "kernel_sweep: %s\n", err.message);
        return 2;
    }
    double t2 = now_s();

    /* the firmware's lines: a header, "row …" per geometry, "skip …", "error …", "rows <n>" */
    int cap = 0, n = 0, errors = 0, skips = 0;
    long announced = -1;
    row *rows = NULL;
    printf("conv kernels per geometry, instructions per MAC (MACs = oh*ow*cout*kh*kw*cin of the "
           "conv, zero-padding taps included;\n+pool: conv fused with a 2-wide stride-2 max pool, "
           "MACs of the conv part)\n");
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        row r;
        if (sscanf(line, "row %d %d %d %d %d %d %lu %lu %lu %lu", &r.dims, &r.cin, &r.cout, &r.k,
                   &r.stride, &r.pool, &r.macs, &r.t[0], &r.t[1], &r.t[2]) == 10) {
            if (!r.macs || !r.t[0] || !r.t[1] || !r.t[2]) continue; /* an "error" line says why */
            if (n == cap) {
                cap = cap ? 2 * cap : 256;
                row *grown = realloc(rows, (size_t)cap * sizeof *rows);
                if (!grown) {
                    fprintf(stderr, "kernel_sweep: out of memory\n");
                    return 2;
                }
                rows = grown;
            }
            rows[n++] = r;
        } else if (sscanf(line, "rows %ld", &announced) == 1) {
        } else {
            errors += !strncmp(line, "error", 5);
            skips += !strncmp(line, "skip", 4);
            printf("%s\n", line);
        }
    }
    free(out);
    if (n == 0 || errors || announced != n) {
        fprintf(stderr,
                "kernel_sweep: incomplete sweep: %d geometries measured, the firmware announced "
                "%ld, %d errors\n",
                n, announced, errors);
        free(rows);
        return 2;
    }

    printf("\ndims  cin cout  k  s  pool        MACs  int8/MAC int16/MAC  f32/MAC  int8/f32\n");
    for (int i = 0; i < n; i++) {
        const row *r = &rows[i];
        double lim = dense(r) ? DENSE_RATIO_TARGET : SPARSE_RATIO_TARGET;
        printf("  %dD %4d %4d %2d %2d  %4s %11lu  %8.3f  %8.3f %8.3f  %8.3f%s\n", r->dims, r->cin,
               r->cout, r->k, r->stride, r->pool ? "2" : "-", r->macs, per_mac(r, 0), per_mac(r, 1),
               per_mac(r, 2), ratio(r), ratio(r) > lim ? (dense(r) ? "  > 1.0" : "  > 1.3") : "");
    }

    double *v = malloc((size_t)n * sizeof *v);
    if (!v) {
        fprintf(stderr, "kernel_sweep: out of memory\n");
        return 2;
    }
    for (int i = 0; i < n; i++)
        v[i] = ratio(&rows[i]);
    double med_ratio = median(v, n);
    for (int i = 0; i < n; i++)
        v[i] = per_mac(&rows[i], 0);
    double med_int8 = median(v, n);
    for (int i = 0; i < n; i++)
        v[i] = per_mac(&rows[i], 1);
    double med_int16 = median(v, n);
    for (int i = 0; i < n; i++)
        v[i] = per_mac(&rows[i], 2);
    double med_f32 = median(v, n);
    free(v);

    double wall = now_s() - t0;
    printf("\n%d geometries%s%s; medians of instructions per MAC: int8 %.3f, int16 %.3f, float32 "
           "%.3f\n",
           n, skips ? ", skipped (pool does not fit): see above" : "",
           quick ? " (--quick subset)" : "", med_int8, med_int16, med_f32);
    printf("targets (issue 21; int8 against the float32 kernels of the same build):\n");
    int met = 0, checks = 0;
    checks++, met += med_ratio <= MEDIAN_RATIO_TARGET;
    printf("  %-50s  %.3f  target <= %.2f  %s\n", "median int8/float32", med_ratio,
           MEDIAN_RATIO_TARGET, verdict(med_ratio <= MEDIAN_RATIO_TARGET, quick));
    checks++, met += group_target(rows, n, 1, DENSE_RATIO_TARGET, quick);
    checks++, met += group_target(rows, n, 0, SPARSE_RATIO_TARGET, quick);
    checks++, met += med_int8 <= MEDIAN_INT8_PER_MAC;
    printf("  %-50s  %.3f  target <= %.1f  %s\n", "median int8 instructions per MAC", med_int8,
           MEDIAN_INT8_PER_MAC, verdict(med_int8 <= MEDIAN_INT8_PER_MAC, quick));
    checks++, met += wall <= WALL_TIME_TARGET_S;
    printf("  %-50s  %.1f s (build %.1f s, QEMU %.1f s)  target < %.0f s  %s\n",
           "wall time of the sweep", wall, t1 - t0, t2 - t1, WALL_TIME_TARGET_S,
           verdict(wall <= WALL_TIME_TARGET_S, quick));
    free(rows);
    if (quick) return 0;
    printf("%d of %d targets met\n", met, checks);
    return met == checks ? 0 : 1;
}
