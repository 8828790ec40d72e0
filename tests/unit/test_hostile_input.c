/*
 * test_hostile_input.c: inputs shaped to lose records silently, through the
 * whole ingest pipeline (source, decode, scanner, session): each must be
 * read, or reported with its name, and accounted for
 * (records = events + duplicates + errors).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "analyzer/audithound.h"
#include "support/tmpdir.h"

typedef struct captured {
    int errors, warnings;
    char msgs[4096];
} captured;

static void capture(void *ud, ah_severity sev, const ah_where *w, const char *msg)
{
    captured *c = ud;
    c->errors += sev == AH_SEV_ERROR;
    c->warnings += sev == AH_SEV_WARNING;
    size_t n = strlen(c->msgs);
    snprintf(c->msgs + n, sizeof c->msgs - n, "%s: %s\n", w && w->path ? w->path : "", msg);
}

typedef struct buf {
    char *p;
    size_t len, cap;
} buf;

static void put(buf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void put_fill(buf *b, int c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char ch = (char)c;
        put(b, &ch, 1);
    }
}

/* n UAL AuditData records as JSON Lines. */
static void put_records(buf *b, size_t n, size_t first_id)
{
    for (size_t i = 0; i < n; i++) {
        char line[512];
        int k = snprintf(line, sizeof line,
                         "{\"CreationTime\":\"2021-01-13T16:%02zu:00\",\"Id\":\"id-%zu\",\"Operation\":\"Add user.\","
                         "\"OrganizationId\":\"o\",\"RecordType\":8,\"UserId\":\"admin@contoso.com\","
                         "\"Workload\":\"AzureActiveDirectory\",\"ResultStatus\":\"Success\"}\n",
                         (first_id + i) % 60, first_id + i);
        put(b, line, (size_t)k);
    }
}

static buf gzip_of(const buf *in)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&z, (uLong)in->len) + 64;
    buf out = {malloc(cap), 0, cap};
    assert_non_null(out.p);
    z.next_in = (Bytef *)in->p;
    z.avail_in = (uInt)in->len;
    z.next_out = (Bytef *)out.p;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    out.len = z.total_out;
    deflateEnd(&z);
    return out;
}

