#include "diag.h"

#include <stdarg.h>
#include <stdio.h>

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

void ah_where_format(const ah_where *w, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = '\0';
    if (!w)
        return;
#define PUT(...)                                                             \
    do {                                                                     \
        if (n < size) {                                                      \
            int k = snprintf(buf + n, size - n, __VA_ARGS__);                \
            if (k > 0)                                                       \
                n += (size_t)k;                                              \
        }                                                                    \
    } while (0)
    PUT("%s", w->path ? w->path : "-");
    if (w->entry)
        PUT("[%s]", w->entry);
    if (w->record_no)
        PUT(" record %llu", (unsigned long long)w->record_no);
    if (w->line_no)
        PUT(" (line %llu)", (unsigned long long)w->line_no);
#undef PUT
}
