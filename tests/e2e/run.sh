#!/bin/sh
# End-to-end tests: run the binary on golden cases and compare what it prints.
#
#   sh tests/e2e/run.sh [--update] BINARY [CASE-PATTERN...]
#
# Cases are the directories tests/e2e/cases/<feature>_<detail>/, found by
# wildcard (never listed by hand). Files in a case directory:
#   cmd              one line: the arguments, evaluated by sh with cwd = repo root, so quoting,
#                    globs and redirections work. Variables: $SAMPLES (samples dir), $C (container
#                    dir built by tests/tools/mkcontainers.py), $TMP (a fresh temp dir per case).
#   exit             expected exit code (required).
#   stdout           expected stdout, compared whole. A case without it FAILS unless the case
#                    has a file named no-stdout-check.
#   stderr           optional: expected stderr, compared whole.
#   stdin            optional: fed to stdin (otherwise /dev/null).
#   check            optional executable, run after cmd with $TMP as $1 and in the environment
#                    (also E2E_STDOUT, E2E_STDERR: files holding the output; E2E_EXIT; BIN,
#                    SAMPLES, C; E2E_LIB = tests/e2e/lib). It must exit 0; exit 77 skips the case,
#                    the first line it printed being the reason (e.g. a browser that cannot start).
#   requires         optional: one path per line (variables expanded); the case is skipped
#                    when one is missing (e.g. $C/entra-audit.7z without the 7z command).
# Before comparing, the temp dir path in stdout and stderr is replaced by the literal $TMP and
# the repository root by $ROOT.
#
# --update rewrites stdout (and stderr when the case has a stderr file: create an empty one to
# start comparing stderr; run summaries carry timings, so most cases do not) from the
# current binary, for reviewed updates. It never rewrites exit: exit codes are the documented
# contract, so a different exit code still fails; edit the exit file by hand if intended.
#
# Prints PASS/FAIL/SKIP per case, a unified diff on failure, then "e2e: N passed, M failed";
# appends "e2e N M K" (K skipped) to build/.results; exits 1 when a case failed.
# Cases run with LC_ALL=C (stable glob order, untranslated messages) and TZ set to a zone 13 hours
# east of UTC, so that an accidental local-time conversion shows up as a diff.
# Environment: AH_E2E_CASES (cases dir), AH_E2E_CONTAINERS (container dir, default
# build/e2e/containers), AH_E2E_NO_BUILD=1 (use the container dir as is), AH_E2E_RESULTS
# (results file), AH_E2E_TIMEOUT (seconds per case, default 60), AH_E2E_DIFF_LINES (default 80),
# AH_E2E_JOBS (cases run at a time, default 1; the reports still print in case order).

set -u

usage() {
    echo "usage: sh tests/e2e/run.sh [--update] BINARY [CASE-PATTERN...]" >&2
    exit 2
}

update=0
if [ "${1:-}" = "--update" ]; then
    update=1
    shift
