/* The replay driver: a fuzz target built as a plain program (any compiler, no libFuzzer) that
 * runs LLVMFuzzerTestOneInput once on every file of its corpus folder. ctest runs it (test
 * fuzz_replay), so every committed input, crash reproducers included, stays a regression test:
 * a parser that crashes aborts this program (under MF_SANITIZE with the sanitizer's report).
 *
 *     fuzz_<target>_replay CORPUS_DIR
 *
 * Exit status 0 when every file ran, 1 when the folder is missing, empty or unreadable (a
 * replay of nothing would pass without testing anything). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_util.h"

/* Under AddressSanitizer (CI's second suite) an allocation above 512 MB aborts the replay, as
 * fuzz/run.sh's -malloc_limit_mb=512 stops a fuzzer: an input committed after a huge-allocation
 * fix (fuzz/corpus/idx/oom_declared_822mb) then fails the test if the defect returns, even on a
 * machine where the allocation would succeed. CI's ASAN_OPTIONS add to these defaults. */
#if defined(__SANITIZE_ADDRESS__)
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "max_allocation_size_mb=512";
}
#endif

/* Largest corpus file replayed: the committed inputs are a few KiB. */
#define REPLAY_MAX_BYTES ((long)1 << 20)

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads path into a malloc'd buffer (*size bytes); returns NULL after printing why. */
static uint8_t *read_input(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return NULL;
    }
    uint8_t *buf = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0) n = ftell(f);
    if (n < 0 || n > REPLAY_MAX_BYTES || fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "replay: %s is unreadable or larger than %ld bytes\n", path,
                REPLAY_MAX_BYTES);
    } else if ((buf = malloc((size_t)n + 1)) != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *size = (size_t)(n < 0 ? 0 : n);
    return buf;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 1;
    }
    const char *dir = argv[1];
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "replay: cannot open corpus folder %s\n", dir);
        return 1;
    }
    size_t n = 0, cap = 0;
    char **names = NULL;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **grown = realloc(names, sizeof *names * cap);
            if (!grown) abort();
            names = grown;
        }
        names[n] = strdup(e->d_name);
        if (!names[n]) abort();
        n++;
    }
    closedir(d);
    if (n == 0) {
        fprintf(stderr, "replay: corpus folder %s is empty\n", dir);
        return 1;
    }
    qsort(names, n, sizeof *names, cmp_names);
    int status = 0;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        size_t size = 0;
        uint8_t *data = read_input(path, &size);
        if (!data) {
            status = 1;
        } else {
            /* the name first, so that a crash's report says which input caused it */
            fprintf(stderr, "replay: %s (%zu bytes)\n", path, size);
            LLVMFuzzerTestOneInput(data, size);
            free(data);
        }
        free(names[i]);
    }
    free(names);
    if (status == 0) fprintf(stderr, "replay: %zu inputs of %s ran\n", n, dir);
    return status;
}
