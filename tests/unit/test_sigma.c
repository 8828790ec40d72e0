/*
 * test_sigma.c: the Sigma front end (analyzer/rules/sigma.c): YAML reading,
 * each modifier, conditions, correlation mapping, the unsupported cases,
 * and translated rules running on records of several export shapes.
 */
#include "test_rules_util.h"

#include "analyzer/rules/rules_private.h" /* ahi_ops: the operators' Sigma modifiers */
#include "analyzer/rules/sigma.h"
#include "support/tmpdir.h"

typedef struct conv {
    ah_buf text;
    char why[512];
    char id[160];
    size_t converted, unsupported, not_rules;
    uint64_t line;
} conv;

static void conv_cb(void *ud, const ah_sigma_rule *r)
{
    conv *c = ud;
    if (r->text) {
        ah_buf_append(&c->text, r->text, r->len);
        c->converted++;
    } else if (!r->is_rule) {
        c->not_rules++;
    } else {
        size_t k = strlen(c->why);
        snprintf(c->why + k, sizeof c->why - k, "%s%s", c->unsupported++ ? "; " : "", r->unsupported);
        snprintf(c->id, sizeof c->id, "%s", r->id);
        c->line = r->line;
    }
}

static ah_status convert(const char *yaml, conv *c)
{
    memset(c, 0, sizeof *c);
    ah_buf_init(&c->text, 0);
    char err[256];
    return ah_sigma_convert("t.yml", yaml, strlen(yaml), conv_cb, c, err, sizeof err);
}

/* The condition of the first translated rule (the text after `match`). */
static char *match_of(const conv *c)
{
    const char *t = ah_buf_cstr(&c->text);
    const char *m = strstr(t, "\n  match          ");
    if (!m)
        return strdup("");
    m += strlen("\n  match          ");
    const char *e = strstr(m, "\n}");
    return strndup(m, e ? (size_t)(e - m) : strlen(m));
}

#define M365 "title: t\nid: x-1\nlogsource:\n  product: m365\n  service: audit\nlevel: high\ndetection:\n"
#define SIGNIN "title: t\nid: x-1\nlogsource:\n  product: azure\n  service: signinlogs\ndetection:\n"
#define AUDIT "title: t\nid: x-1\nlogsource:\n  product: azure\n  service: auditlogs\ndetection:\n"

static void expect_match(const char *yaml, const char *want)
{
    conv c;
    assert_int_equal(convert(yaml, &c), AH_OK);
    if (c.converted != 1) {
        print_error("not converted: %s\n%s\n", c.why, yaml);
        fail();
    }
    char *m = match_of(&c);
    if (strcmp(m, want) != 0) {
        print_error("match\n  got:  %s\n  want: %s\n", m, want);
        fail();
    }
    /* and the compiler accepts it */
    tdiag td;
    tdiag_init(&td);
    ah_ruleset *rs = ah_ruleset_new(&td.d);
    ah_ruleset_set_var(rs, "admins", "a@contoso.com,b@contoso.com");
    ah_ruleset_load_string(rs, "t.rules", c.text.data, c.text.len);
    if (ah_ruleset_compile(rs) != AH_OK) {
        print_error("does not compile:\n%s\n%s\n", ah_buf_cstr(&c.text), tdiag_str(&td));
        fail();
    }
    ah_ruleset_free(rs);
    tdiag_free(&td);
    free(m);
    ah_buf_free(&c.text);
}

static void expect_unsupported(const char *yaml, const char *why)
{
    conv c;
    assert_int_equal(convert(yaml, &c), AH_OK);
    if (c.unsupported == 0 || !strstr(c.why, why)) {
        print_error("expected unsupported (%s), got: %s\n%s\n", why, c.why, ah_buf_cstr(&c.text));
        fail();
    }
    ah_buf_free(&c.text);
}

static void test_metadata(void **state)
{
    (void)state;
    const char *yaml = "title: Inbox rule by a script\n"
                       "id: 0b3c1a2e-1111-4222-8333-944455556666\n"
                       "status: experimental\n"
                       "description: |\n  Line one.\n  Line \"two\".\n"
                       "references:\n  - https://example.org/a\n"
                       "author: A. Analyst, B. Analyst\n"
                       "date: 2024-01-10\n"
                       "tags:\n  - attack.collection\n  - attack.t1114.003\n"
                       "logsource:\n  product: m365\n  service: audit\n"
                       "detection:\n  sel:\n    Operation: New-InboxRule\n  condition: sel\n"
                       "falsepositives:\n  - Users filing their own mail\n"
                       "level: informational\n";
    conv c;
    assert_int_equal(convert(yaml, &c), AH_OK);
    assert_int_equal(c.converted, 1);
    const char *want =
        "# Sigma rule 0b3c1a2e-1111-4222-8333-944455556666 (t.yml:1)\n"
        "rule 0b3c1a2e-1111-4222-8333-944455556666 {\n"
        "  title          \"Inbox rule by a script\"\n"
        "  description    \"Line one.\\n\"\n"
        "                 \"Line \\\"two\\\".\"\n"
        "  author         \"A. Analyst, B. Analyst\"\n"
        "  severity       info\n"
        "  status         experimental\n"
        "  date           2024-01-10\n"
        "  tags           sigma attack.collection attack.t1114.003\n"
        "  references     https://example.org/a\n"
        "  falsepositives \"Users filing their own mail\"\n"
        "  note           \"Sigma rule 0b3c1a2e-1111-4222-8333-944455556666 from t.yml, logsource m365/audit\"\n"
        "  sources        ual\n"
        "  match          operation == \"New-InboxRule\"\n"
        "}\n";
    assert_string_equal(ah_buf_cstr(&c.text), want);
    ah_buf_free(&c.text);

    /* No id: one made from the file name; no level: medium. */
    assert_int_equal(convert("title: t\nlogsource: {product: azure, service: signinlogs}\n"
                             "detection: {s: {ResultType: 50053}, condition: s}\n",
                             &c),
                     AH_OK);
    assert_non_null(strstr(ah_buf_cstr(&c.text), "rule sigma-t {\n"));
    assert_non_null(strstr(ah_buf_cstr(&c.text), "  severity       medium\n"));
    assert_non_null(strstr(ah_buf_cstr(&c.text), "  sources        signin\n"));
    ah_buf_free(&c.text);
}

