/*
 * test_corr_baseline.c: aggregation thresholds relative to the group's own
 * baseline (`when AGG > F x baseline [at least N]` + `baseline D`): the end
 * of the learning period (an event exactly at it is checked, one nanosecond
 * before it learns), an explicit --baseline range (before it ignored, both
 * ends learn), the floor, the factor with > and >=, groups without a
 * baseline (no hit and no state), one hit per burst, {baseline}, explain,
 * and the lint errors at their exact file:line:col.
 */
#include "test_corr_util.h"

static const char *const RULES = "correlation volume {\n"
                                 "  title \"v\"\n  severity medium\n  sources ual\n"
                                 "  match operation == \"MailItemsAccessed\"\n"
                                 "  group app_id\n"
                                 "  window 1h\n"
                                 "  when sum(raw.OperationCount) > 10 x baseline\n"
                                 "       at least 500\n"
                                 "  baseline 2d\n"
                                 "  details \"{sum} items, baseline {baseline}, {count} records\"\n"
                                 "}\n"
                                 "correlation logins {\n"
                                 "  title \"l\"\n  severity low\n  sources ual\n"
                                 "  match operation == \"MailboxLogin\"\n"
                                 "  group user\n"
                                 "  window 1h\n"
                                 "  when count >= 3 x baseline\n"
                                 "  baseline 1d\n"
                                 "  details \"{count} logins, baseline {baseline}\"\n"
                                 "}\n";

typedef corr_fixture fixture;

static int setup(void **state) { return corr_fixture_setup(state, "b.rules", RULES); }

static int teardown(void **state) { return corr_fixture_teardown(state); }

/* MailItemsAccessed by app with OperationCount items; nsec_extra is added
 * to the parsed time. */
static void mail(fixture *f, const char *iso, int32_t nsec_extra, const char *id, const char *app, int items)
{
    tevent t;
    cev(&t, AH_SOURCE_UAL, iso, id);
    t.ev.time.nsec += nsec_extra;
    tevent_set(&t, AH_F_OPERATION, "MailItemsAccessed");
    tevent_set(&t, AH_F_APP_ID, app);
    char raw[96];
    snprintf(raw, sizeof raw, "{\"OperationCount\": %d}", items);
    tevent_json(&t, raw, NULL);
    /* Each call's event sits at the same address and its raw text may too:
     * tell the matcher it is a new event so it does not reuse the last one's
     * decoded JSON. */
    ah_matcher_begin_event(f->m, &t.ev);
    ah_matcher_observe(f->m, &t.ev, cobs_collect, &f->V);
    tevent_free(&t);
}

static void login(fixture *f, const char *iso, const char *id, const char *user)
{
    tevent t;
    cev(&t, AH_SOURCE_UAL, iso, id);
    tevent_set(&t, AH_F_OPERATION, "MailboxLogin");
    tevent_set(&t, AH_F_USER, user);
    ah_matcher_observe(f->m, &t.ev, cobs_collect, &f->V);
    tevent_free(&t);
}

/* Phase 2 over the collected observations (explicit range when from is
 * given); keeps the correlator's stats for the test. */
static const char *run(fixture *f, const char *from, const char *to)
{
    qsort(f->V.v, f->V.n, sizeof *f->V.v, cobs_cmp);
    ah_correlator *c = ah_correlator_new(f->rs, 0, &f->td.d);
    assert_non_null(c);
    if (from)
        assert_int_equal(ah_correlator_set_baseline(c, ctime_of(from), ctime_of(to)), AH_OK);
    ah_buf_reset(&f->out);
    for (size_t i = 0; i < f->V.n; i++) {
        ah_observation o;
        assert_int_equal(ah_observation_decode(ah_span_make(f->V.v[i].blob, f->V.v[i].len), &o), AH_OK);
        assert_int_equal(ah_correlator_feed(c, &o, chit_fn, &f->out), AH_OK);
    }
    assert_int_equal(ah_correlator_finish(c, chit_fn, &f->out), AH_OK);
    ah_correlator_get_stats(c, &f->stats);
    ah_correlator_rule_stats(c, ah_rule_metadata(ah_ruleset_find(f->rs, "volume"))->index, &f->rule_stats);
    ah_correlator_free(c);
    return ah_buf_cstr(&f->out);
}

