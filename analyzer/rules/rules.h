/*
 * rules.h: the rule language (docs/rules.md), its compiler and matcher.
 *
 * Life cycle (YARA-like: a compiler and a scanner behind small handles):
 *
 *   ah_ruleset *rs = ah_ruleset_new(&diag);
 *   ah_ruleset_set_var(rs, "mimecast_app_id", "...");      // before compile
 *   ah_ruleset_load_path(rs, "rules/");                     // files or dirs
 *   if (ah_ruleset_compile(rs) != AH_OK) -> errors were reported to diag
 *   ah_matcher *m = ah_matcher_new(rs);                     // one per thread
 *   n = ah_matcher_match(m, &ev, hits, cap);                // per event
 *   ah_rule_render_details(m, hits[0], &ev, &buf);
 *   ah_matcher_free(m); ah_ruleset_free(rs);
 *
 * Ownership: a compiled ruleset is immutable and may be shared by any
 * number of threads, each with its own matcher. Strings returned by
 * accessors live as long as the ruleset. Free functions accept NULL.
 *
 * Diagnostics: every problem is reported to the ah_diag given to
 * ah_ruleset_new, with where = {path = rule file, line_no = line}. The
 * message text is complete and ready to print as is:
 *
 *   rules/x.rules:12:9: error: unknown field 'usr' (did you mean 'user'?)
 *     match usr == "a"
 *           ^^^
 *
 * Warnings (e.g. a rule without tests) and notes (e.g. "rule X skipped:
 * variable mimecast_app_id not set") use AH_SEV_WARNING / AH_SEV_NOTE; only
 * errors make compile fail. `lint` prints everything; `hunt` may show only
 * errors and skip notes.
 */
#ifndef AH_RULES_H
#define AH_RULES_H

#include "../../parsers/event.h"
#include "../../parsers/util/buf.h"
#include "../../parsers/util/diag.h"

typedef struct ah_ruleset ah_ruleset;
typedef struct ah_rule ah_rule;
typedef struct ah_matcher ah_matcher;
typedef struct ah_expr ah_expr;

#define AH_ROUTINE_MAX_PAIRS 4

/* Rule severity, ordered. */
typedef enum ah_level {
    AH_LEVEL_INFO = 0,
    AH_LEVEL_LOW,
    AH_LEVEL_MEDIUM,
    AH_LEVEL_HIGH,
    AH_LEVEL_CRITICAL,
} ah_level;

const char *ah_level_name(ah_level l);                /* "info" .. "critical" */
bool ah_level_from_name(ah_span name, ah_level *out); /* case-insensitive */

typedef enum ah_rule_status {
    AH_RULE_STATUS_NONE = 0, /* not given */
    AH_RULE_STATUS_STABLE,
    AH_RULE_STATUS_TEST,
    AH_RULE_STATUS_EXPERIMENTAL,
} ah_rule_status;

const char *ah_rule_status_name(ah_rule_status s); /* "", "stable", "test", "experimental" */

/* Bit for a source in ah_rule_meta.sources. */
#define AH_SOURCE_BIT(kind) (1u << (unsigned)(kind))

/* What a rule detects over: one event, or a correlation over many
 * (docs/rules.md "Correlation rules"). */
typedef enum ah_rule_kind {
    AH_RULE_SINGLE = 0, /* rule ID { ... }: one event */
    AH_RULE_AGGREGATE,  /* correlation ID { ... }: count / distinct / sum in a sliding window */
    AH_RULE_SEQUENCE,   /* sequence ID { ... }: ordered steps joined on a key */
    AH_RULE_FIRST_SEEN, /* first-seen ID { ... }: a value new for its group after a baseline */
} ah_rule_kind;

const char *ah_rule_kind_name(ah_rule_kind k); /* "rule", "correlation", "sequence", "first-seen" */

typedef struct ah_strlist {
    const char *const *v;
    size_t n;
} ah_strlist;

/* A rule's metadata. Read-only view owned by the ruleset; members may be
 * appended in later versions, never removed or reordered. Absent text
 * members are "" (never NULL). */
