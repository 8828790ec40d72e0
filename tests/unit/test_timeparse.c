/* Tests for parsers/formats/timeparse.c: every accepted form, strict
 * rejection, ambiguity flags, civil conversions and formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/formats/timeparse.h"

typedef struct parsed {
    ah_status st;
    char text[32]; /* 9-digit ISO, or "" on error */
    bool ambiguous;
    bool had_zone;
} parsed;

static parsed parse_with(const char *s, ah_date_order order)
{
    parsed r = {0};
    ah_time_parse tp;
    memset(&tp, 0xA5, sizeof tp); /* poison: outputs must be written on success */
    r.st = ah_time_parse_str(ah_span_cstr(s), order, &tp);
    if (r.st == AH_OK) {
        ah_time_format_digits(tp.time, 9, r.text);
        r.ambiguous = tp.ambiguous;
        r.had_zone = tp.had_zone;
    }
    return r;
}

#define ASSERT_TIME(s, order, want)                                                                                    \
    do {                                                                                                               \
        parsed r_ = parse_with((s), (order));                                                                          \
        if (r_.st != AH_OK)                                                                                            \
            fail_msg("'%s' rejected, want %s", (s), (want));                                                           \
        if (strcmp(r_.text, (want)) != 0)                                                                              \
            fail_msg("'%s' -> %s, want %s", (s), r_.text, (want));                                                     \
    } while (0)

#define ASSERT_REJECT(s, order)                                                                                        \
    do {                                                                                                               \
        parsed r_ = parse_with((s), (order));                                                                          \
        if (r_.st != AH_ERR_RECORD)                                                                                    \
            fail_msg("'%s' accepted as %s (status %d)", (s), r_.text, (int)r_.st);                                     \
    } while (0)

static const char *const JAN9 = "2007-01-09T09:41:00.000000000Z";

static void test_iso_forms(void **state)
{
    (void)state;
    ASSERT_TIME("2023-09-20T04:05:03", AH_DATE_ORDER_AUTO, "2023-09-20T04:05:03.000000000Z");
    ASSERT_TIME("2021-01-13T16:05:22.0000000Z", AH_DATE_ORDER_AUTO, "2021-01-13T16:05:22.000000000Z");
    ASSERT_TIME("2020-03-13T19:15:41.6195833Z", AH_DATE_ORDER_AUTO, "2020-03-13T19:15:41.619583300Z");
    ASSERT_TIME("2021-08-02T13:29:25.983Z", AH_DATE_ORDER_AUTO, "2021-08-02T13:29:25.983000000Z");
    ASSERT_TIME("2022-12-12 15:57:57", AH_DATE_ORDER_AUTO, "2022-12-12T15:57:57.000000000Z");
    ASSERT_TIME("2025-01-15 09:30:25.123", AH_DATE_ORDER_AUTO, "2025-01-15T09:30:25.123000000Z");
    ASSERT_TIME("2023-07-26 22:58:30.983201900", AH_DATE_ORDER_AUTO, "2023-07-26T22:58:30.983201900Z");
    ASSERT_TIME("2023-10-25 17:44:53 UTC", AH_DATE_ORDER_AUTO, "2023-10-25T17:44:53.000000000Z");
    ASSERT_TIME("2023-10-25 17:44:53 utc", AH_DATE_ORDER_AUTO, "2023-10-25T17:44:53.000000000Z");
    ASSERT_TIME("2023-10-25t17:44:53z", AH_DATE_ORDER_AUTO, "2023-10-25T17:44:53.000000000Z");
    ASSERT_TIME("2023-10-25T17:44Z", AH_DATE_ORDER_AUTO, "2023-10-25T17:44:00.000000000Z");
    ASSERT_TIME("2021-01-13", AH_DATE_ORDER_AUTO, "2021-01-13T00:00:00.000000000Z");
    ASSERT_TIME("  \t2021-01-13T16:05:22Z \r\n", AH_DATE_ORDER_AUTO, "2021-01-13T16:05:22.000000000Z");
    /* offsets in every spelling */
    ASSERT_TIME("2007-01-09T11:41:00+02:00", AH_DATE_ORDER_AUTO, JAN9);
    ASSERT_TIME("2007-01-09T11:41:00+0200", AH_DATE_ORDER_AUTO, JAN9);
    ASSERT_TIME("2007-01-09T11:41:00+02", AH_DATE_ORDER_AUTO, JAN9);
    ASSERT_TIME("2007-01-09T04:11:00-05:30", AH_DATE_ORDER_AUTO, JAN9);
    ASSERT_TIME("2007-01-09T09:41:00-00:00", AH_DATE_ORDER_AUTO, JAN9);
    ASSERT_TIME("2007-01-09 11:41:00 +02:00", AH_DATE_ORDER_AUTO, JAN9);
    /* an offset that crosses midnight, a month end and a year end */
    ASSERT_TIME("2021-01-01T01:00:00+02:00", AH_DATE_ORDER_AUTO, "2020-12-31T23:00:00.000000000Z");
    ASSERT_TIME("2020-12-31T23:30:00-01:00", AH_DATE_ORDER_AUTO, "2021-01-01T00:30:00.000000000Z");
}

