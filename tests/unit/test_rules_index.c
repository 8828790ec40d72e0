/*
 * test_rules_index.c: the skip index (rules pinned to an operation are not
 * evaluated for other events: counted), the first-look hook, variables set
 * and unset (skipped rules are reported, not dropped), list files
 * (comments, zero-width characters, CIDR lists, canonical operation lists)
 * and details rendering.
 */
#include "test_rules_util.h"

#include <pthread.h>

#include "parsers/formats/timeparse.h"

#define RULE(id, src, cond)                                                                                            \
    "rule " id " {\n  title \"" id "\"\n  severity medium\n  sources " src "\n  match " cond                           \
    "\n  test miss {\"a\": 1}\n}\n"

static const char *const index_rules =
    RULE("r1", "ual entra_audit", "operation == \"Add service principal credentials\"")
        RULE("r2", "ual", "operation in [\"Consent to application.\", \"Add member to role.\"] and user == \"x\"")
            RULE("r3", "ual", "user == \"admin@contoso.com\" or raw.Flag == 1")
                RULE("r4", "signin", "ip in cidr [\"10.0.0.0/8\"]")
                    RULE("r5", "ual", "operation == \"X\" or user == \"y\"")
                        RULE("r6", "ual", "not operation == \"Y\"");

static const char *ids(const ah_rule **hits, size_t n, char *buf, size_t size)
{
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        strncat(buf, ah_rule_metadata(hits[i])->id, size - strlen(buf) - 2);
        strncat(buf, " ", size - strlen(buf) - 1);
    }
    return buf;
}

static void test_skip_index(void **state)
{
    (void)state;
    tdiag td;
    tdiag_init(&td);
    ah_status st;
    ah_ruleset *rs = trules(&td, "i.rules", index_rules, &st);
    assert_int_equal(st, AH_OK);
    ah_matcher *m = ah_matcher_new(rs);
    const ah_matcher_stats *s = ah_matcher_get_stats(m);
    const ah_rule *hits[8];
    char buf[128];

    tevent a;
    tevent_init(&a, AH_SOURCE_UAL);
    tevent_set(&a, AH_F_OPERATION, "Add service principal credentials.");
    tevent_set(&a, AH_F_USER, "admin@contoso.com");
    assert_int_equal(ah_matcher_match(m, &a.ev, hits, 8), 3);
    assert_string_equal(ids(hits, 3, buf, sizeof buf), "r1 r3 r6 ");
    assert_int_equal(s->rules_evaluated, 4); /* r1 (its operation) + r3 r5 r6 (not pinned); never r2 */

    tevent b;
    tevent_init(&b, AH_SOURCE_UAL);
    tevent_set(&b, AH_F_OPERATION, "Consent to application");
    tevent_set(&b, AH_F_USER, "x");
    assert_int_equal(ah_matcher_match(m, &b.ev, hits, 8), 2);
    assert_string_equal(ids(hits, 2, buf, sizeof buf), "r2 r6 ");
    assert_int_equal(s->rules_evaluated, 8);

    tevent c;
    tevent_init(&c, AH_SOURCE_SIGNIN);
    tevent_set(&c, AH_F_IP, "10.1.2.3");
    assert_int_equal(ah_matcher_match(m, &c.ev, hits, 8), 1);
    assert_int_equal(s->rules_evaluated, 9);

    tevent d;
    tevent_init(&d, AH_SOURCE_ENTRA_AUDIT);
    tevent_set(&d, AH_F_OPERATION, "ADD SERVICE PRINCIPAL CREDENTIALS");
    assert_int_equal(ah_matcher_match(m, &d.ev, hits, 8), 1);
    assert_ptr_equal(hits[0], ah_ruleset_find(rs, "r1"));
    assert_int_equal(s->rules_evaluated, 10);

    tevent e;
    tevent_init(&e, AH_SOURCE_UNKNOWN);
    tevent_set(&e, AH_F_USER, "admin@contoso.com");
    assert_int_equal(ah_matcher_match(m, &e.ev, hits, 8), 0);
    assert_int_equal(s->rules_evaluated, 10);
    assert_int_equal(s->events, 5);

    /* More hits than room: the count is exact, the array holds the first. */
    assert_int_equal(ah_matcher_match(m, &a.ev, hits, 1), 3);
    assert_ptr_equal(hits[0], ah_ruleset_find(rs, "r1"));
    assert_int_equal(ah_matcher_match(m, &a.ev, NULL, 0), 3);
    assert_int_equal(s->json_parses, 0); /* r3's raw term was never needed: user matched first */

    tevent_free(&a);
    tevent_free(&b);
    tevent_free(&c);
    tevent_free(&d);
    tevent_free(&e);
    ah_matcher_free(m);
    ah_ruleset_free(rs);
    tdiag_free(&td);
}

