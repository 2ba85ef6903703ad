/* core's file helpers (core/mf_fileio.h, core/mf_h5.h): atomic writes and what a failed one
 * leaves behind, the plain-or-gzip lookup and its preference, FNV-1a against published vectors,
 * and the checked HDF5 reads with their messages (file, object path, expected vs found). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "mf_fileio.h"
#include "mf_h5.h"
#include "testutil.h"

/* The whole file as a NUL-terminated string (malloc'ed). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = calloc(1, 1 << 16);
    assert_non_null(buf);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void assert_file(const char *path, const char *text)
{
    char *got = slurp(path);
    assert_string_equal(got, text);
    free(got);
}

static void assert_contains(const char *text, const char *part)
{
    if (!strstr(text, part)) fail_msg("'%s' does not contain '%s'", text, part);
}

static const char *join(const char *dir, const char *name)
{
    static char path[2][1400];
    static int k;
    k ^= 1;
    snprintf(path[k], sizeof path[k], "%s/%s", dir, name);
    return path[k];
}

/* ---- atomic writes ---- */

static void test_write_bytes(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("fileio_bytes");
    char path[2200];
    snprintf(path, sizeof path, "%s", join(dir, "a.bin"));
    mf_error err;
    mf_error_clear(&err);
    assert_int_equal(mf_file_write_bytes(path, "hello", 5, &err), MF_OK);
    assert_file(path, "hello");
    assert_int_equal(tu_count_entries(dir), 1); /* no temporary file left */
    /* replacing, and an empty file */
    assert_int_equal(mf_file_write_bytes(path, "bye", 3, &err), MF_OK);
    assert_file(path, "bye");
    assert_int_equal(mf_file_write_bytes(path, NULL, 0, &err), MF_OK);
    assert_file(path, "");
    assert_int_equal(tu_count_entries(dir), 1);
    /* a file in the current folder (no '/' in the name) */
    char cwd[2048];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(dir), 0);
    assert_int_equal(mf_file_write_bytes("b.bin", "x", 1, &err), MF_OK);
    assert_int_equal(chdir(cwd), 0);
    assert_file(join(dir, "b.bin"), "x");
}

