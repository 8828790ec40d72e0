/*
 * test_source_util.h: fixtures of the source tests (test_source*.c): a
 * temporary directory per test, collected diagnostics, containers built in
 * memory with zlib and libarchive's writers (no binary fixtures), and leaf
 * streams read back whole.
 */
#ifndef TEST_SOURCE_UTIL_H
#define TEST_SOURCE_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "parsers/source/source.h"
#include "parsers/util/sha256.h"

/* --- fixtures ------------------------------------------------------------ */

typedef struct diag_msg {
    ah_severity sev;
    char path[512];
    char entry[512];
    bool has_entry;
    char msg[1024];
} diag_msg;

typedef struct test_ctx {
    char dir[256];
    ah_diag diag;
    diag_msg msgs[32];
    size_t nmsgs;
} test_ctx;

static inline void collect_diag(void *ud, ah_severity sev, const ah_where *w, const char *msg)
{
    test_ctx *t = ud;
    if (t->nmsgs >= AH_ARRAY_LEN(t->msgs))
        return;
    diag_msg *m = &t->msgs[t->nmsgs++];
    m->sev = sev;
    snprintf(m->path, sizeof m->path, "%s", w && w->path ? w->path : "");
    m->has_entry = w && w->entry;
    snprintf(m->entry, sizeof m->entry, "%s", m->has_entry ? w->entry : "");
    snprintf(m->msg, sizeof m->msg, "%s", msg);
}

/* Check the number of diagnostics, showing them all when it is wrong. */
static inline void assert_nmsgs(const test_ctx *t, size_t n)
{
    if (t->nmsgs != n)
        for (size_t i = 0; i < t->nmsgs; i++)
            print_message("diag %d %s[%s]: %s\n", (int)t->msgs[i].sev, t->msgs[i].path, t->msgs[i].entry,
                          t->msgs[i].msg);
    assert_int_equal(t->nmsgs, n);
}

static inline int rm_rf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return 0;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *de;
            while ((de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                    continue;
                char sub[1024];
                if ((size_t)snprintf(sub, sizeof sub, "%s/%s", path, de->d_name) < sizeof sub)
                    rm_rf(sub);
            }
            closedir(d);
        }
        return rmdir(path);
    }
    return unlink(path);
}

static inline int setup(void **state)
{
    test_ctx *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    const char *tmp = getenv("TMPDIR");
    snprintf(t->dir, sizeof t->dir, "%s/ah-test-source-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(t->dir)) {
        free(t);
        return -1;
    }
    t->diag.fn = collect_diag;
    t->diag.ud = t;
    *state = t;
    return 0;
}

static inline int teardown(void **state)
{
    test_ctx *t = *state;
    if (getenv("AH_TEST_KEEP")) /* debugging: keep the generated containers */
        print_message("kept %s\n", t->dir);
    else
        rm_rf(t->dir);
    free(t);
    return 0;
}

static const char *tpath(test_ctx *t, const char *name, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s", t->dir, name);
    return buf;
}

static inline void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (len)
        assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static inline void sha_hex(const void *data, size_t len, char out[65])
{
    ah_sha256 s;
    ah_sha256_init(&s);
    ah_sha256_update(&s, data, len);
    ah_sha256_hex(&s, out);
}

/* A growable byte string for building containers in memory. */
typedef struct bytes {
    unsigned char *p;
    size_t len;
} bytes;

static inline void bytes_free(bytes *b)
{
    free(b->p);
    b->p = NULL;
    b->len = 0;
}

static inline bytes gzip_bytes(const void *data, size_t len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    bytes b = {malloc(deflateBound(&z, (uLong)len) + 64), 0};
    assert_non_null(b.p);
    z.next_in = (Bytef *)(uintptr_t)data;
    z.avail_in = (uInt)len;
    z.next_out = b.p;
    z.avail_out = (uInt)(deflateBound(&z, (uLong)len) + 64);
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    b.len = z.total_out;
    deflateEnd(&z);
    return b;
}

typedef enum fmt { FMT_ZIP, FMT_TAR, FMT_7Z, FMT_RAW } fmt;

typedef struct member {
    const char *name;
    const void *data;
    size_t len;
    unsigned type; /* 0: regular file */
    bool encrypt;
} member;

