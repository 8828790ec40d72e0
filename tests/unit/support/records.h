/*
 * records.h: helpers for the format normalization tests.
 *
 * Test records are written with single quotes for readability; fx_q turns
 * every ' into " (so \' becomes the JSON escape \"). CSV rows are given as
 * cell arrays (already unescaped, as the CSV reader hands them over).
 * Expected fields are given as a table indexed by ah_field_id; a field not
 * listed must be absent, so every field is asserted exactly.
 */
#ifndef AH_TEST_RECORDS_H
#define AH_TEST_RECORDS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "parsers/formats/formats.h"
#include "parsers/formats/timeparse.h"
#include "parsers/frame/jscan.h"

#define FX_MAX_COLS 160
#define FX_MAX_OWNED 512

typedef struct fx {
    ah_normalizer *n;
    ah_origin origin;
    ah_event ev;
    const char *why;
    ah_status st;
    char bind_why[256];
    ah_span hdr[FX_MAX_COLS];
    ah_span cells[FX_MAX_COLS];
    ah_csv_row row;
    char *owned[FX_MAX_OWNED];
    size_t nowned;
} fx;

static inline fx *fx_new_opts(ah_date_order order, size_t max_record, const char *path)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    ah_norm_options opt = {order, max_record};
    f->n = ah_normalizer_new(&opt);
    assert_non_null(f->n);
    f->origin.path = path ? path : "test.json";
    ah_normalizer_begin(f->n, &f->origin);
    return f;
}

static inline fx *fx_new(void) { return fx_new_opts(AH_DATE_ORDER_AUTO, 0, NULL); }

static inline void fx_free(fx *f)
{
    if (!f)
        return;
    ah_normalizer_free(f->n);
    for (size_t i = 0; i < f->nowned; i++)
        free(f->owned[i]);
    free(f);
}

/* A copy of s with ' turned into " (kept until fx_free). */
static inline char *fx_q(fx *f, const char *s)
{
    assert_true(f->nowned < FX_MAX_OWNED);
    char *c = strdup(s);
    assert_non_null(c);
    for (char *p = c; *p; p++)
        if (*p == '\'')
            *p = '"';
    f->owned[f->nowned++] = c;
    return c;
}

/* Normalize a JSON record given in quote notation. */
static inline ah_status fx_json(fx *f, const char *quoted)
{
    const char *text = fx_q(f, quoted);
    ah_json_record rec = {ah_span_cstr(text), 7, 3, NULL};
    f->why = NULL;
    f->st = ah_normalize_json(f->n, &rec, &f->ev, &f->why);
    return f->st;
}

/* Normalize JSON text exactly as given (no quote conversion). */
static inline ah_status fx_json_raw(fx *f, const char *text, size_t len)
{
    ah_json_record rec = {ah_span_make(text, len), 1, 1, NULL};
    f->why = NULL;
    f->st = ah_normalize_json(f->n, &rec, &f->ev, &f->why);
    return f->st;
}

static inline const ah_format *fx_bind(fx *f, const char *const *names, size_t n)
{
    assert_true(n <= FX_MAX_COLS);
    for (size_t i = 0; i < n; i++)
        f->hdr[i] = ah_span_cstr(fx_q(f, names[i]));
    f->bind_why[0] = '\0';
    return ah_normalizer_bind_csv(f->n, f->hdr, n, f->bind_why, sizeof f->bind_why);
}

/* Normalize one CSV row (cells in quote notation). */
static inline ah_status fx_row(fx *f, const char *const *cells, size_t n)
{
    assert_true(n <= FX_MAX_COLS);
    for (size_t i = 0; i < n; i++)
        f->cells[i] = ah_span_cstr(fx_q(f, cells[i]));
    f->row.ncells = n;
    f->row.cells = f->cells;
    f->row.record_no = 5;
    f->row.line_no = 6;
    f->why = NULL;
    f->st = ah_normalize_csv(f->n, &f->row, &f->ev, &f->why);
    return f->st;
}

static inline bool fx_span_is(ah_span s, const char *want)
{
    if (!want)
        return s.p == NULL && s.n == 0;
    return s.p && s.n == strlen(want) && memcmp(s.p, want, s.n) == 0;
}

static inline void fx_assert_span(const char *what, ah_span s, const char *want)
{
    if (!fx_span_is(s, want)) {
        print_error("%s: want %s%s%s, got %s%.*s%s\n", what, want ? "'" : "", want ? want : "(absent)", want ? "'" : "",
                    s.p ? "'" : "", s.p ? (int)s.n : 8, s.p ? s.p : "(absent)", s.p ? "'" : "");
        fail();
    }
}

/* Every field exactly: those not in want must be absent. */
/* Normalize one quoted JSON record and check its result and result code. */
static inline void fx_expect_result(const char *quoted, ah_result want, const char *code)
{
    fx *f = fx_new();
    assert_int_equal(fx_json(f, quoted), AH_OK);
    if (f->ev.result != want) {
        print_error("%s: result %s\n", quoted, ah_result_name(f->ev.result));
        fail();
    }
    fx_assert_span(quoted, f->ev.field[AH_F_RESULT_CODE], code);
    fx_free(f);
}

static inline void fx_expect(const ah_event *ev, const char *const want[AH_F_COUNT])
{
    for (int i = 0; i < AH_F_COUNT; i++)
        fx_assert_span(ah_field_name((ah_field_id)i), ev->field[i], want[i]);
}

static inline void fx_expect_time(const ah_event *ev, const char *iso)
{
    if (!iso) {
        assert_false(ev->has_time);
        return;
    }
    assert_true(ev->has_time);
    char buf[40];
    assert_string_equal(ah_time_format(ev->time, buf), iso);
}

static inline void fx_expect_format(const ah_event *ev, const char *name, ah_source_kind source)
{
    assert_non_null(ev->format);
    assert_string_equal(ev->format->name, name);
    assert_int_equal(ev->source, source);
    assert_ptr_equal(ev->format, ah_format_by_name(name));
}

/* raw and body are complete JSON objects. */
static inline void fx_expect_json(const ah_event *ev)
{
    assert_true(ah_json_valid(ev->raw));
    assert_true(ah_json_valid(ev->body));
    assert_int_equal(ah_json_type_of(ev->raw), AH_JSON_OBJECT);
    assert_int_equal(ah_json_type_of(ev->body), AH_JSON_OBJECT);
}

static inline bool fx_digest_eq(const uint64_t a[2], const uint64_t b[2]) { return a[0] == b[0] && a[1] == b[1]; }

/* The body compared as text, expected in quote notation. */
static inline void fx_expect_body(fx *f, const char *quoted) { fx_assert_span("body", f->ev.body, fx_q(f, quoted)); }

#endif