static void test_fractions(void **state)
{
    (void)state;
    ASSERT_TIME("2007-01-09T09:41:00.1Z", AH_DATE_ORDER_AUTO, "2007-01-09T09:41:00.100000000Z");
    ASSERT_TIME("2007-01-09T09:41:00.22Z", AH_DATE_ORDER_AUTO, "2007-01-09T09:41:00.220000000Z");
    ASSERT_TIME("2007-01-09T09:41:00.000000001Z", AH_DATE_ORDER_AUTO, "2007-01-09T09:41:00.000000001Z");
    ASSERT_TIME("2007-01-09T09:41:00.999999999Z", AH_DATE_ORDER_AUTO, "2007-01-09T09:41:00.999999999Z");
    /* beyond nine digits: truncated, not rounded */
    ASSERT_TIME("2007-01-09T09:41:00.1234567899999Z", AH_DATE_ORDER_AUTO, "2007-01-09T09:41:00.123456789Z");
    ASSERT_TIME("2007-01-09T09:41:00.9999999999999999999999999999Z", AH_DATE_ORDER_AUTO,
                "2007-01-09T09:41:00.999999999Z");
    ASSERT_REJECT("2007-01-09T09:41:00.Z", AH_DATE_ORDER_AUTO);
    ASSERT_REJECT("2007-01-09T09:41:00.", AH_DATE_ORDER_AUTO);
    ASSERT_REJECT("2007-01-09T09:41:00.12a", AH_DATE_ORDER_AUTO);
}

static void test_culture_forms(void **state)
{
    (void)state;
    ASSERT_TIME("9/20/2023 4:05:03 AM", AH_DATE_ORDER_AUTO, "2023-09-20T04:05:03.000000000Z");
    ASSERT_TIME("9/20/2023 4:05:03 PM", AH_DATE_ORDER_AUTO, "2023-09-20T16:05:03.000000000Z");
    ASSERT_TIME("1/13/2021 4:05:22 PM", AH_DATE_ORDER_AUTO, "2021-01-13T16:05:22.000000000Z");
    ASSERT_TIME("9/20/2023 4:05:03am", AH_DATE_ORDER_AUTO, "2023-09-20T04:05:03.000000000Z");
    ASSERT_TIME("9/20/2023 16:05", AH_DATE_ORDER_AUTO, "2023-09-20T16:05:00.000000000Z");
    ASSERT_TIME("13.01.2021 16:09:03", AH_DATE_ORDER_AUTO, "2021-01-13T16:09:03.000000000Z");
    ASSERT_TIME("3.1.2021 6:09", AH_DATE_ORDER_AUTO, "2021-01-03T06:09:00.000000000Z");
    /* dotted dates are day-first whatever the order says */
    ASSERT_TIME("3.1.2021 6:09", AH_DATE_ORDER_MDY, "2021-01-03T06:09:00.000000000Z");
    ASSERT_TIME("2021/01/13 16:09:03", AH_DATE_ORDER_AUTO, "2021-01-13T16:09:03.000000000Z");
    ASSERT_TIME("2021/1/3 6:09:03", AH_DATE_ORDER_DMY, "2021-01-03T06:09:03.000000000Z");
    ASSERT_TIME("3/12/2025 7:31:34 AM", AH_DATE_ORDER_DMY, "2025-12-03T07:31:34.000000000Z");
    ASSERT_TIME("3/12/2025 7:31:34 AM", AH_DATE_ORDER_MDY, "2025-03-12T07:31:34.000000000Z");
    ASSERT_TIME("9/20/2023  4:05:03  AM", AH_DATE_ORDER_AUTO, "2023-09-20T04:05:03.000000000Z");
}

