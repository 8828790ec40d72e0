/*
 * parser.c: hand-written recursive descent over the rule language.
 *
 * The parser pulls one token at a time and picks the lexer mode for the
 * next token from what it expects (word lists, /regex/, inline JSON), so
 * the grammar needs no lookahead beyond the current token. Precedence, low
 * to high: or, and, not, comparison. Errors are reported with a caret and
 * counted; the parser then skips to the next line that starts a metadata
 * key, a `}` or a `rule`, so one run reports every broken rule and more
 * than one problem per rule. A rule with any error is kept (so duplicate
 * ids and the like are still seen) but marked failed and never compiled.
 *
 * Correlation rules open with `correlation`, `sequence` or `first-seen`
 * instead of `rule` and add the keys group, window, when, value, baseline,
 * within and step (finish_correlation checks which kind needs which).
 *
 * Grammar (docs/rules.md has the prose):
 *   file    := (rule | corr)*
 *   rule    := 'rule' ID '{' entry* '}'
 *   corr    := ('correlation'|'sequence'|'first-seen') ID '{' (entry | centry)* '}'
 *   centry  := ('group'|'value') key (',' key)* | ('window'|'within'|'baseline') DURATION
 *            | 'when' AGG CMP NUMBER ['x' 'baseline'] ['at' 'least' NUMBER]
 *            | 'step' ['not'] name '{' ('match' expr | 'key' keys)* '}'
 *   key     := operand | 'domain' '(' operand ')'
 *   entry   := TEXTKEY string+ | WORDKEY word* EOL | 'match' expr
 *            | 'details' string+ | 'test' ('hit'|'miss') (string|json)
 *            | 'test' 'set' name string
 *   expr    := and ('or' and)*
 *   and     := not ('and' not)*
 *   not     := 'not' not | primary
 *   primary := '(' expr ')' | 'true' | 'false'
 *            | ('any'|'all') operand 'as' name ':' not
 *            | operand predicate ['cased']
 *   operand := 'json' '(' operand ')' step* | name step*
 *   step    := '.' key | '[' (N | '*' | '' | string | key ('='|'==') value) ']'
 *
 * Size: one recursive-descent parser for the whole rule language (rules,
 * the three correlation kinds, tests, expressions): the productions share
 * the token cursor, error recovery and metadata helpers, and the grammar
 * reads best in one place. A split would follow the rule kinds (correlation
 * keys to a corr_parse.c).
 */
#include "rules_private.h"

#include "../../parsers/frame/jscan.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

typedef enum kw {
    KW_NONE = 0,
    KW_AND,
    KW_OR,
    KW_NOT,
    KW_ANY,
    KW_ALL,
    KW_AS,
    KW_LIST,
    KW_CASED,
    KW_TRUE,
    KW_FALSE,
    KW_JSON,
    KW_RULE,
    KW_OPWORD, /* a word of an operator's spelling (ops.def): reserved too */
} kw;

static const struct {
    const char *name;
    kw k;
} keywords[] = {
    {"all", KW_ALL},   {"and", KW_AND},   {"any", KW_ANY}, {"as", KW_AS}, {"cased", KW_CASED}, {"false", KW_FALSE},
    {"json", KW_JSON}, {"list", KW_LIST}, {"not", KW_NOT}, {"or", KW_OR}, {"rule", KW_RULE},   {"true", KW_TRUE},
};

/* Is s one of the space-separated words of spelling? */
static bool word_of_spelling(const char *spelling, const char *s, size_t n)
{
    for (const char *w = spelling; w && *w;) {
        const char *sp = strchr(w, ' ');
        size_t wn = sp ? (size_t)(sp - w) : strlen(w);
        if (wn == n && memcmp(w, s, n) == 0)
            return true;
        w = sp ? sp + 1 : NULL;
    }
    return false;
}

static kw keyword_of(const char *s, size_t n)
{
    for (size_t i = 0; i < AH_ARRAY_LEN(keywords); i++)
        if (strlen(keywords[i].name) == n && memcmp(keywords[i].name, s, n) == 0)
            return keywords[i].k;
    for (int op = 0; op < AHI_OP_COUNT; op++)
        if (word_of_spelling(ahi_ops[op].spelling, s, n) || word_of_spelling(ahi_ops[op].negated, s, n))
            return KW_OPWORD;
    return KW_NONE;
}

typedef enum mkey {
    MK_NONE = 0,
    MK_TITLE,
    MK_DESCRIPTION,
    MK_NOTE,
    MK_AUTHOR, /* text */
    MK_SEVERITY,
    MK_STATUS,
    MK_DATE,
    MK_MODIFIED,
    MK_VERSION, /* one word */
    MK_TAGS,
    MK_SOURCES,
    MK_REFERENCES,
    MK_FALSEPOSITIVES, /* word lists */
    MK_MATCH,
    MK_DETAILS,
    MK_TEST,
    MK_ROUTINE,
    MK_TEACHES,
    MK_GROUP,
    MK_WINDOW,
    MK_WHEN,
    MK_VALUE,
    MK_BASELINE,
    MK_WITHIN,
    MK_STEP,
    MK_ESCALATE,
    MK_SHOWS, /* correlation */
    MK_COUNT
} mkey;

static const char *const mkey_names[MK_COUNT] = {
    "",      "title",    "description", "note",    "author",  "severity",   "status",
    "date",  "modified", "version",     "tags",    "sources", "references", "falsepositives",
    "match", "details",  "test",        "routine", "teaches", "group",      "window",
    "when",  "value",    "baseline",    "within",  "step",    "escalate",   "shows",
};

/* Which correlation keys each kind of rule takes (bit per mkey). */
#define MKB(k) (1u << (unsigned)(k))
static unsigned corr_keys_of(ah_rule_kind k)
{
    switch (k) {
    case AH_RULE_AGGREGATE: return MKB(MK_GROUP) | MKB(MK_WINDOW) | MKB(MK_WHEN) | MKB(MK_BASELINE) | MKB(MK_ESCALATE);
    case AH_RULE_SEQUENCE: return MKB(MK_WITHIN) | MKB(MK_STEP) | MKB(MK_ESCALATE) | MKB(MK_SHOWS);
    case AH_RULE_FIRST_SEEN: return MKB(MK_GROUP) | MKB(MK_VALUE) | MKB(MK_BASELINE) | MKB(MK_ESCALATE);
    default: return 0;
    }
}

/* The words that open a rule, with the kind each opens. */
static const struct {
    const char *word;
    ah_rule_kind kind;
} top_words[] = {
    {"rule", AH_RULE_SINGLE},
    {"correlation", AH_RULE_AGGREGATE},
    {"sequence", AH_RULE_SEQUENCE},
    {"first-seen", AH_RULE_FIRST_SEEN},
};

/* Length of the rule-opening word at off (followed by a space or EOF), or 0. */
static size_t top_word_at(const ahi_src *s, size_t off, ah_rule_kind *kind)
{
    for (size_t i = 0; i < AH_ARRAY_LEN(top_words); i++) {
        size_t n = strlen(top_words[i].word);
        if (off + n <= s->len && memcmp(s->text + off, top_words[i].word, n) == 0 &&
            (off + n == s->len || s->text[off + n] == ' ' || s->text[off + n] == '\t' || s->text[off + n] == '\n' ||
             s->text[off + n] == '\r')) {
            if (kind)
                *kind = top_words[i].kind;
            return n;
        }
    }
    return 0;
}

static mkey mkey_of(const char *s, size_t n)
{
    for (int k = 1; k < MK_COUNT; k++)
        if (strlen(mkey_names[k]) == n && memcmp(mkey_names[k], s, n) == 0)
            return (mkey)k;
    return MK_NONE;
}

struct ahi_parser {
    ahi_lexer lx;
    ahi_token cur;
    ahi_arena *a;
    ah_diag *diag;
    uint64_t *errors;
    int depth;
    bool failed; /* an error in the current unit */
    /* Redirect for details placeholders: report at this range instead. */
    const ahi_src *err_src;
    ahi_placeholder at;
};

/* The name nearest to s for a "did you mean" hint, or NULL when none is near. */
static const char *closest(const char *s, size_t n, const char *const *names, size_t count)
{
    const char *best = NULL;
    size_t bestd = n <= 3 ? 1 : (n <= 6 ? 2 : 3);
    for (size_t i = 0; i < count; i++) {
        if (!names[i] || !names[i][0])
            continue;
        size_t d = ahi_edit_distance_ci(s, n, names[i], strlen(names[i]));
        if (d <= bestd) {
            best = names[i];
            bestd = d;
        }
    }
    return best;
}

/* An error fails the current unit; inside a details placeholder it is
 * reported at the placeholder. Warnings are reported where they are. */
#define perr(p, off, len, ...)                                                                                         \
    ((p)->failed = true, ahi_complain((p)->diag, (p)->lx.src, (off), (len), AH_SEV_ERROR, (p)->errors,                 \
                                      (p)->err_src ? &(p)->at : NULL, __VA_ARGS__))
/* An allocation failed: an error in the unit, and out of memory for the ruleset (ahi_nomem). */
#define pnomem(p, off, len) (ahi_nomem((p)->a), perr((p), (off), (len), "out of memory"))
#define pwarn(p, off, len, ...)                                                                                        \
    ahi_complain((p)->diag, (p)->lx.src, (off), (len), AH_SEV_WARNING, NULL, NULL, __VA_ARGS__)

static void advance(ahi_parser *p, ahi_lexmode mode)
{
    p->cur = ahi_lex(&p->lx, mode);
    if (p->cur.kind == AHI_T_ERROR)
        p->failed = true;
}

static kw cur_kw(const ahi_parser *p) { return p->cur.kind == AHI_T_IDENT ? keyword_of(p->cur.s, p->cur.n) : KW_NONE; }

/* A short printable rendering of the current token for messages. */
static void tok_text(const ahi_parser *p, char *buf, size_t size)
{
    const ahi_token *t = &p->cur;
    if (t->kind == AHI_T_EOF || t->kind == AHI_T_EOL) {
        snprintf(buf, size, "%s", ahi_tok_name(t->kind));
        return;
    }
    size_t n = t->len > 40 ? 40 : t->len;
    const char *s = p->lx.src->text + t->off;
    size_t o = 0;
    buf[o++] = '\'';
    for (size_t i = 0; i < n && o + 5 < size; i++)
        buf[o++] = (s[i] == '\n' || s[i] == '\r' || s[i] == '\t') ? ' ' : s[i];
    if (t->len > n && o + 5 < size) {
        buf[o++] = '.';
        buf[o++] = '.';
        buf[o++] = '.';
    }
    buf[o++] = '\'';
    buf[o] = '\0';
}

static void expected(ahi_parser *p, const char *what)
{
    if (p->cur.kind == AHI_T_ERROR && !p->err_src)
        return; /* the lexer has said why */
    char t[64];
    tok_text(p, t, sizeof t);
    perr(p, p->cur.off, p->cur.len ? p->cur.len : 1, "expected %s, found %s", what, t);
}

/* --- expressions ------------------------------------------------------- */

static ahi_anode *new_node(ahi_parser *p, ahi_node_kind k, size_t off)
{
    ahi_anode *n = ahi_alloc(p->a, sizeof *n);
    if (!n) {
        pnomem(p, off, 1);
        return NULL;
    }
    n->kind = k;
    n->off = off;
    return n;
}

