/* Line-by-line reading of plain or gzip text files (zlib reads plain files transparently), with
 * line numbers, a limit on the line length and errors that name the file and the line reached.
 *
 *     mf_textio t;
 *     if (mf_textio_open(&t, path, 4096, err)) return MF_ERR;
 *     char *line;
 *     size_t len;
 *     int r;
 *     while ((r = mf_textio_next(&t, &line, &len, err)) == 1) { ... t.line ... }
 *     mf_textio_close(&t);
 *     if (r < 0) return MF_ERR;
 */
#ifndef MF_TEXTIO_H
#define MF_TEXTIO_H

#include <stddef.h>

#include "mf_error.h"

typedef struct mf_textio {
    void *gz;        /* gzFile */
    char *path;      /* copy of the path, for messages */
    char *buf;       /* read buffer: chunk + longest line + terminator */
    size_t cap;      /* bytes in buf */
    size_t start;    /* first unconsumed byte */
    size_t end;      /* one past the last byte read */
    size_t max_line; /* longest accepted line, without its line end */
    int line;        /* 1-based number of the line last returned, 0 before the first */
    int eof;         /* the file has been read to its end */
} mf_textio;

/* Opens path (a regular file, plain or gzip) for reading lines of at most max_line bytes
 * (1 ≤ max_line ≤ 64 MiB). On error nothing stays open and *t is safe to close. */
int mf_textio_open(mf_textio *t, const char *path, size_t max_line, mf_error *err);

/* The next line, without its "\n" or "\r\n", NUL-terminated and writable until the next call;
 * t->line is its number. Returns 1 for a line, 0 at the end of the file, MF_ERR (with file and
 * line set) for a line over the limit, a NUL byte, a read error or a truncated or corrupt gzip
 * stream. A last line without a line end counts; an empty file has no lines. */
int mf_textio_next(mf_textio *t, char **line, size_t *len, mf_error *err);

/* Closes the file and frees the buffers (safe on a zeroed or already-closed reader). */
void mf_textio_close(mf_textio *t);

/* Whether a line holds only blanks (spaces, tabs, CR). */
int mf_textio_blank(const char *line, size_t len);

#endif
