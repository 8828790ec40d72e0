/*
 * norm_ual.c: the Unified Audit Log family. One field map serves every
 * shape that carries an AuditData record: the body is always AuditData
 * (or the row itself for flattened and OfficeActivity exports), and the
 * wrapper's own columns (cmdlet CreationDate/UserIds/Operations/Identity,
 * Purview RecordId, Graph id/createdDateTime/service, Defender Timestamp,
 * OfficeActivity renames) are later candidates reached with '^'.
 *
 * Choices (also in docs/formats.md):
 *  - time: AuditData CreationTime (UTC without designator) is authoritative;
 *    the culture-formatted CreationDate only when CreationTime is missing.
 *  - record_type: AuditData RecordType (usually the integer) before the
 *    wrapper's (cmdlet enum name, Graph camelCase name).
 *  - result: RecordType 15 / UserLoggedIn / UserLoginFailed by
 *    ErrorCode/LogonError (see formats.c ual_result), others by ResultStatus.
 *  - correlation_id: InterSystemsId (the Entra correlation id of RecordType
 *    8/15 records), then AppAccessContext.CorrelationId.
 *  - target: ObjectId, else the mailbox or the named Target entry.
 */
#include "norm.h"

static const ah_field_map ual_map = {
    .name = "ual",
    .time = "CreationTime|^createdDateTime|^Timestamp|TimeGenerated|^CreationDate",
    .field =
        {
            [AH_F_RECORD_ID] = "Id|^Identity|^RecordId|^id|OfficeId|SourceRecordId",
            [AH_F_OPERATION] = "Operation|^Operations|^Operation",
            [AH_F_WORKLOAD] = "Workload|OfficeWorkload|^service",
            [AH_F_RECORD_TYPE] = "RecordType|^RecordType|^auditLogRecordType",
            [AH_F_USER] = "UserId|^UserIds|^UserId|^userPrincipalName",
            [AH_F_IP] = "ClientIP|ClientIPAddress|Client_IPAddress|ActorIpAddress|^clientIp|^IPAddress",
            [AH_F_USER_AGENT] = "UserAgent|ExtendedProperties[Name=UserAgent].Value|"
                                "ExtendedProperties[Name=additionalDetails].Value.User-Agent|ClientInfoString",
            [AH_F_APP_ID] = "AppId|ClientAppId|ApplicationId|AppAccessContext.ClientAppId|"
                            "ExtendedProperties[Name=additionalDetails].Value.AppId",
            [AH_F_APP] = "ClientAppName|AppAccessContext.ClientAppName|ApplicationDisplayName",
            [AH_F_TARGET] = "ObjectId|OfficeObjectId|ModifiedObjectResolvedName|MailboxOwnerUPN|Target[Type=1].ID|"
                            "Target[0].ID|^objectId",
            [AH_F_RESULT_CODE] = "ResultStatus",
            [AH_F_SESSION_ID] = "SessionId|AppAccessContext.AADSessionId|DeviceProperties[Name=SessionId].Value",
            [AH_F_CORRELATION_ID] = "InterSystemsId|AppAccessContext.CorrelationId|CorrelationId",
            [AH_F_TENANT_ID] = "OrganizationId|^organizationId|TenantId|OfficeTenantId|^TenantId",
            [AH_F_TOKEN_ID] = "AppAccessContext.UniqueTokenId",
        },
    .aux = {[AH_AUX_STS_CODE] = "ErrorCode|LogonError|ErrorNumber"},
    .result = AH_RULE_UAL,
};

/* --- CSV ------------------------------------------------------------------------- */

static const ah_csv_shape purview_csv = {.all = "recordid|creationdate|recordtype|operation|userid|auditdata"};
const ah_format_spec ah_spec_purview_csv = {
    .map = &ual_map, .csv = &purview_csv, .csv_body = AH_CSV_BODY_COLUMN, .csv_body_column = "auditdata"};

static const ah_csv_shape cmdlet_csv = {.all = "creationdate|userids|operations|auditdata",
                                        .any = "resultindex|resultcount|identity|isvalid|objectstate|runspaceid"};
