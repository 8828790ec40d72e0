#!/bin/sh
# Run every cmocka unit-test binary; print one summary line per binary and a total.
# Tests run from the repository root; AH_CORPUS points at ../shared/corpus when present.
: "${AH_CORPUS:=../shared/corpus}"
export AH_CORPUS
pass=0; fail=0; failed=""
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
done
mkdir -p build
echo "unit $pass $fail" >> build/.results
echo "unit tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ] || { echo "failed:$failed"; exit 1; }
