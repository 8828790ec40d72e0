/*
 * hunt_sheets.c: the Summary and Rules sheets (see hunt_sheets.h). The same
 * figures as the run summary (summary_text, --summary), from the same
 * accessors, laid out as rows: the workbook's constant-memory mode writes
 * each sheet top to bottom, so every section is emitted in reading order.
 */
#include "hunt_sheets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../parsers/formats/timeparse.h"
#include "report.h"

#define SUMMARY_COLS 8
#define RULES_COLS 11

typedef struct sheet {
    ah_writer *w;
    ah_status st;
    ah_sheet_cell cells[RULES_COLS];
    size_t n;
} sheet;

static ah_sheet_cell *next_cell(sheet *s)
{
    ah_sheet_cell *c = &s->cells[s->n++];
    *c = (ah_sheet_cell){0};
    return c;
}

static void text(sheet *s, const char *t)
{
    ah_sheet_cell *c = next_cell(s);
    if (t) {
        c->kind = AH_SHEET_TEXT;
        c->text = ah_span_cstr(t);
    }
}

static void bold(sheet *s, const char *t)
{
    text(s, t);
    s->cells[s->n - 1].bold = true;
}

static void number(sheet *s, uint64_t v)
{
    ah_sheet_cell *c = next_cell(s);
    c->kind = AH_SHEET_NUMBER;
    c->number = (double)v;
}

static void level(sheet *s, ah_level l)
{
    text(s, ah_level_name(l));
    s->cells[s->n - 1].coloured = true;
    s->cells[s->n - 1].level = (int8_t)l;
}

static void end_row(sheet *s)
{
    if (s->st == AH_OK)
        s->st = ah_writer_sheet_row(s->w, s->cells, s->n);
    s->n = 0;
}

static void blank_row(sheet *s) { end_row(s); }

static void pair(sheet *s, const char *key, uint64_t v)
{
    text(s, key);
    number(s, v);
    end_row(s);
}

static const char *fmt_time(bool has, ah_time t, char *buf) { return has ? ah_time_format(t, buf) : NULL; }

/* ah_report_input_warnings' lines, one row each (the text summary's words). */
static void warnings(sheet *s, const ah_session *session)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        s->st = AH_ERR_NOMEM;
        return;
    }
    ah_report_input_warnings(session, f);
    fclose(f);
    bold(s, "Input warnings");
    end_row(s);
    size_t lines = 0;
    for (char *p = buf; p && *p;) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        while (*p == ' ')
            p++;
        text(s, p);
        end_row(s);
        lines++;
        p = nl ? nl + 1 : p + strlen(p);
    }
    if (!lines) {
        text(s, "none");
        end_row(s);
    }
    free(buf);
}

