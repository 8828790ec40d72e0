/*
 * jsonsplit.c: split a stream of JSON text into records without parsing it.
 *
 * Design: one sliding window (window.h: capped at max_record plus one read)
 * is refilled from the reader in large reads; `win.pos` scans forward and
 * the bytes before the record being assembled are dropped only when the
 * tail runs short of room, so most records cost no copying at all. Records
 * are delimited by tracking strings, escapes and nesting depth with a
 * 256-entry class table; the validation of a record is left to its
 * consumer (jscan).
 *
 * The splitter is a resumable state machine (mode + the scanner state) so a
 * record can straddle any number of refills, whatever the reader's chunking.
 *
 * Recovery: a record longer than max_record is scanned on without being kept
 * (the window then holds only the unscanned tail) and reported once. For
 * top-level records (JSON Lines) two signs of a truncated line end the bad
 * record early so the following lines are not swallowed: a raw line feed
 * inside a string (illegal JSON), and a '{' in column 0 while a record that
 * began with content on its first line is still open. Stray bytes between
 * top-level values are reported once, then the splitter skips to the next
 * line whose first non-blank byte is '{' or '['. Stray commas (between
 * top-level values, or leading, doubled and trailing commas in an array)
 * are not records and are skipped silently.
 */
#include "jsonsplit.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "window.h"

enum {
    K_STR_STOP = 1,    /* inside a string: '"', '\\', LF */
    K_STRUCT_STOP = 2, /* outside strings: '"', brackets, braces, LF */
    K_DELIM = 4,       /* ends a bare scalar: whitespace and structural bytes */
    K_WS = 8,
};

static const unsigned char kls[256] = {
    [0] = K_WS, /* NUL runs between values (a half-written export): skipped, counted by the decoder */
    ['\t'] = K_DELIM | K_WS,
    ['\n'] = K_STR_STOP | K_STRUCT_STOP | K_DELIM | K_WS,
    ['\r'] = K_DELIM | K_WS,
    [' '] = K_DELIM | K_WS,
    ['"'] = K_STR_STOP | K_STRUCT_STOP | K_DELIM,
    ['\\'] = K_STR_STOP,
    [','] = K_DELIM,
    [':'] = K_DELIM,
    ['['] = K_STRUCT_STOP | K_DELIM,
    [']'] = K_STRUCT_STOP | K_DELIM,
    ['{'] = K_STRUCT_STOP | K_DELIM,
    ['}'] = K_STRUCT_STOP | K_DELIM,
};

typedef enum {
    M_TOP,        /* between top-level values */
    M_HEAD,       /* a top-level object: reading its first members to see if it is a wrapper */
    M_RECORD,     /* a top-level object known to be one record */
    M_ARRAY,      /* between elements of an array whose elements are records */
    M_ELEM,       /* inside such an element */
    M_TAIL,       /* skipping the members of a wrapper object after its array */
    M_RESYNC,     /* skipping to the end of the line after an error */
    M_RESYNC_BOL, /* at a line start, looking for '{' or '[' */
    M_END,
    M_FAILED, /* read error: the stream is abandoned */
} split_mode;

typedef enum { H_FIRST, H_KEY, H_INKEY, H_COLON, H_VALUE, H_INVAL, H_COMMA } head_state;

typedef enum { SCAN_DONE, SCAN_MORE, SCAN_LF_IN_STRING, SCAN_COL0_OPEN } scan_result;

struct ah_jsplit {
    ah_window win; /* win.pos: the scan cursor; win.base: stream offset of its first byte */
    size_t max_record;
    bool started;
    uint64_t line;     /* line at win.pos, 1-based */
    uint64_t lf_after; /* stream offset just after the last LF seen */
    uint64_t record_no;

    split_mode mode;
    const char *container; /* for M_ARRAY/M_ELEM */
    bool wrapper;          /* the array is a wrapper object's member */

    /* the record being assembled */
    size_t rec_start;
    uint64_t rec_line;
    bool toplevel;
    bool skipping;    /* over max_record: bytes are no longer kept */
    bool line_shaped; /* a top-level record with content on its first line */

    /* value scanner: done when, outside a string, depth returns to done_depth */
    bool scalar;
    bool in_str;
    bool esc;
    size_t depth;
    size_t done_depth;

    head_state head;
    size_t key_start, key_end;

    char err[160];
};

void ah_jsplit_set_first_line(ah_jsplit *s, uint64_t line) { s->line = line; }

