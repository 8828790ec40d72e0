/* topn.c: bounded top-N counting (see topn.h). */
#include "topn.h"

#include "../../parsers/util/hash.h"
#include "../../parsers/util/utf8.h"

#include <stdlib.h>
#include <string.h>

ah_status ah_topn_init(ah_topn *t, size_t capacity)
{
    memset(t, 0, sizeof *t);
    t->capacity = capacity ? capacity : 1;
    t->e = calloc(t->capacity, sizeof *t->e);
    return t->e ? AH_OK : AH_ERR_NOMEM;
}

void ah_topn_free(ah_topn *t)
{
    free(t->e);
    memset(t, 0, sizeof *t);
}

void ah_topn_add(ah_topn *t, ah_span value, uint64_t by, int extra)
{
    if (!value.p || value.n == 0 || !t->e)
        return;
    size_t n = value.n <= AH_TOPN_VALUE_MAX ? value.n : ah_utf8_cut(value.p, AH_TOPN_VALUE_MAX);
    uint64_t h = ah_hash64(value.p, n, 0);
    t->total += by;
    /* The table is small (a few hundred): a scan of the hashes stays in cache. */
    for (size_t i = 0; i < t->n; i++) {
        ah_topn_entry *e = &t->e[i];
        if (e->hash == h && e->n == n && memcmp(e->value, value.p, n) == 0) {
            e->count += by;
            if (extra > e->extra)
                e->extra = extra;
            return;
        }
    }
    ah_topn_entry *slot;
    uint64_t inherited = 0;
    if (t->n < t->capacity) {
        slot = &t->e[t->n++];
    } else {
        slot = &t->e[0];
        for (size_t i = 1; i < t->n; i++)
            if (t->e[i].count < slot->count)
                slot = &t->e[i];
        inherited = slot->count;
        t->replaced = true;
    }
    slot->hash = h;
    slot->count = inherited + by;
    slot->error = inherited;
    slot->extra = extra;
    slot->n = n;
    memcpy(slot->value, value.p, n);
}

bool ah_topn_exact(const ah_topn *t) { return !t->replaced; }

static bool before(const ah_topn_entry *a, const ah_topn_entry *b)
{
    if (a->count != b->count)
        return a->count > b->count;
    size_t m = a->n < b->n ? a->n : b->n;
    int c = memcmp(a->value, b->value, m);
    return c ? c < 0 : a->n < b->n;
}

size_t ah_topn_top(const ah_topn *t, const ah_topn_entry **out, size_t k)
{
    size_t got = 0;
    /* k is small: insertion into the result keeps it sorted. */
    for (size_t i = 0; i < t->n; i++) {
        const ah_topn_entry *e = &t->e[i];
        size_t pos = got;
        while (pos > 0 && before(e, out[pos - 1]))
            pos--;
        if (pos >= k)
            continue;
        size_t last = got < k ? got : k - 1;
        for (size_t j = last; j > pos; j--)
            out[j] = out[j - 1];
        out[pos] = e;
        if (got < k)
            got++;
    }
    return got;
}
