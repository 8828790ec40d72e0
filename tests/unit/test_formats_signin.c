/*
 * test_formats_signin.c: Entra ID sign-in shapes -> events: Graph signIns,
 * Azure Monitor envelopes (any key casing, category-only stubs), Log
 * Analytics rows (dynamic columns as objects or JSON strings) and the
 * portal CSV (header quirks, Graph-style body, file-name type hints).
 */
#include "support/records.h"

/* formats.md 4c (MS doc example response element, trimmed). */
static const char *const graph_4c =
    "{'id':'66ea54eb-6301-4ee5-be62-ff5a759b0100','createdDateTime':'2020-03-13T19:15:41.6195833Z',"
    "'userDisplayName':'Test "
    "Contoso','userPrincipalName':'testaccount1@contoso.com','userId':'26be570a-ae82-4189-b4e2-a37c6808512d',"
    "'appId':'de8bc8b5-d9f9-48b1-a8ad-b748da725064','appDisplayName':'Graph explorer','ipAddress':'131.107.159.37',"
    "'clientAppUsed':'Browser','correlationId':'d79f5bee-5860-4832-928f-3133e22ae912','conditionalAccessStatus':'"
    "notApplied',"
    "'isInteractive':true,'riskDetail':'none','riskEventTypes':[],'resourceDisplayName':'Microsoft Graph',"
    "'resourceId':'00000003-0000-0000-c000-000000000000','status':{'errorCode':0,'failureReason':null,'"
    "additionalDetails':null},"
    "'deviceDetail':{'deviceId':'','displayName':null,'operatingSystem':'Windows 10','browser':'Edge 80.0.361'},"
    "'location':{'city':'Redmond','state':'Washington','countryOrRegion':'US','geoCoordinates':{'altitude':null,"
    "'latitude':47.68050003051758,'longitude':-122.12094116210938}},'appliedConditionalAccessPolicies':[]}";

static void signin_graph_interactive(void **state)
{
    (void)state;
    fx *f = fx_new();
    assert_int_equal(fx_json(f, graph_4c), AH_OK);
    fx_expect_format(&f->ev, "signin_graph", AH_SOURCE_SIGNIN);
    fx_expect_time(&f->ev, "2020-03-13T19:15:41.6195833Z");
    const char *want[AH_F_COUNT] = {
        [AH_F_RECORD_ID] = "66ea54eb-6301-4ee5-be62-ff5a759b0100",
        [AH_F_OPERATION] = "Sign-in",
        [AH_F_WORKLOAD] = "AzureActiveDirectory",
        [AH_F_RECORD_TYPE] = "interactiveUser",
        [AH_F_USER] = "testaccount1@contoso.com",
        [AH_F_IP] = "131.107.159.37",
        [AH_F_APP_ID] = "de8bc8b5-d9f9-48b1-a8ad-b748da725064",
        [AH_F_APP] = "Graph explorer",
        [AH_F_TARGET] = "Microsoft Graph",
        [AH_F_RESULT_CODE] = "0",
        [AH_F_CORRELATION_ID] = "d79f5bee-5860-4832-928f-3133e22ae912",
    };
    fx_expect(&f->ev, want);
    assert_int_equal(f->ev.result, AH_RESULT_SUCCESS);
    fx_assert_span("operation_canon", f->ev.operation_canon, "sign-in");
    assert_ptr_equal(f->ev.body.p, f->ev.raw.p);
    fx_expect_json(&f->ev);
    fx_free(f);
}

/* formats.md 4c-beta: a non-interactive token refresh as Goose writes it. */
static void signin_graph_non_interactive(void **state)
{
    (void)state;
    fx *f = fx_new();
    assert_int_equal(
        fx_json(
            f,
            "{'id':'0c7b0000-1111-2222-3333-444455556666','createdDateTime':'2021-01-13T17:02:09Z',"
            "'userPrincipalName':'jdoe@contoso.com','userId':'26be0000','appId':'d3590ed6-52b3-4102-aeff-aad2292ab01c',"
            "'appDisplayName':'Microsoft Office','ipAddress':'192.0.2.77','clientAppUsed':'Mobile Apps and Desktop "
            "clients',"
            "'isInteractive':false,'signInEventTypes':['nonInteractiveUser'],'resourceDisplayName':'Office 365 "
            "Exchange Online',"
            "'resourceId':'00000002-0000-0ff1-ce00-000000000000','resourceTenantId':'11111111-2222-3333-4444-"
            "555555555555',"
            "'homeTenantId':'99999999-2222-3333-4444-555555555555','status':{'errorCode':0,'failureReason':'Other.',"
            "'additionalDetails':null},'incomingTokenType':'refreshToken','tokenIssuerType':'AzureAD',"
            "'userAgent':'python-requests/2.25.1','autonomousSystemNumber':14061,'sessionId':'00a1b2c3',"
            "'correlationId':'c0rr-0001'}"),
        AH_OK);
    fx_expect_format(&f->ev, "signin_graph", AH_SOURCE_SIGNIN);
    fx_expect_time(&f->ev, "2021-01-13T17:02:09.0000000Z");
    const char *want[AH_F_COUNT] = {
        [AH_F_RECORD_ID] = "0c7b0000-1111-2222-3333-444455556666",
        [AH_F_OPERATION] = "Non-interactive sign-in",
        [AH_F_WORKLOAD] = "AzureActiveDirectory",
        [AH_F_RECORD_TYPE] = "nonInteractiveUser",
        [AH_F_USER] = "jdoe@contoso.com",
        [AH_F_IP] = "192.0.2.77",
        [AH_F_USER_AGENT] = "python-requests/2.25.1",
        [AH_F_APP_ID] = "d3590ed6-52b3-4102-aeff-aad2292ab01c",
        [AH_F_APP] = "Microsoft Office",
        [AH_F_TARGET] = "Office 365 Exchange Online",
        [AH_F_RESULT_CODE] = "0",
        [AH_F_SESSION_ID] = "00a1b2c3",
        [AH_F_CORRELATION_ID] = "c0rr-0001",
        [AH_F_TENANT_ID] = "11111111-2222-3333-4444-555555555555",
    };
    fx_expect(&f->ev, want);
    assert_int_equal(f->ev.result, AH_RESULT_SUCCESS);
    fx_free(f);
}

