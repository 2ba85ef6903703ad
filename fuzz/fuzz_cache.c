/* Fuzz target: a dataset cache file (HDF5) as a loader finds it under cache_dir
 * (mf_cache_load on a path): our checks of its attributes, shapes, stored sizes and labels
 * on top of libhdf5. A damaged file must be dropped (no dataset, no error); a dataset that
 * loads must have its labels in range. */
#include <stdio.h>
#include <stdlib.h>

#include "cache.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[1024];
    fuzz_temp_path(path, sizeof path, "cache.h5");
    fuzz_write_file(path, data, size);
    mf_dataset *d = NULL;
    mf_error err;
    mf_error_clear(&err);
    if (mf_cache_load(path, "fuzz", &d, &err) != MF_OK) {
        fprintf(stderr, "fuzz: mf_cache_load failed instead of dropping the file\n");
        abort();
    }
    for (int i = 0; d && i < d->n_train + d->n_test; i++) {
        int y = i < d->n_train ? d->y_train[i] : d->y_test[i - d->n_train];
        if (y < 0 || y >= d->classes) {
            fprintf(stderr, "fuzz: cached label %d of sample %d is outside 0..%d\n", y, i,
                    d->classes - 1);
            abort();
        }
    }
    mf_dataset_free(d);
    return 0;
}
