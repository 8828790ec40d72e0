/*
 * test_formats_corpus.c: every supported JSON/JSONL file of the shared
 * sample corpus normalizes without a single error, in the expected format,
 * with a time and valid raw/body JSON; the adjacent shapes (Defender rows
 * without RawEventData, Wazuh's non-record line 101, plaso's Defender for
 * Cloud Apps CSV) are rejected cleanly instead of being mis-normalized.
 * Files are streamed through the real splitter and CSV reader.
 * Skips (saying why) when $AH_CORPUS (default ../shared/corpus) is absent.
 */
#include "support/records.h"

#include <sys/stat.h>

#include "parsers/frame/csv.h"
#include "parsers/frame/jsonsplit.h"

typedef struct expect_file {
    const char *path;
    const char *format; /* every event's format */
    size_t events;      /* records that must normalize */
    size_t rejected;    /* records that must be rejected */
    size_t distinct;    /* distinct digests (0: not checked) */
} expect_file;

static const expect_file files[] = {
    {"elastic_integrations/azure_auditlogs_test-audit-logs-duration-as-string.log", "entra_audit_azure_monitor", 1, 0,
     0},
    {"elastic_integrations/azure_auditlogs_test-audit-logs-edgecases.log", "entra_audit_azure_monitor", 2, 0, 0},
    {"elastic_integrations/azure_auditlogs_test-audit-logs-sample.log", "entra_audit_azure_monitor", 3, 0, 3},
    {"elastic_integrations/azure_auditlogs_test-audit-logs-tenant-from-resource-id.log", "entra_audit_azure_monitor", 1,
     0, 0},
    {"elastic_integrations/azure_auditlogs_test-auditlogs-raw.log", "entra_audit_azure_monitor", 3, 0, 0},
    {"elastic_integrations/azure_auditlogs_test-auditlogs-result-description.log", "entra_audit_azure_monitor", 2, 0,
     0},
    {"elastic_integrations/azure_auditlogs_test-auditlogs-result-reason.log", "entra_audit_azure_monitor", 1, 0, 0},
    {"elastic_integrations/azure_auditlogs_test-auditlogs.log", "entra_audit_azure_monitor", 1, 0, 0},
    {"elastic_integrations/azure_auditlogs_test-time-formats-corner-cases.log", "entra_audit_azure_monitor", 11, 0, 0},
    {"elastic_integrations/azure_signinlogs_test-adfs-signin.log", "signin_azure_monitor", 1, 0, 0},
    {"elastic_integrations/azure_signinlogs_test-alternative-time-and-duration-as-string.log", "signin_azure_monitor",
     1, 0, 0},
    {"elastic_integrations/azure_signinlogs_test-created-datetime-timestamp.log", "signin_azure_monitor", 2, 0, 0},
    {"elastic_integrations/azure_signinlogs_test-invalid-time.log", "signin_log_analytics", 1, 0, 0},
    {"elastic_integrations/azure_signinlogs_test-managed-identity-sample.log", "signin_azure_monitor", 33, 0, 0},
    {"elastic_integrations/azure_signinlogs_test-non-interactive-user-sample.log", "signin_azure_monitor", 15, 0, 0},
    {"elastic_integrations/azure_signinlogs_test-non-interactive-user-signin.log", "signin_azure_monitor", 1, 0, 0},
    {"elastic_integrations/azure_signinlogs_test-non-interactive-user.log", "signin_azure_monitor", 1, 0, 0},
    {"elastic_integrations/azure_signinlogs_test-service-principal-signinlogs-sample.log", "signin_azure_monitor", 7, 0,
     0},
    {"elastic_integrations/azure_signinlogs_test-service-principal.log", "signin_azure_monitor", 1, 0, 0},
    {"elastic_integrations/azure_signinlogs_test-signinlogs-raw.log", "signin_azure_monitor", 5, 0, 0},
    {"elastic_integrations/azure_signinlogs_test-signinlogs-sample.log", "signin_azure_monitor", 2, 0, 0},
    {"elastic_integrations/azure_signinlogs_test-signinlogs.log", "signin_azure_monitor", 2, 0, 0},
    {"elastic_integrations/azure_signinlogs_test-time-formats-corner-cases.log", "signin_azure_monitor", 11, 0, 0},
    /* 100 records, 67 distinct ids: re-deliveries with another key order */
    {"elastic_integrations/o365_test-exchange-admin.log", "ual_json", 100, 0, 67},
    {"elastic_integrations/o365_test-exchange-item.log", "ual_json", 9, 0, 0},
    {"elastic_integrations/o365_test-azuread-sts-logon-events.json", "ual_json", 69, 0, 0},
    {"elastic_integrations/o365_test-modified-properites.json", "ual_json", 1, 0, 0},
    {"elastic_integrations/o365_test-parameter-string.json", "ual_json", 2, 0, 0},
    /* lines 1-2 share one Id */
    {"otrf_security_datasets/AADAuditEvents.json", "entra_audit_log_analytics", 4, 0, 3},
    {"otrf_security_datasets/OfficeActivityEvents.json", "officeactivity", 1, 0, 0},
    /* only the CloudAppEvents row carrying RawEventData is a UAL record */
    {"otrf_security_datasets/Microsoft365DefenderEvents.json", "m365d_cloudappevents", 1, 8, 0},
    {"panther_analysis/entra_diag_AuditLogs.jsonl", "entra_audit_azure_monitor", 15, 0, 0},
    {"panther_analysis/entra_diag_NonInteractiveUserSignInLogs.jsonl", "signin_azure_monitor", 3, 0, 0},
    {"panther_analysis/entra_diag_ServicePrincipalSignInLogs.jsonl", "signin_azure_monitor", 9, 0, 0},
    {"panther_analysis/entra_diag_SignInLogs.jsonl", "signin_azure_monitor", 15, 0, 0},
    {"panther_analysis/entra_diag_other_ApplicationManagement.jsonl", "entra_audit_azure_monitor", 2, 0, 0},
    {"panther_analysis/entra_diag_other_DirectoryManagement.jsonl", "entra_audit_azure_monitor", 2, 0, 0},
    {"panther_analysis/entra_diag_other_Policy.jsonl", "entra_audit_azure_monitor", 2, 0, 0},
    {"panther_analysis/o365_mgmt_api.jsonl", "ual_json", 19, 0, 0},
    {"plaso/microsoft_audit_log.jsonl", "ual_json", 4, 0, 4},
    {"wazuh/graph_directoryAudits_graph_events.json", "entra_audit_graph", 2, 0, 0},
    /* line 101 is {"actor":..,"tenant_id":..,"subscription_name":..}, not a record */
    {"wazuh/ruleset_testing_office365.jsonl", "ual_json", 127, 1, 0},
};

