/*
 * fuzz_gunzip.c: the gzip reader (parsers/source/gunzip.c), igzip against
 * zlib over the same bytes.
 *
 * Byte 0 picks the input read size, byte 1 the output read size; the rest
 * is the compressed stream. Invariants: reads return -1, 0 or at most what
 * was asked, and stay ended, with a reason when it was an error; their
 * outputs agree as far as the shorter one goes (they may stop at different
 * points inside damaged data, never say different things); what zlib reads
 * to the end, igzip reads to the end with the same bytes, members and
 * trailing bytes; offsets stay within the input. Not the converse: igzip
 * accepts incomplete Huffman code sets that zlib refuses ("invalid
 * distances set"); when the data then passes the member's CRC-32 and length
 * check, igzip delivers it (the lenience is documented in gunzip.h).
 */
#include "fuzz.h"

#include "parsers/source/gunzip.h"
#include "parsers/util/buf.h"

/* A bound on the output: a small input may inflate 1000-fold. */
#define MAX_OUT (8u << 20)

typedef struct outcome {
    ah_buf out;
    ssize_t last; /* 0 all read, -1 failed, 1 stopped at MAX_OUT */
    uint64_t members, trailing;
} outcome;

static void inflate_all(ah_inflater inflater, const uint8_t *p, size_t n, size_t in_chunk, size_t out_chunk, outcome *o)
{
    fuzz_mem m;
    ah_reader r = fuzz_mem_reader(&m, p, n, in_chunk);
    ah_gunzip *g = ah_gunzip_new_with(&r, inflater);
    FUZZ_CHECK(g != NULL);
    ah_reader *u = ah_gunzip_reader(g);
    static const size_t steps[4] = {1, 7, 4096, 65536};
    char tmp[65536];
    size_t step = steps[out_chunk & 3];
    for (;;) {
        if (o->out.len >= MAX_OUT) {
            o->last = 1;
            break;
        }
        ssize_t k = ah_read(u, tmp, step);
        FUZZ_CHECK(k >= -1 && k <= (ssize_t)step);
        if (k <= 0) {
            o->last = k;
            FUZZ_CHECK(ah_read(u, tmp, step) == (k < 0 ? -1 : 0)); /* an end stays */
            break;
        }
        FUZZ_CHECK(ah_buf_append(&o->out, tmp, (size_t)k) == AH_OK);
    }
    FUZZ_CHECK((o->last == -1) == (ah_gunzip_error(g)[0] != '\0'));
    FUZZ_CHECK(ah_gunzip_in_offset(g) <= n);
    FUZZ_CHECK(ah_gunzip_out_offset(g) == o->out.len);
    o->members = ah_gunzip_members(g);
    o->trailing = ah_gunzip_trailing(g);
    FUZZ_CHECK(o->trailing <= n);
    ah_gunzip_free(g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t in_chunk = fuzz_chunk(data[0]);
    const uint8_t *p = data + 2;
    size_t n = size - 2;
    outcome a = {0}, b = {0};
    ah_buf_init(&a.out, 0);
    ah_buf_init(&b.out, 0);
    inflate_all(AH_INFLATER_IGZIP, p, n, in_chunk, data[1], &a);
    inflate_all(AH_INFLATER_ZLIB, p, n, in_chunk, data[1], &b);
    size_t common = a.out.len < b.out.len ? a.out.len : b.out.len;
    FUZZ_CHECK(common == 0 || memcmp(a.out.data, b.out.data, common) == 0);
    if (b.last == 0 && a.last != 1) {
        FUZZ_CHECK(a.last == 0);
        FUZZ_CHECK(a.out.len == b.out.len);
        FUZZ_CHECK(a.members == b.members);
        FUZZ_CHECK(a.trailing == b.trailing);
    }
    ah_buf_free(&a.out);
    ah_buf_free(&b.out);
    return 0;
}
