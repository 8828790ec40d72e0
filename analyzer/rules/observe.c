/*
 * observe.c: phase 1 of correlation rules (ah_matcher_observe) beside the
 * matcher it evaluates with, and the byte form of an observation.
 *
 * A correlation rule is never a candidate of ah_matcher_match: its
 * conditions ("units", compiled and indexed by corr.c) are checked here.
 * A unit whose condition pins operations is skipped unless the event's
 * canonical operation is in its set; the union of all pinned operations is
 * checked first, so an event no correlation rule can use costs one hash and
 * one probe. Observations borrow the event's spans and the matcher's
 * buffers, so phase 1 allocates nothing per event once the buffers have grown.
 */
#include "rules_private.h"

#include <math.h>
#include <string.h>

#include "../../parsers/util/varint.h"

/* --- phase 1 ---------------------------------------------------------- */

/* Append the values of the operands, ASCII-folded, parts joined with 0x1F.
 * False when an operand has no value (no observation then). */
static bool key_text(ah_matcher *m, const ahi_operand *ops, const bool *domain, size_t n, ah_buf *out)
{
    ah_buf_reset(out);
    for (size_t k = 0; k < n; k++) {
        if (k && ah_buf_putc(out, '\x1f') != AH_OK)
            return false;
        ah_buf_reset(&m->obs_tmp);
        if (!ahi_render_operand(m, &ops[k], &m->obs_tmp))
            return false;
        size_t from = 0;
        if (domain && domain[k]) {
            size_t at = m->obs_tmp.len;
            while (at > 0 && m->obs_tmp.data[at - 1] != '@')
                at--;
            if (at == 0 || at >= m->obs_tmp.len)
                return false; /* not an address: no domain */
            from = at;
        }
        size_t len = m->obs_tmp.len - from;
        if (ah_buf_reserve(out, len) != AH_OK)
            return false;
        char *dst = out->data + out->len;
        for (size_t i = 0; i < len; i++)
            dst[i] = (char)ah_fold((unsigned char)m->obs_tmp.data[from + i]);
        out->len += len;
        out->data[out->len] = '\0';
    }
    return true;
}

/* The value of a `when` with several terms (or per source): one part per
 * term, ASCII-folded, empty where the term has no value, parts joined with
 * 0x1F. False when no term has a value (the event counts for nothing). */
static bool terms_text(ah_matcher *m, const ahi_corr *c, ah_buf *out)
{
    ah_buf_reset(out);
    bool any = false;
    for (size_t t = 0; t < c->nterms; t++) {
        if (t && ah_buf_putc(out, '\x1f') != AH_OK)
            return false;
        ah_buf_reset(&m->obs_tmp);
        if (!ahi_render_operand(m, &c->term[t].c, &m->obs_tmp) || !m->obs_tmp.len)
            continue;
        for (size_t i = 0; i < m->obs_tmp.len; i++) /* a 0x1F inside a value would shift the parts */
            if (ah_buf_putc(out,
                            m->obs_tmp.data[i] == '\x1f' ? ' ' : (char)ah_fold((unsigned char)m->obs_tmp.data[i])) !=
                AH_OK)
                return false;
        any = true;
    }
    return any;
}

