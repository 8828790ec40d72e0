/*
 * names.c: the case knowledge store for display names (names.h,
 * docs/names.md).
 *
 * Layout: ids are 128-bit GUIDs in a dense entry array indexed by an
 * open-addressing table of 32-bit slots (load <= 1/2). An entry holds at
 * most one fixed name (reference list or directory export) and a short
 * history of names seen in the records, each with the first and last time
 * it was seen; strings live in one arena. First/last times are min/max
 * over sightings and ties break on the name's bytes, so what a lookup or
 * the rename list returns does not depend on the order records arrive in.
 *
 * Learning reads the raw JSON with the allocation-free scanner: one pass
 * over a sign-in's top-level members (keys told apart by length first),
 * the directory audit's initiatedBy/targetResources, and for the UAL only
 * directory records (RecordType 8) and records that carry an application
 * name at all (a plain substring search before any JSON work).
 *
 * Size: the store, the learning from every export shape (sign-ins,
 * directory audits, UAL app-access and target fields), the shipped
 * reference lists, the --directory reader and save/load for partials; they
 * share the entry layout and its arena. A split would move the --directory
 * reader (CSV and JSON) to a file of its own.
 */
#include "names.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../parsers/decode/decode.h"
#include "../../parsers/formats/timeparse.h"
#include "../../parsers/formats/view.h"
#include "../../parsers/frame/csv.h"
#include "../../parsers/util/varint.h"
#include "../../parsers/frame/jscan.h"
#include "../../parsers/frame/jsonsplit.h"
#include "../../parsers/source/source.h"
#include "../../parsers/util/buf.h"

#define MAX_NAMES 8        /* names kept per id (the first seen, by time) */
#define MAX_NAME_BYTES 256 /* longer names are cut at a character boundary */
#define MAX_LIST_LINE 4096
#define MAX_DIR_RECORD (16u << 20)
#define HASH_SEED 0x61686e616d6573ull /* "ahnames" */

typedef struct guid {
    uint64_t hi, lo;
} guid;

typedef struct rec {
    ah_time first, last;
    uint32_t off, len; /* in the arena */
    uint32_t next;     /* index + 1 of the id's next name, 0 at the end */
    bool ms_like;      /* the name looks like Microsoft's (tested once, when stored) */
} rec;

enum { E_REFERENCE = 1, E_DIRECTORY = 2, E_LINK = 4 };

typedef struct entry {
    guid id;
    guid link;                     /* application id of a service principal / application object */
    uint32_t fixed_off, fixed_len; /* reference or directory name */
    uint32_t first_rec;            /* index + 1 into recs, 0: no history */
    uint32_t more;                 /* sightings of names past MAX_NAMES */
    uint8_t kind, flags, nrecs;
    bool fixed_ms_like;
} entry;

/* Microsoft-like words: WORD ones must start a word of the name. */
typedef struct ms_word {
    const char *word;
    bool anywhere;
} ms_word;

static const ms_word ms_words[] = {
    {"microsoft", true},  {"micro soft", true},  {"msft", false},     {"office 365", true},    {"office365", true},
    {"o365", false},      {"m365", false},       {"azure", false},    {"outlook", true},       {"exchange", false},
    {"graph", false},     {"windows", false},    {"teams", false},    {"onedrive", true},      {"one drive", true},
    {"sharepoint", true}, {"share point", true}, {"skype", true},     {"entra", false},        {"intune", true},
    {"defender", false},  {"yammer", true},      {"power bi", false}, {"dynamics 365", false},
};
enum { MS_WORDS = (int)AH_ARRAY_LEN(ms_words), MS_NORM = 24 };

enum { B_A, B_B, B_C, B_D, B_E, B_F, B_G, B_H, B_J1, B_J2, B_J3, B_TMP, B_TMP2, NBUF };

struct ah_names {
    size_t budget;
    uint32_t *slots;
    size_t mask; /* slot count - 1; slots NULL before the first id */
    entry *ents;
    size_t nents, cap_ents;
    rec *recs;
    size_t nrecs, cap_recs;
    char *str;
    size_t nstr, cap_str;
    size_t nref, ndir;
    size_t nlive; /* history entries in use (a listed id drops the history it had) */
    uint64_t dropped_ids, dropped_names, more_names;
    char ms_norm[MS_WORDS][MS_NORM]; /* ms_words normalized like names (leading space) */
    ah_buf b[NBUF];                  /* learning scratch */
};

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

/* --- GUIDs ------------------------------------------------------------------------- */

/* Positions of the 32 hex digits in the 36-character form. */
static const uint8_t guid_digit_pos[32] = {0,  1,  2,  3,  4,  5,  6,  7,  9,  10, 11, 12, 14, 15, 16, 17,
                                           19, 20, 21, 22, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35};
