/*
 * rules_private.h: the rule engine's internal types, shared by its files.
 *
 * Pipeline: source text -> lexer (lexer.c) -> parser (parser.c) -> AST
 * (ahi_anode) -> compiler (compile.c) -> compiled tree (ahi_cnode) + skip
 * index (ruleset.c) -> matcher (match.c). The AST is kept after compiling
 * because a rule with test variables is compiled twice (once with the
 * analyst's variables, once with the rule's own test values).
 *
 * Memory: everything the compiler produces lives in one arena per ruleset
 * (or per expression), freed at once; only PCRE2 codes need their own free
 * and are listed in the store. Nothing here is mutable after compile; the
 * per-thread state is struct ah_matcher.
 *
 * Size: the rule engine's internal types, shared by its dozen files; one
 * header keeps the AST, compiled tree and index in step.
 */
#ifndef AH_RULES_PRIVATE_H
#define AH_RULES_PRIVATE_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <cjson/cJSON.h>
#include <pcre2.h>

#include "rules.h"

/* --- limits (one place; see docs/rules.md "Limits") -------------------- */
#define AHI_MAX_RULE_FILE (16u << 20)  /* bytes per rule file */
#define AHI_MAX_DEPTH 64               /* expression nesting */
#define AHI_MAX_BIND 8                 /* nested any/all */
#define AHI_MAX_STEPS 64               /* steps in one path */
#define AHI_MAX_LIST_ENTRIES 1000000   /* values per list file */
#define AHI_MAX_LIST_LINE 4096         /* bytes per list file line */
#define AHI_MAX_DIR_DEPTH 16           /* directory recursion when loading */
#define AHI_DETAIL_VALUE_MAX 512       /* bytes per rendered details value */
#define AHI_MAX_MEMBERS 16             /* record members parsed alone per event */
#define AHI_MAX_INDEXED 128            /* members indexed per object (more: the whole tree) */
#define AHI_MAX_ADDRS 32               /* addresses kept per record for raw[*] CIDR tests */
#define AHI_MAX_WALK 64                /* nested arrays / decoded layers while walking */
#define AHI_REGEX_MATCH_LIMIT 1000000u /* PCRE2 match limit per match */
#define AHI_MAX_PRINT (1u << 20)       /* object printed for a string comparison */
#define AHI_EVENT_TEXT_MAX 4096        /* compact event shown by test-rules */

/* --- arena ------------------------------------------------------------- */
typedef struct ahi_chunk ahi_chunk;
typedef struct ahi_arena {
    ahi_chunk *head;
    size_t total;
    /* Sticky: an allocation from this arena failed, or a user of the arena
     * (parser, compiler, lists, Sigma) ran out of memory elsewhere and said
     * so (ahi_nomem). The ruleset's status reads it: an allocation failure
     * is out of memory (exit 6), never a rule error. */
    bool nomem;
} ahi_arena;

void ahi_arena_init(ahi_arena *a);
void ahi_arena_free(ahi_arena *a);
void *ahi_alloc(ahi_arena *a, size_t n);                  /* zeroed; NULL on OOM */
char *ahi_strndup(ahi_arena *a, const char *s, size_t n); /* NUL-terminated copy */
char *ahi_strdup(ahi_arena *a, const char *s);
/* Grow an arena array (copying); *cap doubles. Returns false on OOM. */
bool ahi_grow(ahi_arena *a, void **arr, size_t *cap, size_t n, size_t elem);
/* Record an allocation failure outside the arena (malloc, ah_buf, cJSON,
 * PCRE2) of work whose results live in the arena; returns false. */
bool ahi_nomem(ahi_arena *a);

/* --- source files and diagnostics -------------------------------------- */
typedef struct ahi_src {
    char *path; /* as given (messages) */
    char *dir;  /* directory for relative paths ("." when none) */
    char *text; /* NUL-terminated */
    size_t len;
    size_t *lines; /* offsets of line starts */
    size_t nlines;
    bool sigma; /* translated from a Sigma file: no tests expected, lines are the translation's */
    struct ahi_src *next;
} ahi_src;

/* Build a source (copies text). NULL on OOM. */
ahi_src *ahi_src_new(ahi_arena *a, const char *path, const char *text, size_t len);
void ahi_src_locate(const ahi_src *s, size_t off, uint64_t *line, uint64_t *col);
/* Report "path:line:col: <sev>: msg" + source line + carets under
 * [off, off+len). */
