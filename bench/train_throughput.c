/* Training throughput of resnetv1_6 on generated data (issue: the spine).
 *
 * For each model it runs the real training loop (mf_train) for a fixed number of steps and
 * prints
 *   dims=1 width=32 batch=64 samples_per_s=… gflops=… sgemm_gflops=… ratio=… gemm_share=…
 * gflops     = 6 · MACs per sample · samples/s (forward, backward-data, backward-weights)
 * sgemm      = cblas_sgemm 1024³ GFLOP/s with the same thread count, measured in this run
 * ratio      = gflops / sgemm_gflops
 * gemm_share = time of the step's GEMMs replayed alone (same shapes, same threads) / step time
 * Usage: train_throughput [--threads T] [--steps N] [--quick] [--dims D] [--width W] */
#include <cblas.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mf_core.h"
#include "mf_datasets.h"
#include "mf_train.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double sgemm_gflops(int threads)
{
    const int n = 1024;
    float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n),
          *c = malloc(sizeof(float) * n * n);
    for (int i = 0; i < n * n; i++) {
        a[i] = (float)(i % 7) * 0.1f;
        b[i] = (float)(i % 5) * 0.1f;
    }
    openblas_set_num_threads(threads);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
    double best = 1e9;
    for (int r = 0; r < 5; r++) {
        double t0 = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c,
                    n);
        double t = now() - t0;
        if (t < best) best = t;
    }
    free(a);
    free(b);
    free(c);
    return 2.0 * n * n * (double)n / best / 1e9;
}

/* ---- GEMM trace of one step, per thread ---- */
typedef struct {
    int ta, tb, m, n, k;
} gemm_call;

typedef struct {
    pthread_t thread[64];
    int n_threads;
    gemm_call *calls[64];
    int count[64], cap[64];
    pthread_mutex_t lock;
} gemm_trace;

static void record(void *ctx, int ta, int tb, int m, int n, int k)
{
    gemm_trace *t = ctx;
    pthread_mutex_lock(&t->lock);
    int s = 0;
    while (s < t->n_threads && !pthread_equal(t->thread[s], pthread_self()))
        s++;
    if (s == t->n_threads && s < 64) t->thread[t->n_threads++] = pthread_self();
    if (s < 64) {
        if (t->count[s] == t->cap[s]) {
            t->cap[s] = t->cap[s] ? 2 * t->cap[s] : 64;
            t->calls[s] = realloc(t->calls[s], sizeof(gemm_call) * t->cap[s]);
        }
        t->calls[s][t->count[s]++] = (gemm_call){ta, tb, m, n, k};
    }
    pthread_mutex_unlock(&t->lock);
}

typedef struct {
    const gemm_call *calls;
    int count;
    float *a, *b, *c;
} replay_arg;

static void *replay(void *p)
{
    replay_arg *r = p;
    for (int i = 0; i < r->count; i++) {
        const gemm_call *g = &r->calls[i];
        int lda = g->ta ? g->m : g->k, ldb = g->tb ? g->k : g->n;
        cblas_sgemm(CblasRowMajor, g->ta ? CblasTrans : CblasNoTrans,
                    g->tb ? CblasTrans : CblasNoTrans, g->m, g->n, g->k, 1.0f, r->a, lda, r->b, ldb,
                    1.0f, r->c, g->n);
    }
    return NULL;
}

/* Wall time of replaying each thread's GEMMs on its own thread, all threads at once. */
static double replay_time(const gemm_trace *t)
{
    replay_arg args[64];
    size_t biggest = 1;
    for (int s = 0; s < t->n_threads; s++)
        for (int i = 0; i < t->count[s]; i++) {
            const gemm_call *g = &t->calls[s][i];
            size_t sa = (size_t)g->m * g->k, sb = (size_t)g->k * g->n, sc = (size_t)g->m * g->n;
            if (sa > biggest) biggest = sa;
            if (sb > biggest) biggest = sb;
            if (sc > biggest) biggest = sc;
        }
    for (int s = 0; s < t->n_threads; s++) {
        args[s] = (replay_arg){t->calls[s], t->count[s], calloc(biggest, sizeof(float)),
                               calloc(biggest, sizeof(float)), calloc(biggest, sizeof(float))};
    }
    double best = 1e9;
    for (int rep = 0; rep < 5; rep++) {
        pthread_t tid[64];
        double t0 = now();
        for (int s = 1; s < t->n_threads; s++)
            pthread_create(&tid[s], NULL, replay, &args[s]);
        replay(&args[0]);
        for (int s = 1; s < t->n_threads; s++)
            pthread_join(tid[s], NULL);
        double dt = now() - t0;
        if (dt < best) best = dt;
    }
    for (int s = 0; s < t->n_threads; s++) {
        free(args[s].a);
        free(args[s].b);
        free(args[s].c);
    }
    return best;
}

static mf_train_config bench_config(int batch, int threads, int epochs)
{
    mf_train_config tc;
    memset(&tc, 0, sizeof tc);
    tc.epochs = epochs;
    tc.batch_size = batch;
    tc.optimizer = MF_OPT_SGD;
    tc.lr = 0.01f;
    tc.momentum = 0.9f;
    tc.weight_decay = 5e-4f;
    tc.schedule = MF_SCHED_CONSTANT;
    tc.seed = 1;
    tc.threads = threads;
    tc.deterministic = true;
    tc.progress = MF_PROGRESS_NONE;
    return tc;
}

