/*
 * test_formats_audit.c: Entra ID directory audit shapes -> events: Graph
 * directoryAudits, Azure Monitor envelopes (AuditLogs and directory
 * categories), Log Analytics AuditLogs rows with JSON-string columns, and
 * the portal's flattened 86-column CSV rebuilt into the Graph shape.
 */
#include "support/records.h"

/* formats.md 5b, values filled in. */
static const char *const graph_5b =
    "{'id':'Directory_8e7a0000_XYZ12_123456789','category':'ApplicationManagement','correlationId':"
    "'8e7a0000-1111-2222-3333-444455556666','result':'success','resultReason':'','activityDisplayName':"
    "'Add service principal credentials','activityDateTime':'2021-01-13T16:07:40.2712131Z','loggedByService':'Core "
    "Directory',"
    "'operationType':'Update','initiatedBy':{'user':{'id':'7a8b0000','displayName':null,'userPrincipalName':'admin@"
    "contoso.com',"
    "'ipAddress':'203.0.113.50','userType':null,'homeTenantId':null,'homeTenantName':null},'app':null},"
    "'targetResources':[{'id':'0d3e6e97-0000','displayName':'MailSyncApp','type':'ServicePrincipal','userPrincipalName'"
    ":null,"
    "'groupType':null,'modifiedProperties':[{'displayName':'KeyDescription','oldValue':'[]','newValue':"
    "'[\\'[KeyIdentifier=0f0e, KeyType=AsymmetricX509Cert, KeyUsage=Verify, DisplayName=CN=svc]\\']'},"
    "{'displayName':'Included Updated Properties','oldValue':null,'newValue':'\\'KeyDescription\\''}]}],"
    "'additionalDetails':[{'key':'User-Agent','value':'Mozilla/5.0 (Windows NT 10.0)'},"
    "{'key':'AppId','value':'c0ffee00-1234-5678-9abc-def012345678'}]}";

static void audit_graph(void **state)
{
    (void)state;
    fx *f = fx_new();
    assert_int_equal(fx_json(f, graph_5b), AH_OK);
    fx_expect_format(&f->ev, "entra_audit_graph", AH_SOURCE_ENTRA_AUDIT);
    fx_expect_time(&f->ev, "2021-01-13T16:07:40.2712131Z");
    const char *want[AH_F_COUNT] = {
        [AH_F_RECORD_ID] = "Directory_8e7a0000_XYZ12_123456789",
        [AH_F_OPERATION] = "Add service principal credentials",
        [AH_F_WORKLOAD] = "Core Directory",
        [AH_F_RECORD_TYPE] = "ApplicationManagement",
        [AH_F_USER] = "admin@contoso.com",
        [AH_F_IP] = "203.0.113.50",
        [AH_F_USER_AGENT] = "Mozilla/5.0 (Windows NT 10.0)",
        [AH_F_APP_ID] = "c0ffee00-1234-5678-9abc-def012345678",
        [AH_F_TARGET] = "MailSyncApp",
        [AH_F_RESULT_CODE] = "success",
        [AH_F_CORRELATION_ID] = "8e7a0000-1111-2222-3333-444455556666",
    };
    fx_expect(&f->ev, want);
    assert_int_equal(f->ev.result, AH_RESULT_SUCCESS);
    /* the UAL spelling and the Entra spelling canonicalize alike */
    fx_assert_span("operation_canon", f->ev.operation_canon, "add service principal credentials");
    assert_ptr_equal(f->ev.body.p, f->ev.raw.p);
    fx_expect_json(&f->ev);
    fx_free(f);
}

/* corpus wazuh graph_directoryAudits record 2: createdDateTime instead of
 * activityDateTime, an application as the initiator. */