static void signin_result_codes(void **state)
{
    (void)state;
    static const struct {
        const char *status;
        ah_result result;
        const char *code;
    } cases[] = {
        {"'status':{'errorCode':0}", AH_RESULT_SUCCESS, "0"},
        {"'status':{'errorCode':50053,'failureReason':'Account is locked'}", AH_RESULT_FAILURE, "50053"},
        {"'status':{'errorCode':'50126'}", AH_RESULT_FAILURE, "50126"},
        {"'status':{'errorCode':null}", AH_RESULT_UNKNOWN, NULL},
        {"'status':{}", AH_RESULT_UNKNOWN, NULL},
        {"'ResultType':'0'", AH_RESULT_SUCCESS, "0"},
        {"'ResultType':'Success'", AH_RESULT_SUCCESS, "Success"},
        {"'ResultType':'Failure'", AH_RESULT_FAILURE, "Failure"},
        {"'ResultType':'Interrupted'", AH_RESULT_UNKNOWN, "Interrupted"},
    };
    for (size_t i = 0; i < AH_ARRAY_LEN(cases); i++) {
        char rec[512];
        snprintf(rec, sizeof rec,
                 "{'id':'s-%zu','createdDateTime':'2024-01-01T00:00:00Z','userPrincipalName':'u@contoso.com','"
                 "isInteractive':true,%s}",
                 i, cases[i].status);
        fx_expect_result(rec, cases[i].result, cases[i].code);
    }
}

/* Azure Monitor diagnostic record (entra-docs schema; corpus elastic shape). */
static void signin_azure_monitor_envelope(void **state)
{
    (void)state;
    fx *f = fx_new();
    const char *props =
        "{'id':'8a4de8b5-095c-47d0-a96f-a75130c61d53','createdDateTime':'2019-10-18T09:45:48.0729893+00:00',"
        "'userDisplayName':'Test LAB','userPrincipalName':'test@elastic.co','userId':'8a4de8b5-0000',"
        "'appId':'8a4de8b5-1111','appDisplayName':'Office 365','ipAddress':'81.2.69.144',"
        "'status':{'errorCode':50140,'failureReason':'This error occurred due to Keep me signed in interrupt'},"
        "'clientAppUsed':'Browser','userAgent':'Mozilla/5.0 (Macintosh)','correlationId':'8a4de8b5-2222',"
        "'conditionalAccessStatus':'notApplied','isInteractive':true,'resourceDisplayName':'Office 365 SharePoint "
        "Online',"
        "'resourceId':'00000003-0000-0ff1-ce00-000000000000','sessionId':'sess-1'}";
    char rec[2048];
    snprintf(
        rec, sizeof rec,
        "{ 'time': '2019-10-18T09:45:48.0729893Z', 'resourceId': '/tenants/8a4de8b5-3333/providers/Microsoft.aadiam', "
        "'operationName': 'Sign-in activity', 'operationVersion': '1.0', 'category': 'SignInLogs', 'tenantId': "
        "'8a4de8b5-4444', 'resultType': '50140', 'resultSignature': 'None', 'durationMs': 0, 'callerIpAddress': "
        "'81.2.69.145', 'correlationId': 'envelope-corr', 'identity': 'Test LAB', 'Level': 4, 'location': 'FR', "
        "'properties': %s}",
        props);
    assert_int_equal(fx_json(f, rec), AH_OK);
    fx_expect_format(&f->ev, "signin_azure_monitor", AH_SOURCE_SIGNIN);
    fx_expect_time(&f->ev, "2019-10-18T09:45:48.0729893Z");
    const char *want[AH_F_COUNT] = {
        [AH_F_RECORD_ID] = "8a4de8b5-095c-47d0-a96f-a75130c61d53",
        [AH_F_OPERATION] = "Sign-in",
        [AH_F_WORKLOAD] = "AzureActiveDirectory",
        [AH_F_RECORD_TYPE] = "interactiveUser",
        [AH_F_USER] = "test@elastic.co",
        [AH_F_IP] = "81.2.69.144",
        [AH_F_USER_AGENT] = "Mozilla/5.0 (Macintosh)",
        [AH_F_APP_ID] = "8a4de8b5-1111",
        [AH_F_APP] = "Office 365",
        [AH_F_TARGET] = "Office 365 SharePoint Online",
        [AH_F_RESULT_CODE] = "50140",
        [AH_F_SESSION_ID] = "sess-1",
        [AH_F_CORRELATION_ID] = "8a4de8b5-2222",
        [AH_F_TENANT_ID] = "8a4de8b5-4444",
    };
    fx_expect(&f->ev, want);
    assert_int_equal(f->ev.result, AH_RESULT_FAILURE);
    fx_expect_body(f, props);
    fx_assert_span("raw", f->ev.raw, f->owned[0]);
    fx_expect_json(&f->ev);
    fx_free(f);
}

/* Lower-cased envelope keys (corpus panther ServicePrincipalSignInLogs) and
 * a managed identity with no address at all. */
