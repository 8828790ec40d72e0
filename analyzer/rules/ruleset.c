/*
 * ruleset.c: the driver. The ruleset handle: loading files and variables,
 * compiling (parser.c, compile.c, corr.c), building the skip index
 * (opindex.c), accessors, and ad-hoc expressions for `search`.
 *
 * A rule pins its operations when its condition is operation == X,
 * operation in [...], or an `or` of those, at the top level or as one term
 * of a top-level `and`; opindex.c files it under each of them.
 *
 * Size: the driver: loading, variables, compiling, the skip index and ad-
 * hoc expressions share the ruleset handle.
 */
#include "rules_private.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../parsers/util/hash.h"
#include "sigma.h"

#define IDMAP_SEED 0x61686964ull /* "ahid" */

ah_ruleset *ah_ruleset_new(ah_diag *diag)
{
    ah_ruleset *rs = calloc(1, sizeof *rs);
    if (!rs)
        return NULL;
    rs->diag = diag;
    ahi_store_init(&rs->store);
    return rs;
}

void ah_ruleset_free(ah_ruleset *rs)
{
    if (!rs)
        return;
    ahi_store_free(&rs->store);
    free(rs->idmap);
    free(rs);
}

uint64_t ah_ruleset_error_count(const ah_ruleset *rs) { return rs ? rs->errors : 0; }

ah_status ah_ruleset_status(const ah_ruleset *rs) { return !rs || rs->store.arena.nomem ? AH_ERR_NOMEM : AH_OK; }

/* --- variables --------------------------------------------------------- */

static bool valid_var_name(const char *s, size_t n)
{
    if (n == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
              s[i] == '_'))
            return false;
    return true;
}

/* st, remembered in the ruleset's status when it is out of memory. */
static ah_status noted(ah_ruleset *rs, ah_status st)
{
    if (st == AH_ERR_NOMEM && rs)
        ahi_nomem(&rs->store.arena);
    return st;
}

static ah_status set_var_n(ah_ruleset *rs, const char *name, size_t nn, const char *value, size_t vn, const char *file)
{
    if (!rs || rs->compiled || !valid_var_name(name, nn))
        return AH_ERR_USAGE;
    char *v = ahi_strndup(&rs->store.arena, value, vn);
    if (!v)
        return AH_ERR_NOMEM;
    for (ahi_var *x = rs->vars; x; x = x->next)
        if (strlen(x->name) == nn && memcmp(x->name, name, nn) == 0) {
            x->value = v;
            x->file = file;
            return AH_OK;
        }
    ahi_var *x = ahi_alloc(&rs->store.arena, sizeof *x);
    if (!x || !(x->name = ahi_strndup(&rs->store.arena, name, nn)))
        return AH_ERR_NOMEM;
    x->value = v;
    x->file = file;
    x->next = rs->vars;
    rs->vars = x;
    return AH_OK;
}

ah_status ah_ruleset_set_var(ah_ruleset *rs, const char *name, const char *value)
{
    if (!name || !value)
        return AH_ERR_USAGE;
    return noted(rs, set_var_n(rs, name, strlen(name), value, strlen(value), NULL));
}

const char *ah_ruleset_var(const ah_ruleset *rs, const char *name)
{
    for (const ahi_var *x = rs ? rs->vars : NULL; x; x = x->next)
        if (strcmp(x->name, name) == 0)
            return x->value;
    return NULL;
}

ah_status ah_ruleset_set_var_arg(ah_ruleset *rs, const char *assignment)
{
    const char *eq = assignment ? strchr(assignment, '=') : NULL;
    if (!eq)
        return AH_ERR_USAGE;
    return noted(rs, set_var_n(rs, assignment, (size_t)(eq - assignment), eq + 1, strlen(eq + 1), NULL));
}

