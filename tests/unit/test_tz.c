/*
 * test_tz.c: the TZif reader, the POSIX TZ footer rules, and the time
 * renderings used by the timeline.
 *
 * Synthetic TZif images are built here byte by byte; real zone files are
 * checked against glibc's localtime_r (this test process may change TZ,
 * the library never does). Those comparisons skip when the system has no
 * zoneinfo.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "analyzer/output/timefmt.h"
#include "analyzer/output/tz.h"

/* ---- building TZif images ---------------------------------------------------- */

typedef struct image {
    unsigned char b[4096];
    size_t n;
} image;

static void put8(image *im, unsigned v) { im->b[im->n++] = (unsigned char)v; }
static void put32(image *im, uint32_t v)
{
    for (int i = 3; i >= 0; i--)
        put8(im, (v >> (8 * i)) & 0xff);
}
static void put64(image *im, int64_t v)
{
    put32(im, (uint32_t)((uint64_t)v >> 32));
    put32(im, (uint32_t)v);
}

typedef struct zone_spec {
    size_t ntrans;
    const int64_t *trans;
    const unsigned char *idx;
    size_t ntypes;
    const int32_t *offs;
    const char *footer; /* NULL: version 1 file */
} zone_spec;

static void header(image *im, char version, const zone_spec *z)
{
    memcpy(im->b + im->n, "TZif", 4);
    im->n += 4;
    put8(im, (unsigned char)version);
    for (int i = 0; i < 15; i++)
        put8(im, 0);
    put32(im, 0); /* isutcnt */
    put32(im, 0); /* isstdcnt */
    put32(im, 0); /* leapcnt */
    put32(im, (uint32_t)z->ntrans);
    put32(im, (uint32_t)z->ntypes);
    put32(im, 4); /* charcnt: "ABC\0" */
}

static void block(image *im, const zone_spec *z, bool wide)
{
    for (size_t i = 0; i < z->ntrans; i++) {
        if (wide)
            put64(im, z->trans[i]);
        else
            put32(im, (uint32_t)(int32_t)z->trans[i]);
    }
    for (size_t i = 0; i < z->ntrans; i++)
        put8(im, z->idx[i]);
    for (size_t i = 0; i < z->ntypes; i++) {
        put32(im, (uint32_t)z->offs[i]);
        put8(im, 0);
        put8(im, 0);
    }
    memcpy(im->b + im->n, "ABC", 4);
    im->n += 4;
}

static void build(image *im, const zone_spec *z)
{
    im->n = 0;
    if (!z->footer) {
        header(im, 0, z);
        block(im, z, false);
        return;
    }
    header(im, '2', z);
    block(im, z, false);
    header(im, '2', z);
    block(im, z, true);
    put8(im, '\n');
    memcpy(im->b + im->n, z->footer, strlen(z->footer));
    im->n += strlen(z->footer);
    put8(im, '\n');
}

static ah_tz *parse_spec(const zone_spec *z)
{
    image im;
    build(&im, z);
    ah_status st;
    ah_tz *tz = ah_tz_parse(im.b, im.n, &st);
    assert_int_equal(st, AH_OK);
    assert_non_null(tz);
    return tz;
}

/* ---- tests ---------------------------------------------------------------------- */

static void test_v1_transitions(void **state)
{
    (void)state;
    static const int64_t trans[] = {1000, 2000};
    static const unsigned char idx[] = {1, 2};
    static const int32_t offs[] = {600, 3600, -7200};
    zone_spec z = {2, trans, idx, 3, offs, NULL};
    ah_tz *tz = parse_spec(&z);
    assert_int_equal(ah_tz_offset(tz, -5000000000LL), 600); /* before the first: type 0 */
    assert_int_equal(ah_tz_offset(tz, 999), 600);
    assert_int_equal(ah_tz_offset(tz, 1000), 3600);
    assert_int_equal(ah_tz_offset(tz, 1999), 3600);
    assert_int_equal(ah_tz_offset(tz, 2000), -7200);
    assert_int_equal(ah_tz_offset(tz, INT64_MAX), -7200); /* no footer: the last one continues */
    ah_tz_free(tz);
    assert_int_equal(ah_tz_offset(NULL, 0), 0);
}

