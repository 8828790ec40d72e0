/*
 * test_rules_parse.c: rule files: metadata, several rules per file,
 * comments, multi-line text, loading directories, and the exact
 * file:line:col diagnostics for malformed rules (with recovery, so one run
 * reports every problem).
 */
#include "test_rules_util.h"

static const char *const full_rule =
    "# A comment before the rule\n"
    "rule sp-credentials-added {   # trailing comment\n"
    "  title       \"Credentials added \" \"to a service principal\"\n"
    "  description \"\"\"\n"
    "      A credential was added to a service principal.\n"
    "        Indented line.\n"
    "      \"\"\"\n"
    "  severity    high\n"
    "  status      stable\n"
    "  tags        solarwinds mimecast attack.T1098.001\n"
    "  tags        attack.t1550.001 bec\n"
    "  references  https://example.org/a \"https://example.org/b?x=1\"\n"
    "  falsepositives \"cert rotation by app owners\" \"automation\"\n"
    "  author      \"audithound\"\n"
    "  date        2024-01-10\n"
    "  modified    2024-02-01\n"
    "  version     3\n"
    "  note        \"Check the KeyIdentifier against sign-ins.\"\n"
    "  sources     ual entra_audit\n"
    "  match       operation == \"Add service principal credentials\"\n"
    "           or operation == \"Update application \xE2\x80\x93 Certificates and secrets management \"\n"
    "  details     \"{user} added {raw.ModifiedProperties[Name=\\\"KeyDescription\\\"].NewValue} to {target}\"\n"
    "  test hit    {\"Operation\": \"Add service principal credentials.\"}\n"
    "}\n"
    "\n"
    "rule second { title \"Two\" severity low\n"
    "  sources signin\n"
    "  match user == \"x\" test miss {\"a\": 1} }\n";

static void test_metadata(void **state)
{
    (void)state;
    tdiag td;
    tdiag_init(&td);
    ah_status st;
    ah_ruleset *rs = trules(&td, "rules/x.rules", full_rule, &st);
    if (st != AH_OK)
        print_error("%s", tdiag_str(&td));
    assert_int_equal(st, AH_OK);
    assert_int_equal(td.d.count[AH_SEV_ERROR], 0);
    assert_int_equal(td.d.count[AH_SEV_WARNING], 0);
    assert_int_equal(ah_ruleset_count(rs), 2);
    assert_int_equal(ah_ruleset_active_count(rs), 2);
    const ah_rule_meta *m = ah_rule_metadata(ah_ruleset_find(rs, "sp-credentials-added"));
    assert_non_null(m);
    assert_string_equal(m->id, "sp-credentials-added");
    assert_string_equal(m->title, "Credentials added to a service principal");
    assert_string_equal(m->description, "A credential was added to a service principal.\n  Indented line.");
    assert_int_equal(m->level, AH_LEVEL_HIGH);
    assert_string_equal(ah_level_name(m->level), "high");
    assert_int_equal(m->status, AH_RULE_STATUS_STABLE);
    assert_int_equal(m->tags.n, 5);
    assert_string_equal(m->tags.v[2], "attack.T1098.001");
    assert_string_equal(m->tags.v[4], "bec");
    assert_int_equal(m->attack.n, 2);
    assert_string_equal(m->attack.v[0], "T1098.001");
    assert_string_equal(m->attack.v[1], "T1550.001");
    assert_int_equal(m->references.n, 2);
    assert_string_equal(m->references.v[1], "https://example.org/b?x=1");
    assert_int_equal(m->falsepositives.n, 2);
    assert_string_equal(m->falsepositives.v[0], "cert rotation by app owners");
    assert_string_equal(m->author, "audithound");
    assert_string_equal(m->date, "2024-01-10");
    assert_string_equal(m->modified, "2024-02-01");
    assert_string_equal(m->version, "3");
    assert_string_equal(m->note, "Check the KeyIdentifier against sign-ins.");
    assert_int_equal(m->sources, AH_SOURCE_BIT(AH_SOURCE_UAL) | AH_SOURCE_BIT(AH_SOURCE_ENTRA_AUDIT));
    assert_string_equal(m->file, "rules/x.rules");
    assert_int_equal(m->line, 2);
    assert_int_equal(m->index, 0);
    assert_null(m->skipped);
    assert_true(m->needs_raw);

    const ah_rule_meta *m2 = ah_rule_metadata(ah_ruleset_rule(rs, 1));
    assert_string_equal(m2->id, "second");
    assert_int_equal(m2->line, 26);
    assert_int_equal(m2->level, AH_LEVEL_LOW);
    assert_int_equal(m2->status, AH_RULE_STATUS_NONE);
    assert_string_equal(m2->description, "");
    assert_int_equal(m2->tags.n, 0);
    assert_false(m2->needs_raw);
    assert_null(ah_ruleset_find(rs, "nope"));
    ah_ruleset_free(rs);
    tdiag_free(&td);
}

