/*
 * sink.h: a byte destination that never leaves a half-written file behind.
 *
 *  - "-" is standard output (never closed by the sink).
 *  - An existing path that is not a regular file (after following
 *    symlinks: /dev/null, a FIFO, a terminal) is opened and written
 *    directly.
 *  - Otherwise the bytes go to a temporary file
 *    ".<name>.audithound-<host>-<pid>-XXXXXX" in the same directory
 *    (created 0666 & ~umask, O_EXCL); ah_sink_commit
 *    fsyncs it and moves it to the final name. An existing final name is
 *    refused at open unless force is set. Without force the commit uses
 *    link()+unlink(), which fails rather than clobber a file created in
 *    the meantime (falling back to a second existence check + rename() on
 *    file systems without hard links). With force it is rename().
 *  - Freeing a sink that was not committed removes its temporary file.
 *  - The temporary is announced to diag's temp hook (ah_diag_temp) while it
 *    exists, so that the caller can remove it when a signal ends the run.
 *  - Opening a file sink removes the temporaries of the same output that a
 *    run on this host left behind when it died without cleaning up (its
 *    process is gone), with a warning to diag.
 */
#ifndef AH_SINK_H
#define AH_SINK_H

#include "../../parsers/util/common.h"
#include "../../parsers/util/diag.h"

typedef struct ah_sink ah_sink;

typedef enum ah_sink_kind {
    AH_SINK_STDOUT,
    AH_SINK_DIRECT, /* existing non-regular file (device, FIFO) */
    AH_SINK_FILE,   /* regular file via temporary name + rename */
} ah_sink_kind;

/* NULL on failure with *st set: AH_ERR_USAGE (empty path, a directory,
 * exists without force), AH_ERR_IO, AH_ERR_NOMEM; the reason goes to diag. */
ah_sink *ah_sink_open(const char *path, bool force, ah_diag *diag, ah_status *st);

ah_sink_kind ah_sink_get_kind(const ah_sink *s);
const char *ah_sink_path(const ah_sink *s);      /* final path as given */
const char *ah_sink_temp_path(const ah_sink *s); /* NULL unless AH_SINK_FILE and not committed */

/* Write all n bytes (retrying short writes and EINTR). AH_ERR_IO on failure. */
ah_status ah_sink_write(ah_sink *s, const void *p, size_t n);

/* SHA-256 (64 hex digits) and count of the bytes written so far. */
void ah_sink_digest(const ah_sink *s, char sha256[65], uint64_t *bytes);

/* For a file sink whose temporary file was written through its path by
 * another library (the XLSX writer): digest its content as it is now.
 * AH_ERR_USAGE for other sinks, AH_ERR_IO when it cannot be read. */
ah_status ah_sink_rehash(ah_sink *s);

/* Flush to stable storage and close the descriptor, keeping the temporary
 * name (a finished split part waits for the writer's close). Idempotent. */
ah_status ah_sink_finish(ah_sink *s);

/* AH_ERR_USAGE if the final name exists and force is off (a pre-check
 * that lets a writer refuse before committing any of several parts). */
ah_status ah_sink_check_target(ah_sink *s);

/* Finish if needed, then move the temporary file to the final name (and
 * fsync the directory). For stdout/direct sinks just finishes. */
ah_status ah_sink_commit(ah_sink *s);

/* Close; remove the temporary file unless committed. Accepts NULL. */
void ah_sink_free(ah_sink *s);

/* The files a run wrote, for the run summary: path as given, size, SHA-256. */
typedef struct ah_output_file {
    char *path;
    uint64_t bytes;
    char sha256[65];
} ah_output_file;

typedef struct ah_output_list {
    ah_output_file *v;
    size_t n, cap;
} ah_output_list;

/* Record a committed sink's file (its digest covers what it wrote); stdout
 * and devices are not files and are skipped. AH_ERR_NOMEM. */
ah_status ah_output_list_add(ah_output_list *l, const ah_sink *s);
void ah_output_list_free(ah_output_list *l);

/* Name of split part `part` (1-based) of `path`: part 1 is path itself;
 * part n >= 2 inserts "-NNN" (at least 3 digits) before the extension of
 * the last path component: out.csv -> out-002.csv, out -> out-002,
 * dir.v/.hidden -> dir.v/.hidden-002. Returns a malloc'd string (free())
 * or NULL on allocation failure. */
char *ah_sink_part_path(const char *path, unsigned part);

#endif
