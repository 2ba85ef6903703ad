/* A persistent set of worker threads: shard s of every job runs on worker s (the caller runs
 * shard 0), so a given shard always runs the same computation: the thread count, not timing,
 * decides the result. */
#include <pthread.h>
#include <stdlib.h>

#include "mf_train.h"

struct mf_pool {
    int threads;
    pthread_t *tid;
    pthread_mutex_t lock;
    pthread_cond_t start, done;
    void (*fn)(void *, int);
    void *arg;
    unsigned long generation;
    int pending;
    int quit;
};

typedef struct {
    mf_pool *pool;
    int shard;
} worker_arg;

static void *worker(void *p)
{
    worker_arg *wa = p;
    mf_pool *pool = wa->pool;
    int shard = wa->shard;
    free(wa);
    unsigned long seen = 0;
    for (;;) {
        pthread_mutex_lock(&pool->lock);
        while (!pool->quit && pool->generation == seen)
            pthread_cond_wait(&pool->start, &pool->lock);
        if (pool->quit) {
            pthread_mutex_unlock(&pool->lock);
            return NULL;
        }
        seen = pool->generation;
        void (*fn)(void *, int) = pool->fn;
        void *arg = pool->arg;
        pthread_mutex_unlock(&pool->lock);
        fn(arg, shard);
        pthread_mutex_lock(&pool->lock);
        if (--pool->pending == 0) pthread_cond_signal(&pool->done);
        pthread_mutex_unlock(&pool->lock);
    }
}

mf_pool *mf_pool_new(int threads, mf_error *err)
{
    if (threads < 1 || threads > 64) {
        mf_error_set(err, "thread count %d is out of range [1, 64]", threads);
        return NULL;
    }
    mf_pool *p = calloc(1, sizeof *p);
    if (!p) {
        mf_error_set(err, "out of memory");
        return NULL;
    }
    p->threads = threads;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->start, NULL);
    pthread_cond_init(&p->done, NULL);
    p->tid = calloc((size_t)threads, sizeof *p->tid);
    if (!p->tid) {
        mf_pool_free(p);
        mf_error_set(err, "out of memory");
        return NULL;
    }
    for (int s = 1; s < threads; s++) {
        worker_arg *wa = malloc(sizeof *wa);
        if (!wa) {
            p->threads = s;
            mf_pool_free(p);
            mf_error_set(err, "out of memory");
            return NULL;
        }
        wa->pool = p;
        wa->shard = s;
        if (pthread_create(&p->tid[s], NULL, worker, wa) != 0) {
            free(wa);
            p->threads = s;
            mf_pool_free(p);
            mf_error_set(err, "cannot start worker thread %d", s);
            return NULL;
        }
    }
    return p;
}

void mf_pool_free(mf_pool *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->lock);
    p->quit = 1;
    pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->lock);
    for (int s = 1; s < p->threads; s++)
        if (p->tid) pthread_join(p->tid[s], NULL);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->start);
    pthread_cond_destroy(&p->done);
    free(p->tid);
    free(p);
}

int mf_pool_threads(const mf_pool *p)
{
    return p->threads;
}

void mf_pool_run(mf_pool *p, void (*fn)(void *arg, int shard), void *arg)
{
    if (p->threads > 1) {
        pthread_mutex_lock(&p->lock);
        p->fn = fn;
        p->arg = arg;
        p->pending = p->threads - 1;
        p->generation++;
        pthread_cond_broadcast(&p->start);
        pthread_mutex_unlock(&p->lock);
    }
    fn(arg, 0);
    if (p->threads > 1) {
        pthread_mutex_lock(&p->lock);
        while (p->pending > 0)
            pthread_cond_wait(&p->done, &p->lock);
        pthread_mutex_unlock(&p->lock);
    }
}
