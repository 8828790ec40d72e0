/*
 * xlsx.h: the XLSX timeline workbook, driven by writer.c (the public API is
 * in timeline.h). Internal to analyzer/output.
 *
 * The workbook is written by libxlsxwriter in constant-memory mode: each
 * row is flushed to a temporary file when the next one starts, so memory
 * does not grow with the rows; the zip is assembled at ah_xlsx_close into
 * `path` (the sink's temporary file).
 */
#ifndef AH_XLSX_H
#define AH_XLSX_H

#include "timeline.h"
#include "tz.h"

typedef struct ah_xlsx ah_xlsx;

/* Set up the workbook and its first Timeline sheet. opt is the writer's
 * (copied where kept); tz may be NULL (no time_local column) and must
 * outlive the workbook. NULL with *st set on failure (reported to diag). */
ah_xlsx *ah_xlsx_open(const ah_writer_options *opt, const char *path, const ah_tz *tz, ah_diag *diag, ah_status *st);

/* One timeline row; counts truncated and repaired cells into stats. A row
 * that fails may be left partly written; the next one starts a new row. */
ah_status ah_xlsx_write(ah_xlsx *x, const ah_row *row, ah_writer_stats *stats);

ah_status ah_xlsx_sheet_begin(ah_xlsx *x, const char *name, const double *widths, size_t ncols, bool header);
ah_status ah_xlsx_sheet_row(ah_xlsx *x, const ah_sheet_cell *cells, size_t n);

/* Write the workbook file. Once only; the workbook is spent afterwards. */
ah_status ah_xlsx_close(ah_xlsx *x);

/* Free (without writing the file when not closed). Accepts NULL. */
void ah_xlsx_free(ah_xlsx *x);

#endif
