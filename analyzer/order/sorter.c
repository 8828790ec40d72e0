/*
 * sorter.c: external merge sort of timeline rows (see sorter.h).
 *
 * One serialization serves both sides: a row is encoded once into the
 * arena when added (compact varints, spans as length+1 with 0 for absent),
 * a spill writes those bytes unchanged behind a length prefix, and the
 * reader decodes them with spans pointing into its buffer. So a spill is a
 * sequential write with no re-encoding, and the in-memory tail is just one
 * more merge source. A parallel array of fixed-size keys
 * (has_time, sec, nsec, kind, tie, ordinal) is what qsort and the heap
 * compare; the ordinal (the row's seq, the producer's canonical position,
 * else the add order) decides only between rows whose content hash (tie)
 * is equal, so the unstable qsort and the heap still give one order: rows
 * with equal keys are equal rows.
 */
#include "sorter.h"

#include "../../parsers/util/buf.h"
#include "../../parsers/util/tempdir.h"
#include "../../parsers/util/varint.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SORTER_MAGIC 0x534f5254u /* "SORT" */
#define MIN_CHUNK ((size_t)512)
#define MAX_CHUNK ((size_t)1 << 20)
#define MIN_READ_BUF ((size_t)4096)
#define MAX_READ_BUF ((size_t)64 * 1024)

typedef enum sorter_state { ST_ADDING, ST_MERGING, ST_FAILED } sorter_state;

typedef struct sort_key {
    int64_t sec;
    int32_t nsec;
    bool has_time;
    uint8_t kind;
    uint64_t tie;
    uint64_t ordinal;
    const unsigned char *rec; /* encoded row (memory source only) */
    size_t len;
} sort_key;

typedef struct chunk {
    struct chunk *next;
    size_t cap, used;
    unsigned char data[];
} chunk;

typedef struct run {
    char *path; /* NULL once deleted */
    uint64_t rows;
} run;

/* A merge input: a run file or the sorted in-memory rows. */
typedef struct source {
    FILE *f;        /* NULL for the memory source */
    size_t run_idx; /* index in s->runs for a file source */
    ah_buf rec;     /* current payload (file source) */
    ah_buf rules;   /* the current row's rule indices */
    size_t pos;     /* next key index (memory source) */
    sort_key key;
    ah_row row;
} source;

struct ah_sorter {
    uint32_t magic;
    sorter_state state;
    size_t budget;
    size_t chunk_size;
    size_t read_buf;
    char *tmp_parent; /* NULL: $TMPDIR or /tmp */
    char *dir;        /* run directory, after the first spill */
    ah_diag *diag;
    chunk *chunks;
    chunk *spare;       /* emptied standard chunks kept after a spill: refilling them costs no page faults */
    size_t arena_bytes; /* chunks in use (spares are at most what the budget let the arena reach) */
    sort_key *keys;
    size_t nkeys, keys_cap;
    size_t max_rec; /* largest encoded row, bounds the readers' buffers */
    run *runs;
    size_t nruns, runs_cap;
    uint64_t run_counter;
    source *srcs; /* final merge */
    size_t nsrcs;
    source **heap;
    size_t nheap;
    bool advance_top; /* the top's row was handed out: step it before the next */
    ah_sorter_stats stats;
};

/* ---- accounting -------------------------------------------------------- */

static size_t mem_used(const ah_sorter *s) { return s->arena_bytes + s->keys_cap * sizeof(sort_key); }

static void note_peak(ah_sorter *s, size_t extra)
{
    size_t m = mem_used(s) + extra;
    if (m > s->stats.peak_bytes)
        s->stats.peak_bytes = m;
}

static ah_status fail(ah_sorter *s, ah_status st, const char *msg, int err)
{
    ah_where where = {.path = s->dir};
    if (err)
        ah_diag_report(s->diag, AH_SEV_ERROR, &where, "sort: %s: %s", msg, strerror(err));
    else
        ah_diag_report(s->diag, AH_SEV_ERROR, &where, "sort: %s", msg);
    s->state = ST_FAILED;
    return st;
}

