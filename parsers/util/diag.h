/*
 * diag.h: the one error sink. Stages never print; they report here with
 * provenance, and the command line decides how to show it.
 */
#ifndef AH_DIAG_H
#define AH_DIAG_H

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

typedef struct ah_diag {
    ah_diag_fn fn; /* NULL: discard */
    void *ud;
    uint64_t count[3]; /* per severity */
} ah_diag;

void ah_diag_report(ah_diag *d, ah_severity sev, const ah_where *where, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Format "path[entry] record N (line L)" into buf (used by printers). */
void ah_where_format(const ah_where *w, char *buf, size_t size);

#endif
