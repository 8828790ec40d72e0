/*
 * test_hunt.c: the hunt pipeline as a library: rows per hit in time order
 * whatever the input order, the super-timeline, severity / tag / time
 * filters, and the per-rule counts the summaries use.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "analyzer/engine/hunt.h"
#include "parsers/formats/opcanon.h"

static const char rules_text[] =
    "rule r-high {\n  title \"Credential added\"\n  severity high\n  tags solarwinds attack.T1098.001\n"
    "  sources ual\n  match operation == \"Add service principal credentials\"\n  details \"{user} on {target}\"\n}\n"
    "rule r-low {\n  title \"Any admin action\"\n  severity low\n  tags bec\n  sources ual\n"
    "  match user == \"admin@contoso.com\"\n}\n";

typedef struct fixture {
    ah_ruleset *rs;
    ah_buf canon[4];
    ah_event ev[4];
} fixture;

/* Four events, given out of time order. */
static void make_events(fixture *f)
{
    static const struct {
        int64_t sec;
        const char *op, *user, *target;
    } spec[4] = {
        {1610557660, "Add service principal credentials.", "admin@contoso.com", "MailSync"}, /* hits r-high, r-low */
        {1610557600, "Update user.", "admin@contoso.com", "bob"},                            /* hits r-low */
        {1610557700, "Update user.", "eve@contoso.com", "bob"},                              /* no hit */
        {1610557500, "Add service principal credentials", "eve@contoso.com", "Other"},       /* hits r-high */
    };
    for (int i = 0; i < 4; i++) {
        ah_event *e = &f->ev[i];
        memset(e, 0, sizeof *e);
        e->source = AH_SOURCE_UAL;
        e->has_time = true;
        e->time = (ah_time){spec[i].sec, 0};
        e->record_no = (uint64_t)i + 1;
        e->field[AH_F_OPERATION] = ah_span_cstr(spec[i].op);
        e->field[AH_F_USER] = ah_span_cstr(spec[i].user);
        e->field[AH_F_TARGET] = ah_span_cstr(spec[i].target);
        ah_buf_init(&f->canon[i], 0);
        ah_opcanon(e->field[AH_F_OPERATION], &f->canon[i]);
        e->operation_canon = ah_buf_span(&f->canon[i]);
        e->raw = e->body = ah_span_cstr("{}");
    }
}

static int setup(void **state)
{
    static fixture f; /* test-only */
    memset(&f, 0, sizeof f);
    f.rs = ah_ruleset_new(NULL);
    if (!f.rs || ah_ruleset_load_string(f.rs, "t.rules", rules_text, strlen(rules_text)) != AH_OK ||
        ah_ruleset_compile(f.rs) != AH_OK)
        return -1;
    make_events(&f);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < 4; i++)
        ah_buf_free(&f->canon[i]);
    ah_ruleset_free(f->rs);
    return 0;
}

/* Run a hunt and return the rows as "time-second rule_id" lines. */
static void run(fixture *f, const ah_hunt_options *o, char *out, size_t size, const ah_hunt_stats **stats,
                ah_hunt **keep)
{
    ah_hunt *h = ah_hunt_new(f->rs, o, NULL);
    assert_non_null(h);
    for (int i = 0; i < 4; i++)
        assert_int_equal(ah_hunt_add(h, &f->ev[i]), AH_OK);
    assert_int_equal(ah_hunt_finish(h), AH_OK);
    ah_row row;
    size_t n = 0;
    out[0] = '\0';
    ah_status st;
    while ((st = ah_hunt_next(h, &row)) == AH_OK) {
        ah_span id = row.col[AH_COL_RULE_ID];
        n += (size_t)snprintf(out + n, size - n, "%lld %.*s|", (long long)row.time.sec % 1000, (int)id.n,
                              id.p ? id.p : "-");
    }
    assert_int_equal(st, AH_END);
    *stats = ah_hunt_get_stats(h);
    *keep = h;
}

