/*
 * test_formats_core.c: what every format shares: the registry, rejection
 * reasons (invalid JSON, not an object, unknown shapes and headers), the
 * dedup digest rules, scratch limits, hostile input and per-stream state.
 */
#include "support/records.h"

static void registry(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        ah_source_kind source;
        ah_framing framing;
    } known[] = {
        {"purview_csv", AH_SOURCE_UAL, AH_FRAMING_CSV},
        {"ual_cmdlet_csv", AH_SOURCE_UAL, AH_FRAMING_CSV},
        {"purview_csv_classic", AH_SOURCE_UAL, AH_FRAMING_CSV},
        {"graph_audit_csv", AH_SOURCE_UAL, AH_FRAMING_CSV},
        {"ual_flat_csv", AH_SOURCE_UAL, AH_FRAMING_CSV},
        {"officeactivity_csv", AH_SOURCE_UAL, AH_FRAMING_CSV},
        {"signin_portal_csv", AH_SOURCE_SIGNIN, AH_FRAMING_CSV},
        {"entra_audit_portal_csv", AH_SOURCE_ENTRA_AUDIT, AH_FRAMING_CSV},
        {"ual_cmdlet_json", AH_SOURCE_UAL, AH_FRAMING_JSON},
        {"graph_audit_record", AH_SOURCE_UAL, AH_FRAMING_JSON},
        {"m365d_cloudappevents", AH_SOURCE_UAL, AH_FRAMING_JSON},
        {"officeactivity", AH_SOURCE_UAL, AH_FRAMING_JSON},
        {"ual_json", AH_SOURCE_UAL, AH_FRAMING_JSON},
        {"signin_azure_monitor", AH_SOURCE_SIGNIN, AH_FRAMING_JSON},
        {"entra_audit_azure_monitor", AH_SOURCE_ENTRA_AUDIT, AH_FRAMING_JSON},
        {"entra_audit_log_analytics", AH_SOURCE_ENTRA_AUDIT, AH_FRAMING_JSON},
        {"signin_log_analytics", AH_SOURCE_SIGNIN, AH_FRAMING_JSON},
        {"entra_audit_graph", AH_SOURCE_ENTRA_AUDIT, AH_FRAMING_JSON},
        {"signin_graph", AH_SOURCE_SIGNIN, AH_FRAMING_JSON},
    };
    assert_int_equal(ah_format_count(), AH_ARRAY_LEN(known));
    for (size_t i = 0; i < AH_ARRAY_LEN(known); i++) {
        const ah_format *f = ah_format_at(i);
        assert_non_null(f);
        assert_string_equal(f->name, known[i].name);
        assert_int_equal(f->source, known[i].source);
        assert_int_equal(f->framing, known[i].framing);
        assert_true(strlen(f->description) > 20);
        assert_ptr_equal(ah_format_by_name(known[i].name), f);
    }
    assert_null(ah_format_at(AH_ARRAY_LEN(known)));
    assert_null(ah_format_by_name("nope"));
    assert_null(ah_format_by_name(NULL));
    ah_normalizer_free(NULL);
    ah_normalizer *n = ah_normalizer_new(NULL); /* defaults */
    assert_non_null(n);
    assert_int_equal(ah_normalizer_stats(n)->no_time, 0);
    ah_normalizer_free(n);
}

