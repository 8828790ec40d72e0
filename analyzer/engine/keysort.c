/*
 * keysort.c: external sort of (key, position) entries (see keysort.h).
 *
 * Runs are the entries' bytes as they are in memory: the files are private
 * to this process and read back by it, so no encoding is needed.
 */
#include "keysort.h"

#include "../../parsers/util/tempdir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MIN_ENTRIES ((size_t)16)
#define MIN_READ_BUF ((size_t)4096)
#define MAX_READ_BUF ((size_t)64 * 1024)

typedef struct reader {
    FILE *f;     /* NULL: the in-memory entries */
    size_t next; /* in-memory: next index */
    ah_keypos cur;
} reader;

struct ah_keysort {
    bool finished, failed;
    size_t cap, n;
    ah_keypos *buf;
    size_t read_buf;
    char *tmp_parent, *dir;
    ah_diag *diag;
    char **runs; /* paths; NULL once deleted */
    size_t nruns, runs_cap;
    uint64_t run_counter, runs_written;
    size_t peak;
    reader *readers; /* final merge */
    size_t nreaders;
    reader **heap;
    size_t nheap;
    bool advance_top;
};

static ah_status fail(ah_keysort *s, ah_status st, const char *msg, int err)
{
    ah_where where = {.path = s->dir};
    if (err)
        ah_diag_report(s->diag, AH_SEV_ERROR, &where, "deduplication: %s: %s", msg, strerror(err));
    else
        ah_diag_report(s->diag, AH_SEV_ERROR, &where, "deduplication: %s", msg);
    s->failed = true;
    return st;
}

static int kp_cmp(const ah_keypos *a, const ah_keypos *b)
{
    if (a->k0 != b->k0)
        return a->k0 < b->k0 ? -1 : 1;
    if (a->k1 != b->k1)
        return a->k1 < b->k1 ? -1 : 1;
    return (a->pos > b->pos) - (a->pos < b->pos);
}

static int kp_qsort_cmp(const void *a, const void *b) { return kp_cmp(a, b); }

static void note_peak(ah_keysort *s, size_t bytes)
{
    if (bytes > s->peak)
        s->peak = bytes;
}

ah_keysort *ah_keysort_new(size_t budget, const char *tmpdir, ah_diag *diag)
{
    ah_keysort *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->diag = diag;
    s->cap = budget / sizeof(ah_keypos);
    if (s->cap < MIN_ENTRIES)
        s->cap = MIN_ENTRIES;
    s->read_buf = budget / (2 * AH_KEYSORT_MAX_FANIN);
    s->read_buf = s->read_buf < MIN_READ_BUF ? MIN_READ_BUF : s->read_buf > MAX_READ_BUF ? MAX_READ_BUF : s->read_buf;
    if (tmpdir && !(s->tmp_parent = strdup(tmpdir))) {
        free(s);
        return NULL;
    }
    return s;
}

/* ---- run files ------------------------------------------------------------ */

static ah_status ensure_dir(ah_keysort *s)
{
    if (s->dir)
        return AH_OK;
    ah_status st;
    char *dir = ah_spill_dir_new(s->tmp_parent, "dedup", s->diag, &st);
    if (!dir && st == AH_ERR_NOMEM)
        return fail(s, AH_ERR_NOMEM, "out of memory", 0);
    if (!dir) {
        int err = errno;
        ah_where where = {.path = s->tmp_parent ? s->tmp_parent : "$TMPDIR"};
        ah_diag_report(s->diag, AH_SEV_ERROR, &where, "deduplication: cannot create a temporary directory: %s",
                       strerror(err));
        s->failed = true;
        return AH_ERR_IO;
    }
    s->dir = dir;
    return AH_OK;
}

