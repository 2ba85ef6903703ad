/* Line-by-line reading of plain or gzip text files: zlib's gzread fills a large buffer (plain
 * files are passed through), lines are cut with memchr and handed out in place. */
#include "textio.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "mf_fileio.h"

#define TEXTIO_CHUNK    ((size_t)256 * 1024)
#define TEXTIO_MAX_LINE ((size_t)64 * 1024 * 1024)

int mf_textio_blank(const char *line, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r') return 0;
    return 1;
}

void mf_textio_close(mf_textio *t)
{
    if (!t) return;
    if (t->gz) gzclose((gzFile)t->gz);
    free(t->buf);
    free(t->path);
    t->gz = NULL;
    t->buf = NULL;
    t->path = NULL;
    t->cap = t->start = t->end = 0;
    t->eof = 1;
}

int mf_textio_open(mf_textio *t, const char *path, size_t max_line, mf_error *err)
{
    memset(t, 0, sizeof *t);
    t->eof = 1;
    if (max_line < 1 || max_line > TEXTIO_MAX_LINE) {
        mf_error_set(err, "line length limit %zu is out of range (1 to %zu)", max_line,
                     TEXTIO_MAX_LINE);
        mf_error_at(err, path, 0, 0, NULL);
        return MF_ERR;
    }
    if (mf_file_check_regular(path, err)) return MF_ERR;
    t->path = malloc(strlen(path) + 1);
    t->cap = TEXTIO_CHUNK + max_line + 3; /* chunk + line + "\r\n" + terminator */
    t->buf = malloc(t->cap);
    if (!t->path || !t->buf) {
        mf_textio_close(t);
        mf_error_set(err, "out of memory reading '%s'", path);
        mf_error_at(err, path, 0, 0, NULL);
        return MF_ERR;
    }
    strcpy(t->path, path);
    errno = 0;
    gzFile gz = gzopen(path, "rb");
    if (!gz) {
        int e = errno;
        mf_textio_close(t);
        mf_error_set(err, "cannot open '%s': %s", path, e ? strerror(e) : "out of memory");
        mf_error_at(err, path, 0, 0, NULL);
        return MF_ERR;
    }
    gzbuffer(gz, 128 * 1024);
    t->gz = gz;
    t->max_line = max_line;
    t->eof = 0;
    return MF_OK;
}

/* Fills the buffer after moving the unconsumed bytes to its front. */
static int refill(mf_textio *t, mf_error *err)
{
    size_t avail = t->end - t->start;
    if (t->start > 0) {
        memmove(t->buf, t->buf + t->start, avail);
        t->start = 0;
        t->end = avail;
    }
    size_t room = t->cap - 1 - t->end;
    if (room > (size_t)1 << 30) room = (size_t)1 << 30;
    int n = gzread((gzFile)t->gz, t->buf + t->end, (unsigned)room);
    int code = Z_OK;
    const char *msg = NULL;
    if (n <= 0) msg = gzerror((gzFile)t->gz, &code);
    /* zlib prefixes its message with the path */
    size_t plen = strlen(t->path);
    if (msg && strncmp(msg, t->path, plen) == 0 && strncmp(msg + plen, ": ", 2) == 0)
        msg += plen + 2;
    /* a truncated stream ends with n = 0 and Z_BUF_ERROR, a corrupt one with n = -1 */
    if (n < 0 || code != Z_OK) {
        if (code == Z_ERRNO)
            mf_error_set(err, "read error while reading line %d: %s", t->line + 1, strerror(errno));
        else if (code == Z_BUF_ERROR)
            mf_error_set(err, "truncated gzip file: the data end while reading line %d (zlib: %s)",
                         t->line + 1, msg && msg[0] ? msg : "unexpected end of file");
        else
            mf_error_set(err, "corrupt gzip data while reading line %d (zlib: %s)", t->line + 1,
                         msg && msg[0] ? msg : "error");
        mf_error_at(err, t->path, t->line + 1, 0, NULL);
        return MF_ERR;
    }
    if (n == 0) t->eof = 1;
    t->end += (size_t)n;
    return MF_OK;
}

int mf_textio_next(mf_textio *t, char **line, size_t *len, mf_error *err)
{
    *line = NULL;
    *len = 0;
    if (!t->buf) return 0;
    for (;;) {
        char *s = t->buf + t->start;
        size_t avail = t->end - t->start;
        char *nl = memchr(s, '\n', avail);
        size_t n;
        if (nl) {
            n = (size_t)(nl - s);
            t->start += n + 1;
        } else if (avail > t->max_line + 1) {
            n = avail; /* over the limit whatever follows */
        } else if (!t->eof) {
            if (refill(t, err)) return MF_ERR;
            continue;
        } else if (avail == 0) {
            return 0;
        } else {
            n = avail; /* last line without a line end */
            t->start = t->end;
        }
        if (n > 0 && s[n - 1] == '\r') n--;
        if (n > t->max_line) {
            mf_error_set(err, "line %d is longer than %zu bytes (not a text file of this kind?)",
                         t->line + 1, t->max_line);
            mf_error_at(err, t->path, t->line + 1, 0, NULL);
            return MF_ERR;
        }
        if (memchr(s, '\0', n)) {
            mf_error_set(err, "line %d holds a NUL byte (binary data, not text)", t->line + 1);
            mf_error_at(err, t->path, t->line + 1, 0, NULL);
            return MF_ERR;
        }
        if (t->line == INT_MAX) {
            mf_error_set(err, "more than %d lines", INT_MAX);
            mf_error_at(err, t->path, t->line, 0, NULL);
            return MF_ERR;
        }
        s[n] = '\0';
        t->line++;
        *line = s;
        *len = n;
        return 1;
    }
}
