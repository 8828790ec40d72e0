/*
 * session.c: the ingest pipeline behind ah_session.
 *
 * source -> scanner (decode, frame, detect, normalize) -> dedup, with the
 * per-stream account kept as it goes. Coverage per source is tracked as a
 * set of distinct hours with events, which stays small (one entry per hour
 * of data, at most MAX_HOURS per source) whatever the input size, and
 * turned into gap figures at the end.
 *
 * Deduplication within a budget (docs/internals.md "Duplicates"). An event
 * is a duplicate iff an earlier one, in position order P = (stream ordinal,
 * record number), had one of its keys. While the set of keys fits its
 * budget that is decided at once (PHASE_MEMORY). At the first event that
 * does not fit (P0) delivery stops: the set is written out sorted as keys
 * at position 0, and the rest of the inputs is read for its keys only
 * (PHASE_KEYS, diagnostics muted), (key, P) sorted to disk. A merge by key
 * yields the late duplicates L (every P of a key after its first), sorted
 * by P. Then the inputs are read again from the start with every account
 * reset: before P0 the set decides as in the first pass and nothing is
 * delivered or reported a second time (PHASE_REPLAY); from P0 on, an event
 * is a duplicate iff its P is in L, walked in step (PHASE_LATE).
 *
 * Size: the ingest account (streams, files, coverage) and deduplication
 * within a budget (its four phases) work on the same positions and must
 * stay in step; the account-only session of the merge reuses them.
 */
#include "../audithound.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../parsers/scanner.h"
#include "../../parsers/source/source.h"
#include "../../parsers/util/buf.h"
#include "../../parsers/util/hash.h"
#include "dedup.h"
#include "keysort.h"

#define MAX_HOURS (1u << 20) /* distinct hours tracked per source (~120 years) */

/* A position: stream ordinal (the source hands out at most 2^20 leaf
 * streams) above a 44-bit record number; 0 sorts before every record. */
#define POS_RECORD_BITS 44

typedef enum dedup_phase { PHASE_MEMORY, PHASE_KEYS, PHASE_REPLAY, PHASE_LATE } dedup_phase;

typedef struct stream_slot {
    ah_stream_report rep;
    size_t file_index;
    char *path, *entry, *container, *encoding, *failure, *format;
    char *not_a_log; /* an account's own copy (a read stream's is the scanner's static text) */
} stream_slot;

typedef struct hour_set {
    int64_t *slots; /* open addressing; INT64_MIN marks empty */
    size_t cap, count;
    bool lost; /* an hour could not be added for want of memory */
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
    /* deduplication past its budget (see the top of this file) */
    size_t dedup_budget;
    ah_diag spill_diag; /* temporary-file errors: never muted */
    dedup_phase phase;
    bool rereadable; /* no input is standard input or a pipe */
    bool budget_warned;
    bool checked_inputs; /* the second pass compared the inputs with the first */
    bool dedup_failed;   /* temporary files failed, or the inputs changed between the reads */
    uint64_t p0;
    ah_keysort *keys; /* (key, P) from P0 on, first pass */
    ah_keysort *late; /* the late duplicates, second pass */
    bool late_valid;
    uint64_t late_pos;       /* the next late duplicate at or after the current P */
    ah_source *first_source; /* the first pass's: events delivered then point at its origins */
    char **paths;            /* inputs as added, to read them again */
    size_t npaths, paths_cap;
    uint32_t passes;
    uint64_t runs;
    size_t dedup_peak;
    bool nomem;   /* an allocation failed where no status could be returned: the run stops */
    bool account; /* ah_session_new_account: files below, nothing read */
    ah_file_report *files;
    size_t nfiles, files_cap;
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
    s->diag.temp_fn = o->temp_fn;
    s->diag.temp_ud = o->temp_ud;
    ah_scan_options so = {.max_record = s->opt.max_record, .date_order = s->opt.date_order, .strict = s->opt.strict};
    s->source = ah_source_new(&s->diag);
    s->scanner = ah_scanner_new(&so, &s->diag);
    if (s->source) {
        ah_source_set_max_input(s->source, s->opt.max_input);
        if (o->progress_fn)
            ah_source_set_progress(s->source, o->progress_fn, o->progress_ud);
    }
    s->dedup_budget = o->dedup_memory ? o->dedup_memory : AH_SESSION_DEDUP_MEMORY;
    if (s->dedup_budget < AH_DEDUP_MIN_LIMIT)
        s->dedup_budget = AH_DEDUP_MIN_LIMIT;
    s->spill_diag = s->diag;
    s->rereadable = true;
    s->passes = 1;
    s->dedup = o->keep_duplicates ? NULL : ah_dedup_new_limited(s->dedup_budget);
    ah_buf_init(&s->keybuf, 1u << 16);
    if (!s->source || !s->scanner || (!o->keep_duplicates && !s->dedup)) {
        ah_session_free(s);
        return NULL;
    }
    return s;
}

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

