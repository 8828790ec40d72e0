/*
 * test_formats_ual.c: Unified Audit Log shapes -> events. Every UAL format
 * id with a realistic record (composed after docs/formats.md and the corpus
 * shapes), every normalized field asserted exactly, plus the UAL rules:
 * spelling variants, IP forms, RecordType 15 results, ResultStatus words,
 * CreationDate fallback and date-order ambiguity.
 */
#include "support/records.h"

/* formats.md example 2c (AuditData-only JSON line), values filled in. */
static const char *const rec_2c =
    "{'CreationTime':'2021-01-13T16:07:40','Id':'5d6e7f80-aaaa-bbbb-cccc-ddddeeeeffff',"
    "'Operation':'Add service principal credentials.','OrganizationId':'11111111-2222-3333-4444-555555555555',"
    "'RecordType':8,'ResultStatus':'Success','UserKey':'10032000ABCDEF12@contoso.onmicrosoft.com','UserType':0,"
    "'Version':1,'Workload':'AzureActiveDirectory','ObjectId':'Not Available','UserId':'admin@contoso.com',"
    "'AzureActiveDirectoryEventType':1,'ExtendedProperties':[{'Name':'additionalDetails','Value':"
    "'{\\'User-Agent\\':\\'Mozilla/5.0 (X11; Linux)\\',\\'AppId\\':\\'c0ffee00-1234-5678-9abc-def012345678\\'}'},"
    "{'Name':'extendedAuditEventCategory','Value':'ServicePrincipal'}],'ModifiedProperties':[{'Name':'KeyDescription',"
    "'NewValue':'[\\r\\n  \\'[KeyIdentifier=0f0e0d0c, KeyType=AsymmetricX509Cert]\\'\\r\\n]','OldValue':'[]'}],"
    "'Actor':[{'ID':'admin@contoso.com','Type':5},{'ID':'User_7a8b','Type':2}],'ActorContextId':'11111111-2222-3333-"
    "4444-555555555555',"
    "'ActorIpAddress':'203.0.113.50','InterSystemsId':'9e8d7c6b-0000-1111-2222-333344445555',"
    "'IntraSystemId':'4d5e6f70-0000-1111-2222-333344445555','SupportTicketId':'',"
    "'Target':[{'ID':'ServicePrincipal_c0ffee00-1234-5678-9abc-def012345678','Type':2},{'ID':'MailSyncApp','Type':1}],"
    "'TargetContextId':'11111111-2222-3333-4444-555555555555'}";

static const char *const want_2c[AH_F_COUNT] = {
    [AH_F_RECORD_ID] = "5d6e7f80-aaaa-bbbb-cccc-ddddeeeeffff",
    [AH_F_OPERATION] = "Add service principal credentials.",
    [AH_F_WORKLOAD] = "AzureActiveDirectory",
    [AH_F_RECORD_TYPE] = "8",
    [AH_F_USER] = "admin@contoso.com",
    [AH_F_IP] = "203.0.113.50",
    [AH_F_USER_AGENT] = "Mozilla/5.0 (X11; Linux)",
    [AH_F_APP_ID] = "c0ffee00-1234-5678-9abc-def012345678",
    [AH_F_TARGET] = "MailSyncApp",
    [AH_F_RESULT_CODE] = "Success",
    [AH_F_CORRELATION_ID] = "9e8d7c6b-0000-1111-2222-333344445555",
    [AH_F_TENANT_ID] = "11111111-2222-3333-4444-555555555555",
};

static void ual_json_auditdata_line(void **state)
{
    (void)state;
    fx *f = fx_new();
    assert_int_equal(fx_json(f, rec_2c), AH_OK);
    fx_expect_format(&f->ev, "ual_json", AH_SOURCE_UAL);
    fx_expect_time(&f->ev, "2021-01-13T16:07:40.0000000Z");
    fx_expect(&f->ev, want_2c);
    assert_int_equal(f->ev.result, AH_RESULT_SUCCESS);
    fx_assert_span("operation_canon", f->ev.operation_canon, "add service principal credentials");
    fx_expect_json(&f->ev);
    /* AuditData itself: raw and body are the record */
    assert_ptr_equal(f->ev.raw.p, f->ev.body.p);
    assert_int_equal(f->ev.raw.n, strlen(f->owned[0]));
    assert_int_equal(f->ev.record_no, 7);
    assert_int_equal(f->ev.line_no, 3);
    assert_ptr_equal(f->ev.origin, &f->origin);
    fx_free(f);
}

/* formats.md example 3a: a Management Activity API array element. */
static void ual_json_mail_items_accessed(void **state)
{
    (void)state;
    fx *f = fx_new();
    assert_int_equal(
        fx_json(
            f,
            "{'CreationTime':'2021-01-14T09:12:01','Id':'77aa0000-0000-0000-0000-000000000001',"
            "'Operation':'MailItemsAccessed','OrganizationId':'11111111-2222-3333-4444-555555555555','RecordType':50,"
            "'ResultStatus':'Succeeded','UserKey':'10032000ABCDEF12','UserType':0,'Version':1,'Workload':'Exchange',"
            "'ClientIP':'203.0.113.50','UserId':'ceo@contoso.com','AppId':'c0ffee00-1234-5678-9abc-def012345678',"
            "'ClientAppId':'c0ffee00-1234-5678-9abc-def012345678','ClientIPAddress':'203.0.113.51',"
            "'ClientInfoString':'Client=REST;Client=RESTSystem;;','ExternalAccess':false,'InternalLogonType':0,"
            "'LogonType':0,'MailboxGuid':'a9b80000-0000-0000-0000-000000000000','MailboxOwnerUPN':'ceo@contoso.com',"
            "'OperationProperties':[{'Name':'MailAccessType','Value':'Bind'},{'Name':'IsThrottled','Value':'False'}],"
            "'Folders':[{'FolderItems':[{'InternetMessageId':'<CA+abc@mail.example.com>','SizeInBytes':48213}],"
            "'Id':'LgAAAAB','Path':'\\\\Inbox'}],'OperationCount':1,'SessionId':'6c2f0000-aaaa-bbbb-cccc-000000000000'"
            "}"),
        AH_OK);
    fx_expect_format(&f->ev, "ual_json", AH_SOURCE_UAL);
    fx_expect_time(&f->ev, "2021-01-14T09:12:01.0000000Z");
    const char *want[AH_F_COUNT] = {
        [AH_F_RECORD_ID] = "77aa0000-0000-0000-0000-000000000001",
        [AH_F_OPERATION] = "MailItemsAccessed",
        [AH_F_WORKLOAD] = "Exchange",
        [AH_F_RECORD_TYPE] = "50",
        [AH_F_USER] = "ceo@contoso.com",
        [AH_F_IP] = "203.0.113.50",
        [AH_F_USER_AGENT] = "Client=REST;Client=RESTSystem;;",
        [AH_F_APP_ID] = "c0ffee00-1234-5678-9abc-def012345678",
        [AH_F_TARGET] = "ceo@contoso.com",
        [AH_F_RESULT_CODE] = "Succeeded",
        [AH_F_SESSION_ID] = "6c2f0000-aaaa-bbbb-cccc-000000000000",
        [AH_F_TENANT_ID] = "11111111-2222-3333-4444-555555555555",
    };
    fx_expect(&f->ev, want);
    assert_int_equal(f->ev.result, AH_RESULT_SUCCESS);
    fx_free(f);
}

