#!/bin/sh
# Check samples/ and the end-to-end tooling without the audithound binary:
#   1. samples/ holds exactly what samples/tools/gen-samples.py writes (output committed and current)
#   2. the generator is deterministic (two runs give the same bytes)
#   3. the samples hold what docs/formats.md and the story promise (samples/tools/validate-samples.py)
#   4. tests/tools/mkcontainers.py is deterministic and its containers read back correctly
#   5. the e2e harness works (tests/e2e/selftest.sh, with a fake binary)
# Prints each check, then "samples: N passed, M failed"; appends "samples N M" to build/.results
# (see tests/tools/run-unit.sh); exits 1 when a check failed.
#   sh tests/tools/check-samples.sh

set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd) || exit 2
cd "$ROOT" || exit 2
T=$(mktemp -d "${TMPDIR:-/tmp}/ah-check-samples.XXXXXX") || exit 2
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
pass=0
fail=0

# Count "ok ..." lines as passed and "not ok"/DIFFERS/MISSING/STALE lines as failed;
# a step that fails without printing such a line counts as one failure.
tally() { # name, log, rc
    p=$(grep -c '^ok' "$2")
    f=$(grep -c -E '^(not ok|DIFFERS|MISSING|STALE)' "$2")
    if [ "$3" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1
        echo "not ok - $1 exited with status $3"
    fi
    grep -E '^(not ok|DIFFERS|MISSING|STALE|#)' "$2" | sed "s/^/  $1: /"
    echo "$1: $p passed, $f failed"
    pass=$((pass + p))
    fail=$((fail + f))
}

python3 samples/tools/gen-samples.py --check >"$T/gen.log" 2>&1
tally "generator output committed" "$T/gen.log" $?
if grep -q -E '^(DIFFERS|MISSING|STALE)' "$T/gen.log"; then
    echo "  (run: python3 samples/tools/gen-samples.py, review, commit)"
fi

python3 samples/tools/gen-samples.py --out "$T/a" >/dev/null 2>&1 &&
    python3 samples/tools/gen-samples.py --out "$T/b" >/dev/null 2>&1 &&
    diff -r "$T/a" "$T/b" >/dev/null 2>&1
rc=$?
if [ $rc -eq 0 ]; then echo "ok - generator deterministic" >"$T/det.log"; else echo "not ok - generator deterministic" >"$T/det.log"; fi
tally "generator determinism" "$T/det.log" 0

python3 samples/tools/validate-samples.py samples >"$T/val.log" 2>&1
tally "sample contents" "$T/val.log" $?

{
    python3 tests/tools/mkcontainers.py "$T/c1" && python3 tests/tools/mkcontainers.py "$T/c2" &&
        diff -r "$T/c1" "$T/c2" >/dev/null && echo "ok - containers deterministic" || echo "not ok - containers deterministic"
    python3 tests/tools/mkcontainers.py --verify "$T/c1"
} >"$T/cont.log" 2>&1
tally "containers" "$T/cont.log" 0

sh tests/e2e/selftest.sh >"$T/self.log" 2>&1
tally "e2e harness" "$T/self.log" $?

mkdir -p build
echo "samples $pass $fail" >>build/.results
echo "samples: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