static void test_rows_in_time_order(void **state)
{
    fixture *f = *state;
    ah_hunt_options o = {.min_level = AH_LEVEL_INFO};
    char out[512];
    const ah_hunt_stats *st;
    ah_hunt *h;
    run(f, &o, out, sizeof out, &st, &h);
    /* one row per event: both rules of the event at 660 on one row, highest level first */
    assert_string_equal(out, "500 r-high|600 r-low|660 r-high; r-low|");
    assert_int_equal(st->hits, 4);
    assert_int_equal(st->rows, 3);
    assert_int_equal(st->by_level[AH_LEVEL_HIGH], 2);
    assert_int_equal(st->by_rule[0], 2);
    assert_int_equal(st->by_rule[1], 2);
    ah_hunt_free(h);
}

static void test_rows_per_rule(void **state)
{
    fixture *f = *state;
    ah_hunt_options o = {.min_level = AH_LEVEL_INFO, .per_rule = true};
    char out[512];
    const ah_hunt_stats *st;
    ah_hunt *h;
    run(f, &o, out, sizeof out, &st, &h);
    assert_string_equal(out, "500 r-high|600 r-low|660 r-high|660 r-low|");
    assert_int_equal(st->hits, 4);
    assert_int_equal(st->rows, 4);
    ah_hunt_free(h);
}

static void test_super_timeline_joins_rules(void **state)
{
    fixture *f = *state;
    ah_hunt_options o = {.all = true, .min_level = AH_LEVEL_INFO};
    char out[512];
    const ah_hunt_stats *st;
    ah_hunt *h;
    run(f, &o, out, sizeof out, &st, &h);
    assert_string_equal(out, "500 r-high|600 r-low|660 r-high; r-low|700 |");
    assert_int_equal(st->rows, 4);
    assert_int_equal(st->hits, 4);
    ah_hunt_free(h);
}

static void test_filters(void **state)
{
    fixture *f = *state;
    char out[512];
    const ah_hunt_stats *st;
    ah_hunt *h;
    ah_hunt_options o = {.min_level = AH_LEVEL_MEDIUM};
    run(f, &o, out, sizeof out, &st, &h);
    assert_string_equal(out, "500 r-high|660 r-high|");
    ah_hunt_free(h);

    o = (ah_hunt_options){.min_level = AH_LEVEL_INFO, .tags = "bec"};
    run(f, &o, out, sizeof out, &st, &h);
    assert_string_equal(out, "600 r-low|660 r-low|");
    ah_hunt_free(h);

    o = (ah_hunt_options){.min_level = AH_LEVEL_INFO, .tags = " T1098.001 "}; /* ATT&CK id without "attack." */
    run(f, &o, out, sizeof out, &st, &h);
    assert_string_equal(out, "500 r-high|660 r-high|");
    ah_hunt_free(h);

    /* window [600, 660]: both ends inclusive */
    o = (ah_hunt_options){
        .min_level = AH_LEVEL_INFO, .has_from = true, .from = {1610557600, 0}, .has_to = true, .to = {1610557660, 0}};
    run(f, &o, out, sizeof out, &st, &h);
    assert_string_equal(out, "600 r-low|660 r-high; r-low|");
    assert_int_equal(st->events, 4);
    assert_int_equal(st->events_outside, 2);
    ah_hunt_free(h);
}

static void test_result_rendering(void **state)
{
    (void)state;
    ah_event e = {0};
    ah_buf b;
    ah_buf_init(&b, 0);
    e.result = AH_RESULT_FAILURE;
    e.field[AH_F_RESULT_CODE] = ah_span_cstr("50126");
    ah_hunt_render_result(&e, &b);
    assert_string_equal(ah_buf_cstr(&b), "failure (50126)");
    ah_buf_reset(&b);
    e.result = AH_RESULT_SUCCESS;
    e.field[AH_F_RESULT_CODE] = ah_span_cstr("Succeeded");
    ah_hunt_render_result(&e, &b);
    assert_string_equal(ah_buf_cstr(&b), "success");
    ah_buf_reset(&b);
    e.result = AH_RESULT_UNKNOWN;
    e.field[AH_F_RESULT_CODE] = ah_span_cstr("PartiallySucceeded");
    ah_hunt_render_result(&e, &b);
    assert_string_equal(ah_buf_cstr(&b), "unknown (PartiallySucceeded)");
    ah_buf_free(&b);
}

