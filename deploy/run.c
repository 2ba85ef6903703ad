/* Build + QEMU + report (DESIGN.md §8): builds the generated project with make, runs it under
 * `timeout` in qemu-system-arm (netduinoplus2, -icount shift=0,sleep=off), parses the
 * semihosting output, compares it with the host's outputs (expected.bin) and measures flash and
 * RAM from arm-none-eabi-size and the link map. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "deploy_util.h"
#include "mf_fileio.h"
#include "mf_deploy.h"
#include "mf_outputs.h"
#include "stack_bound.h"

#define OUTPUT_LIMIT ((size_t)256 << 20)
/* report.json's "schema_version": raised when a field changes meaning or goes (README
 * "Reports" lists the fields); new fields may appear without a change. */
#define MF_DEPLOY_REPORT_SCHEMA 1

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

const char *mf_deploy_missing_tool(void)
{
    static const char *const tools[] = {"arm-none-eabi-gcc",
                                        "arm-none-eabi-size",
                                        "arm-none-eabi-objdump",
                                        "qemu-system-arm",
                                        "make",
                                        "timeout"};
    for (size_t i = 0; i < sizeof tools / sizeof tools[0]; i++)
        if (!mf_file_in_path(tools[i])) return tools[i];
    return NULL;
}

/* Runs argv in dir with stdin from /dev/null, stdout+stderr captured into *out (NUL-terminated).
 * *status: the exit status, or 128 + signal. */
