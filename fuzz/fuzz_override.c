/* Fuzz target: `key=value` overrides as the CLI passes them after a config path (argv entries),
 * one per line of the input, applied to a small valid config with an explicit layer list so
 * that layer paths by index and by name resolve. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "fuzz_util.h"
#include "mf_config.h"

/* More than any command line carries; past it the rest of the input is one last argument. */
#define MAX_OVERRIDES 16

static const char BASE_CONFIG[] = "dataset:\n"
                                  "  name: synthetic\n"
                                  "  shape: [16, 2]\n"
                                  "  classes: 3\n"
                                  "  train_samples: 8\n"
                                  "  test_samples: 4\n"
                                  "model:\n"
                                  "  layers:\n"
                                  "    - {name: c1, type: conv1d, filters: 4, kernel: 3}\n"
                                  "    - {name: p, type: maxpool1d, kernel: 2}\n"
                                  "    - {name: gap, type: global_avgpool}\n"
                                  "    - {name: out, type: dense, units: 3}\n"
                                  "train:\n"
                                  "  epochs: 2\n"
                                  "  milestones: [1]\n"
                                  "  schedule: multistep\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup(data, size);
    char *overrides[MAX_OVERRIDES];
    int n = 0;
    for (char *p = text; n < MAX_OVERRIDES;) {
        overrides[n++] = p;
        char *nl = n < MAX_OVERRIDES ? strchr(p, '\n') : NULL;
        if (!nl) break;
        *nl = '\0';
        p = nl + 1;
    }
    mf_config *cfg = NULL;
    mf_error err;
    if (mf_config_load_text(BASE_CONFIG, "base.yaml", overrides, n, 0, &cfg, &err) != MF_OK)
        fuzz_check_refusal(&err, "mf_config_load_text with overrides");
    mf_config_free(cfg);
    free(text);
    return 0;
}
