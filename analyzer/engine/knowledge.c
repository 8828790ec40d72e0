/* knowledge.c: the case knowledge behind `routine` (see knowledge.h). */
#include "knowledge.h"

#include "../../parsers/util/hash.h"
#include "../../parsers/util/varint.h"

#include <stdlib.h>
#include <string.h>

#define MAX_KINDS 16
#define PAIR_SEED 0x7061697273ull  /* "pairs" */
#define ADMIN_SEED 0x61646d696eull /* "admin" */

typedef struct slot {
    uint64_t key;  /* 0 = empty */
    ah_time first; /* earliest sighting */
} slot;

/* Open-addressing set of 64-bit keys (linear probing), with a time each. */
typedef struct table {
    slot *v;
    size_t cap, n;
} table;

struct ah_knowledge {
    struct ah_routine_pair kind[MAX_KINDS]; /* the pairs some rule names */
    size_t nkinds;
    bool wanted, escalates;
    table pairs;
    table admins;
    table taught; /* admin taught by a hit: account key -> earliest time */
    size_t budget;
    bool has_baseline;
    ah_time from, to;
    ah_knowledge_stats st;
};

static int time_cmp(ah_time a, ah_time b)
{
    if (a.sec != b.sec)
        return a.sec < b.sec ? -1 : 1;
    return a.nsec < b.nsec ? -1 : a.nsec > b.nsec;
}

static slot *find(const table *t, uint64_t key)
{
    if (!t->cap)
        return NULL;
    size_t mask = t->cap - 1;
    for (size_t i = (size_t)key & mask;; i = (i + 1) & mask) {
        if (t->v[i].key == key)
            return &t->v[i];
        if (!t->v[i].key)
            return NULL;
    }
}

/* Insert or lower the time of key. False when it would pass the budget
 * (the table stays as it was) or memory runs out. */
static bool put(ah_knowledge *k, table *t, uint64_t key, ah_time when)
{
    slot *s = find(t, key);
    if (s) {
        if (time_cmp(when, s->first) < 0)
            s->first = when;
        return true;
    }
    if ((t->n + 1) * 2 > t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 256;
        size_t grow = (ncap - t->cap) * sizeof(slot);
        if (k->st.bytes + grow > k->budget)
            return false;
        slot *nv = calloc(ncap, sizeof *nv);
        if (!nv)
            return false;
        for (size_t i = 0; i < t->cap; i++)
            if (t->v[i].key) {
                size_t j = (size_t)t->v[i].key & (ncap - 1);
                while (nv[j].key)
                    j = (j + 1) & (ncap - 1);
                nv[j] = t->v[i];
            }
        free(t->v);
        t->v = nv;
        t->cap = ncap;
        k->st.bytes += grow;
    }
    size_t mask = t->cap - 1, i = (size_t)key & mask;
    while (t->v[i].key)
        i = (i + 1) & mask;
    t->v[i] = (slot){key, when};
    t->n++;
    return true;
}

/* Values compare case-insensitively and without surrounding blanks. */
static uint64_t pair_key(struct ah_routine_pair kind, ah_span a, ah_span b)
{
    a = ah_span_trim(a);
    b = ah_span_trim(b);
    uint64_t h = ah_hash64_ci(a.p, a.n, PAIR_SEED + ((uint64_t)kind.a << 8) + kind.b);
    h = ah_hash64_ci(b.p, b.n, h);
    return h ? h : 1;
}

static uint64_t account_key(ah_span user)
{
    user = ah_span_trim(user);
    uint64_t h = ah_hash64_ci(user.p, user.n, ADMIN_SEED);
    return h ? h : 1;
}

ah_knowledge *ah_knowledge_new(const ah_ruleset *rs, size_t budget)
{
    ah_knowledge *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    k->budget = budget ? budget : AH_KNOWLEDGE_DEFAULT_BUDGET;
    for (size_t r = 0; r < ah_ruleset_count(rs); r++) {
        const ah_rule_meta *m = ah_rule_metadata(ah_ruleset_rule(rs, r));
        k->wanted |= m->nroutine_pairs > 0 || m->routine_admin || m->escalate_facts; /* teaching alone serves no one */
        k->escalates |= m->escalate_facts != 0;
        for (size_t i = 0; i < m->nroutine_pairs; i++) {
            bool have = false;
            for (size_t j = 0; j < k->nkinds && !have; j++)
                have = k->kind[j].a == m->routine_pair[i].a && k->kind[j].b == m->routine_pair[i].b;
            if (!have && k->nkinds < MAX_KINDS)
                k->kind[k->nkinds++] = m->routine_pair[i];
        }
    }
    return k;
}

void ah_knowledge_free(ah_knowledge *k)
{
    if (!k)
        return;
    free(k->pairs.v);
    free(k->admins.v);
    free(k->taught.v);
    free(k);
}

bool ah_knowledge_wanted(const ah_knowledge *k) { return k && k->wanted; }

bool ah_knowledge_escalates(const ah_knowledge *k) { return k && k->escalates; }

ah_fact_sighting ah_knowledge_sighting(unsigned facts, ah_span account, ah_time when)
{
    return (ah_fact_sighting){account_key(account), when, facts};
}

void ah_knowledge_add_sighting(ah_knowledge *k, const ah_fact_sighting *s)
{
    if (!(s->facts & AH_FACT_ADMIN))
        return;
    if (!put(k, &k->taught, s->key, s->when))
        k->st.dropped++;
    k->st.admins_taught = k->taught.n;
}