static int run_capture(const char *dir, char *const argv[], char **out, int *status, mf_error *err)
{
    *out = NULL;
    int fds[2];
    if (pipe(fds)) return mf_error_set(err, "pipe: %s", strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return mf_error_set(err, "fork: %s", strerror(errno));
    }
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, 0);
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        if (chdir(dir)) _exit(127);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    mf_sb b = {0};
    char buf[65536];
    for (;;) {
        ssize_t n = read(fds[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (b.len < OUTPUT_LIMIT) mf_sb_append(&b, buf, (size_t)n);
    }
    close(fds[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 255;
    if (b.oom) {
        mf_sb_free(&b);
        return mf_error_set(err, "out of memory capturing the output of %s", argv[0]);
    }
    if (!b.p) mf_sb_append(&b, "", 0);
    *out = b.p ? b.p : calloc(1, 1);
    return *out ? MF_OK : mf_error_set(err, "out of memory");
}

/* The last `lines` lines of text (pointer into it). */
static const char *tail(const char *text, int lines)
{
    size_t n = strlen(text);
    while (n && (text[n - 1] == '\n' || text[n - 1] == ' '))
        n--;
    int seen = 0;
    size_t i = n;
    while (i > 0) {
        if (text[i - 1] == '\n' && ++seen == lines) break;
        i--;
    }
    return text + i;
}

/* The compiler's and linker's error lines (in place, at most ~15), else the last lines. */
static const char *error_lines(char *text)
{
    char *w = text, *line = text;
    int kept = 0;
    while (*line && kept < 15) {
        char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) + 1 : strlen(line);
        char save = line[len - (eol ? 1 : 0)];
        line[len - (eol ? 1 : 0)] = 0;
        int keep = strstr(line, "error") || strstr(line, "Error") ||
                   strstr(line, "undefined reference") || strstr(line, "No such file") ||
                   strstr(line, "No rule");
        line[len - (eol ? 1 : 0)] = save;
        if (keep) {
            memmove(w, line, len);
            w += len;
            kept++;
        }
        line += len;
    }
    if (!kept) return tail(text, 25);
    *w = 0;
    return text;
}

int mf_deploy_parse_budget(const char *out, char *msg, size_t size)
{
    size_t len = 0;
    int found = 0, seen_flash = 0, seen_ram = 0;
    msg[0] = 0;
    const char *p = out;
    while ((p = strstr(p, "region `")) != NULL) {
        const char *name = p + 8, *q = strchr(name, '\'');
        const char *ov = q ? strstr(q, "' overflowed by ") : NULL;
        if (!q || ov != q) {
            p = name;
            continue;
        }
        unsigned long long bytes = strtoull(ov + 16, NULL, 10);
        int flash = !strncmp(name, "FLASH", 5);
        /* one figure per region: the first link that failed (variants may fail alike) */
        if (flash ? seen_flash++ : seen_ram++) {
            p = ov;
            continue;
        }
        len += (size_t)snprintf(
            msg + len, len < size ? size - len : 0, "%s%s budget (%s) exceeded by %llu bytes",
            found ? "; " : "", flash ? "flash" : "RAM",
            flash ? "1 MiB" : "128 KiB including the 4 KiB minimum stack", bytes);
        found = 1;
        p = ov;
        if (len >= size) break;
    }
    if (!found) {
        const char *a = strstr(out, "FLASH budget exceeded");
        const char *r = strstr(out, "RAM budget exceeded");
        if (a || r) {
            snprintf(msg, size, "%s",
                     a ? "flash budget (1 MiB) exceeded" : "RAM budget (128 KiB) exceeded");
            found = 1;
        }
    }
    return found;
}

/* ---- manifest and expected outputs ---- */

typedef struct manifest {
    char precision[16], hash[17], cflags[1024];
    int bits, n_vectors, streamed, profile_vectors, n_layers;
    int n_out, has_n_out; /* "output_n": the output's fractional bits (outputs.csv) */
    size_t in_size, out_size, arena, lower_bound, weights, scratch;
    unsigned long long macs;
    mf_deploy_layer *layers;
} manifest;

static int read_manifest(const char *dir, manifest *mf, mf_error *err)
{
    memset(mf, 0, sizeof *mf);
    char path[4200], *text;
    snprintf(path, sizeof path, "%s/deploy.manifest", dir);
    if (mf_read_file(path, &text, NULL, (size_t)1 << 24, err)) {
        mf_error_set(err, "%s is not a generated firmware project (no readable deploy.manifest)",
                     dir);
        return MF_ERR;
    }
    int rc = MF_OK, version = 0, n_layer_lines = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char key[32];
        int off = 0;
        if (sscanf(line, "%31s %n", key, &off) < 1) continue;
        const char *val = line + off;
        if (!strcmp(key, "mcuforge-deploy"))
            version = atoi(val);
        else if (!strcmp(key, "precision"))
            snprintf(mf->precision, sizeof mf->precision, "%s", val);
        else if (!strcmp(key, "hash"))
            snprintf(mf->hash, sizeof mf->hash, "%s", val);
        else if (!strcmp(key, "cflags"))
            snprintf(mf->cflags, sizeof mf->cflags, "%s", val);
        else if (!strcmp(key, "bits"))
            mf->bits = atoi(val);
        else if (!strcmp(key, "vectors"))
            mf->n_vectors = atoi(val);
        else if (!strcmp(key, "streamed"))
            mf->streamed = atoi(val);
        else if (!strcmp(key, "profile_vectors"))
            mf->profile_vectors = atoi(val);
        else if (!strcmp(key, "output_n"))
            mf->has_n_out = sscanf(val, "%d", &mf->n_out) == 1;
        else if (!strcmp(key, "input_size"))
            mf->in_size = strtoull(val, NULL, 10);
        else if (!strcmp(key, "output_size"))
            mf->out_size = strtoull(val, NULL, 10);
        else if (!strcmp(key, "macs"))
            mf->macs = strtoull(val, NULL, 10);
        else if (!strcmp(key, "arena"))
            mf->arena = strtoull(val, NULL, 10);
        else if (!strcmp(key, "scratch"))
            mf->scratch = strtoull(val, NULL, 10);
        else if (!strcmp(key, "lower_bound"))
            mf->lower_bound = strtoull(val, NULL, 10);
        else if (!strcmp(key, "weights"))
            mf->weights = strtoull(val, NULL, 10);
        else if (!strcmp(key, "layers")) {
            mf->n_layers = atoi(val);
            if (mf->n_layers < 1 || mf->n_layers > MF_MAX_NODES) {
                rc = mf_error_set(err, "%s: bad layer count %d", path, mf->n_layers);
                break;
            }
            mf->layers = calloc((size_t)mf->n_layers, sizeof *mf->layers);
            if (!mf->layers) {
                rc = mf_error_set(err, "out of memory");
                break;
            }
        } else if (!strcmp(key, "layer") && mf->layers) {
            int k;
            char name[2 * MF_NAME_MAX], op[40], si[48], so[48];
            unsigned long long macs;
            if (sscanf(val, "%d %127s %39s %47s %47s %llu", &k, name, op, si, so, &macs) != 6 ||
                k < 0 || k >= mf->n_layers) {
                rc = mf_error_set(err, "%s: malformed line '%s'", path, line);
                break;
            }
            mf_deploy_layer *L = &mf->layers[k];
            snprintf(L->name, sizeof L->name, "%s", name);
            snprintf(L->op, sizeof L->op, "%s", op);
            snprintf(L->shape_in, sizeof L->shape_in, "%s", si);
            snprintf(L->shape_out, sizeof L->shape_out, "%s", so);
            L->macs = macs;
            n_layer_lines++;
        } else if (!strcmp(key, "variant") && mf->layers) {
            int k, sparse, measured;
            double i0, i1;
            unsigned long long b0, b1;
            if (sscanf(val, "%d %d %d %lf %llu %lf %llu", &k, &sparse, &measured, &i0, &b0, &i1,
                       &b1) != 7 ||
                k < 0 || k >= mf->n_layers || (sparse != 0 && sparse != 1) ||
                (measured != 0 && measured != 1) || !(i0 >= 0) || !(i1 >= 0)) {
                rc = mf_error_set(err, "%s: malformed line '%s'", path, line);
                break;
            }
            mf_deploy_layer *L = &mf->layers[k];
            L->has_variants = 1;
            L->sparse = sparse;
            L->measured = measured;
            L->variant_instr[0] = i0;
            L->variant_instr[1] = i1;
            L->variant_bytes[0] = (size_t)b0;
            L->variant_bytes[1] = (size_t)b1;
        }
    }
    free(text);
    if (!rc &&
        (version != 1 || (mf->bits != 8 && mf->bits != 16 && mf->bits != 32) || mf->n_vectors < 1 ||
         !mf->in_size || !mf->out_size || !mf->layers || n_layer_lines != mf->n_layers))
        rc = mf_error_set(err, "%s is incomplete or of another version (regenerate the project)",
                          path);
    if (rc) {
        free(mf->layers);
        mf->layers = NULL;
    }
    return rc;
}

typedef struct expected {
    int n;
    size_t out_size, esz;
    int32_t *labels;
    uint32_t *hashes;
    unsigned char *out; /* n × out_size × esz */
    char *raw;
} expected;

static int read_expected(const char *dir, const manifest *mf, expected *ex, mf_error *err)
{
    memset(ex, 0, sizeof *ex);
    char path[4200];
    size_t n;
    snprintf(path, sizeof path, "%s/expected.bin", dir);
    if (mf_read_file(path, &ex->raw, &n, (size_t)1 << 30, err)) return MF_ERR;
    uint32_t hdr[4];
    if (n < 24 || memcmp(ex->raw, "MFEXPV1", 8)) goto bad;
    memcpy(hdr, ex->raw + 8, sizeof hdr);
    ex->n = (int)hdr[0];
    ex->out_size = hdr[1];
    ex->esz = hdr[2];
    if (ex->n != mf->n_vectors || ex->out_size != mf->out_size || ex->esz != (size_t)mf->bits / 8 ||
        hdr[3] != mf->in_size)
        goto bad;
    size_t rec = 8 + ex->out_size * ex->esz;
    if (n != 24 + (size_t)ex->n * rec) goto bad;
    ex->labels = malloc(sizeof(int32_t) * (size_t)ex->n);
    ex->hashes = malloc(sizeof(uint32_t) * (size_t)ex->n);
    ex->out = malloc(ex->out_size * ex->esz * (size_t)ex->n);
    if (!ex->labels || !ex->hashes || !ex->out) {
        mf_error_set(err, "out of memory");
        goto fail;
    }
    for (int v = 0; v < ex->n; v++) {
        const char *r = ex->raw + 24 + (size_t)v * rec;
        memcpy(&ex->labels[v], r, 4);
        memcpy(&ex->hashes[v], r + 4, 4);
        memcpy(ex->out + (size_t)v * ex->out_size * ex->esz, r + 8, ex->out_size * ex->esz);
    }
    return MF_OK;
bad:
    mf_error_set(err, "%s does not match deploy.manifest (regenerate the project)", path);
fail:
    free(ex->labels);
    free(ex->hashes);
    free(ex->out);
    free(ex->raw);
    memset(ex, 0, sizeof *ex);
    return MF_ERR;
}

static void free_expected(expected *ex)
{
    free(ex->labels);
    free(ex->hashes);
    free(ex->out);
    free(ex->raw);
}

/* ---- sizes ---- */

static int elf_size(const char *dir, const char *elf, size_t *text, size_t *data, size_t *bss,
                    mf_error *err)
{
    char *out = NULL;
    int st = 0;
    char *argv[] = {"arm-none-eabi-size", (char *)elf, NULL};
    if (run_capture(dir, argv, &out, &st, err)) return MF_ERR;
    unsigned long long t, d, b;
    const char *line = strchr(out, '\n');
    int ok = st == 0 && line && sscanf(line + 1, "%llu %llu %llu", &t, &d, &b) == 3;
    if (!ok) {
        mf_error_set(err, "arm-none-eabi-size %s failed: %s", elf, tail(out, 5));
        free(out);
        return MF_ERR;
    }
    *text = t;
    *data = d;
    *bss = b;
    free(out);
    return MF_OK;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

/* Names of the functions the runtime copies define (static ones too): column-0 lines of
 * the .c and .h files of DIR/runtime with an identifier before '(' — for attributing (possibly
 * cloned or LTO-renamed) sections of the map to the kernels. */
typedef struct name_set {
    char (*names)[64];
    int n, cap;
} name_set;

static void name_add(name_set *ns, const char *s, size_t len)
{
    if (len == 0 || len >= 64) return;
    for (int i = 0; i < ns->n; i++)
        if (strlen(ns->names[i]) == len && !memcmp(ns->names[i], s, len)) return;
    if (ns->n == ns->cap) {
        int cap = ns->cap ? ns->cap * 2 : 64;
        char(*nn)[64] = realloc(ns->names, sizeof *nn * (size_t)cap);
        if (!nn) return;
        ns->names = nn;
        ns->cap = cap;
    }
    memcpy(ns->names[ns->n], s, len);
    ns->names[ns->n++][len] = 0;
}

static int name_has(const name_set *ns, const char *s)
{
    for (int i = 0; i < ns->n; i++)
        if (!strcmp(ns->names[i], s)) return 1;
    return 0;
}

static void runtime_names(const char *dir, name_set *ns)
{
    char rtdir[4200];
    snprintf(rtdir, sizeof rtdir, "%s/runtime", dir);
    DIR *d = opendir(rtdir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 3 || e->d_name[0] == '.' ||
            (strcmp(e->d_name + len - 2, ".c") && strcmp(e->d_name + len - 2, ".h")))
            continue;
        char path[4500], *text;
        snprintf(path, sizeof path, "%s/%s", rtdir, e->d_name);
        mf_error ignore;
        if (mf_read_file(path, &text, NULL, (size_t)16 << 20, &ignore)) continue;
        for (char *line = text; line && *line;) {
            char *eol = strchr(line, '\n');
            size_t ll = eol ? (size_t)(eol - line) : strlen(line);
            if (ll && (isalpha((unsigned char)line[0]) || line[0] == '_')) {
                char *paren = memchr(line, '(', ll);
                if (paren) {
                    char *en = paren;
                    while (en > line && isspace((unsigned char)en[-1]))
                        en--;
                    char *st = en;
                    while (st > line && (isalnum((unsigned char)st[-1]) || st[-1] == '_'))
                        st--;
                    name_add(ns, st, (size_t)(en - st));
                }
            }
            line = eol ? eol + 1 : NULL;
        }
        free(text);
    }
    closedir(d);
}

/* ".text.mf_rt_conv_s8.constprop.0" → "mf_rt_conv_s8" (empty for plain ".text") */
static void section_symbol(const char *sec, char *sym, size_t size)
{
    static const char *const prefixes[] = {".text.startup.", ".text.unlikely.", ".text.hot.",
                                           ".text.",         ".rodata.",        ".data.",
                                           ".bss.",          "COMMON"};
    sym[0] = 0;
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        size_t n = strlen(prefixes[i]);
        if (!strncmp(sec, prefixes[i], n)) {
            snprintf(sym, size, "%s", sec + n);
            break;
        }
    }
    char *dot = strchr(sym, '.');
    if (dot) *dot = 0;
}

