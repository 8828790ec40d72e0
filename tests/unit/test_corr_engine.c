/*
 * test_corr_engine.c: the correlation engine on small series of hand-built
 * events: sliding-window edges (exactly at the limit and one nanosecond
 * over, midnight and hour boundaries), one hit per burst, distinct / sum /
 * == / <, hit contents, shuffled input, eviction under a tiny budget,
 * first-seen baselines, sequences joined on different fields per step,
 * absence, the byte form of observations and misuse.
 */
#include "test_corr_util.h"

static const char *const RULES =
    "correlation burst {\n"
    "  title \"b\"\n  severity high\n  sources signin\n"
    "  match result == \"failure\"\n"
    "  group ip\n"
    "  window 10m\n"
    "  when count >= 3\n"
    "  details \"{count} failures from {group} in {window}, {first_time} to {last_time}, first {user} ({record_id})\"\n"
    "}\n"
    "correlation spray {\n"
    "  title \"s\"\n  severity high\n  sources signin\n"
    "  match result == \"failure\"\n"
    "  group ip\n"
    "  window 1h\n"
    "  when distinct(user) >= 3\n"
    "  details \"{distinct} users\"\n"
    "}\n"
    "correlation volume {\n"
    "  title \"v\"\n  severity low\n  sources ual\n"
    "  match operation == \"MailItemsAccessed\"\n"
    "  group app_id\n"
    "  window 1h\n"
    "  when sum(raw.OperationCount) > 100\n"
    "  details \"{sum} items, {count} records\"\n"
    "}\n"
    "correlation exact {\n"
    "  title \"e\"\n  severity low\n  sources ual\n"
    "  match operation == \"FileDeleted\"\n"
    "  group user\n"
    "  window 5m\n"
    "  when count == 2\n"
    "}\n"
    "correlation quiet {\n"
    "  title \"q\"\n  severity low\n  sources ual\n"
    "  match operation == \"MailboxLogin\"\n"
    "  group user\n"
    "  window 1h\n"
    "  when count < 3\n"
    "  details \"{count} logins\"\n"
    "}\n"
    "first-seen newip {\n"
    "  title \"f\"\n  severity medium\n  sources signin\n"
    "  match record_type == \"servicePrincipal\"\n"
    "  group app_id\n"
    "  value ip\n"
    "  baseline 1d\n"
    "  details \"{app} from {value}\"\n"
    "}\n"
    "sequence credsignin {\n"
    "  title \"c\"\n  severity high\n  sources entra_audit signin\n"
    "  within 30m\n"
    "  step added { match operation == \"Add service principal credentials\" key target }\n"
    "  step signin { match source == \"signin\" and record_type == \"servicePrincipal\" key app_id }\n"
    "  details \"{target} then sign-in at {last_time}\"\n"
    "}\n"
    "sequence noremove {\n"
    "  title \"n\"\n  severity high\n  sources entra_audit\n"
    "  within 10m\n"
    "  step created { match operation == \"Add service principal\" key app_id }\n"
    "  step not removed { match operation == \"Remove service principal\" key app_id }\n"
    "  details \"{group} created {first_time}, not removed\"\n"
    "}\n";

typedef corr_fixture fixture;

static int setup(void **state) { return corr_fixture_setup(state, "c.rules", RULES); }

static int teardown(void **state) { return corr_fixture_teardown(state); }

/* A failed sign-in. nsec_extra is added to the parsed time. */
static void fail_signin(fixture *f, const char *iso, int32_t nsec_extra, const char *id, const char *user,
                        const char *ip)
{
    tevent t;
    cev(&t, AH_SOURCE_SIGNIN, iso, id);
    t.ev.time.nsec += nsec_extra;
    t.ev.result = AH_RESULT_FAILURE;
    tevent_set(&t, AH_F_OPERATION, "Sign-in");
    tevent_set(&t, AH_F_USER, user);
    tevent_set(&t, AH_F_IP, ip);
    ah_matcher_observe(f->m, &t.ev, cobs_collect, &f->V);
    tevent_free(&t);
}

static void ual_op(fixture *f, const char *iso, const char *id, const char *op, const char *user, const char *app,
                   const char *raw)
{
    tevent t;
    cev(&t, AH_SOURCE_UAL, iso, id);
    tevent_set(&t, AH_F_OPERATION, op);
    tevent_set(&t, AH_F_USER, user);
    tevent_set(&t, AH_F_APP_ID, app);
    if (raw)
        tevent_json(&t, raw, NULL);
    ah_matcher_observe(f->m, &t.ev, cobs_collect, &f->V);
    tevent_free(&t);
}

