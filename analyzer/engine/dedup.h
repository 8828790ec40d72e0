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
void ah_dedup_free(ah_dedup *d);
/* Insert; returns true if the digest was new, false if already present
 * (a duplicate). On allocation failure the set stops growing and the
 * function returns true (the record is kept; never dropped by error) and
 * ah_dedup_degraded() becomes true. The all-zero digest is valid. */
bool ah_dedup_insert(ah_dedup *d, const uint64_t digest[2]);
size_t ah_dedup_count(const ah_dedup *d);
size_t ah_dedup_memory(const ah_dedup *d);
bool ah_dedup_degraded(const ah_dedup *d);

#endif
