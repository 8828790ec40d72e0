/*
 * cmd_hunt.c: `audithound hunt` reads the exports, applies the rules and
 * writes the timeline an analyst opens first.
 *
 * Flow: compile rules -> open the output (so a refusal to overwrite comes
 * before hours of reading) -> stream events through the matcher -> rows into
 * the external sorter (bounded by --memory, spilling to disk) -> sorted rows
 * streamed to the writer -> commit the file -> summary on stderr and, with
 * --summary, as JSON for the case file.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "../../parsers/formats/timeparse.h"
#include "../../parsers/frame/jscan.h"
#include "../../parsers/util/sha256.h"
#include "../order/sorter.h"
#include "../output/sink.h"
#include "../output/timeline.h"
#include "cli.h"
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
    OPT_MEMORY,
    OPT_TMPDIR,
    OPT_FORCE,
    OPT_DELIMITER,
    OPT_BOM,
    OPT_NO_EXCEL_SAFE,
    OPT_EXCEL_DATES,
    OPT_TZ,
    OPT_SPLIT_ROWS,
    OPT_NO_RAW,
};

static const ah_cli_opt hunt_opts[] = {
    AH_CLI_RULE_OPTS,
    {OPT_OUTPUT, 'o', "output", "FILE|-", "write the timeline to FILE (default: standard output)"},
    {OPT_FORMAT, 'f', "format", "csv|jsonl|json", "timeline format (default csv)"},
    {OPT_ALL, 'a', "all", NULL, "super-timeline: every event, rule columns filled where rules hit"},
    {OPT_FROM, 0, "from", "TIME", "only events at or after TIME (ISO 8601; Z or an offset; no zone = UTC)"},
    {OPT_TO, 0, "to", "TIME", "only events at or before TIME"},
    {OPT_MIN_SEVERITY, 0, "min-severity", "LEVEL", "only hits of rules at LEVEL or above (info, low, medium, high, critical)"},
    {OPT_TAGS, 0, "tags", "TAG,...", "only hits of rules with one of these tags (e.g. solarwinds,T1098.001)"},
    {OPT_SUMMARY, 0, "summary", "FILE", "also write the run summary as JSON (inputs with SHA-256, rules, counts)"},
    {OPT_MEMORY, 0, "memory", "SIZE", "memory for sorting before spilling to disk (default 256M)"},
    {OPT_TMPDIR, 0, "tmpdir", "DIR", "where sort runs are spilled (default $TMPDIR or /tmp)"},
    {OPT_FORCE, 0, "force", NULL, "overwrite existing output and summary files"},
    {OPT_DELIMITER, 0, "delimiter", "CHAR", "CSV delimiter (default ','; 'tab' for TAB)"},
    {OPT_BOM, 0, "bom", NULL, "start CSV output with a UTF-8 byte order mark (for Excel)"},
    {OPT_NO_EXCEL_SAFE, 0, "no-excel-safe", NULL, "do not neutralise cells starting with = + - @ TAB CR"},
    {OPT_EXCEL_DATES, 0, "excel-dates", NULL, "add a time_excel column (YYYY-MM-DD HH:MM:SS, UTC)"},
    {OPT_TZ, 0, "tz", "ZONE", "add a time_local column in the IANA zone ZONE (time stays UTC)"},
    {OPT_SPLIT_ROWS, 0, "split-rows", "N", "CSV: start a new numbered file after N data rows (default 1048575)"},
    {OPT_NO_RAW, 0, "no-raw", NULL, "JSON formats: leave out the raw record"},
    AH_CLI_INPUT_OPTS,
    {0, 0, NULL, NULL, NULL},
};

typedef struct hunt_ctx {
    ah_session_options so;
    ah_cli_diag diag;
    ah_cli_rules rules;
    ah_writer_options wo;
    bool all;
    bool has_from, has_to;
    ah_time from, to;
    ah_level min_level;
    const char *tags;
    const char *summary_path;
    size_t memory;
    const char *tmpdir;
} hunt_ctx;

static int hunt_opt(void *ctx, int id, const char *arg)
{
    hunt_ctx *c = ctx;
    int r;
    if ((r = ah_cli_rules_opt(&c->rules, id, arg)) != 0 || (r = ah_cli_input_opt(&c->so, &c->diag, id, arg)) != 0)
        return r == 1 ? 0 : r;
    ah_time_parse tp;
    unsigned long long n;
    switch (id) {
    case OPT_OUTPUT: c->wo.path = arg; break;
    case OPT_FORMAT:
        if (ah_out_format_from_name(ah_span_cstr(arg), &c->wo.format) != AH_OK)
            return ah_cli_usage_error(NULL, "--format: expected csv, jsonl or json, not '%s'", arg);
        break;
    case OPT_ALL: c->all = true; break;
    case OPT_FROM:
    case OPT_TO:
        if (ah_time_parse_str(ah_span_cstr(arg), AH_DATE_ORDER_AUTO, &tp) != AH_OK)
            return ah_cli_usage_error(NULL, "--%s: not a time: '%s' (use ISO 8601, e.g. 2021-01-13T16:00:00Z)",
                                      id == OPT_FROM ? "from" : "to", arg);
        if (id == OPT_FROM) {
            c->from = tp.time;
            c->has_from = true;
        } else {
            c->to = tp.time;
            c->has_to = true;
        }
        break;
    case OPT_MIN_SEVERITY:
        if (!ah_level_from_name(ah_span_cstr(arg), &c->min_level))
            return ah_cli_usage_error(NULL, "--min-severity: expected info, low, medium, high or critical, not '%s'", arg);
        break;
    case OPT_TAGS: c->tags = arg; break;
    case OPT_SUMMARY: c->summary_path = arg; break;
    case OPT_MEMORY:
        if (ah_cli_parse_size(arg, &c->memory) != 0)
            return ah_cli_usage_error(NULL, "--memory: not a size: '%s'", arg);
        break;
    case OPT_TMPDIR: c->tmpdir = arg; break;
    case OPT_FORCE: c->wo.force = true; break;
    case OPT_DELIMITER:
        if (strcmp(arg, "tab") == 0 || strcmp(arg, "\\t") == 0)
            c->wo.delimiter = '\t';
        else if (strlen(arg) == 1)
            c->wo.delimiter = arg[0];
        else
            return ah_cli_usage_error(NULL, "--delimiter: expected one character or 'tab', not '%s'", arg);
        break;
    case OPT_BOM: c->wo.bom = true; break;
    case OPT_NO_EXCEL_SAFE: c->wo.excel_safe = false; break;
    case OPT_EXCEL_DATES: c->wo.excel_dates = true; break;
    case OPT_TZ: c->wo.tz = arg; break;
    case OPT_SPLIT_ROWS:
        if (ah_cli_parse_uint(arg, &n) != 0 || n == 0)
            return ah_cli_usage_error(NULL, "--split-rows: expected a positive number, not '%s'", arg);
        c->wo.split_rows = n;
        break;
    case OPT_NO_RAW: c->wo.include_raw = false; break;
    }
    return 0;
}

static int run_hunt(int argc, char **argv);

const ah_cli_cmd cmd_hunt = {
    "hunt",
    "[OPTIONS] INPUT...",
    "apply the rules to the inputs and write a time-sorted timeline of the hits",
    "Reads the inputs (files, directories, archives, '-' for standard input), applies the\n"
    "rules (the shipped packs unless -r is given) and writes a timeline sorted by time (ties\n"
    "in input order): one row per rule hit, or with --all one row per event with the rule\n"
    "columns filled where rules hit. Columns: time, severity, rule_id, rule_title, tags,\n"
    "source, operation, user, ip, app, user_agent, result, target, details, record_id,\n"
    "input, input_record; JSON formats add raw (docs/output.md). Times are UTC.\n\n"
    "Output files are written under a temporary name and renamed when complete; an existing\n"
    "file is not replaced without --force. CSV cells that a spreadsheet would run as a\n"
    "formula are neutralised with a leading ' unless --no-excel-safe.\n\n"
    "A summary (inputs, events, duplicates, errors, time covered per source, hits per\n"
    "severity, top rules, warnings, throughput) goes to standard error unless -q.\n"
    "Exit status: 0 hits found, 1 no hits, 2 usage or rule error, 3 some input unreadable.",
    hunt_opts,
    run_hunt,
};

/* --- building rows ---------------------------------------------------------- */

