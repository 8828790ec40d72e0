/*
 * timefmt.h: the timeline's time renderings. Fixed-width, locale-free,
 * reentrant (no gmtime/strftime, whose results depend on process state).
 */
#ifndef AH_TIMEFMT_H
#define AH_TIMEFMT_H

#include "../../parsers/event.h"

#define AH_TIMEFMT_SIZE 64 /* enough for any int64 instant */

/* "YYYY-MM-DDTHH:MM:SS.fffffffZ": UTC, 7 fractional digits (100 ns, the
 * M365 precision; finer digits are dropped, never rounded up). */
size_t ah_timefmt_utc(ah_time t, char buf[AH_TIMEFMT_SIZE]);

/* "YYYY-MM-DD HH:MM:SS": UTC, whole seconds; what Excel parses as a
 * date-time without guessing a zone. */
size_t ah_timefmt_excel(ah_time t, char buf[AH_TIMEFMT_SIZE]);

/* "YYYY-MM-DDTHH:MM:SS.fffffff+hh:mm" (RFC 3339): the instant shifted by
 * offset_sec (east positive), with that offset; "+hh:mm:ss" only for the
 * historic local mean time offsets that are not whole minutes. */
size_t ah_timefmt_offset(ah_time t, int32_t offset_sec, char buf[AH_TIMEFMT_SIZE]);

#endif
