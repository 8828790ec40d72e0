/*
 * hash.c: MurmurHash3 x64-128 (Austin Appleby's public-domain algorithm),
 * written from the algorithm description.
 *
 * Blocks are read as little-endian byte by byte, so digests are the same on
 * every host (they may end up in spill files and summaries); compilers turn
 * the byte assembly into one load. The case-insensitive variant folds each
 * byte as it is read, so it needs no copy of the key: ah_hash64_ci(x) equals
 * ah_hash64(ascii_lower(x)).
 */
#include "hash.h"

static const uint64_t C1 = 0x87c37b91114253d5ULL;
static const uint64_t C2 = 0x4cf5ad432745937fULL;

static inline uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static inline uint64_t fmix64(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

static inline uint8_t byte_at(const uint8_t *p, size_t i, bool fold) { return fold ? ah_fold(p[i]) : p[i]; }

static inline uint64_t load64(const uint8_t *p, bool fold)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | byte_at(p, (size_t)i, fold);
    return v;
}

static inline void murmur3_128(const void *data, size_t len, uint64_t seed, bool fold, uint64_t out[2])
{
    const uint8_t *p = data;
    size_t nblocks = len / 16;
    uint64_t h1 = seed, h2 = seed;

    for (size_t b = 0; b < nblocks; b++) {
        uint64_t k1 = load64(p + b * 16, fold);
        uint64_t k2 = load64(p + b * 16 + 8, fold);

        k1 *= C1;
        k1 = rotl64(k1, 31);
        k1 *= C2;
        h1 ^= k1;
        h1 = rotl64(h1, 27);
        h1 += h2;
        h1 = h1 * 5 + 0x52dce729;

        k2 *= C2;
        k2 = rotl64(k2, 33);
        k2 *= C1;
        h2 ^= k2;
        h2 = rotl64(h2, 31);
        h2 += h1;
        h2 = h2 * 5 + 0x38495ab5;
    }

    /* Tail: bytes 8..14 go to k2, bytes 0..7 to k1 (little-endian). */
    const uint8_t *tail = p + nblocks * 16;
    size_t rest = len & 15;
    uint64_t k1 = 0, k2 = 0;
    for (size_t i = rest; i > 8; i--)
        k2 = (k2 << 8) | byte_at(tail, i - 1, fold);
    for (size_t i = rest < 8 ? rest : 8; i > 0; i--)
        k1 = (k1 << 8) | byte_at(tail, i - 1, fold);
    if (rest > 8) {
        k2 *= C2;
        k2 = rotl64(k2, 33);
        k2 *= C1;
        h2 ^= k2;
    }
    if (rest > 0) {
        k1 *= C1;
        k1 = rotl64(k1, 31);
        k1 *= C2;
        h1 ^= k1;
    }

    h1 ^= (uint64_t)len;
    h2 ^= (uint64_t)len;
    h1 += h2;
    h2 += h1;
    h1 = fmix64(h1);
    h2 = fmix64(h2);
    h1 += h2;
    h2 += h1;
    out[0] = h1;
    out[1] = h2;
}

void ah_hash128(const void *data, size_t len, uint64_t seed, uint64_t out[2])
{
    murmur3_128(len ? data : "", len, seed, false, out);
}

uint64_t ah_hash64(const void *data, size_t len, uint64_t seed)
{
    uint64_t h[2];
    murmur3_128(len ? data : "", len, seed, false, h);
    return h[0];
}

uint64_t ah_hash64_ci(const void *data, size_t len, uint64_t seed)
{
    uint64_t h[2];
    murmur3_128(len ? data : "", len, seed, true, h);
    return h[0];
}
