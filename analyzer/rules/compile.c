/*
 * compile.c: AST -> evaluation tree, once per rule.
 *
 * Everything that can be decided before the first event is decided here:
 * names resolve to accessors (a normalized field, a pseudo-field, or a raw
 * path with its steps), `operation` literals are canonicalized with the
 * same function the normalizer uses, variables are substituted, list files
 * are read into hash sets, prefixes into range sets, regexes are compiled
 * and JIT-ed, time literals are parsed. Every check that can fail reports
 * at the exact token. A rule naming an unset variable is compiled anyway
 * (to find its other problems) and then set aside with a reason.
 *
 * Size: one pass from AST to evaluation tree: accessors, operators (driven
 * by ops.def), lists, regexes with their atoms and the literal groups share
 * the compile context.
 */
#include "rules_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../parsers/formats/formats.h"
#include "../../parsers/formats/opcanon.h"
#include "../../parsers/formats/timeparse.h"
#include "../../parsers/util/utf8.h"

/* --- names ------------------------------------------------------------- */

static const struct {
    const char *name;
    ahi_opd_kind kind;
} pseudo_fields[] = {
    {"operation", AHI_OPD_OPCANON}, {"operation_raw", AHI_OPD_OPRAW}, {"time", AHI_OPD_TIME},
    {"source", AHI_OPD_SOURCE},     {"format", AHI_OPD_FORMAT},       {"result", AHI_OPD_RESULT},
};

static bool is_field_name(const char *s, size_t n)
{
    for (size_t i = 0; i < AH_ARRAY_LEN(pseudo_fields); i++)
        if (strlen(pseudo_fields[i].name) == n && memcmp(pseudo_fields[i].name, s, n) == 0)
            return true;
    if (n == 3 && memcmp(s, "raw", 3) == 0)
        return true;
    return ah_field_from_name(ah_span_make(s, n)) != AH_F_COUNT;
}

static const char *closest_field(const char *s, size_t n)
{
    const char *best = NULL;
    size_t limit = n <= 4 ? 1 : (n <= 8 ? 2 : 3), bestd = SIZE_MAX;
    for (int f = 0; f < AH_F_COUNT; f++) {
        const char *name = ah_field_name((ah_field_id)f);
        size_t d = ahi_edit_distance_ci(s, n, name, strlen(name));
        if (d <= limit && d < bestd) {
            best = name;
            bestd = d;
        }
    }
    for (size_t i = 0; i < AH_ARRAY_LEN(pseudo_fields); i++) {
        const char *name = pseudo_fields[i].name;
        size_t d = ahi_edit_distance_ci(s, n, name, strlen(name));
        if (d <= limit && d < bestd) {
            best = name;
            bestd = d;
        }
    }
    return best;
}

static void note_var(ahi_cctx *cx, const char *name, size_t n)
{
    for (size_t i = 0; i < cx->nused_vars; i++)
        if (strlen(cx->used_vars[i]) == n && memcmp(cx->used_vars[i], name, n) == 0)
            return;
    if (cx->nused_vars < AHI_MAX_RULE_VARS)
        cx->used_vars[cx->nused_vars++] = ahi_strndup(&cx->store->arena, name, n);
}

static const char *var_value(ahi_cctx *cx, const char *name, size_t n)
{
    note_var(cx, name, n);
    for (size_t i = 0; i < cx->ntvars; i++)
        if (strlen(cx->tvars[i].name) == n && memcmp(cx->tvars[i].name, name, n) == 0)
            return cx->tvars[i].value;
    for (const ahi_var *v = cx->vars; v; v = v->next)
        if (strlen(v->name) == n && memcmp(v->name, name, n) == 0)
            return v->value;
    if (!cx->missing_var)
        cx->missing_var = ahi_strndup(&cx->store->arena, name, n);
    return NULL;
}

/* --- operands ---------------------------------------------------------- */

static bool compile_steps(ahi_cctx *cx, const ahi_aoperand *a, ahi_operand *out)
{
    out->nsteps = a->nsteps;
    if (a->nsteps == 0)
        return true;
    out->steps = ahi_alloc(&cx->store->arena, a->nsteps * sizeof *out->steps);
    if (!out->steps)
        return false;
    for (size_t i = 0; i < a->nsteps; i++) {
        const ahi_astep *s = &a->steps[i];
        ahi_cstep *c = &out->steps[i];
        c->kind = s->kind;
        c->key = s->key;
        c->keylen = s->keylen;
        c->index = s->index;
        if (s->kind == AHI_STEP_SELECT) {
            if (s->sel.kind == AHI_V_VAR) {
                const char *v = var_value(cx, s->sel.s, s->sel.n);
                c->sel = v ? v : "";
                c->seln = strlen(c->sel);
            } else {
                c->sel = s->sel.s;
                c->seln = s->sel.n;
            }
        }
    }
    return true;
}

