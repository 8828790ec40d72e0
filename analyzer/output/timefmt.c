/*
 * timefmt.c: render instants for the timeline (see timefmt.h).
 */
#include "timefmt.h"

#include <stdio.h>

#include "../../parsers/formats/timeparse.h"

typedef struct civil_time {
    int64_t year;
    unsigned month, day, hour, minute, second;
    int32_t nsec;
} civil_time;

/* Far beyond any real timestamp, and far from int64 overflow in the
 * arithmetic below; a corrupt instant prints as a wrong date, never UB. */
#define SEC_LIMIT ((int64_t)1 << 50)

static int64_t clamp_sec(int64_t s) { return s > SEC_LIMIT ? SEC_LIMIT : s < -SEC_LIMIT ? -SEC_LIMIT : s; }

/* Normalise first, so a hostile nsec outside 0..999999999 cannot print garbage. */
static civil_time split(ah_time t)
{
    civil_time c;
    int64_t sec = clamp_sec(t.sec);
    int64_t nsec = t.nsec;
    sec += ah_floor_div(nsec, 1000000000);
    nsec -= ah_floor_div(nsec, 1000000000) * 1000000000;
    int64_t days = ah_floor_div(sec, 86400);
    int64_t rem = sec - days * 86400;
    ah_civil_from_days(days, &c.year, &c.month, &c.day);
    c.hour = (unsigned)(rem / 3600);
    c.minute = (unsigned)(rem / 60 % 60);
    c.second = (unsigned)(rem % 60);
    c.nsec = (int32_t)nsec;
    return c;
}

/* snprintf result -> length actually in the buffer */
static size_t put(int n) { return n < 0 ? 0 : (size_t)n < AH_TIMEFMT_SIZE ? (size_t)n : AH_TIMEFMT_SIZE - 1; }

size_t ah_timefmt_utc(ah_time t, char buf[AH_TIMEFMT_SIZE]) { return ah_time_format_n(t, 7, buf, AH_TIMEFMT_SIZE); }

size_t ah_timefmt_excel(ah_time t, char buf[AH_TIMEFMT_SIZE])
{
    civil_time c = split(t);
    return put(snprintf(buf, AH_TIMEFMT_SIZE, "%04lld-%02u-%02u %02u:%02u:%02u", (long long)c.year, c.month, c.day,
                        c.hour, c.minute, c.second));
}

size_t ah_timefmt_offset(ah_time t, int32_t offset_sec, char buf[AH_TIMEFMT_SIZE])
{
    ah_time local = {clamp_sec(t.sec) + offset_sec, t.nsec};
    civil_time c = split(local);
    char sign = offset_sec < 0 ? '-' : '+';
    int32_t a = offset_sec < 0 ? -offset_sec : offset_sec;
    int n =
        snprintf(buf, AH_TIMEFMT_SIZE, "%04lld-%02u-%02uT%02u:%02u:%02u.%07ld%c%02ld:%02ld", (long long)c.year, c.month,
                 c.day, c.hour, c.minute, c.second, (long)(c.nsec / 100), sign, (long)(a / 3600), (long)(a / 60 % 60));
    if (n > 0 && a % 60 && (size_t)n + 3 < AH_TIMEFMT_SIZE)
        n += snprintf(buf + n, AH_TIMEFMT_SIZE - (size_t)n, ":%02ld", (long)(a % 60));
    return put(n);
}
