/*
 * test_csv_writer.c: the CSV timeline writer and its cell encoder.
 *
 * Exact bytes for small outputs; everything else is read back with a small
 * strict RFC 4180 reader written here (independent of parsers/frame/csv.c)
 * and compared cell by cell. Files go to a mkdtemp directory that each test
 * removes again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyzer/output/csvcell.h"
#include "analyzer/output/timeline.h"
#include "support/tmpdir.h"

/* ---- files ----------------------------------------------------------------- */

typedef ah_test_tmpdir fixture;

static int setup(void **state) { return ah_test_tmpdir_setup(state, "ah-csvw", "out.csv"); }

static int teardown(void **state) { return ah_test_tmpdir_teardown(state); }

static size_t count_entries(const char *dir)
{
    size_t n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    if (d)
        closedir(d);
    return n;
}

/* ---- an independent, strict RFC 4180 reader ------------------------------------ */

typedef struct csv_doc {
    size_t nrows;
    size_t ncells[64];
    char *cell[64][24];
    size_t cell_len[64][24];
    bool all_quoted; /* every cell was quoted */
} csv_doc;

static void doc_free(csv_doc *d)
{
    for (size_t r = 0; r < d->nrows; r++)
        for (size_t c = 0; c < d->ncells[r]; c++)
            free(d->cell[r][c]);
}

/* Returns false on any RFC 4180 violation. Records end in CRLF. */
static bool rfc4180_parse(const char *p, size_t n, char delim, csv_doc *d)
{
    memset(d, 0, sizeof *d);
    d->all_quoted = true;
    size_t i = 0;
    while (i < n) {
        if (d->nrows == 64)
            return false;
        size_t r = d->nrows++;
        for (;;) {
            if (d->ncells[r] == 24)
                return false;
            size_t c = d->ncells[r]++;
            char *out = malloc(n - i + 1);
            size_t k = 0;
            d->cell[r][c] = out;
            if (i < n && p[i] == '"') {
                i++;
                for (;;) {
                    if (i >= n)
                        return false; /* unterminated */
                    if (p[i] == '"') {
                        if (i + 1 < n && p[i + 1] == '"') {
                            out[k++] = '"';
                            i += 2;
                            continue;
                        }
                        i++;
                        break;
                    }
                    out[k++] = p[i++];
                }
            } else {
                d->all_quoted = false;
                while (i < n && p[i] != delim && p[i] != '\r' && p[i] != '\n') {
                    if (p[i] == '"')
                        return false; /* quote inside an unquoted field */
                    out[k++] = p[i++];
                }
            }
            out[k] = '\0';
            d->cell_len[r][c] = k;
            if (i < n && p[i] == delim) {
                i++;
                continue;
            }
            if (i + 1 < n && p[i] == '\r' && p[i + 1] == '\n') {
                i += 2;
                break;
            }
            return false; /* record must end in CRLF (we always write one) */
        }
    }
    return true;
}

/* ---- rows ------------------------------------------------------------------------ */

static void row_init(ah_row *r)
{
    memset(r, 0, sizeof *r);
    r->has_time = true;
    r->time = (ah_time){1704164645, 123456789}; /* 2024-01-02T03:04:05.1234567Z */
    r->col[AH_COL_SEVERITY] = ah_span_cstr("high");
    r->col[AH_COL_RULE_ID] = ah_span_cstr("D11");
    r->col[AH_COL_RULE_TITLE] = ah_span_cstr("Credentials added to a service principal");
    r->col[AH_COL_TAGS] = ah_span_cstr("attack.t1098.001,attack.persistence");
    r->col[AH_COL_SOURCE] = ah_span_cstr("ual");
    r->col[AH_COL_OPERATION] = ah_span_cstr("Add service principal credentials.");
    r->col[AH_COL_USER] = ah_span_cstr("admin@contoso.com");
    r->col[AH_COL_IP] = ah_span_cstr("203.0.113.7");
    r->col[AH_COL_APP] = ah_span_cstr("Azure Portal");
    r->col[AH_COL_USER_AGENT] = ah_span_cstr("Mozilla/5.0");
    r->col[AH_COL_RESULT] = ah_span_cstr("success");
    r->col[AH_COL_TARGET] = ah_span_cstr("app \"X\"");
    r->col[AH_COL_DETAILS] = ah_span_cstr("KeyType: Password | KeyUsage: Verify");
    r->col[AH_COL_RECORD_ID] = ah_span_cstr("0f1e2d3c");
    r->col[AH_COL_INPUT] = ah_span_cstr("ual.zip!a.csv");
    r->input_record = 42;
    r->tie = 7;
}

/* The byte-level tests compare from the header on: no BOM unless a test
 * asks for one (the default has its own tests, test_exact_bytes first). */
static ah_writer *open_csv(const char *path, ah_writer_options *o, ah_status *st)
{
    o->format = AH_OUT_CSV;
    o->path = path;
    if (o->bom == AH_BOM_AUTO)
        o->bom = AH_BOM_NEVER;
    return ah_writer_open(o, NULL, st);
}