ah_jsplit *ah_jsplit_new(ah_reader *text, size_t max_record)
{
    if (!text)
        return NULL;
    ah_jsplit *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->max_record = max_record ? max_record : SIZE_MAX;
    ah_window_init(&s->win, text, s->max_record); /* one record plus one read */
    s->line = 1;
    s->mode = M_TOP;
    return s;
}

void ah_jsplit_free(ah_jsplit *s)
{
    if (!s)
        return;
    ah_window_free(&s->win);
    free(s);
}

const char *ah_jsplit_error(const ah_jsplit *s) { return s ? s->err : "no splitter"; }

static bool buffering(const ah_jsplit *s)
{
    return (s->mode == M_HEAD || s->mode == M_RECORD || s->mode == M_ELEM) && !s->skipping;
}

/* Set the value scanner to the inside of an object (depth 1), between
 * members: the scan is done when that object closes. */
static void scan_rest_of_object(ah_jsplit *s)
{
    s->scalar = false;
    s->in_str = false;
    s->esc = false;
    s->depth = 1;
    s->done_depth = 0;
}

/* Stop keeping an oversized record. A wrapper candidate that outgrows the
 * limit is taken as one (oversized) record: its scanner state is already
 * relative to the object, so only the completion depth changes. */
static void start_skipping(ah_jsplit *s)
{
    s->skipping = true;
    if (s->mode == M_HEAD) {
        if (s->head == H_INKEY || s->head == H_INVAL) {
            if (s->head == H_INVAL && s->scalar)
                s->scalar = false; /* a bare scalar holds no structure: go on at object depth */
            s->done_depth = 0;
        } else {
            scan_rest_of_object(s);
        }
        s->mode = M_RECORD;
    }
}

/* Read more input (window.h), keeping the record being assembled, or
 * nothing before win.pos between records. A record that has outgrown
 * max_record stops being kept. AH_OK when bytes were added, AH_END,
 * AH_ERR_STREAM, AH_ERR_NOMEM. */
static ah_status fill(ah_jsplit *s)
{
    if (!s->win.eof && buffering(s) && s->win.pos - s->rec_start > s->max_record)
        start_skipping(s);
    size_t dropped;
    ah_status st = ah_window_fill(&s->win, buffering(s) ? s->rec_start : s->win.pos, &dropped);
    s->rec_start = ah_window_rebase(s->rec_start, dropped);
    s->key_start = ah_window_rebase(s->key_start, dropped);
    s->key_end = ah_window_rebase(s->key_end, dropped);
    return st;
}

/* A read error or out of memory: the stream is abandoned. Out of memory
 * is passed on as such (the run stops; it is not the input's fault). */
static ah_status stream_failed(ah_jsplit *s, ah_status st)
{
    snprintf(s->err, sizeof s->err, st == AH_ERR_NOMEM ? "out of memory" : "read error");
    s->mode = M_FAILED;
    return st == AH_ERR_NOMEM ? AH_ERR_NOMEM : AH_ERR_STREAM;
}

/* Skip JSON whitespace, counting lines. False when more input is needed. */
static bool skip_ws(ah_jsplit *s)
{
    const unsigned char *b = (const unsigned char *)s->win.buf.data;
    size_t p = s->win.pos, end = s->win.buf.len;
    while (p < end && (kls[b[p]] & K_WS)) {
        if (b[p] == '\n') {
            s->line++;
            s->lf_after = s->win.base + p + 1;
        }
        p++;
    }
    s->win.pos = p;
    return p < end;
}

static inline size_t skip_plain(const unsigned char *b, size_t p, size_t end, unsigned char stop)
{
    while (end - p >= 4) {
        if (kls[b[p]] & stop)
            return p;
        if (kls[b[p + 1]] & stop)
            return p + 1;
        if (kls[b[p + 2]] & stop)
            return p + 2;
        if (kls[b[p + 3]] & stop)
            return p + 3;
        p += 4;
    }
    while (p < end && !(kls[b[p]] & stop))
        p++;
    return p;
}

/* skip_plain for K_STR_STOP, sixteen bytes at a time where SSE2 is there:
 * string content is most of a record. */
static inline size_t skip_str(const unsigned char *b, size_t p, size_t end)
{
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'), lf = _mm_set1_epi8('\n');
    while (end - p >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(b + p));
        __m128i stop =
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bslash)), _mm_cmpeq_epi8(x, lf));
        unsigned mask = (unsigned)_mm_movemask_epi8(stop);
        if (mask)
            return p + (size_t)__builtin_ctz(mask);
        p += 16;
    }
#endif
    return skip_plain(b, p, end, K_STR_STOP);
}

