#!/bin/sh
# make demo: hunt the contoso sample tenant (samples/tenant: ten overlapping
# exports in as many shapes; samples/tenant-story.md tells the intrusion and
# lists the findings that should, and should not, appear).
#   sh samples/demo.sh [BINARY]        (default build/audithound)
# Writes build/demo/timeline.csv, timeline.jsonl, report.html and summary.json.
set -u
bin=${1:-build/audithound}
case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac
cd "$(dirname "$0")/.." || exit 2
[ -x "$bin" ] || { echo "demo: no binary at $bin (run make first)" >&2; exit 2; }
out=build/demo
mkdir -p "$out"

echo "== 1. What the exports hold (audithound inspect samples/tenant)"
"$bin" inspect samples/tenant | sed -n '/^total:/,$p'

echo
echo "== 2. The hunt (audithound hunt -r rules --vars samples/contoso.vars -o $out/timeline.csv --summary $out/summary.json samples/tenant)"
"$bin" hunt --force -r rules --vars samples/contoso.vars -o "$out/timeline.csv" --summary "$out/summary.json" samples/tenant
rc=$?
[ "$rc" -le 1 ] || exit "$rc"   # 0 = findings, 1 = none: both are a finished run
"$bin" hunt --force -q -r rules --vars samples/contoso.vars -f jsonl -o "$out/timeline.jsonl" samples/tenant
[ $? -le 1 ] || exit 1

echo
echo "== 3. The story, one line per event in time order (audithound hunt -f story; on a terminal, the default view)"
"$bin" hunt -q -r rules --vars samples/contoso.vars -f story --force --html "$out/report.html" samples/tenant
[ $? -le 1 ] || exit 1
echo
echo "Full timeline: $out/timeline.csv (spreadsheet), $out/timeline.jsonl (with raw records);"
echo "the HTML report (opens offline in any browser): $out/report.html;"
echo "run summary with input SHA-256 and rule hashes: $out/summary.json."
exit 0
