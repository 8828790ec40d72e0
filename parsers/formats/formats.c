/*
 * formats.c: format detection and normalization, record -> ah_event.
 *
 * The driver is generic; everything format-specific is data in formats.def
 * and the family tables (norm_ual.c, norm_signin.c, norm_audit.c):
 *  - CSV: the header is matched once per stream against each CSV format's
 *    header names; a row becomes a JSON object (header -> cell) and, from
 *    there on, is normalized exactly like a JSON record.
 *  - JSON: one pass over the record's members files every known key in a
 *    slot (view.c); each JSON format's shapes are then checked against the
 *    slots in formats.def order, unwrapping the body (AuditData,
 *    properties, a wrapper member) on the way.
 *  - Fields: the family map lists candidate paths per field; the first
 *    candidate with a real value wins (placeholders such as "sanitized"
 *    only when nothing better exists; for the IP, the first that parses).
 * Scratch buffers are reset per record and keep their capacity, so after
 * warm-up a record costs no allocation. Values that live in buffers which
 * may still grow are offsets until the event is complete (view.h).
 *
 * Size: the generic normalization driver for every format (CSV binding,
 * JSON views, field picking, identities); the format-specific parts are
 * data in formats.def and the norm_*.c tables.
 */
#include "formats.h"

#include "../util/hash.h"
#include "ipaddr.h"
#include "norm.h"
#include "opcanon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const ah_format_desc format_table[] = {
#define AH_FORMAT(id, desc, source, framing, spec) {{#id, desc, source, framing}, &spec},
#include "formats.def"
#undef AH_FORMAT
};

enum { FORMAT_COUNT = (int)AH_ARRAY_LEN(format_table) };
_Static_assert(FORMAT_COUNT <= 64, "per-format arrays in ah_normalizer hold 64 formats");

/* Digest seeds: identities and content hashes live in different spaces,
 * and each source has its own (a UAL Id never equals a sign-in id). */
#define SEED_ID 0x6175646974686964ull
#define SEED_CONTENT 0x617564697463746eull
#define SEED_SOURCE_STEP 0x9E3779B97F4A7C15ull

size_t ah_format_count(void) { return FORMAT_COUNT; }

const ah_format *ah_format_at(size_t i) { return i < FORMAT_COUNT ? &format_table[i].pub : NULL; }

const ah_format *ah_format_by_name(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < FORMAT_COUNT; i++)
        if (strcmp(format_table[i].pub.name, name) == 0)
            return &format_table[i].pub;
    return NULL;
}

static size_t format_index(const ah_format_desc *d) { return (size_t)(d - format_table); }

/* --- construction ----------------------------------------------------------------- */

static ah_status compile_klist(ah_normalizer *n, const char *list, ah_klist *out)
{
    out->n = 0;
    if (!list)
        return AH_OK;
    const char *p = list;
    while (*p) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == 0 || out->n >= AH_ARRAY_LEN(out->id))
            return AH_ERR_USAGE;
        const char *key = ah_pool_strndup(&n->pool, p, len);
        if (!key)
            return AH_ERR_NOMEM;
        int id = ah_keytab_intern(&n->keys, key);
        if (id < 0)
            return AH_ERR_NOMEM;
        out->id[out->n++] = (int16_t)id;
        if (!bar)
            break;
        p = bar + 1;
    }
    return AH_OK;
}

static ah_status compile_map(ah_normalizer *n, const ah_field_map *src, const ah_cmap **out)
{
    for (size_t i = 0; i < n->ncmap; i++) {
        if (n->cmap[i].src == src) {
            *out = &n->cmap[i];
            return AH_OK;
        }
    }
    if (n->ncmap >= AH_ARRAY_LEN(n->cmap))
        return AH_ERR_USAGE;
    ah_cmap *m = &n->cmap[n->ncmap++];
    m->src = src;
    ah_status st = ah_pathlist_compile(&m->time, src->time, &n->keys, &n->pool);
    for (int f = 0; st == AH_OK && f < AH_F_COUNT; f++)
        st = ah_pathlist_compile(&m->field[f], src->field[f], &n->keys, &n->pool);
    for (int a = 0; st == AH_OK && a < AH_AUX_COUNT; a++)
        st = ah_pathlist_compile(&m->aux[a], src->aux[a], &n->keys, &n->pool);
    *out = m;
    return st;
}

static ah_status compile_shape(ah_normalizer *n, const ah_json_shape *s, ah_cshape *c)
{
    c->body = -1;
    c->body_optional = s->body_optional;
    c->cat_in = s->cat_in;
    c->cat_out = s->cat_out;
    if (s->body) {
        ah_klist k;
        ah_status st = compile_klist(n, s->body, &k);
        if (st != AH_OK || k.n != 1)
            return st != AH_OK ? st : AH_ERR_USAGE;
        c->body = k.id[0];
    }
    ah_status st = compile_klist(n, s->all, &c->all);
    if (st == AH_OK)
        st = compile_klist(n, s->any, &c->any);
    if (st == AH_OK)
        st = compile_klist(n, s->any2, &c->any2);
    if (st == AH_OK)
        st = compile_klist(n, s->none, &c->none);
    if (st == AH_OK)
        st = compile_klist(n, s->cat, &c->cat);
    if (st == AH_OK)
        st = compile_klist(n, s->body_any, &c->body_any);
    return st;
}

static size_t scaled_limit(size_t max, size_t factor)
{
    if (max > (SIZE_MAX - 65536) / factor)
        return SIZE_MAX / 2;
    return max * factor + 65536;
}

