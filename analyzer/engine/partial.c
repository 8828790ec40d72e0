/*
 * partial.c: write and merge partial hunts (see partial.h and
 * docs/scale-out.md).
 *
 * Size: the partial format has one writer and one reader that must agree
 * byte for byte, and the merge walks what the reader reads; keeping them
 * together keeps the format in one place (docs/scale-out.md).
 */
#include "partial.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../parsers/util/hash.h"
#include "../../parsers/util/sha256.h"
#include "../../parsers/util/tempdir.h"
#include "../../parsers/util/varint.h"
#include "dedup.h"
#include "keysort.h"
#include "knowledge.h"

#define POS_STREAM_SHIFT 40 /* a position: stream << 40 | record number (hunt.c's row seq) */
#define POS_RECORD_MASK ((1ull << POS_STREAM_SHIFT) - 1)
#define MANIFEST_MAX ((size_t)1 << 20)

static const char *const file_names[] = {"streams",      "files", "identities", "rows",
                                         "observations", "names", "knowledge"};
enum { F_STREAMS, F_FILES, F_IDENTITIES, F_ROWS, F_OBSERVATIONS, F_NAMES, F_KNOWLEDGE, F_COUNT };

static char *path_join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (p) {
        memcpy(p, dir, a);
        p[a] = '/';
        memcpy(p + a + 1, name, b + 1);
    }
    return p;
}

static char *str_dup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* --- encoding helpers ------------------------------------------------------ */

static void put_u64(ah_buf *b, uint64_t v)
{
    unsigned char tmp[8];
    for (int i = 0; i < 8; i++)
        tmp[i] = (unsigned char)(v >> (8 * i));
    ah_buf_append(b, tmp, 8);
}

/* A string or its absence: 0 = NULL, else length + 1. */
static void put_str(ah_buf *b, const char *s)
{
    if (!s) {
        ah_buf_put_uvarint(b, 0);
        return;
    }
    size_t n = strlen(s);
    ah_buf_put_uvarint(b, (uint64_t)n + 1);
    ah_buf_append(b, s, n);
}

static uint64_t get_u64(ah_vcursor *c)
{
    if (!c->ok || c->end - c->p < 8) {
        c->ok = false;
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)c->p[i] << (8 * i);
    c->p += 8;
    return v;
}

/* A string put by put_str, copied (NUL-terminated); *ok false when it is cut or memory fails. */
static char *get_str(ah_vcursor *c)
{
    uint64_t n = ah_get_uvarint(c);
    if (!c->ok || n == 0)
        return NULL;
    n--;
    if (n > (uint64_t)(c->end - c->p) || memchr(c->p, '\0', (size_t)n)) {
        c->ok = false;
        return NULL;
    }
    char *s = malloc((size_t)n + 1);
    if (!s) {
        c->ok = false;
        return NULL;
    }
    memcpy(s, c->p, (size_t)n);
    s[n] = '\0';
    c->p += n;
    return s;
}

/* --- files of records -------------------------------------------------------- */

typedef struct pfile {
    FILE *f;
    ah_sha256 sha;
    uint64_t size;
    bool failed;
} pfile;

static ah_status pf_open(pfile *pf, const char *dir, const char *name, ah_diag *diag)
{
    char *path = path_join(dir, name);
    if (!path)
        return AH_ERR_NOMEM;
    memset(pf, 0, sizeof *pf);
    pf->f = fopen(path, "wbx");
    if (!pf->f) {
        ah_diag_report(diag, AH_SEV_ERROR, NULL, "%s: %s", path, strerror(errno));
        free(path);
        return AH_ERR_IO;
    }
    free(path);
    ah_sha256_init(&pf->sha);
    return AH_OK;
}

static void pf_write(pfile *pf, const void *p, size_t n)
{
    if (!n || pf->failed)
        return;
    if (fwrite(p, 1, n, pf->f) != n)
        pf->failed = true;
    ah_sha256_update(&pf->sha, p, n);
    pf->size += n;
}

static void pf_record(pfile *pf, const void *p, size_t n)
{
    unsigned char tmp[AH_VARINT_MAX];
    pf_write(pf, tmp, (size_t)(ah_put_uvarint(tmp, n) - tmp));
    pf_write(pf, p, n);
}

/* Close and note the file in the manifest. */
static ah_status pf_close(pfile *pf, const char *name, ah_buf *manifest, ah_diag *diag)
{
    if (!pf->f)
        return AH_ERR_IO;
    bool bad = pf->failed || fflush(pf->f) != 0 || fsync(fileno(pf->f)) != 0;
    bad |= fclose(pf->f) != 0;
    pf->f = NULL;
    if (bad) {
        ah_diag_report(diag, AH_SEV_ERROR, NULL, "writing the partial's %s failed", name);
        return AH_ERR_IO;
    }
    char hex[65];
    ah_sha256_hex(&pf->sha, hex);
    ah_buf_printf(manifest, "file %s %s %llu\n", name, hex, (unsigned long long)pf->size);
    return ah_buf_status(manifest);
}

/* One record of a file: AH_OK, AH_END at the end, AH_ERR_RECORD when cut. */
static ah_status read_record(FILE *f, ah_buf *rec, ah_span *out)
{
    uint64_t n = 0;
    int shift = 0, c;
    for (;;) {
        c = getc(f);
        if (c == EOF)
            return shift == 0 ? AH_END : AH_ERR_RECORD;
        if (shift > 63)
            return AH_ERR_RECORD;
        n |= (uint64_t)(c & 0x7f) << shift;
        shift += 7;
        if (!(c & 0x80))
            break;
    }
    ah_buf_reset(rec);
    if (n > ((uint64_t)1 << 40) || ah_buf_reserve(rec, (size_t)n + 1) != AH_OK)
        return AH_ERR_NOMEM;
    if (n && fread(rec->data, 1, (size_t)n, f) != n)
        return AH_ERR_RECORD;
    rec->len = (size_t)n;
    *out = ah_span_make(rec->data, (size_t)n);
    return AH_OK;
}

/* --- the writer --------------------------------------------------------------- */

struct ah_partial_writer {
    char *dir;
    ah_diag *diag;
    pfile ident;
    ah_buf rec, manifest;
    bool finished;
    ah_status status;
};

static bool dir_empty(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return false;
    struct dirent *e;
    bool empty = true;
    while (empty && (e = readdir(d)) != NULL)
        empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
    closedir(d);
    return empty;
}

ah_partial_writer *ah_partial_create(const char *dir, ah_diag *diag, ah_status *st)
{
    if (mkdir(dir, 0777) != 0 && !(errno == EEXIST && dir_empty(dir))) {
        bool exists = errno == EEXIST;
        ah_diag_report(diag, AH_SEV_ERROR, NULL, "--partial %s: %s", dir,
                       exists ? "exists and is not an empty directory; not overwritten" : strerror(errno));
        *st = exists ? AH_ERR_USAGE : AH_ERR_IO;
        return NULL;
    }
    ah_partial_writer *w = calloc(1, sizeof *w);
    if (!w || !(w->dir = str_dup(dir))) {
        free(w);
        *st = AH_ERR_NOMEM;
        return NULL;
    }
    w->diag = diag;
    ah_diag_temp(diag, w->dir, true); /* a killed shard leaves no half partial */
    ah_buf_init(&w->rec, 0);
    ah_buf_init(&w->manifest, 0);
    if ((*st = pf_open(&w->ident, dir, file_names[F_IDENTITIES], diag)) != AH_OK) {
        ah_partial_writer_free(w);
        return NULL;
    }
    return w;
}