/* ---- encoding ---------------------------------------------------------- */

static bool is_text_col(int c) { return c != AH_COL_TIME && c != AH_COL_INPUT_RECORD; }

static size_t span_size(ah_span sp) { return sp.p ? ah_uvarint_size((uint64_t)sp.n + 1) + sp.n : 1; }

static size_t encoded_size(const ah_row *row)
{
    size_t n = 5 /* flags, kind, level, join class, result */ + ah_uvarint_size(ah_zigzag(row->time.sec)) +
               ah_uvarint_size(ah_zigzag(row->time.nsec)) + ah_uvarint_size(row->tie) + AH_VARINT_MAX /* ordinal */ +
               ah_uvarint_size(row->input_record) + ah_uvarint_size(row->nrules);
    for (size_t i = 0; i < row->nrules; i++)
        n += ah_uvarint_size(row->rules[i]);
    for (int c = 0; c < AH_COL_COUNT; c++)
        if (is_text_col(c))
            n += span_size(row->col[c]);
    return n + span_size(row->join_id) + span_size(row->raw) + span_size(row->related_raw) +
           span_size(row->event_cells);
}

static unsigned char *put_span(unsigned char *p, ah_span sp)
{
    if (!sp.p)
        return ah_put_uvarint(p, 0);
    p = ah_put_uvarint(p, (uint64_t)sp.n + 1);
    if (sp.n)
        memcpy(p, sp.p, sp.n);
    return p + sp.n;
}

static size_t encode(unsigned char *p, const ah_row *row, uint64_t ordinal)
{
    unsigned char *start = p;
    *p++ = row->has_time ? 1 : 0;
    *p++ = row->kind;
    *p++ = (unsigned char)row->level;
    *p++ = row->join_class;
    *p++ = row->result;
    p = ah_time_put(p, row->time);
    p = ah_put_uvarint(p, row->tie);
    p = ah_put_uvarint(p, ordinal);
    p = ah_put_uvarint(p, row->input_record);
    p = ah_put_uvarint(p, row->nrules);
    for (size_t i = 0; i < row->nrules; i++)
        p = ah_put_uvarint(p, row->rules[i]);
    for (int c = 0; c < AH_COL_COUNT; c++)
        if (is_text_col(c))
            p = put_span(p, row->col[c]);
    p = put_span(p, row->join_id);
    p = put_span(p, row->raw);
    p = put_span(p, row->related_raw);
    p = put_span(p, row->event_cells);
    return (size_t)(p - start);
}

static ah_span get_span(ah_vcursor *c)
{
    uint64_t n = ah_get_uvarint(c);
    if (!c->ok || n == 0)
        return AH_SPAN_NULL;
    n--;
    if (n > (uint64_t)(c->end - c->p)) {
        c->ok = false;
        return AH_SPAN_NULL;
    }
    ah_span sp = {(const char *)c->p, (size_t)n};
    c->p += n;
    return sp;
}

/* Decode an encoded row; spans point into p, rule indices into *rules
 * (grown as needed). False when corrupt. */
static bool decode(const unsigned char *p, size_t n, sort_key *key, ah_row *row, ah_buf *rules)
{
    ah_vcursor c = {p, p + n, n > 5};
    memset(row, 0, sizeof *row);
    if (!c.ok)
        return false;
    row->has_time = *c.p++ & 1;
    row->kind = *c.p++;
    row->level = (int8_t)*c.p++;
    row->join_class = *c.p++;
    row->result = *c.p++;
    row->time = ah_time_get(&c);
    row->tie = ah_get_uvarint(&c);
    key->ordinal = ah_get_uvarint(&c);
    row->input_record = ah_get_uvarint(&c);
    uint64_t nrules = ah_get_uvarint(&c);
    if (!c.ok || nrules > (uint64_t)(c.end - c.p))
        return false;
    ah_buf_reset(rules);
    if (ah_buf_reserve(rules, (size_t)nrules * sizeof(uint32_t)) != AH_OK)
        return false;
    uint32_t *rv = (uint32_t *)(void *)rules->data;
    for (uint64_t i = 0; i < nrules; i++)
        rv[i] = (uint32_t)ah_get_uvarint(&c);
    row->rules = nrules ? rv : NULL;
    row->nrules = (size_t)nrules;
    for (int col = 0; col < AH_COL_COUNT; col++)
        if (is_text_col(col))
            row->col[col] = get_span(&c);
    row->join_id = get_span(&c);
    row->raw = get_span(&c);
    row->related_raw = get_span(&c);
    row->event_cells = get_span(&c);
    key->has_time = row->has_time;
    key->sec = row->time.sec;
    key->nsec = row->time.nsec;
    key->kind = row->kind;
    key->tie = row->tie;
    row->seq = key->ordinal;
    return c.ok && c.p == c.end;
}