/* false with *why set when the file cannot be read; *nomem tells out of memory apart. */
static bool read_file(const char *path, size_t limit, char **text, size_t *len, const char **why, bool *nomem)
{
    *nomem = false;
    FILE *f = fopen(path, "rb");
    if (!f) {
        *why = strerror(errno);
        return false;
    }
    ah_buf b;
    ah_buf_init(&b, limit);
    char chunk[8192];
    size_t n;
    bool ok = true;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        ah_status st = ah_buf_append(&b, chunk, n);
        if (st != AH_OK) {
            *nomem = st == AH_ERR_NOMEM;
            *why = *nomem ? "out of memory" : "file too large";
            ok = false;
            break;
        }
    }
    if (ok && ferror(f)) {
        *why = "read error";
        ok = false;
    }
    fclose(f);
    if (!ok) {
        ah_buf_free(&b);
        return false;
    }
    *text = b.data;
    *len = b.len;
    if (!*text) {
        *text = calloc(1, 1);
        if (!*text) {
            *why = "out of memory";
            *nomem = true;
            return false;
        }
    }
    return true;
}

ah_status ah_ruleset_load_vars_file(ah_ruleset *rs, const char *path)
{
    if (!rs || !path || rs->compiled)
        return AH_ERR_USAGE;
    char *text = NULL;
    size_t len = 0;
    const char *why = NULL;
    bool nomem;
    if (!read_file(path, 1u << 20, &text, &len, &why, &nomem)) {
        rs->errors++;
        ahi_report(rs->diag, NULL, 0, 0, AH_SEV_ERROR, "cannot read variables file %s: %s", path, why);
        return noted(rs, nomem ? AH_ERR_NOMEM : AH_ERR_IO);
    }
    ah_status st = AH_OK;
    ahi_src *src = ahi_src_new(&rs->store.arena, path, text, len);
    free(text);
    if (!src)
        return AH_ERR_NOMEM;
    for (size_t li = 0; li < src->nlines; li++) {
        size_t a = src->lines[li];
        size_t e = li + 1 < src->nlines ? src->lines[li + 1] - 1 : src->len;
        while (a < e && (src->text[a] == ' ' || src->text[a] == '\t'))
            a++;
        while (e > a && (src->text[e - 1] == ' ' || src->text[e - 1] == '\t' || src->text[e - 1] == '\r'))
            e--;
        if (a == e || src->text[a] == '#')
            continue;
        const char *line = src->text + a;
        const char *eq = memchr(line, '=', e - a);
        if (!eq) {
            ahi_report(rs->diag, src, a, e - a, AH_SEV_ERROR, "expected name=value");
            rs->errors++;
            st = AH_ERR_SYNTAX;
            continue;
        }
        size_t nn = (size_t)(eq - line);
        while (nn > 0 && (line[nn - 1] == ' ' || line[nn - 1] == '\t'))
            nn--;
        const char *v = eq + 1;
        size_t vn = (size_t)(src->text + e - v);
        while (vn > 0 && (*v == ' ' || *v == '\t')) {
            v++;
            vn--;
        }
        if (vn >= 2 && ((v[0] == '"' && v[vn - 1] == '"') || (v[0] == '\'' && v[vn - 1] == '\''))) {
            v++;
            vn -= 2;
        }
        if (!valid_var_name(line, nn)) {
            ahi_report(rs->diag, src, a, nn ? nn : 1, AH_SEV_ERROR, "bad variable name (letters, digits, _)");
            rs->errors++;
            st = AH_ERR_SYNTAX;
            continue;
        }
        ah_status s2 = set_var_n(rs, line, nn, v, vn, src->path);
        if (s2 != AH_OK)
            return noted(rs, s2);
    }
    return st;
}

/* --- loading rules ----------------------------------------------------- */

/* The slot of `id` in the id map: the one holding its rule, or the empty
 * slot where it would go. The map must not be empty. */
static size_t idmap_slot(const ah_ruleset *rs, const char *id)
{
    size_t i = (size_t)ah_hash64(id, strlen(id), IDMAP_SEED) & rs->idmask;
    while (rs->idmap[i] && strcmp(rs->rules[rs->idmap[i] - 1]->meta.id, id) != 0)
        i = (i + 1) & rs->idmask;
    return i;
}

