/*
 * correlate.c: the correlation engine (phase 2) over time-sorted observations.
 *
 * State lives in groups, one per (rule, key), in a chained hash table and
 * on an LRU list (least recently updated first) for eviction. Each group
 * keeps what its kind needs:
 *  - aggregation: a window (struct awin): a deque of the observations
 *    inside the sliding window (each as its encoded bytes, so the hit can
 *    list record ids and show the first event), a multiset of value hashes
 *    for distinct(), a running sum. The window is [t - W, t] inclusive: an
 *    event exactly W before the newest still counts, one nanosecond more
 *    does not. An observation that is the twin of one already counted in
 *    the window (the UAL and Entra copies of one sign-in or directory
 *    change, parsers/formats/twin.h; compared only with the observations
 *    of the last AH_TWIN_WINDOW_NS) is kept for its record id but raises
 *    no count, sum or distinct value.
 *    `>`, `>=`, `==` are checked as each event enters. When the condition
 *    first holds, a burst opens with the window's events; every later
 *    event of the group extends it. The burst is reported once, when it is
 *    over: no event of the group within W after its last one (seen at the
 *    next observation of any group, or at finish). Its state (struct
 *    burst) keeps the whole extent: exact counts, a set of 64-bit value
 *    hashes for distinct(), the first AH_CORR_MAX_IDS record ids and the
 *    first and last observation. A burst longer than AH_CORR_MAX_EXTENT_NS
 *    (or the window, when that is longer) is reported and goes on as a new
 *    hit. Open bursts sit on a per-rule
 *    list in the order of their last event, so finding the quiet ones costs
 *    nothing per observation. `<`, `<=` are checked when a window anchored
 *    at a group's first event closes (next event past it, or finish).
 *    `F x baseline`: during the learning period the group only keeps the
 *    largest window value it reaches (one double); after it, the window
 *    value is compared with F times that. A group first seen after the
 *    learning period has no baseline and gets no state at all.
 *    `outside baseline`: the reverse: a group seen during the learning
 *    period keeps only that fact and never counts; new groups aggregate.
 *  - sequence: for each step, the partial match with the latest start that
 *    has reached it (a later start dominates: it has more time left). A
 *    first step with its own `when` keeps a window like an aggregation's
 *    (W = within) and is reached when its condition holds, starting at the
 *    window's oldest event.
 *  - first-seen: the set of value hashes seen for the group.
 * Every byte held is counted against the budget; an evicted group reports
 * its open burst first.
 *
 * Size: the correlation engine's three kinds (aggregation windows,
 * sequences, first-seen baselines) share the group table, the LRU eviction
 * and the hit builder.
 */
#include "correlate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../parsers/formats/opcanon.h"
#include "../../parsers/formats/timeparse.h"
#include "../../parsers/formats/twin.h"
#include "../../parsers/util/hash.h"
#include "../rules/rules_private.h"

#define KEY_SEED 0x636f7272ull /* "corr" */
#define VAL_SEED 0x76616c75ull

/* How an entry counts: an event, an event a later twin was matched to, or
 * that twin (kept for its record id only). */
enum { ENT_COUNTED, ENT_PAIRED, ENT_TWIN };

typedef struct entry {
    ah_time t;
    uint64_t vh; /* value hash (distinct), 0 for a twin */
    double num;  /* sum() value, 0 when none or a twin */
    char *blob;  /* encoded observation */
    size_t blen;
    uint8_t twin; /* ENT_* */
} entry;

/* Multiset of 64-bit hashes (linear probing, backward-shift delete). */
typedef struct hset {
    uint64_t *h;
    uint32_t *n;
    size_t cap, count;
} hset;

/* A `when` with several terms (or per source) counts each term's values
 * per source in its own set: slot term * AH_SOURCE_COUNT + source (source 0
 * for a term counted over all sources). Allocated for such rules only. */
#define NSLOTS (AHI_MAX_WHEN_TERMS * AH_SOURCE_COUNT)

/* The observations of one group inside a sliding window. */
typedef struct awin {
    entry *ents;
    size_t head, n, cap;
    size_t ntwins;
    hset distinct;
    hset *slots; /* NSLOTS, or NULL */
    double sum;
    size_t blob_bytes;
} awin;

/* An open burst: everything the hit reports, over its whole extent. */
typedef struct burst {
    ah_time start, last;
    uint64_t count, records;
    double sum;
    hset distinct;
    hset *slots; /* NSLOTS, or NULL */
    bool continues;
    unsigned facts;      /* AH_FACT_* of any of its events */
    char *first, *lastb; /* encoded first and last observations */
    size_t first_len, last_len, last_cap;
    ah_buf ids; /* the listed record ids, back to back */
    size_t id_end[AH_CORR_MAX_IDS];
    size_t nids;
} burst;

typedef struct run {
    bool has;
    ah_time start, last;
    char **blobs; /* one per step reached; an aggregating first step gives several */
    size_t *blens;
    size_t n;
    size_t lead;           /* blobs of the first step */
    uint64_t lead_count;   /* its events, twins once */
    uint64_t lead_records; /* its records (may be more than the blobs kept) */
    unsigned facts;        /* AH_FACT_* of any of its events, the ones not kept too */
} run;

typedef struct group {
    struct group *hnext, *lprev, *lnext;
    struct group *bprev, *bnext; /* open bursts of the rule, oldest last event first */
    uint64_t h;
    size_t rule;
    char *key;
    size_t keylen;
    size_t bytes; /* accounted */
    /* aggregation; an aggregating first step of a sequence */
    awin win;
    burst *burst;
    bool anchored;
    bool has_baseline;   /* `x baseline`: the group was active while learning; `outside baseline`: it was seen then */
    double baseline_max; /* `x baseline`: its largest window value then */
    ah_time anchor;
    /* sequence */
    run *runs;
    size_t nruns;
    size_t run_bytes;
    /* first-seen */
    hset seen;
} group;

typedef struct pending {
    char *key;
    size_t keylen;
    ah_time deadline;
} pending;

typedef struct rule_state {
    ah_corr_rule_stats st;
    pending *pend; /* absence deadlines, non-decreasing */
    size_t phead, pn, pcap;
    group *bhead, *btail; /* open bursts */
} rule_state;

struct ah_correlator {
    const ah_ruleset *rs;
    ah_diag *diag;
    size_t budget;
    group **buckets;
    size_t nbuckets, ngroups;
    group *lru_head, *lru_tail;
    rule_state *rules;
    size_t nrules;
    size_t *corr_rules; /* indices of the correlation rules, ascending: the flushes visit only these */
    size_t ncorr;
    ah_correlator_stats stats;
    bool started, finished;
    ah_time last;
    bool have_baseline;
    ah_time base_from, base_to;
    bool have_start;
    ah_time data_start;
    /* hit assembly */
    ah_span ids[AH_CORR_MAX_IDS];
    ah_buf details;
    ah_buf aggregates;
    /* twin keys: canonical operations */
    ah_buf canon_new, canon_old;
};

/* --- time -------------------------------------------------------------- */

static int time_cmp(ah_time a, ah_time b)
{
    if (a.sec != b.sec)
        return a.sec < b.sec ? -1 : 1;
    return a.nsec < b.nsec ? -1 : a.nsec > b.nsec;
}

/* b - a in nanoseconds, saturating. */
static int64_t time_diff(ah_time a, ah_time b)
{
    int64_t ds = b.sec - a.sec;
    if (ds > INT64_MAX / 1000000000 - 1)
        return INT64_MAX;
    if (ds < INT64_MIN / 1000000000 + 1)
        return INT64_MIN;
    return ds * 1000000000 + (b.nsec - a.nsec);
}

static ah_time time_add(ah_time a, int64_t ns)
{
    a.sec += ns / 1000000000;
    a.nsec += (int32_t)(ns % 1000000000);
    if (a.nsec >= 1000000000) {
        a.sec++;
        a.nsec -= 1000000000;
    }
    return a;
}

