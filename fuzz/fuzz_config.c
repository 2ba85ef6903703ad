/* Fuzz target: a YAML config file as `mcuforge train CONFIG.yaml` reads it (mf_config_load on a
 * path: the size and nesting pre-scan, libcyaml, then our validation). A config that loads
 * must dump (mf_config_dump) to YAML that loads again. */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_check.h"
#include "fuzz_util.h"
#include "mf_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[1024];
    fuzz_temp_path(path, sizeof path, "config.yaml");
    fuzz_write_file(path, data, size);
    mf_config *cfg = NULL;
    mf_error err;
    if (mf_config_load(path, NULL, 0, &cfg, &err) != MF_OK) {
        fuzz_check_refusal(&err, "mf_config_load");
        return 0;
    }
    char *dump = mf_config_dump(cfg, &err);
    if (!dump) fuzz_check_refusal(&err, "mf_config_dump");
    mf_config *again = NULL;
    if (dump && mf_config_load_text(dump, "dump", NULL, 0, 0, &again, &err) != MF_OK) {
        char msg[2048];
        fprintf(stderr, "fuzz: the dump of a loaded config does not load: %s\n--- dump:\n%s\n",
                mf_error_format(&err, msg, sizeof msg), dump);
        abort();
    }
    mf_config_free(again);
    free(dump);
    mf_config_free(cfg);
    return 0;
}