static void test_footer_rules(void **state)
{
    (void)state;
    static const int32_t offs[] = {3600};
    /* A "slim" file: no transitions at all, only the rule. */
    zone_spec z = {0, NULL, NULL, 1, offs, "CET-1CEST,M3.5.0,M10.5.0/3"};
    ah_tz *tz = parse_spec(&z);
    assert_int_equal(ah_tz_offset(tz, 1711846799), 3600); /* 2024-03-31T00:59:59Z */
    assert_int_equal(ah_tz_offset(tz, 1711846800), 7200); /* 01:00Z: 02:00 CET -> 03:00 CEST */
    assert_int_equal(ah_tz_offset(tz, 1729990799), 7200); /* 2024-10-27T00:59:59Z */
    assert_int_equal(ah_tz_offset(tz, 1729990800), 3600);
    assert_int_equal(ah_tz_offset(tz, 1704164645), 3600);                 /* January */
    assert_int_equal(ah_tz_offset(tz, 4102444800LL + 180 * 86400), 7200); /* mid-2100 */
    ah_tz_free(tz);

    /* Southern hemisphere: DST spans the new year. */
    static const int32_t syd[] = {36000};
    zone_spec s = {0, NULL, NULL, 1, syd, "AEST-10AEDT,M10.1.0,M4.1.0/3"};
    tz = parse_spec(&s);
    assert_int_equal(ah_tz_offset(tz, 1704067200), 39600); /* 2024-01-01T00:00Z */
    assert_int_equal(ah_tz_offset(tz, 1719835200), 36000); /* 2024-07-01 */
    assert_int_equal(ah_tz_offset(tz, 1712419199), 39600); /* 2024-04-06T15:59:59Z = 02:59:59 AEDT */
    assert_int_equal(ah_tz_offset(tz, 1712419200), 36000); /* 03:00 AEDT -> 02:00 AEST */
    assert_int_equal(ah_tz_offset(tz, 1728143999), 36000); /* 2024-10-05T15:59:59Z */
    assert_int_equal(ah_tz_offset(tz, 1728144000), 39600); /* 2024-10-06 02:00 AEST -> 03:00 AEDT */
    ah_tz_free(tz);

    /* Quoted names, fractional hours, no DST. */
    static const int32_t ind[] = {0};
    zone_spec k = {0, NULL, NULL, 1, ind, "<+0530>-5:30"};
    tz = parse_spec(&k);
    assert_int_equal(ah_tz_offset(tz, 0), 19800);
    ah_tz_free(tz);

    /* Julian day forms: J60 is always 1 March; 59 (0-based) is 29 Feb in a leap year. */
    static const int32_t jul[] = {0};
    zone_spec j = {0, NULL, NULL, 1, jul, "XST0XDT,J60/0,59/0"};
    tz = parse_spec(&j);
    /* start 2024-03-01 00:00 standard; end day 59 = 2024-02-29 00:00 local DST: end < start, DST outside */
    assert_int_equal(ah_tz_offset(tz, 1709164800 - 3600 - 1), 3600); /* 2024-02-28T22:59:59Z */
    assert_int_equal(ah_tz_offset(tz, 1709164800 - 3600), 0);        /* 2024-02-28T23:00Z = 29 Feb 00:00 XDT */
    assert_int_equal(ah_tz_offset(tz, 1709251200 - 1), 0);           /* 2024-02-29T23:59:59Z */
    assert_int_equal(ah_tz_offset(tz, 1709251200), 3600);            /* 2024-03-01T00:00Z */
    ah_tz_free(tz);
}