static void signin_azure_monitor_lowercase_and_msi(void **state)
{
    (void)state;
    fx *f = fx_new();
    assert_int_equal(
        fx_json(
            f,
            "{'calleripaddress': '12.12.12.12', 'category': 'ServicePrincipalSignInLogs', 'correlationid': "
            "'e1f237ef-6548-4172-be79-03818c04c06e', 'durationms': 0, 'Level': '4', 'location': 'IE', 'operationname': "
            "'Sign-in activity', 'operationversion': 1, 'properties': {'appId': "
            "'cfceb902-8fab-4f8c-88ba-374d3c975c3a', "
            "'createdDateTime': '2023-07-26 22:58:30.983201900', 'id': '36658c78-02d9-4d8f-84ee-5ca4a3fdefef', "
            "'ipAddress': '', 'isInteractive': false, 'resourceDisplayName': 'Azure Storage', 'servicePrincipalId': "
            "'b1c34143-e405-4058-8e29-84596ad737b8', 'servicePrincipalName': 'some-service-principal', 'status': "
            "{'errorCode': 7000215}}, 'resourceid': "
            "'/tenants/c0dd2fa0-71be-4df8-b2a6-24cee7de069a/providers/Microsoft.aadiam', "
            "'resultsignature': 'None', 'resulttype': 7000215, 'tenantid': 'a2aa49aa-2c0c-49d2-af87-f402c421df0b', "
            "'time': '2023-07-26 23:00:20.889'}"),
        AH_OK);
    fx_expect_format(&f->ev, "signin_azure_monitor", AH_SOURCE_SIGNIN);
    fx_expect_time(&f->ev, "2023-07-26T22:58:30.9832019Z");
    const char *want[AH_F_COUNT] = {
        [AH_F_RECORD_ID] = "36658c78-02d9-4d8f-84ee-5ca4a3fdefef",
        [AH_F_OPERATION] = "Service principal sign-in",
        [AH_F_WORKLOAD] = "AzureActiveDirectory",
        [AH_F_RECORD_TYPE] = "servicePrincipal",
        [AH_F_IP] = "12.12.12.12",
        [AH_F_APP_ID] = "cfceb902-8fab-4f8c-88ba-374d3c975c3a",
        [AH_F_APP] = "some-service-principal",
        [AH_F_TARGET] = "Azure Storage",
        [AH_F_RESULT_CODE] = "7000215",
        [AH_F_CORRELATION_ID] = "e1f237ef-6548-4172-be79-03818c04c06e",
        [AH_F_TENANT_ID] = "a2aa49aa-2c0c-49d2-af87-f402c421df0b",
    };
    fx_expect(&f->ev, want);
    assert_int_equal(f->ev.result, AH_RESULT_FAILURE);

    assert_int_equal(
        fx_json(
            f,
            "{'Level':4,'category':'ManagedIdentitySignInLogs','correlationId':'ad8c','durationMs':0,'identity':'x',"
            "'operationName':'Sign-in "
            "activity','operationVersion':'1.0','properties':{'appDisplayName':'testplatformlogslube',"
            "'appId':'b3b975ac','createdDateTime':'2022-01-24T04:59:49.2279838+00:00','id':'a08869a8','ipAddress':'',"
            "'isInteractive':false,'resourceDisplayName':'Windows Azure Service Management "
            "API','status':{'errorCode':0},"
            "'userId':null},'resourceId':'/tenants/4bbb79f7-5724-4c9e-95f3-de075f6ec090/providers/Microsoft.aadiam',"
            "'resultSignature':'None','resultType':'0','time':'2022-01-24T05:00:00.0000000Z'}"),
        AH_OK);
    const char *want2[AH_F_COUNT] = {
        [AH_F_RECORD_ID] = "a08869a8",
        [AH_F_OPERATION] = "Managed identity sign-in",
        [AH_F_WORKLOAD] = "AzureActiveDirectory",
        [AH_F_RECORD_TYPE] = "managedIdentity",
        [AH_F_APP_ID] = "b3b975ac",
        [AH_F_APP] = "testplatformlogslube",
        [AH_F_TARGET] = "Windows Azure Service Management API",
        [AH_F_RESULT_CODE] = "0",
        [AH_F_CORRELATION_ID] = "ad8c",
        [AH_F_TENANT_ID] = "4bbb79f7-5724-4c9e-95f3-de075f6ec090", /* from resourceId */
    };
    fx_expect(&f->ev, want2);
    fx_expect_time(&f->ev, "2022-01-24T04:59:49.2279838Z");
    fx_free(f);
}

