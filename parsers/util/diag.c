#include "diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "utf8.h"

void ah_diag_report(ah_diag *d, ah_severity sev, const ah_where *where, const char *fmt, ...)
{
    if (!d)
        return;
    d->count[sev]++;
    if (!d->fn)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    d->fn(d->ud, sev, where, msg);
}

void ah_diag_temp(const ah_diag *d, const char *path, bool exists)
{
    if (d && d->temp_fn && path)
        d->temp_fn(d->temp_ud, path, exists);
}

void ah_where_format(const ah_where *w, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = '\0';
    if (!w)
        return;
#define PUT(...)                                                                                                       \
    do {                                                                                                               \
        if (n < size) {                                                                                                \
            int k = snprintf(buf + n, size - n, __VA_ARGS__);                                                          \
            if (k > 0)                                                                                                 \
                n += (size_t)k;                                                                                        \
        }                                                                                                              \
    } while (0)
    char esc[1024];
    PUT("%s", w->path ? ah_escape_text(w->path, strlen(w->path), false, esc, sizeof esc) : "-");
    if (w->entry)
        PUT("[%s]", ah_escape_text(w->entry, strlen(w->entry), false, esc, sizeof esc));
    if (w->record_no)
        PUT(" record %llu", (unsigned long long)w->record_no);
    if (w->line_no)
        PUT(" (line %llu)", (unsigned long long)w->line_no);
#undef PUT
}

/* The escape for the character at p (len bytes, code point cp), or "" to copy it. */
static size_t escape_one(const unsigned char *p, int len, bool keep_newlines, char esc[16])
{
    if (len < 0) {
        snprintf(esc, 16, "\\x%02x", p[0]); /* one byte of an ill-formed sequence */
        return 1;
    }
    if (len == 1) {
        if ((p[0] < 0x20 && !(keep_newlines && p[0] == '\n')) || p[0] == 0x7f) {
            snprintf(esc, 16, "\\x%02x", p[0]);
            return 1;
        }
        esc[0] = '\0';
        return 1;
    }
    uint32_t cp = len == 2   ? (uint32_t)(p[0] & 0x1f) << 6 | (p[1] & 0x3f)
                  : len == 3 ? (uint32_t)(p[0] & 0x0f) << 12 | (uint32_t)(p[1] & 0x3f) << 6 | (p[2] & 0x3f)
                             : 0x10000; /* 4-byte sequences are never controls */
    if ((cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
        snprintf(esc, 16, "\\u%04x", (unsigned)cp);
    else
        esc[0] = '\0';
    return (size_t)len;
}

const char *ah_escape_text(const char *s, size_t n, bool keep_newlines, char *out, size_t size)
{
    size_t o = 0;
    if (!size)
        return out;
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        int len = ah_utf8_check(p + i, n - i);
        if (len == 0)
            len = -1; /* cut short by the end of the text */
        char esc[16];
        size_t used = escape_one(p + i, len, keep_newlines, esc);
        const char *add = esc[0] ? esc : (const char *)p + i;
        size_t k = esc[0] ? strlen(esc) : used;
        if (o + k >= size)
            break;
        memcpy(out + o, add, k);
        o += k;
        i += used;
    }
    out[o] = '\0';
    return out;
}

void ah_escape_fputs(const char *s, FILE *f)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        int len = ah_utf8_check(p + i, n - i);
        if (len == 0)
            len = -1;
        char esc[16];
        size_t used = escape_one(p + i, len, false, esc);
        if (esc[0])
            fputs(esc, f);
        else
            fwrite(p + i, 1, used, f);
        i += used;
    }
}