static void test_meridiem_edges(void **state)
{
    (void)state;
    ASSERT_TIME("1/13/2021 12:00:00 AM", AH_DATE_ORDER_AUTO, "2021-01-13T00:00:00.000000000Z");
    ASSERT_TIME("1/13/2021 12:59:59 AM", AH_DATE_ORDER_AUTO, "2021-01-13T00:59:59.000000000Z");
    ASSERT_TIME("1/13/2021 12:00:00 PM", AH_DATE_ORDER_AUTO, "2021-01-13T12:00:00.000000000Z");
    ASSERT_TIME("1/13/2021 12:30:00 pm", AH_DATE_ORDER_AUTO, "2021-01-13T12:30:00.000000000Z");
    ASSERT_TIME("1/13/2021 1:00:00 AM", AH_DATE_ORDER_AUTO, "2021-01-13T01:00:00.000000000Z");
    ASSERT_TIME("1/13/2021 11:59:59 PM", AH_DATE_ORDER_AUTO, "2021-01-13T23:59:59.000000000Z");
    ASSERT_REJECT("1/13/2021 0:30:00 AM", AH_DATE_ORDER_AUTO);
    ASSERT_REJECT("1/13/2021 13:00:00 PM", AH_DATE_ORDER_AUTO);
    ASSERT_REJECT("1/13/2021 13:00:00 AM", AH_DATE_ORDER_AUTO);
    ASSERT_REJECT("1/13/2021 1:00:00 XM", AH_DATE_ORDER_AUTO);
    ASSERT_REJECT("1/13/2021 1:00:00 A", AH_DATE_ORDER_AUTO);
    ASSERT_REJECT("1/13/2021 1:00:00 AM AM", AH_DATE_ORDER_AUTO);
    /* AM/PM belongs to slash dates only */
    ASSERT_REJECT("2021-01-13 1:00:00 PM", AH_DATE_ORDER_AUTO);
    ASSERT_REJECT("2021-01-13T01:00:00 PM", AH_DATE_ORDER_AUTO);
    ASSERT_REJECT("13.01.2021 1:00:00 PM", AH_DATE_ORDER_AUTO);
}

