/*
 * cli.c: option parsing, help rendering and diagnostics for the
 * subcommands. Parsing is a small hand-written loop over the command's
 * option table (long options "--name[=value]", bundled short flags,
 * "-x value"), so that help and parsing share one table.
 */
#include "cli.h"

#include "../../parsers/formats/timeparse.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void ah_cli_errorf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("audithound: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void ah_cli_warnf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("audithound: warning: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int ah_cli_usage_error(const ah_cli_cmd *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("audithound: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    if (cmd)
        fprintf(stderr, "usage: audithound %s %s\nTry 'audithound %s --help'.\n", cmd->name, cmd->usage, cmd->name);
    return AH_EXIT_USAGE;
}

void ah_cli_help(const ah_cli_cmd *cmd, FILE *out)
{
    fprintf(out, "usage: audithound %s %s\n\n%s\n", cmd->name, cmd->usage, cmd->summary);
    if (cmd->description && *cmd->description)
        fprintf(out, "\n%s\n", cmd->description);
    fputs("\noptions:\n", out);
    for (const ah_cli_opt *o = cmd->opts; o && o->id; o++) {
        char left[80];
        int n = 0;
        if (o->short_name)
            n = snprintf(left, sizeof left, "-%c, ", o->short_name);
        else
            n = snprintf(left, sizeof left, "    ");
        snprintf(left + n, sizeof left - (size_t)n, "--%s%s%s", o->long_name, o->arg ? " " : "", o->arg ? o->arg : "");
        if (strlen(left) > 28)
            fprintf(out, "  %s\n  %-28s %s\n", left, "", o->help);
        else
            fprintf(out, "  %-28s %s\n", left, o->help);
    }
    fprintf(out, "  %-28s %s\n", "-h, --help", "show this help");
}

static const ah_cli_opt *find_long(const ah_cli_cmd *cmd, const char *name, size_t len)
{
    for (const ah_cli_opt *o = cmd->opts; o && o->id; o++)
        if (strlen(o->long_name) == len && memcmp(o->long_name, name, len) == 0)
            return o;
    return NULL;
}

static const ah_cli_opt *find_short(const ah_cli_cmd *cmd, char c)
{
    for (const ah_cli_opt *o = cmd->opts; o && o->id; o++)
        if (o->short_name == c)
            return o;
    return NULL;
}

/* Operands are moved to the end of argv in order, so callers see
 * argv[first..argc) as the operands. */
int ah_cli_parse(const ah_cli_cmd *cmd, int argc, char **argv, ah_cli_handler fn, void *ctx, int *exit_status)
{
    char **operands = calloc((size_t)argc + 1, sizeof *operands);
    int nops = 0, rc = -1;
    if (!operands) {
        ah_cli_errorf("out of memory");
        *exit_status = AH_EXIT_NOMEM;
        return -1;
    }
    int i;
    for (i = 1; i < argc; i++) {
        char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            for (i++; i < argc; i++)
                operands[nops++] = argv[i];
            break;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            ah_cli_help(cmd, stdout);
            *exit_status = 0;
            goto out;
        }
        if (a[0] != '-' || a[1] == '\0') { /* "-" is an operand (stdin / stdout) */
            operands[nops++] = a;
            continue;
        }
        if (a[1] == '-') {
            const char *name = a + 2, *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            const ah_cli_opt *o = find_long(cmd, name, len);
            if (!o) {
                *exit_status = ah_cli_usage_error(cmd, "unknown option '--%.*s'", (int)len, name);
                goto out;
            }
            const char *val = NULL;
            if (o->arg) {
                if (eq)
                    val = eq + 1;
                else if (i + 1 < argc)
                    val = argv[++i];
                else {
                    *exit_status = ah_cli_usage_error(cmd, "option '--%s' needs a value (%s)", o->long_name, o->arg);
                    goto out;
                }
            } else if (eq) {
                *exit_status = ah_cli_usage_error(cmd, "option '--%s' takes no value", o->long_name);
                goto out;
            }
            int r = fn(ctx, o->id, val);
            if (r) {
                *exit_status = r;
                goto out;
            }
            continue;
        }
        for (const char *c = a + 1; *c; c++) { /* bundled short options */
            const ah_cli_opt *o = find_short(cmd, *c);
            if (!o) {
                *exit_status = ah_cli_usage_error(cmd, "unknown option '-%c'", *c);
                goto out;
            }
            const char *val = NULL;
            if (o->arg) {
                if (c[1])
                    val = c + 1;
                else if (i + 1 < argc)
                    val = argv[++i];
                else {
                    *exit_status = ah_cli_usage_error(cmd, "option '-%c' needs a value (%s)", *c, o->arg);
                    goto out;
                }
            }
            int r = fn(ctx, o->id, val);
            if (r) {
                *exit_status = r;
                goto out;
            }
            if (val)
                break;
        }
    }
    rc = argc - nops;
    for (int k = 0; k < nops; k++)
        argv[rc + k] = operands[k];