static void free_slots(ah_session *s)
{
    for (size_t i = 0; i < s->nstreams; i++) {
        stream_slot *t = &s->streams[i];
        free(t->path);
        free(t->entry);
        free(t->container);
        free(t->encoding);
        free(t->failure);
        free(t->format);
        free(t->not_a_log);
    }
    s->nstreams = 0;
}

static void free_coverage(ah_session *s)
{
    for (int k = 0; k < AH_SOURCE_COUNT; k++)
        free(s->cov[k].hours.slots);
    memset(s->cov, 0, sizeof s->cov);
}

void ah_session_free(ah_session *s)
{
    if (!s)
        return;
    ah_scanner_free(s->scanner);
    ah_source_free(s->source);
    ah_source_free(s->first_source);
    ah_dedup_free(s->dedup);
    ah_keysort_free(s->keys);
    ah_keysort_free(s->late);
    ah_buf_free(&s->keybuf);
    free_slots(s);
    free(s->streams);
    free_coverage(s);
    for (size_t i = 0; i < s->npaths; i++)
        free(s->paths[i]);
    free(s->paths);
    for (size_t i = 0; i < s->nfiles; i++) {
        free((char *)s->files[i].path);
        free((char *)s->files[i].sha256);
    }
    free(s->files);
    free(s);
}

/* Standard input and pipes cannot be read a second time. */
static bool rereadable(const char *path)
{
    struct stat st;
    if (strcmp(path, "-") == 0)
        return false;
    return stat(path, &st) != 0 || S_ISREG(st.st_mode) || S_ISDIR(st.st_mode);
}

ah_status ah_session_add_input(ah_session *s, const char *path)
{
    if (s->npaths == s->paths_cap) {
        char **np = ah_grow_array(s->paths, &s->paths_cap, 8, sizeof *np);
        if (!np)
            return AH_ERR_NOMEM;
        s->paths = np;
    }
    if (!(s->paths[s->npaths] = dup_or_null(path)))
        return AH_ERR_NOMEM;
    s->npaths++;
    if (s->rereadable && !rereadable(path)) {
        s->rereadable = false;
        ah_dedup_unlimit(s->dedup);
    }
    ah_status st = ah_source_add(s->source, path);
    if (st == AH_ERR_IO)
        s->missing_inputs++;
    return st;
}

int ah_path_order(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    unsigned char x = (unsigned char)*a, y = (unsigned char)*b;
    if (x == y)
        return 0;
    /* '/' ends a name: "a/b" comes before "a-b", as a walk of a's directory reads a before a-b */
    if (x == '/' || y == '/')
        return x == '/' ? (y ? -1 : 1) : (x ? 1 : -1);
    return x < y ? -1 : 1;
}

static int cmp_paths(const void *a, const void *b)
{
    return ah_path_order(*(const char *const *)a, *(const char *const *)b);
}

ah_status ah_session_add_inputs(ah_session *s, const char *const *paths, size_t n)
{
    const char **sorted = malloc((n ? n : 1) * sizeof *sorted);
    if (!sorted)
        return AH_ERR_NOMEM;
    memcpy(sorted, paths, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_paths);
    ah_status st = AH_OK;
    for (size_t i = 0; i < n && st != AH_ERR_NOMEM; i++)
        st = ah_session_add_input(s, sorted[i]);
    free(sorted);
    return st == AH_ERR_NOMEM ? st : AH_OK;
}

/* --- coverage ----------------------------------------------------------- */