void ahi_report(ah_diag *d, const ahi_src *s, size_t off, size_t len, ah_severity sev, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* A details placeholder being parsed or compiled: problems inside it are
 * reported at [off, off+len) of src (the template in the rule file),
 * quoting `quote`. */
typedef struct ahi_placeholder {
    const ahi_src *src;
    size_t off, len;
    ah_span quote;
} ahi_placeholder;
/* The one reporting helper of the parser and the compilers: a problem at
 * [off, off+len) of src; an error is counted in *errors (NULL: not
 * counted); with `in`, it is reported at the placeholder instead as
 * "in details placeholder '<quote>': msg". Messages are cut at 480 bytes. */
void ahi_complain(ah_diag *d, const ahi_src *src, size_t off, size_t len, ah_severity sev, uint64_t *errors,
                  const ahi_placeholder *in, const char *fmt, ...) __attribute__((format(printf, 8, 9)));
/* Case-insensitive edit distance for "did you mean" hints (99 when a
 * string is over 40 bytes). */
size_t ahi_edit_distance_ci(const char *a, size_t an, const char *b, size_t bn);

/* --- lexer ------------------------------------------------------------- */
typedef enum ahi_tok {
    AHI_T_EOF = 0,
    AHI_T_ERROR, /* already reported */
    AHI_T_EOL,   /* end of line (word mode only) */
    AHI_T_WORD,  /* bare word (word mode) */
    AHI_T_IDENT,
    AHI_T_STRING, /* s/n: unescaped value */
    AHI_T_NUMBER, /* num, s/n: text */
    AHI_T_VAR,    /* $name; s/n: name */
    AHI_T_REGEX,  /* s/n: pattern; flags */
    AHI_T_JSON,   /* inline JSON value, s/n: its text */
    AHI_T_LPAREN,
    AHI_T_RPAREN,
    AHI_T_LBRACK,
    AHI_T_RBRACK,
    AHI_T_LBRACE,
    AHI_T_RBRACE,
    AHI_T_COMMA,
    AHI_T_DOT,
    AHI_T_COLON,
    AHI_T_STAR,
    AHI_T_EQ,
    AHI_T_ASSIGN,
    AHI_T_NE,
    AHI_T_LT,
    AHI_T_LE,
    AHI_T_GT,
    AHI_T_GE,
    AHI_T_BADOP, /* an operator-like character run that is not an operator */
} ahi_tok;

typedef enum ahi_lexmode {
    AHI_LEX_EXPR,  /* expressions and rule structure; newlines are spaces */
    AHI_LEX_WORD,  /* metadata word lists: words, strings, EOL */
    AHI_LEX_REGEX, /* after `matches`: /re/flags or a string */
    AHI_LEX_TEST,  /* after `test hit|miss`: a string (path) or inline JSON */
} ahi_lexmode;

typedef struct ahi_token {
    ahi_tok kind;
    size_t off, len; /* source range */
    const char *s;   /* decoded text (arena or source), see ahi_tok */
    size_t n;
    double num;
    char flags[8]; /* regex flags */
    bool triple;   /* string was """triple-quoted""" */
} ahi_token;

typedef struct ahi_lexer {
    const ahi_src *src;
    size_t pos;
    ahi_arena *arena;
    ah_diag *diag;
    uint64_t *errors;
} ahi_lexer;

ahi_token ahi_lex(ahi_lexer *lx, ahi_lexmode mode);
/* Append s[0..n) as a string literal the lexer reads back as s: one line,
 * quotes, backslashes and control characters escaped (explain, sigma). */
void ahi_put_string(ah_buf *out, const char *s, size_t n);
const char *ahi_tok_name(ahi_tok t);

/* --- AST --------------------------------------------------------------- */
typedef enum ahi_val_kind {
    AHI_V_STRING,
    AHI_V_NUMBER,
    AHI_V_VAR,
    AHI_V_REGEX,
    AHI_V_BOOL,
} ahi_val_kind;

typedef struct ahi_aval {
    ahi_val_kind kind;
    const char *s; /* string / number text / var name / regex pattern */
    size_t n;
    double num;
    bool b;
    char flags[8];
    size_t off, len;
} ahi_aval;

typedef enum ahi_step_kind {
    AHI_STEP_KEY,    /* .key or ["key"] */
    AHI_STEP_INDEX,  /* [N], negative from the end */
    AHI_STEP_ALL,    /* [*] */
    AHI_STEP_SELECT, /* [Key="value"] */
    AHI_STEP_JSON,   /* json(...) boundary: decode a string holding JSON */
} ahi_step_kind;

typedef struct ahi_astep {
    ahi_step_kind kind;
    const char *key; /* NUL-terminated (KEY, SELECT) */
    size_t keylen;
    long long index;
    ahi_aval sel; /* SELECT value */
    size_t off, len;
} ahi_astep;

typedef struct ahi_aoperand {
    const char *head; /* root identifier: field, pseudo-field, raw, bound name */
    size_t headlen;
    size_t head_off;
    ahi_astep *steps;
    size_t nsteps;
    size_t off, len; /* whole operand */
} ahi_aoperand;

/* The comparison operators: one row each in ops.def (spelling, negation,
 * value, operands, case, evaluator, Sigma modifier). */
typedef enum ahi_op {
#define AHI_OP(id, spelling, negated, arg, on, cased, eval, sigma, cut) AHI_OP_##id,
#include "ops.def"
#undef AHI_OP
    AHI_OP_COUNT
} ahi_op;

/* What follows an operator (ops.def ARG). */
typedef enum ahi_arg {
    AHI_ARG_NONE,    /* exists, is empty */
    AHI_ARG_VALUE,   /* one literal or $variable */
    AHI_ARG_ORDER,   /* a number, or a string holding a timestamp */
    AHI_ARG_REGEX,   /* /re/flags or a string */
    AHI_ARG_LIST,    /* [v, ...] or list("file") */
    AHI_ARG_CIDR,    /* [prefix, ...] or list("file") */
    AHI_ARG_OPERAND, /* another operand of the same event */
} ahi_arg;

/* Operands beyond text an operator applies to (ops.def ON). */
#define AHI_ON_TIME 1u /* time */
#define AHI_ON_ENUM 2u /* source, result */

typedef struct ahi_opinfo {
    const char *spelling; /* as written, words separated by one space */
    const char *negated;  /* NULL: cannot be negated in place */
    ahi_arg arg;
    unsigned on;
    bool cased;        /* `cased` changes it */
    const char *sigma; /* Sigma modifier mapped to it, or NULL */
    const char *cut;   /* message when a longer spelling stops short */
} ahi_opinfo;

/* ops.c: the rows of ops.def, indexed by ahi_op. */
extern const ahi_opinfo ahi_ops[AHI_OP_COUNT];

/* Operator lists for messages, generated from ops.def (ops.c). */
typedef enum ahi_oplist {
    AHI_OPLIST_ALL,  /* every operator: "==, !=, <, ..., contains, ..., is empty" */
    AHI_OPLIST_NOT,  /* the words `not` may precede: "contains, ... or exists" */
    AHI_OPLIST_TIME, /* those that apply to time: "==, !=, ... and exists" */
    AHI_OPLIST_ENUM, /* those that apply to source and result: "==, != and in [...]" */
} ahi_oplist;
/* Writes the list into buf (cut to size, always terminated); returns buf. */
const char *ahi_oplist_text(ahi_oplist which, char *buf, size_t size);

typedef enum ahi_node_kind {
    AHI_N_AND,
    AHI_N_OR,
    AHI_N_NOT,
    AHI_N_CONST,
    AHI_N_CMP,
    AHI_N_QUANT,
} ahi_node_kind;

typedef struct ahi_anode {
    ahi_node_kind kind;
    size_t off, len;
    struct ahi_anode **kids;
    size_t nkids;
    bool cval; /* CONST */
    /* CMP */
    ahi_aoperand opd;
    ahi_op op;
    bool negate; /* !=, not contains, not in, is not empty ... */
    bool cased;
    size_t op_off, op_len;
    ahi_aval *vals; /* one value, or the items of [..] */
    size_t nvals;
    bool list_file;    /* vals[0] is the list("path") */
    ahi_aoperand *ref; /* AHI_ARG_OPERAND: the other operand */
    /* QUANT: kids[0] is the body */
    bool all;
    const char *name;
    size_t namelen;
    size_t name_off;
    ahi_aoperand over;
} ahi_anode;

/* --- compiled form ----------------------------------------------------- */
typedef enum ahi_opd_kind {
    AHI_OPD_FIELD,   /* normalized field span */
    AHI_OPD_OPCANON, /* operation, canonical form */
    AHI_OPD_OPRAW,   /* operation_raw: as written */
    AHI_OPD_TIME,
    AHI_OPD_SOURCE,
    AHI_OPD_FORMAT,
    AHI_OPD_RESULT,
    AHI_OPD_RAWTEXT, /* `raw` alone: the record's JSON text */
    AHI_OPD_PATH,    /* raw.* path or a path from a bound element */
} ahi_opd_kind;

typedef struct ahi_cstep {
    ahi_step_kind kind;
    const char *key; /* NUL-terminated */
    size_t keylen;
    long long index;
    const char *sel; /* SELECT value text */
    size_t seln;
} ahi_cstep;

typedef struct ahi_operand {
    ahi_opd_kind kind;
    ah_field_id field;
    int slot; /* PATH: -1 = the record, else a bound element */
    const char *slot_name;
    ahi_cstep *steps;
    size_t nsteps;
} ahi_operand;

/* Hash set of strings (list literals and list files). */
typedef struct ahi_strset {
    struct ahi_slot {
        const char *s;
        size_t n;
        uint64_t h;
    } * slots;
    size_t mask; /* slots - 1 (power of two) */
    size_t count;
    bool cased;
    const char **items; /* distinct values in input order, for explain */
    size_t nitems;
} ahi_strset;

/* Sorted, merged address ranges in 128-bit IPv6 space (IPv4 mapped). */
typedef struct ahi_cidrset {
    struct ahi_range {
        uint64_t lo_hi, lo_lo, hi_hi, hi_lo;
    } * r;
    size_t n;
    const char **items; /* prefixes as written, for explain */
    size_t nitems;
} ahi_cidrset;

typedef struct ahi_lit {
    const char *s; /* text (canonicalized for operation, folded for ci) */
    size_t n;
    bool is_num;
    double num;
    bool is_time;
    ah_time time;
} ahi_lit;

/* Literals a regex cannot match without (atoms.c): folded, any of them. */
typedef struct ahi_atoms {
    char **s;
    size_t *len;
    uint16_t *key;   /* 15-bit key of the three bytes ending each atom's first minlen */
    uint32_t *order; /* atom indices sorted by key: a candidate's atoms by binary search */
    size_t n, minlen;
    uint8_t shift[32768]; /* Wu-Manber jump per key (atoms.c) */
} ahi_atoms;

/* NULL when no useful set can be derived (the regex then always runs). */
ahi_atoms *ahi_atoms_of_regex(ahi_arena *a, const char *pattern, size_t n, bool caseless, bool extended);
/* False only when text (compared case-folded) holds none of the atoms. */
bool ahi_atoms_present(const ahi_atoms *at, const char *text, size_t n);
/* present[i] = 1 for every atom i in text (case-folded), 0 for the others. */
void ahi_atoms_mark(const ahi_atoms *at, const char *text, size_t n, uint8_t *present);

/* The values whose literals are scanned for together: the record text
 * (group 0), each normalized field (1 + field), the canonical operation and
 * the operation as written. Values reached by raw paths vary per walk and
 * keep their own per-rule test. */
#define AHI_LIT_GROUPS (AH_F_COUNT + 3)
#define AHI_LIT_GROUP_RAW 0
#define AHI_LIT_GROUP_OPCANON (AH_F_COUNT + 1)
#define AHI_LIT_GROUP_OPRAW (AH_F_COUNT + 2)

typedef struct ahi_cnode {
    ahi_node_kind kind;
    struct ahi_cnode **kids;
    size_t nkids;
    bool cval;
    /* CMP */
    ahi_operand opd;
    ahi_op op;
    bool negate;
    bool cased;
    ahi_lit lit;
    const ahi_strset *set;   /* IN */
    const ahi_cidrset *cidr; /* CIDR */
    ahi_operand *ref;        /* AHI_ARG_OPERAND: the other operand */
    const char *list_path;   /* IN / CIDR from a list file (explain) */
    pcre2_code *re;          /* MATCHES */
    const ahi_atoms *atoms;  /* MATCHES: run re only when one is in the text (NULL: always) */
    /* CONTAINS / MATCHES on the record text, a field or the operation: the
     * literals one of which must be in the value, as lit_first.. + lit_count
     * of ruleset lit_groups[lit_group] (count 0: none) */
    uint32_t lit_first, lit_count;
    uint8_t lit_group;
    const char *re_src;
    char re_flags[8];
    /* QUANT */
    bool all;
    int slot;
    const char *bind_name;
    ahi_operand over;
} ahi_cnode;

/* A loaded list file, shared by every rule that uses it the same way. */
typedef enum ahi_list_mode {
    AHI_LIST_CI,      /* case-insensitive values */
    AHI_LIST_CASED,   /* exact values */
    AHI_LIST_OPCANON, /* operation names, canonicalized */
    AHI_LIST_CIDR,    /* address prefixes */
} ahi_list_mode;

typedef struct ahi_listfile {
    const char *path; /* resolved */
    char sha256[65];  /* of the bytes read (chain of custody) */
    uint64_t size;
    ahi_list_mode mode;
    const ahi_strset *set;
    const ahi_cidrset *cidr;
    struct ahi_listfile *next;
} ahi_listfile;

/* Owns compiled artefacts (the ruleset, or one expression). */
typedef struct ahi_store {
    ahi_arena arena;
    pcre2_code **codes; /* heap array */
    size_t ncodes, capcodes;
    ahi_listfile *lists;
} ahi_store;

void ahi_store_init(ahi_store *st);
void ahi_store_free(ahi_store *st);

typedef struct ahi_var {
    char *name;
    char *value;
    const char *file; /* the variables file it came from, NULL when set directly (--set) */
    struct ahi_var *next;
} ahi_var;

/* Details template. */
typedef struct ahi_tpart {
    const char *text; /* literal text when opd is NULL */
    size_t n;
    ahi_operand *opd;
} ahi_tpart;

typedef struct ahi_template {
    ahi_tpart *parts;
    size_t nparts;
} ahi_template;

typedef struct ahi_test {
    bool expect_hit;
    int64_t expect_hits; /* correlation: -1 (hit: one or more), 0 (miss), N (`test hits N`) */
    bool inline_json;
    const char *text; /* inline JSON, or the path as written */
    size_t n;
    size_t off, len; /* source range of the test value */
    uint64_t line;
} ahi_test;

typedef struct ahi_tvar {
    const char *name;
    const char *value;
} ahi_tvar;

/* --- correlation rules --------------------------------------------------- */

/* Aggregate functions and the placeholders of a correlation template. */
typedef enum ahi_agg { AHI_AGG_COUNT, AHI_AGG_DISTINCT, AHI_AGG_SUM } ahi_agg;

/* `when distinct(a) >= 2 or distinct(b per source) >= 2 ...`: the terms of
 * an aggregation's condition (the first one is also in ahi_corr's own agg,
 * cmp, threshold); any term holding fires. `per source` counts the values
 * of each source (ual, signin, entra_audit) apart and takes the largest. */
#define AHI_MAX_WHEN_TERMS 4
typedef struct ahi_wterm {
    ahi_agg agg;
    ahi_aoperand opd;
    ahi_operand c; /* compiled */
    ahi_op cmp;
    double threshold;
    bool per_source;
    size_t off, len; /* the term as written */
} ahi_wterm;

typedef enum ahi_cvar {
    AHI_CV_TEXT = 0,
    AHI_CV_COUNT,
    AHI_CV_DISTINCT,
    AHI_CV_SUM,
    AHI_CV_WINDOW,
    AHI_CV_GROUP,
    AHI_CV_FIRST_TIME,
    AHI_CV_LAST_TIME,
    AHI_CV_VALUE,
    AHI_CV_USER,
    AHI_CV_IP,
    AHI_CV_APP,
    AHI_CV_TARGET,
    AHI_CV_OPERATION,
    AHI_CV_SOURCE,
    AHI_CV_RECORD_ID,
    AHI_CV_BASELINE,
    AHI_CV_LAST_USER,
    AHI_CV_LAST_IP,
    AHI_CV_LAST_APP,
    AHI_CV_AGGREGATES,
    AHI_CV_COUNT_
} ahi_cvar;

typedef struct ahi_ctpart {
    ahi_cvar var; /* AHI_CV_TEXT: literal text */
    const char *text;
    size_t n;
} ahi_ctpart;

/* One condition producing observations: the `match` + `group` of an
 * aggregation / first-seen rule, or one `step` of a sequence. */
typedef struct ahi_cstep_def {
    const char *name; /* step name ("" for the base condition) */
    size_t off, len;  /* name (or rule id) in the source */
    bool absent;      /* `step not NAME`: must NOT follow (last step only) */
    ahi_anode *match;
    size_t match_off;
    ahi_aoperand *keys; /* key / group operands */
    bool *key_domain;   /* domain(FIELD): the part after the last '@' */
    size_t nkeys, capkeys;
    size_t keys_off; /* where `key` / `group` was written (0: not given) */
    /* compiled */
    ahi_cnode *cond;
    ahi_operand *ckeys;
    const char **pinned; /* canonical operations the condition pins, NULL when not pinned */
    size_t npinned;
    const ahi_strset *pinset;
    /* `when AGG CMP N` in the first step of a sequence: the step is reached
     * when its events within the sequence's `within` satisfy it. */
    bool has_when;
    ahi_agg agg;
    ahi_aoperand agg_opd;
    ahi_op cmp;
    double threshold;
    size_t when_off, when_len;
    ahi_operand cagg; /* compiled distinct / sum operand */
} ahi_cstep_def;

typedef struct ahi_corr {
    ahi_cstep_def *steps;
    size_t nsteps, capsteps;
    /* window / within / baseline as written, for errors */
    int64_t window_ns;
    size_t window_off, window_len;
    int64_t baseline_ns;
    size_t baseline_off, baseline_len;
    /* aggregation: when AGG(opd) CMP threshold */
    bool has_when;
    ahi_agg agg;
    ahi_aoperand agg_opd;
    ahi_op cmp;       /* LT LE GT GE EQ */
    double threshold; /* the number; with relative, the factor */
    size_t when_off, when_len;
    /* `when AGG CMP F x baseline [at least N]`: the threshold is F times the
     * group's largest window value during the learning period (`baseline`). */
    bool relative;
    size_t factor_off, factor_len;     /* the number F */
    size_t relative_off, relative_len; /* `x baseline` */
    bool has_floor;
    double floor;                /* N: the window value must also reach it */
    size_t floor_off, floor_len; /* `at least N` */
    /* `when ... outside baseline`: only groups not seen during the learning
     * period aggregate (an address new to the tenant). */
    bool outside;
    size_t outside_off, outside_len;
    /* every term of `when` (term[0] repeats agg, cmp, threshold); nterms > 1
     * or term[0].per_source: the observation's value holds one part per
     * term (0x1F between), and the correlator counts one set per term and source */
    ahi_wterm term[AHI_MAX_WHEN_TERMS];
    size_t nterms;
    bool multi;
    /* first-seen: value operand(s) */
    ahi_aoperand *values;
    bool *value_domain;
    size_t nvalues, capvalues;
    size_t values_off;
    /* sequence: `shows STEP`, the step whose event speaks for the row (its
     * user, address, application, target); 0, the first step, by default */
    const char *shows_name;
    size_t shows_off, shows_len;
    size_t shows;
    /* compiled */
    ahi_operand cagg; /* distinct / sum operand */
    ahi_operand *cvalues;
    ahi_ctpart *tparts; /* details template */
    size_t ntparts;
} ahi_corr;

struct ah_rule {
    ah_rule_meta meta;
    ahi_corr *corr; /* correlation rules only */
    const ahi_src *src;
    size_t id_off, id_len;
    ahi_anode *match;
    const char *details_text; /* unescaped template */
    size_t details_off, details_len;
    ahi_test *tests;
    size_t ntests, captests;
    ahi_tvar *tvars;
    size_t ntvars, captvars;
    bool failed; /* parse or compile error */
    /* compiled */
    ahi_cnode *cond;          /* NULL when skipped or failed */
    ahi_cnode *test_cond;     /* compiled with test variables, or NULL */
    const char *test_skipped; /* why tests cannot run, else NULL */
    ahi_template *tmpl;
    const char **pinned; /* canonical operations the rule is filed under */
    size_t npinned;
};

#define AHI_MAX_RULE_VARS 32

/* Compile-time context for one condition. */
typedef struct ahi_cctx {
    ahi_store *store;
    ah_diag *diag;
    uint64_t *errors;
    const ahi_src *src;
    const ahi_var *vars;
    const ahi_tvar *tvars;
    size_t ntvars;
    const char *basedir;                      /* for list("...") */
    const char *missing_var;                  /* first unset variable met (the rule is skipped) */
    const char *used_vars[AHI_MAX_RULE_VARS]; /* every variable read, once each */
    size_t nused_vars;
    bool quiet; /* do not report (second compile of the same AST) */
    bool needs_raw;
    int nbind;
    struct {
        const char *name;
        size_t n;
    } bind[AHI_MAX_BIND];
    unsigned sources; /* the rule's sources (0 for expressions) */
    /* Details placeholders: report at the template string instead (set
     * while one is compiled: rd.quote.p not NULL). */
    ahi_placeholder rd;
} ahi_cctx;

/* Problems met while compiling a rule (compile.c, corr.c). A quiet compile
 * (the second one of a rule, with its test variables) neither reports nor
 * counts: the first compile already did. */
#define ahi_cerr(cx, off, len, ...)                                                                                    \
    ((cx)->quiet ? (void)0                                                                                             \
                 : ahi_complain((cx)->diag, (cx)->src, (off), (len), AH_SEV_ERROR, (cx)->errors,                       \
                                (cx)->rd.quote.p ? &(cx)->rd : NULL, __VA_ARGS__))
#define ahi_cwarn(cx, off, len, ...)                                                                                   \
    ((cx)->quiet ? (void)0 : ahi_complain((cx)->diag, (cx)->src, (off), (len), AH_SEV_WARNING, NULL, NULL, __VA_ARGS__))

/* parser.c */
typedef struct ahi_parser ahi_parser;
/* Parse one rule file into rules appended via the callback. */
typedef bool (*ahi_rule_sink)(void *ud, ah_rule *r);
void ahi_parse_file(const ahi_src *src, ahi_arena *a, ah_diag *d, uint64_t *errors, ahi_rule_sink sink, void *ud);
/* Parse a standalone expression (search). NULL on error (reported). */
ahi_anode *ahi_parse_expr(const ahi_src *src, ahi_arena *a, ah_diag *d, uint64_t *errors);
/* Parse one operand from a details placeholder; errors are reported at
 * [err_off, err_off+err_len) of err_src. */
ahi_aoperand *ahi_parse_operand_text(const char *text, size_t n, ahi_arena *a, ah_diag *d, uint64_t *errors,
                                     const ahi_src *err_src, size_t err_off, size_t err_len);

/* compile.c */
ahi_cnode *ahi_compile_node(ahi_cctx *cx, const ahi_anode *n);
bool ahi_compile_operand(ahi_cctx *cx, const ahi_aoperand *a, ahi_operand *out);
ahi_template *ahi_compile_template(ahi_cctx *cx, const char *text, size_t n, size_t err_off, size_t err_len);
/* Canonical operations the condition pins (top-level and/or of
 * operation == / in). false when the rule is not pinned. */
bool ahi_pinned_ops(const ahi_cnode *n, const char ***ops, size_t *nops, ahi_arena *a);

/* lists.c */
ahi_strset *ahi_strset_build(ahi_arena *a, const ahi_lit *items, size_t n, bool cased);
bool ahi_strset_has(const ahi_strset *s, const char *p, size_t n);
/* The hash ahi_strset_has uses for case-insensitive sets, and a lookup with
 * it precomputed (cased sets ignore it and hash themselves). */
uint64_t ahi_strset_hash_ci(const char *p, size_t n);
bool ahi_strset_has_h(const ahi_strset *s, const char *p, size_t n, uint64_t h_ci);
ahi_cidrset *ahi_cidrset_build(ahi_arena *a, const ahi_lit *items, size_t n, size_t *bad_index);
bool ahi_cidrset_has_ip(const ahi_cidrset *c, const void *ip16);
bool ahi_cidrset_has_text(const ahi_cidrset *c, const char *p, size_t n);
/* Parse an address as CIDR lookups do (brackets/port stripped). */
bool ahi_parse_ip(const char *p, size_t n, uint8_t out[16]);
/* Read a list file: one value per line, # comments, blanks skipped, values
 * trimmed and stripped of zero-width characters. *why on failure. */
/* Read a list file's values; sha256/size describe the bytes read. */
bool ahi_list_read(ahi_arena *a, const char *path, ahi_lit **items, size_t *n, char sha256[65], uint64_t *size,
                   const char **why);
/* Strip zero-width characters (U+200B..U+200F, U+2060, U+FEFF) in place; returns the new length. */
size_t ahi_strip_zero_width(char *s, size_t n);

/* match.c */
bool ahi_eval(ah_matcher *m, const ahi_cnode *n);
/* Render every value of an operand for the current event (as details do,
 * joined with ", "); false when it has none. */
bool ahi_render_operand(ah_matcher *m, const ahi_operand *o, ah_buf *out);
/* Start on ev unless the matcher is already on it (keeps its parse). */
void ahi_matcher_enter(ah_matcher *m, const ah_event *ev);

/* corrcompile.c: compile a correlation rule's steps, keys, template; false on error (reported). */
bool ahi_corr_compile(ah_ruleset *rs, ah_rule *r, ahi_cctx *cx);
/* Build the observation index after every rule is compiled. */
bool ahi_corr_build_index(ah_ruleset *rs);
/* Render a correlation template; vals[AHI_CV_x] are the texts of the placeholders. */
ah_status ahi_corr_render(const ah_rule *r, const ah_span *vals, ah_buf *out);

/* explain.c */
ah_status ahi_explain_node(ah_buf *out, const ahi_cnode *n, int depth);
ah_status ahi_explain_operand(ah_buf *out, const ahi_operand *o);

/* opindex.c: build the skip index of the loaded rules (false: out of
 * memory); look an operation up (NULL when no rule is filed under op). */
bool ahi_opmap_build(ah_ruleset *rs);
const struct ahi_opentry *ahi_opmap_find(const ah_ruleset *rs, ah_span op);

/* misc string helpers (lists.c) */
bool ahi_eq_ci(const char *a, size_t an, const char *b, size_t bn);
const char *ahi_find_ci(const char *hay, size_t hn, const char *needle, size_t nn);
bool ahi_parse_number(const char *p, size_t n, double *out);

struct ah_ruleset {
    ah_diag *diag;
    uint64_t errors;
    ahi_store store;
    ahi_src *srcs;
    ah_rule **rules;
    size_t nrules, caprules;
    /* rule id -> first rule with that id: open addressing, slot = rule index + 1
     * (0 empty), at most half full; heap-owned (duplicate check and find in O(1)) */
    uint32_t *idmap;
    size_t idmask; /* slots - 1, 0 when empty */
    ahi_var *vars;
    ah_list_file_info *listinfo; /* distinct list files in load order (arena), set by compile */
    size_t nlistinfo;
    bool compiled;
    size_t active;
    bool needs_raw;
    /* skip index */
    uint32_t *unpinned[AH_SOURCE_COUNT];
    size_t nunpinned[AH_SOURCE_COUNT];
    bool unpinned_raw[AH_SOURCE_COUNT];
    bool pinned_any[AH_SOURCE_COUNT]; /* some pinned rule covers the source */
    bool pinned_raw[AH_SOURCE_COUNT];
    struct ahi_opentry {
        const char *op; /* canonical */
        size_t n;
        uint64_t h;
        uint32_t *rules; /* sorted rule indices */
        size_t nrules, cap;
        unsigned sources;     /* union of the rules' sources */
        unsigned raw_sources; /* sources for which some rule needs raw */
    } * opmap;
    size_t opmask; /* opmap slots - 1, 0 when empty */
    /* correlation observation index: every step of every active correlation rule */
    struct ahi_cunit {
        ah_rule *rule;
        uint32_t step;
    } * cunits;
    size_t ncunits;
    bool corr_unpinned[AH_SOURCE_COUNT]; /* some unit for the source pins no operation */
    unsigned corr_pinned_sources;        /* sources of the pinned units */
    bool corr_raw;                       /* some unit reads raw paths */
    const ahi_strset *corr_ops;          /* union of the pinned operations */
    size_t ncorr_rules;
    /* First look: the literals of every CONTAINS / MATCHES of the rules,
     * grouped by the value they test (ahi_lit_group), so that one scan of
     * that value per event finds them all (atoms.c). NULL: no literal. */
    ahi_atoms *lit_groups[AHI_LIT_GROUPS];
};

/* Index the literals of the rules' tests, per tested value (atoms.c). */
bool ahi_literals_build(ah_ruleset *rs);

struct ah_expr {
    ahi_store store;
    ahi_src *src;
    ahi_cnode *root;
    bool needs_raw;
};

struct ah_matcher {
    const ah_ruleset *rs;
    ah_status status; /* AH_ERR_NOMEM once a tree or a regex match ran out of memory */
    const ah_event *ev;
    ah_span ev_raw, ev_body; /* the spans the cached trees were parsed from */
    uint64_t seq;
    cJSON *body;
    cJSON *raw;
    bool body_done, raw_done;
    /* First look: members a key path reads, parsed alone (the record's
     * whole tree is parsed only when a path needs more than members). */
    struct ahi_member {
        const char *at; /* the member value's text */
        cJSON *tree;
    } member[AHI_MAX_MEMBERS];
    size_t nmember;
    /* First look: the members of the body and of the full record, found by
     * one scan each on first use (index[0] body, index[1] record). */
    struct ahi_index {
        bool done, ok; /* ok: scanned and every member fits */
        size_t n;
        ah_span key[AHI_MAX_INDEXED], val[AHI_MAX_INDEXED];
        uint32_t sig[AHI_MAX_INDEXED]; /* key_sig of each key; 0 for a key with escapes */
        bool escaped;                  /* some key has escapes: look up by scanning */
        uint8_t slot[256];             /* open addressing by key_sig: member index + 1 */
    } index[2];
    /* First look: the addresses among the body's member strings (raw[*]),
     * parsed once per event for every CIDR condition. */
    uint8_t *lit_present[AHI_LIT_GROUPS]; /* per atom of rs->lit_groups[g], valid while lit_seq[g] == seq */
    uint64_t lit_seq[AHI_LIT_GROUPS];
    bool ips_done;
    int ips_state; /* 1 collected, -1 take the general path */
    size_t nips;
    uint8_t ips[AHI_MAX_ADDRS][16];
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    pcre2_jit_stack *jit;
    cJSON *slots[AHI_MAX_BIND];
    ah_buf scratch;
    ah_matcher_stats stats;
    bool no_prefilter; /* tests: evaluate without the first look */
    /* Per-event caches for normalized fields, valid while *_seq == seq: the
     * parsed address (CIDR rules) and the case-folded hash (in-set rules),
     * so a few hundred rules on one field parse and hash it once. */
    uint64_t ip_seq[AH_F_COUNT];
    bool ip_ok[AH_F_COUNT];
    uint8_t ip[AH_F_COUNT][16];
    uint64_t hash_seq[AH_F_COUNT + 1];
    uint64_t hash[AH_F_COUNT + 1];    /* [AH_F_COUNT]: the canonical operation */
    ah_buf obs_key, obs_val, obs_tmp; /* observation key / value text */
};

#endif
