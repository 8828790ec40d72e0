/*
 * xlsx.c: the timeline as an Excel workbook (see xlsx.h, docs/output.md).
 *
 * Why these choices:
 *  - Constant-memory mode: rows stream to libxlsxwriter's temporary files,
 *    so a million-row timeline costs what one row does. Its one rule is that
 *    rows of a sheet are written top to bottom; every sheet here is written
 *    that way (the Summary and Rules sheets after the last timeline row).
 *  - Text cells are always strings (inline strings in constant-memory mode),
 *    never formulas, so "=cmd|..." in a record is shown, not run, and needs
 *    no ' prefix as in the CSV. The text is otherwise the CSV's: the same
 *    truncation marker, U+FFFD for invalid UTF-8, \xNN for control
 *    characters. A literal "_xHHHH_" would be read back by spreadsheets as
 *    an escaped character, so its '_' is escaped as "_x005F_".
 *  - `time` is a real date-time cell (UTC, milliseconds: Excel's precision)
 *    and `time_iso` beside it keeps the exact 100 ns text.
 *  - No hyperlinks: every URL-like value in a timeline comes from the logs,
 *    that is from the attacker (reply URLs, SharePoint paths, user agents);
 *    a clickable link in an evidence workbook would invite a visit to an
 *    address the attacker chose, and libxlsxwriter keeps hyperlinks in
 *    memory even in constant-memory mode (65,530 per sheet at most).
 *  - No autofit in libxlsxwriter 1.1.4: widths come from a table.
 *  - The document's creation time is fixed, so a re-run over the same
 *    inputs gives the same bytes (the run summary holds the real times).
 */
#include "xlsx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xlsxwriter.h>

#include "csvcell.h"
#include "timefmt.h"

#include "../rules/rules.h"

#define XLSX_MAGIC 0x584c5358u /* "XLSX" */
#define LEVELS 5               /* info .. critical */
#define TIME_FORMAT "yyyy-mm-dd hh:mm:ss.000"
#define MAX_COLS (AH_COL_COUNT + 3)
#define FIXED_CREATED ((time_t)315532800) /* 1980-01-01T00:00:00Z, the zip epoch */

typedef enum xcol_kind { X_TIME, X_TIME_ISO, X_TIME_EXCEL, X_TIME_LOCAL, X_TEXT, X_NUMBER } xcol_kind;

typedef struct xcol {
    const char *name;
    xcol_kind kind;
    ah_col_id col;
    double width;
} xcol;

/* Style of one cell kind: plain, and tinted by each severity. */
typedef struct style {
    lxw_format *plain, *level[LEVELS];
} style;

struct ah_xlsx {
    uint32_t magic;
    lxw_workbook *wb;
    char *tmpdir;
    const ah_tz *tz;
    ah_diag *diag;
    char *path;
    xcol cols[MAX_COLS];
    size_t ncols;
    size_t max_units;     /* per text cell */
    uint64_t sheet_rows;  /* data rows per Timeline sheet */
    lxw_worksheet *ws;    /* the sheet being written */
    unsigned timeline_no; /* Timeline sheets started */
    uint64_t row;         /* next row of ws (0 = header) */
    size_t sheet_cols;    /* columns of ws */
    bool sheet_filter;    /* ws gets an autofilter when finished */
    bool in_timeline;
    style text, date, number;
    lxw_format *header, *bold, *severity[LEVELS];
    ah_buf cell, escaped;
};

/* Column widths in characters: what the usual content of each needs. */
static double width_of(const char *name)
{
    static const struct {
        const char *name;
        double width;
    } widths[] = {
        {"time", 23},    {"time_iso", 29},   {"time_excel", 20},  {"time_local", 34}, {"severity", 9},
        {"rule_id", 40}, {"rule_title", 50}, {"tags", 30},        {"source", 16},     {"operation", 30},
        {"user", 32},    {"ip", 18},         {"app", 30},         {"user_agent", 40}, {"result", 16},
        {"target", 36},  {"details", 60},    {"record_id", 38},   {"input", 32},      {"input_record", 12},
        {"app_id", 38},  {"target_id", 38},  {"related_ids", 38},
    };
    for (size_t i = 0; i < sizeof widths / sizeof widths[0]; i++)
        if (strcmp(widths[i].name, name) == 0)
            return widths[i].width;
    return 20;
}

