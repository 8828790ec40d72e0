/*
 * timeparse.c: timestamp text -> UTC instant, and back.
 *
 * One hand-written scanner over the span (no sscanf, no locale, no
 * allocation): the first digits decide the shape (yyyy-, yyyy/, d/, d.),
 * then a shared tail parses the clock, AM/PM, fraction and zone. Anything
 * left over is an error, so a garbage cell never becomes a plausible time.
 *
 * Decisions (documented in timeparse.h's spirit, stricter where it says
 * nothing):
 *  - ISO forms take exactly 2-digit month/day/hour; culture forms take 1-2
 *    digits; minutes and seconds are always 2 digits; years exactly 4.
 *  - An ISO date alone ("2021-01-13") is midnight UTC (handy for CLI
 *    bounds); culture forms need a clock.
 *  - Seconds are optional (hh:mm) in every form.
 *  - A leap second (ss = 60) is rejected, as is 24:00: exports never write
 *    them and clamping would invent an instant.
 *  - Fractions: one or more digits; digits past the 9th are truncated.
 *  - Zones: 'Z', "+hh:mm", "+hhmm", "+hh" (hh <= 23, mm <= 59), or "UTC"
 *    (ASCII case-insensitive), optionally after spaces; at most one.
 *  - AM/PM only after slash dates, hour 1..12; 12 AM is 00, 12 PM is 12.
 *  - AUTO slash dates with both parts <= 12 are flagged ambiguous only
 *    when the parts differ ("1/1/2021" reads the same either way).
 */
#include "timeparse.h"

#include <stdio.h>
#include <string.h>

enum { YEAR_MIN = 1601, YEAR_MAX = 9999 };

typedef struct scan {
    const char *p;
    size_t n;
    size_t i;
} scan;

typedef struct fields {
    int year, month, day;
    int hour, minute, second;
    int32_t nsec;
    int32_t offset_sec; /* east of UTC */
    bool had_zone;
} fields;

static bool at_end(const scan *s) { return s->i >= s->n; }

static int peek(const scan *s) { return s->i < s->n ? (unsigned char)s->p[s->i] : -1; }

static bool is_digit(int c) { return c >= '0' && c <= '9'; }

static bool eat(scan *s, char c)
{
    if (peek(s) != (unsigned char)c)
        return false;
    s->i++;
    return true;
}

/* Read a run of min..max digits; a longer run is an error (no silent split
 * of "20211" into a year and a stray digit). max <= 4, so no overflow. */
static bool read_num(scan *s, int min, int max, int *out)
{
    int value = 0, count = 0;
    while (is_digit(peek(s))) {
        if (count == max)
            return false;
        value = value * 10 + (peek(s) - '0');
        count++;
        s->i++;
    }
    if (count < min)
        return false;
    *out = value;
    return true;
}

static size_t skip_spaces(scan *s)
{
    size_t start = s->i;
    while (peek(s) == ' ' || peek(s) == '\t')
        s->i++;
    return s->i - start;
}

/* Case-insensitive literal match; consumes it on success. */
static bool eat_word(scan *s, const char *word)
{
    size_t k = 0;
    for (; word[k]; k++)
        if (s->i + k >= s->n || ah_fold((unsigned char)s->p[s->i + k]) != (unsigned char)word[k])
            return false;
    s->i += k;
    return true;
}

bool ah_is_leap_year(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int ah_days_in_month(int64_t y, int m)
{
    static const unsigned char days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ah_is_leap_year(y))
        return 29;
    return days[m - 1];
}

/* "[.fffffffff…]": at least one digit; only the first nine count. */
static bool read_fraction(scan *s, int32_t *nsec)
{
    int32_t value = 0;
    int count = 0;
    if (!eat(s, '.'))
        return true;
    while (is_digit(peek(s))) {
        if (count < 9) {
            value = value * 10 + (peek(s) - '0');
            count++;
        }
        s->i++;
    }
    if (count == 0)
        return false;
    for (; count < 9; count++)
        value *= 10;
    *nsec = value;
    return true;
}

/* "hh:mm[:ss][.f…]"; hour_min_digits is 2 for ISO, 1 for culture forms. */
static bool read_clock(scan *s, int hour_min_digits, fields *f)
{
    if (!read_num(s, hour_min_digits, 2, &f->hour) || !eat(s, ':') || !read_num(s, 2, 2, &f->minute))
        return false;
    if (eat(s, ':') && !read_num(s, 2, 2, &f->second))
        return false;
    return read_fraction(s, &f->nsec);
}