ah_status ah_row_encode(const ah_row *row, ah_buf *out)
{
    size_t len = encoded_size(row);
    ah_status st = ah_buf_reserve(out, len);
    if (st != AH_OK)
        return st;
    out->len += encode((unsigned char *)out->data + out->len, row, row->seq);
    return AH_OK;
}

bool ah_row_decode(ah_span in, ah_row *row, ah_buf *rules)
{
    sort_key key;
    return in.n && decode((const unsigned char *)in.p, in.n, &key, row, rules);
}

static int key_cmp(const sort_key *a, const sort_key *b)
{
    if (a->has_time != b->has_time)
        return a->has_time ? 1 : -1; /* no time first */
    if (a->has_time) {
        if (a->sec != b->sec)
            return a->sec < b->sec ? -1 : 1;
        if (a->nsec != b->nsec)
            return a->nsec < b->nsec ? -1 : 1;
    }
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    if (a->tie != b->tie)
        return a->tie < b->tie ? -1 : 1;
    return a->ordinal < b->ordinal ? -1 : a->ordinal > b->ordinal;
}

static int key_qsort_cmp(const void *a, const void *b) { return key_cmp(a, b); }

/* ---- arena ------------------------------------------------------------- */

static void free_spares(ah_sorter *s)
{
    while (s->spare) {
        chunk *next = s->spare->next;
        free(s->spare);
        s->spare = next;
    }
}

/* Empty the arena; standard chunks are kept as spares when keep is set. */
static void arena_reset(ah_sorter *s, bool keep)
{
    while (s->chunks) {
        chunk *next = s->chunks->next;
        if (keep && s->chunks->cap == s->chunk_size) {
            s->chunks->next = s->spare;
            s->spare = s->chunks;
        } else {
            free(s->chunks);
        }
        s->chunks = next;
    }
    if (!keep)
        free_spares(s);
    s->arena_bytes = 0;
}

/* Bytes a new allocation of n would add (0 when the current chunk has room). */
static size_t arena_growth(const ah_sorter *s, size_t n)
{
    if (s->chunks && s->chunks->cap - s->chunks->used >= n)
        return 0;
    return sizeof(chunk) + (n > s->chunk_size ? n : s->chunk_size);
}

static unsigned char *arena_alloc(ah_sorter *s, size_t n)
{
    if (!s->chunks || s->chunks->cap - s->chunks->used < n) {
        size_t cap = n > s->chunk_size ? n : s->chunk_size;
        chunk *c = cap == s->chunk_size ? s->spare : NULL;
        if (c)
            s->spare = c->next;
        else if (!(c = malloc(sizeof(chunk) + cap)))
            return NULL;
        c->cap = cap;
        c->used = 0;
        c->next = s->chunks;
        s->chunks = c;
        s->arena_bytes += sizeof(chunk) + cap;
    }
    unsigned char *p = s->chunks->data + s->chunks->used;
    s->chunks->used += n;
    return p;
}

/* ---- run files ---------------------------------------------------------- */