/* Row tint and severity-cell fill per level (info .. critical). */
static const lxw_color_t tint[LEVELS] = {0, 0xDDEBF7, 0xFFF2CC, 0xFCE4D6, 0xFFC7CE};
static const lxw_color_t fill[LEVELS] = {0xE7E6E6, 0x9BC2E6, 0xFFD966, 0xF4B084, 0xC00000};

static void build_layout(ah_xlsx *x, const ah_writer_options *opt)
{
    for (int c = 0; c < AH_COL_COUNT; c++) {
        xcol *xc = &x->cols[x->ncols++];
        xc->name = ah_col_name((ah_col_id)c);
        xc->col = (ah_col_id)c;
        xc->kind = c == AH_COL_TIME ? X_TIME : c == AH_COL_INPUT_RECORD ? X_NUMBER : X_TEXT;
        if (c == AH_COL_TIME) {
            x->cols[x->ncols++] = (xcol){"time_iso", X_TIME_ISO, AH_COL_TIME, 0};
            if (opt->excel_dates)
                x->cols[x->ncols++] = (xcol){"time_excel", X_TIME_EXCEL, AH_COL_TIME, 0};
            if (x->tz)
                x->cols[x->ncols++] = (xcol){"time_local", X_TIME_LOCAL, AH_COL_TIME, 0};
        }
    }
    for (size_t i = 0; i < x->ncols; i++)
        x->cols[i].width = width_of(x->cols[i].name);
}

static ah_status lxw_status(ah_xlsx *x, lxw_error e, const char *what)
{
    if (e == LXW_NO_ERROR)
        return AH_OK;
    ah_where where = {.path = x->path};
    ah_diag_report(x->diag, AH_SEV_ERROR, &where, "workbook: %s: %s", what, lxw_strerror(e));
    return e == LXW_ERROR_MEMORY_MALLOC_FAILED ? AH_ERR_NOMEM : AH_ERR_IO;
}

static lxw_format *new_format(ah_xlsx *x, const char *num_format, lxw_color_t bg, bool bold, bool white)
{
    lxw_format *f = workbook_add_format(x->wb);
    if (!f)
        return NULL;
    if (num_format)
        format_set_num_format(f, num_format);
    if (bg) {
        format_set_pattern(f, LXW_PATTERN_SOLID);
        format_set_bg_color(f, bg);
    }
    if (bold)
        format_set_bold(f);
    if (white)
        format_set_font_color(f, LXW_COLOR_WHITE);
    return f;
}

static bool make_style(ah_xlsx *x, style *s, const char *num_format)
{
    s->plain = new_format(x, num_format, 0, false, false);
    bool ok = s->plain != NULL;
    for (int l = 0; l < LEVELS && ok; l++)
        ok = (s->level[l] = new_format(x, num_format, tint[l], false, false)) != NULL;
    return ok;
}

static bool make_formats(ah_xlsx *x)
{
    if (!make_style(x, &x->text, NULL) || !make_style(x, &x->date, TIME_FORMAT) || !make_style(x, &x->number, "0"))
        return false;
    x->header = new_format(x, NULL, 0xD9D9D9, true, false);
    x->bold = new_format(x, NULL, 0, true, false);
    bool ok = x->header && x->bold;
    for (int l = 0; l < LEVELS && ok; l++)
        ok = (x->severity[l] = new_format(x, NULL, fill[l], true, l == AH_LEVEL_CRITICAL)) != NULL;
    return ok;
}

static lxw_format *pick(const style *s, int level) { return level >= 0 && level < LEVELS ? s->level[level] : s->plain; }

/* The sheet being written is complete: its autofilter can span its rows. */
static ah_status end_sheet(ah_xlsx *x)
{
    if (!x->ws || !x->sheet_filter)
        return AH_OK;
    lxw_row_t last = x->row > 0 ? (lxw_row_t)(x->row - 1) : 0;
    return lxw_status(x, worksheet_autofilter(x->ws, 0, 0, last, (lxw_col_t)(x->sheet_cols - 1)), "autofilter");
}