bool ahi_compile_operand(ahi_cctx *cx, const ahi_aoperand *a, ahi_operand *out)
{
    memset(out, 0, sizeof *out);
    out->slot = -1;
    const char *h = a->head;
    size_t hn = a->headlen;
    /* Bound element names (any/all), innermost first. */
    for (int i = cx->nbind - 1; i >= 0; i--) {
        if (cx->bind[i].n == hn && memcmp(cx->bind[i].name, h, hn) == 0) {
            out->kind = AHI_OPD_PATH;
            out->slot = i;
            out->slot_name = cx->bind[i].name;
            return compile_steps(cx, a, out);
        }
    }
    if (hn == 3 && memcmp(h, "raw", 3) == 0) {
        cx->needs_raw = true;
        if (a->nsteps == 0) {
            out->kind = AHI_OPD_RAWTEXT;
            return true;
        }
        out->kind = AHI_OPD_PATH;
        return compile_steps(cx, a, out);
    }
    bool found = false;
    for (size_t i = 0; i < AH_ARRAY_LEN(pseudo_fields); i++)
        if (strlen(pseudo_fields[i].name) == hn && memcmp(pseudo_fields[i].name, h, hn) == 0) {
            out->kind = pseudo_fields[i].kind;
            found = true;
        }
    if (!found) {
        ah_field_id f = ah_field_from_name(ah_span_make(h, hn));
        if (f != AH_F_COUNT) {
            out->kind = AHI_OPD_FIELD;
            out->field = f;
            found = true;
        }
    }
    if (!found) {
        const char *near = closest_field(h, hn);
        bool upper = h[0] >= 'A' && h[0] <= 'Z';
        if (near && !upper)
            ahi_cerr(cx, a->head_off, hn, "unknown field '%s' (did you mean '%s'?)", h, near);
        else if (upper || a->nsteps > 0)
            ahi_cerr(cx, a->head_off, hn, "unknown field '%s' (keys of the record are written raw.%s)", h, h);
        else
            ahi_cerr(cx, a->head_off, hn,
                     "unknown field '%s' (fields: user, ip, operation, app_id, target, time, source, ...; record keys: "
                     "raw.Key)",
                     h);
        return false;
    }
    if (a->nsteps > 0) {
        if (a->steps[a->nsteps - 1].kind == AHI_STEP_JSON && a->nsteps == 1)
            ahi_cerr(cx, a->off, a->len,
                     "json() needs a raw path, e.g. json(raw.ExtendedProperties[Name=\"additionalDetails\"].Value)");
        else
            ahi_cerr(cx, a->steps[0].off, a->steps[0].len,
                     "'%s' is a normalized field and has no keys; for the record's own keys write raw.%s...", h, h);
        return false;
    }
    return true;
}

/* --- literals ---------------------------------------------------------- */

static bool canon_op(ahi_cctx *cx, const char *s, size_t n, const char **out, size_t *on)
{
    ah_buf b;
    ah_buf_init(&b, 1u << 20);
    ah_status st = ah_opcanon(ah_span_make(s, n), &b);
    if (st == AH_ERR_NOMEM) {
        ah_buf_free(&b);
        return ahi_nomem(&cx->store->arena);
    }
    bool ok = st == AH_OK;
    if (ok) {
        *out = ahi_strndup(&cx->store->arena, ah_buf_cstr(&b), b.len);
        *on = b.len;
        ok = *out != NULL;
    }
    ah_buf_free(&b);
    return ok;
}

/* A value -> literal. Variables are substituted (an unset one yields "" and
 * marks the rule skipped). */
