/*
 * test_jscan.c: the allocation-free JSON scanner. Every malformed input is
 * handed over in an exactly-sized heap copy with no terminator, so ASan
 * reports any read past the span end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "parsers/frame/jscan.h"
#include "parsers/util/buf.h"

/* An exact heap copy of s (no NUL after it). */
static ah_span heap_span(const char *s, size_t n)
{
    char *p = malloc(n ? n : 1);
    assert_non_null(p);
    if (n)
        memcpy(p, s, n);
    return ah_span_make(p, n);
}

static void free_span(ah_span s) { free((void *)s.p); }

#define S(lit) heap_span(lit, sizeof(lit) - 1)

static size_t skip_of(const char *lit, size_t n)
{
    ah_span s = heap_span(lit, n);
    size_t r = ah_json_skip(s);
    free_span(s);
    return r;
}
#define SKIP(lit) skip_of(lit, sizeof(lit) - 1)

static bool valid_of(const char *lit, size_t n)
{
    ah_span s = heap_span(lit, n);
    bool r = ah_json_valid(s);
    free_span(s);
    return r;
}
#define VALID(lit) valid_of(lit, sizeof(lit) - 1)

static void test_type_of(void **state)
{
    (void)state;
    ah_span s;
    s = S("  {\"a\":1}");
    assert_int_equal(ah_json_type_of(s), AH_JSON_OBJECT);
    free_span(s);
    s = S("\n[ ]");
    assert_int_equal(ah_json_type_of(s), AH_JSON_ARRAY);
    free_span(s);
    s = S("\"x\"");
    assert_int_equal(ah_json_type_of(s), AH_JSON_STRING);
    free_span(s);
    s = S("-12");
    assert_int_equal(ah_json_type_of(s), AH_JSON_NUMBER);
    free_span(s);
    s = S("7");
    assert_int_equal(ah_json_type_of(s), AH_JSON_NUMBER);
    free_span(s);
    s = S("true");
    assert_int_equal(ah_json_type_of(s), AH_JSON_TRUE);
    free_span(s);
    s = S("false");
    assert_int_equal(ah_json_type_of(s), AH_JSON_FALSE);
    free_span(s);
    s = S(" null");
    assert_int_equal(ah_json_type_of(s), AH_JSON_NULL);
    free_span(s);
    s = S("tru");
    assert_int_equal(ah_json_type_of(s), AH_JSON_INVALID);
    free_span(s);
    s = S("nullx");
    assert_int_equal(ah_json_type_of(s), AH_JSON_INVALID);
    free_span(s);
    s = S("   ");
    assert_int_equal(ah_json_type_of(s), AH_JSON_INVALID);
    free_span(s);
    s = S("x");
    assert_int_equal(ah_json_type_of(s), AH_JSON_INVALID);
    free_span(s);
    assert_int_equal(ah_json_type_of(AH_SPAN_NULL), AH_JSON_INVALID);
}

static void test_skip_measures(void **state)
{
    (void)state;
    assert_int_equal(SKIP("  {\"a\":1}  "), 9);
    assert_int_equal(SKIP("[1,2] x"), 5);
    assert_int_equal(SKIP("\"a\\\"b\"tail"), 6);
    assert_int_equal(SKIP("123,"), 3);
    assert_int_equal(SKIP("123"), 3);
    assert_int_equal(SKIP("-0.5e+10]"), 8);
    assert_int_equal(SKIP("true}"), 4);
    assert_int_equal(SKIP("null"), 4);
    assert_int_equal(SKIP("{}"), 2);
    assert_int_equal(SKIP("[ ]"), 3);
    assert_int_equal(SKIP(" { \"a\" : [ 1 , { \"b\" : null } ] , \"c\" : \"\" } "), 44);
    assert_int_equal(SKIP(""), 0);
    assert_int_equal(SKIP("   "), 0);
    assert_int_equal(ah_json_skip(AH_SPAN_NULL), 0);
}