typedef struct ah_rule_meta {
    const char *id;
    const char *title;
    const char *description;
    const char *note; /* investigation note */
    const char *author;
    const char *date;
    const char *modified;
    const char *version;
    ah_level level;
    ah_rule_status status;
    ah_strlist tags;   /* every tag as written, e.g. "solarwinds", "attack.T1098.001" */
    ah_strlist attack; /* ATT&CK technique ids from attack.* tags, e.g. "T1098.001" */
    ah_strlist references;
    ah_strlist falsepositives;
    unsigned sources; /* AH_SOURCE_BIT(AH_SOURCE_UAL) | ... */
    const char *file; /* rule file as loaded */
    uint64_t line;    /* line of the `rule` keyword */
    size_t index;     /* position in load order (0-based) */
    /* NULL when the rule is active. Otherwise why it will not run, e.g.
     * "variable mimecast_app_id not set"; the rule is then not matched but
     * still listed so the CLI can say so. */
    const char *skipped;
    bool needs_raw;       /* its condition or details read raw paths */
    ah_strlist variables; /* variables its condition and details read ($name), without the $ */
    /* Correlation rules (kind != AH_RULE_SINGLE) are never returned by
     * ah_matcher_match; they produce observations (ah_matcher_observe) for
     * the correlation engine (analyzer/correlate/correlate.h). */
    ah_rule_kind kind;
    int64_t window_ns;   /* window / within, in nanoseconds (0 for single rules and first-seen) */
    int64_t baseline_ns; /* first-seen, `x baseline` aggregation: learning period (0 when the rule gives none) */
    size_t nsteps;       /* conditions producing observations: 1, or the steps of a sequence */
    /* `routine` (single-event rules): facts that make a hit routine, all of
     * them: pairs of fields seen together during the baseline ("user+ip")
     * and "admin" (the acting user is in $admin_accounts). Decided at the
     * end of the run by the hunt's case knowledge (analyzer/engine/knowledge.h). */
    ah_strlist routine; /* as written */
    struct ah_routine_pair {
        uint8_t a, b; /* ah_field_id */
    } routine_pair[AH_ROUTINE_MAX_PAIRS];
    size_t nroutine_pairs;
    bool routine_admin;
    /* `escalate LEVEL when any FACT` (correlation rules): the hit is
     * listed at escalate_level when a fact of escalate_facts (AH_FACT_*)
     * holds for the acting user of some contributing event
     * (ah_corr_hit.facts); 0 when the rule has none. */
    ah_level escalate_level;
    unsigned escalate_facts;
    /* `teaches FACT` (single-event rules): a hit inside the baseline teaches
     * the case knowledge that the hit's target holds the fact (AH_FACT_*). */
    unsigned teaches_facts;
} ah_rule_meta;

/* Facts of the case knowledge (analyzer/engine/knowledge.h) about an account. */
#define AH_FACT_ADMIN 1u /* holds an admin role: $admin_accounts, or granted a privileged role during the baseline */

/* --- building a ruleset ------------------------------------------------ */

ah_ruleset *ah_ruleset_new(ah_diag *diag);
void ah_ruleset_free(ah_ruleset *rs);

/* Variables ($name in rules). Set them before ah_ruleset_compile.
 * Names: [A-Za-z_][A-Za-z0-9_]*. Setting a name twice replaces the value.
 * AH_ERR_USAGE for a bad name or after compile. */
ah_status ah_ruleset_set_var(ah_ruleset *rs, const char *name, const char *value);
/* "name=value" as given to --set. */
ah_status ah_ruleset_set_var_arg(ah_ruleset *rs, const char *assignment);
/* The value of a variable, or NULL when it is not set. */
const char *ah_ruleset_var(const ah_ruleset *rs, const char *name);
/* A file of name=value lines (# comments, blank lines, optional "quotes"
 * around the value). Problems are reported with file:line. */
ah_status ah_ruleset_load_vars_file(ah_ruleset *rs, const char *path);

/* Parse a rule file, or every *.rules file under a directory (recursive,
 * sorted by name). Syntax errors are reported and counted; parsing goes on
 * with the next rule. Returns AH_OK, AH_ERR_SYNTAX (some rule did not
 * parse), AH_ERR_IO (unreadable path, reported), or AH_ERR_USAGE after
 * ah_ruleset_compile. */
ah_status ah_ruleset_load_path(ah_ruleset *rs, const char *path);
/* Parse rules from memory; `name` is used in messages and as the base for
 * relative paths (its directory). The text is copied. */
ah_status ah_ruleset_load_string(ah_ruleset *rs, const char *name, const char *text, size_t len);

