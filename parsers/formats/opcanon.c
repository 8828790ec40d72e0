/*
 * opcanon.c: canonical operation names (see opcanon.h for the steps).
 *
 * Runs on every record, so it is a single forward pass that writes straight
 * into out's storage: the canonical form is never longer than the input
 * (every mapping shrinks or keeps length), so one reserve covers it.
 *
 * The dash spellings recognised, all mapped to '-':
 *   U+2013 E2 80 93, U+2014 E2 80 94, U+2212 E2 88 92, U+FFFD EF BF BD;
 *   mojibake of an en/em dash: "â€" (C3 A2 then E2 82 AC for cp1252, or
 *   C2 80 for Latin-1) followed by the third byte's rendering: E2 80 9C/9D
 *   (cp1252 0x93/0x94 as U+201C/U+201D, what real double-decoding yields),
 *   E2 80 93/94 (the dash itself, as the docs spell "â€“"), or C2 93/94
 *   (Latin-1). Any of these sequences is unambiguous in an operation name.
 * A '?' or '-' is a dash only when whitespace stands on both sides of it,
 * so "Set-Mailbox" and "What?" keep their characters.
 */
#include "opcanon.h"

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

static bool has_bytes(const unsigned char *p, size_t avail, const char *seq, size_t len)
{
    if (avail < len)
        return false;
    for (size_t i = 0; i < len; i++)
        if (p[i] != (unsigned char)seq[i])
            return false;
    return true;
}

/* Length of a dash spelling starting at p (0 when there is none). */
static size_t dash_len(const unsigned char *p, size_t avail)
{
    if (p[0] == 0xE2 && avail >= 3) {
        if (p[1] == 0x80 && (p[2] == 0x93 || p[2] == 0x94))
            return 3;
        if (p[1] == 0x88 && p[2] == 0x92)
            return 3;
        return 0;
    }
    if (p[0] == 0xEF)
        return has_bytes(p, avail, "\xEF\xBF\xBD", 3) ? 3 : 0;
    if (p[0] != 0xC3 || avail < 2 || p[1] != 0xA2)
        return 0;
    /* mojibake: "â", then the euro sign (cp1252) or U+0080 (Latin-1) */
    size_t k = 2;
    if (has_bytes(p + k, avail - k, "\xE2\x82\xAC", 3))
        k += 3;
    else if (has_bytes(p + k, avail - k, "\xC2\x80", 2))
        k += 2;
    else
        return 0;
    const unsigned char *q = p + k;
    size_t left = avail - k;
    if (left >= 3 && q[0] == 0xE2 && q[1] == 0x80 && (q[2] == 0x9C || q[2] == 0x9D || q[2] == 0x93 || q[2] == 0x94))
        return k + 3;
    if (left >= 2 && q[0] == 0xC2 && (q[1] == 0x93 || q[1] == 0x94))
        return k + 2;
    return 0;
}

ah_status ah_opcanon(ah_span op, ah_buf *out)
{
    ah_span t = ah_span_trim(op);
    if (!out)
        return AH_ERR_USAGE;
    if (t.n == 0)
        return AH_OK;
    ah_status st = ah_buf_reserve(out, t.n);
    if (st != AH_OK)
        return st;

    const unsigned char *p = (const unsigned char *)t.p;
    size_t n = t.n;
    if (p[n - 1] == '.')
        n--; /* one trailing '.', after trimming */

    char *w = out->data + out->len;
    char *start = w;
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        if (is_space(c)) {
            while (i < n && is_space(p[i]))
                i++;
            *w++ = ' ';
            continue;
        }
        if (c == '?' || c == '-') {
            bool alone = w > start && w[-1] == ' ' && i + 1 < n && is_space(p[i + 1]);
            *w++ = alone ? '-' : (char)c;
            i++;
            continue;
        }
        if (c >= 0x80) {
            size_t len = dash_len(p + i, n - i);
            if (len) {
                *w++ = '-';
                i += len;
                continue;
            }
        }
        *w++ = (char)ah_fold(c);
        i++;
    }
    out->len += (size_t)(w - start);
    out->data[out->len] = '\0';
    return AH_OK;
}