static int is_layer_symbol(const char *sym, const char *suffix)
{
    if (sym[0] != 'L' || !isdigit((unsigned char)sym[1])) return 0;
    if (!suffix) return 1;
    size_t a = strlen(sym), b = strlen(suffix);
    return a > b && !strcmp(sym + a - b, suffix);
}

/* ROM split and static RAM from the link map: each input section is attributed by the symbol
 * its name carries (-ffunction-sections -fdata-sections; also after LTO and cloning), else by
 * the object file it comes from. */
static int map_split(const char *dir, mf_deploy_report *r, mf_error *err)
{
    char path[4200], *text;
    snprintf(path, sizeof path, "%s/firmware.map", dir);
    if (mf_read_file(path, &text, NULL, (size_t)1 << 28, err)) return MF_ERR;
    name_set rt = {0};
    runtime_names(dir, &rt);
    char *p = strstr(text, "Linker script and memory map");
    int flash_sec = 0, ram_sec = 0;
    char pending[256] = "";
    char *save = NULL;
    for (char *line = p ? strtok_r(p, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '.') {
            char name[64];
            sscanf(line, "%63s", name);
            flash_sec = !strcmp(name, ".isr_vector") || !strcmp(name, ".text") ||
                        !strcmp(name, ".rodata") || !strcmp(name, ".ARM.exidx") ||
                        !strcmp(name, ".data");
            ram_sec = !strcmp(name, ".data") || !strcmp(name, ".bss");
            pending[0] = 0;
            continue;
        }
        if (line[0] != ' ') {
            flash_sec = ram_sec = 0;
            continue;
        }
        if (!flash_sec && !ram_sec) continue;
        char sec[256], rest[1024] = "";
        unsigned long long addr, size;
        const char *l = line;
        while (*l == ' ')
            l++;
        if (*l == '.' || !strncmp(l, "COMMON", 6) || !strncmp(l, "*fill*", 6)) {
            int n = 0;
            if (sscanf(l, "%255s %n", sec, &n) < 1) continue;
            if (sscanf(l + n, "0x%llx 0x%llx %1023[^\n]", &addr, &size, rest) < 2) {
                snprintf(pending, sizeof pending, "%s", sec); /* address on the next line */
                continue;
            }
        } else if (pending[0] && sscanf(l, "0x%llx 0x%llx %1023[^\n]", &addr, &size, rest) >= 2) {
            snprintf(sec, sizeof sec, "%s", pending);
        } else {
            continue;
        }
        pending[0] = 0;
        int is_bss = ram_sec && !flash_sec;
        int in_data = flash_sec && ram_sec; /* .data: flash image and RAM */
        if (is_bss || in_data) r->ram_static_total += size;
        char sym[256];
        section_symbol(sec, sym, sizeof sym);
        enum { KERNELS, WEIGHTS, CODE, PRE, HARNESS, LIBS } cat;
        if (strstr(rest, ".a(") || !strcmp(sec, "*fill*") || !rest[0])
            cat = LIBS;
        else if (!strncmp(sym, "mf_pre_", 7) || !strcmp(sym, "model_quantize_input") ||
                 !strncmp(sym, "mf_rt_input_", 12))
            cat = PRE;
        else if (is_layer_symbol(sym, "_w") || is_layer_symbol(sym, "_b") ||
                 is_layer_symbol(sym, "_shifts") || is_layer_symbol(sym, "_idx"))
            cat = WEIGHTS;
        else if (is_layer_symbol(sym, NULL) || !strncmp(sym, "model_", 6) ||
                 !strcmp(sym, "mf_arena"))
            cat = CODE;
        else if (!strncmp(sym, "mf_rt_", 6) || (sym[0] && name_has(&rt, sym)))
            cat = KERNELS;
        else if (strstr(rest, "obj/runtime/"))
            cat = KERNELS;
        else if (ends_with(rest, "obj/model_weights.o"))
            cat = WEIGHTS;
        else if (ends_with(rest, "obj/model.o"))
            cat = CODE;
        else
            cat = HARNESS;
        if (!is_bss) {
            switch (cat) {
            case KERNELS:
                r->rom_kernels += size;
                break;
            case WEIGHTS:
                r->rom_weights += size;
                break;
            case CODE:
                r->rom_model_code += size;
                break;
            case PRE:
                r->rom_preprocess += size;
                break;
            case HARNESS:
                r->rom_harness += size;
                break;
            default:
                r->rom_libs += size;
                break;
            }
        }
        if ((is_bss || in_data) && cat != HARNESS && cat != LIBS) {
            if (!strcmp(sym, "mf_arena"))
                r->ram_arena += size;
            else
                r->ram_model_other += size;
        }
    }
    free(rt.names);
    free(text);
    return MF_OK;
}

