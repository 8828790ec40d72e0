/*
 * test_sorter.c: the external merge sort of timeline rows.
 *
 * Reference results come from a plain in-memory qsort over (has_time,
 * time, seq, add order). Budgets of a few KiB force hundreds of spilled
 * runs and several merge passes; every row's full content is compared,
 * and the temporary directory must be empty and gone afterwards.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyzer/order/sorter.h"

typedef struct fixture {
    char dir[64]; /* parent given to the sorter */
} fixture;

static size_t count_entries(const char *dir)
{
    size_t n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    if (d)
        closedir(d);
    return n;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/ah-sort-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    size_t left = count_entries(f->dir);
    rmdir(f->dir);
    free(f);
    return left == 0 ? 0 : -1; /* the sorter must clean up after itself */
}

/* ---- generated rows ------------------------------------------------------------ */

typedef struct gen_row {
    ah_row row;
    uint64_t order; /* add order */
    char text[AH_COL_COUNT][48];
    char raw[96];
} gen_row;

static uint64_t rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Few distinct times so that ties on time, and on (time, seq), are common. */
static void gen(gen_row *g, uint64_t i, uint64_t *seed)
{
    memset(g, 0, sizeof *g);
    uint64_t r = rng(seed);
    g->row.has_time = r % 10 != 0;
    g->row.time.sec = (int64_t)(r >> 8) % 50 - 10; /* negative times too */
    g->row.time.nsec = (int32_t)((r >> 20) % 3) * 100;
    g->row.tie = (r >> 30) % 40; /* duplicates on purpose: add order breaks the tie */
    g->row.input_record = i + 1;
    for (int c = 0; c < AH_COL_COUNT; c++) {
        if (c == AH_COL_TIME || c == AH_COL_INPUT_RECORD)
            continue;
        uint64_t k = rng(seed) % 5;
        if (k == 0)
            continue; /* absent */
        if (k == 1) {
            g->row.col[c] = ah_span_make(g->text[c], 0); /* present, empty */
            continue;
        }
        int n = snprintf(g->text[c], sizeof g->text[c], "%s-%llu-\"%c\"\n", ah_col_name((ah_col_id)c),
                         (unsigned long long)i, (char)('a' + (int)(k % 26)));
        g->row.col[c] = ah_span_make(g->text[c], (size_t)n);
    }
    if (i % 3) {
        int n = snprintf(g->raw, sizeof g->raw, "{\"n\":%llu,\"bin\":\"\x01\xff\"}", (unsigned long long)i);
        g->row.raw = ah_span_make(g->raw, (size_t)n);
    }
    g->order = i;
}

static int ref_cmp(const void *pa, const void *pb)
{
    const gen_row *a = pa, *b = pb;
    if (a->row.has_time != b->row.has_time)
        return a->row.has_time ? 1 : -1;
    if (a->row.has_time) {
        if (a->row.time.sec != b->row.time.sec)
            return a->row.time.sec < b->row.time.sec ? -1 : 1;
        if (a->row.time.nsec != b->row.time.nsec)
            return a->row.time.nsec < b->row.time.nsec ? -1 : 1;
    }
    if (a->row.tie != b->row.tie)
        return a->row.tie < b->row.tie ? -1 : 1;
    return a->order < b->order ? -1 : a->order > b->order;
}

static void assert_span_equal(ah_span got, ah_span want)
{
    if (!want.p) {
        assert_null(got.p);
        return;
    }
    assert_non_null(got.p);
    assert_int_equal(got.n, want.n);
    assert_memory_equal(got.p, want.p, want.n);
}

static void assert_row_equal(const ah_row *got, const ah_row *want)
{
    assert_int_equal(got->has_time, want->has_time);
    assert_int_equal(got->time.sec, want->time.sec);
    assert_int_equal(got->time.nsec, want->time.nsec);
    assert_int_equal(got->tie, want->tie);
    assert_int_equal(got->input_record, want->input_record);
    for (int c = 0; c < AH_COL_COUNT; c++)
        if (c != AH_COL_TIME && c != AH_COL_INPUT_RECORD)
            assert_span_equal(got->col[c], want->col[c]);
    assert_span_equal(got->raw, want->raw);
}