/* hunt --tags matching: case-insensitive, "attack." optional, whole tags
 * only, skipped rules count as loaded. */
static void test_has_tag(void **state)
{
    (void)state;
    tdiag td;
    tdiag_init(&td);
    ah_status st;
    ah_ruleset *rs = trules(&td, "rules/x.rules",
                            "rule a { title \"A\" severity low\n  sources ual\n  match user == \"x\"\n"
                            "  tags solarwinds attack.persistence attack.t1098.001 ref.D09\n"
                            "  test miss {\"a\": 1} }\n"
                            "rule b { title \"B\" severity low\n  sources ual\n  match user == $who\n"
                            "  tags ATTACK.T1550.001 bec\n"
                            "  test miss {\"a\": 1} }\n",
                            &st);
    if (st != AH_OK)
        print_error("%s", tdiag_str(&td));
    assert_int_equal(st, AH_OK);
    assert_int_equal(ah_ruleset_active_count(rs), 1);
    const ah_rule_meta *a = ah_rule_metadata(ah_ruleset_find(rs, "a"));
    assert_true(ah_rule_has_tag(a, ah_span_cstr("SolarWinds")));
    assert_true(ah_rule_has_tag(a, ah_span_cstr("T1098.001")));
    assert_true(ah_rule_has_tag(a, ah_span_cstr("attack.T1098.001")));
    assert_true(ah_rule_has_tag(a, ah_span_cstr("persistence")));
    assert_true(ah_rule_has_tag(a, ah_span_cstr("ref.d09")));
    assert_false(ah_rule_has_tag(a, ah_span_cstr("t1098"))); /* whole tags only */
    assert_false(ah_rule_has_tag(a, ah_span_cstr("attack.")));
    assert_false(ah_rule_has_tag(a, ah_span_cstr("")));
    assert_false(ah_rule_has_tag(a, ah_span_cstr("bec")));
    assert_false(ah_rule_has_tag(NULL, ah_span_cstr("bec")));
    assert_true(ah_ruleset_has_tag(rs, ah_span_cstr("bec")));       /* rule b is skipped ($who), still loaded */
    assert_true(ah_ruleset_has_tag(rs, ah_span_cstr("t1550.001"))); /* upper-case prefix and id */
    assert_false(ah_ruleset_has_tag(rs, ah_span_make("d09 ref.D09", 11)));
    assert_true(ah_ruleset_has_tag(rs, ah_span_make("ref.D09 x", 7)));
    assert_false(ah_ruleset_has_tag(rs, ah_span_cstr("nosuch")));
    assert_false(ah_ruleset_has_tag(NULL, ah_span_cstr("bec")));
    ah_ruleset_free(rs);
    tdiag_free(&td);
}

