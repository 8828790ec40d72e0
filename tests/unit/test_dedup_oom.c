/* Tests for analyzer/engine/dedup.c under allocation failure: the set goes
 * degraded, keeps answering from what it holds, and never reports an
 * unseen digest as a duplicate.
 *
 * The module is compiled into this test with calloc redirected to a
 * failing allocator (the header has no allocator hook, and this exercises
 * the real code path). Build it WITHOUT analyzer/engine/dedup.c:
 *   sh tests/tools/cc-test.sh tests/unit/test_dedup_oom.c parsers/util/[a-z]*.c
 * Under make, these definitions win over libaudithound.a's dedup.o. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h> /* before the redirect, so only dedup.c's calls change */
#include <string.h>

/* Allocations left before calloc starts failing (< 0: never fail). Test
 * state only; the library itself keeps none. */
static long allocs_left = -1;

static void *flaky_calloc(size_t count, size_t size)
{
    if (allocs_left == 0)
        return NULL;
    if (allocs_left > 0)
        allocs_left--;
    return calloc(count, size);
}

#define calloc flaky_calloc
#include "analyzer/engine/dedup.c"
#undef calloc

static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void test_new_fails_cleanly(void **state)
{
    (void)state;
    allocs_left = 0; /* the handle */
    assert_null(ah_dedup_new());
    allocs_left = 1; /* the handle succeeds, the table fails: no leak */
    assert_null(ah_dedup_new());
    allocs_left = -1;
}

static void test_degraded_when_growth_fails(void **state)
{
    (void)state;
    allocs_left = 2; /* handle + initial table, then nothing */
    ah_dedup *d = ah_dedup_new();
    assert_non_null(d);
    size_t mem = ah_dedup_memory(d);

    enum { TOTAL = 2000, GROW_AT = 717, FULL_AT = 896 };
    uint64_t rng = 1;
    for (int i = 1; i <= TOTAL; i++) {
        uint64_t dg[2] = {next_random(&rng), next_random(&rng)};
        if (!ah_dedup_insert(d, dg))
            fail_msg("new digest %d dropped", i);
        assert_int_equal(ah_dedup_degraded(d), i >= GROW_AT);
    }
    /* it filled the slack to 7/8 of 1024 slots, then stopped storing */
    assert_int_equal(ah_dedup_count(d), FULL_AT);
    assert_int_equal(ah_dedup_memory(d), mem);

    /* stored digests are still caught as duplicates; the rest pass */
    rng = 1;
    for (int i = 1; i <= TOTAL; i++) {
        uint64_t dg[2] = {next_random(&rng), next_random(&rng)};
        bool fresh = ah_dedup_insert(d, dg);
        if (fresh != (i > FULL_AT))
            fail_msg("digest %d: insert returned %d", i, fresh);
    }
    /* the zero digest needs no memory and still works */
    const uint64_t zero[2] = {0, 0};
    assert_true(ah_dedup_insert(d, zero));
    assert_false(ah_dedup_insert(d, zero));
    assert_int_equal(ah_dedup_count(d), FULL_AT + 1);

    /* memory coming back does not restart growth (no retry storms) */
    allocs_left = -1;
    uint64_t dg[2] = {next_random(&rng), next_random(&rng)};
    assert_true(ah_dedup_insert(d, dg));
    assert_int_equal(ah_dedup_memory(d), mem);
    assert_true(ah_dedup_degraded(d));
    ah_dedup_free(d);
}

static void test_growth_fails_later(void **state)
{
    (void)state;
    allocs_left = 4; /* handle, table, two doublings */
    ah_dedup *d = ah_dedup_new();
    uint64_t rng = 2;
    int first_degraded = 0;
    for (int i = 1; i <= 5000; i++) {
        uint64_t dg[2] = {next_random(&rng), next_random(&rng)};
        assert_true(ah_dedup_insert(d, dg));
        if (!first_degraded && ah_dedup_degraded(d))
            first_degraded = i;
    }
    /* 4096 slots * 0.7 = 2867.2: the 2868th digest needs the third doubling */
    assert_int_equal(first_degraded, 2868);
    assert_int_equal(ah_dedup_count(d), 4096 * 7 / 8);
    rng = 2;
    for (int i = 1; i <= 3584; i++) {
        uint64_t dg[2] = {next_random(&rng), next_random(&rng)};
        assert_false(ah_dedup_insert(d, dg));
    }
    allocs_left = -1;
    ah_dedup_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_fails_cleanly),
        cmocka_unit_test(test_degraded_when_growth_fails),
        cmocka_unit_test(test_growth_fails_later),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
