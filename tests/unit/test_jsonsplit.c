/*
 * test_jsonsplit.c: the streaming JSON record splitter. Every input is fed
 * through readers that return 1, 7, 4096 bytes and everything at once; the
 * transcript of records and errors must be identical for all of them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "parsers/frame/jscan.h"
#include "parsers/frame/jsonsplit.h"
#include "parsers/util/buf.h"
#include "support/memsrc.h" /* a reader over memory that hands out at most `chunk` bytes a call */
#include "support/tmpdir.h" /* ah_test_slurp */

static const size_t chunks[] = {1, 7, 4096, SIZE_MAX};

/* Split the whole input and describe every result, one line each:
 *   record_no:line_no:container:text      (AH_OK)
 *   record_no:line_no:ERR:reason          (AH_ERR_RECORD)
 * then END or STREAM. */
static char *transcript(const char *data, size_t len, size_t chunk, size_t max_record, size_t *nrecords)
{
    mem_src src = {data, len, 0, chunk, SIZE_MAX};
    ah_reader rd = {mem_read, &src};
    ah_jsplit *s = ah_jsplit_new(&rd, max_record);
    assert_non_null(s);
    ah_buf out;
    ah_buf_init(&out, 0);
    size_t n = 0;
    for (int guard = 0;; guard++) {
        assert_true(guard < 1000000);
        ah_json_record rec;
        ah_status st = ah_jsplit_next(s, &rec);
        if (st == AH_OK) {
            n++;
            ah_buf_printf(&out, "%llu:%llu:%s:", (unsigned long long)rec.record_no, (unsigned long long)rec.line_no,
                          rec.container ? rec.container : "-");
            ah_buf_append_span(&out, rec.text);
            ah_buf_putc(&out, '\n');
        } else if (st == AH_ERR_RECORD) {
            ah_buf_printf(&out, "%llu:%llu:ERR:%s\n", (unsigned long long)rec.record_no,
                          (unsigned long long)rec.line_no, ah_jsplit_error(s));
        } else if (st == AH_END) {
            ah_buf_puts(&out, "END\n");
            /* AH_END is stable. */
            assert_int_equal(ah_jsplit_next(s, &rec), AH_END);
            break;
        } else {
            ah_buf_printf(&out, "STATUS %d\n", (int)st);
            break;
        }
    }
    ah_jsplit_free(s);
    if (nrecords)
        *nrecords = n;
    char *text = strdup(ah_buf_cstr(&out));
    ah_buf_free(&out);
    return text;
}

static void check_split_n(const char *in, size_t len, size_t max_record, const char *want)
{
    for (size_t i = 0; i < AH_ARRAY_LEN(chunks); i++) {
        char *got = transcript(in, len, chunks[i], max_record, NULL);
        if (strcmp(got, want) != 0)
            fprintf(stderr, "chunk %zu:\n--- got ---\n%s--- want ---\n%s", chunks[i], got, want);
        assert_string_equal(got, want);
        free(got);
    }
}
#define CHECK(in, want) check_split_n(in, sizeof(in) - 1, 0, want)
#define CHECK_MAX(in, max, want) check_split_n(in, sizeof(in) - 1, max, want)

static void test_single_pretty_array(void **state)
{
    (void)state;
    CHECK("[\n"
          "  {\"a\": 1},\n"
          "  {\n"
          "    \"b\": \"x]}\"\n"
          "  }\n"
          "]\n",
          "1:2:array:{\"a\": 1}\n"
          "2:3:array:{\n    \"b\": \"x]}\"\n  }\n"
          "END\n");
    CHECK("[]", "END\n");
    CHECK("[ ]\n[]\n", "END\n");
}

