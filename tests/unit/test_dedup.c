/* Tests for analyzer/engine/dedup.c: inserts, duplicates, the zero digest,
 * growth over many resizes, structured digests, memory accounting.
 * Allocation failure (degraded mode) is in test_dedup_oom.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "analyzer/engine/dedup.h"

enum { SLOT_BYTES = 16, INITIAL_SLOTS = 1024 };

/* splitmix64: a reproducible stream of digests, state in the caller. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void test_insert_and_duplicates(void **state)
{
    (void)state;
    ah_dedup *d = ah_dedup_new();
    assert_non_null(d);
    assert_int_equal(ah_dedup_count(d), 0);
    assert_false(ah_dedup_degraded(d));

    const uint64_t a[2] = {1, 2}, b[2] = {2, 1}, c[2] = {1, 3};
    assert_true(ah_dedup_insert(d, a));
    assert_false(ah_dedup_insert(d, a));
    assert_true(ah_dedup_insert(d, b));
    assert_true(ah_dedup_insert(d, c));
    assert_false(ah_dedup_insert(d, b));
    assert_false(ah_dedup_insert(d, c));
    assert_int_equal(ah_dedup_count(d), 3);
    /* halves equal to another digest's halves are still different digests */
    const uint64_t a_lo[2] = {1, 0}, a_hi[2] = {0, 2};
    assert_true(ah_dedup_insert(d, a_lo));
    assert_true(ah_dedup_insert(d, a_hi));
    assert_int_equal(ah_dedup_count(d), 5);
    ah_dedup_free(d);
}

static void test_zero_digest(void **state)
{
    (void)state;
    ah_dedup *d = ah_dedup_new();
    const uint64_t zero[2] = {0, 0}, one[2] = {0, 1};
    assert_true(ah_dedup_insert(d, zero));
    assert_int_equal(ah_dedup_count(d), 1);
    assert_false(ah_dedup_insert(d, zero));
    assert_false(ah_dedup_insert(d, zero));
    assert_int_equal(ah_dedup_count(d), 1);
    assert_true(ah_dedup_insert(d, one));
    assert_false(ah_dedup_insert(d, one));
    assert_int_equal(ah_dedup_count(d), 2);
    /* the zero digest survives growth */
    uint64_t rng = 99;
    for (int i = 0; i < 5000; i++) {
        uint64_t dg[2] = {next_random(&rng), next_random(&rng)};
        ah_dedup_insert(d, dg);
    }
    assert_false(ah_dedup_insert(d, zero));
    assert_int_equal(ah_dedup_count(d), 5002);
    ah_dedup_free(d);
}

static void test_many_random(void **state)
{
    (void)state;
    enum { N = 1000000 };
    ah_dedup *d = ah_dedup_new();
    uint64_t rng = 12345;
    for (size_t i = 0; i < N; i++) {
        uint64_t dg[2] = {next_random(&rng), next_random(&rng)};
        if (!ah_dedup_insert(d, dg))
            fail_msg("digest %zu reported as a duplicate", i);
    }
    assert_int_equal(ah_dedup_count(d), N);
    assert_false(ah_dedup_degraded(d));
    /* every one is still found after ten resizes */
    rng = 12345;
    for (size_t i = 0; i < N; i++) {
        uint64_t dg[2] = {next_random(&rng), next_random(&rng)};
        if (ah_dedup_insert(d, dg))
            fail_msg("digest %zu lost", i);
    }
    assert_int_equal(ah_dedup_count(d), N);
    /* a disjoint stream is all new (continuing the same generator) */
    for (size_t i = 0; i < 1000; i++) {
        uint64_t dg[2] = {next_random(&rng), next_random(&rng)};
        assert_true(ah_dedup_insert(d, dg));
    }
    assert_int_equal(ah_dedup_count(d), N + 1000);
    /* 2^21 slots: 1,001,000 / 2,097,152 is under 70% */
    size_t mem = ah_dedup_memory(d);
    assert_true(mem >= (size_t)2097152 * SLOT_BYTES);
    assert_true(mem < (size_t)2097152 * SLOT_BYTES + 4096);
    ah_dedup_free(d);
}

/* Counters and ids as digests: no clustering collapse, all distinct. */
static void test_structured_digests(void **state)
{
    (void)state;
    enum { N = 200000 };
    ah_dedup *d = ah_dedup_new();
    for (uint64_t i = 1; i <= N; i++) {
        const uint64_t lo[2] = {i, 0}, hi[2] = {0, i}, both[2] = {i, i}, shifted[2] = {i << 32, 0};
        assert_true(ah_dedup_insert(d, lo));
        assert_true(ah_dedup_insert(d, hi));
        assert_true(ah_dedup_insert(d, both));
        assert_true(ah_dedup_insert(d, shifted));
    }
    assert_int_equal(ah_dedup_count(d), 4 * N);
    for (uint64_t i = 1; i <= N; i++) {
        const uint64_t lo[2] = {i, 0}, shifted[2] = {i << 32, 0};
        assert_false(ah_dedup_insert(d, lo));
        assert_false(ah_dedup_insert(d, shifted));
    }
    ah_dedup_free(d);
}

