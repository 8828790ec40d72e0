/*
 * fuzz_decode.c: the decoder (parsers/decode/decode.c): any bytes -> UTF-8.
 *
 * Byte 0 picks the input read size, byte 1 the output read size; the rest
 * is the stream. Invariants: whatever comes in, what comes out is valid
 * UTF-8 (across read boundaries too), at most 3 bytes out per byte in
 * (a cp1252 byte or a UTF-16 unit gives at most 3) plus one U+FFFD for a
 * cut-short tail; the same bytes read with the whole input at once give
 * the same output; the counters stay within the input size.
 */
#include "fuzz.h"

#include "parsers/decode/decode.h"
#include "parsers/util/buf.h"

static void decode_all(const uint8_t *p, size_t n, size_t in_chunk, size_t out_chunk, ah_buf *out, uint64_t *nul,
                       uint64_t *cp1252, ah_encoding *enc)
{
    fuzz_mem m;
    ah_reader r = fuzz_mem_reader(&m, p, n, in_chunk);
    ah_decoder *d = ah_decoder_new(&r);
    FUZZ_CHECK(d != NULL);
    ah_reader *u = ah_decoder_reader(d);
    char tmp[8192];
    if (out_chunk > sizeof tmp)
        out_chunk = sizeof tmp;
    for (;;) {
        ssize_t k = ah_read(u, tmp, out_chunk);
        FUZZ_CHECK(k >= 0 && (size_t)k <= out_chunk);
        if (k == 0)
            break;
        FUZZ_CHECK(ah_buf_append(out, tmp, (size_t)k) == AH_OK);
    }
    FUZZ_CHECK(ah_read(u, tmp, sizeof tmp) == 0);
    *nul = ah_decoder_nul_bytes(d);
    *cp1252 = ah_decoder_cp1252_bytes(d);
    *enc = ah_decoder_encoding(d);
    char desc[96];
    const char *s = ah_decoder_describe(d, desc, sizeof desc);
    FUZZ_CHECK(s && strlen(s) < sizeof desc);
    ah_decoder_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    const uint8_t *p = data + 2;
    size_t n = size - 2;
    ah_buf a, b;
    ah_buf_init(&a, 0);
    ah_buf_init(&b, 0);
    uint64_t nul_a, nul_b, cp_a, cp_b;
    ah_encoding enc_a, enc_b;
    decode_all(p, n, fuzz_chunk(data[0]), fuzz_chunk(data[1]), &a, &nul_a, &cp_a, &enc_a);
    FUZZ_CHECK(fuzz_utf8_valid(ah_buf_cstr(&a), a.len));
    FUZZ_CHECK(a.len <= 3 * n + 3);
    FUZZ_CHECK(nul_a <= n && cp_a <= n);
    decode_all(p, n, SIZE_MAX, SIZE_MAX, &b, &nul_b, &cp_b, &enc_b);
    FUZZ_CHECK(enc_a == enc_b && nul_a == nul_b && cp_a == cp_b);
    FUZZ_CHECK(a.len == b.len && memcmp(ah_buf_cstr(&a), ah_buf_cstr(&b), a.len) == 0);
    ah_buf_free(&a);
    ah_buf_free(&b);
    return 0;
}
