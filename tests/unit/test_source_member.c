/*
 * test_source_member.c: "archive!member" inputs (which path is a file and
 * which a member, nested members, a member that is not there) and
 * ah_source_list, the listing `audithound shard` plans with.
 *
 * The rule the tests hold: a member read alone is handed out exactly as the
 * whole-archive run hands it out (path, entry, container, bytes), so shards
 * by member and one run name their inputs alike.
 */
#include "test_source_util.h"

static const char a_json[] = "{\"Id\":\"a1\"}\n{\"Id\":\"a2\"}\n";
static const char b_csv[] = "RecordId,Operation\r\nb1,UserLoggedIn\r\n";
static const char c_json[] = "{\"Id\":\"c1\"}\n";

/* outer.zip: a.json, inner.tar.gz (b.csv, sub/c.json), c.json */
static bytes nested_zip(void)
{
    member inner_m[] = {{"b.csv", b_csv, sizeof b_csv - 1, 0, false},
                        {"sub/c.json", c_json, sizeof c_json - 1, 0, false}};
    bytes inner = make_archive(FMT_TAR, ARCHIVE_FILTER_GZIP, inner_m, 2);
    member outer_m[] = {{"a.json", a_json, sizeof a_json - 1, 0, false},
                        {"inner.tar.gz", inner.p, inner.len, 0, false},
                        {"c.json", c_json, sizeof c_json - 1, 0, false}};
    bytes outer = make_archive(FMT_ZIP, ARCHIVE_FILTER_NONE, outer_m, 3);
    bytes_free(&inner);
    return outer;
}

static void read_one(test_ctx *t, const char *path, leaves *ls)
{
    ah_source *s = ah_source_new(&t->diag);
    assert_int_equal(ah_source_add(s, path), AH_OK);
    read_all(s, ls, 7);
    ah_source_free(s);
}

/* Every member read alone is the whole run's leaf of that name, byte for byte. */
static void test_each_member_as_in_whole_run(void **state)
{
    test_ctx *t = *state;
    char p[512], sel[600];
    bytes z = nested_zip();
    write_file(tpath(t, "outer.zip", p, sizeof p), z.p, z.len);
    leaves whole;
    read_one(t, p, &whole);
    assert_int_equal(whole.n, 4);
    assert_leaf(&whole.l[1], "inner.tar.gz!b.csv", "zip > tar.gz", b_csv, sizeof b_csv - 1);
    for (size_t i = 0; i < whole.n; i++) {
        snprintf(sel, sizeof sel, "%s!%s", p, whole.l[i].entry);
        leaves one;
        read_one(t, sel, &one);
        assert_int_equal(one.n, 1);
        assert_string_equal(one.l[0].path, p); /* the archive, as in the whole run */
        assert_leaf(&one.l[0], whole.l[i].entry, whole.l[i].container, whole.l[i].data, whole.l[i].len);
        leaves_free(&one);
    }
    assert_nmsgs(t, 0);
    leaves_free(&whole);
    bytes_free(&z);
}

/* A member that is an archive reads everything inside it; the digest is the whole file's. */
static void test_nested_archive_member_whole(void **state)
{
    test_ctx *t = *state;
    char p[512], sel[600];
    bytes z = nested_zip();
    write_file(tpath(t, "outer.zip", p, sizeof p), z.p, z.len);
    snprintf(sel, sizeof sel, "%s!inner.tar.gz", p);
    ah_source *s = ah_source_new(&t->diag);
    assert_int_equal(ah_source_add(s, sel), AH_OK);
    const ah_source_file *f = ah_source_file_at(s, 0);
    assert_string_equal(f->path, p);
    assert_int_equal(f->member_count, 1);
    assert_string_equal(f->members[0], "inner.tar.gz");
    leaves ls;
    read_all(s, &ls, 4096);
    assert_int_equal(ls.n, 2);
    assert_leaf(&ls.l[0], "inner.tar.gz!b.csv", "zip > tar.gz", b_csv, sizeof b_csv - 1);
    assert_leaf(&ls.l[1], "inner.tar.gz!sub/c.json", "zip > tar.gz", c_json, sizeof c_json - 1);
    assert_file(s, 0, p, z.p, z.len, 2, false);
    assert_nmsgs(t, 0);
    leaves_free(&ls);
    ah_source_free(s);
    bytes_free(&z);
}

