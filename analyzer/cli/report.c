/*
 * report.c: the account of a run's inputs (per stream, totals, coverage per
 * source, file digests), as text for people and JSON for tools. Shared by
 * `inspect` and by `hunt --summary` so both say the same thing.
 */
#include "report.h"

#include <stdlib.h>
#include <string.h>

#include "../../parsers/formats/timeparse.h"
#include "../../parsers/frame/jscan.h"

static const char *fmt_time(bool has, ah_time t, char *buf) { return has ? ah_time_format(t, buf) : "-"; }

void ah_report_json_str(ah_buf *b, const char *s)
{
    if (s)
        ah_json_write_string(b, ah_span_cstr(s));
    else
        ah_buf_puts(b, "null");
}

static void json_time(ah_buf *b, bool has, ah_time t)
{
    char tb[40];
    ah_report_json_str(b, has ? ah_time_format(t, tb) : NULL);
}

void ah_report_inputs_json(const ah_session *s, ah_buf *b)
{
    ah_buf_puts(b, "\"streams\":[");
    for (size_t i = 0; i < ah_session_stream_count(s); i++) {
        const ah_stream_report *r = ah_session_stream(s, i);
        ah_buf_puts(b, i ? ",\n{\"input\":" : "\n{\"input\":");
        ah_report_json_str(b, r->path);
        ah_buf_puts(b, ",\"entry\":");
        ah_report_json_str(b, r->entry);
        ah_buf_puts(b, ",\"container\":");
        ah_report_json_str(b, r->container);
        ah_buf_puts(b, ",\"encoding\":");
        ah_report_json_str(b, r->encoding);
        ah_buf_puts(b, ",\"framing\":");
        ah_report_json_str(b, r->framing);
        ah_buf_puts(b, ",\"format\":");
        ah_report_json_str(b, r->format);
        ah_buf_puts(b, ",\"source\":");
        ah_report_json_str(b, r->format ? ah_source_name(r->source) : NULL);
        ah_buf_printf(b, ",\"records\":%llu,\"events\":%llu,\"duplicates\":%llu,\"errors\":%llu",
                      (unsigned long long)r->records, (unsigned long long)r->events, (unsigned long long)r->duplicates,
                      (unsigned long long)r->errors);
        ah_buf_puts(b, ",\"first\":");
        json_time(b, r->has_time, r->first);
        ah_buf_puts(b, ",\"last\":");
        json_time(b, r->has_time, r->last);
        ah_buf_printf(b, ",\"nul_chars\":%llu,\"control_events\":%llu", (unsigned long long)r->nul_chars,
                      (unsigned long long)r->control_events);
        ah_buf_printf(b, ",\"no_record\":%s,\"not_a_log\":", r->no_record ? "true" : "false");
        ah_report_json_str(b, r->not_a_log);
        ah_buf_printf(b, ",\"truncated_hint\":%s,\"ambiguous_dates\":%llu,\"no_time\":%llu,\"unknown_zone\":%llu",
                      r->truncated_hint ? "true" : "false", (unsigned long long)r->ambiguous_dates,
                      (unsigned long long)r->no_time, (unsigned long long)r->unknown_zone);
        ah_buf_puts(b, ",\"failure\":");
        ah_report_json_str(b, r->failure);
        ah_buf_putc(b, '}');
    }
    ah_totals t = ah_session_totals(s);
    ah_buf_printf(b,
                  "\n],\"totals\":{\"records\":%llu,\"events\":%llu,\"duplicates\":%llu,\"errors\":%llu,"
                  "\"unreadable_inputs\":%llu,\"no_record_inputs\":%llu,\"not_a_log_inputs\":%llu,"
                  "\"dedup_passes\":%u},\"coverage\":{",
                  (unsigned long long)t.records, (unsigned long long)t.events, (unsigned long long)t.duplicates,
                  (unsigned long long)t.errors, (unsigned long long)t.unreadable_inputs,
                  (unsigned long long)t.no_record_streams, (unsigned long long)t.not_a_log_streams, t.dedup_passes);
    bool first = true;
    for (int k = AH_SOURCE_UAL; k < AH_SOURCE_COUNT; k++) {
        ah_coverage c = ah_session_coverage(s, (ah_source_kind)k);
        if (!c.events)
            continue;
        ah_buf_printf(b, "%s\"%s\":{\"events\":%llu,\"first\":", first ? "" : ",", ah_source_name((ah_source_kind)k),
                      (unsigned long long)c.events);
        first = false;
        json_time(b, c.has_time, c.first);
        ah_buf_puts(b, ",\"last\":");
        json_time(b, c.has_time, c.last);
        ah_buf_printf(b, ",\"empty_hours\":%llu,\"gaps\":%llu,\"longest_gap_hours\":%llu}",
                      (unsigned long long)c.empty_hours, (unsigned long long)c.gaps,
                      (unsigned long long)c.longest_gap_hours);
        if (c.gaps_unknown) /* never a 0 that is not known: the document fails as out of memory */
            ah_buf_lost(b);
    }
    ah_buf_puts(b, "},\"files\":[");
    for (size_t i = 0; i < ah_session_file_count(s); i++) {
        ah_file_report f = ah_session_file(s, i);
        ah_buf_puts(b, i ? ",\n{\"path\":" : "\n{\"path\":");
        ah_report_json_str(b, f.path);
        ah_buf_printf(b, ",\"size\":%llu,\"sha256\":", (unsigned long long)f.size);
        ah_report_json_str(b, f.sha256 && *f.sha256 ? f.sha256 : NULL);
        ah_buf_printf(b, ",\"unreadable\":%s}", f.unreadable ? "true" : "false");
    }
    ah_buf_puts(b, "\n]");
}

