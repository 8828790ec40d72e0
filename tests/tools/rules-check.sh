#!/bin/sh
# Lint and run the embedded tests of every shipped rule file (make check).
bin=$1
pass=0; fail=0
if ls rules/*.rules >/dev/null 2>&1 || find rules -name '*.rules' | grep -q .; then
    if "$bin" lint rules; then pass=$((pass + 1)); echo "  PASS    lint rules/"; else fail=$((fail + 1)); echo "  FAIL    lint rules/"; fi
    if "$bin" test-rules rules; then pass=$((pass + 1)); echo "  PASS    test-rules rules/"; else fail=$((fail + 1)); echo "  FAIL    test-rules rules/"; fi
else
    echo "rules: skipped: no shipped rule files under rules/ yet"
fi
mkdir -p build
echo "rules $pass $fail" >> build/.results
echo "rules: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