static void test_ambiguity(void **state)
{
    (void)state;
    parsed r = parse_with("3/12/2025 7:31:34 AM", AH_DATE_ORDER_AUTO);
    assert_int_equal(r.st, AH_OK);
    assert_string_equal(r.text, "2025-03-12T07:31:34.000000000Z");
    assert_true(r.ambiguous);
    assert_false(r.had_zone);

    r = parse_with("3/12/2025 7:31:34 AM", AH_DATE_ORDER_MDY);
    assert_false(r.ambiguous);
    r = parse_with("3/12/2025 7:31:34 AM", AH_DATE_ORDER_DMY);
    assert_false(r.ambiguous);

    /* same day and month: reads the same either way */
    r = parse_with("1/1/2021 0:00", AH_DATE_ORDER_AUTO);
    assert_int_equal(r.st, AH_OK);
    assert_false(r.ambiguous);

    /* first part > 12 under AUTO: it must be the day */
    r = parse_with("13/1/2021 16:09:03", AH_DATE_ORDER_AUTO);
    assert_int_equal(r.st, AH_OK);
    assert_string_equal(r.text, "2021-01-13T16:09:03.000000000Z");
    assert_false(r.ambiguous);
    ASSERT_TIME("13/1/2021 16:09:03", AH_DATE_ORDER_DMY, "2021-01-13T16:09:03.000000000Z");
    ASSERT_REJECT("13/1/2021 16:09:03", AH_DATE_ORDER_MDY);
    /* second part > 12: month-first, no doubt */
    r = parse_with("1/13/2021 16:09:03", AH_DATE_ORDER_AUTO);
    assert_string_equal(r.text, "2021-01-13T16:09:03.000000000Z");
    assert_false(r.ambiguous);
    ASSERT_REJECT("1/13/2021 16:09:03", AH_DATE_ORDER_DMY);
    ASSERT_REJECT("13/13/2021 16:09:03", AH_DATE_ORDER_AUTO);

    /* ISO and dotted forms are never ambiguous */
    r = parse_with("2021-03-04T00:00:00", AH_DATE_ORDER_AUTO);
    assert_false(r.ambiguous);
    r = parse_with("4.3.2021 00:00", AH_DATE_ORDER_AUTO);
    assert_false(r.ambiguous);
    r = parse_with("2021/03/04 00:00", AH_DATE_ORDER_AUTO);
    assert_false(r.ambiguous);
}

static void test_zone_flag(void **state)
{
    (void)state;
    assert_false(parse_with("2021-01-13T16:05:22", AH_DATE_ORDER_AUTO).had_zone);
    assert_true(parse_with("2021-01-13T16:05:22Z", AH_DATE_ORDER_AUTO).had_zone);
    assert_true(parse_with("2021-01-13T16:05:22+00:00", AH_DATE_ORDER_AUTO).had_zone);
    assert_true(parse_with("2021-01-13 16:05:22 UTC", AH_DATE_ORDER_AUTO).had_zone);
    assert_true(parse_with("1/9/2007 10:41:00 AM +01:00", AH_DATE_ORDER_AUTO).had_zone);
    assert_false(parse_with("1/9/2007 10:41:00 AM", AH_DATE_ORDER_AUTO).had_zone);
}