static ah_status new_sheet(ah_xlsx *x, const char *name, const double *widths, size_t ncols, bool header)
{
    ah_status st = end_sheet(x);
    if (st != AH_OK)
        return st;
    if (ncols == 0 || ncols > LXW_COL_MAX)
        return AH_ERR_USAGE;
    if (workbook_validate_sheet_name(x->wb, name) != LXW_NO_ERROR) {
        ah_diag_report(x->diag, AH_SEV_ERROR, NULL, "workbook: bad or repeated sheet name '%s'", name);
        return AH_ERR_USAGE;
    }
    x->ws = workbook_add_worksheet(x->wb, name);
    if (!x->ws)
        return AH_ERR_NOMEM;
    x->row = 0;
    x->sheet_cols = ncols;
    x->sheet_filter = header;
    for (size_t i = 0; i < ncols; i++) {
        lxw_error e = worksheet_set_column(x->ws, (lxw_col_t)i, (lxw_col_t)i, widths[i], NULL);
        if (e != LXW_NO_ERROR)
            return lxw_status(x, e, "column width");
    }
    if (header)
        worksheet_freeze_panes(x->ws, 1, 0);
    return AH_OK;
}

static ah_status timeline_sheet(ah_xlsx *x)
{
    char name[32];
    if (x->timeline_no == 0)
        snprintf(name, sizeof name, "Timeline");
    else
        snprintf(name, sizeof name, "Timeline %u", x->timeline_no + 1);
    double widths[MAX_COLS];
    for (size_t i = 0; i < x->ncols; i++)
        widths[i] = x->cols[i].width;
    ah_status st = new_sheet(x, name, widths, x->ncols, true);
    if (st != AH_OK)
        return st;
    x->timeline_no++;
    x->in_timeline = true;
    for (size_t i = 0; i < x->ncols; i++) {
        lxw_error e = worksheet_write_string(x->ws, 0, (lxw_col_t)i, x->cols[i].name, x->header);
        if (e != LXW_NO_ERROR)
            return lxw_status(x, e, "header");
    }
    x->row = 1;
    return AH_OK;
}

ah_xlsx *ah_xlsx_open(const ah_writer_options *opt, const char *path, const ah_tz *tz, ah_diag *diag, ah_status *st)
{
    ah_status status = AH_OK;
    ah_xlsx *x = calloc(1, sizeof *x);
    if (!x) {
        status = AH_ERR_NOMEM;
        goto out;
    }
    x->magic = XLSX_MAGIC;
    x->tz = tz;
    x->diag = diag;
    ah_buf_init(&x->cell, 0);
    ah_buf_init(&x->escaped, 0);
    x->path = strdup(path);
    x->tmpdir = opt->tmpdir ? strdup(opt->tmpdir) : NULL;
    if (!x->path || (opt->tmpdir && !x->tmpdir)) {
        status = AH_ERR_NOMEM;
        goto out;
    }
    x->max_units = opt->max_cell_chars && opt->max_cell_chars < AH_EXCEL_MAX_CELL_CHARS ? opt->max_cell_chars
                                                                                        : AH_EXCEL_MAX_CELL_CHARS;
    x->sheet_rows = opt->split_rows && opt->split_rows < AH_WRITER_DEFAULT_SPLIT_ROWS ? opt->split_rows
                                                                                      : AH_WRITER_DEFAULT_SPLIT_ROWS;
    lxw_workbook_options wo = {.constant_memory = LXW_TRUE, .tmpdir = x->tmpdir, .use_zip64 = LXW_TRUE};
    x->wb = workbook_new_opt(x->path, &wo);
    if (!x->wb) {
        ah_where where = {.path = path};
        ah_diag_report(diag, AH_SEV_ERROR, &where, "cannot start the workbook");
        status = AH_ERR_NOMEM;
        goto out;
    }
    lxw_doc_properties props = {.title = "audithound timeline", .created = FIXED_CREATED};
    workbook_set_properties(x->wb, &props);
    if (!make_formats(x)) {
        status = AH_ERR_NOMEM;
        goto out;
    }
    build_layout(x, opt);
    status = timeline_sheet(x);
out:
    if (status != AH_OK) {
        ah_xlsx_free(x);
        x = NULL;
    }
    if (st)
        *st = status;
    return x;
}