/* ---- QEMU ---- */

static int run_qemu(const char *dir, const char *elf, int timeout_s, char **out, double *secs,
                    mf_error *err)
{
    char to[16];
    snprintf(to, sizeof to, "%d", timeout_s);
    char *argv[] = {"timeout",
                    to,
                    "qemu-system-arm",
                    "-M",
                    "netduinoplus2",
                    "-display",
                    "none",
                    "-monitor",
                    "none",
                    "-serial",
                    "null",
                    "-chardev",
                    "stdio,id=semi",
                    "-semihosting-config",
                    "enable=on,target=native,chardev=semi",
                    "-icount",
                    "shift=0,sleep=off",
                    "-kernel",
                    (char *)elf,
                    NULL};
    int st = 0;
    double t0 = now_s();
    if (run_capture(dir, argv, out, &st, err)) return MF_ERR;
    *secs = now_s() - t0;
    if (st == 0) return MF_OK;
    const char *o = *out;
    const char *fault = strstr(o, "*** FAULT");
    if (st == 124)
        mf_error_set(err,
                     "%s/%s did not finish within %d s: stopped by the timeout (a hang?); last "
                     "output:\n%s",
                     dir, elf, timeout_s, tail(o, 3));
    else if (fault)
        mf_error_set(err, "%s/%s faulted (exit status %d):\n%s", dir, elf, st, tail(fault, 8));
    else if (st == 127)
        mf_error_set(err, "cannot run qemu-system-arm: %s", tail(o, 3));
    else
        mf_error_set(err, "%s/%s failed in QEMU (exit status %d):\n%s", dir, elf, st, tail(o, 6));
    free(*out);
    *out = NULL;
    return MF_ERR;
}

/* model_run's static stack bound from the disassembly of firmware.elf (stack_bound.h) */
static int stack_bound(const char *dir, mf_deploy_report *r, mf_error *err)
{
    char *argv[] = {"arm-none-eabi-objdump", "-d", "--no-show-raw-insn", "firmware.elf", NULL};
    char *out = NULL;
    int st = 0;
    if (run_capture(dir, argv, &out, &st, err)) return MF_ERR;
    if (st != 0) {
        mf_error_set(err, "arm-none-eabi-objdump failed on %s/firmware.elf (status %d): %s", dir,
                     st, tail(out, 3));
        free(out);
        return MF_ERR;
    }
    mf_stack_bound b;
    int rc = mf_stack_bound_objdump(out, "model_run", &b, err);
    free(out);
    if (rc) {
        char why[sizeof err->message];
        snprintf(why, sizeof why, "%s", err->message);
        return mf_error_set(err, "%s/firmware.elf: %s", dir, why);
    }
    r->ram_stack_bound = b.bytes;
    snprintf(r->stack_path, sizeof r->stack_path, "%s", b.path);
    return MF_OK;
}

/* The main firmware's output, parsed once (mf_outputs_from_firmware): accuracy, bit-exactness
 * against expected.bin, instructions and stack into r, and DIR/outputs.csv. */