static bool tag_selected(const char *tags, const ah_rule_meta *m)
{
    if (!tags)
        return true;
    const char *p = tags;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        ah_span want = ah_span_trim(ah_span_make(p, len));
        for (size_t i = 0; i < m->tags.n; i++) {
            const char *t = m->tags.v[i];
            if (ah_span_eq_ci(want, t) || (strncmp(t, "attack.", 7) == 0 && ah_span_eq_ci(want, t + 7)))
                return true;
        }
        if (!comma)
            break;
        p = comma + 1;
    }
    return false;
}

/* "success", "failure (50126)": the code only when it adds something. */
static void render_result(const ah_event *ev, ah_buf *b)
{
    const char *name = ah_result_name(ev->result);
    ah_buf_puts(b, name);
    ah_span code = ah_span_trim(ev->field[AH_F_RESULT_CODE]);
    static const char *const plain[] = {"success", "succeeded", "true", "failed", "failure", "false", "0"};
    if (!code.n)
        return;
    for (size_t i = 0; i < AH_ARRAY_LEN(plain); i++)
        if (ah_span_eq_ci(code, plain[i]) && (ev->result != AH_RESULT_UNKNOWN || i > 5))
            return;
    ah_buf_puts(b, " (");
    ah_buf_append_span(b, code);
    ah_buf_putc(b, ')');
}