/* Exchange admin record: escaped user name, bracketed IPv6 with port. */
static void ual_json_set_mailbox(void **state)
{
    (void)state;
    fx *f = fx_new();
    assert_int_equal(
        fx_json(f, "{'CreationTime':'2021-01-14T09:15:44','Id':'77aa0000-0000-0000-0000-000000000002','Operation':'Set-"
                   "Mailbox',"
                   "'OrganizationId':'11111111-2222-3333-4444-555555555555','RecordType':1,'ResultStatus':'True',"
                   "'UserKey':'NT AUTHORITY\\\\SYSTEM (Microsoft.Exchange.ServiceHost)','UserType':3,'Version':1,"
                   "'Workload':'Exchange','ClientIP':'[2001:db8::10]:49152','ObjectId':'ceo',"
                   "'UserId':'NT AUTHORITY\\\\SYSTEM (Microsoft.Exchange.ServiceHost)','ExternalAccess':true,"
                   "'Parameters':[{'Name':'Identity','Value':'ceo'},{'Name':'ForwardingSmtpAddress','Value':'smtp:drop@"
                   "evil.example'}]}"),
        AH_OK);
    const char *want[AH_F_COUNT] = {
        [AH_F_RECORD_ID] = "77aa0000-0000-0000-0000-000000000002",
        [AH_F_OPERATION] = "Set-Mailbox",
        [AH_F_WORKLOAD] = "Exchange",
        [AH_F_RECORD_TYPE] = "1",
        [AH_F_USER] = "NT AUTHORITY\\SYSTEM (Microsoft.Exchange.ServiceHost)",
        [AH_F_IP] = "2001:db8::10",
        [AH_F_TARGET] = "ceo",
        [AH_F_RESULT_CODE] = "True",
        [AH_F_TENANT_ID] = "11111111-2222-3333-4444-555555555555",
    };
    fx_expect(&f->ev, want);
    assert_int_equal(f->ev.result, AH_RESULT_SUCCESS);
    fx_assert_span("operation_canon", f->ev.operation_canon, "set-mailbox");
    fx_free(f);
}

/* Lower-cased keys (SIEM exports, corpus panther o365_mgmt_api lines 10-19). */
static void ual_json_lowercase_keys(void **state)
{
    (void)state;
    fx *f = fx_new();
    assert_int_equal(
        fx_json(f,
                "{'actoripaddress':'9.9.9.9','clientip':'1.2.3.4:10736','creationtime':'2025-07-07 09:11:11.000000000',"
                "'externalaccess':false,'id':'111-222-333','objectid':'homer.simpson','operation':'Set-Mailbox',"
                "'organizationid':'123-abc','recordtype':1,'resultstatus':'False','userid':'homer@simpsons.example',"
                "'workload':'Exchange','sessionid':'s-1'}"),
        AH_OK);
    fx_expect_format(&f->ev, "ual_json", AH_SOURCE_UAL);
    fx_expect_time(&f->ev, "2025-07-07T09:11:11.0000000Z");
    const char *want[AH_F_COUNT] = {
        [AH_F_RECORD_ID] = "111-222-333", [AH_F_OPERATION] = "Set-Mailbox",       [AH_F_WORKLOAD] = "Exchange",
        [AH_F_RECORD_TYPE] = "1",         [AH_F_USER] = "homer@simpsons.example", [AH_F_IP] = "1.2.3.4",
        [AH_F_TARGET] = "homer.simpson",  [AH_F_RESULT_CODE] = "False",           [AH_F_SESSION_ID] = "s-1",
        [AH_F_TENANT_ID] = "123-abc",
    };
    fx_expect(&f->ev, want);
    assert_int_equal(f->ev.result, AH_RESULT_FAILURE);
    fx_free(f);
}

static void ual_ip_forms(void **state)
{
    (void)state;
    static const struct {
        const char *members; /* address members of the record */
        const char *ip;
    } cases[] = {
        {"'ClientIP':'1.2.3.4:51234'", "1.2.3.4"},
        {"'ClientIP':'[2001:db8::1]:443'", "2001:db8::1"},
        {"'ClientIP':'2001:db8::1'", "2001:db8::1"},
        {"'ClientIP':'[1.2.3.4]'", "1.2.3.4"},
        {"'ClientIP':'::ffff:1.2.3.4'", "::ffff:1.2.3.4"},
        {"'ClientIP':'0.0.0.0'", "0.0.0.0"},
        {"'ClientIP':'sanitized'", NULL},
        {"'ClientIP':''", NULL},
        {"'ClientIP':'<null>'", NULL},
        {"'ClientIP':null", NULL},
        {"'ClientIP':'1.2.3.999'", NULL},
        /* first valid candidate wins: ClientIP, ClientIPAddress, Client_IPAddress, ActorIpAddress */
        {"'ClientIP':'sanitized','ActorIpAddress':'5.6.7.8'", "5.6.7.8"},
        {"'ClientIP':null,'ClientIPAddress':'9.9.9.9','ActorIpAddress':'5.6.7.8'", "9.9.9.9"},
        {"'ActorIPAddress':'[2001:db8::2]'", "2001:db8::2"},
        {"'ClientIP':'10.0.0.1','ActorIpAddress':'5.6.7.8'", "10.0.0.1"},
    };
    for (size_t i = 0; i < AH_ARRAY_LEN(cases); i++) {
        fx *f = fx_new();
        char rec[512];
        snprintf(rec, sizeof rec, "{'CreationTime':'2021-01-13T16:07:40','Id':'id-%zu','Operation':'X',%s}", i,
                 cases[i].members);
        assert_int_equal(fx_json(f, rec), AH_OK);
        fx_assert_span(rec, f->ev.field[AH_F_IP], cases[i].ip);
        fx_free(f);
    }
}