/* Where an event falls for a rule with a learning period (first-seen,
 * `x baseline`): before an explicit range it is ignored, inside the range
 * (both ends included) or the rule's first N days [start, start + N) it
 * learns, after it it is checked. */
typedef enum baseline_phase { PHASE_IGNORE, PHASE_LEARN, PHASE_CHECK } baseline_phase;

static baseline_phase baseline_phase_of(const ah_correlator *c, const ah_rule *r, ah_time t)
{
    if (c->have_baseline) {
        if (time_cmp(t, c->base_from) < 0)
            return PHASE_IGNORE;
        return time_cmp(t, c->base_to) <= 0 ? PHASE_LEARN : PHASE_CHECK;
    }
    return time_diff(c->data_start, t) < r->meta.baseline_ns ? PHASE_LEARN : PHASE_CHECK;
}

/* --- accounting -------------------------------------------------------- */

static size_t hset_bytes(const hset *s) { return s->cap * (sizeof(uint64_t) + sizeof(uint32_t)); }

static size_t slots_bytes(const hset *slots)
{
    size_t n = 0;
    for (size_t i = 0; slots && i < NSLOTS; i++)
        n += hset_bytes(&slots[i]);
    return slots ? n + NSLOTS * sizeof *slots : 0;
}

static size_t awin_bytes(const awin *w)
{
    return w->cap * sizeof(entry) + w->blob_bytes + hset_bytes(&w->distinct) + slots_bytes(w->slots);
}

static size_t burst_bytes(const burst *b)
{
    return b ? sizeof *b + b->first_len + b->last_cap + b->ids.cap + hset_bytes(&b->distinct) + slots_bytes(b->slots)
             : 0;
}

static size_t group_size(const group *g)
{
    return sizeof *g + g->keylen + awin_bytes(&g->win) + burst_bytes(g->burst) + hset_bytes(&g->seen) +
           g->nruns * sizeof(run) + g->run_bytes;
}

static void account(ah_correlator *c, group *g)
{
    size_t now = group_size(g);
    c->stats.bytes = c->stats.bytes - g->bytes + now;
    g->bytes = now;
    if (c->stats.bytes > c->stats.peak_bytes)
        c->stats.peak_bytes = c->stats.bytes;
}

/* --- hash multiset ------------------------------------------------------ */

static bool hset_add(hset *s, uint64_t h, uint32_t by)
{
    if (!h)
        h = 1;
    if ((s->count + 1) * 2 > s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 16;
        uint64_t *nh = calloc(ncap, sizeof *nh);
        uint32_t *nn = calloc(ncap, sizeof *nn);
        if (!nh || !nn) {
            free(nh);
            free(nn);
            return false;
        }
        for (size_t i = 0; i < s->cap; i++)
            if (s->h[i]) {
                size_t k = (size_t)s->h[i] & (ncap - 1);
                while (nh[k])
                    k = (k + 1) & (ncap - 1);
                nh[k] = s->h[i];
                nn[k] = s->n[i];
            }
        free(s->h);
        free(s->n);
        s->h = nh;
        s->n = nn;
        s->cap = ncap;
    }
    size_t k = (size_t)h & (s->cap - 1);
    while (s->h[k] && s->h[k] != h)
        k = (k + 1) & (s->cap - 1);
    if (!s->h[k]) {
        s->h[k] = h;
        s->n[k] = 0;
        s->count++;
    }
    s->n[k] += by;
    return true;
}

static bool hset_has(const hset *s, uint64_t h)
{
    if (!h)
        h = 1;
    if (!s->cap)
        return false;
    size_t k = (size_t)h & (s->cap - 1);
    while (s->h[k]) {
        if (s->h[k] == h)
            return true;
        k = (k + 1) & (s->cap - 1);
    }
    return false;
}

static void hset_remove_one(hset *s, uint64_t h)
{
    if (!h)
        h = 1;
    if (!s->cap)
        return;
    size_t mask = s->cap - 1, k = (size_t)h & mask;
    while (s->h[k] && s->h[k] != h)
        k = (k + 1) & mask;
    if (!s->h[k] || --s->n[k] > 0)
        return;
    /* Backward-shift deletion keeps probe chains intact. */
    s->h[k] = 0;
    s->count--;
    size_t i = k, j = k;
    for (;;) {
        j = (j + 1) & mask;
        if (!s->h[j])
            break;
        size_t home = (size_t)s->h[j] & mask;
        bool move = (j > i) ? (home <= i || home > j) : (home <= i && home > j);
        if (move) {
            s->h[i] = s->h[j];
            s->n[i] = s->n[j];
            s->h[j] = 0;
            i = j;
        }
    }
}

static void hset_free(hset *s)
{
    free(s->h);
    free(s->n);
    memset(s, 0, sizeof *s);
}

static void slots_free(hset **slots)
{
    for (size_t i = 0; *slots && i < NSLOTS; i++)
        hset_free(&(*slots)[i]);
    free(*slots);
    *slots = NULL;
}

/* The slot and value hash of each term of o that has a value (several
 * terms: the parts of o->value). Returns how many. */
static size_t obs_slots(const ahi_corr *rc, const ah_observation *o, size_t *slot, uint64_t *h)
{
    size_t n = 0, at = 0;
    for (size_t t = 0; t < rc->nterms; t++) {
        size_t end = at;
        while (end < o->value.n && o->value.p[end] != '\x1f')
            end++;
        if (end > at) {
            size_t src = rc->term[t].per_source && (size_t)o->source < AH_SOURCE_COUNT ? (size_t)o->source : 0;
            slot[n] = t * AH_SOURCE_COUNT + src;
            h[n] = ah_hash64(o->value.p + at, end - at, VAL_SEED + t);
            if (!h[n])
                h[n] = 1;
            n++;
        }
        at = end + 1;
        if (at > o->value.n)
            break;
    }
    return n;
}

/* Term t's value: its distinct count, the largest over the sources when per source. */
static double term_value(const hset *slots, size_t t)
{
    size_t best = 0;
    for (size_t s = 0; slots && s < AH_SOURCE_COUNT; s++)
        if (slots[t * AH_SOURCE_COUNT + s].count > best)
            best = slots[t * AH_SOURCE_COUNT + s].count;
    return (double)best;
}

static bool slots_fire(const ahi_corr *rc, const hset *slots)
{
    for (size_t t = 0; t < rc->nterms; t++) {
        double v = term_value(slots, t);
        bool holds = rc->term[t].cmp == AHI_OP_GT   ? v > rc->term[t].threshold
                     : rc->term[t].cmp == AHI_OP_GE ? v >= rc->term[t].threshold
                                                    : v == rc->term[t].threshold;
        if (holds)
            return true;
    }
    return false;
}

/* --- groups ------------------------------------------------------------- */

static uint64_t group_hash(size_t rule, ah_span key) { return ah_hash64(key.p ? key.p : "", key.n, KEY_SEED + rule); }

static void lru_unlink(ah_correlator *c, group *g)
{
    if (g->lprev)
        g->lprev->lnext = g->lnext;
    else
        c->lru_head = g->lnext;
    if (g->lnext)
        g->lnext->lprev = g->lprev;
    else
        c->lru_tail = g->lprev;
    g->lprev = g->lnext = NULL;
}

static void lru_touch(ah_correlator *c, group *g)
{
    if (c->lru_tail == g)
        return;
    if (g->lprev || g->lnext || c->lru_head == g)
        lru_unlink(c, g);
    g->lprev = c->lru_tail;
    if (c->lru_tail)
        c->lru_tail->lnext = g;
    else
        c->lru_head = g;
    c->lru_tail = g;
}

static void run_clear(group *g, run *r)
{
    for (size_t i = 0; i < r->n; i++) {
        g->run_bytes -= r->blens[i] + sizeof(char *) + sizeof(size_t);
        free(r->blobs[i]);
    }
    free(r->blobs);
    free(r->blens);
    memset(r, 0, sizeof *r);
}

