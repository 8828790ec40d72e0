/*
 * sigma.c: Sigma rules (YAML, read with libyaml) translated into the text
 * of audithound rules (docs/sigma.md). Translating to text, not to the
 * compiled form, keeps one compiler and lets `sigma convert` show exactly
 * what runs. Anything that cannot be expressed faithfully makes the whole
 * document unsupported, with the first reason found: a Sigma rule is never
 * run half-translated.
 *
 * Size: one translator from a Sigma document to rule text: YAML walking,
 * the field map, modifiers (from ops.def), conditions and the correlation
 * kinds share one document state and its first-reason-wins refusal.
 */
#include "sigma.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "../../parsers/event.h"
#include "rules_private.h"

/* Field-name profiles (sigma_fields.def). */
enum { SP_UAL = 1, SP_ALERT = 2, SP_SIGNIN = 4, SP_AUDIT = 8 };

typedef struct field_map {
    unsigned profiles;
    const char *name;
    const char *operands;
} field_map;

static const field_map FIELDS[] = {
#define AH_SIGMA_FIELD(p, n, o) {p, n, o},
#include "sigma_fields.def"
#undef AH_SIGMA_FIELD
};

#define MAX_DOCS 4096
#define MAX_ALTS 4
#define MAX_DEPTH 64
/* Aliases can make a small file expand into a huge condition. */
#define MAX_MATCH (4u << 20)

bool ah_sigma_is_sigma_path(const char *path)
{
    size_t n = path ? strlen(path) : 0;
    return (n > 4 && strcmp(path + n - 4, ".yml") == 0) || (n > 5 && strcmp(path + n - 5, ".yaml") == 0);
}

/* --- YAML helpers ------------------------------------------------------ */

static const char *sval(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static yaml_node_t *map_get(yaml_document_t *d, const yaml_node_t *m, const char *key)
{
    if (!m || m->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        const char *k = sval(yaml_document_get_node(d, p->key));
        if (k && strcmp(k, key) == 0)
            return yaml_document_get_node(d, p->value);
    }
    return NULL;
}

static const char *map_str(yaml_document_t *d, const yaml_node_t *m, const char *key)
{
    return sval(map_get(d, m, key));
}

static bool is_plain(const yaml_node_t *n)
{
    return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

static bool is_null(const yaml_node_t *n)
{
    const char *s = sval(n);
    return s && is_plain(n) &&
           (!*s || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0 || strcmp(s, "~") == 0);
}

static bool is_bool(const yaml_node_t *n, bool *v)
{
    const char *s = sval(n);
    if (!s || !is_plain(n))
        return false;
    if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "TRUE") == 0)
        return *v = true, true;
    if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 || strcmp(s, "FALSE") == 0)
        return *v = false, true;
    return false;
}

/* A plain scalar our lexer reads as the same number: -?digits(.digits)? */
static bool is_number_text(const char *s)
{
    const char *p = s;
    if (*p == '-')
        p++;
    if (*p < '0' || *p > '9')
        return false;
    while (*p >= '0' && *p <= '9')
        p++;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return *p == '\0' && strlen(s) < 24;
}

/* --- output helpers ---------------------------------------------------- */

/* A string literal of the rule language (the lexer reads it back). */
static void put_cstr(ah_buf *b, const char *s) { ahi_put_string(b, s, strlen(s)); }

