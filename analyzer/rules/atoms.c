/*
 * atoms.c: the literals a regular expression cannot match without.
 *
 * Why: a regex such as the UNC2452 domain list over a whole raw record
 * starts with a look-behind, so PCRE2 tries the whole alternation at every
 * byte of every record, and almost no record holds any of the names. Every
 * match must contain one of the alternatives, though, and one pass over
 * the record for those strings (case-folded) says "no" far more cheaply.
 * The regex runs only when an atom is present, so results never change.
 *
 * Exact by construction: the analysis understands a conservative subset of
 * PCRE2 syntax and gives up (no atoms: the regex always runs) on anything
 * else: backreferences, \Q..\E, inline options, conditionals, hex or
 * property escapes, extended mode. Caseless UTF matching lets 'k' match
 * U+212A KELVIN SIGN and 's' match U+017F LONG S, so in caseless patterns
 * those letters and every non-ASCII byte end a literal instead of joining
 * it. Atoms shorter than AHI_ATOM_MIN bytes are not worth a scan.
 *
 * The search is Wu-Manber over three-byte keys (ahi_atoms_present): on
 * text that holds none of the atoms it reads about one byte in m-2, m the
 * shortest atom's length.
 */
#include "rules_private.h"

#include <stdlib.h>
#include <string.h>

enum { AHI_ATOM_MIN = 3, AHI_ATOM_MAX = 64, RUN_MAX = 250 /* jumps fit a byte */ };

/* An any-of set of folded literals; n == 0 with none = true means "no
 * requirement" (anything may match). */
typedef struct req {
    bool none;
    size_t n;
    char *s[AHI_ATOM_MAX];
    size_t len[AHI_ATOM_MAX];
} req;

typedef struct rx {
    const unsigned char *p, *end;
    bool caseless;
    bool fail; /* syntax outside the subset: give up */
    ahi_arena *arena;
} rx;

static size_t req_minlen(const req *r)
{
    size_t m = SIZE_MAX;
    for (size_t i = 0; i < r->n; i++)
        if (r->len[i] < m)
            m = r->len[i];
    return m;
}

/* Better requirement: longer shortest atom, then fewer atoms. */
static bool req_better(const req *a, const req *b)
{
    if (a->none)
        return false;
    if (b->none)
        return true;
    size_t ma = req_minlen(a), mb = req_minlen(b);
    return ma != mb ? ma > mb : a->n < b->n;
}

static void req_single(rx *x, req *r, const unsigned char *s, size_t n)
{
    r->none = n < AHI_ATOM_MIN;
    r->n = 0;
    if (r->none)
        return;
    char *t = ahi_alloc(x->arena, n + 1);
    if (!t) {
        x->fail = true;
        return;
    }
    for (size_t i = 0; i < n; i++)
        t[i] = (char)ah_fold(s[i]);
    r->s[0] = t;
    r->len[0] = n;
    r->n = 1;
}

static void parse_alt(rx *x, req *out, int depth);

/* Skip a character class [...] (its content requires nothing we use). */
static void skip_class(rx *x)
{
    x->p++; /* '[' */
    if (x->p < x->end && *x->p == '^')
        x->p++;
    if (x->p < x->end && *x->p == ']')
        x->p++;
    while (x->p < x->end && *x->p != ']') {
        if (*x->p == '\\') {
            x->p++;
        } else if (*x->p == '[' && x->p + 1 < x->end && x->p[1] == ':') {
            const unsigned char *close = x->p + 2;
            while (close + 1 < x->end && !(close[0] == ':' && close[1] == ']'))
                close++;
            x->p = close + 1;
        }
        if (x->p < x->end)
            x->p++;
    }
    if (x->p >= x->end)
        x->fail = true;
    else
        x->p++;
}

/* A quantifier after a piece: *min gets its lower bound (0 or 1+).
 * Returns false when there is none. */
static bool quantifier(rx *x, unsigned *min)
{
    if (x->p >= x->end)
        return false;
    unsigned char c = *x->p;
    if (c == '*' || c == '?') {
        *min = 0;
        x->p++;
    } else if (c == '+') {
        *min = 1;
        x->p++;
    } else if (c == '{') {
        const unsigned char *q = x->p + 1;
        unsigned lo = 0;
        bool digits = false;
        while (q < x->end && *q >= '0' && *q <= '9') {
            lo = lo * 10 + (unsigned)(*q - '0');
            if (lo > 100000)
                lo = 100000;
            q++;
            digits = true;
        }
        if (!digits)
            return false; /* a literal '{' in PCRE2 */
        if (q < x->end && *q == ',')
            q++;
        while (q < x->end && *q >= '0' && *q <= '9')
            q++;
        if (q >= x->end || *q != '}')
            return false;
        *min = lo;
        x->p = q + 1;
    } else {
        return false;
    }
    if (x->p < x->end && (*x->p == '?' || *x->p == '+')) /* lazy / possessive */
        x->p++;
    return true;
}

