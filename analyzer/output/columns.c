/*
 * columns.c: the timeline's columns by name (columns.def), a leaf every
 * writer reads (CSV/JSON, XLSX, HTML) without depending on one another.
 */
#include "timeline.h"

#include <string.h>

static const char *const col_names[AH_COL_COUNT] = {
#define AH_COL(id, name, doc) name,
#include "columns.def"
#undef AH_COL
};

static const char *const col_docs[AH_COL_COUNT] = {
#define AH_COL(id, name, doc) doc,
#include "columns.def"
#undef AH_COL
};

const char *ah_col_name(ah_col_id c) { return (unsigned)c < AH_COL_COUNT ? col_names[c] : "?"; }
const char *ah_col_doc(ah_col_id c) { return (unsigned)c < AH_COL_COUNT ? col_docs[c] : "?"; }

ah_col_id ah_col_from_name(ah_span name)
{
    for (int c = 0; c < AH_COL_COUNT; c++)
        if (ah_span_eq(name, col_names[c]))
            return (ah_col_id)c;
    return AH_COL_COUNT;
}