static void test_concatenated_and_mixed(void **state)
{
    (void)state;
    CHECK("[{\"a\":1}]\n[{\"b\":2},{\"c\":3}]", "1:1:array:{\"a\":1}\n"
                                                "2:2:array:{\"b\":2}\n"
                                                "3:2:array:{\"c\":3}\n"
                                                "END\n");
    CHECK("[{\"a\":1}]{\"b\":2}\n[{\"c\":3}]{\"d\":4}", "1:1:array:{\"a\":1}\n"
                                                        "2:1:-:{\"b\":2}\n"
                                                        "3:2:array:{\"c\":3}\n"
                                                        "4:2:-:{\"d\":4}\n"
                                                        "END\n");
    /* Objects concatenated without any separator. */
    CHECK("{\"a\":1}{\"b\":2}", "1:1:-:{\"a\":1}\n2:1:-:{\"b\":2}\nEND\n");
}

static void test_bare_object(void **state)
{
    (void)state;
    CHECK("{\n  \"TenantId\": \"0\",\n  \"x\": [1, {\"y\": null}]\n}\n",
          "1:1:-:{\n  \"TenantId\": \"0\",\n  \"x\": [1, {\"y\": null}]\n}\n"
          "END\n");
    CHECK("{}", "1:1:-:{}\nEND\n");
    CHECK("  \n\n  {\"a\":1}  \n\n", "1:3:-:{\"a\":1}\nEND\n");
}

static void test_json_lines(void **state)
{
    (void)state;
    CHECK("{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n", "1:1:-:{\"a\":1}\n2:2:-:{\"b\":2}\n3:3:-:{\"c\":3}\nEND\n");
    CHECK("{\"a\":1}\n{\"b\":2}\n{\"c\":3}", "1:1:-:{\"a\":1}\n2:2:-:{\"b\":2}\n3:3:-:{\"c\":3}\nEND\n");
    CHECK("{\"a\":1}\r\n{\"b\":2}\r\n\r\n{\"c\":3}\r\n", "1:1:-:{\"a\":1}\n2:2:-:{\"b\":2}\n3:4:-:{\"c\":3}\nEND\n");
    CHECK("", "END\n");
    CHECK(" \r\n\t\n", "END\n");
}

static void test_bom_is_tolerated(void **state)
{
    (void)state;
    CHECK("\xEF\xBB\xBF{\"a\":1}\n", "1:1:-:{\"a\":1}\nEND\n");
    CHECK("\xEF\xBB\xBF[{\"a\":1}]", "1:1:array:{\"a\":1}\nEND\n");
    CHECK("\xEF\xBB\xBF", "END\n");
    CHECK("\xEF\xBB", "1:1:ERR:unexpected byte 0xEF between JSON values\nEND\n");
}

static void test_graph_page(void **state)
{
    (void)state;
    CHECK("{\"@odata.context\":\"https://graph.microsoft.com/v1.0/$metadata#auditLogs/directoryAudits\","
          "\"@odata.count\": 2,\"@odata.extra\":{\"x\":[\"]\"]},\n"
          " \"value\": [\n"
          "  {\"id\":\"1\",\"activityDisplayName\":\"Add user\"},\n"
          "  {\"id\":\"2\"}\n"
          " ],\n"
          " \"@odata.nextLink\": \"https://graph.microsoft.com/v1.0/auditLogs/directoryAudits?$skiptoken=]}{\"\n"
          "}\n"
          "{\"id\":\"3\"}\n",
          "1:3:value:{\"id\":\"1\",\"activityDisplayName\":\"Add user\"}\n"
          "2:4:value:{\"id\":\"2\"}\n"
          "3:8:-:{\"id\":\"3\"}\n"
          "END\n");
}

