/*
 * csvcell.h: one spreadsheet-safe CSV cell (used by the CSV writer,
 * exposed for its unit tests).
 *
 * Every cell is quoted (RFC 4180: '"' doubled inside); always quoting is
 * simpler than deciding per cell and is what Excel reads most reliably.
 * With excel_safe, a cell starting with = + - @ TAB CR or a full-width
 * ＝ ＋ － ＠ gets a leading ' so spreadsheets show it as text instead of
 * evaluating a formula. A cell longer than max_units UTF-16 code units
 * (Excel's unit; 32,767 per cell) is cut on a character boundary and ends
 * in "…[truncated N chars]" (N in UTF-16 units dropped) so the whole cell,
 * prefix and marker included, stays within max_units. Invalid UTF-8 is
 * replaced by U+FFFD so the file is always valid UTF-8. Control characters
 * other than tab and line ends (NUL, ESC, DEL, ...) are shown as \xNN (four
 * characters), never written raw.
 */
#ifndef AH_CSVCELL_H
#define AH_CSVCELL_H

#include "../../parsers/util/buf.h"

enum {
    AH_CELL_TRUNCATED = 1u << 0,
    AH_CELL_NEUTRALISED = 1u << 1,
    AH_CELL_REPAIRED = 1u << 2, /* invalid UTF-8 replaced */
    AH_CELL_ESCAPED = 1u << 3,  /* control characters shown as \xNN */
};

/* Append `text` as one quoted cell. max_units 0 = no limit. *flags (may be
 * NULL) receives AH_CELL_* bits. On AH_ERR_TOOBIG/NOMEM out is unchanged. */
ah_status ah_csvout_cell(ah_buf *out, ah_span text, bool excel_safe, size_t max_units, unsigned *flags);

/* The same cell text without the quotes and without neutralising (for
 * XLSX, whose text cells are never evaluated): the truncation, U+FFFD and
 * \xNN rules above, so both formats show the same text. */
ah_status ah_cell_text(ah_buf *out, ah_span text, size_t max_units, unsigned *flags);

/* True if a cell with this text would be neutralised. */
bool ah_csvout_needs_neutralising(ah_span text);

#endif
