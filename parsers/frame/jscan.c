/*
 * jscan.c: allocation-free, strict RFC 8259 scanning over complete JSON text.
 *
 * Design: one non-recursive validator (skip_value) does all the work; it
 * keeps the open containers in a 256-bit stack on the C stack, so nesting is
 * limited to AH_JSON_MAX_DEPTH without recursion or allocation. Iterators,
 * lookups and the text helpers are thin layers over it. Every read is
 * checked against the span end: the input is attacker-controlled and is not
 * NUL-terminated. UTF-8 validity of string content is not checked here (the
 * decoder guarantees it for input); ah_json_write_string repairs it for output.
 */
#include "jscan.h"

#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "../util/utf8.h"

/* Byte classes for the hot loops. */
enum {
    C_STRPLAIN = 1, /* may appear unescaped inside a string: >= 0x20, not '"' or '\\' */
    C_WS = 2,       /* JSON whitespace */
    C_DIGIT = 4,
    C_TOKCONT = 8, /* would continue a number or literal token */
    C_HEX = 16,
};

#define R4(x) x, x, x, x
#define R8(x) R4(x), R4(x)
#define R16(x) R8(x), R8(x)
static const unsigned char cls[256] = {
    /* 0x00-0x1f: control characters */
    R8(0),
    0,
    C_WS,
    C_WS,
    0,
    0,
    C_WS,
    0,
    0,
    R16(0),
    /* 0x20 ' ' */ C_STRPLAIN | C_WS,
    /* 0x21 '!' */ C_STRPLAIN,
    /* 0x22 '"' */ 0,
    /* 0x23-0x2a */ R8(C_STRPLAIN),
    /* 0x2b '+' */ C_STRPLAIN | C_TOKCONT,
    /* 0x2c ',' */ C_STRPLAIN,
    /* 0x2d '-' */ C_STRPLAIN | C_TOKCONT,
    /* 0x2e '.' */ C_STRPLAIN | C_TOKCONT,
    /* 0x2f '/' */ C_STRPLAIN,
    /* 0x30-0x39 */ R8(C_STRPLAIN | C_DIGIT | C_TOKCONT | C_HEX),
    C_STRPLAIN | C_DIGIT | C_TOKCONT | C_HEX,
    C_STRPLAIN | C_DIGIT | C_TOKCONT | C_HEX,
    /* 0x3a-0x40 */ R4(C_STRPLAIN),
    C_STRPLAIN,
    C_STRPLAIN,
    C_STRPLAIN,
    /* 0x41-0x46 'A'-'F' */ R4(C_STRPLAIN | C_TOKCONT | C_HEX),
    C_STRPLAIN | C_TOKCONT | C_HEX,
    C_STRPLAIN | C_TOKCONT | C_HEX,
    /* 0x47-0x5a 'G'-'Z' */ R16(C_STRPLAIN | C_TOKCONT),
    R4(C_STRPLAIN | C_TOKCONT),
    /* 0x5b '[' */ C_STRPLAIN,
    /* 0x5c '\\' */ 0,
    /* 0x5d-0x5e */ C_STRPLAIN,
    C_STRPLAIN,
    /* 0x5f '_' */ C_STRPLAIN | C_TOKCONT,
    /* 0x60 '`' */ C_STRPLAIN,
    /* 0x61-0x66 'a'-'f' */ R4(C_STRPLAIN | C_TOKCONT | C_HEX),
    C_STRPLAIN | C_TOKCONT | C_HEX,
    C_STRPLAIN | C_TOKCONT | C_HEX,
    /* 0x67-0x7a 'g'-'z' */ R16(C_STRPLAIN | C_TOKCONT),
    R4(C_STRPLAIN | C_TOKCONT),
    /* 0x7b-0x7f */ R4(C_STRPLAIN),
    C_STRPLAIN,
    /* 0x80-0xff: UTF-8 bytes are plain string content */
    R16(C_STRPLAIN),
    R16(C_STRPLAIN),
    R16(C_STRPLAIN),
    R16(C_STRPLAIN),
    R16(C_STRPLAIN),
    R16(C_STRPLAIN),
    R16(C_STRPLAIN),
    R16(C_STRPLAIN),
};
#undef R4
#undef R8
#undef R16

