/*
 * cmd_hunt.c: `audithound hunt` reads the exports, applies the rules and
 * writes the timeline an analyst opens first.
 *
 * Flow: compile rules -> open the output (so a refusal to overwrite comes
 * before hours of reading) -> stream events through the matcher -> rows into
 * the external sorter (bounded by --memory, spilling to disk) -> sorted rows
 * streamed to the writer -> commit the file -> summary on stderr and, with
 * --summary, as JSON for the case file.
 *
 * Size: hunt and merge share their options, output setup, summary and exit
 * statuses: merge is hunt's output stage fed by partials.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "../../parsers/formats/timeparse.h"
#include "../../parsers/frame/jscan.h"
#include "../../parsers/util/sha256.h"
#include "../engine/hunt.h"
#include "../engine/names.h"
#include "../engine/partial.h"
#include "../output/html.h"
#include "../output/sink.h"
#include "../output/story.h"
#include "cli.h"
#include "custody.h"
#include "hunt_sheets.h"
#include "report.h"

enum {
    OPT_OUTPUT = 1,
    OPT_FORMAT,
    OPT_ALL,
    OPT_FROM,
    OPT_TO,
    OPT_MIN_SEVERITY,
    OPT_TAGS,
    OPT_SUMMARY,
    OPT_FORCE,
    OPT_DELIMITER,
    OPT_BOM,
    OPT_NO_BOM,
    OPT_NO_EXCEL_SAFE,
    OPT_EXCEL_DATES,
    OPT_TZ,
    OPT_SPLIT_ROWS,
    OPT_NO_RAW,
    OPT_THREADS,
    OPT_BASELINE,
    OPT_ROWS,
    OPT_NO_JOIN,
    OPT_NO_SUPPRESS,
    OPT_DIRECTORY,
    OPT_PROFILE,
    OPT_HTML,
    OPT_COLOR,
    OPT_PARTIAL,
};

/* The options that only shape the output: hunt and merge take them alike. */
#define SHAPE_OPTS_FIRST                                                                                               \
    {OPT_OUTPUT, 'o', "output", "FILE|-", "write the timeline to FILE (default: standard output)"},                    \
        {OPT_FORMAT, 'f', "format", "csv|jsonl|json|xlsx|story",                                                       \
         "timeline format (default csv; jsonl with --profile ecs; xlsx: a workbook, needs -o FILE; "                   \
         "story on a terminal when neither -o nor -f is given)"},                                                      \
        {OPT_PROFILE, 0, "profile", "timesketch|ecs",                                                                  \
         "fields for an importer: Timesketch (csv or jsonl) or Elastic ECS (jsonl); docs/output.md"},                  \
        {OPT_HTML, 0, "html", "FILE", "also write the HTML report to FILE (self-contained, opens offline)"},           \
    {                                                                                                                  \
        OPT_COLOR, 0, "color", "auto|always|never",                                                                    \
            "colours of the story view (default auto: on a terminal, unless NO_COLOR is set)"                          \
    }

#define SHAPE_OPTS_LAST                                                                                                \
    {OPT_FORCE, 0, "force", NULL, "overwrite existing output and summary files"},                                      \
        {OPT_DELIMITER, 0, "delimiter", "CHAR", "CSV delimiter (default ','; 'tab' for TAB)"},                         \
        {OPT_BOM, 0, "bom", NULL, "start CSV output with a UTF-8 byte order mark, also on standard output"},           \
        {OPT_NO_BOM, 0, "no-bom", NULL,                                                                                \
         "no byte order mark in CSV files (by default -o FILE gets one, for spreadsheets)"},                           \
        {OPT_NO_EXCEL_SAFE, 0, "no-excel-safe", NULL, "do not neutralise cells starting with = + - @ TAB CR"},         \
        {OPT_EXCEL_DATES, 0, "excel-dates", NULL, "add a time_excel column (YYYY-MM-DD HH:MM:SS, UTC)"},               \
        {OPT_TZ, 0, "tz", "ZONE", "add a time_local column in the IANA zone ZONE (time stays UTC)"},                   \
        {OPT_SPLIT_ROWS, 0, "split-rows", "N",                                                                         \
         "CSV: start a new numbered file after N data rows; xlsx: a new Timeline sheet (default 1048575)"},            \
    {                                                                                                                  \
        OPT_NO_RAW, 0, "no-raw", NULL, "JSON formats: leave out the raw record"                                        \
    }

static const ah_cli_opt hunt_opts[] = {
    AH_CLI_RULE_OPTS,
    SHAPE_OPTS_FIRST,
    {OPT_ALL, 'a', "all", NULL, "super-timeline: every event, rule columns filled where rules hit"},
    {OPT_ROWS, 0, "rows", "event|per-rule",
     "one row per event with every rule that hit it (default), or one per rule hit"},
    {OPT_NO_JOIN, 0, "no-join", NULL, "keep the UAL and Entra copies of one sign-in or directory change as two rows"},
    {OPT_NO_SUPPRESS, 0, "no-suppress", NULL, "never demote a hit as routine (rules' `routine` facts are ignored)"},
    {OPT_DIRECTORY, 0, "directory", "FILE",
     "names for ids from a Graph or portal export of users, applications, service principals (repeatable)"},
    {OPT_FROM, 0, "from", "TIME", "only events at or after TIME (ISO 8601; Z or an offset; no zone = UTC)"},
    {OPT_TO, 0, "to", "TIME", "only events at or before TIME"},
    {OPT_MIN_SEVERITY, 0, "min-severity", "LEVEL",
     "only hits of rules at LEVEL or above (info, low, medium, high, critical)"},
    {OPT_TAGS, 0, "tags", "TAG,...", "only hits of rules with one of these tags (e.g. solarwinds,T1098.001)"},
    {OPT_BASELINE, 0, "baseline", "FROM..TO",
     "first-seen rules and `x baseline` thresholds learn from this period instead of the first N days"},
    {OPT_SUMMARY, 0, "summary", "FILE", "also write the run summary as JSON (inputs with SHA-256, rules, counts)"},
    {OPT_THREADS, 0, "threads", "N",
     "threads matching events beside the reader (default: the online CPUs; 1: none); the output does not change"},
    SHAPE_OPTS_LAST,
    {OPT_PARTIAL, 0, "partial", "DIR",
     "write a partial result into DIR (created; must be new or empty) for `audithound merge`, instead of a timeline"},
    AH_CLI_INPUT_OPTS,
    {0, 0, NULL, NULL, NULL},
};

/* `merge` takes the options that only shape the output; the others come
 * from the partials (recorded_option). */
static const ah_cli_opt merge_opts[] = {
    SHAPE_OPTS_FIRST,
    {OPT_SUMMARY, 0, "summary", "FILE", "also write the run summary as JSON (with the partials merged)"},
    {OPT_THREADS, 0, "threads", "N",
     "threads replaying the correlation (default: the online CPUs); the output does not change"},
    SHAPE_OPTS_LAST,
    {AH_OPT_MEMORY, 0, "memory", "SIZE",
     "memory for the duplicate set, sorting and correlation state before spilling to disk (default 64M)"},
    {AH_OPT_TMPDIR, 0, "tmpdir", "DIR", "where sorted runs are spilled (default $TMPDIR or /tmp)"},
    {AH_OPT_QUIET, 'q', "quiet", NULL, "no warnings or progress on stderr (errors are still printed)"},
    {0, 0, NULL, NULL, NULL},
};

/* The options that change results: a partial records them, and partials
 * merge only when theirs are equal. */
