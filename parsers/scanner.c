/*
 * scanner.c: decode -> frame -> detect -> normalize for one leaf stream.
 *
 * The framing is chosen from the first decoded byte that is not blank; the
 * read that found it is kept in a small prefix buffer and replayed to the
 * framer, so nothing is read twice and the stream is never rewound
 * (archive members cannot be).
 */
#include "scanner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "decode/decode.h"
#include "frame/csv.h"
#include "frame/jsonsplit.h"
#include "formats/opcanon.h"
#include "util/buf.h"

#define PREFIX_SIZE 4096

struct ah_scanner {
    ah_scan_options opt;
    ah_diag *diag;
    ah_normalizer *norm;
    ah_input *input;
    ah_decoder *decoder;
    ah_csv *csv;
    ah_jsplit *jsplit;
    ah_buf clean;   /* normalized fields without hidden control characters */
    ah_buf escaped; /* a JSON record (or JSON cells) with raw control bytes escaped */
    ah_span *cells; /* a CSV row's cells, some of them escaped copies */
    size_t cells_cap;
    ah_reader *source;  /* the input's bytes */
    ah_reader watched;  /* the same, noting whether it failed */
    bool source_failed; /* the input layer reported a read error itself */
    ah_reader prefixed; /* prefix replay, then the decoder */
    char prefix[PREFIX_SIZE];
    size_t prefix_len, prefix_pos;
    bool started;
    bool done;
    bool csv_unbound; /* header not recognised: rows are counted as errors */
    ah_stream_stats stats;
};

static ssize_t watched_read(void *ctx, char *buf, size_t n)
{
    ah_scanner *s = ctx;
    ssize_t k = ah_read(s->source, buf, n);
    if (k < 0)
        s->source_failed = true;
    return k;
}

static ssize_t prefixed_read(void *ctx, char *buf, size_t n)
{
    ah_scanner *s = ctx;
    return ah_read_after(s->prefix, s->prefix_len, &s->prefix_pos, ah_decoder_reader(s->decoder), buf, n);
}

ah_scanner *ah_scanner_new(const ah_scan_options *opt, ah_diag *diag)
{
    ah_scanner *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->opt = *opt;
    s->diag = diag;
    ah_norm_options no = {.date_order = opt->date_order, .max_record = opt->max_record};
    s->norm = ah_normalizer_new(&no);
    if (!s->norm) {
        free(s);
        return NULL;
    }
    ah_buf_init(&s->clean, opt->max_record ? opt->max_record * 3 : 0);
    ah_buf_init(&s->escaped, opt->max_record ? opt->max_record * 6 : 0);
    s->prefixed.read = prefixed_read;
    s->prefixed.ctx = s;
    s->watched.read = watched_read;
    s->watched.ctx = s;
    return s;
}

static void close_stream(ah_scanner *s)
{
    ah_csv_free(s->csv);
    ah_jsplit_free(s->jsplit);
    ah_decoder_free(s->decoder);
    s->csv = NULL;
    s->jsplit = NULL;
    s->decoder = NULL;
    s->input = NULL;
}

void ah_scanner_free(ah_scanner *s)
{
    if (!s)
        return;
    close_stream(s);
    ah_normalizer_free(s->norm);
    ah_buf_free(&s->clean);
    ah_buf_free(&s->escaped);
    free(s->cells);
    free(s);
}

static ah_where where_of(const ah_scanner *s, uint64_t record_no, uint64_t line_no)
{
    const ah_origin *o = s->stats.origin;
    return (ah_where){o ? o->path : NULL, o ? o->entry : NULL, record_no, line_no};
}

static void fail_stream(ah_scanner *s, const char *why)
{
    ah_where w = where_of(s, 0, 0);
    if (s->source_failed)
        why = "the input could not be read to its end"; /* the input layer said why */
    else
        ah_diag_report(s->diag, AH_SEV_ERROR, &w, "%s", why);
    s->stats.failed = true;
    snprintf(s->stats.failure, sizeof s->stats.failure, "%s", why);
}

static void reject_record(ah_scanner *s, uint64_t record_no, uint64_t line_no, const char *why)
{
    ah_where w = where_of(s, record_no, line_no);
    ah_diag_report(s->diag, AH_SEV_ERROR, &w, "%s", why);
    s->stats.errors++;
}

