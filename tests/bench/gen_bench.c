/*
 * gen_bench.c: writes large synthetic exports for `make bench`.
 *   gen_bench jsonl OUT.jsonl.gz MIB [FIRST]   AuditData JSON Lines, about MIB MiB uncompressed;
 *                                      FIRST (default 0) numbers the records and seeds the mix, so
 *                                      files with different FIRST share no record
 *   gen_bench csv   OUT.csv.gz   MIB   Purview audit CSV (new layout) with AuditData cells
 *   gen_bench inflate FILE.gz          zlib inflate to nowhere: the speed baseline
 * The mix resembles a real tenant: mostly mail and file access and sign-ins,
 * a few directory changes. Deterministic (fixed seed) so runs compare.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static unsigned long long rng_state = 0x9e3779b97f4a7c15ull;
static unsigned rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (unsigned)(rng_state >> 11);
}

static const char *const users[] = {"alice@contoso.com", "bob@contoso.com",   "carol@contoso.com", "dave@contoso.com",
                                    "erin@contoso.com",  "frank@contoso.com", "grace@contoso.com", "heidi@contoso.com"};

/* One AuditData record into buf; returns its length. */
static int record(char *buf, size_t size, unsigned long long i)
{
    unsigned kind = rnd() % 100;
    const char *user = users[rnd() % 8];
    unsigned day = 1 + (unsigned)(i / 200000) % 28, h = rnd() % 24, m = rnd() % 60, s = rnd() % 60;
    char id[40];
    snprintf(id, sizeof id, "%08x-%04x-4%03x-8%03x-%012llx", rnd(), rnd() & 0xffff, rnd() & 0xfff, rnd() & 0xfff, i);
    if (kind < 45)
        return snprintf(
            buf, size,
            "{\"CreationTime\":\"2021-01-%02uT%02u:%02u:%02u\",\"Id\":\"%s\",\"Operation\":\"MailItemsAccessed\","
            "\"OrganizationId\":\"11111111-2222-3333-4444-555555555555\",\"RecordType\":50,\"ResultStatus\":"
            "\"Succeeded\","
            "\"UserKey\":\"10032000ABCDEF12\",\"UserType\":0,\"Version\":1,\"Workload\":\"Exchange\",\"ClientIP\":"
            "\"198.51.100.%u\","
            "\"UserId\":\"%s\",\"AppId\":\"00000002-0000-0ff1-ce00-000000000000\",\"ClientAppId\":\"\","
            "\"ClientIPAddress\":\"198.51.100.%u\","
            "\"ClientInfoString\":\"Client=OWA;Action=ViaProxy\",\"ExternalAccess\":false,\"InternalLogonType\":0,"
            "\"LogonType\":0,"
            "\"LogonUserSid\":\"S-1-5-21-1111111111-2222222222-3333333333-%u\",\"MailboxGuid\":\"a9b8c7d6-0000-1111-"
            "2222-%012u\","
            "\"MailboxOwnerSid\":\"S-1-5-21-1111111111-2222222222-3333333333-%u\",\"MailboxOwnerUPN\":\"%s\","
            "\"OperationProperties\":[{\"Name\":\"MailAccessType\",\"Value\":\"Bind\"},{\"Name\":\"IsThrottled\","
            "\"Value\":\"False\"}],"
            "\"OrganizationName\":\"contoso.onmicrosoft.com\",\"OriginatingServer\":\"DM6PR01MB0000 (15.20.3763.012)\","
            "\"SessionId\":\"%08x-1111-2222-3333-444455556666\",\"Folders\":[{\"FolderItems\":[{\"InternetMessageId\":"
            "\"<CA+%x@mail.example.com>\","
            "\"SizeInBytes\":%u},{\"InternetMessageId\":\"<BN6PR%x@prod.outlook.com>\",\"SizeInBytes\":%u}],\"Id\":"
            "\"LgAAAAB%08x\",\"Path\":\"\\\\Inbox\"}],"
            "\"OperationCount\":2}",
            day, h, m, s, id, rnd() % 250, user, rnd() % 250, rnd() % 9999, rnd() % 99999, rnd() % 9999, user, rnd(),
            rnd(), rnd() % 90000, rnd(), rnd() % 90000, rnd());
    if (kind < 75)
        return snprintf(
            buf, size,
            "{\"CreationTime\":\"2021-01-%02uT%02u:%02u:%02u\",\"Id\":\"%s\",\"Operation\":\"FileAccessed\","
            "\"OrganizationId\":\"11111111-2222-3333-4444-555555555555\",\"RecordType\":6,\"UserKey\":\"i:0h.f|"
            "membership|10032000abcdef12@live.com\","
            "\"UserType\":0,\"Version\":1,\"Workload\":\"SharePoint\",\"ClientIP\":\"203.0.113.%u\",\"ObjectId\":"
            "\"https://contoso.sharepoint.com/sites/finance/Shared Documents/report-%u.xlsx\","
            "\"UserId\":\"%s\",\"CorrelationId\":\"%08x-aaaa-bbbb-cccc-ddddeeeeffff\",\"EventSource\":\"SharePoint\","
            "\"ItemType\":\"File\","
            "\"ListId\":\"%08x-1111-2222-3333-444444444444\",\"ListItemUniqueId\":\"%08x-5555-6666-7777-888888888888\","
            "\"Site\":\"%08x-9999-aaaa-bbbb-cccccccccccc\","
            "\"UserAgent\":\"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/87.0.4280.141 Safari/537.36\","
            "\"WebId\":\"%08x-dddd-eeee-ffff-000000000000\",\"SourceFileExtension\":\"xlsx\",\"SiteUrl\":\"https://"
            "contoso.sharepoint.com/sites/finance/\","
            "\"SourceFileName\":\"report-%u.xlsx\",\"SourceRelativeUrl\":\"Shared Documents\"}",
            day, h, m, s, id, rnd() % 250, rnd() % 5000, user, rnd(), rnd(), rnd(), rnd(), rnd(), rnd() % 5000);
    if (kind < 98) {
        int fail = rnd() % 10 == 0;
        return snprintf(
            buf, size,
            "{\"CreationTime\":\"2021-01-%02uT%02u:%02u:%02u\",\"Id\":\"%s\",\"Operation\":\"%s\","
            "\"OrganizationId\":\"11111111-2222-3333-4444-555555555555\",\"RecordType\":15,\"ResultStatus\":\"%s\","
            "\"UserKey\":\"10032000ABCDEF12\",\"UserType\":0,\"Version\":1,\"Workload\":\"AzureActiveDirectory\","
            "\"ClientIP\":\"192.0.2.%u\","
            "\"ObjectId\":\"00000002-0000-0ff1-ce00-000000000000\",\"UserId\":\"%s\",\"AzureActiveDirectoryEventType\":"
            "1,"
            "\"ExtendedProperties\":[{\"Name\":\"ResultStatusDetail\",\"Value\":\"Success\"},{\"Name\":\"UserAgent\","
            "\"Value\":\"Mozilla/5.0 (Windows NT 10.0; Win64; x64)\"},"
            "{\"Name\":\"RequestType\",\"Value\":\"OAuth2:Authorize\"}],\"ModifiedProperties\":[],\"Actor\":[{\"ID\":"
            "\"a1b2c3d4-0000-1111-2222-333344445555\",\"Type\":0},"
            "{\"ID\":\"%s\",\"Type\":5}],\"ActorContextId\":\"11111111-2222-3333-4444-555555555555\","
            "\"ActorIpAddress\":\"192.0.2.%u\","
            "\"InterSystemsId\":\"%08x-8d7c-6b5a-4938-271605f4e3d2\",\"IntraSystemId\":\"%08x-5e6f-7081-92a3-"
            "b4c5d6e7f809\",\"SupportTicketId\":\"\","
            "\"Target\":[{\"ID\":\"00000002-0000-0ff1-ce00-000000000000\",\"Type\":0}],\"TargetContextId\":\"11111111-"
            "2222-3333-4444-555555555555\","
            "\"ApplicationId\":\"1fec8e78-bce4-4aaf-ab1b-5451cc387264\",\"DeviceProperties\":[{\"Name\":\"OS\","
            "\"Value\":\"Windows 10\"},"
            "{\"Name\":\"BrowserType\",\"Value\":\"Edge\"},{\"Name\":\"SessionId\",\"Value\":\"%08x-0a1b-2c3d-4e5f-"
            "60718293a4b5\"}],\"ErrorNumber\":\"%s\"%s}",
            day, h, m, s, id, fail ? "UserLoginFailed" : "UserLoggedIn", fail ? "Failed" : "Success", rnd() % 250, user,
            user, rnd() % 250, rnd(), rnd(), rnd(), fail ? "50126" : "0",
            fail ? ",\"LogonError\":\"InvalidUserNameOrPassword\"" : "");
    }
    return snprintf(buf, size,
                    "{\"CreationTime\":\"2021-01-%02uT%02u:%02u:%02u\",\"Id\":\"%s\",\"Operation\":\"Update user.\","
                    "\"OrganizationId\":\"11111111-2222-3333-4444-555555555555\",\"RecordType\":8,\"ResultStatus\":"
                    "\"Success\",\"UserKey\":\"10032000ABCDEF12@contoso.onmicrosoft.com\","
                    "\"UserType\":0,\"Version\":1,\"Workload\":\"AzureActiveDirectory\",\"ObjectId\":\"%s\",\"UserId\":"
                    "\"admin@contoso.com\",\"AzureActiveDirectoryEventType\":1,"
                    "\"ExtendedProperties\":[{\"Name\":\"additionalDetails\",\"Value\":\"{\\\"UserType\\\":"
                    "\\\"Member\\\"}\"},{\"Name\":\"extendedAuditEventCategory\",\"Value\":\"User\"}],"
                    "\"ModifiedProperties\":[{\"Name\":\"StrongAuthenticationMethod\",\"NewValue\":\"[\\r\\n  {\\r\\n  "
                    "  \\\"MethodType\\\": 6,\\r\\n    \\\"Default\\\": true\\r\\n  }\\r\\n]\",\"OldValue\":\"[]\"},"
                    "{\"Name\":\"Included Updated "
                    "Properties\",\"NewValue\":\"StrongAuthenticationMethod\",\"OldValue\":\"\"}],\"Actor\":[{\"ID\":"
                    "\"admin@contoso.com\",\"Type\":5}],"
                    "\"ActorContextId\":\"11111111-2222-3333-4444-555555555555\",\"ActorIpAddress\":\"203.0.113.50\","
                    "\"InterSystemsId\":\"%08x-aaaa-bbbb-cccc-dddddddddddd\","
                    "\"IntraSystemId\":\"%08x-eeee-ffff-0000-111111111111\",\"SupportTicketId\":\"\",\"Target\":[{"
                    "\"ID\":\"User_%08x\",\"Type\":2},{\"ID\":\"%s\",\"Type\":5}],"
                    "\"TargetContextId\":\"11111111-2222-3333-4444-555555555555\"}",
                    day, h, m, s, id, user, rnd(), rnd(), rnd(), user);
}

