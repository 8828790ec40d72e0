/*
 * test_corr_story.c: the rule-language parts that make a correlation row
 * tell the story (issue 9): `when` terms joined by or and `per source`
 * (several addresses, systems or clients of one session or token),
 * `escalate LEVEL when any admin` (facts of the case knowledge carried by
 * the observations into the hit), `shows STEP` (the step whose event speaks
 * for a sequence's row), `teaches admin` and the case knowledge that learns
 * from it, and the lint errors of each.
 */
#include "test_corr_util.h"

#include "analyzer/engine/knowledge.h"

#define HEAD(kind, id) kind " " id " {\n  title \"t\"\n  severity medium\n  sources signin ual entra_audit\n"

static const char *const RULES = "correlation clients {\n"
                                 "  title \"c\"\n  severity high\n  sources signin ual\n"
                                 "  match session_id exists\n"
                                 "  group session_id\n"
                                 "  window 1h\n"
                                 "  when distinct(ip) >= 2 or distinct(user_agent per source) >= 2\n"
                                 "  details \"{aggregates}\"\n"
                                 "}\n"
                                 "correlation shared {\n"
                                 "  title \"s\"\n  severity medium\n  sources signin\n"
                                 "  match result == \"success\"\n"
                                 "  group ip\n"
                                 "  window 1h\n"
                                 "  when distinct(user) >= 3\n"
                                 "  escalate high when any admin\n"
                                 "}\n"
                                 "sequence sprayed {\n"
                                 "  title \"p\"\n  severity high\n  sources signin\n"
                                 "  within 1h\n"
                                 "  step failed { match result == \"failure\" key ip when distinct(user) >= 2 }\n"
                                 "  step success { match result == \"success\" key ip }\n"
                                 "  shows success\n"
                                 "  escalate critical when any admin\n"
                                 "}\n";

typedef corr_fixture fixture;

static int setup(void **state) { return corr_fixture_setup(state, "s.rules", RULES); }

static int teardown(void **state) { return corr_fixture_teardown(state); }

static void signin(fixture *f, ah_source_kind src, const char *iso, const char *id, const char *user, const char *ip,
                   const char *ua, const char *session, bool ok)
{
    tevent t;
    cev(&t, src, iso, id);
    t.ev.result = ok ? AH_RESULT_SUCCESS : AH_RESULT_FAILURE;
    tevent_set(&t, AH_F_OPERATION, src == AH_SOURCE_UAL ? "UserLoggedIn" : "Sign-in");
    tevent_set(&t, AH_F_USER, user);
    tevent_set(&t, AH_F_IP, ip);
    if (ua)
        tevent_set(&t, AH_F_USER_AGENT, ua);
    if (session)
        tevent_set(&t, AH_F_SESSION_ID, session);
    ah_matcher_observe(f->m, &t.ev, cobs_collect, &f->V);
    tevent_free(&t);
}

/* Phase 2 with the facts a hunt's case knowledge gives: `admin` for the
 * accounts in admins. Each hit: "rule user level-facts". */
typedef struct seen_hits {
    ah_buf out;
} seen_hits;

static void fact_hit(void *ud, const ah_corr_hit *h)
{
    seen_hits *s = ud;
    ah_buf_printf(&s->out, "%s user=%.*s facts=%u\n", ah_rule_metadata(h->rule)->id, (int)h->user.n, h->user.p,
                  h->facts);
}

static const char *run_with_admins(fixture *f, const char *admin, seen_hits *s)
{
    qsort(f->V.v, f->V.n, sizeof *f->V.v, cobs_cmp);
    ah_correlator *c = ah_correlator_new(f->rs, 0, &f->td.d);
    assert_non_null(c);
    for (size_t i = 0; i < f->V.n; i++) {
        ah_observation o;
        assert_int_equal(ah_observation_decode(ah_span_make(f->V.v[i].blob, f->V.v[i].len), &o), AH_OK);
        assert_int_equal(o.facts, 0u); /* phase 1 knows nothing of the case */
        if (admin && ah_span_eq(o.user, admin))
            o.facts = AH_FACT_ADMIN;
        assert_int_equal(ah_correlator_feed(c, &o, fact_hit, s), AH_OK);
    }
    assert_int_equal(ah_correlator_finish(c, fact_hit, s), AH_OK);
    ah_correlator_free(c);
    return ah_buf_cstr(&s->out);
}

static const char *run(fixture *f)
{
    ah_buf_reset(&f->out);
    assert_int_equal(corr_run(f->rs, &f->V, 0, &f->td.d, &f->out, NULL, NULL), AH_OK);
    return ah_buf_cstr(&f->out);
}

