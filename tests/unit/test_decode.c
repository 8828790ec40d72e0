/*
 * test_decode.c: encoding sniffing and transcoding to UTF-8.
 *
 * Every case is decoded several ways (source chunks of 1, 2, 3, 7, 4096
 * bytes and whole; output pulled 1 byte or 64 KiB at a time; and the input
 * split in two at every position) and all results must be identical, so a
 * sequence cut by any read boundary is covered.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/decode/decode.h"

/* --- a chunking memory reader ------------------------------------------- */

typedef struct mem_reader {
    const unsigned char *p;
    size_t len, pos;
    size_t chunk;      /* max bytes per read */
    size_t split_at;   /* if nonzero: the first read ends exactly here */
    size_t fail_after; /* if nonzero: return -1 once this many bytes were delivered */
} mem_reader;

static ssize_t mem_read(void *ctx, char *buf, size_t n)
{
    mem_reader *m = ctx;
    if (m->fail_after && m->pos >= m->fail_after)
        return -1;
    size_t k = m->len - m->pos;
    if (k > n)
        k = n;
    if (m->chunk && k > m->chunk)
        k = m->chunk;
    if (m->split_at && m->pos < m->split_at && m->pos + k > m->split_at)
        k = m->split_at - m->pos;
    if (m->fail_after && m->pos + k > m->fail_after)
        k = m->fail_after - m->pos;
    memcpy(buf, m->p + m->pos, k);
    m->pos += k;
    return (ssize_t)k;
}

typedef struct decoded {
    unsigned char *data;
    size_t len;
    bool error;
    ah_encoding enc;
    uint64_t cp1252, nul;
    char desc[64];
} decoded;

static decoded decode_with(const void *input, size_t len, size_t chunk, size_t split_at, size_t out_step)
{
    mem_reader m = {input, len, 0, chunk, split_at, 0};
    ah_reader src = {mem_read, &m};
    ah_decoder *d = ah_decoder_new(&src);
    assert_non_null(d);
    decoded r = {0};
    size_t cap = len * 3 + 16;
    r.data = malloc(cap);
    assert_non_null(r.data);
    char *tmp = malloc(out_step);
    assert_non_null(tmp);
    for (;;) {
        ssize_t k = ah_read(ah_decoder_reader(d), tmp, out_step);
        if (k < 0) {
            r.error = true;
            break;
        }
        if (k == 0)
            break;
        assert_true(r.len + (size_t)k <= cap);
        memcpy(r.data + r.len, tmp, (size_t)k);
        r.len += (size_t)k;
    }
    /* End of stream is sticky. */
    if (!r.error)
        assert_int_equal(ah_read(ah_decoder_reader(d), tmp, out_step), 0);
    r.enc = ah_decoder_encoding(d);
    r.cp1252 = ah_decoder_cp1252_bytes(d);
    r.nul = ah_decoder_nul_bytes(d);
    ah_decoder_describe(d, r.desc, sizeof r.desc);
    free(tmp);
    ah_decoder_free(d);
    return r;
}

static void same_result(const decoded *a, const decoded *b)
{
    assert_int_equal(a->len, b->len);
    assert_memory_equal(a->data, b->data, a->len);
    assert_int_equal(a->enc, b->enc);
    assert_int_equal(a->cp1252, b->cp1252);
    assert_int_equal(a->nul, b->nul);
    assert_string_equal(a->desc, b->desc);
}

