/*
 * tz.c: a compact TZif reader (RFC 8536) and POSIX TZ rule evaluator.
 *
 * The file is read whole (it is tiny and bounded by AH_TZ_MAX_FILE) and
 * reduced to what an offset lookup needs: ascending transition instants,
 * the offset of each, and the footer rule. Every count from the file is
 * checked against the bytes actually present before use; anything odd is
 * a clean AH_ERR_RECORD. A footer we cannot parse is ignored (the last
 * transition's offset continues), since it only matters past 2037 in the
 * common "fat" files.
 */
#include "tz.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../parsers/formats/timeparse.h"

#define MAX_OFFSET (26 * 3600) /* RFC 8536 bounds are -89999..93599 */
#define MAX_RULE_HOURS 167     /* RFC 8536 extension of POSIX transition times */

typedef enum rule_kind { RULE_JULIAN1, RULE_JULIAN0, RULE_MONTH } rule_kind;

typedef struct tz_date {
    rule_kind kind;
    int day;         /* Jn: 1..365, n: 0..365, M: weekday 0..6 (Sunday 0) */
    int month, week; /* M form: 1..12, 1..5 */
    int32_t time;    /* seconds after local midnight; may be negative */
} tz_date;

typedef struct tz_rule {
    int32_t std_off, dst_off; /* east of UTC */
    bool has_dst;
    tz_date start, end;
} tz_rule;

struct ah_tz {
    size_t ntrans;
    int64_t *trans;     /* ascending UTC instants */
    int32_t *trans_off; /* offset from each transition on */
    int32_t first_off;  /* time type 0: before the first transition */
    bool has_rule;
    tz_rule rule;
};

/* ---- POSIX TZ string ------------------------------------------------- */

