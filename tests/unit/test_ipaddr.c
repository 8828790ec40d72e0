/* Tests for parsers/formats/ipaddr.c: normalizing client-address cells,
 * strict IPv4/IPv6 parsing, CIDR parsing and prefix membership. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/formats/ipaddr.h"

/* Normalize s; returns the result as a C string in buf, or NULL. */
static const char *norm(const char *s, char *buf, size_t size)
{
    ah_span out = {(const char *)0x1, 12345}; /* poison */
    if (!ah_ip_normalize(ah_span_cstr(s), &out))
        return NULL;
    assert_true(out.n < size);
    /* the result is a sub-span of the input */
    assert_true(out.p >= s && out.p + out.n <= s + strlen(s));
    memcpy(buf, out.p, out.n);
    buf[out.n] = '\0';
    return buf;
}

#define ASSERT_NORM(s, want)                                                                                           \
    do {                                                                                                               \
        char b_[128];                                                                                                  \
        const char *got_ = norm((s), b_, sizeof b_);                                                                   \
        if (!got_)                                                                                                     \
            fail_msg("normalize('%s') failed, want '%s'", (s), (want));                                                \
        if (strcmp(got_, (want)) != 0)                                                                                 \
            fail_msg("normalize('%s') = '%s', want '%s'", (s), got_, (want));                                          \
    } while (0)

#define ASSERT_NORM_FAILS(s)                                                                                           \
    do {                                                                                                               \
        char b_[128];                                                                                                  \
        const char *got_ = norm((s), b_, sizeof b_);                                                                   \
        if (got_)                                                                                                      \
            fail_msg("normalize('%s') = '%s', want failure", (s), got_);                                               \
    } while (0)

static ah_ip parse_ok(const char *s)
{
    ah_ip ip;
    if (!ah_ip_parse(ah_span_cstr(s), &ip))
        fail_msg("parse('%s') failed", s);
    return ip;
}

static void assert_bytes(const ah_ip *ip, const uint8_t want[16], const char *what)
{
    if (memcmp(ip->bytes, want, 16) != 0) {
        char got[64] = "", exp[64] = "";
        for (int i = 0; i < 16; i++) {
            snprintf(got + 2 * i, 3, "%02x", ip->bytes[i]);
            snprintf(exp + 2 * i, 3, "%02x", want[i]);
        }
        fail_msg("%s: bytes %s, want %s", what, got, exp);
    }
}

static void test_normalize_forms(void **state)
{
    (void)state;
    ASSERT_NORM("1.2.3.4", "1.2.3.4");
    ASSERT_NORM("1.2.3.4:51234", "1.2.3.4");
    ASSERT_NORM("1.2.3.4:0", "1.2.3.4");
    ASSERT_NORM("1.2.3.4:65535", "1.2.3.4");
    ASSERT_NORM("[1.2.3.4]", "1.2.3.4");
    ASSERT_NORM("[1.2.3.4]:443", "1.2.3.4");
    ASSERT_NORM("[2001:db8::1]:443", "2001:db8::1");
    ASSERT_NORM("[2001:db8::1]", "2001:db8::1");
    ASSERT_NORM("2001:db8::1", "2001:db8::1");
    ASSERT_NORM("2001:db8::443", "2001:db8::443"); /* the last group is not a port */
    ASSERT_NORM("2001:db8:0:0:0:0:2:1", "2001:db8:0:0:0:0:2:1");
    ASSERT_NORM("2001:DB8::A", "2001:DB8::A"); /* verbatim: a sub-span cannot be folded */
    ASSERT_NORM("::ffff:1.2.3.4", "::ffff:1.2.3.4");
    ASSERT_NORM("[::ffff:1.2.3.4]:80", "::ffff:1.2.3.4");
    ASSERT_NORM("::1", "::1");
    ASSERT_NORM("::", "::");
    ASSERT_NORM("0.0.0.0", "0.0.0.0");
    ASSERT_NORM("  1.2.3.4:10736 ", "1.2.3.4");
    ASSERT_NORM("\t2603:10b6:5:1f4:cafe::28\r\n", "2603:10b6:5:1f4:cafe::28");
    ASSERT_NORM("2a02:cf40:add:4002:91f2:a9b2:e09a:6fc6", "2a02:cf40:add:4002:91f2:a9b2:e09a:6fc6");
    /* zone ids are stripped */
    ASSERT_NORM("fe80::1%eth0", "fe80::1");
    ASSERT_NORM("[fe80::1%25eth0]:8080", "fe80::1");
    ASSERT_NORM("fe80::1%12", "fe80::1");
}

