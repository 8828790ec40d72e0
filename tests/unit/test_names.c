/* Tests for analyzer/engine/names.c: names learned from the sample tenant's
 * sign-ins (Graph JSON, portal CSV), directory audits (Graph JSON, portal
 * CSV) and UAL records; the shipped reference lists (load cleanly, agree
 * with the rule lists, win over names in the data); history (a rename with
 * lookups before, between and after; a name taken back; more names than
 * kept; input order); the lookalike flag; --directory exports (Graph JSON,
 * portal CSV); the memory budget; hostile list lines reported with file and
 * line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/audithound.h"
#include "analyzer/engine/names.h"
#include "support/tmpdir.h"

/* --- helpers --------------------------------------------------------------------- */

typedef struct diag_log {
    int errors, warnings;
    char text[4096]; /* "path:line: message\n" per report */
} diag_log;

static void log_diag(void *ud, ah_severity sev, const ah_where *w, const char *msg)
{
    diag_log *l = ud;
    if (sev == AH_SEV_ERROR)
        l->errors++;
    else if (sev == AH_SEV_WARNING)
        l->warnings++;
    size_t k = strlen(l->text);
    snprintf(l->text + k, sizeof l->text - k, "%s:%llu: %s\n", w && w->path ? w->path : "",
             (unsigned long long)(w ? w->line_no : 0), msg);
}

static ah_time at(int64_t sec) { return (ah_time){sec, 0}; }

/* The name of id at t (or without time when t.sec < 0), "" when unknown. */
static const char *name_of(const ah_names *n, const char *id, ah_time t, unsigned *flags)
{
    static char buf[512]; /* tests are single-threaded */
    ah_name_hit h;
    if (flags)
        *flags = 0;
    if (!ah_names_lookup(n, ah_span_cstr(id), t.sec >= 0, t, &h))
        return "";
    snprintf(buf, sizeof buf, "%.*s", (int)h.name.n, h.name.p);
    if (flags)
        *flags = h.flags;
    return buf;
}

static ah_name_kind kind_of(const ah_names *n, const char *id)
{
    ah_name_hit h;
    return ah_names_lookup(n, ah_span_cstr(id), false, at(0), &h) ? h.kind : AH_NAME_KIND_UNKNOWN;
}

/* Learn every event of the given inputs. */
static size_t learn_files(ah_names *n, const char *const *paths, size_t npaths)
{
    ah_session_options o;
    ah_session_options_init(&o);
    ah_session *s = ah_session_new(&o);
    assert_non_null(s);
    for (size_t i = 0; i < npaths; i++)
        assert_int_equal(ah_session_add_input(s, paths[i]), AH_OK);
    const ah_event *ev;
    size_t k = 0;
    while (ah_session_next(s, &ev) == AH_OK) {
        ah_names_learn(n, ev);
        k++;
    }
    ah_session_free(s);
    return k;
}

static ah_names *with_lists(size_t budget)
{
    ah_names *n = ah_names_new(budget);
    assert_non_null(n);
    diag_log l = {0};
    ah_diag d = {.fn = log_diag, .ud = &l};
    assert_int_equal(ah_names_load_lists(n, "rules/lists", &d), AH_OK);
    assert_int_equal(l.errors + l.warnings, 0);
    return n;
}

/* A synthetic event of `source` with body (JSON) and optional app id/name fields. */
typedef struct fake {
    ah_event ev;
    char *body;
} fake;

static void fake_event(fake *f, ah_source_kind source, int64_t sec, const char *app_id, const char *app,
                       const char *body)
{
    memset(f, 0, sizeof *f);
    f->ev.source = source;
    f->ev.has_time = true;
    f->ev.time = at(sec);
    if (app_id)
        f->ev.field[AH_F_APP_ID] = ah_span_cstr(app_id);
    if (app)
        f->ev.field[AH_F_APP] = ah_span_cstr(app);
    f->body = strdup(body);
    assert_non_null(f->body);
    for (char *p = f->body; *p; p++) /* bodies are written with ' for " */
        if (*p == '\'')
            *p = '"';
    f->ev.body = f->ev.raw = ah_span_cstr(f->body);
}

/* One sign-in of application id named name at sec. */
static void learn_signin(ah_names *n, const char *id, const char *name, int64_t sec)
{
    char body[512];
    snprintf(body, sizeof body, "{'appId':'%s','appDisplayName':'%s','createdDateTime':'x'}", id, name);
    fake f;
    fake_event(&f, AH_SOURCE_SIGNIN, sec, id, name, body);
    ah_names_learn(n, &f.ev);
    free(f.body);
}

static void append_rename(void *ud, const ah_name_rename *r)
{
    char *out = ud;
    size_t k = strlen(out);
    snprintf(out + k, 2048 - k, "%s %.*s -> %.*s @%lld%s\n", r->id, (int)r->old_name.n, r->old_name.p,
             (int)r->new_name.n, r->new_name.p, (long long)r->at.sec,
             (r->flags & AH_NAME_LOOKALIKE) ? " lookalike" : "");
}

/* --- learned from the sample tenant ---------------------------------------------------- */

