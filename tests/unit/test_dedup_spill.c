/*
 * test_dedup_spill.c: deduplication past its memory budget (the session
 * spills sorted keys and reads the inputs twice) delivers exactly what the
 * in-memory set delivers, with the same account.
 *
 * The input is generated: 280,000 JSON Lines records in 3 files, 70 %
 * unique and every other line a copy of one of them placed anywhere (far
 * apart, across files, before or after the original), one record in five
 * a directory-audit record whose copies carry another id and match only by
 * the second identity, and a few unrecognised lines (errors). Which copy is
 * kept is known from the generator (the first in position order), so the
 * expected event sequence is an oracle, not another run of the code.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "analyzer/audithound.h"

enum {
    TOTAL = 280000,
    UNIQUE = 196000, /* 70 % */
    FILES = 3,
    AUDIT_EVERY = 5, /* unique records i % 5 == 0 are directory audits */
    ERROR_EVERY = 40000,
};

typedef struct delivered {
    uint32_t input_no;
    uint64_t record_no;
    uint64_t digest[2];
} delivered;

typedef struct captured {
    size_t n, errors, warnings;
    uint64_t hash; /* of every message with its place, in order */
    bool read_twice_warning;
} captured;

static char dir[256];
static char paths[FILES][300];
/* The oracle: per file, the record numbers that are kept, in order. */
static delivered *expected;
static size_t nexpected;

