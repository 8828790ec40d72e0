/*
 * test_rules_runner.c: embedded rule tests (test-rules) through the
 * pipeline hunt runs: inline JSON, JSON/JSONL/CSV files resolved next to
 * the rule or from the repository root, test variables, skipped rules,
 * failures and their report text; inputs only that pipeline reads right
 * (gzip, UTF-16, a CSV not named .csv, archive members, duplicates hunt
 * drops). Also a few expressions over the shared sample corpus (skipped,
 * with a message, when AH_CORPUS is absent).
 */
#include "test_rules_util.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parsers/formats/formats.h"
#include "parsers/frame/jsonsplit.h"

typedef struct collected {
    ah_buf lines;
    size_t calls;
} collected;

static void collect(void *ud, const ah_rule_test_case *tc)
{
    collected *c = ud;
    c->calls++;
    ah_rule_test_format(tc, &c->lines);
}

static bool has_line(const char *text, const char *line)
{
    const char *p = strstr(text, line);
    return p && (p == text || p[-1] == '\n');
}

#define assert_has_line(text, line)                                                                                    \
    do {                                                                                                               \
        if (!has_line((text), (line))) {                                                                               \
            print_error("missing line:\n%s\n--- in:\n%s\n", (line), (text));                                           \
            fail();                                                                                                    \
        }                                                                                                              \
    } while (0)

static void test_runner(void **state)
{
    (void)state;
    tdiag td;
    tdiag_init(&td);
    ah_ruleset *rs = ah_ruleset_new(&td.d);
    assert_int_equal(ah_ruleset_load_path(rs, "tests/data/rules/runner.rules"), AH_OK);
    assert_int_equal(ah_ruleset_compile(rs), AH_OK);
    collected c = {{0}, 0};
    ah_buf_init(&c.lines, 0);
    ah_rule_test_totals tot;
    assert_int_equal(ah_ruleset_run_tests(rs, collect, &c, &tot), AH_ERR_RECORD);
    const char *out = ah_buf_cstr(&c.lines);
    assert_int_equal(tot.passed, 6);
    assert_int_equal(tot.failed, 4);
    assert_int_equal(tot.skipped, 1);
    assert_int_equal(c.calls, 11);
    const char *f = "tests/data/rules/runner.rules";
    char want[512];
    snprintf(want, sizeof want, "PASS cert-credential-added (%s:9, ual_sp_cred.json, record 1): hit as expected", f);
    assert_has_line(out, want);
    snprintf(want, sizeof want,
             "PASS cert-credential-added (%s:10, tests/data/rules/graph_sp_cred.json, record 1): hit as expected", f);
    assert_has_line(out, want);
    snprintf(want, sizeof want,
             "PASS cert-credential-added (%s:11, events/purview_sp_cred.csv, record 1): hit as expected", f);
    assert_has_line(out, want);
    snprintf(
        want, sizeof want,
        "FAIL cert-credential-added (%s:11, events/purview_sp_cred.csv, record 2): expected hit, got miss\n  event: {",
        f);
    assert_has_line(out, want);
    snprintf(want, sizeof want, "PASS cert-credential-added (%s:12, record 1): miss as expected", f);
    assert_has_line(out, want);
    snprintf(want, sizeof want, "PASS mimecast-app-signin (%s:21, record 1): hit as expected", f);
    assert_has_line(out, want);
    snprintf(want, sizeof want, "PASS mimecast-app-signin (%s:23, record 1): miss as expected", f);
    assert_has_line(out, want);
    snprintf(want, sizeof want, "SKIP needs-a-variable (%s:32): not run: variable some_user not set\n", f);
    assert_has_line(out, want);
    snprintf(want, sizeof want,
             "FAIL wrong-expectations (%s:40, events/ual_two.jsonl, record 2): expected miss, got hit\n"
             "  event: {\"CreationTime\":\"2021-01-13T16:07:40\",\"Id\":\"7f809102-aaaa-bbbb-cccc-ddddeeeeffff\",",
             f);
    assert_has_line(out, want);
    snprintf(want, sizeof want,
             "FAIL wrong-expectations (%s:41, record 1): cannot run: unrecognised record shape (keys: not)\n"
             "  event: {\"not\":\"a known record shape\"}\n",
             f);
    assert_has_line(out, want);
    ah_buf_free(&c.lines);

    /* The production instance stays skipped: the test values are only for tests. */
    assert_string_equal(ah_rule_metadata(ah_ruleset_find(rs, "mimecast-app-signin"))->skipped,
                        "variable mimecast_app_id not set");
    /* Without a callback, the totals alone. */
    assert_int_equal(ah_ruleset_run_tests(rs, NULL, NULL, &tot), AH_ERR_RECORD);
    assert_int_equal(tot.passed + tot.failed + tot.skipped, 11);
    ah_ruleset_free(rs);
    tdiag_free(&td);
}

