/*
 * cli.h: what the subcommands share. Each subcommand is one file
 * (cmd_<name>.c) with an option table; the table drives both parsing and
 * `--help`, so the help text cannot drift from what is accepted.
 */
#ifndef AH_CLI_H
#define AH_CLI_H

#include <stdio.h>

#include "../audithound.h"

typedef struct ah_cli_opt {
    int id;          /* returned to the handler; 0 ends the table */
    char short_name; /* 0 if none */
    const char *long_name;
    const char *arg; /* argument name for help, NULL for a flag */
    const char *help;
} ah_cli_opt;

typedef struct ah_cli_cmd {
    const char *name;
    const char *usage;       /* after "audithound NAME " */
    const char *summary;     /* one line for the command list */
    const char *description; /* paragraphs for NAME --help */
    const ah_cli_opt *opts;
    int (*run)(int argc, char **argv);
} ah_cli_cmd;

/* Called for every option. Return 0 to go on, or an exit status to stop. */
typedef int (*ah_cli_handler)(void *ctx, int id, const char *arg);

/* Parse argv (argv[0] is the subcommand name). Handles -h/--help itself
 * (prints help, returns -1 with *exit_status 0). On success returns the
 * index of the first operand. On error prints a message and returns -1
 * with *exit_status = AH_EXIT_USAGE. Options and operands may be mixed;
 * "--" ends options. */
