/*
 * test_partial.c: partials (hunt --partial) and their merge. The merge of
 * any sharding of a set of inputs gives the rows, counts and account of
 * one hunt over all of them: duplicates across shards (by digest and by a
 * directory audit's second identity) are dropped once, in the copy a
 * single run drops; an input in two shards counts once whichever partial
 * comes first; a partial altered after it was written is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer/audithound.h"
#include "analyzer/engine/hunt.h"
#include "support/hunt_rows.h"
#include "analyzer/engine/names.h"
#include "analyzer/engine/partial.h"

static ah_ruleset *load_rules(void)
{
    ah_ruleset *rs = ah_ruleset_new(NULL);
    assert_non_null(rs);
    assert_int_equal(ah_ruleset_load_vars_file(rs, "samples/contoso.vars"), AH_OK);
    assert_int_equal(ah_ruleset_load_path(rs, "rules"), AH_OK);
    assert_int_equal(ah_ruleset_compile(rs), AH_OK);
    return rs;
}

/* Every row as text, then the hunt's counts and the session's account. */
static void describe(ah_hunt *h, const ah_ruleset *rs, const ah_session *s, ah_buf *out)
{
    assert_int_equal(ah_hunt_finish(h), AH_OK);
    assert_int_equal(hunt_rows_text(h, out), AH_END);
    const ah_hunt_stats *hs = ah_hunt_get_stats(h);
    ah_buf_printf(out, "events %llu outside %llu hits %llu rows %llu observations %llu joined %llu names %llu\n",
                  (unsigned long long)hs->events, (unsigned long long)hs->events_outside, (unsigned long long)hs->hits,
                  (unsigned long long)hs->rows, (unsigned long long)hs->observations,
                  (unsigned long long)hs->twins_joined, (unsigned long long)hs->names_resolved);
    for (size_t i = 0; i < ah_ruleset_count(rs); i++)
        ah_buf_printf(out, "%llu ", (unsigned long long)hs->by_rule[i]);
    ah_buf_putc(out, '\n');
    for (size_t i = 0; i < ah_session_stream_count(s); i++) {
        const ah_stream_report *r = ah_session_stream(s, i);
        ah_buf_printf(out, "stream %s %s %llu = %llu + %llu + %llu\n", r->path, r->entry ? r->entry : "-",
                      (unsigned long long)r->records, (unsigned long long)r->events, (unsigned long long)r->duplicates,
                      (unsigned long long)r->errors);
    }
    for (int k = 0; k < AH_SOURCE_COUNT; k++) {
        ah_coverage c = ah_session_coverage(s, (ah_source_kind)k);
        ah_buf_printf(out, "coverage %d %llu %lld %lld %llu\n", k, (unsigned long long)c.events, (long long)c.first.sec,
                      (long long)c.last.sec, (unsigned long long)c.empty_hours);
    }
    for (size_t i = 0; i < ah_session_file_count(s); i++) {
        ah_file_report f = ah_session_file(s, i);
        ah_buf_printf(out, "file %s %llu %s\n", f.path, (unsigned long long)f.size, f.sha256);
    }
}

static ah_hunt_options hunt_options(ah_names *names)
{
    ah_hunt_options o = {.min_level = AH_LEVEL_INFO, .names = names, .threads = 1};
    return o;
}

/* One hunt over the inputs, described. */
static void single(const ah_ruleset *rs, const char *const *inputs, size_t n, ah_buf *out)
{
    ah_session_options so;
    ah_session_options_init(&so);
    ah_session *s = ah_session_new(&so);
    ah_names *names = ah_names_new(0);
    assert_non_null(s);
    assert_non_null(names);
    assert_int_equal(ah_session_add_inputs(s, inputs, n), AH_OK);
    ah_hunt_options o = hunt_options(names);
    ah_hunt *h = ah_hunt_new(rs, &o, NULL);
    assert_non_null(h);
    const ah_event *ev;
    ah_status st;
    while ((st = ah_session_next(s, &ev)) == AH_OK)
        assert_int_equal(ah_hunt_add(h, ev), AH_OK);
    assert_int_equal(st, AH_END);
    describe(h, rs, s, out);
    ah_hunt_free(h);
    ah_names_free(names);
    ah_session_free(s);
}