static void test_footer_after_last_transition(void **state)
{
    (void)state;
    static const int64_t trans[] = {0};
    static const unsigned char idx[] = {1};
    static const int32_t offs[] = {-18000, -14400};
    /* Before the last transition the table rules; after it, the footer. */
    zone_spec z = {1, trans, idx, 2, offs, "EST5EDT,M3.2.0,M11.1.0"};
    ah_tz *tz = parse_spec(&z);
    assert_int_equal(ah_tz_offset(tz, -1), -18000);
    assert_int_equal(ah_tz_offset(tz, 1704164645), -18000); /* January 2024: EST */
    assert_int_equal(ah_tz_offset(tz, 1719835200), -14400); /* July 2024: EDT */
    ah_tz_free(tz);

    /* An unusable footer is ignored: the last offset continues. */
    static const char *const bad[] = {"",
                                      "EST",
                                      "EST5EDT",
                                      "EST5EDT,M3.2.0",
                                      "EST5EDT,M13.1.0,M11.1.0",
                                      "EST5EDT,M3.6.0,M11.1.0",
                                      "EST5EDT,J0,J100",
                                      "<EST5",
                                      "EST5EDT,M3.2.0/200,M11.1.0",
                                      "E5",
                                      "EST5EDT,M3.2.0,M11.1.0x"};
    for (size_t i = 0; i < AH_ARRAY_LEN(bad); i++) {
        zone_spec b = {1, trans, idx, 2, offs, bad[i]};
        tz = parse_spec(&b);
        assert_int_equal(ah_tz_offset(tz, 1704164645), -14400);
        ah_tz_free(tz);
    }
    /* A zone without DST in its rule: the standard offset, all year. */
    zone_spec std_only = {1, trans, idx, 2, offs, "EST5"};
    tz = parse_spec(&std_only);
    assert_int_equal(ah_tz_offset(tz, 1719835200), -18000);
    ah_tz_free(tz);
}

static void test_malformed(void **state)
{
    (void)state;
    static const int64_t trans[] = {100, 200, 300};
    static const unsigned char idx[] = {0, 1, 0};
    static const int32_t offs[] = {0, 3600};
    zone_spec z = {3, trans, idx, 2, offs, "CET-1CEST,M3.5.0,M10.5.0/3"};
    image im;
    build(&im, &z);
    ah_status st;
    /* Every truncation either fails cleanly or parses (the footer is optional). */
    for (size_t n = 0; n < im.n; n++) {
        ah_tz *tz = ah_tz_parse(im.b, n, &st);
        if (tz) {
            assert_int_equal(st, AH_OK);
            assert_true(n >= im.n - strlen(z.footer) - 2);
            ah_tz_free(tz);
        } else {
            assert_int_equal(st, AH_ERR_RECORD);
        }
    }
    /* Every single-byte corruption: no crash, no leak (ASan), a clean status. */
    for (size_t i = 0; i < im.n; i++) {
        image c = im;
        c.b[i] ^= 0xA5;
        ah_tz *tz = ah_tz_parse(c.b, c.n, &st);
        assert_true(tz ? st == AH_OK : st == AH_ERR_RECORD);
        if (tz)
            (void)ah_tz_offset(tz, 250);
        ah_tz_free(tz);
    }
    /* specific defects */
    image bad = im;
    memcpy(bad.b, "TZiF", 4);
    assert_null(ah_tz_parse(bad.b, bad.n, &st));
    static const int64_t unordered[] = {100, 100, 300};
    zone_spec u = {3, unordered, idx, 2, offs, ""};
    build(&bad, &u);
    assert_null(ah_tz_parse(bad.b, bad.n, &st));
    static const unsigned char wild[] = {0, 2, 0}; /* type index out of range */
    zone_spec w = {3, trans, wild, 2, offs, ""};
    build(&bad, &w);
    assert_null(ah_tz_parse(bad.b, bad.n, &st));
    zone_spec none = {0, NULL, NULL, 0, offs, NULL}; /* no time types */
    build(&bad, &none);
    assert_null(ah_tz_parse(bad.b, bad.n, &st));
    static const int32_t huge_off[] = {200000};
    zone_spec h = {0, NULL, NULL, 1, huge_off, NULL};
    build(&bad, &h);
    assert_null(ah_tz_parse(bad.b, bad.n, &st));
    /* huge counts must not overflow the size arithmetic */
    build(&bad, &z);
    for (int field = 0; field < 6; field++) {
        image c = bad;
        memset(c.b + 20 + 4 * field, 0xff, 4);
        assert_null(ah_tz_parse(c.b, c.n, &st));
        assert_int_equal(st, AH_ERR_RECORD);
    }
    /* leap-second files are refused */
    image leap = bad;
    leap.b[31] = 1;
    assert_null(ah_tz_parse(leap.b, leap.n, &st));
    assert_null(ah_tz_parse(NULL, 0, &st));
}