static void test_write_errors(void **state)
{
    (void)state;
    const char *d = tu_tmpdir("fileio_errors");
    char dir[1100], path[2300];
    snprintf(dir, sizeof dir, "%s", d);
    snprintf(path, sizeof path, "%s/ro/out.txt", dir);
    mf_error err;

    /* a folder nobody may write to: the error names the file and the OS error, and nothing
     * (neither the file nor a temporary one) is created */
    char ro[2300];
    snprintf(ro, sizeof ro, "%s/ro", dir);
    assert_int_equal(mkdir(ro, 0755), 0);
    assert_int_equal(chmod(ro, 0555), 0);
    if (access(ro, W_OK) != 0) {
        mf_error_clear(&err);
        assert_int_equal(mf_file_write_bytes(path, "data", 4, &err), MF_ERR);
        assert_string_equal(err.file, path);
        assert_contains(err.message, "out.txt");
        assert_contains(err.message, strerror(EACCES));
        assert_int_equal(tu_count_entries(ro), 0);
    }
    assert_int_equal(chmod(ro, 0755), 0);
    /* root writes into any folder of an ordinary file system, but not into /proc */
    mf_error_clear(&err);
    assert_int_equal(mf_file_write_bytes("/proc/mcuforge-test.txt", "data", 4, &err), MF_ERR);
    assert_string_equal(err.file, "/proc/mcuforge-test.txt");
    assert_contains(err.message, "cannot create the temporary file '/proc/mcuforge-test.txt.tmp.");
    assert_int_equal(access("/proc/mcuforge-test.txt", F_OK), -1);

    /* a folder that does not exist */
    snprintf(path, sizeof path, "%s/no/such/folder/out.txt", dir);
    mf_error_clear(&err);
    assert_int_equal(mf_file_write_bytes(path, "data", 4, &err), MF_ERR);
    assert_string_equal(err.file, path);
    assert_contains(err.message, "cannot create");
    assert_contains(err.message, "out.txt");
    assert_contains(err.message, strerror(ENOENT));

    /* a folder that is a file */
    tu_write_file(dir, "plain", "x");
    snprintf(path, sizeof path, "%s/plain/out.txt", dir);
    mf_error_clear(&err);
    assert_int_equal(mf_file_write_bytes(path, "data", 4, &err), MF_ERR);
    assert_string_equal(err.file, path);
    assert_contains(err.message, strerror(ENOTDIR));

    /* the name is taken by a folder: the rename fails, the temporary file is removed */
    snprintf(path, sizeof path, "%s/taken", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    int before = tu_count_entries(dir);
    mf_error_clear(&err);
    assert_int_equal(mf_file_write_bytes(path, "data", 4, &err), MF_ERR);
    assert_string_equal(err.file, path);
    assert_contains(err.message, "cannot rename");
    assert_contains(err.message, strerror(EISDIR));
    assert_int_equal(tu_count_entries(dir), before);
    assert_int_equal(tu_count_entries(path), 0);

    /* no name */
    assert_int_equal(mf_file_write_bytes("", "x", 1, &err), MF_ERR);
    assert_int_equal(mf_file_write_bytes(NULL, "x", 1, &err), MF_ERR);
}

/* Writes half the content, then fails (a writer that runs into trouble half-way). */
static int fill_half(const char *tmp, void *ctx, mf_error *err)
{
    (void)ctx;
    FILE *f = fopen(tmp, "wb");
    if (!f) return mf_error_set(err, "cannot create %s", tmp);
    fputs("half", f);
    fclose(f);
    return mf_error_set(err, "the writer gave up");
}

/* This host's name as temporary file names carry it (letters, digits, '-', '_'; others '_'). */
static const char *host(void)
{
    static char name[300];
    char h[256] = {0};
    if (gethostname(h, sizeof h - 1) != 0) snprintf(h, sizeof h, "localhost");
    size_t n = 0;
    for (const char *c = h; *c && n < 64; c++)
        name[n++] = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                            (*c >= '0' && *c <= '9') || *c == '-' || *c == '_'
                        ? *c
                        : '_';
    name[n] = 0;
    if (!n) snprintf(name, sizeof name, "localhost");
    return name;
}

typedef struct seen {
    char tmp[2400];
} seen;

static int fill_record(const char *tmp, void *ctx, mf_error *err)
{
    seen *s = ctx;
    snprintf(s->tmp, sizeof s->tmp, "%s", tmp);
    FILE *f = fopen(tmp, "wb");
    if (!f) return mf_error_set(err, "cannot create %s", tmp);
    fputs("new", f);
    fclose(f);
    return MF_OK;
}

static void test_write_through_fill(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("fileio_fill");
    char path[2200];
    snprintf(path, sizeof path, "%s", tu_write_file(dir, "model.h5", "old"));
    mf_error err;

    /* the writer's own error, with the file filled in; the old file is kept, no temp left */
    mf_error_clear(&err);
    assert_int_equal(mf_file_write_atomic(path, fill_half, NULL, &err), MF_ERR);
    assert_string_equal(err.message, "the writer gave up");
    assert_string_equal(err.file, path);
    assert_file(path, "old");
    assert_int_equal(tu_count_entries(dir), 1);

    /* the temporary file is in the same folder, named after the file, this host and process */
    seen s = {{0}};
    assert_int_equal(mf_file_write_atomic(path, fill_record, &s, &err), MF_OK);
    char want[2400];
    snprintf(want, sizeof want, "%s.tmp.%s.%ld", path, host(), (long)getpid());
    assert_string_equal(s.tmp, want);
    assert_file(path, "new");
    assert_int_equal(tu_count_entries(dir), 1);
}

static int print_rows(FILE *f, void *ctx, mf_error *err)
{
    (void)err;
    int n = *(const int *)ctx;
    for (int i = 0; i < n; i++)
        fprintf(f, "%d,%d\n", i, i * i);
    return MF_OK;
}

static int print_fail(FILE *f, void *ctx, mf_error *err)
{
    (void)ctx;
    fprintf(f, "partial\n");
    return mf_error_set(err, "no more rows");
}

static void test_write_text(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("fileio_text");
    char path[2200];
    snprintf(path, sizeof path, "%s", join(dir, "rows.csv"));
    mf_error err;
    int n = 3;
    assert_int_equal(mf_file_write_text(path, print_rows, &n, &err), MF_OK);
    assert_file(path, "0,0\n1,1\n2,4\n");
    mf_error_clear(&err);
    assert_int_equal(mf_file_write_text(path, print_fail, NULL, &err), MF_ERR);
    assert_string_equal(err.message, "no more rows");
    assert_string_equal(err.file, path);
    assert_file(path, "0,0\n1,1\n2,4\n");
    assert_int_equal(tu_count_entries(dir), 1);
}

/* ---- files and the plain-or-gzip lookup ---- */

static void test_find_gz(void **state)
{
    (void)state;
    const char *d = tu_tmpdir("fileio_gz");
    char dir[1100], base[2300], out[2400];
    snprintf(dir, sizeof dir, "%s", d);
    snprintf(base, sizeof base, "%s/data.txt", dir);

    /* neither: 0, out holds the base name */
    assert_int_equal(mf_file_find_gz(base, out, sizeof out), 0);
    assert_string_equal(out, base);
    /* only the compressed file */
    tu_write_file(dir, "data.txt.gz", "z");
    assert_int_equal(mf_file_find_gz(base, out, sizeof out), 1);
    assert_string_equal(out, join(dir, "data.txt.gz"));
    /* both: the plain file wins */
    tu_write_file(dir, "data.txt", "p");
    assert_int_equal(mf_file_find_gz(base, out, sizeof out), 1);
    assert_string_equal(out, base);
    /* only the plain file */
    assert_int_equal(remove(join(dir, "data.txt.gz")), 0);
    assert_int_equal(mf_file_find_gz(base, out, sizeof out), 1);
    assert_string_equal(out, base);
    /* a folder of that name does not count */
    snprintf(base, sizeof base, "%s/sub", dir);
    assert_int_equal(mkdir(base, 0755), 0);
    assert_int_equal(mf_file_find_gz(base, out, sizeof out), 0);
    /* a name that does not fit */
    snprintf(base, sizeof base, "%s/data.txt", dir);
    assert_int_equal(mf_file_find_gz(base, out, 8), 0);
    assert_int_equal(strlen(out), 7);
    /* room for the name but not for ".gz": the plain file is still found */
    assert_int_equal(mf_file_find_gz(base, out, strlen(base) + 1), 1);

    /* the required form: an error naming both names and the folder */
    mf_error err;
    assert_int_equal(mf_file_need_gz(dir, "data.txt", "TEST", out, sizeof out, &err), MF_OK);
    assert_string_equal(out, base);
    mf_error_clear(&err);
    assert_int_equal(mf_file_need_gz(dir, "none.idx", "TEST", out, sizeof out, &err), MF_ERR);
    char want[2600];
    snprintf(want, sizeof want, "TEST: neither 'none.idx' nor 'none.idx.gz' found in '%s'", dir);
    assert_string_equal(err.message, want);
    assert_string_equal(err.file, join(dir, "none.idx"));
    tu_write_file(dir, "only.idx.gz", "z");
    assert_int_equal(mf_file_need_gz(dir, "only.idx", "TEST", out, sizeof out, &err), MF_OK);
    assert_string_equal(out, join(dir, "only.idx.gz"));
    assert_int_equal(mf_file_need_gz(dir, "only.idx", "TEST", out, 10, &err), MF_ERR);
    assert_contains(err.message, "too long");
}

static void test_regular_files(void **state)
{
    (void)state;
    const char *d = tu_tmpdir("fileio_regular");
    char dir[1100];
    snprintf(dir, sizeof dir, "%s", d);
    const char *file = tu_write_file(dir, "f", "x");
    assert_int_equal(mf_file_is_regular(file), 1);
    assert_int_equal(mf_file_is_dir(file), 0);
    assert_int_equal(mf_file_is_regular(dir), 0);
    assert_int_equal(mf_file_is_dir(dir), 1);
    assert_int_equal(mf_file_is_regular(NULL), 0);
    assert_int_equal(mf_file_is_dir(NULL), 0);
    mf_error err;
    assert_int_equal(mf_file_check_regular(join(dir, "f"), &err), MF_OK);
    assert_int_equal(mf_file_check_regular(dir, &err), MF_ERR);
    assert_contains(err.message, "is not a regular file");
    assert_string_equal(err.file, dir);
    const char *none = join(dir, "none");
    assert_int_equal(mf_file_check_regular(none, &err), MF_ERR);
    assert_contains(err.message, strerror(ENOENT));
    assert_string_equal(err.file, none);
}

/* mkdir -p: nested folders, an existing folder, a file in the way. */
static void test_make_dirs(void **state)
{
    (void)state;
    const char *d = tu_tmpdir("fileio_dirs");
    char dir[1100], deep[1200];
    snprintf(dir, sizeof dir, "%s", d);
    snprintf(deep, sizeof deep, "%s/a/b/c", dir);
    mf_error err;
    assert_int_equal(mf_file_make_dirs(deep, &err), MF_OK);
    assert_int_equal(mf_file_is_dir(deep), 1);
    assert_int_equal(mf_file_make_dirs(deep, &err), MF_OK); /* already there */
    tu_write_file(dir, "plain", "x");
    snprintf(deep, sizeof deep, "%s/plain", dir);
    assert_int_equal(mf_file_make_dirs(deep, &err), MF_ERR);
    assert_contains(err.message, "is not a folder");
    snprintf(deep, sizeof deep, "%s/plain/sub", dir);
    assert_int_equal(mf_file_make_dirs(deep, &err), MF_ERR);
    assert_contains(err.message, "plain");
}

/* A PID that no process has: a child that has exited and been waited for. */
static long dead_pid(void)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) _exit(0);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_int_equal(kill(pid, 0), -1); /* gone (ESRCH) */
    return (long)pid;
}