/* One address, two browsers in the sign-in log: the user-agent term fires
 * and {aggregates} says which term did. */
static void test_user_agents_of_one_log(void **state)
{
    fixture *f = *state;
    signin(f, AH_SOURCE_SIGNIN, "2021-01-13T08:05:00Z", "a", "megan@contoso.com", "203.0.113.34", "Safari/605", "s1",
           true);
    signin(f, AH_SOURCE_SIGNIN, "2021-01-13T08:25:00Z", "b", "megan@contoso.com", "203.0.113.34",
           "python-requests/2.25", "s1", true);
    assert_text_equal(run(f), "clients 2021-01-13T08:05:00.0000000Z group=s1 value=1 count=2 ids=a,b "
                              "details=1 distinct(ip), 2 distinct(user_agent per source)\n");
}

/* A sign-in user agent and a UAL client string are never compared; two
 * addresses still fire whatever the logs. */
static void test_user_agents_across_logs(void **state)
{
    fixture *f = *state;
    signin(f, AH_SOURCE_SIGNIN, "2021-01-13T08:05:00Z", "a", "megan@contoso.com", "203.0.113.34", "Safari/605", "s1",
           true);
    signin(f, AH_SOURCE_UAL, "2021-01-13T08:05:01Z", "b", "megan@contoso.com", "203.0.113.34", "Microsoft Office/16.0",
           "s1", true);
    signin(f, AH_SOURCE_UAL, "2021-01-13T08:06:00Z", "c", "megan@contoso.com", "203.0.113.34", NULL, "s1", true);
    assert_text_equal(run(f), "");
    signin(f, AH_SOURCE_UAL, "2021-01-13T08:30:00Z", "d", "megan@contoso.com", "192.0.2.77", NULL, "s2", true);
    signin(f, AH_SOURCE_SIGNIN, "2021-01-13T08:31:00Z", "e", "megan@contoso.com", "203.0.113.34", NULL, "s2", true);
    assert_text_equal(run(f), "clients 2021-01-13T08:30:00.0000000Z group=s2 value=2 count=2 ids=d,e "
                              "details=2 distinct(ip), 0 distinct(user_agent per source)\n");
}

/* The window slides for every term: two browsers more than an hour apart are not one burst. */
static void test_terms_slide(void **state)
{
    fixture *f = *state;
    signin(f, AH_SOURCE_SIGNIN, "2021-01-13T08:00:00Z", "a", "megan@contoso.com", "203.0.113.34", "Safari/605", "s1",
           true);
    signin(f, AH_SOURCE_SIGNIN, "2021-01-13T09:00:00.0000001Z", "b", "megan@contoso.com", "203.0.113.34", "Chrome/86",
           "s1", true);
    assert_text_equal(run(f), "");
}

/* `escalate`: the facts of any contributing event reach the hit; `shows`:
 * the success speaks for the row, not the first sprayed account. */
static void test_facts_and_shows(void **state)
{
    fixture *f = *state;
    signin(f, AH_SOURCE_SIGNIN, "2021-01-13T02:14:00Z", "f1", "a@contoso.com", "13.59.205.66", NULL, NULL, false);
    signin(f, AH_SOURCE_SIGNIN, "2021-01-13T02:15:00Z", "f2", "b@contoso.com", "13.59.205.66", NULL, NULL, false);
    signin(f, AH_SOURCE_SIGNIN, "2021-01-13T02:21:00Z", "s1", "it-admin@contoso.com", "13.59.205.66", NULL, NULL, true);
    signin(f, AH_SOURCE_SIGNIN, "2021-01-13T09:00:00Z", "x1", "c@contoso.com", "192.0.2.77", NULL, NULL, true);
    signin(f, AH_SOURCE_SIGNIN, "2021-01-13T09:01:00Z", "x2", "it-admin@contoso.com", "192.0.2.77", NULL, NULL, true);
    signin(f, AH_SOURCE_SIGNIN, "2021-01-13T09:02:00Z", "x3", "d@contoso.com", "192.0.2.77", NULL, NULL, true);
    signin(f, AH_SOURCE_SIGNIN, "2021-01-13T09:03:00Z", "x4", "e@contoso.com", "192.0.2.77", NULL, NULL, true);
    seen_hits s;
    ah_buf_init(&s.out, 0);
    assert_text_equal(run_with_admins(f, "it-admin@contoso.com", &s), "sprayed user=it-admin@contoso.com facts=1\n"
                                                                      "shared user=c@contoso.com facts=1\n");
    ah_buf_reset(&s.out);
    assert_text_equal(run_with_admins(f, "nobody@contoso.com", &s), "sprayed user=it-admin@contoso.com facts=0\n"
                                                                    "shared user=c@contoso.com facts=0\n");
    ah_buf_free(&s.out);
    const ah_rule_meta *m = ah_rule_metadata(ah_ruleset_find(f->rs, "shared"));
    assert_int_equal(m->escalate_level, AH_LEVEL_HIGH);
    assert_int_equal(m->escalate_facts, AH_FACT_ADMIN);
    m = ah_rule_metadata(ah_ruleset_find(f->rs, "sprayed"));
    assert_int_equal(m->escalate_level, AH_LEVEL_CRITICAL);
}

