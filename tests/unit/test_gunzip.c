/*
 * test_gunzip.c: the project's gzip reader: round trips in any read size,
 * multi-member files, padding and trailing bytes, and above all truncation:
 * at every cut, every byte zlib can recover from the bytes before it is
 * delivered, then an error naming the offset. Then the differential tests:
 * igzip (the default inflater) and zlib (the reference) deliver the same
 * bytes, counts and messages for single- and multi-member files, every cut,
 * a bad check value and trailing bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "parsers/source/gunzip.h"
#include "support/memsrc.h"

typedef struct bytes {
    unsigned char *p;
    size_t len;
} bytes;

static bytes gz(const void *data, size_t len, int level)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&z, (uLong)len) + 64;
    bytes b = {malloc(cap), 0};
    assert_non_null(b.p);
    z.next_in = (Bytef *)(uintptr_t)data;
    z.avail_in = (uInt)len;
    z.next_out = b.p;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    b.len = z.total_out;
    deflateEnd(&z);
    return b;
}

/* JSON-Lines-like text that compresses moderately. */
static bytes lines(size_t n)
{
    bytes b = {malloc(n * 64 + 1), 0};
    assert_non_null(b.p);
    uint32_t x = 12345;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        b.len += (size_t)sprintf((char *)b.p + b.len, "{\"Id\":\"%08x\",\"n\":%zu,\"Operation\":\"Op%u\"}\n", x, i,
                                 (x >> 8) % 97);
    }
    return b;
}

typedef struct result {
    unsigned char *data;
    size_t len;
    ssize_t last;
    char err[256];
    uint64_t trailing, members;
} result;

static result run(const void *in, size_t len, size_t chunk, size_t step)
{
    mem_src m = {(const char *)in, len, 0, chunk, SIZE_MAX};
    ah_reader r = {mem_read, &m};
    ah_gunzip *g = ah_gunzip_new(&r);
    assert_non_null(g);
    result res = {malloc(1 << 22), 0, 0, "", 0, 0};
    assert_non_null(res.data);
    for (;;) {
        size_t want = step;
        if (res.len + want > (1u << 22))
            want = (1u << 22) - res.len;
        ssize_t k = ah_read(ah_gunzip_reader(g), (char *)res.data + res.len, want);
        res.last = k;
        if (k <= 0)
            break;
        res.len += (size_t)k;
    }
    snprintf(res.err, sizeof res.err, "%s", ah_gunzip_error(g));
    res.trailing = ah_gunzip_trailing(g);
    res.members = ah_gunzip_members(g);
    ah_gunzip_free(g);
    return res;
}

/* What plain zlib recovers from a cut stream: the reference. */
static size_t zlib_recoverable(const unsigned char *in, size_t len, unsigned char *out, size_t cap)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(inflateInit2(&z, 31), Z_OK);
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    (void)inflate(&z, Z_SYNC_FLUSH);
    size_t got = z.total_out;
    inflateEnd(&z);
    return got;
}

static void test_round_trip_any_read_size(void **state)
{
    (void)state;
    bytes text = lines(3000);
    bytes c = gz(text.p, text.len, 6);
    const size_t chunks[] = {1, 7, 4096, 1 << 20}, steps[] = {1, 3, 65536};
    for (size_t i = 0; i < 4; i++)
        for (size_t j = 0; j < 3; j++) {
            if (chunks[i] == 1 && steps[j] == 1)
                continue; /* slow and says nothing new */
            result r = run(c.p, c.len, chunks[i], steps[j]);
            assert_int_equal(r.last, 0);
            assert_int_equal(r.len, text.len);
            assert_memory_equal(r.data, text.p, text.len);
            assert_string_equal(r.err, "");
            assert_int_equal(r.members, 1);
            free(r.data);
        }
    free(text.p);
    free(c.p);
}

