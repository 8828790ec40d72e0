#!/bin/sh
# Print the closing line for `make check` from the per-suite result lines.
f=build/.results
[ -f "$f" ] || { echo "0 passed, 0 failed"; exit 1; }
awk '{p+=$2; f+=$3} END {printf "check: %d passed, %d failed\n", p, f; exit (f>0)}' "$f"
rm -f "$f"