static void sp_signin(fixture *f, const char *iso, int32_t nsec_extra, const char *id, const char *app_id,
                      const char *ip)
{
    tevent t;
    cev(&t, AH_SOURCE_SIGNIN, iso, id);
    t.ev.time.nsec += nsec_extra;
    t.ev.result = AH_RESULT_SUCCESS;
    tevent_set(&t, AH_F_OPERATION, "Service principal sign-in");
    tevent_set(&t, AH_F_RECORD_TYPE, "servicePrincipal");
    tevent_set(&t, AH_F_APP_ID, app_id);
    tevent_set(&t, AH_F_APP, "MailSync");
    tevent_set(&t, AH_F_IP, ip);
    ah_matcher_observe(f->m, &t.ev, cobs_collect, &f->V);
    tevent_free(&t);
}

static void audit(fixture *f, const char *iso, int32_t nsec_extra, const char *id, const char *op, const char *target,
                  const char *app_id)
{
    tevent t;
    cev(&t, AH_SOURCE_ENTRA_AUDIT, iso, id);
    t.ev.time.nsec += nsec_extra;
    t.ev.result = AH_RESULT_SUCCESS;
    tevent_set(&t, AH_F_OPERATION, op);
    tevent_set(&t, AH_F_TARGET, target);
    tevent_set(&t, AH_F_APP_ID, app_id);
    tevent_set(&t, AH_F_USER, "adele@contoso.com");
    ah_matcher_observe(f->m, &t.ev, cobs_collect, &f->V);
    tevent_free(&t);
}

static const char *run(fixture *f)
{
    ah_buf_reset(&f->out);
    assert_int_equal(corr_run(f->rs, &f->V, 0, &f->td.d, &f->out, NULL, NULL), AH_OK);
    return ah_buf_cstr(&f->out);
}

/* Only the lines of one rule. */
static const char *lines_of(fixture *f, const char *rule, ah_buf *tmp)
{
    ah_buf_reset(tmp);
    const char *s = ah_buf_cstr(&f->out);
    size_t n = strlen(rule);
    while (*s) {
        const char *e = strchr(s, '\n');
        size_t len = e ? (size_t)(e - s) + 1 : strlen(s);
        if (strncmp(s, rule, n) == 0 && s[n] == ' ')
            ah_buf_append(tmp, s, len);
        s += len;
    }
    return ah_buf_cstr(tmp);
}

static void test_window_edge_inclusive(void **state)
{
    fixture *f = *state;
    fail_signin(f, "2021-01-13T02:00:00Z", 0, "a", "u1@c.com", "192.0.2.1");
    fail_signin(f, "2021-01-13T02:05:00Z", 0, "b", "u1@c.com", "192.0.2.1");
    fail_signin(f, "2021-01-13T02:10:00Z", 0, "c", "u1@c.com", "192.0.2.1"); /* exactly 10m after a */
    ah_buf tmp;
    ah_buf_init(&tmp, 0);
    run(f);
    assert_text_equal(lines_of(f, "burst", &tmp),
                      "burst 2021-01-13T02:00:00.0000000Z group=192.0.2.1 value=3 count=3 ids=a,b,c "
                      "details=3 failures from 192.0.2.1 in 10m, 2021-01-13T02:00:00.0000000Z to "
                      "2021-01-13T02:10:00.0000000Z, first u1@c.com (a)\n");
    ah_buf_free(&tmp);
}

static void test_window_edge_one_ns_over(void **state)
{
    fixture *f = *state;
    fail_signin(f, "2021-01-13T02:00:00Z", 0, "a", "u1@c.com", "192.0.2.1");
    fail_signin(f, "2021-01-13T02:05:00Z", 0, "b", "u1@c.com", "192.0.2.1");
    fail_signin(f, "2021-01-13T02:10:00Z", 1, "c", "u1@c.com", "192.0.2.1"); /* 10m + 1ns */
    ah_buf tmp;
    ah_buf_init(&tmp, 0);
    run(f);
    assert_text_equal(lines_of(f, "burst", &tmp), "");
    ah_buf_free(&tmp);
}