/* Build an archive in memory with libarchive's writers. filter: ARCHIVE_FILTER_* or NONE. */
static inline bytes make_archive(fmt format, int filter, const member *m, size_t n)
{
    size_t cap = 1 << 16;
    for (size_t i = 0; i < n; i++)
        cap += m[i].len * 2 + 1024;
    bytes b = {malloc(cap), 0};
    assert_non_null(b.p);
    struct archive *a = archive_write_new();
    assert_non_null(a);
    switch (format) {
    case FMT_ZIP: assert_int_equal(archive_write_set_format_zip(a), ARCHIVE_OK); break;
    case FMT_TAR: assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK); break;
    case FMT_7Z: assert_int_equal(archive_write_set_format_7zip(a), ARCHIVE_OK); break;
    case FMT_RAW: assert_int_equal(archive_write_set_format_raw(a), ARCHIVE_OK); break;
    }
    if (filter != ARCHIVE_FILTER_NONE)
        assert_int_equal(archive_write_add_filter(a, filter), ARCHIVE_OK);
    if (format == FMT_ZIP && n && m[0].encrypt) { /* options apply to the whole archive */
        assert_int_equal(archive_write_set_options(a, "zip:encryption=zipcrypt"), ARCHIVE_OK);
        assert_int_equal(archive_write_set_passphrase(a, "pw"), ARCHIVE_OK);
    }
    assert_int_equal(archive_write_open_memory(a, b.p, cap, &b.len), ARCHIVE_OK);
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, m[i].name);
        archive_entry_set_filetype(e, m[i].type ? m[i].type : AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_mtime(e, 1700000000, 0);
        if (m[i].type == AE_IFLNK)
            archive_entry_set_symlink(e, "target");
        if (!m[i].type || m[i].type == AE_IFREG)
            archive_entry_set_size(e, (la_int64_t)m[i].len);
        assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
        if (m[i].len)
            assert_int_equal(archive_write_data(a, m[i].data, m[i].len), (la_ssize_t)m[i].len);
        archive_entry_free(e);
    }
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
    return b;
}

/* Printable pseudo-random text: compresses poorly, so streams span many blocks. */
static inline bytes noise_text(size_t len, uint32_t seed)
{
    bytes b = {malloc(len), len};
    assert_non_null(b.p);
    uint32_t x = seed ? seed : 1;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        b.p[i] = (i % 80 == 79) ? '\n' : "0123456789abcdef"[x & 15];
    }
    return b;
}

/* --- reading leaves ------------------------------------------------------- */

typedef struct leaf {
    char path[512];
    char entry[512];
    bool has_entry;
    char container[128];
    uint32_t input_no;
    size_t file_index;
    unsigned char *data;
    size_t len;
    ssize_t last; /* last read result: 0 at end, -1 on error */
} leaf;

typedef struct leaves {
    leaf l[32];
    size_t n;
} leaves;

static inline void read_leaf(ah_input *in, leaf *out, size_t step)
{
    const ah_origin *o = ah_input_origin(in);
    snprintf(out->path, sizeof out->path, "%s", o->path);
    out->has_entry = o->entry != NULL;
    snprintf(out->entry, sizeof out->entry, "%s", o->entry ? o->entry : "");
    snprintf(out->container, sizeof out->container, "%s", ah_input_container(in));
    out->input_no = o->input_no;
    out->file_index = ah_input_file_index(in);
    size_t cap = 4096;
    out->data = malloc(cap);
    assert_non_null(out->data);
    out->len = 0;
    char *tmp = malloc(step);
    assert_non_null(tmp);
    for (;;) {
        ssize_t k = ah_read(ah_input_reader(in), tmp, step);
        out->last = k;
        if (k <= 0)
            break;
        if (out->len + (size_t)k > cap) {
            while (out->len + (size_t)k > cap)
                cap *= 2;
            out->data = realloc(out->data, cap);
            assert_non_null(out->data);
        }
        memcpy(out->data + out->len, tmp, (size_t)k);
        out->len += (size_t)k;
    }
    free(tmp);
}

static inline void read_all(ah_source *s, leaves *ls, size_t step)
{
    ls->n = 0;
    ah_input *in;
    ah_status st;
    while ((st = ah_source_next(s, &in)) == AH_OK) {
        assert_true(ls->n < AH_ARRAY_LEN(ls->l));
        read_leaf(in, &ls->l[ls->n++], step);
    }
    assert_int_equal(st, AH_END);
    assert_null(in);
}

static inline void leaves_free(leaves *ls)
{
    for (size_t i = 0; i < ls->n; i++)
        free(ls->l[i].data);
    ls->n = 0;
}

static inline void assert_leaf(const leaf *l, const char *entry, const char *container, const void *data, size_t len)
{
    if (entry) {
        assert_true(l->has_entry);
        assert_string_equal(l->entry, entry);
    } else {
        assert_false(l->has_entry);
    }
    assert_string_equal(l->container, container);
    assert_int_equal(l->last, 0);
    assert_int_equal(l->len, len);
    if (len)
        assert_memory_equal(l->data, data, len);
}

static inline void assert_file(const ah_source *s, size_t i, const char *path, const void *disk, size_t disk_len,
                               uint32_t leaf_count, bool unreadable)
{
    const ah_source_file *f = ah_source_file_at(s, i);
    assert_non_null(f);
    assert_string_equal(f->path, path);
    char hex[65];
    sha_hex(disk, disk_len, hex);
    assert_string_equal(f->sha256, hex);
    assert_int_equal(f->size, disk_len);
    assert_int_equal(f->leaf_count, leaf_count);
    assert_int_equal(f->unreadable, unreadable);
}

static const char csv[] __attribute__((unused)) =
    "RecordId,CreationDate,Operation\r\n1,2024-01-01T00:00:00Z,UserLoggedIn\r\n";
static const char json[] __attribute__((unused)) = "{\"Id\":\"a\",\"Operation\":\"New-InboxRule\"}\n{\"Id\":\"b\"}\n";

#endif
