/*
 * names.h: what the run learns about the case, part one: display names for
 * the GUIDs the records carry (application ids, service principal, user,
 * group and role object ids, role template ids, permission ids).
 *
 * Sources, in order of trust (docs/names.md):
 *  1. reference lists shipped in rules/lists/names-*.txt (Microsoft
 *     first-party applications, Graph permissions, built-in roles): a listed
 *     name always wins over a name seen in the data;
 *  2. --directory exports (Graph JSON or portal CSV of users, applications,
 *     service principals): a snapshot with no time;
 *  3. names seen in the records as they stream (ah_names_learn), each with
 *     the time span it was seen in, so a lookup returns the name current at
 *     the row's time and renames can be listed.
 * Names are attacker-controlled: a non-Microsoft application whose name
 * looks like Microsoft's is flagged (AH_NAME_LOOKALIKE).
 *
 * Ids match case-insensitively (a GUID is stored as its 128 bits). Memory
 * is bounded by the budget given at creation: past it new ids and names are
 * dropped and counted (ah_names_stats). One store per run, no global state;
 * learning and loading are single-threaded per store, lookups are const and
 * may run concurrently once learning is over. The result of a run does not
 * depend on the order the records were learned in.
 */
#ifndef AH_NAMES_H
#define AH_NAMES_H

#include "../../parsers/event.h"
#include "../../parsers/util/diag.h"

typedef struct ah_names ah_names;

typedef enum ah_name_kind {
    AH_NAME_KIND_UNKNOWN = 0,
    AH_NAME_KIND_APPLICATION,       /* application (client) id, appId */
    AH_NAME_KIND_SERVICE_PRINCIPAL, /* service principal object id */
    AH_NAME_KIND_APP_OBJECT,        /* application (registration) object id */
    AH_NAME_KIND_USER,              /* user object id (named by UPN where known) */
    AH_NAME_KIND_GROUP,
    AH_NAME_KIND_ROLE,       /* directory role template id or role object id */
    AH_NAME_KIND_PERMISSION, /* app role id or delegated permission (scope) id */
    AH_NAME_KIND_OTHER,      /* device, policy, ... */
    AH_NAME_KIND_COUNT
} ah_name_kind;

/* "application", "service-principal", "application-object", "user", "group",
 * "role", "permission", "other", "unknown" (the spellings of "# kind:" lines). */
const char *ah_name_kind_name(ah_name_kind k);

/* ah_name_hit.flags */
#define AH_NAME_REFERENCE 0x1u /* the name comes from a shipped reference list (first-party, built-in) */
#define AH_NAME_DIRECTORY 0x2u /* the name comes from a --directory export */
#define AH_NAME_LOOKALIKE 0x4u /* a non-Microsoft application with a Microsoft-like name */
#define AH_NAME_RENAMED 0x8u   /* the records show more than one name for this id */

typedef struct ah_name_hit {
    ah_span name;   /* UTF-8, not escaped; valid until the store is freed or learns again */
    unsigned flags; /* AH_NAME_* */
    ah_name_kind kind;
} ah_name_hit;

/* budget: bytes the store may hold (0: no limit). The reference lists count
 * too but are always loaded (384 KiB for the shipped ones). */
ah_names *ah_names_new(size_t budget);
void ah_names_free(ah_names *n);

/* One reference list: `GUID  # name` per line, comments, "# kind: KIND"
 * lines (default application; see docs/names.md). Every bad line is
 * reported to diag as an error with path and line and skipped; the valid
 * lines are loaded. AH_OK, AH_ERR_SYNTAX (some line was bad), AH_ERR_IO
 * (unreadable file, reported), AH_ERR_NOMEM. An id listed twice keeps the
 * first name loaded. */
ah_status ah_names_load_list(ah_names *n, const char *path, ah_diag *diag);
/* Every names-*.txt in dir (sorted by name), then microsoft-first-party-app-ids.txt
 * if present. AH_ERR_IO when dir cannot be read; otherwise the worst status
 * of the lists. */
ah_status ah_names_load_lists(ah_names *n, const char *dir, ah_diag *diag);