static bool parse_name(const char **pp)
{
    const char *p = *pp;
    if (*p == '<') {
        const char *q = strchr(p, '>');
        if (!q || q - p < 4)
            return false;
        *pp = q + 1;
        return true;
    }
    const char *q = p;
    while ((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z'))
        q++;
    if (q - p < 3)
        return false;
    *pp = q;
    return true;
}

static bool parse_num(const char **pp, int max, int *out)
{
    const char *p = *pp;
    int v = 0;
    if (*p < '0' || *p > '9')
        return false;
    while (*p >= '0' && *p <= '9') {
        v = v * 10 + (*p++ - '0');
        if (v > max)
            return false;
    }
    *pp = p;
    *out = v;
    return true;
}

/* [+-]h[h[h]][:mm[:ss]] -> seconds */
static bool parse_hms(const char **pp, int max_hours, int32_t *out)
{
    const char *p = *pp;
    int sign = 1, h, m = 0, s = 0;
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    if (!parse_num(&p, max_hours, &h))
        return false;
    if (*p == ':') {
        p++;
        if (!parse_num(&p, 59, &m))
            return false;
        if (*p == ':') {
            p++;
            if (!parse_num(&p, 59, &s))
                return false;
        }
    }
    *pp = p;
    *out = sign * (h * 3600 + m * 60 + s);
    return true;
}

static bool parse_date(const char **pp, tz_date *d)
{
    const char *p = *pp;
    if (*p == 'J') {
        p++;
        d->kind = RULE_JULIAN1;
        if (!parse_num(&p, 365, &d->day) || d->day < 1)
            return false;
    } else if (*p == 'M') {
        p++;
        d->kind = RULE_MONTH;
        if (!parse_num(&p, 12, &d->month) || d->month < 1 || *p++ != '.' || !parse_num(&p, 5, &d->week) ||
            d->week < 1 || *p++ != '.' || !parse_num(&p, 6, &d->day))
            return false;
    } else {
        d->kind = RULE_JULIAN0;
        if (!parse_num(&p, 365, &d->day))
            return false;
    }
    d->time = 2 * 3600;
    if (*p == '/') {
        p++;
        if (!parse_hms(&p, MAX_RULE_HOURS, &d->time))
            return false;
    }
    *pp = p;
    return true;
}

/* Returns true only for a rule we can evaluate completely. */
static bool parse_rule(const char *p, tz_rule *r)
{
    int32_t off;
    memset(r, 0, sizeof *r);
    if (!parse_name(&p) || !parse_hms(&p, 24, &off))
        return false;
    r->std_off = -off; /* POSIX offsets count west */
    if (*p == '\0')
        return true;
    if (!parse_name(&p))
        return false;
    r->has_dst = true;
    r->dst_off = r->std_off + 3600;
    if (*p != ',' && *p != '\0') {
        if (!parse_hms(&p, 24, &off))
            return false;
        r->dst_off = -off;
    }
    /* No rule after a DST name: the POSIX default is implementation-defined. */
    if (*p++ != ',' || !parse_date(&p, &r->start) || *p++ != ',' || !parse_date(&p, &r->end))
        return false;
    return *p == '\0';
}

/* Days since 1970-01-01 of a rule date in year y. */
static int64_t rule_day(const tz_date *d, int64_t y)
{
    int64_t jan1 = ah_days_from_civil(y, 1, 1);
    switch (d->kind) {
    case RULE_JULIAN1: return jan1 + d->day - 1 + (ah_is_leap_year(y) && d->day >= 60);
    case RULE_JULIAN0: return jan1 + d->day;
    case RULE_MONTH: break;
    }
    int64_t first = ah_days_from_civil(y, (unsigned)d->month, 1);
    int weekday = (int)(((first % 7) + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
    int day = 1 + (d->day - weekday + 7) % 7 + (d->week - 1) * 7;
    int len = ah_days_in_month(y, d->month);
    if (day > len)
        day -= 7;
    return first + day - 1;
}

static int32_t rule_offset(const tz_rule *r, int64_t t)
{
    if (!r->has_dst)
        return r->std_off;
    int64_t y;
    unsigned m, d;
    ah_civil_from_days(ah_floor_div(t + r->std_off, 86400), &y, &m, &d);
    /* The start time is given in standard time, the end time in DST. */
    int64_t start = rule_day(&r->start, y) * 86400 + r->start.time - r->std_off;
    int64_t end = rule_day(&r->end, y) * 86400 + r->end.time - r->dst_off;
    bool dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
    return dst ? r->dst_off : r->std_off;
}

/* ---- TZif ------------------------------------------------------------ */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p) { return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4)); }

typedef struct tzif_header {
    char version;
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
} tzif_header;

static bool read_header(const unsigned char *p, size_t len, tzif_header *h)
{
    if (len < 44 || memcmp(p, "TZif", 4) != 0)
        return false;
    h->version = (char)p[4];
    h->isutcnt = be32(p + 20);
    h->isstdcnt = be32(p + 24);
    h->leapcnt = be32(p + 28);
    h->timecnt = be32(p + 32);
    h->typecnt = be32(p + 36);
    h->charcnt = be32(p + 40);
    return true;
}

/* Size of the data block after a header, or SIZE_MAX when the counts
 * exceed the `avail` bytes that follow. */
static size_t block_size(const tzif_header *h, size_t time_size, size_t avail)
{
    /* Each count is at most avail, so the sum cannot overflow size_t. */
    if (h->timecnt > avail || h->typecnt > avail || h->charcnt > avail || h->leapcnt > avail || h->isstdcnt > avail ||
        h->isutcnt > avail)
        return SIZE_MAX;
    size_t n = (size_t)h->timecnt * (time_size + 1) + (size_t)h->typecnt * 6 + h->charcnt +
               (size_t)h->leapcnt * (time_size + 4) + h->isstdcnt + h->isutcnt;
    return n <= avail ? n : SIZE_MAX;
}

ah_tz *ah_tz_parse(const void *data, size_t len, ah_status *st)
{
    const unsigned char *p = data;
    ah_tz *tz = NULL;
    ah_status status = AH_ERR_RECORD;
    tzif_header h;
    if (!p || !read_header(p, len, &h))
        goto out;
    size_t pos = 44, time_size = 4;
    size_t n = block_size(&h, 4, len - pos);
    if (n == SIZE_MAX)
        goto out;
    if (h.version >= '2') {
        pos += n;
        if (!read_header(p + pos, len - pos, &h))
            goto out;
        pos += 44;
        time_size = 8;
        n = block_size(&h, 8, len - pos);
    }
    if (n == SIZE_MAX || h.typecnt == 0 || h.typecnt > 256 || h.leapcnt != 0)
        goto out;
    const unsigned char *times = p + pos;
    const unsigned char *idx = times + (size_t)h.timecnt * time_size;
    const unsigned char *types = idx + h.timecnt;
    tz = calloc(1, sizeof *tz);
    if (!tz) {
        status = AH_ERR_NOMEM;
        goto out;
    }
    int32_t offs[256];
    for (uint32_t i = 0; i < h.typecnt; i++) {
        int32_t off = (int32_t)be32(types + 6 * i);
        if (off <= -MAX_OFFSET || off >= MAX_OFFSET)
            goto out;
        offs[i] = off;
    }
    tz->first_off = offs[0];
    tz->ntrans = h.timecnt;
    if (h.timecnt) {
        tz->trans = malloc(h.timecnt * sizeof *tz->trans);
        tz->trans_off = malloc(h.timecnt * sizeof *tz->trans_off);
        if (!tz->trans || !tz->trans_off) {
            status = AH_ERR_NOMEM;
            goto out;
        }
    }
    for (uint32_t i = 0; i < h.timecnt; i++) {
        tz->trans[i] = time_size == 8 ? be64(times + 8 * i) : (int64_t)(int32_t)be32(times + 4 * i);
        if (idx[i] >= h.typecnt || (i > 0 && tz->trans[i] <= tz->trans[i - 1]))
            goto out;
        tz->trans_off[i] = offs[idx[i]];
    }
    pos += n;
    /* v2+ footer: "\n" TZ-string "\n". Optional in practice; ignored if unusable. */
    if (time_size == 8 && pos < len && p[pos] == '\n') {
        const unsigned char *nl = memchr(p + pos + 1, '\n', len - pos - 1);
        size_t flen = nl ? (size_t)(nl - (p + pos + 1)) : 0;
        char footer[128];
        if (nl && flen > 0 && flen < sizeof footer && !memchr(p + pos + 1, '\0', flen)) {
            memcpy(footer, p + pos + 1, flen);
            footer[flen] = '\0';
            tz->has_rule = parse_rule(footer, &tz->rule);
        }
    }
    status = AH_OK;
out:
    if (status != AH_OK) {
        ah_tz_free(tz);
        tz = NULL;
    }
    if (st)
        *st = status;
    return tz;
}

int32_t ah_tz_offset(const ah_tz *tz, int64_t t)
{
    if (!tz)
        return 0;
    if (tz->ntrans == 0)
        return tz->has_rule ? rule_offset(&tz->rule, t) : tz->first_off;
    if (t < tz->trans[0])
        return tz->first_off;
    if (t >= tz->trans[tz->ntrans - 1])
        return tz->has_rule ? rule_offset(&tz->rule, t) : tz->trans_off[tz->ntrans - 1];
    size_t lo = 0, hi = tz->ntrans - 1; /* trans[lo] <= t < trans[hi] */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->trans[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return tz->trans_off[lo];
}

void ah_tz_free(ah_tz *tz)
{
    if (!tz)
        return;
    free(tz->trans);
    free(tz->trans_off);
    free(tz);
}

bool ah_tz_name_valid(const char *name)
{
    if (!name || !*name || strlen(name) > 255 || name[0] == '/')
        return false;
    bool at_start = true;
    for (const char *p = name; *p; p++) {
        char c = *p;
        if (c == '/') {
            if (at_start)
                return false; /* empty component */
            at_start = true;
            continue;
        }
        if (at_start && c == '.')
            return false; /* ".", ".." and hidden names */
        at_start = false;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
              c == '+' || c == '.'))
            return false;
    }
    return !at_start;
}

