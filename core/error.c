#include "mf_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void mf_error_clear(mf_error *e)
{
    if (!e) return;
    memset(e, 0, sizeof *e);
    e->offset = -1;
}

int mf_error_setv(mf_error *e, const char *fmt, va_list ap)
{
    if (!e) return MF_ERR;
    mf_error_clear(e);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    return MF_ERR;
}

int mf_error_set(mf_error *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mf_error_setv(e, fmt, ap);
    va_end(ap);
    return MF_ERR;
}

void mf_error_at(mf_error *e, const char *file, int line, int column, const char *field)
{
    if (!e) return;
    if (file) snprintf(e->file, sizeof e->file, "%s", file);
    if (line > 0) e->line = line;
    if (column > 0) e->column = column;
    if (field) snprintf(e->field, sizeof e->field, "%s", field);
}

void mf_error_at_offset(mf_error *e, const char *file, long offset)
{
    if (!e) return;
    if (file) snprintf(e->file, sizeof e->file, "%s", file);
    e->offset = offset;
}

const char *mf_error_format(const mf_error *e, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
#define APPEND(...)                                                                                \
    do {                                                                                           \
        if (used < size) {                                                                         \
            int w_ = snprintf(buf + used, size - used, __VA_ARGS__);                               \
            if (w_ > 0) used += (size_t)w_;                                                        \
        }                                                                                          \
    } while (0)
    if (e->file[0]) {
        APPEND("%s", e->file);
        if (e->line > 0) APPEND(":%d", e->line);
        if (e->column > 0) APPEND(":%d", e->column);
        if (e->offset >= 0) APPEND(" (byte offset %ld)", e->offset);
        APPEND(": ");
    }
    if (e->field[0]) APPEND("%s: ", e->field);
    APPEND("%s", e->message);
#undef APPEND
    return buf;
}
