/*
 * hunt.h: the hunt pipeline behind `audithound hunt`, as a library.
 *
 *   events (any order) -> ah_hunt_add: match, filter, build timeline rows
 *                      -> external sort by (time, kind, content) within a budget
 *   ah_hunt_finish     -> ah_hunt_next: rows in time order for a writer, twins
 *                         joined, rule columns rendered
 *
 * One row per event that any rule hit, carrying every rule that hit it
 * (`per_rule`: one row per rule hit; `all`: one row per event, hit or not).
 * Rows carry their rules as indices (typed, never text parsed back); the
 * rule columns and the JSON "rules" array are rendered as rows leave.
 *
 * Twins (parsers/formats/twin.h: the UAL and Entra copies of one sign-in or
 * directory change) meet in the time-ordered stream: ah_hunt_next keeps a
 * window of rows AH_TWIN_WINDOW_NS either side of the row it is about to
 * hand out, bounded in rows, and joins a pair when each is the other's only
 * candidate. A joined row cites both records (source "signin+ual",
 * related_ids, related_raw). The caller reads the inputs (ah_session) and
 * writes the rows (ah_writer); this module owns matching and ordering.
 *
 * Correlation rules (docs/rules.md) work on the time-ordered stream, which
 * the inputs are not: during ah_hunt_add each event's observations are
 * encoded and spilled through a second external sorter; ah_hunt_finish
 * replays them in time order through the correlator, and each correlation
 * hit becomes one more row (time of its first event, the group, the
 * aggregate in details, the contributing record ids in record_id and raw).
 * --memory is shared: half for the timeline rows, a quarter each for the
 * observations and the correlator's state when correlation rules are loaded.
 *
 * Names (names.h): every event teaches the store; as a row leaves, `app`
 * and `target` show the name its id had at the row's time (the ids stay in
 * app_id and target_id), so a name learned late applies to earlier rows.
 *
 * Routine hits (rules with `routine`, docs/rules.md): the case knowledge
 * (knowledge.h) learns from every event in the window; when the data is
 * complete the baseline is fixed (--baseline, else the first
 * AH_ROUTINE_BASELINE_DAYS of the data when the data spans at least twice
 * that, else none) and each row's rules are checked as the row leaves: a
 * rule whose facts hold is listed at info, marked routine.
 */
#ifndef AH_HUNT_H
#define AH_HUNT_H

#include "../order/sorter.h"
#include "../output/timeline.h"
#include "../rules/rules.h"

#define AH_ROUTINE_BASELINE_DAYS 7
#define AH_HUNT_NAMES_BUDGET ((size_t)64 << 20) /* the names store: ids and their names */

typedef struct ah_hunt_options {
    bool all;              /* super-timeline: every event */
    bool per_rule;         /* one row per (event, rule) instead of one per event */
    bool no_join;          /* keep twins as two rows */
    bool has_from, has_to; /* time window, inclusive; events without time fall outside */
    ah_time from, to;
    ah_level min_level;         /* hits of rules below are left out */
    const char *tags;           /* comma-separated; a hit needs one (also ATT&CK ids without "attack.") */
    size_t memory;              /* sort budget in bytes; 0 = the sorter's default */
    const char *tmpdir;         /* for spilled runs; NULL = $TMPDIR or /tmp */
    struct ah_names *names;     /* names for ids (names.h), borrowed: learned from every event
                             * during ah_hunt_add, looked up as rows leave; NULL = none */
    bool no_suppress;           /* no hit is demoted as routine (`routine` facts ignored) */
    const char *admin_accounts; /* accounts holding admin roles, for `routine admin` (NULL: none) */
    bool has_baseline;          /* first-seen baseline range (else each rule's `baseline Nd`) */
    size_t threads;             /* worker threads matching events (0 or 1: none, all on the caller's thread);
                               the output is the same for any number */
    size_t batch_bytes;         /* packed events handed to a worker at once (0: 1 MiB; tests use 1) */
    size_t inline_bytes;        /* a record this large is matched on the caller's thread, not copied
                               (0: 4 MiB) */
    bool rows_without_raw;      /* the output does not write raw (CSV, --no-raw): event rows do not carry
                               it, so a huge record is not copied into the sorter */
    ah_time baseline_from, baseline_to;
    bool partial; /* `hunt --partial`: ah_hunt_finish sorts but does not correlate; the rows
                               and observations are read with ah_hunt_partial_row/_observation */
} ah_hunt_options;

