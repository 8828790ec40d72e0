/*
 * cmd_lint.c: `audithound lint RULES...` compiles rule files and prints
 * every problem with its location (errors, warnings, notes); --explain
 * prints the compiled form of one rule or all of them.
 */
#include "../../parsers/frame/jscan.h"
#include "cli.h"
#include "report.h"

enum { OPT_EXPLAIN = 1, OPT_EXPLAIN_ALL, OPT_STRICT, OPT_JSON };

static const ah_cli_opt lint_opts[] = {
    {OPT_EXPLAIN, 0, "explain", "RULE_ID", "print the compiled form of one rule"},
    {OPT_EXPLAIN_ALL, 0, "explain-all", NULL, "print the compiled form of every rule"},
    {OPT_STRICT, 0, "strict", NULL, "treat warnings as errors"},
    {OPT_JSON, 0, "json", NULL, "print every rule's metadata as JSON Lines (for catalogues and tooling)"},
    {AH_OPT_SET, 0, "set", "NAME=VALUE", "set a rule variable (repeatable)"},
    {AH_OPT_VARS, 0, "vars", "FILE", "read rule variables from a file of NAME=VALUE lines"},
    {0, 0, NULL, NULL, NULL},
};

typedef struct lint_ctx {
    ah_cli_rules rules;
    const char *explain;
    bool explain_all, strict, json;
} lint_ctx;

static int lint_opt(void *ctx, int id, const char *arg)
{
    lint_ctx *c = ctx;
    if (id == OPT_EXPLAIN)
        c->explain = arg;
    else if (id == OPT_EXPLAIN_ALL)
        c->explain_all = true;
    else if (id == OPT_STRICT)
        c->strict = true;
    else if (id == OPT_JSON)
        c->json = true;
    else {
        int r = ah_cli_rules_opt(&c->rules, id, arg);
        return r == 1 ? 0 : r;
    }
    return 0;
}

static void json_list(ah_buf *b, const char *key, ah_strlist l)
{
    ah_buf_printf(b, ",\"%s\":[", key);
    for (size_t i = 0; i < l.n; i++) {
        if (i)
            ah_buf_putc(b, ',');
        ah_report_json_str(b, l.v[i]);
    }
    ah_buf_putc(b, ']');
}

static void json_member(ah_buf *b, const char *key, const char *value)
{
    ah_buf_printf(b, ",\"%s\":", key);
    ah_report_json_str(b, value);
}

/* One JSON object per rule: the metadata as the compiler understood it.
 * AH_ERR_NOMEM, and no more lines, once a line lost bytes. */
static ah_status print_metadata(const ah_ruleset *rs)
{
    ah_buf b;
    ah_buf_init(&b, 0);
    for (size_t i = 0; i < ah_ruleset_count(rs); i++) {
        const ah_rule_meta *m = ah_rule_metadata(ah_ruleset_rule(rs, i));
        ah_buf_reset(&b);
        ah_buf_puts(&b, "{\"id\":");
        ah_report_json_str(&b, m->id);
        json_member(&b, "title", m->title);
        json_member(&b, "severity", ah_level_name(m->level));
        json_member(&b, "status", ah_rule_status_name(m->status));
        ah_buf_puts(&b, ",\"sources\":[");
        bool first = true;
        for (int k = AH_SOURCE_UAL; k < AH_SOURCE_COUNT; k++)
            if (m->sources & AH_SOURCE_BIT(k)) {
                ah_buf_printf(&b, "%s\"%s\"", first ? "" : ",", ah_source_name((ah_source_kind)k));
                first = false;
            }
        ah_buf_putc(&b, ']');
        json_list(&b, "tags", m->tags);
        json_list(&b, "attack", m->attack);
        json_list(&b, "references", m->references);
        json_list(&b, "falsepositives", m->falsepositives);
        json_list(&b, "variables", m->variables);
        json_list(&b, "routine", m->routine);
        json_member(&b, "description", m->description);
        json_member(&b, "note", m->note);
        json_member(&b, "author", m->author);
        json_member(&b, "date", m->date);
        json_member(&b, "modified", m->modified);
        json_member(&b, "version", m->version);
        json_member(&b, "file", m->file);
        ah_buf_printf(&b, ",\"line\":%llu", (unsigned long long)m->line);
        json_member(&b, "skipped", m->skipped);
        ah_buf_printf(&b, ",\"needs_raw\":%s}\n", m->needs_raw ? "true" : "false");
        if (ah_buf_status(&b) != AH_OK)
            break;
        fwrite(b.data, 1, b.len, stdout);
    }
    ah_status st = ah_buf_status(&b);
    ah_buf_free(&b);
    return st;
}