static void test_modifiers(void **state)
{
    (void)state;
    static const struct {
        const char *sel, *want;
    } cases[] = {
        {"Operation: New-InboxRule", "operation == \"New-InboxRule\""},
        {"Operation|contains: Inbox", "operation_raw contains \"Inbox\""},
        {"Operation|startswith: New-", "operation_raw startswith \"New-\""},
        {"Operation|endswith: Rule", "operation_raw endswith \"Rule\""},
        {"Operation: [New-InboxRule, Set-InboxRule]", "operation in [\"New-InboxRule\", \"Set-InboxRule\"]"},
        {"UserId|contains|all: [adm, contoso]", "(user contains \"adm\" and user contains \"contoso\")"},
        {"UserId|endswith: [a.com, b.com]", "(user endswith \"a.com\" or user endswith \"b.com\")"},
        {"ClientIP|cidr: 13.59.205.0/24", "ip in cidr [\"13.59.205.0/24\"]"},
        {"ClientIP|cidr: ['10.0.0.0/8', '2001:db8::/32']",
         "(ip in cidr [\"10.0.0.0/8\"] or ip in cidr [\"2001:db8::/32\"])"},
        {"Operation|re: '^New-.*Rule$'", "operation_raw matches \"^New-.*Rule$\" cased"},
        {"Operation|re|i: '^new-'", "operation_raw matches \"^new-\""},
        {"Operation|re|i|m|s: '^a.b$'", "operation_raw matches \"(?m)(?s)^a.b$\""},
        {"OperationCount|gte: 100", "raw.OperationCount >= 100"},
        {"OperationCount|gt: 1", "raw.OperationCount > 1"},
        {"OperationCount|lt: 2.5", "raw.OperationCount < 2.5"},
        {"OperationCount|lte: -1", "raw.OperationCount <= -1"},
        {"ClientInfoString|exists: true", "raw.ClientInfoString exists"},
        {"ClientInfoString|exists: false", "raw.ClientInfoString not exists"},
        {"ClientInfoString: null", "raw.ClientInfoString not exists"},
        {"ClientInfoString: ''", "raw.ClientInfoString == \"\""},
        {"ClientInfoString|cased: Client=OWA", "raw.ClientInfoString == \"Client=OWA\" cased"},
        {"Operation|cased: New-InboxRule", "operation_raw == \"New-InboxRule\" cased"},
        {"ClientInfoString|contains|cased: OWA", "raw.ClientInfoString contains \"OWA\" cased"},
        {"UserId|expand: '%admins%'", "user in [$admins]"},
        {"UserId|contains|expand: '%admins%'", "user contains $admins"},
        {"ClientInfoString: '*Outlook*'", "raw.ClientInfoString contains \"Outlook\""},
        {"ClientInfoString: 'Client=*'", "raw.ClientInfoString startswith \"Client=\""},
        {"ClientInfoString: '*;OWA'", "raw.ClientInfoString endswith \";OWA\""},
        {"ClientInfoString: 'Client=*;OWA'", "raw.ClientInfoString matches \"(?s)\\\\AClient\\\\=.*\\\\;OWA\\\\z\""},
        {"ClientInfoString: 'a?c'", "raw.ClientInfoString matches \"(?s)\\\\Aa.c\\\\z\""},
        {"ClientInfoString: '*'", "raw.ClientInfoString exists"},
        {"ClientInfoString: 'a\\*b'", "raw.ClientInfoString == \"a*b\""},
        {"ClientInfoString|contains: 'a*b'", "raw.ClientInfoString matches \"(?s)\\\\A.*a.*b.*\\\\z\""},
        {"RecordType: 15", "record_type == 15"},
        {"RecordType: '15'", "record_type == \"15\""},
        {"ExternalAccess: true", "raw.ExternalAccess == true"},
        {"ObjectId: abc", "(raw.ObjectId == \"abc\" or raw.OfficeObjectId == \"abc\")"},
        {"ObjectId: null", "not (raw.ObjectId exists or raw.OfficeObjectId exists)"},
        {"Item.ParentFolder.Path: Inbox", "raw.Item.ParentFolder.Path == \"Inbox\""},
        {"'Date (UTC)': x", "raw[\"Date (UTC)\"] == \"x\""},
        {"MailboxOwnerUPN|fieldref: UserId", "raw.MailboxOwnerUPN sameas user"},
        {"UserId|fieldref|cased: MailboxOwnerUPN", "user sameas raw.MailboxOwnerUPN cased"},
        {"UserId|fieldref: ObjectId", "(user sameas raw.ObjectId or user sameas raw.OfficeObjectId)"},
        {"Operation|fieldref: Workload", "operation_raw sameas workload"},
    };
    char yaml[1024];
    for (size_t i = 0; i < AH_ARRAY_LEN(cases); i++) {
        snprintf(yaml, sizeof yaml, M365 "  sel:\n    %s\n  condition: sel\n", cases[i].sel);
        expect_match(yaml, cases[i].want);
    }
    /* several fields: AND; a list of maps: OR */
    expect_match(M365 "  sel:\n    Operation: New-InboxRule\n    UserId|endswith: '@contoso.com'\n  condition: sel\n",
                 "(operation == \"New-InboxRule\" and user endswith \"@contoso.com\")");
    expect_match(M365 "  sel:\n    - Operation: A\n    - UserId: b\n  condition: sel\n",
                 "(operation == \"A\" or user == \"b\")");
    /* keywords: anywhere in the record text */
    expect_match(M365 "  keywords:\n    - 'python-requests'\n    - 'curl/*'\n  condition: keywords\n",
                 "(raw contains \"python-requests\" or raw contains \"curl/\")");
    expect_match(M365 "  keywords:\n    '|all':\n      - 'python'\n      - 'requests'\n  condition: keywords\n",
                 "(raw contains \"python\" and raw contains \"requests\")");
    /* azure: Azure Monitor prefix, listed first part with more steps */
    expect_match(
        SIGNIN "  sel:\n    properties.appId: x\n    properties.deviceDetail.isCompliant: 'false'\n  condition: sel\n",
        "(app_id == \"x\" and raw.deviceDetail.isCompliant == \"false\")");
    expect_match(SIGNIN "  sel:\n    ResultType: [50126, 50053]\n    Status: failure\n  condition: sel\n",
                 "(result_code in [50126, 50053] and result == \"failure\")");
    expect_match(SIGNIN "  sel:\n    Location: RU\n  condition: sel\n",
                 "(raw.location.countryOrRegion == \"RU\" or raw.LocationDetails.countryOrRegion == \"RU\")");
    expect_match(AUDIT
                 "  sel:\n    properties.message: Add member to role\n    Category: RoleManagement\n  condition: sel\n",
                 "(operation == \"Add member to role\" and record_type == \"RoleManagement\")");
    expect_match(AUDIT "  sel:\n    TargetResources.ModifiedProperties.DisplayName: StrongAuthenticationRequirement\n"
                       "  condition: sel\n",
                 "raw.targetResources.ModifiedProperties.DisplayName == \"StrongAuthenticationRequirement\"");
}