/* Hex digit value + 1; 0 for any other byte. */
static const uint8_t hex1[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
    ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
    ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

/* Runs on every id of every event: table-driven, no branch per digit. */
static bool parse_guid(ah_span s, guid *g)
{
    if (s.n != 36) { /* the usual case is exact: trim and unbrace only when needed */
        s = ah_span_trim(s);
        if (s.n == 38 && s.p[0] == '{' && s.p[37] == '}')
            s = ah_span_make(s.p + 1, 36);
        if (s.n != 36)
            return false;
    }
    if (s.p[8] != '-' || s.p[13] != '-' || s.p[18] != '-' || s.p[23] != '-')
        return false;
    const unsigned char *p = (const unsigned char *)s.p;
    uint64_t hi = 0, lo = 0;
    unsigned bad = 0;
    for (int i = 0; i < 16; i++) {
        unsigned a = hex1[p[guid_digit_pos[i]]], b = hex1[p[guid_digit_pos[i + 16]]];
        bad |= (a == 0) | (b == 0);
        hi = (hi << 4) | ((a - 1) & 15);
        lo = (lo << 4) | ((b - 1) & 15);
    }
    if (bad)
        return false;
    g->hi = hi;
    g->lo = lo;
    return true;
}

static void format_guid(guid g, char out[37])
{
    static const char hex[] = "0123456789abcdef";
    int k = 0;
    for (int i = 0; i < 32; i++) {
        if (i == 8 || i == 12 || i == 16 || i == 20)
            out[k++] = '-';
        uint64_t w = i < 16 ? g.hi : g.lo;
        out[k++] = hex[(w >> (60 - 4 * (i % 16))) & 0xf];
    }
    out[36] = '\0';
}

bool ah_names_canon_id(ah_span s, char out[37])
{
    guid g;
    if (!parse_guid(s, &g))
        return false;
    format_guid(g, out);
    return true;
}

static bool guid_eq(guid a, guid b) { return a.hi == b.hi && a.lo == b.lo; }
static bool guid_zero(guid a) { return (a.hi | a.lo) == 0; }
static int guid_cmp(guid a, guid b)
{
    if (a.hi != b.hi)
        return a.hi < b.hi ? -1 : 1;
    return a.lo < b.lo ? -1 : a.lo > b.lo;
}

/* --- kinds ------------------------------------------------------------------------- */

static const char *const kind_names[AH_NAME_KIND_COUNT] = {
    "unknown", "application", "service-principal", "application-object", "user", "group", "role", "permission", "other",
};

const char *ah_name_kind_name(ah_name_kind k) { return (unsigned)k < AH_NAME_KIND_COUNT ? kind_names[k] : "unknown"; }

static ah_name_kind kind_from_name(ah_span s)
{
    s = ah_span_trim(s);
    for (int k = 1; k < AH_NAME_KIND_COUNT; k++)
        if (ah_span_eq_ci(s, kind_names[k]))
            return (ah_name_kind)k;
    return AH_NAME_KIND_UNKNOWN;
}

/* Directory object types as audit records spell them (targetResources[].type,
 * the prefix of UAL "Kind_<guid>" ids). */
static ah_name_kind kind_from_type(ah_span s)
{
    s = ah_span_trim(s);
    if (ah_span_eq_ci(s, "User"))
        return AH_NAME_KIND_USER;
    if (ah_span_eq_ci(s, "ServicePrincipal"))
        return AH_NAME_KIND_SERVICE_PRINCIPAL;
    if (ah_span_eq_ci(s, "Application"))
        return AH_NAME_KIND_APP_OBJECT;
    if (ah_span_eq_ci(s, "Group"))
        return AH_NAME_KIND_GROUP;
    if (ah_span_eq_ci(s, "Role") || ah_span_eq_ci(s, "DirectoryRole"))
        return AH_NAME_KIND_ROLE;
    return AH_NAME_KIND_OTHER;
}

/* --- store and memory -------------------------------------------------------------- */

static size_t held_bytes(const ah_names *n)
{
    return (n->slots ? (n->mask + 1) * sizeof *n->slots : 0) + n->cap_ents * sizeof *n->ents +
           n->cap_recs * sizeof *n->recs + n->cap_str;
}

/* Normalize a name for the Microsoft-lookalike test: lowercase ASCII words
 * separated by single spaces (with a leading space), camelCase and acronym
 * boundaries split, look-alike digits and letters (0->o, Cyrillic/Greek
 * homoglyphs, accented Latin) folded, zero-width characters dropped. */
static size_t ms_normalize(ah_span s, char *out, size_t cap)
{
    size_t k = 0;
    bool space = true, prev_lower = false, prev_upper = false;
    if (cap < 2)
        return 0;
    out[k++] = ' ';
    for (size_t i = 0; i < s.n && k + 2 < cap;) {
        unsigned char c = (unsigned char)s.p[i];
        uint32_t cp = c;
        size_t len = 1;
        if (c >= 0x80) { /* decode one UTF-8 sequence (input is valid UTF-8; be safe anyway) */
            int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
            cp = extra ? (c & (0x3Fu >> extra)) : 0xFFFD;
            for (int j = 1; j <= extra && i + (size_t)j < s.n; j++)
                cp = (cp << 6) | ((unsigned char)s.p[i + (size_t)j] & 0x3Fu);
            len = 1 + (size_t)extra;
        }
        i += len;
        char out_c = 0;
        bool upper = false, letter = false;
        if (cp < 0x80) {
            if (cp >= 'A' && cp <= 'Z') {
                out_c = (char)(cp + 32);
                upper = letter = true;
            } else if ((cp >= 'a' && cp <= 'z')) {
                out_c = (char)cp;
                letter = true;
            } else if (cp >= '0' && cp <= '9') {
                static const char digit_map[] = "olzeastbbg"; /* 0->o 1->l 3->e 4->a 5->s 7->t ... */
                out_c = digit_map[cp - '0'];
                letter = true;
            } else if (cp == '@') {
                out_c = 'a';
                letter = true;
            } else if (cp == '$') {
                out_c = 's';
                letter = true;
            }
        } else if ((cp >= 0x200B && cp <= 0x200F) || cp == 0x2060 || cp == 0xFEFF || cp == 0x00AD) {
            continue; /* invisible: as if absent */
        } else {
            static const struct {
                uint32_t cp;
                char c;
            } fold[] = {
                {0x0430, 'a'}, {0x0410, 'a'}, {0x0435, 'e'}, {0x0415, 'e'}, {0x043E, 'o'}, {0x041E, 'o'}, {0x0440, 'p'},
                {0x0420, 'p'}, {0x0441, 'c'}, {0x0421, 'c'}, {0x0445, 'x'}, {0x0425, 'x'}, {0x0456, 'i'}, {0x0406, 'i'},
                {0x0455, 's'}, {0x0405, 's'}, {0x0443, 'y'}, {0x041C, 'm'}, {0x0422, 't'}, {0x041D, 'h'}, {0x041A, 'k'},
                {0x0412, 'b'}, {0x03BF, 'o'}, {0x039F, 'o'}, {0x03B1, 'a'}, {0x0391, 'a'}, {0x03B5, 'e'}, {0x0395, 'e'},
                {0x03B9, 'i'}, {0x0399, 'i'}, {0x039C, 'm'}, {0x03C1, 'p'}, {0x03A1, 'p'}, {0x03C4, 't'}, {0x03A4, 't'},
                {0x03BD, 'v'}, {0x0131, 'i'}, {0x2170, 'i'}, {0x217C, 'l'}, {0x2113, 'l'},
            };
            for (size_t f = 0; f < AH_ARRAY_LEN(fold); f++)
                if (fold[f].cp == cp)
                    out_c = fold[f].c;
            if (!out_c && cp >= 0xC0 && cp <= 0xFF && cp != 0xD7 && cp != 0xF7) {
                static const char latin1[] = "aaaaaaaceeeeiiiidnooooo ouuuuyts"  /* C0..DF */
                                             "aaaaaaaceeeeiiiidnooooo ouuuuyty"; /* E0..FF */
                out_c = latin1[cp - 0xC0];
            }
            if (!out_c)
                out_c = '#'; /* another script: a letter that matches nothing */
            letter = true;
        }
        if (!letter) {
            if (!space)
                out[k++] = ' ';
            space = true;
            prev_lower = prev_upper = false;
            continue;
        }
        /* a word boundary before an uppercase letter after a lowercase one
         * (contosoTeams), and before the last capital of a run followed by a
         * lowercase letter (MSAzure -> ms azure) */
        bool next_lower = i < s.n && s.p[i] >= 'a' && s.p[i] <= 'z';
        if (upper && !space && (prev_lower || (prev_upper && next_lower)))
            out[k++] = ' ';
        out[k++] = out_c;
        space = false;
        prev_lower = !upper && cp < 0x80 && cp >= 'a' && cp <= 'z';
        prev_upper = upper;
    }
    out[k] = '\0';
    return k;
}

static bool looks_microsoft(const ah_names *n, ah_span name)
{
    char norm[4 * MAX_NAME_BYTES + 8];
    ms_normalize(name, norm, sizeof norm);
    for (int i = 0; i < MS_WORDS; i++) {
        const char *w = n->ms_norm[i];
        if (strstr(norm, ms_words[i].anywhere ? w + 1 : w))
            return true;
    }
    return false;
}

ah_names *ah_names_new(size_t budget)
{
    ah_names *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->budget = budget;
    for (int i = 0; i < NBUF; i++)
        ah_buf_init(&n->b[i], MAX_DIR_RECORD);
    for (int i = 0; i < MS_WORDS; i++)
        ms_normalize(ah_span_cstr(ms_words[i].word), n->ms_norm[i], MS_NORM);
    return n;
}

void ah_names_free(ah_names *n)
{
    if (!n)
        return;
    free(n->slots);
    free(n->ents);
    free(n->recs);
    free(n->str);
    for (int i = 0; i < NBUF; i++)
        ah_buf_free(&n->b[i]);
    free(n);
}

/* Grow *arr (elem-byte items, capacity *cap) to hold need items, within the
 * budget unless exempt. False: not grown (budget or out of memory). */
static bool grow(ah_names *n, void **arr, size_t *cap, size_t need, size_t elem, size_t first, bool exempt)
{
    if (need <= *cap)
        return true;
    size_t want = *cap ? *cap * 2 : first;
    if (want < need)
        want = need;
    if (!exempt && n->budget) {
        size_t other = held_bytes(n) - *cap * elem;
        if (other >= n->budget)
            return false;
        size_t allowed = (n->budget - other) / elem;
        if (want > allowed)
            want = allowed;
        if (want < need)
            return false;
    }
    void *p = realloc(*arr, want * elem);
    if (!p)
        return false;
    *arr = p;
    *cap = want;
    return true;
}

/* GUIDs are random bits (well-known ones aside): one multiply-xorshift
 * round spreads them over the table. */
static size_t slot_of(guid g, size_t mask)
{
    uint64_t h = (g.hi ^ HASH_SEED) ^ (g.lo * 0x9e3779b97f4a7c15ULL);
    h ^= h >> 32;
    h *= 0xd6e8feca6c7ab0a5ULL;
    h ^= h >> 29;
    return (size_t)h & mask;
}

static entry *find(const ah_names *n, guid g)
{
    if (!n->slots)
        return NULL;
    for (size_t i = slot_of(g, n->mask);; i = (i + 1) & n->mask) {
        uint32_t s = n->slots[i];
        if (!s)
            return NULL;
        entry *e = &n->ents[s - 1];
        if (guid_eq(e->id, g))
            return e;
    }
}

/* A new entry for g (not present), or NULL when the budget or memory says no. */
static entry *insert(ah_names *n, guid g, bool exempt)
{
    if (n->nents >= UINT32_MAX - 1)
        return NULL;
    size_t slots = n->slots ? n->mask + 1 : 0;
    if ((n->nents + 1) * 2 > slots) {
        size_t ns = slots ? slots * 2 : 256;
        if (!exempt && n->budget && held_bytes(n) - slots * sizeof *n->slots + ns * sizeof *n->slots > n->budget)
            return NULL;
        uint32_t *t = calloc(ns, sizeof *t);
        if (!t)
            return NULL;
        for (size_t i = 0; i < n->nents; i++) {
            size_t j = slot_of(n->ents[i].id, ns - 1);
            while (t[j])
                j = (j + 1) & (ns - 1);
            t[j] = (uint32_t)(i + 1);
        }
        free(n->slots);
        n->slots = t;
        n->mask = ns - 1;
    }
    if (!grow(n, (void **)&n->ents, &n->cap_ents, n->nents + 1, sizeof *n->ents, 256, exempt))
        return NULL;
    entry *e = &n->ents[n->nents];
    memset(e, 0, sizeof *e);
    e->id = g;
    size_t j = slot_of(g, n->mask);
    while (n->slots[j])
        j = (j + 1) & n->mask;
    n->slots[j] = (uint32_t)(++n->nents);
    return e;
}

static bool str_add(ah_names *n, ah_span s, uint32_t *off, bool exempt)
{
    if (n->nstr + s.n > UINT32_MAX)
        return false;
    if (!grow(n, (void **)&n->str, &n->cap_str, n->nstr + s.n, 1, 4096, exempt))
        return false;
    memcpy(n->str + n->nstr, s.p, s.n);
    *off = (uint32_t)n->nstr;
    n->nstr += s.n;
    return true;
}

static ah_span rec_name(const ah_names *n, const rec *r) { return ah_span_make(n->str + r->off, r->len); }
static ah_span fixed_name(const ah_names *n, const entry *e)
{
    return ah_span_make(n->str + e->fixed_off, e->fixed_len);
}

static int span_cmp(ah_span a, ah_span b)
{
    size_t m = a.n < b.n ? a.n : b.n;
    int c = m ? memcmp(a.p, b.p, m) : 0;
    if (c)
        return c;
    return a.n < b.n ? -1 : a.n > b.n;
}

/* A display name worth keeping: trimmed, not a placeholder, not itself an
 * id, cut to MAX_NAME_BYTES at a character boundary. */
static bool clean_name(ah_span *s)
{
    ah_span t = ah_span_trim(*s);
    guid g;
    if (t.n == 0 || ah_is_placeholder(t) || parse_guid(t, &g))
        return false;
    if (t.n > MAX_NAME_BYTES) {
        size_t k = MAX_NAME_BYTES;
        while (k > 0 && ((unsigned char)t.p[k] & 0xC0) == 0x80)
            k--;
        t.n = k;
    }
    *s = t;
    return true;
}

static void set_kind(entry *e, ah_name_kind kind)
{
    /* the lowest kind wins, so the result does not depend on arrival order */
    if (kind != AH_NAME_KIND_UNKNOWN && !(e->flags & E_REFERENCE) &&
        (e->kind == AH_NAME_KIND_UNKNOWN || (unsigned)kind < e->kind))
        e->kind = (uint8_t)kind;
}

static void set_link(entry *e, const guid *link)
{
    if (!link || guid_zero(*link) || guid_eq(*link, e->id))
        return;
    if (!(e->flags & E_LINK) || guid_cmp(*link, e->link) < 0) {
        e->link = *link;
        e->flags |= E_LINK;
    }
}

/* (time, name) order of history entries: earlier first, then by bytes. */
static int first_cmp(const ah_names *n, const rec *a, const rec *b)
{
    int c = ah_time_cmp(a->first, b->first);
    return c ? c : span_cmp(rec_name(n, a), rec_name(n, b));
}

/* One sighting of `name` for id at time t. */
static void learn_name(ah_names *n, guid id, ah_name_kind kind, ah_span name, ah_time t, const guid *link)
{
    if (guid_zero(id) || !clean_name(&name))
        return;
    entry *e = find(n, id);
    if (!e) {
        e = insert(n, id, false);
        if (!e) {
            n->dropped_ids++;
            return;
        }
    }
    if (e->flags & E_REFERENCE)
        return; /* a listed name wins; nothing to learn */
    set_kind(e, kind);
    set_link(e, link);
    for (uint32_t r = e->first_rec; r; r = n->recs[r - 1].next) {
        rec *x = &n->recs[r - 1];
        if (x->len == name.n && memcmp(n->str + x->off, name.p, name.n) == 0) {
            if (ah_time_cmp(t, x->first) < 0)
                x->first = t;
            if (ah_time_cmp(t, x->last) > 0)
                x->last = t;
            return;
        }
    }
    rec cand = {t, t, 0, (uint32_t)name.n, 0, looks_microsoft(n, name)};
    if (e->nrecs < MAX_NAMES) {
        size_t idx = n->nrecs;
        if (idx >= UINT32_MAX - 1 || !grow(n, (void **)&n->recs, &n->cap_recs, idx + 1, sizeof *n->recs, 256, false) ||
            !str_add(n, name, &cand.off, false)) {
            n->dropped_names++;
            return;
        }
        cand.next = e->first_rec;
        n->recs[idx] = cand;
        n->nrecs++;
        e->first_rec = (uint32_t)(idx + 1);
        e->nrecs++;
        n->nlive++;
        return;
    }
    /* Full: keep the MAX_NAMES first seen (whatever the input order), count the rest. */
    e->more++;
    n->more_names++;
    rec *latest = NULL;
    for (uint32_t r = e->first_rec; r; r = n->recs[r - 1].next)
        if (!latest || first_cmp(n, &n->recs[r - 1], latest) > 0)
            latest = &n->recs[r - 1];
    int c = ah_time_cmp(t, latest->first);
    if (c > 0 || (c == 0 && span_cmp(name, rec_name(n, latest)) >= 0))
        return;
    uint32_t off;
    if (!str_add(n, name, &off, false)) {
        n->dropped_names++;
        return;
    }
    latest->off = off;
    latest->len = (uint32_t)name.n;
    latest->first = latest->last = t;
    latest->ms_like = looks_microsoft(n, name);
}

enum { FIXED_STORED = 1, FIXED_UNUSABLE = 0, FIXED_NO_ROOM = -1 };

/* A reference-list or directory name for id: FIXED_STORED (or already
 * named), FIXED_UNUSABLE (no id, or the name is empty, a placeholder, an
 * id), FIXED_NO_ROOM (budget or memory). */
static int set_fixed(ah_names *n, guid id, ah_name_kind kind, ah_span name, bool reference, const guid *link)
{
    if (guid_zero(id) || !clean_name(&name))
        return FIXED_UNUSABLE;
    entry *e = find(n, id);
    if (!e) {
        e = insert(n, id, reference);
        if (!e) {
            n->dropped_ids++;
            return FIXED_NO_ROOM;
        }
    }
    if (e->flags & E_REFERENCE)
        return FIXED_STORED; /* the first listed name wins */
    if (!reference && (e->flags & E_DIRECTORY)) {
        set_kind(e, kind);
        set_link(e, link);
        return FIXED_STORED;
    }
    uint32_t off;
    if (!str_add(n, name, &off, reference)) {
        n->dropped_names++;
        return FIXED_NO_ROOM;
    }
    e->fixed_off = off;
    e->fixed_len = (uint32_t)name.n;
    e->fixed_ms_like = !reference && looks_microsoft(n, name);
    if (reference) {
        if (e->flags & E_DIRECTORY)
            n->ndir--;
        n->nlive -= e->nrecs; /* a listed name wins: the history is never read again */
        e->first_rec = 0;
        e->nrecs = 0;
        e->more = 0;
        e->flags = (uint8_t)((e->flags & ~E_DIRECTORY) | E_REFERENCE);
        e->kind = (uint8_t)kind;
        n->nref++;
    } else {
        e->flags |= E_DIRECTORY;
        n->ndir++;
        set_kind(e, kind);
    }
    set_link(e, link);
    return FIXED_STORED;
}

/* --- lookup ------------------------------------------------------------------------ */

static bool first_party_app(const ah_names *n, guid app)
{
    const entry *e = find(n, app);
    return e && (e->flags & E_REFERENCE) && e->kind == AH_NAME_KIND_APPLICATION;
}

/* Can this entry's name be a Microsoft lookalike? Applications not in the
 * first-party list; service principals and application objects only when
 * their application id is known and not first-party (the tenant's own
 * service principal of Microsoft Graph is named "Microsoft Graph"). */
static bool lookalike_candidate(const ah_names *n, const entry *e)
{
    if (e->flags & E_REFERENCE)
        return false;
    if (e->kind == AH_NAME_KIND_APPLICATION)
        return true;
    if ((e->kind == AH_NAME_KIND_SERVICE_PRINCIPAL || e->kind == AH_NAME_KIND_APP_OBJECT) && (e->flags & E_LINK))
        return !first_party_app(n, e->link);
    return false;
}

static ah_time min_time(ah_time a, ah_time b) { return ah_time_cmp(a, b) <= 0 ? a : b; }

/* The name current at t: among names first seen at or before t, the one
 * last seen latest (up to t), then first seen latest, then by bytes (a
 * name taken back after a rename is current again from its last
 * sighting on); when every name was first seen after t, the earliest. */
static const rec *pick_at(const ah_names *n, const entry *e, ah_time t)
{
    const rec *best = NULL, *earliest = NULL;
    for (uint32_t r = e->first_rec; r; r = n->recs[r - 1].next) {
        const rec *x = &n->recs[r - 1];
        if (!earliest || first_cmp(n, x, earliest) < 0)
            earliest = x;
        if (ah_time_cmp(x->first, t) > 0)
            continue;
        if (!best) {
            best = x;
            continue;
        }
        int c = ah_time_cmp(min_time(x->last, t), min_time(best->last, t));
        if (c == 0)
            c = first_cmp(n, x, best);
        if (c > 0)
            best = x;
    }
    return best ? best : earliest;
}

static const rec *pick_latest(const ah_names *n, const entry *e)
{
    const rec *best = NULL;
    for (uint32_t r = e->first_rec; r; r = n->recs[r - 1].next) {
        const rec *x = &n->recs[r - 1];
        int c = best ? ah_time_cmp(x->last, best->last) : 1;
        if (c == 0)
            c = first_cmp(n, x, best);
        if (c > 0)
            best = x;
    }
    return best;
}

bool ah_names_lookup(const ah_names *n, ah_span id, bool has_time, ah_time t, ah_name_hit *out)
{
    guid g;
    if (!n || !parse_guid(id, &g))
        return false;
    const entry *e = find(n, g);
    if (!e)
        return false;
    ah_name_hit hit = {AH_SPAN_NULL, 0, (ah_name_kind)e->kind};
    if (e->flags & E_REFERENCE) {
        hit.name = fixed_name(n, e);
        hit.flags = AH_NAME_REFERENCE;
    } else {
        const rec *r = has_time && e->nrecs ? pick_at(n, e, t) : NULL;
        bool ms_like;
        if (r) {
            hit.name = rec_name(n, r);
            ms_like = r->ms_like;
        } else if (e->flags & E_DIRECTORY) {
            hit.name = fixed_name(n, e);
            hit.flags |= AH_NAME_DIRECTORY;
            ms_like = e->fixed_ms_like;
        } else if ((r = pick_latest(n, e)) != NULL) {
            hit.name = rec_name(n, r);
            ms_like = r->ms_like;
        } else {
            return false;
        }
        if (e->nrecs > 1 || e->more)
            hit.flags |= AH_NAME_RENAMED;
        if (ms_like && lookalike_candidate(n, e))
            hit.flags |= AH_NAME_LOOKALIKE;
    }
    if (out)
        *out = hit;
    return true;
}

/* --- renames ----------------------------------------------------------------------- */

static int rename_cmp(const void *pa, const void *pb)
{
    const ah_name_rename *a = pa, *b = pb;
    int c = ah_time_cmp(a->at, b->at);
    if (!c)
        c = strcmp(a->id, b->id);
    if (!c)
        c = span_cmp(a->new_name, b->new_name);
    if (!c)
        c = span_cmp(a->old_name, b->old_name);
    return c;
}

ah_status ah_names_renames(const ah_names *n, ah_names_rename_fn fn, void *ud, size_t *count)
{
    if (count)
        *count = 0;
    if (!n)
        return AH_OK;
    size_t total = 0;
    for (size_t i = 0; i < n->nents; i++)
        if (!(n->ents[i].flags & E_REFERENCE) && n->ents[i].nrecs > 1)
            total += n->ents[i].nrecs - 1u;
    if (total == 0)
        return AH_OK;
    ah_name_rename *all = malloc(total * sizeof *all);
    if (!all)
        return AH_ERR_NOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n->nents; i++) {
        const entry *e = &n->ents[i];
        if ((e->flags & E_REFERENCE) || e->nrecs < 2)
            continue;
        const rec *h[MAX_NAMES];
        size_t nh = 0;
        for (uint32_t r = e->first_rec; r && nh < MAX_NAMES; r = n->recs[r - 1].next)
            h[nh++] = &n->recs[r - 1];
        for (size_t a = 1; a < nh; a++) /* insertion sort by first seen */
            for (size_t b = a; b > 0 && first_cmp(n, h[b - 1], h[b]) > 0; b--) {
                const rec *tmp = h[b - 1];
                h[b - 1] = h[b];
                h[b] = tmp;
            }
        bool candidate = lookalike_candidate(n, e);
        for (size_t a = 1; a < nh; a++) {
            ah_name_rename *r = &all[k++];
            format_guid(e->id, r->id);
            r->kind = (ah_name_kind)e->kind;
            r->old_name = rec_name(n, h[a - 1]);
            r->new_name = rec_name(n, h[a]);
            r->at = h[a]->first;
            r->flags = candidate && h[a]->ms_like ? AH_NAME_LOOKALIKE : 0;
        }
    }
    qsort(all, k, sizeof *all, rename_cmp);
    for (size_t i = 0; i < k; i++)
        if (fn)
            fn(ud, &all[i]);
    free(all);
    if (count)
        *count = k;
    return AH_OK;
}