/* A shard: hunt --partial over the inputs into dir. */
static void shard(const ah_ruleset *rs, const char *dir, const char *const *inputs, size_t n)
{
    ah_status st;
    ah_partial_writer *w = ah_partial_create(dir, NULL, &st);
    assert_non_null(w);
    ah_session_options so;
    ah_session_options_init(&so);
    so.identity_fn = ah_partial_identity;
    so.identity_ud = w;
    ah_session *s = ah_session_new(&so);
    ah_names *names = ah_names_new(0);
    assert_non_null(s);
    assert_non_null(names);
    assert_int_equal(ah_session_add_inputs(s, inputs, n), AH_OK);
    ah_hunt_options o = hunt_options(names);
    o.partial = true;
    ah_hunt *h = ah_hunt_new(rs, &o, NULL);
    assert_non_null(h);
    const ah_event *ev;
    while ((st = ah_session_next(s, &ev)) == AH_OK)
        assert_int_equal(ah_hunt_add(h, ev), AH_OK);
    assert_int_equal(st, AH_END);
    assert_int_equal(ah_hunt_finish(h), AH_OK);
    const char *header[] = {"version test", "ruleset test"};
    assert_int_equal(ah_partial_finish(w, s, h, names, header, 2), AH_OK);
    ah_partial_writer_free(w);
    ah_hunt_free(h);
    ah_names_free(names);
    ah_session_free(s);
}

/* The merge of the partials in dirs, described. */
static ah_status merge_within(const ah_ruleset *rs, const char *const *dirs, size_t n, size_t key_budget, ah_buf *out)
{
    ah_partial *parts[8];
    assert_true(n <= 8);
    for (size_t i = 0; i < n; i++) {
        ah_status st;
        parts[i] = ah_partial_open(dirs[i], NULL, &st);
        assert_non_null(parts[i]);
        assert_string_equal(ah_partial_value(parts[i], "ruleset"), "test");
        assert_int_equal(strlen(ah_partial_hash(parts[i])), 64);
    }
    ah_session_options so;
    ah_session_options_init(&so);
    ah_session *s = ah_session_new_account(&so);
    ah_names *names = ah_names_new(0);
    assert_non_null(s);
    assert_non_null(names);
    ah_hunt_options o = hunt_options(names);
    ah_hunt *h = ah_hunt_new(rs, &o, NULL);
    assert_non_null(h);
    ah_status st = ah_partial_merge(parts, n, false, key_budget, NULL, s, h, names, NULL, NULL, NULL);
    if (st == AH_OK) {
        describe(h, rs, s, out);
        assert_int_equal(ah_session_totals(s).dedup_passes, key_budget ? 2 : 1); /* a small budget did spill */
    }
    ah_hunt_free(h);
    ah_names_free(names);
    ah_session_free(s);
    for (size_t i = 0; i < n; i++)
        ah_partial_free(parts[i]);
    return st;
}

static ah_status merge(const ah_ruleset *rs, const char *const *dirs, size_t n, ah_buf *out)
{
    return merge_within(rs, dirs, n, 0, out);
}

