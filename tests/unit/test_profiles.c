/*
 * test_profiles.c: the output profiles (analyzer/output/profiles.def read by
 * writer.c): exact ECS and Timesketch output for small rows, what is left
 * out or refused, the event layout of `search`, a large raw record as one
 * string, and the table's own rule (a nested object's fields stand together).
 * Output is parsed back with cJSON, independent of the project's scanner.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <string.h>

#include "analyzer/output/timeline.h"
#include "support/tmpdir.h"

static int setup(void **state) { return ah_test_tmpdir_setup(state, "ah-prof", "out.jsonl"); }
static int teardown(void **state) { return ah_test_tmpdir_teardown(state); }

static const char *const tags1[] = {"solarwinds", "attack.persistence", "attack.t1098.001"};
static const char *const tags2[] = {"attack.t1098.001", "attack.t1078"};
static const ah_row_rule rules2[] = {
    {"sw-d09", "Credential added to a service principal", "high", tags1, 3, false},
    {"sw-d51", "IOC address", "high", tags2, 2, false},
};

static ah_row sample_row(void)
{
    ah_row r;
    memset(&r, 0, sizeof r);
    r.has_time = true;
    r.time = (ah_time){1610507565, 811126900}; /* 2021-01-13T03:12:45.8111269Z */
    r.kind = AH_ROW_EVENT;
    r.col[AH_COL_SEVERITY] = ah_span_cstr("high");
    r.col[AH_COL_RULE_ID] = ah_span_cstr("sw-d09; sw-d51");
    r.col[AH_COL_RULE_TITLE] = ah_span_cstr("Credential added to a service principal; IOC address");
    r.col[AH_COL_SOURCE] = ah_span_cstr("entra_audit+ual");
    r.col[AH_COL_OPERATION] = ah_span_cstr("Add service principal credentials");
    r.col[AH_COL_USER] = ah_span_cstr("adele@contoso.com");
    r.col[AH_COL_IP] = ah_span_cstr("54.193.127.66");
    r.col[AH_COL_APP] = ah_span_cstr("Contoso MailSync");
    r.col[AH_COL_RESULT] = ah_span_cstr("success");
    r.col[AH_COL_TARGET] = ah_span_cstr("Contoso MailSync");
    r.col[AH_COL_INPUT] = ah_span_cstr("audit.json");
    r.input_record = 7;
    r.rule_info = rules2;
    r.nrule_info = 2;
    r.raw = ah_span_cstr("{\"a\": \"x\\\"y\",\n \"b\": [1, 2]}");
    return r;
}

static char *write_rows(const char *path, ah_out_profile profile, ah_out_format format, const ah_row *rows, size_t n,
                        ah_out_layout layout)
{
    ah_writer_options o;
    ah_writer_options_init(&o);
    o.path = path;
    o.format = format;
    o.profile = profile;
    o.layout = layout;
    o.bom = AH_BOM_NEVER; /* the profile's bytes alone (the BOM has its own tests) */
    ah_status st;
    ah_writer *w = ah_writer_open(&o, NULL, &st);
    assert_non_null(w);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(ah_writer_write(w, &rows[i]), AH_OK);
    assert_int_equal(ah_writer_close(w, NULL), AH_OK);
    size_t len;
    return ah_test_slurp(path, &len);
}

