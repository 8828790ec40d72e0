/*
 * explain.c: `lint --explain`, a disassembler for compiled rules.
 *
 * Prints what the matcher will really do: the resolved accessor of every
 * operand (normalized field, pseudo-field or raw path with its steps),
 * literals after canonicalization and variable substitution, sets and
 * prefixes after de-duplication and merging, regex flags, and the index
 * keys the rule is filed under. The format is stable and golden-tested, so
 * a compiler change shows up as a readable diff.
 */
#include "rules_private.h"

#include <string.h>

#include "../../parsers/formats/timeparse.h"

#define SET_PREVIEW 8

static ah_status indent(ah_buf *out, int depth)
{
    for (int i = 0; i < depth; i++)
        if (ah_buf_puts(out, "  ") != AH_OK)
            return AH_ERR_TOOBIG;
    return AH_OK;
}

static bool plain_key(const char *k, size_t n)
{
    if (n == 0 || !((k[0] >= 'a' && k[0] <= 'z') || (k[0] >= 'A' && k[0] <= 'Z') || k[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= 'A' && k[i] <= 'Z') || (k[i] >= '0' && k[i] <= '9') ||
              k[i] == '_'))
            return false;
    return true;
}

static void steps(ah_buf *out, const ahi_cstep *st, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (st[i].kind) {
        case AHI_STEP_KEY:
            if (plain_key(st[i].key, st[i].keylen)) {
                ah_buf_putc(out, '.');
                ah_buf_append(out, st[i].key, st[i].keylen);
            } else {
                ah_buf_putc(out, '[');
                ahi_put_string(out, st[i].key, st[i].keylen);
                ah_buf_putc(out, ']');
            }
            break;
        case AHI_STEP_INDEX: ah_buf_printf(out, "[%lld]", st[i].index); break;
        case AHI_STEP_ALL: ah_buf_puts(out, "[*]"); break;
        case AHI_STEP_SELECT:
            ah_buf_putc(out, '[');
            ah_buf_append(out, st[i].key, st[i].keylen);
            ah_buf_putc(out, '=');
            ahi_put_string(out, st[i].sel, st[i].seln);
            ah_buf_putc(out, ']');
            break;
        case AHI_STEP_JSON: ah_buf_puts(out, " |json "); break;
        }
    }
}

ah_status ahi_explain_operand(ah_buf *out, const ahi_operand *o)
{
    switch (o->kind) {
    case AHI_OPD_FIELD: ah_buf_printf(out, "field %s", ah_field_name(o->field)); break;
    case AHI_OPD_OPCANON: ah_buf_puts(out, "operation(canonical)"); break;
    case AHI_OPD_OPRAW: ah_buf_puts(out, "field operation(as written)"); break;
    case AHI_OPD_TIME: ah_buf_puts(out, "time"); break;
    case AHI_OPD_SOURCE: ah_buf_puts(out, "source"); break;
    case AHI_OPD_FORMAT: ah_buf_puts(out, "format"); break;
    case AHI_OPD_RESULT: ah_buf_puts(out, "result"); break;
    case AHI_OPD_RAWTEXT: ah_buf_puts(out, "raw(record text)"); break;
    case AHI_OPD_PATH:
        if (o->slot >= 0)
            ah_buf_printf(out, "%s", o->slot_name ? o->slot_name : "?");
        else
            ah_buf_puts(out, "raw(body, then record)");
        steps(out, o->steps, o->nsteps);
        break;
    }
    return ah_buf_status(out); /* appends above are not checked one by one */
}

static void lit(ah_buf *out, const ahi_lit *l)
{
    if (l->is_time) {
        char b[40];
        ah_buf_puts(out, ah_time_format(l->time, b));
    } else if (l->is_num) {
        ah_buf_printf(out, "%.*s (number)", (int)l->n, l->s);
    } else {
        ahi_put_string(out, l->s, l->n);
    }
}

static void items(ah_buf *out, const char *const *v, size_t n, bool quote)
{
    ah_buf_putc(out, '{');
    for (size_t i = 0; i < n && i < SET_PREVIEW; i++) {
        if (i)
            ah_buf_puts(out, ", ");
        if (quote)
            ahi_put_string(out, v[i], strlen(v[i]));
        else
            ah_buf_puts(out, v[i]);
    }
    if (n > SET_PREVIEW)
        ah_buf_printf(out, ", ... %zu more", n - SET_PREVIEW);
    ah_buf_putc(out, '}');
}

