/* Files (DESIGN.md §11): atomic writes, the "file or file.gz" lookup, regular-file checks and
 * FNV-1a hashes. One implementation each, used by every module.
 *
 * Atomic writes: the content goes to a temporary file "<path>.tmp.<host>.<pid>" in the same
 * folder (so that the rename cannot cross file systems; <host> is gethostname() with characters
 * other than letters, digits, '-' and '_' as '_'), the temporary file is flushed to disk
 * (fsync), renamed over path, and the folder is flushed so that the rename itself survives a
 * crash. A reader sees the old file or the new one, never a half-written one. On any failure the
 * temporary file is removed, an existing file at path is left as it was, and err says which
 * step failed with the OS error; err->file is path. (Only a failure to flush the folder comes
 * after the rename: the new file is then in place, but its survival of a crash is not sure.)
 * A process killed while it writes (SIGKILL, a crash) leaves its temporary file behind: every
 * write first removes the temporaries of the same path from its own host whose process no
 * longer exists (kill(pid, 0) fails with ESRCH); those of live processes and of other hosts
 * sharing the folder are left alone, so writers on several processes or machines can write one
 * file at once (the last rename wins; each reader sees one complete content). */
#ifndef MF_FILEIO_H
#define MF_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mf_error.h"

/* Writes the whole content into the file tmp (which does not exist yet, or is to be replaced:
 * e.g. fopen(tmp, "wb") or H5Fcreate(tmp, H5F_ACC_TRUNC, ...)) and closes it. Returns MF_OK, or
 * MF_ERR with err set (without a file name in err, path is filled in). */
typedef int (*mf_file_fill)(const char *tmp, void *ctx, mf_error *err);

/* Atomic write of path through fill (for writers that need a file name, e.g. HDF5). */
int mf_file_write_atomic(const char *path, mf_file_fill fill, void *ctx, mf_error *err);

/* Atomic write of n bytes. */
int mf_file_write_bytes(const char *path, const void *data, size_t n, mf_error *err);

/* Writes text into an open stream; returns MF_OK, or MF_ERR with err set. Write errors of the
 * stream itself need not be checked: mf_file_write_text checks the stream afterwards. */
typedef int (*mf_file_print)(FILE *f, void *ctx, mf_error *err);

/* Atomic write of a file produced by print (CSV files, reports, raw bytes). */
int mf_file_write_text(const char *path, mf_file_print print, void *ctx, mf_error *err);

/* 1 when path names an existing regular file (symbolic links followed), else 0. */
int mf_file_is_regular(const char *path);
/* 1 when path names an existing folder (symbolic links followed), else 0. */
int mf_file_is_dir(const char *path);
/* MF_OK when path is an existing regular file; else MF_ERR with err naming path and the OS
 * error ("cannot open '<path>': No such file or directory") or "'<path>' is not a regular file". */
int mf_file_check_regular(const char *path, mf_error *err);
/* mkdir -p: the folder and any missing parents; an existing folder is fine, an existing file of
 * that name is an error naming it. */
int mf_file_make_dirs(const char *path, mf_error *err);
/* 1 if an executable `name` is in one of PATH's folders (an empty PATH: /usr/local/bin,
 * /usr/bin, /bin). */
int mf_file_in_path(const char *name);

/* Removes path: a file, a symbolic link (not followed) or a folder with everything in it (rm -rf).
 * A missing path is fine. Errors name the entry that could not be removed. */
int mf_file_remove_tree(const char *path, mf_error *err);
/* Puts the folder tmp in place of dir and removes what dir was; dir may be missing (then tmp is
 * renamed to it). Where the file system can, the two are exchanged in one step
 * (renameat2 RENAME_EXCHANGE), so dir names the old folder or the new one at every moment;
 * elsewhere dir is renamed to "<tmp>.old", tmp to dir (on failure the old folder is moved
 * back), then "<tmp>.old" removed. tmp must be in the same file system (a sibling of dir). The
 * caller decides whether dir may be replaced. */
int mf_file_replace_dir(const char *tmp, const char *dir, mf_error *err);

/* Looks for a data file that may be stored plain or gzip-compressed: writes base into out when
 * that regular file exists, else "<base>.gz" when that one does. Returns 1 when one was found, 0
 * when neither exists or the name does not fit in size bytes (out then holds base, cut to fit).
 * base and out must not overlap.
 *
 * Preference: the plain file first. The name asked for is the one used whenever it is there: a
 * user who unpacked a download (gunzip -k leaves both) or replaced the plain file gets what is
 * on disk under that name, it is read without inflating, and the .gz beside it is only the
 * fallback for a folder that holds just the compressed download. The readers (zlib's gzread)
 * take either kind, so the choice never changes what is accepted, only which file is read. */
int mf_file_find_gz(const char *base, char *out, size_t size);
/* mf_file_find_gz for dir/name, where a missing file is an error: "<what>: neither '<name>' nor
 * '<name>.gz' found in '<dir>'" (err->file: dir/name), as is a name that does not fit. */
int mf_file_need_gz(const char *dir, const char *name, const char *what, char *out, size_t size,
                    mf_error *err);

/* FNV-1a (Fowler–Noll–Vo, alternate form: xor the byte, then multiply). Start with the offset
 * basis MF_FNV1A32_INIT / MF_FNV1A64_INIT and pass the result on to hash more data:
 * mf_hash_fnv1a32(MF_FNV1A32_INIT, "a", 1) == 0xe40c292c,
 * mf_hash_fnv1a64(MF_FNV1A64_INIT, "a", 1) == 0xaf63dc4c8601ec8c. A change detector, not a
 * cryptographic hash. */
#define MF_FNV1A32_INIT  2166136261u
#define MF_FNV1A32_PRIME 16777619u
#define MF_FNV1A64_INIT  14695981039346656037ull
#define MF_FNV1A64_PRIME 1099511628211ull

uint32_t mf_hash_fnv1a32(uint32_t h, const void *data, size_t n);
uint64_t mf_hash_fnv1a64(uint64_t h, const void *data, size_t n);

#endif
