/*
 * match.c: evaluating compiled rules against events.
 *
 * Per event, the index (ruleset.c) yields the candidate rules: the rules
 * for the event's source that pin no operation, merged in rule order with
 * the rules filed under the event's canonical operation. Comparisons on
 * normalized fields read spans straight from the event; set and CIDR
 * lookups hash or binary-search without allocating.
 *
 * Raw paths need the record's JSON tree. It is parsed (cJSON) on the first
 * raw access for an event and cached in the matcher until the next event,
 * so any number of rules share one parse and events no rule looks into are
 * never parsed. Strings holding JSON are decoded when a path step needs an
 * object or array inside them; the decoded tree is hung on the string
 * node's unused `child` pointer (cJSON_Delete frees it with the tree), so
 * the string itself stays available to comparisons and each layer is
 * decoded at most once per event.
 *
 * Values: a path may yield several values ([*], selections, arrays met on
 * the way); a comparison is true when any value satisfies it. Arrays at the
 * end of a path compare element by element; objects compare as their
 * compact JSON text; JSON null counts as absent.
 *
 * Size: the evaluator: operand fetching (normalized fields, raw paths over
 * cJSON, decoded JSON strings), every operator's evaluation and the regex
 * prefilter share the per-event caches. The hot-path issue replaces the
 * cJSON walk with the span walker.
 */
#include "rules_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../parsers/formats/formats.h"
#include "../../parsers/formats/timeparse.h"
#include "../../parsers/frame/jscan.h"
#include "../../parsers/util/utf8.h"

/* --- life cycle -------------------------------------------------------- */

ah_matcher *ah_matcher_new(const ah_ruleset *rs)
{
    ah_matcher *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->rs = rs;
    ah_buf_init(&m->scratch, AHI_MAX_PRINT + 16);
    ah_buf_init(&m->obs_key, 4096);
    ah_buf_init(&m->obs_val, 4096);
    ah_buf_init(&m->obs_tmp, 4096);
    m->md = pcre2_match_data_create(1, NULL);
    m->mctx = pcre2_match_context_create(NULL);
    m->jit = pcre2_jit_stack_create(32 * 1024, 512 * 1024, NULL);
    if (!m->md || !m->mctx) {
        ah_matcher_free(m);
        return NULL;
    }
    if (m->jit)
        pcre2_jit_stack_assign(m->mctx, NULL, m->jit);
    pcre2_set_match_limit(m->mctx, AHI_REGEX_MATCH_LIMIT);
    pcre2_set_depth_limit(m->mctx, 10000);
    pcre2_set_heap_limit(m->mctx, 20 * 1024); /* KiB */
    return m;
}

void ah_matcher_set_first_look(ah_matcher *m, bool on)
{
    if (m)
        m->no_prefilter = !on;
}

static void drop_trees(ah_matcher *m)
{
    if (m->raw && m->raw != m->body)
        cJSON_Delete(m->raw);
    cJSON_Delete(m->body);
    m->raw = m->body = NULL;
    m->body_done = m->raw_done = false;
    for (size_t i = 0; i < m->nmember; i++)
        cJSON_Delete(m->member[i].tree);
    m->nmember = 0;
    m->index[0].done = m->index[1].done = false;
    m->ips_done = false;
}

void ah_matcher_free(ah_matcher *m)
{
    if (!m)
        return;
    drop_trees(m);
    for (int g = 0; g < AHI_LIT_GROUPS; g++)
        free(m->lit_present[g]);
    pcre2_match_data_free(m->md);
    pcre2_match_context_free(m->mctx);
    pcre2_jit_stack_free(m->jit);
    ah_buf_free(&m->scratch);
    ah_buf_free(&m->obs_key);
    ah_buf_free(&m->obs_val);
    ah_buf_free(&m->obs_tmp);
    free(m);
}

void ah_matcher_release(ah_matcher *m)
{
    if (m)
        drop_trees(m);
}

void ah_matcher_begin_event(ah_matcher *m, const ah_event *ev)
{
    drop_trees(m);
    m->ev = ev;
    m->seq++;
    if (ev) {
        m->ev_raw = ev->raw;
        m->ev_body = ev->body;
    }
}

/* Is the cache still about this event? Same struct and same JSON spans (a
 * caller reusing one ah_event for the next record changes at least the
 * spans in practice; ah_matcher_begin_event covers the rest). */
static bool same_event(const ah_matcher *m, const ah_event *ev)
{
    return m->ev == ev && m->ev_raw.p == ev->raw.p && m->ev_raw.n == ev->raw.n && m->ev_body.p == ev->body.p &&
           m->ev_body.n == ev->body.n;
}

ah_status ah_matcher_status(const ah_matcher *m) { return m ? m->status : AH_OK; }

const ah_matcher_stats *ah_matcher_get_stats(const ah_matcher *m) { return &m->stats; }

void ahi_matcher_enter(ah_matcher *m, const ah_event *ev)
{
    if (!same_event(m, ev))
        ah_matcher_begin_event(m, ev);
}

/* --- the record's JSON ------------------------------------------------- */

/* cJSON returns NULL both for text it rejects and when an allocation
 * failed. Text the scanner accepts, cJSON parses too, unless it holds a
 * lone surrogate escape (cJSON refuses those): so a failure on accepted
 * text without a \u escape is an allocation failure, which the matcher
 * remembers (ah_matcher_status: results since then are unsure). With a \u
 * escape the two cannot be told apart; one retry gets past a passing
 * shortage. */
static cJSON *parse_failed(ah_matcher *m, ah_span s)
{
    if (!ah_json_valid(s))
        return NULL;
    if (!ahi_find_ci(s.p, s.n, "\\u", 2)) { /* (finds \\U too: only more retries) */
        m->status = AH_ERR_NOMEM;
        return NULL;
    }
    return cJSON_ParseWithLength(s.p, s.n);
}