typedef struct row_builder {
    ah_buf text;  /* every derived string of the row, NUL separated */
    size_t off[AH_COL_COUNT];
    bool set[AH_COL_COUNT];
} row_builder;

static void rb_begin(row_builder *rb)
{
    ah_buf_reset(&rb->text);
    memset(rb->set, 0, sizeof rb->set);
}

static size_t rb_mark(row_builder *rb) { return rb->text.len; }

static void rb_close(row_builder *rb, ah_col_id c, size_t start)
{
    rb->off[c] = start;
    rb->set[c] = true;
    ah_buf_putc(&rb->text, '\0');
}

static void rb_put(row_builder *rb, ah_col_id c, const char *s)
{
    size_t m = rb_mark(rb);
    ah_buf_puts(&rb->text, s);
    rb_close(rb, c, m);
}

/* Spans are taken only once the text buffer stops growing. */
static void rb_finish(row_builder *rb, ah_row *row)
{
    for (int c = 0; c < AH_COL_COUNT; c++)
        if (rb->set[c])
            row->col[c] = ah_span_cstr(rb->text.data + rb->off[c]);
}

static void fill_event_columns(ah_row *row, const ah_event *ev, row_builder *rb, uint64_t seq)
{
    memset(row, 0, sizeof *row);
    row->has_time = ev->has_time;
    row->time = ev->time;
    row->seq = seq;
    row->input_record = ev->record_no;
    row->raw = ev->raw;
    row->col[AH_COL_SOURCE] = ah_span_cstr(ah_source_name(ev->source));
    row->col[AH_COL_OPERATION] = ev->field[AH_F_OPERATION];
    row->col[AH_COL_USER] = ev->field[AH_F_USER];
    row->col[AH_COL_IP] = ev->field[AH_F_IP];
    row->col[AH_COL_APP] = ev->field[AH_F_APP].n ? ev->field[AH_F_APP] : ev->field[AH_F_APP_ID];
    row->col[AH_COL_USER_AGENT] = ev->field[AH_F_USER_AGENT];
    row->col[AH_COL_TARGET] = ev->field[AH_F_TARGET];
    row->col[AH_COL_RECORD_ID] = ev->field[AH_F_RECORD_ID];
    size_t m = rb_mark(rb);
    render_result(ev, &rb->text);
    rb_close(rb, AH_COL_RESULT, m);
    m = rb_mark(rb);
    ah_buf_puts(&rb->text, ev->origin && ev->origin->path ? ev->origin->path : "-");
    if (ev->origin && ev->origin->entry) {
        ah_buf_putc(&rb->text, '!');
        ah_buf_puts(&rb->text, ev->origin->entry);
    }
    rb_close(rb, AH_COL_INPUT, m);
}

