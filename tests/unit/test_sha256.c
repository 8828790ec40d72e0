/* test_sha256.c: FIPS 180-2 / NIST example vectors and padding boundaries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <string.h>

#include "parsers/util/sha256.h"

static void digest_of(const void *data, size_t len, char hex[65])
{
    ah_sha256 s;
    ah_sha256_init(&s);
    ah_sha256_update(&s, data, len);
    ah_sha256_hex(&s, hex);
}

static void test_empty(void **state)
{
    (void)state;
    char hex[65];
    digest_of("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    /* No update call at all gives the same digest. */
    ah_sha256 s;
    ah_sha256_init(&s);
    ah_sha256_hex(&s, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_abc(void **state)
{
    (void)state;
    char hex[65];
    digest_of("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_448_bit_message(void **state)
{
    (void)state;
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    assert_int_equal(strlen(m) * 8, 448);
    char hex[65];
    digest_of(m, strlen(m), hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_896_bit_message(void **state)
{
    (void)state;
    const char *m = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                    "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    char hex[65];
    digest_of(m, strlen(m), hex);
    assert_string_equal(hex, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

/* One million 'a', fed in chunk sizes that never line up with the 64-byte block. */
static void test_million_a_odd_chunks(void **state)
{
    (void)state;
    static const size_t chunks[] = {1, 3, 7, 63, 64, 65, 127, 1000, 4093};
    char a[4096];
    memset(a, 'a', sizeof a);
    for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
        ah_sha256 s;
        ah_sha256_init(&s);
        size_t left = 1000000, step = chunks[c];
        while (left) {
            size_t n = left < step ? left : step;
            ah_sha256_update(&s, a, n);
            left -= n;
            step = step % 4093 + 1 + (c & 1); /* vary the chunk size as we go */
            if (step > sizeof a)
                step = sizeof a;
        }
        char hex[65];
        ah_sha256_hex(&s, hex);
        assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    }
}

/* Lengths around the padding boundary (55/56 bytes: length fits or not in the last block). */
static void test_padding_boundaries(void **state)
{
    (void)state;
    static const struct {
        size_t n;
        const char *hex;
    } cases[] = {
        {55, "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072"},
        {56, "04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e"},
        {63, "75220b47218278e656f2013bb8f0c455a25eaf01e86c64924e9d48d89776d6f2"},
        {64, "7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c"},
        {65, "9537c5fdf120482f7d58d25e9ed583f52c02b4e304ea814db1633ad565aed7e9"},
        {119, "000b48d4edf0fa7bee3c6236ecd2785baa5db4eeb8bb54341b029e0d9fa5fb0c"},
        {120, "13f05a0b594787f5ecd315edc96141bd3243203d1b7d4f0836f37308b276ba98"},
    };
    char x[128];
    memset(x, 'x', sizeof x);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char hex[65];
        digest_of(x, cases[i].n, hex);
        assert_string_equal(hex, cases[i].hex);
        /* byte at a time gives the same answer */
        ah_sha256 s;
        ah_sha256_init(&s);
        for (size_t k = 0; k < cases[i].n; k++)
            ah_sha256_update(&s, x + k, 1);
        ah_sha256_hex(&s, hex);
        assert_string_equal(hex, cases[i].hex);
    }
}

static void test_raw_digest_and_reuse(void **state)
{
    (void)state;
    ah_sha256 s;
    uint8_t d[32];
    ah_sha256_init(&s);
    ah_sha256_update(&s, "abc", 3);
    ah_sha256_final(&s, d);
    assert_int_equal(d[0], 0xba);
    assert_int_equal(d[31], 0xad);
    /* init resets a used context completely */
    char hex[65];
    ah_sha256_init(&s);
    ah_sha256_update(&s, "ab", 2);
    ah_sha256_update(&s, NULL, 0);
    ah_sha256_update(&s, "c", 1);
    ah_sha256_hex(&s, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

/* The hardware path (when the CPU has it) and the portable path agree on
 * every length and every way of feeding the bytes in. */
static void test_hardware_matches_portable(void **state)
{
    (void)state;
    static uint8_t data[4096];
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < sizeof data; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        data[i] = (uint8_t)x;
    }
    for (size_t len = 0; len <= sizeof data; len += len < 200 ? 1 : 61) {
        ah_sha256 a, b;
        ah_sha256_init(&a);
        ah_sha256_init_portable(&b);
        assert_false(b.hw);
        size_t chunk = 1 + len % 97, off = 0;
        while (off < len) {
            size_t n = len - off < chunk ? len - off : chunk;
            ah_sha256_update(&a, data + off, n);
            off += n;
        }
        ah_sha256_update(&b, data, len);
        uint8_t da[32], db[32];
        ah_sha256_final(&a, da);
        ah_sha256_final(&b, db);
        assert_memory_equal(da, db, 32);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_abc),
        cmocka_unit_test(test_448_bit_message),
        cmocka_unit_test(test_896_bit_message),
        cmocka_unit_test(test_million_a_odd_chunks),
        cmocka_unit_test(test_padding_boundaries),
        cmocka_unit_test(test_raw_digest_and_reuse),
        cmocka_unit_test(test_hardware_matches_portable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