ah_normalizer *ah_normalizer_new(const ah_norm_options *opt)
{
    ah_normalizer *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    if (opt)
        n->opt = *opt;
    if (n->opt.max_record == 0)
        n->opt.max_record = AH_MAX_RECORD_DEFAULT;
    ah_keytab_init(&n->keys);
    size_t max = n->opt.max_record;
    /* A CSV row written as JSON may grow (escapes); a lookup may unescape
     * the same nested string for several fields. */
    ah_buf_init(&n->raw_buf, scaled_limit(max, 8));
    ah_buf_init(&n->body_buf, scaled_limit(max, 8));
    ah_buf_init(&n->nest, scaled_limit(max, 8));
    ah_buf_init(&n->str, scaled_limit(max, 4));
    ah_buf_init(&n->canon, scaled_limit(max, 1));
    ah_buf_init(&n->hashbuf, scaled_limit(max, 2));
    ah_buf_init(&n->hdr_norm, scaled_limit(max, 1));
    ah_buf_init(&n->hdr_json, scaled_limit(max, 8));

    ah_status st = AH_OK;
    for (size_t i = 0; st == AH_OK && i < FORMAT_COUNT; i++) {
        const ah_format_spec *spec = format_table[i].spec;
        st = compile_map(n, spec->map, &n->fmt_cmap[i]);
        if (spec->nshapes > AH_MAX_SHAPES)
            st = AH_ERR_USAGE;
        for (size_t s = 0; st == AH_OK && s < spec->nshapes; s++)
            st = compile_shape(n, &spec->shapes[s], &n->cshape[i][s]);
        if (spec->ncsv_roles > AH_MAX_ROLES)
            st = AH_ERR_USAGE;
    }
    if (st == AH_OK)
        st = ah_slots_init(&n->rec_slots, n->keys.n);
    if (st == AH_OK)
        st = ah_slots_init(&n->body_slots, n->keys.n);
    if (st != AH_OK) {
        ah_normalizer_free(n);
        return NULL;
    }
    n->view.nest = &n->nest;
    n->view.str = &n->str;
    return n;
}

void ah_normalizer_free(ah_normalizer *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->ncmap; i++) {
        ah_pathlist_free(&n->cmap[i].time);
        for (int f = 0; f < AH_F_COUNT; f++)
            ah_pathlist_free(&n->cmap[i].field[f]);
        for (int a = 0; a < AH_AUX_COUNT; a++)
            ah_pathlist_free(&n->cmap[i].aux[a]);
    }
    ah_pool_free(&n->pool);
    ah_slots_free(&n->rec_slots);
    ah_slots_free(&n->body_slots);
    ah_buf_free(&n->raw_buf);
    ah_buf_free(&n->body_buf);
    ah_buf_free(&n->nest);
    ah_buf_free(&n->str);
    ah_buf_free(&n->canon);
    ah_buf_free(&n->hashbuf);
    ah_buf_free(&n->hdr_norm);
    ah_buf_free(&n->hdr_json);
    free(n->hdr_norm_off);
    free(n->hdr_json_off);
    free(n->hdr_occ);
    free(n->hdr_index);
    free(n->hdr_index_seen);
    free(n);
}

/* --- streams and file-name hints --------------------------------------------------- */

static bool contains_ci(const char *hay, const char *needle)
{
    size_t nl = strlen(needle);
    for (const char *p = hay; *p; p++) {
        size_t i = 0;
        while (i < nl && p[i] && (p[i] | 0x20) == (needle[i] | 0x20))
            i++;
        if (i == nl)
            return true;
    }
    return false;
}

void ah_normalizer_begin(ah_normalizer *n, const ah_origin *origin)
{
    n->origin = origin;
    memset(&n->stats, 0, sizeof n->stats);
    n->csv_fmt = NULL;
    n->ncols = 0;
    n->hint_type = NULL;
    n->hint_authdetails = false;
    const char *name = origin ? (origin->entry ? origin->entry : origin->path) : NULL;
    if (!name)
        return;
    /* Only the last component says what the portal exported. */
    for (const char *p = name; *p; p++)
        if (*p == '/' || *p == '\\' || *p == '!')
            name = p + 1;
    if (contains_ci(name, "AuthDetails"))
        n->hint_authdetails = true;
    else if (contains_ci(name, "NonInteractiveSignIns"))
        n->hint_type = "nonInteractiveUser";
    else if (contains_ci(name, "InteractiveSignIns"))
        n->hint_type = "interactiveUser";
    else if (contains_ci(name, "ApplicationSignIns"))
        n->hint_type = "servicePrincipal";
    else if (contains_ci(name, "MSISignIns"))
        n->hint_type = "managedIdentity";
}

const ah_norm_stats *ah_normalizer_stats(const ah_normalizer *n) { return &n->stats; }

/* --- CSV binding ----------------------------------------------------------------------- */

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

static ah_span strip_bom(ah_span s)
{
    if (s.n >= 3 && memcmp(s.p, "\xEF\xBB\xBF", 3) == 0)
        return ah_span_make(s.p + 3, s.n - 3);
    return s;
}

/* Trim, collapse whitespace runs to one space, ASCII case-fold (as
 * ah_csv_header_key, kept here so binding needs nothing from the reader). */