static void awin_clear(awin *w)
{
    for (size_t i = 0; i < w->n; i++)
        free(w->ents[(w->head + i) % w->cap].blob);
    w->head = w->n = 0;
    w->ntwins = 0;
    w->blob_bytes = 0;
    w->sum = 0;
    hset_free(&w->distinct);
    slots_free(&w->slots);
}

static void awin_free(awin *w)
{
    awin_clear(w);
    free(w->ents);
    memset(w, 0, sizeof *w);
}

static void burst_free(burst *b)
{
    if (!b)
        return;
    hset_free(&b->distinct);
    slots_free(&b->slots);
    free(b->first);
    free(b->lastb);
    ah_buf_free(&b->ids);
    free(b);
}

static void group_free(group *g)
{
    if (!g)
        return;
    awin_free(&g->win);
    burst_free(g->burst);
    for (size_t i = 0; i < g->nruns; i++)
        run_clear(g, &g->runs[i]);
    free(g->runs);
    hset_free(&g->seen);
    free(g->key);
    free(g);
}

static group *group_find(ah_correlator *c, size_t rule, ah_span key)
{
    if (!c->nbuckets)
        return NULL;
    uint64_t h = group_hash(rule, key);
    for (group *g = c->buckets[h & (c->nbuckets - 1)]; g; g = g->hnext)
        if (g->h == h && g->rule == rule && g->keylen == key.n && (!key.n || memcmp(g->key, key.p, key.n) == 0))
            return g;
    return NULL;
}

static void burst_close(ah_correlator *c, group *g, ah_corr_hit_fn fn, void *ud);

static void group_remove(ah_correlator *c, group *g)
{
    group **pp = &c->buckets[g->h & (c->nbuckets - 1)];
    while (*pp != g)
        pp = &(*pp)->hnext;
    *pp = g->hnext;
    lru_unlink(c, g);
    c->stats.bytes -= g->bytes;
    c->ngroups--;
    group_free(g);
}

/* Evict least recently updated groups (never `keep`) until under budget.
 * An open burst is reported before its group goes: cut short, but not lost. */
static void enforce_budget(ah_correlator *c, const group *keep, ah_corr_hit_fn fn, void *ud)
{
    while (c->stats.bytes > c->budget) {
        group *g = c->lru_head;
        if (g == keep)
            g = g->lnext;
        if (!g)
            return;
        c->rules[g->rule].st.evicted++;
        c->stats.evicted++;
        if (g->burst)
            burst_close(c, g, fn, ud);
        group_remove(c, g);
    }
}

static group *group_get(ah_correlator *c, size_t rule, ah_span key)
{
    group *g = group_find(c, rule, key);
    if (g)
        return g;
    if (c->ngroups + 1 > c->nbuckets) {
        size_t nb = c->nbuckets ? c->nbuckets * 2 : 64;
        group **b = calloc(nb, sizeof *b);
        if (!b)
            return NULL;
        for (size_t i = 0; i < c->nbuckets; i++)
            for (group *x = c->buckets[i], *next; x; x = next) {
                next = x->hnext;
                x->hnext = b[x->h & (nb - 1)];
                b[x->h & (nb - 1)] = x;
            }
        c->stats.bytes += (nb - c->nbuckets) * sizeof *b;
        free(c->buckets);
        c->buckets = b;
        c->nbuckets = nb;
    }
    g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->key = malloc(key.n + 1);
    if (!g->key) {
        free(g);
        return NULL;
    }
    if (key.n)
        memcpy(g->key, key.p, key.n);
    g->key[key.n] = '\0';
    g->keylen = key.n;
    g->rule = rule;
    g->h = group_hash(rule, key);
    g->hnext = c->buckets[g->h & (c->nbuckets - 1)];
    c->buckets[g->h & (c->nbuckets - 1)] = g;
    c->ngroups++;
    c->rules[rule].st.groups++;
    lru_touch(c, g);
    account(c, g);
    return g;
}

/* --- hits --------------------------------------------------------------- */

static void format_window(int64_t ns, char *buf, size_t size)
{
    static const struct {
        int64_t ns;
        const char *unit;
    } units[] = {
        {86400000000000LL, "d"}, {3600000000000LL, "h"}, {60000000000LL, "m"}, {1000000000LL, "s"}, {1000000LL, "ms"}};
    for (size_t i = 0; i < AH_ARRAY_LEN(units); i++)
        if (ns >= units[i].ns && ns % units[i].ns == 0) {
            snprintf(buf, size, "%lld%s", (long long)(ns / units[i].ns), units[i].unit);
            return;
        }
    snprintf(buf, size, "%lldns", (long long)ns);
}

static void format_number(double d, char *buf, size_t size)
{
    if (d == (double)(long long)d && d < 1e15 && d > -1e15)
        snprintf(buf, size, "%lld", (long long)d);
    else
        snprintf(buf, size, "%.6g", d);
}

typedef struct hit_in {
    const ah_rule *rule;
    ah_span group;
    double value;
    uint64_t count, records;
    double distinct, sum, baseline;
    bool has_distinct, has_sum, has_baseline;
    bool continues;
    unsigned facts;
    const hset *slots; /* several terms: each one's values, for {aggregates} */
} hit_in;

/* Build and deliver one hit from its contributing observations; the row
 * shows speaker's fields (NULL: the first event's). */
static void emit(ah_correlator *c, const hit_in *in, const ah_observation *first, const ah_observation *lastobs,
                 const ah_observation *speaker, size_t nids, ah_corr_hit_fn fn, void *ud)
{
    const ah_observation *row = speaker ? speaker : first;
    ah_corr_hit hit;
    memset(&hit, 0, sizeof hit);
    hit.rule = in->rule;
    hit.time = first->time;
    hit.last_time = lastobs->time;
    hit.group = in->group;
    hit.value = in->value;
    hit.count = in->count;
    hit.records = in->records > in->count ? in->records : in->count;
    hit.continues = in->continues;
    hit.facts = in->facts | first->facts | lastobs->facts;
    hit.record_ids = c->ids;
    hit.nrecord_ids = nids;
    hit.source = row->source;
    hit.user = row->user;
    hit.ip = row->ip;
    hit.app = row->app;
    hit.target = row->target;
    hit.operation = row->operation;
    hit.input = row->input;
    hit.entry = row->entry;
    hit.input_record = row->record_no;
    hit.last_user = lastobs->user;
    hit.last_ip = lastobs->ip;
    hit.last_app = lastobs->app;
    char cnt[32], dis[32], sum[32], base[32], win[32], t1[40], t2[40];
    snprintf(cnt, sizeof cnt, "%llu", (unsigned long long)in->count);
    format_number(in->distinct, dis, sizeof dis);
    format_number(in->sum, sum, sizeof sum);
    format_number(in->baseline, base, sizeof base);
    format_window(in->rule->meta.window_ns, win, sizeof win);
    ah_time_format(hit.time, t1);
    ah_time_format(hit.last_time, t2);
    ah_span vals[AHI_CV_COUNT_];
    memset(vals, 0, sizeof vals);
    vals[AHI_CV_COUNT] = ah_span_cstr(cnt);
    if (in->has_distinct)
        vals[AHI_CV_DISTINCT] = ah_span_cstr(dis);
    if (in->has_sum)
        vals[AHI_CV_SUM] = ah_span_cstr(sum);
    if (in->has_baseline)
        vals[AHI_CV_BASELINE] = ah_span_cstr(base);
    if (in->rule->meta.window_ns)
        vals[AHI_CV_WINDOW] = ah_span_cstr(win);
    vals[AHI_CV_GROUP] = in->group;
    vals[AHI_CV_FIRST_TIME] = ah_span_cstr(t1);
    vals[AHI_CV_LAST_TIME] = ah_span_cstr(t2);
    vals[AHI_CV_VALUE] = first->value.n ? first->value : lastobs->value;
    vals[AHI_CV_USER] = first->user;
    vals[AHI_CV_IP] = first->ip;
    vals[AHI_CV_APP] = first->app;
    vals[AHI_CV_TARGET] = first->target;
    vals[AHI_CV_OPERATION] = first->operation;
    vals[AHI_CV_SOURCE] = ah_span_cstr(ah_source_name(first->source));
    vals[AHI_CV_RECORD_ID] = first->record_id;
    vals[AHI_CV_LAST_USER] = lastobs->user;
    vals[AHI_CV_LAST_IP] = lastobs->ip;
    vals[AHI_CV_LAST_APP] = lastobs->app;
    ah_buf_reset(&c->aggregates);
    if (in->rule->corr->has_when && in->rule->meta.kind == AH_RULE_AGGREGATE) {
        /* every term with its value over the hit: which of them fired */
        const ahi_corr *rc = in->rule->corr;
        static const char *const aggs[] = {"count", "distinct", "sum"};
        for (size_t t = 0; t < (rc->nterms ? rc->nterms : 1); t++) {
            char num[32];
            format_number(in->slots ? term_value(in->slots, t) : in->value, num, sizeof num);
            ah_buf_printf(&c->aggregates, "%s%s %s", t ? ", " : "", num, aggs[t ? rc->term[t].agg : rc->agg]);
            const ahi_aoperand *opd = t ? &rc->term[t].opd : &rc->agg_opd;
            if ((t ? rc->term[t].agg : rc->agg) != AHI_AGG_COUNT)
                ah_buf_printf(&c->aggregates, "(%.*s%s)", (int)opd->len, in->rule->src->text + opd->off,
                              rc->nterms && rc->term[t].per_source ? " per source" : "");
        }
        vals[AHI_CV_AGGREGATES] = ah_buf_span(&c->aggregates);
    }
    ah_buf_reset(&c->details);
    if (in->rule->details_text)
        ahi_corr_render(in->rule, vals, &c->details);
    hit.details = ah_buf_span(&c->details);
    c->rules[in->rule->meta.index].st.hits++;
    c->stats.hits++;
    if (fn)
        fn(ud, &hit);
}