#define HEADER                                                                                                         \
    "\"time\",\"severity\",\"rule_id\",\"rule_title\",\"tags\",\"source\",\"operation\",\"user\",\"ip\","              \
    "\"app\",\"user_agent\",\"result\",\"target\",\"details\",\"record_id\",\"input\",\"input_record\","               \
    "\"app_id\",\"target_id\",\"related_ids\"\r\n"

/* ---- tests ------------------------------------------------------------------------- */

static void test_exact_bytes(void **state)
{
    fixture *f = *state;
    ah_writer_options o;
    ah_writer_options_init(&o);
    o.path = f->path; /* defaults: CSV, and a BOM since this is a regular file */
    ah_status st;
    ah_writer *w = ah_writer_open(&o, NULL, &st);
    assert_non_null(w);
    ah_row r;
    row_init(&r);
    assert_int_equal(ah_writer_write(w, &r), AH_OK);
    /* no time, absent and empty cells, no record number */
    ah_row e;
    memset(&e, 0, sizeof e);
    e.col[AH_COL_USER] = ah_span_make("", 0);
    assert_int_equal(ah_writer_write(w, &e), AH_OK);
    ah_writer_stats stats;
    assert_int_equal(ah_writer_close(w, &stats), AH_OK);
    size_t len;
    char *got = ah_test_slurp(f->path, &len);
    const char *want =
        "\xEF\xBB\xBF" HEADER
        "\"2024-01-02T03:04:05.1234567Z\",\"high\",\"D11\",\"Credentials added to a service principal\","
        "\"attack.t1098.001,attack.persistence\",\"ual\",\"Add service principal credentials.\",\"admin@contoso.com\","
        "\"203.0.113.7\",\"Azure Portal\",\"Mozilla/5.0\",\"success\",\"app \"\"X\"\"\","
        "\"KeyType: Password | KeyUsage: Verify\",\"0f1e2d3c\",\"ual.zip!a.csv\",\"42\",\"\",\"\",\"\"\r\n"
        "\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\"\r\n";
    assert_string_equal(got, want);
    assert_int_equal(len, strlen(want));
    assert_int_equal(stats.rows, 2);
    assert_int_equal(stats.files, 1);
    assert_int_equal(stats.bytes, len);
    assert_int_equal(stats.cells_truncated, 0);
    assert_int_equal(stats.cells_neutralised, 0);
    assert_int_equal(count_entries(f->dir), 1); /* no temporary file left */
    free(got);
}

static void test_empty_timeline_and_bom(void **state)
{
    fixture *f = *state;
    ah_writer_options o;
    ah_writer_options_init(&o);
    o.bom = true;
    ah_status st;
    ah_writer *w = open_csv(f->path, &o, &st);
    assert_non_null(w);
    assert_int_equal(ah_writer_close(w, NULL), AH_OK);
    char *got = ah_test_slurp(f->path, NULL);
    assert_string_equal(got, "\xEF\xBB\xBF" HEADER);
    free(got);
}

/* --no-bom (NEVER) drops it from files; --bom (ALWAYS) keeps it on devices,
 * where AUTO writes none. Standard output (AUTO: none) is checked end to end. */
static void test_bom_modes(void **state)
{
    fixture *f = *state;
    static const ah_bom_mode modes[] = {AH_BOM_NEVER, AH_BOM_ALWAYS};
    for (size_t i = 0; i < AH_ARRAY_LEN(modes); i++) {
        ah_writer_options o;
        ah_writer_options_init(&o);
        o.path = f->path;
        o.force = true;
        o.bom = modes[i];
        ah_status st;
        ah_writer *w = ah_writer_open(&o, NULL, &st);
        assert_non_null(w);
        assert_int_equal(ah_writer_close(w, NULL), AH_OK);
        char *got = ah_test_slurp(f->path, NULL);
        assert_string_equal(got, modes[i] == AH_BOM_ALWAYS ? "\xEF\xBB\xBF" HEADER : HEADER);
        free(got);
    }
    /* A device gets none by default and one on request: count the bytes. */
    for (int always = 0; always <= 1; always++) {
        ah_writer_options o;
        ah_writer_options_init(&o);
        o.path = "/dev/null";
        o.bom = always ? AH_BOM_ALWAYS : AH_BOM_AUTO;
        ah_status st;
        ah_writer *w = ah_writer_open(&o, NULL, &st);
        assert_non_null(w);
        ah_writer_stats stats;
        assert_int_equal(ah_writer_close(w, &stats), AH_OK);
        assert_int_equal(stats.bytes, strlen(HEADER) + (always ? 3 : 0));
    }
}

