/*
 * test_event_pack.c: an event packed for another thread comes back equal
 * (every span's bytes and absence, members, scalars) after the packed
 * bytes are moved, for every event of samples/; truncated packed bytes are
 * refused, never read past.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "analyzer/audithound.h"

static void assert_same_span(ah_span a, ah_span b)
{
    assert_int_equal(a.p == NULL, b.p == NULL);
    assert_int_equal(a.n, b.n);
    if (a.n)
        assert_memory_equal(a.p, b.p, a.n);
}

static void assert_same_members(const ah_members *a, const ah_members *b)
{
    assert_int_equal(a->n, b->n);
    assert_int_equal(a->key == NULL, b->key == NULL);
    for (size_t i = 0; i < a->n; i++) {
        if (a->key)
            assert_same_span(a->key[i], b->key[i]);
        assert_same_span(a->val[i], b->val[i]);
    }
}

static void check_round_trip(const ah_event *ev, ah_buf *buf, ah_span **members, size_t *cap, size_t *members_seen)
{
    ah_buf_reset(buf);
    ah_buf_puts(buf, "prefix"); /* packed bytes need not start the buffer */
    size_t at = buf->len;
    assert_int_equal(ah_event_pack(ev, buf), AH_OK);
    size_t n = buf->len - at;
    char *moved = malloc(n);
    assert_non_null(moved);
    memcpy(moved, buf->data + at, n);
    memset(buf->data, 'x', buf->len); /* nothing may still point into the source */
    ah_event back;
    assert_true(ah_event_unpack(ah_span_make(moved, n), &back, members, cap));
    assert_ptr_equal(back.origin, ev->origin);
    assert_ptr_equal(back.format, ev->format);
    assert_int_equal(back.record_no, ev->record_no);
    assert_int_equal(back.line_no, ev->line_no);
    assert_int_equal(back.source, ev->source);
    assert_int_equal(back.has_time, ev->has_time);
    assert_int_equal(back.time.sec, ev->time.sec);
    assert_int_equal(back.time.nsec, ev->time.nsec);
    assert_int_equal(back.result, ev->result);
    assert_memory_equal(back.digest, ev->digest, sizeof ev->digest);
    for (int f = 0; f < AH_F_COUNT; f++)
        assert_same_span(back.field[f], ev->field[f]);
    assert_same_span(back.operation_canon, ev->operation_canon);
    assert_same_span(back.raw, ev->raw);
    assert_same_span(back.body, ev->body);
    assert_same_members(&back.raw_members, &ev->raw_members);
    assert_same_members(&back.body_members, &ev->body_members);
    *members_seen += ev->raw_members.n + ev->body_members.n;
    /* every shorter prefix of the packed bytes is refused or decodes inside itself */
    for (size_t cut = 0; cut < n; cut += 1 + cut / 3) {
        char *part = malloc(cut ? cut : 1);
        assert_non_null(part);
        memcpy(part, moved, cut);
        ah_event partial;
        if (ah_event_unpack(ah_span_make(part, cut), &partial, members, cap)) {
            for (int f = 0; f < AH_F_COUNT; f++)
                if (partial.field[f].p)
                    assert_true(partial.field[f].p >= part && partial.field[f].p + partial.field[f].n <= part + cut);
        }
        free(part);
    }
    free(moved);
}

static void test_samples_round_trip(void **state)
{
    (void)state;
    ah_session_options so;
    ah_session_options_init(&so);
    so.keep_duplicates = true;
    ah_session *s = ah_session_new(&so);
    assert_non_null(s);
    const char *inputs[] = {"samples/formats", "samples/tenant"};
    assert_int_equal(ah_session_add_inputs(s, inputs, 2), AH_OK);
    ah_buf buf;
    ah_buf_init(&buf, 0);
    ah_span *members = NULL;
    size_t cap = 0, events = 0, members_seen = 0;
    const ah_event *ev;
    while (ah_session_next(s, &ev) == AH_OK) {
        check_round_trip(ev, &buf, &members, &cap, &members_seen);
        events++;
    }
    assert_true(events > 100);        /* the samples are there */
    assert_true(members_seen > 1000); /* and members were packed */
    free(members);
    ah_buf_free(&buf);
    ah_session_free(s);
}

static void test_empty_event(void **state)
{
    (void)state;
    ah_event ev;
    memset(&ev, 0, sizeof ev);
    ev.field[AH_F_USER] = ah_span_cstr(""); /* present and empty stays present */
    ah_buf buf;
    ah_buf_init(&buf, 0);
    ah_span *members = NULL;
    size_t cap = 0, seen = 0;
    check_round_trip(&ev, &buf, &members, &cap, &seen);
    free(members);
    ah_buf_free(&buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_samples_round_trip),
        cmocka_unit_test(test_empty_event),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
