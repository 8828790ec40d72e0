#!/bin/sh
# Print the closing line for `make check` from the per-suite result lines
# ("SUITE PASSED FAILED [SKIPPED]": a suite that could not run here, e.g. the
# corpus checks without ../shared/corpus, says so in the third count).
f=build/.results
[ -f "$f" ] || { echo "check: 0 passed, 0 failed, 0 skipped"; exit 1; }
awk '{p+=$2; f+=$3; s+=$4} END {printf "check: %d passed, %d failed, %d skipped\n", p, f, s; exit (f>0)}' "$f"
rm -f "$f"
