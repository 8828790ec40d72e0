/*
 * cli_rules.c: the rule options every rule-using subcommand shares, and
 * where the shipped rules are found when none are named.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static int push(const char ***v, size_t *n, const char *s)
{
    const char **nv = realloc(*v, (*n + 1) * sizeof **v);
    if (!nv) {
        ah_cli_errorf("out of memory");
        return AH_EXIT_NOMEM;
    }
    nv[(*n)++] = s;
    *v = nv;
    return 0;
}

int ah_cli_rules_opt(ah_cli_rules *r, int id, const char *arg)
{
    switch (id) {
    case AH_OPT_RULES: return push(&r->paths, &r->npaths, arg) ? AH_EXIT_NOMEM : 1;
    case AH_OPT_SET:
        if (!strchr(arg, '='))
            return ah_cli_usage_error(NULL, "--set: expected NAME=VALUE, not '%s'", arg);
        return push(&r->sets, &r->nsets, arg) ? AH_EXIT_NOMEM : 1;
    case AH_OPT_VARS: r->vars_file = arg; return 1;
    }
    return 0;
}

void ah_cli_rules_free(ah_cli_rules *r)
{
    free(r->paths);
    free(r->sets);
    r->paths = r->sets = NULL;
    r->npaths = r->nsets = 0;
}

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *ah_cli_default_rules(char *buf, size_t size)
{
    const char *env = getenv("AUDITHOUND_RULES");
    if (env && *env) {
        snprintf(buf, size, "%s", env);
        return buf;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return NULL;
    *slash = '\0';
    /* installed; build/audithound; build/<variant>/audithound */
    static const char *const rel[] = {"/../share/audithound/rules", "/../rules", "/../../rules"};
    for (size_t i = 0; i < AH_ARRAY_LEN(rel); i++) {
        snprintf(buf, size, "%s%s", exe, rel[i]);
        if (is_dir(buf))
            return buf;
    }
    return NULL;
}

ah_ruleset *ah_cli_load_rules(const ah_cli_rules *r, ah_diag *diag, int *exit_status)
{
    *exit_status = AH_EXIT_USAGE;
    ah_ruleset *rs = ah_ruleset_new(diag);
    if (!rs) {
        ah_cli_errorf("out of memory");
        *exit_status = AH_EXIT_NOMEM;
        return NULL;
    }
    bool ok = true;
    if (r->vars_file && ah_ruleset_load_vars_file(rs, r->vars_file) != AH_OK)
        ok = false;
    for (size_t i = 0; i < r->nsets; i++)
        if (ah_ruleset_set_var_arg(rs, r->sets[i]) != AH_OK) {
            ah_cli_errorf("--set %s: not a valid variable assignment", r->sets[i]);
            ok = false;
        }
    char def[PATH_MAX];
    if (r->npaths == 0) {
        const char *p = ah_cli_default_rules(def, sizeof def);
        if (!p) {
            ah_cli_errorf("no rules given and the shipped rules were not found (use -r PATH or set AUDITHOUND_RULES)");
            ah_ruleset_free(rs);
            return NULL;
        }
        if (ah_ruleset_load_path(rs, p) != AH_OK)
            ok = false;
    }
    for (size_t i = 0; i < r->npaths; i++)
        if (ah_ruleset_load_path(rs, r->paths[i]) != AH_OK)
            ok = false;
    if (ah_ruleset_compile(rs) != AH_OK)
        ok = false;
    if (ah_ruleset_status(rs) != AH_OK) {
        /* Not a fault of the rules, whatever errors it caused. */
        ah_cli_errorf("out of memory");
        *exit_status = AH_EXIT_NOMEM;
        ah_ruleset_free(rs);
        return NULL;
    }
    if (!ok || ah_ruleset_error_count(rs) > 0) {
        ah_cli_errorf("%llu error(s) in the rules; nothing was run", (unsigned long long)ah_ruleset_error_count(rs));
        ah_ruleset_free(rs);
        return NULL;
    }
    *exit_status = 0;
    return rs;
}
