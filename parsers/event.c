#include "event.h"

#include <string.h>

static const char *const source_names[AH_SOURCE_COUNT] = {"unknown", "ual", "signin", "entra_audit"};

const char *ah_source_name(ah_source_kind k)
{
    return (unsigned)k < AH_SOURCE_COUNT ? source_names[k] : "unknown";
}

ah_source_kind ah_source_from_name(ah_span name)
{
    for (int k = AH_SOURCE_UAL; k < AH_SOURCE_COUNT; k++)
        if (ah_span_eq_ci(name, source_names[k]))
            return (ah_source_kind)k;
    return AH_SOURCE_UNKNOWN;
}

const char *ah_result_name(ah_result r)
{
    switch (r) {
    case AH_RESULT_SUCCESS: return "success";
    case AH_RESULT_FAILURE: return "failure";
    default: return "unknown";
    }
}

static const char *const field_names[AH_F_COUNT] = {
#define AH_FIELD(id, name, doc) name,
#include "event_fields.def"
#undef AH_FIELD
};

const char *ah_field_name(ah_field_id f) { return (unsigned)f < AH_F_COUNT ? field_names[f] : "?"; }

ah_field_id ah_field_from_name(ah_span name)
{
    for (int f = 0; f < AH_F_COUNT; f++)
        if (ah_span_eq(name, field_names[f]))
            return (ah_field_id)f;
    return AH_F_COUNT;
}