ah_status ah_names_merge(ah_names *into, const ah_names *from)
{
    if (!into || !from || into == from)
        return AH_OK;
    for (size_t i = 0; i < from->nents; i++) {
        const entry *e = &from->ents[i];
        const guid *link = (e->flags & E_LINK) ? &e->link : NULL;
        if (e->flags & (E_REFERENCE | E_DIRECTORY))
            set_fixed(into, e->id, (ah_name_kind)e->kind, fixed_name(from, e), (e->flags & E_REFERENCE) != 0, link);
        for (uint32_t r = e->first_rec; r; r = from->recs[r - 1].next) {
            const rec *x = &from->recs[r - 1];
            learn_name(into, e->id, (ah_name_kind)e->kind, rec_name(from, x), x->first, link);
            learn_name(into, e->id, (ah_name_kind)e->kind, rec_name(from, x), x->last, link);
        }
        if (e->more) {
            entry *d = find(into, e->id);
            if (d)
                d->more += e->more;
        }
    }
    into->dropped_ids += from->dropped_ids;
    into->dropped_names += from->dropped_names;
    into->more_names += from->more_names;
    return AH_OK;
}

ah_names_stats ah_names_get_stats(const ah_names *n)
{
    ah_names_stats s = {0};
    if (!n)
        return s;
    s.ids = n->nents;
    s.reference_ids = n->nref;
    s.directory_ids = n->ndir;
    s.names = n->nlive;
    s.dropped_ids = n->dropped_ids;
    s.dropped_names = n->dropped_names;
    s.more_names = n->more_names;
    s.bytes = held_bytes(n);
    return s;
}

