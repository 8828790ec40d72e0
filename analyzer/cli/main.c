/*
 * main.c: `audithound SUBCOMMAND ...` dispatch. Everything else lives in
 * one file per subcommand (cmd_<name>.c) over the library API.
 */
#include <stdio.h>
#include <string.h>

#include "../output/sink.h"
#include "cli.h"

#define AH_COMMAND(name) extern const ah_cli_cmd cmd_##name;
#include "commands.def"
#undef AH_COMMAND

static const ah_cli_cmd *const commands[] = {
#define AH_COMMAND(name) &cmd_##name,
#include "commands.def"
#undef AH_COMMAND
};

size_t ah_cli_command_count(void) { return AH_ARRAY_LEN(commands); }
const ah_cli_cmd *ah_cli_command_at(size_t i) { return commands[i]; }

static void main_help(FILE *out)
{
    fputs("usage: audithound COMMAND [OPTIONS] [ARGS]\n\n"
          "Streaming forensic analyzer for exported Microsoft 365 audit logs: Purview / Unified\n"
          "Audit Log exports, Entra ID sign-in and directory-audit exports (CSV or JSON, plain,\n"
          "gzip, zip, tar, 7z). Times are UTC.\n\ncommands:\n",
          out);
    for (size_t i = 0; i < AH_ARRAY_LEN(commands); i++)
        fprintf(out, "  %-12s %s\n", commands[i]->name, commands[i]->summary);
    fputs("\n'audithound COMMAND --help' (or 'audithound help COMMAND') describes a command.\n"
          "Exit status: 0 hits found / success, 1 no hits, 2 usage or rule error,\n"
          "3 finished but some input could not be read, 4 no input held a record,\n"
          "5 writing the output failed, 6 out of memory;\n"
          "141 when the reader of the output went away (docs/exit-codes.md).\n"
          "\nenvironment:\n"
          "  AUDITHOUND_RULES  the shipped rules directory (rule packs, and lists/ with the names\n"
          "                    hunt shows for ids), used when no -r is given; default\n"
          "                    PREFIX/share/audithound/rules, else rules/ beside the build tree\n"
          "  TMPDIR            where sorted runs are spilled (unless --tmpdir); default /tmp\n"
          "  TZDIR             zoneinfo directory for hunt --tz (default /usr/share/zoneinfo)\n",
          out);
}

int main(int argc, char **argv)
{
    /* A killed run leaves no temporary output behind; a closed pipe ends it quietly (141). */
    ah_cli_install_signal_cleanup();
    if (argc < 2) {
        main_help(stderr);
        return AH_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        printf("audithound %s (revision %s)\n", AH_VERSION, ah_cli_build_revision());
        return 0;
    }
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0) {
        main_help(stdout);
        return 0;
    }
    if (strcmp(name, "help") == 0) {
        if (argc < 3) {
            main_help(stdout);
            return 0;
        }
        name = argv[2];
        for (size_t i = 0; i < AH_ARRAY_LEN(commands); i++)
            if (strcmp(commands[i]->name, name) == 0) {
                ah_cli_help(commands[i], stdout);
                return 0;
            }
        return ah_cli_usage_error(NULL, "unknown command '%s' (see 'audithound --help')", name);
    }
    for (size_t i = 0; i < AH_ARRAY_LEN(commands); i++)
        if (strcmp(commands[i]->name, name) == 0)
            return commands[i]->run(argc - 1, argv + 1);
    return ah_cli_usage_error(NULL, "unknown command '%s' (see 'audithound --help')", name);
}
