/*
 * lists.c: value sets for `in [...]` and `in list("file")`, CIDR sets for
 * `in cidr`, list-file reading, and the small string helpers the matcher
 * uses on its hot path.
 *
 * String sets are open-addressing hash tables (load <= 1/2) keyed by the
 * ASCII-case-folded hash, so a lookup is one hash of the value plus a
 * probe or two, with no allocation. CIDR sets are the prefixes turned into
 * 128-bit ranges (IPv4 mapped into ::ffff:0:0/96 by ah_cidr_parse), sorted
 * and merged, so a lookup is a binary search. List files come from threat
 * intel feeds: values are trimmed and stripped of zero-width characters
 * (the CISA AA21-008A list has U+200D inside an address).
 */
#include "rules_private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../parsers/formats/ipaddr.h"
#include "../../parsers/util/hash.h"
#include "../../parsers/util/sha256.h"

#define HASH_SEED 0x61686c697374ull /* "ahlist" */

bool ahi_eq_ci(const char *a, size_t an, const char *b, size_t bn)
{
    if (an != bn)
        return false;
    for (size_t i = 0; i < an; i++)
        if (ah_fold((unsigned char)a[i]) != ah_fold((unsigned char)b[i]))
            return false;
    return true;
}

/* needle is already folded when the caller compiled it; fold both anyway so
 * callers need not care. */
const char *ahi_find_ci(const char *hay, size_t hn, const char *needle, size_t nn)
{
    if (nn == 0)
        return hay;
    if (nn > hn)
        return NULL;
    unsigned char first = ah_fold((unsigned char)needle[0]);
    unsigned char first_up = (first >= 'a' && first <= 'z') ? (unsigned char)(first - 32) : first;
    const char *end = hay + (hn - nn) + 1;
    /* The next place of each case of the first byte; only the one used is
     * searched again (searching both every time rescans the rarer one's
     * whole remainder at each occurrence of the other). */
    const char *a = memchr(hay, first, (size_t)(end - hay));
    const char *b = first_up != first ? memchr(hay, first_up, (size_t)(end - hay)) : NULL;
    while (a || b) {
        const char *c = a && (!b || a < b) ? a : b;
        size_t i = 1;
        while (i < nn && ah_fold((unsigned char)c[i]) == ah_fold((unsigned char)needle[i]))
            i++;
        if (i == nn)
            return c;
        if (c == a)
            a = memchr(c + 1, first, (size_t)(end - c - 1));
        else
            b = memchr(c + 1, first_up, (size_t)(end - c - 1));
    }
    return NULL;
}

bool ahi_parse_number(const char *p, size_t n, double *out)
{
    while (n && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) {
        p++;
        n--;
    }
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r' || p[n - 1] == '\n'))
        n--;
    if (n == 0 || n >= 64)
        return false;
    size_t i = 0;
    if (p[i] == '-' || p[i] == '+')
        i++;
    size_t digits = 0;
    while (i < n && p[i] >= '0' && p[i] <= '9') {
        i++;
        digits++;
    }
    if (i < n && p[i] == '.') {
        i++;
        while (i < n && p[i] >= '0' && p[i] <= '9') {
            i++;
            digits++;
        }
    }
    if (digits == 0)
        return false;
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < n && (p[i] == '-' || p[i] == '+'))
            i++;
        size_t ed = 0;
        while (i < n && p[i] >= '0' && p[i] <= '9') {
            i++;
            ed++;
        }
        if (ed == 0)
            return false;
    }
    if (i != n)
        return false;
    char buf[64];
    memcpy(buf, p, n);
    buf[n] = '\0';
    *out = strtod(buf, NULL);
    return true;
}

/* --- string sets ------------------------------------------------------- */

static uint64_t set_hash(const ahi_strset *s, const char *p, size_t n)
{
    return s->cased ? ah_hash64(p, n, HASH_SEED) : ah_hash64_ci(p, n, HASH_SEED);
}

static bool set_eq(const ahi_strset *s, const char *a, size_t an, const char *b, size_t bn)
{
    if (s->cased)
        return an == bn && (an == 0 || memcmp(a, b, an) == 0);
    return ahi_eq_ci(a, an, b, bn);
}

