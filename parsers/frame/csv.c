/*
 * csv.c: a stateful RFC 4180 record reader over a sliding window.
 *
 * Design: the input is read in large chunks into one sliding window
 * (window.h: capped at max_record plus one read). A record is parsed in
 * place: quoted cells are unescaped by moving bytes down inside the cell's
 * own raw bytes (the unescaped text is never longer), so a record costs no
 * copy unless it has doubled quotes, and no allocation once the cell table
 * has grown. The window slides (memmove of the unfinished record) only when
 * its tail runs short of room. The parser is a resumable state machine, so
 * a record can straddle refills at any byte, whatever the reader's
 * chunking.
 *
 * Leniency, chosen to match what Excel and PowerShell produce and accept:
 *  - a quote inside an unquoted cell is kept literally (a"b -> a"b);
 *  - bytes between a closing quote and the next delimiter are appended to
 *    the cell ("ab"c,d -> abc | d);
 *  - records end at CRLF, LF or a lone CR outside quotes;
 *  - empty lines are skipped and not counted as records.
 * Line numbers count LF, plus a lone CR that ends a record.
 *
 * A record over max_record bytes is scanned on to its end without being
 * kept (quote state is still tracked) and reported once.
 */
#include "csv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "window.h"

enum { T_UNQ_STOP = 1, T_Q_STOP = 2 };

typedef enum {
    S_CELL_START, /* at the first byte of a cell */
    S_UNQUOTED,
    S_QUOTED,
    S_QUOTE, /* a quote inside a quoted cell: doubled or closing? */
    S_AFTER, /* after the closing quote, before the delimiter */
    S_CR,    /* a CR ended the record; swallow a following LF */
} csv_state;

typedef struct cellpos {
    size_t off; /* relative to the record start */
    size_t len;
} cellpos;

struct ah_csv {
    ah_window win; /* win.pos: the parse cursor */
    size_t max_record;
    bool failed;
    uint64_t line; /* line at win.pos, 1-based */
    uint64_t record_no;

    bool header_read;
    bool had_type;
    char delim;
    unsigned char tbl[256];
    ah_buf hdr_text;
    ah_span *hdr;
    size_t nhdr;

    /* the record being parsed */
    csv_state st;
    size_t rec_start;
    uint64_t rec_line;
    bool skipping;     /* over max_record: bytes are not kept */
    bool blank;        /* the pending CR ended an empty line */
    size_t cell_start; /* where the current cell's (unescaped) bytes begin */
    size_t w;          /* write cursor inside a quoted cell */
    uint64_t quote_line;
    cellpos *cells;
    size_t ncells, cells_cap;
    ah_span *row;
    size_t row_cap;

    char err[160];
};

ah_csv *ah_csv_new(ah_reader *text, size_t max_record)
{
    if (!text)
        return NULL;
    ah_csv *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->max_record = max_record ? max_record : SIZE_MAX;
    ah_window_init(&c->win, text, c->max_record);
    ah_buf_init(&c->hdr_text, 0);
    c->line = 1;
    c->delim = ',';
    return c;
}

void ah_csv_free(ah_csv *c)
{
    if (!c)
        return;
    ah_window_free(&c->win);
    ah_buf_free(&c->hdr_text);
    free(c->hdr);
    free(c->cells);
    free(c->row);
    free(c);
}

const char *ah_csv_error(const ah_csv *c) { return c ? c->err : "no CSV reader"; }
size_t ah_csv_ncols(const ah_csv *c) { return c ? c->nhdr : 0; }
char ah_csv_delimiter(const ah_csv *c) { return c ? c->delim : ','; }
void ah_csv_set_first_line(ah_csv *c, uint64_t line) { c->line = line; }

bool ah_csv_had_type_line(const ah_csv *c) { return c && c->had_type; }

ah_span ah_csv_header(const ah_csv *c, size_t i)
{
    if (!c || i >= c->nhdr)
        return AH_SPAN_NULL;
    return c->hdr[i];
}

/* Read more input, keeping the window from `keep` on (see window.h); the
 * offsets into the record being parsed move with a slide. */
static ah_status fill(ah_csv *c, size_t keep)
{
    size_t dropped;
    ah_status st = ah_window_fill(&c->win, keep, &dropped);
    c->rec_start = ah_window_rebase(c->rec_start, dropped);
    c->cell_start = ah_window_rebase(c->cell_start, dropped);
    c->w = ah_window_rebase(c->w, dropped);
    return st;
}

