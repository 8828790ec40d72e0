/*
 * test_xlsx_writer.c: the XLSX timeline writer (analyzer/output/xlsx.c)
 * through the writer API. The workbook is opened with libarchive (not the
 * library that wrote it) and its sheet XML inspected: the cells' types and
 * text, the sheets a row limit starts, the extra sheets, and the digest
 * the writer records for the file it committed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/output/sink.h"
#include "analyzer/output/timeline.h"
#include "parsers/util/sha256.h"
#include "support/tmpdir.h"

typedef ah_test_tmpdir fixture;

static int setup(void **state) { return ah_test_tmpdir_setup(state, "ah-xlsx", "t.xlsx"); }
static int teardown(void **state) { return ah_test_tmpdir_teardown(state); }

/* The member `name` of the zip at path, NUL-terminated; NULL when absent. */
static char *zip_member(const char *path, const char *name)
{
    struct archive *a = archive_read_new();
    archive_read_support_format_zip(a);
    char *out = NULL;
    if (archive_read_open_filename(a, path, 65536) == ARCHIVE_OK) {
        struct archive_entry *e;
        while (!out && archive_read_next_header(a, &e) == ARCHIVE_OK) {
            if (strcmp(archive_entry_pathname(e), name) != 0)
                continue;
            size_t cap = 1 << 16, len = 0;
            out = malloc(cap);
            la_ssize_t k;
            while (out && (k = archive_read_data(a, out + len, cap - len - 1)) > 0) {
                len += (size_t)k;
                if (cap - len < 2) {
                    char *bigger = realloc(out, cap *= 2);
                    if (!bigger) {
                        free(out);
                        out = NULL;
                        break;
                    }
                    out = bigger;
                }
            }
            if (out)
                out[len] = '\0';
        }
    }
    archive_read_free(a);
    return out;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

static ah_writer *open_xlsx(fixture *f, ah_writer_options *o, ah_output_list *outs)
{
    ah_writer_options_init(o);
    o->format = AH_OUT_XLSX;
    o->path = f->path;
    o->outputs = outs;
    ah_status st;
    ah_writer *w = ah_writer_open(o, NULL, &st);
    assert_int_equal(st, AH_OK);
    return w;
}

static void row_of(ah_row *r, const char *user, const char *details)
{
    memset(r, 0, sizeof *r);
    r->has_time = true;
    r->time = (ah_time){1610553731, 987654321}; /* 2021-01-13T16:02:11.9876543Z */
    r->level = 4;                               /* critical */
    r->col[AH_COL_SEVERITY] = ah_span_cstr("critical");
    r->col[AH_COL_USER] = ah_span_cstr(user);
    r->col[AH_COL_DETAILS] = ah_span_cstr(details);
    r->input_record = 7;
}

static void test_cells(void **state)
{
    fixture *f = *state;
    ah_output_list outs = {0};
    ah_writer_options o;
    ah_writer *w = open_xlsx(f, &o, &outs);
    assert_non_null(w);
    assert_true(ah_writer_has_sheets(w));
    ah_row r;
    row_of(&r, "=HYPERLINK(\"http://evil.example\")", "ctl\x01here _x0041_ <b>&amp;");
    assert_int_equal(ah_writer_write(w, &r), AH_OK);
    /* a cell past Excel's limit, and invalid UTF-8 */
    size_t big = 40000;
    char *longtext = malloc(big + 1);
    assert_non_null(longtext);
    memset(longtext, 'x', big);
    longtext[big] = '\0';
    row_of(&r, "bad\xff", longtext);
    r.has_time = false;
    assert_int_equal(ah_writer_write(w, &r), AH_OK);
    free(longtext);
    ah_writer_stats ws;
    assert_int_equal(ah_writer_close(w, &ws), AH_OK);
    assert_int_equal(ws.rows, 2);
    assert_int_equal(ws.files, 1);
    assert_int_equal(ws.cells_truncated, 1);
    assert_int_equal(ws.cells_repaired, 1);
    assert_int_equal(ws.cells_neutralised, 0); /* strings are never evaluated: nothing to neutralise */

    char *sheet = zip_member(f->path, "xl/worksheets/sheet1.xml");
    assert_non_null(sheet);
    assert_null(strstr(sheet, "<f>"));
    assert_non_null(strstr(sheet, "<pane ySplit=\"1\""));
    assert_non_null(strstr(sheet, "<autoFilter ref=\"A1:U3\"/>")); /* 21 columns: time_iso added */
    /* time: a number (2021-01-13T16:02:11.987Z as an Excel serial), then the exact text */
    assert_non_null(strstr(sheet, "<c r=\"A2\" s="));
    assert_non_null(strstr(sheet, "><v>44209.66819429"));
    assert_non_null(strstr(sheet, "<t>2021-01-13T16:02:11.9876543Z</t>"));
    /* the formula stays a string; the control character and a literal escape are shown as such */
    assert_non_null(strstr(sheet, "t=\"inlineStr\"><is><t>=HYPERLINK(\"http://evil.example\")</t>"));
    assert_non_null(strstr(sheet, "<t>ctl\\x01here _x005F_x0041_ &lt;b&gt;&amp;amp;</t>"));
    assert_non_null(strstr(sheet, "<t>bad\xEF\xBF\xBD</t>"));
    assert_non_null(strstr(sheet, "\xE2\x80\xA6[truncated "));
    /* input_record is a number cell */
    assert_non_null(strstr(sheet, "<v>7</v>"));
    /* the row with no time has no time value, only the row's tint (an empty styled cell) */
    const char *a3 = strstr(sheet, "<c r=\"A3\"");
    assert_non_null(a3);
    assert_true(strchr(a3, '>')[-1] == '/');
    const char *b3 = strstr(sheet, "<c r=\"B3\"");
    assert_non_null(b3);
    assert_true(strchr(b3, '>')[-1] == '/');
    free(sheet);
    char *styles = zip_member(f->path, "xl/styles.xml");
    assert_non_null(styles);
    assert_non_null(strstr(styles, "formatCode=\"yyyy-mm-dd hh:mm:ss.000\""));
    free(styles);

    /* The digest recorded is the committed file's. */
    assert_int_equal(outs.n, 1);
    assert_string_equal(outs.v[0].path, f->path);
    size_t len;
    char *bytes = ah_test_slurp(f->path, &len);
    ah_sha256 h;
    ah_sha256_init(&h);
    ah_sha256_update(&h, bytes, len);
    char hex[65];
    ah_sha256_hex(&h, hex);
    assert_string_equal(outs.v[0].sha256, hex);
    assert_int_equal(outs.v[0].bytes, len);
    free(bytes);
    ah_output_list_free(&outs);
}

static void test_sheet_rows_and_extra_sheets(void **state)
{
    fixture *f = *state;
    ah_writer_options o;
    ah_writer_options_init(&o);
    o.format = AH_OUT_XLSX;
    o.path = f->path;
    o.split_rows = 2; /* stands in for 1,048,575 */
    ah_status st;
    ah_writer *w = ah_writer_open(&o, NULL, &st);
    assert_non_null(w);
    for (int i = 0; i < 5; i++) {
        ah_row r;
        row_of(&r, "u@contoso.com", "d");
        r.input_record = (uint64_t)i + 1;
        assert_int_equal(ah_writer_write(w, &r), AH_OK);
    }
    /* rows of an extra sheet need the sheet first */
    ah_sheet_cell cells[2] = {{.kind = AH_SHEET_TEXT, .text = ah_span_cstr("+1+2")},
                              {.kind = AH_SHEET_NUMBER, .number = 42}};
    assert_int_equal(ah_writer_sheet_row(w, cells, 2), AH_ERR_USAGE);
    static const double widths[2] = {20, 10};
    assert_int_equal(ah_writer_sheet_begin(w, "Rules", widths, 2, true), AH_OK);
    assert_int_equal(ah_writer_sheet_row(w, cells, 2), AH_OK);
    assert_int_equal(ah_writer_sheet_row(w, cells, 3), AH_ERR_USAGE);                    /* wider than the sheet */
    assert_int_equal(ah_writer_sheet_begin(w, "Rules", widths, 2, false), AH_ERR_USAGE); /* name taken */
    assert_int_equal(ah_writer_close(w, NULL), AH_OK);

    char *book = zip_member(f->path, "xl/workbook.xml");
    assert_non_null(book);
    const char *want[] = {"name=\"Timeline\"", "name=\"Timeline 2\"", "name=\"Timeline 3\"", "name=\"Rules\""};
    const char *at = book;
    for (size_t i = 0; i < 4; i++) {
        at = strstr(at, want[i]);
        assert_non_null(at); /* and in this order */
    }
    assert_null(strstr(book, "Timeline 4"));
    free(book);
    for (int s = 1; s <= 3; s++) {
        char name[64];
        snprintf(name, sizeof name, "xl/worksheets/sheet%d.xml", s);
        char *sheet = zip_member(f->path, name);
        assert_non_null(sheet);
        assert_int_equal(count(sheet, "<row "), s < 3 ? 3 : 2); /* header + 2, 2, 1 */
        assert_non_null(strstr(sheet, "<t>time_iso</t>"));
        free(sheet);
    }
    char *rules = zip_member(f->path, "xl/worksheets/sheet4.xml");
    assert_non_null(rules);
    assert_non_null(strstr(rules, "t=\"inlineStr\"><is><t>+1+2</t>"));
    assert_non_null(strstr(rules, "<v>42</v>"));
    assert_null(strstr(rules, "<f>"));
    free(rules);
}

static void test_refusals(void **state)
{
    fixture *f = *state;
    ah_writer_options o;
    ah_writer_options_init(&o);
    o.format = AH_OUT_XLSX;
    o.path = "-"; /* a zip is complete only at its end */
    ah_status st;
    assert_null(ah_writer_open(&o, NULL, &st));
    assert_int_equal(st, AH_ERR_USAGE);
    /* an existing file is kept without force, as for every format */
    FILE *fp = fopen(f->path, "w");
    assert_non_null(fp);
    fputs("evidence", fp);
    fclose(fp);
    o.path = f->path;
    assert_null(ah_writer_open(&o, NULL, &st));
    assert_int_equal(st, AH_ERR_USAGE);
    /* other formats take no sheets */
    o.format = AH_OUT_CSV;
    o.force = true;
    ah_writer *w = ah_writer_open(&o, NULL, &st);
    assert_non_null(w);
    assert_false(ah_writer_has_sheets(w));
    static const double widths[1] = {10};
    assert_int_equal(ah_writer_sheet_begin(w, "Summary", widths, 1, false), AH_ERR_USAGE);
    ah_writer_abort(w);
    /* an aborted workbook leaves nothing behind but the file that was there */
    o.format = AH_OUT_XLSX;
    w = ah_writer_open(&o, NULL, &st);
    assert_non_null(w);
    ah_row r;
    row_of(&r, "u", "d");
    assert_int_equal(ah_writer_write(w, &r), AH_OK);
    ah_writer_abort(w);
    char *kept = ah_test_slurp(f->path, NULL);
    assert_string_equal(kept, "evidence");
    free(kept);
    DIR *d = opendir(f->dir);
    struct dirent *e;
    size_t n = 0;
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0; /* a temporary would count */
    closedir(d);
    assert_int_equal(n, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cells, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sheet_rows_and_extra_sheets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
