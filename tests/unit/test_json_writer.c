/*
 * test_json_writer.c: the JSON Lines and JSON array timeline writers.
 *
 * Small outputs are compared byte for byte; larger ones are parsed back
 * with cJSON (independent of the project's scanner) and compared key by
 * key, including the verbatim `raw` member.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer/output/timeline.h"
#include "support/tmpdir.h"

typedef ah_test_tmpdir fixture;

static int setup(void **state) { return ah_test_tmpdir_setup(state, "ah-jsonw", "out.json"); }

static int teardown(void **state) { return ah_test_tmpdir_teardown(state); }

static ah_writer *open_fmt(fixture *f, ah_out_format fmt, ah_writer_options *o)
{
    o->format = fmt;
    o->path = f->path;
    o->force = true;
    ah_status st;
    ah_writer *w = ah_writer_open(o, NULL, &st);
    assert_non_null(w);
    return w;
}

static void small_row(ah_row *r)
{
    memset(r, 0, sizeof *r);
    r->has_time = true;
    r->time = (ah_time){1704164645, 123456789};
    r->col[AH_COL_SEVERITY] = ah_span_cstr("high");
    r->col[AH_COL_USER] = ah_span_cstr("a\"b\\c\n");
    r->col[AH_COL_DETAILS] = ah_span_make("", 0);
    r->input_record = 42;
    r->raw = ah_span_cstr("{\"Id\":1}");
}

#define NULLS_AFTER_SEVERITY "\"rule_id\":null,\"rule_title\":null,\"tags\":null,\"source\":null,\"operation\":null,"
#define ROW1                                                                                                           \
    "{\"time\":\"2024-01-02T03:04:05.1234567Z\",\"severity\":\"high\"," NULLS_AFTER_SEVERITY                           \
    "\"user\":\"a\\\"b\\\\c\\n\",\"ip\":null,\"app\":null,\"user_agent\":null,\"result\":null,\"target\":null,"        \
    "\"details\":\"\",\"record_id\":null,\"input\":null,\"input_record\":42,\"app_id\":null,\"target_id\":null,"       \
    "\"related_ids\":null,\"rules\":[],"                                                                               \
    "\"raw\":{\"Id\":1},\"related_raw\":null}"
#define ROW_EMPTY                                                                                                      \
    "{\"time\":null,\"severity\":null," NULLS_AFTER_SEVERITY                                                           \
    "\"user\":null,\"ip\":null,\"app\":null,\"user_agent\":null,\"result\":null,\"target\":null,"                      \
    "\"details\":null,\"record_id\":null,\"input\":null,\"input_record\":null,\"app_id\":null,\"target_id\":null,"     \
    "\"related_ids\":null,\"rules\":[],"                                                                               \
    "\"raw\":null,\"related_raw\":null}"

static void test_jsonl_exact(void **state)
{
    fixture *f = *state;
    ah_writer_options o;
    ah_writer_options_init(&o);
    ah_writer *w = open_fmt(f, AH_OUT_JSONL, &o);
    ah_row r, e;
    small_row(&r);
    memset(&e, 0, sizeof e);
    assert_int_equal(ah_writer_write(w, &r), AH_OK);
    assert_int_equal(ah_writer_write(w, &e), AH_OK);
    ah_writer_stats stats;
    assert_int_equal(ah_writer_close(w, &stats), AH_OK);
    size_t len;
    char *got = ah_test_slurp(f->path, &len);
    assert_string_equal(got, ROW1 "\n" ROW_EMPTY "\n");
    assert_int_equal(stats.rows, 2);
    assert_int_equal(stats.bytes, len);
    free(got);
}

static void test_json_array_exact(void **state)
{
    fixture *f = *state;
    for (int n = 0; n <= 2; n++) {
        ah_writer_options o;
        ah_writer_options_init(&o);
        ah_writer *w = open_fmt(f, AH_OUT_JSON, &o);
        ah_row r, e;
        small_row(&r);
        memset(&e, 0, sizeof e);
        if (n >= 1)
            assert_int_equal(ah_writer_write(w, &r), AH_OK);
        if (n >= 2)
            assert_int_equal(ah_writer_write(w, &e), AH_OK);
        assert_int_equal(ah_writer_close(w, NULL), AH_OK);
        char *got = ah_test_slurp(f->path, NULL);
        if (n == 0)
            assert_string_equal(got, "[]\n");
        else if (n == 1)
            assert_string_equal(got, "[\n" ROW1 "\n]\n");
        else
            assert_string_equal(got, "[\n" ROW1 ",\n" ROW_EMPTY "\n]\n");
        free(got);
    }
}

static void test_jsonl_empty_and_no_raw(void **state)
{
    fixture *f = *state;
    ah_writer_options o;
    ah_writer_options_init(&o);
    ah_writer *w = open_fmt(f, AH_OUT_JSONL, &o);
    assert_int_equal(ah_writer_close(w, NULL), AH_OK);
    size_t len = 99;
    char *got = ah_test_slurp(f->path, &len);
    assert_int_equal(len, 0);
    free(got);

    ah_writer_options_init(&o);
    o.include_raw = false;
    o.excel_dates = true;
    o.tz = "UTC";
    o.zoneinfo_dir = f->dir; /* no zone files: built-in UTC */
    w = open_fmt(f, AH_OUT_JSONL, &o);
    ah_row r;
    small_row(&r);
    assert_int_equal(ah_writer_write(w, &r), AH_OK);
    assert_int_equal(ah_writer_close(w, NULL), AH_OK);
    got = ah_test_slurp(f->path, NULL);
    assert_non_null(strstr(got, "{\"time\":\"2024-01-02T03:04:05.1234567Z\",\"time_excel\":\"2024-01-02 03:04:05\","
                                "\"time_local\":\"2024-01-02T03:04:05.1234567+00:00\",\"severity\":\"high\","));
    assert_null(strstr(got, "\"raw\""));
    const char *tail = "\"input_record\":42,\"app_id\":null,\"target_id\":null,\"related_ids\":null,\"rules\":[]}\n";
    assert_string_equal(got + strlen(got) - strlen(tail), tail);
    free(got);
}