/* --- reference lists --------------------------------------------------------------- */

/* Quote at most 48 bytes of hostile text for a message, non-printing bytes as \xNN. */
static const char *quote(ah_span s, char *buf, size_t size)
{
    size_t k = 0;
    for (size_t i = 0; i < s.n && i < 48 && k + 5 < size; i++) {
        unsigned char c = (unsigned char)s.p[i];
        if (c >= 0x20 && c < 0x7f && c != '\\')
            buf[k++] = (char)c;
        else
            k += (size_t)snprintf(buf + k, size - k, "\\x%02x", c);
    }
    if (s.n > 48 && k + 4 < size) {
        memcpy(buf + k, "...", 3);
        k += 3;
    }
    buf[k] = '\0';
    return buf;
}

/* Valid UTF-8 without control characters. */
static bool printable_utf8(ah_span s)
{
    for (size_t i = 0; i < s.n;) {
        unsigned char c = (unsigned char)s.p[i];
        if (c < 0x20 || c == 0x7f)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        if (len == 0 || (len == 2 && c < 0xC2) || i + len > s.n)
            return false;
        for (size_t j = 1; j < len; j++)
            if (((unsigned char)s.p[i + j] & 0xC0) != 0x80)
                return false;
        i += len;
    }
    return true;
}

static void list_error(ah_diag *d, const char *path, uint64_t line, const char *fmt, ah_span what)
{
    char q[256];
    ah_where w = {path, NULL, 0, line};
    ah_diag_report(d, AH_SEV_ERROR, &w, fmt, quote(what, q, sizeof q));
}

/* One line of a list (without its newline). */
static ah_status list_line(ah_names *n, const char *path, uint64_t no, ah_span line, ah_name_kind *kind, ah_diag *d)
{
    line = ah_span_trim(line);
    if (line.n == 0)
        return AH_OK;
    if (line.p[0] == '#') {
        ah_span c = ah_span_trim(ah_span_make(line.p + 1, line.n - 1));
        if (c.n >= 5 && ah_span_eq_ci(ah_span_make(c.p, 5), "kind:")) {
            ah_span k = ah_span_trim(ah_span_make(c.p + 5, c.n - 5));
            ah_name_kind nk = kind_from_name(k);
            if (nk == AH_NAME_KIND_UNKNOWN) {
                list_error(d, path, no,
                           "unknown kind '%s' (application, service-principal, application-object, user, group, role, "
                           "permission, other)",
                           k);
                return AH_ERR_SYNTAX;
            }
            *kind = nk;
        }
        return AH_OK;
    }
    size_t i = 0;
    while (i < line.n && !is_space(line.p[i]) && line.p[i] != '#')
        i++;
    guid g;
    if (!parse_guid(ah_span_make(line.p, i), &g)) {
        list_error(d, path, no, "not a GUID: '%s' (expected `GUID  # name`)", ah_span_make(line.p, i));
        return AH_ERR_SYNTAX;
    }
    ah_span rest = ah_span_trim(ah_span_make(line.p + i, line.n - i));
    if (rest.n && rest.p[0] == '#')
        rest = ah_span_trim(ah_span_make(rest.p + 1, rest.n - 1));
    /* the first-party rule list tags names with a confidence: "[H] Microsoft Graph" */
    if (rest.n >= 4 && rest.p[0] == '[' && rest.p[2] == ']' && is_space(rest.p[3]))
        rest = ah_span_trim(ah_span_make(rest.p + 3, rest.n - 3));
    if (rest.n == 0) {
        list_error(d, path, no, "no name after the id '%s' (expected `GUID  # name`)", ah_span_make(line.p, i));
        return AH_ERR_SYNTAX;
    }
    if (!printable_utf8(rest) || rest.n > MAX_NAME_BYTES) {
        list_error(d, path, no, "name is not printable UTF-8 of at most 256 bytes: '%s'", rest);
        return AH_ERR_SYNTAX;
    }
    int r = set_fixed(n, g, *kind, rest, true, NULL);
    if (r == FIXED_NO_ROOM)
        return AH_ERR_NOMEM;
    if (r == FIXED_UNUSABLE) {
        list_error(d, path, no, "the name is a placeholder or an id: '%s'", rest);
        return AH_ERR_SYNTAX;
    }
    return AH_OK;
}

ah_status ah_names_load_list(ah_names *n, const char *path, ah_diag *d)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        ah_where w = {path, NULL, 0, 0};
        ah_diag_report(d, AH_SEV_ERROR, &w, "cannot read names list: %s", strerror(errno));
        return AH_ERR_IO;
    }
    ah_status worst = AH_OK;
    ah_name_kind kind = AH_NAME_KIND_APPLICATION;
    char line[MAX_LIST_LINE + 1];
    uint64_t no = 0;
    for (;;) {
        size_t len = 0;
        int c;
        bool too_long = false;
        while ((c = getc(f)) != EOF && c != '\n') {
            if (len < MAX_LIST_LINE)
                line[len++] = (char)c;
            else
                too_long = true;
        }
        if (c == EOF && len == 0 && !too_long)
            break;
        no++;
        ah_span s = ah_span_make(line, len);
        if (no == 1 && len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0)
            s = ah_span_make(line + 3, len - 3);
        ah_status st;
        if (too_long) {
            list_error(d, path, no, "line longer than 4096 bytes: '%s'", s);
            st = AH_ERR_SYNTAX;
        } else {
            st = list_line(n, path, no, s, &kind, d);
        }
        if (st == AH_ERR_NOMEM) {
            fclose(f);
            return st;
        }
        if (st != AH_OK)
            worst = st;
        if (c == EOF)
            break;
    }
    if (ferror(f)) {
        ah_where w = {path, NULL, 0, 0};
        ah_diag_report(d, AH_SEV_ERROR, &w, "read error in names list");
        worst = AH_ERR_IO;
    }
    fclose(f);
    return worst;
}

static int str_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

ah_status ah_names_load_lists(ah_names *n, const char *dir, ah_diag *d)
{
    DIR *dp = opendir(dir);
    if (!dp) {
        ah_where w = {dir, NULL, 0, 0};
        ah_diag_report(d, AH_SEV_ERROR, &w, "cannot read the lists directory: %s", strerror(errno));
        return AH_ERR_IO;
    }
    char **files = NULL;
    size_t nf = 0, cap = 0;
    ah_status worst = AH_OK;
    struct dirent *de;
    while ((de = readdir(dp)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len < 10 || strncmp(de->d_name, "names-", 6) != 0 || strcmp(de->d_name + len - 4, ".txt") != 0)
            continue;
        if (nf == cap) {
            char **p = ah_grow_array(files, &cap, 8, sizeof *files);
            if (!p) {
                worst = AH_ERR_NOMEM;
                break;
            }
            files = p;
        }
        size_t plen = strlen(dir) + 1 + len + 1;
        if ((files[nf] = malloc(plen)) == NULL) {
            worst = AH_ERR_NOMEM;
            break;
        }
        snprintf(files[nf++], plen, "%s/%s", dir, de->d_name);
    }
    closedir(dp);
    if (nf > 1)
        qsort(files, nf, sizeof *files, str_cmp);
    for (size_t i = 0; i < nf && worst != AH_ERR_NOMEM; i++) {
        ah_status st = ah_names_load_list(n, files[i], d);
        if (st != AH_OK && (worst == AH_OK || st == AH_ERR_NOMEM))
            worst = st;
    }
    for (size_t i = 0; i < nf; i++)
        free(files[i]);
    free(files);
    if (worst != AH_ERR_NOMEM) {
        /* ids added to the rule list of first-party applications are first-party too */
        char path[4096];
        snprintf(path, sizeof path, "%s/microsoft-first-party-app-ids.txt", dir);
        FILE *f = fopen(path, "rb");
        if (f) {
            fclose(f);
            ah_status st = ah_names_load_list(n, path, d);
            if (st != AH_OK && (worst == AH_OK || st == AH_ERR_NOMEM))
                worst = st;
        }
    }
    return worst;
}

/* --- JSON helpers -------------------------------------------------------------------- */

/* The text of a JSON value: strings unescaped (into out), null -> empty,
 * others as written. */
static ah_span value_text(ah_span v, ah_buf *out)
{
    ah_buf_reset(out);
    if (ah_json_type_of(v) == AH_JSON_STRING) {
        if (ah_json_unescape(v, out) != AH_OK)
            return AH_SPAN_NULL;
        return ah_span_trim(ah_buf_span(out));
    }
    if (ah_json_type_of(v) == AH_JSON_NULL || ah_json_type_of(v) == AH_JSON_INVALID)
        return AH_SPAN_NULL;
    return ah_span_trim(v);
}

/* A GUID straight from a JSON value (ids carry no escapes). */
static bool value_guid(ah_span v, guid *g)
{
    v = ah_span_trim(v);
    if (v.n >= 2 && v.p[0] == '"')
        v = ah_span_make(v.p + 1, v.n - 2);
    return parse_guid(v, g);
}

/* An object or array that may arrive as a JSON string holding it (Log
 * Analytics and OfficeActivity exports). */
static ah_span as_container(ah_span v, ah_buf *buf)
{
    ah_json_type t = ah_json_type_of(v);
    if (t == AH_JSON_OBJECT || t == AH_JSON_ARRAY)
        return v;
    if (t != AH_JSON_STRING)
        return AH_SPAN_NULL;
    ah_span s = value_text(v, buf);
    t = ah_json_type_of(s);
    return (t == AH_JSON_OBJECT || t == AH_JSON_ARRAY) ? s : AH_SPAN_NULL;
}

/* A modified property's value as plain text: Graph's newValue is a string
 * holding JSON ("\"Name\"", "[\"Name\"]"), the UAL's is plain or a JSON
 * array; take the string, or the first element of the array. */
