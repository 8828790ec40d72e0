/*
 * fuzz.h: what every libFuzzer target in tests/fuzz/ shares.
 *
 * A memory reader that hands the input out in chunks of a size taken from
 * the input itself (framers must give the same records whatever the read
 * sizes), a UTF-8 validity check, and FUZZ_CHECK: an invariant that does
 * not hold aborts like a crash, so the fuzzer saves the input.
 */
#ifndef AH_FUZZ_H
#define AH_FUZZ_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/util/common.h"
#include "parsers/util/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                                               \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);                               \
            abort();                                                                                                   \
        }                                                                                                              \
    } while (0)

typedef struct fuzz_mem {
    const uint8_t *p;
    size_t n, pos;
    size_t chunk; /* largest read handed out */
} fuzz_mem;

static inline ssize_t fuzz_mem_read(void *ctx, char *buf, size_t n)
{
    fuzz_mem *m = ctx;
    size_t k = m->n - m->pos;
    if (k > n)
        k = n;
    if (k > m->chunk)
        k = m->chunk;
    memcpy(buf, m->p + m->pos, k);
    m->pos += k;
    return (ssize_t)k;
}

/* Read sizes 1, 7, 4096 or unlimited, chosen by one selector byte. */
static inline size_t fuzz_chunk(uint8_t sel)
{
    static const size_t sizes[4] = {1, 7, 4096, SIZE_MAX};
    return sizes[sel & 3];
}

static inline ah_reader fuzz_mem_reader(fuzz_mem *m, const uint8_t *p, size_t n, size_t chunk)
{
    *m = (fuzz_mem){p, n, 0, chunk ? chunk : 1};
    return (ah_reader){fuzz_mem_read, m};
}

static inline bool fuzz_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        int k = ah_utf8_check(p + i, n - i);
        if (k <= 0)
            return false;
        i += (size_t)k;
    }
    return true;
}

/* Read every byte of a span, so ASan checks the whole range. */
static inline void fuzz_touch(ah_span s)
{
    if (s.n == 0)
        return;
    char *copy = malloc(s.n);
    FUZZ_CHECK(copy != NULL);
    memcpy(copy, s.p, s.n);
    free(copy);
}

/* True when span s lies inside [base, base + n). */
static inline bool fuzz_within(ah_span s, const char *base, size_t n)
{
    return s.n == 0 || (s.p >= base && s.p + s.n <= base + n);
}

#endif