static void test_first_look(void **state)
{
    (void)state;
    tdiag td;
    tdiag_init(&td);
    ah_status st;
    ah_ruleset *rs = trules(&td, "i.rules", index_rules, &st);
    assert_int_equal(st, AH_OK);
    assert_true(ah_ruleset_needs_raw(rs));
    assert_int_equal(
        ah_ruleset_first_look(rs, AH_SOURCE_ENTRA_AUDIT, ah_span_cstr("add service principal credentials")),
        AH_LOOK_CANDIDATE);
    assert_int_equal(ah_ruleset_first_look(rs, AH_SOURCE_ENTRA_AUDIT, ah_span_cstr("consent to application")), 0);
    assert_int_equal(ah_ruleset_first_look(rs, AH_SOURCE_ENTRA_AUDIT, AH_SPAN_NULL), AH_LOOK_CANDIDATE);
    assert_int_equal(ah_ruleset_first_look(rs, AH_SOURCE_UAL, ah_span_cstr("userloggedin")),
                     AH_LOOK_CANDIDATE | AH_LOOK_NEEDS_RAW);
    assert_int_equal(ah_ruleset_first_look(rs, AH_SOURCE_SIGNIN, ah_span_cstr("")), AH_LOOK_CANDIDATE);
    assert_int_equal(ah_ruleset_first_look(rs, AH_SOURCE_UNKNOWN, AH_SPAN_NULL), 0);
    ah_ruleset_free(rs);

    /* Only pinned rules: anything else is skipped at first look. */
    rs = trules(&td, "p.rules",
                RULE("p1", "ual",
                     "operation == \"MailItemsAccessed\" and raw.AppId == \"00000003-0000-0000-c000-000000000000\"")
                    RULE("p2", "ual", "operation == \"New-InboxRule\" or operation == \"Set-InboxRule\""),
                &st);
    assert_int_equal(st, AH_OK);
    assert_int_equal(ah_ruleset_first_look(rs, AH_SOURCE_UAL, ah_span_cstr("userloggedin")), 0);
    assert_int_equal(ah_ruleset_first_look(rs, AH_SOURCE_UAL, ah_span_cstr("mailitemsaccessed")),
                     AH_LOOK_CANDIDATE | AH_LOOK_NEEDS_RAW);
    assert_int_equal(ah_ruleset_first_look(rs, AH_SOURCE_UAL, ah_span_cstr("set-inboxrule")), AH_LOOK_CANDIDATE);
    assert_int_equal(ah_ruleset_first_look(rs, AH_SOURCE_UAL, AH_SPAN_NULL), AH_LOOK_CANDIDATE | AH_LOOK_NEEDS_RAW);
    assert_int_equal(ah_ruleset_first_look(rs, AH_SOURCE_SIGNIN, AH_SPAN_NULL), 0);
    ah_ruleset_free(rs);
    tdiag_free(&td);
}