static bool hour_insert(hour_set *h, int64_t hour)
{
    if (h->count >= MAX_HOURS)
        return false;
    if (h->count * 10 >= h->cap * 7) {
        size_t ncap = h->cap ? h->cap * 2 : 1024;
        int64_t *ns = malloc(ncap * sizeof *ns);
        if (!ns) {
            h->lost = true; /* the gaps are not known (ah_coverage.gaps_unknown) */
            return false;
        }
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

static void note_coverage_of(ah_session *s, ah_source_kind source, bool has_time, ah_time time)
{
    source_cov *c = &s->cov[source];
    c->events++;
    if (!has_time)
        return;
    if (!c->has_time || ah_time_cmp(time, c->first) < 0)
        c->first = time;
    if (!c->has_time || ah_time_cmp(time, c->last) > 0)
        c->last = time;
    c->has_time = true;
    hour_insert(&c->hours, floor_div(time.sec, 3600));
}

static void note_coverage(ah_session *s, const ah_event *ev)
{
    note_coverage_of(s, ev->source, ev->has_time, ev->time);
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
    r.gaps_unknown = c->hours.lost;
    if (c->hours.count < 2)
        return r;
    int64_t *hours = malloc(c->hours.count * sizeof *hours);
    if (!hours) {
        r.gaps_unknown = true;
        return r;
    }
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

/* Copy the scanner's account of the stream that just ended into its slot.
 * AH_ERR_NOMEM when a name could not be copied (the report would lose it). */
static ah_status close_slot(ah_session *s)
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
    if (!t->path || (st->origin && st->origin->entry && !t->entry) || !t->container ||
        (st->encoding[0] && !t->encoding) || (st->failed && !t->failure) || (st->nformats && !t->format))
        return AH_ERR_NOMEM;
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
    return AH_OK;
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
    ah_status st = ah_buf_printf(b, "%lld.%09d", (long long)ev->time.sec, (int)ev->time.nsec);
    const ah_span parts[] = {ev->field[AH_F_CORRELATION_ID], ev->operation_canon, ev->field[AH_F_TARGET],
                             ev->field[AH_F_USER]};
    for (size_t i = 0; i < AH_ARRAY_LEN(parts) && st == AH_OK; i++)
        if ((st = ah_buf_putc(b, '\x1f')) == AH_OK)
            st = ah_buf_append_span(b, parts[i]);
    if (st != AH_OK) { /* a cut key would make different changes duplicates: no second identity */
        s->nomem = st == AH_ERR_NOMEM;
        return false;
    }
    ah_hash128(b->data, b->len, 0x5ec0d1d, out);
    return true;
}

/* The event's keys: its digest, and the second identity when it has one. */
static size_t event_keys(ah_session *s, const ah_event *ev, uint64_t keys[2][2])
{
    keys[0][0] = ev->digest[0];
    keys[0][1] = ev->digest[1];
    return second_identity(s, ev, keys[1]) ? 2 : 1;
}

static bool insert_keys(ah_session *s, uint64_t keys[2][2], size_t n)
{
    bool dup = false;
    for (size_t i = 0; i < n; i++)
        if (!ah_dedup_insert(s->dedup, keys[i]))
            dup = true;
    return dup;
}

static void note_dedup_peak(ah_session *s, size_t bytes)
{
    if (bytes > s->dedup_peak)
        s->dedup_peak = bytes;
}

static uint64_t position(const ah_session *s, const ah_event *ev)
{
    return ((uint64_t)(s->nstreams - 1) << POS_RECORD_BITS) | (ev->record_no & ((1ull << POS_RECORD_BITS) - 1));
}

static ah_status add_keys(ah_session *s, uint64_t keys[2][2], size_t n, uint64_t pos)
{
    for (size_t i = 0; i < n; i++) {
        ah_keypos e = {keys[i][0], keys[i][1], pos};
        ah_status st = ah_keysort_add(s->keys, &e);
        if (st != AH_OK)
            return st;
    }
    return AH_OK;
}

static void mute(ah_session *s, bool on) { s->diag.fn = on ? NULL : s->opt.diag_fn; }

/* P0 does not fit: stop delivering, write the set out sorted (keys at
 * position 0: before every record), and go on reading keys only. */
static ah_status start_spill(ah_session *s, uint64_t pos)
{
    s->p0 = pos;
    s->passes = 2;
    mute(s, true);
    if (!(s->keys = ah_keysort_new(s->dedup_budget, s->opt.tmpdir, &s->spill_diag)))
        return AH_ERR_NOMEM;
    note_dedup_peak(s, ah_dedup_memory(s->dedup));
    const uint64_t *sorted;
    size_t n = ah_dedup_sorted(s->dedup, &sorted);
    ah_status st = ah_keysort_add_sorted(s->keys, sorted, n, 0);
    ah_dedup_free(s->dedup);
    s->dedup = NULL;
    s->phase = PHASE_KEYS;
    return st;
}

/* The first pass is over: merge the keys into the late duplicates, then
 * start reading the inputs again. */
static ah_status start_second_pass(ah_session *s)
{
    ah_status st = ah_keysort_finish(s->keys);
    if (st != AH_OK)
        return st;
    if (!(s->late = ah_keysort_new(s->dedup_budget, s->opt.tmpdir, &s->spill_diag)))
        return AH_ERR_NOMEM;
    ah_keypos e, first = {0, 0, 0};
    bool have = false;
    while ((st = ah_keysort_next(s->keys, &e)) == AH_OK) {
        if (have && e.k0 == first.k0 && e.k1 == first.k1) {
            ah_keypos late = {0, 0, e.pos};
            if ((st = ah_keysort_add(s->late, &late)) != AH_OK)
                return st;
        } else {
            first = e;
            have = true;
        }
    }
    if (st != AH_END || (st = ah_keysort_finish(s->late)) != AH_OK)
        return st;
    note_dedup_peak(s, ah_keysort_peak(s->keys));
    s->runs += ah_keysort_runs(s->keys);
    ah_keysort_free(s->keys);
    s->keys = NULL;

    /* Every account is kept again from the start; the first source stays
     * alive for the origins of the events already delivered. */
    s->first_source = s->source;
    if (!(s->source = ah_source_new(&s->diag)))
        return AH_ERR_NOMEM;
    ah_source_set_max_input(s->source, s->opt.max_input);
    if (s->opt.progress_fn)
        ah_source_set_progress(s->source, s->opt.progress_fn, s->opt.progress_ud);
    free_slots(s);
    free_coverage(s);
    s->missing_inputs = 0;
    for (size_t i = 0; i < s->npaths; i++)
        if (ah_source_add(s->source, s->paths[i]) == AH_ERR_IO)
            s->missing_inputs++;
    if (!(s->dedup = ah_dedup_new_limited(s->dedup_budget)))
        return AH_ERR_NOMEM;
    s->phase = PHASE_REPLAY;
    return AH_OK;
}

/* P0 again: the set has decided everything before it; L decides the rest. */
static ah_status start_late(ah_session *s)
{
    note_dedup_peak(s, ah_dedup_memory(s->dedup));
    ah_dedup_free(s->dedup);
    s->dedup = NULL;
    mute(s, false);
    s->phase = PHASE_LATE;
    ah_keypos e;
    ah_status st = ah_keysort_next(s->late, &e);
    s->late_valid = st == AH_OK;
    s->late_pos = e.pos;
    return st == AH_END ? AH_OK : st;
}

static ah_status is_late(ah_session *s, uint64_t pos, bool *dup)
{
    ah_keypos e;
    while (s->late_valid && s->late_pos < pos) {
        ah_status st = ah_keysort_next(s->late, &e);
        if (st != AH_OK && st != AH_END)
            return st;
        s->late_valid = st == AH_OK;
        s->late_pos = e.pos;
    }
    *dup =
        s->late_valid && s->late_pos == pos; /* an event with two late keys is there twice: the walk collapses them */
    return AH_OK;
}

/* A second read is only as good as the inputs are stable: say so if they
 * changed (a file still being written). */
static void check_inputs_unchanged(ah_session *s)
{
    s->checked_inputs = true;
    size_t n = ah_source_file_count(s->source);
    bool same = n == ah_source_file_count(s->first_source);
    for (size_t i = 0; same && i < n; i++) {
        const ah_source_file *a = ah_source_file_at(s->first_source, i), *b = ah_source_file_at(s->source, i);
        same = strcmp(a->path, b->path) == 0 && strcmp(a->sha256, b->sha256) == 0 && a->size == b->size;
    }
    s->dedup_failed |= !same;
    if (!same)
        ah_diag_report(&s->diag, AH_SEV_ERROR, NULL,
                       "the inputs changed between the two reads that deduplication past --memory needs: "
                       "duplicates and counts may be wrong");
    note_dedup_peak(s, ah_keysort_peak(s->late));
    s->runs += ah_keysort_runs(s->late);
    ah_keysort_free(s->late);
    s->late = NULL;
}

/* Decide whether the event is a duplicate, in whichever phase. Returns
 * AH_OK with *dup set; *skip when the event is not to be counted (keys only). */
static ah_status dedup_event(ah_session *s, const ah_event *ev, bool *dup, bool *skip)
{
    uint64_t keys[2][2];
    size_t nkeys = event_keys(s, ev, keys);
    uint64_t pos = position(s, ev);
    ah_status st;
    *dup = *skip = false;
    if (s->phase == PHASE_MEMORY && s->rereadable) {
        size_t fresh = 0;
        for (size_t i = 0; i < nkeys; i++)
            fresh += !ah_dedup_contains(s->dedup, keys[i]);
        if (fresh > ah_dedup_room(s->dedup) && (st = start_spill(s, pos)) != AH_OK)
            return st;
    }
    if (s->phase == PHASE_REPLAY && pos >= s->p0 && (st = start_late(s)) != AH_OK)
        return st;
    switch (s->phase) {
    case PHASE_KEYS: *skip = true; return add_keys(s, keys, nkeys, pos);
    case PHASE_LATE: return is_late(s, pos, dup);
    case PHASE_MEMORY:
    case PHASE_REPLAY:
        *dup = insert_keys(s, keys, nkeys);
        if (!s->rereadable && !s->budget_warned && ah_dedup_memory(s->dedup) > s->dedup_budget) {
            s->budget_warned = true;
            ah_diag_report(&s->diag, AH_SEV_WARNING, NULL,
                           "standard input: the duplicate set passed its share of --memory (%zu KiB); it stays in "
                           "memory and grows, since standard input or a pipe cannot be read twice",
                           s->dedup_budget >> 10);
        }
        return AH_OK;
    }
    return AH_OK;
}

static void tell_identity(ah_session *s, const ah_event *ev, bool dup)
{
    ah_session_identity id = {.stream = s->nstreams - 1,
                              .record_no = ev->record_no,
                              .source = ev->source,
                              .has_time = ev->has_time,
                              .time = ev->time,
                              .duplicate = dup};
    id.nkeys = event_keys(s, ev, id.keys);
    s->opt.identity_fn(s->opt.identity_ud, &id);
}

ah_status ah_session_next(ah_session *s, const ah_event **out)
{
    for (;;) {
        if (!s->in_stream) {
            ah_input *in = NULL;
            ah_status st = ah_source_next(s->source, &in);
            if (st == AH_END && s->phase == PHASE_KEYS) {
                if ((st = start_second_pass(s)) != AH_OK) {
                    s->dedup_failed = true;
                    return st;
                }
                continue;
            }
            if (st == AH_END && s->first_source && !s->checked_inputs)
                check_inputs_unchanged(s);
            if (st == AH_END)
                return AH_END;
            if (st != AH_OK)
                return st;
            if ((st = open_slot(s)) != AH_OK || (st = ah_scanner_open(s->scanner, in)) != AH_OK)
                return st;
            cur_slot(s)->file_index = ah_input_file_index(in);
            cur_slot(s)->rep.member_order = ah_input_member_order(in);
            s->in_stream = true;
        }
        ah_status st = ah_scanner_next(s->scanner, &s->ev);
        if (st == AH_END) {
            if ((st = close_slot(s)) != AH_OK)
                return st;
            s->in_stream = false;
            continue;
        }
        if (st != AH_OK)
            return st;
        note_stream_time(s, &s->ev);
        bool dup = false;
        if (!s->opt.keep_duplicates) {
            bool skip;
            if ((st = dedup_event(s, &s->ev, &dup, &skip)) != AH_OK) {
                s->dedup_failed = true;
                return st;
            }
            if (s->nomem) /* a second identity cut short */
                return AH_ERR_NOMEM;
            if (skip)
                continue;
        }
        if (s->opt.identity_fn && s->phase != PHASE_REPLAY)
            tell_identity(s, &s->ev, dup);
        if (dup) {
            cur_slot(s)->rep.duplicates++;
            continue;
        }
        cur_slot(s)->rep.events++;
        note_coverage(s, &s->ev);
        if (s->phase == PHASE_REPLAY)
            continue; /* delivered in the first pass */
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

size_t ah_session_file_count(const ah_session *s) { return s->account ? s->nfiles : ah_source_file_count(s->source); }

ah_file_report ah_session_file(const ah_session *s, size_t i)
{
    if (s->account)
        return s->files[i];
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
        if (t_->rep.failed && t_->file_index != last_counted && !ah_session_file(s, t_->file_index).unreadable) {
            t.unreadable_inputs++;
            last_counted = t_->file_index;
        }
    }
    for (size_t i = 0; i < ah_session_file_count(s); i++)
        t.unreadable_inputs += ah_session_file(s, i).unreadable;
    t.unreadable_inputs += s->missing_inputs;
    t.missing_inputs = s->missing_inputs;
    size_t held = s->dedup ? ah_dedup_memory(s->dedup) : 0;
    t.dedup_memory = held > s->dedup_peak ? held : s->dedup_peak;
    t.dedup_passes = s->passes;
    t.dedup_runs = s->runs + ah_keysort_runs(s->keys) + ah_keysort_runs(s->late);
    return t;
}

bool ah_session_nothing_read(const ah_session *s) { return ah_session_totals(s).records == 0; }

bool ah_session_partial(const ah_session *s)
{
    ah_totals t = ah_session_totals(s);
    return t.errors > 0 || t.unreadable_inputs > 0 || s->dedup_failed;
}

/* --- an account given, not read ------------------------------------------- */

ah_session *ah_session_new_account(const ah_session_options *o)
{
    ah_session_options ko = *o;
    ko.keep_duplicates = true; /* the given account says what is a duplicate */
    ah_session *s = ah_session_new(&ko);
    if (s)
        s->account = true;
    return s;
}

ah_status ah_session_account_file(ah_session *s, const ah_file_report *f)
{
    if (s->nfiles == s->files_cap) {
        ah_file_report *nf = ah_grow_array(s->files, &s->files_cap, 16, sizeof *nf);
        if (!nf)
            return AH_ERR_NOMEM;
        s->files = nf;
    }
    ah_file_report c = *f;
    c.path = dup_or_null(f->path);
    c.sha256 = dup_or_null(f->sha256 ? f->sha256 : "");
    if (!c.path || !c.sha256) {
        free((char *)c.path);
        free((char *)c.sha256);
        return AH_ERR_NOMEM;
    }
    s->files[s->nfiles++] = c;
    return AH_OK;
}

ah_status ah_session_account_stream(ah_session *s, const ah_stream_report *r, size_t file_index)
{
    ah_status st = open_slot(s);
    if (st != AH_OK)
        return st;
    stream_slot *t = cur_slot(s);
    t->rep = *r;
    t->file_index = file_index;
    t->path = dup_or_null(r->path);
    t->entry = dup_or_null(r->entry);
    t->container = dup_or_null(r->container);
    t->encoding = dup_or_null(r->encoding);
    t->failure = dup_or_null(r->failure);
    t->format = dup_or_null(r->format);
    t->not_a_log = dup_or_null(r->not_a_log);
    t->rep.not_a_log = t->not_a_log;
    t->rep.path = t->path;
    t->rep.entry = t->entry;
    t->rep.container = t->container;
    t->rep.encoding = t->encoding;
    t->rep.failure = t->failure;
    t->rep.format = t->format;
    t->rep.events = t->rep.duplicates = 0;
    if ((r->path && !t->path) || (r->entry && !t->entry) || (r->container && !t->container) ||
        (r->encoding && !t->encoding) || (r->failure && !t->failure) || (r->format && !t->format) ||
        (r->not_a_log && !t->not_a_log))
        return AH_ERR_NOMEM;
    return AH_OK;
}

void ah_session_account_event(ah_session *s, size_t i, ah_source_kind source, bool has_time, ah_time t, bool duplicate)
{
    if (i >= s->nstreams)
        return;
    if (duplicate) {
        s->streams[i].rep.duplicates++;
        return;
    }
    s->streams[i].rep.events++;
    if ((unsigned)source < AH_SOURCE_COUNT)
        note_coverage_of(s, source, has_time, t);
}

void ah_session_account_dedup(ah_session *s, uint32_t passes) { s->passes = passes; }

size_t ah_session_stream_file(const ah_session *s, size_t i) { return s->streams[i].file_index; }
