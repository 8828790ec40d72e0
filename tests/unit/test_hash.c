/* Tests for parsers/util/hash.c: MurmurHash3 x64-128 against published
 * values, plus properties (tails, seeds, avalanche, alignment, folding). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "parsers/util/hash.h"

/* The reference implementation writes h1 then h2 as little-endian words. */
static void to_bytes(const uint64_t h[2], uint8_t out[16])
{
    for (int i = 0; i < 8; i++) {
        out[i] = (uint8_t)(h[0] >> (8 * i));
        out[8 + i] = (uint8_t)(h[1] >> (8 * i));
    }
}

/* SMHasher's VerificationTest: hash keys {0}, {0,1}, ... of length 0..255
 * with seed 256 - len, then hash the concatenated results with seed 0. */
static void test_smhasher_verification(void **state)
{
    (void)state;
    uint8_t key[256], hashes[16 * 256], final[16];
    uint64_t h[2];
    for (int i = 0; i < 256; i++) {
        key[i] = (uint8_t)i;
        ah_hash128(key, (size_t)i, (uint64_t)(256 - i), h);
        to_bytes(h, hashes + 16 * i);
    }
    ah_hash128(hashes, sizeof hashes, 0, h);
    to_bytes(h, final);
    uint32_t verification =
        (uint32_t) final[0] | (uint32_t) final[1] << 8 | (uint32_t) final[2] << 16 | (uint32_t) final[3] << 24;
    assert_int_equal(verification, 0x6384BA69u);
}

static void test_known_vectors(void **state)
{
    (void)state;
    uint64_t h[2];
    const char *fox = "The quick brown fox jumps over the lazy dog";
    ah_hash128(fox, strlen(fox), 0, h);
    assert_int_equal(h[0], 0xe34bbc7bbc071b6cULL);
    assert_int_equal(h[1], 0x7a433ca9c49a9347ULL);

    ah_hash128("hello", 5, 0, h); /* mmh3.hash64("hello") */
    assert_int_equal(h[0], 0xcbd8a7b341bd9b02ULL);
    assert_int_equal(h[1], 0x5b1e906a48ae1d19ULL);

    /* the empty key with seed 0 hashes to zero: dedup must accept it */
    ah_hash128("", 0, 0, h);
    assert_int_equal(h[0], 0);
    assert_int_equal(h[1], 0);
    ah_hash128(NULL, 0, 0, h);
    assert_int_equal(h[0], 0);
    assert_int_equal(h[1], 0);
    ah_hash128(NULL, 0, 1, h);
    assert_true(h[0] != 0 || h[1] != 0);
}

static void test_hash64_is_low_half(void **state)
{
    (void)state;
    const char *s = "MailItemsAccessed";
    uint64_t h[2];
    for (uint64_t seed = 0; seed < 4; seed++) {
        ah_hash128(s, strlen(s), seed, h);
        assert_int_equal(ah_hash64(s, strlen(s), seed), h[0]);
    }
    assert_int_equal(ah_hash64(NULL, 0, 0), 0);
}

static void test_determinism_and_seeds(void **state)
{
    (void)state;
    const char *s = "2021-01-13T16:05:22|user@contoso.com|Add service principal credentials.";
    uint64_t a[2], b[2], c[2];
    ah_hash128(s, strlen(s), 42, a);
    ah_hash128(s, strlen(s), 42, b);
    assert_memory_equal(a, b, sizeof a);
    ah_hash128(s, strlen(s), 43, c);
    assert_true(a[0] != c[0] && a[1] != c[1]);
    /* seeds above 32 bits matter too */
    ah_hash128(s, strlen(s), 42 | (1ULL << 40), c);
    assert_true(a[0] != c[0] && a[1] != c[1]);
    /* the result does not depend on the key's alignment */
    char buf[128];
    for (size_t off = 0; off < 16; off++) {
        memcpy(buf + off, s, strlen(s));
        ah_hash128(buf + off, strlen(s), 42, b);
        assert_memory_equal(a, b, sizeof a);
    }
}

/* Every length 0..47 over every 1..3 block layout: all digests distinct,
 * and changing the last byte of each length changes the digest. */
