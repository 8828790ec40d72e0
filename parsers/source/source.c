/*
 * source.c: paths -> leaf byte streams, through libarchive.
 *
 * Every stream, whether a top-level file or an archive member, is opened as a
 * libarchive reader with the same bidders: compression filters (those linked
 * into libarchive, so no external programs), the formats zip, tar and 7zip,
 * and "raw" and "empty" for everything else. The result decides the kind:
 * raw or empty means a leaf (plain, or decompressed when a filter matched),
 * anything else is an archive whose regular members are opened the same way,
 * reading from the enclosing reader. That gives a stack of at most three
 * layers (file, member, member of a nested archive); an archive found at the
 * third layer is reported and skipped, a compressed file there is read.
 * Nothing is ever rewound: libarchive's own read-ahead does the bidding.
 *
 * Top-level files are fed to libarchive by our own callbacks, so the
 * SHA-256 covers exactly the bytes on disk. Bytes are hashed as they are
 * read in order; when libarchive seeks (7z, zip central directory) or stops
 * early (a zip read from a pipe ends at its central directory) the digest
 * lags, and closing the file finishes it with one sequential pass from where
 * it stopped (regular files: pread; pipes: read to the end).
 *
 * Memory: one 64 KiB buffer for the file and one per member layer, plus what
 * libarchive keeps per reader. Origins are kept for the session, one per leaf
 * (capped, see MAX_LEAVES).
 *
 * Size: one state machine over the archive stack (file, member, nested
 * member) with the directory walk, ARCHIVE!MEMBER selection and the
 * accounting that every layer reports through.
 */
#include "source.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util/sha256.h"
#include "gunzip.h"

enum {
    IO_BLOCK = 64 * 1024,
    MAX_LAYERS = 3, /* file, member, member of a nested archive */
    MAX_DIR_DEPTH = 64,
    MAX_ENTRY_NAME = 4096, /* composed member names are cut beyond this */
    MAX_RETRIES = 16,      /* ARCHIVE_RETRY in a row before giving up */
    MAX_BAD_HEADERS = 64,  /* ARCHIVE_FAILED headers in a row before giving up on an archive */
    MAX_LEAVES = 1 << 20,  /* leaf streams per session: origins live as long as the session */
    CONTAINER_SIZE = 128,
    HEAD_SIZE = 512, /* bytes examined for magic: one tar header block */
};

typedef struct file_rec {
    ah_source_file pub;
    bool is_stdin;
    uint64_t disk_size; /* size when queued (0 for pipes and devices): for listing */
    /* "path!member" inputs: the members selected (pub.members), and which matched an entry */
    char **members;
    bool *found;
    size_t members_cap;
    bool was_archive; /* the file itself is an archive (for the message when a member is missing) */
} file_rec;

typedef enum layer_kind { LAYER_ARCHIVE, LAYER_LEAF } layer_kind;
typedef enum dec_kind { DEC_NONE, DEC_GZIP, DEC_FILTER } dec_kind;

/* A reader that keeps the first bytes it was asked to look at and gives them
 * back first: container detection looks at content without rewinding. A
 * read error while peeking is remembered and returned after the head. */
typedef struct peek_reader {
    ah_reader *in;
    ah_reader out;
    size_t len, pos;
    bool err;
    char head[HEAD_SIZE];
} peek_reader;

typedef struct layer {
    ah_source *src;
    int depth; /* index in src->layers */
    layer_kind kind;
    char *entry;        /* member name this layer reads ("a.zip!b.json"); NULL at depth 0 */
    int64_t entry_size; /* the member's size as its archive records it; -1 unknown or depth 0 */
    char desc[40];      /* "tar.gz", "zip", "gzip", "" for plain */
    bool handed_out;    /* leaf: its ah_input was given out */
    /* bytes as stored: the file, or a member of the enclosing archive */
    ah_reader raw;
    peek_reader raw_peek; /* compression magic */
    /* decompression: our gzip reader, or libarchive's filters for the rest */
    dec_kind dec;
    int filter; /* ARCHIVE_FILTER_* of the compression, NONE if none */
    ah_gunzip *gz;
    struct archive *fa; /* DEC_FILTER: a format-raw reader with the one filter */
    bool fa_empty;
    ah_reader plain;        /* decompressed bytes */
    peek_reader plain_peek; /* archive magic; a leaf reads through it */
    char why[256];          /* why the last read below plain_peek failed */
    /* archives */
    struct archive *a;
    bool has_first; /* archive: the header read while detecting is not processed yet */
    int first_status;
    struct archive_entry *first_entry;
    bool child_failed; /* a member read failed and the member's layer reported it */
    int bad_headers;
    uint32_t headers; /* archive: headers read so far, the current one included (its ordinal) */
    char *buf;        /* IO_BLOCK, for libarchive's read callbacks */
} layer;

typedef struct file_stream {
    int fd;
    bool owns_fd;
    bool seekable;
    bool io_error;
    bool stopped;      /* --max-input stopped a stream of a pipe or device: not read to its end */
    uint64_t pos;      /* offset of the next read (seekable files) */
    uint64_t hashed;   /* bytes [0, hashed) are in sha */
    uint64_t progress; /* furthest offset read */
    uint64_t shown;    /* bytes counted in done_bytes: the prefix read in order */
    uint64_t size_at_open;
    uint64_t base; /* file offset of byte 0 (stdin redirected from a file may start later) */
    ah_sha256 sha;
} file_stream;

struct ah_input {
    ah_source *src;
    ah_reader reader;
    const ah_origin *origin;
    size_t file_index;
    uint64_t member_order; /* ah_input_member_order */
    bool open;
    bool eof;
    bool failed;
    bool fail_pending; /* --max-input reached: the next read fails */
    uint64_t bytes;    /* delivered so far */
    char container[CONTAINER_SIZE];
};

struct ah_source {
    ah_diag *diag;
    file_rec **files;
    size_t nfiles, files_cap;
    ah_origin **origins;
    size_t norigins, origins_cap;
    uint64_t total_bytes, done_bytes;
    bool stdin_added;
    bool leaf_limit_reported;
    size_t next_file;
    size_t cur_file;
    bool file_open;
    file_stream fs;
    char *io_buf;
    layer layers[MAX_LAYERS];
    int depth; /* layers in use */
    ah_input input;
    uint64_t max_input; /* per leaf stream; 0: no limit */
    ah_source_progress_fn progress_fn;
    void *progress_ud;
    bool listing; /* ah_source_list: headers only, no digest */
};

/* --- reporting ------------------------------------------------------------ */

static const char *errno_text(int e, char *buf, size_t size)
{
    if (strerror_r(e, buf, size) != 0)
        snprintf(buf, size, "error %d", e);
    return buf;
}

