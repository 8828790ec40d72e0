/*
 * dedup.h: a set of 128-bit record digests, to drop records that several
 * overlapping exports carry. Open addressing with linear probing; 16 bytes
 * per unique record plus load-factor slack (documented in docs/internals.md).
 * Not thread-safe by itself: a multi-threaded caller shards by digest.
 */
#ifndef AH_DEDUP_H
#define AH_DEDUP_H

#include "../../parsers/util/common.h"

typedef struct ah_dedup ah_dedup;

ah_dedup *ah_dedup_new(void);
/* A set whose table never passes `limit` bytes (0: no limit; below
 * AH_DEDUP_MIN_LIMIT it is raised to it). At its largest size the table
 * fills to 87.5 % load instead of doubling; ah_dedup_room says how many
 * more new digests fit, and the caller decides what to do when none do
 * (the session spills, docs/internals.md "Duplicates"). Doubling briefly
 * holds the old table beside the new one (1.5x). */
#define AH_DEDUP_MIN_LIMIT ((size_t)1024)
ah_dedup *ah_dedup_new_limited(size_t limit);
void ah_dedup_free(ah_dedup *d);
/* Insert; returns true if the digest was new, false if already present
 * (a duplicate). On allocation failure the set stops growing and the
 * function returns true (the record is kept; never dropped by error) and
 * ah_dedup_degraded() becomes true. The all-zero digest is valid. */
bool ah_dedup_insert(ah_dedup *d, const uint64_t digest[2]);
size_t ah_dedup_count(const ah_dedup *d);
size_t ah_dedup_memory(const ah_dedup *d);
bool ah_dedup_degraded(const ah_dedup *d);
/* Whether the digest is in the set (no insert). */
bool ah_dedup_contains(const ah_dedup *d, const uint64_t digest[2]);
/* New digests that can still be inserted within the limit (SIZE_MAX
 * without one). The zero digest counts as one, conservatively. */
size_t ah_dedup_room(const ah_dedup *d);
/* Let the set grow without its limit (an input that cannot be read twice). */
void ah_dedup_unlimit(ah_dedup *d);
/* Sort the digests in place, in (d[0], d[1]) order, and point *out at
 * them (2 words each; the zero digest included); returns their count. The
 * set is spent: only ah_dedup_free may follow. */
size_t ah_dedup_sorted(ah_dedup *d, const uint64_t **out);

#endif
