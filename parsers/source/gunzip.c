/*
 * gunzip.c: gzip members -> bytes, through igzip's isal_inflate (or zlib's
 * inflate, the reference).
 *
 * Both inflaters write into the caller's buffer and emit whatever the input
 * they have seen determines, so at a cut the caller already holds every byte
 * before it; the next read reports the cut with its offset. Each member's
 * header is parsed by zlib (inflate with Z_BLOCK stops just before the first
 * deflate block): igzip 2.30 loses its header state when a header spans two
 * calls (FNAME then FCOMMENT, or the header CRC, come out wrong), and a long
 * file name or extra field can always span a refill. igzip then inflates
 * the deflate data and checks the trailer (CRC-32 and length); with the zlib
 * inflater, zlib goes on through the member. Between members the magic is
 * checked here, zero padding is skipped, anything else ends the stream. The
 * input window (next_in, avail_in) is ours and handed to the inflater for
 * each call, so refilling, member boundaries and offsets are one code for
 * both.
 */
#include "gunzip.h"

#include <isa-l/igzip_lib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

enum { IN_SIZE = 64 * 1024, MAX_READ = 1 << 30 };

/* RFC 1952 FLG bits 5-7 are reserved and must be zero. zlib refuses them;
 * igzip does not look, so the member loop checks for both. */
enum { GZIP_FLAGS_RESERVED = 0xe0 };