fi
[ $# -ge 1 ] || usage
BIN=$1
shift
case $BIN in
    /*) ;;
    *) BIN=$(pwd)/$BIN ;;
esac

LC_ALL=C
TZ=AHT-13
export LC_ALL TZ

ROOT=$(cd "$(dirname "$0")/../.." && pwd) || exit 2
cd "$ROOT" || exit 2

cases_dir=${AH_E2E_CASES:-tests/e2e/cases}
results=${AH_E2E_RESULTS:-build/.results}
timeout_s=${AH_E2E_TIMEOUT:-60}
diff_lines=${AH_E2E_DIFF_LINES:-80}
SAMPLES=samples
C=${AH_E2E_CONTAINERS:-build/e2e/containers}
E2E_LIB=$ROOT/tests/e2e/lib
export BIN SAMPLES C E2E_LIB

pass=0
fail=0
skip=0
failed=""

record() {
    mkdir -p "$(dirname "$results")"
    echo "e2e $pass $fail $skip" >>"$results"
    echo "e2e: $pass passed, $fail failed"
}

if [ ! -x "$BIN" ]; then
    echo "e2e: binary not found or not executable: $BIN"
    fail=1
    record
    exit 1
fi

if [ "${AH_E2E_NO_BUILD:-0}" != 1 ]; then
    if ! python3 tests/tools/mkcontainers.py "$C"; then
        echo "e2e: warning: building containers in $C failed; container cases will fail"
    fi
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/ah-e2e-work.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

if command -v timeout >/dev/null 2>&1; then
    run_prefix="timeout $timeout_s"
else
    run_prefix=""
fi

# Escape a string for use as a literal in a sed regex delimited by |.
sed_literal() {
    printf '%s' "$1" | sed 's/[].[*^$|\\]/\\&/g'
}

# Replace the case's temp dir and the repo root by placeholders.
sanitize() {
    sed -e "s|$(sed_literal "$TMP")|\$TMP|g" -e "s|$(sed_literal "$ROOT")|\$ROOT|g" "$1" >"$2"
}

show_diff() {
    diff -u "$1" "$2" >"$jw/diff" 2>&1
    n=$(wc -l <"$jw/diff")
    head -n "$diff_lines" "$jw/diff" | sed 's/^/    /'
    if [ "$n" -gt "$diff_lines" ]; then
        echo "    ... ($((n - diff_lines)) more diff lines)"
    fi
}

selected() {
    [ $# -eq 0 ] && return 0
    for pat in "$@"; do
        # shellcheck disable=SC2254
        case $name in $pat) return 0 ;; esac
    done
    return 1
}

run_case() {
    d=$1
    name=$(basename "$d")
    if [ -f "$d/requires" ]; then
        missing=""
        while IFS= read -r req || [ -n "$req" ]; do
            [ -n "$req" ] || continue
            path=$(eval "printf '%s' \"$req\"")
            [ -e "$path" ] || missing="$missing $req"
        done <"$d/requires"
        if [ -n "$missing" ]; then
            skip=$((skip + 1))
            echo "SKIP $name (missing:$missing)"
            return
        fi
    fi

    problems=""
    check_skip=""
    if [ ! -f "$d/cmd" ]; then
        fail=$((fail + 1)); failed="$failed $name"
        echo "FAIL $name: no cmd file"
        return
    fi
    args=$(sed -n 1p "$d/cmd")
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/ah-e2e.XXXXXX") || exit 2
    export TMP
    stdin=/dev/null
    [ -f "$d/stdin" ] && stdin=$d/stdin
    (eval "exec $run_prefix \"\$BIN\" $args") <"$stdin" >"$jw/out.raw" 2>"$jw/err.raw"
    rc=$?
    sanitize "$jw/out.raw" "$jw/$name.stdout"
    sanitize "$jw/err.raw" "$jw/$name.stderr"
    out=$jw/$name.stdout
    err=$jw/$name.stderr

    if [ "$update" = 1 ]; then
        [ -f "$d/no-stdout-check" ] || cp "$out" "$d/stdout"
        if [ -f "$d/stderr" ]; then
            cp "$err" "$d/stderr"
        fi
    fi

    diffs=""
    if [ ! -f "$d/exit" ]; then
        problems="$problems; no exit file"
    else
        want=$(tr -d ' \t\r\n' <"$d/exit")
        if [ "$want" != "$rc" ]; then
            problems="$problems; exit $rc, expected $want"
            [ "$update" = 1 ] && problems="$problems (exit files are never updated)"
        fi
    fi
    if [ ! -f "$d/no-stdout-check" ]; then
        if [ ! -f "$d/stdout" ]; then
            problems="$problems; no expected stdout (review the output, then run with --update)"
        elif ! cmp -s "$d/stdout" "$out"; then
            problems="$problems; stdout differs"
            diffs="$diffs stdout"
        fi
    fi
    if [ -f "$d/stderr" ] && ! cmp -s "$d/stderr" "$err"; then
        problems="$problems; stderr differs"
        diffs="$diffs stderr"
    fi
    if [ -f "$d/check" ]; then
        if [ ! -x "$d/check" ]; then
            problems="$problems; check is not executable"
        else
            E2E_STDOUT=$out E2E_STDERR=$err E2E_EXIT=$rc "$d/check" "$TMP" >"$jw/check.out" 2>&1
            crc=$?
            if [ "$crc" -eq 77 ]; then
                check_skip=$(head -n 1 "$jw/check.out")
            elif [ "$crc" -ne 0 ]; then
                problems="$problems; check failed"
                diffs="$diffs check"
            fi
        fi
    fi

    if [ -n "$check_skip" ] && [ -z "$problems" ]; then
        skip=$((skip + 1))
        echo "SKIP $name ($check_skip)"
    elif [ -z "$problems" ]; then
        pass=$((pass + 1))
        if [ "$update" = 1 ]; then echo "PASS $name (updated)"; else echo "PASS $name"; fi
    else
        fail=$((fail + 1)); failed="$failed $name"
        echo "FAIL $name: ${problems#; }"
        for what in $diffs; do
            case $what in
                stdout) show_diff "$d/stdout" "$out" ;;
                stderr) show_diff "$d/stderr" "$err" ;;
                check) sed 's/^/    check: /' "$jw/check.out" | head -n "$diff_lines" ;;
            esac
        done
        if [ ! -f "$d/stdout" ] && [ ! -f "$d/no-stdout-check" ] && [ -s "$err" ]; then
            echo "    stderr was:"
            head -n 10 "$err" | sed 's/^/    /'
        fi
    fi
    rm -rf "$TMP"
}

# The selected cases, in glob order.
: >"$work/cases"
for d in "$cases_dir"/*/; do
    [ -d "$d" ] || continue
    d=${d%/}
    name=$(basename "$d")
    selected "$@" || continue
    echo "$d" >>"$work/cases"
done
ncases=$(wc -l <"$work/cases")

# Run the cases of every JOBS-th line from the first-th; each case's report
# goes to its own file when out_dir is set (parallel runs print them in order).
run_share() {
    jw=$work/job$1
    mkdir -p "$jw"
    i=0
    while IFS= read -r d; do
        i=$((i + 1))
        [ $(((i - 1) % jobs)) -eq $(($1 - 1)) ] || continue
        if [ -n "$out_dir" ]; then
            run_case "$d" >"$out_dir/$(basename "$d")" 2>&1
        else
            run_case "$d"
        fi
    done <"$work/cases"
    echo "$pass $fail $skip $failed" >"$work/count$1"
}

# AH_E2E_JOBS cases at a time (default 1): the cases are independent (each
# has its own TMP and scratch), and most are one short run of the binary.
jobs=${AH_E2E_JOBS:-1}
case $jobs in '' | *[!0-9]* | 0) jobs=1 ;; esac
if [ "$jobs" -eq 1 ]; then
    out_dir=""
    run_share 1
else
    out_dir=$work/reports
    mkdir -p "$out_dir"
    j=1
    while [ $j -le "$jobs" ]; do
        run_share $j &
        j=$((j + 1))
    done
    wait
    while IFS= read -r d; do
        cat "$out_dir/$(basename "$d")"
    done <"$work/cases"
    pass=0 fail=0 skip=0 failed=""
    j=1
    while [ $j -le "$jobs" ]; do
        read -r p f k rest <"$work/count$j" || { p=0; f=1; k=0; rest=" job$j"; }
        pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + k)) failed="$failed${rest:+ $rest}"
        j=$((j + 1))
    done
fi

[ "$ncases" -gt 0 ] || echo "e2e: no cases found in $cases_dir"
[ "$skip" -gt 0 ] && echo "e2e: $skip skipped"
[ -n "$failed" ] && echo "e2e: failed:$failed"
record
[ "$fail" -eq 0 ]
