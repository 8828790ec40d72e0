#!/bin/sh
# Run every cmocka unit-test binary; print one summary line per binary and a total.
# Tests run from the repository root; AH_CORPUS points at ../shared/corpus when present.
: "${AH_CORPUS:=../shared/corpus}"
export AH_CORPUS
pass=0; fail=0; skip=0; failed=""
for t in "$@"; do
    if out=$("$t" 2>&1); then
        pass=$((pass + 1))
        printf '  PASS    %s\n' "$(basename "$t")"
    else
        fail=$((fail + 1)); failed="$failed $(basename "$t")"
        printf '  FAIL    %s\n' "$(basename "$t")"
        printf '%s\n' "$out" | tail -n 40
    fi
    printf '%s\n' "$out" | grep -E '^\[  SKIPPED|skipp' | sed 's/^/          /' || true
    # cmocka's closing "[  SKIPPED ] N test(s), listed below:"
    n=$(printf '%s\n' "$out" | sed -n 's/^\[  SKIPPED \] \([0-9][0-9]*\) test(s).*/\1/p' | tail -n 1)
    skip=$((skip + ${n:-0}))
done
mkdir -p build
echo "unit $pass $fail $skip" >> build/.results
echo "unit tests: $pass passed, $fail failed, $skip test(s) skipped"
[ "$fail" -eq 0 ] || { echo "failed:$failed"; exit 1; }
