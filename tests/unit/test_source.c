/*
 * test_source.c: containers, nesting, directory walks, stdin, errors and the
 * chain-of-custody digest.
 *
 * Every container is generated at test time (zlib for gzip, libarchive's
 * writers for zip, tar and 7z) in a fresh temporary directory, so no binary
 * fixtures are committed. Digests are checked against ah_sha256 over the
 * bytes the test wrote (ah_sha256 has its own vector tests).
 */
#include "test_source_util.h"

/* --- plain and compressed files ------------------------------------------- */

static void test_plain_file(void **state)
{
    test_ctx *t = *state;
    char p[512];
    write_file(tpath(t, "ual.csv", p, sizeof p), csv, sizeof csv - 1);
    ah_source *s = ah_source_new(&t->diag);
    assert_int_equal(ah_source_add(s, p), AH_OK);
    assert_int_equal(ah_source_total_bytes(s), sizeof csv - 1);
    assert_int_equal(ah_source_done_bytes(s), 0);
    /* the digest is not known before the file was read */
    assert_string_equal(ah_source_file_at(s, 0)->sha256, "");
    leaves ls;
    read_all(s, &ls, 5);
    assert_int_equal(ls.n, 1);
    assert_leaf(&ls.l[0], NULL, "plain", csv, sizeof csv - 1);
    assert_string_equal(ls.l[0].path, p);
    assert_int_equal(ls.l[0].input_no, 0);
    assert_int_equal(ls.l[0].file_index, 0);
    assert_int_equal(ah_source_file_count(s), 1);
    assert_file(s, 0, p, csv, sizeof csv - 1, 1, false);
    assert_int_equal(ah_source_done_bytes(s), sizeof csv - 1);
    assert_nmsgs(t, 0);
    /* AH_END is sticky */
    ah_input *in = (ah_input *)1;
    assert_int_equal(ah_source_next(s, &in), AH_END);
    assert_null(in);
    leaves_free(&ls);
    ah_source_free(s);
}

static void test_gzip_file(void **state)
{
    test_ctx *t = *state;
    char p[512];
    bytes gz = gzip_bytes(json, sizeof json - 1);
    write_file(tpath(t, "events.json.gz", p, sizeof p), gz.p, gz.len);
    ah_source *s = ah_source_new(&t->diag);
    assert_int_equal(ah_source_add(s, p), AH_OK);
    leaves ls;
    read_all(s, &ls, 4096);
    assert_int_equal(ls.n, 1);
    assert_leaf(&ls.l[0], NULL, "gzip", json, sizeof json - 1); /* the gzip's stored name is not an entry */
    assert_file(s, 0, p, gz.p, gz.len, 1, false);
    assert_int_equal(ah_source_total_bytes(s), gz.len);
    assert_int_equal(ah_source_done_bytes(s), gz.len);
    leaves_free(&ls);
    ah_source_free(s);
    bytes_free(&gz);
}

static void test_multi_member_gzip(void **state)
{
    test_ctx *t = *state;
    char p[512];
    const char one[] = "{\"part\":1}\n", two[] = "{\"part\":2}\n";
    bytes a = gzip_bytes(one, sizeof one - 1), b = gzip_bytes(two, sizeof two - 1);
    bytes both = {malloc(a.len + b.len), a.len + b.len};
    memcpy(both.p, a.p, a.len);
    memcpy(both.p + a.len, b.p, b.len);
    write_file(tpath(t, "cat.gz", p, sizeof p), both.p, both.len);
    ah_source *s = ah_source_new(&t->diag);
    assert_int_equal(ah_source_add(s, p), AH_OK);
    leaves ls;
    read_all(s, &ls, 3);
    assert_int_equal(ls.n, 1);
    assert_leaf(&ls.l[0], NULL, "gzip", "{\"part\":1}\n{\"part\":2}\n", 22);
    assert_file(s, 0, p, both.p, both.len, 1, false);
    leaves_free(&ls);
    ah_source_free(s);
    bytes_free(&a);
    bytes_free(&b);
    bytes_free(&both);
}

static void test_xz_and_bzip2_files(void **state)
{
    test_ctx *t = *state;
    char p1[512], p2[512];
    member m = {"data", json, sizeof json - 1, 0, false};
    bytes xz = make_archive(FMT_RAW, ARCHIVE_FILTER_XZ, &m, 1);
    bytes bz = make_archive(FMT_RAW, ARCHIVE_FILTER_BZIP2, &m, 1);
    write_file(tpath(t, "a.bin", p1, sizeof p1), xz.p, xz.len); /* names say nothing */
    write_file(tpath(t, "b.bin", p2, sizeof p2), bz.p, bz.len);
    ah_source *s = ah_source_new(&t->diag);
    assert_int_equal(ah_source_add(s, p1), AH_OK);
    assert_int_equal(ah_source_add(s, p2), AH_OK);
    leaves ls;
    read_all(s, &ls, 100);
    assert_int_equal(ls.n, 2);
    assert_leaf(&ls.l[0], NULL, "xz", json, sizeof json - 1);
    assert_leaf(&ls.l[1], NULL, "bzip2", json, sizeof json - 1);
    assert_int_equal(ls.l[1].file_index, 1);
    assert_int_equal(ls.l[1].input_no, 1);
    assert_file(s, 0, p1, xz.p, xz.len, 1, false);
    assert_file(s, 1, p2, bz.p, bz.len, 1, false);
    leaves_free(&ls);
    ah_source_free(s);
    bytes_free(&xz);
    bytes_free(&bz);
}

static void test_empty_inputs(void **state)
{
    test_ctx *t = *state;
    char p1[512], p2[512], p3[512];
    write_file(tpath(t, "empty.csv", p1, sizeof p1), "", 0);
    bytes gz = gzip_bytes("", 0);
    write_file(tpath(t, "empty.gz", p2, sizeof p2), gz.p, gz.len);
    member m[] = {{"empty.json", "", 0, 0, false}, {"x.csv", csv, sizeof csv - 1, 0, false}};
    bytes zip = make_archive(FMT_ZIP, ARCHIVE_FILTER_NONE, m, 2);
    write_file(tpath(t, "e.zip", p3, sizeof p3), zip.p, zip.len);
    ah_source *s = ah_source_new(&t->diag);
    assert_int_equal(ah_source_add(s, p1), AH_OK);
    assert_int_equal(ah_source_add(s, p2), AH_OK);
    assert_int_equal(ah_source_add(s, p3), AH_OK);
    leaves ls;
    read_all(s, &ls, 64);
    assert_int_equal(ls.n, 4);
    assert_leaf(&ls.l[0], NULL, "plain", "", 0);
    assert_leaf(&ls.l[1], NULL, "gzip", "", 0);
    assert_leaf(&ls.l[2], "empty.json", "zip", "", 0);
    assert_leaf(&ls.l[3], "x.csv", "zip", csv, sizeof csv - 1);
    assert_file(s, 0, p1, "", 0, 1, false);
    assert_file(s, 1, p2, gz.p, gz.len, 1, false);
    assert_file(s, 2, p3, zip.p, zip.len, 2, false);
    assert_nmsgs(t, 0);
    leaves_free(&ls);
    ah_source_free(s);
    bytes_free(&gz);
    bytes_free(&zip);
}

