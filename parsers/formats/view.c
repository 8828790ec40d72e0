/*
 * view.c: interned keys, member slots, compiled paths and their lazy
 * resolution over JSON text (see view.h).
 *
 * Why slots: a UAL record has ~30 members and its field map asks for ~25
 * of them; looking each up with ah_json_get would rescan the record 25
 * times. One pass that files every member under its interned key id makes
 * the first step of every path an array read.
 *
 * Scratch safety: JSON unescaped out of a string is appended to the `nest`
 * buffer, and a lookup may descend again from inside it. Appending can
 * move the buffer, so values inside it are tracked as offsets (ah_val) and
 * the buffer is grown before the source pointer is taken again; unescaping
 * never produces more bytes than it reads, so one reservation suffices.
 */
#include "view.h"

#include <stdlib.h>
#include <string.h>

/* Keys are short and mostly distinct in length and ends; sampling a few
 * bytes is much cheaper than a byte-serial hash and collisions are settled
 * by the comparison. Case-folded so lookups are case-insensitive. */
static uint32_t hash_ci(const char *p, size_t n)
{
    if (n == 0)
        return 0x9E3779B1u;
    const unsigned char *u = (const unsigned char *)p;
    uint32_t h = (uint32_t)n * 0x9E3779B1u;
    h ^= (uint32_t)ah_fold(u[0]) | (uint32_t)ah_fold(u[n - 1]) << 8 | (uint32_t)ah_fold(u[n / 2]) << 16 |
         (uint32_t)ah_fold(u[(n - 1) / 3]) << 24;
    h ^= h >> 15;
    h *= 0x2C1B3C6Du;
    h ^= h >> 12;
    return h;
}

static bool eq_ci(const char *a, size_t n, const char *b)
{
    for (size_t i = 0; i < n; i++)
        if (b[i] == '\0' || ah_fold((unsigned char)a[i]) != ah_fold((unsigned char)b[i]))
            return false;
    return b[n] == '\0';
}

/* --- interned keys ---------------------------------------------------------- */

void ah_keytab_init(ah_keytab *t) { memset(t, 0, sizeof *t); }

static int keytab_lookup(const ah_keytab *t, const char *p, size_t n, uint32_t h)
{
    for (size_t i = h & (AH_KEYTAB_BUCKETS - 1), probes = 0; probes < AH_KEYTAB_BUCKETS;
         i = (i + 1) & (AH_KEYTAB_BUCKETS - 1), probes++) {
        unsigned id = t->bucket[i];
        if (id == 0)
            return -1;
        id--;
        if (t->hash[id] == h && eq_ci(p, n, t->name[id]))
            return (int)id;
    }
    return -1;
}

int ah_keytab_intern(ah_keytab *t, const char *name)
{
    size_t n = strlen(name);
    uint32_t h = hash_ci(name, n);
    int id = keytab_lookup(t, name, n, h);
    if (id >= 0)
        return id;
    if (t->n >= AH_KEYTAB_MAX)
        return -1;
    size_t i = h & (AH_KEYTAB_BUCKETS - 1);
    while (t->bucket[i])
        i = (i + 1) & (AH_KEYTAB_BUCKETS - 1);
    t->name[t->n] = name;
    t->hash[t->n] = h;
    t->bucket[i] = (uint16_t)(t->n + 1);
    return (int)t->n++;
}

int ah_keytab_find(const ah_keytab *t, ah_span raw_key)
{
    if (!memchr(raw_key.p, '\\', raw_key.n))
        return keytab_lookup(t, raw_key.p, raw_key.n, hash_ci(raw_key.p, raw_key.n));
    /* An escaped key (rare, and suspicious): compare after unescaping. */
    for (size_t i = 0; i < t->n; i++)
        if (ah_json_key_eq_ci(raw_key, t->name[i]))
            return (int)i;
    return -1;
}

/* --- slots ------------------------------------------------------------------- */