/* Text inside a `#` comment: a line break would end the comment. */
static void put_comment(ah_buf *b, const char *s)
{
    for (; *s; s++)
        ah_buf_putc(b, (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

/* A word of a word list, quoted when it holds a character words cannot. */
static void put_word(ah_buf *b, const char *s)
{
    bool plain = *s != '\0';
    for (const char *p = s; *p && plain; p++)
        if ((unsigned char)*p <= ' ' || *p == '"' || *p == '#' || *p == '{' || *p == '}' || *p == '\\')
            plain = false;
    if (plain)
        ah_buf_puts(b, s);
    else
        put_cstr(b, s);
}

/* --- conversion context ------------------------------------------------ */

typedef struct cv {
    yaml_document_t *doc;
    unsigned profile; /* SP_* of the logsource */
    unsigned sources;
    char why[512];    /* first reason the document is unsupported */
    ahi_arena *arena; /* scratch for CIDR checks */
} cv;

/* A scratch buffer's lost bytes are lost from the text built from it: the
 * translation checks one buffer where a document is finished. */
static void carry_status(ah_buf *to, const ah_buf *scratch)
{
    if (ah_buf_status(scratch) != AH_OK)
        ah_buf_lost(to);
}

static bool unsupported(cv *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool unsupported(cv *c, const char *fmt, ...)
{
    if (!c->why[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->why, sizeof c->why, fmt, ap);
        va_end(ap);
    }
    return false;
}

/* --- logsource --------------------------------------------------------- */

static bool logsource(cv *c, yaml_node_t *ls)
{
    yaml_document_t *d = c->doc;
    if (!ls || ls->type != YAML_MAPPING_NODE)
        return unsupported(c, "no logsource");
    const char *product = map_str(d, ls, "product");
    const char *service = map_str(d, ls, "service");
    const char *category = map_str(d, ls, "category");
    if (category)
        return unsupported(c, "logsource category '%s' is not read (audithound reads m365 and azure cloud logs)",
                           category);
    if (!product)
        return unsupported(c, "logsource without product");
    if (strcmp(product, "m365") == 0) {
        c->sources = AH_SOURCE_BIT(AH_SOURCE_UAL);
        if (service && strcmp(service, "audit") == 0)
            c->profile = SP_UAL;
        else if (service && (strcmp(service, "threat_management") == 0 || strcmp(service, "threat_detection") == 0 ||
                             strcmp(service, "exchange") == 0))
            c->profile = SP_ALERT;
        else
            return unsupported(c, "logsource m365/%s: no export read carries it", service ? service : "(no service)");
        return true;
    }
    if (strcmp(product, "azure") == 0) {
        if (service && strcmp(service, "signinlogs") == 0) {
            c->profile = SP_SIGNIN;
            c->sources = AH_SOURCE_BIT(AH_SOURCE_SIGNIN);
            return true;
        }
        if (service && strcmp(service, "auditlogs") == 0) {
            c->profile = SP_AUDIT;
            c->sources = AH_SOURCE_BIT(AH_SOURCE_ENTRA_AUDIT);
            return true;
        }
        return unsupported(c, "logsource azure/%s: no export read carries it (docs/formats.md)",
                           service ? service : "(no service)");
    }
    return unsupported(c, "logsource product '%s' is not read (audithound reads m365 and azure)", product);
}

/* --- fields ------------------------------------------------------------ */

typedef struct operands {
    char alt[MAX_ALTS][256];
    size_t n;
} operands;

static bool word_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
}

/* Append ".a.b" (or ["a b"]) path steps for a dotted Sigma name. */
static bool append_steps(char *dst, size_t cap, const char *rest)
{
    size_t n = strlen(dst);
    while (*rest) {
        const char *dot = strchr(rest, '.');
        size_t k = dot ? (size_t)(dot - rest) : strlen(rest);
        if (k == 0)
            return false;
        bool plain = true;
        for (size_t i = 0; i < k; i++)
            if (!word_char(rest[i]))
                plain = false;
        int w;
        if (plain)
            w = snprintf(dst + n, cap - n, ".%.*s", (int)k, rest);
        else {
            for (size_t i = 0; i < k; i++)
                if (rest[i] == '"' || rest[i] == '\\' || (unsigned char)rest[i] < 0x20)
                    return false;
            w = snprintf(dst + n, cap - n, "[\"%.*s\"]", (int)k, rest);
        }
        if (w < 0 || (size_t)w >= cap - n)
            return false;
        n += (size_t)w;
        rest += k + (dot ? 1 : 0);
        if (dot && !*rest)
            return false;
    }
    return true;
}

static bool set_alts(operands *o, const char *spec, const char *rest)
{
    o->n = 0;
    while (*spec && o->n < MAX_ALTS) {
        const char *bar = strchr(spec, '|');
        size_t k = bar ? (size_t)(bar - spec) : strlen(spec);
        if (k >= sizeof o->alt[0])
            return false;
        memcpy(o->alt[o->n], spec, k);
        o->alt[o->n][k] = '\0';
        if (rest && *rest) {
            /* path steps apply to raw paths only; normalized fields have no keys */
            if (strncmp(o->alt[o->n], "raw", 3) != 0 || !append_steps(o->alt[o->n], sizeof o->alt[0], rest))
                return false;
        }
        o->n++;
        spec += k + (bar ? 1 : 0);
    }
    return o->n > 0;
}

/* Sigma field name -> operand(s), by the logsource's profile. */
static bool map_field(cv *c, const char *name, operands *o)
{
    const char *n = name;
    if ((c->profile & (SP_SIGNIN | SP_AUDIT)) && strncmp(n, "properties.", 11) == 0)
        n += 11;
    if (!*n)
        return unsupported(c, "empty field name");
    for (size_t i = 0; i < AH_ARRAY_LEN(FIELDS); i++)
        if ((FIELDS[i].profiles & c->profile) && ah_span_eq_ci((ah_span){n, strlen(n)}, FIELDS[i].name) &&
            FIELDS[i].operands[0] == '!')
            return unsupported(c, "field '%s': %s", name, FIELDS[i].operands + 1);
        else if ((FIELDS[i].profiles & c->profile) && ah_span_eq_ci((ah_span){n, strlen(n)}, FIELDS[i].name))
            return set_alts(o, FIELDS[i].operands, NULL) ? true : unsupported(c, "field '%s' cannot be mapped", name);
    /* A listed first part with further steps: DeviceDetail.trustType. */
    const char *dot = strchr(n, '.');
    if (dot) {
        for (size_t i = 0; i < AH_ARRAY_LEN(FIELDS); i++) {
            size_t k = strlen(FIELDS[i].name);
            if ((FIELDS[i].profiles & c->profile) && k == (size_t)(dot - n) && strncasecmp(n, FIELDS[i].name, k) == 0 &&
                strncmp(FIELDS[i].operands, "raw", 3) == 0)
                return set_alts(o, FIELDS[i].operands, dot + 1) ? true
                                                                : unsupported(c, "field '%s' cannot be mapped", name);
        }
    }
    /* Names Sigma writes with the Azure Monitor prefix are the properties'
     * own members, which every shape keeps under the same name. */
    if (n != name || c->profile == SP_UAL) {
        o->n = 1;
        snprintf(o->alt[0], sizeof o->alt[0], "raw");
        if (append_steps(o->alt[0], sizeof o->alt[0], n))
            return true;
        return unsupported(c, "field '%s' cannot be written as a path", name);
    }
    return unsupported(c, "field '%s' is not mapped for this logsource (docs/sigma.md)", name);
}

/* --- values ------------------------------------------------------------ */

/* Modifiers as bits. A modifier that picks an operator is that operator's
 * bit (its Sigma spelling is the SIGMA column of ops.def, so an operator
 * with one is one row there); how its value is written follows the
 * operator's ARG kind (emit_value). The others shape the value and are
 * Sigma's own. */
#define M_OP(id) (1u << AHI_OP_##id)
_Static_assert(AHI_OP_COUNT <= 16, "the operator bits would overlap the value modifiers");
enum {
    M_ALL = 1u << 16,
    M_RE_I = 1u << 17,
    M_RE_M = 1u << 18,
    M_RE_S = 1u << 19,
    M_CASED = 1u << 20,
    M_EXPAND = 1u << 21,
};

static const struct {
    const char *name;
    unsigned bit;
} VALUE_MODS[] = {
    {"all", M_ALL}, {"i", M_RE_I}, {"m", M_RE_M}, {"s", M_RE_S}, {"cased", M_CASED}, {"expand", M_EXPAND},
};

/* The bit of modifier m[0..n), 0 when it is not one we translate. */
static unsigned modifier_bit(const char *m, size_t n)
{
    for (size_t i = 0; i < AH_ARRAY_LEN(VALUE_MODS); i++)
        if (strlen(VALUE_MODS[i].name) == n && strncmp(m, VALUE_MODS[i].name, n) == 0)
            return VALUE_MODS[i].bit;
    for (size_t i = 0; i < AHI_OP_COUNT; i++)
        if (ahi_ops[i].sigma && strlen(ahi_ops[i].sigma) == n && strncmp(m, ahi_ops[i].sigma, n) == 0)
            return 1u << i;
    return 0;
}

/* The operator bits of the modifiers whose value is of kind `arg`. */
static unsigned op_mods(ahi_arg arg)
{
    unsigned bits = 0;
    for (size_t i = 0; i < AHI_OP_COUNT; i++)
        if (ahi_ops[i].sigma && ahi_ops[i].arg == arg)
            bits |= 1u << i;
    return bits;
}

/* The operator picked by the modifiers in `bits` (at most one: checked
 * when the modifiers are read). */
static const ahi_opinfo *picked_op(unsigned bits)
{
    for (size_t i = 0; i < AHI_OP_COUNT; i++)
        if (bits & (1u << i))
            return &ahi_ops[i];
    return NULL;
}

static const struct {
    const char *name;
    const char *why;
} UNSUPPORTED_MODS[] = {
    {"base64", "matches the base64 encoding of the value: audit records carry the decoded text"},
    {"base64offset", "matches the base64 encoding of the value: audit records carry the decoded text"},
    {"utf16le", "an encoding modifier (Windows logs)"},
    {"utf16be", "an encoding modifier (Windows logs)"},
    {"utf16", "an encoding modifier (Windows logs)"},
    {"wide", "an encoding modifier (Windows logs)"},
    {"windash", "command-line dash variants (Windows logs)"},
    {"neq", "not part of the rule language mapping"},
    {"minute", "time-part modifiers"},
    {"hour", "time-part modifiers"},
    {"day", "time-part modifiers"},
    {"week", "time-part modifiers"},
    {"month", "time-part modifiers"},
    {"year", "time-part modifiers"},
};

/* A Sigma string value as literal characters and wildcards. */
typedef struct pat {
    char *text; /* literal bytes; wild[i] marks '*' (1) or '?' (2) at i */
    unsigned char *wild;
    size_t n;
} pat;

static bool pat_parse(const char *s, bool wildcards, pat *p)
{
    size_t n = strlen(s);
    p->text = malloc(n + 3);
    p->wild = calloc(n + 3, 1);
    p->n = 0;
    if (!p->text || !p->wild)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (wildcards && ch == '\\' && i + 1 < n && (s[i + 1] == '*' || s[i + 1] == '?' || s[i + 1] == '\\')) {
            p->text[p->n++] = s[++i];
            continue;
        }
        if (wildcards && (ch == '*' || ch == '?')) {
            p->wild[p->n] = ch == '*' ? 1 : 2;
            p->text[p->n++] = ch;
            continue;
        }
        p->text[p->n++] = ch;
    }
    return true;
}

static void pat_free(pat *p)
{
    free(p->text);
    free(p->wild);
}

static void pat_wrap(pat *p, bool lead, bool trail)
{
    /* "*x*" stays "*x*" under |contains: one star is as good as two */
    if (lead && !(p->n && p->wild[0] == 1)) {
        memmove(p->text + 1, p->text, p->n);
        memmove(p->wild + 1, p->wild, p->n);
        p->text[0] = '*';
        p->wild[0] = 1;
        p->n++;
    }
    if (trail && !(p->n && p->wild[p->n - 1] == 1)) {
        p->text[p->n] = '*';
        p->wild[p->n] = 1;
        p->n++;
    }
}

/* One comparison of operand `op` with pattern p, appended to b. */
static void emit_pat(ah_buf *b, const char *op, const pat *p, bool cased)
{
    size_t nw = 0, first = p->n, last = 0;
    bool question = false;
    for (size_t i = 0; i < p->n; i++)
        if (p->wild[i]) {
            nw++;
            question |= p->wild[i] == 2;
            if (first == p->n)
                first = i;
            last = i;
        }
    const char *cs = cased ? " cased" : "";
    if (nw == 0) {
        ah_buf_printf(b, "%s %s ", op, ahi_ops[AHI_OP_EQ].spelling);
        ahi_put_string(b, p->text, p->n);
        ah_buf_puts(b, cs);
        return;
    }
    if (nw == p->n && !question) {
        ah_buf_printf(b, "%s %s", op, ahi_ops[AHI_OP_EXISTS].spelling); /* '*': any value */
        return;
    }
    if (!question) {
        bool lead = p->wild[0], trail = p->wild[p->n - 1];
        size_t a = lead ? 1 : 0, e = trail ? p->n - 1 : p->n;
        if (nw == (size_t)lead + (size_t)trail && e > a) {
            ahi_op o = lead && trail ? AHI_OP_CONTAINS : lead ? AHI_OP_ENDS : AHI_OP_STARTS;
            ah_buf_printf(b, "%s %s ", op, ahi_ops[o].spelling);
            ahi_put_string(b, p->text + a, e - a);
            ah_buf_puts(b, cs);
            return;
        }
    }
    (void)first;
    (void)last;
    /* Anything else becomes an anchored regex; * and ? match newlines too. */
    ah_buf re;
    ah_buf_init(&re, 0);
    ah_buf_puts(&re, "(?s)\\A");
    for (size_t i = 0; i < p->n; i++) {
        unsigned char ch = (unsigned char)p->text[i];
        if (p->wild[i] == 1)
            ah_buf_puts(&re, ".*");
        else if (p->wild[i] == 2)
            ah_buf_putc(&re, '.');
        else if (ch < 0x80 && !word_char((char)ch) && ch >= 0x20)
            ah_buf_printf(&re, "\\%c", ch);
        else if (ch < 0x20)
            ah_buf_printf(&re, "\\x{%x}", ch);
        else
            ah_buf_putc(&re, (char)ch);
    }
    ah_buf_puts(&re, "\\z");
    ah_buf_printf(b, "%s %s ", op, ahi_ops[AHI_OP_MATCHES].spelling);
    ahi_put_string(b, re.data, re.len);
    ah_buf_puts(b, cs);
    carry_status(b, &re);
    ah_buf_free(&re);
}

static bool regex_ok(cv *c, const char *pattern, bool caseless)
{
    uint32_t opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | (caseless ? PCRE2_CASELESS : 0);
    int err = 0;
    PCRE2_SIZE off = 0;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, opts, &err, &off, NULL);
    if (!re && err == PCRE2_ERROR_HEAP_FAILED)
        return ahi_nomem(c->arena);
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof msg);
        return unsupported(c, "regular expression does not compile with PCRE2: %s at offset %zu", (char *)msg,
                           (size_t)off);
    }
    pcre2_code_free(re);
    return true;
}

