/*
 * html.h: the HTML report of a hunt (`hunt --html FILE`), one self-contained
 * file that opens offline in any browser (docs/output.md "HTML report").
 *
 * It is fed what the timeline writers get (the sorted rows, ah_row) plus the
 * run's account (ah_html_case) and, for the chart, every event's source and
 * time (ah_html_count_event). Memory is bounded whatever the run's size:
 *  - the story (hit rows, grouped by day, each expandable to its record)
 *    streams to the file as the rows arrive, in time order, up to
 *    story_max_rows rows or AH_HTML_STORY_MAX_BYTES of file; past that the rows are counted and a note points
 *    to the full timeline;
 *  - the chart is a table of at most AH_HTML_CHART_KEYS time buckets that
 *    widens its buckets (1, 2, 6, 12, 24 hours, then weeks doubling) when
 *    more distinct buckets come, so it holds any span;
 *  - the pivots are bounded top-N counters (topn.h);
 *  - correlation hits are kept as rendered HTML up to
 *    AH_HTML_CORRELATION_MAX of them.
 * The chart, pivots and correlation hits are known only at the end, so they
 * are written after the story and placed above it by the stylesheet (flex
 * `order`): no temporary file, nothing held back.
 *
 * Everything from the data goes through one escaping function (text and
 * attributes alike); the page carries a Content-Security-Policy that forbids
 * every load and every script, and allows only its own stylesheet by hash.
 *
 * The file is written like a timeline (sink.h): a temporary name, renamed at
 * ah_html_close; an existing file is refused at open without force.
 */
#ifndef AH_HTML_H
#define AH_HTML_H

#include "timeline.h"

#include "../../parsers/util/buf.h"
#include "../rules/rules.h"

#define AH_HTML_STORY_MAX_ROWS 5000u                 /* default cap of the story */
#define AH_HTML_STORY_MAX_BYTES ((uint64_t)64 << 20) /* the story also stops past this size */
#define AH_HTML_RAW_MAX ((size_t)16 * 1024)          /* record text shown per row, bytes */
#define AH_HTML_CORRELATION_MAX 500u                 /* correlation hits listed in their own section */
#define AH_HTML_CHART_KEYS 4096u                     /* distinct buckets held before they widen */
#define AH_HTML_CHART_COLUMNS 336u                   /* columns drawn at most (two weeks of hours) */
#define AH_HTML_TOP 10u                              /* values per pivot */

typedef struct ah_html_options {
    const char *path;               /* the report file (a regular file, a device or a FIFO; not "-") */
    bool force;                     /* replace an existing file */
    uint64_t story_max_rows;        /* 0: AH_HTML_STORY_MAX_ROWS */
    const char *timeline_path;      /* named in the note of a capped story; NULL or "-": standard output */
    struct ah_output_list *outputs; /* sink.h: the report is added when committed; NULL = none */
} ah_html_options;

/* One input file of the case (chain of custody). */
typedef struct ah_html_input {
    const char *path;
    uint64_t size;
    const char *sha256; /* "" or NULL: not read to its end */
    bool unreadable;
} ah_html_input;

/* Time covered by one source. */
typedef struct ah_html_coverage {
    const char *source; /* "ual", "signin", ... */
    uint64_t events;
    bool has_time;
    ah_time first, last;
    uint64_t empty_hours, gaps, longest_gap_hours;
    int64_t longest_gap_start; /* unix seconds */
} ah_html_coverage;

/* The run's account, for the case header. Borrowed during ah_html_begin. */
typedef struct ah_html_case {
    const char *version;      /* "audithound 0.1.0 (rev)" */
    const char *started;      /* UTC, ISO 8601 */
    const char *command_line; /* as typed, already joined */
    const ah_html_input *inputs;
    size_t ninputs;
    const ah_html_coverage *coverage;
    size_t ncoverage;
    const char *warnings; /* lines separated by '\n' (input warnings, skipped rules); NULL: none */
    uint64_t records, events, duplicates, errors;
    uint64_t hits; /* rule hits */
    uint64_t hits_by_level[AH_LEVEL_CRITICAL + 1];
    size_t rules_loaded, rules_active;
} ah_html_case;

typedef struct ah_html_stats {
    uint64_t rows;          /* rows given to ah_html_write */
    uint64_t story_rows;    /* hit rows shown in the story */
    uint64_t story_omitted; /* hit rows past the cap */
    uint64_t raw_cut;       /* records shown cut at AH_HTML_RAW_MAX */
    uint64_t chart_hours;   /* hours per chart column */
    uint64_t bytes;
} ah_html_stats;

typedef struct ah_html ah_html;

/* Open the destination (refusing an existing file without force). NULL on
 * failure with *st set (AH_ERR_USAGE, AH_ERR_IO, AH_ERR_NOMEM), the reason
 * reported to diag. */
ah_html *ah_html_open(const ah_html_options *opt, ah_diag *diag, ah_status *st);

/* Count one event for the chart (any order; every event read, hit or not). */
void ah_html_count_event(ah_html *h, ah_source_kind source, bool has_time, ah_time t);

/* Write the page head and the case header: once, after the inputs were
 * read and before the first row. */
ah_status ah_html_begin(ah_html *h, const ah_html_case *c);

/* One timeline row, in timeline order. Rows without a rule (--all) only
 * count; hit rows go to the story, the pivots and the chart's hit lane. An
 * I/O error fails the report for good (later calls return it). */
ah_status ah_html_write(ah_html *h, const ah_row *row);

/* Write the chart, pivots and correlation hits, finish, fsync and rename;
 * then free. stats may be NULL. Accepts NULL. */
ah_status ah_html_close(ah_html *h, ah_html_stats *stats);

/* Discard: remove the temporary file, free. Accepts NULL. */
void ah_html_abort(ah_html *h);

/* The escaping every piece of data in the report goes through, exposed for
 * the tests: & < > " ' become entities; C0 controls (but TAB and LF), DEL
 * and bytes that are not well-formed UTF-8 become the visible text \xNN;
 * C1 controls and the bidirectional overrides become \uNNNN (as
 * ah_escape_text does for terminals). Safe in text and in quoted attributes. */
ah_status ah_html_escape(ah_buf *out, ah_span s);

#endif
