/*
 * ipaddr.h: client address fields -> a bare IPv4/IPv6 address.
 *
 * Inputs seen in exports: "1.2.3.4", "1.2.3.4:51234", "[2001:db8::1]:443",
 * "[2001:db8::1]", "2001:db8::1", "[1.2.3.4]", "::ffff:1.2.3.4", "", "null",
 * "<null>", "sanitized". Output is the address text with brackets and port
 * removed, IPv6 in lowercase as written (not re-compressed), or nothing.
 */
#ifndef AH_IPADDR_H
#define AH_IPADDR_H

#include "../util/common.h"

typedef struct ah_ip {
    uint8_t bytes[16]; /* IPv4 stored as IPv4-mapped IPv6 ::ffff:a.b.c.d */
    bool v4;           /* true for IPv4 (and IPv4-mapped IPv6) */
} ah_ip;

/* Strip brackets and port. Returns true and sets *out (a sub-span of s) when
 * s holds a syntactically valid address; false otherwise (placeholders,
 * empty, garbage). */
bool ah_ip_normalize(ah_span s, ah_span *out);

/* Parse a bare address (no brackets/port). */
bool ah_ip_parse(ah_span s, ah_ip *out);

/* Parse "addr/len" or a bare address (len 32 or 128). IPv4 prefixes are
 * mapped into the IPv4-mapped IPv6 space (len + 96). */
bool ah_cidr_parse(ah_span s, ah_ip *net, unsigned *prefix_len);

/* True if ip is inside net/prefix_len (both as from the parsers above). */
bool ah_ip_in_prefix(const ah_ip *ip, const ah_ip *net, unsigned prefix_len);

#endif
