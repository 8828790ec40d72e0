#!/bin/sh
# Self-test of the e2e harness (run.sh) and its check helpers, with a fake binary,
# so the harness is known to work before the real binary exists.
#   sh tests/e2e/selftest.sh
# Prints "ok - ..." / "not ok - ..." per assertion; exits 1 if any failed.

# shellcheck disable=SC2016  # case commands are written literally, expanded by run.sh
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd) || exit 2
cd "$ROOT" || exit 2
T=$(mktemp -d "${TMPDIR:-/tmp}/ah-e2e-selftest.XXXXXX") || exit 2
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
nok=0
nfail=0

ok() {
    if [ "$1" = 0 ]; then
        nok=$((nok + 1)); echo "ok - $2"
    else
        nfail=$((nfail + 1)); echo "not ok - $2"
    fi
}

# ---- a fake audithound -----------------------------------------------------
cat >"$T/fakebin" <<'EOF'
#!/bin/sh
case ${1:-} in
    dump)
        shift; rc=0
        for f in "$@"; do
            if [ "$f" = - ]; then cat
            elif [ -r "$f" ]; then cat "$f"
            else echo "audithound: $f: No such file or directory" >&2; rc=3
            fi
        done
        exit $rc ;;
    echo-tmp) echo "wrote $TMP/x"; echo "audithound: note: temp $TMP" >&2; exit 0 ;;
    pair)
        printf 'time,user,n\r\n2021-01-13T03:05:11Z,adele.vance@contoso.com,1\r\n"2021-01-13T03:58:06Z","\047=HYPERLINK(""x"")",2\r\n' >"$TMP/out.csv"
        printf '{"time":"2021-01-13T03:05:11Z","user":"adele.vance@contoso.com","n":1}\n{"time":"2021-01-13T03:58:06Z","user":"=HYPERLINK(\\"x\\")","n":2}\n' >"$TMP/out.jsonl"
        exit 0 ;;
    *) echo "usage: audithound dump INPUT..." >&2; exit 2 ;;
esac
EOF
chmod +x "$T/fakebin"

# ---- cases -------------------------------------------------------------------
C=$T/cases
mk() { # name cmd exit
    mkdir -p "$C/$1"; printf '%s\n' "$2" >"$C/$1/cmd"; [ -n "$3" ] && printf '%s\n' "$3" >"$C/$1/exit"; return 0
}
sample=samples/formats/ual_json.jsonl
mk pass_basic 'dump $SAMPLES/formats/ual_json.jsonl' 0
cp "$sample" "$C/pass_basic/stdout"
mk fail_stdout-diff 'dump $SAMPLES/formats/ual_json.jsonl' 0
sed 's/New-InboxRule/Set-InboxRule/' "$sample" >"$C/fail_stdout-diff/stdout"
mk fail_missing-stdout 'dump $SAMPLES/formats/ual_json.jsonl' 0
mk pass_no-stdout-check 'dump $SAMPLES/formats/ual_json.jsonl' 0
: >"$C/pass_no-stdout-check/no-stdout-check"
mk fail_exit 'dump $SAMPLES/formats/ual_json.jsonl' 3
cp "$sample" "$C/fail_exit/stdout"
mk fail_no-exit-file 'dump $SAMPLES/formats/ual_json.jsonl' ''
cp "$sample" "$C/fail_no-exit-file/stdout"
mk pass_stdin 'dump -' 0
cp "$sample" "$C/pass_stdin/stdin"; cp "$sample" "$C/pass_stdin/stdout"
mk pass_redirect-in-cmd 'dump - < "$SAMPLES/formats/ual_json.jsonl"' 0
cp "$sample" "$C/pass_redirect-in-cmd/stdout"
mk pass_tmp-sanitized 'echo-tmp' 0
printf 'wrote $TMP/x\n' >"$C/pass_tmp-sanitized/stdout"
printf 'audithound: note: temp $TMP\n' >"$C/pass_tmp-sanitized/stderr"
mk fail_stderr-diff 'dump $SAMPLES/formats/no-such-file' 3
: >"$C/fail_stderr-diff/stdout"; printf 'audithound: something else\n' >"$C/fail_stderr-diff/stderr"
mk pass_check 'pair' 0
: >"$C/pass_check/no-stdout-check"
printf '#!/bin/sh\npython3 "$E2E_LIB/e2e_checks.py" csv-matches-jsonl "$1/out.csv" "$1/out.jsonl"\n' >"$C/pass_check/check"
chmod +x "$C/pass_check/check"
mk fail_check 'dump $SAMPLES/formats/ual_json.jsonl' 0
: >"$C/fail_check/no-stdout-check"
printf '#!/bin/sh\npython3 "$E2E_LIB/e2e_checks.py" count "$E2E_STDOUT" 5\n' >"$C/fail_check/check"
chmod +x "$C/fail_check/check"
mk skip_requires 'dump $C/absent.gz' 0
printf '$C/absent.gz\n' >"$C/skip_requires/requires"

run() {
    AH_E2E_CASES=$C AH_E2E_NO_BUILD=1 AH_E2E_CONTAINERS=$T/containers AH_E2E_RESULTS=$T/results \
        sh tests/e2e/run.sh "$@" >"$T/log" 2>&1
}

run "$T/fakebin"; rc=$?
ok $((rc == 0)) "run.sh exits non-zero when a case fails"
for c in pass_basic pass_no-stdout-check pass_stdin pass_redirect-in-cmd pass_tmp-sanitized pass_check; do
    grep -qx "PASS $c" "$T/log"; ok $? "PASS $c"