/* The corpus time-format stubs carry only time and category. */
static void signin_azure_monitor_stubs(void **state)
{
    (void)state;
    fx *f = fx_new();
    assert_int_equal(fx_json(f, "{'time': '01/09/2007 09:41:00', 'category': 'SignInLogs'}"), AH_OK);
    fx_expect_format(&f->ev, "signin_azure_monitor", AH_SOURCE_SIGNIN);
    fx_expect_time(&f->ev, "2007-01-09T09:41:00.0000000Z");
    const char *want[AH_F_COUNT] = {
        [AH_F_OPERATION] = "Sign-in",
        [AH_F_WORKLOAD] = "AzureActiveDirectory",
        [AH_F_RECORD_TYPE] = "interactiveUser",
    };
    fx_expect(&f->ev, want);
    assert_ptr_equal(f->ev.body.p, f->ev.raw.p); /* no properties: the body is the record */
    fx_expect_json(&f->ev);
    assert_int_equal(ah_normalizer_stats(f->n)->ambiguous_dates, 1);
    assert_int_equal(fx_json(f, "{'time': '1/9/2007 10:41:00 AM +01:00', 'category': 'NonInteractiveUserSignInLogs'}"),
                     AH_OK);
    fx_expect_time(&f->ev, "2007-01-09T09:41:00.0000000Z");
    assert_true(fx_span_is(f->ev.field[AH_F_RECORD_TYPE], "nonInteractiveUser"));
    assert_int_equal(fx_json(f, "{'time': '2007-01-09T09:41:00.22Z', 'category': 'AuditLogs'}"), AH_OK);
    fx_expect_format(&f->ev, "entra_audit_azure_monitor", AH_SOURCE_ENTRA_AUDIT);
    fx_expect_time(&f->ev, "2007-01-09T09:41:00.2200000Z");
    /* a category that is neither, with nothing in properties to tell */
    assert_int_equal(
        fx_json(f,
                "{'time': '2007-01-09T09:41:00Z', 'category': 'Administrative', 'properties': {'eventCategory': 'x'}}"),
        AH_ERR_RECORD);
    assert_string_equal(f->why, "unrecognised record shape (keys: time, category, properties)");
    assert_int_equal(fx_json(f,
                             "{'time': '2007-01-09T09:41:00Z', 'category': 'MicrosoftGraphActivityLogs', 'properties': "
                             "{'appId': 'a', 'userAgent': 'b', 'requestUri': 'https://graph.microsoft.com/v1.0/me'}}"),
                     AH_ERR_RECORD);
    /* an unknown category whose properties are a sign-in */
    assert_int_equal(fx_json(f, "{'time': '2007-01-09T09:41:00Z', 'category': 'FutureSignInLogs', 'properties': "
                                "{'id': 'z', 'status': {'errorCode': 0}, 'signInEventTypes': ['servicePrincipal']}}"),
                     AH_OK);
    fx_expect_format(&f->ev, "signin_azure_monitor", AH_SOURCE_SIGNIN);
    assert_true(fx_span_is(f->ev.field[AH_F_RECORD_TYPE], "servicePrincipal"));
    assert_true(fx_span_is(f->ev.field[AH_F_OPERATION], "Service principal sign-in"));
    fx_free(f);
}

/* Log Analytics SigninLogs (dynamic columns as objects) and
 * AADNonInteractiveUserSignInLogs (the same as JSON strings). */
static void signin_log_analytics_rows(void **state)
{
    (void)state;
    fx *f = fx_new();
    assert_int_equal(
        fx_json(
            f,
            "{'TenantId':'11111111-2222-3333-4444-555555555555','SourceSystem':'Azure "
            "AD','TimeGenerated':'2024-01-01T00:00:05.123Z',"
            "'ResourceId':'/tenants/11111111-2222-3333-4444-555555555555/providers/"
            "Microsoft.aadiam','OperationName':'Sign-in activity',"
            "'Category':'SignInLogs','ResultType':'50126','ResultDescription':'Invalid username or password',"
            "'AppDisplayName':'Azure Portal','AppId':'c44b4083-3bb0-49c1-b47d-974e53cbdf3c','ClientAppUsed':'Browser',"
            "'CorrelationId':'la-corr-1','CreatedDateTime':'2024-01-01T00:00:01.5Z','IPAddress':'198.51.100.23',"
            "'IsInteractive':true,'ResourceDisplayName':'Windows Azure Service Management API',"
            "'Status':{'errorCode':50126,'failureReason':'Invalid username or password'},'UserAgent':'Mozilla/5.0 "
            "(LA)',"
            "'UserPrincipalName':'jdoe@contoso.com','Id':'la-0001','SessionId':'la-sess','Type':'SigninLogs'}"),
        AH_OK);
    fx_expect_format(&f->ev, "signin_log_analytics", AH_SOURCE_SIGNIN);
    fx_expect_time(&f->ev, "2024-01-01T00:00:01.5000000Z");
    const char *want[AH_F_COUNT] = {
        [AH_F_RECORD_ID] = "la-0001",
        [AH_F_OPERATION] = "Sign-in",
        [AH_F_WORKLOAD] = "AzureActiveDirectory",
        [AH_F_RECORD_TYPE] = "interactiveUser",
        [AH_F_USER] = "jdoe@contoso.com",
        [AH_F_IP] = "198.51.100.23",
        [AH_F_USER_AGENT] = "Mozilla/5.0 (LA)",
        [AH_F_APP_ID] = "c44b4083-3bb0-49c1-b47d-974e53cbdf3c",
        [AH_F_APP] = "Azure Portal",
        [AH_F_TARGET] = "Windows Azure Service Management API",
        [AH_F_RESULT_CODE] = "50126",
        [AH_F_SESSION_ID] = "la-sess",
        [AH_F_CORRELATION_ID] = "la-corr-1",
        [AH_F_TENANT_ID] = "11111111-2222-3333-4444-555555555555",
    };
    fx_expect(&f->ev, want);
    assert_int_equal(f->ev.result, AH_RESULT_FAILURE);
    assert_ptr_equal(f->ev.body.p, f->ev.raw.p);

    /* JSON strings: the code comes out of the Status string */
    assert_int_equal(
        fx_json(f, "{'TenantId':'t-2','TimeGenerated':'2024-01-02T03:04:05Z','Category':'NonInteractiveUserSignInLogs',"
                   "'AppId':'a-2','IPAddress':'[2001:db8::5]:443','IsInteractive':false,"
                   "'Status':'{\\'errorCode\\':50140,\\'failureReason\\':\\'Keep me signed in interrupt\\'}',"
                   "'LocationDetails':'{\\'city\\':\\'Paris\\'}','UserPrincipalName':'u2@contoso.com','Id':'la-0002',"
                   "'Type':'AADNonInteractiveUserSignInLogs'}"),
        AH_OK);
    fx_expect_format(&f->ev, "signin_log_analytics", AH_SOURCE_SIGNIN);
    fx_expect_time(&f->ev, "2024-01-02T03:04:05.0000000Z");
    const char *want2[AH_F_COUNT] = {
        [AH_F_RECORD_ID] = "la-0002",
        [AH_F_OPERATION] = "Non-interactive sign-in",
        [AH_F_WORKLOAD] = "AzureActiveDirectory",
        [AH_F_RECORD_TYPE] = "nonInteractiveUser",
        [AH_F_USER] = "u2@contoso.com",
        [AH_F_IP] = "2001:db8::5",
        [AH_F_APP_ID] = "a-2",
        [AH_F_RESULT_CODE] = "50140",
        [AH_F_TENANT_ID] = "t-2",
    };
    fx_expect(&f->ev, want2);
    assert_int_equal(f->ev.result, AH_RESULT_FAILURE);

    /* the PascalCase stub of corpus azure_signinlogs_test-invalid-time.log */
    assert_int_equal(
        fx_json(f, "{'Category':'ServicePrincipalSignInLogs','CorrelationId':'83d4a233-76a0-4cc0-bbe6-9ce7ad506fc9',"
                   "'CreatedDateTime':'2025-07-01T10:45:17.5824212Z','DurationMs':0,'OperationName':'Sign-in activity',"
                   "'TenantId':'2a0bb6ef-8a1d-4e8b-83d6-c682d5ca56db7'}"),
        AH_OK);
    fx_expect_format(&f->ev, "signin_log_analytics", AH_SOURCE_SIGNIN);
    fx_expect_time(&f->ev, "2025-07-01T10:45:17.5824212Z");
    const char *want3[AH_F_COUNT] = {
        [AH_F_OPERATION] = "Service principal sign-in",
        [AH_F_WORKLOAD] = "AzureActiveDirectory",
        [AH_F_RECORD_TYPE] = "servicePrincipal",
        [AH_F_CORRELATION_ID] = "83d4a233-76a0-4cc0-bbe6-9ce7ad506fc9",
        [AH_F_TENANT_ID] = "2a0bb6ef-8a1d-4e8b-83d6-c682d5ca56db7",
    };
    fx_expect(&f->ev, want3);
    fx_free(f);
}

