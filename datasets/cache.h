/* Dataset cache files (datasets/cache.c). */
#ifndef MF_CACHE_H
#define MF_CACHE_H

#include "mf_datasets.h"

/* Hash of every file under source_dir (names and contents, sorted) and of params. */
int mf_cache_key(const char *source_dir, const char *params, uint64_t *key, mf_error *err);
/* Atomic write (temp file + rename). */
int mf_cache_save(const char *path, const mf_dataset *d, mf_error *err);
/* *out = NULL (and MF_OK) when there is no usable cache file; a damaged one is removed. */
int mf_cache_load(const char *path, const char *name, mf_dataset **out, mf_error *err);

#endif