static bool cidr_ok(cv *c, const char *s)
{
    ahi_lit l = {.s = s, .n = strlen(s)};
    size_t bad = 0;
    if (!ahi_cidrset_build(c->arena, &l, 1, &bad))
        return unsupported(c, "'%s' is not an IP address or prefix", s);
    return true;
}

/* An expand placeholder %name% -> variable name. */
static bool placeholder(cv *c, const char *s, char *name, size_t cap)
{
    size_t n = strlen(s);
    if (n < 3 || s[0] != '%' || s[n - 1] != '%' || n - 2 >= cap)
        return unsupported(c, "|expand value '%s' is not one %%placeholder%%", s);
    for (size_t i = 1; i < n - 1; i++)
        if (!word_char(s[i]))
            return unsupported(c, "|expand placeholder '%s' is not a valid variable name", s);
    if (s[1] >= '0' && s[1] <= '9')
        return unsupported(c, "|expand placeholder '%s' is not a valid variable name", s);
    memcpy(name, s + 1, n - 2);
    name[n - 2] = '\0';
    return true;
}

/* Predicate for one operand and one value, appended to b. The operator a
 * modifier picks is written as ops.def spells it, its value as its ARG
 * kind takes it. */
static bool emit_value(cv *c, ah_buf *b, const char *op, unsigned mods, const yaml_node_t *v)
{
    const char *s = sval(v);
    if (!s)
        return unsupported(c, "a value is not a scalar");
    bool bval;
    bool cased = mods & M_CASED;
    const char *cs = cased ? " cased" : "";
    const ahi_opinfo *o;
    if (is_null(v)) {
        if (mods & ~M_CASED)
            return unsupported(c, "null with a modifier");
        ah_buf_printf(b, "%s not %s", op, ahi_ops[AHI_OP_EXISTS].spelling);
        return true;
    }
    if ((o = picked_op(mods & op_mods(AHI_ARG_NONE)))) { /* |exists: true / false */
        if (!is_bool(v, &bval))
            return unsupported(c, "|%s takes true or false", o->sigma);
        if (bval || o->negated)
            ah_buf_printf(b, "%s %s", op, bval ? o->spelling : o->negated);
        else
            ah_buf_printf(b, "not %s %s", op, o->spelling);
        return true;
    }
    if ((o = picked_op(mods & op_mods(AHI_ARG_ORDER)))) {
        if (!is_number_text(s))
            return unsupported(c, "|gt/|gte/|lt/|lte take a number, not '%s'", s);
        ah_buf_printf(b, "%s %s %s", op, o->spelling, s);
        return true;
    }
    if ((o = picked_op(mods & op_mods(AHI_ARG_REGEX)))) {
        ah_buf re;
        ah_buf_init(&re, 0);
        if (mods & M_RE_M)
            ah_buf_puts(&re, "(?m)");
        if (mods & M_RE_S)
            ah_buf_puts(&re, "(?s)");
        ah_buf_puts(&re, s);
        /* Sigma regexes are case-sensitive unless |i. */
        bool ok = regex_ok(c, ah_buf_cstr(&re), (mods & M_RE_I) != 0);
        if (ok) {
            ah_buf_printf(b, "%s %s ", op, o->spelling);
            ahi_put_string(b, re.data, re.len);
            if (!(mods & M_RE_I))
                ah_buf_puts(b, " cased");
        }
        carry_status(b, &re);
        ah_buf_free(&re);
        return ok;
    }
    if ((o = picked_op(mods & op_mods(AHI_ARG_OPERAND)))) {
        /* the value names the other field, mapped as the field itself is */
        operands ref;
        if (!map_field(c, s, &ref))
            return false;
        if (ref.n > 1)
            ah_buf_putc(b, '(');
        for (size_t i = 0; i < ref.n; i++) {
            const char *other = strcmp(ref.alt[i], "operation") == 0 ? "operation_raw" : ref.alt[i];
            ah_buf_printf(b, "%s%s %s %s%s", i ? " or " : "", op, o->spelling, other, cs);
        }
        if (ref.n > 1)
            ah_buf_putc(b, ')');
        return true;
    }
    const ahi_opinfo *value_op = picked_op(mods & op_mods(AHI_ARG_VALUE));
    const ahi_opinfo *cidr_op = picked_op(mods & op_mods(AHI_ARG_CIDR));
    if (mods & M_EXPAND) {
        char name[128];
        if (!placeholder(c, s, name, sizeof name))
            return false;
        if (value_op)
            ah_buf_printf(b, "%s %s $%s%s", op, value_op->spelling, name, cs);
        else if (cidr_op)
            ah_buf_printf(b, "%s %s [$%s]", op, cidr_op->spelling, name);
        else
            ah_buf_printf(b, "%s %s [$%s]%s", op, ahi_ops[AHI_OP_IN].spelling, name, cs);
        return true;
    }
    if (cidr_op) {
        if (!cidr_ok(c, s))
            return false;
        ah_buf_printf(b, "%s %s [", op, cidr_op->spelling);
        put_cstr(b, s);
        ah_buf_putc(b, ']');
        return true;
    }
    bool contains = mods & M_OP(CONTAINS), starts = mods & M_OP(STARTS), ends = mods & M_OP(ENDS);
    if (value_op && !contains && !starts && !ends) {
        /* a value operator without wildcard semantics: the value as written */
        ah_buf_printf(b, "%s %s ", op, value_op->spelling);
        put_cstr(b, s);
        ah_buf_puts(b, cs);
        return true;
    }
    if (!value_op && is_plain(v)) {
        if (is_bool(v, &bval)) {
            ah_buf_printf(b, "%s %s %s", op, ahi_ops[AHI_OP_EQ].spelling, bval ? "true" : "false");
            return true;
        }
        if (is_number_text(s)) {
            ah_buf_printf(b, "%s %s %s", op, ahi_ops[AHI_OP_EQ].spelling, s);
            return true;
        }
    }
    pat p;
    if (!pat_parse(s, true, &p)) {
        pat_free(&p);
        return ahi_nomem(c->arena); /* the whole file fails: ah_sigma_convert */
    }
    /* Sigma's string modifiers are wildcards around the value */
    pat_wrap(&p, contains || ends, contains || starts);
    emit_pat(b, op, &p, cased);
    pat_free(&p);
    return true;
}

/* A plain equality list can be one `in [...]` (which the index pins when
 * the operand is `operation`). */
static bool plain_literal(const yaml_node_t *v)
{
    const char *s = sval(v);
    if (!s || is_null(v))
        return false;
    bool bv;
    if (is_plain(v) && is_bool(v, &bv))
        return false;
    for (const char *p = s; *p; p++)
        if (*p == '*' || *p == '?' || *p == '\\')
            return false;
    return true;
}