static void set_delimiter(ah_csv *c, char d)
{
    c->delim = d;
    memset(c->tbl, 0, sizeof c->tbl);
    c->tbl[(unsigned char)d] = T_UNQ_STOP;
    c->tbl['\n'] = T_UNQ_STOP | T_Q_STOP;
    c->tbl['\r'] = T_UNQ_STOP;
    c->tbl['"'] = T_Q_STOP;
}

static inline size_t skip_plain(const unsigned char *tbl, const unsigned char *b, size_t p, size_t end,
                                unsigned char stop)
{
    while (end - p >= 4) {
        if (tbl[b[p]] & stop)
            return p;
        if (tbl[b[p + 1]] & stop)
            return p + 1;
        if (tbl[b[p + 2]] & stop)
            return p + 2;
        if (tbl[b[p + 3]] & stop)
            return p + 3;
        p += 4;
    }
    while (p < end && !(tbl[b[p]] & stop))
        p++;
    return p;
}

static ah_status push_cell(ah_csv *c, size_t start, size_t len)
{
    if (c->skipping)
        return AH_OK;
    if (c->ncells == c->cells_cap) {
        cellpos *p = ah_grow_array(c->cells, &c->cells_cap, 64, sizeof *p);
        if (!p)
            return AH_ERR_NOMEM;
        c->cells = p;
    }
    c->cells[c->ncells].off = start - c->rec_start;
    c->cells[c->ncells].len = len;
    c->ncells++;
    return AH_OK;
}

/* The record's content ends at pos (its terminator, if any, starts there). */
static void content_end(ah_csv *c)
{
    if (!c->skipping && c->win.pos - c->rec_start > c->max_record)
        c->skipping = true;
}

static void begin_record(ah_csv *c)
{
    c->st = S_CELL_START;
    c->rec_start = c->win.pos;
    c->rec_line = c->line;
    c->skipping = false;
    c->blank = false;
    c->ncells = 0;
}

static void append_in_place(ah_csv *c, size_t from, size_t n)
{
    if (c->skipping || n == 0)
        return;
    if (c->w != from)
        memmove(c->win.buf.data + c->w, c->win.buf.data + from, n);
    c->w += n;
}

/* The cell of `len` bytes from cell_start ended at `stop`, the delimiter,
 * CR or LF at win.pos: keep it and step over that byte. 0: the record goes
 * on (st set), 1: an LF ended the record, -1: out of memory. */
static inline int end_cell(ah_csv *c, size_t len, unsigned char stop)
{
    bool delim = stop == (unsigned char)c->delim;
    if (!delim)
        content_end(c);
    if (push_cell(c, c->cell_start, len) != AH_OK)
        return -1;
    c->win.pos++;
    if (delim) {
        c->st = S_CELL_START;
        return 0;
    }
    if (stop == '\r') {
        c->st = S_CR;
        return 0;
    }
    c->line++;
    return 1;
}

/* Parse the next record into c->cells. AH_OK, AH_END (no more records),
 * AH_ERR_RECORD (too big / unterminated quote; c->err says which),
 * AH_ERR_STREAM, AH_ERR_NOMEM. */