/* Text that other libarchive bidders (uu, mtree, cpio) would claim stays plain. */
static void test_plain_text_is_not_an_archive(void **state)
{
    test_ctx *t = *state;
    const char *texts[] = {
        "begin 644 x.csv\nM86)C\n`\nend\n",
        "#mtree\n./a type=file size=3\n",
        "070707000000000000\n",
        "PK,Name\n1,x\n",
    };
    ah_source *s = ah_source_new(&t->diag);
    for (size_t i = 0; i < AH_ARRAY_LEN(texts); i++) {
        char name[32], p[512];
        snprintf(name, sizeof name, "t%zu.txt", i);
        write_file(tpath(t, name, p, sizeof p), texts[i], strlen(texts[i]));
        assert_int_equal(ah_source_add(s, p), AH_OK);
    }
    leaves ls;
    read_all(s, &ls, 4096);
    assert_int_equal(ls.n, AH_ARRAY_LEN(texts));
    for (size_t i = 0; i < AH_ARRAY_LEN(texts); i++)
        assert_leaf(&ls.l[i], NULL, "plain", texts[i], strlen(texts[i]));
    assert_nmsgs(t, 0);
    leaves_free(&ls);
    ah_source_free(s);
}

/* --- archives --------------------------------------------------------------- */

static void test_zip_two_members_in_archive_order(void **state)
{
    test_ctx *t = *state;
    char p[512];
    member m[] = {
        {"logs/", NULL, 0, AE_IFDIR, false},
        {"logs/zz-first.json", json, sizeof json - 1, 0, false},
        {"aa-second.csv", csv, sizeof csv - 1, 0, false},
    };
    bytes zip = make_archive(FMT_ZIP, ARCHIVE_FILTER_NONE, m, 3);
    write_file(tpath(t, "export.dat", p, sizeof p), zip.p, zip.len);
    ah_source *s = ah_source_new(&t->diag);
    assert_int_equal(ah_source_add(s, p), AH_OK);
    leaves ls;
    read_all(s, &ls, 7);
    assert_int_equal(ls.n, 2);
    assert_leaf(&ls.l[0], "logs/zz-first.json", "zip", json, sizeof json - 1);
    assert_leaf(&ls.l[1], "aa-second.csv", "zip", csv, sizeof csv - 1);
    assert_int_equal(ls.l[0].input_no, 0);
    assert_int_equal(ls.l[1].input_no, 1);
    assert_string_equal(ls.l[1].path, p);
    assert_file(s, 0, p, zip.p, zip.len, 2, false);
    assert_nmsgs(t, 0);
    leaves_free(&ls);
    ah_source_free(s);
    bytes_free(&zip);
}

static void test_tar_gz(void **state)
{
    test_ctx *t = *state;
    char p[512];
    member m[] = {
        {"dir", NULL, 0, AE_IFDIR, false},
        {"dir/signins.json", json, sizeof json - 1, 0, false},
        {"dir/link", NULL, 0, AE_IFLNK, false},
        {"dir/ual.csv", csv, sizeof csv - 1, 0, false},
    };
    bytes tgz = make_archive(FMT_TAR, ARCHIVE_FILTER_GZIP, m, 4);
    write_file(tpath(t, "bundle.tgz", p, sizeof p), tgz.p, tgz.len);
    ah_source *s = ah_source_new(&t->diag);
    assert_int_equal(ah_source_add(s, p), AH_OK);
    leaves ls;
    read_all(s, &ls, 1);
    assert_int_equal(ls.n, 2);
    assert_leaf(&ls.l[0], "dir/signins.json", "tar.gz", json, sizeof json - 1);
    assert_leaf(&ls.l[1], "dir/ual.csv", "tar.gz", csv, sizeof csv - 1);
    assert_file(s, 0, p, tgz.p, tgz.len, 2, false);
    leaves_free(&ls);
    ah_source_free(s);
    bytes_free(&tgz);
}

static void test_7z(void **state)
{
    test_ctx *t = *state;
    char p[512];
    member m[] = {
        {"a.json", json, sizeof json - 1, 0, false},
        {"b.csv", csv, sizeof csv - 1, 0, false},
    };
    bytes sz = make_archive(FMT_7Z, ARCHIVE_FILTER_NONE, m, 2);
    write_file(tpath(t, "x.7z", p, sizeof p), sz.p, sz.len);
    ah_source *s = ah_source_new(&t->diag);
    assert_int_equal(ah_source_add(s, p), AH_OK);
    leaves ls;
    read_all(s, &ls, 4096);
    assert_int_equal(ls.n, 2);
    assert_leaf(&ls.l[0], "a.json", "7z", json, sizeof json - 1);
    assert_leaf(&ls.l[1], "b.csv", "7z", csv, sizeof csv - 1);
    /* 7z is read with seeks: the digest still covers the file exactly */
    assert_file(s, 0, p, sz.p, sz.len, 2, false);
    assert_int_equal(ah_source_done_bytes(s), sz.len);
    leaves_free(&ls);
    ah_source_free(s);
    bytes_free(&sz);
}

