/* Tests for parsers/formats/opcanon.c: every spelling from indicators.md §2
 * maps to one canonical string; nothing else is disturbed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "parsers/formats/opcanon.h"

static void check_canon(const char *in, size_t in_len, const char *want, size_t want_len)
{
    ah_buf out;
    ah_buf_init(&out, 0);
    ah_status st = ah_opcanon(ah_span_make(in, in_len), &out);
    bool terminated = !out.data || out.data[out.len] == '\0';
    bool same = out.len == want_len && memcmp(ah_buf_cstr(&out), want, want_len) == 0;
    char got[256];
    snprintf(got, sizeof got, "%s", ah_buf_cstr(&out));
    ah_buf_free(&out); /* before any failure, so a failing case does not leak */
    if (st != AH_OK)
        fail_msg("opcanon('%s') status %d", in, (int)st);
    if (!same)
        fail_msg("opcanon('%s') = '%s', want '%s'", in, got, want);
    assert_true(terminated);
}

#define ASSERT_CANON(in, want) check_canon((in), strlen(in), (want), strlen(want))

static const char *const CERTS = "update application - certificates and secrets management";

static void test_certificates_spellings(void **state)
{
    (void)state;
    static const char *const spellings[] = {
        "Update application \xE2\x80\x93 Certificates and secrets management ", /* U+2013 + trailing space */
        "Update application \xE2\x80\x93 Certificates and secrets management",  /* SIGMA: no trailing space */
        "Update application ? Certificates and secrets management",             /* Sparrow */
        "Update application \xEF\xBF\xBD Certificates and secrets management ", /* M365D U+FFFD */
        "Update application - Certificates and secrets management",             /* MAADI */
        "Update application \xE2\x80\x94 Certificates and secrets management",  /* U+2014 */
        "Update application \xE2\x88\x92 Certificates and secrets management",  /* U+2212 */
        "Update application \xC3\xA2\xE2\x82\xAC\xE2\x80\x9C Certificates and secrets management", /* cp1252 mojibake */
        "Update application \xC3\xA2\xE2\x82\xAC\xE2\x80\x9D Certificates and secrets management", /* em-dash mojibake */
        "Update application \xC3\xA2\xE2\x82\xAC\xE2\x80\x93 Certificates and secrets management", /* as the docs spell it */
        "Update application \xC3\xA2\xE2\x82\xAC\xE2\x80\x94 Certificates and secrets management",
        "Update application \xC3\xA2\xC2\x80\xC2\x93 Certificates and secrets management", /* Latin-1 mojibake */
        "Update application \xC3\xA2\xC2\x80\xC2\x94 Certificates and secrets management",
        "UPDATE APPLICATION \xE2\x80\x93 CERTIFICATES AND SECRETS MANAGEMENT",
        "  Update   application\t\xE2\x80\x93\tCertificates  and secrets\r\nmanagement  ",
        "Update application \xE2\x80\x93 Certificates and secrets management.",
        "update application - certificates and secrets management",
    };
    for (size_t i = 0; i < AH_ARRAY_LEN(spellings); i++)
        ASSERT_CANON(spellings[i], CERTS);
}

static void test_trailing_period(void **state)
{
    (void)state;
    ASSERT_CANON("Add service principal credentials.", "add service principal credentials");
    ASSERT_CANON("Add service principal credentials", "add service principal credentials");
    ASSERT_CANON("Add service principal credentials. ", "add service principal credentials");
    ASSERT_CANON(" Add service principal credentials.\t", "add service principal credentials");
    ASSERT_CANON("Add member to role.", "add member to role");
    /* only one period goes */
    ASSERT_CANON("Wait..", "wait.");
    ASSERT_CANON("Wait...", "wait..");
    ASSERT_CANON(".", "");
    ASSERT_CANON("..", ".");
    ASSERT_CANON("a.b", "a.b");
    ASSERT_CANON(".hidden", ".hidden");
    /* the period goes after trimming, then the steps run as written */
    ASSERT_CANON("Consent to application .", "consent to application ");
}

static void test_question_and_hyphen(void **state)
{
    (void)state;
    ASSERT_CANON("Set-Mailbox", "set-mailbox");
    ASSERT_CANON("New-InboxRule", "new-inboxrule");
    ASSERT_CANON("What?", "what?");
    ASSERT_CANON("What? Now", "what? now");
    ASSERT_CANON("a ?b", "a ?b");
    ASSERT_CANON("a? b", "a? b");
    ASSERT_CANON("a ? b", "a - b");
    ASSERT_CANON("a\t?\nb", "a - b");
    ASSERT_CANON("a - b", "a - b");
    ASSERT_CANON("a -b", "a -b");
    ASSERT_CANON("? a", "? a"); /* at the start: not between spaces */
    ASSERT_CANON("a ?", "a ?"); /* at the end (after trim) */
    ASSERT_CANON("a ?.", "a ?");
    ASSERT_CANON("a ?? b", "a ?? b"); /* not standing alone */
    ASSERT_CANON("a ? ? b", "a - - b");
    /* Unicode dashes map anywhere, not only between spaces */
    ASSERT_CANON("a\xE2\x80\x93"
                 "b",
                 "a-b");
    ASSERT_CANON("\xE2\x80\x94", "-");
    ASSERT_CANON("x\xEF\xBF\xBD", "x-");
}

