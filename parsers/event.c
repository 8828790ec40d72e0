#include "event.h"

#include <stdlib.h>
#include <string.h>

static const char *const source_names[AH_SOURCE_COUNT] = {"unknown", "ual", "signin", "entra_audit"};

const char *ah_source_name(ah_source_kind k) { return (unsigned)k < AH_SOURCE_COUNT ? source_names[k] : "unknown"; }

ah_source_kind ah_source_from_name(ah_span name)
{
    for (int k = AH_SOURCE_UAL; k < AH_SOURCE_COUNT; k++)
        if (ah_span_eq_ci(name, source_names[k]))
            return (ah_source_kind)k;
    return AH_SOURCE_UNKNOWN;
}

const char *ah_result_name(ah_result r)
{
    switch (r) {
    case AH_RESULT_SUCCESS: return "success";
    case AH_RESULT_FAILURE: return "failure";
    default: return "unknown";
    }
}

static const char *const field_names[AH_F_COUNT] = {
#define AH_FIELD(id, name, doc) name,
#include "event_fields.def"
#undef AH_FIELD
};

const char *ah_field_name(ah_field_id f) { return (unsigned)f < AH_F_COUNT ? field_names[f] : "?"; }

ah_field_id ah_field_from_name(ah_span name)
{
    for (int f = 0; f < AH_F_COUNT; f++)
        if (ah_span_eq(name, field_names[f]))
            return (ah_field_id)f;
    return AH_F_COUNT;
}

/* --- packing ------------------------------------------------------------ */

/* A packed event: the ah_event itself, a table of spans as (offset, length)
 * from the start of the packed bytes (offset NO_SPAN: a NULL span), then
 * the bytes. The table lists the fields, operation_canon, raw and body,
 * then for raw_members and body_members a head (count, keys known) and
 * each member's key and value. */
typedef struct packed_span {
    uint64_t off, len;
} packed_span;

#define NO_SPAN UINT64_MAX
#define FIXED_SPANS (AH_F_COUNT + 3)

static size_t packed_span_count(const ah_event *ev)
{
    return FIXED_SPANS + 1 + 2 * ev->raw_members.n + 1 + 2 * ev->body_members.n;
}

typedef struct packer {
    ah_buf *out;
    size_t start, table; /* offsets in out->data: the packed event, its span table */
    ah_span raw, body;   /* the source's record texts */
    uint64_t raw_off, body_off;
    ah_status st;
} packer;

static bool within(ah_span s, ah_span range)
{
    uintptr_t p = (uintptr_t)s.p, r = (uintptr_t)range.p;
    return range.p && p >= r && p + s.n <= r + range.n;
}

static void put_entry(packer *k, size_t i, packed_span ps)
{
    memcpy(k->out->data + k->table + i * sizeof ps, &ps, sizeof ps);
}

/* A span inside raw or body is an offset into their copy; any other span
 * is copied. */
static void put_span(packer *k, size_t i, ah_span s)
{
    packed_span ps = {NO_SPAN, s.n};
    if (s.p && within(s, k->raw))
        ps.off = k->raw_off + (uint64_t)(s.p - k->raw.p);
    else if (s.p && within(s, k->body))
        ps.off = k->body_off + (uint64_t)(s.p - k->body.p);
    else if (s.p) {
        ps.off = k->out->len - k->start;
        if (ah_buf_append(k->out, s.p, s.n) != AH_OK)
            k->st = AH_ERR_NOMEM;
    }
    put_entry(k, i, ps);
}

static size_t put_members(packer *k, size_t i, const ah_members *m)
{
    put_entry(k, i++, (packed_span){m->n, m->key != NULL});
    for (size_t j = 0; j < m->n; j++) {
        put_span(k, i++, m->key ? m->key[j] : AH_SPAN_NULL);
        put_span(k, i++, m->val[j]);
    }
    return i;
}

