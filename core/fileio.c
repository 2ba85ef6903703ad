/* Atomic writes, the plain-or-gzip lookup, regular-file checks, FNV-1a, folder replacement
 * (mf_fileio.h). */
#define _GNU_SOURCE /* renameat2 (RENAME_EXCHANGE) */
#include "mf_fileio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Sets err (about path) and returns MF_ERR. */
static int fail(mf_error *err, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(mf_error *err, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mf_error_setv(err, fmt, ap);
    va_end(ap);
    mf_error_at(err, path, 0, 0, NULL);
    return MF_ERR;
}

/* Flushes the file name to disk. EINVAL: the file system cannot sync (nothing to do). */
static int sync_file(const char *name, const char *path, mf_error *err)
{
    int fd = open(name, O_RDONLY);
    if (fd < 0) return fail(err, path, "cannot open '%s' to flush it: %s", name, strerror(errno));
    if (fsync(fd) != 0 && errno != EINVAL) {
        int e = errno;
        close(fd);
        return fail(err, path, "cannot flush '%s' to disk: %s", name, strerror(e));
    }
    close(fd);
    return MF_OK;
}

/* Flushes the folder holding path, so that a rename in it is on disk. */
static int sync_folder(const char *path, mf_error *err)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (!dir) return fail(err, path, "out of memory");
    int rc = MF_OK;
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) {
        rc = fail(err, path, "cannot open the folder '%s' to flush it: %s", dir, strerror(errno));
    } else {
        if (fsync(fd) != 0 && errno != EINVAL)
            rc = fail(err, path, "cannot flush the folder '%s' to disk: %s", dir, strerror(errno));
        close(fd);
    }
    free(dir);
    return rc;
}

/* This host's name as temporary names carry it: letters, digits, '-' and '_' kept, any other
 * character '_' (so that the name has no '.' and the pid after it is found unambiguously), at
 * most 64 characters; "localhost" when the system has none. */
static void host_name(char *buf, size_t size)
{
    char h[256] = {0};
    if (gethostname(h, sizeof h - 1) != 0) h[0] = 0;
    size_t n = 0;
    for (const char *c = h; *c && n < 64 && n + 1 < size; c++) {
        int keep = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                   (*c >= '0' && *c <= '9') || *c == '-' || *c == '_';
        buf[n++] = keep ? *c : '_';
    }
    buf[n] = 0;
    if (!n) snprintf(buf, size, "localhost");
}

/* Removes "<path>.tmp.<host>.<pid>" files of this host whose process no longer exists (a writer
 * killed before it could clean up). Best effort: a file that cannot be listed or removed stays;
 * temporaries of live processes (kill(pid, 0) succeeds or fails with EPERM), of other hosts and
 * of other files are never touched. */
static void remove_stale_temporaries(const char *path, const char *host)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    const char *base = slash ? slash + 1 : path;
    size_t plen = strlen(base) + strlen(host) + 8;
    char *prefix = malloc(plen);
    DIR *d = dir && prefix ? opendir(dir) : NULL;
    if (d) {
        snprintf(prefix, plen, "%s.tmp.%s.", base, host);
        size_t n = strlen(prefix);
        struct dirent *de;
        while ((de = readdir(d))) {
            if (strncmp(de->d_name, prefix, n)) continue;
            const char *digits = de->d_name + n;
            size_t nd = strspn(digits, "0123456789");
            if (nd == 0 || nd > 9 || digits[nd]) continue;
            long pid = strtol(digits, NULL, 10);
            if (pid <= 0 || pid == (long)getpid()) continue;
            if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
            unlinkat(dirfd(d), de->d_name, 0);
        }
        closedir(d);
    }
    free(prefix);
    free(dir);
}

