/*
 * rtest.c: `test-rules`, the runner for tests embedded in rule files.
 *
 * A test is a record in any supported export shape, inline (JSON) or in a
 * file (JSON in any framing the splitter accepts, or CSV). Each record is
 * normalized by the same detector and normalizer `hunt` uses, then matched
 * through the same index and matcher, so a passing test means the shipped
 * pipeline really fires (or stays quiet) on that record. Rules with
 * `test set` values are tested with their test-variable instance.
 *
 * Test files resolve against the rule file's directory first, then the
 * current directory (the repository root when run from it), as lint checks.
 *
 * It lives in engine, above rules and correlate, because a series test
 * replays observations through the correlator; it reads the rules' private
 * header for the tests they embed. The entry points stay declared in
 * rules.h (ah_ruleset_run_tests, ah_rule_test_format).
 */
#include "../rules/rules_private.h" /* the rules' embedded tests and test-variable instances */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "../../parsers/formats/formats.h"
#include "../../parsers/frame/csv.h"
#include "../../parsers/frame/jsonsplit.h"
#include "../../parsers/util/utf8.h"
#include "../correlate/correlate.h"

#define TEST_MAX_RECORD (16u << 20)

typedef struct runner {
    const ah_ruleset *rs;
    ah_matcher *m;
    ah_normalizer *norm;
    ah_rule_test_fn fn;
    void *ud;
    ah_rule_test_totals *tot;
    ah_buf evtext;
} runner;

/* Compact JSON for display: drop whitespace outside strings, cut at the
 * display limit (on a UTF-8 boundary). */
static ah_span compact(ah_buf *out, ah_span s)
{
    ah_buf_reset(out);
    bool in_str = false;
    for (size_t i = 0; i < s.n; i++) {
        char c = s.p[i];
        if (in_str) {
            if (c == '\\' && i + 1 < s.n) {
                ah_buf_putc(out, c);
                c = s.p[++i];
            } else if (c == '"') {
                in_str = false;
            }
        } else if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            continue;
        } else if (c == '"') {
            in_str = true;
        }
        ah_buf_putc(out, c);
        if (out->len > AHI_EVENT_TEXT_MAX) { /* the byte after the cut is in the buffer now */
            ah_buf_truncate(out, ah_utf8_cut(out->data, AHI_EVENT_TEXT_MAX));
            ah_buf_puts(out, "\xE2\x80\xA6");
            break;
        }
    }
    return ah_buf_status(out) == AH_OK ? ah_buf_span(out) : ah_span_cstr("(not shown: out of memory)");
}

static void report(runner *R, ah_rule_test_case *tc)
{
    bool ok = tc->series_len && tc->expect_hits >= 0 ? tc->got_hits == (uint64_t)tc->expect_hits
                                                     : tc->got_hit == tc->expect_hit;
    tc->passed = !tc->error && !tc->skipped && ok;
    if (tc->skipped)
        R->tot->skipped++;
    else if (tc->passed)
        R->tot->passed++;
    else
        R->tot->failed++;
    if (R->fn)
        R->fn(R->ud, tc);
}

static void run_event(runner *R, ah_rule_test_case *tc, const ah_event *ev, bool use_test_cond)
{
    tc->got_hit = ahi_rule_hits(R->m, ev, tc->rule, use_test_cond);
    report(R, tc);
}

/* Report tc as one that cannot run: `error`, or `fallback` when that is NULL. */
static void report_error(runner *R, ah_rule_test_case *tc, const char *error, const char *fallback)
{
    tc->error = error ? error : fallback;
    report(R, tc);
}

/* Normalize one JSON record and run the rule over it. */
static void run_json_record(runner *R, ah_rule_test_case *tc, const ah_json_record *rec, bool use_test_cond)
{
    tc->event = compact(&R->evtext, rec->text);
    ah_event ev;
    memset(&ev, 0, sizeof ev);
    const char *why = NULL;
    if (ah_normalize_json(R->norm, rec, &ev, &why) != AH_OK)
        report_error(R, tc, why, "the record was not recognised");
    else
        run_event(R, tc, &ev, use_test_cond);
}