static void test_signins_graph_json(void **state)
{
    (void)state;
    ah_names *n = ah_names_new(0);
    const char *in[] = {"samples/tenant/ApplicationSignIns_2021-01-10_2021-01-17.json",
                        "samples/tenant/signins-graph-page.json"};
    assert_true(learn_files(n, in, 2) > 0);
    /* appId/appDisplayName and servicePrincipalId/servicePrincipalName of a service principal sign-in */
    assert_string_equal(name_of(n, "e79f1579-db86-4475-8741-eb6f312c4ff4", at(-1), NULL), "Contoso MailSync");
    assert_int_equal(kind_of(n, "e79f1579-db86-4475-8741-eb6f312c4ff4"), AH_NAME_KIND_APPLICATION);
    assert_string_equal(name_of(n, "864A3A1E-4CCC-460A-ADFE-8167E544A35A", at(-1), NULL), "Contoso MailSync");
    assert_int_equal(kind_of(n, "864a3a1e-4ccc-460a-adfe-8167e544a35a"), AH_NAME_KIND_SERVICE_PRINCIPAL);
    /* resourceId -> resourceDisplayName; user ids are left to directory records (rows show UPNs) */
    assert_string_equal(name_of(n, "2fe46b93-8bbe-49bd-b0cd-b960e47eac4a", at(-1), NULL), "");
    assert_string_equal(name_of(n, "00000002-0000-0ff1-ce00-000000000000", at(-1), NULL), "Office 365 Exchange Online");
    /* Log Analytics spelling: ResourceId is an Azure path, the resource's app id is ResourceIdentity */
    fake f;
    fake_event(
        &f, AH_SOURCE_SIGNIN, 1000, NULL, NULL,
        "{'TenantId':'x','ResourceId':'/tenants/cae660e6-b456-4b35-b35f-12f2ad07a0a4/providers/Microsoft.aadiam',"
        "'ResourceDisplayName':'Contoso Billing API','ResourceIdentity':'8f0e6a3c-1b2d-4e5f-9a8b-7c6d5e4f3a2b'}");
    ah_names_learn(n, &f.ev);
    char id[37];
    assert_true(ah_names_target_id(&f.ev, id));
    assert_string_equal(id, "8f0e6a3c-1b2d-4e5f-9a8b-7c6d5e4f3a2b");
    free(f.body);
    assert_string_equal(name_of(n, "8F0E6A3C-1B2D-4E5F-9A8B-7C6D5E4F3A2B", at(-1), NULL), "Contoso Billing API");
    /* not a GUID, unknown GUID */
    assert_string_equal(name_of(n, "Contoso MailSync", at(-1), NULL), "");
    assert_string_equal(name_of(n, "12345678-1234-4234-8234-123456789abc", at(-1), NULL), "");
    ah_names_free(n);
}

static void test_signins_portal_csv(void **state)
{
    (void)state;
    ah_names *n = ah_names_new(0);
    const char *in[] = {"samples/tenant/InteractiveSignIns_2021-01-10_2021-01-17.csv"};
    assert_true(learn_files(n, in, 1) > 0);
    assert_string_equal(name_of(n, "00000002-0000-0000-c000-000000000000", at(-1), NULL),
                        "Windows Azure Active Directory");
    assert_string_equal(name_of(n, "4765445b-32c6-49b0-83e6-1d93765276ca", at(-1), NULL), "OfficeHome");
    assert_string_equal(name_of(n, "c44b4083-3bb0-49c1-b47d-974e53cbdf3c", at(-1), NULL), "Azure Portal");
    ah_names_free(n);
}

static void test_directory_audits(void **state)
{
    (void)state;
    const char *inputs[][1] = {{"samples/tenant/directoryAudits.json"}, {"samples/tenant/AuditLogs-portal.csv"}};
    for (size_t i = 0; i < 2; i++) {
        ah_names *n = ah_names_new(0);
        assert_true(learn_files(n, inputs[i], 1) > 0);
        /* targetResources: a service principal, its application id from TargetId.ServicePrincipalNames */
        assert_string_equal(name_of(n, "864a3a1e-4ccc-460a-adfe-8167e544a35a", at(-1), NULL), "Contoso MailSync");
        assert_string_equal(name_of(n, "e79f1579-db86-4475-8741-eb6f312c4ff4", at(-1), NULL), "Contoso MailSync");
        /* the application object; a user target by UPN; the initiator */
        assert_string_equal(name_of(n, "4ebaa17b-4a59-4c34-8745-833c752d9dad", at(-1), NULL), "Contoso MailSync");
        assert_int_equal(kind_of(n, "4ebaa17b-4a59-4c34-8745-833c752d9dad"), AH_NAME_KIND_APP_OBJECT);
        assert_string_equal(name_of(n, "795046fc-4e1d-4790-b0c3-1c641247a692", at(-1), NULL),
                            "it-admin@contoso.onmicrosoft.com");
        assert_string_equal(name_of(n, "a0b87caa-f122-498e-b7ca-58e09f67f4d2", at(-1), NULL), "lee.gu@contoso.com");
        /* modified properties: the app role assigned and the tenant's Exchange service principal */
        assert_string_equal(name_of(n, "dc890d15-9560-4a4c-9b7f-a736ec74ec40", at(-1), NULL), "full_access_as_app");
        assert_int_equal(kind_of(n, "dc890d15-9560-4a4c-9b7f-a736ec74ec40"), AH_NAME_KIND_PERMISSION);
        unsigned flags;
        assert_string_equal(name_of(n, "05c8520b-3a8b-49ef-8843-73bf1ee0d2d6", at(-1), &flags),
                            "Office 365 Exchange Online");
        assert_false(flags & AH_NAME_LOOKALIKE); /* no first-party list loaded: its app id is unknown */
        ah_names_free(n);
    }
}