/* Resolve and compile everything loaded: fields, variables, lists,
 * regexes, CIDR sets, details templates, the skip index. Call once.
 * AH_OK, or AH_ERR_SYNTAX when any error was reported (during load or
 * compile); the ruleset is then still usable for its valid rules. */
ah_status ah_ruleset_compile(ah_ruleset *rs);

/* Errors reported so far by this ruleset (load + compile). */
uint64_t ah_ruleset_error_count(const ah_ruleset *rs);

/* AH_ERR_NOMEM once loading or compiling ran out of memory (sticky; the
 * failure may also have been reported as an error), else AH_OK. A caller
 * tells the two apart with it: out of memory is not a fault of the rules. */
ah_status ah_ruleset_status(const ah_ruleset *rs);

/* --- chain of custody: what decided the hits besides the rule files ----- */

/* A variable as set: its value and where it came from. */
typedef struct ah_var_info {
    const char *name;
    const char *value;
    const char *source; /* "set" (--set, ah_ruleset_set_var[_arg]) or "vars-file" */
    const char *file;   /* the variables file for "vars-file", else NULL */
} ah_var_info;
/* Variables in the order they were first set (a later setting replaces the
 * value and the source). ah_ruleset_var_at returns false past the end. */
size_t ah_ruleset_var_count(const ah_ruleset *rs);
bool ah_ruleset_var_at(const ah_ruleset *rs, size_t i, ah_var_info *out);

/* A list file the compiled rules loaded (list("...") in any rule). */
typedef struct ah_list_file_info {
    const char *path;   /* as resolved: relative to its rule file's directory */
    const char *sha256; /* lowercase hex, of the bytes the values were read from */
    uint64_t size;      /* bytes read */
} ah_list_file_info;
/* Distinct list files, in the order compile loaded them; 0 before compile. */
size_t ah_ruleset_list_file_count(const ah_ruleset *rs);
const ah_list_file_info *ah_ruleset_list_file_at(const ah_ruleset *rs, size_t i);

/* --- looking at rules -------------------------------------------------- */

size_t ah_ruleset_count(const ah_ruleset *rs); /* every parsed rule, load order */
const ah_rule *ah_ruleset_rule(const ah_ruleset *rs, size_t i);
const ah_rule *ah_ruleset_find(const ah_ruleset *rs, const char *id);
size_t ah_ruleset_active_count(const ah_ruleset *rs); /* compiled and not skipped */
const ah_rule_meta *ah_rule_metadata(const ah_rule *r);

/* True if any active rule reads raw paths (a hunt without it never needs
 * the full JSON parse). */
bool ah_ruleset_needs_raw(const ah_ruleset *rs);

/* Tags, matched the way `hunt --tags` selects rules: a rule carries `tag`
 * when one of its tags equals it or is "attack." followed by it, ASCII
 * case-insensitive ("T1098.001" and "persistence" match "attack.t1098.001"
 * and "attack.persistence"). An empty tag matches nothing. */
bool ah_rule_has_tag(const ah_rule_meta *m, ah_span tag);
/* True when any loaded rule (active or skipped) carries tag. */
bool ah_ruleset_has_tag(const ah_ruleset *rs, ah_span tag);

/* The "first look" hook, for a pipeline that can find the source and the
 * canonical operation of a record before normalizing it. Returns 0 when no
 * rule can match such a record (skip it), otherwise AH_LOOK_CANDIDATE, plus
 * AH_LOOK_NEEDS_RAW when a candidate rule reads raw paths.
 * operation_canon.p == NULL means "operation not known yet": then every rule
 * for the source counts. Thread-safe. */
#define AH_LOOK_CANDIDATE 1u
#define AH_LOOK_NEEDS_RAW 2u
unsigned ah_ruleset_first_look(const ah_ruleset *rs, ah_source_kind source, ah_span operation_canon);

/* Print the compiled form of one rule (rule_id) or of every rule (NULL):
 * an indented tree with canonicalized literals, resolved accessors and the
 * index keys it is filed under. AH_ERR_USAGE when rule_id is unknown. */
ah_status ah_ruleset_explain(const ah_ruleset *rs, const char *rule_id, ah_buf *out);

/* --- matching ---------------------------------------------------------- */

/* Per-thread matching state (parsed-JSON cache, PCRE2 match data and JIT
 * stack, scratch). rs must be compiled; it may be NULL for a matcher used
 * only with ah_expr_eval. */
