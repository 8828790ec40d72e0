/*
 * tempdir.h: the spill directories of a run (sorter, deduplication) and
 * the names that let a later run tell a leftover from a live one.
 *
 * A spill directory is "<parent>/audithound-<host>-<pid>-<kind>-XXXXXX"
 * (mkdtemp). Its creation is announced through the diag's temp hook
 * (ah_diag_temp), so a killed run's handler can remove it; a run killed
 * beyond that (SIGKILL, a crash) leaves it, and the next run that makes a
 * spill directory under the same parent removes every
 * audithound-<host>-<pid>-* directory of this host whose process is gone,
 * with a warning.
 */
#ifndef AH_TEMPDIR_H
#define AH_TEMPDIR_H

#include "diag.h"

/* This machine's name for temporary names: [A-Za-z0-9.]+ only (it is
 * parsed back by sweeps), at most 64 bytes, "host" when unknown. */
void ah_host_tag(char *out, size_t size);

/* True if a process with this pid exists (or may: not ours to signal). */
bool ah_pid_alive(long pid);

/* Make a spill directory under parent (NULL: $TMPDIR, else /tmp) for kind
 * ("sort", "dedup"), after sweeping stale ones; announced to diag's temp
 * hook. Returns the malloc'd path, or NULL: *st is AH_ERR_NOMEM, or
 * AH_ERR_IO with errno kept (the caller words the message). */
char *ah_spill_dir_new(const char *parent, const char *kind, ah_diag *diag, ah_status *st);

/* Remove a spill directory once its files are gone (announced first). */
void ah_spill_dir_remove(ah_diag *diag, const char *dir);

#endif
