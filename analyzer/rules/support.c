/*
 * support.c: the rule engine's arena, source map and caret diagnostics
 * (with the edit distance behind their "did you mean" hints).
 *
 * The arena makes compile-time code simple (no frees on error paths: the
 * ruleset frees everything at once) and keeps compiled rules compact. The
 * source map turns byte offsets into line:col for messages in the form
 *
 *   file:line:col: error: msg
 *     <source line>
 *     ^^^
 *
 * Columns count UTF-8 code points; tabs are kept under tabs so the carets
 * line up in a terminal.
 */
#include "rules_private.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../parsers/util/utf8.h"

struct ahi_chunk {
    ahi_chunk *next;
    size_t used, cap;
    max_align_t data[];
};

#define CHUNK_MIN 8192u

void ahi_arena_init(ahi_arena *a)
{
    a->head = NULL;
    a->total = 0;
    a->nomem = false;
}

bool ahi_nomem(ahi_arena *a)
{
    if (a)
        a->nomem = true;
    return false;
}

void ahi_arena_free(ahi_arena *a)
{
    if (!a)
        return;
    ahi_chunk *c = a->head;
    while (c) {
        ahi_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
    a->total = 0;
}

void *ahi_alloc(ahi_arena *a, size_t n)
{
    const size_t align = sizeof(max_align_t);
    if (n == 0)
        n = 1;
    if (n > SIZE_MAX / 2) {
        ahi_nomem(a);
        return NULL;
    }
    n = (n + align - 1) / align * align;
    ahi_chunk *c = a->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > CHUNK_MIN ? n : CHUNK_MIN;
        c = malloc(sizeof(ahi_chunk) + cap);
        if (!c) {
            ahi_nomem(a);
            return NULL;
        }
        c->cap = cap;
        c->used = 0;
        /* A big one-off block goes behind the current chunk so the
         * current chunk's free space is not wasted. */
        if (a->head && n > CHUNK_MIN) {
            c->next = a->head->next;
            a->head->next = c;
        } else {
            c->next = a->head;
            a->head = c;
        }
        a->total += cap;
    }
    void *p = (char *)c->data + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}

char *ahi_strndup(ahi_arena *a, const char *s, size_t n)
{
    char *p = ahi_alloc(a, n + 1);
    if (!p)
        return NULL;
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *ahi_strdup(ahi_arena *a, const char *s) { return ahi_strndup(a, s, strlen(s)); }

bool ahi_grow(ahi_arena *a, void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return true;
    size_t ncap = *cap ? *cap * 2 : 4;
    if (ncap > SIZE_MAX / elem)
        return ahi_nomem(a);
    void *p = ahi_alloc(a, ncap * elem);
    if (!p)
        return false;
    if (*arr && n)
        memcpy(p, *arr, n * elem);
    *arr = p;
    *cap = ncap;
    return true;
}

/* --- store ------------------------------------------------------------- */

void ahi_store_init(ahi_store *st)
{
    memset(st, 0, sizeof *st);
    ahi_arena_init(&st->arena);
}

void ahi_store_free(ahi_store *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < st->ncodes; i++)
        pcre2_code_free(st->codes[i]);
    free(st->codes);
    st->codes = NULL;
    st->ncodes = st->capcodes = 0;
    ahi_arena_free(&st->arena);
}

/* --- sources ----------------------------------------------------------- */

ahi_src *ahi_src_new(ahi_arena *a, const char *path, const char *text, size_t len)
{
    ahi_src *s = ahi_alloc(a, sizeof *s);
    if (!s)
        return NULL;
    s->path = ahi_strdup(a, path);
    const char *slash = strrchr(path, '/');
    s->dir = slash ? ahi_strndup(a, path, slash == path ? 1 : (size_t)(slash - path)) : ahi_strdup(a, ".");
    s->text = ahi_strndup(a, text, len);
    s->len = len;
    if (!s->path || !s->dir || !s->text)
        return NULL;
    size_t n = 1;
    for (size_t i = 0; i < len; i++)
        if (text[i] == '\n')
            n++;
    s->lines = ahi_alloc(a, n * sizeof *s->lines);
    if (!s->lines)
        return NULL;
    s->lines[0] = 0;
    s->nlines = 1;
    for (size_t i = 0; i < len; i++)
        if (text[i] == '\n')
            s->lines[s->nlines++] = i + 1;
    return s;
}

static size_t line_index(const ahi_src *s, size_t off)
{
    size_t lo = 0, hi = s->nlines;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->lines[mid] <= off)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

void ahi_src_locate(const ahi_src *s, size_t off, uint64_t *line, uint64_t *col)
{
    if (off > s->len)
        off = s->len;
    size_t li = line_index(s, off);
    uint64_t c = 1;
    for (size_t i = s->lines[li]; i < off; i++)
        if (!ah_utf8_is_cont((unsigned char)s->text[i]))
            c++;
    *line = li + 1;
    *col = c;
}