static void audit_graph_created_datetime_and_app(void **state)
{
    (void)state;
    fx *f = fx_new();
    assert_int_equal(
        fx_json(f,
                "{'id': 'XXXXXXXX','category': 'Authorization','correlationId': 'XXXXXXXXXX','result': 'failure',"
                "'resultReason': 'User was granted access','activityDisplayName': 'Get Guest Usages resource',"
                "'createdDateTime': '2022-06-21T08:50:10.6708119Z','loggedByService': 'B2C','operationType': '',"
                "'initiatedBy': {'user': null,'app': {'appId': 'a9a9','displayName': 'Guest Usages Service',"
                "'servicePrincipalId': null,'servicePrincipalName': 'guest-usages'}},'targetResources': [{'id': null,"
                "'displayName': null,'type': 'Directory','userPrincipalName': 'target@contoso.com','groupType': null,"
                "'modifiedProperties': []}],'additionalDetails': []}"),
        AH_OK);
    fx_expect_format(&f->ev, "entra_audit_graph", AH_SOURCE_ENTRA_AUDIT);
    fx_expect_time(&f->ev, "2022-06-21T08:50:10.6708119Z");
    const char *want[AH_F_COUNT] = {
        [AH_F_RECORD_ID] = "XXXXXXXX",
        [AH_F_OPERATION] = "Get Guest Usages resource",
        [AH_F_WORKLOAD] = "B2C",
        [AH_F_RECORD_TYPE] = "Authorization",
        [AH_F_USER] = "Guest Usages Service",
        [AH_F_APP_ID] = "a9a9",
        [AH_F_APP] = "Guest Usages Service",
        [AH_F_TARGET] = "target@contoso.com",
        [AH_F_RESULT_CODE] = "failure",
        [AH_F_CORRELATION_ID] = "XXXXXXXXXX",
    };
    fx_expect(&f->ev, want);
    assert_int_equal(f->ev.result, AH_RESULT_FAILURE);
    assert_int_equal(
        fx_json(f, "{'id':'t','activityDisplayName':'x','activityDateTime':'2022-06-21T08:50:10Z','result':'timeout'}"),
        AH_OK);
    assert_int_equal(f->ev.result, AH_RESULT_UNKNOWN);
    fx_free(f);
}