static void test_ual_directory_records(void **state)
{
    (void)state;
    ah_names *n = with_lists(0);
    const char *in[] = {"samples/tenant/purview-audit-2021-01.csv"};
    assert_true(learn_files(n, in, 1) > 0);
    /* Target: ServicePrincipal_<id>, its name (type 1) and application id (type 4) */
    assert_string_equal(name_of(n, "864a3a1e-4ccc-460a-adfe-8167e544a35a", at(-1), NULL), "Contoso MailSync");
    assert_string_equal(name_of(n, "e79f1579-db86-4475-8741-eb6f312c4ff4", at(-1), NULL), "Contoso MailSync");
    assert_string_equal(name_of(n, "cadd0f3e-7d97-4579-861d-32c6930ef139", at(-1), NULL), "Contoso Expenses");
    assert_string_equal(name_of(n, "c2224f58-a6e0-4ec9-991d-5d38e4558d7a", at(-1), NULL), "Contoso Intranet");
    /* Actor: User_<id> with the UPN (type 5) before it */
    assert_string_equal(name_of(n, "2fe46b93-8bbe-49bd-b0cd-b960e47eac4a", at(-1), NULL), "adele.vance@contoso.com");
    /* the tenant's service principal of Microsoft Graph is linked to the first-party app: no flag */
    unsigned flags;
    assert_string_equal(name_of(n, "bfc299e6-5abc-44a2-b480-6e4828148b5b", at(-1), &flags), "Microsoft Graph");
    assert_int_equal(flags & (AH_NAME_LOOKALIKE | AH_NAME_REFERENCE), 0);
    /* the app role from ModifiedProperties: the shipped list's name wins */
    assert_string_equal(name_of(n, "810c84a8-4a9e-49e6-bf7d-12d183f40d01", at(-1), &flags), "Mail.Read (application)");
    assert_true(flags & AH_NAME_REFERENCE);
    ah_names_free(n);
}

/* The whole tenant, in two input orders: same answers, same (empty) rename list. */
static void test_tenant_order_independent(void **state)
{
    (void)state;
    const char *fwd[] = {"samples/tenant/directoryAudits.json", "samples/tenant/UAL-2021-01.jsonl",
                         "samples/tenant/purview-audit-2021-01.csv", "samples/tenant/AuditLogs-portal.csv",
                         "samples/tenant/ApplicationSignIns_2021-01-10_2021-01-17.json"};
    const char *rev[] = {fwd[4], fwd[3], fwd[2], fwd[1], fwd[0]};
    ah_names *a = with_lists(0), *b = with_lists(0);
    learn_files(a, fwd, 5);
    learn_files(b, rev, 5);
    const char *ids[] = {"864a3a1e-4ccc-460a-adfe-8167e544a35a", "e79f1579-db86-4475-8741-eb6f312c4ff4",
                         "5344064b-4880-4ac4-b216-d9dd08283b9d", "007fcb05-3012-435e-ad35-4c1948c2e668",
                         "55560d50-ee9e-4ed4-8dbc-bf5e87c91479"};
    for (size_t i = 0; i < sizeof ids / sizeof *ids; i++) {
        char x[512];
        unsigned fa, fb;
        snprintf(x, sizeof x, "%s", name_of(a, ids[i], at(1610500000), &fa));
        assert_true(x[0] != '\0');
        assert_string_equal(x, name_of(b, ids[i], at(1610500000), &fb));
        assert_int_equal(fa, fb);
    }
    ah_names_stats sa = ah_names_get_stats(a), sb = ah_names_get_stats(b);
    assert_int_equal(sa.ids, sb.ids);
    assert_int_equal(sa.names, sb.names);
    size_t ca = 1, cb = 1;
    assert_int_equal(ah_names_renames(a, NULL, NULL, &ca), AH_OK);
    assert_int_equal(ah_names_renames(b, NULL, NULL, &cb), AH_OK);
    assert_int_equal(ca, 0);
    assert_int_equal(cb, 0);
    ah_names_free(a);
    ah_names_free(b);
}

/* target_id: for every event of the tenant that names its object by id, the
 * name found for that id (at the event's time) is the normalized target,
 * or names it where the target is the id itself. */
static void test_target_ids(void **state)
{
    (void)state;
    ah_names *n = with_lists(0);
    const char *in[] = {"samples/tenant"};
    learn_files(n, in, 1);
    ah_session_options o;
    ah_session_options_init(&o);
    ah_session *s = ah_session_new(&o);
    assert_non_null(s);
    assert_int_equal(ah_session_add_input(s, "samples/tenant"), AH_OK);
    const ah_event *ev;
    int with_id = 0, same = 0, named_guid = 0, by_source[AH_SOURCE_COUNT] = {0};
    while (ah_session_next(s, &ev) == AH_OK) {
        char id[37], canon[37];
        if (!ah_names_target_id(ev, id))
            continue;
        with_id++;
        by_source[ev->source]++;
        assert_true(ah_names_canon_id(ah_span_cstr(id), canon));
        assert_string_equal(id, canon);
        ah_name_hit h;
        assert_true(ah_names_lookup(n, ah_span_cstr(id), ev->has_time, ev->time, &h));
        ah_span target = ev->field[AH_F_TARGET];
        bool target_is_id = ah_names_canon_id(target, canon) ||
                            (target.n > 37 && ah_names_canon_id(ah_span_make(target.p + target.n - 36, 36), canon));
        if (target_is_id) {
            named_guid++;
            continue;
        }
        if (h.name.n != target.n || memcmp(h.name.p, target.p, target.n) != 0) {
            fprintf(stderr, "%s: target '%.*s', name of %s '%.*s'\n", ah_source_name(ev->source), (int)target.n,
                    target.p, id, (int)h.name.n, h.name.p);
            fail();
        }
        same++;
    }
    ah_session_free(s);
    assert_true(by_source[AH_SOURCE_SIGNIN] > 0 && by_source[AH_SOURCE_ENTRA_AUDIT] > 0 &&
                by_source[AH_SOURCE_UAL] > 0);
    assert_true(same >= 40);
    assert_true(named_guid >= 20); /* UAL logons: ObjectId is the resource's app id */
    assert_int_equal(same + named_guid, with_id);
    /* an event that names no object by id */
    fake f;
    fake_event(&f, AH_SOURCE_UAL, 1000, NULL, NULL, "{'Operation':'New-InboxRule','ObjectId':'pradeep.gupta\\\\ '}");
    char id[37];
    assert_false(ah_names_target_id(&f.ev, id));
    free(f.body);
    ah_names_free(n);
}

