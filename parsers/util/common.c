#include "common.h"

#include <stdlib.h>
#include <string.h>

const char *ah_status_str(ah_status s)
{
    switch (s) {
    case AH_OK: return "ok";
    case AH_END: return "end of input";
    case AH_ERR_RECORD: return "malformed record";
    case AH_ERR_STREAM: return "unreadable stream";
    case AH_ERR_NOMEM: return "out of memory";
    case AH_ERR_TOOBIG: return "size limit exceeded";
    case AH_ERR_IO: return "input/output error";
    case AH_ERR_USAGE: return "usage error";
    case AH_ERR_SYNTAX: return "syntax error";
    }
    return "unknown status";
}

ah_span ah_span_cstr(const char *s) { return (ah_span){s, s ? strlen(s) : 0}; }

char *ah_span_strdup(ah_span s)
{
    char *out = malloc(s.n + 1);
    if (!out)
        return NULL;
    if (s.n)
        memcpy(out, s.p, s.n);
    out[s.n] = '\0';
    return out;
}

bool ah_span_eq(ah_span a, const char *s)
{
    size_t n = strlen(s);
    return a.n == n && (n == 0 || memcmp(a.p, s, n) == 0);
}

bool ah_span_eq_ci(ah_span a, const char *s)
{
    size_t n = strlen(s);
    if (a.n != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (ah_fold((unsigned char)a.p[i]) != ah_fold((unsigned char)s[i]))
            return false;
    return true;
}

bool ah_span_same_ci(ah_span a, ah_span b)
{
    if (a.n != b.n)
        return false;
    for (size_t i = 0; i < a.n; i++)
        if (ah_fold((unsigned char)a.p[i]) != ah_fold((unsigned char)b.p[i]))
            return false;
    return true;
}

static inline bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

ah_span ah_span_trim(ah_span s)
{
    while (s.n && is_ws(s.p[0])) {
        s.p++;
        s.n--;
    }
    while (s.n && is_ws(s.p[s.n - 1]))
        s.n--;
    return s;
}

void *ah_grow_array(void *arr, size_t *cap, size_t first, size_t elem)
{
    size_t ncap = *cap ? *cap * 2 : first;
    if (ncap < *cap || ncap > SIZE_MAX / elem)
        return NULL; /* the size would overflow: as good as out of memory */
    void *p = realloc(arr, ncap * elem);
    if (p)
        *cap = ncap;
    return p;
}

ssize_t ah_read_after(const char *head, size_t len, size_t *pos, ah_reader *next, char *buf, size_t n)
{
    if (*pos < len) {
        size_t k = len - *pos < n ? len - *pos : n;
        memcpy(buf, head + *pos, k);
        *pos += k;
        return (ssize_t)k;
    }
    return ah_read(next, buf, n);
}
