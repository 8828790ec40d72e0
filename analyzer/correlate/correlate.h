/*
 * correlate.h: phase 2 of correlation rules (docs/rules.md "Correlation
 * rules"). Phase 1 (ah_matcher_observe, analyzer/rules/rules.h) turns
 * events into observations in any order; the caller sorts them by time
 * (ties in input order) and feeds them here, and the correlator emits hits.
 *
 *   ah_correlator *c = ah_correlator_new(rs, budget, &diag);
 *   ah_correlator_set_baseline(c, from, to);        // optional (--baseline)
 *   for each observation in time order: ah_correlator_feed(c, &obs, on_hit, ud);
 *   ah_correlator_finish(c, on_hit, ud);             // pending absences, `<` windows
 *   ah_correlator_free(c);
 *
 * An aggregation with `>`, `>=` or `==` reports a burst once, when it is
 * over (no event of the group within the window after its last one, or
 * finish), with its whole extent; see correlate.c.
 *
 * State is per (rule, group key), counted in bytes against the memory
 * budget; past it the least recently updated groups are evicted, and
 * finish reports one warning per rule that lost state, with a count.
 * One correlator per stream; not thread-safe (rules are shared read-only).
 */
#ifndef AH_CORRELATE_H
#define AH_CORRELATE_H

#include "../rules/rules.h"

#define AH_CORR_MAX_IDS 100 /* record ids listed per hit */
/* A burst (aggregation with >, >=, ==) longer than this (or than the
 * rule's window, when that is longer) from its first event is cut: the hit
 * is reported and the burst continues as a new hit. */
#define AH_CORR_MAX_EXTENT_NS ((int64_t)86400 * 1000000000)
#define AH_CORR_DEFAULT_BUDGET ((size_t)256 << 20)
#define AH_CORR_MIN_BUDGET ((size_t)4096)

typedef struct ah_correlator ah_correlator;

/* One correlation hit: one timeline row. Every span and the record_ids
 * array are valid during the callback only. */
typedef struct ah_corr_hit {
    const ah_rule *rule;
    ah_time time;      /* first contributing event */
    ah_time last_time; /* last contributing event */
    ah_span group;     /* group / join key (parts joined with 0x1F) */
    double
        value; /* count, distinct count or sum (aggregation, over the whole burst); steps (sequence); 1 (first-seen) */
    uint64_t count;            /* contributing events, the twin copies of one event (twin.h) counted once */
    const ah_span *record_ids; /* record_id of the first min(records, AH_CORR_MAX_IDS) contributing records */
    size_t nrecord_ids;
    uint64_t records; /* contributing records, twins included (>= count) */
    bool continues;   /* the burst was cut at AH_CORR_MAX_EXTENT_NS: this hit continues the one before */
    unsigned facts;   /* AH_FACT_* of any contributing event (ah_observation.facts): `escalate` */
    /* The event that speaks for the row: the first contributing event
     * (first-seen: the new one), or the event of a sequence's `shows` step. */
    ah_source_kind source;
    ah_span user, ip, app, target, operation;
    ah_span input, entry; /* origin of that event */
    uint64_t input_record;
    /* The last contributing event (a sequence's last step: the sign-in
     * that followed a spray), for rows that should show it. */
    ah_span last_user, last_ip, last_app;
    ah_span details; /* the rule's template rendered ("" when it has none) */
} ah_corr_hit;

typedef void (*ah_corr_hit_fn)(void *ud, const ah_corr_hit *hit);

/* memory_budget 0 means AH_CORR_DEFAULT_BUDGET; smaller than
 * AH_CORR_MIN_BUDGET is raised to it. rs must be compiled and outlive the
 * correlator. NULL when out of memory or rs is not compiled. */
ah_correlator *ah_correlator_new(const ah_ruleset *rs, size_t memory_budget, ah_diag *diag);
void ah_correlator_free(ah_correlator *c);

/* The learning period (first-seen rules, `x baseline` aggregations) as an
 * explicit range [from, to] (inclusive, both ends), overriding the rules'
 * `baseline Nd`; observations before `from` are ignored by those rules.
 * Before the first feed. */
ah_status ah_correlator_set_baseline(ah_correlator *c, ah_time from, ah_time to);
/* The start of the data, for `baseline Nd` (the first N days). Default:
 * the time of the first observation fed. Before the first feed. */
ah_status ah_correlator_set_data_start(ah_correlator *c, ah_time start);

/* Feed one observation (obs->rule, or obs->rule_index when rule is NULL
 * as after ah_observation_decode). Observations must come in
 * non-decreasing time: an earlier one is refused with AH_ERR_USAGE. fn is
 * called for each hit this observation completes. AH_ERR_NOMEM when a
 * group cannot be created even after evicting. */
ah_status ah_correlator_feed(ah_correlator *c, const ah_observation *obs, ah_corr_hit_fn fn, void *ud);

/* End of input: emit the bursts still open, sequences whose absence step
 * never came, and the windows of `<` / `<=` conditions still open; report
 * evictions. Once. */
ah_status ah_correlator_finish(ah_correlator *c, ah_corr_hit_fn fn, void *ud);

typedef struct ah_corr_rule_stats {
    uint64_t observations;
    uint64_t hits;
    uint64_t groups;  /* groups created */
    uint64_t evicted; /* groups evicted for the memory budget */
} ah_corr_rule_stats;

typedef struct ah_correlator_stats {
    uint64_t observations;
    uint64_t hits;
    uint64_t groups; /* live groups now */
    uint64_t evicted;
    size_t bytes; /* accounted state now */
    size_t peak_bytes;
} ah_correlator_stats;

void ah_correlator_get_stats(const ah_correlator *c, ah_correlator_stats *out);
/* Per rule (ah_rule_meta.index); zeros for a rule that is not a correlation rule. */
void ah_correlator_rule_stats(const ah_correlator *c, size_t rule_index, ah_corr_rule_stats *out);

#endif