static void test_normalize_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        " ",
        "null",
        "<null>",
        "sanitized",
        "-",
        "N/A",
        "localhost",
        "::2a02:cf40:add:4002:91f2:a9b2:e09a:6fc6",
        "1.2.3",
        "1.2.3.4.5",
        "256.1.1.1",
        "1.2.3.04",
        "01.2.3.4",
        "1.2.3.4:",
        "1.2.3.4:65536",
        "1.2.3.4:99999",
        "1.2.3.4:080",
        "1.2.3.4:-1",
        "1.2.3.4:80:80",
        "1.2.3.4 :80",
        "1.2.3.4: 80",
        "[1.2.3.4",
        "1.2.3.4]",
        "[1.2.3.4]:",
        "[1.2.3.4]443",
        "[1.2.3.4]:x",
        "[]",
        "[]:80",
        "[2001:db8::1]:443:1",
        "[[2001:db8::1]]",
        "[2001:db8::1]]",
        "2001:db8::1]",
        "[2001:db8::1%]",
        "fe80::1%",
        "fe80::1%a%b",
        "fe80::1%a]",
        "1.2.3.4%eth0",
        "[1.2.3.4%eth0]",
        "2001:db8::g",
        "2001:db8:::1",
        "2001::db8::1",
        "12345::1",
        ":1::",
        "1::2:",
        ":",
        "1:2:3:4:5:6:7:8:9",
        "1:2:3:4:5:6:7",
        "1:2:3:4:5:6:7:8::",
        "::1:2:3:4:5:6:7:8",
        "abc:80",
        "host:80",
        "1.2.3.4.",
        ".1.2.3.4",
        "1..2.3",
        "1.2.3.4 5",
        "1.2.3.4\x01",
    };
    for (size_t i = 0; i < AH_ARRAY_LEN(bad); i++)
        ASSERT_NORM_FAILS(bad[i]);

    ah_span out;
    assert_false(ah_ip_normalize(AH_SPAN_NULL, &out));
    /* embedded NUL */
    assert_false(ah_ip_normalize(ah_span_make("1.2.3.4\0:80", 11), &out));
    /* a span shorter than the C string is judged on its bytes only */
    assert_true(ah_ip_normalize(ah_span_make("1.2.3.4:80", 7), &out));
    assert_int_equal(out.n, 7);
    assert_false(ah_ip_normalize(ah_span_make("1.2.3.4:80", 8), &out));
}

static void test_parse_v4(void **state)
{
    (void)state;
    ah_ip ip = parse_ok("1.2.3.4");
    static const uint8_t want[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4};
    assert_bytes(&ip, want, "1.2.3.4");
    assert_true(ip.v4);

    ip = parse_ok("255.255.255.255");
    static const uint8_t bcast[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 255, 255, 255, 255};
    assert_bytes(&ip, bcast, "broadcast");
    ip = parse_ok("0.0.0.0");
    static const uint8_t any[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0};
    assert_bytes(&ip, any, "any");
    assert_true(ip.v4);

    /* the mapped spelling parses to the same bytes and is v4 */
    ah_ip mapped = parse_ok("::ffff:1.2.3.4");
    assert_bytes(&mapped, want, "::ffff:1.2.3.4");
    assert_true(mapped.v4);
    mapped = parse_ok("::FFFF:0102:0304");
    assert_bytes(&mapped, want, "::FFFF:0102:0304");
    assert_true(mapped.v4);
    mapped = parse_ok("0:0:0:0:0:ffff:1.2.3.4");
    assert_bytes(&mapped, want, "full mapped");

    static const char *const bad[] = {
        "",         "1",          "1.2",       "1.2.3",    "1.2.3.4.5", "256.0.0.0",  "0.0.0.256", "1000.1.1.1",
        "01.1.1.1", "1.1.1.00",   "010.0.0.1", "-1.2.3.4", "+1.2.3.4",  "1.2.3.a",    "0x1.2.3.4", " 1.2.3.4",
        "1.2.3.4 ", "1.2.3.4:80", "[1.2.3.4]", "1..3.4",   "1.2.3.",    "4294967296",
    };
    ah_ip out;
    for (size_t i = 0; i < AH_ARRAY_LEN(bad); i++)
        if (ah_ip_parse(ah_span_cstr(bad[i]), &out))
            fail_msg("parse('%s') accepted", bad[i]);
}