/* A FILE* as an ah_reader; a UTF-8 BOM at the start is skipped. */
typedef struct file_reader {
    FILE *f;
    bool started;
} file_reader;

static ssize_t file_read(void *ctx, char *buf, size_t n)
{
    file_reader *fr = ctx;
    size_t got = fread(buf, 1, n, fr->f);
    if (got == 0)
        return ferror(fr->f) ? -1 : 0;
    if (!fr->started) {
        fr->started = true;
        if (got >= 3 && (unsigned char)buf[0] == 0xEF && (unsigned char)buf[1] == 0xBB && (unsigned char)buf[2] == 0xBF) {
            memmove(buf, buf + 3, got - 3);
            got -= 3;
            if (got == 0)
                return file_read(ctx, buf, n);
        }
    }
    return (ssize_t)got;
}

static void run_json_file(runner *R, ah_rule_test_case *base, FILE *f, bool use_test_cond)
{
    file_reader fr = {f, false};
    ah_reader rd = {file_read, &fr};
    ah_jsplit *sp = ah_jsplit_new(&rd, TEST_MAX_RECORD);
    if (!sp) {
        ah_rule_test_case tc = *base;
        report_error(R, &tc, "out of memory", NULL);
        return;
    }
    size_t records = 0;
    for (;;) {
        ah_json_record rec;
        memset(&rec, 0, sizeof rec);
        ah_status st = ah_jsplit_next(sp, &rec);
        if (st == AH_END)
            break;
        ah_rule_test_case tc = *base;
        tc.record_no = rec.record_no;
        records++;
        if (st != AH_OK) {
            report_error(R, &tc, ah_jsplit_error(sp), "unreadable record");
            if (st == AH_ERR_STREAM)
                break;
            continue;
        }
        run_json_record(R, &tc, &rec, use_test_cond);
    }
    ah_jsplit_free(sp);
    if (records == 0) {
        ah_rule_test_case tc = *base;
        report_error(R, &tc, "no records in the test file", NULL);
    }
}

static void run_csv_file(runner *R, ah_rule_test_case *base, FILE *f, bool use_test_cond)
{
    file_reader fr = {f, false};
    ah_reader rd = {file_read, &fr};
    ah_csv *csv = ah_csv_new(&rd, TEST_MAX_RECORD);
    ah_span *hdr = NULL;
    ah_rule_test_case tc = *base;
    if (!csv) {
        report_error(R, &tc, "out of memory", NULL);
        return;
    }
    if (ah_csv_read_header(csv) != AH_OK) {
        report_error(R, &tc, "no CSV header", NULL);
        goto out;
    }
    size_t ncols = ah_csv_ncols(csv);
    hdr = calloc(ncols ? ncols : 1, sizeof *hdr);
    if (!hdr) {
        report_error(R, &tc, "out of memory", NULL);
        goto out;
    }
    for (size_t i = 0; i < ncols; i++)
        hdr[i] = ah_csv_header(csv, i);
    char why_buf[256];
    why_buf[0] = '\0';
    if (!ah_normalizer_bind_csv(R->norm, hdr, ncols, why_buf, sizeof why_buf)) {
        report_error(R, &tc, why_buf[0] ? why_buf : NULL, "unrecognised CSV header");
        goto out;
    }
    size_t records = 0;
    for (;;) {
        ah_csv_row row;
        ah_status st = ah_csv_next(csv, &row);
        if (st == AH_END)
            break;
        tc = *base;
        tc.record_no = row.record_no;
        records++;
        if (st != AH_OK) {
            report_error(R, &tc, ah_csv_error(csv), "unreadable CSV record");
            if (st == AH_ERR_STREAM)
                break;
            continue;
        }
        ah_event ev;
        memset(&ev, 0, sizeof ev);
        const char *why = NULL;
        if (ah_normalize_csv(R->norm, &row, &ev, &why) != AH_OK) {
            report_error(R, &tc, why, "the record was not recognised");
            continue;
        }
        tc.event = compact(&R->evtext, ev.raw);
        run_event(R, &tc, &ev, use_test_cond);
    }
    if (records == 0) {
        tc = *base;
        report_error(R, &tc, "no records in the test file", NULL);
    }
out:
    free(hdr);
    ah_csv_free(csv);
}