/* Learning the tenant in two parts (every other event) and merging answers
 * as learning it whole. */
static void test_merge(void **state)
{
    (void)state;
    ah_names *whole = with_lists(0), *part[2] = {with_lists(0), ah_names_new(0)};
    ah_session_options o;
    ah_session_options_init(&o);
    ah_session *s = ah_session_new(&o);
    assert_non_null(s);
    assert_int_equal(ah_session_add_input(s, "samples/tenant"), AH_OK);
    const ah_event *ev;
    size_t k = 0;
    while (ah_session_next(s, &ev) == AH_OK) {
        ah_names_learn(whole, ev);
        ah_names_learn(part[k++ % 2], ev);
    }
    ah_session_free(s);
    const char *names[3] = {"Alpha", "Beta", "Alpha"}; /* renamed and back, split over the parts */
    for (int i = 0; i < 3; i++) {
        learn_signin(whole, "77777777-0000-4000-8000-000000000001", names[i], 100 * (i + 1));
        learn_signin(part[i % 2], "77777777-0000-4000-8000-000000000001", names[i], 100 * (i + 1));
    }
    assert_int_equal(ah_names_merge(part[1], part[0]), AH_OK);
    ah_names_stats a = ah_names_get_stats(whole), b = ah_names_get_stats(part[1]);
    assert_int_equal(a.ids, b.ids);
    assert_int_equal(a.names, b.names);
    assert_int_equal(a.reference_ids, b.reference_ids);
    char ra[2048] = "", rb[2048] = "";
    ah_names_renames(whole, append_rename, ra, NULL);
    ah_names_renames(part[1], append_rename, rb, NULL);
    assert_string_equal(ra, rb);
    assert_true(strlen(ra) > 0);
    const char *ids[] = {"864a3a1e-4ccc-460a-adfe-8167e544a35a", "00000003-0000-0000-c000-000000000000",
                         "2fe46b93-8bbe-49bd-b0cd-b960e47eac4a", "77777777-0000-4000-8000-000000000001"};
    const int64_t times[] = {-1, 50, 150, 250, 350, 1610500000};
    for (size_t i = 0; i < sizeof ids / sizeof *ids; i++)
        for (size_t t = 0; t < sizeof times / sizeof *times; t++) {
            unsigned fa, fb;
            char x[512];
            snprintf(x, sizeof x, "%s", name_of(whole, ids[i], at(times[t]), &fa));
            assert_string_equal(x, name_of(part[1], ids[i], at(times[t]), &fb));
            assert_int_equal(fa, fb);
        }
    ah_names_free(whole);
    ah_names_free(part[0]);
    ah_names_free(part[1]);
}

/* --- reference lists --------------------------------------------------------------------- */

/* Every GUID of a rule list resolves as a reference name of kind k. */
static void check_rule_list(const ah_names *n, const char *path, ah_name_kind k)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[512];
    int seen = 0;
    while (fgets(line, sizeof line, f)) {
        char canon[37];
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        if (!ah_names_canon_id(ah_span_cstr(line), canon))
            continue;
        ah_name_hit h;
        if (!ah_names_lookup(n, ah_span_cstr(canon), false, at(0), &h) || !(h.flags & AH_NAME_REFERENCE) ||
            h.kind != k) {
            fprintf(stderr, "%s: %s not a reference %s\n", path, canon, ah_name_kind_name(k));
            fail();
        }
        seen++;
    }
    fclose(f);
    assert_true(seen > 0);
}

static void test_shipped_lists(void **state)
{
    (void)state;
    ah_names *n = with_lists(0);
    ah_names_stats s = ah_names_get_stats(n);
    assert_true(s.reference_ids > 2000);
    assert_int_equal(s.reference_ids, s.ids);
    assert_true(s.bytes < 1024 * 1024);
    check_rule_list(n, "rules/lists/microsoft-first-party-app-ids.txt", AH_NAME_KIND_APPLICATION);
    check_rule_list(n, "rules/lists/microsoft-resource-app-ids.txt", AH_NAME_KIND_APPLICATION);
    check_rule_list(n, "rules/lists/powershell-client-app-ids.txt", AH_NAME_KIND_APPLICATION);
    check_rule_list(n, "rules/lists/app-role-ids-control.txt", AH_NAME_KIND_PERMISSION);
    check_rule_list(n, "rules/lists/app-role-ids-data-theft.txt", AH_NAME_KIND_PERMISSION);
    check_rule_list(n, "rules/lists/app-role-ids-mail.txt", AH_NAME_KIND_PERMISSION);
    check_rule_list(n, "rules/lists/directory-roles-critical.txt", AH_NAME_KIND_ROLE);
    assert_string_equal(name_of(n, "62E90394-69F5-4237-9190-012177145E10", at(-1), NULL), "Global Administrator");
    assert_string_equal(name_of(n, "  {00000003-0000-0000-c000-000000000000} ", at(-1), NULL), "Microsoft Graph");
    ah_names_free(n);
}