static void test_conditions(void **state)
{
    (void)state;
    const char *sels = "  sel_a:\n    Operation: A\n  sel_b:\n    Operation: B\n  filter:\n    UserId: x\n"
                       "  _hidden:\n    UserId: y\n";
    static const struct {
        const char *cond, *want;
    } cases[] = {
        {"sel_a and not filter", "operation == \"A\" and not user == \"x\""},
        {"sel_a or sel_b", "operation == \"A\"\n           or operation == \"B\""},
        {"1 of sel_*", "(operation == \"A\" or operation == \"B\")"},
        {"all of sel_*", "(operation == \"A\" and operation == \"B\")"},
        {"1 of them", "(operation == \"A\" or operation == \"B\" or user == \"x\")"},
        {"all of them", "(operation == \"A\" and operation == \"B\" and user == \"x\")"},
        {"(sel_a or sel_b) and not (filter or _hidden)",
         "(operation == \"A\"\n           or operation == \"B\") and not (user == \"x\"\n           or user == \"y\")"},
        {"not not sel_a", "not not operation == \"A\""},
        {"sel_a and not 1 of filter*", "operation == \"A\" and not (user == \"x\")"},
    };
    char yaml[1024];
    for (size_t i = 0; i < AH_ARRAY_LEN(cases); i++) {
        snprintf(yaml, sizeof yaml, M365 "%s  condition: %s\n", sels, cases[i].cond);
        expect_match(yaml, cases[i].want);
    }
    /* a list of conditions: any of them */
    snprintf(yaml, sizeof yaml, M365 "%s  condition:\n    - sel_a\n    - sel_b and filter\n", sels);
    expect_match(yaml, "(operation == \"A\")\n           or (operation == \"B\" and user == \"x\")");
}