static ah_status append_header_key(ah_buf *b, ah_span name)
{
    name = ah_span_trim(strip_bom(name));
    bool space = false;
    for (size_t i = 0; i < name.n; i++) {
        char c = name.p[i];
        if (is_space(c)) {
            space = true;
            continue;
        }
        ah_status st = AH_OK;
        if (space)
            st = ah_buf_putc(b, ' ');
        space = false;
        if (st == AH_OK)
            st = ah_buf_putc(b, (char)ah_fold((unsigned char)c));
        if (st != AH_OK)
            return st;
    }
    return ah_buf_putc(b, '\0');
}

static const char *hdr_key(const ah_normalizer *n, size_t i) { return n->hdr_norm.data + n->hdr_norm_off[i]; }

static uint32_t name_hash(const char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 16777619u;
    }
    return h;
}

static bool key_is(const char *key, const char *name, size_t namelen)
{
    return strncmp(key, name, namelen) == 0 && key[namelen] == '\0';
}

/* First column with this normalized name, or -1. A hash index, because a
 * hostile header may have millions of columns. */
static int find_col(const ah_normalizer *n, const char *name, size_t namelen)
{
    if (!n->hdr_index || n->ncols == 0)
        return -1;
    size_t mask = n->hdr_index_cap - 1;
    for (size_t i = name_hash(name, namelen) & mask;; i = (i + 1) & mask) {
        uint32_t slot = n->hdr_index[i];
        if (slot == 0)
            return -1;
        if (key_is(hdr_key(n, slot - 1), name, namelen))
            return (int)(slot - 1);
    }
}

/* Index the normalized names and number repeated ones (hdr_occ). */
static ah_status index_header(ah_normalizer *n, size_t ncols)
{
    if (ncols > UINT32_MAX / 4)
        return AH_ERR_TOOBIG;
    size_t cap = 16;
    while (cap < ncols * 2)
        cap *= 2;
    if (cap > n->hdr_index_cap) {
        uint32_t *idx = realloc(n->hdr_index, cap * sizeof *idx);
        if (!idx)
            return AH_ERR_NOMEM;
        n->hdr_index = idx;
        uint32_t *seen = realloc(n->hdr_index_seen, cap * sizeof *seen);
        if (!seen)
            return AH_ERR_NOMEM;
        n->hdr_index_seen = seen;
        n->hdr_index_cap = cap;
    }
    memset(n->hdr_index, 0, n->hdr_index_cap * sizeof *n->hdr_index);
    size_t mask = n->hdr_index_cap - 1;
    for (size_t c = 0; c < ncols; c++) {
        const char *k = hdr_key(n, c);
        size_t len = strlen(k);
        size_t i = name_hash(k, len) & mask;
        while (n->hdr_index[i] && !key_is(hdr_key(n, n->hdr_index[i] - 1), k, len))
            i = (i + 1) & mask;
        if (!n->hdr_index[i]) {
            n->hdr_index[i] = (uint32_t)(c + 1);
            n->hdr_index_seen[i] = 0;
        }
        n->hdr_occ[c] = ++n->hdr_index_seen[i];
    }
    return AH_OK;
}

/* How many names of the '|' list are columns; *all says whether every one is. */
static size_t count_cols(const ah_normalizer *n, const char *list, bool *all)
{
    size_t found = 0;
    *all = true;
    if (!list)
        return 0;
    for (const char *p = list;;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (find_col(n, p, len) >= 0)
            found++;
        else
            *all = false;
        if (!bar)
            break;
        p = bar + 1;
    }
    return found;
}

static bool csv_shape_matches(const ah_normalizer *n, const ah_csv_shape *s)
{
    bool all;
    count_cols(n, s->all, &all);
    if (!all)
        return false;
    if (s->any && count_cols(n, s->any, &all) == 0)
        return false;
    if (s->any2 && count_cols(n, s->any2, &all) == 0)
        return false;
    if (s->none && count_cols(n, s->none, &all) > 0)
        return false;
    return true;
}

