/*
 * cmd_search.c: `audithound search EXPR INPUT...`, the analyst's grep for
 * these logs: the rule language's match expressions over normalized events.
 * Matching events go through the same external sorter as hunt's rows (so
 * memory stays bounded) and out through the timeline writer, with the
 * `dump` keys as columns (AH_LAYOUT_EVENT) in any format and profile.
 */
#include <string.h>

#include "../../parsers/formats/timeparse.h"
#include "../engine/hunt.h"
#include "../order/sorter.h"
#include "cli.h"

enum { OPT_RAW = 1, OPT_EXPLAIN, OPT_OUTPUT, OPT_FORCE, OPT_FORMAT, OPT_PROFILE, OPT_FROM, OPT_TO };

static const ah_cli_opt search_opts[] = {
    {OPT_OUTPUT, 'o', "output", "FILE|-", "write to FILE (default: standard output); an existing file needs --force"},
    {OPT_FORCE, 0, "force", NULL, "replace an existing output file"},
    {OPT_FORMAT, 'f', "format", "jsonl|csv|json", "output format (default jsonl; csv columns are the keys of `dump`)"},
    {OPT_PROFILE, 0, "profile", "timesketch|ecs",
     "fields for an importer: Timesketch (csv or jsonl) or Elastic ECS (jsonl); docs/output.md"},
    {OPT_FROM, 0, "from", "TIME", "only events at or after TIME (ISO 8601; Z or an offset; no zone = UTC)"},
    {OPT_TO, 0, "to", "TIME", "only events at or before TIME"},
    {OPT_RAW, 0, "raw", NULL,
     "include the original record (JSON formats: as JSON under \"raw\"; always with --profile ecs)"},
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
    ah_writer_options wo;
    bool explain;
    bool has_from, has_to;
    ah_time from, to;
} search_ctx;

static int search_opt(void *ctx, int id, const char *arg)
{
    search_ctx *c = ctx;
    int r;
    switch (id) {
    case OPT_RAW: c->wo.include_raw = true; return 0;
    case OPT_EXPLAIN: c->explain = true; return 0;
    case OPT_OUTPUT: c->wo.path = arg; return 0;
    case OPT_FORCE: c->wo.force = true; return 0;
    case OPT_FORMAT:
        if (ah_out_format_from_name(ah_span_cstr(arg), &c->wo.format) != AH_OK)
            return ah_cli_usage_error(NULL, "--format: expected jsonl, csv or json, not '%s'", arg);
        return 0;
    case OPT_PROFILE:
        if (ah_out_profile_from_name(ah_span_cstr(arg), &c->wo.profile) != AH_OK)
            return ah_cli_usage_error(NULL, "--profile: expected timesketch or ecs, not '%s'", arg);
        return 0;
    case OPT_FROM:
        if (ah_cli_parse_time_opt("from", arg, &c->from) != 0)
            return AH_EXIT_USAGE;
        c->has_from = true;
        return 0;
    case OPT_TO:
        if (ah_cli_parse_time_opt("to", arg, &c->to) != 0)
            return AH_EXIT_USAGE;
        c->has_to = true;
        return 0;
    }
    if ((r = ah_cli_rules_opt(&c->rules, id, arg)) != 0 || (r = ah_cli_input_opt(&c->so, &c->diag, id, arg)) != 0)
        return r == 1 ? 0 : r;
    return 0;
}

static int run_search(int argc, char **argv);

const ah_cli_cmd cmd_search = {
    "search",
    "[OPTIONS] EXPR INPUT...",
    "print the events matching an expression, sorted by time",
    "EXPR is a match expression of the rule language (docs/rules.md); text values are quoted, e.g.\n"
    "  audithound search 'operation == \"New-InboxRule\" and raw.Parameters[Name=\"ForwardTo\"].Value exists' logs/\n"
    "  audithound search 'source == \"signin\" and ip in cidr [\"203.0.113.0/24\"]' exports.zip\n"
    "  audithound search --from 2021-01-13T00:00:00Z -f csv 'result == \"failure\"' logs/\n"
    "Matching events are written to standard output (or -o FILE) in time order (events without a time first;\n"
    "events of one instant in content order), as JSON Lines with the keys of `dump` by default;\n"
    "-f csv writes those keys as CSV columns, -f json one JSON array; --profile timesketch or ecs\n"
    "shapes them for an importer (docs/output.md). Sorting spills to disk past --memory.\n"
    "Exit status: 0 some event matched, 1 none, 2 bad expression, 3 some input unreadable,\n"
    "5 writing the output failed, 6 out of memory.",
    search_opts,
    run_search,
};

static bool in_window(const search_ctx *c, const ah_event *ev)
{
    if (!c->has_from && !c->has_to)
        return true;
    if (!ev->has_time)
        return false;
    return !(c->has_from && ah_time_cmp(ev->time, c->from) < 0) && !(c->has_to && ah_time_cmp(ev->time, c->to) > 0);
}

