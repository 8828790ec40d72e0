/*
 * hunt.c: match events, build timeline rows, order them (see hunt.h).
 *
 * Rows keep their strings in one scratch buffer per row (NUL-separated,
 * turned into spans only when the row is complete, because the buffer may
 * move while it grows); the sorter copies each row, so nothing here grows
 * with the input.
 *
 * Size: the hunt's three stages share its state: worker lanes (match, rows,
 * observations), the correlation replay in fixed parts, and the ordered
 * output stage (twin join, names, routine demotion, rule rendering); the
 * partial/merge entry points reuse all three. A split would move the twin-
 * join window to a file of its own.
 */
#include "hunt.h"

#include "../../parsers/formats/opcanon.h"
#include "../../parsers/formats/timeparse.h"
#include "../../parsers/formats/twin.h"
#include "../../parsers/frame/jscan.h"
#include "../../parsers/util/hash.h"
#include "../correlate/correlate.h"
#include "knowledge.h"
#include "names.h"

#include <pthread.h>
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
        if (ah_rule_has_tag(m, ah_span_trim(ah_span_make(p, len))))
            return true;
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
    ah_buf text; /* every derived string of the row, NUL separated */
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

static void rb_put_span(row_builder *rb, ah_col_id c, ah_span s)
{
    size_t m = rb_mark(rb);
    ah_buf_append_span(&rb->text, s);
    rb_close(rb, c, m);
}

/* Spans are taken only once the text buffer stops growing. The appends
 * above are not checked one by one: the buffer remembers a failed
 * allocation, and a row that lost bytes is never finished. */
static ah_status rb_finish(row_builder *rb, ah_row *row)
{
    ah_status st = ah_buf_status(&rb->text);
    if (st != AH_OK)
        return st;
    for (int c = 0; c < AH_COL_COUNT; c++)
        if (rb->set[c])
            row->col[c] = ah_span_cstr(rb->text.data + rb->off[c]);
    return AH_OK;
}

/* A GUID-shaped value (the names store's parser): named by id. */
static bool looks_like_guid(ah_span s)
{
    char canon[37];
    return ah_names_canon_id(s, canon);
}

