/*
 * varint.h: LEB128 unsigned varints and zigzag for the compact byte forms
 * that the sorter and the correlation observations write (one helper for
 * both, so the two encodings cannot drift).
 */
#ifndef AH_VARINT_H
#define AH_VARINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define AH_VARINT_MAX 10 /* bytes of the largest uint64_t */

static inline size_t ah_uvarint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static inline unsigned char *ah_put_uvarint(unsigned char *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    *p++ = (unsigned char)v;
    return p;
}

/* Append one varint to a buffer (its sticky error remembers a failure). */
static inline void ah_buf_put_uvarint(ah_buf *b, uint64_t v)
{
    unsigned char tmp[AH_VARINT_MAX];
    ah_buf_append(b, tmp, (size_t)(ah_put_uvarint(tmp, v) - tmp));
}

static inline uint64_t ah_zigzag(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }
static inline int64_t ah_unzigzag(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

/* A bounds-checked reader: ok turns false at the first truncated or
 * over-long varint and stays false. */
typedef struct ah_vcursor {
    const unsigned char *p, *end;
    bool ok;
} ah_vcursor;

static inline uint64_t ah_get_uvarint(ah_vcursor *c)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64 && c->p < c->end; shift += 7) {
        unsigned char b = *c->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    c->ok = false;
    return 0;
}

#endif