/* A member of a tar.gz (read as a stream, no seeking); a member name repeated in a tar is read each time, as the whole run does. */
static void test_tar_gz_member_and_repeated_name(void **state)
{
    test_ctx *t = *state;
    char p[512], sel[600];
    member m[] = {{"x.json", a_json, sizeof a_json - 1, 0, false},
                  {"y.csv", b_csv, sizeof b_csv - 1, 0, false},
                  {"x.json", c_json, sizeof c_json - 1, 0, false}};
    bytes tgz = make_archive(FMT_TAR, ARCHIVE_FILTER_GZIP, m, 3);
    write_file(tpath(t, "e.tar.gz", p, sizeof p), tgz.p, tgz.len);
    snprintf(sel, sizeof sel, "%s!x.json", p);
    ah_source *s = ah_source_new(&t->diag);
    assert_int_equal(ah_source_add(s, sel), AH_OK);
    leaves ls;
    read_all(s, &ls, 4096);
    assert_int_equal(ls.n, 2);
    assert_leaf(&ls.l[0], "x.json", "tar.gz", a_json, sizeof a_json - 1);
    assert_leaf(&ls.l[1], "x.json", "tar.gz", c_json, sizeof c_json - 1);
    assert_file(s, 0, p, tgz.p, tgz.len, 2, false);
    assert_nmsgs(t, 0);
    leaves_free(&ls);
    ah_source_free(s);
    bytes_free(&tgz);
}

/* Missing members: named with the archive, the file unreadable, still hashed; the other inputs are read. */
static void test_missing_member(void **state)
{
    test_ctx *t = *state;
    char p[512], q[512], sel[600], sel2[600], sel3[600];
    bytes z = nested_zip();
    write_file(tpath(t, "outer.zip", p, sizeof p), z.p, z.len);
    write_file(tpath(t, "plain.json", q, sizeof q), a_json, sizeof a_json - 1);
    snprintf(sel, sizeof sel, "%s!nope.json", p);
    snprintf(sel2, sizeof sel2, "%s!inner.tar.gz!nope.json", p);
    snprintf(sel3, sizeof sel3, "%s!x.json", q);
    ah_source *s = ah_source_new(&t->diag);
    assert_int_equal(ah_source_add(s, sel), AH_OK);
    assert_int_equal(ah_source_add(s, sel2), AH_OK);
    assert_int_equal(ah_source_add(s, sel3), AH_OK);
    assert_int_equal(ah_source_add(s, q), AH_OK);
    leaves ls;
    read_all(s, &ls, 4096);
    assert_int_equal(ls.n, 1);
    assert_leaf(&ls.l[0], NULL, "plain", a_json, sizeof a_json - 1);
    assert_nmsgs(t, 3);
    const char *want_entry[] = {"nope.json", "inner.tar.gz!nope.json", "x.json"};
    const char *want_path[] = {p, p, q};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(t->msgs[i].sev, AH_SEV_ERROR);
        assert_string_equal(t->msgs[i].path, want_path[i]);
        assert_string_equal(t->msgs[i].entry, want_entry[i]);
    }
    assert_non_null(strstr(t->msgs[0].msg, "no such member"));
    assert_non_null(strstr(t->msgs[2].msg, "not an archive"));
    assert_int_equal(ah_source_file_count(s), 3); /* the two members of outer.zip: one file */
    assert_int_equal(ah_source_file_at(s, 0)->member_count, 2);
    assert_file(s, 0, p, z.p, z.len, 0, true);
    assert_file(s, 1, q, a_json, sizeof a_json - 1, 0, true);
    assert_file(s, 2, q, a_json, sizeof a_json - 1, 1, false);
    leaves_free(&ls);
    ah_source_free(s);
    bytes_free(&z);
}

/* Members of one archive given one after another are one file: read in the
 * archive's order, hashed once; one missing among them fails the file but
 * not the others. Given apart, they are separate files. */
