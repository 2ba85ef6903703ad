/* What the fuzz targets share: one private temporary folder per process (for library entry
 * points that take a path, as the CLI calls them), writing the fuzz input there, and the input
 * as a NUL-terminated string. */
#ifndef MF_FUZZ_UTIL_H
#define MF_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* libFuzzer's entry point, defined by each fuzz_<parser>.c. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The process's temporary folder (created on first use under $TMPDIR or /tmp, removed at
 * exit); aborts when it cannot be made, since no input could be tested. */
const char *fuzz_temp_dir(void);

/* "<temp dir>/<name>" into out (size bytes); aborts when it does not fit. */
void fuzz_temp_path(char *out, size_t size, const char *name);

/* Creates the folder "<temp dir>/<name>" if it is missing; aborts on failure. */
void fuzz_temp_mkdir(const char *name);

/* Writes size bytes to path (created or truncated); aborts on failure. */
void fuzz_write_file(const char *path, const uint8_t *data, size_t size);

/* A malloc'd copy of data with a terminating NUL (the text stops at the first NUL inside). */
char *fuzz_strndup(const uint8_t *data, size_t size);

#endif
