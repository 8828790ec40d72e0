/*
 * hash.h: fast non-cryptographic hashing for dedup digests and hash sets.
 * A 128-bit hash keeps the chance of a false duplicate negligible at
 * billions of records; seeds let callers derive independent hashes.
 */
#ifndef AH_HASH_H
#define AH_HASH_H

#include "common.h"

/* 128-bit hash (MurmurHash3 x64-128 algorithm) of data with a seed. */
void ah_hash128(const void *data, size_t len, uint64_t seed, uint64_t out[2]);
/* 64-bit hash for hash tables. */
uint64_t ah_hash64(const void *data, size_t len, uint64_t seed);
/* Same, over ASCII-case-folded bytes (for case-insensitive sets). */
uint64_t ah_hash64_ci(const void *data, size_t len, uint64_t seed);

#endif