static void end_node(ahi_parser *p, ahi_anode *n)
{
    size_t end = p->lx.pos;
    /* The current token is already the one after the node. */
    if (p->cur.kind != AHI_T_EOF)
        end = p->cur.off;
    while (end > n->off && (p->lx.src->text[end - 1] == ' ' || p->lx.src->text[end - 1] == '\n' ||
                            p->lx.src->text[end - 1] == '\t' || p->lx.src->text[end - 1] == '\r'))
        end--;
    n->len = end > n->off ? end - n->off : 1;
}

static bool add_kid(ahi_parser *p, ahi_anode *n, ahi_anode *kid, size_t *cap)
{
    if (!ahi_grow(p->a, (void **)&n->kids, cap, n->nkids, sizeof *n->kids)) {
        pnomem(p, n->off, 1);
        return false;
    }
    n->kids[n->nkids++] = kid;
    return true;
}

static ahi_anode *parse_or(ahi_parser *p);
static ahi_anode *parse_not(ahi_parser *p);
static bool at_line_start(const ahi_src *s, size_t off);

static bool parse_value(ahi_parser *p, ahi_aval *v, const char *what)
{
    memset(v, 0, sizeof *v);
    v->off = p->cur.off;
    v->len = p->cur.len;
    switch (p->cur.kind) {
    case AHI_T_STRING:
        v->kind = AHI_V_STRING;
        v->s = p->cur.s;
        v->n = p->cur.n;
        break;
    case AHI_T_NUMBER:
        v->kind = AHI_V_NUMBER;
        v->s = ahi_strndup(p->a, p->cur.s, p->cur.n);
        v->n = p->cur.n;
        v->num = p->cur.num;
        break;
    case AHI_T_VAR:
        v->kind = AHI_V_VAR;
        v->s = ahi_strndup(p->a, p->cur.s, p->cur.n);
        v->n = p->cur.n;
        break;
    case AHI_T_IDENT: {
        kw k = cur_kw(p);
        if (k == KW_TRUE || k == KW_FALSE) {
            v->kind = AHI_V_BOOL;
            v->b = k == KW_TRUE;
            v->s = v->b ? "true" : "false";
            v->n = strlen(v->s);
            break;
        }
        char t[64];
        tok_text(p, t, sizeof t);
        perr(p, p->cur.off, p->cur.len, "expected %s, found %s (quote text: \"...\"; variables are $name)", what, t);
        return false;
    }
    default: expected(p, what); return false;
    }
    if (!v->s) {
        pnomem(p, v->off, 1);
        return false;
    }
    advance(p, AHI_LEX_EXPR);
    return true;
}

static bool push_step(ahi_parser *p, ahi_aoperand *o, size_t *cap, const ahi_astep *st)
{
    if (o->nsteps >= AHI_MAX_STEPS) {
        perr(p, st->off, st->len, "path too long (more than %d steps)", AHI_MAX_STEPS);
        return false;
    }
    if (!ahi_grow(p->a, (void **)&o->steps, cap, o->nsteps, sizeof *o->steps)) {
        pnomem(p, st->off, 1);
        return false;
    }
    o->steps[o->nsteps++] = *st;
    return true;
}

/* Steps after a root: .key, ["key"], [N], [*], [], [Key="value"]. */
static bool parse_steps(ahi_parser *p, ahi_aoperand *o, size_t *cap)
{
    for (;;) {
        ahi_astep st;
        memset(&st, 0, sizeof st);
        st.off = p->cur.off;
        if (p->cur.kind == AHI_T_DOT) {
            advance(p, AHI_LEX_EXPR);
            if (p->cur.kind == AHI_T_IDENT) {
                st.kind = AHI_STEP_KEY;
                st.key = ahi_strndup(p->a, p->cur.s, p->cur.n);
                st.keylen = p->cur.n;
            } else if (p->cur.kind == AHI_T_NUMBER) {
                perr(p, p->cur.off, p->cur.len,
                     "a key cannot start with a digit; use [%.*s] for an array element or [\"%.*s\"] for a key",
                     (int)p->cur.n, p->cur.s, (int)p->cur.n, p->cur.s);
                return false;
            } else {
                expected(p, "a key after '.' (use [\"...\"] for keys with spaces or symbols)");
                return false;
            }
            if (!st.key) {
                pnomem(p, st.off, 1);
                return false;
            }
            st.len = p->cur.off + p->cur.len - st.off;
            advance(p, AHI_LEX_EXPR);
        } else if (p->cur.kind == AHI_T_LBRACK) {
            advance(p, AHI_LEX_EXPR);
            if (p->cur.kind == AHI_T_STAR || p->cur.kind == AHI_T_RBRACK) {
                st.kind = AHI_STEP_ALL;
                if (p->cur.kind == AHI_T_STAR)
                    advance(p, AHI_LEX_EXPR);
            } else if (p->cur.kind == AHI_T_NUMBER) {
                st.kind = AHI_STEP_INDEX;
                double d = p->cur.num;
                if (d != (double)(long long)d || d > 1e9 || d < -1e9) {
                    perr(p, p->cur.off, p->cur.len, "array index must be a whole number");
                    return false;
                }
                st.index = (long long)d;
                advance(p, AHI_LEX_EXPR);
            } else if (p->cur.kind == AHI_T_STRING || p->cur.kind == AHI_T_IDENT) {
                ahi_token keytok = p->cur;
                advance(p, AHI_LEX_EXPR);
                if (p->cur.kind == AHI_T_ASSIGN || p->cur.kind == AHI_T_EQ) {
                    st.kind = AHI_STEP_SELECT;
                    advance(p, AHI_LEX_EXPR);
                    if (!parse_value(p, &st.sel, "a value to select by, e.g. [Name=\"KeyDescription\"]"))
                        return false;
                } else if (keytok.kind == AHI_T_STRING) {
                    st.kind = AHI_STEP_KEY;
                } else {
                    expected(p, "'=' in an element selection like [Name=\"X\"]");
                    return false;
                }
                st.key = ahi_strndup(p->a, keytok.s, keytok.n);
                st.keylen = keytok.n;
                if (!st.key) {
                    pnomem(p, st.off, 1);
                    return false;
                }
            } else {
                expected(p, "an index, '*', \"key\" or Key=\"value\" inside [ ]");
                return false;
            }
            if (p->cur.kind != AHI_T_RBRACK) {
                expected(p, "']'");
                return false;
            }
            st.len = p->cur.off + 1 - st.off;
            advance(p, AHI_LEX_EXPR);
        } else {
            return true;
        }
        if (!push_step(p, o, cap, &st))
            return false;
    }
}

static bool parse_operand(ahi_parser *p, ahi_aoperand *o)
{
    memset(o, 0, sizeof *o);
    o->off = p->cur.off;
    size_t cap = 0;
    if (p->depth > AHI_MAX_DEPTH) {
        perr(p, p->cur.off, 1, "expression nested too deeply");
        return false;
    }
    if (cur_kw(p) == KW_JSON) {
        size_t json_off = p->cur.off;
        advance(p, AHI_LEX_EXPR);
        if (p->cur.kind != AHI_T_LPAREN) {
            expected(p, "'(' after json");
            return false;
        }
        advance(p, AHI_LEX_EXPR);
        p->depth++;
        ahi_aoperand inner;
        bool ok = parse_operand(p, &inner);
        p->depth--;
        if (!ok)
            return false;
        if (p->cur.kind != AHI_T_RPAREN) {
            expected(p, "')' to close json(");
            return false;
        }
        *o = inner;
        o->off = json_off;
        cap = o->nsteps;
        ahi_astep st;
        memset(&st, 0, sizeof st);
        st.kind = AHI_STEP_JSON;
        st.off = json_off;
        st.len = p->cur.off + 1 - json_off;
        advance(p, AHI_LEX_EXPR);
        if (!push_step(p, o, &cap, &st))
            return false;
    } else if (p->cur.kind == AHI_T_IDENT) {
        kw k = cur_kw(p);
        if (k != KW_NONE) {
            perr(p, p->cur.off, p->cur.len, "expected a field name, found keyword '%.*s'", (int)p->cur.n, p->cur.s);
            return false;
        }
        o->head = ahi_strndup(p->a, p->cur.s, p->cur.n);
        o->headlen = p->cur.n;
        o->head_off = p->cur.off;
        if (!o->head) {
            pnomem(p, o->off, 1);
            return false;
        }
        advance(p, AHI_LEX_EXPR);
    } else if (p->cur.kind == AHI_T_STRING) {
        perr(p, p->cur.off, p->cur.len,
             "expected a field name, found a string (a condition is `field op value`, e.g. user == \"x\")");
        return false;
    } else {
        expected(p, "a field name (e.g. user, operation, raw.Key)");
        return false;
    }
    if (!parse_steps(p, o, &cap))
        return false;
    size_t end = p->cur.kind == AHI_T_EOF ? p->lx.src->len : p->cur.off;
    while (end > o->off && (p->lx.src->text[end - 1] == ' ' || p->lx.src->text[end - 1] == '\n' ||
                            p->lx.src->text[end - 1] == '\t' || p->lx.src->text[end - 1] == '\r'))
        end--;
    o->len = end > o->off ? end - o->off : 1;
    return true;
}

static bool parse_value_list(ahi_parser *p, ahi_anode *n)
{
    /* cur is '[' */
    advance(p, AHI_LEX_EXPR);
    size_t cap = 0;
    while (p->cur.kind != AHI_T_RBRACK) {
        ahi_aval v;
        if (!parse_value(p, &v, "a value in the list"))
            return false;
        if (!ahi_grow(p->a, (void **)&n->vals, &cap, n->nvals, sizeof *n->vals)) {
            pnomem(p, v.off, 1);
            return false;
        }
        n->vals[n->nvals++] = v;
        if (p->cur.kind == AHI_T_COMMA) {
            advance(p, AHI_LEX_EXPR);
            continue;
        }
        if (p->cur.kind != AHI_T_RBRACK) {
            expected(p, "',' or ']' in the list");
            return false;
        }
    }
    advance(p, AHI_LEX_EXPR);
    return true;
}

static bool parse_list_file(ahi_parser *p, ahi_anode *n)
{
    /* cur is `list` */
    advance(p, AHI_LEX_EXPR);
    if (p->cur.kind != AHI_T_LPAREN) {
        expected(p, "'(' after list");
        return false;
    }
    advance(p, AHI_LEX_EXPR);
    if (p->cur.kind != AHI_T_STRING) {
        expected(p, "a file name in quotes, e.g. list(\"lists/ioc-ips.txt\")");
        return false;
    }
    n->vals = ahi_alloc(p->a, sizeof *n->vals);
    if (!n->vals) {
        pnomem(p, p->cur.off, 1);
        return false;
    }
    n->vals[0].kind = AHI_V_STRING;
    n->vals[0].s = p->cur.s;
    n->vals[0].n = p->cur.n;
    n->vals[0].off = p->cur.off;
    n->vals[0].len = p->cur.len;
    n->nvals = 1;
    n->list_file = true;
    advance(p, AHI_LEX_EXPR);
    if (p->cur.kind != AHI_T_RPAREN) {
        expected(p, "')'");
        return false;
    }
    advance(p, AHI_LEX_EXPR);
    return true;
}

static void bad_operator(ahi_parser *p)
{
    const char *hint = "";
    char all[256];
    if (p->cur.n == 2 && (memcmp(p->cur.s, "=~", 2) == 0 || memcmp(p->cur.s, "~=", 2) == 0))
        hint = " (for a regex write: matches /.../)";
    else if (p->cur.n == 2 && memcmp(p->cur.s, "<>", 2) == 0)
        hint = " (did you mean '!='?)";
    else if (p->cur.n == 2 && (memcmp(p->cur.s, "&&", 2) == 0 || memcmp(p->cur.s, "||", 2) == 0)) {
        perr(p, p->cur.off, p->cur.len, "unknown operator '%.*s' (write `and` / `or`)", (int)p->cur.n, p->cur.s);
        return;
    }
    perr(p, p->cur.off, p->cur.len, "unknown operator '%.*s'%s; expected %s", (int)p->cur.n, p->cur.s, hint,
         ahi_oplist_text(AHI_OPLIST_ALL, all, sizeof all));
}

