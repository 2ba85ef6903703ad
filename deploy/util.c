/* Helpers shared by the deploy sources (deploy_util.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "deploy_util.h"

static int sb_reserve(mf_sb *b, size_t extra)
{
    if (b->oom) return -1;
    if (b->len + extra + 1 <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

void mf_sb_append(mf_sb *b, const void *data, size_t n)
{
    if (sb_reserve(b, n)) return;
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = 0;
}

void mf_sb_printf(mf_sb *b, const char *fmt, ...)
{
    if (b->oom) return;
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = 1;
        return;
    }
    if ((size_t)n < sizeof small) {
        mf_sb_append(b, small, (size_t)n);
        return;
    }
    if (sb_reserve(b, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void mf_sb_free(mf_sb *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

int mf_read_file(const char *path, char **data, size_t *n, size_t limit, mf_error *err)
{
    *data = NULL;
    if (n) *n = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return mf_error_set(err, "cannot open %s: %s", path, strerror(errno));
    if (fseek(f, 0, SEEK_END)) {
        fclose(f);
        return mf_error_set(err, "cannot seek in %s", path);
    }
    long size = ftell(f);
    if (size < 0 || (size_t)size > limit) {
        fclose(f);
        return mf_error_set(err, "%s: size %ld is out of range (limit %zu bytes)", path, size,
                            limit);
    }
    rewind(f);
    char *buf = malloc((size_t)size + 1);
    if (!buf) {
        fclose(f);
        return mf_error_set(err, "out of memory reading %s", path);
    }
    size_t got = fread(buf, 1, (size_t)size, f);
    fclose(f);
    if (got != (size_t)size) {
        free(buf);
        return mf_error_set(err, "%s: short read (%zu of %ld bytes)", path, got, size);
    }
    buf[size] = 0;
    *data = buf;
    if (n) *n = (size_t)size;
    return MF_OK;
}