/* 300 rules pinned to distinct operations cost one evaluation per event. */
static void test_many_rules_cost_little(void **state)
{
    (void)state;
    ah_buf text;
    ah_buf_init(&text, 0);
    for (int i = 0; i < 300; i++)
        ah_buf_printf(&text,
                      "rule op-%d {\n title \"t\"\n severity low\n sources ual\n match operation == \"Operation number "
                      "%d\" and user contains \"x\"\n test miss {\"a\":1}\n}\n",
                      i, i);
    ah_buf_puts(&text, RULE("any-user", "ual", "user == \"nobody\""));
    tdiag td;
    tdiag_init(&td);
    ah_status st;
    ah_ruleset *rs = trules(&td, "many.rules", text.data, &st);
    assert_int_equal(st, AH_OK);
    assert_int_equal(ah_ruleset_active_count(rs), 301);
    ah_matcher *m = ah_matcher_new(rs);
    tevent e;
    tevent_init(&e, AH_SOURCE_UAL);
    tevent_set(&e, AH_F_USER, "xavier");
    const ah_rule *hits[4];
    for (int i = 0; i < 1000; i++) {
        char op[64];
        snprintf(op, sizeof op, "Operation number %d.", i % 400);
        tevent_set(&e, AH_F_OPERATION, op);
        ah_matcher_match(m, &e.ev, hits, 4);
    }
    /* 1000 events: 'any-user' each time, plus the pinned rule for the 800
     * events whose operation one of the 300 rules names. */
    assert_int_equal(ah_matcher_get_stats(m)->rules_evaluated, 1000 + 800);
    tevent_free(&e);
    ah_matcher_free(m);
    ah_ruleset_free(rs);
    ah_buf_free(&text);
    tdiag_free(&td);
}

static const char *const var_rule =
    "rule mimecast-app {\n  title \"Mimecast app used\"\n  severity critical\n  sources ual signin\n"
    "  match app_id == $mimecast_app_id and not ip in cidr [$allowed_ips]\n"
    "  test set mimecast_app_id \"11111111-2222-3333-4444-555555555555\"\n"
    "  test set allowed_ips \"10.0.0.0/8\"\n"
    "  test hit {\"a\": 1}\n}\n";