static void append_visible(char *out, size_t size, size_t *len, ah_span s)
{
    for (size_t i = 0; i < s.n && *len + 1 < size; i++) {
        unsigned char c = (unsigned char)s.p[i];
        out[(*len)++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    out[*len] = '\0';
}

static ah_status grow_header_arrays(ah_normalizer *n, size_t ncols)
{
    if (ncols + 1 <= n->hdr_cap)
        return AH_OK;
    size_t cap = ncols + 1;
    size_t *a = realloc(n->hdr_norm_off, cap * sizeof *a);
    if (!a)
        return AH_ERR_NOMEM;
    n->hdr_norm_off = a;
    size_t *b = realloc(n->hdr_json_off, cap * sizeof *b);
    if (!b)
        return AH_ERR_NOMEM;
    n->hdr_json_off = b;
    uint32_t *o = realloc(n->hdr_occ, cap * sizeof *o);
    if (!o)
        return AH_ERR_NOMEM;
    n->hdr_occ = o;
    n->hdr_cap = cap;
    return AH_OK;
}

/* The row object's keys: the header text (BOM stripped); a repeated name
 * (the portal sign-in CSV has "Incoming token type" twice) gets " (2)",
 * " (3)", ... so the object has unique keys. */
static ah_status build_row_keys(ah_normalizer *n, const ah_span *header)
{
    ah_buf *b = &n->hdr_json;
    ah_buf_reset(b);
    for (size_t i = 0; i < n->ncols; i++) {
        n->hdr_json_off[i] = b->len;
        ah_span name = strip_bom(header[i]);
        ah_status st = ah_json_write_string(b, name);
        if (st == AH_OK && n->hdr_occ[i] > 1) {
            b->len--; /* reopen the string literal for the ASCII suffix */
            st = ah_buf_printf(b, " (%u)\"", (unsigned)n->hdr_occ[i]);
        }
        if (st == AH_OK)
            st = ah_buf_putc(b, ':');
        if (st != AH_OK)
            return st;
    }
    n->hdr_json_off[n->ncols] = b->len;
    return AH_OK;
}

const ah_format *ah_normalizer_bind_csv(ah_normalizer *n, const ah_span *header, size_t ncols, char *why,
                                        size_t why_size)
{
    char dummy[1];
    if (!why || why_size == 0) {
        why = dummy;
        why_size = sizeof dummy;
    }
    why[0] = '\0';
    /* Everything needed later (normalized names, row-object keys) is copied
     * here: callers may free the header array once this returns. */
    n->csv_fmt = NULL;
    n->ncols = 0;
    if (!header || ncols == 0) {
        snprintf(why, why_size, "empty CSV header");
        return NULL;
    }
    if (grow_header_arrays(n, ncols) != AH_OK) {
        snprintf(why, why_size, AH_BIND_NOMEM);
        return NULL;
    }
    ah_buf_reset(&n->hdr_norm);
    for (size_t i = 0; i < ncols; i++) {
        n->hdr_norm_off[i] = n->hdr_norm.len;
        ah_status ast = append_header_key(&n->hdr_norm, header[i]);
        if (ast != AH_OK) {
            snprintf(why, why_size, ast == AH_ERR_NOMEM ? AH_BIND_NOMEM : "CSV header too large");
            return NULL;
        }
    }
    ah_status ist = index_header(n, ncols);
    if (ist != AH_OK) {
        snprintf(why, why_size, ist == AH_ERR_NOMEM ? AH_BIND_NOMEM : "CSV header too large");
        return NULL;
    }
    n->ncols = ncols;

    const ah_format_desc *d = NULL;
    for (size_t i = 0; i < FORMAT_COUNT && !d; i++)
        if (format_table[i].pub.framing == AH_FRAMING_CSV && format_table[i].spec->csv &&
            csv_shape_matches(n, format_table[i].spec->csv))
            d = &format_table[i];
    if (!d) {
        size_t len = (size_t)snprintf(why, why_size, "unrecognised CSV header: ");
        if (len >= why_size)
            len = why_size - 1;
        for (size_t i = 0; i < ncols && len + 1 < why_size; i++) {
            if (i == 8) {
                append_visible(why, why_size, &len, ah_span_cstr(",..."));
                break;
            }
            if (i)
                append_visible(why, why_size, &len, ah_span_cstr(","));
            ah_span h = strip_bom(header[i]);
            if (h.n > 40)
                h.n = 40;
            append_visible(why, why_size, &len, h);
        }
        n->ncols = 0;
        return NULL;
    }
    if (d->pub.source == AH_SOURCE_SIGNIN && n->hint_authdetails) {
        snprintf(why, why_size, "sign-in AuthDetails file: authentication steps, not sign-in records");
        n->ncols = 0;
        return NULL;
    }
    ah_status kst = build_row_keys(n, header);
    if (kst != AH_OK) {
        snprintf(why, why_size, kst == AH_ERR_NOMEM ? AH_BIND_NOMEM : "CSV header too large");
        n->ncols = 0;
        return NULL;
    }
    const ah_format_spec *spec = d->spec;
    n->body_col = spec->csv_body_column ? find_col(n, spec->csv_body_column, strlen(spec->csv_body_column)) : -1;
    for (size_t r = 0; r < spec->ncsv_roles; r++)
        n->role_col[r] = find_col(n, spec->csv_roles[r], strlen(spec->csv_roles[r]));
    n->nkey_col = 0;
    for (const char *p = spec->csv_key_columns; p && n->nkey_col < AH_ARRAY_LEN(n->key_col);) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        int col = find_col(n, p, len);
        if (col >= 0)
            n->key_col[n->nkey_col++] = col;
        p = bar ? bar + 1 : NULL;
    }
    n->local_date = spec->csv_local_date && find_col(n, spec->csv_local_date, strlen(spec->csv_local_date)) >= 0;
    n->csv_fmt = d;
    return &d->pub;
}

/* --- field extraction ------------------------------------------------------------------ */

static ah_val sub_val(const ah_view *v, ah_val x, ah_span sub)
{
    ah_span base = ah_view_span(v, x);
    size_t d = (size_t)(sub.p - base.p);
    if (x.loc == AH_LOC_ABS)
        return ah_val_abs(sub);
    return (ah_val){NULL, x.off + d, sub.n, x.loc};
}

static bool pick_ip(ah_norm *c, const ah_pathlist *l, ah_val *out)
{
    for (size_t i = 0; i < l->n; i++) {
        ah_val t;
        ah_span ip;
        if (!ah_view_path_text(&c->view, &l->v[i], &t))
            continue;
        if (ah_ip_normalize(ah_view_span(&c->view, t), &ip) && ip.n) {
            *out = sub_val(&c->view, t, ip);
            return true;
        }
    }
    return false;
}

static bool pick_time(ah_norm *c, ah_event *ev)
{
    const ah_pathlist *l = &c->map->time;
    for (size_t i = 0; i < l->n; i++) {
        ah_val t;
        ah_time_parse tp;
        if (!ah_view_path_text(&c->view, &l->v[i], &t))
            continue;
        if (ah_time_parse_str(ah_view_span(&c->view, t), c->opt.date_order, &tp) != AH_OK)
            continue;
        ev->has_time = true;
        ev->time = tp.time;
        if (tp.ambiguous)
            c->stats.ambiguous_dates++;
        return true;
    }
    return false;
}

static bool word_in(ah_span s, const char *const *words, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ah_span_eq_ci(s, words[i]))
            return true;
    return false;
}

