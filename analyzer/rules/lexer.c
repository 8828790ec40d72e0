/*
 * lexer.c: rule-file tokens, pulled one at a time by the parser.
 *
 * A 256-entry character-class table and a switch on the class (SQLite's
 * tokenizer shape). The parser chooses the mode for each token, which
 * replaces flex start states: expression mode (newlines are spaces), word
 * mode for metadata lists (bare words such as attack.T1098.001 or
 * 2024-01-10, ending at the end of the line), regex mode after `matches`
 * (/pattern/flags), and test mode after `test hit|miss` (inline JSON). Every
 * token carries its byte range for caret diagnostics; lexical errors are
 * reported here and returned as AHI_T_ERROR.
 */
#include "rules_private.h"

#include <stdlib.h>
#include <string.h>

#include "../../parsers/util/utf8.h"

enum {
    CC_OTHER = 0,
    CC_SPACE, /* space, tab, CR, FF, VT */
    CC_NL,
    CC_ALPHA, /* A-Z a-z _ */
    CC_DIGIT,
    CC_QUOTE,
    CC_HASH,
    CC_DOLLAR,
    CC_PUNCT, /* ( ) [ ] { } , . : * */
    CC_OPER,  /* = ! < > ~ & | ^ % + ; */
    CC_MINUS,
    CC_SLASH,
    CC_HIGH,    /* bytes >= 0x80 (UTF-8) */
    CC_WORDSYM, /* @ */
    CC_NUL,
};

#define R2(a) a, a
#define R4(a) R2(a), R2(a)
#define R8(a) R4(a), R4(a)
#define R16(a) R8(a), R8(a)

/* Eight bytes a line, as the comments count them. */
/* clang-format off */
static const unsigned char cclass[256] = {
    /* 0x00 */ CC_NUL, CC_OTHER, CC_OTHER, CC_OTHER, CC_OTHER, CC_OTHER, CC_OTHER, CC_OTHER,
    /* 0x08 */ CC_OTHER, CC_SPACE, CC_NL, CC_SPACE, CC_SPACE, CC_SPACE, CC_OTHER, CC_OTHER,
    /* 0x10 */ R16(CC_OTHER),
    /* 0x20 */ CC_SPACE, CC_OPER, CC_QUOTE, CC_HASH, CC_DOLLAR, CC_OPER, CC_OPER, CC_OTHER,
    /* 0x28 */ CC_PUNCT, CC_PUNCT, CC_PUNCT, CC_OPER, CC_PUNCT, CC_MINUS, CC_PUNCT, CC_SLASH,
    /* 0x30 */ R8(CC_DIGIT),
    /* 0x38 */ CC_DIGIT, CC_DIGIT, CC_PUNCT, CC_OPER, CC_OPER, CC_OPER, CC_OPER, CC_OTHER,
    /* 0x40 */ CC_WORDSYM, CC_ALPHA, CC_ALPHA, CC_ALPHA, CC_ALPHA, CC_ALPHA, CC_ALPHA, CC_ALPHA,
    /* 0x48 */ R8(CC_ALPHA),
    /* 0x50 */ R8(CC_ALPHA),
    /* 0x58 */ CC_ALPHA, CC_ALPHA, CC_ALPHA, CC_PUNCT, CC_OTHER, CC_PUNCT, CC_OPER, CC_ALPHA,
    /* 0x60 */ CC_OTHER, CC_ALPHA, CC_ALPHA, CC_ALPHA, CC_ALPHA, CC_ALPHA, CC_ALPHA, CC_ALPHA,
    /* 0x68 */ R8(CC_ALPHA),
    /* 0x70 */ R8(CC_ALPHA),
    /* 0x78 */ CC_ALPHA, CC_ALPHA, CC_ALPHA, CC_PUNCT, CC_OPER, CC_PUNCT, CC_OPER, CC_OTHER,
    /* 0x80 */ R16(CC_HIGH), R16(CC_HIGH), R16(CC_HIGH), R16(CC_HIGH),
    /* 0xC0 */ R16(CC_HIGH), R16(CC_HIGH), R16(CC_HIGH), R16(CC_HIGH),
};
/* clang-format on */

