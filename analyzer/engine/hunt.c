/*
 * hunt.c: match events, build timeline rows, order them (see hunt.h).
 *
 * Rows keep their strings in one scratch buffer per row (NUL-separated,
 * turned into spans only when the row is complete, because the buffer may
 * move while it grows); the sorter copies each row, so nothing here grows
 * with the input.
 */
#include "hunt.h"

#include "../../parsers/formats/timeparse.h"

#include <stdlib.h>
#include <string.h>

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

void ah_hunt_render_result(const ah_event *ev, ah_buf *b)
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
    ah_hunt_render_result(ev, &rb->text);
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

struct ah_hunt {
    ah_hunt_options opt;
    const ah_ruleset *rs;
    ah_matcher *matcher;
    ah_sorter *sorter;
    uint64_t *rule_hits;     /* per rule index */
    ah_hunt_stats stats;
    row_builder rb;
    const ah_rule **hitv;
    size_t hitcap;
};

static bool in_window(const ah_hunt_options *c, const ah_event *ev)
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

static ah_status add_row(ah_hunt *h, ah_row *row)
{
    rb_finish(&h->rb, row);
    h->stats.rows++;
    return ah_sorter_add(h->sorter, row);
}

static ah_status match_event(ah_hunt *h, const ah_event *ev)
{
    size_t n = ah_matcher_match(h->matcher, ev, h->hitv, h->hitcap);
    if (n > h->hitcap)
        n = h->hitcap;
    /* keep the hits the filters select */
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const ah_rule_meta *m = ah_rule_metadata(h->hitv[i]);
        if (m->level >= h->opt.min_level && tag_selected(h->opt.tags, m))
            h->hitv[k++] = h->hitv[i];
    }
    n = k;
    for (size_t i = 0; i < n; i++) {
        const ah_rule_meta *m = ah_rule_metadata(h->hitv[i]);
        h->rule_hits[m->index]++;
        h->stats.by_level[m->level]++;
        h->stats.hits++;
    }
    ah_row row;
    if (h->opt.all) {
        rb_begin(&h->rb);
        fill_event_columns(&row, ev, &h->rb, h->stats.events);
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
        fill_event_columns(&row, ev, &h->rb, h->stats.rows);
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

ah_hunt *ah_hunt_new(const ah_ruleset *rs, const ah_hunt_options *opt, ah_diag *diag)
{
    ah_hunt *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->opt = *opt;
    h->rs = rs;
    h->matcher = ah_matcher_new(rs);
    h->sorter = ah_sorter_new(opt->memory, opt->tmpdir, diag);
    h->hitcap = ah_ruleset_count(rs) + 1;
    h->hitv = calloc(h->hitcap, sizeof *h->hitv);
    h->rule_hits = calloc(h->hitcap, sizeof *h->rule_hits);
    ah_buf_init(&h->rb.text, 0);
    h->stats.by_rule = h->rule_hits;
    if (!h->matcher || !h->sorter || !h->hitv || !h->rule_hits) {
        ah_hunt_free(h);
        return NULL;
    }
    return h;
}

void ah_hunt_free(ah_hunt *h)
{
    if (!h)
        return;
    ah_matcher_free(h->matcher);
    ah_sorter_free(h->sorter);
    ah_buf_free(&h->rb.text);
    free(h->hitv);
    free(h->rule_hits);
    free(h);
}

ah_status ah_hunt_add(ah_hunt *h, const ah_event *ev)
{
    h->stats.events++;
    if (!in_window(&h->opt, ev)) {
        h->stats.events_outside++;
        return AH_OK;
    }
    return match_event(h, ev);
}

ah_status ah_hunt_finish(ah_hunt *h) { return ah_sorter_finish(h->sorter); }

ah_status ah_hunt_next(ah_hunt *h, ah_row *row) { return ah_sorter_next(h->sorter, row); }

const ah_hunt_stats *ah_hunt_get_stats(const ah_hunt *h) { return &h->stats; }
