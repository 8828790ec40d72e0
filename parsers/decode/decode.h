/*
 * decode.h: any text encoding an export arrives in -> UTF-8, streaming.
 *
 * Sniffs the first bytes: UTF-8 BOM (stripped), UTF-16LE/BE BOM,
 * BOM-less UTF-16LE (NUL bytes at odd offsets in the first KB). UTF-16 is
 * transcoded (surrogate pairs joined; lone surrogates become U+FFFD).
 * Otherwise the bytes are validated as UTF-8 as they stream; any byte that
 * is not part of a valid UTF-8 sequence is taken as Windows-1252 and
 * transcoded (so a cp1252 file and a UTF-8 file with stray bytes both come
 * out as valid UTF-8). NUL characters are kept (evidence) and counted.
 * Works in fixed buffers; never holds the stream.
 */
#ifndef AH_DECODE_H
#define AH_DECODE_H

#include "../util/common.h"

typedef enum ah_encoding {
    AH_ENC_UTF8 = 0,
    AH_ENC_UTF8_BOM,
    AH_ENC_UTF16LE_BOM,
    AH_ENC_UTF16BE_BOM,
    AH_ENC_UTF16LE_NOBOM,
} ah_encoding;

typedef struct ah_decoder ah_decoder;

/* Wrap a byte reader. The decoder does not own `src`. */
ah_decoder *ah_decoder_new(ah_reader *src);
void ah_decoder_free(ah_decoder *d);

/* UTF-8 output. Valid until ah_decoder_free. */
ah_reader *ah_decoder_reader(ah_decoder *d);

/* Detected encoding (known after the first read). */
ah_encoding ah_decoder_encoding(const ah_decoder *d);
/* Bytes that were not valid UTF-8 and were read as Windows-1252. */
uint64_t ah_decoder_cp1252_bytes(const ah_decoder *d);
/* NUL characters seen (a NUL byte in 8-bit text, a U+0000 unit in UTF-16); kept in the output. */
uint64_t ah_decoder_nul_bytes(const ah_decoder *d);
/* Human-readable name for reports: "utf-8", "utf-8 (BOM)", "utf-16le (BOM)",
 * "utf-16be (BOM)", "utf-16le (no BOM)"; with " + windows-1252 fallback"
 * appended when any byte was transcoded from cp1252. Written into buf. */
const char *ah_decoder_describe(const ah_decoder *d, char *buf, size_t size);

#endif
