/* Fuzz target: the compiler-flag allow-list (mf_deploy_check_flags) that guards --opt,
 * --cflags and deploy.opt before they reach make's shell. An accepted string must hold no
 * shell metacharacter. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "fuzz_util.h"
#include "mf_deploy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *flags = fuzz_strndup(data, size);
    mf_error err;
    mf_error_clear(&err);
    if (mf_deploy_check_flags("deploy.opt", flags, &err) == MF_OK) {
        const char *bad = strpbrk(flags, ";&|`$<>()\\\"'*?[]{}~!#\n\t\r");
        if (bad) {
            fprintf(stderr, "fuzz: flags '%s' accepted with shell character '%c'\n", flags, *bad);
            abort();
        }
    } else {
        fuzz_check_refusal(&err, "mf_deploy_check_flags");
    }
    free(flags);
    return 0;
}
