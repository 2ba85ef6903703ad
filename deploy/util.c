/* Helpers shared by the deploy sources (deploy_util.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

int mf_write_atomic(const char *path, const void *data, size_t n, mf_error *err)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) return mf_error_set(err, "cannot create %s: %s", tmp, strerror(errno));
    int ok = n == 0 || fwrite(data, 1, n, f) == n;
    ok = fclose(f) == 0 && ok;
    if (!ok) {
        remove(tmp);
        return mf_error_set(err, "cannot write %s (disk full?)", tmp);
    }
    if (rename(tmp, path)) {
        int e = errno;
        remove(tmp);
        return mf_error_set(err, "cannot rename %s to %s: %s", tmp, path, strerror(e));
    }
    return MF_OK;
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

int mf_make_dir(const char *path, mf_error *err)
{
    struct stat st;
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode)) return MF_OK;
        return mf_error_set(err, "%s exists and is not a folder", path);
    }
    /* parents first (mkdir -p) */
    char buf[4096];
    size_t n = strlen(path);
    if (n >= sizeof buf) return mf_error_set(err, "folder name too long: %s", path);
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i < n; i++) {
        if (buf[i] != '/') continue;
        buf[i] = 0;
        if (stat(buf, &st) != 0 && mkdir(buf, 0777) && errno != EEXIST)
            return mf_error_set(err, "cannot create the folder %s: %s", buf, strerror(errno));
        buf[i] = '/';
    }
    if (mkdir(path, 0777) && errno != EEXIST)
        return mf_error_set(err, "cannot create the folder %s: %s", path, strerror(errno));
    return MF_OK;
}

uint32_t mf_fnv1a32(const void *data, size_t n)
{
    const unsigned char *b = data;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 16777619u;
    }
    return h;
}

uint64_t mf_fnv1a64(uint64_t h, const void *data, size_t n)
{
    const unsigned char *b = data;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211ull;
    }
    return h;
}