void ah_partial_identity(void *ud, const ah_session_identity *id)
{
    ah_partial_writer *w = ud;
    ah_buf *b = &w->rec;
    ah_buf_reset(b);
    ah_buf_put_uvarint(b, id->stream);
    ah_buf_put_uvarint(b, id->record_no);
    ah_buf_put_uvarint(b, (id->duplicate ? 1u : 0u) | (id->has_time ? 2u : 0u));
    ah_buf_put_uvarint(b, (uint64_t)id->source);
    ah_buf_put_time(b, id->time);
    ah_buf_put_uvarint(b, id->nkeys);
    for (size_t i = 0; i < id->nkeys && i < 2; i++) {
        put_u64(b, id->keys[i][0]);
        put_u64(b, id->keys[i][1]);
    }
    if (ah_buf_status(b) != AH_OK) {
        w->status = AH_ERR_NOMEM;
        return;
    }
    pf_record(&w->ident, b->data, b->len);
}

static void put_stream(ah_buf *b, const ah_stream_report *r, size_t file_index)
{
    put_str(b, r->path);
    put_str(b, r->entry);
    put_str(b, r->container);
    put_str(b, r->encoding);
    put_str(b, r->framing);
    put_str(b, r->format);
    put_str(b, r->failure);
    put_str(b, r->not_a_log);
    ah_buf_put_uvarint(b, (uint64_t)r->source);
    ah_buf_put_uvarint(b, r->member_order);
    ah_buf_put_uvarint(b, file_index);
    ah_buf_put_uvarint(b, r->records);
    ah_buf_put_uvarint(b, r->errors);
    ah_buf_put_uvarint(b, (r->has_time ? 1u : 0u) | (r->failed ? 2u : 0u) | (r->truncated_hint ? 4u : 0u) |
                              (r->no_record ? 8u : 0u));
    ah_buf_put_time(b, r->first);
    ah_buf_put_time(b, r->last);
    ah_buf_put_uvarint(b, r->ambiguous_dates);
    ah_buf_put_uvarint(b, r->no_time);
    ah_buf_put_uvarint(b, r->unknown_zone);
    ah_buf_put_uvarint(b, r->nul_chars);
    ah_buf_put_uvarint(b, r->control_events);
}

ah_status ah_partial_finish(ah_partial_writer *w, const ah_session *s, ah_hunt *h, const ah_names *names,
                            const char *const *header, size_t nheader)
{
    ah_buf *b = &w->rec, *m = &w->manifest;
    ah_status st = w->status;
    pfile pf;
    if (st == AH_OK)
        st = pf_close(&w->ident, file_names[F_IDENTITIES], m, w->diag);
    /* streams */
    if (st == AH_OK && (st = pf_open(&pf, w->dir, file_names[F_STREAMS], w->diag)) == AH_OK) {
        for (size_t i = 0; i < ah_session_stream_count(s); i++) {
            ah_buf_reset(b);
            put_stream(b, ah_session_stream(s, i), ah_session_stream_file(s, i));
            pf_record(&pf, b->data, b->len);
        }
        st = ah_buf_status(b);
        ah_status cs = pf_close(&pf, file_names[F_STREAMS], m, w->diag);
        st = st != AH_OK ? st : cs;
    }
    /* files */
    if (st == AH_OK && (st = pf_open(&pf, w->dir, file_names[F_FILES], w->diag)) == AH_OK) {
        for (size_t i = 0; i < ah_session_file_count(s); i++) {
            ah_file_report f = ah_session_file(s, i);
            ah_buf_reset(b);
            put_str(b, f.path);
            ah_buf_put_uvarint(b, f.size);
            put_str(b, f.sha256 ? f.sha256 : "");
            ah_buf_put_uvarint(b, f.unreadable);
            pf_record(&pf, b->data, b->len);
        }
        st = ah_buf_status(b);
        ah_status cs = pf_close(&pf, file_names[F_FILES], m, w->diag);
        st = st != AH_OK ? st : cs;
    }
    /* rows, in order */
    if (st == AH_OK && (st = pf_open(&pf, w->dir, file_names[F_ROWS], w->diag)) == AH_OK) {
        ah_row row;
        while ((st = ah_hunt_partial_row(h, &row)) == AH_OK) {
            ah_buf_reset(b);
            if ((st = ah_row_encode(&row, b)) != AH_OK)
                break;
            pf_record(&pf, b->data, b->len);
        }
        st = st == AH_END ? AH_OK : st;
        ah_status cs = pf_close(&pf, file_names[F_ROWS], m, w->diag);
        st = st != AH_OK ? st : cs;
    }
    /* observations: the seq, then the observation with its origin spelled out */
    if (st == AH_OK && (st = pf_open(&pf, w->dir, file_names[F_OBSERVATIONS], w->diag)) == AH_OK) {
        ah_observation obs;
        uint64_t seq;
        while ((st = ah_hunt_partial_observation(h, &obs, &seq)) == AH_OK) {
            ah_buf_reset(b);
            ah_buf_put_uvarint(b, seq);
            if ((st = ah_observation_encode(&obs, b)) != AH_OK)
                break;
            pf_record(&pf, b->data, b->len);
        }
        st = st == AH_END ? AH_OK : st;
        ah_status cs = pf_close(&pf, file_names[F_OBSERVATIONS], m, w->diag);
        st = st != AH_OK ? st : cs;
    }
    /* the stores, one record each */
    for (int k = F_NAMES; st == AH_OK && k <= F_KNOWLEDGE; k++) {
        if ((st = pf_open(&pf, w->dir, file_names[k], w->diag)) != AH_OK)
            break;
        ah_buf_reset(b);
        struct ah_knowledge *know = ah_hunt_knowledge(h);
        if (k == F_NAMES && names)
            st = ah_names_save(names, b);
        else if (k == F_KNOWLEDGE && know)
            st = ah_knowledge_save(know, b);
        if (st == AH_OK && b->len)
            pf_record(&pf, b->data, b->len);
        ah_status cs = pf_close(&pf, file_names[k], m, w->diag);
        st = st != AH_OK ? st : cs;
    }
    if (st != AH_OK)
        return st;
    /* the manifest last: a partial without one is no partial */
    ah_buf man;
    ah_buf_init(&man, 0);
    ah_buf_printf(&man, "audithound partial %d\n", AH_PARTIAL_FORMAT);
    for (size_t i = 0; i < nheader; i++)
        ah_buf_printf(&man, "%s\n", header[i]);
    ah_buf_append(&man, m->data, m->len);
    st = ah_buf_status(&man);
    if (st == AH_OK && (st = pf_open(&pf, w->dir, "MANIFEST", w->diag)) == AH_OK) {
        pf_write(&pf, man.data, man.len);
        ah_buf scratch;
        ah_buf_init(&scratch, 0);
        st = pf_close(&pf, "MANIFEST", &scratch, w->diag);
        ah_buf_free(&scratch);
    }
    ah_buf_free(&man);
    if (st == AH_OK) {
        w->finished = true;
        ah_diag_temp(w->diag, w->dir, false); /* complete: the user's now */
    }
    return st;
}

