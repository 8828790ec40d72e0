/*
 * corr.c: correlation rules on the rule side: compiling their steps, keys
 * and templates, the observation index and the details template.
 * Phase 1 (ah_matcher_observe) and the byte form of an observation are in
 * observe.c, beside the matcher.
 *
 * A correlation rule is never a candidate of ah_matcher_match: its
 * conditions ("units": the base condition of an aggregation or first-seen
 * rule, or each step of a sequence) have their own small index, built here.
 */
#include "rules_private.h"

#include <math.h>
#include <stdio.h>
#include <string.h>


bool ah_ruleset_has_correlations(const ah_ruleset *rs) { return rs && rs->ncunits > 0; }

/* --- compiling ------------------------------------------------------- */

/* Keys and values are text: time and the whole record make no sense there. */
static bool compile_key(ahi_cctx *cx, const ahi_aoperand *a, ahi_operand *out, const char *what)
{
    if (!ahi_compile_operand(cx, a, out))
        return false;
    if (out->kind == AHI_OPD_TIME) {
        ahi_cerr(cx, a->off, a->len, "%s cannot be time: every event would be its own group (the window handles time)",
                 what);
        return false;
    }
    if (out->kind == AHI_OPD_RAWTEXT) {
        ahi_cerr(cx, a->off, a->len, "%s cannot be the whole record (raw); name a field or a raw path", what);
        return false;
    }
    return true;
}

static const char *const cvar_names[AHI_CV_COUNT_] = {
    "",          "count",     "distinct", "sum",       "window",  "group",    "first_time",
    "last_time", "value",     "user",     "ip",        "app",     "target",   "operation",
    "source",    "record_id", "baseline", "last_user", "last_ip", "last_app", "aggregates",
};

static bool compile_template(ahi_cctx *cx, ah_rule *r)
{
    ahi_corr *c = r->corr;
    const char *t = r->details_text;
    size_t n = strlen(t), cap = 0;
    ahi_arena *a = &cx->store->arena;
    char *buf = ahi_alloc(a, n + 1);
    size_t bl = 0;
    if (!buf)
        return false;
    for (size_t i = 0; i <= n; i++) {
        bool end = i == n;
        if (!end && t[i] == '{' && i + 1 < n && t[i + 1] == '{') {
            buf[bl++] = '{';
            i++;
            continue;
        }
        if (!end && t[i] == '}' && i + 1 < n && t[i + 1] == '}') {
            buf[bl++] = '}';
            i++;
            continue;
        }
        if (!end && t[i] == '}') {
            ahi_cerr(cx, r->details_off, r->details_len, "details: stray '}' (write }} for a literal brace)");
            return false;
        }
        if (!end && t[i] != '{') {
            buf[bl++] = t[i];
            continue;
        }
        if (bl) {
            if (!ahi_grow(a, (void **)&c->tparts, &cap, c->ntparts, sizeof *c->tparts))
                return false;
            c->tparts[c->ntparts++] = (ahi_ctpart){AHI_CV_TEXT, ahi_strndup(a, buf, bl), bl};
            bl = 0;
        }
        if (end)
            break;
        size_t j = i + 1;
        while (j < n && t[j] != '}')
            j++;
        if (j >= n) {
            ahi_cerr(cx, r->details_off, r->details_len,
                     "details: '{' without a closing '}' (write {{ for a literal brace)");
            return false;
        }
        ahi_cvar v = AHI_CV_TEXT;
        for (int k = 1; k < AHI_CV_COUNT_; k++)
            if (strlen(cvar_names[k]) == j - i - 1 && memcmp(cvar_names[k], t + i + 1, j - i - 1) == 0)
                v = (ahi_cvar)k;
        if (v == AHI_CV_TEXT) {
            ahi_cerr(cx, r->details_off, r->details_len,
                     "details of a %s rule: unknown placeholder '{%.*s}' (use {count}, {distinct}, {sum}, {window}, "
                     "{group}, {first_time}, {last_time}, {value}, {user}, {ip}, {app}, {target}, {operation}, "
                     "{source}, {record_id}, {baseline}, {last_user}, {last_ip}, {last_app}, {aggregates})",
                     ah_rule_kind_name(r->meta.kind), (int)(j - i - 1 > 60 ? 60 : j - i - 1), t + i + 1);
            return false;
        }
        if (v == AHI_CV_AGGREGATES && !(r->meta.kind == AH_RULE_AGGREGATE && c->has_when)) {
            ahi_cerr(cx, r->details_off, r->details_len,
                     "details: {aggregates} lists the terms of an aggregation's `when`; this rule has none");
            return false;
        }
        if (v == AHI_CV_BASELINE && !(r->meta.kind == AH_RULE_AGGREGATE && c->relative)) {
            ahi_cerr(cx, r->details_off, r->details_len,
                     "details: {baseline} is the learned maximum of a `when ... x baseline` rule; this rule has none");
            return false;
        }
        if (!ahi_grow(a, (void **)&c->tparts, &cap, c->ntparts, sizeof *c->tparts))
            return false;
        c->tparts[c->ntparts++] = (ahi_ctpart){v, NULL, 0};
        i = j;
    }
    return true;
}

