/*
 * diag.h: the one error sink. Stages never print; they report here with
 * provenance, and the command line decides how to show it.
 */
#ifndef AH_DIAG_H
#define AH_DIAG_H

#include <stdio.h>

#include "common.h"

typedef enum ah_severity { AH_SEV_NOTE, AH_SEV_WARNING, AH_SEV_ERROR } ah_severity;

/* Where a problem is. Any member may be NULL/0 when unknown. */
typedef struct ah_where {
    const char *path;
    const char *entry;
    uint64_t record_no;
    uint64_t line_no;
} ah_where;

typedef void (*ah_diag_fn)(void *ud, ah_severity sev, const ah_where *where, const char *msg);

/* Temporaries: called with exists=true right after the library created a
 * temporary file or directory, and with exists=false before it removes or
 * renames it (path stays valid in between). The caller (the CLI's signal
 * handler) can then remove what a killed run leaves: a file, or a
 * directory with the files in it. */
typedef void (*ah_temp_fn)(void *ud, const char *path, bool exists);

typedef struct ah_diag {
    ah_diag_fn fn; /* NULL: discard */
    void *ud;
    uint64_t count[3];  /* per severity */
    ah_temp_fn temp_fn; /* NULL: nobody is told of temporaries */
    void *temp_ud;
} ah_diag;

void ah_diag_report(ah_diag *d, ah_severity sev, const ah_where *where, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Tell d's owner that a temporary now exists, or is about to go (ah_temp_fn). */
void ah_diag_temp(const ah_diag *d, const char *path, bool exists);

/* Format "path[entry] record N (line L)" into buf (used by printers);
 * path and entry are escaped as ah_escape_text does. */
void ah_where_format(const ah_where *w, char *buf, size_t size);

/* The one escaping of attacker-controlled text (paths, archive entry names,
 * data quoted in messages) for a terminal or a log: C0 controls, DEL and
 * bytes that are not well-formed UTF-8 become \xNN; C1 controls and the
 * bidirectional overrides (U+202A..U+202E, U+2066..U+2069) become \uNNNN;
 * everything else is copied. With keep_newlines, '\n' is kept (multi-line
 * messages of our own, e.g. a rule error with its caret line).
 * Writes at most size-1 bytes and a NUL (an escape is never cut in half);
 * returns out. */
const char *ah_escape_text(const char *s, size_t n, bool keep_newlines, char *out, size_t size);
/* The same, appended to a FILE (no length limit). */
void ah_escape_fputs(const char *s, FILE *f);

#endif
