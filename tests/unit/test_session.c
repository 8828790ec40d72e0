/*
 * test_session.c: the ingest pipeline end to end in-process: accounting per
 * stream (records = events + duplicates + errors), dedup across files,
 * error provenance, truncation hints, coverage gaps, missing inputs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer/audithound.h"
#include "parsers/formats/timeparse.h"

typedef struct captured {
    int errors, warnings;
    char last[1024];
    uint64_t last_record;
    char last_path[512];
} captured;

static void capture(void *ud, ah_severity sev, const ah_where *w, const char *msg)
{
    captured *c = ud;
    if (sev == AH_SEV_ERROR)
        c->errors++;
    if (sev == AH_SEV_WARNING)
        c->warnings++;
    snprintf(c->last, sizeof c->last, "%s", msg);
    c->last_record = w ? w->record_no : 0;
    snprintf(c->last_path, sizeof c->last_path, "%s", w && w->path ? w->path : "");
}

static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ah-test-session-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd);
}

static const char *write_file(const char *name, const char *text)
{
    static char path[512]; /* test-only scratch */
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static const char *ual(char *buf, size_t n, const char *id, const char *time, const char *op)
{
    snprintf(buf, n,
             "{\"CreationTime\":\"%s\",\"Id\":\"%s\",\"Operation\":\"%s\",\"OrganizationId\":\"o\",\"RecordType\":8,"
             "\"UserId\":\"admin@contoso.com\",\"Workload\":\"AzureActiveDirectory\",\"ResultStatus\":\"Success\"}\n",
             time, id, op);
    return buf;
}

static ah_session *open_session(captured *cap, bool keep_dups)
{
    ah_session_options o;
    ah_session_options_init(&o);
    o.diag_fn = capture;
    o.diag_ud = cap;
    o.keep_duplicates = keep_dups;
    ah_session *s = ah_session_new(&o);
    assert_non_null(s);
    return s;
}

static size_t drain(ah_session *s)
{
    const ah_event *ev;
    size_t n = 0;
    ah_status st;
    while ((st = ah_session_next(s, &ev)) == AH_OK)
        n++;
    assert_int_equal(st, AH_END);
    return n;
}

static void test_dedup_across_files_and_accounting(void **state)
{
    (void)state;
    char a[512], b[512], c[512], text[2048];
    snprintf(text, sizeof text, "%s%s%s", ual(a, sizeof a, "id-1", "2021-01-13T16:00:00", "Add user."),
             ual(b, sizeof b, "id-2", "2021-01-13T16:05:00", "Update user."),
             ual(c, sizeof c, "id-3", "2021-01-13T16:06:00", "Delete user."));
    char p1[512], p2[512];
    snprintf(p1, sizeof p1, "%s", write_file("one.jsonl", text));
    /* the second file repeats id-2 and id-3 (an overlapping export) and adds a bad line */
    snprintf(text, sizeof text, "%s%s{\"truncated\": \n%s",
             ual(a, sizeof a, "id-2", "2021-01-13T16:05:00", "Update user."),
             ual(b, sizeof b, "id-3", "2021-01-13T16:06:00", "Delete user."),
             ual(c, sizeof c, "id-4", "2021-01-13T19:00:00", "Add user."));
    snprintf(p2, sizeof p2, "%s", write_file("two.jsonl", text));

    captured cap = {0};
    ah_session *s = open_session(&cap, false);
    assert_int_equal(ah_session_add_input(s, p1), AH_OK);
    assert_int_equal(ah_session_add_input(s, p2), AH_OK);
    assert_int_equal(drain(s), 4);
    assert_int_equal(ah_session_stream_count(s), 2);
    const ah_stream_report *r1 = ah_session_stream(s, 0), *r2 = ah_session_stream(s, 1);
    assert_int_equal(r1->records, 3);
    assert_int_equal(r1->events, 3);
    assert_int_equal(r1->duplicates, 0);
    assert_int_equal(r2->records, 4);
    assert_int_equal(r2->events, 1);
    assert_int_equal(r2->duplicates, 2);
    assert_int_equal(r2->errors, 1);
    assert_int_equal(r2->records, r2->events + r2->duplicates + r2->errors);
    assert_string_equal(r1->format, "ual_json");
    assert_int_equal(cap.errors, 1);
    assert_int_equal(cap.last_record, 3);
    assert_string_equal(cap.last_path, p2);
    assert_true(ah_session_partial(s));
    ah_totals t = ah_session_totals(s);
    assert_int_equal(t.records, 7);
    assert_int_equal(t.events, 4);
    assert_int_equal(t.duplicates, 2);
    assert_int_equal(t.errors, 1);

    /* coverage: events at 16:00, 16:05, 16:06 and 19:00 -> hours 16 and 19, two empty hours between */
    ah_coverage cov = ah_session_coverage(s, AH_SOURCE_UAL);
    assert_int_equal(cov.events, 4);
    assert_int_equal(cov.gaps, 1);
    assert_int_equal(cov.empty_hours, 2);
    assert_int_equal(cov.longest_gap_hours, 2);
    char tb[40];
    ah_time g = {cov.longest_gap_start, 0};
    assert_string_equal(ah_time_format_digits(g, 0, tb), "2021-01-13T17:00:00Z");
    ah_session_free(s);

    /* the same inputs with dedup off: every record is an event */
    cap = (captured){0};
    s = open_session(&cap, true);
    ah_session_add_input(s, p1);
    ah_session_add_input(s, p2);
    assert_int_equal(drain(s), 6);
    assert_int_equal(ah_session_stream(s, 1)->duplicates, 0);
    ah_session_free(s);
}