static void ual_result_rules(void **state)
{
    (void)state;
    static const struct {
        const char *members;
        ah_result result;
        const char *code;
    } cases[] = {
        /* RecordType 15: the code decides, never ResultStatus */
        {"'RecordType':15,'Operation':'UserLoginFailed','ResultStatus':'Success','LogonError':'"
         "InvalidUserNameOrPassword'",
         AH_RESULT_FAILURE, "InvalidUserNameOrPassword"},
        {"'RecordType':15,'Operation':'UserLoggedIn','ResultStatus':'Success','ErrorCode':'50126'", AH_RESULT_FAILURE,
         "50126"},
        {"'RecordType':15,'Operation':'UserLoggedIn','ResultStatus':'Failed','ErrorCode':'0'", AH_RESULT_SUCCESS, "0"},
        {"'RecordType':15,'Operation':'UserLoggedIn','ResultStatus':'Succeeded','LogonError':'None'", AH_RESULT_SUCCESS,
         "None"},
        {"'RecordType':15,'Operation':'UserLoggedIn','ResultStatus':'Success'", AH_RESULT_SUCCESS, "Success"},
        {"'RecordType':15,'Operation':'UserLoginFailed','ResultStatus':'Success'", AH_RESULT_FAILURE, "Success"},
        {"'RecordType':'15','Operation':'UserLoggedIn','ErrorNumber':'0'", AH_RESULT_SUCCESS, "0"},
        {"'RecordType':15,'Operation':'UserLoggedIn','ErrorCode':0,'LogonError':'x'", AH_RESULT_SUCCESS, "0"},
        /* escaped spellings decide the same way */
        {"'RecordType':15,'Operation':'UserLogin\\u0046ailed','LogonError':'Invalid\\u0055serNameOrPassword'",
         AH_RESULT_FAILURE, "InvalidUserNameOrPassword"},
        /* by operation when the RecordType is missing */
        {"'Operation':'UserLoginFailed','ResultStatus':'Success'", AH_RESULT_FAILURE, "Success"},
        /* everything else: ResultStatus words */
        {"'RecordType':1,'Operation':'Set-Mailbox','ResultStatus':'True'", AH_RESULT_SUCCESS, "True"},
        {"'RecordType':1,'Operation':'Set-Mailbox','ResultStatus':'False'", AH_RESULT_FAILURE, "False"},
        {"'RecordType':8,'Operation':'Add user.','ResultStatus':'Success'", AH_RESULT_SUCCESS, "Success"},
        {"'RecordType':8,'Operation':'Add user.','ResultStatus':'failed'", AH_RESULT_FAILURE, "failed"},
        {"'RecordType':8,'Operation':'Add user.','ResultStatus':'Failure'", AH_RESULT_FAILURE, "Failure"},
        {"'RecordType':8,'Operation':'Add user.','ResultStatus':'PartiallySucceeded'", AH_RESULT_UNKNOWN,
         "PartiallySucceeded"},
        {"'RecordType':8,'Operation':'Add user.','ErrorCode':'50126'", AH_RESULT_UNKNOWN, NULL},
    };
    /* escaped operation, then a long escaped code: the scratch holding the
     * operation grows while the result is decided (ASan checks the reads) */
    fx *g = fx_new();
    char big[1200], code[600];
    memset(code, 'x', 500);
    code[500] = '\0';
    snprintf(big, sizeof big,
             "{'CreationTime':'2021-01-13T16:07:40','Id':'r','RecordType':15,"
             "'Operation':'UserLogin\\u0046ailed','LogonError':'E\\u0041%s'}",
             code);
    assert_int_equal(fx_json(g, big), AH_OK);
    assert_int_equal(g->ev.result, AH_RESULT_FAILURE);
    assert_int_equal(g->ev.field[AH_F_RESULT_CODE].n, 502);
    assert_true(fx_span_is(g->ev.field[AH_F_OPERATION], "UserLoginFailed"));
    fx_free(g);
    for (size_t i = 0; i < AH_ARRAY_LEN(cases); i++) {
        char rec[512];
        snprintf(rec, sizeof rec, "{'CreationTime':'2021-01-13T16:07:40','Id':'r-%zu',%s}", i, cases[i].members);
        fx_expect_result(rec, cases[i].result, cases[i].code);
    }
}

/* Wazuh wrapper (corpus wazuh/ruleset_testing_office365.jsonl): the body is
 * the inner record, raw the whole line; "sanitized" everywhere. */
static void ual_json_wazuh_wrapper(void **state)
{
    (void)state;
    fx *f = fx_new();
    const char *inner =
        "{'ObjectId':'sanitized','UserKey':'sanitized','ActorIpAddress':'sanitized','OrganizationId':'sanitized',"
        "'ClientIP':'sanitized','Workload':'ExchangeItemAggregated','IntraSystemId':'sanitized','RecordType':'50',"
        "'UserId':'wazuh@wazuh.com','CreationTime':'2020-03-19T16:48:02','Id':'sanitized',"
        "'InterSystemsId':'sanitized','ApplicationId':'sanitized','ActorContextId':'sanitized'}";
    char rec[1024];
    snprintf(rec, sizeof rec, "{'integration': 'office365', 'office365': %s}", inner);
    assert_int_equal(fx_json(f, rec), AH_OK);
    fx_expect_format(&f->ev, "ual_json", AH_SOURCE_UAL);
    fx_expect_time(&f->ev, "2020-03-19T16:48:02.0000000Z");
    const char *want[AH_F_COUNT] = {
        [AH_F_RECORD_ID] = "sanitized",      [AH_F_WORKLOAD] = "ExchangeItemAggregated",
        [AH_F_RECORD_TYPE] = "50",           [AH_F_USER] = "wazuh@wazuh.com",
        [AH_F_APP_ID] = "sanitized",         [AH_F_TARGET] = "sanitized",
        [AH_F_CORRELATION_ID] = "sanitized", [AH_F_TENANT_ID] = "sanitized",
    };
    fx_expect(&f->ev, want);
    assert_int_equal(f->ev.result, AH_RESULT_UNKNOWN);
    fx_expect_body(f, inner);
    fx_assert_span("raw", f->ev.raw, f->owned[0]);
    fx_expect_json(&f->ev);
    fx_free(f);
}

static void ual_json_wazuh_non_record_rejected(void **state)
{
    (void)state;
    fx *f = fx_new();
    assert_int_equal(fx_json(f, "{'integration': 'office365', 'office365': {'actor': 'wazuh', 'tenant_id': "
                                "'8CE4AF1D-20DC-4E7E-B306-1CEF89A3B898', 'subscription_name': 'Audit.Exchange'}}"),
                     AH_ERR_RECORD);
    assert_string_equal(f->why, "unrecognised record shape (keys: integration, office365)");
    fx_free(f);
}

/* Elastic pipeline-test element: {"event":{"original":..},"o365audit":{..}}. */
static void ual_json_elastic_wrapper(void **state)
{
    (void)state;
    fx *f = fx_new();
    const char *inner =
        "{'CreationTime': '2022-04-01T00:00:01', 'Id': 'aabbccdd-eeff-0011-2233-445566778899', 'Operation': 'Update',"
        " 'OrganizationId': '00112233-4455-6677-8899-aabbccddeeff', 'RecordType': '2', 'ResultStatus': 'Succeeded',"
        " 'Workload': 'Exchange', 'ClientIP': '2603:10b6:5:1f4:cafe::28', 'UserId': 'user@example.com',"
        " 'ClientInfoString': 'Client=REST;Client=RESTSystem;;', 'MailboxOwnerUPN': 'user@example.com',"
        " 'ModifiedProperties': ['HtmlBody', 'CreationTime']}";
    char rec[1536];
    snprintf(rec, sizeof rec, "{\n    'event': {'original': '{\\'Id\\':1}'},\n    'o365audit': %s\n}", inner);
    assert_int_equal(fx_json(f, rec), AH_OK);
    fx_expect_format(&f->ev, "ual_json", AH_SOURCE_UAL);
    fx_expect_time(&f->ev, "2022-04-01T00:00:01.0000000Z");
    const char *want[AH_F_COUNT] = {
        [AH_F_RECORD_ID] = "aabbccdd-eeff-0011-2233-445566778899",
        [AH_F_OPERATION] = "Update",
        [AH_F_WORKLOAD] = "Exchange",
        [AH_F_RECORD_TYPE] = "2",
        [AH_F_USER] = "user@example.com",
        [AH_F_IP] = "2603:10b6:5:1f4:cafe::28",
        [AH_F_USER_AGENT] = "Client=REST;Client=RESTSystem;;",
        [AH_F_TARGET] = "user@example.com",
        [AH_F_RESULT_CODE] = "Succeeded",
        [AH_F_TENANT_ID] = "00112233-4455-6677-8899-aabbccddeeff",
    };
    fx_expect(&f->ev, want);
    assert_int_equal(f->ev.result, AH_RESULT_SUCCESS);
    fx_expect_body(f, inner);
    fx_expect_json(&f->ev);
    fx_free(f);
}