static void test_roundtrip_hostile_cells(void **state)
{
    fixture *f = *state;
    static const char *const cells[] = {
        "a,b",  "say \"hi\"", "line1\nline2", "cr\rhere",   "crlf\r\nx", " lead", "trail ", "\"",
        "\"\"", ",",          "tab\tinside",  "ümlaut ✓ 😀", "",          "NUL?",  "a;b",
    };
    for (int delim_i = 0; delim_i < 3; delim_i++) {
        char delim = ",;\t"[delim_i];
        ah_writer_options o;
        ah_writer_options_init(&o);
        o.delimiter = delim;
        o.force = true;
        ah_status st;
        ah_writer *w = open_csv(f->path, &o, &st);
        assert_non_null(w);
        for (size_t i = 0; i < AH_ARRAY_LEN(cells); i++) {
            ah_row r;
            row_init(&r);
            r.col[AH_COL_DETAILS] = ah_span_cstr(cells[i]);
            r.col[AH_COL_USER_AGENT] = ah_span_cstr(cells[(i + 1) % AH_ARRAY_LEN(cells)]);
            assert_int_equal(ah_writer_write(w, &r), AH_OK);
        }
        assert_int_equal(ah_writer_close(w, NULL), AH_OK);
        size_t len;
        char *got = ah_test_slurp(f->path, &len);
        csv_doc d;
        assert_true(rfc4180_parse(got, len, delim, &d));
        assert_true(d.all_quoted);
        assert_int_equal(d.nrows, 1 + AH_ARRAY_LEN(cells));
        for (size_t r = 0; r < d.nrows; r++)
            assert_int_equal(d.ncells[r], AH_COL_COUNT);
        for (size_t c = 0; c < AH_COL_COUNT; c++)
            assert_string_equal(d.cell[0][c], ah_col_name((ah_col_id)c));
        for (size_t i = 0; i < AH_ARRAY_LEN(cells); i++) {
            assert_string_equal(d.cell[1 + i][AH_COL_DETAILS], cells[i]);
            assert_string_equal(d.cell[1 + i][AH_COL_USER_AGENT], cells[(i + 1) % AH_ARRAY_LEN(cells)]);
            assert_string_equal(d.cell[1 + i][AH_COL_INPUT_RECORD], "42");
        }
        doc_free(&d);
        free(got);
    }
}

static void test_formula_neutralisation(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *in;
        const char *out;
    } cases[] = {
        {"=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"},
        {"+1", "'+1"},
        {"-5", "'-5"}, /* documented: negative numbers get the prefix too */
        {"@SUM(A1)", "'@SUM(A1)"},
        {"\tx", "'\tx"},
        {"\rx", "'\rx"},
        {"\xEF\xBC\x9D"
         "1+1",
         "'\xEF\xBC\x9D"
         "1+1"}, /* ＝ */
        {"\xEF\xBC\x8B"
         "1",
         "'\xEF\xBC\x8B"
         "1"}, /* ＋ */
        {"\xEF\xBC\x8D"
         "1",
         "'\xEF\xBC\x8D"
         "1"}, /* － */
        {"\xEF\xBC\xA0"
         "x",
         "'\xEF\xBC\xA0"
         "x"}, /* ＠ */
        {"a=b", "a=b"},
        {" =1", " =1"},
        {"'quoted", "'quoted"},
        {"\xEF\xBC\x9E", "\xEF\xBC\x9E"}, /* ＞ is harmless */
        {"", ""},
    };
    for (int safe = 0; safe < 2; safe++) {
        ah_writer_options o;
        ah_writer_options_init(&o);
        o.excel_safe = safe;
        o.force = true;
        ah_status st;
        ah_writer *w = open_csv(f->path, &o, &st);
        assert_non_null(w);
        for (size_t i = 0; i < AH_ARRAY_LEN(cases); i++) {
            ah_row r;
            memset(&r, 0, sizeof r);
            r.col[AH_COL_TARGET] = ah_span_cstr(cases[i].in);
            assert_int_equal(ah_writer_write(w, &r), AH_OK);
        }
        ah_writer_stats stats;
        assert_int_equal(ah_writer_close(w, &stats), AH_OK);
        assert_int_equal(stats.cells_neutralised, safe ? 10 : 0);
        size_t len;
        char *got = ah_test_slurp(f->path, &len);
        csv_doc d;
        assert_true(rfc4180_parse(got, len, ',', &d));
        for (size_t i = 0; i < AH_ARRAY_LEN(cases); i++)
            assert_string_equal(d.cell[1 + i][AH_COL_TARGET], safe ? cases[i].out : cases[i].in);
        doc_free(&d);
        free(got);
    }
}

