/*
 * keysort.h: external sort of fixed-size (key, position) entries within a
 * memory budget, for the session's deduplication past its budget
 * (docs/internals.md "Duplicates").
 *
 * Entries are kept in one array of at most `budget` bytes; when it is
 * full they are sorted and written as a run to a private temporary
 * directory ("audithound-<host>-<pid>-dedup-XXXXXX", parsers/util/tempdir.h, under tmpdir, else
 * $TMPDIR, else /tmp, created on the first spill). ah_keysort_finish
 * merges runs in passes of at most AH_KEYSORT_MAX_FANIN open files, and
 * ah_keysort_next streams the final merge. Files are deleted once merged,
 * and all of them (and the directory) by ah_keysort_free.
 *
 * Order: (k0, k1, pos), unsigned. Equal entries all come out.
 * The analyzer/order sorter orders timeline rows; this one orders plain
 * integers, so it needs no encoding.
 */
#ifndef AH_KEYSORT_H
#define AH_KEYSORT_H

#include "../../parsers/util/diag.h"

#define AH_KEYSORT_MAX_FANIN 64

typedef struct ah_keypos {
    uint64_t k0, k1, pos;
} ah_keypos;

typedef struct ah_keysort ah_keysort;

/* budget in bytes (below 16 entries' worth it is raised to that); tmpdir
 * may be NULL (copied). NULL only when out of memory. Errors on temporary
 * files are reported to diag. */
ah_keysort *ah_keysort_new(size_t budget, const char *tmpdir, ah_diag *diag);
/* AH_ERR_IO when a spill fails, AH_ERR_NOMEM, AH_ERR_USAGE after finish. */
ah_status ah_keysort_add(ah_keysort *s, const ah_keypos *e);
/* Add n keys (2 words each, sorted by (k0, k1), as ah_dedup_sorted gives
 * them), all at position pos, written straight out as one run: the
 * caller's array is the memory, no copy is made. */
ah_status ah_keysort_add_sorted(ah_keysort *s, const uint64_t *keys, size_t n, uint64_t pos);
/* No more entries: write the last run, do the intermediate merges. */
ah_status ah_keysort_finish(ah_keysort *s);
/* The next entry in order: AH_OK, AH_END, AH_ERR_IO. */
ah_status ah_keysort_next(ah_keysort *s, ah_keypos *out);
/* Runs written (0: everything stayed in memory) and the bytes held at most:
 * the entry array, or the merge's read buffers. */
uint64_t ah_keysort_runs(const ah_keysort *s);
size_t ah_keysort_peak(const ah_keysort *s);
void ah_keysort_free(ah_keysort *s);

#endif