/* --- correlation tests: a series of records ------------------------------ */

typedef struct series {
    const ah_rule *rule;
    struct sobs {
        char *blob;
        size_t len;
        size_t idx;
        ah_time t;
    } *v;
    size_t n, cap;
    bool nomem;
    uint64_t hits;
} series;

static void series_collect(void *ud, const ah_observation *obs)
{
    series *S = ud;
    if (obs->rule != S->rule || S->nomem)
        return;
    if (S->n == S->cap) {
        struct sobs *nv = ah_grow_array(S->v, &S->cap, 16, sizeof *nv);
        if (!nv) {
            S->nomem = true;
            return;
        }
        S->v = nv;
    }
    ah_buf b;
    ah_buf_init(&b, 0);
    if (ah_observation_encode(obs, &b) != AH_OK) {
        ah_buf_free(&b);
        S->nomem = true;
        return;
    }
    S->v[S->n].blob = b.data;
    S->v[S->n].len = b.len;
    S->v[S->n].idx = S->n;
    S->v[S->n].t = obs->time;
    S->n++;
}

/* Time order, ties in input order: what the hunt's external sort gives. */
static int sobs_cmp(const void *a, const void *b)
{
    const struct sobs *x = a, *y = b;
    if (x->t.sec != y->t.sec)
        return x->t.sec < y->t.sec ? -1 : 1;
    if (x->t.nsec != y->t.nsec)
        return x->t.nsec < y->t.nsec ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static void series_hit(void *ud, const ah_corr_hit *hit)
{
    series *S = ud;
    if (hit->rule == S->rule)
        S->hits++;
}

static ssize_t mem_read(void *ctx, char *buf, size_t n)
{
    ah_span *s = ctx;
    size_t k = s->n < n ? s->n : n;
    memcpy(buf, s->p, k);
    s->p += k;
    s->n -= k;
    return (ssize_t)k;
}

/* Run phase 1 over every record of the series in the given order, sort the
 * observations by time, run phase 2, and compare the number of hits. */
static void run_series(runner *R, ah_rule_test_case *tc, const ahi_test *t, FILE *f)
{
    series S;
    memset(&S, 0, sizeof S);
    S.rule = tc->rule;
    ah_span mem = ah_span_make(t->text, t->n);
    file_reader fr = {f, false};
    ah_reader rd = f ? (ah_reader){file_read, &fr} : (ah_reader){mem_read, &mem};
    ah_jsplit *sp = ah_jsplit_new(&rd, TEST_MAX_RECORD);
    ah_correlator *c = NULL;
    const char *error = NULL;
    if (!sp) {
        error = "out of memory";
        goto out;
    }
    for (;;) {
        ah_json_record rec;
        memset(&rec, 0, sizeof rec);
        ah_status st = ah_jsplit_next(sp, &rec);
        if (st == AH_END)
            break;
        tc->series_len++;
        if (st != AH_OK) {
            tc->record_no = rec.record_no;
            error = ah_jsplit_error(sp);
            error = error ? error : "unreadable record";
            goto out;
        }
        ah_event ev;
        memset(&ev, 0, sizeof ev);
        const char *why = NULL;
        if (ah_normalize_json(R->norm, &rec, &ev, &why) != AH_OK) {
            tc->record_no = rec.record_no;
            tc->event = compact(&R->evtext, rec.text);
            error = why ? why : "the record was not recognised";
            goto out;
        }
        if (!ev.has_time) {
            tc->record_no = rec.record_no;
            tc->event = compact(&R->evtext, rec.text);
            error = "the record has no time (a series needs event times)";
            goto out;
        }
        ah_matcher_observe(R->m, &ev, series_collect, &S);
    }
    if (!tc->series_len) {
        error = "no records in the test series";
        goto out;
    }
    if (S.nomem) {
        error = "out of memory";
        goto out;
    }
    if (S.n)
        qsort(S.v, S.n, sizeof *S.v, sobs_cmp);
    ah_diag quiet = {.fn = NULL};
    c = ah_correlator_new(R->rs, 0, &quiet);
    if (!c) {
        error = "out of memory";
        goto out;
    }
    for (size_t i = 0; i < S.n; i++) {
        ah_observation o;
        if (ah_observation_decode(ah_span_make(S.v[i].blob, S.v[i].len), &o) != AH_OK ||
            ah_correlator_feed(c, &o, series_hit, &S) != AH_OK) {
            error = "the correlation engine refused an observation";
            goto out;
        }
    }
    ah_correlator_finish(c, series_hit, &S);
    tc->got_hits = S.hits;
    tc->got_hit = S.hits > 0;
out:
    ah_correlator_free(c);
    ah_jsplit_free(sp);
    for (size_t i = 0; i < S.n; i++)
        free(S.v[i].blob);
    free(S.v);
    if (error)
        report_error(R, tc, error, NULL);
    else
        report(R, tc);
}

static bool is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static void run_test(runner *R, const ah_rule *r, const ahi_test *t)
{
    ah_rule_test_case tc;
    memset(&tc, 0, sizeof tc);
    tc.rule = r;
    tc.file = r->meta.file;
    tc.line = t->line;
    tc.expect_hit = t->expect_hit;
    if (r->failed) {
        report_error(R, &tc, "the rule has errors", NULL);
        return;
    }
    tc.expect_hits = t->expect_hits;
    if (r->corr) {
        if (r->meta.skipped || r->test_skipped) {
            tc.skipped = r->test_skipped ? r->test_skipped : r->meta.skipped;
            report(R, &tc);
            return;
        }
        tc.series_len = 0;
        if (t->inline_json) {
            ah_origin origin = {r->meta.file, NULL, 0};
            ah_normalizer_begin(R->norm, &origin);
            run_series(R, &tc, t, NULL);
            return;
        }
    }
    bool use_test_cond = r->test_cond != NULL;
    if (!r->cond && !use_test_cond && !r->corr) {
        tc.skipped = r->test_skipped ? r->test_skipped : (r->meta.skipped ? r->meta.skipped : "the rule is not active");
        report(R, &tc);
        return;
    }
    if (t->inline_json) {
        ah_origin origin = {r->meta.file, NULL, 0};
        ah_normalizer_begin(R->norm, &origin);
        ah_json_record rec = {ah_span_make(t->text, t->n), 1, t->line, NULL};
        tc.record_no = 1;
        run_json_record(R, &tc, &rec, use_test_cond);
        return;
    }
    /* A file: the rule's directory first, then the current directory. */
    char path[4096];
    if (t->text[0] == '/')
        snprintf(path, sizeof path, "%s", t->text);
    else {
        snprintf(path, sizeof path, "%s/%s", r->src->dir, t->text);
        if (!is_file(path))
            snprintf(path, sizeof path, "%s", t->text);
    }
    tc.input = t->text;
    FILE *f = is_file(path) ? fopen(path, "rb") : NULL;
    if (!f) {
        report_error(R, &tc, "test file not found", NULL);
        return;
    }
    ah_origin origin = {path, NULL, 0};
    ah_normalizer_begin(R->norm, &origin);
    size_t n = strlen(path);
    if (r->corr) {
        if (n > 4 && strcasecmp(path + n - 4, ".csv") == 0)
            report_error(R, &tc, "a correlation test series must be JSON (CSV series are not supported)", NULL);
        else
            run_series(R, &tc, t, f);
    } else if (n > 4 && strcasecmp(path + n - 4, ".csv") == 0)
        run_csv_file(R, &tc, f, use_test_cond);
    else
        run_json_file(R, &tc, f, use_test_cond);
    fclose(f);
}

ah_status ah_ruleset_run_tests(const ah_ruleset *rs, ah_rule_test_fn fn, void *ud, ah_rule_test_totals *totals)
{
    ah_rule_test_totals local = {0, 0, 0};
    if (!totals)
        totals = &local;
    memset(totals, 0, sizeof *totals);
    if (!rs || !rs->compiled)
        return AH_ERR_USAGE;
    runner R;
    memset(&R, 0, sizeof R);
    R.rs = rs;
    R.fn = fn;
    R.ud = ud;
    R.tot = totals;
    ah_buf_init(&R.evtext, AHI_EVENT_TEXT_MAX + 16);
    ah_norm_options opt = {AH_DATE_ORDER_AUTO, TEST_MAX_RECORD};
    R.m = ah_matcher_new(rs);
    R.norm = ah_normalizer_new(&opt);
    ah_status st = AH_OK;
    if (!R.m || !R.norm) {
        st = AH_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < rs->nrules; i++) {
        const ah_rule *r = rs->rules[i];
        for (size_t k = 0; k < r->ntests; k++)
            run_test(&R, r, &r->tests[k]);
    }
    st = totals->failed ? AH_ERR_RECORD : AH_OK;
out:
    ah_normalizer_free(R.norm);
    ah_matcher_free(R.m);
    ah_buf_free(&R.evtext);
    return st;
}

ah_status ah_rule_test_format(const ah_rule_test_case *tc, ah_buf *out)
{
    if (!tc || !out || !tc->rule)
        return AH_ERR_USAGE;
    const char *tag = tc->skipped ? "SKIP" : tc->passed ? "PASS" : "FAIL";
    ah_buf_printf(out, "%s %s (%s:%llu", tag, tc->rule->meta.id, tc->file, (unsigned long long)tc->line);
    if (tc->input)
        ah_buf_printf(out, ", %s", tc->input);
    if (tc->record_no)
        ah_buf_printf(out, ", record %llu", (unsigned long long)tc->record_no);
    ah_buf_puts(out, "): ");
    if (tc->skipped)
        ah_buf_printf(out, "not run: %s", tc->skipped);
    else if (tc->error)
        ah_buf_printf(out, "cannot run: %s", tc->error);
    else if (tc->series_len && tc->passed)
        ah_buf_printf(out, "%s as expected (%llu hit%s over %llu records)", tc->expect_hit ? "hit" : "miss",
                      (unsigned long long)tc->got_hits, tc->got_hits == 1 ? "" : "s", (unsigned long long)tc->series_len);
    else if (tc->series_len && tc->expect_hits > 0)
        ah_buf_printf(out, "expected %lld hit%s, got %llu (series of %llu records)", (long long)tc->expect_hits,
                      tc->expect_hits == 1 ? "" : "s", (unsigned long long)tc->got_hits, (unsigned long long)tc->series_len);
    else if (tc->series_len)
        ah_buf_printf(out, "expected %s, got %llu hit%s (series of %llu records)", tc->expect_hit ? "hit" : "miss",
                      (unsigned long long)tc->got_hits, tc->got_hits == 1 ? "" : "s", (unsigned long long)tc->series_len);
    else if (tc->passed)
        ah_buf_printf(out, "%s as expected", tc->expect_hit ? "hit" : "miss");
    else
        ah_buf_printf(out, "expected %s, got %s", tc->expect_hit ? "hit" : "miss", tc->got_hit ? "hit" : "miss");
    if (!tc->passed && !tc->skipped && tc->event.n) {
        ah_buf_puts(out, "\n  event: ");
        ah_buf_append(out, tc->event.p, tc->event.n);
    }
    ah_buf_putc(out, '\n');
    return ah_buf_status(out); /* checked once, here */
}