/* SIGKILL during a write leaves "<file>.tmp.<host>.<pid>": the next write of that file removes
 * the temporaries of its own host whose process is gone, and keeps those of live processes,
 * of other hosts and of other files. */
static void test_stale_temporaries_removed(void **state)
{
    (void)state;
    const char *d = tu_tmpdir("fileio_stale");
    char dir[1000], name[300];
    snprintf(dir, sizeof dir, "%s", d);
    long dead = dead_pid(), live = (long)getppid();
    snprintf(name, sizeof name, "cache.h5.tmp.%s.%ld", host(), dead);
    tu_write_file(dir, name, "half-written by a killed process");
    char live_name[300], other_host[300], other_file[300], own[300];
    snprintf(live_name, sizeof live_name, "cache.h5.tmp.%s.%ld", host(), live);
    tu_write_file(dir, live_name, "being written");
    snprintf(other_host, sizeof other_host, "cache.h5.tmp.%s-elsewhere.%ld", host(), dead);
    tu_write_file(dir, other_host, "another machine's");
    snprintf(other_file, sizeof other_file, "other.h5.tmp.%s.%ld", host(), dead);
    tu_write_file(dir, other_file, "another file's");
    snprintf(own, sizeof own, "cache.h5.tmp.%s.%ldx", host(), dead);
    tu_write_file(dir, own, "not a pid");
    char path[1400];
    snprintf(path, sizeof path, "%s/cache.h5", dir);
    mf_error err;
    assert_int_equal(mf_file_write_bytes(path, "complete", 8, &err), MF_OK);
    assert_file(path, "complete");
    assert_int_equal(access(join(dir, name), F_OK), -1);
    assert_int_equal(access(join(dir, live_name), F_OK), 0);
    assert_int_equal(access(join(dir, other_host), F_OK), 0);
    assert_int_equal(access(join(dir, other_file), F_OK), 0);
    assert_int_equal(access(join(dir, own), F_OK), 0);
    assert_int_equal(tu_count_entries(dir), 5);
}