static void test_midnight_and_hour_boundaries(void **state)
{
    fixture *f = *state;
    /* Fixed hourly or daily buckets would split both bursts. */
    fail_signin(f, "2021-01-13T23:58:00Z", 0, "m1", "x@c.com", "192.0.2.2");
    fail_signin(f, "2021-01-13T23:59:59Z", 0, "m2", "x@c.com", "192.0.2.2");
    fail_signin(f, "2021-01-14T00:01:00Z", 0, "m3", "x@c.com", "192.0.2.2");
    fail_signin(f, "2021-01-14T02:59:00Z", 0, "h1", "x@c.com", "192.0.2.3");
    fail_signin(f, "2021-01-14T03:00:30Z", 0, "h2", "x@c.com", "192.0.2.3");
    fail_signin(f, "2021-01-14T03:02:00Z", 0, "h3", "x@c.com", "192.0.2.3");
    ah_buf tmp;
    ah_buf_init(&tmp, 0);
    run(f);
    const char *got = lines_of(f, "burst", &tmp);
    assert_non_null(strstr(got, "burst 2021-01-13T23:58:00.0000000Z group=192.0.2.2 value=3 count=3 ids=m1,m2,m3 "));
    assert_non_null(strstr(got, "burst 2021-01-14T02:59:00.0000000Z group=192.0.2.3 value=3 count=3 ids=h1,h2,h3 "));
    ah_buf_free(&tmp);
}

/* One hit per burst: a burst that goes on stays one hit, reported with its
 * whole extent (a0..b2, not the three events that crossed the threshold);
 * the next fires only when it starts more than the window after the last
 * event. */
static void test_refire_suppression(void **state)
{
    fixture *f = *state;
    char id[16], iso[40];
    for (int i = 0; i < 10; i++) {
        snprintf(id, sizeof id, "a%d", i);
        snprintf(iso, sizeof iso, "2021-01-13T05:00:%02dZ", i);
        fail_signin(f, iso, 0, id, "u@c.com", "192.0.2.9");
    }
    /* Exactly 10m after a9: a9 is still in the window, the burst goes on. */
    fail_signin(f, "2021-01-13T05:10:09Z", 0, "b0", "u@c.com", "192.0.2.9");
    fail_signin(f, "2021-01-13T05:15:00Z", 0, "b1", "u@c.com", "192.0.2.9");
    fail_signin(f, "2021-01-13T05:16:00Z", 0, "b2", "u@c.com", "192.0.2.9");
    /* More than 10m after b2: a new burst. */
    fail_signin(f, "2021-01-13T05:26:01Z", 0, "c0", "u@c.com", "192.0.2.9");
    fail_signin(f, "2021-01-13T05:26:02Z", 0, "c1", "u@c.com", "192.0.2.9");
    fail_signin(f, "2021-01-13T05:26:03Z", 0, "c2", "u@c.com", "192.0.2.9");
    ah_buf tmp;
    ah_buf_init(&tmp, 0);
    run(f);
    const char *got = lines_of(f, "burst", &tmp);
    assert_non_null(strstr(got, "burst 2021-01-13T05:00:00.0000000Z group=192.0.2.9 value=13 count=13 "
                                "ids=a0,a1,a2,a3,a4,a5,a6,a7,a8,a9,b0,b1,b2 details=13 failures from 192.0.2.9 in 10m, "
                                "2021-01-13T05:00:00.0000000Z to 2021-01-13T05:16:00.0000000Z, first u@c.com (a0)\n"));
    assert_non_null(strstr(got, "burst 2021-01-13T05:26:01.0000000Z group=192.0.2.9 value=3 count=3 ids=c0,c1,c2 "));
    size_t lines = 0;
    for (const char *p = got; (p = strchr(p, '\n')); p++)
        lines++;
    assert_int_equal(lines, 2);
    ah_buf_free(&tmp);
}

