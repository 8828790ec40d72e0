/*
 * scanner.h: one leaf stream -> normalized events.
 *
 * Ties the input side together: decode (any encoding -> UTF-8), choose the
 * framing by content (a stream whose first non-blank byte is '{' or '[' is
 * JSON, anything else CSV), frame records, detect the format and normalize.
 * Bad records are reported to the diag sink with provenance, counted, and
 * skipped; the scanner only ever returns events or the end of the stream.
 * A stream that is clearly not a log (binary by magic or by its bytes, or
 * text whose first line has no record structure) is skipped without
 * counting records: a note, or a stream failure when its name says it
 * should be a log (.csv, .json, .gz, ...) or with `strict`.
 * One scanner per thread; reusable across streams.
 */
#ifndef AH_SCANNER_H
#define AH_SCANNER_H

#include "formats/formats.h"
#include "source/source.h"
#include "util/diag.h"

typedef struct ah_scan_options {
    size_t max_record; /* bytes; a larger record is an error for that record only */
    ah_date_order date_order;
    bool strict; /* a stream that is not a log is a failure, whatever its name */
} ah_scan_options;

#define AH_SCAN_MAX_FORMATS 8

typedef struct ah_stream_stats {
    const ah_origin *origin;
    char container[64];                            /* "plain", "gzip", "zip", "tar.gz > zip", ... */
    char encoding[64];                             /* as ah_decoder_describe */
    const char *framing;                           /* "csv", "json" or NULL before the first byte */
    const ah_format *formats[AH_SCAN_MAX_FORMATS]; /* formats recognised, in order of first use */
    size_t nformats;                               /* a JSON stream may mix formats (Azure Monitor categories) */
    uint64_t records;                              /* records read, good or bad */
    uint64_t errors;                               /* records rejected */
    uint64_t nul_chars;                            /* NUL characters in the decoded text (kept: evidence) */
    uint64_t control_events; /* events whose normalized fields held control characters, removed there
                                 for matching (raw keeps them, escaped) */
    const char *not_a_log;   /* why the stream is not a log ("ELF executable", ...), NULL if it may be one */
    bool failed;             /* stream-level failure (see failure) */
    char failure[192];
    ah_norm_stats norm;
} ah_stream_stats;

typedef struct ah_scanner ah_scanner;

ah_scanner *ah_scanner_new(const ah_scan_options *opt, ah_diag *diag);
void ah_scanner_free(ah_scanner *s);

/* Start reading a leaf stream (the input stays owned by the source). */
ah_status ah_scanner_open(ah_scanner *s, ah_input *in);
/* AH_OK with *ev filled (valid until the next call), or AH_END when the
 * stream is exhausted (also after a stream-level failure, see stats). */
ah_status ah_scanner_next(ah_scanner *s, ah_event *ev);
const ah_stream_stats *ah_scanner_stats(const ah_scanner *s);

#endif