/* Two processes write one file at once, again and again: every write succeeds (neither removes
 * the other's temporary file) and the file is always one of the two complete contents. */
static void test_concurrent_writers(void **state)
{
    (void)state;
    const char *d = tu_tmpdir("fileio_concurrent");
    char path[1400];
    snprintf(path, sizeof path, "%s/shared.bin", d);
    enum { SIZE = 256 * 1024, ROUNDS = 60 };
    pid_t pids[2];
    for (int w = 0; w < 2; w++) {
        pids[w] = fork();
        assert_true(pids[w] >= 0);
        if (pids[w] == 0) {
            char *buf = malloc(SIZE);
            if (!buf) _exit(3);
            memset(buf, w ? 'B' : 'A', SIZE);
            for (int r = 0; r < ROUNDS; r++) {
                mf_error err;
                if (mf_file_write_bytes(path, buf, SIZE, &err) != MF_OK) {
                    fprintf(stderr, "writer %d, round %d: %s\n", w, r, err.message);
                    _exit(1);
                }
            }
            free(buf);
            _exit(0);
        }
    }
    for (int w = 0; w < 2; w++) {
        int st;
        assert_int_equal(waitpid(pids[w], &st, 0), pids[w]);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
    }
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = malloc(SIZE + 1);
    size_t n = fread(buf, 1, SIZE + 1, f);
    fclose(f);
    assert_int_equal(n, SIZE);
    for (size_t i = 1; i < n; i++)
        if (buf[i] != buf[0]) fail_msg("mixed content at byte %zu", i);
    assert_true(buf[0] == 'A' || buf[0] == 'B');
    free(buf);
    assert_int_equal(tu_count_entries(d), 1);
}

/* Folder replacement (deploy's output folder): into a missing name, over an existing folder
 * (the old content goes), and the tree removal never follows a symbolic link out of the tree. */