static ah_status ensure_dir(ah_sorter *s)
{
    if (s->dir)
        return AH_OK;
    ah_status st;
    char *dir = ah_spill_dir_new(s->tmp_parent, "sort", s->diag, &st);
    if (!dir && st == AH_ERR_NOMEM)
        return fail(s, AH_ERR_NOMEM, "out of memory", 0);
    if (!dir) {
        int err = errno;
        ah_where where = {.path = s->tmp_parent ? s->tmp_parent : "$TMPDIR"};
        ah_diag_report(s->diag, AH_SEV_ERROR, &where, "sort: cannot create a temporary directory: %s", strerror(err));
        s->state = ST_FAILED;
        return AH_ERR_IO;
    }
    s->dir = dir;
    return AH_OK;
}

/* Create the next run file; on success it is registered in s->runs so
 * ah_sorter_free deletes it whatever happens next. */
static ah_status new_run(ah_sorter *s, FILE **out)
{
    ah_status st = ensure_dir(s);
    if (st != AH_OK)
        return st;
    if (s->nruns == s->runs_cap) {
        run *r = ah_grow_array(s->runs, &s->runs_cap, 16, sizeof *r);
        if (!r)
            return fail(s, AH_ERR_NOMEM, "out of memory", 0);
        s->runs = r;
    }
    size_t n = strlen(s->dir) + 32;
    char *path = malloc(n);
    if (!path)
        return fail(s, AH_ERR_NOMEM, "out of memory", 0);
    snprintf(path, n, "%s/run-%06llu", s->dir, (unsigned long long)++s->run_counter);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        int err = errno;
        if (fd >= 0) {
            close(fd);
            unlink(path);
        }
        free(path);
        return fail(s, AH_ERR_IO, "cannot create a run file", err);
    }
    s->runs[s->nruns++] = (run){path, 0};
    *out = f;
    return AH_OK;
}

static void delete_run(run *r)
{
    if (r->path) {
        unlink(r->path);
        free(r->path);
        r->path = NULL;
    }
}

static ah_status put_record(ah_sorter *s, FILE *f, const unsigned char *p, size_t n)
{
    unsigned char hdr[AH_VARINT_MAX];
    size_t h = (size_t)(ah_put_uvarint(hdr, n) - hdr);
    if (fwrite(hdr, 1, h, f) != h || fwrite(p, 1, n, f) != n)
        return AH_ERR_IO;
    s->stats.bytes_spilled += h + n;
    return AH_OK;
}

static ah_status close_run(ah_sorter *s, FILE *f, ah_status st)
{
    int err = 0;
    if (st == AH_OK && fflush(f) != 0)
        err = errno;
    if (fclose(f) != 0 && !err)
        err = errno;
    if (st == AH_OK && err)
        return fail(s, AH_ERR_IO, "cannot write a run file", err);
    if (st == AH_ERR_IO)
        return fail(s, AH_ERR_IO, "cannot write a run file", errno);
    return st;
}

/* Sort what is in memory and write it out as one run. */
static ah_status spill(ah_sorter *s)
{
    FILE *f = NULL;
    qsort(s->keys, s->nkeys, sizeof *s->keys, key_qsort_cmp);
    ah_status st = new_run(s, &f);
    if (st != AH_OK)
        return st;
    for (size_t i = 0; st == AH_OK && i < s->nkeys; i++)
        st = put_record(s, f, s->keys[i].rec, s->keys[i].len);
    s->runs[s->nruns - 1].rows = s->nkeys;
    st = close_run(s, f, st);
    if (st != AH_OK)
        return st;
    s->stats.runs_spilled++;
    s->nkeys = 0;
    arena_reset(s, true);
    return AH_OK;
}

/* ---- public: construction and adding ----------------------------------- */

