/*
 * opindex.c: the skip index of single-event rules. It answers "which rules
 * can match an event with source S and canonical operation O" without
 * touching the others. A rule whose condition pins its operations is filed
 * in a hash table (the opmap) under each operation; every other rule is
 * filed under each of its sources. Both lists hold rule indices in load
 * order, so the matcher merges them into rule order with no sorting per
 * event. Built by the driver (ruleset.c), read by the matcher (match.c).
 */
#include "rules_private.h"

#include <string.h>

#include "../../parsers/util/hash.h"

#define OPMAP_SEED 0x61686f70ull /* "ahop" */

static uint64_t op_hash(const char *p, size_t n) { return ah_hash64(p, n, OPMAP_SEED); }

const struct ahi_opentry *ahi_opmap_find(const ah_ruleset *rs, ah_span op)
{
    if (!rs->opmap)
        return NULL;
    uint64_t h = op_hash(op.p, op.n);
    size_t k = (size_t)h & rs->opmask;
    while (rs->opmap[k].op) {
        const struct ahi_opentry *e = &rs->opmap[k];
        if (e->h == h && e->n == op.n && memcmp(e->op, op.p, op.n) == 0)
            return e;
        k = (k + 1) & rs->opmask;
    }
    return NULL;
}

bool ahi_opmap_build(ah_ruleset *rs)
{
    ahi_arena *a = &rs->store.arena;
    size_t nops = 0;
    for (size_t i = 0; i < rs->nrules; i++)
        if (rs->rules[i]->cond)
            nops += rs->rules[i]->npinned;
    size_t cap = 8;
    while (cap < nops * 2 + 2)
        cap *= 2;
    if (nops) {
        rs->opmap = ahi_alloc(a, cap * sizeof *rs->opmap);
        if (!rs->opmap)
            return false;
        rs->opmask = cap - 1;
    }
    size_t ucap[AH_SOURCE_COUNT] = {0};
    for (size_t i = 0; i < rs->nrules; i++) {
        ah_rule *r = rs->rules[i];
        if (!r->cond)
            continue;
        rs->active++;
        rs->needs_raw |= r->meta.needs_raw;
        if (r->pinned) {
            for (int s = AH_SOURCE_UAL; s < AH_SOURCE_COUNT; s++)
                if (r->meta.sources & AH_SOURCE_BIT(s)) {
                    rs->pinned_any[s] = true;
                    rs->pinned_raw[s] |= r->meta.needs_raw;
                }
            for (size_t k = 0; k < r->npinned; k++) {
                const char *op = r->pinned[k];
                size_t n = strlen(op);
                uint64_t h = op_hash(op, n);
                size_t slot = (size_t)h & rs->opmask;
                while (rs->opmap[slot].op && !(rs->opmap[slot].h == h && strcmp(rs->opmap[slot].op, op) == 0))
                    slot = (slot + 1) & rs->opmask;
                struct ahi_opentry *e = &rs->opmap[slot];
                if (!e->op) {
                    e->op = op;
                    e->n = n;
                    e->h = h;
                }
                /* Indices are appended in rule order; a rule pinning two
                 * spellings that canonicalize alike appears once. */
                if (e->nrules && e->rules[e->nrules - 1] == i)
                    continue;
                if (!ahi_grow(a, (void **)&e->rules, &e->cap, e->nrules, sizeof *e->rules))
                    return false;
                e->rules[e->nrules++] = (uint32_t)i;
                e->sources |= r->meta.sources;
                if (r->meta.needs_raw)
                    e->raw_sources |= r->meta.sources;
            }
        } else {
            for (int s = AH_SOURCE_UAL; s < AH_SOURCE_COUNT; s++) {
                if (!(r->meta.sources & AH_SOURCE_BIT(s)))
                    continue;
                if (!ahi_grow(a, (void **)&rs->unpinned[s], &ucap[s], rs->nunpinned[s], sizeof *rs->unpinned[s]))
                    return false;
                rs->unpinned[s][rs->nunpinned[s]++] = (uint32_t)i;
                rs->unpinned_raw[s] |= r->meta.needs_raw;
            }
        }
    }
    return true;
}
