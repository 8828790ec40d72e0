/*
 * audithound.h: the library API the command line (and any other program)
 * uses. Opaque handles; the event is a read-only view (parsers/event.h).
 *
 *   ah_session  inputs -> normalized, deduplicated events, with a per-input
 *               account of records read, events, duplicates and errors.
 *   rules       analyzer/rules/rules.h (compile once, match per event).
 *   output      analyzer/output/timeline.h, analyzer/order/sorter.h.
 *
 * Ownership: every ah_x_new pairs with ah_x_free (NULL accepted). Events
 * and reports returned by a session are borrowed: an event is valid until
 * the next ah_session_next call, reports until ah_session_free.
 */
#ifndef AUDITHOUND_H
#define AUDITHOUND_H

#include "../parsers/event.h"
#include "../parsers/formats/format_list.h" /* not formats.h: the framers stay out of the API */
#include "../parsers/formats/timeparse.h"
#include "../parsers/util/diag.h"

#define AH_VERSION "0.1.0"

/* Process exit statuses (docs/exit-codes.md). Never renumber. */
enum ah_exit {
    AH_EXIT_HITS = 0,         /* finished; hits found (or, for commands without hits, success) */
    AH_EXIT_NO_HITS = 1,      /* finished; no hits (hunt, search, test-rules failures) */
    AH_EXIT_USAGE = 2,        /* usage error, rule error */
    AH_EXIT_PARTIAL = 3,      /* finished, but some input could not be read */
    AH_EXIT_NOTHING_READ = 4, /* finished, but no input held a single record (empty, blank, wrong path) */
    AH_EXIT_OUTPUT = 5,       /* writing the output (timeline, summary, standard output) failed */
    AH_EXIT_NOMEM = 6,        /* out of memory: the run stopped, nothing written under the output's name */
};

typedef struct ah_session ah_session;
struct ah_session_identity;

typedef struct ah_session_options {
    size_t max_record; /* default 64 MiB (AH_MAX_RECORD_DEFAULT, formats.h) */
    ah_date_order date_order;
    bool keep_duplicates; /* disable dedup */
    bool strict;          /* an input that is not a log is unreadable, whatever its name (--strict) */
    ah_diag_fn diag_fn;   /* where problems are reported; NULL discards */
    void *diag_ud;
    ah_temp_fn temp_fn; /* told of the spill directories (diag.h); NULL: nobody */
    void *temp_ud;
    uint64_t max_input; /* bytes per input stream (decompressed); 0 = no limit (--max-input) */
    /* Called as input bytes are read, even while a stream yields no event
     * (a device, a run of NULs): done and total as ah_session_progress. */
    void (*progress_fn)(void *ud, uint64_t done, uint64_t total);
    void *progress_ud;
    /* Bytes the duplicate set may hold (0 = AH_SESSION_DEDUP_MEMORY). Past
     * it the session sorts record keys to disk and reads the inputs a second
     * time (docs/internals.md "Duplicates"); the events and the account are
     * the same. Standard input and pipes cannot be read twice: with one of
     * them the set grows past the budget, with a warning. */
    size_t dedup_memory;
    const char *tmpdir; /* where the sorted keys go (NULL: $TMPDIR, else /tmp) */
    /* Called once for every event the account counts (kept or duplicate),
     * in position order, when its fate is final: `hunt --partial` records
     * the identities the merge deduplicates across shards with. NULL: none. */
    void (*identity_fn)(void *ud, const struct ah_session_identity *id);
    void *identity_ud;
} ah_session_options;

/* What identity_fn is told of one event. */
typedef struct ah_session_identity {
    uint64_t keys[2][2]; /* the record digest, then the second identity (directory audits) */
    size_t nkeys;
    size_t stream; /* the stream's index (ah_session_stream), = ev->origin->input_no */
    uint64_t record_no;
    ah_source_kind source;
    bool has_time;
    ah_time time;
    bool duplicate; /* an earlier event of this session had one of its keys */
} ah_session_identity;

#define AH_SESSION_DEDUP_MEMORY ((size_t)16 << 20)

void ah_session_options_init(ah_session_options *o);

ah_session *ah_session_new(const ah_session_options *o);
void ah_session_free(ah_session *s);

/* Queue an input path (file, directory, "-"). A missing path is reported
 * and counted as unreadable input; returns AH_ERR_IO then (AH_ERR_NOMEM
 * when the path cannot be kept for a second read). */
ah_status ah_session_add_input(ah_session *s, const char *path);
/* The canonical order of input paths: byte by byte, but a '/' sorts before
 * every other byte (so a directory's files come in the order a walk of its
 * parent reads them: "a/b" before "a-b"). */
int ah_path_order(const char *a, const char *b);
/* Queue several inputs in canonical order (ah_path_order), whatever
 * order they were given in. Which copy of a duplicate record is kept (the
 * first read: the one from the path that sorts first, then the lowest
 * record number) and every output then stay the same when the inputs are
 * given in another order. AH_ERR_NOMEM, else AH_OK (missing paths are
 * reported and counted as by ah_session_add_input). */
ah_status ah_session_add_inputs(ah_session *s, const char *const *paths, size_t n);