static void test_wrappers(void **state)
{
    (void)state;
    CHECK("{\"records\":[{\"time\":\"t1\",\"category\":\"SignInLogs\"},{\"time\":\"t2\"}]}",
          "1:1:records:{\"time\":\"t1\",\"category\":\"SignInLogs\"}\n"
          "2:1:records:{\"time\":\"t2\"}\n"
          "END\n");
    CHECK("{\n"
          "    \"events\": [\n"
          "        {\n"
          "            \"message\": \"{\\\"a\\\":1}\"\n"
          "        },\n"
          "        {\"message\": \"[\"}\n"
          "    ]\n"
          "}",
          "1:3:events:{\n            \"message\": \"{\\\"a\\\":1}\"\n        }\n"
          "2:6:events:{\"message\": \"[\"}\n"
          "END\n");
    /* Empty wrapper arrays give no records. */
    CHECK("{\"value\":[]}\n{\"value\":[],\"@odata.nextLink\":\"x\"}", "END\n");
}

static void test_not_wrappers(void **state)
{
    (void)state;
    /* The first member is not "@...": the object is a record. */
    CHECK("{\"id\":1,\"value\":[1]}\n", "1:1:-:{\"id\":1,\"value\":[1]}\nEND\n");
    /* A wrapper name whose value is not an array. */
    CHECK("{\"@odata.context\":\"x\",\"value\":\"v\"}", "1:1:-:{\"@odata.context\":\"x\",\"value\":\"v\"}\nEND\n");
    CHECK("{\"value\":{\"a\":[1]}}", "1:1:-:{\"value\":{\"a\":[1]}}\nEND\n");
    /* Only "@..." members. */
    CHECK("{\"@a\":1,\"@b\":[2]}", "1:1:-:{\"@a\":1,\"@b\":[2]}\nEND\n");
    /* Key case and spelling matter. */
    CHECK("{\"Value\":[1]}", "1:1:-:{\"Value\":[1]}\nEND\n");
    CHECK("{\"val\\u0075e\":[1]}", "1:1:-:{\"val\\u0075e\":[1]}\nEND\n");
    /* Elements of a top-level array are never unwrapped. */
    CHECK("[{\"value\":[{\"a\":1}]}]", "1:1:array:{\"value\":[{\"a\":1}]}\nEND\n");
    /* Malformed heads are records; the consumer rejects them. */
    CHECK("{\"a\" 1}\n{1:2}\n{\"@a\":1 \"b\":2}\n", "1:1:-:{\"a\" 1}\n2:2:-:{1:2}\n3:3:-:{\"@a\":1 \"b\":2}\nEND\n");
}

static void test_strings_with_structure(void **state)
{
    (void)state;
    CHECK("{\"a\":\"}{][\\\"\\\\\",\"b\":\"\\\\\",\"c\":\"\\\\\\\"}\"}\n{\"d\":\"\\u007b\"}",
          "1:1:-:{\"a\":\"}{][\\\"\\\\\",\"b\":\"\\\\\",\"c\":\"\\\\\\\"}\"}\n"
          "2:2:-:{\"d\":\"\\u007b\"}\n"
          "END\n");
    CHECK("[\"a]\\\"\",\"\\\\\"]", "1:1:array:\"a]\\\"\"\n2:1:array:\"\\\\\"\nEND\n");
}

static void test_non_object_elements(void **state)
{
    (void)state;
    CHECK("[1, \"x\", {\"a\":1}, null, [2], -3.5e2,true]",
          "1:1:array:1\n2:1:array:\"x\"\n3:1:array:{\"a\":1}\n4:1:array:null\n5:1:array:[2]\n"
          "6:1:array:-3.5e2\n7:1:array:true\nEND\n");
    /* Stray structural bytes in element position are one-byte records. */
    CHECK("[}, {\"a\":1}]", "1:1:array:}\n2:1:array:{\"a\":1}\nEND\n");
}

