/* Fuzz target: an IDX file (plain or gzip) as the MNIST and GTSRB loaders read it
 * (mf_idx_read on a path); the first input byte picks the dimension limit they pass (1 for
 * labels, 3 for MNIST images, 4 for GTSRB images), the rest is the file. */
#include <stdlib.h>

#include "fuzz_check.h"
#include "fuzz_util.h"
#include "mf_datasets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    static const int max_dims_of[3] = {1, 3, 4};
    int max_dims = max_dims_of[data[0] % 3];
    char path[1024];
    fuzz_temp_path(path, sizeof path, "data.idx");
    fuzz_write_file(path, data + 1, size - 1);
    int ndim = 0, dims[4];
    uint8_t *bytes = NULL;
    mf_error err;
    mf_error_clear(&err);
    if (mf_idx_read(path, max_dims, &ndim, dims, &bytes, &err) != MF_OK) {
        fuzz_check_refusal(&err, "mf_idx_read");
        return 0;
    }
    size_t total = 1;
    for (int i = 0; i < ndim; i++)
        total *= (size_t)dims[i];
    /* touch the first and last byte: the buffer must hold every value the header declares */
    volatile uint8_t sink = bytes[0] ^ bytes[total - 1];
    (void)sink;
    free(bytes);
    return 0;
}