/* A correlation rule over events given out of time order: one row, at the
 * time of the first contributing event, listing the contributing records. */
static void test_correlation_rows(void **state)
{
    (void)state;
    static const char text[] =
        "correlation two-credentials {\n  title \"Two credentials in ten minutes\"\n  severity medium\n"
        "  sources ual\n  match operation == \"Add service principal credentials\"\n  window 10m\n"
        "  when count >= 2\n  details \"{count} credentials\"\n}\n";
    ah_ruleset *rs = ah_ruleset_new(NULL);
    assert_non_null(rs);
    assert_int_equal(ah_ruleset_load_string(rs, "c.rules", text, strlen(text)), AH_OK);
    assert_int_equal(ah_ruleset_compile(rs), AH_OK);
    fixture f;
    make_events(&f);
    f.ev[0].field[AH_F_RECORD_ID] = ah_span_cstr("id-660");
    f.ev[3].field[AH_F_RECORD_ID] = ah_span_cstr("id-500");
    ah_hunt_options o = {.min_level = AH_LEVEL_INFO};
    ah_hunt *h = ah_hunt_new(rs, &o, NULL);
    assert_non_null(h);
    for (int i = 0; i < 4; i++) /* the credential at :660 comes before the one at :500 */
        assert_int_equal(ah_hunt_add(h, &f.ev[i]), AH_OK);
    assert_int_equal(ah_hunt_finish(h), AH_OK);
    ah_row row;
    assert_int_equal(ah_hunt_next(h, &row), AH_OK);
    assert_int_equal(row.time.sec, 1610557500);
    assert_true(ah_span_eq(row.col[AH_COL_RULE_ID], "two-credentials"));
    assert_true(ah_span_eq(row.col[AH_COL_DETAILS], "2 credentials"));
    assert_true(ah_span_eq(row.col[AH_COL_RECORD_ID], "id-500 id-660"));
    char raw[512];
    assert_true(row.raw.n < sizeof raw);
    memcpy(raw, row.raw.p, row.raw.n);
    raw[row.raw.n] = '\0';
    assert_non_null(strstr(raw, "\"record_ids\":[\"id-500\",\"id-660\"]"));
    assert_int_equal(ah_hunt_next(h, &row), AH_END);
    assert_int_equal(ah_hunt_get_stats(h)->hits, 1);
    ah_hunt_free(h);
    for (int i = 0; i < 4; i++)
        ah_buf_free(&f.canon[i]);
    ah_ruleset_free(rs);
}

/* An empty timeline ends at once and leaves the caller's row alone (a
 * corruption run once caught a read of it in --all mode). */
static void test_empty_timeline(void **state)
{
    fixture *f = *state;
    ah_hunt_options o = {.all = true, .min_level = AH_LEVEL_INFO};
    ah_hunt *h = ah_hunt_new(f->rs, &o, NULL);
    assert_non_null(h);
    assert_int_equal(ah_hunt_finish(h), AH_OK);
    ah_row row;
    memset(&row, 0, sizeof row);
    row.raw.n = 100; /* stale length, NULL pointer */
    assert_int_equal(ah_hunt_next(h, &row), AH_END);
    assert_int_equal(ah_hunt_get_stats(h)->rows, 0);
    ah_hunt_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows_in_time_order),
        cmocka_unit_test(test_rows_per_rule),
        cmocka_unit_test(test_super_timeline_joins_rules),
        cmocka_unit_test(test_filters),
        cmocka_unit_test(test_result_rendering),
        cmocka_unit_test(test_correlation_rows),
        cmocka_unit_test(test_empty_timeline),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