ah_status ah_slots_init(ah_slots *s, size_t n)
{
    s->n = n;
    s->cur = 1;
    s->val = calloc(n ? n : 1, sizeof *s->val);
    s->gen = calloc(n ? n : 1, sizeof *s->gen);
    if (!s->val || !s->gen) {
        ah_slots_free(s);
        return AH_ERR_NOMEM;
    }
    return AH_OK;
}

void ah_slots_free(ah_slots *s)
{
    if (!s)
        return;
    free(s->val);
    free(s->gen);
    free(s->mkey);
    free(s->mval);
    s->val = NULL;
    s->gen = NULL;
    s->mkey = s->mval = NULL;
    s->n = s->nmem = s->capmem = 0;
}

ah_status ah_slots_scan(ah_slots *s, const ah_keytab *t, ah_span obj, ah_span *first, size_t first_max, size_t *nfirst,
                        size_t *end)
{
    if (++s->cur == 0) { /* generation wrapped: forget everything once */
        memset(s->gen, 0, s->n * sizeof *s->gen);
        s->cur = 1;
    }
    if (nfirst)
        *nfirst = 0;
    s->obj = obj;
    s->nmem = 0;
    s->mem_ok = true;
    ah_json_iter it;
    if (ah_json_object_begin(&it, obj) != AH_OK)
        return AH_ERR_RECORD;
    ah_span k, v;
    ah_status st;
    while ((st = ah_json_object_next(&it, &k, &v)) == AH_OK) {
        if (first && nfirst && *nfirst < first_max)
            first[(*nfirst)++] = k;
        if (s->mem_ok && s->nmem == s->capmem) { /* out of memory: readers scan for themselves */
            size_t cap = s->capmem ? 2 * s->capmem : 64;
            ah_span *nk = realloc(s->mkey, cap * sizeof *nk);
            if (nk)
                s->mkey = nk;
            ah_span *nv = nk ? realloc(s->mval, cap * sizeof *nv) : NULL;
            if (nv) {
                s->mval = nv;
                s->capmem = cap;
            } else {
                s->mem_ok = false;
            }
        }
        if (s->mem_ok) {
            s->mkey[s->nmem] = k;
            s->mval[s->nmem++] = v;
        }
        int id = ah_keytab_find(t, k);
        if (id >= 0 && (size_t)id < s->n && s->gen[id] != s->cur) {
            s->gen[id] = s->cur;
            s->val[id] = v;
        }
    }
    if (st != AH_END) {
        s->mem_ok = false;
        return AH_ERR_RECORD;
    }
    if (end)
        *end = (size_t)(it.p - obj.p);
    return AH_OK;
}

bool ah_slots_get(const ah_slots *s, int id, ah_span *v)
{
    if (id < 0 || (size_t)id >= s->n || s->gen[id] != s->cur)
        return false;
    ah_span x = s->val[id];
    if (x.n == 4 && memcmp(x.p, "null", 4) == 0)
        return false;
    *v = x;
    return true;
}

/* --- pool ---------------------------------------------------------------------- */

struct ah_pool_block {
    ah_pool_block *next;
    size_t used, cap;
    char data[];
};

const char *ah_pool_strndup(ah_pool *p, const char *s, size_t n)
{
    ah_pool_block *b = p->head;
    if (!b || b->cap - b->used < n + 1) {
        size_t cap = n + 1 > 4096 ? n + 1 : 4096;
        b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->next = p->head;
        b->used = 0;
        b->cap = cap;
        p->head = b;
    }
    char *out = b->data + b->used;
    memcpy(out, s, n);
    out[n] = '\0';
    b->used += n + 1;
    return out;
}

void ah_pool_free(ah_pool *p)
{
    if (!p)
        return;
    while (p->head) {
        ah_pool_block *next = p->head->next;
        free(p->head);
        p->head = next;
    }
}

/* --- path compilation ------------------------------------------------------------ */