static void test_distinct_sum_equal(void **state)
{
    fixture *f = *state;
    /* distinct: the same user twice counts once, case-insensitively. */
    fail_signin(f, "2021-01-13T06:00:00Z", 0, "d1", "A@c.com", "198.51.100.1");
    fail_signin(f, "2021-01-13T06:10:00Z", 0, "d2", "a@C.com", "198.51.100.1");
    fail_signin(f, "2021-01-13T06:20:00Z", 0, "d3", "b@c.com", "198.51.100.1");
    fail_signin(f, "2021-01-13T06:59:59Z", 0, "d4", "c@c.com", "198.51.100.1");
    /* sum: numbers and strings holding numbers; non-numbers add nothing. */
    ual_op(f, "2021-01-13T07:00:00Z", "s1", "MailItemsAccessed", "m@c.com", "app1", "{\"OperationCount\": 60}");
    ual_op(f, "2021-01-13T07:10:00Z", "s2", "MailItemsAccessed", "m@c.com", "app1", "{\"OperationCount\": \"x\"}");
    ual_op(f, "2021-01-13T07:20:00Z", "s3", "MailItemsAccessed", "m@c.com", "app1", "{\"OperationCount\": \"41\"}");
    /* ==: fires when the count becomes exactly 2 (not if the third event
     * came with the second); the burst then goes on to e3. */
    ual_op(f, "2021-01-13T08:00:00Z", "e1", "FileDeleted", "k@c.com", "x", NULL);
    ual_op(f, "2021-01-13T08:01:00Z", "e2", "FileDeleted", "k@c.com", "x", NULL);
    ual_op(f, "2021-01-13T08:02:00Z", "e3", "FileDeleted", "k@c.com", "x", NULL);
    ah_buf tmp;
    ah_buf_init(&tmp, 0);
    run(f);
    assert_text_equal(
        lines_of(f, "spray", &tmp),
        "spray 2021-01-13T06:00:00.0000000Z group=198.51.100.1 value=3 count=4 ids=d1,d2,d3,d4 details=3 users\n");
    assert_text_equal(
        lines_of(f, "volume", &tmp),
        "volume 2021-01-13T07:00:00.0000000Z group=app1 value=101 count=3 ids=s1,s2,s3 details=101 items, 3 records\n");
    assert_text_equal(lines_of(f, "exact", &tmp),
                      "exact 2021-01-13T08:00:00.0000000Z group=k@c.com value=3 count=3 ids=e1,e2,e3 details=\n");
    ah_buf_free(&tmp);
}

/* `<`: checked when the window anchored at the group's first event closes. */
static void test_less_than_closes_window(void **state)
{
    fixture *f = *state;
    ual_op(f, "2021-01-13T09:00:00Z", "q1", "MailboxLogin", "few@c.com", "x", NULL);
    ual_op(f, "2021-01-13T09:30:00Z", "q2", "MailboxLogin", "few@c.com", "x", NULL);
    ual_op(f, "2021-01-13T09:00:00Z", "r1", "MailboxLogin", "many@c.com", "x", NULL);
    ual_op(f, "2021-01-13T09:10:00Z", "r2", "MailboxLogin", "many@c.com", "x", NULL);
    ual_op(f, "2021-01-13T09:20:00Z", "r3", "MailboxLogin", "many@c.com", "x", NULL);
    /* few@ again after its window closed: closes the first (hit), opens a second (hit at finish). */
    ual_op(f, "2021-01-13T10:00:01Z", "q3", "MailboxLogin", "few@c.com", "x", NULL);
    ah_buf tmp;
    ah_buf_init(&tmp, 0);
    run(f);
    assert_text_equal(lines_of(f, "quiet", &tmp),
                      "quiet 2021-01-13T09:00:00.0000000Z group=few@c.com value=2 count=2 ids=q1,q2 details=2 logins\n"
                      "quiet 2021-01-13T10:00:01.0000000Z group=few@c.com value=1 count=1 ids=q3 details=1 logins\n");
    ah_buf_free(&tmp);
}