/* A name in the data never replaces a first-party name, even later. */
static void test_first_party_wins(void **state)
{
    (void)state;
    ah_names *n = with_lists(0);
    learn_signin(n, "00000003-0000-0000-c000-000000000000", "Totally Legit Graph", 1000);
    learn_signin(n, "1fec8e78-bce4-4aaf-ab1b-5451cc387264", "Teams Updater", 2000);
    unsigned flags;
    assert_string_equal(name_of(n, "00000003-0000-0000-c000-000000000000", at(1500), &flags), "Microsoft Graph");
    assert_int_equal(flags, AH_NAME_REFERENCE);
    assert_string_equal(name_of(n, "1fec8e78-bce4-4aaf-ab1b-5451cc387264", at(2500), &flags), "Microsoft Teams");
    assert_int_equal(flags, AH_NAME_REFERENCE);
    size_t c = 1;
    ah_names_renames(n, NULL, NULL, &c);
    assert_int_equal(c, 0);
    ah_names_free(n);
}

static void test_hostile_list_lines(void **state)
{
    ah_test_tmpdir *t = *state;
    FILE *f = fopen(t->path, "wb");
    assert_non_null(f);
    fputs("# a user list\n", f);                                                   /* 1 */
    fputs("# kind: user\n", f);                                                    /* 2 */
    fputs("2fe46b93-8bbe-49bd-b0cd-b960e47eac4a  # adele.vance@contoso.com\n", f); /* 3 ok */
    fputs("not-a-guid  # x\n", f);                                                 /* 4 bad id */
    fputs("a0b87caa-f122-498e-b7ca-58e09f67f4d2  # Lee\x01\x1b[31mGu\n", f);       /* 5 control characters */
    fputs("# kind: wizard\n", f);                                                  /* 6 unknown kind */
    fputs("55560d50-ee9e-4ed4-8dbc-bf5e87c91479\n", f);                            /* 7 no name */
    for (int i = 0; i < 5000; i++)                                                 /* 8 too long */
        fputc('a', f);
    fputc('\n', f);
    fputs("82224990-1a5e-45a7-9cdd-2ba1710d8b16\talex.wilber@contoso.com\r\n", f); /* 9 ok (tab form, CRLF) */
    fputs("795046fc-4e1d-4790-b0c3-1c641247a692  # \xff\xfe bad utf-8\n", f);      /* 10 */
    fputs("0b1c2d3e-0000-4000-8000-00000000abcd  # n/a", f);                       /* 11 placeholder, no newline */
    fclose(f);
    ah_names *n = ah_names_new(0);
    diag_log l = {0};
    ah_diag d = {.fn = log_diag, .ud = &l};
    assert_int_equal(ah_names_load_list(n, t->path, &d), AH_ERR_SYNTAX);
    assert_int_equal(l.errors, 7);
    const int bad_lines[] = {4, 5, 6, 7, 8, 10, 11};
    for (size_t i = 0; i < sizeof bad_lines / sizeof *bad_lines; i++) {
        char want[256];
        snprintf(want, sizeof want, "%s:%d: ", t->path, bad_lines[i]);
        if (!strstr(l.text, want)) {
            fprintf(stderr, "missing %s in:\n%s", want, l.text);
            fail();
        }
    }
    assert_null(strstr(l.text, "\x1b")); /* hostile bytes are quoted, not echoed */
    assert_non_null(strstr(l.text, "\\x1b"));
    unsigned flags;
    assert_string_equal(name_of(n, "2FE46B93-8bbe-49bd-b0cd-b960e47eac4a", at(-1), &flags), "adele.vance@contoso.com");
    assert_int_equal(flags, AH_NAME_REFERENCE);
    assert_int_equal(kind_of(n, "2fe46b93-8bbe-49bd-b0cd-b960e47eac4a"), AH_NAME_KIND_USER);
    assert_string_equal(name_of(n, "82224990-1a5e-45a7-9cdd-2ba1710d8b16", at(-1), NULL), "alex.wilber@contoso.com");
    assert_string_equal(name_of(n, "a0b87caa-f122-498e-b7ca-58e09f67f4d2", at(-1), NULL), "");
    /* a missing file is an error with its path */
    l = (diag_log){0};
    assert_int_equal(ah_names_load_list(n, "tests/data/names/absent.txt", &d), AH_ERR_IO);
    assert_int_equal(l.errors, 1);
    assert_int_equal(ah_names_load_lists(n, "tests/data/names/absent-dir", &d), AH_ERR_IO);
    ah_names_free(n);
}

/* --- history ------------------------------------------------------------------------------- */

static void test_rename_history(void **state)
{
    (void)state;
    const char *id = "c0ffee00-1234-4678-9abc-def012345678";
    ah_names *n = ah_names_new(0);
    learn_signin(n, id, "MailSync", 1000);
    learn_signin(n, id, "MailSync", 1500);
    learn_signin(n, id, "Microsoft Outlook Sync", 2000); /* renamed to blend in */
    learn_signin(n, id, "Microsoft Outlook Sync", 2500);
    unsigned flags;
    assert_string_equal(name_of(n, id, at(500), &flags), "MailSync"); /* before any sighting: the earliest */
    assert_true(flags & AH_NAME_RENAMED);
    assert_false(flags & AH_NAME_LOOKALIKE);
    assert_string_equal(name_of(n, id, at(1000), NULL), "MailSync");
    assert_string_equal(name_of(n, id, at(1999), NULL), "MailSync");
    assert_string_equal(name_of(n, id, at(2000), &flags), "Microsoft Outlook Sync");
    assert_true(flags & AH_NAME_LOOKALIKE);
    assert_string_equal(name_of(n, id, at(9999), NULL), "Microsoft Outlook Sync");
    assert_string_equal(name_of(n, id, at(-1), NULL), "Microsoft Outlook Sync"); /* no time: the latest */
    /* ... and renamed back */
    learn_signin(n, id, "MailSync", 3000);
    assert_string_equal(name_of(n, id, at(2200), NULL), "Microsoft Outlook Sync");
    assert_string_equal(name_of(n, id, at(3000), NULL), "MailSync");
    assert_string_equal(name_of(n, id, at(-1), NULL), "MailSync");
    char out[2048] = "";
    size_t c;
    assert_int_equal(ah_names_renames(n, append_rename, out, &c), AH_OK);
    assert_int_equal(c, 1);
    assert_string_equal(out,
                        "c0ffee00-1234-4678-9abc-def012345678 MailSync -> Microsoft Outlook Sync @2000 lookalike\n");
    ah_names_free(n);
}