/* Set up the value scanner for the value whose first byte is at pos. The
 * value is complete when nesting returns to `outer`. */
static void begin_value(ah_jsplit *s, size_t outer)
{
    char c = s->win.buf.data[s->win.pos];
    s->esc = false;
    s->done_depth = outer;
    s->depth = outer;
    s->in_str = false;
    s->scalar = false;
    if (c == '"') {
        s->in_str = true;
        s->win.pos++;
    } else if (c == '{' || c == '[') {
        s->depth = outer + 1;
        s->win.pos++;
    } else {
        s->scalar = true;
        s->win.pos++; /* a scalar is at least one byte, even a stray ':' or '}' */
    }
}

static scan_result scan_value(ah_jsplit *s)
{
    const unsigned char *b = (const unsigned char *)s->win.buf.data;
    size_t p = s->win.pos, end = s->win.buf.len;

    if (s->scalar) {
        p = skip_plain(b, p, end, K_DELIM);
        s->win.pos = p;
        return p < end ? SCAN_DONE : SCAN_MORE;
    }

    size_t depth = s->depth;
    bool in_str = s->in_str;
    scan_result r = SCAN_MORE;
    if (s->esc) {
        if (p == end)
            return SCAN_MORE;
        s->esc = false;
        if (b[p] != '\n') /* an escaped LF is still a raw LF in the string */
            p++;
    }
    for (;;) {
        if (in_str) {
            p = skip_str(b, p, end);
            if (p == end)
                break;
            unsigned char c = b[p];
            if (c == '"') {
                p++;
                in_str = false;
                if (depth == s->done_depth) {
                    r = SCAN_DONE;
                    break;
                }
            } else if (c == '\\') {
                if (p + 1 == end) {
                    s->esc = true;
                    p = end;
                    break;
                }
                p += b[p + 1] == '\n' ? 1 : 2;
            } else { /* raw LF: illegal in a string */
                p++;
                s->line++;
                s->lf_after = s->win.base + p;
                if (s->toplevel) {
                    r = SCAN_LF_IN_STRING;
                    break;
                }
            }
        } else {
            p = skip_plain(b, p, end, K_STRUCT_STOP);
            if (p == end)
                break;
            unsigned char c = b[p];
            if (c == '"') {
                in_str = true;
                p++;
            } else if (c == '{' || c == '[') {
                if (c == '{' && s->toplevel && s->line_shaped && s->win.base + p == s->lf_after) {
                    r = SCAN_COL0_OPEN;
                    break;
                }
                depth++;
                p++;
            } else if (c == '}' || c == ']') {
                p++;
                if (depth > 0)
                    depth--;
                if (depth <= s->done_depth) {
                    r = SCAN_DONE;
                    break;
                }
            } else { /* LF */
                p++;
                s->line++;
                s->lf_after = s->win.base + p;
            }
        }
    }
    s->win.pos = p;
    s->depth = depth;
    s->in_str = in_str;
    return r;
}

static void begin_record(ah_jsplit *s, bool toplevel)
{
    s->rec_start = s->win.pos;
    s->rec_line = s->line;
    s->toplevel = toplevel;
    s->skipping = false;
    s->line_shaped = false;
}

