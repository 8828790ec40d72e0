#!/bin/sh
# make demo: run audithound over the contoso sample tenant. samples/tenant-story.md
# tells the story and lists the findings that should (and should not) appear.
#   sh samples/demo.sh [BINARY]        (default build/audithound)

set -u
bin=${1:-build/audithound}
case $bin in
    /*) ;;
    *) bin=$(pwd)/$bin ;;
esac
cd "$(dirname "$0")/.." || exit 2
[ -x "$bin" ] || { echo "demo: no binary at $bin (run make first)" >&2; exit 2; }

set -- samples/tenant/*.csv samples/tenant/*.json samples/tenant/*.jsonl

echo "== What the exports hold: audithound inspect"
"$bin" inspect "$@"

if "$bin" help hunt >/dev/null 2>&1; then
    echo
    echo "== Findings: audithound hunt (compare with samples/tenant-story.md)"
    "$bin" hunt "$@"
    rc=$?
    # 0 = findings, 1 = none: both are a successful demo.
    [ "$rc" -le 1 ] || exit "$rc"
else
    echo
    echo "== Normalized events, first 15 (audithound dump; 'hunt' is not built yet)"
    "$bin" dump "$@" | head -n 15
fi
exit 0