/* --- portal CSV ----------------------------------------------------------------------- */

/* The 2024-10 header, 55 columns, as bitpusher's equality check has it. */
static const char *const portal_header[] = {"Date (UTC)",
                                            "Request ID",
                                            "User agent",
                                            "Correlation ID",
                                            "User ID",
                                            "User",
                                            "Username",
                                            "User type",
                                            "Cross tenant access type",
                                            "Incoming token type",
                                            "Authentication Protocol",
                                            "Unique token identifier",
                                            "Original transfer method",
                                            "Client credential type",
                                            "Token Protection - Sign In Session",
                                            "Token Protection - Sign In Session StatusCode",
                                            "Application",
                                            "Application ID ",
                                            "Resource",
                                            "Resource ID ",
                                            "Resource tenant ID",
                                            "Home tenant ID",
                                            "Home tenant name",
                                            "IP address",
                                            "Location",
                                            "Status",
                                            "Sign-in error code",
                                            "Failure reason",
                                            "Client app",
                                            "Device ID",
                                            "Browser",
                                            "Operating System",
                                            "Compliant",
                                            "Managed",
                                            "Join Type",
                                            "Multifactor authentication result",
                                            "Multifactor authentication auth method",
                                            "Multifactor authentication auth detail",
                                            "Authentication requirement",
                                            "Sign-in identifier",
                                            "Session ID",
                                            "IP address (seen by resource)",
                                            "Through Global Secure Access",
                                            "Global Secure Access IP address",
                                            "Autonomous system  number",
                                            "Flagged for review",
                                            "Token issuer type",
                                            "Incoming token type",
                                            "Token issuer name",
                                            "Latency",
                                            "Conditional Access",
                                            "Managed Identity type",
                                            "Associated Resource Id",
                                            "Federated Token Id",
                                            "Federated Token Issuer"};

static const char *const portal_row_failure[] = {"2024-10-14T13:45:12Z",
                                                 "5f1c0a8e-7d21-4b8e-9a55-0c2f3d4e5f60",
                                                 "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36",
                                                 "9b8a7c6d-0000-4000-8000-000000000001",
                                                 "26be570a-ae82-4189-b4e2-a37c6808512d",
                                                 "Jane Doe",
                                                 "jdoe@contoso.com",
                                                 "Member",
                                                 "none",
                                                 "none",
                                                 "none",
                                                 "AbCdEfGh",
                                                 "none",
                                                 "none",
                                                 "none",
                                                 "",
                                                 "OfficeHome",
                                                 "4765445b-32c6-49b0-83e6-1d93765276ca",
                                                 "Office 365 Exchange Online",
                                                 "00000002-0000-0ff1-ce00-000000000000",
                                                 "11111111-2222-3333-4444-555555555555",
                                                 "11111111-2222-3333-4444-555555555555",
                                                 "",
                                                 "198.51.100.23",
                                                 "Amsterdam, Noord-Holland, NL",
                                                 "Failure",
                                                 "50126",
                                                 "Error validating credentials due to invalid username or password.",
                                                 "Browser",
                                                 "",
                                                 "Edge 129.0.0",
                                                 "Windows10",
                                                 "False",
                                                 "False",
                                                 "",
                                                 "",
                                                 "",
                                                 "",
                                                 "Single-factor authentication",
                                                 "jdoe@contoso.com",
                                                 "",
                                                 "",
                                                 "False",
                                                 "",
                                                 "64496",
                                                 "False",
                                                 "AzureAD",
                                                 "primaryRefreshToken",
                                                 "",
                                                 "120",
                                                 "Not Applied",
                                                 "",
                                                 "",
                                                 "",
                                                 ""};

