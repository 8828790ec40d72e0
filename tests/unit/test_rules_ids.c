/*
 * test_rules_ids.c: rule ids over many rules: duplicates found across
 * files, every id found by ah_ruleset_find, unknown and empty ids not.
 * The id index is a hash table (it was a linear scan, quadratic in the
 * rule count: issue 10); 40,000 rules here load in well under a second.
 */
#include "test_rules_util.h"

#define NFILES 4
#define PER_FILE 10000

/* File f holds rules f*PER_FILE .. +PER_FILE-1; every 1000th rule of file
 * f > 0 reuses an id of file 0 (a duplicate). */
static char *gen_file(int f, size_t *len)
{
    ah_buf b;
    ah_buf_init(&b, 0);
    for (int i = 0; i < PER_FILE; i++) {
        int id = (f > 0 && i % 1000 == 0) ? i : f * PER_FILE + i;
        assert_int_equal(
            ah_buf_printf(
                &b,
                "rule gen-%06d {\n  title \"t\"\n  severity low\n  sources ual\n  match operation == \"Op-%d\"\n}\n",
                id, f * PER_FILE + i),
            AH_OK);
    }
    *len = b.len;
    return b.data;
}

static void many_rules_duplicates_and_find(void **state)
{
    (void)state;
    tdiag td;
    tdiag_init(&td);
    ah_ruleset *rs = ah_ruleset_new(&td.d);
    assert_non_null(rs);
    for (int f = 0; f < NFILES; f++) {
        size_t len;
        char *text = gen_file(f, &len);
        char name[32];
        snprintf(name, sizeof name, "gen%d.rules", f);
        ah_status st = ah_ruleset_load_string(rs, name, text, len);
        assert_int_equal(st, f == 0 ? AH_OK : AH_ERR_SYNTAX);
        free(text);
    }
    assert_int_equal(ah_ruleset_count(rs), NFILES * PER_FILE);
    size_t dups = (NFILES - 1) * (PER_FILE / 1000);
    assert_int_equal(ah_ruleset_error_count(rs), dups);
    assert_diag_has(&td, "E gen1.rules:1:6: error: duplicate rule id 'gen-000000'");
    assert_diag_has(&td, "N gen0.rules:1:6: note: 'gen-000000' first defined here");
    assert_int_equal(ah_ruleset_compile(rs), AH_ERR_SYNTAX);
    assert_int_equal(ah_ruleset_active_count(rs), NFILES * PER_FILE - dups);

    /* Every id finds its first definition; the duplicates are marked. */
    size_t marked = 0;
    for (size_t i = 0; i < ah_ruleset_count(rs); i++) {
        const ah_rule_meta *m = ah_rule_metadata(ah_ruleset_rule(rs, i));
        const ah_rule *found = ah_ruleset_find(rs, m->id);
        assert_non_null(found);
        if (m->skipped && strcmp(m->skipped, "duplicate rule id") == 0) {
            marked++;
            assert_true(ah_rule_metadata(found)->index < i);
            assert_string_equal(ah_rule_metadata(found)->file, "gen0.rules");
        } else
            assert_ptr_equal(found, ah_ruleset_rule(rs, i));
    }
    assert_int_equal(marked, dups);
    assert_null(ah_ruleset_find(rs, "gen-999999"));
    assert_null(ah_ruleset_find(rs, ""));
    assert_null(ah_ruleset_find(rs, "gen-00000"));
    ah_ruleset_free(rs);
    tdiag_free(&td);
}

static void find_before_any_rule(void **state)
{
    (void)state;
    ah_ruleset *rs = ah_ruleset_new(NULL);
    assert_null(ah_ruleset_find(rs, "x"));
    static const char text[] = "rule x {\n title \"t\"\n severity low\n sources ual\n match operation == \"a\"\n}\n";
    assert_int_equal(ah_ruleset_load_string(rs, "a.rules", text, sizeof text - 1), AH_OK);
    assert_non_null(ah_ruleset_find(rs, "x"));
    assert_null(ah_ruleset_find(NULL, "x"));
    ah_ruleset_free(rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(many_rules_duplicates_and_find),
        cmocka_unit_test(find_before_any_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
