/*
 * utf8.h: UTF-8 checking, encoding and cutting, shared by the decoder, the
 * JSON scanner, the CSV cell writer and the rule engine.
 *
 * Well-formed means Unicode table 3-7: no overlong forms, no encoded
 * surrogates (U+D800..U+DFFF), nothing above U+10FFFF. Everything here is
 * static inline: the checks run per byte on the decoding and output paths.
 */
#ifndef AH_UTF8_H
#define AH_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Check the sequence that starts at p, with n >= 1 bytes available:
 *   > 0  a well-formed sequence of that many bytes (1 for ASCII);
 *     0  the n bytes are a well-formed start cut short (more bytes may
 *        complete it);
 *   < 0  ill-formed: -k, where k >= 1 is the length of its maximal
 *        subpart (the bytes one U+FFFD replaces, Unicode 3.9). */
static inline int ah_utf8_check(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    if (c < 0x80)
        return 1;
    int len;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* UTF-16 surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else
        return -1;
    for (int i = 1; i < len; i++) {
        if ((size_t)i >= n)
            return 0;
        unsigned char b = p[i];
        if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF))
            return -i;
    }
    return len;
}

/* Length of the well-formed sequence at p (1..4), or 0 if it is ill-formed
 * or cut short by the end of the n bytes (n may be 0). */
static inline size_t ah_utf8_seq_len(const unsigned char *p, size_t n)
{
    int k = n ? ah_utf8_check(p, n) : 0;
    return k > 0 ? (size_t)k : 0;
}

/* Encode cp (at most U+10FFFF; surrogates are the caller's concern) into
 * out (4 bytes of room). Returns the number of bytes written. */
static inline size_t ah_utf8_encode(uint32_t cp, unsigned char *out)
{
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xC0 | (cp >> 6));
        out[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xE0 | (cp >> 12));
        out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | (cp >> 18));
    out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* A continuation byte (10xxxxxx): not the start of a character. */
static inline bool ah_utf8_is_cont(unsigned char c) { return (c & 0xC0) == 0x80; }

/* Where to cut p to at most n bytes without splitting a character: n moved
 * back over continuation bytes (p[n] must be readable). */
static inline size_t ah_utf8_cut(const char *p, size_t n)
{
    while (n > 0 && ah_utf8_is_cont((unsigned char)p[n]))
        n--;
    return n;
}

#endif
