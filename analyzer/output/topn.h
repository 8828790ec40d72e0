/*
 * topn.h: the most frequent values of a stream in bounded memory, for the
 * report's pivots (top users, addresses, applications, rules).
 *
 * Space-Saving (Metwally et al.): a table of `capacity` counters. A value
 * already in the table counts up; a new value takes a free slot, or else
 * replaces the smallest counter and inherits its count (its `error`). Every
 * value seen more than total/capacity times is in the table, and counts are
 * exact as long as no value was ever replaced (ah_topn_exact). Values are
 * copied, cut at AH_TOPN_VALUE_MAX bytes on a UTF-8 boundary.
 */
#ifndef AH_TOPN_H
#define AH_TOPN_H

#include "../../parsers/util/common.h"

#define AH_TOPN_VALUE_MAX 256

typedef struct ah_topn_entry {
    uint64_t hash;
    uint64_t count; /* an upper bound once values were replaced */
    uint64_t error; /* count inherited from the value it replaced */
    int extra;      /* caller's tag kept with the value (e.g. a severity) */
    size_t n;
    char value[AH_TOPN_VALUE_MAX];
} ah_topn_entry;

typedef struct ah_topn {
    ah_topn_entry *e;
    size_t n, capacity;
    uint64_t total;
    bool replaced;
} ah_topn;

/* AH_ERR_NOMEM on allocation failure. */
ah_status ah_topn_init(ah_topn *t, size_t capacity);
void ah_topn_free(ah_topn *t);
/* Count `value` `by` times; an empty or absent value is not counted.
 * `extra` is kept with the value when it enters the table, raised to the
 * largest seen (a rule's highest severity). */
void ah_topn_add(ah_topn *t, ah_span value, uint64_t by, int extra);
/* True when every count is exact (no value was ever replaced). */
bool ah_topn_exact(const ah_topn *t);
/* The k largest, count descending then value ascending, into out (k
 * entries at most); returns how many. Pointers into t: valid until the
 * next add. */
size_t ah_topn_top(const ah_topn *t, const ah_topn_entry **out, size_t k);

#endif