/* Inside the baseline: no later than its end (a grant before it still holds). */
static bool taught_in_baseline(const ah_knowledge *k, const table *t, uint64_t key)
{
    const slot *s = find(t, key);
    return s && k->has_baseline && time_cmp(s->first, k->to) <= 0;
}

unsigned ah_knowledge_facts(const ah_knowledge *k, ah_span account)
{
    account = ah_span_trim(account);
    if (!k || !account.n)
        return 0;
    uint64_t key = account_key(account);
    return find(&k->admins, key) || taught_in_baseline(k, &k->taught, key) ? AH_FACT_ADMIN : 0;
}

ah_status ah_knowledge_set_admins(ah_knowledge *k, const char *list)
{
    static const char seps[] = ", ;\t\r\n";
    for (const char *p = list; p && *p;) {
        size_t n = strcspn(p, seps);
        if (n) {
            if (!put(k, &k->admins, account_key(ah_span_make(p, n)), (ah_time){0, 0}))
                return AH_ERR_NOMEM;
            k->st.admins = k->admins.n;
        }
        p += n;
        p += strspn(p, seps);
    }
    return AH_OK;
}

void ah_knowledge_learn(ah_knowledge *k, const ah_event *ev)
{
    if (!k->nkinds || !ev->has_time)
        return;
    for (size_t i = 0; i < k->nkinds; i++) {
        ah_span a = ev->field[k->kind[i].a], b = ev->field[k->kind[i].b];
        if (!ah_span_trim(a).n || !ah_span_trim(b).n)
            continue;
        if (!put(k, &k->pairs, pair_key(k->kind[i], a, b), ev->time))
            k->st.dropped++;
    }
    k->st.pairs = k->pairs.n;
}

void ah_knowledge_set_baseline(ah_knowledge *k, ah_time from, ah_time to)
{
    k->has_baseline = true;
    k->from = from;
    k->to = to;
}

bool ah_knowledge_routine(const ah_knowledge *k, const ah_rule_meta *m, const ah_span *field)
{
    if (!m->nroutine_pairs && !m->routine_admin)
        return false;
    if (m->routine_admin && !(ah_knowledge_facts(k, field[AH_F_USER]) & AH_FACT_ADMIN))
        return false;
    for (size_t i = 0; i < m->nroutine_pairs; i++) {
        ah_span a = field[m->routine_pair[i].a], b = field[m->routine_pair[i].b];
        if (!k->has_baseline || !ah_span_trim(a).n || !ah_span_trim(b).n)
            return false;
        const slot *s = find(&k->pairs, pair_key(m->routine_pair[i], a, b));
        /* first seen inside the baseline; a pair first seen before it was
         * still in use, and one first seen after it is new */
        if (!s || time_cmp(s->first, k->to) > 0)
            return false;
    }
    return true;
}

void ah_knowledge_get_stats(const ah_knowledge *k, ah_knowledge_stats *out)
{
    if (k && out)
        *out = k->st;
}

/* --- saved facts (hunt --partial) ----------------------------------------- */

/* A table as (key, first time) triples ended by key 0. */
static void save_table(const table *t, ah_buf *out)
{
    unsigned char tmp[3 * AH_VARINT_MAX];
    for (size_t i = 0; i < t->cap; i++) {
        const slot *s = &t->v[i];
        if (!s->key)
            continue;
        unsigned char *p = ah_put_uvarint(tmp, s->key);
        p = ah_time_put(p, s->first);
        ah_buf_append(out, tmp, (size_t)(p - tmp));
    }
    unsigned char *p = ah_put_uvarint(tmp, 0);
    ah_buf_append(out, tmp, (size_t)(p - tmp));
}

static bool load_table(ah_knowledge *k, table *t, ah_vcursor *c)
{
    for (;;) {
        uint64_t key = ah_get_uvarint(c);
        if (!c->ok)
            return false;
        if (!key)
            return true;
        ah_time when = ah_time_get(c);
        if (!c->ok)
            return false;
        if (!put(k, t, key, when)) /* the earliest time wins: a union in any order */
            k->st.dropped++;
    }
}

/* The pairs, the dropped count, then the administrators taught by hits
 * (issue 9's `teaches admin`): both are unions over the shards. */
ah_status ah_knowledge_save(const ah_knowledge *k, ah_buf *out)
{
    save_table(&k->pairs, out);
    unsigned char tmp[AH_VARINT_MAX];
    unsigned char *p = ah_put_uvarint(tmp, k->st.dropped);
    ah_buf_append(out, tmp, (size_t)(p - tmp));
    save_table(&k->taught, out);
    return ah_buf_status(out);
}

ah_status ah_knowledge_load_saved(ah_knowledge *k, ah_span saved)
{
    ah_vcursor c = {(const unsigned char *)saved.p, (const unsigned char *)saved.p + saved.n, true};
    if (!load_table(k, &k->pairs, &c))
        return AH_ERR_RECORD;
    k->st.dropped += ah_get_uvarint(&c);
    if (!c.ok || !load_table(k, &k->taught, &c))
        return AH_ERR_RECORD;
    k->st.pairs = k->pairs.n;
    k->st.admins_taught = k->taught.n;
    return c.p == c.end ? AH_OK : AH_ERR_RECORD;
}
