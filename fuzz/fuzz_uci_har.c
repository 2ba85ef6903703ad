/* Fuzz target: a UCI-HAR folder as `mcuforge dataset info uci-har` loads it (mf_load_uci_har
 * on a path): the labels, the subjects, the nine signal files of both splits (windows of 128
 * numbers per line) and the activity names. The input is split at lines "--" into the label
 * file, the subject file, the signal file (written for all nine channels) and, when there is
 * a fourth part, activity_labels.txt; both splits get the same files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_check.h"
#include "fuzz_util.h"
#include "mf_datasets.h"

#define PARTS 4

static const char *const SIGNALS[9] = {"body_acc_x",  "body_acc_y",  "body_acc_z",
                                       "body_gyro_x", "body_gyro_y", "body_gyro_z",
                                       "total_acc_x", "total_acc_y", "total_acc_z"};

static void write_part(const char *name, const uint8_t *data, size_t size)
{
    char path[1024];
    fuzz_temp_path(path, sizeof path, name);
    fuzz_write_file(path, data, size);
}

static void write_split(const char *split, const uint8_t *const part[PARTS],
                        const size_t len[PARTS])
{
    char name[256];
    snprintf(name, sizeof name, "har/%s", split);
    fuzz_temp_mkdir(name);
    snprintf(name, sizeof name, "har/%s/Inertial Signals", split);
    fuzz_temp_mkdir(name);
    snprintf(name, sizeof name, "har/%s/y_%s.txt", split, split);
    write_part(name, part[0], len[0]);
    snprintf(name, sizeof name, "har/%s/subject_%s.txt", split, split);
    write_part(name, part[1], len[1]);
    for (int c = 0; c < 9; c++) {
        snprintf(name, sizeof name, "har/%s/Inertial Signals/%s_%s.txt", split, SIGNALS[c], split);
        write_part(name, part[2], len[2]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *part[PARTS] = {NULL};
    size_t len[PARTS] = {0};
    int n = 0;
    const uint8_t *p = data, *end = data + size;
    while (n < PARTS) {
        const uint8_t *sep = NULL;
        for (const uint8_t *q = p; n < PARTS - 1 && end - q >= 4; q++)
            if (!memcmp(q, "\n--\n", 4)) {
                sep = q;
                break;
            }
        part[n] = p;
        len[n] = (size_t)((sep ? sep + 1 : end) - p);
        n++;
        if (!sep) break;
        p = sep + 4;
    }
    fuzz_temp_mkdir("har");
    write_split("train", part, len);
    write_split("test", part, len);
    char labels[1024];
    fuzz_temp_path(labels, sizeof labels, "har/activity_labels.txt");
    if (n == PARTS)
        fuzz_write_file(labels, part[3], len[3]);
    else
        unlink(labels);

    char root[1024];
    fuzz_temp_path(root, sizeof root, "har");
    mf_dataset *d = NULL;
    mf_error err;
    mf_error_clear(&err);
    if (mf_load_uci_har(root, &d, &err) != MF_OK) fuzz_check_refusal(&err, "mf_load_uci_har");
    mf_dataset_free(d);
    return 0;
}