static void put_tags(ah_buf *b, const ah_rule_meta *m, bool *first)
{
    for (size_t i = 0; i < m->tags.n; i++) {
        if (!*first)
            ah_buf_putc(b, ',');
        *first = false;
        ah_buf_puts(b, m->tags.v[i]);
    }
}

/* --- the run -------------------------------------------------------------- */

typedef struct hunt_run {
    hunt_ctx *c;
    ah_ruleset *rs;
    ah_matcher *matcher;
    ah_sorter *sorter;
    uint64_t *rule_hits;     /* per rule index */
    uint64_t hits, hit_by_level[AH_LEVEL_CRITICAL + 1];
    uint64_t events, events_outside, rows;
    row_builder rb;
    const ah_rule **hitv;
    size_t hitcap;
} hunt_run;

static bool in_window(const hunt_ctx *c, const ah_event *ev)
{
    if (!c->has_from && !c->has_to)
        return true;
    if (!ev->has_time)
        return false;
    if (c->has_from && ah_time_cmp(ev->time, c->from) < 0)
        return false;
    if (c->has_to && ah_time_cmp(ev->time, c->to) > 0)
        return false;
    return true;
}

static ah_status add_row(hunt_run *h, ah_row *row)
{
    rb_finish(&h->rb, row);
    h->rows++;
    return ah_sorter_add(h->sorter, row);
}

static ah_status handle_event(hunt_run *h, const ah_event *ev)
{
    size_t n = ah_matcher_match(h->matcher, ev, h->hitv, h->hitcap);
    if (n > h->hitcap)
        n = h->hitcap;
    /* keep the hits the filters select */
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const ah_rule_meta *m = ah_rule_metadata(h->hitv[i]);
        if (m->level >= h->c->min_level && tag_selected(h->c->tags, m))
            h->hitv[k++] = h->hitv[i];
    }
    n = k;
    for (size_t i = 0; i < n; i++) {
        const ah_rule_meta *m = ah_rule_metadata(h->hitv[i]);
        h->rule_hits[m->index]++;
        h->hit_by_level[m->level]++;
        h->hits++;
    }
    ah_row row;
    if (h->c->all) {
        rb_begin(&h->rb);
        fill_event_columns(&row, ev, &h->rb, h->events);
        if (n) {
            ah_level top = AH_LEVEL_INFO;
            size_t m0 = rb_mark(&h->rb);
            for (size_t i = 0; i < n; i++) {
                const ah_rule_meta *m = ah_rule_metadata(h->hitv[i]);
                if (m->level > top)
                    top = m->level;
                if (i)
                    ah_buf_putc(&h->rb.text, ',');
                ah_buf_puts(&h->rb.text, m->id);
            }
            rb_close(&h->rb, AH_COL_RULE_ID, m0);
            m0 = rb_mark(&h->rb);
            for (size_t i = 0; i < n; i++) {
                if (i)
                    ah_buf_puts(&h->rb.text, "; ");
                ah_buf_puts(&h->rb.text, ah_rule_metadata(h->hitv[i])->title);
            }
            rb_close(&h->rb, AH_COL_RULE_TITLE, m0);
            m0 = rb_mark(&h->rb);
            bool first = true;
            for (size_t i = 0; i < n; i++)
                put_tags(&h->rb.text, ah_rule_metadata(h->hitv[i]), &first);
            rb_close(&h->rb, AH_COL_TAGS, m0);
            m0 = rb_mark(&h->rb);
            for (size_t i = 0; i < n; i++) {
                if (i)
                    ah_buf_puts(&h->rb.text, " | ");
                ah_rule_render_details(h->matcher, h->hitv[i], ev, &h->rb.text);
            }
            rb_close(&h->rb, AH_COL_DETAILS, m0);
            rb_put(&h->rb, AH_COL_SEVERITY, ah_level_name(top));
        }
        return add_row(h, &row);
    }
    for (size_t i = 0; i < n; i++) {
        const ah_rule_meta *m = ah_rule_metadata(h->hitv[i]);
        rb_begin(&h->rb);
        fill_event_columns(&row, ev, &h->rb, h->rows);
        rb_put(&h->rb, AH_COL_SEVERITY, ah_level_name(m->level));
        rb_put(&h->rb, AH_COL_RULE_ID, m->id);
        rb_put(&h->rb, AH_COL_RULE_TITLE, m->title);
        size_t m0 = rb_mark(&h->rb);
        bool first = true;
        put_tags(&h->rb.text, m, &first);
        rb_close(&h->rb, AH_COL_TAGS, m0);
        m0 = rb_mark(&h->rb);
        ah_rule_render_details(h->matcher, h->hitv[i], ev, &h->rb.text);
        rb_close(&h->rb, AH_COL_DETAILS, m0);
        ah_status st = add_row(h, &row);
        if (st != AH_OK)
            return st;
    }
    return AH_OK;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void show_progress(const ah_session *s, double t0, bool final)
{
    uint64_t done, total;
    ah_session_progress(s, &done, &total);
    double dt = now_seconds() - t0, rate = dt > 0 ? done / dt : 0;
    fprintf(stderr, "\r  read %.1f MB", done / 1e6);
    if (total) {
        double left = rate > 0 && total > done ? (double)(total - done) / rate : 0;
        fprintf(stderr, " of %.1f MB (%.0f%%), %.1f MB/s, ETA %d:%02d  ", total / 1e6, 100.0 * done / (double)total,
                rate / 1e6, (int)left / 60, (int)left % 60);
    } else {
        fprintf(stderr, ", %.1f MB/s  ", rate / 1e6);
    }
    if (final)
        fputc('\n', stderr);
}