static void test_calendar_validation(void **state)
{
    (void)state;
    ASSERT_TIME("2020-02-29T00:00:00Z", AH_DATE_ORDER_AUTO, "2020-02-29T00:00:00.000000000Z");
    ASSERT_TIME("2000-02-29T00:00:00Z", AH_DATE_ORDER_AUTO, "2000-02-29T00:00:00.000000000Z");
    ASSERT_REJECT("2021-02-29T00:00:00Z", AH_DATE_ORDER_AUTO);
    ASSERT_REJECT("1900-02-29T00:00:00Z", AH_DATE_ORDER_AUTO);
    ASSERT_REJECT("2/29/2021 1:00 PM", AH_DATE_ORDER_AUTO);
    ASSERT_TIME("2/29/2024 1:00 PM", AH_DATE_ORDER_AUTO, "2024-02-29T13:00:00.000000000Z");
    ASSERT_REJECT("29.02.2023 10:00", AH_DATE_ORDER_AUTO);
    static const struct {
        const char *last_ok, *first_bad;
    } month_ends[] = {
        {"2021-01-31", "2021-01-32"}, {"2021-02-28", "2021-02-29"}, {"2021-03-31", "2021-03-32"},
        {"2021-04-30", "2021-04-31"}, {"2021-05-31", "2021-05-32"}, {"2021-06-30", "2021-06-31"},
        {"2021-07-31", "2021-07-32"}, {"2021-08-31", "2021-08-32"}, {"2021-09-30", "2021-09-31"},
        {"2021-10-31", "2021-10-32"}, {"2021-11-30", "2021-11-31"}, {"2021-12-31", "2021-12-32"},
    };
    for (size_t i = 0; i < AH_ARRAY_LEN(month_ends); i++) {
        assert_int_equal(parse_with(month_ends[i].last_ok, AH_DATE_ORDER_AUTO).st, AH_OK);
        ASSERT_REJECT(month_ends[i].first_bad, AH_DATE_ORDER_AUTO);
    }
    ASSERT_REJECT("2021-00-10", AH_DATE_ORDER_AUTO);
    ASSERT_REJECT("2021-01-00", AH_DATE_ORDER_AUTO);
    ASSERT_REJECT("2021-13-01", AH_DATE_ORDER_AUTO);
    ASSERT_REJECT("2021-01-01T24:00:00", AH_DATE_ORDER_AUTO);
    ASSERT_REJECT("2021-01-01T25:00:00", AH_DATE_ORDER_AUTO);
    ASSERT_REJECT("2021-01-01T23:60:00", AH_DATE_ORDER_AUTO);
    ASSERT_REJECT("2016-12-31T23:59:60Z", AH_DATE_ORDER_AUTO); /* leap second: rejected */
    ASSERT_TIME("2016-12-31T23:59:59Z", AH_DATE_ORDER_AUTO, "2016-12-31T23:59:59.000000000Z");
    /* year range 1601..9999 */
    ASSERT_TIME("1601-01-01T00:00:00Z", AH_DATE_ORDER_AUTO, "1601-01-01T00:00:00.000000000Z");
    ASSERT_TIME("9999-12-31T23:59:59.9999999Z", AH_DATE_ORDER_AUTO, "9999-12-31T23:59:59.999999900Z");
    ASSERT_REJECT("1600-12-31T23:59:59Z", AH_DATE_ORDER_AUTO);
    ASSERT_REJECT("0000-01-01T00:00:00Z", AH_DATE_ORDER_AUTO);
    ASSERT_TIME("1969-12-31T23:59:59.5Z", AH_DATE_ORDER_AUTO, "1969-12-31T23:59:59.500000000Z");
}

static void test_rejects_garbage(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "   ",
        "sanitized",
        "null",
        "<null>",
        "Z",
        "2021",
        "2021-",
        "2021-01",
        "2021-1-01",
        "2021-01-1",
        "21-01-01T00:00:00",
        "02021-01-01T00:00:00",
        "2021-01-01T",
        "2021-01-01T1:00:00",
        "2021-01-01T10",
        "2021-01-01T10:",
        "2021-01-01T10:0",
        "2021-01-01T10:00:",
        "2021-01-01T10:00:0",
        "2021-01-01T10:00:000",
        "2021-01-01T10:00:00Zjunk",
        "2021-01-01T10:00:00 x",
        "2021-01-01T10:00:00 UTCX",
        "2021-01-01T10:00:00 UT",
        "2021-01-01T10:00:00ZZ",
        "2021-01-01T10:00:00Z UTC",
        "2021-01-01T10:00:00+",
        "2021-01-01T10:00:00+1",
        "2021-01-01T10:00:00+01:",
        "2021-01-01T10:00:00+01:0",
        "2021-01-01T10:00:00+24:00",
        "2021-01-01T10:00:00+01:60",
        "2021-01-01T10:00:00+010",
        "2021-01-01T10:00:00+01:00:00",
        "2021-01-01X10:00:00",
        "2021-01-01 UTC",
        "1/9/07 9:41:00 AM",
        "1/9/2007",
        "1/9/2007 9",
        "1/9/2007 9:41:0",
        "123/9/2007 9:41",
        "1//2007 9:41",
        "/9/2007 9:41",
        "1/9/2007 9:41:00 AM junk",
        "1/9/2007T09:41:00",
        "13.01.2021",
        "13.01.21 16:09",
        "13-01-2021 16:09",
        "2021.01.13 16:09",
        "1/9/20071 9:41",
        "-2021-01-01",
        "+2021-01-01",
        "2021-01-01T10:00:00\x01",
        "99999999999999999999-01-01",
        "2021-01-01T99999999999999999999:00:00",
    };
    for (size_t i = 0; i < AH_ARRAY_LEN(bad); i++)
        ASSERT_REJECT(bad[i], AH_DATE_ORDER_AUTO);

    /* embedded NUL: the span goes past it */
    ah_time_parse tp;
    assert_int_equal(ah_time_parse_str(ah_span_make("2021-01-01T10:00:00\0Z", 21), AH_DATE_ORDER_AUTO, &tp),
                     AH_ERR_RECORD);
    assert_int_equal(ah_time_parse_str(AH_SPAN_NULL, AH_DATE_ORDER_AUTO, &tp), AH_ERR_RECORD);
    assert_int_equal(ah_time_parse_str(ah_span_cstr("2021-01-01"), AH_DATE_ORDER_AUTO, NULL), AH_ERR_USAGE);
    /* a span that stops mid-value is judged on its bytes only */
    assert_int_equal(ah_time_parse_str(ah_span_make("2021-01-01T10:00:00Z", 10), AH_DATE_ORDER_AUTO, &tp), AH_OK);
    assert_int_equal(tp.time.sec, 1609459200);
    assert_int_equal(ah_time_parse_str(ah_span_make("2021-01-01T10:00:00Z", 9), AH_DATE_ORDER_AUTO, &tp),
                     AH_ERR_RECORD);
}