static bool recorded_option(int id)
{
    switch (id) {
    case AH_OPT_RULES:
    case AH_OPT_SET:
    case AH_OPT_VARS:
    case OPT_FROM:
    case OPT_TO:
    case OPT_MIN_SEVERITY:
    case OPT_TAGS:
    case OPT_BASELINE:
    case OPT_ALL:
    case OPT_ROWS:
    case OPT_NO_JOIN:
    case OPT_NO_SUPPRESS:
    case OPT_DIRECTORY:
    case AH_OPT_DATE_ORDER:
    case AH_OPT_KEEP_DUPLICATES:
    case AH_OPT_MAX_RECORD:
    case AH_OPT_MAX_INPUT:
    case AH_OPT_STRICT: return true;
    default: return false;
    }
}

typedef struct hunt_ctx {
    ah_session_options so;
    ah_cli_diag diag;
    ah_cli_rules rules;
    ah_writer_options wo;
    ah_hunt_options ho;
    const char *summary_path;
    const char **directories; /* --directory exports */
    size_t ndirectories;
    const char *html_path; /* --html */
    bool story;            /* the story view instead of a timeline format */
    bool format_given, output_given;
    int color;               /* 0 auto, 1 always, 2 never */
    const char *partial_dir; /* hunt --partial */
    ah_buf recorded;         /* the options that change results, "option --name[=value]" lines */
} hunt_ctx;

static int hunt_opt(void *ctx, int id, const char *arg)
{
    hunt_ctx *c = ctx;
    int r;
    if ((r = ah_cli_rules_opt(&c->rules, id, arg)) != 0 || (r = ah_cli_input_opt(&c->so, &c->diag, id, arg)) != 0)
        return r == 1 ? 0 : r;
    unsigned long long n;
    switch (id) {
    case OPT_OUTPUT:
        c->wo.path = arg;
        c->output_given = true;
        break;
    case OPT_FORMAT:
        c->format_given = true;
        c->story = strcmp(arg, "story") == 0;
        if (!c->story && ah_out_format_from_name(ah_span_cstr(arg), &c->wo.format) != AH_OK)
            return ah_cli_usage_error(NULL, "--format: expected csv, jsonl, json, xlsx or story, not '%s'", arg);
        break;
    case OPT_PROFILE:
        if (ah_out_profile_from_name(ah_span_cstr(arg), &c->wo.profile) != AH_OK)
            return ah_cli_usage_error(NULL, "--profile: expected timesketch or ecs, not '%s'", arg);
        break;
    case OPT_HTML: c->html_path = arg; break;
    case OPT_COLOR:
        if (strcmp(arg, "auto") == 0)
            c->color = 0;
        else if (strcmp(arg, "always") == 0)
            c->color = 1;
        else if (strcmp(arg, "never") == 0)
            c->color = 2;
        else
            return ah_cli_usage_error(NULL, "--color: expected auto, always or never, not '%s'", arg);
        break;
    case OPT_ALL: c->ho.all = true; break;
    case OPT_ROWS:
        if (strcmp(arg, "event") == 0)
            c->ho.per_rule = false;
        else if (strcmp(arg, "per-rule") == 0)
            c->ho.per_rule = true;
        else
            return ah_cli_usage_error(NULL, "--rows: expected event or per-rule, not '%s'", arg);
        break;
    case OPT_NO_JOIN: c->ho.no_join = true; break;
    case OPT_NO_SUPPRESS: c->ho.no_suppress = true; break;
    case OPT_DIRECTORY: {
        const char **v = realloc(c->directories, (c->ndirectories + 1) * sizeof *v);
        if (!v) {
            ah_cli_errorf("out of memory");
            return AH_EXIT_NOMEM;
        }
        v[c->ndirectories++] = arg;
        c->directories = v;
        break;
    }
    case OPT_FROM:
    case OPT_TO:
        if (ah_cli_parse_time_opt(id == OPT_FROM ? "from" : "to", arg, id == OPT_FROM ? &c->ho.from : &c->ho.to) != 0)
            return AH_EXIT_USAGE;
        *(id == OPT_FROM ? &c->ho.has_from : &c->ho.has_to) = true;
        break;
    case OPT_MIN_SEVERITY:
        if (!ah_level_from_name(ah_span_cstr(arg), &c->ho.min_level))
            return ah_cli_usage_error(NULL, "--min-severity: expected info, low, medium, high or critical, not '%s'",
                                      arg);
        break;
    case OPT_TAGS: c->ho.tags = arg; break;
    case OPT_SUMMARY: c->summary_path = arg; break;
    case OPT_FORCE: c->wo.force = true; break;
    case OPT_DELIMITER:
        if (strcmp(arg, "tab") == 0 || strcmp(arg, "\\t") == 0)
            c->wo.delimiter = '\t';
        else if (strlen(arg) == 1)
            c->wo.delimiter = arg[0];
        else
            return ah_cli_usage_error(NULL, "--delimiter: expected one character or 'tab', not '%s'", arg);
        break;
    case OPT_BOM: c->wo.bom = AH_BOM_ALWAYS; break;
    case OPT_NO_BOM: c->wo.bom = AH_BOM_NEVER; break;
    case OPT_NO_EXCEL_SAFE: c->wo.excel_safe = false; break;
    case OPT_EXCEL_DATES: c->wo.excel_dates = true; break;
    case OPT_TZ: c->wo.tz = arg; break;
    case OPT_SPLIT_ROWS:
        if (ah_cli_parse_uint(arg, &n) != 0 || n == 0)
            return ah_cli_usage_error(NULL, "--split-rows: expected a positive number, not '%s'", arg);
        c->wo.split_rows = n;
        break;
    case OPT_NO_RAW: c->wo.include_raw = false; break;
    case OPT_PARTIAL: c->partial_dir = arg; break;
    case OPT_THREADS:
        if (ah_cli_parse_uint(arg, &n) != 0 || n < 1 || n > AH_CLI_MAX_THREADS)
            return ah_cli_usage_error(NULL, "--threads: expected 1 to %d, not '%s'", AH_CLI_MAX_THREADS, arg);
        c->ho.threads = (size_t)n;
        break;
    case OPT_BASELINE: {
        const char *dots = strstr(arg, "..");
        ah_time_parse from, to;
        if (!dots || ah_time_parse_str(ah_span_make(arg, (size_t)(dots - arg)), AH_DATE_ORDER_AUTO, &from) != AH_OK ||
            ah_time_parse_str(ah_span_cstr(dots + 2), AH_DATE_ORDER_AUTO, &to) != AH_OK ||
            ah_time_cmp(from.time, to.time) > 0)
            return ah_cli_usage_error(NULL, "--baseline: expected FROM..TO (ISO 8601, FROM not after TO), not '%s'",
                                      arg);
        c->ho.has_baseline = true;
        c->ho.baseline_from = from.time;
        c->ho.baseline_to = to.time;
        break;
    }
    }
    return 0;
}

/* Every option as hunt_opt takes it; those that change results are noted
 * for a partial's MANIFEST. */
static int hunt_opt_noted(void *ctx, int id, const char *arg)
{
    hunt_ctx *c = ctx;
    if (recorded_option(id)) {
        for (const ah_cli_opt *o = hunt_opts; o->long_name; o++)
            if (o->id == id) {
                ah_buf_printf(&c->recorded, "option --%s", o->long_name);
                if (arg) {
                    ah_buf_putc(&c->recorded, '=');
                    for (const char *p = arg; *p; p++) /* one line each: a newline would start another */
                        ah_buf_putc(&c->recorded, *p == '\n' ? ' ' : *p);
                }
                ah_buf_putc(&c->recorded, '\n');
                break;
            }
    }
    return hunt_opt(ctx, id, arg);
}

static int run_hunt(int argc, char **argv);
static int run_merge(int argc, char **argv);

/* The names store: the shipped reference lists (found beside the shipped
 * rules, whatever -r names: they are facts about Microsoft, not rules), then
 * every --directory export. NULL with *status set when that fails. */