/* `_x` + 4 hex digits + `_`: how OOXML escapes a character in a string. */
static bool ooxml_escape_at(const char *p, size_t n)
{
    if (n < 7 || p[0] != '_' || p[1] != 'x' || p[6] != '_')
        return false;
    for (int i = 2; i < 6; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f') || (p[i] >= 'A' && p[i] <= 'F')))
            return false;
    return true;
}

/* The cell text as a NUL-terminated string for libxlsxwriter. */
static ah_status cell_text(ah_xlsx *x, ah_span text, unsigned *flags, const char **out)
{
    size_t escapes = 0;
    for (size_t i = 0; i + 7 <= text.n; i++)
        escapes += ooxml_escape_at(text.p + i, text.n - i);
    /* Each escape adds 6 characters: keep the cell within Excel's limit. */
    size_t budget = x->max_units > escapes * 6 + 64 ? x->max_units - escapes * 6 : 64;
    ah_buf_reset(&x->cell);
    ah_status st = ah_cell_text(&x->cell, text, budget, flags);
    if (st != AH_OK)
        return st;
    if (!escapes) {
        *out = x->cell.data ? x->cell.data : "";
        return AH_OK;
    }
    ah_buf_reset(&x->escaped);
    for (size_t i = 0; i < x->cell.len && st == AH_OK; i++) {
        if (ooxml_escape_at(x->cell.data + i, x->cell.len - i))
            st = ah_buf_puts(&x->escaped, "_x005F");
        if (st == AH_OK)
            st = ah_buf_putc(&x->escaped, x->cell.data[i]);
    }
    *out = x->escaped.data ? x->escaped.data : "";
    return st;
}

/* Excel's serial date (days since 1899-12-30) at millisecond precision,
 * where Excel can show the date: 1900-03-01 (before its 1900 leap-year
 * bug) up to 9999-12-31. */
static bool excel_serial(ah_time t, double *serial)
{
    if (t.sec < -2203891200LL || t.sec > 253402300799LL)
        return false;
    double ms = (double)(t.nsec / 1000000);
    *serial = ((double)t.sec + ms / 1000.0) / 86400.0 + 25569.0;
    return true;
}

static ah_status write_text(ah_xlsx *x, lxw_col_t c, ah_span text, lxw_format *f, ah_writer_stats *stats)
{
    unsigned flags = 0;
    const char *s;
    ah_status st = cell_text(x, text, &flags, &s);
    if (st != AH_OK)
        return st;
    if (stats) {
        stats->cells_truncated += (flags & AH_CELL_TRUNCATED) != 0;
        stats->cells_repaired += (flags & AH_CELL_REPAIRED) != 0;
    }
    return lxw_status(x, worksheet_write_string(x->ws, (lxw_row_t)x->row, c, s, f), "cell");
}

static ah_status write_blank(ah_xlsx *x, lxw_col_t c, lxw_format *f)
{
    /* A plain empty cell needs nothing; a tinted one keeps the row's colour. */
    return f ? lxw_status(x, worksheet_write_blank(x->ws, (lxw_row_t)x->row, c, f), "cell") : AH_OK;
}

ah_status ah_xlsx_write(ah_xlsx *x, const ah_row *row, ah_writer_stats *stats)
{
    if (!x || x->magic != XLSX_MAGIC || !x->in_timeline)
        return AH_ERR_USAGE;
    ah_status st = AH_OK;
    if (x->row > x->sheet_rows && (st = timeline_sheet(x)) != AH_OK)
        return st;
    int level = row->level;
    lxw_format *tf = pick(&x->text, level);
    lxw_format *blank = level >= 0 && level < LEVELS && tint[level] ? tf : NULL;
    char buf[AH_TIMEFMT_SIZE];
    for (size_t i = 0; st == AH_OK && i < x->ncols; i++) {
        const xcol *xc = &x->cols[i];
        lxw_col_t c = (lxw_col_t)i;
        double serial;
        size_t n = 0;
        switch (xc->kind) {
        case X_TIME:
            if (row->has_time && excel_serial(row->time, &serial))
                st = lxw_status(x, worksheet_write_number(x->ws, (lxw_row_t)x->row, c, serial, pick(&x->date, level)),
                                "cell");
            else
                st = write_blank(x, c, blank);
            break;
        case X_TIME_ISO:
        case X_TIME_EXCEL:
        case X_TIME_LOCAL:
            if (!row->has_time) {
                st = write_blank(x, c, blank);
                break;
            }
            if (xc->kind == X_TIME_ISO)
                n = ah_timefmt_utc(row->time, buf);
            else if (xc->kind == X_TIME_EXCEL)
                n = ah_timefmt_excel(row->time, buf);
            else
                n = ah_timefmt_offset(row->time, ah_tz_offset(x->tz, row->time.sec), buf);
            st = write_text(x, c, ah_span_make(buf, n), tf, stats);
            break;
        case X_NUMBER:
            if (row->input_record)
                st = lxw_status(x,
                                worksheet_write_number(x->ws, (lxw_row_t)x->row, c, (double)row->input_record,
                                                       pick(&x->number, level)),
                                "cell");
            else
                st = write_blank(x, c, blank);
            break;
        case X_TEXT: {
            ah_span text = row->col[xc->col];
            lxw_format *f = xc->col == AH_COL_SEVERITY && level >= 0 && level < LEVELS ? x->severity[level] : tf;
            if (!text.p || (text.n == 0 && f == tf))
                st = write_blank(x, c, f == tf ? blank : f);
            else
                st = write_text(x, c, text, f, stats);
            break;
        }
        }
    }
    /* A row that failed half-way cannot be taken back (its cells are with
     * libxlsxwriter): leave it and start the next row clean. */
    x->row++;
    return st;
}

ah_status ah_xlsx_sheet_begin(ah_xlsx *x, const char *name, const double *widths, size_t ncols, bool header)
{
    if (!x || x->magic != XLSX_MAGIC || !name || !widths)
        return AH_ERR_USAGE;
    x->in_timeline = false; /* the timeline is complete once another sheet starts */
    return new_sheet(x, name, widths, ncols, header);
}

ah_status ah_xlsx_sheet_row(ah_xlsx *x, const ah_sheet_cell *cells, size_t n)
{
    if (!x || x->magic != XLSX_MAGIC || x->in_timeline || !x->ws || n > x->sheet_cols)
        return AH_ERR_USAGE;
    if (x->row >= LXW_ROW_MAX)
        return AH_ERR_TOOBIG;
    bool header_row = x->sheet_filter && x->row == 0;
    ah_status st = AH_OK;
    for (size_t i = 0; i < n && st == AH_OK; i++) {
        const ah_sheet_cell *cell = &cells[i];
        lxw_col_t c = (lxw_col_t)i;
        lxw_format *f = header_row ? x->header : cell->bold ? x->bold : NULL;
        if (cell->coloured && cell->level >= 0 && cell->level < LEVELS)
            f = x->severity[cell->level];
        double serial;
        switch (cell->kind) {
        case AH_SHEET_EMPTY: st = write_blank(x, c, f); break;
        case AH_SHEET_TEXT: st = write_text(x, c, cell->text, f, NULL); break;
        case AH_SHEET_NUMBER:
            st = lxw_status(x, worksheet_write_number(x->ws, (lxw_row_t)x->row, c, cell->number, f), "cell");
            break;
        case AH_SHEET_TIME:
            if (excel_serial(cell->time, &serial))
                st = lxw_status(x, worksheet_write_number(x->ws, (lxw_row_t)x->row, c, serial, x->date.plain), "cell");
            break;
        }
    }
    if (st == AH_OK)
        x->row++;
    return st;
}

ah_status ah_xlsx_close(ah_xlsx *x)
{
    if (!x || x->magic != XLSX_MAGIC || !x->wb)
        return AH_ERR_USAGE;
    ah_status st = end_sheet(x);
    lxw_workbook *wb = x->wb;
    x->wb = NULL; /* workbook_close frees it, whatever it returns */
    lxw_error e = workbook_close(wb);
    if (st == AH_OK)
        st = lxw_status(x, e, "writing the file");
    return st;
}

void ah_xlsx_free(ah_xlsx *x)
{
    if (!x)
        return;
    if (x->wb)
        lxw_workbook_free(x->wb); /* discard: its temporary files are anonymous */
    ah_buf_free(&x->cell);
    ah_buf_free(&x->escaped);
    free(x->path);
    free(x->tmpdir);
    x->magic = 0;
    free(x);
}