struct ah_gunzip {
    ah_reader *in;
    ah_reader out;
    ah_inflater inflater;
    z_stream z; /* AH_INFLATER_ZLIB */
    bool z_ready;
    struct inflate_state *isal; /* AH_INFLATER_IGZIP, after zlib read the header */
    bool in_header;             /* zlib is reading the member's header */
    const char *corrupt_why;    /* igzip failed: deliver what it decoded before, then fail */
    const unsigned char *next_in;
    size_t avail_in;
    bool in_member; /* inside a member: the input must not end here */
    bool started;   /* the first member was begun */
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

static uint64_t consumed(const ah_gunzip *g) { return g->read_total - g->avail_in; }

/* Read more compressed bytes behind those not consumed yet. False on a read error. */
static bool refill(ah_gunzip *g)
{
    size_t keep = g->avail_in;
    if (keep && g->next_in != g->buf)
        memmove(g->buf, g->next_in, keep);
    g->next_in = g->buf;
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
    g->avail_in = keep + (size_t)k;
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

static void fail_corrupt(ah_gunzip *g, const char *why, uint64_t good_bytes)
{
    g->failed = true;
    snprintf(g->err, sizeof g->err,
             "corrupt gzip data at or before byte %llu: %s (%llu bytes decompressed before it were read)",
             (unsigned long long)consumed(g), why, (unsigned long long)good_bytes);
}

static bool reset_inflater(ah_gunzip *g)
{
    g->in_header = g->inflater == AH_INFLATER_IGZIP;
    return inflateReset(&g->z) == Z_OK;
}

/* Between members: start the next one, skip zero padding, or end. */
static ah_status next_member(ah_gunzip *g)
{
    for (;;) {
        while (g->avail_in < 4 && !g->in_eof)
            if (!refill(g))
                return AH_ERR_STREAM;
        while (g->started && g->avail_in && *g->next_in == 0) {
            g->next_in++;
            g->avail_in--;
        }
        if (g->avail_in == 0) {
            if (!g->in_eof)
                continue;
            if (g->started)
                return AH_END;
            fail_truncated(g);
            return AH_ERR_STREAM;
        }
        if (g->avail_in < 4 && !g->in_eof)
            continue;
        if (!ah_gunzip_magic(g->next_in, g->avail_in) && !g->started) {
            fail_truncated(g); /* the caller saw the magic: the first member is cut short */
            return AH_ERR_STREAM;
        }
        if (!ah_gunzip_magic(g->next_in, g->avail_in)) {
            g->trailing += g->avail_in; /* counted, not read: not part of any member */
            g->avail_in = 0;
            return AH_END;
        }
        if (g->avail_in >= 4 && (g->next_in[3] & GZIP_FLAGS_RESERVED)) {
            fail_corrupt(g, "unknown header flags set", g->out_total);
            return AH_ERR_STREAM;
        }
        if (!reset_inflater(g))
            return AH_ERR_STREAM;
        g->in_member = g->started = true;
        return AH_OK;
    }
}

typedef enum step_result { STEP_OK, STEP_MEMBER_END, STEP_CORRUPT } step_result;

/* One inflate call over the current input window into buf[0..n); *got is
 * what it wrote, *why the reason of STEP_CORRUPT. */
static step_result step_zlib(ah_gunzip *g, char *buf, size_t n, size_t *got, const char **why)
{
    g->z.next_in = (Bytef *)(uintptr_t)g->next_in;
    g->z.avail_in = (uInt)g->avail_in;
    g->z.next_out = (Bytef *)buf;
    g->z.avail_out = (uInt)n;
    int r = inflate(&g->z, g->in_header ? Z_BLOCK : Z_NO_FLUSH);
    *got = n - g->z.avail_out;
    g->next_in = g->z.next_in;
    g->avail_in = g->z.avail_in;
    if (r == Z_STREAM_END)
        return STEP_MEMBER_END;
    if (g->in_header && r == Z_OK && (g->z.data_type & 128)) {
        /* Header done (bit 7: stopped before the first block, on a byte
         * boundary): igzip takes the deflate data and the trailer. */
        g->in_header = false;
        isal_inflate_reset(g->isal);
        g->isal->crc_flag = ISAL_GZIP_NO_HDR_VER;
        return STEP_OK;
    }
    if (r == Z_OK || r == Z_BUF_ERROR)
        return STEP_OK;
    /* Z_DATA_ERROR (bad data, bad check value), Z_NEED_DICT, Z_MEM_ERROR */
    *why = r == Z_MEM_ERROR ? "out of memory" : g->z.msg ? g->z.msg : "invalid data";
    return STEP_CORRUPT;
}

static const char *isal_why(int r)
{
    switch (r) {
    case ISAL_INVALID_BLOCK: return "invalid block";
    case ISAL_INVALID_SYMBOL: return "invalid code";
    case ISAL_INVALID_LOOKBACK: return "invalid distance too far back";
    case ISAL_INVALID_WRAPPER: return "incorrect header check";
    case ISAL_UNSUPPORTED_METHOD: return "unknown compression method";
    case ISAL_INCORRECT_CHECKSUM: return "incorrect check value";
    default: return "invalid data";
    }
}

static step_result step_isal(ah_gunzip *g, char *buf, size_t n, size_t *got, const char **why)
{
    struct inflate_state *s = g->isal;
    s->next_in = (uint8_t *)(uintptr_t)g->next_in;
    s->avail_in = (uint32_t)g->avail_in;
    s->next_out = (uint8_t *)buf;
    s->avail_out = (uint32_t)n;
    int r = isal_inflate(s);
    *got = n - s->avail_out;
    if (r < 0) {
        /* Its input window is not to be trusted after an error (it can
         * hand back more than it was given): count the window as read. */
        g->next_in += g->avail_in;
        g->avail_in = 0;
        *why = isal_why(r);
        return STEP_CORRUPT;
    }
    g->next_in = s->next_in;
    g->avail_in = s->avail_in;
    return s->block_state == ISAL_BLOCK_FINISH ? STEP_MEMBER_END : STEP_OK;
}

/* Bytes igzip decoded into its own buffer before it met bad data, not
 * handed out yet (it keeps them when the caller's buffer was full or it was
 * decoding into its history buffer): copied to buf, so corruption costs no
 * more of the good data before it than with zlib. */
static size_t isal_pending(ah_gunzip *g, char *buf, size_t n)
{
    struct inflate_state *s = g->isal;
    if (s->tmp_out_processed >= s->tmp_out_valid)
        return 0;
    size_t k = (size_t)(s->tmp_out_valid - s->tmp_out_processed);
    if (k > n)
        k = n;
    memcpy(buf, s->tmp_out_buffer + s->tmp_out_processed, k);
    s->tmp_out_processed += (int32_t)k;
    g->out_total += k;
    return k;
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
    if (g->corrupt_why) {
        size_t k = isal_pending(g, buf, n);
        if (k)
            return (ssize_t)k;
        fail_corrupt(g, g->corrupt_why, g->out_total);
        return -1;
    }
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
        if (g->avail_in == 0 && !g->in_eof && !refill(g))
            return -1;
        size_t before = g->avail_in, got = 0;
        const char *why = "invalid data";
        bool was_header = g->in_header;
        step_result r = g->inflater == AH_INFLATER_ZLIB || g->in_header ? step_zlib(g, buf, n, &got, &why)
                                                                        : step_isal(g, buf, n, &got, &why);
        g->out_total += got;
        if (r == STEP_MEMBER_END) {
            g->in_member = false;
            g->members++;
            if (got)
                return (ssize_t)got;
            continue;
        }
        if (r == STEP_OK) {
            if (got)
                return (ssize_t)got;
            if (g->avail_in == 0 && g->in_eof) {
                fail_truncated(g);
                return -1;
            }
            if (g->avail_in < before || g->avail_in == 0 || (was_header && !g->in_header))
                continue;        /* input taken in (a header, a block's tables): go on, or read more */
            why = "no progress"; /* neither output nor input moved: never loop on it */
        }
        if (r == STEP_CORRUPT && g->isal && !was_header) {
            got += isal_pending(g, buf + got, n - got);
            if (got) {
                g->corrupt_why = why; /* a static text */
                return (ssize_t)got;
            }
        }
        fail_corrupt(g, why, g->out_total); /* this read's bytes come before it too */
        return got ? (ssize_t)got : -1;
    }
}

ah_gunzip *ah_gunzip_new_with(ah_reader *compressed, ah_inflater inflater)
{
    if (!compressed)
        return NULL;
    ah_gunzip *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->in = compressed;
    g->inflater = inflater == AH_INFLATER_ZLIB ? AH_INFLATER_ZLIB : AH_INFLATER_IGZIP;
    g->next_in = g->buf;
    if (inflater == AH_INFLATER_IGZIP) {
        if (!(g->isal = malloc(sizeof *g->isal))) {
            free(g);
            return NULL;
        }
        isal_inflate_init(g->isal);
    }
    if (inflateInit2(&g->z, 15 + 16) != Z_OK) { /* gzip only: the caller saw the magic */
        free(g->isal);
        free(g);
        return NULL;
    }
    g->z_ready = true;
    g->out.read = gunzip_read;
    g->out.ctx = g;
    return g;
}

ah_gunzip *ah_gunzip_new(ah_reader *compressed) { return ah_gunzip_new_with(compressed, AH_INFLATER_IGZIP); }

void ah_gunzip_free(ah_gunzip *g)
{
    if (!g)
        return;
    if (g->z_ready)
        inflateEnd(&g->z);
    free(g->isal);
    free(g);
}

ah_reader *ah_gunzip_reader(ah_gunzip *g) { return &g->out; }
const char *ah_gunzip_error(const ah_gunzip *g) { return g->err; }
bool ah_gunzip_input_failed(const ah_gunzip *g) { return g->input_failed; }
uint64_t ah_gunzip_in_offset(const ah_gunzip *g) { return consumed(g); }
uint64_t ah_gunzip_out_offset(const ah_gunzip *g) { return g->out_total; }
uint64_t ah_gunzip_members(const ah_gunzip *g) { return g->members; }
uint64_t ah_gunzip_trailing(const ah_gunzip *g) { return g->trailing; }