/* Record ids of the contributing blobs into c->ids. */
static size_t collect_ids(ah_correlator *c, char *const *blobs, const size_t *blens, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k < AH_CORR_MAX_IDS; i++) {
        ah_observation o;
        if (ah_observation_decode(ah_span_make(blobs[i], blens[i]), &o) == AH_OK)
            c->ids[k++] = o.record_id;
    }
    return k;
}

/* --- twins ------------------------------------------------------------- */

static entry *awin_at(const awin *w, size_t i) { return &w->ents[(w->head + i) % w->cap]; }

/* The twin key of an observation (twin.h): source, time, actor, address,
 * application id, canonical operation, correlation id. The result is not
 * in the observation (rules usually pin it) and the target is left out:
 * the UAL names a user target `User_<object id>` where Entra has the UPN
 * (the correlation id, where both copies carry it, tells changes apart).
 * canon holds the canonical operation. */
static void obs_twin_key(const ah_observation *o, ah_buf *canon, ah_twin_key *k)
{
    memset(k, 0, sizeof *k);
    ah_buf_reset(canon);
    if (ah_opcanon(o->operation, canon) != AH_OK)
        return; /* cls stays AH_TWIN_NONE: counted as its own event */
    k->source = o->source;
    k->op_canon = ah_buf_span(canon);
    k->cls = ah_twin_class_of(o->source, o->workload, k->op_canon);
    k->time = o->time;
    k->user = ah_span_trim(o->user);
    k->ip = ah_span_trim(o->ip);
    k->app_id = ah_span_trim(o->app_id);
    k->correlation_id = ah_span_trim(o->correlation_id);
    k->result = AH_RESULT_UNKNOWN;
}

/* Is o the twin of an event already counted in w (within
 * AH_TWIN_WINDOW_NS before it)? Then that event is marked paired, so that
 * each event takes at most one twin. */
static bool awin_take_twin(ah_correlator *c, awin *w, const ah_observation *o)
{
    /* Most observations have no neighbour within the twin window: no key needed. */
    if (!w->n || time_diff(awin_at(w, w->n - 1)->t, o->time) > AH_TWIN_WINDOW_NS)
        return false;
    ah_twin_key k, ek;
    obs_twin_key(o, &c->canon_new, &k);
    if (k.cls == AH_TWIN_NONE)
        return false;
    for (size_t i = w->n; i-- > 0;) {
        entry *e = &w->ents[(w->head + i) % w->cap];
        if (time_diff(e->t, o->time) > AH_TWIN_WINDOW_NS)
            break;
        if (e->twin != ENT_COUNTED)
            continue;
        ah_observation eo;
        if (ah_observation_decode(ah_span_make(e->blob, e->blen), &eo) != AH_OK)
            continue;
        obs_twin_key(&eo, &c->canon_old, &ek);
        if (ah_twin_match(&k, &ek)) {
            e->twin = ENT_PAIRED;
            return true;
        }
    }
    return false;
}

/* --- windows ------------------------------------------------------------ */

/* A heap copy of the encoded observation. */
static char *encode_copy(const ah_observation *o, size_t *len)
{
    ah_buf b;
    ah_buf_init(&b, 0);
    if (ah_observation_encode(o, &b) != AH_OK) {
        ah_buf_free(&b);
        return NULL;
    }
    *len = b.len;
    return b.data; /* ah_buf data is a plain heap block */
}

/* rc: the rule when its `when` has several terms (the values are read back from the blob), else NULL. */
static void awin_pop(awin *w, const ahi_corr *rc)
{
    entry *e = &w->ents[w->head];
    w->sum -= e->num;
    if (e->vh)
        hset_remove_one(&w->distinct, e->vh);
    ah_observation o;
    if (rc && w->slots && e->twin != ENT_TWIN && ah_observation_decode(ah_span_make(e->blob, e->blen), &o) == AH_OK) {
        size_t slot[AHI_MAX_WHEN_TERMS];
        uint64_t h[AHI_MAX_WHEN_TERMS];
        for (size_t i = 0, n = obs_slots(rc, &o, slot, h); i < n; i++)
            hset_remove_one(&w->slots[slot[i]], h[i]);
    }
    if (e->twin == ENT_TWIN)
        w->ntwins--;
    w->blob_bytes -= e->blen;
    free(e->blob);
    w->head = (w->head + 1) % w->cap;
    w->n--;
    if (!w->n)
        w->sum = 0;
}

/* Drop the events more than ns before now. */
static void awin_slide(awin *w, ah_time now, int64_t ns, const ahi_corr *rc)
{
    while (w->n && time_diff(w->ents[w->head].t, now) > ns)
        awin_pop(w, rc);
}

/* Append o (agg: how the window aggregates). */
static ah_status awin_push(ah_correlator *c, awin *w, ahi_agg agg, const ah_observation *o, const ahi_corr *rc)
{
    if (w->n == w->cap) {
        size_t ncap = w->cap ? w->cap * 2 : 8;
        entry *ne = malloc(ncap * sizeof *ne);
        if (!ne)
            return AH_ERR_NOMEM;
        for (size_t i = 0; i < w->n; i++)
            ne[i] = *awin_at(w, i);
        free(w->ents);
        w->ents = ne;
        w->cap = ncap;
        w->head = 0;
    }
    entry e;
    memset(&e, 0, sizeof e);
    e.t = o->time;
    e.twin = awin_take_twin(c, w, o) ? ENT_TWIN : ENT_COUNTED;
    e.blob = encode_copy(o, &e.blen);
    if (!e.blob)
        return AH_ERR_NOMEM;
    if (e.twin == ENT_TWIN) {
        w->ntwins++;
    } else if (rc) {
        size_t slot[AHI_MAX_WHEN_TERMS];
        uint64_t h[AHI_MAX_WHEN_TERMS];
        size_t n = obs_slots(rc, o, slot, h);
        if (n && !w->slots && !(w->slots = calloc(NSLOTS, sizeof *w->slots))) {
            free(e.blob);
            return AH_ERR_NOMEM;
        }
        for (size_t i = 0; i < n; i++)
            if (!hset_add(&w->slots[slot[i]], h[i], 1)) {
                free(e.blob);
                return AH_ERR_NOMEM;
            }
    } else if (agg == AHI_AGG_DISTINCT) {
        e.vh = ah_hash64(o->value.p ? o->value.p : "", o->value.n, VAL_SEED);
        if (!e.vh)
            e.vh = 1;
        if (!hset_add(&w->distinct, e.vh, 1)) {
            free(e.blob);
            return AH_ERR_NOMEM;
        }
    } else if (agg == AHI_AGG_SUM && o->has_number) {
        e.num = o->number;
    }
    w->sum += e.num;
    w->blob_bytes += e.blen;
    w->ents[(w->head + w->n) % w->cap] = e;
    w->n++;
    return AH_OK;
}

