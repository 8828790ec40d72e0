/* event_json.h: one event as a JSON object (the `dump` parse contract). */
#ifndef AH_EVENT_JSON_H
#define AH_EVENT_JSON_H

#include "../../parsers/util/buf.h"
#include "../audithound.h"

/* Append the event as one JSON object (no newline). Keys, in order: time,
 * source, format, then every normalized field (record_id, operation,
 * operation_canonical after operation, ...), result, input, entry,
 * input_record, line, and raw when include_raw. Absent values are null. */
ah_status ah_event_write_json(const ah_event *ev, bool include_raw, ah_buf *out);

#endif