static const char *const portal_row_success[] = {"2024-10-14T13:45:40Z",
                                                 "6a2d1b9f-0000-4000-8000-000000000002",
                                                 "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36",
                                                 "9b8a7c6d-0000-4000-8000-000000000001",
                                                 "26be570a-ae82-4189-b4e2-a37c6808512d",
                                                 "Jane Doe",
                                                 "jdoe@contoso.com",
                                                 "Member",
                                                 "none",
                                                 "none",
                                                 "none",
                                                 "BcDeFgHi",
                                                 "none",
                                                 "none",
                                                 "none",
                                                 "",
                                                 "OfficeHome",
                                                 "4765445b-32c6-49b0-83e6-1d93765276ca",
                                                 "Office 365 Exchange Online",
                                                 "00000002-0000-0ff1-ce00-000000000000",
                                                 "11111111-2222-3333-4444-555555555555",
                                                 "11111111-2222-3333-4444-555555555555",
                                                 "",
                                                 "198.51.100.23",
                                                 "Amsterdam, Noord-Holland, NL",
                                                 "Success",
                                                 "0",
                                                 "",
                                                 "Browser",
                                                 "",
                                                 "Edge 129.0.0",
                                                 "Windows10",
                                                 "False",
                                                 "False",
                                                 "",
                                                 "Succeeded",
                                                 "Mobile app notification",
                                                 "MFA completed in Azure AD",
                                                 "Multifactor authentication",
                                                 "jdoe@contoso.com",
                                                 "00a1b2c3-0000-4000-8000-000000000003",
                                                 "",
                                                 "False",
                                                 "",
                                                 "64496",
                                                 "False",
                                                 "AzureAD",
                                                 "none",
                                                 "",
                                                 "98",
                                                 "Success",
                                                 "",
                                                 "",
                                                 "",
                                                 ""};

_Static_assert(AH_ARRAY_LEN(portal_header) == 55, "2024-10 header");
_Static_assert(AH_ARRAY_LEN(portal_row_failure) == 55, "row matches header");
_Static_assert(AH_ARRAY_LEN(portal_row_success) == 55, "row matches header");

