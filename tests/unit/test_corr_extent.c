/*
 * test_corr_extent.c: a burst reported once, at its full extent: when it is
 * reported (the window gone quiet, seen at another group's observation; at
 * finish), exact counts past the threshold, the record ids capped with the
 * true totals, the maximum extent, an open burst reported when its group
 * is evicted; twins (the UAL and Entra copies of one sign-in or directory
 * change) counted once, and their look-alikes counted; a sequence whose first step aggregates;
 * `outside baseline` aggregations.
 */
#include "test_corr_util.h"

static const char *const RULES =
    "correlation spray {\n"
    "  title \"s\"\n  severity high\n  sources signin ual\n"
    "  match result == \"failure\" and (source == \"signin\" or operation == \"UserLoginFailed\")\n"
    "  group ip\n"
    "  window 30m\n"
    "  when distinct(user) >= 3\n"
    "  details \"{distinct} accounts, {count} failures\"\n"
    "}\n"
    "correlation many {\n"
    "  title \"m\"\n  severity low\n  sources ual\n"
    "  match operation == \"FileDeleted\"\n"
    "  group user\n"
    "  window 10m\n"
    "  when count >= 2\n"
    "}\n"
    "sequence spray-then-success {\n"
    "  title \"i\"\n  severity high\n  sources signin ual\n"
    "  within 1h\n"
    "  step sprayed {\n"
    "    match result == \"failure\" and (source == \"signin\" or operation == \"UserLoginFailed\")\n"
    "    key   ip\n"
    "    when  distinct(user) >= 3\n"
    "  }\n"
    "  step success {\n"
    "    match result == \"success\" and (source == \"signin\" or operation == \"UserLoggedIn\")\n"
    "    key   ip\n"
    "  }\n"
    "  details \"{count} events, success {last_time}\"\n"
    "}\n"
    "correlation resets {\n"
    "  title \"r\"\n  severity medium\n  sources entra_audit ual\n"
    "  match operation == \"Reset user password\"\n"
    "  group user\n"
    "  window 1h\n"
    "  when distinct(target) >= 2\n"
    "  details \"{distinct} accounts\"\n"
    "}\n"
    "correlation shared-new-address {\n"
    "  title \"a\"\n  severity medium\n  sources signin\n"
    "  match result == \"success\" and user exists\n"
    "  group ip\n"
    "  window 7d\n"
    "  when distinct(user) >= 3 outside baseline\n"
    "  baseline 2d\n"
    "  details \"{distinct} accounts from {ip}\"\n"
    "}\n";

typedef corr_fixture fixture;

static int setup(void **state) { return corr_fixture_setup(state, "x.rules", RULES); }

static int teardown(void **state) { return corr_fixture_teardown(state); }

/* A sign-in (Entra) or its UAL copy, as the parsers normalize them. */
static void login(fixture *f, ah_source_kind src, const char *iso, int64_t plus_ns, const char *id, const char *user,
                  const char *ip, bool ok)
{
    tevent t;
    cev(&t, src, iso, id);
    t.ev.time.sec += plus_ns / 1000000000;
    t.ev.time.nsec += (int32_t)(plus_ns % 1000000000);
    t.ev.result = ok ? AH_RESULT_SUCCESS : AH_RESULT_FAILURE;
    if (src == AH_SOURCE_UAL)
        tevent_set(&t, AH_F_OPERATION, ok ? "UserLoggedIn" : "UserLoginFailed");
    else
        tevent_set(&t, AH_F_OPERATION, "Sign-in");
    tevent_set(&t, AH_F_WORKLOAD, "AzureActiveDirectory");
    tevent_set(&t, AH_F_USER, user);
    tevent_set(&t, AH_F_IP, ip);
    tevent_set(&t, AH_F_APP_ID, "4765445b-32c6-49b0-83e6-1d93765276ca");
    ah_matcher_observe(f->m, &t.ev, cobs_collect, &f->V);
    tevent_free(&t);
}