static void invalid_json_reasons(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *why;
    } cases[] = {
        {"{\"a\":1,}", "invalid JSON: trailing comma at byte 7"},
        {"{\"a\":[1,2,]}", "invalid JSON: trailing comma at byte 10"},
        {"{\"a\":", "invalid JSON: unexpected end of input at byte 5"},
        {"{\"a\":\"abc", "invalid JSON: unterminated string at byte 9"},
        {"{\"a\" 1}", "invalid JSON: expected ':' after a key at byte 5"},
        {"{\"a\":tru}", "invalid JSON: invalid literal at byte 5"},
        {"{\"a\":01}", "invalid JSON: invalid number at byte 5"},
        {"{\"a\":\"x\\q\"}", "invalid JSON: invalid escape in string at byte 7"},
        {"{\"a\":\"x\\u12g4\"}", "invalid JSON: invalid \\u escape in string at byte 7"},
        {"{\"a\":\"x\ty\"}", "invalid JSON: control character in string at byte 7"},
        {"{\"a\":1}}", "invalid JSON: unexpected data after the value at byte 7"},
        {"{\"a\":1 \"b\":2}", "invalid JSON: expected ',' or '}' at byte 7"},
        {"{a:1}", "invalid JSON: expected a string key at byte 1"},
        {"{\"a\":[1 2]}", "invalid JSON: expected ',' or ']' at byte 8"},
        {"{\"a\":@}", "invalid JSON: unexpected character at byte 5"},
        {"[1,", "invalid JSON: unexpected end of input at byte 3"},
        {"[1,2]", "record is not a JSON object"},
        {"\"text\"", "record is not a JSON object"},
        {"42", "record is not a JSON object"},
        {"null", "record is not a JSON object"},
        {"  \r\n", "empty record"},
        {"", "empty record"},
    };
    fx *f = fx_new();
    for (size_t i = 0; i < AH_ARRAY_LEN(cases); i++) {
        assert_int_equal(fx_json_raw(f, cases[i].text, strlen(cases[i].text)), AH_ERR_RECORD);
        assert_non_null(f->why);
        if (strcmp(f->why, cases[i].why) != 0) {
            print_error("%s: want '%s' got '%s'\n", cases[i].text, cases[i].why, f->why);
            fail();
        }
        assert_null(f->ev.format);
    }
    /* nesting beyond the scanner's limit */
    char deep[700];
    size_t k = 0;
    k += (size_t)snprintf(deep, sizeof deep, "{\"a\":");
    for (int i = 0; i < 300; i++)
        deep[k++] = '[';
    deep[k] = '\0';
    assert_int_equal(fx_json_raw(f, deep, k), AH_ERR_RECORD);
    assert_string_equal(f->why, "invalid JSON: nesting deeper than 256 levels at byte 260");
    /* the record number and line are set even for a rejected record */
    assert_int_equal(f->ev.record_no, 1);
    assert_int_equal(f->ev.line_no, 1);
    /* NULL why is allowed */
    ah_json_record rec = {ah_span_cstr("[]"), 1, 1, NULL};
    assert_int_equal(ah_normalize_json(f->n, &rec, &f->ev, NULL), AH_ERR_RECORD);
    fx_free(f);
}

static void unrecognised_shapes(void **state)
{
    (void)state;
    fx *f = fx_new();
    assert_int_equal(fx_json(f, "{'a':1,'b':{'c':2}}"), AH_ERR_RECORD);
    assert_string_equal(f->why, "unrecognised record shape (keys: a, b)");
    assert_int_equal(fx_json(f, "{}"), AH_ERR_RECORD);
    assert_string_equal(f->why, "unrecognised record shape (keys: )");
    assert_int_equal(fx_json(f, "{'k1':1,'k2':2,'k3':3,'k4':4,'k5':5,'k6':6,'k7':7}"), AH_ERR_RECORD);
    assert_string_equal(f->why, "unrecognised record shape (keys: k1, k2, k3, k4, k5, k6, ...)");
    /* keys are shown as written, control characters masked, long keys cut */
    assert_int_equal(fx_json(f, "{'x\\ny':1,'0123456789012345678901234567890123456789':2}"), AH_ERR_RECORD);
    assert_string_equal(f->why, "unrecognised record shape (keys: x\\ny, 01234567890123456789012345678901)");
    /* plaso's Defender for Cloud Apps activity log: an adjacent shape */
    assert_int_equal(
        fx_json(
            f,
            "{'Event ID':'1','Category':'x','Description':'ListViewed','User':'u','Date':'2023-10-25 17:44:53 UTC'}"),
        AH_ERR_RECORD);
    assert_string_equal(f->why, "unrecognised record shape (keys: Event ID, Category, Description, User, Date)");
    fx_free(f);
}