static void test_names(void **state)
{
    (void)state;
    static const char *const good[] = {"UTC",        "Europe/Berlin", "America/Argentina/Buenos_Aires", "Etc/GMT+5",
                                       "Etc/GMT-14", "posixrules",    "America/Port-au-Prince",         "a.b"};
    static const char *const bad[] = {
        "",        "/etc/localtime", "../etc/passwd", "Europe/../../x", "Europe//Berlin", "Europe/",
        ".hidden", "Europe/.x",      "a b",           "a\\b",           "Zone\n",         NULL};
    for (size_t i = 0; i < AH_ARRAY_LEN(good); i++)
        assert_true(ah_tz_name_valid(good[i]));
    for (size_t i = 0; i < AH_ARRAY_LEN(bad); i++)
        assert_false(ah_tz_name_valid(bad[i]));
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_false(ah_tz_name_valid(longname));
}

static void test_load_builtin_and_errors(void **state)
{
    (void)state;
    ah_diag diag = {0};
    ah_status st;
    ah_tz *tz = ah_tz_load("UTC", "/nonexistent-zoneinfo", &diag, &st);
    assert_non_null(tz);
    assert_int_equal(st, AH_OK);
    assert_int_equal(ah_tz_offset(tz, 1719835200), 0);
    ah_tz_free(tz);
    assert_null(ah_tz_load("Europe/Berlin", "/nonexistent-zoneinfo", &diag, &st));
    assert_int_equal(st, AH_ERR_USAGE);
    assert_null(ah_tz_load("../../etc/passwd", NULL, &diag, &st));
    assert_int_equal(st, AH_ERR_USAGE);
    assert_int_equal(diag.count[AH_SEV_ERROR], 2);
    if (access("/usr/share/zoneinfo/zone.tab", R_OK) == 0) {
        assert_null(ah_tz_load("zone.tab", "/usr/share/zoneinfo", &diag, &st)); /* not TZif */
        assert_int_equal(st, AH_ERR_USAGE);
    }
    if (access("/usr/share/zoneinfo/Europe", R_OK) == 0) {
        assert_null(ah_tz_load("Europe", "/usr/share/zoneinfo", &diag, &st)); /* a directory */
        assert_int_equal(st, AH_ERR_USAGE);
    }
}

/* Real zone files agree with glibc over two centuries, including past 2037
 * (where fat files end and the footer rule takes over). */