/* `baseline 2d` from the first event (2021-01-10T00:00): [01-10, 01-12). */
static void test_learning_period_end(void **state)
{
    fixture *f = *state;
    mail(f, "2021-01-10T00:00:00Z", 0, "a1", "app1", 50);
    mail(f, "2021-01-10T00:00:00Z", 0, "b1", "app2", 40);
    /* One nanosecond before the end: learned (16 x app1's 50), no hit. */
    mail(f, "2021-01-11T23:59:59Z", 999999999, "a2", "app1", 800);
    /* Exactly at the end: checked. 600 > 10 x 40 and >= 500. */
    mail(f, "2021-01-12T00:00:00Z", 0, "b2", "app2", 600);
    /* app1 learned 800: 800 + 900 in the window is not over 8000. */
    mail(f, "2021-01-12T00:30:00Z", 0, "a3", "app1", 900);
    assert_text_equal(run(f, NULL, NULL), "volume 2021-01-12T00:00:00.0000000Z group=app2 value=600 count=1 ids=b2 "
                                          "details=600 items, baseline 40, 1 records\n");
}

/* --baseline FROM..TO: before FROM ignored (not learned), FROM and TO
 * included in the learning, after TO checked. */
static void test_explicit_range(void **state)
{
    fixture *f = *state;
    mail(f, "2021-01-09T12:00:00Z", 0, "x0", "app1", 5000); /* before: ignored */
    mail(f, "2021-01-09T12:00:00Z", 0, "y0", "app9", 5000); /* before: ignored, no group */
    mail(f, "2021-01-10T00:00:00Z", 0, "x1", "app1", 50);   /* FROM: learns */
    mail(f, "2021-01-11T00:00:00Z", 0, "x2", "app1", 700);  /* TO: learns (checked it would fire) */
    mail(f, "2021-01-11T02:00:00Z", 0, "x3", "app1", 7000); /* 7000 is not over 10 x 700 */
    mail(f, "2021-01-11T04:00:00Z", 0, "x4", "app1", 7001); /* over */
    mail(f, "2021-01-11T04:00:00Z", 0, "y1", "app9", 9000); /* no baseline */
    assert_text_equal(run(f, "2021-01-10T00:00:00Z", "2021-01-11T00:00:00Z"),
                      "volume 2021-01-11T04:00:00.0000000Z group=app1 value=7001 count=1 ids=x4 "
                      "details=7001 items, baseline 700, 1 records\n");
    assert_int_equal(f->rule_stats.groups, 1);
}

/* at least 500: over 10 x baseline is not enough below the floor; the
 * floor itself is enough (>=). */
static void test_floor(void **state)
{
    fixture *f = *state;
    mail(f, "2021-01-10T00:00:00Z", 0, "a1", "app1", 10);
    mail(f, "2021-01-12T01:00:00Z", 0, "a2", "app1", 499); /* 49.9 x, under the floor */
    mail(f, "2021-01-12T03:00:00Z", 0, "a3", "app1", 500); /* at the floor */
    assert_text_equal(run(f, NULL, NULL), "volume 2021-01-12T03:00:00.0000000Z group=app1 value=500 count=1 ids=a3 "
                                          "details=500 items, baseline 10, 1 records\n");
}

/* `>`: exactly 10 x is not over; `>=` (logins, 3 x): exactly 3 x fires. The
 * baseline is the largest window value, not the last one. */
