#!/bin/sh
# Hunt/inspect the public corpus when it is present (../shared/corpus or $AH_CORPUS).
corpus=${AH_CORPUS:-../shared/corpus}
if [ ! -d "$corpus" ]; then
    echo "corpus: skipped: $corpus not found (set AH_CORPUS to the shared corpus to run these checks)"
    mkdir -p build && echo "corpus 0 0 1" >> build/.results
    exit 0
fi
python3 tests/corpus/check.py "$1" "$corpus"; rc=$?
# Rule detections on the corpus (tests/corpus/hunt_check.py).
python3 tests/corpus/hunt_check.py "$1" "$corpus" || rc=1
exit $rc