static double awin_value(ahi_agg agg, const awin *w)
{
    switch (agg) {
    case AHI_AGG_DISTINCT: return (double)w->distinct.count;
    case AHI_AGG_SUM: return w->sum;
    default: return (double)(w->n - w->ntwins);
    }
}

static bool cmp_holds(ahi_op cmp, double threshold, double v)
{
    switch (cmp) {
    case AHI_OP_GT: return v > threshold;
    case AHI_OP_GE: return v >= threshold;
    case AHI_OP_LT: return v < threshold;
    case AHI_OP_LE: return v <= threshold;
    default: return v == threshold;
    }
}

/* --- aggregation -------------------------------------------------------- */

/* The `>`, `>=`, `==` condition for window value v: the fixed threshold, or
 * factor x the group's learned maximum (and the floor). A group without a
 * baseline never fires: first-seen rules are the tool for new groups. */
static bool agg_fires(const ahi_corr *rc, const group *g, double v)
{
    if (!rc->relative)
        return cmp_holds(rc->cmp, rc->threshold, v);
    if (!g->has_baseline || (rc->has_floor && !(v >= rc->floor)))
        return false;
    double limit = rc->threshold * g->baseline_max;
    return rc->cmp == AHI_OP_GE ? v >= limit : v > limit;
}

static bool is_closing(const ahi_corr *rc) { return rc->cmp == AHI_OP_LT || rc->cmp == AHI_OP_LE; }

/* The window's events as one hit (`<` / `<=`). */
static void awin_emit(ah_correlator *c, const ah_rule *r, group *g, ah_corr_hit_fn fn, void *ud)
{
    awin *w = &g->win;
    size_t n = w->n;
    ah_observation first, lastobs;
    if (!n || ah_observation_decode(ah_span_make(awin_at(w, 0)->blob, awin_at(w, 0)->blen), &first) != AH_OK ||
        ah_observation_decode(ah_span_make(awin_at(w, n - 1)->blob, awin_at(w, n - 1)->blen), &lastobs) != AH_OK)
        return;
    size_t k = 0;
    unsigned facts = 0;
    for (size_t i = 0; i < n; i++) {
        ah_observation o;
        if (ah_observation_decode(ah_span_make(awin_at(w, i)->blob, awin_at(w, i)->blen), &o) != AH_OK)
            continue;
        facts |= o.facts;
        if (k < AH_CORR_MAX_IDS)
            c->ids[k++] = o.record_id;
    }
    hit_in in;
    memset(&in, 0, sizeof in);
    in.facts = facts;
    in.rule = r;
    in.group = ah_span_make(g->key, g->keylen);
    in.value = awin_value(r->corr->agg, w);
    in.count = n - w->ntwins;
    in.records = n;
    in.distinct = (double)w->distinct.count;
    in.has_distinct = r->corr->agg == AHI_AGG_DISTINCT;
    in.sum = w->sum;
    in.has_sum = r->corr->agg == AHI_AGG_SUM;
    emit(c, &in, &first, &lastobs, NULL, k, fn, ud);
}

/* `<` / `<=`: the window anchored at the group's first event is closed. */
static void agg_close(ah_correlator *c, const ah_rule *r, group *g, ah_corr_hit_fn fn, void *ud)
{
    if (g->win.n && cmp_holds(r->corr->cmp, r->corr->threshold, awin_value(r->corr->agg, &g->win)))
        awin_emit(c, r, g, fn, ud);
    awin_clear(&g->win);
    g->anchored = false;
}

/* --- bursts -------------------------------------------------------------- */

static void burst_unlink(ah_correlator *c, group *g)
{
    rule_state *rs = &c->rules[g->rule];
    if (g->bprev)
        g->bprev->bnext = g->bnext;
    else
        rs->bhead = g->bnext;
    if (g->bnext)
        g->bnext->bprev = g->bprev;
    else
        rs->btail = g->bprev;
    g->bprev = g->bnext = NULL;
}

/* Move g to the end of its rule's list of open bursts (its last event is now the newest). */
static void burst_touch(ah_correlator *c, group *g)
{
    rule_state *rs = &c->rules[g->rule];
    if (rs->btail == g)
        return;
    if (g->bprev || g->bnext || rs->bhead == g)
        burst_unlink(c, g);
    g->bprev = rs->btail;
    if (rs->btail)
        rs->btail->bnext = g;
    else
        rs->bhead = g;
    rs->btail = g;
}

/* Add one window entry to the burst (rc: as for awin_pop). */
static ah_status burst_add(burst *b, const entry *e, ahi_agg agg, const ahi_corr *rc)
{
    ah_observation o;
    if (ah_observation_decode(ah_span_make(e->blob, e->blen), &o) != AH_OK)
        return AH_OK;
    if (!b->records) {
        b->first = malloc(e->blen);
        if (!b->first)
            return AH_ERR_NOMEM;
        memcpy(b->first, e->blob, e->blen);
        b->first_len = e->blen;
        b->start = e->t;
    }
    if (e->blen > b->last_cap) {
        char *nl = realloc(b->lastb, e->blen);
        if (!nl)
            return AH_ERR_NOMEM;
        b->lastb = nl;
        b->last_cap = e->blen;
    }
    memcpy(b->lastb, e->blob, e->blen);
    b->last_len = e->blen;
    b->last = e->t;
    b->records++;
    b->facts |= o.facts;
    if (b->nids < AH_CORR_MAX_IDS) {
        if (ah_buf_append_span(&b->ids, o.record_id) != AH_OK)
            return AH_ERR_NOMEM;
        b->id_end[b->nids++] = b->ids.len;
    }
    if (e->twin == ENT_TWIN)
        return AH_OK;
    b->count++;
    b->sum += e->num;
    if (rc) {
        size_t slot[AHI_MAX_WHEN_TERMS];
        uint64_t h[AHI_MAX_WHEN_TERMS];
        size_t n = obs_slots(rc, &o, slot, h);
        if (n && !b->slots && !(b->slots = calloc(NSLOTS, sizeof *b->slots)))
            return AH_ERR_NOMEM;
        for (size_t i = 0; i < n; i++)
            if (!hset_has(&b->slots[slot[i]], h[i]) && !hset_add(&b->slots[slot[i]], h[i], 1))
                return AH_ERR_NOMEM;
    }
    if (agg == AHI_AGG_DISTINCT && !hset_has(&b->distinct, e->vh) && !hset_add(&b->distinct, e->vh, 1))
        return AH_ERR_NOMEM;
    return AH_OK;
}

static burst *burst_new(void)
{
    burst *b = calloc(1, sizeof *b);
    if (b)
        ah_buf_init(&b->ids, 0);
    return b;
}

