/*
 * event_cells.c: the `dump` keys of an event as row cells, so that `search`
 * rows travel through the sorter and the writers like timeline rows (see
 * timeline.h, AH_LAYOUT_EVENT). The key order is the one event_json.c
 * writes for `dump`: time (from the row), source, format, every normalized
 * field with operation_canonical after operation, result, input, entry,
 * input_record, line.
 */
#include "timeline.h"

#include "../../parsers/formats/formats.h"

#include <stdio.h>

enum {
    CELL_SOURCE,
    CELL_FORMAT,
    CELL_FIELDS, /* AH_F_COUNT + 1 (operation_canonical) */
    CELL_RESULT = CELL_FIELDS + AH_F_COUNT + 1,
    CELL_INPUT,
    CELL_ENTRY,
    CELL_INPUT_RECORD,
    CELL_LINE,
    CELL_COUNT
};

_Static_assert(CELL_COUNT == AH_EVENT_CELL_COUNT, "AH_EVENT_CELL_COUNT follows the cell list");

/* The field at cell index i of the field block, or AH_F_COUNT for operation_canonical. */
static ah_field_id field_at(size_t k)
{
    if (k <= AH_F_OPERATION)
        return (ah_field_id)k;
    return k == AH_F_OPERATION + 1 ? AH_F_COUNT : (ah_field_id)(k - 1);
}

const char *ah_event_cell_name(size_t i)
{
    static const char *const tail[] = {"result", "input", "entry", "input_record", "line"};
    if (i == CELL_SOURCE)
        return "source";
    if (i == CELL_FORMAT)
        return "format";
    if (i >= CELL_FIELDS && i < CELL_RESULT) {
        ah_field_id f = field_at(i - CELL_FIELDS);
        return f == AH_F_COUNT ? "operation_canonical" : ah_field_name(f);
    }
    if (i >= CELL_RESULT && i < CELL_COUNT)
        return tail[i - CELL_RESULT];
    return "?";
}

bool ah_event_cell_is_number(size_t i) { return i == CELL_INPUT_RECORD || i == CELL_LINE; }

static ah_status put_cell(ah_buf *out, ah_span v)
{
    uint64_t n = v.p ? (uint64_t)v.n + 1 : 0;
    unsigned char tmp[10];
    size_t k = 0;
    while (n >= 0x80) {
        tmp[k++] = (unsigned char)(n | 0x80);
        n >>= 7;
    }
    tmp[k++] = (unsigned char)n;
    ah_status st = ah_buf_append(out, tmp, k);
    return st == AH_OK && v.p && v.n ? ah_buf_append(out, v.p, v.n) : st;
}

ah_status ah_event_cells_pack(const ah_event *ev, ah_buf *out)
{
    char num[2][24];
    ah_span cells[CELL_COUNT];
    cells[CELL_SOURCE] = ah_span_cstr(ah_source_name(ev->source));
    cells[CELL_FORMAT] = ev->format ? ah_span_cstr(ev->format->name) : AH_SPAN_NULL;
    for (size_t k = 0; k < AH_F_COUNT + 1; k++) {
        ah_field_id f = field_at(k);
        cells[CELL_FIELDS + k] = f == AH_F_COUNT ? ev->operation_canon : ev->field[f];
    }
    cells[CELL_RESULT] = ah_span_cstr(ah_result_name(ev->result));
    cells[CELL_INPUT] = ah_span_cstr(ev->origin && ev->origin->path ? ev->origin->path : "-");
    cells[CELL_ENTRY] = ev->origin && ev->origin->entry ? ah_span_cstr(ev->origin->entry) : AH_SPAN_NULL;
    cells[CELL_INPUT_RECORD] =
        ah_span_make(num[0], (size_t)snprintf(num[0], sizeof num[0], "%llu", (unsigned long long)ev->record_no));
    cells[CELL_LINE] =
        ev->line_no
            ? ah_span_make(num[1], (size_t)snprintf(num[1], sizeof num[1], "%llu", (unsigned long long)ev->line_no))
            : AH_SPAN_NULL;
    ah_status st = AH_OK;
    for (size_t i = 0; i < CELL_COUNT && st == AH_OK; i++)
        st = put_cell(out, cells[i]);
    return st;
}

bool ah_event_cells_unpack(ah_span packed, ah_span cells[AH_EVENT_CELL_COUNT])
{
    const unsigned char *p = (const unsigned char *)packed.p, *end = p ? p + packed.n : p;
    for (size_t i = 0; i < CELL_COUNT; i++) {
        uint64_t n = 0;
        unsigned shift = 0;
        for (;;) {
            if (p >= end || shift > 63)
                return false;
            unsigned char b = *p++;
            n |= (uint64_t)(b & 0x7f) << shift;
            shift += 7;
            if (!(b & 0x80))
                break;
        }
        if (n == 0) {
            cells[i] = AH_SPAN_NULL;
            continue;
        }
        if (n - 1 > (uint64_t)(end - p))
            return false;
        cells[i] = ah_span_make((const char *)p, (size_t)(n - 1));
        p += n - 1;
    }
    return p == end;
}