void ah_partial_writer_free(ah_partial_writer *w)
{
    if (!w)
        return;
    if (w->ident.f)
        fclose(w->ident.f);
    if (!w->finished) { /* half a partial must not be merged */
        ah_diag_temp(w->diag, w->dir, false);
        const char *all[F_COUNT + 1];
        for (int i = 0; i < F_COUNT; i++)
            all[i] = file_names[i];
        all[F_COUNT] = "MANIFEST";
        for (int i = 0; i <= F_COUNT; i++) {
            char *p = path_join(w->dir, all[i]);
            if (p)
                unlink(p);
            free(p);
        }
        rmdir(w->dir);
    }
    ah_buf_free(&w->rec);
    ah_buf_free(&w->manifest);
    free(w->dir);
    free(w);
}

/* --- reading ---------------------------------------------------------------------- */

typedef struct pstream {
    ah_stream_report rep;
    char *str[8]; /* path, entry, container, encoding, framing, format, failure, not_a_log */
    size_t file_index;
    size_t ordinal; /* in its file */
    size_t global;
    bool owner; /* this partial's copy is the one merged */
} pstream;

typedef struct pfile_rep {
    char *path, *sha256;
    uint64_t size;
    bool unreadable;
    size_t global;
} pfile_rep;

struct ah_partial {
    char *dir;
    char hash[65];
    char **key, **val; /* MANIFEST lines "key value" */
    size_t nkv;
    char **opt;
    size_t nopt;
    pstream *streams;
    size_t nstreams, streams_cap;
    pfile_rep *files;
    size_t nfiles, files_cap;
};

void ah_partial_free(ah_partial *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nkv; i++) {
        free(p->key[i]);
        free(p->val[i]);
    }
    for (size_t i = 0; i < p->nopt; i++)
        free(p->opt[i]);
    for (size_t i = 0; i < p->nstreams; i++)
        for (int k = 0; k < 8; k++)
            free(p->streams[i].str[k]);
    for (size_t i = 0; i < p->nfiles; i++) {
        free(p->files[i].path);
        free(p->files[i].sha256);
    }
    free(p->key);
    free(p->val);
    free(p->opt);
    free(p->streams);
    free(p->files);
    free(p->dir);
    free(p);
}

const char *ah_partial_dir(const ah_partial *p) { return p->dir; }
const char *ah_partial_hash(const ah_partial *p) { return p->hash; }
size_t ah_partial_option_count(const ah_partial *p) { return p->nopt; }
const char *ah_partial_option(const ah_partial *p, size_t i) { return p->opt[i]; }

const char *ah_partial_value(const ah_partial *p, const char *key)
{
    for (size_t i = 0; i < p->nkv; i++)
        if (strcmp(p->key[i], key) == 0)
            return p->val[i];
    return NULL;
}

static bool push_str(char ***v, size_t *n, const char *s, size_t len)
{
    char **nv = realloc(*v, (*n + 1) * sizeof *nv);
    if (!nv)
        return false;
    *v = nv;
    char *c = malloc(len + 1);
    if (!c)
        return false;
    memcpy(c, s, len);
    c[len] = '\0';
    nv[(*n)++] = c;
    return true;
}

/* Hash a file and compare with what the manifest says. */
static bool file_matches(const char *dir, const char *name, const char *sha, uint64_t size)
{
    char *path = path_join(dir, name);
    FILE *f = path ? fopen(path, "rb") : NULL;
    free(path);
    if (!f)
        return false;
    ah_sha256 h;
    ah_sha256_init(&h);
    char buf[65536];
    size_t n;
    uint64_t total = 0;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        ah_sha256_update(&h, buf, n);
        total += n;
    }
    bool ok = !ferror(f);
    fclose(f);
    char hex[65];
    ah_sha256_hex(&h, hex);
    return ok && total == size && strcmp(hex, sha) == 0;
}

static ah_status refuse(ah_diag *diag, ah_status st, const char *dir, const char *why)
{
    ah_diag_report(diag, AH_SEV_ERROR, NULL, "partial %s: %s", dir, why);
    return st;
}

static ah_status parse_manifest(ah_partial *p, const char *text, size_t len, ah_diag *diag)
{
    bool seen[F_COUNT] = {false};
    const char *end = text + len, *line = text;
    size_t no = 0;
    while (line < end) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        if (!nl)
            return refuse(diag, AH_ERR_RECORD, p->dir, "MANIFEST is cut short");
        size_t n = (size_t)(nl - line);
        if (no++ == 0) {
            char want[64];
            snprintf(want, sizeof want, "audithound partial %d", AH_PARTIAL_FORMAT);
            if (n != strlen(want) || memcmp(line, want, n) != 0)
                return refuse(
                    diag, AH_ERR_RECORD, p->dir,
                    "not a partial of this format (its MANIFEST does not start with \"audithound partial 1\")");
        } else if (n > 7 && memcmp(line, "option ", 7) == 0) {
            if (!push_str(&p->opt, &p->nopt, line + 7, n - 7))
                return AH_ERR_NOMEM;
        } else if (n > 5 && memcmp(line, "file ", 5) == 0) {
            char name[32], sha[65];
            unsigned long long size;
            char copy[160];
            if (n >= sizeof copy)
                return refuse(diag, AH_ERR_RECORD, p->dir, "MANIFEST has a bad file line");
            memcpy(copy, line, n);
            copy[n] = '\0';
            if (sscanf(copy, "file %31s %64s %llu", name, sha, &size) != 3)
                return refuse(diag, AH_ERR_RECORD, p->dir, "MANIFEST has a bad file line");
            int k = -1;
            for (int i = 0; i < F_COUNT; i++)
                if (strcmp(name, file_names[i]) == 0)
                    k = i;
            if (k < 0 || seen[k])
                return refuse(diag, AH_ERR_RECORD, p->dir, "MANIFEST names an unknown or repeated file");
            seen[k] = true;
            if (!file_matches(p->dir, name, sha, size)) {
                char why[128];
                snprintf(why, sizeof why, "%s is missing, truncated or altered (its SHA-256 is not the MANIFEST's)",
                         name);
                return refuse(diag, AH_ERR_RECORD, p->dir, why);
            }
        } else {
            const char *sp = memchr(line, ' ', n);
            if (!sp)
                return refuse(diag, AH_ERR_RECORD, p->dir, "MANIFEST has a line without a value");
            if (!push_str(&p->key, &p->nkv, line, (size_t)(sp - line)) ||
                !push_str(&p->val, &(size_t){p->nkv - 1}, sp + 1, (size_t)(nl - sp - 1)))
                return AH_ERR_NOMEM;
        }
        line = nl + 1;
    }
    for (int i = 0; i < F_COUNT; i++)
        if (!seen[i])
            return refuse(diag, AH_ERR_RECORD, p->dir, "MANIFEST does not list every file of a partial");
    return AH_OK;
}