out:
    free(operands);
    return rc;
}

int ah_cli_parse_uint(const char *s, unsigned long long *out)
{
    if (!s || !*s || *s == '-')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

int ah_cli_parse_time_opt(const char *name, const char *arg, ah_time *out)
{
    ah_time_parse tp;
    if (ah_time_parse_str(ah_span_cstr(arg), AH_DATE_ORDER_AUTO, &tp) != AH_OK) {
        ah_cli_usage_error(NULL, "--%s: not a time: '%s' (use ISO 8601, e.g. 2021-01-13T16:00:00Z)", name, arg);
        return AH_EXIT_USAGE;
    }
    *out = tp.time;
    return 0;
}

int ah_cli_parse_size(const char *s, size_t *out)
{
    if (!s || !*s || *s == '-')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return -1;
    unsigned shift = 0;
    switch (*end) {
    case '\0': break;
    case 'k':
    case 'K':
        shift = 10;
        end++;
        break;
    case 'm':
    case 'M':
        shift = 20;
        end++;
        break;
    case 'g':
    case 'G':
        shift = 30;
        end++;
        break;
    default: return -1;
    }
    if (*end == 'i' || *end == 'B')
        end += (*end == 'i' && end[1] == 'B') ? 2 : 1;
    if (*end || (shift && v > (SIZE_MAX >> shift)) || v == 0)
        return -1;
    *out = (size_t)(v << shift);
    return 0;
}

size_t ah_cli_default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > AH_CLI_MAX_THREADS ? AH_CLI_MAX_THREADS : (size_t)n;
}

/* --- diagnostics ---------------------------------------------------------- */

#define MAX_MESSAGES_PER_STREAM 50

static void flush_suppressed(ah_cli_diag *d)
{
    if (d->suppressed) {
        char esc[1024];
        fprintf(stderr, "audithound: note: %s: %u more messages not shown (all are counted)\n",
                ah_escape_text(d->last_key, strlen(d->last_key), false, esc, sizeof esc), d->suppressed);
    }
    d->suppressed = 0;
}

/* Messages come from every thread of a run (a worker's sort spill fails
 * while the reader warns about a record): one printer at a time, since
 * standard error and the per-stream caps are the process's. */
static pthread_mutex_t printer_lock = PTHREAD_MUTEX_INITIALIZER;

static void print_diag(ah_cli_diag *d, ah_severity sev, const ah_where *where, const char *msg);

void ah_cli_diag_fn(void *ud, ah_severity sev, const ah_where *where, const char *msg)
{
    pthread_mutex_lock(&printer_lock);
    print_diag(ud, sev, where, msg);
    pthread_mutex_unlock(&printer_lock);
}

static void print_diag(ah_cli_diag *d, ah_severity sev, const ah_where *where, const char *msg)
{
    if (d->quiet && sev != AH_SEV_ERROR)
        return;
    char key[512];
    snprintf(key, sizeof key, "%s%s%s%s", where && where->path ? where->path : "", where && where->entry ? "[" : "",
             where && where->entry ? where->entry : "", where && where->entry ? "]" : "");
    if (strcmp(key, d->last_key) != 0) {
        flush_suppressed(d);
        snprintf(d->last_key, sizeof d->last_key, "%s", key);
        d->shown = 0;
    }
    if (where && where->record_no && d->shown >= MAX_MESSAGES_PER_STREAM) {
        d->suppressed++;
        return;
    }
    d->shown++;
    /* Messages quote input data: escaped like every attacker-controlled text. */
    char text[2048];
    msg = ah_escape_text(msg, strlen(msg), d->bare, text, sizeof text);
    if (d->bare) {
        fprintf(stderr, "%s\n", msg);
        return;
    }
    static const char *const names[] = {"note", "warning", "error"};
    if (!where || !where->path || !*where->path) { /* about the run, not an input */
        fprintf(stderr, "audithound: %s: %s\n", names[sev], msg);
        return;
    }
    char loc[640];
    ah_where_format(where, loc, sizeof loc);
    fprintf(stderr, "audithound: %s: %s: %s\n", names[sev], loc, msg);
}

