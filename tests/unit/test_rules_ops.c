/*
 * test_rules_ops.c: every operator and path form of the match language,
 * evaluated on hand-built events (UAL AuditData and a Graph directory
 * audit record from tests/data/rules/), including case rules, missing
 * fields, nested JSON in strings, [Name=...] selection in both casings,
 * any/all, CIDR (IPv4 and IPv6), numbers and times.
 */
#include "test_rules_util.h"

#include "parsers/formats/timeparse.h"

static tevent U; /* UAL: Add service principal credentials. */
static tevent G; /* Graph directory audit: same event */

static int setup(void **state)
{
    (void)state;
    tevent_init(&U, AH_SOURCE_UAL);
    char *ual = slurp("tests/data/rules/ual_sp_cred.json");
    tevent_json(&U, ual, NULL);
    free(ual);
    tevent_set(&U, AH_F_OPERATION, "Add service principal credentials.");
    tevent_set(&U, AH_F_USER, "admin@contoso.com");
    tevent_set(&U, AH_F_IP, "2001:db8::10");
    tevent_set(&U, AH_F_APP_ID, "c0ffee00-1234-5678-9abc-def012345678");
    tevent_set(&U, AH_F_TARGET, "MailSyncApp");
    tevent_set(&U, AH_F_RECORD_TYPE, "8");
    U.ev.result = AH_RESULT_SUCCESS;
    U.ev.has_time = true;
    ah_time_parse tp;
    assert_int_equal(ah_time_parse_str(ah_span_cstr("2021-01-13T16:07:40Z"), AH_DATE_ORDER_AUTO, &tp), AH_OK);
    U.ev.time = tp.time;

    tevent_init(&G, AH_SOURCE_ENTRA_AUDIT);
    char *g = slurp("tests/data/rules/graph_sp_cred.json");
    tevent_json(&G, g, NULL);
    free(g);
    tevent_set(&G, AH_F_OPERATION, "Add service principal credentials");
    tevent_set(&G, AH_F_USER, "admin@contoso.com");
    G.ev.result = AH_RESULT_SUCCESS;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tevent_free(&U);
    tevent_free(&G);
    return 0;
}

#define T(expr) assert_int_equal(texpr(expr, &U.ev), 1)
#define F(expr) assert_int_equal(texpr(expr, &U.ev), 0)
#define TG(expr) assert_int_equal(texpr(expr, &G.ev), 1)
#define FG(expr) assert_int_equal(texpr(expr, &G.ev), 0)

static void test_equality_and_case(void **state)
{
    (void)state;
    T("user == \"ADMIN@contoso.com\"");
    F("user == \"ADMIN@contoso.com\" cased");
    T("user == \"admin@contoso.com\" cased");
    T("user != \"someone@contoso.com\"");
    F("user != \"Admin@Contoso.com\"");
    F("user == \"admin@contoso.co\"");
    F("user == \"\"");
}

static void test_operation_canonical(void **state)
{
    (void)state;
    T("operation == \"Add service principal credentials\"");
    T("operation == \"Add service principal credentials.\"");
    T("operation == \"  ADD   service principal CREDENTIALS. \"");
    TG("operation == \"Add service principal credentials.\"");
    T("operation in [\"Consent to application.\", \"Add service principal credentials\"]");
    T("operation startswith \"add service\"");
    T("operation contains \"PRINCIPAL CRED\"");
    T("operation_raw == \"Add service principal credentials.\"");
    F("operation_raw == \"Add service principal credentials\"");
    /* The en dash, trailing space and missing period of the UAL/Entra
     * certificate operation all canonicalize alike. */
    tevent e;
    tevent_init(&e, AH_SOURCE_UAL);
    tevent_set(&e, AH_F_OPERATION, "Update application \xE2\x80\x93 Certificates and secrets management ");
    assert_int_equal(texpr("operation == \"Update application - Certificates and secrets management\"", &e.ev), 1);
    assert_int_equal(
        texpr("operation == \"Update application \xE2\x80\x94 certificates and secrets management.\"", &e.ev), 1);
    tevent_free(&e);
}