static void test_valid_accepts(void **state)
{
    (void)state;
    assert_true(VALID("0"));
    assert_true(VALID("-0"));
    assert_true(VALID("1.5e10"));
    assert_true(VALID("1E-2"));
    assert_true(VALID("-0.0e+0"));
    assert_true(VALID("12345678901234567890123"));
    assert_true(VALID(" \t\r\n{\"a\":[true,false,null,{}]}\r\n"));
    assert_true(VALID("\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\uD83D\\uDE00 \\uDEAD\""));
    assert_true(VALID("\"\x7f \xc3\xa9 \xf0\x9f\x98\x80\""));
    assert_true(VALID("{\"a\":1,\"a\":2}")); /* duplicate keys are not rejected */
    assert_true(VALID("[[[[]]]]"));
}

static void test_valid_rejects(void **state)
{
    (void)state;
    /* trailing commas */
    assert_false(VALID("[1,]"));
    assert_false(VALID("{\"a\":1,}"));
    assert_false(VALID("[,1]"));
    assert_false(VALID("{,}"));
    /* unterminated or truncated */
    assert_false(VALID("\"abc"));
    assert_false(VALID("\"abc\\"));
    assert_false(VALID("\"\\u12"));
    assert_false(VALID("{\"a\":"));
    assert_false(VALID("{\"a\""));
    assert_false(VALID("{\"a\":1"));
    assert_false(VALID("[1,2"));
    assert_false(VALID("["));
    assert_false(VALID("{"));
    assert_false(VALID("tru"));
    assert_false(VALID("fals"));
    assert_false(VALID("nul"));
    /* bad escapes and raw control characters */
    assert_false(VALID("\"\\x\""));
    assert_false(VALID("\"\\u12G4\""));
    assert_false(VALID("\"\\U0041\""));
    assert_false(VALID("\"\\'\""));
    assert_false(VALID("\"a\tb\""));
    assert_false(VALID("\"a\nb\""));
    assert_false(VALID("\"a\x01b\""));
    assert_false(VALID("\"a\0b\""));
    /* numbers */
    assert_false(VALID("01"));
    assert_false(VALID("-01"));
    assert_false(VALID("00"));
    assert_false(VALID("-"));
    assert_false(VALID("- 1"));
    assert_false(VALID("1."));
    assert_false(VALID(".5"));
    assert_false(VALID("+1"));
    assert_false(VALID("1e"));
    assert_false(VALID("1e+"));
    assert_false(VALID("1.2.3"));
    assert_false(VALID("0x10"));
    assert_false(VALID("NaN"));
    assert_false(VALID("Infinity"));
    assert_false(VALID("[01]"));
    /* structure */
    assert_false(VALID("truex"));
    assert_false(VALID("{\"a\" 1}"));
    assert_false(VALID("{\"a\":1 \"b\":2}"));
    assert_false(VALID("[1 2]"));
    assert_false(VALID("{1:2}"));
    assert_false(VALID("{'a':1}"));
    assert_false(VALID("[1}"));
    assert_false(VALID("{\"a\":1]"));
    assert_false(VALID("1 2"));
    assert_false(VALID("{} {}"));
    assert_false(VALID("\xEF\xBB\xBF{}"));
    assert_false(VALID("\x0b{}")); /* vertical tab is not JSON whitespace */
    assert_false(VALID(""));
}

static void test_depth_limit(void **state)
{
    (void)state;
    char doc[2 * (AH_JSON_MAX_DEPTH + 1)];
    for (size_t depth = AH_JSON_MAX_DEPTH; depth <= AH_JSON_MAX_DEPTH + 1; depth++) {
        memset(doc, '[', depth);
        memset(doc + depth, ']', depth);
        ah_span s = heap_span(doc, 2 * depth);
        assert_int_equal(ah_json_valid(s), depth <= AH_JSON_MAX_DEPTH);
        assert_int_equal(ah_json_skip(s), depth <= AH_JSON_MAX_DEPTH ? 2 * depth : 0);
        free_span(s);
    }
    /* Objects count towards the same limit. */
    ah_buf b;
    ah_buf_init(&b, 0);
    for (int i = 0; i < AH_JSON_MAX_DEPTH; i++)
        ah_buf_puts(&b, "{\"a\":");
    ah_buf_puts(&b, "1");
    for (int i = 0; i < AH_JSON_MAX_DEPTH; i++)
        ah_buf_putc(&b, '}');
    assert_true(ah_json_valid(ah_buf_span(&b)));
    ah_buf_reset(&b);
    for (int i = 0; i < AH_JSON_MAX_DEPTH; i++)
        ah_buf_puts(&b, "{\"a\":");
    ah_buf_puts(&b, "[]");
    for (int i = 0; i < AH_JSON_MAX_DEPTH; i++)
        ah_buf_putc(&b, '}');
    assert_false(ah_json_valid(ah_buf_span(&b)));
    /* Very deep input fails fast without recursion. */
    ah_buf_reset(&b);
    for (int i = 0; i < 100000; i++)
        ah_buf_putc(&b, '[');
    assert_false(ah_json_valid(ah_buf_span(&b)));
    ah_buf_free(&b);
}