static void csv_binding_errors(void **state)
{
    (void)state;
    fx *f = fx_new();
    /* rows before any header */
    const char *cells[] = {"a"};
    assert_int_equal(fx_row(f, cells, 1), AH_ERR_RECORD);
    assert_string_equal(f->why, "CSV header not bound to a format");
    const char *plaso[] = {("\xEF\xBB\xBF"
                            "Event ID"),
                           "Category",
                           "Description",
                           "User",
                           "User Principle Name",
                           "App",
                           "Device",
                           "Location",
                           "Date",
                           "IP address",
                           "User agent",
                           "Organizations"};
    assert_null(fx_bind(f, plaso, AH_ARRAY_LEN(plaso)));
    assert_string_equal(
        f->bind_why,
        "unrecognised CSV header: Event ID,Category,Description,User,User Principle Name,App,Device,Location,...");
    assert_int_equal(fx_row(f, cells, 1), AH_ERR_RECORD);
    assert_string_equal(f->why, "CSV header not bound to a format");
    assert_null(ah_normalizer_bind_csv(f->n, f->hdr, 0, f->bind_why, sizeof f->bind_why));
    assert_string_equal(f->bind_why, "empty CSV header");
    /* a small why buffer truncates, never overflows */
    char tiny[12];
    assert_null(ah_normalizer_bind_csv(f->n, f->hdr, 3, tiny, sizeof tiny));
    assert_string_equal(tiny, "unrecognise");
    /* a localised (Italian) sign-in header is not guessed at */
    const char *italian[] = {"Data (UTC)",  "ID richiesta", "Agente utente", "Utente",
                             "Nome utente", "Indirizzo IP", "Stato"};
    assert_null(fx_bind(f, italian, AH_ARRAY_LEN(italian)));
    /* binding again replaces the previous binding */
    const char *classic[] = {"CreationDate", "UserIds", "Operations", "AuditData"};
    assert_non_null(fx_bind(f, classic, 4));
    const char *row[] = {"2021-01-13T16:05:22.0000000Z", "u", "Op",
                         "{'CreationTime':'2021-01-13T16:05:22','Id':'i1','Operation':'Op'}"};
    assert_int_equal(fx_row(f, row, 4), AH_OK);
    /* the scanner frees its header array right after binding: nothing may point into it */
    ah_span *heap_hdr = malloc(4 * sizeof *heap_hdr);
    assert_non_null(heap_hdr);
    for (size_t i = 0; i < 4; i++)
        heap_hdr[i] = ah_span_cstr(classic[i]);
    assert_non_null(ah_normalizer_bind_csv(f->n, heap_hdr, 4, f->bind_why, sizeof f->bind_why));
    free(heap_hdr);
    assert_int_equal(fx_row(f, row, 4), AH_OK);
    assert_non_null(strstr(f->ev.raw.p, "{\"CreationDate\":\"2021-01-13T16:05:22.0000000Z\",\"UserIds\":\"u\","));
    ah_normalizer_begin(f->n, &f->origin); /* a new stream forgets the header */
    assert_int_equal(fx_row(f, row, 4), AH_ERR_RECORD);
    fx_free(f);
}