/* Make room for one more id (at most half full), rehashing into a table twice the size. */
static bool idmap_reserve(ah_ruleset *rs, size_t nids)
{
    size_t slots = rs->idmap ? rs->idmask + 1 : 0;
    if ((nids + 1) * 2 <= slots)
        return true;
    size_t nslots = slots ? slots * 2 : 64;
    if (nslots > SIZE_MAX / sizeof *rs->idmap)
        return false;
    uint32_t *old = rs->idmap;
    size_t old_slots = slots;
    rs->idmap = calloc(nslots, sizeof *rs->idmap);
    if (!rs->idmap) {
        rs->idmap = old;
        return false;
    }
    rs->idmask = nslots - 1;
    for (size_t i = 0; i < old_slots; i++)
        if (old[i])
            rs->idmap[idmap_slot(rs, rs->rules[old[i] - 1]->meta.id)] = old[i];
    free(old);
    return true;
}

static bool sink(void *ud, ah_rule *r)
{
    ah_ruleset *rs = ud;
    if (!ahi_grow(&rs->store.arena, (void **)&rs->rules, &rs->caprules, rs->nrules, sizeof *rs->rules) ||
        rs->nrules >= UINT32_MAX - 1 || (r->meta.id[0] && !idmap_reserve(rs, rs->nrules))) {
        rs->errors++;
        ahi_report(rs->diag, r->src, r->id_off, r->id_len, AH_SEV_ERROR, "out of memory");
        return ahi_nomem(&rs->store.arena);
    }
    if (r->meta.id[0]) {
        size_t slot = idmap_slot(rs, r->meta.id);
        if (rs->idmap[slot]) {
            const ah_rule *o = rs->rules[rs->idmap[slot] - 1];
            rs->errors++;
            ahi_report(rs->diag, r->src, r->id_off, r->id_len, AH_SEV_ERROR, "duplicate rule id '%s'", r->meta.id);
            ahi_report(rs->diag, o->src, o->id_off, o->id_len, AH_SEV_NOTE, "'%s' first defined here", o->meta.id);
            r->failed = true;
            r->meta.skipped = "duplicate rule id";
        } else
            rs->idmap[slot] = (uint32_t)rs->nrules + 1;
    }
    r->meta.index = rs->nrules;
    rs->rules[rs->nrules++] = r;
    return true;
}

static ah_status load_text(ah_ruleset *rs, const char *name, const char *text, size_t len, bool sigma)
{
    if (!rs || !name || !text || rs->compiled)
        return AH_ERR_USAGE;
    if (len > AHI_MAX_RULE_FILE) {
        rs->errors++;
        ahi_report(rs->diag, NULL, 0, 0, AH_SEV_ERROR, "%s: rule file larger than %u bytes", name, AHI_MAX_RULE_FILE);
        return AH_ERR_TOOBIG;
    }
    ahi_src *src = ahi_src_new(&rs->store.arena, name, text, len);
    if (!src)
        return AH_ERR_NOMEM;
    src->sigma = sigma;
    src->next = rs->srcs;
    rs->srcs = src;
    uint64_t before = rs->errors;
    ahi_parse_file(src, &rs->store.arena, rs->diag, &rs->errors, sink, rs);
    return rs->errors > before ? AH_ERR_SYNTAX : AH_OK;
}

ah_status ah_ruleset_load_string(ah_ruleset *rs, const char *name, const char *text, size_t len)
{
    return load_text(rs, name, text, len, false);
}

/* --- Sigma files (sigma.c translates; the rules compile as ours) ------- */

typedef struct sigma_load {
    ah_ruleset *rs;
    const char *path;
    const ahi_src *yaml; /* the YAML text, for messages */
    ah_status st;
} sigma_load;

/* Byte offset of a 1-based line and (character) column in the YAML text. */
static size_t yaml_offset(const ahi_src *s, uint64_t line, uint64_t col)
{
    if (line == 0 || line > s->nlines)
        return 0;
    size_t off = s->lines[line - 1];
    for (uint64_t c = 1; c < col && off < s->len && s->text[off] != '\n'; c++) {
        off++;
        while (off < s->len && ((unsigned char)s->text[off] & 0xC0) == 0x80)
            off++;
    }
    return off;
}