/* CSV cell: quote and double the quotes. */
static size_t csv_quote(char *out, const char *in, int n)
{
    size_t k = 0;
    out[k++] = '"';
    for (int i = 0; i < n; i++) {
        if (in[i] == '"')
            out[k++] = '"';
        out[k++] = in[i];
    }
    out[k++] = '"';
    return k;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "inflate") == 0) {
        gzFile in = gzopen(argv[2], "rb");
        static char b[1 << 17];
        long long total = 0;
        int n;
        if (!in)
            return 1;
        gzbuffer(in, 1 << 17);
        while ((n = gzread(in, b, sizeof b)) > 0)
            total += n;
        gzclose(in);
        printf("%lld\n", total);
        return n < 0;
    }
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: gen_bench jsonl|csv OUT.gz MIB [FIRST]\n");
        return 2;
    }
    int csv = strcmp(argv[1], "csv") == 0;
    unsigned long long target = strtoull(argv[3], NULL, 10) << 20, written = 0;
    unsigned long long first = argc == 5 ? strtoull(argv[4], NULL, 10) : 0, i = first;
    rng_state ^= i * 0x2545f4914f6cdd1dull;
    gzFile gz = gzopen(argv[2], "wb1");
    if (!gz) {
        perror(argv[2]);
        return 1;
    }
    static char rec[8192], cell[16384], line[20000];
    if (csv) {
        const char *hdr = "RecordId,CreationDate,RecordType,Operation,UserId,AuditData,AssociatedAdminUnits,"
                          "AssociatedAdminUnitsNames\r\n";
        gzputs(gz, hdr);
        written += strlen(hdr);
    }
    while (written < target) {
        int n = record(rec, sizeof rec, i++);
        if (csv) {
            /* pull the few wrapper columns out of the record itself */
            char id[64] = "", op[64] = "", user[64] = "", ct[32] = "";
            int rtype = 0;
            const char *p;
            if ((p = strstr(rec, "\"Id\":\"")))
                sscanf(p + 6, "%63[^\"]", id);
            if ((p = strstr(rec, "\"Operation\":\"")))
                sscanf(p + 13, "%63[^\"]", op);
            if ((p = strstr(rec, "\"UserId\":\"")))
                sscanf(p + 10, "%63[^\"]", user);
            if ((p = strstr(rec, "\"CreationTime\":\"")))
                sscanf(p + 16, "%31[^\"]", ct);
            if ((p = strstr(rec, "\"RecordType\":")))
                sscanf(p + 13, "%d", &rtype);
            int y, mo, d, h, mi, s;
            sscanf(ct, "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi, &s);
            size_t q = csv_quote(cell, rec, n);
            cell[q] = 0;
            n = snprintf(line, sizeof line, "%s,%d/%d/%d %d:%02d:%02d %s,%d,%s,%s,%s,,\r\n", id, mo, d, y,
                         h % 12 ? h % 12 : 12, mi, s, h < 12 ? "AM" : "PM", rtype, op, user, cell);
            gzwrite(gz, line, (unsigned)n);
        } else {
            rec[n++] = '\n';
            gzwrite(gz, rec, (unsigned)n);
        }
        written += (unsigned long long)n;
    }
    gzclose(gz);
    fprintf(stderr, "gen_bench: %llu records, %llu MiB uncompressed -> %s\n", i - first, written >> 20, argv[2]);
    return 0;
}
