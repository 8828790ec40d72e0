/*
 * message.h: one readable sentence per timeline row, the `message` of the
 * Timesketch and ECS profiles: who did what to whom, with which
 * application, from where, how it ended, and which rules flagged it.
 *
 *   alex@contoso.com signed in to Office 365 Exchange Online with Azure Portal
 *     from 198.51.100.23 [low] Sign-in with Azure AD PowerShell
 *   adele@contoso.com performed "Add service principal credentials" on
 *     Contoso MailSync from 54.193.127.66, failure (50126) [high] Credential added ...
 *   [high] Password spray: failed sign-ins from one address across many accounts:
 *     8 accounts failed to sign in from 13.59.205.66 ...   (a correlation row)
 *
 * Without a user, the application is the actor ("Contoso MailSync signed in
 * to Microsoft Graph from ..."); without either, "(unknown actor)".
 * It reads only the row's text columns (so `app` and `target` carry names
 * where the run knows them). Every part is cut at a fixed length on a
 * character boundary, and control characters become spaces, so the
 * sentence stays on one line whatever the record held.
 */
#ifndef AH_MESSAGE_H
#define AH_MESSAGE_H

#include "../../parsers/util/buf.h"
#include "timeline.h"

#define AH_MESSAGE_PART_MAX 256u  /* bytes of one field in the sentence */
#define AH_MESSAGE_RULES_MAX 512u /* bytes of the rule titles */

/* Append the sentence for row to out (no newline). */
ah_status ah_row_message(const ah_row *row, ah_buf *out);

#endif