/* Decode `input` every way and check the result is `expect` each time. */
static void check_decode(const void *input, size_t len, const void *expect, size_t expect_len, ah_encoding enc,
                         uint64_t cp1252, uint64_t nul, const char *desc)
{
    decoded ref = decode_with(input, len, 0, 0, 65536);
    assert_false(ref.error);
    assert_int_equal(ref.len, expect_len);
    assert_memory_equal(ref.data, expect, expect_len);
    assert_int_equal(ref.enc, enc);
    assert_int_equal(ref.cp1252, cp1252);
    assert_int_equal(ref.nul, nul);
    assert_string_equal(ref.desc, desc);

    static const size_t chunks[] = {1, 2, 3, 7, 4096};
    for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
        decoded r = decode_with(input, len, chunks[c], 0, 65536);
        same_result(&ref, &r);
        free(r.data);
        r = decode_with(input, len, chunks[c], 0, 1);
        same_result(&ref, &r);
        free(r.data);
    }
    for (size_t k = 1; k < len; k++) {
        decoded r = decode_with(input, len, 0, k, 3);
        same_result(&ref, &r);
        free(r.data);
    }
    free(ref.data);

    /* The decoder reads its whole sniff window (1 KiB) before converting, so
     * short inputs never see a read boundary. Pad the text past that window
     * (after any BOM, in the same encoding) and split at every position. */
    enum { PAD = 1030 };
    size_t bom = enc == AH_ENC_UTF8_BOM ? 3 : (enc == AH_ENC_UTF16LE_BOM || enc == AH_ENC_UTF16BE_BOM) ? 2 : 0;
    size_t unit = enc == AH_ENC_UTF8 || enc == AH_ENC_UTF8_BOM ? 1 : 2;
    size_t plen = len + PAD * unit;
    unsigned char *padded = malloc(plen), *pexpect = malloc(expect_len + PAD);
    assert_non_null(padded);
    assert_non_null(pexpect);
    memcpy(padded, input, bom);
    for (size_t i = 0; i < PAD; i++) {
        unsigned char *u = padded + bom + i * unit;
        if (unit == 1)
            u[0] = 'p';
        else if (enc == AH_ENC_UTF16BE_BOM)
            u[0] = 0, u[1] = 'p';
        else
            u[0] = 'p', u[1] = 0;
    }
    memcpy(padded + bom + PAD * unit, (const unsigned char *)input + bom, len - bom);
    memset(pexpect, 'p', PAD);
    memcpy(pexpect + PAD, expect, expect_len);
    for (size_t k = bom + PAD * unit - 8; k < plen; k++) {
        decoded r = decode_with(padded, plen, 0, k, 4096);
        assert_false(r.error);
        assert_int_equal(r.enc, enc);
        assert_int_equal(r.len, expect_len + PAD);
        assert_memory_equal(r.data, pexpect, expect_len + PAD);
        assert_int_equal(r.cp1252, cp1252);
        assert_int_equal(r.nul, nul);
        free(r.data);
    }
    for (size_t c = 1; c <= 7; c += 6) {
        decoded r = decode_with(padded, plen, c, 0, 5);
        assert_int_equal(r.len, expect_len + PAD);
        assert_memory_equal(r.data, pexpect, expect_len + PAD);
        free(r.data);
    }
    free(padded);
    free(pexpect);
}

/* Encode code points as UTF-16 (with or without BOM). */
static size_t utf16_encode(const uint32_t *cps, size_t n, bool big_endian, bool bom, unsigned char *out)
{
    size_t o = 0;
#define PUT16(u)                                                                                                       \
    do {                                                                                                               \
        uint32_t u_ = (u);                                                                                             \
        out[o + (big_endian ? 0 : 1)] = (unsigned char)(u_ >> 8);                                                      \
        out[o + (big_endian ? 1 : 0)] = (unsigned char)(u_ & 0xFF);                                                    \
        o += 2;                                                                                                        \
    } while (0)
    if (bom)
        PUT16(0xFEFF);
    for (size_t i = 0; i < n; i++) {
        if (cps[i] >= 0x10000) {
            uint32_t v = cps[i] - 0x10000;
            PUT16(0xD800 + (v >> 10));
            PUT16(0xDC00 + (v & 0x3FF));
        } else {
            PUT16(cps[i]);
        }
    }
#undef PUT16
    return o;
}

