/*
 * cmd_sigma.c: `audithound sigma convert FILE...` prints the rules a Sigma
 * file becomes (exactly the text `hunt -r FILE` compiles) and, on standard
 * error, each Sigma rule that cannot run faithfully with the reason.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../rules/sigma.h"
#include "cli.h"

#define SIGMA_MAX_FILE (16u << 20) /* as for rule files */

static const ah_cli_opt sigma_opts[] = {
    {0, 0, NULL, NULL, NULL},
};

static int sigma_opt(void *ctx, int id, const char *arg)
{
    (void)ctx;
    (void)id;
    (void)arg;
    return 0;
}

typedef struct convert_ctx {
    const char *path;
    size_t printed;
    size_t unsupported;
    ah_buf out; /* standard output, written whole at the end: none if memory runs out */
} convert_ctx;

static void print_rule(void *ud, const ah_sigma_rule *r)
{
    convert_ctx *c = ud;
    if (r->text) {
        if (c->printed++)
            ah_buf_putc(&c->out, '\n');
        ah_buf_append(&c->out, r->text, r->len);
        return;
    }
    if (!r->is_rule) {
        fprintf(stderr, "%s:%llu:%llu: note: not a Sigma rule (no detection or correlation): ignored\n", c->path,
                (unsigned long long)r->line, (unsigned long long)r->col);
        return;
    }
    c->unsupported++;
    fprintf(stderr, "%s:%llu:%llu: warning: Sigma rule %s skipped: %s\n", c->path, (unsigned long long)r->line,
            (unsigned long long)r->col, r->id, r->unsupported);
}

static bool read_all(const char *path, char **text, size_t *len, bool *nomem)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        ah_cli_errorf("cannot open %s: %s", path, strerror(errno));
        return false;
    }
    ah_buf b;
    ah_buf_init(&b, SIGMA_MAX_FILE);
    char chunk[65536];
    size_t n;
    bool ok = true;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (ah_buf_append(&b, chunk, n) != AH_OK) {
            if (ah_buf_status(&b) == AH_ERR_NOMEM)
                *nomem = true;
            else
                ah_cli_errorf("%s: larger than %u bytes", path, SIGMA_MAX_FILE);
            ok = false;
            break;
        }
    if (ferror(f)) {
        ah_cli_errorf("cannot read %s: %s", path, strerror(errno));
        ok = false;
    }
    fclose(f);
    if (!ok) {
        ah_buf_free(&b);
        return false;
    }
    *len = b.len;
    *text = b.data ? b.data : calloc(1, 1);
    if (!*text)
        *nomem = true;
    return *text != NULL;
}

static int run_sigma(int argc, char **argv);

const ah_cli_cmd cmd_sigma = {
    "sigma",
    "convert FILE...",
    "translate Sigma rules (YAML) into audithound rules and print them",
    "`sigma convert` prints, for each Sigma rule of each FILE, the audithound rule it\n"
    "becomes: exactly what `hunt -r FILE` and `lint FILE` compile (docs/sigma.md has the\n"
    "field mapping). A Sigma rule that cannot run faithfully (an unmapped field, an\n"
    "unsupported modifier, a logsource no export carries) is not printed: standard error\n"
    "names it with file:line:col and the reason. Exit status: 0 every rule converted,\n"
    "1 some rule is unsupported, 2 a file is unreadable or not YAML.",
    sigma_opts,
    run_sigma,
};

static int run_sigma(int argc, char **argv)
{
    int status = 0;
    int first = ah_cli_parse(&cmd_sigma, argc, argv, sigma_opt, NULL, &status);
    if (first < 0)
        return status;
    if (first >= argc)
        return ah_cli_usage_error(&cmd_sigma, "no action given (sigma convert FILE...)");
    if (strcmp(argv[first], "convert") != 0)
        return ah_cli_usage_error(&cmd_sigma, "unknown action '%s' (sigma convert FILE...)", argv[first]);
    if (first + 1 >= argc)
        return ah_cli_usage_error(&cmd_sigma, "no Sigma file given");
    bool failed = false;
    size_t unsupported = 0;
    bool nomem = false;
    convert_ctx c = {0};
    ah_buf_init(&c.out, 0);
    for (int i = first + 1; i < argc && !nomem; i++) {
        char *text = NULL;
        size_t len = 0;
        if (!read_all(argv[i], &text, &len, &nomem)) {
            failed = true;
            continue;
        }
        c.path = argv[i];
        c.unsupported = 0;
        char err[512];
        ah_status st = ah_sigma_convert(argv[i], text, len, print_rule, &c, err, sizeof err);
        free(text);
        unsupported += c.unsupported;
        if (st == AH_ERR_NOMEM)
            nomem = true;
        else if (st != AH_OK) {
            unsigned long long line = 0, col = 0;
            int used = 0;
            if (sscanf(err, "%llu:%llu: %n", &line, &col, &used) == 2 && used > 0)
                fprintf(stderr, "%s:%llu:%llu: error: %s\n", argv[i], line, col, err + used);
            else
                fprintf(stderr, "%s: error: %s\n", argv[i], err[0] ? err : "cannot convert");
            failed = true;
        }
    }
    if (nomem || ah_buf_status(&c.out) != AH_OK) {
        ah_buf_free(&c.out);
        ah_cli_errorf("out of memory");
        return AH_EXIT_NOMEM;
    }
    fwrite(c.out.data ? c.out.data : "", 1, c.out.len, stdout);
    ah_buf_free(&c.out);
    return ah_cli_stdout_status(failed ? AH_EXIT_USAGE : unsupported ? AH_EXIT_NO_HITS : 0);
}
