/*
 * test_gunzip.c: the project's gzip reader: round trips in any read size,
 * multi-member files, padding and trailing bytes, and above all truncation:
 * at every cut, every byte zlib can recover from the bytes before it is
 * delivered, then an error naming the offset.
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_any_read_size),
        cmocka_unit_test(test_multi_member_padding_and_trailing),
        cmocka_unit_test(test_truncated_at_every_cut),
        cmocka_unit_test(test_corrupt_data_and_check_value),
        cmocka_unit_test(test_input_error_is_the_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