/* Placeholder ids are not identities; the content is hashed instead. */
static void digest_rules(void **state)
{
    (void)state;
    fx *f = fx_new();
    static const char *const ids[] = {
        "sanitized", "Not Available", "null", "<null>", "n/a",
        "None",      "UNKNOWN",       "-",    " ",      "00000000-0000-0000-0000-000000000000"};
    uint64_t first[2] = {0, 0};
    for (size_t i = 0; i < AH_ARRAY_LEN(ids); i++) {
        char a[256], b[256];
        snprintf(a, sizeof a, "{'CreationTime':'2020-03-19T16:48:02','Id':'%s','Operation':'X','UserId':'a@b'}",
                 ids[i]);
        snprintf(b, sizeof b, "{'CreationTime':'2020-03-19T16:48:02','Id':'%s','Operation':'X','UserId':'c@d'}",
                 ids[i]);
        assert_int_equal(fx_json(f, a), AH_OK);
        uint64_t da[2] = {f->ev.digest[0], f->ev.digest[1]};
        assert_int_equal(fx_json(f, b), AH_OK);
        assert_false(fx_digest_eq(da, f->ev.digest)); /* different content, different identity */
        assert_int_equal(fx_json(f, a), AH_OK);
        assert_true(fx_digest_eq(da, f->ev.digest));
        if (i == 0)
            memcpy(first, da, sizeof first);
        else
            assert_false(fx_digest_eq(first, da)); /* the id text is part of the content */
    }
    /* a real id: the id alone decides */
    assert_int_equal(fx_json(f, "{'CreationTime':'2020-03-19T16:48:02','Id':'ABC-1','Operation':'X','UserId':'a@b'}"),
                     AH_OK);
    uint64_t id1[2] = {f->ev.digest[0], f->ev.digest[1]};
    assert_int_equal(fx_json(f, "{'Operation':'Other','Id':'abc-1','CreationTime':'2021-01-01T00:00:00'}"), AH_OK);
    assert_true(fx_digest_eq(id1, f->ev.digest));
    /* pretty and compact copies of an id-less record dedup; key order does not (documented) */
    const char *compact = "{'CreationTime':'2020-03-19T16:48:02','Id':'sanitized','Operation':'X','Parameters':[{'Name'"
                          ":'a b','Value':' c '}]}";
    const char *pretty = "{\n  'CreationTime' : '2020-03-19T16:48:02',\r\n  'Id': 'sanitized',\n\t'Operation': 'X',\n"
                         "  'Parameters': [ { 'Name': 'a b', 'Value': ' c ' } ]\n}\n";
    const char *reordered = "{'Id':'sanitized','CreationTime':'2020-03-19T16:48:02','Operation':'X','Parameters':[{'"
                            "Name':'a b','Value':' c '}]}";
    const char *inner_space = "{'CreationTime':'2020-03-19T16:48:02','Id':'sanitized','Operation':'X','Parameters':[{'"
                              "Name':'a  b','Value':' c '}]}";
    assert_int_equal(fx_json(f, compact), AH_OK);
    uint64_t dc[2] = {f->ev.digest[0], f->ev.digest[1]};
    assert_int_equal(fx_json(f, pretty), AH_OK);
    assert_true(fx_digest_eq(dc, f->ev.digest));
    assert_int_equal(fx_json(f, reordered), AH_OK);
    assert_false(fx_digest_eq(dc, f->ev.digest));
    assert_int_equal(fx_json(f, inner_space), AH_OK); /* whitespace inside strings is content */
    assert_false(fx_digest_eq(dc, f->ev.digest));
    /* placeholder record_id is still reported as written */
    assert_int_equal(fx_json(f, compact), AH_OK);
    assert_true(fx_span_is(f->ev.field[AH_F_RECORD_ID], "sanitized"));
    /* a better candidate wins over a placeholder: cmdlet Identity behind a sanitized AuditData Id */
    assert_int_equal(fx_json(f, "{'CreationDate':'x','UserIds':'u','Operations':'o','Identity':'real-id',"
                                "'AuditData':{'CreationTime':'2020-03-19T16:48:02','Id':'sanitized','Operation':'o'}}"),
                     AH_OK);
    assert_true(fx_span_is(f->ev.field[AH_F_RECORD_ID], "real-id"));

    /* CSV rows without an id: all cells */
    const char *flat[] = {"CreationTime", "Operation", "Workload", "UserId"};
    assert_non_null(fx_bind(f, flat, 4));
    const char *r1[] = {"2020-03-19T16:48:02", "X", "Exchange", "a@b"};
    const char *r2[] = {"2020-03-19T16:48:02", "X", "Exchange", "c@d"};
    assert_int_equal(fx_row(f, r1, 4), AH_OK);
    uint64_t c1[2] = {f->ev.digest[0], f->ev.digest[1]};
    assert_int_equal(fx_row(f, r2, 4), AH_OK);
    assert_false(fx_digest_eq(c1, f->ev.digest));
    assert_int_equal(fx_row(f, r1, 4), AH_OK);
    assert_true(fx_digest_eq(c1, f->ev.digest));
    /* cells are separated: ("ab","c") is not ("a","bc") */
    const char *s1[] = {"2020-03-19T16:48:02", "X", "ab", "c"};
    const char *s2[] = {"2020-03-19T16:48:02", "X", "a", "bc"};
    assert_int_equal(fx_row(f, s1, 4), AH_OK);
    uint64_t e1[2] = {f->ev.digest[0], f->ev.digest[1]};
    assert_int_equal(fx_row(f, s2, 4), AH_OK);
    assert_false(fx_digest_eq(e1, f->ev.digest));
    fx_free(f);
}

