/*
 * alloc_fail.c: allocation-failure injection for the out-of-memory test
 * (tests/oom/run.py, `make oom-check`). Linked only into build/.../oom/audithound
 * with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup,... so
 * that every allocation of our own objects, none of whose call sites change,
 * comes through here; cJSON's and PCRE2's allocations are routed here too
 * (cJSON_InitHooks; a PCRE2 general context substituted where the library
 * passes NULL). libarchive, zlib, ISA-L and libxlsxwriter have no hooks and
 * allocate unseen.
 *
 * Environment (read once at start):
 *   AH_OOM_FAIL_AT=N   the N-th counted allocation (1-based) fails; 0 or unset: none
 *   AH_OOM_MODE=after  every allocation from the N-th on fails (default: only the N-th)
 *   AH_OOM_REPORT=FILE at exit, write "calls N\nfailed F\nhunt M\n" to FILE, M the
 *                      count when ah_hunt_new was entered (the rules loaded), 0 if never
 *   AH_OOM_TRACE=1     print the call stack of the first failed allocation to stderr
 *                      (addresses: addr2line -e BINARY resolves them)
 *
 * The counter is process-wide test state (an atomic: worker threads
 * allocate too); the program under test keeps none.
 */
#include "analyzer/engine/hunt.h"

#include <cjson/cJSON.h>
#include <execinfo.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t count, size_t size);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t count, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

pcre2_code *__real_pcre2_compile_8(PCRE2_SPTR pattern, PCRE2_SIZE length, uint32_t options, int *errorcode,
                                   PCRE2_SIZE *erroroffset, pcre2_compile_context *ccontext);
pcre2_code *__wrap_pcre2_compile_8(PCRE2_SPTR pattern, PCRE2_SIZE length, uint32_t options, int *errorcode,
                                   PCRE2_SIZE *erroroffset, pcre2_compile_context *ccontext);
pcre2_match_data *__real_pcre2_match_data_create_8(uint32_t ovecsize, pcre2_general_context *gcontext);
pcre2_match_data *__wrap_pcre2_match_data_create_8(uint32_t ovecsize, pcre2_general_context *gcontext);
pcre2_match_context *__real_pcre2_match_context_create_8(pcre2_general_context *gcontext);
pcre2_match_context *__wrap_pcre2_match_context_create_8(pcre2_general_context *gcontext);
pcre2_jit_stack *__real_pcre2_jit_stack_create_8(size_t startsize, size_t maxsize, pcre2_general_context *gcontext);
pcre2_jit_stack *__wrap_pcre2_jit_stack_create_8(size_t startsize, size_t maxsize, pcre2_general_context *gcontext);

static atomic_ulong calls;     /* counted allocations so far */
static atomic_ulong failed;    /* of which failed */
static atomic_ulong hunt_mark; /* calls when ah_hunt_new was entered */
static unsigned long fail_at;
static int fail_after;
static int trace;
static const char *report_path;
static pcre2_general_context *pcre_gcx;
static pcre2_compile_context *pcre_ccx;

static int should_fail(void)
{
    unsigned long k = atomic_fetch_add(&calls, 1) + 1;
    if (fail_at == 0 || k < fail_at || (k > fail_at && !fail_after))
        return 0;
    if (atomic_fetch_add(&failed, 1) == 0 && trace) {
        void *frames[32];
        backtrace_symbols_fd(frames, backtrace(frames, 32), 2);
    }
    return 1;
}

void *__wrap_malloc(size_t n) { return should_fail() ? NULL : __real_malloc(n); }

void *__wrap_calloc(size_t count, size_t size) { return should_fail() ? NULL : __real_calloc(count, size); }

void *__wrap_realloc(void *p, size_t n) { return should_fail() ? NULL : __real_realloc(p, n); }

char *__wrap_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = __wrap_malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

char *__wrap_strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *d = __wrap_malloc(len + 1);
    if (d) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

static void *pcre_malloc(PCRE2_SIZE n, void *ud)
{
    (void)ud;
    return __wrap_malloc(n);
}

static void pcre_free(void *p, void *ud)
{
    (void)ud;
    free(p);
}

pcre2_code *__wrap_pcre2_compile_8(PCRE2_SPTR pattern, PCRE2_SIZE length, uint32_t options, int *errorcode,
                                   PCRE2_SIZE *erroroffset, pcre2_compile_context *ccontext)
{
    return __real_pcre2_compile_8(pattern, length, options, errorcode, erroroffset, ccontext ? ccontext : pcre_ccx);
}

pcre2_match_data *__wrap_pcre2_match_data_create_8(uint32_t ovecsize, pcre2_general_context *gcontext)
{
    return __real_pcre2_match_data_create_8(ovecsize, gcontext ? gcontext : pcre_gcx);
}

pcre2_match_context *__wrap_pcre2_match_context_create_8(pcre2_general_context *gcontext)
{
    return __real_pcre2_match_context_create_8(gcontext ? gcontext : pcre_gcx);
}

pcre2_jit_stack *__wrap_pcre2_jit_stack_create_8(size_t startsize, size_t maxsize, pcre2_general_context *gcontext)
{
    return __real_pcre2_jit_stack_create_8(startsize, maxsize, gcontext ? gcontext : pcre_gcx);
}

ah_hunt *__real_ah_hunt_new(const ah_ruleset *rs, const ah_hunt_options *opt, ah_diag *diag);
ah_hunt *__wrap_ah_hunt_new(const ah_ruleset *rs, const ah_hunt_options *opt, ah_diag *diag);

/* Marks where a hunt's rules are loaded: the test can tell the phases apart. */
ah_hunt *__wrap_ah_hunt_new(const ah_ruleset *rs, const ah_hunt_options *opt, ah_diag *diag)
{
    atomic_store(&hunt_mark, atomic_load(&calls));
    return __real_ah_hunt_new(rs, opt, diag);
}

static void write_report(void)
{
    FILE *f = fopen(report_path, "w");
    if (!f)
        return;
    fprintf(f, "calls %lu\nfailed %lu\nhunt %lu\n", atomic_load(&calls), atomic_load(&failed), atomic_load(&hunt_mark));
    fclose(f);
}

__attribute__((constructor)) static void alloc_fail_init(void)
{
    /* The contexts are made before counting starts: they are the harness's. */
    pcre_gcx = pcre2_general_context_create(pcre_malloc, pcre_free, NULL);
    pcre_ccx = pcre2_compile_context_create(pcre_gcx);
    static cJSON_Hooks hooks = {__wrap_malloc, free};
    cJSON_InitHooks(&hooks);
    atomic_store(&calls, 0);

    const char *at = getenv("AH_OOM_FAIL_AT");
    const char *mode = getenv("AH_OOM_MODE");
    fail_after = mode && strcmp(mode, "after") == 0;
    report_path = getenv("AH_OOM_REPORT");
    trace = getenv("AH_OOM_TRACE") != NULL;
    if (trace) { /* backtrace() loads libgcc on first use: not while failing */
        void *frame[1];
        (void)backtrace(frame, 1);
    }
    if (report_path && *report_path)
        atexit(write_report);
    fail_at = at ? strtoul(at, NULL, 10) : 0;
}