static void test_corpus_corner_cases_inline(void **state)
{
    (void)state;
    /* The stubs from the elastic_integrations time-formats-corner-cases logs,
     * inlined so the test runs without the corpus. */
    parsed r = parse_with("01/09/2007 09:41:00", AH_DATE_ORDER_AUTO);
    assert_string_equal(r.text, JAN9);
    assert_true(r.ambiguous);
    ASSERT_TIME("1/9/2007 09:41:00", AH_DATE_ORDER_AUTO, JAN9);
    ASSERT_TIME("01/09/2007 09:41:00 AM", AH_DATE_ORDER_AUTO, JAN9);
    ASSERT_TIME("1/9/2007 9:41:00 AM", AH_DATE_ORDER_AUTO, JAN9);
    ASSERT_TIME("1/9/2007 10:41:00 AM +01:00", AH_DATE_ORDER_AUTO, JAN9);
    ASSERT_TIME("2007-01-09T09:41:00", AH_DATE_ORDER_AUTO, JAN9);
    ASSERT_TIME("2007-01-09T09:41:00.22Z", AH_DATE_ORDER_AUTO, "2007-01-09T09:41:00.220000000Z");
    ASSERT_TIME("2007-01-09T09:41:00.6816663Z", AH_DATE_ORDER_AUTO, "2007-01-09T09:41:00.681666300Z");
    ASSERT_TIME("2007-01-09T09:41:00.535404056Z", AH_DATE_ORDER_AUTO, "2007-01-09T09:41:00.535404056Z");
    ASSERT_TIME("2007-01-09T09:41:00.992099+00:00", AH_DATE_ORDER_AUTO, "2007-01-09T09:41:00.992099000Z");
    ASSERT_TIME("2007-01-09T11:41:00+02:00", AH_DATE_ORDER_AUTO, JAN9);
    /* read day-first, the slash stubs are 1 September */
    ASSERT_TIME("01/09/2007 09:41:00", AH_DATE_ORDER_DMY, "2007-09-01T09:41:00.000000000Z");
}

/* Every "time" value in the corpus corner-case files is 2007-01-09T09:41:00
 * UTC (plus a fraction) when read month-first. */