ah_sorter *ah_sorter_new(size_t memory_budget, const char *tmpdir, ah_diag *diag)
{
    ah_sorter *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->magic = SORTER_MAGIC;
    s->diag = diag;
    s->budget = memory_budget ? memory_budget : AH_SORTER_DEFAULT_BUDGET;
    if (s->budget < AH_SORTER_MIN_BUDGET)
        s->budget = AH_SORTER_MIN_BUDGET;
    s->chunk_size = s->budget / 8;
    s->chunk_size = s->chunk_size < MIN_CHUNK ? MIN_CHUNK : s->chunk_size > MAX_CHUNK ? MAX_CHUNK : s->chunk_size;
    s->read_buf = s->budget / (4 * AH_SORTER_MAX_FANIN);
    s->read_buf = s->read_buf < MIN_READ_BUF ? MIN_READ_BUF : s->read_buf > MAX_READ_BUF ? MAX_READ_BUF : s->read_buf;
    if (tmpdir) {
        size_t n = strlen(tmpdir) + 1;
        s->tmp_parent = malloc(n);
        if (!s->tmp_parent) {
            free(s);
            return NULL;
        }
        memcpy(s->tmp_parent, tmpdir, n);
    }
    return s;
}

static ah_status check_state(ah_sorter *s, sorter_state want)
{
    if (!s || s->magic != SORTER_MAGIC)
        return AH_ERR_USAGE;
    if (s->state == ST_FAILED)
        return AH_ERR_IO;
    return s->state == want ? AH_OK : AH_ERR_USAGE;
}

ah_status ah_sorter_add(ah_sorter *s, const ah_row *row)
{
    ah_status st = check_state(s, ST_ADDING);
    if (st != AH_OK)
        return st;
    if (!row)
        return AH_ERR_USAGE;
    size_t len = encoded_size(row);
    size_t key_growth = s->nkeys == s->keys_cap ? (s->keys_cap ? s->keys_cap : 16) * sizeof(sort_key) : 0;
    if (s->nkeys > 0 && mem_used(s) + arena_growth(s, len) + key_growth > s->budget) {
        if ((st = spill(s)) != AH_OK)
            return st;
        key_growth = s->nkeys == s->keys_cap ? (s->keys_cap ? s->keys_cap : 16) * sizeof(sort_key) : 0;
    }
    if (key_growth) {
        sort_key *k = ah_grow_array(s->keys, &s->keys_cap, 16, sizeof *k);
        if (!k)
            return AH_ERR_NOMEM;
        s->keys = k;
    }
    unsigned char *p = arena_alloc(s, len);
    if (!p)
        return AH_ERR_NOMEM;
    sort_key *key = &s->keys[s->nkeys++];
    key->rec = p;
    uint64_t ordinal = row->seq ? row->seq : s->stats.rows;
    key->len = encode(p, row, ordinal);
    key->has_time = row->has_time;
    key->sec = row->time.sec;
    key->nsec = row->time.nsec;
    key->kind = row->kind;
    key->tie = row->tie;
    key->ordinal = ordinal;
    s->stats.rows++;
    /* Give back the slack left by the ordinal's worst-case varint size. */
    s->chunks->used -= len - key->len;
    if (key->len > s->max_rec)
        s->max_rec = key->len;
    note_peak(s, 0);
    return AH_OK;
}

/* ---- merging ------------------------------------------------------------- */

/* Load the next row of a source: AH_OK, AH_END, or AH_ERR_IO. */
static ah_status source_next(ah_sorter *s, source *src)
{
    if (!src->f) {
        if (src->pos == s->nkeys)
            return AH_END;
        const sort_key *k = &s->keys[src->pos++];
        if (!decode(k->rec, k->len, &src->key, &src->row, &src->rules))
            return ah_buf_status(&src->rules) == AH_ERR_NOMEM ? fail(s, AH_ERR_NOMEM, "out of memory", 0)
                                                              : fail(s, AH_ERR_IO, "internal row encoding error", 0);
        return AH_OK;
    }
    uint64_t len = 0;
    unsigned shift = 0;
    for (;;) {
        int c = getc(src->f);
        if (c == EOF) {
            if (ferror(src->f))
                return fail(s, AH_ERR_IO, "cannot read a run file", errno);
            if (shift == 0)
                return AH_END;
            return fail(s, AH_ERR_IO, "run file is truncated", 0);
        }
        len |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80))
            break;
        shift += 7;
        if (shift >= 64)
            return fail(s, AH_ERR_IO, "run file is corrupt", 0);
    }
    if (len == 0 || len > s->max_rec)
        return fail(s, AH_ERR_IO, "run file is corrupt", 0);
    ah_buf_reset(&src->rec);
    if (ah_buf_reserve(&src->rec, (size_t)len) != AH_OK)
        return fail(s, AH_ERR_NOMEM, "out of memory", 0);
    if (fread(src->rec.data, 1, (size_t)len, src->f) != (size_t)len)
        return fail(s, AH_ERR_IO, ferror(src->f) ? "cannot read a run file" : "run file is truncated",
                    ferror(src->f) ? errno : 0);
    src->rec.len = (size_t)len;
    if (!decode((const unsigned char *)src->rec.data, src->rec.len, &src->key, &src->row, &src->rules))
        return ah_buf_status(&src->rules) == AH_ERR_NOMEM ? fail(s, AH_ERR_NOMEM, "out of memory", 0)
                                                          : fail(s, AH_ERR_IO, "run file is corrupt", 0);
    return AH_OK;
}