/* zip > {json.gz, zip > {csv, json.gz}, tar.gz > csv, tar > json.gz, csv} */
static void test_nested_archives(void **state)
{
    test_ctx *t = *state;
    char p[512];
    bytes gz = gzip_bytes(json, sizeof json - 1);
    member inner_m[] = {{"one.csv", csv, sizeof csv - 1, 0, false}, {"deep.json.gz", gz.p, gz.len, 0, false}};
    bytes inner = make_archive(FMT_ZIP, ARCHIVE_FILTER_NONE, inner_m, 2);
    member tgz_m[] = {{"t/u.csv", csv, sizeof csv - 1, 0, false}};
    bytes tgz = make_archive(FMT_TAR, ARCHIVE_FILTER_GZIP, tgz_m, 1);
    member tar_m[] = {{"s.json.gz", gz.p, gz.len, 0, false}};
    bytes tar = make_archive(FMT_TAR, ARCHIVE_FILTER_NONE, tar_m, 1);
    member outer_m[] = {
        {"x.json.gz", gz.p, gz.len, 0, false},       {"inner.zip", inner.p, inner.len, 0, false},
        {"logs.tar.gz", tgz.p, tgz.len, 0, false},   {"plain.tar", tar.p, tar.len, 0, false},
        {"last.csv", csv, sizeof csv - 1, 0, false},
    };
    bytes outer = make_archive(FMT_ZIP, ARCHIVE_FILTER_NONE, outer_m, 5);
    write_file(tpath(t, "outer.zip", p, sizeof p), outer.p, outer.len);
    ah_source *s = ah_source_new(&t->diag);
    assert_int_equal(ah_source_add(s, p), AH_OK);
    leaves ls;
    read_all(s, &ls, 13);
    assert_int_equal(ls.n, 6);
    assert_leaf(&ls.l[0], "x.json.gz", "zip > gzip", json, sizeof json - 1);
    assert_leaf(&ls.l[1], "inner.zip!one.csv", "zip > zip", csv, sizeof csv - 1);
    assert_leaf(&ls.l[2], "inner.zip!deep.json.gz", "zip > zip > gzip", json, sizeof json - 1);
    assert_leaf(&ls.l[3], "logs.tar.gz!t/u.csv", "zip > tar.gz", csv, sizeof csv - 1);
    assert_leaf(&ls.l[4], "plain.tar!s.json.gz", "zip > tar > gzip", json, sizeof json - 1);
    assert_leaf(&ls.l[5], "last.csv", "zip", csv, sizeof csv - 1);
    for (size_t i = 0; i < ls.n; i++) {
        assert_int_equal(ls.l[i].input_no, i);
        assert_int_equal(ls.l[i].file_index, 0);
    }
    assert_file(s, 0, p, outer.p, outer.len, 6, false);
    assert_nmsgs(t, 0);
    leaves_free(&ls);
    ah_source_free(s);
    bytes_free(&gz);
    bytes_free(&inner);
    bytes_free(&tgz);
    bytes_free(&tar);
    bytes_free(&outer);
}

/* A gzip member of a tar inside a plain tar: "tar > gzip". */
static void test_gzip_member_of_tar(void **state)
{
    test_ctx *t = *state;
    char p[512];
    bytes gz = gzip_bytes(json, sizeof json - 1);
    member m[] = {{"UAL-2024.json.gz", gz.p, gz.len, 0, false}};
    bytes tar = make_archive(FMT_TAR, ARCHIVE_FILTER_NONE, m, 1);
    write_file(tpath(t, "x.tar", p, sizeof p), tar.p, tar.len);
    ah_source *s = ah_source_new(&t->diag);
    assert_int_equal(ah_source_add(s, p), AH_OK);
    leaves ls;
    read_all(s, &ls, 2);
    assert_int_equal(ls.n, 1);
    assert_leaf(&ls.l[0], "UAL-2024.json.gz", "tar > gzip", json, sizeof json - 1);
    assert_file(s, 0, p, tar.p, tar.len, 1, false);
    leaves_free(&ls);
    ah_source_free(s);
    bytes_free(&gz);
    bytes_free(&tar);
}

static void test_nesting_too_deep_is_reported(void **state)
{
    test_ctx *t = *state;
    char p[512];
    bytes gz = gzip_bytes(json, sizeof json - 1);
    member m3[] = {{"c.csv", csv, sizeof csv - 1, 0, false}};
    bytes z3 = make_archive(FMT_ZIP, ARCHIVE_FILTER_NONE, m3, 1);
    member m2[] = {{"z3.zip", z3.p, z3.len, 0, false}, {"d.json.gz", gz.p, gz.len, 0, false}};
    bytes z2 = make_archive(FMT_ZIP, ARCHIVE_FILTER_NONE, m2, 2);
    member m1[] = {{"z2.zip", z2.p, z2.len, 0, false}, {"e.csv", csv, sizeof csv - 1, 0, false}};
    bytes z1 = make_archive(FMT_ZIP, ARCHIVE_FILTER_NONE, m1, 2);
    write_file(tpath(t, "z1.zip", p, sizeof p), z1.p, z1.len);
    ah_source *s = ah_source_new(&t->diag);
    assert_int_equal(ah_source_add(s, p), AH_OK);
    leaves ls;
    read_all(s, &ls, 4096);
    /* the third-level zip is skipped; a compressed file at that level is read */
    assert_int_equal(ls.n, 2);
    assert_leaf(&ls.l[0], "z2.zip!d.json.gz", "zip > zip > gzip", json, sizeof json - 1);
    assert_leaf(&ls.l[1], "e.csv", "zip", csv, sizeof csv - 1);
    assert_nmsgs(t, 1);
    assert_int_equal(t->msgs[0].sev, AH_SEV_ERROR);
    assert_string_equal(t->msgs[0].path, p);
    assert_string_equal(t->msgs[0].entry, "z2.zip!z3.zip");
    assert_string_equal(t->msgs[0].msg, "archive nested more than one level deep is not supported (skipped)");
    assert_file(s, 0, p, z1.p, z1.len, 2, true);
    leaves_free(&ls);
    ah_source_free(s);
    bytes_free(&gz);
    bytes_free(&z3);
    bytes_free(&z2);
    bytes_free(&z1);
}

static void test_7z_inside_zip_is_reported(void **state)
{
    test_ctx *t = *state;
    char p[512];
    member m7[] = {{"a.json", json, sizeof json - 1, 0, false}};
    bytes sz = make_archive(FMT_7Z, ARCHIVE_FILTER_NONE, m7, 1);
    member m[] = {{"in.7z", sz.p, sz.len, 0, false}, {"b.csv", csv, sizeof csv - 1, 0, false}};
    bytes zip = make_archive(FMT_ZIP, ARCHIVE_FILTER_NONE, m, 2);
    write_file(tpath(t, "o.zip", p, sizeof p), zip.p, zip.len);
    ah_source *s = ah_source_new(&t->diag);
    assert_int_equal(ah_source_add(s, p), AH_OK);
    leaves ls;
    read_all(s, &ls, 4096);
    assert_int_equal(ls.n, 1);
    assert_leaf(&ls.l[0], "b.csv", "zip", csv, sizeof csv - 1);
    assert_nmsgs(t, 1);
    assert_string_equal(t->msgs[0].entry, "in.7z");
    assert_string_equal(t->msgs[0].msg,
                        "7-Zip archive inside another archive, compressed or on a pipe is not supported "
                        "(7-Zip needs random access; skipped)");
    assert_file(s, 0, p, zip.p, zip.len, 1, true);
    leaves_free(&ls);
    ah_source_free(s);
    bytes_free(&sz);
    bytes_free(&zip);
}