static void test_parse_v6(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        uint8_t bytes[16];
    } cases[] = {
        {"::", {0}},
        {"::1", {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}},
        {"1::", {0, 1}},
        {"2001:db8::1", {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}},
        {"2001:DB8::1", {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}},
        {"1:2:3:4:5:6:7:8", {0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8}},
        {"1::8", {0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8}},
        {"1:2:3:4:5:6::8", {0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 0, 0, 8}},
        {"1:2:3:4:5:6:7::", {0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0}},
        {"::2:3:4:5:6:7:8", {0, 0, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8}},
        {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
         {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
        {"0001:0002::000f", {0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0f}},
        {"2603:10b6:5:1f4:cafe::28", {0x26, 0x03, 0x10, 0xb6, 0, 5, 0x01, 0xf4, 0xca, 0xfe, 0, 0, 0, 0, 0, 0x28}},
        {"::1.2.3.4", {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}},
        {"64:ff9b::192.0.2.33", {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, 192, 0, 2, 33}},
        {"1:2:3:4:5:6:1.2.3.4", {0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 1, 2, 3, 4}},
        {"1:2:3:4:5::1.2.3.4", {0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 0, 1, 2, 3, 4}},
    };
    for (size_t i = 0; i < AH_ARRAY_LEN(cases); i++) {
        ah_ip ip = parse_ok(cases[i].text);
        assert_bytes(&ip, cases[i].bytes, cases[i].text);
        assert_false(ip.v4);
    }

    static const char *const bad[] = {
        ":",
        ":::",
        "1:",
        ":1",
        "1:2",
        "1::2::3",
        "1:::2",
        "12345::",
        "g::",
        "1:2:3:4:5:6:7:8:9",
        "1:2:3:4:5:6:7",
        "1:2:3:4:5:6:7:8::",
        "::1:2:3:4:5:6:7:8",
        "1::2:3:4:5:6:7:8",
        "::2a02:cf40:add:4002:91f2:a9b2:e09a:6fc6",
        "1:2:3:4:5:6:7:1.2.3.4",
        "::1.2.3",
        "::1.2.3.4.5",
        "::256.1.1.1",
        "::01.2.3.4",
        "::1.2.3.4:1",
        "1.2.3.4::",
        "::ffff:1.2.3.4/96",
        "fe80::1%eth0",
        "[::1]",
        "::1 ",
        " ::1",
        "::-1",
        "::+1",
        "1::2:",
        "::1234.1.1.1",
    };
    ah_ip out;
    for (size_t i = 0; i < AH_ARRAY_LEN(bad); i++)
        if (ah_ip_parse(ah_span_cstr(bad[i]), &out))
            fail_msg("parse('%s') accepted", bad[i]);
    assert_false(ah_ip_parse(AH_SPAN_NULL, &out));
}

static void test_cidr(void **state)
{
    (void)state;
    ah_ip net;
    unsigned len = 999;

    assert_true(ah_cidr_parse(ah_span_cstr("10.0.0.0/8"), &net, &len));
    assert_int_equal(len, 104);
    assert_true(net.v4);
    static const uint8_t ten[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 0};
    assert_bytes(&net, ten, "10.0.0.0/8");

    /* host bits are masked */
    assert_true(ah_cidr_parse(ah_span_cstr("10.1.2.3/8"), &net, &len));
    assert_bytes(&net, ten, "10.1.2.3/8");
    assert_int_equal(len, 104);

    assert_true(ah_cidr_parse(ah_span_cstr("1.2.3.4"), &net, &len));
    assert_int_equal(len, 128);
    assert_true(ah_cidr_parse(ah_span_cstr("1.2.3.4/32"), &net, &len));
    assert_int_equal(len, 128);
    assert_true(ah_cidr_parse(ah_span_cstr("0.0.0.0/0"), &net, &len));
    assert_int_equal(len, 96);
    static const uint8_t v4any[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0};
    assert_bytes(&net, v4any, "0.0.0.0/0");
    assert_true(ah_cidr_parse(ah_span_cstr("192.168.1.255/23"), &net, &len));
    static const uint8_t n23[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 0, 0};
    assert_bytes(&net, n23, "192.168.1.255/23");
    assert_int_equal(len, 119);

    assert_true(ah_cidr_parse(ah_span_cstr("2001:db8::/32"), &net, &len));
    assert_int_equal(len, 32);
    assert_false(net.v4);
    static const uint8_t db8[16] = {0x20, 0x01, 0x0d, 0xb8};
    assert_bytes(&net, db8, "2001:db8::/32");
    assert_true(ah_cidr_parse(ah_span_cstr("2001:db8:ffff::1/33"), &net, &len));
    static const uint8_t db8_33[16] = {0x20, 0x01, 0x0d, 0xb8, 0x80};
    assert_bytes(&net, db8_33, "2001:db8:ffff::1/33");
    assert_true(ah_cidr_parse(ah_span_cstr("::/0"), &net, &len));
    assert_int_equal(len, 0);
    static const uint8_t zero[16] = {0};
    assert_bytes(&net, zero, "::/0");
    assert_true(ah_cidr_parse(ah_span_cstr("::1"), &net, &len));
    assert_int_equal(len, 128);
    assert_true(ah_cidr_parse(ah_span_cstr("::1/128"), &net, &len));
    assert_int_equal(len, 128);
    /* a v6-spelled mapped net keeps its length as written */
    assert_true(ah_cidr_parse(ah_span_cstr("::ffff:10.0.0.0/104"), &net, &len));
    assert_int_equal(len, 104);
    assert_bytes(&net, ten, "::ffff:10.0.0.0/104");
    assert_true(net.v4);

    static const char *const bad[] = {
        "",
        "/8",
        "10.0.0.0/",
        "10.0.0.0/33",
        "10.0.0.0/-1",
        "10.0.0.0/08",
        "10.0.0.0/8/8",
        "10.0.0.0/8 ",
        "10.0.0.0/ 8",
        "10.0.0.0/a",
        "10.0.0/8",
        "2001:db8::/129",
        "2001:db8::/1000",
        "2001:db8::/0128",
        "fe80::%eth0/64",
        "[2001:db8::]/32",
        "sanitized",
        "10.0.0.0/4294967304",
    };
    for (size_t i = 0; i < AH_ARRAY_LEN(bad); i++)
        if (ah_cidr_parse(ah_span_cstr(bad[i]), &net, &len))
            fail_msg("cidr('%s') accepted", bad[i]);
}

static bool in(const char *ip_text, const char *cidr)
{
    ah_ip ip, net;
    unsigned len;
    if (!ah_ip_parse(ah_span_cstr(ip_text), &ip))
        fail_msg("parse('%s') failed", ip_text);
    if (!ah_cidr_parse(ah_span_cstr(cidr), &net, &len))
        fail_msg("cidr('%s') failed", cidr);
    return ah_ip_in_prefix(&ip, &net, len);
}

static void test_in_prefix(void **state)
{
    (void)state;
    assert_true(in("10.1.2.3", "10.0.0.0/8"));
    assert_true(in("10.255.255.255", "10.0.0.0/8"));
    assert_false(in("11.0.0.0", "10.0.0.0/8"));
    assert_false(in("9.255.255.255", "10.0.0.0/8"));
    assert_true(in("192.168.1.7", "192.168.0.0/23"));
    assert_false(in("192.168.2.0", "192.168.0.0/23"));
    assert_true(in("1.2.3.4", "1.2.3.4"));
    assert_true(in("1.2.3.4", "1.2.3.4/32"));
    assert_false(in("1.2.3.5", "1.2.3.4/32"));
    assert_true(in("1.2.3.5", "1.2.3.4/31"));
    assert_true(in("203.0.113.50", "0.0.0.0/0"));
    assert_false(in("2001:db8::1", "0.0.0.0/0")); /* v4 any is only the mapped space */
    assert_true(in("2001:db8::1", "::/0"));
    assert_true(in("1.2.3.4", "::/0"));
    assert_true(in("2001:db8:1::1", "2001:db8::/32"));
    assert_false(in("2001:db9::1", "2001:db8::/32"));
    assert_true(in("2001:db8:7fff::1", "2001:db8::/33"));
    assert_false(in("2001:db8:8000::1", "2001:db8::/33"));
    assert_true(in("::1", "::1/128"));
    assert_false(in("::2", "::1/128"));
    assert_true(in("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127"));
    /* v4 inside a v6-written mapped net, and mapped spelling inside a v4 net */
    assert_true(in("10.1.2.3", "::ffff:10.0.0.0/104"));
    assert_true(in("10.1.2.3", "::ffff:0:0/96"));
    assert_true(in("::ffff:10.1.2.3", "10.0.0.0/8"));
    assert_false(in("::10.1.2.3", "10.0.0.0/8")); /* IPv4-compatible is not mapped */

    ah_ip a = parse_ok("1.2.3.4"), b = parse_ok("1.2.3.4");
    assert_true(ah_ip_in_prefix(&a, &b, 128));
    assert_true(ah_ip_in_prefix(&a, &b, 0));
    assert_false(ah_ip_in_prefix(&a, &b, 129));
    assert_false(ah_ip_in_prefix(NULL, &b, 0));
    assert_false(ah_ip_in_prefix(&a, NULL, 0));
}

/* Every address-ish value in the corpus either normalizes or is a known
 * placeholder; the malformed 9-group value must not. */
static void test_corpus_values(void **state)
{
    (void)state;
    static const struct {
        const char *file, *needle, *want; /* want NULL: must fail */
    } cases[] = {
        {"elastic_integrations/azure_auditlogs_test-audit-logs-edgecases.log",
         "::2a02:cf40:add:4002:91f2:a9b2:e09a:6fc6", NULL},
        {"panther_analysis/o365_mgmt_api.jsonl", "1.2.3.4:10736", "1.2.3.4"},
    };
    const char *root = getenv("AH_CORPUS");
    if (!root || !*root)
        root = "../shared/corpus";
    int found = 0;
    for (size_t i = 0; i < AH_ARRAY_LEN(cases); i++) {
        char path[1024], line[65536];
        snprintf(path, sizeof path, "%s/%s", root, cases[i].file);
        FILE *fp = fopen(path, "r");
        if (!fp) {
            printf("skipped %s: cannot open %s (set AH_CORPUS)\n", cases[i].file, path);
            continue;
        }
        bool hit = false;
        while (!hit && fgets(line, sizeof line, fp)) {
            char *p = strstr(line, cases[i].needle);
            if (!p || p[-1] != '"')
                continue;
            char *end = strchr(p, '"');
            assert_non_null(end);
            ah_span out;
            bool ok = ah_ip_normalize(ah_span_make(p, (size_t)(end - p)), &out);
            if (cases[i].want) {
                assert_true(ok);
                assert_int_equal(out.n, strlen(cases[i].want));
                assert_memory_equal(out.p, cases[i].want, out.n);
            } else {
                assert_false(ok);
            }
            hit = true;
        }
        fclose(fp);
        if (!hit)
            fail_msg("value '%s' not found in %s", cases[i].needle, cases[i].file);
        found++;
    }
    if (found == 0) {
        printf("skipped: corpus not found under %s\n", root);
        skip();
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalize_forms),
        cmocka_unit_test(test_normalize_rejects),
        cmocka_unit_test(test_parse_v4),
        cmocka_unit_test(test_parse_v6),
        cmocka_unit_test(test_cidr),
        cmocka_unit_test(test_in_prefix),
        cmocka_unit_test(test_corpus_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