/* Predicate over every alternative operand: true when it holds in one. */
static bool emit_alts(cv *c, ah_buf *b, const operands *o, unsigned mods, const yaml_node_t *v)
{
    if (o->n == 1)
        return emit_value(c, b, o->alt[0], mods, v);
    bool bv = true;
    bool neg_null = is_null(v) || ((mods & M_OP(EXISTS)) && is_bool(v, &bv) && !bv);
    /* Absence means absent everywhere: not (a exists or b exists). */
    ah_buf_puts(b, neg_null ? "not (" : "(");
    for (size_t i = 0; i < o->n; i++) {
        if (i)
            ah_buf_puts(b, " or ");
        if (neg_null)
            ah_buf_printf(b, "%s %s", o->alt[i], ahi_ops[AHI_OP_EXISTS].spelling);
        else if (!emit_value(c, b, o->alt[i], mods, v))
            return false;
    }
    ah_buf_putc(b, ')');
    return true;
}

/* Which operand a comparison uses: `operation` compares canonically (and
 * is indexed), so only plain equality uses it; other string tests see the
 * operation as written. */
static void pick_operands(const operands *in, unsigned mods, bool plain_eq, operands *out)
{
    *out = *in;
    for (size_t i = 0; i < out->n; i++)
        if (strcmp(out->alt[i], "operation") == 0 && (!plain_eq || (mods & M_CASED)))
            snprintf(out->alt[i], sizeof out->alt[i], "operation_raw");
}

static bool emit_keyword(cv *c, ah_buf *b, const yaml_node_t *v);

/* `'|all': [a, b]`: keywords that must all occur. */
static bool emit_all_keywords(cv *c, ah_buf *b, const char *key, const yaml_node_t *val)
{
    if (strcmp(key, "|all") != 0)
        return unsupported(c, "keywords with modifiers other than |all ('%s')", key);
    if (val->type != YAML_SEQUENCE_NODE)
        return emit_keyword(c, b, val);
    size_t n = (size_t)(val->data.sequence.items.top - val->data.sequence.items.start);
    if (n == 0)
        return unsupported(c, "an empty list of keywords");
    ah_buf_putc(b, '(');
    for (size_t i = 0; i < n; i++) {
        if (i)
            ah_buf_puts(b, " and ");
        if (!emit_keyword(c, b, yaml_document_get_node(c->doc, val->data.sequence.items.start[i])))
            return false;
    }
    ah_buf_putc(b, ')');
    return true;
}

/* At most one operator per kind of value: "more than one of |contains,
 * |startswith, |endswith" (the modifiers of that kind, in ops.def order). */
static bool one_per_kind(cv *c, unsigned mods)
{
    static const ahi_arg kinds[] = {AHI_ARG_NONE, AHI_ARG_VALUE, AHI_ARG_ORDER,  AHI_ARG_REGEX,
                                    AHI_ARG_LIST, AHI_ARG_CIDR,  AHI_ARG_OPERAND};
    for (size_t k = 0; k < AH_ARRAY_LEN(kinds); k++) {
        unsigned bits = mods & op_mods(kinds[k]);
        if (!(bits & (bits - 1)))
            continue;
        char list[256] = "";
        size_t n = 0;
        for (size_t i = 0; i < AHI_OP_COUNT; i++)
            if (op_mods(kinds[k]) & (1u << i)) {
                int w = snprintf(list + n, sizeof list - n, "%s|%s", n ? ", " : "", ahi_ops[i].sigma);
                if (w > 0 && (size_t)w < sizeof list - n)
                    n += (size_t)w;
            }
        return unsupported(c, "more than one of %s", list);
    }
    return true;
}

/* One `Field|mods: value(s)` of a selection. */
static bool emit_item(cv *c, ah_buf *b, const char *key, const yaml_node_t *val)
{
    yaml_document_t *d = c->doc;
    char field[256];
    const char *bar = strchr(key, '|');
    size_t fn = bar ? (size_t)(bar - key) : strlen(key);
    if (fn == 0 && bar)
        return emit_all_keywords(c, b, key, val);
    if (fn == 0 || fn >= sizeof field)
        return unsupported(c, "field name '%s' is empty or too long", key);
    memcpy(field, key, fn);
    field[fn] = '\0';
    unsigned mods = 0;
    while (bar) {
        const char *m = bar + 1;
        bar = strchr(m, '|');
        size_t mn = bar ? (size_t)(bar - m) : strlen(m);
        unsigned bit = modifier_bit(m, mn);
        mods |= bit;
        if (!bit) {
            for (size_t i = 0; i < AH_ARRAY_LEN(UNSUPPORTED_MODS); i++)
                if (strlen(UNSUPPORTED_MODS[i].name) == mn && strncmp(m, UNSUPPORTED_MODS[i].name, mn) == 0)
                    return unsupported(c, "modifier |%s (%s)", UNSUPPORTED_MODS[i].name, UNSUPPORTED_MODS[i].why);
            return unsupported(c, "unknown modifier |%.*s", (int)mn, m);
        }
    }
    if ((mods & (M_RE_I | M_RE_M | M_RE_S)) && !(mods & op_mods(AHI_ARG_REGEX)))
        return unsupported(c, "|i, |m and |s apply to |re only");
    if ((mods & op_mods(AHI_ARG_REGEX)) && (mods & (op_mods(AHI_ARG_VALUE) | op_mods(AHI_ARG_CIDR) | M_EXPAND)))
        return unsupported(c, "|re combined with another string modifier");
    if ((mods & op_mods(AHI_ARG_OPERAND)) && (mods & ~(op_mods(AHI_ARG_OPERAND) | M_CASED | M_ALL)))
        return unsupported(c, "|fieldref combined with a modifier other than |cased");
    if (!one_per_kind(c, mods))
        return false;
    operands o0;
    if (!map_field(c, field, &o0))
        return false;

    size_t nv = 1;
    yaml_node_item_t *items = NULL;
    if (val->type == YAML_SEQUENCE_NODE) {
        items = val->data.sequence.items.start;
        nv = (size_t)(val->data.sequence.items.top - items);
        if (nv == 0)
            return unsupported(c, "field '%s' has an empty list of values", field);
    } else if (val->type != YAML_SCALAR_NODE)
        return unsupported(c, "field '%s' has a map as value", field);

    bool is_result = o0.n == 1 && strcmp(o0.alt[0], "result") == 0;
    if (is_result) {
        /* the pseudo-field takes plain words only */
        for (size_t i = 0; i < nv; i++) {
            const char *s = sval(items ? yaml_document_get_node(d, items[i]) : val);
            if (mods || !s || !(strcasecmp(s, "success") == 0 || strcasecmp(s, "failure") == 0))
                return unsupported(c, "field '%s' (the result) takes success or failure only", field);
        }
    }
    bool all_plain = !(mods & ~M_ALL) && !(mods & M_ALL);
    for (size_t i = 0; i < nv && all_plain; i++)
        all_plain = plain_literal(items ? yaml_document_get_node(d, items[i]) : val);
    operands o;
    pick_operands(&o0, mods, all_plain, &o);

    if (nv > 1 && all_plain && o.n == 1) {
        ah_buf_printf(b, "%s in [", o.alt[0]);
        for (size_t i = 0; i < nv; i++) {
            yaml_node_t *v = yaml_document_get_node(d, items[i]);
            if (i)
                ah_buf_puts(b, ", ");
            if (is_plain(v) && is_number_text(sval(v)) && !is_result)
                ah_buf_puts(b, sval(v));
            else
                put_cstr(b, sval(v));
        }
        ah_buf_putc(b, ']');
        return true;
    }
    if (nv > 1)
        ah_buf_putc(b, '(');
    for (size_t i = 0; i < nv; i++) {
        if (i)
            ah_buf_puts(b, (mods & M_ALL) ? " and " : " or ");
        if (!emit_alts(c, b, &o, mods & ~M_ALL, items ? yaml_document_get_node(d, items[i]) : val))
            return false;
        if (b->len > MAX_MATCH)
            return unsupported(c, "the translation is larger than %u bytes", MAX_MATCH);
    }
    if (nv > 1)
        ah_buf_putc(b, ')');
    return true;
}

/* Keywords: a value anywhere in the record, as its JSON text. */
static bool emit_keyword(cv *c, ah_buf *b, const yaml_node_t *v)
{
    const char *s = sval(v);
    if (!s || is_null(v))
        return unsupported(c, "a keyword is not a string");
    for (const char *p = s; *p; p++)
        if (*p == '"' || (*p == '\\' && p[1] != '*' && p[1] != '?' && p[1] != '\\') || (unsigned char)*p < 0x20)
            return unsupported(c, "keyword '%s' holds a character JSON escapes (the record text would differ)", s);
    pat p;
    if (!pat_parse(s, true, &p)) {
        pat_free(&p);
        return ahi_nomem(c->arena); /* the whole file fails: ah_sigma_convert */
    }
    pat_wrap(&p, true, true);
    emit_pat(b, "raw", &p, false);
    pat_free(&p);
    return true;
}