static void report(ah_source *s, ah_severity sev, const char *path, const char *entry, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void report(ah_source *s, ah_severity sev, const char *path, const char *entry, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r' || msg[n - 1] == ' '))
        msg[--n] = '\0'; /* some libarchive messages end in a newline */
    ah_where w = {path, entry, 0, 0};
    ah_diag_report(s->diag, sev, &w, "%s", msg);
}

static const char *cur_path(const ah_source *s) { return s->files[s->cur_file]->pub.path; }

/* An error that loses content of the current file: report it and mark the file. */
static void fail(ah_source *s, const char *entry, const char *msg)
{
    report(s, AH_SEV_ERROR, cur_path(s), entry, "%s", msg);
    s->files[s->cur_file]->pub.unreadable = true;
}

static const char *archive_why(struct archive *a, const char *fallback)
{
    const char *m = a ? archive_error_string(a) : NULL;
    return m && *m ? m : fallback;
}

/* --- the file list -------------------------------------------------------- */

/* Select one more member of a queued archive. */
static ah_status add_member(file_rec *f, const char *member)
{
    if (f->pub.member_count == f->members_cap) {
        size_t cap = f->members_cap;
        char **nm = ah_grow_array(f->members, &cap, 4, sizeof *nm);
        if (!nm)
            return AH_ERR_NOMEM;
        f->members = nm;
        f->pub.members = (const char *const *)nm;
        size_t cap2 = f->members_cap;
        bool *nf = ah_grow_array(f->found, &cap2, 4, sizeof *nf);
        if (!nf)
            return AH_ERR_NOMEM;
        f->found = nf;
        f->members_cap = cap;
    }
    if (!(f->members[f->pub.member_count] = strdup(member)))
        return AH_ERR_NOMEM;
    f->found[f->pub.member_count++] = false;
    return AH_OK;
}

static ah_status add_file(ah_source *s, const char *path, const char *member, bool is_stdin, bool regular,
                          uint64_t size)
{
    if (s->nfiles == s->files_cap) {
        file_rec **nf = ah_grow_array(s->files, &s->files_cap, 16, sizeof *nf);
        if (!nf)
            return AH_ERR_NOMEM;
        s->files = nf;
    }
    file_rec *f = calloc(1, sizeof *f);
    char *p = strdup(path);
    if (!f || !p) {
        free(f);
        free(p);
        return AH_ERR_NOMEM;
    }
    f->pub.path = p;
    f->is_stdin = is_stdin;
    f->disk_size = regular ? size : 0;
    s->files[s->nfiles++] = f;
    if (member && add_member(f, member) != AH_OK)
        return AH_ERR_NOMEM; /* queued and freed with the source */
    if (regular)
        s->total_bytes += size;
    return AH_OK;
}

typedef struct dir_chain {
    dev_t dev;
    ino_t ino;
    const struct dir_chain *up;
} dir_chain;

static int compare_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static char *join_path(const char *dir, const char *name)
{
    size_t dl = strlen(dir), nl = strlen(name);
    bool slash = dl > 0 && dir[dl - 1] == '/';
    char *p = malloc(dl + nl + 2);
    if (!p)
        return NULL;
    memcpy(p, dir, dl);
    if (!slash)
        p[dl++] = '/';
    memcpy(p + dl, name, nl + 1);
    return p;
}

static ah_status walk_dir(ah_source *s, const char *dir, const struct stat *dst, const dir_chain *up, int depth);

/* One directory entry: regular files are queued, directories walked, the rest skipped. */
static ah_status walk_entry(ah_source *s, const char *path, const dir_chain *chain, int depth)
{
    char why[128];
    struct stat st;
    if (stat(path, &st) != 0) {
        report(s, AH_SEV_WARNING, path, NULL, "skipped: %s", errno_text(errno, why, sizeof why));
        return AH_OK;
    }
    if (S_ISREG(st.st_mode))
        return add_file(s, path, NULL, false, true, (uint64_t)st.st_size);
    if (!S_ISDIR(st.st_mode)) {
        report(s, AH_SEV_NOTE, path, NULL, "skipped: not a regular file or directory");
        return AH_OK;
    }
    for (const dir_chain *c = chain; c; c = c->up)
        if (c->dev == st.st_dev && c->ino == st.st_ino) {
            report(s, AH_SEV_WARNING, path, NULL, "skipped: directory loop (symbolic link to an enclosing directory)");
            return AH_OK;
        }
    if (depth >= MAX_DIR_DEPTH) {
        report(s, AH_SEV_ERROR, path, NULL, "skipped: directories nested deeper than %d levels", MAX_DIR_DEPTH);
        return AH_ERR_IO;
    }
    return walk_dir(s, path, &st, chain, depth + 1);
}

static ah_status walk_dir(ah_source *s, const char *dir, const struct stat *dst, const dir_chain *up, int depth)
{
    dir_chain me = {dst->st_dev, dst->st_ino, up};
    char why[128];
    ah_status status = AH_OK;
    char **names = NULL;
    size_t n = 0, cap = 0;
    DIR *d = opendir(dir);
    if (!d) {
        report(s, AH_SEV_ERROR, dir, NULL, "cannot read directory: %s", errno_text(errno, why, sizeof why));
        return AH_ERR_IO;
    }
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            if (errno) {
                report(s, AH_SEV_ERROR, dir, NULL, "cannot read directory: %s", errno_text(errno, why, sizeof why));
                status = AH_ERR_IO;
            }
            break;
        }
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (n == cap) {
            char **nn = ah_grow_array(names, &cap, 32, sizeof *nn);
            if (!nn) {
                status = AH_ERR_NOMEM;
                goto out;
            }
            names = nn;
        }
        if (!(names[n] = strdup(de->d_name))) {
            status = AH_ERR_NOMEM;
            goto out;
        }
        n++;
    }
    closedir(d);
    d = NULL;
    if (n)
        qsort(names, n, sizeof *names, compare_names); /* byte order: locale-independent */
    for (size_t i = 0; i < n; i++) {
        char *path = join_path(dir, names[i]);
        if (!path) {
            status = AH_ERR_NOMEM;
            goto out;
        }
        ah_status st = walk_entry(s, path, &me, depth);
        free(path);
        if (st == AH_ERR_NOMEM) {
            status = st;
            goto out;
        }
        if (st != AH_OK)
            status = st;
    }
out:
    if (d)
        closedir(d);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return status;
}

/* "archive!member" for a path that does not exist: split at the '!' after
 * the longest prefix that is an existing file (not a directory), so a real
 * file whose name holds a '!' is still found whole, and a member name may
 * hold '!' too (nested members are "inner.zip!file.json", as entries are
 * named). Members of one archive given one after another (as sorted
 * operands are) select from one queued file: the archive is read and
 * hashed once. AH_END when no prefix is a file. */