static ah_status parse_record(ah_csv *c)
{
    const char d = c->delim;
    begin_record(c);
    for (;;) {
        if (c->win.pos == c->win.buf.len) {
            size_t held = c->win.pos - c->rec_start - (c->st == S_CR ? 1u : 0u);
            if (!c->skipping && held > c->max_record) {
                c->skipping = true;
                c->ncells = 0;
            }
            ah_status r = fill(c, c->skipping ? c->win.pos : c->rec_start);
            if (r == AH_ERR_NOMEM) {
                snprintf(c->err, sizeof c->err, "out of memory");
                return AH_ERR_NOMEM;
            }
            if (r < 0) {
                snprintf(c->err, sizeof c->err, "read error");
                return AH_ERR_STREAM;
            }
            if (r == AH_OK)
                continue;
            /* End of input. */
            switch (c->st) {
            case S_CELL_START:
                if (c->ncells == 0 && !c->skipping && c->win.pos == c->rec_start)
                    return AH_END;
                content_end(c);
                if (push_cell(c, c->win.pos, 0) != AH_OK)
                    return AH_ERR_NOMEM;
                goto done;
            case S_UNQUOTED:
                content_end(c);
                if (push_cell(c, c->cell_start, c->win.pos - c->cell_start) != AH_OK)
                    return AH_ERR_NOMEM;
                goto done;
            case S_QUOTED:
                snprintf(c->err, sizeof c->err, "unterminated quoted cell starting at line %llu",
                         (unsigned long long)c->quote_line);
                return AH_ERR_RECORD;
            case S_QUOTE:
            case S_AFTER:
                content_end(c);
                if (push_cell(c, c->cell_start, c->w - c->cell_start) != AH_OK)
                    return AH_ERR_NOMEM;
                goto done;
            case S_CR:
                if (c->blank)
                    return AH_END;
                goto done;
            }
            return AH_ERR_STREAM; /* not reached: every state is handled above */
        }

        const unsigned char *b = (const unsigned char *)c->win.buf.data;
        size_t end = c->win.buf.len;
        unsigned char ch = b[c->win.pos];
        switch (c->st) {
        case S_CELL_START:
            if (ch == '"') {
                c->win.pos++;
                c->cell_start = c->w = c->win.pos;
                c->quote_line = c->line;
                c->st = S_QUOTED;
            } else if (ch == (unsigned char)d) {
                if (push_cell(c, c->win.pos, 0) != AH_OK)
                    return AH_ERR_NOMEM;
                c->win.pos++;
            } else if (ch == '\n' || ch == '\r') {
                bool blank = c->ncells == 0 && !c->skipping && c->win.pos == c->rec_start;
                if (!blank) {
                    content_end(c);
                    if (push_cell(c, c->win.pos, 0) != AH_OK)
                        return AH_ERR_NOMEM;
                }
                c->win.pos++;
                if (ch == '\r') {
                    c->blank = blank;
                    c->st = S_CR;
                    break;
                }
                c->line++;
                if (!blank)
                    goto done;
                begin_record(c);
            } else {
                c->cell_start = c->win.pos;
                c->st = S_UNQUOTED;
            }
            break;

        case S_UNQUOTED: {
            size_t q = skip_plain(c->tbl, b, c->win.pos, end, T_UNQ_STOP);
            c->win.pos = q;
            if (q == end)
                break;
            int r = end_cell(c, q - c->cell_start, b[q]);
            if (r < 0)
                return AH_ERR_NOMEM;
            if (r > 0)
                goto done;
            break;
        }

        case S_QUOTED: {
            size_t q = skip_plain(c->tbl, b, c->win.pos, end, T_Q_STOP);
            append_in_place(c, c->win.pos, q - c->win.pos);
            c->win.pos = q;
            if (q == end)
                break;
            if (b[q] == '\n') {
                c->line++;
                append_in_place(c, q, 1);
            } else {
                c->st = S_QUOTE;
            }
            c->win.pos++;
            break;
        }

        case S_QUOTE:
            if (ch == '"') {
                append_in_place(c, c->win.pos, 1);
                c->win.pos++;
                c->st = S_QUOTED;
            } else {
                c->st = S_AFTER;
            }
            break;

        case S_AFTER: {
            size_t q = skip_plain(c->tbl, b, c->win.pos, end, T_UNQ_STOP);
            append_in_place(c, c->win.pos, q - c->win.pos);
            c->win.pos = q;
            if (q == end)
                break;
            int r = end_cell(c, c->w - c->cell_start, b[q]);
            if (r < 0)
                return AH_ERR_NOMEM;
            if (r > 0)
                goto done;
            break;
        }

        case S_CR:
            if (ch == '\n')
                c->win.pos++;
            c->line++;
            if (!c->blank)
                goto done;
            begin_record(c);
            break;
        }
    }

done:
    if (c->skipping) {
        snprintf(c->err, sizeof c->err, "record exceeds --max-record (%zu bytes)", c->max_record);
        return AH_ERR_RECORD;
    }
    return AH_OK;
}

static bool starts_with_bom(ah_span s) { return s.n >= 3 && memcmp(s.p, "\xEF\xBB\xBF", 3) == 0; }

/* Look at the header line (without consuming it) to choose the delimiter:
 * ';' when it has more semicolons than commas outside quotes. Blank lines
 * before it are consumed (and counted). Returns 1 when a header line
 * exists, 0 when the input holds only blank lines, negative on error
 * (c->err set; -2 when out of memory). */