static cJSON *parse_span(ah_matcher *m, ah_span s)
{
    if (!s.p || s.n == 0)
        return NULL;
    m->stats.json_parses++;
    cJSON *t = cJSON_ParseWithLength(s.p, s.n);
    if (!t && !(t = parse_failed(m, s)))
        m->stats.json_errors++;
    return t;
}

static cJSON *get_body(ah_matcher *m)
{
    if (!m->body_done) {
        m->body_done = true;
        m->body = parse_span(m, m->ev->body.p ? m->ev->body : m->ev->raw);
    }
    return m->body;
}

static cJSON *get_raw(ah_matcher *m)
{
    if (!m->raw_done) {
        m->raw_done = true;
        const ah_event *ev = m->ev;
        if (!ev->body.p || (ev->body.p == ev->raw.p && ev->body.n == ev->raw.n))
            m->raw = get_body(m);
        else
            m->raw = parse_span(m, ev->raw);
    }
    return m->raw;
}

/* The tree inside a string holding JSON, decoded once and cached on the
 * node. NULL when the string is not a JSON object, array or string. */
static cJSON *decoded(ah_matcher *m, cJSON *s)
{
    if (s->child)
        return (s->child->type & 0xFF) == cJSON_Invalid ? NULL : s->child;
    const char *p = s->valuestring;
    if (!p)
        return NULL;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    if (*p != '{' && *p != '[' && *p != '"')
        return NULL;
    size_t n = strlen(p);
    const char *end = NULL;
    m->stats.json_parses++;
    cJSON *t = cJSON_ParseWithLengthOpts(p, n, &end, 0);
    if (!t)
        t = parse_failed(m, ah_span_make(p, n));
    if (t && end) {
        while (end < p + n && (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
            end++;
        if (end != p + n) {
            cJSON_Delete(t);
            t = NULL;
        }
    }
    if (!t) {
        /* Remember the failure so the next rule does not parse again. */
        t = cJSON_CreateNull();
        if (!t) {
            m->status = AH_ERR_NOMEM;
            return NULL;
        }
        t->type = cJSON_Invalid;
        s->child = t;
        return NULL;
    }
    s->child = t;
    return t;
}

/* --- walking paths ----------------------------------------------------- */

typedef bool (*visit_fn)(ah_matcher *m, cJSON *node, void *ctx);

static cJSON *find_key(cJSON *obj, const char *key, size_t keylen)
{
    for (cJSON *c = obj->child; c; c = c->next)
        if (c->string && ahi_eq_ci(c->string, strlen(c->string), key, keylen))
            return c;
    return NULL;
}

static size_t num_text(double d, char *buf, size_t size)
{
    int n;
    if (d > -1e18 && d < 1e18 && d == (double)(long long)d)
        n = snprintf(buf, size, "%lld", (long long)d);
    else {
        n = snprintf(buf, size, "%.15g", d);
        if (strtod(buf, NULL) != d)
            n = snprintf(buf, size, "%.17g", d);
    }
    return n > 0 ? (size_t)n : 0;
}

/* Text of a scalar node for comparisons and selections. false for null,
 * objects and arrays. */
static bool scalar_text(cJSON *node, const char **p, size_t *n, char *numbuf, size_t numsize)
{
    switch (node->type & 0xFF) {
    case cJSON_String:
        *p = node->valuestring ? node->valuestring : "";
        *n = strlen(*p);
        return true;
    case cJSON_Number:
        *n = num_text(node->valuedouble, numbuf, numsize);
        *p = numbuf;
        return true;
    case cJSON_True:
        *p = "true";
        *n = 4;
        return true;
    case cJSON_False:
        *p = "false";
        *n = 5;
        return true;
    default: return false;
    }
}

static bool sel_match(cJSON *elem, const ahi_cstep *st)
{
    if (!cJSON_IsObject(elem))
        return false;
    cJSON *v = find_key(elem, st->key, st->keylen);
    if (!v)
        return false;
    char nb[40];
    const char *p;
    size_t n;
    if (!scalar_text(v, &p, &n, nb, sizeof nb))
        return false;
    return ahi_eq_ci(p, n, st->sel, st->seln);
}

static bool walk(ah_matcher *m, cJSON *node, const ahi_cstep *st, size_t n, visit_fn fn, void *ctx, int depth)
{
    if (depth > AHI_MAX_WALK || !node)
        return false;
    if (n == 0)
        return fn(m, node, ctx);
    int type = node->type & 0xFF;
    if (type == cJSON_String && st->kind != AHI_STEP_JSON) {
        /* The step needs an object or array: look inside the string. */
        cJSON *d = decoded(m, node);
        return d ? walk(m, d, st, n, fn, ctx, depth + 1) : false;
    }
    switch (st->kind) {
    case AHI_STEP_KEY:
        if (type == cJSON_Object) {
            cJSON *c = find_key(node, st->key, st->keylen);
            return c ? walk(m, c, st + 1, n - 1, fn, ctx, depth) : false;
        }
        if (type == cJSON_Array) {
            /* A key applied to an array applies to each element. */
            for (cJSON *e = node->child; e; e = e->next)
                if (walk(m, e, st, n, fn, ctx, depth + 1))
                    return true;
        }
        return false;
    case AHI_STEP_INDEX: {
        if (type != cJSON_Array)
            return false;
        long long idx = st->index;
        if (idx < 0) {
            long long size = 0;
            for (cJSON *e = node->child; e; e = e->next)
                size++;
            idx += size;
            if (idx < 0)
                return false;
        }
        cJSON *e = node->child;
        for (long long i = 0; e && i < idx; i++)
            e = e->next;
        return e ? walk(m, e, st + 1, n - 1, fn, ctx, depth) : false;
    }
    case AHI_STEP_ALL:
        if (type != cJSON_Array && type != cJSON_Object)
            return false;
        for (cJSON *e = node->child; e; e = e->next)
            if (walk(m, e, st + 1, n - 1, fn, ctx, depth + 1))
                return true;
        return false;
    case AHI_STEP_SELECT:
        if (type == cJSON_Array) {
            for (cJSON *e = node->child; e; e = e->next)
                if (sel_match(e, st) && walk(m, e, st + 1, n - 1, fn, ctx, depth + 1))
                    return true;
            return false;
        }
        return type == cJSON_Object && sel_match(node, st) ? walk(m, node, st + 1, n - 1, fn, ctx, depth) : false;
    case AHI_STEP_JSON:
        if (type == cJSON_String) {
            cJSON *d = decoded(m, node);
            return d ? walk(m, d, st + 1, n - 1, fn, ctx, depth + 1) : false;
        }
        /* Already structured (e.g. Graph records carry objects where other
         * exports carry strings): json() is a no-op. */
        return walk(m, node, st + 1, n - 1, fn, ctx, depth);
    }
    return false;
}

/* The first look for a path that starts with a key: find the member with
 * the scanner and parse only its value (most records lack most members the
 * rules ask for, and then nothing is parsed). Returns 1 / 0, or -1 to take
 * the whole-tree path (the member table is full, or the value does not
 * parse on its own). */
/* A cheap case-insensitive signature of a plain key (never 0), so that a
 * lookup compares few keys byte by byte. */
static uint32_t key_sig(const char *k, size_t n)
{
    if (n == 0)
        return 1;
    unsigned char a = (unsigned char)k[0] | 0x20, mid = (unsigned char)k[n / 2] | 0x20,
                  z = (unsigned char)k[n - 1] | 0x20;
    return ((uint32_t)n << 21 ^ (uint32_t)mid << 14 ^ (uint32_t)a << 7 ^ z) | 0x80000000u;
}

static size_t sig_slot(uint32_t sig) { return (sig * 0x9E3779B1u) >> 24; }

/* The members of the body (which = 0) or the full record (1), scanned
 * once per event; NULL when they do not fit the index or do not scan. */
static const struct ahi_index *member_index(ah_matcher *m, int which)
{
    struct ahi_index *x = &m->index[which];
    if (!x->done) {
        x->done = true;
        x->ok = false;
        x->escaped = false;
        x->n = 0;
        memset(x->slot, 0, sizeof x->slot);
        const ah_event *ev = m->ev;
        bool body = which == 0 && ev->body.p;
        ah_span obj = body ? ev->body : ev->raw;
        const ah_members *known = body ? &ev->body_members : &ev->raw_members;
        /* The normalizer's scan of the object, when it made one; else our own. */
        ah_json_iter it;
        ah_span k, v;
        ah_status st = known->key ? AH_OK : ah_json_object_begin(&it, obj);
        for (size_t at = 0; st == AH_OK;) {
            if (known->key) {
                if (at == known->n) {
                    st = AH_END;
                    break;
                }
                k = known->key[at];
                v = known->val[at++];
            } else if ((st = ah_json_object_next(&it, &k, &v)) != AH_OK) {
                break;
            }
            if (x->n == AHI_MAX_INDEXED)
                return NULL;
            x->key[x->n] = k;
            x->sig[x->n] = memchr(k.p, '\\', k.n) ? 0 : key_sig(k.p, k.n);
            x->val[x->n] = v;
            if (x->sig[x->n] == 0) {
                x->escaped = true;
            } else { /* at most 128 keys in 256 slots: a free one is always found */
                size_t i = sig_slot(x->sig[x->n]);
                while (x->slot[i])
                    i = (i + 1) & 255;
                x->slot[i] = (uint8_t)(x->n + 1);
            }
            x->n++;
        }
        x->ok = st == AH_END;
    }
    return x->ok ? x : NULL;
}

/* 1 and *v when found, 0 when absent, -1 when the index cannot say. */
static int index_get(ah_matcher *m, int which, const char *key, size_t keylen, ah_span *v)
{
    const struct ahi_index *x = member_index(m, which);
    if (!x)
        return -1;
    uint32_t want = key_sig(key, keylen);
    if (!x->escaped) {
        /* Equal keys were filed in member order along one probe chain, so
         * the first found is the first member, as with a scan. */
        for (size_t i = sig_slot(want); x->slot[i]; i = (i + 1) & 255) {
            size_t at = x->slot[i] - 1u;
            if (x->sig[at] == want && x->key[at].n == keylen && ahi_eq_ci(x->key[at].p, keylen, key, keylen)) {
                *v = x->val[at];
                return 1;
            }
        }
        return 0;
    }
    for (size_t i = 0; i < x->n; i++) {
        ah_span k = x->key[i];
        bool eq = x->sig[i] == 0 ? ah_json_key_eq_ci(k, key) : x->sig[i] == want && ahi_eq_ci(k.p, keylen, key, keylen);
        if (eq) {
            *v = x->val[i];
            return 1;
        }
    }
    return 0;
}

static int walk_member(ah_matcher *m, const ahi_operand *o, visit_fn fn, void *ctx)
{
    const ah_event *ev = m->ev;
    ah_span v;
    const char *key = o->steps[0].key;
    int found = index_get(m, 0, key, o->steps[0].keylen, &v);
    bool distinct = ev->body.p && !(ev->body.p == ev->raw.p && ev->body.n == ev->raw.n);
    if (found == 0 && distinct)
        found = index_get(m, 1, key, o->steps[0].keylen, &v);
    if (found <= 0)
        return found;
    cJSON *t = NULL;
    for (size_t i = 0; i < m->nmember && !t; i++)
        if (m->member[i].at == v.p)
            t = m->member[i].tree;
    if (!t) {
        if (m->nmember == AHI_MAX_MEMBERS || !(t = parse_span(m, v)))
            return -1;
        m->member[m->nmember++] = (struct ahi_member){v.p, t};
    }
    return walk(m, t, o->steps + 1, o->nsteps - 1, fn, ctx, 0);
}

/* Walk an operand's path from its root: a bound element, or the record
 * (body first; the full record when the first key is not in the body). */
static bool walk_operand(ah_matcher *m, const ahi_operand *o, visit_fn fn, void *ctx)
{
    if (o->slot >= 0)
        return walk(m, m->slots[o->slot], o->steps, o->nsteps, fn, ctx, 0);
    if (o->nsteps > 0 && o->steps[0].kind == AHI_STEP_KEY && !m->body_done && !m->no_prefilter &&
        memchr(o->steps[0].key, '\0', o->steps[0].keylen) == NULL) {
        int r = walk_member(m, o, fn, ctx);
        if (r >= 0)
            return r;
    }
    cJSON *body = get_body(m);
    if (o->nsteps > 0 && o->steps[0].kind == AHI_STEP_KEY) {
        if (body && cJSON_IsObject(body)) {
            cJSON *c = find_key(body, o->steps[0].key, o->steps[0].keylen);
            if (c)
                return walk(m, c, o->steps + 1, o->nsteps - 1, fn, ctx, 0);
        }
        cJSON *raw = get_raw(m);
        if (raw && raw != body && cJSON_IsObject(raw)) {
            cJSON *c = find_key(raw, o->steps[0].key, o->steps[0].keylen);
            if (c)
                return walk(m, c, o->steps + 1, o->nsteps - 1, fn, ctx, 0);
        }
        return false;
    }
    if (!body)
        body = get_raw(m);
    return walk(m, body, o->steps, o->nsteps, fn, ctx, 0);
}

/* --- comparisons ------------------------------------------------------- */

static const char *find_exact(const char *h, size_t hn, const char *nd, size_t nn)
{
    if (nn == 0)
        return h;
    if (nn > hn)
        return NULL;
    const char *end = h + (hn - nn) + 1;
    for (const char *p = h; p < end;) {
        const char *c = memchr(p, nd[0], (size_t)(end - p));
        if (!c)
            return NULL;
        if (memcmp(c, nd, nn) == 0)
            return c;
        p = c + 1;
    }
    return NULL;
}

static int cmp_double(double a, double b) { return a < b ? -1 : a > b ? 1 : 0; }

static bool order_ok(ahi_op op, int c)
{
    switch (op) {
    case AHI_OP_LT: return c < 0;
    case AHI_OP_LE: return c <= 0;
    case AHI_OP_GT: return c > 0;
    case AHI_OP_GE: return c >= 0;
    default: return false;
    }
}

/* The value-level evaluators of ops.def (EVAL): does one text value p[n]
 * satisfy comparison c? num: the value as a number when known (JSON
 * numbers). Allocation-free. */
static bool op_eq(ah_matcher *m, const ahi_cnode *c, const char *p, size_t n, const double *num)
{
    AH_UNUSED(m);
    const ahi_lit *l = &c->lit;
    if (l->is_num) {
        double v;
        if (num)
            return *num == l->num;
        if (ahi_parse_number(p, n, &v))
            return v == l->num;
    }
    if (c->cased)
        return n == l->n && (n == 0 || memcmp(p, l->s, n) == 0);
    return ahi_eq_ci(p, n, l->s, l->n);
}

static bool op_contains(ah_matcher *m, const ahi_cnode *c, const char *p, size_t n, const double *num)
{
    AH_UNUSED(m);
    AH_UNUSED(num);
    const ahi_lit *l = &c->lit;
    return (c->cased ? find_exact(p, n, l->s, l->n) : ahi_find_ci(p, n, l->s, l->n)) != NULL;
}

static bool op_starts(ah_matcher *m, const ahi_cnode *c, const char *p, size_t n, const double *num)
{
    AH_UNUSED(m);
    AH_UNUSED(num);
    const ahi_lit *l = &c->lit;
    if (n < l->n)
        return false;
    return c->cased ? memcmp(p, l->s, l->n) == 0 : ahi_eq_ci(p, l->n, l->s, l->n);
}

static bool op_ends(ah_matcher *m, const ahi_cnode *c, const char *p, size_t n, const double *num)
{
    AH_UNUSED(m);
    AH_UNUSED(num);
    const ahi_lit *l = &c->lit;
    if (n < l->n)
        return false;
    return c->cased ? memcmp(p + n - l->n, l->s, l->n) == 0 : ahi_eq_ci(p + n - l->n, l->n, l->s, l->n);
}

static bool op_matches(ah_matcher *m, const ahi_cnode *c, const char *p, size_t n, const double *num)
{
    AH_UNUSED(num);
    if (!c->re)
        return false;
    if (c->atoms && !m->no_prefilter && !ahi_atoms_present(c->atoms, p, n)) {
        m->stats.regex_skipped++;
        return false;
    }
    int rc = pcre2_match(c->re, (PCRE2_SPTR)p, n, 0, 0, m->md, m->mctx);
    if (rc >= 0)
        return true;
    if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT ||
        rc == PCRE2_ERROR_JIT_STACKLIMIT)
        m->stats.regex_limit++;
    else if (rc == PCRE2_ERROR_NOMEMORY)
        m->status = AH_ERR_NOMEM;
    return false;
}

static bool op_in(ah_matcher *m, const ahi_cnode *c, const char *p, size_t n, const double *num)
{
    AH_UNUSED(m);
    AH_UNUSED(num);
    return ahi_strset_has(c->set, p, n);
}

static bool op_cidr(ah_matcher *m, const ahi_cnode *c, const char *p, size_t n, const double *num)
{
    AH_UNUSED(m);
    AH_UNUSED(num);
    return ahi_cidrset_has_text(c->cidr, p, n);
}

static bool op_order(ah_matcher *m, const ahi_cnode *c, const char *p, size_t n, const double *num)
{
    AH_UNUSED(m);
    const ahi_lit *l = &c->lit;
    if (l->is_time) {
        ah_time_parse tp;
        if (ah_time_parse_str(ah_span_make(p, n), AH_DATE_ORDER_AUTO, &tp) != AH_OK)
            return false;
        return order_ok(c->op, ah_time_cmp(tp.time, l->time));
    }
    double v;
    if (num)
        v = *num;
    else if (!ahi_parse_number(p, n, &v))
        return false;
    return order_ok(c->op, cmp_double(v, l->num));
}

/* exists, is empty: decided by the value's presence (span_cmp,
 * visit_exists, visit_empty), never by its text. */
static bool op_presence(ah_matcher *m, const ahi_cnode *c, const char *p, size_t n, const double *num)
{
    AH_UNUSED(m);
    AH_UNUSED(c);
    AH_UNUSED(p);
    AH_UNUSED(n);
    AH_UNUSED(num);
    return false;
}

/* The value of an operand that is not a path (one span, or NULL when the
 * event has none); tbuf holds a formatted time. */
static ah_span operand_span(const ah_event *ev, const ahi_operand *o, char tbuf[40])
{
    switch (o->kind) {
    case AHI_OPD_FIELD: return ev->field[o->field];
    case AHI_OPD_OPCANON: return ev->operation_canon.p ? ev->operation_canon : AH_SPAN_NULL;
    case AHI_OPD_OPRAW: return ev->field[AH_F_OPERATION];
    case AHI_OPD_RAWTEXT: return ev->raw;
    case AHI_OPD_SOURCE:
        return ev->source != AH_SOURCE_UNKNOWN ? ah_span_cstr(ah_source_name(ev->source)) : AH_SPAN_NULL;
    case AHI_OPD_FORMAT: return ev->format && ev->format->name ? ah_span_cstr(ev->format->name) : AH_SPAN_NULL;
    case AHI_OPD_RESULT: return ah_span_cstr(ah_result_name(ev->result));
    case AHI_OPD_TIME: return ev->has_time ? ah_span_cstr(ah_time_format(ev->time, tbuf)) : AH_SPAN_NULL;
    case AHI_OPD_PATH: break;
    }
    return AH_SPAN_NULL;
}

/* sameas: p[n] against every value of the other operand (c->ref). Scalars
 * compare as text (JSON numbers in their shortest form), case-insensitively
 * unless `cased`; arrays element by element; objects and null never. */
typedef struct same_ctx {
    const ahi_cnode *c;
    const char *p;
    size_t n;
} same_ctx;

static bool same_text(const ahi_cnode *c, const char *a, size_t an, const char *b, size_t bn)
{
    if (c->cased)
        return an == bn && (an == 0 || memcmp(a, b, an) == 0);
    return ahi_eq_ci(a, an, b, bn);
}

static bool same_node(const same_ctx *x, cJSON *node, int depth)
{
    if (cJSON_IsArray(node)) {
        if (depth > AHI_MAX_WALK)
            return false;
        for (cJSON *e = node->child; e; e = e->next)
            if (same_node(x, e, depth + 1))
                return true;
        return false;
    }
    char nb[40];
    const char *q;
    size_t qn;
    return scalar_text(node, &q, &qn, nb, sizeof nb) && same_text(x->c, x->p, x->n, q, qn);
}

static bool visit_same(ah_matcher *m, cJSON *node, void *ctx)
{
    AH_UNUSED(m);
    return same_node(ctx, node, 0);
}

static bool op_sameas(ah_matcher *m, const ahi_cnode *c, const char *p, size_t n, const double *num)
{
    AH_UNUSED(num);
    const ahi_operand *o = c->ref;
    if (!o)
        return false;
    if (o->kind == AHI_OPD_PATH) {
        same_ctx x = {c, p, n};
        return walk_operand(m, o, visit_same, &x);
    }
    char tbuf[40];
    ah_span s = operand_span(m->ev, o, tbuf);
    return s.p && same_text(c, p, n, s.p, s.n);
}

/* Does one text value satisfy the comparison? */
static bool text_matches(ah_matcher *m, const ahi_cnode *c, const char *p, size_t n, const double *num)
{
    switch (c->op) {
#define AHI_OP(id, spelling, negated, arg, on, cased, eval, sigma, cut)                                                \
    case AHI_OP_##id:                                                                                                  \
        return eval(m, c, p, n, num);
#include "ops.def"
#undef AHI_OP
    case AHI_OP_COUNT: break;
    }
    return false;
}

static bool node_matches(ah_matcher *m, const ahi_cnode *c, cJSON *node, int depth)
{
    switch (node->type & 0xFF) {
    case cJSON_Array:
        if (depth > AHI_MAX_WALK)
            return false;
        for (cJSON *e = node->child; e; e = e->next)
            if (node_matches(m, c, e, depth + 1))
                return true;
        return false;
    case cJSON_Object: {
        /* Compare as compact JSON text. Rare; the scratch buffer grows to
         * the largest object printed and is reused. */
        size_t cap = m->scratch.cap > 256 ? m->scratch.cap : 256;
        for (;;) {
            if (ah_buf_reserve(&m->scratch, cap) != AH_OK)
                return false;
            if (cJSON_PrintPreallocated(node, m->scratch.data, (int)(m->scratch.cap - 1), 0))
                break;
            if (cap >= AHI_MAX_PRINT)
                return false;
            cap *= 2;
        }
        return text_matches(m, c, m->scratch.data, strlen(m->scratch.data), NULL);
    }
    case cJSON_Number: {
        char nb[40];
        size_t n = num_text(node->valuedouble, nb, sizeof nb);
        return text_matches(m, c, nb, n, &node->valuedouble);
    }
    default: {
        char nb[40];
        const char *p;
        size_t n;
        if (!scalar_text(node, &p, &n, nb, sizeof nb))
            return false; /* null: absent */
        return text_matches(m, c, p, n, NULL);
    }
    }
}

static bool visit_cmp(ah_matcher *m, cJSON *node, void *ctx) { return node_matches(m, ctx, node, 0); }

static bool visit_exists(ah_matcher *m, cJSON *node, void *ctx)
{
    AH_UNUSED(m);
    AH_UNUSED(ctx);
    int t = node->type & 0xFF;
    return t != cJSON_NULL && t != cJSON_Invalid;
}

static bool visit_empty(ah_matcher *m, cJSON *node, void *ctx)
{
    AH_UNUSED(m);
    AH_UNUSED(ctx);
    switch (node->type & 0xFF) {
    case cJSON_String: return !node->valuestring || node->valuestring[0] == '\0';
    case cJSON_Array:
    case cJSON_Object: return node->child == NULL;
    default: return false;
    }
}

static bool span_cmp(ah_matcher *m, const ahi_cnode *c, ah_span s)
{
    if (c->op == AHI_OP_EXISTS)
        return s.p != NULL;
    if (c->op == AHI_OP_EMPTY)
        return s.p != NULL && s.n == 0;
    return s.p != NULL && text_matches(m, c, s.p, s.n, NULL);
}

/* A normalized field (slot AH_F_COUNT: the canonical operation) against a
 * set or a CIDR set, with the hash / parsed address cached per event. */
static bool cached_cmp(ah_matcher *m, const ahi_cnode *c, ah_span s, int slot)
{
    if (!s.p)
        return false;
    if (c->op == AHI_OP_CIDR && slot < AH_F_COUNT) {
        if (m->ip_seq[slot] != m->seq) {
            m->ip_seq[slot] = m->seq;
            m->ip_ok[slot] = ahi_parse_ip(s.p, s.n, m->ip[slot]);
        }
        return m->ip_ok[slot] && ahi_cidrset_has_ip(c->cidr, m->ip[slot]);
    }
    if (c->op == AHI_OP_IN && c->set && !c->set->cased) {
        if (m->hash_seq[slot] != m->seq) {
            m->hash_seq[slot] = m->seq;
            m->hash[slot] = ahi_strset_hash_ci(s.p, s.n);
        }
        return ahi_strset_has_h(c->set, s.p, s.n, m->hash[slot]);
    }
    return text_matches(m, c, s.p, s.n, NULL);
}

/* The first look for `raw[*] in cidr ...` (the indicator-address rules,
 * which apply to every record): the members of the record are read with
 * the scanner instead of a parsed tree, and only strings can hold an
 * address (a JSON number has at most one dot and no colon; an object's
 * text starts with a brace). Strings are cut at an escaped NUL as the tree
 * would cut them. Returns 1 / 0, or -1 to take the general path (an array
 * nested too deep, text the scanner does not accept). */
static int collect_ips(ah_matcher *m, ah_span val, int depth)
{
    if (val.n && val.p[0] == '[') {
        if (depth >= AHI_MAX_WALK)
            return -1;
        ah_json_iter it;
        ah_status st = ah_json_array_begin(&it, val);
        ah_span e;
        while (st == AH_OK && (st = ah_json_array_next(&it, &e)) == AH_OK)
            if (collect_ips(m, e, depth + 1) < 0)
                return -1;
        return st == AH_END ? 0 : -1;
    }
    /* An address has dots or colons (or hides them in escapes). */
    if (val.n < 2 || val.p[0] != '"' ||
        !(memchr(val.p, '.', val.n) || memchr(val.p, ':', val.n) || memchr(val.p, '\\', val.n)))
        return 0;
    ah_buf_reset(&m->scratch);
    if (ah_json_unescape(val, &m->scratch) != AH_OK)
        return -1;
    const char *nul = memchr(m->scratch.data, '\0', m->scratch.len);
    size_t n = nul ? (size_t)(nul - m->scratch.data) : m->scratch.len;
    uint8_t ip[16];
    if (n && ahi_parse_ip(m->scratch.data, n, ip)) {
        if (m->nips == AHI_MAX_ADDRS)
            return -1;
        memcpy(m->ips[m->nips++], ip, sizeof ip);
    }
    return 0;
}

/* 1 / 0 for `raw[*] in cidr set`, or -1 to take the general path. */
static int cidr_members(ah_matcher *m, const ahi_cnode *c)
{
    if (!m->ips_done) {
        m->ips_done = true;
        m->nips = 0;
        const struct ahi_index *x = member_index(m, 0);
        m->ips_state = x ? 1 : -1;
        for (size_t i = 0; x && i < x->n && m->ips_state > 0; i++)
            if (collect_ips(m, x->val[i], 1) < 0)
                m->ips_state = -1;
    }
    if (m->ips_state < 0)
        return -1;
    for (size_t i = 0; i < m->nips; i++)
        if (ahi_cidrset_has_ip(c->cidr, m->ips[i]))
            return 1;
    return 0;
}

/* Whether any of c's literals is in the value it tests: the literals of
 * every rule's CONTAINS / MATCHES on one value (the record text, a field,
 * the operation) are found by one scan of that value per event.
 * 1 / 0, or -1 when the scan cannot be made (out of memory). */
static int literals_seen(ah_matcher *m, const ahi_cnode *c, ah_span value)
{
    unsigned g = c->lit_group;
    const ahi_atoms *lits = m->rs ? m->rs->lit_groups[g] : NULL;
    if (!lits || c->lit_first + c->lit_count > lits->n)
        return -1;
    if (m->lit_seq[g] != m->seq || !m->lit_present[g]) {
        if (!m->lit_present[g] && !(m->lit_present[g] = malloc(lits->n)))
            return -1;
        ahi_atoms_mark(lits, value.p ? value.p : "", value.n, m->lit_present[g]);
        m->lit_seq[g] = m->seq;
    }
    for (uint32_t i = 0; i < c->lit_count; i++)
        if (m->lit_present[g][c->lit_first + i])
            return 1;
    return 0;
}

/* The first look on a value with grouped literals: false when the test is
 * decided without running it (*r set), true when it must run. An absent
 * value (NULL span) is left to the test: `not contains` and absence have
 * their own rules there. */
static bool literals_decide(ah_matcher *m, const ahi_cnode *c, ah_span value, bool *r)
{
    if (!c->lit_count || m->no_prefilter || !value.p)
        return true;
    int seen = literals_seen(m, c, value);
    if (seen == 0 && c->op == AHI_OP_MATCHES)
        m->stats.regex_skipped++;
    if (seen == 0 || (seen > 0 && c->op == AHI_OP_CONTAINS && !c->cased)) {
        *r = seen > 0; /* the folded needle was found whole: that is the case-insensitive contains */
        return false;
    }
    return true;
}

static bool eval_cmp(ah_matcher *m, const ahi_cnode *c)
{
    const ah_event *ev = m->ev;
    bool r = false;
    switch (c->opd.kind) {
    case AHI_OPD_FIELD:
        if (c->op == AHI_OP_IN || c->op == AHI_OP_CIDR)
            r = cached_cmp(m, c, ev->field[c->opd.field], (int)c->opd.field);
        else if (literals_decide(m, c, ev->field[c->opd.field], &r))
            r = span_cmp(m, c, ev->field[c->opd.field]);
        break;
    case AHI_OPD_OPCANON:
        if (c->op == AHI_OP_IN)
            r = cached_cmp(m, c, ev->operation_canon, AH_F_COUNT);
        else if (literals_decide(m, c, ev->operation_canon, &r))
            r = span_cmp(m, c, ev->operation_canon.p ? ev->operation_canon : AH_SPAN_NULL);
        break;
    case AHI_OPD_OPRAW:
        if (literals_decide(m, c, ev->field[AH_F_OPERATION], &r))
            r = span_cmp(m, c, ev->field[AH_F_OPERATION]);
        break;
    case AHI_OPD_RAWTEXT:
        if (literals_decide(m, c, ev->raw, &r))
            r = span_cmp(m, c, ev->raw);
        break;
    case AHI_OPD_SOURCE:
        r = span_cmp(m, c, ev->source != AH_SOURCE_UNKNOWN ? ah_span_cstr(ah_source_name(ev->source)) : AH_SPAN_NULL);
        break;
    case AHI_OPD_FORMAT:
        r = span_cmp(m, c, ev->format && ev->format->name ? ah_span_cstr(ev->format->name) : AH_SPAN_NULL);
        break;
    case AHI_OPD_RESULT: r = span_cmp(m, c, ah_span_cstr(ah_result_name(ev->result))); break;
    case AHI_OPD_TIME:
        if (c->op == AHI_OP_EXISTS)
            r = ev->has_time;
        else if (ev->has_time && c->lit.is_time)
            r = c->op == AHI_OP_EQ ? ah_time_cmp(ev->time, c->lit.time) == 0
                                   : order_ok(c->op, ah_time_cmp(ev->time, c->lit.time));
        break;
    case AHI_OPD_PATH:
        if (c->op == AHI_OP_CIDR && c->opd.slot < 0 && c->opd.nsteps == 1 && c->opd.steps[0].kind == AHI_STEP_ALL &&
            !m->body_done && !m->no_prefilter) {
            int fast = cidr_members(m, c);
            if (fast >= 0) {
                r = fast;
                break;
            }
        }
        r = walk_operand(m, &c->opd,
                         c->op == AHI_OP_EXISTS  ? visit_exists
                         : c->op == AHI_OP_EMPTY ? visit_empty
                                                 : visit_cmp,
                         (void *)c);
        break;
    }
    return c->negate ? !r : r;
}

/* --- quantifiers ------------------------------------------------------- */

typedef struct qctx {
    const ahi_cnode *c;
    bool found;  /* any: an element satisfied the body */
    bool failed; /* all: an element did not */
    size_t count;
} qctx;

static bool quant_elem(ah_matcher *m, qctx *q, cJSON *elem)
{
    m->slots[q->c->slot] = elem;
    bool r = ahi_eval(m, q->c->kids[0]);
    q->count++;
    if (q->c->all) {
        if (!r) {
            q->failed = true;
            return true;
        }
        return false;
    }
    if (r) {
        q->found = true;
        return true;
    }
    return false;
}

static bool visit_quant(ah_matcher *m, cJSON *node, void *ctx)
{
    qctx *q = ctx;
    cJSON *arr = node;
    if ((node->type & 0xFF) == cJSON_String) {
        cJSON *d = decoded(m, node);
        if (d && cJSON_IsArray(d))
            arr = d;
    }
    if (cJSON_IsArray(arr)) {
        for (cJSON *e = arr->child; e; e = e->next)
            if (quant_elem(m, q, e))
                return true;
        return false;
    }
    if ((node->type & 0xFF) == cJSON_NULL)
        return false;
    return quant_elem(m, q, node);
}

static bool eval_quant(ah_matcher *m, const ahi_cnode *c)
{
    qctx q = {c, false, false, 0};
    walk_operand(m, &c->over, visit_quant, &q);
    /* `all` needs at least one element: over a missing or empty array it is
     * false, so a detection never fires on absent data. */
    return c->all ? (!q.failed && q.count > 0) : q.found;
}

bool ahi_eval(ah_matcher *m, const ahi_cnode *n)
{
    switch (n->kind) {
    case AHI_N_AND:
        for (size_t i = 0; i < n->nkids; i++)
            if (!ahi_eval(m, n->kids[i]))
                return false;
        return true;
    case AHI_N_OR:
        for (size_t i = 0; i < n->nkids; i++)
            if (ahi_eval(m, n->kids[i]))
                return true;
        return false;
    case AHI_N_NOT: return !ahi_eval(m, n->kids[0]);
    case AHI_N_CONST: return n->cval;
    case AHI_N_CMP: return eval_cmp(m, n);
    case AHI_N_QUANT: return eval_quant(m, n);
    }
    return false;
}

/* --- matching rules ---------------------------------------------------- */

/* Evaluate the candidates for ev in rule order. */
static size_t run_candidates(ah_matcher *m, const ah_event *ev, const ah_rule **hits, size_t cap)
{
    const ah_ruleset *rs = m->rs;
    if (!rs || !rs->compiled || ev->source <= AH_SOURCE_UNKNOWN || ev->source >= AH_SOURCE_COUNT)
        return 0;
    unsigned bit = AH_SOURCE_BIT(ev->source);
    const uint32_t *a = rs->unpinned[ev->source];
    size_t na = rs->nunpinned[ev->source];
    const uint32_t *b = NULL;
    size_t nb = 0;
    if (ev->operation_canon.p) {
        const struct ahi_opentry *e = ahi_opmap_find(rs, ev->operation_canon);
        if (e && (e->sources & bit)) {
            b = e->rules;
            nb = e->nrules;
        }
    }
    size_t count = 0, i = 0, j = 0;
    while (i < na || j < nb) {
        uint32_t idx;
        if (j >= nb || (i < na && a[i] < b[j]))
            idx = a[i++];
        else
            idx = b[j++];
        const ah_rule *r = rs->rules[idx];
        if (!(r->meta.sources & bit) || !r->cond)
            continue;
        m->stats.rules_evaluated++;
        if (ahi_eval(m, r->cond)) {
            if (count < cap)
                hits[count] = r;
            count++;
        }
    }
    return count;
}

size_t ah_matcher_match(ah_matcher *m, const ah_event *ev, const ah_rule **hits, size_t cap)
{
    ah_matcher_begin_event(m, ev);
    m->stats.events++;
    return run_candidates(m, ev, hits, cap);
}

bool ah_expr_eval(ah_matcher *m, const ah_expr *e, const ah_event *ev)
{
    ah_matcher_begin_event(m, ev);
    m->stats.events++;
    return e && e->root ? ahi_eval(m, e->root) : false;
}

/* --- details ----------------------------------------------------------- */

typedef struct render {
    ah_buf *out;
    size_t count;
    ah_status st;
} render;

static void put_value(render *r, const char *p, size_t n)
{
    if (r->st != AH_OK)
        return;
    if (r->count++)
        r->st = ah_buf_puts(r->out, ", ");
    bool cut = false;
    if (n > AHI_DETAIL_VALUE_MAX) {
        n = ah_utf8_cut(p, AHI_DETAIL_VALUE_MAX); /* do not split a UTF-8 sequence */
        cut = true;
    }
    for (size_t i = 0; i < n && r->st == AH_OK; i++) {
        unsigned char c = (unsigned char)p[i];
        r->st = ah_buf_putc(r->out, (c < 0x20 || c == 0x7f) ? ' ' : (char)c);
    }
    if (cut && r->st == AH_OK)
        r->st = ah_buf_puts(r->out, "\xE2\x80\xA6"); /* … */
}

static void render_node(ah_matcher *m, render *r, cJSON *node, int depth)
{
    int t = node->type & 0xFF;
    if (t == cJSON_Array) {
        if (depth > AHI_MAX_WALK)
            return;
        for (cJSON *e = node->child; e; e = e->next)
            render_node(m, r, e, depth + 1);
        return;
    }
    if (t == cJSON_Object) {
        char *s = cJSON_PrintUnformatted(node);
        if (s) {
            put_value(r, s, strlen(s));
            cJSON_free(s);
        } else if (r->st == AH_OK) {
            r->st = AH_ERR_NOMEM; /* cJSON prints valid trees: only allocation fails */
        }
        return;
    }
    char nb[40];
    const char *p;
    size_t n;
    if (scalar_text(node, &p, &n, nb, sizeof nb))
        put_value(r, p, n);
}

static bool visit_render(ah_matcher *m, cJSON *node, void *ctx)
{
    render_node(m, ctx, node, 0);
    return false; /* keep going: every value */
}

static void render_operand(ah_matcher *m, const ahi_operand *o, render *r)
{
    const ah_event *ev = m->ev;
    ah_span s;
    char tbuf[40];
    switch (o->kind) {
    case AHI_OPD_OPCANON:
    case AHI_OPD_OPRAW:
        /* Show the operation as written; canonical only as a fallback. */
        s = ev->field[AH_F_OPERATION].p ? ev->field[AH_F_OPERATION] : ev->operation_canon;
        break;
    case AHI_OPD_PATH: walk_operand(m, o, visit_render, r); return;
    default: s = operand_span(ev, o, tbuf); break;
    }
    if (s.p)
        put_value(r, s.p, s.n);
}

bool ahi_render_operand(ah_matcher *m, const ahi_operand *o, ah_buf *out)
{
    render r = {out, 0, AH_OK};
    render_operand(m, o, &r);
    return r.st == AH_OK && r.count > 0;
}

ah_status ah_rule_render_details(ah_matcher *m, const ah_rule *rule, const ah_event *ev, ah_buf *out)
{
    if (!m || !rule || !ev || !out)
        return AH_ERR_USAGE;
    if (!rule->tmpl)
        return AH_OK;
    if (!same_event(m, ev))
        ah_matcher_begin_event(m, ev);
    for (size_t i = 0; i < rule->tmpl->nparts; i++) {
        const ahi_tpart *part = &rule->tmpl->parts[i];
        ah_status st;
        if (!part->opd) {
            st = ah_buf_append(out, part->text, part->n);
        } else {
            render r = {out, 0, AH_OK};
            render_operand(m, part->opd, &r);
            st = r.st;
            if (st == AH_OK && r.count == 0)
                st = ah_buf_putc(out, '-');
        }
        if (st != AH_OK)
            return st;
    }
    return AH_OK;
}
