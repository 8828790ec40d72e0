/*
 * window.h: a bounded sliding window over an ah_reader, shared by the
 * framers (csv.c, jsonsplit.c).
 *
 * The window holds a run of the stream in one ah_buf: buf.data[0..buf.len)
 * are the stream bytes at offsets [base, base + buf.len), NUL-terminated
 * after every fill. `pos` is the framer's scan cursor inside it; the framer
 * moves it forward itself.
 *
 * ah_window_fill appends one large read (the first read allocates
 * WINDOW_INIT, later ones add at least READ_MIN). Before reading it may
 * slide: the bytes before `keep` (the start of what the framer still needs)
 * are dropped and everything after them moves down, but only when the tail
 * is short of room for a read, or when the drop costs nothing (keep is the
 * end of the data). So most records are never copied. A slide moves `pos`
 * and `base` with the data; any other offset the framer holds into the
 * window must be moved down by the count reported (ah_window_rebase).
 *
 * Memory: the buffer is capped at max_keep plus one read, so a framer that
 * never keeps more than max_keep bytes always finds room to read.
 */
#ifndef AH_WINDOW_H
#define AH_WINDOW_H

#include "../util/buf.h"

typedef struct ah_window {
    ah_reader *in; /* not owned */
    ah_buf buf;    /* the bytes held */
    size_t pos;    /* the framer's scan cursor in buf */
    uint64_t base; /* stream offset of buf.data[0] */
    bool eof;      /* the reader reported end of input */
} ah_window;

/* max_keep: the most bytes the framer keeps across a fill (SIZE_MAX: no limit). */
void ah_window_init(ah_window *w, ah_reader *in, size_t max_keep);
void ah_window_free(ah_window *w);

/* Read more input, keeping the window from `keep` (<= buf.len) on; the
 * number of bytes dropped from the front goes to *dropped (may be NULL).
 * AH_OK when bytes were added, AH_END at end of input (also on every call
 * after it), AH_ERR_STREAM on a read error, AH_ERR_NOMEM. */
ah_status ah_window_fill(ah_window *w, size_t keep, size_t *dropped);

/* Fill (keeping from pos on) until at least n bytes are held at pos, or
 * the input ends. For a framer holding no other offsets into the window.
 * AH_OK (also when fewer bytes remain at end of input), AH_ERR_STREAM,
 * AH_ERR_NOMEM. */
ah_status ah_window_ensure(ah_window *w, size_t n);

/* Bytes held at pos. */
static inline size_t ah_window_avail(const ah_window *w) { return w->buf.len - w->pos; }

/* An offset into the window after `dropped` bytes slid out (0 when it
 * pointed into the dropped part). */
static inline size_t ah_window_rebase(size_t off, size_t dropped) { return off >= dropped ? off - dropped : 0; }

#endif