static ah_span prop_text(ah_span v, ah_buf *out, ah_buf *tmp)
{
    ah_span s = value_text(v, out);
    for (int round = 0; round < 2 && s.n; round++) {
        ah_json_type t = ah_json_type_of(s);
        if (t == AH_JSON_ARRAY && ah_json_valid(s)) {
            ah_json_iter it;
            ah_span el;
            if (ah_json_array_begin(&it, s) != AH_OK || ah_json_array_next(&it, &el) != AH_OK)
                return AH_SPAN_NULL;
            s = el;
            t = ah_json_type_of(s);
        }
        if (t != AH_JSON_STRING || !ah_json_valid(s))
            break;
        ah_buf_reset(tmp);
        if (ah_json_unescape(s, tmp) != AH_OK)
            return AH_SPAN_NULL;
        ah_buf_reset(out);
        if (ah_buf_append_span(out, ah_buf_span(tmp)) != AH_OK)
            return AH_SPAN_NULL;
        s = ah_span_trim(ah_buf_span(out));
    }
    return s;
}

static bool key_is(ah_span key, const char *name) { return ah_json_key_eq_ci(key, name); }

static ah_time just_before(ah_time t)
{
    if (t.nsec > 0)
        t.nsec--;
    else {
        t.sec--;
        t.nsec = 999999999;
    }
    return t;
}

/* --- modified properties (directory audits and UAL directory records) -------------- */

typedef struct props {
    guid role_id, sp_obj, sp_app, role_obj, role_tmpl, spn_app, app;
    bool has_role_id, has_sp_obj, has_sp_app, has_role_obj, has_role_tmpl, has_spn_app, has_app;
    ah_span role_value, sp_name, role_name, dn_new, dn_old;
} props;

static void read_props(ah_names *n, ah_span arr, props *p)
{
    memset(p, 0, sizeof *p);
    ah_json_iter it;
    ah_span el;
    if (ah_json_array_begin(&it, arr) != AH_OK)
        return;
    while (ah_json_array_next(&it, &el) == AH_OK) {
        ah_span pname, nv = AH_SPAN_NULL, ov = AH_SPAN_NULL;
        if (ah_json_type_of(el) != AH_JSON_OBJECT)
            continue;
        if (!ah_json_get(el, "displayName", &pname) && !ah_json_get(el, "Name", &pname))
            continue;
        if (ah_json_type_of(pname) != AH_JSON_STRING || pname.n < 2)
            continue;
        ah_span key = ah_span_make(pname.p + 1, pname.n - 2);
        ah_json_get(el, "newValue", &nv);
        ah_span v;
        guid g;
#define GUID_PROP(name, field, flag)                                                                                   \
    if (key_is(key, name)) {                                                                                           \
        v = prop_text(nv, &n->b[B_TMP], &n->b[B_TMP2]);                                                                \
        if (parse_guid(v, &g)) {                                                                                       \
            p->field = g;                                                                                              \
            p->flag = true;                                                                                            \
        }                                                                                                              \
        continue;                                                                                                      \
    }
        GUID_PROP("AppRole.Id", role_id, has_role_id)
        GUID_PROP("ServicePrincipal.ObjectID", sp_obj, has_sp_obj)
        GUID_PROP("ServicePrincipal.AppId", sp_app, has_sp_app)
        GUID_PROP("Role.ObjectID", role_obj, has_role_obj)
        GUID_PROP("Role.TemplateId", role_tmpl, has_role_tmpl)
        GUID_PROP("AppId", app, has_app)
        GUID_PROP("AppPrincipalId", app, has_app)
#undef GUID_PROP
        if (key_is(key, "TargetId.ServicePrincipalNames")) {
            v = prop_text(nv, &n->b[B_TMP], &n->b[B_TMP2]);
            size_t k = 0;
            while (k < v.n && v.p[k] != ';')
                k++;
            if (parse_guid(ah_span_make(v.p, k), &g)) {
                p->spn_app = g;
                p->has_spn_app = true;
            }
        } else if (key_is(key, "AppRole.Value")) {
            p->role_value = prop_text(nv, &n->b[B_A], &n->b[B_TMP2]);
        } else if (key_is(key, "ServicePrincipal.DisplayName")) {
            p->sp_name = prop_text(nv, &n->b[B_B], &n->b[B_TMP2]);
        } else if (key_is(key, "Role.DisplayName")) {
            p->role_name = prop_text(nv, &n->b[B_C], &n->b[B_TMP2]);
        } else if (key_is(key, "DisplayName")) {
            p->dn_new = prop_text(nv, &n->b[B_D], &n->b[B_TMP2]);
            if (ah_json_get(el, "oldValue", &ov))
                p->dn_old = prop_text(ov, &n->b[B_E], &n->b[B_TMP2]);
        }
    }
}

/* The facts a property list states about objects other than its target. */
static void learn_props(ah_names *n, const props *p, ah_time t)
{
    if (p->has_role_id)
        learn_name(n, p->role_id, AH_NAME_KIND_PERMISSION, p->role_value, t, NULL);
    if (p->has_sp_obj)
        learn_name(n, p->sp_obj, AH_NAME_KIND_SERVICE_PRINCIPAL, p->sp_name, t, p->has_sp_app ? &p->sp_app : NULL);
    if (p->has_sp_app)
        learn_name(n, p->sp_app, AH_NAME_KIND_APPLICATION, p->sp_name, t, NULL);
    if (p->has_role_tmpl)
        learn_name(n, p->role_tmpl, AH_NAME_KIND_ROLE, p->role_name, t, NULL);
    if (p->has_role_obj)
        learn_name(n, p->role_obj, AH_NAME_KIND_ROLE, p->role_name, t, NULL);
}

/* A directory object named in a record: its id, its application id when it
 * is a service principal or application, and the rename the properties
 * show (the old name was current just before t). */
static void learn_object(ah_names *n, guid id, ah_name_kind kind, ah_span name, const guid *app, const props *p,
                         ah_time t)
{
    bool appish = kind == AH_NAME_KIND_SERVICE_PRINCIPAL || kind == AH_NAME_KIND_APP_OBJECT;
    if (!app && p && appish)
        app = p->has_spn_app ? &p->spn_app : p->has_app ? &p->app : NULL;
    if (!appish)
        app = NULL;
    if (!name.n && p)
        name = p->dn_new;
    learn_name(n, id, kind, name, t, app);
    if (app)
        learn_name(n, *app, AH_NAME_KIND_APPLICATION, name, t, NULL);
    if (p && p->dn_old.n && p->dn_new.n && span_cmp(p->dn_old, p->dn_new) != 0) {
        ah_time before = just_before(t);
        learn_name(n, id, kind, p->dn_old, before, app);
        if (app)
            learn_name(n, *app, AH_NAME_KIND_APPLICATION, p->dn_old, before, NULL);
    }
}

/* The end quote of the JSON string whose content starts at s (a quote
 * preceded by an odd run of backslashes is escaped), or NULL. */
static const char *string_end(const char *s, const char *end)
{
    for (const char *p = s; p < end;) {
        const char *q = memchr(p, '"', (size_t)(end - p));
        if (!q)
            return NULL;
        size_t bs = 0;
        while (q - bs > s && q[-1 - (ptrdiff_t)bs] == '\\')
            bs++;
        if (bs % 2 == 0)
            return q;
        p = q + 1;
    }
    return NULL;
}

/* The string values of some members of a JSON object, for the per-event
 * hot path: the scan jumps from quote to quote with memchr and takes a
 * string followed by ':' for a key, at any depth (the keys looked for do
 * not occur in nested objects of these records). A quote inside a string
 * is escaped, so text in a value can never pass for a key. The record was
 * framed and scanned by the normalizer already; a malformed one yields
 * fewer values, never a read outside obj. vals[i] is the value of keys[i]
 * (ASCII case-insensitive) with its quotes, or empty; non-string values
 * are left empty. */
typedef struct qkey {
    const char *name;
    size_t len;
    unsigned group; /* a bit: the scan ends once every group wanted has a value */
    bool want_guid; /* only a GUID value counts (Log Analytics' ResourceId is a path) */
} qkey;

#define QKEY(name, group, want_guid)                                                                                   \
    {                                                                                                                  \
        name, sizeof name - 1, group, want_guid                                                                        \
    }

static void quick_members(ah_span obj, const qkey *keys, size_t nkeys, unsigned groups, ah_span *vals)
{
    unsigned found = 0;
    for (size_t k = 0; k < nkeys; k++)
        vals[k] = AH_SPAN_NULL;
    const char *p = obj.p, *end = obj.p + obj.n;
    while (p && p < end) {
        const char *q0 = memchr(p, '"', (size_t)(end - p));
        if (!q0)
            return;
        const char *q = string_end(q0 + 1, end);
        if (!q)
            return;
        const char *r = q + 1;
        while (r < end && is_space(*r))
            r++;
        p = q + 1;
        if (r >= end || *r != ':')
            continue;
        ah_span key = ah_span_make(q0 + 1, (size_t)(q - q0 - 1));
        for (r++; r < end && is_space(*r);)
            r++;
        p = r;
        if (r >= end || *r != '"')
            continue;
        for (size_t k = 0; k < nkeys; k++)
            if (!vals[k].n && key.n == keys[k].len && ah_span_eq_ci(key, keys[k].name)) {
                const char *ve = string_end(r + 1, end);
                if (!ve)
                    return;
                p = ve + 1;
                guid g;
                if (ve == r + 1 || (keys[k].want_guid && !parse_guid(ah_span_make(r + 1, (size_t)(ve - r - 1)), &g)))
                    break; /* "" or not an id: look further (a nested copy may hold the value) */
                vals[k] = ah_span_make(r, (size_t)(ve + 1 - r));
                found |= keys[k].group;
                if ((found & groups) == groups)
                    return;
                break;
            }
    }
}

/* --- sign-ins ------------------------------------------------------------------------ */

/* appId/appDisplayName (the normalized app_id and app fields),
 * resourceId/resourceDisplayName and servicePrincipalId/Name. The user is
 * named by its UPN in every row already: sign-ins do not teach user ids
 * (directory records do), which keeps this to two lookups per sign-in. */
