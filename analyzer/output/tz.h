/*
 * tz.h: UTC offsets of an IANA time zone, read from its TZif file.
 *
 * For display only (the time_local column): the writer never shifts the
 * main time column. Reading the TZif data ourselves keeps the lookup
 * reentrant: the libc route (setenv("TZ") + tzset + localtime_r) changes
 * process-global state and is not thread-safe.
 *
 * Supported: TZif versions 1-4 (the 64-bit v2+ block is used when
 * present), transitions and their offsets, and the POSIX TZ footer rule
 * ("CET-1CEST,M3.5.0,M10.5.0/3"; Jn, n and Mm.w.d dates; RFC 8536 hour
 * range for transition times) for instants after the last transition, so
 * "slim" zone files work. Without a usable footer the last transition's
 * offset continues. Before the first transition the first time type
 * applies. Leap-second ("right/") files are refused.
 */
#ifndef AH_TZ_H
#define AH_TZ_H

#include "../../parsers/util/common.h"
#include "../../parsers/util/diag.h"

#define AH_TZ_MAX_FILE (256u * 1024u) /* real TZif files are under 4 KiB */

typedef struct ah_tz ah_tz;

/* True for a plausible zone name: relative, components of [A-Za-z0-9._+-]
 * not starting with '.', at most 255 bytes. Guards the path we build. */
bool ah_tz_name_valid(const char *name);

/* Load `name` (e.g. "Europe/Berlin") from dir/name; dir NULL means $TZDIR
 * or /usr/share/zoneinfo. "UTC", "Etc/UTC", "GMT" and "Z" work without
 * files. NULL on failure with *st: AH_ERR_USAGE (bad or unknown name,
 * not a TZif file), AH_ERR_NOMEM; the reason goes to diag. */
ah_tz *ah_tz_load(const char *name, const char *dir, ah_diag *diag, ah_status *st);

/* Parse TZif bytes. NULL with *st = AH_ERR_RECORD when malformed. */
ah_tz *ah_tz_parse(const void *data, size_t len, ah_status *st);

/* Offset from UTC in seconds (east positive) in effect at utc_sec. */
int32_t ah_tz_offset(const ah_tz *tz, int64_t utc_sec);

void ah_tz_free(ah_tz *tz);

#endif