static void sigma_one(void *ud, const ah_sigma_rule *r)
{
    sigma_load *L = ud;
    ah_ruleset *rs = L->rs;
    size_t off = yaml_offset(L->yaml, r->line, r->col);
    size_t end = off;
    while (end < L->yaml->len && L->yaml->text[end] != '\n' && L->yaml->text[end] != '\r')
        end++;
    size_t before = rs->nrules;
    if (r->text) {
        ah_status st = load_text(rs, L->path, r->text, r->len, true);
        if (st != AH_OK && L->st == AH_OK)
            L->st = st;
    } else if (!r->is_rule) {
        ahi_report(rs->diag, L->yaml, off, end - off, AH_SEV_NOTE,
                   "not a Sigma rule (no detection or correlation): ignored");
        return;
    } else {
        ahi_report(rs->diag, L->yaml, off, end - off, AH_SEV_WARNING, "Sigma rule %s skipped: %s", r->id,
                   r->unsupported);
        /* Listed, never run: the run's summary names it with the reason. */
        ah_buf stub;
        ah_buf_init(&stub, 0);
        ah_buf_printf(&stub, "rule %s {\n  title \"-\"\n  severity info\n  sources ual\n  match false\n}\n", r->id);
        if (ah_buf_status(&stub) != AH_OK)
            ahi_nomem(&rs->store.arena);
        else
            load_text(rs, L->path, ah_buf_cstr(&stub), stub.len, true);
        ah_buf_free(&stub);
        if (rs->nrules > before) {
            ah_rule *x = rs->rules[rs->nrules - 1];
            size_t n = strlen(r->unsupported) + 32;
            char *why = ahi_alloc(&rs->store.arena, n);
            if (why)
                snprintf(why, n, "unsupported Sigma rule: %s", r->unsupported);
            char *title = ahi_strdup(&rs->store.arena, r->title);
            x->meta.title = title ? title : "";
            x->meta.skipped = why ? why : "unsupported Sigma rule";
            x->meta.sources = r->sources ? r->sources : x->meta.sources;
            x->failed = true;
        }
    }
    for (size_t i = before; i < rs->nrules; i++)
        rs->rules[i]->meta.line = r->line;
}

static ah_status load_sigma(ah_ruleset *rs, const char *path, const char *text, size_t len)
{
    ahi_src *yaml = ahi_src_new(&rs->store.arena, path, text, len);
    if (!yaml)
        return AH_ERR_NOMEM;
    sigma_load L = {rs, path, yaml, AH_OK};
    char err[512];
    ah_status st = ah_sigma_convert(path, text, len, sigma_one, &L, err, sizeof err);
    if (st != AH_OK) {
        rs->errors++;
        unsigned long long line = 0, col = 0;
        int used = 0;
        if (sscanf(err, "%llu:%llu: %n", &line, &col, &used) == 2 && used > 0) {
            size_t off = yaml_offset(yaml, line, col);
            ahi_report(rs->diag, yaml, off, off < yaml->len ? 1 : 0, AH_SEV_ERROR, "%s", err + used);
        } else
            ahi_report(rs->diag, NULL, 0, 0, AH_SEV_ERROR, "%s: %s", path, err[0] ? err : "cannot read the Sigma file");
        return st == AH_ERR_NOMEM ? noted(rs, st) : AH_ERR_SYNTAX;
    }
    return L.st;
}

static ah_status load_file(ah_ruleset *rs, const char *path)
{
    char *text = NULL;
    size_t len = 0;
    const char *why = NULL;
    bool nomem;
    if (!read_file(path, AHI_MAX_RULE_FILE, &text, &len, &why, &nomem)) {
        rs->errors++;
        ahi_report(rs->diag, NULL, 0, 0, AH_SEV_ERROR, "cannot read rule file %s: %s", path, why);
        return noted(rs, nomem ? AH_ERR_NOMEM : AH_ERR_IO);
    }
    ah_status st =
        ah_sigma_is_sigma_path(path) ? load_sigma(rs, path, text, len) : ah_ruleset_load_string(rs, path, text, len);
    free(text);
    return st;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n > k && strcmp(s + n - k, suffix) == 0;
}