static ah_status compile_one(const char *s, size_t n, ah_path *out, ah_keytab *t, ah_pool *pool)
{
    memset(out, 0, sizeof *out);
    out->kid = -1;
    size_t i = 0;
    if (i < n && s[i] == '^') {
        out->root = true;
        i++;
    }
    size_t stop = n;
    const char *hash = memchr(s, '#', n);
    if (hash) {
        stop = (size_t)(hash - s);
        if (n - stop - 1 == 6 && memcmp(hash + 1, "tenant", 6) == 0)
            out->transform = AH_XF_TENANT;
        else
            return AH_ERR_USAGE;
    }
    while (i < stop) {
        if (out->nsteps >= AH_PATH_MAX_STEPS)
            return AH_ERR_USAGE;
        ah_path_step *st = &out->step[out->nsteps];
        st->index = -1;
        size_t k0 = i;
        while (i < stop && s[i] != '.' && s[i] != '[')
            i++;
        if (i == k0)
            return AH_ERR_USAGE;
        if (!(st->key = ah_pool_strndup(pool, s + k0, i - k0)))
            return AH_ERR_NOMEM;
        if (i < stop && s[i] == '[') {
            size_t b0 = ++i;
            while (i < stop && s[i] != ']')
                i++;
            if (i >= stop || i == b0)
                return AH_ERR_USAGE;
            const char *eq = memchr(s + b0, '=', i - b0);
            if (eq) {
                size_t kl = (size_t)(eq - (s + b0));
                size_t vl = i - b0 - kl - 1;
                if (kl == 0 || vl == 0)
                    return AH_ERR_USAGE;
                st->sel_key = ah_pool_strndup(pool, s + b0, kl);
                st->sel_val = ah_pool_strndup(pool, eq + 1, vl);
                if (!st->sel_key || !st->sel_val)
                    return AH_ERR_NOMEM;
            } else {
                int32_t idx = 0;
                for (size_t j = b0; j < i; j++) {
                    if (s[j] < '0' || s[j] > '9' || idx > 100000)
                        return AH_ERR_USAGE;
                    idx = idx * 10 + (s[j] - '0');
                }
                st->index = idx;
            }
            i++; /* ']' */
        }
        out->nsteps++;
        if (i < stop) {
            if (s[i] != '.' || i + 1 >= stop)
                return AH_ERR_USAGE;
            i++;
        }
    }
    if (out->nsteps == 0)
        return AH_ERR_USAGE;
    int id = ah_keytab_intern(t, out->step[0].key);
    if (id < 0)
        return AH_ERR_NOMEM;
    out->kid = (int16_t)id;
    return AH_OK;
}

ah_status ah_pathlist_compile(ah_pathlist *out, const char *spec, ah_keytab *t, ah_pool *pool)
{
    out->v = NULL;
    out->n = 0;
    if (!spec || !*spec)
        return AH_OK;
    size_t count = 1;
    for (const char *c = spec; *c; c++)
        count += *c == '|';
    out->v = calloc(count, sizeof *out->v);
    if (!out->v)
        return AH_ERR_NOMEM;
    const char *p = spec;
    for (;;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        ah_status st = compile_one(p, len, &out->v[out->n], t, pool);
        if (st != AH_OK) {
            ah_pathlist_free(out);
            return st;
        }
        out->n++;
        if (!bar)
            break;
        p = bar + 1;
    }
    return AH_OK;
}