#define S(x) x, sizeof(x) - 1

/* --- 8-bit -------------------------------------------------------------- */

static void test_valid_utf8_untouched(void **state)
{
    (void)state;
    const char in[] = "Id,Operation\r\nZ\xC3\xBCrich,\xE2\x82\xAC 5 \xF0\x9D\x84\x9E \xEF\xBF\xBD\xF4\x8F\xBF\xBF\n";
    check_decode(S(in), S(in), AH_ENC_UTF8, 0, 0, "utf-8");
}

static void test_utf8_bom_stripped(void **state)
{
    (void)state;
    check_decode(S("\xEF\xBB\xBF\"RecordId\",\"CreationDate\"\r\n"), S("\"RecordId\",\"CreationDate\"\r\n"),
                 AH_ENC_UTF8_BOM, 0, 0, "utf-8 (BOM)");
    /* A BOM alone is an empty document; a second BOM is content. */
    check_decode(S("\xEF\xBB\xBF"), "", 0, AH_ENC_UTF8_BOM, 0, 0, "utf-8 (BOM)");
    check_decode(S("\xEF\xBB\xBF\xEF\xBB\xBFx"), S("\xEF\xBB\xBFx"), AH_ENC_UTF8_BOM, 0, 0, "utf-8 (BOM)");
}

static void test_cp1252_latin1_e_acute(void **state)
{
    (void)state;
    check_decode(S("caf\xE9,ok\n"), S("caf\xC3\xA9,ok\n"), AH_ENC_UTF8, 1, 0, "utf-8 + windows-1252 fallback");
}

static void test_cp1252_c1_range(void **state)
{
    (void)state;
    /* 0x80 euro, 0x93/0x94 curly quotes, 0x96 en dash, 0x9F Y diaeresis; the
     * five undefined bytes become U+FFFD; 0xA0 and 0xFF are Latin-1. */
    check_decode(S("\x80\x93q\x94\x96\x9F|\x81\x8D\x8F\x90\x9D|\xA0\xFF"),
                 S("\xE2\x82\xAC\xE2\x80\x9Cq\xE2\x80\x9D\xE2\x80\x93\xC5\xB8|"
                   "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD|\xC2\xA0\xC3\xBF"),
                 AH_ENC_UTF8, 12, 0, "utf-8 + windows-1252 fallback");
}

static void test_mixed_utf8_and_cp1252(void **state)
{
    (void)state;
    /* valid é, Latin-1 é, valid €, then a lead byte followed by ASCII */
    check_decode(S("\xC3\xA9\xE9\xE2\x82\xAC\xC3x"), S("\xC3\xA9\xC3\xA9\xE2\x82\xAC\xC3\x83x"), AH_ENC_UTF8, 2, 0,
                 "utf-8 + windows-1252 fallback");
}

static void test_ill_formed_utf8_goes_cp1252(void **state)
{
    (void)state;
    /* overlong C0 AF; encoded surrogate ED A0 80; F4 90 80 80 above U+10FFFF;
     * F5 never a lead; a lone continuation byte 0xBF. Each byte is taken alone. */
    check_decode(S("\xC0\xAF|\xED\xA0\x80|\xF4\x90\x80\x80|\xF5|\xBF"),
                 S("\xC3\x80\xC2\xAF|\xC3\xAD\xC2\xA0\xE2\x82\xAC|\xC3\xB4\xEF\xBF\xBD\xE2\x82\xAC\xE2\x82\xAC|"
                   "\xC3\xB5|\xC2\xBF"),
                 AH_ENC_UTF8, 11, 0, "utf-8 + windows-1252 fallback");
    /* overlong 3- and 4-byte forms */
    check_decode(S("\xE0\x80\x80\xF0\x80\x80\x80"),
                 S("\xC3\xA0\xE2\x82\xAC\xE2\x82\xAC\xC3\xB0\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC"), AH_ENC_UTF8, 7, 0,
                 "utf-8 + windows-1252 fallback");
}

