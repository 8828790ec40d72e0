/* sha256.h: FIPS 180-4 SHA-256, streaming, for input chain of custody. */
#ifndef AH_SHA256_H
#define AH_SHA256_H

#include "common.h"

typedef struct ah_sha256 {
    uint32_t h[8];
    bool hw; /* use the CPU's SHA extensions (chosen by init) */
    uint64_t total;
    uint8_t block[64];
    size_t used;
} ah_sha256;

/* Uses the x86 SHA extensions when the CPU has them (several times faster:
 * the digest runs over every input byte), else portable C. */
void ah_sha256_init(ah_sha256 *s);
/* Always the portable implementation (tests compare the two). */
void ah_sha256_init_portable(ah_sha256 *s);
void ah_sha256_update(ah_sha256 *s, const void *data, size_t len);
void ah_sha256_final(ah_sha256 *s, uint8_t out[32]);
/* Convenience: final digest as 64 lowercase hex chars + NUL. */
void ah_sha256_hex(ah_sha256 *s, char out[65]);

#endif