static void test_every_prefix_is_rejected(void **state)
{
    (void)state;
    static const char doc[] = "{\"a\":[1,-2.5e3,\"x\\u0041\\n\",true,false,null,{}],\"b\\\"\":{\"c\":[[],{\"d\":0}]}}";
    size_t n = sizeof doc - 1;
    assert_true(valid_of(doc, n));
    for (size_t i = 0; i < n; i++) {
        ah_span s = heap_span(doc, i);
        assert_false(ah_json_valid(s));
        assert_int_equal(ah_json_skip(s), 0);
        free_span(s);
    }
}

static void test_object_iteration(void **state)
{
    (void)state;
    ah_span doc = S(" { \"a\" : 1 , \"b\\\"c\" : [1, 2] ,\"d\":{\"e\":\"f\"}, \"\":null } ");
    ah_json_iter it;
    ah_span k, v;
    assert_int_equal(ah_json_object_begin(&it, doc), AH_OK);
    assert_int_equal(ah_json_object_next(&it, &k, &v), AH_OK);
    assert_true(ah_span_eq(k, "a"));
    assert_true(ah_span_eq(v, "1"));
    assert_int_equal(ah_json_object_next(&it, &k, &v), AH_OK);
    assert_true(ah_span_eq(k, "b\\\"c"));
    assert_true(ah_span_eq(v, "[1, 2]"));
    assert_int_equal(ah_json_object_next(&it, &k, &v), AH_OK);
    assert_true(ah_span_eq(k, "d"));
    assert_true(ah_span_eq(v, "{\"e\":\"f\"}"));
    assert_int_equal(ah_json_object_next(&it, &k, &v), AH_OK);
    assert_true(ah_span_eq(k, ""));
    assert_true(ah_span_eq(v, "null"));
    assert_int_equal(ah_json_object_next(&it, &k, &v), AH_END);
    assert_int_equal(ah_json_object_next(&it, &k, &v), AH_END);
    free_span(doc);

    doc = S("{}");
    assert_int_equal(ah_json_object_begin(&it, doc), AH_OK);
    assert_int_equal(ah_json_object_next(&it, &k, &v), AH_END);
    free_span(doc);

    doc = S("[1]");
    assert_int_equal(ah_json_object_begin(&it, doc), AH_ERR_RECORD);
    free_span(doc);

    static const char *const bad[] = {
        "{\"a\":1 \"b\":2}", "{\"a\":1,}", "{\"a\" 1}", "{\"a\":}", "{\"a\":1", "{\"a\":01}", "{a:1}", "{\"a\":1,",
    };
    for (size_t i = 0; i < AH_ARRAY_LEN(bad); i++) {
        doc = heap_span(bad[i], strlen(bad[i]));
        assert_int_equal(ah_json_object_begin(&it, doc), AH_OK);
        ah_status st;
        int members = 0;
        while ((st = ah_json_object_next(&it, &k, &v)) == AH_OK)
            members++;
        assert_int_equal(st, AH_ERR_RECORD);
        assert_true(members <= 1);
        /* The error is sticky. */
        assert_int_equal(ah_json_object_next(&it, &k, &v), AH_ERR_RECORD);
        free_span(doc);
    }
}

