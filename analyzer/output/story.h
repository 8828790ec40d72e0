/*
 * story.h: the terminal story view of a hunt (`hunt` on a terminal, or
 * `-f story`): one line per timeline row that rules hit (time, severity,
 * who, from where, what, rule titles), then a summary table (hits per
 * severity and per rule, top users and addresses, hits per day).
 * docs/output.md "Terminal story view".
 *
 * Data is escaped with ah_escape_text, so no control byte of the input
 * reaches the terminal; colour (ANSI SGR) is the caller's choice. Memory is
 * bounded: lines stream out, the summary holds bounded counters (topn.h)
 * and at most AH_STORY_DAYS days.
 */
#ifndef AH_STORY_H
#define AH_STORY_H

#include "timeline.h"

#define AH_STORY_DAYS 400u /* days listed in "hits per day"; more are summed in one line */
#define AH_STORY_TOP 10u   /* rules, users, addresses listed */

typedef struct ah_story_options {
    const char *path; /* "-" = standard output */
    bool force;
    bool color;                     /* ANSI colours */
    struct ah_output_list *outputs; /* sink.h: a story file is added when committed; NULL = none */
} ah_story_options;

typedef struct ah_story ah_story;

/* NULL on failure with *st set (as ah_writer_open). */
ah_story *ah_story_open(const ah_story_options *opt, ah_diag *diag, ah_status *st);
/* One row in timeline order; rows no rule hit (--all) are skipped. */
ah_status ah_story_write(ah_story *s, const ah_row *row);
/* Write the summary table, finish, free; stats (may be NULL): rows = lines
 * written, files = 1, bytes. Accepts NULL. */
ah_status ah_story_close(ah_story *s, ah_writer_stats *stats);
void ah_story_abort(ah_story *s);

#endif