static ah_status record_error(ah_jsplit *s, ah_json_record *rec, uint64_t line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static ah_status record_error(ah_jsplit *s, ah_json_record *rec, uint64_t line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
    s->record_no++;
    rec->text = AH_SPAN_NULL;
    rec->record_no = s->record_no;
    rec->line_no = line;
    rec->container = s->toplevel ? NULL : s->container;
    return AH_ERR_RECORD;
}

/* A record's scan reached its end: hand it out, or report it as too big. */
static ah_status finish_record(ah_jsplit *s, ah_json_record *rec)
{
    s->mode = s->toplevel ? M_TOP : M_ARRAY;
    if (s->skipping || s->win.pos - s->rec_start > s->max_record)
        return record_error(s, rec, s->rec_line, "record exceeds --max-record (%zu bytes)", s->max_record);
    s->record_no++;
    rec->text = ah_span_make(s->win.buf.data + s->rec_start, s->win.pos - s->rec_start);
    rec->record_no = s->record_no;
    rec->line_no = s->rec_line;
    rec->container = s->toplevel ? NULL : s->container;
    s->err[0] = '\0';
    return AH_OK;
}

/* Handle the scanner's signal for a top-level record that cannot be whole. */
static ah_status truncated_line(ah_jsplit *s, ah_json_record *rec, scan_result r)
{
    if (r == SCAN_LF_IN_STRING) {
        s->mode = M_RESYNC_BOL;
        return record_error(s, rec, s->rec_line, "record is cut off inside a string at line %llu",
                            (unsigned long long)(s->line - 1));
    }
    s->mode = M_TOP; /* the '{' in column 0 starts the next record */
    return record_error(s, rec, s->rec_line, "record is not closed before a new one starts at line %llu",
                        (unsigned long long)s->line);
}

static const char *wrapper_name(const char *k, size_t n)
{
    if (n == 5 && memcmp(k, "value", 5) == 0)
        return "value";
    if (n == 7 && memcmp(k, "records", 7) == 0)
        return "records";
    if (n == 6 && memcmp(k, "events", 6) == 0)
        return "events";
    return NULL;
}

/* The top-level object is not a wrapper: scan it on as one record. */
static void head_fallback(ah_jsplit *s)
{
    s->mode = M_RECORD;
    scan_rest_of_object(s);
}

typedef enum { STEP_MORE, STEP_ON, STEP_DONE, STEP_COL0 } head_step_result;

/* One step of the wrapper check. */
static head_step_result head_step(ah_jsplit *s)
{
    const char *b = s->win.buf.data;
    switch (s->head) {
    case H_FIRST:
    case H_KEY:
        if (!skip_ws(s))
            return STEP_MORE;
        if (s->head == H_FIRST) /* JSON Lines records carry content on their first line */
            s->line_shaped = s->lf_after <= s->win.base + s->rec_start;
        if (b[s->win.pos] == '"') {
            s->win.pos++;
            s->key_start = s->win.pos;
            s->in_str = true;
            s->esc = false;
            s->scalar = false;
            s->depth = s->done_depth = 1;
            s->head = H_INKEY;
        } else if (b[s->win.pos] == '}' && s->head == H_FIRST) {
            s->win.pos++;
            return STEP_DONE;
        } else {
            head_fallback(s);
        }
        return STEP_ON;
    case H_COLON:
        if (!skip_ws(s))
            return STEP_MORE;
        if (b[s->win.pos] == ':') {
            s->win.pos++;
            s->head = H_VALUE;
        } else {
            head_fallback(s);
        }
        return STEP_ON;
    case H_VALUE: {
        if (!skip_ws(s))
            return STEP_MORE;
        if (s->win.pos - s->rec_start > s->max_record) {
            /* Decide as a byte-at-a-time reader would have: too big already. */
            start_skipping(s);
            return STEP_ON;
        }
        if (b[s->win.pos] == '{' && s->line_shaped && s->win.base + s->win.pos == s->lf_after)
            return STEP_COL0; /* as the value scanner would see it */
        const char *key = b + s->key_start;
        size_t klen = s->key_end - s->key_start;
        const char *name;
        if (klen > 0 && key[0] == '@') {
            begin_value(s, 1);
            s->head = H_INVAL;
        } else if (b[s->win.pos] == '[' && (name = wrapper_name(key, klen)) != NULL) {
            s->win.pos++;
            s->mode = M_ARRAY;
            s->container = name;
            s->wrapper = true;
        } else {
            head_fallback(s);
        }
        return STEP_ON;
    }
    case H_COMMA:
        if (!skip_ws(s))
            return STEP_MORE;
        if (b[s->win.pos] == ',') {
            s->win.pos++;
            s->head = H_KEY;
        } else if (b[s->win.pos] == '}') {
            s->win.pos++;
            return STEP_DONE; /* an object of "@..." members only: a record */
        } else {
            head_fallback(s);
        }
        return STEP_ON;
    case H_INKEY:
    case H_INVAL: break; /* handled by the caller with the value scanner */
    }
    return STEP_ON;
}

ah_status ah_jsplit_next(ah_jsplit *s, ah_json_record *rec)
{
    if (!s || !rec)
        return AH_ERR_USAGE;
    *rec = (ah_json_record){AH_SPAN_NULL, 0, 0, NULL};

    if (!s->started) {
        /* Tolerate a UTF-8 BOM the decoder did not strip. */
        s->started = true;
        ah_status st = ah_window_ensure(&s->win, 3);
        if (st != AH_OK)
            return stream_failed(s, st);
        if (ah_window_avail(&s->win) >= 3 && memcmp(s->win.buf.data + s->win.pos, "\xEF\xBB\xBF", 3) == 0)
            s->win.pos += 3;
    }

    for (;;) {
        bool need_more = false;
        switch (s->mode) {
        case M_END: return AH_END;
        case M_FAILED: return AH_ERR_STREAM;

        case M_TOP: {
            if (!skip_ws(s)) {
                need_more = true;
                break;
            }
            unsigned char c = (unsigned char)s->win.buf.data[s->win.pos];
            if (c == '{') {
                begin_record(s, true);
                s->win.pos++;
                s->head = H_FIRST;
                s->mode = M_HEAD;
            } else if (c == '[') {
                s->win.pos++;
                s->mode = M_ARRAY;
                s->container = "array";
                s->wrapper = false;
            } else if (c == ',') {
                s->win.pos++;
            } else {
                s->toplevel = true;
                s->mode = M_RESYNC;
                if (c >= 0x21 && c < 0x7F)
                    return record_error(s, rec, s->line, "unexpected '%c' between JSON values", c);
                return record_error(s, rec, s->line, "unexpected byte 0x%02X between JSON values", c);
            }
            break;
        }

        case M_HEAD: {
            if (s->head == H_INKEY || s->head == H_INVAL) {
                scan_result r = scan_value(s);
                if (r == SCAN_MORE) {
                    need_more = true;
                    break;
                }
                if (r != SCAN_DONE)
                    return truncated_line(s, rec, r);
                if (s->head == H_INKEY) {
                    s->key_end = s->win.pos - 1;
                    s->head = H_COLON;
                } else {
                    s->head = H_COMMA;
                }
                break;
            }
            head_step_result r = head_step(s);
            if (r == STEP_MORE)
                need_more = true;
            else if (r == STEP_DONE)
                return finish_record(s, rec);
            else if (r == STEP_COL0)
                return truncated_line(s, rec, SCAN_COL0_OPEN);
            break;
        }

        case M_RECORD:
        case M_ELEM: {
            scan_result r = scan_value(s);
            if (r == SCAN_DONE)
                return finish_record(s, rec);
            if (r != SCAN_MORE)
                return truncated_line(s, rec, r);
            need_more = true;
            break;
        }

        case M_ARRAY: {
            if (!skip_ws(s)) {
                need_more = true;
                break;
            }
            char c = s->win.buf.data[s->win.pos];
            if (c == ']') {
                s->win.pos++;
                if (s->wrapper) {
                    s->mode = M_TAIL;
                    s->toplevel = false;
                    scan_rest_of_object(s);
                } else {
                    s->mode = M_TOP;
                }
            } else if (c == ',') {
                s->win.pos++;
            } else {
                begin_record(s, false);
                begin_value(s, 0);
                s->mode = M_ELEM;
            }
            break;
        }

        case M_TAIL: {
            scan_result r = scan_value(s);
            if (r == SCAN_DONE)
                s->mode = M_TOP;
            else
                need_more = true;
            break;
        }

        case M_RESYNC: {
            const char *b = s->win.buf.data;
            const char *lf = memchr(b + s->win.pos, '\n', s->win.buf.len - s->win.pos);
            if (!lf) {
                s->win.pos = s->win.buf.len;
                need_more = true;
                break;
            }
            s->win.pos = (size_t)(lf - b) + 1;
            s->line++;
            s->lf_after = s->win.base + s->win.pos;
            s->mode = M_RESYNC_BOL;
            break;
        }

        case M_RESYNC_BOL: {
            const char *b = s->win.buf.data;
            size_t p = s->win.pos, end = s->win.buf.len;
            while (p < end && (b[p] == ' ' || b[p] == '\t' || b[p] == '\r'))
                p++;
            s->win.pos = p;
            if (p == end) {
                need_more = true;
                break;
            }
            if (b[p] == '{' || b[p] == '[') {
                s->mode = M_TOP;
            } else if (b[p] == '\n') {
                s->win.pos++;
                s->line++;
                s->lf_after = s->win.base + s->win.pos;
            } else {
                s->mode = M_RESYNC;
            }
            break;
        }
        }

        if (!need_more)
            continue;
        ah_status r = fill(s);
        if (r == AH_OK)
            continue;
        if (r != AH_END)
            return stream_failed(s, r);
        /* End of input. */
        if (s->mode == M_ELEM && s->scalar)
            return finish_record(s, rec);
        if (s->mode == M_ELEM || s->mode == M_HEAD || s->mode == M_RECORD) {
            s->mode = M_END;
            if (s->skipping)
                return record_error(s, rec, s->rec_line, "record exceeds --max-record (%zu bytes)", s->max_record);
            return record_error(s, rec, s->rec_line, "truncated record at end of input");
        }
        /* Between values, inside an array or a wrapper's tail: nothing is lost. */
        s->mode = M_END;
        return AH_END;
    }
}
