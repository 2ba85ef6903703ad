/* Temporary files for the fuzz targets: one folder per process, so parallel fuzzers and the
 * replay test never share a file, removed at exit with everything in it. */
#include "fuzz_util.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char temp_dir[512];

/* Removes path and, for a folder, what it holds (the fuzz targets make at most two levels). */
static void remove_tree(const char *path, int depth)
{
    DIR *d = depth < 4 ? opendir(path) : NULL;
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char child[1024];
            int w = snprintf(child, sizeof child, "%s/%s", path, e->d_name);
            if (w > 0 && (size_t)w < sizeof child) remove_tree(child, depth + 1);
        }
        closedir(d);
        rmdir(path);
        return;
    }
    unlink(path);
}

static void remove_temp_dir(void)
{
    if (temp_dir[0]) remove_tree(temp_dir, 0);
}

const char *fuzz_temp_dir(void)
{
    if (temp_dir[0]) return temp_dir;
    const char *base = getenv("TMPDIR");
    if (!base || !base[0]) base = "/tmp";
    int w = snprintf(temp_dir, sizeof temp_dir, "%s/mf_fuzz_XXXXXX", base);
    if (w < 0 || (size_t)w >= sizeof temp_dir || !mkdtemp(temp_dir)) {
        fprintf(stderr, "fuzz: cannot make a temporary folder under %s\n", base);
        abort();
    }
    atexit(remove_temp_dir);
    return temp_dir;
}

void fuzz_temp_path(char *out, size_t size, const char *name)
{
    int w = snprintf(out, size, "%s/%s", fuzz_temp_dir(), name);
    if (w < 0 || (size_t)w >= size) {
        fprintf(stderr, "fuzz: temporary path for %s is too long\n", name);
        abort();
    }
}

void fuzz_temp_mkdir(const char *name)
{
    char path[1024];
    fuzz_temp_path(path, sizeof path, name);
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) return;
    if (mkdir(path, 0700) != 0) {
        fprintf(stderr, "fuzz: cannot make folder %s\n", path);
        abort();
    }
}

void fuzz_write_file(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        fprintf(stderr, "fuzz: cannot write %s\n", path);
        abort();
    }
}

char *fuzz_strndup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s) abort();
    if (size) memcpy(s, data, size);
    s[size] = '\0';
    return s;
}
