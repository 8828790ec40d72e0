/*
 * sink.c: safe output destinations (see sink.h for the rules).
 *
 * Why a temporary file and a rename: an interrupted or failed run must not
 * leave a truncated timeline under the name the analyst asked for, and a
 * re-run must not silently replace evidence. The temporary name is made
 * with O_CREAT|O_EXCL rather than mkstemp so the final file gets the usual
 * 0666 & ~umask permissions without reading the process umask (umask() is
 * process-global and changing it is not thread-safe).
 *
 * Temporary names are ".<name>.audithound-<host>-<pid>-<XXXXXX>": the host
 * and process that own them are in the name, so a later run writing the
 * same output can tell a leftover of a run that no longer exists (the
 * machine crashed, or SIGKILL) from one still being written, and remove it
 * (see ah_sink_open). While a temporary exists the diag's temp hook
 * knows it (ah_diag_temp): the CLI's signal handler removes it. The library
 * keeps no registry of its own (no process-wide state).
 */
#include "sink.h"

#include "../../parsers/util/sha256.h"
#include "../../parsers/util/tempdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SINK_MAGIC 0x53494e4bu /* "SINK" */
#define TEMP_ATTEMPTS 64
#define TEMP_TAG ".audithound-" /* after ".<name>": then <host>-<pid>-<XXXXXX> */
struct ah_sink {
    uint32_t magic;
    ah_sink_kind kind;
    int fd; /* -1 once closed */
    bool force;
    bool committed;
    char *path; /* final name */
    char *temp; /* temporary name (AH_SINK_FILE) */
    ah_diag *diag;
    ah_sha256 digest; /* of every byte written: the run summary's output hash */
    uint64_t bytes;
};

/* Report msg (with the errno text when err != 0) against the output path. */
static ah_status report(ah_sink *s, ah_status st, const char *msg, int err)
{
    ah_where where = {.path = s->path};
    if (err)
        ah_diag_report(s->diag, AH_SEV_ERROR, &where, "%s: %s", msg, strerror(err));
    else
        ah_diag_report(s->diag, AH_SEV_ERROR, &where, "%s", msg);
    return st;
}

/* Directory part of path ("." when there is none), malloc'd. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    size_t n = (size_t)(slash - path);
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, path, n);
        d[n] = '\0';
    }
    return d;
}

/* splitmix64: spreads a few weak entropy sources over the name suffix.
 * Uniqueness comes from O_EXCL; the mixing only avoids retries. */
static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static ah_status open_temp(ah_sink *s)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    const char *slash = strrchr(s->path, '/');
    size_t dir_len = slash ? (size_t)(slash - s->path) + 1 : 0;
    const char *base = s->path + dir_len;
    char host[80];
    ah_host_tag(host, sizeof host);
    size_t n = dir_len + 1 + strlen(base) + strlen(TEMP_TAG) + strlen(host) + 1 + 20 + 1 + 6 + 1;
    s->temp = malloc(n);
    if (!s->temp)
        return AH_ERR_NOMEM;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t seed =
        (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ ((uint64_t)getpid() << 40) ^ (uint64_t)(uintptr_t)s;
    for (int attempt = 0; attempt < TEMP_ATTEMPTS; attempt++) {
        uint64_t r = mix64(seed + (uint64_t)attempt);
        char suffix[7];
        for (int i = 0; i < 6; i++) {
            suffix[i] = alphabet[r % (sizeof alphabet - 1)];
            r /= sizeof alphabet - 1;
        }
        suffix[6] = '\0';
        snprintf(s->temp, n, "%.*s.%s" TEMP_TAG "%s-%ld-%s", (int)dir_len, s->path, base, host, (long)getpid(), suffix);
        s->fd = open(s->temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0666);
        if (s->fd >= 0) {
            ah_diag_temp(s->diag, s->temp, true);
            return AH_OK;
        }
        if (errno != EEXIST) {
            int err = errno;
            free(s->temp);
            s->temp = NULL;
            return report(s, AH_ERR_IO, "cannot create a temporary file next to the output", err);
        }
    }
    free(s->temp);
    s->temp = NULL;
    return report(s, AH_ERR_IO, "cannot create a temporary file next to the output", 0);
}

/* If `name` (a directory entry) is a temporary of output `base` made on
 * this host by a process that no longer exists, return its pid, else 0. */
static long stale_temp_pid(const char *name, const char *base, const char *host)
{
    size_t nb = strlen(base), nt = strlen(TEMP_TAG), nh = strlen(host);
    if (name[0] != '.' || strncmp(name + 1, base, nb) != 0 || strncmp(name + 1 + nb, TEMP_TAG, nt) != 0)
        return 0;
    const char *p = name + 1 + nb + nt;
    if (strncmp(p, host, nh) != 0 || p[nh] != '-')
        return 0;
    p += nh + 1;
    char *end;
    errno = 0;
    long pid = strtol(p, &end, 10);
    if (errno || end == p || pid <= 0 || *end != '-' || strlen(end + 1) != 6)
        return 0;
    if (ah_pid_alive(pid))
        return 0; /* still being written */
    return pid;
}