/* A word that is not an operator where one is expected: the nearest first
 * word of an operator's spelling, or the list of them all. */
static void unknown_operator_word(ahi_parser *p)
{
    const char *near = NULL;
    size_t near_n = 0;
    size_t bestd = p->cur.n <= 3 ? 1 : (p->cur.n <= 6 ? 2 : 3); /* as closest() */
    for (int op = 0; op < AHI_OP_COUNT; op++) {
        const char *w = ahi_ops[op].spelling;
        if (!((w[0] >= 'a' && w[0] <= 'z') || (w[0] >= 'A' && w[0] <= 'Z')))
            continue;
        const char *sp = strchr(w, ' ');
        size_t wn = sp ? (size_t)(sp - w) : strlen(w);
        size_t d = ahi_edit_distance_ci(p->cur.s, p->cur.n, w, wn);
        if (d <= bestd && !(near && near_n == wn && memcmp(near, w, wn) == 0)) {
            near = w;
            near_n = wn;
            bestd = d;
        }
    }
    char all[256];
    if (near)
        perr(p, p->cur.off, p->cur.len, "unknown operator '%.*s' (did you mean '%.*s'?)", (int)p->cur.n, p->cur.s,
             (int)near_n, near);
    else
        perr(p, p->cur.off, p->cur.len, "unknown operator '%.*s'; expected %s", (int)p->cur.n, p->cur.s,
             ahi_oplist_text(AHI_OPLIST_ALL, all, sizeof all));
}

/* Word w (0-based) of a spelling, or false when it has fewer words. */
static bool spelling_word(const char *spelling, size_t w, const char **s, size_t *n)
{
    const char *p = spelling;
    for (; w > 0 && p; w--) {
        p = strchr(p, ' ');
        if (p)
            p++;
    }
    if (!p || !*p)
        return false;
    const char *sp = strchr(p, ' ');
    *s = p;
    *n = sp ? (size_t)(sp - p) : strlen(p);
    return true;
}

/* The operator, read word by word against every spelling in ops.def
 * (positive and negated), the longest that matches. On return *pending is
 * true when the current token is still the operator's last word (the
 * caller advances in the mode its value needs), false when the parser has
 * already moved past it. */
static bool parse_operator(ahi_parser *p, ahi_anode *n, bool *pending)
{
    enum { NCAND = 2 * AHI_OP_COUNT };
    bool live[NCAND];
    for (size_t i = 0; i < NCAND; i++)
        live[i] = (i & 1) == 0 || ahi_ops[i / 2].negated;
    int done = -1; /* candidate complete at done_words words */
    size_t done_words = 0, words = 0;
    const char *first = NULL; /* first word read */
    size_t first_n = 0;
    *pending = false;
    for (;;) {
        const char *tok = p->lx.src->text + p->cur.off;
        bool matched = false, more = false;
        for (size_t i = 0; i < NCAND; i++) {
            if (!live[i])
                continue;
            const char *sp = (i & 1) ? ahi_ops[i / 2].negated : ahi_ops[i / 2].spelling;
            const char *w;
            size_t wn;
            if (p->cur.kind == AHI_T_STRING || p->cur.kind == AHI_T_EOF || !spelling_word(sp, words, &w, &wn) ||
                wn != p->cur.len || memcmp(w, tok, wn) != 0) {
                live[i] = false;
                continue;
            }
            matched = true;
            if (spelling_word(sp, words + 1, &w, &wn))
                more = true;
            else {
                done = (int)i;
                done_words = words + 1;
            }
        }
        if (!matched)
            break;
        if (words == 0) {
            first = tok;
            first_n = p->cur.len;
        }
        words++;
        n->op_len = p->cur.off + p->cur.len - n->op_off;
        if (!more) {
            *pending = true;
            break;
        }
        advance(p, AHI_LEX_EXPR);
    }
    if (done >= 0 && done_words == words) {
        n->op = (ahi_op)(done / 2);
        n->negate = done & 1;
        return true;
    }
    if (words == 0) {
        switch (p->cur.kind) {
        case AHI_T_ASSIGN: perr(p, p->cur.off, p->cur.len, "unknown operator '=' (did you mean '=='?)"); break;
        case AHI_T_BADOP: bad_operator(p); break;
        case AHI_T_IDENT: unknown_operator_word(p); break;
        default: expected(p, "an operator (==, !=, contains, in, ...)"); break;
        }
        return false;
    }
    char what[512];
    if (first_n == 3 && memcmp(first, "not", 3) == 0) {
        char list[256];
        snprintf(what, sizeof what, "%s after 'not'", ahi_oplist_text(AHI_OPLIST_NOT, list, sizeof list));
    } else {
        /* a longer spelling stopped short: its row says what was missing */
        snprintf(what, sizeof what, "the rest of the operator");
        for (size_t i = 0; i < NCAND; i++) {
            const char *sp = (i & 1) ? ahi_ops[i / 2].negated : ahi_ops[i / 2].spelling;
            if (sp && ahi_ops[i / 2].cut && strncmp(sp, first, first_n) == 0 && (sp[first_n] == ' ' || !sp[first_n])) {
                snprintf(what, sizeof what, "%s", ahi_ops[i / 2].cut);
                break;
            }
        }
    }
    expected(p, what);
    return false;
}

/* After the operand: the operator and its value. */
static bool parse_predicate(ahi_parser *p, ahi_anode *n)
{
    n->op_off = p->cur.off;
    n->op_len = p->cur.len;
    bool pending;
    if (!parse_operator(p, n, &pending))
        return false;
    ahi_arg arg = ahi_ops[n->op].arg;
    if (pending)
        advance(p, arg == AHI_ARG_REGEX ? AHI_LEX_REGEX : AHI_LEX_EXPR);
    n->vals = NULL;
    n->nvals = 0;
    switch (arg) {
    case AHI_ARG_NONE: return true;
    case AHI_ARG_REGEX: {
        ahi_aval *v = ahi_alloc(p->a, sizeof *v);
        if (!v) {
            pnomem(p, p->cur.off, 1);
            return false;
        }
        v->off = p->cur.off;
        v->len = p->cur.len;
        if (p->cur.kind == AHI_T_REGEX) {
            v->kind = AHI_V_REGEX;
            v->s = p->cur.s;
            v->n = p->cur.n;
            memcpy(v->flags, p->cur.flags, sizeof v->flags);
            advance(p, AHI_LEX_EXPR);
        } else if (p->cur.kind == AHI_T_STRING || p->cur.kind == AHI_T_VAR) {
            if (!parse_value(p, v, "a regex"))
                return false;
            if (v->kind == AHI_V_STRING)
                v->kind = AHI_V_REGEX;
        } else {
            expected(p, "a regex after matches, e.g. /^Client=WebServices/");
            return false;
        }
        n->vals = v;
        n->nvals = 1;
        return true;
    }
    case AHI_ARG_LIST:
    case AHI_ARG_CIDR:
        if (p->cur.kind == AHI_T_LBRACK)
            return parse_value_list(p, n);
        if (cur_kw(p) == KW_LIST)
            return parse_list_file(p, n);
        expected(p, arg == AHI_ARG_CIDR ? "[\"prefix\", ...] or list(\"file\") after in cidr"
                                        : "[values], list(\"file\") or cidr after in");
        return false;
    case AHI_ARG_OPERAND:
        n->ref = ahi_alloc(p->a, sizeof *n->ref);
        if (!n->ref) {
            pnomem(p, p->cur.off, 1);
            return false;
        }
        return parse_operand(p, n->ref);
    case AHI_ARG_VALUE:
    case AHI_ARG_ORDER: break;
    }
    ahi_aval *v = ahi_alloc(p->a, sizeof *v);
    if (!v) {
        pnomem(p, p->cur.off, 1);
        return false;
    }
    if (!parse_value(p, v, "a value (\"text\", a number, true/false or $variable)"))
        return false;
    n->vals = v;
    n->nvals = 1;
    return true;
}

static ahi_anode *parse_primary(ahi_parser *p)
{
    if (++p->depth > AHI_MAX_DEPTH) {
        perr(p, p->cur.off, 1, "expression nested too deeply (limit %d)", AHI_MAX_DEPTH);
        return NULL;
    }
    ahi_anode *n = NULL;
    size_t off = p->cur.off;
    kw k = cur_kw(p);
    if (p->cur.kind == AHI_T_LPAREN) {
        advance(p, AHI_LEX_EXPR);
        n = parse_or(p);
        if (!n)
            goto out;
        if (p->cur.kind != AHI_T_RPAREN) {
            expected(p, "')' or an operator (and, or)");
            n = NULL;
            goto out;
        }
        advance(p, AHI_LEX_EXPR);
        goto out;
    }
    if (k == KW_TRUE || k == KW_FALSE) {
        n = new_node(p, AHI_N_CONST, off);
        if (n) {
            n->cval = k == KW_TRUE;
            n->len = p->cur.len;
            advance(p, AHI_LEX_EXPR);
        }
        goto out;
    }
    if (k == KW_ANY || k == KW_ALL) {
        n = new_node(p, AHI_N_QUANT, off);
        if (!n)
            goto out;
        n->all = k == KW_ALL;
        advance(p, AHI_LEX_EXPR);
        if (!parse_operand(p, &n->over)) {
            n = NULL;
            goto out;
        }
        if (cur_kw(p) != KW_AS) {
            expected(p, n->all ? "'as' (all PATH as NAME: condition)" : "'as' (any PATH as NAME: condition)");
            n = NULL;
            goto out;
        }
        advance(p, AHI_LEX_EXPR);
        if (p->cur.kind != AHI_T_IDENT || cur_kw(p) != KW_NONE) {
            expected(p, "a name for the element (e.g. p)");
            n = NULL;
            goto out;
        }
        n->name = ahi_strndup(p->a, p->cur.s, p->cur.n);
        n->namelen = p->cur.n;
        n->name_off = p->cur.off;
        advance(p, AHI_LEX_EXPR);
        if (p->cur.kind != AHI_T_COLON) {
            expected(p, "':' before the condition on each element");
            n = NULL;
            goto out;
        }
        advance(p, AHI_LEX_EXPR);
        ahi_anode *body = parse_not(p);
        if (!body) {
            n = NULL;
            goto out;
        }
        size_t cap = 0;
        if (!add_kid(p, n, body, &cap)) {
            n = NULL;
            goto out;
        }
        end_node(p, n);
        goto out;
    }
    if (p->cur.kind == AHI_T_IDENT && !p->err_src && mkey_of(p->cur.s, p->cur.n) != MK_NONE &&
        at_line_start(p->lx.src, p->cur.off)) {
        perr(p, p->cur.off, p->cur.len,
             "expected a condition, found the key '%.*s' (the condition above is incomplete)", (int)p->cur.n, p->cur.s);
        goto out;
    }
    n = new_node(p, AHI_N_CMP, off);
    if (!n)
        goto out;
    if (!parse_operand(p, &n->opd) || !parse_predicate(p, n)) {
        n = NULL;
        goto out;
    }
    if (cur_kw(p) == KW_CASED) {
        n->cased = true;
        advance(p, AHI_LEX_EXPR);
    }
    end_node(p, n);
out:
    p->depth--;
    return n;
}

