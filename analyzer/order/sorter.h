/*
 * sorter.h: order timeline rows by (time, kind, tie) within a memory budget.
 *
 * Rows without a time come first; rows of the same time follow their kind
 * and then their content hash (ah_row.tie), so the order does not depend on
 * the order rows were added in; rows with equal hashes follow their seq
 * (ah_row), else their order of arrival. Rows are copied in and kept in
 * memory until the budget is reached; then the buffered rows are sorted
 * and spilled as a run to a private temporary directory (mkdtemp
 * "audithound-<host>-<pid>-sort-XXXXXX" (parsers/util/tempdir.h) under tmpdir, else $TMPDIR, else /tmp,
 * created on the first spill). ah_sorter_finish merges runs in
 * passes of at most AH_SORTER_MAX_FANIN open files; ah_sorter_next streams
 * the final k-way merge. Temporary files are removed as soon as they are
 * merged, and all of them on ah_sorter_free.
 *
 * The budget counts what the rows really cost: their serialized bytes in
 * arena chunks (whole chunks count), the sort-key array's capacity, and
 * during the merge each open run's read buffer. A single row larger than
 * the whole budget is still accepted (it is spilled on its own).
 */
#ifndef AH_SORTER_H
#define AH_SORTER_H

#include "../output/timeline.h"

#define AH_SORTER_DEFAULT_BUDGET ((size_t)256 * 1024 * 1024)
#define AH_SORTER_MIN_BUDGET ((size_t)1024)
#define AH_SORTER_MAX_FANIN 64

typedef struct ah_sorter ah_sorter;

typedef struct ah_sorter_stats {
    uint64_t rows;          /* rows added */
    uint64_t runs_spilled;  /* sorted runs written while adding (0: all in memory) */
    uint64_t merge_passes;  /* intermediate merges done by finish */
    uint64_t bytes_spilled; /* bytes written to temporary files, all passes */
    size_t peak_bytes;      /* highest accounted memory */
} ah_sorter_stats;

/* memory_budget 0 means AH_SORTER_DEFAULT_BUDGET; smaller than
 * AH_SORTER_MIN_BUDGET is raised to it. tmpdir may be NULL. The strings are
 * copied. NULL only when out of memory. */
ah_sorter *ah_sorter_new(size_t memory_budget, const char *tmpdir, ah_diag *diag);

/* Copy a row in (spans, raw and all). AH_ERR_IO when a spill fails,
 * AH_ERR_NOMEM, AH_ERR_USAGE after finish. */
ah_status ah_sorter_add(ah_sorter *s, const ah_row *row);

/* No more rows: do the intermediate merge passes. Once only. */
ah_status ah_sorter_finish(ah_sorter *s);

/* The next row in order: AH_OK, AH_END after the last, AH_ERR_IO when a
 * run cannot be read back. *out and its spans stay valid until the next
 * call or ah_sorter_free. */
ah_status ah_sorter_next(ah_sorter *s, ah_row *out);

void ah_sorter_get_stats(const ah_sorter *s, ah_sorter_stats *stats);

/* The run directory, or NULL before the first spill (for tests/diagnostics). */
const char *ah_sorter_tmpdir(const ah_sorter *s);

/* The sorter's encoding of one row (every typed field, seq included), for
 * files that carry sorted rows (`hunt --partial`). Appended to out. */
ah_status ah_row_encode(const ah_row *row, ah_buf *out);
/* One encoded row: spans point into in, rule indices into *rules (grown as
 * needed). False when in is not exactly one encoded row. */
bool ah_row_decode(ah_span in, ah_row *row, ah_buf *rules);

/* Close and delete every temporary file and the directory. Accepts NULL. */
void ah_sorter_free(ah_sorter *s);

#endif
