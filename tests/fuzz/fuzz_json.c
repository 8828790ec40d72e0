/*
 * fuzz_json.c: the JSON splitter (parsers/frame/jsonsplit.c) and the
 * allocation-free scanner (parsers/frame/jscan.c) over what it yields.
 *
 * Byte 0 picks the read size; the rest is the stream. Invariants: record
 * numbers count every record (1, 2, 3, ...), line numbers never go back, a
 * record fits the limit; for each record, ah_json_skip stays in bounds and
 * agrees with ah_json_valid; every key and value the iterators return lies
 * inside the record; unescaped strings are valid UTF-8 and the JSON string
 * writer's output is valid JSON that unescapes to the same text.
 */
#include "fuzz.h"

#include "parsers/frame/jscan.h"
#include "parsers/frame/jsonsplit.h"

#define MAX_RECORD 8192

/* The splitter passes bytes through; only the decoder guarantees UTF-8, so
 * the UTF-8 checks apply to records that were valid UTF-8 to begin with. */
static void check_value(ah_span v, int depth, bool utf8);

static void check_string(ah_span v, bool utf8)
{
    ah_buf out, back, again;
    ah_buf_init(&out, 0);
    ah_buf_init(&back, 0);
    ah_buf_init(&again, 0);
    ah_status st = ah_json_unescape(v, &out);
    FUZZ_CHECK(st == AH_OK); /* v was validated as a string */
    if (!utf8)
        goto done;
    FUZZ_CHECK(fuzz_utf8_valid(ah_buf_cstr(&out), out.len));
    FUZZ_CHECK(ah_json_write_string(&back, ah_buf_span(&out)) == AH_OK);
    FUZZ_CHECK(ah_json_valid(ah_buf_span(&back)));
    FUZZ_CHECK(ah_json_unescape(ah_buf_span(&back), &again) == AH_OK);
    FUZZ_CHECK(again.len == out.len && memcmp(ah_buf_cstr(&again), ah_buf_cstr(&out), out.len) == 0);
done:
    ah_buf_free(&out);
    ah_buf_free(&back);
    ah_buf_free(&again);
}

static void check_value(ah_span v, int depth, bool utf8)
{
    ah_json_iter it;
    ah_span key, val;
    if (depth > 8)
        return;
    switch (ah_json_type_of(v)) {
    case AH_JSON_OBJECT:
        FUZZ_CHECK(ah_json_object_begin(&it, v) == AH_OK);
        while (ah_json_object_next(&it, &key, &val) == AH_OK) {
            FUZZ_CHECK(fuzz_within(key, v.p, v.n) && fuzz_within(val, v.p, v.n));
            check_value(val, depth + 1, utf8);
        }
        break;
    case AH_JSON_ARRAY:
        FUZZ_CHECK(ah_json_array_begin(&it, v) == AH_OK);
        while (ah_json_array_next(&it, &val) == AH_OK) {
            FUZZ_CHECK(fuzz_within(val, v.p, v.n));
            check_value(val, depth + 1, utf8);
        }
        break;
    case AH_JSON_STRING: check_string(v, utf8); break;
    default: break;
    }
}

static void check_record(ah_span text)
{
    size_t k = ah_json_skip(text);
    FUZZ_CHECK(k <= text.n);
    bool valid = ah_json_valid(text);
    if (valid)
        FUZZ_CHECK(k > 0);
    if (!valid)
        return;
    bool utf8 = fuzz_utf8_valid(text.p, text.n);
    check_value(text, 0, utf8);
    ah_span v;
    (void)ah_json_get(text, "Id", &v);
    ah_buf out;
    ah_buf_init(&out, 0);
    if (ah_json_scalar_text(text, &out) && utf8)
        FUZZ_CHECK(fuzz_utf8_valid(ah_buf_cstr(&out), out.len));
    ah_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    fuzz_mem m;
    ah_reader r = fuzz_mem_reader(&m, data + 1, size - 1, fuzz_chunk(data[0]));
    ah_jsplit *s = ah_jsplit_new(&r, MAX_RECORD);
    FUZZ_CHECK(s != NULL);
    uint64_t records = 0, last_line = 0;
    ah_status st;
    for (;;) {
        ah_json_record rec;
        st = ah_jsplit_next(s, &rec);
        if (st == AH_END || st == AH_ERR_STREAM)
            break;
        FUZZ_CHECK(st == AH_OK || st == AH_ERR_RECORD);
        records++;
        FUZZ_CHECK(rec.record_no == records);
        FUZZ_CHECK(rec.line_no >= last_line && rec.line_no >= 1);
        last_line = rec.line_no;
        if (st == AH_ERR_RECORD) {
            const char *why = ah_jsplit_error(s);
            FUZZ_CHECK(why && *why);
            continue;
        }
        FUZZ_CHECK(rec.text.n > 0 && rec.text.n <= MAX_RECORD);
        check_record(rec.text);
    }
    FUZZ_CHECK(st == AH_END); /* a memory reader never fails */
    ah_jsplit_free(s);
    return 0;
}
