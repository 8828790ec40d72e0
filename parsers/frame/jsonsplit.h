/*
 * jsonsplit.h: a streaming splitter that yields one JSON record at a time.
 *
 * Reads a sequence of top-level JSON values separated by whitespace (this
 * covers one array, concatenated arrays and objects, and JSON Lines) and
 * yields records:
 *   - a top-level array: each element is a record;
 *   - a top-level object whose members before a "value", "records" or
 *     "events" member holding an array are all "@..." keys (Graph pages
 *     {"@odata.context":..,"value":[..]}, Azure Monitor {"records":[..]},
 *     pipeline-test files {"events":[..]}): each element of that array is a
 *     record, and the other members are skipped;
 *   - any other top-level object: the object is one record.
 * Records are found by tracking strings, escapes and nesting depth only;
 * a record's text is returned whole and validated later by its consumer.
 *
 * Errors: a record larger than max_record is skipped (AH_ERR_RECORD) and
 * the splitter resynchronises after it; stray bytes between values (e.g. a
 * truncated line in JSON Lines) give AH_ERR_RECORD once and the splitter
 * resynchronises at the next line whose first non-blank byte is '{' or '['.
 * Stray commas are not records: a comma between top-level values and a
 * leading, doubled or trailing comma inside an array are skipped silently.
 * A top-level record that begins with content on its first line (JSON
 * Lines) ends as AH_ERR_RECORD at a raw line feed inside a string, or
 * where a '{' opens in column 0 before it is closed, so a truncated line
 * does not swallow the lines after it. A wrapper candidate whose leading
 * "@..." members exceed max_record is taken as one too-big record. The
 * stream is never abandoned for one bad record; AH_ERR_STREAM only on a
 * read error, AH_ERR_NOMEM when out of memory. A truncated final record is AH_ERR_RECORD;
 * truncation between array elements or inside a wrapper's trailing members
 * loses no record and ends the stream quietly. A UTF-8 BOM at the start is
 * skipped. max_record 0 means no limit.
 */
#ifndef AH_JSONSPLIT_H
#define AH_JSONSPLIT_H

#include "../util/common.h"

typedef struct ah_jsplit ah_jsplit;

typedef struct ah_json_record {
    ah_span text;       /* the record's JSON text (an object for valid data), valid until the next call */
    uint64_t record_no; /* 1-based ordinal of the record in the stream (bad records count too) */
    uint64_t line_no;   /* 1-based line where the record starts */
    const char *
        container; /* "value", "records", "events" when the record came from such a wrapper; "array" for a top-level array; NULL for a top-level value */
} ah_json_record;

ah_jsplit *ah_jsplit_new(ah_reader *text, size_t max_record);
/* Number the first line of `text` as `line` (the caller skipped blank lines before it). */
void ah_jsplit_set_first_line(ah_jsplit *s, uint64_t line);
void ah_jsplit_free(ah_jsplit *s);

/* AH_OK (rec filled), AH_END, AH_ERR_RECORD (rec->record_no/line_no set, reason
 * from ah_jsplit_error), AH_ERR_STREAM, AH_ERR_NOMEM (the stream is abandoned). */
ah_status ah_jsplit_next(ah_jsplit *s, ah_json_record *rec);
const char *ah_jsplit_error(const ah_jsplit *s);

#endif