static ah_names *open_names(const hunt_ctx *c, ah_diag *diag, int *status)
{
    ah_names *n = ah_names_new(AH_HUNT_NAMES_BUDGET);
    if (!n) {
        ah_cli_errorf("out of memory");
        *status = AH_EXIT_NOMEM;
        return NULL;
    }
    char rules[PATH_MAX], lists[PATH_MAX + 8];
    if (ah_cli_default_rules(rules, sizeof rules)) {
        snprintf(lists, sizeof lists, "%s/lists", rules);
        /* a bad line is reported and the others load; a list cut short by memory is not a list */
        if (ah_names_load_lists(n, lists, diag) == AH_ERR_NOMEM) {
            ah_cli_errorf("%s: out of memory", lists);
            ah_names_free(n);
            *status = AH_EXIT_NOMEM;
            return NULL;
        }
    }
    for (size_t i = 0; i < c->ndirectories; i++) {
        ah_status st = ah_names_load_directory(n, c->directories[i], diag);
        if (st == AH_ERR_NOMEM || st == AH_ERR_IO) {
            ah_cli_errorf("--directory %s: %s", c->directories[i], ah_status_str(st));
            ah_names_free(n);
            *status = ah_cli_fail_status(st, AH_EXIT_PARTIAL);
            return NULL;
        }
    }
    return n;
}

const ah_cli_cmd cmd_hunt = {
    "hunt",
    "[OPTIONS] INPUT...",
    "apply the rules to the inputs and write a time-sorted timeline of the hits",
    "Reads the inputs (files, directories, archives, '-' for standard input), applies the\n"
    "rules (the shipped packs unless -r is given) and writes a timeline sorted by time: one\n"
    "row per event that rules hit, naming every rule that hit it (highest severity first),\n"
    "or with --all one row per event. The UAL and Entra copies of one sign-in or directory\n"
    "change are joined into one row (source signin+ual, related_ids). Rows of the same\n"
    "instant are in content order, so the input order never changes the output. Columns:\n"
    "time, severity, rule_id, rule_title, tags, source, operation, user, ip, app, user_agent,\n"
    "result, target, details, record_id, input, input_record, app_id, target_id,\n"
    "related_ids; JSON formats add rules, raw and related_raw (docs/output.md). Times are UTC.\n\n"
    "On a terminal (no -o, no -f) the rows are shown as a story instead: one coloured line per\n"
    "row (time, severity, who, from where, what, rule titles), then a summary table; -f story\n"
    "selects that view anywhere. --html FILE also writes a self-contained HTML report (case\n"
    "header, chart, pivots, correlation hits, the story with every record).\n\n"
    "Output files are written under a temporary name and renamed when complete; an existing\n"
    "file is not replaced without --force. CSV cells that a spreadsheet would run as a\n"
    "formula are neutralised with a leading ' unless --no-excel-safe. A CSV file starts with\n"
    "a UTF-8 byte order mark (not on standard output; --no-bom, --bom). -f xlsx -o FILE writes\n"
    "a workbook: Timeline sheets (date cells, text never run as a formula, a new sheet past\n"
    "1048575 rows), Summary and Rules. The run summary lists every file written with its SHA-256.\n\n"
    "Correlation rules (thresholds, sequences, first-seen) run on the time-ordered events\n"
    "whatever the input order; each hit is one row at the time of its first event, with the\n"
    "contributing record ids. --memory bounds the duplicate set, the sort and the correlation state together.\n\n"
    "--partial DIR writes the shard's partial result into DIR instead of a timeline, for\n"
    "`audithound merge` to turn the partials of many shards into this one timeline\n"
    "(docs/scale-out.md).\n\n"
    "A summary (inputs, events, duplicates, errors, time covered per source, hits per\n"
    "severity, top rules, warnings, throughput) goes to standard error unless -q.\n"
    "Exit status: 0 hits found, 1 no hits, 2 usage or rule error, 3 some input unreadable,\n"
    "5 writing the output failed, 6 out of memory (docs/exit-codes.md).",
    hunt_opts,
    run_hunt,
};

/* Here, not in a cmd_merge.c: merge is hunt's output stage fed by partials. */
const ah_cli_cmd cmd_merge = {
    "merge",
    "[OPTIONS] PARTIAL...",
    "merge the partial results of `hunt --partial` shards into one timeline and summary",
    "Merges partials written by `hunt --partial DIR` (one per shard of a case) into the\n"
    "timeline and summary one `hunt` over all of the shards' inputs writes, byte for byte\n"
    "(docs/scale-out.md): duplicates across shards are dropped (the copy read first in the\n"
    "canonical order is kept), the correlation observations are replayed in time order,\n"
    "twins are joined and names applied over the whole case. An input in several partials\n"
    "is taken from one of them. The partials are given in any order.\n\n"
    "Options that change results (rules, --set/--vars, --from/--to, --min-severity, --tags,\n"
    "--baseline, --all, --rows, --no-join, --no-suppress, --directory, --keep-duplicates,\n"
    "--date-order, --max-record, --max-input, --strict) are the shards': each partial records\n"
    "them, with the rule set's hash and the binary's version, and partials that differ, or a\n"
    "partial whose files do not match its MANIFEST's SHA-256, are refused. The options here\n"
    "only shape the output, as for hunt. The summary lists each partial's hash, host and\n"
    "binary revision.\n"
    "Exit status: 0 hits found, 1 no hits, 2 usage error or partials refused, 3 some shard's\n"
    "input was unreadable, 5 writing the output failed, 6 out of memory (docs/exit-codes.md).",
    merge_opts,
    run_merge,
};

/* --- building rows ---------------------------------------------------------- */

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Progress on a terminal: bytes of the input files as stored (compressed
 * bytes for a .gz or .zip: what the total is made of), counted as read in
 * order (parsers/source), events per second, and the ETA from the rate over
 * the whole run so far, not the last moment's. Called by the session as bytes
 * are read, also while no event comes out (a device, a stream of NULs), so
 * a long read never looks hung, and every 1024 events by the hunt loop. */
typedef struct read_progress {
    double t0, last;
    uint64_t events;
} read_progress;

static void print_progress(const read_progress *p, uint64_t done, uint64_t total, bool final)
{
    double dt = now_seconds() - p->t0, rate = dt > 0 ? done / dt : 0, eps = dt > 0 ? p->events / dt : 0;
    fprintf(stderr, "\r  read %.1f MB", done / 1e6);
    if (total) {
        double left = rate > 0 && total > done ? (double)(total - done) / rate : 0;
        fprintf(stderr, " of %.1f MB (%.0f%%), %.1f MB/s, %.0f events/s, ETA %d:%02d  ", total / 1e6,
                100.0 * done / (double)total, rate / 1e6, eps, (int)left / 60, (int)left % 60);
    } else {
        fprintf(stderr, ", %.1f MB/s, %.0f events/s  ", rate / 1e6, eps);
    }
    if (final)
        fputc('\n', stderr);
}

static void show_progress(const ah_session *s, const read_progress *p, bool final)
{
    uint64_t done, total;
    ah_session_progress(s, &done, &total);
    print_progress(p, done, total, final);
}

static void on_read_progress(void *ud, uint64_t done, uint64_t total)
{
    read_progress *p = ud;
    double now = now_seconds();
    if (now - p->last > 0.5) {
        p->last = now;
        print_progress(p, done, total, false);
    }
}

/* --- summary -------------------------------------------------------------- */

/* What the summaries need of a finished run. */
typedef struct hunt_run {
    const hunt_ctx *c;
    ah_ruleset *rs;
    ah_hunt *hunt;
    ah_partial **parts; /* merge: the partials merged */
    size_t nparts;
} hunt_run;

/* Display names are attacker-controlled: a rename (and a Microsoft-like new
 * name) is worth a line of the summary. */
