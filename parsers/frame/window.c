/*
 * window.c: the framers' sliding window (see window.h).
 *
 * Design: sliding is deferred until it is needed (the tail is short of
 * READ_MIN bytes of room) or free (nothing is kept), so a window refilled
 * in large reads copies each byte at most rarely, and a read always has
 * READ_MIN bytes of room while the kept part stays within max_keep.
 */
#include "window.h"

#define READ_MIN ((size_t)64 * 1024) /* smallest read; the window always has this much room */
#define WINDOW_INIT ((size_t)256 * 1024)

void ah_window_init(ah_window *w, ah_reader *in, size_t max_keep)
{
    w->in = in;
    w->pos = 0;
    w->base = 0;
    w->eof = false;
    /* One kept record plus one read; 0 (no limit) when that overflows. */
    size_t limit = max_keep > SIZE_MAX - READ_MIN - 64 ? 0 : max_keep + READ_MIN + 64;
    ah_buf_init(&w->buf, limit);
}

void ah_window_free(ah_window *w)
{
    if (w)
        ah_buf_free(&w->buf);
}

/* Once a huge record has been consumed, give its memory back instead of
 * holding a window of its size for the rest of the run (the peak for one
 * huge record, docs/internals.md "Memory"). Best effort: without memory
 * for the small buffer the big one is kept. */
static void shrink_after_huge(ah_buf *b)
{
    if (b->cap <= 4 * WINDOW_INIT || b->len > WINDOW_INIT / 2)
        return;
    ah_buf small;
    ah_buf_init(&small, b->limit);
    if (ah_buf_reserve(&small, WINDOW_INIT) != AH_OK || ah_buf_append(&small, b->data, b->len) != AH_OK) {
        ah_buf_free(&small);
        return;
    }
    ah_buf_free(b);
    *b = small;
}

ah_status ah_window_fill(ah_window *w, size_t keep, size_t *dropped)
{
    if (dropped)
        *dropped = 0;
    if (w->eof)
        return AH_END;
    ah_buf *b = &w->buf;
    /* Usable capacity: the allocation may be larger than the limit. */
    size_t usable = b->cap ? b->cap - 1 : 0;
    if (usable > b->limit)
        usable = b->limit;
    /* Slide only when the tail is short of room (or when it costs nothing),
     * or to give back the window a huge record grew. */
    bool oversized = b->cap > 4 * WINDOW_INIT && keep <= b->len && b->len - keep <= WINDOW_INIT / 2;
    if (keep > 0 && (keep == b->len || usable - b->len < READ_MIN || oversized)) {
        ah_buf_consume(b, keep);
        w->base += keep;
        w->pos -= keep;
        if (dropped)
            *dropped = keep;
        shrink_after_huge(b);
    }
    size_t want = b->cap == 0 ? WINDOW_INIT : READ_MIN;
    if (b->limit - b->len < want)
        want = b->limit - b->len;
    ah_status st = ah_buf_reserve(b, want);
    if (st != AH_OK)
        return st == AH_ERR_NOMEM ? AH_ERR_NOMEM : AH_ERR_STREAM;
    size_t room = b->cap - b->len - 1;
    if (room > b->limit - b->len)
        room = b->limit - b->len;
    if (room == 0)
        return AH_ERR_STREAM; /* cannot happen: a kept record never fills the window */
    ssize_t n = ah_read(w->in, b->data + b->len, room);
    if (n < 0 || (size_t)n > room)
        return AH_ERR_STREAM;
    if (n == 0) {
        w->eof = true;
        return AH_END;
    }
    b->len += (size_t)n;
    b->data[b->len] = '\0';
    return AH_OK;
}

ah_status ah_window_ensure(ah_window *w, size_t n)
{
    while (ah_window_avail(w) < n) {
        ah_status st = ah_window_fill(w, w->pos, NULL);
        if (st == AH_END)
            break;
        if (st != AH_OK)
            return st;
    }
    return AH_OK;
}
