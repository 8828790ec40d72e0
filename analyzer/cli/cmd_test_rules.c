/*
 * cmd_test_rules.c: `audithound test-rules RULES...` runs every embedded
 * test (records in any supported export shape, read and hunted exactly as
 * `hunt` would) and reports the failures with the rule and the event.
 */
#include "cli.h"

enum { OPT_VERBOSE = 1 };

static const ah_cli_opt test_opts[] = {
    {OPT_VERBOSE, 'v', "verbose", NULL, "print every test, not only failures"},
    {AH_OPT_SET, 0, "set", "NAME=VALUE", "set a rule variable (repeatable)"},
    {AH_OPT_VARS, 0, "vars", "FILE", "read rule variables from a file of NAME=VALUE lines"},
    {0, 0, NULL, NULL, NULL},
};

typedef struct test_ctx {
    ah_cli_rules rules;
    bool verbose;
    bool nomem; /* a result line lost bytes: not printed, exit 6 */
    ah_buf line;
} test_ctx;

static int test_opt(void *ctx, int id, const char *arg)
{
    test_ctx *c = ctx;
    if (id == OPT_VERBOSE) {
        c->verbose = true;
        return 0;
    }
    int r = ah_cli_rules_opt(&c->rules, id, arg);
    return r == 1 ? 0 : r;
}

static void print_case(void *ud, const ah_rule_test_case *tc)
{
    test_ctx *c = ud;
    if (tc->passed && !c->verbose)
        return;
    ah_buf_reset(&c->line);
    if (ah_rule_test_format(tc, &c->line) == AH_ERR_NOMEM) {
        c->nomem = true;
        return;
    }
    fputs(ah_buf_cstr(&c->line), stdout);
    if (c->line.len && c->line.data[c->line.len - 1] != '\n')
        fputc('\n', stdout);
}

static int run_test_rules(int argc, char **argv);

const ah_cli_cmd cmd_test_rules = {
    "test-rules",
    "[OPTIONS] RULES...",
    "run the tests embedded in rule files",
    "RULES are rule files or directories. Each `test hit` / `test miss` input (inline JSON\n"
    "or a file) is read and hunted as `hunt` would (duplicates dropped, correlation run), and\n"
    "each of its records must hit the rule or not; failures are printed with the rule, the\n"
    "test's location, the event, and expected versus actual. Inline JSON goes through a\n"
    "temporary file in $TMPDIR (else /tmp).\n"
    "Exit status: 0 all passed, 1 some failed, 2 the rules do not compile.",
    test_opts,
    run_test_rules,
};

static int run_test_rules(int argc, char **argv)
{
    test_ctx c = {0};
    ah_buf_init(&c.line, 0);
    int status = 0;
    int first = ah_cli_parse(&cmd_test_rules, argc, argv, test_opt, &c, &status);
    ah_ruleset *rs = NULL;
    if (first < 0)
        goto out;
    if (first >= argc) {
        status = ah_cli_usage_error(&cmd_test_rules, "no rule file or directory given");
        goto out;
    }
    for (int i = first; i < argc; i++)
        if ((status = ah_cli_rules_opt(&c.rules, AH_OPT_RULES, argv[i])) != 1)
            goto out; /* out of memory: a file left out would look like a pass */
    ah_cli_diag printer = {.quiet = true, .bare = true};
    ah_diag diag = {.fn = ah_cli_diag_fn, .ud = &printer};
    rs = ah_cli_load_rules(&c.rules, &diag, &status);
    if (!rs)
        goto out;
    ah_rule_test_totals t = {0};
    ah_status st = ah_ruleset_run_tests(rs, print_case, &c, &t);
    if (st == AH_ERR_NOMEM || c.nomem) {
        ah_cli_errorf("out of memory");
        status = AH_EXIT_NOMEM;
        goto out;
    }
    status = ah_cli_stdout_status(st == AH_OK && t.failed == 0 ? 0 : AH_EXIT_NO_HITS);
    fprintf(stderr, "test-rules: %llu passed, %llu failed, %llu skipped\n", (unsigned long long)t.passed,
            (unsigned long long)t.failed, (unsigned long long)t.skipped);
out:
    ah_ruleset_free(rs);
    ah_cli_rules_free(&c.rules);
    ah_buf_free(&c.line);
    return status;
}
