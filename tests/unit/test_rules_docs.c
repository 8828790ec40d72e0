/*
 * test_rules_docs.c: docs/rules.md must match the parser. Every ```rules
 * block compiles without errors and its embedded tests pass; every ```expr
 * block compiles as a search expression.
 */
#include "test_rules_util.h"

static void test_doc_examples(void **state)
{
    (void)state;
    char *doc = slurp("docs/rules.md");
    size_t rules_blocks = 0, expr_blocks = 0, tests_passed = 0;
    const char *p = doc;
    int line = 1;
    while ((p = strstr(p, "\n```")) != NULL) {
        p += 4;
        const char *eol = strchr(p, '\n');
        if (!eol)
            break;
        size_t infolen = (size_t)(eol - p);
        const char *body = eol + 1;
        const char *end = strstr(body, "\n```");
        assert_non_null(end);
        line = 1;
        for (const char *q = doc; q < body; q++)
            line += *q == '\n';
        char *text = strndup(body, (size_t)(end - body) + 1);
        if (infolen == 5 && memcmp(p, "rules", 5) == 0) {
            rules_blocks++;
            tdiag td;
            tdiag_init(&td);
            ah_ruleset *rs = ah_ruleset_new(&td.d);
            ah_ruleset_load_string(rs, "docs/rules.md", text, strlen(text));
            if (ah_ruleset_compile(rs) != AH_OK || td.d.count[AH_SEV_WARNING]) {
                print_error("docs/rules.md block at line %d does not compile cleanly:\n%s\n", line, tdiag_str(&td));
                fail();
            }
            ah_rule_test_totals tot;
            ah_ruleset_run_tests(rs, NULL, NULL, &tot);
            tests_passed += tot.passed;
            if (tot.failed) {
                print_error("docs/rules.md block at line %d: %llu embedded test(s) fail\n", line,
                            (unsigned long long)tot.failed);
                fail();
            }
            ah_ruleset_free(rs);
            tdiag_free(&td);
        } else if (infolen == 4 && memcmp(p, "expr", 4) == 0) {
            expr_blocks++;
            tdiag td;
            tdiag_init(&td);
            ah_expr *e = ah_expr_compile(text, NULL, &td.d);
            if (!e) {
                print_error("docs/rules.md expr block at line %d does not compile:\n%s\n", line, tdiag_str(&td));
                fail();
            }
            ah_expr_free(e);
            tdiag_free(&td);
        }
        free(text);
        p = end + 4; /* past the closing fence */
    }
    assert_true(rules_blocks >= 5);
    assert_true(expr_blocks >= 15);
    assert_true(tests_passed >= 7);
    free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_doc_examples),
    };
    return cmocka_run_group_tests_name("rules_docs", tests, NULL, NULL);
}
