/*
 * jscan.h: an allocation-free scanner over complete JSON text.
 *
 * The cheap "first look" at a record: iterate an object's members or an
 * array's elements as spans into the original text, skip values without
 * building a tree, compare keys without unescaping, and unescape a string
 * only when its value is needed. The full parse (cJSON) is done later and
 * only when a rule needs it. Strict RFC 8259 syntax except that it does
 * not reject duplicate keys; nesting is limited to AH_JSON_MAX_DEPTH.
 */
#ifndef AH_JSCAN_H
#define AH_JSCAN_H

#include "../util/buf.h"
#include "../util/common.h"

#define AH_JSON_MAX_DEPTH 256

typedef enum ah_json_type {
    AH_JSON_INVALID = 0,
    AH_JSON_OBJECT,
    AH_JSON_ARRAY,
    AH_JSON_STRING,
    AH_JSON_NUMBER,
    AH_JSON_TRUE,
    AH_JSON_FALSE,
    AH_JSON_NULL,
} ah_json_type;

/* Type of the value starting at v.p (leading whitespace allowed). */
ah_json_type ah_json_type_of(ah_span v);

/* Validate and measure the value at the start of `text` (after leading
 * whitespace). Returns the number of bytes up to the end of the value
 * (including the leading whitespace), or 0 if the text does not start with
 * a complete, valid JSON value. */
size_t ah_json_skip(ah_span text);

/* True if `text` is exactly one valid JSON value, with optional surrounding whitespace. */
bool ah_json_valid(ah_span text);

typedef struct ah_json_iter {
    const char *p;
    const char *end;
    int state; /* private */
} ah_json_iter;

/* Begin iterating the object/array `v` (leading whitespace allowed).
 * Returns AH_OK, or AH_ERR_RECORD if v is not an object/array. */
ah_status ah_json_object_begin(ah_json_iter *it, ah_span v);
ah_status ah_json_array_begin(ah_json_iter *it, ah_span v);

/* Next member: AH_OK with key (the key's raw text between the quotes,
 * still escaped) and value (the value's text, no surrounding whitespace),
 * AH_END after the last member, AH_ERR_RECORD on malformed input. */
ah_status ah_json_object_next(ah_json_iter *it, ah_span *key, ah_span *value);
/* Next element: AH_OK / AH_END / AH_ERR_RECORD. */
ah_status ah_json_array_next(ah_json_iter *it, ah_span *value);

/* Find a member of object `obj` by key, ASCII case-insensitively
 * (keys containing escapes are compared after unescaping). The first
 * match wins. Returns true and sets *value when found. */
bool ah_json_get(ah_span obj, const char *key, ah_span *value);

/* Compare a raw (still escaped) key with a plain name. */
bool ah_json_key_eq_ci(ah_span raw_key, const char *name);

/* Append the unescaped UTF-8 content of a JSON string value (v includes the
 * quotes) to out. \u escapes are decoded, surrogate pairs joined, lone
 * surrogates become U+FFFD. AH_ERR_RECORD if v is not a valid string,
 * AH_ERR_TOOBIG if out's limit is reached. */
ah_status ah_json_unescape(ah_span v, ah_buf *out);

/* The value as text for a normalized field: strings unescaped, numbers and
 * true/false as written, null -> empty (returns false), objects/arrays as
 * their compact JSON text. Appends to out; returns true if a non-null
 * value was appended. */
bool ah_json_scalar_text(ah_span v, ah_buf *out);

/* Append `s` to out as a JSON string literal (with quotes), escaping ",
 * \, control characters (\n \r \t \b \f, others \u00XX), U+2028/U+2029,
 * and replacing invalid UTF-8 with U+FFFD so output is always valid JSON. */
ah_status ah_json_write_string(ah_buf *out, ah_span s);

#endif