/* The operator as written; an operator without a negated spelling is
 * preceded by `not` instead (ahi_explain_node). */
static const char *opname(const ahi_cnode *c)
{
    if ((unsigned)c->op >= AHI_OP_COUNT)
        return "?";
    const ahi_opinfo *o = &ahi_ops[c->op];
    return c->negate && o->negated ? o->negated : o->spelling;
}

ah_status ahi_explain_node(ah_buf *out, const ahi_cnode *n, int depth)
{
    indent(out, depth);
    switch (n->kind) {
    case AHI_N_AND:
    case AHI_N_OR:
    case AHI_N_NOT:
        ah_buf_puts(out, n->kind == AHI_N_AND ? "and\n" : n->kind == AHI_N_OR ? "or\n" : "not\n");
        for (size_t i = 0; i < n->nkids; i++)
            ahi_explain_node(out, n->kids[i], depth + 1);
        break;
    case AHI_N_CONST: ah_buf_puts(out, n->cval ? "true\n" : "false\n"); break;
    case AHI_N_QUANT:
        ah_buf_puts(out, n->all ? "all " : "any ");
        ahi_explain_operand(out, &n->over);
        ah_buf_printf(out, " as %s (slot %d)%s\n", n->bind_name ? n->bind_name : "?", n->slot,
                      n->all ? ", false when there are no elements" : "");
        ahi_explain_node(out, n->kids[0], depth + 1);
        break;
    case AHI_N_CMP:
        if (n->negate && !ahi_ops[n->op].negated)
            ah_buf_puts(out, "not ");
        ahi_explain_operand(out, &n->opd);
        ah_buf_printf(out, " %s", opname(n));
        switch (ahi_ops[n->op].arg) {
        case AHI_ARG_NONE: break;
        case AHI_ARG_OPERAND:
            ah_buf_putc(out, ' ');
            if (n->ref)
                ahi_explain_operand(out, n->ref);
            break;
        case AHI_ARG_REGEX:
            ah_buf_putc(out, ' ');
            ah_buf_putc(out, '/');
            ah_buf_puts(out, n->re_src ? n->re_src : "");
            ah_buf_printf(out, "/%s", n->re_flags);
            ah_buf_puts(out, n->cased ? " (case-sensitive)" : " (caseless)");
            break;
        case AHI_ARG_LIST:
            if (n->list_path)
                ah_buf_printf(out, " list(%s)", n->list_path);
            ah_buf_putc(out, ' ');
            if (n->set) {
                items(out, n->set->items, n->set->nitems, true);
                ah_buf_printf(out, " (%zu value%s)", n->set->nitems, n->set->nitems == 1 ? "" : "s");
            }
            break;
        case AHI_ARG_CIDR:
            if (n->list_path)
                ah_buf_printf(out, " list(%s)", n->list_path);
            ah_buf_putc(out, ' ');
            if (n->cidr) {
                items(out, n->cidr->items, n->cidr->nitems, false);
                ah_buf_printf(out, " (%zu range%s)", n->cidr->n, n->cidr->n == 1 ? "" : "s");
            }
            break;
        case AHI_ARG_VALUE:
        case AHI_ARG_ORDER:
            ah_buf_putc(out, ' ');
            lit(out, &n->lit);
            break;
        }
        if (n->cased && ahi_ops[n->op].arg != AHI_ARG_REGEX)
            ah_buf_puts(out, " cased");
        ah_buf_putc(out, '\n');
        break;
    }
    return ah_buf_status(out);
}

static void sources(ah_buf *out, unsigned mask)
{
    bool first = true;
    for (int s = AH_SOURCE_UAL; s < AH_SOURCE_COUNT; s++)
        if (mask & AH_SOURCE_BIT(s)) {
            ah_buf_printf(out, "%s%s", first ? "" : " ", ah_source_name((ah_source_kind)s));
            first = false;
        }
}