static ahi_anode *parse_not(ahi_parser *p)
{
    if (cur_kw(p) != KW_NOT)
        return parse_primary(p);
    size_t off = p->cur.off;
    if (++p->depth > AHI_MAX_DEPTH) {
        perr(p, p->cur.off, 1, "expression nested too deeply (limit %d)", AHI_MAX_DEPTH);
        p->depth--;
        return NULL;
    }
    advance(p, AHI_LEX_EXPR);
    ahi_anode *kid = parse_not(p);
    p->depth--;
    if (!kid)
        return NULL;
    ahi_anode *n = new_node(p, AHI_N_NOT, off);
    size_t cap = 0;
    if (!n || !add_kid(p, n, kid, &cap))
        return NULL;
    end_node(p, n);
    return n;
}

static ahi_anode *parse_chain(ahi_parser *p, kw op)
{
    size_t off = p->cur.off;
    ahi_anode *first = op == KW_OR ? parse_chain(p, KW_AND) : parse_not(p);
    if (!first || cur_kw(p) != op)
        return first;
    ahi_anode *n = new_node(p, op == KW_OR ? AHI_N_OR : AHI_N_AND, off);
    size_t cap = 0;
    if (!n || !add_kid(p, n, first, &cap))
        return NULL;
    while (cur_kw(p) == op) {
        advance(p, AHI_LEX_EXPR);
        ahi_anode *kid = op == KW_OR ? parse_chain(p, KW_AND) : parse_not(p);
        if (!kid || !add_kid(p, n, kid, &cap))
            return NULL;
    }
    end_node(p, n);
    return n;
}

static ahi_anode *parse_or(ahi_parser *p) { return parse_chain(p, KW_OR); }

/* --- rule files -------------------------------------------------------- */

static bool at_line_start(const ahi_src *s, size_t off)
{
    while (off > 0 && (s->text[off - 1] == ' ' || s->text[off - 1] == '\t'))
        off--;
    return off == 0 || s->text[off - 1] == '\n';
}

/* Error recovery: move to the next line whose first word is `rule`, `}` or
 * a metadata key. Returns true if it stopped inside the rule (key or `}`). */
static bool recover(ahi_parser *p)
{
    const ahi_src *s = p->lx.src;
    size_t i = p->cur.off;
    /* Start at the line after the error. */
    while (i < s->len && s->text[i] != '\n')
        i++;
    while (i < s->len) {
        i++; /* past '\n' */
        size_t w = i;
        while (w < s->len && (s->text[w] == ' ' || s->text[w] == '\t'))
            w++;
        size_t e = w;
        while (e < s->len && ((s->text[e] >= 'a' && s->text[e] <= 'z') || (s->text[e] >= 'A' && s->text[e] <= 'Z')))
            e++;
        bool word_end =
            e >= s->len || s->text[e] == ' ' || s->text[e] == '\t' || s->text[e] == '\n' || s->text[e] == '\r';
        if (w < s->len && s->text[w] == '}') {
            p->lx.pos = w;
            advance(p, AHI_LEX_EXPR);
            return true;
        }
        if (top_word_at(s, w, NULL)) {
            p->lx.pos = w;
            advance(p, AHI_LEX_EXPR);
            return false;
        }
        if (e > w && word_end) {
            if (e - w == 4 && memcmp(s->text + w, "rule", 4) == 0) {
                p->lx.pos = w;
                advance(p, AHI_LEX_EXPR);
                return false;
            }
            if (mkey_of(s->text + w, e - w) != MK_NONE) {
                p->lx.pos = w;
                advance(p, AHI_LEX_EXPR);
                return true;
            }
        }
        while (i < s->len && s->text[i] != '\n')
            i++;
    }
    p->lx.pos = s->len;
    advance(p, AHI_LEX_EXPR);
    return false;
}

typedef struct strvec {
    const char **v;
    size_t n, cap;
} strvec;

static bool strvec_push(ahi_parser *p, strvec *sv, const char *s, size_t n, size_t off)
{
    char *c = ahi_strndup(p->a, s, n);
    if (!c || !ahi_grow(p->a, (void **)&sv->v, &sv->cap, sv->n, sizeof *sv->v)) {
        pnomem(p, off, 1);
        return false;
    }
    sv->v[sv->n++] = c;
    return true;
}

/* Text value: one or more adjacent strings, concatenated. */
static const char *parse_text(ahi_parser *p, const char *key, size_t *off_out, size_t *len_out)
{
    advance(p, AHI_LEX_EXPR);
    if (p->cur.kind != AHI_T_STRING) {
        char what[64];
        snprintf(what, sizeof what, "a quoted string after %s", key);
        expected(p, what);
        return NULL;
    }
    size_t off = p->cur.off;
    ah_buf b;
    ah_buf_init(&b, AHI_MAX_RULE_FILE);
    size_t end = off;
    while (p->cur.kind == AHI_T_STRING) {
        ah_buf_append(&b, p->cur.s, p->cur.n);
        end = p->cur.off + p->cur.len;
        advance(p, AHI_LEX_EXPR);
    }
    /* A text that lost bytes to a failed allocation is not the rule's text. */
    const char *r = ah_buf_status(&b) == AH_OK ? ahi_strndup(p->a, ah_buf_cstr(&b), b.len) : NULL;
    ah_buf_free(&b);
    if (!r)
        pnomem(p, off, 1);
    if (off_out)
        *off_out = off;
    if (len_out)
        *len_out = end - off;
    return r;
}

/* Word list up to the end of the line. Leaves cur on the next key. */
static bool parse_words(ahi_parser *p, strvec *sv)
{
    advance(p, AHI_LEX_WORD);
    for (;;) {
        switch (p->cur.kind) {
        case AHI_T_WORD:
        case AHI_T_STRING:
            if (!strvec_push(p, sv, p->cur.s, p->cur.n, p->cur.off))
                return false;
            advance(p, AHI_LEX_WORD);
            break;
        case AHI_T_EOL: advance(p, AHI_LEX_EXPR); return true;
        case AHI_T_EOF:
        case AHI_T_RBRACE: return true;
        default: return false; /* error already reported */
        }
    }
}

/* The facts fields can be paired on: the row columns every export shape fills. */
static const ah_field_id routine_fields[] = {AH_F_USER, AH_F_IP, AH_F_APP_ID, AH_F_USER_AGENT};

static bool routine_field(const char *s, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < AH_ARRAY_LEN(routine_fields); i++)
        if (ah_span_eq(ah_span_make(s, n), ah_field_name(routine_fields[i]))) {
            *out = (uint8_t)routine_fields[i];
            return true;
        }
    return false;
}

/* `routine admin user+ip user+user_agent`: check the words, fill meta. */
static bool parse_routine(ahi_parser *p, ah_rule_meta *m, const strvec *w, size_t off, size_t len)
{
    if (!w->n) {
        perr(p, off, len, "routine needs one or more facts: admin, or two fields joined by '+' (user+ip)");
        return false;
    }
    for (size_t i = 0; i < w->n; i++) {
        const char *s = w->v[i], *plus = strchr(s, '+');
        if (strcmp(s, "admin") == 0) {
            m->routine_admin = true;
            continue;
        }
        uint8_t a, b;
        if (!plus || !routine_field(s, (size_t)(plus - s), &a) || !routine_field(plus + 1, strlen(plus + 1), &b) ||
            a == b) {
            perr(p, off, len,
                 "routine fact '%s': expected admin or two different fields of user, ip, app_id, user_agent joined by "
                 "'+'",
                 s);
            return false;
        }
        if (m->nroutine_pairs == AH_ROUTINE_MAX_PAIRS) {
            perr(p, off, len, "routine takes at most %d pairs of fields", AH_ROUTINE_MAX_PAIRS);
            return false;
        }
        m->routine_pair[m->nroutine_pairs++] = (struct ah_routine_pair){a < b ? a : b, a < b ? b : a};
    }
    return true;
}

/* The facts of the case knowledge a rule may name in `escalate` (about the
 * acting user of a contributing event). */
static bool case_fact(const char *s, unsigned *bit)
{
    if (strcmp(s, "admin") == 0) {
        *bit = AH_FACT_ADMIN;
        return true;
    }
    return false;
}

/* `escalate LEVEL when any FACT`: the hit is raised to LEVEL when FACT holds
 * for the acting user of some contributing event. */
static bool parse_escalate(ahi_parser *p, ah_rule_meta *m, const strvec *w, size_t off, size_t len)
{
    if (w->n != 4 || strcmp(w->v[1], "when") != 0 || strcmp(w->v[2], "any") != 0) {
        perr(p, off, len, "escalate takes a level and a fact: escalate high when any admin");
        return false;
    }
    if (!ah_level_from_name(ah_span_cstr(w->v[0]), &m->escalate_level)) {
        perr(p, off, len, "escalate: the level must be low, medium, high or critical, not '%s'", w->v[0]);
        return false;
    }
    if (!case_fact(w->v[3], &m->escalate_facts)) {
        perr(p, off, len, "escalate: unknown fact '%s' (expected admin: the account holds an admin role)", w->v[3]);
        return false;
    }
    return true;
}

/* `teaches admin`: a hit during the baseline teaches that its target holds an admin role. */
static bool parse_teaches(ahi_parser *p, ah_rule_meta *m, const strvec *w, size_t off, size_t len)
{
    for (size_t i = 0; i < w->n; i++) {
        unsigned bit;
        if (!case_fact(w->v[i], &bit)) {
            perr(p, off, len, "teaches: unknown fact '%s' (expected admin: the hit's target holds an admin role)",
                 w->v[i]);
            return false;
        }
        m->teaches_facts |= bit;
    }
    if (!w->n) {
        perr(p, off, len, "teaches needs a fact: teaches admin");
        return false;
    }
    return true;
}

typedef struct word_loc {
    size_t off, len;
} word_loc;

