/*
 * test_diag.c: the one escaping of attacker-controlled text for terminals
 * and logs, and where-formatting that uses it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "parsers/util/diag.h"

static const char *esc(const char *s, size_t n, bool keep_nl)
{
    static char out[512]; /* test scratch */
    return ah_escape_text(s, n, keep_nl, out, sizeof out);
}

static void test_controls_and_invalid_utf8(void **state)
{
    (void)state;
    assert_string_equal(esc("a\x1b[2Jb", 6, false), "a\\x1b[2Jb");
    assert_string_equal(esc("\x1b]0;title\x07", 10, false), "\\x1b]0;title\\x07");
    assert_string_equal(esc("x\0y", 3, false), "x\\x00y");
    assert_string_equal(esc("tab\there\r\n", 10, false), "tab\\x09here\\x0d\\x0a");
    assert_string_equal(esc("line\nnext", 9, true), "line\nnext");
    assert_string_equal(esc("del\x7f", 4, false), "del\\x7f");
    /* invalid UTF-8: each byte shown; valid multi-byte text kept */
    assert_string_equal(esc("\xff\xfe", 2, false), "\\xff\\xfe");
    assert_string_equal(esc("caf\xc3\xa9", 5, false), "caf\xc3\xa9");
    assert_string_equal(esc("cut \xe2\x82", 6, false), "cut \\xe2\\x82");
    /* C1 CSI and bidi overrides */
    assert_string_equal(esc("\xc2\x9b"
                            "2J",
                            4, false),
                        "\\u009b2J");
    assert_string_equal(esc("a\xe2\x80\xae"
                            "b",
                            5, false),
                        "a\\u202eb");
    assert_string_equal(esc("\xf0\x9f\x98\x80", 4, false), "\xf0\x9f\x98\x80");
}

static void test_cut_never_splits_an_escape(void **state)
{
    (void)state;
    char out[6];
    ah_escape_text("ab\x1b"
                   "cd",
                   5, false, out, sizeof out);
    assert_string_equal(out, "ab"); /* "\x1b" does not fit whole */
    ah_escape_text("abcdefgh", 8, false, out, sizeof out);
    assert_string_equal(out, "abcde");
}

static void test_where_format_escapes_path_and_entry(void **state)
{
    (void)state;
    ah_where w = {"case/\x1b[31mevil.zip", "inner\x07.json", 3, 9};
    char buf[256];
    ah_where_format(&w, buf, sizeof buf);
    assert_string_equal(buf, "case/\\x1b[31mevil.zip[inner\\x07.json] record 3 (line 9)");
    assert_null(strchr(buf, 0x1b));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_controls_and_invalid_utf8),
        cmocka_unit_test(test_cut_never_splits_an_escape),
        cmocka_unit_test(test_where_format_escapes_path_and_entry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