static void test_array_iteration(void **state)
{
    (void)state;
    ah_span doc = S("\n[ 1 ,\"two\", [3] ,{\"four\":4},null ]");
    ah_json_iter it;
    ah_span v;
    assert_int_equal(ah_json_array_begin(&it, doc), AH_OK);
    const char *want[] = {"1", "\"two\"", "[3]", "{\"four\":4}", "null"};
    for (size_t i = 0; i < AH_ARRAY_LEN(want); i++) {
        assert_int_equal(ah_json_array_next(&it, &v), AH_OK);
        assert_true(ah_span_eq(v, want[i]));
    }
    assert_int_equal(ah_json_array_next(&it, &v), AH_END);
    free_span(doc);

    doc = S("[]");
    assert_int_equal(ah_json_array_begin(&it, doc), AH_OK);
    assert_int_equal(ah_json_array_next(&it, &v), AH_END);
    free_span(doc);

    doc = S("[1,]");
    assert_int_equal(ah_json_array_begin(&it, doc), AH_OK);
    assert_int_equal(ah_json_array_next(&it, &v), AH_OK);
    assert_int_equal(ah_json_array_next(&it, &v), AH_ERR_RECORD);
    free_span(doc);

    doc = S("[1 2]");
    assert_int_equal(ah_json_array_begin(&it, doc), AH_OK);
    assert_int_equal(ah_json_array_next(&it, &v), AH_OK);
    assert_int_equal(ah_json_array_next(&it, &v), AH_ERR_RECORD);
    free_span(doc);

    doc = S("[\"abc");
    assert_int_equal(ah_json_array_begin(&it, doc), AH_OK);
    assert_int_equal(ah_json_array_next(&it, &v), AH_ERR_RECORD);
    free_span(doc);

    doc = S("{}");
    assert_int_equal(ah_json_array_begin(&it, doc), AH_ERR_RECORD);
    free_span(doc);
    assert_int_equal(ah_json_array_begin(&it, AH_SPAN_NULL), AH_ERR_RECORD);
}

static void test_get(void **state)
{
    (void)state;
    ah_span doc = S("{\"Id\":\"x1\",\"operation\":\"A\",\"Operation\":\"B\",\"Op\\u0065ration2\":3,"
                    "\"nested\":{\"Id\":\"inner\"},\"\\u0055serId\":\"u\"}");
    ah_span v;
    assert_true(ah_json_get(doc, "id", &v));
    assert_true(ah_span_eq(v, "\"x1\""));
    assert_true(ah_json_get(doc, "OPERATION", &v));
    assert_true(ah_span_eq(v, "\"A\"")); /* first match wins */
    assert_true(ah_json_get(doc, "operation2", &v));
    assert_true(ah_span_eq(v, "3"));
    assert_true(ah_json_get(doc, "userid", &v));
    assert_true(ah_span_eq(v, "\"u\""));
    assert_true(ah_json_get(doc, "Nested", &v));
    assert_true(ah_span_eq(v, "{\"Id\":\"inner\"}"));
    assert_false(ah_json_get(doc, "missing", &v));
    assert_false(ah_json_get(doc, "I", &v));
    assert_false(ah_json_get(doc, "Idx", &v));
    assert_true(ah_json_get(doc, "id", NULL));
    free_span(doc);

    doc = S("[{\"a\":1}]");
    assert_false(ah_json_get(doc, "a", &v));
    free_span(doc);
    /* A member before the damage is found; one after it is not. */
    doc = S("{\"a\":1,\"b\":2 \"c\":3}");
    assert_true(ah_json_get(doc, "a", &v));
    assert_false(ah_json_get(doc, "c", &v));
    free_span(doc);
}