ah_status ah_event_pack(const ah_event *ev, ah_buf *out)
{
    size_t nspans = packed_span_count(ev), start = out->len;
    size_t fixed = sizeof *ev + nspans * sizeof(packed_span);
    if (ah_buf_reserve(out, fixed + ev->raw.n + ev->body.n) != AH_OK)
        return AH_ERR_NOMEM;
    memcpy(out->data + start, ev, sizeof *ev);
    memset(out->data + start + sizeof *ev, 0, fixed - sizeof *ev);
    out->len += fixed;
    packer k = {.out = out, .start = start, .table = start + sizeof *ev, .raw = ev->raw, .body = ev->body};
    k.raw_off = k.body_off = NO_SPAN;
    if (ev->raw.p) {
        k.raw_off = out->len - start;
        ah_buf_append(out, ev->raw.p, ev->raw.n); /* reserved above */
    }
    if (ev->body.p && !within(ev->body, ev->raw)) {
        k.body_off = out->len - start;
        ah_buf_append(out, ev->body.p, ev->body.n);
    } else if (ev->body.p) {
        k.body_off = k.raw_off + (uint64_t)(ev->body.p - ev->raw.p);
        k.body = AH_SPAN_NULL; /* inside raw: found there */
    }
    size_t i = 0;
    for (int f = 0; f < AH_F_COUNT; f++)
        put_span(&k, i++, ev->field[f]);
    put_span(&k, i++, ev->operation_canon);
    put_span(&k, i++, ev->raw);
    put_span(&k, i++, ev->body);
    i = put_members(&k, i, &ev->raw_members);
    put_members(&k, i, &ev->body_members);
    if (k.st != AH_OK)
        ah_buf_truncate(out, start);
    return k.st;
}

static bool get_entry(ah_span packed, size_t i, packed_span *ps)
{
    size_t at = sizeof(ah_event) + i * sizeof *ps;
    if (at + sizeof *ps > packed.n)
        return false;
    memcpy(ps, packed.p + at, sizeof *ps);
    return true;
}

static bool get_span(ah_span packed, size_t i, ah_span *s)
{
    packed_span ps;
    if (!get_entry(packed, i, &ps))
        return false;
    if (ps.off == NO_SPAN) {
        *s = AH_SPAN_NULL;
        return true;
    }
    if (ps.off > packed.n || ps.len > packed.n - ps.off)
        return false;
    *s = ah_span_make(packed.p + ps.off, (size_t)ps.len);
    return true;
}

static bool get_members(ah_span packed, size_t *i, ah_members *m, ah_span *store)
{
    packed_span head;
    if (!get_entry(packed, (*i)++, &head))
        return false;
    ah_span *key = store, *val = store + head.off;
    for (size_t j = 0; j < head.off; j++)
        if (!get_span(packed, (*i)++, &key[j]) || !get_span(packed, (*i)++, &val[j]))
            return false;
    *m = (ah_members){head.len ? key : NULL, val, (size_t)head.off};
    return true;
}

bool ah_event_unpack(ah_span packed, ah_event *ev, ah_span **members, size_t *members_cap)
{
    packed_span head_raw, head_body;
    if (packed.n < sizeof *ev || !get_entry(packed, FIXED_SPANS, &head_raw))
        return false;
    memcpy(ev, packed.p, sizeof *ev);
    if (head_raw.off > packed.n || !get_entry(packed, FIXED_SPANS + 1 + 2 * (size_t)head_raw.off, &head_body) ||
        head_body.off > packed.n)
        return false;
    size_t need = 2 * (size_t)(head_raw.off + head_body.off);
    if (need > *members_cap) {
        ah_span *m = realloc(*members, need * sizeof *m);
        if (!m)
            return false;
        *members = m;
        *members_cap = need;
    }
    size_t i = 0;
    bool ok = true;
    for (int f = 0; f < AH_F_COUNT; f++)
        ok = ok && get_span(packed, i++, &ev->field[f]);
    ok = ok && get_span(packed, i++, &ev->operation_canon) && get_span(packed, i++, &ev->raw) &&
         get_span(packed, i++, &ev->body);
    return ok && get_members(packed, &i, &ev->raw_members, *members) &&
           get_members(packed, &i, &ev->body_members, *members + 2 * head_raw.off);
}