static void test_unsupported(void **state)
{
    (void)state;
    static const struct {
        const char *yaml, *why;
    } cases[] = {
        {M365 "  s:\n    Operation|base64: x\n  condition: s\n", "modifier |base64"},
        {M365 "  s:\n    Operation|base64offset|contains: x\n  condition: s\n", "modifier |base64offset"},
        {M365 "  s:\n    Operation|windash: x\n  condition: s\n", "modifier |windash"},
        {M365 "  s:\n    Operation|utf16le: x\n  condition: s\n", "modifier |utf16le"},
        {M365 "  s:\n    Operation|fieldref|contains: UserId\n  condition: s\n", "|fieldref combined with a modifier"},
        {SIGNIN "  s:\n    UserPrincipalName|fieldref: NoSuchField\n  condition: s\n",
         "field 'NoSuchField' is not mapped"},
        {M365 "  s:\n    Operation|frobnicate: x\n  condition: s\n", "unknown modifier |frobnicate"},
        {M365 "  s:\n    Operation|i: x\n  condition: s\n", "apply to |re only"},
        {M365 "  s:\n    Operation|contains|endswith: x\n  condition: s\n",
         "more than one of |contains, |startswith, |endswith"},
        {M365 "  s:\n    OperationCount|gt|lte: 5\n  condition: s\n", "more than one of |lt, |lte, |gt, |gte"},
        {M365 "  s:\n    Operation|re|contains: x\n  condition: s\n", "|re combined with another string modifier"},
        {M365 "  s:\n    Operation|re: '(unclosed'\n  condition: s\n", "does not compile with PCRE2"},
        {M365 "  s:\n    ClientIP|cidr: 300.1.1.1/8\n  condition: s\n", "not an IP address"},
        {M365 "  s:\n    OperationCount|gt: many\n  condition: s\n", "take a number"},
        {M365 "  s:\n    ClientIP|exists: maybe\n  condition: s\n", "|exists takes true or false"},
        {M365 "  s:\n    UserId|expand: '%a%b%'\n  condition: s\n", "not a valid variable name"},
        {M365 "  s:\n    UserId|expand: 'x'\n  condition: s\n", "not one %placeholder%"},
        {M365 "  s:\n    Operation: x\n  condition: s | count() > 5\n", "aggregation"},
        {M365 "  s:\n    Operation: x\n  timeframe: 5m\n  condition: s\n", "timeframe"},
        {M365 "  s:\n    Operation: x\n  condition: t\n", "does not define"},
        {M365 "  s:\n    Operation: x\n  condition: 2 of s*\n", "only '1 of' and 'all of'"},
        {M365 "  s:\n    Operation: x\n  condition: 1 of z*\n", "matches no selection"},
        {M365 "  s:\n    Operation: x\n  condition: (s\n", "unbalanced parentheses"},
        {M365 "  s:\n    Operation: x\n  condition: s and\n", "incomplete condition"},
        {M365 "  s:\n    - 'say \"hi\"'\n  condition: s\n", "JSON escapes"},
        {M365 "  s:\n    Operation: []\n  condition: s\n", "empty list"},
        {M365 "  s:\n    '|contains': [a]\n  condition: s\n", "keywords with modifiers other than |all"},
        {SIGNIN "  s:\n    ActivityDetails: Sign-ins\n  condition: s\n", "field 'ActivityDetails' is not mapped"},
        {SIGNIN "  s:\n    Status: Sucess\n  condition: s\n", "takes success or failure only"},
        {SIGNIN "  s:\n    Status|contains: MFA\n  condition: s\n", "takes success or failure only"},
        {AUDIT "  s:\n    activityType: x\n  condition: s\n", "field 'activityType' is not mapped"},
        {"title: t\nlogsource:\n  product: azure\n  service: activitylogs\ndetection:\n  s:\n    a: b\n  condition: "
         "s\n",
         "logsource azure/activitylogs"},
        {"title: t\nlogsource:\n  product: azure\n  service: riskdetection\ndetection:\n  s:\n    a: b\n  condition: "
         "s\n",
         "logsource azure/riskdetection"},
        {"title: t\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n  s:\n    a: b\n  "
         "condition: s\n",
         "logsource category 'process_creation'"},
        {"title: t\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n  s:\n    a: b\n  condition: s\n",
         "logsource product 'aws'"},
        {"title: t\nstatus: unsupported\nlogsource:\n  product: m365\n  service: audit\ndetection:\n  s:\n    a: b\n  "
         "condition: s\n",
         "status is unsupported"},
        {"title: f\nfilter:\n  rules: [x]\n  selection: {a: b}\n  condition: not selection\n", "a Sigma filter"},
    };
    for (size_t i = 0; i < AH_ARRAY_LEN(cases); i++)
        expect_unsupported(cases[i].yaml, cases[i].why);
}

#define BASE_FAIL                                                                                                      \
    "title: Failed sign-in\nid: base-fail\nname: failed_signin\nlogsource:\n  product: azure\n  service: signinlogs\n" \
    "detection:\n  s:\n    ResultType: 50126\n  condition: s\n"
#define BASE_OK                                                                                                        \
    "title: Good sign-in\nid: base-ok\nname: good_signin\nlogsource:\n  product: azure\n  service: signinlogs\n"       \
    "detection:\n  s:\n    ResultType: 0\n  condition: s\n"
#define BASE_UAL                                                                                                       \
    "title: UAL failed logon\nid: base-ual\nname: ual_fail\nlogsource:\n  product: m365\n  service: audit\n"           \
    "detection:\n  s:\n    Operation: UserLoginFailed\n  condition: s\n"

