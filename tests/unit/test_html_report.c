/*
 * test_html_report.c: the HTML report's escaping, its bounded top-N
 * counters, the story cap and the chart's widening buckets (analyzer/output/
 * html.c, topn.c). The page in a browser is tested end to end
 * (tests/e2e/cases/hunt_html-chromium-*).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/output/html.h"
#include "analyzer/output/topn.h"
#include "support/tmpdir.h"

static void escaped(const char *in, size_t n, const char *want)
{
    ah_buf b;
    ah_buf_init(&b, 0);
    assert_int_equal(ah_html_escape(&b, ah_span_make(in, n)), AH_OK);
    assert_string_equal(ah_buf_cstr(&b), want);
    ah_buf_free(&b);
}

static void test_escape(void **state)
{
    (void)state;
    escaped("<script>alert('x')</script>", 27, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
    escaped("a\"b&c", 5, "a&quot;b&amp;c");
    escaped("tab\tnl\nesc\x1b[2J\x7f", 15, "tab\tnl\nesc\\x1b[2J\\x7f");
    escaped("bad \xff\xc3", 6, "bad \\xff\\xc3");
    escaped("\xe2\x80\xae"
            "exe.txt",
            10,
            "\\u202e"
            "exe.txt");                /* bidirectional override */
    escaped("\xc2\x85", 2, "\\u0085"); /* C1 control */
    escaped("caf\xc3\xa9 \xf0\x9f\x98\x80", 10, "caf\xc3\xa9 \xf0\x9f\x98\x80");
    escaped("", 0, "");
}

static void test_topn_exact_and_bounded(void **state)
{
    (void)state;
    ah_topn t;
    assert_int_equal(ah_topn_init(&t, 4), AH_OK);
    const char *vals[] = {"b", "a", "b", "c", "b", "a", "", "d"};
    for (size_t i = 0; i < 8; i++)
        ah_topn_add(&t, ah_span_cstr(vals[i]), 1, (int)i);
    ah_topn_add(&t, AH_SPAN_NULL, 1, 0);
    const ah_topn_entry *top[3];
    assert_int_equal(ah_topn_top(&t, top, 3), 3);
    assert_true(ah_topn_exact(&t));
    assert_int_equal(top[0]->count, 3);
    assert_memory_equal(top[0]->value, "b", 1);
    assert_int_equal(top[0]->extra, 4); /* the largest tag seen */
    assert_int_equal(top[1]->count, 2);
    assert_memory_equal(top[1]->value, "a", 1);
    assert_int_equal(top[2]->count, 1); /* c and d tie: value order */
    assert_memory_equal(top[2]->value, "c", 1);
    /* a fifth value replaces the smallest and inherits its count: an upper bound */
    ah_topn_add(&t, ah_span_cstr("e"), 1, 0);
    assert_false(ah_topn_exact(&t));
    assert_int_equal(ah_topn_top(&t, top, 3), 3);
    assert_int_equal(top[0]->count, 3);
    /* a heavy value in a stream of many distinct ones is kept */
    char v[16];
    for (int i = 0; i < 10000; i++) {
        snprintf(v, sizeof v, "x%d", i);
        ah_topn_add(&t, ah_span_cstr(v), 1, 0);
        ah_topn_add(&t, ah_span_cstr("heavy"), 1, 0);
    }
    assert_int_equal(ah_topn_top(&t, top, 1), 1);
    assert_memory_equal(top[0]->value, "heavy", 5);
    assert_true(top[0]->count >= 10000);
    ah_topn_free(&t);
}

static int setup(void **state) { return ah_test_tmpdir_setup(state, "ah-html", "report.html"); }
static int teardown(void **state) { return ah_test_tmpdir_teardown(state); }

static void hit_row(ah_row *r, int64_t sec, const char *user)
{
    memset(r, 0, sizeof *r);
    r->has_time = true;
    r->time.sec = sec;
    r->level = AH_LEVEL_HIGH;
    r->col[AH_COL_USER] = ah_span_cstr(user);
    r->col[AH_COL_OPERATION] = ah_span_cstr("New-InboxRule");
    r->raw = ah_span_cstr("{\"UserId\":\"<b>x</b>\",\"a\":[1,{}]}");
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

/* The story stops at its cap with a note naming the timeline; pivots count every row; events over
 * decades widen the chart's buckets instead of growing. */
static void test_story_cap_and_chart(void **state)
{
    ah_test_tmpdir *f = *state;
    ah_html_options o = {.path = f->path, .story_max_rows = 3, .timeline_path = "t<1>.csv"};
    ah_status st;
    ah_html *h = ah_html_open(&o, NULL, &st);
    assert_non_null(h);
    for (int64_t i = 0; i < 200000; i++) /* one event every 3 hours from 1970 on: 68 years */
        ah_html_count_event(h, AH_SOURCE_UAL, true, (ah_time){i * 3600 * 3, 0});
    ah_html_count_event(h, AH_SOURCE_SIGNIN, false, (ah_time){0, 0});
    ah_html_case c = {.version = "v", .started = "2021-01-01T00:00:00Z", .events = 200001};
    assert_int_equal(ah_html_begin(h, &c), AH_OK);
    ah_row r;
    for (int i = 0; i < 10; i++) {
        hit_row(&r, 1610500000 + i * 60, i % 2 ? "a@contoso.com" : "<script>b</script>");
        assert_int_equal(ah_html_write(h, &r), AH_OK);
    }
    ah_html_stats stats;
    assert_int_equal(ah_html_close(h, &stats), AH_OK);
    assert_int_equal(stats.rows, 10);
    assert_int_equal(stats.story_rows, 3);
    assert_int_equal(stats.story_omitted, 7);
    assert_true(stats.chart_hours > 24 * 7); /* widened, bounded columns */
    size_t n = 0;
    char *page = ah_test_slurp(f->path, &n);
    assert_non_null(page);
    assert_int_equal(count(page, "<details class=\"row high\">"), 3);
    assert_non_null(strstr(page, "7 more hit rows are in the full timeline, <code>t&lt;1&gt;.csv</code>"));
    assert_null(strstr(page, "<script>"));
    assert_non_null(
        strstr(page, "&lt;script&gt;b&lt;/script&gt;</td><td class=\"n\">5</td>"));        /* pivot over all rows */
    assert_non_null(strstr(page, "&quot;UserId&quot;: &quot;&lt;b&gt;x&lt;/b&gt;&quot;")); /* record, indented */
    assert_true(count(page, "<rect") <= 2 * AH_HTML_CHART_COLUMNS);
    assert_non_null(strstr(page, "Events without a time are not shown."));
    free(page);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_topn_exact_and_bounded),
        cmocka_unit_test_setup_teardown(test_story_cap_and_chart, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
