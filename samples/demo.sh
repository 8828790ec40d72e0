#!/bin/sh
# make demo: hunt the contoso sample tenant (samples/tenant: ten overlapping
# exports in as many shapes; samples/tenant-story.md tells the intrusion and
# lists the findings that should, and should not, appear).
#   sh samples/demo.sh [BINARY]        (default build/audithound)
# Writes build/demo/timeline.csv, timeline.jsonl and summary.json.
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
echo "== 3. The story, one line per event in time order (medium and above; from $out/timeline.jsonl)"
python3 - "$out/timeline.jsonl" <<'PY'
import json, sys
rank = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
for line in open(sys.argv[1], encoding="utf-8"):
    r = json.loads(line)  # one row per event (twins joined), every rule that hit it
    if rank[r["severity"]] < 2:
        continue
    who = (r["user"] or r["app"] or "-")[:24]
    rules = ", ".join(x["id"] for x in r["rules"])
    print(f'{r["time"][:19]}  {r["severity"]:<8} {r["source"]:<15} {who:<24} {(r["ip"] or "-"):<14} {rules}')
PY
echo
echo "Full timeline: $out/timeline.csv (spreadsheet), $out/timeline.jsonl (with raw records);"
echo "run summary with input SHA-256 and rule hashes: $out/summary.json."
exit 0