static void test_raw_handling(void **state)
{
    fixture *f = *state;
    static const char pretty[] = "\r\n  {\r\n  \"a\": [1,\n 2],\n  \"s\": \"x y\"\n}\n\n";
    static const char broken[] = "{\"a\":1,\n\"b\":";
    for (int fmt = AH_OUT_JSONL; fmt <= AH_OUT_JSON; fmt++) {
        ah_writer_options o;
        ah_writer_options_init(&o);
        ah_writer *w = open_fmt(f, (ah_out_format)fmt, &o);
        ah_row r;
        memset(&r, 0, sizeof r);
        r.raw = ah_span_cstr(pretty);
        assert_int_equal(ah_writer_write(w, &r), AH_OK);
        r.raw = ah_span_cstr(broken);
        assert_int_equal(ah_writer_write(w, &r), AH_OK);
        r.raw = ah_span_cstr("  \"just a string\"  ");
        assert_int_equal(ah_writer_write(w, &r), AH_OK);
        ah_writer_stats stats;
        assert_int_equal(ah_writer_close(w, &stats), AH_OK);
        assert_int_equal(stats.raw_invalid, 1);
        size_t len;
        char *got = ah_test_slurp(f->path, &len);
        if (fmt == AH_OUT_JSONL) {
            /* CR/LF dropped, everything else verbatim, one record per line */
            assert_non_null(strstr(got, ",\"raw\":{  \"a\": [1, 2],  \"s\": \"x y\"},\"related_raw\":null}\n"));
            assert_non_null(strstr(got, ",\"raw\":\"{\\\"a\\\":1,\\n\\\"b\\\":\",\"related_raw\":null}\n"));
            assert_non_null(strstr(got, ",\"raw\":\"just a string\",\"related_raw\":null}\n"));
            size_t lines = 0;
            for (size_t i = 0; i < len; i++)
                lines += got[i] == '\n';
            assert_int_equal(lines, 3);
        } else {
            /* the array form keeps the record exactly, minus surrounding whitespace */
            assert_non_null(strstr(got, ",\"raw\":{\r\n  \"a\": [1,\n 2],\n  \"s\": \"x y\"\n},\"related_raw\":null}"));
        }
        cJSON *doc = NULL;
        if (fmt == AH_OUT_JSON) {
            doc = cJSON_ParseWithLength(got, len);
            assert_non_null(doc);
            assert_int_equal(cJSON_GetArraySize(doc), 3);
            cJSON *raw0 = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(doc, 0), "raw");
            assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(raw0, "a")), 2);
            cJSON *raw1 = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(doc, 1), "raw");
            assert_true(cJSON_IsString(raw1));
            assert_string_equal(raw1->valuestring, broken);
            cJSON_Delete(doc);
        }
        free(got);
    }
}