static void test_factor(void **state)
{
    fixture *f = *state;
    mail(f, "2021-01-10T00:00:00Z", 0, "a1", "app1", 60);
    mail(f, "2021-01-10T06:00:00Z", 0, "a2", "app1", 20);  /* smaller: the max stays 60 */
    mail(f, "2021-01-12T01:00:00Z", 0, "a3", "app1", 600); /* exactly 10 x 60: no */
    mail(f, "2021-01-12T01:10:00Z", 0, "a4", "app1", 1);   /* 601 in the window: hit */
    login(f, "2021-01-10T10:00:00Z", "l1", "u@c.com");
    login(f, "2021-01-10T10:30:00Z", "l2", "u@c.com"); /* baseline 2 in an hour */
    login(f, "2021-01-10T20:00:00Z", "l3", "u@c.com");
    for (int i = 0; i < 6; i++) {
        char iso[40], id[16];
        snprintf(iso, sizeof iso, "2021-01-12T10:0%d:00Z", i);
        snprintf(id, sizeof id, "m%d", i);
        login(f, iso, id, "u@c.com"); /* the 6th is 3 x 2 */
    }
    assert_text_equal(run(f, NULL, NULL),
                      "volume 2021-01-12T01:00:00.0000000Z group=app1 value=601 count=2 ids=a3,a4 "
                      "details=601 items, baseline 60, 2 records\n"
                      "logins 2021-01-12T10:00:00.0000000Z group=u@c.com value=6 count=6 ids=m0,m1,m2,m3,m4,m5 "
                      "details=6 logins, baseline 2\n");
}

/* A group with no event while learning has no baseline: no hit, and no
 * state is created for it afterwards. */
static void test_no_baseline_group(void **state)
{
    fixture *f = *state;
    mail(f, "2021-01-10T00:00:00Z", 0, "a1", "app1", 10);
    for (int i = 0; i < 50; i++) {
        char app[16], id[16];
        snprintf(app, sizeof app, "new%d", i);
        snprintf(id, sizeof id, "n%d", i);
        mail(f, "2021-01-13T00:00:00Z", 0, id, app, 100000);
    }
    assert_text_equal(run(f, NULL, NULL), "");
    assert_int_equal(f->rule_stats.groups, 1);
    assert_int_equal(f->rule_stats.observations, 51);
    assert_int_equal(f->stats.groups, 1);
}

/* After the period, one hit per burst, as with a fixed threshold, reported
 * with the whole burst (sum and count over a2..a5, not the first window);
 * a burst starting more than the window after the last one fires again. */
static void test_one_hit_per_burst(void **state)
{
    fixture *f = *state;
    mail(f, "2021-01-10T00:00:00Z", 0, "a1", "app1", 50);
    mail(f, "2021-01-12T01:00:00Z", 0, "a2", "app1", 600);
    mail(f, "2021-01-12T01:20:00Z", 0, "a3", "app1", 600);
    mail(f, "2021-01-12T02:10:00Z", 0, "a4", "app1", 600); /* extends the burst */
    mail(f, "2021-01-12T03:10:00Z", 0, "a5", "app1", 600); /* exactly 1h after a4: still the burst */
    mail(f, "2021-01-12T04:10:01Z", 0, "a6", "app1", 600); /* a new burst */
    assert_text_equal(run(f, NULL, NULL),
                      "volume 2021-01-12T01:00:00.0000000Z group=app1 value=2400 count=4 ids=a2,a3,a4,a5 "
                      "details=2400 items, baseline 50, 4 records\n"
                      "volume 2021-01-12T04:10:01.0000000Z group=app1 value=600 count=1 ids=a6 "
                      "details=600 items, baseline 50, 1 records\n");
}

static void test_metadata_and_explain(void **state)
{
    fixture *f = *state;
    const ah_rule *r = ah_ruleset_find(f->rs, "volume");
    assert_true(ah_rule_metadata(r)->baseline_ns == (int64_t)2 * 86400 * 1000000000);
    ah_buf out;
    ah_buf_init(&out, 0);
    assert_int_equal(ah_ruleset_explain(f->rs, "volume", &out), AH_OK);
    assert_non_null(strstr(ah_buf_cstr(&out), "  when:     sum(raw(body, then record).OperationCount) > 10 x baseline "
                                              "(the group's largest window value while learning), at least 500\n"
                                              "  baseline: 172800000000000 ns (172800 s)\n"));
    ah_buf_free(&out);
}