static void test_members_of_one_archive(void **state)
{
    test_ctx *t = *state;
    char p[512], q[512], s1[600], s2[600], s3[600];
    bytes z = nested_zip();
    write_file(tpath(t, "outer.zip", p, sizeof p), z.p, z.len);
    write_file(tpath(t, "plain.json", q, sizeof q), a_json, sizeof a_json - 1);
    snprintf(s1, sizeof s1, "%s!c.json", p);
    snprintf(s2, sizeof s2, "%s!a.json", p);
    snprintf(s3, sizeof s3, "%s!inner.tar.gz!sub/c.json", p);
    ah_source *s = ah_source_new(&t->diag);
    assert_int_equal(ah_source_add(s, s1), AH_OK);
    assert_int_equal(ah_source_add(s, s2), AH_OK);
    assert_int_equal(ah_source_add(s, s3), AH_OK);
    assert_int_equal(ah_source_file_count(s), 1);
    leaves ls;
    read_all(s, &ls, 4096);
    assert_int_equal(ls.n, 3);
    assert_leaf(&ls.l[0], "a.json", "zip", a_json, sizeof a_json - 1);
    assert_leaf(&ls.l[1], "inner.tar.gz!sub/c.json", "zip > tar.gz", c_json, sizeof c_json - 1);
    assert_leaf(&ls.l[2], "c.json", "zip", c_json, sizeof c_json - 1);
    assert_file(s, 0, p, z.p, z.len, 3, false);
    assert_nmsgs(t, 0);
    leaves_free(&ls);
    ah_source_free(s);

    /* one missing: named, the file unreadable, the others read */
    snprintf(s3, sizeof s3, "%s!zz.json", p);
    s = ah_source_new(&t->diag);
    assert_int_equal(ah_source_add(s, s2), AH_OK);
    assert_int_equal(ah_source_add(s, s3), AH_OK);
    read_all(s, &ls, 4096);
    assert_int_equal(ls.n, 1);
    assert_leaf(&ls.l[0], "a.json", "zip", a_json, sizeof a_json - 1);
    assert_file(s, 0, p, z.p, z.len, 1, true);
    assert_nmsgs(t, 1);
    assert_string_equal(t->msgs[0].entry, "zz.json");
    leaves_free(&ls);
    ah_source_free(s);

    /* apart (another input between them): two files; the whole archive is never merged into */
    t->nmsgs = 0;
    s = ah_source_new(&t->diag);
    assert_int_equal(ah_source_add(s, s1), AH_OK);
    assert_int_equal(ah_source_add(s, q), AH_OK);
    assert_int_equal(ah_source_add(s, s2), AH_OK);
    assert_int_equal(ah_source_add(s, p), AH_OK);
    assert_int_equal(ah_source_add(s, s1), AH_OK);
    assert_int_equal(ah_source_file_count(s), 5);
    assert_int_equal(ah_source_file_at(s, 3)->member_count, 0);
    assert_int_equal(ah_source_file_at(s, 4)->member_count, 1);
    read_all(s, &ls, 4096);
    assert_int_equal(ls.n, 1 + 1 + 1 + 4 + 1);
    assert_leaf(&ls.l[7], "c.json", "zip", c_json, sizeof c_json - 1);
    assert_nmsgs(t, 0);
    leaves_free(&ls);
    ah_source_free(s);
    bytes_free(&z);
}

