/*
 * test_csv.c: the RFC 4180 record reader. Every input is fed through
 * readers that return 1, 7, 4096 bytes and everything at once; the
 * transcript of header, rows and errors must be identical for all of them.
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

#include "parsers/frame/csv.h"
#include "parsers/frame/jscan.h"
#include "parsers/util/buf.h"
#include "support/memsrc.h"

static const size_t chunks[] = {1, 7, 4096, SIZE_MAX};

static void put_cells(ah_buf *out, const ah_span *cells, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ah_buf_putc(out, '<');
        ah_buf_append_span(out, cells[i]);
        ah_buf_putc(out, '>');
    }
}

/* Describe everything the reader yields, one line per call:
 *   H<delim><T if #TYPE>:<cell><cell>...      the header
 *   record_no:line_no:<cell><cell>...         AH_OK
 *   record_no:line_no:ERR:reason              AH_ERR_RECORD
 * then END, or HEADER-END / HEADER-STREAM:reason / STREAM. */
static char *transcript(const char *data, size_t len, size_t chunk, size_t max_record)
{
    mem_src src = {data, len, 0, chunk, SIZE_MAX};
    ah_reader rd = {mem_read, &src};
    ah_csv *c = ah_csv_new(&rd, max_record);
    assert_non_null(c);
    ah_buf out;
    ah_buf_init(&out, 0);
    ah_status st = ah_csv_read_header(c);
    if (st == AH_END) {
        ah_buf_puts(&out, "HEADER-END\n");
    } else if (st != AH_OK) {
        ah_buf_printf(&out, "HEADER-STREAM:%s\n", ah_csv_error(c));
    } else {
        ah_buf_printf(&out, "H%c%s:", ah_csv_delimiter(c), ah_csv_had_type_line(c) ? "T" : "");
        for (size_t i = 0; i < ah_csv_ncols(c); i++) {
            ah_span h = ah_csv_header(c, i);
            put_cells(&out, &h, 1);
        }
        ah_buf_putc(&out, '\n');
        for (int guard = 0;; guard++) {
            assert_true(guard < 1000000);
            ah_csv_row row;
            st = ah_csv_next(c, &row);
            if (st == AH_OK) {
                ah_buf_printf(&out, "%llu:%llu:", (unsigned long long)row.record_no, (unsigned long long)row.line_no);
                put_cells(&out, row.cells, row.ncells);
                ah_buf_putc(&out, '\n');
            } else if (st == AH_ERR_RECORD) {
                ah_buf_printf(&out, "%llu:%llu:ERR:%s\n", (unsigned long long)row.record_no,
                              (unsigned long long)row.line_no, ah_csv_error(c));
            } else if (st == AH_END) {
                ah_buf_puts(&out, "END\n");
                assert_int_equal(ah_csv_next(c, &row), AH_END);
                break;
            } else {
                ah_buf_printf(&out, "STATUS %d\n", (int)st);
                break;
            }
        }
    }
    ah_csv_free(c);
    char *text = strdup(ah_buf_cstr(&out));
    ah_buf_free(&out);
    return text;
}

static void check_csv_n(const char *in, size_t len, size_t max_record, const char *want)
{
    for (size_t i = 0; i < AH_ARRAY_LEN(chunks); i++) {
        char *got = transcript(in, len, chunks[i], max_record);
        if (strcmp(got, want) != 0)
            fprintf(stderr, "chunk %zu:\n--- got ---\n%s--- want ---\n%s", chunks[i], got, want);
        assert_string_equal(got, want);
        free(got);
    }
}
#define CHECK(in, want) check_csv_n(in, sizeof(in) - 1, 0, want)
#define CHECK_MAX(in, max, want) check_csv_n(in, sizeof(in) - 1, max, want)