static void fill_event_columns(ah_row *row, const ah_event *ev, row_builder *rb, bool with_raw)
{
    memset(row, 0, sizeof *row);
    row->has_time = ev->has_time;
    row->time = ev->time;
    row->kind = AH_ROW_EVENT;
    row->level = AH_ROW_NO_LEVEL;
    row->input_record = ev->record_no;
    row->raw = with_raw ? ev->raw : AH_SPAN_NULL;
    ah_twin_key tk;
    ah_twin_key_of_event(ev, &tk);
    row->join_class = (uint8_t)tk.cls;
    row->result = (uint8_t)ev->result;
    row->join_id = tk.correlation_id;
    row->col[AH_COL_SOURCE] = ah_span_cstr(ah_source_name(ev->source));
    row->col[AH_COL_OPERATION] = ev->field[AH_F_OPERATION];
    row->col[AH_COL_USER] = ev->field[AH_F_USER];
    row->col[AH_COL_IP] = ev->field[AH_F_IP];
    row->col[AH_COL_APP] = ev->field[AH_F_APP]; /* the id stands in when it leaves without a name */
    row->col[AH_COL_APP_ID] = ev->field[AH_F_APP_ID];
    row->col[AH_COL_USER_AGENT] = ev->field[AH_F_USER_AGENT];
    row->col[AH_COL_TARGET] = ev->field[AH_F_TARGET];
    char target_id[37];
    if (ah_names_target_id(ev, target_id))
        rb_put(rb, AH_COL_TARGET_ID, target_id);
    else if (looks_like_guid(ah_span_trim(ev->field[AH_F_TARGET])))
        row->col[AH_COL_TARGET_ID] = ah_span_trim(ev->field[AH_F_TARGET]);
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

/* The canonical tie-break: a hash of what the row says, never of where or
 * when it was read (not input_record), so rows of one instant keep one order
 * however the inputs are ordered or sharded. */
static uint64_t row_tie(const ah_row *row)
{
    static const ah_col_id cols[] = {AH_COL_SOURCE, AH_COL_RECORD_ID, AH_COL_OPERATION, AH_COL_USER, AH_COL_IP,
                                     AH_COL_APP_ID, AH_COL_TARGET,    AH_COL_DETAILS,   AH_COL_INPUT};
    uint64_t h = 0x7469650aull + row->kind;
    for (size_t i = 0; i < AH_ARRAY_LEN(cols); i++) {
        ah_span v = row->col[cols[i]];
        h = ah_hash64(v.p ? v.p : "", v.n, h + i);
    }
    if (row->nrules)
        h = ah_hash64(row->rules, row->nrules * sizeof *row->rules, h);
    return h;
}

ah_status ah_hunt_event_row(const ah_event *ev, bool with_raw, ah_buf *text, ah_row *row)
{
    row_builder rb = {.text = *text};
    rb_begin(&rb);
    fill_event_columns(row, ev, &rb, with_raw);
    ah_status st = rb_finish(&rb, row);
    *text = rb.text; /* it may have grown */
    row->tie = st == AH_OK ? row_tie(row) : 0;
    return st;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* --- the run -------------------------------------------------------------- */

/* One row held back for the twin join (see hunt.h). Its bytes live in its
 * own store, reused from row to row. */
typedef struct qrow {
    ah_row row;
    ah_buf store;    /* the row's spans */
    uint32_t *rules; /* the row's rule indices */
    size_t rules_cap;
    ah_twin_key key;
    ah_buf canon;  /* canonical operation, for the key */
    size_t bytes;  /* what the row's spans take */
    bool released; /* handed out; kept only as join history */
    bool absorbed; /* joined into another row; never handed out */
} qrow;

#define JOIN_QUEUE_MAX 4096                 /* rows held for the join */
#define JOIN_QUEUE_BYTES ((size_t)64 << 20) /* and their bytes (raw included): the window's memory bound */
#define SLOT_KEEP_BYTES ((size_t)4096)      /* a slot leaving the window keeps at most this much */

#define BATCH_BYTES ((size_t)1 << 20) /* default batch_bytes: packed events handed to a worker at once */
#define BATCHES_PER_WORKER 2          /* batches in flight per worker: the producer's lead */
/* Default inline_bytes: a record this large is matched on the reading
 * thread instead of being copied into a batch, so a huge record stays at
 * two copies (the reader's and the row's), as without workers. */
#define INLINE_RECORD_BYTES ((size_t)4 << 20)
/* Correlation state is split by (rule, group key) into this many parts,
 * each replayed in time order by its own correlator, in parallel. Fixed,
 * not the thread count, so that the memory budget (a part's share) and so
 * every output are the same for any --threads. */
#define CORR_PARTS 8

/* The per-event half of ah_hunt_add (match, rows, observations) with its
 * own matcher and scratch: one per worker thread, or lane 0 inline when
 * the hunt has no workers. Its counts are added to the hunt's at finish. */
typedef struct lane {
    struct ah_hunt *h;
    ah_matcher *matcher;
    row_builder rb;
    const ah_rule **hitv;
    uint32_t *rulev; /* the rule indices of the row being built */
    struct piece {
        size_t at, len;
    } * piece;           /* where each rule's details stand in the row being built */
    ah_buf obs_text;     /* one encoded observation */
    uint64_t *rule_hits; /* per rule index */
    uint64_t hits, rows, observations, by_level[AH_LEVEL_CRITICAL + 1];
    const char *last_input, *last_entry; /* the span pointers last looked up (origin_id) */
    uint32_t last_origin;
    uint64_t seq;           /* the canonical position of the event being matched */
    uint64_t *corr_evicted; /* per rule: correlation groups evicted, over this lane's parts */
    ah_status status;
    /* a worker's thread and the event it unpacks */
    pthread_t thread;
    bool started;
    ah_event ev;
    ah_span *members;
    size_t members_cap;
    /* facts taught by this lane's hits (`teaches`), handed to the case
     * knowledge at finish (the store is not shared between threads) */
    ah_fact_sighting *taught;
    size_t ntaught, taught_cap;
} lane;

/* Packed events (ah_event_pack) on their way to a worker. */
typedef struct batch {
    ah_buf bytes;
    size_t *end; /* where each packed event ends in bytes */
    size_t n, cap;
    struct batch *next;
} batch;

struct ah_hunt {
    ah_hunt_options opt;
    const ah_ruleset *rs;
    ah_diag *diag;
    lane *lanes;             /* lanes[0] inline without workers; one per worker otherwise, and then
                                 one more (lanes[nworkers]) for huge records on the caller's thread */
    size_t nlanes, nworkers; /* lanes that match batches and replay correlation parts; workers */
    size_t nall;             /* lanes allocated */
    ah_sorter *sorter;
    ah_sorter *observations[CORR_PARTS]; /* by (rule, group); NULL without correlation rules */
    /* Workers: batches go from the producer (ah_hunt_add) to the queue, from
     * a worker back to the free list. `shared` guards the queue, the sorters
     * and the origins. */
    pthread_mutex_t shared;
    pthread_cond_t work, room;
    bool threads_ok; /* the mutex and conditions exist */
    batch *batches, *free_list, *queue, *queue_tail, *filling;
    size_t nbatches;
    size_t batch_bytes;  /* a batch is handed over once it holds this much */
    size_t inline_bytes; /* records from this size are matched on the caller's thread */
    bool closing;
    ah_status worker_status; /* the first failure of a worker */
    /* Inputs (path + archive entry) that observations came from: kept once
     * here and named by number in each observation, which otherwise would
     * carry the path over and over (see keep_observation). */
    struct origin {
        char *input, *entry;
    } * origins;
    size_t norigins, origins_cap;
    uint32_t *origin_slots; /* open addressing over origins by (input, entry): id, 0 empty */
    size_t origin_slots_cap;
    /* --all: record id (hash) -> correlation rules it contributed to, so the
     * event's own row links to the hit. Bounded by hits x AH_CORR_MAX_IDS. */
    struct link *links;
    size_t nlinks, links_cap;
    bool has_start; /* earliest and latest event time in the window (baselines) */
    ah_time start, end;
    ah_knowledge *know;  /* NULL when no rule has `routine`, or --no-suppress */
    uint64_t *rule_hits; /* per rule index: correlation hits, then every lane's at finish */
    ah_hunt_stats stats;
    size_t hitcap;
    /* leaving: the join window and the row handed out */
    qrow *q; /* ring of JOIN_QUEUE_MAX */
    size_t qhead, qlen;
    size_t qcur;   /* the next row to hand out (rows before it are history) */
    size_t qbytes; /* bytes of the rows in the window */
    bool sorted_end;
    row_builder out;
    ah_row out_row;
    ah_status out_status; /* the last render's: a row that lost bytes is not handed out */
    uint32_t *out_rules;
    ah_row_rule *out_info;
    int8_t *out_level; /* levels of out_rules as they apply to the row */
    bool *out_routine;
    size_t obs_part; /* partial: the observation part being handed out */
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

/* The sorters are shared by the workers. */
static ah_status sorter_add(ah_hunt *h, ah_sorter *s, const ah_row *row)
{
    if (h->nworkers)
        pthread_mutex_lock(&h->shared);
    ah_status st = ah_sorter_add(s, row);
    if (h->nworkers)
        pthread_mutex_unlock(&h->shared);
    return st;
}

/* Sightings a lane keeps for `teaches` (role grants are rare; hostile input is cut). */
#define TAUGHT_MAX ((size_t)1 << 16)

static bool escalating_rules(const ah_ruleset *rs)
{
    for (size_t r = 0; r < ah_ruleset_count(rs); r++)
        if (ah_rule_metadata(ah_ruleset_rule(rs, r))->escalate_facts)
            return true;
    return false;
}

static ah_status add_row(lane *l, ah_row *row)
{
    ah_status st = rb_finish(&l->rb, row);
    if (st != AH_OK)
        return st;
    row->tie = row_tie(row);
    row->seq = l->seq;
    l->rows++;
    return sorter_add(l->h, l->h->sorter, row);
}

/* The row of one event with the rules hitv[0..n) (n may be 0 with --all). */
static ah_status add_event_row(lane *l, const ah_event *ev, const ah_rule *const *hits, size_t n)
{
    ah_hunt *h = l->h;
    ah_row row;
    rb_begin(&l->rb);
    fill_event_columns(&row, ev, &l->rb, !h->opt.rows_without_raw);
    for (size_t i = 0; i < n; i++) {
        const ah_rule_meta *m = ah_rule_metadata(hits[i]);
        l->rulev[i] = (uint32_t)m->index;
        if ((int)m->level > row.level)
            row.level = (int8_t)m->level;
    }
    qsort(l->rulev, n, sizeof *l->rulev, cmp_u32);
    row.rules = n ? l->rulev : NULL;
    row.nrules = n;
    if (n) {
        /* Details of every rule, in rule order, each once. */
        ah_buf *text = &l->rb.text;
        size_t m0 = rb_mark(&l->rb);
        for (size_t i = 0; i < n; i++) {
            size_t before = text->len;
            if (before > m0)
                ah_buf_puts(text, " | ");
            size_t at = text->len;
            ah_status st = ah_rule_render_details(l->matcher, ah_ruleset_rule(h->rs, l->rulev[i]), ev, text);
            if (st == AH_ERR_NOMEM)
                return st;
            l->piece[i] = (struct piece){at, text->len - at};
            bool keep = l->piece[i].len > 0;
            for (size_t k = 0; keep && k < i; k++)
                keep = l->piece[k].len != l->piece[i].len ||
                       memcmp(text->data + l->piece[k].at, text->data + at, l->piece[i].len) != 0;
            if (!keep) {
                ah_buf_truncate(text, before);
                l->piece[i].len = 0;
            }
        }
        rb_close(&l->rb, AH_COL_DETAILS, m0);
    }
    if (ev->raw.n >= INLINE_RECORD_BYTES) /* its JSON trees would sit beside its row: one copy too many */
        ah_matcher_release(l->matcher);
    return add_row(l, &row);
}

static ah_status match_event(lane *l, const ah_event *ev)
{
    ah_hunt *h = l->h;
    size_t n = ah_matcher_match(l->matcher, ev, l->hitv, h->hitcap);
    if (n > h->hitcap)
        n = h->hitcap;
    if (h->know && ev->has_time) /* what a hit teaches does not depend on the output filters */
        for (size_t i = 0; i < n; i++) {
            unsigned facts = ah_rule_metadata(l->hitv[i])->teaches_facts;
            if (!facts || !ah_span_trim(ev->field[AH_F_TARGET]).n)
                continue;
            if (l->ntaught == l->taught_cap) {
                if (l->taught_cap >= TAUGHT_MAX) /* hostile input: the store counts the rest as dropped */
                    continue;
                ah_fact_sighting *v = ah_grow_array(l->taught, &l->taught_cap, 16, sizeof *v);
                if (!v)
                    return AH_ERR_NOMEM;
                l->taught = v;
            }
            l->taught[l->ntaught++] = ah_knowledge_sighting(facts, ev->field[AH_F_TARGET], ev->time);
        }
    /* keep the hits the filters select */
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const ah_rule_meta *m = ah_rule_metadata(l->hitv[i]);
        if (m->level >= h->opt.min_level && tag_selected(h->opt.tags, m))
            l->hitv[k++] = l->hitv[i];
    }
    n = k;
    for (size_t i = 0; i < n; i++) {
        const ah_rule_meta *m = ah_rule_metadata(l->hitv[i]);
        l->rule_hits[m->index]++;
        l->by_level[m->level]++;
        l->hits++;
    }
    if (!h->opt.per_rule)
        return n || h->opt.all ? add_event_row(l, ev, l->hitv, n) : AH_OK;
    if (!n && h->opt.all)
        return add_event_row(l, ev, NULL, 0);
    for (size_t i = 0; i < n; i++) {
        ah_status st = add_event_row(l, ev, &l->hitv[i], 1);
        if (st != AH_OK)
            return st;
    }
    return AH_OK;
}

/* --- correlation -------------------------------------------------------- */

#define LINKS_PER_RECORD 4

struct link {
    uint64_t hash; /* of the record id; 0 = empty slot */
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

/* Observations of one instant are replayed in content order (not in the
 * order they were read): the tie hashes what the observation says. A record
 * id says which record it is; only records without one need the rest. */
static uint64_t observation_tie(const ah_observation *o)
{
    const ah_span parts[] = {o->key, o->value,  o->record_id, o->user,  o->ip,
                             o->app, o->target, o->operation, o->input, o->entry};
    size_t nparts = o->record_id.n ? 3 : AH_ARRAY_LEN(parts);
    uint64_t h = 0x6f6273ull + o->rule_index * 0x9e3779b97f4a7c15ull + o->step + ((uint64_t)o->source << 32);
    for (size_t i = 0; i < nparts; i++)
        h = ah_hash64(parts[i].p ? parts[i].p : "", parts[i].n, h + i);
    return h;
}

/* The origins by content: the merge adds observations of many inputs in
 * time order, so a lookup must not scan them all. */
static size_t origin_slot(const ah_hunt *h, ah_span input, ah_span entry)
{
    size_t mask = h->origin_slots_cap - 1;
    size_t i =
        (size_t)ah_hash64(entry.p ? entry.p : "", entry.n, ah_hash64(input.p ? input.p : "", input.n, 0x6f72)) & mask;
    for (uint32_t id; (id = h->origin_slots[i]) != 0; i = (i + 1) & mask)
        if (ah_span_eq(input, h->origins[id - 1].input) && ah_span_eq(entry, h->origins[id - 1].entry))
            break;
    return i;
}

static uint32_t find_origin(const ah_hunt *h, ah_span input, ah_span entry)
{
    return h->origin_slots_cap ? h->origin_slots[origin_slot(h, input, entry)] : 0;
}

/* Room in the index for one more origin (at most half full); false when it cannot grow. */
static bool index_room(ah_hunt *h)
{
    if ((h->norigins + 1) * 2 <= h->origin_slots_cap)
        return true;
    size_t ncap = h->origin_slots_cap ? h->origin_slots_cap * 2 : 64;
    uint32_t *ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return false;
    free(h->origin_slots);
    h->origin_slots = ns;
    h->origin_slots_cap = ncap;
    for (size_t i = 0; i < h->norigins; i++)
        h->origin_slots[origin_slot(h, ah_span_cstr(h->origins[i].input), ah_span_cstr(h->origins[i].entry))] =
            (uint32_t)i + 1;
    return true;
}

/* The number (1-based) of the origin input/entry, added when new. The
 * spans of one input keep their pointers, so the last lookup answers
 * almost every call; 0 on allocation failure (the observation then keeps
 * its strings). */
static uint32_t origin_id(lane *l, ah_span input, ah_span entry)
{
    if (l->last_origin && input.p == l->last_input && entry.p == l->last_entry)
        return l->last_origin;
    ah_hunt *h = l->h;
    if (h->nworkers)
        pthread_mutex_lock(&h->shared);
    uint32_t id = find_origin(h, input, entry);
    if (!id && h->norigins < UINT32_MAX - 1 && index_room(h)) {
        if (h->norigins == h->origins_cap) {
            struct origin *o = ah_grow_array(h->origins, &h->origins_cap, 16, sizeof *o);
            if (o)
                h->origins = o;
        }
        char *in = ah_span_strdup(input), *en = ah_span_strdup(entry);
        if (h->norigins < h->origins_cap && in && en) {
            h->origins[h->norigins++] = (struct origin){in, en};
            id = (uint32_t)h->norigins;
            h->origin_slots[origin_slot(h, input, entry)] = id;
        } else {
            free(in);
            free(en);
        }
    }
    if (h->nworkers)
        pthread_mutex_unlock(&h->shared);
    if (id) {
        l->last_input = input.p;
        l->last_entry = entry.p;
        l->last_origin = id;
    }
    return id;
}

static void keep_observation(void *ud, const ah_observation *obs)
{
    lane *l = ud;
    ah_observation o = *obs;
    if ((o.origin = origin_id(l, obs->input, obs->entry)) != 0)
        o.input = o.entry = AH_SPAN_NULL;
    ah_buf_reset(&l->obs_text);
    ah_status st = ah_observation_encode(&o, &l->obs_text);
    ah_row row = {.has_time = true,
                  .time = obs->time,
                  .tie = observation_tie(obs),
                  .seq = l->seq,
                  .level = AH_ROW_NO_LEVEL,
                  .raw = ah_buf_span(&l->obs_text)};
    l->observations++;
    size_t part = ah_hash64(obs->key.p ? obs->key.p : "", obs->key.n, obs->rule_index) % CORR_PARTS;
    if (st == AH_OK)
        st = sorter_add(l->h, l->h->observations[part], &row);
    if (st != AH_OK && l->status == AH_OK)
        l->status = st;
}

static void put_json_member(ah_buf *b, const char *key, ah_span v, bool comma)
{
    ah_buf_printf(b, "%s\"%s\":", comma ? "," : "", key);
    ah_json_write_string(b, v);
}

/* One correlation hit -> one timeline row. raw describes the correlation
 * (it is not one record), with every contributing record id listed. */
/* A correlation part being replayed on a lane, numbering its hits. */
typedef struct corr_part {
    lane *l;
    size_t part;
    uint64_t hits;
} corr_part;

static void add_corr_row(void *ud, const ah_corr_hit *hit)
{
    corr_part *cp = ud;
    lane *l = cp->l;
    ah_hunt *h = l->h;
    const ah_rule_meta *m = ah_rule_metadata(hit->rule);
    ah_level level = m->level;
    bool escalated = m->escalate_facts && (hit->facts & m->escalate_facts) && m->escalate_level > level;
    if (escalated)
        level = m->escalate_level;
    if (level < h->opt.min_level || !tag_selected(h->opt.tags, m))
        return;
    l->rule_hits[m->index]++;
    l->by_level[level]++;
    l->hits++;
    if (h->opt.all) {
        if (h->nworkers)
            pthread_mutex_lock(&h->shared);
        for (size_t i = 0; i < hit->nrecord_ids; i++)
            add_link(h, hit->record_ids[i], (uint32_t)m->index);
        if (h->nworkers)
            pthread_mutex_unlock(&h->shared);
    }
    row_builder *rb = &l->rb;
    rb_begin(rb);
    l->rulev[0] = (uint32_t)m->index;
    ah_row row = {.has_time = true,
                  .time = hit->time,
                  .input_record = hit->input_record,
                  .kind = AH_ROW_CORRELATION,
                  .level = (int8_t)level,
                  .rules = l->rulev,
                  .nrules = 1};
    row.col[AH_COL_SOURCE] = ah_span_cstr(ah_source_name(hit->source));
    row.col[AH_COL_OPERATION] = hit->operation;
    row.col[AH_COL_USER] = hit->user;
    row.col[AH_COL_IP] = hit->ip;
    row.col[AH_COL_APP] = hit->app;
    row.col[AH_COL_TARGET] = hit->target;
    row.col[AH_COL_DETAILS] = hit->details;
    size_t m0 = rb_mark(rb);
    for (size_t i = 0; i < hit->nrecord_ids; i++) {
        if (i)
            ah_buf_putc(&rb->text, ' ');
        ah_buf_append_span(&rb->text, hit->record_ids[i].n ? hit->record_ids[i] : ah_span_cstr("-"));
    }
    if (hit->records > hit->nrecord_ids) /* records, not count: a twin pair counts once but has two ids */
        ah_buf_printf(&rb->text, " (+%llu more)", (unsigned long long)(hit->records - hit->nrecord_ids));
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
    ah_buf_printf(&rb->text, ",\"value\":%.17g,\"count\":%llu,\"records\":%llu,\"continues\":%s", hit->value,
                  (unsigned long long)hit->count, (unsigned long long)hit->records, hit->continues ? "true" : "false");
    put_json_member(&rb->text, "first_time", ah_span_cstr(ah_time_format(hit->time, t1)), true);
    put_json_member(&rb->text, "last_time", ah_span_cstr(ah_time_format(hit->last_time, t2)), true);
    if (escalated) /* which fact raised the row above the rule's severity */
        ah_buf_printf(&rb->text, ",\"escalated\":{\"from\":\"%s\",\"when_any\":\"admin\"}", ah_level_name(m->level));
    ah_buf_puts(&rb->text, ",\"record_ids\":[");
    for (size_t i = 0; i < hit->nrecord_ids; i++) {
        if (i)
            ah_buf_putc(&rb->text, ',');
        ah_json_write_string(&rb->text, hit->record_ids[i]);
    }
    ah_buf_puts(&rb->text, "]}}");
    size_t raw_at = m0, raw_len = rb->text.len - m0;
    ah_buf_putc(&rb->text, '\0');
    ah_status st = rb_finish(rb, &row);
    if (st != AH_OK) {
        if (l->status == AH_OK)
            l->status = st;
        return;
    }
    row.raw = ah_span_make(rb->text.data + raw_at, raw_len);
    /* The group and the ids say which hit this is; the time is in the key. */
    row.tie = ah_hash64(raw_at ? rb->text.data + raw_at : "", raw_len, 0x636f7272ull);
    row.seq = ((uint64_t)(cp->part + 1) << 48) | ++cp->hits; /* the part replays in one order */
    l->rows++;
    st = sorter_add(h, h->sorter, &row);
    if (st != AH_OK && l->status == AH_OK)
        l->status = st;
}

/* Replay one part's observations in time order through its correlator. */
static ah_status correlate_part(lane *l, size_t part)
{
    ah_hunt *h = l->h;
    ah_sorter *obs_sorter = h->observations[part];
    ah_status st = ah_sorter_finish(obs_sorter);
    /* the correlator does not warn: its evictions are summed over the parts and reported once */
    ah_correlator *c = st == AH_OK ? ah_correlator_new(h->rs, share(h, 1) / CORR_PARTS, NULL) : NULL;
    if (!c)
        return st != AH_OK ? st : AH_ERR_NOMEM;
    if (h->has_start)
        ah_correlator_set_data_start(c, h->start);
    if (h->opt.has_baseline)
        ah_correlator_set_baseline(c, h->opt.baseline_from, h->opt.baseline_to);
    corr_part cp = {l, part, 0};
    ah_row row;
    while (l->status == AH_OK && (st = ah_sorter_next(obs_sorter, &row)) == AH_OK) {
        ah_observation obs;
        if ((st = ah_observation_decode(row.raw, &obs)) == AH_OK && obs.origin) {
            if (obs.origin > h->norigins) {
                st = AH_ERR_RECORD;
                break;
            }
            obs.input = ah_span_cstr(h->origins[obs.origin - 1].input);
            obs.entry = ah_span_cstr(h->origins[obs.origin - 1].entry);
        }
        if (st == AH_OK && ah_knowledge_escalates(h->know)) /* the store is complete and read-only by now */
            obs.facts = ah_knowledge_facts(h->know, obs.user);
        if (st != AH_OK || (st = ah_correlator_feed(c, &obs, add_corr_row, &cp)) != AH_OK)
            break;
    }
    if (st == AH_END)
        st = ah_correlator_finish(c, add_corr_row, &cp);
    for (size_t r = 0; r < h->hitcap - 1; r++) {
        ah_corr_rule_stats rst;
        ah_correlator_rule_stats(c, r, &rst);
        l->corr_evicted[r] += rst.evicted;
    }
    ah_correlator_free(c);
    return st;
}

/* A lane replays parts lane, lane + nlanes, ... */
static void *correlate_lane(void *arg)
{
    lane *l = arg;
    size_t me = (size_t)(l - l->h->lanes);
    for (size_t part = me; part < CORR_PARTS && l->status == AH_OK; part += l->h->nlanes) {
        ah_status st = correlate_part(l, part);
        if (st != AH_OK && l->status == AH_OK)
            l->status = st;
    }
    return NULL;
}

static void correlate(ah_hunt *h)
{
    size_t started = 0;
    for (size_t i = 1; i < h->nlanes; i++) { /* lane 0 works on this thread */
        if (pthread_create(&h->lanes[i].thread, NULL, correlate_lane, &h->lanes[i]) != 0)
            break;
        h->lanes[i].started = true;
        started++;
    }
    correlate_lane(&h->lanes[0]);
    for (size_t i = 1; i <= started; i++) {
        pthread_join(h->lanes[i].thread, NULL);
        h->lanes[i].started = false;
    }
    for (size_t i = started + 1; i < h->nlanes; i++) /* threads that did not start: their parts here */
        correlate_lane(&h->lanes[i]);
    for (size_t r = 0; r + 1 < h->hitcap; r++) {
        uint64_t evicted = 0;
        for (size_t i = 0; i < h->nlanes; i++)
            evicted += h->lanes[i].corr_evicted[r];
        h->stats.corr_evicted += evicted;
        if (evicted)
            ah_diag_report(h->diag, AH_SEV_WARNING, NULL,
                           "correlation rule %s lost state: %llu group(s) evicted at the memory budget (%zu bytes); "
                           "it may have missed hits (raise --memory)",
                           ah_rule_metadata(ah_ruleset_rule(h->rs, r))->id, (unsigned long long)evicted, share(h, 1));
    }
}

/* --- lanes and workers ---------------------------------------------------- */

static bool lane_init(lane *l, ah_hunt *h)
{
    l->h = h;
    l->matcher = ah_matcher_new(h->rs);
    ah_buf_init(&l->rb.text, 0);
    ah_buf_init(&l->obs_text, 0);
    l->hitv = calloc(h->hitcap, sizeof *l->hitv);
    l->rulev = calloc(h->hitcap, sizeof *l->rulev);
    l->piece = calloc(h->hitcap, sizeof *l->piece);
    l->rule_hits = calloc(h->hitcap, sizeof *l->rule_hits);
    l->corr_evicted = calloc(h->hitcap, sizeof *l->corr_evicted);
    return l->matcher && l->hitv && l->rulev && l->piece && l->rule_hits && l->corr_evicted;
}

static void lane_free(lane *l)
{
    ah_matcher_free(l->matcher);
    ah_buf_free(&l->rb.text);
    ah_buf_free(&l->obs_text);
    free(l->hitv);
    free(l->rulev);
    free(l->piece);
    free(l->rule_hits);
    free(l->corr_evicted);
    free(l->members);
    free(l->taught);
}

/* The per-event half of ah_hunt_add, on whichever thread holds the lane. */
static void lane_event(lane *l, const ah_event *ev)
{
    if (l->status != AH_OK)
        return;
    /* between rows of equal content, the event's place in the canonical input order */
    l->seq = ((uint64_t)(ev->origin ? ev->origin->input_no : 0) << 40) | (ev->record_no & (((uint64_t)1 << 40) - 1));
    l->status = match_event(l, ev);
    if (l->status == AH_OK && l->h->observations[0])
        ah_matcher_observe(l->matcher, ev, keep_observation, l);
    if (l->status == AH_OK) /* a rule may have missed for want of memory */
        l->status = ah_matcher_status(l->matcher);
}

static void *worker_main(void *arg)
{
    lane *l = arg;
    ah_hunt *h = l->h;
    pthread_mutex_lock(&h->shared);
    for (;;) {
        while (!h->queue && !h->closing)
            pthread_cond_wait(&h->work, &h->shared);
        batch *b = h->queue;
        if (!b)
            break; /* closing and drained */
        if (!(h->queue = b->next))
            h->queue_tail = NULL;
        pthread_mutex_unlock(&h->shared);
        size_t at = 0;
        for (size_t i = 0; i < b->n; at = b->end[i++]) {
            if (!ah_event_unpack(ah_span_make(b->bytes.data + at, b->end[i] - at), &l->ev, &l->members,
                                 &l->members_cap)) {
                if (l->status == AH_OK)
                    l->status = AH_ERR_NOMEM; /* the bytes are ours: only the member array can fail */
                continue;
            }
            lane_event(l, &l->ev);
        }
        pthread_mutex_lock(&h->shared);
        if (l->status != AH_OK && h->worker_status == AH_OK)
            h->worker_status = l->status;
        b->next = h->free_list;
        h->free_list = b;
        pthread_cond_signal(&h->room);
    }
    pthread_mutex_unlock(&h->shared);
    return NULL;
}

/* A batch to fill: a free one, after waiting for a worker to give one back;
 * *worker_status: the first failure of a worker so far (read here, once a
 * batch, not per event). */
static batch *take_batch(ah_hunt *h, ah_status *worker_status)
{
    pthread_mutex_lock(&h->shared);
    while (!h->free_list)
        pthread_cond_wait(&h->room, &h->shared);
    batch *b = h->free_list;
    h->free_list = b->next;
    *worker_status = h->worker_status;
    pthread_mutex_unlock(&h->shared);
    if (b->bytes.cap > 4 * h->batch_bytes) { /* it carried a huge record: give the memory back */
        ah_buf_free(&b->bytes);
        ah_buf_init(&b->bytes, 0);
    }
    ah_buf_reset(&b->bytes);
    b->n = 0;
    return b;
}

static void submit_batch(ah_hunt *h, batch *b)
{
    b->next = NULL;
    pthread_mutex_lock(&h->shared);
    if (h->queue_tail)
        h->queue_tail->next = b;
    else
        h->queue = b;
    h->queue_tail = b;
    pthread_cond_signal(&h->work);
    pthread_mutex_unlock(&h->shared);
}

/* Hand the rest to the workers and wait until they are done. */
static void stop_workers(ah_hunt *h)
{
    if (!h->nworkers)
        return;
    if (h->filling && h->filling->n)
        submit_batch(h, h->filling);
    else if (h->filling) {
        h->filling->next = h->free_list;
        h->free_list = h->filling;
    }
    h->filling = NULL;
    pthread_mutex_lock(&h->shared);
    h->closing = true;
    pthread_cond_broadcast(&h->work);
    pthread_mutex_unlock(&h->shared);
    for (size_t i = 0; i < h->nlanes; i++)
        if (h->lanes[i].started) {
            pthread_join(h->lanes[i].thread, NULL);
            h->lanes[i].started = false;
        }
}

static bool start_workers(ah_hunt *h)
{
    if (pthread_mutex_init(&h->shared, NULL) != 0)
        return false;
    if (pthread_cond_init(&h->work, NULL) != 0) {
        pthread_mutex_destroy(&h->shared);
        return false;
    }
    if (pthread_cond_init(&h->room, NULL) != 0) {
        pthread_cond_destroy(&h->work);
        pthread_mutex_destroy(&h->shared);
        return false;
    }
    h->threads_ok = true;
    size_t nbatches = h->nworkers * BATCHES_PER_WORKER + 1;
    if (!(h->batches = calloc(nbatches, sizeof *h->batches)))
        return false;
    for (size_t i = 0; i < nbatches; i++) {
        ah_buf_init(&h->batches[i].bytes, 0);
        h->batches[i].next = h->free_list;
        h->free_list = &h->batches[i];
    }
    h->nbatches = nbatches;
    for (size_t i = 0; i < h->nlanes; i++) {
        if (pthread_create(&h->lanes[i].thread, NULL, worker_main, &h->lanes[i]) != 0)
            return false;
        h->lanes[i].started = true;
    }
    return true;
}

/* The lanes' counts into the hunt's, once the workers are done. */
static void add_lane_counts(ah_hunt *h)
{
    for (size_t i = 0; i < h->nall; i++) {
        lane *l = &h->lanes[i];
        for (size_t r = 0; r < h->hitcap; r++)
            h->rule_hits[r] += l->rule_hits[r];
        for (int v = 0; v <= AH_LEVEL_CRITICAL; v++)
            h->stats.by_level[v] += l->by_level[v];
        h->stats.hits += l->hits;
        h->stats.rows += l->rows;
        h->stats.observations += l->observations;
    }
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
    h->sorter = ah_sorter_new(corr ? share(h, 2) : opt->memory, opt->tmpdir, diag);
    for (size_t p = 0; corr && p < CORR_PARTS; p++)
        if (!(h->observations[p] = ah_sorter_new(share(h, 1) / CORR_PARTS, opt->tmpdir, diag)))
            corr = false; /* reported below as out of memory */
    h->hitcap = ah_ruleset_count(rs) + 1;
    h->nworkers = opt->threads > 1 ? opt->threads : 0;
    h->nlanes = h->nworkers ? h->nworkers : 1;
    h->nall = h->nworkers ? h->nworkers + 1 : 1;
    h->batch_bytes = opt->batch_bytes ? opt->batch_bytes : BATCH_BYTES;
    h->inline_bytes = opt->inline_bytes ? opt->inline_bytes : INLINE_RECORD_BYTES;
    h->lanes = calloc(h->nall, sizeof *h->lanes);
    bool lanes_ok = h->lanes != NULL;
    for (size_t i = 0; lanes_ok && i < h->nall; i++)
        lanes_ok = lane_init(&h->lanes[i], h);
    /* a joined row holds the rules of both copies and their links */
    h->out_rules = calloc(2 * h->hitcap + 2 * LINKS_PER_RECORD, sizeof *h->out_rules);
    h->out_info = calloc(2 * h->hitcap + 2 * LINKS_PER_RECORD, sizeof *h->out_info);
    h->out_level = calloc(2 * h->hitcap + 2 * LINKS_PER_RECORD, sizeof *h->out_level);
    h->out_routine = calloc(2 * h->hitcap + 2 * LINKS_PER_RECORD, sizeof *h->out_routine);
    h->rule_hits = calloc(h->hitcap, sizeof *h->rule_hits);
    h->q = calloc(JOIN_QUEUE_MAX, sizeof *h->q);
    bool know_failed = false;
    if (!opt->no_suppress || escalating_rules(rs)) { /* escalation raises, it is not suppression */
        h->know = ah_knowledge_new(rs, 0);
        know_failed =
            !h->know || (opt->admin_accounts && ah_knowledge_set_admins(h->know, opt->admin_accounts) != AH_OK);
        if (h->know && !ah_knowledge_wanted(h->know)) {
            ah_knowledge_free(h->know); /* no rule asks: learning would cost for nothing */
            h->know = NULL;
        }
    }
    ah_buf_init(&h->out.text, 0);
    for (size_t i = 0; h->q && i < JOIN_QUEUE_MAX; i++) {
        ah_buf_init(&h->q[i].store, 0);
        ah_buf_init(&h->q[i].canon, 0);
    }
    h->stats.by_rule = h->rule_hits;
    if (!lanes_ok || !h->sorter || !h->out_rules || !h->out_info || !h->out_level || !h->out_routine || know_failed ||
        !h->rule_hits || !h->q || (ah_ruleset_has_correlations(rs) && !h->observations[CORR_PARTS - 1]) ||
        (h->nworkers && !start_workers(h))) {
        ah_hunt_free(h);
        return NULL;
    }
    return h;
}

void ah_hunt_free(ah_hunt *h)
{
    if (!h)
        return;
    stop_workers(h);
    for (size_t i = 0; h->lanes && i < h->nall; i++)
        lane_free(&h->lanes[i]);
    free(h->lanes);
    for (size_t i = 0; i < h->nbatches; i++) {
        ah_buf_free(&h->batches[i].bytes);
        free(h->batches[i].end);
    }
    free(h->batches);
    if (h->threads_ok) {
        pthread_cond_destroy(&h->room);
        pthread_cond_destroy(&h->work);
        pthread_mutex_destroy(&h->shared);
    }
    ah_sorter_free(h->sorter);
    for (size_t p = 0; p < CORR_PARTS; p++)
        ah_sorter_free(h->observations[p]);
    ah_knowledge_free(h->know);
    for (size_t i = 0; i < h->norigins; i++) {
        free(h->origins[i].input);
        free(h->origins[i].entry);
    }
    free(h->origins);
    free(h->origin_slots);
    free(h->links);
    ah_buf_free(&h->out.text);
    if (h->q)
        for (size_t i = 0; i < JOIN_QUEUE_MAX; i++) {
            ah_buf_free(&h->q[i].store);
            ah_buf_free(&h->q[i].canon);
            free(h->q[i].rules);
        }
    free(h->q);
    free(h->out_rules);
    free(h->out_info);
    free(h->out_level);
    free(h->out_routine);
    free(h->rule_hits);
    free(h);
}

/* Pack the event into the batch being filled; hand the batch over when full. */
static ah_status queue_event(ah_hunt *h, const ah_event *ev)
{
    if (!h->filling) {
        ah_status worker_status;
        h->filling = take_batch(h, &worker_status);
        if (worker_status != AH_OK)
            return worker_status;
    }
    batch *b = h->filling;
    if (b->n == b->cap) {
        size_t *e = ah_grow_array(b->end, &b->cap, 256, sizeof *e);
        if (!e)
            return AH_ERR_NOMEM;
        b->end = e;
    }
    ah_status st = ah_event_pack(ev, &b->bytes);
    if (st != AH_OK)
        return st;
    b->end[b->n++] = b->bytes.len;
    if (b->bytes.len >= h->batch_bytes) {
        submit_batch(h, b);
        h->filling = NULL;
    }
    return AH_OK;
}

bool ah_hunt_count_event(ah_hunt *h, bool has_time, ah_time time)
{
    h->stats.events++;
    ah_event probe = {.has_time = has_time, .time = time};
    if (!in_window(&h->opt, &probe)) {
        h->stats.events_outside++;
        return false;
    }
    if (has_time) {
        if (!h->has_start || ah_time_cmp(time, h->start) < 0)
            h->start = time;
        if (!h->has_start || ah_time_cmp(time, h->end) > 0)
            h->end = time;
        h->has_start = true;
    }
    return true;
}

ah_status ah_hunt_add(ah_hunt *h, const ah_event *ev)
{
    if (!ah_hunt_count_event(h, ev->has_time, ev->time))
        return AH_OK;
    /* What learns from every event stays on this thread, in input order:
     * the names and the case knowledge (their budgets fill in one order). */
    if (h->opt.names)
        ah_names_learn(h->opt.names, ev); /* every event of the run teaches names, in the window or not */
    if (h->know)
        ah_knowledge_learn(h->know, ev);
    if (h->nworkers &&
        ev->raw.n + (ev->body.p < ev->raw.p || ev->body.p >= ev->raw.p + ev->raw.n ? ev->body.n : 0) < h->inline_bytes)
        return queue_event(h, ev);
    lane *l = &h->lanes[h->nworkers]; /* without workers lanes[0]; with them, the caller's own lane */
    lane_event(l, ev);
    return l->status;
}

/* The learning period of the routine facts: --baseline, else the first days
 * of the data when the data reaches well past them (a short case is mostly
 * intrusion: learning from it would call the intrusion routine). */
static void fix_routine_baseline(ah_hunt *h)
{
    const int64_t day = 86400;
    if (!h->know)
        return;
    if (h->opt.has_baseline) {
        h->stats.routine_baseline = 1;
        h->stats.routine_from = h->opt.baseline_from;
        h->stats.routine_to = h->opt.baseline_to;
    } else if (h->has_start && h->end.sec - h->start.sec >= 2 * AH_ROUTINE_BASELINE_DAYS * day) {
        h->stats.routine_baseline = 2;
        h->stats.routine_from = h->start;
        h->stats.routine_to = (ah_time){h->start.sec + AH_ROUTINE_BASELINE_DAYS * day - 1, h->start.nsec};
    } else {
        return;
    }
    ah_knowledge_set_baseline(h->know, h->stats.routine_from, h->stats.routine_to);
}

static ah_status lanes_status(const ah_hunt *h)
{
    for (size_t i = 0; i < h->nall; i++)
        if (h->lanes[i].status != AH_OK)
            return h->lanes[i].status;
    return AH_OK;
}

ah_status ah_hunt_finish(ah_hunt *h)
{
    stop_workers(h);
    ah_status st = lanes_status(h);
    if (st == AH_OK) {
        for (size_t i = 0; h->know && i < h->nall; i++) /* a set with the earliest times: lane order does not matter */
            for (size_t j = 0; j < h->lanes[i].ntaught; j++)
                ah_knowledge_add_sighting(h->know, &h->lanes[i].taught[j]);
        fix_routine_baseline(h);
        if (h->know) {
            ah_knowledge_stats ks;
            ah_knowledge_get_stats(h->know, &ks);
            h->stats.knowledge_dropped = ks.dropped;
        }
        if (h->observations[0] && !h->opt.partial)
            correlate(h);
        st = lanes_status(h);
    }
    add_lane_counts(h);
    for (size_t p = 0; st == AH_OK && h->opt.partial && p < CORR_PARTS && h->observations[p]; p++)
        st = ah_sorter_finish(h->observations[p]);
    return st == AH_OK ? ah_sorter_finish(h->sorter) : st;
}

/* --- partials: the hunt cut at its sorters (docs/scale-out.md) ----------- */

ah_status ah_hunt_partial_row(ah_hunt *h, ah_row *row)
{
    if (!h->opt.partial)
        return AH_ERR_USAGE;
    return ah_sorter_next(h->sorter, row);
}

ah_status ah_hunt_partial_observation(ah_hunt *h, ah_observation *obs, uint64_t *seq)
{
    if (!h->opt.partial)
        return AH_ERR_USAGE;
    for (; h->obs_part < CORR_PARTS && h->observations[h->obs_part]; h->obs_part++) {
        ah_row row;
        ah_status st = ah_sorter_next(h->observations[h->obs_part], &row);
        if (st == AH_END)
            continue;
        if (st != AH_OK)
            return st;
        if ((st = ah_observation_decode(row.raw, obs)) != AH_OK)
            return st;
        if (obs->origin) {
            if (obs->origin > h->norigins)
                return AH_ERR_RECORD;
            obs->input = ah_span_cstr(h->origins[obs->origin - 1].input);
            obs->entry = ah_span_cstr(h->origins[obs->origin - 1].entry);
            obs->origin = 0;
        }
        *seq = row.seq;
        return AH_OK;
    }
    return AH_END;
}

ah_status ah_hunt_add_row(ah_hunt *h, const ah_row *row)
{
    if (row->kind != AH_ROW_EVENT)
        return AH_ERR_USAGE; /* correlation rows are made by the replay */
    for (size_t i = 0; i < row->nrules; i++) {
        if (row->rules[i] >= h->hitcap - 1)
            return AH_ERR_RECORD;
        const ah_rule_meta *m = ah_rule_metadata(ah_ruleset_rule(h->rs, row->rules[i]));
        h->rule_hits[m->index]++;
        h->stats.by_level[m->level]++;
        h->stats.hits++;
    }
    h->stats.rows++;
    return ah_sorter_add(h->sorter, row);
}

ah_status ah_hunt_add_observation(ah_hunt *h, const ah_observation *obs, uint64_t seq)
{
    if (!h->observations[0])
        return AH_ERR_USAGE;
    if (obs->rule_index >= h->hitcap - 1)
        return AH_ERR_RECORD;
    lane *l = &h->lanes[h->nworkers];
    l->seq = seq;
    l->last_origin = 0; /* the spans are the caller's buffer: compare them by content */
    ah_observation o = *obs;
    o.rule = ah_ruleset_rule(h->rs, obs->rule_index);
    keep_observation(l, &o);
    ah_status st = l->status;
    l->last_origin = 0;
    return st;
}

ah_knowledge *ah_hunt_knowledge(ah_hunt *h) { return h->know; }

/* --- leaving: the join window --------------------------------------------- */

static qrow *qat(ah_hunt *h, size_t i) { return &h->q[(h->qhead + i) % JOIN_QUEUE_MAX]; }

static size_t span_bytes(ah_span s) { return s.p ? s.n + 1 : 0; }

static ah_span store_span(ah_buf *b, ah_span s)
{
    if (!s.p)
        return AH_SPAN_NULL;
    const char *at = b->data + b->len;
    ah_buf_append(b, s.p, s.n);
    ah_buf_putc(b, '\0');
    return ah_span_make(at, s.n);
}

/* Copy a sorted row (valid only until the sorter's next call) into a slot. */
static ah_status qrow_take(qrow *q, const ah_row *src, size_t *bytes)
{
    size_t need = span_bytes(src->raw) + span_bytes(src->related_raw) + span_bytes(src->join_id);
    for (int c = 0; c < AH_COL_COUNT; c++)
        need += span_bytes(src->col[c]);
    *bytes = need;
    if (q->store.cap > 2 * need + SLOT_KEEP_BYTES) { /* a large row held here before: give it back */
        ah_buf_free(&q->store);
        ah_buf_init(&q->store, 0);
    }
    ah_buf_reset(&q->store);
    if (ah_buf_reserve(&q->store, need) != AH_OK)
        return AH_ERR_NOMEM;
    if (src->nrules > q->rules_cap) {
        uint32_t *r = realloc(q->rules, src->nrules * sizeof *r);
        if (!r)
            return AH_ERR_NOMEM;
        q->rules = r;
        q->rules_cap = src->nrules;
    }
    q->row = *src;
    for (int c = 0; c < AH_COL_COUNT; c++)
        q->row.col[c] = store_span(&q->store, src->col[c]);
    q->row.raw = store_span(&q->store, src->raw);
    q->row.related_raw = store_span(&q->store, src->related_raw);
    q->row.join_id = store_span(&q->store, src->join_id);
    if (src->nrules)
        memcpy(q->rules, src->rules, src->nrules * sizeof *q->rules);
    q->row.rules = q->rules;
    q->released = q->absorbed = false;
    memset(&q->key, 0, sizeof q->key);
    q->key.cls = q->row.kind == AH_ROW_EVENT && q->row.has_time ? (ah_twin_class)q->row.join_class : AH_TWIN_NONE;
    if (q->key.cls != AH_TWIN_NONE) {
        ah_buf_reset(&q->canon);
        if (ah_opcanon(q->row.col[AH_COL_OPERATION], &q->canon) != AH_OK)
            return AH_ERR_NOMEM;
        q->key.source = ah_source_from_name(q->row.col[AH_COL_SOURCE]);
        q->key.time = q->row.time;
        q->key.op_canon = ah_buf_span(&q->canon);
        q->key.user = ah_span_trim(q->row.col[AH_COL_USER]);
        q->key.ip = ah_span_trim(q->row.col[AH_COL_IP]);
        q->key.app_id = ah_span_trim(q->row.col[AH_COL_APP_ID]);
        q->key.target = ah_span_trim(q->row.col[AH_COL_TARGET]);
        q->key.result = (ah_result)q->row.result;
        q->key.correlation_id = ah_span_trim(q->row.join_id);
    }
    return AH_OK;
}

static bool same_rules(const qrow *a, const qrow *b)
{
    return a->row.nrules == b->row.nrules &&
           (!a->row.nrules || !memcmp(a->rules, b->rules, a->row.nrules * sizeof *a->rules));
}

static int64_t ns_between(ah_time a, ah_time b) { return (b.sec - a.sec) * 1000000000LL + (b.nsec - a.nsec); }

static bool may_pair(const ah_hunt *h, const qrow *a, const qrow *b)
{
    if (b->absorbed || !ah_twin_match(&a->key, &b->key))
        return false;
    /* one row per rule: only the rows of the same rule are a pair */
    return !h->opt.per_rule || same_rules(a, b);
}

/* Rows of the window that could be x's twin (the window is in time order,
 * so the scan stops one join window either side); *one is the last found. */
static size_t candidates(ah_hunt *h, size_t x, size_t *one)
{
    const qrow *a = qat(h, x);
    size_t n = 0;
    for (size_t i = x; i-- > 0;) {
        const qrow *b = qat(h, i);
        if (!b->row.has_time || ns_between(b->row.time, a->row.time) > AH_TWIN_WINDOW_NS)
            break;
        if (may_pair(h, a, b)) {
            n++;
            *one = i;
        }
    }
    for (size_t i = x + 1; i < h->qlen; i++) {
        const qrow *b = qat(h, i);
        if (ns_between(a->row.time, b->row.time) > AH_TWIN_WINDOW_NS)
            break;
        if (may_pair(h, a, b)) {
            n++;
            *one = i;
        }
    }
    return n;
}

/* Full in rows or in bytes; one row always fits, however large. */
static bool window_full(const ah_hunt *h)
{
    return h->qlen == JOIN_QUEUE_MAX || (h->qbytes > JOIN_QUEUE_BYTES && h->qlen > 1);
}

/* Fill the window: every row up to 2 windows after the next row to hand out
 * (a candidate's own candidates reach that far), dropping history older
 * than 2 windows before it. */
static ah_status fill_window(ah_hunt *h, size_t *cur)
{
    for (;;) {
        while (*cur < h->qlen && qat(h, *cur)->released)
            (*cur)++;
        if (*cur == h->qlen && h->sorted_end) {
            return AH_END;
        }
        while (*cur > 0 &&
               (*cur == h->qlen || !qat(h, 0)->row.has_time || !qat(h, *cur)->row.has_time ||
                ns_between(qat(h, 0)->row.time, qat(h, *cur)->row.time) > 2 * AH_TWIN_WINDOW_NS || window_full(h))) {
            qrow *old = qat(h, 0);
            h->qbytes -= old->bytes;
            if (old->store.cap > SLOT_KEEP_BYTES) { /* the ring keeps little of what it held */
                ah_buf_free(&old->store);
                ah_buf_init(&old->store, 0);
            }
            h->qhead = (h->qhead + 1) % JOIN_QUEUE_MAX;
            h->qlen--;
            (*cur)--;
        }
        if (h->sorted_end)
            return AH_OK;
        if (*cur < h->qlen) {
            const qrow *head = qat(h, *cur), *last = qat(h, h->qlen - 1);
            bool seen_enough =
                !head->row.has_time ||
                (last->row.has_time && ns_between(head->row.time, last->row.time) > 2 * AH_TWIN_WINDOW_NS);
            if (seen_enough)
                return AH_OK;
            if (window_full(h)) {
                h->stats.join_window_full++;
                return AH_OK;
            }
        }
        ah_row r;
        ah_status st = ah_sorter_next(h->sorter, &r);
        if (st == AH_END) {
            h->sorted_end = true;
            continue;
        }
        if (st != AH_OK)
            return st;
        qrow *slot = qat(h, h->qlen);
        if ((st = qrow_take(slot, &r, &slot->bytes)) != AH_OK)
            return st;
        h->qbytes += slot->bytes;
        h->qlen++;
    }
}

/* The twin of the row at cur, when each is the other's only candidate. */
static qrow *find_twin(ah_hunt *h, size_t cur)
{
    if (h->opt.no_join || qat(h, cur)->key.cls == AH_TWIN_NONE)
        return NULL;
    size_t y = 0, back = 0;
    size_t n = candidates(h, cur, &y);
    if (n == 0)
        return NULL;
    if (n == 1 && y > cur && !qat(h, y)->released && candidates(h, y, &back) == 1)
        return qat(h, y);
    h->stats.twins_ambiguous++;
    return NULL;
}

/* --- leaving: the row handed out ---------------------------------------- */

/* Same text, or one a trailing '.' longer (UAL activity names end in one). */
static bool same_value(ah_span a, ah_span b)
{
    while (a.n && a.p[a.n - 1] == '.')
        a.n--;
    while (b.n && b.p[b.n - 1] == '.')
        b.n--;
    return ah_span_same_ci(a, b);
}

/* A value of a joined pair: one where they agree or one is absent, both
 * ("a / b") where the copies disagree. */
static void put_merged(row_builder *rb, ah_col_id c, ah_span a, ah_span b)
{
    if (!a.p && !b.p)
        return; /* absent in both: stays absent */
    if (!b.n || same_value(a, b))
        rb_put_span(rb, c, a.p ? a : b);
    else if (!a.n)
        rb_put_span(rb, c, b);
    else {
        size_t m = rb_mark(rb);
        ah_buf_append_span(&rb->text, a);
        ah_buf_puts(&rb->text, " / ");
        ah_buf_append_span(&rb->text, b);
        rb_close(rb, c, m);
    }
}

/* A copy's value for the join; an app or target that is only its own id
 * (the UAL names the resource of a sign-in by id) is no value of its own:
 * the name comes from the other copy or the names store. */
static ah_span named_value(const qrow *q, ah_col_id c)
{
    ah_span v = q->row.col[c];
    ah_col_id id = c == AH_COL_APP ? AH_COL_APP_ID : c == AH_COL_TARGET ? AH_COL_TARGET_ID : AH_COL_COUNT;
    if (id != AH_COL_COUNT && v.n && same_value(ah_span_trim(v), ah_span_trim(q->row.col[id])))
        return AH_SPAN_NULL;
    return v;
}

/* Highest level (as it applies to the row) first, then id: the order of
 * the rule columns. */
static int rule_order(const ah_ruleset *rs, const int8_t *lv, size_t i, size_t j, const uint32_t *v)
{
    if (lv[i] != lv[j])
        return lv[i] > lv[j] ? -1 : 1;
    return strcmp(ah_rule_metadata(ah_ruleset_rule(rs, v[i]))->id, ah_rule_metadata(ah_ruleset_rule(rs, v[j]))->id);
}

static size_t add_rule_once(uint32_t *v, size_t n, uint32_t r)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == r)
            return n;
    v[n] = r;
    return n + 1;
}

/* The rule columns and the JSON "rules" of the row handed out. field[] are
 * the row's values for the routine facts. */
static void render_rules(ah_hunt *h, ah_row *row, uint32_t *v, size_t n, const ah_span *field)
{
    int8_t *lv = h->out_level;
    bool *routine = h->out_routine;
    /* a correlation row carries its level: `escalate` may have raised it */
    int8_t carried = row->kind == AH_ROW_CORRELATION ? row->level : (int8_t)AH_LEVEL_INFO;
    for (size_t i = 0; i < n; i++) {
        const ah_rule_meta *m = ah_rule_metadata(ah_ruleset_rule(h->rs, v[i]));
        routine[i] = h->know && !h->opt.no_suppress && ah_knowledge_routine(h->know, m, field);
        lv[i] = (int8_t)(routine[i] ? AH_LEVEL_INFO : m->level);
        if (carried > lv[i])
            lv[i] = carried;
        h->stats.routine_hits += routine[i];
    }
    for (size_t i = 1; i < n; i++) /* insertion sort: a row has few rules */
        for (size_t j = i; j > 0 && rule_order(h->rs, lv, j - 1, j, v) > 0; j--) {
            uint32_t t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
            int8_t l = lv[j];
            lv[j] = lv[j - 1];
            lv[j - 1] = l;
            bool r = routine[j];
            routine[j] = routine[j - 1];
            routine[j - 1] = r;
        }
    row->rules = v;
    row->nrules = n;
    row->rule_info = h->out_info;
    row->nrule_info = n;
    if (!n)
        return;
    row_builder *rb = &h->out;
    const ah_col_id cols[3] = {AH_COL_RULE_ID, AH_COL_RULE_TITLE, AH_COL_TAGS};
    for (int c = 0; c < 3; c++) {
        size_t m0 = rb_mark(rb);
        for (size_t i = 0; i < n; i++) {
            const ah_rule_meta *m = ah_rule_metadata(ah_ruleset_rule(h->rs, v[i]));
            if (c < 2) {
                if (i)
                    ah_buf_puts(&rb->text, "; ");
                ah_buf_puts(&rb->text, c == 0 ? m->id : m->title);
                continue;
            }
            for (size_t t = 0; t < m->tags.n; t++) {
                bool dup = false; /* a tag of an earlier rule of this row */
                for (size_t k = 0; k < i && !dup; k++) {
                    const ah_strlist *o = &ah_rule_metadata(ah_ruleset_rule(h->rs, v[k]))->tags;
                    for (size_t u = 0; u < o->n && !dup; u++)
                        dup = strcmp(o->v[u], m->tags.v[t]) == 0;
                }
                if (dup)
                    continue;
                if (rb->text.len > m0)
                    ah_buf_puts(&rb->text, "; ");
                ah_buf_puts(&rb->text, m->tags.v[t]);
            }
        }
        rb_close(rb, cols[c], m0);
    }
    for (size_t i = 0; i < n; i++) {
        const ah_rule_meta *m = ah_rule_metadata(ah_ruleset_rule(h->rs, v[i]));
        h->out_info[i] = (ah_row_rule){
            m->id, m->title, ah_level_name((ah_level)lv[i]), (const char *const *)m->tags.v, m->tags.n, routine[i]};
    }
    row->level = lv[0]; /* sorted: the highest comes first */
    rb_put(rb, AH_COL_SEVERITY, ah_level_name((ah_level)lv[0]));
}

/* Show a name in column c; the lookalike flag is kept visible. */
static void put_name(ah_hunt *h, ah_col_id c, const ah_name_hit *hit)
{
    size_t m = rb_mark(&h->out);
    ah_buf_append_span(&h->out.text, hit->name);
    if (hit->flags & AH_NAME_LOOKALIKE)
        ah_buf_puts(&h->out.text, " [Microsoft-like name, not a Microsoft app id]");
    rb_close(&h->out, c, m);
    h->stats.names_resolved++;
}

/* app and target by name where the run knows one (docs/names.md): the
 * shipped first-party list (or a lookalike flag) wins over a name in the
 * record; a name the record gives itself stands otherwise; an id shown as
 * the value gets its name. Every lookup happens before the first append:
 * the row's spans may point into the buffer that grows. */
static void put_names(ah_hunt *h, const ah_row *row)
{
    if (!h->opt.names)
        return;
    ah_name_hit app_hit, target_hit;
    ah_span app_id = row->col[AH_COL_APP_ID], app = row->col[AH_COL_APP];
    if (!app_id.n && looks_like_guid(ah_span_trim(app)))
        app_id = ah_span_trim(app); /* correlation rows show the first event's app as written */
    bool app_named = app_id.n && ah_names_lookup(h->opt.names, app_id, row->has_time, row->time, &app_hit) &&
                     app_hit.name.n &&
                     (!app.n || same_value(app, app_id) || (app_hit.flags & (AH_NAME_REFERENCE | AH_NAME_LOOKALIKE)));
    ah_span target_id = row->col[AH_COL_TARGET_ID], target = ah_span_trim(row->col[AH_COL_TARGET]);
    if (!target_id.n && looks_like_guid(target))
        target_id = target;
    /* "User_<guid>", "ServicePrincipal_<guid>": the UAL's way of naming by id */
    bool target_is_id = !target.n || same_value(target, target_id) ||
                        (target.n > 37 && target.p[target.n - 37] == '_' &&
                         same_value(ah_span_make(target.p + target.n - 36, 36), target_id));
    bool target_named = target_id.n && target_is_id &&
                        ah_names_lookup(h->opt.names, target_id, row->has_time, row->time, &target_hit) &&
                        target_hit.name.n;
    if (app_named)
        put_name(h, AH_COL_APP, &app_hit);
    if (target_named)
        put_name(h, AH_COL_TARGET, &target_hit);
}

/* The row for x, joined with its twin y when there is one. */
static void render(ah_hunt *h, qrow *x, qrow *y)
{
    ah_row *row = &h->out_row;
    row_builder *rb = &h->out;
    rb_begin(rb);
    size_t n = 0;
    const qrow *p = x, *s = y;
    if (y) {
        /* The more precise time leads; else the Entra copy. */
        bool y_first =
            (y->row.time.nsec != 0) != (x->row.time.nsec != 0) ? y->row.time.nsec != 0 : x->key.source == AH_SOURCE_UAL;
        if (y_first) {
            p = y;
            s = x;
        }
    }
    *row = p->row;
    for (size_t i = 0; i < p->row.nrules; i++)
        n = add_rule_once(h->out_rules, n, p->rules[i]);
    if (s) {
        for (size_t i = 0; i < s->row.nrules; i++)
            n = add_rule_once(h->out_rules, n, s->rules[i]);
        size_t m0 = rb_mark(rb);
        ah_buf_append_span(&rb->text, p->row.col[AH_COL_SOURCE]);
        ah_buf_putc(&rb->text, '+');
        ah_buf_append_span(&rb->text, s->row.col[AH_COL_SOURCE]);
        rb_close(rb, AH_COL_SOURCE, m0);
        static const ah_col_id merged[] = {AH_COL_OPERATION, AH_COL_USER,       AH_COL_IP,
                                           AH_COL_APP,       AH_COL_USER_AGENT, AH_COL_RESULT,
                                           AH_COL_TARGET,    AH_COL_APP_ID,     AH_COL_TARGET_ID};
        for (size_t i = 0; i < AH_ARRAY_LEN(merged); i++)
            put_merged(rb, merged[i], named_value(p, merged[i]), named_value(s, merged[i]));
        /* Details are the leading copy's: the rules say the same of both
         * copies in their words, and the other copy is in related_raw. */
        if (!p->row.col[AH_COL_DETAILS].n)
            rb_put_span(rb, AH_COL_DETAILS, s->row.col[AH_COL_DETAILS]);
        rb_put_span(rb, AH_COL_RELATED_IDS, s->row.col[AH_COL_RECORD_ID]);
        row->related_raw = s->row.raw;
        h->stats.twins_joined++;
    }
    if (h->opt.all && h->nlinks) {
        for (const qrow *c = p; c; c = c == p ? s : NULL) {
            const struct link *l = c->row.kind == AH_ROW_EVENT ? find_link(h, c->row.col[AH_COL_RECORD_ID]) : NULL;
            for (uint8_t i = 0; l && i < l->n; i++)
                n = add_rule_once(h->out_rules, n, l->rules[i]);
        }
    }
    ah_span field[AH_F_COUNT] = {{0}};
    field[AH_F_USER] = p->row.col[AH_COL_USER];
    field[AH_F_IP] = p->row.col[AH_COL_IP];
    field[AH_F_APP_ID] = p->row.col[AH_COL_APP_ID];
    field[AH_F_USER_AGENT] = p->row.col[AH_COL_USER_AGENT];
    render_rules(h, row, h->out_rules, n, field);
    if ((h->out_status = rb_finish(rb, row)) != AH_OK)
        return;
    put_names(h, row);
    if ((h->out_status = rb_finish(rb, row)) != AH_OK) /* again: the names may have moved the text */
        return;
    if (!row->col[AH_COL_APP].n && row->col[AH_COL_APP_ID].n)
        row->col[AH_COL_APP] = row->col[AH_COL_APP_ID];
}

ah_status ah_hunt_next(ah_hunt *h, ah_row *row)
{
    ah_status st = fill_window(h, &h->qcur);
    if (st != AH_OK)
        return st;
    size_t cur = h->qcur;
    qrow *x = qat(h, cur);
    qrow *y = find_twin(h, cur);
    render(h, x, y);
    if (h->out_status != AH_OK)
        return h->out_status;
    x->released = true;
    if (y) {
        y->absorbed = true;
        y->released = true;
    }
    *row = h->out_row;
    return AH_OK;
}

const ah_hunt_stats *ah_hunt_get_stats(const ah_hunt *h) { return &h->stats; }