static inline int cc(const ahi_lexer *lx, size_t i)
{
    return i < lx->src->len ? cclass[(unsigned char)lx->src->text[i]] : CC_NUL;
}

static inline char ch(const ahi_lexer *lx, size_t i) { return i < lx->src->len ? lx->src->text[i] : '\0'; }

static inline bool is_ident_char(int c) { return c == CC_ALPHA || c == CC_DIGIT; }

/* Word lists (tags, sources, dates, bare URLs): anything printable up to
 * whitespace, a quote, a comment or a brace. */
static bool is_word_char(const ahi_lexer *lx, size_t i)
{
    if (i >= lx->src->len)
        return false;
    unsigned char c = (unsigned char)lx->src->text[i];
    if (c >= 0x80)
        return true;
    if (c <= 0x20 || c == 0x7f)
        return false;
    return c != '"' && c != '#' && c != '{' && c != '}';
}

const char *ahi_tok_name(ahi_tok t)
{
    switch (t) {
    case AHI_T_EOF: return "end of file";
    case AHI_T_ERROR: return "invalid token";
    case AHI_T_EOL: return "end of line";
    case AHI_T_WORD: return "word";
    case AHI_T_IDENT: return "name";
    case AHI_T_STRING: return "string";
    case AHI_T_NUMBER: return "number";
    case AHI_T_VAR: return "variable";
    case AHI_T_REGEX: return "regex";
    case AHI_T_JSON: return "JSON";
    case AHI_T_LPAREN: return "'('";
    case AHI_T_RPAREN: return "')'";
    case AHI_T_LBRACK: return "'['";
    case AHI_T_RBRACK: return "']'";
    case AHI_T_LBRACE: return "'{'";
    case AHI_T_RBRACE: return "'}'";
    case AHI_T_COMMA: return "','";
    case AHI_T_DOT: return "'.'";
    case AHI_T_COLON: return "':'";
    case AHI_T_STAR: return "'*'";
    case AHI_T_EQ: return "'=='";
    case AHI_T_ASSIGN: return "'='";
    case AHI_T_NE: return "'!='";
    case AHI_T_LT: return "'<'";
    case AHI_T_LE: return "'<='";
    case AHI_T_GT: return "'>'";
    case AHI_T_GE: return "'>='";
    case AHI_T_BADOP: return "operator";
    }
    return "token";
}

static ahi_token make(ahi_tok k, size_t off, size_t len)
{
    ahi_token t;
    memset(&t, 0, sizeof t);
    t.kind = k;
    t.off = off;
    t.len = len;
    return t;
}

static ahi_token lex_error(ahi_lexer *lx, size_t off, size_t len, const char *msg, const char *arg)
{
    ahi_complain(lx->diag, lx->src, off, len, AH_SEV_ERROR, lx->errors, NULL, "%s%s", msg, arg ? arg : "");
    return make(AHI_T_ERROR, off, len);
}

/* Skip spaces and comments; newlines too unless stop_at_nl. */
static void skip_space(ahi_lexer *lx, bool stop_at_nl)
{
    for (;;) {
        int c = cc(lx, lx->pos);
        if (c == CC_SPACE) {
            lx->pos++;
        } else if (c == CC_NL) {
            if (stop_at_nl)
                return;
            lx->pos++;
        } else if (c == CC_HASH) {
            while (lx->pos < lx->src->len && lx->src->text[lx->pos] != '\n')
                lx->pos++;
        } else {
            return;
        }
    }
}

static size_t line_end(const ahi_lexer *lx, size_t from)
{
    while (from < lx->src->len && lx->src->text[from] != '\n' && lx->src->text[from] != '\r')
        from++;
    return from;
}

