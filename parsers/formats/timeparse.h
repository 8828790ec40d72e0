/*
 * timeparse.h: every timestamp form found in M365/Entra exports -> UTC.
 *
 * Accepted: ISO 8601 / RFC 3339 with 'T' or a space, 0-9 fractional digits,
 * 'Z', '+hh:mm', '-hh:mm', '+hhmm', trailing " UTC", or no zone (UTC:
 * callers use this only for documented-UTC fields); US and European
 * culture forms "M/d/yyyy h:mm[:ss] [AM|PM] [+hh:mm]", "d.M.yyyy HH:mm[:ss]",
 * "yyyy/MM/dd HH:mm:ss". Slash dates are month-first unless the order
 * says otherwise; when both day and month are <= 12 and the order is
 * AH_DATE_ORDER_AUTO the result is flagged ambiguous (still parsed MDY).
 * Dotted dates are always day-first.
 */
#ifndef AH_TIMEPARSE_H
#define AH_TIMEPARSE_H

#include "../event.h"

typedef enum ah_date_order {
    AH_DATE_ORDER_AUTO = 0, /* month first for slash dates, flag ambiguity */
    AH_DATE_ORDER_MDY,
    AH_DATE_ORDER_DMY,
} ah_date_order;

typedef struct ah_time_parse {
    ah_time time;
    bool ambiguous; /* slash date with day and month both <= 12 under AUTO */
    bool had_zone;  /* an explicit zone designator was present */
} ah_time_parse;

/* AH_OK, or AH_ERR_RECORD when s is not a timestamp. Leading/trailing
 * whitespace is ignored. Years 1601..9999. */
ah_status ah_time_parse_str(ah_span s, ah_date_order order, ah_time_parse *out);

/* The one ISO 8601 UTC formatter (the timeline's too: output/timefmt.h).
 * Format as "YYYY-MM-DDTHH:MM:SS.fffffffZ" (7 digits, the M365 precision;
 * digits beyond 100 ns are dropped, never rounded up). buf must hold
 * AH_TIME_FORMAT_SIZE bytes. Returns buf. */
#define AH_TIME_FORMAT_SIZE 32
char *ah_time_format(ah_time t, char *buf);
/* As above with `digits` fractional digits (0..9; 0 omits the point). */
char *ah_time_format_digits(ah_time t, int digits, char *buf);
/* As above into buf[size] (cut to fit, always terminated when size > 0);
 * returns the length written. Instants beyond +-2^50 s print as that bound. */
size_t ah_time_format_n(ah_time t, int digits, char *buf, size_t size);

/* Civil conversions (proleptic Gregorian, UTC). */
int64_t ah_days_from_civil(int64_t y, unsigned m, unsigned d);
void ah_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);
bool ah_is_leap_year(int64_t y);
int ah_days_in_month(int64_t y, int m); /* m 1..12 */

/* a / b rounded toward minus infinity (b != 0): days from seconds before 1970. */
static inline int64_t ah_floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

/* Compare two instants: <0, 0, >0. */
static inline int ah_time_cmp(ah_time a, ah_time b)
{
    if (a.sec != b.sec)
        return a.sec < b.sec ? -1 : 1;
    return a.nsec < b.nsec ? -1 : a.nsec > b.nsec;
}

#endif