ah_matcher *ah_matcher_new(const ah_ruleset *rs);
void ah_matcher_free(ah_matcher *m);
/* The first look (on by default) skips work that cannot change a result,
 * such as a regex whose required literals are absent. Off gives the same
 * hits, slower: for tests that prove exactly that. */
void ah_matcher_set_first_look(ah_matcher *m, bool on);

/* Forget the cached parse of the previous event. ah_matcher_match and
 * ah_expr_eval do this themselves, and ah_rule_render_details does when
 * given another event (another struct, or other raw/body spans). Call it
 * before rendering only if one ah_event struct was refilled with a new
 * record whose JSON sits at the same address with the same length. */
void ah_matcher_begin_event(ah_matcher *m, const ah_event *ev);

/* Evaluate every candidate rule against ev. Stores up to cap matching rules
 * in hits, in rule order, and returns the number of matching rules (which
 * may exceed cap). No heap allocation for rules on normalized fields with
 * ==, contains, startswith, endswith, in [..], in list(), cidr. */
size_t ah_matcher_match(ah_matcher *m, const ah_event *ev, const ah_rule **hits, size_t cap);

/* Render a rule's details template for ev into out (appended). Values are
 * cut at 512 bytes with "…"; control characters become spaces; a missing
 * value renders as "-". Uses the parse cached by the last match/eval of ev.
 * A rule without a template appends nothing. */
ah_status ah_rule_render_details(ah_matcher *m, const ah_rule *r, const ah_event *ev, ah_buf *out);

typedef struct ah_matcher_stats {
    uint64_t events;          /* ah_matcher_match / ah_expr_eval calls */
    uint64_t rules_evaluated; /* rule conditions evaluated (after the index) */
    uint64_t json_parses;     /* raw/body trees parsed */
    uint64_t json_errors;     /* raw/body text that did not parse */
    uint64_t regex_limit;     /* regex matches abandoned at the match limit */
    uint64_t regex_skipped;   /* regexes not run: none of their required literals in the text (first look) */
} ah_matcher_stats;

const ah_matcher_stats *ah_matcher_get_stats(const ah_matcher *m);

/* AH_ERR_NOMEM once parsing a record's JSON or running a regex failed for
 * lack of memory (a condition may then have been false that was true: the
 * results since are unsure and the run should stop), else AH_OK. Sticky. */
ah_status ah_matcher_status(const ah_matcher *m);

/* Free the JSON trees parsed for the current event now rather than at the
 * next one (they are parsed again if asked for): a huge record's tree is
 * not kept beside the row made from it. */
void ah_matcher_release(ah_matcher *m);

/* --- correlation observations (phase 1 of correlation) ---------------- */

/* One event satisfying one condition of a correlation rule: the base
 * condition of an aggregation or first-seen rule (step 0), or one step of
 * a sequence. Spans borrow from the event and the matcher: valid during
 * the callback only (encode to keep). */
typedef struct ah_observation {
    const ah_rule *rule; /* NULL after ah_observation_decode: use rule_index */
    size_t rule_index;   /* ah_rule_meta.index */
    uint32_t step;
    ah_time time;
    ah_span key;     /* group / join key: the values of the key operands, case-folded, joined with 0x1F */
    ah_span value;   /* distinct() / first-seen value (case-folded), else empty */
    bool has_number; /* sum(): the value as a number */
    double number;
    ah_source_kind source;
    ah_span record_id, user, ip, app, target, operation;
    ah_span input, entry; /* origin path and archive entry (entry may be empty) */
    uint32_t origin;      /* the caller's own id for input+entry (0 = none): a caller that keeps
                                  a table of origins may leave input/entry empty and restore them */
    uint64_t record_no;
    ah_span app_id, workload, correlation_id; /* for the twin rule (parsers/formats/twin.h): twins count once */
    unsigned facts; /* AH_FACT_* the caller knows of the acting user (set before ah_correlator_feed; 0 from observe) */
} ah_observation;

typedef void (*ah_observation_fn)(void *ud, const ah_observation *obs);

/* True when some active rule is a correlation rule. */
bool ah_ruleset_has_correlations(const ah_ruleset *rs);

