/*
 * csv.h: a stateful RFC 4180 record reader over a UTF-8 stream.
 *
 * Quoted cells may hold the delimiter, doubled quotes and CR/LF; records
 * end at CRLF or LF outside quotes; a final record without a newline is
 * read. The header is the first line after an optional "#TYPE ..." line
 * (PowerShell without -NoTypeInformation); the delimiter (',' or ';') is
 * sniffed from that header line; a UTF-8 BOM or U+FEFF surviving at the
 * start of the first header name is stripped.
 *
 * Memory: the reader keeps one record at a time; a record longer than
 * max_record bytes is skipped (reported as AH_ERR_RECORD with reason) and
 * reading resumes at the next record boundary. max_record 0 means no limit.
 *
 * Leniency (as Excel reads such files): a lone CR outside quotes also ends
 * a record; a quote inside an unquoted cell is kept literally (a"b); bytes
 * between a closing quote and the next delimiter or line end are appended
 * to the cell ("ab"c -> abc). Line numbers count LF, plus a lone CR that
 * ends a record. Status codes other than those listed below are returned
 * only for NULL handles (AH_ERR_USAGE); misuse such as ah_csv_next before
 * ah_csv_read_header is AH_ERR_STREAM. Running out of memory is
 * AH_ERR_NOMEM (the stream is abandoned; the caller stops the run).
 */
#ifndef AH_CSV_H
#define AH_CSV_H

#include "../util/common.h"

typedef struct ah_csv ah_csv;

typedef struct ah_csv_row {
    size_t ncells;
    const ah_span *cells; /* unescaped cell values, valid until the next call */
    uint64_t record_no;   /* 1-based data record ordinal (header not counted) */
    uint64_t line_no;     /* physical line where the record starts (1-based, header is line 1 or 2) */
} ah_csv_row;

/* `text` is UTF-8 (see decode.h); not owned. */
ah_csv *ah_csv_new(ah_reader *text, size_t max_record);
/* Number the first line of `text` as `line` (the caller skipped blank lines before it). */
void ah_csv_set_first_line(ah_csv *c, uint64_t line);
void ah_csv_free(ah_csv *c);

/* Read the header line. AH_OK, AH_END (empty stream), AH_ERR_STREAM (no header,
 * or the header is too long), AH_ERR_NOMEM. Must be called once before ah_csv_next. */
ah_status ah_csv_read_header(ah_csv *c);
size_t ah_csv_ncols(const ah_csv *c);
ah_span ah_csv_header(const ah_csv *c, size_t i); /* raw header cell (BOM stripped), valid until free */
char ah_csv_delimiter(const ah_csv *c);
bool ah_csv_had_type_line(const ah_csv *c);

/* Next data record. AH_OK (row filled), AH_END, AH_ERR_RECORD (this record
 * was unusable: too big, or an unterminated quote at end of input; the
 * reason is available from ah_csv_error and row->record_no/line_no are set
 * so the caller can report it), AH_ERR_STREAM (read error), AH_ERR_NOMEM. Blank lines
 * are skipped and not counted as records. */
ah_status ah_csv_next(ah_csv *c, ah_csv_row *row);
const char *ah_csv_error(const ah_csv *c);

/* Normalize a header name for lookup: trim, collapse internal whitespace
 * runs to one space, ASCII case-fold. Writes into buf (NUL-terminated),
 * truncating at size-1. Used to map columns by name with variants. */
void ah_csv_header_key(ah_span name, char *buf, size_t size);

#endif
