/*
 * decode.c: byte stream in any export encoding -> UTF-8, streaming.
 *
 * Two fixed buffers: raw input (`in`) and converted output (`out`). A read
 * converts the whole of `in` at once (out is sized for the worst case of
 * 3 output bytes per input byte), then hands `out` to the caller in
 * whatever sizes it asks for. A sequence cut by a read boundary (a UTF-8
 * lead byte without its continuations, half a UTF-16 unit, a high
 * surrogate without its low half) stays at the front of `in` and is
 * completed by the next refill, so the output never depends on how the
 * source chunks its data.
 *
 * 8-bit text: a byte that starts no well-formed UTF-8 sequence (Unicode
 * table 3-7: no overlongs, no encoded surrogates, nothing above U+10FFFF)
 * is taken as Windows-1252, one byte at a time, and counted; the bytes
 * after it are examined afresh. NUL bytes (and U+0000 in UTF-16) are
 * kept and counted: they are evidence (a half-written export, a value an
 * attacker padded); the scanner skips them where they carry no record and
 * keeps them out of the fields rules match on.
 */
#include "decode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/utf8.h"

enum {
    SNIFF_SIZE = 1024,           /* bytes examined for BOM-less UTF-16LE */
    IN_SIZE = 16 * 1024,         /* >= SNIFF_SIZE */
    OUT_SIZE = IN_SIZE * 3 + 16, /* every input byte yields at most 3 output bytes */
};

struct ah_decoder {
    ah_reader *src;
    ah_reader out_reader;
    ah_encoding enc;
    bool sniffed;
    bool src_eof;
    bool src_err;
    uint64_t cp1252_bytes;
    uint64_t nul_bytes;
    size_t in_pos, in_len;
    size_t out_pos, out_len;
    unsigned char in[IN_SIZE];
    unsigned char out[OUT_SIZE];
};

/* Windows-1252 0x80..0x9F; 0xA0..0xFF equal their code points. 0 marks the
 * five bytes cp1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D). */
static const uint16_t cp1252_high[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178,
};

static uint32_t cp1252_to_ucs(unsigned char c)
{
    if (c < 0x80 || c >= 0xA0)
        return c;
    uint32_t cp = cp1252_high[c - 0x80];
    return cp ? cp : 0xFFFD;
}

/* Convert in[in_pos..in_len) as far as it is complete. */
static void convert_8bit(ah_decoder *d)
{
    const unsigned char *in = d->in;
    size_t i = d->in_pos, n = d->in_len, o = d->out_len;
    while (i < n && o + 4 <= OUT_SIZE) {
        /* Fast path: almost all of an export is ASCII; move 8 bytes at a
         * time while none has the high bit set, counting NUL bytes (exact
         * zero-byte mask: no high bit is set in w). */
        while (i + 8 <= n && o + 8 <= OUT_SIZE) {
            uint64_t w;
            memcpy(&w, in + i, 8);
            if (w & 0x8080808080808080ull)
                break;
            uint64_t zero = ~(((w & 0x7F7F7F7F7F7F7F7Full) + 0x7F7F7F7F7F7F7F7Full) | w) & 0x8080808080808080ull;
            if (zero)
                d->nul_bytes += (uint64_t)__builtin_popcountll(zero);
            memcpy(d->out + o, &w, 8);
            i += 8;
            o += 8;
        }
        if (i >= n || o + 4 > OUT_SIZE)
            break;
        unsigned char c = in[i];
        if (c < 0x80) {
            d->nul_bytes += c == 0;
            d->out[o++] = c;
            i++;
            continue;
        }
        int len = ah_utf8_check(in + i, n - i);
        if (len == 0 && d->src_eof)
            len = -1; /* cut short by the end of input */
        if (len == 0)
            break; /* incomplete: wait for the next refill */
        if (len > 0) {
            memcpy(d->out + o, in + i, (size_t)len);
            o += (size_t)len;
            i += (size_t)len;
        } else {
            o += ah_utf8_encode(cp1252_to_ucs(c), d->out + o);
            d->cp1252_bytes++;
            i++;
        }
    }
    d->in_pos = i;
    d->out_len = o;
}

static uint32_t unit16(const unsigned char *p, bool big_endian)
{
    return big_endian ? (uint32_t)p[0] << 8 | p[1] : (uint32_t)p[1] << 8 | p[0];
}

static void convert_utf16(ah_decoder *d, bool big_endian)
{
    const unsigned char *in = d->in;
    size_t i = d->in_pos, n = d->in_len, o = d->out_len;
    while (i + 1 < n && o + 4 <= OUT_SIZE) {
        uint32_t u = unit16(in + i, big_endian);
        if (u >= 0xD800 && u <= 0xDBFF) {
            if (i + 3 < n) {
                uint32_t low = unit16(in + i + 2, big_endian);
                if (low >= 0xDC00 && low <= 0xDFFF) {
                    o += ah_utf8_encode(0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00), d->out + o);
                    i += 4;
                    continue;
                }
            } else if (!d->src_eof) {
                break; /* the low half may be in the next read */
            }
            o += ah_utf8_encode(0xFFFD, d->out + o); /* lone high surrogate */
        } else if (u >= 0xDC00 && u <= 0xDFFF) {
            o += ah_utf8_encode(0xFFFD, d->out + o); /* lone low surrogate */
        } else if (u == 0) {
            d->nul_bytes++;
            d->out[o++] = 0;
        } else {
            o += ah_utf8_encode(u, d->out + o);
        }
        i += 2;
    }
    if (d->src_eof && i + 1 == n && o + 4 <= OUT_SIZE) {
        o += ah_utf8_encode(0xFFFD, d->out + o); /* odd trailing byte */
        i++;
    }
    d->in_pos = i;
    d->out_len = o;
}