static ah_status add_member_path(ah_source *s, const char *path)
{
    size_t len = strlen(path);
    char *prefix = malloc(len + 1);
    if (!prefix)
        return AH_ERR_NOMEM;
    ah_status st = AH_END;
    for (size_t i = len; i-- > 1;) {
        if (path[i] != '!' || i + 1 == len)
            continue;
        memcpy(prefix, path, i);
        prefix[i] = '\0';
        struct stat pst;
        if (stat(prefix, &pst) == 0 && !S_ISDIR(pst.st_mode)) {
            file_rec *last = s->nfiles ? s->files[s->nfiles - 1] : NULL;
            if (last && last->pub.member_count && !last->is_stdin && strcmp(last->pub.path, prefix) == 0)
                st = add_member(last, path + i + 1);
            else
                st = add_file(s, prefix, path + i + 1, false, S_ISREG(pst.st_mode), (uint64_t)pst.st_size);
            break;
        }
    }
    free(prefix);
    return st;
}

ah_source *ah_source_new(ah_diag *diag)
{
    ah_source *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->diag = diag;
    s->fs.fd = -1;
    s->input.src = s;
    return s;
}

ah_status ah_source_add(ah_source *s, const char *path)
{
    if (!s || !path || !*path)
        return AH_ERR_USAGE;
    if (strcmp(path, "-") == 0) {
        if (s->stdin_added) {
            report(s, AH_SEV_WARNING, "-", NULL, "standard input given more than once; it is read once");
            return AH_OK;
        }
        s->stdin_added = true;
        return add_file(s, "-", NULL, true, false, 0);
    }
    struct stat st;
    if (stat(path, &st) != 0) {
        int e = errno;
        char why[128];
        if (e == ENOENT || e == ENOTDIR) {
            ah_status ms = add_member_path(s, path);
            if (ms != AH_END)
                return ms;
        }
        report(s, AH_SEV_ERROR, path, NULL, "cannot open: %s", errno_text(e, why, sizeof why));
        return AH_ERR_IO;
    }
    if (S_ISDIR(st.st_mode)) {
        size_t before = s->nfiles;
        ah_status ds = walk_dir(s, path, &st, NULL, 0);
        if (ds != AH_ERR_NOMEM && s->nfiles == before) /* a wrong path must not look like a clean tenant */
            report(s, AH_SEV_WARNING, path, NULL, "no input file in this directory");
        return ds;
    }
    /* Named explicitly: pipes and devices are read too (e.g. process substitution). */
    return add_file(s, path, NULL, false, S_ISREG(st.st_mode), (uint64_t)st.st_size);
}

uint64_t ah_source_total_bytes(const ah_source *s) { return s ? s->total_bytes : 0; }
uint64_t ah_source_done_bytes(const ah_source *s) { return s ? s->done_bytes : 0; }
size_t ah_source_file_count(const ah_source *s) { return s ? s->nfiles : 0; }

const ah_source_file *ah_source_file_at(const ah_source *s, size_t i)
{
    return s && i < s->nfiles ? &s->files[i]->pub : NULL;
}

void ah_source_set_max_input(ah_source *s, uint64_t max_bytes) { s->max_input = max_bytes; }

void ah_source_set_progress(ah_source *s, ah_source_progress_fn fn, void *ud)
{
    s->progress_fn = fn;
    s->progress_ud = ud;
}

/* --- top-level file: reads with hashing ----------------------------------- */

/* Progress counts the prefix of the file read in order (the part hashed so
 * far), not the furthest offset: a zip or 7z is first read at its end (the
 * directory), which would show 100 % before any record. */
static void advance_progress(ah_source *s, uint64_t end)
{
    file_stream *fs = &s->fs;
    if (end > fs->progress)
        fs->progress = end;
    if (fs->hashed > fs->shown) {
        s->done_bytes += fs->hashed - fs->shown;
        fs->shown = fs->hashed;
        if (s->progress_fn) /* also while nothing comes out (a device, a stream of NULs) */
            s->progress_fn(s->progress_ud, s->done_bytes, s->total_bytes);
    }
}

/* Bytes [pos, pos+n) were read: extend the digest if they continue it. */
static void account(ah_source *s, const char *buf, uint64_t pos, size_t n)
{
    file_stream *fs = &s->fs;
    uint64_t end = pos + n;
    if (pos <= fs->hashed && fs->hashed < end) {
        ah_sha256_update(&fs->sha, buf + (fs->hashed - pos), (size_t)(end - fs->hashed));
        fs->hashed = end;
    }
    advance_progress(s, end);
}

static ssize_t file_read_at(file_stream *fs, char *buf, size_t n, uint64_t pos)
{
    ssize_t k;
    if (fs->seekable && pos > (uint64_t)INT64_MAX - fs->base)
        return 0; /* a seek far past the end (hostile offsets): end of file */
    do
        k = fs->seekable ? pread(fs->fd, buf, n, (off_t)(fs->base + pos)) : read(fs->fd, buf, n);
    while (k < 0 && errno == EINTR);
    return k;
}

/* Read at the file's position, hash, advance. -1 with errno on error. */
static ssize_t file_read_next(ah_source *s, char *buf, size_t n)
{
    file_stream *fs = &s->fs;
    if (n > (size_t)1 << 30)
        n = (size_t)1 << 30;
    ssize_t k = file_read_at(fs, buf, n, fs->pos);
    if (k < 0) {
        fs->io_error = true;
        return -1;
    }
    account(s, buf, fs->pos, (size_t)k);
    fs->pos += (uint64_t)k;
    return k;
}

/* libarchive reading the file itself (an archive at depth 0 of a regular file: seekable). */
static la_ssize_t file_read_cb(struct archive *a, void *ud, const void **out)
{
    layer *L = ud;
    ah_source *s = L->src;
    ssize_t n = file_read_next(s, s->io_buf, IO_BLOCK);
    if (n < 0) {
        char why[128];
        int e = errno;
        archive_set_error(a, e, "read error: %s", errno_text(e, why, sizeof why));
        return ARCHIVE_FATAL;
    }
    *out = s->io_buf;
    return n;
}

static la_int64_t file_seek_cb(struct archive *a, void *ud, la_int64_t offset, int whence)
{
    layer *L = ud;
    file_stream *fs = &L->src->fs;
    int64_t base;
    switch (whence) {
    case SEEK_SET: base = 0; break;
    case SEEK_CUR: base = (int64_t)fs->pos; break;
    case SEEK_END: base = (int64_t)fs->size_at_open; break;
    default: return ARCHIVE_FATAL;
    }
    /* Offsets come from archive headers: check before adding. */
    if ((offset > 0 && base > INT64_MAX - offset) || base + offset < 0) {
        archive_set_error(a, EINVAL, "seek outside the file");
        return ARCHIVE_FATAL;
    }
    fs->pos = (uint64_t)(base + offset);
    return (la_int64_t)fs->pos;
}