static bool lit_of(ahi_cctx *cx, const ahi_aval *v, ahi_lit *out)
{
    memset(out, 0, sizeof *out);
    switch (v->kind) {
    case AHI_V_STRING:
    case AHI_V_REGEX:
        out->s = v->s;
        out->n = v->n;
        return true;
    case AHI_V_NUMBER:
        out->s = v->s;
        out->n = v->n;
        out->is_num = true;
        out->num = v->num;
        return true;
    case AHI_V_BOOL:
        out->s = v->b ? "true" : "false";
        out->n = strlen(out->s);
        return true;
    case AHI_V_VAR: {
        const char *val = var_value(cx, v->s, v->n);
        out->s = val ? val : "";
        out->n = strlen(out->s);
        if (val && ahi_parse_number(out->s, out->n, &out->num))
            out->is_num = true;
        return true;
    }
    }
    return false;
}

typedef struct litvec {
    ahi_lit *v;
    size_t n, cap;
    size_t *off, *len; /* source location of each (for errors) */
    size_t loccap;
} litvec;

static bool litvec_push(ahi_cctx *cx, litvec *lv, const ahi_lit *l, size_t off, size_t len)
{
    size_t cap2 = lv->loccap;
    if (!ahi_grow(&cx->store->arena, (void **)&lv->v, &lv->cap, lv->n, sizeof *lv->v))
        return false;
    size_t c3 = cap2;
    if (!ahi_grow(&cx->store->arena, (void **)&lv->off, &cap2, lv->n, sizeof *lv->off) ||
        !ahi_grow(&cx->store->arena, (void **)&lv->len, &c3, lv->n, sizeof *lv->len))
        return false;
    lv->loccap = cap2 < c3 ? cap2 : c3;
    lv->v[lv->n] = *l;
    lv->off[lv->n] = off;
    lv->len[lv->n] = len;
    lv->n++;
    return true;
}

/* Values of an inline list; a variable inside [...] splits at commas. */
static bool list_values(ahi_cctx *cx, const ahi_anode *n, litvec *lv)
{
    for (size_t i = 0; i < n->nvals; i++) {
        const ahi_aval *v = &n->vals[i];
        ahi_lit l;
        if (!lit_of(cx, v, &l))
            return false;
        if (v->kind != AHI_V_VAR) {
            if (!litvec_push(cx, lv, &l, v->off, v->len))
                return false;
            continue;
        }
        const char *s = l.s;
        size_t len = l.n, start = 0;
        for (size_t k = 0; k <= len; k++) {
            if (k < len && s[k] != ',')
                continue;
            size_t a = start, b = k;
            while (a < b && (s[a] == ' ' || s[a] == '\t'))
                a++;
            while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t'))
                b--;
            if (b > a) {
                ahi_lit part;
                memset(&part, 0, sizeof part);
                part.s = ahi_strndup(&cx->store->arena, s + a, b - a);
                part.n = b - a;
                if (!part.s || !litvec_push(cx, lv, &part, v->off, v->len))
                    return false;
            }
            start = k + 1;
        }
    }
    return true;
}

static const char *resolve_path(ahi_cctx *cx, const char *file)
{
    if (file[0] == '/' || !cx->basedir || strcmp(cx->basedir, ".") == 0)
        return ahi_strdup(&cx->store->arena, file);
    size_t n = strlen(cx->basedir) + strlen(file) + 2;
    char *p = ahi_alloc(&cx->store->arena, n);
    if (p)
        snprintf(p, n, "%s/%s", cx->basedir, file);
    return p;
}

/* Load (or reuse) a list file in the given mode. */
static ahi_listfile *list_file(ahi_cctx *cx, const ahi_aval *pathval, ahi_list_mode mode)
{
    const char *path = resolve_path(cx, pathval->s);
    if (!path)
        return NULL;
    for (ahi_listfile *l = cx->store->lists; l; l = l->next)
        if (l->mode == mode && strcmp(l->path, path) == 0)
            return l;
    ahi_lit *items = NULL;
    size_t n = 0;
    const char *why = NULL;
    char sha256[65];
    uint64_t size = 0;
    if (!ahi_list_read(&cx->store->arena, path, &items, &n, sha256, &size, &why)) {
        ahi_cerr(cx, pathval->off, pathval->len, "cannot read list file %s: %s", path, why);
        return NULL;
    }
    ahi_listfile *l = ahi_alloc(&cx->store->arena, sizeof *l);
    if (!l)
        return NULL;
    l->path = path;
    memcpy(l->sha256, sha256, sizeof l->sha256);
    l->size = size;
    l->mode = mode;
    if (mode == AHI_LIST_CIDR) {
        size_t bad = 0;
        l->cidr = ahi_cidrset_build(&cx->store->arena, items, n, &bad);
        if (!l->cidr) {
            if (bad < n)
                ahi_cerr(cx, pathval->off, pathval->len, "bad CIDR prefix '%s' in list file %s", items[bad].s, path);
            return NULL;
        }
    } else {
        if (mode == AHI_LIST_OPCANON)
            for (size_t i = 0; i < n; i++)
                if (!canon_op(cx, items[i].s, items[i].n, &items[i].s, &items[i].n))
                    return NULL;
        l->set = ahi_strset_build(&cx->store->arena, items, n, mode == AHI_LIST_CASED);
        if (!l->set)
            return NULL;
    }
    l->next = cx->store->lists;
    cx->store->lists = l;
    return l;
}

