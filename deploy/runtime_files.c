/* The runtime sources a firmware needs: the files that define the kernels its program calls,
 * and (transitively) what those files call; copied verbatim into the project. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deploy_util.h"
#include "runtime_files.h"

/* Non-static functions defined at file scope: "type name(args) {" starting in column 0. */
static int defines(const char *text, const char *sym)
{
    size_t n = strlen(sym);
    const char *line = text;
    while (line && *line) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        if (len && (isalpha((unsigned char)line[0]) || line[0] == '_') &&
            strncmp(line, "static", 6) && strncmp(line, "typedef", 7)) {
            const char *paren = memchr(line, '(', len);
            if (paren) {
                const char *e = paren;
                while (e > line && isspace((unsigned char)e[-1]))
                    e--;
                const char *s = e;
                while (s > line && (isalnum((unsigned char)s[-1]) || s[-1] == '_'))
                    s--;
                if ((size_t)(e - s) == n && !memcmp(s, sym, n)) {
                    /* definition, not a prototype: the matching ')' is followed by '{' */
                    int depth = 0;
                    const char *c = paren;
                    for (; *c; c++) {
                        if (*c == '(') depth++;
                        if (*c == ')' && --depth == 0) break;
                    }
                    if (*c) {
                        c++;
                        while (*c && isspace((unsigned char)*c))
                            c++;
                        if (*c == '{') return 1;
                    }
                }
            }
        }
        line = eol ? eol + 1 : NULL;
    }
    return 0;
}

int mf_rt_file_defining(rt_file *f, int nf, const char *sym)
{
    for (int i = 0; i < nf; i++)
        if (f[i].is_c && defines(f[i].text, sym)) return i;
    return -1;
}

/* Marks every .c file that defines an identifier used by file k (transitively). */
void mf_rt_mark_uses(rt_file *f, int nf, int k)
{
    if (f[k].used) return;
    f[k].used = 1;
    const char *p = f[k].text;
    while (*p) {
        if (isalpha((unsigned char)*p) || *p == '_') {
            const char *s = p;
            while (isalnum((unsigned char)*p) || *p == '_')
                p++;
            size_t len = (size_t)(p - s);
            if (len > 3 && len < 128) {
                char sym[128];
                memcpy(sym, s, len);
                sym[len] = 0;
                int d = mf_rt_file_defining(f, nf, sym);
                if (d >= 0 && d != k) mf_rt_mark_uses(f, nf, d);
            }
        } else {
            p++;
        }
    }
}

void mf_rt_files_free(rt_file *f, int n)
{
    if (!f) return;
    for (int i = 0; i < n; i++)
        free(f[i].text);
    free(f);
}

int mf_rt_files_load(const char *source_dir, rt_file **out, int *n_out, mf_error *err)
{
    char dirpath[4200];
    snprintf(dirpath, sizeof dirpath, "%s/runtime", source_dir);
    DIR *d = opendir(dirpath);
    if (!d)
        return mf_error_set(err,
                            "cannot open the runtime sources in %s: %s (set "
                            "MCUFORGE_SOURCE_DIR to the mcuforge source tree)",
                            dirpath, strerror(errno));
    rt_file *f = NULL;
    int n = 0, cap = 0;
    struct dirent *e;
    int rc = MF_OK;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        int is_c = len > 2 && !strcmp(e->d_name + len - 2, ".c");
        int is_h = len > 2 && !strcmp(e->d_name + len - 2, ".h");
        if ((!is_c && !is_h) || len >= sizeof f->name || e->d_name[0] == '.') continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            rt_file *nf = realloc(f, sizeof *f * (size_t)cap);
            if (!nf) {
                rc = mf_error_set(err, "out of memory");
                break;
            }
            f = nf;
        }
        memset(&f[n], 0, sizeof f[n]);
        snprintf(f[n].name, sizeof f[n].name, "%s", e->d_name);
        f[n].is_c = is_c;
        char path[4500];
        snprintf(path, sizeof path, "%s/%s", dirpath, e->d_name);
        if (mf_read_file(path, &f[n].text, NULL, (size_t)16 << 20, err)) {
            rc = MF_ERR;
            break;
        }
        n++;
    }
    closedir(d);
    if (rc) {
        mf_rt_files_free(f, n);
        return rc;
    }
    /* stable order: by name */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && strcmp(f[j - 1].name, f[j].name) > 0; j--) {
            rt_file t = f[j];
            f[j] = f[j - 1];
            f[j - 1] = t;
        }
    *out = f;
    *n_out = n;
    return MF_OK;
}