static void summary_sheet(sheet *s, const ah_session *session, const ah_ruleset *rs, const ah_hunt_stats *hs, int argc,
                          char **argv, const char *started)
{
    static const double widths[SUMMARY_COLS] = {34, 50, 66, 12, 12, 12, 16, 24};
    s->st = ah_writer_sheet_begin(s->w, "Summary", widths, SUMMARY_COLS, false);
    char t1[40], t2[40], t3[40];
    bold(s, "audithound hunt summary");
    end_row(s);
    text(s, "version");
    text(s, AH_VERSION);
    end_row(s);
    ah_buf cmd;
    ah_buf_init(&cmd, 0);
    ah_buf_puts(&cmd, "audithound");
    for (int i = 0; i < argc; i++) {
        ah_buf_putc(&cmd, ' ');
        ah_buf_puts(&cmd, argv[i]);
    }
    if (ah_buf_status(&cmd) != AH_OK && s->st == AH_OK)
        s->st = AH_ERR_NOMEM; /* never a command line cut short */
    text(s, "command line");
    text(s, ah_buf_cstr(&cmd));
    end_row(s);
    ah_buf_free(&cmd);
    text(s, "started");
    text(s, started);
    end_row(s);
    blank_row(s);

    bold(s, "Inputs");
    bold(s, "size (bytes)");
    bold(s, "sha256");
    bold(s, "unreadable");
    end_row(s);
    for (size_t i = 0; i < ah_session_file_count(session); i++) {
        ah_file_report f = ah_session_file(session, i);
        text(s, f.path);
        number(s, f.size);
        text(s, f.sha256 && *f.sha256 ? f.sha256 : NULL);
        text(s, f.unreadable ? "yes" : "no");
        end_row(s);
    }
    blank_row(s);

    ah_totals t = ah_session_totals(session);
    bold(s, "Records");
    end_row(s);
    pair(s, "records", t.records);
    pair(s, "events", t.events);
    pair(s, "duplicates", t.duplicates);
    pair(s, "errors", t.errors);
    pair(s, "unreadable inputs", t.unreadable_inputs);
    if (hs->events_outside)
        pair(s, "events outside --from/--to", hs->events_outside);
    blank_row(s);

    bold(s, "Coverage");
    bold(s, "first");
    bold(s, "last");
    bold(s, "events");
    bold(s, "empty hours");
    bold(s, "gaps");
    bold(s, "longest gap (hours)");
    bold(s, "longest gap from");
    end_row(s);
    for (int k = AH_SOURCE_UAL; k < AH_SOURCE_COUNT; k++) {
        ah_coverage c = ah_session_coverage(session, (ah_source_kind)k);
        if (!c.events)
            continue;
        text(s, ah_source_name((ah_source_kind)k));
        text(s, fmt_time(c.has_time, c.first, t1));
        text(s, fmt_time(c.has_time, c.last, t2));
        number(s, c.events);
        number(s, c.empty_hours);
        number(s, c.gaps);
        number(s, c.longest_gap_hours);
        ah_time g = {c.longest_gap_start, 0};
        text(s, c.gaps ? ah_time_format_digits(g, 0, t3) : NULL); /* t1, t2 are still in the row */
        end_row(s);
    }
    blank_row(s);
    warnings(s, session);
    blank_row(s);

    bold(s, "Hits");
    number(s, hs->hits);
    end_row(s);
    for (int l = AH_LEVEL_CRITICAL; l >= AH_LEVEL_INFO; l--) {
        level(s, (ah_level)l);
        number(s, hs->by_level[l]);
        end_row(s);
    }
    if (hs->routine_hits)
        pair(s, "listed at info as routine", hs->routine_hits);
    blank_row(s);

    bold(s, "Hits per rule");
    bold(s, "title");
    bold(s, "severity");
    bold(s, "hits");
    end_row(s);
    size_t nr = ah_ruleset_count(rs);
    size_t *r = ah_report_rules_by_hits(hs->by_rule, nr);
    if (!r) {
        s->st = AH_ERR_NOMEM;
        return;
    }
    for (size_t i = 0; i < nr && hs->by_rule[r[i]]; i++) {
        const ah_rule_meta *m = ah_rule_metadata(ah_ruleset_rule(rs, r[i]));
        text(s, m->id);
        text(s, m->title);
        level(s, m->level);
        number(s, hs->by_rule[r[i]]);
        end_row(s);
    }
    free(r);
}

static void joined(ah_buf *b, ah_strlist l)
{
    ah_buf_reset(b);
    for (size_t i = 0; i < l.n; i++) {
        if (i)
            ah_buf_puts(b, "; ");
        ah_buf_puts(b, l.v[i]);
    }
}

static void rules_sheet(sheet *s, const ah_ruleset *rs, const ah_hunt_stats *hs)
{
    static const double widths[RULES_COLS] = {40, 50, 9, 12, 8, 40, 24, 40, 8, 60, 40};
    static const char *const header[RULES_COLS] = {"id",     "title", "severity", "status",      "hits",   "tags",
                                                   "attack", "file",  "line",     "description", "skipped"};
    if (s->st == AH_OK)
        s->st = ah_writer_sheet_begin(s->w, "Rules", widths, RULES_COLS, true);
    for (size_t i = 0; i < RULES_COLS; i++)
        text(s, header[i]);
    end_row(s);
    ah_buf tags, attack;
    ah_buf_init(&tags, 0);
    ah_buf_init(&attack, 0);
    for (size_t i = 0; i < ah_ruleset_count(rs) && s->st == AH_OK; i++) {
        const ah_rule_meta *m = ah_rule_metadata(ah_ruleset_rule(rs, i));
        joined(&tags, m->tags);
        joined(&attack, m->attack);
        if ((ah_buf_status(&tags) != AH_OK || ah_buf_status(&attack) != AH_OK) && s->st == AH_OK)
            s->st = AH_ERR_NOMEM; /* the row is not written: the sheet fails */
        text(s, m->id);
        text(s, m->title);
        level(s, m->level);
        text(s, m->skipped ? "skipped" : "active");
        number(s, hs->by_rule[i]);
        text(s, tags.data ? tags.data : "");
        text(s, attack.data ? attack.data : "");
        text(s, m->file);
        number(s, m->line);
        text(s, m->description);
        text(s, m->skipped);
        end_row(s);
    }
    ah_buf_free(&tags);
    ah_buf_free(&attack);
}

ah_status ah_hunt_write_sheets(ah_writer *w, const ah_session *session, const ah_ruleset *rs, const ah_hunt_stats *hs,
                               int argc, char **argv, const char *started)
{
    sheet s = {.w = w, .st = AH_OK};
    summary_sheet(&s, session, rs, hs, argc, argv, started);
    if (s.st == AH_OK)
        rules_sheet(&s, rs, hs);
    return s.st;
}
