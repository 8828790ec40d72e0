/*
 * rulenames.c: the names of levels, statuses and rule kinds. A leaf: the
 * parser, explain and the driver all name these, so they live below them.
 */
#include "rules.h"

const char *ah_level_name(ah_level l)
{
    static const char *const names[] = {"info", "low", "medium", "high", "critical"};
    return (unsigned)l < AH_ARRAY_LEN(names) ? names[l] : "info";
}

bool ah_level_from_name(ah_span name, ah_level *out)
{
    for (int l = AH_LEVEL_INFO; l <= AH_LEVEL_CRITICAL; l++)
        if (ah_span_eq_ci(name, ah_level_name((ah_level)l))) {
            *out = (ah_level)l;
            return true;
        }
    return false;
}

const char *ah_rule_status_name(ah_rule_status s)
{
    switch (s) {
    case AH_RULE_STATUS_STABLE: return "stable";
    case AH_RULE_STATUS_TEST: return "test";
    case AH_RULE_STATUS_EXPERIMENTAL: return "experimental";
    default: return "";
    }
}

const char *ah_rule_kind_name(ah_rule_kind k)
{
    switch (k) {
    case AH_RULE_AGGREGATE: return "correlation";
    case AH_RULE_SEQUENCE: return "sequence";
    case AH_RULE_FIRST_SEEN: return "first-seen";
    default: return "rule";
    }
}
