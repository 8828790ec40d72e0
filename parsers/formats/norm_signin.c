/*
 * norm_signin.c: the Entra ID sign-in family. Graph signIns, the portal's
 * JSON download, Azure Monitor `properties`, Log Analytics rows (PascalCase
 * spellings of the same names, dynamic columns possibly JSON strings) and
 * the portal CSV (turned into a Graph-style body here) all use one map.
 *
 * Choices (also in docs/formats.md):
 *  - operation: sign-in records carry none, so one fixed name per sign-in
 *    type; record_type is that type in Graph's signInEventTypes spelling
 *    (interactiveUser, nonInteractiveUser, servicePrincipal,
 *    managedIdentity), taken from the Azure Monitor category / Log
 *    Analytics table, else signInEventTypes, else isInteractive, else the
 *    portal file name (InteractiveSignIns_, NonInteractiveSignIns_,
 *    ApplicationSignIns_, MSISignIns_).
 *  - workload: "AzureActiveDirectory", as the UAL spells these events.
 *  - user: userPrincipalName only; service principal and managed identity
 *    sign-ins have no user, their name is in app.
 *  - tenant_id: tenantId, else resourceTenantId (the tenant whose log it
 *    is for guests), else homeTenantId, else the resourceId's tenant.
 */
#include "norm.h"

#include <string.h>

static const struct {
    const char *category;
    const char *type;
} signin_types[] = {
    {"SignInLogs", "interactiveUser"},
    {"ADFSSignInLogs", "interactiveUser"},
    {"NonInteractiveUserSignInLogs", "nonInteractiveUser"},
    {"AADNonInteractiveUserSignInLogs", "nonInteractiveUser"},
    {"ServicePrincipalSignInLogs", "servicePrincipal"},
    {"AADServicePrincipalSignInLogs", "servicePrincipal"},
    {"MicrosoftServicePrincipalSignInLogs", "servicePrincipal"},
    {"ManagedIdentitySignInLogs", "managedIdentity"},
    {"AADManagedIdentitySignInLogs", "managedIdentity"},
    {"interactiveUser", "interactiveUser"},
    {"nonInteractiveUser", "nonInteractiveUser"},
    {"servicePrincipal", "servicePrincipal"},
    {"managedIdentity", "managedIdentity"},
};

static const struct {
    const char *type;
    const char *operation;
} signin_operations[] = {
    {"interactiveUser", "Sign-in"},
    {"nonInteractiveUser", "Non-interactive sign-in"},
    {"servicePrincipal", "Service principal sign-in"},
    {"managedIdentity", "Managed identity sign-in"},
};

static const char *type_of(ah_span s)
{
    s = ah_span_trim(s);
    for (size_t i = 0; i < AH_ARRAY_LEN(signin_types); i++)
        if (ah_span_eq_ci(s, signin_types[i].category))
            return signin_types[i].type;
    return NULL;
}

static void signin_finish(ah_norm *c)
{
    const char *type = NULL;
    ah_span s;
    if (ah_norm_aux_text(c, AH_AUX_CATEGORY, &s))
        type = type_of(s);
    if (!type && ah_norm_aux_text(c, AH_AUX_EVENT_TYPES, &s))
        type = type_of(s);
    if (!type && ah_norm_aux_text(c, AH_AUX_INTERACTIVE, &s)) {
        s = ah_span_trim(s);
        if (ah_span_eq_ci(s, "true"))
            type = "interactiveUser";
        else if (ah_span_eq_ci(s, "false"))
            type = "nonInteractiveUser";
    }
    if (!type)
        type = c->hint_type;
    const char *op = "Sign-in";
    for (size_t i = 0; type && i < AH_ARRAY_LEN(signin_operations); i++)
        if (strcmp(type, signin_operations[i].type) == 0)
            op = signin_operations[i].operation;
    ah_norm_set_fixed(c, AH_F_OPERATION, op);
    if (type)
        ah_norm_set_fixed(c, AH_F_RECORD_TYPE, type);
}