ahi_strset *ahi_strset_build(ahi_arena *a, const ahi_lit *items, size_t n, bool cased)
{
    ahi_strset *s = ahi_alloc(a, sizeof *s);
    if (!s)
        return NULL;
    s->cased = cased;
    size_t cap = 8;
    while (cap < n * 2 + 2)
        cap *= 2;
    s->slots = ahi_alloc(a, cap * sizeof *s->slots);
    s->items = ahi_alloc(a, (n ? n : 1) * sizeof *s->items);
    if (!s->slots || !s->items)
        return NULL;
    s->mask = cap - 1;
    for (size_t i = 0; i < n; i++) {
        uint64_t h = set_hash(s, items[i].s, items[i].n);
        size_t k = (size_t)h & s->mask;
        bool dup = false;
        while (s->slots[k].s) {
            if (s->slots[k].h == h && set_eq(s, s->slots[k].s, s->slots[k].n, items[i].s, items[i].n)) {
                dup = true;
                break;
            }
            k = (k + 1) & s->mask;
        }
        if (dup)
            continue;
        s->slots[k].s = items[i].s;
        s->slots[k].n = items[i].n;
        s->slots[k].h = h;
        s->items[s->nitems++] = items[i].s;
        s->count++;
    }
    return s;
}

uint64_t ahi_strset_hash_ci(const char *p, size_t n) { return ah_hash64_ci(p, n, HASH_SEED); }

bool ahi_strset_has(const ahi_strset *s, const char *p, size_t n)
{
    if (!s || s->count == 0)
        return false;
    return ahi_strset_has_h(s, p, n, s->cased ? 0 : ahi_strset_hash_ci(p, n));
}

bool ahi_strset_has_h(const ahi_strset *s, const char *p, size_t n, uint64_t h_ci)
{
    if (!s || s->count == 0)
        return false;
    uint64_t h = s->cased ? set_hash(s, p, n) : h_ci;
    size_t k = (size_t)h & s->mask;
    while (s->slots[k].s) {
        if (s->slots[k].h == h && set_eq(s, s->slots[k].s, s->slots[k].n, p, n))
            return true;
        k = (k + 1) & s->mask;
    }
    return false;
}

/* --- CIDR sets --------------------------------------------------------- */

typedef struct u128 {
    uint64_t hi, lo;
} u128;

static u128 ip_to_u128(const uint8_t b[16])
{
    u128 v = {0, 0};
    for (int i = 0; i < 8; i++)
        v.hi = (v.hi << 8) | b[i];
    for (int i = 8; i < 16; i++)
        v.lo = (v.lo << 8) | b[i];
    return v;
}

static int u128_cmp(u128 a, u128 b)
{
    if (a.hi != b.hi)
        return a.hi < b.hi ? -1 : 1;
    if (a.lo != b.lo)
        return a.lo < b.lo ? -1 : 1;
    return 0;
}

static int range_cmp(const void *x, const void *y)
{
    const struct ahi_range *a = x, *b = y;
    int c = u128_cmp((u128){a->lo_hi, a->lo_lo}, (u128){b->lo_hi, b->lo_lo});
    if (c)
        return c;
    return u128_cmp((u128){a->hi_hi, a->hi_lo}, (u128){b->hi_hi, b->hi_lo});
}

ahi_cidrset *ahi_cidrset_build(ahi_arena *a, const ahi_lit *items, size_t n, size_t *bad_index)
{
    ahi_cidrset *c = ahi_alloc(a, sizeof *c);
    if (!c)
        return NULL;
    c->r = ahi_alloc(a, (n ? n : 1) * sizeof *c->r);
    c->items = ahi_alloc(a, (n ? n : 1) * sizeof *c->items);
    if (!c->r || !c->items)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        ah_ip net;
        unsigned len = 0;
        if (!ah_cidr_parse(ah_span_make(items[i].s, items[i].n), &net, &len) || len > 128) {
            *bad_index = i;
            return NULL;
        }
        u128 v = ip_to_u128(net.bytes);
        u128 mask;
        if (len == 0)
            mask = (u128){0, 0};
        else if (len <= 64)
            mask = (u128){len == 64 ? ~0ull : ~(~0ull >> len), 0};
        else
            mask = (u128){~0ull, len == 128 ? ~0ull : ~(~0ull >> (len - 64))};
        u128 lo = {v.hi & mask.hi, v.lo & mask.lo};
        u128 hi = {lo.hi | ~mask.hi, lo.lo | ~mask.lo};
        c->r[c->n++] = (struct ahi_range){lo.hi, lo.lo, hi.hi, hi.lo};
        c->items[c->nitems++] = items[i].s;
    }
    if (c->n > 1)
        qsort(c->r, c->n, sizeof *c->r, range_cmp);
    /* Merge overlapping and adjacent ranges. */
    size_t w = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (w > 0) {
            struct ahi_range *last = &c->r[w - 1];
            u128 lhi = {last->hi_hi, last->hi_lo};
            u128 clo = {c->r[i].lo_hi, c->r[i].lo_lo};
            /* adjacent: clo == lhi + 1 */
            u128 next = {lhi.lo == ~0ull ? lhi.hi + 1 : lhi.hi, lhi.lo + 1};
            bool overflow = lhi.hi == ~0ull && lhi.lo == ~0ull;
            if (overflow || u128_cmp(clo, lhi) <= 0 || u128_cmp(clo, next) == 0) {
                u128 chi = {c->r[i].hi_hi, c->r[i].hi_lo};
                if (u128_cmp(chi, lhi) > 0) {
                    last->hi_hi = chi.hi;
                    last->hi_lo = chi.lo;
                }
                continue;
            }
        }
        c->r[w++] = c->r[i];
    }
    c->n = w;
    return c;
}

