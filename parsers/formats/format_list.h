/*
 * format_list.h: the known export shapes (formats.def) as the public API
 * shows them: name, description, source, framing. Apart from formats.h so
 * that analyzer/audithound.h does not pull in the framers (csv.h,
 * jsonsplit.h) and the normalizer.
 */
#ifndef AH_FORMAT_LIST_H
#define AH_FORMAT_LIST_H

#include "../event.h"

typedef enum ah_framing { AH_FRAMING_JSON, AH_FRAMING_CSV } ah_framing;

typedef struct ah_format {
    const char *name;        /* stable id, e.g. "purview_csv"; documented in docs/formats.md */
    const char *description; /* one line for inspect and docs */
    ah_source_kind source;
    ah_framing framing;
} ah_format;

/* All known formats (for docs and `inspect --formats`). */
size_t ah_format_count(void);
const ah_format *ah_format_at(size_t i);
const ah_format *ah_format_by_name(const char *name);

#endif