static void test_contains_starts_ends(void **state)
{
    (void)state;
    T("user contains \"CONTOSO\"");
    F("user contains \"CONTOSO\" cased");
    T("user contains \"contoso\" cased");
    T("user startswith \"ADMIN@\"");
    F("user startswith \"ADMIN@\" cased");
    T("user endswith \".COM\"");
    F("user endswith \"x\"");
    F("user startswith \"admin@contoso.com.longer\"");
    T("user not contains \"evil\"");
    F("user not startswith \"admin\"");
    T("user contains \"\"");
    T("target endswith \"syncapp\"");
}

static void test_regex(void **state)
{
    (void)state;
    T("user matches /^ADMIN@/");
    F("user matches /^ADMIN@/ cased");
    T("user matches \"^admin@contoso\\\\.com$\"");
    T("raw.ModifiedProperties[Name=\"KeyDescription\"].NewValue matches /KeyType=Asymmetric\\w+/");
    /* m: ^ at line starts; s: . spans newlines. */
    T("raw.ModifiedProperties[Name=\"KeyDescription\"].NewValue matches /^\\s+\"\\[Key/m");
    F("raw.ModifiedProperties[Name=\"KeyDescription\"].NewValue matches /^\\s+\"\\[Key/");
    T("raw.ModifiedProperties[Name=\"KeyDescription\"].NewValue matches /^\\[.*\\]$/s");
    F("raw.ModifiedProperties[Name=\"KeyDescription\"].NewValue matches /^\\[.*\\]$/");
    T("user not matches /evil/");
    F("session_id matches /.*/");
}

static void test_in_lists(void **state)
{
    (void)state;
    T("user in [\"x\", \"ADMIN@CONTOSO.COM\"]");
    F("user in [\"x\", \"ADMIN@CONTOSO.COM\"] cased");
    T("user in [\"x\", \"admin@contoso.com\"] cased");
    T("user not in [\"x\", \"y\"]");
    F("user in []");
    T("raw.RecordType in [8, 15]");
    F("raw.RecordType in [1, 15]");
    T("raw.Tags in [\"BETA\"]");
}

static void test_cidr(void **state)
{
    (void)state;
    T("ip in cidr [\"2001:db8::/32\"]");
    F("ip in cidr [\"10.0.0.0/8\", \"2001:db9::/32\"]");
    T("ip in cidr [\"10.0.0.0/8\", \"2001:db8::10/128\"]");
    F("ip in cidr [\"2001:db8::11/128\"]");
    T("raw.ClientIP in cidr [\"2001:db8::/64\"]"); /* "[2001:db8::10]:49152" */
    T("raw.ActorIpAddress in cidr [\"203.0.113.0/24\"]");
    T("raw.ActorIpAddress in cidr [\"203.0.113.50\"]");
    F("raw.ActorIpAddress in cidr [\"203.0.113.51/32\", \"203.0.112.0/24\"]");
    T("raw.ActorIpAddress in cidr [\"203.0.112.0/23\"]");
    F("raw.UserId in cidr [\"0.0.0.0/0\"]");
    T("raw.ActorIpAddress not in cidr [\"10.0.0.0/8\", \"172.16.0.0/12\", \"192.168.0.0/16\"]");
    F("session_id in cidr [\"0.0.0.0/0\"]");
}

static void test_numbers(void **state)
{
    (void)state;
    T("raw.RecordType == 8");
    T("raw.RecordType == 8.0");
    T("raw.RecordType == \"8\"");
    T("record_type == 8");
    T("raw.OperationCount > 10");
    T("raw.OperationCount >= 12");
    F("raw.OperationCount < 12");
    T("raw.OperationCount <= 12");
    T("raw.Score > 2");
    T("raw.Score == 2.5");
    T("raw.Score < 2.51");
    T("raw.LogonType == 0");
    F("raw.LogonType != 0");
    F("raw.UserId > 3");
    F("raw.Missing < 3");
    T("raw.Actor[0].Type >= -1");
}