static void test_multi_member_padding_and_trailing(void **state)
{
    (void)state;
    bytes a = gz("one\n", 4, 9), b = gz("two\n", 4, 1);
    unsigned char buf[512];
    size_t n = 0;
    memcpy(buf + n, a.p, a.len), n += a.len;
    memcpy(buf + n, b.p, b.len), n += b.len;
    memset(buf + n, 0, 100), n += 100; /* tape/block padding */
    result r = run(buf, n, 5, 64);
    assert_int_equal(r.last, 0);
    assert_int_equal(r.len, 8);
    assert_memory_equal(r.data, "one\ntwo\n", 8);
    assert_int_equal(r.members, 2);
    assert_int_equal(r.trailing, 0);
    free(r.data);
    memcpy(buf + n, "garbage", 7), n += 7;
    r = run(buf, n, 4096, 64);
    assert_int_equal(r.last, 0);
    assert_int_equal(r.len, 8);
    assert_int_equal(r.trailing, 7);
    free(r.data);
    free(a.p);
    free(b.p);
}

/* At every cut, no fewer bytes than zlib can recover, all of them right,
 * then -1 with the offset. */
static void test_truncated_at_every_cut(void **state)
{
    (void)state;
    bytes text = lines(400);
    bytes c = gz(text.p, text.len, 6);
    unsigned char *ref = malloc(text.len + 1);
    assert_non_null(ref);
    for (size_t cut = 1; cut < c.len; cut += (cut < 64 ? 1 : 37)) {
        result r = run(c.p, cut, 513, 4096);
        assert_int_equal(r.last, -1);
        assert_true(r.len <= text.len);
        assert_memory_equal(r.data, text.p, r.len);
        size_t want = zlib_recoverable(c.p, cut, ref, text.len + 1);
        if (r.len < want)
            fail_msg("cut %zu: %zu bytes delivered, zlib recovers %zu", cut, r.len, want);
        char at[64];
        snprintf(at, sizeof at, "byte %zu ", cut);
        if (!strstr(r.err, "truncated") || !strstr(r.err, at))
            fail_msg("cut %zu: message '%s'", cut, r.err);
        free(r.data);
    }
    free(ref);
    free(text.p);
    free(c.p);
}

static void test_corrupt_data_and_check_value(void **state)
{
    (void)state;
    bytes text = lines(200);
    bytes c = gz(text.p, text.len, 6);
    c.p[c.len - 6] ^= 0x40; /* the CRC32 in the trailer */
    result r = run(c.p, c.len, 4096, 4096);
    assert_int_equal(r.last, -1);
    assert_int_equal(r.len, text.len); /* all data came out before the check failed */
    assert_non_null(strstr(r.err, "corrupt gzip data"));
    free(r.data);
    c.p[c.len - 6] ^= 0x40;
    c.p[20] ^= 0xff; /* inside the first deflate block */
    r = run(c.p, c.len, 4096, 4096);
    assert_int_equal(r.last, -1);
    assert_non_null(strstr(r.err, "corrupt gzip data"));
    assert_memory_equal(r.data, text.p, r.len < text.len ? r.len : text.len);
    free(r.data);
    free(text.p);
    free(c.p);
}

static void test_input_error_is_the_inputs(void **state)
{
    (void)state;
    bytes text = lines(500);
    bytes c = gz(text.p, text.len, 6);
    mem_src m = {(const char *)c.p, c.len, 0, 1000, 3000};
    ah_reader in = {mem_read, &m};
    ah_gunzip *g = ah_gunzip_new(&in);
    char buf[4096];
    ssize_t k;
    size_t total = 0;
    while ((k = ah_read(ah_gunzip_reader(g), buf, sizeof buf)) > 0)
        total += (size_t)k;
    assert_int_equal(k, -1);
    assert_true(total > 0);
    assert_true(ah_gunzip_input_failed(g));
    ah_gunzip_free(g);
    free(text.p);
    free(c.p);
    assert_true(ah_gunzip_magic("\x1f\x8b\x08", 3));
    assert_false(ah_gunzip_magic("\x1f\x8b", 2));
    assert_false(ah_gunzip_magic("\x1f\x9d\x90", 3));
}