static void keys(ah_buf *out, const char *label, const ahi_operand *ops, const bool *domain, size_t n)
{
    ah_buf_printf(out, "%s", label);
    if (!n)
        ah_buf_puts(out, "(one group)");
    for (size_t k = 0; k < n; k++) {
        ah_buf_puts(out, k ? ", " : "");
        if (domain && domain[k])
            ah_buf_puts(out, "domain of ");
        ahi_explain_operand(out, &ops[k]);
    }
    ah_buf_putc(out, '\n');
}

static void explain_duration(ah_buf *out, const char *label, int64_t ns)
{
    ah_buf_printf(out, "%s%lld ns (%.6g s)\n", label, (long long)ns, (double)ns / 1e9);
}

/* A correlation rule: kind, window, aggregate, and each step with its index
 * keys, condition and join key. */
static void explain_corr(ah_buf *out, const ah_rule *r)
{
    const ahi_corr *c = r->corr;
    static const char *const aggs[] = {"count", "distinct", "sum"};
    static const char *const cmps[] = {"==", "", "", "", "", "", "", "<", "<=", ">", ">="};
    ah_buf_printf(out, "  kind:     %s\n", ah_rule_kind_name(r->meta.kind));
    ah_buf_printf(out, "  raw:      %s\n", r->meta.needs_raw ? "yes" : "no");
    if (r->meta.kind == AH_RULE_FIRST_SEEN) {
        explain_duration(out, "  baseline: ", c->baseline_ns);
        keys(out, "  value:    ", c->cvalues, c->value_domain, c->nvalues);
    } else {
        explain_duration(out, "  window:   ", c->window_ns);
    }
    if (r->meta.kind == AH_RULE_AGGREGATE) {
        ah_buf_printf(out, "  when:     %s", aggs[c->agg]);
        if (c->agg != AHI_AGG_COUNT) {
            ah_buf_putc(out, '(');
            ahi_explain_operand(out, &c->cagg);
            ah_buf_putc(out, ')');
        }
        ah_buf_printf(out, " %s %.17g", (unsigned)c->cmp < AH_ARRAY_LEN(cmps) ? cmps[c->cmp] : "?", c->threshold);
        if (c->relative)
            ah_buf_puts(out, " x baseline (the group's largest window value while learning)");
        if (c->has_floor)
            ah_buf_printf(out, ", at least %.17g", c->floor);
        if (c->outside)
            ah_buf_puts(out, " outside baseline (only groups not seen while learning)");
        ah_buf_putc(out, '\n');
        if (c->relative || c->outside)
            explain_duration(out, "  baseline: ", c->baseline_ns);
    }
    for (size_t i = 0; i < c->nsteps; i++) {
        const ahi_cstep_def *st = &c->steps[i];
        if (r->meta.kind == AH_RULE_SEQUENCE)
            ah_buf_printf(out, "  step %zu %s%s:\n", i + 1, st->absent ? "not " : "", st->name);
        ah_buf_puts(out, r->meta.kind == AH_RULE_SEQUENCE ? "    index:  " : "  index:    ");
        if (st->pinset) {
            ah_buf_puts(out, "operation ");
            items(out, st->pinned, st->npinned, true);
        } else {
            ah_buf_puts(out, "every ");
            sources(out, r->meta.sources);
            ah_buf_puts(out, " event");
        }
        ah_buf_putc(out, '\n');
        keys(out, r->meta.kind == AH_RULE_SEQUENCE ? "    key:    " : "  group:    ", st->ckeys, st->key_domain,
             st->nkeys);
        if (st->has_when) {
            ah_buf_printf(out, "    when:   %s", aggs[st->agg]);
            if (st->agg != AHI_AGG_COUNT) {
                ah_buf_putc(out, '(');
                ahi_explain_operand(out, &st->cagg);
                ah_buf_putc(out, ')');
            }
            ah_buf_printf(out, " %s %.17g within the window\n",
                          (unsigned)st->cmp < AH_ARRAY_LEN(cmps) ? cmps[st->cmp] : "?", st->threshold);
        }
        ah_buf_puts(out, r->meta.kind == AH_RULE_SEQUENCE ? "    match:\n" : "  match:\n");
        if (st->cond)
            ahi_explain_node(out, st->cond, r->meta.kind == AH_RULE_SEQUENCE ? 3 : 2);
    }
    if (r->meta.kind == AH_RULE_SEQUENCE && c->shows < c->nsteps)
        ah_buf_printf(out, "  shows:    step %zu %s (its event gives the row's user, address, application, target)\n",
                      c->shows + 1, c->steps[c->shows].name);
    if (r->meta.escalate_facts)
        ah_buf_printf(out,
                      "  escalate: %s when the acting account of any contributing event holds an admin role"
                      " (case knowledge: $admin_accounts, role grants in the baseline)\n",
                      ah_level_name(r->meta.escalate_level));
    if (r->details_text) {
        ah_buf_puts(out, "  details:  ");
        ahi_put_string(out, r->details_text, strlen(r->details_text));
        ah_buf_putc(out, '\n');
    }
}

