#include "tempdir.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SPILL_TAG "audithound-"

void ah_host_tag(char *out, size_t size)
{
    char host[256];
    if (gethostname(host, sizeof host) != 0)
        host[0] = '\0';
    host[sizeof host - 1] = '\0';
    size_t n = 0;
    for (const char *h = host; *h && n + 1 < size && n < 64; h++)
        if ((*h >= 'a' && *h <= 'z') || (*h >= 'A' && *h <= 'Z') || (*h >= '0' && *h <= '9') || *h == '.')
            out[n++] = *h;
    if (n == 0 && size > 4)
        n = (size_t)snprintf(out, size, "host");
    out[n] = '\0';
}

bool ah_pid_alive(long pid) { return kill((pid_t)pid, 0) == 0 || errno != ESRCH; }

/* The pid of a spill directory name "audithound-<host>-<pid>-<kind>-XXXXXX"
 * of this host whose process is gone, else 0. */
static long stale_pid(const char *name, const char *host)
{
    size_t nt = strlen(SPILL_TAG), nh = strlen(host);
    if (strncmp(name, SPILL_TAG, nt) != 0 || strncmp(name + nt, host, nh) != 0 || name[nt + nh] != '-')
        return 0;
    const char *p = name + nt + nh + 1;
    char *end;
    errno = 0;
    long pid = strtol(p, &end, 10);
    if (errno || end == p || pid <= 0 || *end != '-' || pid == (long)getpid() || ah_pid_alive(pid))
        return 0;
    return pid;
}

/* Remove dir and the plain files in it (a spill directory holds nothing
 * else); false if something stays. */
static bool remove_flat_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return false;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        (void)unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
    return rmdir(dir) == 0;
}

static void sweep(const char *parent, ah_diag *diag)
{
    char host[80];
    ah_host_tag(host, sizeof host);
    DIR *d = opendir(parent);
    if (!d)
        return; /* mkdtemp will say why */
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        long pid = stale_pid(e->d_name, host);
        if (!pid)
            continue;
        size_t n = strlen(parent) + 1 + strlen(e->d_name) + 1;
        char *victim = malloc(n);
        if (!victim)
            break; /* best effort: the next run sweeps again */
        snprintf(victim, n, "%s/%s", parent, e->d_name);
        struct stat st;
        if (lstat(victim, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() && remove_flat_dir(victim)) {
            ah_where where = {.path = parent};
            ah_diag_report(diag, AH_SEV_WARNING, &where,
                           "removed %s, a temporary directory left by an interrupted run (process %ld is gone)", victim,
                           pid);
        }
        free(victim);
    }
    closedir(d);
}

char *ah_spill_dir_new(const char *parent, const char *kind, ah_diag *diag, ah_status *st)
{
    if (!parent) {
        parent = getenv("TMPDIR");
        if (!parent || !*parent)
            parent = "/tmp";
    }
    sweep(parent, diag);
    char host[80];
    ah_host_tag(host, sizeof host);
    size_t n = strlen(parent) + strlen(host) + strlen(kind) + 64;
    char *dir = malloc(n);
    if (!dir) {
        *st = AH_ERR_NOMEM;
        return NULL;
    }
    snprintf(dir, n, "%s/" SPILL_TAG "%s-%ld-%s-XXXXXX", parent, host, (long)getpid(), kind);
    if (!mkdtemp(dir)) {
        int err = errno;
        free(dir);
        errno = err;
        *st = AH_ERR_IO;
        return NULL;
    }
    ah_diag_temp(diag, dir, true);
    *st = AH_OK;
    return dir;
}

void ah_spill_dir_remove(ah_diag *diag, const char *dir)
{
    if (!dir)
        return;
    ah_diag_temp(diag, dir, false);
    (void)rmdir(dir);
}