/* Add rows[perm[i]] in that order, sort with `budget`, compare with the reference. */
static ah_sorter_stats run_sort(const char *tmp, gen_row *rows, size_t n, const size_t *perm, size_t budget)
{
    ah_diag diag = {0};
    ah_sorter *s = ah_sorter_new(budget, tmp, &diag);
    assert_non_null(s);
    gen_row *ref = malloc((n ? n : 1) * sizeof *ref);
    assert_non_null(ref);
    for (size_t i = 0; i < n; i++) {
        gen_row *g = &rows[perm ? perm[i] : i];
        assert_int_equal(ah_sorter_add(s, &g->row), AH_OK);
        ref[i] = *g; /* its spans still point into rows[], which outlives ref */
        ref[i].order = i;
    }
    ah_sorter_stats mid;
    ah_sorter_get_stats(s, &mid);
    if (budget >= 4096)
        assert_true(mid.peak_bytes <= budget); /* rows are small: the budget holds */
    assert_int_equal(ah_sorter_finish(s), AH_OK);
    qsort(ref, n, sizeof *ref, ref_cmp);
    ah_row out;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(ah_sorter_next(s, &out), AH_OK);
        /* spans in ref still point into the generator's copies (rows[]) */
        assert_row_equal(&out, &ref[i].row);
    }
    assert_int_equal(ah_sorter_next(s, &out), AH_END);
    assert_int_equal(ah_sorter_next(s, &out), AH_END);
    ah_sorter_stats stats;
    ah_sorter_get_stats(s, &stats);
    assert_int_equal(stats.rows, n);
    assert_int_equal(diag.count[AH_SEV_ERROR], 0);
    ah_sorter_free(s);
    free(ref);
    assert_int_equal(count_entries(tmp), 0);
    return stats;
}

static gen_row *make_rows(size_t n, uint64_t seed)
{
    gen_row *rows = malloc(n * sizeof *rows);
    assert_non_null(rows);
    for (size_t i = 0; i < n; i++)
        gen(&rows[i], i, &seed);
    return rows;
}

static void test_empty(void **state)
{
    fixture *f = *state;
    ah_sorter_stats st = run_sort(f->dir, NULL, 0, NULL, 0);
    assert_int_equal(st.runs_spilled, 0);
}

static void test_in_memory_order(void **state)
{
    fixture *f = *state;
    ah_sorter *s = ah_sorter_new(0, f->dir, NULL);
    assert_non_null(s);
    static const struct {
        bool has_time;
        int64_t sec;
        int32_t nsec;
        uint64_t seq;
        const char *tag;
    } in[] = {
        {true, 100, 5, 1, "c"},  {false, 0, 0, 9, "a2"},   {true, 100, 5, 0, "b"},  {true, -5, 0, 3, "neg"},
        {true, 100, 4, 7, "b0"}, {false, 999, 0, 2, "a1"}, {true, 100, 5, 1, "c2"}, {true, 200, 0, 0, "z"},
    };
    /* no time first (by seq), then time, then seq, then add order */
    static const char *const want[] = {"a1", "a2", "neg", "b0", "b", "c", "c2", "z"};
    for (size_t i = 0; i < AH_ARRAY_LEN(in); i++) {
        ah_row r;
        memset(&r, 0, sizeof r);
        r.has_time = in[i].has_time;
        r.time = (ah_time){in[i].sec, in[i].nsec};
        r.tie = in[i].seq;
        r.col[AH_COL_RULE_ID] = ah_span_cstr(in[i].tag);
        assert_int_equal(ah_sorter_add(s, &r), AH_OK);
    }
    ah_row out;
    assert_int_equal(ah_sorter_next(s, &out), AH_ERR_USAGE); /* not finished */
    assert_int_equal(ah_sorter_finish(s), AH_OK);
    assert_int_equal(ah_sorter_finish(s), AH_ERR_USAGE);
    assert_int_equal(ah_sorter_add(s, &out), AH_ERR_USAGE);
    for (size_t i = 0; i < AH_ARRAY_LEN(want); i++) {
        assert_int_equal(ah_sorter_next(s, &out), AH_OK);
        assert_int_equal(out.col[AH_COL_RULE_ID].n, strlen(want[i]));
        assert_memory_equal(out.col[AH_COL_RULE_ID].p, want[i], strlen(want[i]));
    }
    assert_int_equal(ah_sorter_next(s, &out), AH_END);
    ah_sorter_stats stats;
    ah_sorter_get_stats(s, &stats);
    assert_int_equal(stats.runs_spilled, 0);
    assert_null(ah_sorter_tmpdir(s)); /* nothing spilled: no directory made */
    ah_sorter_free(s);
    ah_sorter_free(NULL);
    assert_int_equal(ah_sorter_add(NULL, &out), AH_ERR_USAGE);
}