_Static_assert(sizeof cls == 256, "class table covers every byte");

#define IS(c, k) ((cls[(unsigned char)(c)] & (k)) != 0)

static inline const char *skip_ws(const char *p, const char *end)
{
    while (p < end && IS(*p, C_WS))
        p++;
    return p;
}

/* Four hex digits at p (p + 4 <= end checked by the caller) -> 0..0xFFFF, or -1. */
static long hex4(const char *p)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = ah_hex_digit((unsigned char)p[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* p is at the opening quote. Returns the pointer just past the closing
 * quote, or NULL if the string is malformed or runs past end. */
/* The first byte at or after p that is not plain string content ('"',
 * '\\' or a control character), or end. Sixteen bytes at a time where
 * SSE2 is there (every x86-64); long GUIDs, URLs and messages are most of
 * a record's bytes. */
static const char *skip_plain(const char *p, const char *end)
{
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'), ctl = _mm_set1_epi8(0x1F);
    while (end - p >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i stop = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bslash)),
                                    _mm_cmpeq_epi8(_mm_max_epu8(x, ctl), ctl)); /* x <= 0x1F, unsigned */
        unsigned mask = (unsigned)_mm_movemask_epi8(stop);
        if (mask)
            return p + __builtin_ctz(mask);
        p += 16;
    }
#endif
    while (p < end && IS(*p, C_STRPLAIN))
        p++;
    return p;
}

static const char *scan_string(const char *p, const char *end)
{
    p++;
    for (;;) {
        p = skip_plain(p, end);
        while (end - p >= 4) {
            if (!IS(p[0], C_STRPLAIN))
                break;
            if (!IS(p[1], C_STRPLAIN)) {
                p += 1;
                break;
            }
            if (!IS(p[2], C_STRPLAIN)) {
                p += 2;
                break;
            }
            if (!IS(p[3], C_STRPLAIN)) {
                p += 3;
                break;
            }
            p += 4;
        }
        while (p < end && IS(*p, C_STRPLAIN))
            p++;
        if (p >= end)
            return NULL;
        char c = *p;
        if (c == '"')
            return p + 1;
        if (c != '\\')
            return NULL; /* raw control character */
        if (end - p < 2)
            return NULL;
        switch (p[1]) {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't': p += 2; break;
        case 'u':
            if (end - p < 6 || hex4(p + 2) < 0)
                return NULL;
            p += 6;
            break;
        default: return NULL;
        }
    }
}

/* Number grammar: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?,
 * not followed by anything that would continue the token. */
static const char *scan_number(const char *p, const char *end)
{
    if (p < end && *p == '-')
        p++;
    if (p >= end || !IS(*p, C_DIGIT))
        return NULL;
    if (*p == '0') {
        p++;
    } else {
        while (p < end && IS(*p, C_DIGIT))
            p++;
    }
    if (p < end && *p == '.') {
        p++;
        if (p >= end || !IS(*p, C_DIGIT))
            return NULL;
        while (p < end && IS(*p, C_DIGIT))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || !IS(*p, C_DIGIT))
            return NULL;
        while (p < end && IS(*p, C_DIGIT))
            p++;
    }
    if (p < end && IS(*p, C_TOKCONT))
        return NULL; /* "01", "1.2.3", "1x" */
    return p;
}

static const char *scan_literal(const char *p, const char *end, const char *word, size_t n)
{
    if ((size_t)(end - p) < n || memcmp(p, word, n) != 0)
        return NULL;
    p += n;
    if (p < end && IS(*p, C_TOKCONT))
        return NULL;
    return p;
}