/* Finish the digest with a sequential pass over whatever was not hashed yet, then close. */
static void finish_file(ah_source *s)
{
    file_stream *fs = &s->fs;
    file_rec *f = s->files[s->cur_file];
    while (!fs->io_error && !fs->stopped && !s->listing) {
        ssize_t n = file_read_at(fs, s->io_buf, IO_BLOCK, fs->hashed);
        if (n < 0) {
            char why[128], msg[160];
            fs->io_error = true;
            snprintf(msg, sizeof msg, "read error: %s", errno_text(errno, why, sizeof why));
            fail(s, NULL, msg);
            break;
        }
        if (n == 0)
            break;
        account(s, s->io_buf, fs->hashed, (size_t)n);
    }
    if (fs->progress > fs->shown) { /* read out of order and never in order (an I/O error): count it now */
        s->done_bytes += fs->progress - fs->shown;
        fs->shown = fs->progress;
    }
    if (!fs->io_error && !fs->stopped && !s->listing)
        ah_sha256_hex(&fs->sha, f->pub.sha256);
    f->pub.size = fs->io_error ? fs->progress : fs->hashed;
    if (fs->owns_fd && fs->fd >= 0)
        close(fs->fd);
    fs->fd = -1;
    s->file_open = false;
}

/* --- the byte readers of a layer ------------------------------------------ */

static void peek_init(peek_reader *p, ah_reader *in);

static ssize_t peek_read(void *ctx, char *buf, size_t n)
{
    peek_reader *p = ctx;
    if (p->err && p->pos >= p->len)
        return -1;
    return ah_read_after(p->head, p->len, &p->pos, p->in, buf, n);
}

static void peek_init(peek_reader *p, ah_reader *in)
{
    p->in = in;
    p->out.read = peek_read;
    p->out.ctx = p;
    p->len = p->pos = 0;
    p->err = false;
}

/* Read up to HEAD_SIZE bytes (fewer only at the end of the stream or on an error). */
static void peek_fill(peek_reader *p)
{
    while (p->len < HEAD_SIZE && !p->err) {
        ssize_t k = ah_read(p->in, p->head + p->len, HEAD_SIZE - p->len);
        if (k < 0)
            p->err = true;
        if (k <= 0)
            break;
        p->len += (size_t)k;
    }
}

/* Depth 0: the file. */
static ssize_t file_raw_read(void *ctx, char *buf, size_t n)
{
    layer *L = ctx;
    ssize_t k = file_read_next(L->src, buf, n);
    if (k < 0) {
        char why[128];
        snprintf(L->why, sizeof L->why, "read error: %s", errno_text(errno, why, sizeof why));
    }
    return k;
}

/* Depth > 0: the current member of the enclosing archive. */
static ssize_t member_raw_read(void *ctx, char *buf, size_t n)
{
    layer *L = ctx;
    layer *parent = &L->src->layers[L->depth - 1];
    if (n > (size_t)1 << 30)
        n = (size_t)1 << 30;
    for (int tries = 0;; tries++) {
        la_ssize_t k = archive_read_data(parent->a, buf, n);
        if (k >= 0)
            return (ssize_t)k;
        if (k == ARCHIVE_RETRY && tries < MAX_RETRIES)
            continue;
        /* This layer reports it, with the enclosing archive's reason. */
        snprintf(L->why, sizeof L->why, "%s", archive_why(parent->a, "read error in the enclosing archive"));
        parent->child_failed = true;
        return -1;
    }
}

/* The decompressed bytes (or the stored ones when not compressed). */
static ssize_t plain_read(void *ctx, char *buf, size_t n)
{
    layer *L = ctx;
    ssize_t k;
    switch (L->dec) {
    case DEC_GZIP:
        k = ah_read(ah_gunzip_reader(L->gz), buf, n);
        if (k < 0 && !ah_gunzip_input_failed(L->gz)) /* else L->why is the input's own reason */
            snprintf(L->why, sizeof L->why, "%s", ah_gunzip_error(L->gz));
        return k;
    case DEC_FILTER:
        if (L->fa_empty)
            return 0;
        if (n > (size_t)1 << 30)
            n = (size_t)1 << 30;
        for (int tries = 0;; tries++) {
            la_ssize_t r = archive_read_data(L->fa, buf, n);
            if (r >= 0)
                return (ssize_t)r;
            if (r == ARCHIVE_RETRY && tries < MAX_RETRIES)
                continue;
            snprintf(L->why, sizeof L->why, "%s", archive_why(L->fa, "corrupt compressed data"));
            return -1;
        }
    case DEC_NONE: break;
    }
    return ah_read(&L->raw_peek.out, buf, n);
}

/* libarchive (a filter or an archive reader) reading from below. */
static la_ssize_t layer_read_cb(struct archive *a, void *ud, const void **out, ah_reader *from)
{
    layer *L = ud;
    ssize_t k = ah_read(from, L->buf, IO_BLOCK);
    if (k < 0) {
        archive_set_error(a, EIO, "%s", L->why[0] ? L->why : "read error");
        return ARCHIVE_FATAL;
    }
    *out = L->buf;
    return k;
}

static la_ssize_t filter_read_cb(struct archive *a, void *ud, const void **out)
{
    return layer_read_cb(a, ud, out, &((layer *)ud)->raw_peek.out);
}

static la_ssize_t archive_read_cb(struct archive *a, void *ud, const void **out)
{
    return layer_read_cb(a, ud, out, &((layer *)ud)->plain_peek.out);
}

/* --- detection by content -------------------------------------------------- */

/* Compression by magic: ARCHIVE_FILTER_GZIP (read by gunzip.c), another
 * ARCHIVE_FILTER_* for libarchive, or ARCHIVE_FILTER_NONE. */
static int compression_of(const unsigned char *h, size_t n)
{
    if (ah_gunzip_magic(h, n))
        return ARCHIVE_FILTER_GZIP;
    if (n >= 4 && memcmp(h, "BZh", 3) == 0 && h[3] >= '1' && h[3] <= '9')
        return ARCHIVE_FILTER_BZIP2;
    if (n >= 6 && memcmp(h,
                         "\xFD"
                         "7zXZ\0",
                         6) == 0)
        return ARCHIVE_FILTER_XZ;
    if (n >= 4 && memcmp(h, "\x28\xB5\x2F\xFD", 4) == 0)
        return ARCHIVE_FILTER_ZSTD;
    if (n >= 4 && memcmp(h, "\x04\x22\x4D\x18", 4) == 0)
        return ARCHIVE_FILTER_LZ4;
    if (n >= 5 && memcmp(h, "LZIP", 4) == 0 && h[4] == 1)
        return ARCHIVE_FILTER_LZIP;
    if (n >= 3 && h[0] == 0x1f && h[1] == 0x9d)
        return ARCHIVE_FILTER_COMPRESS;
    return ARCHIVE_FILTER_NONE;
}