/* The case knowledge: admin from $admin_accounts, or taught by a hit no
 * later than the end of the baseline; a grant after it teaches nothing. */
static void test_knowledge_taught_admins(void **state)
{
    (void)state;
    tdiag td;
    tdiag_init(&td);
    ah_status st;
    ah_ruleset *rs = trules(&td, "k.rules",
                            "rule grant {\n  title \"g\"\n  severity high\n  sources entra_audit\n  teaches admin\n"
                            "  match operation == \"Add member to role\"\n}\n"
                            "rule ps {\n  title \"p\"\n  severity low\n  sources signin\n  routine admin\n"
                            "  match app_id == \"a0c73c16-a7e3-4564-9a95-2bdf47383716\"\n}\n"
                            "correlation shared {\n  title \"s\"\n  severity medium\n  sources signin\n"
                            "  match ip exists\n  group ip\n  window 1h\n  when distinct(user) >= 3\n"
                            "  escalate high when any admin\n}\n",
                            &st);
    assert_int_equal(st, AH_OK);
    assert_int_equal(ah_rule_metadata(ah_ruleset_find(rs, "grant"))->teaches_facts, AH_FACT_ADMIN);
    ah_knowledge *k = ah_knowledge_new(rs, 0);
    assert_non_null(k);
    assert_true(ah_knowledge_wanted(k));
    assert_true(ah_knowledge_escalates(k));
    assert_int_equal(ah_knowledge_set_admins(k, "lee@contoso.com"), AH_OK);
    ah_fact_sighting in =
        ah_knowledge_sighting(AH_FACT_ADMIN, ah_span_cstr(" Kim@Contoso.com "), ctime_of("2021-03-01T09:00:00Z"));
    ah_fact_sighting late =
        ah_knowledge_sighting(AH_FACT_ADMIN, ah_span_cstr("sam@contoso.com"), ctime_of("2021-03-05T09:00:00Z"));
    ah_knowledge_add_sighting(k, &late);
    ah_knowledge_add_sighting(k, &in);
    /* before the baseline is known only the variable counts */
    assert_int_equal(ah_knowledge_facts(k, ah_span_cstr("kim@contoso.com")), 0u);
    assert_int_equal(ah_knowledge_facts(k, ah_span_cstr("LEE@contoso.com")), AH_FACT_ADMIN);
    ah_knowledge_set_baseline(k, ctime_of("2021-03-01T00:00:00Z"), ctime_of("2021-03-02T23:59:59Z"));
    assert_int_equal(ah_knowledge_facts(k, ah_span_cstr("kim@contoso.com")), AH_FACT_ADMIN);
    assert_int_equal(ah_knowledge_facts(k, ah_span_cstr("sam@contoso.com")), 0u);
    assert_int_equal(ah_knowledge_facts(k, ah_span_cstr("")), 0u);
    /* `routine admin` reads the same facts */
    const ah_rule_meta *ps = ah_rule_metadata(ah_ruleset_find(rs, "ps"));
    ah_span field[AH_F_COUNT] = {{0}};
    field[AH_F_USER] = ah_span_cstr("kim@contoso.com");
    assert_true(ah_knowledge_routine(k, ps, field));
    field[AH_F_USER] = ah_span_cstr("sam@contoso.com");
    assert_false(ah_knowledge_routine(k, ps, field));
    /* a later sighting of a grant taught in the baseline keeps the earliest time */
    ah_fact_sighting again =
        ah_knowledge_sighting(AH_FACT_ADMIN, ah_span_cstr("kim@contoso.com"), ctime_of("2021-03-09T00:00:00Z"));
    ah_knowledge_add_sighting(k, &again);
    assert_int_equal(ah_knowledge_facts(k, ah_span_cstr("kim@contoso.com")), AH_FACT_ADMIN);
    ah_knowledge_stats ks;
    ah_knowledge_get_stats(k, &ks);
    assert_int_equal(ks.admins, 1);
    assert_int_equal(ks.admins_taught, 2);
    ah_knowledge_free(k);
    ah_ruleset_free(rs);
    tdiag_free(&td);
}