static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void write_record(FILE *f, uint32_t u, uint32_t copy)
{
    unsigned day = 10 + u % 7, h = (u / 7) % 24, m = (u / 168) % 60, sec = (u / 10080) % 60;
    if (u % AUDIT_EVERY == 0) /* another id per copy: only the second identity says they are one */
        fprintf(f,
                "{\"id\":\"Directory_%u_%u\",\"category\":\"UserManagement\",\"correlationId\":\"c%08x-aaaa\","
                "\"result\":\"success\",\"activityDisplayName\":\"Reset user password\","
                "\"activityDateTime\":\"2021-01-%02uT%02u:%02u:%02u.%07uZ\",\"loggedByService\":\"Core Directory\","
                "\"initiatedBy\":{\"user\":{\"userPrincipalName\":\"admin%u@contoso.com\"}},"
                "\"targetResources\":[{\"type\":\"User\",\"userPrincipalName\":\"u%u@contoso.com\"}]}\n",
                u, copy, u, day, h, m, sec, u % 9999999u, u % 13, u);
    else
        fprintf(f,
                "{\"CreationTime\":\"2021-01-%02uT%02u:%02u:%02u\",\"Id\":\"%08x-0000-4000-8000-00000000%04x\","
                "\"Operation\":\"%s\",\"OrganizationId\":\"o\",\"RecordType\":8,\"UserId\":\"user%u@contoso.com\","
                "\"Workload\":\"AzureActiveDirectory\",\"ResultStatus\":\"Success\"}\n",
                day, h, m, sec, u, u % 65536, u % 3 ? "Update user." : "Add user.", u % 101);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/ah-test-dedup-spill-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    uint32_t *order = malloc(TOTAL * sizeof *order);
    uint32_t *copies = calloc(UNIQUE, sizeof *copies);
    expected = malloc(UNIQUE * sizeof *expected);
    if (!order || !copies || !expected)
        return -1;
    for (uint32_t i = 0; i < TOTAL; i++)
        order[i] = i < UNIQUE ? i : (uint32_t)(i * 2654435761u % UNIQUE);
    uint64_t rng = 2026;
    for (uint32_t i = TOTAL - 1; i > 0; i--) {
        uint32_t j = (uint32_t)(next_random(&rng) % (i + 1));
        uint32_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    size_t per_file = TOTAL / FILES, line = 0;
    for (int fi = 0; fi < FILES; fi++) {
        snprintf(paths[fi], sizeof paths[fi], "%s/part-%d.jsonl", dir, fi);
        FILE *f = fopen(paths[fi], "w");
        if (!f)
            return -1;
        size_t end = fi == FILES - 1 ? TOTAL : line + per_file;
        uint64_t record_no = 0;
        for (; line < end; line++) {
            if (line % ERROR_EVERY == 7) {
                fprintf(f, "{\"unrecognised\":%zu}\n", line);
                record_no++;
            }
            uint32_t u = order[line];
            write_record(f, u, copies[u]);
            record_no++;
            if (copies[u]++ == 0)
                expected[nexpected++] = (delivered){(uint32_t)fi, record_no, {0, 0}};
        }
        fclose(f);
    }
    free(order);
    free(copies);
    return nexpected == UNIQUE ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    free(expected);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

static void capture(void *ud, ah_severity sev, const ah_where *w, const char *msg)
{
    captured *c = ud;
    c->n++;
    c->errors += sev == AH_SEV_ERROR;
    c->warnings += sev == AH_SEV_WARNING;
    uint64_t h = c->hash ^ (uint64_t)sev;
    for (const char *p = msg; *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
    for (const char *p = w && w->path ? w->path : ""; *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
    c->hash = (h ^ (w ? w->record_no : 0)) * 0x100000001b3ULL;
    if (strstr(msg, "cannot be read twice"))
        c->read_twice_warning = true;
}

typedef struct run {
    delivered *ev;
    size_t n;
    captured diag;
    ah_totals totals;
    ah_stream_report streams[FILES];
    char sha[FILES][65];
    ah_coverage cov[AH_SOURCE_COUNT];
} run;

static size_t files_in(const char *path)
{
    DIR *d = opendir(path);
    size_t n = 0;
    if (!d)
        return 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* Read paths (in the order given) with a duplicate budget; the temporary
 * runs go under dir/tmp, which must be empty again afterwards. */
static void read_all(run *r, size_t budget, const char *const *inputs, size_t ninputs)
{
    char tmp[320];
    snprintf(tmp, sizeof tmp, "%s/tmp", dir);
    mkdir(tmp, 0700);
    memset(r, 0, sizeof *r);
    ah_session_options o;
    ah_session_options_init(&o);
    o.diag_fn = capture;
    o.diag_ud = &r->diag;
    o.dedup_memory = budget;
    o.tmpdir = tmp;
    ah_session *s = ah_session_new(&o);
    assert_non_null(s);
    assert_int_equal(ah_session_add_inputs(s, inputs, ninputs), AH_OK);
    r->ev = malloc((UNIQUE + 16) * sizeof *r->ev);
    assert_non_null(r->ev);
    const ah_event *ev;
    ah_status st;
    while ((st = ah_session_next(s, &ev)) == AH_OK) {
        assert_true(r->n < UNIQUE + 16);
        r->ev[r->n++] = (delivered){ev->origin->input_no, ev->record_no, {ev->digest[0], ev->digest[1]}};
    }
    assert_int_equal(st, AH_END);
    r->totals = ah_session_totals(s);
    assert_int_equal(ah_session_stream_count(s), ninputs);
    for (size_t i = 0; i < ninputs && i < FILES; i++)
        r->streams[i] = *ah_session_stream(s, i);
    for (size_t i = 0; i < ah_session_file_count(s) && i < FILES; i++)
        snprintf(r->sha[i], sizeof r->sha[i], "%s", ah_session_file(s, i).sha256);
    for (int k = 0; k < AH_SOURCE_COUNT; k++)
        r->cov[k] = ah_session_coverage(s, (ah_source_kind)k);
    for (size_t i = 0; i < ninputs && i < FILES; i++) /* the report's strings die with the session */
        r->streams[i].path = r->streams[i].entry = r->streams[i].container = r->streams[i].encoding =
            r->streams[i].format = r->streams[i].failure = r->streams[i].framing = r->streams[i].not_a_log = NULL;
    ah_session_free(s);
    assert_int_equal(files_in(tmp), 0);
    rmdir(tmp);
}

static bool same_event(const delivered *a, const delivered *b)
{
    return a->input_no == b->input_no && a->record_no == b->record_no && a->digest[0] == b->digest[0] &&
           a->digest[1] == b->digest[1];
}

static void assert_same_run(const run *a, const run *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++)
        if (!same_event(&a->ev[i], &b->ev[i]))
            fail_msg("event %zu differs: input %u record %llu vs input %u record %llu", i, a->ev[i].input_no,
                     (unsigned long long)a->ev[i].record_no, b->ev[i].input_no, (unsigned long long)b->ev[i].record_no);
    for (int i = 0; i < FILES; i++) {
        const ah_stream_report *x = &a->streams[i], *y = &b->streams[i];
        assert_int_equal(x->records, y->records);
        assert_int_equal(x->events, y->events);
        assert_int_equal(x->duplicates, y->duplicates);
        assert_int_equal(x->errors, y->errors);
        assert_int_equal(x->has_time, y->has_time);
        assert_int_equal(ah_time_cmp(x->first, y->first), 0);
        assert_int_equal(ah_time_cmp(x->last, y->last), 0);
        assert_int_equal(x->source, y->source);
        assert_string_equal(a->sha[i], b->sha[i]);
        assert_int_equal(strlen(a->sha[i]), 64);
    }
    assert_int_equal(a->totals.records, b->totals.records);
    assert_int_equal(a->totals.events, b->totals.events);
    assert_int_equal(a->totals.duplicates, b->totals.duplicates);
    assert_int_equal(a->totals.errors, b->totals.errors);
    for (int k = 0; k < AH_SOURCE_COUNT; k++) {
        assert_int_equal(a->cov[k].events, b->cov[k].events);
        assert_int_equal(a->cov[k].empty_hours, b->cov[k].empty_hours);
        assert_int_equal(a->cov[k].gaps, b->cov[k].gaps);
    }
    /* every diagnostic once, in the same order */
    assert_int_equal(a->diag.n, b->diag.n);
    assert_int_equal(a->diag.errors, b->diag.errors);
    assert_true(a->diag.hash == b->diag.hash);
}

static void assert_oracle(const run *r)
{
    assert_int_equal(r->n, nexpected);
    for (size_t i = 0; i < r->n; i++)
        if (r->ev[i].input_no != expected[i].input_no || r->ev[i].record_no != expected[i].record_no)
            fail_msg("event %zu: input %u record %llu, expected input %u record %llu", i, r->ev[i].input_no,
                     (unsigned long long)r->ev[i].record_no, expected[i].input_no,
                     (unsigned long long)expected[i].record_no);
    uint64_t errors = (TOTAL + ERROR_EVERY - 1 - 7) / ERROR_EVERY;
    assert_int_equal(r->totals.records, TOTAL + errors);
    assert_int_equal(r->totals.events, UNIQUE);
    assert_int_equal(r->totals.duplicates, TOTAL - UNIQUE);
    assert_int_equal(r->totals.errors, errors);
    assert_int_equal(r->diag.errors, errors);
    for (int i = 0; i < FILES; i++)
        assert_true(r->streams[i].duplicates > 0 && r->streams[i].events > 0);
}

static void test_spill_is_exact(void **state)
{
    (void)state;
    const char *inputs[FILES] = {paths[2], paths[0], paths[1]}; /* any order: read by path */
    run in_memory, budget4m, tiny;
    read_all(&in_memory, 0, inputs, FILES);
    assert_int_equal(in_memory.totals.dedup_passes, 1);
    assert_int_equal(in_memory.totals.dedup_runs, 0);
    assert_oracle(&in_memory);

    read_all(&budget4m, (size_t)4 << 20, inputs, FILES);
    assert_int_equal(budget4m.totals.dedup_passes, 2);
    assert_true(budget4m.totals.dedup_runs >= 2);
    assert_true(budget4m.totals.dedup_memory <= ((size_t)4 << 20) + 4096);
    assert_same_run(&in_memory, &budget4m);

    /* 16 KiB: hundreds of runs, merged in several passes */
    read_all(&tiny, (size_t)16 << 10, inputs, FILES);
    assert_int_equal(tiny.totals.dedup_passes, 2);
    assert_true(tiny.totals.dedup_runs > 200);
    assert_same_run(&in_memory, &tiny);

    free(in_memory.ev);
    free(budget4m.ev);
    free(tiny.ev);
}

/* A pipe cannot be read twice: the set stays in memory past its budget,
 * with one warning, and the result is still exact. */
static void test_pipe_keeps_the_set(void **state)
{
    (void)state;
    char fifo[320];
    snprintf(fifo, sizeof fifo, "%s/pipe.jsonl", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        FILE *in = fopen(paths[0], "rb"), *out = fopen(fifo, "wb");
        char buf[65536];
        size_t k;
        while (in && out && (k = fread(buf, 1, sizeof buf, in)) > 0)
            fwrite(buf, 1, k, out);
        if (out)
            fclose(out); /* _exit does not flush */
        _exit(0);
    }
    const char *one[1] = {paths[0]}, *piped[1] = {fifo};
    run file, pipe;
    read_all(&file, (size_t)16 << 10, one, 1);
    read_all(&pipe, (size_t)16 << 10, piped, 1);
    int status;
    waitpid(child, &status, 0);
    unlink(fifo);
    assert_int_equal(file.totals.dedup_passes, 2);
    assert_int_equal(pipe.totals.dedup_passes, 1);
    assert_int_equal(pipe.totals.dedup_runs, 0);
    assert_true(pipe.totals.dedup_memory > ((size_t)16 << 10));
    assert_int_equal(pipe.diag.warnings, file.diag.warnings + 1);
    assert_true(pipe.diag.read_twice_warning);
    assert_false(file.diag.read_twice_warning);
    assert_int_equal(pipe.n, file.n);
    for (size_t i = 0; i < file.n; i++)
        assert_true(same_event(&pipe.ev[i], &file.ev[i]));
    assert_int_equal(pipe.totals.duplicates, file.totals.duplicates);
    assert_int_equal(pipe.totals.events, file.totals.events);
    free(file.ev);
    free(pipe.ev);
}

/* Runs that cannot be written: the error is reported (never muted), the
 * session stops with AH_ERR_IO and the read counts as partial. */
static void test_unwritable_tmpdir(void **state)
{
    (void)state;
    captured cap = {0};
    ah_session_options o;
    ah_session_options_init(&o);
    o.diag_fn = capture;
    o.diag_ud = &cap;
    o.dedup_memory = (size_t)16 << 10;
    o.tmpdir = "/nonexistent/audithound-test";
    ah_session *s = ah_session_new(&o);
    assert_non_null(s);
    assert_int_equal(ah_session_add_input(s, paths[0]), AH_OK);
    const ah_event *ev;
    ah_status st;
    size_t n = 0;
    while ((st = ah_session_next(s, &ev)) == AH_OK)
        n++;
    assert_int_equal(st, AH_ERR_IO);
    assert_true(n > 0 && n < UNIQUE / FILES);
    assert_true(cap.errors >= 1);
    assert_true(ah_session_partial(s));
    ah_session_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spill_is_exact),
        cmocka_unit_test(test_pipe_keeps_the_set),
        cmocka_unit_test(test_unwritable_tmpdir),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