const ah_format_spec ah_spec_ual_cmdlet_csv = {
    .map = &ual_map, .csv = &cmdlet_csv, .csv_body = AH_CSV_BODY_COLUMN, .csv_body_column = "auditdata"};

static const ah_csv_shape classic_csv = {.all = "creationdate|userids|auditdata", .any = "operations|recordtype"};
const ah_format_spec ah_spec_purview_csv_classic = {
    .map = &ual_map, .csv = &classic_csv, .csv_body = AH_CSV_BODY_COLUMN, .csv_body_column = "auditdata"};

static const ah_csv_shape graph_audit_csv = {.all = "id|createddatetime|operation|auditdata",
                                             .any = "auditlogrecordtype|userprincipalname|organizationid"};
const ah_format_spec ah_spec_graph_audit_csv = {
    .map = &ual_map, .csv = &graph_audit_csv, .csv_body = AH_CSV_BODY_COLUMN, .csv_body_column = "auditdata"};

static const ah_csv_shape flat_csv = {.all = "creationtime",
                                      .any = "operation|operations",
                                      .any2 = "id|recordtype|workload|organizationid",
                                      .none = "auditdata|timegenerated"};
const ah_format_spec ah_spec_ual_flat_csv = {.map = &ual_map, .csv = &flat_csv, .csv_body = AH_CSV_BODY_RAW};

static const ah_csv_shape officeactivity_csv = {.all = "timegenerated|operation", .any = "officeworkload|officeid"};
const ah_format_spec ah_spec_officeactivity_csv = {
    .map = &ual_map, .csv = &officeactivity_csv, .csv_body = AH_CSV_BODY_RAW};

/* --- JSON ------------------------------------------------------------------------ */

/* The AuditData keys that make an object a UAL record. */
#define UAL_BODY_KEYS "CreationTime|Operation|RecordType|Id"

static const ah_json_shape cmdlet_json[] = {{
    .body = "AuditData",
    .all = "AuditData",
    .any = "CreationDate|UserIds|Operations|ResultIndex|ResultCount|Identity|IsValid|ObjectState",
    .none = "auditLogRecordType",
    .body_any = UAL_BODY_KEYS,
}};
const ah_format_spec ah_spec_ual_cmdlet_json = {.map = &ual_map, .shapes = cmdlet_json, .nshapes = 1};

static const ah_json_shape graph_audit_record[] = {{
    .body = "auditData",
    .all = "auditData",
    .any = "auditLogRecordType|createdDateTime",
}};
const ah_format_spec ah_spec_graph_audit_record = {.map = &ual_map, .shapes = graph_audit_record, .nshapes = 1};

static const ah_json_shape m365d[] = {{
    .body = "RawEventData",
    .all = "RawEventData",
    .any = "ActionType|Timestamp|ReportId",
    .body_any = UAL_BODY_KEYS,
}};
const ah_format_spec ah_spec_m365d_cloudappevents = {.map = &ual_map, .shapes = m365d, .nshapes = 1};

static const ah_json_shape officeactivity[] = {{.any = "OfficeWorkload|OfficeId|OfficeObjectId|OfficeTenantId"}};
const ah_format_spec ah_spec_officeactivity = {.map = &ual_map, .shapes = officeactivity, .nshapes = 1};

static const ah_json_shape ual_json[] = {
    /* Wazuh: {"integration":"office365","office365":{...}} */
    {.body = "office365", .all = "office365", .body_any = UAL_BODY_KEYS},
    /* Elastic pipeline tests: {"event":{"original":"..."},"o365audit":{...}} */
    {.body = "o365audit", .all = "o365audit", .body_any = UAL_BODY_KEYS},
    /* AuditData itself (Management Activity API, AuditData-only JSONL) */
    {.all = "CreationTime",
     .any = "Operation|RecordType|Workload|Id|OrganizationId|UserId",
     .none = "TimeGenerated|OfficeWorkload|AuditData"},
};
const ah_format_spec ah_spec_ual_json = {.map = &ual_map, .shapes = ual_json, .nshapes = AH_ARRAY_LEN(ual_json)};