static void test_replace_dir(void **state)
{
    (void)state;
    const char *d = tu_tmpdir("fileio_replace");
    char root[1100], tmp[1200], dir[1200], sub[1300], outside[1200], link[1400];
    snprintf(root, sizeof root, "%s", d);
    snprintf(tmp, sizeof tmp, "%s/.new", root);
    snprintf(dir, sizeof dir, "%s/dir", root);
    snprintf(outside, sizeof outside, "%s/outside", root);
    mf_error err;
    assert_int_equal(mkdir(tmp, 0777), 0);
    tu_write_file(tmp, "a", "first");
    assert_int_equal(mf_file_replace_dir(tmp, dir, &err), MF_OK);
    assert_file(join(dir, "a"), "first");
    assert_int_equal(tu_count_entries(root), 1);
    /* the old folder has a sub-folder and a link to a folder outside it */
    snprintf(sub, sizeof sub, "%s/sub", dir);
    assert_int_equal(mkdir(sub, 0777), 0);
    tu_write_file(sub, "b", "old");
    assert_int_equal(mkdir(outside, 0777), 0);
    tu_write_file(outside, "keep", "kept");
    snprintf(link, sizeof link, "%s/link", sub);
    assert_int_equal(symlink(outside, link), 0);
    assert_int_equal(mkdir(tmp, 0777), 0);
    tu_write_file(tmp, "c", "second");
    assert_int_equal(mf_file_replace_dir(tmp, dir, &err), MF_OK);
    assert_file(join(dir, "c"), "second");
    assert_int_equal(tu_count_entries(dir), 1);
    assert_file(join(outside, "keep"), "kept");
    assert_int_equal(tu_count_entries(root), 2); /* dir, outside: nothing left beside them */
    /* remove_tree: a missing path is fine; a folder goes with its content */
    assert_int_equal(mf_file_remove_tree(tmp, &err), MF_OK);
    assert_int_equal(mf_file_remove_tree(dir, &err), MF_OK);
    assert_int_equal(mf_file_is_dir(dir), 0);
    assert_int_equal(tu_count_entries(root), 1);
}

/* PATH lookup: a tool every system has, and one nobody has. */
static void test_in_path(void **state)
{
    (void)state;
    assert_int_equal(mf_file_in_path("sh"), 1);
    assert_int_equal(mf_file_in_path("mcuforge-no-such-tool"), 0);
}

/* ---- FNV-1a ---- */

static void test_fnv1a(void **state)
{
    (void)state;
    /* published test vectors (Fowler, Noll, Vo: FNV-1a) */
    static const struct {
        const char *s;
        uint32_t h32;
        uint64_t h64;
    } v[] = {
        {"", 0x811c9dc5u, 0xcbf29ce484222325ull},
        {"a", 0xe40c292cu, 0xaf63dc4c8601ec8cull},
        {"foobar", 0xbf9cf968u, 0x85944171f73967e8ull},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        assert_int_equal(mf_hash_fnv1a32(MF_FNV1A32_INIT, v[i].s, strlen(v[i].s)), v[i].h32);
        assert_true(mf_hash_fnv1a64(MF_FNV1A64_INIT, v[i].s, strlen(v[i].s)) == v[i].h64);
    }
    /* hashing in pieces is hashing the whole */
    uint32_t h32 = mf_hash_fnv1a32(MF_FNV1A32_INIT, "foo", 3);
    assert_int_equal(mf_hash_fnv1a32(h32, "bar", 3), 0xbf9cf968u);
    uint64_t h64 = mf_hash_fnv1a64(MF_FNV1A64_INIT, "foo", 3);
    assert_true(mf_hash_fnv1a64(h64, "bar", 3) == 0x85944171f73967e8ull);
    /* bytes, not characters: a NUL counts */
    assert_true(mf_hash_fnv1a32(MF_FNV1A32_INIT, "a\0", 2) !=
                mf_hash_fnv1a32(MF_FNV1A32_INIT, "a", 1));
}

/* ---- HDF5 ---- */

static hsize_t open_ids(void)
{
    return (hsize_t)H5Fget_obj_count((hid_t)H5F_OBJ_ALL, H5F_OBJ_ALL);
}

/* A file with one of everything, written the way modules write theirs. */
static const float fx_x[2][3] = {{1, 2, 3}, {4, 5, 6}};
static const int8_t fx_q[4] = {-128, -1, 0, 127};