/* Hostile strings survive a round trip through a real JSON parser. */
static void test_escaping_roundtrip(void **state)
{
    fixture *f = *state;
    static const char *const values[] = {
        "plain",         "quote\" backslash\\ slash/",    "ctl\x01\x02\x1f\x7f",
        "nl\nCR\rTAB\t", "\xE2\x80\xA8 sep \xE2\x80\xA9", "ümlaut 😀",
        "</script>",
    };
    ah_writer_options o;
    ah_writer_options_init(&o);
    ah_writer *w = open_fmt(f, AH_OUT_JSONL, &o);
    for (size_t i = 0; i < AH_ARRAY_LEN(values); i++) {
        ah_row r;
        memset(&r, 0, sizeof r);
        for (int c = 0; c < AH_COL_COUNT; c++)
            r.col[c] = ah_span_cstr(values[(i + (size_t)c) % AH_ARRAY_LEN(values)]);
        r.input_record = UINT64_MAX;
        r.raw = ah_span_cstr("{}");
        assert_int_equal(ah_writer_write(w, &r), AH_OK);
    }
    /* invalid UTF-8 is repaired, never copied */
    ah_row bad;
    memset(&bad, 0, sizeof bad);
    bad.col[AH_COL_USER_AGENT] = ah_span_make("x\xFFy", 3);
    assert_int_equal(ah_writer_write(w, &bad), AH_OK);
    assert_int_equal(ah_writer_close(w, NULL), AH_OK);
    size_t len;
    char *got = ah_test_slurp(f->path, &len);
    assert_non_null(strstr(got, "\"input_record\":18446744073709551615,"));
    size_t i = 0;
    for (char *line = strtok(got, "\n"); line; line = strtok(NULL, "\n"), i++) {
        cJSON *obj = cJSON_Parse(line);
        assert_non_null(obj);
        if (i == AH_ARRAY_LEN(values)) {
            assert_string_equal(cJSON_GetObjectItemCaseSensitive(obj, "user_agent")->valuestring, "x\xEF\xBF\xBDy");
            cJSON_Delete(obj);
            continue;
        }
        int k = 0;
        for (cJSON *m = obj->child; m; m = m->next, k++) {
            if (k < AH_COL_COUNT) {
                assert_string_equal(m->string, ah_col_name((ah_col_id)k));
                if (k != AH_COL_TIME && k != AH_COL_INPUT_RECORD)
                    assert_string_equal(m->valuestring, values[(i + (size_t)k) % AH_ARRAY_LEN(values)]);
            }
        }
        assert_int_equal(k, AH_COL_COUNT + 3); /* + rules, raw, related_raw */
        assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(obj, "time")));
        assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(obj, "input_record")));
        cJSON_Delete(obj);
    }
    assert_int_equal(i, AH_ARRAY_LEN(values) + 1);
    free(got);
}

/* Rows far larger than the 64 KiB block still come out whole and in order. */
static void test_large_rows(void **state)
{
    fixture *f = *state;
    size_t big = 300 * 1024;
    char *raw = malloc(big + 16);
    char *det = malloc(big + 1);
    assert_non_null(raw);
    assert_non_null(det);
    strcpy(raw, "{\"k\":\"");
    memset(raw + 6, 'r', big);
    strcpy(raw + 6 + big, "\"}");
    memset(det, 'd', big);
    det[big] = '\0';
    ah_writer_options o;
    ah_writer_options_init(&o);
    ah_writer *w = open_fmt(f, AH_OUT_JSON, &o);
    for (int i = 0; i < 5; i++) {
        ah_row r;
        memset(&r, 0, sizeof r);
        r.input_record = (uint64_t)i + 1;
        r.col[AH_COL_DETAILS] = ah_span_cstr(det);
        r.raw = ah_span_cstr(raw);
        assert_int_equal(ah_writer_write(w, &r), AH_OK);
    }
    ah_writer_stats stats;
    assert_int_equal(ah_writer_close(w, &stats), AH_OK);
    size_t len;
    char *got = ah_test_slurp(f->path, &len);
    assert_int_equal(stats.bytes, len);
    cJSON *doc = cJSON_ParseWithLength(got, len);
    assert_non_null(doc);
    assert_int_equal(cJSON_GetArraySize(doc), 5);
    for (int i = 0; i < 5; i++) {
        cJSON *obj = cJSON_GetArrayItem(doc, i);
        assert_int_equal(cJSON_GetObjectItemCaseSensitive(obj, "input_record")->valueint, i + 1);
        assert_int_equal(strlen(cJSON_GetObjectItemCaseSensitive(obj, "details")->valuestring), big);
        assert_int_equal(
            strlen(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(obj, "raw"), "k")->valuestring),
            big);
    }
    cJSON_Delete(doc);
    free(got);
    free(raw);
    free(det);
}