/* Optional " AM"/"PM" after a culture clock. Returns false on a bad hour. */
static bool read_meridiem(scan *s, fields *f)
{
    size_t save = s->i;
    skip_spaces(s);
    bool am = eat_word(s, "am");
    bool pm = !am && eat_word(s, "pm");
    if (!am && !pm) {
        s->i = save;
        return true;
    }
    if (f->hour < 1 || f->hour > 12)
        return false;
    if (am)
        f->hour = f->hour == 12 ? 0 : f->hour;
    else
        f->hour = f->hour == 12 ? 12 : f->hour + 12;
    return true;
}

/* Optional zone, then the end of the input. */
static bool read_zone_and_end(scan *s, fields *f)
{
    skip_spaces(s);
    if (at_end(s))
        return true;
    int c = peek(s);
    if (c == 'Z' || c == 'z') {
        s->i++;
    } else if (c == '+' || c == '-') {
        int hh, mm = 0;
        size_t start = ++s->i;
        if (!read_num(s, 2, 4, &hh) || s->i - start == 3)
            return false;
        if (s->i - start == 4) { /* "+hhmm" */
            mm = hh % 100;
            hh /= 100;
        } else if (eat(s, ':') && !read_num(s, 2, 2, &mm)) {
            return false;
        }
        if (hh > 23 || mm > 59)
            return false;
        int32_t off = (int32_t)(hh * 3600 + mm * 60);
        f->offset_sec = c == '-' ? -off : off;
    } else if (!eat_word(s, "utc")) {
        return false;
    }
    f->had_zone = true;
    return at_end(s);
}

/* ISO "yyyy-MM-dd[(T| )HH:mm[:ss][.f…]][zone]". */
static bool parse_iso(scan *s, int year, fields *f)
{
    f->year = year;
    if (!read_num(s, 2, 2, &f->month) || !eat(s, '-') || !read_num(s, 2, 2, &f->day))
        return false;
    if (at_end(s))
        return true;
    if (!eat(s, 'T') && !eat(s, 't') && skip_spaces(s) == 0)
        return false;
    return read_clock(s, 2, f) && read_zone_and_end(s, f);
}

/* "yyyy/M/d H:mm[:ss]" (the sortable culture form). */
static bool parse_ymd_slash(scan *s, int year, fields *f)
{
    f->year = year;
    if (!read_num(s, 1, 2, &f->month) || !eat(s, '/') || !read_num(s, 1, 2, &f->day) || skip_spaces(s) == 0)
        return false;
    return read_clock(s, 1, f) && read_zone_and_end(s, f);
}

/* "a/b/yyyy h:mm[:ss] [AM|PM] [zone]": month/day order decided here. */
static bool parse_slash(scan *s, int first, ah_date_order order, fields *f, bool *ambiguous)
{
    int second;
    if (!read_num(s, 1, 2, &second) || !eat(s, '/') || !read_num(s, 4, 4, &f->year) || skip_spaces(s) == 0)
        return false;
    bool day_first = order == AH_DATE_ORDER_DMY || (order == AH_DATE_ORDER_AUTO && first > 12);
    f->month = day_first ? second : first;
    f->day = day_first ? first : second;
    *ambiguous = order == AH_DATE_ORDER_AUTO && first <= 12 && second <= 12 && first != second;
    return read_clock(s, 1, f) && read_meridiem(s, f) && read_zone_and_end(s, f);
}

/* "d.M.yyyy H:mm[:ss]": always day-first (de-DE and friends). */
static bool parse_dotted(scan *s, int first, fields *f)
{
    f->day = first;
    if (!read_num(s, 1, 2, &f->month) || !eat(s, '.') || !read_num(s, 4, 4, &f->year) || skip_spaces(s) == 0)
        return false;
    return read_clock(s, 1, f) && read_zone_and_end(s, f);
}

static bool valid(const fields *f)
{
    return f->year >= YEAR_MIN && f->year <= YEAR_MAX && f->month >= 1 && f->month <= 12 && f->day >= 1 &&
           f->day <= ah_days_in_month(f->year, f->month) && f->hour <= 23 && f->minute <= 59 && f->second <= 59;
}