/* Extractor-Suite JSONL wrapper with a nested AuditData object. */
static void ual_cmdlet_json_object(void **state)
{
    (void)state;
    fx *f = fx_new();
    const char *audit =
        "{'CreationTime':'2021-01-13T16:05:22','Id':'0b6c1f5e-2a7d-4f0e-9c1a-5d2e8f3a9b10','Operation':'New-InboxRule',"
        "'OrganizationId':'11111111-2222-3333-4444-555555555555','RecordType':1,'ResultStatus':'True',"
        "'Workload':'Exchange','ClientIP':'203.0.113.7:51432','ObjectId':'jdoe\\\\rule','UserId':'jdoe@contoso.com',"
        "'AppId':'00000002-0000-0ff1-ce00-000000000000','ClientAppId':'','SessionId':'6c2f0001',"
        "'Parameters':[{'Name':'MoveToFolder','Value':'RSS Subscriptions'},{'Name':'MarkAsRead','Value':'True'}]}";
    char rec[2048];
    snprintf(rec, sizeof rec,
             "{'RecordType':'ExchangeAdmin','CreationDate':'2021-01-13T16:05:22','UserIds':'jdoe@contoso.com',"
             "'Operations':'New-InboxRule','AuditData':%s,'ResultIndex':1,'ResultCount':2,"
             "'Identity':'0b6c1f5e-2a7d-4f0e-9c1a-5d2e8f3a9b10','IsValid':true,'ObjectState':'Unchanged'}",
             audit);
    assert_int_equal(fx_json(f, rec), AH_OK);
    fx_expect_format(&f->ev, "ual_cmdlet_json", AH_SOURCE_UAL);
    fx_expect_time(&f->ev, "2021-01-13T16:05:22.0000000Z");
    const char *want[AH_F_COUNT] = {
        [AH_F_RECORD_ID] = "0b6c1f5e-2a7d-4f0e-9c1a-5d2e8f3a9b10",
        [AH_F_OPERATION] = "New-InboxRule",
        [AH_F_WORKLOAD] = "Exchange",
        [AH_F_RECORD_TYPE] = "1",
        [AH_F_USER] = "jdoe@contoso.com",
        [AH_F_IP] = "203.0.113.7",
        [AH_F_APP_ID] = "00000002-0000-0ff1-ce00-000000000000",
        [AH_F_TARGET] = "jdoe\\rule",
        [AH_F_RESULT_CODE] = "True",
        [AH_F_SESSION_ID] = "6c2f0001",
        [AH_F_TENANT_ID] = "11111111-2222-3333-4444-555555555555",
    };
    fx_expect(&f->ev, want);
    fx_expect_body(f, audit);
    fx_assert_span("raw", f->ev.raw, f->owned[0]);
    fx_expect_json(&f->ev);
    fx_free(f);
}

/* The cmdlet object with AuditData as a JSON string, and a culture-formatted
 * CreationDate as the only time (AuditData lacks CreationTime). */
static void ual_cmdlet_json_string_and_creationdate(void **state)
{
    (void)state;
    const char *rec =
        "{'RecordType':'ExchangeItemAggregated','CreationDate':'3/12/2025 7:31:34 AM','UserIds':'claire@oculus.info',"
        "'Operations':'MailItemsAccessed','AuditData':'{\\'RecordType\\':50,\\'Workload\\':\\'Exchange\\',"
        "\\'ClientIPAddress\\':\\'198.51.100.9\\'}','ResultIndex':'1','ResultCount':'226494',"
        "'Identity':'8b236c9f-f890-4078-97e1-5e8d8abe4680','IsValid':'True','ObjectState':'Unchanged'}";
    const char *want[AH_F_COUNT] = {
        [AH_F_RECORD_ID] = "8b236c9f-f890-4078-97e1-5e8d8abe4680",
        [AH_F_OPERATION] = "MailItemsAccessed",
        [AH_F_WORKLOAD] = "Exchange",
        [AH_F_RECORD_TYPE] = "50",
        [AH_F_USER] = "claire@oculus.info",
        [AH_F_IP] = "198.51.100.9",
    };
    /* en-AU: day first */
    fx *f = fx_new_opts(AH_DATE_ORDER_DMY, 0, NULL);
    assert_int_equal(fx_json(f, rec), AH_OK);
    fx_expect_format(&f->ev, "ual_cmdlet_json", AH_SOURCE_UAL);
    fx_expect_time(&f->ev, "2025-12-03T07:31:34.0000000Z");
    fx_expect(&f->ev, want);
    fx_expect_body(f, "{'RecordType':50,'Workload':'Exchange','ClientIPAddress':'198.51.100.9'}");
    assert_int_equal(ah_normalizer_stats(f->n)->ambiguous_dates, 0);
    fx_free(f);
    /* no order given: parsed month first and counted as ambiguous */
    f = fx_new();
    assert_int_equal(fx_json(f, rec), AH_OK);
    fx_expect_time(&f->ev, "2025-03-12T07:31:34.0000000Z");
    assert_int_equal(ah_normalizer_stats(f->n)->ambiguous_dates, 1);
    assert_int_equal(fx_json(f, rec), AH_OK);
    assert_int_equal(ah_normalizer_stats(f->n)->ambiguous_dates, 2);
    /* CreationTime present: the culture date is not even looked at */
    assert_int_equal(fx_json(f, "{'CreationDate':'3/12/2025 7:31:34 AM','UserIds':'a','Operations':'b',"
                                "'AuditData':{'CreationTime':'2025-12-03T07:31:34','Id':'x1'}}"),
                     AH_OK);
    fx_expect_time(&f->ev, "2025-12-03T07:31:34.0000000Z");
    assert_int_equal(ah_normalizer_stats(f->n)->ambiguous_dates, 2);
    /* a bad AuditData string is reported as such */
    assert_int_equal(fx_json(f, "{'CreationDate':'x','UserIds':'a','Operations':'b','AuditData':'not json'}"),
                     AH_ERR_RECORD);
    assert_string_equal(f->why, "AuditData is not a JSON object");
    fx_free(f);
}