static void test_correlation(void **state)
{
    (void)state;
    conv c;
    /* event_count over one rule, generate: false (the default) */
    assert_int_equal(convert(BASE_FAIL
                             "---\ntitle: Spray\nid: spray-1\nlevel: high\ncorrelation:\n  type: event_count\n"
                             "  rules: [failed_signin]\n  group-by: [IPAddress]\n  timespan: 30m\n"
                             "  condition:\n    gte: 5\n",
                             &c),
                     AH_OK);
    assert_int_equal(c.converted, 2);
    const char *t = ah_buf_cstr(&c.text);
    assert_non_null(
        strstr(t, "# Sigma rule base-fail (t.yml:1) is used by a correlation below only (generate: false)\n"));
    assert_null(strstr(t, "rule base-fail {"));
    assert_non_null(strstr(t, "correlation spray-1 {\n"));
    assert_non_null(strstr(t, "  sources        signin\n  match          (result_code == 50126)\n"
                              "  group          ip\n  window         30m\n  when           count >= 5\n}\n"));
    ah_buf_free(&c.text);

    /* value_count, generate: true keeps the base rule */
    assert_int_equal(convert(BASE_FAIL "---\ntitle: Spray\nid: spray-2\ncorrelation:\n  type: value_count\n"
                                       "  rules: base-fail\n  group-by: IPAddress\n  timespan: 1h\n  generate: true\n"
                                       "  condition:\n    field: UserPrincipalName\n    gt: 3\n",
                             &c),
                     AH_OK);
    t = ah_buf_cstr(&c.text);
    assert_non_null(strstr(t, "rule base-fail {"));
    assert_non_null(strstr(t, "  when           distinct(user) > 3\n"));
    ah_buf_free(&c.text);

    /* rules of two sources: each condition keeps to its own source */
    assert_int_equal(convert(BASE_FAIL "---\n" BASE_UAL
                                       "---\ntitle: Both\nid: both-1\ncorrelation:\n  type: event_count\n"
                                       "  rules: [failed_signin, ual_fail]\n  timespan: 1d\n  condition:\n    eq: 2\n",
                             &c),
                     AH_OK);
    t = ah_buf_cstr(&c.text);
    assert_non_null(
        strstr(t, "  sources        ual signin\n  match          (source == \"signin\" and (result_code == 50126))\n"
                  "           or (source == \"ual\" and (operation == \"UserLoginFailed\"))\n"
                  "  window         1d\n  when           count == 2\n"));
    ah_buf_free(&c.text);

    /* temporal_ordered -> sequence */
    assert_int_equal(convert(BASE_FAIL "---\n" BASE_OK "---\ntitle: Spray then success\nid: seq-1\ncorrelation:\n"
                                       "  type: temporal_ordered\n  rules: [failed_signin, good_signin]\n"
                                       "  group-by: [IPAddress]\n  timespan: 1h\n",
                             &c),
                     AH_OK);
    t = ah_buf_cstr(&c.text);
    assert_non_null(strstr(t, "sequence seq-1 {\n"));
    assert_non_null(
        strstr(t, "  within         1h\n  step s1 {  # base-fail\n    match (result_code == 50126)\n"
                  "    key   ip\n  }\n  step s2 {  # base-ok\n    match (result_code == 0)\n    key   ip\n  }\n}\n"));
    /* it compiles */
    tdiag td;
    tdiag_init(&td);
    ah_ruleset *rs = ah_ruleset_new(&td.d);
    ah_ruleset_load_string(rs, "t.rules", c.text.data, c.text.len);
    assert_int_equal(ah_ruleset_compile(rs), AH_OK);
    assert_int_equal(ah_rule_metadata(ah_ruleset_find(rs, "seq-1"))->kind, AH_RULE_SEQUENCE);
    ah_ruleset_free(rs);
    tdiag_free(&td);
    ah_buf_free(&c.text);

    static const struct {
        const char *corr, *why;
    } bad[] = {
        {"  type: temporal\n  rules: [failed_signin, good_signin]\n  group-by: [IPAddress]\n  timespan: 1h\n",
         "temporal (unordered)"},
        {"  type: value_avg\n  rules: [failed_signin]\n  timespan: 1h\n  condition: {field: x, gt: 1}\n",
         "correlation type value_avg"},
        {"  type: event_count\n  rules: [nowhere]\n  timespan: 1h\n  condition: {gte: 1}\n", "not in the same file"},
        {"  type: event_count\n  rules: [failed_signin]\n  timespan: 2M\n  condition: {gte: 1}\n", "timespan '2M'"},
        {"  type: event_count\n  rules: [failed_signin]\n  timespan: 40d\n  condition: {gte: 1}\n", "timespan '40d'"},
        {"  type: event_count\n  rules: [failed_signin]\n  timespan: 1h\n  condition: {gte: 1, lte: 9}\n", "range"},
        {"  type: event_count\n  rules: [failed_signin]\n  group-by: [Location]\n  timespan: 1h\n  condition: {gte: "
         "1}\n",
         "several places"},
        {"  type: event_count\n  rules: [failed_signin]\n  group-by: [Nope]\n  timespan: 1h\n  condition: {gte: 1}\n",
         "group-by field 'Nope' is not mapped"},
        {"  type: temporal_ordered\n  rules: [failed_signin, good_signin]\n  timespan: 1h\n", "without group-by"},
        {"  type: event_count\n  rules: [failed_signin]\n  timespan: 1h\n  aliases: {ip: {failed_signin: IPAddress}}\n"
         "  condition: {gte: 1}\n",
         "aliases"},
    };
    char yaml[2048];
    for (size_t i = 0; i < AH_ARRAY_LEN(bad); i++) {
        snprintf(yaml, sizeof yaml, BASE_FAIL "---\n" BASE_OK "---\ntitle: c\nid: c-1\ncorrelation:\n%s", bad[i].corr);
        expect_unsupported(yaml, bad[i].why);
    }
    /* a correlation over an unsupported rule is unsupported too */
    expect_unsupported(
        "title: b\nid: b\nlogsource: {product: azure, service: riskdetection}\n"
        "detection: {s: {riskEventType: x}, condition: s}\n---\n"
        "title: c\nid: c\ncorrelation: {type: event_count, rules: [b], timespan: 1h, condition: {gte: 2}}\n",
        "referenced rule 'b' is unsupported: logsource azure/riskdetection");
}

static void test_yaml(void **state)
{
    (void)state;
    conv c;
    char err[256];
    const char *bad = "title: t\ndetection:\n  s: [a, b\n";
    memset(&c, 0, sizeof c);
    ah_buf_init(&c.text, 0);
    assert_int_equal(ah_sigma_convert("t.yml", bad, strlen(bad), conv_cb, &c, err, sizeof err), AH_ERR_SYNTAX);
    assert_non_null(strstr(err, "YAML: "));
    assert_true(err[0] == '4' || err[0] == '3');
    ah_buf_free(&c.text);
    /* a document that is not a rule, and an empty file */
    assert_int_equal(convert("just: a map\n", &c), AH_OK);
    assert_int_equal(c.not_rules, 1);
    assert_int_equal(c.converted + c.unsupported, 0);
    ah_buf_free(&c.text);
    assert_int_equal(convert("", &c), AH_OK);
    assert_int_equal(c.converted + c.unsupported + c.not_rules, 0);
    ah_buf_free(&c.text);
    /* anchors and aliases are resolved by libyaml; the second document's line is kept */
    assert_int_equal(convert("---\ntitle: a\nid: a\nlogsource: {product: m365, service: audit}\n"
                             "detection: {s: &v {Operation: X}, t: *v, condition: s and t}\n---\n"
                             "title: b\nid: b\nlogsource: {product: m365, service: audit}\n"
                             "detection: {s: {Operation|base64: X}, condition: s}\n",
                             &c),
                     AH_OK);
    assert_int_equal(c.converted, 1);
    assert_int_equal(c.unsupported, 1);
    assert_int_equal(c.line, 7);
    assert_string_equal(c.id, "b");
    assert_non_null(strstr(ah_buf_cstr(&c.text), "match          operation == \"X\" and operation == \"X\"\n"));
    ah_buf_free(&c.text);
    assert_true(ah_sigma_is_sigma_path("x/a.yml"));
    assert_true(ah_sigma_is_sigma_path("a.yaml"));
    assert_false(ah_sigma_is_sigma_path("a.rules"));
    assert_false(ah_sigma_is_sigma_path(".yml"));
}

