/* Small helpers shared by the deploy sources: a growable string, atomic file writes, file reads,
 * FNV-1a hashes. Internal to deploy/. */
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

/* Writes path.tmp.<pid> and renames it over path. */
int mf_write_atomic(const char *path, const void *data, size_t n, mf_error *err);
/* Reads a whole file (NUL-terminated copy in *data) of at most `limit` bytes. */
int mf_read_file(const char *path, char **data, size_t *n, size_t limit, mf_error *err);
/* mkdir -p: the folder and any missing parents. */
int mf_make_dir(const char *path, mf_error *err);

/* The folder holding runtime/ and deploy/board/ (datadir.c): $MCUFORGE_SOURCE_DIR if set and
 * not empty; else <folder of the running executable>/../share/mcuforge if it exists (an
 * installed mcuforge, `cmake --install`); else compiled_in (the source tree). Static storage. */
const char *mf_deploy_data_dir(const char *compiled_in);

uint32_t mf_fnv1a32(const void *data, size_t n);
uint64_t mf_fnv1a64(uint64_t h, const void *data, size_t n);
#define MF_FNV64_INIT 14695981039346656037ull

#endif
