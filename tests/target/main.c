/* QEMU test harness of the runtime kernels (tests/target): on the Cortex-M4F every optimized
 * kernel path (real SMLAD/SXTB16/SSAT… instructions) is compared bit for bit with its portable
 * reference on random shapes and data (equiv.c), then the instruction counts of the reference
 * CNN and of ResNetv1-6 are measured for the reference and optimized kernels (bench.c).
 * Exit status 0 only if every comparison matched (QEMU passes it on through semihosting). */
#include <stdint.h>

#include "bench.h"
#include "mf_icount.h" /* deploy/board/, as semihost.h */
#include "semihost.h"

#include "equiv.c"

#ifndef EQUIV_CASES
#define EQUIV_CASES 300
#endif

void bench_puts(const char *s)
{
    sh_puts(s);
}

static void log_line(const char *line)
{
    sh_puts(line);
    sh_puts("\n");
}

static void put_long(long v)
{
    char t[24];
    int i = 23;
    unsigned long u = v < 0 ? 0ul - (unsigned long)v : (unsigned long)v;
    t[i] = 0;
    do {
        t[--i] = (char)('0' + u % 10u);
        u /= 10u;
    } while (u);
    if (v < 0) t[--i] = '-';
    sh_puts(t + i);
}

int main(void)
{
    mf_icount_init(); /* TIM2: 1 tick = 1 instruction */

    long fails = 0;
    if (EQUIV_CASES > 0) { /* EQUIV_CASES=0: benchmarks only (profiling builds) */
        sh_puts("runtime kernels on the target: optimized paths against the references\n");
        fails = mf_equiv_run(0x5EED0001u, EQUIV_CASES, log_line);
        sh_puts("equivalence: ");
        put_long(EQUIV_CASES);
        sh_puts(" random cases per kernel family + boundary sweeps, ");
        put_long(fails);
        sh_puts(fails ? " MISMATCHES\n" : " mismatches\n");
    }

    int bad = bench_run();
    sh_puts(fails || bad ? "\nRESULT: FAILED\n" : "\nRESULT: all optimized kernels match\n");
    return fails ? 1 : bad ? 2 : 0;
}
