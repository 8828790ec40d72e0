/*
 * norm_audit.c: the Entra ID directory audit family. Graph directoryAudits
 * (and the portal JSON download), Azure Monitor `properties`, Log Analytics
 * AuditLogs rows (InitiatedBy / TargetResources / AdditionalDetails often
 * JSON strings) and the portal's flattened 86-column CSV, rebuilt here
 * into the Graph shape so one rule path works on every export.
 *
 * Choices (also in docs/formats.md):
 *  - time: activityDateTime, else createdDateTime (a Graph variant seen in
 *    the wild), else the envelope time / TimeGenerated.
 *  - user: initiatedBy.user.userPrincipalName, else the initiating app's
 *    name; app_id/app: initiatedBy.app. record_type: the directory
 *    category (ApplicationManagement, ...); workload: loggedByService.
 *  - target: the first target resource's displayName (else its UPN, id).
 *  - The portal CSV has no record id: its identity is (Date, CorrelationId,
 *    Activity, Target1ObjectId).
 */
#include "norm.h"

#include <string.h>

static const ah_field_map audit_map = {
    .name = "audit",
    .time = "activityDateTime|createdDateTime|^time|TimeGenerated",
    .field =
        {
            [AH_F_RECORD_ID] = "id",
            [AH_F_OPERATION] = "activityDisplayName|OperationName|^operationName",
            [AH_F_WORKLOAD] = "loggedByService",
            [AH_F_RECORD_TYPE] = "category|^category",
            [AH_F_USER] = "initiatedBy.user.userPrincipalName|initiatedBy.app.displayName|"
                          "initiatedBy.app.servicePrincipalName|^identity",
            [AH_F_IP] = "initiatedBy.user.ipAddress|^callerIpAddress|^IPAddress",
            [AH_F_USER_AGENT] = "additionalDetails[key=User-Agent].value|UserAgent",
            [AH_F_APP_ID] = "initiatedBy.app.appId|additionalDetails[key=AppId].value",
            [AH_F_APP] = "initiatedBy.app.displayName|initiatedBy.app.servicePrincipalName",
            [AH_F_TARGET] = "targetResources[0].displayName|targetResources[0].userPrincipalName|targetResources[0].id",
            [AH_F_RESULT_CODE] = "result|^resultType",
            [AH_F_CORRELATION_ID] = "correlationId|^correlationId",
            [AH_F_TENANT_ID] = "^tenantId|AADTenantId|initiatedBy.user.homeTenantId|^resourceId#tenant",
        },
    .result = AH_RULE_WORDS,
};

/* --- portal CSV -> Graph-style body ------------------------------------------------- */

enum {
    R_DATE_UTC,
    R_DATE,
    R_CORRELATION,
    R_SERVICE,
    R_CATEGORY,
    R_ACTIVITY,
    R_RESULT,
    R_REASON,
    R_USER_AGENT,
    R_ACTOR_TYPE,
    R_ACTOR_NAME,
    R_ACTOR_ID,
    R_ACTOR_UPN,
    R_IP,
    R_ACTOR_HOME_TENANT_ID,
    R_ACTOR_HOME_TENANT_NAME,
    R_ACTOR_SP_ID,
    R_ACTOR_SP_NAME,
    R_TARGETS,
    TARGET_ROLES = 4 + 5 * 3, /* type, displayName, objectId, UPN, 5 x (name, old, new) */
    MAX_TARGETS = 3,
    R_DETAILS = R_TARGETS + MAX_TARGETS * TARGET_ROLES,
    MAX_DETAILS = 6,
    R_COUNT = R_DETAILS + 2 * MAX_DETAILS,
};

#define MODPROP(t, p)                                                                                                  \
    "target" #t "modifiedproperty" #p "name", "target" #t "modifiedproperty" #p "oldvalue",                            \
        "target" #t "modifiedproperty" #p "newvalue"
#define TARGET(t)                                                                                                      \
    "target" #t "type", "target" #t "displayname", "target" #t "objectid", "target" #t "userprincipalname",            \
        MODPROP(t, 1), MODPROP(t, 2), MODPROP(t, 3), MODPROP(t, 4), MODPROP(t, 5)
#define DETAIL(d) "additionaldetail" #d "key", "additionaldetail" #d "value"