static ah_status load_dir(ah_ruleset *rs, const char *path, int depth)
{
    if (depth > AHI_MAX_DIR_DEPTH) {
        rs->errors++;
        ahi_report(rs->diag, NULL, 0, 0, AH_SEV_ERROR, "%s: directories nested too deeply", path);
        return AH_ERR_IO;
    }
    DIR *d = opendir(path);
    if (!d) {
        rs->errors++;
        ahi_report(rs->diag, NULL, 0, 0, AH_SEV_ERROR, "cannot read directory %s: %s", path, strerror(errno));
        return AH_ERR_IO;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    ah_status st = AH_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            char **nn = ah_grow_array(names, &cap, 16, sizeof *nn);
            if (!nn) {
                st = AH_ERR_NOMEM;
                goto out;
            }
            names = nn;
        }
        size_t len = strlen(path) + strlen(e->d_name) + 2;
        names[n] = malloc(len);
        if (!names[n]) {
            st = AH_ERR_NOMEM;
            goto out;
        }
        snprintf(names[n], len, "%s%s%s", path, ends_with(path, "/") ? "" : "/", e->d_name);
        n++;
    }
    if (n > 1)
        qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        struct stat sb;
        if (stat(names[i], &sb) != 0)
            continue;
        ah_status s2 = AH_OK;
        if (S_ISDIR(sb.st_mode))
            s2 = load_dir(rs, names[i], depth + 1);
        else if (S_ISREG(sb.st_mode) && (ends_with(names[i], ".rules") || ah_sigma_is_sigma_path(names[i])))
            s2 = load_file(rs, names[i]);
        if (s2 != AH_OK && (st == AH_OK || s2 == AH_ERR_IO))
            st = s2;
    }
out:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    closedir(d);
    return noted(rs, st);
}

ah_status ah_ruleset_load_path(ah_ruleset *rs, const char *path)
{
    if (!rs || !path || rs->compiled)
        return AH_ERR_USAGE;
    struct stat sb;
    if (stat(path, &sb) != 0) {
        rs->errors++;
        ahi_report(rs->diag, NULL, 0, 0, AH_SEV_ERROR, "cannot open %s: %s", path, strerror(errno));
        return AH_ERR_IO;
    }
    if (S_ISDIR(sb.st_mode))
        return load_dir(rs, path, 0);
    return load_file(rs, path);
}

/* --- compiling --------------------------------------------------------- */

static void cctx_init(ahi_cctx *cx, ah_ruleset *rs, const ah_rule *r)
{
    memset(cx, 0, sizeof *cx);
    cx->store = &rs->store;
    cx->diag = rs->diag;
    cx->errors = &rs->errors;
    cx->src = r->src;
    cx->vars = rs->vars;
    cx->basedir = r->src->dir;
    cx->sources = r->meta.sources;
}

/* A correlation rule: its steps, keys and template (corr.c). Rules with
 * an unset variable are set aside like single-event rules. */
static void compile_correlation(ah_ruleset *rs, ah_rule *r)
{
    if (r->failed)
        return;
    ahi_cctx cx;
    cctx_init(&cx, rs, r);
    if (!ahi_corr_compile(rs, r, &cx)) {
        r->failed = true;
        r->meta.skipped = "it has errors";
        return;
    }
    r->meta.needs_raw = cx.needs_raw;
    r->meta.variables.n = cx.nused_vars;
    r->meta.variables.v = cx.nused_vars ? ahi_alloc(&rs->store.arena, cx.nused_vars * sizeof(char *)) : NULL;
    if (r->meta.variables.v)
        memcpy((void *)r->meta.variables.v, cx.used_vars, cx.nused_vars * sizeof(char *));
    else
        r->meta.variables.n = 0;
    if (cx.missing_var) {
        size_t n = strlen(cx.missing_var) + 64;
        char *why = ahi_alloc(&rs->store.arena, n);
        if (why)
            snprintf(why, n, "variable %s not set", cx.missing_var);
        r->meta.skipped = why ? why : "a variable is not set";
        r->test_skipped = r->meta.skipped;
        ahi_report(rs->diag, r->src, r->id_off, r->id_len, AH_SEV_NOTE,
                   "rule %s skipped: variable %s not set (--set %s=VALUE)", r->meta.id, cx.missing_var, cx.missing_var);
    }
}

