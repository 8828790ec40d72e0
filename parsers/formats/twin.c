/* twin.c: the twin rule (see twin.h). */
#include "twin.h"

ah_twin_class ah_twin_class_of(ah_source_kind source, ah_span workload, ah_span op_canon)
{
    switch (source) {
    case AH_SOURCE_SIGNIN: return AH_TWIN_SIGNIN;
    case AH_SOURCE_ENTRA_AUDIT: return AH_TWIN_DIRECTORY;
    case AH_SOURCE_UAL:
        if (ah_span_eq_ci(op_canon, "userloggedin") || ah_span_eq_ci(op_canon, "userloginfailed"))
            return AH_TWIN_SIGNIN;
        return ah_span_eq_ci(ah_span_trim(workload), "AzureActiveDirectory") && op_canon.n ? AH_TWIN_DIRECTORY
                                                                                           : AH_TWIN_NONE;
    default: return AH_TWIN_NONE;
    }
}

void ah_twin_key_of_event(const ah_event *ev, ah_twin_key *key)
{
    key->source = ev->source;
    key->cls =
        ev->has_time ? ah_twin_class_of(ev->source, ev->field[AH_F_WORKLOAD], ev->operation_canon) : AH_TWIN_NONE;
    key->time = ev->time;
    key->op_canon = ev->operation_canon;
    key->user = ah_span_trim(ev->field[AH_F_USER]);
    key->ip = ah_span_trim(ev->field[AH_F_IP]);
    key->app_id = ah_span_trim(ev->field[AH_F_APP_ID]);
    key->target = ah_span_trim(ev->field[AH_F_TARGET]);
    key->correlation_id = ah_span_trim(ev->field[AH_F_CORRELATION_ID]);
    key->result = ev->result;
}

/* Equal, or absent on one side. */
static bool agrees(ah_span a, ah_span b) { return !a.n || !b.n || ah_span_same_ci(a, b); }

bool ah_twin_match(const ah_twin_key *a, const ah_twin_key *b)
{
    if (a->cls == AH_TWIN_NONE || a->cls != b->cls)
        return false;
    if ((a->source == AH_SOURCE_UAL) == (b->source == AH_SOURCE_UAL))
        return false;
    int64_t ds = a->time.sec - b->time.sec;
    if (ds > 6 || ds < -6)
        return false;
    int64_t dns = ds * 1000000000LL + (a->time.nsec - b->time.nsec);
    if (dns > AH_TWIN_WINDOW_NS || dns < -AH_TWIN_WINDOW_NS)
        return false;
    if (!a->user.n || !b->user.n || !ah_span_same_ci(a->user, b->user))
        return false;
    if (!agrees(a->ip, b->ip) || !agrees(a->app_id, b->app_id))
        return false;
    if (a->result != AH_RESULT_UNKNOWN && b->result != AH_RESULT_UNKNOWN && a->result != b->result)
        return false;
    if (a->cls == AH_TWIN_DIRECTORY) {
        if (!ah_span_same_ci(a->op_canon, b->op_canon))
            return false;
        if (a->correlation_id.n && b->correlation_id.n) /* the UAL names the target differently (User_<id>) */
            return ah_span_same_ci(a->correlation_id, b->correlation_id);
        return agrees(a->target, b->target);
    }
    return true;
}