/* Azure Monitor AuditLogs envelope (corpus elastic shapes). */
static void audit_azure_monitor(void **state)
{
    (void)state;
    fx *f = fx_new();
    const char *props =
        "{'activityDateTime':'2022-01-22T18:15:02.3875429+00:00','activityDisplayName':'Add service principal "
        "credentials',"
        "'additionalDetails':[{'key':'User-Agent','value':'Microsoft Azure Graph Client Library 2.1.17-internal'},"
        "{'key':'AppId','value':'a70a7931'}],'category':'ApplicationManagement','correlationId':'87979703-118b',"
        "'id':'Directory_87979703-118b_ULAYA_144938566','initiatedBy':{'app':{'appId':null,'displayName':'Managed "
        "Service Identity',"
        "'servicePrincipalId':'d5a4b6e0','servicePrincipalName':null}},'loggedByService':'Core "
        "Directory','operationType':'Update',"
        "'result':'success','resultReason':'','targetResources':[{'displayName':'billing-test-wus','id':'f8a71b53',"
        "'modifiedProperties':[{'displayName':'KeyDescription','newValue':'[]','oldValue':'[]'}],'type':'"
        "ServicePrincipal'}]}";
    char rec[2048];
    snprintf(
        rec, sizeof rec,
        "{'Level':4,'callerIpAddress':'[2a02:cf40:add:4002:91f2:a9b2:e09a:6fc6]','category':'AuditLogs','correlationId'"
        ":"
        "'87979703-118b','durationMs':0,'operationName':'Add service principal credentials','operationVersion':'1.0',"
        "'properties':%s,'resourceId':'/tenants/c7f1e3ce-ba66-40a7-91bd-9594b36223fc/providers/Microsoft.aadiam',"
        "'resultSignature':'None','time':'2022-01-22T18:15:02.3875429Z'}",
        props);
    assert_int_equal(fx_json(f, rec), AH_OK);
    fx_expect_format(&f->ev, "entra_audit_azure_monitor", AH_SOURCE_ENTRA_AUDIT);
    fx_expect_time(&f->ev, "2022-01-22T18:15:02.3875429Z");
    const char *want[AH_F_COUNT] = {
        [AH_F_RECORD_ID] = "Directory_87979703-118b_ULAYA_144938566",
        [AH_F_OPERATION] = "Add service principal credentials",
        [AH_F_WORKLOAD] = "Core Directory",
        [AH_F_RECORD_TYPE] = "ApplicationManagement",
        [AH_F_USER] = "Managed Service Identity",
        [AH_F_IP] = "2a02:cf40:add:4002:91f2:a9b2:e09a:6fc6",
        [AH_F_USER_AGENT] = "Microsoft Azure Graph Client Library 2.1.17-internal",
        [AH_F_APP_ID] = "a70a7931",
        [AH_F_APP] = "Managed Service Identity",
        [AH_F_TARGET] = "billing-test-wus",
        [AH_F_RESULT_CODE] = "success",
        [AH_F_CORRELATION_ID] = "87979703-118b",
        [AH_F_TENANT_ID] = "c7f1e3ce-ba66-40a7-91bd-9594b36223fc",
    };
    fx_expect(&f->ev, want);
    fx_expect_body(f, props);
    fx_assert_span("raw", f->ev.raw, f->owned[0]);
    fx_expect_json(&f->ev);

    /* a directory category in the envelope (corpus panther other_*): decided by the body */
    assert_int_equal(fx_json(f,
                             "{'time':'2024-05-01 10:00:00','category':'DirectoryManagement','tenantId':'t-7',"
                             "'properties':{'activityDisplayName':'Set federation settings on domain','id':'d-1',"
                             "'initiatedBy':{'user':{'userPrincipalName':'admin@contoso.com','ipAddress':'1.2.3.4'}},"
                             "'result':'success'}}"),
                     AH_OK);
    fx_expect_format(&f->ev, "entra_audit_azure_monitor", AH_SOURCE_ENTRA_AUDIT);
    fx_expect_time(&f->ev, "2024-05-01T10:00:00.0000000Z");
    const char *want2[AH_F_COUNT] = {
        [AH_F_RECORD_ID] = "d-1",
        [AH_F_OPERATION] = "Set federation settings on domain",
        [AH_F_RECORD_TYPE] = "DirectoryManagement",
        [AH_F_USER] = "admin@contoso.com",
        [AH_F_IP] = "1.2.3.4",
        [AH_F_RESULT_CODE] = "success",
        [AH_F_TENANT_ID] = "t-7",
    };
    fx_expect(&f->ev, want2);
    fx_free(f);
}