/* Compile `text` as "e.rules" and expect `msg` among the diagnostics. */
static void expect_error(const char *text, const char *msg)
{
    tdiag td;
    tdiag_init(&td);
    ah_status st;
    ah_ruleset *rs = trules(&td, "e.rules", text, &st);
    assert_int_equal(st, AH_ERR_SYNTAX);
    assert_diag_has(&td, msg);
    ah_ruleset_free(rs);
    tdiag_free(&td);
}

#define HEAD "rule r {\n  title \"t\"\n  severity high\n  sources ual\n"
#define TAIL "  test miss {\"a\": 1}\n}\n"

static void test_error_unterminated_string(void **state)
{
    (void)state;
    expect_error(HEAD "  match user == \"abc\n" TAIL,
                 "E e.rules:5:17: error: unterminated string\n    match user == \"abc\n                  ^^^^\n");
}

static void test_error_unknown_operator(void **state)
{
    (void)state;
    expect_error(
        HEAD "  match user equals \"a\"\n" TAIL,
        "E e.rules:5:14: error: unknown operator 'equals'; expected ==, !=, <, <=, >, >=, contains, startswith, "
        "endswith, matches, in, exists, is empty, sameas\n    match user equals \"a\"\n               ^^^^^^\n");
    expect_error(HEAD "  match user = \"a\"\n" TAIL, "e.rules:5:14: error: unknown operator '=' (did you mean '=='?)");
    expect_error(HEAD "  match user containz \"a\"\n" TAIL,
                 "e.rules:5:14: error: unknown operator 'containz' (did you mean 'contains'?)");
    expect_error(HEAD "  match user =~ \"a\"\n" TAIL,
                 "e.rules:5:14: error: unknown operator '=~' (for a regex write: matches /.../)");
    expect_error(HEAD "  match user == \"a\" && ip == \"b\"\n" TAIL,
                 "e.rules:5:21: error: unknown operator '&&' (write `and` / `or`)");
    expect_error(HEAD "  match user samesa raw.X\n" TAIL,
                 "e.rules:5:14: error: unknown operator 'samesa' (did you mean 'sameas'?)");
    /* the lists in these messages are generated from ops.def */
    expect_error(HEAD "  match user not is empty\n" TAIL,
                 "E e.rules:5:18: error: expected contains, startswith, endswith, matches, in, exists or sameas after "
                 "'not', found 'is'\n");
    expect_error(HEAD "  match user is not there\n" TAIL,
                 "e.rules:5:21: error: expected 'empty' after 'is' (is empty / is not empty; for absence use `not x "
                 "exists`), found 'there'");
    expect_error(HEAD "  match time contains \"2021\"\n" TAIL,
                 "e.rules:5:14: error: time supports ==, !=, <, <=, >, >= and exists, not contains");
    expect_error(HEAD "  match result startswith \"succ\"\n" TAIL,
                 "e.rules:5:16: error: result supports ==, != and in [...], not startswith");
    /* a multi-word operator is marked whole */
    expect_error(HEAD "  match source not in cidr [\"10.0.0.0/8\"]\n" TAIL,
                 "E e.rules:5:16: error: source supports ==, != and in [...], not in cidr\n"
                 "    match source not in cidr [\"10.0.0.0/8\"]\n                 ^^^^^^^^^^^\n");
}

static void test_error_sameas(void **state)
{
    (void)state;
    expect_error(HEAD "  match user sameas \"admin\"\n" TAIL,
                 "e.rules:5:21: error: expected a field name, found a string (a condition is `field op value`, e.g. "
                 "user == \"x\")");
    expect_error(HEAD "  match user sameas 3\n" TAIL,
                 "e.rules:5:21: error: expected a field name (e.g. user, operation, raw.Key), found '3'");
    expect_error(HEAD "  match user sameas usr\n" TAIL,
                 "e.rules:5:21: error: unknown field 'usr' (did you mean 'user'?)");
    expect_error(HEAD "  match time sameas raw.CreationTime\n" TAIL,
                 "e.rules:5:14: error: time supports ==, !=, <, <=, >, >= and exists, not sameas");
    expect_error(HEAD "  match source not sameas user\n" TAIL,
                 "e.rules:5:16: error: source supports ==, != and in [...], not sameas");
    /* the operator's words are reserved: not a field name */
    expect_error(HEAD "  match sameas == \"a\"\n" TAIL,
                 "e.rules:5:9: error: expected a field name, found keyword 'sameas'");
}