static int parse_main_output(const char *dir, const char *out, const manifest *mf,
                             const expected *ex, mf_deploy_report *r, mf_error *err)
{
    if (mf->bits != 32 && !mf->has_n_out)
        return mf_error_set(err,
                            "%s/deploy.manifest: no output_n (the output's fractional bits) for "
                            "outputs.csv: regenerate the project",
                            dir);
    if (mf->has_n_out && (mf->n_out < -64 || mf->n_out > 64))
        return mf_error_set(err, "%s/deploy.manifest: output_n %d is outside -64..64", dir,
                            mf->n_out);
    if (!strstr(out, "MF-END ok"))
        return mf_error_set(err, "the firmware did not finish its %d vectors:\n%s", mf->n_vectors,
                            tail(out, 4));
    mf_outputs o;
    if (mf_outputs_from_firmware(out, mf->n_vectors, (int)mf->out_size, mf->bits,
                                 mf->bits == 32 ? 0 : mf->n_out, ex->labels, &o, err))
        return MF_ERR;
    const size_t row = mf->out_size * ex->esz;
    double sum = 0.0;
    r->instr_min = UINT32_MAX;
    for (int v = 0; v < o.n; v++) {
        r->bit_exact +=
            !memcmp((const char *)o.raw + (size_t)v * row, ex->out + (size_t)v * row, row);
        r->input_exact += o.hash[v] == ex->hashes[v];
        if (ex->labels[v] >= 0) {
            r->n_labelled++;
            r->correct += o.pred[v] == ex->labels[v];
        }
        sum += o.icount[v];
        if (o.icount[v] < r->instr_min) r->instr_min = o.icount[v];
        if (o.icount[v] > r->instr_max) r->instr_max = o.icount[v];
        if (o.stack[v] > r->ram_stack_peak) r->ram_stack_peak = o.stack[v];
    }
    r->n_vectors = o.n;
    r->instr_mean = sum / o.n;
    r->bit_exact_share = (double)r->bit_exact / o.n;
    r->accuracy = r->n_labelled ? (double)r->correct / r->n_labelled : -1.0;
    char path[4200];
    snprintf(path, sizeof path, "%s/outputs.csv", dir);
    int rc = mf_outputs_write_csv(&o, path, err);
    mf_outputs_free(&o);
    return rc;
}

/* The profiling firmware's "P" lines: per layer the mean of its counts into layers[k]
 * (n_layers entries); *seen the vectors it printed. */
static int parse_profile_output(const char *out, mf_deploy_layer *layers, int n_layers, int *seen,
                                mf_error *err)
{
    *seen = 0;
    const char *line = out;
    while (line && *line) {
        const char *eol = strchr(line, '\n');
        if (!strncmp(line, "P ", 2)) {
            char *p = (char *)line + 2, *end;
            strtoul(p, &end, 10);
            p = end;
            for (int k = 0; k < n_layers; k++) {
                unsigned long c = strtoul(p, &end, 10);
                if (end == p) return mf_error_set(err, "malformed profile line from the firmware");
                layers[k].instructions += (double)c;
                p = end;
            }
            ++*seen;
        }
        line = eol ? eol + 1 : NULL;
    }
    if (!*seen) return mf_error_set(err, "the profiling firmware printed no per-layer counts");
    for (int k = 0; k < n_layers; k++)
        layers[k].instructions /= *seen;
    return MF_OK;
}

int mf_deploy_flash(const char *dir, int jobs, size_t *bytes, mf_error *err)
{
    size_t text, data, bss;
    if (mf_deploy_make_target(dir, "firmware.elf", jobs, err) ||
        elf_size(dir, "firmware.elf", &text, &data, &bss, err))
        return MF_ERR;
    *bytes = text + data;
    return MF_OK;
}

/* The mean of the "icount N" of the firmware's "V" lines (0 when none). */
static double mean_icount(const char *out)
{
    double sum = 0;
    int n = 0;
    for (const char *at = strstr(out, " icount "); at; at = strstr(at + 1, " icount "))
        sum += strtod(at + 8, NULL), n++;
    return n ? sum / n : 0;
}

int mf_deploy_profile(const char *dir, int timeout_s, int jobs, double **instr, int *n_layers,
                      double *total, mf_error *err)
{
    *instr = NULL;
    *n_layers = 0;
    if (total) *total = 0;
    manifest mf;
    if (read_manifest(dir, &mf, err)) return MF_ERR;
    char *out = NULL;
    int seen, rc = MF_ERR;
    if (mf_deploy_make_target(dir, "firmware_profile.elf", jobs, err) ||
        mf_deploy_run_elf(dir, "firmware_profile.elf", timeout_s, &out, err) ||
        parse_profile_output(out, mf.layers, mf.n_layers, &seen, err))
        goto done;
    *instr = malloc(sizeof **instr * (size_t)mf.n_layers);
    if (!*instr) {
        mf_error_set(err, "out of memory");
        goto done;
    }
    for (int k = 0; k < mf.n_layers; k++)
        (*instr)[k] = mf.layers[k].instructions;
    *n_layers = mf.n_layers;
    if (total) *total = mean_icount(out);
    rc = MF_OK;
done:
    free(out);
    free(mf.layers);
    return rc;
}

void mf_deploy_report_free(mf_deploy_report *r)
{
    if (!r) return;
    free(r->layers);
    r->layers = NULL;
}