/* A selection (search identifier) -> condition text. */
static bool emit_selection(cv *c, ah_buf *b, const yaml_node_t *sel)
{
    yaml_document_t *d = c->doc;
    if (sel->type == YAML_MAPPING_NODE) {
        size_t np = (size_t)(sel->data.mapping.pairs.top - sel->data.mapping.pairs.start);
        if (np == 0)
            return unsupported(c, "an empty selection");
        if (np > 1)
            ah_buf_putc(b, '(');
        for (size_t i = 0; i < np; i++) {
            yaml_node_pair_t *p = sel->data.mapping.pairs.start + i;
            const char *k = sval(yaml_document_get_node(d, p->key));
            if (!k)
                return unsupported(c, "a selection key is not a string");
            if (i)
                ah_buf_puts(b, " and ");
            if (!emit_item(c, b, k, yaml_document_get_node(d, p->value)))
                return false;
            if (b->len > MAX_MATCH)
                return unsupported(c, "the translation is larger than %u bytes", MAX_MATCH);
        }
        if (np > 1)
            ah_buf_putc(b, ')');
        return true;
    }
    if (sel->type == YAML_SEQUENCE_NODE) {
        size_t n = (size_t)(sel->data.sequence.items.top - sel->data.sequence.items.start);
        if (n == 0)
            return unsupported(c, "an empty selection");
        if (n > 1)
            ah_buf_putc(b, '(');
        for (size_t i = 0; i < n; i++) {
            yaml_node_t *e = yaml_document_get_node(d, sel->data.sequence.items.start[i]);
            if (i)
                ah_buf_puts(b, " or ");
            if (e->type == YAML_MAPPING_NODE) {
                if (!emit_selection(c, b, e))
                    return false;
            } else if (e->type == YAML_SCALAR_NODE) {
                if (!emit_keyword(c, b, e))
                    return false;
            } else
                return unsupported(c, "a nested list in a selection");
            if (b->len > MAX_MATCH)
                return unsupported(c, "the translation is larger than %u bytes", MAX_MATCH);
        }
        if (n > 1)
            ah_buf_putc(b, ')');
        return true;
    }
    return emit_keyword(c, b, sel);
}

/* --- condition --------------------------------------------------------- */

typedef struct ctok {
    const char *s;
    size_t n;
} ctok;

typedef struct cparse {
    cv *c;
    yaml_node_t *det;
    ctok t[512];
    size_t nt, i;
    ah_buf *out;
    int depth;
} cparse;

static bool tok_is(const ctok *t, const char *w) { return t->n == strlen(w) && strncmp(t->s, w, t->n) == 0; }

static bool cond_lex(cparse *p, const char *s)
{
    p->nt = 0;
    while (*s) {
        if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
            s++;
            continue;
        }
        if (p->nt == AH_ARRAY_LEN(p->t))
            return unsupported(p->c, "condition too long");
        if (*s == '(' || *s == ')' || *s == '|') {
            if (*s == '|')
                return unsupported(p->c, "condition with an aggregation ('| count()...'): write a correlation rule");
            p->t[p->nt++] = (ctok){s, 1};
            s++;
            continue;
        }
        const char *a = s;
        while (*s && *s != ' ' && *s != '\t' && *s != '\n' && *s != '\r' && *s != '(' && *s != ')' && *s != '|')
            s++;
        p->t[p->nt++] = (ctok){a, (size_t)(s - a)};
    }
    return p->nt > 0 ? true : unsupported(p->c, "empty condition");
}

static bool glob_match(const char *g, size_t gn, const char *s)
{
    if (gn == 0)
        return *s == '\0';
    if (*g == '*') {
        for (const char *q = s;; q++) {
            if (glob_match(g + 1, gn - 1, q))
                return true;
            if (!*q)
                return false;
        }
    }
    return *s && *s == *g && glob_match(g + 1, gn - 1, s + 1);
}

static bool selection_text(cparse *p, const char *name, size_t n)
{
    yaml_document_t *d = p->c->doc;
    for (yaml_node_pair_t *q = p->det->data.mapping.pairs.start; q < p->det->data.mapping.pairs.top; q++) {
        const char *k = sval(yaml_document_get_node(d, q->key));
        if (k && strlen(k) == n && strncmp(k, name, n) == 0 && strcmp(k, "condition") != 0 &&
            strcmp(k, "timeframe") != 0)
            return emit_selection(p->c, p->out, yaml_document_get_node(d, q->value));
    }
    return unsupported(p->c, "condition names '%.*s', which the detection does not define", (int)n, name);
}

static bool cond_or(cparse *p);

static bool cond_quant(cparse *p, bool all)
{
    if (p->i >= p->nt)
        return unsupported(p->c, "incomplete condition after '%s of'", all ? "all" : "1");
    const ctok *t = &p->t[p->i++];
    bool them = tok_is(t, "them");
    yaml_document_t *d = p->c->doc;
    size_t k = 0;
    ah_buf_putc(p->out, '(');
    for (yaml_node_pair_t *q = p->det->data.mapping.pairs.start; q < p->det->data.mapping.pairs.top; q++) {
        const char *name = sval(yaml_document_get_node(d, q->key));
        if (!name || strcmp(name, "condition") == 0 || strcmp(name, "timeframe") == 0)
            continue;
        if (them ? name[0] == '_' : !glob_match(t->s, t->n, name))
            continue;
        if (k++)
            ah_buf_puts(p->out, all ? " and " : " or ");
        if (!emit_selection(p->c, p->out, yaml_document_get_node(d, q->value)))
            return false;
        if (p->out->len > MAX_MATCH)
            return unsupported(p->c, "the translation is larger than %u bytes", MAX_MATCH);
    }
    ah_buf_putc(p->out, ')');
    if (k == 0)
        return unsupported(p->c, "'%.*s' in the condition matches no selection", (int)t->n, t->s);
    return true;
}

static bool cond_primary(cparse *p)
{
    if (p->i >= p->nt)
        return unsupported(p->c, "incomplete condition");
    if (++p->depth > MAX_DEPTH)
        return unsupported(p->c, "condition nested too deeply");
    const ctok *t = &p->t[p->i++];
    bool ok;
    if (tok_is(t, "not")) {
        ah_buf_puts(p->out, "not ");
        ok = cond_primary(p);
    } else if (tok_is(t, "(")) {
        ah_buf_putc(p->out, '(');
        ok = cond_or(p);
        if (ok && (p->i >= p->nt || !tok_is(&p->t[p->i], ")")))
            ok = unsupported(p->c, "unbalanced parentheses in the condition");
        p->i++;
        ah_buf_putc(p->out, ')');
    } else if (tok_is(t, "1") || tok_is(t, "any") || tok_is(t, "all")) {
        if (p->i >= p->nt || !tok_is(&p->t[p->i], "of"))
            return unsupported(p->c, "'%.*s' must be followed by 'of'", (int)t->n, t->s);
        p->i++;
        ok = cond_quant(p, tok_is(t, "all"));
    } else if (tok_is(t, ")") || tok_is(t, "and") || tok_is(t, "or") || tok_is(t, "of")) {
        ok = unsupported(p->c, "unexpected '%.*s' in the condition", (int)t->n, t->s);
    } else if (t->n > 0 && t->s[0] >= '2' && t->s[0] <= '9') {
        ok = unsupported(p->c, "'%.*s of' (only '1 of' and 'all of' are Sigma)", (int)t->n, t->s);
    } else {
        ok = selection_text(p, t->s, t->n);
    }
    if (ok && p->out->len > MAX_MATCH)
        ok = unsupported(p->c, "the translation is larger than %u bytes", MAX_MATCH);
    p->depth--;
    return ok;
}

static bool cond_and(cparse *p)
{
    if (!cond_primary(p))
        return false;
    while (p->i < p->nt && tok_is(&p->t[p->i], "and")) {
        p->i++;
        ah_buf_puts(p->out, " and ");
        if (!cond_primary(p))
            return false;
    }
    return true;
}

static bool cond_or(cparse *p)
{
    if (!cond_and(p))
        return false;
    while (p->i < p->nt && tok_is(&p->t[p->i], "or")) {
        p->i++;
        ah_buf_puts(p->out, "\n           or ");
        if (!cond_and(p))
            return false;
    }
    return true;
}

