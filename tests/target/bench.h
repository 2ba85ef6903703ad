/* tests/target harness: the benchmark part (bench.c). */
#ifndef MF_TARGET_BENCH_H
#define MF_TARGET_BENCH_H

#ifndef BENCH_FLAGS
#define BENCH_FLAGS "(flags unknown)"
#endif

void bench_puts(const char *s);
/* Runs and prints the benchmarks; returns the number of networks whose three runs disagree. */
int bench_run(void);

#endif
