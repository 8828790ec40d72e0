/*
 * buf.h: a growable byte buffer with a hard size cap (curl's dynbuf idea).
 * Every buffer that holds attacker-sized data (a record, a cell, a decoded
 * string) has a limit, so a hostile input fails one record cleanly instead
 * of exhausting memory.
 */
#ifndef AH_BUF_H
#define AH_BUF_H

#include "common.h"

typedef struct ah_buf {
    char *data; /* always NUL-terminated when data != NULL */
    size_t len;
    size_t cap;
    size_t limit; /* maximum len; 0 means SIZE_MAX */
    /* AH_ERR_NOMEM once an append failed to allocate, until the next reset:
     * the content is missing bytes. Sticky so that a writer may append
     * without checking each call and check once where a row or record is
     * finished (ah_buf_status). Only allocation failure is remembered: a
     * limit (AH_ERR_TOOBIG) is returned to the caller, which drops that one
     * record or row and reuses the buffer. */
    ah_status err;
} ah_buf;

void ah_buf_init(ah_buf *b, size_t limit);
void ah_buf_free(ah_buf *b);
static inline void ah_buf_reset(ah_buf *b)
{
    b->len = 0;
    b->err = AH_OK;
    if (b->data)
        b->data[0] = '\0';
}
/* AH_ERR_NOMEM if an append since init or the last reset failed to allocate, else AH_OK. */
static inline ah_status ah_buf_status(const ah_buf *b) { return b->err; }
/* Remember an allocation failure that happened outside the buffer but
 * lost part of what it holds (a scratch buffer copied in, a value that
 * could not be computed): its finishing point then fails as for its own. */
static inline void ah_buf_lost(ah_buf *b) { b->err = AH_ERR_NOMEM; }
/* Keep only the first len (<= b->len) bytes: roll back to an earlier mark. */
static inline void ah_buf_truncate(ah_buf *b, size_t len)
{
    b->len = len;
    if (b->data)
        b->data[len] = '\0';
}
/* Make room for `extra` more bytes (plus the NUL). AH_ERR_TOOBIG past the limit. */
ah_status ah_buf_reserve(ah_buf *b, size_t extra);
ah_status ah_buf_append(ah_buf *b, const void *p, size_t n);
ah_status ah_buf_append_span(ah_buf *b, ah_span s);
ah_status ah_buf_putc(ah_buf *b, char c);
ah_status ah_buf_puts(ah_buf *b, const char *s);
ah_status ah_buf_printf(ah_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drop the first n bytes (used by framers to slide their window). */
void ah_buf_consume(ah_buf *b, size_t n);
static inline ah_span ah_buf_span(const ah_buf *b) { return (ah_span){b->data ? b->data : "", b->len}; }
static inline const char *ah_buf_cstr(const ah_buf *b) { return b->data ? b->data : ""; }

#endif
