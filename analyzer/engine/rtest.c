/*
 * rtest.c: `test-rules`, the runner for tests embedded in rule files.
 *
 * Each test runs its records through the pipeline `hunt` runs: a session
 * over the test file (for inline JSON, a temporary file holding the text)
 * reads, decodes, frames, normalizes and deduplicates them, and a hunt
 * matches them and runs the correlation rules, with hunt's own defaults.
 * So a gzip'd test file, a UTF-16 CSV with a BOM, a record dedup drops or
 * an unreadable record behave exactly as in `hunt`, and a test passes
 * exactly when `hunt` would hit (or stay quiet).
 *
 * The hunt runs with --all and without the twin join, so each record that
 * becomes an event comes back as one row of its own, whose rule list tells
 * whether the tested rule hit it; a correlation row names its rule. Rules
 * with `test set` values are tested with an instance of their rule file
 * compiled with those values set (they win over --set).
 *
 * Test files resolve against the rule file's directory first, then the
 * current directory (the repository root when run from it), as lint checks.
 *
 * It lives in engine, above rules and correlate, since it drives the hunt;
 * it reads the rules' private header for the tests they embed. The entry
 * points stay declared in rules.h (ah_ruleset_run_tests, ah_rule_test_format).
 */
#include "../rules/rules_private.h" /* the rules' embedded tests and test variables */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../parsers/util/utf8.h"
#include "../audithound.h"
#include "hunt.h"

/* What the pipeline made of one record: a row (hit or not), or an error. */
typedef struct rec_outcome {
    size_t stream;
    uint64_t record_no;
    bool hit;
    char *event; /* compact text, kept only when the outcome is a failure */
    char *error; /* an error reported for the record, else NULL */
} rec_outcome;