static void deleted(fixture *f, const char *iso, int64_t plus_ns, const char *id, const char *user)
{
    tevent t;
    cev(&t, AH_SOURCE_UAL, iso, id);
    t.ev.time.sec += plus_ns / 1000000000;
    t.ev.time.nsec += (int32_t)(plus_ns % 1000000000);
    tevent_set(&t, AH_F_OPERATION, "FileDeleted");
    tevent_set(&t, AH_F_USER, user);
    ah_matcher_observe(f->m, &t.ev, cobs_collect, &f->V);
    tevent_free(&t);
}

/* A directory change in Entra or its UAL copy (target User_<id> there). */
static void reset(fixture *f, ah_source_kind src, const char *iso, const char *id, const char *actor,
                  const char *target, const char *corr)
{
    tevent t;
    cev(&t, src, iso, id);
    t.ev.result = AH_RESULT_SUCCESS;
    tevent_set(&t, AH_F_OPERATION, src == AH_SOURCE_UAL ? "Reset user password." : "Reset user password");
    tevent_set(&t, AH_F_WORKLOAD, src == AH_SOURCE_UAL ? "AzureActiveDirectory" : "Core Directory");
    tevent_set(&t, AH_F_USER, actor);
    tevent_set(&t, AH_F_IP, "192.0.2.77");
    tevent_set(&t, AH_F_TARGET, target);
    tevent_set(&t, AH_F_CORRELATION_ID, corr);
    ah_matcher_observe(f->m, &t.ev, cobs_collect, &f->V);
    tevent_free(&t);
}

static const char *run(fixture *f)
{
    ah_buf_reset(&f->out);
    assert_int_equal(corr_run(f->rs, &f->V, 0, &f->td.d, &f->out, NULL, NULL), AH_OK);
    return ah_buf_cstr(&f->out);
}

/* The hits of one rule, with the fields chit_fn leaves out. */
typedef struct hits {
    const char *rule;
    size_t n;
    ah_corr_hit h[4];
    char last[4][40];
    char last_user[4][64];
    bool seen_before_finish[4];
    bool finishing;
} hits;

static void hit_keep(void *ud, const ah_corr_hit *h)
{
    hits *H = ud;
    if (strcmp(ah_rule_metadata(h->rule)->id, H->rule) != 0 || H->n == 4)
        return;
    H->h[H->n] = *h; /* spans die after the callback: only numbers are read */
    ah_time_format(h->last_time, H->last[H->n]);
    snprintf(H->last_user[H->n], sizeof H->last_user[H->n], "%.*s", (int)h->last_user.n,
             h->last_user.p ? h->last_user.p : "");
    H->seen_before_finish[H->n] = !H->finishing;
    H->n++;
}

static void run_keep(fixture *f, size_t budget, hits *H)
{
    qsort(f->V.v, f->V.n, sizeof *f->V.v, cobs_cmp);
    ah_correlator *c = ah_correlator_new(f->rs, budget, &f->td.d);
    assert_non_null(c);
    for (size_t i = 0; i < f->V.n; i++) {
        ah_observation o;
        assert_int_equal(ah_observation_decode(ah_span_make(f->V.v[i].blob, f->V.v[i].len), &o), AH_OK);
        assert_int_equal(ah_correlator_feed(c, &o, hit_keep, H), AH_OK);
    }
    H->finishing = true;
    assert_int_equal(ah_correlator_finish(c, hit_keep, H), AH_OK);
    ah_correlator_free(c);
}

/* The samples/tenant shape: each failure is in the Entra sign-in log and,
 * one second later, in the UAL. Three accounts: 3 distinct, 3 failures,
 * 6 record ids. */
static void test_twins_counted_once(void **state)
{
    fixture *f = *state;
    static const char *const users[] = {"a@c.com", "b@c.com", "c@c.com"};
    char id[16];
    for (int i = 0; i < 3; i++) {
        snprintf(id, sizeof id, "s%d", i);
        login(f, AH_SOURCE_SIGNIN, "2021-01-13T02:14:07Z", (int64_t)i * 37000000000, id, users[i], "13.59.205.66",
              false);
        snprintf(id, sizeof id, "u%d", i);
        /* The UAL copy: user in another case, same address and application. */
        login(f, AH_SOURCE_UAL, "2021-01-13T02:14:08Z", (int64_t)i * 37000000000, id, i == 1 ? "B@C.COM" : users[i],
              "13.59.205.66", false);
    }
    ah_buf tmp;
    ah_buf_init(&tmp, 0);
    assert_text_equal(run(f),
                      "spray 2021-01-13T02:14:07.0000000Z group=13.59.205.66 value=3 count=3 ids=s0,u0,s1,u1,s2,u2 "
                      "details=3 accounts, 3 failures\n");
    ah_buf_free(&tmp);
}