/* Validate one value starting exactly at p (no leading whitespace).
 * Returns the pointer just past it, or NULL. Non-recursive: the container
 * kinds are kept in a bit stack (1 = object, 0 = array). */
static const char *skip_value(const char *p, const char *end)
{
    unsigned char stack[AH_JSON_MAX_DEPTH / 8];
    size_t depth = 0;

    for (;;) {
        /* A value is expected at p. */
        if (p >= end)
            return NULL;
        switch (*p) {
        case '{':
        case '[': {
            if (depth >= AH_JSON_MAX_DEPTH)
                return NULL;
            bool obj = *p == '{';
            if (obj)
                stack[depth / 8] |= (unsigned char)(1u << (depth % 8));
            else
                stack[depth / 8] &= (unsigned char)~(1u << (depth % 8));
            depth++;
            p = skip_ws(p + 1, end);
            if (p >= end)
                return NULL;
            if (*p == (obj ? '}' : ']')) {
                p++;
                depth--;
                goto after_value;
            }
            if (obj)
                goto member_key;
            continue;
        }
        case '"': p = scan_string(p, end); break;
        case 't': p = scan_literal(p, end, "true", 4); break;
        case 'f': p = scan_literal(p, end, "false", 5); break;
        case 'n': p = scan_literal(p, end, "null", 4); break;
        default: p = scan_number(p, end); break;
        }
        if (!p)
            return NULL;

    after_value:
        for (;;) {
            if (depth == 0)
                return p;
            p = skip_ws(p, end);
            if (p >= end)
                return NULL;
            bool obj = (stack[(depth - 1) / 8] >> ((depth - 1) % 8)) & 1u;
            if (*p == ',') {
                p = skip_ws(p + 1, end);
                if (obj)
                    goto member_key;
                break; /* next array element */
            }
            if (*p != (obj ? '}' : ']'))
                return NULL;
            p++;
            depth--;
        }
        continue;

    member_key:
        if (p >= end || *p != '"')
            return NULL;
        p = scan_string(p, end);
        if (!p)
            return NULL;
        p = skip_ws(p, end);
        if (p >= end || *p != ':')
            return NULL;
        p = skip_ws(p + 1, end);
    }
}

ah_json_type ah_json_type_of(ah_span v)
{
    if (!v.p)
        return AH_JSON_INVALID;
    const char *end = v.p + v.n;
    const char *p = skip_ws(v.p, end);
    if (p >= end)
        return AH_JSON_INVALID;
    switch (*p) {
    case '{': return AH_JSON_OBJECT;
    case '[': return AH_JSON_ARRAY;
    case '"': return AH_JSON_STRING;
    case 't': return scan_literal(p, end, "true", 4) ? AH_JSON_TRUE : AH_JSON_INVALID;
    case 'f': return scan_literal(p, end, "false", 5) ? AH_JSON_FALSE : AH_JSON_INVALID;
    case 'n': return scan_literal(p, end, "null", 4) ? AH_JSON_NULL : AH_JSON_INVALID;
    default: return (*p == '-' || IS(*p, C_DIGIT)) ? AH_JSON_NUMBER : AH_JSON_INVALID;
    }
}

size_t ah_json_skip(ah_span text)
{
    if (!text.p)
        return 0;
    const char *end = text.p + text.n;
    const char *q = skip_value(skip_ws(text.p, end), end);
    return q ? (size_t)(q - text.p) : 0;
}

bool ah_json_valid(ah_span text)
{
    size_t n = ah_json_skip(text);
    if (n == 0)
        return false;
    const char *end = text.p + text.n;
    return skip_ws(text.p + n, end) == end;
}

/* --- iteration ----------------------------------------------------------- */

enum { IT_FIRST, IT_MORE, IT_DONE, IT_ERROR };