/* Report the burst and forget it. */
static void burst_close(ah_correlator *c, group *g, ah_corr_hit_fn fn, void *ud)
{
    burst *b = g->burst;
    const ah_rule *r = c->rs->rules[g->rule];
    ah_observation first, lastobs;
    if (b->records && ah_observation_decode(ah_span_make(b->first, b->first_len), &first) == AH_OK &&
        ah_observation_decode(ah_span_make(b->lastb, b->last_len), &lastobs) == AH_OK) {
        for (size_t i = 0; i < b->nids; i++) {
            size_t from = i ? b->id_end[i - 1] : 0;
            c->ids[i] = ah_span_make(b->ids.data + from, b->id_end[i] - from);
        }
        hit_in in;
        memset(&in, 0, sizeof in);
        in.rule = r;
        in.group = ah_span_make(g->key, g->keylen);
        in.count = b->count;
        in.records = b->records;
        in.distinct = r->corr->multi ? term_value(b->slots, 0) : (double)b->distinct.count;
        in.has_distinct = r->corr->agg == AHI_AGG_DISTINCT;
        in.slots = r->corr->multi ? b->slots : NULL;
        in.sum = b->sum;
        in.has_sum = r->corr->agg == AHI_AGG_SUM;
        in.value = in.has_distinct ? in.distinct : in.has_sum ? in.sum : (double)b->count;
        in.baseline = g->baseline_max;
        in.has_baseline = r->corr->relative && g->has_baseline;
        in.continues = b->continues;
        in.facts = b->facts;
        emit(c, &in, &first, &lastobs, NULL, b->nids, fn, ud);
    }
    burst_unlink(c, g);
    burst_free(b);
    g->burst = NULL;
    account(c, g);
}

/* Report the bursts whose window has gone quiet by `now` (all with now NULL). */
static void burst_flush(ah_correlator *c, const ah_time *now, ah_corr_hit_fn fn, void *ud)
{
    for (size_t k = 0; k < c->ncorr; k++) {
        size_t ri = c->corr_rules[k];
        rule_state *rs = &c->rules[ri];
        int64_t w = c->rs->rules[ri]->meta.window_ns;
        while (rs->bhead && (!now || time_diff(rs->bhead->burst->last, *now) > w))
            burst_close(c, rs->bhead, fn, ud);
    }
}

/* phase: PHASE_LEARN or PHASE_CHECK (always CHECK without `x baseline`). */
static ah_status agg_feed(ah_correlator *c, const ah_rule *r, group *g, const ah_observation *o, baseline_phase phase,
                          ah_corr_hit_fn fn, void *ud)
{
    const ahi_corr *rc = r->corr;
    int64_t w = r->meta.window_ns;
    if (is_closing(rc)) {
        if (g->anchored && time_diff(g->anchor, o->time) > w)
            agg_close(c, r, g, fn, ud);
    } else {
        awin_slide(&g->win, o->time, w, rc->multi ? rc : NULL);
    }
    ah_status st = awin_push(c, &g->win, rc->agg, o, rc->multi ? rc : NULL);
    if (st != AH_OK)
        return st;
    if (is_closing(rc)) {
        if (!g->anchored) {
            g->anchored = true;
            g->anchor = o->time;
        }
        return AH_OK;
    }
    if (phase == PHASE_LEARN) {
        /* Only a joining event raises count, distinct or a sum of
         * non-negative numbers, so the largest window value of the period
         * is the largest seen here. */
        double value = awin_value(rc->agg, &g->win);
        if (!g->has_baseline || value > g->baseline_max)
            g->baseline_max = value;
        g->has_baseline = true;
        return AH_OK;
    }
    const entry *e = awin_at(&g->win, g->win.n - 1);
    if (g->burst) {
        /* The burst goes on (it would have been closed if quiet); past the
         * maximum extent it is reported and a new hit continues it. */
        int64_t max_extent = w > AH_CORR_MAX_EXTENT_NS ? w : AH_CORR_MAX_EXTENT_NS;
        if (time_diff(g->burst->start, o->time) > max_extent) {
            burst_close(c, g, fn, ud);
            g->burst = burst_new();
            if (!g->burst)
                return AH_ERR_NOMEM;
            g->burst->continues = true;
        }
        burst_touch(c, g);
        return burst_add(g->burst, e, rc->agg, rc->multi ? rc : NULL);
    }
    if (rc->multi ? !slots_fire(rc, g->win.slots) : !agg_fires(rc, g, awin_value(rc->agg, &g->win)))
        return AH_OK;
    /* The burst opens with the events of the window that made it. */
    g->burst = burst_new();
    if (!g->burst)
        return AH_ERR_NOMEM;
    burst_touch(c, g);
    for (size_t i = 0; i < g->win.n; i++)
        if ((st = burst_add(g->burst, awin_at(&g->win, i), rc->agg, rc->multi ? rc : NULL)) != AH_OK)
            return st;
    return AH_OK;
}

/* --- sequence ----------------------------------------------------------- */

/* dst = src's blobs followed by o's (src NULL: o starts the match). */
static bool run_extend(group *g, run *dst, const run *src, const ah_observation *o)
{
    size_t n = src ? src->n + 1 : 1;
    char **blobs = calloc(n, sizeof *blobs);
    size_t *blens = calloc(n, sizeof *blens);
    if (!blobs || !blens) {
        free(blobs);
        free(blens);
        return false;
    }
    for (size_t i = 0; i + 1 < n; i++) {
        blobs[i] = malloc(src->blens[i] ? src->blens[i] : 1);
        if (!blobs[i])
            goto fail;
        memcpy(blobs[i], src->blobs[i], src->blens[i]);
        blens[i] = src->blens[i];
    }
    blobs[n - 1] = encode_copy(o, &blens[n - 1]);
    if (!blobs[n - 1])
        goto fail;
    ah_time start = src ? src->start : o->time;
    size_t lead = src ? src->lead : 1;
    uint64_t lead_count = src ? src->lead_count : 1, lead_records = src ? src->lead_records : 1;
    unsigned facts = (src ? src->facts : 0) | o->facts;
    run_clear(g, dst);
    dst->facts = facts;
    dst->has = true;
    dst->start = start;
    dst->last = o->time;
    dst->blobs = blobs;
    dst->blens = blens;
    dst->n = n;
    dst->lead = lead;
    dst->lead_count = lead_count;
    dst->lead_records = lead_records;
    for (size_t i = 0; i < n; i++)
        g->run_bytes += blens[i] + sizeof(char *) + sizeof(size_t);
    return true;
fail:
    for (size_t i = 0; i < n; i++)
        free(blobs[i]);
    free(blobs);
    free(blens);
    return false;
}

/* dst = the first step reached by an aggregation: the window's events
 * (the first AH_CORR_MAX_IDS of them kept), starting at the oldest. */
static bool run_from_window(group *g, run *dst, const awin *w)
{
    size_t n = w->n < AH_CORR_MAX_IDS ? w->n : AH_CORR_MAX_IDS;
    char **blobs = calloc(n ? n : 1, sizeof *blobs);
    size_t *blens = calloc(n ? n : 1, sizeof *blens);
    if (!blobs || !blens) {
        free(blobs);
        free(blens);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        const entry *e = awin_at(w, i);
        blobs[i] = malloc(e->blen ? e->blen : 1);
        if (!blobs[i]) {
            for (size_t k = 0; k < i; k++)
                free(blobs[k]);
            free(blobs);
            free(blens);
            return false;
        }
        memcpy(blobs[i], e->blob, e->blen);
        blens[i] = e->blen;
    }
    unsigned facts = 0;
    for (size_t i = 0; i < w->n; i++) { /* every event of the step, the ones past the kept blobs too */
        ah_observation o;
        if (ah_observation_decode(ah_span_make(awin_at(w, i)->blob, awin_at(w, i)->blen), &o) == AH_OK)
            facts |= o.facts;
    }
    run_clear(g, dst);
    dst->facts = facts;
    dst->has = true;
    dst->start = awin_at(w, 0)->t;
    dst->last = awin_at(w, w->n - 1)->t;
    dst->blobs = blobs;
    dst->blens = blens;
    dst->n = n;
    dst->lead = n;
    dst->lead_count = w->n - w->ntwins;
    dst->lead_records = w->n;
    for (size_t i = 0; i < n; i++)
        g->run_bytes += blens[i] + sizeof(char *) + sizeof(size_t);
    return true;
}