/* Attacker-controlled YAML: text cannot escape its strings or comments,
 * and aliases cannot blow the translation up. */
static void test_hostile(void **state)
{
    (void)state;
    conv c;
    assert_int_equal(convert("title: \"t\\n}\\nrule evil {\"\nid: \"a\\nrule evil { title \\\"x\\\"\"\n"
                             "author: \"\\\"\\\\\"\nlogsource: {product: m365, service: audit}\n"
                             "detection: {s: {'Operation': \"\\\"}\\n\"}, condition: s}\n",
                             &c),
                     AH_OK);
    assert_int_equal(c.converted, 1);
    tdiag td;
    tdiag_init(&td);
    ah_ruleset *rs = ah_ruleset_new(&td.d);
    ah_ruleset_load_string(rs, "t.rules", c.text.data, c.text.len);
    assert_int_equal(ah_ruleset_compile(rs), AH_OK);
    assert_int_equal(ah_ruleset_count(rs), 1);
    const ah_rule_meta *m = ah_rule_metadata(ah_ruleset_rule(rs, 0));
    assert_string_equal(m->id, "a-rule-evil---title--x-");
    assert_string_equal(m->title, "t\n}\nrule evil {");
    assert_string_equal(m->author, "\"\\");
    ah_ruleset_free(rs);
    tdiag_free(&td);
    ah_buf_free(&c.text);

    ah_buf y;
    ah_buf_init(&y, 0);
    ah_buf_puts(&y, M365 "  s:\n    Operation: &v [");
    for (int i = 0; i < 3000; i++)
        ah_buf_printf(&y, "%s'value-%d'", i ? ", " : "", i);
    ah_buf_puts(&y, "]\n");
    for (int i = 0; i < 100; i++)
        ah_buf_printf(&y, "    F%d|contains: *v\n", i);
    ah_buf_puts(&y, "  condition: s\n");
    assert_int_equal(convert(ah_buf_cstr(&y), &c), AH_OK);
    assert_int_equal(c.unsupported, 1);
    assert_non_null(strstr(c.why, "the translation is larger than"));
    ah_buf_free(&c.text);
    ah_buf_free(&y);
}

/* Translated rules, with tests appended, run through the shipped pipeline
 * on records of several export shapes. */
static void run_with_tests(const char *yaml, const char *tests, uint64_t want_passed)
{
    conv c;
    assert_int_equal(convert(yaml, &c), AH_OK);
    assert_int_equal(c.converted, 1);
    ah_buf t;
    ah_buf_init(&t, 0);
    ah_buf_append(&t, c.text.data, c.text.len - 2); /* drop "}\n" */
    ah_buf_puts(&t, tests);
    ah_buf_puts(&t, "}\n");
    tdiag td;
    tdiag_init(&td);
    ah_ruleset *rs = ah_ruleset_new(&td.d);
    ah_ruleset_load_string(rs, "t.rules", t.data, t.len);
    if (ah_ruleset_compile(rs) != AH_OK) {
        print_error("%s\n%s\n", ah_buf_cstr(&t), tdiag_str(&td));
        fail();
    }
    ah_rule_test_totals tot;
    ah_status st = ah_ruleset_run_tests(rs, NULL, NULL, &tot);
    if (st != AH_OK || tot.passed != want_passed) {
        print_error("%s\npassed %llu failed %llu\n", ah_buf_cstr(&t), (unsigned long long)tot.passed,
                    (unsigned long long)tot.failed);
        fail();
    }
    ah_ruleset_free(rs);
    tdiag_free(&td);
    ah_buf_free(&t);
    ah_buf_free(&c.text);
}