/* Create the next run file, registered at once so that free deletes it. */
static ah_status new_run(ah_keysort *s, FILE **out)
{
    ah_status st = ensure_dir(s);
    if (st != AH_OK)
        return st;
    if (s->nruns == s->runs_cap) {
        char **r = ah_grow_array(s->runs, &s->runs_cap, 16, sizeof *r);
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
    s->runs[s->nruns++] = path;
    s->runs_written++;
    *out = f;
    return AH_OK;
}

static ah_status close_run(ah_keysort *s, FILE *f, bool write_ok)
{
    int err = write_ok ? 0 : errno;
    if (fflush(f) != 0 && !err)
        err = errno;
    if (fclose(f) != 0 && !err)
        err = errno;
    if (!write_ok || err)
        return fail(s, AH_ERR_IO, "cannot write a run file", err);
    return AH_OK;
}

static void delete_run(char **path)
{
    if (*path) {
        unlink(*path);
        free(*path);
        *path = NULL;
    }
}

static ah_status spill(ah_keysort *s)
{
    qsort(s->buf, s->n, sizeof *s->buf, kp_qsort_cmp);
    FILE *f = NULL;
    ah_status st = new_run(s, &f);
    if (st != AH_OK)
        return st;
    bool ok = fwrite(s->buf, sizeof *s->buf, s->n, f) == s->n;
    s->n = 0;
    return close_run(s, f, ok);
}

ah_status ah_keysort_add(ah_keysort *s, const ah_keypos *e)
{
    if (s->failed)
        return AH_ERR_IO;
    if (s->finished)
        return AH_ERR_USAGE;
    if (!s->buf) {
        if (!(s->buf = malloc(s->cap * sizeof *s->buf)))
            return AH_ERR_NOMEM;
        note_peak(s, s->cap * sizeof *s->buf);
    }
    if (s->n == s->cap) {
        ah_status st = spill(s);
        if (st != AH_OK)
            return st;
    }
    s->buf[s->n++] = *e;
    return AH_OK;
}

ah_status ah_keysort_add_sorted(ah_keysort *s, const uint64_t *keys, size_t n, uint64_t pos)
{
    if (s->failed)
        return AH_ERR_IO;
    if (s->finished)
        return AH_ERR_USAGE;
    FILE *f = NULL;
    ah_status st = new_run(s, &f);
    if (st != AH_OK)
        return st;
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        ah_keypos e = {keys[2 * i], keys[2 * i + 1], pos};
        ok = fwrite(&e, sizeof e, 1, f) == 1;
    }
    return close_run(s, f, ok);
}

/* ---- merging ---------------------------------------------------------------- */

static ah_status reader_open(ah_keysort *s, reader *r, const char *path)
{
    memset(r, 0, sizeof *r);
    if (!(r->f = fopen(path, "rb")))
        return fail(s, AH_ERR_IO, "cannot reopen a run file", errno);
    if (setvbuf(r->f, NULL, _IOFBF, s->read_buf) != 0)
        return fail(s, AH_ERR_NOMEM, "out of memory", 0);
    return AH_OK;
}

static void reader_close(reader *r)
{
    if (r->f)
        fclose(r->f);
    r->f = NULL;
}

static ah_status reader_step(ah_keysort *s, reader *r)
{
    if (!r->f) {
        if (r->next == s->n)
            return AH_END;
        r->cur = s->buf[r->next++];
        return AH_OK;
    }
    if (fread(&r->cur, sizeof r->cur, 1, r->f) == 1)
        return AH_OK;
    if (ferror(r->f))
        return fail(s, AH_ERR_IO, "cannot read a run file", errno);
    return AH_END; /* a partial entry cannot happen: runs hold whole entries */
}

static void sift_down(reader **heap, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && kp_cmp(&heap[l]->cur, &heap[m]->cur) < 0)
            m = l;
        if (l + 1 < n && kp_cmp(&heap[l + 1]->cur, &heap[m]->cur) < 0)
            m = l + 1;
        if (m == i)
            return;
        reader *t = heap[i];
        heap[i] = heap[m];
        heap[m] = t;
        i = m;
    }
}

static ah_status heap_build(ah_keysort *s, reader *rs, size_t n, reader **heap, size_t *nheap)
{
    *nheap = 0;
    for (size_t i = 0; i < n; i++) {
        ah_status st = reader_step(s, &rs[i]);
        if (st == AH_OK)
            heap[(*nheap)++] = &rs[i];
        else if (st != AH_END)
            return st;
    }
    for (size_t i = *nheap / 2; i-- > 0;)
        sift_down(heap, *nheap, i);
    return AH_OK;
}

static ah_status heap_advance(ah_keysort *s, reader **heap, size_t *nheap)
{
    ah_status st = reader_step(s, heap[0]);
    if (st == AH_END) {
        heap[0] = heap[--*nheap];
        st = AH_OK;
    } else if (st != AH_OK) {
        return st;
    }
    sift_down(heap, *nheap, 0);
    return AH_OK;
}