static FILE *open_part_file(const ah_partial *p, int k)
{
    char *path = path_join(p->dir, file_names[k]);
    FILE *f = path ? fopen(path, "rb") : NULL;
    free(path);
    return f;
}

/* Every record of the partial's file k, in order, to fn (which may stop the
 * walk with a status); AH_ERR_IO when the file cannot be opened. */
typedef ah_status (*record_fn)(ah_partial *p, ah_span rec, void *ctx);

/* The same over an open file of records (closed here): the merge's filtered copies. */
static ah_status each_record_in(FILE *f, ah_partial *p, record_fn fn, void *ctx);

static ah_status each_record(ah_partial *p, int k, record_fn fn, void *ctx)
{
    FILE *f = open_part_file(p, k);
    if (!f)
        return AH_ERR_IO;
    return each_record_in(f, p, fn, ctx);
}

static ah_status each_record_in(FILE *f, ah_partial *p, record_fn fn, void *ctx)
{
    ah_buf rec;
    ah_buf_init(&rec, 0);
    ah_span r;
    ah_status st;
    while ((st = read_record(f, &rec, &r)) == AH_OK && (st = fn(p, r, ctx)) == AH_OK)
        ;
    fclose(f);
    ah_buf_free(&rec);
    return st == AH_END ? AH_OK : st;
}

/* A failed walk over one of the partial's files, reported: unreadable, or
 * holding what this binary cannot take (out of memory is only returned). */
static ah_status partial_fault(ah_partial *p, ah_status st, ah_diag *diag, const char *unreadable, const char *corrupt)
{
    if (st == AH_ERR_IO)
        return refuse(diag, st, p->dir, unreadable);
    if (st == AH_ERR_RECORD)
        return refuse(diag, st, p->dir, corrupt);
    return st;
}

static ah_status one_stream(ah_partial *p, ah_span r, void *ctx)
{
    (void)ctx;
    if (p->nstreams == p->streams_cap) {
        pstream *ns = ah_grow_array(p->streams, &p->streams_cap, 16, sizeof *ns);
        if (!ns)
            return AH_ERR_NOMEM;
        p->streams = ns;
    }
    pstream *s = &p->streams[p->nstreams++];
    memset(s, 0, sizeof *s);
    ah_vcursor c = {(const unsigned char *)r.p, (const unsigned char *)r.p + r.n, true};
    for (int k = 0; k < 8; k++)
        s->str[k] = get_str(&c);
    ah_stream_report *rep = &s->rep;
    rep->path = s->str[0];
    rep->entry = s->str[1];
    rep->container = s->str[2];
    rep->encoding = s->str[3];
    rep->framing = s->str[4];
    rep->format = s->str[5];
    rep->failure = s->str[6];
    rep->not_a_log = s->str[7];
    rep->source = (ah_source_kind)ah_get_uvarint(&c);
    rep->member_order = ah_get_uvarint(&c);
    s->file_index = (size_t)ah_get_uvarint(&c);
    rep->records = ah_get_uvarint(&c);
    rep->errors = ah_get_uvarint(&c);
    uint64_t flags = ah_get_uvarint(&c);
    rep->has_time = flags & 1;
    rep->failed = flags & 2;
    rep->truncated_hint = flags & 4;
    rep->no_record = flags & 8;
    rep->first = ah_time_get(&c);
    rep->last = ah_time_get(&c);
    rep->ambiguous_dates = ah_get_uvarint(&c);
    rep->no_time = ah_get_uvarint(&c);
    rep->unknown_zone = ah_get_uvarint(&c);
    rep->nul_chars = ah_get_uvarint(&c);
    rep->control_events = ah_get_uvarint(&c);
    if (!c.ok || c.p != c.end || !rep->path || (unsigned)rep->source >= AH_SOURCE_COUNT)
        return AH_ERR_RECORD;
    return AH_OK;
}

static ah_status load_streams(ah_partial *p, ah_diag *diag)
{
    ah_status st = each_record(p, F_STREAMS, one_stream, NULL);
    /* the stream's ordinal in its file: streams of a file come together */
    for (size_t i = 0; st == AH_OK && i < p->nstreams; i++)
        p->streams[i].ordinal =
            i && p->streams[i - 1].file_index == p->streams[i].file_index ? p->streams[i - 1].ordinal + 1 : 0;
    return st == AH_OK ? AH_OK : partial_fault(p, st, diag, "streams cannot be read", "streams is not a stream table");
}

static ah_status one_file(ah_partial *p, ah_span r, void *ctx)
{
    (void)ctx;
    if (p->nfiles == p->files_cap) {
        pfile_rep *nf = ah_grow_array(p->files, &p->files_cap, 16, sizeof *nf);
        if (!nf)
            return AH_ERR_NOMEM;
        p->files = nf;
    }
    pfile_rep *fr = &p->files[p->nfiles++];
    memset(fr, 0, sizeof *fr);
    ah_vcursor c = {(const unsigned char *)r.p, (const unsigned char *)r.p + r.n, true};
    fr->path = get_str(&c);
    fr->size = ah_get_uvarint(&c);
    fr->sha256 = get_str(&c);
    fr->unreadable = ah_get_uvarint(&c) != 0;
    return c.ok && c.p == c.end && fr->path && fr->sha256 ? AH_OK : AH_ERR_RECORD;
}

static ah_status load_files(ah_partial *p, ah_diag *diag)
{
    ah_status st = each_record(p, F_FILES, one_file, NULL);
    for (size_t i = 0; st == AH_OK && i < p->nstreams; i++)
        if (p->streams[i].file_index >= p->nfiles)
            st = AH_ERR_RECORD;
    return st == AH_OK ? AH_OK : partial_fault(p, st, diag, "files cannot be read", "files is not a file table");
}

ah_partial *ah_partial_open(const char *dir, ah_diag *diag, ah_status *st)
{
    ah_partial *p = calloc(1, sizeof *p);
    if (!p || !(p->dir = str_dup(dir))) {
        free(p);
        *st = AH_ERR_NOMEM;
        return NULL;
    }
    char *path = path_join(dir, "MANIFEST");
    FILE *f = path ? fopen(path, "rb") : NULL;
    free(path);
    if (!f) {
        *st = refuse(diag, AH_ERR_IO, dir, "no MANIFEST: not a partial, or an unfinished one");
        ah_partial_free(p);
        return NULL;
    }
    char *text = malloc(MANIFEST_MAX);
    size_t len = text ? fread(text, 1, MANIFEST_MAX, f) : 0;
    bool bad = !text || ferror(f) || len == MANIFEST_MAX;
    fclose(f);
    if (bad) {
        *st = text ? refuse(diag, AH_ERR_RECORD, dir, "MANIFEST cannot be read") : AH_ERR_NOMEM;
        free(text);
        ah_partial_free(p);
        return NULL;
    }
    ah_sha256 h;
    ah_sha256_init(&h);
    ah_sha256_update(&h, text, len);
    ah_sha256_hex(&h, p->hash);
    *st = parse_manifest(p, text, len, diag);
    free(text);
    if (*st == AH_OK)
        *st = load_streams(p, diag);
    if (*st == AH_OK)
        *st = load_files(p, diag);
    if (*st != AH_OK) {
        ah_partial_free(p);
        return NULL;
    }
    return p;
}