static void test_variables(void **state)
{
    (void)state;
    tdiag td;
    tdiag_init(&td);
    ah_status st;
    /* unset: skipped and said so, not silently dropped */
    ah_ruleset *rs = trules(&td, "v.rules", var_rule, &st);
    assert_int_equal(st, AH_OK);
    assert_int_equal(ah_ruleset_active_count(rs), 0);
    const ah_rule_meta *meta = ah_rule_metadata(ah_ruleset_find(rs, "mimecast-app"));
    assert_string_equal(meta->skipped, "variable mimecast_app_id not set");
    assert_diag_has(&td, "N v.rules:1:6: note: rule mimecast-app skipped: variable mimecast_app_id not set "
                         "(--set mimecast_app_id=VALUE)");
    tevent e;
    tevent_init(&e, AH_SOURCE_SIGNIN);
    tevent_set(&e, AH_F_APP_ID, "C0FFEE00-1234-5678-9abc-def012345678");
    tevent_set(&e, AH_F_IP, "198.51.100.7");
    ah_matcher *m = ah_matcher_new(rs);
    assert_int_equal(ah_matcher_match(m, &e.ev, NULL, 0), 0);
    ah_matcher_free(m);
    ah_ruleset_free(rs);

    /* set from a variables file */
    rs = ah_ruleset_new(&td.d);
    assert_int_equal(ah_ruleset_load_vars_file(rs, "tests/data/rules/vars.txt"), AH_OK);
    assert_int_equal(ah_ruleset_load_string(rs, "v.rules", var_rule, strlen(var_rule)), AH_OK);
    assert_int_equal(ah_ruleset_compile(rs), AH_OK);
    assert_int_equal(ah_ruleset_active_count(rs), 1);
    assert_null(ah_rule_metadata(ah_ruleset_rule(rs, 0))->skipped);
    m = ah_matcher_new(rs);
    assert_int_equal(ah_matcher_match(m, &e.ev, NULL, 0), 1);
    tevent_set(&e, AH_F_IP, "2001:db8::77"); /* inside $allowed_ips (split at the comma) */
    assert_int_equal(ah_matcher_match(m, &e.ev, NULL, 0), 0);
    tevent_set(&e, AH_F_IP, "203.0.113.9");
    assert_int_equal(ah_matcher_match(m, &e.ev, NULL, 0), 0);
    assert_int_equal(ah_ruleset_set_var(rs, "late", "x"), AH_ERR_USAGE); /* after compile */

    /* expressions take the variables of a ruleset */
    ah_expr *x = ah_expr_compile("app_id == $mimecast_app_id", rs, &td.d, NULL);
    assert_non_null(x);
    assert_true(ah_expr_eval(m, x, &e.ev));
    ah_expr_free(x);
    assert_null(ah_expr_compile("app_id == $nope", rs, &td.d, NULL));
    assert_diag_has(&td, "<expr>:1:1: error: variable nope is not set (--set nope=VALUE)");
    ah_matcher_free(m);
    ah_ruleset_free(rs);

    /* --set name=value; later values replace earlier ones */
    rs = ah_ruleset_new(&td.d);
    assert_int_equal(ah_ruleset_set_var_arg(rs, "mimecast_app_id=zzz"), AH_OK);
    assert_int_equal(ah_ruleset_set_var_arg(rs, "mimecast_app_id=c0ffee00-1234-5678-9abc-def012345678"), AH_OK);
    assert_int_equal(ah_ruleset_set_var_arg(rs, "allowed_ips=a=b"), AH_OK);
    assert_int_equal(ah_ruleset_set_var_arg(rs, "no-equals-sign"), AH_ERR_USAGE);
    assert_int_equal(ah_ruleset_set_var_arg(rs, "bad-name=1"), AH_ERR_USAGE);
    assert_int_equal(ah_ruleset_set_var(rs, "1x", "1"), AH_ERR_USAGE);
    assert_int_equal(ah_ruleset_load_string(rs, "v.rules", var_rule, strlen(var_rule)), AH_OK);
    /* allowed_ips "a=b" is not a prefix: an error at the variable */
    assert_int_equal(ah_ruleset_compile(rs), AH_ERR_SYNTAX);
    assert_diag_has(&td, "v.rules:5:56: error: bad CIDR prefix 'a=b'");
    ah_ruleset_free(rs);

    tevent_free(&e);
    tdiag_free(&td);
}

static void test_vars_file_errors(void **state)
{
    (void)state;
    const char *path = "build/test_rules_vars_bad.txt";
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("# ok\ngood=1\nno equals here\n9bad=2\n", f);
    fclose(f);
    tdiag td;
    tdiag_init(&td);
    ah_ruleset *rs = ah_ruleset_new(&td.d);
    assert_int_equal(ah_ruleset_load_vars_file(rs, path), AH_ERR_SYNTAX);
    assert_diag_has(&td, "build/test_rules_vars_bad.txt:3:1: error: expected name=value");
    assert_diag_has(&td, "build/test_rules_vars_bad.txt:4:1: error: bad variable name");
    assert_int_equal(ah_ruleset_load_vars_file(rs, "build/no-such-vars.txt"), AH_ERR_IO);
    assert_diag_has(&td, "cannot read variables file build/no-such-vars.txt");
    ah_ruleset_free(rs);
    tdiag_free(&td);
    remove(path);
}