static void test_tail_lengths(void **state)
{
    (void)state;
    enum { MAXLEN = 48 };
    uint8_t key[MAXLEN];
    uint64_t seen[MAXLEN][2];
    for (int i = 0; i < MAXLEN; i++)
        key[i] = (uint8_t)(0x61 + i);
    for (size_t len = 0; len < MAXLEN; len++) {
        ah_hash128(key, len, 0, seen[len]);
        for (size_t j = 0; j < len; j++)
            assert_false(seen[j][0] == seen[len][0] && seen[j][1] == seen[len][1]);
        if (len > 0) {
            uint64_t alt[2];
            uint8_t copy[MAXLEN];
            memcpy(copy, key, len);
            copy[len - 1] ^= 0x01;
            ah_hash128(copy, len, 0, alt);
            assert_false(alt[0] == seen[len][0] && alt[1] == seen[len][1]);
            /* and so does the first byte */
            memcpy(copy, key, len);
            copy[0] ^= 0x80;
            ah_hash128(copy, len, 0, alt);
            assert_false(alt[0] == seen[len][0] && alt[1] == seen[len][1]);
        }
    }
    /* zero-filled keys of different lengths differ (length is mixed in) */
    uint8_t zeros[32] = {0};
    uint64_t z1[2], z2[2];
    ah_hash128(zeros, 15, 0, z1);
    ah_hash128(zeros, 16, 0, z2);
    assert_false(z1[0] == z2[0] && z1[1] == z2[1]);
}

static int popcount64(uint64_t x)
{
    int n = 0;
    for (; x; x &= x - 1)
        n++;
    return n;
}

/* Flipping any one input bit flips about half of the 128 output bits. */
static void test_avalanche(void **state)
{
    (void)state;
    for (size_t len = 1; len <= 40; len += 13) {
        uint8_t key[40];
        for (size_t i = 0; i < len; i++)
            key[i] = (uint8_t)(i * 37 + 11);
        uint64_t base[2];
        ah_hash128(key, len, 7, base);
        long total = 0;
        int bits = 0;
        for (size_t bit = 0; bit < len * 8; bit++) {
            uint64_t h[2];
            key[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            ah_hash128(key, len, 7, h);
            key[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            int flipped = popcount64(h[0] ^ base[0]) + popcount64(h[1] ^ base[1]);
            /* any single flip far outside 64 +- 32 would be a broken mix */
            assert_in_range(flipped, 32, 96);
            total += flipped;
            bits++;
        }
        long mean_x100 = total * 100 / bits;
        assert_in_range(mean_x100, 6000, 6800);
    }
}

static void test_case_insensitive(void **state)
{
    (void)state;
    const char *mixed = "User@Contoso.COM with Extra Bytes \xC3\x84 and a long tail!";
    const char *lower = "user@contoso.com with extra bytes \xC3\x84 and a long tail!";
    size_t n = strlen(mixed);
    for (uint64_t seed = 0; seed < 3; seed++) {
        assert_int_equal(ah_hash64_ci(mixed, n, seed), ah_hash64(lower, n, seed));
        assert_int_equal(ah_hash64_ci(lower, n, seed), ah_hash64(lower, n, seed));
        assert_true(ah_hash64(mixed, n, seed) != ah_hash64(lower, n, seed));
    }
    /* every length, so both the block and the tail path fold */
    for (size_t len = 0; len <= n; len++)
        assert_int_equal(ah_hash64_ci(mixed, len, 5), ah_hash64(lower, len, 5));
    /* only A-Z fold: '@' (0x40) and '[' (0x5B) border them */
    assert_true(ah_hash64_ci("@", 1, 0) != ah_hash64("`", 1, 0));
    assert_true(ah_hash64_ci("[", 1, 0) != ah_hash64("{", 1, 0));
    assert_int_equal(ah_hash64_ci("AZ", 2, 0), ah_hash64("az", 2, 0));
    /* non-ASCII bytes are not folded (0xC4 is not 0xE4) */
    assert_true(ah_hash64_ci("\xC4", 1, 0) != ah_hash64("\xE4", 1, 0));
    assert_int_equal(ah_hash64_ci(NULL, 0, 0), ah_hash64(NULL, 0, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_smhasher_verification), cmocka_unit_test(test_known_vectors),
        cmocka_unit_test(test_hash64_is_low_half),    cmocka_unit_test(test_determinism_and_seeds),
        cmocka_unit_test(test_tail_lengths),          cmocka_unit_test(test_avalanche),
        cmocka_unit_test(test_case_insensitive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