int mf_file_write_atomic(const char *path, mf_file_fill fill, void *ctx, mf_error *err)
{
    if (!path || !path[0]) return fail(err, NULL, "cannot write a file without a name");
    char host[80];
    host_name(host, sizeof host);
    remove_stale_temporaries(path, host);
    size_t len = strlen(path) + strlen(host) + 32;
    char *tmp = malloc(len);
    if (!tmp) return fail(err, path, "out of memory");
    snprintf(tmp, len, "%s.tmp.%s.%ld", path, host, (long)getpid());
    int rc = fill(tmp, ctx, err);
    if (rc != MF_OK && err && !err->file[0]) mf_error_at(err, path, 0, 0, NULL);
    if (rc == MF_OK) rc = sync_file(tmp, path, err);
    if (rc == MF_OK && rename(tmp, path) != 0)
        rc = fail(err, path, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
    if (rc != MF_OK) remove(tmp);
    free(tmp);
    if (rc != MF_OK) return MF_ERR;
    return sync_folder(path, err);
}

typedef struct stream {
    mf_file_print print;
    void *ctx;
} stream;

/* The temporary file as a stream: print fills it, then any error the stream met is reported
 * (errno is that of the failing call). */
static int fill_stream(const char *tmp, void *ctx, mf_error *err)
{
    const stream *s = ctx;
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return fail(err, NULL, "cannot create the temporary file '%s': %s", tmp, strerror(errno));
    errno = 0;
    if (s->print(f, s->ctx, err) != MF_OK) {
        fclose(f);
        return MF_ERR;
    }
    int e = ferror(f) ? (errno ? errno : EIO) : 0;
    errno = 0;
    if (fclose(f) != 0 && !e) e = errno ? errno : EIO;
    if (e) return fail(err, NULL, "cannot write '%s': %s", tmp, strerror(e));
    return MF_OK;
}

int mf_file_write_text(const char *path, mf_file_print print, void *ctx, mf_error *err)
{
    stream s = {print, ctx};
    return mf_file_write_atomic(path, fill_stream, &s, err);
}

typedef struct bytes {
    const void *data;
    size_t n;
} bytes;

static int print_bytes(FILE *f, void *ctx, mf_error *err)
{
    (void)err;
    const bytes *b = ctx;
    if (b->n) fwrite(b->data, 1, b->n, f); /* a short write sets the stream's error */
    return MF_OK;
}

int mf_file_write_bytes(const char *path, const void *data, size_t n, mf_error *err)
{
    bytes b = {data, n};
    return mf_file_write_text(path, print_bytes, &b, err);
}

int mf_file_is_regular(const char *path)
{
    struct stat st;
    return path && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int mf_file_is_dir(const char *path)
{
    struct stat st;
    return path && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int mf_file_check_regular(const char *path, mf_error *err)
{
    struct stat st;
    if (!path) return fail(err, NULL, "no file name given");
    if (stat(path, &st) != 0) return fail(err, path, "cannot open '%s': %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode)) return fail(err, path, "'%s' is not a regular file", path);
    return MF_OK;
}

int mf_file_find_gz(const char *base, char *out, size_t size)
{
    if (!size) return 0;
    int w = snprintf(out, size, "%s", base);
    if (w < 0 || (size_t)w >= size) return 0;
    if (mf_file_is_regular(out)) return 1;
    if ((size_t)w + 3 < size) {
        memcpy(out + w, ".gz", 4);
        if (mf_file_is_regular(out)) return 1;
        out[w] = '\0';
    }
    return 0;
}

int mf_file_need_gz(const char *dir, const char *name, const char *what, char *out, size_t size,
                    mf_error *err)
{
    int w = snprintf(out, size, "%s/%s.gz", dir, name);
    if (w < 0 || (size_t)w >= size)
        return fail(err, NULL, "%s: the path '%s/%s.gz' is too long", what, dir, name);
    out[w - 3] = '\0';
    char *base = strdup(out);
    if (!base) return fail(err, out, "out of memory");
    int found = mf_file_find_gz(base, out, size);
    free(base);
    if (found) return MF_OK;
    return fail(err, out, "%s: neither '%s' nor '%s.gz' found in '%s'", what, name, name, dir);
}

uint32_t mf_hash_fnv1a32(uint32_t h, const void *data, size_t n)
{
    const unsigned char *b = data;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= MF_FNV1A32_PRIME;
    }
    return h;
}

uint64_t mf_hash_fnv1a64(uint64_t h, const void *data, size_t n)
{
    const unsigned char *b = data;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= MF_FNV1A64_PRIME;
    }
    return h;
}

int mf_file_make_dirs(const char *path, mf_error *err)
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

/* Removes name (relative to the folder at) and, for a folder, everything in it; symbolic
 * links are removed, never followed. top names the tree for messages. */
static int remove_at(int at, const char *name, const char *top, int depth, mf_error *err)
{
    struct stat st;
    if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) return MF_OK;
        return fail(err, top, "cannot remove '%s' in '%s': %s", name, top, strerror(errno));
    }
    if (!S_ISDIR(st.st_mode)) {
        if (unlinkat(at, name, 0) != 0 && errno != ENOENT)
            return fail(err, top, "cannot remove '%s' in '%s': %s", name, top, strerror(errno));
        return MF_OK;
    }
    if (depth > 200) return fail(err, top, "cannot remove '%s': folders nested too deep", top);
    int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (fd < 0)
        return fail(err, top, "cannot open the folder '%s' in '%s': %s", name, top,
                    strerror(errno));
    DIR *d = fdopendir(fd);
    if (!d) {
        int e = errno;
        close(fd);
        return fail(err, top, "cannot list the folder '%s' in '%s': %s", name, top, strerror(e));
    }
    int rc = MF_OK;
    struct dirent *de;
    while (rc == MF_OK && (de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            rc = remove_at(dirfd(d), de->d_name, top, depth + 1, err);
    closedir(d);
    if (rc != MF_OK) return rc;
    if (unlinkat(at, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
        return fail(err, top, "cannot remove the folder '%s' in '%s': %s", name, top,
                    strerror(errno));
    return MF_OK;
}

int mf_file_remove_tree(const char *path, mf_error *err)
{
    if (!path || !path[0]) return fail(err, NULL, "no folder name given");
    return remove_at(AT_FDCWD, path, path, 0, err);
}

int mf_file_replace_dir(const char *tmp, const char *dir, mf_error *err)
{
    struct stat st;
    if (lstat(dir, &st) != 0) {
        if (errno != ENOENT) return fail(err, dir, "cannot inspect '%s': %s", dir, strerror(errno));
        if (rename(tmp, dir) != 0)
            return fail(err, dir, "cannot rename '%s' to '%s': %s", tmp, dir, strerror(errno));
        return sync_folder(dir, err);
    }
#ifdef RENAME_EXCHANGE
    /* one step: tmp becomes dir and the old dir takes tmp's name */
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dir, RENAME_EXCHANGE) == 0) {
        /* the new folder is in place: failing to flush or to remove the old one (now at tmp)
         * does not undo that */
        mf_error ignored;
        mf_error_clear(&ignored);
        sync_folder(dir, &ignored);
        mf_file_remove_tree(tmp, &ignored);
        return MF_OK;
    }
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP && errno != EPERM)
        return fail(err, dir, "cannot exchange '%s' and '%s': %s", tmp, dir, strerror(errno));
#endif
    /* the file system cannot exchange: the old folder aside, the new one in, the old one gone */
    size_t len = strlen(tmp) + 8;
    char *aside = malloc(len);
    if (!aside) return fail(err, dir, "out of memory");
    snprintf(aside, len, "%s.old", tmp);
    int rc = mf_file_remove_tree(aside, err);
    if (rc == MF_OK && rename(dir, aside) != 0)
        rc = fail(err, dir, "cannot move '%s' aside to '%s': %s", dir, aside, strerror(errno));
    if (rc == MF_OK && rename(tmp, dir) != 0) {
        int e = errno;
        if (rename(aside, dir) == 0) /* the old folder back */
            rc = fail(err, dir, "cannot rename '%s' to '%s': %s", tmp, dir, strerror(e));
        else
            rc = fail(err, dir, "cannot rename '%s' to '%s': %s; the old folder is at '%s'", tmp,
                      dir, strerror(e), aside);
        free(aside);
        return rc;
    }
    if (rc == MF_OK) { /* the new folder is in place: cleanup failures do not undo that */
        mf_error ignored;
        mf_error_clear(&ignored);
        sync_folder(dir, &ignored);
        mf_file_remove_tree(aside, &ignored);
    }
    free(aside);
    return rc;
}

int mf_file_in_path(const char *name)
{
    const char *path = getenv("PATH");
    if (!path || !*path) path = "/usr/local/bin:/usr/bin:/bin";
    const char *p = path;
    while (*p) {
        const char *colon = strchr(p, ':');
        size_t len = colon ? (size_t)(colon - p) : strlen(p);
        char full[4200];
        snprintf(full, sizeof full, "%.*s/%s", (int)(len ? len : 1), len ? p : ".", name);
        if (access(full, X_OK) == 0) return 1;
        if (!colon) break;
        p = colon + 1;
    }
    return 0;
}