static void test_commas(void **state)
{
    (void)state;
    /* Trailing, leading and doubled commas are skipped without a record. */
    CHECK("[{\"a\":1},{\"b\":2},]", "1:1:array:{\"a\":1}\n2:1:array:{\"b\":2}\nEND\n");
    CHECK("[,{\"a\":1},,{\"b\":2}]", "1:1:array:{\"a\":1}\n2:1:array:{\"b\":2}\nEND\n");
    CHECK("{\"value\":[{\"a\":1},\n]}", "1:1:value:{\"a\":1}\nEND\n");
    /* Objects separated by commas at top level (an array without brackets). */
    CHECK("{\"a\":1},\n{\"b\":2},\n", "1:1:-:{\"a\":1}\n2:2:-:{\"b\":2}\nEND\n");
    /* A missing comma between elements is tolerated. */
    CHECK("[{\"a\":1} {\"b\":2}]", "1:1:array:{\"a\":1}\n2:1:array:{\"b\":2}\nEND\n");
}

static void test_truncated_final_record(void **state)
{
    (void)state;
    CHECK("{\"a\":1}\n{\"b\":[1,2", "1:1:-:{\"a\":1}\n2:2:ERR:truncated record at end of input\nEND\n");
    CHECK("[{\"a\":1},{\"b\":\"x", "1:1:array:{\"a\":1}\n2:1:ERR:truncated record at end of input\nEND\n");
    CHECK("{\"value\":[{\"a\":1},{\"b\":", "1:1:value:{\"a\":1}\n2:1:ERR:truncated record at end of input\nEND\n");
    CHECK("{\"@odata.context\":\"x", "1:1:ERR:truncated record at end of input\nEND\n");
    CHECK("{", "1:1:ERR:truncated record at end of input\nEND\n");
    CHECK("{\"a\":\"\\", "1:1:ERR:truncated record at end of input\nEND\n");
    /* Truncation between elements or in a wrapper's tail loses nothing. */
    CHECK("[{\"a\":1},", "1:1:array:{\"a\":1}\nEND\n");
    CHECK("{\"value\":[{\"a\":1}],\"@odata.nextLink\":\"ht", "1:1:value:{\"a\":1}\nEND\n");
    /* A scalar element cut by the end of input is still handed over. */
    CHECK("[1", "1:1:array:1\nEND\n");
}

static void test_garbage_and_resync(void **state)
{
    (void)state;
    CHECK("{\"a\":1}\nthis is junk\n{\"b\":2}\n",
          "1:1:-:{\"a\":1}\n2:2:ERR:unexpected 't' between JSON values\n3:3:-:{\"b\":2}\nEND\n");
    /* One error for a run of bad lines; blank and indented lines are handled. */
    CHECK("{\"a\":1}\njunk\nmore junk\n\n   \n  {\"b\":2}\n",
          "1:1:-:{\"a\":1}\n2:2:ERR:unexpected 'j' between JSON values\n3:6:-:{\"b\":2}\nEND\n");
    /* Junk after a value on the same line: the rest of that line is dropped. */
    CHECK("{\"a\":1}}{\"b\":2}\n{\"c\":3}",
          "1:1:-:{\"a\":1}\n2:1:ERR:unexpected '}' between JSON values\n3:2:-:{\"c\":3}\nEND\n");
    CHECK("42\n{\"a\":1}", "1:1:ERR:unexpected '4' between JSON values\n2:2:-:{\"a\":1}\nEND\n");
    CHECK("\"str\"\n[{\"a\":1}]", "1:1:ERR:unexpected '\"' between JSON values\n2:2:array:{\"a\":1}\nEND\n");
    CHECK("\x01{\"a\":1}\n{\"b\":1}", "1:1:ERR:unexpected byte 0x01 between JSON values\n2:2:-:{\"b\":1}\nEND\n");
    CHECK("junk without newline", "1:1:ERR:unexpected 'j' between JSON values\nEND\n");
}

