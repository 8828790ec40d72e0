/*
 * ipaddr.c: client address cells -> bare address; address and CIDR parsing.
 *
 * The cells are attacker-influenced and messy ("1.2.3.4:51234",
 * "[2001:db8::1]:443", placeholders), so everything is validated by a
 * strict parser rather than guessed at by splitting on ':'. The colon count
 * settles the port question: one colon can only be "IPv4:port" (an IPv6
 * address has at least two), so a bare IPv6 address never loses its last
 * group to a "port".
 *
 * Decisions:
 *  - IPv4 octets are 1-3 decimal digits, 0..255, and a leading zero is only
 *    allowed for "0" itself: "010" is rejected because some stacks read it
 *    as octal (8), so accepting it would silently pick one meaning.
 *  - IPv6 follows RFC 4291 §2.2: 1-4 hex digits per group, at most one "::"
 *    standing for at least one zero group, an optional dotted-quad tail in
 *    place of the last two groups, exactly 8 groups in all.
 *  - Zone ids ("fe80::1%eth0", RFC 4007): ah_ip_normalize strips the zone
 *    (the result is the address alone); ah_ip_parse and ah_cidr_parse reject
 *    them, since a zone means nothing in a log from another machine and
 *    prefix lists should not carry one.
 *  - ah_ip_normalize trims ASCII whitespace; ah_ip_parse does not. Output
 *    spans are verbatim: hex case is as written (compare parsed bytes, or
 *    fold the span, when case matters).
 *  - CIDR host bits may be set ("10.1.2.3/8"): they are masked off, since
 *    hand-written IOC lists often carry an address with its prefix length.
 *    Prefix lengths are decimal without leading zeros.
 */
#include "ipaddr.h"

#include <string.h>

enum { PORT_MAX = 65535 };

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Decimal without leading zeros, value <= max, at most max_digits digits. */
static bool parse_decimal(const char *p, size_t n, unsigned max_digits, unsigned max, unsigned *out)
{
    if (n == 0 || n > max_digits || (n > 1 && p[0] == '0'))
        return false;
    unsigned value = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(p[i]))
            return false;
        value = value * 10 + (unsigned)(p[i] - '0');
    }
    if (value > max)
        return false;
    *out = value;
    return true;
}

static bool parse_v4(const char *p, size_t n, uint8_t out[4])
{
    size_t start = 0;
    int octet = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && p[i] != '.')
            continue;
        unsigned value;
        if (octet == 4 || !parse_decimal(p + start, i - start, 3, 255, &value))
            return false;
        out[octet++] = (uint8_t)value;
        start = i + 1;
    }
    return octet == 4;
}

static bool parse_v6(const char *p, size_t n, uint8_t out[16])
{
    uint16_t groups[8];
    size_t count = 0, i = 0;
    int gap = -1; /* group index where "::" stands */

    if (n >= 2 && p[0] == ':' && p[1] == ':') {
        gap = 0;
        i = 2;
    } else if (n == 0 || p[0] == ':') {
        return false;
    }
    while (i < n) {
        size_t start = i;
        unsigned value = 0;
        while (i < n && ah_hex_digit((unsigned char)p[i]) >= 0) {
            if (i - start == 4)
                return false;
            value = value * 16 + (unsigned)ah_hex_digit((unsigned char)p[i]);
            i++;
        }
        if (i < n && p[i] == '.') {
            uint8_t v4[4];
            if (count > 6 || !parse_v4(p + start, n - start, v4))
                return false;
            groups[count++] = (uint16_t)(v4[0] << 8 | v4[1]);
            groups[count++] = (uint16_t)(v4[2] << 8 | v4[3]);
            i = n;
            break;
        }
        if (i == start || count == 8)
            return false;
        groups[count++] = (uint16_t)value;
        if (i == n)
            break;
        if (p[i] != ':')
            return false;
        i++;
        if (i < n && p[i] == ':') {
            if (gap >= 0)
                return false;
            gap = (int)count;
            i++;
        } else if (i == n) {
            return false; /* "1::2:" */
        }
    }
    if (gap >= 0 ? count > 7 : count != 8)
        return false;

    /* Expand: the groups before the gap, zeros, the groups after it. */
    size_t zeros = 8 - count, g = 0;
    memset(out, 0, 16);
    for (size_t k = 0; k < count; k++) {
        if ((int)k == gap)
            g += zeros;
        out[2 * g] = (uint8_t)(groups[k] >> 8);
        out[2 * g + 1] = (uint8_t)groups[k];
        g++;
    }
    return true;
}

static bool is_v4_mapped(const uint8_t b[16])
{
    static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return memcmp(b, prefix, sizeof prefix) == 0;
}

