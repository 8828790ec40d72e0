/*
 * gunzip.c: gzip members -> bytes, straight through zlib's inflate.
 *
 * inflate() writes into the caller's buffer and emits whatever the input it
 * has seen determines, so at a cut the caller already holds every byte
 * before it; the next read reports the cut with its offset. Between members
 * the magic is checked by hand (inflate with windowBits 31 parses one member
 * and stops), zero padding is skipped, anything else ends the stream.
 */
#include "gunzip.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

enum { IN_SIZE = 64 * 1024, MAX_READ = 1 << 30 };

struct ah_gunzip {
    ah_reader *in;
    ah_reader out;
    z_stream z;
    bool z_ready;
    bool in_member;  /* inside a member: the input must not end here */
    bool started;    /* the first member was begun */
    bool in_eof;
    bool done;
    bool failed;
    bool input_failed;
    uint64_t read_total; /* compressed bytes read from `in` */
    uint64_t out_total;
    uint64_t members;
    uint64_t trailing;
    char err[224];
    unsigned char buf[IN_SIZE];
};

bool ah_gunzip_magic(const void *p, size_t n)
{
    const unsigned char *b = p;
    return n >= 3 && b[0] == 0x1f && b[1] == 0x8b && b[2] == 8;
}

static uint64_t consumed(const ah_gunzip *g) { return g->read_total - g->z.avail_in; }

/* Read more compressed bytes behind those not consumed yet. False on a read error. */
static bool refill(ah_gunzip *g)
{
    size_t keep = g->z.avail_in;
    if (keep && g->z.next_in != g->buf)
        memmove(g->buf, g->z.next_in, keep);
    g->z.next_in = g->buf;
    if (keep == IN_SIZE)
        return true;
    ssize_t k = ah_read(g->in, (char *)g->buf + keep, IN_SIZE - keep);
    if (k < 0) {
        g->failed = g->input_failed = true;
        snprintf(g->err, sizeof g->err, "read error in the compressed input");
        return false;
    }
    if (k == 0)
        g->in_eof = true;
    g->read_total += (uint64_t)k;
    g->z.avail_in = (uInt)(keep + (size_t)k);
    return true;
}

static void fail_truncated(ah_gunzip *g)
{
    g->failed = true;
    snprintf(g->err, sizeof g->err,
             "truncated gzip data: the input ends at byte %llu inside a compressed stream "
             "(%llu bytes decompressed before the cut were read)",
             (unsigned long long)g->read_total, (unsigned long long)g->out_total);
}

/* Between members: start the next one, skip zero padding, or end. */
static ah_status next_member(ah_gunzip *g)
{
    for (;;) {
        while (g->z.avail_in < 3 && !g->in_eof)
            if (!refill(g))
                return AH_ERR_STREAM;
        while (g->started && g->z.avail_in && *g->z.next_in == 0) {
            g->z.next_in++;
            g->z.avail_in--;
        }
        if (g->z.avail_in == 0) {
            if (!g->in_eof)
                continue;
            if (g->started)
                return AH_END;
            fail_truncated(g);
            return AH_ERR_STREAM;
        }
        if (g->z.avail_in < 3 && !g->in_eof)
            continue;
        if (!ah_gunzip_magic(g->z.next_in, g->z.avail_in) && !g->started) {
            fail_truncated(g); /* the caller saw the magic: the first member is cut short */
            return AH_ERR_STREAM;
        }
        if (!ah_gunzip_magic(g->z.next_in, g->z.avail_in)) {
            g->trailing += g->z.avail_in; /* counted, not read: not part of any member */
            g->z.avail_in = 0;
            return AH_END;
        }
        if (inflateReset(&g->z) != Z_OK)
            return AH_ERR_STREAM;
        g->in_member = g->started = true;
        return AH_OK;
    }
}

static ssize_t gunzip_read(void *ctx, char *buf, size_t n)
{
    ah_gunzip *g = ctx;
    if (g->failed)
        return -1;
    if (g->done || n == 0)
        return 0;
    if (n > MAX_READ)
        n = MAX_READ;
    for (;;) {
        if (!g->in_member) {
            ah_status st = next_member(g);
            if (st == AH_END) {
                g->done = true;
                return 0;
            }
            if (st != AH_OK) {
                if (!g->failed) {
                    g->failed = true;
                    snprintf(g->err, sizeof g->err, "gzip reader could not be reset");
                }
                return -1;
            }
        }
        if (g->z.avail_in == 0 && !g->in_eof && !refill(g))
            return -1;
        g->z.next_out = (Bytef *)buf;
        g->z.avail_out = (uInt)n;
        int r = inflate(&g->z, Z_NO_FLUSH);
        size_t got = n - g->z.avail_out;
        g->out_total += got;
        if (r == Z_STREAM_END) {
            g->in_member = false;
            g->members++;
            if (got)
                return (ssize_t)got;
            continue;
        }
        if (r == Z_OK || r == Z_BUF_ERROR) {
            if (got)
                return (ssize_t)got;
            if (g->z.avail_in == 0 && g->in_eof) {
                fail_truncated(g);
                return -1;
            }
            if (g->z.avail_in == 0)
                continue;
            if (r == Z_OK)
                continue;
        }
        /* Z_DATA_ERROR (bad data, bad check value), Z_NEED_DICT, Z_MEM_ERROR, or no progress */
        g->failed = true;
        snprintf(g->err, sizeof g->err,
                 "corrupt gzip data at or before byte %llu: %s (%llu bytes decompressed before it were read)",
                 (unsigned long long)consumed(g),
                 r == Z_MEM_ERROR ? "out of memory" : g->z.msg ? g->z.msg : "invalid data",
                 (unsigned long long)(g->out_total - got));
        return got ? (ssize_t)got : -1;
    }
}

ah_gunzip *ah_gunzip_new(ah_reader *compressed)
{
    if (!compressed)
        return NULL;
    ah_gunzip *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->in = compressed;
    g->z.next_in = g->buf;
    if (inflateInit2(&g->z, 15 + 16) != Z_OK) { /* gzip only: the caller saw the magic */
        free(g);
        return NULL;
    }
    g->z_ready = true;
    g->out.read = gunzip_read;
    g->out.ctx = g;
    return g;
}

void ah_gunzip_free(ah_gunzip *g)
{
    if (!g)
        return;
    if (g->z_ready)
        inflateEnd(&g->z);
    free(g);
}

ah_reader *ah_gunzip_reader(ah_gunzip *g) { return &g->out; }
const char *ah_gunzip_error(const ah_gunzip *g) { return g->err; }
bool ah_gunzip_input_failed(const ah_gunzip *g) { return g->input_failed; }
uint64_t ah_gunzip_in_offset(const ah_gunzip *g) { return consumed(g); }
uint64_t ah_gunzip_out_offset(const ah_gunzip *g) { return g->out_total; }
uint64_t ah_gunzip_members(const ah_gunzip *g) { return g->members; }
uint64_t ah_gunzip_trailing(const ah_gunzip *g) { return g->trailing; }