/* The distinct list files of the store (kept newest first, one entry per
 * path and mode) in load order, for the chain of custody. */
static bool collect_list_files(ah_ruleset *rs)
{
    size_t n = 0;
    for (const ahi_listfile *l = rs->store.lists; l; l = l->next)
        n++;
    if (n == 0)
        return true;
    const ahi_listfile **order = calloc(n, sizeof *order);
    rs->listinfo = ahi_alloc(&rs->store.arena, n * sizeof *rs->listinfo);
    if (!order || !rs->listinfo) {
        free(order);
        return false;
    }
    size_t k = n;
    for (const ahi_listfile *l = rs->store.lists; l; l = l->next)
        order[--k] = l;
    for (size_t i = 0; i < n; i++) {
        bool seen = false;
        for (size_t j = 0; j < rs->nlistinfo && !seen; j++)
            seen = strcmp(rs->listinfo[j].path, order[i]->path) == 0;
        if (!seen)
            rs->listinfo[rs->nlistinfo++] = (ah_list_file_info){order[i]->path, order[i]->sha256, order[i]->size};
    }
    free(order);
    return true;
}

ah_status ah_ruleset_compile(ah_ruleset *rs)
{
    if (!rs || rs->compiled)
        return AH_ERR_USAGE;
    for (size_t i = 0; i < rs->nrules; i++) {
        ah_rule *r = rs->rules[i];
        if (r->corr) {
            compile_correlation(rs, r);
            continue;
        }
        if (r->failed || !r->match)
            continue;
        ahi_cctx cx;
        cctx_init(&cx, rs, r);
        uint64_t before = rs->errors;
        ahi_cnode *cond = ahi_compile_node(&cx, r->match);
        if (r->details_text) {
            r->tmpl =
                ahi_compile_template(&cx, r->details_text, strlen(r->details_text), r->details_off, r->details_len);
            if (!r->tmpl)
                cond = NULL;
        }
        if (!cond && rs->errors == before) { /* every other failure reports itself */
            ahi_nomem(&rs->store.arena);
            ahi_cerr(&cx, r->details_off, 0, "rule '%s': out of memory while compiling it", r->meta.id);
        }
        if (!cond || rs->errors > before) {
            r->failed = true;
            r->meta.skipped = "it has errors";
            continue;
        }
        r->meta.needs_raw = cx.needs_raw;
        r->meta.variables.n = cx.nused_vars;
        r->meta.variables.v = cx.nused_vars ? ahi_alloc(&rs->store.arena, cx.nused_vars * sizeof(char *)) : NULL;
        if (r->meta.variables.v)
            memcpy((void *)r->meta.variables.v, cx.used_vars, cx.nused_vars * sizeof(char *));
        else
            r->meta.variables.n = 0;
        if (cx.missing_var) {
            size_t n = strlen(cx.missing_var) + 64;
            char *why = ahi_alloc(&rs->store.arena, n);
            if (why)
                snprintf(why, n, "variable %s not set", cx.missing_var);
            r->meta.skipped = why ? why : "a variable is not set";
            r->test_skipped = r->meta.skipped;
            ahi_report(rs->diag, r->src, r->id_off, r->id_len, AH_SEV_NOTE,
                       "rule %s skipped: variable %s not set (--set %s=VALUE)", r->meta.id, cx.missing_var,
                       cx.missing_var);
        } else {
            r->cond = cond;
            if (!ahi_pinned_ops(cond, &r->pinned, &r->npinned, &rs->store.arena)) {
                r->pinned = NULL;
                r->npinned = 0;
            } else if (!r->pinned) {
                /* Pinned to no operation at all (e.g. `false`): keep an
                 * empty, non-NULL list so the rule is never a candidate. */
                r->pinned = ahi_alloc(&rs->store.arena, sizeof *r->pinned);
                if (!r->pinned)
                    r->npinned = 0;
            }
        }
        if (r->ntvars > 0) {
            /* A second instance with the rule's own test values, so its
             * embedded tests run whatever the analyst has set. */
            ahi_cctx tx;
            cctx_init(&tx, rs, r);
            tx.tvars = r->tvars;
            tx.ntvars = r->ntvars;
            tx.quiet = cx.missing_var == NULL;
            uint64_t b2 = rs->errors;
            r->test_cond = ahi_compile_node(&tx, r->match);
            if (!r->test_cond || rs->errors > b2) {
                r->test_cond = NULL;
                if (tx.quiet) {
                    rs->errors++;
                    ahi_report(rs->diag, r->src, r->id_off, r->id_len, AH_SEV_ERROR,
                               "rule %s does not compile with its `test set` values", r->meta.id);
                }
                r->test_skipped = "its test values do not compile";
            } else if (tx.missing_var) {
                r->test_cond = NULL;
                size_t n = strlen(tx.missing_var) + 80;
                char *why = ahi_alloc(&rs->store.arena, n);
                if (why)
                    snprintf(why, n, "variable %s not set (add: test set %s \"value\")", tx.missing_var,
                             tx.missing_var);
                r->test_skipped = why ? why : "a variable is not set";
            } else {
                r->test_skipped = NULL;
            }
        }
    }
    if (!ahi_opmap_build(rs) || !ahi_corr_build_index(rs) || !ahi_literals_build(rs)) {
        rs->errors++;
        ahi_nomem(&rs->store.arena);
        ahi_report(rs->diag, NULL, 0, 0, AH_SEV_ERROR, "out of memory building the rule index");
    }
    rs->active += rs->ncorr_rules;
    rs->needs_raw |= rs->corr_raw;
    if (!collect_list_files(rs)) {
        rs->errors++;
        ahi_nomem(&rs->store.arena);
        ahi_report(rs->diag, NULL, 0, 0, AH_SEV_ERROR, "out of memory");
    }
    rs->compiled = true;
    if (ah_ruleset_status(rs) != AH_OK)
        return AH_ERR_NOMEM;
    return rs->errors ? AH_ERR_SYNTAX : AH_OK;
}