static void test_error_bad_regex(void **state)
{
    (void)state;
    expect_error(HEAD "  match user matches /ab(c/\n" TAIL,
                 "E e.rules:5:27: error: bad regex: missing closing parenthesis (at offset 4)\n"
                 "    match user matches /ab(c/\n"
                 "                            ^\n");
    expect_error(HEAD "  match user matches /a/q\n" TAIL, "e.rules:5:22: error: unknown regex flag 'q'");
}

static void test_error_duplicate_id(void **state)
{
    (void)state;
    tdiag td;
    tdiag_init(&td);
    ah_ruleset *rs = ah_ruleset_new(&td.d);
    const char *a = HEAD "  match user == \"a\"\n" TAIL;
    const char *b = "\n\n" HEAD "  match user == \"b\"\n" TAIL;
    assert_int_equal(ah_ruleset_load_string(rs, "a.rules", a, strlen(a)), AH_OK);
    assert_int_equal(ah_ruleset_load_string(rs, "b.rules", b, strlen(b)), AH_ERR_SYNTAX);
    assert_int_equal(ah_ruleset_compile(rs), AH_ERR_SYNTAX);
    assert_diag_has(&td, "E b.rules:3:6: error: duplicate rule id 'r'\n  rule r {\n       ^\n");
    assert_diag_has(&td, "N a.rules:1:6: note: 'r' first defined here\n");
    assert_int_equal(ah_ruleset_count(rs), 2);
    assert_int_equal(ah_ruleset_active_count(rs), 1);
    assert_string_equal(ah_rule_metadata(ah_ruleset_rule(rs, 1))->skipped, "duplicate rule id");
    ah_ruleset_free(rs);
    tdiag_free(&td);
}

static void test_error_unknown_field(void **state)
{
    (void)state;
    expect_error(
        HEAD "  match usr == \"a\"\n" TAIL,
        "E e.rules:5:9: error: unknown field 'usr' (did you mean 'user'?)\n    match usr == \"a\"\n          ^^^\n");
    expect_error(HEAD "  match ModifiedProperties contains \"a\"\n" TAIL,
                 "e.rules:5:9: error: unknown field 'ModifiedProperties' (keys of the record are written "
                 "raw.ModifiedProperties)");
    expect_error(HEAD "  match user.name == \"a\"\n" TAIL,
                 "e.rules:5:13: error: 'user' is a normalized field and has no keys");
    expect_error(HEAD "  match any raw.A as user: true\n" TAIL,
                 "e.rules:5:22: error: 'user' is a field name; pick another name for the element");
    expect_error(HEAD "  details \"{user} {usr}\"\n  match user == \"a\"\n" TAIL,
                 "e.rules:5:11: error: in details placeholder '{usr}': unknown field 'usr' (did you mean 'user'?)");
}

