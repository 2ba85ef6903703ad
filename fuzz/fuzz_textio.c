/* Fuzz target: the line reader of the text datasets (mf_textio, plain or gzip) on a file; the
 * first input byte sets the line length limit (1 to 64) so that lines cross it and the buffer
 * refills at many offsets. Every line handed out must be NUL-terminated at its length, hold no
 * NUL and respect the limit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "fuzz_util.h"
#include "textio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    size_t max_line = 1 + data[0] % 64;
    char path[1024];
    fuzz_temp_path(path, sizeof path, "lines.txt");
    fuzz_write_file(path, data + 1, size - 1);
    mf_textio t;
    mf_error err;
    mf_error_clear(&err);
    if (mf_textio_open(&t, path, max_line, &err) != MF_OK) {
        fuzz_check_refusal(&err, "mf_textio_open");
        return 0;
    }
    char *line;
    size_t len;
    int r;
    while ((r = mf_textio_next(&t, &line, &len, &err)) == 1) {
        if (len > max_line || strlen(line) != len) {
            fprintf(stderr, "fuzz: line %d has length %zu (strlen %zu, limit %zu)\n", t.line, len,
                    strlen(line), max_line);
            abort();
        }
        mf_textio_blank(line, len);
    }
    if (r < 0) fuzz_check_refusal(&err, "mf_textio_next");
    mf_textio_close(&t);
    return 0;
}
