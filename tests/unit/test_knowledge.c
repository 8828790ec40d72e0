/* Tests for analyzer/engine/knowledge.c and the `routine` key: pairs count
 * only when first seen inside the baseline, `admin` only for listed
 * accounts, any order of learning, the budget, and the parser's checks. */
#include "test_rules_util.h"

#include "analyzer/engine/knowledge.h"

static const char RULES[] = "rule r-ps {\n"
                            "  title \"PowerShell\"\n"
                            "  severity low\n"
                            "  sources signin ual\n"
                            "  routine admin user+ip user+user_agent\n"
                            "  match operation == \"Sign-in\"\n"
                            "}\n"
                            "rule r-mail {\n"
                            "  title \"mail\"\n"
                            "  severity low\n"
                            "  sources ual\n"
                            "  routine app_id+ip\n"
                            "  match operation == \"MailItemsAccessed\"\n"
                            "}\n"
                            "rule r-plain {\n"
                            "  title \"plain\"\n"
                            "  severity high\n"
                            "  sources ual\n"
                            "  match operation == \"x\"\n"
                            "}\n";

static void learn(ah_knowledge *k, int64_t sec, const char *user, const char *ip, const char *ua, const char *app)
{
    tevent t;
    tevent_init(&t, AH_SOURCE_SIGNIN);
    t.ev.has_time = true;
    t.ev.time = (ah_time){sec, 0};
    tevent_set(&t, AH_F_USER, user);
    tevent_set(&t, AH_F_IP, ip);
    tevent_set(&t, AH_F_USER_AGENT, ua);
    tevent_set(&t, AH_F_APP_ID, app);
    ah_knowledge_learn(k, &t.ev);
    tevent_free(&t);
}

static const ah_rule_meta *rule(const ah_ruleset *rs, const char *id)
{
    const ah_rule *r = ah_ruleset_find(rs, id);
    assert_non_null(r);
    return ah_rule_metadata(r);
}

static bool routine(const ah_knowledge *k, const ah_rule_meta *m, const char *user, const char *ip, const char *ua,
                    const char *app)
{
    ah_span f[AH_F_COUNT] = {{0}};
    f[AH_F_USER] = ah_span_cstr(user);
    f[AH_F_IP] = ah_span_cstr(ip);
    f[AH_F_USER_AGENT] = ah_span_cstr(ua);
    f[AH_F_APP_ID] = ah_span_cstr(app);
    return ah_knowledge_routine(k, m, f);
}

#define DAY 86400

static void test_pairs_and_admins(void **state)
{
    (void)state;
    tdiag td;
    tdiag_init(&td);
    ah_status st;
    ah_ruleset *rs = trules(&td, NULL, RULES, &st);
    assert_int_equal(st, AH_OK);
    const ah_rule_meta *ps = rule(rs, "r-ps"), *mail = rule(rs, "r-mail"), *plain = rule(rs, "r-plain");
    assert_int_equal(ps->nroutine_pairs, 2);
    assert_true(ps->routine_admin);
    assert_int_equal(ps->routine.n, 3);

    ah_knowledge *k = ah_knowledge_new(rs, 0);
    assert_non_null(k);
    assert_true(ah_knowledge_wanted(k));
    assert_int_equal(ah_knowledge_set_admins(k, " Admin@contoso.com;ops@contoso.com\n"), AH_OK);
    /* learned in any order: the late sighting first, then the baseline one */
    learn(k, 20 * DAY, "admin@contoso.com", "203.0.113.9", "WindowsPowerShell/5.1", NULL);
    learn(k, 2 * DAY, "ADMIN@contoso.com", "198.51.100.23", "WindowsPowerShell/5.1", NULL);
    learn(k, 25 * DAY, "admin@contoso.com", "198.51.100.23", "WindowsPowerShell/5.1", NULL);
    learn(k, 3 * DAY, NULL, "198.51.100.40", NULL, "e79f1579-db86-4475-8741-eb6f312c4ff4");
    ah_knowledge_stats ks;
    ah_knowledge_get_stats(k, &ks);
    assert_int_equal(ks.admins, 2);
    /* user+ip and user+user_agent per sign-in (3 distinct + 1), app_id+ip once */
    assert_int_equal(ks.pairs, 4);

    /* no baseline yet: nothing is routine */
    assert_false(routine(k, ps, "admin@contoso.com", "198.51.100.23", "WindowsPowerShell/5.1", NULL));
    ah_knowledge_set_baseline(k, (ah_time){0, 0}, (ah_time){7 * DAY, 0});
    assert_true(routine(k, ps, "admin@contoso.com", "198.51.100.23", "WindowsPowerShell/5.1", NULL));
    /* an address first seen after the baseline is never routine */
    assert_false(routine(k, ps, "admin@contoso.com", "203.0.113.9", "WindowsPowerShell/5.1", NULL));
    /* a user agent not seen with the user in the baseline */
    assert_false(routine(k, ps, "admin@contoso.com", "198.51.100.23", "python-requests/2.25", NULL));
    /* not an admin, though the pairs would hold for the admin */
    assert_false(routine(k, ps, "megan@contoso.com", "198.51.100.23", "WindowsPowerShell/5.1", NULL));
    /* an absent value fails its fact */
    assert_false(routine(k, ps, "admin@contoso.com", "198.51.100.23", NULL, NULL));
    assert_true(routine(k, mail, NULL, "198.51.100.40", NULL, "E79F1579-db86-4475-8741-eb6f312c4ff4"));
    assert_false(routine(k, mail, NULL, "54.193.127.66", NULL, "e79f1579-db86-4475-8741-eb6f312c4ff4"));
    assert_false(routine(k, plain, "admin@contoso.com", "198.51.100.23", "WindowsPowerShell/5.1", NULL));
    ah_knowledge_free(k);
    ah_ruleset_free(rs);
    tdiag_free(&td);
}

