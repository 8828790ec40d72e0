/*
 * session.c: the ingest pipeline behind ah_session.
 *
 * source -> scanner (decode, frame, detect, normalize) -> dedup, with the
 * per-stream account kept as it goes. Coverage per source is tracked as a
 * set of distinct hours with events, which stays small (one entry per hour
 * of data) whatever the input size, and turned into gap figures at the end.
 */
#include "../audithound.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../parsers/scanner.h"
#include "../../parsers/source/source.h"
#include "../../parsers/util/buf.h"
#include "../../parsers/util/hash.h"
#include "dedup.h"

#define MAX_HOURS (1u << 20) /* distinct hours tracked per source (~120 years) */

typedef struct stream_slot {
    ah_stream_report rep;
    size_t file_index;
    char *path, *entry, *container, *encoding, *failure, *format;
} stream_slot;

typedef struct hour_set {
    int64_t *slots; /* open addressing; INT64_MIN marks empty */
    size_t cap, count;
} hour_set;

typedef struct source_cov {
    uint64_t events;
    bool has_time;
    ah_time first, last;
    hour_set hours;
} source_cov;

struct ah_session {
    ah_session_options opt;
    ah_diag diag;
    ah_source *source;
    ah_scanner *scanner;
    ah_dedup *dedup;
    bool in_stream;
    stream_slot *streams;
    size_t nstreams, streams_cap;
    source_cov cov[AH_SOURCE_COUNT];
    ah_event ev;
    uint64_t missing_inputs;
    ah_buf keybuf; /* scratch for second identities */
};

void ah_session_options_init(ah_session_options *o)
{
    memset(o, 0, sizeof *o);
    o->max_record = AH_MAX_RECORD_DEFAULT;
    o->date_order = AH_DATE_ORDER_AUTO;
}

ah_session *ah_session_new(const ah_session_options *o)
{
    ah_session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->opt = *o;
    if (!s->opt.max_record)
        s->opt.max_record = AH_MAX_RECORD_DEFAULT;
    s->diag.fn = o->diag_fn;
    s->diag.ud = o->diag_ud;
    ah_scan_options so = {.max_record = s->opt.max_record, .date_order = s->opt.date_order, .strict = s->opt.strict};
    s->source = ah_source_new(&s->diag);
    s->scanner = ah_scanner_new(&so, &s->diag);
    if (s->source) {
        ah_source_set_max_input(s->source, s->opt.max_input);
        if (o->progress_fn)
            ah_source_set_progress(s->source, o->progress_fn, o->progress_ud);
    }
    s->dedup = o->keep_duplicates ? NULL : ah_dedup_new();
    ah_buf_init(&s->keybuf, 1u << 16);
    if (!s->source || !s->scanner || (!o->keep_duplicates && !s->dedup)) {
        ah_session_free(s);
        return NULL;
    }
    return s;
}

void ah_session_free(ah_session *s)
{
    if (!s)
        return;
    ah_scanner_free(s->scanner);
    ah_source_free(s->source);
    ah_dedup_free(s->dedup);
    ah_buf_free(&s->keybuf);
    for (size_t i = 0; i < s->nstreams; i++) {
        stream_slot *t = &s->streams[i];
        free(t->path);
        free(t->entry);
        free(t->container);
        free(t->encoding);
        free(t->failure);
        free(t->format);
    }
    free(s->streams);
    for (int k = 0; k < AH_SOURCE_COUNT; k++)
        free(s->cov[k].hours.slots);
    free(s);
}

ah_status ah_session_add_input(ah_session *s, const char *path)
{
    ah_status st = ah_source_add(s->source, path);
    if (st == AH_ERR_IO)
        s->missing_inputs++;
    return st;
}