/* --- comparisons ------------------------------------------------------- */

static const char *op_word(ahi_op op) { return (unsigned)op < AHI_OP_COUNT ? ahi_ops[op].spelling : "?"; }

static bool compile_regex(ahi_cctx *cx, const ahi_anode *a, ahi_cnode *c)
{
    const ahi_aval *v = &a->vals[0];
    ahi_lit l;
    if (!lit_of(cx, v, &l))
        return false;
    uint32_t opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
    if (!a->cased)
        opts |= PCRE2_CASELESS;
    for (const char *f = v->flags; *f; f++) {
        switch (*f) {
        case 'i': break; /* the default; accepted for Sigma-style patterns */
        case 'm': opts |= PCRE2_MULTILINE; break;
        case 's': opts |= PCRE2_DOTALL; break;
        case 'x': opts |= PCRE2_EXTENDED; break;
        default:
            ahi_cerr(cx, v->off, v->len,
                     "unknown regex flag '%c' (flags: i m s x; case-sensitive matching: add `cased`)", *f);
            return false;
        }
    }
    memcpy(c->re_flags, v->flags, sizeof c->re_flags);
    c->re_src = l.s;
    if (cx->missing_var)
        return true; /* the rule is skipped; do not compile an empty pattern */
    int err = 0;
    PCRE2_SIZE erroff = 0;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)l.s, l.n, opts, &err, &erroff, NULL);
    if (!re && err == PCRE2_ERROR_HEAP_FAILED) {
        ahi_nomem(&cx->store->arena);
        ahi_cerr(cx, v->off, v->len, "out of memory compiling the regex");
        return false;
    }
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof msg);
        /* Point at the offending byte inside /.../ when the pattern was
         * written literally (offsets match the source then). */
        size_t at = v->off + 1 + erroff;
        if (at >= v->off + v->len || v->kind == AHI_V_VAR)
            at = v->off;
        ahi_cerr(cx, at, 1, "bad regex: %s (at offset %zu)", (const char *)msg, (size_t)erroff);
        return false;
    }
    (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* falls back to the interpreter when JIT is unavailable */
    ahi_store *st = cx->store;
    if (st->ncodes == st->capcodes) {
        pcre2_code **nc = ah_grow_array(st->codes, &st->capcodes, 16, sizeof *nc);
        if (!nc) {
            pcre2_code_free(re);
            ahi_nomem(&st->arena);
            ahi_cerr(cx, v->off, v->len, "out of memory");
            return false;
        }
        st->codes = nc;
    }
    st->codes[st->ncodes++] = re;
    c->re = re;
    c->atoms = ahi_atoms_of_regex(&st->arena, l.s, l.n, (opts & PCRE2_CASELESS) != 0, (opts & PCRE2_EXTENDED) != 0);
    return true;
}