static void test_basic(void **state)
{
    (void)state;
    CHECK("a,b,c\n1,2,3\n4,5,6\n", "H,:<a><b><c>\n1:2:<1><2><3>\n2:3:<4><5><6>\nEND\n");
    /* Last record without a newline; empty cells; ragged rows are returned as they are. */
    CHECK("a,b,c\n1,,3\n,\n4", "H,:<a><b><c>\n1:2:<1><><3>\n2:3:<><>\n3:4:<4>\nEND\n");
    CHECK("a,b\n1,", "H,:<a><b>\n1:2:<1><>\nEND\n");
    CHECK("a,b\n\"x\",\"\"", "H,:<a><b>\n1:2:<x><>\nEND\n");
    /* Header only. */
    CHECK("a,b\n", "H,:<a><b>\nEND\n");
    CHECK("a,b", "H,:<a><b>\nEND\n");
    /* Spaces are data. */
    CHECK("a , b\n 1 ,2 \n", "H,:<a >< b>\n1:2:< 1 ><2 >\nEND\n");
}

static void test_quoting(void **state)
{
    (void)state;
    CHECK("h1,h2\r\n"
          "\"x,y\",\"he said \"\"hi\"\"\"\r\n"
          "\"line1\r\nline2\",z\r\n"
          "3,4\r\n",
          "H,:<h1><h2>\n"
          "1:2:<x,y><he said \"hi\">\n"
          "2:3:<line1\r\nline2><z>\n"
          "3:5:<3><4>\nEND\n");
    /* Quoted LF-only and lone CR inside quotes; a blank line inside quotes is data. */
    CHECK("a\n\"1\n\n2\"\n\"3\r4\"\nz\n", "H,:<a>\n1:2:<1\n\n2>\n2:5:<3\r4>\n3:6:<z>\nEND\n");
    /* Quotes only: """" is one quote; """""" is two. */
    CHECK("a,b\n\"\"\"\",\"\"\"\"\"\"\n", "H,:<a><b>\n1:2:<\"><\"\">\nEND\n");
}

static void test_lenient_quotes(void **state)
{
    (void)state;
    /* A quote inside an unquoted cell is literal; bytes after a closing quote are appended. */
    CHECK("a,b,c\na\"b,\"c\"d,\"e\"\"f\"g\n", "H,:<a><b><c>\n1:2:<a\"b><cd><e\"fg>\nEND\n");
    CHECK("a\nx\"\"y\n\"p\" q\"r\n", "H,:<a>\n1:2:<x\"\"y>\n2:3:<p q\"r>\nEND\n");
    /* Text after the closing quote up to a CR or LF. */
    CHECK("a\n\"p\"q\r\n\"r\"\n", "H,:<a>\n1:2:<pq>\n2:3:<r>\nEND\n");
}

static void test_line_endings(void **state)
{
    (void)state;
    CHECK("a,b\r\n1,2\r\n3,4\r\n", "H,:<a><b>\n1:2:<1><2>\n2:3:<3><4>\nEND\n");
    CHECK("a,b\n1,2\r\n3,4\n5,6\r\n", "H,:<a><b>\n1:2:<1><2>\n2:3:<3><4>\n3:4:<5><6>\nEND\n");
    /* Lone CR ends a record outside quotes. */
    CHECK("a,b\r1,2\r3,4", "H,:<a><b>\n1:2:<1><2>\n2:3:<3><4>\nEND\n");
    CHECK("a,b\r\"1\",\"2\"\r\"3\"x\r", "H,:<a><b>\n1:2:<1><2>\n2:3:<3x>\nEND\n");
    /* A CR at the very end. */
    CHECK("a\n1\r", "H,:<a>\n1:2:<1>\nEND\n");
    /* CR CR LF: a record end then a blank line. */
    CHECK("a\n1\r\r\n2\n", "H,:<a>\n1:2:<1>\n2:4:<2>\nEND\n");
}

static void test_blank_lines(void **state)
{
    (void)state;
    CHECK("a\n\n1\n\r\n\n2\n\n", "H,:<a>\n1:3:<1>\n2:6:<2>\nEND\n");
    CHECK("\n\r\n\na,b\n1,2\n", "H,:<a><b>\n1:5:<1><2>\nEND\n");
    CHECK("a\n\r\r\r1", "H,:<a>\n1:5:<1>\nEND\n");
}