static void test_truncated_json_lines(void **state)
{
    (void)state;
    /* Cut inside a string: the raw line feed ends the bad record. */
    CHECK("{\"a\":\"abc\n{\"b\":2}\n", "1:1:ERR:record is cut off inside a string at line 1\n2:2:-:{\"b\":2}\nEND\n");
    CHECK("{\"a\":1}\n{\"b\":\"x\r\n{\"c\":3}\r\n",
          "1:1:-:{\"a\":1}\n2:2:ERR:record is cut off inside a string at line 2\n3:3:-:{\"c\":3}\nEND\n");
    /* Cut inside a key. */
    CHECK("{\"ab\n{\"c\":3}", "1:1:ERR:record is cut off inside a string at line 1\n2:2:-:{\"c\":3}\nEND\n");
    /* Cut between tokens: a '{' in column 0 starts the next record. */
    CHECK("{\"a\":{\"x\":1\n{\"b\":2}\n{\"c\":3}\n",
          "1:1:ERR:record is not closed before a new one starts at line 2\n2:2:-:{\"b\":2}\n3:3:-:{\"c\":3}\nEND\n");
    CHECK("{\"a\":1,\n{\"b\":2}",
          "1:1:ERR:record is not closed before a new one starts at line 2\n2:2:-:{\"b\":2}\nEND\n");
    /* Followed by junk: reported once, then resynchronised. */
    CHECK("{\"a\":\"x\nyy\"}\n{\"b\":2}",
          "1:1:ERR:record is cut off inside a string at line 1\n2:3:-:{\"b\":2}\nEND\n");
    /* A pretty-printed object may have '{' in column 0 inside it. */
    CHECK("{\n\"a\": [\n{\n\"b\": 1\n}\n]\n}\n", "1:1:-:{\n\"a\": [\n{\n\"b\": 1\n}\n]\n}\nEND\n");
    /* Raw line feeds inside strings of array elements are left to the consumer. */
    CHECK("[{\"a\":\"x\ny\"}]", "1:1:array:{\"a\":\"x\ny\"}\nEND\n");
}

static void test_max_record(void **state)
{
    (void)state;
    CHECK_MAX("{\"a\":\"0123456789012345678901234567890\"}\n{\"b\":2}\n", 20,
              "1:1:ERR:record exceeds --max-record (20 bytes)\n2:2:-:{\"b\":2}\nEND\n");
    CHECK_MAX("[{\"a\":\"0123456789012345678901234567890\"},\n{\"b\":2}]", 20,
              "1:1:ERR:record exceeds --max-record (20 bytes)\n2:2:array:{\"b\":2}\nEND\n");
    /* Exactly at the limit is fine; one byte more is not. */
    CHECK_MAX("{\"a\":\"0123456789\"}\n{\"a\":\"01234567890\"}\n{\"a\":1}", 18,
              "1:1:-:{\"a\":\"0123456789\"}\n2:2:ERR:record exceeds --max-record (18 bytes)\n3:3:-:{\"a\":1}\nEND\n");
    /* Skipping keeps track of strings and nesting. */
    CHECK_MAX("{\"a\":\"}}}}]]]]{{{{\\\"}}}}}}}}}}}}}}}}}}\",\"b\":[[[{}]]]}\n{\"c\":1}", 16,
              "1:1:ERR:record exceeds --max-record (16 bytes)\n2:2:-:{\"c\":1}\nEND\n");
    /* A too-big record cut off at end of input. */
    CHECK_MAX("{\"a\":1}\n{\"b\":\"0123456789012345678901234567890", 16,
              "1:1:-:{\"a\":1}\n2:2:ERR:record exceeds --max-record (16 bytes)\nEND\n");
    /* A too-big record that is also a truncated JSON Lines record. */
    CHECK_MAX("{\"b\":\"0123456789012345678901234567890\n{\"c\":1}", 16,
              "1:1:ERR:record is cut off inside a string at line 1\n2:2:-:{\"c\":1}\nEND\n");
    /* A wrapper's trailing members are skipped whatever their size. */
    CHECK_MAX("{\"value\":[{\"a\":1}],\"@odata.nextLink\":\"0123456789012345678901234567890123456789\","
              "\"big\":[[[[\"]]]]\"]]],{}]}\n{\"b\":2}",
              16, "1:1:value:{\"a\":1}\n2:2:-:{\"b\":2}\nEND\n");
    /* A wrapper head beyond the limit is taken as one too-big record. */
    CHECK_MAX("{\"@odata.context\":\"0123456789012345678901234567890123456789\",\"value\":[{\"a\":1}]}\n{\"b\":2}", 16,
              "1:1:ERR:record exceeds --max-record (16 bytes)\n2:2:-:{\"b\":2}\nEND\n");
}