/* Look-alikes of twins are counted: two Entra failures of one account at
 * the same second (one log: not twins), a UAL copy from another address,
 * and a UAL copy more than 5 s later. */
static void test_twin_lookalikes_counted(void **state)
{
    fixture *f = *state;
    login(f, AH_SOURCE_SIGNIN, "2021-01-13T03:00:00Z", 0, "e1", "a@c.com", "192.0.2.7", false);
    login(f, AH_SOURCE_SIGNIN, "2021-01-13T03:00:00Z", 0, "e2", "a@c.com", "192.0.2.7", false);
    login(f, AH_SOURCE_SIGNIN, "2021-01-13T03:01:00Z", 0, "e3", "b@c.com", "192.0.2.7", false);
    login(f, AH_SOURCE_UAL, "2021-01-13T03:01:01Z", 0, "u3", "b@c.com", "192.0.2.8", false); /* other address */
    login(f, AH_SOURCE_SIGNIN, "2021-01-13T03:02:00Z", 0, "e4", "c@c.com", "192.0.2.7", false);
    login(f, AH_SOURCE_UAL, "2021-01-13T03:02:05Z", 1, "u4", "c@c.com", "192.0.2.7", false); /* 5 s + 1 ns */
    login(f, AH_SOURCE_UAL, "2021-01-13T03:02:10Z", 0, "u5", "c@c.com", "192.0.2.7", false);
    login(f, AH_SOURCE_SIGNIN, "2021-01-13T03:02:15Z", 0, "e5", "c@c.com", "192.0.2.7",
          false); /* exactly 5 s: twin of u5 */
    assert_text_equal(run(f),
                      "spray 2021-01-13T03:00:00.0000000Z group=192.0.2.7 value=3 count=6 ids=e1,e2,e3,e4,u4,u5,e5 "
                      "details=3 accounts, 6 failures\n");
}

/* Past the threshold every distinct value counts, exactly; the ids are
 * capped, the totals are not. */
static void test_full_extent_and_id_cap(void **state)
{
    fixture *f = *state;
    char id[16], user[32];
    for (int i = 0; i < 150; i++) {
        snprintf(id, sizeof id, "f%d", i);
        snprintf(user, sizeof user, "user%d@c.com", i);
        login(f, AH_SOURCE_SIGNIN, "2021-01-13T02:00:00Z", (int64_t)i * 60000000000, id, user, "198.51.100.9", false);
    }
    hits H = {.rule = "spray"};
    run_keep(f, 0, &H);
    assert_int_equal(H.n, 1);
    assert_true(H.h[0].value == 150);
    assert_int_equal(H.h[0].count, 150);
    assert_int_equal(H.h[0].records, 150);
    assert_int_equal(H.h[0].nrecord_ids, AH_CORR_MAX_IDS);
    assert_false(H.h[0].continues);
    assert_string_equal(H.last[0], "2021-01-13T04:29:00.0000000Z");
}

/* A burst is reported when its window has gone quiet: at the first
 * observation (of any group) more than W after its last event, not at
 * exactly W; an open burst is reported at finish. */
static void test_reported_when_quiet(void **state)
{
    fixture *f = *state;
    deleted(f, "2021-01-13T08:00:00Z", 0, "a1", "k@c.com");
    deleted(f, "2021-01-13T08:01:00Z", 0, "a2", "k@c.com");
    deleted(f, "2021-01-13T08:11:00Z", 0, "o1", "other@c.com"); /* exactly 10m after a2 */
    deleted(f, "2021-01-13T08:11:00Z", 1, "o2", "other@c.com"); /* 10m + 1ns: k's burst is over */
    deleted(f, "2021-01-13T08:12:00Z", 0, "o3", "other@c.com");
    hits H = {.rule = "many"};
    run_keep(f, 0, &H);
    assert_int_equal(H.n, 2);
    assert_int_equal(H.h[0].count, 2);
    assert_true(H.seen_before_finish[0]);
    assert_string_equal(H.last[0], "2021-01-13T08:01:00.0000000Z");
    assert_int_equal(H.h[1].count, 3); /* o1..o3, open until finish */
    assert_false(H.seen_before_finish[1]);
}