static ah_status source_open(ah_sorter *s, source *src, size_t run_idx)
{
    memset(src, 0, sizeof *src);
    ah_buf_init(&src->rec, s->max_rec);
    ah_buf_init(&src->rules, 0);
    src->run_idx = run_idx;
    src->f = fopen(s->runs[run_idx].path, "rb");
    if (!src->f)
        return fail(s, AH_ERR_IO, "cannot reopen a run file", errno);
    if (setvbuf(src->f, NULL, _IOFBF, s->read_buf) != 0)
        return fail(s, AH_ERR_NOMEM, "out of memory", 0);
    return AH_OK;
}

static void source_close(source *src)
{
    if (src->f)
        fclose(src->f);
    src->f = NULL;
    ah_buf_free(&src->rec);
    ah_buf_free(&src->rules);
}

static void sift_down(source **heap, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && key_cmp(&heap[l]->key, &heap[m]->key) < 0)
            m = l;
        if (l + 1 < n && key_cmp(&heap[l + 1]->key, &heap[m]->key) < 0)
            m = l + 1;
        if (m == i)
            return;
        source *t = heap[i];
        heap[i] = heap[m];
        heap[m] = t;
        i = m;
    }
}

/* Prime each source and heapify the ones that have rows. */
static ah_status heap_build(ah_sorter *s, source *srcs, size_t n, source **heap, size_t *nheap)
{
    *nheap = 0;
    for (size_t i = 0; i < n; i++) {
        ah_status st = source_next(s, &srcs[i]);
        if (st == AH_OK)
            heap[(*nheap)++] = &srcs[i];
        else if (st != AH_END)
            return st;
    }
    for (size_t i = *nheap / 2; i-- > 0;)
        sift_down(heap, *nheap, i);
    return AH_OK;
}

/* Step the top source and restore the heap. */
static ah_status heap_advance(ah_sorter *s, source **heap, size_t *nheap)
{
    ah_status st = source_next(s, heap[0]);
    if (st == AH_END) {
        heap[0] = heap[--*nheap];
        st = AH_OK;
    } else if (st != AH_OK)
        return st;
    sift_down(heap, *nheap, 0);
    return AH_OK;
}