static int cmp_paths(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

ah_status ah_session_add_inputs(ah_session *s, const char *const *paths, size_t n)
{
    const char **sorted = malloc((n ? n : 1) * sizeof *sorted);
    if (!sorted)
        return AH_ERR_NOMEM;
    memcpy(sorted, paths, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_paths);
    for (size_t i = 0; i < n; i++)
        ah_session_add_input(s, sorted[i]);
    free(sorted);
    return AH_OK;
}

/* --- coverage ----------------------------------------------------------- */

static bool hour_insert(hour_set *h, int64_t hour)
{
    if (h->count >= MAX_HOURS)
        return false;
    if (h->count * 10 >= h->cap * 7) {
        size_t ncap = h->cap ? h->cap * 2 : 1024;
        int64_t *ns = malloc(ncap * sizeof *ns);
        if (!ns)
            return false;
        for (size_t i = 0; i < ncap; i++)
            ns[i] = INT64_MIN;
        for (size_t i = 0; i < h->cap; i++) {
            if (h->slots[i] == INT64_MIN)
                continue;
            size_t j = ah_hash64(&h->slots[i], sizeof(int64_t), 7) & (ncap - 1);
            while (ns[j] != INT64_MIN)
                j = (j + 1) & (ncap - 1);
            ns[j] = h->slots[i];
        }
        free(h->slots);
        h->slots = ns;
        h->cap = ncap;
    }
    size_t j = ah_hash64(&hour, sizeof hour, 7) & (h->cap - 1);
    while (h->slots[j] != INT64_MIN) {
        if (h->slots[j] == hour)
            return true;
        j = (j + 1) & (h->cap - 1);
    }
    h->slots[j] = hour;
    h->count++;
    return true;
}

static int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

static void note_coverage(ah_session *s, const ah_event *ev)
{
    source_cov *c = &s->cov[ev->source];
    c->events++;
    if (!ev->has_time)
        return;
    if (!c->has_time || ah_time_cmp(ev->time, c->first) < 0)
        c->first = ev->time;
    if (!c->has_time || ah_time_cmp(ev->time, c->last) > 0)
        c->last = ev->time;
    c->has_time = true;
    hour_insert(&c->hours, floor_div(ev->time.sec, 3600));
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

ah_coverage ah_session_coverage(const ah_session *s, ah_source_kind k)
{
    ah_coverage r = {0};
    if ((unsigned)k >= AH_SOURCE_COUNT)
        return r;
    const source_cov *c = &s->cov[k];
    r.events = c->events;
    r.has_time = c->has_time;
    r.first = c->first;
    r.last = c->last;
    if (c->hours.count < 2)
        return r;
    int64_t *hours = malloc(c->hours.count * sizeof *hours);
    if (!hours)
        return r;
    size_t n = 0;
    for (size_t i = 0; i < c->hours.cap; i++)
        if (c->hours.slots[i] != INT64_MIN)
            hours[n++] = c->hours.slots[i];
    qsort(hours, n, sizeof *hours, cmp_i64);
    for (size_t i = 1; i < n; i++) {
        uint64_t empty = (uint64_t)(hours[i] - hours[i - 1] - 1);
        if (!empty)
            continue;
        r.gaps++;
        r.empty_hours += empty;
        if (empty > r.longest_gap_hours) {
            r.longest_gap_hours = empty;
            r.longest_gap_start = (hours[i - 1] + 1) * 3600;
        }
    }
    free(hours);
    return r;
}

/* --- streams ------------------------------------------------------------ */

static char *dup_or_null(const char *p)
{
    if (!p)
        return NULL;
    size_t n = strlen(p) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, p, n);
    return d;
}

static stream_slot *cur_slot(ah_session *s) { return &s->streams[s->nstreams - 1]; }

static ah_status open_slot(ah_session *s)
{
    if (s->nstreams == s->streams_cap) {
        stream_slot *ns = ah_grow_array(s->streams, &s->streams_cap, 16, sizeof *ns);
        if (!ns)
            return AH_ERR_NOMEM;
        s->streams = ns;
    }
    stream_slot *t = &s->streams[s->nstreams++];
    memset(t, 0, sizeof *t);
    return AH_OK;
}

/* Copy the scanner's account of the stream that just ended into its slot. */
static void close_slot(ah_session *s)
{
    stream_slot *t = cur_slot(s);
    const ah_stream_stats *st = ah_scanner_stats(s->scanner);
    ah_stream_report *r = &t->rep;
    t->path = dup_or_null(st->origin ? st->origin->path : "-");
    t->entry = dup_or_null(st->origin ? st->origin->entry : NULL);
    t->container = dup_or_null(st->container);
    t->encoding = dup_or_null(st->encoding[0] ? st->encoding : NULL);
    t->failure = st->failed ? dup_or_null(st->failure) : NULL;
    r->path = t->path;
    r->entry = t->entry;
    r->container = t->container;
    r->encoding = t->encoding;
    r->framing = st->framing;
    /* "a+b" when a stream mixed formats; the source only when all agree */
    char names[512] = "";
    size_t n = 0;
    r->source = st->nformats ? st->formats[0]->source : AH_SOURCE_UNKNOWN;
    for (size_t i = 0; i < st->nformats; i++) {
        int k = snprintf(names + n, sizeof names - n, "%s%s", i ? "+" : "", st->formats[i]->name);
        if (k > 0 && (size_t)k < sizeof names - n)
            n += (size_t)k;
        if (st->formats[i]->source != r->source)
            r->source = AH_SOURCE_UNKNOWN;
    }
    t->format = st->nformats ? dup_or_null(names) : NULL;
    r->format = t->format;
    r->records = st->records;
    r->errors = st->errors;
    r->failed = st->failed;
    r->failure = t->failure;
    r->truncated_hint = st->records == 5000 || st->records == 50000;
    r->ambiguous_dates = st->norm.ambiguous_dates;
    r->no_time = st->norm.no_time;
    r->unknown_zone = st->norm.unknown_zone;
    r->not_a_log = st->not_a_log;
    r->nul_chars = st->nul_chars;
    r->control_events = st->control_events;
    r->no_record = !st->failed && st->records == 0 && !st->not_a_log;
    if (r->no_record) {
        ah_where w = {r->path, r->entry, 0, 0};
        ah_diag_report(&s->diag, AH_SEV_WARNING, &w, "no record in this input (%s)",
                       r->framing ? "a header or an empty list, no record" : "empty, or only blanks and NUL bytes");
    }
    if (r->truncated_hint) {
        ah_where w = {r->path, r->entry, 0, 0};
        ah_diag_report(&s->diag, AH_SEV_WARNING, &w,
                       "exactly %llu records: the export may have been truncated at its cap",
                       (unsigned long long)r->records);
    }
}

/* The stream's time range covers every record it held, duplicates too:
 * it says what the file covers, not what survived dedup. */
static void note_stream_time(ah_session *s, const ah_event *ev)
{
    ah_stream_report *r = &cur_slot(s)->rep;
    if (ev->has_time) {
        if (!r->has_time || ah_time_cmp(ev->time, r->first) < 0)
            r->first = ev->time;
        if (!r->has_time || ah_time_cmp(ev->time, r->last) > 0)
            r->last = ev->time;
        r->has_time = true;
    }
}

/* Directory audit records have an id in every export but the portal CSV,
 * so the same change can arrive once with and once without it. Their
 * second identity is what the portal CSV keeps: the instant (to 100 ns),
 * correlation id, activity, first target and initiator. Every audit record
 * is checked under both keys, whichever export comes first. */
static bool second_identity(ah_session *s, const ah_event *ev, uint64_t out[2])
{
    if (ev->source != AH_SOURCE_ENTRA_AUDIT || !ev->has_time || !ev->field[AH_F_CORRELATION_ID].n)
        return false;
    ah_buf *b = &s->keybuf;
    ah_buf_reset(b);
    ah_buf_printf(b, "%lld.%09d", (long long)ev->time.sec, (int)ev->time.nsec);
    const ah_span parts[] = {ev->field[AH_F_CORRELATION_ID], ev->operation_canon, ev->field[AH_F_TARGET],
                             ev->field[AH_F_USER]};
    for (size_t i = 0; i < AH_ARRAY_LEN(parts); i++) {
        ah_buf_putc(b, '\x1f');
        ah_buf_append_span(b, parts[i]);
    }
    ah_hash128(b->data, b->len, 0x5ec0d1d, out);
    return true;
}

static bool is_duplicate(ah_session *s, const ah_event *ev)
{
    bool dup = !ah_dedup_insert(s->dedup, ev->digest);
    uint64_t alt[2];
    if (second_identity(s, ev, alt) && !ah_dedup_insert(s->dedup, alt))
        dup = true;
    return dup;
}

ah_status ah_session_next(ah_session *s, const ah_event **out)
{
    for (;;) {
        if (!s->in_stream) {
            ah_input *in = NULL;
            ah_status st = ah_source_next(s->source, &in);
            if (st == AH_END)
                return AH_END;
            if (st != AH_OK)
                return st;
            if ((st = open_slot(s)) != AH_OK || (st = ah_scanner_open(s->scanner, in)) != AH_OK)
                return st;
            cur_slot(s)->file_index = ah_input_file_index(in);
            s->in_stream = true;
        }
        ah_status st = ah_scanner_next(s->scanner, &s->ev);
        if (st == AH_END) {
            close_slot(s);
            s->in_stream = false;
            continue;
        }
        if (st != AH_OK)
            return st;
        note_stream_time(s, &s->ev);
        if (s->dedup && is_duplicate(s, &s->ev)) {
            cur_slot(s)->rep.duplicates++;
            continue;
        }
        cur_slot(s)->rep.events++;
        note_coverage(s, &s->ev);
        *out = &s->ev;
        return AH_OK;
    }
}

void ah_session_progress(const ah_session *s, uint64_t *done, uint64_t *total)
{
    *done = ah_source_done_bytes(s->source);
    *total = ah_source_total_bytes(s->source);
}

size_t ah_session_stream_count(const ah_session *s) { return s->nstreams - (s->in_stream ? 1 : 0); }

const ah_stream_report *ah_session_stream(const ah_session *s, size_t i) { return &s->streams[i].rep; }

size_t ah_session_file_count(const ah_session *s) { return ah_source_file_count(s->source); }

ah_file_report ah_session_file(const ah_session *s, size_t i)
{
    const ah_source_file *f = ah_source_file_at(s->source, i);
    return (ah_file_report){f->path, f->size, f->sha256, f->unreadable};
}

ah_totals ah_session_totals(const ah_session *s)
{
    ah_totals t = {0};
    for (size_t i = 0; i < ah_session_stream_count(s); i++) {
        const ah_stream_report *r = &s->streams[i].rep;
        t.records += r->records;
        t.events += r->events;
        t.duplicates += r->duplicates;
        t.errors += r->errors;
        t.no_record_streams += r->no_record;
        t.not_a_log_streams += r->not_a_log != NULL;
    }
    /* Inputs, not failures: a file counts once however many of its streams
     * failed (a truncated gzip is one input with an error, not two). */
    size_t last_counted = SIZE_MAX;
    for (size_t i = 0; i < ah_session_stream_count(s); i++) {
        const stream_slot *t_ = &s->streams[i];
        if (t_->rep.failed && t_->file_index != last_counted &&
            !ah_source_file_at(s->source, t_->file_index)->unreadable) {
            t.unreadable_inputs++;
            last_counted = t_->file_index;
        }
    }
    for (size_t i = 0; i < ah_source_file_count(s->source); i++)
        t.unreadable_inputs += ah_source_file_at(s->source, i)->unreadable;
    t.unreadable_inputs += s->missing_inputs;
    t.missing_inputs = s->missing_inputs;
    t.dedup_memory = s->dedup ? ah_dedup_memory(s->dedup) : 0;
    return t;
}

bool ah_session_nothing_read(const ah_session *s) { return ah_session_totals(s).records == 0; }

bool ah_session_partial(const ah_session *s)
{
    ah_totals t = ah_session_totals(s);
    return t.errors > 0 || t.unreadable_inputs > 0;
}