static int run_search(int argc, char **argv)
{
    search_ctx c = {0};
    ah_session_options_init(&c.so);
    ah_writer_options_init(&c.wo);
    c.wo.format = AH_OUT_JSONL;
    c.wo.include_raw = false; /* dump's shape: raw only when asked */
    c.wo.layout = AH_LAYOUT_EVENT;
    int status = 0;
    int first = ah_cli_parse(&cmd_search, argc, argv, search_opt, &c, &status);
    ah_ruleset *vars = NULL;
    ah_expr *e = NULL;
    ah_matcher *m = NULL;
    ah_session *s = NULL;
    ah_sorter *sorter = NULL;
    ah_writer *w = NULL;
    ah_buf text, cells, explain;
    ah_buf_init(&text, 0);
    ah_buf_init(&cells, 0);
    ah_buf_init(&explain, 0);
    if (first < 0)
        goto done;
    status = AH_EXIT_USAGE;
    if (argc - first < 2) {
        ah_cli_usage_error(&cmd_search, argc - first < 1 ? "no expression given" : "no input given");
        goto done;
    }
    if (c.has_from && c.has_to && ah_time_cmp(c.from, c.to) > 0) {
        ah_cli_usage_error(&cmd_search, "--from is later than --to");
        goto done;
    }
    if (!ah_out_profile_allows(c.wo.profile, c.wo.format)) {
        ah_cli_usage_error(&cmd_search, "--profile %s: cannot be written as %s (%s)", ah_out_profile_name(c.wo.profile),
                           ah_out_format_name(c.wo.format),
                           c.wo.profile == AH_PROFILE_ECS ? "use -f jsonl" : "use -f csv or -f jsonl");
        goto done;
    }
    if (c.wo.profile == AH_PROFILE_ECS)
        c.wo.include_raw = true; /* event.original is the record */
    ah_diag diag = {.fn = ah_cli_diag_fn, .ud = &c.diag, .temp_fn = ah_cli_temp_hook};
    vars = ah_ruleset_new(&diag);
    if (!vars) {
        ah_cli_errorf("out of memory");
        status = AH_EXIT_NOMEM;
        goto done;
    }
    if (c.rules.vars_file && ah_ruleset_load_vars_file(vars, c.rules.vars_file) != AH_OK) {
        status = ah_cli_fail_status(ah_ruleset_status(vars), AH_EXIT_USAGE);
        goto done;
    }
    for (size_t i = 0; i < c.rules.nsets; i++)
        if (ah_ruleset_set_var_arg(vars, c.rules.sets[i]) != AH_OK) {
            ah_cli_errorf("--set %s: not a valid variable assignment", c.rules.sets[i]);
            goto done;
        }
    ah_cli_diag bare = {.bare = true}; /* compile messages carry their own caret display */
    ah_diag expr_diag = {.fn = ah_cli_diag_fn, .ud = &bare};
    ah_status est;
    e = ah_expr_compile(argv[first], vars, &expr_diag, &est);
    if (!e) {
        if (est == AH_ERR_NOMEM) {
            ah_cli_errorf("out of memory");
            status = AH_EXIT_NOMEM;
        }
        goto done;
    }
    if (c.explain) {
        if (ah_expr_explain(e, &explain) == AH_ERR_NOMEM) {
            ah_cli_errorf("out of memory");
            status = AH_EXIT_NOMEM;
            goto done;
        }
        fputs(ah_buf_cstr(&explain), stderr);
    }
    /* Standard output is opened first, so a bad option fails before the read. */
    ah_status st;
    w = ah_writer_open(&c.wo, &diag, &st);
    if (!w) {
        status = ah_cli_output_status(st);
        goto done;
    }
    m = ah_matcher_new(NULL);
    sorter = ah_sorter_new(ah_cli_memory_split(&c.so, 2), c.so.tmpdir, &diag); /* half for the duplicate set */
    s = ah_cli_open_session(&c.so, &c.diag, argc, argv, first + 1);
    if (!m || !sorter || !s) { /* each fails only for want of memory (the session says so itself) */
        if (s)
            ah_cli_errorf("out of memory");
        status = AH_EXIT_NOMEM;
        goto done;
    }
    const ah_event *ev;
    uint64_t matched = 0;
    status = AH_EXIT_PARTIAL;
    while ((st = ah_session_next(s, &ev)) == AH_OK) {
        if (!in_window(&c, ev) || !ah_expr_eval(m, e, ev))
            continue;
        ah_row row;
        if ((st = ah_hunt_event_row(ev, c.wo.include_raw, &text, &row)) != AH_OK)
            break;
        ah_buf_reset(&cells);
        if ((st = ah_event_cells_pack(ev, &cells)) != AH_OK)
            break;
        row.event_cells = ah_buf_span(&cells);
        if ((st = ah_sorter_add(sorter, &row)) != AH_OK)
            break;
        matched++;
    }
    if (st == AH_END && ah_matcher_status(m) != AH_OK) /* a match may have failed for want of memory */
        st = ah_matcher_status(m);
    if (st != AH_END) {
        ah_cli_errorf("%s; nothing was written", ah_status_str(st));
        status = ah_cli_fail_status(st, status);
        goto done;
    }
    if ((st = ah_sorter_finish(sorter)) != AH_OK) {
        ah_cli_errorf("sorting failed: %s; nothing was written", ah_status_str(st));
        status = ah_cli_fail_status(st, status);
        goto done;
    }
    ah_row row;
    while ((st = ah_sorter_next(sorter, &row)) == AH_OK) {
        st = ah_writer_write(w, &row);
        if (st != AH_OK && st != AH_ERR_RECORD)
            break;
    }
    ah_status closed = st == AH_END ? ah_writer_close(w, NULL) : st;
    w = NULL;
    if (closed != AH_OK) {
        ah_cli_errorf("writing the output failed: %s", ah_status_str(closed));
        status = ah_cli_fail_status(closed, ah_cli_stdout_status(AH_EXIT_OUTPUT));
        goto done;
    }
    ah_cli_diag_finish(&c.diag);
    status = ah_cli_stdout_status(ah_cli_read_status(s, matched ? AH_EXIT_HITS : AH_EXIT_NO_HITS));
done:
    ah_writer_abort(w);
    ah_buf_free(&text);
    ah_buf_free(&cells);
    ah_buf_free(&explain);
    ah_sorter_free(sorter);
    ah_session_free(s);
    ah_matcher_free(m);
    ah_expr_free(e);
    ah_ruleset_free(vars);
    ah_cli_rules_free(&c.rules);
    return status;
}