/* --- lint ---------------------------------------------------------------- */

#define HEAD(kind, id) kind " " id " {\n  title \"t\"\n  severity high\n  sources signin ual entra_audit\n"
#define BODY "  match result == \"failure\"\n  group ip\n  window 1h\n" /* lines 5-7 */


static void test_lint_errors(void **state)
{
    (void)state;
    expect_one_error(HEAD("correlation", "a") BODY "  when count > 2 x baseline\n}\n",
                     "l.rules:8:18: error: `x baseline` needs a learning period: add `baseline 7d`");
    expect_one_error(HEAD("correlation", "a") BODY "  when count > 0 x baseline\n  baseline 7d\n}\n",
                     "l.rules:8:16: error: the factor of `x baseline` must be greater than zero, not 0\n");
    expect_one_error(HEAD("correlation", "a") BODY "  when distinct(user) >= -2.5 x baseline\n  baseline 7d\n}\n",
                     "l.rules:8:26: error: the factor of `x baseline` must be greater than zero, not -2.5\n");
    expect_one_error(HEAD("correlation", "a") BODY "  when count < 2 x baseline\n  baseline 7d\n}\n",
                     "l.rules:8:8: error: `x baseline` takes > or >=");
    expect_one_error(HEAD("correlation", "a") BODY "  when count > 2\n  baseline 7d\n}\n",
                     "l.rules:9:12: error: baseline is the learning period of a `when ... x baseline` threshold; "
                     "this rule's threshold is fixed");
    expect_one_error(HEAD("correlation", "a") BODY "  when count > 2 at least 5\n}\n",
                     "l.rules:8:18: error: `at least` is the floor of a `x baseline` threshold");
    expect_one_error(HEAD("correlation", "a") BODY "  when count > 2 x base\n  baseline 7d\n}\n",
                     "l.rules:8:20: error: expected 'baseline' after the factor");
    expect_one_error(HEAD("correlation", "a") BODY "  when count > 2 x baseline at most 5\n  baseline 7d\n}\n",
                     "l.rules:8:32: error: expected 'least' after at (at least 500), found 'most'");
    expect_one_error(HEAD("correlation", "a") BODY "  when count > 2\n  details \"{count} over {baseline}\"\n}\n",
                     "l.rules:9:11: error: details: {baseline} is the learned maximum of a `when ... x baseline` rule");
    /* Sequences and first-seen rules have no `when`, so no `x baseline`. */
    expect_one_error(HEAD("first-seen", "f") "  match operation == \"X\"\n  value ip\n  baseline 7d\n"
                                             "  when count > 2 x baseline\n}\n",
                     "l.rules:8:3: error: 'when' does not apply to a first-seen rule");
    expect_one_error(
        HEAD("sequence", "s") "  within 10m\n  step a { match operation == \"X\" key app_id }\n"
                              "  step b { match operation == \"Y\" key app_id }\n  when count > 2 x baseline\n}\n",
        "l.rules:8:3: error: 'when' does not apply to a sequence rule");
    /* The factor is not a window value: no "holds for every event" warning. */
    tdiag td;
    tdiag_init(&td);
    ah_status st;
    ah_ruleset *rs = trules(&td, "l.rules",
                            HEAD("correlation", "a") BODY "  when count > 0.5 x baseline at least 3\n  baseline 1d\n"
                                                          "  details \"{count}, baseline {baseline}\"\n}\n",
                            &st);
    assert_int_equal(st, AH_OK);
    assert_int_equal(td.d.count[AH_SEV_ERROR], 0);
    assert_null(strstr(tdiag_str(&td), "holds for every event"));
    ah_ruleset_free(rs);
    tdiag_free(&td);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_learning_period_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_explicit_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_floor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_factor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_baseline_group, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_hit_per_burst, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metadata_and_explain, setup, teardown),
        cmocka_unit_test(test_lint_errors),
    };
    return cmocka_run_group_tests_name("corr_baseline", tests, NULL, NULL);
}