static ssize_t file_read(void *ctx, char *buf, size_t n)
{
    FILE *f = ctx;
    size_t r = fread(buf, 1, n, f);
    return ferror(f) ? -1 : (ssize_t)r;
}

static const char *corpus_root(void)
{
    const char *root = getenv("AH_CORPUS");
    return root && *root ? root : "../shared/corpus";
}

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int cmp_digest(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b;
    if (x[0] != y[0])
        return x[0] < y[0] ? -1 : 1;
    return x[1] < y[1] ? -1 : x[1] > y[1];
}

static size_t count_distinct(uint64_t (*d)[2], size_t n)
{
    qsort(d, n, sizeof d[0], cmp_digest);
    size_t distinct = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || cmp_digest(d[i], d[i - 1]) != 0)
            distinct++;
    return distinct;
}

static void check_file(ah_normalizer *n, const char *root, const expect_file *e, size_t *checked)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, e->path);
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        print_message("skipped %s: cannot open %s\n", e->path, path);
        return;
    }
    ah_reader rd = {file_read, fp};
    ah_jsplit *s = ah_jsplit_new(&rd, (size_t)16 << 20);
    assert_non_null(s);
    ah_origin origin = {path, NULL, 0};
    ah_normalizer_begin(n, &origin);
    size_t ok = 0, rejected = 0;
    uint64_t(*digests)[2] = calloc(e->events + 1, sizeof *digests);
    assert_non_null(digests);
    ah_json_record rec;
    ah_status st;
    while ((st = ah_jsplit_next(s, &rec)) != AH_END) {
        if (st != AH_OK) {
            print_error("%s: record %llu: split error %s\n", e->path, (unsigned long long)rec.record_no,
                        ah_jsplit_error(s));
            fail();
        }
        ah_event ev;
        const char *why = NULL;
        if (ah_normalize_json(n, &rec, &ev, &why) != AH_OK) {
            rejected++;
            /* rejected cleanly: an explicit shape reason, never a parse failure */
            if (!why || strncmp(why, "unrecognised record shape (keys: ", 33) != 0) {
                print_error("%s: record %llu: %s\n", e->path, (unsigned long long)rec.record_no,
                            why ? why : "(no reason)");
                fail();
            }
            if (rejected > e->rejected) {
                print_error("%s: record %llu unexpectedly rejected: %s\n", e->path, (unsigned long long)rec.record_no,
                            why);
                fail();
            }
            continue;
        }
        if (strcmp(ev.format->name, e->format) != 0) {
            print_error("%s: record %llu: format %s, want %s\n", e->path, (unsigned long long)rec.record_no,
                        ev.format->name, e->format);
            fail();
        }
        assert_int_equal(ev.source, ev.format->source);
        assert_true(ev.has_time);
        assert_true(ah_json_valid(ev.raw));
        assert_true(ah_json_valid(ev.body));
        assert_int_equal(ah_json_type_of(ev.body), AH_JSON_OBJECT);
        assert_int_equal(ev.record_no, rec.record_no);
        if (ok < e->events) {
            digests[ok][0] = ev.digest[0];
            digests[ok][1] = ev.digest[1];
        }
        ok++;
    }
    if (ok != e->events || rejected != e->rejected) {
        print_error("%s: %zu events, %zu rejected; want %zu and %zu\n", e->path, ok, rejected, e->events, e->rejected);
        fail();
    }
    assert_int_equal(ah_normalizer_stats(n)->no_time, 0);
    if (e->distinct)
        assert_int_equal(count_distinct(digests, ok), e->distinct);
    free(digests);
    ah_jsplit_free(s);
    fclose(fp);
    (*checked)++;
}