/* --- igzip against zlib ------------------------------------------------- */

static result run_with(ah_inflater inflater, const void *in, size_t len, size_t chunk, size_t step)
{
    mem_src m = {(const char *)in, len, 0, chunk, SIZE_MAX};
    ah_reader r = {mem_read, &m};
    ah_gunzip *g = ah_gunzip_new_with(&r, inflater);
    assert_non_null(g);
    result res = {malloc(1 << 22), 0, 0, "", 0, 0};
    assert_non_null(res.data);
    for (;;) {
        size_t want = step;
        if (res.len + want > (1u << 22))
            want = (1u << 22) - res.len;
        ssize_t k = ah_read(ah_gunzip_reader(g), (char *)res.data + res.len, want);
        res.last = k;
        if (k <= 0)
            break;
        res.len += (size_t)k;
    }
    snprintf(res.err, sizeof res.err, "%s", ah_gunzip_error(g));
    res.trailing = ah_gunzip_trailing(g);
    res.members = ah_gunzip_members(g);
    ah_gunzip_free(g);
    return res;
}

/* Both inflaters over the same input: the same bytes, end, counts; the
 * same message unless it quotes an inflater's own reason (corrupt data).
 * Returns igzip's result (the caller frees its data). */
static result same_both(const void *in, size_t len, size_t chunk, size_t step)
{
    result a = run_with(AH_INFLATER_IGZIP, in, len, chunk, step);
    result b = run_with(AH_INFLATER_ZLIB, in, len, chunk, step);
    if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
        fail_msg("igzip delivered %zu bytes (%llu members, '%s'), zlib %zu (%llu members, '%s'), or other "
                 "bytes; input %zu bytes in reads of %zu, output read %zu at a time",
                 a.len, (unsigned long long)a.members, a.err, b.len, (unsigned long long)b.members, b.err, len, chunk,
                 step);
    assert_int_equal(a.last, b.last);
    assert_int_equal(a.members, b.members);
    assert_int_equal(a.trailing, b.trailing);
    if (!strstr(a.err, "corrupt gzip data"))
        assert_string_equal(a.err, b.err);
    else
        assert_non_null(strstr(b.err, "corrupt gzip data"));
    free(b.data);
    return a;
}

/* Text with long matches, far matches and incompressible runs, so blocks of
 * every kind (stored at level 0) and the whole 32 KiB window are used. */
static bytes mixed_text(size_t n)
{
    bytes b = {malloc(n), 0};
    assert_non_null(b.p);
    uint32_t x = 777;
    while (b.len < n) {
        x = x * 1103515245u + 12345u;
        size_t run = 1 + (x >> 16) % 300, k = (x >> 8) % 3;
        for (size_t i = 0; i < run && b.len < n; i++) {
            if (k == 0)
                b.p[b.len] = (unsigned char)(x >> (i % 24)); /* noise */
            else if (k == 1 && b.len > 30000)
                b.p[b.len] = b.p[b.len - 30000]; /* a far match */
            else
                b.p[b.len] = (unsigned char)"{\"Operation\":\"MailItemsAccessed\"}\n"[i % 34];
            b.len++;
        }
    }
    return b;
}

static void test_differential_single_member(void **state)
{
    (void)state;
    bytes text = mixed_text(300000);
    const int levels[] = {0, 1, 6, 9};
    const size_t chunks[] = {3, 4096, 1 << 20}, steps[] = {1, 5, 65536, 1 << 21};
    for (size_t l = 0; l < 4; l++) {
        bytes c = gz(text.p, text.len, levels[l]);
        for (size_t i = 0; i < 3; i++)
            for (size_t j = 0; j < 4; j++) {
                if ((chunks[i] < 16) + (steps[j] < 16) == 2)
                    continue; /* slow and says nothing new */
                result r = same_both(c.p, c.len, chunks[i], steps[j]);
                assert_int_equal(r.last, 0);
                assert_int_equal(r.len, text.len);
                assert_memory_equal(r.data, text.p, text.len);
                assert_int_equal(r.members, 1);
                free(r.data);
            }
        free(c.p);
    }
    free(text.p);
}

