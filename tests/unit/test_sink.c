/*
 * test_sink.c: output destinations: temporary file + rename, no clobbering,
 * stdout, devices and FIFOs, split-part names, cleanup on abort, on a
 * signal, and of the temporaries a dead run left behind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "analyzer/output/sink.h"
#include "analyzer/output/timeline.h"
#include "support/tmpdir.h"

/* The CLI's registry and signal handlers: unit tests link the library only. */
#include "analyzer/cli/cleanup.c"

typedef ah_test_tmpdir fixture;

static int setup(void **state) { return ah_test_tmpdir_setup(state, "ah-sink", "out.csv"); }

static int teardown(void **state) { return ah_test_tmpdir_teardown(state); }

/* Names in dir, sorted, joined by '|'. */
static void list_dir(const char *dir, char *out, size_t size)
{
    char names[16][256];
    size_t n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL && n < 16)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            snprintf(names[n++], sizeof names[0], "%s", e->d_name);
    if (d)
        closedir(d);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (strcmp(names[j], names[i]) < 0) {
                char t[256];
                memcpy(t, names[i], sizeof t);
                memcpy(names[i], names[j], sizeof t);
                memcpy(names[j], t, sizeof t);
            }
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (i)
            strncat(out, "|", size - strlen(out) - 1);
        strncat(out, names[i], size - strlen(out) - 1);
    }
}

