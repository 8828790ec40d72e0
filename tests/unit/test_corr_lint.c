/*
 * test_corr_lint.c: lint of correlation rules: every error at its exact
 * file:line:col (unknown fields in group / key / distinct, window and key
 * types, missing keys, thresholds that can never hold, sequences with fewer
 * than two steps, misplaced keys, bad templates), and the warnings.
 */
#include "test_corr_util.h"

#define HEAD(kind, id) kind " " id " {\n  title \"t\"\n  severity high\n  sources signin ual entra_audit\n"
/* Line 5 is the first line after HEAD. */


static void test_unknown_fields(void **state)
{
    (void)state;
    expect_one_error(
        HEAD("correlation", "a") "  match result == \"failure\"\n  group usr, ip\n  window 10m\n  when count >= 3\n}\n",
        "l.rules:6:9: error: unknown field 'usr' (did you mean 'user'?)");
    expect_one_error(
        HEAD("correlation",
             "a") "  match result == \"failure\"\n  group ip\n  window 10m\n  when distinct(UserId) >= 3\n}\n",
        "l.rules:8:17: error: unknown field 'UserId' (keys of the record are written raw.UserId)");
    expect_one_error(HEAD("sequence", "s") "  within 10m\n  step a { match operation == \"X\" key app_id }\n"
                                           "  step b { match operation == \"Y\" key appid }\n}\n",
                     "l.rules:7:39: error: unknown field 'appid' (did you mean 'app_id'?)");
    expect_one_error(
        HEAD("first-seen", "f") "  match operation == \"X\"\n  group app_id\n  value ipaddr\n  baseline 7d\n}\n",
        "l.rules:7:9: error: unknown field 'ipaddr'");
}

static void test_window_and_key_types(void **state)
{
    (void)state;
    expect_one_error(
        HEAD("correlation", "a") "  match result == \"failure\"\n  group ip\n  window 30x\n  when count >= 3\n}\n",
        "l.rules:7:10: error: window must be a duration like 30s, 10m, 1h, 7d or 1h30m, not '30x'");
    expect_one_error(
        HEAD("correlation", "a") "  match result == \"failure\"\n  group ip\n  window 0m\n  when count >= 3\n}\n",
        "l.rules:7:10: error: window must be longer than zero");
    expect_one_error(
        HEAD("correlation", "a") "  match result == \"failure\"\n  group ip\n  window 32d\n  when count >= 3\n}\n",
        "l.rules:7:10: error: window may be at most 31d");
    expect_one_error(
        HEAD("correlation", "a") "  match result == \"failure\"\n  group time\n  window 1h\n  when count >= 3\n}\n",
        "l.rules:6:9: error: group cannot be time");
    expect_one_error(
        HEAD("correlation", "a") "  match result == \"failure\"\n  group ip\n  window 1h\n  when sum(user) >= 3\n}\n",
        "l.rules:8:12: error: sum() needs a number: 'user' is text");
    expect_one_error(HEAD("sequence", "s") "  within 10m\n  step a { match operation == \"X\" key app_id }\n"
                                           "  step b { match operation == \"Y\" key app_id, ip }\n}\n",
                     "l.rules:7:35: error: step 'b' has 2 key fields but step 'a' has 1: they cannot join");
    expect_one_error(HEAD("first-seen", "f") "  match operation == \"X\"\n  value raw\n  baseline 7d\n}\n",
                     "l.rules:6:9: error: value cannot be the whole record (raw)");
}

