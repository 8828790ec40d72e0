/*
 * cleanup.c: the temporaries a signal must not leave behind (cli.h).
 *
 * A signal handler can reach nothing but process-wide state, so the
 * registry lives here, in the program, not in the library: the library
 * only announces its temporaries through the diag's temp hook. Each slot
 * holds a path owned by a live library object (a sink's temporary file, a
 * sorter's or deduplication's spill directory), or NULL. Lock-free
 * atomics only, so the handler may read it at any moment; the hook takes
 * a free slot with compare-and-swap and clears it when told the path is
 * going. A temporary that finds no free slot still works, only without
 * removal on a signal (the next run's sweep removes it: its name carries
 * the pid).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cli.h"

#define TEMP_SLOTS 256

static _Atomic(const char *) cli_temps[TEMP_SLOTS];

void ah_cli_temp_hook(void *ud, const char *path, bool exists)
{
    (void)ud;
    for (size_t i = 0; i < TEMP_SLOTS; i++) {
        const char *expected = exists ? NULL : path;
        if (atomic_compare_exchange_strong(&cli_temps[i], &expected, exists ? path : NULL))
            return;
    }
}

/* Remove the files of a spill directory, then the directory.
 * Async-signal-safe: open, getdents64 (the raw system call: readdir
 * allocates), unlinkat, close, rmdir. A few passes, as a worker may add a
 * run file while this runs. */
static void remove_dir_on_signal(const char *dir)
{
    for (int pass = 0; pass < 4 && rmdir(dir) != 0 && errno == ENOTEMPTY; pass++) {
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            return;
        char buf[4096] __attribute__((aligned(8)));
        long n;
        while ((n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
            for (long off = 0; off < n;) {
                struct {
                    unsigned long long ino;
                    long long off;
                    unsigned short reclen;
                    unsigned char type;
                    char name[];
                } *e = (void *)(buf + off);
                if (strcmp(e->name, ".") != 0 && strcmp(e->name, "..") != 0)
                    (void)unlinkat(fd, e->name, 0);
                off += e->reclen;
            }
        }
        close(fd);
    }
}

/* Installed with SA_RESETHAND | SA_NODEFER: the signal raised again takes
 * its default action at once (the shell sees 130, 143, 129, 141). */
static void remove_temporaries_on_signal(int sig)
{
    int saved = errno;
    for (size_t i = 0; i < TEMP_SLOTS; i++) {
        const char *p = atomic_load(&cli_temps[i]);
        if (p && unlink(p) != 0 && (errno == EISDIR || errno == EPERM))
            remove_dir_on_signal(p);
    }
    errno = saved;
    raise(sig);
}

void ah_cli_install_signal_cleanup(void)
{
    static const int signals[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
    for (size_t i = 0; i < AH_ARRAY_LEN(signals); i++) {
        struct sigaction old, sa;
        /* A signal the caller ignores (nohup's SIGHUP) stays ignored. SIGPIPE
         * is taken whatever its disposition: a closed pipe ends the run. */
        if (sigaction(signals[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN && signals[i] != SIGPIPE)
            continue;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = remove_temporaries_on_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESETHAND | SA_NODEFER;
        (void)sigaction(signals[i], &sa, NULL);
    }
}
