/*
 * test_rules_atoms.c: the required literals of a regex (analyzer/rules/
 * atoms.c). What is derived for known patterns, that anything outside the
 * understood subset gives no atoms, and the property that matters: for
 * every pattern and subject, when PCRE2 matches, the atoms are present
 * (so skipping the regex when they are absent never changes a result).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analyzer/rules/rules_private.h"

/* The atoms of pattern as one sorted "a|b|c" string, or "-" for none. */
static const char *atoms_of(ahi_arena *a, const char *re, bool caseless, char *out, size_t size)
{
    const ahi_atoms *at = ahi_atoms_of_regex(a, re, strlen(re), caseless, false);
    if (!at)
        return strcpy(out, "-");
    const char *v[64];
    size_t n = at->n;
    for (size_t i = 0; i < n; i++)
        v[i] = at->s[i];
    for (size_t i = 1; i < n; i++) /* insertion sort: few atoms */
        for (size_t j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
            const char *t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (i)
            strncat(out, "|", size - strlen(out) - 1);
        strncat(out, v[i], size - strlen(out) - 1);
    }
    return out;
}

static void test_derived(void **state)
{
    (void)state;
    static const struct {
        const char *re;
        bool caseless;
        const char *want;
    } cases[] = {
        {"AzureHound", false, "azurehound"},
        {"foo|bar|bazz", false, "bar|bazz|foo"},
        {"(?<![a-z0-9-])(thedoccloud\\.com|avsvmcloud\\.com)(?![a-z0-9-])", false, "avsvmcloud.com|thedoccloud.com"},
        {"^Set-Mailbox$", false, "set-mailbox"},
        {"abc.*defgh", false, "defgh"}, /* the longer factor */
        {"ab+cde", false, "bcde"},      /* b+: the last b starts the next run */
        {"xyz(abc)?", false, "xyz"},    /* optional group: not required */
        {"(abc)+", false, "abc"},
        {"(?:abc|de)fghij", false, "fghij"},
        {"(?:abcd|efgh)", false, "abcd|efgh"},
        {"(?<name>mailsniper)", false, "mailsniper"},
        {"\\bruler\\b", false, "ruler"},
        {"a\\.b\\-c", false, "a.b-c"},
        {"[a-z]+token", false, "token"},
        {"roadtx|\\bruler\\b", false, "roadtx|ruler"},
        /* caseless: k and s have non-ASCII case twins (U+212A, U+017F) */
        {"kubecloud", true, "ubecloud"},
        {"sessions", true, "ion"},
        {"graphspy", true, "graph"},
        {"kubecloud", false, "kubecloud"},
        /* nothing required or outside the subset */
        {"a|b", false, "-"},
        {"ab", false, "-"}, /* shorter than three bytes */
        {"(abc|)", false, "-"},
        {"abc?", false, "-"}, /* c? ends the run: "ab" is too short */
        {"(?i)abcdef", false, "-"},
        {"(abc)\\1", false, "-"},
        {"\\x41bcdef", false, "-"},
        {"\\Qabc\\E", false, "-"},
        {"abc{2}", false, "abc"},
        {"abc{,2}", false, "-"}, /* "{" as a literal or {0,2}: depends on the PCRE2 version */
        {"(?=abc)", false, "-"},
        {".*", false, "-"},
        {"[abc]", false, "-"},
        {"(unclosed", false, "-"},
    };
    ahi_arena a;
    ahi_arena_init(&a);
    char buf[512];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = atoms_of(&a, cases[i].re, cases[i].caseless, buf, sizeof buf);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("/%s/%s: atoms %s, expected %s", cases[i].re, cases[i].caseless ? "i" : "", got, cases[i].want);
    }
    assert_null(ahi_atoms_of_regex(&a, "abcdef", 6, false, true)); /* extended mode */
    ahi_arena_free(&a);
}

