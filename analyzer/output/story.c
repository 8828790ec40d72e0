/*
 * story.c: the terminal story view (see story.h).
 */
#include "story.h"

#include "sink.h"
#include "topn.h"

#include "../../parsers/formats/timeparse.h"
#include "../../parsers/util/utf8.h"
#include "../rules/rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FLUSH_AT ((size_t)16 * 1024)
#define NLEVELS (AH_LEVEL_CRITICAL + 1)
#define TOPN_CAPACITY 512
#define CELL_BYTES 2048 /* one escaped value, before it is cut to its column */

/* Column widths, in characters. */
enum { W_WHO = 30, W_IP = 15, W_WHAT = 44 };

/* SGR colours per level: critical and high stand out, info recedes. */
static const char *const level_sgr[NLEVELS] = {"\033[2m", "\033[36m", "\033[33m", "\033[1;31m", "\033[1;97;41m"};
#define SGR_DIM "\033[2m"
#define SGR_BOLD "\033[1m"
#define SGR_OFF "\033[0m"

typedef struct day_count {
    int64_t day;
    uint64_t rows;
    uint64_t by_level[NLEVELS];
} day_count;

struct ah_story {
    ah_sink *sink;
    struct ah_output_list *outputs;
    bool color;
    ah_buf out;
    ah_status failed;
    uint64_t rows, bytes;
    uint64_t by_level[NLEVELS];
    ah_topn rules, users, ips;
    day_count *days;
    size_t ndays;
    uint64_t more_days_rows, no_time_rows;
};

static void free_story(ah_story *s)
{
    ah_sink_free(s->sink);
    ah_buf_free(&s->out);
    ah_topn_free(&s->rules);
    ah_topn_free(&s->users);
    ah_topn_free(&s->ips);
    free(s->days);
    free(s);
}

void ah_story_abort(ah_story *s)
{
    if (s)
        free_story(s);
}

ah_story *ah_story_open(const ah_story_options *opt, ah_diag *diag, ah_status *st)
{
    ah_status status = AH_OK;
    ah_story *s = calloc(1, sizeof *s);
    if (!s || ah_topn_init(&s->rules, TOPN_CAPACITY) != AH_OK || ah_topn_init(&s->users, TOPN_CAPACITY) != AH_OK ||
        ah_topn_init(&s->ips, TOPN_CAPACITY) != AH_OK || !(s->days = calloc(AH_STORY_DAYS, sizeof *s->days))) {
        status = AH_ERR_NOMEM;
        goto out;
    }
    s->color = opt->color;
    ah_buf_init(&s->out, (size_t)64 << 20);
    s->outputs = opt->outputs;
    s->sink = ah_sink_open(opt->path ? opt->path : "-", opt->force, diag, &status);
    if (!s->sink && status == AH_OK)
        status = AH_ERR_IO;
out:
    if (status != AH_OK) {
        ah_story_abort(s);
        s = NULL;
    }
    if (st)
        *st = status;
    return s;
}

static ah_status flush(ah_story *s)
{
    if (!s->out.len)
        return AH_OK;
    ah_status st = ah_sink_write(s->sink, s->out.data, s->out.len);
    if (st == AH_OK)
        s->bytes += s->out.len;
    ah_buf_reset(&s->out);
    return st;
}

static ah_status sgr(ah_story *s, const char *code) { return s->color ? ah_buf_puts(&s->out, code) : AH_OK; }

/* Append v escaped for the terminal, cut to `width` characters (0: no
 * limit) with "…" when cut; *shown receives the characters written. */
static ah_status cell(ah_story *s, ah_span v, size_t width, size_t *shown)
{
    char esc[CELL_BYTES];
    if (!v.p || !v.n)
        v = ah_span_cstr("-");
    ah_escape_text(v.p, v.n, false, esc, sizeof esc);
    size_t len = strlen(esc), chars = 0, cut = len, keep = 0;
    for (size_t i = 0; i < len; i++) {
        if (ah_utf8_is_cont((unsigned char)esc[i]))
            continue;
        if (width && chars == width - 1)
            keep = i; /* where "…" goes if the text is longer than the width */
        if (width && chars == width) {
            cut = keep;
            break;
        }
        chars++;
    }
    ah_status st;
    if (cut < len) {
        st = ah_buf_append(&s->out, esc, cut);
        if (st == AH_OK)
            st = ah_buf_puts(&s->out, "\xE2\x80\xA6"); /* … */
        chars = width;
    } else {
        st = ah_buf_append(&s->out, esc, len);
    }
    if (shown)
        *shown = chars;
    return st;
}

static ah_status pad(ah_story *s, size_t shown, size_t width)
{
    ah_status st = AH_OK;
    for (; shown < width && st == AH_OK; shown++)
        st = ah_buf_putc(&s->out, ' ');
    return st;
}

/* A padded column. */
static ah_status column(ah_story *s, ah_span v, size_t width)
{
    size_t shown = 0;
    ah_status st = cell(s, v, width, &shown);
    return st == AH_OK ? pad(s, shown, width) : st;
}

