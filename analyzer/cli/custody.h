/*
 * custody.h: the chain-of-custody members of `hunt --summary`: what, besides
 * the inputs and the rule files, decided which hits the timeline holds.
 */
#ifndef AH_CLI_CUSTODY_H
#define AH_CLI_CUSTODY_H

#include "../../parsers/util/buf.h"
#include "../audithound.h"
#include "../engine/hunt.h"
#include "../rules/rules.h"

/* JSON members (no braces, no leading comma), docs/output.md:
 *   "build":{"version":..,"revision":..},
 *   "variables":[{"name":..,"value":..,"source":"set"|"vars-file","file":..|null},..],
 *   "list_files":[{"path":..,"sha256":..,"size":N},..],
 *   "options":{"from":..,"to":..,"min_severity":..,"tags":..,"baseline":..,
 *              "keep_duplicates":..,"date_order":..,"max_record":N,"memory":N}   */
/* Appends unchecked: the caller checks ah_buf_status where the summary is finished. */
void ah_custody_json(ah_buf *b, const ah_ruleset *rs, const ah_session_options *so, const ah_hunt_options *ho);

#endif