static void test_times(void **state)
{
    (void)state;
    T("time >= \"2021-01-13T00:00:00Z\"");
    F("time < \"2021-01-13T16:07:40Z\"");
    T("time <= \"2021-01-13T16:07:40Z\"");
    T("time == \"2021-01-13T16:07:40Z\"");
    T("time != \"2021-01-13T16:07:41Z\"");
    F("time > \"2021-01-14\"");
    T("time exists");
    FG("time exists");
    FG("time < \"2100-01-01\"");
    T("raw.CreationTime > \"2021-01-01T00:00:00Z\"");
    F("raw.CreationTime > \"2021-01-14T00:00:00Z\"");
    F("raw.UserId > \"2021-01-14T00:00:00Z\"");
}

static void test_booleans_and_constants(void **state)
{
    (void)state;
    T("raw.ExternalAccess == false");
    F("raw.ExternalAccess == true");
    T("raw.ExternalAccess == \"False\"");
    T("true");
    F("false");
    T("not false");
    T("(user == \"x\" or true) and not false");
    /* and binds tighter than or */
    F("user == \"x\" or user == \"admin@contoso.com\" and false");
    T("(user == \"x\" or user == \"admin@contoso.com\") and true");
    T("not not true");
}

static void test_exists_empty_missing(void **state)
{
    (void)state;
    T("raw.Empty exists");
    T("raw.Empty is empty");
    T("raw.EmptyList is empty");
    T("raw.EmptyList exists");
    T("raw.EmptyObj is empty");
    F("raw.Nothing exists");
    F("raw.Nothing is empty");
    F("raw.Nothing == \"null\"");
    F("raw.Missing exists");
    T("not raw.Missing exists");
    T("raw.Missing not exists");
    T("raw.UserId is not empty");
    F("raw.UserId is empty");
    /* negated forms are the logical negation: true on a missing value */
    T("raw.Missing is not empty");
    F("raw.Missing == \"x\"");
    T("raw.Missing != \"x\"");
    F("raw.Missing contains \"\"");
    F("session_id exists");
    F("session_id == \"\"");
    T("session_id != \"a\"");
    T("user exists");
    F("raw.ModifiedProperties[Name=\"KeyDescription\"].OldValue is empty"); /* "[]" is text */
}

static void test_selection_ual_and_graph(void **state)
{
    (void)state;
    T("raw.ModifiedProperties[Name=\"KeyDescription\"].NewValue contains \"AsymmetricX509Cert\"");
    T("raw.ModifiedProperties[name=\"keydescription\"].oldvalue == \"[]\"");
    T("raw.ModifiedProperties[Name==\"KeyDescription\"].OldValue == \"[]\"");
    F("raw.ModifiedProperties[Name=\"Nope\"].NewValue exists");
    F("raw.Parameters[Name=\"Role\"].Value exists");
    T("raw.Actor[Type=2].ID == \"User_7a8b\"");
    TG("raw.targetResources[*].modifiedProperties[displayName=\"KeyDescription\"].newValue contains "
       "\"AsymmetricX509Cert\"");
    TG("raw.targetResources.modifiedProperties[displayName=\"KeyDescription\"].oldValue == \"[]\"");
    FG("raw.targetResources[*].modifiedProperties[displayName=\"KeyDescription\"].oldValue != \"[]\"");
    TG("raw.additionalDetails[key=\"AppId\"].value == \"c0ffee00-1234-5678-9abc-def012345678\"");
    TG("raw.initiatedBy.user.userPrincipalName == \"admin@contoso.com\"");
    FG("raw.initiatedBy.app exists");
    TG("raw.TARGETRESOURCES[0].DISPLAYNAME == \"mailsyncapp\"");
    TG("raw[\"targetResources\"][0][\"type\"] == \"ServicePrincipal\"");
}