static void test_runner_all_pass(void **state)
{
    (void)state;
    const char *text = "rule ok {\n  title \"t\"\n  severity low\n  sources ual\n"
                       "  match raw.Actor[-1].ID == \"admin@contoso.com\"\n"
                       "  test hit \"events/ual_two.jsonl\"\n"
                       "  test miss {\"CreationTime\": \"2021-01-13T16:07:40\", \"Id\": \"1\", \"Operation\": \"x\", "
                       "\"RecordType\": 8}\n}\n";
    tdiag td;
    tdiag_init(&td);
    ah_status st;
    ah_ruleset *rs = trules(&td, "tests/data/rules/ok.rules", text, &st);
    assert_int_equal(st, AH_OK);
    ah_rule_test_totals tot;
    assert_int_equal(ah_ruleset_run_tests(rs, NULL, NULL, &tot), AH_OK);
    assert_int_equal(tot.passed, 3);
    assert_int_equal(tot.failed, 0);
    ah_ruleset_free(rs);
    tdiag_free(&td);
}

/* Inputs the runner used to frame itself, read now as hunt reads them: every
 * test of pipeline.rules passes (each failed before; see the file). */
static void test_runner_pipeline(void **state)
{
    (void)state;
    tdiag td;
    tdiag_init(&td);
    ah_ruleset *rs = ah_ruleset_new(&td.d);
    assert_int_equal(ah_ruleset_load_path(rs, "tests/data/rules/pipeline.rules"), AH_OK);
    assert_int_equal(ah_ruleset_compile(rs), AH_OK);
    collected c = {{0}, 0};
    ah_buf_init(&c.lines, 0);
    ah_rule_test_totals tot;
    ah_status st = ah_ruleset_run_tests(rs, collect, &c, &tot);
    const char *out = ah_buf_cstr(&c.lines);
    if (st != AH_OK)
        print_error("%s", out);
    assert_int_equal(st, AH_OK);
    assert_int_equal(tot.passed, 7);
    assert_int_equal(tot.failed + tot.skipped, 0);
    const char *f = "tests/data/rules/pipeline.rules";
    char want[512];
    snprintf(want, sizeof want,
             "PASS sp-credentials-pipeline (%s:10, pipeline/ual_sp_cred.json.gz, record 1): hit as expected", f);
    assert_has_line(out, want);
    snprintf(want, sizeof want,
             "PASS sp-credentials-pipeline (%s:11, pipeline/purview_sp_cred_utf16.csv, record 1): hit as expected", f);
    assert_has_line(out, want);
    snprintf(want, sizeof want,
             "PASS sp-credentials-pipeline (%s:12, pipeline/purview_export.txt, record 1): hit as expected", f);
    assert_has_line(out, want);
    snprintf(want, sizeof want,
             "PASS sp-credentials-pipeline (%s:13, pipeline/ual_same_id.jsonl, record 2): miss as expected "
             "(hunt drops it as a duplicate of an earlier record)\n",
             f);
    assert_has_line(out, want);
    snprintf(want, sizeof want, "PASS spray-pipeline (%s:26): miss as expected (0 hits over 3 records)\n", f);
    assert_has_line(out, want);
    ah_buf_free(&c.lines);
    ah_ruleset_free(rs);
    tdiag_free(&td);
}