int ah_cli_parse(const ah_cli_cmd *cmd, int argc, char **argv, ah_cli_handler fn, void *ctx, int *exit_status);
void ah_cli_help(const ah_cli_cmd *cmd, FILE *out);
int ah_cli_usage_error(const ah_cli_cmd *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parse a size with optional K/M/G suffix (binary). */
int ah_cli_parse_size(const char *s, size_t *out);
/* --NAME TIME: ISO 8601 (Z or an offset; no zone = UTC) into *out; 0, or the
 * usage exit status after printing the error. */
int ah_cli_parse_time_opt(const char *name, const char *arg, ah_time *out);
int ah_cli_parse_uint(const char *s, unsigned long long *out);

/* --threads: at most this many; by default the online CPUs (1 when unknown). */
#define AH_CLI_MAX_THREADS 256
size_t ah_cli_default_threads(void);

/* Diagnostics printer for ah_diag: "audithound: error: where: msg" on
 * stderr, at most a fixed number of messages per input stream. */
typedef struct ah_cli_diag {
    bool quiet;         /* suppress notes and warnings */
    bool bare;          /* messages carry their own location (rule compiler): print as is */
    char last_key[512]; /* path + entry of the last message */
    unsigned shown;     /* messages shown for last_key */
    unsigned suppressed;
} ah_cli_diag;
void ah_cli_diag_fn(void *ud, ah_severity sev, const ah_where *where, const char *msg);
void ah_cli_diag_finish(ah_cli_diag *d);
void ah_cli_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ah_cli_warnf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Options every input-reading subcommand accepts. */
enum {
    AH_OPT_MAX_RECORD = 1000,
    AH_OPT_DATE_ORDER,
    AH_OPT_KEEP_DUPLICATES,
    AH_OPT_QUIET,
    AH_OPT_MAX_INPUT,
    AH_OPT_STRICT,
    AH_OPT_MEMORY,
    AH_OPT_TMPDIR,
};
#define AH_CLI_INPUT_OPTS                                                                                              \
    {AH_OPT_MAX_RECORD, 0, "max-record", "SIZE",                                                                       \
     "largest record accepted (default 64M; K/M/G suffixes); a larger one is an error for that record"},               \
        {AH_OPT_MAX_INPUT, 0, "max-input", "SIZE",                                                                     \
         "stop reading an input (one file or archive member, decompressed) after SIZE bytes, as an error for that "    \
         "input"},                                                                                                     \
        {AH_OPT_DATE_ORDER, 0, "date-order", "auto|mdy|dmy",                                                           \
         "day/month order of culture-formatted dates without an ISO twin (default auto: month first, counted)"},       \
        {AH_OPT_STRICT, 0, "strict", NULL,                                                                             \
         "an input that is not a log (binary, prose) is unreadable (exit 3) even when its name does not say log"},     \
        {AH_OPT_KEEP_DUPLICATES, 0, "keep-duplicates", NULL,                                                           \
         "do not drop records already seen (same record identity)"},                                                   \
        {AH_OPT_MEMORY, 0, "memory", "SIZE",                                                                           \
         "memory for the duplicate set, sorting and correlation state before spilling to disk / evicting (default "    \
         "64M)"},                                                                                                      \
        {AH_OPT_TMPDIR, 0, "tmpdir", "DIR", "where sorted runs are spilled (default $TMPDIR or /tmp)"},                \
    {                                                                                                                  \
        AH_OPT_QUIET, 'q', "quiet", NULL, "no warnings or progress on stderr (errors are still printed)"               \
    }

/* --memory: the whole budget of a command (ah_cli_input_opt keeps it in
 * so->dedup_memory). Before opening the session a command splits it: the
 * duplicate set gets 1/parts and the rest is returned for what else the
 * command grows. dump and inspect grow nothing else (parts 1), search
 * sorts its rows (2), hunt sorts rows and observations and keeps the
 * correlator's state (4). A larger share for the set means fewer runs
 * read their inputs twice (docs/internals.md "Duplicates"). */
#define AH_CLI_MEMORY_DEFAULT ((size_t)64 << 20)
size_t ah_cli_memory_split(ah_session_options *so, unsigned parts);

/* Apply a shared input option; returns 1 if id was one, 0 if not, or an exit status >1 on bad value. */
int ah_cli_input_opt(ah_session_options *so, ah_cli_diag *diag, int id, const char *arg);

/* Open a session over the operands. Returns NULL on allocation failure. */
ah_session *ah_cli_open_session(ah_session_options *so, ah_cli_diag *diag, int argc, char **argv, int first);

/* Exit status for a finished read: AH_EXIT_PARTIAL if any input or record
 * could not be read, else AH_EXIT_NOTHING_READ if no input held a record,
 * else `ok_status`. */
int ah_cli_read_status(const ah_session *s, int ok_status);
/* Exit status for an output that could not be opened: AH_EXIT_USAGE when it
 * was refused (exists without --force, a directory), else AH_EXIT_OUTPUT. */
int ah_cli_output_status(ah_status open_status); /* prints "out of memory" for AH_ERR_NOMEM */

/* cleanup.c: what a signal leaves behind. The CLI owns the one registry
 * of temporaries (the library keeps none): ah_cli_temp_hook is the
 * ah_temp_fn the CLI puts in every diag and session option that creates
 * temporaries; the handlers that ah_cli_install_signal_cleanup installs
 * (SIGINT, SIGTERM, SIGHUP, SIGPIPE, once at program start) remove every
 * registered file, and every registered directory with the files in it,
 * then end the process by the same signal (128 + signal in a shell). */
void ah_cli_temp_hook(void *ud, const char *path, bool exists);
void ah_cli_install_signal_cleanup(void);

/* The exit status for a run stopped by st: AH_EXIT_NOMEM when st is
 * AH_ERR_NOMEM (whatever stage ran out), else `otherwise`. */
int ah_cli_fail_status(ah_status st, int otherwise);
/* Flush standard output; if that or any earlier write to it failed, say so
 * and return AH_EXIT_OUTPUT (it wins over every other status, see
 * docs/exit-codes.md), else `status`. */
int ah_cli_stdout_status(int status);

/* The git revision the binary was built from (`git describe --always --dirty`),
 * or "unknown" (analyzer/cli/version.c). */
const char *ah_cli_build_revision(void);
/* The subcommand table (commands.def). */
size_t ah_cli_command_count(void);
const ah_cli_cmd *ah_cli_command_at(size_t i);

/* --- rules, shared by hunt, search, lint, test-rules ----------------------- */
#include "../rules/rules.h"

enum {
    AH_OPT_RULES = 1100,
    AH_OPT_SET,
    AH_OPT_VARS,
};
#define AH_CLI_RULE_OPTS                                                                                               \
    {AH_OPT_RULES, 'r', "rules", "PATH", "rule file or directory (repeatable; default: the shipped rules)"},           \
        {AH_OPT_SET, 0, "set", "NAME=VALUE", "set a rule variable, e.g. --set mimecast_app_id=<guid> (repeatable)"},   \
    {                                                                                                                  \
        AH_OPT_VARS, 0, "vars", "FILE", "read rule variables from a file of NAME=VALUE lines"                          \
    }

typedef struct ah_cli_rules {
    const char **paths;
    size_t npaths;
    const char **sets;
    size_t nsets;
    const char *vars_file;
} ah_cli_rules;

/* Collect a shared rule option; 1 if id was one, 0 if not, >1 exit status on error. */
int ah_cli_rules_opt(ah_cli_rules *r, int id, const char *arg);
void ah_cli_rules_free(ah_cli_rules *r);
/* The shipped rules: $AUDITHOUND_RULES, else <bindir>/../share/audithound/rules,
 * else <bindir>/../rules (running from the build tree). NULL if none exists. */
const char *ah_cli_default_rules(char *buf, size_t size);
/* New ruleset with variables set and every path (or the default) loaded and
 * compiled. On a rule error returns NULL and sets *exit_status. Problems are
 * reported through diag. */
ah_ruleset *ah_cli_load_rules(const ah_cli_rules *r, ah_diag *diag, int *exit_status);

#endif