void ah_cli_diag_finish(ah_cli_diag *d) { flush_suppressed(d); }

int ah_cli_input_opt(ah_session_options *so, ah_cli_diag *diag, int id, const char *arg)
{
    switch (id) {
    case AH_OPT_MAX_RECORD:
        if (ah_cli_parse_size(arg, &so->max_record) != 0)
            return ah_cli_usage_error(NULL, "--max-record: not a size: '%s'", arg);
        return 1;
    case AH_OPT_MAX_INPUT: {
        size_t v;
        if (ah_cli_parse_size(arg, &v) != 0)
            return ah_cli_usage_error(NULL, "--max-input: not a size: '%s'", arg);
        so->max_input = v;
        return 1;
    }
    case AH_OPT_DATE_ORDER:
        if (strcmp(arg, "auto") == 0)
            so->date_order = AH_DATE_ORDER_AUTO;
        else if (strcmp(arg, "mdy") == 0)
            so->date_order = AH_DATE_ORDER_MDY;
        else if (strcmp(arg, "dmy") == 0)
            so->date_order = AH_DATE_ORDER_DMY;
        else
            return ah_cli_usage_error(NULL, "--date-order: expected auto, mdy or dmy, not '%s'", arg);
        return 1;
    case AH_OPT_KEEP_DUPLICATES: so->keep_duplicates = true; return 1;
    case AH_OPT_STRICT: so->strict = true; return 1;
    case AH_OPT_QUIET: diag->quiet = true; return 1;
    case AH_OPT_MEMORY: {
        size_t v;
        if (ah_cli_parse_size(arg, &v) != 0 || v == 0)
            return ah_cli_usage_error(NULL, "--memory: not a size: '%s'", arg);
        so->dedup_memory = v; /* the whole budget until ah_cli_memory_split */
        return 1;
    }
    case AH_OPT_TMPDIR: so->tmpdir = arg; return 1;
    }
    return 0;
}

size_t ah_cli_memory_split(ah_session_options *so, unsigned parts)
{
    size_t total = so->dedup_memory ? so->dedup_memory : AH_CLI_MEMORY_DEFAULT;
    size_t share = total / parts ? total / parts : 1;
    so->dedup_memory = share;
    return total - share;
}

ah_session *ah_cli_open_session(ah_session_options *so, ah_cli_diag *diag, int argc, char **argv, int first)
{
    so->diag_fn = ah_cli_diag_fn;
    so->diag_ud = diag;
    so->temp_fn = ah_cli_temp_hook;
    ah_session *s = ah_session_new(so);
    if (!s) {
        ah_cli_errorf("out of memory");
        return NULL;
    }
    if (first < argc && ah_session_add_inputs(s, (const char *const *)argv + first, (size_t)(argc - first)) != AH_OK) {
        ah_cli_errorf("out of memory");
        ah_session_free(s);
        return NULL;
    }
    return s;
}

int ah_cli_read_status(const ah_session *s, int ok_status)
{
    if (ah_session_partial(s))
        return AH_EXIT_PARTIAL;
    return ah_session_nothing_read(s) ? AH_EXIT_NOTHING_READ : ok_status;
}

int ah_cli_output_status(ah_status open_status)
{
    if (open_status == AH_ERR_NOMEM) /* the sinks report why they refuse, not a failed allocation */
        ah_cli_errorf("out of memory");
    return ah_cli_fail_status(open_status, open_status == AH_ERR_USAGE ? AH_EXIT_USAGE : AH_EXIT_OUTPUT);
}

int ah_cli_fail_status(ah_status st, int otherwise) { return st == AH_ERR_NOMEM ? AH_EXIT_NOMEM : otherwise; }

int ah_cli_stdout_status(int status)
{
    if (fflush(stdout) == 0 && !ferror(stdout))
        return status;
    if (status != AH_EXIT_OUTPUT)
        ah_cli_errorf("writing standard output failed");
    return AH_EXIT_OUTPUT;
}
