/*
 * cmd_search.c: `audithound search EXPR INPUT...`, the analyst's grep for
 * these logs: the rule language's match expressions over normalized events,
 * matching events printed as JSON Lines (the `dump` shape).
 */
#include "cli.h"
#include "event_json.h"

enum { OPT_RAW = 1, OPT_EXPLAIN };

static const ah_cli_opt search_opts[] = {
    {OPT_RAW, 0, "raw", NULL, "include the original record as JSON under \"raw\""},
    {OPT_EXPLAIN, 0, "explain", NULL, "print the compiled expression on standard error first"},
    {AH_OPT_SET, 0, "set", "NAME=VALUE", "set a variable used by the expression ($NAME) (repeatable)"},
    {AH_OPT_VARS, 0, "vars", "FILE", "read variables from a file of NAME=VALUE lines"},
    AH_CLI_INPUT_OPTS,
    {0, 0, NULL, NULL, NULL},
};

typedef struct search_ctx {
    ah_session_options so;
    ah_cli_diag diag;
    ah_cli_rules rules;
    bool raw, explain;
} search_ctx;

static int search_opt(void *ctx, int id, const char *arg)
{
    search_ctx *c = ctx;
    int r;
    if (id == OPT_RAW)
        c->raw = true;
    else if (id == OPT_EXPLAIN)
        c->explain = true;
    else if ((r = ah_cli_rules_opt(&c->rules, id, arg)) != 0 || (r = ah_cli_input_opt(&c->so, &c->diag, id, arg)) != 0)
        return r == 1 ? 0 : r;
    return 0;
}

static int run_search(int argc, char **argv);

const ah_cli_cmd cmd_search = {
    "search",
    "[OPTIONS] EXPR INPUT...",
    "print the events matching an expression as JSON Lines",
    "EXPR is a match expression of the rule language (docs/rules.md), e.g.\n"
    "  audithound search 'operation == \"New-InboxRule\" and raw.Parameters[Name=\"ForwardTo\"].Value exists' logs/\n"
    "  audithound search 'source == signin and ip in cidr [\"203.0.113.0/24\"]' exports.zip\n"
    "Matching events are written to standard output as JSON Lines with the keys of `dump`.\n"
    "Exit status: 0 some event matched, 1 none, 2 bad expression, 3 some input unreadable,\n"
    "5 writing the output failed.",
    search_opts,
    run_search,
};

static int run_search(int argc, char **argv)
{
    search_ctx c = {0};
    ah_session_options_init(&c.so);
    int status = 0;
    int first = ah_cli_parse(&cmd_search, argc, argv, search_opt, &c, &status);
    ah_ruleset *vars = NULL;
    ah_expr *e = NULL;
    ah_matcher *m = NULL;
    ah_session *s = NULL;
    ah_buf out;
    ah_buf_init(&out, 0);
    if (first < 0)
        goto done;
    status = AH_EXIT_USAGE;
    if (argc - first < 2) {
        ah_cli_usage_error(&cmd_search, argc - first < 1 ? "no expression given" : "no input given");
        goto done;
    }
    ah_diag diag = {ah_cli_diag_fn, &c.diag, {0}};
    vars = ah_ruleset_new(&diag);
    if (!vars)
        goto done;
    if (c.rules.vars_file && ah_ruleset_load_vars_file(vars, c.rules.vars_file) != AH_OK)
        goto done;
    for (size_t i = 0; i < c.rules.nsets; i++)
        if (ah_ruleset_set_var_arg(vars, c.rules.sets[i]) != AH_OK) {
            ah_cli_errorf("--set %s: not a valid variable assignment", c.rules.sets[i]);
            goto done;
        }
    ah_cli_diag bare = {.bare = true}; /* compile messages carry their own caret display */
    ah_diag expr_diag = {ah_cli_diag_fn, &bare, {0}};
    e = ah_expr_compile(argv[first], vars, &expr_diag);
    if (!e)
        goto done;
    if (c.explain) {
        ah_expr_explain(e, &out);
        fputs(ah_buf_cstr(&out), stderr);
        ah_buf_reset(&out);
    }
    m = ah_matcher_new(NULL);
    s = ah_cli_open_session(&c.so, &c.diag, argc, argv, first + 1);
    if (!m || !s)
        goto done;
    const ah_event *ev;
    ah_status st;
    uint64_t matched = 0;
    status = AH_EXIT_PARTIAL;
    while ((st = ah_session_next(s, &ev)) == AH_OK) {
        if (!ah_expr_eval(m, e, ev))
            continue;
        matched++;
        ah_event_write_json(ev, c.raw, &out);
        ah_buf_putc(&out, '\n');
        if (out.len >= (1u << 16)) {
            if (fwrite(out.data, 1, out.len, stdout) != out.len) {
                status = ah_cli_stdout_status(AH_EXIT_PARTIAL);
                goto done;
            }
            ah_buf_reset(&out);
        }
    }
    if (st != AH_END) {
        ah_cli_errorf("%s", ah_status_str(st));
        goto done;
    }
    (void)fwrite(ah_buf_cstr(&out), 1, out.len, stdout); /* an error stays on stdout for the check below */
    ah_cli_diag_finish(&c.diag);
    status = ah_cli_stdout_status(ah_cli_read_status(s, matched ? AH_EXIT_HITS : AH_EXIT_NO_HITS));
done:
    ah_buf_free(&out);
    ah_session_free(s);
    ah_matcher_free(m);
    ah_expr_free(e);
    ah_ruleset_free(vars);
    ah_cli_rules_free(&c.rules);
    return status;
}