static ah_result result_from_words(ah_span s)
{
    static const char *const ok[] = {"success", "succeeded", "true"};
    static const char *const bad[] = {"failed", "failure", "false"};
    s = ah_span_trim(s);
    if (word_in(s, ok, AH_ARRAY_LEN(ok)))
        return AH_RESULT_SUCCESS;
    if (word_in(s, bad, AH_ARRAY_LEN(bad)))
        return AH_RESULT_FAILURE;
    return AH_RESULT_UNKNOWN;
}

/* A decimal integer (optional minus); *zero when its value is 0. */
static bool decimal(ah_span s, bool *zero)
{
    s = ah_span_trim(s);
    size_t i = s.n && s.p[0] == '-' ? 1 : 0;
    if (i >= s.n)
        return false;
    *zero = true;
    for (; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return false;
        if (s.p[i] != '0')
            *zero = false;
    }
    return true;
}

static ah_result result_from_code(ah_span s)
{
    bool zero;
    if (decimal(s, &zero))
        return zero ? AH_RESULT_SUCCESS : AH_RESULT_FAILURE;
    return result_from_words(s);
}

/* UAL: sign-in records (RecordType 15) are judged by their error code,
 * never by ResultStatus (which says "Success" for failed logons too). */
static void ual_result(ah_norm *c)
{
    static const char *const sts_types[] = {"15", "AzureActiveDirectoryStsLogon"};
    static const char *const sts_ops[] = {"UserLoggedIn", "UserLoginFailed"};
    /* decide from the spans before ah_norm_pick_text appends to scratch (which may move it) */
    ah_span type = ah_span_trim(ah_norm_field(c, AH_F_RECORD_TYPE));
    ah_span op = ah_span_trim(ah_norm_field(c, AH_F_OPERATION));
    bool failed_op = ah_span_eq_ci(op, "UserLoginFailed");
    if (!word_in(type, sts_types, AH_ARRAY_LEN(sts_types)) && !word_in(op, sts_ops, AH_ARRAY_LEN(sts_ops))) {
        c->result = result_from_words(ah_norm_field(c, AH_F_RESULT_CODE));
        return;
    }
    ah_val code;
    bool have = ah_norm_pick_text(c, &c->map->aux[AH_AUX_STS_CODE], &code);
    if (have) {
        c->fval[AH_F_RESULT_CODE] = code;
        c->fset[AH_F_RESULT_CODE] = true;
    }
    ah_span cs = have ? ah_span_trim(ah_view_span(&c->view, code)) : AH_SPAN_NULL;
    if (failed_op)
        c->result = AH_RESULT_FAILURE;
    else if (ah_is_placeholder(cs) || ah_span_eq(cs, "0")) /* "", "None": no error */
        c->result = AH_RESULT_SUCCESS;
    else
        c->result = AH_RESULT_FAILURE;
}

/* Fill every field of ev from the record and body already in c. */
/* The member list a slot scan made of obj, when one did. */
static ah_members members_of(const ah_norm *c, ah_span obj)
{
    const ah_slots *v[] = {&c->rec_slots, &c->body_slots};
    for (size_t i = 0; i < 2; i++)
        if (v[i]->mem_ok && v[i]->obj.p == obj.p && v[i]->obj.n == obj.n && obj.p)
            return (ah_members){v[i]->mkey, v[i]->mval, v[i]->nmem};
    return (ah_members){NULL, NULL, 0};
}

static ah_status fill_event(ah_norm *c, const ah_format_desc *d, ah_event *ev)
{
    const ah_cmap *m = c->fmt_cmap[format_index(d)];
    c->fmt = d;
    c->map = m;
    c->view.rec = &c->rec_slots;
    c->result = AH_RESULT_UNKNOWN;
    memset(c->fset, 0, sizeof c->fset);

    for (int f = 0; f < AH_F_COUNT; f++) {
        if (f == AH_F_IP)
            c->fset[f] = pick_ip(c, &m->field[f], &c->fval[f]);
        else
            c->fset[f] = ah_norm_pick_text(c, &m->field[f], &c->fval[f]);
        if (!c->fset[f] && m->src->fixed[f])
            ah_norm_set_fixed(c, (ah_field_id)f, m->src->fixed[f]);
    }
    switch (m->src->result) {
    case AH_RULE_UAL: ual_result(c); break;
    case AH_RULE_CODE: c->result = result_from_code(ah_norm_field(c, AH_F_RESULT_CODE)); break;
    case AH_RULE_WORDS: c->result = result_from_words(ah_norm_field(c, AH_F_RESULT_CODE)); break;
    default: break;
    }
    if (m->src->finish)
        m->src->finish(c);

    ev->format = &d->pub;
    ev->source = d->pub.source;
    ev->result = c->result;
    if (pick_time(c, ev)) {
        if (c->local_date && d->pub.framing == AH_FRAMING_CSV)
            c->stats.unknown_zone++;
    } else {
        c->stats.no_time++;
    }
    /* From here on nothing is appended to nest or str: offsets become pointers. */
    for (int f = 0; f < AH_F_COUNT; f++)
        ev->field[f] = c->fset[f] ? ah_view_span(&c->view, c->fval[f]) : AH_SPAN_NULL;
    if (ev->field[AH_F_OPERATION].n) {
        size_t start = c->canon.len;
        if (ah_opcanon(ev->field[AH_F_OPERATION], &c->canon) == AH_OK && c->canon.data)
            ev->operation_canon = ah_span_make(c->canon.data + start, c->canon.len - start);
    }
    ev->raw = c->record;
    ev->body = c->body;
    ev->raw_members = members_of(c, c->record);
    ev->body_members = members_of(c, c->body);
    return AH_OK;
}

