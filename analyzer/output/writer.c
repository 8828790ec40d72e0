/*
 * writer.c: timeline writers for CSV, JSON Lines and JSON (see timeline.h);
 * XLSX is handed to xlsx.c.
 *
 * A row is formatted into one bounded buffer which is handed to the sink
 * once it holds FLUSH_AT bytes, so output streams in fixed-size blocks.
 * A row that cannot be formatted (a field past the buffer limit) is rolled
 * back and reported without corrupting the file; an I/O error fails the
 * writer for good. The large `raw` member bypasses the buffer.
 *
 * CSV files longer than split_rows data rows continue in numbered files
 * (sink.h names them). Finished parts stay under their temporary names
 * until ah_writer_close, so an aborted run leaves no partial timeline.
 */
#include "timeline.h"

#include "csvcell.h"
#include "sink.h"
#include "timefmt.h"
#include "tz.h"
#include "xlsx.h"

#include "../../parsers/frame/jscan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WRITER_MAGIC 0x54574c52u /* "TWLR" */
#define FLUSH_AT ((size_t)64 * 1024)
#define ROW_LIMIT ((size_t)512 * 1024 * 1024) /* one formatted row, raw excluded */

static const char *const col_names[AH_COL_COUNT] = {
#define AH_COL(id, name, doc) name,
#include "columns.def"
#undef AH_COL
};

static const char *const col_docs[AH_COL_COUNT] = {
#define AH_COL(id, name, doc) doc,
#include "columns.def"
#undef AH_COL
};

const char *ah_col_name(ah_col_id c) { return (unsigned)c < AH_COL_COUNT ? col_names[c] : "?"; }
const char *ah_col_doc(ah_col_id c) { return (unsigned)c < AH_COL_COUNT ? col_docs[c] : "?"; }

ah_col_id ah_col_from_name(ah_span name)
{
    for (int c = 0; c < AH_COL_COUNT; c++)
        if (ah_span_eq(name, col_names[c]))
            return (ah_col_id)c;
    return AH_COL_COUNT;
}

const char *ah_out_format_name(ah_out_format f)
{
    switch (f) {
    case AH_OUT_CSV: return "csv";
    case AH_OUT_JSONL: return "jsonl";
    case AH_OUT_JSON: return "json";
    case AH_OUT_XLSX: return "xlsx";
    }
    return "?";
}

ah_status ah_out_format_from_name(ah_span name, ah_out_format *out)
{
    if (ah_span_eq_ci(name, "csv"))
        *out = AH_OUT_CSV;
    else if (ah_span_eq_ci(name, "jsonl") || ah_span_eq_ci(name, "json-lines") || ah_span_eq_ci(name, "ndjson"))
        *out = AH_OUT_JSONL;
    else if (ah_span_eq_ci(name, "json"))
        *out = AH_OUT_JSON;
    else if (ah_span_eq_ci(name, "xlsx"))
        *out = AH_OUT_XLSX;
    else
        return AH_ERR_USAGE;
    return AH_OK;
}

void ah_writer_options_init(ah_writer_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->format = AH_OUT_CSV;
    opt->path = "-";
    opt->delimiter = ',';
    opt->excel_safe = true;
    opt->max_cell_chars = AH_EXCEL_MAX_CELL_CHARS;
    opt->split_rows = AH_WRITER_DEFAULT_SPLIT_ROWS;
    opt->include_raw = true;
}

typedef enum out_kind { OUT_TIME, OUT_TIME_EXCEL, OUT_TIME_LOCAL, OUT_TEXT, OUT_NUMBER } out_kind;

typedef struct out_col {
    const char *name;
    out_kind kind;
    ah_col_id col;
} out_col;

struct ah_writer {
    uint32_t magic;
    ah_writer_options opt; /* path and tz point at our copies */
    char *path;
    char *tz_name;
    ah_diag *diag;
    ah_xlsx *xlsx;     /* AH_OUT_XLSX: the workbook; cur is its file */
    ah_tz *tz;
    out_col cols[AH_COL_COUNT + 2];
    size_t ncols;
    ah_sink *cur;
    ah_sink **done; /* finished parts awaiting commit */
    size_t ndone, done_cap;
    unsigned part_no;
    uint64_t rows_in_part;
    bool can_split;
    ah_buf out;
    ah_status failed; /* AH_OK until an I/O error */
    ah_writer_stats stats;
};

