/* The oracle every fuzz target applies beyond "no crash": a refused input carries a message
 * (the project's rule: bad input gets a clear error, never a silent failure). With
 * MF_FUZZ_VERBOSE set in the environment the message is printed, to see what a seed tests. */
#ifndef MF_FUZZ_CHECK_H
#define MF_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#include "mf_error.h"

static inline void fuzz_check_refusal(const mf_error *err, const char *what)
{
    if (!err->message[0]) {
        fprintf(stderr, "fuzz: %s refused the input without an error message\n", what);
        abort();
    }
    if (getenv("MF_FUZZ_VERBOSE")) {
        char buf[2048];
        fprintf(stderr, "  refused: %s\n", mf_error_format(err, buf, sizeof buf));
    }
}

#endif
