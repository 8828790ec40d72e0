/*
 * event.h: the normalized event, the one type every later stage consumes.
 *
 * An event is cheap to build: its string fields are spans into buffers
 * owned by the scanner that produced it (valid until the scanner's next
 * call), its raw record is kept as JSON text, and the full JSON parse of
 * that text happens only on demand (see analyzer/rules), never here.
 */
#ifndef AH_EVENT_H
#define AH_EVENT_H

#include "util/buf.h"
#include "util/common.h"
#include "util/varint.h"

typedef enum ah_source_kind {
    AH_SOURCE_UNKNOWN = 0,
    AH_SOURCE_UAL,         /* Unified Audit Log (AuditData) */
    AH_SOURCE_SIGNIN,      /* Entra ID sign-in logs */
    AH_SOURCE_ENTRA_AUDIT, /* Entra ID directory audit logs */
    AH_SOURCE_COUNT
} ah_source_kind;

const char *ah_source_name(ah_source_kind k);     /* "ual", "signin", "entra_audit", "unknown" */
ah_source_kind ah_source_from_name(ah_span name); /* AH_SOURCE_UNKNOWN when not a source name */

typedef enum ah_result {
    AH_RESULT_UNKNOWN = 0,
    AH_RESULT_SUCCESS,
    AH_RESULT_FAILURE,
} ah_result;

const char *ah_result_name(ah_result r); /* "unknown", "success", "failure" */

typedef enum ah_field_id {
#define AH_FIELD(id, name, doc) AH_F_##id,
#include "event_fields.def"
#undef AH_FIELD
    AH_F_COUNT
} ah_field_id;

const char *ah_field_name(ah_field_id f);
/* Returns the field id for a name, or AH_F_COUNT when unknown. */
ah_field_id ah_field_from_name(ah_span name);

/* A UTC instant with nanosecond precision (7 fractional digits in M365 data). */
typedef struct ah_time {
    int64_t sec;  /* seconds since 1970-01-01T00:00:00Z */
    int32_t nsec; /* 0..999999999 */
} ah_time;

/* An instant in the compact byte forms (sorted rows, partials, saved
 * stores): seconds, then nanoseconds, as zigzag varints. */
static inline unsigned char *ah_time_put(unsigned char *p, ah_time t)
{
    p = ah_put_uvarint(p, ah_zigzag(t.sec));
    return ah_put_uvarint(p, ah_zigzag(t.nsec));
}

static inline void ah_buf_put_time(ah_buf *b, ah_time t)
{
    unsigned char tmp[2 * AH_VARINT_MAX];
    ah_buf_append(b, tmp, (size_t)(ah_time_put(tmp, t) - tmp));
}

static inline ah_time ah_time_get(ah_vcursor *c)
{
    ah_time t;
    t.sec = ah_unzigzag(ah_get_uvarint(c));
    t.nsec = (int32_t)ah_unzigzag(ah_get_uvarint(c));
    return t;
}

/* Where a record came from. Owned by the input stage; lives as long as the
 * session (events keep a pointer to it). */
typedef struct ah_origin {
    const char *path;  /* input path as given ("-" for stdin) */
    const char *entry; /* archive entry ("a.zip" member; "outer/x.tar.gz!inner.json" when nested), or NULL */
    uint32_t input_no; /* 0-based index of the leaf stream in the session (stable input order) */
} ah_origin;

struct ah_format; /* parsers/formats/formats.h */

/* The members of a JSON object as the normalizer found them (keys still
 * escaped, without quotes; values as JSON text), in order. key == NULL when
 * not known: readers then scan the object themselves. */
typedef struct ah_members {
    const ah_span *key, *val;
    size_t n;
} ah_members;

typedef struct ah_event {
    const ah_origin *origin;
    uint64_t record_no; /* 1-based ordinal of the record in its stream */
    uint64_t line_no;   /* line where the record starts (text formats), 0 if unknown */
    const struct ah_format *format;
    ah_source_kind source;
    bool has_time;
    ah_time time;
    ah_result result;
    ah_span field[AH_F_COUNT]; /* normalized strings, UTF-8; {NULL,0} when absent */
    ah_span operation_canon;   /* canonical form of OPERATION (see formats/opcanon.h) */
    /* The record as JSON text. `raw` is the record as read (CSV rows become an
     * object of header -> cell). `body` is the payload a rule path addresses:
     * AuditData for UAL wrappers, `properties` for Azure Monitor envelopes,
     * the record itself otherwise. Both are complete JSON objects. */
    ah_span raw;
    ah_span body;
    ah_members raw_members, body_members; /* the members of raw and body, valid as long as they are */
    uint64_t digest[2];                   /* record identity digest used for dedup */
} ah_event;

static inline ah_span ah_event_field(const ah_event *ev, ah_field_id f) { return ev->field[f]; }

/* An event as self-contained bytes, to hand it to another thread: spans
 * become offsets into the copy (the record is copied once; fields inside
 * it stay inside it), origin and format stay shared pointers (they live
 * as long as the session). Appended to out; AH_ERR_NOMEM or AH_OK. */
ah_status ah_event_pack(const ah_event *ev, ah_buf *out);
/* The event packed in `packed` (exactly the bytes one ah_event_pack
 * appended), its spans pointing into `packed`, which must stay put while
 * the event is used. The member arrays go to *members (grown with
 * realloc as needed; the caller frees it). false when the bytes are not a
 * packed event or out of memory. */
bool ah_event_unpack(ah_span packed, ah_event *ev, ah_span **members, size_t *members_cap);

#endif
