/*
 * timeline.h: the timeline row and its writers (CSV, JSON Lines, JSON, XLSX).
 *
 * A writer streams rows to one destination (see sink.h for the file
 * rules: temp file + rename, no clobber without force, "-" = stdout,
 * devices and FIFOs written directly). Nothing is buffered beyond one row
 * and a fixed-size output block, so memory does not grow with the output.
 * The schema is fixed (columns.def); docs/output.md documents it.
 *
 * Ownership: the writer copies the options it keeps (path, tz name); rows
 * are borrowed for the duration of ah_writer_write only.
 */
#ifndef AH_TIMELINE_H
#define AH_TIMELINE_H

#include "../../parsers/event.h"
#include "../../parsers/util/buf.h"
#include "../../parsers/util/diag.h"

typedef enum ah_col_id {
#define AH_COL(id, name, doc) AH_COL_##id,
#include "columns.def"
#undef AH_COL
    AH_COL_COUNT
} ah_col_id;

const char *ah_col_name(ah_col_id c); /* "time", ...; "?" when out of range */
const char *ah_col_doc(ah_col_id c);
/* AH_COL_COUNT when the name is not a column. */
ah_col_id ah_col_from_name(ah_span name);

/* What a row stands for. */
typedef enum ah_row_kind {
    AH_ROW_EVENT = 0,       /* one event (or a joined pair of twins) */
    AH_ROW_CORRELATION = 1, /* one correlation hit over many events */
} ah_row_kind;

/* One rule that hit a row, for the JSON "rules" array. */
typedef struct ah_row_rule {
    const char *id, *title, *severity; /* severity as it applies to this row */
    const char *const *tags;
    size_t ntags;
    bool routine; /* demoted to info: the rule's `routine` facts hold */
} ah_row_rule;

#define AH_ROW_NO_LEVEL (-1)

/* One timeline line. All spans are UTF-8 text; {NULL,0} means absent
 * (empty in CSV, null in JSON), {"",0} means present and empty.
 * col[AH_COL_TIME] and col[AH_COL_INPUT_RECORD] are ignored: those
 * columns come from `time` and `input_record`.
 *
 * Typed parts travel with the row through the sorter, so nothing is parsed
 * back from text: kind, level (the highest rule level, an ah_level, or
 * AH_ROW_NO_LEVEL) and `rules` (the engine's rule indices; the writer never
 * reads them). `rule_info` is what writers print as JSON "rules"; the
 * engine fills it when a row leaves the sorter.
 *
 * Order: rows sort by time (rows without one first), then kind, then
 * `tie`: a hash of the row's content that the producer computes, so that
 * rows of the same instant come out in one order whatever order the inputs
 * were read in (docs/output.md "Order"). */
typedef struct ah_row {
    bool has_time;
    ah_time time;
    ah_span col[AH_COL_COUNT];
    uint64_t input_record; /* 1-based; 0 = unknown */
    uint64_t tie;          /* content hash: the canonical tie-break; not written */
    uint64_t seq;          /* between equal ties: the producer's canonical position (hunt: the
                              event's input and record number, so threads do not change the
                              order); 0 = the order rows were added; not written */
    uint8_t kind;          /* ah_row_kind */
    int8_t level;          /* highest level of `rules`; AH_ROW_NO_LEVEL when none */
    const uint32_t *rules; /* rule indices (engine-defined), nrules of them */
    size_t nrules;
    uint8_t join_class;           /* engine data for the twin join (ah_twin_class); not written */
    uint8_t result;               /* engine data for the twin join (ah_result); not written */
    ah_span join_id;              /* engine data for the twin join (correlation id); not written */
    const ah_row_rule *rule_info; /* JSON "rules"; NULL = none */
    size_t nrule_info;
    ah_span raw;         /* the record as complete JSON text (JSON formats only) */
    ah_span related_raw; /* a joined twin's own record (JSON formats only) */
    ah_span event_cells; /* search rows: the `dump` keys, packed by ah_event_cells_pack; NULL otherwise */
} ah_row;

typedef enum ah_out_format {
    AH_OUT_CSV = 0,
    AH_OUT_JSONL,
    AH_OUT_JSON,
    AH_OUT_XLSX, /* a workbook (xlsx.c); never to standard output */
} ah_out_format;

