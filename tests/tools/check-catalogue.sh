#!/bin/sh
# Check that docs/rules-catalogue.md matches the rule files: regenerate it into
# a temporary file with tests/tools/gen-catalogue.py and diff the two.
# Prints PASS/FAIL and appends "catalogue N M" to build/.results (make check).
# Usage: check-catalogue.sh BINARY.  To update the committed file: make catalogue
bin=${1:?usage: check-catalogue.sh BINARY}
doc=docs/rules-catalogue.md
tmp=$(mktemp "${TMPDIR:-/tmp}/rules-catalogue.XXXXXX") || exit 2
trap 'rm -f "$tmp"' EXIT HUP INT TERM
pass=0; fail=0
if ! python3 tests/tools/gen-catalogue.py "$bin" rules > "$tmp"; then
    fail=1
    echo "  FAIL    $doc: gen-catalogue.py could not read the rule files"
elif [ ! -f "$doc" ]; then
    fail=1
    echo "  FAIL    $doc is missing (make catalogue)"
elif diff -u "$doc" "$tmp" > "$tmp.diff"; then
    pass=1
    echo "  PASS    $doc matches the rule files"
else
    fail=1
    echo "  FAIL    $doc is out of date (make catalogue):"
    head -n 40 "$tmp.diff"
fi
rm -f "$tmp.diff"
mkdir -p build
echo "catalogue $pass $fail" >> build/.results
echo "catalogue: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