static void test_cell_truncation_small(void **state)
{
    (void)state;
    ah_buf b;
    ah_buf_init(&b, 0);
    unsigned flags;
    /* 30 units allowed; "…[truncated NN chars]" is 21 units here, so 9 are kept. */
    assert_int_equal(ah_csvout_cell(&b, ah_span_cstr("abcdefghijklmnopqrstuvwxyz0123456789"), true, 30, &flags), AH_OK);
    assert_string_equal(ah_buf_cstr(&b), "\"abcdefghi\xE2\x80\xA6[truncated 27 chars]\"");
    assert_int_equal(flags, AH_CELL_TRUNCATED);
    /* exactly at the limit: untouched */
    ah_buf_reset(&b);
    assert_int_equal(ah_csvout_cell(&b, ah_span_cstr("abcdefghijklmnopqrstuvwxyz0123"), true, 30, &flags), AH_OK);
    assert_string_equal(ah_buf_cstr(&b), "\"abcdefghijklmnopqrstuvwxyz0123\"");
    assert_int_equal(flags, 0);
    /* the ' prefix counts: 30 units + prefix = 31 > 30 */
    ah_buf_reset(&b);
    assert_int_equal(ah_csvout_cell(&b, ah_span_cstr("=bcdefghijklmnopqrstuvwxyz0123"), true, 30, &flags), AH_OK);
    assert_string_equal(ah_buf_cstr(&b), "\"'=bcdefgh\xE2\x80\xA6[truncated 22 chars]\"");
    assert_int_equal(flags, AH_CELL_TRUNCATED | AH_CELL_NEUTRALISED);
    /* a surrogate pair (2 units) is never split: 8 units of room, "😀" x5 = 10 units */
    ah_buf_reset(&b);
    assert_int_equal(ah_csvout_cell(&b,
                                    ah_span_cstr("a\xF0\x9F\x98\x80\xF0\x9F\x98\x80\xF0\x9F\x98\x80\xF0\x9F\x98\x80"
                                                 "\xF0\x9F\x98\x80xxxxxxxxxxxxxxxxxxxx"),
                                    false, 28, &flags),
                     AH_OK);
    /* 31 units; marker "…[truncated 24 chars]" 21 units -> 7 kept: a + 3 emoji; the 4th would need 8 */
    assert_string_equal(ah_buf_cstr(&b),
                        "\"a\xF0\x9F\x98\x80\xF0\x9F\x98\x80\xF0\x9F\x98\x80\xE2\x80\xA6[truncated 24 chars]\"");
    /* doubled quotes are CSV syntax, not cell characters */
    ah_buf_reset(&b);
    assert_int_equal(ah_csvout_cell(&b, ah_span_cstr("\"\"\"\""), false, 4, &flags), AH_OK);
    assert_string_equal(ah_buf_cstr(&b), "\"\"\"\"\"\"\"\"\"\"");
    assert_int_equal(flags, 0);
    /* invalid UTF-8 is repaired: lone continuation, overlong, surrogate, truncated sequence */
    ah_buf_reset(&b);
    assert_int_equal(ah_csvout_cell(&b,
                                    ah_span_make("a\x80"
                                                 "b\xC0\xAF"
                                                 "c\xED\xA0\x80"
                                                 "d\xE2\x82",
                                                 12),
                                    false, 0, &flags),
                     AH_OK);
    assert_string_equal(ah_buf_cstr(&b), "\"a\xEF\xBF\xBD"
                                         "b\xEF\xBF\xBD\xEF\xBF\xBD"
                                         "c\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
                                         "d\xEF\xBF\xBD\xEF\xBF\xBD\"");
    assert_int_equal(flags, AH_CELL_REPAIRED);
    /* a buffer limit leaves the buffer as it was */
    ah_buf small;
    ah_buf_init(&small, 8);
    assert_int_equal(ah_buf_puts(&small, "ab"), AH_OK);
    assert_int_equal(ah_csvout_cell(&small, ah_span_cstr("0123456789"), false, 0, &flags), AH_ERR_TOOBIG);
    assert_string_equal(ah_buf_cstr(&small), "ab");
    ah_buf_free(&small);
    ah_buf_free(&b);
}

/* UTF-16 units of UTF-8 text (valid input assumed). */
static size_t utf16_units(const char *s, size_t n)
{
    size_t u = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c & 0xC0) != 0x80)
            u += c >= 0xF0 ? 2 : 1;
    }
    return u;
}

