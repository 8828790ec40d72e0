#!/usr/bin/env python3
"""summary-same.py ONE MERGED: the summary of a merge says what one run's
summary says, except the fields that describe the run itself (when, where,
how it was invoked, the output's own path) and the list of partials that
only a merge has. Exit 1 with the differing keys."""
import json
import sys

RUN_FIELDS = {"command_line", "started", "finished", "elapsed_seconds", "partials", "outputs"}
RUN_PATHS = {("timeline", "path"), ("totals", "dedup_passes")}


def strip(d, path=()):
    if isinstance(d, dict):
        return {k: strip(v, path + (k,)) for k, v in d.items()
                if not (len(path) == 0 and k in RUN_FIELDS) and path + (k,) not in RUN_PATHS}
    if isinstance(d, list):
        return [strip(v, path) for v in d]
    return d


def diff(a, b, path=""):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                yield f"{path}{k}: only in {'one run' if k in a else 'merge'}"
            else:
                yield from diff(a[k], b[k], f"{path}{k}.")
    elif a != b:
        yield f"{path[:-1]}: {json.dumps(a)[:120]} != {json.dumps(b)[:120]}"


one, merged = (strip(json.load(open(p))) for p in sys.argv[1:3])
problems = list(diff(one, merged))
if problems:
    print("summary-same: the merge's summary differs from one run's:", *problems[:40], sep="\n  ", file=sys.stderr)
    sys.exit(1)
