/*
 * view.h: keyed, path-based access to JSON records for the normalizers.
 * Internal to parsers/formats (other modules use formats.h).
 *
 * The hot path is one pass over an object's members: each key is looked up
 * in a table of interned names (every key any format's field map starts
 * with) and its value span is kept in a slot, so a field map's first step
 * costs an array read instead of a rescan of the record. Later steps are
 * resolved lazily with the scanner, descending into strings that hold JSON
 * (Log Analytics dynamic columns, ExtendedProperties values) by unescaping
 * them into scratch, and into Name/Value bags with a selector step.
 *
 * Path syntax (trusted: written in the format tables):
 *   path     := ['^'] step ('.' step)* ['#' transform]
 *   step     := key ['[' (index | key '=' value) ']']
 * '^' starts at the record (envelope, wrapper, CSV row object) instead of
 * the body. "[0]" picks an array element, "[Name=UserAgent]" the first
 * element whose member Name (case-insensitive) equals UserAgent
 * (case-insensitive; numbers compare as written). "#tenant" turns an Azure
 * resource id "/tenants/<id>/..." into <id>.
 */
#ifndef AH_VIEW_H
#define AH_VIEW_H

#include "../frame/jscan.h"
#include "../util/buf.h"

#define AH_KEYTAB_MAX 512
#define AH_KEYTAB_BUCKETS 1024 /* power of two, at least 2 x AH_KEYTAB_MAX */
#define AH_PATH_MAX_STEPS 6

/* Interned key names (ASCII case-insensitive). */
typedef struct ah_keytab {
    const char *name[AH_KEYTAB_MAX];
    uint32_t hash[AH_KEYTAB_MAX];
    uint16_t bucket[AH_KEYTAB_BUCKETS]; /* id + 1; 0 = empty */
    size_t n;
} ah_keytab;

void ah_keytab_init(ah_keytab *t);
/* Id of name (added if new; name must outlive the table), -1 when full. */
int ah_keytab_intern(ah_keytab *t, const char *name);
/* Id of a raw (still escaped) JSON key, -1 when not interned. */
int ah_keytab_find(const ah_keytab *t, ah_span raw_key);

/* The member values of one object, by interned key id (first occurrence
 * wins, like ah_json_get). A generation counter makes reset O(1). */
typedef struct ah_slots {
    ah_span *val;
    uint32_t *gen;
    uint32_t cur;
    size_t n;
    /* Every member of the last object scanned, in order (for the matcher's
     * raw paths: one scan serves both); obj is that object, nmem valid
     * only when mem_ok. Grows to the largest object, never shrinks. */
    ah_span obj;
    ah_span *mkey, *mval;
    size_t nmem, capmem;
    bool mem_ok;
} ah_slots;

ah_status ah_slots_init(ah_slots *s, size_t n);
void ah_slots_free(ah_slots *s);
/* Scan the object obj (validating it: the scanner checks every member).
 * Collects up to first_max raw keys in first (for messages). Returns
 * AH_OK, or AH_ERR_RECORD when obj is not a valid object; *end gets the
 * number of bytes of obj consumed (past the closing brace). */
ah_status ah_slots_scan(ah_slots *s, const ah_keytab *t, ah_span obj, ah_span *first, size_t first_max, size_t *nfirst,
                        size_t *end);
/* Value of key id when present and not JSON null. */
bool ah_slots_get(const ah_slots *s, int id, ah_span *v);

/* A block allocator for compiled path text; blocks never move. */
typedef struct ah_pool_block ah_pool_block;
typedef struct ah_pool {
    ah_pool_block *head;
} ah_pool;

const char *ah_pool_strndup(ah_pool *p, const char *s, size_t n);
void ah_pool_free(ah_pool *p);

enum { AH_XF_NONE = 0, AH_XF_TENANT = 1 };

typedef struct ah_path_step {
    const char *key;     /* member name */
    const char *sel_key; /* selector member name, or NULL */
    const char *sel_val; /* selector value */
    int32_t index;       /* array index, or -1 */
} ah_path_step;

typedef struct ah_path {
    bool root;
    uint8_t nsteps;
    uint8_t transform;
    int16_t kid; /* interned id of step[0].key */
    ah_path_step step[AH_PATH_MAX_STEPS];
} ah_path;

typedef struct ah_pathlist {
    ah_path *v;
    size_t n;
} ah_pathlist;

/* Compile "path|path|..." (NULL or "" gives an empty list). AH_ERR_USAGE
 * on a malformed path, AH_ERR_NOMEM. */
ah_status ah_pathlist_compile(ah_pathlist *out, const char *spec, ah_keytab *t, ah_pool *pool);
void ah_pathlist_free(ah_pathlist *l);

/* A value in memory that may move while the record is processed is kept
 * as an offset into its buffer until the event is finished. */
enum { AH_LOC_ABS = 0, AH_LOC_NEST, AH_LOC_STR };

typedef struct ah_val {
    const char *p; /* AH_LOC_ABS */
    size_t off;    /* AH_LOC_NEST / AH_LOC_STR */
    size_t n;
    uint8_t loc;
} ah_val;

#define AH_VIEW_CACHE 8

/* A string already decoded into nest during this record (several fields
 * read InitiatedBy or ExtendedProperties out of one JSON string). */
typedef struct ah_view_decoded {
    ah_val src;    /* the JSON string value */
    size_t off, n; /* the JSON it held, in nest */
} ah_view_decoded;

typedef struct ah_view {
    const ah_slots *rec;  /* the record's members */
    const ah_slots *body; /* the body's members (may be rec) */
    ah_buf *nest;         /* JSON unescaped out of strings */
    ah_buf *str;          /* unescaped field text */
    ah_view_decoded decoded[AH_VIEW_CACHE];
    size_t ndecoded; /* reset with nest, once per record */
} ah_view;

static inline ah_val ah_val_abs(ah_span s) { return (ah_val){s.p, 0, s.n, AH_LOC_ABS}; }
ah_span ah_view_span(const ah_view *v, ah_val x);

/* The JSON value a path leads to (not null). */
bool ah_view_resolve(ah_view *v, const ah_path *path, ah_val *out);
/* The value as field text: strings unescaped (zero-copy when they have no
 * escapes), numbers and booleans as written. False for null, objects,
 * arrays and empty strings. */
bool ah_view_text(ah_view *v, ah_val json, ah_val *text);
/* Resolve, apply the path's transform and convert to text. */
bool ah_view_path_text(ah_view *v, const ah_path *path, ah_val *text);

/* Ids and values that identify nothing: empty, "sanitized", "Not
 * Available", "null", "<null>", "n/a", "none", "unknown", "-", the all-zero
 * GUID, and unexpanded template variables like "$RestApiTenantId$"
 * (ASCII case-insensitive, surrounding whitespace ignored). */
bool ah_is_placeholder(ah_span s);

/* Why text is not one valid JSON value: a short reason and the byte
 * offset where it was found. Returns NULL when the text is valid. */
const char *ah_json_diagnose(ah_span text, size_t *pos);

#endif