/* Independent strict UTF-8 check (RFC 3629). */
static bool valid_utf8(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (len == 0 || i + len > n)
            return false;
        uint32_t cp = len == 1 ? c : c & (0xFFu >> (len + 1));
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (p[i + k] & 0x3F);
        }
        static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min_cp[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

/* Random bytes, random limits: the cell is always valid UTF-8, one quoted
 * RFC 4180 field, within the limit, and exact whenever nothing was cut or
 * repaired. */
/* NUL, ESC, DEL in a field are shown, never written raw or dropped:
 * "New-InboxRule\0" must not look like "New-InboxRule" in the timeline. */
static void test_control_characters_visible(void **state)
{
    (void)state;
    ah_buf b;
    ah_buf_init(&b, 0);
    unsigned flags;
    assert_int_equal(ah_csvout_cell(&b, ah_span_make("New-InboxRule\0", 14), false, 0, &flags), AH_OK);
    assert_string_equal(b.data, "\"New-InboxRule\\x00\"");
    assert_true(flags & AH_CELL_ESCAPED);
    ah_buf_reset(&b);
    assert_int_equal(ah_csvout_cell(&b,
                                    ah_span_cstr("a\x1b[2J\x07"
                                                 "b\x7f\tc\r\nd"),
                                    false, 0, &flags),
                     AH_OK);
    assert_string_equal(b.data, "\"a\\x1b[2J\\x07b\\x7f\tc\r\nd\"");
    ah_buf_reset(&b);
    /* an escape counts 4 units and is never cut in half */
    assert_int_equal(ah_csvout_cell(&b, ah_span_make("\0\0\0\0\0\0\0\0\0\0", 10), false, 30, &flags), AH_OK);
    assert_true(flags & AH_CELL_TRUNCATED);
    assert_non_null(strstr(b.data, "\\x00\xE2\x80\xA6[truncated"));
    ah_buf_free(&b);
}

static void test_cell_random(void **state)
{
    (void)state;
    static const char alphabet[][5] = {"a",
                                       "\"",
                                       ",",
                                       "\r",
                                       "\n",
                                       "=",
                                       "-",
                                       " ",
                                       "\xC3\xA9",
                                       "\xE2\x82\xAC",
                                       "\xF0\x9F\x98\x80",
                                       "\xEF\xBC\x9D",
                                       "\x80",
                                       "\xC3",
                                       "\xED\xA0\x80",
                                       "\xF4\x90\x80\x80",
                                       "\xE2\x80\xA6",
                                       "\x1b",
                                       "\x7f",
                                       "\x01"};
    uint64_t seed = 0x2545F4914F6CDD1Dull;
    ah_buf b;
    ah_buf_init(&b, 0);
    for (int iter = 0; iter < 20000; iter++) {
        char text[256];
        size_t n = 0;
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        size_t pieces = seed % 40;
        for (size_t k = 0; k < pieces; k++) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            const char *a = alphabet[seed % AH_ARRAY_LEN(alphabet)];
            memcpy(text + n, a, strlen(a));
            n += strlen(a);
        }
        size_t max = (size_t)(seed >> 32) % 60;
        max = max < 30 ? 0 : max; /* 0 = unlimited; otherwise room for the marker */
        bool safe = (seed >> 50) & 1;
        unsigned flags;
        ah_buf_reset(&b);
        assert_int_equal(ah_csvout_cell(&b, ah_span_make(text, n), safe, max, &flags), AH_OK);
        assert_true(valid_utf8((const unsigned char *)b.data, b.len));
        csv_doc d;
        char line[1024];
        memcpy(line, b.data, b.len);
        memcpy(line + b.len, "\r\n", 2);
        assert_true(rfc4180_parse(line, b.len + 2, ',', &d));
        assert_int_equal(d.nrows, 1);
        assert_int_equal(d.ncells[0], 1);
        const char *cell = d.cell[0][0];
        size_t clen = d.cell_len[0][0];
        if (max)
            assert_true(utf16_units(cell, clen) <= max);
        assert_int_equal((flags & AH_CELL_NEUTRALISED) != 0,
                         safe && ah_csvout_needs_neutralising(ah_span_make(text, n)));
        if (flags & AH_CELL_NEUTRALISED)
            assert_int_equal(cell[0], '\'');
        assert_null(memchr(cell, 0x1b, clen)); /* controls never raw */
        assert_null(memchr(cell, 0x7f, clen));
        if (!(flags & (AH_CELL_TRUNCATED | AH_CELL_REPAIRED | AH_CELL_ESCAPED))) {
            size_t off = (flags & AH_CELL_NEUTRALISED) ? 1 : 0;
            assert_int_equal(clen, n + off);
            assert_memory_equal(cell + off, text, n);
        }
        doc_free(&d);
    }
    ah_buf_free(&b);
}

static void test_excel_cell_limit(void **state)
{
    fixture *f = *state;
    size_t big = 40000;
    char *a = malloc(big + 1);
    assert_non_null(a);
    memset(a, 'a', big);
    a[big] = '\0';
    /* 3-byte characters: bytes and units differ */
    size_t nch = 33000;
    char *u = malloc(nch * 3 + 1);
    assert_non_null(u);
    for (size_t i = 0; i < nch; i++)
        memcpy(u + 3 * i, "\xE2\x82\xAC", 3); /* € */
    u[nch * 3] = '\0';
    char *exact = malloc(AH_EXCEL_MAX_CELL_CHARS + 1);
    assert_non_null(exact);
    memset(exact, 'b', AH_EXCEL_MAX_CELL_CHARS);
    exact[AH_EXCEL_MAX_CELL_CHARS] = '\0';

    ah_writer_options o;
    ah_writer_options_init(&o);
    ah_status st;
    ah_writer *w = open_csv(f->path, &o, &st);
    assert_non_null(w);
    ah_row r;
    row_init(&r);
    r.col[AH_COL_DETAILS] = ah_span_cstr(a);
    r.col[AH_COL_TARGET] = ah_span_cstr(u);
    assert_int_equal(ah_writer_write(w, &r), AH_OK);
    r.col[AH_COL_DETAILS] = ah_span_cstr(exact);
    r.col[AH_COL_TARGET] = ah_span_cstr("-");
    assert_int_equal(ah_writer_write(w, &r), AH_OK);
    ah_writer_stats stats;
    assert_int_equal(ah_writer_close(w, &stats), AH_OK);
    assert_int_equal(stats.cells_truncated, 2);
    assert_int_equal(stats.cells_neutralised, 1);

    size_t len;
    char *got = ah_test_slurp(f->path, &len);
    csv_doc d;
    assert_true(rfc4180_parse(got, len, ',', &d));
    const char *c1 = d.cell[1][AH_COL_DETAILS];
    size_t n1 = d.cell_len[1][AH_COL_DETAILS];
    assert_int_equal(utf16_units(c1, n1), AH_EXCEL_MAX_CELL_CHARS);
    /* kept + dropped = 40000; the marker "…[truncated 7256 chars]" is 23 units */
    assert_true(n1 > 30 && strcmp(c1 + n1 - strlen("\xE2\x80\xA6[truncated 7256 chars]"),
                                  "\xE2\x80\xA6[truncated 7256 chars]") == 0);
    assert_int_equal(strspn(c1, "a"), AH_EXCEL_MAX_CELL_CHARS - 23);
    const char *c2 = d.cell[1][AH_COL_TARGET];
    size_t n2 = d.cell_len[1][AH_COL_TARGET];
    assert_int_equal(utf16_units(c2, n2), AH_EXCEL_MAX_CELL_CHARS);
    const char *m = strstr(c2, "\xE2\x80\xA6[truncated ");
    assert_non_null(m);
    size_t dropped = 0;
    assert_int_equal(sscanf(m, "\xE2\x80\xA6[truncated %zu chars]", &dropped), 1);
    assert_int_equal((size_t)(m - c2) % 3, 0); /* no split character */
    assert_int_equal((size_t)(m - c2) / 3 + dropped, nch);
    assert_int_equal(dropped, 255);
    assert_string_equal(d.cell[2][AH_COL_DETAILS], exact);
    assert_string_equal(d.cell[2][AH_COL_TARGET], "'-");
    doc_free(&d);
    free(got);
    free(a);
    free(u);
    free(exact);
}