static void learn_signin(ah_names *n, const ah_event *ev)
{
    ah_time t = ev->time;
    guid app, g;
    bool has_app = parse_guid(ev->field[AH_F_APP_ID], &app);
    if (has_app)
        learn_name(n, app, AH_NAME_KIND_APPLICATION, ev->field[AH_F_APP], t, NULL);
    static const qkey keys[] = {QKEY("resourceId", 1, true), QKEY("resourceIdentity", 1, true),
                                QKEY("resourceDisplayName", 2, false), QKEY("servicePrincipalId", 4, true),
                                QKEY("servicePrincipalName", 8, false)};
    /* a user's sign-in names no service principal: stop at the resource */
    ah_span type = ev->field[AH_F_RECORD_TYPE];
    bool sp = ah_span_eq_ci(type, "servicePrincipal") || ah_span_eq_ci(type, "managedIdentity");
    ah_span v[5] = {AH_SPAN_NULL, AH_SPAN_NULL, AH_SPAN_NULL, AH_SPAN_NULL, AH_SPAN_NULL};
    quick_members(ev->body, keys, sp ? 5 : 3, sp ? 15u : 3u, v);
    if ((value_guid(v[0], &g) || value_guid(v[1], &g)) && v[2].n)
        learn_name(n, g, AH_NAME_KIND_APPLICATION, value_text(v[2], &n->b[B_C]), t, NULL);
    if (value_guid(v[3], &g)) {
        ah_span sp_name = value_text(v[4], &n->b[B_D]);
        learn_name(n, g, AH_NAME_KIND_SERVICE_PRINCIPAL, sp_name.n ? sp_name : ev->field[AH_F_APP], t,
                   has_app ? &app : NULL);
    }
}

/* --- directory audits ------------------------------------------------------------------ */

static void learn_initiator(ah_names *n, ah_span init, ah_time t)
{
    ah_span u, a, v;
    guid g, app;
    if (ah_json_get(init, "user", &u) && ah_json_type_of(u) == AH_JSON_OBJECT && ah_json_get(u, "id", &v) &&
        value_guid(v, &g)) {
        ah_span name = AH_SPAN_NULL;
        if (ah_json_get(u, "userPrincipalName", &v))
            name = value_text(v, &n->b[B_A]);
        if (!name.n && ah_json_get(u, "displayName", &v))
            name = value_text(v, &n->b[B_A]);
        learn_name(n, g, AH_NAME_KIND_USER, name, t, NULL);
    }
    if (ah_json_get(init, "app", &a) && ah_json_type_of(a) == AH_JSON_OBJECT) {
        ah_span name = AH_SPAN_NULL, sp_name = AH_SPAN_NULL;
        if (ah_json_get(a, "displayName", &v))
            name = value_text(v, &n->b[B_A]);
        if (ah_json_get(a, "servicePrincipalName", &v))
            sp_name = value_text(v, &n->b[B_B]);
        bool has_app = ah_json_get(a, "appId", &v) && value_guid(v, &app);
        if (has_app)
            learn_name(n, app, AH_NAME_KIND_APPLICATION, name, t, NULL);
        if (ah_json_get(a, "servicePrincipalId", &v) && value_guid(v, &g))
            learn_name(n, g, AH_NAME_KIND_SERVICE_PRINCIPAL, sp_name.n ? sp_name : name, t, has_app ? &app : NULL);
    }
}

static void learn_audit(ah_names *n, const ah_event *ev)
{
    ah_time t = ev->time;
    ah_span init = AH_SPAN_NULL, targets = AH_SPAN_NULL, details = AH_SPAN_NULL, key, v;
    ah_json_iter it;
    if (ah_json_object_begin(&it, ev->body) != AH_OK)
        return;
    while (ah_json_object_next(&it, &key, &v) == AH_OK) {
        if (key.n == 11 && key_is(key, "initiatedBy"))
            init = as_container(v, &n->b[B_J1]);
        else if (key.n == 15 && key_is(key, "targetResources"))
            targets = as_container(v, &n->b[B_J2]);
        else if (key.n == 17 && key_is(key, "additionalDetails"))
            details = as_container(v, &n->b[B_J3]);
    }
    guid init_app = {0, 0};
    if (ah_json_type_of(init) == AH_JSON_OBJECT) {
        ah_span a;
        if (ah_json_get(init, "app", &a) && ah_json_type_of(a) == AH_JSON_OBJECT && ah_json_get(a, "appId", &v))
            value_guid(v, &init_app);
        learn_initiator(n, init, t);
    }
    /* additionalDetails AppId names the application acted on in application
     * changes, the caller's client elsewhere: used for a lone Application
     * target only */
    guid detail_app = {0, 0};
    ah_span el;
    if (ah_json_type_of(details) == AH_JSON_ARRAY && ah_json_array_begin(&it, details) == AH_OK)
        while (ah_json_array_next(&it, &el) == AH_OK)
            if (ah_json_get(el, "key", &v) && ah_json_type_of(v) == AH_JSON_STRING && v.n >= 2 &&
                key_is(ah_span_make(v.p + 1, v.n - 2), "AppId") && ah_json_get(el, "value", &v))
                value_guid(v, &detail_app);
    if (ah_json_type_of(targets) != AH_JSON_ARRAY || ah_json_array_begin(&it, targets) != AH_OK)
        return;
    size_t ntargets = 0;
    while (ah_json_array_next(&it, &el) == AH_OK)
        ntargets++;
    ah_json_array_begin(&it, targets);
    while (ah_json_array_next(&it, &el) == AH_OK) {
        if (ah_json_type_of(el) != AH_JSON_OBJECT)
            continue;
        props p;
        ah_span mp;
        if (ah_json_get(el, "modifiedProperties", &mp) && ah_json_type_of(mp) == AH_JSON_ARRAY)
            read_props(n, mp, &p);
        else
            memset(&p, 0, sizeof p);
        learn_props(n, &p, t);
        guid id;
        if (!ah_json_get(el, "id", &v) || !value_guid(v, &id))
            continue;
        ah_name_kind kind = AH_NAME_KIND_OTHER;
        if (ah_json_get(el, "type", &v))
            kind = kind_from_type(value_text(v, &n->b[B_F]));
        ah_span name = AH_SPAN_NULL;
        if (kind == AH_NAME_KIND_USER && ah_json_get(el, "userPrincipalName", &v))
            name = value_text(v, &n->b[B_G]);
        if (!name.n && ah_json_get(el, "displayName", &v))
            name = value_text(v, &n->b[B_G]);
        const guid *app = NULL;
        if (kind == AH_NAME_KIND_APP_OBJECT && ntargets == 1 && !p.has_spn_app && !p.has_app &&
            !guid_zero(detail_app) && !guid_eq(detail_app, init_app))
            app = &detail_app;
        learn_object(n, id, kind, name, app, &p, t);
    }
}

/* --- UAL ---------------------------------------------------------------------------- */

static bool contains(ah_span hay, const char *needle)
{
    size_t nn = strlen(needle);
    const char *p = hay.p, *end = hay.p ? hay.p + hay.n : NULL;
    while (p && (size_t)(end - p) >= nn) {
        p = memchr(p, needle[0], (size_t)(end - p) - nn + 1);
        if (!p)
            return false;
        if (memcmp(p, needle, nn) == 0)
            return true;
        p++;
    }
    return false;
}

static bool ual_directory(const ah_event *ev)
{
    ah_span rt = ah_span_trim(ev->field[AH_F_RECORD_TYPE]);
    return ah_span_eq(rt, "8") || ah_span_eq_ci(rt, "AzureActiveDirectory");
}

/* A principal of a UAL Actor or Target array: "Kind_<guid>" (type 2) starts
 * one; type 1 is its display name, 4 its application id (SPN), 5 its UPN. */
typedef struct principal {
    ah_name_kind kind;
    guid id, app;
    bool has_id, has_app;
    ah_span name, upn;
} principal;

static bool kind_guid(ah_span s, ah_name_kind *kind, guid *g)
{
    if (s.n < 38 || s.p[s.n - 37] != '_')
        return false;
    ah_span prefix = ah_span_make(s.p, s.n - 37);
    for (size_t i = 0; i < prefix.n; i++)
        if (!((prefix.p[i] >= 'A' && prefix.p[i] <= 'Z') || (prefix.p[i] >= 'a' && prefix.p[i] <= 'z')))
            return false;
    if (!parse_guid(ah_span_make(s.p + s.n - 36, 36), g))
        return false;
    *kind = kind_from_type(prefix);
    return true;
}

static void finish_principal(ah_names *n, const principal *pr, ah_time t, principal *first_app)
{
    if (!pr->has_id)
        return;
    ah_span name = pr->kind == AH_NAME_KIND_USER && pr->upn.n ? pr->upn : pr->name.n ? pr->name : pr->upn;
    learn_object(n, pr->id, pr->kind, name, pr->has_app ? &pr->app : NULL, NULL, t);
    if (first_app && !first_app->has_id &&
        (pr->kind == AH_NAME_KIND_SERVICE_PRINCIPAL || pr->kind == AH_NAME_KIND_APP_OBJECT))
        *first_app = *pr;
}

static void learn_principals(ah_names *n, ah_span arr, ah_time t, principal *first_app)
{
    ah_json_iter it;
    ah_span el, v;
    if (ah_json_array_begin(&it, arr) != AH_OK)
        return;
    principal cur = {0};
    while (ah_json_array_next(&it, &el) == AH_OK) {
        if (ah_json_type_of(el) != AH_JSON_OBJECT || !ah_json_get(el, "ID", &v))
            continue;
        ah_span id = value_text(v, &n->b[B_TMP]);
        char type = 0;
        if (ah_json_get(el, "Type", &v)) {
            v = ah_span_trim(v);
            if (v.n && v.p[0] == '"')
                v = ah_span_make(v.p + 1, v.n >= 2 ? v.n - 2 : 0);
            if (v.n == 1)
                type = v.p[0];
        }
        ah_name_kind kind;
        guid g;
        if (kind_guid(id, &kind, &g)) {
            if (cur.has_id) {
                finish_principal(n, &cur, t, first_app);
                memset(&cur, 0, sizeof cur);
            }
            cur.kind = kind;
            cur.id = g;
            cur.has_id = true;
        } else if (type == '1' && !cur.name.n) {
            ah_buf_reset(&n->b[B_A]);
            if (ah_buf_append_span(&n->b[B_A], id) == AH_OK) /* one principal is open at a time */
                cur.name = ah_buf_span(&n->b[B_A]);
        } else if (type == '5' && !cur.upn.n) {
            ah_buf_reset(&n->b[B_B]);
            if (ah_buf_append_span(&n->b[B_B], id) == AH_OK)
                cur.upn = ah_buf_span(&n->b[B_B]);
        } else if (type == '4' && parse_guid(id, &g)) {
            cur.app = g;
            cur.has_app = true;
        }
    }
    finish_principal(n, &cur, t, first_app);
}

/* ApplicationId/ApplicationDisplayName (SharePoint and others) and
 * ClientAppId/ClientAppName (top level or in AppAccessContext): only in
 * records whose normalized app field found a name. */