static bool one_condition(cv *c, yaml_node_t *det, const char *text, ah_buf *out)
{
    cparse *p = calloc(1, sizeof *p);
    if (!p)
        return ahi_nomem(c->arena);
    p->c = c;
    p->det = det;
    p->out = out;
    bool ok = cond_lex(p, text) && cond_or(p);
    if (ok && p->i < p->nt)
        ok = unsupported(c, "unexpected '%.*s' in the condition", (int)p->t[p->i].n, p->t[p->i].s);
    free(p);
    return ok;
}

/* detection -> the text after `match`. */
static bool detection(cv *c, yaml_node_t *det, ah_buf *out)
{
    yaml_document_t *d = c->doc;
    if (!det || det->type != YAML_MAPPING_NODE)
        return unsupported(c, "detection is not a map");
    if (map_get(d, det, "timeframe"))
        return unsupported(c, "detection timeframe (an old-style aggregation): write a correlation rule");
    yaml_node_t *cond = map_get(d, det, "condition");
    if (!cond)
        return unsupported(c, "detection without condition");
    if (cond->type == YAML_SCALAR_NODE)
        return one_condition(c, det, sval(cond), out);
    if (cond->type == YAML_SEQUENCE_NODE) {
        /* a list of conditions: any of them */
        size_t n = (size_t)(cond->data.sequence.items.top - cond->data.sequence.items.start);
        for (size_t i = 0; i < n; i++) {
            const char *s = sval(yaml_document_get_node(d, cond->data.sequence.items.start[i]));
            if (!s)
                return unsupported(c, "a condition is not a string");
            ah_buf_puts(out, i ? "\n           or (" : "(");
            if (!one_condition(c, det, s, out))
                return false;
            ah_buf_putc(out, ')');
        }
        return n ? true : unsupported(c, "empty condition list");
    }
    return unsupported(c, "condition is not a string");
}

/* --- metadata ---------------------------------------------------------- */

typedef struct doc_info {
    yaml_document_t doc;
    yaml_node_t *root;
    uint64_t line, col;
    const char *id;   /* as written, or NULL */
    const char *name; /* `name` (correlation references), or NULL */
    char rid[160];    /* the audithound rule id */
    bool is_rule, is_corr;
    bool consumed; /* referenced by a correlation with generate: false */
    cv c;          /* profile, sources, why */
    ah_buf match;  /* the translated condition */
    bool converted;
} doc_info;

static void make_id(char *dst, size_t cap, const char *id, const char *file, size_t index, size_t ndocs)
{
    char tmp[160];
    if (id && *id)
        snprintf(tmp, sizeof tmp, "%s", id);
    else {
        const char *base = strrchr(file, '/');
        base = base ? base + 1 : file;
        size_t n = strcspn(base, ".");
        if (ndocs > 1)
            snprintf(tmp, sizeof tmp, "sigma-%.*s-%zu", (int)n, base, index + 1);
        else
            snprintf(tmp, sizeof tmp, "sigma-%.*s", (int)n, base);
    }
    size_t k = 0;
    for (const char *p = tmp; *p && k + 1 < cap; p++)
        dst[k++] = word_char(*p) || *p == '-' || *p == '.' || *p == ':' ? *p : '-';
    dst[k] = '\0';
    if (!k)
        snprintf(dst, cap, "sigma-rule");
}

static const char *severity_of(const char *level)
{
    if (!level)
        return "medium";
    if (strcmp(level, "informational") == 0)
        return "info";
    if (strcmp(level, "low") == 0 || strcmp(level, "medium") == 0 || strcmp(level, "high") == 0 ||
        strcmp(level, "critical") == 0)
        return level;
    return "medium";
}

/* A multi-line text as adjacent strings, one per line. */
static void put_text(ah_buf *b, const char *key, const char *s)
{
    ah_buf_printf(b, "  %-14s ", key);
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
        n--;
    const char *p = s, *end = s + n;
    bool first = true;
    do {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t k = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
        if (!first)
            ah_buf_printf(b, "\n  %-14s ", "");
        ahi_put_string(b, p, k);
        first = false;
        p += k;
    } while (p < end);
    ah_buf_putc(b, '\n');
}

static bool one_word(const char *s)
{
    if (!s || !*s)
        return false;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == '"' || *p == '#' || *p == '{' || *p == '}')
            return false;
    return true;
}

static void put_list(ah_buf *b, yaml_document_t *d, const char *key, yaml_node_t *n, const char *first)
{
    if (!n && !first)
        return;
    size_t count = 0;
    ah_buf line;
    ah_buf_init(&line, 0);
    if (first) {
        put_word(&line, first);
        count++;
    }
    if (n && n->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
            const char *s = sval(yaml_document_get_node(d, *i));
            if (!s || !*s)
                continue;
            if (count)
                ah_buf_putc(&line, ' ');
            if (strcmp(key, "falsepositives") == 0)
                put_cstr(&line, s);
            else
                put_word(&line, s);
            count++;
        }
    } else if (sval(n) && *sval(n)) {
        if (count)
            ah_buf_putc(&line, ' ');
        put_cstr(&line, sval(n));
        count++;
    }
    if (count)
        ah_buf_printf(b, "  %-14s %s\n", key, ah_buf_cstr(&line));
    carry_status(b, &line);
    ah_buf_free(&line);
}

static const char *author_of(yaml_document_t *d, yaml_node_t *root, ah_buf *tmp)
{
    yaml_node_t *a = map_get(d, root, "author");
    if (sval(a))
        return sval(a);
    if (a && a->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *i = a->data.sequence.items.start; i < a->data.sequence.items.top; i++) {
            const char *s = sval(yaml_document_get_node(d, *i));
            if (s) {
                if (tmp->len)
                    ah_buf_puts(tmp, ", ");
                ah_buf_puts(tmp, s);
            }
        }
        return ah_buf_cstr(tmp);
    }
    return NULL;
}

static void sources_line(ah_buf *b, unsigned sources)
{
    ah_buf_printf(b, "  %-14s", "sources");
    for (int k = AH_SOURCE_UAL; k < AH_SOURCE_COUNT; k++)
        if (sources & AH_SOURCE_BIT(k))
            ah_buf_printf(b, " %s", ah_source_name((ah_source_kind)k));
    ah_buf_putc(b, '\n');
}

static const char *service_label(doc_info *di)
{
    yaml_node_t *ls = map_get(&di->doc, di->root, "logsource");
    static const char *const none = "";
    const char *s = map_str(&di->doc, ls, "service");
    return s ? s : none;
}

/* The metadata block shared by single-event and correlation rules. */
static void put_meta(ah_buf *b, doc_info *di, const char *name, const char *opener, const char *kind_note)
{
    yaml_document_t *d = &di->doc;
    yaml_node_t *r = di->root;
    const char *title = map_str(d, r, "title");
    ah_buf_printf(b, "# Sigma %s ", kind_note);
    put_comment(b, di->id ? di->id : "(no id)");
    ah_buf_puts(b, " (");
    put_comment(b, name);
    ah_buf_printf(b, ":%llu)\n", (unsigned long long)di->line);
    ah_buf_printf(b, "%s %s {\n", opener, di->rid);
    put_text(b, "title", title && *title ? title : di->rid);
    const char *desc = map_str(d, r, "description");
    if (desc && *desc)
        put_text(b, "description", desc);
    ah_buf tmp;
    ah_buf_init(&tmp, 0);
    const char *author = author_of(d, r, &tmp);
    if (author && *author)
        put_text(b, "author", author);
    carry_status(b, &tmp);
    ah_buf_free(&tmp);
    ah_buf_printf(b, "  %-14s %s\n", "severity", severity_of(map_str(d, r, "level")));
    const char *status = map_str(d, r, "status");
    if (status && (strcmp(status, "stable") == 0 || strcmp(status, "test") == 0 || strcmp(status, "experimental") == 0))
        ah_buf_printf(b, "  %-14s %s\n", "status", status);
    if (one_word(map_str(d, r, "date")))
        ah_buf_printf(b, "  %-14s %s\n", "date", map_str(d, r, "date"));
    if (one_word(map_str(d, r, "modified")))
        ah_buf_printf(b, "  %-14s %s\n", "modified", map_str(d, r, "modified"));
    put_list(b, d, "tags", map_get(d, r, "tags"), "sigma");
    put_list(b, d, "references", map_get(d, r, "references"), NULL);
    put_list(b, d, "falsepositives", map_get(d, r, "falsepositives"), NULL);
    ah_buf note;
    ah_buf_init(&note, 0);
    ah_buf_printf(&note, "Sigma rule %s from %s", di->id ? di->id : "(no id)", name);
    yaml_node_t *ls = map_get(d, r, "logsource");
    if (ls)
        ah_buf_printf(&note, ", logsource %s/%s", map_str(d, ls, "product") ? map_str(d, ls, "product") : "",
                      service_label(di));
    if (status && strcmp(status, "stable") != 0 && strcmp(status, "test") != 0 && strcmp(status, "experimental") != 0)
        ah_buf_printf(&note, ", status %s", status);
    put_text(b, "note", ah_buf_cstr(&note));
    carry_status(b, &note);
    ah_buf_free(&note);
}