static int write_fixture(mf_h5 *h, void *ctx)
{
    (void)ctx;
    hid_t f = h->file;
    int32_t shape[3] = {4, 5, 6};
    const char *names[2] = {"left", "right, with a comma"};
    hsize_t dx[2] = {2, 3}, dq[1] = {4};
    int rc = mf_h5_attr_write_int(h, f, "/", "version", 7) ||
             mf_h5_attr_write_float(h, f, "/", "rate", 0.25f) ||
             mf_h5_attr_write_str(h, f, "/", "kind", "test") ||
             mf_h5_attr_write(h, f, "/", "shape", MF_H5_I32, 3, shape) ||
             mf_h5_attr_write_strs(h, f, "/", "names", names, 2);
    hid_t g = rc ? -1 : mf_h5_group_create(h, f, "g", "/g");
    rc = rc || g < 0 || mf_h5_dataset_write(h, g, "x", "/g/x", MF_H5_F32, 2, dx, fx_x) ||
         mf_h5_dataset_write(h, g, "q", "/g/q", MF_H5_I8, 1, dq, fx_q) ||
         mf_h5_attr_write_int(h, g, "/g", "n", 3);
    if (g >= 0) H5Gclose(g);
    return rc ? MF_ERR : MF_OK;
}

static const char *h5_fixture_file(const char *dir)
{
    static char path[2200];
    snprintf(path, sizeof path, "%s/fx.h5", dir);
    mf_error err;
    if (mf_h5_write_atomic(path, write_fixture, NULL, &err)) fail_msg("%s", err.message);
    return path;
}

static void test_h5_round_trip(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir("fileio_h5");
    hsize_t ids = open_ids();
    const char *path = h5_fixture_file(dir);
    assert_int_equal(tu_count_entries(dir), 1);
    assert_int_equal(open_ids(), ids);

    H5E_auto2_t before_func, after_func;
    void *before_data, *after_data;
    H5Eget_auto2(H5E_DEFAULT, &before_func, &before_data);
    mf_error err;
    mf_h5 h;
    assert_int_equal(mf_h5_open(&h, path, 0, "a test file", &err), MF_OK);
    hid_t f = h.file;
    int v = 0;
    float r = 0;
    char kind[8];
    long long shape[4];
    size_t n = 0;
    char **names = NULL;
    assert_int_equal(mf_h5_attr_read_int(&h, f, "/", "version", 0, 10, &v), MF_OK);
    assert_int_equal(v, 7);
    assert_int_equal(mf_h5_attr_read_float(&h, f, "/", "rate", &r), MF_OK);
    assert_true(r == 0.25f);
    assert_int_equal(mf_h5_attr_read_str(&h, f, "/", "kind", kind, sizeof kind), MF_OK);
    assert_string_equal(kind, "test");
    assert_int_equal(mf_h5_attr_read_ints(&h, f, "/", "shape", 1, 4, 1, 10, shape, &n), MF_OK);
    assert_int_equal(n, 3);
    assert_true(shape[0] == 4 && shape[1] == 5 && shape[2] == 6);
    assert_int_equal(mf_h5_attr_read_strs(&h, f, "/", "names", 2, 2, 63, &names, &n), MF_OK);
    assert_string_equal(names[1], "right, with a comma");
    mf_h5_strs_free(names, n);
    assert_int_equal(mf_h5_attr_exists(&h, f, "/", "kind"), 1);
    assert_int_equal(mf_h5_attr_exists(&h, f, "/", "nope"), 0);
    assert_int_equal(mf_h5_exists(&h, f, "/", "g"), 1);
    assert_int_equal(mf_h5_exists(&h, f, "/", "nope"), 0);

    hid_t g = mf_h5_group_open(&h, f, "g", "/g");
    assert_true(g >= 0);
    float x[2][3];
    int8_t q[4];
    int rank = 0;
    hsize_t dims[4], dx[2] = {2, 3}, dq[1] = {4};
    assert_int_equal(mf_h5_dataset_shape(&h, g, "x", "/g/x", 2, &rank, dims), MF_OK);
    assert_int_equal(rank, 2);
    assert_true(dims[0] == 2 && dims[1] == 3);
    assert_int_equal(mf_h5_dataset_read(&h, g, "x", "/g/x", MF_H5_F32, 2, dx, x), MF_OK);
    assert_memory_equal(x, fx_x, sizeof x);
    assert_int_equal(mf_h5_dataset_read(&h, g, "q", "/g/q", MF_H5_I8, 1, dq, q), MF_OK);
    assert_memory_equal(q, fx_q, sizeof q);
    H5Oclose(g);
    assert_int_equal(mf_h5_close(&h, MF_OK), MF_OK);
    assert_int_equal(mf_h5_close(&h, MF_OK), MF_OK); /* twice is harmless */
    assert_int_equal(open_ids(), ids);
    /* HDF5's error printing is back as it was */
    H5Eget_auto2(H5E_DEFAULT, &after_func, &after_data);
    assert_true(after_func == before_func && after_data == before_data);
}