static void test_truncated_sequence_at_eof(void **state)
{
    (void)state;
    /* E2 82 is the start of a euro sign that never completes. */
    check_decode(S("a\xE2\x82"), S("a\xC3\xA2\xE2\x80\x9A"), AH_ENC_UTF8, 2, 0, "utf-8 + windows-1252 fallback");
    check_decode(S("\xF0\x9F\x98"), S("\xC3\xB0\xC5\xB8\xCB\x9C"), AH_ENC_UTF8, 3, 0, "utf-8 + windows-1252 fallback");
}

/* NULs are evidence: kept, and counted. */
static void test_nul_bytes_kept_and_counted(void **state)
{
    (void)state;
    check_decode("ab\0cd\0\0e", 8, "ab\0cd\0\0e", 8, AH_ENC_UTF8, 0, 3, "utf-8");
    check_decode("\0", 1, "\0", 1, AH_ENC_UTF8, 0, 1, "utf-8");
}

static void test_empty_input(void **state)
{
    (void)state;
    check_decode("", 0, "", 0, AH_ENC_UTF8, 0, 0, "utf-8");
}

/* --- UTF-16 ------------------------------------------------------------- */

static const uint32_t sample_cps[] = {'I',    'd', ',',     'Z', 0xFC,   'r',    'i', 'c',     'h',  ' ',
                                      0x20AC, ' ', 0x1D11E, ' ', 0x4E2D, 0x6587, ' ', 0x1F600, '\r', '\n'};
static const char sample_utf8[] = "Id,Z\xC3\xBCrich \xE2\x82\xAC \xF0\x9D\x84\x9E \xE4\xB8\xAD\xE6\x96\x87 "
                                  "\xF0\x9F\x98\x80\r\n";

static void test_utf16le_bom(void **state)
{
    (void)state;
    unsigned char in[128];
    size_t n = utf16_encode(sample_cps, AH_ARRAY_LEN(sample_cps), false, true, in);
    check_decode(in, n, S(sample_utf8), AH_ENC_UTF16LE_BOM, 0, 0, "utf-16le (BOM)");
}

static void test_utf16be_bom(void **state)
{
    (void)state;
    unsigned char in[128];
    size_t n = utf16_encode(sample_cps, AH_ARRAY_LEN(sample_cps), true, true, in);
    check_decode(in, n, S(sample_utf8), AH_ENC_UTF16BE_BOM, 0, 0, "utf-16be (BOM)");
}

static void test_utf16le_without_bom(void **state)
{
    (void)state;
    /* A message-trace style header, ASCII only, no BOM. */
    const char *text = "\"origin_timestamp_utc\",\"sender_address\",\"recipient_status\"\r\n"
                       "\"2024-01-02T03:04:05.1234567Z\",\"a@contoso.com\",\"b@contoso.com##Receive\"\r\n";
    size_t tn = strlen(text);
    uint32_t cps[256];
    for (size_t i = 0; i < tn; i++)
        cps[i] = (unsigned char)text[i];
    unsigned char in[512];
    size_t n = utf16_encode(cps, tn, false, false, in);
    check_decode(in, n, text, tn, AH_ENC_UTF16LE_NOBOM, 0, 0, "utf-16le (no BOM)");
}

static void test_utf16le_nobom_needs_mostly_nul_high_bytes(void **state)
{
    (void)state;
    /* Half the units have a non-zero high byte: not taken as UTF-16. */
    const char in[] = "a\0b\0c\0d\0\xE9x\xE9x\xE9x\xE9x";
    decoded r = decode_with(in, sizeof in - 1, 0, 0, 4096);
    assert_int_equal(r.enc, AH_ENC_UTF8);
    assert_int_equal(r.nul, 4);
    free(r.data);
    /* Two units are enough to decide. */
    r = decode_with("a\0b\0", 4, 0, 0, 4096);
    assert_int_equal(r.enc, AH_ENC_UTF16LE_NOBOM);
    assert_int_equal(r.len, 2);
    assert_memory_equal(r.data, "ab", 2);
    free(r.data);
    /* One unit is not. */
    r = decode_with("a\0", 2, 0, 0, 4096);
    assert_int_equal(r.enc, AH_ENC_UTF8);
    assert_int_equal(r.len, 2); /* the NUL is kept */
    free(r.data);
}