static void test_structure(void **state)
{
    (void)state;
    expect_one_error(HEAD("correlation", "a") "  match result == \"failure\"\n  group ip\n  when count >= 3\n}\n",
                     "l.rules:1:13: error: correlation 'a' has no `window` (e.g. window 30m)");
    expect_one_error(HEAD("correlation", "a") "  match result == \"failure\"\n  group ip\n  window 1h\n}\n",
                     "l.rules:1:13: error: correlation 'a' has no `when` condition");
    expect_one_error(HEAD("correlation", "a") "  group ip\n  window 1h\n  when count > 3\n}\n",
                     "l.rules:1:13: error: rule 'a' has no a match condition (match is required)");
    expect_one_error(HEAD("sequence", "s") "  within 10m\n  step a { match operation == \"X\" key app_id }\n}\n",
                     "l.rules:1:10: error: sequence 's' needs at least 2 steps (it has 1)");
    expect_one_error(HEAD("sequence", "s") "  step a { match operation == \"X\" key app_id }\n"
                                           "  step b { match operation == \"Y\" key app_id }\n}\n",
                     "l.rules:1:10: error: sequence 's' has no `within`");
    expect_one_error(HEAD("sequence", "s") "  within 10m\n  step a { match operation == \"X\" key app_id }\n"
                                           "  step b { match operation == \"Y\" }\n}\n",
                     "l.rules:7:8: error: step 'b' has no key");
    expect_one_error(HEAD("sequence", "s") "  within 10m\n  step not a { match operation == \"X\" key app_id }\n"
                                           "  step b { match operation == \"Y\" key app_id }\n}\n",
                     "l.rules:6:12: error: only the last step may be `step not`");
    expect_one_error(HEAD("sequence", "s") "  within 10m\n  match operation == \"X\"\n"
                                           "  step a { match operation == \"X\" key app_id }\n  step b { match "
                                           "operation == \"Y\" key app_id }\n}\n",
                     "l.rules:6:3: error: a sequence has no match of its own");
    expect_one_error(HEAD("rule", "r") "  match operation == \"X\"\n  window 10m\n}\n",
                     "l.rules:6:3: error: 'window' belongs to correlation rules (correlation, sequence, first-seen), "
                     "not to `rule r`");
    expect_one_error(
        HEAD("first-seen", "f") "  match operation == \"X\"\n  value ip\n  baseline 7d\n  when count > 1\n}\n",
        "l.rules:8:3: error: 'when' does not apply to a first-seen rule");
    expect_one_error(HEAD("first-seen", "f") "  match operation == \"X\"\n  value ip\n}\n",
                     "l.rules:1:12: error: first-seen 'f' has no `baseline`");
    expect_one_error(HEAD("rule", "r") "  match operation == \"X\"\n  test hits 2 {\"a\": 1}\n}\n",
                     "l.rules:6:8: error: expected hit, miss or set after test");
}

static void test_thresholds(void **state)
{
    (void)state;
    expect_one_error(
        HEAD("correlation", "a") "  match result == \"failure\"\n  group ip\n  window 1h\n  when count < 1\n}\n",
        "l.rules:8:8: error: this condition can never hold: count is a whole number of at least 1");
    expect_one_error(
        HEAD("correlation",
             "a") "  match result == \"failure\"\n  group ip\n  window 1h\n  when distinct(user) == 2.5\n}\n",
        "l.rules:8:8: error: this condition can never hold: distinct() is a whole number of at least 1");
    expect_one_error(
        HEAD("correlation", "a") "  match result == \"failure\"\n  group ip\n  window 1h\n  when count != 2\n}\n",
        "l.rules:8:14: error: '!=' does not apply to an aggregate");
    expect_one_error(
        HEAD("correlation", "a") "  match result == \"failure\"\n  group ip\n  window 1h\n  when avg(user) > 2\n}\n",
        "l.rules:8:8: error: unknown aggregate 'avg'; expected count, distinct(FIELD) or sum(FIELD)");
    /* always true: a warning, not an error */
    tdiag td;
    tdiag_init(&td);
    ah_status st;
    ah_ruleset *rs =
        trules(&td, "l.rules",
               HEAD("correlation", "a") "  match result == \"failure\"\n  group ip\n  window 1h\n  when count >= 1\n"
                                        "  test miss {\"id\": \"1\", \"createdDateTime\": \"2021-01-13T17:02:09Z\", "
                                        "\"userPrincipalName\": \"a@b\", \"ipAddress\": \"192.0.2.1\"}\n}\n",
               &st);
    assert_int_equal(st, AH_OK);
    assert_diag_has(&td, "l.rules:8:8: warning: this condition holds for every event (count is at least 1)");
    ah_ruleset_free(rs);
    tdiag_free(&td);
}

static void test_templates(void **state)
{
    (void)state;
    expect_one_error(
        HEAD("correlation", "a") "  match result == \"failure\"\n  group ip\n  window 1h\n  when count > 2\n"
                                 "  details \"{count} from {ipaddress}\"\n}\n",
        "l.rules:9:11: error: details of a correlation rule: unknown placeholder '{ipaddress}'");
    expect_one_error(
        HEAD("correlation", "a") "  match result == \"failure\"\n  group ip\n  window 1h\n  when count > 2\n"
                                 "  details \"{count\"\n}\n",
        "l.rules:9:11: error: details: '{' without a closing '}'");
}

/* Every kind with its tests passes test-rules; a wrong expectation fails
 * with a count message. */