/* --- correlations ------------------------------------------------------ */

static doc_info *find_ref(doc_info *docs, size_t n, const char *ref)
{
    for (size_t i = 0; i < n; i++)
        if (docs[i].is_rule &&
            ((docs[i].id && strcmp(docs[i].id, ref) == 0) || (docs[i].name && strcmp(docs[i].name, ref) == 0)))
            return &docs[i];
    return NULL;
}

/* "30m", "1h", "2d", "45s" -> a duration of the rule language (at most 31 days). */
static bool timespan_ok(const char *s)
{
    if (!s || !*s)
        return false;
    char *end = NULL;
    unsigned long v = strtoul(s, &end, 10);
    if (end == s || !end || strlen(end) != 1 || v == 0)
        return false;
    unsigned long secs = *end == 's' ? v : *end == 'm' ? v * 60 : *end == 'h' ? v * 3600 : *end == 'd' ? v * 86400 : 0;
    return secs > 0 && secs <= 31ul * 86400;
}

/* A group-by field -> one operand, the same for every referenced rule. */
static bool group_operand(cv *c, doc_info **refs, size_t nrefs, const char *field, char *out, size_t cap)
{
    out[0] = '\0';
    for (size_t i = 0; i < nrefs; i++) {
        cv tmp = refs[i]->c;
        tmp.why[0] = '\0';
        operands o;
        if (!map_field(&tmp, field, &o))
            return unsupported(c, "group-by %s", tmp.why);
        if (o.n != 1)
            return unsupported(c, "group-by field '%s' is kept in several places by the export shapes", field);
        if (strcmp(o.alt[0], "result") == 0)
            return unsupported(c, "group-by field '%s' is the result", field);
        if (out[0] && strcmp(out, o.alt[0]) != 0)
            return unsupported(c, "group-by field '%s' maps differently in the rules it correlates", field);
        snprintf(out, cap, "%s", o.alt[0]);
    }
    return true;
}

static void put_ref_condition(ah_buf *b, doc_info *r, bool restrict_source)
{
    if (restrict_source) {
        for (int k = AH_SOURCE_UAL; k < AH_SOURCE_COUNT; k++)
            if (r->c.sources & AH_SOURCE_BIT(k))
                ah_buf_printf(b, "source == \"%s\" and ", ah_source_name((ah_source_kind)k));
    }
    ah_buf_putc(b, '(');
    ah_buf_append(b, r->match.data, r->match.len);
    ah_buf_putc(b, ')');
}

static bool correlation(doc_info *di, doc_info *docs, size_t ndocs, const char *name, ah_buf *out)
{
    cv *c = &di->c;
    yaml_document_t *d = &di->doc;
    yaml_node_t *co = map_get(d, di->root, "correlation");
    if (!co || co->type != YAML_MAPPING_NODE)
        return unsupported(c, "correlation is not a map");
    const char *type = map_str(d, co, "type");
    if (!type)
        return unsupported(c, "correlation without type");
    bool is_count = strcmp(type, "event_count") == 0, is_values = strcmp(type, "value_count") == 0,
         is_sum = strcmp(type, "value_sum") == 0, is_ordered = strcmp(type, "temporal_ordered") == 0;
    if (strcmp(type, "temporal") == 0)
        return unsupported(c, "correlation type temporal (unordered): audithound sequences are ordered");
    if (!is_count && !is_values && !is_sum && !is_ordered)
        return unsupported(c, "correlation type %s", type);
    if (map_get(d, co, "aliases"))
        return unsupported(c, "correlation field aliases");
    const char *span = map_str(d, co, "timespan");
    if (!span)
        span = map_str(d, co, "timeframe");
    if (!timespan_ok(span))
        return unsupported(c, "timespan '%s' (a number with s, m, h or d, at most 31 days)", span ? span : "");
    yaml_node_t *rules = map_get(d, co, "rules");
    if (sval(rules))
        rules = NULL; /* a single name */
    doc_info *refs[64];
    size_t nrefs = 0;
    if (rules && rules->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *i = rules->data.sequence.items.start; i < rules->data.sequence.items.top; i++) {
            const char *ref = sval(yaml_document_get_node(d, *i));
            if (!ref || nrefs == AH_ARRAY_LEN(refs))
                return unsupported(c, "correlation rules list");
            doc_info *r = find_ref(docs, ndocs, ref);
            if (!r)
                return unsupported(c, "referenced rule '%s' is not in the same file", ref);
            if (!r->converted)
                return unsupported(c, "referenced rule '%s' is unsupported: %s", ref, r->c.why);
            refs[nrefs++] = r;
        }
    } else if (map_str(d, co, "rules")) {
        const char *ref = map_str(d, co, "rules");
        doc_info *r = find_ref(docs, ndocs, ref);
        if (!r)
            return unsupported(c, "referenced rule '%s' is not in the same file", ref);
        if (!r->converted)
            return unsupported(c, "referenced rule '%s' is unsupported: %s", ref, r->c.why);
        refs[nrefs++] = r;
    }
    if (nrefs == 0)
        return unsupported(c, "correlation without rules");
    unsigned sources = 0, profiles = 0;
    for (size_t i = 0; i < nrefs; i++) {
        sources |= refs[i]->c.sources;
        profiles |= refs[i]->c.profile;
    }
    bool restrict_source = __builtin_popcount(sources) > 1;
    c->sources = sources;
    /* group-by */
    yaml_node_t *gb = map_get(d, co, "group-by");
    char groups[8][256];
    size_t ng = 0;
    if (gb && sval(gb) && *sval(gb)) {
        if (!group_operand(c, refs, nrefs, sval(gb), groups[ng++], sizeof groups[0]))
            return false;
    } else if (gb && gb->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *i = gb->data.sequence.items.start; i < gb->data.sequence.items.top; i++) {
            const char *f = sval(yaml_document_get_node(d, *i));
            if (!f || ng == AH_ARRAY_LEN(groups))
                return unsupported(c, "group-by list");
            if (!group_operand(c, refs, nrefs, f, groups[ng++], sizeof groups[0]))
                return false;
        }
    }
    /* condition */
    char when[300] = "";
    if (!is_ordered) {
        yaml_node_t *cond = map_get(d, co, "condition");
        if (!cond || cond->type != YAML_MAPPING_NODE)
            return unsupported(c, "correlation without condition");
        const char *op = NULL, *num = NULL, *field = NULL;
        for (yaml_node_pair_t *p = cond->data.mapping.pairs.start; p < cond->data.mapping.pairs.top; p++) {
            const char *k = sval(yaml_document_get_node(d, p->key));
            const char *v = sval(yaml_document_get_node(d, p->value));
            if (!k || !v)
                return unsupported(c, "correlation condition");
            if (strcmp(k, "field") == 0) {
                field = v;
                continue;
            }
            const char *o = strcmp(k, "gt") == 0    ? ">"
                            : strcmp(k, "gte") == 0 ? ">="
                            : strcmp(k, "lt") == 0  ? "<"
                            : strcmp(k, "lte") == 0 ? "<="
                            : strcmp(k, "eq") == 0  ? "=="
                                                    : NULL;
            if (!o)
                return unsupported(c, "correlation condition '%s'", k);
            if (op)
                return unsupported(c, "correlation condition with a range (two bounds)");
            if (!is_number_text(v))
                return unsupported(c, "correlation condition value '%s' is not a number", v);
            op = o;
            num = v;
        }
        if (!op)
            return unsupported(c, "correlation condition without a bound");
        if (is_count)
            snprintf(when, sizeof when, "count %s %s", op, num);
        else {
            if (!field)
                return unsupported(c, "%s without condition field", type);
            char agg[256];
            if (!group_operand(c, refs, nrefs, field, agg, sizeof agg))
                return false;
            snprintf(when, sizeof when, "%s(%s) %s %s", is_sum ? "sum" : "distinct", agg, op, num);
        }
    } else {
        if (nrefs < 2)
            return unsupported(c, "temporal_ordered with fewer than two rules");
        if (ng == 0)
            return unsupported(c, "temporal_ordered without group-by (audithound sequences join on a key)");
    }
    (void)profiles;
    put_meta(out, di, name, is_ordered ? "sequence" : "correlation",
             is_ordered ? "correlation (temporal_ordered)"
             : is_count ? "correlation (event_count)"
             : is_sum   ? "correlation (value_sum)"
                        : "correlation (value_count)");
    sources_line(out, sources);
    if (is_ordered) {
        ah_buf_printf(out, "  %-14s %s\n", "within", span);
        for (size_t i = 0; i < nrefs; i++) {
            ah_buf_printf(out, "  step s%zu {  # %s\n    match ", i + 1, refs[i]->rid);
            put_ref_condition(out, refs[i], restrict_source);
            ah_buf_puts(out, "\n    key  ");
            for (size_t g = 0; g < ng; g++)
                ah_buf_printf(out, "%s%s", g ? ", " : " ", groups[g]);
            ah_buf_puts(out, "\n  }\n");
        }
    } else {
        ah_buf_printf(out, "  %-14s ", "match");
        for (size_t i = 0; i < nrefs; i++) {
            if (i)
                ah_buf_puts(out, "\n           or ");
            if (nrefs > 1)
                ah_buf_putc(out, '(');
            put_ref_condition(out, refs[i], restrict_source);
            if (nrefs > 1)
                ah_buf_putc(out, ')');
        }
        ah_buf_putc(out, '\n');
        if (ng) {
            ah_buf_printf(out, "  %-14s", "group");
            for (size_t g = 0; g < ng; g++)
                ah_buf_printf(out, "%s %s", g ? "," : "", groups[g]);
            ah_buf_putc(out, '\n');
        }
        ah_buf_printf(out, "  %-14s %s\n", "window", span);
        ah_buf_printf(out, "  %-14s %s\n", "when", when);
    }
    ah_buf_puts(out, "}\n");
    return true;
}