static void test_split_files(void **state)
{
    fixture *f = *state;
    for (int nrows = 4; nrows <= 5; nrows++) {
        ah_writer_options o;
        ah_writer_options_init(&o);
        o.split_rows = 2;
        o.force = true;
        o.bom = true;
        ah_status st;
        ah_writer *w = open_csv(f->path, &o, &st);
        assert_non_null(w);
        for (int i = 0; i < nrows; i++) {
            ah_row r;
            memset(&r, 0, sizeof r);
            r.input_record = (uint64_t)i + 1;
            assert_int_equal(ah_writer_write(w, &r), AH_OK);
        }
        /* nothing has its final name before close */
        char part2[160], part3[160];
        snprintf(part2, sizeof part2, "%s/out-002.csv", f->dir);
        snprintf(part3, sizeof part3, "%s/out-003.csv", f->dir);
        if (nrows == 4)
            assert_int_equal(access(f->path, F_OK), -1);
        ah_writer_stats stats;
        assert_int_equal(ah_writer_close(w, &stats), AH_OK);
        assert_int_equal(stats.rows, (uint64_t)nrows);
        assert_int_equal(stats.files, nrows == 4 ? 2 : 3);
        const char *row_tail = "\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",";
        char want[1024];
        char *p1 = ah_test_slurp(f->path, NULL), *p2 = ah_test_slurp(part2, NULL), *p3 = ah_test_slurp(part3, NULL);
        const char *end = ",\"\",\"\",\"\"\r\n";
        snprintf(want, sizeof want, "\xEF\xBB\xBF" HEADER "%s\"1\"%s%s\"2\"%s", row_tail, end, row_tail, end);
        assert_string_equal(p1, want);
        snprintf(want, sizeof want, "\xEF\xBB\xBF" HEADER "%s\"3\"%s%s\"4\"%s", row_tail, end, row_tail, end);
        assert_string_equal(p2, want);
        if (nrows == 4) {
            assert_null(p3); /* an exact multiple makes no empty extra file */
        } else {
            snprintf(want, sizeof want, "\xEF\xBB\xBF" HEADER "%s\"5\"%s", row_tail, end);
            assert_string_equal(p3, want);
        }
        free(p1);
        free(p2);
        free(p3);
        assert_int_equal(count_entries(f->dir), nrows == 4 ? 2 : 3);
    }
}

static void test_split_refuses_existing_part(void **state)
{
    fixture *f = *state;
    char part2[160];
    snprintf(part2, sizeof part2, "%s/out-002.csv", f->dir);
    FILE *fp = fopen(part2, "w");
    assert_non_null(fp);
    fputs("keep me", fp);
    fclose(fp);
    ah_writer_options o;
    ah_writer_options_init(&o);
    o.split_rows = 1;
    ah_status st;
    ah_writer *w = open_csv(f->path, &o, &st);
    assert_non_null(w);
    ah_row r;
    memset(&r, 0, sizeof r);
    assert_int_equal(ah_writer_write(w, &r), AH_OK);
    assert_int_equal(ah_writer_write(w, &r), AH_ERR_USAGE); /* out-002.csv exists */
    assert_int_equal(ah_writer_write(w, &r), AH_ERR_USAGE); /* failed stays failed */
    assert_int_equal(ah_writer_close(w, NULL), AH_ERR_USAGE);
    char *kept = ah_test_slurp(part2, NULL);
    assert_string_equal(kept, "keep me");
    free(kept);
    assert_int_equal(access(f->path, F_OK), -1); /* part 1 was discarded, not committed */
    assert_int_equal(count_entries(f->dir), 1);
}

static void test_abort_removes_temp(void **state)
{
    fixture *f = *state;
    ah_writer_options o;
    ah_writer_options_init(&o);
    o.split_rows = 1;
    ah_status st;
    ah_writer *w = open_csv(f->path, &o, &st);
    assert_non_null(w);
    ah_row r;
    row_init(&r);
    for (int i = 0; i < 3; i++)
        assert_int_equal(ah_writer_write(w, &r), AH_OK);
    assert_int_equal(count_entries(f->dir), 3); /* three temporary parts */
    ah_writer_abort(w);
    assert_int_equal(count_entries(f->dir), 0);
    ah_writer_abort(NULL);
    assert_int_equal(ah_writer_close(NULL, NULL), AH_OK);
}