/* Merge runs[0 .. k) into one new run at the end, deleting the inputs. */
static ah_status merge_pass(ah_keysort *s, size_t k)
{
    reader rs[AH_KEYSORT_MAX_FANIN];
    reader *heap[AH_KEYSORT_MAX_FANIN];
    size_t nheap = 0, opened = 0;
    FILE *out = NULL;
    ah_status st = AH_OK;
    note_peak(s, (k + 1) * s->read_buf);
    for (; st == AH_OK && opened < k; opened++)
        st = reader_open(s, &rs[opened], s->runs[opened]);
    if (st == AH_OK)
        st = new_run(s, &out);
    if (st == AH_OK)
        st = heap_build(s, rs, k, heap, &nheap);
    bool ok = true;
    while (st == AH_OK && nheap > 0 && ok) {
        ok = fwrite(&heap[0]->cur, sizeof heap[0]->cur, 1, out) == 1;
        st = heap_advance(s, heap, &nheap);
    }
    if (out) {
        ah_status cst = close_run(s, out, ok);
        if (st == AH_OK)
            st = cst;
    }
    for (size_t i = 0; i < opened; i++)
        reader_close(&rs[i]);
    if (st != AH_OK)
        return st;
    for (size_t i = 0; i < k; i++)
        delete_run(&s->runs[i]);
    memmove(s->runs, s->runs + k, (s->nruns - k) * sizeof *s->runs);
    s->nruns -= k;
    return AH_OK;
}

ah_status ah_keysort_finish(ah_keysort *s)
{
    if (s->failed)
        return AH_ERR_IO;
    if (s->finished)
        return AH_ERR_USAGE;
    s->finished = true;
    ah_status st;
    if (s->nruns > 0) {
        /* the tail joins the runs: the memory goes to the read buffers */
        if (s->n > 0 && (st = spill(s)) != AH_OK)
            return st;
        free(s->buf);
        s->buf = NULL;
        while (s->nruns > AH_KEYSORT_MAX_FANIN) {
            size_t k = s->nruns - AH_KEYSORT_MAX_FANIN + 1; /* just enough for the final merge to fit */
            if ((st = merge_pass(s, k > AH_KEYSORT_MAX_FANIN ? AH_KEYSORT_MAX_FANIN : k)) != AH_OK)
                return st;
        }
    } else if (s->n > 1) {
        qsort(s->buf, s->n, sizeof *s->buf, kp_qsort_cmp);
    }
    size_t n = s->nruns ? s->nruns : 1;
    s->readers = calloc(n, sizeof *s->readers);
    s->heap = calloc(n, sizeof *s->heap);
    if (!s->readers || !s->heap)
        return fail(s, AH_ERR_NOMEM, "out of memory", 0);
    if (s->nruns)
        note_peak(s, s->nruns * s->read_buf);
    for (size_t i = 0; i < s->nruns; i++) {
        s->nreaders++;
        if ((st = reader_open(s, &s->readers[i], s->runs[i])) != AH_OK)
            return st;
    }
    if (!s->nruns)
        s->nreaders = 1; /* the in-memory entries */
    return heap_build(s, s->readers, s->nreaders, s->heap, &s->nheap);
}

ah_status ah_keysort_next(ah_keysort *s, ah_keypos *out)
{
    if (s->failed)
        return AH_ERR_IO;
    if (!s->finished)
        return AH_ERR_USAGE;
    if (s->advance_top) {
        s->advance_top = false;
        ah_status st = heap_advance(s, s->heap, &s->nheap);
        if (st != AH_OK)
            return st;
    }
    if (s->nheap == 0)
        return AH_END;
    *out = s->heap[0]->cur;
    s->advance_top = true;
    return AH_OK;
}

uint64_t ah_keysort_runs(const ah_keysort *s) { return s ? s->runs_written : 0; }

size_t ah_keysort_peak(const ah_keysort *s) { return s ? s->peak : 0; }

void ah_keysort_free(ah_keysort *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nreaders; i++)
        reader_close(&s->readers[i]);
    free(s->readers);
    free(s->heap);
    for (size_t i = 0; i < s->nruns; i++)
        delete_run(&s->runs[i]);
    free(s->runs);
    ah_spill_dir_remove(s->diag, s->dir);
    free(s->dir);
    free(s->tmp_parent);
    free(s->buf);
    free(s);
}