static void test_encrypted_zip_members(void **state)
{
    test_ctx *t = *state;
    char p1[512], p2[512];
    {
        /* Is traditional zip encryption available in this libarchive build? */
        struct archive *a = archive_write_new();
        archive_write_set_format_zip(a);
        int r = archive_write_set_options(a, "zip:encryption=zipcrypt");
        archive_write_free(a);
        if (r != ARCHIVE_OK) {
            print_message("skipped: this libarchive cannot write encrypted zip files\n");
            skip();
        }
    }
    member em[] = {{"secret.csv", csv, sizeof csv - 1, 0, true}, {"also.json", json, sizeof json - 1, 0, true}};
    bytes enc = make_archive(FMT_ZIP, ARCHIVE_FILTER_NONE, em, 2);
    member om[] = {{"enc.zip", enc.p, enc.len, 0, false}, {"open.json", json, sizeof json - 1, 0, false}};
    bytes outer = make_archive(FMT_ZIP, ARCHIVE_FILTER_NONE, om, 2);
    write_file(tpath(t, "enc.zip", p1, sizeof p1), enc.p, enc.len);
    write_file(tpath(t, "outer.zip", p2, sizeof p2), outer.p, outer.len);

    ah_source *s = ah_source_new(&t->diag);
    assert_int_equal(ah_source_add(s, p1), AH_OK);
    assert_int_equal(ah_source_add(s, p2), AH_OK);
    leaves ls;
    read_all(s, &ls, 4096);
    assert_int_equal(ls.n, 1);
    assert_leaf(&ls.l[0], "open.json", "zip", json, sizeof json - 1);
    assert_int_equal(ls.l[0].file_index, 1);
    const char *expect_entry[] = {"secret.csv", "also.json", "enc.zip!secret.csv", "enc.zip!also.json"};
    assert_nmsgs(t, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(t->msgs[i].sev, AH_SEV_ERROR);
        assert_string_equal(t->msgs[i].path, i < 2 ? p1 : p2);
        assert_string_equal(t->msgs[i].entry, expect_entry[i]);
        assert_string_equal(t->msgs[i].msg, "encrypted archive entry (password-protected archives are not supported)");
    }
    assert_file(s, 0, p1, enc.p, enc.len, 0, true);
    assert_file(s, 1, p2, outer.p, outer.len, 1, true);
    leaves_free(&ls);
    ah_source_free(s);
    bytes_free(&enc);
    bytes_free(&outer);
}

/* --- errors ----------------------------------------------------------------- */

static void test_missing_path(void **state)
{
    test_ctx *t = *state;
    char p[512];
    tpath(t, "does-not-exist.csv", p, sizeof p);
    ah_source *s = ah_source_new(&t->diag);
    assert_int_equal(ah_source_add(s, p), AH_ERR_IO);
    assert_nmsgs(t, 1);
    assert_int_equal(t->msgs[0].sev, AH_SEV_ERROR);
    assert_string_equal(t->msgs[0].path, p);
    assert_false(t->msgs[0].has_entry);
    assert_string_equal(t->msgs[0].msg, "cannot open: No such file or directory");
    assert_int_equal(t->diag.count[AH_SEV_ERROR], 1);
    /* not queued: the caller counts it from the status */
    assert_int_equal(ah_source_file_count(s), 0);
    ah_input *in;
    assert_int_equal(ah_source_next(s, &in), AH_END);
    assert_int_equal(ah_source_add(s, ""), AH_ERR_USAGE);
    ah_source_free(s);
}

static void test_truncated_gzip_then_next_file(void **state)
{
    test_ctx *t = *state;
    char p1[512], p2[512];
    bytes text = noise_text(300000, 7);
    bytes gz = gzip_bytes(text.p, text.len);
    size_t cut = gz.len / 2;
    write_file(tpath(t, "a-cut.json.gz", p1, sizeof p1), gz.p, cut);
    write_file(tpath(t, "b-good.csv", p2, sizeof p2), csv, sizeof csv - 1);
    ah_source *s = ah_source_new(&t->diag);
    assert_int_equal(ah_source_add(s, p1), AH_OK);
    assert_int_equal(ah_source_add(s, p2), AH_OK);
    leaves ls;
    read_all(s, &ls, 4096);
    assert_int_equal(ls.n, 2);
    /* the first stream delivers a prefix of the text, then fails */
    assert_int_equal(ls.l[0].last, -1);
    assert_true(ls.l[0].len > 0 && ls.l[0].len < text.len);
    assert_memory_equal(ls.l[0].data, text.p, ls.l[0].len);
    assert_string_equal(ls.l[0].container, "gzip");
    assert_nmsgs(t, 1);
    assert_int_equal(t->msgs[0].sev, AH_SEV_ERROR);
    assert_string_equal(t->msgs[0].path, p1);
    assert_false(t->msgs[0].has_entry);
    assert_non_null(strstr(t->msgs[0].msg, "truncated"));
    /* and the run goes on */
    assert_leaf(&ls.l[1], NULL, "plain", csv, sizeof csv - 1);
    assert_file(s, 0, p1, gz.p, cut, 1, true); /* the bytes on disk are still hashed */
    assert_file(s, 1, p2, csv, sizeof csv - 1, 1, false);
    leaves_free(&ls);
    ah_source_free(s);
    bytes_free(&text);
    bytes_free(&gz);
}

