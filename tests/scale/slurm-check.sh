#!/bin/sh
# make scale-check: a case sharded under Slurm merges to exactly one run
# (issue 16, docs/scale-out.md "Slurm").
#
# Starts a private single-node Slurm cluster (slurm-cluster.sh), plans 3
# shards of samples/ with `audithound shard`, submits a 3-task job array of
# `hunt --partial` and a merge job that depends on it (afterok), then
# compares the merged timeline (JSON Lines and CSV) and the summary's
# counts with one `hunt` over all the inputs. Not part of `make check`: it
# installs and starts daemons, and needs root.
#
#   tests/scale/slurm-check.sh [BINARY]      from the repository root
set -eu
BIN=$(cd "$(dirname "${1:-build/audithound}")" && pwd)/$(basename "${1:-build/audithound}")
ROOT=$(pwd)
for t in sbatch slurmctld slurmd munged; do
    command -v "$t" >/dev/null || { echo "scale-check: $t not found (make scale-deps installs slurm-wlm and munge)" >&2; exit 2; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/audithound-scale.XXXXXX")
cluster="$work/cluster"
mkdir -p "$cluster"
finish() {
    status=$?
    sh "$ROOT/tests/scale/slurm-cluster.sh" stop "$cluster" || true
    if [ $status -eq 0 ]; then
        rm -rf "$work"
    else
        echo "scale-check: FAILED; files kept in $work" >&2
    fi
}
trap finish EXIT
trap 'exit 130' INT TERM

sh "$ROOT/tests/scale/slurm-cluster.sh" start "$cluster"
export SLURM_CONF="$cluster/slurm.conf"

HUNT_OPTS="-r rules --vars samples/contoso.vars"
"$BIN" shard --count 3 samples > "$work/plan"
awk -F'\t' -v dir="$work" '{ print $3 > (dir "/shard-" $1 ".list") }' "$work/plan"
[ "$(ls "$work"/shard-*.list | wc -l)" -eq 3 ]

# One array task per shard. A shard succeeds when it wrote its partial:
# "no hits" (1) and "an input had errors" (3) are the merge's to say
# (samples/formats holds malformed records on purpose).
cat > "$work/shard.sh" <<JOB
#!/bin/sh
set --
while IFS= read -r f; do set -- "\$@" "\$f"; done < "$work/shard-\$SLURM_ARRAY_TASK_ID.list"
"$BIN" hunt -q $HUNT_OPTS --partial "$work/part-\$SLURM_ARRAY_TASK_ID" -- "\$@" 2>/dev/null
s=\$?
[ \$s -le 1 ] || [ \$s -eq 3 ] && exit 0
exit \$s
JOB
# The partials in another order than the array's: the merge does not care.
cat > "$work/merge.sh" <<JOB
#!/bin/sh
"$BIN" merge -q -f jsonl -o "$work/merged.jsonl" --summary "$work/merged.summary.json" \
    "$work/part-3" "$work/part-1" "$work/part-2" 2>/dev/null
echo \$? > "$work/merged.status"
"$BIN" merge -q -f csv -o "$work/merged.csv" "$work/part-2" "$work/part-3" "$work/part-1" 2>/dev/null
echo \$? >> "$work/merged.status"
JOB
array=$(sbatch --parsable --array=1-3 --chdir="$ROOT" --output="$work/shard-%a.log" "$work/shard.sh")
echo "scale-check: submitted shard array $array"
merge=$(sbatch --parsable --dependency=afterok:"$array" --kill-on-invalid-dep=yes --chdir="$ROOT" \
    --output="$work/merge.log" "$work/merge.sh")
echo "scale-check: submitted merge job $merge (afterok:$array)"
# Wait for the controller to report every job finished, then require each
# to have COMPLETED with exit 0 (a cancelled dependent job "ends" too).
job_states() {
    scontrol -o show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\) .*ExitCode=\([0-9:]*\).*/\1 \2/p'
}
i=0
while job_states "$array" | grep -qv '^COMPLETED\|^FAILED\|^CANCELLED\|^TIMEOUT\|^OUT_OF_ME\|^NODE_FAIL' ||
      job_states "$merge" | grep -qv '^COMPLETED\|^FAILED\|^CANCELLED\|^TIMEOUT\|^OUT_OF_ME\|^NODE_FAIL'; do
    i=$((i + 1))
    [ $i -le 600 ] || { echo "scale-check: jobs still running after 300 s" >&2; exit 1; }
    sleep 0.5
done
states=$( { job_states "$array"; job_states "$merge"; } | sort | uniq -c | tr -s ' ')
if [ "$(job_states "$array" | grep -c '^COMPLETED 0:0$')" -ne 3 ] || [ "$(job_states "$merge")" != "COMPLETED 0:0" ]; then
    echo "scale-check: jobs did not all complete:$states" >&2
    cat "$work"/shard-*.log "$work/merge.log" >&2 2>/dev/null || true
    exit 1
fi
echo "scale-check: 3 shard tasks and the merge job completed"

# shellcheck disable=SC2086
"$BIN" hunt -q $HUNT_OPTS -f jsonl -o "$work/one.jsonl" --summary "$work/one.summary.json" samples 2>/dev/null && s=0 || s=$?
# shellcheck disable=SC2086
"$BIN" hunt -q $HUNT_OPTS -f csv -o "$work/one.csv" samples 2>/dev/null && t=0 || t=$?
printf '%s\n%s\n' "$s" "$t" | cmp - "$work/merged.status" || { echo "scale-check: exit status $(tr '\n' ' ' < "$work/merged.status")against one run's $s $t" >&2; exit 1; }
cmp "$work/one.jsonl" "$work/merged.jsonl"
cmp "$work/one.csv" "$work/merged.csv"
python3 "$ROOT/tests/tools/summary-same.py" "$work/one.summary.json" "$work/merged.summary.json"
echo "scale-check: 3 Slurm shards merged = one run ($(wc -l < "$work/one.jsonl") rows, JSON Lines and CSV, summary counts)"