/* Merge runs[first .. first+k) into one new run, deleting the inputs. */
static ah_status merge_pass(ah_sorter *s, size_t first, size_t k)
{
    source srcs[AH_SORTER_MAX_FANIN];
    source *heap[AH_SORTER_MAX_FANIN];
    size_t nheap = 0, opened = 0;
    FILE *out = NULL;
    ah_status st = AH_OK;
    note_peak(s, k * (s->read_buf + s->max_rec));
    for (; st == AH_OK && opened < k; opened++)
        st = source_open(s, &srcs[opened], first + opened);
    if (st == AH_OK)
        st = new_run(s, &out);
    if (st == AH_OK)
        st = heap_build(s, srcs, k, heap, &nheap);
    uint64_t rows = 0;
    while (st == AH_OK && nheap > 0) {
        st = put_record(s, out, (const unsigned char *)heap[0]->rec.data, heap[0]->rec.len);
        if (st == AH_ERR_IO)
            st = fail(s, AH_ERR_IO, "cannot write a run file", errno);
        rows++;
        if (st == AH_OK)
            st = heap_advance(s, heap, &nheap);
    }
    if (out) {
        s->runs[s->nruns - 1].rows = rows;
        st = close_run(s, out, st);
    }
    for (size_t i = 0; i < opened; i++)
        source_close(&srcs[i]);
    if (st != AH_OK)
        return st;
    for (size_t i = 0; i < k; i++)
        delete_run(&s->runs[first + i]);
    memmove(s->runs + first, s->runs + first + k, (s->nruns - first - k) * sizeof *s->runs);
    s->nruns -= k;
    s->stats.merge_passes++;
    return AH_OK;
}

ah_status ah_sorter_finish(ah_sorter *s)
{
    ah_status st = check_state(s, ST_ADDING);
    if (st != AH_OK)
        return st;
    s->state = ST_MERGING;
    /* If passes are needed, the in-memory rows join the runs first so that
     * memory is free for the merge buffers. */
    if (s->nruns > 0 && s->nkeys > 0 && s->nruns + 1 > AH_SORTER_MAX_FANIN && (st = spill(s)) != AH_OK)
        return st;
    while (s->nruns > AH_SORTER_MAX_FANIN) {
        /* Merge just enough runs that the final merge fits the fan-in. */
        size_t k = s->nruns - AH_SORTER_MAX_FANIN + 1;
        if (k > AH_SORTER_MAX_FANIN)
            k = AH_SORTER_MAX_FANIN;
        if ((st = merge_pass(s, 0, k)) != AH_OK)
            return st;
    }
    free_spares(s); /* the merge buffers need the memory now */
    if (s->nkeys > 1)
        qsort(s->keys, s->nkeys, sizeof *s->keys, key_qsort_cmp);
    size_t n = s->nruns + 1;
    s->srcs = calloc(n, sizeof *s->srcs);
    s->heap = calloc(n, sizeof *s->heap);
    if (!s->srcs || !s->heap)
        return fail(s, AH_ERR_NOMEM, "out of memory", 0);
    note_peak(s, s->nruns * (s->read_buf + s->max_rec));
    for (size_t i = 0; i < s->nruns; i++) {
        s->nsrcs++;
        if ((st = source_open(s, &s->srcs[i], i)) != AH_OK)
            return st;
    }
    ah_buf_init(&s->srcs[s->nsrcs].rules, 0);
    s->srcs[s->nsrcs++].f = NULL; /* the memory source (pos 0) */
    return heap_build(s, s->srcs, s->nsrcs, s->heap, &s->nheap);
}

ah_status ah_sorter_next(ah_sorter *s, ah_row *out)
{
    ah_status st = check_state(s, ST_MERGING);
    if (st != AH_OK)
        return st;
    if (s->advance_top) {
        s->advance_top = false;
        if ((st = heap_advance(s, s->heap, &s->nheap)) != AH_OK)
            return st;
    }
    if (s->nheap == 0)
        return AH_END;
    *out = s->heap[0]->row;
    s->advance_top = true;
    return AH_OK;
}

void ah_sorter_get_stats(const ah_sorter *s, ah_sorter_stats *stats)
{
    if (s && stats)
        *stats = s->stats;
}

const char *ah_sorter_tmpdir(const ah_sorter *s) { return s ? s->dir : NULL; }

void ah_sorter_free(ah_sorter *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nsrcs; i++)
        source_close(&s->srcs[i]);
    free(s->srcs);
    free(s->heap);
    for (size_t i = 0; i < s->nruns; i++)
        delete_run(&s->runs[i]);
    free(s->runs);
    ah_spill_dir_remove(s->diag, s->dir);
    free(s->dir);
    free(s->tmp_parent);
    arena_reset(s, false);
    free(s->keys);
    s->magic = 0;
    free(s);
}