static void explain_rule(ah_buf *out, const ah_rule *r)
{
    const ah_rule_meta *m = &r->meta;
    ah_buf_printf(out, "rule %s (%s:%llu)\n", m->id, m->file, (unsigned long long)m->line);
    ah_buf_printf(out, "  severity: %s\n", ah_level_name(m->level));
    ah_buf_puts(out, "  sources:  ");
    sources(out, m->sources);
    ah_buf_putc(out, '\n');
    if (m->skipped) {
        ah_buf_printf(out, "  skipped:  %s\n", m->skipped);
    } else if (r->cond) {
        ah_buf_puts(out, "  index:    ");
        if (r->pinned) {
            ah_buf_puts(out, "operation ");
            items(out, r->pinned, r->npinned, true);
        } else {
            ah_buf_puts(out, "every ");
            sources(out, m->sources);
            ah_buf_puts(out, " event");
        }
        ah_buf_putc(out, '\n');
        ah_buf_printf(out, "  raw:      %s\n", m->needs_raw ? "yes" : "no");
        ah_buf_puts(out, "  match:\n");
        ahi_explain_node(out, r->cond, 2);
    }
    if (r->corr && !m->skipped)
        explain_corr(out, r);
    if (m->teaches_facts & AH_FACT_ADMIN)
        ah_buf_puts(
            out, "  teaches:  admin (a hit no later than the end of the baseline: its target holds an admin role)\n");
    if (r->test_cond) {
        ah_buf_puts(out, "  match with test variables:\n");
        ahi_explain_node(out, r->test_cond, 2);
    }
    if (r->tmpl) {
        ah_buf_puts(out, "  details:\n");
        for (size_t i = 0; i < r->tmpl->nparts; i++) {
            indent(out, 2);
            if (r->tmpl->parts[i].opd) {
                ahi_explain_operand(out, r->tmpl->parts[i].opd);
            } else {
                ah_buf_puts(out, "text ");
                ahi_put_string(out, r->tmpl->parts[i].text, r->tmpl->parts[i].n);
            }
            ah_buf_putc(out, '\n');
        }
    }
    if (r->ntests) {
        size_t hits = 0;
        for (size_t i = 0; i < r->ntests; i++)
            hits += r->tests[i].expect_hit;
        ah_buf_printf(out, "  tests:    %zu hit, %zu miss\n", hits, r->ntests - hits);
    }
}

ah_status ah_ruleset_explain(const ah_ruleset *rs, const char *rule_id, ah_buf *out)
{
    if (!rs || !out)
        return AH_ERR_USAGE;
    bool found = false;
    for (size_t i = 0; i < rs->nrules; i++) {
        const ah_rule *r = rs->rules[i];
        if (rule_id && strcmp(r->meta.id, rule_id) != 0)
            continue;
        if (found)
            ah_buf_putc(out, '\n');
        explain_rule(out, r);
        found = true;
    }
    if (rule_id && !found)
        return AH_ERR_USAGE;
    return ah_buf_status(out); /* never a cut-short explanation: out of memory */
}

ah_status ah_expr_explain(const ah_expr *e, ah_buf *out)
{
    if (!e || !e->root || !out)
        return AH_ERR_USAGE;
    ah_buf_printf(out, "raw: %s\n", e->needs_raw ? "yes" : "no");
    ahi_explain_node(out, e->root, 0);
    return ah_buf_status(out);
}