static void test_time_columns(void **state)
{
    fixture *f = *state;
    ah_writer_options o;
    ah_writer_options_init(&o);
    o.excel_dates = true;
    o.tz = "UTC";
    o.zoneinfo_dir = f->dir; /* empty: the built-in UTC is used */
    ah_status st;
    ah_writer *w = open_csv(f->path, &o, &st);
    assert_non_null(w);
    ah_row r;
    memset(&r, 0, sizeof r);
    r.has_time = true;
    r.time = (ah_time){-1, 999999999}; /* 1969-12-31T23:59:59.9999999Z: digits dropped, not rounded */
    assert_int_equal(ah_writer_write(w, &r), AH_OK);
    assert_int_equal(ah_writer_close(w, NULL), AH_OK);
    size_t len;
    char *got = ah_test_slurp(f->path, &len);
    csv_doc d;
    assert_true(rfc4180_parse(got, len, ',', &d));
    assert_int_equal(d.ncells[0], AH_COL_COUNT + 2);
    assert_string_equal(d.cell[0][0], "time");
    assert_string_equal(d.cell[0][1], "time_excel");
    assert_string_equal(d.cell[0][2], "time_local");
    assert_string_equal(d.cell[0][3], "severity");
    assert_string_equal(d.cell[1][0], "1969-12-31T23:59:59.9999999Z");
    assert_string_equal(d.cell[1][1], "1969-12-31 23:59:59");
    assert_string_equal(d.cell[1][2], "1969-12-31T23:59:59.9999999+00:00");
    doc_free(&d);
    free(got);
}

static void test_time_local_zone(void **state)
{
    fixture *f = *state;
    if (access("/usr/share/zoneinfo/Europe/Berlin", R_OK) != 0) {
        print_message("skipped: /usr/share/zoneinfo/Europe/Berlin not installed\n");
        skip();
    }
    ah_writer_options o;
    ah_writer_options_init(&o);
    o.tz = "Europe/Berlin";
    o.zoneinfo_dir = "/usr/share/zoneinfo";
    ah_status st;
    ah_writer *w = open_csv(f->path, &o, &st);
    assert_non_null(w);
    ah_row r;
    memset(&r, 0, sizeof r);
    r.has_time = true;
    r.time = (ah_time){1719835200, 500}; /* 2024-07-01T12:00:00Z, CEST */
    assert_int_equal(ah_writer_write(w, &r), AH_OK);
    r.time = (ah_time){1704164645, 0}; /* 2024-01-02T03:04:05Z, CET */
    assert_int_equal(ah_writer_write(w, &r), AH_OK);
    assert_int_equal(ah_writer_close(w, NULL), AH_OK);
    size_t len;
    char *got = ah_test_slurp(f->path, &len);
    csv_doc d;
    assert_true(rfc4180_parse(got, len, ',', &d));
    assert_string_equal(d.cell[0][1], "time_local");
    assert_string_equal(d.cell[1][0], "2024-07-01T12:00:00.0000005Z");
    assert_string_equal(d.cell[1][1], "2024-07-01T14:00:00.0000005+02:00");
    assert_string_equal(d.cell[2][1], "2024-01-02T04:04:05.0000000+01:00");
    doc_free(&d);
    free(got);
}

static void test_bad_options(void **state)
{
    fixture *f = *state;
    ah_diag diag = {0};
    ah_writer_options o;
    ah_writer_options_init(&o);
    o.path = f->path;
    ah_status st = AH_OK;
    static const char bad_delims[] = {'"', '\n', '\r', (char)0xC3, 0x7f, 0x01};
    for (size_t i = 0; i < sizeof bad_delims; i++) {
        o.delimiter = bad_delims[i];
        assert_null(ah_writer_open(&o, &diag, &st));
        assert_int_equal(st, AH_ERR_USAGE);
    }
    o.delimiter = ',';
    o.tz = "../etc/passwd";
    assert_null(ah_writer_open(&o, &diag, &st));
    assert_int_equal(st, AH_ERR_USAGE);
    o.tz = "Nowhere/Atlantis";
    assert_null(ah_writer_open(&o, &diag, &st));
    assert_int_equal(st, AH_ERR_USAGE);
    o.tz = NULL;
    o.path = "";
    assert_null(ah_writer_open(&o, &diag, &st));
    assert_int_equal(st, AH_ERR_USAGE);
    o.path = NULL;
    assert_null(ah_writer_open(&o, &diag, &st));
    assert_int_equal(st, AH_ERR_USAGE);
    o.path = f->path;
    o.format = (ah_out_format)9;
    assert_null(ah_writer_open(&o, &diag, &st));
    assert_int_equal(st, AH_ERR_USAGE);
    assert_int_equal(diag.count[AH_SEV_ERROR], 11);
    assert_int_equal(count_entries(f->dir), 0);
    assert_int_equal(ah_writer_write(NULL, NULL), AH_ERR_USAGE);
}