size_t ah_matcher_observe(ah_matcher *m, const ah_event *ev, ah_observation_fn fn, void *ud)
{
    const ah_ruleset *rs = m ? m->rs : NULL;
    if (!rs || !rs->ncunits || !ev || !ev->has_time || ev->source <= AH_SOURCE_UNKNOWN || ev->source >= AH_SOURCE_COUNT)
        return 0;
    unsigned bit = AH_SOURCE_BIT(ev->source);
    uint64_t h = 0;
    bool op_in = false;
    if (ev->operation_canon.p && (rs->corr_pinned_sources & bit) && rs->corr_ops) {
        h = ahi_strset_hash_ci(ev->operation_canon.p, ev->operation_canon.n);
        op_in = ahi_strset_has_h(rs->corr_ops, ev->operation_canon.p, ev->operation_canon.n, h);
    }
    if (!op_in && !rs->corr_unpinned[ev->source])
        return 0;
    ahi_matcher_enter(m, ev);
    size_t count = 0;
    for (size_t u = 0; u < rs->ncunits; u++) {
        const ah_rule *r = rs->cunits[u].rule;
        const ahi_corr *c = r->corr;
        const ahi_cstep_def *st = &c->steps[rs->cunits[u].step];
        if (!(r->meta.sources & bit))
            continue;
        if (st->pinset && (!op_in || !ahi_strset_has_h(st->pinset, ev->operation_canon.p, ev->operation_canon.n, h)))
            continue;
        m->stats.rules_evaluated++;
        if (!ahi_eval(m, st->cond))
            continue;
        ah_observation obs;
        memset(&obs, 0, sizeof obs);
        if (!key_text(m, st->ckeys, st->key_domain, st->nkeys, &m->obs_key))
            continue;
        ah_buf_reset(&m->obs_val);
        /* The aggregate of the rule, or of an aggregating sequence step. */
        bool aggregates = (r->meta.kind == AH_RULE_AGGREGATE && c->has_when) || st->has_when;
        ahi_agg agg = st->has_when ? st->agg : c->agg;
        const ahi_operand *aopd = st->has_when ? &st->cagg : &c->cagg;
        if (aggregates && !st->has_when && c->multi) {
            if (!terms_text(m, c, &m->obs_val))
                continue;
        } else if (aggregates && agg == AHI_AGG_DISTINCT) {
            if (!key_text(m, aopd, NULL, 1, &m->obs_val))
                continue;
        } else if (aggregates && agg == AHI_AGG_SUM) {
            ah_buf_reset(&m->obs_tmp);
            double d;
            if (ahi_render_operand(m, aopd, &m->obs_tmp) && ahi_parse_number(m->obs_tmp.data, m->obs_tmp.len, &d) &&
                isfinite(d)) {
                obs.has_number = true;
                obs.number = d;
            }
        } else if (r->meta.kind == AH_RULE_FIRST_SEEN) {
            if (!key_text(m, c->cvalues, c->value_domain, c->nvalues, &m->obs_val))
                continue;
        }
        obs.rule = r;
        obs.rule_index = r->meta.index;
        obs.step = rs->cunits[u].step;
        obs.time = ev->time;
        obs.key = ah_buf_span(&m->obs_key);
        obs.value = ah_buf_span(&m->obs_val);
        obs.source = ev->source;
        obs.record_id = ev->field[AH_F_RECORD_ID];
        obs.user = ev->field[AH_F_USER];
        obs.ip = ev->field[AH_F_IP];
        obs.app = ev->field[AH_F_APP].p ? ev->field[AH_F_APP] : ev->field[AH_F_APP_ID];
        obs.target = ev->field[AH_F_TARGET];
        obs.operation = ev->field[AH_F_OPERATION];
        obs.app_id = ev->field[AH_F_APP_ID];
        obs.workload = ev->field[AH_F_WORKLOAD];
        obs.correlation_id = ev->field[AH_F_CORRELATION_ID];
        if (ev->origin) {
            obs.input = ah_span_cstr(ev->origin->path ? ev->origin->path : "");
            obs.entry = ah_span_cstr(ev->origin->entry ? ev->origin->entry : "");
        }
        obs.record_no = ev->record_no;
        count++;
        if (fn)
            fn(ud, &obs);
    }
    return count;
}

/* --- byte form -------------------------------------------------------- */

#define OBS_MAGIC 0xA7u
#define OBS_NSPANS 13

/* Varints and length-prefixed spans: observations are held by the million
 * (sorted, spilled, windowed), so every byte counts. */