static void signin_portal_csv_rows(void **state)
{
    (void)state;
    fx *f = fx_new_opts(AH_DATE_ORDER_AUTO, 0, "exports/InteractiveSignIns_2024-10-14_2024-10-15.csv");
    const ah_format *fmt = fx_bind(f, portal_header, 55);
    assert_non_null(fmt);
    assert_string_equal(fmt->name, "signin_portal_csv");
    assert_int_equal(fx_row(f, portal_row_failure, 55), AH_OK);
    fx_expect_format(&f->ev, "signin_portal_csv", AH_SOURCE_SIGNIN);
    fx_expect_time(&f->ev, "2024-10-14T13:45:12.0000000Z");
    const char *want[AH_F_COUNT] = {
        [AH_F_RECORD_ID] = "5f1c0a8e-7d21-4b8e-9a55-0c2f3d4e5f60",
        [AH_F_OPERATION] = "Sign-in",
        [AH_F_WORKLOAD] = "AzureActiveDirectory",
        [AH_F_RECORD_TYPE] = "interactiveUser",
        [AH_F_USER] = "jdoe@contoso.com",
        [AH_F_IP] = "198.51.100.23",
        [AH_F_USER_AGENT] = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36",
        [AH_F_APP_ID] = "4765445b-32c6-49b0-83e6-1d93765276ca",
        [AH_F_APP] = "OfficeHome",
        [AH_F_TARGET] = "Office 365 Exchange Online",
        [AH_F_RESULT_CODE] = "50126",
        [AH_F_CORRELATION_ID] = "9b8a7c6d-0000-4000-8000-000000000001",
        [AH_F_TENANT_ID] = "11111111-2222-3333-4444-555555555555",
        [AH_F_TOKEN_ID] = "AbCdEfGh",
    };
    fx_expect(&f->ev, want);
    assert_int_equal(f->ev.result, AH_RESULT_FAILURE);
    fx_expect_body(
        f,
        "{'id':'5f1c0a8e-7d21-4b8e-9a55-0c2f3d4e5f60','createdDateTime':'2024-10-14T13:45:12Z',"
        "'userId':'26be570a-ae82-4189-b4e2-a37c6808512d','userDisplayName':'Jane "
        "Doe','userPrincipalName':'jdoe@contoso.com',"
        "'userType':'Member','userAgent':'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36',"
        "'correlationId':'9b8a7c6d-0000-4000-8000-000000000001','appDisplayName':'OfficeHome',"
        "'appId':'4765445b-32c6-49b0-83e6-1d93765276ca','resourceDisplayName':'Office 365 Exchange Online',"
        "'resourceId':'00000002-0000-0ff1-ce00-000000000000','resourceTenantId':'11111111-2222-3333-4444-555555555555',"
        "'homeTenantId':'11111111-2222-3333-4444-555555555555','ipAddress':'198.51.100.23',"
        "'location':{'city':'Amsterdam','state':'Noord-Holland','countryOrRegion':'NL'},"
        "'status':{'result':'Failure','errorCode':50126,'failureReason':'Error validating credentials due to invalid "
        "username or password.'},"
        "'clientAppUsed':'Browser','deviceDetail':{'browser':'Edge "
        "129.0.0','operatingSystem':'Windows10','isCompliant':false,"
        "'isManaged':false},'crossTenantAccessType':'none','incomingTokenType':'none','authenticationProtocol':'none',"
        "'uniqueTokenIdentifier':'AbCdEfGh','originalTransferMethod':'none','clientCredentialType':'none',"
        "'tokenProtectionStatusDetails':{'signInSessionStatus':'none'},'authenticationRequirement':'Single-factor "
        "authentication',"
        "'signInIdentifier':'jdoe@contoso.com','isThroughGlobalSecureAccess':false,'autonomousSystemNumber':64496,"
        "'flaggedForReview':false,'tokenIssuerType':'AzureAD','processingTimeInMilliseconds':120,"
        "'conditionalAccessStatus':'Not Applied'}");
    fx_expect_json(&f->ev);
    /* raw: header text as keys (trailing spaces, double space kept), the repeated name numbered */
    const char *raw = f->ev.raw.p;
    assert_non_null(strstr(raw, "\"Application ID \":\"4765445b"));
    assert_non_null(strstr(raw, "\"Autonomous system  number\":\"64496\""));
    assert_non_null(strstr(raw, "\"Incoming token type\":\"none\""));
    assert_non_null(strstr(raw, "\"Incoming token type (2)\":\"primaryRefreshToken\""));
    assert_int_equal(ah_normalizer_stats(f->n)->unknown_zone, 0);

    assert_int_equal(fx_row(f, portal_row_success, 55), AH_OK);
    const char *want2[AH_F_COUNT] = {
        [AH_F_RECORD_ID] = "6a2d1b9f-0000-4000-8000-000000000002",
        [AH_F_OPERATION] = "Sign-in",
        [AH_F_WORKLOAD] = "AzureActiveDirectory",
        [AH_F_RECORD_TYPE] = "interactiveUser",
        [AH_F_USER] = "jdoe@contoso.com",
        [AH_F_IP] = "198.51.100.23",
        [AH_F_USER_AGENT] = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36",
        [AH_F_APP_ID] = "4765445b-32c6-49b0-83e6-1d93765276ca",
        [AH_F_APP] = "OfficeHome",
        [AH_F_TARGET] = "Office 365 Exchange Online",
        [AH_F_RESULT_CODE] = "0",
        [AH_F_SESSION_ID] = "00a1b2c3-0000-4000-8000-000000000003",
        [AH_F_CORRELATION_ID] = "9b8a7c6d-0000-4000-8000-000000000001",
        [AH_F_TENANT_ID] = "11111111-2222-3333-4444-555555555555",
        [AH_F_TOKEN_ID] = "BcDeFgHi",
    };
    fx_expect(&f->ev, want2);
    assert_int_equal(f->ev.result, AH_RESULT_SUCCESS);
    assert_non_null(strstr(f->ev.body.p,
                           "\"mfaDetail\":{\"result\":\"Succeeded\",\"authMethod\":\"Mobile app notification\","
                           "\"authDetail\":\"MFA completed in Azure AD\"}"));
    fx_free(f);
}

/* The file name is the only thing telling interactive from non-interactive. */
static void signin_portal_csv_hints(void **state)
{
    (void)state;
    static const struct {
        const char *path;
        const char *type;
        const char *operation;
    } cases[] = {
        {"NonInteractiveSignIns_2024-10-14_2024-10-15.csv", "nonInteractiveUser", "Non-interactive sign-in"},
        {"x/ApplicationSignIns_2024-10-14.csv", "servicePrincipal", "Service principal sign-in"},
        {"MSISignIns_2024-10-14.csv", "managedIdentity", "Managed identity sign-in"},
        {"signins.zip", NULL, "Sign-in"},
    };
    for (size_t i = 0; i < AH_ARRAY_LEN(cases); i++) {
        fx *f = fx_new();
        f->origin.path = "download.zip";
        f->origin.entry = cases[i].path;
        ah_normalizer_begin(f->n, &f->origin);
        assert_non_null(fx_bind(f, portal_header, 55));
        assert_int_equal(fx_row(f, portal_row_success, 55), AH_OK);
        fx_assert_span(cases[i].path, f->ev.field[AH_F_RECORD_TYPE], cases[i].type);
        fx_assert_span(cases[i].path, f->ev.field[AH_F_OPERATION], cases[i].operation);
        fx_free(f);
    }
    /* AuthDetails rows are authentication steps joined on Request ID, never sign-ins */
    fx *f = fx_new_opts(AH_DATE_ORDER_AUTO, 0, "InteractiveSignIns_AuthDetails_2024-10-14_2024-10-15.csv");
    assert_null(fx_bind(f, portal_header, 55));
    assert_string_equal(f->bind_why, "sign-in AuthDetails file: authentication steps, not sign-in records");
    fx_free(f);
}

