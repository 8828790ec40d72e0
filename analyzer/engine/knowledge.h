/*
 * knowledge.h: what the run learns about the case, to tell a routine hit
 * from a finding (docs/rules.md "Routine hits").
 *
 * A rule's `routine` key names facts: pairs of fields seen together during
 * the baseline (`user+ip`: this account used this address then) and `admin`
 * (the acting user is one of $admin_accounts). Events stream in any order,
 * so the store keeps, for every pair some rule names, the earliest time it
 * was seen; when the run ends the baseline is known, and a pair counts as
 * seen during the baseline when that time falls inside it. Facts are
 * learned only from the baseline, never from the whole case (which holds
 * the intrusion): a pair first seen after the baseline is never routine.
 *
 * Memory: 16 bytes per distinct pair, within a budget. Past it new pairs are
 * not stored (they count as unseen: nothing is demoted wrongly) and
 * `dropped` says how many. One store per run; learn is not thread-safe,
 * the checks are read-only.
 */
#ifndef AH_KNOWLEDGE_H
#define AH_KNOWLEDGE_H

#include "../rules/rules.h"

#define AH_KNOWLEDGE_DEFAULT_BUDGET ((size_t)32 << 20)

typedef struct ah_knowledge ah_knowledge;

typedef struct ah_knowledge_stats {
    uint64_t pairs;       /* distinct pairs stored */
    uint64_t dropped;     /* sightings of new pairs not stored: budget */
    uint64_t admins;      /* accounts in $admin_accounts */
    size_t bytes;
} ah_knowledge_stats;

/* NULL when out of memory. The pairs learned are those the rules of rs name
 * (none when no rule has `routine`: then learning costs nothing). */
ah_knowledge *ah_knowledge_new(const ah_ruleset *rs, size_t budget);
void ah_knowledge_free(ah_knowledge *k);

/* True when some rule of the set has a `routine` key. */
bool ah_knowledge_wanted(const ah_knowledge *k);

/* Accounts that hold admin roles: names separated by commas, semicolons or
 * white space, compared case-insensitively. AH_ERR_NOMEM. */
ah_status ah_knowledge_set_admins(ah_knowledge *k, const char *list);

/* Learn from one event (events without a time teach nothing). */
void ah_knowledge_learn(ah_knowledge *k, const ah_event *ev);

/* The learning period [from, to], both ends included. Until it is set no
 * pair counts as seen, so nothing is routine. */
void ah_knowledge_set_baseline(ah_knowledge *k, ah_time from, ah_time to);

/* Every fact of m's `routine` holds for a hit whose fields are
 * field[AH_F_...] (absent values fail a fact). False when m has none. */
bool ah_knowledge_routine(const ah_knowledge *k, const ah_rule_meta *m, const ah_span *field);

void ah_knowledge_get_stats(const ah_knowledge *k, ah_knowledge_stats *out);

/* The pairs learned with their earliest sightings, saved for a merge
 * (`hunt --partial`); loading keeps the earlier time of a pair known to
 * both, so stores learned in parts load into the store of the whole.
 * AH_ERR_RECORD when saved is not one. */
ah_status ah_knowledge_save(const ah_knowledge *k, ah_buf *out);
ah_status ah_knowledge_load_saved(ah_knowledge *k, ah_span saved);

#endif