static const ah_field_map signin_map = {
    .name = "signin",
    .time = "createdDateTime|^time|TimeGenerated",
    .field =
        {
            [AH_F_RECORD_ID] = "id",
            [AH_F_USER] = "userPrincipalName",
            [AH_F_IP] = "ipAddress|^callerIpAddress",
            [AH_F_USER_AGENT] = "userAgent",
            [AH_F_APP_ID] = "appId",
            [AH_F_APP] = "appDisplayName|servicePrincipalName",
            [AH_F_TARGET] = "resourceDisplayName|resourceId",
            [AH_F_RESULT_CODE] = "status.errorCode|ResultType|^resultType",
            [AH_F_SESSION_ID] = "sessionId",
            [AH_F_CORRELATION_ID] = "correlationId|^correlationId",
            [AH_F_TENANT_ID] = "tenantId|^tenantId|resourceTenantId|homeTenantId|^resourceId#tenant",
            [AH_F_TOKEN_ID] = "uniqueTokenIdentifier|UniqueTokenIdentifier",
        },
    .fixed = {[AH_F_WORKLOAD] = "AzureActiveDirectory"},
    .aux =
        {
            [AH_AUX_CATEGORY] = "^category|^Type",
            [AH_AUX_EVENT_TYPES] = "signInEventTypes[0]",
            [AH_AUX_INTERACTIVE] = "isInteractive",
        },
    .result = AH_RULE_CODE,
    .finish = signin_finish,
};

/* --- portal CSV -> Graph-style body ------------------------------------------------- */

enum { T_STR, T_NUM, T_BOOL, T_LOC };

/* header (normalized), body key ("group.member" nests one level), type.
 * Members of one group stay adjacent; "date (utc)" and "date" share a key
 * and only the first present is written. */
#define SIGNIN_PORTAL_COLUMNS(X)                                                                                       \
    X("request id", "id", T_STR)                                                                                       \
    X("date (utc)", "createdDateTime", T_STR)                                                                          \
    X("date", "createdDateTime", T_STR)                                                                                \
    X("user id", "userId", T_STR)                                                                                      \
    X("user", "userDisplayName", T_STR)                                                                                \
    X("username", "userPrincipalName", T_STR)                                                                          \
    X("user type", "userType", T_STR)                                                                                  \
    X("user agent", "userAgent", T_STR)                                                                                \
    X("correlation id", "correlationId", T_STR)                                                                        \
    X("application", "appDisplayName", T_STR)                                                                          \
    X("application id", "appId", T_STR)                                                                                \
    X("app owner tenant id", "appOwnerTenantId", T_STR)                                                                \
    X("resource", "resourceDisplayName", T_STR)                                                                        \
    X("resource id", "resourceId", T_STR)                                                                              \
    X("resource tenant id", "resourceTenantId", T_STR)                                                                 \
    X("resource owner tenant id", "resourceOwnerTenantId", T_STR)                                                      \
    X("home tenant id", "homeTenantId", T_STR)                                                                         \
    X("home tenant name", "homeTenantName", T_STR)                                                                     \
    X("ip address", "ipAddress", T_STR)                                                                                \
    X("ip address (seen by resource)", "ipAddressFromResourceProvider", T_STR)                                         \
    X("location", "location", T_LOC)                                                                                   \
    X("status", "status.result", T_STR)                                                                                \
    X("sign-in error code", "status.errorCode", T_NUM)                                                                 \
    X("failure reason", "status.failureReason", T_STR)                                                                 \
    X("client app", "clientAppUsed", T_STR)                                                                            \
    X("device id", "deviceDetail.deviceId", T_STR)                                                                     \
    X("browser", "deviceDetail.browser", T_STR)                                                                        \
    X("operating system", "deviceDetail.operatingSystem", T_STR)                                                       \
    X("compliant", "deviceDetail.isCompliant", T_BOOL)                                                                 \
    X("managed", "deviceDetail.isManaged", T_BOOL)                                                                     \
    X("join type", "deviceDetail.trustType", T_STR)                                                                    \
    X("cross tenant access type", "crossTenantAccessType", T_STR)                                                      \
    X("incoming token type", "incomingTokenType", T_STR)                                                               \
    X("authentication protocol", "authenticationProtocol", T_STR)                                                      \
    X("unique token identifier", "uniqueTokenIdentifier", T_STR)                                                       \
    X("original transfer method", "originalTransferMethod", T_STR)                                                     \
    X("client credential type", "clientCredentialType", T_STR)                                                         \
    X("token protection - sign in session", "tokenProtectionStatusDetails.signInSessionStatus", T_STR)                 \
    X("token protection - sign in session statuscode", "tokenProtectionStatusDetails.signInSessionStatusCode", T_NUM)  \
    X("multifactor authentication result", "mfaDetail.result", T_STR)                                                  \
    X("multifactor authentication auth method", "mfaDetail.authMethod", T_STR)                                         \
    X("multifactor authentication auth detail", "mfaDetail.authDetail", T_STR)                                         \
    X("authentication requirement", "authenticationRequirement", T_STR)                                                \
    X("sign-in identifier", "signInIdentifier", T_STR)                                                                 \
    X("session id", "sessionId", T_STR)                                                                                \
    X("through global secure access", "isThroughGlobalSecureAccess", T_BOOL)                                           \
    X("global secure access ip address", "globalSecureAccessIpAddress", T_STR)                                         \
    X("autonomous system number", "autonomousSystemNumber", T_NUM)                                                     \
    X("flagged for review", "flaggedForReview", T_BOOL)                                                                \
    X("token issuer type", "tokenIssuerType", T_STR)                                                                   \
    X("token issuer name", "tokenIssuerName", T_STR)                                                                   \
    X("latency", "processingTimeInMilliseconds", T_NUM)                                                                \
    X("conditional access", "conditionalAccessStatus", T_STR)                                                          \
    X("managed identity type", "managedServiceIdentity.msiType", T_STR)                                                \
    X("associated resource id", "managedServiceIdentity.associatedResourceId", T_STR)                                  \
    X("federated token id", "managedServiceIdentity.federatedTokenId", T_STR)                                          \
    X("federated token issuer", "managedServiceIdentity.federatedTokenIssuer", T_STR)