static void test_against_libc(void **state)
{
    (void)state;
    static const char *const zones[] = {"Europe/Berlin",     "America/New_York", "Australia/Sydney",  "Asia/Kolkata",
                                        "America/Sao_Paulo", "Pacific/Chatham",  "Africa/Casablanca", "Europe/Dublin",
                                        "America/St_Johns",  "Asia/Tehran"};
    if (access("/usr/share/zoneinfo/Europe/Berlin", R_OK) != 0) {
        print_message("skipped: no /usr/share/zoneinfo\n");
        skip();
    }
    char *old_tz = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
    size_t checked = 0;
    for (size_t z = 0; z < AH_ARRAY_LEN(zones); z++) {
        char path[256];
        snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", zones[z]);
        if (access(path, R_OK) != 0)
            continue;
        ah_status st;
        ah_tz *tz = ah_tz_load(zones[z], "/usr/share/zoneinfo", NULL, &st);
        assert_non_null(tz);
        setenv("TZ", zones[z], 1);
        tzset();
        /* 1901-12-14 .. 2100: a prime step hits every hour of day and season */
        for (int64_t t = -2147483000LL; t < 4102444800LL; t += 7919 * 61) {
            time_t tt = (time_t)t;
            struct tm tm;
            assert_non_null(localtime_r(&tt, &tm));
            if (ah_tz_offset(tz, t) != tm.tm_gmtoff)
                fail_msg("%s at %lld: ours %d, libc %ld", zones[z], (long long)t, ah_tz_offset(tz, t), tm.tm_gmtoff);
            checked++;
        }
        /* and exactly around each DST change of 2024 and 2045 */
        for (int64_t t = 1704067200; t < 1735689600; t += 1800) {
            for (int64_t shift = 0; shift <= 662695200; shift += 662695200) { /* + 21 years */
                time_t tt = (time_t)(t + shift);
                struct tm tm;
                localtime_r(&tt, &tm);
                if (ah_tz_offset(tz, t + shift) != tm.tm_gmtoff)
                    fail_msg("%s at %lld: ours %d, libc %ld", zones[z], (long long)(t + shift),
                             ah_tz_offset(tz, t + shift), tm.tm_gmtoff);
            }
        }
        ah_tz_free(tz);
    }
    if (old_tz) {
        setenv("TZ", old_tz, 1);
        free(old_tz);
    } else {
        unsetenv("TZ");
    }
    tzset();
    assert_true(checked > 1000);
}

static void test_timefmt(void **state)
{
    (void)state;
    char buf[AH_TIMEFMT_SIZE];
    assert_int_equal(ah_timefmt_utc((ah_time){1704164645, 123456789}, buf), 28);
    assert_string_equal(buf, "2024-01-02T03:04:05.1234567Z");
    ah_timefmt_utc((ah_time){0, 0}, buf);
    assert_string_equal(buf, "1970-01-01T00:00:00.0000000Z");
    ah_timefmt_utc((ah_time){-11644473600LL, 100}, buf);
    assert_string_equal(buf, "1601-01-01T00:00:00.0000001Z");
    ah_timefmt_utc((ah_time){253402300799LL, 999999999}, buf);
    assert_string_equal(buf, "9999-12-31T23:59:59.9999999Z");
    ah_timefmt_utc((ah_time){951782400, 0}, buf); /* leap day */
    assert_string_equal(buf, "2000-02-29T00:00:00.0000000Z");
    /* out-of-range nsec is normalised, not printed raw */
    ah_timefmt_utc((ah_time){10, -1}, buf);
    assert_string_equal(buf, "1970-01-01T00:00:09.9999999Z");
    ah_timefmt_utc((ah_time){10, 2000000000}, buf);
    assert_string_equal(buf, "1970-01-01T00:00:12.0000000Z");
    /* hostile extremes: no overflow, something printable */
    assert_true(ah_timefmt_utc((ah_time){INT64_MAX, INT32_MAX}, buf) > 0);
    assert_true(ah_timefmt_offset((ah_time){INT64_MIN, INT32_MIN}, -89999, buf) > 0);

    assert_int_equal(ah_timefmt_excel((ah_time){1704164645, 999999999}, buf), 19);
    assert_string_equal(buf, "2024-01-02 03:04:05");

    ah_timefmt_offset((ah_time){1719835200, 0}, 7200, buf);
    assert_string_equal(buf, "2024-07-01T14:00:00.0000000+02:00");
    ah_timefmt_offset((ah_time){1704067200, 0}, -12600, buf); /* -03:30 crosses midnight backwards */
    assert_string_equal(buf, "2023-12-31T20:30:00.0000000-03:30");
    ah_timefmt_offset((ah_time){-2524521600LL, 0}, 3208, buf); /* LMT +00:53:28 */
    assert_string_equal(buf, "1890-01-01T00:53:28.0000000+00:53:28");
    ah_timefmt_offset((ah_time){0, 0}, 0, buf);
    assert_string_equal(buf, "1970-01-01T00:00:00.0000000+00:00");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v1_transitions),
        cmocka_unit_test(test_footer_rules),
        cmocka_unit_test(test_footer_after_last_transition),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_load_builtin_and_errors),
        cmocka_unit_test(test_against_libc),
        cmocka_unit_test(test_timefmt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