static int run_lint(int argc, char **argv);

const ah_cli_cmd cmd_lint = {
    "lint",
    "[OPTIONS] RULES...",
    "check rule files: syntax and meaning, every problem with its location",
    "RULES are rule files or directories (read recursively for *.rules, and Sigma rules in\n"
    "*.yml / *.yaml, which are translated; docs/sigma.md). Every problem is\n"
    "printed as file:line:col with the offending text: syntax errors, unknown fields and\n"
    "sources, bad regular expressions, CIDRs and list files, duplicate ids, rules that can\n"
    "never apply; warnings for missing metadata or tests and for Sigma rules that cannot run\n"
    "faithfully (with the reason); notes for rules skipped because a\n"
    "variable is not set. Exit status: 0 no errors, 2 errors (or warnings with --strict).",
    lint_opts,
    run_lint,
};

static int run_lint(int argc, char **argv)
{
    lint_ctx c = {0};
    int status = 0;
    int first = ah_cli_parse(&cmd_lint, argc, argv, lint_opt, &c, &status);
    if (first < 0)
        return status;
    if (first >= argc) {
        ah_cli_rules_free(&c.rules);
        return ah_cli_usage_error(&cmd_lint, "no rule file or directory given");
    }
    ah_cli_diag printer = {.bare = true};
    ah_diag diag = {.fn = ah_cli_diag_fn, .ud = &printer};
    ah_ruleset *rs = ah_ruleset_new(&diag);
    status = AH_EXIT_NOMEM;
    if (!rs) {
        ah_cli_errorf("out of memory");
        goto out;
    }
    if (c.rules.vars_file)
        ah_ruleset_load_vars_file(rs, c.rules.vars_file);
    for (size_t i = 0; i < c.rules.nsets; i++)
        if (ah_ruleset_set_var_arg(rs, c.rules.sets[i]) != AH_OK)
            ah_cli_errorf("--set %s: not a valid variable assignment", c.rules.sets[i]);
    for (int i = first; i < argc; i++)
        ah_ruleset_load_path(rs, argv[i]);
    ah_ruleset_compile(rs);
    if (ah_ruleset_status(rs) != AH_OK) {
        ah_cli_errorf("out of memory"); /* the errors it caused are not the rules' */
        goto out;
    }
    uint64_t errors = diag.count[AH_SEV_ERROR]; /* the rules' and the variable files' */
    uint64_t warnings = diag.count[AH_SEV_WARNING];
    if (c.explain || c.explain_all) {
        ah_buf b;
        ah_buf_init(&b, 0);
        ah_status st = ah_ruleset_explain(rs, c.explain, &b);
        if (st == AH_ERR_NOMEM) {
            ah_buf_free(&b);
            ah_cli_errorf("out of memory");
            goto out;
        }
        if (st != AH_OK) {
            ah_cli_errorf("--explain: no rule with id '%s'", c.explain);
            errors++;
        }
        fputs(ah_buf_cstr(&b), stdout);
        ah_buf_free(&b);
    }
    if (c.json && print_metadata(rs) != AH_OK) {
        ah_cli_errorf("out of memory");
        goto out;
    }
    fprintf(stderr, "lint: %zu rules (%zu active), %llu errors, %llu warnings\n", ah_ruleset_count(rs),
            ah_ruleset_active_count(rs), (unsigned long long)errors, (unsigned long long)warnings);
    status = ah_cli_stdout_status(errors || (c.strict && warnings) ? AH_EXIT_USAGE : 0);
out:
    ah_ruleset_free(rs);
    ah_cli_rules_free(&c.rules);
    return status;
}