/* The same sightings in any order give the same answers and renames. */
static void test_history_order_independent(void **state)
{
    (void)state;
    static const struct {
        const char *id, *name;
        int64_t sec;
    } s[] = {
        {"11111111-0000-4000-8000-000000000001", "Alpha", 100}, {"11111111-0000-4000-8000-000000000001", "Beta", 300},
        {"11111111-0000-4000-8000-000000000001", "Alpha", 200}, {"11111111-0000-4000-8000-000000000002", "Gamma", 300},
        {"11111111-0000-4000-8000-000000000002", "Delta", 100}, {"11111111-0000-4000-8000-000000000001", "Gamma", 300},
    };
    enum { N = sizeof s / sizeof *s };
    char first[2048] = "";
    for (int order = 0; order < 3; order++) {
        ah_names *n = ah_names_new(0);
        for (int i = 0; i < N; i++) {
            int j = order == 0 ? i : order == 1 ? N - 1 - i : (i * 5) % N;
            learn_signin(n, s[j].id, s[j].name, s[j].sec);
        }
        char out[2048] = "";
        ah_names_renames(n, append_rename, out, NULL);
        const ah_time probes[3] = {at(250), at(300), at(50)};
        const char *probe_ids[3] = {s[0].id, s[0].id, s[3].id};
        for (int p = 0; p < 3; p++) {
            if (p)
                strncat(out, "|", sizeof out - strlen(out) - 1);
            strncat(out, name_of(n, probe_ids[p], probes[p], NULL), sizeof out - strlen(out) - 1);
        }
        if (order == 0)
            snprintf(first, sizeof first, "%s", out);
        else
            assert_string_equal(out, first);
        ah_names_free(n);
    }
    /* ties at one instant break on the name's bytes */
    assert_string_equal(first, "11111111-0000-4000-8000-000000000001 Alpha -> Beta @300\n"
                               "11111111-0000-4000-8000-000000000001 Beta -> Gamma @300\n"
                               "11111111-0000-4000-8000-000000000002 Delta -> Gamma @300\n"
                               "Alpha|Gamma|Delta");
}

/* Past 8 names an id keeps the 8 first seen and counts the others. */
static void test_names_cap(void **state)
{
    (void)state;
    const char *id = "22222222-0000-4000-8000-000000000000";
    char out[2][2048];
    for (int order = 0; order < 2; order++) {
        ah_names *n = ah_names_new(0);
        for (int i = 0; i < 12; i++) {
            int k = order ? 11 - i : i;
            char name[32];
            snprintf(name, sizeof name, "name %02d", k);
            learn_signin(n, id, name, 1000 + k);
        }
        ah_names_stats st = ah_names_get_stats(n);
        assert_int_equal(st.names, 8);
        assert_int_equal(st.more_names, 4);
        assert_string_equal(name_of(n, id, at(9999), NULL), "name 07");
        out[order][0] = '\0';
        ah_names_renames(n, append_rename, out[order], NULL);
        ah_names_free(n);
    }
    assert_string_equal(out[0], out[1]);
}

/* A rename stated by a directory record's DisplayName property: the old name
 * was current until the change. */
static void test_rename_from_audit_property(void **state)
{
    (void)state;
    ah_names *n = ah_names_new(0);
    fake f;
    fake_event(
        &f, AH_SOURCE_ENTRA_AUDIT, 5000, NULL, NULL,
        "{'activityDisplayName':'Update "
        "application','initiatedBy':{'user':{'id':'2fe46b93-8bbe-49bd-b0cd-b960e47eac4a',"
        "'userPrincipalName':'adele.vance@contoso.com'}},'targetResources':[{'id':'4ebaa17b-4a59-4c34-8745-"
        "833c752d9dad',"
        "'displayName':'Microsoft Teams "
        "Connector','type':'Application','modifiedProperties':[{'displayName':'DisplayName',"
        "'oldValue':'[\\'Contoso MailSync\\']','newValue':'[\\'Microsoft Teams Connector\\']'},{'displayName':'AppId',"
        "'oldValue':null,'newValue':'\\'e79f1579-db86-4475-8741-eb6f312c4ff4\\''}]}]}");
    ah_names_learn(n, &f.ev);
    free(f.body);
    unsigned flags;
    assert_string_equal(name_of(n, "e79f1579-db86-4475-8741-eb6f312c4ff4", at(4999), &flags), "Contoso MailSync");
    assert_false(flags & AH_NAME_LOOKALIKE);
    assert_string_equal(name_of(n, "e79f1579-db86-4475-8741-eb6f312c4ff4", at(5000), &flags),
                        "Microsoft Teams Connector");
    assert_true(flags & AH_NAME_LOOKALIKE);
    assert_true(flags & AH_NAME_RENAMED);
    assert_string_equal(name_of(n, "4ebaa17b-4a59-4c34-8745-833c752d9dad", at(4000), NULL), "Contoso MailSync");
    /* the application object is linked to a non-Microsoft app id: flagged too */
    assert_string_equal(name_of(n, "4ebaa17b-4a59-4c34-8745-833c752d9dad", at(6000), &flags),
                        "Microsoft Teams Connector");
    assert_true(flags & AH_NAME_LOOKALIKE);
    assert_string_equal(name_of(n, "2fe46b93-8bbe-49bd-b0cd-b960e47eac4a", at(-1), NULL), "adele.vance@contoso.com");
    size_t c;
    ah_names_renames(n, NULL, NULL, &c);
    assert_int_equal(c, 2);
    ah_names_free(n);
}