/* One branch: a sequence of pieces; the result is its best factor. */
static void parse_seq(rx *x, req *out, int depth)
{
    req best = {.none = true};
    unsigned char run[RUN_MAX];
    size_t nrun = 0;
    req piece;
#define END_RUN()                                                                                                      \
    do {                                                                                                               \
        if (nrun) {                                                                                                    \
            req_single(x, &piece, run, nrun);                                                                          \
            if (req_better(&piece, &best))                                                                             \
                best = piece;                                                                                          \
            nrun = 0;                                                                                                  \
        }                                                                                                              \
    } while (0)
    while (!x->fail && x->p < x->end && *x->p != '|' && *x->p != ')') {
        unsigned char c = *x->p;
        int lit = -1;     /* a literal byte, or -1 */
        bool sub = false; /* piece is a group with requirement `piece` */
        if (c == '(') {
            x->p++;
            bool look = false;
            if (x->p < x->end && *x->p == '?') {
                const unsigned char *q = x->p + 1;
                if (q < x->end && *q == ':') {
                    x->p = q + 1;
                } else if (q < x->end && (*q == '=' || *q == '!')) {
                    look = true;
                    x->p = q + 1;
                } else if (q + 1 < x->end && *q == '<' && (q[1] == '=' || q[1] == '!')) {
                    look = true;
                    x->p = q + 2;
                } else if (q < x->end && (*q == '<' || *q == 'P' || *q == '\'')) {
                    /* named group: (?<n>..), (?P<n>..), (?'n'..) */
                    if (*q == 'P')
                        q++;
                    unsigned char close = (q < x->end && *q == '\'') ? '\'' : '>';
                    if (q >= x->end || (*q != '<' && *q != '\''))
                        x->fail = true;
                    while (q < x->end && *q != close)
                        q++;
                    x->p = q + 1;
                } else {
                    x->fail = true; /* options, conditionals, atomic groups, recursion */
                }
            }
            if (x->p > x->end)
                x->fail = true;
            if (x->fail)
                break;
            END_RUN();
            parse_alt(x, &piece, depth + 1);
            if (x->fail || x->p >= x->end || *x->p != ')') {
                x->fail = true;
                break;
            }
            x->p++;
            if (look)
                piece.none = true; /* zero-width: what it looks at is not in the match */
            sub = true;
        } else if (c == '[') {
            skip_class(x);
            END_RUN();
            piece.none = true;
            sub = true;
        } else if (c == '\\') {
            if (x->p + 1 >= x->end) {
                x->fail = true;
                break;
            }
            unsigned char e = x->p[1];
            x->p += 2;
            if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9')) {
                if (!strchr("dDwWsShHvVNRXbBAzZG", e)) {
                    x->fail = true; /* \x \u \p \Q \k \1 \g \c \e \n ...: out of the subset */
                    break;
                }
                END_RUN();
                piece.none = true;
                sub = true;
            } else {
                lit = e; /* an escaped punctuation byte stands for itself */
            }
        } else if (c == '.' || c == '^' || c == '$') {
            x->p++;
            END_RUN();
            piece.none = true;
            sub = true;
        } else if (c == '*' || c == '+' || c == '?' ||
                   (c == '{' && x->p + 1 < x->end && x->p[1] >= '0' && x->p[1] <= '9')) {
            x->fail = true; /* a quantifier with nothing before it */
            break;
        } else if (c == '{') {
            x->fail = true; /* literal or quantifier depends on the PCRE2 version */
            break;
        } else {
            lit = c;
            x->p++;
        }
        unsigned min = 1;
        bool quant = quantifier(x, &min);
        if (lit >= 0) {
            bool breaks = x->caseless &&
                          (lit >= 0x80 || ah_fold((unsigned char)lit) == 'k' || ah_fold((unsigned char)lit) == 's');
            if (quant || breaks) {
                /* x? / x*: the run ends before x. x+ / x{n,}: the run ends
                 * with one x, and the last x starts the next run. */
                bool again = quant && min > 0 && !breaks;
                if (again && nrun < RUN_MAX)
                    run[nrun++] = (unsigned char)lit;
                END_RUN();
                if (again)
                    run[nrun++] = (unsigned char)lit;
            } else if (nrun < RUN_MAX) {
                run[nrun++] = (unsigned char)lit;
            } else {
                END_RUN();
            }
        } else if (sub) {
            if (quant && min == 0)
                piece.none = true;
            if (req_better(&piece, &best))
                best = piece;
        }
    }
    END_RUN();