static size_t count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

/* Each record of an archive member is a case of its own, named with its
 * member; a record hunt drops as a duplicate is a miss, and says so. Inline
 * records go through temporary files in $TMPDIR, which are removed. */
static void test_runner_members_and_duplicates(void **state)
{
    (void)state;
    const char *text =
        "rule cred {\n  title \"t\"\n  severity low\n  sources ual\n"
        "  match operation == \"Add service principal credentials\"\n"
        "  test hit \"pipeline/two_entries.zip\"\n"
        "  test hit \"pipeline/ual_same_id.jsonl\"\n"
        "  test miss {\"CreationTime\": \"2021-01-13T16:07:40\", \"Id\": \"1\", \"Operation\": \"x\", \"RecordType\": "
        "8}\n"
        "  test hit [{\"CreationTime\": \"2021-01-13T16:07:40\", \"Id\": \"1\", \"RecordType\": 8,\n"
        "             \"Operation\": \"Add service principal credentials.\"}, {\"not\": \"a record\"}]\n}\n";
    char tmp[] = "/tmp/audithound-rtest-XXXXXX";
    assert_non_null(mkdtemp(tmp));
    const char *old = getenv("TMPDIR");
    char *saved = old ? strdup(old) : NULL;
    setenv("TMPDIR", tmp, 1);
    tdiag td;
    tdiag_init(&td);
    ah_status st;
    ah_ruleset *rs = trules(&td, "tests/data/rules/members.rules", text, &st);
    assert_int_equal(st, AH_OK);
    collected c = {{0}, 0};
    ah_buf_init(&c.lines, 0);
    ah_rule_test_totals tot;
    assert_int_equal(ah_ruleset_run_tests(rs, collect, &c, &tot), AH_ERR_RECORD);
    const char *out = ah_buf_cstr(&c.lines);
    const char *f = "tests/data/rules/members.rules";
    char want[512];
    snprintf(want, sizeof want,
             "FAIL cred (%s:6, pipeline/two_entries.zip!a.json, record 1): expected hit, got miss\n"
             "  event: {\"CreationTime\":\"2021-01-13T16:07:40\",\"Id\":\"0a1b2c3d-0000-4000-8000-00000000000a\",",
             f);
    assert_has_line(out, want);
    snprintf(want, sizeof want, "PASS cred (%s:6, pipeline/two_entries.zip!b.json, record 1): hit as expected\n", f);
    assert_has_line(out, want);
    snprintf(want, sizeof want, "PASS cred (%s:6, pipeline/two_entries.zip!b.json, record 2): hit as expected\n", f);
    assert_has_line(out, want);
    snprintf(want, sizeof want, "FAIL cred (%s:7, pipeline/ual_same_id.jsonl, record 1): expected hit, got miss\n", f);
    assert_has_line(out, want);
    snprintf(want, sizeof want,
             "FAIL cred (%s:7, pipeline/ual_same_id.jsonl, record 2): expected hit, got miss "
             "(hunt drops it as a duplicate of an earlier record)\n",
             f);
    assert_has_line(out, want);
    snprintf(want, sizeof want, "PASS cred (%s:8, record 1): miss as expected\n", f);
    assert_has_line(out, want);
    /* an inline array is several records; the one hunt cannot read is an error of its own */
    snprintf(want, sizeof want, "PASS cred (%s:9, record 1): hit as expected\n", f);
    assert_has_line(out, want);
    snprintf(want, sizeof want, "FAIL cred (%s:9, record 2): cannot run: unrecognised record shape (keys: not)\n", f);
    assert_has_line(out, want);
    assert_int_equal(tot.passed, 4);
    assert_int_equal(tot.failed, 4);
    assert_int_equal(c.calls, 8);
    assert_int_equal(count_entries(tmp), 0);
    if (saved)
        setenv("TMPDIR", saved, 1);
    else
        unsetenv("TMPDIR");
    free(saved);
    rmdir(tmp);
    ah_buf_free(&c.lines);
    ah_ruleset_free(rs);
    tdiag_free(&td);
}