static void test_memory_accounting(void **state)
{
    (void)state;
    ah_dedup *d = ah_dedup_new();
    size_t initial = ah_dedup_memory(d);
    size_t header = initial - INITIAL_SLOTS * SLOT_BYTES;
    assert_true(initial >= INITIAL_SLOTS * SLOT_BYTES);
    assert_true(header > 0 && header < 256);

    /* 70% of 1024 is 716.8: the 717th distinct digest doubles the table */
    uint64_t rng = 7;
    for (int i = 0; i < 716; i++) {
        uint64_t dg[2] = {next_random(&rng), next_random(&rng)};
        assert_true(ah_dedup_insert(d, dg));
    }
    assert_int_equal(ah_dedup_memory(d), initial);
    /* duplicates and the zero digest never grow it */
    const uint64_t zero[2] = {0, 0};
    assert_true(ah_dedup_insert(d, zero));
    assert_int_equal(ah_dedup_memory(d), initial);
    uint64_t dg[2] = {next_random(&rng), next_random(&rng)};
    assert_true(ah_dedup_insert(d, dg));
    assert_int_equal(ah_dedup_memory(d), header + 2 * INITIAL_SLOTS * SLOT_BYTES);
    assert_int_equal(ah_dedup_count(d), 718);

    /* bytes per unique digest stay within 16 / 0.35 (plus the header) */
    for (int i = 0; i < 100000; i++) {
        uint64_t r[2] = {next_random(&rng), next_random(&rng)};
        ah_dedup_insert(d, r);
        size_t slots_bytes = ah_dedup_memory(d) - header;
        size_t count = ah_dedup_count(d);
        if (slots_bytes * 35 > count * SLOT_BYTES * 100 + INITIAL_SLOTS * SLOT_BYTES * 35)
            fail_msg("%zu bytes for %zu digests", slots_bytes, count);
    }
    ah_dedup_free(d);
}

static void test_null_handling(void **state)
{
    (void)state;
    ah_dedup_free(NULL);
    assert_int_equal(ah_dedup_count(NULL), 0);
    assert_int_equal(ah_dedup_memory(NULL), 0);
    assert_false(ah_dedup_degraded(NULL));
    const uint64_t dg[2] = {1, 2};
    assert_true(ah_dedup_insert(NULL, dg)); /* never drop a record */
    ah_dedup *d = ah_dedup_new();
    assert_true(ah_dedup_insert(d, NULL));
    assert_int_equal(ah_dedup_count(d), 0);
    ah_dedup_free(d);
}

/* A limited set never passes its limit; room counts down to 0 at 87.5 %
 * of the largest table, and an insert past it forgets the digest but keeps
 * the record. */
static void test_limit_and_room(void **state)
{
    (void)state;
    ah_dedup *d = ah_dedup_new_limited((size_t)64 << 10); /* 4096 slots */
    assert_non_null(d);
    assert_int_equal(ah_dedup_room(d), 3584);
    uint64_t rng = 5;
    for (int i = 0; i < 3584; i++) {
        uint64_t dg[2] = {next_random(&rng), next_random(&rng)};
        assert_false(ah_dedup_contains(d, dg));
        assert_true(ah_dedup_insert(d, dg));
        assert_true(ah_dedup_contains(d, dg));
        assert_int_equal(ah_dedup_room(d), (size_t)3584 - 1 - (size_t)i);
        assert_true(ah_dedup_memory(d) <= ((size_t)64 << 10) + 256);
    }
    uint64_t over[2] = {next_random(&rng), next_random(&rng)};
    assert_true(ah_dedup_insert(d, over));
    assert_false(ah_dedup_contains(d, over));
    assert_int_equal(ah_dedup_count(d), 3584);
    /* below the minimum: raised to it */
    ah_dedup *tiny = ah_dedup_new_limited(1);
    assert_int_equal(ah_dedup_room(tiny), AH_DEDUP_MIN_LIMIT / SLOT_BYTES / 8 * 7);
    assert_int_equal(ah_dedup_room(NULL), SIZE_MAX);
    ah_dedup_unlimit(tiny);
    assert_int_equal(ah_dedup_room(tiny), SIZE_MAX);
    for (uint64_t i = 1; i <= 1000; i++) {
        const uint64_t dg[2] = {i, i};
        assert_true(ah_dedup_insert(tiny, dg));
    }
    assert_int_equal(ah_dedup_count(tiny), 1000);
    ah_dedup_free(tiny);
    ah_dedup_free(d);
}

static int cmp_pair(const uint64_t *a, const uint64_t *b)
{
    if (a[0] != b[0])
        return a[0] < b[0] ? -1 : 1;
    return (a[1] > b[1]) - (a[1] < b[1]);
}

/* The sorted view holds every digest once, the zero digest first. */
static void test_sorted(void **state)
{
    (void)state;
    ah_dedup *d = ah_dedup_new();
    const uint64_t zero[2] = {0, 0};
    uint64_t rng = 11, sum0 = 0, sum1 = 0;
    for (int i = 0; i < 5000; i++) {
        uint64_t dg[2] = {next_random(&rng) % 1000 + 1, next_random(&rng) % 3};
        if (ah_dedup_insert(d, dg) && (dg[0] | dg[1])) {
            sum0 += dg[0];
            sum1 += dg[1];
        }
    }
    assert_true(ah_dedup_insert(d, zero));
    size_t count = ah_dedup_count(d);
    const uint64_t *keys;
    assert_int_equal(ah_dedup_sorted(d, &keys), count);
    assert_true(keys[0] == 0 && keys[1] == 0);
    uint64_t s0 = 0, s1 = 0;
    for (size_t i = 0; i < count; i++) {
        if (i)
            assert_true(cmp_pair(&keys[2 * (i - 1)], &keys[2 * i]) < 0);
        s0 += keys[2 * i];
        s1 += keys[2 * i + 1];
    }
    assert_true(s0 == sum0 && s1 == sum1);
    ah_dedup_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_insert_and_duplicates), cmocka_unit_test(test_zero_digest),
        cmocka_unit_test(test_many_random),           cmocka_unit_test(test_structured_digests),
        cmocka_unit_test(test_memory_accounting),     cmocka_unit_test(test_null_handling),
        cmocka_unit_test(test_limit_and_room),        cmocka_unit_test(test_sorted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