static void test_large_limits(void **state)
{
    (void)state;
    /* Records far bigger than one read, with a limit between them. */
    ah_buf in;
    ah_buf_init(&in, 0);
    ah_buf want;
    ah_buf_init(&want, 0);
    size_t sizes[] = {10, 70000, 200000, 300001, 5};
    for (size_t i = 0; i < AH_ARRAY_LEN(sizes); i++) {
        size_t start = in.len;
        ah_buf_puts(&in, "{\"k\":\"");
        for (size_t j = 0; j < sizes[i]; j++)
            ah_buf_putc(&in, (char)('a' + j % 26));
        ah_buf_puts(&in, "\"}");
        size_t rec_len = in.len - start;
        if (rec_len > 300000)
            ah_buf_printf(&want, "%zu:%zu:ERR:record exceeds --max-record (300000 bytes)\n", i + 1, i + 1);
        else {
            ah_buf_printf(&want, "%zu:%zu:-:", i + 1, i + 1);
            ah_buf_append(&want, in.data + start, rec_len);
            ah_buf_putc(&want, '\n');
        }
        ah_buf_putc(&in, '\n');
    }
    ah_buf_puts(&want, "END\n");
    const size_t big_chunks[] = {7, 4096, 65536, SIZE_MAX};
    for (size_t c = 0; c < AH_ARRAY_LEN(big_chunks); c++) {
        char *got = transcript(in.data, in.len, big_chunks[c], 300000, NULL);
        assert_string_equal(got, want.data);
        free(got);
    }
    ah_buf_free(&in);
    ah_buf_free(&want);
}