typedef struct ah_hunt_stats {
    uint64_t events;           /* events given to ah_hunt_add */
    uint64_t events_outside;   /* of those, outside the time window */
    uint64_t hits;             /* rule hits kept by the filters */
    uint64_t rows;             /* timeline rows queued (before twins are joined) */
    uint64_t twins_joined;     /* pairs written as one row */
    uint64_t twins_ambiguous;  /* rows left apart because several candidates matched */
    uint64_t join_window_full; /* rows handed out before their whole join window was seen */
    uint64_t by_level[AH_LEVEL_CRITICAL + 1];
    const uint64_t *by_rule; /* hits per rule, indexed like ah_ruleset_rule */
    uint64_t observations;   /* events seen by correlation rules */
    uint64_t corr_evicted;   /* correlation groups evicted for the memory budget */
    uint64_t routine_hits;   /* rule hits on written rows demoted to info as routine */
    uint64_t names_resolved; /* app / target values shown by name instead of id */
    int routine_baseline;    /* facts learned from: 0 no baseline, 1 --baseline, 2 the first days */
    ah_time routine_from, routine_to;
    uint64_t knowledge_dropped; /* pair sightings not stored (budget) */
} ah_hunt_stats;

typedef struct ah_hunt ah_hunt;

/* rs must be compiled and outlive the hunt. NULL on allocation failure. */
ah_hunt *ah_hunt_new(const ah_ruleset *rs, const ah_hunt_options *opt, ah_diag *diag);
void ah_hunt_free(ah_hunt *h);

/* Match one event and queue its rows. The event may be discarded after. */
ah_status ah_hunt_add(ah_hunt *h, const ah_event *ev);
/* No more events: run the correlation rules, sort. */
ah_status ah_hunt_finish(ah_hunt *h);
/* Rows in time order (ties in content order, docs/output.md "Order");
 * AH_END after the last. The row is valid until the next call. */
ah_status ah_hunt_next(ah_hunt *h, ah_row *row);

const ah_hunt_stats *ah_hunt_get_stats(const ah_hunt *h);

/* "success", "failure (50126)": the result with its code when the code
 * says more than the result. Appended to out. */
void ah_hunt_render_result(const ah_event *ev, ah_buf *out);

/* The timeline columns of one event as `hunt --all` fills them for an
 * event no rule hit (source, operation, user, ip, app, ..., input), with
 * its time, record number and content hash (tie), for a caller that sorts
 * and writes events itself (`search`). Derived strings go to text (reset
 * first): the row's spans are valid while the event and text are. raw is
 * set when with_raw. AH_ERR_NOMEM when text could not grow (row unset). */
ah_status ah_hunt_event_row(const ah_event *ev, bool with_raw, ah_buf *text, ah_row *row);

/* --- partials (docs/scale-out.md): the hunt cut at its sorters ---------
 *
 * A shard (opt.partial) runs ah_hunt_add and ah_hunt_finish as usual, then
 * reads its event rows in order (each with its seq: the event's position)
 * and its observations (part by part, each part in order; input and entry
 * filled in, origin 0). The merge builds a hunt without opt.partial, counts
 * every event it keeps (ah_hunt_count_event: the window, the data's first
 * and last time), feeds the shards' rows and observations back, then
 * ah_hunt_finish replays the correlation and ah_hunt_next joins twins,
 * names and demotes routine hits exactly as for events read. */
ah_status ah_hunt_partial_row(ah_hunt *h, ah_row *row);
ah_status ah_hunt_partial_observation(ah_hunt *h, struct ah_observation *obs, uint64_t *seq);
/* Count one event as ah_hunt_add does (events, window, data start/end);
 * false when it is outside --from/--to. */
bool ah_hunt_count_event(ah_hunt *h, bool has_time, ah_time time);
/* An event row made by a shard's hunt with the same rule set: its hits are
 * counted (by rule and level) and it is queued. AH_ERR_RECORD for a rule
 * index the set does not have. */
ah_status ah_hunt_add_row(ah_hunt *h, const ah_row *row);
/* An observation made by a shard (input and entry filled in); seq is its
 * event's position. AH_ERR_USAGE when the set has no correlation rule. */
ah_status ah_hunt_add_observation(ah_hunt *h, const struct ah_observation *obs, uint64_t seq);
/* The case knowledge the hunt learns into (NULL: none wanted), for loading
 * the shards' facts. */
struct ah_knowledge *ah_hunt_knowledge(ah_hunt *h);

#endif