/* formats.md 3b: Graph Purview audit log query record. */
static void graph_audit_record(void **state)
{
    (void)state;
    fx *f = fx_new();
    const char *audit = "{'CreationTime':'2021-01-13T16:07:40','Id':'5d6e7f80-aaaa-bbbb-cccc-ddddeeeeffff',"
                        "'Operation':'Add service principal "
                        "credentials.','RecordType':8,'UserType':0,'Workload':'AzureActiveDirectory'}";
    char rec[1536];
    snprintf(
        rec, sizeof rec,
        "{'id':'5d6e7f80-aaaa-bbbb-cccc-ddddeeeeffff','createdDateTime':'2021-01-13T16:07:40Z','auditLogRecordType':"
        "'azureActiveDirectory','operation':'Add service principal credentials.','organizationId':"
        "'11111111-2222-3333-4444-555555555555','userType':'regular','userId':'admin@contoso.com','service':"
        "'AzureActiveDirectory','objectId':'Not Available','userPrincipalName':'admin@contoso.com','clientIp':'',"
        "'administrativeUnits':[],'auditData':%s}",
        audit);
    assert_int_equal(fx_json(f, rec), AH_OK);
    fx_expect_format(&f->ev, "graph_audit_record", AH_SOURCE_UAL);
    fx_expect_time(&f->ev, "2021-01-13T16:07:40.0000000Z");
    const char *want[AH_F_COUNT] = {
        [AH_F_RECORD_ID] = "5d6e7f80-aaaa-bbbb-cccc-ddddeeeeffff",
        [AH_F_OPERATION] = "Add service principal credentials.",
        [AH_F_WORKLOAD] = "AzureActiveDirectory",
        [AH_F_RECORD_TYPE] = "8",
        [AH_F_USER] = "admin@contoso.com",
        [AH_F_TARGET] = "Not Available",
        [AH_F_TENANT_ID] = "11111111-2222-3333-4444-555555555555",
    };
    fx_expect(&f->ev, want);
    assert_int_equal(f->ev.result, AH_RESULT_UNKNOWN); /* no ResultStatus */
    fx_expect_body(f, audit);
    fx_expect_json(&f->ev);
    /* same Id as the AuditData line: one identity across shapes */
    uint64_t d[2] = {f->ev.digest[0], f->ev.digest[1]};
    assert_int_equal(fx_json(f, rec_2c), AH_OK);
    assert_true(fx_digest_eq(d, f->ev.digest));
    fx_free(f);
}

/* Sentinel OfficeActivity row (corpus otrf OfficeActivityEvents.json shape)
 * with JSON held in string columns. */
static void officeactivity_json(void **state)
{
    (void)state;
    fx *f = fx_new();
    assert_int_equal(
        fx_json(
            f,
            "{'TenantId':'00000000-0000-0000-0000-000000000000','RecordType':'15','TimeGenerated':'2021-08-02T13:29:25."
            "983Z',"
            "'Operation':'UserLoggedIn','OrganizationId':'00000000-0000-0000-0000-000000000000','UserType':'Regular',"
            "'OfficeWorkload':'AzureActiveDirectory','ResultStatus':'Success','UserId':'pgustavo@simulandlabs.com',"
            "'Client_IPAddress':'1.2.3.4:5555','OfficeId':'699e0b10-1c53-403e-976f-ce0847a92b44',"
            "'OfficeObjectId':'00000003-0000-0000-c000-000000000000','OfficeTenantId':'$RestApiTenantId$',"
            "'ExtendedProperties':'[{\\'Name\\':\\'UserAgent\\',\\'Value\\':\\'Mozilla/5.0 (Windows NT 10.0)\\'},"
            "{\\'Name\\':\\'RequestType\\',\\'Value\\':\\'OAuth2:Authorize\\'}]',"
            "'OperationProperties':'[{\\'Name\\':\\'MailAccessType\\',\\'Value\\':\\'Bind\\'}]',"
            "'ApplicationId':'1fec8e78-bce4-4aaf-ab1b-5451cc387264','Type':'OfficeActivity'}"),
        AH_OK);
    fx_expect_format(&f->ev, "officeactivity", AH_SOURCE_UAL);
    fx_expect_time(&f->ev, "2021-08-02T13:29:25.9830000Z");
    const char *want[AH_F_COUNT] = {
        [AH_F_RECORD_ID] = "699e0b10-1c53-403e-976f-ce0847a92b44",
        [AH_F_OPERATION] = "UserLoggedIn",
        [AH_F_WORKLOAD] = "AzureActiveDirectory",
        [AH_F_RECORD_TYPE] = "15",
        [AH_F_USER] = "pgustavo@simulandlabs.com",
        [AH_F_IP] = "1.2.3.4",
        [AH_F_USER_AGENT] = "Mozilla/5.0 (Windows NT 10.0)",
        [AH_F_APP_ID] = "1fec8e78-bce4-4aaf-ab1b-5451cc387264",
        [AH_F_TARGET] = "00000003-0000-0000-c000-000000000000",
        [AH_F_RESULT_CODE] = "Success",
        /* zero GUIDs and $RestApiTenantId$ are placeholders: the first one is kept */
        [AH_F_TENANT_ID] = "00000000-0000-0000-0000-000000000000",
    };
    fx_expect(&f->ev, want);
    assert_int_equal(f->ev.result, AH_RESULT_SUCCESS);
    assert_ptr_equal(f->ev.body.p, f->ev.raw.p);
    uint64_t d[2] = {f->ev.digest[0], f->ev.digest[1]};
    /* the same record through Defender's CloudAppEvents has the same identity */
    assert_int_equal(
        fx_json(f,
                "{'Timestamp':'2021-08-02T13:32:07Z','ActionType':'MailItemsAccessed','Application':'Microsoft "
                "Exchange Online',"
                "'IPAddress':'1.2.3.4','RawEventData':{'OrganizationId':'00000000-0000-0000-0000-000000000000',"
                "'CreationTime':'2021-08-02T13:32:07.0000000Z','RecordType':50,'Operation':'MailItemsAccessed',"
                "'Workload':'Exchange','UserId':'pgustavo@simulandlabs.com','ClientIPAddress':'1.2.3.4',"
                "'MailboxOwnerUPN':'pgustavo@simulandlabs.com','ResultStatus':'Succeeded','Id':'699E0B10-1C53-403E-"
                "976F-CE0847A92B44',"
                "'AppId':'00000003-0000-0000-c000-000000000000','ClientAppId':'5a95e683-08ad-424e-a441-1d1aec52c02c'},"
                "'ReportId':'106830890_20893'}"),
        AH_OK);
    fx_expect_format(&f->ev, "m365d_cloudappevents", AH_SOURCE_UAL);
    fx_expect_time(&f->ev, "2021-08-02T13:32:07.0000000Z");
    const char *want2[AH_F_COUNT] = {
        [AH_F_RECORD_ID] = "699E0B10-1C53-403E-976F-CE0847A92B44",
        [AH_F_OPERATION] = "MailItemsAccessed",
        [AH_F_WORKLOAD] = "Exchange",
        [AH_F_RECORD_TYPE] = "50",
        [AH_F_USER] = "pgustavo@simulandlabs.com",
        [AH_F_IP] = "1.2.3.4",
        [AH_F_APP_ID] = "00000003-0000-0000-c000-000000000000",
        [AH_F_TARGET] = "pgustavo@simulandlabs.com",
        [AH_F_RESULT_CODE] = "Succeeded",
        [AH_F_TENANT_ID] = "00000000-0000-0000-0000-000000000000",
    };
    fx_expect(&f->ev, want2);
    assert_true(fx_digest_eq(d, f->ev.digest)); /* ids compare case-insensitively */
    /* Defender rows without the UAL record are not UAL events */
    assert_int_equal(fx_json(f, "{'Timestamp':'2021-08-02T13:11:39Z','ActionType':'LdapSearch','DeviceName':'adfs01',"
                                "'IPAddress':'','RawEventData':null,'Application':''}"),
                     AH_ERR_RECORD);
    assert_string_equal(
        f->why,
        "unrecognised record shape (keys: Timestamp, ActionType, DeviceName, IPAddress, RawEventData, Application)");
    fx_free(f);
}