static void test_runs(void **state)
{
    (void)state;
    /* UAL: AuditData JSON (Management API) and a cmdlet export (AuditData string). */
    run_with_tests(
        M365 "  sel:\n    Operation: New-InboxRule\n    ClientIP|cidr: 192.0.2.0/24\n"
             "    Parameters|contains: ForwardTo\n  condition: sel\n",
        "  test hit {\"CreationTime\": \"2021-01-13T03:58:06\", \"Id\": \"1\", \"RecordType\": 1, "
        "\"Operation\": \"New-InboxRule\", \"UserId\": \"a@contoso.com\", \"ClientIP\": \"192.0.2.77:5123\", "
        "\"Parameters\": [{\"Name\": \"ForwardTo\", \"Value\": \"x@evil.example\"}]}\n"
        "  test hit {\"CreationDate\": \"2021-01-13T03:58:06\", \"UserIds\": \"a@contoso.com\", "
        "\"Operations\": \"New-InboxRule\", \"ResultIndex\": 1, \"AuditData\": \"{\\\"CreationTime\\\": "
        "\\\"2021-01-13T03:58:06\\\", \\\"Id\\\": \\\"2\\\", \\\"Operation\\\": \\\"New-InboxRule\\\", "
        "\\\"ClientIP\\\": \\\"192.0.2.8\\\", \\\"Parameters\\\": [{\\\"Name\\\": \\\"ForwardTo\\\", "
        "\\\"Value\\\": \\\"x\\\"}]}\"}\n"
        "  test miss {\"CreationTime\": \"2021-01-13T03:58:06\", \"Id\": \"3\", \"RecordType\": 1, "
        "\"Operation\": \"New-InboxRule\", \"ClientIP\": \"198.51.100.1\", "
        "\"Parameters\": [{\"Name\": \"ForwardTo\", \"Value\": \"x\"}]}\n"
        "  test miss {\"CreationTime\": \"2021-01-13T03:58:06\", \"Id\": \"4\", \"RecordType\": 1, "
        "\"Operation\": \"New-InboxRule\", \"ClientIP\": \"192.0.2.7\", "
        "\"Parameters\": [{\"Name\": \"DeleteMessage\", \"Value\": \"True\"}]}\n",
        4);
    /* Sign-ins: Graph, Azure Monitor and Log Analytics shapes. */
    run_with_tests(
        SIGNIN "  sel:\n    ResultType: 50126\n    ResultDescription|contains: password\n"
               "    IPAddress|cidr: 13.59.205.0/24\n  condition: sel\n",
        "  test hit {\"id\": \"g1\", \"createdDateTime\": \"2021-01-13T02:14:07Z\", \"userPrincipalName\": "
        "\"m@contoso.com\", "
        "\"ipAddress\": \"13.59.205.66\", \"status\": {\"errorCode\": 50126, \"failureReason\": \"Invalid username or "
        "password.\"}}\n"
        "  test hit {\"time\": \"2021-01-13T02:14:07Z\", \"category\": \"SignInLogs\", \"resultType\": \"50126\", "
        "\"resultDescription\": \"Invalid username or password.\", \"callerIpAddress\": \"13.59.205.66\", "
        "\"properties\": {\"id\": \"a1\", \"createdDateTime\": \"2021-01-13T02:14:07Z\", \"userPrincipalName\": "
        "\"m@contoso.com\", "
        "\"ipAddress\": \"13.59.205.66\", \"status\": {\"errorCode\": 50126}}}\n"
        "  test hit {\"TimeGenerated\": \"2021-01-13T02:14:07Z\", \"Category\": \"SignInLogs\", \"Id\": \"l1\", "
        "\"ResultType\": \"50126\", \"ResultDescription\": \"Invalid username or password.\", "
        "\"UserPrincipalName\": \"m@contoso.com\", \"IPAddress\": \"13.59.205.66\"}\n"
        "  test miss {\"id\": \"g2\", \"createdDateTime\": \"2021-01-13T02:14:07Z\", \"userPrincipalName\": "
        "\"m@contoso.com\", "
        "\"ipAddress\": \"203.0.113.9\", \"status\": {\"errorCode\": 50126, \"failureReason\": \"Invalid username or "
        "password.\"}}\n"
        "  test miss {\"id\": \"g3\", \"createdDateTime\": \"2021-01-13T02:14:07Z\", \"userPrincipalName\": "
        "\"m@contoso.com\", "
        "\"ipAddress\": \"13.59.205.66\", \"status\": {\"errorCode\": 0}}\n",
        5);
    /* Directory audit: Graph and Log Analytics (TargetResources as a JSON string). */
    run_with_tests(
        AUDIT "  sel:\n    ActivityDisplayName: Update user\n"
              "    TargetResources.ModifiedProperties.DisplayName: StrongAuthenticationRequirement\n"
              "    Status: success\n  condition: sel\n",
        "  test hit {\"id\": \"d1\", \"activityDateTime\": \"2021-01-13T03:12:45Z\", \"activityDisplayName\": \"Update "
        "user\", "
        "\"category\": \"UserManagement\", \"result\": \"success\", \"loggedByService\": \"Core Directory\", "
        "\"targetResources\": [{\"type\": \"User\", \"modifiedProperties\": [{\"displayName\": "
        "\"StrongAuthenticationRequirement\", "
        "\"oldValue\": \"[]\", \"newValue\": \"[]\"}]}]}\n"
        "  test hit {\"TimeGenerated\": \"2021-01-13T03:12:45Z\", \"OperationName\": \"Update user\", \"Category\": "
        "\"UserManagement\", "
        "\"Result\": \"success\", \"Id\": \"d2\", \"AADOperationType\": \"Update\", \"LoggedByService\": \"Core "
        "Directory\", "
        "\"TargetResources\": \"[{\\\"modifiedProperties\\\": [{\\\"displayName\\\": "
        "\\\"StrongAuthenticationRequirement\\\"}]}]\"}\n"
        "  test miss {\"id\": \"d3\", \"activityDateTime\": \"2021-01-13T03:12:45Z\", \"activityDisplayName\": "
        "\"Update user\", "
        "\"category\": \"UserManagement\", \"result\": \"failure\", \"loggedByService\": \"Core Directory\", "
        "\"targetResources\": [{\"type\": \"User\", \"modifiedProperties\": [{\"displayName\": "
        "\"StrongAuthenticationRequirement\"}]}]}\n",
        3);
}

/* -r FILE: translated rules load beside ours; unsupported ones are listed,
 * skipped, and reported with file:line. */