/* Keys with escapes, Name/Value selectors over odd arrays, nested strings. */
static void lookups(void **state)
{
    (void)state;
    fx *f = fx_new();
    assert_int_equal(
        fx_json(f,
                "{'CreationTime':'2020-03-19T16:48:02','Oper\\u0061tion':'Escaped key','Id':'e1',"
                "'ExtendedProperties':[1,'x',null,{'Name':'Other','Value':'no'},{'name':'useragent','value':'UA 1'}],"
                "'DeviceProperties':[{'Name':'SessionId','Value':42}],"
                "'UserId':'caf\\u00e9\\ud83d\\ude00'}"),
        AH_OK);
    assert_true(fx_span_is(f->ev.field[AH_F_OPERATION], "Escaped key"));
    assert_true(fx_span_is(f->ev.field[AH_F_USER_AGENT], "UA 1"));
    assert_true(fx_span_is(f->ev.field[AH_F_SESSION_ID], "42"));
    assert_true(fx_span_is(f->ev.field[AH_F_USER], "caf\xC3\xA9\xF0\x9F\x98\x80"));
    /* ExtendedProperties as a parameter string (corpus o365_test-parameter-string.json) falls through */
    assert_int_equal(
        fx_json(f, "{'CreationTime':'2020-03-19T16:48:02','Id':'e2','Operation':'UserLoggedIn','RecordType':'15',"
                   "'ExtendedProperties':'-Name \\'foo\\' -Force \\'True\\'','ClientInfoString':'Client=OWA'}"),
        AH_OK);
    assert_true(fx_span_is(f->ev.field[AH_F_USER_AGENT], "Client=OWA"));
    /* JSON in a string in a Value in a string: three layers */
    assert_int_equal(
        fx_json(f,
                "{'CreationTime':'2020-03-19T16:48:02','Id':'e3','Operation':'Consent to application.',"
                "'ExtendedProperties':'[{\\'Name\\':\\'additionalDetails\\',\\'Value\\':\\'{\\\\\\'User-Agent\\\\\\':"
                "\\\\\\'Deep/1.0\\\\\\',\\\\\\'AppId\\\\\\':\\\\\\'app-deep\\\\\\'}\\'}]'}"),
        AH_OK);
    assert_true(fx_span_is(f->ev.field[AH_F_USER_AGENT], "Deep/1.0"));
    assert_true(fx_span_is(f->ev.field[AH_F_APP_ID], "app-deep"));
    /* values that are objects or arrays are not field text */
    assert_int_equal(
        fx_json(f,
                "{'CreationTime':'2020-03-19T16:48:02','Id':'e4','Operation':{'x':1},'UserId':['a'],'Workload':true}"),
        AH_OK);
    assert_null(f->ev.field[AH_F_OPERATION].p);
    assert_null(f->ev.field[AH_F_USER].p);
    assert_true(fx_span_is(f->ev.field[AH_F_WORKLOAD], "true"));
    assert_null(f->ev.operation_canon.p);
    fx_free(f);
}

