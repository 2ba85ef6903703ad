/* IDX files of unsigned bytes (MNIST, GTSRB), plain or gzip: zlib's gzread reads both, so byte
 * offsets in messages are offsets in the decompressed stream (= the file for plain files). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "mf_datasets.h"
#include "mf_fileio.h"

/* Hard limit on the data of one IDX file, checked before allocating. */
#define IDX_MAX_BYTES ((size_t)1 << 30)
/* gzread takes an unsigned count: read in chunks of this size. */
#define IDX_CHUNK ((size_t)1 << 24)

/* zlib's message without the "path: " gzerror puts in front. */
static const char *zmsg(const char *msg, const char *path, const char *fallback)
{
    if (!msg || !msg[0]) return fallback;
    size_t n = strlen(path);
    if (strncmp(msg, path, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ') msg += n + 2;
    return msg[0] ? msg : fallback;
}

/* Reads up to n bytes; returns the count read (< n only at the end of the data) or -1 after
 * setting err for a read error or a corrupt or truncated gzip stream. A truncated stream
 * (Z_BUF_ERROR) still hands out what was decompressed before its end, so it is an error only
 * once gzread returns nothing more. */
static long long read_bytes(gzFile gz, const char *path, long long at, uint8_t *buf, size_t n,
                            mf_error *err)
{
    size_t got = 0;
    while (got < n) {
        size_t want = n - got < IDX_CHUNK ? n - got : IDX_CHUNK;
        int r = gzread(gz, buf + got, (unsigned)want);
        int code = Z_OK;
        const char *msg = gzerror(gz, &code);
        if (r > 0) got += (size_t)r;
        if (r < 0 || (code != Z_OK && (code != Z_BUF_ERROR || r == 0))) {
            long long off = at + (long long)got;
            if (code == Z_ERRNO)
                mf_error_set(err, "read error after byte offset %lld: %s", off, strerror(errno));
            else if (code == Z_BUF_ERROR)
                mf_error_set(err,
                             "truncated gzip file: the compressed data end after byte offset %lld "
                             "of the decompressed stream (zlib: %s)",
                             off, zmsg(msg, path, "unexpected end of file"));
            else
                mf_error_set(err,
                             "corrupt gzip data after byte offset %lld of the decompressed stream "
                             "(zlib: %s)",
                             off, zmsg(msg, path, "error"));
            mf_error_at_offset(err, path, (long)off);
            return -1;
        }
        if (r == 0) break;
    }
    return (long long)got;
}

/* The first bytes of IDX data held before the buffer grows with what the file delivers. */
#define IDX_FIRST_BUFFER ((size_t)1 << 20)

/* Reads up to total bytes of data into a malloc'd *out; returns the count read (< total when
 * the file ends early) or -1 after setting err. The buffer doubles as data arrive instead of
 * taking the size the header declares at once, so a header that declares a gigabyte over a
 * few bytes of data (a damaged or hostile file) costs a megabyte, not a gigabyte. */
static long long read_data(gzFile gz, const char *path, long long at, size_t total, uint8_t **out,
                           mf_error *err)
{
    *out = NULL;
    size_t cap = total < IDX_FIRST_BUFFER ? total : IDX_FIRST_BUFFER, got = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            mf_error_set(err, "out of memory for %zu bytes of IDX data", cap);
            mf_error_at_offset(err, path, (long)(at + (long long)got));
            return -1;
        }
        long long r = read_bytes(gz, path, at + (long long)got, buf + got, cap - got, err);
        if (r < 0) {
            free(buf);
            return -1;
        }
        got += (size_t)r;
        if (got < cap || cap == total) break;
        cap = total - cap < cap ? total : 2 * cap;
        uint8_t *grown = realloc(buf, cap);
        if (!grown) free(buf);
        buf = grown;
    }
    *out = buf;
    return (long long)got;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

int mf_idx_read(const char *path, int max_dims, int *ndim, int dims[4], uint8_t **data,
                mf_error *err)
{
    *data = NULL;
    *ndim = 0;
    for (int i = 0; i < 4; i++)
        dims[i] = 0;
    if (max_dims < 1 || max_dims > 4)
        return mf_error_set(err, "IDX reader: max_dims = %d is out of range (1 to 4)", max_dims);
    if (mf_file_check_regular(path, err)) return MF_ERR;
    errno = 0;
    gzFile gz = gzopen(path, "rb");
    if (!gz) {
        int e = errno;
        mf_error_set(err, "cannot open '%s': %s", path, e ? strerror(e) : "out of memory");
        mf_error_at(err, path, 0, 0, NULL);
        return MF_ERR;
    }
    gzbuffer(gz, 256 * 1024);

    uint8_t head[4 + 4 * 4];
    long long r = read_bytes(gz, path, 0, head, 4, err);
    if (r < 0) goto fail;
    if (r < 4) {
        mf_error_set(err, "file ends at byte offset %lld, expected a 4-byte IDX magic", r);
        mf_error_at_offset(err, path, (long)r);
        goto fail;
    }
    if (head[0] != 0 || head[1] != 0 || head[2] != 0x08) {
        mf_error_set(err,
                     "not an IDX file of unsigned bytes: magic 0x%02x%02x%02x%02x (expected "
                     "0x000008NN, NN = number of dimensions)",
                     head[0], head[1], head[2], head[3]);
        mf_error_at_offset(err, path, 0);
        goto fail;
    }
    int nd = head[3];
    if (nd < 1 || nd > max_dims) {
        mf_error_set(err, "IDX file has %d dimensions (magic 0x%02x%02x%02x%02x), expected 1 to %d",
                     nd, head[0], head[1], head[2], head[3], max_dims);
        mf_error_at_offset(err, path, 3);
        goto fail;
    }
    size_t hlen = 4 + 4 * (size_t)nd;
    r = read_bytes(gz, path, 4, head + 4, 4 * (size_t)nd, err);
    if (r < 0) goto fail;
    if ((size_t)r < 4 * (size_t)nd) {
        mf_error_set(err,
                     "file ends at byte offset %lld, expected a %zu-byte header (%d dimensions)",
                     4 + r, hlen, nd);
        mf_error_at_offset(err, path, (long)(4 + r));
        goto fail;
    }
    size_t total = 1;
    for (int i = 0; i < nd; i++) {
        uint32_t d = be32(head + 4 + 4 * i);
        if (d < 1) {
            mf_error_set(err, "IDX dimension %d is 0 (every dimension must be at least 1)", i);
            mf_error_at_offset(err, path, (long)(4 + 4 * i));
            goto fail;
        }
        if (d > IDX_MAX_BYTES || total > IDX_MAX_BYTES / d) {
            mf_error_set(err,
                         "IDX dimension %d = %u makes the data larger than the limit of %zu bytes",
                         i, (unsigned)d, IDX_MAX_BYTES);
            mf_error_at_offset(err, path, (long)(4 + 4 * i));
            goto fail;
        }
        total *= d;
        dims[i] = (int)d;
    }

    uint8_t *buf = NULL;
    r = read_data(gz, path, (long long)hlen, total, &buf, err);
    if (r < 0) goto fail;
    if ((size_t)r < total) {
        mf_error_set(
            err,
            "file ends at byte offset %lld, expected %zu bytes of data after the %zu-byte header",
            (long long)hlen + r, total, hlen);
        mf_error_at_offset(err, path, (long)(hlen + (size_t)r));
        free(buf);
        goto fail;
    }
    /* Nothing may follow the data (this read also checks the gzip trailer). */
    uint8_t extra;
    r = read_bytes(gz, path, (long long)(hlen + total), &extra, 1, err);
    if (r != 0) {
        if (r > 0) {
            mf_error_set(err,
                         "trailing data after byte offset %zu (the %zu-byte header and %zu bytes "
                         "of data end there)",
                         hlen + total, hlen, total);
            mf_error_at_offset(err, path, (long)(hlen + total));
        }
        free(buf);
        goto fail;
    }
    gzclose(gz);
    *ndim = nd;
    *data = buf;
    return MF_OK;
fail:
    gzclose(gz);
    for (int i = 0; i < 4; i++)
        dims[i] = 0;
    return MF_ERR;
}