static int hex4(const ahi_lexer *lx, size_t at)
{
    int v = 0;
    for (int k = 0; k < 4; k++) {
        int h = ah_hex_digit((unsigned char)ch(lx, at + (size_t)k));
        if (h < 0 || at + (size_t)k >= lx->src->len)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* """raw text""": no escapes; the common indentation of its lines and a
 * blank first/last line are removed, so descriptions can be indented with
 * the rule. */
static ahi_token lex_triple(ahi_lexer *lx, size_t start)
{
    const char *t = lx->src->text;
    size_t body = start + 3, i = body;
    while (i + 2 < lx->src->len && !(t[i] == '"' && t[i + 1] == '"' && t[i + 2] == '"'))
        i++;
    if (i + 2 >= lx->src->len) {
        lx->pos = lx->src->len;
        return lex_error(lx, start, 3, "unterminated \"\"\" string", NULL);
    }
    size_t bend = i;
    lx->pos = i + 3;
    /* Drop a blank first line and a blank last line. */
    size_t a = body;
    size_t k = a;
    while (k < bend && (t[k] == ' ' || t[k] == '\t' || t[k] == '\r'))
        k++;
    if (k < bend && t[k] == '\n')
        a = k + 1;
    else if (k == bend)
        a = bend;
    size_t b = bend;
    k = b;
    while (k > a && (t[k - 1] == ' ' || t[k - 1] == '\t'))
        k--;
    if (k > a && t[k - 1] == '\n')
        b = k - 1;
    if (b > a && t[b - 1] == '\r')
        b--;
    /* Common indentation of non-blank lines. */
    size_t indent = SIZE_MAX;
    for (size_t ls = a; ls < b;) {
        size_t le = ls;
        while (le < b && t[le] != '\n')
            le++;
        size_t w = ls;
        while (w < le && (t[w] == ' ' || t[w] == '\t'))
            w++;
        if (w < le && !(w + 1 == le && t[w] == '\r') && w - ls < indent)
            indent = w - ls;
        ls = le + 1;
    }
    if (indent == SIZE_MAX)
        indent = 0;
    char *out = ahi_alloc(lx->arena, b - a + 1);
    if (!out)
        return lex_error(lx, start, 3, "out of memory", NULL);
    size_t n = 0;
    for (size_t ls = a; ls < b;) {
        size_t le = ls;
        while (le < b && t[le] != '\n')
            le++;
        size_t from = ls;
        for (size_t d = 0; d < indent && from < le && (t[from] == ' ' || t[from] == '\t'); d++)
            from++;
        for (size_t j = from; j < le; j++)
            if (t[j] != '\r')
                out[n++] = t[j];
        if (le < b)
            out[n++] = '\n';
        ls = le + 1;
    }
    out[n] = '\0';
    ahi_token tk = make(AHI_T_STRING, start, lx->pos - start);
    tk.s = out;
    tk.n = n;
    tk.triple = true;
    return tk;
}

static ahi_token lex_string(ahi_lexer *lx)
{
    size_t start = lx->pos;
    const char *t = lx->src->text;
    if (start + 2 < lx->src->len && t[start + 1] == '"' && t[start + 2] == '"')
        return lex_triple(lx, start);
    /* First pass: find the end and the decoded size bound. */
    size_t i = start + 1;
    for (;;) {
        if (i >= lx->src->len || t[i] == '\n' || t[i] == '\r') {
            lx->pos = i;
            return lex_error(lx, start, i - start, "unterminated string", NULL);
        }
        if (t[i] == '"')
            break;
        if (t[i] == '\\' && i + 1 < lx->src->len && t[i + 1] != '\n' && t[i + 1] != '\r')
            i++;
        i++;
    }
    size_t end = i;
    char *out = ahi_alloc(lx->arena, end - start + 1);
    if (!out)
        return lex_error(lx, start, 1, "out of memory", NULL);
    size_t n = 0;
    for (i = start + 1; i < end; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c < 0x20 && c != '\t') {
            lx->pos = end + 1;
            return lex_error(lx, i, 1, "control character in string (write it as an escape, e.g. \\n)", NULL);
        }
        if (c != '\\') {
            out[n++] = (char)c;
            continue;
        }
        char e = t[i + 1];
        /* JSON's one-character escapes, and what each stands for */
        static const char simple[] = "\"\\/nrtbf", meaning[] = "\"\\/\n\r\t\b\f";
        const char *k = e ? strchr(simple, e) : NULL;
        if (k) {
            out[n++] = meaning[k - simple];
            i++;
            continue;
        }
        switch (e) {
        case 'u': {
            int v = hex4(lx, i + 2);
            if (v < 0 || i + 6 > end) {
                lx->pos = end + 1;
                return lex_error(lx, i, 2, "bad \\u escape (expected 4 hex digits)", NULL);
            }
            unsigned cp = (unsigned)v;
            size_t used = 6;
            if (cp >= 0xD800 && cp <= 0xDBFF && i + 12 <= end && t[i + 6] == '\\' && t[i + 7] == 'u') {
                int lo = hex4(lx, i + 8);
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + ((unsigned)lo - 0xDC00);
                    used = 12;
                }
            }
            if (cp >= 0xD800 && cp <= 0xDFFF)
                cp = 0xFFFD;
            if (cp == 0) {
                lx->pos = end + 1;
                return lex_error(lx, i, used, "\\u0000 is not allowed in strings", NULL);
            }
            n += ah_utf8_encode(cp, (unsigned char *)out + n);
            i += used - 1;
            break;
        }
        default: {
            char esc[3] = {'\\', e, '\0'};
            lx->pos = end + 1;
            return lex_error(lx, i, 2, "unknown escape ", esc);
        }
        }
    }
    out[n] = '\0';
    lx->pos = end + 1;
    ahi_token tk = make(AHI_T_STRING, start, end + 1 - start);
    tk.s = out;
    tk.n = n;
    return tk;
}