static void test_loader(void **state)
{
    ah_test_tmpdir *f = *state;
    FILE *fp = fopen(f->path, "w");
    assert_non_null(fp);
    fputs(M365 "  s:\n    Operation: New-InboxRule\n  condition: s\n---\n"
               "title: Encoded\nid: enc-1\nlogsource: {product: m365, service: audit}\n"
               "detection: {s: {Operation|base64: x}, condition: s}\n",
          fp);
    fclose(fp);
    tdiag td;
    tdiag_init(&td);
    ah_ruleset *rs = ah_ruleset_new(&td.d);
    assert_int_equal(ah_ruleset_load_path(rs, f->dir), AH_OK);
    assert_int_equal(ah_ruleset_compile(rs), AH_OK);
    assert_int_equal(ah_ruleset_count(rs), 2);
    assert_int_equal(ah_ruleset_active_count(rs), 1);
    const ah_rule_meta *m = ah_rule_metadata(ah_ruleset_find(rs, "x-1"));
    assert_non_null(m);
    assert_null(m->skipped);
    assert_int_equal(m->line, 1);
    assert_int_equal(m->level, AH_LEVEL_HIGH);
    m = ah_rule_metadata(ah_ruleset_find(rs, "enc-1"));
    assert_non_null(m);
    assert_string_equal(m->title, "Encoded");
    assert_int_equal(m->line, 12);
    assert_non_null(m->skipped);
    assert_non_null(strstr(m->skipped, "unsupported Sigma rule: modifier |base64"));
    assert_diag_has(&td, "W ");
    assert_diag_has(&td, ":12:1: warning: Sigma rule enc-1 skipped: modifier |base64");
    assert_null(strstr(tdiag_str(&td), "has no tests"));
    assert_int_equal(ah_ruleset_error_count(rs), 0);
    ah_ruleset_free(rs);
    tdiag_free(&td);

    /* A YAML error is an error of the rules, with its place. */
    fp = fopen(f->path, "w");
    assert_non_null(fp);
    fputs("title: t\ndetection:\n  s: [a, b\n", fp);
    fclose(fp);
    tdiag_init(&td);
    rs = ah_ruleset_new(&td.d);
    assert_int_equal(ah_ruleset_load_path(rs, f->path), AH_ERR_SYNTAX);
    assert_int_equal(ah_ruleset_error_count(rs), 1);
    assert_diag_has(&td, "E ");
    assert_diag_has(&td, "error: YAML: ");
    ah_ruleset_free(rs);
    tdiag_free(&td);
}

/* docs/sigma.md names every field of the mapping table. */
static void test_docs_fields(void **state)
{
    (void)state;
    FILE *fp = fopen("docs/sigma.md", "rb");
    assert_non_null(fp);
    ah_buf doc;
    ah_buf_init(&doc, 0);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
        ah_buf_append(&doc, chunk, n);
    fclose(fp);
    static const char *const names[] = {
#define AH_SIGMA_FIELD(p, name, o) name,
#include "analyzer/rules/sigma_fields.def"
#undef AH_SIGMA_FIELD
    };
    char want[128];
    for (size_t i = 0; i < AH_ARRAY_LEN(names); i++) {
        snprintf(want, sizeof want, "`%s`", strcmp(names[i], "message") == 0 ? "properties.message" : names[i]);
        if (!strstr(ah_buf_cstr(&doc), want)) {
            print_error("docs/sigma.md does not mention %s\n", want);
            fail();
        }
    }
    ah_buf_free(&doc);
}

/* docs/sigma.md's modifier table and ops.def's SIGMA column agree: every
 * operator's modifier is in the table, and every modifier the table names
 * is translated (not "unknown"). */
static void test_docs_modifiers(void **state)
{
    (void)state;
    FILE *fp = fopen("docs/sigma.md", "rb");
    assert_non_null(fp);
    ah_buf doc;
    ah_buf_init(&doc, 0);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
        ah_buf_append(&doc, chunk, n);
    fclose(fp);
    const char *start = strstr(ah_buf_cstr(&doc), "\n## Values and modifiers\n");
    assert_non_null(start);
    const char *end = strstr(start, "\nUnsupported modifiers:");
    assert_non_null(end);
    char *table = strndup(start, (size_t)(end - start));
    assert_non_null(table);
    size_t with_sigma = 0;
    char want[64];
    for (size_t i = 0; i < AHI_OP_COUNT; i++) {
        if (!ahi_ops[i].sigma)
            continue;
        with_sigma++;
        snprintf(want, sizeof want, "\\|%s`", ahi_ops[i].sigma);
        char alt[64];
        snprintf(alt, sizeof alt, "\\|%s\\|", ahi_ops[i].sigma);
        char alt2[64];
        snprintf(alt2, sizeof alt2, "\\|%s:", ahi_ops[i].sigma);
        if (!strstr(table, want) && !strstr(table, alt) && !strstr(table, alt2)) {
            print_error("docs/sigma.md's modifier table does not name |%s (ops.def)\n", ahi_ops[i].sigma);
            fail();
        }
    }
    assert_true(with_sigma >= 10);
    size_t named = 0;
    for (const char *p = table; (p = strstr(p, "\\|"));) {
        p += 2;
        size_t k = 0;
        while (p[k] >= 'a' && p[k] <= 'z')
            k++;
        if (k == 0 || strncmp(p, "all", k) == 0) /* |all also stands alone on keywords */
            continue;
        char yaml[512];
        snprintf(yaml, sizeof yaml, M365 "  sel:\n    UserId|%.*s: x\n  condition: sel\n", (int)k, p);
        conv c;
        assert_int_equal(convert(yaml, &c), AH_OK);
        if (strstr(c.why, "unknown modifier")) {
            print_error("docs/sigma.md names |%.*s, which is not translated: %s\n", (int)k, p, c.why);
            fail();
        }
        named++;
        ah_buf_free(&c.text);
    }
    assert_true(named >= with_sigma);
    free(table);
    ah_buf_free(&doc);
}

static int setup(void **state) { return ah_test_tmpdir_setup(state, "ah-sigma", "rule.yml"); }
static int teardown(void **state) { return ah_test_tmpdir_teardown(state); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metadata),
        cmocka_unit_test(test_modifiers),
        cmocka_unit_test(test_conditions),
        cmocka_unit_test(test_unsupported),
        cmocka_unit_test(test_correlation),
        cmocka_unit_test(test_yaml),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_runs),
        cmocka_unit_test_setup_teardown(test_loader, setup, teardown),
        cmocka_unit_test(test_docs_fields),
        cmocka_unit_test(test_docs_modifiers),
    };
    return cmocka_run_group_tests_name("sigma", tests, NULL, NULL);
}