static void test_truncated_tar_gz_reported_once(void **state)
{
    test_ctx *t = *state;
    char p[512];
    bytes text = noise_text(200000, 3);
    member m[] = {{"big.json", text.p, text.len, 0, false}, {"after.csv", csv, sizeof csv - 1, 0, false}};
    bytes tgz = make_archive(FMT_TAR, ARCHIVE_FILTER_GZIP, m, 2);
    size_t cut = tgz.len * 2 / 3; /* well into big.json's data */
    write_file(tpath(t, "cut.tgz", p, sizeof p), tgz.p, cut);
    ah_source *s = ah_source_new(&t->diag);
    assert_int_equal(ah_source_add(s, p), AH_OK);
    leaves ls;
    read_all(s, &ls, 4096);
    assert_int_equal(ls.n, 1);
    assert_int_equal(ls.l[0].last, -1);
    assert_string_equal(ls.l[0].entry, "big.json");
    assert_memory_equal(ls.l[0].data, text.p, ls.l[0].len);
    /* one report, naming the member being read, not one per layer */
    assert_nmsgs(t, 1);
    assert_string_equal(t->msgs[0].entry, "big.json");
    assert_non_null(strstr(t->msgs[0].msg, "truncated"));
    assert_file(s, 0, p, tgz.p, cut, 1, true);
    leaves_free(&ls);
    ah_source_free(s);
    bytes_free(&text);
    bytes_free(&tgz);
}

static void test_corrupt_zip_member_then_next_member(void **state)
{
    test_ctx *t = *state;
    char p[512];
    bytes text = noise_text(300000, 11);
    member m[] = {{"bad.json", text.p, text.len, 0, false}, {"good.csv", csv, sizeof csv - 1, 0, false}};
    bytes zip = make_archive(FMT_ZIP, ARCHIVE_FILTER_NONE, m, 2);
    assert_true(zip.len > 150000);
    zip.p[120000] ^= 0x55; /* inside bad.json's compressed data, past the first read-ahead */
    write_file(tpath(t, "c.zip", p, sizeof p), zip.p, zip.len);
    ah_source *s = ah_source_new(&t->diag);
    assert_int_equal(ah_source_add(s, p), AH_OK);
    leaves ls;
    read_all(s, &ls, 4096);
    assert_int_equal(ls.n, 2);
    assert_string_equal(ls.l[0].entry, "bad.json");
    assert_int_equal(ls.l[0].last, -1);
    assert_leaf(&ls.l[1], "good.csv", "zip", csv, sizeof csv - 1);
    assert_nmsgs(t, 1);
    assert_int_equal(t->msgs[0].sev, AH_SEV_ERROR);
    assert_string_equal(t->msgs[0].entry, "bad.json");
    assert_file(s, 0, p, zip.p, zip.len, 2, true);
    leaves_free(&ls);
    ah_source_free(s);
    bytes_free(&text);
    bytes_free(&zip);
}

static void test_garbage_after_zip_signature(void **state)
{
    test_ctx *t = *state;
    char p1[512], p2[512];
    unsigned char junk[300];
    memcpy(junk, "PK\x03\x04", 4);
    for (size_t i = 4; i < sizeof junk; i++)
        junk[i] = (unsigned char)(i * 37 + 11);
    write_file(tpath(t, "junk.zip", p1, sizeof p1), junk, sizeof junk);
    write_file(tpath(t, "ok.csv", p2, sizeof p2), csv, sizeof csv - 1);
    ah_source *s = ah_source_new(&t->diag);
    assert_int_equal(ah_source_add(s, p1), AH_OK);
    assert_int_equal(ah_source_add(s, p2), AH_OK);
    leaves ls;
    read_all(s, &ls, 4096);
    assert_true(ls.n >= 1);
    assert_leaf(&ls.l[ls.n - 1], NULL, "plain", csv, sizeof csv - 1);
    assert_true(t->diag.count[AH_SEV_ERROR] >= 1);
    assert_string_equal(t->msgs[0].path, p1);
    assert_true(ah_source_file_at(s, 0)->unreadable);
    assert_file(s, 0, p1, junk, sizeof junk, (uint32_t)(ls.n - 1), true);
    leaves_free(&ls);
    ah_source_free(s);
}

/* --- directories -------------------------------------------------------------- */

static void test_directory_walk_order(void **state)
{
    test_ctx *t = *state;
    char p[512], q[512];
    /* created out of order on purpose */
    mkdir(tpath(t, "in", p, sizeof p), 0755);
    mkdir(tpath(t, "in/sub", p, sizeof p), 0755);
    mkdir(tpath(t, "in/A-upper", p, sizeof p), 0755);
    write_file(tpath(t, "in/sub/c.json", p, sizeof p), json, sizeof json - 1);
    write_file(tpath(t, "in/b.csv", p, sizeof p), csv, sizeof csv - 1);
    write_file(tpath(t, "in/a.csv", p, sizeof p), csv, 10);
    write_file(tpath(t, "in/.hidden.json", p, sizeof p), json, 5);
    write_file(tpath(t, "in/A-upper/x.csv", p, sizeof p), csv, 3);
    /* a loop, a link to a file (followed), a dangling link, a fifo */
    assert_int_equal(symlink("..", tpath(t, "in/sub/loop", p, sizeof p)), 0);
    assert_int_equal(symlink("b.csv", tpath(t, "in/c-link.csv", p, sizeof p)), 0);
    assert_int_equal(symlink("nowhere", tpath(t, "in/dangling", p, sizeof p)), 0);
    assert_int_equal(mkfifo(tpath(t, "in/fifo", p, sizeof p), 0644), 0);

    ah_source *s = ah_source_new(&t->diag);
    tpath(t, "in", q, sizeof q);
    assert_int_equal(ah_source_add(s, q), AH_OK);
    const char *expect[] = {"in/.hidden.json", "in/A-upper/x.csv", "in/a.csv",
                            "in/b.csv",        "in/c-link.csv",    "in/sub/c.json"};
    assert_int_equal(ah_source_file_count(s), AH_ARRAY_LEN(expect));
    for (size_t i = 0; i < AH_ARRAY_LEN(expect); i++)
        assert_string_equal(ah_source_file_at(s, i)->path, tpath(t, expect[i], p, sizeof p));
    assert_null(ah_source_file_at(s, AH_ARRAY_LEN(expect)));
    assert_int_equal(ah_source_total_bytes(s), 5 + 3 + 10 + (sizeof csv - 1) * 2 + (sizeof json - 1));
    /* the dangling link and the loop are warnings, the fifo a note */
    assert_int_equal(t->diag.count[AH_SEV_ERROR], 0);
    assert_int_equal(t->diag.count[AH_SEV_WARNING], 2);
    assert_int_equal(t->diag.count[AH_SEV_NOTE], 1);
    bool saw_loop = false;
    for (size_t i = 0; i < t->nmsgs; i++)
        if (strstr(t->msgs[i].msg, "loop"))
            saw_loop = !strcmp(t->msgs[i].path, tpath(t, "in/sub/loop", p, sizeof p));
    assert_true(saw_loop);

    leaves ls;
    read_all(s, &ls, 4096);
    assert_int_equal(ls.n, AH_ARRAY_LEN(expect));
    assert_leaf(&ls.l[2], NULL, "plain", csv, 10);
    assert_int_equal(ls.l[5].file_index, 5);
    assert_int_equal(ah_source_done_bytes(s), ah_source_total_bytes(s));
    leaves_free(&ls);
    ah_source_free(s);

    /* a trailing slash gives the same names without "//" */
    s = ah_source_new(NULL);
    snprintf(q + strlen(q), sizeof q - strlen(q), "/");
    assert_int_equal(ah_source_add(s, q), AH_OK);
    assert_string_equal(ah_source_file_at(s, 0)->path, tpath(t, "in/.hidden.json", p, sizeof p));
    ah_source_free(s);
}