/* The scratch buffers remember a failed allocation (ah_buf_status) until
 * their next reset: a field, operation, body or identity made from a cut
 * buffer is not the record's, so the record is not handed out. */
static ah_status scratch_status(const ah_norm *c)
{
    const ah_buf *b[] = {&c->raw_buf, &c->body_buf, &c->nest, &c->str, &c->canon, &c->hashbuf};
    for (size_t i = 0; i < AH_ARRAY_LEN(b); i++)
        if (ah_buf_status(b[i]) != AH_OK)
            return AH_ERR_NOMEM;
    return AH_OK;
}

/* --- digests ---------------------------------------------------------------------------- */

static uint64_t source_seed(uint64_t base, ah_source_kind s) { return base + (uint64_t)s * SEED_SOURCE_STEP; }

/* (source, record id); ids compare case-insensitively (GUID case varies by exporter). */
static bool digest_by_id(ah_norm *c, ah_event *ev)
{
    ah_span id = ah_span_trim(ev->field[AH_F_RECORD_ID]);
    if (ah_is_placeholder(id))
        return false;
    ah_buf_reset(&c->hashbuf);
    ah_status st = ah_buf_reserve(&c->hashbuf, id.n);
    if (st != AH_OK) /* out of memory: done (hashbuf keeps the error for scratch_status); too big: by content */
        return st == AH_ERR_NOMEM;
    for (size_t i = 0; i < id.n; i++) {
        char ch = id.p[i];
        c->hashbuf.data[i] = (char)ah_fold((unsigned char)ch);
    }
    c->hashbuf.len = id.n;
    ah_hash128(c->hashbuf.data, id.n, source_seed(SEED_ID, ev->source), ev->digest);
    return true;
}

static void digest_bytes(ah_source_kind s, ah_span bytes, uint64_t out[2])
{
    ah_hash128(bytes.p ? bytes.p : "", bytes.n, source_seed(SEED_CONTENT, s), out);
}

static void digest_json(ah_norm *c, ah_event *ev)
{
    if (digest_by_id(c, ev))
        return;
    /* pretty and compact copies of one record hash alike */
    ah_buf_reset(&c->hashbuf);
    if (ah_json_scalar_text(c->record, &c->hashbuf))
        digest_bytes(ev->source, ah_buf_span(&c->hashbuf), ev->digest);
    else
        digest_bytes(ev->source, c->record, ev->digest);
}

static void digest_csv(ah_norm *c, const ah_csv_row *row, ah_event *ev)
{
    if (digest_by_id(c, ev))
        return;
    ah_buf *b = &c->hashbuf;
    ah_buf_reset(b);
    ah_status st = AH_OK;
    if (c->csv_fmt->spec->csv_key_columns) {
        /* the documented identity columns (bound at the header) */
        for (size_t k = 0; st == AH_OK && k < c->nkey_col; k++) {
            size_t col = (size_t)c->key_col[k];
            if (k)
                st = ah_buf_putc(b, '\x1f');
            if (st == AH_OK && col < row->ncells)
                st = ah_buf_append_span(b, row->cells[col]);
        }
    } else {
        for (size_t i = 0; st == AH_OK && i < row->ncells; i++) {
            if (i)
                st = ah_buf_putc(b, '\x1f');
            if (st == AH_OK)
                st = ah_buf_append_span(b, row->cells[i]);
        }
    }
    digest_bytes(ev->source, st == AH_OK ? ah_buf_span(b) : c->record, ev->digest);
}

/* --- JSON records ------------------------------------------------------------------------- */

static void record_reset(ah_norm *c, ah_event *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->origin = c->origin;
    ah_buf_reset(&c->raw_buf);
    ah_buf_reset(&c->body_buf);
    ah_buf_reset(&c->nest);
    c->view.ndecoded = 0; /* the decoded strings lived in nest */
    ah_buf_reset(&c->str);
    ah_buf_reset(&c->canon);
    c->row = NULL;
    c->why[0] = '\0';
}

static bool klist_all(const ah_slots *s, const ah_klist *k)
{
    ah_span v;
    for (size_t i = 0; i < k->n; i++)
        if (!ah_slots_get(s, k->id[i], &v))
            return false;
    return true;
}

static bool klist_any(const ah_slots *s, const ah_klist *k)
{
    ah_span v;
    for (size_t i = 0; i < k->n; i++)
        if (ah_slots_get(s, k->id[i], &v))
            return true;
    return false;
}

/* Is the JSON string value v one of the '|' list (case-insensitive)? */
static bool value_in_list(ah_span v, const char *list)
{
    if (!list || v.n < 2 || v.p[0] != '"')
        return false;
    ah_span inner = ah_span_make(v.p + 1, v.n - 2);
    char word[64];
    for (const char *p = list;;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len < sizeof word) {
            memcpy(word, p, len);
            word[len] = '\0';
            if (ah_json_key_eq_ci(inner, word))
                return true;
        }
        if (!bar)
            return false;
        p = bar + 1;
    }
}