int mf_deploy_run(const char *dir, const mf_deploy_run_options *o, mf_deploy_report *r,
                  mf_error *err)
{
    memset(r, 0, sizeof *r);
    int timeout_s = o && o->timeout_s > 0 ? o->timeout_s : 120;
    int jobs = o && o->jobs > 0 ? o->jobs : 2;
    FILE *log = o ? o->log : NULL;
    manifest mf;
    expected ex;
    if (read_manifest(dir, &mf, err)) return MF_ERR;
    if (read_expected(dir, &mf, &ex, err)) {
        free(mf.layers);
        return MF_ERR;
    }
    snprintf(r->dir, sizeof r->dir, "%s", dir);
    snprintf(r->precision, sizeof r->precision, "%s", mf.precision);
    snprintf(r->model_hash, sizeof r->model_hash, "%s", mf.hash);
    snprintf(r->cflags, sizeof r->cflags,
             "-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 %s -ffp-contract=off "
             "-fno-fast-math -ffunction-sections -fdata-sections -Wl,--gc-sections "
             "--specs=nano.specs",
             mf.cflags);
    r->macs = mf.macs;
    r->n_layers = mf.n_layers;
    r->layers = mf.layers;
    mf.layers = NULL;
    r->arena_lower_bound = mf.lower_bound;
    r->ram_arena_scratch = mf.scratch;
    char *out = NULL;
    int rc = MF_ERR, st = 0;
    const char *missing = mf_deploy_missing_tool();
    if (missing) {
        mf_error_set(err,
                     "%s is not installed (not found in PATH): `bash tools/setup.sh` installs "
                     "the firmware toolchain (gcc-arm-none-eabi, libnewlib-arm-none-eabi) and "
                     "qemu-system-arm",
                     missing);
        goto done;
    }
    /* build */
    if (log) fprintf(log, "building %s (make -j%d variants)...\n", dir, jobs), fflush(log);
    char jarg[16];
    snprintf(jarg, sizeof jarg, "-j%d", jobs);
    char *make_argv[] = {"make", "--no-print-directory", jarg, "variants", NULL};
    double t0 = now_s();
    if (run_capture(dir, make_argv, &out, &st, err)) goto done;
    r->build_s = now_s() - t0;
    if (st != 0) {
        char budget[512] = "";
        if (mf_deploy_parse_budget(out, budget, sizeof budget)) {
            /* the variants link in parallel: take the figure from the main firmware alone */
            char *make1[] = {"make", "--no-print-directory", "firmware.elf", NULL};
            char *out1 = NULL;
            int st1 = 0;
            mf_error e1;
            char alone[512];
            if (!run_capture(dir, make1, &out1, &st1, &e1) && st1 != 0 &&
                mf_deploy_parse_budget(out1, alone, sizeof alone))
                snprintf(budget, sizeof budget, "%s", alone);
            free(out1);
        }
        if (budget[0])
            mf_error_set(err, "%s: the firmware does not fit: %s", dir, budget);
        else
            mf_error_set(err, "building %s failed (make exit status %d):\n%s", dir, st,
                         error_lines(out));
        goto done;
    }
    free(out);
    out = NULL;
    /* sizes */
    size_t t, d, b, te, de, be;
    if (elf_size(dir, "firmware.elf", &t, &d, &b, err) ||
        elf_size(dir, "firmware_empty.elf", &te, &de, &be, err) || map_split(dir, r, err))
        goto done;
    r->rom_total = t + d;
    r->flash_empty = te + de;
    r->flash_model = r->rom_total > r->flash_empty ? r->rom_total - r->flash_empty : 0;
    (void)b; /* .bss of arm-none-eabi-size includes the stack reserve: the map gives the rest */
    /* the static stack bound of model_run in the image that runs, against the RAM left */
    if (stack_bound(dir, r, err)) goto done;
    if (r->ram_static_total + r->ram_stack_bound > MF_DEPLOY_RAM_BYTES) {
        mf_error_set(err,
                     "%s: RAM budget (128 KiB = %u bytes) exceeded by %zu bytes: static data %zu "
                     "bytes (the arena %zu of them) + the stack bound of model_run %zu bytes (%s)",
                     dir, MF_DEPLOY_RAM_BYTES,
                     r->ram_static_total + r->ram_stack_bound - MF_DEPLOY_RAM_BYTES,
                     r->ram_static_total, r->ram_arena, r->ram_stack_bound, r->stack_path);
        goto done;
    }
    /* run */
    if (log) fprintf(log, "running %d vectors in QEMU...\n", mf.n_vectors), fflush(log);
    if (run_qemu(dir, "firmware.elf", timeout_s, &out, &r->run_s, err)) goto done;
    if (parse_main_output(dir, out, &mf, &ex, r, err)) goto done;
    if (r->ram_stack_peak > r->ram_stack_bound) {
        mf_error_set(err,
                     "%s: the painted stack peak of model_run, %zu bytes, exceeds its static "
                     "bound of %zu bytes (%s): the bound misses a frame",
                     dir, r->ram_stack_peak, r->ram_stack_bound, r->stack_path);
        goto done;
    }
    free(out);
    out = NULL;
    if (run_qemu(dir, "firmware_profile.elf", timeout_s, &out, &r->profile_s, err)) goto done;
    if (parse_profile_output(out, r->layers, r->n_layers, &r->profile_vectors, err)) goto done;
    free(out);
    out = NULL;
    r->macs_per_instr = r->instr_mean > 0 ? (double)r->macs / r->instr_mean : 0.0;
    char path[4200];
    snprintf(path, sizeof path, "%s/report.json", dir);
    if (mf_deploy_report_write_json(r, path, err)) goto done;
    rc = MF_OK;
done:
    free(out);
    free_expected(&ex);
    free(mf.layers);
    if (rc) mf_deploy_report_free(r);
    return rc;
}

/* ---- output ---- */

static const char *grouped(unsigned long long v, char *buf, size_t size)
{
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%llu", v);
    size_t n = strlen(tmp), j = 0;
    for (size_t i = 0; i < n && j + 2 < size; i++) {
        buf[j++] = tmp[i];
        if ((n - i - 1) % 3 == 0 && i + 1 < n) buf[j++] = ',';
    }
    buf[j] = 0;
    return buf;
}