/* Expressions over the shared corpus, with exact counts. */
typedef struct fr {
    FILE *f;
} fr;

static ssize_t fr_read(void *ctx, char *buf, size_t n)
{
    fr *x = ctx;
    size_t k = fread(buf, 1, n, x->f);
    return k ? (ssize_t)k : (ferror(x->f) ? -1 : 0);
}

static long count_hits(const char *file, const char *expr)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", corpus_dir(), file);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    tdiag td;
    tdiag_init(&td);
    ah_expr *e = ah_expr_compile(expr, NULL, &td.d, NULL);
    if (!e)
        print_error("%s", tdiag_str(&td));
    assert_non_null(e);
    ah_matcher *m = ah_matcher_new(NULL);
    ah_norm_options o = {AH_DATE_ORDER_AUTO, 1u << 24};
    ah_normalizer *n = ah_normalizer_new(&o);
    ah_origin org = {path, NULL, 0};
    ah_normalizer_begin(n, &org);
    fr x = {f};
    ah_reader rd = {fr_read, &x};
    ah_jsplit *sp = ah_jsplit_new(&rd, 1u << 24);
    ah_json_record rec;
    long hits = 0;
    ah_status st;
    while ((st = ah_jsplit_next(sp, &rec)) != AH_END) {
        if (st != AH_OK)
            continue;
        ah_event ev;
        memset(&ev, 0, sizeof ev);
        const char *why;
        if (ah_normalize_json(n, &rec, &ev, &why) == AH_OK && ah_expr_eval(m, e, &ev))
            hits++;
    }
    ah_jsplit_free(sp);
    ah_normalizer_free(n);
    ah_matcher_free(m);
    ah_expr_free(e);
    tdiag_free(&td);
    fclose(f);
    return hits;
}

static void test_corpus(void **state)
{
    (void)state;
    struct stat sb;
    if (stat(corpus_dir(), &sb) != 0) {
        print_message("test_corpus skipped: corpus not found at %s (set AH_CORPUS)\n", corpus_dir());
        skip();
    }
    const char *aad = "otrf_security_datasets/AADAuditEvents.json";
    /* en dash + trailing space in the record, plain hyphen in the rule */
    assert_int_equal(count_hits(aad, "operation == \"Update application - Certificates and secrets management\""), 2);
    /* TargetResources is a JSON string in this Sentinel export */
    assert_int_equal(count_hits(aad,
                                "any raw.TargetResources as t: (any t.modifiedProperties as p: "
                                "(p.displayName == \"KeyDescription\" and p.newValue contains \"KeyType=Password\"))"),
                     2);
    assert_int_equal(
        count_hits(aad, "raw.TargetResources[*].modifiedProperties[displayName=\"DelegatedPermissionGrant.Scope\"]"
                        ".newValue contains \"Mail.ReadWrite\""),
        1);
    assert_int_equal(count_hits(aad, "raw.TargetResources[*].modifiedProperties[displayName=\"RequiredResourceAccess\"]"
                                     ".newValue[*].ResourceAppId == \"00000003-0000-0000-c000-000000000000\""),
                     1);
    const char *exo = "elastic_integrations/o365_test-exchange-admin.log";
    assert_int_equal(count_hits(exo, "raw.Parameters exists"), 100);
    assert_int_equal(count_hits(exo, "raw.Parameters[Name=\"Identity\"].Value exists"), 96);
    assert_int_equal(count_hits(exo, "any raw.Parameters as p: p.Name == \"Identity\""), 96);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runner),          cmocka_unit_test(test_runner_all_pass),
        cmocka_unit_test(test_runner_pipeline), cmocka_unit_test(test_runner_members_and_duplicates),
        cmocka_unit_test(test_corpus),
    };
    return cmocka_run_group_tests_name("rules_runner", tests, NULL, NULL);
}
