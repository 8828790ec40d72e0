/*
 * sigma.h: the Sigma front end (docs/sigma.md). A Sigma rule file (YAML,
 * one or more documents) is translated into the text of equivalent rules
 * in audithound's own language, which the ordinary compiler then compiles;
 * `audithound sigma convert` prints that text. A document that cannot run
 * faithfully (an unmapped field, an unsupported modifier, a logsource no
 * export carries) is not translated: it is reported with the reason.
 */
#ifndef AH_SIGMA_H
#define AH_SIGMA_H

#include "../../parsers/util/buf.h"
#include "../../parsers/util/common.h"

/* One Sigma document, translated or not. Strings live until the callback
 * returns. */
typedef struct ah_sigma_rule {
    const char *id;     /* the rule id used in audithound (the Sigma id, or one made from the file name) */
    const char *title;  /* "" when absent */
    uint64_t line, col; /* where the document starts in the YAML file (1-based) */
    unsigned sources;   /* AH_SOURCE_BIT(...) of its logsource (0 when unknown) */
    const char *text;   /* rule-language text, NULL when unsupported */
    size_t len;
    const char *unsupported; /* why it cannot run faithfully, else NULL */
    bool is_rule;            /* false for documents that are not Sigma rules at all (reported, never loaded) */
} ah_sigma_rule;

typedef void (*ah_sigma_fn)(void *ud, const ah_sigma_rule *r);

/* Translate the YAML text of one Sigma file (`name` is used in the
 * metadata and for ids made from the file name). fn is called once per
 * document, in file order. Returns AH_OK, AH_ERR_SYNTAX when the YAML does
 * not parse (err gets "line:col: message"; documents before the error
 * have been reported), or AH_ERR_NOMEM. */
ah_status ah_sigma_convert(const char *name, const char *yaml, size_t len, ah_sigma_fn fn, void *ud, char *err,
                           size_t errsize);

/* True for a path the rule loaders read as Sigma (*.yml, *.yaml). */
bool ah_sigma_is_sigma_path(const char *path);

#endif
