/*
 * norm_emit.c: a minimal JSON object writer for the bodies synthesized
 * from portal CSV rows. Values come from attacker-controlled cells, so
 * every string goes through ah_json_write_string; the writer only tracks
 * commas and nesting. The first error sticks (checked once at the end).
 */
#include "norm.h"

#include <string.h>

void ah_jw_begin(ah_jw *w, ah_buf *b)
{
    memset(w, 0, sizeof *w);
    w->b = b;
}

static void key_prefix(ah_jw *w, const char *key)
{
    if (w->st != AH_OK)
        return;
    if (w->depth > 0) {
        if (w->need_comma[w->depth - 1])
            w->st = ah_buf_putc(w->b, ',');
        w->need_comma[w->depth - 1] = true;
    }
    if (key && w->st == AH_OK) {
        w->st = ah_json_write_string(w->b, ah_span_cstr(key));
        if (w->st == AH_OK)
            w->st = ah_buf_putc(w->b, ':');
    }
}

void ah_jw_open(ah_jw *w, const char *key, char bracket)
{
    if (w->depth >= AH_ARRAY_LEN(w->need_comma)) {
        w->st = AH_ERR_USAGE;
        return;
    }
    key_prefix(w, key);
    if (w->st == AH_OK)
        w->st = ah_buf_putc(w->b, bracket);
    w->need_comma[w->depth++] = false;
}

void ah_jw_close(ah_jw *w, char bracket)
{
    if (w->st == AH_OK)
        w->st = ah_buf_putc(w->b, bracket);
    if (w->depth)
        w->depth--;
}

void ah_jw_str(ah_jw *w, const char *key, ah_span v)
{
    if (ah_span_blank(v))
        return;
    key_prefix(w, key);
    if (w->st == AH_OK)
        w->st = ah_json_write_string(w->b, v);
}

void ah_jw_raw(ah_jw *w, const char *key, ah_span json)
{
    key_prefix(w, key);
    if (w->st == AH_OK)
        w->st = ah_buf_append_span(w->b, json);
}

bool ah_is_json_integer(ah_span v)
{
    size_t i = v.n && v.p[0] == '-' ? 1 : 0;
    if (i >= v.n || v.n - i > 18)
        return false;
    if (v.p[i] == '0')
        return v.n == i + 1;
    for (; i < v.n; i++)
        if (v.p[i] < '0' || v.p[i] > '9')
            return false;
    return true;
}

void ah_jw_num_or_str(ah_jw *w, const char *key, ah_span v)
{
    ah_span t = ah_span_trim(v);
    if (ah_is_json_integer(t))
        ah_jw_raw(w, key, t);
    else
        ah_jw_str(w, key, v);
}

void ah_jw_bool_or_str(ah_jw *w, const char *key, ah_span v)
{
    ah_span t = ah_span_trim(v);
    if (ah_span_eq_ci(t, "true"))
        ah_jw_raw(w, key, ah_span_cstr("true"));
    else if (ah_span_eq_ci(t, "false"))
        ah_jw_raw(w, key, ah_span_cstr("false"));
    else
        ah_jw_str(w, key, v);
}