static void test_list_files(void **state)
{
    (void)state;
    const char *text = RULE("ioc-ip", "signin ual", "ip in cidr list(\"lists/ioc-ips.txt\")")
        RULE("ioc-ip-text", "signin", "ip in list(\"lists/ioc-ips.txt\")")
            RULE("known-app", "signin", "app_id in list(\"lists/apps.txt\")")
                RULE("known-app-cased", "signin", "app_id in list(\"lists/apps.txt\") cased")
                    RULE("ops", "ual", "operation in list(\"lists/ops.txt\")");
    tdiag td;
    tdiag_init(&td);
    ah_status st;
    ah_ruleset *rs = trules(&td, "tests/data/rules/inline.rules", text, &st);
    if (st != AH_OK)
        print_error("%s", tdiag_str(&td));
    assert_int_equal(st, AH_OK);
    ah_matcher *m = ah_matcher_new(rs);
    const ah_rule *hits[8];
    char buf[128];
    tevent e;
    tevent_init(&e, AH_SOURCE_SIGNIN);
    static const struct {
        const char *ip;
        const char *want;
    } ips[] = {
        {"13.57.184.217", "ioc-ip ioc-ip-text "},
        {"3.87.182.149", "ioc-ip ioc-ip-text "},  /* U+200D stripped from the list */
        {"54.193.127.66", "ioc-ip ioc-ip-text "}, /* BOM stripped */
        {"2001:db8:bad::5", "ioc-ip "},
        {"2001:db8:bae::5", ""},
        {"198.51.100.77", "ioc-ip "},
        {"198.51.101.1", ""},
        {"::ffff:13.57.184.217", "ioc-ip "},
    };
    for (size_t i = 0; i < AH_ARRAY_LEN(ips); i++) {
        tevent_set(&e, AH_F_IP, ips[i].ip);
        size_t n = ah_matcher_match(m, &e.ev, hits, 8);
        if (strcmp(ids(hits, n, buf, sizeof buf), ips[i].want) != 0) {
            print_error("ip %s: got '%s' want '%s'\n", ips[i].ip, buf, ips[i].want);
            fail();
        }
    }
    tevent_set(&e, AH_F_IP, NULL);
    tevent_set(&e, AH_F_APP_ID, "c0ffee00-1234-5678-9abc-def012345678");
    assert_string_equal(ids(hits, ah_matcher_match(m, &e.ev, hits, 8), buf, sizeof buf), "known-app ");
    tevent_set(&e, AH_F_APP_ID, "1b730954-1685-4b74-9bfd-dac224a7b894");
    assert_string_equal(ids(hits, ah_matcher_match(m, &e.ev, hits, 8), buf, sizeof buf), "known-app known-app-cased ");

    tevent u;
    tevent_init(&u, AH_SOURCE_UAL);
    tevent_set(&u, AH_F_OPERATION, "Update application - Certificates and secrets management");
    assert_string_equal(ids(hits, ah_matcher_match(m, &u.ev, hits, 8), buf, sizeof buf), "ops ");
    assert_int_equal(ah_ruleset_first_look(rs, AH_SOURCE_UAL, ah_span_cstr("consent to application")),
                     AH_LOOK_CANDIDATE);

    tevent_free(&u);
    tevent_free(&e);
    ah_matcher_free(m);
    ah_ruleset_free(rs);

    /* A bad prefix in a CIDR list names the value and the file. */
    FILE *f = fopen("build/test_rules_badlist.txt", "w");
    assert_non_null(f);
    fputs("10.0.0.0/8\nnot-an-ip\n", f);
    fclose(f);
    rs = trules(&td, "build/x.rules", RULE("bad", "ual", "ip in cidr list(\"test_rules_badlist.txt\")"), &st);
    assert_int_equal(st, AH_ERR_SYNTAX);
    assert_diag_has(&td,
                    "build/x.rules:5:25: error: bad CIDR prefix 'not-an-ip' in list file build/test_rules_badlist.txt");
    ah_ruleset_free(rs);
    remove("build/test_rules_badlist.txt");
    tdiag_free(&td);
}