/* Remove what an earlier run writing the same output left when it could
 * not clean up (SIGKILL, a crash, power loss): its temporary files, named
 * for this output, this host and a process that is gone. Each removal is
 * reported as a warning. Best effort: an unreadable directory is the open's
 * business, not this one's. */
static void sweep_stale_temps(ah_sink *s)
{
    char *dir = dir_of(s->path);
    if (!dir)
        return;
    const char *slash = strrchr(s->path, '/');
    const char *base = slash ? slash + 1 : s->path;
    char host[80];
    ah_host_tag(host, sizeof host);
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            long pid = stale_temp_pid(e->d_name, base, host);
            if (!pid)
                continue;
            size_t n = strlen(dir) + 1 + strlen(e->d_name) + 1;
            char *victim = malloc(n);
            if (!victim)
                break;
            snprintf(victim, n, "%s/%s", dir, e->d_name);
            struct stat st;
            if (lstat(victim, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() && unlink(victim) == 0) {
                ah_where where = {.path = s->path};
                ah_diag_report(s->diag, AH_SEV_WARNING, &where,
                               "removed %s, a temporary file left by an interrupted run (process %ld is gone)", victim,
                               pid);
            }
            free(victim);
        }
        closedir(d);
    }
    free(dir);
}

ah_sink *ah_sink_open(const char *path, bool force, ah_diag *diag, ah_status *st)
{
    ah_status status = AH_OK;
    ah_sink *s = NULL;
    if (!path || !*path) {
        ah_diag_report(diag, AH_SEV_ERROR, NULL, "output path is empty");
        status = AH_ERR_USAGE;
        goto out;
    }
    s = calloc(1, sizeof *s);
    if (!s) {
        status = AH_ERR_NOMEM;
        goto out;
    }
    s->magic = SINK_MAGIC;
    s->fd = -1;
    s->force = force;
    s->diag = diag;
    ah_sha256_init(&s->digest);
    s->path = strdup(path);
    if (!s->path) {
        status = AH_ERR_NOMEM;
        goto out;
    }
    if (strcmp(path, "-") == 0) {
        s->kind = AH_SINK_STDOUT;
        s->fd = STDOUT_FILENO;
        goto out;
    }
    struct stat target;
    if (stat(path, &target) == 0) {
        if (S_ISDIR(target.st_mode)) {
            status = report(s, AH_ERR_USAGE, "output path is a directory", 0);
            goto out;
        }
        if (!S_ISREG(target.st_mode)) {
            /* Devices and FIFOs: no rename possible, and no clobbering either. */
            s->kind = AH_SINK_DIRECT;
            s->fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
            if (s->fd < 0)
                status = report(s, AH_ERR_IO, "cannot open output", errno);
            goto out;
        }
    }
    s->kind = AH_SINK_FILE;
    status = ah_sink_check_target(s);
    if (status != AH_OK)
        goto out;
    sweep_stale_temps(s);
    status = open_temp(s);
out:
    if (status != AH_OK) {
        ah_sink_free(s);
        s = NULL;
    }
    if (st)
        *st = status;
    return s;
}

ah_sink_kind ah_sink_get_kind(const ah_sink *s) { return s->kind; }
const char *ah_sink_path(const ah_sink *s) { return s->path; }
const char *ah_sink_temp_path(const ah_sink *s) { return s->committed ? NULL : s->temp; }

ah_status ah_sink_write(ah_sink *s, const void *p, size_t n)
{
    if (!s || s->magic != SINK_MAGIC || s->fd < 0)
        return AH_ERR_USAGE;
    const char *c = p;
    while (n > 0) {
        ssize_t k = write(s->fd, c, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return report(s, AH_ERR_IO, "write failed", errno);
        }
        ah_sha256_update(&s->digest, c, (size_t)k);
        s->bytes += (uint64_t)k;
        c += k;
        n -= (size_t)k;
    }
    return AH_OK;
}

ah_status ah_sink_rehash(ah_sink *s)
{
    if (!s || s->magic != SINK_MAGIC || s->kind != AH_SINK_FILE || s->committed)
        return AH_ERR_USAGE;
    FILE *f = fopen(s->temp, "rb");
    if (!f)
        return report(s, AH_ERR_IO, "cannot read back output", errno);
    ah_sha256_init(&s->digest);
    s->bytes = 0;
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        ah_sha256_update(&s->digest, buf, n);
        s->bytes += n;
    }
    ah_status st = ferror(f) ? report(s, AH_ERR_IO, "cannot read back output", errno) : AH_OK;
    fclose(f);
    return st;
}

void ah_sink_digest(const ah_sink *s, char sha256[65], uint64_t *bytes)
{
    ah_sha256 copy = s->digest; /* the sink may go on writing */
    ah_sha256_hex(&copy, sha256);
    if (bytes)
        *bytes = s->bytes;
}