static void test_series_tests(void **state)
{
    (void)state;
    tdiag td;
    tdiag_init(&td);
    ah_status st;
    const char *text = HEAD(
        "correlation", "a") "  match result == \"failure\"\n  group ip\n  window 10m\n  when distinct(user) >= 2\n"
                            "  test hits 2 [\n"
                            "   {\"id\": \"1\", \"createdDateTime\": \"2021-01-13T02:00:00Z\", \"userPrincipalName\": "
                            "\"a@c\", \"ipAddress\": \"192.0.2.1\", \"status\": {\"errorCode\": 50126}},\n"
                            "   {\"id\": \"2\", \"createdDateTime\": \"2021-01-13T02:01:00Z\", \"userPrincipalName\": "
                            "\"b@c\", \"ipAddress\": \"192.0.2.1\", \"status\": {\"errorCode\": 50126}},\n"
                            "   {\"id\": \"3\", \"createdDateTime\": \"2021-01-13T03:00:00Z\", \"userPrincipalName\": "
                            "\"a@c\", \"ipAddress\": \"192.0.2.1\", \"status\": {\"errorCode\": 50126}},\n"
                            "   {\"id\": \"4\", \"createdDateTime\": \"2021-01-13T03:01:00Z\", \"userPrincipalName\": "
                            "\"b@c\", \"ipAddress\": \"192.0.2.1\", \"status\": {\"errorCode\": 50126}}]\n"
                            "  test hits 3 [\n"
                            "   {\"id\": \"1\", \"createdDateTime\": \"2021-01-13T02:00:00Z\", \"userPrincipalName\": "
                            "\"a@c\", \"ipAddress\": \"192.0.2.1\", \"status\": {\"errorCode\": 50126}},\n"
                            "   {\"id\": \"2\", \"createdDateTime\": \"2021-01-13T02:01:00Z\", \"userPrincipalName\": "
                            "\"b@c\", \"ipAddress\": \"192.0.2.1\", \"status\": {\"errorCode\": 50126}}]\n"
                            "  test miss [{\"nothing\": 1}]\n"
                            "}\n";
    ah_ruleset *rs = trules(&td, "l.rules", text, &st);
    assert_int_equal(st, AH_OK);
    ah_buf out;
    ah_buf_init(&out, 0);
    ah_rule_test_totals tot;
    assert_int_equal(ah_ruleset_run_tests(rs, NULL, NULL, &tot), AH_ERR_RECORD);
    assert_int_equal(tot.passed, 1);
    assert_int_equal(tot.failed, 2);
    ah_buf_free(&out);
    ah_ruleset_free(rs);
    tdiag_free(&td);
}

static void report_fn(void *ud, const ah_rule_test_case *tc) { ah_rule_test_format(tc, ud); }

static void test_series_report_text(void **state)
{
    (void)state;
    tdiag td;
    tdiag_init(&td);
    ah_status st;
    const char *text = HEAD(
        "correlation", "a") "  match result == \"failure\"\n  group ip\n  window 10m\n  when count >= 2\n"
                            "  test hits 2 [\n"
                            "   {\"id\": \"1\", \"createdDateTime\": \"2021-01-13T02:00:00Z\", \"userPrincipalName\": "
                            "\"a@c\", \"ipAddress\": \"192.0.2.1\", \"status\": {\"errorCode\": 50126}},\n"
                            "   {\"id\": \"2\", \"createdDateTime\": \"2021-01-13T02:01:00Z\", \"userPrincipalName\": "
                            "\"b@c\", \"ipAddress\": \"192.0.2.1\", \"status\": {\"errorCode\": 50126}}]\n"
                            "  test miss [\n"
                            "   {\"id\": \"1\", \"createdDateTime\": \"2021-01-13T02:00:00Z\", \"userPrincipalName\": "
                            "\"a@c\", \"ipAddress\": \"192.0.2.1\", \"status\": {\"errorCode\": 50126}},\n"
                            "   {\"id\": \"2\", \"createdDateTime\": \"2021-01-13T02:01:00Z\", \"userPrincipalName\": "
                            "\"b@c\", \"ipAddress\": \"192.0.2.1\", \"status\": {\"errorCode\": 50126}}]\n"
                            "  test hit [{\"id\": \"1\", \"userPrincipalName\": \"a@c\", \"ipAddress\": \"192.0.2.1\", "
                            "\"status\": {\"errorCode\": 50126}}]\n"
                            "}\n";
    ah_ruleset *rs = trules(&td, "l.rules", text, &st);
    assert_int_equal(st, AH_OK);
    ah_buf out;
    ah_buf_init(&out, 0);
    ah_rule_test_totals tot;
    ah_ruleset_run_tests(rs, report_fn, &out, &tot);
    assert_int_equal(tot.failed, 3);
    const char *got = ah_buf_cstr(&out);
    assert_non_null(strstr(got, "FAIL a (l.rules:9): expected 2 hits, got 1 (series of 2 records)\n"));
    assert_non_null(strstr(got, "FAIL a (l.rules:12): expected miss, got 1 hit (series of 2 records)\n"));
    assert_non_null(strstr(
        got, "FAIL a (l.rules:15, record 1): cannot run: the record has no time (a series needs event times)\n"));
    ah_buf_free(&out);
    ah_ruleset_free(rs);
    tdiag_free(&td);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_fields),     cmocka_unit_test(test_window_and_key_types),
        cmocka_unit_test(test_structure),          cmocka_unit_test(test_thresholds),
        cmocka_unit_test(test_templates),          cmocka_unit_test(test_series_tests),
        cmocka_unit_test(test_series_report_text),
    };
    return cmocka_run_group_tests_name("corr_lint", tests, NULL, NULL);
}