/* Evaluate the conditions of every correlation rule that can apply to ev
 * (through the skip index: events no correlation rule can use cost one
 * hash lookup) and call fn once per observation. Events without a time, or
 * without a value for a key / value operand, give no observation. Returns
 * the number of observations. Independent of ah_matcher_match: call both
 * for an event (in either order); the second reuses the JSON parse of the
 * first (the same caveat as ah_rule_render_details: see
 * ah_matcher_begin_event). */
size_t ah_matcher_observe(ah_matcher *m, const ah_event *ev, ah_observation_fn fn, void *ud);

/* Compact byte form of an observation (appended to out), and back. Decode
 * points the spans into `in` and leaves obs->rule NULL. AH_ERR_RECORD when
 * the bytes are not an encoded observation. */
ah_status ah_observation_encode(const ah_observation *obs, ah_buf *out);
ah_status ah_observation_decode(ah_span in, ah_observation *obs);

/* --- embedded tests (test-rules) --------------------------------------- */
/* The runner is analyzer/engine/rtest.c: it sits above rules and correlate
 * and runs each test's records through the session and the hunt, as `hunt`
 * reads and matches them. */

typedef struct ah_rule_test_case {
    const ah_rule *rule;
    const char *file;   /* rule file holding the `test` line */
    uint64_t line;      /* line of the `test` line */
    const char *input;  /* resolved test file path, or NULL for inline JSON */
    uint64_t record_no; /* 1-based record within the test input (0: none ran) */
    bool expect_hit;
    bool got_hit;
    bool passed;
    const char *error;   /* the test could not run (bad JSON, missing file...), else NULL */
    const char *skipped; /* the rule is skipped and has no test variables, else NULL */
    ah_span event;       /* the record as compact JSON (cut at 4 KiB), may be empty */
    /* Correlation tests run a whole series: record_no is 0, `event` is
     * empty, and the outcome is a number of hits. expect_hits is -1 for
     * `test hit` (one or more) / 0 for `test miss` / N for `test hits N`. */
    int64_t expect_hits;
    uint64_t got_hits;
    uint64_t series_len; /* records in the series */
    const char *note;    /* what the pipeline did with a record that gave no event (a duplicate
                               hunt drops), shown after the outcome; else NULL */
} ah_rule_test_case;

typedef struct ah_rule_test_totals {
    uint64_t passed;
    uint64_t failed;  /* wrong outcome or could not run */
    uint64_t skipped; /* tests of skipped rules */
} ah_rule_test_totals;

typedef void (*ah_rule_test_fn)(void *ud, const ah_rule_test_case *tc);

/* Run every embedded test of every rule (in rule order). fn (may be NULL)
 * is called once per test record, passed or not. Records go through the
 * pipeline `hunt` runs (read, decode, frame, normalize, deduplicate, match,
 * correlate), so a test passes exactly when `hunt` would hit; inline JSON
 * is written to a temporary file in $TMPDIR (else /tmp) for that. Returns
 * AH_OK when every test passed, AH_ERR_RECORD when some failed, or
 * AH_ERR_USAGE if rs is not compiled. */
ah_status ah_ruleset_run_tests(const ah_ruleset *rs, ah_rule_test_fn fn, void *ud, ah_rule_test_totals *totals);

/* The report for one test case, as test-rules prints it (appended to out):
 *   FAIL sp-credentials-added (rules/x.rules:14, record 1): expected hit, got miss
 *     event: {"Operation":"..."}                                                  */
ah_status ah_rule_test_format(const ah_rule_test_case *tc, ah_buf *out);

/* --- ad-hoc expressions (search) --------------------------------------- */

/* Compile a match expression (the language of a rule's `match`). Variables
 * come from vars (may be NULL); list("file") paths are relative to the
 * current directory. Errors go to diag with path "<expr>", line 1, and a
 * caret under the offending text. Returns NULL on error; then *st (when
 * st is not NULL) says AH_ERR_NOMEM for an allocation that failed, else
 * AH_ERR_USAGE (the errors are reported). */
ah_expr *ah_expr_compile(const char *text, const ah_ruleset *vars, ah_diag *diag, ah_status *st);
void ah_expr_free(ah_expr *e);
bool ah_expr_eval(ah_matcher *m, const ah_expr *e, const ah_event *ev);
bool ah_expr_needs_raw(const ah_expr *e);
ah_status ah_expr_explain(const ah_expr *e, ah_buf *out);

#endif