static void test_key_eq_ci(void **state)
{
    (void)state;
    ah_span k;
    k = S("abc");
    assert_true(ah_json_key_eq_ci(k, "ABC"));
    assert_false(ah_json_key_eq_ci(k, "abd"));
    assert_false(ah_json_key_eq_ci(k, "ab"));
    assert_false(ah_json_key_eq_ci(k, "abcd"));
    free_span(k);
    k = S("\\u0041bc");
    assert_true(ah_json_key_eq_ci(k, "abc"));
    assert_false(ah_json_key_eq_ci(k, "\\u0041bc"));
    free_span(k);
    k = S("a\\\"b");
    assert_true(ah_json_key_eq_ci(k, "A\"B"));
    free_span(k);
    k = S("caf\\u00e9");
    assert_true(ah_json_key_eq_ci(k, "CAF\xc3\xa9"));
    assert_false(ah_json_key_eq_ci(k, "CAF\xc3\x89")); /* no case folding outside ASCII */
    free_span(k);
    k = S("x\\q");
    assert_false(ah_json_key_eq_ci(k, "xq"));
    free_span(k);
    k = S("x\\u00");
    assert_false(ah_json_key_eq_ci(k, "x"));
    free_span(k);
    assert_true(ah_json_key_eq_ci(ah_span_make("", 0), ""));
    assert_false(ah_json_key_eq_ci(ah_span_make("", 0), NULL));
}

static void unescape_case(const char *json, const char *want, size_t want_n)
{
    ah_span s = heap_span(json, strlen(json));
    ah_buf out;
    ah_buf_init(&out, 0);
    assert_int_equal(ah_json_unescape(s, &out), AH_OK);
    assert_int_equal(out.len, want_n);
    assert_memory_equal(ah_buf_cstr(&out), want, want_n);
    ah_buf_free(&out);
    free_span(s);
}

static void test_unescape(void **state)
{
    (void)state;
    unescape_case("\"plain\"", "plain", 5);
    unescape_case("\"\"", "", 0);
    unescape_case("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t", 8);
    unescape_case("\"\\u0041\\u00e9\\u20AC\"", "A\xc3\xa9\xe2\x82\xac", 6);
    unescape_case("\"\\u0000\"", "\0", 1);
    unescape_case("\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80", 4);
    unescape_case("\"\\uD83D\"", "\xef\xbf\xbd", 3);
    unescape_case("\"\\ud83dx\"", "\xef\xbf\xbdx", 4);
    unescape_case("\"\\ud83d\\u0041\"",
                  "\xef\xbf\xbd"
                  "A",
                  4);
    unescape_case("\"\\ud83d\\ud83d\\ude00\"", "\xef\xbf\xbd\xf0\x9f\x98\x80", 7);
    unescape_case("\"\\ude00x\"", "\xef\xbf\xbdx", 4);
    unescape_case("  \"ws\"  ", "ws", 2);
    unescape_case("\"{\\\"AppId\\\":\\\"66\\\"}\"", "{\"AppId\":\"66\"}", 14);

    /* Appends; failures leave out untouched. */
    ah_buf out;
    ah_buf_init(&out, 0);
    ah_buf_puts(&out, "pre:");
    static const char *const bad[] = {"abc", "\"abc", "\"a\\x\"", "\"a\nb\"", "\"a\" x", "", "\"\\u12\""};
    for (size_t i = 0; i < AH_ARRAY_LEN(bad); i++) {
        ah_span s = heap_span(bad[i], strlen(bad[i]));
        assert_int_equal(ah_json_unescape(s, &out), AH_ERR_RECORD);
        assert_string_equal(ah_buf_cstr(&out), "pre:");
        free_span(s);
    }
    ah_span s = S("\"x\\ny\"");
    assert_int_equal(ah_json_unescape(s, &out), AH_OK);
    assert_string_equal(ah_buf_cstr(&out), "pre:x\ny");
    free_span(s);
    ah_buf_free(&out);

    /* The buffer limit is honoured and nothing partial is left behind. */
    ah_buf_init(&out, 8);
    ah_buf_puts(&out, "12345");
    s = S("\"abc\\u0041\"");
    assert_int_equal(ah_json_unescape(s, &out), AH_ERR_TOOBIG);
    assert_string_equal(ah_buf_cstr(&out), "12345");
    free_span(s);
    s = S("\"abc\"");
    assert_int_equal(ah_json_unescape(s, &out), AH_OK);
    assert_string_equal(ah_buf_cstr(&out), "12345abc");
    free_span(s);
    ah_buf_free(&out);
}

static void scalar_case(const char *json, bool want_ok, const char *want)
{
    ah_span s = heap_span(json, strlen(json));
    ah_buf out;
    ah_buf_init(&out, 0);
    assert_int_equal(ah_json_scalar_text(s, &out), want_ok);
    assert_string_equal(ah_buf_cstr(&out), want);
    ah_buf_free(&out);
    free_span(s);
}