/* --- summary -------------------------------------------------------------- */

typedef struct rank {
    size_t index;
    uint64_t hits;
} rank;

static int by_hits(const void *a, const void *b)
{
    const rank *x = a, *y = b;
    if (x->hits != y->hits)
        return x->hits < y->hits ? 1 : -1;
    return x->index < y->index ? -1 : x->index > y->index;
}

static void summary_text(const hunt_run *h, const ah_session *s, const ah_writer_stats *ws, double secs)
{
    ah_totals t = ah_session_totals(s);
    char t1[40], t2[40];
    uint64_t done, total;
    ah_session_progress(s, &done, &total);
    fprintf(stderr, "\naudithound hunt summary\n");
    fprintf(stderr, "  inputs    %zu files, %zu streams, %.1f MB read\n", ah_session_file_count(s),
            ah_session_stream_count(s), done / 1e6);
    fprintf(stderr, "  records   %llu = %llu events + %llu duplicates + %llu errors\n", (unsigned long long)t.records,
            (unsigned long long)t.events, (unsigned long long)t.duplicates, (unsigned long long)t.errors);
    if (h->events_outside)
        fprintf(stderr, "  window    %llu events outside --from/--to\n", (unsigned long long)h->events_outside);
    for (int k = AH_SOURCE_UAL; k < AH_SOURCE_COUNT; k++) {
        ah_coverage c = ah_session_coverage(s, (ah_source_kind)k);
        if (!c.events)
            continue;
        fprintf(stderr, "  %-11s %llu events, %s .. %s", ah_source_name((ah_source_kind)k), (unsigned long long)c.events,
                c.has_time ? ah_time_format(c.first, t1) : "-", c.has_time ? ah_time_format(c.last, t2) : "-");
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
    fprintf(stderr, "  hits      %llu", (unsigned long long)h->hits);
    for (int l = AH_LEVEL_CRITICAL; l >= AH_LEVEL_INFO; l--)
        if (h->hit_by_level[l])
            fprintf(stderr, ", %s %llu", ah_level_name((ah_level)l), (unsigned long long)h->hit_by_level[l]);
    fputc('\n', stderr);
    size_t nr = ah_ruleset_count(h->rs);
    rank *r = calloc(nr ? nr : 1, sizeof *r);
    if (r) {
        for (size_t i = 0; i < nr; i++)
            r[i] = (rank){i, h->rule_hits[i]};
        qsort(r, nr, sizeof *r, by_hits);
        for (size_t i = 0; i < nr && i < 10 && r[i].hits; i++) {
            const ah_rule_meta *m = ah_rule_metadata(ah_ruleset_rule(h->rs, r[i].index));
            fprintf(stderr, "  %8llu  %-8s %s\n", (unsigned long long)r[i].hits, ah_level_name(m->level), m->id);
        }
        free(r);
    }
    fprintf(stderr, "  output    %llu rows in %llu file(s)", (unsigned long long)ws->rows, (unsigned long long)ws->files);
    if (ws->cells_truncated)
        fprintf(stderr, ", %llu cells truncated at the Excel limit", (unsigned long long)ws->cells_truncated);
    fputc('\n', stderr);
    ah_report_input_warnings(s, stderr);
    if (secs > 0)
        fprintf(stderr, "  speed     %.1f s, %.1f MB/s, %.0f events/s\n", secs, done / 1e6 / secs, (double)t.events / secs);
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

static ah_status write_summary(const hunt_run *h, const ah_session *s, const ah_writer_stats *ws, int argc,
                               char **argv, const char *started, double secs, int exit_status, ah_diag *diag)
{
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
    ah_report_inputs_json(s, &b);
    ah_buf_puts(&b, ",\"rules\":{\"files\":[");
    /* every distinct rule file, with its digest */
    size_t nr = ah_ruleset_count(h->rs), nfiles = 0;
    for (size_t i = 0; i < nr; i++) {
        const char *f = ah_rule_metadata(ah_ruleset_rule(h->rs, i))->file;
        bool seen = false;
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
    ah_buf_printf(&b, "]},\"hits\":{\"total\":%llu,\"by_severity\":{", (unsigned long long)h->hits);
    for (int l = AH_LEVEL_CRITICAL; l >= AH_LEVEL_INFO; l--)
        ah_buf_printf(&b, "\"%s\":%llu%s", ah_level_name((ah_level)l), (unsigned long long)h->hit_by_level[l],
                      l > AH_LEVEL_INFO ? "," : "");
    ah_buf_puts(&b, "},\"by_rule\":[");
    first = true;
    for (size_t i = 0; i < nr; i++) {
        if (!h->rule_hits[i])
            continue;
        const ah_rule_meta *m = ah_rule_metadata(ah_ruleset_rule(h->rs, i));
        ah_buf_puts(&b, first ? "{\"id\":" : ",{\"id\":");
        first = false;
        ah_report_json_str(&b, m->id);
        ah_buf_puts(&b, ",\"title\":");
        ah_report_json_str(&b, m->title);
        ah_buf_printf(&b, ",\"severity\":\"%s\",\"count\":%llu}", ah_level_name(m->level),
                      (unsigned long long)h->rule_hits[i]);
    }
    ah_buf_printf(&b, "]},\"timeline\":{\"path\":");
    ah_report_json_str(&b, h->c->wo.path);
    ah_buf_printf(&b,
                  ",\"format\":\"%s\",\"mode\":\"%s\",\"rows\":%llu,\"files\":%llu,\"cells_truncated\":%llu,"
                  "\"events_outside_window\":%llu}}\n",
                  ah_out_format_name(h->c->wo.format), h->c->all ? "all" : "hits", (unsigned long long)ws->rows,
                  (unsigned long long)ws->files, (unsigned long long)ws->cells_truncated,
                  (unsigned long long)h->events_outside);
    ah_status st;
    ah_sink *sink = ah_sink_open(h->c->summary_path, h->c->wo.force, diag, &st);
    if (sink) {
        st = ah_sink_write(sink, b.data, b.len);
        if (st == AH_OK)
            st = ah_sink_finish(sink);
        if (st == AH_OK)
            st = ah_sink_commit(sink);
        ah_sink_free(sink);
    }
    ah_buf_free(&b);
    return st;
}

static int run_hunt(int argc, char **argv)
{
    hunt_ctx c = {0};
    ah_session_options_init(&c.so);
    ah_writer_options_init(&c.wo);
    c.wo.path = "-";
    c.min_level = AH_LEVEL_INFO;
    int status = 0;
    int first = ah_cli_parse(&cmd_hunt, argc, argv, hunt_opt, &c, &status);
    hunt_run h = {.c = &c};
    ah_session *s = NULL;
    ah_writer *w = NULL;
    ah_diag out_diag = {ah_cli_diag_fn, &c.diag, {0}};
    ah_cli_diag rule_printer = {.bare = true};
    ah_diag rule_diag = {ah_cli_diag_fn, &rule_printer, {0}};
    ah_writer_stats ws = {0};
    char started[40];
    iso_now(started, sizeof started);
    double t0 = now_seconds();
    if (first < 0)
        goto out;
    status = AH_EXIT_USAGE;
    if (first >= argc) {
        ah_cli_usage_error(&cmd_hunt, "no input given");
        goto out;
    }
    if (c.has_from && c.has_to && ah_time_cmp(c.from, c.to) > 0) {
        ah_cli_usage_error(&cmd_hunt, "--from is later than --to");
        goto out;
    }
    rule_printer.quiet = true; /* rule warnings are lint's business; errors still print */
    h.rs = ah_cli_load_rules(&c.rules, &rule_diag, &status);
    if (!h.rs)
        goto out;
    status = AH_EXIT_USAGE;
    ah_status st;
    w = ah_writer_open(&c.wo, &out_diag, &st);
    if (!w)
        goto out;
    h.matcher = ah_matcher_new(h.rs);
    h.sorter = ah_sorter_new(c.memory ? c.memory : (256u << 20), c.tmpdir, &out_diag);
    h.hitcap = ah_ruleset_count(h.rs) + 1;
    h.hitv = calloc(h.hitcap, sizeof *h.hitv);
    h.rule_hits = calloc(h.hitcap, sizeof *h.rule_hits);
    ah_buf_init(&h.rb.text, 0);
    if (!h.matcher || !h.sorter || !h.hitv || !h.rule_hits) {
        ah_cli_errorf("out of memory");
        goto out;
    }
    s = ah_cli_open_session(&c.so, &c.diag, argc, argv, first);
    if (!s)
        goto out;

    bool progress = !c.diag.quiet && isatty(2);
    double last_progress = t0;
    const ah_event *ev;
    status = AH_EXIT_PARTIAL;
    while ((st = ah_session_next(s, &ev)) == AH_OK) {
        h.events++;
        if (!in_window(&c, ev)) {
            h.events_outside++;
            continue;
        }
        if ((st = handle_event(&h, ev)) != AH_OK)
            break;
        if (progress && (h.events & 1023) == 0 && now_seconds() - last_progress > 0.5) {
            last_progress = now_seconds();
            show_progress(s, t0, false);
        }
    }
    if (progress)
        show_progress(s, t0, true);
    if (st != AH_END) {
        ah_cli_errorf("%s; the timeline was not written", ah_status_str(st));
        goto out;
    }
    if ((st = ah_sorter_finish(h.sorter)) != AH_OK) {
        ah_cli_errorf("sorting failed: %s; the timeline was not written", ah_status_str(st));
        goto out;
    }
    ah_row row;
    while ((st = ah_sorter_next(h.sorter, &row)) == AH_OK) {
        st = ah_writer_write(w, &row);
        if (st != AH_OK && st != AH_ERR_RECORD)
            break;
    }
    if (st != AH_END) {
        ah_cli_errorf("writing the timeline failed: %s", ah_status_str(st));
        goto out;
    }
    st = ah_writer_close(w, &ws);
    w = NULL;
    if (st != AH_OK) {
        ah_cli_errorf("writing the timeline failed: %s", ah_status_str(st));
        goto out;
    }
    ah_cli_diag_finish(&c.diag);
    status = ah_cli_read_status(s, h.hits ? AH_EXIT_HITS : AH_EXIT_NO_HITS);
    double secs = now_seconds() - t0;
    if (!c.diag.quiet)
        summary_text(&h, s, &ws, secs);
    if (c.summary_path && write_summary(&h, s, &ws, argc, argv, started, secs, status, &out_diag) != AH_OK) {
        ah_cli_errorf("could not write the summary to %s", c.summary_path);
        status = AH_EXIT_PARTIAL;
    }
out:
    ah_writer_abort(w);
    ah_session_free(s);
    ah_sorter_free(h.sorter);
    ah_matcher_free(h.matcher);
    ah_ruleset_free(h.rs);
    ah_buf_free(&h.rb.text);
    free(h.hitv);
    free(h.rule_hits);
    ah_cli_rules_free(&c.rules);
    return status;
}