static void test_index_and_implicit_arrays(void **state)
{
    (void)state;
    T("raw.Actor[-1].ID == \"User_7a8b\"");
    T("raw.Actor[0].Type == 5");
    F("raw.Actor[0].ID == \"User_7a8b\"");
    T("raw.Actor[*].ID == \"User_7a8b\"");
    T("raw.Actor[].ID == \"User_7a8b\"");
    T("raw.Actor.ID == \"User_7a8b\"");
    F("raw.Actor[5].ID exists");
    F("raw.Actor[-3].ID exists");
    TG("raw.targetResources[-1].id == \"0d3e6e97\"");
    FG("raw.targetResources[1].id exists");
    T("raw.Tags == \"ALPHA\"");
    T("raw.Tags contains \"et\"");
    F("raw.Tags == \"gamma\"");
    T("raw[\"Date (UTC)\"] == \"x\"");
    T("raw.Actor[0] contains \"\\\"Type\\\":5\""); /* objects compare as compact JSON */
    T("raw contains \"AsymmetricX509Cert\"");
    F("raw contains \"no-such-text\"");
}

static void test_nested_json(void **state)
{
    (void)state;
    T("raw.ExtendedProperties[Name=\"additionalDetails\"].Value.AppId == \"c0ffee00-1234-5678-9abc-def012345678\"");
    T("json(raw.ExtendedProperties[Name=\"additionalDetails\"].Value).AppId startswith \"c0ffee00\"");
    T("json(raw.ExtendedProperties[Name=\"additionalDetails\"].Value)[\"User-Agent\"] contains \"Windows NT\"");
    T("json(json(raw.ExtendedProperties[Name=\"additionalDetails\"].Value).Nested).Deep == \"bottom\"");
    T("raw.ExtendedProperties[Name=\"additionalDetails\"].Value.Nested.Deep == \"bottom\"");
    /* The string stays comparable after a step decoded it. */
    T("raw.ExtendedProperties[Name=\"additionalDetails\"].Value.AppId exists and "
      "raw.ExtendedProperties[Name=\"additionalDetails\"].Value contains \"\\\"AppId\\\"\"");
    T("json(raw.ModifiedProperties[Name=\"KeyDescription\"].NewValue)[0] contains \"KeyType=AsymmetricX509Cert\"");
    T("raw.ModifiedProperties[Name=\"KeyDescription\"].NewValue[0] startswith \"[KeyIdentifier=\"");
    T("json(raw.ModifiedProperties[Name=\"KeyDescription\"].OldValue) is empty");
    F("json(raw.UserId) exists");
    T("json(raw.Tags)[1] == \"beta\""); /* already structured: json() is a no-op */
    F("raw.UserId.Anything exists");
    TG("json(raw.targetResources[0].modifiedProperties[displayName=\"Included Updated Properties\"].newValue) == "
       "\"KeyDescription\"");
}

static void test_quantifiers(void **state)
{
    (void)state;
    T("any raw.ModifiedProperties as p: (p.Name == \"KeyDescription\" and p.NewValue contains \"AsymmetricX509Cert\")");
    /* correlated: both conditions on the same element */
    F("any raw.ModifiedProperties as p: (p.Name == \"Included Updated Properties\" and p.NewValue contains "
      "\"Asymmetric\")");
    T("raw.ModifiedProperties.Name == \"Included Updated Properties\" and raw.ModifiedProperties.NewValue contains "
      "\"Asymmetric\"");
    T("all raw.Actor as a: a.Type > 1");
    F("all raw.Actor as a: a.Type == 5");
    F("all raw.EmptyList as x: x == \"a\"");
    F("all raw.Missing as x: true");
    F("any raw.EmptyList as x: true");
    T("any raw.Actor[*] as a: a.ID endswith \"7a8b\"");
    T("any raw.ModifiedProperties[Name=\"KeyDescription\"].NewValue as k: k contains \"Verify\"");
    F("any raw.Actor as a: a == \"x\"");
    T("not any raw.Actor as a: a.Type == 3");
    TG("any raw.targetResources as t: (any t.modifiedProperties as mp: (mp.displayName == \"KeyDescription\" and "
       "mp.oldValue == \"[]\"))");
    FG("any raw.targetResources as t: (t.type == \"User\" and any t.modifiedProperties as mp: mp.displayName == "
       "\"KeyDescription\")");
    TG("all raw.additionalDetails as d: d.key exists");
}