static int sniff_delimiter(ah_csv *c)
{
    ah_status r;
    for (;;) {
        if ((r = ah_window_ensure(&c->win, 2)) < 0)
            goto read_failed;
        if (c->win.pos == c->win.buf.len)
            return 0;
        const char *b = c->win.buf.data + c->win.pos;
        if (b[0] == '\n') {
            c->win.pos++;
        } else if (b[0] == '\r') {
            c->win.pos += (ah_window_avail(&c->win) >= 2 && b[1] == '\n') ? 2 : 1;
        } else {
            break;
        }
        c->line++;
    }

    size_t rel = 0; /* scan offset from pos; pos itself does not move */
    bool in_quotes = false;
    size_t commas = 0, semis = 0;
    for (;;) {
        if (c->win.pos + rel == c->win.buf.len) {
            if (rel > c->max_record)
                goto too_long;
            if ((r = fill(c, c->win.pos)) < 0)
                goto read_failed;
            if (r == AH_END)
                break;
            continue;
        }
        const char *b = c->win.buf.data + c->win.pos;
        size_t end = ah_window_avail(&c->win);
        for (; rel < end; rel++) {
            char ch = b[rel];
            if (ch == '"')
                in_quotes = !in_quotes;
            else if (in_quotes)
                continue;
            else if (ch == '\n' || ch == '\r')
                goto decided;
            else if (ch == ',')
                commas++;
            else if (ch == ';')
                semis++;
        }
    }
decided:
    if (rel > c->max_record)
        goto too_long;
    set_delimiter(c, semis > commas ? ';' : ',');
    return 1;

too_long:
    snprintf(c->err, sizeof c->err, "header line exceeds --max-record (%zu bytes)", c->max_record);
    return -1;
read_failed:
    snprintf(c->err, sizeof c->err, r == AH_ERR_NOMEM ? "out of memory" : "read error");
    return r == AH_ERR_NOMEM ? -2 : -1;
}

ah_status ah_csv_read_header(ah_csv *c)
{
    if (!c)
        return AH_ERR_USAGE;
    if (c->header_read) {
        snprintf(c->err, sizeof c->err, "the header was already read");
        return AH_ERR_STREAM; /* only the documented statuses leave this function */
    }
    c->header_read = true;
    c->failed = true; /* until a header is in place */
    set_delimiter(c, ',');

    /* A UTF-8 BOM the decoder did not strip. */
    ah_status r = ah_window_ensure(&c->win, 3);
    if (r < 0)
        goto read_failed;
    if (ah_window_avail(&c->win) >= 3 && memcmp(c->win.buf.data + c->win.pos, "\xEF\xBB\xBF", 3) == 0)
        c->win.pos += 3;

    /* PowerShell's "#TYPE System.Management.Automation.PSCustomObject" line. */
    if ((r = ah_window_ensure(&c->win, 5)) < 0)
        goto read_failed;
    if (ah_window_avail(&c->win) >= 5 && memcmp(c->win.buf.data + c->win.pos, "#TYPE", 5) == 0) {
        c->had_type = true;
        for (;;) {
            const char *b = c->win.buf.data;
            const char *lf = memchr(b + c->win.pos, '\n', ah_window_avail(&c->win));
            if (lf) {
                c->win.pos = (size_t)(lf - b) + 1;
                c->line++;
                break;
            }
            c->win.pos = c->win.buf.len;
            if ((r = fill(c, c->win.pos)) < 0)
                goto read_failed;
            if (r == AH_END) {
                snprintf(c->err, sizeof c->err, "no header line after the #TYPE line");
                return AH_ERR_STREAM;
            }
        }
        if ((r = ah_window_ensure(&c->win, 3)) < 0)
            goto read_failed;
        if (ah_window_avail(&c->win) >= 3 && memcmp(c->win.buf.data + c->win.pos, "\xEF\xBB\xBF", 3) == 0)
            c->win.pos += 3;
    }

    r = sniff_delimiter(c);
    if (r < 0)
        return r == -2 ? AH_ERR_NOMEM : AH_ERR_STREAM;
    if (r == 0) {
        if (c->had_type) {
            snprintf(c->err, sizeof c->err, "no header line after the #TYPE line");
            return AH_ERR_STREAM;
        }
        snprintf(c->err, sizeof c->err, "empty input");
        c->failed = false;
        return AH_END;
    }

    ah_status st = parse_record(c);
    if (st != AH_OK) {
        if (st == AH_END)
            snprintf(c->err, sizeof c->err, "no header line");
        else if (st == AH_ERR_RECORD) {
            static const char pre[] = "bad header line: ";
            size_t n = strnlen(c->err, sizeof c->err - sizeof pre);
            memmove(c->err + sizeof pre - 1, c->err, n);
            memcpy(c->err, pre, sizeof pre - 1);
            c->err[sizeof pre - 1 + n] = '\0';
        }
        if (st == AH_ERR_NOMEM) {
            snprintf(c->err, sizeof c->err, "out of memory");
            return AH_ERR_NOMEM;
        }
        return AH_ERR_STREAM;
    }

    /* Keep the header cells for the reader's lifetime. */
    const char *rec = c->win.buf.data + c->rec_start;
    size_t total = 0;
    for (size_t i = 0; i < c->ncells; i++)
        total += c->cells[i].len;
    c->hdr = malloc(c->ncells * sizeof *c->hdr);
    ah_status hst = c->hdr ? ah_buf_reserve(&c->hdr_text, total) : AH_ERR_NOMEM;
    if (hst != AH_OK) {
        snprintf(c->err, sizeof c->err, hst == AH_ERR_NOMEM ? "out of memory" : "header line too large");
        return hst == AH_ERR_NOMEM ? AH_ERR_NOMEM : AH_ERR_STREAM;
    }
    for (size_t i = 0; i < c->ncells; i++)
        ah_buf_append(&c->hdr_text, rec + c->cells[i].off, c->cells[i].len); /* reserved above */
    size_t off = 0;
    for (size_t i = 0; i < c->ncells; i++) {
        c->hdr[i] = ah_span_make(c->hdr_text.data + off, c->cells[i].len);
        off += c->cells[i].len;
    }
    c->nhdr = c->ncells;
    /* A BOM that survived inside the quotes of the first name. */
    if (c->nhdr > 0 && starts_with_bom(c->hdr[0])) {
        c->hdr[0].p += 3;
        c->hdr[0].n -= 3;
    }
    c->failed = false;
    c->err[0] = '\0';
    return AH_OK;

read_failed:
    snprintf(c->err, sizeof c->err, r == AH_ERR_NOMEM ? "out of memory" : "read error");
    return r == AH_ERR_NOMEM ? AH_ERR_NOMEM : AH_ERR_STREAM;
}