static bool check_enum_value(ahi_cctx *cx, const ahi_anode *a, const ahi_lit *l, size_t off, size_t len, ahi_opd_kind k)
{
    if (cx->missing_var)
        return true;
    if (k == AHI_OPD_SOURCE) {
        ah_source_kind s = ah_source_from_name(ah_span_make(l->s, l->n));
        if (s == AH_SOURCE_UNKNOWN) {
            ahi_cerr(cx, off, len, "unknown source '%.*s' (expected ual, signin or entra_audit)", (int)l->n, l->s);
            return false;
        }
        if (cx->sources && !(cx->sources & AH_SOURCE_BIT(s)) && !a->negate)
            ahi_cwarn(cx, off, len, "source '%s' is not among the rule's sources: this comparison is never true",
                      ah_source_name(s));
    } else if (k == AHI_OPD_RESULT) {
        static const char *const names[] = {"success", "failure", "unknown"};
        bool ok = false;
        for (size_t i = 0; i < 3; i++)
            ok |= ahi_eq_ci(l->s, l->n, names[i], strlen(names[i]));
        if (!ok) {
            ahi_cerr(cx, off, len, "result is success, failure or unknown, not '%.*s'", (int)l->n, l->s);
            return false;
        }
    } else if (k == AHI_OPD_FORMAT) {
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)l->n, l->s);
        const ah_format *f = ah_format_by_name(name);
        if (!f) {
            ahi_cerr(cx, off, len, "unknown format '%s' (see docs/formats.md for the format ids)", name);
            return false;
        }
        if (cx->sources && !(cx->sources & AH_SOURCE_BIT(f->source)) && !a->negate)
            ahi_cwarn(cx, off, len,
                      "format '%s' is a %s format, not among the rule's sources: this comparison is never true", name,
                      ah_source_name(f->source));
    }
    return true;
}