static const char *const signin_roles[] = {
#define X(header, key, type) header,
    SIGNIN_PORTAL_COLUMNS(X)
#undef X
};

static const struct {
    const char *key;
    unsigned char type;
} signin_cols[] = {
#define X(header, key, type) {key, type},
    SIGNIN_PORTAL_COLUMNS(X)
#undef X
};

/* "Amsterdam, Noord-Holland, NL" -> city, state, countryOrRegion (split
 * from the right: a city may contain a comma, the code never does). */
static size_t last_comma(ah_span v)
{
    for (size_t i = v.n; i > 0; i--)
        if (v.p[i - 1] == ',')
            return i - 1;
    return SIZE_MAX;
}

static void write_location(ah_jw *w, ah_span v)
{
    ah_span city = AH_SPAN_NULL, state = AH_SPAN_NULL, country = v;
    size_t c2 = last_comma(v);
    if (c2 != SIZE_MAX) { /* fewer than three parts fill from the right */
        country = ah_span_make(v.p + c2 + 1, v.n - c2 - 1);
        ah_span rest = ah_span_make(v.p, c2);
        size_t c1 = last_comma(rest);
        if (c1 == SIZE_MAX) {
            state = rest;
        } else {
            state = ah_span_make(rest.p + c1 + 1, rest.n - c1 - 1);
            city = ah_span_make(rest.p, c1);
        }
    }
    ah_jw_open(w, "location", '{');
    ah_jw_str(w, "city", ah_span_trim(city));
    ah_jw_str(w, "state", ah_span_trim(state));
    ah_jw_str(w, "countryOrRegion", ah_span_trim(country));
    ah_jw_close(w, '}');
}

static void write_cell(ah_jw *w, const char *key, unsigned char type, ah_span v)
{
    switch (type) {
    case T_NUM: ah_jw_num_or_str(w, key, v); break;
    case T_BOOL: ah_jw_bool_or_str(w, key, v); break;
    case T_LOC: write_location(w, v); break;
    default: ah_jw_str(w, key, v); break;
    }
}

