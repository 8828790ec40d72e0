/*
 * hunt_rows.h: a finished hunt's rows as text, one line a row (time, kind,
 * level, record number, every column, raw, related_raw, the rules), for
 * tests that compare two hunts byte for byte (threads, partials).
 */
#ifndef AH_TEST_HUNT_ROWS_H
#define AH_TEST_HUNT_ROWS_H

#include "analyzer/engine/hunt.h"

static void hunt_rows_span(ah_buf *b, ah_span s)
{
    if (s.p)
        ah_buf_append_span(b, s);
    else
        ah_buf_puts(b, "<null>");
    ah_buf_putc(b, '\t');
}

/* Every row of h (after ah_hunt_finish) onto out; the status after the last. */
static ah_status hunt_rows_text(ah_hunt *h, ah_buf *out)
{
    ah_row row;
    ah_status st;
    while ((st = ah_hunt_next(h, &row)) == AH_OK) {
        ah_buf_printf(out, "%lld.%09d %d %d %llu\t", (long long)row.time.sec, (int)row.time.nsec, row.kind, row.level,
                      (unsigned long long)row.input_record);
        for (int c = 0; c < AH_COL_COUNT; c++)
            hunt_rows_span(out, row.col[c]);
        hunt_rows_span(out, row.raw);
        hunt_rows_span(out, row.related_raw);
        for (size_t i = 0; i < row.nrule_info; i++)
            ah_buf_printf(out, "%s/%s/%d ", row.rule_info[i].id, row.rule_info[i].severity, row.rule_info[i].routine);
        ah_buf_putc(out, '\n');
    }
    return st;
}

#endif