void ah_report_inputs_text(const ah_session *s, FILE *out)
{
    char t1[40], t2[40];
    for (size_t i = 0; i < ah_session_stream_count(s); i++) {
        const ah_stream_report *r = ah_session_stream(s, i);
        ah_escape_fputs(r->path, out);
        if (r->entry) {
            fputs(" [", out);
            ah_escape_fputs(r->entry, out);
            fputc(']', out);
        }
        fputc('\n', out);
        fprintf(out, "  container %s, encoding %s, framing %s\n", r->container ? r->container : "-",
                r->encoding ? r->encoding : "-", r->framing ? r->framing : "-");
        if (r->format)
            fprintf(out, "  format    %s (%s)\n", r->format, r->source ? ah_source_name(r->source) : "mixed sources");
        else
            fprintf(out, "  format    none recognised\n");
        fprintf(out, "  records   %llu = %llu events + %llu duplicates + %llu errors\n", (unsigned long long)r->records,
                (unsigned long long)r->events, (unsigned long long)r->duplicates, (unsigned long long)r->errors);
        fprintf(out, "  time      %s .. %s\n", fmt_time(r->has_time, r->first, t1), fmt_time(r->has_time, r->last, t2));
        if (r->failed) {
            fputs("  FAILED    ", out);
            ah_escape_fputs(r->failure ? r->failure : "unreadable", out);
            fputc('\n', out);
        }
        if (r->not_a_log)
            fprintf(out, "  NOT A LOG %s: %s\n", r->not_a_log, r->failed ? "unreadable" : "skipped");
        if (r->nul_chars || r->control_events)
            fprintf(out,
                    "  NOTE      %llu NUL characters kept; %llu events with control characters in fields "
                    "(removed for matching, kept in raw)\n",
                    (unsigned long long)r->nul_chars, (unsigned long long)r->control_events);
        if (r->no_record)
            fprintf(out, "  WARNING   no record in this input\n");
        if (r->truncated_hint)
            fprintf(out, "  WARNING   exactly %llu records: the export cap; probably truncated\n",
                    (unsigned long long)r->records);
        if (r->ambiguous_dates)
            fprintf(out, "  WARNING   %llu dates with ambiguous day/month order (read month first; see --date-order)\n",
                    (unsigned long long)r->ambiguous_dates);
        if (r->no_time)
            fprintf(out, "  WARNING   %llu events without a usable timestamp\n", (unsigned long long)r->no_time);
        if (r->unknown_zone)
            fprintf(out, "  WARNING   %llu times from a column not marked UTC\n", (unsigned long long)r->unknown_zone);
    }
    ah_totals t = ah_session_totals(s);
    fprintf(out, "\ntotal: %llu records = %llu events + %llu duplicates + %llu errors; %llu unreadable inputs",
            (unsigned long long)t.records, (unsigned long long)t.events, (unsigned long long)t.duplicates,
            (unsigned long long)t.errors, (unsigned long long)t.unreadable_inputs);
    if (t.no_record_streams)
        fprintf(out, "; %llu inputs without a record", (unsigned long long)t.no_record_streams);
    if (t.not_a_log_streams)
        fprintf(out, "; %llu not logs", (unsigned long long)t.not_a_log_streams);
    if (t.dedup_passes > 1)
        fprintf(out, "; inputs read twice (the duplicate set passed --memory)");
    fputc('\n', out);
    if (!t.records)
        fprintf(out, "NOTHING READ: no input held a single record\n");
    for (int k = AH_SOURCE_UAL; k < AH_SOURCE_COUNT; k++) {
        ah_coverage c = ah_session_coverage(s, (ah_source_kind)k);
        if (!c.events)
            continue;
        fprintf(out, "coverage %-11s %llu events, %s .. %s", ah_source_name((ah_source_kind)k),
                (unsigned long long)c.events, fmt_time(c.has_time, c.first, t1), fmt_time(c.has_time, c.last, t2));
        if (c.gaps_unknown)
            fprintf(out, "; gaps unknown (out of memory)");
        if (c.gaps) {
            ah_time g = {c.longest_gap_start, 0};
            fprintf(out, "; %llu empty hours in %llu gaps, longest %llu h from %s", (unsigned long long)c.empty_hours,
                    (unsigned long long)c.gaps, (unsigned long long)c.longest_gap_hours,
                    ah_time_format_digits(g, 0, t1));
        }
        fputc('\n', out);
    }
    for (size_t i = 0; i < ah_session_file_count(s); i++) {
        ah_file_report f = ah_session_file(s, i);
        fprintf(out, "sha256 %s  ", f.sha256 && *f.sha256 ? f.sha256 : "-");
        ah_escape_fputs(f.path, out);
        fprintf(out, " (%llu bytes)%s\n", (unsigned long long)f.size, f.unreadable ? " UNREADABLE" : "");
    }
}