static ahi_token lex_number(ahi_lexer *lx)
{
    size_t start = lx->pos, i = start;
    if (ch(lx, i) == '-')
        i++;
    while (cc(lx, i) == CC_DIGIT)
        i++;
    if (ch(lx, i) == '.' && cc(lx, i + 1) == CC_DIGIT) {
        i++;
        while (cc(lx, i) == CC_DIGIT)
            i++;
    }
    if ((ch(lx, i) == 'e' || ch(lx, i) == 'E') &&
        (cc(lx, i + 1) == CC_DIGIT || ((ch(lx, i + 1) == '+' || ch(lx, i + 1) == '-') && cc(lx, i + 2) == CC_DIGIT))) {
        i += 2;
        while (cc(lx, i) == CC_DIGIT)
            i++;
    }
    if (is_ident_char(cc(lx, i))) {
        size_t e = i;
        while (is_ident_char(cc(lx, e)) || ch(lx, e) == '-')
            e++;
        lx->pos = e;
        return lex_error(lx, start, e - start, "bad number (quote text that starts with a digit)", NULL);
    }
    char buf[64];
    size_t n = i - start;
    if (n >= sizeof buf) {
        lx->pos = i;
        return lex_error(lx, start, n, "number too long", NULL);
    }
    memcpy(buf, lx->src->text + start, n);
    buf[n] = '\0';
    ahi_token tk = make(AHI_T_NUMBER, start, n);
    tk.num = strtod(buf, NULL);
    tk.s = lx->src->text + start;
    tk.n = n;
    lx->pos = i;
    return tk;
}

