/*
 * test_corr_tenant.c: the shipped correlation rules over the sample tenant
 * (samples/tenant, story in samples/tenant-story.md) through the whole
 * pipeline the hunt uses: session -> ah_matcher_observe -> sort by time ->
 * correlator. The story's spray, credential-then-sign-in and mail-reading
 * burst must be found; the benign steps must not trigger the high ones.
 */
#include "test_corr_util.h"

#include "analyzer/audithound.h"

static void run_tenant(ah_buf *out)
{
    tdiag td;
    tdiag_init(&td);
    ah_ruleset *rs = ah_ruleset_new(&td.d);
    assert_int_equal(ah_ruleset_load_path(rs, "rules/correlation.rules"), AH_OK);
    assert_int_equal(ah_ruleset_compile(rs), AH_OK);
    ah_matcher *m = ah_matcher_new(rs);
    ah_session_options opt;
    ah_session_options_init(&opt);
    ah_session *s = ah_session_new(&opt);
    assert_int_equal(ah_session_add_input(s, "samples/tenant"), AH_OK);
    cobsv V;
    memset(&V, 0, sizeof V);
    const ah_event *ev;
    while (ah_session_next(s, &ev) == AH_OK)
        ah_matcher_observe(m, ev, cobs_collect, &V);
    assert_true(V.n > 20);
    assert_int_equal(corr_run(rs, &V, 0, &td.d, out, NULL, NULL), AH_OK);
    cobsv_free(&V);
    ah_session_free(s);
    ah_matcher_free(m);
    ah_ruleset_free(rs);
    tdiag_free(&td);
}

static size_t count_rule(const char *text, const char *rule)
{
    size_t n = 0, k = strlen(rule);
    for (const char *p = text; *p;) {
        if (strncmp(p, rule, k) == 0 && p[k] == ' ')
            n++;
        const char *e = strchr(p, '\n');
        if (!e)
            break;
        p = e + 1;
    }
    return n;
}

/* The number of record ids on the first line of a rule. */
static size_t ids_of(const char *text, const char *rule)
{
    char want[128];
    snprintf(want, sizeof want, "%s ", rule);
    const char *line = strstr(text, want);
    assert_non_null(line);
    const char *ids = strstr(line, " ids=");
    const char *end = strstr(line, " details=");
    assert_true(ids && end && ids < end);
    size_t n = 1;
    for (const char *p = ids + 5; p < end; p++)
        n += *p == ',';
    return n;
}

static void test_tenant_story(void **state)
{
    (void)state;
    ah_buf out;
    ah_buf_init(&out, 0);
    run_tenant(&out);
    const char *got = ah_buf_cstr(&out);
    /* S1: the spray from 13.59.205.66, one hit at its full extent: all 8
     * sprayed accounts, each failure once although the sign-in log and the
     * UAL both hold it (16 record ids). */
    assert_int_equal(count_rule(got, "spray-one-address-many-users"), 1);
    assert_non_null(strstr(got, "spray-one-address-many-users 2021-01-13T02:14:07.0000000Z group=13.59.205.66 "
                                "value=8 count=8 ids="));
    assert_non_null(strstr(got, "details=8 accounts failed to sign in from 13.59.205.66: 8 failures from "
                                "2021-01-13T02:14:07.0000000Z to 2021-01-13T02:18:27.0000000Z\n"));
    assert_int_equal(ids_of(got, "spray-one-address-many-users"), 16);
    /* S1: it-admin signs in from the spray address: the initial access. */
    assert_int_equal(count_rule(got, "signin-after-spray-same-address"), 1);
    assert_non_null(strstr(got, "signin-after-spray-same-address 2021-01-13T02:14:07.0000000Z group=13.59.205.66 "
                                "value=2 count=9 ids="));
    assert_non_null(strstr(got, "details=it-admin@contoso.onmicrosoft.com signed in from 13.59.205.66 at "
                                "2021-01-13T02:21:16.0000000Z"));
    /* S5 -> S7: credential added to Contoso MailSync, then its sign-in. */
    assert_non_null(strstr(got, "sp-credential-then-signin 2021-01-13T03:12:45"));
    assert_non_null(strstr(got, "group=e79f1579-db86-4475-8741-eb6f312c4ff4"));
    /* S8: six mailboxes through Graph by MailSync, and S9 less than 10
     * minutes later two more through EWS: one burst, 8 mailboxes. */
    assert_int_equal(count_rule(got, "app-reads-many-mailboxes"), 1);
    assert_non_null(
        strstr(got, "app-reads-many-mailboxes 2021-01-13T03:24:10.0000000Z group=e79f1579-db86-4475-8741-eb6f312c4ff4 "
                    "value=8 count=10 "));
    assert_non_null(strstr(
        got, "read 8 mailboxes in 10 records from 2021-01-13T03:24:10.0000000Z to 2021-01-13T03:39:35.0000000Z"));
    /* S12: Megan's session from home and from 192.0.2.77. */
    assert_int_equal(count_rule(got, "session-from-several-addresses"), 1);
    assert_non_null(strstr(got, "session-from-several-addresses 2021-01-13T08:05:33.0000000Z "
                                "group=70903e3b-03e7-4733-a97f-9b4e224be273 value=2 count=2 "));
    /* S10, S12, S13: 192.0.2.77, new, used by Adele, Megan and it-admin; the
     * office egress (B8) is in the baseline and stays quiet. */
    assert_int_equal(count_rule(got, "new-address-shared-by-accounts"), 1);
    assert_non_null(
        strstr(got, "new-address-shared-by-accounts 2021-01-13T03:50:19.0000000Z group=192.0.2.77 value=3 count=10 "));
    /* S13: five resets by it-admin, each in both logs; B9's two are not a burst. */
    assert_int_equal(count_rule(got, "bulk-admin-password-resets"), 1);
    assert_non_null(
        strstr(got, "bulk-admin-password-resets 2021-01-13T09:12:04.0000000Z group=it-admin@contoso.onmicrosoft.com "
                    "value=5 count=5 "));
    /* S8 + S9: Graph and EWS by the same application. */
    assert_int_equal(count_rule(got, "app-reads-mail-graph-and-direct"), 1);
    /* S7: MailSync from two new addresses. */
    assert_int_equal(count_rule(got, "sp-signin-new-address"), 2);
    /* Benign: no brute force, no short-lived service principal. */
    assert_int_equal(count_rule(got, "brute-force-one-account"), 0);
    assert_int_equal(count_rule(got, "short-lived-service-principal"), 0);
    ah_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tenant_story),
    };
    return cmocka_run_group_tests_name("corr_tenant", tests, NULL, NULL);
}