static ah_status iter_begin(ah_json_iter *it, ah_span v, char open)
{
    it->p = it->end = NULL;
    it->state = IT_ERROR;
    if (!v.p)
        return AH_ERR_RECORD;
    const char *end = v.p + v.n;
    const char *p = skip_ws(v.p, end);
    if (p >= end || *p != open)
        return AH_ERR_RECORD;
    it->p = p + 1;
    it->end = end;
    it->state = IT_FIRST;
    return AH_OK;
}

ah_status ah_json_object_begin(ah_json_iter *it, ah_span v) { return iter_begin(it, v, '{'); }
ah_status ah_json_array_begin(ah_json_iter *it, ah_span v) { return iter_begin(it, v, '['); }

/* Position it->p at the next item, consuming ',' or the closing bracket.
 * Returns AH_OK when an item starts at it->p, AH_END, or AH_ERR_RECORD. */
static ah_status iter_advance(ah_json_iter *it, char close)
{
    if (it->state == IT_DONE)
        return AH_END;
    if (it->state != IT_FIRST && it->state != IT_MORE)
        return AH_ERR_RECORD;
    const char *p = skip_ws(it->p, it->end);
    if (p >= it->end)
        goto bad;
    if (*p == close) {
        it->p = p + 1;
        it->state = IT_DONE;
        return AH_END;
    }
    if (it->state == IT_MORE) {
        if (*p != ',')
            goto bad;
        p = skip_ws(p + 1, it->end);
    }
    it->p = p;
    return AH_OK;
bad:
    it->state = IT_ERROR;
    return AH_ERR_RECORD;
}

ah_status ah_json_object_next(ah_json_iter *it, ah_span *key, ah_span *value)
{
    ah_status st = iter_advance(it, '}');
    if (st != AH_OK)
        return st;
    const char *p = it->p, *end = it->end;
    if (p >= end || *p != '"')
        goto bad;
    const char *kend = scan_string(p, end);
    if (!kend)
        goto bad;
    const char *q = skip_ws(kend, end);
    if (q >= end || *q != ':')
        goto bad;
    const char *v = skip_ws(q + 1, end);
    const char *vend = skip_value(v, end);
    if (!vend)
        goto bad;
    if (key)
        *key = ah_span_make(p + 1, (size_t)(kend - 1 - (p + 1)));
    if (value)
        *value = ah_span_make(v, (size_t)(vend - v));
    it->p = vend;
    it->state = IT_MORE;
    return AH_OK;
bad:
    it->state = IT_ERROR;
    return AH_ERR_RECORD;
}

ah_status ah_json_array_next(ah_json_iter *it, ah_span *value)
{
    ah_status st = iter_advance(it, ']');
    if (st != AH_OK)
        return st;
    const char *vend = skip_value(it->p, it->end);
    if (!vend) {
        it->state = IT_ERROR;
        return AH_ERR_RECORD;
    }
    if (value)
        *value = ah_span_make(it->p, (size_t)(vend - it->p));
    it->p = vend;
    it->state = IT_MORE;
    return AH_OK;
}

/* --- keys and unescaping --------------------------------------------------- */

/* Decode the escape at p (p[0] == '\\') into UTF-8. Returns the number of
 * input bytes consumed (0 if malformed); *n gets the output length. A high
 * surrogate followed by a low one is joined; a lone one becomes U+FFFD. */
static size_t decode_escape(const char *p, const char *end, unsigned char out[4], size_t *n)
{
    if (end - p < 2)
        return 0;
    char c = p[1];
    switch (c) {
    case '"':
    case '\\':
    case '/':
        out[0] = (unsigned char)c;
        *n = 1;
        return 2;
    case 'b':
        out[0] = '\b';
        *n = 1;
        return 2;
    case 'f':
        out[0] = '\f';
        *n = 1;
        return 2;
    case 'n':
        out[0] = '\n';
        *n = 1;
        return 2;
    case 'r':
        out[0] = '\r';
        *n = 1;
        return 2;
    case 't':
        out[0] = '\t';
        *n = 1;
        return 2;
    case 'u': break;
    default: return 0;
    }
    if (end - p < 6)
        return 0;
    long cp = hex4(p + 2);
    if (cp < 0)
        return 0;
    size_t used = 6;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        long lo = -1;
        if (end - p >= 12 && p[6] == '\\' && p[7] == 'u')
            lo = hex4(p + 8);
        if (lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            used = 12;
        } else {
            cp = 0xFFFD;
        }
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
        cp = 0xFFFD;
    }
    *n = ah_utf8_encode((uint32_t)cp, out);
    return used;
}