static bool is_builtin_utc(const char *name)
{
    return strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0 || strcmp(name, "GMT") == 0 ||
           strcmp(name, "Z") == 0;
}

ah_tz *ah_tz_load(const char *name, const char *dir, ah_diag *diag, ah_status *st)
{
    ah_tz *tz = NULL;
    ah_status status = AH_ERR_USAGE;
    char *path = NULL;
    unsigned char *data = NULL;
    int fd = -1;
    if (!ah_tz_name_valid(name)) {
        ah_diag_report(diag, AH_SEV_ERROR, NULL, "invalid time zone name \"%s\"", name ? name : "");
        goto out;
    }
    if (!dir) {
        dir = getenv("TZDIR");
        if (!dir || !*dir)
            dir = "/usr/share/zoneinfo";
    }
    size_t n = strlen(dir) + 1 + strlen(name) + 1;
    path = malloc(n);
    data = malloc(AH_TZ_MAX_FILE);
    if (!path || !data) {
        status = AH_ERR_NOMEM;
        goto out;
    }
    snprintf(path, n, "%s/%s", dir, name);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (is_builtin_utc(name)) {
            tz = calloc(1, sizeof *tz);
            status = tz ? AH_OK : AH_ERR_NOMEM;
            goto out;
        }
        ah_diag_report(diag, AH_SEV_ERROR, NULL, "unknown time zone \"%s\" (%s: %s)", name, path, strerror(errno));
        goto out;
    }
    size_t len = 0;
    for (;;) {
        ssize_t k = read(fd, data + len, AH_TZ_MAX_FILE - len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            ah_diag_report(diag, AH_SEV_ERROR, NULL, "cannot read time zone file %s: %s", path, strerror(errno));
            goto out;
        }
        if (k == 0)
            break;
        len += (size_t)k;
        if (len == AH_TZ_MAX_FILE) {
            ah_diag_report(diag, AH_SEV_ERROR, NULL, "time zone file %s is too large", path);
            goto out;
        }
    }
    tz = ah_tz_parse(data, len, &status);
    if (status == AH_ERR_RECORD) {
        status = AH_ERR_USAGE;
        ah_diag_report(diag, AH_SEV_ERROR, NULL, "%s is not a usable TZif time zone file", path);
    }
out:
    if (fd >= 0)
        close(fd);
    free(data);
    free(path);
    if (st)
        *st = status;
    return tz;
}