typedef struct runner {
    const ah_ruleset *rs;
    ah_rule_test_fn fn;
    void *ud;
    ah_rule_test_totals *tot;
    ah_buf evtext;
    ah_buf input;   /* "path!entry" of the test case */
    ah_buf labels;  /* each stream's "path!entry", as the input column names it, NUL-separated */
    char *tmp_path; /* the inline test's temporary file, while it runs */
    /* the test being run */
    ah_session *session;
    rec_outcome *out;
    size_t nout, capout;
    char *stream_error; /* the first error that names no record */
    ah_diag quiet;      /* a test instance's rule file (test_instance) */
    bool nomem;
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

/* Report tc as one that cannot run: `error`, or `fallback` when that is NULL. */
static void report_error(runner *R, ah_rule_test_case *tc, const char *error, const char *fallback)
{
    tc->error = error ? error : fallback;
    report(R, tc);
}

/* --- what the pipeline says ------------------------------------------------ */

static rec_outcome *add_outcome(runner *R, size_t stream, uint64_t record_no)
{
    if (R->nout == R->capout) {
        rec_outcome *nv = ah_grow_array(R->out, &R->capout, 16, sizeof *nv);
        if (!nv) {
            R->nomem = true;
            return NULL;
        }
        R->out = nv;
    }
    rec_outcome *o = &R->out[R->nout++];
    memset(o, 0, sizeof *o);
    o->stream = stream;
    o->record_no = record_no;
    return o;
}

static char *dup_text(runner *R, const char *p, size_t n)
{
    char *s = malloc(n + 1);
    if (!s) {
        R->nomem = true;
        return NULL;
    }
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* The session's and the hunt's problems: an error naming a record belongs
 * to that record of the stream being read; the first other error to the
 * test. Warnings and notes are the reader's business, as in hunt. */
static void on_diag(void *ud, ah_severity sev, const ah_where *where, const char *msg)
{
    runner *R = ud;
    if (sev != AH_SEV_ERROR)
        return;
    if (where && where->record_no) {
        /* while a stream is read, the streams before it are the closed ones */
        size_t stream = R->session ? ah_session_stream_count(R->session) : 0;
        rec_outcome *o = add_outcome(R, stream, where->record_no);
        if (o)
            o->error = dup_text(R, msg, strlen(msg));
    } else if (!R->stream_error) {
        R->stream_error = dup_text(R, msg, strlen(msg));
    }
}

static void clear_outcomes(runner *R)
{
    for (size_t i = 0; i < R->nout; i++) {
        free(R->out[i].event);
        free(R->out[i].error);
    }
    R->nout = 0;
    free(R->stream_error);
    R->stream_error = NULL;
    R->nomem = false;
}

/* Stream, then record; an error before a row of the same record. */
static int outcome_cmp(const void *a, const void *b)
{
    const rec_outcome *x = a, *y = b;
    if (x->stream != y->stream)
        return x->stream < y->stream ? -1 : 1;
    if (x->record_no != y->record_no)
        return x->record_no < y->record_no ? -1 : 1;
    return (y->error != NULL) - (x->error != NULL);
}

static bool row_has_rule(const ah_row *row, size_t index)
{
    for (size_t i = 0; i < row->nrules; i++)
        if (row->rules[i] == index)
            return true;
    return false;
}

/* The session's stream an event row came from, by its input column (the
 * rows leave the sorter in time order, without their input's number). The
 * streams are few and rows of one stream come together: the previous
 * answer is tried first. SIZE_MAX when none matches. */
static size_t row_stream(runner *R, const ah_row *row, size_t *last)
{
    size_t n = ah_session_stream_count(R->session);
    if (R->labels.len == 0) {
        for (size_t s = 0; s < n; s++) {
            const ah_stream_report *rep = ah_session_stream(R->session, s);
            ah_buf_puts(&R->labels, rep->path ? rep->path : "-");
            if (rep->entry)
                ah_buf_printf(&R->labels, "!%s", rep->entry);
            ah_buf_putc(&R->labels, '\0');
        }
        if (R->labels.err != AH_OK)
            R->nomem = true;
    }
    ah_span in = row->col[AH_COL_INPUT];
    for (size_t k = 0; k < n && R->labels.err == AH_OK; k++) {
        size_t s = (*last + k) % n;
        const char *label = R->labels.data;
        for (size_t i = 0; i < s; i++)
            label += strlen(label) + 1;
        if (strlen(label) == in.n && memcmp(label, in.p, in.n) == 0)
            return *last = s;
    }
    return SIZE_MAX;
}

/* One test input through session and hunt. Event rows become outcomes
 * (with their text when `expect_hit` says the outcome fails, unless
 * `series`); correlation rows of rule `index` are counted in *hits. A
 * series needs event times: the first event without one is an error of
 * its record. When the run itself fails, R->stream_error says why (or
 * R->nomem is set); R->session is NULL when none could be made. */
static void run_pipeline(runner *R, const ah_ruleset *rs, size_t index, const char *path, bool series, bool expect_hit,
                         uint64_t *hits)
{
    ah_session_options so;
    ah_session_options_init(&so);
    so.diag_fn = on_diag;
    so.diag_ud = R;
    ah_diag hdiag = {.fn = on_diag, .ud = R};
    ah_hunt_options ho;
    memset(&ho, 0, sizeof ho);
    ho.all = true;     /* a row per event: a miss is a row without the rule */
    ho.no_join = true; /* a row per record, to report each */
    ho.min_level = AH_LEVEL_INFO;
    *hits = 0;
    R->session = ah_session_new(&so);
    ah_hunt *h = R->session ? ah_hunt_new(rs, &ho, &hdiag) : NULL;
    ah_status st = h ? ah_session_add_input(R->session, path) : AH_ERR_NOMEM;
    if (st == AH_OK) {
        const ah_event *ev;
        while ((st = ah_session_next(R->session, &ev)) == AH_OK) {
            if (series && !ev->has_time && !R->stream_error) {
                rec_outcome *o = add_outcome(R, ah_session_stream_count(R->session), ev->record_no);
                if (o) {
                    static const char no_time[] = "the record has no time (a series needs event times)";
                    o->error = dup_text(R, no_time, sizeof no_time - 1);
                    ah_span text = compact(&R->evtext, ev->raw);
                    o->event = dup_text(R, text.p ? text.p : "", text.n);
                }
            }
            if ((st = ah_hunt_add(h, ev)) != AH_OK)
                break;
        }
        if (st == AH_END)
            st = ah_hunt_finish(h);
    }
    ah_row row;
    size_t last = 0;
    ah_buf_reset(&R->labels);
    while (st == AH_OK && (st = ah_hunt_next(h, &row)) == AH_OK) {
        bool hit = row_has_rule(&row, index);
        if (row.kind == AH_ROW_CORRELATION) {
            *hits += hit;
            continue;
        }
        rec_outcome *o = add_outcome(R, row_stream(R, &row, &last), row.input_record);
        if (!o)
            break;
        o->hit = hit;
        if (!series && hit != expect_hit && row.raw.n) {
            ah_span text = compact(&R->evtext, row.raw);
            o->event = dup_text(R, text.p, text.n);
        }
    }
    ah_hunt_free(h);
    if (st == AH_ERR_NOMEM)
        R->nomem = true;
    if (st != AH_END && st != AH_ERR_NOMEM && !R->stream_error)
        R->stream_error = dup_text(R, ah_status_str(st), strlen(ah_status_str(st)));
}

static void end_pipeline(runner *R)
{
    ah_session_free(R->session);
    R->session = NULL;
    clear_outcomes(R);
}

/* The input of a test case: the test's path, with the archive entry. */
static const char *case_input(runner *R, const char *written, const ah_stream_report *rep)
{
    if (!written || !rep->entry)
        return written;
    ah_buf_reset(&R->input);
    ah_buf_printf(&R->input, "%s!%s", written, rep->entry);
    return ah_buf_cstr(&R->input);
}

/* Every record of a single-event test: one case each, in input order. A
 * record with neither a row nor an error was dropped as a duplicate. */
static void report_records(runner *R, const ah_rule_test_case *base, ah_span inline_text)
{
    if (R->nout)
        qsort(R->out, R->nout, sizeof *R->out, outcome_cmp);
    size_t k = 0, nstreams = ah_session_stream_count(R->session);
    uint64_t records = 0;
    for (size_t s = 0; s < nstreams; s++) {
        const ah_stream_report *rep = ah_session_stream(R->session, s);
        uint64_t dups = rep->duplicates;
        for (uint64_t rec = 1; rec <= rep->records; rec++) {
            ah_rule_test_case tc = *base;
            tc.input = case_input(R, base->input, rep);
            tc.record_no = rec;
            records++;
            while (k < R->nout && (R->out[k].stream < s || (R->out[k].stream == s && R->out[k].record_no < rec)))
                k++;
            rec_outcome *o = k < R->nout && R->out[k].stream == s && R->out[k].record_no == rec ? &R->out[k] : NULL;
            if (o && o->error) {
                if (inline_text.n)
                    tc.event = compact(&R->evtext, inline_text);
                report_error(R, &tc, o->error, NULL);
                continue;
            }
            if (o) {
                tc.got_hit = o->hit;
                if (o->event)
                    tc.event = ah_span_make(o->event, strlen(o->event));
            } else if (dups) {
                dups--;
                tc.note = "hunt drops it as a duplicate of an earlier record";
            } else {
                report_error(R, &tc, "the pipeline gave no event for it", NULL);
                continue;
            }
            report(R, &tc);
        }
        if (rep->failed || (rep->not_a_log && !rep->records)) {
            ah_rule_test_case tc = *base;
            tc.input = case_input(R, base->input, rep);
            report_error(R, &tc, rep->failed ? rep->failure : rep->not_a_log, "the input could not be read");
            records++;
        }
    }
    if (R->nomem) {
        ah_rule_test_case tc = *base;
        report_error(R, &tc, "out of memory", NULL);
    } else if (R->stream_error && !records) {
        ah_rule_test_case tc = *base;
        report_error(R, &tc, R->stream_error, NULL);
    } else if (!records) {
        ah_rule_test_case tc = *base;
        report_error(R, &tc, inline_text.n ? "no record in the test" : "no records in the test file", NULL);
    }
}

/* A correlation test: the whole series is one case, its outcome the number
 * of correlation hits. Any record the pipeline could not read makes the
 * series unfit to run. */
static void report_series(runner *R, ah_rule_test_case *tc, uint64_t hits)
{
    for (size_t s = 0; s < ah_session_stream_count(R->session); s++)
        tc->series_len += ah_session_stream(R->session, s)->records;
    if (R->nout)
        qsort(R->out, R->nout, sizeof *R->out, outcome_cmp);
    for (size_t i = 0; i < R->nout; i++)
        if (R->out[i].error) {
            tc->record_no = R->out[i].record_no;
            if (R->out[i].event)
                tc->event = ah_span_make(R->out[i].event, strlen(R->out[i].event));
            report_error(R, tc, R->out[i].error, NULL);
            return;
        }
    if (R->nomem)
        report_error(R, tc, "out of memory", NULL);
    else if (R->stream_error)
        report_error(R, tc, R->stream_error, NULL);
    else if (!tc->series_len)
        report_error(R, tc, "no records in the test series", NULL);
    else {
        tc->got_hits = hits;
        tc->got_hit = hits > 0;
        report(R, tc);
    }
}

/* --- the test's input and rule instance ------------------------------------ */

static void remove_inline_file(runner *R)
{
    if (R->tmp_path)
        unlink(R->tmp_path);
    free(R->tmp_path);
    R->tmp_path = NULL;
}

/* Write inline test text to a new temporary file in $TMPDIR, else /tmp
 * (a new file each time: truncating one in place costs a flush on some
 * file systems); the caller removes it. R->tmp_path names it; NULL with
 * *why set when that fails. */
static const char *inline_file(runner *R, const char *text, size_t n, const char **why)
{
    const char *parent = getenv("TMPDIR");
    if (!parent || !*parent)
        parent = "/tmp";
    size_t len = strlen(parent) + sizeof "/audithound-test-XXXXXX";
    if (!(R->tmp_path = malloc(len))) {
        *why = "out of memory";
        return NULL;
    }
    snprintf(R->tmp_path, len, "%s/audithound-test-XXXXXX", parent);
    int fd = mkstemp(R->tmp_path);
    if (fd < 0) {
        free(R->tmp_path);
        R->tmp_path = NULL;
        *why = "cannot create a temporary file for the inline record (TMPDIR)";
        return NULL;
    }
    size_t done = 0;
    while (done < n) {
        ssize_t k = write(fd, text + done, n - done);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        done += (size_t)k;
    }
    if (close(fd) != 0 || done != n) {
        remove_inline_file(R);
        *why = "cannot write the inline record to a temporary file";
        return NULL;
    }
    return R->tmp_path;
}

static bool is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* The rule's file compiled again with its `test set` values over the
 * variables rs has (--set, --vars), as `hunt --set` would run it. The rule
 * in it goes to *out; NULL with *why when that fails. Its problems are not
 * reported: lint reports the rule file's. */
static ah_ruleset *test_instance(runner *R, const ah_rule *r, const ah_rule **out, const char **why)
{
    memset(&R->quiet, 0, sizeof R->quiet);
    ah_ruleset *inst = ah_ruleset_new(&R->quiet);
    *why = "out of memory";
    bool ok = inst != NULL;
    ah_var_info v;
    for (size_t i = 0; ok && ah_ruleset_var_at(R->rs, i, &v); i++)
        ok = ah_ruleset_set_var(inst, v.name, v.value) == AH_OK;
    for (size_t i = 0; ok && i < r->ntvars; i++)
        ok = ah_ruleset_set_var(inst, r->tvars[i].name, r->tvars[i].value) == AH_OK;
    ok = ok && ah_ruleset_load_string(inst, r->src->path, r->src->text, r->src->len) != AH_ERR_NOMEM;
    if (ok) {
        ah_ruleset_compile(inst); /* other rules of the file may fail with these values: not ours */
        *out = ah_ruleset_find(inst, r->meta.id);
        *why = "its test values do not compile";
        ok = *out && !ah_rule_metadata(*out)->skipped;
    }
    if (!ok) {
        ah_ruleset_free(inst);
        inst = NULL;
    }
    return inst;
}

static void run_test(runner *R, const ah_rule *r, const ahi_test *t)
{
    ah_rule_test_case tc;
    memset(&tc, 0, sizeof tc);
    tc.rule = r;
    tc.file = r->meta.file;
    tc.line = t->line;
    tc.expect_hit = t->expect_hit;
    tc.expect_hits = t->expect_hits;
    if (r->failed) {
        report_error(R, &tc, "the rule has errors", NULL);
        return;
    }
    if (r->corr && (r->meta.skipped || r->test_skipped)) {
        tc.skipped = r->test_skipped ? r->test_skipped : r->meta.skipped;
        report(R, &tc);
        return;
    }
    bool use_test_vars = r->test_cond != NULL;
    if (!r->cond && !use_test_vars && !r->corr) {
        tc.skipped = r->test_skipped ? r->test_skipped : (r->meta.skipped ? r->meta.skipped : "the rule is not active");
        report(R, &tc);
        return;
    }
    const char *path, *why = NULL;
    char buf[4096];
    if (t->inline_json) {
        path = inline_file(R, t->text, t->n, &why);
    } else {
        /* A file: the rule's directory first, then the current directory. */
        if (t->text[0] == '/')
            snprintf(buf, sizeof buf, "%s", t->text);
        else {
            snprintf(buf, sizeof buf, "%s/%s", r->src->dir, t->text);
            if (!is_file(buf))
                snprintf(buf, sizeof buf, "%s", t->text);
        }
        tc.input = t->text;
        path = is_file(buf) ? buf : NULL;
        why = "test file not found";
    }
    if (!path) {
        report_error(R, &tc, why, NULL);
        return;
    }
    const ah_ruleset *rs = R->rs;
    ah_ruleset *inst = NULL;
    const ah_rule *rr = r;
    if (use_test_vars && !(inst = test_instance(R, r, &rr, &why))) {
        remove_inline_file(R);
        report_error(R, &tc, why, NULL);
        return;
    }
    if (inst)
        rs = inst;
    uint64_t hits = 0;
    run_pipeline(R, rs, rr->meta.index, path, r->corr != NULL, t->expect_hit, &hits);
    if (!R->session)
        report_error(R, &tc, "out of memory", NULL);
    else if (r->corr)
        report_series(R, &tc, hits);
    else
        report_records(R, &tc, t->inline_json ? ah_span_make(t->text, t->n) : AH_SPAN_NULL);
    end_pipeline(R);
    remove_inline_file(R);
    ah_ruleset_free(inst);
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
    ah_buf_init(&R.input, 0);
    ah_buf_init(&R.labels, 0);
    for (size_t i = 0; i < rs->nrules; i++) {
        const ah_rule *r = rs->rules[i];
        for (size_t k = 0; k < r->ntests; k++)
            run_test(&R, r, &r->tests[k]);
    }
    free(R.out);
    ah_buf_free(&R.evtext);
    ah_buf_free(&R.input);
    ah_buf_free(&R.labels);
    return totals->failed ? AH_ERR_RECORD : AH_OK;
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
                      (unsigned long long)tc->got_hits, tc->got_hits == 1 ? "" : "s",
                      (unsigned long long)tc->series_len);
    else if (tc->series_len && tc->expect_hits > 0)
        ah_buf_printf(out, "expected %lld hit%s, got %llu (series of %llu records)", (long long)tc->expect_hits,
                      tc->expect_hits == 1 ? "" : "s", (unsigned long long)tc->got_hits,
                      (unsigned long long)tc->series_len);
    else if (tc->series_len)
        ah_buf_printf(out, "expected %s, got %llu hit%s (series of %llu records)", tc->expect_hit ? "hit" : "miss",
                      (unsigned long long)tc->got_hits, tc->got_hits == 1 ? "" : "s",
                      (unsigned long long)tc->series_len);
    else if (tc->passed)
        ah_buf_printf(out, "%s as expected", tc->expect_hit ? "hit" : "miss");
    else
        ah_buf_printf(out, "expected %s, got %s", tc->expect_hit ? "hit" : "miss", tc->got_hit ? "hit" : "miss");
    if (tc->note && !tc->skipped && !tc->error)
        ah_buf_printf(out, " (%s)", tc->note);
    if (!tc->passed && !tc->skipped && tc->event.n) {
        ah_buf_puts(out, "\n  event: ");
        ah_buf_append(out, tc->event.p, tc->event.n);
    }
    ah_buf_putc(out, '\n');
    return ah_buf_status(out); /* checked once, here */
}