static void test_search(void **state)
{
    (void)state;
    ahi_arena a;
    ahi_arena_init(&a);
    const char *re = "thedoccloud\\.com|kubecloud\\.com|abc";
    const ahi_atoms *at = ahi_atoms_of_regex(&a, re, strlen(re), false, false);
    assert_non_null(at);
    assert_true(ahi_atoms_present(at, "xx THEDOCCLOUD.COM", 18));
    assert_true(ahi_atoms_present(at, "abc", 3));
    assert_true(ahi_atoms_present(at, "zzzzabc", 7));
    assert_false(ahi_atoms_present(at, "ab", 2));
    assert_false(ahi_atoms_present(at, "", 0));
    assert_false(ahi_atoms_present(at, "thedoccloud.co", 14));
    assert_false(ahi_atoms_present(at, "a-b-c thedoc cloud", 18));
    ahi_arena_free(&a);
}

/* Deterministic xorshift, so a failure reproduces. */
static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Pieces patterns and subjects are built from: literal words that overlap
 * (so partial matches are common), punctuation, and the two non-ASCII case
 * twins of ASCII letters. */
static const char *const words[] = {"abc", "abd", "kube", "cloud", "Sess", "ion", "x", "yz", "de", "DEF", "abcabc"};
static const char *const subject_bits[] = {"abc",
                                           "ABD",
                                           "kube",
                                           "\xE2\x84\xAA"
                                           "ube",
                                           "clOUD",
                                           "\xC5\xBF"
                                           "ess",
                                           "ion",
                                           "x",
                                           "yz",
                                           "de",
                                           "def",
                                           "-",
                                           ".",
                                           " ",
                                           "ab",
                                           "cd",
                                           "\xC3\xA9"};

static void random_pattern(char *out, size_t size)
{
    out[0] = '\0';
    size_t pieces = 1 + next() % 5;
    for (size_t i = 0; i < pieces; i++) {
        char piece[128];
        switch (next() % 8) {
        case 0: snprintf(piece, sizeof piece, "(?:%s|%s)", words[next() % 11], words[next() % 11]); break;
        case 1: snprintf(piece, sizeof piece, "%s?", words[next() % 11]); break;
        case 2: snprintf(piece, sizeof piece, "(%s)+", words[next() % 11]); break;
        case 3: snprintf(piece, sizeof piece, "[a-z]*"); break;
        case 4: snprintf(piece, sizeof piece, "\\b"); break;
        case 5: snprintf(piece, sizeof piece, "|"); break;
        case 6: snprintf(piece, sizeof piece, "(?<!-)"); break;
        default: snprintf(piece, sizeof piece, "%s", words[next() % 11]); break;
        }
        strncat(out, piece, size - strlen(out) - 1);
    }
}

static void test_exact_against_pcre2(void **state)
{
    (void)state;
    ahi_arena a;
    ahi_arena_init(&a);
    pcre2_match_data *md = pcre2_match_data_create(4, NULL);
    size_t checked = 0, skipped = 0;
    for (int p = 0; p < 400; p++) {
        char re[512];
        random_pattern(re, sizeof re);
        bool caseless = next() % 2;
        int err;
        PCRE2_SIZE off;
        pcre2_code *code =
            pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED,
                          PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | (caseless ? PCRE2_CASELESS : 0), &err, &off, NULL);
        if (!code)
            continue;
        const ahi_atoms *at = ahi_atoms_of_regex(&a, re, strlen(re), caseless, false);
        for (int s = 0; s < 200; s++) {
            char subject[512] = "";
            size_t bits = next() % 12;
            for (size_t i = 0; i < bits; i++)
                strncat(subject, subject_bits[next() % (sizeof subject_bits / sizeof subject_bits[0])],
                        sizeof subject - strlen(subject) - 1);
            bool matches = pcre2_match(code, (PCRE2_SPTR)subject, strlen(subject), 0, 0, md, NULL) >= 0;
            bool present = !at || ahi_atoms_present(at, subject, strlen(subject));
            if (matches && !present)
                fail_msg("/%s/%s matches \"%s\" but its atoms are absent", re, caseless ? "i" : "", subject);
            checked++;
            skipped += !present;
        }
        pcre2_code_free(code);
    }
    pcre2_match_data_free(md);
    ahi_arena_free(&a);
    /* The property must not hold vacuously: many subjects were skipped. */
    assert_true(checked > 10000);
    assert_true(skipped > checked / 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_derived),
        cmocka_unit_test(test_search),
        cmocka_unit_test(test_exact_against_pcre2),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