/* Sentinel AuditLogs row (corpus otrf AADAuditEvents.json shape). */
static void audit_log_analytics(void **state)
{
    (void)state;
    fx *f = fx_new();
    const char *rec =
        "{'TenantId':'00000000-0000-0000-0000-000000000000','SourceSystem':'Azure "
        "AD','TimeGenerated':'2021-08-02T13:29:25.983Z',"
        "'ResourceId':'/tenants/00000000-0000-0000-0000-000000000000/providers/Microsoft.aadiam','OperationName':"
        "'Update application \\u2013 Certificates and secrets management ','Category':'ApplicationManagement',"
        "'CorrelationId':'10065ffb-8199-48bc-8ff5-912cb5b8295a','Level':'4','AdditionalDetails':'[{\\'key\\':\\'User-"
        "Agent\\',"
        "\\'value\\':\\'WindowsPowerShell/5.1.17763.1971\\'}]','Id':'Directory_10065ffb_AUMVX_13992832','InitiatedBy':"
        "'{\\'user\\':{\\'id\\':\\'aead923d\\',\\'displayName\\':null,\\'userPrincipalName\\':\\'pgustavo@simulandlabs."
        "com\\',"
        "\\'ipAddress\\':null,\\'roles\\':[]}}','LoggedByService':'Core "
        "Directory','Result':'success','TargetResources':"
        "'[{\\'id\\':\\'11b49e19\\',\\'displayName\\':\\'SimuLandApp\\',\\'type\\':\\'Application\\',\\'"
        "modifiedProperties\\':[]}]',"
        "'AADTenantId':'00000000-0000-0000-0000-000000000000','ActivityDisplayName':"
        "'Update application \\u2013 Certificates and secrets management "
        "','ActivityDateTime':'2021-08-02T13:29:25.983Z',"
        "'AADOperationType':'Update','Type':'AuditLogs'}";
    assert_int_equal(fx_json(f, rec), AH_OK);
    fx_expect_format(&f->ev, "entra_audit_log_analytics", AH_SOURCE_ENTRA_AUDIT);
    fx_expect_time(&f->ev, "2021-08-02T13:29:25.9830000Z");
    const char *want[AH_F_COUNT] = {
        [AH_F_RECORD_ID] = "Directory_10065ffb_AUMVX_13992832",
        [AH_F_OPERATION] = "Update application \xE2\x80\x93 Certificates and secrets management ",
        [AH_F_WORKLOAD] = "Core Directory",
        [AH_F_RECORD_TYPE] = "ApplicationManagement",
        [AH_F_USER] = "pgustavo@simulandlabs.com",
        [AH_F_USER_AGENT] = "WindowsPowerShell/5.1.17763.1971",
        [AH_F_TARGET] = "SimuLandApp",
        [AH_F_RESULT_CODE] = "success",
        [AH_F_CORRELATION_ID] = "10065ffb-8199-48bc-8ff5-912cb5b8295a",
        [AH_F_TENANT_ID] = "00000000-0000-0000-0000-000000000000",
    };
    fx_expect(&f->ev, want);
    fx_assert_span("operation_canon", f->ev.operation_canon,
                   "update application - certificates and secrets management");
    /* the same row twice (the corpus projection duplicates): one identity */
    uint64_t d[2] = {f->ev.digest[0], f->ev.digest[1]};
    assert_int_equal(fx_json(f, rec), AH_OK);
    assert_true(fx_digest_eq(d, f->ev.digest));
    fx_free(f);
}

/* --- portal CSV -------------------------------------------------------------------------- */

typedef struct audit_csv {
    const char *names[86];
    char store[86][64];
} audit_csv;

/* The 86-column header: 17 actor/meta columns, 3 targets x (4 + 5 x 3), 6 details. */
static void build_audit_header(audit_csv *h)
{
    static const char *const meta[] = {"Date (UTC)",
                                       "CorrelationId",
                                       "Service",
                                       "Category",
                                       "Activity",
                                       "Result",
                                       "ResultReason",
                                       "User Agent",
                                       "ActorType",
                                       "ActorDisplayName",
                                       "ActorObjectId",
                                       "ActorUserPrincipalName",
                                       "IPAddress",
                                       "ActorHomeTenantId",
                                       "ActorHomeTenantName",
                                       "ActorServicePrincipalId",
                                       "ActorServicePrincipalName"};
    size_t k = 0;
    for (size_t i = 0; i < AH_ARRAY_LEN(meta); i++)
        snprintf(h->store[k++], sizeof h->store[0], "%s", meta[i]);
    for (int t = 1; t <= 3; t++) {
        snprintf(h->store[k++], sizeof h->store[0], "Target%dType", t);
        snprintf(h->store[k++], sizeof h->store[0], "Target%dDisplayName", t);
        snprintf(h->store[k++], sizeof h->store[0], "Target%dObjectId", t);
        snprintf(h->store[k++], sizeof h->store[0], "Target%dUserPrincipalName", t);
        for (int p = 1; p <= 5; p++) {
            snprintf(h->store[k++], sizeof h->store[0], "Target%dModifiedProperty%dName", t, p);
            snprintf(h->store[k++], sizeof h->store[0], "Target%dModifiedProperty%dOldValue", t, p);
            snprintf(h->store[k++], sizeof h->store[0], "Target%dModifiedProperty%dNewValue", t, p);
        }
    }
    for (int d = 1; d <= 6; d++) {
        snprintf(h->store[k++], sizeof h->store[0], "AdditionalDetail%dKey", d);
        snprintf(h->store[k++], sizeof h->store[0], "AdditionalDetail%dValue", d);
    }
    assert_int_equal(k, 86);
    for (size_t i = 0; i < 86; i++)
        h->names[i] = h->store[i];
}