static void test_error_unknown_source_and_metadata(void **state)
{
    (void)state;
    expect_error("rule r {\n  title \"t\"\n  severity high\n  sources ual signn\n  match user == \"a\"\n" TAIL,
                 "E e.rules:4:15: error: unknown source 'signn' (expected ual, signin or entra_audit); did you mean "
                 "'signin'?\n    sources ual signn\n                ^^^^^\n");
    expect_error(
        "rule r {\n  title \"t\"\n  severity hihg\n  sources ual\n  match user == \"a\"\n" TAIL,
        "e.rules:3:12: error: severity must be info, low, medium, high or critical, not 'hihg' (did you mean 'high'?)");
    expect_error("rule r {\n  titel \"t\"\n  severity high\n  sources ual\n  match user == \"a\"\n" TAIL,
                 "e.rules:2:3: error: unknown key 'titel' (did you mean 'title'?)");
    expect_error("rule r {\n  severity high\n  sources ual\n  match user == \"a\"\n" TAIL,
                 "e.rules:1:6: error: rule 'r' has no a title (title is required)");
    expect_error("rule r {\n  title \"t\"\n  severity high\n  match user == \"a\"\n" TAIL,
                 "e.rules:1:6: error: rule 'r' has no sources (sources is required)");
    expect_error(HEAD "  status beta\n  match user == \"a\"\n" TAIL,
                 "e.rules:5:10: error: status must be stable, test or experimental, not 'beta'");
    expect_error(HEAD "  title \"again\"\n  match user == \"a\"\n" TAIL, "e.rules:5:3: error: duplicate key 'title'");
    expect_error(HEAD "  status stable test\n  match user == \"a\"\n" TAIL,
                 "e.rules:5:17: error: status takes one value");
    expect_error("rule r {\n  title \"t\"\n  severity high\n  sources ual\n  match source == \"sigin\"\n" TAIL,
                 "e.rules:5:19: error: unknown source 'sigin'");
    expect_error("rule bad/id {\n  title \"t\"\n}\n",
                 "e.rules:1:6: error: rule id 'bad/id' may only hold letters, digits, '-', '_', '.', ':'");
    expect_error(HEAD "  match user == \"a\"\n", "e.rules:1:6: error: rule 'r' is not closed (missing '}')");
    expect_error("rule r {\n  title \"t\"\n  severity high\n  sources\n  match user == \"a\"\n" TAIL,
                 "e.rules:1:6: error: rule 'r' lists no sources (ual, signin, entra_audit): it can never apply");
}

static void test_error_values(void **state)
{
    (void)state;
    expect_error(HEAD "  match ip in cidr [\"10.0.0.0/8\", \"10.0.0.0/33\"]\n" TAIL,
                 "E e.rules:5:35: error: bad CIDR prefix '10.0.0.0/33' (expected e.g. 10.0.0.0/8 or 2001:db8::/32)");
    expect_error(HEAD "  match user in list(\"no-such-list.txt\")\n" TAIL,
                 "e.rules:5:22: error: cannot read list file no-such-list.txt: No such file or directory");
    expect_error(HEAD "  match user == $ x\n" TAIL, "e.rules:5:17: error: expected a variable name after '$'");
    expect_error(HEAD "  match time > \"yesterday\"\n" TAIL,
                 "e.rules:5:16: error: not a timestamp: 'yesterday' (use ISO 8601, e.g. \"2021-01-12T00:00:00Z\")");
    expect_error(HEAD "  match raw.Count > \"ten\"\n" TAIL,
                 "e.rules:5:21: error: 'ten' is neither a number nor a timestamp (numbers are written without quotes)");
    expect_error(HEAD "  match result == \"ok\"\n" TAIL,
                 "e.rules:5:19: error: result is success, failure or unknown, not 'ok'");
    expect_error(HEAD "  match format == \"no_such_format\"\n" TAIL,
                 "e.rules:5:19: error: unknown format 'no_such_format'");
    expect_error(HEAD "  match time contains \"2021\"\n" TAIL,
                 "e.rules:5:14: error: time supports ==, !=, <, <=, >, >= and exists, not contains");
}

