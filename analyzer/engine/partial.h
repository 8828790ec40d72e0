/*
 * partial.h: `hunt --partial` and `merge` (docs/scale-out.md): a shard's
 * hunt cut at its sorters, written as a checksummed file set, and the
 * merge of any number of them into exactly one hunt over the union of
 * their inputs.
 *
 * A partial is a directory:
 *   MANIFEST      text: "audithound partial 1", the binary's version and
 *                 revision, host, the rule set's hash, the options that
 *                 change results, then "file NAME SHA256 SIZE" for each
 *                 file below. The partial's hash is the MANIFEST's SHA-256.
 *   streams       every stream the shard read, with its account
 *   files         every input file, with its size and SHA-256
 *   identities    every event the shard's session counted (kept and
 *                 duplicate), in position order: its dedup keys, stream,
 *                 record number, source, time
 *   rows          the event rows in timeline order (the sorter's encoding)
 *   observations  the correlation observations, origins spelled out
 *   names         the names store (ah_names_save)
 *   knowledge     the case knowledge (ah_knowledge_save; empty when none)
 * Each file is a run of records: a varint length, then the bytes.
 *
 * The merge gives every stream its place in the canonical order (input
 * path, byte by byte, then the stream's ordinal in its file), takes each
 * stream from the first partial (by hash) that has it, decides duplicates
 * over all kept streams in that order as one session would, and feeds the
 * kept rows and observations (positions remapped) to a hunt that then
 * correlates, joins, names and writes as `hunt` does.
 */
#ifndef AH_PARTIAL_H
#define AH_PARTIAL_H

#include "../audithound.h"
#include "hunt.h"
#include "names.h"

#define AH_PARTIAL_FORMAT 1

typedef struct ah_partial_writer ah_partial_writer;

/* Create dir (its parents must exist); refused (AH_ERR_USAGE, reported)
 * when it exists and is not empty. */
ah_partial_writer *ah_partial_create(const char *dir, ah_diag *diag, ah_status *st);
/* ah_session_options.identity_fn for the shard's session (ud: the writer). */
void ah_partial_identity(void *ud, const ah_session_identity *id);
/* Once the hunt (opt.partial) has finished: write the rest and the
 * MANIFEST. header: MANIFEST lines (version, revision, host, ruleset,
 * options), written as given after the format line. */
ah_status ah_partial_finish(ah_partial_writer *w, const ah_session *s, ah_hunt *h, const ah_names *names,
                            const char *const *header, size_t nheader);
/* Frees; a partial not finished is removed. Accepts NULL. */
void ah_partial_writer_free(ah_partial_writer *w);

/* --- reading and merging ------------------------------------------------- */

typedef struct ah_partial ah_partial;

/* Open a partial: read its MANIFEST and check every file's size and
 * SHA-256. NULL (reported to diag, *st: AH_ERR_IO unreadable, AH_ERR_RECORD
 * corrupt or of another format version, AH_ERR_NOMEM). */
ah_partial *ah_partial_open(const char *dir, ah_diag *diag, ah_status *st);
void ah_partial_free(ah_partial *p);

const char *ah_partial_dir(const ah_partial *p);
const char *ah_partial_hash(const ah_partial *p); /* 64 hex digits */
/* The value of a MANIFEST key ("version", "revision", "host", "ruleset"), or NULL. */
const char *ah_partial_value(const ah_partial *p, const char *key);
/* The recorded options, "--name=value" or "--name", in the shard's order. */
size_t ah_partial_option_count(const ah_partial *p);
const char *ah_partial_option(const ah_partial *p, size_t i);

/* Merge the partials (any order; sorted here by hash) into acct (a session
 * from ah_session_new_account), h (a hunt without opt.partial, same rule
 * set), names and h's knowledge. keep_duplicates: the shards' option.
 * Then ah_hunt_finish / ah_hunt_next give the timeline. Refusals (a stream
 * whose file differs between partials, a partial that read its inputs out
 * of canonical order) are reported, AH_ERR_USAGE. */
typedef void (*ah_partial_event_fn)(void *ud, ah_source_kind source, bool has_time, ah_time t);
/* event_fn (may be NULL) is told every event kept, in canonical order, as a
 * reading hunt sees them (the HTML report counts them). key_budget: bytes
 * for the set of record keys (0: AH_SESSION_DEDUP_MEMORY); past it the keys
 * are sorted to disk under tmpdir (NULL: $TMPDIR, else /tmp) and the
 * identities walked twice, as a session reads its inputs twice. */
ah_status ah_partial_merge(ah_partial **parts, size_t n, bool keep_duplicates, size_t key_budget, const char *tmpdir,
                           ah_session *acct, ah_hunt *h, ah_names *names, ah_partial_event_fn event_fn, void *event_ud,
                           ah_diag *diag);

#endif