static void test_utf16_lone_surrogates(void **state)
{
    (void)state;
    /* high+'x', lone low, U+0000 (kept, counted), valid pair, dangling high at EOF */
    const unsigned char le[] = {0xFF, 0xFE, 0x3D, 0xD8, 'x',  0,    0x00, 0xDC, 'y',
                                0,    0,    0,    0x3D, 0xD8, 0x00, 0xDE, 0x3D, 0xD8};
    check_decode(le, sizeof le, S("\xEF\xBF\xBDx\xEF\xBF\xBDy\0\xF0\x9F\x98\x80\xEF\xBF\xBD"), AH_ENC_UTF16LE_BOM, 0, 1,
                 "utf-16le (BOM)");
    /* two high surrogates in a row, then a low: the second pair is valid */
    const unsigned char be[] = {0xFE, 0xFF, 0xD8, 0x3D, 0xD8, 0x3D, 0xDE, 0x00};
    check_decode(be, sizeof be, S("\xEF\xBF\xBD\xF0\x9F\x98\x80"), AH_ENC_UTF16BE_BOM, 0, 0, "utf-16be (BOM)");
}

static void test_utf16_odd_trailing_byte(void **state)
{
    (void)state;
    const unsigned char le[] = {0xFF, 0xFE, 'o', 0, 'k', 0, 'z'};
    check_decode(le, sizeof le, S("ok\xEF\xBF\xBD"), AH_ENC_UTF16LE_BOM, 0, 0, "utf-16le (BOM)");
    const unsigned char bom_only[] = {0xFE, 0xFF};
    check_decode(bom_only, sizeof bom_only, "", 0, AH_ENC_UTF16BE_BOM, 0, 0, "utf-16be (BOM)");
}

/* --- streams longer than the internal buffers ---------------------------- */

static void test_long_mixed_stream(void **state)
{
    (void)state;
    /* ~150 KB: ASCII runs, valid multi-byte, cp1252 bytes, NULs, placed so
     * that sequences straddle the decoder's 16 KiB buffer edges. */
    size_t cap = 160 * 1024;
    unsigned char *in = malloc(cap), *expect = malloc(cap * 3);
    assert_non_null(in);
    assert_non_null(expect);
    size_t n = 0, e = 0;
    uint64_t cp = 0, nul = 0;
    for (unsigned i = 0; n + 64 < cap; i++) {
        switch (i % 5) {
        case 0: /* ASCII run of varying length */
            for (unsigned k = 0; k < i % 37 + 1; k++)
                in[n++] = expect[e++] = (unsigned char)('a' + k % 26);
            break;
        case 1:
            memcpy(in + n, "\xF0\x9F\x98\x80", 4), n += 4;
            memcpy(expect + e, "\xF0\x9F\x98\x80", 4), e += 4;
            break;
        case 2:
            in[n++] = 0xE9; /* Latin-1 é */
            memcpy(expect + e, "\xC3\xA9", 2), e += 2;
            cp++;
            break;
        case 3:
            in[n++] = expect[e++] = 0;
            nul++;
            break;
        default:
            memcpy(in + n, "\xE2\x82\xAC", 3), n += 3;
            memcpy(expect + e, "\xE2\x82\xAC", 3), e += 3;
            break;
        }
    }
    static const size_t chunks[] = {0, 1, 7, 4095, 16384, 16385};
    for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
        decoded r = decode_with(in, n, chunks[c], 0, chunks[c] ? 1000 : 65536);
        assert_false(r.error);
        assert_int_equal(r.enc, AH_ENC_UTF8);
        assert_int_equal(r.len, e);
        assert_memory_equal(r.data, expect, e);
        assert_int_equal(r.cp1252, cp);
        assert_int_equal(r.nul, nul);
        free(r.data);
    }
    free(in);
    free(expect);
}