static ahi_cnode *compile_cmp(ahi_cctx *cx, const ahi_anode *a)
{
    ahi_arena *ar = &cx->store->arena;
    ahi_cnode *c = ahi_alloc(ar, sizeof *c);
    if (!c)
        return NULL;
    c->kind = AHI_N_CMP;
    c->op = a->op;
    c->negate = a->negate;
    c->cased = a->cased;
    if (!ahi_compile_operand(cx, &a->opd, &c->opd))
        return NULL;
    ahi_opd_kind k = c->opd.kind;
    ahi_op op = a->op;
    const ahi_aval *v0 = a->nvals ? &a->vals[0] : NULL;

    /* Which operators make sense for which operand (ops.def ON, CASED). */
    const ahi_opinfo *oi = &ahi_ops[op];
    char list[256];
    if (k == AHI_OPD_TIME) {
        if (!(oi->on & AHI_ON_TIME)) {
            ahi_cerr(cx, a->op_off, a->op_len, "time supports %s, not %s",
                     ahi_oplist_text(AHI_OPLIST_TIME, list, sizeof list), op_word(op));
            return NULL;
        }
    } else if (k == AHI_OPD_SOURCE || k == AHI_OPD_RESULT) {
        if (!(oi->on & AHI_ON_ENUM)) {
            ahi_cerr(cx, a->op_off, a->op_len, "%s supports %s, not %s", k == AHI_OPD_SOURCE ? "source" : "result",
                     ahi_oplist_text(AHI_OPLIST_ENUM, list, sizeof list), op_word(op));
            return NULL;
        }
        if (oi->arg == AHI_ARG_LIST && a->list_file) {
            ahi_cerr(cx, a->op_off, a->op_len, "use in [...] for %s", k == AHI_OPD_SOURCE ? "source" : "result");
            return NULL;
        }
    }
    if (a->cased &&
        (k == AHI_OPD_OPCANON || k == AHI_OPD_TIME || k == AHI_OPD_SOURCE || k == AHI_OPD_RESULT || !oi->cased))
        ahi_cwarn(cx, a->off, a->len, "`cased` has no effect here%s",
                  k == AHI_OPD_OPCANON ? " (operation compares in canonical, case-folded form; use operation_raw)"
                                       : "");

    switch (oi->arg) {
    case AHI_ARG_NONE: return c;
    case AHI_ARG_REGEX:
        if (!compile_regex(cx, a, c))
            return NULL;
        return c;
    case AHI_ARG_OPERAND:
        c->ref = ahi_alloc(ar, sizeof *c->ref);
        if (!c->ref || !ahi_compile_operand(cx, a->ref, c->ref))
            return NULL;
        return c;
    case AHI_ARG_LIST:
    case AHI_ARG_CIDR: {
        bool cidr = oi->arg == AHI_ARG_CIDR;
        if (a->list_file) {
            ahi_list_mode mode = cidr                   ? AHI_LIST_CIDR
                                 : k == AHI_OPD_OPCANON ? AHI_LIST_OPCANON
                                 : a->cased             ? AHI_LIST_CASED
                                                        : AHI_LIST_CI;
            ahi_listfile *l = list_file(cx, &a->vals[0], mode);
            if (!l)
                return NULL;
            c->set = l->set;
            c->cidr = l->cidr;
            c->list_path = l->path;
            return c;
        }
        litvec lv = {0};
        if (!list_values(cx, a, &lv))
            return NULL;
        if (lv.n == 0 && !cx->missing_var)
            ahi_cwarn(cx, a->op_off, a->op_len, "empty list: this comparison is never true");
        for (size_t i = 0; i < lv.n; i++) {
            if (!cidr && !check_enum_value(cx, a, &lv.v[i], lv.off[i], lv.len[i], k))
                return NULL;
            if (!cidr && k == AHI_OPD_OPCANON && !canon_op(cx, lv.v[i].s, lv.v[i].n, &lv.v[i].s, &lv.v[i].n))
                return NULL;
        }
        if (cidr) {
            size_t bad = 0;
            if (cx->missing_var) {
                c->cidr = ahi_cidrset_build(ar, NULL, 0, &bad);
                return c;
            }
            c->cidr = ahi_cidrset_build(ar, lv.v, lv.n, &bad);
            if (!c->cidr) {
                if (bad < lv.n)
                    ahi_cerr(cx, lv.off[bad], lv.len[bad],
                             "bad CIDR prefix '%s' (expected e.g. 10.0.0.0/8 or 2001:db8::/32)", lv.v[bad].s);
                return NULL;
            }
            return c;
        }
        c->set = ahi_strset_build(ar, lv.v, lv.n, a->cased && k != AHI_OPD_OPCANON);
        return c->set ? c : NULL;
    }
    case AHI_ARG_VALUE:
    case AHI_ARG_ORDER: break;
    }

    /* Single-value operators. */
    if (!v0 || !lit_of(cx, v0, &c->lit))
        return NULL;
    if (oi->arg == AHI_ARG_ORDER) {
        if (k == AHI_OPD_TIME || (v0->kind == AHI_V_STRING && !c->lit.is_num)) {
            ah_time_parse tp;
            if (!cx->missing_var &&
                ah_time_parse_str(ah_span_make(c->lit.s, c->lit.n), AH_DATE_ORDER_AUTO, &tp) != AH_OK) {
                ahi_cerr(cx, v0->off, v0->len,
                         k == AHI_OPD_TIME
                             ? "not a timestamp: '%.*s' (use ISO 8601, e.g. \"2021-01-12T00:00:00Z\")"
                             : "'%.*s' is neither a number nor a timestamp (numbers are written without quotes)",
                         (int)c->lit.n, c->lit.s);
                return NULL;
            }
            c->lit.is_time = !cx->missing_var;
            c->lit.time = tp.time;
            c->lit.is_num = false;
        } else if (!c->lit.is_num && !cx->missing_var) {
            ahi_cerr(cx, v0->off, v0->len, "%s compares numbers or timestamps", op_word(op));
            return NULL;
        }
        return c;
    }
    if (k == AHI_OPD_TIME) {
        ah_time_parse tp;
        if (!cx->missing_var && ah_time_parse_str(ah_span_make(c->lit.s, c->lit.n), AH_DATE_ORDER_AUTO, &tp) != AH_OK) {
            ahi_cerr(cx, v0->off, v0->len, "not a timestamp: '%.*s' (use ISO 8601, e.g. \"2021-01-12T00:00:00Z\")",
                     (int)c->lit.n, c->lit.s);
            return NULL;
        }
        c->lit.is_time = true;
        c->lit.time = tp.time;
        return c;
    }
    if ((oi->on & AHI_ON_ENUM) && !check_enum_value(cx, a, &c->lit, v0->off, v0->len, k))
        return NULL;
    if (k == AHI_OPD_OPCANON && !canon_op(cx, c->lit.s, c->lit.n, &c->lit.s, &c->lit.n))
        return NULL;
    return c;
}

