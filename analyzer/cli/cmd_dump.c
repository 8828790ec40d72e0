/*
 * cmd_dump.c: `audithound dump` prints every normalized event as JSON
 * Lines: the parse contract the tests and other tools rely on.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "event_json.h"

enum { OPT_RAW = 1 };

static const ah_cli_opt dump_opts[] = {
    {OPT_RAW, 0, "raw", NULL, "include the original record as JSON under \"raw\""},
    AH_CLI_INPUT_OPTS,
    {0, 0, NULL, NULL, NULL},
};

typedef struct dump_ctx {
    ah_session_options so;
    ah_cli_diag diag;
    bool raw;
} dump_ctx;

static int dump_opt(void *ctx, int id, const char *arg)
{
    dump_ctx *c = ctx;
    if (id == OPT_RAW) {
        c->raw = true;
        return 0;
    }
    int r = ah_cli_input_opt(&c->so, &c->diag, id, arg);
    return r == 1 ? 0 : r;
}

static int run_dump(int argc, char **argv);

const ah_cli_cmd cmd_dump = {
    "dump",
    "[OPTIONS] INPUT...",
    "print every normalized event as JSON Lines",
    "Reads the inputs (files, directories, archives, '-' for standard input), detects each\n"
    "export's format, normalizes every record and writes one JSON object per event to\n"
    "standard output, in input order. Duplicate records (same record identity) are dropped\n"
    "unless --keep-duplicates. Malformed records are reported on standard error with their\n"
    "input, archive entry and record number, counted, and skipped; the exit status is then 3.\n"
    "The keys are listed in docs/output.md (\"dump\").",
    dump_opts,
    run_dump,
};

static bool flush_block(ah_buf *out)
{
    bool ok = fwrite(out->data ? out->data : "", 1, out->len, stdout) == out->len;
    if (!ok)
        ah_cli_errorf("writing standard output failed");
    ah_buf_reset(out);
    return ok;
}

static int run_dump(int argc, char **argv)
{
    dump_ctx c = {0};
    ah_session_options_init(&c.so);
    int status = 0;
    int first = ah_cli_parse(&cmd_dump, argc, argv, dump_opt, &c, &status);
    if (first < 0)
        return status;
    if (first >= argc)
        return ah_cli_usage_error(&cmd_dump, "no input given");

    ah_cli_memory_split(&c.so, 1); /* nothing but the duplicate set grows */
    ah_session *s = ah_cli_open_session(&c.so, &c.diag, argc, argv, first);
    if (!s)
        return AH_EXIT_NOMEM;
    /* Lines are batched into one buffer and written in large blocks. */
    ah_buf out;
    ah_buf_init(&out, 0);
    const ah_event *ev;
    ah_status st;
    int rc = 0;
    while ((st = ah_session_next(s, &ev)) == AH_OK) {
        ah_event_write_json(ev, c.raw, &out);
        ah_buf_putc(&out, '\n');
        if ((st = ah_buf_status(&out)) != AH_OK) /* never write a line that lost bytes */
            break;
        if (out.len >= (1u << 16) && !flush_block(&out)) {
            rc = AH_EXIT_OUTPUT;
            break;
        }
    }
    if (!rc && st != AH_ERR_NOMEM && !flush_block(&out))
        rc = AH_EXIT_OUTPUT;
    rc = ah_cli_stdout_status(rc);
    if (st == AH_ERR_NOMEM) {
        ah_cli_errorf("out of memory");
        rc = AH_EXIT_NOMEM;
    }
    ah_cli_diag_finish(&c.diag);
    if (!rc)
        rc = ah_cli_read_status(s, 0);
    ah_buf_free(&out);
    ah_session_free(s);
    return rc;
}