static void test_long_utf16le_stream(void **state)
{
    (void)state;
    size_t units = 40000;
    uint32_t *cps = malloc(units * sizeof *cps);
    unsigned char *in = malloc(units * 4 + 2);
    unsigned char *expect = malloc(units * 4);
    assert_non_null(cps);
    assert_non_null(in);
    assert_non_null(expect);
    size_t e = 0;
    for (size_t i = 0; i < units; i++) {
        cps[i] = i % 11 == 0 ? 0x1F600 : i % 7 == 0 ? 0xE9 : 'A' + (uint32_t)(i % 26);
        if (cps[i] == 0x1F600)
            memcpy(expect + e, "\xF0\x9F\x98\x80", 4), e += 4;
        else if (cps[i] == 0xE9)
            memcpy(expect + e, "\xC3\xA9", 2), e += 2;
        else
            expect[e++] = (unsigned char)cps[i];
    }
    size_t n = utf16_encode(cps, units, false, true, in);
    static const size_t chunks[] = {0, 1, 3, 16383};
    for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
        decoded r = decode_with(in, n, chunks[c], 0, 777);
        assert_int_equal(r.enc, AH_ENC_UTF16LE_BOM);
        assert_int_equal(r.len, e);
        assert_memory_equal(r.data, expect, e);
        free(r.data);
    }
    free(cps);
    free(in);
    free(expect);
}