static void build_layout(ah_writer *w)
{
    for (int c = 0; c < AH_COL_COUNT; c++) {
        out_col *oc = &w->cols[w->ncols++];
        oc->name = col_names[c];
        oc->col = (ah_col_id)c;
        oc->kind = c == AH_COL_TIME ? OUT_TIME : c == AH_COL_INPUT_RECORD ? OUT_NUMBER : OUT_TEXT;
        if (c == AH_COL_TIME && w->opt.excel_dates)
            w->cols[w->ncols++] = (out_col){"time_excel", OUT_TIME_EXCEL, AH_COL_TIME};
        if (c == AH_COL_TIME && w->tz)
            w->cols[w->ncols++] = (out_col){"time_local", OUT_TIME_LOCAL, AH_COL_TIME};
    }
}

static ah_status flush(ah_writer *w)
{
    if (w->out.len == 0)
        return AH_OK;
    ah_status st = ah_sink_write(w->cur, w->out.data, w->out.len);
    if (st == AH_OK)
        w->stats.bytes += w->out.len;
    ah_buf_reset(&w->out);
    return st;
}

static ah_status write_direct(ah_writer *w, const char *p, size_t n)
{
    ah_status st = ah_sink_write(w->cur, p, n);
    if (st == AH_OK)
        w->stats.bytes += n;
    return st;
}

static ah_status csv_header(ah_writer *w)
{
    ah_status st = AH_OK;
    /* A BOM lets spreadsheets read the file as UTF-8; on a pipe it would
     * only break scripts reading the header. */
    bool bom = w->opt.bom == AH_BOM_ALWAYS || (w->opt.bom == AH_BOM_AUTO && ah_sink_get_kind(w->cur) == AH_SINK_FILE);
    if (bom)
        st = ah_buf_puts(&w->out, "\xEF\xBB\xBF");
    for (size_t i = 0; st == AH_OK && i < w->ncols; i++) {
        if (i > 0)
            st = ah_buf_putc(&w->out, w->opt.delimiter);
        if (st == AH_OK)
            st = ah_csvout_cell(&w->out, ah_span_cstr(w->cols[i].name), false, 0, NULL);
    }
    return st == AH_OK ? ah_buf_puts(&w->out, "\r\n") : st;
}

/* Open the next numbered destination and write its preamble. */
static ah_status start_part(ah_writer *w)
{
    ah_status st = AH_OK;
    char *path = ah_sink_part_path(w->path, w->part_no + 1);
    if (!path)
        return AH_ERR_NOMEM;
    w->cur = ah_sink_open(path, w->opt.force, w->diag, &st);
    free(path);
    if (!w->cur)
        return st;
    w->part_no++;
    w->rows_in_part = 0;
    w->stats.files++;
    if (w->opt.format == AH_OUT_CSV)
        st = csv_header(w);
    else if (w->opt.format == AH_OUT_JSON)
        st = ah_buf_putc(&w->out, '[');
    return st;
}

/* Flush, fsync and park the current part until close. */
static ah_status finish_part(ah_writer *w)
{
    ah_status st = flush(w);
    if (st == AH_OK)
        st = ah_sink_finish(w->cur);
    if (w->ndone == w->done_cap) {
        ah_sink **d = ah_grow_array(w->done, &w->done_cap, 4, sizeof *d);
        if (!d)
            return AH_ERR_NOMEM; /* cur stays owned by w and is freed on abort */
        w->done = d;
    }
    w->done[w->ndone++] = w->cur;
    w->cur = NULL;
    return st;
}

static bool delimiter_ok(char c)
{
    return c == '\t' || (c >= 0x20 && c < 0x7f && c != '"');
}