ah_status ah_time_parse_str(ah_span text, ah_date_order order, ah_time_parse *out)
{
    ah_span t = ah_span_trim(text);
    scan s = {t.p, t.n, 0};
    fields f = {0};
    bool ambiguous = false;
    bool ok;
    int first;

    if (!out)
        return AH_ERR_USAGE;
    if (!t.p || !read_num(&s, 1, 4, &first))
        return AH_ERR_RECORD;
    size_t first_len = s.i;
    if (first_len == 4 && eat(&s, '-'))
        ok = parse_iso(&s, first, &f);
    else if (first_len == 4 && eat(&s, '/'))
        ok = parse_ymd_slash(&s, first, &f);
    else if (first_len <= 2 && eat(&s, '/'))
        ok = parse_slash(&s, first, order, &f, &ambiguous);
    else if (first_len <= 2 && eat(&s, '.'))
        ok = parse_dotted(&s, first, &f);
    else
        ok = false;
    if (!ok || !at_end(&s) || !valid(&f))
        return AH_ERR_RECORD;

    int64_t days = ah_days_from_civil(f.year, (unsigned)f.month, (unsigned)f.day);
    out->time.sec = days * 86400 + f.hour * 3600 + f.minute * 60 + f.second - f.offset_sec;
    out->time.nsec = f.nsec;
    out->ambiguous = ambiguous;
    out->had_zone = f.had_zone;
    return AH_OK;
}

/* Howard Hinnant's days_from_civil / civil_from_days (public domain),
 * 400-year eras so the arithmetic is exact for negative years too.
 * Defined for |y| < 2^50 (callers pass 4-digit years). */
int64_t ah_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;                          /* [0, 399] */
    int64_t mp = m > 2 ? (int64_t)m - 3 : (int64_t)m + 9; /* March = 0 */
    int64_t doy = (153 * mp + 2) / 5 + (int64_t)d - 1;    /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;  /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

void ah_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;                                      /* [0, 146096] */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
    int64_t mp = (5 * doy + 2) / 153;                                    /* [0, 11] */
    unsigned month = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = month;
    *y = yoe + era * 400 + (month <= 2);
}

/* Far beyond any real timestamp, and far from int64 overflow in the
 * arithmetic below; a corrupt instant prints as a wrong date, never UB. */
#define FORMAT_SEC_LIMIT ((int64_t)1 << 50)

size_t ah_time_format_n(ah_time t, int digits, char *buf, size_t size)
{
    if (size == 0)
        return 0;
    /* Out-of-range nanoseconds would print garbage digits: fold them in. */
    int64_t sec = t.sec > FORMAT_SEC_LIMIT ? FORMAT_SEC_LIMIT : t.sec < -FORMAT_SEC_LIMIT ? -FORMAT_SEC_LIMIT : t.sec;
    int64_t nsec = t.nsec;
    if (nsec < 0 || nsec > 999999999) {
        sec += nsec / 1000000000;
        nsec %= 1000000000;
        if (nsec < 0) {
            nsec += 1000000000;
            sec -= 1;
        }
    }
    if (digits < 0)
        digits = 0;
    if (digits > 9)
        digits = 9;

    int64_t days = sec / 86400, rem = sec % 86400;
    if (rem < 0) {
        rem += 86400;
        days -= 1;
    }
    int64_t y;
    unsigned m, d;
    ah_civil_from_days(days, &y, &m, &d);

    int len = snprintf(buf, size, "%04lld-%02u-%02uT%02d:%02d:%02d", (long long)y, m, d, (int)(rem / 3600),
                       (int)(rem / 60 % 60), (int)(rem % 60));
    if (len < 0 || (size_t)len >= size)
        return strlen(buf); /* only for absurd years; snprintf kept it bounded */
    if (digits > 0) {
        int64_t frac = nsec;
        for (int k = digits; k < 9; k++)
            frac /= 10;
        len += snprintf(buf + len, size - (size_t)len, ".%0*lld", digits, (long long)frac);
    }
    if ((size_t)len < size - 1) {
        buf[len] = 'Z';
        buf[len + 1] = '\0';
        return (size_t)len + 1;
    }
    return strlen(buf);
}

char *ah_time_format_digits(ah_time t, int digits, char *buf)
{
    ah_time_format_n(t, digits, buf, AH_TIME_FORMAT_SIZE);
    return buf;
}

char *ah_time_format(ah_time t, char *buf) { return ah_time_format_digits(t, 7, buf); }