static bool has_char(const char *p, size_t n, char c) { return n && memchr(p, c, n) != NULL; }

bool ah_ip_parse(ah_span s, ah_ip *out)
{
    ah_ip ip;
    if (!s.p || !out)
        return false;
    memset(&ip, 0, sizeof ip);
    if (has_char(s.p, s.n, ':')) {
        if (!parse_v6(s.p, s.n, ip.bytes))
            return false;
        ip.v4 = is_v4_mapped(ip.bytes);
    } else {
        if (!parse_v4(s.p, s.n, ip.bytes + 12))
            return false;
        ip.bytes[10] = ip.bytes[11] = 0xff;
        ip.v4 = true;
    }
    *out = ip;
    return true;
}

/* A v6 address with an optional "%zone" (zone: 1+ bytes, no brackets or
 * whitespace); sets *addr_len to the length without the zone. */
static bool valid_v6_with_zone(const char *p, size_t n, size_t *addr_len)
{
    const char *pct = memchr(p, '%', n);
    size_t len = pct ? (size_t)(pct - p) : n;
    if (pct) {
        if (len + 1 == n)
            return false;
        for (size_t i = len + 1; i < n; i++)
            if (p[i] == '[' || p[i] == ']' || p[i] == ' ' || p[i] == '\t' || p[i] == '%')
                return false;
    }
    uint8_t scratch[16];
    if (!parse_v6(p, len, scratch))
        return false;
    *addr_len = len;
    return true;
}

static bool valid_port(const char *p, size_t n)
{
    unsigned port;
    return parse_decimal(p, n, 5, PORT_MAX, &port);
}

bool ah_ip_normalize(ah_span s, ah_span *out)
{
    if (!s.p || !out)
        return false;
    ah_span t = ah_span_trim(s);
    const char *p = t.p;
    size_t n = t.n;
    uint8_t v4[4];

    if (n && p[0] == '[') {
        const char *close = memchr(p, ']', n);
        if (!close)
            return false;
        size_t inner = (size_t)(close - p) - 1, after = n - inner - 2;
        const char *rest = close + 1;
        if (after && (rest[0] != ':' || !valid_port(rest + 1, after - 1)))
            return false;
        size_t addr_len;
        if (has_char(p + 1, inner, ':')) {
            if (!valid_v6_with_zone(p + 1, inner, &addr_len))
                return false;
        } else {
            if (!parse_v4(p + 1, inner, v4))
                return false;
            addr_len = inner;
        }
        *out = ah_span_make(p + 1, addr_len);
        return true;
    }

    const char *colon = n ? memchr(p, ':', n) : NULL;
    if (!colon) {
        if (!parse_v4(p, n, v4))
            return false;
        *out = ah_span_make(p, n);
        return true;
    }
    size_t head = (size_t)(colon - p);
    if (!has_char(colon + 1, n - head - 1, ':')) {
        /* exactly one colon: only "a.b.c.d:port" is an address */
        if (!parse_v4(p, head, v4) || !valid_port(colon + 1, n - head - 1))
            return false;
        *out = ah_span_make(p, head);
        return true;
    }
    size_t addr_len;
    if (!valid_v6_with_zone(p, n, &addr_len))
        return false;
    *out = ah_span_make(p, addr_len);
    return true;
}

bool ah_cidr_parse(ah_span s, ah_ip *net, unsigned *prefix_len)
{
    if (!s.p || !net || !prefix_len)
        return false;
    const char *slash = s.n ? memchr(s.p, '/', s.n) : NULL;
    size_t addr_len = slash ? (size_t)(slash - s.p) : s.n;
    ah_span addr = ah_span_make(s.p, addr_len);
    bool v6_text = has_char(addr.p, addr.n, ':');
    unsigned max = v6_text ? 128 : 32, len = max;
    ah_ip ip;

    if (!ah_ip_parse(addr, &ip))
        return false;
    if (slash && !parse_decimal(slash + 1, s.n - addr_len - 1, 3, max, &len))
        return false;
    if (!v6_text)
        len += 96;
    for (unsigned bit = len; bit < 128; bit++)
        ip.bytes[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
    if (v6_text)
        ip.v4 = is_v4_mapped(ip.bytes);
    *net = ip;
    *prefix_len = len;
    return true;
}

bool ah_ip_in_prefix(const ah_ip *ip, const ah_ip *net, unsigned prefix_len)
{
    if (!ip || !net || prefix_len > 128)
        return false;
    unsigned whole = prefix_len / 8, rest = prefix_len % 8;
    if (memcmp(ip->bytes, net->bytes, whole) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xffu << (8 - rest));
    return ((ip->bytes[whole] ^ net->bytes[whole]) & mask) == 0;
}
