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
 *
 * Size: the CSV, JSON Lines and JSON writers share the row formatting, the
 * column table, the bounded buffer and roll-back of a row that does not
 * fit.
 */
#include "timeline.h"

#include "csvcell.h"
#include "message.h"
#include "sink.h"
#include "timefmt.h"
#include "tz.h"
#include "xlsx.h"

#include "../../parsers/formats/ipaddr.h"
#include "../../parsers/frame/jscan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WRITER_MAGIC 0x54574c52u /* "TWLR" */
#define FLUSH_AT ((size_t)64 * 1024)
#define ROW_LIMIT ((size_t)512 * 1024 * 1024) /* one formatted row, raw excluded */

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

/* How a field's value is made (profiles.def explains each). */
typedef enum pvalue {
    PV_COLUMNS,
    PV_TEXT,
    PV_TIME,
    PV_DATETIME,
    PV_TIMESTAMP_US,
    PV_TIMESTAMP_DESC,
    PV_MESSAGE,
    PV_CONST,
    PV_RULES,
    PV_RAW,
    PV_RELATED_RAW,
    PV_RAW_STRING,
    PV_RELATED_RAW_STRING,
    PV_EVENT_KIND,
    PV_EVENT_CATEGORY,
    PV_EVENT_TYPE,
    PV_OUTCOME,
    PV_SEVERITY,
    PV_DATASET,
    PV_IP,
    PV_IP_ARRAY,
    PV_USER_ARRAY,
    PV_RULE_IDS,
    PV_RULE_NAMES,
    PV_TAG_ARRAY,
    PV_TECHNIQUE_IDS,
    PV_THREAT_FRAMEWORK,
    /* made by the COLUMNS expansion */
    PV_TIME_EXCEL,
    PV_TIME_LOCAL,
    PV_NUMBER,
    PV_CELL,
    PV_CELL_NUMBER,
} pvalue;

typedef struct pfield {
    ah_out_profile profile;
    const char *name;
    pvalue value;
    ah_col_id col;
    const char *constant;
} pfield;

static const pfield profile_fields[] = {
#define AH_PFIELD(profile, name, value, col, constant) {AH_PROFILE_##profile, name, PV_##value, AH_COL_##col, constant},
#include "profiles.def"
#undef AH_PFIELD
};

#define MAX_FIELDS 96
/* The longest layout is one profile's fields with COLUMNS expanded to the
 * larger column set plus the two optional time columns: every profile's
 * fields together bound it from above. */
_Static_assert(AH_ARRAY_LEN(profile_fields) + AH_COL_COUNT + AH_EVENT_CELL_COUNT + 2 <= MAX_FIELDS,
               "MAX_FIELDS holds every layout");
#define MAX_NAME 64
#define MAX_DEPTH 4

typedef struct out_col {
    char name[MAX_NAME]; /* a dotted path when the profile nests */
    pvalue kind;
    ah_col_id col;
    size_t cell; /* PV_CELL*: index of the event cell */
    const char *constant;
} out_col;

/* The objects a nesting JSON row has open, outermost first. */
typedef struct nest {
    const char *seg[MAX_DEPTH];
    size_t len[MAX_DEPTH];
    bool first[MAX_DEPTH + 1]; /* nothing written yet at this depth */
    size_t depth;
} nest;

struct ah_writer {
    uint32_t magic;
    ah_writer_options opt; /* path and tz point at our copies */
    char *path;
    char *tz_name;
    ah_diag *diag;
    ah_xlsx *xlsx; /* AH_OUT_XLSX: the workbook; cur is its file */
    ah_tz *tz;
    out_col cols[MAX_FIELDS];
    size_t ncols;
    bool nested;      /* dotted names are object paths (ECS) */
    bool omit_absent; /* leave absent values out instead of null (ECS) */
    ah_sink *cur;
    ah_sink **done; /* finished parts awaiting commit */
    size_t ndone, done_cap;
    unsigned part_no;
    uint64_t rows_in_part;
    bool can_split;
    ah_buf out;
    ah_buf scratch;   /* one generated value (message, array) */
    ah_status failed; /* AH_OK until an I/O error */
    ah_writer_stats stats;
};