static void test_details(void **state)
{
    (void)state;
    const char *text =
        "rule d {\n  title \"t\"\n  severity high\n  sources ual\n  match true\n"
        "  details \"{user} added {raw.ModifiedProperties[Name=\\\"KeyDescription\\\"].NewValue} to {target}"
        " at {time} ({operation}; {source}; {result}) {{literal}} {raw.Missing} [{raw.Actor.ID}] "
        "{json(raw.ModifiedProperties[Name=\\\"KeyDescription\\\"].NewValue)} {raw.Actor[0]} {raw.RecordType} "
        "{raw.ExternalAccess} {session_id}\"\n"
        "  test miss {\"a\": 1}\n}\n"
        "rule long {\n  title \"t\"\n  severity high\n  sources ual\n  match true\n  details \"<{raw.Long}>\"\n  test "
        "miss {\"a\": 1}\n}\n"
        "rule none {\n  title \"t\"\n  severity high\n  sources ual\n  match true\n  test miss {\"a\": 1}\n}\n";
    tdiag td;
    tdiag_init(&td);
    ah_status st;
    ah_ruleset *rs = trules(&td, "d.rules", text, &st);
    if (st != AH_OK)
        print_error("%s", tdiag_str(&td));
    assert_int_equal(st, AH_OK);
    tevent u;
    tevent_init(&u, AH_SOURCE_UAL);
    char *json = slurp("tests/data/rules/ual_sp_cred.json");
    tevent_json(&u, json, NULL);
    free(json);
    tevent_set(&u, AH_F_OPERATION, "Add service principal credentials.");
    tevent_set(&u, AH_F_USER, "admin@contoso.com");
    tevent_set(&u, AH_F_TARGET, "MailSyncApp");
    u.ev.has_time = true;
    ah_time_parse tp;
    assert_int_equal(ah_time_parse_str(ah_span_cstr("2021-01-13T16:07:40.5Z"), AH_DATE_ORDER_AUTO, &tp), AH_OK);
    u.ev.time = tp.time;
    u.ev.result = AH_RESULT_SUCCESS;

    ah_matcher *m = ah_matcher_new(rs);
    const ah_rule *hits[4];
    assert_int_equal(ah_matcher_match(m, &u.ev, hits, 4), 3);
    ah_buf out;
    ah_buf_init(&out, 0);
    assert_int_equal(ah_rule_render_details(m, hits[0], &u.ev, &out), AH_OK);
    assert_string_equal(
        ah_buf_cstr(&out),
        "admin@contoso.com added [    \"[KeyIdentifier=0f0e1d2c, KeyType=AsymmetricX509Cert, KeyUsage=Verify, "
        "DisplayName=CN=svc]\"  ] to MailSyncApp at 2021-01-13T16:07:40.5000000Z (Add service principal "
        "credentials.; ual; success) {literal} - [admin@contoso.com, User_7a8b] [KeyIdentifier=0f0e1d2c, "
        "KeyType=AsymmetricX509Cert, KeyUsage=Verify, DisplayName=CN=svc] {\"ID\":\"admin@contoso.com\",\"Type\":5} 8 "
        "false -");
    ah_buf_reset(&out);
    assert_int_equal(ah_rule_render_details(m, hits[2], &u.ev, &out), AH_OK);
    assert_string_equal(ah_buf_cstr(&out), "");

    /* values are cut at 512 bytes (on a UTF-8 boundary) with an ellipsis */
    ah_buf big;
    ah_buf_init(&big, 0);
    ah_buf_puts(&big, "{\"Long\":\"");
    for (int i = 0; i < 511; i++)
        ah_buf_putc(&big, 'a');
    ah_buf_puts(&big, "\xC3\xA9tail\"}");
    tevent_json(&u, big.data, NULL);
    ah_buf_reset(&out);
    /* the event struct was reused with new JSON: the matcher notices */
    assert_int_equal(ah_rule_render_details(m, hits[1], &u.ev, &out), AH_OK);
    assert_int_equal(out.len, 1 + 511 + 3 + 1);
    assert_memory_equal(out.data + 1 + 511, "\xE2\x80\xA6>", 4);
    ah_buf_free(&big);

    ah_buf_free(&out);
    tevent_free(&u);
    ah_matcher_free(m);
    ah_ruleset_free(rs);

    rs = trules(&td, "d.rules",
                "rule b {\n  title \"t\"\n  severity high\n  sources ual\n  match true\n  details \"a {user\"\n}\n",
                &st);
    assert_int_equal(st, AH_ERR_SYNTAX);
    assert_diag_has(&td, "d.rules:6:11: error: details: '{' without a closing '}' (write {{ for a literal brace)");
    ah_ruleset_free(rs);
    rs = trules(&td, "d.rules",
                "rule b {\n  title \"t\"\n  severity high\n  sources ual\n  match true\n  details \"a } b\"\n}\n", &st);
    assert_int_equal(st, AH_ERR_SYNTAX);
    assert_diag_has(&td, "d.rules:6:11: error: details: stray '}' (write }} for a literal brace)");
    ah_ruleset_free(rs);
    rs = trules(&td, "d.rules",
                "rule b {\n  title \"t\"\n  severity high\n  sources ual\n  match true\n  details \"{raw.A[}\"\n}\n",
                &st);
    assert_int_equal(st, AH_ERR_SYNTAX);
    assert_diag_has(&td, "d.rules:6:11: error: in details placeholder 'raw.A[': expected an index");
    ah_ruleset_free(rs);
    tdiag_free(&td);
}

