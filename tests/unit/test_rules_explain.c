/*
 * test_rules_explain.c: golden test of the compiled form (`lint
 * --explain`): tests/data/rules/explain.rules must print exactly
 * tests/data/rules/explain.golden. A compiler change shows up here as a
 * readable diff; regenerate the golden file only after reviewing it.
 */
#include "test_rules_util.h"

static void print_diff(const char *got, const char *want)
{
    int line = 1;
    const char *g = got, *w = want;
    while (*g && *w && *g == *w) {
        if (*g == '\n')
            line++;
        g++;
        w++;
    }
    print_error("explain differs from the golden file at line %d\n--- got:\n%s\n--- golden:\n%s\n", line, got, want);
}

static void test_golden(void **state)
{
    (void)state;
    tdiag td;
    tdiag_init(&td);
    ah_ruleset *rs = ah_ruleset_new(&td.d);
    assert_int_equal(ah_ruleset_load_path(rs, "tests/data/rules/explain.rules"), AH_OK);
    assert_int_equal(ah_ruleset_compile(rs), AH_OK);
    ah_buf out;
    ah_buf_init(&out, 0);
    assert_int_equal(ah_ruleset_explain(rs, NULL, &out), AH_OK);
    char *want = slurp("tests/data/rules/explain.golden");
    if (strcmp(ah_buf_cstr(&out), want) != 0) {
        print_diff(ah_buf_cstr(&out), want);
        fail();
    }
    free(want);

    /* One rule by id; an unknown id is a usage error. */
    ah_buf_reset(&out);
    assert_int_equal(ah_ruleset_explain(rs, "mimecast-var", &out), AH_OK);
    assert_string_equal(ah_buf_cstr(&out), "rule mimecast-var (tests/data/rules/explain.rules:31)\n"
                                           "  severity: critical\n"
                                           "  sources:  signin\n"
                                           "  skipped:  variable mimecast_app_id not set\n"
                                           "  match with test variables:\n"
                                           "    field app_id == \"c0ffee00-1234-5678-9abc-def012345678\"\n"
                                           "  tests:    0 hit, 1 miss\n");
    assert_int_equal(ah_ruleset_explain(rs, "no-such-rule", &out), AH_ERR_USAGE);
    ah_buf_free(&out);
    ah_ruleset_free(rs);
    tdiag_free(&td);
}

static void test_expr_explain(void **state)
{
    (void)state;
    ah_expr *e = ah_expr_compile("operation == \"Set domain authentication.\" and "
                                 "raw.ModifiedProperties[Name=\"LiveType\"].NewValue contains \"Federated\"",
                                 NULL, NULL, NULL);
    assert_non_null(e);
    assert_true(ah_expr_needs_raw(e));
    ah_buf out;
    ah_buf_init(&out, 0);
    assert_int_equal(ah_expr_explain(e, &out), AH_OK);
    assert_string_equal(ah_buf_cstr(&out),
                        "raw: yes\n"
                        "and\n"
                        "  operation(canonical) == \"set domain authentication\"\n"
                        "  raw(body, then record).ModifiedProperties[Name=\"LiveType\"].NewValue contains "
                        "\"Federated\"\n");
    ah_buf_free(&out);
    ah_expr_free(e);

    e = ah_expr_compile("user in [\"b\", \"a\", \"B\"] and not ip in cidr [\"10.0.0.0/9\", \"10.128.0.0/9\"]", NULL,
                        NULL, NULL);
    assert_non_null(e);
    assert_false(ah_expr_needs_raw(e));
    ah_buf_init(&out, 0);
    assert_int_equal(ah_expr_explain(e, &out), AH_OK);
    /* duplicates (case-insensitively) dropped; adjacent prefixes merged */
    assert_string_equal(ah_buf_cstr(&out), "raw: no\n"
                                           "and\n"
                                           "  field user in {\"b\", \"a\"} (2 values)\n"
                                           "  not\n"
                                           "    field ip in cidr {10.0.0.0/9, 10.128.0.0/9} (1 range)\n");
    ah_buf_free(&out);
    ah_expr_free(e);
    /* sameas: the other operand as an accessor; a path makes raw needed */
    e = ah_expr_compile("raw.MailboxOwnerUPN not sameas user cased and user sameas raw.Actor[*].ID", NULL, NULL, NULL);
    assert_non_null(e);
    assert_true(ah_expr_needs_raw(e));
    ah_buf_init(&out, 0);
    assert_int_equal(ah_expr_explain(e, &out), AH_OK);
    assert_string_equal(ah_buf_cstr(&out), "raw: yes\n"
                                           "and\n"
                                           "  raw(body, then record).MailboxOwnerUPN not sameas field user cased\n"
                                           "  field user sameas raw(body, then record).Actor[*].ID\n");
    ah_buf_free(&out);
    ah_expr_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden),
        cmocka_unit_test(test_expr_explain),
    };
    return cmocka_run_group_tests_name("rules_explain", tests, NULL, NULL);
}