static void test_type_line(void **state)
{
    (void)state;
    CHECK("#TYPE System.Management.Automation.PSCustomObject\r\n"
          "\"RecordType\",\"CreationDate\"\r\n"
          "\"ExchangeAdmin\",\"1/13/2021 4:05:22 PM\"\r\n",
          "H,T:<RecordType><CreationDate>\n1:3:<ExchangeAdmin><1/13/2021 4:05:22 PM>\nEND\n");
    CHECK("\xEF\xBB\xBF#TYPE Selected.System.Object\n\xEF\xBB\xBF\"A\";\"B\"\n1;2\n", "H;T:<A><B>\n1:3:<1><2>\nEND\n");
    /* "#TYPE" must start the input; elsewhere it is data. */
    CHECK("x\n#TYPE y\n", "H,:<x>\n1:2:<#TYPE y>\nEND\n");
    CHECK("#TYPE x\n", "HEADER-STREAM:no header line after the #TYPE line\n");
    CHECK("#TYPE x", "HEADER-STREAM:no header line after the #TYPE line\n");
    CHECK("#TYPE x\n\n\n", "HEADER-STREAM:no header line after the #TYPE line\n");
}

static void test_delimiter_sniffing(void **state)
{
    (void)state;
    CHECK("a;b;c\n1;2,5;3\n", "H;:<a><b><c>\n1:2:<1><2,5><3>\nEND\n");
    CHECK("\"x,y,z\";a;b\n1;2;3\n", "H;:<x,y,z><a><b>\n1:2:<1><2><3>\nEND\n");
    /* Semicolons inside quotes do not count; a tie means ','. */
    CHECK("\"a;b;c\",d\n1,2\n", "H,:<a;b;c><d>\n1:2:<1><2>\nEND\n");
    CHECK("a;b,c\n1;2,3\n", "H,:<a;b><c>\n1:2:<1;2><3>\nEND\n");
    CHECK("single\nv\n", "H,:<single>\n1:2:<v>\nEND\n");
    /* Only the header line is looked at. */
    CHECK("a,b\n1;2;3;4\n", "H,:<a><b>\n1:2:<1;2;3;4>\nEND\n");
    /* A header whose quoted name spans lines. */
    CHECK("\"a;\nb\";c;d\n1;2;3\n", "H;:<a;\nb><c><d>\n1:3:<1><2><3>\nEND\n");
}

static void test_bom(void **state)
{
    (void)state;
    CHECK("\xEF\xBB\xBF"
          "Date (UTC),x\n1,2\n",
          "H,:<Date (UTC)><x>\n1:2:<1><2>\nEND\n");
    CHECK("\"\xEF\xBB\xBF"
          "Date (UTC)\",x\n1,2\n",
          "H,:<Date (UTC)><x>\n1:2:<1><2>\nEND\n");
    CHECK("\xEF\xBB\xBF\"Date (UTC)\",x\n1,2\n", "H,:<Date (UTC)><x>\n1:2:<1><2>\nEND\n");
    /* Only a leading BOM is removed; later names and data keep theirs. */
    CHECK("a,\xEF\xBB\xBF"
          "b\n\xEF\xBB\xBF"
          "1,2\n",
          "H,:<a><\xEF\xBB\xBF"
          "b>\n1:2:<\xEF\xBB\xBF"
          "1><2>\nEND\n");
}

static void test_empty_and_bad_headers(void **state)
{
    (void)state;
    CHECK("", "HEADER-END\n");
    CHECK("\n\r\n\n", "HEADER-END\n");
    CHECK("\xEF\xBB\xBF", "HEADER-END\n");
    CHECK("\"abc\ndef", "HEADER-STREAM:bad header line: unterminated quoted cell starting at line 1\n");
    CHECK_MAX("0123456789,0123456789\n1,2\n", 16, "HEADER-STREAM:header line exceeds --max-record (16 bytes)\n");
    CHECK_MAX("0123456789,01234\n1,2\n", 16, "H,:<0123456789><01234>\n1:2:<1><2>\nEND\n");
}

static void test_unterminated_quote(void **state)
{
    (void)state;
    CHECK("a,b\n1,\"abc\n2,3\n", "H,:<a><b>\n1:2:ERR:unterminated quoted cell starting at line 2\nEND\n");
    CHECK("a,b\n1,2\n\n3,\"x\"\"\n",
          "H,:<a><b>\n1:2:<1><2>\n2:4:ERR:unterminated quoted cell starting at line 4\nEND\n");
    CHECK("a\n\"x\ny\nz", "H,:<a>\n1:2:ERR:unterminated quoted cell starting at line 2\nEND\n");
}