/* --- CSV -------------------------------------------------------------------------- */

static const char *const purview_header[] = {
    "RecordId", "CreationDate", "RecordType",           "Operation",
    "UserId",   "AuditData",    "AssociatedAdminUnits", "AssociatedAdminUnitsNames"};

static const char *const inbox_rule_audit =
    "{'CreationTime':'2021-01-13T16:05:22','Id':'0b6c1f5e-2a7d-4f0e-9c1a-5d2e8f3a9b10','Operation':'New-InboxRule',"
    "'OrganizationId':'11111111-2222-3333-4444-555555555555','RecordType':1,'ResultStatus':'True','UserKey':'"
    "1003BFFD9A0B1C2D',"
    "'UserType':2,'Version':1,'Workload':'Exchange','ClientIP':'203.0.113.7:51432','ObjectId':'jdoe\\\\..',"
    "'UserId':'jdoe@contoso.com','AppId':'00000002-0000-0ff1-ce00-000000000000','ClientAppId':'',"
    "'Parameters':[{'Name':'MoveToFolder','Value':'RSS Subscriptions'},{'Name':'SubjectOrBodyContainsWords',"
    "'Value':'invoice;payment;wire'}],'SessionId':'6c2f7777'}";

static void purview_csv(void **state)
{
    (void)state;
    fx *f = fx_new_opts(AH_DATE_ORDER_AUTO, 0, "Audit_2021.csv");
    const ah_format *fmt = fx_bind(f, purview_header, AH_ARRAY_LEN(purview_header));
    assert_non_null(fmt);
    assert_string_equal(fmt->name, "purview_csv");
    const char *row[] = {"0b6c1f5e-2a7d-4f0e-9c1a-5d2e8f3a9b10",
                         "1/13/2021 4:05:22 PM",
                         "1",
                         "New-InboxRule",
                         "jdoe@contoso.com",
                         inbox_rule_audit,
                         "",
                         ""};
    assert_int_equal(fx_row(f, row, AH_ARRAY_LEN(row)), AH_OK);
    fx_expect_format(&f->ev, "purview_csv", AH_SOURCE_UAL);
    fx_expect_time(&f->ev, "2021-01-13T16:05:22.0000000Z");
    const char *want[AH_F_COUNT] = {
        [AH_F_RECORD_ID] = "0b6c1f5e-2a7d-4f0e-9c1a-5d2e8f3a9b10",
        [AH_F_OPERATION] = "New-InboxRule",
        [AH_F_WORKLOAD] = "Exchange",
        [AH_F_RECORD_TYPE] = "1",
        [AH_F_USER] = "jdoe@contoso.com",
        [AH_F_IP] = "203.0.113.7",
        [AH_F_APP_ID] = "00000002-0000-0ff1-ce00-000000000000",
        [AH_F_TARGET] = "jdoe\\..",
        [AH_F_RESULT_CODE] = "True",
        [AH_F_SESSION_ID] = "6c2f7777",
        [AH_F_TENANT_ID] = "11111111-2222-3333-4444-555555555555",
    };
    fx_expect(&f->ev, want);
    assert_int_equal(f->ev.result, AH_RESULT_SUCCESS);
    assert_int_equal(f->ev.record_no, 5);
    assert_int_equal(f->ev.line_no, 6);
    fx_expect_body(f, inbox_rule_audit);
    char raw[2048];
    snprintf(
        raw, sizeof raw,
        "{'RecordId':'0b6c1f5e-2a7d-4f0e-9c1a-5d2e8f3a9b10','CreationDate':'1/13/2021 4:05:22 PM','RecordType':'1',"
        "'Operation':'New-InboxRule','UserId':'jdoe@contoso.com','AuditData':%s,'AssociatedAdminUnits':'',"
        "'AssociatedAdminUnitsNames':''}",
        inbox_rule_audit);
    fx_assert_span("raw", f->ev.raw, fx_q(f, raw));
    fx_expect_json(&f->ev);
    /* same record as the cmdlet JSON: same identity */
    uint64_t d[2] = {f->ev.digest[0], f->ev.digest[1]};
    fx *g = fx_new();
    char rec[2048];
    snprintf(rec, sizeof rec,
             "{'CreationDate':'x','UserIds':'jdoe@contoso.com','Operations':'New-InboxRule','AuditData':%s}",
             inbox_rule_audit);
    assert_int_equal(fx_json(g, rec), AH_OK);
    assert_true(fx_digest_eq(d, g->ev.digest));
    fx_free(g);

    /* AuditData without CreationTime: the US-formatted CreationDate, not ambiguous (13 > 12) */
    const char *row2[] = {"aa11",        "1/13/2021 4:05:22 PM",
                          "8",           "Add user.",
                          "Certificate", "{'Id':'aa11','Operation':'Add user.','RecordType':8}",
                          ",",           ""};
    assert_int_equal(fx_row(f, row2, AH_ARRAY_LEN(row2)), AH_OK);
    fx_expect_time(&f->ev, "2021-01-13T16:05:22.0000000Z");
    assert_int_equal(ah_normalizer_stats(f->n)->ambiguous_dates, 0);

    /* Excel truncated the cell: the record is rejected, not half-read */
    const char *row3[] = {"aa12", "1/13/2021 4:05:22 PM", "8", "Add user.", "x", "{'Id':'aa12','Operation':'Add us", "",
                          ""};
    assert_int_equal(fx_row(f, row3, AH_ARRAY_LEN(row3)), AH_ERR_RECORD);
    assert_string_equal(f->why, "AuditData cell is not a JSON object (truncated?)");
    const char *row4[] = {"aa13", "1/13/2021 4:05:22 PM", "8", "Add user.", "x", "  ", "", ""};
    assert_int_equal(fx_row(f, row4, AH_ARRAY_LEN(row4)), AH_ERR_RECORD);
    assert_string_equal(f->why, "AuditData cell is empty");
    fx_free(f);
}

/* Search-UnifiedAuditLog | Export-Csv with a leading RunspaceId, rows with
 * an extra and with missing trailing columns. */