static void test_case_and_bytes(void **state)
{
    (void)state;
    ASSERT_CANON("MailItemsAccessed", "mailitemsaccessed");
    ASSERT_CANON("ABCXYZ abcxyz @[`{", "abcxyz abcxyz @[`{");
    /* non-ASCII is kept byte for byte (no Unicode folding) */
    ASSERT_CANON("\xC3\x84nderung", "\xC3\x84nderung");
    ASSERT_CANON("caf\xC3\xA9", "caf\xC3\xA9");
    /* near-misses of the dash sequences stay as they are */
    ASSERT_CANON("a \xE2\x80\x99 b", "a \xE2\x80\x99 b");         /* U+2019 */
    ASSERT_CANON("a \xE2\x88\x91 b", "a \xE2\x88\x91 b");         /* U+2211 */
    ASSERT_CANON("a \xEF\xBF\xBC b", "a \xEF\xBF\xBC b");         /* U+FFFC */
    ASSERT_CANON("\xC3\xA2\xE2\x82\xAC", "\xC3\xA2\xE2\x82\xAC"); /* "â€" alone */
    ASSERT_CANON("\xC3\xA2\xE2\x82\xAC\xE2\x80\x99", "\xC3\xA2\xE2\x82\xAC\xE2\x80\x99");
    ASSERT_CANON("\xC3\xA2x", "\xC3\xA2x");
    /* truncated sequences at the end of the span */
    ASSERT_CANON("a \xE2\x80", "a \xE2\x80");
    ASSERT_CANON("a \xEF\xBF", "a \xEF\xBF");
    ASSERT_CANON("a \xC3\xA2\xE2\x82\xAC\xE2\x80", "a \xC3\xA2\xE2\x82\xAC\xE2\x80");
    ASSERT_CANON("a \xC3", "a \xC3");
    /* whitespace */
    ASSERT_CANON("", "");
    ASSERT_CANON("   \t\r\n ", "");
    ASSERT_CANON("a \t \r\n b", "a b");
    /* embedded NUL is an ordinary byte */
    check_canon("A\0B", 3, "a\0b", 3);
}

static void test_appends_and_limits(void **state)
{
    (void)state;
    ah_buf out;
    ah_buf_init(&out, 0);
    assert_int_equal(ah_buf_puts(&out, "prefix:"), AH_OK);
    assert_int_equal(ah_opcanon(ah_span_cstr("  Add Owner.  "), &out), AH_OK);
    assert_string_equal(ah_buf_cstr(&out), "prefix:add owner");
    assert_int_equal(out.len, strlen("prefix:add owner"));
    /* a '?' right after appended text is not "after a space" from this call */
    ah_buf_reset(&out);
    assert_int_equal(ah_buf_puts(&out, "x "), AH_OK);
    assert_int_equal(ah_opcanon(ah_span_cstr("? b"), &out), AH_OK);
    assert_string_equal(ah_buf_cstr(&out), "x ? b");
    ah_buf_free(&out);

    /* over the buffer's limit: an error and the buffer untouched */
    ah_buf small;
    ah_buf_init(&small, 8);
    assert_int_equal(ah_buf_puts(&small, "ab"), AH_OK);
    assert_int_equal(ah_opcanon(ah_span_cstr("1234567"), &small), AH_ERR_TOOBIG);
    assert_string_equal(ah_buf_cstr(&small), "ab");
    /* the limit applies to the trimmed input, which bounds the output */
    assert_int_equal(ah_opcanon(ah_span_cstr("   123456   "), &small), AH_OK);
    assert_string_equal(ah_buf_cstr(&small), "ab123456");
    ah_buf_free(&small);

    ah_buf nul;
    ah_buf_init(&nul, 0);
    assert_int_equal(ah_opcanon(AH_SPAN_NULL, &nul), AH_OK);
    assert_int_equal(nul.len, 0);
    assert_int_equal(ah_opcanon(ah_span_cstr("x"), NULL), AH_ERR_USAGE);
    ah_buf_free(&nul);
}

static void test_large_input(void **state)
{
    (void)state;
    /* a long hostile value: many dash sequences and whitespace runs */
    enum { REPEAT = 10000 };
    static const char unit[] = "A \xE2\x80\x93  ?  \xC3\xA2\xE2\x82\xAC\xE2\x80\x9C\t";
    ah_buf in, out;
    ah_buf_init(&in, 0);
    ah_buf_init(&out, 0);
    for (int i = 0; i < REPEAT; i++)
        assert_int_equal(ah_buf_append(&in, unit, sizeof unit - 1), AH_OK);
    assert_int_equal(ah_opcanon(ah_buf_span(&in), &out), AH_OK);
    assert_int_equal(out.len, (size_t)REPEAT * 8 - 1);
    assert_memory_equal(out.data, "a - - - a - - - ", 16);
    assert_memory_equal(out.data + out.len - 7, "a - - -", 7);
    ah_buf_free(&in);
    ah_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_certificates_spellings), cmocka_unit_test(test_trailing_period),
        cmocka_unit_test(test_question_and_hyphen),    cmocka_unit_test(test_case_and_bytes),
        cmocka_unit_test(test_appends_and_limits),     cmocka_unit_test(test_large_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