/* The same event cannot play two steps of one match. */
static bool same_event_as_last(const run *r, const ah_observation *o)
{
    ah_observation last;
    if (!r->n || ah_observation_decode(ah_span_make(r->blobs[r->n - 1], r->blens[r->n - 1]), &last) != AH_OK)
        return false;
    return last.record_no == o->record_no && last.time.sec == o->time.sec && last.time.nsec == o->time.nsec &&
           last.record_id.n == o->record_id.n &&
           (!o->record_id.n || memcmp(last.record_id.p, o->record_id.p, o->record_id.n) == 0) &&
           last.input.n == o->input.n && (!o->input.n || memcmp(last.input.p, o->input.p, o->input.n) == 0);
}

static void seq_emit(ah_correlator *c, const ah_rule *r, group *g, run *rn, ah_corr_hit_fn fn, void *ud)
{
    ah_observation first, lastobs;
    if (ah_observation_decode(ah_span_make(rn->blobs[0], rn->blens[0]), &first) != AH_OK ||
        ah_observation_decode(ah_span_make(rn->blobs[rn->n - 1], rn->blens[rn->n - 1]), &lastobs) != AH_OK)
        return;
    hit_in in;
    memset(&in, 0, sizeof in);
    in.rule = r;
    in.group = ah_span_make(g->key, g->keylen);
    /* Steps reached; an aggregating first step is one step of many events. */
    size_t later = rn->n - rn->lead;
    in.value = (double)(1 + later);
    in.count = rn->lead_count + later;
    in.records = rn->lead_records + later;
    in.facts = rn->facts;
    size_t k = collect_ids(c, rn->blobs, rn->blens, rn->n);
    /* `shows STEP`: that step's event speaks for the row (the blobs of an
     * aggregating first step come first, then one per later step) */
    ah_observation speaker;
    size_t shows = r->corr->shows, at = shows ? rn->lead + shows - 1 : 0;
    bool has_speaker =
        shows && at < rn->n && ah_observation_decode(ah_span_make(rn->blobs[at], rn->blens[at]), &speaker) == AH_OK;
    emit(c, &in, &first, &lastobs, has_speaker ? &speaker : NULL, k, fn, ud);
}

static ah_status pending_push(ah_correlator *c, size_t rule, const group *g, ah_time deadline)
{
    rule_state *rs = &c->rules[rule];
    if (rs->phead + rs->pn == rs->pcap) {
        if (rs->phead) {
            memmove(rs->pend, rs->pend + rs->phead, rs->pn * sizeof *rs->pend);
            rs->phead = 0;
        } else {
            pending *np = ah_grow_array(rs->pend, &rs->pcap, 16, sizeof *np);
            if (!np)
                return AH_ERR_NOMEM;
            rs->pend = np;
        }
    }
    pending *p = &rs->pend[rs->phead + rs->pn];
    p->key = malloc(g->keylen + 1);
    if (!p->key)
        return AH_ERR_NOMEM;
    memcpy(p->key, g->key, g->keylen + 1);
    p->keylen = g->keylen;
    p->deadline = deadline;
    rs->pn++;
    c->stats.bytes += sizeof *p + g->keylen + 1;
    return AH_OK;
}

/* Emit the absence matches whose window closed before `now` (all with now NULL). */
static void pending_flush(ah_correlator *c, const ah_time *now, ah_corr_hit_fn fn, void *ud)
{
    for (size_t k = 0; k < c->ncorr; k++) {
        size_t ri = c->corr_rules[k];
        rule_state *rs = &c->rules[ri];
        while (rs->pn) {
            pending *p = &rs->pend[rs->phead];
            if (now && time_cmp(p->deadline, *now) >= 0)
                break;
            const ah_rule *r = c->rs->rules[ri];
            group *g = group_find(c, ri, ah_span_make(p->key, p->keylen));
            size_t last = r->corr->nsteps - 1;
            if (g && g->nruns > last - 1) {
                run *rn = &g->runs[last - 1];
                if (rn->has && time_cmp(time_add(rn->start, r->meta.window_ns), p->deadline) == 0) {
                    seq_emit(c, r, g, rn, fn, ud);
                    run_clear(g, rn);
                    account(c, g);
                }
            }
            c->stats.bytes -= sizeof *p + p->keylen + 1;
            free(p->key);
            rs->phead++;
            rs->pn--;
        }
        if (!rs->pn)
            rs->phead = 0;
    }
}

static ah_status seq_feed(ah_correlator *c, const ah_rule *r, group *g, const ah_observation *o, ah_corr_hit_fn fn,
                          void *ud)
{
    const ahi_corr *rc = r->corr;
    size_t nsteps = rc->nsteps, i = o->step;
    if (i >= nsteps)
        return AH_ERR_USAGE;
    if (!g->runs) {
        g->runs = calloc(nsteps, sizeof *g->runs);
        if (!g->runs)
            return AH_ERR_NOMEM;
        g->nruns = nsteps;
    }
    int64_t w = r->meta.window_ns;
    bool absent_last = rc->steps[nsteps - 1].absent;
    /* Drop partial matches that can no longer complete. */
    for (size_t k = 0; k + 1 < nsteps; k++)
        if (g->runs[k].has && time_diff(g->runs[k].start, o->time) > w && !(absent_last && k + 2 == nsteps))
            run_clear(g, &g->runs[k]);
    if (absent_last && i == nsteps - 1) {
        /* B came: A is followed by B within the window. */
        run *rn = &g->runs[nsteps - 2];
        if (rn->has && time_diff(rn->start, o->time) <= w && !same_event_as_last(rn, o))
            run_clear(g, rn);
        return AH_OK;
    }
    const ahi_cstep_def *st0 = &rc->steps[0];
    if (i == 0 && st0->has_when) {
        /* The first step aggregates: reached (again, with a later start)
         * whenever its window of `within` satisfies its condition. */
        awin_slide(&g->win, o->time, w, NULL);
        ah_status s = awin_push(c, &g->win, st0->agg, o, NULL);
        if (s != AH_OK)
            return s;
        if (!cmp_holds(st0->cmp, st0->threshold, awin_value(st0->agg, &g->win)))
            return AH_OK;
        if (!run_from_window(g, &g->runs[0], &g->win))
            return AH_ERR_NOMEM;
    } else if (i == 0) {
        if (!run_extend(g, &g->runs[0], NULL, o))
            return AH_ERR_NOMEM;
    } else {
        run *prev = &g->runs[i - 1];
        if (!prev->has || time_diff(prev->start, o->time) > w || same_event_as_last(prev, o))
            return AH_OK;
        if (!run_extend(g, &g->runs[i], prev, o))
            return AH_ERR_NOMEM;
    }
    if (i == nsteps - 1) {
        seq_emit(c, r, g, &g->runs[i], fn, ud);
        for (size_t k = 0; k < nsteps; k++)
            run_clear(g, &g->runs[k]); /* one hit per match: start over */
        awin_clear(&g->win);
    } else if (absent_last && i == nsteps - 2) {
        return pending_push(c, r->meta.index, g, time_add(g->runs[i].start, w));
    }
    return AH_OK;
}

/* --- first-seen --------------------------------------------------------- */