static const char *write_file(ah_test_tmpdir *t, const char *name, const void *p, size_t n)
{
    static char path[256]; /* test scratch, used before the next call */
    snprintf(path, sizeof path, "%s/%s", t->dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (n)
        assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
    return path;
}

typedef struct run_result {
    size_t events;
    ah_totals totals;
    const ah_stream_report *first;
} run_result;

static ah_session *session(captured *cap, uint64_t max_input)
{
    ah_session_options o;
    ah_session_options_init(&o);
    o.diag_fn = capture;
    o.diag_ud = cap;
    o.max_input = max_input;
    ah_session *s = ah_session_new(&o);
    assert_non_null(s);
    return s;
}

static run_result drain(ah_session *s)
{
    run_result r = {0};
    const ah_event *ev;
    ah_status st;
    while ((st = ah_session_next(s, &ev)) == AH_OK)
        r.events++;
    assert_int_equal(st, AH_END);
    r.totals = ah_session_totals(s);
    assert_int_equal(r.totals.records, r.totals.events + r.totals.duplicates + r.totals.errors);
    r.first = ah_session_stream_count(s) ? ah_session_stream(s, 0) : NULL;
    return r;
}

static run_result read_one(ah_test_tmpdir *t, const char *name, const buf *b, captured *cap, ah_session **out)
{
    ah_session *s = session(cap, 0);
    assert_int_equal(ah_session_add_input(s, write_file(t, name, b->p, b->len)), AH_OK);
    run_result r = drain(s);
    *out = s;
    return r;
}

static int setup(void **state) { return ah_test_tmpdir_setup(state, "ah-test-hostile", "x"); }
static int teardown(void **state) { return ah_test_tmpdir_teardown(state); }

/* 512 NUL bytes are an all-zero tar block: libarchive's tar reader took
 * the file for an empty archive. Plain and inside gzip. */
static void test_nul_prefix_is_not_an_empty_tar(void **state)
{
    ah_test_tmpdir *t = *state;
    const size_t nuls[] = {511, 512, 1024, 10240};
    for (size_t i = 0; i < AH_ARRAY_LEN(nuls); i++)
        for (int compressed = 0; compressed < 2; compressed++) {
            buf b = {0};
            put_fill(&b, 0, nuls[i]);
            put_records(&b, 5, 0);
            buf g = compressed ? gzip_of(&b) : (buf){0};
            captured cap = {0};
            ah_session *s;
            run_result r = read_one(t, compressed ? "nul.jsonl.gz" : "nul.jsonl", compressed ? &g : &b, &cap, &s);
            if (r.events != 5)
                fail_msg("%zu NULs%s: %zu events; %s", nuls[i], compressed ? " (gzip)" : "", r.events, cap.msgs);
            assert_string_equal(r.first->container, compressed ? "gzip" : "plain");
            assert_int_equal(r.totals.errors, 0);
            ah_session_free(s);
            free(b.p);
            free(g.p);
        }
}

/* The first record may come after any amount of blank text. */
static void test_long_blank_prefix(void **state)
{
    ah_test_tmpdir *t = *state;
    const size_t blanks[] = {4095, 4096, 5000, 300000};
    for (size_t i = 0; i < AH_ARRAY_LEN(blanks); i++) {
        buf b = {0};
        put_fill(&b, '\n', blanks[i]);
        put_fill(&b, ' ', 3);
        put_records(&b, 4, 0);
        captured cap = {0};
        ah_session *s;
        run_result r = read_one(t, "blank.jsonl", &b, &cap, &s);
        if (r.events != 4)
            fail_msg("%zu blank lines: %zu events; %s", blanks[i], r.events, cap.msgs);
        ah_session_free(s);
        free(b.p);
    }
    /* and line numbers still count the skipped lines */
    buf b = {0};
    put_fill(&b, '\n', 5000);
    put(&b, "{\"broken\n", 9);
    captured cap = {0};
    ah_session *s;
    run_result r = read_one(t, "blank.jsonl", &b, &cap, &s);
    assert_int_equal(r.totals.errors, 1);
    ah_session_free(s);
    free(b.p);
}

/* head -c N of a JSONL.gz: every complete line before the cut is an event,
 * one error names the input and the offset, and the file is one unreadable
 * input, not two. */
static void test_truncated_gzip_recovers_every_complete_record(void **state)
{
    ah_test_tmpdir *t = *state;
    buf b = {0};
    put_records(&b, 3000, 0);
    buf g = gzip_of(&b);
    const size_t cuts[] = {200, 1000, 3000, g.len / 2, g.len - 9};
    assert_true(g.len > 6000);
    for (size_t i = 0; i < AH_ARRAY_LEN(cuts); i++) {
        /* the reference: complete lines in what zlib inflates from the cut */
        z_stream z;
        memset(&z, 0, sizeof z);
        assert_int_equal(inflateInit2(&z, 31), Z_OK);
        char *out = malloc(b.len + 1);
        z.next_in = (Bytef *)g.p;
        z.avail_in = (uInt)cuts[i];
        z.next_out = (Bytef *)out;
        z.avail_out = (uInt)b.len + 1;
        (void)inflate(&z, Z_SYNC_FLUSH);
        size_t lines = 0;
        for (size_t k = 0; k < z.total_out; k++)
            lines += out[k] == '\n';
        inflateEnd(&z);
        free(out);

        buf cut = {g.p, cuts[i], 0};
        captured cap = {0};
        ah_session *s;
        run_result r = read_one(t, "cut.jsonl.gz", &cut, &cap, &s);
        if (r.events != lines)
            fail_msg("cut at %zu: %zu events, zlib recovers %zu lines; %s", cuts[i], r.events, lines, cap.msgs);
        char at[64];
        snprintf(at, sizeof at, "byte %zu ", cuts[i]);
        if (!strstr(cap.msgs, "cut.jsonl.gz: truncated gzip data") || !strstr(cap.msgs, at))
            fail_msg("cut at %zu: %s", cuts[i], cap.msgs);
        assert_int_equal(r.totals.unreadable_inputs, 1);
        assert_true(ah_session_partial(s));
        ah_session_free(s);
    }
    free(b.p);
    free(g.p);
}

static void count_progress(void *ud, uint64_t done, uint64_t total)
{
    (void)total;
    assert_true(done > 0);
    ++*(uint64_t *)ud;
}

/* --max-input stops an endless or huge stream with an error naming it;
 * a long run of NULs without a limit ends as an input with no record. */
static void test_max_input_and_nul_runs(void **state)
{
    ah_test_tmpdir *t = *state;
    buf b = {0};
    put_fill(&b, 0, 3u << 20);
    const char *p = write_file(t, "zeros.bin", b.p, b.len);
    captured cap = {0};
    ah_session *s = session(&cap, 1u << 20);
    assert_int_equal(ah_session_add_input(s, p), AH_OK);
    uint64_t done, total;
    run_result r = drain(s);
    ah_session_progress(s, &done, &total);
    assert_true(done >= 1u << 20);
    assert_int_equal(r.events, 0);
    assert_int_equal(cap.errors, 1);
    assert_non_null(strstr(cap.msgs, "zeros.bin: input larger than --max-input (1048576 bytes)"));
    assert_int_equal(r.totals.unreadable_inputs, 1);
    ah_session_free(s);

    /* a device: stopped, and not read to its end for the digest; progress
     * is reported while no event comes out */
    cap = (captured){0};
    ah_session_options o;
    ah_session_options_init(&o);
    o.diag_fn = capture;
    o.diag_ud = &cap;
    o.max_input = 1u << 20;
    uint64_t calls = 0;
    o.progress_fn = count_progress;
    o.progress_ud = &calls;
    s = ah_session_new(&o);
    assert_non_null(s);
    assert_int_equal(ah_session_add_input(s, "/dev/zero"), AH_OK);
    r = drain(s);
    assert_int_equal(cap.errors, 1);
    assert_string_equal(ah_session_file(s, 0).sha256, "");
    assert_true(calls >= 16); /* 1 MiB in 64 KiB reads */
    ah_session_free(s);

    /* no limit: the run of NULs ends */
    cap = (captured){0};
    s = session(&cap, 0);
    assert_int_equal(ah_session_add_input(s, p), AH_OK);
    r = drain(s);
    assert_int_equal(r.events, 0);
    assert_int_equal(cap.errors, 0);
    ah_session_free(s);
    free(b.p);
}

/* A wrong path must not look like a clean tenant: an empty directory, a
 * 0-byte file, a file of blanks are each warned about, and a run in which
 * no input held a record says so (exit status 4). */
static void test_nothing_read(void **state)
{
    ah_test_tmpdir *t = *state;
    char dir[300];
    snprintf(dir, sizeof dir, "%s/empty-dir", t->dir);
    assert_int_equal(mkdir(dir, 0755), 0);
    captured cap = {0};
    ah_session *s = session(&cap, 0);
    assert_int_equal(ah_session_add_input(s, dir), AH_OK);
    run_result r = drain(s);
    assert_int_equal(cap.warnings, 1);
    assert_non_null(strstr(cap.msgs, "empty-dir: no input file in this directory"));
    assert_true(ah_session_nothing_read(s));
    assert_false(ah_session_partial(s));
    ah_session_free(s);

    cap = (captured){0};
    s = session(&cap, 0);
    char empty[300], blank[300], good[300];
    snprintf(empty, sizeof empty, "%s", write_file(t, "zero.csv", "", 0));
    snprintf(blank, sizeof blank, "%s", write_file(t, "blank.json", "\n \r\n\t\n", 6));
    assert_int_equal(ah_session_add_input(s, empty), AH_OK);
    assert_int_equal(ah_session_add_input(s, blank), AH_OK);
    r = drain(s);
    assert_int_equal(cap.warnings, 2);
    assert_non_null(strstr(cap.msgs, "zero.csv: no record in this input"));
    assert_non_null(strstr(cap.msgs, "blank.json: no record in this input"));
    assert_int_equal(r.totals.no_record_streams, 2);
    assert_true(ah_session_stream(s, 0)->no_record && ah_session_stream(s, 1)->no_record);
    assert_true(ah_session_nothing_read(s));
    ah_session_free(s);

    /* one input with records: read, with a warning for the empty one */
    buf b = {0};
    put_records(&b, 2, 0);
    snprintf(good, sizeof good, "%s", write_file(t, "good.jsonl", b.p, b.len));
    cap = (captured){0};
    s = session(&cap, 0);
    assert_int_equal(ah_session_add_input(s, empty), AH_OK);
    assert_int_equal(ah_session_add_input(s, good), AH_OK);
    r = drain(s);
    assert_int_equal(r.events, 2);
    assert_int_equal(cap.warnings, 1);
    assert_false(ah_session_nothing_read(s));
    assert_int_equal(r.totals.no_record_streams, 1);
    ah_session_free(s);
    free(b.p);

    /* a missing path: counted apart, so a command can refuse before writing */
    cap = (captured){0};
    s = session(&cap, 0);
    snprintf(dir, sizeof dir, "%s/no-such.json", t->dir);
    assert_int_equal(ah_session_add_input(s, dir), AH_ERR_IO);
    assert_int_equal(ah_session_totals(s).missing_inputs, 1);
    ah_session_free(s);
}

static ah_session *session_strict(captured *cap)
{
    ah_session_options o;
    ah_session_options_init(&o);
    o.diag_fn = capture;
    o.diag_ud = cap;
    o.strict = true;
    ah_session *s = ah_session_new(&o);
    assert_non_null(s);
    return s;
}

/* Binary files and prose are listed once as not logs, apart from record
 * errors; named like a log (or with strict) they are unreadable inputs. */
static void test_not_a_log(void **state)
{
    ah_test_tmpdir *t = *state;
    static const struct {
        const char *name;
        const char *data;
        size_t len;
        const char *what; /* NULL: a log (or an unknown CSV layout: an error) */
        bool failed;
    } cases[] = {
        {"a.bin",
         "\x7f"
         "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0>\0\x01\0\0\0",
         24, "ELF executable", false},
        {"Security.evtx", "ElfFile\0\0\0\0\0\0\0\0\0", 16, "Windows event log (EVTX)", false},
        {"ual.json", "ElfFile\0\0\0\0\0\0\0\0\0", 16, "Windows event log (EVTX)", true},
        {"pic.png", "\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16, "PNG image", false},
        {"report.pdf", "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", 15, "PDF document", false},
        {"blob.dat", "\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f\x10\x11xyz", 15, "binary data", false},
        {"README.md", "# Case notes\n\nThe tenant was exported on Monday.\n", 48, "text without a record structure",
         false},
        {"config.yaml", "rules:\n  - name: x\n", 20, "text without a record structure", false},
        {"notes.csv", "just one line of prose\n", 23, "text without a record structure", true},
        {"other.csv", "Host,Severity,Message\nsrv1,high,disk full\n", 42, NULL, true},
    };
    for (size_t i = 0; i < AH_ARRAY_LEN(cases); i++) {
        captured cap = {0};
        ah_session *s = session(&cap, 0);
        assert_int_equal(ah_session_add_input(s, write_file(t, cases[i].name, cases[i].data, cases[i].len)), AH_OK);
        run_result r = drain(s);
        const ah_stream_report *rep = ah_session_stream(s, 0);
        if (cases[i].what) {
            if (!rep->not_a_log || strcmp(rep->not_a_log, cases[i].what) != 0)
                fail_msg("%s: not_a_log '%s'; %s", cases[i].name, rep->not_a_log ? rep->not_a_log : "(null)", cap.msgs);
            assert_int_equal(r.totals.records, 0); /* no record errors for a file that is not a log */
            assert_int_equal(r.totals.not_a_log_streams, 1);
            assert_false(rep->no_record);
        } else {
            assert_null(rep->not_a_log);
        }
        if (rep->failed != cases[i].failed || ah_session_partial(s) != cases[i].failed)
            fail_msg("%s: failed %d; %s", cases[i].name, rep->failed, cap.msgs);
        assert_int_equal(cap.errors, cases[i].failed ? 1 : 0);
        /* the digest is there like for every input */
        assert_int_equal(strlen(ah_session_file(s, 0).sha256), 64);
        ah_session_free(s);

        /* strict: every one of them is an error */
        if (cases[i].what) {
            cap = (captured){0};
            s = session_strict(&cap);
            assert_int_equal(ah_session_add_input(s, write_file(t, cases[i].name, cases[i].data, cases[i].len)), AH_OK);
            drain(s);
            assert_true(ah_session_partial(s));
            assert_int_equal(cap.errors, 1);
            ah_session_free(s);
        }
    }
}

static bool contains(ah_span hay, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= hay.n; i++)
        if (memcmp(hay.p + i, needle, n) == 0)
            return true;
    return false;
}

/* NUL and other control characters are evidence: kept (escaped) in raw,
 * counted, and kept out of the fields rules match on. */
static void test_control_characters_kept_and_matched(void **state)
{
    ah_test_tmpdir *t = *state;
    static const char rec_fmt[] = "{\"CreationTime\":\"2021-01-13T16:00:00\",\"Id\":\"%s\",\"Operation\":\"%s\","
                                  "\"OrganizationId\":\"o\",\"RecordType\":1,\"UserId\":\"a@contoso.com\","
                                  "\"Workload\":\"Exchange\",\"ResultStatus\":\"True\"}\n";
    buf b = {0};
    char line[512];
    int k = snprintf(line, sizeof line, rec_fmt, "escaped", "New-InboxRule\\u0000");
    put(&b, line, (size_t)k);
    put_fill(&b, 0, 700); /* a NUL run between records */
    k = snprintf(line, sizeof line, rec_fmt, "raw", "New-Inbox#Rule");
    char *hash = memchr(line, '#', (size_t)k);
    *hash = '\0'; /* a raw NUL inside the string */
    put(&b, line, (size_t)k);
    k = snprintf(line, sizeof line, rec_fmt, "esc", "New-InboxRule\x1b[2J");
    put(&b, line, (size_t)k);

    captured cap = {0};
    ah_session *s = session(&cap, 0);
    assert_int_equal(ah_session_add_input(s, write_file(t, "ctl.jsonl", b.p, b.len)), AH_OK);
    const ah_event *ev;
    size_t n = 0;
    const char *ids[] = {"escaped", "raw", "esc"};
    while (ah_session_next(s, &ev) == AH_OK) {
        assert_true(n < 3);
        ah_span id = ev->field[AH_F_RECORD_ID], op = ev->field[AH_F_OPERATION];
        assert_int_equal(id.n, strlen(ids[n]));
        assert_memory_equal(id.p, ids[n], id.n);
        if (n < 2) {
            assert_int_equal(op.n, 13);
            assert_memory_equal(op.p, "New-InboxRule", 13);
            assert_int_equal(ev->operation_canon.n, 13);
            assert_memory_equal(ev->operation_canon.p, "new-inboxrule", 13);
            /* raw keeps the NUL, escaped */
            assert_true(contains(ev->raw, "\\u0000"));
        } else {
            assert_int_equal(op.n, 16); /* ESC removed, "[2J" stays */
            assert_memory_equal(op.p, "New-InboxRule[2J", 16);
        }
        n++;
    }
    assert_int_equal(n, 3);
    const ah_stream_report *r = ah_session_stream(s, 0);
    assert_int_equal(r->errors, 0);
    assert_int_equal(r->nul_chars, 701);
    assert_int_equal(r->control_events, 3);
    assert_int_equal(cap.errors, 0);
    ah_session_free(s);
    free(b.p);

    /* the same NUL inside AuditData held in a Purview CSV cell */
    static const char csv[] =
        "RecordId,CreationDate,RecordType,Operation,UserId,AuditData\r\n"
        "c1,2021-01-13T16:00:00,1,New-InboxRule,a@contoso.com,\"{\"\"CreationTime\"\":\"\"2021-01-13T16:00:00\"\","
        "\"\"Id\"\":\"\"c1\"\",\"\"Operation\"\":\"\"New-Inbox#Rule\"\",\"\"RecordType\"\":1,"
        "\"\"UserId\"\":\"\"a@contoso.com\"\",\"\"Workload\"\":\"\"Exchange\"\"}\"\r\n";
    char text[sizeof csv];
    memcpy(text, csv, sizeof csv);
    *strchr(text, '#') = '\0';
    cap = (captured){0};
    s = session(&cap, 0);
    assert_int_equal(ah_session_add_input(s, write_file(t, "purview.csv", text, sizeof csv - 1)), AH_OK);
    n = 0;
    while (ah_session_next(s, &ev) == AH_OK) {
        ah_span op = ev->field[AH_F_OPERATION];
        assert_int_equal(op.n, 13);
        assert_memory_equal(op.p, "New-InboxRule", 13);
        assert_true(contains(ev->raw, "New-Inbox\\u0000Rule"));
        n++;
    }
    if (n != 1)
        fail_msg("%zu events; %s", n, cap.msgs);
    assert_int_equal(ah_session_stream(s, 0)->errors, 0);
    ah_session_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_nul_prefix_is_not_an_empty_tar, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_blank_prefix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_gzip_recovers_every_complete_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_input_and_nul_runs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nothing_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_a_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_control_characters_kept_and_matched, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