static void test_error_tests(void **state)
{
    (void)state;
    expect_error(HEAD "  match user == \"a\"\n  test {\"a\": 1}\n}\n",
                 "e.rules:6:8: error: expected hit, miss or set after test");
    expect_error(HEAD "  match user == \"a\"\n  test hit {\"a\": 1,}\n}\n",
                 "e.rules:6:20: error: invalid inline JSON in test");
    /* a missing test file is a warning when the rules load (a hunt does not
     * need test fixtures); running the test then fails */
    tdiag td;
    tdiag_init(&td);
    ah_status st;
    ah_ruleset *rs = trules(&td, "m.rules", HEAD "  match user == \"a\"\n  test hit \"no/such/file.json\"\n}\n", &st);
    assert_int_equal(st, AH_OK);
    assert_diag_has(
        &td,
        "W m.rules:6:12: warning: test file not found: no/such/file.json (looked in ./ and the current directory)");
    ah_rule_test_totals totals = {0};
    assert_int_equal(ah_ruleset_run_tests(rs, NULL, NULL, &totals), AH_ERR_RECORD);
    assert_int_equal(totals.failed, 1);
    ah_ruleset_free(rs);
    tdiag_free(&td);
    /* a rule without tests is a warning, not an error */
    tdiag_init(&td);
    rs = trules(&td, "w.rules", HEAD "  match user == \"a\"\n}\n", &st);
    assert_int_equal(st, AH_OK);
    assert_diag_has(&td, "W w.rules:1:6: warning: rule 'r' has no tests");
    ah_ruleset_free(rs);
    tdiag_free(&td);
}

static void test_error_expression_syntax(void **state)
{
    (void)state;
    expect_error(HEAD "  match (user == \"a\" or ip == \"b\"\n" TAIL,
                 "e.rules:6:3: error: expected ')' or an operator (and, or)");
    expect_error(HEAD "  match user == \"a\" and\n" TAIL,
                 "e.rules:6:3: error: expected a condition, found the key 'test' (the condition above is incomplete)");
    expect_error(HEAD "  match user contains\n" TAIL,
                 "e.rules:6:3: error: expected a value (\"text\", a number, true/false or $variable), found 'test'");
    expect_error(HEAD "  match \"user\" == \"a\"\n" TAIL, "e.rules:5:9: error: expected a field name, found a string");
    expect_error(HEAD "  match raw.A[Name \"x\"] exists\n" TAIL,
                 "e.rules:5:20: error: expected '=' in an element selection");
    expect_error(HEAD "  match raw.A.0 exists\n" TAIL, "e.rules:5:15: error: a key cannot start with a digit; use [0]");
    expect_error(HEAD "  match any raw.A p: true\n" TAIL,
                 "e.rules:5:19: error: expected 'as' (any PATH as NAME: condition)");
    expect_error(HEAD "  match user is null\n" TAIL, "e.rules:5:17: error: expected 'empty' after 'is'");
    expect_error(HEAD "  match user == unquoted\n" TAIL, "e.rules:5:17: error: expected a value (\"text\", a number, "
                                                         "true/false or $variable), found 'unquoted' (quote text");
    expect_error(HEAD "  match json(user) exists\n" TAIL, "e.rules:5:9: error: json() needs a raw path");
    expect_error(HEAD "  match any user as u: true\n" TAIL, "e.rules:5:13: error: any needs a raw path to iterate");
}

static void test_recovery_reports_everything(void **state)
{
    (void)state;
    tdiag td;
    tdiag_init(&td);
    ah_status st;
    const char *text = "rule a {\n  title \"x\n  severity hihg\n  sources ual signn\n  match user = \"b\"\n}\n"
                       "garbage here\n"
                       "rule b {\n  title \"ok\"\n  severity low\n  sources ual\n  match user == \"b\"\n" TAIL;
    ah_ruleset *rs = trules(&td, "m.rules", text, &st);
    assert_int_equal(st, AH_ERR_SYNTAX);
    assert_diag_has(&td, "m.rules:2:9: error: unterminated string");
    assert_diag_has(&td, "m.rules:3:12: error: severity must be");
    assert_diag_has(&td, "m.rules:4:15: error: unknown source 'signn'");
    assert_diag_has(&td, "m.rules:5:14: error: unknown operator '='");
    assert_diag_has(&td, "m.rules:7:1: error: expected 'rule', found 'garbage'");
    assert_int_equal(td.d.count[AH_SEV_ERROR], 5);
    assert_int_equal(ah_ruleset_error_count(rs), 5);
    /* the good rule after the broken ones still works */
    assert_int_equal(ah_ruleset_count(rs), 2);
    assert_int_equal(ah_ruleset_active_count(rs), 1);
    assert_null(ah_rule_metadata(ah_ruleset_find(rs, "b"))->skipped);
    assert_string_equal(ah_rule_metadata(ah_ruleset_find(rs, "a"))->skipped, "it has errors");
    ah_ruleset_free(rs);
    tdiag_free(&td);
}

