/*
 * message.c: the one-line sentence of a row (see message.h).
 */
#include "message.h"

#include "../../parsers/util/utf8.h"

#include <string.h>

/* Append at most max bytes of s, cut on a character boundary with "…"
 * when longer; C0 controls and DEL become spaces (one line, no terminal
 * tricks). Invalid UTF-8 is left to the writers, which repair it. */
static ah_status put_part(ah_buf *out, ah_span s, size_t max)
{
    s = ah_span_trim(s);
    size_t n = s.n;
    bool cut = n > max;
    if (cut) {
        n = max;
        while (n > 0 && ((unsigned char)s.p[n] & 0xC0) == 0x80)
            n--; /* do not split a sequence */
    }
    ah_status st = AH_OK;
    size_t run = 0;
    for (size_t i = 0; i <= n && st == AH_OK; i++) {
        unsigned char c = i < n ? (unsigned char)s.p[i] : 0;
        if (i == n || c < 0x20 || c == 0x7f) {
            if (i > run)
                st = ah_buf_append(out, s.p + run, i - run);
            if (i < n && st == AH_OK)
                st = ah_buf_putc(out, ' ');
            run = i + 1;
        }
    }
    return st == AH_OK && cut ? ah_buf_puts(out, "\xE2\x80\xA6") : st;
}

static bool has(ah_span s) { return ah_span_trim(s).n > 0; }

/* The log the row's record (or its leading twin) came from. */
static bool source_is(ah_span source, const char *name)
{
    size_t n = strlen(name);
    return source.n >= n && memcmp(source.p, name, n) == 0 && (source.n == n || source.p[n] == '+');
}

static bool starts_with(ah_span s, const char *prefix)
{
    size_t n = strlen(prefix);
    return s.n >= n && memcmp(s.p, prefix, n) == 0;
}

static ah_status put_rules(ah_buf *out, const ah_row *row)
{
    ah_span sev = row->col[AH_COL_SEVERITY], titles = row->col[AH_COL_RULE_TITLE];
    if (!has(titles))
        return AH_OK;
    ah_status st = ah_buf_puts(out, " [");
    if (st == AH_OK)
        st = put_part(out, has(sev) ? sev : ah_span_cstr("rule"), 16);
    if (st == AH_OK)
        st = ah_buf_puts(out, "] ");
    return st == AH_OK ? put_part(out, titles, AH_MESSAGE_RULES_MAX) : st;
}

ah_status ah_row_message(const ah_row *row, ah_buf *out)
{
    const ah_span *c = row->col;
    ah_status st = AH_OK;
    if (row->kind == AH_ROW_CORRELATION) {
        /* The rule's details template already says who did what over the window. */
        st = ah_buf_putc(out, '[');
        if (st == AH_OK)
            st = put_part(out, has(c[AH_COL_SEVERITY]) ? c[AH_COL_SEVERITY] : ah_span_cstr("rule"), 16);
        if (st == AH_OK)
            st = ah_buf_puts(out, "] ");
        if (st == AH_OK)
            st = put_part(out, has(c[AH_COL_RULE_TITLE]) ? c[AH_COL_RULE_TITLE] : c[AH_COL_RULE_ID],
                          AH_MESSAGE_RULES_MAX);
        if (st == AH_OK && has(c[AH_COL_DETAILS])) {
            st = ah_buf_puts(out, ": ");
            if (st == AH_OK)
                st = put_part(out, c[AH_COL_DETAILS], AH_MESSAGE_RULES_MAX);
        }
        return st;
    }
    ah_span result = ah_span_trim(c[AH_COL_RESULT]);
    bool failed = starts_with(result, "failure");
    /* Without a user the application is the actor (a service principal's sign-in). */
    bool app_acts = !has(c[AH_COL_USER]) && has(c[AH_COL_APP]);
    st = put_part(out,
                  has(c[AH_COL_USER]) ? c[AH_COL_USER]
                  : app_acts          ? c[AH_COL_APP]
                                      : ah_span_cstr("(unknown actor)"),
                  AH_MESSAGE_PART_MAX);
    bool signin = source_is(c[AH_COL_SOURCE], "signin");
    if (st == AH_OK && signin) {
        st = ah_buf_puts(out, failed ? " failed to sign in" : " signed in");
        if (st == AH_OK && has(c[AH_COL_TARGET])) {
            st = ah_buf_puts(out, " to ");
            if (st == AH_OK)
                st = put_part(out, c[AH_COL_TARGET], AH_MESSAGE_PART_MAX);
        }
    } else if (st == AH_OK) {
        st = ah_buf_puts(out, " performed \"");
        if (st == AH_OK)
            st = put_part(out, has(c[AH_COL_OPERATION]) ? c[AH_COL_OPERATION] : ah_span_cstr("(no operation)"),
                          AH_MESSAGE_PART_MAX);
        if (st == AH_OK)
            st = ah_buf_putc(out, '"');
        if (st == AH_OK && has(c[AH_COL_TARGET])) {
            st = ah_buf_puts(out, " on ");
            if (st == AH_OK)
                st = put_part(out, c[AH_COL_TARGET], AH_MESSAGE_PART_MAX);
        }
    }
    if (st == AH_OK && has(c[AH_COL_APP]) && !app_acts) {
        st = ah_buf_puts(out, " with ");
        if (st == AH_OK)
            st = put_part(out, c[AH_COL_APP], AH_MESSAGE_PART_MAX);
    }
    if (st == AH_OK && has(c[AH_COL_IP])) {
        st = ah_buf_puts(out, " from ");
        if (st == AH_OK)
            st = put_part(out, c[AH_COL_IP], AH_MESSAGE_PART_MAX);
    }
    /* A success says nothing the verb did not; anything else is worth reading. */
    if (st == AH_OK && result.n && !ah_span_eq(result, "success") && !(signin && ah_span_eq(result, "failure"))) {
        st = ah_buf_puts(out, ", ");
        if (st == AH_OK)
            st = put_part(out, result, 64);
    }
    return st == AH_OK ? put_rules(out, row) : st;
}