#undef END_RUN
    *out = best;
}

/* branch ('|' branch)*: any of the branches' sets; none if one has none. */
static void parse_alt(rx *x, req *out, int depth)
{
    if (depth > 32) {
        x->fail = true;
        return;
    }
    req acc = {.none = false, .n = 0};
    for (;;) {
        req b;
        parse_seq(x, &b, depth);
        if (x->fail)
            return;
        if (b.none || acc.n + b.n > AHI_ATOM_MAX) {
            acc.none = true;
            acc.n = 0;
        } else if (!acc.none) {
            for (size_t i = 0; i < b.n; i++) {
                acc.s[acc.n] = b.s[i];
                acc.len[acc.n++] = b.len[i];
            }
        }
        if (x->p < x->end && *x->p == '|') {
            x->p++;
            continue;
        }
        break;
    }
    if (acc.n == 0)
        acc.none = true;
    *out = acc;
}

/* Five bits of a byte, the same for both cases of a letter: letters and
 * digits keep distinct values among themselves. */
static unsigned key5(unsigned char c) { return c & 31u; }

static unsigned key3(const unsigned char *p) { return key5(p[0]) << 10 | key5(p[1]) << 5 | key5(p[2]); }

/* The search structure over n folded literals (each at least AHI_ATOM_MIN
 * bytes and at most RUN_MAX); the strings must outlive it. */
static ahi_atoms *atoms_build(ahi_arena *a, char *const *s, const size_t *len, size_t n)
{
    ahi_atoms *at = ahi_alloc(a, sizeof *at);
    if (!at || n == 0)
        return NULL;
    at->n = n;
    at->s = ahi_alloc(a, n * sizeof *at->s);
    at->len = ahi_alloc(a, n * sizeof *at->len);
    at->key = ahi_alloc(a, n * sizeof *at->key);
    at->order = ahi_alloc(a, n * sizeof *at->order);
    if (!at->s || !at->len || !at->key || !at->order)
        return NULL;
    size_t m = SIZE_MAX;
    for (size_t i = 0; i < n; i++)
        if (len[i] < m)
            m = len[i];
    at->minlen = m;
    memset(at->shift, (int)(m - 2), sizeof at->shift);
    for (size_t i = 0; i < n; i++) {
        const unsigned char *t = (const unsigned char *)s[i];
        at->s[i] = s[i];
        at->len[i] = len[i];
        for (size_t q = 2; q < m; q++) { /* the trigram ending at q of the first m bytes */
            unsigned h = key3(t + q - 2);
            if (m - 1 - q < at->shift[h])
                at->shift[h] = (uint8_t)(m - 1 - q);
        }
        at->key[i] = (uint16_t)key3(t + m - 3);
    }
    /* Counting sort by key (stable, linear: the rules' raw literals may be
     * many thousands). */
    uint32_t *start = calloc(32768 + 1, sizeof *start);
    if (!start)
        return NULL;
    for (size_t i = 0; i < n; i++)
        start[at->key[i] + 1]++;
    for (size_t k = 1; k <= 32768; k++)
        start[k] += start[k - 1];
    for (size_t i = 0; i < n; i++)
        at->order[start[at->key[i]]++] = (uint32_t)i;
    free(start);
    return at;
}

ahi_atoms *ahi_atoms_of_regex(ahi_arena *a, const char *pattern, size_t n, bool caseless, bool extended)
{
    if (extended || !pattern)
        return NULL;
    rx x = {(const unsigned char *)pattern, (const unsigned char *)pattern + n, caseless, false, a};
    req r;
    parse_alt(&x, &r, 0);
    if (x.fail || x.p != x.end || r.none || r.n == 0)
        return NULL;
    return atoms_build(a, r.s, r.len, r.n);
}