static void corpus_json_files(void **state)
{
    (void)state;
    const char *root = corpus_root();
    if (!is_dir(root)) {
        print_message("skipped: corpus not found at %s (set AH_CORPUS)\n", root);
        skip();
    }
    ah_normalizer *n = ah_normalizer_new(NULL);
    assert_non_null(n);
    size_t checked = 0;
    for (size_t i = 0; i < AH_ARRAY_LEN(files); i++)
        check_file(n, root, &files[i], &checked);
    ah_normalizer_free(n);
    assert_true(checked > 0);
}

/* Spot checks of values the detections depend on. */
static void corpus_values(void **state)
{
    (void)state;
    const char *root = corpus_root();
    char path[1024];
    snprintf(path, sizeof path, "%s/otrf_security_datasets/OfficeActivityEvents.json", root);
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        print_message("skipped: %s not found (set AH_CORPUS)\n", path);
        skip();
    }
    ah_reader rd = {file_read, fp};
    ah_jsplit *s = ah_jsplit_new(&rd, (size_t)1 << 20);
    ah_normalizer *n = ah_normalizer_new(NULL);
    ah_json_record rec;
    assert_int_equal(ah_jsplit_next(s, &rec), AH_OK);
    ah_event ev;
    const char *why;
    assert_int_equal(ah_normalize_json(n, &rec, &ev, &why), AH_OK);
    const char *want[AH_F_COUNT] = {
        [AH_F_RECORD_ID] = "699e0b10-1c53-403e-976f-ce0847a92b44",
        [AH_F_OPERATION] = "MailItemsAccessed",
        [AH_F_WORKLOAD] = "Exchange",
        [AH_F_RECORD_TYPE] = "50",
        [AH_F_USER] = "pgustavo@simulandlabs.com",
        [AH_F_IP] = "1.2.3.4",
        [AH_F_USER_AGENT] = "Client=REST;;",
        [AH_F_APP_ID] = "00000003-0000-0000-c000-000000000000",
        [AH_F_TARGET] = "pgustavo@simulandlabs.com",
        [AH_F_RESULT_CODE] = "Succeeded",
        [AH_F_TENANT_ID] = "00000000-0000-0000-0000-000000000000",
    };
    fx_expect(&ev, want);
    fx_expect_time(&ev, "2021-08-02T13:32:07.0000000Z");
    ah_jsplit_free(s);
    fclose(fp);
    ah_normalizer_free(n);
}

static void corpus_adjacent_csv(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s/plaso/m365_activity_log_002.csv", corpus_root());
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        print_message("skipped: %s not found (set AH_CORPUS)\n", path);
        skip();
    }
    ah_reader rd = {file_read, fp};
    ah_csv *c = ah_csv_new(&rd, (size_t)1 << 20);
    assert_non_null(c);
    assert_int_equal(ah_csv_read_header(c), AH_OK);
    size_t ncols = ah_csv_ncols(c);
    ah_span hdr[32];
    assert_true(ncols <= 32);
    for (size_t i = 0; i < ncols; i++)
        hdr[i] = ah_csv_header(c, i);
    ah_normalizer *n = ah_normalizer_new(NULL);
    ah_origin origin = {path, NULL, 0};
    ah_normalizer_begin(n, &origin);
    char why[200];
    assert_null(ah_normalizer_bind_csv(n, hdr, ncols, why, sizeof why));
    assert_string_equal(
        why, "unrecognised CSV header: Event ID,Category,Description,User,User Principle Name,App,Device,Location,...");
    ah_normalizer_free(n);
    ah_csv_free(c);
    fclose(fp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(corpus_json_files),
        cmocka_unit_test(corpus_values),
        cmocka_unit_test(corpus_adjacent_csv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
