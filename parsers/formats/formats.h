/*
 * formats.h: format detection and normalization, record -> ah_event.
 *
 * One descriptor per known export shape (formats.def). CSV formats are
 * decided once per stream from the header; JSON formats are decided per
 * record from its keys (a JSON Lines stream may mix Azure Monitor
 * categories). Normalization is table-driven: each format lists, for each
 * event field, the candidate source keys in order of preference, looked up
 * case-insensitively with the allocation-free scanner (jscan.h); JSON held
 * in strings (AuditData cells, Log Analytics dynamic columns) is unescaped
 * into scratch and scanned in turn. No cJSON here: the full parse is left
 * to the rule engine, and only for records a rule needs.
 */
#ifndef AH_FORMATS_H
#define AH_FORMATS_H

#include "../event.h"
#include "../frame/csv.h"
#include "../frame/jsonsplit.h"
#include "format_list.h"
#include "timeparse.h"

/* The default record limit (--max-record), in bytes: defined here once for
 * the normalizer and the session. */
#define AH_MAX_RECORD_DEFAULT ((size_t)64 << 20)

typedef struct ah_norm_options {
    ah_date_order date_order; /* for culture-formatted dates without an ISO twin */
    size_t max_record;        /* limit for scratch buffers (bytes) */
} ah_norm_options;

/* Per-stream normalization state and scratch. One per thread/stream. */
typedef struct ah_normalizer ah_normalizer;

ah_normalizer *ah_normalizer_new(const ah_norm_options *opt);
void ah_normalizer_free(ah_normalizer *n);

/* Start a new stream (resets per-stream state; keeps buffers). The origin
 * is used for hints that only a file name carries (e.g. the Entra portal's
 * InteractiveSignIns_ vs NonInteractiveSignIns_ files share one header). */
void ah_normalizer_begin(ah_normalizer *n, const ah_origin *origin);

/* CSV: recognise the layout from the header cells (as read by the CSV
 * reader, BOM already stripped) and bind its columns by name. Returns the
 * format, or NULL with a reason in why (e.g. "unrecognised CSV header:
 * Event ID,Category,..."). The header spans must stay valid until the next
 * ah_normalizer_begin. */
/* The why of a bind that failed for want of memory (the caller stops: no
 * other input would fare better), exactly this text. */
#define AH_BIND_NOMEM "out of memory"
const ah_format *ah_normalizer_bind_csv(ah_normalizer *n, const ah_span *header, size_t ncols, char *why,
                                        size_t why_size);

/* Normalize one record. On AH_OK the event is filled (format, source, time,
 * result, fields, operation_canon, raw, body, digest; provenance fields
 * origin/record_no/line_no too). All spans point into the normalizer's
 * scratch or the record and stay valid until the next call. On
 * AH_ERR_RECORD *why says what is wrong (static or scratch string). */
ah_status ah_normalize_csv(ah_normalizer *n, const ah_csv_row *row, ah_event *ev, const char **why);
ah_status ah_normalize_json(ah_normalizer *n, const ah_json_record *rec, ah_event *ev, const char **why);

/* Per-stream counters for inspect. */
typedef struct ah_norm_stats {
    uint64_t ambiguous_dates; /* day/month order could not be told from the data */
    uint64_t no_time;         /* events without a usable timestamp */
    uint64_t unknown_zone;    /* times from a column not documented as UTC (portal "Date" without "(UTC)") */
} ah_norm_stats;
const ah_norm_stats *ah_normalizer_stats(const ah_normalizer *n);

#endif