static size_t col(const audit_csv *h, const char *name)
{
    for (size_t i = 0; i < 86; i++)
        if (strcmp(h->names[i], name) == 0)
            return i;
    fail_msg("no column %s", name);
    return 0;
}

static void audit_portal_csv(void **state)
{
    (void)state;
    audit_csv h;
    build_audit_header(&h);
    fx *f = fx_new_opts(AH_DATE_ORDER_AUTO, 0, "AuditLogs_2021-01-13.csv");
    const ah_format *fmt = fx_bind(f, h.names, 86);
    assert_non_null(fmt);
    assert_string_equal(fmt->name, "entra_audit_portal_csv");

    const char *row[86];
    for (size_t i = 0; i < 86; i++)
        row[i] = "";
    row[col(&h, "Date (UTC)")] = "2021-01-13T16:07:40.2712131Z";
    row[col(&h, "CorrelationId")] = "8e7a0000-1111";
    row[col(&h, "Service")] = "Core Directory";
    row[col(&h, "Category")] = "ApplicationManagement";
    row[col(&h, "Activity")] = "Add service principal credentials";
    row[col(&h, "Result")] = "success";
    row[col(&h, "User Agent")] = "Mozilla/5.0 (portal)";
    row[col(&h, "ActorType")] = "User";
    row[col(&h, "ActorDisplayName")] = "Admin One";
    row[col(&h, "ActorObjectId")] = "7a8b0000";
    row[col(&h, "ActorUserPrincipalName")] = "admin@contoso.com";
    row[col(&h, "IPAddress")] = "203.0.113.50";
    row[col(&h, "Target1Type")] = "ServicePrincipal";
    row[col(&h, "Target1DisplayName")] = "MailSyncApp";
    row[col(&h, "Target1ObjectId")] = "0d3e6e97-0000";
    row[col(&h, "Target1ModifiedProperty1Name")] = "KeyDescription";
    row[col(&h, "Target1ModifiedProperty1OldValue")] = "[]";
    row[col(&h, "Target1ModifiedProperty1NewValue")] = "['[KeyIdentifier=0f0e, KeyType=AsymmetricX509Cert]']";
    row[col(&h, "Target1ModifiedProperty2Name")] = "Included Updated Properties";
    row[col(&h, "Target1ModifiedProperty2NewValue")] = "KeyDescription";
    row[col(&h, "Target2Type")] = "Other";
    row[col(&h, "Target2DisplayName")] = "second";
    row[col(&h, "AdditionalDetail2Key")] = "AppId";
    row[col(&h, "AdditionalDetail2Value")] = "c0ffee00";
    assert_int_equal(fx_row(f, row, 86), AH_OK);
    fx_expect_format(&f->ev, "entra_audit_portal_csv", AH_SOURCE_ENTRA_AUDIT);
    fx_expect_time(&f->ev, "2021-01-13T16:07:40.2712131Z");
    const char *want[AH_F_COUNT] = {
        [AH_F_OPERATION] = "Add service principal credentials",
        [AH_F_WORKLOAD] = "Core Directory",
        [AH_F_RECORD_TYPE] = "ApplicationManagement",
        [AH_F_USER] = "admin@contoso.com",
        [AH_F_IP] = "203.0.113.50",
        [AH_F_USER_AGENT] = "Mozilla/5.0 (portal)",
        [AH_F_APP_ID] = "c0ffee00",
        [AH_F_TARGET] = "MailSyncApp",
        [AH_F_RESULT_CODE] = "success",
        [AH_F_CORRELATION_ID] = "8e7a0000-1111",
    };
    fx_expect(&f->ev, want);
    assert_int_equal(f->ev.result, AH_RESULT_SUCCESS);
    fx_expect_body(
        f, "{'activityDateTime':'2021-01-13T16:07:40.2712131Z','correlationId':'8e7a0000-1111',"
           "'loggedByService':'Core Directory','category':'ApplicationManagement','activityDisplayName':"
           "'Add service principal credentials','result':'success','initiatedBy':{'user':{'id':'7a8b0000',"
           "'displayName':'Admin One','userPrincipalName':'admin@contoso.com','ipAddress':'203.0.113.50'}},"
           "'targetResources':[{'type':'ServicePrincipal','displayName':'MailSyncApp','id':'0d3e6e97-0000',"
           "'modifiedProperties':[{'displayName':'KeyDescription','oldValue':'[]','newValue':"
           "'[\\'[KeyIdentifier=0f0e, KeyType=AsymmetricX509Cert]\\']'},{'displayName':'Included Updated Properties',"
           "'newValue':'KeyDescription'}]},{'type':'Other','displayName':'second'}],'additionalDetails':"
           "[{'key':'User-Agent','value':'Mozilla/5.0 (portal)'},{'key':'AppId','value':'c0ffee00'}]}");
    fx_expect_json(&f->ev);
    uint64_t d1[2] = {f->ev.digest[0], f->ev.digest[1]};

    /* identity is (Date, CorrelationId, Activity, Target1ObjectId): other columns do not matter */
    row[col(&h, "ResultReason")] = "re-exported";
    row[col(&h, "Target2DisplayName")] = "changed";
    assert_int_equal(fx_row(f, row, 86), AH_OK);
    assert_true(fx_digest_eq(d1, f->ev.digest));
    row[col(&h, "Target1ObjectId")] = "another-object";
    assert_int_equal(fx_row(f, row, 86), AH_OK);
    assert_false(fx_digest_eq(d1, f->ev.digest));

    /* an application actor */
    const char *app_row[86];
    for (size_t i = 0; i < 86; i++)
        app_row[i] = "";
    app_row[col(&h, "Date (UTC)")] = "2021-01-13T16:08:00Z";
    app_row[col(&h, "Activity")] = "Update service principal";
    app_row[col(&h, "Result")] = "failure";
    app_row[col(&h, "ActorType")] = "Application";
    app_row[col(&h, "ActorDisplayName")] = "Managed Service Identity";
    app_row[col(&h, "ActorObjectId")] = "sp-0001";
    app_row[col(&h, "IPAddress")] = "198.51.100.77";
    assert_int_equal(fx_row(f, app_row, 86), AH_OK);
    const char *want2[AH_F_COUNT] = {
        [AH_F_OPERATION] = "Update service principal",
        [AH_F_USER] = "Managed Service Identity",
        [AH_F_IP] = "198.51.100.77",
        [AH_F_APP] = "Managed Service Identity",
        [AH_F_RESULT_CODE] = "failure",
    };
    fx_expect(&f->ev, want2);
    assert_int_equal(f->ev.result, AH_RESULT_FAILURE);
    fx_expect_body(f, "{'activityDateTime':'2021-01-13T16:08:00Z','activityDisplayName':'Update service principal',"
                      "'result':'failure','initiatedBy':{'app':{'servicePrincipalId':'sp-0001','displayName':"
                      "'Managed Service Identity'}}}");
    assert_int_equal(ah_normalizer_stats(f->n)->unknown_zone, 0);
    fx_free(f);

    /* "Date" without (UTC): the zone is unknown and counted */
    f = fx_new();
    h.names[0] = "Date";
    assert_non_null(fx_bind(f, h.names, 86));
    assert_int_equal(fx_row(f, app_row, 86), AH_OK);
    fx_expect_time(&f->ev, "2021-01-13T16:08:00.0000000Z");
    assert_int_equal(ah_normalizer_stats(f->n)->unknown_zone, 1);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(audit_graph),         cmocka_unit_test(audit_graph_created_datetime_and_app),
        cmocka_unit_test(audit_azure_monitor), cmocka_unit_test(audit_log_analytics),
        cmocka_unit_test(audit_portal_csv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