static void test_pseudo_fields(void **state)
{
    (void)state;
    T("source == \"ual\"");
    F("source in [\"signin\", \"entra_audit\"]");
    TG("source == \"ENTRA_AUDIT\"");
    T("result == \"success\"");
    T("result != \"failure\"");
    F("format exists");
    T("not format exists");
}

/* sameas: two operands of one event (Sigma |fieldref). */
static void test_sameas(void **state)
{
    (void)state;
    T("user sameas raw.UserId");
    T("raw.UserId sameas user");
    T("raw.UserId not sameas raw.ObjectId");
    F("user sameas raw.ObjectId");
    F("user not sameas raw.UserId");
    /* several values on either side: any pair */
    T("user sameas raw.Actor[*].ID");
    T("raw.Actor.ID sameas user");
    T("target sameas raw.Target.ID");
    F("raw.Actor.ID sameas raw.Target.ID");
    /* case-insensitive unless cased: "Success" and result's "success" */
    T("raw.ResultStatus sameas result");
    F("raw.ResultStatus sameas result cased");
    T("raw.ResultStatus not sameas result cased");
    T("user sameas raw.UserId cased");
    /* numbers compare as their text: JSON 8 and the field's "8" */
    T("raw.RecordType sameas record_type");
    T("record_type sameas raw.RecordType");
    F("raw.Score sameas raw.RecordType");
    /* operation is canonical text; operation_raw is as written */
    F("operation sameas raw.Operation");
    T("operation_raw sameas raw.Operation");
    /* missing or null on either side: false, and its negation true */
    F("raw.Missing sameas user");
    T("raw.Missing not sameas user");
    F("user sameas raw.Missing");
    T("user not sameas raw.Missing");
    F("raw.Nothing sameas raw.Nothing");
    F("session_id sameas user");
    F("user sameas session_id");
    /* an object is never a value of the other operand */
    F("raw.EmptyObj sameas raw.EmptyObj");
    /* decoded JSON, array elements, bound elements */
    T("raw.ExtendedProperties[Name=\"additionalDetails\"].Value.AppId sameas app_id");
    T("raw.Tags[1] sameas raw.Tags");
    T("any raw.Actor as a: a.ID sameas user");
    F("all raw.Actor as a: a.ID sameas user");
    T("any raw.Actor as a: a.ID not sameas user");
    T("any raw.Actor as a: user sameas a.ID");
    TG("user sameas raw.initiatedBy.user.userPrincipalName");
}

static void test_no_raw(void **state)
{
    (void)state;
    tevent e;
    tevent_init(&e, AH_SOURCE_SIGNIN);
    tevent_set(&e, AH_F_USER, "x@y");
    assert_int_equal(texpr("raw.A exists", &e.ev), 0);
    assert_int_equal(texpr("raw contains \"x\"", &e.ev), 0);
    assert_int_equal(texpr("raw.A != \"b\"", &e.ev), 1);
    tevent_json(&e, "{\"A\": [1, 2", NULL); /* malformed */
    ah_expr *x = ah_expr_compile("raw.A exists", NULL, NULL, NULL);
    ah_matcher *m = ah_matcher_new(NULL);
    assert_false(ah_expr_eval(m, x, &e.ev));
    assert_int_equal(ah_matcher_get_stats(m)->json_errors, 1);
    assert_int_equal(ah_matcher_get_stats(m)->json_parses, 1);
    ah_expr_free(x);
    ah_matcher_free(m);
    tevent_free(&e);
}