/* --- merging ------------------------------------------------------------------------- */

/* (partial, position) pairs: the losers, events a shard kept that an
 * earlier copy in another shard makes duplicates. */
typedef struct posset {
    uint64_t (*v)[2]; /* {partial + 1, position}; {0, _} empty */
    size_t cap, n;
} posset;

static size_t posset_slot(const posset *s, uint64_t a, uint64_t b)
{
    uint64_t key[2] = {a, b};
    size_t mask = s->cap - 1, i = (size_t)ah_hash64(key, sizeof key, 0x6c6f7365) & mask;
    while (s->v[i][0] && (s->v[i][0] != a || s->v[i][1] != b))
        i = (i + 1) & mask;
    return i;
}

static bool posset_add(posset *s, uint64_t a, uint64_t b)
{
    if ((s->n + 1) * 2 > s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 1024;
        posset ns = {calloc(ncap, sizeof *ns.v), ncap, 0};
        if (!ns.v)
            return false;
        for (size_t i = 0; i < s->cap; i++)
            if (s->v[i][0]) {
                size_t j = posset_slot(&ns, s->v[i][0], s->v[i][1]);
                ns.v[j][0] = s->v[i][0];
                ns.v[j][1] = s->v[i][1];
                ns.n++;
            }
        free(s->v);
        *s = ns;
    }
    size_t j = posset_slot(s, a, b);
    if (!s->v[j][0]) {
        s->v[j][0] = a;
        s->v[j][1] = b;
        s->n++;
    }
    return true;
}

static bool posset_has(const posset *s, uint64_t a, uint64_t b) { return s->cap && s->v[posset_slot(s, a, b)][0] != 0; }

/* The losers within a budget: past it the set is written out as a chunk
 * (pairs of 64-bit words) to a spill directory and emptied, and each chunk
 * later filters the rows and observations in a pass of its own (the rows
 * are in time order, the losers in position order: no walk in step). */
typedef struct loser_store {
    posset mem; /* the losers since the last chunk */
    size_t budget;
    const char *tmpdir;
    ah_diag *diag;
    char *dir; /* made at the first chunk */
    size_t nchunks;
} loser_store;

static char *chunk_path(const loser_store *ls, const char *what, size_t a, size_t b)
{
    char name[64];
    snprintf(name, sizeof name, "%s-%zu-%zu", what, a, b);
    return path_join(ls->dir, name);
}

static ah_status losers_flush(loser_store *ls)
{
    ah_status st = AH_OK;
    if (!ls->dir && !(ls->dir = ah_spill_dir_new(ls->tmpdir, "merge", ls->diag, &st)))
        return st;
    char *path = chunk_path(ls, "losers", ls->nchunks, 0);
    FILE *f = path ? fopen(path, "wb") : NULL;
    free(path);
    if (!f)
        return path ? AH_ERR_IO : AH_ERR_NOMEM;
    for (size_t i = 0; i < ls->mem.cap; i++)
        if (ls->mem.v[i][0] && fwrite(ls->mem.v[i], sizeof ls->mem.v[i], 1, f) != 1)
            st = AH_ERR_IO;
    if (fclose(f) != 0)
        st = AH_ERR_IO;
    free(ls->mem.v);
    ls->mem = (posset){0};
    ls->nchunks++;
    return st;
}

static ah_status losers_add(loser_store *ls, uint64_t a, uint64_t b)
{
    if (!posset_add(&ls->mem, a, b))
        return AH_ERR_NOMEM;
    return ls->mem.cap * sizeof *ls->mem.v > ls->budget ? losers_flush(ls) : AH_OK;
}

/* Chunk c's losers of partial `part` (1-based) into set. */
static ah_status losers_load(const loser_store *ls, size_t c, uint64_t part, posset *set)
{
    char *path = chunk_path(ls, "losers", c, 0);
    FILE *f = path ? fopen(path, "rb") : NULL;
    free(path);
    if (!f)
        return AH_ERR_IO;
    uint64_t pair[2];
    ah_status st = AH_OK;
    while (st == AH_OK && fread(pair, sizeof pair, 1, f) == 1)
        if (pair[0] == part && !posset_add(set, pair[0], pair[1]))
            st = AH_ERR_NOMEM;
    if (ferror(f))
        st = AH_ERR_IO;
    fclose(f);
    return st;
}

static void losers_free(loser_store *ls)
{
    free(ls->mem.v);
    if (ls->dir) {
        ah_spill_dir_remove(ls->diag, ls->dir);
        free(ls->dir);
    }
}

static int cmp_part_hash(const void *a, const void *b)
{
    return strcmp((*(ah_partial *const *)a)->hash, (*(ah_partial *const *)b)->hash);
}

typedef struct sref {
    ah_partial *p;
    size_t part, local;
} sref;

static int cmp_sref(const void *a, const void *b)
{
    const sref *x = a, *y = b;
    const pstream *s = &x->p->streams[x->local], *t = &y->p->streams[y->local];
    int c = ah_path_order(s->rep.path, t->rep.path);
    if (c)
        return c;
    if (s->rep.member_order != t->rep.member_order) /* archive order, whichever members a shard read */
        return s->rep.member_order < t->rep.member_order ? -1 : 1;
    if (s->ordinal != t->ordinal)
        return s->ordinal < t->ordinal ? -1 : 1;
    return x->part < y->part ? -1 : x->part > y->part;
}

typedef struct fref {
    ah_partial *p;
    size_t part, local;
} fref;

static int cmp_fref(const void *a, const void *b)
{
    const fref *x = a, *y = b;
    int c = ah_path_order(x->p->files[x->local].path, y->p->files[y->local].path);
    if (c)
        return c;
    return x->part < y->part ? -1 : x->part > y->part;
}

