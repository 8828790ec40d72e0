/*
 * fuzz_rules.c: the rule language front end (analyzer/rules/): lexer,
 * parser, compiler, explain, and the matcher over one fixed event.
 *
 * Byte 0: even = the rest is a rule file, odd = a `search` expression.
 * List files and test inputs named by the text resolve against a
 * directory that does not exist, so nothing outside the input is read.
 * Invariants: compile fails exactly when errors were reported; in a
 * compiled ruleset every rule has an id that finds that very rule; explain works for
 * a compiled ruleset; the matcher returns at most the active rule count;
 * an expression that compiles can be evaluated and explained.
 */
#include "fuzz.h"

#include "analyzer/rules/rules.h"
#include "parsers/formats/formats.h"

#define MAX_TEXT 65536

static const char EVENT[] =
    "{\"CreationTime\":\"2021-01-13T16:07:40\",\"Id\":\"5d6e7f80-0000-0000-0000-000000000001\","
    "\"RecordType\":8,\"Operation\":\"Add service principal credentials.\",\"UserId\":\"admin@contoso.com\","
    "\"ClientIP\":\"13.59.205.66\",\"Workload\":\"AzureActiveDirectory\",\"ResultStatus\":\"Success\","
    "\"ModifiedProperties\":[{\"Name\":\"KeyDescription\",\"NewValue\":\"[KeyType=AsymmetricX509Cert]\"}],"
    "\"Target\":[{\"ID\":\"Contoso-App\",\"Type\":1}]}";

static void observe(void *ud, const ah_observation *obs)
{
    size_t *n = ud;
    ah_buf b;
    ah_buf_init(&b, 0);
    FUZZ_CHECK(ah_observation_encode(obs, &b) == AH_OK);
    ah_observation back;
    FUZZ_CHECK(ah_observation_decode(ah_buf_span(&b), &back) == AH_OK);
    FUZZ_CHECK(back.rule_index == obs->rule_index && back.step == obs->step);
    FUZZ_CHECK(back.key.n == obs->key.n && (obs->key.n == 0 || memcmp(back.key.p, obs->key.p, obs->key.n) == 0));
    ah_buf_free(&b);
    (*n)++;
}

static void run_rules(const char *text, size_t len, const ah_event *ev)
{
    ah_diag diag = {0};
    ah_ruleset *rs = ah_ruleset_new(&diag);
    FUZZ_CHECK(rs != NULL);
    FUZZ_CHECK(ah_ruleset_set_var(rs, "mimecast_app_id", "abc") == AH_OK);
    ah_status st = ah_ruleset_load_string(rs, "/nonexistent-fuzz-dir/fuzz.rules", text, len);
    FUZZ_CHECK(st == AH_OK || st == AH_ERR_SYNTAX || st == AH_ERR_IO);
    st = ah_ruleset_compile(rs);
    FUZZ_CHECK(st == AH_OK || st == AH_ERR_SYNTAX);
    FUZZ_CHECK((st == AH_OK) == (ah_ruleset_error_count(rs) == 0));
    FUZZ_CHECK((ah_ruleset_error_count(rs) == 0) == (diag.count[AH_SEV_ERROR] == 0));
    size_t n = ah_ruleset_count(rs);
    FUZZ_CHECK(ah_ruleset_active_count(rs) <= n);
    for (size_t i = 0; i < n; i++) {
        const ah_rule_meta *meta = ah_rule_metadata(ah_ruleset_rule(rs, i));
        FUZZ_CHECK(meta->id && meta->index == i);
        if (st != AH_OK)
            continue; /* a rule whose header did not parse is kept without an id */
        const ah_rule *found = ah_ruleset_find(rs, meta->id);
        FUZZ_CHECK(*meta->id && found == ah_ruleset_rule(rs, i)); /* ids are unique once compiled */
    }
    ah_buf out;
    ah_buf_init(&out, 0);
    if (st == AH_OK) {
        FUZZ_CHECK(ah_ruleset_explain(rs, NULL, &out) == AH_OK);
        ah_matcher *m = ah_matcher_new(rs);
        FUZZ_CHECK(m != NULL);
        const ah_rule *hits[64];
        size_t k = ah_matcher_match(m, ev, hits, 64);
        FUZZ_CHECK(k <= ah_ruleset_active_count(rs));
        for (size_t i = 0; i < k && i < 64; i++) {
            ah_buf_reset(&out);
            FUZZ_CHECK(ah_rule_render_details(m, hits[i], ev, &out) == AH_OK);
            FUZZ_CHECK(fuzz_utf8_valid(ah_buf_cstr(&out), out.len));
        }
        size_t nobs = 0;
        FUZZ_CHECK(ah_matcher_observe(m, ev, observe, &nobs) == nobs);
        ah_matcher_free(m);
    }
    ah_buf_free(&out);
    ah_ruleset_free(rs);
}

static void run_expr(const char *text, const ah_event *ev)
{
    ah_diag diag = {0};
    ah_expr *e = ah_expr_compile(text, NULL, &diag, NULL);
    FUZZ_CHECK((e != NULL) == (diag.count[AH_SEV_ERROR] == 0));
    if (!e)
        return;
    ah_matcher *m = ah_matcher_new(NULL);
    FUZZ_CHECK(m != NULL);
    (void)ah_expr_eval(m, e, ev);
    ah_buf out;
    ah_buf_init(&out, 0);
    FUZZ_CHECK(ah_expr_explain(e, &out) == AH_OK);
    ah_buf_free(&out);
    ah_matcher_free(m);
    ah_expr_free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > MAX_TEXT)
        return 0;
    ah_norm_options opt = {.max_record = 1 << 20};
    ah_normalizer *norm = ah_normalizer_new(&opt);
    FUZZ_CHECK(norm != NULL);
    ah_origin origin = {"fuzz.json", NULL, 0};
    ah_normalizer_begin(norm, &origin);
    ah_json_record rec = {{EVENT, sizeof EVENT - 1}, 1, 1, NULL};
    ah_event ev;
    memset(&ev, 0, sizeof ev);
    const char *why = NULL;
    FUZZ_CHECK(ah_normalize_json(norm, &rec, &ev, &why) == AH_OK);
    ev.origin = &origin;

    char *text = malloc(size);
    FUZZ_CHECK(text != NULL);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    if (data[0] & 1)
        run_expr(text, &ev);
    else
        run_rules(text, size - 1, &ev);
    free(text);
    ah_normalizer_free(norm);
    return 0;
}
