/*
 * csvcell.c: quoting, formula neutralisation and Excel-limit truncation of
 * one CSV cell (see csvcell.h). Two passes over the text: the first counts
 * UTF-16 units to decide on truncation, the second emits.
 */
#include "csvcell.h"

#include <stdio.h>
#include <string.h>

#include "../../parsers/util/utf8.h"

static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */
static const char ellipsis[] = "\xE2\x80\xA6";    /* U+2026, one UTF-16 unit */

/* Control characters a spreadsheet would hide (NUL above all): shown as \xNN
 * so the cell shows what the record held. Tab and line ends stay. */
static bool hidden_control(unsigned char c) { return (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f; }

bool ah_csvout_needs_neutralising(ah_span text)
{
    if (text.n == 0)
        return false;
    const unsigned char *p = (const unsigned char *)text.p;
    switch (p[0]) {
    case '=':
    case '+':
    case '-':
    case '@':
    case '\t':
    case '\r': return true;
    default: break;
    }
    /* U+FF1D U+FF0B U+FF0D U+FF20: EF BC 9D / 8B / 8D, EF BC A0 */
    return text.n >= 3 && p[0] == 0xEF && p[1] == 0xBC &&
           (p[2] == 0x9D || p[2] == 0x8B || p[2] == 0x8D || p[2] == 0xA0);
}

static size_t decimal_digits(size_t v)
{
    size_t d = 1;
    while (v >= 10) {
        v /= 10;
        d++;
    }
    return d;
}

#define MARKER_HEAD "[truncated "
#define MARKER_TAIL " chars]"

/* One cell's text; `quoted` adds the CSV quotes (and doubles '"' inside). */
static ah_status emit_cell(ah_buf *out, ah_span text, bool quoted, bool excel_safe, size_t max_units, unsigned *flags)
{
    const unsigned char *p = (const unsigned char *)(text.p ? text.p : "");
    size_t n = text.p ? text.n : 0;
    unsigned f = 0;
    size_t units = 0, quotes = 0, bad = 0, ctl = 0;
    for (size_t i = 0; i < n;) {
        size_t k = ah_utf8_seq_len(p + i, n - i);
        if (k == 0) {
            bad++;
            units++;
            i++;
            continue;
        }
        if (hidden_control(p[i])) {
            ctl++;
            units += 4; /* shown as \xNN */
            i++;
            continue;
        }
        units += k == 4 ? 2 : 1;
        quotes += quoted && p[i] == '"';
        i += k;
    }
    size_t prefix = excel_safe && ah_csvout_needs_neutralising(text) ? 1 : 0;
    size_t budget = SIZE_MAX; /* content units we may keep */
    size_t marker_max = 0;
    if (max_units && prefix + units > max_units) {
        /* The marker's length depends on the count it reports. Start from
         * digits(units), an upper bound, and tighten while fewer digits
         * suffice. If a surrogate pair then keeps one unit less than the
         * budget, the count may gain a digit, but the total still fits. */
        size_t fixed = 1 + strlen(MARKER_HEAD) + strlen(MARKER_TAIL);
        size_t digits = decimal_digits(units);
        for (;;) {
            marker_max = fixed + digits;
            budget = max_units > prefix + marker_max ? max_units - prefix - marker_max : 0;
            size_t need = decimal_digits(units - budget);
            if (need >= digits)
                break;
            digits = need;
        }
        f |= AH_CELL_TRUNCATED;
    }
    if (prefix)
        f |= AH_CELL_NEUTRALISED;
    if (bad)
        f |= AH_CELL_REPAIRED;
    if (ctl)
        f |= AH_CELL_ESCAPED;
    /* Reserve the worst case once, so a failure leaves out untouched. */
    size_t worst = n + quotes + bad * 2 + ctl * 3 + prefix + 2 + (marker_max ? marker_max + 2 + 24 : 0);
    ah_status st = ah_buf_reserve(out, worst);
    if (st != AH_OK)
        return st;
    char *w = out->data + out->len;
    if (quoted)
        *w++ = '"';
    if (prefix)
        *w++ = '\'';
    size_t kept = 0;
    for (size_t i = 0; i < n;) {
        size_t k = ah_utf8_seq_len(p + i, n - i);
        bool control = k == 1 && hidden_control(p[i]);
        size_t u = control ? 4 : k == 4 ? 2 : 1;
        if (kept + u > budget)
            break;
        kept += u;
        if (control) {
            w += sprintf(w, "\\x%02x", p[i]);
            i++;
            continue;
        }
        if (k == 0) {
            memcpy(w, replacement, 3);
            w += 3;
            i++;
            continue;
        }
        if (quoted && p[i] == '"')
            *w++ = '"';
        memcpy(w, p + i, k);
        w += k;
        i += k;
    }
    if (f & AH_CELL_TRUNCATED) {
        memcpy(w, ellipsis, 3);
        w += 3;
        w += sprintf(w, MARKER_HEAD "%zu" MARKER_TAIL, units - kept);
    }
    if (quoted)
        *w++ = '"';
    out->len = (size_t)(w - out->data);
    out->data[out->len] = '\0';
    if (flags)
        *flags = f;
    return AH_OK;
}

ah_status ah_csvout_cell(ah_buf *out, ah_span text, bool excel_safe, size_t max_units, unsigned *flags)
{
    return emit_cell(out, text, true, excel_safe, max_units, flags);
}

ah_status ah_cell_text(ah_buf *out, ah_span text, size_t max_units, unsigned *flags)
{
    return emit_cell(out, text, false, false, max_units, flags);
}