static void learn_ual_apps(ah_names *n, const ah_event *ev)
{
    static const qkey keys[] = {QKEY("ApplicationId", 1, true), QKEY("ApplicationDisplayName", 2, false),
                                QKEY("ClientAppId", 4, true), QKEY("ClientAppName", 8, false)};
    ah_span v[4];
    guid g;
    quick_members(ev->body, keys, 4, 15u, v);
    if (value_guid(v[0], &g) && v[1].n)
        learn_name(n, g, AH_NAME_KIND_APPLICATION, value_text(v[1], &n->b[B_F]), ev->time, NULL);
    if (value_guid(v[2], &g) && v[3].n)
        learn_name(n, g, AH_NAME_KIND_APPLICATION, value_text(v[3], &n->b[B_G]), ev->time, NULL);
}

/* Directory records (RecordType 8): Actor, Target and ModifiedProperties. */
static void learn_ual_directory(ah_names *n, const ah_event *ev)
{
    ah_time t = ev->time;
    ah_span actor = AH_SPAN_NULL, target = AH_SPAN_NULL, mods = AH_SPAN_NULL, key, v;
    ah_json_iter it;
    if (ah_json_object_begin(&it, ev->body) != AH_OK)
        return;
    while (ah_json_object_next(&it, &key, &v) == AH_OK) {
        if (key.n == 5 && key_is(key, "Actor"))
            actor = as_container(v, &n->b[B_J1]);
        else if (key.n == 6 && key_is(key, "Target"))
            target = as_container(v, &n->b[B_J2]);
        else if (key.n == 18 && key_is(key, "ModifiedProperties"))
            mods = as_container(v, &n->b[B_J3]);
    }
    principal first_app = {0};
    if (ah_json_type_of(actor) == AH_JSON_ARRAY)
        learn_principals(n, actor, t, NULL);
    if (ah_json_type_of(target) == AH_JSON_ARRAY)
        learn_principals(n, target, t, &first_app);
    if (ah_json_type_of(mods) == AH_JSON_ARRAY) {
        props p;
        read_props(n, mods, &p); /* uses A..E: the principals are done with them */
        learn_props(n, &p, t);
        if (first_app.has_id && p.dn_old.n && p.dn_new.n && span_cmp(p.dn_old, p.dn_new) != 0) {
            ah_time before = just_before(t);
            learn_name(n, first_app.id, first_app.kind, p.dn_old, before, first_app.has_app ? &first_app.app : NULL);
            if (first_app.has_app)
                learn_name(n, first_app.app, AH_NAME_KIND_APPLICATION, p.dn_old, before, NULL);
        }
    }
}

static void learn_ual(ah_names *n, const ah_event *ev)
{
    if (ev->field[AH_F_APP].n)
        learn_ual_apps(n, ev);
    if (ual_directory(ev))
        learn_ual_directory(n, ev);
}

/* --- target ids ---------------------------------------------------------------------- */

static bool first_target_id(ah_span arr, guid *g)
{
    ah_json_iter it;
    ah_span el, v;
    if (ah_json_array_begin(&it, arr) != AH_OK || ah_json_array_next(&it, &el) != AH_OK)
        return false;
    return ah_json_type_of(el) == AH_JSON_OBJECT && ah_json_get(el, "id", &v) && value_guid(v, g);
}

static bool ual_target_id(ah_span arr, guid *g)
{
    ah_json_iter it;
    ah_span el, v;
    if (ah_json_array_begin(&it, arr) != AH_OK)
        return false;
    while (ah_json_array_next(&it, &el) == AH_OK) {
        ah_name_kind kind;
        if (ah_json_type_of(el) == AH_JSON_OBJECT && ah_json_get(el, "ID", &v) &&
            ah_json_type_of(v) == AH_JSON_STRING && v.n >= 2 &&
            kind_guid(ah_span_make(v.p + 1, v.n - 2), &kind, g)) /* ids carry no escapes */
            return true;
    }
    return false;
}

bool ah_names_target_id(const ah_event *ev, char out[37])
{
    guid g;
    bool found = false;
    ah_span v;
    if (!ev || !ev->body.n)
        return false;
    switch (ev->source) {
    case AH_SOURCE_SIGNIN: {
        static const qkey keys[] = {QKEY("resourceId", 1, true), QKEY("resourceIdentity", 1, true)};
        ah_span vals[2] = {AH_SPAN_NULL, AH_SPAN_NULL};
        quick_members(ev->body, keys, 2, 1u, vals);
        found = value_guid(vals[0], &g) || value_guid(vals[1], &g);
        break;
    }
    case AH_SOURCE_ENTRA_AUDIT:
        if (ah_json_get(ev->body, "targetResources", &v)) {
            if (ah_json_type_of(v) == AH_JSON_ARRAY) {
                found = first_target_id(v, &g);
            } else if (ah_json_type_of(v) == AH_JSON_STRING) { /* Log Analytics: JSON in a string */
                ah_buf b;
                ah_buf_init(&b, MAX_DIR_RECORD);
                ah_span arr = as_container(v, &b);
                found = ah_json_type_of(arr) == AH_JSON_ARRAY && first_target_id(arr, &g);
                ah_buf_free(&b);
            }
        }
        break;
    case AH_SOURCE_UAL:
        if (ah_json_get(ev->body, "ObjectId", &v) && value_guid(v, &g))
            found = true;
        else if (ual_directory(ev) && ah_json_get(ev->body, "Target", &v)) {
            if (ah_json_type_of(v) == AH_JSON_ARRAY) {
                found = ual_target_id(v, &g);
            } else if (ah_json_type_of(v) == AH_JSON_STRING) {
                ah_buf b;
                ah_buf_init(&b, MAX_DIR_RECORD);
                ah_span arr = as_container(v, &b);
                found = ah_json_type_of(arr) == AH_JSON_ARRAY && ual_target_id(arr, &g);
                ah_buf_free(&b);
            }
        }
        break;
    default: break;
    }
    if (found && !guid_zero(g))
        format_guid(g, out);
    return found && !guid_zero(g);
}

/* --- learning entry points ----------------------------------------------------------- */

bool ah_names_interesting(const ah_event *ev)
{
    if (!ev || !ev->has_time || !ev->body.n)
        return false;
    switch (ev->source) {
    case AH_SOURCE_SIGNIN:
    case AH_SOURCE_ENTRA_AUDIT: return true;
    case AH_SOURCE_UAL: return ual_directory(ev) || ev->field[AH_F_APP].n; /* app: an application name is in it */
    default: return false;
    }
}

void ah_names_learn(ah_names *n, const ah_event *ev)
{
    if (!n || !ah_names_interesting(ev))
        return;
    switch (ev->source) {
    case AH_SOURCE_SIGNIN: learn_signin(n, ev); break;
    case AH_SOURCE_ENTRA_AUDIT: learn_audit(n, ev); break;
    case AH_SOURCE_UAL: learn_ual(n, ev); break;
    default: break;
    }
}

/* --- --directory exports ------------------------------------------------------------- */

/* Replays the first bytes read (to choose the framing), then the rest. */
typedef struct replay {
    ah_reader *in;
    char buf[4096];
    size_t len, pos;
} replay;

static ssize_t replay_read(void *ctx, char *buf, size_t size)
{
    replay *r = ctx;
    if (r->pos < r->len) {
        size_t k = r->len - r->pos < size ? r->len - r->pos : size;
        memcpy(buf, r->buf + r->pos, k);
        r->pos += k;
        return (ssize_t)k;
    }
    return ah_read(r->in, buf, size);
}

/* One Graph object (user, application, service principal, group). */
static bool dir_json_object(ah_names *n, ah_span obj)
{
    ah_json_iter it;
    ah_span key, v;
    guid id = {0, 0}, app = {0, 0}, g;
    ah_span name = AH_SPAN_NULL, upn = AH_SPAN_NULL, type = AH_SPAN_NULL;
    bool sp_keys = false, app_keys = false, group_keys = false;
    if (ah_json_object_begin(&it, obj) != AH_OK)
        return false;
    while (ah_json_object_next(&it, &key, &v) == AH_OK) {
        if (key_is(key, "id") && value_guid(v, &g))
            id = g;
        else if (key_is(key, "appId") && value_guid(v, &g))
            app = g;
        else if (key_is(key, "displayName"))
            name = value_text(v, &n->b[B_A]);
        else if (key_is(key, "userPrincipalName"))
            upn = value_text(v, &n->b[B_B]);
        else if (key_is(key, "@odata.type"))
            type = value_text(v, &n->b[B_C]);
        else if (key_is(key, "servicePrincipalType") || key_is(key, "servicePrincipalNames") ||
                 key_is(key, "appOwnerOrganizationId"))
            sp_keys = true;
        else if (key_is(key, "signInAudience") || key_is(key, "requiredResourceAccess") ||
                 key_is(key, "identifierUris"))
            app_keys = true;
        else if (key_is(key, "groupTypes") || key_is(key, "securityEnabled") || key_is(key, "mailEnabled"))
            group_keys = true;
    }
    ah_name_kind kind;
    if (contains(type, "servicePrincipal"))
        kind = AH_NAME_KIND_SERVICE_PRINCIPAL;
    else if (contains(type, "application"))
        kind = AH_NAME_KIND_APP_OBJECT;
    else if (contains(type, "user") || upn.n)
        kind = AH_NAME_KIND_USER;
    else if (contains(type, "group") || group_keys)
        kind = AH_NAME_KIND_GROUP;
    else if (!guid_zero(app))
        kind = app_keys && !sp_keys ? AH_NAME_KIND_APP_OBJECT : AH_NAME_KIND_SERVICE_PRINCIPAL;
    else
        kind = AH_NAME_KIND_OTHER;
    if (kind == AH_NAME_KIND_USER && upn.n)
        name = upn;
    bool any = false;
    if (!guid_zero(id))
        any |= set_fixed(n, id, kind, name, false, guid_zero(app) ? NULL : &app) == FIXED_STORED;
    if (!guid_zero(app) && kind != AH_NAME_KIND_USER)
        any |= set_fixed(n, app, AH_NAME_KIND_APPLICATION, name, false, NULL) == FIXED_STORED;
    return any;
}

enum { C_ID, C_APP, C_NAME, C_UPN, C_GROUP, C_COUNT };

/* Column roles of a portal / PowerShell CSV, by header (case, spaces,
 * '_' and '-' ignored). */
