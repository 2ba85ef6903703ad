#include "testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *tu_tmpdir(const char *test_name)
{
    static char dir[1024];
    snprintf(dir, sizeof dir, "%s/test-tmp/%s", MF_BINARY_DIR, test_name);
    char cmd[2200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", dir, dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot create %s\n", dir);
        abort();
    }
    return dir;
}

const char *tu_write_file(const char *dir, const char *name, const char *text)
{
    static char path[2200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "cannot write %s\n", path);
        abort();
    }
    fputs(text, f);
    fclose(f);
    return path;
}

int tu_count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

const char *tu_source_path(const char *rel)
{
    static char path[2200];
    snprintf(path, sizeof path, "%s/%s", MF_SOURCE_DIR, rel);
    return path;
}

int tu_tool_missing_ok(const char *tool)
{
    const char *ci = getenv("CI");
    if (ci && (!strcasecmp(ci, "true") || !strcmp(ci, "1"))) {
        fprintf(stderr,
                "FAILED: %s is not installed and CI=%s: tests needing the firmware tools must "
                "run in CI (bash tools/setup.sh installs them)\n",
                tool, ci);
        return 0;
    }
    fprintf(stderr, "skipped: %s not installed (bash tools/setup.sh; with CI=true this fails)\n",
            tool);
    return 1;
}