bool ah_json_key_eq_ci(ah_span raw_key, const char *name)
{
    if (!name)
        return false;
    size_t nlen = strlen(name);
    if (!raw_key.p)
        return nlen == 0 && raw_key.n == 0;
    /* Escapes only lengthen the raw text, so a shorter raw key cannot match. */
    if (raw_key.n < nlen)
        return false;
    const unsigned char *k = (const unsigned char *)raw_key.p;
    const unsigned char *nm = (const unsigned char *)name;
    if (raw_key.n == nlen && !memchr(raw_key.p, '\\', raw_key.n)) {
        for (size_t i = 0; i < nlen; i++)
            if (ah_fold(k[i]) != ah_fold(nm[i]))
                return false;
        return true;
    }
    const char *p = raw_key.p, *end = raw_key.p + raw_key.n;
    size_t i = 0;
    while (p < end) {
        unsigned char buf[4];
        size_t n = 1, used = 1;
        if (*p == '\\') {
            used = decode_escape(p, end, buf, &n);
            if (used == 0)
                return false;
        } else {
            buf[0] = (unsigned char)*p;
        }
        if (n > nlen - i)
            return false;
        for (size_t j = 0; j < n; j++)
            if (ah_fold(buf[j]) != ah_fold(nm[i + j]))
                return false;
        i += n;
        p += used;
    }
    return i == nlen;
}

bool ah_json_get(ah_span obj, const char *key, ah_span *value)
{
    ah_json_iter it;
    if (!key || ah_json_object_begin(&it, obj) != AH_OK)
        return false;
    ah_span k, v;
    while (ah_json_object_next(&it, &k, &v) == AH_OK) {
        if (ah_json_key_eq_ci(k, key)) {
            if (value)
                *value = v;
            return true;
        }
    }
    return false;
}

/* v trimmed must be exactly one string literal; returns its content span
 * (between the quotes) or {NULL,0}. */
static bool string_body(ah_span v, const char **body, const char **body_end)
{
    if (!v.p)
        return false;
    const char *end = v.p + v.n;
    const char *p = skip_ws(v.p, end);
    if (p >= end || *p != '"')
        return false;
    const char *q = scan_string(p, end);
    if (!q || skip_ws(q, end) != end)
        return false;
    *body = p + 1;
    *body_end = q - 1;
    return true;
}

/* Unescape a validated string body into out; on failure out is restored. */
static ah_status unescape_body(const char *p, const char *end, ah_buf *out)
{
    size_t mark = out->len;
    ah_status st = AH_OK;
    while (p < end) {
        const char *bs = memchr(p, '\\', (size_t)(end - p));
        const char *run_end = bs ? bs : end;
        if (run_end > p && (st = ah_buf_append(out, p, (size_t)(run_end - p))) != AH_OK)
            goto out;
        if (!bs)
            break;
        unsigned char buf[4];
        size_t n;
        size_t used = decode_escape(bs, end, buf, &n);
        if (used == 0) {
            st = AH_ERR_RECORD; /* cannot happen after validation; kept as a guard */
            goto out;
        }
        if ((st = ah_buf_append(out, buf, n)) != AH_OK)
            goto out;
        p = bs + used;
    }
out:
    if (st != AH_OK) {
        ah_buf_truncate(out, mark);
    }
    return st;
}