static void test_lint(void **state)
{
    (void)state;
    const char *agg = "  match ip exists\n  group ip\n  window 1h\n";
    char text[1024];
    snprintf(text, sizeof text,
             HEAD("correlation", "a") "%s  when distinct(user) >= 3\n  escalate medium when any admin\n}\n", agg);
    expect_one_error(text, "l.rules:9:3: error: escalate: medium is not above the rule's severity medium");
    snprintf(text, sizeof text,
             HEAD("correlation", "a") "%s  when distinct(user) >= 3\n  escalate high when any vip\n}\n", agg);
    expect_one_error(text, "l.rules:9:3: error: escalate: unknown fact 'vip'");
    snprintf(text, sizeof text, HEAD("correlation", "a") "%s  when distinct(user) >= 3\n  escalate high if admin\n}\n",
             agg);
    expect_one_error(text, "l.rules:9:3: error: escalate takes a level and a fact: escalate high when any admin");
    snprintf(text, sizeof text, HEAD("correlation", "a") "%s  when distinct(user) >= 3 or sum(raw.N) > 3\n}\n", agg);
    expect_one_error(text,
                     "l.rules:8:31: error: terms joined by or (and per source) compare distinct() with >, >= or ==");
    snprintf(text, sizeof text, HEAD("correlation", "a") "%s  when count(user per source) >= 3\n}\n", agg);
    expect_one_error(text, "l.rules:8:13: error: count takes no field");
    snprintf(text, sizeof text,
             HEAD("correlation", "a") "%s  when distinct(user) > 2 or distinct(ip) > 2 x baseline\n  baseline 2d\n}\n",
             agg);
    expect_one_error(text, "l.rules:8:47: error: `x baseline` compares one aggregate with its own past");
    snprintf(text, sizeof text,
             HEAD("correlation", "a") "%s  when distinct(user) >= 3\n  details \"{aggregates}\"\n}\n", agg);
    tdiag td;
    tdiag_init(&td);
    ah_status st;
    ah_ruleset *rs = trules(&td, "l.rules", text, &st);
    assert_int_equal(st, AH_OK); /* {aggregates} of one term is fine */
    ah_ruleset_free(rs);
    tdiag_free(&td);
    expect_one_error(HEAD("sequence", "s") "  within 1h\n  step a { match result == \"failure\" key ip }\n"
                                           "  step b { match result == \"success\" key ip }\n  shows c\n}\n",
                     "l.rules:8:9: error: shows: sequence 's' has no step 'c'");
    expect_one_error(HEAD("sequence", "s") "  within 1h\n  step a { match result == \"failure\" key ip }\n"
                                           "  step not b { match result == \"success\" key ip }\n  shows b\n}\n",
                     "l.rules:8:9: error: shows: step 'b' is a `step not`");
    expect_one_error(HEAD("sequence", "s") "  within 1h\n  step a { match result == \"failure\" key ip when "
                                           "distinct(user) > 2 or distinct(ip) > 2 }\n"
                                           "  step b { match result == \"success\" key ip }\n}\n",
                     "l.rules:6:50: error: a step's `when` is one aggregate (no or, no per source)");
    expect_one_error(HEAD("correlation",
                          "a") "  match ip exists\n  group ip\n  window 1h\n  when distinct(user) >= 3\n  shows x\n}\n",
                     "error: 'shows' does not apply to a correlation rule");
    expect_one_error(
        HEAD("correlation",
             "a") "  match ip exists\n  group ip\n  window 1h\n  when distinct(user) >= 3\n  teaches admin\n}\n",
        "l.rules:9:3: error: 'teaches' belongs to single-event rules");
    expect_one_error(
        "rule r {\n  title \"t\"\n  severity high\n  sources ual\n  match operation == \"X\"\n  teaches owner\n}\n",
        "l.rules:6:3: error: teaches: unknown fact 'owner'");
    expect_one_error("rule r {\n  title \"t\"\n  severity high\n  sources ual\n  match operation == \"X\"\n  escalate "
                     "critical when any admin\n}\n",
                     "l.rules:6:3: error: 'escalate' belongs to correlation rules");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_user_agents_of_one_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_agents_across_logs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_terms_slide, setup, teardown),
        cmocka_unit_test_setup_teardown(test_facts_and_shows, setup, teardown),
        cmocka_unit_test(test_knowledge_taught_admins),
        cmocka_unit_test(test_lint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