static void print_rename(void *ud, const ah_name_rename *r)
{
    (void)ud;
    char t[40], was[512], now[512];
    fprintf(stderr, "  renamed   %s %s: \"%s\" -> \"%s\" at %s%s\n", ah_name_kind_name(r->kind), r->id,
            ah_escape_text(r->old_name.p, r->old_name.n, false, was, sizeof was),
            ah_escape_text(r->new_name.p, r->new_name.n, false, now, sizeof now), ah_time_format(r->at, t),
            r->flags & AH_NAME_LOOKALIKE ? " (a Microsoft-like name on a non-Microsoft app id)" : "");
}

static bool routine_rules(const ah_ruleset *rs)
{
    for (size_t i = 0; i < ah_ruleset_count(rs); i++) {
        const ah_rule_meta *m = ah_rule_metadata(ah_ruleset_rule(rs, i));
        if (!m->skipped && (m->nroutine_pairs || m->routine_admin))
            return true;
    }
    return false;
}

static void summary_text(const hunt_run *h, const ah_session *s, const ah_writer_stats *ws, const ah_output_list *outs,
                         double secs)
{
    const ah_hunt_stats *hs = ah_hunt_get_stats(h->hunt);
    ah_totals t = ah_session_totals(s);
    char t1[40], t2[40];
    uint64_t done, total;
    ah_session_progress(s, &done, &total);
    fprintf(stderr, "\naudithound hunt summary\n");
    fprintf(stderr, "  inputs    %zu files, %zu streams, %.1f MB read\n", ah_session_file_count(s),
            ah_session_stream_count(s), done / 1e6);
    fprintf(stderr, "  records   %llu = %llu events + %llu duplicates + %llu errors\n", (unsigned long long)t.records,
            (unsigned long long)t.events, (unsigned long long)t.duplicates, (unsigned long long)t.errors);
    if (t.dedup_passes > 1)
        fprintf(stderr,
                "  dedup     inputs read twice: the duplicate set passed its --memory share (%llu sorted runs)\n",
                (unsigned long long)t.dedup_runs);
    if (hs->events_outside)
        fprintf(stderr, "  window    %llu events outside --from/--to\n", (unsigned long long)hs->events_outside);
    for (int k = AH_SOURCE_UAL; k < AH_SOURCE_COUNT; k++) {
        ah_coverage c = ah_session_coverage(s, (ah_source_kind)k);
        if (!c.events)
            continue;
        fprintf(stderr, "  %-11s %llu events, %s .. %s", ah_source_name((ah_source_kind)k),
                (unsigned long long)c.events, c.has_time ? ah_time_format(c.first, t1) : "-",
                c.has_time ? ah_time_format(c.last, t2) : "-");
        if (c.gaps_unknown)
            fprintf(stderr, "; gaps unknown (out of memory)");
        if (c.gaps)
            fprintf(stderr, "; %llu empty hours in %llu gaps", (unsigned long long)c.empty_hours,
                    (unsigned long long)c.gaps);
        fputc('\n', stderr);
    }
    fprintf(stderr, "  rules     %zu loaded, %zu active\n", ah_ruleset_count(h->rs), ah_ruleset_active_count(h->rs));
    for (size_t i = 0; i < ah_ruleset_count(h->rs); i++) {
        const ah_rule_meta *m = ah_rule_metadata(ah_ruleset_rule(h->rs, i));
        if (m->skipped)
            fprintf(stderr, "  skipped   %s: %s\n", m->id, m->skipped);
    }
    fprintf(stderr, "  hits      %llu", (unsigned long long)hs->hits);
    for (int l = AH_LEVEL_CRITICAL; l >= AH_LEVEL_INFO; l--)
        if (hs->by_level[l])
            fprintf(stderr, ", %s %llu", ah_level_name((ah_level)l), (unsigned long long)hs->by_level[l]);
    fputc('\n', stderr);
    size_t nr = ah_ruleset_count(h->rs);
    size_t *r = ah_report_rules_by_hits(hs->by_rule, nr);
    if (r) {
        for (size_t i = 0; i < nr && i < 10 && hs->by_rule[r[i]]; i++) {
            const ah_rule_meta *m = ah_rule_metadata(ah_ruleset_rule(h->rs, r[i]));
            fprintf(stderr, "  %8llu  %-8s %s\n", (unsigned long long)hs->by_rule[r[i]], ah_level_name(m->level),
                    m->id);
        }
        free(r);
    }
    fprintf(stderr, "  output    %llu rows in %llu file(s)", (unsigned long long)ws->rows,
            (unsigned long long)ws->files);
    if (hs->twins_joined)
        fprintf(stderr, ", %llu twin pair(s) joined", (unsigned long long)hs->twins_joined);
    if (ws->cells_truncated)
        fprintf(stderr, ", %llu cells truncated at the Excel limit", (unsigned long long)ws->cells_truncated);
    fputc('\n', stderr);
    for (size_t i = 0; i < outs->n; i++) {
        fprintf(stderr, "  sha256    %s  ", outs->v[i].sha256);
        ah_escape_fputs(outs->v[i].path, stderr);
        fprintf(stderr, " (%llu bytes)\n", (unsigned long long)outs->v[i].bytes);
    }
    if (h->c->ho.names) {
        ah_names_stats ns = ah_names_get_stats(h->c->ho.names);
        fprintf(stderr, "  names     %llu app / target value(s) shown by name; %zu ids known (%zu from reference lists",
                (unsigned long long)hs->names_resolved, ns.ids, ns.reference_ids);
        if (ns.directory_ids)
            fprintf(stderr, ", %zu from --directory", ns.directory_ids);
        fputs(")\n", stderr);
        ah_names_renames(h->c->ho.names, print_rename, NULL, NULL);
        if (ns.dropped_ids || ns.dropped_names)
            ah_cli_warnf("names: %llu id(s) and %llu name(s) not kept: the names budget is full",
                         (unsigned long long)ns.dropped_ids, (unsigned long long)ns.dropped_names);
    }
    if (hs->routine_baseline) {
        char b1[40], b2[40];
        fprintf(stderr, "  routine   %llu hit(s) listed at info: their facts held during the baseline %s .. %s%s\n",
                (unsigned long long)hs->routine_hits, ah_time_format(hs->routine_from, b1),
                ah_time_format(hs->routine_to, b2),
                hs->routine_baseline == 1 ? " (--baseline)" : " (the first 7 days)");
    } else if (routine_rules(h->rs) && !h->c->ho.no_suppress) {
        fprintf(stderr, "  routine   no baseline: the data covers less than 14 days; give --baseline FROM..TO to let "
                        "rules' routine facts apply\n");
    }
    if (h->nparts)
        fprintf(stderr, "  partials  %zu merged\n", h->nparts);
    ah_report_input_warnings(s, stderr);
    if (secs > 0)
        fprintf(stderr, "  speed     %.1f s, %.1f MB/s, %.0f events/s\n", secs, done / 1e6 / secs,
                (double)t.events / secs);
}

static void iso_now(char *buf, size_t n)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    ah_time t = {tv.tv_sec, (int32_t)tv.tv_usec * 1000};
    char tb[40];
    snprintf(buf, n, "%s", ah_time_format_digits(t, 3, tb));
}

