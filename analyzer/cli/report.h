/* report.h: the account of what was read, shared by `inspect` and `hunt`. */
#ifndef AH_CLI_REPORT_H
#define AH_CLI_REPORT_H

#include <stdio.h>

#include "../../parsers/util/buf.h"
#include "../audithound.h"

/* The JSON writers append without checking each append: the caller checks
 * ah_buf_status once where its document is finished (a summary, inspect
 * --json), so an allocation failure never yields a document cut short. */

/* JSON members (no braces): "streams":[...],"totals":{...},"coverage":{...},"files":[...] */
void ah_report_inputs_json(const ah_session *s, ah_buf *b);
/* Human-readable per-stream report, totals, coverage and digests. */
void ah_report_inputs_text(const ah_session *s, FILE *out);
/* One line per stream with a warning (truncation, ambiguous dates, no time,
 * failures), for run summaries. */
void ah_report_input_warnings(const ah_session *s, FILE *out);
/* Rule indices 0..n-1 by hits (by_rule) descending, then by index; malloc'd
 * (the caller frees), NULL when out of memory. */
size_t *ah_report_rules_by_hits(const uint64_t *by_rule, size_t n);
/* JSON string or null. */
void ah_report_json_str(ah_buf *b, const char *s);

#endif