static void test_ecs_exact(void **state)
{
    ah_test_tmpdir *f = *state;
    ah_row r = sample_row();
    char *out = write_rows(f->path, AH_PROFILE_ECS, AH_OUT_JSONL, &r, 1, AH_LAYOUT_TIMELINE);
    const char *want =
        "{\"@timestamp\":\"2021-01-13T03:12:45.8111269Z\",\"ecs\":{\"version\":\"8.11.0\"},"
        "\"message\":\"adele@contoso.com performed \\\"Add service principal credentials\\\" on Contoso MailSync with "
        "Contoso MailSync from 54.193.127.66 [high] Credential added to a service principal; IOC address\","
        "\"event\":{\"kind\":\"alert\",\"category\":[\"iam\"],\"type\":[\"creation\"],"
        "\"action\":\"Add service principal credentials\",\"outcome\":\"success\",\"severity\":4,"
        "\"module\":\"audithound\",\"dataset\":\"audithound.entra_audit\","
        "\"original\":\"{\\\"a\\\": \\\"x\\\\\\\"y\\\",\\n \\\"b\\\": [1, 2]}\"},"
        "\"user\":{\"name\":\"adele@contoso.com\"},\"source\":{\"address\":\"54.193.127.66\",\"ip\":\"54.193.127.66\"},"
        "\"related\":{\"ip\":[\"54.193.127.66\"],\"user\":[\"adele@contoso.com\"]},"
        "\"rule\":{\"id\":[\"sw-d09\",\"sw-d51\"],\"name\":[\"Credential added to a service principal\",\"IOC "
        "address\"]},"
        "\"threat\":{\"framework\":\"MITRE ATT&CK\",\"technique\":{\"id\":[\"T1098.001\",\"T1078\"]}},"
        "\"tags\":[\"solarwinds\",\"attack.persistence\",\"attack.t1098.001\",\"attack.t1078\"],"
        "\"log\":{\"file\":{\"path\":\"audit.json\"}},"
        "\"audithound\":{\"time\":\"2021-01-13T03:12:45.8111269Z\",\"severity\":\"high\",\"rule_id\":\"sw-d09; "
        "sw-d51\","
        "\"rule_title\":\"Credential added to a service principal; IOC address\",\"source\":\"entra_audit+ual\","
        "\"operation\":\"Add service principal credentials\",\"user\":\"adele@contoso.com\",\"ip\":\"54.193.127.66\","
        "\"app\":\"Contoso MailSync\",\"result\":\"success\",\"target\":\"Contoso MailSync\",\"input\":\"audit.json\","
        "\"input_record\":7}}\n";
    assert_string_equal(out, want);
    free(out);
}

/* An address that is not one stays in source.address only; no rules, no arrays. */
static void test_ecs_left_out(void **state)
{
    ah_test_tmpdir *f = *state;
    ah_row r = sample_row();
    r.col[AH_COL_IP] = ah_span_cstr("sanitized");
    r.col[AH_COL_SEVERITY] = r.col[AH_COL_RULE_ID] = r.col[AH_COL_RULE_TITLE] = AH_SPAN_NULL;
    r.col[AH_COL_USER] = AH_SPAN_NULL;
    r.col[AH_COL_RESULT] = ah_span_cstr("failure (50126)");
    r.nrule_info = 0;
    r.raw = AH_SPAN_NULL;
    char *out = write_rows(f->path, AH_PROFILE_ECS, AH_OUT_JSONL, &r, 1, AH_LAYOUT_TIMELINE);
    cJSON *doc = cJSON_Parse(out);
    assert_non_null(doc);
    cJSON *source = cJSON_GetObjectItem(doc, "source");
    assert_string_equal(cJSON_GetObjectItem(source, "address")->valuestring, "sanitized");
    assert_null(cJSON_GetObjectItem(source, "ip"));
    assert_null(cJSON_GetObjectItem(doc, "related")); /* no valid ip, no user, target not an account */
    assert_null(cJSON_GetObjectItem(doc, "rule"));
    assert_null(cJSON_GetObjectItem(doc, "tags"));
    assert_null(cJSON_GetObjectItem(doc, "threat"));
    assert_null(cJSON_GetObjectItem(doc, "user"));
    cJSON *event = cJSON_GetObjectItem(doc, "event");
    assert_string_equal(cJSON_GetObjectItem(event, "kind")->valuestring, "event");
    assert_string_equal(cJSON_GetObjectItem(event, "outcome")->valuestring, "failure");
    assert_null(cJSON_GetObjectItem(event, "severity"));
    assert_null(cJSON_GetObjectItem(event, "original"));
    assert_null(strstr(out, "null")); /* absent values are left out, never null */
    cJSON_Delete(doc);
    free(out);
}