void ah_report_input_warnings(const ah_session *s, FILE *out)
{
    for (size_t i = 0; i < ah_session_stream_count(s); i++) {
        const ah_stream_report *r = ah_session_stream(s, i);
        char name[1200], p[600], e[600];
        ah_escape_text(r->path, strlen(r->path), false, p, sizeof p);
        if (r->entry)
            snprintf(name, sizeof name, "%s[%s]", p, ah_escape_text(r->entry, strlen(r->entry), false, e, sizeof e));
        else
            snprintf(name, sizeof name, "%s", p);
        if (r->not_a_log && !r->failed)
            fprintf(out, "  not a log, skipped: %s (%s)\n", name, r->not_a_log);
        if (r->nul_chars || r->control_events)
            fprintf(out,
                    "  control characters: %s: %llu NUL characters, %llu events with control characters "
                    "in fields (removed for matching, kept in raw)\n",
                    name, (unsigned long long)r->nul_chars, (unsigned long long)r->control_events);
        if (r->failed) {
            char f[400];
            const char *why = r->failure ? r->failure : "";
            fprintf(out, "  unreadable: %s: %s\n", name, ah_escape_text(why, strlen(why), false, f, sizeof f));
        }
        if (r->no_record)
            fprintf(out, "  no record: %s\n", name);
        if (r->truncated_hint)
            fprintf(out, "  possibly truncated: %s has exactly %llu records (an export cap)\n", name,
                    (unsigned long long)r->records);
        if (r->ambiguous_dates)
            fprintf(out, "  ambiguous dates: %s: %llu day/month dates read month first (--date-order)\n", name,
                    (unsigned long long)r->ambiguous_dates);
        if (r->no_time)
            fprintf(out, "  no time: %s: %llu events without a usable timestamp\n", name,
                    (unsigned long long)r->no_time);
    }
    if (ah_session_nothing_read(s))
        fprintf(out, "  NOTHING READ: no input held a single record\n");
}

typedef struct rule_rank {
    size_t index;
    uint64_t hits;
} rule_rank;

static int by_hits(const void *a, const void *b)
{
    const rule_rank *x = a, *y = b;
    if (x->hits != y->hits)
        return x->hits < y->hits ? 1 : -1;
    return x->index < y->index ? -1 : x->index > y->index;
}

size_t *ah_report_rules_by_hits(const uint64_t *by_rule, size_t n)
{
    rule_rank *r = calloc(n ? n : 1, sizeof *r);
    size_t *out = calloc(n ? n : 1, sizeof *out);
    if (!r || !out) {
        free(r);
        free(out);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        r[i] = (rule_rank){i, by_rule[i]};
    qsort(r, n, sizeof *r, by_hits);
    for (size_t i = 0; i < n; i++)
        out[i] = r[i].index;
    free(r);
    return out;
}
