#!/bin/sh
# Self-test of tests/tools/check-layers.py (make layers-check): a tiny tree of
# objects with an upward reference and a circle must fail with both named,
# the same tree with those references listed as exceptions must pass, and an
# exception that matches nothing must fail as stale.
# Usage: test-check-layers.sh   (from the repository root; needs cc and nm)
set -u
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-layers.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT HUP INT TERM
fail=0
cc_obj() { # source text, path without .c
    mkdir -p "$tmp/$(dirname "$2")" "$tmp/obj/$(dirname "$2")"
    printf '%s\n' "$1" > "$tmp/$2.c"
    ${CC:-cc} -c -o "$tmp/obj/$2.o" "$tmp/$2.c" || exit 2
}
cc_obj 'int base_util(void); int base_util(void) { return 1; }' parsers/util/base
# upward: the base layer calls the command line
cc_obj 'int cli_main(void); int base_up(void); int base_up(void) { return cli_main(); }' parsers/util/up
cc_obj 'int base_util(void); int cli_main(void); int cli_main(void) { return base_util(); }' analyzer/cli/top
# a circle inside one folder: a -> b -> a
cc_obj 'int rb(void); int ra(void); int ra(void) { return rb(); }' analyzer/rules/a
cc_obj 'int ra(void); int base_util(void); int rb(void); int rb(void) { return ra() + base_util(); }' analyzer/rules/b
: > "$tmp/none.txt"

expect() { # description, expected exit (0/1), pattern that must appear, exceptions file
    out=$(cd "$tmp" && python3 "$here/check-layers.py" obj --exceptions "$4" 2>&1)
    rc=$?
    if [ "$rc" -ne "$2" ] || ! printf '%s\n' "$out" | grep -q -- "$3"; then
        echo "  FAIL    check-layers self-test: $1 (exit $rc)"
        printf '%s\n' "$out" | sed 's/^/    /'
        fail=1
    fi
}
expect "upward reference found" 1 'upward: parsers/util/up.c (base) uses analyzer/cli/top.c (cli): cli_main' "$tmp/none.txt"
expect "circle found" 1 'circle of 2 files: analyzer/rules/a.c analyzer/rules/b.c' "$tmp/none.txt"

printf '%s\n' '# tolerated for the test' 'parsers/util/up.c -> analyzer/cli/top.c   # why' \
    'analyzer/rules/b.c -> analyzer/rules/a.c' > "$tmp/exc.txt"
expect "listed exceptions pass" 0 'arrows down only, no circles (2 listed exceptions)' "$tmp/exc.txt"

echo 'analyzer/cli/top.c -> parsers/util/up.c' >> "$tmp/exc.txt"
expect "stale exception found" 1 'stale exception analyzer/cli/top.c -> parsers/util/up.c' "$tmp/exc.txt"

[ "$fail" -eq 0 ] && echo "  PASS    check-layers self-test"
exit "$fail"