/* Can `AGG cmp threshold` hold at all, and does it hold for every event?
 * count and distinct are whole numbers >= 1 in any window. */
static void check_threshold(ahi_cctx *cx, const ah_rule *r)
{
    const ahi_corr *c = r->corr;
    if (c->agg == AHI_AGG_SUM || c->relative)
        return; /* a sum can be anything; a factor is not a window value */
    double t = c->threshold;
    bool never = (c->cmp == AHI_OP_LT && t <= 1) || (c->cmp == AHI_OP_LE && t < 1) ||
                 (c->cmp == AHI_OP_EQ && (t < 1 || t != floor(t)));
    bool always = (c->cmp == AHI_OP_GT && t < 1) || (c->cmp == AHI_OP_GE && t <= 1);
    const char *what = c->agg == AHI_AGG_COUNT ? "count" : "distinct()";
    if (never)
        ahi_cerr(cx, c->when_off, c->when_len, "this condition can never hold: %s is a whole number of at least 1",
                 what);
    else if (always)
        ahi_cwarn(cx, c->when_off, c->when_len,
                  "this condition holds for every event (%s is at least 1): it is a single-event rule", what);
}

/* The operand of distinct() / sum(). */
static bool compile_agg_operand(ahi_cctx *cx, const ahi_aoperand *a, ahi_operand *out, ahi_agg agg)
{
    if (!ahi_compile_operand(cx, a, out))
        return false;
    if (agg == AHI_AGG_SUM &&
        !(out->kind == AHI_OPD_PATH ||
          (out->kind == AHI_OPD_FIELD && (out->field == AH_F_RECORD_TYPE || out->field == AH_F_RESULT_CODE)))) {
        ahi_cerr(cx, a->off, a->len,
                 "sum() needs a number: '%.*s' is text (sum a raw path, e.g. sum(raw.OperationCount))", (int)a->len,
                 cx->src->text + a->off);
        return false;
    }
    if (agg == AHI_AGG_DISTINCT && (out->kind == AHI_OPD_TIME || out->kind == AHI_OPD_RAWTEXT)) {
        ahi_cerr(cx, a->off, a->len, "distinct() of time or of the whole record counts every event: use count");
        return false;
    }
    return true;
}

bool ahi_corr_compile(ah_ruleset *rs, ah_rule *r, ahi_cctx *cx)
{
    ahi_corr *c = r->corr;
    ahi_arena *a = &rs->store.arena;
    uint64_t before = rs->errors;
    bool ok = true;
    for (size_t i = 0; i < c->nsteps; i++) {
        ahi_cstep_def *st = &c->steps[i];
        if (!st->match)
            return false;
        st->cond = ahi_compile_node(cx, st->match);
        if (!st->cond)
            ok = false;
        if (st->nkeys) {
            st->ckeys = ahi_alloc(a, st->nkeys * sizeof *st->ckeys);
            if (!st->ckeys)
                return false;
            for (size_t k = 0; k < st->nkeys; k++)
                if (!compile_key(cx, &st->keys[k], &st->ckeys[k], r->meta.kind == AH_RULE_SEQUENCE ? "a key" : "group"))
                    ok = false;
        }
        if (st->has_when && st->agg != AHI_AGG_COUNT && !compile_agg_operand(cx, &st->agg_opd, &st->cagg, st->agg))
            ok = false;
        if (st->cond && ahi_pinned_ops(st->cond, &st->pinned, &st->npinned, a)) {
            ahi_lit *items = st->npinned ? ahi_alloc(a, st->npinned * sizeof *items) : NULL;
            for (size_t k = 0; items && k < st->npinned; k++) {
                items[k].s = st->pinned[k];
                items[k].n = strlen(st->pinned[k]);
            }
            st->pinset = ahi_strset_build(a, items, items ? st->npinned : 0, false);
            if (!st->pinset)
                return false;
        } else {
            st->pinned = NULL;
            st->npinned = 0;
        }
    }
    if (r->meta.kind == AH_RULE_SEQUENCE && c->nsteps >= 2) {
        /* Steps join on their keys: the same number of parts each. */
        for (size_t i = 1; i < c->nsteps; i++)
            if (c->steps[i].nkeys && c->steps[0].nkeys && c->steps[i].nkeys != c->steps[0].nkeys) {
                ahi_cerr(cx, c->steps[i].keys_off, 3,
                         "step '%s' has %zu key fields but step '%s' has %zu: they cannot join", c->steps[i].name,
                         c->steps[i].nkeys, c->steps[0].name, c->steps[0].nkeys);
                ok = false;
            }
    }
    if (r->meta.kind == AH_RULE_AGGREGATE && c->has_when) {
        if (c->agg != AHI_AGG_COUNT && !compile_agg_operand(cx, &c->agg_opd, &c->cagg, c->agg))
            ok = false;
        if (c->nterms)
            c->term[0].c = c->cagg;
        for (size_t t = 1; t < c->nterms; t++)
            if (!compile_agg_operand(cx, &c->term[t].opd, &c->term[t].c, c->term[t].agg))
                ok = false;
        check_threshold(cx, r);
    }
    if (r->meta.kind == AH_RULE_FIRST_SEEN && c->nvalues) {
        c->cvalues = ahi_alloc(a, c->nvalues * sizeof *c->cvalues);
        if (!c->cvalues)
            return false;
        for (size_t k = 0; k < c->nvalues; k++)
            if (!compile_key(cx, &c->values[k], &c->cvalues[k], "value"))
                ok = false;
    }
    if (r->details_text && !compile_template(cx, r))
        ok = false;
    return ok && rs->errors == before;
}