/* CSV-only limits do not apply to JSON: no truncation, no split, no prefix. */
static void test_json_ignores_csv_limits(void **state)
{
    fixture *f = *state;
    ah_writer_options o;
    ah_writer_options_init(&o);
    o.split_rows = 1;
    o.max_cell_chars = 4;
    ah_writer *w = open_fmt(f, AH_OUT_JSONL, &o);
    ah_row r;
    memset(&r, 0, sizeof r);
    r.col[AH_COL_TARGET] = ah_span_cstr("=cmd|' /C calc'!A0");
    for (int i = 0; i < 3; i++)
        assert_int_equal(ah_writer_write(w, &r), AH_OK);
    ah_writer_stats stats;
    assert_int_equal(ah_writer_close(w, &stats), AH_OK);
    assert_int_equal(stats.files, 1);
    assert_int_equal(stats.cells_truncated, 0);
    assert_int_equal(stats.cells_neutralised, 0);
    char *got = ah_test_slurp(f->path, NULL);
    assert_non_null(strstr(got, "\"target\":\"=cmd|' /C calc'!A0\""));
    free(got);
}

/* Every record of a real export, as raw, parses back equal to the original. */
static void test_corpus_raw(void **state)
{
    fixture *f = *state;
    const char *corpus = getenv("AH_CORPUS");
    char path[512];
    snprintf(path, sizeof path, "%s/panther_analysis/o365_mgmt_api.jsonl", corpus ? corpus : "../shared/corpus");
    size_t len;
    char *text = ah_test_slurp(path, &len);
    if (!text) {
        print_message("skipped: corpus file %s not found (set AH_CORPUS)\n", path);
        skip();
    }
    char *copy = malloc(len + 1);
    assert_non_null(copy);
    memcpy(copy, text, len + 1);
    ah_writer_options o;
    ah_writer_options_init(&o);
    ah_writer *w = open_fmt(f, AH_OUT_JSONL, &o);
    size_t n = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"), n++) {
        ah_row r;
        memset(&r, 0, sizeof r);
        r.raw = ah_span_cstr(line);
        r.col[AH_COL_DETAILS] = ah_span_cstr(line);
        r.input_record = n + 1;
        assert_int_equal(ah_writer_write(w, &r), AH_OK);
    }
    assert_true(n >= 10);
    ah_writer_stats stats;
    assert_int_equal(ah_writer_close(w, &stats), AH_OK);
    assert_int_equal(stats.raw_invalid, 0);
    char *out = ah_test_slurp(f->path, NULL);
    char *save_in = NULL, *save_out = NULL;
    char *in_line = strtok_r(copy, "\n", &save_in);
    size_t k = 0;
    for (char *line = strtok_r(out, "\n", &save_out); line; line = strtok_r(NULL, "\n", &save_out), k++) {
        assert_non_null(in_line);
        cJSON *obj = cJSON_Parse(line);
        cJSON *orig = cJSON_Parse(in_line);
        assert_non_null(obj);
        assert_non_null(orig);
        assert_true(cJSON_Compare(cJSON_GetObjectItemCaseSensitive(obj, "raw"), orig, true));
        assert_string_equal(cJSON_GetObjectItemCaseSensitive(obj, "details")->valuestring, in_line);
        cJSON_Delete(obj);
        cJSON_Delete(orig);
        in_line = strtok_r(NULL, "\n", &save_in);
    }
    assert_int_equal(k, n);
    free(out);
    free(copy);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_jsonl_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_array_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jsonl_empty_and_no_raw, setup, teardown),
        cmocka_unit_test_setup_teardown(test_raw_handling, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escaping_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_ignores_csv_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corpus_raw, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
