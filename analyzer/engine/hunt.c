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
#include "../../parsers/frame/jscan.h"
#include "../../parsers/util/hash.h"
#include "../correlate/correlate.h"

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

static void fill_event_columns(ah_row *row, const ah_event *ev, row_builder *rb, uint64_t seq, bool with_raw)
{
    memset(row, 0, sizeof *row);
    row->has_time = ev->has_time;
    row->time = ev->time;
    row->seq = seq;
    row->input_record = ev->record_no;
    row->raw = with_raw ? ev->raw : AH_SPAN_NULL;
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
    ah_diag *diag;
    ah_matcher *matcher;
    ah_sorter *sorter;
    ah_sorter *observations;  /* NULL without correlation rules */
    ah_buf obs_text;          /* one encoded observation */
    /* --all: record id (hash) -> correlation rules it contributed to, so the
     * event's own row links to the hit. Bounded by hits x AH_CORR_MAX_IDS. */
    struct link *links;
    size_t nlinks, links_cap;
    ah_buf out_text;          /* a row's columns rewritten with its links */
    bool has_start;           /* earliest event time in the window (first-seen baselines) */
    ah_time start;
    ah_status obs_status;
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
        fill_event_columns(&row, ev, &h->rb, h->stats.events, !h->opt.rows_without_raw);
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
        fill_event_columns(&row, ev, &h->rb, h->stats.rows, !h->opt.rows_without_raw);
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

/* --- correlation -------------------------------------------------------- */

#define LINKS_PER_RECORD 4

struct link {
    uint64_t hash;            /* of the record id; 0 = empty slot */
    uint32_t rules[LINKS_PER_RECORD];
    uint8_t n;
};

static uint64_t link_hash(ah_span id)
{
    uint64_t hv = ah_hash64(id.p, id.n, 0x11f);
    return hv ? hv : 1;
}

static struct link *link_slot(ah_hunt *h, uint64_t hv)
{
    size_t mask = h->links_cap - 1, i = (size_t)hv & mask;
    while (h->links[i].hash && h->links[i].hash != hv)
        i = (i + 1) & mask;
    return &h->links[i];
}

/* Note that record `id` contributed to correlation rule `rule`. */
static void add_link(ah_hunt *h, ah_span id, uint32_t rule)
{
    if (!id.n)
        return; /* no identity to link by */
    if (h->nlinks * 2 >= h->links_cap) {
        size_t ncap = h->links_cap ? h->links_cap * 2 : 1024;
        struct link *old = h->links, *nl = calloc(ncap, sizeof *nl);
        if (!nl)
            return; /* the hit row still lists the ids */
        size_t ocap = h->links_cap;
        h->links = nl;
        h->links_cap = ncap;
        for (size_t i = 0; i < ocap; i++)
            if (old[i].hash)
                *link_slot(h, old[i].hash) = old[i];
        free(old);
    }
    uint64_t hv = link_hash(id);
    struct link *l = link_slot(h, hv);
    if (!l->hash) {
        l->hash = hv;
        h->nlinks++;
    }
    for (uint8_t i = 0; i < l->n; i++)
        if (l->rules[i] == rule)
            return;
    if (l->n < LINKS_PER_RECORD)
        l->rules[l->n++] = rule;
}

static const struct link *find_link(const ah_hunt *h, ah_span id)
{
    if (!h->nlinks || !id.n)
        return NULL;
    const struct link *l = link_slot((ah_hunt *)h, link_hash(id));
    return l->hash ? l : NULL;
}

static size_t share(const ah_hunt *h, unsigned quarters)
{
    return h->opt.memory ? h->opt.memory / 4 * quarters : 0; /* 0: each part's own default */
}

static void keep_observation(void *ud, const ah_observation *obs)
{
    ah_hunt *h = ud;
    ah_buf_reset(&h->obs_text);
    ah_status st = ah_observation_encode(obs, &h->obs_text);
    ah_row row = {.has_time = true, .time = obs->time, .seq = h->stats.observations++, .raw = ah_buf_span(&h->obs_text)};
    if (st == AH_OK)
        st = ah_sorter_add(h->observations, &row);
    if (st != AH_OK && h->obs_status == AH_OK)
        h->obs_status = st;
}

static void put_json_member(ah_buf *b, const char *key, ah_span v, bool comma)
{
    ah_buf_printf(b, "%s\"%s\":", comma ? "," : "", key);
    ah_json_write_string(b, v);
}

/* One correlation hit -> one timeline row. raw describes the correlation
 * (it is not one record), with every contributing record id listed. */
static void add_corr_row(void *ud, const ah_corr_hit *hit)
{
    ah_hunt *h = ud;
    const ah_rule_meta *m = ah_rule_metadata(hit->rule);
    if (m->level < h->opt.min_level || !tag_selected(h->opt.tags, m))
        return;
    h->rule_hits[m->index]++;
    h->stats.by_level[m->level]++;
    h->stats.hits++;
    if (h->opt.all)
        for (size_t i = 0; i < hit->nrecord_ids; i++)
            add_link(h, hit->record_ids[i], (uint32_t)m->index);
    row_builder *rb = &h->rb;
    rb_begin(rb);
    ah_row row = {.has_time = true, .time = hit->time, .seq = h->stats.rows, .input_record = hit->input_record};
    row.col[AH_COL_SOURCE] = ah_span_cstr(ah_source_name(hit->source));
    row.col[AH_COL_OPERATION] = hit->operation;
    row.col[AH_COL_USER] = hit->user;
    row.col[AH_COL_IP] = hit->ip;
    row.col[AH_COL_APP] = hit->app;
    row.col[AH_COL_TARGET] = hit->target;
    row.col[AH_COL_DETAILS] = hit->details;
    rb_put(rb, AH_COL_SEVERITY, ah_level_name(m->level));
    rb_put(rb, AH_COL_RULE_ID, m->id);
    rb_put(rb, AH_COL_RULE_TITLE, m->title);
    size_t m0 = rb_mark(rb);
    bool first = true;
    put_tags(&rb->text, m, &first);
    rb_close(rb, AH_COL_TAGS, m0);
    m0 = rb_mark(rb);
    for (size_t i = 0; i < hit->nrecord_ids; i++) {
        if (i)
            ah_buf_putc(&rb->text, ' ');
        ah_buf_append_span(&rb->text, hit->record_ids[i].n ? hit->record_ids[i] : ah_span_cstr("-"));
    }
    if (hit->count > hit->nrecord_ids)
        ah_buf_printf(&rb->text, " (+%llu more)", (unsigned long long)(hit->count - hit->nrecord_ids));
    rb_close(rb, AH_COL_RECORD_ID, m0);
    m0 = rb_mark(rb);
    ah_buf_append_span(&rb->text, hit->input);
    if (hit->entry.n) {
        ah_buf_putc(&rb->text, '!');
        ah_buf_append_span(&rb->text, hit->entry);
    }
    rb_close(rb, AH_COL_INPUT, m0);
    rb_put(rb, AH_COL_RESULT, "");
    /* raw: {"correlation":{...}} */
    m0 = rb_mark(rb);
    char t1[40], t2[40];
    ah_buf_puts(&rb->text, "{\"correlation\":{");
    put_json_member(&rb->text, "rule", ah_span_cstr(m->id), false);
    put_json_member(&rb->text, "kind", ah_span_cstr(ah_rule_kind_name(m->kind)), true);
    put_json_member(&rb->text, "group", hit->group, true);
    ah_buf_printf(&rb->text, ",\"value\":%.17g,\"count\":%llu", hit->value, (unsigned long long)hit->count);
    put_json_member(&rb->text, "first_time", ah_span_cstr(ah_time_format(hit->time, t1)), true);
    put_json_member(&rb->text, "last_time", ah_span_cstr(ah_time_format(hit->last_time, t2)), true);
    ah_buf_puts(&rb->text, ",\"record_ids\":[");
    for (size_t i = 0; i < hit->nrecord_ids; i++) {
        if (i)
            ah_buf_putc(&rb->text, ',');
        ah_json_write_string(&rb->text, hit->record_ids[i]);
    }
    ah_buf_puts(&rb->text, "]}}");
    size_t raw_at = m0, raw_len = rb->text.len - m0;
    ah_buf_putc(&rb->text, '\0');
    rb_finish(rb, &row);
    row.raw = ah_span_make(rb->text.data + raw_at, raw_len);
    h->stats.rows++;
    ah_status st = ah_sorter_add(h->sorter, &row);
    if (st != AH_OK && h->obs_status == AH_OK)
        h->obs_status = st;
}

/* Replay the observations in time order through the correlator. */
static ah_status correlate(ah_hunt *h)
{
    ah_status st = ah_sorter_finish(h->observations);
    ah_correlator *c = st == AH_OK ? ah_correlator_new(h->rs, share(h, 1), h->diag) : NULL;
    if (!c)
        return st != AH_OK ? st : AH_ERR_NOMEM;
    if (h->has_start)
        ah_correlator_set_data_start(c, h->start);
    if (h->opt.has_baseline)
        ah_correlator_set_baseline(c, h->opt.baseline_from, h->opt.baseline_to);
    ah_row row;
    while (h->obs_status == AH_OK && (st = ah_sorter_next(h->observations, &row)) == AH_OK) {
        ah_observation obs;
        if ((st = ah_observation_decode(row.raw, &obs)) != AH_OK ||
            (st = ah_correlator_feed(c, &obs, add_corr_row, h)) != AH_OK)
            break;
    }
    if (st == AH_END)
        st = ah_correlator_finish(c, add_corr_row, h);
    ah_correlator_stats cs;
    ah_correlator_get_stats(c, &cs);
    h->stats.corr_evicted = cs.evicted;
    ah_correlator_free(c);
    return st != AH_OK ? st : h->obs_status;
}

ah_hunt *ah_hunt_new(const ah_ruleset *rs, const ah_hunt_options *opt, ah_diag *diag)
{
    ah_hunt *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->opt = *opt;
    h->rs = rs;
    h->diag = diag;
    bool corr = ah_ruleset_has_correlations(rs);
    h->matcher = ah_matcher_new(rs);
    h->sorter = ah_sorter_new(corr ? share(h, 2) : opt->memory, opt->tmpdir, diag);
    if (corr)
        h->observations = ah_sorter_new(share(h, 1), opt->tmpdir, diag);
    ah_buf_init(&h->obs_text, 0);
    ah_buf_init(&h->out_text, 0);
    h->hitcap = ah_ruleset_count(rs) + 1;
    h->hitv = calloc(h->hitcap, sizeof *h->hitv);
    h->rule_hits = calloc(h->hitcap, sizeof *h->rule_hits);
    ah_buf_init(&h->rb.text, 0);
    h->stats.by_rule = h->rule_hits;
    if (!h->matcher || !h->sorter || !h->hitv || !h->rule_hits || (corr && !h->observations)) {
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
    ah_sorter_free(h->observations);
    ah_buf_free(&h->obs_text);
    ah_buf_free(&h->out_text);
    free(h->links);
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
    ah_status st = match_event(h, ev);
    if (st == AH_OK && h->observations) {
        if (ev->has_time && (!h->has_start || ah_time_cmp(ev->time, h->start) < 0)) {
            h->start = ev->time;
            h->has_start = true;
        }
        ah_matcher_observe(h->matcher, ev, keep_observation, h);
        st = h->obs_status;
    }
    return st;
}

ah_status ah_hunt_finish(ah_hunt *h)
{
    ah_status st = h->observations ? correlate(h) : AH_OK;
    return st == AH_OK ? ah_sorter_finish(h->sorter) : st;
}

/* Append ", id" / "; title" / tags of the linked correlation rules to an
 * event row (--all), and raise its severity to theirs. */
static void annotate(ah_hunt *h, ah_row *row, const struct link *l)
{
    ah_buf *b = &h->out_text;
    ah_buf_reset(b);
    size_t off[3];
    const ah_col_id cols[3] = {AH_COL_RULE_ID, AH_COL_RULE_TITLE, AH_COL_TAGS};
    const char *seps[3] = {",", "; ", ","};
    ah_level top = AH_LEVEL_INFO;
    bool had_level = ah_level_from_name(row->col[AH_COL_SEVERITY], &top);
    for (int c = 0; c < 3; c++) {
        off[c] = b->len;
        ah_span cur = row->col[cols[c]];
        ah_buf_append_span(b, cur);
        for (uint8_t i = 0; i < l->n; i++) {
            const ah_rule_meta *m = ah_rule_metadata(ah_ruleset_rule(h->rs, l->rules[i]));
            if (c == 0) {
                if (!had_level || m->level > top)
                    top = m->level;
                had_level = true;
            }
            if (c < 2) {
                if (b->len > off[c])
                    ah_buf_puts(b, seps[c]);
                ah_buf_puts(b, c == 0 ? m->id : m->title);
            } else {
                bool first = b->len == off[c];
                put_tags(b, m, &first);
            }
        }
        ah_buf_putc(b, '\0');
    }
    for (int c = 0; c < 3; c++)
        row->col[cols[c]] = ah_span_cstr(b->data + off[c]);
    row->col[AH_COL_SEVERITY] = ah_span_cstr(ah_level_name(top));
}

ah_status ah_hunt_next(ah_hunt *h, ah_row *row)
{
    ah_status st = ah_sorter_next(h->sorter, row);
    if (st != AH_OK || !h->opt.all || !h->nlinks)
        return st;
    /* correlation rows (raw {"correlation":...}) list their ids; only event rows get links */
    static const char corr_prefix[] = "{\"correlation\":";
    bool corr_row = row->raw.n >= sizeof corr_prefix - 1 && !memcmp(row->raw.p, corr_prefix, sizeof corr_prefix - 1);
    const struct link *l = corr_row ? NULL : find_link(h, row->col[AH_COL_RECORD_ID]);
    if (l)
        annotate(h, row, l);
    return st;
}

const ah_hunt_stats *ah_hunt_get_stats(const ah_hunt *h) { return &h->stats; }