static void test_max_record(void **state)
{
    (void)state;
    CHECK_MAX("a,b\n\"0123456789\",\"0123456789\"\n1,2\n", 16,
              "H,:<a><b>\n1:2:ERR:record exceeds --max-record (16 bytes)\n2:3:<1><2>\nEND\n");
    /* Quote state is tracked while skipping: the newlines in quotes do not end the record. */
    CHECK_MAX("a,b\n\"aaaaaaaaaaaaaaaaaaaaaa\nbbb,ccc\n\"\"x\"\"\n\",x\nok,1\n", 16,
              "H,:<a><b>\n1:2:ERR:record exceeds --max-record (16 bytes)\n2:6:<ok><1>\nEND\n");
    /* Exactly at the limit is accepted, one more byte is not (terminators do not count). */
    CHECK_MAX("h\n0123456789abcdef\r\n0123456789abcdefg\r\n0123456789abcdef\r0123456789abcdef", 16,
              "H,:<h>\n1:2:<0123456789abcdef>\n2:3:ERR:record exceeds --max-record (16 bytes)\n"
              "3:4:<0123456789abcdef>\n4:5:<0123456789abcdef>\nEND\n");
    CHECK_MAX("h\n\"0123456789abcd\"\n\"0123456789abcd\"\"\"\n", 16,
              "H,:<h>\n1:2:<0123456789abcd>\n2:3:ERR:record exceeds --max-record (16 bytes)\nEND\n");
    /* Too big and unterminated. */
    CHECK_MAX("h\n\"0123456789abcdefghij\n", 16, "H,:<h>\n1:2:ERR:unterminated quoted cell starting at line 2\nEND\n");
    /* Too big at the end of input without a newline. */
    CHECK_MAX("h\n1\n0123456789abcdefghij", 16,
              "H,:<h>\n1:2:<1>\n2:3:ERR:record exceeds --max-record (16 bytes)\nEND\n");
}

static void test_purview_row(void **state)
{
    (void)state;
    /* formats.md 2.2: AuditData with doubled quotes, a JSON-escaped quote (\"") and \r\n escapes. */
    static const char in[] =
        "RecordId,CreationDate,RecordType,Operation,UserId,AuditData,AssociatedAdminUnits,AssociatedAdminUnitsNames\r\n"
        "538815b7-273a-4a3f-9957-c86897966eec,9/20/2023 4:05:03 AM,8,Add service principal.,Certificate,"
        "\"{\"\"CreationTime\"\":\"\"2023-09-20T04:05:03\"\",\"\"Id\"\":\"\"538815b7-273a-4a3f-9957-c86897966eec\"\","
        "\"\"ExtendedProperties\"\":[{\"\"Name\"\":\"\"additionalDetails\"\",\"\"Value\"\":\"\"{\\\"\"AppId\\\"\":"
        "\\\"\"66244124-575c-4284-92bc-fdd00e669cea\\\"\"}\"\"}],\"\"ModifiedProperties\"\":[{\"\"Name\"\":"
        "\"\"AccountEnabled\"\",\"\"NewValue\"\":\"\"[\\r\\n  true\\r\\n]\"\",\"\"OldValue\"\":\"\"[]\"\"}],"
        "\"\"SupportTicketId\"\":\"\"\"\"}\",,\r\n";
    static const char audit[] =
        "{\"CreationTime\":\"2023-09-20T04:05:03\",\"Id\":\"538815b7-273a-4a3f-9957-c86897966eec\","
        "\"ExtendedProperties\":[{\"Name\":\"additionalDetails\",\"Value\":\"{\\\"AppId\\\":"
        "\\\"66244124-575c-4284-92bc-fdd00e669cea\\\"}\"}],\"ModifiedProperties\":[{\"Name\":"
        "\"AccountEnabled\",\"NewValue\":\"[\\r\\n  true\\r\\n]\",\"OldValue\":\"[]\"}],"
        "\"SupportTicketId\":\"\"}";
    for (size_t i = 0; i < AH_ARRAY_LEN(chunks); i++) {
        mem_src src = {in, sizeof in - 1, 0, chunks[i], SIZE_MAX};
        ah_reader rd = {mem_read, &src};
        ah_csv *c = ah_csv_new(&rd, 1 << 20);
        assert_int_equal(ah_csv_read_header(c), AH_OK);
        assert_int_equal(ah_csv_ncols(c), 8);
        assert_true(ah_span_eq(ah_csv_header(c, 5), "AuditData"));
        assert_true(ah_span_eq(ah_csv_header(c, 7), "AssociatedAdminUnitsNames"));
        assert_null(ah_csv_header(c, 8).p);
        ah_csv_row row;
        assert_int_equal(ah_csv_next(c, &row), AH_OK);
        assert_int_equal(row.ncells, 8);
        assert_int_equal(row.record_no, 1);
        assert_int_equal(row.line_no, 2);
        assert_true(ah_span_eq(row.cells[3], "Add service principal."));
        assert_int_equal(row.cells[5].n, sizeof audit - 1);
        assert_memory_equal(row.cells[5].p, audit, sizeof audit - 1);
        assert_int_equal(row.cells[6].n, 0);
        assert_int_equal(row.cells[7].n, 0);
        /* The cell is valid JSON, and the nested JSON-in-a-string decodes too. */
        assert_true(ah_json_valid(row.cells[5]));
        ah_span props, first, value;
        assert_true(ah_json_get(row.cells[5], "extendedproperties", &props));
        ah_json_iter it;
        assert_int_equal(ah_json_array_begin(&it, props), AH_OK);
        assert_int_equal(ah_json_array_next(&it, &first), AH_OK);
        assert_true(ah_json_get(first, "Value", &value));
        ah_buf inner;
        ah_buf_init(&inner, 0);
        assert_int_equal(ah_json_unescape(value, &inner), AH_OK);
        assert_string_equal(ah_buf_cstr(&inner), "{\"AppId\":\"66244124-575c-4284-92bc-fdd00e669cea\"}");
        ah_buf_free(&inner);
        assert_int_equal(ah_csv_next(c, &row), AH_END);
        ah_csv_free(c);
    }
}