ah_writer *ah_writer_open(const ah_writer_options *opt, ah_diag *diag, ah_status *st)
{
    ah_status status = AH_OK;
    ah_writer *w = NULL;
    if (!opt || !opt->path || !*opt->path) {
        ah_diag_report(diag, AH_SEV_ERROR, NULL, "no output path given");
        status = AH_ERR_USAGE;
        goto out;
    }
    if (opt->format != AH_OUT_CSV && opt->format != AH_OUT_JSONL && opt->format != AH_OUT_JSON &&
        opt->format != AH_OUT_XLSX) {
        ah_diag_report(diag, AH_SEV_ERROR, NULL, "unknown output format");
        status = AH_ERR_USAGE;
        goto out;
    }
    if (opt->format == AH_OUT_XLSX && strcmp(opt->path, "-") == 0) {
        /* A workbook is a zip archive, complete only at its end. */
        ah_diag_report(diag, AH_SEV_ERROR, NULL, "an XLSX workbook cannot go to standard output: give -o FILE.xlsx");
        status = AH_ERR_USAGE;
        goto out;
    }
    char delimiter = opt->delimiter ? opt->delimiter : ',';
    if (!delimiter_ok(delimiter)) {
        ah_diag_report(diag, AH_SEV_ERROR, NULL, "CSV delimiter must be a printable ASCII character other than '\"', or TAB");
        status = AH_ERR_USAGE;
        goto out;
    }
    w = calloc(1, sizeof *w);
    if (!w) {
        status = AH_ERR_NOMEM;
        goto out;
    }
    w->magic = WRITER_MAGIC;
    w->opt = *opt;
    w->opt.delimiter = delimiter;
    w->diag = diag;
    ah_buf_init(&w->out, ROW_LIMIT);
    w->path = strdup(opt->path);
    w->tz_name = opt->tz ? strdup(opt->tz) : NULL;
    if (!w->path || (opt->tz && !w->tz_name)) {
        status = AH_ERR_NOMEM;
        goto out;
    }
    w->opt.path = w->path;
    w->opt.tz = w->tz_name;
    w->opt.zoneinfo_dir = NULL; /* only needed here, not kept */
    if (opt->tz) {
        w->tz = ah_tz_load(opt->tz, opt->zoneinfo_dir, diag, &status);
        if (!w->tz)
            goto out;
    }
    build_layout(w);
    status = start_part(w);
    if (status != AH_OK)
        goto out;
    if (opt->format == AH_OUT_XLSX) {
        /* libxlsxwriter writes the zip by name: the sink's temporary file,
         * or the device itself. */
        const char *file = ah_sink_temp_path(w->cur) ? ah_sink_temp_path(w->cur) : w->path;
        w->xlsx = ah_xlsx_open(&w->opt, file, w->tz, diag, &status);
        w->opt.tmpdir = NULL; /* copied by the workbook */
        goto out;
    }
    w->can_split = opt->format == AH_OUT_CSV && opt->split_rows > 0 && ah_sink_get_kind(w->cur) == AH_SINK_FILE;
    status = flush(w);
out:
    if (status != AH_OK) {
        ah_writer_abort(w);
        w = NULL;
    }
    if (st)
        *st = status;
    return w;
}

/* ---- row formatting ---------------------------------------------------- */

/* The text of a generated cell (times, numbers); `absent` when it has none. */
static ah_span generated(const ah_writer *w, const out_col *oc, const ah_row *row, char *buf, bool *absent)
{
    size_t n = 0;
    *absent = false;
    switch (oc->kind) {
    case OUT_TIME:
    case OUT_TIME_EXCEL:
    case OUT_TIME_LOCAL:
        if (!row->has_time) {
            *absent = true;
            break;
        }
        if (oc->kind == OUT_TIME)
            n = ah_timefmt_utc(row->time, buf);
        else if (oc->kind == OUT_TIME_EXCEL)
            n = ah_timefmt_excel(row->time, buf);
        else
            n = ah_timefmt_offset(row->time, ah_tz_offset(w->tz, row->time.sec), buf);
        break;
    case OUT_NUMBER:
        if (row->input_record == 0)
            *absent = true;
        else
            n = (size_t)snprintf(buf, AH_TIMEFMT_SIZE, "%llu", (unsigned long long)row->input_record);
        break;
    case OUT_TEXT:
        *absent = row->col[oc->col].p == NULL;
        return row->col[oc->col];
    }
    return *absent ? AH_SPAN_NULL : ah_span_make(buf, n);
}

static ah_status csv_row(ah_writer *w, const ah_row *row)
{
    ah_status st = AH_OK;
    char buf[AH_TIMEFMT_SIZE];
    for (size_t i = 0; st == AH_OK && i < w->ncols; i++) {
        bool absent;
        ah_span text = generated(w, &w->cols[i], row, buf, &absent);
        unsigned flags = 0;
        if (i > 0)
            st = ah_buf_putc(&w->out, w->opt.delimiter);
        if (st == AH_OK)
            st = ah_csvout_cell(&w->out, text, w->opt.excel_safe, w->opt.max_cell_chars, &flags);
        w->stats.cells_truncated += (flags & AH_CELL_TRUNCATED) != 0;
        w->stats.cells_neutralised += (flags & AH_CELL_NEUTRALISED) != 0;
        w->stats.cells_repaired += (flags & AH_CELL_REPAIRED) != 0;
    }
    return st == AH_OK ? ah_buf_puts(&w->out, "\r\n") : st;
}