/* A burst longer than the maximum extent is cut and continues as a new hit. */
static void test_max_extent(void **state)
{
    fixture *f = *state;
    char id[16];
    /* Every 5 minutes for 25 hours: 301 events, never quiet. */
    for (int i = 0; i <= 300; i++) {
        snprintf(id, sizeof id, "d%d", i);
        deleted(f, "2021-01-13T00:00:00Z", (int64_t)i * 300000000000, id, "k@c.com");
    }
    hits H = {.rule = "many"};
    run_keep(f, 0, &H);
    assert_int_equal(H.n, 2);
    assert_int_equal(H.h[0].count, 289); /* 00:00 to 24:00 inclusive */
    assert_string_equal(H.last[0], "2021-01-14T00:00:00.0000000Z");
    assert_false(H.h[0].continues);
    assert_int_equal(H.h[1].count, 12); /* 00:05 to 01:00 */
    assert_true(H.h[1].continues);
    assert_true(AH_CORR_MAX_EXTENT_NS == (int64_t)86400 * 1000000000);
}

/* A group evicted at the memory budget reports its open burst first. */
static void test_evicted_burst_reported(void **state)
{
    fixture *f = *state;
    deleted(f, "2021-01-13T09:00:00Z", 0, "k1", "k@c.com");
    deleted(f, "2021-01-13T09:00:01Z", 0, "k2", "k@c.com");
    char id[16], user[32];
    for (int i = 0; i < 200; i++) {
        snprintf(id, sizeof id, "x%d", i);
        snprintf(user, sizeof user, "u%d@c.com", i);
        deleted(f, "2021-01-13T09:00:02Z", i, id, user);
    }
    hits H = {.rule = "many"};
    run_keep(f, 1, &H);
    assert_int_equal(H.n, 1);
    assert_int_equal(H.h[0].count, 2);
    assert_true(H.seen_before_finish[0]);
}

/* A sequence whose first step aggregates: three accounts sprayed from one
 * address (twins once), then a success from it within the hour. */