/* A tar header block: its checksum (octal at 148) matches the block's bytes,
 * counting the checksum field as spaces. An all-zero block (the end marker,
 * or a file of NULs) has no checksum and is not a tar: libarchive's tar
 * reader would take it for an empty archive and lose the stream. */
static bool looks_like_tar(const unsigned char *h, size_t n)
{
    if (n < 512 || h[0] == 0)
        return false;
    size_t i = 148;
    while (i < 156 && h[i] == ' ')
        i++;
    unsigned long want = 0;
    int digits = 0;
    for (; i < 156 && h[i] >= '0' && h[i] <= '7'; i++, digits++)
        want = want * 8 + (unsigned long)(h[i] - '0');
    if (!digits || (i < 156 && h[i] != ' ' && h[i] != '\0'))
        return false;
    unsigned long usum = 0;
    long ssum = 0;
    for (size_t k = 0; k < 512; k++) {
        unsigned char c = (k >= 148 && k < 156) ? ' ' : h[k];
        usum += c;
        ssum += (signed char)c;
    }
    return want == usum || (long)want == ssum;
}

typedef enum archive_kind { ARC_NONE, ARC_ZIP, ARC_TAR, ARC_7Z } archive_kind;

static archive_kind archive_of(const unsigned char *h, size_t n)
{
    if (n >= 4 &&
        (memcmp(h, "PK\x03\x04", 4) == 0 || memcmp(h, "PK\x05\x06", 4) == 0 || memcmp(h, "PK\x07\x08", 4) == 0))
        return ARC_ZIP;
    if (n >= 6 && memcmp(h, "7z\xBC\xAF\x27\x1C", 6) == 0)
        return ARC_7Z;
    if (looks_like_tar(h, n))
        return ARC_TAR;
    return ARC_NONE;
}

static const char *filter_name(int code, bool suffix)
{
    switch (code) {
    case ARCHIVE_FILTER_GZIP: return suffix ? "gz" : "gzip";
    case ARCHIVE_FILTER_BZIP2: return suffix ? "bz2" : "bzip2";
    case ARCHIVE_FILTER_XZ: return "xz";
    case ARCHIVE_FILTER_LZIP: return suffix ? "lz" : "lzip";
    case ARCHIVE_FILTER_ZSTD: return suffix ? "zst" : "zstd";
    case ARCHIVE_FILTER_LZ4: return "lz4";
    case ARCHIVE_FILTER_COMPRESS: return suffix ? "Z" : "compress";
    default: return "?";
    }
}

/* Enable exactly one filter; false when this libarchive lacks it (only
 * filters linked in: the others would run external programs). */
static bool enable_filter(struct archive *a, int code)
{
    switch (code) {
    case ARCHIVE_FILTER_BZIP2: return archive_bzlib_version() && archive_read_support_filter_bzip2(a) == ARCHIVE_OK;
    case ARCHIVE_FILTER_XZ: return archive_liblzma_version() && archive_read_support_filter_xz(a) == ARCHIVE_OK;
    case ARCHIVE_FILTER_LZIP: return archive_liblzma_version() && archive_read_support_filter_lzip(a) == ARCHIVE_OK;
    case ARCHIVE_FILTER_ZSTD: return archive_libzstd_version() && archive_read_support_filter_zstd(a) == ARCHIVE_OK;
    case ARCHIVE_FILTER_LZ4: return archive_liblz4_version() && archive_read_support_filter_lz4(a) == ARCHIVE_OK;
    case ARCHIVE_FILTER_COMPRESS: return archive_read_support_filter_compress(a) == ARCHIVE_OK;
    default: return false;
    }
}

/* "tar.gz", "zip", "7z" for archives; "gzip", "xz" for compressed leaves; "" for plain. */
static void describe_layer(layer *L, archive_kind ak)
{
    const char *fmt = ak == ARC_ZIP ? "zip" : ak == ARC_TAR ? "tar" : "7z";
    bool compressed = L->filter != ARCHIVE_FILTER_NONE;
    if (L->kind == LAYER_ARCHIVE)
        snprintf(L->desc, sizeof L->desc, "%s%s%s", fmt, compressed ? "." : "",
                 compressed ? filter_name(L->filter, true) : "");
    else
        snprintf(L->desc, sizeof L->desc, "%s", compressed ? filter_name(L->filter, false) : "");
}

static int next_header(struct archive *a, struct archive_entry **e)
{
    int r;
    for (int tries = 0; (r = archive_read_next_header(a, e)) == ARCHIVE_RETRY && tries < MAX_RETRIES; tries++)
        ;
    return r == ARCHIVE_RETRY ? ARCHIVE_FATAL : r;
}

static void release_layer(layer *L)
{
    archive_read_free(L->a);
    L->a = NULL;
    archive_read_free(L->fa);
    L->fa = NULL;
    ah_gunzip_free(L->gz);
    L->gz = NULL;
    free(L->entry);
    L->entry = NULL;
}

static void pop_layer(ah_source *s) { release_layer(&s->layers[--s->depth]); }

/* Set up decompression for what raw_peek saw: AH_OK, AH_ERR_STREAM when the
 * stream cannot be read (reported), AH_ERR_NOMEM. */