typedef struct body_cache {
    const char *src; /* the member value last turned into body slots */
    size_t n;
    ah_span body;
} body_cache;

/* Locate and scan the body of shape s. False when the member is not a JSON
 * object (or a string holding one); *why says so when it is worth saying. */
static bool shape_body(ah_norm *c, const ah_cshape *s, ah_span record, body_cache *bc, ah_span *body,
                       const ah_slots **slots, const char **why)
{
    ah_span v;
    if (s->body < 0 || !ah_slots_get(&c->rec_slots, s->body, &v)) {
        if (s->body >= 0 && !s->body_optional)
            return false;
        *body = record;
        *slots = &c->rec_slots;
        return true;
    }
    if (bc->src == v.p && bc->n == v.n) {
        *body = bc->body;
        *slots = &c->body_slots;
        return true;
    }
    ah_span b = v;
    if (v.p[0] == '"') {
        /* AuditData held as a string (cmdlet objects): unescape it once */
        ah_buf_reset(&c->body_buf);
        if (ah_json_unescape(v, &c->body_buf) != AH_OK) {
            *why = "record body too large";
            return false;
        }
        b = ah_span_trim(ah_buf_span(&c->body_buf));
    }
    size_t end = 0;
    /* The scan validates every member; what follows the object must be
     * nothing (a corrupted AuditData string can hold "{...} trailing"). */
    if (b.n == 0 || b.p[0] != '{' || ah_slots_scan(&c->body_slots, &c->keys, b, NULL, 0, NULL, &end) != AH_OK ||
        ah_span_trim(ah_span_make(b.p + end, b.n - end)).n != 0) {
        snprintf(c->why, sizeof c->why, "%s is not a JSON object", c->keys.name[s->body]);
        *why = c->why;
        bc->src = NULL;
        return false;
    }
    bc->src = v.p;
    bc->n = v.n;
    bc->body = b;
    *body = b;
    *slots = &c->body_slots;
    return true;
}

static bool shape_matches(ah_norm *c, const ah_cshape *s, ah_span record, body_cache *bc, ah_span *body,
                          const ah_slots **slots, const char **why)
{
    const ah_slots *r = &c->rec_slots;
    if (!klist_all(r, &s->all) || (s->any.n && !klist_any(r, &s->any)) || (s->any2.n && !klist_any(r, &s->any2)) ||
        (s->none.n && klist_any(r, &s->none)))
        return false;
    if (!shape_body(c, s, record, bc, body, slots, why))
        return false;
    for (size_t i = 0; i < s->cat.n; i++) {
        ah_span cat;
        if (!ah_slots_get(r, s->cat.id[i], &cat))
            continue;
        if (value_in_list(cat, s->cat_in))
            return true;
        if (value_in_list(cat, s->cat_out))
            return false;
        break;
    }
    return s->body_any.n == 0 || klist_any(*slots, &s->body_any);
}

static const ah_format_desc *classify_json(ah_norm *c, ah_span record, ah_span *body, const char **why)
{
    body_cache bc = {NULL, 0, {NULL, 0}};
    for (size_t i = 0; i < FORMAT_COUNT; i++) {
        const ah_format_desc *d = &format_table[i];
        if (d->pub.framing != AH_FRAMING_JSON)
            continue;
        for (size_t s = 0; s < d->spec->nshapes; s++) {
            const ah_slots *slots = NULL;
            if (shape_matches(c, &c->cshape[i][s], record, &bc, body, &slots, why)) {
                c->view.body = slots;
                return d;
            }
        }
    }
    return NULL;
}

static const char *unrecognised(ah_norm *c, const ah_span *keys, size_t nkeys)
{
    size_t len = (size_t)snprintf(c->why, sizeof c->why, "unrecognised record shape (keys: ");
    for (size_t i = 0; i < nkeys && i < AH_FIRST_KEYS; i++) {
        if (i)
            append_visible(c->why, sizeof c->why, &len, ah_span_cstr(", "));
        ah_span k = keys[i];
        if (k.n > 32)
            k.n = 32;
        append_visible(c->why, sizeof c->why, &len, k);
    }
    if (nkeys > AH_FIRST_KEYS)
        append_visible(c->why, sizeof c->why, &len, ah_span_cstr(", ..."));
    append_visible(c->why, sizeof c->why, &len, ah_span_cstr(")"));
    return c->why;
}

static const char *invalid_json(ah_norm *c, ah_span text)
{
    size_t pos = 0;
    const char *reason = ah_json_diagnose(text, &pos);
    if (!reason)
        return "invalid JSON";
    snprintf(c->why, sizeof c->why, "invalid JSON: %s at byte %zu", reason, pos);
    return c->why;
}