const char *ah_out_format_name(ah_out_format f); /* "csv", "jsonl", "json", "xlsx" */
/* "csv", "jsonl" (also "json-lines", "ndjson"), "json", "xlsx"; case-insensitive.
 * AH_ERR_USAGE when unknown. */
ah_status ah_out_format_from_name(ah_span name, ah_out_format *out);

/* A profile shapes the output for one consumer (profiles.def lists the
 * fields of each): NONE is the timeline as documented; TIMESKETCH adds
 * message, datetime, timestamp and timestamp_desc (CSV or JSON Lines);
 * ECS writes Elastic Common Schema documents (JSON Lines only). */
typedef enum ah_out_profile {
    AH_PROFILE_NONE = 0,
    AH_PROFILE_TIMESKETCH,
    AH_PROFILE_ECS,
} ah_out_profile;

const char *ah_out_profile_name(ah_out_profile p); /* "none", "timesketch", "ecs" */
/* "none", "timesketch", "ecs"; case-insensitive. AH_ERR_USAGE when unknown. */
ah_status ah_out_profile_from_name(ah_span name, ah_out_profile *out);
/* Whether profile p can be written as format f. */
bool ah_out_profile_allows(ah_out_profile p, ah_out_format f);

/* Which columns a row's layout has: the timeline columns (columns.def) or,
 * for `search`, the keys of `dump` (docs/output.md), packed in
 * ah_row.event_cells. */
typedef enum ah_out_layout {
    AH_LAYOUT_TIMELINE = 0,
    AH_LAYOUT_EVENT,
} ah_out_layout;

/* The `dump` keys after "time", in order (time itself comes from ah_row.time). */
#define AH_EVENT_CELL_COUNT (2 + 1 + AH_F_COUNT + 5)
const char *ah_event_cell_name(size_t i); /* "source", "format", ...; "?" past the end */
bool ah_event_cell_is_number(size_t i);   /* input_record, line */
/* Append the event's cells, each as a varint (length + 1, 0 = absent) and
 * its bytes, to out; the row's event_cells span is then out's bytes. */
ah_status ah_event_cells_pack(const struct ah_event *ev, ah_buf *out);
/* Unpack into cells[AH_EVENT_CELL_COUNT] (spans into packed). False when
 * packed is not a complete packing. */
bool ah_event_cells_unpack(ah_span packed, ah_span cells[AH_EVENT_CELL_COUNT]);

#define AH_EXCEL_MAX_ROWS 1048576u     /* per sheet, header included */
#define AH_EXCEL_MAX_CELL_CHARS 32767u /* UTF-16 code units per cell */
#define AH_WRITER_DEFAULT_SPLIT_ROWS (AH_EXCEL_MAX_ROWS - 1u)

/* CSV byte-order mark. AUTO: one at the start of each regular file, none
 * on standard output, devices and FIFOs (scripts reading the header). */
typedef enum ah_bom_mode {
    AH_BOM_AUTO = 0,
    AH_BOM_ALWAYS = 1,
    AH_BOM_NEVER = 2,
} ah_bom_mode;

struct ah_output_list;

typedef struct ah_writer_options {
    ah_out_format format;
    const char *path;               /* "-" = stdout; required */
    bool force;                     /* replace an existing regular file */
    char delimiter;                 /* CSV: printable ASCII except '"', or TAB; 0 = ',' */
    ah_bom_mode bom;                /* CSV: UTF-8 BOM at the start of each file */
    bool excel_safe;                /* CSV: neutralise formula-leading cells with a ' prefix */
    size_t max_cell_chars;          /* CSV: truncate longer cells (UTF-16 units); 0 = no limit */
    uint64_t split_rows;            /* CSV to a regular file: data rows per file; 0 = never split.
                               XLSX: data rows per Timeline sheet (at most, and 0 =,
                               AH_WRITER_DEFAULT_SPLIT_ROWS) */
    bool excel_dates;               /* add time_excel ("YYYY-MM-DD HH:MM:SS", UTC) after time */
    const char *tz;                 /* IANA zone: add time_local (RFC 3339 with offset); NULL = none */
    const char *zoneinfo_dir;       /* NULL: $TZDIR, else /usr/share/zoneinfo */
    bool include_raw;               /* JSON formats: add "raw" */
    ah_out_profile profile;         /* fields for a consumer (profiles.def); NONE = the timeline as is */
    ah_out_layout layout;           /* the columns rows carry: timeline (hunt) or event (search) */
    const char *tmpdir;             /* XLSX: the workbook's temporary files; NULL = the system's */
    struct ah_output_list *outputs; /* sink.h: each committed file is added; NULL = none */
} ah_writer_options;

