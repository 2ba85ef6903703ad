/* Small helpers shared by the cmocka tests. */
#ifndef MF_TESTUTIL_H
#define MF_TESTUTIL_H

#include <stddef.h>

#include "mf_train.h"

/* A fresh empty directory under the build tree for this test binary; static storage. */
const char *tu_tmpdir(const char *test_name);
/* Writes text to dir/name and returns the path (static storage, overwritten per call). */
const char *tu_write_file(const char *dir, const char *name, const char *text);
/* How many entries dir holds ("." and ".." not counted), -1 when it cannot be read. */
int tu_count_entries(const char *dir);
/* Path of a file in the source tree (static storage). */
const char *tu_source_path(const char *rel);

/* Runs argv (argv[0] a path; no shell) in the folder cwd (NULL: this one) with stdout and stderr
 * into out (size bytes, NUL-terminated; the rest is drained, not kept). Returns the exit status,
 * -1 when a signal ended it, -2 when it could not be started or waited for. */
int tu_run_capture(const char *cwd, char *const argv[], char *out, size_t size);

/* A test needs `tool` (arm-none-eabi-gcc, qemu-system-arm, ...) and it is missing: whether the
 * test may be skipped. Prints why. Outside CI it may (returns 1); with CI=true (or CI=1) in the
 * environment a missing firmware tool is a failure (returns 0): CI must not pass by skipping.
 * Use: if (missing) { if (!tu_tool_missing_ok(missing)) fail(); skip(); } */
int tu_tool_missing_ok(const char *tool);

/* The training settings the trainer tests start from: SGD 0.05 with momentum 0.9 and weight
 * decay 5e-4, batch 16, 10 epochs, seed 3, 2 threads, deterministic, quiet; no distillation
 * (temperature and alpha 0). */
mf_train_config tu_train_config(void);

#endif