ahi_cnode *ahi_compile_node(ahi_cctx *cx, const ahi_anode *a)
{
    ahi_arena *ar = &cx->store->arena;
    switch (a->kind) {
    case AHI_N_CMP: return compile_cmp(cx, a);
    case AHI_N_CONST: {
        ahi_cnode *c = ahi_alloc(ar, sizeof *c);
        if (c) {
            c->kind = AHI_N_CONST;
            c->cval = a->cval;
        }
        return c;
    }
    case AHI_N_AND:
    case AHI_N_OR:
    case AHI_N_NOT: {
        ahi_cnode *c = ahi_alloc(ar, sizeof *c);
        if (!c)
            return NULL;
        c->kind = a->kind;
        c->kids = ahi_alloc(ar, a->nkids * sizeof *c->kids);
        if (!c->kids)
            return NULL;
        bool ok = true;
        for (size_t i = 0; i < a->nkids; i++) {
            c->kids[i] = ahi_compile_node(cx, a->kids[i]); /* keep going: report every error */
            ok &= c->kids[i] != NULL;
        }
        c->nkids = a->nkids;
        return ok ? c : NULL;
    }
    case AHI_N_QUANT: {
        ahi_cnode *c = ahi_alloc(ar, sizeof *c);
        if (!c)
            return NULL;
        c->kind = AHI_N_QUANT;
        c->all = a->all;
        if (!ahi_compile_operand(cx, &a->over, &c->over))
            return NULL;
        if (c->over.kind != AHI_OPD_PATH) {
            ahi_cerr(cx, a->over.off, a->over.len, "%s needs a raw path to iterate (e.g. raw.ModifiedProperties)",
                     a->all ? "all" : "any");
            return NULL;
        }
        if (is_field_name(a->name, a->namelen)) {
            ahi_cerr(cx, a->name_off, a->namelen, "'%s' is a field name; pick another name for the element", a->name);
            return NULL;
        }
        for (int i = 0; i < cx->nbind; i++)
            if (cx->bind[i].n == a->namelen && memcmp(cx->bind[i].name, a->name, a->namelen) == 0) {
                ahi_cerr(cx, a->name_off, a->namelen, "'%s' is already bound by an enclosing any/all", a->name);
                return NULL;
            }
        if (cx->nbind >= AHI_MAX_BIND) {
            ahi_cerr(cx, a->off, a->len, "any/all nested too deeply (limit %d)", AHI_MAX_BIND);
            return NULL;
        }
        c->slot = cx->nbind;
        c->bind_name = a->name;
        cx->bind[cx->nbind].name = a->name;
        cx->bind[cx->nbind].n = a->namelen;
        cx->nbind++;
        c->kids = ahi_alloc(ar, sizeof *c->kids);
        ahi_cnode *body = c->kids ? ahi_compile_node(cx, a->kids[0]) : NULL;
        cx->nbind--;
        if (!body)
            return NULL;
        c->kids[0] = body;
        c->nkids = 1;
        return c;
    }
    }
    return NULL;
}

/* --- the skip index ---------------------------------------------------- */

typedef struct opvec {
    const char **v;
    size_t n, cap;
} opvec;

static bool opvec_add(ahi_arena *a, opvec *ov, const char *s)
{
    for (size_t i = 0; i < ov->n; i++)
        if (strcmp(ov->v[i], s) == 0)
            return true;
    if (!ahi_grow(a, (void **)&ov->v, &ov->cap, ov->n, sizeof *ov->v))
        return false;
    ov->v[ov->n++] = s;
    return true;
}

static bool pins(const ahi_cnode *n, opvec *ov, ahi_arena *a)
{
    switch (n->kind) {
    case AHI_N_CMP:
        if (n->opd.kind != AHI_OPD_OPCANON || n->negate)
            return false;
        if (n->op == AHI_OP_EQ)
            return opvec_add(a, ov, n->lit.s);
        if (n->op == AHI_OP_IN && n->set) {
            for (size_t i = 0; i < n->set->nitems; i++)
                if (!opvec_add(a, ov, n->set->items[i]))
                    return false;
            return true;
        }
        return false;
    case AHI_N_OR: {
        opvec tmp = {0};
        for (size_t i = 0; i < n->nkids; i++)
            if (!pins(n->kids[i], &tmp, a))
                return false;
        for (size_t i = 0; i < tmp.n; i++)
            if (!opvec_add(a, ov, tmp.v[i]))
                return false;
        return true;
    }
    case AHI_N_AND:
        for (size_t i = 0; i < n->nkids; i++) {
            opvec tmp = {0};
            if (pins(n->kids[i], &tmp, a)) {
                for (size_t k = 0; k < tmp.n; k++)
                    if (!opvec_add(a, ov, tmp.v[k]))
                        return false;
                return true;
            }
        }
        return false;
    case AHI_N_CONST:
        /* `false` pins to nothing: never a candidate. */
        return !n->cval;
    default: return false;
    }
}

bool ahi_pinned_ops(const ahi_cnode *n, const char ***ops, size_t *nops, ahi_arena *a)
{
    opvec ov = {0};
    if (!pins(n, &ov, a))
        return false;
    *ops = ov.v;
    *nops = ov.n;
    return true;
}