/* The canonical order of every stream and file; owners; the account's tables. */
static ah_status place_streams(ah_partial **parts, size_t n, ah_session *acct, ah_diag *diag)
{
    size_t total = 0, nf = 0;
    for (size_t i = 0; i < n; i++) {
        total += parts[i]->nstreams;
        nf += parts[i]->nfiles;
    }
    fref *fr = malloc((nf ? nf : 1) * sizeof *fr);
    sref *sr = malloc((total ? total : 1) * sizeof *sr);
    if (!fr || !sr) {
        free(fr);
        free(sr);
        return AH_ERR_NOMEM;
    }
    size_t k = 0, kf = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < parts[i]->nstreams; j++)
            sr[k++] = (sref){parts[i], i, j};
        for (size_t j = 0; j < parts[i]->nfiles; j++)
            fr[kf++] = (fref){parts[i], i, j};
    }
    qsort(fr, nf, sizeof *fr, cmp_fref);
    qsort(sr, total, sizeof *sr, cmp_sref);
    ah_status st = AH_OK;
    size_t g = 0;
    for (size_t i = 0; i < nf && st == AH_OK; i++) {
        pfile_rep *f = &fr[i].p->files[fr[i].local];
        const pfile_rep *first = i ? &fr[i - 1].p->files[fr[i - 1].local] : NULL;
        if (first && strcmp(first->path, f->path) == 0) {
            if (strcmp(first->sha256, f->sha256) != 0 || first->size != f->size) {
                ah_diag_report(diag, AH_SEV_ERROR, NULL,
                               "partials %s and %s read different contents of input %s (SHA-256 %s, %s): not one case",
                               fr[i - 1].p->dir, fr[i].p->dir, f->path, first->sha256, f->sha256);
                st = AH_ERR_USAGE;
            }
            f->global = first->global;
            continue;
        }
        f->global = g++;
        ah_file_report rep = {f->path, f->size, f->sha256, f->unreadable};
        st = ah_session_account_file(acct, &rep);
    }
    g = 0;
    for (size_t i = 0; i < total && st == AH_OK; i++) {
        pstream *s = &sr[i].p->streams[sr[i].local];
        const pstream *prev = i ? &sr[i - 1].p->streams[sr[i - 1].local] : NULL;
        if (prev && strcmp(prev->rep.path, s->rep.path) == 0 && prev->rep.member_order == s->rep.member_order &&
            (s->rep.member_order || prev->ordinal == s->ordinal)) {
            bool same_entry = (!prev->rep.entry && !s->rep.entry) ||
                              (prev->rep.entry && s->rep.entry && strcmp(prev->rep.entry, s->rep.entry) == 0);
            if (!same_entry || prev->rep.records != s->rep.records) {
                ah_diag_report(diag, AH_SEV_ERROR, NULL,
                               "partials %s and %s read stream %zu of input %s differently (another member or "
                               "record count): they were not made from the same inputs",
                               sr[i - 1].p->dir, sr[i].p->dir, s->ordinal + 1, s->rep.path);
                st = AH_ERR_USAGE;
            }
            s->global = prev->global;
            s->owner = false;
            continue;
        }
        s->global = g++;
        s->owner = true; /* the first partial by hash that has it */
        st = ah_session_account_stream(acct, &s->rep, sr[i].p->files[s->file_index].global);
    }
    free(fr);
    free(sr);
    /* A shard's positions must order as the canonical ones do, or its local
     * duplicates would not be the merge's. */
    for (size_t i = 0; i < n && st == AH_OK; i++)
        for (size_t j = 1; j < parts[i]->nstreams && st == AH_OK; j++)
            if (parts[i]->streams[j].global <= parts[i]->streams[j - 1].global) {
                ah_diag_report(diag, AH_SEV_ERROR, NULL,
                               "partial %s read its inputs in another order than the canonical one (%s before %s); "
                               "give its inputs as paths that sort as the merge sorts them (docs/scale-out.md)",
                               parts[i]->dir, parts[i]->streams[j - 1].rep.path, parts[i]->streams[j].rep.path);
                st = AH_ERR_USAGE;
            }
    return st;
}

typedef struct ident {
    size_t stream;
    uint64_t record_no;
    bool dup, has_time;
    ah_source_kind source;
    ah_time time;
    uint64_t keys[2][2];
    size_t nkeys;
} ident;

typedef struct ireader {
    FILE *f;
    ah_buf rec;
    bool have, end;
    ident cur;
} ireader;

static ah_status ireader_next(ireader *r)
{
    ah_span s;
    ah_status st = read_record(r->f, &r->rec, &s);
    r->have = st == AH_OK;
    r->end = st == AH_END;
    if (st != AH_OK)
        return st == AH_END ? AH_OK : st;
    ah_vcursor c = {(const unsigned char *)s.p, (const unsigned char *)s.p + s.n, true};
    ident *e = &r->cur;
    e->stream = (size_t)ah_get_uvarint(&c);
    e->record_no = ah_get_uvarint(&c);
    uint64_t flags = ah_get_uvarint(&c);
    e->dup = flags & 1;
    e->has_time = flags & 2;
    e->source = (ah_source_kind)ah_get_uvarint(&c);
    e->time = ah_time_get(&c);
    e->nkeys = (size_t)ah_get_uvarint(&c);
    if (e->nkeys > 2)
        c.ok = false;
    for (size_t i = 0; i < e->nkeys && c.ok; i++) {
        e->keys[i][0] = get_u64(&c);
        e->keys[i][1] = get_u64(&c);
    }
    return c.ok && c.p == c.end && (unsigned)e->source < AH_SOURCE_COUNT ? AH_OK : AH_ERR_RECORD;
}

static int cmp_global(const void *a, const void *b)
{
    const sref *x = a, *y = b;
    size_t g = x->p->streams[x->local].global, h = y->p->streams[y->local].global;
    return g < h ? -1 : g > h;
}


/* Every event of every kept stream, in canonical order, decided as one
 * session decides it (session.c): in one set of keys while the set fits its
 * budget; past it (at P0) the rest is walked for its keys only, sorted to
 * disk, and a second walk decides from P0 on by the late duplicates. */
typedef struct replay {
    ah_partial **parts;
    size_t n;
    ah_session *acct;
    ah_hunt *h;
    loser_store *losers;
    ah_partial_event_fn event_fn;
    void *event_ud;
    ah_diag *diag;
    bool keep_duplicates;
    size_t budget;
    const char *tmpdir;
    ah_dedup *seen;
    ah_keysort *keys, *late;
    bool spilled, second, late_valid;
    uint64_t p0, late_pos;
} replay;

typedef ah_status (*visit_fn)(replay *rp, size_t part, size_t g, size_t local, const ident *e);

/* Walk the owners' streams in global order (each partial's in its own order). */
static ah_status walk(replay *rp, visit_fn fn)
{
    ah_partial **parts = rp->parts;
    size_t n = rp->n;
    ireader *rd = calloc(n ? n : 1, sizeof *rd);
    if (!rd)
        return AH_ERR_NOMEM;
    ah_status st = AH_OK;
    for (size_t i = 0; i < n && st == AH_OK; i++) {
        ah_buf_init(&rd[i].rec, 0);
        if (!(rd[i].f = open_part_file(parts[i], F_IDENTITIES)))
            st = refuse(rp->diag, AH_ERR_IO, parts[i]->dir, "identities cannot be read");
        else
            st = ireader_next(&rd[i]);
    }
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += parts[i]->nstreams;
    sref *order = malloc((total ? total : 1) * sizeof *order);
    size_t no = 0;
    if (!order && st == AH_OK)
        st = AH_ERR_NOMEM;
    for (size_t i = 0; order && i < n; i++)
        for (size_t j = 0; j < parts[i]->nstreams; j++)
            if (parts[i]->streams[j].owner)
                order[no++] = (sref){parts[i], i, j};
    if (order)
        qsort(order, no, sizeof *order, cmp_global);
    for (size_t o = 0; o < no && st == AH_OK; o++) {
        ireader *r = &rd[order[o].part];
        size_t local = order[o].local, g = order[o].p->streams[local].global;
        while (st == AH_OK && r->have && r->cur.stream < local) /* a stream another partial owns */
            st = ireader_next(r);
        for (; st == AH_OK && r->have && r->cur.stream == local; st = ireader_next(r))
            if ((st = fn(rp, order[o].part, g, local, &r->cur)) != AH_OK)
                break;
    }
    for (size_t i = 0; i < n && st == AH_OK; i++)
        if (rd[i].f && rd[i].have && rd[i].cur.stream >= parts[i]->nstreams)
            st = refuse(rp->diag, AH_ERR_RECORD, parts[i]->dir, "identities name a stream the partial does not have");
    for (size_t i = 0; i < n; i++) {
        if (rd[i].f)
            fclose(rd[i].f);
        ah_buf_free(&rd[i].rec);
    }
    free(rd);
    free(order);
    if (st == AH_ERR_RECORD)
        ah_diag_report(rp->diag, AH_SEV_ERROR, NULL, "a partial's identities are not readable");
    return st;
}

