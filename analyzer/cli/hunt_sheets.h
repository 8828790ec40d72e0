/*
 * hunt_sheets.h: the Summary and Rules sheets of an XLSX timeline: the run
 * summary's facts (inputs with SHA-256, counts, coverage and gaps, hits per
 * severity and rule) and the rules that ran, for the analyst who opens only
 * the workbook.
 */
#ifndef AH_CLI_HUNT_SHEETS_H
#define AH_CLI_HUNT_SHEETS_H

#include "../audithound.h"
#include "../engine/hunt.h"
#include "../output/timeline.h"
#include "../rules/rules.h"

/* Append both sheets after the timeline rows (the writer must take sheets:
 * ah_writer_has_sheets). argv: the command line after the program name. */
ah_status ah_hunt_write_sheets(ah_writer *w, const ah_session *s, const ah_ruleset *rs, const ah_hunt_stats *hs,
                               int argc, char **argv, const char *started);

#endif