static void test_many_columns(void **state)
{
    (void)state;
    ah_buf in, want;
    ah_buf_init(&in, 0);
    ah_buf_init(&want, 0);
    ah_buf_puts(&want, "H,:");
    for (int i = 0; i < 1000; i++) {
        ah_buf_printf(&in, "%sc%d", i ? "," : "", i);
        ah_buf_printf(&want, "<c%d>", i);
    }
    ah_buf_puts(&in, "\n");
    ah_buf_puts(&want, "\n1:2:");
    for (int i = 0; i < 1000; i++) {
        ah_buf_printf(&in, "%s\"%d\"", i ? "," : "", i);
        ah_buf_printf(&want, "<%d>", i);
    }
    ah_buf_puts(&want, "\nEND\n");
    check_csv_n(in.data, in.len, 0, want.data);
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

/* Write cells the way an RFC 4180 writer would, read them back. */
static void test_generated_roundtrip(void **state)
{
    (void)state;
    uint32_t seed = 2024;
    for (int pass = 0; pass < 2; pass++) {
        char d = pass ? ';' : ',';
        ah_buf in, want;
        ah_buf_init(&in, 0);
        ah_buf_init(&want, 0);
        ah_buf_printf(&in, "A%cB%cC\r\n", d, d);
        ah_buf_printf(&want, "H%c:<A><B><C>\n", d);
        uint64_t line = 2;
        for (int r = 0; r < 2000; r++) {
            ah_buf_printf(&want, "%d:%llu:", r + 1, (unsigned long long)line);
            for (int col = 0; col < 3; col++) {
                char cell[200];
                size_t n = next_rand(&seed) % sizeof cell;
                for (size_t j = 0; j < n; j++) {
                    static const char alpha[] = "ab \",;\r\n\t{}\xc3\xa9";
                    cell[j] = alpha[next_rand(&seed) % (sizeof alpha - 1)];
                }
                ah_buf_putc(&want, '<');
                ah_buf_append(&want, cell, n);
                ah_buf_putc(&want, '>');
                if (col)
                    ah_buf_putc(&in, d);
                bool quote = n == 0 ? (next_rand(&seed) & 1) : true;
                if (!memchr(cell, '"', n) && !memchr(cell, d, n) && !memchr(cell, '\n', n) && !memchr(cell, '\r', n) &&
                    n > 0)
                    quote = next_rand(&seed) & 1;
                if (col == 0 && n == 0)
                    quote = true; /* a lone empty unquoted cell would be a blank line */
                if (quote)
                    ah_buf_putc(&in, '"');
                for (size_t j = 0; j < n; j++) {
                    if (cell[j] == '"')
                        ah_buf_putc(&in, '"');
                    if (cell[j] == '\n')
                        line++;
                    ah_buf_putc(&in, cell[j]);
                }
                if (quote)
                    ah_buf_putc(&in, '"');
            }
            ah_buf_puts(&want, "\n");
            ah_buf_puts(&in, r % 3 == 0 ? "\n" : "\r\n");
            line++;
        }
        ah_buf_puts(&want, "END\n");
        check_csv_n(in.data, in.len, 0, want.data);
        ah_buf_free(&in);
        ah_buf_free(&want);
    }
}

/* Random damage: never a crash or a read outside the input, and the
 * result does not depend on how the input is chunked. */
static void test_noise(void **state)
{
    (void)state;
    static const char doc[] = "\"A\",B;C\r\n1,\"x,\"\"y\"\"\",3\n\"p\nq\",r\r\n,\n\"z\"w,\"\",\r\n";
    static const char alphabet[] = "\",;\r\n a\xEF\xBB\xBF#";
    uint32_t seed = 99;
    for (int round = 0; round < 3000; round++) {
        char m[sizeof doc];
        size_t n = sizeof doc - 1;
        memcpy(m, doc, n);
        int flips = 1 + (int)(next_rand(&seed) % 4);
        for (int f = 0; f < flips; f++)
            m[next_rand(&seed) % n] = alphabet[next_rand(&seed) % (sizeof alphabet - 1)];
        if (next_rand(&seed) % 4 == 0)
            n = next_rand(&seed) % n;
        char *exact = malloc(n ? n : 1);
        assert_non_null(exact);
        memcpy(exact, m, n);
        size_t max = next_rand(&seed) % 2 ? 0 : 1 + next_rand(&seed) % 24;
        char *first = NULL;
        for (size_t c = 0; c < AH_ARRAY_LEN(chunks); c++) {
            char *t = transcript(exact, n, chunks[c], max);
            if (!first) {
                first = t;
                continue;
            }
            if (strcmp(t, first) != 0) {
                char what[96];
                snprintf(what, sizeof what, "round %d, max_record %zu, chunk %zu", round, max, chunks[c]);
                mem_src_dump(what, exact, n);
            }
            assert_string_equal(t, first);
            free(t);
        }
        free(first);
        free(exact);
    }
}

static void test_api_misuse_and_read_errors(void **state)
{
    (void)state;
    static const char in[] = "a,b\n1,2\n3,4\n";
    mem_src src = {in, sizeof in - 1, 0, 4, 8};
    ah_reader rd = {mem_read, &src};
    ah_csv *c = ah_csv_new(&rd, 0);
    ah_csv_row row;
    assert_int_equal(ah_csv_next(c, &row), AH_ERR_STREAM);
    assert_string_equal(ah_csv_error(c), "ah_csv_next called before ah_csv_read_header");
    assert_int_equal(ah_csv_read_header(c), AH_OK);
    assert_int_equal(ah_csv_read_header(c), AH_ERR_STREAM);
    assert_string_equal(ah_csv_error(c), "the header was already read");
    assert_int_equal(ah_csv_next(c, &row), AH_OK);
    assert_true(ah_span_eq(row.cells[1], "2"));
    assert_int_equal(ah_csv_next(c, &row), AH_ERR_STREAM);
    assert_string_equal(ah_csv_error(c), "read error");
    assert_int_equal(ah_csv_next(c, &row), AH_ERR_STREAM);
    ah_csv_free(c);

    src = (mem_src){in, sizeof in - 1, 0, 1, 2};
    c = ah_csv_new(&rd, 0);
    assert_int_equal(ah_csv_read_header(c), AH_ERR_STREAM);
    assert_int_equal(ah_csv_next(c, &row), AH_ERR_STREAM);
    ah_csv_free(c);

    ah_csv_free(NULL);
    assert_null(ah_csv_new(NULL, 0));
    assert_int_equal(ah_csv_ncols(NULL), 0);
}

static void key_case(const char *name, size_t size, const char *want)
{
    char buf[64];
    memset(buf, 'X', sizeof buf);
    ah_csv_header_key(ah_span_cstr(name), buf, size);
    assert_string_equal(buf, want);
}

static void test_header_key(void **state)
{
    (void)state;
    key_case("Date (UTC)", 64, "date (utc)");
    key_case("  Date \t  (UTC)\r\n", 64, "date (utc)");
    key_case("User\r\nAgent", 64, "user agent");
    key_case("Incoming token type", 64, "incoming token type");
    key_case("   ", 64, "");
    key_case("", 64, "");
    key_case("\xC3\x89tat", 64, "\xC3\x89tat"); /* non-ASCII is left alone */
    key_case("Date (UTC)", 5, "date");
    key_case("Date (UTC)", 6, "date ");
    key_case("ab  cd", 4, "ab ");
    key_case("ABC", 1, "");
    char buf[4] = "zzz";
    ah_csv_header_key(ah_span_cstr("x"), buf, 0);
    assert_string_equal(buf, "zzz");
    ah_csv_header_key(AH_SPAN_NULL, buf, sizeof buf);
    assert_string_equal(buf, "");
}

static const char *corpus_dir(void)
{
    const char *d = getenv("AH_CORPUS");
    return d && *d ? d : "../shared/corpus";
}

static void test_corpus(void **state)
{
    (void)state;
    char path[4096];
    snprintf(path, sizeof path, "%s/plaso/m365_activity_log_002.csv", corpus_dir());
    FILE *f = fopen(path, "rb");
    if (!f) {
        printf("[  SKIPPED ] test_corpus: %s not found (set AH_CORPUS)\n", path);
        skip();
    }
    ah_buf data;
    ah_buf_init(&data, 0);
    char tmp[4096];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        ah_buf_append(&data, tmp, n);
    fclose(f);
    char *first = NULL;
    for (size_t c = 0; c < AH_ARRAY_LEN(chunks); c++) {
        mem_src src = {data.data, data.len, 0, chunks[c], SIZE_MAX};
        ah_reader rd = {mem_read, &src};
        ah_csv *csv = ah_csv_new(&rd, 1 << 20);
        assert_int_equal(ah_csv_read_header(csv), AH_OK);
        assert_int_equal(ah_csv_delimiter(csv), ',');
        assert_int_equal(ah_csv_ncols(csv), 12);
        assert_true(ah_span_eq(ah_csv_header(csv, 0), "Event ID")); /* the file's BOM is gone */
        assert_true(ah_span_eq(ah_csv_header(csv, 11), "Organizations"));
        char key[64];
        ah_csv_header_key(ah_csv_header(csv, 4), key, sizeof key);
        assert_string_equal(key, "user principle name");
        ah_csv_row row;
        ah_status st;
        uint64_t rows = 0;
        while ((st = ah_csv_next(csv, &row)) == AH_OK) {
            rows++;
            assert_int_equal(row.record_no, rows);
            assert_int_equal(row.line_no, rows + 1);
            assert_int_equal(row.ncells, 12);
        }
        assert_int_equal(st, AH_END);
        assert_int_equal(rows, 15);
        ah_csv_free(csv);
        char *t = transcript(data.data, data.len, chunks[c], 1 << 20);
        if (!first)
            first = t;
        else {
            assert_string_equal(t, first);
            free(t);
        }
    }
    free(first);
    ah_buf_free(&data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_quoting),
        cmocka_unit_test(test_lenient_quotes),
        cmocka_unit_test(test_line_endings),
        cmocka_unit_test(test_blank_lines),
        cmocka_unit_test(test_type_line),
        cmocka_unit_test(test_delimiter_sniffing),
        cmocka_unit_test(test_bom),
        cmocka_unit_test(test_empty_and_bad_headers),
        cmocka_unit_test(test_unterminated_quote),
        cmocka_unit_test(test_max_record),
        cmocka_unit_test(test_purview_row),
        cmocka_unit_test(test_many_columns),
        cmocka_unit_test(test_generated_roundtrip),
        cmocka_unit_test(test_noise),
        cmocka_unit_test(test_api_misuse_and_read_errors),
        cmocka_unit_test(test_header_key),
        cmocka_unit_test(test_corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