/* The event's fate is known: count it, and note a loser. */
static ah_status settle(replay *rp, size_t part, size_t g, size_t local, const ident *e, bool dup)
{
    uint64_t pos = ((uint64_t)local << POS_STREAM_SHIFT) | (e->record_no & POS_RECORD_MASK);
    ah_status st;
    if (dup && !e->dup && (st = losers_add(rp->losers, part + 1, pos)) != AH_OK)
        return st;
    if (!dup && e->dup)
        return refuse(rp->diag, AH_ERR_USAGE, rp->parts[part]->dir,
                      "a record it dropped as a duplicate is the first of its kind over all partials: "
                      "its inputs were read out of canonical order");
    ah_session_account_event(rp->acct, g, e->source, e->has_time, e->time, dup);
    if (!dup) {
        ah_hunt_count_event(rp->h, e->has_time, e->time);
        if (rp->event_fn)
            rp->event_fn(rp->event_ud, e->source, e->has_time, e->time);
    }
    return AH_OK;
}

static ah_status visit(replay *rp, size_t part, size_t g, size_t local, const ident *e)
{
    uint64_t pos = ((uint64_t)g << POS_STREAM_SHIFT) | (e->record_no & POS_RECORD_MASK);
    ah_status st;
    if (rp->keep_duplicates)
        return settle(rp, part, g, local, e, false);
    if (rp->second) {
        if (pos < rp->p0)
            return AH_OK; /* decided by the first walk */
        ah_keypos k;
        while (rp->late_valid && rp->late_pos < pos) {
            st = ah_keysort_next(rp->late, &k);
            if (st != AH_OK && st != AH_END)
                return st;
            rp->late_valid = st == AH_OK;
            rp->late_pos = k.pos;
        }
        return settle(rp, part, g, local, e, rp->late_valid && rp->late_pos == pos);
    }
    if (!rp->spilled) {
        size_t fresh = 0;
        for (size_t k = 0; k < e->nkeys; k++)
            fresh += !ah_dedup_contains(rp->seen, e->keys[k]);
        if (fresh > ah_dedup_room(rp->seen)) { /* P0: the set goes to disk as keys before every position */
            if (!(rp->keys = ah_keysort_new(rp->budget, rp->tmpdir, rp->diag)))
                return AH_ERR_NOMEM;
            const uint64_t *sorted;
            size_t nsorted = ah_dedup_sorted(rp->seen, &sorted);
            if ((st = ah_keysort_add_sorted(rp->keys, sorted, nsorted, 0)) != AH_OK)
                return st;
            ah_dedup_free(rp->seen);
            rp->seen = NULL;
            rp->spilled = true;
            rp->p0 = pos;
        }
    }
    if (rp->spilled) {
        for (size_t k = 0; k < e->nkeys; k++) {
            ah_keypos kp = {e->keys[k][0], e->keys[k][1], pos};
            if ((st = ah_keysort_add(rp->keys, &kp)) != AH_OK)
                return st;
        }
        return AH_OK;
    }
    bool dup = false;
    for (size_t k = 0; k < e->nkeys; k++)
        if (!ah_dedup_insert(rp->seen, e->keys[k]))
            dup = true;
    return settle(rp, part, g, local, e, dup);
}

/* The keys after P0, sorted: every position of a key after its first is a late duplicate. */
static ah_status find_late(replay *rp)
{
    ah_status st = ah_keysort_finish(rp->keys);
    if (st != AH_OK)
        return st;
    if (!(rp->late = ah_keysort_new(rp->budget, rp->tmpdir, rp->diag)))
        return AH_ERR_NOMEM;
    ah_keypos e, first = {0, 0, 0};
    bool have = false;
    while ((st = ah_keysort_next(rp->keys, &e)) == AH_OK) {
        if (have && e.k0 == first.k0 && e.k1 == first.k1) {
            ah_keypos late = {0, 0, e.pos};
            if ((st = ah_keysort_add(rp->late, &late)) != AH_OK)
                return st;
        } else {
            first = e;
            have = true;
        }
    }
    if (st != AH_END || (st = ah_keysort_finish(rp->late)) != AH_OK)
        return st;
    st = ah_keysort_next(rp->late, &e);
    rp->late_valid = st == AH_OK;
    rp->late_pos = e.pos;
    return st == AH_END ? AH_OK : st;
}

static ah_status replay_identities(replay *rp)
{
    if (!rp->keep_duplicates && !(rp->seen = ah_dedup_new_limited(rp->budget)))
        return AH_ERR_NOMEM;
    ah_status st = walk(rp, visit);
    if (st == AH_OK && rp->spilled && (st = find_late(rp)) == AH_OK) {
        rp->second = true;
        st = walk(rp, visit);
    }
    ah_dedup_free(rp->seen);
    ah_keysort_free(rp->keys);
    ah_keysort_free(rp->late);
    return st;
}

/* The global position of a shard's local one; false when the event is not merged. */
static bool remap(const ah_partial *p, size_t part, const posset *losers, uint64_t seq, uint64_t *out)
{
    size_t local = (size_t)(seq >> POS_STREAM_SHIFT);
    if (local >= p->nstreams || !p->streams[local].owner || posset_has(losers, part + 1, seq))
        return false;
    *out = ((uint64_t)p->streams[local].global << POS_STREAM_SHIFT) | (seq & POS_RECORD_MASK);
    return true;
}

typedef struct feed {
    size_t part;
    const posset *losers;
    ah_hunt *h;
    ah_buf rules; /* a decoded row's rule indices */
} feed;

static ah_status feed_row(ah_partial *p, ah_span r, void *ctx)
{
    feed *fd = ctx;
    ah_row row;
    if (!ah_row_decode(r, &row, &fd->rules))
        return AH_ERR_RECORD;
    if (!remap(p, fd->part, fd->losers, row.seq, &row.seq))
        return AH_OK;
    return ah_hunt_add_row(fd->h, &row);
}

static ah_status feed_observation(ah_partial *p, ah_span r, void *ctx)
{
    feed *fd = ctx;
    ah_vcursor c = {(const unsigned char *)r.p, (const unsigned char *)r.p + r.n, true};
    uint64_t seq = ah_get_uvarint(&c), global;
    ah_observation obs;
    if (!c.ok || ah_observation_decode(ah_span_make((const char *)c.p, (size_t)(c.end - c.p)), &obs) != AH_OK)
        return AH_ERR_RECORD;
    if (!remap(p, fd->part, fd->losers, seq, &global))
        return AH_OK;
    ah_status st = ah_hunt_add_observation(fd->h, &obs, global);
    return st == AH_ERR_USAGE ? AH_ERR_RECORD : st; /* no correlation rule to replay it */
}