/* --- accessors --------------------------------------------------------- */

size_t ah_ruleset_var_count(const ah_ruleset *rs)
{
    size_t n = 0;
    for (const ahi_var *x = rs ? rs->vars : NULL; x; x = x->next)
        n++;
    return n;
}

bool ah_ruleset_var_at(const ah_ruleset *rs, size_t i, ah_var_info *out)
{
    size_t n = ah_ruleset_var_count(rs);
    if (i >= n)
        return false;
    const ahi_var *x = rs->vars; /* newest first */
    for (size_t k = n - 1; k > i; k--)
        x = x->next;
    *out = (ah_var_info){x->name, x->value, x->file ? "vars-file" : "set", x->file};
    return true;
}

size_t ah_ruleset_list_file_count(const ah_ruleset *rs) { return rs ? rs->nlistinfo : 0; }

const ah_list_file_info *ah_ruleset_list_file_at(const ah_ruleset *rs, size_t i)
{
    return rs && i < rs->nlistinfo ? &rs->listinfo[i] : NULL;
}

size_t ah_ruleset_count(const ah_ruleset *rs) { return rs ? rs->nrules : 0; }

const ah_rule *ah_ruleset_rule(const ah_ruleset *rs, size_t i) { return rs && i < rs->nrules ? rs->rules[i] : NULL; }

const ah_rule *ah_ruleset_find(const ah_ruleset *rs, const char *id)
{
    if (!rs || !id)
        return NULL;
    if (!rs->idmap || !id[0])
        return NULL;
    uint32_t k = rs->idmap[idmap_slot(rs, id)];
    return k ? rs->rules[k - 1] : NULL;
}

size_t ah_ruleset_active_count(const ah_ruleset *rs) { return rs ? rs->active : 0; }

const ah_rule_meta *ah_rule_metadata(const ah_rule *r) { return r ? &r->meta : NULL; }

bool ah_ruleset_needs_raw(const ah_ruleset *rs) { return rs && rs->needs_raw; }

