/*
 * test_rules_custody.c: what the ruleset tells the run summary besides the
 * rule files (chain of custody): every variable with its value and source,
 * every list file the compiled rules read with the SHA-256 and size of the
 * bytes they were read from.
 */
#include "test_rules_util.h"
#include "support/tmpdir.h"

static int setup(void **state) { return ah_test_tmpdir_setup(state, "ah-custody", "rules.rules"); }
static int teardown(void **state) { return ah_test_tmpdir_teardown(state); }

static void write_text(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static void var_is(const ah_ruleset *rs, size_t i, const char *name, const char *value, const char *source,
                   const char *file)
{
    ah_var_info v;
    assert_true(ah_ruleset_var_at(rs, i, &v));
    assert_string_equal(v.name, name);
    assert_string_equal(v.value, value);
    assert_string_equal(v.source, source);
    if (file)
        assert_string_equal(v.file, file);
    else
        assert_null(v.file);
}

static void variables_values_and_sources(void **state)
{
    ah_test_tmpdir *f = *state;
    write_text(f->dir, "case.vars", "# tenant\nb=from-file\nc = \"quoted\"\n");
    char vars[256];
    snprintf(vars, sizeof vars, "%s/case.vars", f->dir);
    ah_ruleset *rs = ah_ruleset_new(NULL);
    assert_int_equal(ah_ruleset_var_count(rs), 0);
    assert_int_equal(ah_ruleset_set_var(rs, "a", "api"), AH_OK);
    assert_int_equal(ah_ruleset_load_vars_file(rs, vars), AH_OK);
    assert_int_equal(ah_ruleset_set_var_arg(rs, "c=given"), AH_OK); /* replaces the file's value */
    assert_int_equal(ah_ruleset_set_var_arg(rs, "d=x=y"), AH_OK);
    assert_int_equal(ah_ruleset_var_count(rs), 4);
    var_is(rs, 0, "a", "api", "set", NULL);
    var_is(rs, 1, "b", "from-file", "vars-file", vars);
    var_is(rs, 2, "c", "given", "set", NULL);
    var_is(rs, 3, "d", "x=y", "set", NULL);
    ah_var_info v;
    assert_false(ah_ruleset_var_at(rs, 4, &v));
    /* a file read after --set takes the variable back, source and all */
    assert_int_equal(ah_ruleset_load_vars_file(rs, vars), AH_OK);
    var_is(rs, 2, "c", "quoted", "vars-file", vars);
    assert_int_equal(ah_ruleset_var_count(NULL), 0);
    assert_false(ah_ruleset_var_at(NULL, 0, &v));
    ah_ruleset_free(rs);
}

static void list_files_hashed_once_each(void **state)
{
    ah_test_tmpdir *f = *state;
    write_text(f->dir, "ips.txt", "# IOC addresses\n10.0.0.0/8\n192.0.2.1\n");
    write_text(f->dir, "ops.txt", "Add-MailboxPermission\nNew-InboxRule"); /* no final newline */
    write_text(f->dir, "unused.txt", "never read\n");
    write_text(f->dir, "r.rules",
               "rule ops {\n title \"t\"\n severity low\n sources ual\n match operation in list(\"ops.txt\")\n}\n"
               "rule ips {\n title \"t\"\n severity low\n sources ual signin\n"
               " match ip in cidr list(\"ips.txt\") or user in list(\"ips.txt\") or app in list(\"ops.txt\")\n}\n");
    char rules[256];
    snprintf(rules, sizeof rules, "%s/r.rules", f->dir);
    tdiag td;
    tdiag_init(&td);
    ah_ruleset *rs = ah_ruleset_new(&td.d);
    assert_int_equal(ah_ruleset_load_path(rs, rules), AH_OK);
    assert_int_equal(ah_ruleset_list_file_count(rs), 0); /* lists are read by compile */
    assert_null(ah_ruleset_list_file_at(rs, 0));
    assert_int_equal(ah_ruleset_compile(rs), AH_OK);
    /* ops.txt is used in two modes, ips.txt in two: one entry per file, load order */
    assert_int_equal(ah_ruleset_list_file_count(rs), 2);
    char ops[256], ips[256];
    snprintf(ops, sizeof ops, "%s/ops.txt", f->dir);
    snprintf(ips, sizeof ips, "%s/ips.txt", f->dir);
    const ah_list_file_info *a = ah_ruleset_list_file_at(rs, 0), *b = ah_ruleset_list_file_at(rs, 1);
    assert_string_equal(a->path, ops);
    assert_string_equal(a->sha256, "b8a2da4d42fe3793d47c167f2fd1c0ba861b4c9e4b10e13c5bcf446f2524075d");
    assert_int_equal(a->size, 35);
    assert_string_equal(b->path, ips);
    assert_string_equal(b->sha256, "b10bd43be4f7d63371819012bc2965b26c8d98c5dc8d3901b2602d054fa85a7d");
    assert_int_equal(b->size, 37);
    assert_null(ah_ruleset_list_file_at(rs, 2));
    ah_ruleset_free(rs);
    tdiag_free(&td);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(variables_values_and_sources, setup, teardown),
        cmocka_unit_test_setup_teardown(list_files_hashed_once_each, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
