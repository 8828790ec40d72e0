#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ah_buf_init(ah_buf *b, size_t limit)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->limit = limit ? limit : SIZE_MAX;
    b->err = AH_OK;
}

void ah_buf_free(ah_buf *b)
{
    if (!b)
        return;
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->err = AH_OK;
}

ah_status ah_buf_reserve(ah_buf *b, size_t extra)
{
    if (extra > b->limit || b->len > b->limit - extra)
        return AH_ERR_TOOBIG;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return AH_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = realloc(b->data, cap);
    if (!p)
        return b->err = AH_ERR_NOMEM;
    if (!b->data)
        p[0] = '\0';
    b->data = p;
    b->cap = cap;
    return AH_OK;
}

ah_status ah_buf_append(ah_buf *b, const void *p, size_t n)
{
    ah_status st = ah_buf_reserve(b, n);
    if (st != AH_OK)
        return st;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return AH_OK;
}

ah_status ah_buf_append_span(ah_buf *b, ah_span s) { return ah_buf_append(b, s.p, s.n); }

ah_status ah_buf_putc(ah_buf *b, char c) { return ah_buf_append(b, &c, 1); }

ah_status ah_buf_puts(ah_buf *b, const char *s) { return ah_buf_append(b, s, strlen(s)); }

ah_status ah_buf_printf(ah_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return AH_ERR_USAGE;
    if ((size_t)n < sizeof small)
        return ah_buf_append(b, small, (size_t)n);
    ah_status st = ah_buf_reserve(b, (size_t)n);
    if (st != AH_OK)
        return st;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return AH_OK;
}

void ah_buf_consume(ah_buf *b, size_t n)
{
    if (n >= b->len) {
        ah_buf_reset(b);
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
    b->data[b->len] = '\0';
}