ah_status ah_csv_next(ah_csv *c, ah_csv_row *row)
{
    if (!c || !row)
        return AH_ERR_USAGE;
    *row = (ah_csv_row){0, NULL, 0, 0};
    if (!c->header_read) {
        snprintf(c->err, sizeof c->err, "ah_csv_next called before ah_csv_read_header");
        return AH_ERR_STREAM; /* only the documented statuses leave this function */
    }
    if (c->failed)
        return AH_ERR_STREAM;
    ah_status st = parse_record(c);
    if (st == AH_END)
        return AH_END;
    if (st == AH_ERR_STREAM || st == AH_ERR_NOMEM) {
        c->failed = true;
        if (st == AH_ERR_NOMEM) {
            snprintf(c->err, sizeof c->err, "out of memory");
            return AH_ERR_NOMEM;
        }
        return AH_ERR_STREAM;
    }
    c->record_no++;
    row->record_no = c->record_no;
    row->line_no = c->rec_line;
    if (st != AH_OK)
        return st;
    if (c->row_cap < c->ncells) {
        size_t cap = c->row_cap ? c->row_cap : 16;
        while (cap < c->ncells)
            cap *= 2;
        ah_span *p = realloc(c->row, cap * sizeof *p);
        if (!p) {
            snprintf(c->err, sizeof c->err, "out of memory");
            c->failed = true;
            return AH_ERR_NOMEM;
        }
        c->row = p;
        c->row_cap = cap;
    }
    const char *rec = c->win.buf.data + c->rec_start;
    for (size_t i = 0; i < c->ncells; i++)
        c->row[i] = ah_span_make(rec + c->cells[i].off, c->cells[i].len);
    row->ncells = c->ncells;
    row->cells = c->row;
    c->err[0] = '\0';
    return AH_OK;
}

void ah_csv_header_key(ah_span name, char *buf, size_t size)
{
    if (!buf || size == 0)
        return;
    ah_span s = name.p ? ah_span_trim(name) : AH_SPAN_NULL;
    size_t o = 0;
    bool in_ws = false;
    for (size_t i = 0; i < s.n && o + 1 < size; i++) {
        unsigned char ch = (unsigned char)s.p[i];
        if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\f' || ch == '\v') {
            in_ws = true;
            continue;
        }
        if (in_ws) {
            buf[o++] = ' ';
            in_ws = false;
            if (o + 1 >= size)
                break;
        }
        buf[o++] = (char)ah_fold(ch);
    }
    buf[o] = '\0';
}