static const char *const audit_roles[] = {
    "date (utc)",
    "date",
    "correlationid",
    "service",
    "category",
    "activity",
    "result",
    "resultreason",
    "user agent",
    "actortype",
    "actordisplayname",
    "actorobjectid",
    "actoruserprincipalname",
    "ipaddress",
    "actorhometenantid",
    "actorhometenantname",
    "actorserviceprincipalid",
    "actorserviceprincipalname",
    TARGET(1),
    TARGET(2),
    TARGET(3),
    DETAIL(1),
    DETAIL(2),
    DETAIL(3),
    DETAIL(4),
    DETAIL(5),
    DETAIL(6),
};
_Static_assert(AH_ARRAY_LEN(audit_roles) == R_COUNT, "one role name per column role");

static ah_span cell(const ah_norm *c, size_t role) { return ah_norm_role_cell(c, role); }

static bool any_cell(const ah_norm *c, size_t first, size_t count)
{
    for (size_t r = first; r < first + count; r++)
        if (!ah_span_blank(cell(c, r)))
            return true;
    return false;
}

static void write_actor(ah_norm *c, ah_jw *w)
{
    bool is_user = ah_span_eq_ci(ah_span_trim(cell(c, R_ACTOR_TYPE)), "User") || !ah_span_blank(cell(c, R_ACTOR_UPN));
    ah_span sp_id = cell(c, R_ACTOR_SP_ID), sp_name = cell(c, R_ACTOR_SP_NAME);
    if (!is_user) { /* an application actor: its object and name are the service principal's */
        if (ah_span_blank(sp_id))
            sp_id = cell(c, R_ACTOR_ID);
        if (ah_span_blank(sp_name))
            sp_name = cell(c, R_ACTOR_NAME);
    }
    bool has_user = is_user && any_cell(c, R_ACTOR_NAME, R_ACTOR_HOME_TENANT_NAME - R_ACTOR_NAME + 1);
    bool has_app = !ah_span_blank(sp_id) || !ah_span_blank(sp_name);
    if (!has_user && !has_app)
        return;
    ah_jw_open(w, "initiatedBy", '{');
    if (has_user) {
        ah_jw_open(w, "user", '{');
        ah_jw_str(w, "id", cell(c, R_ACTOR_ID));
        ah_jw_str(w, "displayName", cell(c, R_ACTOR_NAME));
        ah_jw_str(w, "userPrincipalName", cell(c, R_ACTOR_UPN));
        ah_jw_str(w, "ipAddress", cell(c, R_IP));
        ah_jw_str(w, "homeTenantId", cell(c, R_ACTOR_HOME_TENANT_ID));
        ah_jw_str(w, "homeTenantName", cell(c, R_ACTOR_HOME_TENANT_NAME));
        ah_jw_close(w, '}');
    }
    if (has_app) {
        ah_jw_open(w, "app", '{');
        ah_jw_str(w, "servicePrincipalId", sp_id);
        ah_jw_str(w, "displayName", sp_name);
        ah_jw_str(w, "servicePrincipalName", cell(c, R_ACTOR_SP_NAME));
        ah_jw_close(w, '}');
    }
    ah_jw_close(w, '}');
}

static void write_targets(ah_norm *c, ah_jw *w)
{
    if (!any_cell(c, R_TARGETS, MAX_TARGETS * TARGET_ROLES))
        return;
    ah_jw_open(w, "targetResources", '[');
    for (size_t t = 0; t < MAX_TARGETS; t++) {
        size_t base = R_TARGETS + t * TARGET_ROLES;
        if (!any_cell(c, base, TARGET_ROLES))
            continue;
        ah_jw_open(w, NULL, '{');
        ah_jw_str(w, "type", cell(c, base));
        ah_jw_str(w, "displayName", cell(c, base + 1));
        ah_jw_str(w, "id", cell(c, base + 2));
        ah_jw_str(w, "userPrincipalName", cell(c, base + 3));
        if (any_cell(c, base + 4, TARGET_ROLES - 4)) {
            ah_jw_open(w, "modifiedProperties", '[');
            for (size_t p = base + 4; p < base + TARGET_ROLES; p += 3) {
                if (!any_cell(c, p, 3))
                    continue;
                ah_jw_open(w, NULL, '{');
                ah_jw_str(w, "displayName", cell(c, p));
                ah_jw_str(w, "oldValue", cell(c, p + 1));
                ah_jw_str(w, "newValue", cell(c, p + 2));
                ah_jw_close(w, '}');
            }
            ah_jw_close(w, ']');
        }
        ah_jw_close(w, '}');
    }
    ah_jw_close(w, ']');
}

