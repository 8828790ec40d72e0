/*
 * test_corr_util.h: helpers for the correlation tests: run phase 1 over
 * hand-built events, sort the observations by time as the hunt's external
 * sort does, run phase 2, and render every hit as one line of text so tests
 * can compare whole outputs.
 */
#ifndef TEST_CORR_UTIL_H
#define TEST_CORR_UTIL_H

#include "test_rules_util.h"

#include "analyzer/correlate/correlate.h"
#include "parsers/formats/timeparse.h"

typedef struct cobs {
    char *blob;
    size_t len;
    size_t idx;
    ah_time t;
} cobs;

typedef struct cobsv {
    cobs *v;
    size_t n, cap;
} cobsv;

static inline void cobs_collect(void *ud, const ah_observation *o)
{
    cobsv *V = ud;
    if (V->n == V->cap) {
        V->cap = V->cap ? V->cap * 2 : 16;
        V->v = realloc(V->v, V->cap * sizeof *V->v);
        assert_non_null(V->v);
    }
    ah_buf b;
    ah_buf_init(&b, 0);
    assert_int_equal(ah_observation_encode(o, &b), AH_OK);
    V->v[V->n].blob = b.data;
    V->v[V->n].len = b.len;
    V->v[V->n].idx = V->n;
    V->v[V->n].t = o->time;
    V->n++;
}

static inline int cobs_cmp(const void *a, const void *b)
{
    const cobs *x = a, *y = b;
    if (x->t.sec != y->t.sec)
        return x->t.sec < y->t.sec ? -1 : 1;
    if (x->t.nsec != y->t.nsec)
        return x->t.nsec < y->t.nsec ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static inline void cobsv_free(cobsv *V)
{
    for (size_t i = 0; i < V->n; i++)
        free(V->v[i].blob);
    free(V->v);
    memset(V, 0, sizeof *V);
}

/* Every hit as "rule time group=G value=V count=N ids=a,b details=D\n". */
static inline void chit_fn(void *ud, const ah_corr_hit *h)
{
    ah_buf *out = ud;
    char t[40];
    ah_buf_printf(out, "%s %s group=", ah_rule_metadata(h->rule)->id, ah_time_format(h->time, t));
    for (size_t i = 0; i < h->group.n; i++)
        ah_buf_putc(out, h->group.p[i] == 0x1f ? '|' : h->group.p[i]);
    ah_buf_printf(out, " value=%g count=%llu ids=", h->value, (unsigned long long)h->count);
    for (size_t i = 0; i < h->nrecord_ids; i++)
        ah_buf_printf(out, "%s%.*s", i ? "," : "", (int)h->record_ids[i].n, h->record_ids[i].p);
    ah_buf_printf(out, " details=%.*s\n", (int)h->details.n, h->details.p);
}

/* Sort V by time (ties in input order) and run phase 2; hits go to out. */
static inline ah_status corr_run(const ah_ruleset *rs, cobsv *V, size_t budget, ah_diag *d, ah_buf *out,
                                 const ah_time *base_from, const ah_time *base_to)
{
    qsort(V->v, V->n, sizeof *V->v, cobs_cmp);
    ah_correlator *c = ah_correlator_new(rs, budget, d);
    assert_non_null(c);
    if (base_from)
        assert_int_equal(ah_correlator_set_baseline(c, *base_from, *base_to), AH_OK);
    ah_status st = AH_OK;
    for (size_t i = 0; i < V->n && st == AH_OK; i++) {
        ah_observation o;
        assert_int_equal(ah_observation_decode(ah_span_make(V->v[i].blob, V->v[i].len), &o), AH_OK);
        st = ah_correlator_feed(c, &o, chit_fn, out);
    }
    if (st == AH_OK)
        st = ah_correlator_finish(c, chit_fn, out);
    ah_correlator_free(c);
    return st;
}

/* A hand-built event at `iso` time with a record id. */
static inline void cev(tevent *t, ah_source_kind src, const char *iso, const char *id)
{
    tevent_init(t, src);
    ah_time_parse tp;
    assert_int_equal(ah_time_parse_str(ah_span_cstr(iso), AH_DATE_ORDER_AUTO, &tp), AH_OK);
    t->ev.has_time = true;
    t->ev.time = tp.time;
    tevent_set(t, AH_F_RECORD_ID, id);
}

static inline ah_time ctime_of(const char *iso)
{
    ah_time_parse tp;
    assert_int_equal(ah_time_parse_str(ah_span_cstr(iso), AH_DATE_ORDER_AUTO, &tp), AH_OK);
    return tp.time;
}

#define assert_text_equal(got, want)                                                                                   \
    do {                                                                                                               \
        if (strcmp((got), (want)) != 0) {                                                                              \
            print_error("--- want:\n%s--- got:\n%s---\n", (want), (got));                                              \
            fail();                                                                                                    \
        }                                                                                                              \
    } while (0)

/* Compile text as l.rules: exactly one error, and it is `want`. */
static inline void expect_one_error(const char *text, const char *want)
{
    tdiag td;
    tdiag_init(&td);
    ah_status st;
    ah_ruleset *rs = trules(&td, "l.rules", text, &st);
    assert_int_equal(st, AH_ERR_SYNTAX);
    assert_diag_has(&td, want);
    if (td.d.count[AH_SEV_ERROR] != 1) {
        print_error("expected one error, got:\n%s\n", tdiag_str(&td));
        fail();
    }
    ah_ruleset_free(rs);
    tdiag_free(&td);
}

/* The fixture every correlation test file uses: rules compiled from text,
 * a matcher, the observations collected so far, an output buffer, and the
 * correlator's statistics of the last run. */
typedef struct corr_fixture {
    tdiag td;
    ah_ruleset *rs;
    ah_matcher *m;
    cobsv V;
    ah_buf out;
    ah_correlator_stats stats;
    ah_corr_rule_stats rule_stats;
} corr_fixture;

static inline int corr_fixture_setup(void **state, const char *name, const char *rules)
{
    corr_fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    tdiag_init(&f->td);
    ah_status st;
    f->rs = trules(&f->td, name, rules, &st);
    if (st != AH_OK) {
        fprintf(stderr, "%s", tdiag_str(&f->td));
        return -1;
    }
    f->m = ah_matcher_new(f->rs);
    ah_buf_init(&f->out, 0);
    *state = f;
    return 0;
}

static inline int corr_fixture_teardown(void **state)
{
    corr_fixture *f = *state;
    cobsv_free(&f->V);
    ah_buf_free(&f->out);
    ah_matcher_free(f->m);
    ah_ruleset_free(f->rs);
    tdiag_free(&f->td);
    free(f);
    return 0;
}

#endif