/* A member with every optional header field (extra, name, comment, header CRC). */
static bytes gz_full_header(const void *data, size_t len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    static unsigned char extra[8] = {'A', 'H', 4, 0, 'd', 'a', 't', 'a'}; /* SI1 SI2 LEN data */
    gz_header h;
    memset(&h, 0, sizeof h);
    h.extra = extra;
    h.extra_len = 8;
    h.name = (Bytef *)"audit.jsonl";
    h.comment = (Bytef *)"exported";
    h.hcrc = 1;
    assert_int_equal(deflateSetHeader(&z, &h), Z_OK);
    size_t cap = deflateBound(&z, (uLong)len) + 128;
    bytes b = {malloc(cap), 0};
    assert_non_null(b.p);
    z.next_in = (Bytef *)(uintptr_t)data;
    z.avail_in = (uInt)len;
    z.next_out = b.p;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    b.len = z.total_out;
    deflateEnd(&z);
    return b;
}

/* Members of several kinds back to back, zero padding, then trailing bytes:
 * the same bytes, member count and trailing count from both, at every read size. */
static void test_differential_multi_member_and_trailing(void **state)
{
    (void)state;
    bytes text = mixed_text(100000), small = lines(50);
    bytes parts[] = {gz(text.p, 70000, 1), gz("", 0, 6), gz_full_header(small.p, small.len),
                     gz(text.p + 70000, text.len - 70000, 9), gz(small.p, small.len, 0)};
    size_t cap = 64;
    for (size_t i = 0; i < 5; i++)
        cap += parts[i].len;
    unsigned char *all = malloc(cap + 64);
    assert_non_null(all);
    size_t n = 0;
    for (size_t i = 0; i < 5; i++) {
        memcpy(all + n, parts[i].p, parts[i].len);
        n += parts[i].len;
    }
    const size_t want = text.len + 2 * small.len;
    const size_t chunks[] = {7, 1000, 1 << 20}, steps[] = {3, 4096, 1 << 21};
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < 3; j++) {
            result r = same_both(all, n, chunks[i], steps[j]);
            assert_int_equal(r.last, 0);
            assert_int_equal(r.len, want);
            assert_memory_equal(r.data, text.p, 70000);
            assert_int_equal(r.members, 5);
            assert_int_equal(r.trailing, 0);
            free(r.data);
        }
    memset(all + n, 0, 40); /* padding: ignored */
    static const char junk[] = "PK\x03\x04 not gzip";
    memcpy(all + n + 40, junk, sizeof junk - 1); /* trailing: counted */
    for (size_t i = 0; i < 3; i++) {
        result r = same_both(all, n + 40 + sizeof junk - 1, chunks[i], 4096);
        assert_int_equal(r.last, 0);
        assert_int_equal(r.len, want);
        assert_int_equal(r.members, 5);
        if (chunks[i] >= 1000) /* else only what was read with the end of the last member counts */
            assert_int_equal(r.trailing, sizeof junk - 1);
        assert_true(r.trailing > 0);
        free(r.data);
    }
    for (size_t i = 0; i < 5; i++)
        free(parts[i].p);
    free(all);
    free(text.p);
    free(small.p);
}

/* Every cut of a two-member file (headers, blocks, trailers, the second
 * member's header): the same bytes and the same message from both. */
