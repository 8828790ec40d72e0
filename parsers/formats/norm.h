/*
 * norm.h: the pieces behind formats.h, shared by the driver (formats.c),
 * the per-family tables (norm_ual.c, norm_signin.c, norm_audit.c) and the
 * JSON writer helpers (norm_emit.c). Internal to parsers/formats.
 *
 * A format is data: how to recognise it (JSON key conditions or CSV header
 * names), where its body is, and which family field map normalizes it.
 * Three maps (UAL, sign-in, directory audit) cover every shape because
 * lookups are case-insensitive and candidates that a shape lacks are
 * simply absent; a shape's own spellings are extra candidates in the map.
 */
#ifndef AH_NORM_H
#define AH_NORM_H

#include "formats.h"
#include "view.h"

/* --- recognising JSON records ------------------------------------------------- */

/* Key lists are '|'-separated record keys, matched case-insensitively. A
 * shape matches when: every `all` key is present (not null), at least one
 * `any` key and one `any2` key (when given), no `none` key; then the body
 * member (if any) is an object or a string holding one; then, if a
 * category key holds a value: in cat_in -> match, in cat_out -> no match,
 * otherwise (and when there is no category) the body must have one of
 * body_any (when given). */
typedef struct ah_json_shape {
    const char *body;   /* member holding the body, NULL: the record itself */
    bool body_optional; /* body member may be absent (then body = record) */
    const char *all, *any, *any2, *none;
    const char *cat; /* record keys holding a category, first present wins */
    const char *cat_in, *cat_out;
    const char *body_any;
} ah_json_shape;

/* --- recognising CSV headers ----------------------------------------------------- */

/* Normalized header names (trimmed, whitespace runs collapsed, case-folded). */
typedef struct ah_csv_shape {
    const char *all, *any, *any2, *none;
} ah_csv_shape;

typedef enum ah_csv_body {
    AH_CSV_BODY_RAW,    /* the row object itself (flattened exports) */
    AH_CSV_BODY_COLUMN, /* one column holding a JSON object (AuditData) */
    AH_CSV_BODY_SYNTH,  /* built by the spec's synth hook (portal CSVs) */
} ah_csv_body;

/* --- field maps -------------------------------------------------------------------- */

typedef enum ah_result_rule {
    AH_RULE_NONE = 0,
    AH_RULE_UAL,   /* STS logons by ErrorCode/LogonError, others by ResultStatus */
    AH_RULE_CODE,  /* numeric 0 = success, other numbers = failure, else words */
    AH_RULE_WORDS, /* Success/Succeeded/True vs Failed/Failure/False */
} ah_result_rule;

/* Extra candidate lists hooks use. */
typedef enum ah_aux {
    AH_AUX_STS_CODE,    /* UAL: result code of STS logons */
    AH_AUX_CATEGORY,    /* sign-in: category / table name */
    AH_AUX_EVENT_TYPES, /* sign-in: signInEventTypes[0] */
    AH_AUX_INTERACTIVE, /* sign-in: isInteractive */
    AH_AUX_COUNT
} ah_aux;

typedef struct ah_normalizer ah_norm;

typedef struct ah_field_map {
    const char *name;              /* "ual", "signin", "audit" */
    const char *time;              /* candidate paths, first that parses wins */
    const char *field[AH_F_COUNT]; /* candidate paths per field */
    const char *fixed[AH_F_COUNT]; /* value when no candidate gives one */
    const char *aux[AH_AUX_COUNT];
    ah_result_rule result;
    void (*finish)(ah_norm *c); /* family-specific last step, or NULL */
} ah_field_map;

typedef struct ah_format_spec {
    const ah_field_map *map;
    /* JSON */
    const ah_json_shape *shapes;
    size_t nshapes;
    /* CSV */
    const ah_csv_shape *csv;
    ah_csv_body csv_body;
    const char *csv_body_column;  /* AH_CSV_BODY_COLUMN: normalized header name */
    const char *const *csv_roles; /* normalized header names the synth hook reads */
    size_t ncsv_roles;
    ah_status (*csv_synth)(ah_norm *c); /* AH_CSV_BODY_SYNTH: write the body into c->body_buf */
    const char *csv_key_columns;        /* identity columns when there is no record id ('|') */
    const char *csv_local_date;         /* header whose presence means "time zone unknown" */
} ah_format_spec;

#define AH_MAX_ROLES 96
#define AH_MAX_SHAPES 4
#define AH_FIRST_KEYS 6

/* A descriptor: the public part first, so an ah_format* leads back to it. */
typedef struct ah_format_desc {
    ah_format pub;
    const ah_format_spec *spec;
} ah_format_desc;

/* Compiled per normalizer (never static: no shared mutable state). */
typedef struct ah_cmap {
    const ah_field_map *src;
    ah_pathlist time;
    ah_pathlist field[AH_F_COUNT];
    ah_pathlist aux[AH_AUX_COUNT];
} ah_cmap;

typedef struct ah_klist {
    int16_t id[16];
    uint8_t n;
} ah_klist;