/* Next event across all inputs, in input order. AH_OK or AH_END;
 * AH_ERR_NOMEM, or AH_ERR_IO when deduplication past its budget cannot
 * write or read its temporary files (reported; the read is then partial).
 * Duplicates are skipped (and counted) unless keep_duplicates. */
ah_status ah_session_next(ah_session *s, const ah_event **ev);

/* Progress: bytes of input files read so far and in total (0 if unknown). */
void ah_session_progress(const ah_session *s, uint64_t *done, uint64_t *total);

/* --- the account of a finished run ------------------------------------ */

/* One leaf stream (a file, or an archive member). */
typedef struct ah_stream_report {
    const char *path;
    const char *entry;     /* NULL for a plain or compressed file */
    uint64_t member_order; /* its place in its archive, whichever members were read: archive order
                                   (ah_input_member_order); 0 for a file that is no archive */
    const char *container;
    const char *encoding;
    const char *framing;                          /* "csv" / "json" / NULL (empty or unreadable) */
    const char *format;                           /* format id, "mixed" when a JSON stream held several, NULL if none */
    ah_source_kind source;                        /* of the first format */
    uint64_t records, events, duplicates, errors; /* records = events + duplicates + errors */
    bool has_time;
    ah_time first, last;
    bool failed; /* stream-level failure: see failure */
    const char *failure;
    bool truncated_hint;   /* exactly 5,000 or 50,000 records: the export cap */
    bool no_record;        /* read to its end without failing, but held no record (warned) */
    const char *not_a_log; /* clearly not a log ("ELF executable", "text without a record
                                   structure"): skipped, or failed when named like a log or --strict */
    uint64_t ambiguous_dates, no_time, unknown_zone;
    uint64_t nul_chars;      /* NUL characters in the input's text (kept in raw, escaped) */
    uint64_t control_events; /* events whose fields held control characters (removed for matching) */
} ah_stream_report;

size_t ah_session_stream_count(const ah_session *s);
const ah_stream_report *ah_session_stream(const ah_session *s, size_t i);

/* Top-level input files with their SHA-256 (chain of custody). */
typedef struct ah_file_report {
    const char *path;
    uint64_t size;
    const char *sha256; /* "" when the file could not be read */
    bool unreadable;
} ah_file_report;
size_t ah_session_file_count(const ah_session *s);
ah_file_report ah_session_file(const ah_session *s, size_t i);

/* Per source: time covered and the empty hours inside it (a sign of a
 * truncated or partial export). */
typedef struct ah_coverage {
    uint64_t events;
    bool has_time;
    ah_time first, last;
    uint64_t empty_hours;      /* hours inside [first,last] without any event */
    uint64_t gaps;             /* runs of empty hours */
    int64_t longest_gap_start; /* first empty hour of the longest run, as unix seconds */
    uint64_t longest_gap_hours;
    bool gaps_unknown; /* out of memory: the gap fields are 0 but not known */
} ah_coverage;
ah_coverage ah_session_coverage(const ah_session *s, ah_source_kind k);

typedef struct ah_totals {
    uint64_t records, events, duplicates, errors;
    uint64_t unreadable_inputs; /* input files (or missing paths) of which some content could not be read;
                                    a file counts once however many of its streams failed */
    uint64_t dedup_memory;      /* bytes held at most by the dedup set (or, past its budget, the key sort) */
    uint32_t dedup_passes;      /* reads of the inputs: 1, or 2 when the duplicate set passed its budget */
    uint64_t dedup_runs;        /* sorted key runs written to disk (0 when the set fitted) */
    uint64_t missing_inputs;    /* paths given that could not be opened (part of unreadable_inputs) */
    uint64_t no_record_streams; /* streams read to their end that held no record */
    uint64_t not_a_log_streams; /* streams that were not logs (skipped or failed) */
} ah_totals;
ah_totals ah_session_totals(const ah_session *s);

/* --- an account given, not read (`audithound merge`) -------------------
 * A session that reads nothing: the merge of partials states its streams,
 * files and events, and the summary code reads it as any session's. */
ah_session *ah_session_new_account(const ah_session_options *o);
/* A stream as a shard reported it; its events and duplicates start at 0
 * and are counted by ah_session_account_event. file_index: its file's
 * index among ah_session_account_file calls. AH_ERR_NOMEM. */
ah_status ah_session_account_stream(ah_session *s, const ah_stream_report *r, size_t file_index);
ah_status ah_session_account_file(ah_session *s, const ah_file_report *f);
/* One event of stream i: a duplicate, or an event (coverage counted). */
void ah_session_account_event(ah_session *s, size_t i, ah_source_kind source, bool has_time, ah_time t, bool duplicate);
/* How the merge deduplicated: passes 2 when its key set passed its budget
 * (as a session that reads its inputs twice). */
void ah_session_account_dedup(ah_session *s, uint32_t passes);
/* The index of stream i's file (ah_session_file). */
size_t ah_session_stream_file(const ah_session *s, size_t i);

/* True if any input or record could not be read (exit status 3), or
 * deduplication past its budget failed or saw the inputs change. */
bool ah_session_partial(const ah_session *s);
/* True if no input held a single record (exit status 4 unless 3 applies):
 * nothing was read, so "no hits" would mean nothing. */
bool ah_session_nothing_read(const ah_session *s);

#endif