static void time_counters(void **state)
{
    (void)state;
    fx *f = fx_new();
    assert_int_equal(fx_json(f, "{'CreationTime':'yesterday','Id':'t1','Operation':'X'}"), AH_OK);
    fx_expect_time(&f->ev, NULL);
    assert_int_equal(fx_json(f, "{'CreationTime':null,'Id':'t2','Operation':'X','RecordType':1}"), AH_ERR_RECORD);
    assert_int_equal(fx_json(f, "{'CreationTime':'2021-01-13T16:07:40+02:00','Id':'t3','Operation':'X'}"), AH_OK);
    fx_expect_time(&f->ev, "2021-01-13T14:07:40.0000000Z");
    const ah_norm_stats *s = ah_normalizer_stats(f->n);
    assert_int_equal(s->no_time, 1);
    assert_int_equal(s->ambiguous_dates, 0);
    assert_int_equal(s->unknown_zone, 0);
    /* a bad first candidate falls through to the next: envelope time */
    assert_int_equal(
        fx_json(f, "{'time':'2019-10-18T15:30:51Z','category':'AuditLogs','properties':{'activityDateTime':'garbage',"
                   "'activityDisplayName':'Update device'}}"),
        AH_OK);
    fx_expect_time(&f->ev, "2019-10-18T15:30:51.0000000Z");
    /* stats are per stream */
    ah_normalizer_begin(f->n, &f->origin);
    assert_int_equal(ah_normalizer_stats(f->n)->no_time, 0);
    fx_free(f);
}

/* Attacker-sized and attacker-shaped input fails cleanly or is escaped. */
static void hostile_input(void **state)
{
    (void)state;
    /* max_record 1: scratch limits are 8 x 1 + 64 KiB for the row object */
    fx *f = fx_new_opts(AH_DATE_ORDER_AUTO, 1, NULL);
    const char *flat[] = {"CreationTime", "Operation", "Id", "UserId"};
    assert_non_null(fx_bind(f, flat, 4));
    size_t big = 70000;
    char *huge = malloc(big + 1);
    assert_non_null(huge);
    memset(huge, 'A', big);
    huge[big] = '\0';
    const char *row[] = {"2020-01-01T00:00:00", "X", "i", huge};
    assert_int_equal(fx_row(f, row, 4), AH_ERR_RECORD);
    assert_string_equal(f->why, "record too large");
    /* control characters, quotes, invalid UTF-8: the row object stays valid JSON */
    const char *nasty[] = {"2020-01-01T00:00:00", "=cmd|' /C calc'!A0", "id\x01\"\\", "bad\xff\xfeutf8\n"};
    assert_int_equal(fx_row(f, nasty, 4), AH_OK);
    fx_expect_json(&f->ev);
    assert_non_null(strstr(f->ev.raw.p, "\"Id\":\"id\\u0001\\\"\\\\\""));
    assert_non_null(strstr(f->ev.raw.p, "\"UserId\":\"bad\xEF\xBF\xBD\xEF\xBF\xBDutf8\\n\""));
    free(huge);
    fx_free(f);

    /* a header with 300000 columns, mostly one repeated name: binding stays linear */
    f = fx_new();
    size_t ncols = 300000;
    ah_span *wide_hdr = malloc(ncols * sizeof *wide_hdr);
    assert_non_null(wide_hdr);
    static const char *const lead[] = {"CreationTime", "Operation", "Id", "Dup", "Dup", "Dup"};
    for (size_t i = 0; i < ncols; i++)
        wide_hdr[i] = ah_span_cstr(i < AH_ARRAY_LEN(lead) ? lead[i] : "x");
    assert_non_null(ah_normalizer_bind_csv(f->n, wide_hdr, ncols, f->bind_why, sizeof f->bind_why));
    const char *dup_row[] = {"2020-01-01T00:00:00", "X", "dup-1", "a", "b", "c", "d"};
    assert_int_equal(fx_row(f, dup_row, 7), AH_OK);
    fx_assert_span("raw", f->ev.raw,
                   fx_q(f, "{'CreationTime':'2020-01-01T00:00:00','Operation':'X','Id':'dup-1','Dup':'a','Dup (2)':'b',"
                           "'Dup (3)':'c','x':'d'}"));
    for (size_t i = 0; i < ncols; i++)
        wide_hdr[i] = ah_span_cstr("y");
    assert_null(ah_normalizer_bind_csv(f->n, wide_hdr, ncols, f->bind_why, sizeof f->bind_why));
    assert_string_equal(f->bind_why, "unrecognised CSV header: y,y,y,y,y,y,y,y,...");
    free(wide_hdr);
    fx_free(f);

    /* a very wide record and a long string value */
    f = fx_new();
    size_t cap = 400000, k = 0;
    char *wide = malloc(cap);
    assert_non_null(wide);
    k += (size_t)snprintf(wide + k, cap - k, "{\"CreationTime\":\"2020-01-01T00:00:00\",\"Id\":\"w\",\"Operation\":\"");
    for (int i = 0; i < 100000; i++)
        wide[k++] = 'o';
    k += (size_t)snprintf(wide + k, cap - k, "\"");
    for (int i = 0; i < 10000; i++)
        k += (size_t)snprintf(wide + k, cap - k, ",\"k%d\":%d", i, i);
    k += (size_t)snprintf(wide + k, cap - k, "}");
    assert_int_equal(fx_json_raw(f, wide, k), AH_OK);
    assert_int_equal(f->ev.field[AH_F_OPERATION].n, 100000);
    assert_int_equal(f->ev.operation_canon.n, 100000);
    free(wide);
    fx_free(f);
}