static void test_body_then_raw_fallback(void **state)
{
    (void)state;
    tevent e;
    tevent_init(&e, AH_SOURCE_UAL);
    tevent_json(&e,
                "{\"Identity\":\"w-1\",\"Operations\":\"X\",\"AuditData\":\"{\\\"Operation\\\":\\\"X\\\",\\\"Id\\\":"
                "\\\"a-1\\\"}\"}",
                "{\"Operation\":\"X\",\"Id\":\"a-1\"}");
    assert_int_equal(texpr("raw.Id == \"a-1\"", &e.ev), 1);
    assert_int_equal(texpr("raw.Identity == \"w-1\"", &e.ev), 1); /* not in the body: the record */
    assert_int_equal(texpr("raw.AuditData.Id == \"a-1\"", &e.ev), 1);
    assert_int_equal(texpr("raw contains \"Identity\"", &e.ev), 1);
    /* The first look parses only the members a path reads (Id and Operation
     * from the body, Identity from the record), each once per event; the
     * whole-tree path parses the body and the record once each. */
    ah_expr *x =
        ah_expr_compile("raw.Id == \"a-1\" and raw.Identity == \"w-1\" and raw.Operation == \"X\"", NULL, NULL, NULL);
    ah_matcher *m = ah_matcher_new(NULL);
    assert_true(ah_expr_eval(m, x, &e.ev));
    assert_int_equal(ah_matcher_get_stats(m)->json_parses, 3);
    assert_true(ah_expr_eval(m, x, &e.ev));
    assert_int_equal(ah_matcher_get_stats(m)->json_parses, 6);
    ah_matcher_set_first_look(m, false);
    assert_true(ah_expr_eval(m, x, &e.ev));
    assert_int_equal(ah_matcher_get_stats(m)->json_parses, 8);
    ah_expr_free(x);
    ah_matcher_free(m);
    tevent_free(&e);
}

static void test_hostile_values(void **state)
{
    (void)state;
    tevent e;
    tevent_init(&e, AH_SOURCE_UAL);
    /* Deep nesting inside a string, a string that is not JSON after a
     * brace, and very long values. */
    ah_buf b;
    ah_buf_init(&b, 0);
    ah_buf_puts(&b, "{\"S\":\"");
    for (int i = 0; i < 300; i++)
        ah_buf_puts(&b, "[");
    for (int i = 0; i < 300; i++)
        ah_buf_puts(&b, "]");
    ah_buf_puts(&b, "\",\"T\":\"{not json\",\"L\":\"");
    for (int i = 0; i < 100000; i++)
        ah_buf_putc(&b, 'a');
    ah_buf_puts(&b, "b\"}");
    tevent_json(&e, b.data, NULL);
    ah_buf_free(&b);
    assert_int_equal(texpr("raw.S[0][0][0][0] exists", &e.ev), 1);
    assert_int_equal(texpr("raw.T.x exists", &e.ev), 0);
    assert_int_equal(texpr("raw.T == \"{not json\"", &e.ev), 1);
    assert_int_equal(texpr("raw.L endswith \"ab\"", &e.ev), 1);
    assert_int_equal(texpr("raw.L matches /^a+b$/", &e.ev), 1);
    /* invalid UTF-8 in a value must not break the regex engine */
    tevent_json(&e, "{\"U\":\"caf\xC3\x28 \xFF\"}", NULL);
    tevent_set(&e, AH_F_USER, "caf\xC3\x28 \xFF");
    assert_int_equal(texpr("user matches /caf/", &e.ev), 1);
    assert_int_equal(texpr("user matches /^caf.\\(/", &e.ev), 0);
    tevent_free(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_equality_and_case),
        cmocka_unit_test(test_operation_canonical),
        cmocka_unit_test(test_contains_starts_ends),
        cmocka_unit_test(test_regex),
        cmocka_unit_test(test_in_lists),
        cmocka_unit_test(test_cidr),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_booleans_and_constants),
        cmocka_unit_test(test_exists_empty_missing),
        cmocka_unit_test(test_selection_ual_and_graph),
        cmocka_unit_test(test_index_and_implicit_arrays),
        cmocka_unit_test(test_nested_json),
        cmocka_unit_test(test_quantifiers),
        cmocka_unit_test(test_pseudo_fields),
        cmocka_unit_test(test_sameas),
        cmocka_unit_test(test_no_raw),
        cmocka_unit_test(test_body_then_raw_fallback),
        cmocka_unit_test(test_hostile_values),
    };
    return cmocka_run_group_tests_name("rules_ops", tests, setup, teardown);
}