/* The first index in at->order whose atom has key h. */
static size_t first_with_key(const ahi_atoms *at, unsigned h)
{
    size_t lo = 0, hi = at->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (at->key[at->order[mid]] < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool atom_at(const ahi_atoms *at, size_t k, const unsigned char *p, size_t avail)
{
    size_t len = at->len[k];
    if (len > avail)
        return false;
    size_t j = 0;
    while (j < len && (unsigned char)at->s[k][j] == ah_fold(p[j]))
        j++;
    return j == len;
}

/* Wu-Manber: a window of the shortest atom's length m slides over the
 * text; the key of its last three bytes says how far it may jump without
 * passing over an atom's first m bytes (keys collide, which only shortens
 * jumps). A zero jump is a candidate start to verify. With present, every
 * atom found is marked and the scan goes on; without, the first ends it. */
static bool scan(const ahi_atoms *at, const char *text, size_t n, uint8_t *present)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t m = at->minlen;
    bool any = false;
    for (size_t end = m - 1; end < n; end++) {
        unsigned h = key3(p + end - 2);
        size_t jump = at->shift[h];
        if (jump) {
            end += jump - 1;
            continue;
        }
        size_t start = end + 1 - m;
        for (size_t i = first_with_key(at, h); i < at->n && at->key[at->order[i]] == h; i++) {
            size_t k = at->order[i];
            if ((!present || !present[k]) && atom_at(at, k, p + start, n - start)) {
                if (!present)
                    return true;
                present[k] = 1;
                any = true;
            }
        }
    }
    return any;
}

bool ahi_atoms_present(const ahi_atoms *at, const char *text, size_t n) { return scan(at, text, n, NULL); }

void ahi_atoms_mark(const ahi_atoms *at, const char *text, size_t n, uint8_t *present)
{
    memset(present, 0, at->n);
    scan(at, text, n, present);
}

/* --- the rules' literals, per tested value --------------------------------- */

typedef struct lit_list {
    char **s;
    size_t *len;
    size_t n, cap;
} lit_list;

static bool lit_add(ahi_arena *a, lit_list *l, const char *s, size_t n)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        char **ns = ahi_alloc(a, cap * sizeof *ns);
        size_t *nl = ahi_alloc(a, cap * sizeof *nl);
        if (!ns || !nl)
            return false;
        if (l->n) {
            memcpy(ns, l->s, l->n * sizeof *ns);
            memcpy(nl, l->len, l->n * sizeof *nl);
        }
        l->s = ns;
        l->len = nl;
        l->cap = cap;
    }
    char *t = ahi_alloc(a, n + 1);
    if (!t)
        return false;
    for (size_t i = 0; i < n; i++)
        t[i] = (char)ah_fold((unsigned char)s[i]);
    l->s[l->n] = t;
    l->len[l->n++] = n;
    return true;
}

/* The group of the value a comparison tests, or -1 (atoms of a value
 * reached by a raw path stay the rule's own: the values vary per walk). */
static int lit_group(const ahi_cnode *c)
{
    switch (c->opd.kind) {
    case AHI_OPD_RAWTEXT: return AHI_LIT_GROUP_RAW;
    case AHI_OPD_FIELD: return 1 + (int)c->opd.field;
    case AHI_OPD_OPCANON: return AHI_LIT_GROUP_OPCANON;
    case AHI_OPD_OPRAW: return AHI_LIT_GROUP_OPRAW;
    default: return -1;
    }
}

static bool collect(ahi_arena *a, ahi_cnode *c, lit_list *lists)
{
    if (!c)
        return true;
    for (size_t i = 0; i < c->nkids; i++)
        if (!collect(a, c->kids[i], lists))
            return false;
    int g = c->kind == AHI_N_CMP ? lit_group(c) : -1;
    if (g < 0)
        return true;
    lit_list *l = &lists[g];
    size_t first = l->n;
    if (c->op == AHI_OP_CONTAINS && c->lit.n >= AHI_ATOM_MIN && c->lit.n <= RUN_MAX) {
        if (!lit_add(a, l, c->lit.s, c->lit.n))
            return false;
    } else if (c->op == AHI_OP_MATCHES && c->atoms) {
        for (size_t i = 0; i < c->atoms->n; i++)
            if (!lit_add(a, l, c->atoms->s[i], c->atoms->len[i]))
                return false;
    }
    c->lit_group = (uint8_t)g;
    c->lit_first = (uint32_t)first;
    c->lit_count = (uint32_t)(l->n - first);
    return true;
}

bool ahi_literals_build(ah_ruleset *rs)
{
    lit_list lists[AHI_LIT_GROUPS] = {{0}};
    for (size_t i = 0; i < rs->nrules; i++)
        if (!collect(&rs->store.arena, rs->rules[i]->cond, lists))
            return false;
    for (int g = 0; g < AHI_LIT_GROUPS; g++) {
        const lit_list *l = &lists[g];
        rs->lit_groups[g] = l->n ? atoms_build(&rs->store.arena, l->s, l->len, l->n) : NULL;
        if (l->n && !rs->lit_groups[g])
            return false;
    }
    return true;
}