/* One failing read: the error names the file, the object path and the message part. */
#define EXPECT_FAIL(call, want_field, want_msg)                                                    \
    do {                                                                                           \
        mf_error_clear(&err);                                                                      \
        assert_int_equal((call), MF_ERR);                                                          \
        assert_string_equal(err.file, path);                                                       \
        assert_string_equal(err.field, (want_field));                                              \
        assert_contains(err.message, (want_msg));                                                  \
    } while (0)

static void test_h5_errors(void **state)
{
    (void)state;
    const char *d = tu_tmpdir("fileio_h5_errors");
    char dir[1100], path[2300];
    snprintf(dir, sizeof dir, "%s", d);
    snprintf(path, sizeof path, "%s", h5_fixture_file(dir));
    /* an unsigned dataset beside the signed one */
    hid_t raw = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    hsize_t four = 4;
    hid_t sp = H5Screate_simple(1, &four, NULL);
    hid_t ds = H5Dcreate2(raw, "/g/u", H5T_STD_U8LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(ds, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, fx_q);
    H5Dclose(ds);
    H5Sclose(sp);
    H5Fclose(raw);

    hsize_t ids = open_ids();
    mf_error err;
    mf_h5 h;
    assert_int_equal(mf_h5_open(&h, path, 0, "a test file", &err), MF_OK);
    hid_t f = h.file;
    hid_t g = mf_h5_group_open(&h, f, "g", "/g");
    assert_true(g >= 0);
    float x[16];
    int v;
    long long ll[4];
    char buf[4];
    char **strs = NULL;
    size_t n = 0;
    hsize_t d6[1] = {6}, d24[2] = {2, 4}, d23[2] = {2, 3}, d4[1] = {4};

    /* datasets: type, rank, shape, kind of object, missing */
    EXPECT_FAIL(mf_h5_dataset_read(&h, g, "x", "/g/x", MF_H5_I16, 2, d23, x), "/g/x",
                "expected int16 data, found float32");
    EXPECT_FAIL(mf_h5_dataset_read(&h, g, "q", "/g/q", MF_H5_F32, 1, d4, x), "/g/q",
                "expected float32 data, found int8");
    EXPECT_FAIL(mf_h5_dataset_read(&h, g, "q", "/g/q", MF_H5_I16, 1, d4, x), "/g/q",
                "expected int16 data, found int8");
    EXPECT_FAIL(mf_h5_dataset_read(&h, g, "u", "/g/u", MF_H5_I8, 1, d4, x), "/g/u",
                "expected int8 data, found uint8");
    EXPECT_FAIL(mf_h5_dataset_read(&h, g, "x", "/g/x", MF_H5_F32, 1, d6, x), "/g/x",
                "expected shape 6, found 2x3");
    assert_string_equal(err.message, "expected shape 6, found 2x3");
    EXPECT_FAIL(mf_h5_dataset_read(&h, g, "x", "/g/x", MF_H5_F32, 2, d24, x), "/g/x",
                "expected shape 2x4, found 2x3");
    EXPECT_FAIL(mf_h5_dataset_read(&h, g, "x", "/g/x", MF_H5_F32, 0, NULL, x), "/g/x",
                "expected shape scalar, found 2x3");
    EXPECT_FAIL(mf_h5_dataset_read(&h, g, "none", "/g/none", MF_H5_F32, 1, d6, x), "/g/none",
                "missing dataset");
    EXPECT_FAIL(mf_h5_dataset_read(&h, f, "g", "/g", MF_H5_F32, 1, d6, x), "/g",
                "expected a dataset, found a group");
    EXPECT_FAIL(mf_h5_dataset_shape(&h, g, "x", "/g/x", 1, &v, d24), "/g/x",
                "expected at most 1 dimension, found 2");
    assert_true(mf_h5_group_open(&h, g, "x", "/g/x") < 0);
    assert_contains(err.message, "expected a group, found a dataset");
    assert_true(mf_h5_group_open(&h, f, "none", "/none") < 0);
    assert_contains(err.message, "missing group");

    /* attributes: class, count, range, length, missing */
    EXPECT_FAIL(mf_h5_attr_read_str(&h, f, "/", "version", buf, sizeof buf), "/",
                "attribute 'version': expected a string, found an integer");
    EXPECT_FAIL(mf_h5_attr_read_int(&h, f, "/", "kind", 0, 9, &v), "/",
                "attribute 'kind': expected an integer, found a string");
    EXPECT_FAIL(mf_h5_attr_read_float(&h, f, "/", "version", x), "/",
                "attribute 'version': expected a float, found an integer");
    EXPECT_FAIL(mf_h5_attr_read_int(&h, f, "/", "version", 0, 5, &v), "/",
                "attribute 'version': value 7 is out of range (0 to 5)");
    EXPECT_FAIL(mf_h5_attr_read_int(&h, f, "/", "shape", 0, 9, &v), "/",
                "attribute 'shape': expected 1 value, found 3");
    EXPECT_FAIL(mf_h5_attr_read_ints(&h, f, "/", "shape", 1, 2, 0, 9, ll, &n), "/",
                "attribute 'shape': expected 1 to 2 values, found 3");
    EXPECT_FAIL(mf_h5_attr_read_str(&h, f, "/", "kind", buf, sizeof buf), "/",
                "attribute 'kind': string 0 is longer than 3 bytes");
    EXPECT_FAIL(mf_h5_attr_read_strs(&h, f, "/", "names", 3, 3, 63, &strs, &n), "/",
                "attribute 'names': expected 3 values, found 2");
    assert_null(strs);
    EXPECT_FAIL(mf_h5_attr_read_int(&h, g, "/g", "missing", 0, 9, &v), "/g",
                "missing attribute 'missing'");
    H5Oclose(g);
    assert_int_equal(mf_h5_close(&h, MF_OK), MF_OK);
    assert_int_equal(open_ids(), ids);

    /* files that are not HDF5 files, or not there */
    const char *text = tu_write_file(dir, "text.h5", "not hdf5 at all");
    snprintf(path, sizeof path, "%s", text);
    EXPECT_FAIL(mf_h5_open(&h, path, 0, "a test file", &err), "",
                "not an HDF5 file (no HDF5 signature found); expected a test file");
    snprintf(path, sizeof path, "%s/missing.h5", dir);
    EXPECT_FAIL(mf_h5_open(&h, path, 0, "a test file", &err), "", strerror(ENOENT));
    snprintf(path, sizeof path, "%s", dir);
    EXPECT_FAIL(mf_h5_open(&h, path, 0, "a test file", &err), "", "not a regular file");
    assert_int_equal(mf_h5_close(&h, MF_OK), MF_OK); /* a failed open is closed already */
    assert_int_equal(open_ids(), ids);
}

/* A writer that fails after writing part of an HDF5 file: through an atomic write nothing is
 * left, and the error names the final file, not the temporary one. */
static int write_fail(mf_h5 *h, void *ctx)
{
    (void)ctx;
    int rc = mf_h5_attr_write_int(h, h->file, "/", "a", 1);
    /* the same attribute twice cannot be created */
    if (!rc) rc = mf_h5_attr_write_int(h, h->file, "/", "a", 2);
    return rc;
}

static void test_h5_atomic_failure(void **state)
{
    (void)state;
    const char *d = tu_tmpdir("fileio_h5_atomic");
    char dir[1100], path[2300];
    snprintf(dir, sizeof dir, "%s", d);
    snprintf(path, sizeof path, "%s/out.h5", dir);
    hsize_t ids = open_ids();
    mf_error err;
    mf_error_clear(&err);
    assert_int_equal(mf_h5_write_atomic(path, write_fail, NULL, &err), MF_ERR);
    assert_string_equal(err.file, path);
    assert_string_equal(err.field, "/");
    assert_contains(err.message, "cannot create attribute 'a'");
    assert_int_equal(tu_count_entries(dir), 0);
    assert_int_equal(open_ids(), ids);
    /* the folder is missing: the create error names the final file too */
    snprintf(path, sizeof path, "%s/no/out.h5", dir);
    mf_error_clear(&err);
    assert_int_equal(mf_h5_write_atomic(path, write_fail, NULL, &err), MF_ERR);
    assert_string_equal(err.file, path);
    assert_contains(err.message, "cannot create the file");
    assert_int_equal(open_ids(), ids);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_bytes),
        cmocka_unit_test(test_write_errors),
        cmocka_unit_test(test_write_through_fill),
        cmocka_unit_test(test_write_text),
        cmocka_unit_test(test_find_gz),
        cmocka_unit_test(test_regular_files),
        cmocka_unit_test(test_make_dirs),
        cmocka_unit_test(test_in_path),
        cmocka_unit_test(test_replace_dir),
        cmocka_unit_test(test_stale_temporaries_removed),
        cmocka_unit_test(test_concurrent_writers),
        cmocka_unit_test(test_fnv1a),
        cmocka_unit_test(test_h5_round_trip),
        cmocka_unit_test(test_h5_errors),
        cmocka_unit_test(test_h5_atomic_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