ah_status ah_json_unescape(ah_span v, ah_buf *out)
{
    const char *b, *e;
    if (!string_body(v, &b, &e))
        return AH_ERR_RECORD;
    return unescape_body(b, e, out);
}

/* Copy a validated value dropping insignificant whitespace. */
static ah_status append_compact(ah_buf *out, const char *p, const char *end)
{
    while (p < end) {
        const char *run = p;
        while (p < end && *p != '"' && !IS(*p, C_WS))
            p++;
        if (p > run) {
            ah_status st = ah_buf_append(out, run, (size_t)(p - run));
            if (st != AH_OK)
                return st;
        }
        if (p >= end)
            break;
        if (*p == '"') {
            const char *q = scan_string(p, end);
            if (!q)
                return AH_ERR_RECORD;
            ah_status st = ah_buf_append(out, p, (size_t)(q - p));
            if (st != AH_OK)
                return st;
            p = q;
        } else {
            p = skip_ws(p, end);
        }
    }
    return AH_OK;
}

bool ah_json_scalar_text(ah_span v, ah_buf *out)
{
    if (!v.p || !out)
        return false;
    const char *end = v.p + v.n;
    const char *p = skip_ws(v.p, end);
    const char *q = skip_value(p, end);
    if (!q || skip_ws(q, end) != end)
        return false;
    size_t mark = out->len;
    ah_status st;
    switch (*p) {
    case 'n': return false;
    case '"': st = unescape_body(p + 1, q - 1, out); break;
    case '{':
    case '[': st = append_compact(out, p, q); break;
    default: st = ah_buf_append(out, p, (size_t)(q - p)); break;
    }
    if (st != AH_OK) {
        ah_buf_truncate(out, mark);
        return false;
    }
    return true;
}

/* --- output ---------------------------------------------------------------- */

ah_status ah_json_write_string(ah_buf *out, ah_span s)
{
    static const char hexd[] = "0123456789abcdef";
    size_t mark = out->len;
    ah_status st = ah_buf_putc(out, '"');
    const unsigned char *p = (const unsigned char *)s.p;
    const unsigned char *end = p ? p + s.n : p;
    while (st == AH_OK && p < end) {
        const unsigned char *run = p;
        while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
            p++;
        if (p > run && (st = ah_buf_append(out, run, (size_t)(p - run))) != AH_OK)
            break;
        if (p >= end)
            break;
        unsigned char c = *p;
        if (c < 0x80) {
            char esc[6] = {'\\', 0, 0, 0, 0, 0};
            size_t n = 2;
            switch (c) {
            case '"': esc[1] = '"'; break;
            case '\\': esc[1] = '\\'; break;
            case '\n': esc[1] = 'n'; break;
            case '\r': esc[1] = 'r'; break;
            case '\t': esc[1] = 't'; break;
            case '\b': esc[1] = 'b'; break;
            case '\f': esc[1] = 'f'; break;
            default:
                esc[1] = 'u';
                esc[2] = '0';
                esc[3] = '0';
                esc[4] = hexd[c >> 4];
                esc[5] = hexd[c & 15];
                n = 6;
                break;
            }
            st = ah_buf_append(out, esc, n);
            p++;
            continue;
        }
        int k = ah_utf8_check(p, (size_t)(end - p));
        if (k <= 0) { /* one U+FFFD for the maximal subpart, or for a cut-short tail */
            st = ah_buf_append(out, "\xEF\xBF\xBD", 3);
            p += k < 0 ? (size_t)-k : (size_t)(end - p);
        } else if (k == 3 && p[0] == 0xE2 && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9)) {
            st = ah_buf_append(out, p[2] == 0xA8 ? "\\u2028" : "\\u2029", 6);
            p += 3;
        } else {
            st = ah_buf_append(out, p, (size_t)k);
            p += k;
        }
    }
    if (st == AH_OK)
        st = ah_buf_putc(out, '"');
    if (st != AH_OK) {
        ah_buf_truncate(out, mark);
    }
    return st;
}