static void test_timesketch_csv(void **state)
{
    ah_test_tmpdir *f = *state;
    ah_row r[2] = {sample_row(), sample_row()};
    r[1].has_time = false; /* the importer drops rows without a datetime: give the epoch, say so */
    r[1].col[AH_COL_SOURCE] = ah_span_cstr("signin");
    char *out = write_rows(f->path, AH_PROFILE_TIMESKETCH, AH_OUT_CSV, r, 2, AH_LAYOUT_TIMELINE);
    const char *header = "\"message\",\"datetime\",\"timestamp\",\"timestamp_desc\",\"time\",\"severity\",";
    assert_memory_equal(out, header, strlen(header));
    assert_non_null(strstr(out, ",\"2021-01-13T03:12:45.8111269Z\",\"1610507565811126\",\"Activity Time\","));
    assert_non_null(strstr(out, ",\"1970-01-01T00:00:00.0000000Z\",\"0\",\"Not a time\",\"\","));
    assert_null(strstr(out, "raw")); /* JSON-only fields stay out of CSV */
    free(out);
}

static void test_timesketch_jsonl(void **state)
{
    ah_test_tmpdir *f = *state;
    ah_row r = sample_row();
    char *out = write_rows(f->path, AH_PROFILE_TIMESKETCH, AH_OUT_JSONL, &r, 1, AH_LAYOUT_TIMELINE);
    cJSON *doc = cJSON_Parse(out);
    assert_non_null(doc);
    assert_string_equal(doc->child->string, "message");
    assert_string_equal(cJSON_GetObjectItem(doc, "timestamp_desc")->valuestring, "Activity Time");
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(doc, "timestamp")));
    /* raw is a string here too: Timesketch's store maps fields as it first sees them */
    assert_string_equal(cJSON_GetObjectItem(doc, "raw")->valuestring, "{\"a\": \"x\\\"y\",\n \"b\": [1, 2]}");
    assert_null(cJSON_GetObjectItem(doc, "rules"));
    cJSON_Delete(doc);
    free(out);
}

static void test_refused(void **state)
{
    ah_test_tmpdir *f = *state;
    static const struct {
        ah_out_profile p;
        ah_out_format f;
    } bad[] = {{AH_PROFILE_ECS, AH_OUT_CSV}, {AH_PROFILE_ECS, AH_OUT_JSON}, {AH_PROFILE_TIMESKETCH, AH_OUT_JSON}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ah_writer_options o;
        ah_writer_options_init(&o);
        o.path = f->path;
        o.profile = bad[i].p;
        o.format = bad[i].f;
        ah_status st = AH_OK;
        assert_false(ah_out_profile_allows(bad[i].p, bad[i].f));
        assert_null(ah_writer_open(&o, NULL, &st));
        assert_int_equal(st, AH_ERR_USAGE);
        assert_int_equal(access(f->path, F_OK), -1); /* nothing created */
    }
    ah_out_profile p;
    assert_int_equal(ah_out_profile_from_name(ah_span_cstr("ECS"), &p), AH_OK);
    assert_int_equal(p, AH_PROFILE_ECS);
    assert_int_equal(ah_out_profile_from_name(ah_span_cstr("splunk"), &p), AH_ERR_USAGE);
}

/* search rows: the dump keys, from the packed cells, in every format (raw as
 * `dump --raw` has it: null when the row has no record). */
