/*
 * common.h: types (and a few small helpers) every stage shares. Included
 * first by every .c file.
 *
 * Conventions (see docs/internals.md):
 *  - Every function that can fail returns an ah_status; AH_OK is 0.
 *  - ah_x_new/ah_x_free pair up; free functions accept NULL.
 *  - Spans borrowed from a stage stay valid until that stage's next call.
 *  - No global mutable state anywhere: every stage keeps its state in its
 *    own handle so inputs can be processed on several threads.
 */
#ifndef AH_COMMON_H
#define AH_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Status codes. Never renumber; retire instead. */
typedef enum ah_status {
    AH_OK = 0,
    AH_END = 1,         /* no more items (not an error) */
    AH_ERR_RECORD = -1, /* this record is bad: count it, skip it, go on */
    AH_ERR_STREAM = -2, /* this stream cannot be read further */
    AH_ERR_NOMEM = -3,  /* allocation failed */
    AH_ERR_TOOBIG = -4, /* a configured limit was exceeded */
    AH_ERR_IO = -5,     /* read/write/open failed */
    AH_ERR_USAGE = -6,  /* bad argument or option */
    AH_ERR_SYNTAX = -7, /* rule or expression syntax/semantic error */
} ah_status;

const char *ah_status_str(ah_status s);

/* A borrowed, not necessarily NUL-terminated, byte range. */
typedef struct ah_span {
    const char *p;
    size_t n;
} ah_span;

#define AH_SPAN_NULL ((ah_span){NULL, 0})
static inline ah_span ah_span_make(const char *p, size_t n) { return (ah_span){p, n}; }
ah_span ah_span_cstr(const char *s);
bool ah_span_eq(ah_span a, const char *s); /* exact */
char *ah_span_strdup(ah_span s); /* malloc'd NUL-terminated copy ("" for an empty span), NULL when out of memory */
bool ah_span_eq_ci(ah_span a, const char *s); /* ASCII case-insensitive */
/* ASCII lower case of a byte (other bytes unchanged): the one case fold of
 * every case-insensitive comparison and hash. */
static inline unsigned char ah_fold(unsigned char c) { return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c; }
bool ah_span_same_ci(ah_span a, ah_span b); /* two spans, ASCII case-insensitive */
ah_span ah_span_trim(ah_span s);            /* ASCII whitespace both ends */

/* The value of an ASCII hex digit (either case), or -1. */
static inline int ah_hex_digit(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20; /* 'A'..'F' -> 'a'..'f'; nothing else lands there */
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* A pull reader: the interface between container, decoding and framing.
 * read() returns the number of bytes placed in buf (>0), 0 at end of
 * stream, or -1 on error (the producer reports the reason itself). */
typedef struct ah_reader {
    ssize_t (*read)(void *ctx, char *buf, size_t n);
    void *ctx;
} ah_reader;

static inline ssize_t ah_read(ah_reader *r, char *buf, size_t n) { return r->read(r->ctx, buf, n); }
/* Serve what is left of head[*pos..len) (bytes already read to look at a
 * stream's start), then read on from next: no stream is rewound. */
ssize_t ah_read_after(const char *head, size_t len, size_t *pos, ah_reader *next, char *buf, size_t n);

/* Grow a heap array of elem-byte items that is full: its capacity *cap
 * doubles (the first allocation holds `first`). Returns the reallocated
 * array with *cap updated, or NULL, leaving arr and *cap as they were, when
 * out of memory. */
void *ah_grow_array(void *arr, size_t *cap, size_t first, size_t elem);

#define AH_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define AH_UNUSED(x) ((void)(x))

/* Marks an intended fall-through between switch labels: gcc accepts a
 * comment, clang only the attribute (both warn under -Wimplicit-fallthrough). */
#if defined(__has_attribute)
#if __has_attribute(fallthrough)
#define AH_FALLTHROUGH __attribute__((fallthrough))
#endif
#endif
#ifndef AH_FALLTHROUGH
#define AH_FALLTHROUGH ((void)0)
#endif

#endif
