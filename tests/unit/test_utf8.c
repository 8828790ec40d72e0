/*
 * test_utf8.c: the shared UTF-8 helpers (parsers/util/utf8.h). The checker
 * is compared with a reference built from the code point rules over every
 * 1- and 2-byte input and every 3- and 4-byte input whose later bytes are
 * drawn from the boundary values; the encoder round-trips every scalar.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <string.h>

#include "parsers/util/utf8.h"

/* Reference: the length a lead byte announces (0: never a lead). */
static int ref_len(unsigned char c)
{
    if (c < 0x80)
        return 1;
    if (c >= 0xC0 && c < 0xE0)
        return 2;
    if (c >= 0xE0 && c < 0xF0)
        return 3;
    if (c >= 0xF0 && c < 0xF8)
        return 4;
    return 0;
}

/* Reference: could p[0..n) begin a well-formed sequence? Decides by trying
 * every completion with continuation bytes 0x80..0xBF (the value only
 * matters through its range, so the two ends and the middle suffice). */
static bool ref_complete(const unsigned char *p, int n, int len, unsigned char *buf)
{
    if (n == len) {
        uint32_t cp = len == 1 ? p[0] : (uint32_t)(p[0] & (0x7F >> len));
        for (int i = 1; i < len; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (p[i] & 0x3F);
        }
        static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
        return cp >= min[len] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    }
    static const unsigned char tries[] = {0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF};
    memcpy(buf, p, (size_t)n);
    for (size_t t = 0; t < sizeof tries; t++) {
        buf[n] = tries[t];
        unsigned char next[4];
        if (ref_complete(buf, n + 1, len, next))
            return true;
    }
    return false;
}

static bool ref_prefix_ok(const unsigned char *p, int n)
{
    int len = ref_len(p[0]);
    if (len == 0 || n > len)
        return false;
    unsigned char buf[4];
    return ref_complete(p, n, len, buf);
}

/* What ah_utf8_check should say about p[0..n). */
static int ref_check(const unsigned char *p, size_t n)
{
    int len = ref_len(p[0]);
    int k = 1;
    while (k < len && (size_t)k < n && ref_prefix_ok(p, k + 1))
        k++;
    if (len && k == len && ref_prefix_ok(p, len))
        return len;
    if (len && (size_t)k == n && ref_prefix_ok(p, k))
        return 0;
    return -k;
}

static void check_all_lengths(const unsigned char *p, size_t n)
{
    for (size_t avail = 1; avail <= n; avail++) {
        int want = ref_check(p, avail);
        int got = ah_utf8_check(p, avail);
        if (got != want)
            fail_msg("%02X %02X %02X %02X (n=%zu): got %d, want %d", p[0], n > 1 ? p[1] : 0, n > 2 ? p[2] : 0,
                     n > 3 ? p[3] : 0, avail, got, want);
        assert_int_equal(ah_utf8_seq_len(p, avail), want > 0 ? (size_t)want : 0);
    }
}

static void test_check_against_reference(void **state)
{
    (void)state;
    static const unsigned char later[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F,
                                          0xA0, 0xBF, 0xC0, 0xC2, 0xE0, 0xF4, 0xFF};
    unsigned char p[4];
    for (unsigned a = 0; a < 256; a++) {
        p[0] = (unsigned char)a;
        check_all_lengths(p, 1);
        for (unsigned b = 0; b < 256; b++) {
            p[1] = (unsigned char)b;
            check_all_lengths(p, 2);
        }
        for (size_t b = 0; b < sizeof later; b++)
            for (size_t c = 0; c < sizeof later; c++)
                for (size_t d = 0; d < sizeof later; d++) {
                    p[1] = later[b];
                    p[2] = later[c];
                    p[3] = later[d];
                    check_all_lengths(p, 4);
                }
    }
    assert_int_equal(ah_utf8_seq_len(p, 0), 0);
}

static void test_known_cases(void **state)
{
    (void)state;
    const unsigned char *u;
    u = (const unsigned char *)"A";
    assert_int_equal(ah_utf8_check(u, 1), 1);
    u = (const unsigned char *)"\xC3\xA9"; /* é */
    assert_int_equal(ah_utf8_check(u, 2), 2);
    assert_int_equal(ah_utf8_check(u, 1), 0);
    u = (const unsigned char *)"\xE2\x82\xAC"; /* € */
    assert_int_equal(ah_utf8_check(u, 3), 3);
    assert_int_equal(ah_utf8_check(u, 2), 0);
    u = (const unsigned char *)"\xF0\x9F\x98\x80"; /* U+1F600 */
    assert_int_equal(ah_utf8_check(u, 4), 4);
    assert_int_equal(ah_utf8_check(u, 3), 0);
    assert_int_equal(ah_utf8_check((const unsigned char *)"\xC0\xAF", 2), -1);         /* overlong lead */
    assert_int_equal(ah_utf8_check((const unsigned char *)"\xE0\x80\x80", 3), -1);     /* overlong */
    assert_int_equal(ah_utf8_check((const unsigned char *)"\xED\xA0\x80", 3), -1);     /* surrogate */
    assert_int_equal(ah_utf8_check((const unsigned char *)"\xF4\x90\x80\x80", 4), -1); /* > U+10FFFF */
    assert_int_equal(ah_utf8_check((const unsigned char *)"\xF5\x80", 2), -1);
    assert_int_equal(ah_utf8_check((const unsigned char *)"\x80", 1), -1); /* lone continuation */
    assert_int_equal(ah_utf8_check((const unsigned char *)"\xE2\x82"
                                                          "A",
                                   3),
                     -2); /* cut by ASCII */
    assert_int_equal(ah_utf8_check((const unsigned char *)"\xF0\x9F\x98"
                                                          "A",
                                   4),
                     -3);
}

static void test_encode_round_trip(void **state)
{
    (void)state;
    for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
        if (cp >= 0xD800 && cp <= 0xDFFF)
            continue;
        unsigned char out[4];
        size_t n = ah_utf8_encode(cp, out);
        size_t want = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        assert_int_equal(n, want);
        assert_int_equal(ah_utf8_check(out, n), (int)n);
        for (size_t k = 1; k < n; k++)
            assert_int_equal(ah_utf8_check(out, k), 0);
        uint32_t back = n == 1 ? out[0] : (uint32_t)(out[0] & (0x7F >> n));
        for (size_t i = 1; i < n; i++)
            back = back << 6 | (out[i] & 0x3F);
        assert_int_equal(back, cp);
    }
}

static void test_cut_and_cont(void **state)
{
    (void)state;
    assert_false(ah_utf8_is_cont('A'));
    assert_false(ah_utf8_is_cont(0xC3));
    assert_true(ah_utf8_is_cont(0x80));
    assert_true(ah_utf8_is_cont(0xBF));
    const char *s = "a\xE2\x82\xAC"
                    "b"; /* a € b */
    assert_int_equal(ah_utf8_cut(s, 0), 0);
    assert_int_equal(ah_utf8_cut(s, 1), 1);
    assert_int_equal(ah_utf8_cut(s, 2), 1);
    assert_int_equal(ah_utf8_cut(s, 3), 1);
    assert_int_equal(ah_utf8_cut(s, 4), 4);
    assert_int_equal(ah_utf8_cut(s, 5), 5);
    assert_int_equal(ah_utf8_cut("\x80\x80", 1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_against_reference),
        cmocka_unit_test(test_known_cases),
        cmocka_unit_test(test_encode_round_trip),
        cmocka_unit_test(test_cut_and_cont),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