static void test_load_directory(void **state)
{
    (void)state;
    tdiag td;
    tdiag_init(&td);
    ah_ruleset *rs = ah_ruleset_new(&td.d);
    assert_int_equal(ah_ruleset_load_path(rs, "tests/data/rules/dir"), AH_OK);
    assert_int_equal(ah_ruleset_compile(rs), AH_OK);
    /* sorted by path, recursive, only *.rules */
    assert_int_equal(ah_ruleset_count(rs), 3);
    assert_string_equal(ah_rule_metadata(ah_ruleset_rule(rs, 0))->id, "dir-a");
    assert_string_equal(ah_rule_metadata(ah_ruleset_rule(rs, 1))->id, "dir-b");
    assert_string_equal(ah_rule_metadata(ah_ruleset_rule(rs, 2))->id, "dir-sub-c");
    assert_string_equal(ah_rule_metadata(ah_ruleset_rule(rs, 2))->file, "tests/data/rules/dir/sub/c.rules");
    assert_int_equal(ah_ruleset_load_path(rs, "tests/data/rules/dir/a.rules"), AH_ERR_USAGE); /* after compile */
    ah_ruleset_free(rs);

    rs = ah_ruleset_new(&td.d);
    assert_int_equal(ah_ruleset_load_path(rs, "tests/data/rules/no-such-dir"), AH_ERR_IO);
    assert_diag_has(&td, "cannot open tests/data/rules/no-such-dir: No such file or directory");
    ah_ruleset_free(rs);
    tdiag_free(&td);
}

static void test_empty_and_comment_only_files(void **state)
{
    (void)state;
    tdiag td;
    tdiag_init(&td);
    ah_status st;
    ah_ruleset *rs = trules(&td, "c.rules", "# only a comment\n\n   # another\n", &st);
    assert_int_equal(st, AH_OK);
    assert_int_equal(ah_ruleset_count(rs), 0);
    ah_ruleset_free(rs);
    rs = trules(&td, "c.rules", "", &st);
    assert_int_equal(st, AH_OK);
    ah_ruleset_free(rs);
    tdiag_free(&td);
}

static void test_warnings(void **state)
{
    (void)state;
    tdiag td;
    tdiag_init(&td);
    ah_status st;
    ah_ruleset *rs =
        trules(&td, "w.rules",
               HEAD "  match source == \"signin\" or format == \"signin_graph\" or operation == \"x\" cased\n"
                    "     or user in []\n  sources ual\n" TAIL,
               &st);
    assert_int_equal(st, AH_OK);
    assert_diag_has(
        &td, "w.rules:5:19: warning: source 'signin' is not among the rule's sources: this comparison is never true");
    assert_diag_has(&td,
                    "w.rules:5:41: warning: format 'signin_graph' is a signin format, not among the rule's sources");
    assert_diag_has(
        &td, "w.rules:5:59: warning: `cased` has no effect here (operation compares in canonical, case-folded form; "
             "use operation_raw)");
    assert_diag_has(&td, "w.rules:6:14: warning: empty list: this comparison is never true");
    assert_diag_has(&td, "w.rules:7:11: warning: source 'ual' listed twice");
    assert_int_equal(td.d.count[AH_SEV_ERROR], 0);
    ah_ruleset_free(rs);
    tdiag_free(&td);
}

/* Deterministic corruption: thousands of mutated rule files must give
 * clean errors, never a crash or a leak (run under ASan by cc-test.sh). */