static bool json_only(pvalue v)
{
    switch (v) {
    case PV_RULES:
    case PV_RAW:
    case PV_RELATED_RAW:
    case PV_RAW_STRING:
    case PV_RELATED_RAW_STRING:
    case PV_EVENT_CATEGORY:
    case PV_EVENT_TYPE:
    case PV_IP_ARRAY:
    case PV_USER_ARRAY:
    case PV_RULE_IDS:
    case PV_RULE_NAMES:
    case PV_TAG_ARRAY:
    case PV_TECHNIQUE_IDS: return true;
    default: return false;
    }
}

static void add_col(ah_writer *w, const char *prefix, const char *name, pvalue kind, ah_col_id col, size_t cell,
                    const char *constant)
{
    if (w->ncols == MAX_FIELDS)
        return; /* cannot happen: see the assertion after the table */
    out_col *oc = &w->cols[w->ncols++];
    snprintf(oc->name, sizeof oc->name, "%s%s%s", prefix, *prefix ? "." : "", name);
    oc->kind = kind;
    oc->col = col;
    oc->cell = cell;
    oc->constant = constant;
}

/* Every column of the layout, under `prefix` ("" = top level). */
static void add_columns(ah_writer *w, const char *prefix)
{
    add_col(w, prefix, ah_col_name(AH_COL_TIME), PV_TIME, AH_COL_TIME, 0, NULL);
    if (w->opt.excel_dates)
        add_col(w, prefix, "time_excel", PV_TIME_EXCEL, AH_COL_TIME, 0, NULL);
    if (w->tz)
        add_col(w, prefix, "time_local", PV_TIME_LOCAL, AH_COL_TIME, 0, NULL);
    if (w->opt.layout == AH_LAYOUT_EVENT) {
        for (size_t i = 0; i < AH_EVENT_CELL_COUNT; i++)
            add_col(w, prefix, ah_event_cell_name(i), ah_event_cell_is_number(i) ? PV_CELL_NUMBER : PV_CELL,
                    AH_COL_TIME, i, NULL);
        return;
    }
    for (int c = AH_COL_TIME + 1; c < AH_COL_COUNT; c++)
        add_col(w, prefix, ah_col_name((ah_col_id)c), c == AH_COL_INPUT_RECORD ? PV_NUMBER : PV_TEXT, (ah_col_id)c, 0,
                NULL);
}

static void build_layout(ah_writer *w)
{
    w->nested = w->omit_absent = w->opt.profile == AH_PROFILE_ECS;
    for (size_t i = 0; i < AH_ARRAY_LEN(profile_fields); i++) {
        const pfield *f = &profile_fields[i];
        if (f->profile != w->opt.profile)
            continue;
        if (w->opt.format == AH_OUT_CSV && json_only(f->value))
            continue;
        bool raw = f->value == PV_RAW || f->value == PV_RELATED_RAW || f->value == PV_RAW_STRING ||
                   f->value == PV_RELATED_RAW_STRING;
        if (raw && !w->opt.include_raw)
            continue;
        /* Event rows (search) have no rules and no joined twin. */
        if (w->opt.layout == AH_LAYOUT_EVENT &&
            (f->value == PV_RULES || f->value == PV_RELATED_RAW || f->value == PV_RELATED_RAW_STRING))
            continue;
        if (f->value == PV_COLUMNS)
            add_columns(w, f->constant);
        else
            add_col(w, "", f->name, f->value, f->col, 0, f->constant);
    }
}

const char *ah_out_profile_name(ah_out_profile p)
{
    switch (p) {
    case AH_PROFILE_NONE: return "none";
    case AH_PROFILE_TIMESKETCH: return "timesketch";
    case AH_PROFILE_ECS: return "ecs";
    }
    return "?";
}

ah_status ah_out_profile_from_name(ah_span name, ah_out_profile *out)
{
    if (ah_span_eq_ci(name, "none"))
        *out = AH_PROFILE_NONE;
    else if (ah_span_eq_ci(name, "timesketch"))
        *out = AH_PROFILE_TIMESKETCH;
    else if (ah_span_eq_ci(name, "ecs"))
        *out = AH_PROFILE_ECS;
    else
        return AH_ERR_USAGE;
    return AH_OK;
}