static void test_sequence_aggregating_step(void **state)
{
    fixture *f = *state;
    /* 192.0.2.1: a, b, c fail (with UAL copies), then a success: a hit. */
    login(f, AH_SOURCE_SIGNIN, "2021-01-13T02:00:00Z", 0, "p1", "a@c.com", "192.0.2.1", false);
    login(f, AH_SOURCE_UAL, "2021-01-13T02:00:01Z", 0, "q1", "a@c.com", "192.0.2.1", false);
    login(f, AH_SOURCE_SIGNIN, "2021-01-13T02:01:00Z", 0, "p2", "b@c.com", "192.0.2.1", false);
    login(f, AH_SOURCE_SIGNIN, "2021-01-13T02:02:00Z", 0, "p3", "c@c.com", "192.0.2.1", false);
    login(f, AH_SOURCE_SIGNIN, "2021-01-13T02:10:00Z", 0, "p4", "it@c.com", "192.0.2.1", true);
    login(f, AH_SOURCE_UAL, "2021-01-13T02:10:01Z", 0, "q4", "it@c.com", "192.0.2.1",
          true); /* its copy: no second hit */
    /* 192.0.2.2: two accounts, each failure twice (Entra + UAL): 2 distinct, no hit. */
    login(f, AH_SOURCE_SIGNIN, "2021-01-13T02:00:00Z", 0, "r1", "a@c.com", "192.0.2.2", false);
    login(f, AH_SOURCE_UAL, "2021-01-13T02:00:01Z", 0, "r2", "a@c.com", "192.0.2.2", false);
    login(f, AH_SOURCE_SIGNIN, "2021-01-13T02:01:00Z", 0, "r3", "b@c.com", "192.0.2.2", false);
    login(f, AH_SOURCE_UAL, "2021-01-13T02:01:01Z", 0, "r4", "b@c.com", "192.0.2.2", false);
    login(f, AH_SOURCE_SIGNIN, "2021-01-13T02:05:00Z", 0, "r5", "a@c.com", "192.0.2.2", true);
    /* 192.0.2.3: the success comes before the third account fails, then
     * one more than an hour after the first failure. */
    login(f, AH_SOURCE_SIGNIN, "2021-01-13T02:00:00Z", 0, "t1", "a@c.com", "192.0.2.3", false);
    login(f, AH_SOURCE_SIGNIN, "2021-01-13T02:01:00Z", 0, "t2", "b@c.com", "192.0.2.3", false);
    login(f, AH_SOURCE_SIGNIN, "2021-01-13T02:01:30Z", 0, "t3", "b@c.com", "192.0.2.3", true);
    login(f, AH_SOURCE_SIGNIN, "2021-01-13T02:02:00Z", 0, "t4", "c@c.com", "192.0.2.3", false);
    login(f, AH_SOURCE_SIGNIN, "2021-01-13T03:00:00Z", 1, "t5", "b@c.com", "192.0.2.3", true);
    ah_buf tmp;
    ah_buf_init(&tmp, 0);
    run(f);
    const char *s = ah_buf_cstr(&f->out);
    ah_buf_reset(&tmp);
    for (const char *p = s; *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) + 1 : strlen(p);
        if (strncmp(p, "spray-then-success ", 19) == 0)
            ah_buf_append(&tmp, p, len);
        p += len;
    }
    assert_text_equal(ah_buf_cstr(&tmp),
                      "spray-then-success 2021-01-13T02:00:00.0000000Z group=192.0.2.1 value=2 count=4 "
                      "ids=p1,q1,p2,p3,p4 details=4 events, success 2021-01-13T02:10:00.0000000Z\n");
    ah_buf_free(&tmp);
    /* The hit names the account that signed in (the last event) besides the first. */
    hits H = {.rule = "spray-then-success"};
    run_keep(f, 0, &H);
    assert_int_equal(H.n, 1);
    assert_string_equal(H.last_user[0], "it@c.com");
    assert_int_equal(H.h[0].records, 5);
}

/* `outside baseline`: an address seen while learning never counts; a new
 * one counts its accounts. */
static void test_outside_baseline(void **state)
{
    fixture *f = *state;
    /* Learning: 2021-01-10 00:00 to 2021-01-12 00:00 (2 days from the first event). */
    login(f, AH_SOURCE_SIGNIN, "2021-01-10T00:00:00Z", 0, "b1", "a@c.com", "198.51.100.23", true);
    login(f, AH_SOURCE_SIGNIN, "2021-01-11T23:59:59Z", 0, "b2", "z@c.com", "198.51.100.24", true);
    /* After: the office egress again, many users: known, quiet. */
    login(f, AH_SOURCE_SIGNIN, "2021-01-13T08:00:00Z", 0, "o1", "a@c.com", "198.51.100.23", true);
    login(f, AH_SOURCE_SIGNIN, "2021-01-13T08:01:00Z", 0, "o2", "b@c.com", "198.51.100.23", true);
    login(f, AH_SOURCE_SIGNIN, "2021-01-13T08:02:00Z", 0, "o3", "c@c.com", "198.51.100.23", true);
    login(f, AH_SOURCE_SIGNIN, "2021-01-14T08:02:00Z", 0, "o4", "d@c.com", "198.51.100.24", true);
    login(f, AH_SOURCE_SIGNIN, "2021-01-14T08:03:00Z", 0, "o5", "e@c.com", "198.51.100.24", true);
    login(f, AH_SOURCE_SIGNIN, "2021-01-14T08:04:00Z", 0, "o6", "f@c.com", "198.51.100.24", true);
    /* A new address, three accounts over three days: a hit. */
    login(f, AH_SOURCE_SIGNIN, "2021-01-13T03:50:00Z", 0, "n1", "adele@c.com", "192.0.2.77", true);
    login(f, AH_SOURCE_SIGNIN, "2021-01-14T09:00:00Z", 0, "n2", "megan@c.com", "192.0.2.77", true);
    login(f, AH_SOURCE_SIGNIN, "2021-01-16T09:00:00Z", 0, "n3", "it@c.com", "192.0.2.77", true);
    /* Another new address, two accounts: no hit. */
    login(f, AH_SOURCE_SIGNIN, "2021-01-13T03:50:00Z", 0, "m1", "a@c.com", "192.0.2.88", true);
    login(f, AH_SOURCE_SIGNIN, "2021-01-13T03:51:00Z", 0, "m2", "b@c.com", "192.0.2.88", true);
    ah_buf tmp;
    ah_buf_init(&tmp, 0);
    run(f);
    const char *s = ah_buf_cstr(&f->out);
    for (const char *p = s; *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) + 1 : strlen(p);
        if (strncmp(p, "shared-new-address ", 19) == 0)
            ah_buf_append(&tmp, p, len);
        p += len;
    }
    assert_text_equal(ah_buf_cstr(&tmp),
                      "shared-new-address 2021-01-13T03:50:00.0000000Z group=192.0.2.77 value=3 count=3 "
                      "ids=n1,n2,n3 details=3 accounts from 192.0.2.77\n");
    ah_buf_free(&tmp);
}