/* --- standard input ------------------------------------------------------------ */

/* Make fd 0 read `data` through a pipe (small data: it fits in the pipe buffer). */
static int stdin_from_pipe(const void *data, size_t len)
{
    int saved = dup(STDIN_FILENO), fds[2];
    assert_true(saved >= 0);
    assert_int_equal(pipe(fds), 0);
    assert_true(len < 60000);
    assert_int_equal(write(fds[1], data, len), (ssize_t)len);
    close(fds[1]);
    assert_int_equal(dup2(fds[0], STDIN_FILENO), STDIN_FILENO);
    close(fds[0]);
    return saved;
}

static void stdin_restore(int saved)
{
    assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
    close(saved);
}

static void test_stdin_gzip_pipe(void **state)
{
    test_ctx *t = *state;
    bytes gz = gzip_bytes(json, sizeof json - 1);
    int saved = stdin_from_pipe(gz.p, gz.len);
    ah_source *s = ah_source_new(&t->diag);
    assert_int_equal(ah_source_add(s, "-"), AH_OK);
    assert_int_equal(ah_source_add(s, "-"), AH_OK); /* once is enough: warned, not queued twice */
    assert_int_equal(ah_source_file_count(s), 1);
    assert_int_equal(t->diag.count[AH_SEV_WARNING], 1);
    assert_int_equal(ah_source_total_bytes(s), 0);
    leaves ls;
    read_all(s, &ls, 4096);
    stdin_restore(saved);
    assert_int_equal(ls.n, 1);
    assert_leaf(&ls.l[0], NULL, "gzip", json, sizeof json - 1);
    assert_string_equal(ls.l[0].path, "-");
    assert_file(s, 0, "-", gz.p, gz.len, 1, false);
    assert_int_equal(ah_source_done_bytes(s), gz.len);
    leaves_free(&ls);
    ah_source_free(s);
    bytes_free(&gz);
}

/* A zip on a pipe: libarchive stops at the central directory; the digest must still cover every byte. */
static void test_stdin_zip_pipe_hashes_everything(void **state)
{
    test_ctx *t = *state;
    member m[] = {{"a.json", json, sizeof json - 1, 0, false}, {"b.csv", csv, sizeof csv - 1, 0, false}};
    bytes zip = make_archive(FMT_ZIP, ARCHIVE_FILTER_NONE, m, 2);
    int saved = stdin_from_pipe(zip.p, zip.len);
    ah_source *s = ah_source_new(&t->diag);
    assert_int_equal(ah_source_add(s, "-"), AH_OK);
    leaves ls;
    read_all(s, &ls, 4096);
    stdin_restore(saved);
    assert_int_equal(ls.n, 2);
    assert_leaf(&ls.l[0], "a.json", "zip", json, sizeof json - 1);
    assert_leaf(&ls.l[1], "b.csv", "zip", csv, sizeof csv - 1);
    assert_file(s, 0, "-", zip.p, zip.len, 2, false);
    assert_nmsgs(t, 0);
    leaves_free(&ls);
    ah_source_free(s);
    bytes_free(&zip);
}