bool ahi_cidrset_has_ip(const ahi_cidrset *c, const void *ip16)
{
    if (!c || c->n == 0)
        return false;
    u128 v = ip_to_u128(ip16);
    size_t lo = 0, hi = c->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (u128_cmp((u128){c->r[mid].lo_hi, c->r[mid].lo_lo}, v) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return false;
    const struct ahi_range *r = &c->r[lo - 1];
    return u128_cmp(v, (u128){r->hi_hi, r->hi_lo}) <= 0;
}

bool ahi_parse_ip(const char *p, size_t n, uint8_t out[16])
{
    ah_span bare;
    ah_ip ip;
    if (!ah_ip_normalize(ah_span_make(p, n), &bare) || !ah_ip_parse(bare, &ip))
        return false;
    memcpy(out, ip.bytes, 16);
    return true;
}

bool ahi_cidrset_has_text(const ahi_cidrset *c, const char *p, size_t n)
{
    uint8_t ip[16];
    return ahi_parse_ip(p, n, ip) && ahi_cidrset_has_ip(c, ip);
}

/* --- list files -------------------------------------------------------- */

size_t ahi_strip_zero_width(char *s, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c == 0xE2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
            ((unsigned char)s[i + 2] >= 0x8B && (unsigned char)s[i + 2] <= 0x8F)) {
            i += 3; /* U+200B ZWSP, U+200C ZWNJ, U+200D ZWJ, U+200E LRM, U+200F RLM */
            continue;
        }
        if (c == 0xE2 && i + 2 < n && (unsigned char)s[i + 1] == 0x81 && (unsigned char)s[i + 2] == 0xA0) {
            i += 3; /* U+2060 WORD JOINER */
            continue;
        }
        if (c == 0xEF && i + 2 < n && (unsigned char)s[i + 1] == 0xBB && (unsigned char)s[i + 2] == 0xBF) {
            i += 3; /* U+FEFF BOM / ZWNBSP */
            continue;
        }
        s[w++] = s[i++];
    }
    return w;
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

bool ahi_list_read(ahi_arena *a, const char *path, ahi_lit **items, size_t *n, char sha256[65], uint64_t *size,
                   const char **why)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        *why = strerror(errno);
        return false;
    }
    /* Hashed as read, so the digest is of the very bytes the values came from. */
    ah_sha256 h;
    ah_sha256_init(&h);
    *size = 0;
    bool ok = false;
    ahi_lit *v = NULL;
    size_t nv = 0, cap = 0;
    char line[AHI_MAX_LIST_LINE + 2];
    for (;;) {
        size_t len = 0;
        int c;
        bool too_long = false;
        while ((c = getc(f)) != EOF && c != '\n') {
            if (len < AHI_MAX_LIST_LINE)
                line[len++] = (char)c;
            else
                too_long = true;
        }
        ah_sha256_update(&h, line, len);
        *size += len + (c == '\n');
        if (c == '\n')
            ah_sha256_update(&h, "\n", 1);
        if (c == EOF && len == 0 && !too_long)
            break;
        if (too_long) {
            *why = "a line is longer than 4096 bytes";
            goto out;
        }
        len = ahi_strip_zero_width(line, len);
        /* Comments: a # at the start of the value or after whitespace. */
        for (size_t i = 0; i < len; i++)
            if (line[i] == '#' && (i == 0 || is_space(line[i - 1]))) {
                len = i;
                break;
            }
        size_t s = 0;
        while (s < len && is_space(line[s]))
            s++;
        while (len > s && is_space(line[len - 1]))
            len--;
        if (len > s) {
            if (nv >= AHI_MAX_LIST_ENTRIES) {
                *why = "more than 1,000,000 values";
                goto out;
            }
            if (!ahi_grow(a, (void **)&v, &cap, nv, sizeof *v)) {
                *why = "out of memory";
                goto out;
            }
            memset(&v[nv], 0, sizeof v[nv]);
            v[nv].s = ahi_strndup(a, line + s, len - s);
            v[nv].n = len - s;
            if (!v[nv].s) {
                *why = "out of memory";
                goto out;
            }
            nv++;
        }
        if (c == EOF)
            break;
    }
    if (ferror(f)) {
        *why = "read error";
        goto out;
    }
    ok = true;
    *items = v;
    *n = nv;
    ah_sha256_hex(&h, sha256);
out:
    fclose(f);
    return ok;
}
