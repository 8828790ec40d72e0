/*
 * test_tempdir.c: spill directories (parsers/util/tempdir.c) and the CLI's
 * signal cleanup of them (analyzer/cli/cleanup.c): named for host and pid,
 * removed with their files by SIGINT/SIGTERM, swept by a later run when
 * their process is gone, left alone when it is alive or elsewhere.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "parsers/util/tempdir.h"
#include "support/tmpdir.h"

/* The CLI's registry and signal handlers: unit tests link the library only. */
#include "analyzer/cli/cleanup.c"

typedef ah_test_tmpdir fixture;

static int setup(void **state) { return ah_test_tmpdir_setup(state, "ah-tempdir", "x"); }

static int teardown(void **state) { return ah_test_tmpdir_teardown(state); }

static size_t entries(const char *dir)
{
    size_t n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    if (d)
        closedir(d);
    return n;
}

static void touch(const char *dir, const char *name)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("run", f);
    fclose(f);
}

typedef struct announced {
    char path[512];
    int created, removed;
} announced;

static void note_temp(void *ud, const char *path, bool exists)
{
    announced *a = ud;
    snprintf(a->path, sizeof a->path, "%s", path);
    if (exists)
        a->created++;
    else
        a->removed++;
}

static void test_name_and_announce(void **state)
{
    fixture *f = *state;
    announced a = {"", 0, 0};
    ah_diag d = {.temp_fn = note_temp, .temp_ud = &a};
    ah_status st;
    char *dir = ah_spill_dir_new(f->dir, "sort", &d, &st);
    assert_non_null(dir);
    assert_int_equal(st, AH_OK);
    char host[80], want[256];
    ah_host_tag(host, sizeof host);
    snprintf(want, sizeof want, "%s/audithound-%s-%ld-sort-", f->dir, host, (long)getpid());
    assert_int_equal(strncmp(dir, want, strlen(want)), 0);
    assert_int_equal(strlen(dir), strlen(want) + 6);
    assert_string_equal(a.path, dir);
    assert_int_equal(a.created, 1);
    struct stat sb;
    assert_int_equal(stat(dir, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
    ah_spill_dir_remove(&d, dir);
    assert_int_equal(a.removed, 1);
    assert_int_equal(stat(dir, &sb), -1);
    free(dir);
    /* a parent that is not there: an I/O error with errno, nothing announced */
    char missing[128];
    snprintf(missing, sizeof missing, "%s/none", f->dir);
    assert_null(ah_spill_dir_new(missing, "dedup", &d, &st));
    assert_int_equal(st, AH_ERR_IO);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(a.created, 1);
}

/* In a child: a spill directory with run files, a sink-like file, then the signal. */
static void child(const char *parent, int sig)
{
    signal(sig, SIG_DFL);
    ah_cli_install_signal_cleanup();
    ah_diag d = {.temp_fn = ah_cli_temp_hook};
    ah_status st;
    for (int k = 0; k < 2; k++) {
        char *dir = ah_spill_dir_new(parent, k ? "dedup" : "sort", &d, &st);
        if (!dir)
            _exit(10);
        for (int i = 0; i < 300; i++) { /* more than one getdents64 buffer of names */
            char name[64];
            snprintf(name, sizeof name, "run-%06d", i);
            touch(dir, name);
        }
    }
    raise(sig);
    _exit(11);
}

static void test_signal_removes_spill_dirs(void **state)
{
    fixture *f = *state;
    const int sigs[] = {SIGINT, SIGTERM};
    for (size_t i = 0; i < 2; i++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
            child(f->dir, sigs[i]);
        int ws;
        assert_int_equal(waitpid(pid, &ws, 0), pid);
        assert_true(WIFSIGNALED(ws));
        assert_int_equal(WTERMSIG(ws), sigs[i]);
        assert_int_equal(entries(f->dir), 0);
    }
}

static void test_stale_swept(void **state)
{
    fixture *f = *state;
    pid_t dead = fork();
    assert_true(dead >= 0);
    if (dead == 0)
        _exit(0);
    int ws;
    assert_int_equal(waitpid(dead, &ws, 0), dead);
    char host[80], stale[256], live[256], other[256];
    ah_host_tag(host, sizeof host);
    snprintf(stale, sizeof stale, "%s/audithound-%s-%ld-sort-abcdef", f->dir, host, (long)dead);
    snprintf(live, sizeof live, "%s/audithound-%s-%ld-dedup-ghijkl", f->dir, host, (long)getppid());
    snprintf(other, sizeof other, "%s/audithound-elsewhere.example-%ld-sort-mnopqr", f->dir, (long)dead);
    const char *all[] = {stale, live, other};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(mkdir(all[i], 0700), 0);
        touch(all[i], "run-000001");
    }
    ah_diag d = {0};
    ah_status st;
    char *dir = ah_spill_dir_new(f->dir, "sort", &d, &st);
    assert_non_null(dir);
    struct stat sb;
    assert_int_equal(stat(stale, &sb), -1);
    assert_int_equal(stat(live, &sb), 0);
    assert_int_equal(stat(other, &sb), 0);
    assert_int_equal(d.count[AH_SEV_WARNING], 1);
    ah_spill_dir_remove(&d, dir);
    free(dir);
    for (size_t i = 1; i < 3; i++) {
        char p[512];
        snprintf(p, sizeof p, "%s/run-000001", all[i]);
        unlink(p);
        rmdir(all[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_name_and_announce, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signal_removes_spill_dirs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_swept, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
