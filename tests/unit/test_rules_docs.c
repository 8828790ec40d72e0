/*
 * test_rules_docs.c: docs/rules.md must match the parser. Every ```rules
 * block compiles without errors and its embedded tests pass; every ```expr
 * block compiles as a search expression. Its operators table, its `not`
 * list and its keyword list name exactly the operators of
 * analyzer/rules/ops.def.
 */
#include "test_rules_util.h"

#include "analyzer/rules/rules_private.h"

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
            ah_expr *e = ah_expr_compile(text, NULL, &td.d, NULL);
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

/* The `code` spans of [p, end), each handed to fn. */
static void code_spans(const char *p, const char *end, void (*fn)(const char *s, size_t n, void *ctx), void *ctx)
{
    while (p < end && (p = memchr(p, '`', (size_t)(end - p))) != NULL) {
        const char *q = memchr(p + 1, '`', (size_t)(end - p - 1));
        if (!q)
            break;
        fn(p + 1, (size_t)(q - p - 1), ctx);
        p = q + 1;
    }
}

/* The operator an entry of the table starts with ("in cidr [p, ...]" ->
 * CIDR), the longest spelling that matches; sets *neg for a negated one. */
static int op_of_entry(const char *s, size_t n, bool *neg)
{
    int best = -1;
    size_t bestn = 0;
    for (int op = 0; op < AHI_OP_COUNT; op++)
        for (int k = 0; k < 2; k++) {
            const char *sp = k ? ahi_ops[op].negated : ahi_ops[op].spelling;
            size_t sn = sp ? strlen(sp) : 0;
            if (sp && sn <= n && memcmp(s, sp, sn) == 0 && (sn == n || s[sn] == ' ') && sn > bestn) {
                best = op;
                bestn = sn;
                *neg = k;
            }
        }
    return best;
}

typedef struct doc_ops {
    bool pos[AHI_OP_COUNT], neg[AHI_OP_COUNT];
    int unknown;
} doc_ops;

static void table_entry(const char *s, size_t n, void *ctx)
{
    doc_ops *d = ctx;
    bool neg = false;
    int op = op_of_entry(s, n, &neg);
    if (op < 0) {
        print_error("docs/rules.md operators table: '%.*s' is not an operator of ops.def\n", (int)n, s);
        d->unknown++;
        return;
    }
    (neg ? d->neg : d->pos)[op] = true;
}

static void not_entry(const char *s, size_t n, void *ctx)
{
    doc_ops *d = ctx;
    bool found = false;
    for (int op = 0; op < AHI_OP_COUNT; op++) {
        const char *ng = ahi_ops[op].negated;
        if (ng && strncmp(ng, "not ", 4) == 0 && strncmp(ng + 4, s, n) == 0 && (ng[4 + n] == ' ' || !ng[4 + n])) {
            d->neg[op] = true;
            found = true;
        }
    }
    if (!found) {
        print_error("docs/rules.md: `not %.*s` is not a negated spelling in ops.def\n", (int)n, s);
        d->unknown++;
    }
}

static void test_doc_operators(void **state)
{
    (void)state;
    char *doc = slurp("docs/rules.md");
    doc_ops d = {.unknown = 0};
    /* the operators table: the first cell of each row */
    const char *sec = strstr(doc, "\n### Operators\n");
    assert_non_null(sec);
    const char *row = strstr(sec, "\n| `");
    assert_non_null(row);
    while (row && strncmp(row, "\n|", 2) == 0) {
        row += 1;
        const char *cell_end = strstr(row + 1, " |");
        const char *eol = strchr(row, '\n');
        assert_non_null(cell_end);
        assert_non_null(eol);
        code_spans(row, cell_end < eol ? cell_end : eol, table_entry, &d);
        row = eol;
    }
    /* the `not` list, up to "negates them" */
    const char *nl = strstr(sec, "* `not` before ");
    assert_non_null(nl);
    const char *nl_end = strstr(nl, "negates them");
    assert_non_null(nl_end);
    code_spans(nl + strlen("* `not` before "), nl_end, not_entry, &d);
    assert_int_equal(d.unknown, 0);
    for (int op = 0; op < AHI_OP_COUNT; op++) {
        if (!d.pos[op])
            print_error("docs/rules.md operators table lacks `%s` (ops.def)\n", ahi_ops[op].spelling);
        assert_true(d.pos[op]);
        if (ahi_ops[op].negated && !d.neg[op])
            print_error("docs/rules.md lacks `%s`: a row of the operators table, or `not` list\n", ahi_ops[op].negated);
        assert_true(!ahi_ops[op].negated || d.neg[op]);
    }
    /* every word of a spelling is a listed keyword */
    const char *kw = strstr(doc, "\nKeywords (`");
    assert_non_null(kw);
    kw += strlen("\nKeywords (`");
    const char *kw_end = strchr(kw, '`');
    assert_non_null(kw_end);
    for (int op = 0; op < AHI_OP_COUNT; op++)
        for (int k = 0; k < 2; k++) {
            const char *w = k ? ahi_ops[op].negated : ahi_ops[op].spelling;
            while (w && *w) {
                size_t wn = strcspn(w, " ");
                bool listed = !((w[0] >= 'a' && w[0] <= 'z') || (w[0] >= 'A' && w[0] <= 'Z')); /* symbols */
                for (const char *p = kw; !listed && p < kw_end;) {
                    size_t pn = strcspn(p, " \n`");
                    listed = pn == wn && memcmp(p, w, wn) == 0;
                    p += pn + 1;
                }
                if (!listed)
                    print_error("docs/rules.md keyword list lacks '%.*s' (ops.def)\n", (int)wn, w);
                assert_true(listed);
                w += wn;
                w += *w == ' ';
            }
        }
    free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_doc_examples),
        cmocka_unit_test(test_doc_operators),
    };
    return cmocka_run_group_tests_name("rules_docs", tests, NULL, NULL);
}