/* Directory changes: the UAL copy (target User_<id>) of the Entra record
 * counts once, recognised by the correlation id both carry; a UAL record of
 * another change by the same actor in the same seconds is no twin. */
static void test_directory_twins_by_correlation_id(void **state)
{
    fixture *f = *state;
    reset(f, AH_SOURCE_ENTRA_AUDIT, "2021-01-13T09:12:04.1Z", "e1", "adm1@c.com", "a@c.com", "c1");
    reset(f, AH_SOURCE_UAL, "2021-01-13T09:12:05Z", "u1", "adm1@c.com", "User_0001", "c1"); /* its copy */
    reset(f, AH_SOURCE_ENTRA_AUDIT, "2021-01-13T10:00:00Z", "e2", "adm2@c.com", "a@c.com", "c2");
    reset(f, AH_SOURCE_UAL, "2021-01-13T10:00:01Z", "u2", "adm2@c.com", "User_0002", "c3"); /* another reset */
    ah_buf tmp;
    ah_buf_init(&tmp, 0);
    run(f);
    const char *s = ah_buf_cstr(&f->out);
    for (const char *p = s; *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) + 1 : strlen(p);
        if (strncmp(p, "resets ", 7) == 0)
            ah_buf_append(&tmp, p, len);
        p += len;
    }
    assert_text_equal(ah_buf_cstr(&tmp),
                      "resets 2021-01-13T10:00:00.0000000Z group=adm2@c.com value=2 count=2 ids=e2,u2 "
                      "details=2 accounts\n");
    ah_buf_free(&tmp);
}

static void test_lint_new_syntax(void **state)
{
    (void)state;
    expect_one_error("sequence s {\n  title \"t\"\n  severity low\n  sources signin\n  within 1h\n"
                     "  step a { match result == \"failure\" key ip }\n"
                     "  step b { match result == \"success\" key ip when count >= 2 }\n}\n",
                     "l.rules:7:50: error: only the first step of a sequence may aggregate (`when` in step 'b')");
    expect_one_error("sequence s {\n  title \"t\"\n  severity low\n  sources signin\n  within 1h\n"
                     "  step a { match result == \"failure\" key ip when count < 2 }\n"
                     "  step b { match result == \"success\" key ip }\n}\n",
                     "a step's `when` takes >, >= or ==");
    expect_one_error(
        "correlation c {\n  title \"t\"\n  severity low\n  sources signin\n  match ip exists\n  group ip\n  window 1d\n"
        "  when distinct(user) >= 3 outside baseline\n}\n",
        "`outside baseline` needs a learning period");
    expect_one_error(
        "correlation c {\n  title \"t\"\n  severity low\n  sources signin\n  match ip exists\n  group ip\n  window 1d\n"
        "  when distinct(user) >= 3 outside the office\n  baseline 2d\n}\n",
        "expected 'baseline' after outside");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_twins_counted_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_twin_lookalikes_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_extent_and_id_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reported_when_quiet, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_extent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_evicted_burst_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sequence_aggregating_step, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outside_baseline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_directory_twins_by_correlation_id, setup, teardown),
        cmocka_unit_test(test_lint_new_syntax),
    };
    return cmocka_run_group_tests_name("corr_extent", tests, NULL, NULL);
}