/* The position a record of the rows or observations file belongs to. */
static bool record_seq(int k, ah_span r, ah_buf *rules, uint64_t *seq)
{
    if (k == F_ROWS) {
        ah_row row;
        if (!ah_row_decode(r, &row, rules))
            return false;
        *seq = row.seq;
        return true;
    }
    ah_vcursor c = {(const unsigned char *)r.p, (const unsigned char *)r.p + r.n, true};
    *seq = ah_get_uvarint(&c);
    return c.ok;
}

/* One pass of a spilled chunk of losers: copy the records it does not drop. */
typedef struct sieve {
    int k;
    uint64_t part; /* 1-based, as the losers name partials */
    const posset *drop;
    FILE *out;
    ah_buf rules;
} sieve;

static ah_status sieve_record(ah_partial *p, ah_span r, void *ctx)
{
    (void)p;
    sieve *sv = ctx;
    uint64_t seq;
    if (!record_seq(sv->k, r, &sv->rules, &seq))
        return AH_ERR_RECORD;
    if (posset_has(sv->drop, sv->part, seq))
        return AH_OK;
    unsigned char tmp[AH_VARINT_MAX];
    size_t n = (size_t)(ah_put_uvarint(tmp, r.n) - tmp);
    return fwrite(tmp, 1, n, sv->out) == n && fwrite(r.p, 1, r.n, sv->out) == r.n ? AH_OK : AH_ERR_IO;
}

/* Feed partial `part`'s rows or observations (k) to the merge hunt, without
 * the losers: first one filtering pass per spilled chunk that names any of
 * this partial's records (each writes a copy the next pass reads), then the
 * feed itself against the losers still in memory. */
static ah_status feed_file(ah_partial *p, size_t part, int k, loser_store *ls, ah_hunt *h, ah_diag *diag)
{
    FILE *f = open_part_file(p, k);
    char *prev = NULL; /* the filtered copy f reads, removed once read */
    ah_status st = f ? AH_OK : AH_ERR_IO;
    bool spill_failed = false;
    for (size_t c = 0; st == AH_OK && c < ls->nchunks; c++) {
        posset drop = {0};
        if ((st = losers_load(ls, c, part + 1, &drop)) == AH_OK && drop.n) {
            char *next = chunk_path(ls, k == F_ROWS ? "rows" : "observations", part, c);
            FILE *out = next ? fopen(next, "w+b") : NULL;
            if (!out) {
                st = next ? AH_ERR_IO : AH_ERR_NOMEM;
                spill_failed = true;
            } else {
                sieve sv = {k, part + 1, &drop, out, {0}};
                ah_buf_init(&sv.rules, 0);
                st = each_record_in(f, p, sieve_record, &sv);
                ah_buf_free(&sv.rules);
                if (st == AH_OK && (fflush(out) != 0 || fseek(out, 0, SEEK_SET) != 0))
                    st = AH_ERR_IO;
                spill_failed = st == AH_ERR_IO;
                f = out;
            }
            if (prev) {
                unlink(prev);
                free(prev);
            }
            prev = next;
        } else if (st == AH_ERR_IO) {
            spill_failed = true;
        }
        free(drop.v);
    }
    if (st == AH_OK) {
        feed fd = {part, &ls->mem, h, {0}};
        ah_buf_init(&fd.rules, 0);
        st = each_record_in(f, p, k == F_ROWS ? feed_row : feed_observation, &fd);
        f = NULL;
        ah_buf_free(&fd.rules);
    }
    if (f)
        fclose(f);
    if (prev) {
        unlink(prev);
        free(prev);
    }
    if (st == AH_OK)
        return AH_OK;
    if (spill_failed) {
        ah_diag_report(diag, AH_SEV_ERROR, NULL, "the merge's temporary files under %s could not be written",
                       ls->dir ? ls->dir : "--tmpdir");
        return st;
    }
    return k == F_ROWS ? partial_fault(p, st, diag, "rows cannot be read", "rows holds a row this binary cannot read")
                       : partial_fault(p, st, diag, "observations cannot be read",
                                       "observations holds one this binary and rule set cannot replay");
}

/* A store file: one record, or none. */
static ah_status load_store(ah_partial *p, int k, ah_names *names, struct ah_knowledge *know, ah_diag *diag)
{
    FILE *f = open_part_file(p, k);
    if (!f)
        return refuse(diag, AH_ERR_IO, p->dir, "a store cannot be read");
    ah_buf rec;
    ah_buf_init(&rec, 0);
    ah_span r;
    ah_status st = read_record(f, &rec, &r);
    fclose(f);
    if (st == AH_OK) {
        if (k == F_NAMES && names)
            st = ah_names_load_saved(names, r);
        else if (k == F_KNOWLEDGE && know)
            st = ah_knowledge_load_saved(know, r);
    } else if (st == AH_END) {
        st = AH_OK;
    }
    ah_buf_free(&rec);
    if (st == AH_ERR_RECORD)
        return refuse(diag, st, p->dir, k == F_NAMES ? "names is not a names store" : "knowledge is not a store");
    return st;
}

ah_status ah_partial_merge(ah_partial **given, size_t n, bool keep_duplicates, size_t key_budget, const char *tmpdir,
                           ah_session *acct, ah_hunt *h, ah_names *names, ah_partial_event_fn event_fn, void *event_ud,
                           ah_diag *diag)
{
    ah_partial **parts = malloc((n ? n : 1) * sizeof *parts);
    if (!parts)
        return AH_ERR_NOMEM;
    memcpy(parts, given, n * sizeof *parts);
    qsort(parts, n, sizeof *parts, cmp_part_hash);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) /* the same partial twice: its copy adds nothing */
        if (!kept || strcmp(parts[i]->hash, parts[kept - 1]->hash) != 0)
            parts[kept++] = parts[i];
    n = kept;
    loser_store losers = {.budget = key_budget ? key_budget : AH_SESSION_DEDUP_MEMORY, .tmpdir = tmpdir, .diag = diag};
    ah_status st = place_streams(parts, n, acct, diag);
    if (st == AH_OK) {
        replay rp = {.parts = parts,
                     .n = n,
                     .acct = acct,
                     .h = h,
                     .losers = &losers,
                     .event_fn = event_fn,
                     .event_ud = event_ud,
                     .diag = diag,
                     .keep_duplicates = keep_duplicates,
                     .budget = key_budget ? key_budget : AH_SESSION_DEDUP_MEMORY,
                     .tmpdir = tmpdir};
        st = replay_identities(&rp);
        ah_session_account_dedup(acct, rp.spilled ? 2 : 1);
    }
    for (size_t i = 0; i < n && st == AH_OK; i++)
        st = load_store(parts[i], F_NAMES, names, NULL, diag);
    for (size_t i = 0; i < n && st == AH_OK; i++)
        st = load_store(parts[i], F_KNOWLEDGE, NULL, ah_hunt_knowledge(h), diag);
    for (size_t i = 0; i < n && st == AH_OK; i++)
        st = feed_file(parts[i], i, F_ROWS, &losers, h, diag);
    for (size_t i = 0; i < n && st == AH_OK; i++)
        st = feed_file(parts[i], i, F_OBSERVATIONS, &losers, h, diag);
    losers_free(&losers);
    free(parts);
    return st;
}