static void test_corpus_files(void **state)
{
    (void)state;
    static const char *const files[] = {
        "elastic_integrations/azure_signinlogs_test-time-formats-corner-cases.log",
        "elastic_integrations/azure_auditlogs_test-time-formats-corner-cases.log",
    };
    const char *root = getenv("AH_CORPUS");
    if (!root || !*root)
        root = "../shared/corpus";
    int seen = 0;
    for (size_t f = 0; f < AH_ARRAY_LEN(files); f++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", root, files[f]);
        FILE *fp = fopen(path, "r");
        if (!fp) {
            printf("skipped %s: cannot open %s (set AH_CORPUS)\n", files[f], path);
            continue;
        }
        char line[4096];
        while (fgets(line, sizeof line, fp)) {
            const char *key = strstr(line, "\"time\": \"");
            if (!key)
                key = strstr(line, "\"time\":\"");
            if (!key)
                continue;
            const char *v = strchr(key + 6, '"') + 1;
            const char *end = strchr(v, '"');
            assert_non_null(end);
            ah_time_parse tp;
            ah_span value = ah_span_make(v, (size_t)(end - v));
            if (ah_time_parse_str(value, AH_DATE_ORDER_AUTO, &tp) != AH_OK)
                fail_msg("corpus time '%.*s' rejected", (int)value.n, value.p);
            char buf[32];
            ah_time_format_digits(tp.time, 0, buf);
            if (strcmp(buf, "2007-01-09T09:41:00Z") != 0)
                fail_msg("corpus time '%.*s' -> %s", (int)value.n, value.p, buf);
            seen++;
        }
        fclose(fp);
    }
    if (seen == 0) {
        printf("skipped: corpus corner-case files not found under %s\n", root);
        skip();
    }
    assert_int_equal(seen, 22);
}