typedef struct fixture {
    char dir[64];
    ah_ruleset *rs;
    char path[8][128]; /* scratch paths */
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    strcpy(f->dir, "/tmp/ah-test-partial-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->rs = load_rules();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    ah_ruleset_free(f->rs);
    free(f);
    return 0;
}

static const char *scratch(fixture *f, int i, const char *name)
{
    snprintf(f->path[i], sizeof f->path[i], "%s/%s", f->dir, name);
    return f->path[i];
}

/* Lines [from, to) of a file into path. */
static void copy_lines(const char *src, const char *dst, int from, int to)
{
    FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
    assert_non_null(in);
    assert_non_null(out);
    char line[65536];
    for (int n = 0; fgets(line, sizeof line, in); n++)
        if (n >= from && n < to)
            fputs(line, out);
    fclose(in);
    assert_int_equal(fclose(out), 0);
}

static void assert_same(const ah_buf *a, const ah_buf *b)
{
    if (a->len != b->len || memcmp(a->data, b->data, a->len) != 0) {
        fprintf(stderr, "--- single\n%.*s\n--- merged\n%.*s\n", (int)a->len, a->data, (int)b->len, b->data);
        fail();
    }
}

/* The tenant sample, one file per shard in three shards: one run's rows. */
static void test_split_by_file(void **state)
{
    fixture *f = *state;
    const char *all[] = {"samples/tenant"};
    const char *s1[] = {"samples/tenant/UAL-2021-01.jsonl", "samples/tenant/azure-monitor-PT1H.json",
                        "samples/tenant/signins-graph-page.json"};
    const char *s2[] = {"samples/tenant/AuditLogs-portal.csv",
                        "samples/tenant/InteractiveSignIns_2021-01-10_2021-01-17.csv",
                        "samples/tenant/ual-search-2021-01-13.csv"};
    const char *s3[] = {"samples/tenant/ApplicationSignIns_2021-01-10_2021-01-17.json",
                        "samples/tenant/directoryAudits.json", "samples/tenant/mgmt-api-content.json",
                        "samples/tenant/purview-audit-2021-01.csv"};
    shard(f->rs, scratch(f, 0, "p1"), s1, 3);
    shard(f->rs, scratch(f, 1, "p2"), s2, 3);
    shard(f->rs, scratch(f, 2, "p3"), s3, 4);
    ah_buf one, merged, other;
    ah_buf_init(&one, 0);
    ah_buf_init(&merged, 0);
    ah_buf_init(&other, 0);
    single(f->rs, all, 1, &one);
    const char *dirs[] = {f->path[2], f->path[0], f->path[1]};
    assert_int_equal(merge(f->rs, dirs, 3, &merged), AH_OK);
    assert_same(&one, &merged);
    const char *rev[] = {f->path[1], f->path[2], f->path[0]};
    assert_int_equal(merge(f->rs, rev, 3, &other), AH_OK);
    assert_same(&one, &other);
    assert_non_null(strstr(ah_buf_cstr(&one), "signin+ual")); /* twins from different shards were joined */
    ah_buf_free(&one);
    ah_buf_free(&merged);
    ah_buf_free(&other);
}

/* Records exported twice, the copies in different shards: dropped once,
 * in the later file, as one run drops them; the portal CSV's directory
 * audits are the JSON's by their second identity. */
static void test_duplicates_across_shards(void **state)
{
    fixture *f = *state;
    const char *a = scratch(f, 3, "a.jsonl"), *b = scratch(f, 4, "b.jsonl");
    copy_lines("samples/tenant/UAL-2021-01.jsonl", a, 0, 20);
    copy_lines("samples/tenant/UAL-2021-01.jsonl", b, 10, 1000);
    const char *both[] = {a, b, "samples/tenant/AuditLogs-portal.csv", "samples/tenant/directoryAudits.json"};
    const char *s1[] = {a, "samples/tenant/directoryAudits.json"};
    const char *s2[] = {b, "samples/tenant/AuditLogs-portal.csv"};
    shard(f->rs, scratch(f, 0, "d1"), s1, 2);
    shard(f->rs, scratch(f, 1, "d2"), s2, 2);
    ah_buf one, merged;
    ah_buf_init(&one, 0);
    ah_buf_init(&merged, 0);
    single(f->rs, both, 4, &one);
    const char *dirs[] = {f->path[0], f->path[1]};
    assert_int_equal(merge(f->rs, dirs, 2, &merged), AH_OK);
    assert_same(&one, &merged);
    /* the key set past its budget: keys sorted to disk, the identities walked twice, the same result */
    ah_buf small;
    ah_buf_init(&small, 0);
    assert_int_equal(merge_within(f->rs, dirs, 2, 1024, &small), AH_OK);
    assert_same(&one, &small);
    ah_buf_free(&small);
    /* the copies are dropped from the later file: b (10 lines of a again) and the JSON audits */
    char want[256];
    snprintf(want, sizeof want, "stream %s - ", b);
    const char *line = strstr(ah_buf_cstr(&one), want);
    assert_non_null(line);
    unsigned long long rec, ev, dup, err;
    assert_int_equal(sscanf(line + strlen(want), "%llu = %llu + %llu + %llu", &rec, &ev, &dup, &err), 4);
    assert_int_equal(dup, 10);
    line = strstr(ah_buf_cstr(&one), "stream samples/tenant/directoryAudits.json - ");
    assert_non_null(line);
    assert_int_equal(sscanf(strchr(line, '-') + 2, "%llu = %llu + %llu + %llu", &rec, &ev, &dup, &err), 4);
    assert_true(dup > 0); /* second identities: the CSV (read first) has no record id */
    ah_buf_free(&one);
    ah_buf_free(&merged);
}

/* The same file in two shards counts once, whichever partial comes first. */
static void test_overlap(void **state)
{
    fixture *f = *state;
    const char *s1[] = {"samples/tenant/UAL-2021-01.jsonl", "samples/tenant/signins-graph-page.json"};
    const char *s2[] = {"samples/tenant/signins-graph-page.json", "samples/tenant/ual-search-2021-01-13.csv"};
    const char *all[] = {"samples/tenant/UAL-2021-01.jsonl", "samples/tenant/signins-graph-page.json",
                         "samples/tenant/ual-search-2021-01-13.csv"};
    shard(f->rs, scratch(f, 0, "o1"), s1, 2);
    shard(f->rs, scratch(f, 1, "o2"), s2, 2);
    ah_buf one, m1, m2, twice;
    ah_buf_init(&one, 0);
    ah_buf_init(&m1, 0);
    ah_buf_init(&m2, 0);
    ah_buf_init(&twice, 0);
    single(f->rs, all, 3, &one);
    const char *d1[] = {f->path[0], f->path[1]}, *d2[] = {f->path[1], f->path[0]};
    const char *d3[] = {f->path[1], f->path[0], f->path[1]}; /* a partial given twice */
    assert_int_equal(merge(f->rs, d1, 2, &m1), AH_OK);
    assert_int_equal(merge(f->rs, d2, 2, &m2), AH_OK);
    assert_int_equal(merge(f->rs, d3, 3, &twice), AH_OK);
    assert_same(&one, &m1);
    assert_same(&one, &m2);
    assert_same(&one, &twice);
    ah_buf_free(&one);
    ah_buf_free(&m1);
    ah_buf_free(&m2);
    ah_buf_free(&twice);
}

/* A partial altered or cut after it was written is refused, as is one
 * written over an existing partial. */
static void test_corrupt_refused(void **state)
{
    fixture *f = *state;
    const char *s1[] = {"samples/tenant/signins-graph-page.json"};
    const char *dir = scratch(f, 0, "c1");
    shard(f->rs, dir, s1, 1);
    ah_status st;
    ah_partial *p = ah_partial_open(dir, NULL, &st);
    assert_non_null(p);
    ah_partial_free(p);
    assert_null(ah_partial_create(dir, NULL, &st));
    assert_int_equal(st, AH_ERR_USAGE);
    char path[160];
    snprintf(path, sizeof path, "%s/identities", dir);
    FILE *fp = fopen(path, "r+b");
    assert_non_null(fp);
    int c = fgetc(fp);
    fseek(fp, 0, SEEK_SET);
    fputc(c ^ 1, fp);
    fclose(fp);
    assert_null(ah_partial_open(dir, NULL, &st));
    assert_int_equal(st, AH_ERR_RECORD);
    assert_int_equal(unlink(path), 0);
    assert_null(ah_partial_open(dir, NULL, &st));
    snprintf(path, sizeof path, "%s/MANIFEST", dir);
    assert_int_equal(unlink(path), 0);
    assert_null(ah_partial_open(dir, NULL, &st));
    assert_int_equal(st, AH_ERR_IO);
}

/* The canonical order of paths is a directory walk's: '/' before any byte. */
static void test_path_order(void **state)
{
    (void)state;
    assert_true(ah_path_order("samples/formats/x.csv", "samples/formats-index.md") < 0);
    assert_true(ah_path_order("samples/tenant-story.md", "samples/tenant/a.json") > 0);
    assert_true(ah_path_order("a", "a/b") < 0);
    assert_true(ah_path_order("a/b", "a") > 0);
    assert_true(ah_path_order("a/b", "a.b") < 0);
    assert_true(ah_path_order("a/b", "a/c") < 0);
    assert_int_equal(ah_path_order("x/y", "x/y"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_order),
        cmocka_unit_test_setup_teardown(test_split_by_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicates_across_shards, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overlap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