static int bench_one(int dims, int width, int batch, int steps, int threads, double sgemm)
{
    mf_error err;
    mf_template_args a = {.width = width, .dims = dims};
    int classes = dims == 1 ? 6 : 43;
    a.classes = classes;
    a.input_shape = dims == 1 ? (mf_shape){2, {128, 9}} : (mf_shape){3, {32, 32, 3}};
    mf_model *m = mf_template_build("resnetv1_6", &a, &err);
    mf_dataset *d = NULL;
    if (!m ||
        mf_synthetic_generate(&a.input_shape, classes, steps * batch, batch, 1.0f, 7, &d, &err)) {
        char buf[1024];
        fprintf(stderr, "train_throughput: %s\n", mf_error_format(&err, buf, sizeof buf));
        mf_model_free(m);
        return 1;
    }
    mf_model_init_params(m, 1);
    /* two epochs: the first warms caches and page tables, the second is timed */
    mf_train_config tc = bench_config(batch, threads, 2);
    mf_train_result res;
    if (mf_train(m, &tc, d, NULL, &res, &err)) {
        char buf[1024];
        fprintf(stderr, "train_throughput: %s\n", mf_error_format(&err, buf, sizeof buf));
        return 1;
    }
    double seconds = res.history[1].seconds;
    double sps = steps * batch / seconds;
    double gflops = 6.0 * (double)mf_model_macs(m) * sps / 1e9;
    free(res.history);

    /* trace one step's GEMMs, then replay them alone */
    gemm_trace trace;
    memset(&trace, 0, sizeof trace);
    pthread_mutex_init(&trace.lock, NULL);
    mf_dataset *one = NULL;
    mf_synthetic_generate(&a.input_shape, classes, batch, batch, 1.0f, 8, &one, &err);
    tc = bench_config(batch, threads, 1);
    mf_set_gemm_observer(record, &trace);
    mf_train(m, &tc, one, NULL, &res, &err);
    mf_set_gemm_observer(NULL, NULL);
    free(res.history);
    /* the trace holds the step and the test-set evaluation; keep the step's only: the
     * evaluation's forward GEMMs come last on each thread, one per forward GEMM of the step */
    for (int s = 0; s < trace.n_threads; s++) {
        int fwd = 0;
        for (int i = 0; i < trace.count[s]; i++)
            if (!trace.calls[s][i].ta && !trace.calls[s][i].tb) fwd++;
        /* forward GEMMs are NN; the step has fwd/2 of them, the evaluation the other half */
        int keep = trace.count[s], seen = 0;
        for (int i = 0; i < trace.count[s]; i++)
            if (!trace.calls[s][i].ta && !trace.calls[s][i].tb && ++seen > fwd / 2) {
                keep = i;
                break;
            }
        trace.count[s] = keep;
    }
    double gemm_alone = replay_time(&trace);
    double step = seconds / steps;
    printf("dims=%d width=%d batch=%d samples_per_s=%.0f gflops=%.2f sgemm_gflops=%.2f "
           "ratio=%.3f gemm_share=%.3f\n",
           dims, width, batch, sps, gflops, sgemm, gflops / sgemm, gemm_alone / step);
    fflush(stdout);
    for (int s = 0; s < trace.n_threads; s++)
        free(trace.calls[s]);
    pthread_mutex_destroy(&trace.lock);
    mf_dataset_free(one);
    mf_dataset_free(d);
    mf_model_free(m);
    return 0;
}

int main(int argc, char **argv)
{
    int threads = 2, steps = 0, quick = 0, only_dims = 0, only_width = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--steps") && i + 1 < argc)
            steps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--dims") && i + 1 < argc)
            only_dims = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--width") && i + 1 < argc)
            only_width = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--quick"))
            quick = 1;
        else {
            fprintf(stderr,
                    "usage: train_throughput [--threads T] [--steps N] [--quick] [--dims D] "
                    "[--width W]\n");
            return 2;
        }
    }
    if (threads < 1 || threads > 64) {
        fprintf(stderr, "train_throughput: --threads must be in [1, 64]\n");
        return 2;
    }
    double sgemm = sgemm_gflops(threads);
    printf("# threads=%d (batch split across threads, single-threaded OpenBLAS inside each); "
           "sgemm 1024^3 with %d OpenBLAS threads: %.2f GFLOP/s\n",
           threads, threads, sgemm);
    int rc = 0;
    const int widths1[] = {16, 32, 80}, widths2[] = {16, 32};
#define SELECTED(d, w) ((!only_dims || only_dims == (d)) && (!only_width || only_width == (w)))
    for (int i = 0; i < 3; i++)
        if ((!quick || widths1[i] == 32) && SELECTED(1, widths1[i]))
            rc |= bench_one(1, widths1[i], 64, steps ? steps : (quick ? 5 : 40), threads, sgemm);
    for (int i = 0; i < 2; i++)
        if ((!quick || widths2[i] == 32) && SELECTED(2, widths2[i]))
            rc |= bench_one(2, widths2[i], 128, steps ? steps : (quick ? 2 : 8), threads, sgemm);
    return rc;
}