static void test_civil_conversions(void **state)
{
    (void)state;
    assert_int_equal(ah_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(ah_days_from_civil(1970, 1, 2), 1);
    assert_int_equal(ah_days_from_civil(1969, 12, 31), -1);
    assert_int_equal(ah_days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(ah_days_from_civil(1601, 1, 1), -134774);
    assert_int_equal(ah_days_from_civil(9999, 12, 31), 2932896);
    assert_int_equal(ah_days_from_civil(0, 3, 1), -719468);
    /* every day from 1600 to 2401 round-trips and days are consecutive */
    int64_t expect = ah_days_from_civil(1600, 1, 1);
    for (int64_t y = 1600; y <= 2400; y++) {
        for (unsigned m = 1; m <= 12; m++) {
            static const unsigned char mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
            unsigned last = mdays[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
            for (unsigned d = 1; d <= last; d++) {
                int64_t z = ah_days_from_civil(y, m, d);
                if (z != expect)
                    fail_msg("%lld-%u-%u -> %lld, want %lld", (long long)y, m, d, (long long)z, (long long)expect);
                int64_t yy;
                unsigned mm, dd;
                ah_civil_from_days(z, &yy, &mm, &dd);
                if (yy != y || mm != m || dd != d)
                    fail_msg("round trip %lld-%u-%u -> %lld-%u-%u", (long long)y, m, d, (long long)yy, mm, dd);
                expect++;
            }
        }
    }
    int64_t y;
    unsigned m, d;
    ah_civil_from_days(-719468, &y, &m, &d);
    assert_int_equal(y, 0);
    assert_int_equal(m, 3);
    assert_int_equal(d, 1);
    ah_civil_from_days(-719469, &y, &m, &d);
    assert_int_equal(y, 0);
    assert_int_equal(m, 2);
    assert_int_equal(d, 29);
}

static void test_format(void **state)
{
    (void)state;
    char buf[32];
    ah_time t = {1610553922, 123456789}; /* 2021-01-13T16:05:22.123456789Z */
    assert_string_equal(ah_time_format(t, buf), "2021-01-13T16:05:22.1234567Z");
    assert_ptr_equal(ah_time_format(t, buf), buf);
    assert_string_equal(ah_time_format_digits(t, 0, buf), "2021-01-13T16:05:22Z");
    assert_string_equal(ah_time_format_digits(t, 1, buf), "2021-01-13T16:05:22.1Z");
    assert_string_equal(ah_time_format_digits(t, 3, buf), "2021-01-13T16:05:22.123Z");
    assert_string_equal(ah_time_format_digits(t, 9, buf), "2021-01-13T16:05:22.123456789Z");
    t = (ah_time){0, 0};
    assert_string_equal(ah_time_format(t, buf), "1970-01-01T00:00:00.0000000Z");
    t = (ah_time){-1, 999999999};
    assert_string_equal(ah_time_format(t, buf), "1969-12-31T23:59:59.9999999Z");
    t = (ah_time){ah_days_from_civil(1601, 1, 1) * 86400, 5};
    assert_string_equal(ah_time_format_digits(t, 9, buf), "1601-01-01T00:00:00.000000005Z");
    t = (ah_time){ah_days_from_civil(9999, 12, 31) * 86400 + 86399, 999999999};
    assert_string_equal(ah_time_format_digits(t, 9, buf), "9999-12-31T23:59:59.999999999Z");
    assert_int_equal(strlen(buf), 30);
    /* out-of-range nanoseconds are carried, not printed as garbage */
    t = (ah_time){0, 1500000000};
    assert_string_equal(ah_time_format_digits(t, 1, buf), "1970-01-01T00:00:01.5Z");
    t = (ah_time){0, -1};
    assert_string_equal(ah_time_format_digits(t, 9, buf), "1969-12-31T23:59:59.999999999Z");
    /* absurd instants stay inside the 32-byte buffer */
    memset(buf, 'x', sizeof buf);
    t = (ah_time){INT64_MAX / 2, 999999999};
    ah_time_format_digits(t, 9, buf);
    assert_true(memchr(buf, '\0', sizeof buf) != NULL);
    t = (ah_time){INT64_MIN / 2, 0};
    ah_time_format_digits(t, 9, buf);
    assert_true(memchr(buf, '\0', sizeof buf) != NULL);
    /* instants beyond +-2^50 s print as that bound (no overflow on the way) */
    char bound[AH_TIME_FORMAT_SIZE];
    ah_time_format((ah_time){(int64_t)1 << 50, 0}, bound);
    assert_string_equal(ah_time_format((ah_time){INT64_MAX, 0}, buf), bound);
    ah_time_format((ah_time){-((int64_t)1 << 50), 0}, bound);
    assert_string_equal(ah_time_format((ah_time){INT64_MIN, 0}, buf), bound);
    /* into a buffer of any size: cut to fit, the length returned */
    char small[12];
    assert_int_equal(ah_time_format_n((ah_time){0, 0}, 7, small, sizeof small), 11);
    assert_string_equal(small, "1970-01-01T");
    assert_int_equal(ah_time_format_n((ah_time){0, 0}, 7, buf, sizeof buf), 28);
    /* digits are clamped to 0..9 */
    t = (ah_time){0, 123456789};
    assert_string_equal(ah_time_format_digits(t, 12, buf), "1970-01-01T00:00:00.123456789Z");
    assert_string_equal(ah_time_format_digits(t, -3, buf), "1970-01-01T00:00:00Z");
}

static void test_round_trip_and_cmp(void **state)
{
    (void)state;
    char buf[32];
    ah_time_parse tp;
    const char *s = "2023-07-26T22:58:30.9832019Z";
    assert_int_equal(ah_time_parse_str(ah_span_cstr(s), AH_DATE_ORDER_AUTO, &tp), AH_OK);
    assert_string_equal(ah_time_format(tp.time, buf), s);

    ah_time a = {10, 5}, b = {10, 6}, c = {11, 0};
    assert_int_equal(ah_time_cmp(a, a), 0);
    assert_int_equal(ah_time_cmp(a, b), -1);
    assert_int_equal(ah_time_cmp(b, a), 1);
    assert_int_equal(ah_time_cmp(b, c), -1);
    assert_int_equal(ah_time_cmp(c, a), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_iso_forms),
        cmocka_unit_test(test_fractions),
        cmocka_unit_test(test_culture_forms),
        cmocka_unit_test(test_meridiem_edges),
        cmocka_unit_test(test_ambiguity),
        cmocka_unit_test(test_zone_flag),
        cmocka_unit_test(test_calendar_validation),
        cmocka_unit_test(test_rejects_garbage),
        cmocka_unit_test(test_corpus_corner_cases_inline),
        cmocka_unit_test(test_corpus_files),
        cmocka_unit_test(test_civil_conversions),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_round_trip_and_cmp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
