#!/bin/sh
# make bench: see bench.py. Generated data lives in bench-data/ (git-ignored).
exec python3 tests/bench/bench.py "$1"
