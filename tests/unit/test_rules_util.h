/*
 * test_rules_util.h: shared helpers for the rule-engine tests: a diag
 * sink that records every message, hand-built events (no dependency on the
 * normalizer), and one-call compile helpers.
 */
#ifndef TEST_RULES_UTIL_H
#define TEST_RULES_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analyzer/rules/rules.h"
#include "parsers/formats/opcanon.h"

/* Collects diagnostics as "E|W|N <message>\n" lines. */
typedef struct tdiag {
    ah_diag d;
    ah_buf text;
} tdiag;

static inline void tdiag_fn(void *ud, ah_severity sev, const ah_where *w, const char *msg)
{
    (void)w;
    tdiag *t = ud;
    ah_buf_printf(&t->text, "%c %s\n", sev == AH_SEV_ERROR ? 'E' : sev == AH_SEV_WARNING ? 'W' : 'N', msg);
}

static inline void tdiag_init(tdiag *t)
{
    memset(t, 0, sizeof *t);
    t->d.fn = tdiag_fn;
    t->d.ud = t;
    ah_buf_init(&t->text, 0);
}

static inline void tdiag_free(tdiag *t) { ah_buf_free(&t->text); }
static inline const char *tdiag_str(const tdiag *t) { return ah_buf_cstr(&t->text); }

/* Assert that the diagnostics contain `needle`, printing them otherwise. */
#define assert_diag_has(td, needle)                                                                                    \
    do {                                                                                                               \
        if (!strstr(tdiag_str(td), (needle))) {                                                                        \
            print_error("diagnostics do not contain:\n%s\n--- got:\n%s\n", (needle), tdiag_str(td));                   \
            fail();                                                                                                    \
        }                                                                                                              \
    } while (0)

/* A hand-built event that owns its strings. */
typedef struct tevent {
    ah_event ev;
    ah_buf canon;
    char *owned[AH_F_COUNT + 2];
} tevent;

static inline void tevent_init(tevent *t, ah_source_kind src)
{
    memset(t, 0, sizeof *t);
    t->ev.source = src;
    ah_buf_init(&t->canon, 0);
}

static inline void tevent_free(tevent *t)
{
    ah_buf_free(&t->canon);
    for (size_t i = 0; i < AH_ARRAY_LEN(t->owned); i++)
        free(t->owned[i]);
}

static inline void tevent_set(tevent *t, ah_field_id f, const char *v)
{
    free(t->owned[f]);
    t->owned[f] = v ? strdup(v) : NULL;
    t->ev.field[f] = v ? ah_span_cstr(t->owned[f]) : AH_SPAN_NULL;
    if (f == AH_F_OPERATION) {
        ah_buf_reset(&t->canon);
        if (v) {
            ah_opcanon(ah_span_cstr(v), &t->canon);
            t->ev.operation_canon = ah_span_make(t->canon.data ? t->canon.data : "", t->canon.len);
        } else {
            t->ev.operation_canon = AH_SPAN_NULL;
        }
    }
}

/* body == NULL: body is the same text as raw. */
static inline void tevent_json(tevent *t, const char *raw, const char *body)
{
    free(t->owned[AH_F_COUNT]);
    free(t->owned[AH_F_COUNT + 1]);
    t->owned[AH_F_COUNT] = raw ? strdup(raw) : NULL;
    t->owned[AH_F_COUNT + 1] = body ? strdup(body) : NULL;
    t->ev.raw = raw ? ah_span_cstr(t->owned[AH_F_COUNT]) : AH_SPAN_NULL;
    t->ev.body = body ? ah_span_cstr(t->owned[AH_F_COUNT + 1]) : t->ev.raw;
}

/* Compile rule text (file name "t.rules" unless given); returns the ruleset
 * (never NULL) and the compile status in *st. */
static inline ah_ruleset *trules(tdiag *td, const char *name, const char *text, ah_status *st)
{
    ah_ruleset *rs = ah_ruleset_new(&td->d);
    assert_non_null(rs);
    ah_status s1 = ah_ruleset_load_string(rs, name ? name : "t.rules", text, strlen(text));
    ah_status s2 = ah_ruleset_compile(rs);
    if (st)
        *st = s1 != AH_OK ? s1 : s2;
    return rs;
}

/* Evaluate an expression on an event: 1 true, 0 false, -1 compile error
 * (printed). */
static inline int texpr(const char *expr, const ah_event *ev)
{
    tdiag td;
    tdiag_init(&td);
    ah_expr *e = ah_expr_compile(expr, NULL, &td.d, NULL);
    if (!e) {
        print_message("compile error for %s:\n%s", expr, tdiag_str(&td));
        tdiag_free(&td);
        return -1;
    }
    ah_matcher *m = ah_matcher_new(NULL);
    int r = ah_expr_eval(m, e, ev) ? 1 : 0;
    ah_matcher_free(m);
    ah_expr_free(e);
    tdiag_free(&td);
    return r;
}

/* The first diagnostic of an expression that fails to compile ("" if it compiles). */
static inline char *texpr_error(const char *expr)
{
    tdiag td;
    tdiag_init(&td);
    ah_expr *e = ah_expr_compile(expr, NULL, &td.d, NULL);
    char *r = strdup(tdiag_str(&td));
    ah_expr_free(e);
    tdiag_free(&td);
    return r;
}

/* Whole small file (test data) as a malloc'd string. */
static inline char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    ah_buf b;
    ah_buf_init(&b, 0);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        ah_buf_append(&b, chunk, n);
    fclose(f);
    return b.data ? b.data : strdup("");
}

static inline const char *corpus_dir(void)
{
    const char *c = getenv("AH_CORPUS");
    return c && *c ? c : "../shared/corpus";
}

#endif