static ah_status signin_synth(ah_norm *c)
{
    ah_jw w;
    ah_buf_reset(&c->body_buf);
    ah_jw_begin(&w, &c->body_buf);
    ah_jw_open(&w, NULL, '{');
    const size_t n = AH_ARRAY_LEN(signin_cols);
    const char *written = NULL;
    for (size_t i = 0; i < n;) {
        const char *key = signin_cols[i].key;
        const char *dot = strchr(key, '.');
        if (!dot) {
            ah_span cell = ah_norm_role_cell(c, i);
            if (!ah_span_blank(cell) && !(written && strcmp(written, key) == 0)) {
                write_cell(&w, key, signin_cols[i].type, cell);
                written = key;
            }
            i++;
            continue;
        }
        size_t plen = (size_t)(dot - key), j = i;
        bool any = false;
        while (j < n && strncmp(signin_cols[j].key, key, plen) == 0 && signin_cols[j].key[plen] == '.') {
            any = any || !ah_span_blank(ah_norm_role_cell(c, j));
            j++;
        }
        if (any) {
            char group[64];
            memcpy(group, key, plen);
            group[plen] = '\0';
            ah_jw_open(&w, group, '{');
            for (size_t k = i; k < j; k++)
                write_cell(&w, signin_cols[k].key + plen + 1, signin_cols[k].type, ah_norm_role_cell(c, k));
            ah_jw_close(&w, '}');
        }
        i = j;
    }
    ah_jw_close(&w, '}');
    return w.st;
}

static const ah_csv_shape signin_portal_csv = {
    .all = "request id",
    .any = "date (utc)|date",
    .any2 = "ip address|user agent|username|application id|sign-in error code",
    .none = "authentication method|authentication method detail",
};
const ah_format_spec ah_spec_signin_portal_csv = {
    .map = &signin_map,
    .csv = &signin_portal_csv,
    .csv_body = AH_CSV_BODY_SYNTH,
    .csv_roles = signin_roles,
    .ncsv_roles = AH_ARRAY_LEN(signin_roles),
    .csv_synth = signin_synth,
    .csv_local_date = "date",
};

/* --- JSON ----------------------------------------------------------------------------------- */

#define SIGNIN_CATEGORIES                                                                                              \
    "SignInLogs|NonInteractiveUserSignInLogs|ServicePrincipalSignInLogs|ManagedIdentitySignInLogs|"                    \
    "MicrosoftServicePrincipalSignInLogs|ADFSSignInLogs|AADNonInteractiveUserSignInLogs|"                              \
    "AADServicePrincipalSignInLogs|AADManagedIdentitySignInLogs"
#define AUDIT_CATEGORIES "AuditLogs|Audit"
/* Keys only a sign-in has (for envelopes whose category does not say). */
#define SIGNIN_BODY_KEYS                                                                                               \
    "status|signInEventTypes|isInteractive|clientAppUsed|conditionalAccessStatus|authenticationDetails|"               \
    "resourceDisplayName|ResultType"

static const ah_json_shape azure_monitor[] = {{
    .body = "properties",
    .body_optional = true,
    .all = "category",
    .any = "time|properties",
    .none = "TimeGenerated",
    .cat = "category",
    .cat_in = SIGNIN_CATEGORIES,
    .cat_out = AUDIT_CATEGORIES,
    .body_any = SIGNIN_BODY_KEYS,
}};
const ah_format_spec ah_spec_signin_azure_monitor = {.map = &signin_map, .shapes = azure_monitor, .nshapes = 1};

static const ah_json_shape log_analytics[] = {
    {.all = "TimeGenerated",
     .none = "OfficeWorkload|OfficeId",
     .cat = "Category|Type",
     .cat_in = SIGNIN_CATEGORIES,
     .cat_out = AUDIT_CATEGORIES "|OfficeActivity",
     .body_any = "ResultType|UserPrincipalName|AppId|IPAddress|Status|IsInteractive|ClientAppUsed"},
    /* a row without TimeGenerated (corpus test-invalid-time.log): only by its Category */
    {.all = "Category",
     .none = "time|properties|TimeGenerated",
     .cat = "Category",
     .cat_in = SIGNIN_CATEGORIES,
     .cat_out = AUDIT_CATEGORIES,
     .body_any = "ResultType|UserPrincipalName|AppId|IPAddress|Status|IsInteractive|ClientAppUsed"},
};
const ah_format_spec ah_spec_signin_log_analytics = {
    .map = &signin_map, .shapes = log_analytics, .nshapes = AH_ARRAY_LEN(log_analytics)};

static const ah_json_shape graph[] = {{
    .any = "userPrincipalName|appId|ipAddress|servicePrincipalId|userId",
    .any2 = "createdDateTime|status|signInEventTypes|isInteractive|clientAppUsed|conditionalAccessStatus",
    .none = "time|properties|TimeGenerated|activityDisplayName",
}};
const ah_format_spec ah_spec_signin_graph = {.map = &signin_map, .shapes = graph, .nshapes = 1};