static void convert(ah_decoder *d)
{
    switch (d->enc) {
    case AH_ENC_UTF16LE_BOM:
    case AH_ENC_UTF16LE_NOBOM: convert_utf16(d, false); break;
    case AH_ENC_UTF16BE_BOM: convert_utf16(d, true); break;
    case AH_ENC_UTF8:
    case AH_ENC_UTF8_BOM: convert_8bit(d); break;
    }
}

/* Move the unconverted tail to the front and read once more from the source. */
static void refill(ah_decoder *d)
{
    size_t keep = d->in_len - d->in_pos;
    if (keep && d->in_pos)
        memmove(d->in, d->in + d->in_pos, keep);
    d->in_pos = 0;
    d->in_len = keep;
    ssize_t k = ah_read(d->src, (char *)d->in + keep, IN_SIZE - keep);
    if (k < 0)
        d->src_err = true;
    else if (k == 0)
        d->src_eof = true;
    else
        d->in_len += (size_t)k;
}

static bool looks_like_utf16le(const unsigned char *p, size_t n)
{
    size_t units = (n < SNIFF_SIZE ? n : SNIFF_SIZE) / 2;
    if (units < 2)
        return false;
    size_t odd_nul = 0, even_nul = 0;
    for (size_t i = 0; i < units; i++) {
        even_nul += p[2 * i] == 0;
        odd_nul += p[2 * i + 1] == 0;
    }
    /* ASCII-range UTF-16LE: nearly every high byte is 0, almost no low byte is. */
    return odd_nul * 10 >= units * 9 && even_nul * 10 <= units;
}

static void sniff(ah_decoder *d)
{
    d->sniffed = true;
    while (d->in_len < SNIFF_SIZE && !d->src_eof && !d->src_err)
        refill(d);
    const unsigned char *p = d->in;
    size_t n = d->in_len;
    if (n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) {
        d->enc = AH_ENC_UTF8_BOM;
        d->in_pos = 3;
    } else if (n >= 2 && p[0] == 0xFF && p[1] == 0xFE) {
        d->enc = AH_ENC_UTF16LE_BOM;
        d->in_pos = 2;
    } else if (n >= 2 && p[0] == 0xFE && p[1] == 0xFF) {
        d->enc = AH_ENC_UTF16BE_BOM;
        d->in_pos = 2;
    } else if (looks_like_utf16le(p, n)) {
        d->enc = AH_ENC_UTF16LE_NOBOM;
    } else {
        d->enc = AH_ENC_UTF8;
    }
}

static ssize_t decoder_read(void *ctx, char *buf, size_t n)
{
    ah_decoder *d = ctx;
    if (n == 0)
        return 0;
    if (!d->sniffed)
        sniff(d);
    for (;;) {
        if (d->out_pos < d->out_len) {
            size_t k = d->out_len - d->out_pos;
            if (k > n)
                k = n;
            memcpy(buf, d->out + d->out_pos, k);
            d->out_pos += k;
            return (ssize_t)k;
        }
        d->out_pos = d->out_len = 0;
        if (d->in_pos < d->in_len) {
            convert(d);
            if (d->out_len)
                continue;
        }
        /* Output empty: input exhausted, only NULs dropped, or an incomplete tail waits. */
        if (d->src_err)
            return -1; /* the source reported the reason */
        if (d->src_eof && d->in_pos >= d->in_len)
            return 0;
        if (!d->src_eof)
            refill(d);
    }
}

ah_decoder *ah_decoder_new(ah_reader *src)
{
    if (!src)
        return NULL;
    ah_decoder *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->src = src;
    d->enc = AH_ENC_UTF8;
    d->out_reader.read = decoder_read;
    d->out_reader.ctx = d;
    return d;
}

void ah_decoder_free(ah_decoder *d) { free(d); }

ah_reader *ah_decoder_reader(ah_decoder *d) { return &d->out_reader; }

ah_encoding ah_decoder_encoding(const ah_decoder *d) { return d->enc; }

uint64_t ah_decoder_cp1252_bytes(const ah_decoder *d) { return d->cp1252_bytes; }

uint64_t ah_decoder_nul_bytes(const ah_decoder *d) { return d->nul_bytes; }

static const char *encoding_name(ah_encoding e)
{
    switch (e) {
    case AH_ENC_UTF8: return "utf-8";
    case AH_ENC_UTF8_BOM: return "utf-8 (BOM)";
    case AH_ENC_UTF16LE_BOM: return "utf-16le (BOM)";
    case AH_ENC_UTF16BE_BOM: return "utf-16be (BOM)";
    case AH_ENC_UTF16LE_NOBOM: return "utf-16le (no BOM)";
    }
    return "unknown";
}

const char *ah_decoder_describe(const ah_decoder *d, char *buf, size_t size)
{
    const char *name = encoding_name(d->enc);
    if (!buf || size == 0)
        return name;
    snprintf(buf, size, "%s%s", name, d->cp1252_bytes ? " + windows-1252 fallback" : "");
    return buf;
}