ah_status ah_normalize_json(ah_normalizer *n, const ah_json_record *rec, ah_event *ev, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    *why = NULL;
    record_reset(n, ev);
    if (rec) {
        ev->record_no = rec->record_no;
        ev->line_no = rec->line_no;
    }
    ah_span text = rec ? ah_span_trim(rec->text) : AH_SPAN_NULL;
    if (text.n == 0) {
        *why = "empty record";
        return AH_ERR_RECORD;
    }
    if (text.p[0] != '{') {
        *why = ah_json_valid(text) ? "record is not a JSON object" : invalid_json(n, text);
        return AH_ERR_RECORD;
    }
    n->body_slots.mem_ok = false;     /* a body scan of an earlier record is no member list of this one */
    ah_span first[AH_FIRST_KEYS + 1]; /* one more tells whether to print "..." */
    size_t nfirst = 0, end = 0;
    if (ah_slots_scan(&n->rec_slots, &n->keys, text, first, AH_FIRST_KEYS + 1, &nfirst, &end) != AH_OK ||
        end != text.n) {
        *why = invalid_json(n, text);
        return AH_ERR_RECORD;
    }
    n->record = text;
    const char *shape_why = NULL;
    ah_span body;
    const ah_format_desc *d = classify_json(n, text, &body, &shape_why);
    if (!d && scratch_status(n) != AH_OK) {
        *why = ah_status_str(AH_ERR_NOMEM);
        return AH_ERR_NOMEM;
    }
    if (!d) {
        *why = shape_why ? shape_why : unrecognised(n, first, nfirst);
        return AH_ERR_RECORD;
    }
    n->body = body;
    ah_status st = fill_event(n, d, ev);
    if (st != AH_OK) {
        *why = ah_status_str(st);
        return st;
    }
    digest_json(n, ev);
    if ((st = scratch_status(n)) != AH_OK)
        *why = ah_status_str(st);
    return st;
}

/* --- CSV records ---------------------------------------------------------------------------- */

/* A cell that is itself a JSON object or array (AuditData, Sparrow's
 * compact ExtendedProperties) is embedded as JSON; anything else is a string. */
static ah_status append_cell(ah_buf *b, ah_span cell)
{
    ah_span t = ah_span_trim(cell);
    if (t.n >= 2 && (t.p[0] == '{' || t.p[0] == '[') && ah_json_valid(t))
        return ah_buf_append_span(b, t);
    return ah_json_write_string(b, cell);
}

static ah_status build_row_object(ah_norm *c, const ah_csv_row *row)
{
    ah_buf *b = &c->raw_buf;
    ah_status st = ah_buf_putc(b, '{');
    for (size_t i = 0; st == AH_OK && i < row->ncells; i++) {
        if (i)
            st = ah_buf_putc(b, ',');
        if (st != AH_OK)
            break;
        if (i < c->ncols)
            st = ah_buf_append(b, c->hdr_json.data + c->hdr_json_off[i], c->hdr_json_off[i + 1] - c->hdr_json_off[i]);
        else /* more cells than header names: keep them, by position */
            st = ah_buf_printf(b, "\"Column%zu\":", i + 1);
        if (st == AH_OK)
            st = append_cell(b, row->cells[i]);
    }
    if (st == AH_OK)
        st = ah_buf_putc(b, '}');
    return st;
}

ah_status ah_normalize_csv(ah_normalizer *n, const ah_csv_row *row, ah_event *ev, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    *why = NULL;
    record_reset(n, ev);
    if (!row) {
        *why = "no row";
        return AH_ERR_RECORD;
    }
    ev->record_no = row->record_no;
    ev->line_no = row->line_no;
    if (!n->csv_fmt) {
        *why = "CSV header not bound to a format";
        return AH_ERR_RECORD;
    }
    n->row = row;
    const ah_format_desc *d = n->csv_fmt;
    const ah_format_spec *spec = d->spec;
    ah_status st = build_row_object(n, row);
    if (st != AH_OK) {
        *why = st == AH_ERR_NOMEM ? "out of memory" : "record too large";
        return st == AH_ERR_NOMEM ? st : AH_ERR_RECORD;
    }
    ah_span record = ah_buf_span(&n->raw_buf);
    ah_span body = record;
    switch (spec->csv_body) {
    case AH_CSV_BODY_COLUMN: {
        ah_span cell = n->body_col >= 0 && (size_t)n->body_col < row->ncells ? ah_span_trim(row->cells[n->body_col])
                                                                             : AH_SPAN_NULL;
        if (cell.n == 0) {
            *why = "AuditData cell is empty";
            return AH_ERR_RECORD;
        }
        if (cell.p[0] != '{' || !ah_json_valid(cell)) {
            *why = "AuditData cell is not a JSON object (truncated?)";
            return AH_ERR_RECORD;
        }
        body = cell;
        break;
    }
    case AH_CSV_BODY_SYNTH:
        st = spec->csv_synth(n);
        if (st != AH_OK) {
            *why = st == AH_ERR_NOMEM ? "out of memory" : "record too large";
            return st == AH_ERR_NOMEM ? st : AH_ERR_RECORD;
        }
        body = ah_buf_span(&n->body_buf);
        break;
    default: break;
    }
    n->body_slots.mem_ok = false;
    if (ah_slots_scan(&n->rec_slots, &n->keys, record, NULL, 0, NULL, NULL) != AH_OK) {
        *why = "internal error: row object is not valid JSON";
        return AH_ERR_RECORD;
    }
    n->view.body = &n->rec_slots;
    if (body.p != record.p) {
        if (ah_slots_scan(&n->body_slots, &n->keys, body, NULL, 0, NULL, NULL) != AH_OK) {
            *why = "internal error: body is not valid JSON";
            return AH_ERR_RECORD;
        }
        n->view.body = &n->body_slots;
    }
    n->record = record;
    n->body = body;
    st = fill_event(n, d, ev);
    if (st != AH_OK) {
        *why = ah_status_str(st);
        return st;
    }
    digest_csv(n, row, ev);
    if ((st = scratch_status(n)) != AH_OK)
        *why = ah_status_str(st);
    return st;
}