ah_status ah_output_list_add(ah_output_list *l, const ah_sink *s)
{
    if (!l || !s || s->kind != AH_SINK_FILE)
        return AH_OK;
    if (l->n == l->cap) {
        ah_output_file *v = ah_grow_array(l->v, &l->cap, 4, sizeof *v);
        if (!v)
            return AH_ERR_NOMEM;
        l->v = v;
    }
    ah_output_file *f = &l->v[l->n];
    if (!(f->path = strdup(s->path)))
        return AH_ERR_NOMEM;
    ah_sink_digest(s, f->sha256, &f->bytes);
    l->n++;
    return AH_OK;
}

void ah_output_list_free(ah_output_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].path);
    free(l->v);
    *l = (ah_output_list){0};
}

ah_status ah_sink_finish(ah_sink *s)
{
    if (!s || s->magic != SINK_MAGIC)
        return AH_ERR_USAGE;
    if (s->fd < 0)
        return AH_OK;
    ah_status status = AH_OK;
    if (s->kind == AH_SINK_FILE) {
        if (fsync(s->fd) != 0)
            status = report(s, AH_ERR_IO, "fsync failed", errno);
        if (close(s->fd) != 0 && status == AH_OK)
            status = report(s, AH_ERR_IO, "close failed", errno);
    } else if (s->kind == AH_SINK_DIRECT) {
        if (close(s->fd) != 0)
            status = report(s, AH_ERR_IO, "close failed", errno);
    }
    /* stdout stays open: it belongs to the process, not to the sink. */
    s->fd = -1;
    return status;
}

ah_status ah_sink_check_target(ah_sink *s)
{
    if (!s || s->kind != AH_SINK_FILE || s->force)
        return AH_OK;
    struct stat st;
    if (lstat(s->path, &st) == 0)
        return report(s, AH_ERR_USAGE, "output file exists (use --force to replace it)", 0);
    if (errno != ENOENT)
        return report(s, AH_ERR_IO, "cannot check output path", errno);
    return AH_OK;
}

static void sync_dir(const char *path)
{
    char *dir = dir_of(path);
    if (!dir)
        return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd); /* best effort: some file systems refuse directory fsync */
        close(fd);
    }
    free(dir);
}

static ah_status move_no_clobber(ah_sink *s)
{
    if (link(s->temp, s->path) == 0) {
        unlink(s->temp);
        return AH_OK;
    }
    int err = errno;
    if (err == EEXIST)
        return report(s, AH_ERR_USAGE, "output file appeared while writing; not replaced (use --force)", 0);
    if (err != EPERM && err != ENOTSUP && err != EOPNOTSUPP && err != ENOSYS && err != EMLINK && err != EXDEV)
        return report(s, AH_ERR_IO, "cannot create output", err);
    /* No hard links here (e.g. FAT, some FUSE mounts): check, then rename. */
    ah_status status = ah_sink_check_target(s);
    if (status != AH_OK)
        return status;
    if (rename(s->temp, s->path) != 0)
        return report(s, AH_ERR_IO, "cannot create output", errno);
    return AH_OK;
}

ah_status ah_sink_commit(ah_sink *s)
{
    if (!s || s->magic != SINK_MAGIC)
        return AH_ERR_USAGE;
    if (s->committed)
        return AH_OK;
    ah_status status = ah_sink_finish(s);
    if (status != AH_OK || s->kind != AH_SINK_FILE)
        goto out;
    if (s->force) {
        if (rename(s->temp, s->path) != 0)
            status = report(s, AH_ERR_IO, "cannot replace output", errno);
    } else {
        status = move_no_clobber(s);
    }
    if (status == AH_OK)
        sync_dir(s->path);
out:
    if (status == AH_OK) {
        s->committed = true;
        if (s->kind == AH_SINK_FILE) /* gone under its temporary name: nothing for a signal to remove */
            ah_diag_temp(s->diag, s->temp, false);
    }
    return status;
}

void ah_sink_free(ah_sink *s)
{
    if (!s)
        return;
    if (s->fd >= 0 && s->kind != AH_SINK_STDOUT)
        close(s->fd);
    if (s->kind == AH_SINK_FILE && s->temp && !s->committed) {
        ah_diag_temp(s->diag, s->temp, false);
        unlink(s->temp);
    }
    s->magic = 0;
    free(s->temp);
    free(s->path);
    free(s);
}

char *ah_sink_part_path(const char *path, unsigned part)
{
    if (part <= 1)
        return strdup(path);
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    const char *dot = strrchr(base, '.');
    /* A leading dot names a hidden file, not an extension. */
    size_t stem = (dot && dot != base) ? (size_t)(dot - path) : strlen(path);
    char number[16];
    int k = snprintf(number, sizeof number, "-%03u", part);
    size_t n = strlen(path) + (size_t)k + 1;
    char *out = malloc(n);
    if (!out)
        return NULL;
    memcpy(out, path, stem);
    memcpy(out + stem, number, (size_t)k);
    strcpy(out + stem + (size_t)k, path + stem);
    return out;
}