/* Append the source line (cut to a window around the column) and the caret
 * line. Control characters other than tab are shown as spaces. */
static void caret_lines(ah_buf *b, const ahi_src *s, size_t off, size_t len)
{
    if (off > s->len)
        off = s->len;
    size_t li = line_index(s, off);
    size_t start = s->lines[li];
    size_t end = start;
    while (end < s->len && s->text[end] != '\n')
        end++;
    if (end > start && s->text[end - 1] == '\r')
        end--;
    /* Keep long lines readable: a window of ~120 bytes around the column. */
    const size_t window = 120;
    size_t from = start;
    bool cut_left = false, cut_right = false;
    if (off > start + window / 2 && end - start > window) {
        from = off - window / 2;
        while (from < off && ah_utf8_is_cont((unsigned char)s->text[from]))
            from++;
        cut_left = true;
    }
    size_t to = end;
    if (to - from > window) {
        to = from + window;
        to = from + ah_utf8_cut(s->text + from, to - from);
        cut_right = true;
    }
    if (off > to)
        off = to;
    size_t tok_end = off + len;
    if (tok_end > to)
        tok_end = to;
    ah_buf_puts(b, "\n  ");
    if (cut_left)
        ah_buf_puts(b, "...");
    for (size_t i = from; i < to; i++) {
        unsigned char c = (unsigned char)s->text[i];
        ah_buf_putc(b, (c < 0x20 && c != '\t') || c == 0x7f ? ' ' : (char)c);
    }
    if (cut_right)
        ah_buf_puts(b, "...");
    ah_buf_puts(b, "\n  ");
    if (cut_left)
        ah_buf_puts(b, "   ");
    for (size_t i = from; i < off; i++) {
        unsigned char c = (unsigned char)s->text[i];
        if (c == '\t')
            ah_buf_putc(b, '\t');
        else if (!ah_utf8_is_cont(c))
            ah_buf_putc(b, ' ');
    }
    size_t carets = 0;
    for (size_t i = off; i < tok_end; i++)
        if (!ah_utf8_is_cont((unsigned char)s->text[i]))
            carets++;
    if (carets == 0)
        carets = 1;
    for (size_t i = 0; i < carets; i++)
        ah_buf_putc(b, '^');
}

void ahi_report(ah_diag *d, const ahi_src *s, size_t off, size_t len, ah_severity sev, const char *fmt, ...)
{
    if (!d)
        return;
    static const char *const sev_name[] = {"note", "warning", "error"};
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    uint64_t line = 0, col = 0;
    ah_buf b;
    ah_buf_init(&b, 4096);
    if (s) {
        ahi_src_locate(s, off, &line, &col);
        ah_buf_printf(&b, "%s:%llu:%llu: %s: %s", s->path, (unsigned long long)line, (unsigned long long)col,
                      sev_name[sev], msg);
        caret_lines(&b, s, off, len);
    } else {
        ah_buf_printf(&b, "%s: %s", sev_name[sev], msg);
    }
    ah_where w = {s ? s->path : NULL, NULL, 0, line};
    if (ah_buf_status(&b) != AH_OK) /* the located form lost bytes: the plain message, whole */
        ah_diag_report(d, sev, &w, "%s: %s", sev_name[sev], msg);
    else
        ah_diag_report(d, sev, &w, "%s", ah_buf_cstr(&b));
    ah_buf_free(&b);
}

void ahi_complain(ah_diag *d, const ahi_src *src, size_t off, size_t len, ah_severity sev, uint64_t *errors,
                  const ahi_placeholder *in, const char *fmt, ...)
{
    char msg[480];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (sev == AH_SEV_ERROR && errors)
        (*errors)++;
    if (in)
        ahi_report(d, in->src, in->off, in->len, sev, "in details placeholder '%.*s': %s", (int)in->quote.n,
                   in->quote.p, msg);
    else
        ahi_report(d, src, off, len, sev, "%s", msg);
}

/* Levenshtein distance, ASCII case-insensitive, for "did you mean" hints:
 * one row of the table, so only small strings (99 when either is longer
 * than 40 bytes). */
size_t ahi_edit_distance_ci(const char *a, size_t an, const char *b, size_t bn)
{
    if (an > 40 || bn > 40)
        return 99;
    size_t row[41];
    for (size_t j = 0; j <= bn; j++)
        row[j] = j;
    for (size_t i = 1; i <= an; i++) {
        size_t prev = row[0];
        row[0] = i;
        for (size_t j = 1; j <= bn; j++) {
            size_t tmp = row[j];
            unsigned char ca = ah_fold((unsigned char)a[i - 1]), cb = ah_fold((unsigned char)b[j - 1]);
            size_t best = prev + (ca == cb ? 0 : 1);
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            prev = tmp;
        }
    }
    return row[bn];
}