static ah_status fs_feed(ah_correlator *c, const ah_rule *r, group *g, const ah_observation *o, ah_corr_hit_fn fn,
                         void *ud)
{
    uint64_t vh = ah_hash64(o->value.p ? o->value.p : "", o->value.n, VAL_SEED);
    baseline_phase phase = baseline_phase_of(c, r, o->time);
    if (phase == PHASE_IGNORE)
        return AH_OK;
    bool learning = phase == PHASE_LEARN;
    bool seen = hset_has(&g->seen, vh);
    if (!seen && !hset_add(&g->seen, vh, 1))
        return AH_ERR_NOMEM;
    if (learning || seen)
        return AH_OK;
    size_t len = 0;
    char *blob = encode_copy(o, &len);
    if (!blob)
        return AH_ERR_NOMEM;
    hit_in in;
    memset(&in, 0, sizeof in);
    in.rule = r;
    in.group = ah_span_make(g->key, g->keylen);
    in.value = 1;
    in.count = 1;
    size_t k = collect_ids(c, &blob, &len, 1);
    ah_observation copy;
    if (ah_observation_decode(ah_span_make(blob, len), &copy) == AH_OK)
        emit(c, &in, &copy, &copy, NULL, k, fn, ud);
    free(blob);
    return AH_OK;
}

/* --- life cycle --------------------------------------------------------- */

ah_correlator *ah_correlator_new(const ah_ruleset *rs, size_t memory_budget, ah_diag *diag)
{
    if (!rs || !rs->compiled)
        return NULL;
    ah_correlator *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->rs = rs;
    c->diag = diag;
    c->budget = memory_budget ? memory_budget : AH_CORR_DEFAULT_BUDGET;
    if (c->budget < AH_CORR_MIN_BUDGET)
        c->budget = AH_CORR_MIN_BUDGET;
    c->nrules = rs->nrules;
    c->rules = calloc(c->nrules ? c->nrules : 1, sizeof *c->rules);
    c->corr_rules = calloc(c->nrules ? c->nrules : 1, sizeof *c->corr_rules);
    if (!c->rules || !c->corr_rules) {
        free(c->rules);
        free(c->corr_rules);
        free(c);
        return NULL;
    }
    for (size_t ri = 0; ri < c->nrules; ri++)
        if (rs->rules[ri]->corr)
            c->corr_rules[c->ncorr++] = ri;
    ah_buf_init(&c->details, 64 * 1024);
    ah_buf_init(&c->aggregates, 0);
    ah_buf_init(&c->canon_new, 0);
    ah_buf_init(&c->canon_old, 0);
    return c;
}

void ah_correlator_free(ah_correlator *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nbuckets; i++)
        for (group *g = c->buckets[i], *next; g; g = next) {
            next = g->hnext;
            group_free(g);
        }
    free(c->buckets);
    for (size_t i = 0; i < c->nrules; i++) {
        rule_state *rs = &c->rules[i];
        for (size_t k = 0; k < rs->pn; k++)
            free(rs->pend[rs->phead + k].key);
        free(rs->pend);
    }
    free(c->rules);
    free(c->corr_rules);
    ah_buf_free(&c->details);
    ah_buf_free(&c->aggregates);
    ah_buf_free(&c->canon_new);
    ah_buf_free(&c->canon_old);
    free(c);
}

ah_status ah_correlator_set_baseline(ah_correlator *c, ah_time from, ah_time to)
{
    if (!c || c->started || time_cmp(from, to) > 0)
        return AH_ERR_USAGE;
    c->have_baseline = true;
    c->base_from = from;
    c->base_to = to;
    return AH_OK;
}

ah_status ah_correlator_set_data_start(ah_correlator *c, ah_time start)
{
    if (!c || c->started)
        return AH_ERR_USAGE;
    c->have_start = true;
    c->data_start = start;
    return AH_OK;
}

ah_status ah_correlator_feed(ah_correlator *c, const ah_observation *o, ah_corr_hit_fn fn, void *ud)
{
    if (!c || !o || c->finished)
        return AH_ERR_USAGE;
    size_t ri = o->rule ? o->rule->meta.index : o->rule_index;
    if (ri >= c->nrules)
        return AH_ERR_USAGE;
    const ah_rule *r = c->rs->rules[ri];
    if (!r->corr || r->failed || r->meta.skipped || o->step >= r->corr->nsteps)
        return AH_ERR_USAGE;
    if (c->started && time_cmp(o->time, c->last) < 0)
        return AH_ERR_USAGE;
    if (!c->started) {
        c->started = true;
        if (!c->have_start)
            c->data_start = o->time;
    }
    c->last = o->time;
    c->stats.observations++;
    c->rules[ri].st.observations++;
    burst_flush(c, &o->time, fn, ud);
    pending_flush(c, &o->time, fn, ud);
    baseline_phase phase = PHASE_CHECK;
    if (r->meta.kind == AH_RULE_AGGREGATE && r->corr->relative) {
        phase = baseline_phase_of(c, r, o->time);
        /* After the learning period only groups that have a baseline keep
         * state; a new group could never fire, so it costs nothing. */
        if (phase == PHASE_IGNORE || (phase == PHASE_CHECK && !group_find(c, ri, o->key))) {
            c->stats.groups = c->ngroups;
            return AH_OK;
        }
    } else if (r->meta.kind == AH_RULE_SEQUENCE && o->step > 0 && !group_find(c, ri, o->key)) {
        /* A later step with no match started for its key can do nothing:
         * no group for it (most sign-ins never follow a spray). */
        c->stats.groups = c->ngroups;
        return AH_OK;
    } else if (r->meta.kind == AH_RULE_AGGREGATE && r->corr->outside) {
        /* `outside baseline`: a group seen while learning is known and
         * never counts; only groups new after the period aggregate. */
        baseline_phase ph = baseline_phase_of(c, r, o->time);
        if (ph == PHASE_IGNORE)
            return AH_OK;
        if (ph == PHASE_CHECK) {
            group *known = group_find(c, ri, o->key);
            if (known && known->has_baseline) {
                lru_touch(c, known);
                return AH_OK;
            }
        }
        phase = ph;
    }
    group *g = group_get(c, ri, o->key);
    if (!g) {
        enforce_budget(c, NULL, fn, ud);
        g = group_get(c, ri, o->key);
        if (!g)
            return AH_ERR_NOMEM;
    }
    lru_touch(c, g);
    ah_status st;
    if (r->meta.kind == AH_RULE_AGGREGATE && r->corr->outside && phase == PHASE_LEARN) {
        g->has_baseline = true;
        st = AH_OK;
    } else {
        switch (r->meta.kind) {
        case AH_RULE_AGGREGATE: st = agg_feed(c, r, g, o, phase, fn, ud); break;
        case AH_RULE_SEQUENCE: st = seq_feed(c, r, g, o, fn, ud); break;
        default: st = fs_feed(c, r, g, o, fn, ud); break;
        }
    }
    account(c, g);
    enforce_budget(c, g, fn, ud);
    c->stats.groups = c->ngroups;
    return st;
}

ah_status ah_correlator_finish(ah_correlator *c, ah_corr_hit_fn fn, void *ud)
{
    if (!c || c->finished)
        return AH_ERR_USAGE;
    c->finished = true;
    burst_flush(c, NULL, fn, ud);
    pending_flush(c, NULL, fn, ud);
    /* Open `<` / `<=` windows, oldest group first for a stable order. */
    for (group *g = c->lru_head; g; g = g->lnext) {
        const ah_rule *r = c->rs->rules[g->rule];
        if (r->meta.kind == AH_RULE_AGGREGATE && is_closing(r->corr) && g->anchored)
            agg_close(c, r, g, fn, ud);
    }
    for (size_t i = 0; i < c->nrules; i++)
        if (c->rules[i].st.evicted)
            ah_diag_report(c->diag, AH_SEV_WARNING, NULL,
                           "correlation rule %s lost state: %llu group(s) evicted at the memory budget (%zu bytes); "
                           "it may have missed hits (raise --memory)",
                           c->rs->rules[i]->meta.id, (unsigned long long)c->rules[i].st.evicted, c->budget);
    return AH_OK;
}

void ah_correlator_get_stats(const ah_correlator *c, ah_correlator_stats *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    if (c) {
        *out = c->stats;
        out->groups = c->ngroups;
    }
}

void ah_correlator_rule_stats(const ah_correlator *c, size_t rule_index, ah_corr_rule_stats *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    if (c && rule_index < c->nrules)
        *out = c->rules[rule_index].st;
}