static ahi_token lex_operator(ahi_lexer *lx)
{
    size_t start = lx->pos, i = start;
    while (cc(lx, i) == CC_OPER)
        i++;
    lx->pos = i;
    size_t n = i - start;
    const char *p = lx->src->text + start;
    static const struct {
        const char *s;
        ahi_tok t;
    } ops[] = {{"==", AHI_T_EQ}, {"=", AHI_T_ASSIGN}, {"!=", AHI_T_NE}, {"<", AHI_T_LT},
               {"<=", AHI_T_LE}, {">", AHI_T_GT},     {">=", AHI_T_GE}};
    for (size_t k = 0; k < AH_ARRAY_LEN(ops); k++)
        if (strlen(ops[k].s) == n && memcmp(ops[k].s, p, n) == 0)
            return make(ops[k].t, start, n);
    ahi_token tk = make(AHI_T_BADOP, start, n);
    tk.s = p;
    tk.n = n;
    return tk;
}

/* Inline JSON after `test hit|miss`: a balanced {...} or [...] (strings and
 * escapes tracked); validated later by the JSON parser. */
static ahi_token lex_json(ahi_lexer *lx)
{
    size_t start = lx->pos, i = start;
    const char *t = lx->src->text;
    size_t depth = 0;
    bool in_str = false;
    for (; i < lx->src->len; i++) {
        char c = t[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
            else if (c == '\n')
                break;
            continue;
        }
        if (c == '"')
            in_str = true;
        else if (c == '{' || c == '[')
            depth++;
        else if (c == '}' || c == ']') {
            if (--depth == 0) {
                i++;
                lx->pos = i;
                ahi_token tk = make(AHI_T_JSON, start, i - start);
                tk.s = t + start;
                tk.n = i - start;
                return tk;
            }
        }
    }
    lx->pos = lx->src->len;
    return lex_error(lx, start, 1,
                     in_str ? "unterminated string in inline JSON" : "unterminated inline JSON (unbalanced braces)",
                     NULL);
}

static ahi_token lex_regex(ahi_lexer *lx)
{
    size_t start = lx->pos, i = start + 1;
    const char *t = lx->src->text;
    size_t le = line_end(lx, start);
    while (i < le && t[i] != '/') {
        if (t[i] == '\\')
            i++;
        i++;
    }
    if (i >= le) {
        lx->pos = le;
        return lex_error(lx, start, le - start, "unterminated regex (a regex ends with / on the same line)", NULL);
    }
    size_t pend = i;
    i++;
    size_t fstart = i;
    while (cc(lx, i) == CC_ALPHA)
        i++;
    ahi_token tk = make(AHI_T_REGEX, start, i - start);
    if (i - fstart >= sizeof tk.flags) {
        lx->pos = i;
        return lex_error(lx, fstart, i - fstart, "too many regex flags", NULL);
    }
    memcpy(tk.flags, t + fstart, i - fstart);
    tk.flags[i - fstart] = '\0';
    tk.s = ahi_strndup(lx->arena, t + start + 1, pend - start - 1);
    tk.n = pend - start - 1;
    lx->pos = i;
    if (!tk.s)
        return lex_error(lx, start, 1, "out of memory", NULL);
    return tk;
}

static ahi_token lex_word(ahi_lexer *lx)
{
    size_t start = lx->pos, i = start;
    while (i < lx->src->len && is_word_char(lx, i))
        i++;
    lx->pos = i;
    ahi_token tk = make(AHI_T_WORD, start, i - start);
    tk.s = lx->src->text + start;
    tk.n = i - start;
    return tk;
}