/* --- details templates ------------------------------------------------- */

ahi_template *ahi_compile_template(ahi_cctx *cx, const char *text, size_t n, size_t err_off, size_t err_len)
{
    /* Details are written to every output as they are: their literal text
     * must be well-formed UTF-8 like the values put into them. */
    for (size_t i = 0; i < n;) {
        int k = ah_utf8_check((const unsigned char *)text + i, n - i);
        if (k <= 0) {
            ahi_cerr(cx, err_off, err_len, "details: not valid UTF-8 at byte %zu (rule files are UTF-8)", i);
            return NULL;
        }
        i += (size_t)k;
    }
    ahi_arena *ar = &cx->store->arena;
    ahi_template *t = ahi_alloc(ar, sizeof *t);
    if (!t)
        return NULL;
    size_t cap = 0;
    ah_buf lit;
    ah_buf_init(&lit, 1u << 20);
    bool ok = true;
#define FLUSH_LIT()                                                                                                    \
    do {                                                                                                               \
        if (lit.len) {                                                                                                 \
            if (!ahi_grow(ar, (void **)&t->parts, &cap, t->nparts, sizeof *t->parts)) {                                \
                ok = false;                                                                                            \
                goto out;                                                                                              \
            }                                                                                                          \
            t->parts[t->nparts].text = ahi_strndup(ar, lit.data, lit.len);                                             \
            if (!t->parts[t->nparts].text || ah_buf_status(&lit) != AH_OK) {                                           \
                ok = false;                                                                                            \
                goto out;                                                                                              \
            }                                                                                                          \
            t->parts[t->nparts].n = lit.len;                                                                           \
            t->parts[t->nparts].opd = NULL;                                                                            \
            t->nparts++;                                                                                               \
            ah_buf_reset(&lit);                                                                                        \
        }                                                                                                              \
    } while (0)
    for (size_t i = 0; i < n; i++) {
        char c = text[i];
        if (c == '{' && i + 1 < n && text[i + 1] == '{') {
            ah_buf_putc(&lit, '{');
            i++;
            continue;
        }
        if (c == '}' && i + 1 < n && text[i + 1] == '}') {
            ah_buf_putc(&lit, '}');
            i++;
            continue;
        }
        if (c == '}') {
            ahi_cerr(cx, err_off, err_len, "details: stray '}' (write }} for a literal brace)");
            ok = false;
            goto out;
        }
        if (c != '{') {
            ah_buf_putc(&lit, c);
            continue;
        }
        /* Find the closing brace, skipping quoted strings ([Name="x}"]). */
        size_t j = i + 1;
        bool in_str = false;
        while (j < n && (in_str || text[j] != '}')) {
            if (text[j] == '\\' && in_str)
                j++;
            else if (text[j] == '"')
                in_str = !in_str;
            j++;
        }
        if (j >= n) {
            ahi_cerr(cx, err_off, err_len, "details: '{' without a closing '}' (write {{ for a literal brace)");
            ok = false;
            goto out;
        }
        FLUSH_LIT();
        ahi_aoperand *ao = ahi_parse_operand_text(text + i + 1, j - i - 1, ar, cx->quiet ? NULL : cx->diag,
                                                  cx->quiet ? NULL : cx->errors, cx->src, err_off, err_len);
        if (!ao) {
            ok = false;
            goto out;
        }
        ahi_operand *o = ahi_alloc(ar, sizeof *o);
        cx->rd = (ahi_placeholder){cx->src, err_off, err_len, ah_span_make(text + i, j - i + 1)}; /* with its braces */
        bool compiled = o && ahi_compile_operand(cx, ao, o);
        cx->rd = (ahi_placeholder){NULL, 0, 0, AH_SPAN_NULL};
        if (!compiled) {
            ok = false;
            goto out;
        }
        if (!ahi_grow(ar, (void **)&t->parts, &cap, t->nparts, sizeof *t->parts)) {
            ok = false;
            goto out;
        }
        if (!(t->parts[t->nparts].text = ahi_strndup(ar, text + i + 1, j - i - 1))) {
            ok = false;
            goto out;
        }
        t->parts[t->nparts].n = j - i - 1;
        t->parts[t->nparts].opd = o;
        t->nparts++;
        i = j;
    }
    FLUSH_LIT();
#undef FLUSH_LIT
out:
    ah_buf_free(&lit);
    return ok ? t : NULL;
}