/* --- documents --------------------------------------------------------- */

static void classify(doc_info *di)
{
    yaml_document_t *d = &di->doc;
    cv *c = &di->c;
    c->doc = d;
    if (!di->root || di->root->type != YAML_MAPPING_NODE)
        return;
    di->id = map_str(d, di->root, "id");
    di->name = map_str(d, di->root, "name");
    if (map_get(d, di->root, "correlation"))
        di->is_corr = true;
    else if (map_get(d, di->root, "detection"))
        di->is_rule = true;
    else if (map_get(d, di->root, "filter"))
        unsupported(c, "a Sigma filter (meta filters are applied by a processing pipeline)");
    else if (map_str(d, di->root, "action"))
        unsupported(c, "a rule collection action (deprecated in Sigma 2)");
}

static void convert_rule(doc_info *di)
{
    cv *c = &di->c;
    yaml_document_t *d = &di->doc;
    const char *status = map_str(d, di->root, "status");
    if (status && strcmp(status, "unsupported") == 0) {
        unsupported(c, "the rule's own status is unsupported");
        return;
    }
    if (!logsource(c, map_get(d, di->root, "logsource")))
        return;
    if (!detection(c, map_get(d, di->root, "detection"), &di->match))
        return;
    di->converted = true;
}

static void report(doc_info *di, const char *text, size_t len, ah_sigma_fn fn, void *ud)
{
    const char *title = map_str(&di->doc, di->root, "title");
    ah_sigma_rule r = {
        .id = di->rid,
        .title = title ? title : "",
        .line = di->line,
        .col = di->col,
        .sources = di->c.sources,
        .text = text,
        .len = len,
        .unsupported = text ? NULL : (di->c.why[0] ? di->c.why : "not a Sigma rule"),
        .is_rule = di->is_rule || di->is_corr || di->c.why[0],
    };
    fn(ud, &r);
}

ah_status ah_sigma_convert(const char *name, const char *yaml, size_t len, ah_sigma_fn fn, void *ud, char *err,
                           size_t errsize)
{
    if (err && errsize)
        err[0] = '\0';
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return AH_ERR_NOMEM;
    yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
    doc_info *docs = NULL;
    size_t n = 0, cap = 0;
    ah_status st = AH_OK;
    ahi_arena arena;
    ahi_arena_init(&arena);
    for (;;) {
        if (n == cap) {
            doc_info *nd = ah_grow_array(docs, &cap, 4, sizeof *nd);
            if (!nd) {
                st = AH_ERR_NOMEM;
                break;
            }
            docs = nd;
        }
        doc_info *di = &docs[n];
        memset(di, 0, sizeof *di);
        if (!yaml_parser_load(&parser, &di->doc)) {
            if (err && errsize)
                snprintf(err, errsize, "%llu:%llu: YAML: %s%s%s", (unsigned long long)parser.problem_mark.line + 1,
                         (unsigned long long)parser.problem_mark.column + 1,
                         parser.problem ? parser.problem : "syntax error", parser.context ? " " : "",
                         parser.context ? parser.context : "");
            st = AH_ERR_SYNTAX;
            break;
        }
        di->root = yaml_document_get_root_node(&di->doc);
        if (!di->root) {
            yaml_document_delete(&di->doc);
            break;
        }
        if (n == MAX_DOCS) {
            yaml_document_delete(&di->doc);
            if (err && errsize)
                snprintf(err, errsize, "more than %d YAML documents", MAX_DOCS);
            st = AH_ERR_TOOBIG;
            break;
        }
        di->line = di->root->start_mark.line + 1;
        di->col = di->root->start_mark.column + 1;
        ah_buf_init(&di->match, 0);
        di->c.arena = &arena;
        n++;
    }
    yaml_parser_delete(&parser);
    for (size_t i = 0; i < n; i++) {
        docs[i].c.doc = &docs[i].doc;
        classify(&docs[i]);
        make_id(docs[i].rid, sizeof docs[i].rid, docs[i].id, name, i, n);
    }
    /* Rules a correlation uses are not hits of their own unless it says
     * `generate: true`. */
    for (size_t i = 0; i < n; i++) {
        if (!docs[i].is_corr)
            continue;
        yaml_document_t *d = &docs[i].doc;
        yaml_node_t *co = map_get(d, docs[i].root, "correlation");
        bool generate = false;
        is_bool(map_get(d, co, "generate") ? map_get(d, co, "generate") : &(yaml_node_t){0}, &generate);
        yaml_node_t *rules = map_get(d, co, "rules");
        if (generate || !rules)
            continue;
        if (sval(rules)) {
            doc_info *r = find_ref(docs, n, sval(rules));
            if (r)
                r->consumed = true;
        } else if (rules->type == YAML_SEQUENCE_NODE) {
            for (yaml_node_item_t *it = rules->data.sequence.items.start; it < rules->data.sequence.items.top; it++) {
                doc_info *r =
                    find_ref(docs, n, sval(yaml_document_get_node(d, *it)) ? sval(yaml_document_get_node(d, *it)) : "");
                if (r)
                    r->consumed = true;
            }
        }
    }
    for (size_t i = 0; i < n; i++)
        if (docs[i].is_rule) {
            convert_rule(&docs[i]);
            if (ah_buf_status(&docs[i].match) != AH_OK)
                ahi_nomem(&arena);
        }
    /* Out of memory anywhere above: no translation at all rather than a
     * rule cut short or called unsupported for want of memory. */
    ah_buf text;
    ah_buf_init(&text, 0);
    for (size_t i = 0; i < n && !arena.nomem; i++) {
        doc_info *di = &docs[i];
        ah_buf_reset(&text);
        bool ok = false;
        if (di->is_rule && di->converted) {
            if (di->consumed) {
                ah_buf_puts(&text, "# Sigma rule ");
                put_comment(&text, di->id ? di->id : di->rid);
                ah_buf_puts(&text, " (");
                put_comment(&text, name);
                ah_buf_printf(&text, ":%llu) is used by a correlation below only (generate: false)\n",
                              (unsigned long long)di->line);
            } else {
                put_meta(&text, di, name, "rule", "rule");
                sources_line(&text, di->c.sources);
                ah_buf_printf(&text, "  %-14s ", "match");
                ah_buf_append(&text, di->match.data, di->match.len);
                ah_buf_puts(&text, "\n}\n");
            }
            ok = true;
        } else if (di->is_corr) {
            ok = correlation(di, docs, n, name, &text);
        }
        if (ah_buf_status(&text) != AH_OK || arena.nomem) {
            ahi_nomem(&arena);
            break;
        }
        report(di, ok ? ah_buf_cstr(&text) : NULL, ok ? text.len : 0, fn, ud);
    }
    ah_buf_free(&text);
    if (arena.nomem) {
        st = AH_ERR_NOMEM;
        if (err && errsize)
            snprintf(err, errsize, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        ah_buf_free(&docs[i].match);
        yaml_document_delete(&docs[i].doc);
    }
    free(docs);
    ahi_arena_free(&arena);
    return st;
}
