/* Small helpers shared by the deploy sources: a growable string, file reads, folders. Internal to
 * deploy/. Atomic writes and FNV-1a hashes are core's (mf_fileio.h). */
#ifndef MF_DEPLOY_UTIL_H
#define MF_DEPLOY_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "mf_error.h"

typedef struct mf_sb {
    char *p;
    size_t len, cap;
    int oom; /* an allocation failed: the content is incomplete */
} mf_sb;

void mf_sb_printf(mf_sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mf_sb_append(mf_sb *b, const void *data, size_t n);
void mf_sb_free(mf_sb *b);

/* Reads a whole file (NUL-terminated copy in *data) of at most `limit` bytes. */
int mf_read_file(const char *path, char **data, size_t *n, size_t limit, mf_error *err);

/* The folder holding runtime/ and deploy/board/ (datadir.c): $MCUFORGE_SOURCE_DIR if set and
 * not empty; else <folder of the running executable>/../share/mcuforge if it exists (an
 * installed mcuforge, `cmake --install`); else compiled_in (the source tree). Static storage. */
const char *mf_deploy_data_dir(const char *compiled_in);

#endif