typedef struct ah_cshape {
    int16_t body; /* key id or -1 */
    bool body_optional;
    ah_klist all, any, any2, none, cat, body_any;
    const char *cat_in, *cat_out;
} ah_cshape;

struct ah_normalizer {
    ah_norm_options opt;
    const ah_origin *origin;
    const char *hint_type; /* sign-in type from the file name, or NULL */
    bool hint_authdetails; /* "..._AuthDetails_..." file: not sign-in rows */
    ah_norm_stats stats;

    ah_keytab keys;
    ah_pool pool;
    ah_cmap cmap[4];
    size_t ncmap;
    const ah_cmap *fmt_cmap[64];         /* by format index */
    ah_cshape cshape[64][AH_MAX_SHAPES]; /* by format index */

    ah_slots rec_slots, body_slots;
    ah_buf raw_buf;  /* CSV row as JSON */
    ah_buf body_buf; /* body unescaped from a string, or synthesized */
    ah_buf nest;     /* JSON unescaped from strings during lookups */
    ah_buf str;      /* unescaped field text */
    ah_buf canon;    /* operation_canon */
    ah_buf hashbuf;  /* canonical text for content digests */
    char why[320];

    /* CSV binding (per stream) */
    const ah_format_desc *csv_fmt;
    size_t ncols;
    ah_buf hdr_norm;      /* normalized header names, NUL-separated */
    ah_buf hdr_json;      /* "key": prefixes of the row object */
    size_t *hdr_norm_off; /* ncols offsets into hdr_norm */
    size_t *hdr_json_off; /* ncols + 1 offsets into hdr_json */
    uint32_t *hdr_occ;    /* 1 for a name's first column, 2 for its second, ... */
    size_t hdr_cap;
    uint32_t *hdr_index;      /* open addressing: normalized name -> first column + 1 */
    uint32_t *hdr_index_seen; /* columns with that name so far */
    size_t hdr_index_cap;
    int body_col;
    int role_col[AH_MAX_ROLES];
    int key_col[8]; /* csv_key_columns present in the header, in list order */
    size_t nkey_col;
    bool local_date;

    /* the record being normalized */
    const ah_format_desc *fmt;
    const ah_cmap *map;
    const ah_csv_row *row;
    ah_span record, body;
    ah_view view;
    ah_val fval[AH_F_COUNT];
    bool fset[AH_F_COUNT];
    ah_result result;
};

/* norm_hooks.c: helpers for the family hooks and the driver. */
/* Column of a role (index into the spec's csv_roles) in the bound CSV, or -1. */
int ah_norm_role_col(const ah_norm *c, size_t role);
/* The cell for a role in the current row ({NULL,0} when absent or beyond the row). */
ah_span ah_norm_role_cell(const ah_norm *c, size_t role);
/* Field helpers for hooks. */
ah_span ah_norm_field(const ah_norm *c, ah_field_id f);
void ah_norm_set_fixed(ah_norm *c, ah_field_id f, const char *s);
bool ah_norm_aux_text(ah_norm *c, ah_aux a, ah_span *out);
/* First candidate path of l with a real value; a placeholder only when
 * nothing better (false: none). */
bool ah_norm_pick_text(ah_norm *c, const ah_pathlist *l, ah_val *out);

/* A small JSON object writer for synthesized bodies (norm_emit.c). */
typedef struct ah_jw {
    ah_buf *b;
    ah_status st;
    uint8_t depth;
    bool need_comma[16];
} ah_jw;

void ah_jw_begin(ah_jw *w, ah_buf *b);
void ah_jw_open(ah_jw *w, const char *key, char bracket); /* key NULL inside arrays */
void ah_jw_close(ah_jw *w, char bracket);
void ah_jw_str(ah_jw *w, const char *key, ah_span v);    /* skipped when v is empty */
void ah_jw_raw(ah_jw *w, const char *key, ah_span json); /* value already JSON */
/* Typed cell values: integers as numbers, True/False as booleans, else strings. */
void ah_jw_num_or_str(ah_jw *w, const char *key, ah_span v);
void ah_jw_bool_or_str(ah_jw *w, const char *key, ah_span v);
bool ah_is_json_integer(ah_span v);
bool ah_span_blank(ah_span v);

/* The family tables. */
extern const ah_format_spec ah_spec_purview_csv, ah_spec_ual_cmdlet_csv, ah_spec_purview_csv_classic,
    ah_spec_ual_flat_csv, ah_spec_graph_audit_csv, ah_spec_officeactivity_csv, ah_spec_ual_cmdlet_json,
    ah_spec_graph_audit_record, ah_spec_m365d_cloudappevents, ah_spec_officeactivity, ah_spec_ual_json;
extern const ah_format_spec ah_spec_signin_portal_csv, ah_spec_signin_azure_monitor, ah_spec_signin_log_analytics,
    ah_spec_signin_graph;
extern const ah_format_spec ah_spec_entra_audit_portal_csv, ah_spec_entra_audit_azure_monitor,
    ah_spec_entra_audit_log_analytics, ah_spec_entra_audit_graph;

#endif