static int csv_role(ah_span header)
{
    char key[64], k2[64];
    ah_csv_header_key(header, key, sizeof key);
    size_t j = 0;
    for (size_t i = 0; key[i] && j + 1 < sizeof k2; i++)
        if (key[i] != ' ' && key[i] != '_' && key[i] != '-')
            k2[j++] = key[i];
    k2[j] = '\0';
    static const struct {
        const char *key;
        int role;
    } map[] = {
        {"id", C_ID},
        {"objectid", C_ID},
        {"appid", C_APP},
        {"applicationid", C_APP},
        {"clientid", C_APP},
        {"applicationclientid", C_APP},
        {"displayname", C_NAME},
        {"name", C_NAME},
        {"userprincipalname", C_UPN},
        {"upn", C_UPN},
        {"grouptypes", C_GROUP},
        {"grouptype", C_GROUP},
        {"membershiptype", C_GROUP},
    };
    for (size_t i = 0; i < AH_ARRAY_LEN(map); i++)
        if (strcmp(k2, map[i].key) == 0)
            return map[i].role;
    return -1;
}

static uint64_t dir_csv(ah_names *n, ah_reader *r, const ah_origin *o, ah_diag *d)
{
    uint64_t used = 0;
    ah_csv *c = ah_csv_new(r, MAX_DIR_RECORD);
    if (!c)
        return 0;
    ah_where w = {o->path, o->entry, 0, 0};
    if (ah_csv_read_header(c) != AH_OK) {
        ah_csv_free(c);
        return 0;
    }
    long col[C_COUNT];
    for (int i = 0; i < C_COUNT; i++)
        col[i] = -1;
    for (size_t i = 0; i < ah_csv_ncols(c); i++) {
        int role = csv_role(ah_csv_header(c, i));
        if (role >= 0 && col[role] < 0)
            col[role] = (long)i;
    }
    if ((col[C_ID] < 0 && col[C_APP] < 0) || (col[C_NAME] < 0 && col[C_UPN] < 0)) {
        ah_diag_report(d, AH_SEV_WARNING, &w,
                       "directory export: no id and name columns (expected id/Object ID, appId/Application ID, "
                       "displayName/Name, userPrincipalName)");
        ah_csv_free(c);
        return 0;
    }
    ah_name_kind kind = col[C_UPN] >= 0     ? AH_NAME_KIND_USER
                        : col[C_APP] >= 0   ? AH_NAME_KIND_SERVICE_PRINCIPAL
                        : col[C_GROUP] >= 0 ? AH_NAME_KIND_GROUP
                                            : AH_NAME_KIND_OTHER;
    ah_csv_row row;
    ah_status st;
    while ((st = ah_csv_next(c, &row)) != AH_END && st != AH_ERR_STREAM) {
        if (st != AH_OK) {
            w.record_no = row.record_no;
            w.line_no = row.line_no;
            ah_diag_report(d, AH_SEV_WARNING, &w, "directory export: record skipped: %s", ah_csv_error(c));
            continue;
        }
#define CELL(role) (col[role] >= 0 && (size_t)col[role] < row.ncells ? row.cells[col[role]] : AH_SPAN_NULL)
        guid id, app;
        bool has_id = parse_guid(CELL(C_ID), &id), has_app = parse_guid(CELL(C_APP), &app);
        ah_span name = kind == AH_NAME_KIND_USER && CELL(C_UPN).n ? CELL(C_UPN) : CELL(C_NAME);
        if (!name.n)
            name = CELL(C_UPN);
        bool any = false;
        if (has_id)
            any |= set_fixed(n, id, kind, name, false, has_app ? &app : NULL) == FIXED_STORED;
        if (has_app && kind != AH_NAME_KIND_USER)
            any |= set_fixed(n, app, AH_NAME_KIND_APPLICATION, name, false, NULL) == FIXED_STORED;
        used += any;
#undef CELL
    }
    ah_csv_free(c);
    return used;
}

static uint64_t dir_json(ah_names *n, ah_reader *r, const ah_origin *o, ah_diag *d)
{
    uint64_t used = 0;
    ah_jsplit *s = ah_jsplit_new(r, MAX_DIR_RECORD);
    if (!s)
        return 0;
    ah_json_record jr;
    ah_status st;
    ah_where w = {o->path, o->entry, 0, 0};
    while ((st = ah_jsplit_next(s, &jr)) != AH_END && st != AH_ERR_STREAM) {
        w.record_no = jr.record_no;
        w.line_no = jr.line_no;
        if (st != AH_OK) {
            ah_diag_report(d, AH_SEV_WARNING, &w, "directory export: record skipped: %s", ah_jsplit_error(s));
            continue;
        }
        if (ah_json_type_of(jr.text) != AH_JSON_OBJECT || !ah_json_valid(jr.text)) {
            ah_diag_report(d, AH_SEV_WARNING, &w, "directory export: record skipped: not a JSON object");
            continue;
        }
        used += dir_json_object(n, jr.text);
    }
    ah_jsplit_free(s);
    return used;
}

ah_status ah_names_load_directory(ah_names *n, const char *path, ah_diag *d)
{
    ah_source *src = ah_source_new(d);
    if (!src)
        return AH_ERR_NOMEM;
    ah_status result = ah_source_add(src, path) == AH_OK ? AH_OK : AH_ERR_IO;
    ah_input *in;
    while (ah_source_next(src, &in) == AH_OK) {
        const ah_origin *o = ah_input_origin(in);
        ah_decoder *dec = ah_decoder_new(ah_input_reader(in));
        if (!dec) {
            result = AH_ERR_NOMEM;
            break;
        }
        replay *rp = malloc(sizeof *rp);
        if (!rp) {
            ah_decoder_free(dec);
            result = AH_ERR_NOMEM;
            break;
        }
        rp->in = ah_decoder_reader(dec);
        rp->len = rp->pos = 0;
        char first = 0;
        while (!first && rp->len < sizeof rp->buf) {
            ssize_t k = ah_read(rp->in, rp->buf + rp->len, sizeof rp->buf - rp->len);
            if (k <= 0)
                break;
            for (ssize_t i = 0; i < k && !first; i++)
                if (!is_space(rp->buf[rp->len + (size_t)i]))
                    first = rp->buf[rp->len + (size_t)i];
            rp->len += (size_t)k;
        }
        ah_reader r = {replay_read, rp};
        uint64_t used = 0;
        if (first == '{' || first == '[')
            used = dir_json(n, &r, o, d);
        else if (first)
            used = dir_csv(n, &r, o, d);
        if (!used && first) {
            ah_where w = {o->path, o->entry, 0, 0};
            ah_diag_report(d, AH_SEV_WARNING, &w, "directory export: no id and name found");
        }
        free(rp);
        ah_decoder_free(dec);
    }
    for (size_t i = 0; i < ah_source_file_count(src); i++)
        if (ah_source_file_at(src, i)->unreadable)
            result = result == AH_ERR_NOMEM ? result : AH_ERR_IO;
    ah_source_free(src);
    return result;
}

/* --- saved stores (hunt --partial) --------------------------------------------------- */

static void put_s(ah_buf *b, ah_span s)
{
    ah_buf_put_uvarint(b, s.n);
    ah_buf_append(b, s.p, s.n);
}

ah_status ah_names_save(const ah_names *n, ah_buf *out)
{
    for (size_t i = 0; i < n->nents; i++) {
        const entry *e = &n->ents[i];
        if (!e->first_rec && !e->more && !(e->flags & E_DIRECTORY))
            continue; /* only listed: the merge loads the lists itself */
        ah_buf_put_uvarint(out, 1);
        ah_buf_put_uvarint(out, e->id.hi);
        ah_buf_put_uvarint(out, e->id.lo);
        ah_buf_put_uvarint(out, e->kind);
        ah_buf_put_uvarint(out, e->flags);
        ah_buf_put_uvarint(out, e->link.hi);
        ah_buf_put_uvarint(out, e->link.lo);
        put_s(out, (e->flags & (E_REFERENCE | E_DIRECTORY)) ? fixed_name(n, e) : AH_SPAN_NULL);
        ah_buf_put_uvarint(out, e->more);
        for (uint32_t r = e->first_rec; r; r = n->recs[r - 1].next) {
            const rec *x = &n->recs[r - 1];
            ah_buf_put_uvarint(out, 1);
            put_s(out, rec_name(n, x));
            ah_buf_put_time(out, x->first);
            ah_buf_put_time(out, x->last);
        }
        ah_buf_put_uvarint(out, 0);
    }
    ah_buf_put_uvarint(out, 0);
    ah_buf_put_uvarint(out, n->dropped_ids);
    ah_buf_put_uvarint(out, n->dropped_names);
    return ah_buf_status(out);
}

static ah_span get_s(ah_vcursor *c)
{
    uint64_t len = ah_get_uvarint(c);
    if (!c->ok || len > (uint64_t)(c->end - c->p)) {
        c->ok = false;
        return AH_SPAN_NULL;
    }
    ah_span s = ah_span_make((const char *)c->p, (size_t)len);
    c->p += len;
    return s;
}

ah_status ah_names_load_saved(ah_names *n, ah_span saved)
{
    ah_vcursor c = {(const unsigned char *)saved.p, (const unsigned char *)saved.p + saved.n, true};
    while (c.ok && ah_get_uvarint(&c) == 1) {
        guid id, link;
        id.hi = ah_get_uvarint(&c);
        id.lo = ah_get_uvarint(&c);
        ah_name_kind kind = (ah_name_kind)ah_get_uvarint(&c);
        unsigned flags = (unsigned)ah_get_uvarint(&c);
        link.hi = ah_get_uvarint(&c);
        link.lo = ah_get_uvarint(&c);
        ah_span fixed = get_s(&c);
        uint64_t more = ah_get_uvarint(&c);
        if (!c.ok || kind >= AH_NAME_KIND_COUNT)
            return AH_ERR_RECORD;
        const guid *lp = (flags & E_LINK) ? &link : NULL;
        if (flags & (E_REFERENCE | E_DIRECTORY))
            set_fixed(n, id, kind, fixed, (flags & E_REFERENCE) != 0, lp);
        while (c.ok && ah_get_uvarint(&c) == 1) {
            ah_span name = get_s(&c);
            ah_time first = ah_time_get(&c), last = ah_time_get(&c);
            if (!c.ok)
                return AH_ERR_RECORD;
            learn_name(n, id, kind, name, first, lp);
            learn_name(n, id, kind, name, last, lp);
        }
        if (more) {
            entry *d = find(n, id);
            if (d)
                d->more += (uint32_t)more;
        }
    }
    n->dropped_ids += ah_get_uvarint(&c);
    n->dropped_names += ah_get_uvarint(&c);
    return c.ok && c.p == c.end ? AH_OK : AH_ERR_RECORD;
}
