/*
 * dedup.c: the set of record digests seen so far.
 *
 * Open addressing with linear probing over a power-of-two array of 16-byte
 * slots: no per-entry allocation, no pointers, cache-friendly probes. An
 * all-zero slot means "empty", so the all-zero digest (a legitimate hash
 * value) lives in a flag beside the table instead.
 *
 * The table doubles when an insert would take it past 70% load, so memory
 * is 16 bytes per unique digest times 1/0.7..1/0.35 slack (about 23-46
 * bytes per unique record), plus a transient 1.5x while rehashing.
 *
 * Out of memory must never drop a record: when the table cannot grow the
 * set goes degraded for good (no retry storm of large allocations). It
 * still answers from what it holds, keeps filling the slack up to 7/8 load
 * (probe lengths stay short), and past that reports every unseen digest as
 * new without storing it.
 *
 * A limited set (the session's budget, --memory) stops doubling at the
 * largest table within its limit and fills that one to 87.5 % load, the
 * same bound as degraded mode; ah_dedup_room tells the caller when it is
 * full, before the insert.
 */
#include "dedup.h"

#include <stdlib.h>
#include <string.h>

enum {
    INITIAL_SLOTS = 1024, /* 16 KiB */
    GROW_NUM = 7,
    GROW_DEN = 10, /* grow past 70% load */
    FULL_NUM = 7,
    FULL_DEN = 8, /* degraded: stop storing past 87.5% */
};

typedef struct slot {
    uint64_t d[2];
} slot;

struct ah_dedup {
    slot *slots;
    size_t mask;      /* slot count - 1 */
    size_t stored;    /* non-zero digests in slots */
    size_t max_slots; /* table size limit (a power of two); SIZE_MAX: none */
    bool has_zero;    /* the all-zero digest was inserted */
    bool degraded;
};

/* Digests are hashes already, but callers may pass structured values (ids,
 * counters): one multiply-xorshift spreads them over the table anyway. */
static size_t slot_index(const uint64_t d[2], size_t mask)
{
    uint64_t h = d[0] ^ (d[1] * 0x9e3779b97f4a7c15ULL);
    h ^= h >> 32;
    h *= 0xd6e8feca6c7ab0a5ULL;
    h ^= h >> 29;
    return (size_t)h & mask;
}

static bool slot_empty(const slot *s) { return (s->d[0] | s->d[1]) == 0; }

/* Finds d, or the empty slot where it would go. */
static slot *probe(slot *slots, size_t mask, const uint64_t d[2])
{
    for (size_t i = slot_index(d, mask);; i = (i + 1) & mask) {
        slot *s = &slots[i];
        if (slot_empty(s) || (s->d[0] == d[0] && s->d[1] == d[1]))
            return s;
    }
}

static bool grow(ah_dedup *d)
{
    size_t old_count = d->mask + 1;
    if (old_count > SIZE_MAX / 64 / sizeof(slot)) /* keeps the load arithmetic in range */
        return false;
    size_t count = old_count * 2;
    slot *fresh = calloc(count, sizeof(slot));
    if (!fresh)
        return false;
    for (size_t i = 0; i < old_count; i++) {
        const slot *s = &d->slots[i];
        if (!slot_empty(s))
            *probe(fresh, count - 1, s->d) = *s;
    }
    free(d->slots);
    d->slots = fresh;
    d->mask = count - 1;
    return true;
}

ah_dedup *ah_dedup_new_limited(size_t limit)
{
    size_t max_slots = SIZE_MAX;
    if (limit) {
        if (limit < AH_DEDUP_MIN_LIMIT)
            limit = AH_DEDUP_MIN_LIMIT;
        max_slots = 1;
        while (max_slots <= limit / sizeof(slot) / 2)
            max_slots *= 2;
    }
    size_t initial = max_slots < INITIAL_SLOTS ? max_slots : INITIAL_SLOTS;
    ah_dedup *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->slots = calloc(initial, sizeof(slot));
    if (!d->slots) {
        free(d);
        return NULL;
    }
    d->mask = initial - 1;
    d->max_slots = max_slots;
    return d;
}

ah_dedup *ah_dedup_new(void) { return ah_dedup_new_limited(0); }

void ah_dedup_free(ah_dedup *d)
{
    if (!d)
        return;
    free(d->slots);
    free(d);
}

bool ah_dedup_insert(ah_dedup *d, const uint64_t digest[2])
{
    if (!d || !digest)
        return true; /* never drop a record */
    if ((digest[0] | digest[1]) == 0) {
        bool fresh = !d->has_zero;
        d->has_zero = true;
        return fresh;
    }
    size_t slots = d->mask + 1;
    bool at_limit = slots >= d->max_slots;
    /* stored + 1 > 0.7 * slots, in integers */
    if (!d->degraded && !at_limit && (d->stored + 1) * GROW_DEN > slots * GROW_NUM && !grow(d))
        d->degraded = true;

    slot *s = probe(d->slots, d->mask, digest);
    if (!slot_empty(s))
        return false;
    if ((d->degraded || at_limit) && (d->stored + 1) * FULL_DEN > (d->mask + 1) * FULL_NUM)
        return true; /* full: keep the record, forget the digest */
    s->d[0] = digest[0];
    s->d[1] = digest[1];
    d->stored++;
    return true;
}

size_t ah_dedup_count(const ah_dedup *d) { return d ? d->stored + (d->has_zero ? 1 : 0) : 0; }

size_t ah_dedup_memory(const ah_dedup *d) { return d ? sizeof *d + (d->mask + 1) * sizeof(slot) : 0; }

bool ah_dedup_degraded(const ah_dedup *d) { return d && d->degraded; }

bool ah_dedup_contains(const ah_dedup *d, const uint64_t digest[2])
{
    if (!d || !digest)
        return false;
    if ((digest[0] | digest[1]) == 0)
        return d->has_zero;
    return !slot_empty(probe(d->slots, d->mask, digest));
}

size_t ah_dedup_room(const ah_dedup *d)
{
    if (!d || d->max_slots == SIZE_MAX)
        return SIZE_MAX;
    size_t full = d->max_slots / FULL_DEN * FULL_NUM; /* max_slots >= 64: exact */
    return d->stored < full ? full - d->stored : 0;
}

void ah_dedup_unlimit(ah_dedup *d)
{
    if (d)
        d->max_slots = SIZE_MAX;
}

static int cmp_slot(const void *a, const void *b)
{
    const slot *x = a, *y = b;
    if (x->d[0] != y->d[0])
        return x->d[0] < y->d[0] ? -1 : 1;
    return (x->d[1] > y->d[1]) - (x->d[1] < y->d[1]);
}

size_t ah_dedup_sorted(ah_dedup *d, const uint64_t **out)
{
    if (!d) {
        *out = NULL;
        return 0;
    }
    size_t n = 0;
    for (size_t i = 0; i <= d->mask; i++)
        if (!slot_empty(&d->slots[i]))
            d->slots[n++] = d->slots[i];
    if (d->has_zero) /* load < 1 leaves a free slot for it; it sorts first */
        d->slots[n++] = (slot){{0, 0}};
    qsort(d->slots, n, sizeof(slot), cmp_slot);
    d->stored = 0;
    d->has_zero = false;
    d->mask = 0; /* spent: nothing may probe it again */
    *out = &d->slots[0].d[0];
    return n;
}