static void test_corruption(void **state)
{
    (void)state;
    const char *seeds[] = {full_rule,
                           HEAD "  match any raw.A[*] as p: (p.B[Name=\"x\"].C matches /a(b|c)+/m and "
                                "json(p.D).E in cidr [\"10.0.0.0/8\"])\n  details \"{raw.A[0]} {{x}}\"\n" TAIL};
    uint64_t rnd = 0x9E3779B97F4A7C15ull;
    static const char alphabet[] = "\"\\{}[]()=!<>$#/*.,: \n\tazAZ09-_~\xC3\xA9";
    ah_buf b;
    ah_buf_init(&b, 0);
    for (int iter = 0; iter < 3000; iter++) {
        const char *seed = seeds[iter % 2];
        size_t n = strlen(seed);
        ah_buf_reset(&b);
        ah_buf_append(&b, seed, n);
        int edits = 1 + iter % 4;
        for (int k = 0; k < edits; k++) {
            rnd ^= rnd << 13;
            rnd ^= rnd >> 7;
            rnd ^= rnd << 17;
            size_t at = (size_t)(rnd % (b.len + 1));
            char c = alphabet[(rnd >> 32) % (sizeof alphabet - 1)];
            switch ((rnd >> 40) % 3) {
            case 0: /* replace */
                if (at < b.len)
                    b.data[at] = c;
                break;
            case 1: /* delete */
                if (at < b.len) {
                    memmove(b.data + at, b.data + at + 1, b.len - at - 1);
                    b.len--;
                }
                break;
            default: { /* insert */
                ah_buf_putc(&b, ' ');
                memmove(b.data + at + 1, b.data + at, b.len - at - 1);
                b.data[at] = c;
            }
            }
        }
        ah_ruleset *rs = ah_ruleset_new(NULL);
        ah_ruleset_load_string(rs, "f.rules", b.data, b.len);
        ah_ruleset_compile(rs);
        ah_buf ex;
        ah_buf_init(&ex, 0);
        ah_ruleset_explain(rs, NULL, &ex);
        ah_buf_free(&ex);
        ah_ruleset_free(rs);
        ah_expr_free(ah_expr_compile(b.data, NULL, NULL, NULL));
    }
    ah_buf_free(&b);
}

static void test_nesting_limit(void **state)
{
    (void)state;
    ah_buf b;
    ah_buf_init(&b, 0);
    ah_buf_puts(&b, HEAD "  match ");
    for (int i = 0; i < 5000; i++)
        ah_buf_putc(&b, '(');
    ah_buf_puts(&b, "true\n" TAIL);
    expect_error(b.data, "error: expression nested too deeply (limit 64)");
    ah_buf_reset(&b);
    ah_buf_puts(&b, HEAD "  match ");
    for (int i = 0; i < 5000; i++)
        ah_buf_puts(&b, "not ");
    ah_buf_puts(&b, "true\n" TAIL);
    expect_error(b.data, "error: expression nested too deeply (limit 64)");
    ah_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metadata),
        cmocka_unit_test(test_has_tag),
        cmocka_unit_test(test_error_unterminated_string),
        cmocka_unit_test(test_error_unknown_operator),
        cmocka_unit_test(test_error_sameas),
        cmocka_unit_test(test_error_bad_regex),
        cmocka_unit_test(test_error_duplicate_id),
        cmocka_unit_test(test_error_unknown_field),
        cmocka_unit_test(test_error_unknown_source_and_metadata),
        cmocka_unit_test(test_error_values),
        cmocka_unit_test(test_error_tests),
        cmocka_unit_test(test_error_expression_syntax),
        cmocka_unit_test(test_recovery_reports_everything),
        cmocka_unit_test(test_load_directory),
        cmocka_unit_test(test_empty_and_comment_only_files),
        cmocka_unit_test(test_warnings),
        cmocka_unit_test(test_corruption),
        cmocka_unit_test(test_nesting_limit),
    };
    return cmocka_run_group_tests_name("rules_parse", tests, NULL, NULL);
}