static void test_spill_many_runs(void **state)
{
    fixture *f = *state;
    size_t n = 6000;
    gen_row *rows = make_rows(n, 0x9E3779B97F4A7C15ull);
    ah_sorter_stats all_mem = run_sort(f->dir, rows, n, NULL, 64u << 20);
    assert_int_equal(all_mem.runs_spilled, 0);
    assert_int_equal(all_mem.merge_passes, 0);
    /* ~4 KiB: a run holds a dozen rows, so hundreds of runs and multi-pass merging */
    ah_sorter_stats small = run_sort(f->dir, rows, n, NULL, 4096);
    assert_true(small.runs_spilled > 3 * AH_SORTER_MAX_FANIN);
    assert_true(small.merge_passes >= 3);
    assert_true(small.bytes_spilled > 0);
    /* just over the fan-in: one small extra pass */
    ah_sorter_stats mid = run_sort(f->dir, rows, n, NULL, 48 * 1024);
    assert_true(mid.runs_spilled > 1);
    /* the minimum budget is enforced, not an endless spill of empty runs */
    ah_sorter_stats tiny = run_sort(f->dir, rows, 500, NULL, 1);
    assert_true(tiny.runs_spilled > 10);
    free(rows);
}

static void test_shuffled_input_same_output(void **state)
{
    fixture *f = *state;
    size_t n = 3000;
    gen_row *rows = make_rows(n, 12345);
    /* unique seq: then the order is independent of the add order */
    for (size_t i = 0; i < n; i++)
        rows[i].row.tie = (uint64_t)i * 7919 % 100003;
    size_t *perm = malloc(n * sizeof *perm);
    assert_non_null(perm);
    char(*first)[160] = malloc(n * sizeof *first);
    assert_non_null(first);
    uint64_t seed = 42;
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < n; i++)
            perm[i] = i;
        for (size_t i = n - 1; round > 0 && i > 0; i--) {
            size_t j = (size_t)(rng(&seed) % (i + 1));
            size_t t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        ah_sorter *s = ah_sorter_new(8192, f->dir, NULL);
        assert_non_null(s);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(ah_sorter_add(s, &rows[perm[i]].row), AH_OK);
        assert_int_equal(ah_sorter_finish(s), AH_OK);
        ah_row out;
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(ah_sorter_next(s, &out), AH_OK);
            char line[160];
            snprintf(line, sizeof line, "%d %lld.%d %llu %llu", out.has_time, (long long)out.time.sec, out.time.nsec,
                     (unsigned long long)out.tie, (unsigned long long)out.input_record);
            if (round == 0)
                memcpy(first[i], line, sizeof line);
            else
                assert_string_equal(line, first[i]);
        }
        assert_int_equal(ah_sorter_next(s, &out), AH_END);
        ah_sorter_stats stats;
        ah_sorter_get_stats(s, &stats);
        assert_true(stats.runs_spilled > 10);
        ah_sorter_free(s);
    }
    free(first);
    free(perm);
    free(rows);
}

/* Freeing before or in the middle of the merge removes every temporary file. */
static void test_free_midway_cleans_up(void **state)
{
    fixture *f = *state;
    size_t n = 2000;
    gen_row *rows = make_rows(n, 7);
    for (int stop = 0; stop < 3; stop++) {
        ah_sorter *s = ah_sorter_new(4096, f->dir, NULL);
        assert_non_null(s);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(ah_sorter_add(s, &rows[i].row), AH_OK);
        assert_non_null(ah_sorter_tmpdir(s));
        assert_true(count_entries(ah_sorter_tmpdir(s)) > 0);
        if (stop >= 1)
            assert_int_equal(ah_sorter_finish(s), AH_OK);
        if (stop >= 2) {
            ah_row out;
            for (int i = 0; i < 100; i++)
                assert_int_equal(ah_sorter_next(s, &out), AH_OK);
        }
        ah_sorter_free(s);
        assert_int_equal(count_entries(f->dir), 0);
    }
    free(rows);
}