static void test_existing_file_refused(void **state)
{
    fixture *f = *state;
    FILE *fp = fopen(f->path, "w");
    assert_non_null(fp);
    fputs("evidence", fp);
    fclose(fp);
    ah_writer_options o;
    ah_writer_options_init(&o);
    ah_status st;
    assert_null(open_csv(f->path, &o, &st));
    assert_int_equal(st, AH_ERR_USAGE);
    char *kept = ah_test_slurp(f->path, NULL);
    assert_string_equal(kept, "evidence");
    free(kept);
    o.force = true;
    ah_writer *w = open_csv(f->path, &o, &st);
    assert_non_null(w);
    assert_int_equal(ah_writer_close(w, NULL), AH_OK);
    char *got = ah_test_slurp(f->path, NULL);
    assert_string_equal(got, HEADER);
    free(got);
}

static void test_format_names(void **state)
{
    (void)state;
    ah_out_format fmt = AH_OUT_JSON;
    assert_int_equal(ah_out_format_from_name(ah_span_cstr("CSV"), &fmt), AH_OK);
    assert_int_equal(fmt, AH_OUT_CSV);
    assert_int_equal(ah_out_format_from_name(ah_span_cstr("ndjson"), &fmt), AH_OK);
    assert_int_equal(fmt, AH_OUT_JSONL);
    assert_int_equal(ah_out_format_from_name(ah_span_cstr("json"), &fmt), AH_OK);
    assert_int_equal(fmt, AH_OUT_JSON);
    assert_int_equal(ah_out_format_from_name(ah_span_cstr("XLSX"), &fmt), AH_OK);
    assert_int_equal(fmt, AH_OUT_XLSX);
    assert_string_equal(ah_out_format_name(AH_OUT_XLSX), "xlsx");
    assert_int_equal(ah_out_format_from_name(ah_span_cstr("xls"), &fmt), AH_ERR_USAGE);
    assert_string_equal(ah_out_format_name(AH_OUT_JSONL), "jsonl");
    assert_int_equal(ah_col_from_name(ah_span_cstr("user_agent")), AH_COL_USER_AGENT);
    assert_int_equal(ah_col_from_name(ah_span_cstr("raw")), AH_COL_COUNT);
    assert_string_equal(ah_col_name(AH_COL_COUNT), "?");
}

/* docs/output.md documents every column, in order, as a table row "| `name` |". */
static void test_docs_cover_columns(void **state)
{
    (void)state;
    char *doc = ah_test_slurp("docs/output.md", NULL);
    if (!doc)
        fail_msg("docs/output.md not found (tests run from the repository root)");
    const char *pos = doc;
    for (int c = 0; c < AH_COL_COUNT; c++) {
        char needle[64];
        snprintf(needle, sizeof needle, "| `%s` |", ah_col_name((ah_col_id)c));
        const char *hit = strstr(pos, needle);
        if (!hit)
            fail_msg("docs/output.md lacks a row for column %s (or it is out of order)", ah_col_name((ah_col_id)c));
        pos = hit + 1;
    }
    free(doc);
}

/* Real records as cells: each line of a corpus file must come back byte for byte. */
static void test_corpus_roundtrip(void **state)
{
    fixture *f = *state;
    const char *corpus = getenv("AH_CORPUS");
    char path[512];
    snprintf(path, sizeof path, "%s/elastic_integrations/o365_test-exchange-admin.log",
             corpus ? corpus : "../shared/corpus");
    size_t len;
    char *text = ah_test_slurp(path, &len);
    if (!text) {
        print_message("skipped: corpus file %s not found (set AH_CORPUS)\n", path);
        skip();
    }
    ah_writer_options o;
    ah_writer_options_init(&o);
    ah_status st;
    ah_writer *w = open_csv(f->path, &o, &st);
    assert_non_null(w);
    size_t nlines = 0;
    char *lines[64];
    for (char *line = strtok(text, "\n"); line && nlines < 60; line = strtok(NULL, "\n")) {
        ah_row r;
        row_init(&r);
        r.col[AH_COL_DETAILS] = ah_span_cstr(line);
        lines[nlines++] = line;
        assert_int_equal(ah_writer_write(w, &r), AH_OK);
    }
    assert_true(nlines >= 20);
    assert_int_equal(ah_writer_close(w, NULL), AH_OK);
    size_t olen;
    char *out = ah_test_slurp(f->path, &olen);
    csv_doc d;
    assert_true(rfc4180_parse(out, olen, ',', &d));
    assert_int_equal(d.nrows, nlines + 1);
    for (size_t i = 0; i < nlines; i++)
        assert_string_equal(d.cell[i + 1][AH_COL_DETAILS], lines[i]);
    doc_free(&d);
    free(out);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_exact_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_timeline_and_bom, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roundtrip_hostile_cells, setup, teardown),
        cmocka_unit_test_setup_teardown(test_formula_neutralisation, setup, teardown),
        cmocka_unit_test(test_cell_truncation_small),
        cmocka_unit_test(test_control_characters_visible),
        cmocka_unit_test(test_cell_random),
        cmocka_unit_test_setup_teardown(test_excel_cell_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split_refuses_existing_part, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abort_removes_temp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_time_columns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_time_local_zone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_options, setup, teardown),
        cmocka_unit_test_setup_teardown(test_existing_file_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bom_modes, setup, teardown),
        cmocka_unit_test(test_format_names),
        cmocka_unit_test(test_docs_cover_columns),
        cmocka_unit_test_setup_teardown(test_corpus_roundtrip, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