static void test_truncation_hint(void **state)
{
    (void)state;
    size_t cap_bytes = 5000 * 300;
    char *text = malloc(cap_bytes), line[512];
    assert_non_null(text);
    size_t len = 0;
    for (int i = 0; i < 5000; i++) {
        char id[32];
        snprintf(id, sizeof id, "id-%d", i);
        ual(line, sizeof line, id, "2021-01-13T16:00:00", "Add user.");
        size_t k = strlen(line);
        assert_true(len + k < cap_bytes);
        memcpy(text + len, line, k);
        len += k;
    }
    text[len] = '\0';
    char path[512];
    snprintf(path, sizeof path, "%s", write_file("cap.jsonl", text));
    free(text);
    captured cap = {0};
    ah_session *s = open_session(&cap, false);
    ah_session_add_input(s, path);
    assert_int_equal(drain(s), 5000);
    assert_true(ah_session_stream(s, 0)->truncated_hint);
    assert_int_equal(cap.warnings, 1);
    assert_non_null(strstr(cap.last, "truncated"));
    assert_false(ah_session_partial(s));
    ah_session_free(s);
}

static void test_missing_input_and_unknown_csv(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s", write_file("other.csv", "Event ID,Category,Description\r\n1,a,b\r\n2,c,d\r\n"));
    captured cap = {0};
    ah_session *s = open_session(&cap, false);
    assert_int_equal(ah_session_add_input(s, "/nonexistent/audithound-test.csv"), AH_ERR_IO);
    ah_session_add_input(s, path);
    assert_int_equal(drain(s), 0);
    const ah_stream_report *r = ah_session_stream(s, 0);
    assert_true(r->failed);
    assert_int_equal(r->records, 2);
    assert_int_equal(r->errors, 2);
    assert_non_null(strstr(r->failure, "Event ID"));
    ah_totals t = ah_session_totals(s);
    assert_int_equal(t.unreadable_inputs, 2); /* the missing path and the unrecognised CSV */
    assert_true(ah_session_partial(s));
    ah_session_free(s);
}

static void test_file_digest_reported(void **state)
{
    (void)state;
    char path[512], line[512];
    snprintf(path, sizeof path, "%s", write_file("h.jsonl", ual(line, sizeof line, "x", "2021-01-01T00:00:00", "A.")));
    captured cap = {0};
    ah_session *s = open_session(&cap, false);
    ah_session_add_input(s, path);
    drain(s);
    assert_int_equal(ah_session_file_count(s), 1);
    ah_file_report f = ah_session_file(s, 0);
    assert_int_equal(f.size, strlen(line));
    assert_int_equal(strlen(f.sha256), 64);
    assert_false(f.unreadable);
    ah_session_free(s);
}

/* The portal audit CSV has no record id; its rows still dedup against the
 * Graph copies of the same changes, whichever file comes first. */
static void test_audit_csv_dedups_against_graph(void **state)
{
    (void)state;
    const char *orders[2][2] = {{"samples/tenant/AuditLogs-portal.csv", "samples/tenant/directoryAudits.json"},
                                {"samples/tenant/directoryAudits.json", "samples/tenant/AuditLogs-portal.csv"}};
    for (int o = 0; o < 2; o++) {
        captured cap = {0};
        ah_session *s = open_session(&cap, false);
        ah_session_add_input(s, orders[o][0]);
        ah_session_add_input(s, orders[o][1]);
        drain(s);
        ah_coverage c = ah_session_coverage(s, AH_SOURCE_ENTRA_AUDIT);
        assert_int_equal(c.events, 20); /* samples/tenant-story.md: 20 unique directory changes */
        assert_int_equal(ah_session_totals(s).records, 40);
        ah_session_free(s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_dedup_across_files_and_accounting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncation_hint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_input_and_unknown_csv, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_digest_reported, setup, teardown),
        cmocka_unit_test(test_audit_csv_dedups_against_graph),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