/* Header variants: plain "Date" (zone unknown), 57 columns, an older short header. */
static void signin_portal_csv_variants(void **state)
{
    (void)state;
    fx *f = fx_new();
    const char *hdr[55];
    memcpy(hdr, portal_header, sizeof hdr);
    hdr[0] = "Date";
    assert_non_null(fx_bind(f, hdr, 55));
    assert_int_equal(fx_row(f, portal_row_failure, 55), AH_OK);
    fx_expect_time(&f->ev, "2024-10-14T13:45:12.0000000Z");
    assert_int_equal(fx_row(f, portal_row_success, 55), AH_OK);
    assert_int_equal(ah_normalizer_stats(f->n)->unknown_zone, 2);
    assert_non_null(
        strstr(f->ev.body.p,
               "{\"id\":\"6a2d1b9f-0000-4000-8000-000000000002\",\"createdDateTime\":\"2024-10-14T13:45:40Z\","));
    fx_free(f);

    /* 2025-01 header: App owner tenant ID after Application ID, Resource owner tenant ID after Resource tenant ID */
    f = fx_new();
    const char *hdr57[57], *row57[57];
    size_t k = 0;
    for (size_t i = 0; i < 55; i++) {
        hdr57[k] = portal_header[i];
        row57[k++] = portal_row_failure[i];
        if (i == 17) {
            hdr57[k] = "App owner tenant ID";
            row57[k++] = "f8cdef31-a31e-4b4a-93e4-5f571e91255a";
        } else if (i == 20) {
            hdr57[k] = "Resource owner tenant ID";
            row57[k++] = "f8cdef31-a31e-4b4a-93e4-5f571e91255a";
        }
    }
    assert_int_equal(k, 57);
    assert_non_null(fx_bind(f, hdr57, 57));
    assert_int_equal(fx_row(f, row57, 57), AH_OK);
    assert_true(fx_span_is(f->ev.field[AH_F_APP_ID], "4765445b-32c6-49b0-83e6-1d93765276ca"));
    assert_true(fx_span_is(f->ev.field[AH_F_TARGET], "Office 365 Exchange Online"));
    assert_non_null(
        strstr(f->ev.body.p, "\"appId\":\"4765445b-32c6-49b0-83e6-1d93765276ca\",\"appOwnerTenantId\":\"f8cdef31-"));
    assert_non_null(strstr(f->ev.body.p, "\"resourceOwnerTenantId\":\"f8cdef31-"));
    fx_free(f);

    /* a short (April 2024 style) header, BOM on the first name, rows longer and shorter than it */
    f = fx_new();
    const char *short_hdr[] = {("\xEF\xBB\xBF"
                                "Date (UTC)"),
                               "Request ID",
                               "User agent",
                               "Username",
                               "Application ID ",
                               "IP address",
                               "Location",
                               "Status",
                               "Sign-in error code"};
    assert_non_null(fx_bind(f, short_hdr, 9));
    const char *row[] = {"2024-04-01T08:00:00Z", "r-1", "curl/8",  "a@b.example", "app-1",
                         "203.0.113.1",          "NL",  "Failure", "50053",       "extra cell"};
    assert_int_equal(fx_row(f, row, 10), AH_OK);
    fx_expect_body(f,
                   "{'id':'r-1','createdDateTime':'2024-04-01T08:00:00Z','userPrincipalName':'a@b.example',"
                   "'userAgent':'curl/8','appId':'app-1','ipAddress':'203.0.113.1','location':{'countryOrRegion':'NL'},"
                   "'status':{'result':'Failure','errorCode':50053}}");
    fx_assert_span("raw", f->ev.raw,
                   fx_q(f,
                        "{'Date (UTC)':'2024-04-01T08:00:00Z','Request ID':'r-1','User agent':'curl/8','Username':"
                        "'a@b.example','Application ID ':'app-1','IP address':'203.0.113.1','Location':'NL','Status':"
                        "'Failure','Sign-in error code':'50053','Column10':'extra cell'}"));
    assert_int_equal(f->ev.result, AH_RESULT_FAILURE);
    assert_true(fx_span_is(f->ev.field[AH_F_RESULT_CODE], "50053"));
    assert_int_equal(fx_row(f, row, 3), AH_OK);
    fx_expect_body(f, "{'id':'r-1','createdDateTime':'2024-04-01T08:00:00Z','userAgent':'curl/8'}");
    assert_int_equal(f->ev.result, AH_RESULT_UNKNOWN);
    fx_free(f);
}

/* One sign-in exported as CSV and as JSON is one identity; other sources are not. */
static void signin_csv_json_same_digest(void **state)
{
    (void)state;
    fx *f = fx_new();
    assert_non_null(fx_bind(f, portal_header, 55));
    assert_int_equal(fx_row(f, portal_row_failure, 55), AH_OK);
    uint64_t csv[2] = {f->ev.digest[0], f->ev.digest[1]};
    assert_int_equal(
        fx_json(f, "{'id':'5f1c0a8e-7d21-4b8e-9a55-0c2f3d4e5f60','createdDateTime':'2024-10-14T13:45:12.1234567Z',"
                   "'userPrincipalName':'jdoe@contoso.com','status':{'errorCode':50126}}"),
        AH_OK);
    assert_true(fx_digest_eq(csv, f->ev.digest));
    /* a UAL record that happens to carry the same id is a different event */
    assert_int_equal(fx_json(f, "{'CreationTime':'2024-10-14T13:45:12','Id':'5f1c0a8e-7d21-4b8e-9a55-0c2f3d4e5f60',"
                                "'Operation':'UserLoginFailed','RecordType':15}"),
                     AH_OK);
    assert_false(fx_digest_eq(csv, f->ev.digest));
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(signin_graph_interactive),
        cmocka_unit_test(signin_graph_non_interactive),
        cmocka_unit_test(signin_result_codes),
        cmocka_unit_test(signin_azure_monitor_envelope),
        cmocka_unit_test(signin_azure_monitor_lowercase_and_msi),
        cmocka_unit_test(signin_azure_monitor_stubs),
        cmocka_unit_test(signin_log_analytics_rows),
        cmocka_unit_test(signin_portal_csv_rows),
        cmocka_unit_test(signin_portal_csv_hints),
        cmocka_unit_test(signin_portal_csv_variants),
        cmocka_unit_test(signin_csv_json_same_digest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