static uint32_t next_rand(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* Generated JSON Lines and the same records in a pretty array: every
 * record comes back byte for byte, with the right line numbers. */
static void test_generated_streams(void **state)
{
    (void)state;
    uint32_t seed = 42;
    ah_buf jsonl, arr, want_l, want_a, val;
    ah_buf_init(&jsonl, 0);
    ah_buf_init(&arr, 0);
    ah_buf_init(&want_l, 0);
    ah_buf_init(&want_a, 0);
    ah_buf_init(&val, 0);
    ah_buf_puts(&arr, "[\n");
    const int count = 3000;
    for (int i = 0; i < count; i++) {
        ah_buf_reset(&val);
        size_t n = next_rand(&seed) % 300;
        char raw[300];
        for (size_t j = 0; j < n; j++) {
            static const char alpha[] = "ab{}[]\",:\\ \t\n\x01\xc3\xa9";
            raw[j] = alpha[next_rand(&seed) % (sizeof alpha - 1)];
        }
        ah_buf_printf(&val, "{\"Id\":%d,\"s\":", i);
        ah_json_write_string(&val, ah_span_make(raw, n));
        ah_buf_puts(&val, ",\"n\":[{\"x\":[]},{}]}");
        assert_true(ah_json_valid(ah_buf_span(&val)));
        ah_buf_append_span(&jsonl, ah_buf_span(&val));
        ah_buf_puts(&jsonl, i % 2 ? "\r\n" : "\n");
        ah_buf_printf(&want_l, "%d:%d:-:%s\n", i + 1, i + 1, val.data);
        ah_buf_puts(&arr, "  ");
        ah_buf_append_span(&arr, ah_buf_span(&val));
        ah_buf_puts(&arr, i + 1 < count ? ",\n" : "\n");
        ah_buf_printf(&want_a, "%d:%d:array:%s\n", i + 1, i + 2, val.data);
    }
    ah_buf_puts(&arr, "]\n");
    ah_buf_puts(&want_l, "END\n");
    ah_buf_puts(&want_a, "END\n");
    check_split_n(jsonl.data, jsonl.len, 0, want_l.data);
    check_split_n(arr.data, arr.len, 0, want_a.data);
    ah_buf_free(&jsonl);
    ah_buf_free(&arr);
    ah_buf_free(&want_l);
    ah_buf_free(&want_a);
    ah_buf_free(&val);
}

/* Random damage: never a crash, never a read outside the input, every
 * record returned lies inside the input, and the counts add up. */
static void test_noise(void **state)
{
    (void)state;
    static const char doc[] =
        "{\"@odata.context\":\"c\",\"value\":[{\"a\":\"x]\"},{\"b\":[1,{\"c\":\"\\\"\"}]}],\"@n\":1}\n"
        "{\"a\":1}\n[{\"b\":2},{\"c\":\"}\"}]\n{\"records\":[{\"d\":4}]}\n";
    static const char alphabet[] = "{}[]\",:\\@ \n\rav";
    uint32_t seed = 7;
    for (int round = 0; round < 3000; round++) {
        char m[sizeof doc];
        size_t n = sizeof doc - 1;
        memcpy(m, doc, n);
        int flips = 1 + (int)(next_rand(&seed) % 4);
        for (int f = 0; f < flips; f++)
            m[next_rand(&seed) % n] = alphabet[next_rand(&seed) % (sizeof alphabet - 1)];
        char *exact = malloc(n);
        assert_non_null(exact);
        memcpy(exact, m, n);
        size_t max = next_rand(&seed) % 2 ? 0 : 1 + next_rand(&seed) % 40;
        char *first = NULL;
        for (size_t c = 0; c < AH_ARRAY_LEN(chunks); c++) {
            char *t = transcript(exact, n, chunks[c], max, NULL);
            if (!first)
                first = t;
            else {
                if (strcmp(t, first) != 0) {
                    char what[96];
                    snprintf(what, sizeof what, "round %d, max_record %zu, chunk %zu", round, max, chunks[c]);
                    mem_src_dump(what, exact, n);
                }
                assert_string_equal(t, first);
                free(t);
            }
        }
        free(first);
        free(exact);
    }
}

static void test_read_error(void **state)
{
    (void)state;
    static const char in[] = "{\"a\":1}\n{\"b\":2}\n";
    mem_src src = {in, sizeof in - 1, 0, 4, 9};
    ah_reader rd = {mem_read, &src};
    ah_jsplit *s = ah_jsplit_new(&rd, 0);
    ah_json_record rec;
    assert_int_equal(ah_jsplit_next(s, &rec), AH_OK);
    assert_true(ah_span_eq(rec.text, "{\"a\":1}"));
    assert_int_equal(ah_jsplit_next(s, &rec), AH_ERR_STREAM);
    assert_string_equal(ah_jsplit_error(s), "read error");
    assert_int_equal(ah_jsplit_next(s, &rec), AH_ERR_STREAM);
    ah_jsplit_free(s);
    ah_jsplit_free(NULL);
    assert_null(ah_jsplit_new(NULL, 0));
}

/* --- the sample corpus ---------------------------------------------------- */

static const char *corpus_dir(void)
{
    const char *d = getenv("AH_CORPUS");
    return d && *d ? d : "../shared/corpus";
}

static void test_corpus(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        size_t records;
        const char *container;
    } files[] = {
        {"otrf_security_datasets/AADAuditEvents.json", 4, NULL},
        {"otrf_security_datasets/OfficeActivityEvents.json", 1, NULL},
        {"otrf_security_datasets/Microsoft365DefenderEvents.json", 9, NULL},
        {"panther_analysis/entra_diag_SignInLogs.jsonl", 15, NULL},
        {"panther_analysis/entra_diag_AuditLogs.jsonl", 15, NULL},
        {"panther_analysis/o365_mgmt_api.jsonl", 19, NULL},
        {"plaso/microsoft_audit_log.jsonl", 4, NULL},
        {"wazuh/graph_directoryAudits_graph_events.json", 2, "value"},
        {"wazuh/ruleset_testing_office365.jsonl", 128, NULL},
        {"elastic_integrations/o365_test-azuread-sts-logon-events.json", 69, "events"},
        {"elastic_integrations/o365_test-modified-properites.json", 1, "events"},
        {"elastic_integrations/o365_test-parameter-string.json", 2, "events"},
        {"elastic_integrations/o365_test-exchange-admin.log", 100, NULL},
        {"elastic_integrations/azure_signinlogs_test-managed-identity-sample.log", 33, NULL},
        {"elastic_integrations/azure_auditlogs_test-audit-logs-duration-as-string.log", 1, NULL},
        {"elastic_integrations/azure_signinlogs_test-time-formats-corner-cases.log", 11, NULL},
    };
    char path[4096];
    snprintf(path, sizeof path, "%s/README.md", corpus_dir());
    struct stat st;
    if (stat(path, &st) != 0) {
        printf("[  SKIPPED ] test_corpus: corpus not found at %s (set AH_CORPUS)\n", corpus_dir());
        skip();
    }
    for (size_t i = 0; i < AH_ARRAY_LEN(files); i++) {
        snprintf(path, sizeof path, "%s/%s", corpus_dir(), files[i].file);
        size_t len;
        char *data = ah_test_slurp(path, &len);
        assert_non_null(data);
        char *first = NULL;
        for (size_t c = 0; c < AH_ARRAY_LEN(chunks); c++) {
            mem_src src = {data, len, 0, chunks[c], SIZE_MAX};
            ah_reader rd = {mem_read, &src};
            ah_jsplit *s = ah_jsplit_new(&rd, 1 << 20);
            ah_json_record rec;
            ah_status stt;
            size_t n = 0;
            while ((stt = ah_jsplit_next(s, &rec)) == AH_OK) {
                n++;
                assert_int_equal(rec.record_no, n);
                assert_int_equal(ah_json_type_of(rec.text), AH_JSON_OBJECT);
                assert_true(ah_json_valid(rec.text));
                if (files[i].container)
                    assert_string_equal(rec.container, files[i].container);
                else
                    assert_null(rec.container);
            }
            if (stt != AH_END)
                fprintf(stderr, "%s: %s\n", files[i].file, ah_jsplit_error(s));
            assert_int_equal(stt, AH_END);
            if (n != files[i].records)
                fprintf(stderr, "%s: %zu records, want %zu\n", files[i].file, n, files[i].records);
            assert_int_equal(n, files[i].records);
            ah_jsplit_free(s);
            char *t = transcript(data, len, chunks[c], 1 << 20, NULL);
            if (!first)
                first = t;
            else {
                assert_string_equal(t, first);
                free(t);
            }
        }
        free(first);
        free(data);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_pretty_array),
        cmocka_unit_test(test_concatenated_and_mixed),
        cmocka_unit_test(test_bare_object),
        cmocka_unit_test(test_json_lines),
        cmocka_unit_test(test_bom_is_tolerated),
        cmocka_unit_test(test_graph_page),
        cmocka_unit_test(test_wrappers),
        cmocka_unit_test(test_not_wrappers),
        cmocka_unit_test(test_strings_with_structure),
        cmocka_unit_test(test_non_object_elements),
        cmocka_unit_test(test_commas),
        cmocka_unit_test(test_truncated_final_record),
        cmocka_unit_test(test_garbage_and_resync),
        cmocka_unit_test(test_truncated_json_lines),
        cmocka_unit_test(test_max_record),
        cmocka_unit_test(test_large_limits),
        cmocka_unit_test(test_generated_streams),
        cmocka_unit_test(test_noise),
        cmocka_unit_test(test_read_error),
        cmocka_unit_test(test_corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