static void count_day(ah_story *s, const ah_row *row, int level)
{
    if (!row->has_time) {
        s->no_time_rows++;
        return;
    }
    int64_t day = ah_floor_div(row->time.sec, 86400);
    /* rows come in time order: a day is new or the last one */
    if (!s->ndays || s->days[s->ndays - 1].day != day) {
        if (s->ndays == AH_STORY_DAYS) {
            s->more_days_rows++;
            return;
        }
        s->days[s->ndays++] = (day_count){.day = day};
    }
    s->days[s->ndays - 1].rows++;
    s->days[s->ndays - 1].by_level[level]++;
}

ah_status ah_story_write(ah_story *s, const ah_row *row)
{
    if (!s || !row)
        return AH_ERR_USAGE;
    if (s->failed)
        return s->failed;
    if (row->level < 0)
        return AH_OK;
    int level = row->level < NLEVELS ? row->level : AH_LEVEL_CRITICAL;
    s->rows++;
    s->by_level[level]++;
    count_day(s, row, level);
    ah_topn_add(&s->users, row->col[AH_COL_USER], 1, 0);
    ah_topn_add(&s->ips, row->col[AH_COL_IP], 1, 0);
    for (size_t i = 0; i < row->nrule_info; i++) {
        ah_level l = AH_LEVEL_INFO;
        ah_level_from_name(ah_span_cstr(row->rule_info[i].severity ? row->rule_info[i].severity : "info"), &l);
        ah_topn_add(&s->rules, ah_span_cstr(row->rule_info[i].id ? row->rule_info[i].id : ""), 1, (int)l);
    }
    size_t mark = s->out.len;
    char t[40] = "-";
    if (row->has_time) {
        /* "2021-01-13 03:05:11Z": whole seconds; the timeline has the full precision */
        ah_time_format_digits(row->time, 0, t);
        char *sep = strchr(t, 'T');
        if (sep)
            *sep = ' ';
    }
    ah_status st = sgr(s, SGR_DIM);
    if (st == AH_OK)
        st = ah_buf_printf(&s->out, "%-20s", t);
    if (st == AH_OK)
        st = sgr(s, SGR_OFF);
    if (st == AH_OK)
        st = ah_buf_putc(&s->out, ' ');
    if (st == AH_OK)
        st = sgr(s, level_sgr[level]);
    if (st == AH_OK)
        st = ah_buf_printf(&s->out, "%-8s", ah_level_name((ah_level)level));
    if (st == AH_OK)
        st = sgr(s, SGR_OFF);
    if (st == AH_OK)
        st = ah_buf_putc(&s->out, ' ');
    ah_span who = row->col[AH_COL_USER].n ? row->col[AH_COL_USER] : row->col[AH_COL_APP];
    size_t shown = 0;
    if (st == AH_OK)
        st = sgr(s, SGR_BOLD);
    if (st == AH_OK)
        st = cell(s, who, W_WHO, &shown);
    if (st == AH_OK)
        st = sgr(s, SGR_OFF); /* pad outside the bold run, so the colour ends with the text */
    if (st == AH_OK)
        st = pad(s, shown, W_WHO + 1);
    if (st == AH_OK)
        st = column(s, row->col[AH_COL_IP], W_IP);
    if (st == AH_OK)
        st = ah_buf_putc(&s->out, ' ');
    /* what: the operation, and its target when there is one */
    char what[CELL_BYTES];
    ah_span op = row->col[AH_COL_OPERATION], tg = row->col[AH_COL_TARGET];
    size_t opn = op.n < 900 ? op.n : ah_utf8_cut(op.p, 900), tgn = tg.n < 900 ? tg.n : ah_utf8_cut(tg.p, 900);
    int n = tg.n ? snprintf(what, sizeof what, "%.*s -> %.*s", (int)opn, op.p ? op.p : "", (int)tgn, tg.p)
                 : snprintf(what, sizeof what, "%.*s", (int)opn, op.p ? op.p : "");
    if (st == AH_OK)
        st = column(s, ah_span_make(what, n > 0 ? strlen(what) : 0), W_WHAT);
    if (st == AH_OK)
        st = ah_buf_putc(&s->out, ' ');
    for (size_t i = 0; i < row->nrule_info && st == AH_OK; i++) {
        const ah_row_rule *r = &row->rule_info[i];
        if (i)
            st = ah_buf_puts(&s->out, "; ");
        if (st == AH_OK)
            st = cell(s, ah_span_cstr(r->title ? r->title : ""), 0, NULL);
        if (st == AH_OK && r->routine)
            st = ah_buf_puts(&s->out, " (routine)");
    }
    if (st == AH_OK && !row->nrule_info)
        st = cell(s, row->col[AH_COL_RULE_TITLE], 0, NULL);
    if (st == AH_OK)
        st = ah_buf_putc(&s->out, '\n');
    if (st != AH_OK) {
        ah_buf_truncate(&s->out, mark);
        return st == AH_ERR_NOMEM ? (s->failed = st) : AH_ERR_RECORD;
    }
    if (s->out.len >= FLUSH_AT && (st = flush(s)) != AH_OK)
        s->failed = st;
    return st;
}