/* A path that exists is a file, '!' or not; otherwise the longest existing prefix is the archive. */
static void test_which_bang_splits(void **state)
{
    test_ctx *t = *state;
    char p[512], q[512], r[512], sel[600];
    member m1[] = {{"m!n.json", a_json, sizeof a_json - 1, 0, false}};
    bytes k = make_archive(FMT_ZIP, ARCHIVE_FILTER_NONE, m1, 1);
    member m2[] = {{"n.json", c_json, sizeof c_json - 1, 0, false}};
    bytes km = make_archive(FMT_ZIP, ARCHIVE_FILTER_NONE, m2, 1);
    write_file(tpath(t, "k.zip", p, sizeof p), k.p, k.len);
    write_file(tpath(t, "real!name.json", q, sizeof q), b_csv, sizeof b_csv - 1);

    /* a real file with '!' in its name */
    ah_source *s = ah_source_new(&t->diag);
    assert_int_equal(ah_source_add(s, q), AH_OK);
    assert_int_equal(ah_source_file_at(s, 0)->member_count, 0);
    leaves ls;
    read_all(s, &ls, 4096);
    assert_int_equal(ls.n, 1);
    assert_leaf(&ls.l[0], NULL, "plain", b_csv, sizeof b_csv - 1);
    leaves_free(&ls);
    ah_source_free(s);

    /* a member name holding '!' */
    snprintf(sel, sizeof sel, "%s!m!n.json", p);
    read_one(t, sel, &ls);
    assert_int_equal(ls.n, 1);
    assert_leaf(&ls.l[0], "m!n.json", "zip", a_json, sizeof a_json - 1);
    leaves_free(&ls);

    /* now "k.zip!m" exists too: the longest prefix wins */
    write_file(tpath(t, "k.zip!m", r, sizeof r), km.p, km.len);
    s = ah_source_new(&t->diag);
    assert_int_equal(ah_source_add(s, sel), AH_OK);
    assert_string_equal(ah_source_file_at(s, 0)->path, r);
    assert_int_equal(ah_source_file_at(s, 0)->member_count, 1);
    assert_string_equal(ah_source_file_at(s, 0)->members[0], "n.json");
    read_all(s, &ls, 4096);
    assert_int_equal(ls.n, 1);
    assert_leaf(&ls.l[0], "n.json", "zip", c_json, sizeof c_json - 1);
    leaves_free(&ls);
    ah_source_free(s);
    assert_nmsgs(t, 0);

    /* no prefix is a file (a directory is not an archive): missing, as before */
    const char *missing[] = {"nothere.zip!a.json", "", "!a.json"};
    char dirsel[600];
    snprintf(dirsel, sizeof dirsel, "%s!k.zip", t->dir);
    missing[1] = dirsel;
    for (size_t i = 0; i < AH_ARRAY_LEN(missing); i++) {
        t->nmsgs = 0;
        s = ah_source_new(&t->diag);
        assert_int_equal(ah_source_add(s, missing[i]), AH_ERR_IO);
        assert_int_equal(ah_source_file_count(s), 0);
        assert_nmsgs(t, 1);
        assert_string_equal(t->msgs[0].path, missing[i]);
        assert_non_null(strstr(t->msgs[0].msg, "cannot open"));
        ah_source_free(s);
    }
    /* an empty member name is no member: "k.zip!" is a missing path */
    snprintf(sel, sizeof sel, "%s!", p);
    t->nmsgs = 0;
    s = ah_source_new(&t->diag);
    assert_int_equal(ah_source_add(s, sel), AH_ERR_IO);
    ah_source_free(s);
    bytes_free(&k);
    bytes_free(&km);
}

/* --- ah_source_list ----------------------------------------------------------- */

typedef struct listed {
    char name[32][600];
    uint64_t size[32];
    size_t n;
    ah_status fail_at; /* return this from the call numbered stop (AH_OK: never) */
    size_t stop;
} listed;

static ah_status collect_item(void *ud, const char *path, const char *entry, uint64_t size)
{
    listed *l = ud;
    assert_true(l->n < 32);
    const char *base = strrchr(path, '/');
    snprintf(l->name[l->n], sizeof l->name[l->n], "%s%s%s", base ? base + 1 : path, entry ? "!" : "",
             entry ? entry : "");
    l->size[l->n] = size;
    return ++l->n == l->stop ? l->fail_at : AH_OK;
}