/* --- the lookalike flag ---------------------------------------------------------------------- */

static void test_lookalike(void **state)
{
    (void)state;
    ah_names *n = with_lists(0);
    static const struct {
        const char *name;
        bool flagged;
    } cases[] = {
        {"Microsoft Outlook Sync", true},
        {"Micr0soft Graph Connector", true},
        {"\xd0\x9c\xd1\x96"
         "crosoft Security",
         true}, /* Cyrillic M and i */
        {"Mi\xe2\x80\x8b"
         "crosoft",
         true}, /* zero-width space inside */
        {"ContosoTeams", true},
        {"MSAzure Backup", true},
        {"Office365 Mail Sync", true},
        {"O365 Connector", true},
        {"SharePointSync", true},
        {"Exchange Web Connector", true},
        {"Contoso MailSync", false},
        {"Steams Sync", false},
        {"Lazurely", false},
        {"Mimecast Services", false},
        {"Photographer Portal", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char id[37];
        snprintf(id, sizeof id, "33333333-0000-4000-8000-%012zu", i);
        learn_signin(n, id, cases[i].name, 1000);
        unsigned flags;
        name_of(n, id, at(1000), &flags);
        if (!!(flags & AH_NAME_LOOKALIKE) != cases[i].flagged) {
            fprintf(stderr, "lookalike(%s) should be %d\n", cases[i].name, cases[i].flagged);
            fail();
        }
    }
    /* users are never flagged; nor a service principal whose app id is unknown */
    fake f;
    fake_event(&f, AH_SOURCE_ENTRA_AUDIT, 1000, NULL, NULL,
               "{'initiatedBy':{'user':{'id':'44444444-0000-4000-8000-000000000001','userPrincipalName':'microsoft.fan@"
               "contoso.com'}}}");
    ah_names_learn(n, &f.ev);
    free(f.body);
    fake_event(
        &f, AH_SOURCE_SIGNIN, 1000, NULL, NULL,
        "{'servicePrincipalId':'44444444-0000-4000-8000-000000000002','servicePrincipalName':'Microsoft Graph'}");
    f.ev.field[AH_F_RECORD_TYPE] = ah_span_cstr("servicePrincipal");
    ah_names_learn(n, &f.ev);
    free(f.body);
    unsigned flags;
    assert_string_equal(name_of(n, "44444444-0000-4000-8000-000000000001", at(1000), &flags),
                        "microsoft.fan@contoso.com");
    assert_false(flags & AH_NAME_LOOKALIKE);
    assert_string_equal(name_of(n, "44444444-0000-4000-8000-000000000002", at(1000), &flags), "Microsoft Graph");
    assert_false(flags & AH_NAME_LOOKALIKE);
    ah_names_free(n);
}

/* --- --directory exports ----------------------------------------------------------------------- */

static void test_directory_graph_json(void **state)
{
    (void)state;
    ah_names *n = with_lists(0);
    diag_log l = {0};
    ah_diag d = {.fn = log_diag, .ud = &l};
    assert_int_equal(ah_names_load_directory(n, "tests/data/names/graph-directory.json", &d), AH_OK);
    /* the two bad records are reported with their position, the rest is read */
    assert_int_equal(l.warnings, 1);
    assert_int_equal(l.errors, 0);
    unsigned flags;
    assert_string_equal(name_of(n, "2fe46b93-8bbe-49bd-b0cd-b960e47eac4a", at(-1), &flags), "adele.vance@contoso.com");
    assert_int_equal(flags, AH_NAME_DIRECTORY);
    assert_int_equal(kind_of(n, "2fe46b93-8bbe-49bd-b0cd-b960e47eac4a"), AH_NAME_KIND_USER);
    assert_string_equal(name_of(n, "864a3a1e-4ccc-460a-adfe-8167e544a35a", at(-1), NULL), "Contoso MailSync (prod)");
    assert_int_equal(kind_of(n, "864a3a1e-4ccc-460a-adfe-8167e544a35a"), AH_NAME_KIND_SERVICE_PRINCIPAL);
    assert_string_equal(name_of(n, "e79f1579-db86-4475-8741-eb6f312c4ff4", at(-1), NULL), "Contoso MailSync (prod)");
    assert_int_equal(kind_of(n, "4ebaa17b-4a59-4c34-8745-833c752d9dad"), AH_NAME_KIND_APP_OBJECT);
    assert_int_equal(kind_of(n, "0b1c2d3e-0000-4000-8000-00000000abcd"), AH_NAME_KIND_GROUP);
    /* a first-party app id keeps its listed name; its tenant service principal is named as exported */
    assert_string_equal(name_of(n, "00000003-0000-0000-c000-000000000000", at(-1), &flags), "Microsoft Graph");
    assert_int_equal(flags, AH_NAME_REFERENCE);
    assert_string_equal(name_of(n, "bfc299e6-5abc-44a2-b480-6e4828148b5b", at(-1), &flags),
                        "Graph (renamed in this tenant)");
    assert_false(flags & AH_NAME_LOOKALIKE);
    /* a non-Microsoft service principal with a Microsoft name */
    assert_string_equal(name_of(n, "11111111-2222-4333-8444-555555555555", at(-1), &flags), "Microsoft Outlook Sync");
    assert_true(flags & AH_NAME_LOOKALIKE);
    assert_true(flags & AH_NAME_DIRECTORY);
    /* names the records show at the row's time come first; the export names the rest */
    learn_signin(n, "e79f1579-db86-4475-8741-eb6f312c4ff4", "Contoso MailSync", 1000);
    assert_string_equal(name_of(n, "e79f1579-db86-4475-8741-eb6f312c4ff4", at(1000), &flags), "Contoso MailSync");
    assert_int_equal(flags & AH_NAME_DIRECTORY, 0);
    assert_string_equal(name_of(n, "e79f1579-db86-4475-8741-eb6f312c4ff4", at(-1), &flags), "Contoso MailSync (prod)");
    assert_true(flags & AH_NAME_DIRECTORY);
    ah_names_stats s = ah_names_get_stats(n);
    assert_int_equal(s.directory_ids, 9);
    ah_names_free(n);
}

static void test_directory_portal_csv(void **state)
{
    (void)state;
    ah_names *n = with_lists(0);
    diag_log l = {0};
    ah_diag d = {.fn = log_diag, .ud = &l};
    assert_int_equal(ah_names_load_directory(n, "tests/data/names/portal-users.csv", &d), AH_OK);
    assert_int_equal(ah_names_load_directory(n, "tests/data/names/portal-enterprise-apps.csv", &d), AH_OK);
    assert_int_equal(l.warnings + l.errors, 0);
    assert_string_equal(name_of(n, "d3f1a8e2-51c0-4f7b-9a65-0c1d2e3f4a5b", at(-1), NULL), "megan.bowen@contoso.com");
    assert_string_equal(name_of(n, "c0c0c0c0-1111-4222-8333-444455556666", at(-1), NULL),
                        "=cmd|x,y"); /* kept as is: writers escape */
    assert_string_equal(name_of(n, "cadd0f3e-7d97-4579-861d-32c6930ef139", at(-1), NULL), "Contoso Expenses");
    assert_string_equal(name_of(n, "668113f5-d8a5-46f5-b055-0b7838c4bf16", at(-1), NULL), "Contoso Expenses");
    unsigned flags;
    assert_string_equal(name_of(n, "05c8520b-3a8b-49ef-8843-73bf1ee0d2d6", at(-1), &flags),
                        "Office 365 Exchange Online");
    assert_false(flags & AH_NAME_LOOKALIKE); /* linked to the first-party Exchange app id */
    /* a CSV that is no directory export is reported, not guessed at */
    l = (diag_log){0};
    assert_int_equal(ah_names_load_directory(n, "tests/data/names/unrelated.csv", &d), AH_OK);
    assert_int_equal(l.warnings, 2);
    l = (diag_log){0};
    assert_int_equal(ah_names_load_directory(n, "tests/data/names/absent.json", &d), AH_ERR_IO);
    assert_true(l.errors >= 1);
    ah_names_free(n);
}

/* --- memory budget -------------------------------------------------------------------------- */

static void test_budget(void **state)
{
    (void)state;
    /* far too small for anything: every id dropped, counted, no crash */
    ah_names *n = ah_names_new(1024);
    for (int i = 0; i < 100; i++) {
        char id[37];
        snprintf(id, sizeof id, "55555555-0000-4000-8000-%012d", i);
        learn_signin(n, id, "Some App", 1000 + i);
    }
    ah_names_stats s = ah_names_get_stats(n);
    assert_int_equal(s.ids, 0);
    assert_int_equal(s.dropped_ids, 100);
    assert_true(s.bytes <= 1024);
    assert_false(ah_names_lookup(n, ah_span_cstr("55555555-0000-4000-8000-000000000000"), false, at(0), NULL));
    ah_names_free(n);

    /* a budget that holds some: what is kept stays within it and answers */
    const size_t budget = 64 * 1024;
    n = ah_names_new(budget);
    for (int i = 0; i < 5000; i++) {
        char id[37], name[64];
        snprintf(id, sizeof id, "66666666-0000-4000-8000-%012d", i);
        snprintf(name, sizeof name, "Application number %d with a long name", i);
        learn_signin(n, id, name, 1000 + i);
        learn_signin(n, id, "renamed", 9000 + i);
    }
    s = ah_names_get_stats(n);
    assert_true(s.ids > 100);
    assert_true(s.dropped_ids > 0);
    assert_int_equal(s.dropped_ids, 2 * (5000 - s.ids)); /* counted per sighting: each id was seen twice */
    assert_true(s.bytes <= budget);
    assert_string_equal(name_of(n, "66666666-0000-4000-8000-000000000000", at(1000), NULL),
                        "Application number 0 with a long name");
    ah_names_free(n);
}

static int tmp_setup(void **state) { return ah_test_tmpdir_setup(state, "ah-names", "list.txt"); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signins_graph_json),
        cmocka_unit_test(test_signins_portal_csv),
        cmocka_unit_test(test_directory_audits),
        cmocka_unit_test(test_ual_directory_records),
        cmocka_unit_test(test_tenant_order_independent),
        cmocka_unit_test(test_target_ids),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_shipped_lists),
        cmocka_unit_test(test_first_party_wins),
        cmocka_unit_test_setup_teardown(test_hostile_list_lines, tmp_setup, ah_test_tmpdir_teardown),
        cmocka_unit_test(test_rename_history),
        cmocka_unit_test(test_history_order_independent),
        cmocka_unit_test(test_names_cap),
        cmocka_unit_test(test_rename_from_audit_property),
        cmocka_unit_test(test_lookalike),
        cmocka_unit_test(test_directory_graph_json),
        cmocka_unit_test(test_directory_portal_csv),
        cmocka_unit_test(test_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
