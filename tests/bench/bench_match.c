/*
 * bench_match.c: matcher cost with 1, 50 and 300 rules loaded (not a test).
 *
 * Generates synthetic UAL events in memory (mostly sign-ins, mail and file
 * access, as in real exports, plus a few directory changes) and synthetic
 * rules shaped like the shipped packs (most pinned to an operation, some on
 * normalized fields for every event, some reading raw paths), so that
 * rules mostly do not match. Prints events/s per rule count, the rules
 * evaluated per event after the skip index, and the JSON parses per event.
 *
 *   make build/libaudithound.a
 *   cc -std=c11 -O2 -I. tests/bench/bench_match.c build/libaudithound.a \
 *      $(pkg-config --libs libpcre2-8 libcjson) -lm -o build/bench_match
 *   build/bench_match [events]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyzer/rules/rules.h"
#include "parsers/formats/opcanon.h"

typedef struct bev {
    ah_event ev;
    char *json;
    char user[64];
    char ip[32];
    char app[48];
    ah_buf canon;
} bev;

static const char *const common_ops[] = {"UserLoggedIn",    "MailItemsAccessed", "FileAccessed",         "FileModified",
                                         "UserLoginFailed", "MailboxLogin",      "SearchQueryPerformed", "Send"};
static const char *const rare_ops[] = {"Add service principal credentials.",
                                       "Consent to application.",
                                       "Set domain authentication.",
                                       "New-InboxRule",
                                       "Add member to role.",
                                       "Update application \xE2\x80\x93 Certificates and secrets management "};

static uint64_t rnd_state = 0x2545F4914F6CDD1Dull;

static uint64_t rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state;
}

static void make_event(bev *b, size_t i)
{
    memset(b, 0, sizeof *b);
    ah_buf_init(&b->canon, 0);
    const char *op = (i % 50 == 0) ? rare_ops[(i / 50) % 6] : common_ops[rnd() % 8];
    snprintf(b->user, sizeof b->user, "user%u@contoso.com", (unsigned)(rnd() % 5000));
    snprintf(b->ip, sizeof b->ip, "%u.%u.%u.%u", (unsigned)(rnd() % 223 + 1), (unsigned)(rnd() % 256),
             (unsigned)(rnd() % 256), (unsigned)(rnd() % 256));
    snprintf(b->app, sizeof b->app, "%08x-0000-0000-c000-000000000000", (unsigned)(rnd() % 64));
    size_t cap = 2048;
    b->json = malloc(cap);
    if (!b->json)
        exit(1);
    snprintf(b->json, cap,
             "{\"CreationTime\":\"2021-01-13T16:07:40\",\"Id\":\"%zu\",\"Operation\":\"%s\",\"RecordType\":8,"
             "\"UserId\":\"%s\",\"ClientIP\":\"%s\",\"AppId\":\"%s\",\"ExtendedProperties\":[{\"Name\":\"UserAgent\","
             "\"Value\":\"Mozilla/5.0\"},{\"Name\":\"additionalDetails\",\"Value\":\"{\\\"AppId\\\":\\\"%s\\\"}\"}],"
             "\"ModifiedProperties\":[{\"Name\":\"KeyDescription\",\"NewValue\":\"[\\\"[KeyType=Password]\\\"]\","
             "\"OldValue\":\"[]\"}],\"Actor\":[{\"ID\":\"%s\",\"Type\":5}]}",
             i, op, b->user, b->ip, b->app, b->app, b->user);
    b->ev.source = AH_SOURCE_UAL;
    b->ev.field[AH_F_OPERATION] = ah_span_cstr(op);
    ah_opcanon(ah_span_cstr(op), &b->canon);
    b->ev.operation_canon = ah_buf_span(&b->canon);
    b->ev.field[AH_F_USER] = ah_span_cstr(b->user);
    b->ev.field[AH_F_IP] = ah_span_cstr(b->ip);
    b->ev.field[AH_F_APP_ID] = ah_span_cstr(b->app);
    b->ev.raw = b->ev.body = ah_span_cstr(b->json);
    b->ev.result = AH_RESULT_SUCCESS;
}

/* Rule i of a synthetic pack: 70% pinned to an operation (half of those
 * read raw paths), 20% on normalized fields for every event, 10% regex on
 * a field. */
static void add_rule(ah_buf *t, int i)
{
    const char *cond;
    char buf[512];
    switch (i % 10) {
    case 0:
    case 1:
        snprintf(buf, sizeof buf, "user == \"nobody%d@contoso.com\" or app_id in [\"deadbeef-%04d\", \"cafe%04d\"]", i,
                 i, i);
        cond = buf;
        break;
    case 2:
        snprintf(buf, sizeof buf, "ip in cidr [\"198.18.%d.0/24\", \"2001:db8:%x::/48\"]", i % 256, i);
        cond = buf;
        break;
    case 3:
        snprintf(buf, sizeof buf, "user_agent matches /evilbot%d/", i);
        cond = buf;
        break;
    case 4:
    case 5:
    case 6:
        snprintf(buf, sizeof buf,
                 "operation == \"%s\" and raw.ModifiedProperties[Name=\"KeyDescription\"].NewValue contains \"Asym%d\"",
                 rare_ops[i % 6], i);
        cond = buf;
        break;
    default:
        snprintf(buf, sizeof buf, "operation == \"Synthetic operation %d\" and user endswith \"@evil%d.example\"", i,
                 i);
        cond = buf;
        break;
    }
    ah_buf_printf(t, "rule bench-%d {\n title \"b\"\n severity low\n sources ual\n match %s\n test miss {\"a\":1}\n}\n",
                  i, cond);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    size_t nev = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 200000;
    if (nev == 0)
        nev = 1;
    size_t pool = nev < 20000 ? nev : 20000;
    bev *evs = calloc(pool, sizeof *evs);
    if (!evs)
        return 1;
    for (size_t i = 0; i < pool; i++)
        make_event(&evs[i], i);
    static const int counts[] = {1, 50, 300};
    printf("matcher: %zu synthetic UAL events per run\n", nev);
    for (size_t c = 0; c < 3; c++) {
        ah_buf text;
        ah_buf_init(&text, 0);
        for (int i = 0; i < counts[c]; i++)
            add_rule(&text, i);
        ah_diag diag = {.fn = NULL};
        ah_ruleset *rs = ah_ruleset_new(&diag);
        ah_ruleset_load_string(rs, "bench.rules", text.data, text.len);
        if (ah_ruleset_compile(rs) != AH_OK) {
            fprintf(stderr, "bench rules do not compile\n");
            return 1;
        }
        ah_matcher *m = ah_matcher_new(rs);
        const ah_rule *hits[16];
        size_t total = 0;
        double t0 = now();
        for (size_t i = 0; i < nev; i++)
            total += ah_matcher_match(m, &evs[i % pool].ev, hits, 16);
        double dt = now() - t0;
        const ah_matcher_stats *s = ah_matcher_get_stats(m);
        printf("  %3d rules: %10.0f events/s  (%.2f rules evaluated/event, %.3f JSON parses/event, %zu hits)\n",
               counts[c], (double)nev / (dt > 0 ? dt : 1e-9), (double)s->rules_evaluated / (double)nev,
               (double)s->json_parses / (double)nev, total);
        ah_matcher_free(m);
        ah_ruleset_free(rs);
        ah_buf_free(&text);
    }
    for (size_t i = 0; i < pool; i++) {
        free(evs[i].json);
        ah_buf_free(&evs[i].canon);
    }
    free(evs);
    return 0;
}