static void file_sha256(const char *path, char out[65])
{
    out[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    ah_sha256 h;
    ah_sha256_init(&h);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        ah_sha256_update(&h, buf, n);
    if (!ferror(f))
        ah_sha256_hex(&h, out);
    fclose(f);
}

static ah_status write_summary(const hunt_run *h, const ah_session *s, const ah_writer_stats *ws,
                               const ah_output_list *outs, int argc, char **argv, const char *started, double secs,
                               int exit_status, ah_sink *sink)
{
    const ah_hunt_stats *hs = ah_hunt_get_stats(h->hunt);
    ah_buf b;
    ah_buf_init(&b, 0);
    char finished[40];
    iso_now(finished, sizeof finished);
    ah_buf_printf(&b, "{\"audithound_version\":\"%s\",\"command_line\":[", AH_VERSION);
    ah_buf_puts(&b, "\"audithound\"");
    for (int i = 0; i < argc; i++) {
        ah_buf_putc(&b, ',');
        ah_report_json_str(&b, argv[i]);
    }
    ah_buf_printf(&b, "],\"started\":\"%s\",\"finished\":\"%s\",\"elapsed_seconds\":%.3f,\"exit_status\":%d,", started,
                  finished, secs, exit_status);
    ah_custody_json(&b, h->rs, &h->c->so, &h->c->ho);
    ah_buf_putc(&b, ',');
    ah_report_inputs_json(s, &b);
    ah_buf_puts(&b, ",\"rules\":{\"files\":[");
    /* every distinct rule file, with its digest */
    size_t nr = ah_ruleset_count(h->rs), nfiles = 0;
    for (size_t i = 0; i < nr; i++) {
        const char *f = ah_rule_metadata(ah_ruleset_rule(h->rs, i))->file;
        /* A file's rules are loaded together: compare with the previous rule
         * first, so 100,000 rules cost one comparison each, not a scan. */
        bool seen = i > 0 && strcmp(ah_rule_metadata(ah_ruleset_rule(h->rs, i - 1))->file, f) == 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(ah_rule_metadata(ah_ruleset_rule(h->rs, j))->file, f) == 0;
        if (seen)
            continue;
        char sha[65];
        file_sha256(f, sha);
        ah_buf_puts(&b, nfiles++ ? ",{\"path\":" : "{\"path\":");
        ah_report_json_str(&b, f);
        ah_buf_puts(&b, ",\"sha256\":");
        ah_report_json_str(&b, sha[0] ? sha : NULL);
        ah_buf_putc(&b, '}');
    }
    ah_buf_printf(&b, "],\"loaded\":%zu,\"active\":%zu,\"skipped\":[", nr, ah_ruleset_active_count(h->rs));
    bool first = true;
    for (size_t i = 0; i < nr; i++) {
        const ah_rule_meta *m = ah_rule_metadata(ah_ruleset_rule(h->rs, i));
        if (!m->skipped)
            continue;
        ah_buf_puts(&b, first ? "{\"id\":" : ",{\"id\":");
        first = false;
        ah_report_json_str(&b, m->id);
        ah_buf_puts(&b, ",\"reason\":");
        ah_report_json_str(&b, m->skipped);
        ah_buf_putc(&b, '}');
    }
    ah_buf_printf(&b, "]},\"hits\":{\"total\":%llu,\"by_severity\":{", (unsigned long long)hs->hits);
    for (int l = AH_LEVEL_CRITICAL; l >= AH_LEVEL_INFO; l--)
        ah_buf_printf(&b, "\"%s\":%llu%s", ah_level_name((ah_level)l), (unsigned long long)hs->by_level[l],
                      l > AH_LEVEL_INFO ? "," : "");
    ah_buf_puts(&b, "},\"by_rule\":[");
    first = true;
    for (size_t i = 0; i < nr; i++) {
        if (!hs->by_rule[i])
            continue;
        const ah_rule_meta *m = ah_rule_metadata(ah_ruleset_rule(h->rs, i));
        ah_buf_puts(&b, first ? "{\"id\":" : ",{\"id\":");
        first = false;
        ah_report_json_str(&b, m->id);
        ah_buf_puts(&b, ",\"title\":");
        ah_report_json_str(&b, m->title);
        ah_buf_printf(&b, ",\"severity\":\"%s\",\"count\":%llu}", ah_level_name(m->level),
                      (unsigned long long)hs->by_rule[i]);
    }
    ah_buf_printf(&b, "]},\"timeline\":{\"path\":");
    ah_report_json_str(&b, h->c->wo.path);
    ah_buf_printf(
        &b,
        ",\"format\":\"%s\",\"mode\":\"%s\",\"rows\":%llu,\"files\":%llu,\"cells_truncated\":%llu,"
        "\"events_outside_window\":%llu,\"twins_joined\":%llu,\"twins_ambiguous\":%llu,\"routine_hits\":%llu},",
        h->c->story ? "story" : ah_out_format_name(h->c->wo.format),
        h->c->ho.all        ? "all"
        : h->c->ho.per_rule ? "per-rule"
                            : "hits",
        (unsigned long long)ws->rows, (unsigned long long)ws->files, (unsigned long long)ws->cells_truncated,
        (unsigned long long)hs->events_outside, (unsigned long long)hs->twins_joined,
        (unsigned long long)hs->twins_ambiguous, (unsigned long long)hs->routine_hits);
    if (h->nparts) { /* merge: which partials, from where */
        ah_buf_puts(&b, "\"partials\":[");
        for (size_t i = 0; i < h->nparts; i++) {
            ah_buf_puts(&b, i ? ",{\"path\":" : "{\"path\":");
            ah_report_json_str(&b, ah_partial_dir(h->parts[i]));
            ah_buf_puts(&b, ",\"hash\":");
            ah_report_json_str(&b, ah_partial_hash(h->parts[i]));
            ah_buf_puts(&b, ",\"host\":");
            ah_report_json_str(&b, ah_partial_value(h->parts[i], "host"));
            ah_buf_puts(&b, ",\"version\":");
            ah_report_json_str(&b, ah_partial_value(h->parts[i], "version"));
            ah_buf_puts(&b, ",\"revision\":");
            ah_report_json_str(&b, ah_partial_value(h->parts[i], "revision"));
            ah_buf_putc(&b, '}');
        }
        ah_buf_puts(&b, "],");
    }
    /* Every file written, shaped like the input "files": the case record
     * can prove which timeline this summary describes. */
    ah_buf_puts(&b, "\"outputs\":[");
    for (size_t i = 0; i < outs->n; i++) {
        ah_buf_puts(&b, i ? ",{\"path\":" : "{\"path\":");
        ah_report_json_str(&b, outs->v[i].path);
        ah_buf_printf(&b, ",\"size\":%llu,\"sha256\":\"%s\"}", (unsigned long long)outs->v[i].bytes, outs->v[i].sha256);
    }
    ah_buf_puts(&b, "]}\n");
    ah_status st = ah_buf_status(&b); /* appends above unchecked: never a summary cut short */
    if (st == AH_OK)
        st = ah_sink_write(sink, b.data, b.len);
    if (st == AH_OK)
        st = ah_sink_commit(sink);
    ah_buf_free(&b);
    return st;
}

/* The HTML report's case header: the run's account once the inputs are read. */
static ah_status html_begin(const hunt_run *h, const ah_session *s, ah_html *html, int argc, char **argv,
                            const char *started)
{
    const ah_hunt_stats *hs = ah_hunt_get_stats(h->hunt);
    ah_totals t = ah_session_totals(s);
    size_t nfiles = ah_session_file_count(s);
    ah_html_input *inputs = calloc(nfiles ? nfiles : 1, sizeof *inputs);
    ah_html_coverage cov[AH_SOURCE_COUNT];
    size_t ncov = 0;
    char version[160], *warnings = NULL;
    size_t wlen = 0;
    ah_buf cmd;
    ah_buf_init(&cmd, 0);
    FILE *wf = open_memstream(&warnings, &wlen);
    if (!inputs || !wf) {
        if (wf)
            fclose(wf);
        free(warnings);
        free(inputs);
        return AH_ERR_NOMEM;
    }
    for (size_t i = 0; i < nfiles; i++) {
        ah_file_report f = ah_session_file(s, i);
        inputs[i] = (ah_html_input){f.path, f.size, f.sha256, f.unreadable};
    }
    for (int k = AH_SOURCE_UAL; k < AH_SOURCE_COUNT; k++) {
        ah_coverage v = ah_session_coverage(s, (ah_source_kind)k);
        if (v.events)
            cov[ncov++] = (ah_html_coverage){ah_source_name((ah_source_kind)k),
                                             v.events,
                                             v.has_time,
                                             v.first,
                                             v.last,
                                             v.empty_hours,
                                             v.gaps,
                                             v.longest_gap_hours,
                                             v.longest_gap_start};
    }
    for (size_t i = 0; i < ah_ruleset_count(h->rs); i++) {
        const ah_rule_meta *m = ah_rule_metadata(ah_ruleset_rule(h->rs, i));
        if (m->skipped)
            fprintf(wf, "rule not run: %s: %s\n", m->id, m->skipped);
    }
    ah_report_input_warnings(s, wf);
    fclose(wf);
    snprintf(version, sizeof version, "audithound %s (%s)", AH_VERSION, ah_cli_build_revision());
    ah_buf_puts(&cmd, "audithound");
    for (int i = 0; i < argc; i++) {
        bool plain = *argv[i] != '\0';
        for (const char *p = argv[i]; *p && plain; p++)
            plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,@+", *p) != NULL;
        ah_buf_puts(&cmd, plain ? " " : " '");
        for (const char *p = argv[i]; *p; p++)
            ah_buf_puts(&cmd, *p == '\'' ? "'\\''" : (char[2]){*p, 0});
        if (!plain)
            ah_buf_putc(&cmd, '\'');
    }
    ah_html_case hc = {
        .version = version,
        .started = started,
        .command_line = ah_buf_cstr(&cmd),
        .inputs = inputs,
        .ninputs = nfiles,
        .coverage = cov,
        .ncoverage = ncov,
        .warnings = warnings,
        .records = t.records,
        .events = t.events,
        .duplicates = t.duplicates,
        .errors = t.errors,
        .hits = hs->hits,
        .rules_loaded = ah_ruleset_count(h->rs),
        .rules_active = ah_ruleset_active_count(h->rs),
    };
    memcpy(hc.hits_by_level, hs->by_level, sizeof hc.hits_by_level);
    ah_status st = ah_buf_status(&cmd);
    if (st == AH_OK)
        st = ah_html_begin(html, &hc);
    ah_buf_free(&cmd);
    free(warnings);
    free(inputs);
    return st;
}

/* Colour for the story view: --color, else a terminal without NO_COLOR (no-color.org) and not TERM=dumb. */
static bool story_color(const hunt_ctx *c)
{
    if (c->color)
        return c->color == 1;
    const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
    if ((nc && *nc) || (term && strcmp(term, "dumb") == 0))
        return false;
    return strcmp(c->wo.path, "-") == 0 && isatty(1);
}

/* What decides which rule hits come out, as one hash: every rule's id in
 * index order (rows carry rule indices), the SHA-256 of every rule and
 * list file, the variables. Paths are left out: shards on other hosts
 * install the rules elsewhere. */
static void ruleset_hash(const ah_ruleset *rs, char out[65])
{
    ah_sha256 h;
    ah_sha256_init(&h);
    size_t nr = ah_ruleset_count(rs);
    const char *last_file = NULL;
    for (size_t i = 0; i < nr; i++) {
        const ah_rule_meta *m = ah_rule_metadata(ah_ruleset_rule(rs, i));
        ah_sha256_update(&h, m->id, strlen(m->id) + 1);
        if (!last_file || strcmp(last_file, m->file) != 0) {
            char sha[65];
            file_sha256(m->file, sha);
            ah_sha256_update(&h, sha, strlen(sha) + 1);
            last_file = m->file;
        }
    }
    for (size_t i = 0; i < ah_ruleset_list_file_count(rs); i++) {
        const char *sha = ah_ruleset_list_file_at(rs, i)->sha256;
        ah_sha256_update(&h, sha ? sha : "", sha ? strlen(sha) + 1 : 1);
    }
    ah_var_info v;
    for (size_t i = 0; ah_ruleset_var_at(rs, i, &v); i++) {
        ah_sha256_update(&h, v.name, strlen(v.name) + 1);
        ah_sha256_update(&h, v.value ? v.value : "", v.value ? strlen(v.value) + 1 : 1);
    }
    ah_sha256_hex(&h, out);
}

/* A MANIFEST value of p, or "(none)". */
static const char *part_value(const ah_partial *p, const char *key)
{
    const char *v = ah_partial_value(p, key);
    return v ? v : "(none)";
}

/* Partials merge only when made alike: the same binary, and the same
 * options that change results (the rule set's hash is checked once the
 * rules are loaded). Returns 0 or the usage exit status. */
static int check_partials(ah_partial **parts, size_t n)
{
    static const char *const same[] = {"version", "revision"};
    for (size_t i = 0; i < n; i++) {
        const ah_partial *a = parts[0], *b = parts[i];
        for (size_t k = 0; k < AH_ARRAY_LEN(same); k++) {
            const char *want = k == 0 ? AH_VERSION : ah_cli_build_revision();
            if (strcmp(part_value(b, same[k]), want) != 0) {
                ah_cli_errorf("partial %s was made by audithound %s %s, this is %s: merge with the binary that made "
                              "the partials",
                              ah_partial_dir(b), same[k], part_value(b, same[k]), want);
                return AH_EXIT_USAGE;
            }
        }
        size_t na = ah_partial_option_count(a), nb = ah_partial_option_count(b);
        for (size_t j = 0; j < na || j < nb; j++) {
            const char *x = j < na ? ah_partial_option(a, j) : "(none)",
                       *y = j < nb ? ah_partial_option(b, j) : "(none)";
            if (strcmp(x, y) != 0) {
                ah_cli_errorf("partials %s and %s were made with different options: %s in %s, %s in %s; "
                              "options that change results must be the same in every shard",
                              ah_partial_dir(a), ah_partial_dir(b), x, ah_partial_dir(a), y, ah_partial_dir(b));
                return AH_EXIT_USAGE;
            }
        }
    }
    return 0;
}

/* The shards' options, applied as if given here. */
static int apply_recorded(hunt_ctx *c, const ah_partial *p)
{
    for (size_t i = 0; i < ah_partial_option_count(p); i++) {
        const char *o = ah_partial_option(p, i);
        const char *eq = strchr(o, '=');
        size_t len = eq ? (size_t)(eq - o) : strlen(o);
        const ah_cli_opt *opt = NULL;
        for (const ah_cli_opt *t = hunt_opts; t->long_name && !opt; t++)
            if (len == strlen(t->long_name) + 2 && strncmp(o + 2, t->long_name, len - 2) == 0 && recorded_option(t->id))
                opt = t;
        if (!opt || (opt->arg != NULL) != (eq != NULL)) {
            ah_cli_errorf("partial %s records an option this binary does not know: %s", ah_partial_dir(p), o);
            return AH_EXIT_USAGE;
        }
        int r = hunt_opt(c, opt->id, eq ? eq + 1 : NULL);
        if (r)
            return r;
    }
    return 0;
}

static void count_html_event(void *ud, ah_source_kind source, bool has_time, ah_time t)
{
    ah_html_count_event(ud, source, has_time, t);
}

static int run_hunt_mode(int argc, char **argv, bool merge);
static int run_hunt(int argc, char **argv) { return run_hunt_mode(argc, argv, false); }
static int run_merge(int argc, char **argv) { return run_hunt_mode(argc, argv, true); }

static int run_hunt_mode(int argc, char **argv, bool merge)
{
    hunt_ctx c = {0};
    ah_session_options_init(&c.so);
    ah_writer_options_init(&c.wo);
    c.wo.path = "-";
    c.ho.min_level = AH_LEVEL_INFO;
    c.ho.threads = ah_cli_default_threads();
    int status = 0;
    ah_buf_init(&c.recorded, 0);
    int first = ah_cli_parse(merge ? &cmd_merge : &cmd_hunt, argc, argv, hunt_opt_noted, &c, &status);
    c.ho.memory = ah_cli_memory_split(&c.so, 4); /* the duplicate set has a quarter */
    c.ho.tmpdir = c.so.tmpdir;
    hunt_run h = {.c = &c, NULL, NULL, NULL, 0};
    ah_partial_writer *pw = NULL;
    ah_session *s = NULL;
    ah_writer *w = NULL;
    ah_story *story = NULL;
    ah_html *html = NULL;
    ah_sink *summary = NULL;
    ah_diag out_diag = {.fn = ah_cli_diag_fn, .ud = &c.diag, .temp_fn = ah_cli_temp_hook};
    ah_cli_diag rule_printer = {.bare = true};
    ah_diag rule_diag = {.fn = ah_cli_diag_fn, .ud = &rule_printer};
    ah_writer_stats ws = {0};
    ah_output_list outputs = {0};
    char started[40];
    iso_now(started, sizeof started);
    double t0 = now_seconds();
    if (first < 0)
        goto out;
    status = AH_EXIT_USAGE;
    if (first >= argc) {
        ah_cli_usage_error(merge ? &cmd_merge : &cmd_hunt, merge ? "no partial given" : "no input given");
        goto out;
    }
    if (c.partial_dir && (c.output_given || c.format_given || c.html_path || c.summary_path || c.wo.profile)) {
        ah_cli_usage_error(&cmd_hunt, "--partial writes no timeline: give -o, -f, --profile, --html and --summary "
                                      "to merge");
        goto out;
    }
    if (merge) {
        ah_diag part_diag = {.fn = ah_cli_diag_fn, .ud = &c.diag};
        if (!(h.parts = calloc((size_t)(argc - first), sizeof *h.parts))) {
            status = AH_EXIT_NOMEM;
            goto out;
        }
        for (int i = first; i < argc; i++) {
            ah_status pst;
            if (!(h.parts[h.nparts] = ah_partial_open(argv[i], &part_diag, &pst))) {
                status = pst == AH_ERR_NOMEM ? AH_EXIT_NOMEM : AH_EXIT_USAGE;
                goto out;
            }
            h.nparts++;
        }
        if ((status = check_partials(h.parts, h.nparts)) != 0 || (status = apply_recorded(&c, h.parts[0])) != 0)
            goto out;
        status = AH_EXIT_USAGE;
    }
    if (c.story && c.wo.profile != AH_PROFILE_NONE) {
        ah_cli_usage_error(&cmd_hunt, "--profile %s: applies to timelines, not to the story view",
                           ah_out_profile_name(c.wo.profile));
        goto out;
    }
    if (c.wo.profile == AH_PROFILE_ECS && !c.format_given)
        c.wo.format = AH_OUT_JSONL; /* the one format Elastic's bulk import takes */
    if (!ah_out_profile_allows(c.wo.profile, c.wo.format)) {
        ah_cli_usage_error(&cmd_hunt, "--profile %s: cannot be written as %s (%s)", ah_out_profile_name(c.wo.profile),
                           ah_out_format_name(c.wo.format),
                           c.wo.profile == AH_PROFILE_ECS ? "use -f jsonl" : "use -f csv or -f jsonl");
        goto out;
    }
    if (c.ho.has_from && c.ho.has_to && ah_time_cmp(c.ho.from, c.ho.to) > 0) {
        ah_cli_usage_error(&cmd_hunt, "--from is later than --to");
        goto out;
    }
    if (c.summary_path && strcmp(c.summary_path, c.wo.path) == 0) {
        ah_cli_usage_error(&cmd_hunt, "--summary and --output name the same file");
        goto out;
    }
    if (c.html_path &&
        (strcmp(c.html_path, c.wo.path) == 0 || (c.summary_path && strcmp(c.html_path, c.summary_path) == 0))) {
        ah_cli_usage_error(&cmd_hunt, "--html names the same file as --output or --summary");
        goto out;
    }
    /* A person at a terminal gets the story; pipes and files keep the timeline format. */
    if (!c.format_given && !c.output_given && c.wo.profile == AH_PROFILE_NONE && isatty(1))
        c.story = true;

    rule_printer.quiet = true; /* rule warnings are lint's business; errors still print */
    h.rs = ah_cli_load_rules(&c.rules, &rule_diag, &status);
    if (!h.rs)
        goto out;
    char rules_hash[65];
    ruleset_hash(h.rs, rules_hash);
    for (size_t i = 0; i < h.nparts; i++)
        if (strcmp(part_value(h.parts[i], "ruleset"), rules_hash) != 0) {
            ah_cli_errorf("partial %s was made with another rule set (rule, list or variable files differ: hash %s, "
                          "here %s)",
                          ah_partial_dir(h.parts[i]), part_value(h.parts[i], "ruleset"), rules_hash);
            status = AH_EXIT_USAGE;
            goto out;
        }
    /* A misspelt --tags selects nothing and would look like a clean tenant. */
    for (const char *p = c.ho.tags; p && *p && !c.diag.quiet;) {
        const char *comma = strchr(p, ',');
        ah_span tag = ah_span_trim(ah_span_make(p, comma ? (size_t)(comma - p) : strlen(p)));
        if (tag.n && !ah_ruleset_has_tag(h.rs, tag))
            ah_cli_warnf("--tags: no loaded rule carries tag \"%.*s\"", (int)tag.n, tag.p);
        p = comma ? comma + 1 : "";
    }
    status = AH_EXIT_USAGE;
    ah_status st;
    c.wo.outputs = &outputs;
    c.wo.tmpdir = c.ho.tmpdir;
    if (c.partial_dir) {
        c.story = false;
        if (!(pw = ah_partial_create(c.partial_dir, &out_diag, &st))) {
            status = st == AH_ERR_USAGE ? AH_EXIT_USAGE : ah_cli_output_status(st);
            goto out;
        }
    } else if (c.story) {
        ah_story_options so = {c.wo.path, c.wo.force, story_color(&c), &outputs};
        story = ah_story_open(&so, &out_diag, &st);
    } else {
        w = ah_writer_open(&c.wo, &out_diag, &st);
    }
    if (!w && !story && !pw) {
        status = ah_cli_output_status(st);
        goto out;
    }
    if (c.html_path) {
        ah_html_options hto = {
            .path = c.html_path, .force = c.wo.force, .timeline_path = c.story ? NULL : c.wo.path, .outputs = &outputs};
        if (!(html = ah_html_open(&hto, &out_diag, &st))) {
            status = ah_cli_output_status(st);
            goto out;
        }
    }
    /* The summary file too is refused (or found unwritable) before the run. */
    if (c.summary_path && !(summary = ah_sink_open(c.summary_path, c.wo.force, &out_diag, &st))) {
        status = ah_cli_output_status(st);
        goto out;
    }
    c.ho.admin_accounts = ah_ruleset_var(h.rs, "admin_accounts");
    if (!(c.ho.names = open_names(&c, &out_diag, &status)))
        goto out;
    /* memory: one copy less when nothing writes the record */
    c.ho.rows_without_raw = (c.story || c.wo.format == AH_OUT_CSV || !c.wo.include_raw) && !html && !pw;
    c.ho.partial = pw != NULL; /* the merge's format is not known yet: rows keep raw */
    h.hunt = ah_hunt_new(h.rs, &c.ho, &out_diag);
    if (!h.hunt) {
        ah_cli_errorf("out of memory");
        status = AH_EXIT_NOMEM;
        goto out;
    }
    read_progress rp = {t0, t0, 0};
    if (!c.diag.quiet && isatty(2)) {
        c.so.progress_fn = on_read_progress;
        c.so.progress_ud = &rp;
    }
    if (pw) {
        c.so.identity_fn = ah_partial_identity;
        c.so.identity_ud = pw;
    }
    if (merge) {
        ah_diag merge_diag = {.fn = ah_cli_diag_fn, .ud = &c.diag, .temp_fn = ah_cli_temp_hook}; /* its key spill */
        if (!(s = ah_session_new_account(&c.so))) {
            status = AH_EXIT_NOMEM;
            goto out;
        }
        if ((st = ah_partial_merge(h.parts, h.nparts, c.so.keep_duplicates, c.so.dedup_memory, c.so.tmpdir, s, h.hunt,
                                   c.ho.names, count_html_event, html, &merge_diag)) != AH_OK) {
            ah_cli_errorf("merge refused or failed: %s; the timeline was not written", ah_status_str(st));
            status = st == AH_ERR_NOMEM ? AH_EXIT_NOMEM : st == AH_ERR_IO ? AH_EXIT_PARTIAL : AH_EXIT_USAGE;
            goto out;
        }
    } else {
        s = ah_cli_open_session(&c.so, &c.diag, argc, argv, first);
    }
    if (!s) {
        status = AH_EXIT_NOMEM;
        goto out;
    }
    if (ah_session_totals(s).missing_inputs) { /* a wrong path: no timeline that looks like a clean one */
        ah_cli_errorf("an input path could not be read; nothing was read and no timeline was written");
        status = AH_EXIT_PARTIAL;
        goto out;
    }

    bool progress = !c.diag.quiet && isatty(2);
    const ah_event *ev;
    uint64_t nevents = 0;
    status = AH_EXIT_PARTIAL;
    while (!merge && (st = ah_session_next(s, &ev)) == AH_OK) {
        if ((st = ah_hunt_add(h.hunt, ev)) != AH_OK)
            break;
        ah_html_count_event(html, ev->source, ev->has_time, ev->time);
        rp.events = ++nevents;
        if (progress && (nevents & 1023) == 0 && now_seconds() - rp.last > 0.5) {
            rp.last = now_seconds();
            show_progress(s, &rp, false);
        }
    }
    if (progress)
        show_progress(s, &rp, true);
    if (!merge && st != AH_END) {
        ah_cli_errorf("%s; the timeline was not written", ah_status_str(st));
        status = ah_cli_fail_status(st, status);
        goto out;
    }
    if ((st = ah_hunt_finish(h.hunt)) != AH_OK) {
        ah_cli_errorf("sorting failed: %s; the timeline was not written", ah_status_str(st));
        status = ah_cli_fail_status(st, status);
        goto out;
    }
    if (pw) {
        char host[256] = "";
        gethostname(host, sizeof host - 1);
        for (char *p = host; *p; p++) /* one MANIFEST line */
            if (*p == '\n' || *p == '\r')
                *p = ' ';
        char l_version[96], l_revision[160], l_host[300], l_created[64], l_rules[80];
        snprintf(l_version, sizeof l_version, "version %s", AH_VERSION);
        snprintf(l_revision, sizeof l_revision, "revision %s", ah_cli_build_revision());
        snprintf(l_host, sizeof l_host, "host %s", host[0] ? host : "unknown");
        snprintf(l_created, sizeof l_created, "created %s", started);
        snprintf(l_rules, sizeof l_rules, "ruleset %s", rules_hash);
        const char *header[6] = {l_version, l_revision, l_host, l_created, l_rules, ah_buf_cstr(&c.recorded)};
        size_t nheader = c.recorded.len ? 6 : 5;
        if (c.recorded.len && c.recorded.data[c.recorded.len - 1] == '\n')
            c.recorded.data[--c.recorded.len] = '\0'; /* the writer ends each header with its own newline */
        if ((st = ah_partial_finish(pw, s, h.hunt, c.ho.names, header, nheader)) != AH_OK) {
            ah_cli_errorf("writing the partial %s failed: %s", c.partial_dir, ah_status_str(st));
            status = ah_cli_fail_status(st, AH_EXIT_OUTPUT);
            goto out;
        }
        ah_cli_diag_finish(&c.diag);
        status = ah_cli_read_status(s, ah_hunt_get_stats(h.hunt)->hits ? AH_EXIT_HITS : AH_EXIT_NO_HITS);
        if (!c.diag.quiet) {
            ah_totals t = ah_session_totals(s);
            fprintf(stderr, "audithound hunt --partial: %s: %zu streams, %llu records, %llu events, %llu rows\n",
                    c.partial_dir, ah_session_stream_count(s), (unsigned long long)t.records,
                    (unsigned long long)t.events, (unsigned long long)ah_hunt_get_stats(h.hunt)->rows);
        }
        goto out;
    }
    if (html && (st = html_begin(&h, s, html, argc, argv, started)) != AH_OK) {
        ah_cli_errorf("writing the report failed: %s", ah_status_str(st));
        status = ah_cli_fail_status(st, AH_EXIT_OUTPUT);
        goto out;
    }
    ah_row row;
    while ((st = ah_hunt_next(h.hunt, &row)) == AH_OK) {
        st = story ? ah_story_write(story, &row) : ah_writer_write(w, &row);
        if (st != AH_OK && st != AH_ERR_RECORD)
            break;
        if (html && (st = ah_html_write(html, &row)) != AH_OK && st != AH_ERR_RECORD)
            break;
    }
    if (st == AH_END && ah_writer_has_sheets(w))
        st = ah_hunt_write_sheets(w, s, h.rs, ah_hunt_get_stats(h.hunt), argc, argv, started);
    if (st != AH_END && st != AH_OK) {
        ah_cli_errorf("writing the timeline failed: %s", ah_status_str(st));
        status = ah_cli_fail_status(st, AH_EXIT_OUTPUT);
        goto out;
    }
    st = story ? ah_story_close(story, &ws) : ah_writer_close(w, &ws);
    w = NULL;
    story = NULL;
    if (st == AH_OK && html) {
        st = ah_html_close(html, NULL);
        html = NULL;
    }
    if (st != AH_OK) {
        ah_cli_errorf("writing the timeline failed: %s", ah_status_str(st));
        status = ah_cli_fail_status(st, AH_EXIT_OUTPUT);
        goto out;
    }
    ah_cli_diag_finish(&c.diag);
    status = ah_cli_read_status(s, ah_hunt_get_stats(h.hunt)->hits ? AH_EXIT_HITS : AH_EXIT_NO_HITS);
    double secs = now_seconds() - t0;
    if (!c.diag.quiet)
        summary_text(&h, s, &ws, &outputs, secs);
    if (summary && (st = write_summary(&h, s, &ws, &outputs, argc, argv, started, secs, status, summary)) != AH_OK) {
        ah_cli_errorf("could not write the summary to %s: %s", c.summary_path, ah_status_str(st));
        status = ah_cli_fail_status(st, AH_EXIT_OUTPUT);
    }
out:
    ah_partial_writer_free(pw);
    for (size_t i = 0; i < h.nparts; i++)
        ah_partial_free(h.parts[i]);
    free(h.parts);
    ah_buf_free(&c.recorded);
    ah_output_list_free(&outputs);
    ah_sink_free(summary);
    ah_writer_abort(w);
    ah_story_abort(story);
    ah_html_abort(html);
    ah_session_free(s);
    ah_hunt_free(h.hunt);
    ah_names_free(c.ho.names);
    free(c.directories);
    ah_ruleset_free(h.rs);
    ah_cli_rules_free(&c.rules);
    return status;
}