static void test_differential_truncated_at_every_cut(void **state)
{
    (void)state;
    bytes text = mixed_text(20000), small = lines(100);
    bytes a = gz(text.p, text.len, 6), b = gz_full_header(small.p, small.len);
    unsigned char *all = malloc(a.len + b.len);
    assert_non_null(all);
    memcpy(all, a.p, a.len);
    memcpy(all + a.len, b.p, b.len);
    size_t n = a.len + b.len;
    for (size_t cut = 1; cut < n; cut += (cut < 64 || (cut > a.len - 40 && cut < a.len + 120) ? 1 : 13)) {
        result r = same_both(all, cut, 509, cut % 2 ? 4096 : 7);
        if (cut >= a.len && cut < a.len + 3) { /* too short for a magic: trailing bytes */
            assert_int_equal(r.last, 0);
            assert_int_equal(r.trailing, cut - a.len);
        } else {
            assert_int_equal(r.last, -1);
            assert_non_null(strstr(r.err, "truncated gzip data"));
        }
        free(r.data);
    }
    free(all);
    free(a.p);
    free(b.p);
    free(text.p);
    free(small.p);
}

/* A wrong CRC-32 or length in a trailer: all data, then an error, from both;
 * reserved header flags: nothing, then an error. */
static void test_differential_bad_check_values(void **state)
{
    (void)state;
    bytes text = mixed_text(50000);
    bytes c = gz(text.p, text.len, 6);
    for (size_t at = c.len - 8; at < c.len; at++) { /* CRC-32, then ISIZE */
        c.p[at] ^= 0x21;
        result r = same_both(c.p, c.len, 4096, 4096);
        assert_int_equal(r.last, -1);
        assert_int_equal(r.len, text.len);
        assert_memory_equal(r.data, text.p, text.len);
        assert_non_null(strstr(r.err, "corrupt gzip data"));
        free(r.data);
        c.p[at] ^= 0x21;
    }
    c.p[3] |= 0x80;
    result r = same_both(c.p, c.len, 4096, 4096);
    assert_int_equal(r.last, -1);
    assert_int_equal(r.len, 0);
    assert_non_null(strstr(r.err, "unknown header flags set"));
    free(r.data);
    free(c.p);
    free(text.p);
}

/* Bit flips in the deflate data. The inflaters detect bad data at different
 * points (zlib refuses an incomplete code set or a far distance at once,
 * igzip sometimes a few symbols later, and a wrong CRC-32 catches what
 * either lets through), so the bytes may differ in length, never in content:
 * both fail, one output is a prefix of the other, and igzip delivers at
 * least what zlib does (the good data before the damage is never lost). */
static void test_differential_corrupt_deflate(void **state)
{
    (void)state;
    bytes text = lines(1500);
    uint32_t x = 99;
    for (int t = 0; t < 300; t++) {
        bytes c = gz(text.p, text.len, 1 + t % 9);
        for (int f = 0; f < 1 + t % 3; f++) {
            x = x * 1103515245u + 12345u;
            c.p[10 + (x >> 8) % (c.len - 18)] ^= (unsigned char)(1u << (x >> 28) % 8);
        }
        size_t step = t % 2 ? 8192 : 61;
        result a = run_with(AH_INFLATER_IGZIP, c.p, c.len, 4096, step);
        result b = run_with(AH_INFLATER_ZLIB, c.p, c.len, 4096, step);
        assert_int_equal(a.last, b.last);
        if (a.len < b.len || memcmp(a.data, b.data, b.len) != 0)
            fail_msg("case %d: igzip delivered %zu bytes, zlib %zu, or other bytes", t, a.len, b.len);
        if (a.last == 0) { /* a flip that changed nothing (an unused header bit): the same */
            assert_int_equal(a.len, b.len);
            assert_memory_equal(a.data, text.p, text.len);
        }
        free(a.data);
        free(b.data);
        free(c.p);
    }
    free(text.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_any_read_size),
        cmocka_unit_test(test_multi_member_padding_and_trailing),
        cmocka_unit_test(test_truncated_at_every_cut),
        cmocka_unit_test(test_corrupt_data_and_check_value),
        cmocka_unit_test(test_input_error_is_the_inputs),
        cmocka_unit_test(test_differential_single_member),
        cmocka_unit_test(test_differential_multi_member_and_trailing),
        cmocka_unit_test(test_differential_truncated_at_every_cut),
        cmocka_unit_test(test_differential_bad_check_values),
        cmocka_unit_test(test_differential_corrupt_deflate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