void mf_deploy_report_print(const mf_deploy_report *r, FILE *f)
{
    char a[32], b[32], c[32], d[32], e[32], g[32], h[32];
    fprintf(f, "on target (QEMU netduinoplus2, Cortex-M4F; %s), %s:\n", r->dir, r->precision);
    fprintf(f, "  flags           %s\n", r->cflags);
    if (r->accuracy >= 0)
        fprintf(f, "  accuracy        %.2f %% (%d / %d vectors)\n", 100.0 * r->accuracy, r->correct,
                r->n_labelled);
    else
        fprintf(f, "  accuracy        - (no labels)\n");
    fprintf(f,
            "  bit-exact       %.2f %% of outputs identical to the host's kernels (%d / %d); "
            "quantized inputs identical %d / %d\n",
            100.0 * r->bit_exact_share, r->bit_exact, r->n_vectors, r->input_exact, r->n_vectors);
    fprintf(f,
            "  instructions    %s per inference (mean; min %s, max %s), %s MACs → %.3f MACs per "
            "instruction\n",
            grouped((unsigned long long)(r->instr_mean + 0.5), a, sizeof a),
            grouped(r->instr_min, b, sizeof b), grouped(r->instr_max, c, sizeof c),
            grouped(r->macs, d, sizeof d), r->macs_per_instr);
    fprintf(f,
            "  per layer (firmware_profile.elf: TIM2 read around every call, mean of %d "
            "vectors):\n",
            r->profile_vectors);
    int wn = 5, wo = 2;
    for (int k = 0; k < r->n_layers; k++) {
        int a1 = (int)strlen(r->layers[k].name), a2 = (int)strlen(r->layers[k].op);
        if (a1 > wn) wn = a1;
        if (a2 > wo) wo = a2;
    }
    fprintf(f, "    %-3s %-*s %-*s %-11s %-11s %10s %12s %9s\n", "#", wn, "layer", wo, "op", "in",
            "out", "MACs", "instructions", "instr/MAC");
    double total = 0.0;
    for (int k = 0; k < r->n_layers; k++) {
        const mf_deploy_layer *L = &r->layers[k];
        total += L->instructions;
        char ipm[16] = "-";
        if (L->macs) snprintf(ipm, sizeof ipm, "%.2f", L->instructions / (double)L->macs);
        fprintf(f, "    %-3d %-*s %-*s %-11s %-11s %10s %12s %9s\n", k, wn, L->name, wo, L->op,
                L->shape_in, L->shape_out, grouped(L->macs, a, sizeof a),
                grouped((unsigned long long)(L->instructions + 0.5), b, sizeof b), ipm);
    }
    fprintf(f, "    sum of layers %s\n", grouped((unsigned long long)(total + 0.5), a, sizeof a));
    int any_variants = 0;
    for (int k = 0; k < r->n_layers; k++)
        any_variants |= r->layers[k].has_variants;
    if (any_variants) {
        fprintf(f, "  weight variants (instructions per inference: measured in QEMU, or the cost "
                   "model's; bytes of the layer's blobs; * runs):\n");
        fprintf(f, "    %-3s %-*s %12s %9s %12s %9s  %s\n", "#", wn, "layer", "dense instr",
                "bytes", "sparse instr", "bytes", "source");
        for (int k = 0; k < r->n_layers; k++) {
            const mf_deploy_layer *L = &r->layers[k];
            if (!L->has_variants) continue;
            fprintf(f, "    %-3d %-*s %11s%s %9s %11s%s %9s  %s\n", k, wn, L->name,
                    grouped((unsigned long long)(L->variant_instr[0] + 0.5), a, sizeof a),
                    L->sparse ? " " : "*", grouped(L->variant_bytes[0], b, sizeof b),
                    grouped((unsigned long long)(L->variant_instr[1] + 0.5), c, sizeof c),
                    L->sparse ? "*" : " ", grouped(L->variant_bytes[1], d, sizeof d),
                    L->measured ? "measured" : "cost model");
        }
    }
    fprintf(f,
            "  flash           firmware %s B = kernels %s + weights %s + model code %s + "
            "input preprocessing %s + harness %s + libc/libgcc/padding %s\n",
            grouped(r->rom_total, a, sizeof a), grouped(r->rom_kernels, b, sizeof b),
            grouped(r->rom_weights, c, sizeof c), grouped(r->rom_model_code, d, sizeof d),
            grouped(r->rom_preprocess, e, sizeof e), grouped(r->rom_harness, g, sizeof g),
            grouped(r->rom_libs, h, sizeof h));
    fprintf(f, "                  (with -flto the kernels are specialised per call site and "
               "may be inlined into model_run: the kernels/model-code split then moves)\n");
    fprintf(f,
            "  flash of model  %s B (firmware − the same firmware without the model, %s B); "
            "without the input preprocessing %s B\n",
            grouped(r->flash_model, a, sizeof a), grouped(r->flash_empty, b, sizeof b),
            grouped(r->flash_model > r->rom_preprocess ? r->flash_model - r->rom_preprocess : 0, c,
                    sizeof c));
    double over = r->arena_lower_bound
                      ? 100.0 * ((double)r->ram_arena - (double)r->arena_lower_bound) /
                            (double)r->arena_lower_bound
                      : 0.0;
    fprintf(f,
            "  RAM             arena %s B (lower bound %s B, %+.1f %%; kernel scratch up to %s B "
            "of it) + peak stack %s B + other static of the model %s B = %s B; static RAM of the "
            "whole firmware %s B\n",
            grouped(r->ram_arena, a, sizeof a), grouped(r->arena_lower_bound, b, sizeof b), over,
            grouped(r->ram_arena_scratch, h, sizeof h), grouped(r->ram_stack_peak, c, sizeof c),
            grouped(r->ram_model_other, d, sizeof d),
            grouped(r->ram_arena + r->ram_stack_peak + r->ram_model_other, e, sizeof e),
            grouped(r->ram_static_total, g, sizeof g));
    fprintf(f, "  stack bound     %s B (static, from the disassembly: %s)\n",
            grouped(r->ram_stack_bound, a, sizeof a), r->stack_path);
    fprintf(f,
            "  time            build %.1f s, QEMU run %.2f s (%d vectors), profiling run %.2f s\n",
            r->build_s, r->run_s, r->n_vectors, r->profile_s);
}

static void json_str(mf_sb *b, const char *s)
{
    mf_sb_append(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            mf_sb_printf(b, "\\%c", c);
        else if (c < 0x20)
            mf_sb_printf(b, "\\u%04x", c);
        else
            mf_sb_append(b, s, 1);
    }
    mf_sb_append(b, "\"", 1);
}

