/*
 * cmd_inspect.c: `audithound inspect` reads the inputs and reports, per
 * input and archive entry, what was found: container, encoding, framing,
 * format, records read, events, duplicates, errors, time range, and signs
 * of truncated exports; then totals, coverage per source, and the input
 * files' SHA-256. Text by default, JSON with --json.
 */
#include <string.h>

#include "cli.h"
#include "report.h"

enum { OPT_JSON = 1, OPT_FORMATS };

static const ah_cli_opt inspect_opts[] = {
    {OPT_JSON, 0, "json", NULL, "write the report as one JSON document"},
    {OPT_FORMATS, 0, "formats", NULL, "list the export formats audithound recognises, and exit"},
    AH_CLI_INPUT_OPTS,
    {0, 0, NULL, NULL, NULL},
};

typedef struct inspect_ctx {
    ah_session_options so;
    ah_cli_diag diag;
    bool json, formats;
} inspect_ctx;

static int inspect_opt(void *ctx, int id, const char *arg)
{
    inspect_ctx *c = ctx;
    if (id == OPT_JSON || id == OPT_FORMATS) {
        *(id == OPT_JSON ? &c->json : &c->formats) = true;
        return 0;
    }
    int r = ah_cli_input_opt(&c->so, &c->diag, id, arg);
    return r == 1 ? 0 : r;
}

static int run_inspect(int argc, char **argv);

const ah_cli_cmd cmd_inspect = {
    "inspect",
    "[OPTIONS] INPUT...",
    "report what each input holds: format, encoding, counts, time range, gaps",
    "Reads every input completely and reports, per input file and archive entry: container,\n"
    "encoding, framing, detected format, records read, events, duplicates and errors\n"
    "(records = events + duplicates + errors), first and last event time, and warnings:\n"
    "exactly 5,000 or 50,000 records (an export cap: probably truncated), ambiguous\n"
    "day/month dates, events without time. Then totals, the time covered per source with\n"
    "its empty hours, and the SHA-256 of every input file.",
    inspect_opts,
    run_inspect,
};

static int run_inspect(int argc, char **argv)
{
    inspect_ctx c = {0};
    ah_session_options_init(&c.so);
    int status = 0;
    int first = ah_cli_parse(&cmd_inspect, argc, argv, inspect_opt, &c, &status);
    if (first < 0)
        return status;
    if (c.formats) {
        for (size_t i = 0; i < ah_format_count(); i++) {
            const ah_format *f = ah_format_at(i);
            printf("%-26s %-12s %-5s %s\n", f->name, ah_source_name(f->source),
                   f->framing == AH_FRAMING_CSV ? "csv" : "json", f->description);
        }
        return 0;
    }
    if (first >= argc)
        return ah_cli_usage_error(&cmd_inspect, "no input given");
    ah_cli_memory_split(&c.so, 1); /* nothing but the duplicate set grows */
    ah_session *s = ah_cli_open_session(&c.so, &c.diag, argc, argv, first);
    if (!s)
        return AH_EXIT_NOMEM;
    const ah_event *ev;
    ah_status st;
    while ((st = ah_session_next(s, &ev)) == AH_OK)
        ;
    ah_cli_diag_finish(&c.diag);
    int rc = 0;
    if (st == AH_ERR_NOMEM) {
        ah_cli_errorf("out of memory");
        rc = AH_EXIT_NOMEM;
    }
    if (c.json) {
        ah_buf b;
        ah_buf_init(&b, 0);
        ah_buf_putc(&b, '{');
        ah_report_inputs_json(s, &b);
        ah_buf_puts(&b, "}\n");
        if (ah_buf_status(&b) != AH_OK) { /* never a report cut short */
            if (rc != AH_EXIT_NOMEM)
                ah_cli_errorf("out of memory");
            rc = AH_EXIT_NOMEM;
        } else
            fwrite(b.data, 1, b.len, stdout);
        ah_buf_free(&b);
    } else {
        ah_report_inputs_text(s, stdout);
    }
    rc = ah_cli_stdout_status(rc);
    if (!rc)
        rc = ah_cli_read_status(s, 0);
    ah_session_free(s);
    return rc;
}