static void write_details(ah_norm *c, ah_jw *w)
{
    ah_span ua = cell(c, R_USER_AGENT);
    if (ah_span_blank(ua) && !any_cell(c, R_DETAILS, 2 * MAX_DETAILS))
        return;
    ah_jw_open(w, "additionalDetails", '[');
    if (!ah_span_blank(ua)) { /* where Graph keeps it */
        ah_jw_open(w, NULL, '{');
        ah_jw_str(w, "key", ah_span_cstr("User-Agent"));
        ah_jw_str(w, "value", ua);
        ah_jw_close(w, '}');
    }
    for (size_t d = R_DETAILS; d < R_COUNT; d += 2) {
        if (!any_cell(c, d, 2))
            continue;
        ah_jw_open(w, NULL, '{');
        ah_jw_str(w, "key", cell(c, d));
        ah_jw_str(w, "value", cell(c, d + 1));
        ah_jw_close(w, '}');
    }
    ah_jw_close(w, ']');
}

static ah_status audit_synth(ah_norm *c)
{
    ah_jw w;
    ah_buf_reset(&c->body_buf);
    ah_jw_begin(&w, &c->body_buf);
    ah_jw_open(&w, NULL, '{');
    ah_span date = cell(c, R_DATE_UTC);
    ah_jw_str(&w, "activityDateTime", ah_span_blank(date) ? cell(c, R_DATE) : date);
    ah_jw_str(&w, "correlationId", cell(c, R_CORRELATION));
    ah_jw_str(&w, "loggedByService", cell(c, R_SERVICE));
    ah_jw_str(&w, "category", cell(c, R_CATEGORY));
    ah_jw_str(&w, "activityDisplayName", cell(c, R_ACTIVITY));
    ah_jw_str(&w, "result", cell(c, R_RESULT));
    ah_jw_str(&w, "resultReason", cell(c, R_REASON));
    write_actor(c, &w);
    write_targets(c, &w);
    write_details(c, &w);
    ah_jw_close(&w, '}');
    return w.st;
}

static const ah_csv_shape audit_portal_csv = {
    .all = "correlationid|service|category|activity|result",
    .any = "date (utc)|date",
};
const ah_format_spec ah_spec_entra_audit_portal_csv = {
    .map = &audit_map,
    .csv = &audit_portal_csv,
    .csv_body = AH_CSV_BODY_SYNTH,
    .csv_roles = audit_roles,
    .ncsv_roles = AH_ARRAY_LEN(audit_roles),
    .csv_synth = audit_synth,
    .csv_key_columns = "date (utc)|date|correlationid|activity|target1objectid",
    .csv_local_date = "date",
};

/* --- JSON ----------------------------------------------------------------------------------- */

#define SIGNIN_CATEGORIES                                                                                              \
    "SignInLogs|NonInteractiveUserSignInLogs|ServicePrincipalSignInLogs|ManagedIdentitySignInLogs|"                    \
    "MicrosoftServicePrincipalSignInLogs|ADFSSignInLogs"
#define AUDIT_BODY_KEYS "activityDisplayName|activityDateTime|initiatedBy|targetResources|loggedByService"

static const ah_json_shape azure_monitor[] = {{
    .body = "properties",
    .body_optional = true,
    .all = "category",
    .any = "time|properties",
    .none = "TimeGenerated",
    .cat = "category",
    .cat_in = "AuditLogs|Audit",
    .cat_out = SIGNIN_CATEGORIES,
    .body_any = AUDIT_BODY_KEYS,
}};
const ah_format_spec ah_spec_entra_audit_azure_monitor = {.map = &audit_map, .shapes = azure_monitor, .nshapes = 1};

static const ah_json_shape log_analytics[] = {{
    .any = "TimeGenerated|AADOperationType|SourceSystem",
    .any2 = AUDIT_BODY_KEYS,
    .none = "time|properties|OfficeWorkload",
}};
const ah_format_spec ah_spec_entra_audit_log_analytics = {.map = &audit_map, .shapes = log_analytics, .nshapes = 1};

static const ah_json_shape graph[] = {{
    .any = "activityDisplayName|initiatedBy|targetResources|loggedByService",
    .any2 = "activityDateTime|createdDateTime|id|correlationId",
    .none = "time|properties|TimeGenerated",
}};
const ah_format_spec ah_spec_entra_audit_graph = {.map = &audit_map, .shapes = graph, .nshapes = 1};