static void test_matcher_reuse_and_null(void **state)
{
    (void)state;
    ah_matcher_free(NULL);
    ah_ruleset_free(NULL);
    ah_expr_free(NULL);
    assert_null(ah_ruleset_rule(NULL, 0));
    assert_int_equal(ah_ruleset_count(NULL), 0);
    /* a matcher without a ruleset matches nothing */
    ah_matcher *m = ah_matcher_new(NULL);
    tevent e;
    tevent_init(&e, AH_SOURCE_UAL);
    assert_int_equal(ah_matcher_match(m, &e.ev, NULL, 0), 0);
    ah_matcher_free(m);
    tevent_free(&e);
    /* an uncompiled ruleset is not usable for tests */
    ah_ruleset *rs = ah_ruleset_new(NULL);
    assert_int_equal(ah_ruleset_run_tests(rs, NULL, NULL, NULL), AH_ERR_USAGE);
    assert_int_equal(ah_ruleset_compile(rs), AH_OK);
    assert_int_equal(ah_ruleset_compile(rs), AH_ERR_USAGE);
    ah_ruleset_free(rs);
}

/* One compiled ruleset, several threads each with its own matcher. */
typedef struct worker {
    const ah_ruleset *rs;
    const char *json;
    size_t hits;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    ah_matcher *m = ah_matcher_new(w->rs);
    tevent e;
    tevent_init(&e, AH_SOURCE_UAL);
    tevent_json(&e, w->json, NULL);
    tevent_set(&e, AH_F_OPERATION, "Add service principal credentials.");
    const ah_rule *hits[4];
    for (int i = 0; i < 2000; i++) {
        tevent_set(&e, AH_F_USER, (i & 1) ? "admin@contoso.com" : "other@contoso.com");
        w->hits += ah_matcher_match(m, &e.ev, hits, 4);
    }
    tevent_free(&e);
    ah_matcher_free(m);
    return NULL;
}

static void test_threads_share_a_ruleset(void **state)
{
    (void)state;
    const char *text = RULE("t1", "ual",
                            "operation == \"Add service principal credentials\" and "
                            "raw.ModifiedProperties[Name=\"KeyDescription\"].NewValue matches /KeyType=Asymmetric/")
        RULE("t2", "ual", "user matches /^admin@/ and any raw.Actor as a: a.Type == 2");
    tdiag td;
    tdiag_init(&td);
    ah_status st;
    ah_ruleset *rs = trules(&td, "t.rules", text, &st);
    assert_int_equal(st, AH_OK);
    char *json = slurp("tests/data/rules/ual_sp_cred.json");
    worker w[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){rs, json, 0};
        assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].hits, 2000 + 1000);
    }
    free(json);
    ah_ruleset_free(rs);
    tdiag_free(&td);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_skip_index),
        cmocka_unit_test(test_first_look),
        cmocka_unit_test(test_many_rules_cost_little),
        cmocka_unit_test(test_variables),
        cmocka_unit_test(test_vars_file_errors),
        cmocka_unit_test(test_list_files),
        cmocka_unit_test(test_details),
        cmocka_unit_test(test_matcher_reuse_and_null),
        cmocka_unit_test(test_threads_share_a_ruleset),
    };
    return cmocka_run_group_tests_name("rules_index", tests, NULL, NULL);
}