static void test_scalar_text(void **state)
{
    (void)state;
    scalar_case("\"a\\tb\"", true, "a\tb");
    scalar_case("\"\"", true, "");
    scalar_case("-1.5e3", true, "-1.5e3");
    scalar_case(" 42 ", true, "42");
    scalar_case("true", true, "true");
    scalar_case("false", true, "false");
    scalar_case("null", false, "");
    scalar_case("{ \"a\" : [1, 2 ], \"b\":\"x y\\\" \" }", true, "{\"a\":[1,2],\"b\":\"x y\\\" \"}");
    scalar_case("[\n  true,\r\n  null\n]", true, "[true,null]");
    scalar_case("{}", true, "{}");
    scalar_case("{\"a\":1", false, "");
    scalar_case("01", false, "");
    scalar_case("\"abc", false, "");
    scalar_case("", false, "");
    scalar_case("1 2", false, "");

    ah_buf out;
    ah_buf_init(&out, 4);
    ah_span s = S("{\"abc\": 1}");
    assert_false(ah_json_scalar_text(s, &out));
    assert_int_equal(out.len, 0);
    free_span(s);
    ah_buf_free(&out);
}

static void write_case(const char *in, size_t n, const char *want)
{
    ah_buf out;
    ah_buf_init(&out, 0);
    assert_int_equal(ah_json_write_string(&out, ah_span_make(in, n)), AH_OK);
    assert_string_equal(ah_buf_cstr(&out), want);
    assert_true(ah_json_valid(ah_buf_span(&out)));
    ah_buf_free(&out);
}
#define WRITE(lit, want) write_case(lit, sizeof(lit) - 1, want)