/* ---- the summary table --------------------------------------------------------- */

static ah_status heading(ah_story *s, const char *title)
{
    ah_status st = sgr(s, SGR_BOLD);
    if (st == AH_OK)
        st = ah_buf_printf(&s->out, "\n%s\n", title);
    return st == AH_OK ? sgr(s, SGR_OFF) : st;
}

static ah_status top_list(ah_story *s, const char *title, ah_topn *t, bool rules)
{
    const ah_topn_entry *top[AH_STORY_TOP];
    size_t n = ah_topn_top(t, top, AH_STORY_TOP);
    ah_status st = heading(s, title);
    if (st == AH_OK && n == 0)
        st = ah_buf_puts(&s->out, "  none\n");
    for (size_t i = 0; i < n && st == AH_OK; i++) {
        st = ah_buf_printf(&s->out, "  %s%8llu  ", ah_topn_exact(t) ? "" : "<=", (unsigned long long)top[i]->count);
        if (st == AH_OK && rules) {
            int l = top[i]->extra >= 0 && top[i]->extra < NLEVELS ? top[i]->extra : 0;
            st = sgr(s, level_sgr[l]);
            if (st == AH_OK)
                st = ah_buf_printf(&s->out, "%-8s", ah_level_name((ah_level)l));
            if (st == AH_OK)
                st = sgr(s, SGR_OFF);
            if (st == AH_OK)
                st = ah_buf_putc(&s->out, ' ');
        }
        if (st == AH_OK)
            st = cell(s, ah_span_make(top[i]->value, top[i]->n), 0, NULL);
        if (st == AH_OK)
            st = ah_buf_putc(&s->out, '\n');
    }
    return st;
}

static ah_status summary(ah_story *s)
{
    ah_status st = heading(s, "hits: timeline rows by severity");
    if (st == AH_OK)
        st = ah_buf_printf(&s->out, "  %8llu  rows", (unsigned long long)s->rows);
    for (int l = AH_LEVEL_CRITICAL; l >= AH_LEVEL_INFO && st == AH_OK; l--) {
        if (!s->by_level[l])
            continue;
        st = ah_buf_puts(&s->out, ", ");
        if (st == AH_OK)
            st = sgr(s, level_sgr[l]);
        if (st == AH_OK)
            st = ah_buf_printf(&s->out, "%s %llu", ah_level_name((ah_level)l), (unsigned long long)s->by_level[l]);
        if (st == AH_OK)
            st = sgr(s, SGR_OFF);
    }
    if (st == AH_OK)
        st = ah_buf_putc(&s->out, '\n');
    if (st == AH_OK)
        st = top_list(s, "hits per rule (rows)", &s->rules, true);
    if (st == AH_OK)
        st = top_list(s, "top users", &s->users, false);
    if (st == AH_OK)
        st = top_list(s, "top addresses", &s->ips, false);
    if (st == AH_OK)
        st = heading(s, "hits per day (UTC)");
    for (size_t i = 0; i < s->ndays && st == AH_OK; i++) {
        int64_t y;
        unsigned m, d;
        ah_civil_from_days(s->days[i].day, &y, &m, &d);
        st = ah_buf_printf(&s->out, "  %04lld-%02u-%02u  %8llu", (long long)y, m, d,
                           (unsigned long long)s->days[i].rows);
        for (int l = AH_LEVEL_CRITICAL; l >= AH_LEVEL_INFO && st == AH_OK; l--)
            if (s->days[i].by_level[l])
                st = ah_buf_printf(&s->out, "  %s %llu", ah_level_name((ah_level)l),
                                   (unsigned long long)s->days[i].by_level[l]);
        if (st == AH_OK)
            st = ah_buf_putc(&s->out, '\n');
    }
    if (st == AH_OK && s->more_days_rows)
        st = ah_buf_printf(&s->out, "  later days %8llu (more than %u days)\n", (unsigned long long)s->more_days_rows,
                           AH_STORY_DAYS);
    if (st == AH_OK && s->no_time_rows)
        st = ah_buf_printf(&s->out, "  no time     %8llu\n", (unsigned long long)s->no_time_rows);
    if (st == AH_OK && s->ndays == 0 && s->no_time_rows == 0)
        st = ah_buf_puts(&s->out, "  none\n");
    return st;
}

ah_status ah_story_close(ah_story *s, ah_writer_stats *stats)
{
    if (!s)
        return AH_OK;
    ah_status st = s->failed;
    if (st == AH_OK && s->rows == 0)
        st = ah_buf_puts(&s->out, "no rule hit\n");
    if (st == AH_OK)
        st = summary(s);
    if (st == AH_OK)
        st = flush(s);
    if (st == AH_OK) /* listed first: a failure after the commit would leave the file of a failed run */
        st = ah_output_list_add(s->outputs, s->sink);
    if (st == AH_OK)
        st = ah_sink_commit(s->sink);
    if (stats) {
        memset(stats, 0, sizeof *stats);
        stats->rows = s->rows;
        stats->files = 1;
        stats->bytes = s->bytes;
    }
    free_story(s);
    return st;
}