/* A --directory export: file, directory or archive of Graph JSON (pages
 * {"value":[...]}, arrays, JSON Lines) or portal/PowerShell CSV of users,
 * applications, service principals (and groups). Read streaming. Bad records
 * are reported as warnings and skipped; a stream that yields no id/name pair
 * is reported. AH_OK, AH_ERR_IO (some input unreadable), AH_ERR_NOMEM. */
ah_status ah_names_load_directory(ah_names *n, const char *path, ah_diag *diag);

/* Learn what one event can teach (sign-ins: appId/appDisplayName,
 * resourceId/resourceDisplayName, servicePrincipalId/Name, userId/UPN;
 * directory audits: initiatedBy, targetResources and their modified
 * properties; UAL: directory records' Actor/Target/ModifiedProperties,
 * AppAccessContext, ApplicationId/ApplicationDisplayName). Events without a
 * time teach nothing. Cheap for events that cannot teach anything. */
void ah_names_learn(ah_names *n, const ah_event *ev);
/* Could this event teach the store something? (The cheap test learn uses.) */
bool ah_names_interesting(const ah_event *ev);

/* The name of id (a GUID, any case, surrounding space ignored) at time t
 * (without a time: the current name). False when the id is unknown or is
 * not a GUID. Precedence: reference list; the name the records show at t
 * (the latest first seen at or before t, reverting names taken into account;
 * the earliest when every sighting is after t); the directory export; the
 * latest name seen. */
bool ah_names_lookup(const ah_names *n, ah_span id, bool has_time, ah_time t, ah_name_hit *out);

/* The id of the object an event acts on, for a `target_id` column beside the
 * normalized `target` (canonical form, see below): sign-ins: resourceId;
 * directory audits: targetResources[0].id; UAL: ObjectId when it is a GUID,
 * else the first "Kind_<guid>" of Target (directory records). False when
 * the event names no object by id. Needs no store; reads ev->body. */
bool ah_names_target_id(const ah_event *ev, char out[37]);

/* The canonical form of a GUID (lowercase, 36 characters, NUL-terminated).
 * False when s is not a GUID. */
bool ah_names_canon_id(ah_span s, char out[37]);

/* One rename seen in the records: old -> new, at the first sighting of new. */
typedef struct ah_name_rename {
    char id[37];
    ah_name_kind kind;
    ah_span old_name, new_name; /* valid as ah_name_hit.name */
    ah_time at;
    unsigned flags; /* AH_NAME_LOOKALIKE when new_name is a lookalike */
} ah_name_rename;

typedef void (*ah_names_rename_fn)(void *ud, const ah_name_rename *r);

/* Every rename, ordered by time then id then name (so the same whatever the
 * input order); *count (may be NULL) gets how many. AH_OK or AH_ERR_NOMEM. */
ah_status ah_names_renames(const ah_names *n, ah_names_rename_fn fn, void *ud, size_t *count);

/* Add what another store holds (reference and directory names, every learned
 * name with its first and last sighting): learning a run in parts (threads,
 * shards) and merging the parts answers as learning it whole, except that
 * more_names counts sightings per part. Past the budget, ids and names are
 * dropped and counted as in learning. AH_OK. */
ah_status ah_names_merge(ah_names *into, const ah_names *from);

/* A store saved for a merge (`hunt --partial`): every learned name with
 * its first and last sighting, directory names and drop counts (the
 * reference lists are not saved: the merge loads its own). Loading adds
 * them as ah_names_merge does. AH_ERR_RECORD when saved is not one. */
ah_status ah_names_save(const ah_names *n, struct ah_buf *out);
ah_status ah_names_load_saved(ah_names *n, ah_span saved);

typedef struct ah_names_stats {
    size_t ids;             /* ids held */
    size_t reference_ids;   /* of which from reference lists */
    size_t directory_ids;   /* of which named by a --directory export */
    size_t names;           /* names learned from records (history entries) */
    uint64_t dropped_ids;   /* sightings of new ids not stored (budget) */
    uint64_t dropped_names; /* sightings of new names of known ids not stored (budget) */
    uint64_t more_names;    /* sightings of names past the 8 kept per id */
    size_t bytes;           /* memory held */
} ah_names_stats;

ah_names_stats ah_names_get_stats(const ah_names *n);

#endif