/* Defaults: CSV to "-", no force, ',', BOM AUTO, excel_safe on, cells
 * limited to AH_EXCEL_MAX_CELL_CHARS, split at AH_WRITER_DEFAULT_SPLIT_ROWS,
 * no Excel dates, no zone, raw included. */
void ah_writer_options_init(ah_writer_options *opt);

typedef struct ah_writer_stats {
    uint64_t rows;              /* data rows written, all files */
    uint64_t files;             /* files started (1 + splits); 1 for stdout/devices */
    uint64_t cells_truncated;   /* CSV cells cut at max_cell_chars */
    uint64_t cells_neutralised; /* CSV cells given a ' prefix */
    uint64_t cells_repaired;    /* cells whose invalid UTF-8 was replaced by U+FFFD */
    uint64_t raw_invalid;       /* raw values that were not valid JSON (written as a string) */
    uint64_t bytes;             /* bytes written, all files */
} ah_writer_stats;

typedef struct ah_writer ah_writer;

/* Open the destination and write the preamble (BOM, header, "["). On
 * failure returns NULL with *st set (AH_ERR_USAGE: bad option, unknown
 * zone, or the file exists without force; AH_ERR_IO; AH_ERR_NOMEM) and
 * the reason reported to diag. */
ah_writer *ah_writer_open(const ah_writer_options *opt, ah_diag *diag, ah_status *st);

/* Write one row. AH_ERR_RECORD: the row could not be formatted (a field
 * past the row limit); nothing of it was written, it was reported, and the
 * writer goes on. Any other error (I/O, a split part that exists) fails
 * the writer: later writes return the same status; call ah_writer_abort
 * (or ah_writer_close, which then also discards). */
ah_status ah_writer_write(ah_writer *w, const ah_row *row);

/* Finish every file (trailer, flush, fsync) and move them to their final
 * names; then free the writer. stats (may be NULL) receives the totals.
 * On failure nothing that is still temporary is kept. Accepts NULL. */
ah_status ah_writer_close(ah_writer *w, ah_writer_stats *stats);

/* Discard: remove temporary files, free. Accepts NULL. */
void ah_writer_abort(ah_writer *w);

/* Running totals (for progress display). */
void ah_writer_get_stats(const ah_writer *w, ah_writer_stats *stats);

/* ---- extra sheets (XLSX only) -------------------------------------------
 * After the last timeline row and before ah_writer_close, a workbook can
 * take further sheets (the run's Summary, the Rules). Rows go in order, top
 * to bottom, and each is written when the next starts (constant memory). */
typedef enum ah_sheet_kind {
    AH_SHEET_EMPTY = 0,
    AH_SHEET_TEXT, /* always a string cell, never a formula */
    AH_SHEET_NUMBER,
    AH_SHEET_TIME, /* a UTC date-time cell */
} ah_sheet_kind;

typedef struct ah_sheet_cell {
    ah_sheet_kind kind;
    ah_span text;  /* TEXT */
    double number; /* NUMBER */
    ah_time time;  /* TIME */
    bool bold;
    bool coloured; /* fill with the colour of severity `level` (an ah_level) */
    int8_t level;
} ah_sheet_cell;

/* True when the writer takes extra sheets (the format is XLSX). */
bool ah_writer_has_sheets(const ah_writer *w);

/* Start a sheet named `name` (at most 31 characters, no []:*?/\) with
 * ncols columns of the given widths (in characters). With `header`, its
 * first row is a bold header, frozen, with an autofilter over the rows.
 * AH_ERR_USAGE when the writer takes no sheets. */
ah_status ah_writer_sheet_begin(ah_writer *w, const char *name, const double *widths, size_t ncols, bool header);

/* Append one row of n cells (n <= ncols) to the current sheet. */
ah_status ah_writer_sheet_row(ah_writer *w, const ah_sheet_cell *cells, size_t n);

#endif
