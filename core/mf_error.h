/* Error records: library functions return MF_OK or MF_ERR and fill an mf_error; only the CLI
 * prints and exits. A record says where (file, line/column or byte offset, field) and what. */
#ifndef MF_ERROR_H
#define MF_ERROR_H

#include <stdarg.h>
#include <stddef.h>

#define MF_OK  0
#define MF_ERR (-1)

typedef struct mf_error {
    char message[768];
    char file[512];  /* file the problem is in, "" if none */
    int line;        /* 1-based, 0 if not applicable */
    int column;      /* 1-based, 0 if not applicable */
    long offset;     /* byte offset, -1 if not applicable */
    char field[160]; /* dotted config/model path, e.g. "model.layers[3].inputs[0]", "" if none */
} mf_error;

void mf_error_clear(mf_error *e);

/* Formats the message (printf-style) and returns MF_ERR, so callers can write
 * `return mf_error_set(err, "...", ...);`. A NULL record is allowed. */
int mf_error_set(mf_error *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* mf_error_set with a va_list (for functions that take a format of their own). */
int mf_error_setv(mf_error *e, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Attach a location to an already-set error (any argument may be NULL/0/-1 to leave it). */
void mf_error_at(mf_error *e, const char *file, int line, int column, const char *field);
void mf_error_at_offset(mf_error *e, const char *file, long offset);

/* "file:line:column: field: message" (the parts that are known), into buf. */
const char *mf_error_format(const mf_error *e, char *buf, size_t size);

#endif