int mf_deploy_report_write_json(const mf_deploy_report *r, const char *path, mf_error *err)
{
    mf_sb b = {0};
    char acc[32] = "null";
    if (r->accuracy >= 0) snprintf(acc, sizeof acc, "%.6f", r->accuracy);
    mf_sb_printf(&b, "{\n  \"schema_version\": %d,\n  \"dir\": ", MF_DEPLOY_REPORT_SCHEMA);
    json_str(&b, r->dir);
    mf_sb_printf(&b, ",\n  \"precision\": ");
    json_str(&b, r->precision);
    mf_sb_printf(&b, ",\n  \"model_hash\": ");
    json_str(&b, r->model_hash);
    mf_sb_printf(&b, ",\n  \"cflags\": ");
    json_str(&b, r->cflags);
    mf_sb_printf(&b,
                 ",\n  \"target\": \"qemu-system-arm 7.2 netduinoplus2 (STM32F405, Cortex-M4F), "
                 "-icount shift=0,sleep=off\",\n"
                 "  \"vectors\": %d,\n  \"labelled\": %d,\n  \"correct\": %d,\n"
                 "  \"accuracy\": %s,\n  \"bit_exact\": %d,\n  \"bit_exact_share\": %.6f,\n"
                 "  \"input_exact\": %d,\n"
                 "  \"instructions\": {\"mean\": %.1f, \"min\": %u, \"max\": %u},\n"
                 "  \"macs\": %llu,\n  \"macs_per_instruction\": %.6f,\n",
                 r->n_vectors, r->n_labelled, r->correct, acc, r->bit_exact, r->bit_exact_share,
                 r->input_exact, r->instr_mean, r->instr_min, r->instr_max,
                 (unsigned long long)r->macs, r->macs_per_instr);
    mf_sb_printf(&b, "  \"layers\": [\n");
    for (int k = 0; k < r->n_layers; k++) {
        const mf_deploy_layer *L = &r->layers[k];
        mf_sb_printf(&b, "    {\"name\": ");
        json_str(&b, L->name);
        mf_sb_printf(&b, ", \"op\": ");
        json_str(&b, L->op);
        mf_sb_printf(&b, ", \"in\": ");
        json_str(&b, L->shape_in);
        mf_sb_printf(&b, ", \"out\": ");
        json_str(&b, L->shape_out);
        mf_sb_printf(&b, ", \"macs\": %llu, \"instructions\": %.1f", (unsigned long long)L->macs,
                     L->instructions);
        if (L->has_variants)
            mf_sb_printf(&b,
                         ", \"variants\": {\"chosen\": \"%s\", \"source\": \"%s\", \"dense\": "
                         "{\"instructions\": %.1f, \"bytes\": %zu}, \"sparse\": {\"instructions\": "
                         "%.1f, \"bytes\": %zu}}",
                         L->sparse ? "sparse" : "dense", L->measured ? "measured" : "cost model",
                         L->variant_instr[0], L->variant_bytes[0], L->variant_instr[1],
                         L->variant_bytes[1]);
        mf_sb_printf(&b, "}%s\n", k + 1 < r->n_layers ? "," : "");
    }
    mf_sb_printf(&b,
                 "  ],\n  \"profile_vectors\": %d,\n"
                 "  \"rom\": {\"total\": %zu, \"kernels\": %zu, \"weights\": %zu, \"model_code\": "
                 "%zu, \"input_preprocessing\": %zu, \"harness\": %zu, \"libs_and_padding\": "
                 "%zu},\n"
                 "  \"flash_model\": %zu,\n  \"flash_empty_firmware\": %zu,\n"
                 "  \"ram\": {\"arena\": %zu, \"arena_lower_bound\": %zu, \"arena_scratch\": "
                 "%zu, \"stack_peak\": %zu, \"stack_bound\": %zu, \"model_other_static\": %zu, "
                 "\"model_total\": %zu, \"firmware_static\": %zu},\n"
                 "  \"seconds\": {\"build\": %.3f, \"run\": %.3f, \"profile_run\": %.3f}\n}\n",
                 r->profile_vectors, r->rom_total, r->rom_kernels, r->rom_weights,
                 r->rom_model_code, r->rom_preprocess, r->rom_harness, r->rom_libs, r->flash_model,
                 r->flash_empty, r->ram_arena, r->arena_lower_bound, r->ram_arena_scratch,
                 r->ram_stack_peak, r->ram_stack_bound, r->ram_model_other,
                 r->ram_arena + r->ram_stack_peak + r->ram_model_other, r->ram_static_total,
                 r->build_s, r->run_s, r->profile_s);
    if (b.oom) {
        mf_sb_free(&b);
        return mf_error_set(err, "out of memory writing %s", path);
    }
    int rc = mf_file_write_bytes(path, b.p, b.len, err);
    mf_sb_free(&b);
    return rc;
}

/* ---- single steps, for other runners (mcuforge compare) ---- */

int mf_deploy_make_target(const char *dir, const char *target, int jobs, mf_error *err)
{
    return mf_deploy_make_args(dir, target, NULL, jobs, err);
}

int mf_deploy_make_args(const char *dir, const char *target, const char *const *args, int jobs,
                        mf_error *err)
{
    const char *missing = mf_deploy_missing_tool();
    if (missing)
        return mf_error_set(err,
                            "%s is not installed (not found in PATH): `bash tools/setup.sh` "
                            "installs the firmware toolchain and qemu-system-arm",
                            missing);
    char jarg[16], *out = NULL;
    snprintf(jarg, sizeof jarg, "-j%d", jobs > 0 ? jobs : 2);
    enum { MAX_ARGS = 16 };
    char *argv[MAX_ARGS + 5] = {"make", "--no-print-directory", jarg};
    int n = 3;
    for (int i = 0; args && args[i]; i++) {
        if (i == MAX_ARGS)
            return mf_error_set(err, "make in %s: more than %d arguments", dir, MAX_ARGS);
        argv[n++] = (char *)args[i];
    }
    argv[n++] = (char *)target;
    argv[n] = NULL;
    int st = 0;
    if (run_capture(dir, argv, &out, &st, err)) return MF_ERR;
    int rc = MF_OK;
    if (st != 0)
        rc = mf_error_set(err, "building %s in %s failed (make exit status %d):\n%s", target, dir,
                          st, error_lines(out));
    free(out);
    return rc;
}

int mf_deploy_run_elf(const char *dir, const char *elf, int timeout_s, char **out, mf_error *err)
{
    double secs;
    *out = NULL;
    if (run_qemu(dir, elf, timeout_s > 0 ? timeout_s : 120, out, &secs, err)) {
        free(*out);
        *out = NULL;
        return MF_ERR;
    }
    return MF_OK;
}