/* Everything of a JSON row up to (not including) raw and the closing brace. */
static ah_status json_fields(ah_writer *w, const ah_row *row)
{
    ah_status st = ah_buf_putc(&w->out, '{');
    char buf[AH_TIMEFMT_SIZE];
    for (size_t i = 0; st == AH_OK && i < w->ncols; i++) {
        const out_col *oc = &w->cols[i];
        bool absent;
        ah_span text = generated(w, oc, row, buf, &absent);
        st = ah_buf_printf(&w->out, "%s\"%s\":", i ? "," : "", oc->name);
        if (st != AH_OK)
            break;
        if (absent)
            st = ah_buf_puts(&w->out, "null");
        else if (oc->kind == OUT_NUMBER)
            st = ah_buf_append_span(&w->out, text);
        else
            st = ah_json_write_string(&w->out, text);
    }
    return st;
}

/* "rules": [{"id","title","severity","tags":[...],"routine"}], always an array. */
static ah_status json_rules(ah_writer *w, const ah_row *row)
{
    ah_status st = ah_buf_puts(&w->out, ",\"rules\":[");
    for (size_t i = 0; st == AH_OK && i < row->nrule_info; i++) {
        const ah_row_rule *r = &row->rule_info[i];
        st = ah_buf_puts(&w->out, i ? ",{\"id\":" : "{\"id\":");
        if (st == AH_OK)
            st = ah_json_write_string(&w->out, ah_span_cstr(r->id));
        if (st == AH_OK)
            st = ah_buf_puts(&w->out, ",\"title\":");
        if (st == AH_OK)
            st = ah_json_write_string(&w->out, ah_span_cstr(r->title));
        if (st == AH_OK)
            st = ah_buf_puts(&w->out, ",\"severity\":");
        if (st == AH_OK)
            st = ah_json_write_string(&w->out, ah_span_cstr(r->severity));
        if (st == AH_OK)
            st = ah_buf_puts(&w->out, ",\"tags\":[");
        for (size_t t = 0; st == AH_OK && t < r->ntags; t++) {
            if (t)
                st = ah_buf_putc(&w->out, ',');
            if (st == AH_OK)
                st = ah_json_write_string(&w->out, ah_span_cstr(r->tags[t]));
        }
        if (st == AH_OK)
            st = ah_buf_puts(&w->out, r->routine ? "],\"routine\":true}" : "],\"routine\":false}");
    }
    return st == AH_OK ? ah_buf_putc(&w->out, ']') : st;
}

/* raw goes straight to the sink: it can be large and is already JSON. A
 * JSON Lines record must stay on one line, and CR/LF can only be
 * insignificant whitespace in valid JSON, so they are dropped there. */
static ah_status json_raw(ah_writer *w, const char *key, ah_span raw)
{
    ah_status st = ah_buf_printf(&w->out, ",\"%s\":", key);
    if (st != AH_OK)
        return st;
    if (!raw.p)
        return ah_buf_puts(&w->out, "null");
    if (!ah_json_valid(raw)) {
        w->stats.raw_invalid++;
        return ah_json_write_string(&w->out, raw);
    }
    raw = ah_span_trim(raw);
    if ((st = flush(w)) != AH_OK)
        return st;
    if (w->opt.format != AH_OUT_JSONL)
        return write_direct(w, raw.p, raw.n);
    size_t start = 0;
    for (size_t i = 0; i <= raw.n && st == AH_OK; i++) {
        if (i == raw.n || raw.p[i] == '\n' || raw.p[i] == '\r') {
            if (i > start)
                st = write_direct(w, raw.p + start, i - start);
            start = i + 1;
        }
    }
    return st;
}

static ah_status check(const ah_writer *w)
{
    if (!w || w->magic != WRITER_MAGIC)
        return AH_ERR_USAGE;
    return w->failed;
}