/* Shuffled input, sorted by time, gives identical output. */
static void test_shuffled_input(void **state)
{
    fixture *f = *state;
    static const char *const ips[] = {"192.0.2.1", "192.0.2.2", "192.0.2.3"};
    char iso[40], id[16], user[32];
    enum { N = 36 };
    int order[N];
    ah_buf first;
    ah_buf_init(&first, 0);
    uint32_t seed = 12345;
    for (int round = 0; round < 6; round++) {
        for (int i = 0; i < N; i++)
            order[i] = i;
        if (round > 0)
            for (int i = N - 1; i > 0; i--) {
                seed = seed * 1103515245u + 12345u;
                int j = (int)((seed >> 8) % (uint32_t)(i + 1));
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        cobsv_free(&f->V);
        for (int k = 0; k < N; k++) {
            int i = order[k];
            /* Distinct times except pairs at the same second (ties keep input order
             * only between identical observations' rules, so make ties harmless:
             * same group and time => same ids at different positions are avoided). */
            snprintf(iso, sizeof iso, "2021-01-13T11:%02d:%02dZ", (i * 7) / 60, (i * 7) % 60);
            snprintf(id, sizeof id, "r%02d", i);
            snprintf(user, sizeof user, "u%d@c.com", i % 5);
            fail_signin(f, iso, 0, id, user, ips[i % 3]);
        }
        run(f);
        if (round == 0) {
            ah_buf_append_span(&first, ah_buf_span(&f->out));
            assert_true(first.len > 0);
        } else {
            assert_text_equal(ah_buf_cstr(&f->out), ah_buf_cstr(&first));
        }
    }
    ah_buf_free(&first);
}

static void test_eviction_tiny_budget(void **state)
{
    fixture *f = *state;
    char ip[32], id[16];
    for (int i = 0; i < 300; i++) {
        snprintf(ip, sizeof ip, "10.0.%d.%d", i / 250, i % 250);
        snprintf(id, sizeof id, "e%d", i);
        fail_signin(f, "2021-01-13T12:00:00Z", i * 1000, id, "u@c.com", ip);
    }
    /* The last group still fires: it is never evicted while being updated. */
    fail_signin(f, "2021-01-13T12:01:00Z", 0, "x1", "u@c.com", "10.0.1.49");
    fail_signin(f, "2021-01-13T12:02:00Z", 0, "x2", "u@c.com", "10.0.1.49");
    qsort(f->V.v, f->V.n, sizeof *f->V.v, cobs_cmp);
    ah_correlator *c = ah_correlator_new(f->rs, 1, &f->td.d); /* raised to the minimum */
    assert_non_null(c);
    ah_buf_reset(&f->out);
    for (size_t i = 0; i < f->V.n; i++) {
        ah_observation o;
        assert_int_equal(ah_observation_decode(ah_span_make(f->V.v[i].blob, f->V.v[i].len), &o), AH_OK);
        assert_int_equal(ah_correlator_feed(c, &o, chit_fn, &f->out), AH_OK);
        ah_correlator_stats st;
        ah_correlator_get_stats(c, &st);
        assert_true(st.bytes <= AH_CORR_MIN_BUDGET);
    }
    assert_int_equal(ah_correlator_finish(c, chit_fn, &f->out), AH_OK);
    ah_corr_rule_stats burst, spray;
    ah_correlator_rule_stats(c, ah_rule_metadata(ah_ruleset_find(f->rs, "burst"))->index, &burst);
    ah_correlator_rule_stats(c, ah_rule_metadata(ah_ruleset_find(f->rs, "spray"))->index, &spray);
    assert_int_equal(burst.observations, 302);
    assert_true(burst.evicted > 250);
    assert_true(spray.evicted > 250);
    ah_correlator_stats st;
    ah_correlator_get_stats(c, &st);
    assert_int_equal(st.evicted, burst.evicted + spray.evicted);
    char want[200];
    snprintf(want, sizeof want,
             "W correlation rule burst lost state: %llu group(s) evicted at the memory budget (4096 bytes); "
             "it may have missed hits (raise --memory)\n",
             (unsigned long long)burst.evicted);
    assert_diag_has(&f->td, want);
    snprintf(want, sizeof want, "W correlation rule spray lost state: %llu group(s)",
             (unsigned long long)spray.evicted);
    assert_diag_has(&f->td, want);
    assert_non_null(strstr(ah_buf_cstr(&f->out),
                           "burst 2021-01-13T12:00:00.0002990Z group=10.0.1.49 value=3 count=3 ids=e299,x1,x2"));
    ah_correlator_free(c);
}

static void test_first_seen_baseline_days(void **state)
{
    fixture *f = *state;
    sp_signin(f, "2021-01-10T00:00:00Z", 0, "f1", "app1", "203.0.113.40");
    sp_signin(f, "2021-01-10T23:59:59Z", 0, "f2", "app1", "203.0.113.41"); /* still baseline */
    sp_signin(f, "2021-01-11T00:00:00Z", 0, "f3", "app1", "203.0.113.41"); /* seen: no hit */
    sp_signin(f, "2021-01-11T00:00:00Z", 0, "f4", "app1", "192.0.2.77");   /* day 2 starts: new */
    sp_signin(f, "2021-01-11T05:00:00Z", 0, "f5", "app1", "192.0.2.77");   /* now known */
    sp_signin(f, "2021-01-11T06:00:00Z", 0, "f6", "app2", "203.0.113.40"); /* new for app2 */
    ah_buf tmp;
    ah_buf_init(&tmp, 0);
    run(f);
    assert_text_equal(
        lines_of(f, "newip", &tmp),
        "newip 2021-01-11T00:00:00.0000000Z group=app1 value=1 count=1 ids=f4 details=MailSync from 192.0.2.77\n"
        "newip 2021-01-11T06:00:00.0000000Z group=app2 value=1 count=1 ids=f6 details=MailSync from 203.0.113.40\n");
    ah_buf_free(&tmp);
}

static void test_first_seen_explicit_range(void **state)
{
    fixture *f = *state;
    sp_signin(f, "2021-01-09T00:00:00Z", 0, "g0", "app1", "192.0.2.77");   /* before the range: ignored */
    sp_signin(f, "2021-01-10T00:00:00Z", 0, "g1", "app1", "203.0.113.40"); /* baseline */
    sp_signin(f, "2021-01-12T00:00:00Z", 0, "g2", "app1", "203.0.113.41"); /* baseline (inclusive end) */
    sp_signin(f, "2021-01-12T00:00:00Z", 1, "g3", "app1", "192.0.2.77");   /* after: new */
    sp_signin(f, "2021-01-13T00:00:00Z", 0, "g4", "app1", "203.0.113.41"); /* known */
    ah_time from = ctime_of("2021-01-10T00:00:00Z"), to = ctime_of("2021-01-12T00:00:00Z");
    ah_buf_reset(&f->out);
    assert_int_equal(corr_run(f->rs, &f->V, 0, &f->td.d, &f->out, &from, &to), AH_OK);
    ah_buf tmp;
    ah_buf_init(&tmp, 0);
    assert_text_equal(
        lines_of(f, "newip", &tmp),
        "newip 2021-01-12T00:00:00.0000000Z group=app1 value=1 count=1 ids=g3 details=MailSync from 192.0.2.77\n");
    ah_buf_free(&tmp);
}

/* Step 1 joins on the target of the credential event, step 2 on the app id
 * of the sign-in. */
static void test_sequence_join_different_fields(void **state)
{
    fixture *f = *state;
    audit(f, "2021-01-13T03:12:45Z", 0, "c1", "Add service principal credentials", "APP-1", "other");
    sp_signin(f, "2021-01-13T03:00:00Z", 0, "early", "app-1", "192.0.2.1"); /* before: not a sequence */
    sp_signin(f, "2021-01-13T03:42:45Z", 0, "s1", "app-1", "192.0.2.1");    /* exactly 30m: inside */
    audit(f, "2021-01-13T04:00:00Z", 0, "c2", "Add service principal credentials", "app-2", "x");
    sp_signin(f, "2021-01-13T04:30:00Z", 1, "s2", "app-2", "192.0.2.1"); /* 30m + 1ns: outside */
    audit(f, "2021-01-13T05:00:00Z", 0, "c3", "Add service principal credentials", "app-3", "x");
    sp_signin(f, "2021-01-13T05:01:00Z", 0, "s3", "app-4", "192.0.2.1"); /* another app */
    ah_buf tmp;
    ah_buf_init(&tmp, 0);
    run(f);
    assert_text_equal(lines_of(f, "credsignin", &tmp),
                      "credsignin 2021-01-13T03:12:45.0000000Z group=app-1 value=2 count=2 ids=c1,s1 "
                      "details=APP-1 then sign-in at 2021-01-13T03:42:45.0000000Z\n");
    ah_buf_free(&tmp);
}

static void test_sequence_absence(void **state)
{
    fixture *f = *state;
    audit(f, "2021-01-13T01:00:00Z", 0, "a1", "Add service principal", "t", "keep"); /* never removed: hit */
    audit(f, "2021-01-13T01:00:00Z", 0, "b1", "Add service principal", "t", "gone");
    audit(f, "2021-01-13T01:10:00Z", 0, "b2", "Remove service principal", "t", "gone"); /* at exactly 10m: followed */
    audit(f, "2021-01-13T02:00:00Z", 0, "c1", "Add service principal", "t", "late");
    audit(f, "2021-01-13T02:10:00Z", 1, "c2", "Remove service principal", "t", "late"); /* 10m + 1ns: too late */
    audit(f, "2021-01-13T03:00:00Z", 0, "d1", "Add service principal", "t", "atend");   /* open at the end */
    ah_buf tmp;
    ah_buf_init(&tmp, 0);
    run(f);
    assert_text_equal(lines_of(f, "noremove", &tmp),
                      "noremove 2021-01-13T01:00:00.0000000Z group=keep value=1 count=1 ids=a1 "
                      "details=keep created 2021-01-13T01:00:00.0000000Z, not removed\n"
                      "noremove 2021-01-13T02:00:00.0000000Z group=late value=1 count=1 ids=c1 "
                      "details=late created 2021-01-13T02:00:00.0000000Z, not removed\n"
                      "noremove 2021-01-13T03:00:00.0000000Z group=atend value=1 count=1 ids=d1 "
                      "details=atend created 2021-01-13T03:00:00.0000000Z, not removed\n");
    ah_buf_free(&tmp);
}

static void test_observation_bytes(void **state)
{
    fixture *f = *state;
    fail_signin(f, "2021-01-13T02:00:00Z", 0, "rid-1", "u1@c.com", "192.0.2.1");
    assert_int_equal(f->V.n, 2); /* burst and spray */
    ah_observation o;
    assert_int_equal(ah_observation_decode(ah_span_make(f->V.v[0].blob, f->V.v[0].len), &o), AH_OK);
    assert_null(o.rule);
    assert_int_equal(o.rule_index, ah_rule_metadata(ah_ruleset_find(f->rs, "burst"))->index);
    assert_int_equal(o.step, 0);
    assert_int_equal(o.source, AH_SOURCE_SIGNIN);
    assert_int_equal(o.time.sec, ctime_of("2021-01-13T02:00:00Z").sec);
    assert_true(ah_span_eq(o.key, "192.0.2.1"));
    assert_true(ah_span_eq(o.record_id, "rid-1"));
    assert_true(ah_span_eq(o.user, "u1@c.com"));
    assert_int_equal(o.value.n, 0);
    ah_observation o2;
    assert_int_equal(ah_observation_decode(ah_span_make(f->V.v[1].blob, f->V.v[1].len), &o2), AH_OK);
    assert_true(ah_span_eq(o2.value, "u1@c.com"));
    /* Every truncation and a bad magic are refused, never read past the end. */
    for (size_t n = 0; n < f->V.v[0].len; n++)
        assert_int_equal(ah_observation_decode(ah_span_make(f->V.v[0].blob, n), &o), AH_ERR_RECORD);
    char *bad = malloc(f->V.v[0].len + 1);
    memcpy(bad, f->V.v[0].blob, f->V.v[0].len);
    bad[0] = 0;
    assert_int_equal(ah_observation_decode(ah_span_make(bad, f->V.v[0].len), &o), AH_ERR_RECORD);
    memcpy(bad, f->V.v[0].blob, f->V.v[0].len);
    size_t at = 2; /* past magic and flags: six varints, then the key length */
    for (int i = 0; i < 6; i++)
        while (bad[at++] & 0x80)
            ;
    memset(bad + at, 0xff, 8); /* the key length: huge */
    bad[at + 8] = 0x7f;
    assert_int_equal(ah_observation_decode(ah_span_make(bad, f->V.v[0].len), &o), AH_ERR_RECORD);
    memcpy(bad, f->V.v[0].blob, f->V.v[0].len);
    bad[f->V.v[0].len] = 'x'; /* trailing garbage */
    assert_int_equal(ah_observation_decode(ah_span_make(bad, f->V.v[0].len + 1), &o), AH_ERR_RECORD);
    free(bad);
}

static void test_misuse(void **state)
{
    fixture *f = *state;
    fail_signin(f, "2021-01-13T02:00:00Z", 0, "a", "u@c.com", "192.0.2.1");
    fail_signin(f, "2021-01-13T01:00:00Z", 0, "b", "u@c.com", "192.0.2.1");
    ah_correlator *c = ah_correlator_new(f->rs, 0, NULL);
    ah_observation o;
    assert_int_equal(ah_observation_decode(ah_span_make(f->V.v[0].blob, f->V.v[0].len), &o), AH_OK);
    assert_int_equal(ah_correlator_feed(c, &o, NULL, NULL), AH_OK);
    /* Earlier than the last one: refused. */
    assert_int_equal(ah_observation_decode(ah_span_make(f->V.v[2].blob, f->V.v[2].len), &o), AH_OK);
    assert_int_equal(ah_correlator_feed(c, &o, NULL, NULL), AH_ERR_USAGE);
    /* Not a correlation rule / out of range. */
    o.rule_index = 9999;
    assert_int_equal(ah_correlator_feed(c, &o, NULL, NULL), AH_ERR_USAGE);
    ah_time t = {0, 0};
    assert_int_equal(ah_correlator_set_baseline(c, t, t), AH_ERR_USAGE); /* after the first feed */
    assert_int_equal(ah_correlator_finish(c, NULL, NULL), AH_OK);
    assert_int_equal(ah_correlator_finish(c, NULL, NULL), AH_ERR_USAGE);
    ah_correlator_free(c);
    ah_correlator_free(NULL);
    assert_true(ah_ruleset_has_correlations(f->rs));
    assert_false(ah_ruleset_has_correlations(NULL));
    /* Events without a time give no observation. */
    tevent t2;
    tevent_init(&t2, AH_SOURCE_SIGNIN);
    t2.ev.result = AH_RESULT_FAILURE;
    tevent_set(&t2, AH_F_IP, "192.0.2.1");
    assert_int_equal(ah_matcher_observe(f->m, &t2.ev, NULL, NULL), 0);
    tevent_free(&t2);
}

/* Correlation rules are never single-event hits, and the first-look hook
 * keeps the records they need. */
static void test_not_single_hits(void **state)
{
    fixture *f = *state;
    tevent t;
    cev(&t, AH_SOURCE_SIGNIN, "2021-01-13T02:00:00Z", "a");
    t.ev.result = AH_RESULT_FAILURE;
    tevent_set(&t, AH_F_IP, "192.0.2.1");
    const ah_rule *hits[4];
    assert_int_equal(ah_matcher_match(f->m, &t.ev, hits, 4), 0);
    /* No user: spray (distinct(user)) has no value for it, burst observes it. */
    assert_int_equal(ah_matcher_observe(f->m, &t.ev, NULL, NULL), 1);
    tevent_set(&t, AH_F_USER, "u@c.com");
    assert_int_equal(ah_matcher_observe(f->m, &t.ev, NULL, NULL), 2);
    tevent_free(&t);
    assert_true(ah_ruleset_first_look(f->rs, AH_SOURCE_SIGNIN, ah_span_cstr("sign-in")) & AH_LOOK_CANDIDATE);
    assert_true(ah_ruleset_first_look(f->rs, AH_SOURCE_UAL, ah_span_cstr("mailitemsaccessed")) & AH_LOOK_NEEDS_RAW);
    assert_int_equal(ah_ruleset_first_look(f->rs, AH_SOURCE_UAL, ah_span_cstr("filemodified")), 0);
    assert_int_equal(ah_ruleset_active_count(f->rs), 8);
    const ah_rule_meta *m = ah_rule_metadata(ah_ruleset_find(f->rs, "credsignin"));
    assert_int_equal(m->kind, AH_RULE_SEQUENCE);
    assert_int_equal(m->nsteps, 2);
    assert_true(m->window_ns == (int64_t)30 * 60 * 1000000000);
    assert_string_equal(ah_rule_kind_name(m->kind), "sequence");
    assert_int_equal(ah_rule_metadata(ah_ruleset_find(f->rs, "newip"))->baseline_ns, (int64_t)86400 * 1000000000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_window_edge_inclusive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_window_edge_one_ns_over, setup, teardown),
        cmocka_unit_test_setup_teardown(test_midnight_and_hour_boundaries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refire_suppression, setup, teardown),
        cmocka_unit_test_setup_teardown(test_distinct_sum_equal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_less_than_closes_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shuffled_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eviction_tiny_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_first_seen_baseline_days, setup, teardown),
        cmocka_unit_test_setup_teardown(test_first_seen_explicit_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sequence_join_different_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sequence_absence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_observation_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_misuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_single_hits, setup, teardown),
    };
    return cmocka_run_group_tests_name("corr_engine", tests, NULL, NULL);
}