ah_status ah_scanner_open(ah_scanner *s, ah_input *in)
{
    close_stream(s);
    memset(&s->stats, 0, sizeof s->stats);
    s->input = in;
    s->stats.origin = ah_input_origin(in);
    snprintf(s->stats.container, sizeof s->stats.container, "%s", ah_input_container(in));
    s->prefix_len = s->prefix_pos = 0;
    s->started = s->done = s->csv_unbound = false;
    s->source = ah_input_reader(in);
    s->source_failed = false;
    s->decoder = ah_decoder_new(&s->watched);
    if (!s->decoder)
        return AH_ERR_NOMEM;
    ah_normalizer_begin(s->norm, s->stats.origin);
    return AH_OK;
}

/* Blank before the first record: whitespace, and NUL (a half-written export). */
static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\0'; }

/* Characters that change no word a rule compares but make it miss: C0
 * controls other than tab and line ends (NUL above all), and DEL. */
static bool is_hidden_control(unsigned char c)
{
    return (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f;
}

/* Runs over every record: eight bytes at a time, and only a word holding a
 * byte below 0x20 or equal to 0x7f (exact tests, no false negatives) is
 * looked at byte by byte (tabs and line ends are common and allowed).
 * Measured: about 3 instructions a byte, a third of a byte loop. */
static bool has_hidden_control(ah_span v)
{
    const unsigned char *p = (const unsigned char *)v.p;
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    size_t i = 0;
    for (; i + 8 <= v.n; i += 8) {
        uint64_t w, del;
        memcpy(&w, p + i, 8);
        del = w ^ (0x7f * ones);
        if (!(((w - 0x20 * ones) & ~w & highs) | ((del - ones) & ~del & highs)))
            continue;
        for (size_t k = 0; k < 8; k++)
            if (is_hidden_control(p[i + k]))
                return true;
    }
    for (; i < v.n; i++)
        if (is_hidden_control(p[i]))
            return true;
    return false;
}

/* A JSON record with raw control bytes (NUL inside a string: invalid JSON,
 * but evidence) is read as if they had been escaped: a copy with each one
 * written \u00XX. Raw then shows them, escaped; the fields lose them (below). */
static ah_status escape_raw_controls(ah_scanner *s, ah_json_record *rec)
{
    if (!has_hidden_control(rec->text))
        return AH_OK;
    ah_buf *b = &s->escaped;
    ah_buf_reset(b);
    for (size_t i = 0; i < rec->text.n; i++) {
        unsigned char c = (unsigned char)rec->text.p[i];
        ah_status st = is_hidden_control(c) ? ah_buf_printf(b, "\\u%04x", c) : ah_buf_putc(b, (char)c);
        if (st != AH_OK)
            return st;
    }
    rec->text = ah_buf_span(b);
    return AH_OK;
}

static size_t count_hidden_controls(ah_span v)
{
    size_t k = 0;
    for (size_t i = 0; i < v.n; i++)
        k += is_hidden_control((unsigned char)v.p[i]);
    return k;
}

static bool json_like(ah_span v)
{
    size_t i = 0;
    while (i < v.n && (v.p[i] == ' ' || v.p[i] == '\t' || v.p[i] == '\r' || v.p[i] == '\n'))
        i++;
    return i < v.n && (v.p[i] == '{' || v.p[i] == '[');
}

/* The same for a CSV cell holding JSON (AuditData): its raw control bytes
 * escaped in a copy, the row's other cells as they are (the row object
 * escapes them when it is written as JSON). */
static ah_status escape_json_cells(ah_scanner *s, ah_csv_row *row)
{
    size_t need = 0;
    for (size_t i = 0; i < row->ncells; i++)
        if (json_like(row->cells[i]) && has_hidden_control(row->cells[i]))
            need += 5 * count_hidden_controls(row->cells[i]);
    if (!need)
        return AH_OK;
    for (size_t i = 0; i < row->ncells; i++)
        need += row->cells[i].n + 1;
    while (s->cells_cap < row->ncells) {
        ah_span *nc = ah_grow_array(s->cells, &s->cells_cap, 32, sizeof *nc);
        if (!nc)
            return AH_ERR_NOMEM;
        s->cells = nc;
    }
    ah_buf *b = &s->escaped;
    ah_buf_reset(b);
    ah_status st = ah_buf_reserve(b, need); /* one reservation: the spans never move */
    if (st != AH_OK)
        return st;
    for (size_t i = 0; i < row->ncells; i++) {
        ah_span v = row->cells[i];
        s->cells[i] = v;
        if (!json_like(v) || !count_hidden_controls(v))
            continue;
        size_t start = b->len;
        for (size_t k = 0; k < v.n; k++) {
            unsigned char c = (unsigned char)v.p[k];
            if (is_hidden_control(c))
                b->len += (size_t)snprintf(b->data + b->len, 7, "\\u%04x", c);
            else
                b->data[b->len++] = (char)c;
        }
        s->cells[i] = ah_span_make(b->data + start, b->len - start);
    }
    row->cells = s->cells;
    return AH_OK;
}

/* "New-InboxRule\u0000" must match a rule on New-InboxRule: the normalized
 * fields (what rules and timelines see) lose their hidden control
 * characters; raw and body keep them (escaped in every output), and the
 * event is counted so the summary says how many were touched. */
static ah_status clean_fields(ah_scanner *s, ah_event *ev)
{
    size_t need = 0;
    bool any = false;
    for (int f = 0; f < AH_F_COUNT; f++) {
        need += ev->field[f].n;
        any = any || has_hidden_control(ev->field[f]);
    }
    if (!any)
        return AH_OK;
    ah_buf *b = &s->clean;
    ah_buf_reset(b);
    /* one reservation, so the spans handed out never move: the canonical
     * operation is at most twice the operation's length */
    ah_status st = ah_buf_reserve(b, need + 2 * ev->field[AH_F_OPERATION].n + 16);
    if (st != AH_OK)
        return st;
    for (int f = 0; f < AH_F_COUNT; f++) {
        ah_span v = ev->field[f];
        if (!has_hidden_control(v))
            continue;
        size_t start = b->len;
        for (size_t i = 0; i < v.n; i++)
            if (!is_hidden_control((unsigned char)v.p[i]))
                b->data[b->len++] = v.p[i];
        b->data[b->len] = '\0';
        ev->field[f] = b->len > start ? ah_span_make(b->data + start, b->len - start) : AH_SPAN_NULL;
        if (f == AH_F_OPERATION) {
            size_t cs = b->len;
            ev->operation_canon = AH_SPAN_NULL;
            if (ev->field[f].n && ah_opcanon(ev->field[f], b) == AH_OK)
                ev->operation_canon = ah_span_make(b->data + cs, b->len - cs);
        }
    }
    s->stats.control_events++;
    return AH_OK;
}

/* What a stream is when it is clearly not a log: a file format by its
 * magic, or bytes no text export holds (control characters other than
 * NUL, tab, line ends; NUL runs alone are a half-written export and are
 * read). NULL when it may be a log. */
static const char *binary_kind(const unsigned char *h, size_t n)
{
    static const struct {
        const char *magic;
        size_t len;
        const char *what;
    } magics[] = {
        {"\x7f"
         "ELF",
         4, "ELF executable"},
        {"ElfFile\0", 8, "Windows event log (EVTX)"},
        {"ElfChnk\0", 8, "Windows event log chunk (EVTX)"},
        {"\x89PNG\r\n\x1a\n", 8, "PNG image"},
        {"%PDF-", 5, "PDF document"},
        {"\xff\xd8\xff", 3, "JPEG image"},
        {"GIF87a", 6, "GIF image"},
        {"GIF89a", 6, "GIF image"},
        {"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8, "OLE2 compound file (legacy Office, MSG)"},
        {"SQLite format 3\0", 16, "SQLite database"},
        {"regf", 4, "Windows registry hive"},
        {"\xd4\xc3\xb2\xa1", 4, "packet capture"},
        {"\xa1\xb2\xc3\xd4", 4, "packet capture"},
        {"\x0a\x0d\x0d\x0a", 4, "packet capture (pcapng)"},
        {"MSCF", 4, "cabinet archive"},
        {"Rar!\x1a\x07", 6, "RAR archive (not supported)"},
    };
    for (size_t i = 0; i < AH_ARRAY_LEN(magics); i++)
        if (n >= magics[i].len && memcmp(h, magics[i].magic, magics[i].len) == 0)
            return magics[i].what;
    if (n >= 64 && h[0] == 'M' && h[1] == 'Z' && memchr(h, 0, 64))
        return "Windows executable (PE)";
    if ((n >= 2 && ((h[0] == 0xFF && h[1] == 0xFE) || (h[0] == 0xFE && h[1] == 0xFF))))
        return NULL; /* UTF-16 text */
    size_t odd_nul = 0, ctl = 0, text = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = h[i];
        odd_nul += (i & 1) && c == 0;
        if (c == 0)
            continue;
        text++;
        ctl += (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != 0x1b) || c == 0x7f;
    }
    if (odd_nul * 10 >= n / 2 * 9 && n >= 4)
        return NULL; /* BOM-less UTF-16LE: the decoder reads it */
    return ctl >= 8 && ctl * 20 > text ? "binary data" : NULL;
}

/* A name that says "this is a log export": then not being one is a failure. */
static bool log_like_name(const ah_origin *o)
{
    static const char *const exts[] = {"csv", "tsv", "json", "jsonl", "ndjson", "log", "gz",
                                       "tgz", "zip", "7z",   "tar",   "bz2",    "xz",  "zst"};
    const char *name = o ? (o->entry ? o->entry : o->path) : NULL;
    const char *dot = name ? strrchr(name, '.') : NULL;
    if (!dot || strchr(dot, '/'))
        return false;
    for (size_t i = 0; i < AH_ARRAY_LEN(exts); i++)
        if (strcasecmp(dot + 1, exts[i]) == 0)
            return true;
    return false;
}

/* The stream is not a log: skipped with a note, or a failure (see scanner.h). */
static void not_a_log(ah_scanner *s, const char *what)
{
    s->stats.not_a_log = what;
    s->stats.framing = NULL;
    char why[192];
    if (s->opt.strict || log_like_name(s->stats.origin)) {
        snprintf(why, sizeof why, "not a log (%s)%s", what, s->opt.strict ? "" : " although its name says it is one");
        fail_stream(s, why);
        return;
    }
    ah_where w = where_of(s, 0, 0);
    ah_diag_report(s->diag, AH_SEV_NOTE, &w, "not a log (%s), skipped", what);
}

static void note_format(ah_scanner *s, const ah_format *f)
{
    for (size_t i = 0; i < s->stats.nformats; i++)
        if (s->stats.formats[i] == f)
            return;
    if (s->stats.nformats < AH_SCAN_MAX_FORMATS)
        s->stats.formats[s->stats.nformats++] = f;
}

/* Read up to the first byte that is not blank, pick the framing from it and
 * set up the framer. Blank bytes before it are dropped (their lines
 * counted), however many there are: a long run of blank lines or NULs
 * (a half-written export) must not hide the records after it. */
static ah_status start_stream(ah_scanner *s)
{
    s->started = true;
    const unsigned char *head;
    size_t head_len = ah_input_head(s->input, &head);
    const char *binary = binary_kind(head, head_len);
    if (binary) {
        not_a_log(s, binary);
        return AH_END;
    }
    ah_reader *dec = ah_decoder_reader(s->decoder);
    bool blank_only = true;
    char first = 0;
    uint64_t line = 1;
    while (blank_only) {
        ssize_t k = ah_read(dec, s->prefix, PREFIX_SIZE);
        if (k < 0) {
            fail_stream(s, "read error before the first record");
            return AH_END;
        }
        if (k == 0)
            break;
        size_t i = 0;
        for (; i < (size_t)k && is_blank(s->prefix[i]); i++)
            line += s->prefix[i] == '\n';
        if (i < (size_t)k) {
            blank_only = false;
            first = s->prefix[i];
            memmove(s->prefix, s->prefix + i, (size_t)k - i);
            s->prefix_len = (size_t)k - i;
        }
    }
    ah_decoder_describe(s->decoder, s->stats.encoding, sizeof s->stats.encoding);
    if (blank_only)
        return AH_END; /* empty stream: zero records, nothing to say */

    if (first == '{' || first == '[') {
        s->stats.framing = "json";
        s->jsplit = ah_jsplit_new(&s->prefixed, s->opt.max_record);
        if (!s->jsplit)
            return AH_ERR_NOMEM;
        ah_jsplit_set_first_line(s->jsplit, line);
        return AH_OK;
    }
    s->stats.framing = "csv";
    s->csv = ah_csv_new(&s->prefixed, s->opt.max_record);
    if (!s->csv)
        return AH_ERR_NOMEM;
    ah_csv_set_first_line(s->csv, line);
    ah_status st = ah_csv_read_header(s->csv);
    if (st == AH_ERR_NOMEM)
        return st;
    if (st != AH_OK) {
        fail_stream(s, st == AH_END ? "empty CSV" : "unreadable CSV header");
        return AH_END;
    }
    size_t ncols = ah_csv_ncols(s->csv);
    ah_span *hdr = calloc(ncols ? ncols : 1, sizeof *hdr);
    if (!hdr)
        return AH_ERR_NOMEM;
    for (size_t i = 0; i < ncols; i++)
        hdr[i] = ah_csv_header(s->csv, i);
    char why[160];
    const ah_format *f = ah_normalizer_bind_csv(s->norm, hdr, ncols, why, sizeof why);
    free(hdr);
    if (!f && strcmp(why, AH_BIND_NOMEM) == 0)
        return AH_ERR_NOMEM;
    if (!f && ncols < 3) {
        /* Every export has more columns: prose, Markdown, YAML, notes. */
        not_a_log(s, "text without a record structure");
        return AH_END;
    }
    if (!f) {
        fail_stream(s, why);
        s->csv_unbound = true; /* keep reading to count the rows it could not take */
        return AH_OK;
    }
    note_format(s, f);
    return AH_OK;
}

/* One loop for both framings: frame a record, count it, normalize it or
 * report why not. Only events and the end of the stream come out. */
static ah_status next_event(ah_scanner *s, ah_event *ev)
{
    bool csv = s->csv != NULL;
    for (;;) {
        ah_csv_row row;
        ah_json_record rec;
        ah_status st = csv ? ah_csv_next(s->csv, &row) : ah_jsplit_next(s->jsplit, &rec);
        if (st == AH_END)
            return AH_END;
        if (st == AH_ERR_NOMEM) /* the run stops: not this input's fault */
            return st;
        const char *framing_error = csv ? ah_csv_error(s->csv) : ah_jsplit_error(s->jsplit);
        if (st != AH_OK && st != AH_ERR_RECORD) {
            fail_stream(s, framing_error && *framing_error ? framing_error : "read error");
            return AH_END;
        }
        uint64_t record_no = csv ? row.record_no : rec.record_no, line_no = csv ? row.line_no : rec.line_no;
        s->stats.records++;
        if (st == AH_ERR_RECORD) {
            reject_record(s, record_no, line_no, framing_error);
            continue;
        }
        if (s->csv_unbound) {
            s->stats.errors++; /* reported once, as the stream failure */
            continue;
        }
        const char *why = NULL;
        if ((st = csv ? escape_json_cells(s, &row) : escape_raw_controls(s, &rec)) != AH_OK) {
            if (st == AH_ERR_NOMEM)
                return st;
            reject_record(s, record_no, line_no, "record too large once its control characters are escaped");
            continue;
        }
        st = csv ? ah_normalize_csv(s->norm, &row, ev, &why) : ah_normalize_json(s->norm, &rec, ev, &why);
        if (st == AH_OK && (st = clean_fields(s, ev)) == AH_ERR_TOOBIG) {
            reject_record(s, record_no, line_no, "record too large to clean of control characters");
            continue;
        }
        if (st == AH_OK) {
            ev->origin = s->stats.origin;
            note_format(s, ev->format);
            return AH_OK;
        }
        if (st == AH_ERR_NOMEM)
            return st;
        reject_record(s, record_no, line_no, why ? why : ah_status_str(st));
    }
}

ah_status ah_scanner_next(ah_scanner *s, ah_event *ev)
{
    if (!s->input || s->done)
        return AH_END;
    ah_status st = AH_OK;
    if (!s->started)
        st = start_stream(s);
    if (st == AH_OK)
        st = next_event(s, ev);
    if (s->decoder)
        s->stats.nul_chars = ah_decoder_nul_bytes(s->decoder);
    if (st != AH_OK) {
        s->done = true;
        s->stats.norm = *ah_normalizer_stats(s->norm);
        if (s->decoder) /* again at the end: the cp1252 fallback is known only now */
            ah_decoder_describe(s->decoder, s->stats.encoding, sizeof s->stats.encoding);
    }
    return st;
}

const ah_stream_stats *ah_scanner_stats(const ah_scanner *s) { return &s->stats; }
