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
 * Who holds an admin role (the fact `admin`, used by `routine admin` and by
 * correlation rules' `escalate ... when any admin`) is the union of
 * $admin_accounts and the targets of the hits of rules that carry
 * `teaches admin` (the shipped em-role-assigned-privileged: a privileged
 * role granted) no later than the end of the baseline; a grant after it is
 * part of the case, not of the tenant's normal state.
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
    uint64_t pairs;         /* distinct pairs stored */
    uint64_t dropped;       /* sightings of new pairs not stored: budget */
    uint64_t admins;        /* accounts in $admin_accounts */
    uint64_t admins_taught; /* accounts taught admin by a hit (inside the baseline or not) */
    size_t bytes;
} ah_knowledge_stats;

/* NULL when out of memory. The pairs learned are those the rules of rs name
 * (none when no rule has `routine`: then learning costs nothing). */
ah_knowledge *ah_knowledge_new(const ah_ruleset *rs, size_t budget);
void ah_knowledge_free(ah_knowledge *k);

/* True when some rule of the set has a `routine` or `escalate` key (facts are read). */
bool ah_knowledge_wanted(const ah_knowledge *k);
/* True when some rule of the set has an `escalate` key (the correlator's
 * observations then need ah_knowledge_facts). */
bool ah_knowledge_escalates(const ah_knowledge *k);

/* Accounts that hold admin roles: names separated by commas, semicolons or
 * white space, compared case-insensitively. AH_ERR_NOMEM. */
ah_status ah_knowledge_set_admins(ah_knowledge *k, const char *list);

/* Learn from one event (events without a time teach nothing). */
void ah_knowledge_learn(ah_knowledge *k, const ah_event *ev);

/* A fact (AH_FACT_*) about an account taught by a hit at `when` (a rule
 * with `teaches`: its target). Kept as a hash and the earliest time; it
 * counts once the baseline is set and `when` is no later than its end. */
typedef struct ah_fact_sighting {
    uint64_t key;
    ah_time when;
    unsigned facts;
} ah_fact_sighting;
/* Pure: any thread may build sightings and hand them to the store later. */
ah_fact_sighting ah_knowledge_sighting(unsigned facts, ah_span account, ah_time when);
/* Not thread-safe (like learn). Past the budget the sighting is dropped and counted. */
void ah_knowledge_add_sighting(ah_knowledge *k, const ah_fact_sighting *s);

/* The facts (AH_FACT_*) that hold for an account: admin when it is in
 * $admin_accounts or was taught so inside the baseline. */
unsigned ah_knowledge_facts(const ah_knowledge *k, ah_span account);

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