static void ual_cmdlet_csv(void **state)
{
    (void)state;
    fx *f = fx_new();
    const char *hdr[] = {"RunspaceId",  "RecordType",  "CreationDate", "UserIds", "Operations", "AuditData",
                         "ResultIndex", "ResultCount", "Identity",     "IsValid", "ObjectState"};
    const ah_format *fmt = fx_bind(f, hdr, AH_ARRAY_LEN(hdr));
    assert_non_null(fmt);
    assert_string_equal(fmt->name, "ual_cmdlet_csv");
    const char *audit =
        "{'CreationTime':'2021-01-13T16:05:22','Id':'3f1b2c3d-1111-2222-3333-444455556666','Operation':'UserLoggedIn',"
        "'OrganizationId':'11111111-2222-3333-4444-555555555555','RecordType':15,'ResultStatus':'Success',"
        "'Workload':'AzureActiveDirectory','ClientIP':'198.51.100.23','ObjectId':'00000002-0000-0ff1-ce00-000000000000'"
        ","
        "'UserId':'jdoe@contoso.com','ExtendedProperties':[{'Name':'ResultStatusDetail','Value':'Success'},"
        "{'Name':'UserAgent','Value':'Mozilla/5.0 (Windows NT 10.0; Win64; x64)'}],'InterSystemsId':'9e8d7c6b-1',"
        "'ApplicationId':'1fec8e78-bce4-4aaf-ab1b-5451cc387264','DeviceProperties':[{'Name':'OS','Value':'Windows 10'},"
        "{'Name':'SessionId','Value':'0a1b2c3d'}],'ErrorNumber':'0'}";
    const char *row[] = {"d1e2",
                         "AzureActiveDirectoryStsLogon",
                         "1/13/2021 4:05:22 PM",
                         "jdoe@contoso.com",
                         "UserLoggedIn",
                         audit,
                         "1",
                         "212",
                         "3f1b2c3d-1111-2222-3333-444455556666",
                         "True",
                         "Unchanged",
                         "surplus"};
    assert_int_equal(fx_row(f, row, AH_ARRAY_LEN(row)), AH_OK);
    fx_expect_format(&f->ev, "ual_cmdlet_csv", AH_SOURCE_UAL);
    fx_expect_time(&f->ev, "2021-01-13T16:05:22.0000000Z");
    const char *want[AH_F_COUNT] = {
        [AH_F_RECORD_ID] = "3f1b2c3d-1111-2222-3333-444455556666",
        [AH_F_OPERATION] = "UserLoggedIn",
        [AH_F_WORKLOAD] = "AzureActiveDirectory",
        [AH_F_RECORD_TYPE] = "15",
        [AH_F_USER] = "jdoe@contoso.com",
        [AH_F_IP] = "198.51.100.23",
        [AH_F_USER_AGENT] = "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
        [AH_F_APP_ID] = "1fec8e78-bce4-4aaf-ab1b-5451cc387264",
        [AH_F_TARGET] = "00000002-0000-0ff1-ce00-000000000000",
        [AH_F_RESULT_CODE] = "0",
        [AH_F_SESSION_ID] = "0a1b2c3d",
        [AH_F_CORRELATION_ID] = "9e8d7c6b-1",
        [AH_F_TENANT_ID] = "11111111-2222-3333-4444-555555555555",
    };
    fx_expect(&f->ev, want);
    assert_int_equal(f->ev.result, AH_RESULT_SUCCESS);
    fx_expect_json(&f->ev);
    const char *tail = fx_q(f, ",'ObjectState':'Unchanged','Column12':'surplus'}");
    assert_true(f->ev.raw.n > strlen(tail));
    assert_memory_equal(f->ev.raw.p + f->ev.raw.n - strlen(tail), tail, strlen(tail));

    /* a row cut short after AuditData still normalizes */
    const char *row2[] = {
        "d1e2",
        "AzureActiveDirectoryStsLogon",
        "1/13/2021 4:05:22 PM",
        "jdoe@contoso.com",
        "UserLoginFailed",
        ("{'CreationTime':'2021-01-13T16:06:00','Id':'e1','Operation':'UserLoginFailed','RecordType':15,"
         "'ResultStatus':'Success','ErrorNumber':'50126','ActorIpAddress':'198.51.100.24'}")};
    assert_int_equal(fx_row(f, row2, AH_ARRAY_LEN(row2)), AH_OK);
    const char *want2[AH_F_COUNT] = {
        [AH_F_RECORD_ID] = "e1",          [AH_F_OPERATION] = "UserLoginFailed", [AH_F_RECORD_TYPE] = "15",
        [AH_F_USER] = "jdoe@contoso.com", [AH_F_IP] = "198.51.100.24",          [AH_F_RESULT_CODE] = "50126",
    };
    fx_expect(&f->ev, want2);
    assert_int_equal(f->ev.result, AH_RESULT_FAILURE);
    fx_expect_json(&f->ev);
    fx_free(f);
}

static void purview_csv_classic(void **state)
{
    (void)state;
    fx *f = fx_new();
    const char *hdr[] = {"CreationDate", "UserIds", "Operations", "AuditData"};
    const ah_format *fmt = fx_bind(f, hdr, 4);
    assert_non_null(fmt);
    assert_string_equal(fmt->name, "purview_csv_classic");
    const char *row[] = {"2021-01-13T16:07:40.0000000Z", "admin@contoso.com", "Add service principal credentials.",
                         rec_2c};
    assert_int_equal(fx_row(f, row, 4), AH_OK);
    fx_expect_format(&f->ev, "purview_csv_classic", AH_SOURCE_UAL);
    fx_expect_time(&f->ev, "2021-01-13T16:07:40.0000000Z");
    fx_expect(&f->ev, want_2c);
    assert_int_equal(f->ev.result, AH_RESULT_SUCCESS);
    fx_expect_body(f, rec_2c);
    fx_expect_json(&f->ev);
    /* 2b: the MS doc recipe's Select CreationDate,UserIds,RecordType,AuditData */
    const char *hdr2[] = {"CreationDate", "UserIds", "RecordType", "AuditData"};
    fmt = fx_bind(f, hdr2, 4);
    assert_non_null(fmt);
    assert_string_equal(fmt->name, "purview_csv_classic");
    const char *row2[] = {"1/13/2021 4:07:40 PM", "admin@contoso.com", "AzureActiveDirectory", rec_2c};
    assert_int_equal(fx_row(f, row2, 4), AH_OK);
    assert_true(fx_span_is(f->ev.field[AH_F_RECORD_TYPE], "8"));
    assert_true(fx_span_is(f->ev.field[AH_F_OPERATION], "Add service principal credentials."));
    fx_free(f);
}