ah_status ah_observation_encode(const ah_observation *o, ah_buf *out)
{
    if (!o || !out)
        return AH_ERR_USAGE;
    const ah_span spans[OBS_NSPANS] = {o->key,    o->value,    o->record_id,     o->user,  o->ip,
                                       o->app,    o->target,   o->operation,     o->input, o->entry,
                                       o->app_id, o->workload, o->correlation_id};
    size_t need = 2 + 7 * AH_VARINT_MAX + 8 + OBS_NSPANS * AH_VARINT_MAX;
    for (size_t i = 0; i < OBS_NSPANS; i++)
        need += spans[i].n;
    if (ah_buf_reserve(out, need) != AH_OK)
        return AH_ERR_NOMEM;
    unsigned char *start = (unsigned char *)out->data + out->len, *p = start;
    *p++ = OBS_MAGIC;
    *p++ = (unsigned char)((o->has_number ? 1 : 0) | ((unsigned)o->source << 1));
    const uint64_t fixed[] = {(uint64_t)o->rule_index,
                              o->step,
                              ah_zigzag(o->time.sec),
                              (uint64_t)(uint32_t)o->time.nsec,
                              o->record_no,
                              o->origin,
                              o->facts};
    for (size_t i = 0; i < AH_ARRAY_LEN(fixed); i++)
        p = ah_put_uvarint(p, fixed[i]);
    if (o->has_number) {
        memcpy(p, &o->number, sizeof o->number);
        p += sizeof o->number;
    }
    for (size_t i = 0; i < OBS_NSPANS; i++) {
        p = ah_put_uvarint(p, spans[i].n);
        if (spans[i].n)
            memcpy(p, spans[i].p, spans[i].n);
        p += spans[i].n;
    }
    out->len += (size_t)(p - start);
    return AH_OK;
}

ah_status ah_observation_decode(ah_span in, ah_observation *o)
{
    if (!o)
        return AH_ERR_USAGE;
    memset(o, 0, sizeof *o);
    const unsigned char *p = (const unsigned char *)in.p;
    if (!p || in.n < 2 || p[0] != OBS_MAGIC)
        return AH_ERR_RECORD;
    unsigned flags = p[1];
    o->has_number = flags & 1;
    o->source = (ah_source_kind)(flags >> 1);
    if (o->source >= AH_SOURCE_COUNT)
        return AH_ERR_RECORD;
    ah_vcursor c = {p + 2, p + in.n, true};
    uint64_t v[7];
    for (int i = 0; i < 7; i++)
        v[i] = ah_get_uvarint(&c);
    if (!c.ok || v[3] > 999999999u || v[1] > UINT32_MAX || v[5] > UINT32_MAX || v[6] > UINT32_MAX)
        return AH_ERR_RECORD;
    o->rule_index = (size_t)v[0];
    o->step = (uint32_t)v[1];
    o->time.sec = ah_unzigzag(v[2]);
    o->time.nsec = (int32_t)v[3];
    o->record_no = v[4];
    o->origin = (uint32_t)v[5];
    o->facts = (unsigned)v[6];
    if (o->has_number) {
        if ((size_t)(c.end - c.p) < sizeof o->number)
            return AH_ERR_RECORD;
        memcpy(&o->number, c.p, sizeof o->number);
        c.p += sizeof o->number;
    }
    ah_span *spans[OBS_NSPANS] = {&o->key,    &o->value,    &o->record_id,     &o->user,  &o->ip,
                                  &o->app,    &o->target,   &o->operation,     &o->input, &o->entry,
                                  &o->app_id, &o->workload, &o->correlation_id};
    for (size_t i = 0; i < OBS_NSPANS; i++) {
        uint64_t len = ah_get_uvarint(&c);
        if (!c.ok || len > (uint64_t)(c.end - c.p))
            return AH_ERR_RECORD;
        *spans[i] = ah_span_make((const char *)c.p, (size_t)len);
        c.p += len;
    }
    return c.p == c.end ? AH_OK : AH_ERR_RECORD;
}