ah_status ah_writer_write(ah_writer *w, const ah_row *row)
{
    ah_status st = check(w);
    if (st != AH_OK)
        return st;
    if (!row)
        return AH_ERR_USAGE;
    if (w->xlsx) {
        if ((st = ah_xlsx_write(w->xlsx, row, &w->stats)) == AH_ERR_NOMEM || st == AH_ERR_IO)
            goto fail;
        if (st != AH_OK) {
            ah_where where = {.path = w->path, .record_no = row->input_record};
            ah_diag_report(w->diag, AH_SEV_ERROR, &where, "timeline row not written: %s", ah_status_str(st));
            return AH_ERR_RECORD;
        }
        w->stats.rows++;
        return AH_OK;
    }
    if (w->can_split && w->rows_in_part >= w->opt.split_rows) {
        st = finish_part(w);
        if (st == AH_OK)
            st = start_part(w);
        if (st != AH_OK)
            goto fail;
    }
    size_t mark = w->out.len;
    if (w->opt.format == AH_OUT_CSV) {
        st = csv_row(w, row);
    } else {
        if (w->opt.format == AH_OUT_JSON)
            st = ah_buf_puts(&w->out, w->stats.rows ? ",\n" : "\n");
        if (st == AH_OK)
            st = json_fields(w, row);
        if (st == AH_OK)
            st = json_rules(w, row);
    }
    if (st != AH_OK) {
        /* Nothing of this row has reached the sink yet: drop it and go on. */
        ah_buf_truncate(&w->out, mark);
        ah_where where = {.path = w->path, .record_no = row->input_record};
        ah_diag_report(w->diag, AH_SEV_ERROR, &where, "timeline row not written: %s", ah_status_str(st));
        return st == AH_ERR_NOMEM ? st : AH_ERR_RECORD;
    }
    if (w->opt.format != AH_OUT_CSV) {
        if (w->opt.include_raw)
            st = json_raw(w, "raw", row->raw);
        if (st == AH_OK && w->opt.include_raw)
            st = json_raw(w, "related_raw", row->related_raw);
        if (st == AH_OK)
            st = ah_buf_puts(&w->out, w->opt.format == AH_OUT_JSONL ? "}\n" : "}");
        if (st != AH_OK)
            goto fail;
    }
    w->rows_in_part++;
    w->stats.rows++;
    if (w->out.len >= FLUSH_AT && (st = flush(w)) != AH_OK)
        goto fail;
    return AH_OK;
fail:
    w->failed = st;
    return st;
}

static void free_writer(ah_writer *w)
{
    ah_xlsx_free(w->xlsx);
    ah_sink_free(w->cur);
    for (size_t i = 0; i < w->ndone; i++)
        ah_sink_free(w->done[i]);
    free(w->done);
    ah_tz_free(w->tz);
    ah_buf_free(&w->out);
    free(w->path);
    free(w->tz_name);
    w->magic = 0;
    free(w);
}

ah_status ah_writer_close(ah_writer *w, ah_writer_stats *stats)
{
    if (!w)
        return AH_OK;
    ah_status st = check(w);
    if (st == AH_OK && w->opt.format == AH_OUT_JSON)
        st = ah_buf_puts(&w->out, w->stats.rows ? "\n]\n" : "]\n");
    if (st == AH_OK && w->xlsx) {
        st = ah_xlsx_close(w->xlsx);
        if (st == AH_OK && ah_sink_get_kind(w->cur) == AH_SINK_FILE)
            st = ah_sink_rehash(w->cur);
    }
    if (st == AH_OK)
        st = finish_part(w);
    /* Refuse before moving anything if a final name appeared meanwhile. */
    for (size_t i = 0; st == AH_OK && i < w->ndone; i++)
        st = ah_sink_check_target(w->done[i]);
    for (size_t i = 0; st == AH_OK && i < w->ndone; i++)
        st = ah_sink_commit(w->done[i]);
    for (size_t i = 0; st == AH_OK && i < w->ndone; i++)
        st = ah_output_list_add(w->opt.outputs, w->done[i]);
    if (stats)
        *stats = w->stats;
    free_writer(w); /* removes whatever is still temporary */
    return st;
}

void ah_writer_abort(ah_writer *w)
{
    if (w)
        free_writer(w);
}

void ah_writer_get_stats(const ah_writer *w, ah_writer_stats *stats)
{
    if (w && stats)
        *stats = w->stats;
}

bool ah_writer_has_sheets(const ah_writer *w)
{
    return check(w) == AH_OK && w->xlsx != NULL;
}

ah_status ah_writer_sheet_begin(ah_writer *w, const char *name, const double *widths, size_t ncols, bool header)
{
    ah_status st = check(w);
    if (st != AH_OK)
        return st;
    if (!w->xlsx)
        return AH_ERR_USAGE;
    if ((st = ah_xlsx_sheet_begin(w->xlsx, name, widths, ncols, header)) == AH_ERR_NOMEM || st == AH_ERR_IO)
        w->failed = st;
    return st;
}

ah_status ah_writer_sheet_row(ah_writer *w, const ah_sheet_cell *cells, size_t n)
{
    ah_status st = check(w);
    if (st != AH_OK)
        return st;
    if (!w->xlsx)
        return AH_ERR_USAGE;
    if ((st = ah_xlsx_sheet_row(w->xlsx, cells, n)) == AH_ERR_NOMEM || st == AH_ERR_IO)
        w->failed = st;
    return st;
}
