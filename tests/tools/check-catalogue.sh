#!/bin/sh
# Check that docs/rules-catalogue.md matches the rule files: regenerate it into
# a temporary file with tests/tools/gen-catalogue.py and diff the two.
# Prints PASS/FAIL and appends "catalogue N M" to build/.results (make check).
# To update the committed file:
#   python3 tests/tools/gen-catalogue.py > docs/rules-catalogue.md
doc=docs/rules-catalogue.md
tmp=$(mktemp "${TMPDIR:-/tmp}/rules-catalogue.XXXXXX") || exit 2
trap 'rm -f "$tmp"' EXIT HUP INT TERM
pass=0; fail=0
if ! python3 tests/tools/gen-catalogue.py rules > "$tmp"; then
    fail=1
    echo "  FAIL    $doc: gen-catalogue.py could not read the rule files"
elif [ ! -f "$doc" ]; then
    fail=1
    echo "  FAIL    $doc is missing (python3 tests/tools/gen-catalogue.py > $doc)"
elif diff -u "$doc" "$tmp" > "$tmp.diff"; then
    pass=1
    echo "  PASS    $doc matches the rule files"
else
    fail=1
    echo "  FAIL    $doc is out of date (python3 tests/tools/gen-catalogue.py > $doc):"
    head -n 40 "$tmp.diff"
fi
rm -f "$tmp.diff"
mkdir -p build
echo "catalogue $pass $fail" >> build/.results
echo "catalogue: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
