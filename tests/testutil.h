/* Small helpers shared by the cmocka tests. */
#ifndef MF_TESTUTIL_H
#define MF_TESTUTIL_H

#include <stddef.h>

/* A fresh empty directory under the build tree for this test binary; static storage. */
const char *tu_tmpdir(const char *test_name);
/* Writes text to dir/name and returns the path (static storage, overwritten per call). */
const char *tu_write_file(const char *dir, const char *name, const char *text);
/* Path of a file in the source tree (static storage). */
const char *tu_source_path(const char *rel);

#endif