static void test_list_members_and_files(void **state)
{
    test_ctx *t = *state;
    char p[512], q[512], g[512], sel[600];
    bytes z = nested_zip();
    write_file(tpath(t, "outer.zip", p, sizeof p), z.p, z.len);
    write_file(tpath(t, "plain.json", q, sizeof q), a_json, sizeof a_json - 1);
    bytes gz = gzip_bytes(b_csv, sizeof b_csv - 1);
    write_file(tpath(t, "b.csv.gz", g, sizeof g), gz.p, gz.len);
    snprintf(sel, sizeof sel, "%s!inner.tar.gz", p);

    /* by member: every leaf a whole run reads, in its order, with the archive's sizes */
    ah_source *s = ah_source_new(&t->diag);
    assert_int_equal(ah_source_add(s, t->dir), AH_OK);
    assert_int_equal(ah_source_add(s, sel), AH_OK);
    listed l = {.n = 0};
    assert_int_equal(ah_source_list(s, true, collect_item, &l), AH_OK);
    const char *want[] = {
        "b.csv.gz",         "outer.zip!a.json", "outer.zip!inner.tar.gz!b.csv", "outer.zip!inner.tar.gz!sub/c.json",
        "outer.zip!c.json", "plain.json",       "outer.zip!inner.tar.gz!b.csv", "outer.zip!inner.tar.gz!sub/c.json"};
    const uint64_t want_size[] = {
        gz.len,           sizeof a_json - 1, sizeof b_csv - 1, sizeof c_json - 1, sizeof c_json - 1, sizeof a_json - 1,
        sizeof b_csv - 1, sizeof c_json - 1};
    assert_int_equal(l.n, AH_ARRAY_LEN(want));
    for (size_t i = 0; i < l.n; i++) {
        assert_string_equal(l.name[i], want[i]);
        assert_int_equal(l.size[i], want_size[i]);
    }
    assert_string_equal(ah_source_file_at(s, 1)->sha256, "");                  /* a listing computes no digest */
    assert_int_equal(ah_source_list(s, true, collect_item, &l), AH_ERR_USAGE); /* once */
    ah_source_free(s);

    /* by file: sizes on disk without opening; a member input is opened and summed */
    s = ah_source_new(&t->diag);
    assert_int_equal(ah_source_add(s, t->dir), AH_OK);
    assert_int_equal(ah_source_add(s, sel), AH_OK);
    l.n = 0;
    assert_int_equal(ah_source_list(s, false, collect_item, &l), AH_OK);
    const char *want_f[] = {"b.csv.gz", "outer.zip", "plain.json", "outer.zip!inner.tar.gz"};
    const uint64_t want_fsize[] = {gz.len, z.len, sizeof a_json - 1, sizeof b_csv - 1 + sizeof c_json - 1};
    assert_int_equal(l.n, AH_ARRAY_LEN(want_f));
    for (size_t i = 0; i < l.n; i++) {
        assert_string_equal(l.name[i], want_f[i]);
        assert_int_equal(l.size[i], want_fsize[i]);
    }
    ah_source_free(s);

    /* by file, two members of one archive: one line each */
    char m1[600], m2[600];
    snprintf(m1, sizeof m1, "%s!c.json", p);
    snprintf(m2, sizeof m2, "%s!a.json", p);
    s = ah_source_new(&t->diag);
    assert_int_equal(ah_source_add(s, m1), AH_OK);
    assert_int_equal(ah_source_add(s, m2), AH_OK);
    l.n = 0;
    assert_int_equal(ah_source_list(s, false, collect_item, &l), AH_OK);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.name[0], "outer.zip!c.json");
    assert_int_equal(l.size[0], sizeof c_json - 1);
    assert_string_equal(l.name[1], "outer.zip!a.json");
    assert_int_equal(l.size[1], sizeof a_json - 1);
    ah_source_free(s);

    /* a callback's error stops the listing and is returned */
    s = ah_source_new(&t->diag);
    assert_int_equal(ah_source_add(s, p), AH_OK);
    l = (listed){.n = 0, .fail_at = AH_ERR_NOMEM, .stop = 2};
    assert_int_equal(ah_source_list(s, true, collect_item, &l), AH_ERR_NOMEM);
    assert_int_equal(l.n, 2);
    ah_source_free(s);

    /* not after reading began */
    s = ah_source_new(&t->diag);
    assert_int_equal(ah_source_add(s, q), AH_OK);
    ah_input *in;
    assert_int_equal(ah_source_next(s, &in), AH_OK);
    assert_int_equal(ah_source_list(s, true, collect_item, &l), AH_ERR_USAGE);
    ah_source_free(s);
    assert_nmsgs(t, 0);
    bytes_free(&z);
    bytes_free(&gz);
}

/* A missing member is reported by the listing too, and nothing is listed for it. */
static void test_list_missing_member(void **state)
{
    test_ctx *t = *state;
    char p[512], sel[600];
    bytes z = nested_zip();
    write_file(tpath(t, "outer.zip", p, sizeof p), z.p, z.len);
    snprintf(sel, sizeof sel, "%s!inner.tar.gz!zz", p);
    for (int members = 0; members < 2; members++) {
        t->nmsgs = 0;
        ah_source *s = ah_source_new(&t->diag);
        assert_int_equal(ah_source_add(s, sel), AH_OK);
        listed l = {.n = 0};
        assert_int_equal(ah_source_list(s, members, collect_item, &l), AH_OK);
        assert_int_equal(l.n, 0);
        assert_nmsgs(t, 1);
        assert_string_equal(t->msgs[0].entry, "inner.tar.gz!zz");
        assert_true(ah_source_file_at(s, 0)->unreadable);
        ah_source_free(s);
    }
    bytes_free(&z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_each_member_as_in_whole_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nested_archive_member_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tar_gz_member_and_repeated_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_member, setup, teardown),
        cmocka_unit_test_setup_teardown(test_members_of_one_archive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_which_bang_splits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_members_and_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_missing_member, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
