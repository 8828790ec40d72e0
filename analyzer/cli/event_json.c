#include "event_json.h"

#include "../../parsers/formats/timeparse.h"
#include "../../parsers/frame/jscan.h"

static void put_key(ah_buf *out, const char *key, bool *first)
{
    ah_buf_puts(out, *first ? "{\"" : ",\"");
    *first = false;
    ah_buf_puts(out, key);
    ah_buf_puts(out, "\":");
}

static void put_str(ah_buf *out, const char *key, ah_span v, bool *first)
{
    put_key(out, key, first);
    if (v.p)
        ah_json_write_string(out, v);
    else
        ah_buf_puts(out, "null");
}

ah_status ah_event_write_json(const ah_event *ev, bool include_raw, ah_buf *out)
{
    bool first = true;
    char tbuf[40];
    put_str(out, "time", ev->has_time ? ah_span_cstr(ah_time_format(ev->time, tbuf)) : AH_SPAN_NULL, &first);
    put_str(out, "source", ah_span_cstr(ah_source_name(ev->source)), &first);
    put_str(out, "format", ev->format ? ah_span_cstr(ev->format->name) : AH_SPAN_NULL, &first);
    for (int f = 0; f < AH_F_COUNT; f++) {
        put_str(out, ah_field_name((ah_field_id)f), ev->field[f], &first);
        if (f == AH_F_OPERATION)
            put_str(out, "operation_canonical", ev->operation_canon, &first);
    }
    put_str(out, "result", ah_span_cstr(ah_result_name(ev->result)), &first);
    put_str(out, "input", ah_span_cstr(ev->origin && ev->origin->path ? ev->origin->path : "-"), &first);
    put_str(out, "entry", ev->origin && ev->origin->entry ? ah_span_cstr(ev->origin->entry) : AH_SPAN_NULL, &first);
    put_key(out, "input_record", &first);
    ah_buf_printf(out, "%llu", (unsigned long long)ev->record_no);
    put_key(out, "line", &first);
    if (ev->line_no)
        ah_buf_printf(out, "%llu", (unsigned long long)ev->line_no);
    else
        ah_buf_puts(out, "null");
    if (include_raw) {
        put_key(out, "raw", &first);
        if (!ev->raw.p) {
            ah_buf_puts(out, "null");
        } else {
            /* One event per line: a pretty-printed record loses its line
             * breaks. In valid JSON they can only be whitespace. */
            const char *p = ev->raw.p, *end = p + ev->raw.n;
            for (const char *q = p; q < end; q++)
                if (*q == '\n' || *q == '\r') {
                    ah_buf_append(out, p, (size_t)(q - p));
                    p = q + 1;
                }
            ah_buf_append(out, p, (size_t)(end - p));
        }
    }
    ah_buf_putc(out, '}');
    return ah_buf_status(out); /* the appends above are checked here, once per line */
}
