#!/bin/sh
# Lint and run the embedded tests of every shipped rule file (make check).
bin=$1
pass=0; fail=0
mkdir -p build
if ls rules/*.rules >/dev/null 2>&1 || find rules -name '*.rules' | grep -q .; then
    if "$bin" lint rules; then pass=$((pass + 1)); echo "  PASS    lint rules/"; else fail=$((fail + 1)); echo "  FAIL    lint rules/"; fi
    if "$bin" test-rules rules; then pass=$((pass + 1)); echo "  PASS    test-rules rules/"; else fail=$((fail + 1)); echo "  FAIL    test-rules rules/"; fi
    # ATT&CK tags (docs/rules.md "Tags"); the checker must also reject each rule of its bad fixture.
    t=tests/data/rules/tags
    if python3 tests/tools/check-tags.py "$bin" rules && python3 tests/tools/check-tags.py "$bin" $t/good.rules &&
       ! python3 tests/tools/check-tags.py "$bin" $t/bad.rules 2>build/.tags-bad &&
       [ "$(grep -c '^rule ' $t/bad.rules)" -eq "$(sed -n 's/.* rule \([^:]*\):.*/\1/p' build/.tags-bad | sort -u | wc -l)" ]; then
        pass=$((pass + 1)); echo "  PASS    attack tags rules/"
    else
        fail=$((fail + 1)); echo "  FAIL    attack tags rules/"
    fi
else
    echo "rules: skipped: no shipped rule files under rules/ yet"
fi
echo "rules $pass $fail" >> build/.results
echo "rules: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