static void test_write_string(void **state)
{
    (void)state;
    WRITE("", "\"\"");
    WRITE("plain text", "\"plain text\"");
    WRITE("a\"b\\c/d", "\"a\\\"b\\\\c/d\"");
    WRITE("\n\r\t\b\f", "\"\\n\\r\\t\\b\\f\"");
    WRITE("\x01\x1f\x7f", "\"\\u0001\\u001f\x7f\"");
    WRITE("a\0b", "\"a\\u0000b\"");
    WRITE("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
    WRITE("x\xe2\x80\xa8y\xe2\x80\xa9z", "\"x\\u2028y\\u2029z\"");
    /* invalid UTF-8: one U+FFFD per maximal invalid subpart */
    WRITE("\x80", "\"\xef\xbf\xbd\"");
    WRITE("a\xc3", "\"a\xef\xbf\xbd\"");
    WRITE("\xc3(", "\"\xef\xbf\xbd(\"");
    WRITE("\xc0\xaf", "\"\xef\xbf\xbd\xef\xbf\xbd\"");
    WRITE("\xed\xa0\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
    WRITE("\xe0\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\"");
    WRITE("\xe2\x82", "\"\xef\xbf\xbd\"");
    WRITE("\xe2\x82x", "\"\xef\xbf\xbdx\"");
    WRITE("\xf4\x90\x80\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
    WRITE("\xf0\x9f\x98", "\"\xef\xbf\xbd\"");
    WRITE("\xff\xfe", "\"\xef\xbf\xbd\xef\xbf\xbd\"");
    WRITE("\xef\xbf\xbd", "\"\xef\xbf\xbd\"");

    /* Appends; on overflow nothing is left behind. */
    ah_buf out;
    ah_buf_init(&out, 10);
    ah_buf_puts(&out, "[");
    assert_int_equal(ah_json_write_string(&out, ah_span_cstr("abc")), AH_OK);
    assert_string_equal(ah_buf_cstr(&out), "[\"abc\"");
    assert_int_equal(ah_json_write_string(&out, ah_span_cstr("toolong")), AH_ERR_TOOBIG);
    assert_string_equal(ah_buf_cstr(&out), "[\"abc\"");
    ah_buf_free(&out);
}

/* A small deterministic generator; state lives in the caller. */
static uint32_t next_rand(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void test_write_roundtrip_and_noise(void **state)
{
    (void)state;
    uint32_t seed = 0x1234567u;
    ah_buf out, back;
    ah_buf_init(&out, 0);
    ah_buf_init(&back, 0);
    for (int round = 0; round < 2000; round++) {
        size_t n = next_rand(&seed) % 64;
        char raw[64];
        for (size_t i = 0; i < n; i++)
            raw[i] = (char)(next_rand(&seed) & 0xFF);
        ah_buf_reset(&out);
        assert_int_equal(ah_json_write_string(&out, ah_span_make(raw, n)), AH_OK);
        assert_true(ah_json_valid(ah_buf_span(&out)));
        ah_buf_reset(&back);
        assert_int_equal(ah_json_unescape(ah_buf_span(&out), &back), AH_OK);
        /* Writing the decoded text again is stable (it is now valid UTF-8). */
        ah_buf again;
        ah_buf_init(&again, 0);
        assert_int_equal(ah_json_write_string(&again, ah_buf_span(&back)), AH_OK);
        assert_int_equal(again.len, out.len);
        assert_memory_equal(again.data, out.data, out.len);
        ah_buf_free(&again);
    }
    /* Valid UTF-8 round-trips exactly. */
    static const char text[] = "tab\there \"q\" back\\slash \xc3\xa9\xe2\x80\xa8\xf0\x9f\x98\x80 \x01";
    ah_buf_reset(&out);
    ah_buf_reset(&back);
    assert_int_equal(ah_json_write_string(&out, ah_span_make(text, sizeof text - 1)), AH_OK);
    assert_int_equal(ah_json_unescape(ah_buf_span(&out), &back), AH_OK);
    assert_int_equal(back.len, sizeof text - 1);
    assert_memory_equal(back.data, text, sizeof text - 1);

    /* Mutated documents: whatever the verdict, no read goes past the span. */
    static const char doc[] = "{\"a\":[1,-2.5e3,\"x\\u0041\\n\",true,false,null,{}],\"b\":{\"c\":[[],{\"d\":0}]}}";
    static const char alphabet[] = "{}[]\",:\\u0123456789eE+-.tfn \n\x01\xff";
    for (int round = 0; round < 20000; round++) {
        char m[sizeof doc];
        size_t n = sizeof doc - 1;
        memcpy(m, doc, n);
        int flips = 1 + (int)(next_rand(&seed) % 3);
        for (int f = 0; f < flips; f++)
            m[next_rand(&seed) % n] = alphabet[next_rand(&seed) % (sizeof alphabet - 1)];
        n = next_rand(&seed) % 4 == 0 ? next_rand(&seed) % n : n;
        ah_span s = heap_span(m, n);
        size_t k = ah_json_skip(s);
        assert_true(k <= n);
        bool ok = ah_json_valid(s);
        if (ok)
            assert_true(k > 0);
        ah_json_iter it;
        ah_span key, val;
        if (ah_json_object_begin(&it, s) == AH_OK) {
            int guard = 0;
            while (ah_json_object_next(&it, &key, &val) == AH_OK && guard++ < 100) {
                assert_true(key.p >= s.p && key.p + key.n <= s.p + n);
                assert_true(val.p >= s.p && val.p + val.n <= s.p + n);
                ah_buf_reset(&back);
                (void)ah_json_scalar_text(val, &back);
                (void)ah_json_key_eq_ci(key, "a");
            }
        }
        (void)ah_json_get(s, "b", &val);
        (void)ah_json_type_of(s);
        free_span(s);
    }
    ah_buf_free(&out);
    ah_buf_free(&back);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type_of),
        cmocka_unit_test(test_skip_measures),
        cmocka_unit_test(test_valid_accepts),
        cmocka_unit_test(test_valid_rejects),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_every_prefix_is_rejected),
        cmocka_unit_test(test_object_iteration),
        cmocka_unit_test(test_array_iteration),
        cmocka_unit_test(test_get),
        cmocka_unit_test(test_key_eq_ci),
        cmocka_unit_test(test_unescape),
        cmocka_unit_test(test_scalar_text),
        cmocka_unit_test(test_write_string),
        cmocka_unit_test(test_write_roundtrip_and_noise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
