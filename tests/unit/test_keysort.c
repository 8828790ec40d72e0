/*
 * test_keysort.c: the external sort behind deduplication past its budget
 * (analyzer/engine/keysort.c): in memory, with runs, with more runs than
 * one merge can open (intermediate passes), presorted runs, and a
 * temporary directory that cannot be created.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer/engine/keysort.h"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/ah-test-keysort-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return rmdir(dir); /* fails if a run or a run directory was left */
}

static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int cmp(const void *a, const void *b)
{
    const ah_keypos *x = a, *y = b;
    if (x->k0 != y->k0)
        return x->k0 < y->k0 ? -1 : 1;
    if (x->k1 != y->k1)
        return x->k1 < y->k1 ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

/* n entries with few distinct keys (so equal keys meet across runs),
 * sorted with the given budget, against qsort. */
static void sort_and_compare(size_t n, size_t budget, uint64_t min_runs, uint64_t max_runs)
{
    ah_keypos *want = malloc((n ? n : 1) * sizeof *want);
    assert_non_null(want);
    uint64_t rng = n * 31 + budget;
    for (size_t i = 0; i < n; i++)
        want[i] = (ah_keypos){next_random(&rng) % 97, next_random(&rng) % 3, next_random(&rng) % 1000};
    ah_diag diag = {0};
    ah_keysort *s = ah_keysort_new(budget, dir, &diag);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(ah_keysort_add(s, &want[i]), AH_OK);
    assert_int_equal(ah_keysort_finish(s), AH_OK);
    assert_int_equal(ah_keysort_add(s, &want[0]), AH_ERR_USAGE);
    qsort(want, n, sizeof *want, cmp);
    ah_keypos got;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(ah_keysort_next(s, &got), AH_OK);
        if (cmp(&got, &want[i]) != 0)
            fail_msg("entry %zu out of order", i);
    }
    assert_int_equal(ah_keysort_next(s, &got), AH_END);
    assert_int_equal(ah_keysort_next(s, &got), AH_END);
    assert_true(ah_keysort_runs(s) >= min_runs && ah_keysort_runs(s) <= max_runs);
    assert_int_equal(diag.count[AH_SEV_ERROR], 0);
    ah_keysort_free(s);
    free(want);
}

static void test_in_memory(void **state)
{
    (void)state;
    sort_and_compare(0, 4096, 0, 0);
    sort_and_compare(1, 4096, 0, 0);
    sort_and_compare(170, 4096, 0, 0); /* 170 entries of 24 bytes fit 4 KiB */
}

static void test_runs(void **state)
{
    (void)state;
    sort_and_compare(171, 4096, 2, 2);
    sort_and_compare(10000, 24 * 1000, 10, 10);
}

/* 16-entry runs: 625 runs, more than one merge opens, so intermediate
 * passes (each writes one more run). */
static void test_merge_passes(void **state)
{
    (void)state;
    sort_and_compare(10000, 1, 626, 700);
}

static void test_presorted_run(void **state)
{
    (void)state;
    ah_diag diag = {0};
    ah_keysort *s = ah_keysort_new(24 * 16, dir, &diag);
    const uint64_t keys[] = {0, 0, 1, 5, 2, 0, 7, 7};
    assert_int_equal(ah_keysort_add_sorted(s, keys, 4, 0), AH_OK);
    const ah_keypos late[] = {{1, 5, 9}, {0, 0, 3}, {7, 7, 1}};
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(ah_keysort_add(s, &late[i]), AH_OK);
    assert_int_equal(ah_keysort_finish(s), AH_OK);
    const ah_keypos want[] = {{0, 0, 0}, {0, 0, 3}, {1, 5, 0}, {1, 5, 9}, {2, 0, 0}, {7, 7, 0}, {7, 7, 1}};
    ah_keypos got;
    for (size_t i = 0; i < 7; i++) {
        assert_int_equal(ah_keysort_next(s, &got), AH_OK);
        assert_int_equal(cmp(&got, &want[i]), 0);
    }
    assert_int_equal(ah_keysort_next(s, &got), AH_END);
    assert_int_equal(ah_keysort_runs(s), 2); /* the presorted one and the tail */
    ah_keysort_free(s);
}

static void test_no_tmpdir(void **state)
{
    (void)state;
    ah_diag diag = {0};
    ah_keysort *s = ah_keysort_new(1, "/nonexistent/audithound-test", &diag);
    ah_keypos e = {1, 2, 3};
    ah_status st = AH_OK;
    for (int i = 0; i < 100 && st == AH_OK; i++)
        st = ah_keysort_add(s, &e);
    assert_int_equal(st, AH_ERR_IO);
    assert_int_equal(diag.count[AH_SEV_ERROR], 1);
    assert_int_equal(ah_keysort_add(s, &e), AH_ERR_IO);
    assert_int_equal(ah_keysort_finish(s), AH_ERR_IO);
    ah_keysort_free(s);
    ah_keysort_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_memory),     cmocka_unit_test(test_runs),      cmocka_unit_test(test_merge_passes),
        cmocka_unit_test(test_presorted_run), cmocka_unit_test(test_no_tmpdir),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