/* The host part of temporary names, as sink.c makes it (letters, digits, dots). */
static void host_tag(char *out, size_t size)
{
    char host[256] = "";
    if (gethostname(host, sizeof host) != 0)
        host[0] = '\0';
    host[sizeof host - 1] = '\0';
    size_t n = 0;
    for (const char *h = host; *h && n + 1 < size && n < 64; h++)
        if ((*h >= 'a' && *h <= 'z') || (*h >= 'A' && *h <= 'Z') || (*h >= '0' && *h <= '9') || *h == '.')
            out[n++] = *h;
    out[n] = '\0';
    if (n == 0)
        snprintf(out, size, "host");
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static void test_part_names(void **state)
{
    (void)state;
    static const struct {
        const char *path;
        unsigned part;
        const char *want;
    } cases[] = {
        {"out.csv", 1, "out.csv"},
        {"out.csv", 2, "out-002.csv"},
        {"out.csv", 999, "out-999.csv"},
        {"out.csv", 1000, "out-1000.csv"},
        {"out", 3, "out-003"},
        {"a.b/out", 2, "a.b/out-002"},
        {"a.b/out.tar.csv", 2, "a.b/out.tar-002.csv"},
        {"dir/.hidden", 2, "dir/.hidden-002"},
        {".hidden.csv", 2, ".hidden-002.csv"},
        {"/abs/x.", 2, "/abs/x-002."},
        {"-", 2, "--002"},
    };
    for (size_t i = 0; i < AH_ARRAY_LEN(cases); i++) {
        char *got = ah_sink_part_path(cases[i].path, cases[i].part);
        assert_non_null(got);
        assert_string_equal(got, cases[i].want);
        free(got);
    }
}

static void test_temp_then_rename(void **state)
{
    fixture *f = *state;
    ah_status st;
    ah_sink *s = ah_sink_open(f->path, false, NULL, &st);
    assert_non_null(s);
    assert_int_equal(st, AH_OK);
    assert_int_equal(ah_sink_get_kind(s), AH_SINK_FILE);
    assert_string_equal(ah_sink_path(s), f->path);
    const char *temp = ah_sink_temp_path(s);
    assert_non_null(temp);
    /* ".out.csv.audithound-HOST-PID-XXXXXX" in the same directory */
    char prefix[512];
    char host[80];
    host_tag(host, sizeof host);
    snprintf(prefix, sizeof prefix, "%s/.out.csv.audithound-%s-%ld-", f->dir, host, (long)getpid());
    assert_int_equal(strncmp(temp, prefix, strlen(prefix)), 0);
    assert_int_equal(strlen(temp), strlen(prefix) + 6);
    assert_int_equal(ah_sink_write(s, "hello ", 6), AH_OK);
    assert_int_equal(ah_sink_write(s, "world\n", 6), AH_OK);
    assert_int_equal(access(f->path, F_OK), -1); /* not visible yet */
    assert_int_equal(access(temp, F_OK), 0);
    assert_int_equal(ah_sink_commit(s), AH_OK);
    assert_int_equal(ah_sink_commit(s), AH_OK); /* idempotent */
    assert_null(ah_sink_temp_path(s));
    ah_sink_free(s);
    char *got = ah_test_slurp(f->path, NULL);
    assert_string_equal(got, "hello world\n");
    free(got);
    char names[512];
    list_dir(f->dir, names, sizeof names);
    assert_string_equal(names, "out.csv");
    /* usual permissions: 0666 & ~umask, not mkstemp's 0600 */
    mode_t mask = umask(022);
    umask(mask);
    struct stat sb;
    assert_int_equal(stat(f->path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0666 & ~mask);
}

static void test_free_without_commit_removes_temp(void **state)
{
    fixture *f = *state;
    ah_status st;
    ah_sink *s = ah_sink_open(f->path, false, NULL, &st);
    assert_non_null(s);
    assert_int_equal(ah_sink_write(s, "partial", 7), AH_OK);
    assert_int_equal(ah_sink_finish(s), AH_OK);
    assert_int_equal(ah_sink_finish(s), AH_OK);
    assert_int_equal(ah_sink_write(s, "x", 1), AH_ERR_USAGE); /* closed */
    ah_sink_free(s);
    ah_sink_free(NULL);
    char names[512];
    list_dir(f->dir, names, sizeof names);
    assert_string_equal(names, "");
}

static void test_existing_file(void **state)
{
    fixture *f = *state;
    write_file(f->path, "old");
    ah_diag diag = {0};
    ah_status st = AH_OK;
    assert_null(ah_sink_open(f->path, false, &diag, &st));
    assert_int_equal(st, AH_ERR_USAGE);
    assert_int_equal(diag.count[AH_SEV_ERROR], 1);
    char *got = ah_test_slurp(f->path, NULL);
    assert_string_equal(got, "old");
    free(got);
    /* a dangling symlink also counts as existing */
    char link_path[160];
    snprintf(link_path, sizeof link_path, "%s/dangling.csv", f->dir);
    assert_int_equal(symlink("/nonexistent/target", link_path), 0);
    assert_null(ah_sink_open(link_path, false, &diag, &st));
    assert_int_equal(st, AH_ERR_USAGE);
    /* with force the file is replaced, atomically */
    ah_sink *s = ah_sink_open(f->path, true, &diag, &st);
    assert_non_null(s);
    assert_int_equal(ah_sink_write(s, "new", 3), AH_OK);
    got = ah_test_slurp(f->path, NULL);
    assert_string_equal(got, "old"); /* untouched until commit */
    free(got);
    assert_int_equal(ah_sink_commit(s), AH_OK);
    ah_sink_free(s);
    got = ah_test_slurp(f->path, NULL);
    assert_string_equal(got, "new");
    free(got);
}

static void test_created_meanwhile_not_clobbered(void **state)
{
    fixture *f = *state;
    ah_diag diag = {0};
    ah_status st;
    ah_sink *s = ah_sink_open(f->path, false, &diag, &st);
    assert_non_null(s);
    assert_int_equal(ah_sink_write(s, "ours", 4), AH_OK);
    write_file(f->path, "theirs");
    assert_int_equal(ah_sink_check_target(s), AH_ERR_USAGE);
    assert_int_equal(ah_sink_commit(s), AH_ERR_USAGE); /* link() refuses */
    ah_sink_free(s);
    char *got = ah_test_slurp(f->path, NULL);
    assert_string_equal(got, "theirs");
    free(got);
    char names[512];
    list_dir(f->dir, names, sizeof names);
    assert_string_equal(names, "out.csv"); /* our temporary file is gone */
    assert_int_equal(diag.count[AH_SEV_ERROR], 2);
}

static void test_bad_paths(void **state)
{
    fixture *f = *state;
    ah_diag diag = {0};
    ah_status st = AH_OK;
    assert_null(ah_sink_open("", false, &diag, &st));
    assert_int_equal(st, AH_ERR_USAGE);
    assert_null(ah_sink_open(NULL, false, &diag, &st));
    assert_int_equal(st, AH_ERR_USAGE);
    assert_null(ah_sink_open(f->dir, true, &diag, &st)); /* a directory */
    assert_int_equal(st, AH_ERR_USAGE);
    char missing[160];
    snprintf(missing, sizeof missing, "%s/no/such/dir/out.csv", f->dir);
    assert_null(ah_sink_open(missing, false, &diag, &st));
    assert_int_equal(st, AH_ERR_IO);
    assert_int_equal(diag.count[AH_SEV_ERROR], 4);
    assert_int_equal(ah_sink_write(NULL, "x", 1), AH_ERR_USAGE);
}

static void test_dev_null_direct(void **state)
{
    (void)state;
    if (access("/dev/null", W_OK) != 0) {
        print_message("skipped: /dev/null not writable\n");
        skip();
    }
    ah_status st;
    ah_sink *s = ah_sink_open("/dev/null", false, NULL, &st); /* exists, but not a regular file */
    assert_non_null(s);
    assert_int_equal(ah_sink_get_kind(s), AH_SINK_DIRECT);
    assert_null(ah_sink_temp_path(s));
    assert_int_equal(ah_sink_write(s, "discard", 7), AH_OK);
    assert_int_equal(ah_sink_commit(s), AH_OK);
    ah_sink_free(s);
    assert_int_equal(access("/dev/null", W_OK), 0);
}

static void test_fifo_direct(void **state)
{
    fixture *f = *state;
    char fifo[160];
    snprintf(fifo, sizeof fifo, "%s/pipe", f->dir);
    if (mkfifo(fifo, 0600) != 0) {
        print_message("skipped: mkfifo: %s\n", strerror(errno));
        skip();
    }
    int rfd = open(fifo, O_RDONLY | O_NONBLOCK); /* a reader, so the writer's open does not block */
    assert_true(rfd >= 0);
    ah_status st;
    ah_sink *s = ah_sink_open(fifo, false, NULL, &st);
    assert_non_null(s);
    assert_int_equal(ah_sink_get_kind(s), AH_SINK_DIRECT);
    assert_int_equal(ah_sink_write(s, "through the pipe", 16), AH_OK);
    assert_int_equal(ah_sink_commit(s), AH_OK);
    ah_sink_free(s);
    char buf[64] = {0};
    assert_int_equal(read(rfd, buf, sizeof buf - 1), 16);
    assert_string_equal(buf, "through the pipe");
    close(rfd);
}

/* "-" writes to fd 1 and leaves it open; split does not apply. */
static void test_stdout(void **state)
{
    fixture *f = *state;
    char capture[160];
    snprintf(capture, sizeof capture, "%s/captured", f->dir);
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    int fd = open(capture, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, STDOUT_FILENO);
    close(fd);

    ah_writer_options o;
    ah_writer_options_init(&o);
    o.path = "-";
    o.split_rows = 1;
    ah_status st;
    ah_writer *w = ah_writer_open(&o, NULL, &st);
    ah_row r;
    memset(&r, 0, sizeof r);
    r.col[AH_COL_USER] = ah_span_cstr("u");
    ah_status w1 = w ? ah_writer_write(w, &r) : AH_ERR_IO;
    ah_status w2 = w ? ah_writer_write(w, &r) : AH_ERR_IO;
    ah_writer_stats stats = {0};
    ah_status c = ah_writer_close(w, &stats);
    ssize_t still_open = write(STDOUT_FILENO, "!", 1);

    dup2(saved, STDOUT_FILENO);
    close(saved);
    assert_non_null(w);
    assert_int_equal(w1, AH_OK);
    assert_int_equal(w2, AH_OK);
    assert_int_equal(c, AH_OK);
    assert_int_equal(still_open, 1);
    assert_int_equal(stats.files, 1);
    assert_int_equal(stats.rows, 2);
    char *got = ah_test_slurp(capture, NULL);
    const char *row =
        "\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"u\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\"\r\n";
    char want[2048];
    snprintf(want, sizeof want,
             "\"time\",\"severity\",\"rule_id\",\"rule_title\",\"tags\",\"source\",\"operation\",\"user\",\"ip\","
             "\"app\",\"user_agent\",\"result\",\"target\",\"details\",\"record_id\",\"input\",\"input_record\",\"app_"
             "id\",\"target_id\",\"related_ids\"\r\n%s%s!",
             row, row);
    assert_string_equal(got, want);
    free(got);
}

/* A failed writer discards its temporary parts, whatever the caller does next. */
static void test_writer_close_after_failure(void **state)
{
    fixture *f = *state;
    ah_writer_options o;
    ah_writer_options_init(&o);
    o.format = AH_OUT_JSONL;
    o.path = f->path;
    ah_status st;
    ah_writer *w = ah_writer_open(&o, NULL, &st);
    assert_non_null(w);
    ah_row r;
    memset(&r, 0, sizeof r);
    assert_int_equal(ah_writer_write(w, &r), AH_OK);
    /* a file appears under the final name while we write */
    write_file(f->path, "theirs");
    assert_int_equal(ah_writer_close(w, NULL), AH_ERR_USAGE);
    char names[512];
    list_dir(f->dir, names, sizeof names);
    assert_string_equal(names, "out.csv");
    char *got = ah_test_slurp(f->path, NULL);
    assert_string_equal(got, "theirs");
    free(got);
}

/* The pid of a process that has exited (and been reaped). */
static pid_t dead_pid(void)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(0);
    int ws;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    return pid;
}

typedef struct warnings {
    char text[2048];
} warnings;

static void collect(void *ud, ah_severity sev, const ah_where *w, const char *msg)
{
    warnings *wn = ud;
    size_t n = strlen(wn->text);
    snprintf(wn->text + n, sizeof wn->text - n, "%s %s: %s\n", sev == AH_SEV_WARNING ? "W" : "E",
             w && w->path ? w->path : "", msg);
}

static void test_stale_temporaries_swept(void **state)
{
    fixture *f = *state;
    char host[80], stale[512], live[512], other_host[512], other_name[512], not_ours[512];
    host_tag(host, sizeof host);
    pid_t dead = dead_pid();
    snprintf(stale, sizeof stale, "%s/.out.csv.audithound-%s-%ld-abcdef", f->dir, host, (long)dead);
    snprintf(live, sizeof live, "%s/.out.csv.audithound-%s-%ld-ghijkl", f->dir, host, (long)getpid());
    snprintf(other_host, sizeof other_host, "%s/.out.csv.audithound-elsewhere.example-%ld-mnopqr", f->dir, (long)dead);
    snprintf(other_name, sizeof other_name, "%s/.other.csv.audithound-%s-%ld-stuvwx", f->dir, host, (long)dead);
    snprintf(not_ours, sizeof not_ours, "%s/.out.csv.audithound-%s-%ld-toolong7", f->dir, host, (long)dead);
    const char *all[] = {stale, live, other_host, other_name, not_ours};
    for (size_t i = 0; i < 5; i++)
        write_file(all[i], "partial");
    warnings wn = {""};
    ah_diag diag = {.fn = collect, .ud = &wn};
    ah_status st;
    ah_sink *s = ah_sink_open(f->path, false, &diag, &st);
    assert_non_null(s);
    assert_int_equal(access(stale, F_OK), -1);
    for (size_t i = 1; i < 5; i++)
        assert_int_equal(access(all[i], F_OK), 0);
    char want[1024];
    snprintf(want, sizeof want, "W %s: removed %s, a temporary file left by an interrupted run (process %ld is gone)\n",
             f->path, stale, (long)dead);
    assert_string_equal(wn.text, want);
    assert_int_equal(diag.count[AH_SEV_WARNING], 1);
    ah_sink_free(s);
    for (size_t i = 1; i < 5; i++)
        unlink(all[i]);
}

/* In a child: open a committed sink and two open ones, report the temporary
 * names on `report`, then take signal `sig` with the cleanup installed. */
static void child_killed_by(const char *dir, int sig, int report)
{
    signal(sig, SIG_DFL); /* the test runner may have it ignored */
    ah_cli_install_signal_cleanup();
    ah_diag diag = {.temp_fn = ah_cli_temp_hook}; /* as the CLI makes it */
    char path[3][256];
    ah_sink *s[3];
    for (int i = 0; i < 3; i++) {
        snprintf(path[i], sizeof path[i], "%s/out%d.csv", dir, i);
        ah_status st;
        s[i] = ah_sink_open(path[i], false, &diag, &st);
        if (!s[i] || ah_sink_write(s[i], "rows\n", 5) != AH_OK)
            _exit(10);
        if (write(report, ah_sink_temp_path(s[i]), strlen(ah_sink_temp_path(s[i])) + 1) < 0)
            _exit(11);
    }
    if (ah_sink_commit(s[0]) != AH_OK)
        _exit(12);
    ah_sink_free(s[0]);
    close(report);
    raise(sig);
    _exit(13); /* not reached: the signal ends the process */
}

static void check_signal_cleanup(const char *dir, int sig)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        child_killed_by(dir, sig, fds[1]);
    }
    close(fds[1]);
    char names[4096];
    size_t n = 0;
    ssize_t k;
    while ((k = read(fds[0], names + n, sizeof names - 1 - n)) > 0)
        n += (size_t)k;
    close(fds[0]);
    names[n] = '\0';
    int ws;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    assert_true(WIFSIGNALED(ws));
    assert_int_equal(WTERMSIG(ws), sig);
    /* three temporaries were made; the committed one became out0.csv */
    int temps = 0;
    for (size_t i = 0; i < n; i += strlen(names + i) + 1, temps++)
        assert_int_equal(access(names + i, F_OK), -1);
    assert_int_equal(temps, 3);
    char listing[512];
    list_dir(dir, listing, sizeof listing);
    assert_string_equal(listing, "out0.csv");
    char p[256];
    snprintf(p, sizeof p, "%s/out0.csv", dir);
    unlink(p);
}

static void test_signal_removes_temporaries(void **state)
{
    fixture *f = *state;
    check_signal_cleanup(f->dir, SIGINT);
    check_signal_cleanup(f->dir, SIGTERM);
    check_signal_cleanup(f->dir, SIGHUP);
    check_signal_cleanup(f->dir, SIGPIPE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_part_names),
        cmocka_unit_test_setup_teardown(test_temp_then_rename, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_without_commit_removes_temp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_existing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_created_meanwhile_not_clobbered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_paths, setup, teardown),
        cmocka_unit_test(test_dev_null_direct),
        cmocka_unit_test_setup_teardown(test_fifo_direct, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stdout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_close_after_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_temporaries_swept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signal_removes_temporaries, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