static ah_status open_decompression(ah_source *s, layer *L)
{
    L->filter = compression_of((const unsigned char *)L->raw_peek.head, L->raw_peek.len);
    L->plain.read = plain_read;
    L->plain.ctx = L;
    if (L->filter == ARCHIVE_FILTER_NONE) {
        L->dec = DEC_NONE;
        return AH_OK;
    }
    if (L->filter == ARCHIVE_FILTER_GZIP) {
        L->dec = DEC_GZIP;
        L->gz = ah_gunzip_new(&L->raw_peek.out);
        return L->gz ? AH_OK : AH_ERR_NOMEM;
    }
    L->dec = DEC_FILTER;
    if (!(L->fa = archive_read_new()))
        return AH_ERR_NOMEM;
    if (!enable_filter(L->fa, L->filter)) {
        char msg[128];
        snprintf(msg, sizeof msg, "%s-compressed data is not supported by this build (skipped)",
                 filter_name(L->filter, false));
        fail(s, L->entry, msg);
        return AH_ERR_STREAM;
    }
    archive_read_support_format_raw(L->fa);
    archive_read_support_format_empty(L->fa);
    archive_read_set_callback_data(L->fa, L);
    archive_read_set_read_callback(L->fa, filter_read_cb);
    struct archive_entry *e;
    if (archive_read_open1(L->fa) < ARCHIVE_WARN || next_header(L->fa, &e) < ARCHIVE_WARN) {
        fail(s, L->entry, archive_why(L->fa, "corrupt compressed data"));
        return AH_ERR_STREAM;
    }
    L->fa_empty = (archive_format(L->fa) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_EMPTY;
    return AH_OK;
}

/* Open an archive reader for the format plain_peek saw. AH_ERR_STREAM when it cannot be used (reported). */
static ah_status open_archive(ah_source *s, layer *L, archive_kind ak)
{
    if (ak == ARC_7Z && (L->depth > 0 || !s->fs.seekable || L->dec != DEC_NONE)) {
        /* Small ones might work from the read-ahead alone; refuse them all
         * so the result never depends on sizes. */
        fail(s, L->entry,
             "7-Zip archive inside another archive, compressed or on a pipe is not supported "
             "(7-Zip needs random access; skipped)");
        return AH_ERR_STREAM;
    }
    if (L->depth == MAX_LAYERS - 1) {
        fail(s, L->entry, "archive nested more than one level deep is not supported (skipped)");
        return AH_ERR_STREAM;
    }
    if (!(L->a = archive_read_new()))
        return AH_ERR_NOMEM;
    int r = ak == ARC_ZIP   ? archive_read_support_format_zip(L->a)
            : ak == ARC_TAR ? archive_read_support_format_tar(L->a)
                            : archive_read_support_format_7zip(L->a);
    if (r != ARCHIVE_OK) {
        fail(s, L->entry, archive_why(L->a, "cannot set up the archive reader"));
        return AH_ERR_STREAM;
    }
    archive_read_set_callback_data(L->a, L);
    if (L->depth == 0 && L->dec == DEC_NONE && s->fs.seekable) {
        /* The file itself, with seeks (7z, zip's central directory): start over
         * at 0; the bytes peeked are read again, hashed once. */
        s->fs.pos = 0;
        archive_read_set_read_callback(L->a, file_read_cb);
        archive_read_set_seek_callback(L->a, file_seek_cb);
    } else {
        archive_read_set_read_callback(L->a, archive_read_cb);
    }
    if (archive_read_open1(L->a) < ARCHIVE_WARN) {
        fail(s, L->entry, archive_why(L->a, "unreadable archive"));
        return AH_ERR_STREAM;
    }
    L->kind = LAYER_ARCHIVE;
    L->has_first = true;
    L->first_status = next_header(L->a, &L->first_entry);
    return AH_OK;
}

/* Open the stream at `depth` (taking ownership of `entry`) and push it:
 * compression and archive format are decided by content, each by its
 * magic, never by a reader that accepts anything. Unusable streams are
 * reported and leave nothing pushed; only running out of memory is an
 * error for the caller. */
static ah_status push_layer(ah_source *s, int depth, char *entry)
{
    layer *L = &s->layers[depth];
    char *buf = L->buf; /* kept across members */
    memset(L, 0, sizeof *L);
    L->src = s;
    L->depth = depth;
    L->entry = entry;
    L->entry_size = -1;
    L->buf = buf;
    L->filter = ARCHIVE_FILTER_NONE;
    if (!L->buf && !(L->buf = malloc(IO_BLOCK)))
        goto nomem;
    L->raw.read = depth ? member_raw_read : file_raw_read;
    L->raw.ctx = L;
    peek_init(&L->raw_peek, &L->raw);
    peek_fill(&L->raw_peek);
    ah_status st = open_decompression(s, L);
    if (st != AH_OK) {
        release_layer(L);
        return st == AH_ERR_NOMEM ? st : AH_OK;
    }
    peek_init(&L->plain_peek, &L->plain);
    peek_fill(&L->plain_peek);
    archive_kind ak = archive_of((const unsigned char *)L->plain_peek.head, L->plain_peek.len);
    L->kind = LAYER_LEAF;
    if (ak != ARC_NONE && (st = open_archive(s, L, ak)) != AH_OK) {
        release_layer(L);
        return st == AH_ERR_NOMEM ? st : AH_OK;
    }
    describe_layer(L, ak);
    if (depth == 0 && L->kind == LAYER_ARCHIVE)
        s->files[s->cur_file]->was_archive = true;
    s->depth = depth + 1;
    return AH_OK;
nomem:
    release_layer(L);
    return AH_ERR_NOMEM;
}

/* "outer!inner", cut to MAX_ENTRY_NAME bytes. */
static char *compose_entry(const char *outer, const char *name)
{
    const char *parts[3] = {outer, outer ? "!" : NULL, name};
    size_t total = 0;
    for (int i = 0; i < 3; i++)
        total += parts[i] ? strlen(parts[i]) : 0;
    if (total > MAX_ENTRY_NAME)
        total = MAX_ENTRY_NAME;
    char *p = malloc(total + 1);
    if (!p)
        return NULL;
    size_t n = 0;
    for (int i = 0; i < 3 && n < total; i++) {
        if (!parts[i])
            continue;
        size_t k = strlen(parts[i]);
        if (k > total - n)
            k = total - n;
        memcpy(p + n, parts[i], k);
        n += k;
    }
    p[n] = '\0';
    return p;
}

static const char *member_name(struct archive_entry *e)
{
    const char *name = archive_entry_pathname_utf8(e);
    if (!name)
        name = archive_entry_pathname(e);
    return name && *name ? name : "(unnamed)";
}

/* Where an archive entry stands to the member a "path!member" input selects. */
typedef enum selection {
    SEL_NONE,    /* elsewhere: skipped unread */
    SEL_ON_PATH, /* an archive the member is inside ("inner.zip" for "inner.zip!a.json"): opened */
    SEL_IN,      /* the member itself, or inside it when it is an archive: read as usual */
} selection;

static selection select_one(const char *member, const char *entry)
{
    size_t m = strlen(member), e = strlen(entry);
    if (e >= m && memcmp(entry, member, m) == 0 && (e == m || entry[m] == '!'))
        return SEL_IN;
    if (e < m && memcmp(member, entry, e) == 0 && member[e] == '!')
        return SEL_ON_PATH;
    return SEL_NONE;
}

/* The file's selection for an entry: the strongest over its members;
 * `mark` notes the members it is in (they were found). */
static selection select_entry(file_rec *f, const char *entry, bool mark)
{
    if (!f->pub.member_count)
        return SEL_IN;
    selection best = SEL_NONE;
    for (size_t i = 0; i < f->pub.member_count; i++) {
        selection k = select_one(f->members[i], entry);
        if (k == SEL_IN && mark)
            f->found[i] = true;
        if (k > best)
            best = k;
    }
    return best;
}

static const char encrypted_msg[] = "encrypted archive entry (password-protected archives are not supported)";

/* Process the next header of the archive on top: skip it, report it, or push its member. */
static ah_status next_member(ah_source *s, layer *L)
{
    struct archive_entry *e = NULL;
    int r;
    if (L->has_first) {
        L->has_first = false;
        r = L->first_status;
        e = L->first_entry;
    } else {
        r = next_header(L->a, &e);
    }
    if (r == ARCHIVE_EOF) {
        pop_layer(s);
        return AH_OK;
    }
    if (r != ARCHIVE_FATAL) /* counted whatever is selected: a member's ordinal is the same in every read */
        L->headers++;
    if (r == ARCHIVE_FATAL) {
        if (!L->child_failed) /* otherwise the member's reader already said why */
            fail(s, L->entry, archive_why(L->a, "corrupt archive"));
        pop_layer(s);
        return AH_OK;
    }
    L->child_failed = false;
    file_rec *f = s->files[s->cur_file];
    if (r == ARCHIVE_FAILED) {
        /* e.g. a zip read as a stream cannot skip an encrypted member of unknown size */
        char *entry = e ? compose_entry(L->entry, member_name(e)) : NULL;
        if (entry && select_entry(f, entry, false) == SEL_NONE) { /* not asked for: not a loss */
            free(entry);
            if (++L->bad_headers >= MAX_BAD_HEADERS)
                pop_layer(s);
            return AH_OK;
        }
        fail(s, entry ? entry : L->entry,
             e && archive_entry_is_encrypted(e) ? encrypted_msg : archive_why(L->a, "unreadable archive entry"));
        free(entry);
        if (++L->bad_headers >= MAX_BAD_HEADERS)
            pop_layer(s);
        return AH_OK;
    }
    L->bad_headers = 0;
    /* Directories, links, devices; tar hard links repeat another member's data. */
    if (archive_entry_filetype(e) != AE_IFREG || archive_entry_hardlink(e))
        return AH_OK;
    char *entry = compose_entry(L->entry, member_name(e));
    if (!entry)
        return AH_ERR_NOMEM;
    if (select_entry(f, entry, true) == SEL_NONE) { /* the next header skips its data */
        free(entry);
        return AH_OK;
    }
    int64_t size = archive_entry_size_is_set(e) ? (int64_t)archive_entry_size(e) : -1;
    if (r == ARCHIVE_WARN)
        report(s, AH_SEV_WARNING, cur_path(s), entry, "%s", archive_why(L->a, "archive warning"));
    if (archive_entry_is_encrypted(e)) {
        fail(s, entry, encrypted_msg);
        free(entry);
        return AH_OK;
    }
    int child = L->depth + 1;
    ah_status st = push_layer(s, child, entry);
    if (st == AH_OK && s->depth == child + 1)
        s->layers[child].entry_size = size;
    return st;
}

static ah_status open_file(ah_source *s, size_t index)
{
    file_rec *f = s->files[index];
    file_stream *fs = &s->fs;
    memset(fs, 0, sizeof *fs);
    fs->fd = -1;
    ah_sha256_init(&fs->sha);
    s->cur_file = index;
    if (!s->io_buf && !(s->io_buf = malloc(IO_BLOCK)))
        return AH_ERR_NOMEM;
    if (f->is_stdin) {
        fs->fd = STDIN_FILENO;
        /* `< file` makes stdin seekable: use that (7z needs it), from the current offset on. */
        struct stat st;
        off_t at = lseek(fs->fd, 0, SEEK_CUR);
        if (fstat(fs->fd, &st) == 0 && S_ISREG(st.st_mode) && at >= 0 && at <= st.st_size) {
            fs->seekable = true;
            fs->base = (uint64_t)at;
            fs->size_at_open = (uint64_t)(st.st_size - at);
        }
    } else {
        fs->fd = open(f->pub.path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fs->fd < 0) {
            char why[128];
            report(s, AH_SEV_ERROR, f->pub.path, NULL, "cannot open: %s", errno_text(errno, why, sizeof why));
            f->pub.unreadable = true;
            return AH_OK;
        }
        fs->owns_fd = true;
        struct stat st;
        if (fstat(fs->fd, &st) == 0 && S_ISREG(st.st_mode)) {
            fs->seekable = true;
            fs->size_at_open = (uint64_t)st.st_size;
        }
    }
    s->file_open = true;
    return push_layer(s, 0, NULL);
}

/* --- leaf inputs ---------------------------------------------------------- */

static ssize_t input_read(void *ctx, char *buf, size_t n)
{
    ah_input *in = ctx;
    ah_source *s = in->src;
    if (!in->open || in->eof || n == 0)
        return 0;
    if (in->failed)
        return -1;
    layer *L = &s->layers[s->depth - 1];
    if (in->fail_pending) {
        char msg[160];
        snprintf(msg, sizeof msg,
                 "input larger than --max-input (%llu bytes): reading stopped there, the rest is not read",
                 (unsigned long long)s->max_input);
        fail(s, in->origin->entry, msg);
        in->failed = true;
        if (!s->fs.seekable) /* a pipe or device may never end: no digest rather than no end */
            s->fs.stopped = true;
        return -1;
    }
    if (n > (size_t)1 << 30)
        n = (size_t)1 << 30;
    ssize_t r = ah_read(&L->plain_peek.out, buf, n);
    if (r > 0) {
        if (s->max_input && in->bytes + (uint64_t)r > s->max_input) {
            r = (ssize_t)(s->max_input - in->bytes);
            in->fail_pending = true;
            if (r == 0)
                return input_read(ctx, buf, n);
        }
        in->bytes += (uint64_t)r;
        return r;
    }
    if (r == 0) {
        in->eof = true;
        if (L->gz && ah_gunzip_trailing(L->gz))
            report(s, AH_SEV_WARNING, cur_path(s), in->origin->entry,
                   "%llu bytes after the last gzip member are not gzip data (ignored)",
                   (unsigned long long)ah_gunzip_trailing(L->gz));
        return 0;
    }
    fail(s, in->origin->entry, L->why[0] ? L->why : "read error");
    in->failed = true;
    return -1;
}

static ah_status hand_out(ah_source *s, layer *L, ah_input **out)
{
    file_rec *f = s->files[s->cur_file];
    if (s->norigins >= MAX_LEAVES) {
        if (!s->leaf_limit_reported)
            report(s, AH_SEV_ERROR, f->pub.path, L->entry,
                   "more than %d input streams in this run; the rest are skipped", MAX_LEAVES);
        s->leaf_limit_reported = true;
        f->pub.unreadable = true;
        return AH_END; /* not an input: caller moves on */
    }
    if (s->norigins == s->origins_cap) {
        ah_origin **no = ah_grow_array(s->origins, &s->origins_cap, 64, sizeof *no);
        if (!no)
            return AH_ERR_NOMEM;
        s->origins = no;
    }
    size_t elen = L->entry ? strlen(L->entry) + 1 : 0;
    ah_origin *o = malloc(sizeof *o + elen);
    if (!o)
        return AH_ERR_NOMEM;
    o->path = f->pub.path;
    o->entry = NULL;
    if (L->entry) {
        char *copy = (char *)(o + 1);
        memcpy(copy, L->entry, elen);
        o->entry = copy;
    }
    o->input_no = (uint32_t)s->norigins;
    s->origins[s->norigins++] = o;
    f->pub.leaf_count++;

    ah_input *in = &s->input;
    in->reader.read = input_read;
    in->reader.ctx = in;
    in->origin = o;
    in->file_index = s->cur_file;
    in->member_order = 0;
    for (int d = 0; d < L->depth && d < 2; d++) /* the enclosing archives' ordinals of this member */
        in->member_order |= (uint64_t)s->layers[d].headers << (d == 0 ? 32 : 0);
    in->open = true;
    in->eof = in->failed = in->fail_pending = false;
    in->bytes = 0;
    size_t n = 0;
    in->container[0] = '\0';
    for (int i = 0; i < s->depth && n < sizeof in->container; i++)
        if (s->layers[i].desc[0])
            n += (size_t)snprintf(in->container + n, sizeof in->container - n, "%s%s", n ? " > " : "",
                                  s->layers[i].desc);
    if (!in->container[0])
        snprintf(in->container, sizeof in->container, "plain");
    *out = in;
    return AH_OK;
}

/* The end of a file: a "path!member" that matched nothing is an unreadable
 * input, like a missing path (unless the archive already failed: then
 * the member may well be there, past the damage, and the failure was said). */
static void end_file(ah_source *s)
{
    file_rec *f = s->files[s->cur_file];
    bool failed = f->pub.unreadable;
    for (size_t i = 0; i < f->pub.member_count; i++) {
        if (f->found[i])
            continue;
        if (!failed)
            report(s, AH_SEV_ERROR, f->pub.path, f->members[i],
                   f->was_archive ? "no such member in this archive" : "not an archive: it has no member of this name");
        f->pub.unreadable = true;
    }
    finish_file(s);
}

/* The next leaf stream of the file being read; AH_END once it has no more
 * (the file is then finished and closed). */
static ah_status next_leaf(ah_source *s, ah_input **out)
{
    s->input.open = false;
    for (;;) {
        ah_status st;
        if (s->depth == 0) {
            if (s->file_open)
                end_file(s);
            return AH_END;
        }
        layer *L = &s->layers[s->depth - 1];
        if (L->kind != LAYER_ARCHIVE) {
            if (L->handed_out) {
                pop_layer(s);
                continue;
            }
            L->handed_out = true;
            /* an archive on the way to the member that turned out not to be one */
            if (L->entry ? select_entry(s->files[s->cur_file], L->entry, false) != SEL_IN
                         : s->files[s->cur_file]->pub.member_count != 0)
                continue;
            st = hand_out(s, L, out);
            if (st == AH_END)
                continue;
            return st;
        }
        if ((st = next_member(s, L)) != AH_OK)
            return st;
    }
}

ah_status ah_source_next(ah_source *s, ah_input **out)
{
    *out = NULL;
    if (!s)
        return AH_ERR_USAGE;
    for (;;) {
        ah_status st = next_leaf(s, out);
        if (st != AH_END)
            return st;
        if (s->next_file >= s->nfiles)
            return AH_END;
        if ((st = open_file(s, s->next_file++)) != AH_OK)
            return st;
    }
}

/* A leaf's size for planning: on disk at the top, as its archive records
 * it inside one, counted by reading when the archive does not say. */
static uint64_t leaf_size(ah_source *s, ah_input *in, char *buf)
{
    const layer *L = &s->layers[s->depth - 1];
    if (L->depth == 0)
        return s->files[s->cur_file]->disk_size;
    if (L->entry_size >= 0)
        return (uint64_t)L->entry_size;
    uint64_t n = 0;
    ssize_t k;
    while ((k = ah_read(&in->reader, buf, IO_BLOCK)) > 0)
        n += (uint64_t)k;
    return n;
}

ah_status ah_source_list(ah_source *s, bool members, ah_source_list_fn fn, void *ud)
{
    if (!s || !fn || s->next_file || s->file_open)
        return AH_ERR_USAGE;
    s->listing = true;
    char *buf = NULL;
    ah_status st = AH_OK;
    for (size_t i = 0; i < s->nfiles && st == AH_OK; i++) {
        file_rec *f = s->files[i];
        s->next_file = i + 1;
        if (!members && !f->pub.member_count) {
            st = fn(ud, f->pub.path, NULL, f->disk_size);
            continue;
        }
        uint64_t *sums = members ? NULL : calloc(f->pub.member_count, sizeof *sums);
        if ((!buf && !(buf = malloc(IO_BLOCK))) || (!members && !sums)) {
            free(sums);
            st = AH_ERR_NOMEM;
            break;
        }
        if ((st = open_file(s, i)) != AH_OK) {
            free(sums);
            break;
        }
        ah_input *in;
        while ((st = next_leaf(s, &in)) == AH_OK) {
            uint64_t size = leaf_size(s, in, buf);
            if (members) {
                if ((st = fn(ud, f->pub.path, in->origin->entry, size)) != AH_OK)
                    break;
                continue;
            }
            for (size_t k = 0; k < f->pub.member_count; k++) /* the first member it is in */
                if (select_one(f->members[k], in->origin->entry) == SEL_IN) {
                    sums[k] += size;
                    break;
                }
        }
        if (st == AH_END) {
            st = AH_OK;
            for (size_t k = 0; !members && st == AH_OK && k < f->pub.member_count; k++)
                if (f->found[k])
                    st = fn(ud, f->pub.path, f->members[k], sums[k]);
        }
        free(sums);
    }
    free(buf);
    return st;
}

ah_reader *ah_input_reader(ah_input *in) { return &in->reader; }
const ah_origin *ah_input_origin(const ah_input *in) { return in->origin; }
const char *ah_input_container(const ah_input *in) { return in->container; }

size_t ah_input_head(const ah_input *in, const unsigned char **p)
{
    *p = NULL;
    if (!in->open || in->src->depth == 0)
        return 0;
    const layer *L = &in->src->layers[in->src->depth - 1];
    *p = (const unsigned char *)L->plain_peek.head;
    return L->plain_peek.len;
}
size_t ah_input_file_index(const ah_input *in) { return in->file_index; }

uint64_t ah_input_member_order(const ah_input *in) { return in->member_order; }

void ah_source_free(ah_source *s)
{
    if (!s)
        return;
    while (s->depth > 0)
        pop_layer(s);
    if (s->file_open && s->fs.owns_fd && s->fs.fd >= 0)
        close(s->fs.fd);
    for (int i = 0; i < MAX_LAYERS; i++)
        free(s->layers[i].buf);
    for (size_t i = 0; i < s->nfiles; i++) {
        file_rec *f = s->files[i];
        free((char *)f->pub.path);
        for (size_t k = 0; k < f->pub.member_count; k++)
            free(f->members[k]);
        free(f->members);
        free(f->found);
        free(f);
    }
    free(s->files);
    for (size_t i = 0; i < s->norigins; i++)
        free(s->origins[i]);
    free(s->origins);
    free(s->io_buf);
    free(s);
}