ahi_token ahi_lex(ahi_lexer *lx, ahi_lexmode mode)
{
    skip_space(lx, mode == AHI_LEX_WORD);
    size_t start = lx->pos;
    if (start >= lx->src->len)
        return make(AHI_T_EOF, lx->src->len, 0);
    int c = cc(lx, start);
    char x = lx->src->text[start];

    if (mode == AHI_LEX_WORD) {
        if (c == CC_NL) {
            lx->pos++;
            return make(AHI_T_EOL, start, 1);
        }
        if (c == CC_QUOTE)
            return lex_string(lx);
        if (x == '}' || x == '{') {
            lx->pos++;
            return make(x == '}' ? AHI_T_RBRACE : AHI_T_LBRACE, start, 1);
        }
        if (is_word_char(lx, start))
            return lex_word(lx);
        lx->pos++;
        while (lx->pos < lx->src->len && ah_utf8_is_cont((unsigned char)lx->src->text[lx->pos]))
            lx->pos++;
        return lex_error(lx, start, 1, "unexpected character in a word list (words are separated by spaces)", NULL);
    }
    if (mode == AHI_LEX_REGEX && c == CC_SLASH)
        return lex_regex(lx);
    if (mode == AHI_LEX_TEST && (x == '{' || x == '['))
        return lex_json(lx);

    switch (c) {
    case CC_ALPHA: {
        size_t i = start + 1;
        while (is_ident_char(cc(lx, i)))
            i++;
        lx->pos = i;
        ahi_token tk = make(AHI_T_IDENT, start, i - start);
        tk.s = lx->src->text + start;
        tk.n = i - start;
        return tk;
    }
    case CC_DIGIT: return lex_number(lx);
    case CC_MINUS:
        if (cc(lx, start + 1) == CC_DIGIT)
            return lex_number(lx);
        lx->pos++;
        return lex_error(lx, start, 1, "unexpected '-'", NULL);
    case CC_QUOTE: return lex_string(lx);
    case CC_DOLLAR: {
        size_t i = start + 1;
        if (cc(lx, i) != CC_ALPHA) {
            lx->pos = i;
            return lex_error(lx, start, 1, "expected a variable name after '$' (letters, digits, _)", NULL);
        }
        while (is_ident_char(cc(lx, i)))
            i++;
        lx->pos = i;
        ahi_token tk = make(AHI_T_VAR, start, i - start);
        tk.s = lx->src->text + start + 1;
        tk.n = i - start - 1;
        return tk;
    }
    case CC_PUNCT: {
        lx->pos++;
        switch (x) {
        case '(': return make(AHI_T_LPAREN, start, 1);
        case ')': return make(AHI_T_RPAREN, start, 1);
        case '[': return make(AHI_T_LBRACK, start, 1);
        case ']': return make(AHI_T_RBRACK, start, 1);
        case '{': return make(AHI_T_LBRACE, start, 1);
        case '}': return make(AHI_T_RBRACE, start, 1);
        case ',': return make(AHI_T_COMMA, start, 1);
        case '.': return make(AHI_T_DOT, start, 1);
        case ':': return make(AHI_T_COLON, start, 1);
        default: return make(AHI_T_STAR, start, 1);
        }
    }
    case CC_OPER: return lex_operator(lx);
    case CC_SLASH:
        lx->pos++;
        return lex_error(lx, start, 1, "unexpected '/' (a /regex/ may only follow `matches`)", NULL);
    default: {
        lx->pos++;
        while (lx->pos < lx->src->len && ah_utf8_is_cont((unsigned char)lx->src->text[lx->pos]))
            lx->pos++;
        return lex_error(lx, start, lx->pos - start, "unexpected character", NULL);
    }
    }
}

void ahi_put_string(ah_buf *out, const char *s, size_t n)
{
    ah_buf_putc(out, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': ah_buf_puts(out, "\\\""); break;
        case '\\': ah_buf_puts(out, "\\\\"); break;
        case '\n': ah_buf_puts(out, "\\n"); break;
        case '\r': ah_buf_puts(out, "\\r"); break;
        case '\t': ah_buf_puts(out, "\\t"); break;
        default:
            if (c < 0x20 || c == 0x7f)
                ah_buf_printf(out, "\\u%04x", c);
            else
                ah_buf_putc(out, (char)c);
        }
    }
    ah_buf_putc(out, '"');
}