/* Strict UTF-8 check, written independently of the decoder's tables. */
static bool valid_utf8(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        uint32_t cp;
        size_t len;
        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xE0) == 0xC0)
            len = 2, cp = c & 0x1F;
        else if ((c & 0xF0) == 0xE0)
            len = 3, cp = c & 0x0F;
        else if ((c & 0xF8) == 0xF0)
            len = 4, cp = c & 0x07;
        else
            return false;
        if (i + len > n)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (p[i + k] & 0x3F);
        }
        static const uint32_t min_for_len[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min_for_len[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

/* Random bytes (biased to the interesting ranges) always give valid UTF-8
 * (NULs kept), whatever the chunking. */
static void test_random_bytes_give_valid_utf8(void **state)
{
    (void)state;
    static const unsigned char interesting[] = {0x00, 0x80, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xED, 0xEF,
                                                0xF0, 0xF4, 0xF5, 0xFF, 0xFE, 0xBB, 0xA0, 0x9F, 0x8F};
    uint32_t x = 99;
    unsigned char in[3000];
    for (int round = 0; round < 300; round++) {
        size_t n = 1 + (size_t)round * 37 % sizeof in;
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            in[i] = (x & 3) == 0 ? (unsigned char)('a' + x % 26) : interesting[(x >> 4) % sizeof interesting];
        }
        if (round % 3 == 0 && n > 2) /* some of them UTF-16 with a BOM */
            in[0] = round % 2 ? 0xFF : 0xFE, in[1] = round % 2 ? 0xFE : 0xFF;
        decoded a = decode_with(in, n, 0, 0, 65536);
        decoded b = decode_with(in, n, 1, 0, 3);
        decoded c = decode_with(in, n, 0, n / 2 + 1, 7);
        same_result(&a, &b);
        same_result(&a, &c);
        assert_true(valid_utf8(a.data, a.len));
        free(a.data);
        free(b.data);
        free(c.data);
    }
}

/* --- errors and API edges ------------------------------------------------ */

static void test_source_error_after_data(void **state)
{
    (void)state;
    const char in[] = "first line\nsecond \xC3"; /* error arrives mid-sequence */
    mem_reader m = {(const unsigned char *)in, sizeof in - 1, 0, 4, 0, sizeof in - 1};
    ah_reader src = {mem_read, &m};
    ah_decoder *d = ah_decoder_new(&src);
    char out[256];
    size_t got = 0;
    ssize_t k;
    while ((k = ah_read(ah_decoder_reader(d), out + got, sizeof out - got)) > 0)
        got += (size_t)k;
    assert_int_equal(k, -1);
    /* everything complete before the failure was delivered; the cut sequence was not */
    assert_int_equal(got, strlen("first line\nsecond "));
    assert_memory_equal(out, "first line\nsecond ", got);
    assert_int_equal(ah_read(ah_decoder_reader(d), out, sizeof out), -1); /* sticky */
    ah_decoder_free(d);
}

static ssize_t always_fail(void *ctx, char *buf, size_t n)
{
    (void)ctx;
    (void)buf;
    (void)n;
    return -1;
}

static void test_source_error_immediately(void **state)
{
    (void)state;
    ah_reader src = {always_fail, NULL};
    ah_decoder *d = ah_decoder_new(&src);
    char out[16];
    assert_int_equal(ah_read(ah_decoder_reader(d), out, sizeof out), -1);
    assert_int_equal(ah_decoder_encoding(d), AH_ENC_UTF8);
    ah_decoder_free(d);
}

static void test_describe_and_free(void **state)
{
    (void)state;
    mem_reader m = {(const unsigned char *)"\xE9", 1, 0, 0, 0, 0};
    ah_reader src = {mem_read, &m};
    ah_decoder *d = ah_decoder_new(&src);
    char out[8];
    assert_int_equal(ah_read(ah_decoder_reader(d), out, 0), 0); /* zero-size read is a no-op */
    assert_int_equal(ah_read(ah_decoder_reader(d), out, 1), 1);
    assert_int_equal((unsigned char)out[0], 0xC3);
    assert_int_equal(ah_read(ah_decoder_reader(d), out, 1), 1);
    assert_int_equal((unsigned char)out[0], 0xA9);
    assert_int_equal(ah_read(ah_decoder_reader(d), out, 1), 0);
    char small[10];
    assert_string_equal(ah_decoder_describe(d, small, sizeof small), "utf-8 + w");
    assert_string_equal(ah_decoder_describe(d, NULL, 0), "utf-8");
    ah_decoder_free(d);
    ah_decoder_free(NULL);
    assert_null(ah_decoder_new(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_utf8_untouched),
        cmocka_unit_test(test_utf8_bom_stripped),
        cmocka_unit_test(test_cp1252_latin1_e_acute),
        cmocka_unit_test(test_cp1252_c1_range),
        cmocka_unit_test(test_mixed_utf8_and_cp1252),
        cmocka_unit_test(test_ill_formed_utf8_goes_cp1252),
        cmocka_unit_test(test_truncated_sequence_at_eof),
        cmocka_unit_test(test_nul_bytes_kept_and_counted),
        cmocka_unit_test(test_empty_input),
        cmocka_unit_test(test_utf16le_bom),
        cmocka_unit_test(test_utf16be_bom),
        cmocka_unit_test(test_utf16le_without_bom),
        cmocka_unit_test(test_utf16le_nobom_needs_mostly_nul_high_bytes),
        cmocka_unit_test(test_utf16_lone_surrogates),
        cmocka_unit_test(test_utf16_odd_trailing_byte),
        cmocka_unit_test(test_long_mixed_stream),
        cmocka_unit_test(test_long_utf16le_stream),
        cmocka_unit_test(test_random_bytes_give_valid_utf8),
        cmocka_unit_test(test_source_error_after_data),
        cmocka_unit_test(test_source_error_immediately),
        cmocka_unit_test(test_describe_and_free),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