/* One word (severity, status, date, ...). */
static bool parse_one_word(ahi_parser *p, const char *key, const char **out, word_loc *loc)
{
    advance(p, AHI_LEX_WORD);
    if (p->cur.kind != AHI_T_WORD && p->cur.kind != AHI_T_STRING) {
        char what[64];
        snprintf(what, sizeof what, "a value after %s", key);
        expected(p, what);
        return false;
    }
    loc->off = p->cur.off;
    loc->len = p->cur.len;
    *out = ahi_strndup(p->a, p->cur.s, p->cur.n);
    if (!*out) {
        pnomem(p, loc->off, 1);
        return false;
    }
    advance(p, AHI_LEX_WORD);
    if (p->cur.kind == AHI_T_WORD || p->cur.kind == AHI_T_STRING) {
        perr(p, p->cur.off, p->cur.len, "%s takes one value", key);
        return false;
    }
    if (p->cur.kind == AHI_T_EOL)
        advance(p, AHI_LEX_EXPR);
    return p->cur.kind != AHI_T_ERROR;
}

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool parse_test(ahi_parser *p, ah_rule *r)
{
    size_t test_off = p->cur.off;
    advance(p, AHI_LEX_EXPR);
    if (p->cur.kind == AHI_T_IDENT && p->cur.n == 3 && memcmp(p->cur.s, "set", 3) == 0) {
        advance(p, AHI_LEX_EXPR);
        if (p->cur.kind != AHI_T_IDENT) {
            expected(p, "a variable name after test set");
            return false;
        }
        const char *name = ahi_strndup(p->a, p->cur.s, p->cur.n);
        advance(p, AHI_LEX_EXPR);
        if (p->cur.kind != AHI_T_STRING) {
            expected(p, "the variable's test value in quotes");
            return false;
        }
        if (!name || !ahi_grow(p->a, (void **)&r->tvars, &r->captvars, r->ntvars, sizeof *r->tvars)) {
            pnomem(p, test_off, 1);
            return false;
        }
        r->tvars[r->ntvars].name = name;
        r->tvars[r->ntvars].value = p->cur.s;
        r->ntvars++;
        advance(p, AHI_LEX_EXPR);
        return true;
    }
    bool hit;
    int64_t hits = -1;
    if (p->cur.kind == AHI_T_IDENT && p->cur.n == 3 && memcmp(p->cur.s, "hit", 3) == 0)
        hit = true;
    else if (p->cur.kind == AHI_T_IDENT && p->cur.n == 4 && memcmp(p->cur.s, "miss", 4) == 0) {
        hit = false;
        hits = 0;
    } else if (p->cur.kind == AHI_T_IDENT && p->cur.n == 4 && memcmp(p->cur.s, "hits", 4) == 0 &&
               r->meta.kind != AH_RULE_SINGLE) {
        advance(p, AHI_LEX_EXPR);
        if (p->cur.kind != AHI_T_NUMBER || p->cur.num < 0 || p->cur.num > 1e9 ||
            p->cur.num != (double)(int64_t)p->cur.num) {
            expected(p, "a whole number of hits after test hits (test hits 2 [...])");
            return false;
        }
        hits = (int64_t)p->cur.num;
        hit = hits > 0;
    } else {
        expected(p, r->meta.kind != AH_RULE_SINGLE
                        ? "hit, miss, hits N or set after test (test hit [series] / test hits 2 \"file.json\")"
                        : "hit, miss or set after test (test hit \"file.json\" / test miss {inline JSON})");
        return false;
    }
    advance(p, AHI_LEX_TEST);
    ahi_test t;
    memset(&t, 0, sizeof t);
    t.expect_hit = hit;
    t.expect_hits = hits;
    t.off = p->cur.off;
    t.len = p->cur.len;
    uint64_t col;
    ahi_src_locate(p->lx.src, test_off, &t.line, &col);
    if (p->cur.kind == AHI_T_JSON) {
        t.inline_json = true;
        t.text = p->cur.s;
        t.n = p->cur.n;
        const char *end = NULL;
        cJSON *j = cJSON_ParseWithLengthOpts(t.text, t.n, &end, 0);
        if (!j) {
            /* cJSON says NULL for bad JSON and for a failed allocation alike. */
            if (ah_json_valid((ah_span){t.text, t.n})) {
                pnomem(p, t.off, 1);
                return false;
            }
            size_t at = end && end >= t.text && end <= t.text + t.n ? (size_t)(end - t.text) : 0;
            perr(p, t.off + at, 1, "invalid inline JSON in test");
            return false;
        }
        cJSON_Delete(j);
    } else if (p->cur.kind == AHI_T_STRING) {
        t.text = p->cur.s;
        t.n = p->cur.n;
        /* Resolve now so lint reports a missing file: the rule's directory
         * first, then the current directory. Only a warning: a hunt must not
         * depend on test fixtures (test-rules fails the test itself). */
        char path[4096];
        bool found = false;
        if (t.text[0] == '/') {
            found = file_exists(t.text);
        } else {
            snprintf(path, sizeof path, "%s/%s", p->lx.src->dir, t.text);
            found = file_exists(path) || file_exists(t.text);
        }
        if (!found)
            pwarn(p, t.off, t.len, "test file not found: %s (looked in %s/ and the current directory)", t.text,
                  p->lx.src->dir);
    } else {
        expected(p, "a test file path in quotes or an inline JSON record");
        return false;
    }
    if (!ahi_grow(p->a, (void **)&r->tests, &r->captests, r->ntests, sizeof *r->tests)) {
        pnomem(p, t.off, 1);
        return false;
    }
    r->tests[r->ntests++] = t;
    advance(p, AHI_LEX_EXPR);
    return true;
}

static bool valid_id(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
              c == '.' || c == ':'))
            return false;
    }
    return true;
}

static const char *const level_names[] = {"info", "low", "medium", "high", "critical"};

static bool attack_id(const char *tag, const char **id)
{
    /* attack.T1098.001 -> T1098.001 */
    if (strncmp(tag, "attack.", 7) != 0 && strncmp(tag, "ATTACK.", 7) != 0)
        return false;
    const char *t = tag + 7;
    if ((t[0] != 't' && t[0] != 'T') || t[1] < '0' || t[1] > '9')
        return false;
    *id = t;
    return true;
}


/* --- correlation entries ---------------------------------------------- */

/* A duration: whole numbers with units, e.g. 30m, 1h30m, 90s, 7d, 500ms. */
static bool parse_duration_text(const char *s, int64_t *ns)
{
    int64_t total = 0;
    size_t i = 0, n = strlen(s);
    if (n == 0)
        return false;
    while (i < n) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        int64_t v = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            v = v * 10 + (s[i] - '0');
            if (v > 100000000)
                return false;
            i++;
        }
        int64_t unit;
        if (i + 1 < n + 1 && s[i] == 'm' && i + 1 < n && s[i + 1] == 's') {
            unit = 1000000;
            i += 2;
        } else if (i < n && s[i] == 's') {
            unit = 1000000000;
            i++;
        } else if (i < n && s[i] == 'm') {
            unit = (int64_t)60 * 1000000000;
            i++;
        } else if (i < n && s[i] == 'h') {
            unit = (int64_t)3600 * 1000000000;
            i++;
        } else if (i < n && s[i] == 'd') {
            unit = (int64_t)86400 * 1000000000;
            i++;
        } else {
            return false;
        }
        if (v > (INT64_MAX - total) / unit)
            return false;
        total += v * unit;
    }
    *ns = total;
    return true;
}

/* window / within / baseline: one duration word. */
static bool parse_duration(ahi_parser *p, const char *key, int64_t max_ns, const char *max_text, int64_t *ns,
                           size_t *off, size_t *len)
{
    const char *w = NULL;
    word_loc loc;
    if (!parse_one_word(p, key, &w, &loc))
        return false;
    *off = loc.off;
    *len = loc.len;
    if (!parse_duration_text(w, ns)) {
        perr(p, loc.off, loc.len, "%s must be a duration like 30s, 10m, 1h, 7d or 1h30m, not '%s'", key, w);
        return true; /* a bad value, not bad syntax */
    }
    if (*ns <= 0)
        perr(p, loc.off, loc.len, "%s must be longer than zero", key);
    else if (*ns > max_ns)
        perr(p, loc.off, loc.len, "%s may be at most %s", key, max_text);
    return true;
}

#define AHI_MAX_KEYS 8

/* group / key / value: operands separated by commas. */
static bool parse_operand_list(ahi_parser *p, const char *key, ahi_aoperand **v, bool **dom, size_t *n, size_t *cap)
{
    advance(p, AHI_LEX_EXPR);
    size_t dcap = 0;
    for (;;) {
        ahi_aoperand o;
        bool domain = false;
        /* domain(FIELD): the domain of an address (user@domain -> domain). */
        if (p->cur.kind == AHI_T_IDENT && p->cur.n == 6 && memcmp(p->cur.s, "domain", 6) == 0 &&
            p->cur.off + 6 < p->lx.src->len && p->lx.src->text[p->cur.off + 6] == '(') {
            domain = true;
            advance(p, AHI_LEX_EXPR);
            advance(p, AHI_LEX_EXPR);
        }
        if (p->cur.kind == AHI_T_IDENT && mkey_of(p->cur.s, p->cur.n) != MK_NONE) {
            char what[80];
            snprintf(what, sizeof what, "a field or raw path after %s", key);
            expected(p, what);
            return false;
        }
        if (!parse_operand(p, &o))
            return false;
        if (domain) {
            if (p->cur.kind != AHI_T_RPAREN) {
                expected(p, "')' to close domain(");
                return false;
            }
            advance(p, AHI_LEX_EXPR);
        }
        if (*n >= AHI_MAX_KEYS) {
            perr(p, o.off, o.len, "%s takes at most %d fields", key, AHI_MAX_KEYS);
            return false;
        }
        if (!ahi_grow(p->a, (void **)v, cap, *n, sizeof **v)) {
            pnomem(p, o.off, 1);
            return false;
        }
        if (!ahi_grow(p->a, (void **)dom, &dcap, *n, sizeof **dom)) {
            pnomem(p, o.off, 1);
            return false;
        }
        (*dom)[*n] = domain;
        (*v)[(*n)++] = o;
        if (p->cur.kind != AHI_T_COMMA)
            break;
        advance(p, AHI_LEX_EXPR);
    }
    if (p->cur.kind != AHI_T_IDENT && p->cur.kind != AHI_T_RBRACE && p->cur.kind != AHI_T_EOF) {
        expected(p, "',' or the next key");
        return false;
    }
    return true;
}

/* Is the current token the identifier word? */
static bool ident_is(const ahi_parser *p, const char *word)
{
    size_t n = strlen(word);
    return p->cur.kind == AHI_T_IDENT && p->cur.n == n && memcmp(p->cur.s, word, n) == 0;
}

/* when count >= 10 | when distinct(user) > 5 | when sum(raw.OperationCount) >= 1000
 * | when sum(raw.OperationCount) > 10 x baseline [at least 500]
 * | when distinct(user) >= 3 outside baseline */
