/*
 * twin.h: one real-world action that two logs record, each with its own id.
 *
 * Entra ID writes a sign-in or a directory change to its own log and, for
 * the tenant's Unified Audit Log, a second copy (workload
 * AzureActiveDirectory: UserLoggedIn / UserLoginFailed for sign-ins, the
 * directory activity by name for changes). The copies share no id, so they
 * are joined on the evidence they share; the rule is defined once here and
 * used by the timeline join (analyzer/engine) and by correlation counting.
 *
 * Two keys are twins when all of these hold:
 *   - one is from the UAL and the other from Entra (signin or entra_audit);
 *   - they are of the same class: a sign-in (UAL UserLoggedIn /
 *     UserLoginFailed with an Entra sign-in) or a directory change (the same
 *     canonical activity in both);
 *   - their times are at most AH_TWIN_WINDOW_NS apart;
 *   - the same actor (case-insensitive; both must be present);
 *   - the same address and application id where both copies carry one (an
 *     absent value is no evidence either way);
 *   - for changes: the same correlation id where both carry one (Entra's
 *     correlationId is copied into the UAL record); else the same target
 *     where both carry one;
 *   - the same result where both are known.
 * Never joined: two records of one log (that is deduplication's job), records
 * without an actor, anything else (mail, files, admin cmdlets). Callers
 * join only when exactly one candidate matches.
 */
#ifndef AH_TWIN_H
#define AH_TWIN_H

#include "../event.h"

#define AH_TWIN_WINDOW_NS 5000000000LL /* 5 s: the copies are written within a second or two */

typedef enum ah_twin_class {
    AH_TWIN_NONE = 0, /* never joined */
    AH_TWIN_SIGNIN,
    AH_TWIN_DIRECTORY,
} ah_twin_class;

typedef struct ah_twin_key {
    ah_source_kind source;
    ah_twin_class cls;
    ah_time time;
    ah_span op_canon; /* canonical activity (directory changes) */
    ah_span user, ip, app_id, target, correlation_id;
    ah_result result;
} ah_twin_key;

/* The class of a record, from its source, workload and canonical operation. */
ah_twin_class ah_twin_class_of(ah_source_kind source, ah_span workload, ah_span op_canon);

/* Fill a key from an event (spans borrowed from it). */
void ah_twin_key_of_event(const ah_event *ev, ah_twin_key *key);

bool ah_twin_match(const ah_twin_key *a, const ah_twin_key *b);

#endif