/* `audithound - < x.7z`: stdin is a regular file, so it can be seeked. */
static void test_stdin_redirected_7z(void **state)
{
    test_ctx *t = *state;
    char p[512];
    member m[] = {{"a.json", json, sizeof json - 1, 0, false}};
    bytes sz = make_archive(FMT_7Z, ARCHIVE_FILTER_NONE, m, 1);
    write_file(tpath(t, "r.7z", p, sizeof p), sz.p, sz.len);
    int saved = dup(STDIN_FILENO);
    int fd = open(p, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(dup2(fd, STDIN_FILENO), STDIN_FILENO);
    close(fd);
    ah_source *s = ah_source_new(&t->diag);
    assert_int_equal(ah_source_add(s, "-"), AH_OK);
    leaves ls;
    read_all(s, &ls, 4096);
    stdin_restore(saved);
    assert_int_equal(ls.n, 1);
    assert_leaf(&ls.l[0], "a.json", "7z", json, sizeof json - 1);
    assert_file(s, 0, "-", sz.p, sz.len, 1, false);
    leaves_free(&ls);
    ah_source_free(s);
    bytes_free(&sz);
}

static void test_stdin_7z_pipe_is_reported(void **state)
{
    test_ctx *t = *state;
    member m[] = {{"a.json", json, sizeof json - 1, 0, false}};
    bytes sz = make_archive(FMT_7Z, ARCHIVE_FILTER_NONE, m, 1);
    int saved = stdin_from_pipe(sz.p, sz.len);
    ah_source *s = ah_source_new(&t->diag);
    assert_int_equal(ah_source_add(s, "-"), AH_OK);
    leaves ls;
    read_all(s, &ls, 4096);
    stdin_restore(saved);
    assert_int_equal(ls.n, 0);
    assert_nmsgs(t, 1);
    assert_string_equal(t->msgs[0].path, "-");
    assert_false(t->msgs[0].has_entry);
    assert_string_equal(t->msgs[0].msg,
                        "7-Zip archive inside another archive, compressed or on a pipe is not supported "
                        "(7-Zip needs random access; skipped)");
    assert_file(s, 0, "-", sz.p, sz.len, 0, true);
    ah_source_free(s);
    bytes_free(&sz);
}

/* --- digests, progress, lifetimes ---------------------------------------------- */

static void test_unread_leaves_still_hashed(void **state)
{
    test_ctx *t = *state;
    char p1[512], p2[512], p3[512], p4[512];
    bytes big = noise_text(400000, 5);
    member m[] = {{"big1.json", big.p, big.len, 0, false}, {"big2.json", big.p, 1000, 0, false}};
    bytes zip = make_archive(FMT_ZIP, ARCHIVE_FILTER_NONE, m, 2);
    bytes tgz = make_archive(FMT_TAR, ARCHIVE_FILTER_GZIP, m, 2);
    bytes tar = make_archive(FMT_TAR, ARCHIVE_FILTER_NONE, m, 2); /* skipped with seeks */
    bytes gz = gzip_bytes(big.p, big.len);
    write_file(tpath(t, "1.zip", p1, sizeof p1), zip.p, zip.len);
    write_file(tpath(t, "2.tgz", p2, sizeof p2), tgz.p, tgz.len);
    write_file(tpath(t, "3.gz", p3, sizeof p3), gz.p, gz.len);
    write_file(tpath(t, "4.tar", p4, sizeof p4), tar.p, tar.len);
    ah_source *s = ah_source_new(&t->diag);
    assert_int_equal(ah_source_add(s, p1), AH_OK);
    assert_int_equal(ah_source_add(s, p2), AH_OK);
    assert_int_equal(ah_source_add(s, p3), AH_OK);
    assert_int_equal(ah_source_add(s, p4), AH_OK);
    ah_input *in;
    size_t n = 0;
    char one[1];
    while (ah_source_next(s, &in) == AH_OK) {
        if (n++ == 1) /* read a single byte of one leaf, nothing of the others */
            assert_int_equal(ah_read(ah_input_reader(in), one, 1), 1);
    }
    assert_int_equal(n, 7);
    assert_file(s, 0, p1, zip.p, zip.len, 2, false);
    assert_file(s, 1, p2, tgz.p, tgz.len, 2, false);
    assert_file(s, 2, p3, gz.p, gz.len, 1, false);
    assert_file(s, 3, p4, tar.p, tar.len, 2, false);
    assert_int_equal(ah_source_done_bytes(s), zip.len + tgz.len + gz.len + tar.len);
    assert_int_equal(ah_source_total_bytes(s), zip.len + tgz.len + gz.len + tar.len);
    assert_nmsgs(t, 0);
    ah_source_free(s);
    bytes_free(&big);
    bytes_free(&zip);
    bytes_free(&tgz);
    bytes_free(&tar);
    bytes_free(&gz);
}

static void test_large_member_small_reads(void **state)
{
    test_ctx *t = *state;
    char p[512];
    bytes big = noise_text(300000, 9);
    bytes gz = gzip_bytes(big.p, big.len);
    member m[] = {{"x.json.gz", gz.p, gz.len, 0, false}, {"y.json", big.p, big.len, 0, false}};
    bytes zip = make_archive(FMT_ZIP, ARCHIVE_FILTER_NONE, m, 2);
    write_file(tpath(t, "l.zip", p, sizeof p), zip.p, zip.len);
    ah_source *s = ah_source_new(&t->diag);
    assert_int_equal(ah_source_add(s, p), AH_OK);
    leaves ls;
    read_all(s, &ls, 7);
    assert_int_equal(ls.n, 2);
    assert_leaf(&ls.l[0], "x.json.gz", "zip > gzip", big.p, big.len);
    assert_leaf(&ls.l[1], "y.json", "zip", big.p, big.len);
    assert_file(s, 0, p, zip.p, zip.len, 2, false);
    leaves_free(&ls);
    ah_source_free(s);
    bytes_free(&big);
    bytes_free(&gz);
    bytes_free(&zip);
}

static void test_origins_outlive_inputs_and_free_mid_stream(void **state)
{
    test_ctx *t = *state;
    char p[512];
    member m[] = {{"a.json", json, sizeof json - 1, 0, false},
                  {"b.json", json, sizeof json - 1, 0, false},
                  {"c.json", json, sizeof json - 1, 0, false}};
    bytes tgz = make_archive(FMT_TAR, ARCHIVE_FILTER_GZIP, m, 3);
    write_file(tpath(t, "o.tgz", p, sizeof p), tgz.p, tgz.len);
    ah_source *s = ah_source_new(&t->diag);
    assert_int_equal(ah_source_add(s, p), AH_OK);
    ah_input *in;
    assert_int_equal(ah_source_next(s, &in), AH_OK);
    const ah_origin *first = ah_input_origin(in);
    assert_int_equal(ah_source_next(s, &in), AH_OK);
    char buf[4];
    assert_int_equal(ah_read(ah_input_reader(in), buf, sizeof buf), 4);
    /* the first origin is still valid after the input moved on */
    assert_string_equal(first->entry, "a.json");
    assert_string_equal(first->path, p);
    assert_int_equal(first->input_no, 0);
    assert_string_equal(ah_input_origin(in)->entry, "b.json");
    /* the file is not done: no digest yet */
    assert_string_equal(ah_source_file_at(s, 0)->sha256, "");
    ah_source_free(s); /* mid-archive, mid-member: nothing leaks */
    ah_source_free(NULL);
    bytes_free(&tgz);
}

static void test_long_member_names_are_cut(void **state)
{
    test_ctx *t = *state;
    char p[512];
    char inner_name[3001], outer_name[3001];
    memset(inner_name, 'i', 3000);
    memset(outer_name, 'o', 3000);
    inner_name[3000] = outer_name[3000] = '\0';
    member im[] = {{inner_name, csv, sizeof csv - 1, 0, false}};
    bytes inner = make_archive(FMT_TAR, ARCHIVE_FILTER_NONE, im, 1);
    member om[] = {{outer_name, inner.p, inner.len, 0, false}};
    bytes outer = make_archive(FMT_TAR, ARCHIVE_FILTER_GZIP, om, 1);
    write_file(tpath(t, "long.tgz", p, sizeof p), outer.p, outer.len);
    ah_source *s = ah_source_new(&t->diag);
    assert_int_equal(ah_source_add(s, p), AH_OK);
    ah_input *in;
    assert_int_equal(ah_source_next(s, &in), AH_OK);
    const char *entry = ah_input_origin(in)->entry;
    assert_int_equal(strlen(entry), 4096);
    assert_memory_equal(entry, outer_name, 3000);
    assert_int_equal(entry[3000], '!');
    assert_memory_equal(entry + 3001, inner_name, 4096 - 3001);
    assert_string_equal(ah_input_container(in), "tar.gz > tar");
    assert_int_equal(ah_source_next(s, &in), AH_END);
    ah_source_free(s);
    bytes_free(&inner);
    bytes_free(&outer);
}

/* Damaged containers never crash or hang; every damaged file is still hashed. */
static void test_random_corruption(void **state)
{
    test_ctx *t = *state;
    bytes text = noise_text(20000, 21);
    bytes gz = gzip_bytes(text.p, text.len);
    member im[] = {{"in.csv", csv, sizeof csv - 1, 0, false}, {"in.json.gz", gz.p, gz.len, 0, false}};
    bytes inner = make_archive(FMT_ZIP, ARCHIVE_FILTER_NONE, im, 2);
    member om[] = {{"a.json.gz", gz.p, gz.len, 0, false},
                   {"inner.zip", inner.p, inner.len, 0, false},
                   {"b.json", text.p, 3000, 0, false}};
    bytes samples[4] = {
        make_archive(FMT_ZIP, ARCHIVE_FILTER_NONE, om, 3),
        make_archive(FMT_TAR, ARCHIVE_FILTER_GZIP, om, 3),
        make_archive(FMT_7Z, ARCHIVE_FILTER_NONE, om, 3),
        gzip_bytes(text.p, text.len),
    };
    uint32_t x = 12345;
    for (int round = 0; round < 160; round++) {
        bytes *b = &samples[round % 4];
        unsigned char *damaged = malloc(b->len);
        memcpy(damaged, b->p, b->len);
        size_t len = b->len;
        for (int k = 0; k < 1 + round % 5; k++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            damaged[x % len] ^= (unsigned char)(1 + (x >> 8) % 255);
        }
        if (round % 7 == 0)
            len = len / 2 + x % (len / 2); /* and sometimes truncated */
        char name[32], p[512];
        snprintf(name, sizeof name, "d%d", round);
        write_file(tpath(t, name, p, sizeof p), damaged, len);
        t->nmsgs = 0;
        ah_source *s = ah_source_new(&t->diag);
        assert_int_equal(ah_source_add(s, p), AH_OK);
        ah_input *in;
        char buf[4096];
        int nleaves = 0;
        while (ah_source_next(s, &in) == AH_OK) {
            assert_true(++nleaves < 100);
            while (ah_read(ah_input_reader(in), buf, sizeof buf) > 0)
                ;
        }
        assert_file(s, 0, p, damaged, len, (uint32_t)nleaves, ah_source_file_at(s, 0)->unreadable);
        ah_source_free(s);
        unlink(p);
        free(damaged);
    }
    for (size_t i = 0; i < 4; i++)
        bytes_free(&samples[i]);
    bytes_free(&text);
    bytes_free(&gz);
    bytes_free(&inner);
}

/* Real exports from the corpus, packed at test time, come out byte for byte. */
static void test_corpus_files_through_containers(void **state)
{
    test_ctx *t = *state;
    const char *corpus = getenv("AH_CORPUS");
    if (!corpus || !*corpus)
        corpus = "../shared/corpus";
    const char *names[] = {"otrf_security_datasets/AADAuditEvents.json", "plaso/m365_activity_log_002.csv",
                           "elastic_integrations/o365_test-exchange-admin.log"};
    unsigned char *data[3] = {NULL, NULL, NULL};
    size_t len[3] = {0, 0, 0};
    for (size_t i = 0; i < 3; i++) {
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", corpus, names[i]);
        FILE *f = fopen(p, "rb");
        if (!f) {
            for (size_t k = 0; k < i; k++)
                free(data[k]);
            print_message("skipped: corpus file %s not found (set AH_CORPUS)\n", p);
            skip();
        }
        size_t cap = 1 << 16;
        data[i] = malloc(cap);
        size_t k;
        while ((k = fread(data[i] + len[i], 1, cap - len[i], f)) > 0) {
            len[i] += k;
            if (len[i] == cap)
                data[i] = realloc(data[i], cap *= 2);
        }
        fclose(f);
    }
    bytes gz = gzip_bytes(data[2], len[2]);
    member m[] = {{names[0], data[0], len[0], 0, false},
                  {names[1], data[1], len[1], 0, false},
                  {"o365.log.gz", gz.p, gz.len, 0, false}};
    bytes zip = make_archive(FMT_ZIP, ARCHIVE_FILTER_NONE, m, 3);
    bytes tgz = make_archive(FMT_TAR, ARCHIVE_FILTER_GZIP, m, 3);
    char p1[512], p2[512];
    write_file(tpath(t, "corpus.zip", p1, sizeof p1), zip.p, zip.len);
    write_file(tpath(t, "corpus.tgz", p2, sizeof p2), tgz.p, tgz.len);
    ah_source *s = ah_source_new(&t->diag);
    assert_int_equal(ah_source_add(s, p1), AH_OK);
    assert_int_equal(ah_source_add(s, p2), AH_OK);
    leaves ls;
    read_all(s, &ls, 1000);
    assert_int_equal(ls.n, 6);
    for (size_t f = 0; f < 2; f++) {
        const char *c = f ? "tar.gz" : "zip";
        char c_gz[32];
        snprintf(c_gz, sizeof c_gz, "%s > gzip", c);
        assert_leaf(&ls.l[3 * f], names[0], c, data[0], len[0]);
        assert_leaf(&ls.l[3 * f + 1], names[1], c, data[1], len[1]);
        assert_leaf(&ls.l[3 * f + 2], "o365.log.gz", c_gz, data[2], len[2]);
    }
    assert_file(s, 0, p1, zip.p, zip.len, 3, false);
    assert_file(s, 1, p2, tgz.p, tgz.len, 3, false);
    leaves_free(&ls);
    ah_source_free(s);
    bytes_free(&gz);
    bytes_free(&zip);
    bytes_free(&tgz);
    for (size_t i = 0; i < 3; i++)
        free(data[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_plain_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gzip_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multi_member_gzip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xz_and_bzip2_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_inputs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plain_text_is_not_an_archive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zip_two_members_in_archive_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tar_gz, setup, teardown),
        cmocka_unit_test_setup_teardown(test_7z, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nested_archives, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gzip_member_of_tar, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nesting_too_deep_is_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_7z_inside_zip_is_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_encrypted_zip_members, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_gzip_then_next_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_tar_gz_reported_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_zip_member_then_next_member, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_after_zip_signature, setup, teardown),
        cmocka_unit_test_setup_teardown(test_directory_walk_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stdin_gzip_pipe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stdin_zip_pipe_hashes_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stdin_redirected_7z, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stdin_7z_pipe_is_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unread_leaves_still_hashed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_member_small_reads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_origins_outlive_inputs_and_free_mid_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_member_names_are_cut, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_corruption, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corpus_files_through_containers, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