static void test_budget(void **state)
{
    (void)state;
    tdiag td;
    tdiag_init(&td);
    ah_ruleset *rs = trules(&td, NULL, RULES, NULL);
    /* 256 slots of 24 bytes fit, 512 do not: 128 pairs at half load */
    ah_knowledge *k = ah_knowledge_new(rs, 8192);
    char ip[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(ip, sizeof ip, "10.0.%d.%d", i / 256, i % 256);
        learn(k, DAY, NULL, ip, NULL, "app");
    }
    ah_knowledge_stats ks;
    ah_knowledge_get_stats(k, &ks);
    assert_int_equal(ks.pairs, 128);
    assert_int_equal(ks.pairs + ks.dropped, 1000);
    assert_true(ks.bytes <= 8192);
    ah_knowledge_set_baseline(k, (ah_time){0, 0}, (ah_time){7 * DAY, 0});
    /* a pair that was dropped is unseen: never demoted */
    assert_false(routine(k, rule(rs, "r-mail"), NULL, "10.0.3.231", NULL, "app"));
    ah_knowledge_free(k);
    ah_ruleset_free(rs);
    tdiag_free(&td);
}

static void test_no_routine_rules_learn_nothing(void **state)
{
    (void)state;
    tdiag td;
    tdiag_init(&td);
    ah_ruleset *rs =
        trules(&td, NULL, "rule r { title \"t\"\n severity low\n sources ual\n match operation == \"x\" }\n", NULL);
    ah_knowledge *k = ah_knowledge_new(rs, 0);
    assert_false(ah_knowledge_wanted(k));
    learn(k, DAY, "a@b", "192.0.2.1", "ua", "app");
    ah_knowledge_stats ks;
    ah_knowledge_get_stats(k, &ks);
    assert_int_equal(ks.pairs, 0);
    ah_knowledge_free(k);
    ah_ruleset_free(rs);
    tdiag_free(&td);
}

static void test_parser_checks(void **state)
{
    (void)state;
    static const struct {
        const char *text, *error;
    } bad[] = {
        {"rule r { title \"t\"\n routine user+usr\n match operation == \"x\" }\n", "routine fact 'user+usr'"},
        {"rule r { title \"t\"\n routine user+user\n match operation == \"x\" }\n", "two different fields"},
        {"rule r { title \"t\"\n routine adminn\n match operation == \"x\" }\n", "routine fact 'adminn'"},
        {"rule r { title \"t\"\n routine user+ip user+app_id ip+app_id user+user_agent ip+user_agent\n match operation "
         "== \"x\" }\n",
         "at most 4 pairs"},
        {"correlation c { title \"t\"\n routine user+ip\n match operation == \"x\"\n group user\n window 1h\n when "
         "count > 2 }\n",
         "'routine' belongs to single-event rules"},
    };
    for (size_t i = 0; i < AH_ARRAY_LEN(bad); i++) {
        tdiag td;
        tdiag_init(&td);
        ah_status st;
        ah_ruleset *rs = trules(&td, NULL, bad[i].text, &st);
        assert_int_not_equal(st, AH_OK);
        assert_diag_has(&td, bad[i].error);
        ah_ruleset_free(rs);
        tdiag_free(&td);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pairs_and_admins),
        cmocka_unit_test(test_budget),
        cmocka_unit_test(test_no_routine_rules_learn_nothing),
        cmocka_unit_test(test_parser_checks),
    };
    return cmocka_run_group_tests_name("knowledge", tests, NULL, NULL);
}