bool ahi_corr_build_index(ah_ruleset *rs)
{
    ahi_arena *a = &rs->store.arena;
    size_t n = 0, nops = 0;
    for (size_t i = 0; i < rs->nrules; i++) {
        ah_rule *r = rs->rules[i];
        if (!r->corr || r->failed || r->meta.skipped)
            continue;
        n += r->corr->nsteps;
        for (size_t k = 0; k < r->corr->nsteps; k++)
            nops += r->corr->steps[k].npinned;
    }
    if (!n)
        return true;
    rs->cunits = ahi_alloc(a, n * sizeof *rs->cunits);
    ahi_lit *ops = nops ? ahi_alloc(a, nops * sizeof *ops) : NULL;
    if (!rs->cunits || (nops && !ops))
        return false;
    size_t o = 0;
    for (size_t i = 0; i < rs->nrules; i++) {
        ah_rule *r = rs->rules[i];
        if (!r->corr || r->failed || r->meta.skipped)
            continue;
        rs->ncorr_rules++;
        rs->corr_raw |= r->meta.needs_raw;
        for (size_t k = 0; k < r->corr->nsteps; k++) {
            const ahi_cstep_def *st = &r->corr->steps[k];
            rs->cunits[rs->ncunits].rule = r;
            rs->cunits[rs->ncunits].step = (uint32_t)k;
            rs->ncunits++;
            if (st->pinset) {
                rs->corr_pinned_sources |= r->meta.sources;
                for (size_t j = 0; j < st->npinned; j++) {
                    ops[o].s = st->pinned[j];
                    ops[o].n = strlen(st->pinned[j]);
                    o++;
                }
            } else {
                for (int s = AH_SOURCE_UAL; s < AH_SOURCE_COUNT; s++)
                    if (r->meta.sources & AH_SOURCE_BIT(s))
                        rs->corr_unpinned[s] = true;
            }
        }
    }
    if (o) {
        rs->corr_ops = ahi_strset_build(a, ops, o, false);
        if (!rs->corr_ops)
            return false;
    }
    return true;
}

/* --- details ----------------------------------------------------------- */

ah_status ahi_corr_render(const ah_rule *r, const ah_span *vals, ah_buf *out)
{
    if (!r || !r->corr)
        return AH_ERR_USAGE;
    ah_status st = AH_OK;
    for (size_t i = 0; st == AH_OK && i < r->corr->ntparts; i++) {
        const ahi_ctpart *part = &r->corr->tparts[i];
        if (part->var == AHI_CV_TEXT) {
            st = ah_buf_append(out, part->text, part->n);
            continue;
        }
        ah_span s = vals[part->var];
        if (!s.p || !s.n) {
            st = ah_buf_putc(out, '-');
            continue;
        }
        size_t n = s.n;
        bool cut = false;
        if (n > AHI_DETAIL_VALUE_MAX) {
            n = AHI_DETAIL_VALUE_MAX;
            while (n > 0 && ((unsigned char)s.p[n] & 0xC0) == 0x80)
                n--;
            cut = true;
        }
        for (size_t k = 0; st == AH_OK && k < n; k++) {
            unsigned char ch = (unsigned char)s.p[k];
            st = ah_buf_putc(out, ch == 0x1f ? '|' : (ch < 0x20 || ch == 0x7f) ? ' ' : (char)ch);
        }
        if (cut && st == AH_OK)
            st = ah_buf_puts(out, "\xE2\x80\xA6");
    }
    return st;
}