static void test_large_rows(void **state)
{
    fixture *f = *state;
    /* rows bigger than the whole budget are accepted and spilled alone */
    size_t big = 20000;
    char *text = malloc(big);
    assert_non_null(text);
    for (size_t i = 0; i < big; i++)
        text[i] = (char)('A' + i % 26);
    ah_sorter *s = ah_sorter_new(2048, f->dir, NULL);
    assert_non_null(s);
    for (int i = 0; i < 10; i++) {
        ah_row r;
        memset(&r, 0, sizeof r);
        r.has_time = true;
        r.time.sec = 10 - i;
        r.raw = ah_span_make(text, big - (size_t)i);
        r.col[AH_COL_DETAILS] = ah_span_make(text + i, 100);
        assert_int_equal(ah_sorter_add(s, &r), AH_OK);
    }
    assert_int_equal(ah_sorter_finish(s), AH_OK);
    ah_row out;
    for (int i = 9; i >= 0; i--) {
        assert_int_equal(ah_sorter_next(s, &out), AH_OK);
        assert_int_equal(out.time.sec, 10 - i);
        assert_int_equal(out.raw.n, big - (size_t)i);
        assert_memory_equal(out.raw.p, text, out.raw.n);
        assert_memory_equal(out.col[AH_COL_DETAILS].p, text + i, 100);
    }
    assert_int_equal(ah_sorter_next(s, &out), AH_END);
    ah_sorter_stats stats;
    ah_sorter_get_stats(s, &stats);
    assert_true(stats.runs_spilled >= 9);
    ah_sorter_free(s);
    free(text);
}

/* A spill that cannot create its directory fails cleanly and says why. */
static void test_unwritable_tmpdir(void **state)
{
    (void)state;
    ah_diag diag = {0};
    ah_sorter *s = ah_sorter_new(1024, "/nonexistent/ah-sort-parent", &diag);
    assert_non_null(s);
    gen_row g;
    uint64_t seed = 1;
    ah_status st = AH_OK;
    for (uint64_t i = 0; i < 200 && st == AH_OK; i++) {
        gen(&g, i, &seed);
        st = ah_sorter_add(s, &g.row);
    }
    assert_int_equal(st, AH_ERR_IO);
    assert_int_equal(diag.count[AH_SEV_ERROR], 1);
    assert_int_equal(ah_sorter_add(s, &g.row), AH_ERR_IO); /* stays failed */
    assert_int_equal(ah_sorter_finish(s), AH_ERR_IO);
    ah_sorter_free(s);
}

/* $TMPDIR is used when no directory is given. */
static void test_tmpdir_from_env(void **state)
{
    fixture *f = *state;
    char *old = getenv("TMPDIR") ? strdup(getenv("TMPDIR")) : NULL;
    setenv("TMPDIR", f->dir, 1);
    gen_row *rows = make_rows(400, 99);
    ah_sorter *s = ah_sorter_new(2048, NULL, NULL);
    assert_non_null(s);
    for (size_t i = 0; i < 400; i++)
        assert_int_equal(ah_sorter_add(s, &rows[i].row), AH_OK);
    const char *dir = ah_sorter_tmpdir(s);
    assert_non_null(dir);
    assert_int_equal(strncmp(dir, f->dir, strlen(f->dir)), 0);
    assert_non_null(strstr(dir + strlen(f->dir), "-sort-")); /* audithound-<host>-<pid>-sort-XXXXXX */
    assert_int_equal(strncmp(dir + strlen(f->dir), "/audithound-", 12), 0);
    struct stat sb;
    assert_int_equal(stat(dir, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
    ah_sorter_free(s);
    if (old) {
        setenv("TMPDIR", old, 1);
        free(old);
    } else {
        unsetenv("TMPDIR");
    }
    free(rows);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_in_memory_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spill_many_runs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shuffled_input_same_output, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_midway_cleans_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_rows, setup, teardown),
        cmocka_unit_test(test_unwritable_tmpdir),
        cmocka_unit_test_setup_teardown(test_tmpdir_from_env, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