/* Sparrow-style flattened AuditData with nested arrays as compact JSON cells. */
static void ual_flat_csv(void **state)
{
    (void)state;
    fx *f = fx_new();
    const char *hdr[] = {"CreationTime",       "Id",           "Operation",      "OrganizationId",
                         "RecordType",         "ResultStatus", "UserKey",        "UserType",
                         "Workload",           "ClientIP",     "ObjectId",       "UserId",
                         "ExtendedProperties", "Actor",        "ActorIpAddress", "InterSystemsId"};
    const ah_format *fmt = fx_bind(f, hdr, AH_ARRAY_LEN(hdr));
    assert_non_null(fmt);
    assert_string_equal(fmt->name, "ual_flat_csv");
    const char *row[] = {"2021-01-13T16:07:40",
                         "5d6e7f80-aaaa",
                         "Update application.",
                         "1111",
                         "8",
                         "Success",
                         "k",
                         "0",
                         "AzureActiveDirectory",
                         "",
                         "app-object",
                         "admin@contoso.com",
                         "[{'Name':'UserAgent','Value':'Mozilla/5.0 (Sparrow)'}]",
                         "[{'ID':'admin@contoso.com','Type':5}]",
                         "203.0.113.9",
                         "corr-1"};
    assert_int_equal(fx_row(f, row, AH_ARRAY_LEN(row)), AH_OK);
    fx_expect_format(&f->ev, "ual_flat_csv", AH_SOURCE_UAL);
    fx_expect_time(&f->ev, "2021-01-13T16:07:40.0000000Z");
    const char *want[AH_F_COUNT] = {
        [AH_F_RECORD_ID] = "5d6e7f80-aaaa",
        [AH_F_OPERATION] = "Update application.",
        [AH_F_WORKLOAD] = "AzureActiveDirectory",
        [AH_F_RECORD_TYPE] = "8",
        [AH_F_USER] = "admin@contoso.com",
        [AH_F_IP] = "203.0.113.9",
        [AH_F_USER_AGENT] = "Mozilla/5.0 (Sparrow)",
        [AH_F_TARGET] = "app-object",
        [AH_F_RESULT_CODE] = "Success",
        [AH_F_CORRELATION_ID] = "corr-1",
        [AH_F_TENANT_ID] = "1111",
    };
    fx_expect(&f->ev, want);
    /* body is the row object, JSON cells embedded as JSON */
    assert_ptr_equal(f->ev.body.p, f->ev.raw.p);
    assert_non_null(strstr(f->ev.raw.p, "\"ExtendedProperties\":[{\"Name\":\"UserAgent\""));
    fx_expect_json(&f->ev);
    fx_free(f);
}

/* Extractor-Suite Get-UALGraph CSV. */
static void graph_audit_csv(void **state)
{
    (void)state;
    fx *f = fx_new();
    const char *hdr[] = {
        "id",      "createdDateTime", "auditLogRecordType", "operation", "organizationId",      "userType", "userId",
        "service", "objectId",        "userPrincipalName",  "clientIp",  "administrativeUnits", "auditData"};
    const ah_format *fmt = fx_bind(f, hdr, AH_ARRAY_LEN(hdr));
    assert_non_null(fmt);
    assert_string_equal(fmt->name, "graph_audit_csv");
    const char *row[] = {"g-1",
                         "2021-01-13T16:07:40Z",
                         "exchangeAdmin",
                         "Set-Mailbox",
                         "t-1",
                         "regular",
                         "u@contoso.com",
                         "Exchange",
                         "mbx",
                         "u@contoso.com",
                         "198.51.100.1",
                         "",
                         "{'RecordType':1,'Operation':'Set-Mailbox','ResultStatus':'True'}"};
    assert_int_equal(fx_row(f, row, AH_ARRAY_LEN(row)), AH_OK);
    fx_expect_format(&f->ev, "graph_audit_csv", AH_SOURCE_UAL);
    fx_expect_time(&f->ev, "2021-01-13T16:07:40.0000000Z");
    const char *want[AH_F_COUNT] = {
        [AH_F_RECORD_ID] = "g-1", [AH_F_OPERATION] = "Set-Mailbox", [AH_F_WORKLOAD] = "Exchange",
        [AH_F_RECORD_TYPE] = "1", [AH_F_USER] = "u@contoso.com",    [AH_F_IP] = "198.51.100.1",
        [AH_F_TARGET] = "mbx",    [AH_F_RESULT_CODE] = "True",      [AH_F_TENANT_ID] = "t-1",
    };
    fx_expect(&f->ev, want);
    fx_expect_body(f, "{'RecordType':1,'Operation':'Set-Mailbox','ResultStatus':'True'}");
    fx_free(f);
}

static void officeactivity_csv(void **state)
{
    (void)state;
    fx *f = fx_new();
    const char *hdr[] = {"TenantId", "TimeGenerated",    "OfficeId",     "OfficeWorkload", "Operation", "RecordType",
                         "UserId",   "Client_IPAddress", "ResultStatus", "OrganizationId", "Parameters"};
    const ah_format *fmt = fx_bind(f, hdr, AH_ARRAY_LEN(hdr));
    assert_non_null(fmt);
    assert_string_equal(fmt->name, "officeactivity_csv");
    const char *row[] = {"t-9",
                         "2021-08-02T13:32:07Z",
                         "o-1",
                         "Exchange",
                         "New-InboxRule",
                         "1",
                         "u@contoso.com",
                         "[::1]:80",
                         "True",
                         "org-1",
                         "[{'Name':'ForwardTo','Value':'x@evil.example'}]"};
    assert_int_equal(fx_row(f, row, AH_ARRAY_LEN(row)), AH_OK);
    fx_expect_format(&f->ev, "officeactivity_csv", AH_SOURCE_UAL);
    fx_expect_time(&f->ev, "2021-08-02T13:32:07.0000000Z");
    const char *want[AH_F_COUNT] = {
        [AH_F_RECORD_ID] = "o-1",    [AH_F_OPERATION] = "New-InboxRule", [AH_F_WORKLOAD] = "Exchange",
        [AH_F_RECORD_TYPE] = "1",    [AH_F_USER] = "u@contoso.com",      [AH_F_IP] = "::1",
        [AH_F_RESULT_CODE] = "True", [AH_F_TENANT_ID] = "org-1",
    };
    fx_expect(&f->ev, want);
    assert_non_null(strstr(f->ev.raw.p, "\"Parameters\":[{\"Name\":\"ForwardTo\""));
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ual_json_auditdata_line),
        cmocka_unit_test(ual_json_mail_items_accessed),
        cmocka_unit_test(ual_json_set_mailbox),
        cmocka_unit_test(ual_json_lowercase_keys),
        cmocka_unit_test(ual_ip_forms),
        cmocka_unit_test(ual_result_rules),
        cmocka_unit_test(ual_json_wazuh_wrapper),
        cmocka_unit_test(ual_json_wazuh_non_record_rejected),
        cmocka_unit_test(ual_json_elastic_wrapper),
        cmocka_unit_test(ual_cmdlet_json_object),
        cmocka_unit_test(ual_cmdlet_json_string_and_creationdate),
        cmocka_unit_test(graph_audit_record),
        cmocka_unit_test(officeactivity_json),
        cmocka_unit_test(purview_csv),
        cmocka_unit_test(ual_cmdlet_csv),
        cmocka_unit_test(purview_csv_classic),
        cmocka_unit_test(ual_flat_csv),
        cmocka_unit_test(graph_audit_csv),
        cmocka_unit_test(officeactivity_csv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