bool ah_rule_has_tag(const ah_rule_meta *m, ah_span tag)
{
    if (!m || tag.n == 0)
        return false;
    for (size_t i = 0; i < m->tags.n; i++) {
        const char *t = m->tags.v[i];
        if (ah_span_eq_ci(tag, t))
            return true;
        if (strlen(t) > 7 && ah_span_eq_ci(ah_span_make(t, 7), "attack.") && ah_span_eq_ci(tag, t + 7))
            return true;
    }
    return false;
}

bool ah_ruleset_has_tag(const ah_ruleset *rs, ah_span tag)
{
    for (size_t i = 0; rs && i < rs->nrules; i++)
        if (ah_rule_has_tag(&rs->rules[i]->meta, tag))
            return true;
    return false;
}

unsigned ah_ruleset_first_look(const ah_ruleset *rs, ah_source_kind source, ah_span operation_canon)
{
    if (!rs || !rs->compiled || source <= AH_SOURCE_UNKNOWN || source >= AH_SOURCE_COUNT)
        return 0;
    unsigned r = 0;
    if (rs->nunpinned[source]) {
        r |= AH_LOOK_CANDIDATE;
        if (rs->unpinned_raw[source])
            r |= AH_LOOK_NEEDS_RAW;
    }
    /* Correlation units: unpinned ones take every record of their
     * sources; pinned ones are checked against the union of their operations. */
    if (rs->corr_unpinned[source] ||
        ((rs->corr_pinned_sources & AH_SOURCE_BIT(source)) &&
         (!operation_canon.p ||
          (rs->corr_ops && ahi_strset_has(rs->corr_ops, operation_canon.p, operation_canon.n))))) {
        r |= AH_LOOK_CANDIDATE;
        if (rs->corr_raw)
            r |= AH_LOOK_NEEDS_RAW;
    }
    if (!operation_canon.p) {
        if (rs->pinned_any[source]) {
            r |= AH_LOOK_CANDIDATE;
            if (rs->pinned_raw[source])
                r |= AH_LOOK_NEEDS_RAW;
        }
        return r;
    }
    const struct ahi_opentry *e = ahi_opmap_find(rs, operation_canon);
    if (e && (e->sources & AH_SOURCE_BIT(source))) {
        r |= AH_LOOK_CANDIDATE;
        if (e->raw_sources & AH_SOURCE_BIT(source))
            r |= AH_LOOK_NEEDS_RAW;
    }
    return r;
}

/* --- expressions ------------------------------------------------------- */

ah_expr *ah_expr_compile(const char *text, const ah_ruleset *vars, ah_diag *diag, ah_status *st)
{
    ah_status dummy;
    st = st ? st : &dummy;
    *st = AH_ERR_USAGE;
    if (!text)
        return NULL;
    ah_expr *e = calloc(1, sizeof *e);
    if (!e) {
        *st = AH_ERR_NOMEM;
        return NULL;
    }
    ahi_store_init(&e->store);
    uint64_t errors = 0;
    e->src = ahi_src_new(&e->store.arena, "<expr>", text, strlen(text));
    if (!e->src)
        goto fail;
    ahi_anode *a = ahi_parse_expr(e->src, &e->store.arena, diag, &errors);
    if (!a || errors)
        goto fail;
    ahi_cctx cx;
    memset(&cx, 0, sizeof cx);
    cx.store = &e->store;
    cx.diag = diag;
    cx.errors = &errors;
    cx.src = e->src;
    cx.vars = vars ? vars->vars : NULL;
    cx.basedir = ".";
    e->root = ahi_compile_node(&cx, a);
    if (!e->root || errors)
        goto fail;
    if (cx.missing_var) {
        ahi_report(diag, e->src, 0, e->src->len, AH_SEV_ERROR, "variable %s is not set (--set %s=VALUE)",
                   cx.missing_var, cx.missing_var);
        goto fail;
    }
    e->needs_raw = cx.needs_raw;
    *st = AH_OK;
    return e;
fail:
    if (!e->src || e->store.arena.nomem)
        *st = AH_ERR_NOMEM; /* not a fault of the expression */
    ah_expr_free(e);
    return NULL;
}

void ah_expr_free(ah_expr *e)
{
    if (!e)
        return;
    ahi_store_free(&e->store);
    free(e);
}

bool ah_expr_needs_raw(const ah_expr *e) { return e && e->needs_raw; }
