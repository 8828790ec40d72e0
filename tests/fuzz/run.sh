#!/bin/sh
# run.sh: build and run the libFuzzer targets of tests/fuzz/.
#
#   sh tests/fuzz/run.sh fuzz SECONDS    every target for SECONDS each (make fuzz)
#   sh tests/fuzz/run.sh check SECONDS   every target for SECONDS each, then every saved
#                                        reproducer in tests/fuzz/regressions/<target>/ (make check)
#
# Targets are built with clang (-fsanitize=fuzzer,address,undefined) into build/fuzz/,
# seeds are rebuilt from the tree into build/fuzz/seeds/ (tests/fuzz/seeds.py); what a
# run finds accumulates in build/fuzz/corpus/<target>/, crashes and invariant failures
# in build/fuzz/artifacts/<target>/. To keep one as a regression test, copy it to
# tests/fuzz/regressions/<target>/ with a name that says what it was.
# Without clang and libFuzzer the run is skipped with the reason (exit 0).
# Closing line: "fuzz: N passed, M failed"; "fuzz N M" is appended to build/.results.
mode=${1:-check}
seconds=${2:-12}
dir=build/fuzz

probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n);\nint LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' > "$probe/p.c"
if ! command -v clang >/dev/null 2>&1; then
    echo "fuzz: skipped (clang is not installed; make deps installs it)"
    mkdir -p build && echo "fuzz 0 0 1" >> build/.results
    exit 0
fi
if ! why=$(clang -fsanitize=fuzzer,address,undefined -o "$probe/p" "$probe/p.c" 2>&1); then
    echo "fuzz: skipped (clang cannot link libFuzzer: $(printf '%s' "$why" | head -n 1))"
    mkdir -p build && echo "fuzz 0 0 1" >> build/.results
    exit 0
fi

echo "== fuzz targets (clang, libFuzzer + ASan + UBSan) =="
make --no-print-directory fuzz-build >"$probe/build.log" 2>&1 || {
    cat "$probe/build.log"
    echo "fuzz: 0 passed, 1 failed (build)"
    mkdir -p build && echo "fuzz 0 1" >> build/.results
    exit 1
}
rm -rf "$dir/seeds"
python3 tests/fuzz/seeds.py "$dir/seeds" >/dev/null || { echo "fuzz: seed corpora could not be built"; exit 1; }

# One target: fuzz it, then (check mode) replay its reproducers. Prints its
# report lines to "$dir/artifacts/<target>/report" and "P F names" to
# ".../counts", so that two targets can run at once on a 2-core machine.
fuzz_one() {
    bin=$1
    t=$(basename "$bin" | sed 's/^fuzz_//')
    dict=""
    case $t in
        csv) dict=tests/fuzz/csv.dict ;;
        json|normalize|scanner) dict=tests/fuzz/json.dict ;;
        rules) dict=tests/fuzz/rules.dict ;;
    esac
    mkdir -p "$dir/corpus/$t" "$dir/artifacts/$t" "$dir/seeds/$t"
    log="$dir/artifacts/$t/last-$mode.log"
    report="$dir/artifacts/$t/report"
    p=0; f=0; names=""
    : >"$report"
    # -max_len: big enough for a compressed container, small enough to mutate well.
    if "$bin" -max_total_time="$seconds" -timeout=20 -max_len=65536 -print_final_stats=1 \
        ${dict:+-dict="$dict"} -artifact_prefix="$dir/artifacts/$t/" \
        "$dir/corpus/$t" "$dir/seeds/$t" >"$log" 2>&1; then
        p=$((p + 1))
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        cov=$(grep -a -o 'cov: [0-9]*' "$log" | tail -n 1)
        printf '  PASS    fuzz_%s (%ss, %s runs, %s)\n' "$t" "$seconds" "${runs:-?}" "${cov:-cov: ?}" >>"$report"
    else
        f=$((f + 1)); names="$names fuzz_$t"
        printf '  FAIL    fuzz_%s (log: %s)\n' "$t" "$log" >>"$report"
        grep -a -E 'ERROR|invariant failed|SUMMARY|Test unit written' "$log" | head -n 8 | sed 's/^/          /' >>"$report"
    fi
    if [ "$mode" = check ] && [ -d "tests/fuzz/regressions/$t" ]; then
        for r in "tests/fuzz/regressions/$t"/*; do
            [ -f "$r" ] || continue
            if "$bin" -timeout=20 "$r" >"$dir/artifacts/$t/regression.log" 2>&1; then
                p=$((p + 1))
            else
                f=$((f + 1)); names="$names $r"
                printf '  FAIL    regression %s\n' "$r" >>"$report"
                grep -a -E 'ERROR|invariant failed|SUMMARY' "$dir/artifacts/$t/regression.log" | head -n 5 | sed 's/^/          /' >>"$report"
            fi
        done
    fi
    echo "$p $f$names" >"$dir/artifacts/$t/counts"
}

# Two targets at a time (each fuzzes for its SECONDS of wall time on a core
# of its own), reports in target order.
targets=""
for bin in "$dir"/fuzz/fuzz_*; do
    case $bin in *.d) continue ;; esac
    targets="$targets $bin"
done
set -- $targets
while [ $# -gt 0 ]; do
    fuzz_one "$1" &
    if [ $# -gt 1 ]; then
        fuzz_one "$2" &
        wait
        shift 2
    else
        wait
        shift
    fi
done
pass=0; fail=0; failed=""
for bin in $targets; do
    t=$(basename "$bin" | sed 's/^fuzz_//')
    cat "$dir/artifacts/$t/report"
    read -r p f names <"$dir/artifacts/$t/counts" || { p=0; f=1; names="fuzz_$t"; }
    pass=$((pass + p)); fail=$((fail + f)); failed="$failed${names:+ $names}"
done
mkdir -p build
echo "fuzz $pass $fail" >> build/.results
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ] || { echo "failed:$failed"; exit 1; }