/* Timesketch imports CSV and JSON Lines files; Elasticsearch's bulk API takes lines. */
bool ah_out_profile_allows(ah_out_profile p, ah_out_format f)
{
    switch (p) {
    case AH_PROFILE_NONE: return true;
    case AH_PROFILE_TIMESKETCH: return f == AH_OUT_CSV || f == AH_OUT_JSONL;
    case AH_PROFILE_ECS: return f == AH_OUT_JSONL;
    }
    return false;
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
    /* The default BOM is for spreadsheets; a profile's file is for an importer. */
    bool bom = w->opt.bom == AH_BOM_ALWAYS || (w->opt.bom == AH_BOM_AUTO && w->opt.profile == AH_PROFILE_NONE &&
                                               ah_sink_get_kind(w->cur) == AH_SINK_FILE);
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

static bool delimiter_ok(char c) { return c == '\t' || (c >= 0x20 && c < 0x7f && c != '"'); }

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
    if (!ah_out_profile_allows(opt->profile, opt->format)) {
        ah_diag_report(diag, AH_SEV_ERROR, NULL, "the %s profile cannot be written as %s (%s)",
                       ah_out_profile_name(opt->profile), ah_out_format_name(opt->format),
                       opt->profile == AH_PROFILE_ECS ? "use jsonl" : "use csv or jsonl");
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
        ah_diag_report(diag, AH_SEV_ERROR, NULL,
                       "CSV delimiter must be a printable ASCII character other than '\"', or TAB");
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
    ah_buf_init(&w->scratch, ROW_LIMIT);
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

/* The source the row's record came from: the leading one of a joined pair. */
static ah_span lead_source(const ah_row *row)
{
    ah_span s = row->col[AH_COL_SOURCE];
    for (size_t i = 0; s.p && i < s.n; i++)
        if (s.p[i] == '+')
            return ah_span_make(s.p, i);
    return s;
}

static bool span_starts(ah_span s, const char *prefix)
{
    size_t n = strlen(prefix);
    return s.n >= n && memcmp(s.p, prefix, n) == 0;
}

static bool span_has(ah_span s, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; s.p && i + n <= s.n; i++)
        if (memcmp(s.p + i, needle, n) == 0)
            return true;
    return false;
}

/* ECS event.category and event.type (allowed values only), from the log and
 * the operation: sign-ins are authentication; directory changes iam; in the
 * UAL, logons, mail and file access by name, cmdlets (Verb-Noun) configuration,
 * Entra operations (written as sentences) iam. */
static const char *ecs_category(const ah_row *row)
{
    ah_span src = lead_source(row), op = ah_span_trim(row->col[AH_COL_OPERATION]);
    if (ah_span_eq(src, "signin") || span_starts(op, "UserLoggedIn") || span_starts(op, "UserLoginFailed") ||
        span_starts(op, "Sign-in"))
        return "authentication";
    if (ah_span_eq(src, "entra_audit"))
        return "iam";
    if (span_starts(op, "File"))
        return "file";
    if (span_starts(op, "Mail") || ah_span_eq(op, "Send") || ah_span_eq(op, "SendAs") || ah_span_eq(op, "SendOnBehalf"))
        return "email";
    if (op.n && !span_has(op, " ") && span_has(op, "-"))
        return "configuration";
    return "iam";
}

static const char *ecs_type(const ah_row *row, const char *category)
{
    ah_span op = ah_span_trim(row->col[AH_COL_OPERATION]);
    if (strcmp(category, "authentication") == 0)
        return "start";
    if (strcmp(category, "email") == 0)
        return "info";
    if (strcmp(category, "file") == 0)
        return "access";
    if (span_starts(op, "Add") || span_starts(op, "New-") || span_starts(op, "Create") || span_has(op, "Consent"))
        return "creation";
    if (span_starts(op, "Remove") || span_starts(op, "Delete") || span_starts(op, "Disable"))
        return "deletion";
    return "change";
}

static int severity_number(ah_span sev)
{
    static const char *const names[] = {"info", "low", "medium", "high", "critical"};
    for (int i = 0; i < 5; i++)
        if (ah_span_eq(sev, names[i]))
            return i + 1;
    return 0;
}

/* "attack.t1098.001" -> "T1098.001" into buf; false for other tags. */
static bool technique_id(const char *tag, char buf[16])
{
    if (strncmp(tag, "attack.t", 8) != 0)
        return false;
    const char *p = tag + 8;
    size_t n = strlen(p);
    bool ok = (n == 4 || (n == 8 && p[4] == '.'));
    for (size_t i = 0; ok && i < n; i++)
        ok = i == 4 ? p[i] == '.' : (p[i] >= '0' && p[i] <= '9');
    if (!ok)
        return false;
    buf[0] = 'T';
    memcpy(buf + 1, p, n + 1);
    return true;
}

static bool valid_ip(ah_span s)
{
    ah_ip ip;
    return s.p && s.n && ah_ip_parse(s, &ip);
}

/* The text of a scalar value into *out (spans may point into buf or
 * w->scratch); false when the row has none. */
static bool scalar(ah_writer *w, const out_col *oc, const ah_row *row, const ah_span *cells, char *buf, ah_span *out)
{
    size_t n = 0;
    switch (oc->kind) {
    case PV_TIME:
    case PV_TIME_EXCEL:
    case PV_TIME_LOCAL:
        if (!row->has_time)
            return false;
        if (oc->kind == PV_TIME)
            n = ah_timefmt_utc(row->time, buf);
        else if (oc->kind == PV_TIME_EXCEL)
            n = ah_timefmt_excel(row->time, buf);
        else
            n = ah_timefmt_offset(row->time, ah_tz_offset(w->tz, row->time.sec), buf);
        break;
    case PV_DATETIME: n = ah_timefmt_utc(row->has_time ? row->time : (ah_time){0, 0}, buf); break;
    case PV_TIMESTAMP_US: {
        ah_time t = row->has_time ? row->time : (ah_time){0, 0};
        n = (size_t)snprintf(buf, AH_TIMEFMT_SIZE, "%lld", (long long)t.sec * 1000000 + t.nsec / 1000);
        break;
    }
    case PV_TIMESTAMP_DESC: {
        ah_span src = lead_source(row);
        const char *d = !row->has_time                    ? "Not a time"
                        : row->kind == AH_ROW_CORRELATION ? "First Event of Correlation"
                        : ah_span_eq(src, "signin")       ? "Sign-in Time"
                        : ah_span_eq(src, "entra_audit")  ? "Activity Time"
                                                          : "Event Recorded";
        *out = ah_span_cstr(d);
        return true;
    }
    case PV_NUMBER:
        if (row->input_record == 0)
            return false;
        n = (size_t)snprintf(buf, AH_TIMEFMT_SIZE, "%llu", (unsigned long long)row->input_record);
        break;
    case PV_TEXT: *out = row->col[oc->col]; return out->p != NULL;
    case PV_CELL:
    case PV_CELL_NUMBER: *out = cells ? cells[oc->cell] : AH_SPAN_NULL; return out->p != NULL;
    case PV_CONST: *out = ah_span_cstr(oc->constant); return true;
    case PV_MESSAGE:
        ah_buf_reset(&w->scratch);
        if (ah_row_message(row, &w->scratch) != AH_OK)
            return false;
        *out = ah_buf_span(&w->scratch);
        return true;
    case PV_EVENT_KIND:
        *out = ah_span_cstr(row->nrule_info || row->col[AH_COL_RULE_ID].n ? "alert" : "event");
        return true;
    case PV_OUTCOME: {
        ah_span r = ah_span_trim(row->col[oc->col]);
        *out = ah_span_cstr(span_starts(r, "success") ? "success" : span_starts(r, "failure") ? "failure" : "unknown");
        return true;
    }
    case PV_SEVERITY: {
        int v = severity_number(row->col[AH_COL_SEVERITY]);
        if (!v)
            return false;
        n = (size_t)snprintf(buf, AH_TIMEFMT_SIZE, "%d", v);
        break;
    }
    case PV_DATASET: {
        ah_span src = row->kind == AH_ROW_CORRELATION ? ah_span_cstr("correlation") : lead_source(row);
        if (!src.n)
            src = ah_span_cstr("unknown");
        n = (size_t)snprintf(buf, AH_TIMEFMT_SIZE, "audithound.%.*s", (int)(src.n > 40 ? 40 : src.n), src.p);
        break;
    }
    case PV_IP: *out = row->col[oc->col]; return valid_ip(*out);
    case PV_THREAT_FRAMEWORK: {
        char id[16];
        for (size_t i = 0; i < row->nrule_info; i++)
            for (size_t t = 0; t < row->rule_info[i].ntags; t++)
                if (technique_id(row->rule_info[i].tags[t], id)) {
                    *out = ah_span_cstr(oc->constant);
                    return true;
                }
        return false;
    }
    default: return false; /* JSON-only values are not scalars */
    }
    *out = ah_span_make(buf, n);
    return true;
}

static bool is_number(pvalue v)
{
    return v == PV_NUMBER || v == PV_CELL_NUMBER || v == PV_TIMESTAMP_US || v == PV_SEVERITY;
}

/* Add s to the JSON array in b unless it is already there. */
static ah_status array_add(ah_buf *b, size_t start, ah_span s)
{
    ah_status st = AH_OK;
    size_t mark = b->len;
    st = ah_buf_putc(b, b->len > start ? ',' : '[');
    if (st == AH_OK)
        st = ah_json_write_string(b, s);
    if (st != AH_OK)
        return st;
    /* Arrays are a handful of items: a scan beats a set. */
    size_t n = b->len - mark - 1;
    const char *item = b->data + mark + 1;
    for (size_t p = start + 1; p + n <= mark; p++)
        if ((b->data[p - 1] == '[' || b->data[p - 1] == ',') && memcmp(b->data + p, item, n) == 0 &&
            (p + n == mark || b->data[p + n] == ',')) {
            ah_buf_truncate(b, mark);
            break;
        }
    return AH_OK;
}

/* A JSON array value into w->scratch; false when it would be empty. */
static bool array_value(ah_writer *w, const out_col *oc, const ah_row *row)
{
    ah_buf *b = &w->scratch;
    ah_buf_reset(b);
    ah_status st = AH_OK;
    char id[16];
    switch (oc->kind) {
    case PV_EVENT_CATEGORY: st = array_add(b, 0, ah_span_cstr(ecs_category(row))); break;
    case PV_EVENT_TYPE: st = array_add(b, 0, ah_span_cstr(ecs_type(row, ecs_category(row)))); break;
    case PV_IP_ARRAY:
        if (valid_ip(row->col[oc->col]))
            st = array_add(b, 0, row->col[oc->col]);
        break;
    case PV_USER_ARRAY: {
        ah_span user = ah_span_trim(row->col[AH_COL_USER]), target = ah_span_trim(row->col[AH_COL_TARGET]);
        if (user.n)
            st = array_add(b, 0, user);
        /* a target that is an account (a mailbox, a user changed) is a user involved too */
        if (st == AH_OK && target.n && target.n < 256 && span_has(target, "@") && !span_has(target, " "))
            st = array_add(b, 0, target);
        break;
    }
    case PV_RULE_IDS:
    case PV_RULE_NAMES:
        for (size_t i = 0; st == AH_OK && i < row->nrule_info; i++)
            st =
                array_add(b, 0, ah_span_cstr(oc->kind == PV_RULE_IDS ? row->rule_info[i].id : row->rule_info[i].title));
        break;
    case PV_TAG_ARRAY:
    case PV_TECHNIQUE_IDS:
        for (size_t i = 0; st == AH_OK && i < row->nrule_info; i++)
            for (size_t t = 0; st == AH_OK && t < row->rule_info[i].ntags; t++) {
                const char *tag = row->rule_info[i].tags[t];
                if (oc->kind == PV_TAG_ARRAY)
                    st = array_add(b, 0, ah_span_cstr(tag));
                else if (technique_id(tag, id))
                    st = array_add(b, 0, ah_span_cstr(id));
            }
        break;
    default: break;
    }
    if (st != AH_OK || b->len == 0)
        return false;
    return ah_buf_putc(b, ']') == AH_OK;
}

static ah_status csv_row(ah_writer *w, const ah_row *row, const ah_span *cells)
{
    ah_status st = AH_OK;
    char buf[AH_TIMEFMT_SIZE];
    for (size_t i = 0; st == AH_OK && i < w->ncols; i++) {
        ah_span text;
        if (!scalar(w, &w->cols[i], row, cells, buf, &text))
            text = AH_SPAN_NULL;
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

/* Write `"name":`, opening and closing the objects of a dotted path when
 * the profile nests (the table keeps each object's fields together). */
static ah_status json_key(ah_writer *w, nest *n, const char *name)
{
    ah_status st = AH_OK;
    const char *seg[MAX_DEPTH + 1];
    size_t len[MAX_DEPTH + 1], nseg = 0;
    if (w->nested) {
        for (const char *p = name;;) {
            const char *dot = strchr(p, '.');
            if (!dot || nseg == MAX_DEPTH) {
                seg[nseg] = p;
                len[nseg++] = strlen(p);
                break;
            }
            seg[nseg] = p;
            len[nseg++] = (size_t)(dot - p);
            p = dot + 1;
        }
    } else {
        seg[0] = name;
        len[0] = strlen(name);
        nseg = 1;
    }
    size_t parents = nseg - 1, common = 0;
    while (common < parents && common < n->depth && len[common] == n->len[common] &&
           memcmp(seg[common], n->seg[common], len[common]) == 0)
        common++;
    while (st == AH_OK && n->depth > common) {
        st = ah_buf_putc(&w->out, '}');
        n->depth--;
    }
    for (size_t i = common; st == AH_OK && i < parents; i++) {
        if (!n->first[n->depth])
            st = ah_buf_putc(&w->out, ',');
        n->first[n->depth] = false;
        if (st == AH_OK)
            st = ah_buf_printf(&w->out, "\"%.*s\":{", (int)len[i], seg[i]);
        n->seg[n->depth] = seg[i];
        n->len[n->depth] = len[i];
        n->depth++;
        n->first[n->depth] = true;
    }
    if (st == AH_OK && !n->first[n->depth])
        st = ah_buf_putc(&w->out, ',');
    n->first[n->depth] = false;
    return st == AH_OK ? ah_buf_printf(&w->out, "\"%.*s\":", (int)len[parents], seg[parents]) : st;
}

/* "rules": [{"id","title","severity","tags":[...],"routine"}], always an array. */
static ah_status json_rules(ah_writer *w, const ah_row *row)
{
    ah_status st = ah_buf_putc(&w->out, '[');
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
static ah_status json_raw(ah_writer *w, ah_span raw, bool *flushed)
{
    ah_status st;
    if (!ah_json_valid(raw)) {
        w->stats.raw_invalid++;
        return ah_json_write_string(&w->out, raw);
    }
    raw = ah_span_trim(raw);
    if ((st = flush(w)) != AH_OK)
        return st;
    *flushed = true;
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

/* The record as one JSON string (ECS event.original: its type never
 * changes between export shapes), escaped in blocks that are flushed as
 * they fill, so a large record does not grow the buffer. */
#define STRING_BLOCK ((size_t)64 * 1024)
static ah_status json_raw_string(ah_writer *w, ah_span raw, bool *flushed)
{
    ah_status st = ah_buf_putc(&w->out, '"');
    size_t off = 0;
    while (st == AH_OK && off < raw.n) {
        size_t n = raw.n - off;
        if (n > STRING_BLOCK) {
            n = STRING_BLOCK;
            while (n > STRING_BLOCK - 4 && ((unsigned char)raw.p[off + n] & 0xC0) == 0x80)
                n--; /* end the block on a character boundary */
        }
        size_t mark = w->out.len;
        st = ah_json_write_string(&w->out, ah_span_make(raw.p + off, n));
        if (st != AH_OK)
            break;
        /* drop the quotes the helper put around the block */
        memmove(w->out.data + mark, w->out.data + mark + 1, w->out.len - mark - 2);
        ah_buf_truncate(&w->out, w->out.len - 2);
        off += n;
        if (w->out.len >= FLUSH_AT) {
            if ((st = flush(w)) != AH_OK)
                return st;
            *flushed = true;
        }
    }
    return st == AH_OK ? ah_buf_putc(&w->out, '"') : st;
}

/* One JSON object. *flushed turns true once part of it has reached the
 * sink (a raw record): from then on a failure cannot be rolled back. */
static ah_status json_row(ah_writer *w, const ah_row *row, const ah_span *cells, bool *flushed)
{
    nest n = {.depth = 0, .first = {true}};
    char buf[AH_TIMEFMT_SIZE];
    ah_status st = ah_buf_putc(&w->out, '{');
    for (size_t i = 0; st == AH_OK && i < w->ncols; i++) {
        const out_col *oc = &w->cols[i];
        ah_span text = AH_SPAN_NULL, raw = AH_SPAN_NULL;
        bool present;
        switch (oc->kind) {
        case PV_RULES: present = true; break;
        case PV_RAW:
        case PV_RAW_STRING:
        case PV_RELATED_RAW:
        case PV_RELATED_RAW_STRING:
            raw = oc->kind == PV_RAW || oc->kind == PV_RAW_STRING ? row->raw : row->related_raw;
            present = raw.p != NULL;
            break;
        default: present = json_only(oc->kind) ? array_value(w, oc, row) : scalar(w, oc, row, cells, buf, &text); break;
        }
        if (!present && w->omit_absent)
            continue;
        st = json_key(w, &n, oc->name);
        if (st != AH_OK)
            break;
        if (!present)
            st = ah_buf_puts(&w->out, "null");
        else if (oc->kind == PV_RULES)
            st = json_rules(w, row);
        else if (oc->kind == PV_RAW || oc->kind == PV_RELATED_RAW)
            st = json_raw(w, raw, flushed);
        else if (oc->kind == PV_RAW_STRING || oc->kind == PV_RELATED_RAW_STRING)
            st = json_raw_string(w, ah_span_trim(raw), flushed);
        else if (json_only(oc->kind))
            st = ah_buf_append_span(&w->out, ah_buf_span(&w->scratch));
        else if (is_number(oc->kind))
            st = ah_buf_append_span(&w->out, text);
        else
            st = ah_json_write_string(&w->out, text);
    }
    while (st == AH_OK && n.depth > 0) {
        st = ah_buf_putc(&w->out, '}');
        n.depth--;
    }
    if (st == AH_OK)
        st = ah_buf_puts(&w->out, w->opt.format == AH_OUT_JSONL ? "}\n" : "}");
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
    ah_span cells_store[AH_EVENT_CELL_COUNT];
    const ah_span *cells = NULL;
    if (w->opt.layout == AH_LAYOUT_EVENT) {
        if (!ah_event_cells_unpack(row->event_cells, cells_store))
            return AH_ERR_USAGE; /* not a row of this layout */
        cells = cells_store;
    }
    size_t mark = w->out.len;
    bool flushed = false;
    if (w->opt.format == AH_OUT_CSV) {
        st = csv_row(w, row, cells);
    } else {
        if (w->opt.format == AH_OUT_JSON)
            st = ah_buf_puts(&w->out, w->stats.rows ? ",\n" : "\n");
        if (st == AH_OK)
            st = json_row(w, row, cells, &flushed);
    }
    if (st != AH_OK && !flushed) {
        /* Nothing of this row has reached the sink yet: drop it and go on. */
        ah_buf_truncate(&w->out, mark);
        ah_where where = {.path = w->path, .record_no = row->input_record};
        ah_diag_report(w->diag, AH_SEV_ERROR, &where, "timeline row not written: %s", ah_status_str(st));
        return st == AH_ERR_NOMEM ? st : AH_ERR_RECORD;
    }
    if (st != AH_OK)
        goto fail;
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
    ah_buf_free(&w->scratch);
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
    /* Listed before the commit: an allocation failing after it would leave
     * a file under the final name of a run that failed. */
    for (size_t i = 0; st == AH_OK && i < w->ndone; i++)
        st = ah_output_list_add(w->opt.outputs, w->done[i]);
    for (size_t i = 0; st == AH_OK && i < w->ndone; i++)
        st = ah_sink_commit(w->done[i]);
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

bool ah_writer_has_sheets(const ah_writer *w) { return check(w) == AH_OK && w->xlsx != NULL; }

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