static void test_event_layout(void **state)
{
    ah_test_tmpdir *f = *state;
    ah_origin origin = {"in.csv", "a.zip", 0};
    ah_event ev;
    memset(&ev, 0, sizeof ev);
    ev.origin = &origin;
    ev.record_no = 12;
    ev.source = AH_SOURCE_SIGNIN;
    ev.result = AH_RESULT_FAILURE;
    ev.field[AH_F_USER] = ah_span_cstr("bob@contoso.com");
    ev.field[AH_F_OPERATION] = ah_span_cstr("Sign-in");
    ev.operation_canon = ah_span_cstr("sign-in");
    ah_buf cells;
    ah_buf_init(&cells, 0);
    assert_int_equal(ah_event_cells_pack(&ev, &cells), AH_OK);
    ah_span unpacked[AH_EVENT_CELL_COUNT];
    assert_true(ah_event_cells_unpack(ah_buf_span(&cells), unpacked));
    assert_false(ah_event_cells_unpack(ah_span_make(cells.data, cells.len - 1), unpacked)); /* cut short */
    ah_row r;
    memset(&r, 0, sizeof r);
    r.event_cells = ah_buf_span(&cells);
    char *out = write_rows(f->path, AH_PROFILE_NONE, AH_OUT_JSONL, &r, 1, AH_LAYOUT_EVENT);
    assert_string_equal(
        out, "{\"time\":null,\"source\":\"signin\",\"format\":null,\"record_id\":null,"
             "\"operation\":\"Sign-in\",\"operation_canonical\":\"sign-in\",\"workload\":null,"
             "\"record_type\":null,\"user\":\"bob@contoso.com\",\"ip\":null,\"user_agent\":null,"
             "\"app_id\":null,\"app\":null,\"target\":null,\"result_code\":null,\"session_id\":null,"
             "\"correlation_id\":null,\"tenant_id\":null,\"token_id\":null,\"result\":\"failure\",\"input\":\"in.csv\","
             "\"entry\":\"a.zip\",\"input_record\":12,\"line\":null,\"raw\":null}\n");
    free(out);
    unlink(f->path);
    out = write_rows(f->path, AH_PROFILE_NONE, AH_OUT_CSV, &r, 1, AH_LAYOUT_EVENT);
    assert_non_null(strstr(out, "\"time\",\"source\",\"format\",\"record_id\",\"operation\",\"operation_canonical\","));
    assert_non_null(strstr(out, "\"\",\"signin\",\"\",\"\",\"Sign-in\",\"sign-in\","));
    free(out);
    ah_buf_free(&cells);
}

/* A record larger than the writer's block goes out as one valid string, its
 * multi-byte characters whole where the blocks meet. */
static void test_large_raw_string(void **state)
{
    ah_test_tmpdir *f = *state;
    size_t n = 300 * 1024;
    char *raw = malloc(n + 1);
    assert_non_null(raw);
    raw[0] = '"';
    for (size_t i = 1; i + 3 < n; i += 3)
        memcpy(raw + i, "\xE2\x82\xAC", 3); /* € over every block boundary */
    size_t used = 1 + ((n - 4) / 3) * 3;
    raw[used] = '"';
    raw[used + 1] = '\0';
    ah_row r = sample_row();
    r.raw = ah_span_make(raw, used + 1);
    char *out = write_rows(f->path, AH_PROFILE_ECS, AH_OUT_JSONL, &r, 1, AH_LAYOUT_TIMELINE);
    cJSON *doc = cJSON_Parse(out);
    assert_non_null(doc);
    const char *orig = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "event"), "original")->valuestring;
    assert_string_equal(orig, raw);
    cJSON_Delete(doc);
    free(out);
    free(raw);
}

/* The writer opens each object of a dotted path once: the table must keep the
 * fields of one object together, or a document would carry a key twice. */
static void test_table_groups_objects(void **state)
{
    (void)state;
    static const struct {
        int profile;
        const char *name;
        const char *constant;
    } table[] = {
#define AH_PFIELD(profile, name, value, col, constant) {AH_PROFILE_##profile, name, constant},
#include "analyzer/output/profiles.def"
#undef AH_PFIELD
    };
    size_t n = sizeof table / sizeof *table;
    for (size_t i = 0; i < n; i++) {
        /* a field's top-level object: the name up to its first dot, or the COLUMNS object */
        const char *name = *table[i].name ? table[i].name : table[i].constant ? table[i].constant : "";
        size_t top = strcspn(name, ".");
        if (!top || (name[top] == '\0' && *table[i].name))
            continue; /* a top-level leaf */
        bool closed = false;
        for (size_t j = i + 1; j < n && table[j].profile == table[i].profile; j++) {
            const char *other = *table[j].name ? table[j].name : table[j].constant ? table[j].constant : "";
            bool same = strncmp(other, name, top) == 0 && (other[top] == '.' || other[top] == '\0') && *other;
            if (!same)
                closed = true;
            else if (closed)
                fail_msg("profile %d: \"%s\" reopens object \"%.*s\"", table[i].profile, other, (int)top, name);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ecs_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ecs_left_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timesketch_csv, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timesketch_jsonl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_layout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_raw_string, setup, teardown),
        cmocka_unit_test(test_table_groups_objects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