static bool parse_when(ahi_parser *p, ahi_corr *c)
{
    advance(p, AHI_LEX_EXPR);
    c->when_off = p->cur.off;
    if (p->cur.kind != AHI_T_IDENT) {
        expected(p, "count, distinct(FIELD) or sum(FIELD) after when");
        return false;
    }
    if (p->cur.n == 5 && memcmp(p->cur.s, "count", 5) == 0) {
        c->agg = AHI_AGG_COUNT;
        advance(p, AHI_LEX_EXPR);
        if (p->cur.kind == AHI_T_LPAREN) {
            perr(p, p->cur.off, 1, "count takes no field: write `count`, or distinct(FIELD) to count values");
            return false;
        }
    } else if ((p->cur.n == 8 && memcmp(p->cur.s, "distinct", 8) == 0) ||
               (p->cur.n == 3 && memcmp(p->cur.s, "sum", 3) == 0)) {
        c->agg = p->cur.n == 3 ? AHI_AGG_SUM : AHI_AGG_DISTINCT;
        const char *fn = c->agg == AHI_AGG_SUM ? "sum" : "distinct";
        advance(p, AHI_LEX_EXPR);
        if (p->cur.kind != AHI_T_LPAREN) {
            char what[48];
            snprintf(what, sizeof what, "'(' after %s", fn);
            expected(p, what);
            return false;
        }
        advance(p, AHI_LEX_EXPR);
        if (!parse_operand(p, &c->agg_opd))
            return false;
        if (ident_is(p, "per")) {
            advance(p, AHI_LEX_EXPR);
            if (!ident_is(p, "source")) {
                expected(p, "'source' after per (distinct(user_agent per source))");
                return false;
            }
            if (c->agg != AHI_AGG_DISTINCT) {
                perr(p, p->cur.off, p->cur.len, "`per source` applies to distinct() only");
                return false;
            }
            c->term[0].per_source = true;
            advance(p, AHI_LEX_EXPR);
        }
        if (p->cur.kind != AHI_T_RPAREN) {
            expected(p, "')'");
            return false;
        }
        advance(p, AHI_LEX_EXPR);
    } else {
        static const char *const aggs[] = {"count", "distinct", "sum"};
        const char *near = closest(p->cur.s, p->cur.n, aggs, 3);
        perr(p, p->cur.off, p->cur.len, "unknown aggregate '%.*s'; expected count, distinct(FIELD) or sum(FIELD)%s%s%s",
             (int)p->cur.n, p->cur.s, near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
        return false;
    }
    switch (p->cur.kind) {
    case AHI_T_GT: c->cmp = AHI_OP_GT; break;
    case AHI_T_GE: c->cmp = AHI_OP_GE; break;
    case AHI_T_LT: c->cmp = AHI_OP_LT; break;
    case AHI_T_LE: c->cmp = AHI_OP_LE; break;
    case AHI_T_EQ: c->cmp = AHI_OP_EQ; break;
    case AHI_T_NE:
        perr(p, p->cur.off, p->cur.len, "'!=' does not apply to an aggregate; use >, >=, <, <= or ==");
        return false;
    case AHI_T_ASSIGN: perr(p, p->cur.off, p->cur.len, "unknown operator '=' (did you mean '=='?)"); return false;
    default: expected(p, "a comparison (>, >=, <, <=, ==) after the aggregate"); return false;
    }
    advance(p, AHI_LEX_EXPR);
    if (p->cur.kind != AHI_T_NUMBER) {
        expected(p, "a number after the comparison");
        return false;
    }
    c->threshold = p->cur.num;
    c->factor_off = p->cur.off;
    c->factor_len = p->cur.len;
    c->when_len = p->cur.off + p->cur.len - c->when_off;
    c->has_when = true;
    advance(p, AHI_LEX_EXPR);
    if (c->nterms == 0) { /* the first term; `or` parses the next ones into a scratch rule */
        c->term[0].agg = c->agg;
        c->term[0].opd = c->agg_opd;
        c->term[0].cmp = c->cmp;
        c->term[0].threshold = c->threshold;
        c->term[0].off = c->when_off;
        c->term[0].len = c->when_len;
        c->nterms = 1;
        size_t first_off = c->when_off;
        while (cur_kw(p) == KW_OR) {
            size_t or_off = p->cur.off;
            ahi_corr tmp;
            memset(&tmp, 0, sizeof tmp);
            tmp.nterms = 1; /* no nested `or` */
            if (!parse_when(p, &tmp))
                return false;
            if (c->nterms == AHI_MAX_WHEN_TERMS) {
                perr(p, or_off, 2, "when takes at most %d terms joined by or", AHI_MAX_WHEN_TERMS);
                return false;
            }
            if (tmp.relative || tmp.has_floor) {
                perr(
                    p, tmp.relative ? tmp.relative_off : tmp.floor_off, tmp.relative ? tmp.relative_len : tmp.floor_len,
                    "`x baseline` compares one aggregate with its own past: not with terms joined by or or per source");
                return false;
            }
            if (tmp.outside) { /* written after the last term: it applies to the whole condition */
                c->outside = true;
                c->outside_off = tmp.outside_off;
                c->outside_len = tmp.outside_len;
            }
            c->term[c->nterms++] = (ahi_wterm){
                tmp.agg, tmp.agg_opd, {0}, tmp.cmp, tmp.threshold, tmp.term[0].per_source, tmp.when_off, tmp.when_len};
            c->when_len = tmp.when_off + tmp.when_len - first_off;
        }
        c->when_off = first_off;
        c->multi = c->nterms > 1 || c->term[0].per_source;
        if (c->multi)
            for (size_t i = 0; i < c->nterms; i++)
                if (c->term[i].agg != AHI_AGG_DISTINCT || c->term[i].cmp == AHI_OP_LT || c->term[i].cmp == AHI_OP_LE) {
                    perr(p, c->term[i].off, c->term[i].len,
                         "terms joined by or (and per source) compare distinct() with >, >= or ==");
                    return false;
                }
    }
    if (ident_is(p, "x")) {
        /* F x baseline: relative to the group's own learned maximum. */
        c->relative_off = p->cur.off;
        c->relative_len = p->cur.len;
        c->relative = true; /* even when malformed: the later checks follow the intent */
        advance(p, AHI_LEX_EXPR);
        if (!ident_is(p, "baseline")) {
            expected(p, "'baseline' after the factor (when sum(x) > 10 x baseline)");
            return false;
        }
        c->relative_len = p->cur.off + p->cur.len - c->relative_off;
        c->when_len = p->cur.off + p->cur.len - c->when_off;
        advance(p, AHI_LEX_EXPR);
    }
    if (ident_is(p, "outside")) {
        /* outside baseline: only groups unseen while learning count. */
        c->outside_off = p->cur.off;
        c->outside = true;
        advance(p, AHI_LEX_EXPR);
        if (!ident_is(p, "baseline")) {
            expected(p, "'baseline' after outside (when distinct(user) >= 3 outside baseline)");
            return false;
        }
        c->outside_len = p->cur.off + p->cur.len - c->outside_off;
        c->when_len = p->cur.off + p->cur.len - c->when_off;
        advance(p, AHI_LEX_EXPR);
    }
    if (ident_is(p, "at")) {
        /* at least N: an absolute floor, so that a quiet baseline does not
         * turn a handful of events into a burst. */
        c->floor_off = p->cur.off;
        advance(p, AHI_LEX_EXPR);
        if (!ident_is(p, "least")) {
            expected(p, "'least' after at (at least 500)");
            return false;
        }
        advance(p, AHI_LEX_EXPR);
        if (p->cur.kind != AHI_T_NUMBER) {
            expected(p, "a number after at least");
            return false;
        }
        c->has_floor = true;
        c->floor = p->cur.num;
        c->floor_len = p->cur.off + p->cur.len - c->floor_off;
        advance(p, AHI_LEX_EXPR);
    }
    return true;
}


/* step [not] NAME { match CONDITION  key FIELD[, FIELD]  [when AGG CMP N] } */
static bool parse_step(ahi_parser *p, ahi_corr *c)
{
    advance(p, AHI_LEX_EXPR);
    ahi_cstep_def st;
    memset(&st, 0, sizeof st);
    if (cur_kw(p) == KW_NOT) {
        st.absent = true;
        advance(p, AHI_LEX_EXPR);
    }
    if (p->cur.kind != AHI_T_IDENT || cur_kw(p) != KW_NONE) {
        expected(p, "a step name (step added { ... })");
        return false;
    }
    st.name = ahi_strndup(p->a, p->cur.s, p->cur.n);
    st.off = p->cur.off;
    st.len = p->cur.len;
    for (size_t i = 0; i < c->nsteps; i++)
        if (strcmp(c->steps[i].name, st.name ? st.name : "") == 0)
            perr(p, st.off, st.len, "duplicate step name '%s'", st.name);
    advance(p, AHI_LEX_EXPR);
    if (p->cur.kind != AHI_T_LBRACE) {
        expected(p, "'{' after the step name");
        return false;
    }
    advance(p, AHI_LEX_EXPR);
    while (p->cur.kind != AHI_T_RBRACE) {
        if (p->cur.kind == AHI_T_IDENT && p->cur.n == 5 && memcmp(p->cur.s, "match", 5) == 0 && !st.match) {
            advance(p, AHI_LEX_EXPR);
            st.match_off = p->cur.off;
            p->depth = 0;
            st.match = parse_or(p);
            if (!st.match)
                return false;
        } else if (p->cur.kind == AHI_T_IDENT && p->cur.n == 3 && memcmp(p->cur.s, "key", 3) == 0 && !st.nkeys) {
            st.keys_off = p->cur.off;
            if (!parse_operand_list(p, "key", &st.keys, &st.key_domain, &st.nkeys, &st.capkeys))
                return false;
        } else if (ident_is(p, "when") && !st.has_when) {
            /* An aggregating step: the same `when` as an aggregation, over
             * the step's events within the sequence's `within`. */
            ahi_corr tmp;
            memset(&tmp, 0, sizeof tmp);
            if (!parse_when(p, &tmp))
                return false;
            /* Semantic errors are reported and the step kept, so that they
             * do not cascade into "needs at least 2 steps". */
            if (tmp.relative || tmp.has_floor || tmp.outside)
                perr(p, tmp.when_off, tmp.when_len,
                     "a step's `when` compares with a number (no x baseline, at least or outside baseline)");
            else if (tmp.multi)
                perr(p, tmp.when_off, tmp.when_len, "a step's `when` is one aggregate (no or, no per source)");
            else if (tmp.cmp != AHI_OP_GT && tmp.cmp != AHI_OP_GE && tmp.cmp != AHI_OP_EQ)
                perr(p, tmp.when_off, tmp.when_len,
                     "a step's `when` takes >, >= or == (the step is reached when it holds)");
            st.has_when = true;
            st.agg = tmp.agg;
            st.agg_opd = tmp.agg_opd;
            st.cmp = tmp.cmp;
            st.threshold = tmp.threshold;
            st.when_off = tmp.when_off;
            st.when_len = tmp.when_len;
        } else {
            expected(p, st.match && st.nkeys ? "'}' to close the step" : "match CONDITION or key FIELD in the step");
            return false;
        }
    }
    if (!st.match)
        perr(p, st.off, st.len, "step '%s' has no match condition", st.name ? st.name : "");
    if (!st.nkeys)
        perr(p, st.off, st.len, "step '%s' has no key (the value that joins the steps, e.g. key app_id)",
             st.name ? st.name : "");
    advance(p, AHI_LEX_EXPR);
    if (!ahi_grow(p->a, (void **)&c->steps, &c->capsteps, c->nsteps, sizeof *c->steps)) {
        pnomem(p, st.off, 1);
        return false;
    }
    c->steps[c->nsteps++] = st;
    return true;
}


/* `x baseline`, `at least` and `baseline` go together: the factor needs a
 * learning period, the period is only for a factor, and only "far above"
 * has a meaning relative to a learned maximum. */
static void check_relative_when(ahi_parser *p, const ah_rule *r, const bool *seen)
{
    const ahi_corr *c = r->corr;
    if (c->multi && c->relative) {
        perr(p, c->relative_off, c->relative_len,
             "`x baseline` compares one aggregate with its own past: not with terms joined by or or per source");
        return;
    }
    if (c->outside) {
        if (c->relative)
            perr(p, c->outside_off, c->outside_len,
                 "`outside baseline` (only new groups) and `x baseline` (relative to a group's own past) exclude each "
                 "other");
        else if (!seen[MK_BASELINE])
            perr(p, c->outside_off, c->outside_len,
                 "`outside baseline` needs a learning period: add `baseline 14d` (the first 14 days of the data) to "
                 "the rule");
        if (c->cmp != AHI_OP_GT && c->cmp != AHI_OP_GE && c->cmp != AHI_OP_EQ)
            perr(p, c->when_off, c->when_len, "`outside baseline` takes >, >= or ==");
        if (c->has_floor)
            perr(p, c->floor_off, c->floor_len,
                 "`at least` is the floor of a `x baseline` threshold; with a fixed threshold write the number itself");
        return;
    }
    if (!c->relative) {
        if (c->has_floor)
            perr(p, c->floor_off, c->floor_len,
                 "`at least` is the floor of a `x baseline` threshold; with a fixed threshold write the number itself");
        if (seen[MK_BASELINE])
            perr(
                p, c->baseline_off, c->baseline_len,
                "baseline is the learning period of a `when ... x baseline` threshold; this rule's threshold is fixed");
        return;
    }
    if (!seen[MK_BASELINE])
        perr(p, c->relative_off, c->relative_len,
             "`x baseline` needs a learning period: add `baseline 7d` (the first 7 days of the data) to the rule");
    if (!(c->threshold > 0))
        perr(p, c->factor_off, c->factor_len, "the factor of `x baseline` must be greater than zero, not %.17g",
             c->threshold);
    if (c->cmp != AHI_OP_GT && c->cmp != AHI_OP_GE)
        perr(p, c->when_off, c->when_len,
             "`x baseline` takes > or >= (a window value far above the group's own maximum)");
}

/* The checks and the base step of a correlation rule, after its body. */
static void finish_correlation(ahi_parser *p, ah_rule *r, const bool *seen, ahi_aoperand *group_ops, bool *group_dom,
                               size_t ngroup, size_t group_off)
{
    ahi_corr *c = r->corr;
    const char *kind = ah_rule_kind_name(r->meta.kind);
    if (r->meta.kind == AH_RULE_SEQUENCE) {
        if (!seen[MK_WITHIN])
            perr(p, r->id_off, r->id_len,
                 "sequence '%s' has no `within` (the time the steps must fit in, e.g. within 30m)", r->meta.id);
        if (c->nsteps < 2)
            perr(p, r->id_off, r->id_len, "sequence '%s' needs at least 2 steps (it has %zu)", r->meta.id, c->nsteps);
        for (size_t i = 0; i < c->nsteps; i++)
            if (c->steps[i].absent && (i + 1 != c->nsteps || i == 0))
                perr(p, c->steps[i].off, c->steps[i].len,
                     "only the last step may be `step not` (A not followed by B), and not the first");
        if (c->shows_name) {
            size_t i = 0;
            while (i < c->nsteps && strcmp(c->steps[i].name ? c->steps[i].name : "", c->shows_name) != 0)
                i++;
            if (i == c->nsteps)
                perr(p, c->shows_off, c->shows_len, "shows: sequence '%s' has no step '%s'", r->meta.id, c->shows_name);
            else if (c->steps[i].absent)
                perr(p, c->shows_off, c->shows_len,
                     "shows: step '%s' is a `step not` (it never happens in a hit), name a step that does",
                     c->shows_name);
            else
                c->shows = i;
        }
        for (size_t i = 1; i < c->nsteps; i++)
            if (c->steps[i].has_when)
                perr(p, c->steps[i].when_off, c->steps[i].when_len,
                     "only the first step of a sequence may aggregate (`when` in step '%s')", c->steps[i].name);
        r->meta.nsteps = c->nsteps;
    } else {
        if (r->meta.kind == AH_RULE_AGGREGATE) {
            if (!seen[MK_WINDOW])
                perr(p, r->id_off, r->id_len, "%s '%s' has no `window` (e.g. window 30m)", kind, r->meta.id);
            if (!seen[MK_WHEN])
                perr(p, r->id_off, r->id_len, "%s '%s' has no `when` condition (e.g. when count >= 10)", kind,
                     r->meta.id);
            else
                check_relative_when(p, r, seen);
        } else {
            if (!seen[MK_VALUE])
                perr(p, r->id_off, r->id_len,
                     "first-seen '%s' has no `value` (the field that must be new, e.g. value ip)", r->meta.id);
            if (!seen[MK_BASELINE])
                perr(p, r->id_off, r->id_len,
                     "first-seen '%s' has no `baseline` (e.g. baseline 7d: the first 7 days of data)", r->meta.id);
        }
        ahi_cstep_def st;
        memset(&st, 0, sizeof st);
        st.name = "";
        st.off = r->id_off;
        st.len = r->id_len;
        st.match = r->match;
        st.keys = group_ops;
        st.key_domain = group_dom;
        st.nkeys = ngroup;
        st.keys_off = group_off;
        c->steps = ahi_alloc(p->a, sizeof *c->steps);
        if (!c->steps) {
            pnomem(p, r->id_off, 1);
            return;
        }
        c->steps[0] = st;
        c->nsteps = 1;
    }
    r->meta.window_ns = r->meta.kind == AH_RULE_FIRST_SEEN ? 0 : c->window_ns;
    r->meta.baseline_ns = c->baseline_ns;
}

/* Parse the entries of one rule; cur is the token after '{'. */
static void parse_rule_body(ahi_parser *p, ah_rule *r)
{
    bool seen[MK_COUNT] = {false};
    strvec tags = {0}, refs = {0}, fps = {0}, srcs = {0}, routine = {0}, escalate = {0}, teaches = {0};
    size_t escalate_off = 0, escalate_len = 0;
    ahi_aoperand *group_ops = NULL;
    bool *group_dom = NULL;
    size_t ngroup = 0, group_off = 0;
    word_loc loc;
    for (;;) {
        bool ok = true;
        if (p->cur.kind == AHI_T_RBRACE) {
            advance(p, AHI_LEX_EXPR);
            break;
        }
        if (p->cur.kind == AHI_T_EOF) {
            perr(p, r->id_off, r->id_len, "rule '%s' is not closed (missing '}')", r->meta.id);
            break;
        }
        if (p->cur.kind == AHI_T_IDENT && top_word_at(p->lx.src, p->cur.off, NULL) &&
            at_line_start(p->lx.src, p->cur.off)) {
            perr(p, p->cur.off, p->cur.len, "expected '}' to close rule '%s' before the next rule", r->meta.id);
            return;
        }
        mkey k = p->cur.kind == AHI_T_IDENT ? mkey_of(p->cur.s, p->cur.n) : MK_NONE;
        size_t key_off = p->cur.off, key_len = p->cur.len;
        if (k == MK_NONE) {
            if (p->cur.kind == AHI_T_IDENT) {
                const char *near = closest(p->cur.s, p->cur.n, mkey_names, MK_COUNT);
                if (near)
                    perr(p, p->cur.off, p->cur.len, "unknown key '%.*s' (did you mean '%s'?)", (int)p->cur.n, p->cur.s,
                         near);
                else
                    perr(p, p->cur.off, p->cur.len,
                         "unknown key '%.*s'; expected title, description, severity, status, tags, references, "
                         "falsepositives, author, date, modified, version, note, sources, match, details, test, "
                         "routine, teaches",
                         (int)p->cur.n, p->cur.s);
            } else if (p->cur.kind != AHI_T_ERROR) {
                expected(p, "a key (title, severity, sources, match, ...) or '}'");
            }
            ok = false;
        } else if (k >= MK_GROUP && !(corr_keys_of(r->meta.kind) & MKB(k))) {
            if (r->meta.kind == AH_RULE_SINGLE)
                perr(p, key_off, key_len,
                     "'%s' belongs to correlation rules (correlation, sequence, first-seen), not to `rule %s`",
                     mkey_names[k], r->meta.id);
            else
                perr(p, key_off, key_len, "'%s' does not apply to a %s rule", mkey_names[k],
                     ah_rule_kind_name(r->meta.kind));
            ok = false;
        } else if (k == MK_MATCH && r->meta.kind == AH_RULE_SEQUENCE) {
            perr(p, key_off, key_len,
                 "a sequence has no match of its own: each step has one (step NAME { match ... key ... })");
            ok = false;
        } else if (seen[k] && k != MK_TEST && k != MK_TAGS && k != MK_REFERENCES && k != MK_FALSEPOSITIVES &&
                   k != MK_SOURCES && k != MK_STEP) {
            perr(p, key_off, key_len, "duplicate key '%s' in rule '%s'", mkey_names[k], r->meta.id);
            ok = false;
        } else {
            seen[k] = true;
            switch (k) {
            case MK_TITLE: ok = (r->meta.title = parse_text(p, "title", NULL, NULL)) != NULL; break;
            case MK_DESCRIPTION: ok = (r->meta.description = parse_text(p, "description", NULL, NULL)) != NULL; break;
            case MK_NOTE: ok = (r->meta.note = parse_text(p, "note", NULL, NULL)) != NULL; break;
            case MK_AUTHOR: ok = (r->meta.author = parse_text(p, "author", NULL, NULL)) != NULL; break;
            case MK_DATE: ok = parse_one_word(p, "date", &r->meta.date, &loc); break;
            case MK_MODIFIED: ok = parse_one_word(p, "modified", &r->meta.modified, &loc); break;
            case MK_VERSION: ok = parse_one_word(p, "version", &r->meta.version, &loc); break;
            case MK_SEVERITY: {
                const char *w = NULL;
                ok = parse_one_word(p, "severity", &w, &loc);
                if (ok && !ah_level_from_name(ah_span_cstr(w), &r->meta.level)) {
                    /* A bad value, not bad syntax: the parse position is fine. */
                    const char *near = closest(w, strlen(w), level_names, AH_ARRAY_LEN(level_names));
                    perr(p, loc.off, loc.len, "severity must be info, low, medium, high or critical, not '%s'%s%s%s", w,
                         near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
                }
                break;
            }
            case MK_STATUS: {
                const char *w = NULL;
                ok = parse_one_word(p, "status", &w, &loc);
                if (ok) {
                    if (strcmp(w, "stable") == 0)
                        r->meta.status = AH_RULE_STATUS_STABLE;
                    else if (strcmp(w, "test") == 0)
                        r->meta.status = AH_RULE_STATUS_TEST;
                    else if (strcmp(w, "experimental") == 0)
                        r->meta.status = AH_RULE_STATUS_EXPERIMENTAL;
                    else
                        perr(p, loc.off, loc.len, "status must be stable, test or experimental, not '%s'", w);
                }
                break;
            }
            case MK_TAGS: ok = parse_words(p, &tags); break;
            case MK_REFERENCES: ok = parse_words(p, &refs); break;
            case MK_FALSEPOSITIVES: ok = parse_words(p, &fps); break;
            case MK_ROUTINE:
                if (r->meta.kind != AH_RULE_SINGLE) {
                    perr(p, key_off, key_len,
                         "'routine' belongs to single-event rules: a %s rule has no hit of one event",
                         ah_rule_kind_name(r->meta.kind));
                    ok = false;
                    break;
                }
                ok = parse_words(p, &routine) && parse_routine(p, &r->meta, &routine, key_off, key_len);
                break;
            case MK_TEACHES:
                if (r->meta.kind != AH_RULE_SINGLE) {
                    perr(p, key_off, key_len,
                         "'teaches' belongs to single-event rules: a %s rule has no hit of one event",
                         ah_rule_kind_name(r->meta.kind));
                    ok = false;
                    break;
                }
                ok = parse_words(p, &teaches) && parse_teaches(p, &r->meta, &teaches, key_off, key_len);
                break;
            case MK_ESCALATE:
                escalate_off = key_off;
                escalate_len = key_len;
                ok = parse_words(p, &escalate) && parse_escalate(p, &r->meta, &escalate, key_off, key_len);
                break;
            case MK_SHOWS: {
                const char *w = NULL;
                ok = parse_one_word(p, "shows", &w, &loc);
                r->corr->shows_name = w;
                r->corr->shows_off = loc.off;
                r->corr->shows_len = loc.len;
                break;
            }
            case MK_SOURCES: {
                advance(p, AHI_LEX_WORD);
                while (ok && (p->cur.kind == AHI_T_WORD || p->cur.kind == AHI_T_STRING)) {
                    ah_source_kind sk = ah_source_from_name(ah_span_make(p->cur.s, p->cur.n));
                    if (sk == AH_SOURCE_UNKNOWN) {
                        static const char *const snames[] = {"ual", "signin", "entra_audit"};
                        const char *near = closest(p->cur.s, p->cur.n, snames, 3);
                        perr(p, p->cur.off, p->cur.len,
                             "unknown source '%.*s' (expected ual, signin or entra_audit)%s%s%s", (int)p->cur.n,
                             p->cur.s, near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
                        advance(p, AHI_LEX_WORD);
                        continue;
                    }
                    if (r->meta.sources & AH_SOURCE_BIT(sk))
                        pwarn(p, p->cur.off, p->cur.len, "source '%s' listed twice", ah_source_name(sk));
                    r->meta.sources |= AH_SOURCE_BIT(sk);
                    ok = strvec_push(p, &srcs, p->cur.s, p->cur.n, p->cur.off);
                    advance(p, AHI_LEX_WORD);
                }
                if (ok && p->cur.kind == AHI_T_EOL)
                    advance(p, AHI_LEX_EXPR);
                else if (ok && p->cur.kind != AHI_T_EOF && p->cur.kind != AHI_T_RBRACE)
                    ok = false;
                break;
            }
            case MK_MATCH: {
                advance(p, AHI_LEX_EXPR);
                p->depth = 0;
                r->match = parse_or(p);
                ok = r->match != NULL;
                if (ok && p->cur.kind == AHI_T_IDENT && mkey_of(p->cur.s, p->cur.n) == MK_NONE &&
                    cur_kw(p) != KW_RULE) {
                    expected(p, "and, or, or the next key after the condition");
                    ok = false;
                } else if (ok && p->cur.kind == AHI_T_BADOP) {
                    bad_operator(p);
                    ok = false;
                } else if (ok && p->cur.kind != AHI_T_IDENT && p->cur.kind != AHI_T_RBRACE &&
                           p->cur.kind != AHI_T_EOF) {
                    expected(p, "and, or, ')' or the next key after the condition");
                    ok = false;
                }
                break;
            }
            case MK_DETAILS: {
                size_t off = 0, len = 0;
                r->details_text = parse_text(p, "details", &off, &len);
                r->details_off = off;
                r->details_len = len;
                ok = r->details_text != NULL;
                break;
            }
            case MK_TEST: ok = parse_test(p, r); break;
            case MK_GROUP: {
                size_t cap = 0;
                ahi_aoperand *v = NULL;
                bool *dom = NULL;
                size_t n = 0;
                /* Kept for the base step, built after the body. */
                ok = parse_operand_list(p, "group", &v, &dom, &n, &cap);
                if (ok) {
                    group_dom = dom;
                    group_ops = v;
                    ngroup = n;
                    group_off = key_off;
                }
                break;
            }
            case MK_VALUE:
                r->corr->values_off = key_off;
                ok = parse_operand_list(p, "value", &r->corr->values, &r->corr->value_domain, &r->corr->nvalues,
                                        &r->corr->capvalues);
                break;
            case MK_WINDOW:
            case MK_WITHIN:
                ok = parse_duration(p, mkey_names[k], (int64_t)31 * 86400 * 1000000000, "31d", &r->corr->window_ns,
                                    &r->corr->window_off, &r->corr->window_len);
                break;
            case MK_BASELINE:
                ok = parse_duration(p, "baseline", (int64_t)3660 * 86400 * 1000000000, "3660d", &r->corr->baseline_ns,
                                    &r->corr->baseline_off, &r->corr->baseline_len);
                break;
            case MK_WHEN: ok = parse_when(p, r->corr); break;
            case MK_STEP: ok = parse_step(p, r->corr); break;
            default: break;
            }
        }
        if (!ok) {
            p->failed = true;
            if (!recover(p))
                break; /* at the next rule or EOF */
        }
    }
    r->meta.tags.v = tags.v;
    r->meta.tags.n = tags.n;
    r->meta.references.v = refs.v;
    r->meta.references.n = refs.n;
    r->meta.falsepositives.v = fps.v;
    r->meta.falsepositives.n = fps.n;
    r->meta.routine.v = routine.v;
    r->meta.routine.n = routine.n;
    /* ATT&CK ids out of the tags. */
    strvec att = {0};
    for (size_t i = 0; i < tags.n; i++) {
        const char *id;
        if (attack_id(tags.v[i], &id)) {
            char up[64];
            size_t n = strlen(id);
            if (n >= sizeof up)
                n = sizeof up - 1;
            for (size_t j = 0; j < n; j++)
                up[j] = (id[j] >= 'a' && id[j] <= 'z') ? (char)(id[j] - 32) : id[j];
            strvec_push(p, &att, up, n, r->id_off);
        }
    }
    r->meta.attack.v = att.v;
    r->meta.attack.n = att.n;
    static const struct {
        mkey k;
        const char *what;
    } required[] = {
        {MK_TITLE, "a title"}, {MK_SEVERITY, "a severity"}, {MK_SOURCES, "sources"}, {MK_MATCH, "a match condition"}};
    if (r->corr)
        finish_correlation(p, r, seen, group_ops, group_dom, ngroup, group_off);
    if (seen[MK_ESCALATE] && r->meta.escalate_facts && r->meta.escalate_level <= r->meta.level && seen[MK_SEVERITY])
        perr(p, escalate_off, escalate_len, "escalate: %s is not above the rule's severity %s",
             ah_level_name(r->meta.escalate_level), ah_level_name(r->meta.level));
    if (seen[MK_SOURCES] && r->meta.sources == 0 && !p->failed)
        perr(p, r->id_off, r->id_len, "rule '%s' lists no sources (ual, signin, entra_audit): it can never apply",
             r->meta.id);
    for (size_t i = 0; i < AH_ARRAY_LEN(required); i++)
        if (!seen[required[i].k] && !(required[i].k == MK_MATCH && r->meta.kind == AH_RULE_SEQUENCE))
            perr(p, r->id_off, r->id_len, "rule '%s' has no %s (%s is required)", r->meta.id, required[i].what,
                 mkey_names[required[i].k]);
    if (r->ntests == 0 && !p->failed && !p->lx.src->sigma)
        pwarn(p, r->id_off, r->id_len, "rule '%s' has no tests (add `test hit ...` and `test miss ...`)", r->meta.id);
}

/* A parser at the start of src; the lexer reports to the same sink. */
static void parser_init(ahi_parser *p, const ahi_src *src, ahi_arena *a, ah_diag *d, uint64_t *errors)
{
    memset(p, 0, sizeof *p);
    p->lx.src = src;
    p->lx.arena = a;
    p->lx.diag = d;
    p->lx.errors = errors;
    p->a = a;
    p->diag = d;
    p->errors = errors;
}

void ahi_parse_file(const ahi_src *src, ahi_arena *a, ah_diag *d, uint64_t *errors, ahi_rule_sink sink, void *ud)
{
    ahi_parser P;
    ahi_parser *p = &P;
    parser_init(p, src, a, d, errors);
    advance(p, AHI_LEX_EXPR);
    while (p->cur.kind != AHI_T_EOF) {
        ah_rule_kind kind = AH_RULE_SINGLE;
        size_t toplen = p->cur.kind == AHI_T_IDENT ? top_word_at(src, p->cur.off, &kind) : 0;
        if (!toplen) {
            if (p->cur.kind != AHI_T_ERROR)
                expected(p, "'rule'"); /* or correlation, sequence, first-seen (kept short: tools match this text) */
            /* Skip to the next line that starts a rule. */
            recover(p);
            while (p->cur.kind != AHI_T_EOF && !(p->cur.kind == AHI_T_IDENT && top_word_at(src, p->cur.off, NULL)))
                recover(p);
            continue;
        }
        size_t rule_off = p->cur.off;
        p->failed = false;
        p->lx.pos = rule_off + toplen; /* `first-seen` is one word here */
        advance(p, AHI_LEX_WORD);
        while (p->cur.kind == AHI_T_EOL)
            advance(p, AHI_LEX_WORD);
        ah_rule *r = ahi_alloc(a, sizeof *r);
        if (!r) {
            pnomem(p, rule_off, 4);
            return;
        }
        r->src = src;
        r->meta.kind = kind;
        r->meta.nsteps = 1;
        if (kind != AH_RULE_SINGLE) {
            r->corr = ahi_alloc(a, sizeof *r->corr);
            if (!r->corr) {
                pnomem(p, rule_off, 4);
                return;
            }
        }
        r->meta.title = r->meta.description = r->meta.note = r->meta.author = "";
        r->meta.date = r->meta.modified = r->meta.version = "";
        r->meta.file = src->path;
        uint64_t col;
        ahi_src_locate(src, rule_off, &r->meta.line, &col);
        if (p->cur.kind != AHI_T_WORD) {
            expected(p, "a rule id after 'rule' (letters, digits, - _ . :)");
            r->meta.id = "";
            r->id_off = p->cur.off;
            r->id_len = p->cur.len;
        } else {
            r->id_off = p->cur.off;
            r->id_len = p->cur.len;
            size_t n = p->cur.n;
            r->meta.id = ahi_strndup(a, p->cur.s, n);
            if (!r->meta.id)
                return;
            if (!valid_id(p->cur.s, n))
                perr(p, p->cur.off, p->cur.len, "rule id '%s' may only hold letters, digits, '-', '_', '.', ':'",
                     r->meta.id);
            advance(p, AHI_LEX_WORD);
            while (p->cur.kind == AHI_T_EOL)
                advance(p, AHI_LEX_WORD);
        }
        if (p->cur.kind == AHI_T_LBRACE) {
            advance(p, AHI_LEX_EXPR);
            parse_rule_body(p, r);
        } else {
            expected(p, "'{' after the rule id");
            p->failed = true;
            if (recover(p))
                parse_rule_body(p, r);
        }
        r->failed = p->failed;
        if (r->failed)
            r->meta.skipped = "it has errors";
        if (!sink(ud, r))
            return;
    }
}

ahi_anode *ahi_parse_expr(const ahi_src *src, ahi_arena *a, ah_diag *d, uint64_t *errors)
{
    ahi_parser P;
    ahi_parser *p = &P;
    parser_init(p, src, a, d, errors);
    advance(p, AHI_LEX_EXPR);
    if (p->cur.kind == AHI_T_EOF) {
        perr(p, 0, 1, "empty expression");
        return NULL;
    }
    ahi_anode *n = parse_or(p);
    if (n && p->cur.kind != AHI_T_EOF) {
        expected(p, "and, or, or the end of the expression");
        return NULL;
    }
    return p->failed ? NULL : n;
}

ahi_aoperand *ahi_parse_operand_text(const char *text, size_t n, ahi_arena *a, ah_diag *d, uint64_t *errors,
                                     const ahi_src *err_src, size_t err_off, size_t err_len)
{
    ahi_src *src = ahi_src_new(a, err_src ? err_src->path : "<details>", text, n);
    if (!src)
        return NULL;
    ahi_parser P;
    ahi_parser *p = &P;
    parser_init(p, src, a, d, errors);
    /* Lexer errors inside a placeholder are reported through the parser's
     * redirect: silence the lexer and re-report. */
    p->lx.diag = NULL;
    p->lx.errors = NULL;
    p->err_src = err_src;
    p->at = (ahi_placeholder){err_src, err_off, err_len, ah_span_make(src->text, src->len > 80 ? 80 : src->len)};
    ahi_aoperand *o = ahi_alloc(a, sizeof *o);
    if (!o)
        return NULL;
    advance(p, AHI_LEX_EXPR);
    if (p->cur.kind == AHI_T_ERROR) {
        perr(p, 0, 1, "not a field or path");
        return NULL;
    }
    if (!parse_operand(p, o))
        return NULL;
    if (p->cur.kind != AHI_T_EOF) {
        expected(p, "'}' after the field or path");
        return NULL;
    }
    return p->failed ? NULL : o;
}