done
for c in fail_stdout-diff fail_missing-stdout fail_exit fail_no-exit-file fail_stderr-diff fail_check; do
    grep -q "^FAIL $c:" "$T/log"; ok $? "FAIL $c"
done
grep -q "^SKIP skip_requires" "$T/log"; ok $? "SKIP skip_requires (missing required file)"
grep -q '^    +.*"Operation":"New-InboxRule"' "$T/log"; ok $? "unified diff shown for a stdout mismatch"
grep -q "no expected stdout" "$T/log"; ok $? "missing stdout file is reported"
grep -q "exit 0, expected 3" "$T/log"; ok $? "exit code mismatch is reported"
grep -q "check: e2e_checks: .*2 lines, expected 5" "$T/log"; ok $? "check output shown on failure"
[ "$(tail -n 1 "$T/log")" = "e2e: 6 passed, 6 failed" ]; ok $? "summary line"
[ "$(cat "$T/results")" = "e2e 6 6 1" ]; ok $? "results line appended"

run "$T/fakebin" 'pass_*'; rc=$?
ok "$rc" "case patterns select cases (only passing ones run)"
[ "$(tail -n 1 "$T/log")" = "e2e: 6 passed, 0 failed" ]; ok $? "pattern run summary"

run --update "$T/fakebin" fail_stdout-diff fail_missing-stdout fail_exit; rc=$?
cmp -s "$sample" "$C/fail_stdout-diff/stdout"; ok $? "--update rewrites stdout"
cmp -s "$sample" "$C/fail_missing-stdout/stdout"; ok $? "--update creates a missing stdout"
grep -q "^FAIL fail_exit: exit 0, expected 3 (exit files are never updated)" "$T/log"; ok $? "--update keeps exit files"
[ "$(cat "$C/fail_exit/exit")" = 3 ]; ok $? "exit file untouched"
ok $((rc == 0)) "--update still fails on an exit mismatch"
[ ! -f "$C/pass_basic/stderr" ]; ok $? "--update does not create an empty stderr file"

run "$T/no-such-binary"; rc=$?
ok $((rc == 0)) "missing binary fails"
grep -q "binary not found" "$T/log"; ok $? "missing binary is reported"

# ---- check helpers -------------------------------------------------------------
L=tests/e2e/lib/e2e_checks.py
printf '{"a":1}\n{"a":2}\n\n{"a":2}\n' >"$T/x.jsonl"
python3 $L count "$T/x.jsonl" 3; ok $? "count ignores blank lines"
python3 $L count "$T/x.jsonl" 4 2>/dev/null; ok $((! $?)) "count detects a wrong count"
python3 $L distinct "$T/x.jsonl" a 2; ok $? "distinct"
python3 $L all-equal "$T/x.jsonl" a 2 2>/dev/null; ok $((! $?)) "all-equal detects a differing value"
python3 $L fields "$T/x.jsonl" 2>/dev/null; ok $((! $?)) "fields rejects objects without the dump keys"
python3 -c 'import json,sys
keys=["time","source","format","record_id","operation","operation_canonical","workload","record_type","user","ip",
"user_agent","app_id","app","target","result","result_code","session_id","correlation_id","tenant_id","token_id","input",
"entry","input_record","line"]
print(json.dumps({k: None for k in keys}))' >"$T/f.jsonl"
python3 $L fields "$T/f.jsonl"; ok $? "fields accepts the dump keys"
python3 $L fields "$T/f.jsonl" --raw 2>/dev/null; ok $((! $?)) "fields --raw requires raw"
printf 'a,b\r\n1,"x,y"\r\n' >"$T/m.csv"; printf '{"a":1,"b":"x,y"}\n' >"$T/m.jsonl"
python3 $L csv-matches-jsonl "$T/m.csv" "$T/m.jsonl"; ok $? "csv-matches-jsonl: quoted comma"
printf '{"a":1,"b":"x;y"}\n' >"$T/m2.jsonl"
python3 $L csv-matches-jsonl "$T/m.csv" "$T/m2.jsonl" 2>/dev/null; ok $((! $?)) "csv-matches-jsonl: value mismatch"
printf 'a,b\r\n1,"multi\nline"\r\n2,\r\n' >"$T/n.csv"; printf '{"a":1,"b":"multi\\nline"}\n{"a":2,"b":null}\n' >"$T/n.jsonl"
python3 $L csv-matches-jsonl "$T/n.csv" "$T/n.jsonl"; ok $? "csv-matches-jsonl: embedded newline, null as empty"
printf 'a,b\r\n1\r\n' >"$T/w.csv"; printf '{"a":1,"b":""}\n' >"$T/w.jsonl"
python3 $L csv-matches-jsonl "$T/w.csv" "$T/w.jsonl" 2>/dev/null; ok $((! $?)) "csv-matches-jsonl: short row"
printf 'a,a\r\n1,1\r\n' >"$T/d.csv"; printf '{"a":1}\n' >"$T/d.jsonl"
python3 $L csv-matches-jsonl "$T/d.csv" "$T/d.jsonl" 2>/dev/null; ok $((! $?)) "csv-matches-jsonl: duplicate header"

echo "# e2e harness self-test: $nok ok, $nfail not ok"
[ "$nfail" -eq 0 ]