/* The normalizer reuses its buffers: many records, alternating shapes. */
static void many_records(void **state)
{
    (void)state;
    fx *f = fx_new();
    for (int i = 0; i < 2000; i++) {
        char rec[512];
        if (i % 3 == 0)
            snprintf(rec, sizeof rec,
                     "{'CreationTime':'2020-01-01T00:00:%02d','Id':'id-%d','Operation':'Op\\u00e9%d',"
                     "'ExtendedProperties':'[{\\'Name\\':\\'UserAgent\\',\\'Value\\':\\'ua-%d\\'}]'}",
                     i % 60, i, i, i);
        else if (i % 3 == 1)
            snprintf(rec, sizeof rec,
                     "{'time':'2020-01-01T00:00:00Z','category':'SignInLogs','properties':{'id':'s-%d',"
                     "'userPrincipalName':'u%d@x','status':{'errorCode':%d}}}",
                     i, i, i % 2);
        else
            snprintf(rec, sizeof rec,
                     "{'id':'a-%d','activityDisplayName':'Add user','activityDateTime':'2020-01-01T00:00:00Z',"
                     "'initiatedBy':'{\\'user\\':{\\'userPrincipalName\\':\\'adm%d@x\\'}}'}",
                     i, i);
        assert_int_equal(fx_json(f, rec), AH_OK);
        char want[64];
        if (i % 3 == 0) {
            snprintf(want, sizeof want, "ua-%d", i);
            assert_true(fx_span_is(f->ev.field[AH_F_USER_AGENT], want));
            snprintf(want, sizeof want, "Op\xC3\xA9%d", i);
            assert_true(fx_span_is(f->ev.field[AH_F_OPERATION], want));
        } else if (i % 3 == 1) {
            assert_int_equal(f->ev.result, (i % 2) ? AH_RESULT_FAILURE : AH_RESULT_SUCCESS);
        } else {
            snprintf(want, sizeof want, "adm%d@x", i);
            assert_true(fx_span_is(f->ev.field[AH_F_USER], want));
        }
        /* free the converted text as we go; the event no longer needs it */
        free(f->owned[--f->nowned]);
    }
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(registry),
        cmocka_unit_test(invalid_json_reasons),
        cmocka_unit_test(unrecognised_shapes),
        cmocka_unit_test(csv_binding_errors),
        cmocka_unit_test(digest_rules),
        cmocka_unit_test(lookups),
        cmocka_unit_test(time_counters),
        cmocka_unit_test(hostile_input),
        cmocka_unit_test(many_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