void ah_pathlist_free(ah_pathlist *l)
{
    if (!l)
        return;
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* --- resolution --------------------------------------------------------------------- */

ah_span ah_view_span(const ah_view *v, ah_val x)
{
    switch (x.loc) {
    case AH_LOC_NEST: return ah_span_make(v->nest->data + x.off, x.n);
    case AH_LOC_STR: return ah_span_make(v->str->data + x.off, x.n);
    default: return ah_span_make(x.p, x.n);
    }
}

/* A sub-span m of the memory x lives in, as a value of the same kind. */
static ah_val rebase(const ah_view *v, ah_val x, ah_span m)
{
    if (x.loc == AH_LOC_NEST)
        return (ah_val){NULL, (size_t)(m.p - v->nest->data), m.n, AH_LOC_NEST};
    if (x.loc == AH_LOC_STR)
        return (ah_val){NULL, (size_t)(m.p - v->str->data), m.n, AH_LOC_STR};
    return ah_val_abs(m);
}

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static bool same_source(ah_val a, ah_val b)
{
    return a.loc == b.loc && a.n == b.n && (a.loc == AH_LOC_ABS ? a.p == b.p : a.off == b.off);
}

/* x is a JSON string: replace it by the JSON object/array its content holds. */
static bool descend(ah_view *v, ah_val *x)
{
    for (size_t i = 0; i < v->ndecoded; i++) {
        if (same_source(v->decoded[i].src, *x)) {
            *x = (ah_val){NULL, v->decoded[i].off, v->decoded[i].n, AH_LOC_NEST};
            return true;
        }
    }
    ah_val src = *x;
    ah_buf *b = v->nest;
    ah_span s = ah_view_span(v, *x);
    if (ah_buf_reserve(b, s.n) != AH_OK)
        return false;
    s = ah_view_span(v, *x); /* the reserve may have moved nest */
    size_t start = b->len;
    if (ah_json_unescape(s, b) != AH_OK)
        return false;
    size_t a = start, z = b->len;
    while (a < z && is_ws(b->data[a]))
        a++;
    while (z > a && is_ws(b->data[z - 1]))
        z--;
    ah_span u = ah_span_make(b->data + a, z - a);
    if (u.n == 0 || (u.p[0] != '{' && u.p[0] != '[') || !ah_json_valid(u)) {
        b->len = start;
        b->data[start] = '\0';
        return false;
    }
    *x = (ah_val){NULL, a, z - a, AH_LOC_NEST};
    if (v->ndecoded < AH_VIEW_CACHE)
        v->decoded[v->ndecoded++] = (ah_view_decoded){src, a, z - a};
    return true;
}

/* Make x an object or array, descending into a string that holds one. */
static bool enter(ah_view *v, ah_val *x)
{
    ah_span s = ah_view_span(v, *x);
    if (s.n == 0)
        return false;
    if (s.p[0] == '{' || s.p[0] == '[')
        return true;
    if (s.p[0] == '"')
        return descend(v, x);
    return false;
}

static bool selector_matches(ah_span elem, const ah_path_step *st)
{
    ah_span kv;
    if (!ah_json_get(elem, st->sel_key, &kv) || kv.n == 0)
        return false;
    if (kv.p[0] == '"')
        return kv.n >= 2 && ah_json_key_eq_ci(ah_span_make(kv.p + 1, kv.n - 2), st->sel_val);
    return ah_span_eq_ci(kv, st->sel_val);
}

static bool select_element(ah_span arr, const ah_path_step *st, ah_span *out)
{
    ah_json_iter it;
    if (ah_json_array_begin(&it, arr) != AH_OK)
        return false;
    ah_span e;
    int32_t i = 0;
    while (ah_json_array_next(&it, &e) == AH_OK) {
        if (st->sel_key ? (e.n && e.p[0] == '{' && selector_matches(e, st)) : i == st->index) {
            *out = e;
            return true;
        }
        i++;
    }
    return false;
}

bool ah_view_resolve(ah_view *v, const ah_path *path, ah_val *out)
{
    const ah_slots *slots = path->root ? v->rec : v->body;
    ah_span first;
    if (!slots || !ah_slots_get(slots, path->kid, &first))
        return false;
    ah_val x = ah_val_abs(first);
    for (size_t i = 0; i < path->nsteps; i++) {
        const ah_path_step *st = &path->step[i];
        ah_span m;
        if (i > 0) {
            if (!enter(v, &x) || !ah_json_get(ah_view_span(v, x), st->key, &m))
                return false;
            x = rebase(v, x, m);
        }
        if (st->index >= 0 || st->sel_key) {
            if (!enter(v, &x) || !select_element(ah_view_span(v, x), st, &m))
                return false;
            x = rebase(v, x, m);
        }
    }
    ah_span s = ah_view_span(v, x);
    if (s.n == 4 && memcmp(s.p, "null", 4) == 0)
        return false;
    *out = x;
    return true;
}

bool ah_view_text(ah_view *v, ah_val json, ah_val *text)
{
    ah_span s = ah_view_span(v, json);
    if (s.n == 0)
        return false;
    switch (s.p[0]) {
    case '"': {
        if (s.n < 2)
            return false;
        ah_span inner = ah_span_make(s.p + 1, s.n - 2);
        if (inner.n == 0)
            return false;
        if (!memchr(inner.p, '\\', inner.n)) {
            *text = rebase(v, json, inner);
            return true;
        }
        size_t start = v->str->len;
        if (ah_json_unescape(s, v->str) != AH_OK || v->str->len == start)
            return false;
        *text = (ah_val){NULL, start, v->str->len - start, AH_LOC_STR};
        return true;
    }
    case '{':
    case '[':
    case 'n': return false;
    default: /* number, true, false: as written */ *text = json; return true;
    }
}

static bool tenant_from_resource_id(ah_view *v, ah_val *text)
{
    static const char prefix[] = "/tenants/";
    ah_span s = ah_view_span(v, *text);
    size_t pl = sizeof prefix - 1;
    if (s.n <= pl)
        return false;
    for (size_t i = 0; i < pl; i++)
        if (ah_fold((unsigned char)s.p[i]) != (unsigned char)prefix[i])
            return false;
    size_t e = pl;
    while (e < s.n && s.p[e] != '/')
        e++;
    if (e == pl)
        return false;
    *text = rebase(v, *text, ah_span_make(s.p + pl, e - pl));
    return true;
}

bool ah_view_path_text(ah_view *v, const ah_path *path, ah_val *text)
{
    ah_val json;
    if (!ah_view_resolve(v, path, &json) || !ah_view_text(v, json, text))
        return false;
    if (path->transform == AH_XF_TENANT)
        return tenant_from_resource_id(v, text);
    return true;
}

/* --- placeholders ------------------------------------------------------------------- */

bool ah_is_placeholder(ah_span s)
{
    static const char *const words[] = {"sanitized",
                                        "not available",
                                        "null",
                                        "<null>",
                                        "n/a",
                                        "none",
                                        "unknown",
                                        "-",
                                        "00000000-0000-0000-0000-000000000000"};
    static const unsigned char lens[] = {9, 13, 4, 6, 3, 4, 7, 1, 36};
    _Static_assert(sizeof lens == AH_ARRAY_LEN(words), "one length per word");
    s = ah_span_trim(s);
    if (s.n == 0)
        return true;
    for (size_t i = 0; i < AH_ARRAY_LEN(words); i++)
        if (s.n == lens[i] && eq_ci(s.p, s.n, words[i]))
            return true;
    if (s.n >= 3 && s.p[0] == '$' && s.p[s.n - 1] == '$') { /* "$RestApiTenantId$" */
        for (size_t i = 1; i + 1 < s.n; i++)
            if (s.p[i] == ' ' || s.p[i] == '$')
                return false;
        return true;
    }
    return false;
}

/* --- diagnosis of invalid JSON ------------------------------------------------------ */

static const char *diag_string(const char **pp, const char *end)
{
    const char *p = *pp + 1;
    for (;;) {
        if (p >= end) {
            *pp = p;
            return "unterminated string";
        }
        unsigned char c = (unsigned char)*p;
        if (c == '"') {
            *pp = p + 1;
            return NULL;
        }
        if (c < 0x20) {
            *pp = p;
            return "control character in string";
        }
        if (c == '\\') {
            if (end - p < 2) {
                *pp = p;
                return "unterminated string";
            }
            char e = p[1];
            if (e == 'u') {
                for (int i = 2; i < 6; i++) {
                    if (p + i >= end || !((p[i] >= '0' && p[i] <= '9') || (ah_fold((unsigned char)p[i]) >= 'a' &&
                                                                           ah_fold((unsigned char)p[i]) <= 'f'))) {
                        *pp = p;
                        return "invalid \\u escape in string";
                    }
                }
                p += 6;
                continue;
            }
            if (!strchr("\"\\/bfnrt", e) || e == '\0') {
                *pp = p;
                return "invalid escape in string";
            }
            p += 2;
            continue;
        }
        p++;
    }
}

static bool diag_token_cont(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c == '+' ||
           c == '-' || c == '_';
}

const char *ah_json_diagnose(ah_span text, size_t *pos)
{
    const char *s = text.p, *p = s, *end = s ? s + text.n : s;
    unsigned char stack[AH_JSON_MAX_DEPTH];
    size_t depth = 0;
    bool after_comma = false;
    const char *why;
    enum { VALUE, KEY, AFTER } state = VALUE;

    for (;;) {
        while (p < end && is_ws(*p))
            p++;
        if (state == AFTER && depth == 0) {
            if (p < end) {
                why = "unexpected data after the value";
                goto bad;
            }
            return NULL;
        }
        if (p >= end) {
            why = "unexpected end of input";
            goto bad;
        }
        char c = *p;
        if (state == KEY) {
            if (c == '}' && after_comma) {
                why = "trailing comma";
                goto bad;
            }
            if (c != '"') {
                why = "expected a string key";
                goto bad;
            }
            if ((why = diag_string(&p, end)))
                goto bad;
            while (p < end && is_ws(*p))
                p++;
            if (p >= end || *p != ':') {
                why = p >= end ? "unexpected end of input" : "expected ':' after a key";
                goto bad;
            }
            p++;
            state = VALUE;
            after_comma = false;
            continue;
        }
        if (state == AFTER) {
            bool obj = stack[depth - 1];
            if (c == ',') {
                p++;
                after_comma = true;
                state = obj ? KEY : VALUE;
                continue;
            }
            if (c == (obj ? '}' : ']')) {
                p++;
                depth--;
                continue;
            }
            why = obj ? "expected ',' or '}'" : "expected ',' or ']'";
            goto bad;
        }
        /* VALUE */
        switch (c) {
        case '{':
        case '[':
            if (depth >= AH_JSON_MAX_DEPTH) {
                why = "nesting deeper than 256 levels";
                goto bad;
            }
            stack[depth++] = c == '{';
            p++;
            while (p < end && is_ws(*p))
                p++;
            if (p < end && *p == (c == '{' ? '}' : ']')) {
                p++;
                depth--;
                state = AFTER;
            } else {
                state = c == '{' ? KEY : VALUE;
            }
            after_comma = false;
            continue;
        case ']':
        case '}': why = after_comma ? "trailing comma" : "unexpected closing bracket"; goto bad;
        case '"':
            if ((why = diag_string(&p, end)))
                goto bad;
            break;
        case 't':
        case 'f':
        case 'n': {
            const char *w = c == 't' ? "true" : c == 'f' ? "false" : "null";
            size_t wl = strlen(w);
            if ((size_t)(end - p) < wl || memcmp(p, w, wl) != 0 || (p + wl < end && diag_token_cont(p[wl]))) {
                why = "invalid literal";
                goto bad;
            }
            p += wl;
            break;
        }
        default: {
            const char *q = p;
            if (q < end && *q == '-')
                q++;
            if (q >= end || *q < '0' || *q > '9') {
                why = "unexpected character";
                goto bad;
            }
            if (*q == '0')
                q++;
            else
                while (q < end && *q >= '0' && *q <= '9')
                    q++;
            bool ok = true;
            if (q < end && *q == '.') {
                q++;
                ok = q < end && *q >= '0' && *q <= '9';
                while (q < end && *q >= '0' && *q <= '9')
                    q++;
            }
            if (ok && q < end && (*q == 'e' || *q == 'E')) {
                q++;
                if (q < end && (*q == '+' || *q == '-'))
                    q++;
                ok = q < end && *q >= '0' && *q <= '9';
                while (q < end && *q >= '0' && *q <= '9')
                    q++;
            }
            if (!ok || (q < end && diag_token_cont(*q))) {
                why = "invalid number";
                goto bad;
            }
            p = q;
            break;
        }
        }
        state = AFTER;
        after_comma = false;
    }
bad:
    if (pos)
        *pos = (size_t)(p - s);
    return why;
}
