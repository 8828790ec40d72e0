/*
 * custody.c: the chain-of-custody members of the hunt summary (custody.h).
 *
 * Variables are recorded with their values, not only the name of the file
 * they came from, and list files with the SHA-256 of the bytes the rules
 * read (hashed while loading, so an edit after the run cannot change it):
 * an IOC list or an allow-list decides hits as much as a rule does. The
 * options are every one that changes which hits come out.
 */
#include "custody.h"

#include "../../parsers/formats/timeparse.h"
#include "cli.h"
#include "report.h"

static void time_or_null(ah_buf *b, bool has, ah_time t)
{
    char tb[40];
    ah_report_json_str(b, has ? ah_time_format(t, tb) : NULL);
}

static const char *date_order_name(ah_date_order o)
{
    switch (o) {
    case AH_DATE_ORDER_MDY: return "mdy";
    case AH_DATE_ORDER_DMY: return "dmy";
    default: return "auto";
    }
}

void ah_custody_json(ah_buf *b, const ah_ruleset *rs, const ah_session_options *so, const ah_hunt_options *ho)
{
    ah_buf_puts(b, "\"build\":{\"version\":");
    ah_report_json_str(b, AH_VERSION);
    ah_buf_puts(b, ",\"revision\":");
    ah_report_json_str(b, ah_cli_build_revision());
    ah_buf_puts(b, "},\"variables\":[");
    ah_var_info v;
    for (size_t i = 0; ah_ruleset_var_at(rs, i, &v); i++) {
        ah_buf_puts(b, i ? ",{\"name\":" : "{\"name\":");
        ah_report_json_str(b, v.name);
        ah_buf_puts(b, ",\"value\":");
        ah_report_json_str(b, v.value);
        ah_buf_puts(b, ",\"source\":");
        ah_report_json_str(b, v.source);
        ah_buf_puts(b, ",\"file\":");
        ah_report_json_str(b, v.file);
        ah_buf_putc(b, '}');
    }
    ah_buf_puts(b, "],\"list_files\":[");
    for (size_t i = 0; i < ah_ruleset_list_file_count(rs); i++) {
        const ah_list_file_info *l = ah_ruleset_list_file_at(rs, i);
        ah_buf_puts(b, i ? ",{\"path\":" : "{\"path\":");
        ah_report_json_str(b, l->path);
        ah_buf_puts(b, ",\"sha256\":");
        ah_report_json_str(b, l->sha256);
        ah_buf_printf(b, ",\"size\":%llu}", (unsigned long long)l->size);
    }
    ah_buf_puts(b, "],\"options\":{\"from\":");
    time_or_null(b, ho->has_from, ho->from);
    ah_buf_puts(b, ",\"to\":");
    time_or_null(b, ho->has_to, ho->to);
    ah_buf_printf(b, ",\"min_severity\":\"%s\",\"tags\":", ah_level_name(ho->min_level));
    ah_report_json_str(b, ho->tags);
    ah_buf_puts(b, ",\"baseline\":");
    if (ho->has_baseline) {
        ah_buf_puts(b, "{\"from\":");
        time_or_null(b, true, ho->baseline_from);
        ah_buf_puts(b, ",\"to\":");
        time_or_null(b, true, ho->baseline_to);
        ah_buf_putc(b, '}');
    } else {
        ah_buf_puts(b, "null");
    }
    ah_buf_printf(b, ",\"keep_duplicates\":%s,\"date_order\":\"%s\",\"max_record\":%llu,\"memory\":%llu}",
                  so->keep_duplicates ? "true" : "false", date_order_name(so->date_order),
                  (unsigned long long)so->max_record,
                  (unsigned long long)(ho->memory + (so->dedup_memory ? so->dedup_memory : AH_SESSION_DEDUP_MEMORY)));
}
