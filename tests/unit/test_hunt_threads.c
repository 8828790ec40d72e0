/*
 * test_hunt_threads.c: the hunt's workers change nothing but speed. The
 * shipped rules over samples/ (and ../shared/corpus when present) give
 * the same rows, in the same order, and the same counts with no workers
 * and with 2, 3 or 4 workers handed one event at a time (so that they
 * really interleave), also with the larger records matched on the reading
 * thread meanwhile, for the default timeline and for --all per-rule
 * rows. Also run under ThreadSanitizer by `make check` (tsan-check).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer/audithound.h"
#include "analyzer/engine/hunt.h"
#include "support/hunt_rows.h"

static ah_ruleset *load_rules(void)
{
    ah_ruleset *rs = ah_ruleset_new(NULL);
    assert_non_null(rs);
    assert_int_equal(ah_ruleset_load_vars_file(rs, "samples/contoso.vars"), AH_OK);
    assert_int_equal(ah_ruleset_load_path(rs, "rules"), AH_OK);
    assert_int_equal(ah_ruleset_compile(rs), AH_OK);
    return rs;
}

/* Every row as text, in order, then the counts. */
static void run(const ah_ruleset *rs, const ah_hunt_options *o, ah_buf *out)
{
    ah_session_options so;
    ah_session_options_init(&so);
    ah_session *s = ah_session_new(&so);
    assert_non_null(s);
    const char *inputs[] = {"samples/tenant", "samples/formats", "../shared/corpus"};
    size_t n = access(inputs[2], R_OK) == 0 ? 3 : 2;
    assert_int_equal(ah_session_add_inputs(s, inputs, n), AH_OK);
    ah_hunt *h = ah_hunt_new(rs, o, NULL);
    assert_non_null(h);
    const ah_event *ev;
    while (ah_session_next(s, &ev) == AH_OK)
        assert_int_equal(ah_hunt_add(h, ev), AH_OK);
    assert_int_equal(ah_hunt_finish(h), AH_OK);
    assert_int_equal(hunt_rows_text(h, out), AH_END);
    const ah_hunt_stats *hs = ah_hunt_get_stats(h);
    ah_buf_printf(out, "events %llu hits %llu rows %llu observations %llu joined %llu routine %llu\n",
                  (unsigned long long)hs->events, (unsigned long long)hs->hits, (unsigned long long)hs->rows,
                  (unsigned long long)hs->observations, (unsigned long long)hs->twins_joined,
                  (unsigned long long)hs->routine_hits);
    for (size_t i = 0; i < ah_ruleset_count(rs); i++)
        ah_buf_printf(out, "%llu ", (unsigned long long)hs->by_rule[i]);
    ah_hunt_free(h);
    ah_session_free(s);
}

static void check_same_for_threads(bool all)
{
    ah_ruleset *rs = load_rules();
    ah_hunt_options o = {.min_level = AH_LEVEL_INFO, .all = all, .per_rule = all};
    ah_buf one, many;
    ah_buf_init(&one, 0);
    ah_buf_init(&many, 0);
    run(rs, &o, &one);
    assert_true(strstr(one.data, "\n") != NULL);
    static const struct {
        size_t threads, batch, inline_from; /* inline_from: records this large stay on the reading thread */
    } configs[] = {{2, 1, 0}, {3, 4096, 0}, {4, 1, 0}, {2, 1, 2500}};
    for (size_t i = 0; i < sizeof configs / sizeof *configs; i++) {
        o.threads = configs[i].threads;
        o.batch_bytes = configs[i].batch;
        o.inline_bytes = configs[i].inline_from;
        ah_buf_reset(&many);
        run(rs, &o, &many);
        assert_int_equal(many.len, one.len);
        assert_string_equal(many.data, one.data);
    }
    ah_buf_free(&one);
    ah_buf_free(&many);
    ah_ruleset_free(rs);
}

static void test_timeline_same_for_any_threads(void **state)
{
    (void)state;
    check_same_for_threads(false);
}

static void test_super_timeline_same_for_any_threads(void **state)
{
    (void)state;
    check_same_for_threads(true);
}

/* A hunt with workers that is freed without finishing stops them cleanly. */
static void test_free_without_finish(void **state)
{
    (void)state;
    ah_ruleset *rs = load_rules();
    ah_hunt_options o = {.min_level = AH_LEVEL_INFO, .threads = 2, .batch_bytes = 1};
    ah_hunt *h = ah_hunt_new(rs, &o, NULL);
    assert_non_null(h);
    ah_session_options so;
    ah_session_options_init(&so);
    ah_session *s = ah_session_new(&so);
    assert_non_null(s);
    assert_int_equal(ah_session_add_input(s, "samples/tenant"), AH_OK);
    const ah_event *ev;
    for (int i = 0; i < 20 && ah_session_next(s, &ev) == AH_OK; i++)
        assert_int_equal(ah_hunt_add(h, ev), AH_OK);
    ah_hunt_free(h);
    ah_session_free(s);
    ah_ruleset_free(rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timeline_same_for_any_threads),
        cmocka_unit_test(test_super_timeline_same_for_any_threads),
        cmocka_unit_test(test_free_without_finish),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
