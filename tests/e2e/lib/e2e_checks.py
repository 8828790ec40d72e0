#!/usr/bin/env python3
"""e2e_checks.py: assertions for e2e `check` scripts (Python 3 standard library only).

    e2e_checks.py fields FILE [--raw]          every line is a JSON object with exactly the dump keys
    e2e_checks.py count FILE N                 FILE has exactly N non-empty lines
    e2e_checks.py distinct FILE KEY N          the JSON Lines in FILE have N distinct values of KEY
    e2e_checks.py all-equal FILE KEY VALUE     every JSON line has KEY == VALUE (compared as text)
    e2e_checks.py contains FILE TEXT           FILE contains TEXT
    e2e_checks.py csv-matches-jsonl CSV JSONL  CSV parses (Python csv module) into the same rows as
                                               the JSON Lines: same count, order and, for every CSV
                                               column, the same value

Exit 0 when the assertion holds, 1 with a message on stderr otherwise, 2 on bad usage.
"""

import csv
import io
import json
import sys

# `audithound dump` keys (the brief of the end-to-end stage); raw only with --raw.
DUMP_KEYS = ["time", "source", "format", "record_id", "operation", "operation_canonical", "workload",
             "record_type", "user", "ip", "user_agent", "app_id", "app", "target", "result", "result_code",
             "session_id", "correlation_id", "tenant_id", "token_id", "input", "entry", "input_record", "line"]

# Spreadsheet formula guard: a cell starting with one of these may be written with a leading '.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def fail(msg):
    print("e2e_checks: " + msg, file=sys.stderr)
    return 1


def read_text(path):
    with open(path, "rb") as fh:
        data = fh.read()
    return data.decode("utf-8-sig")


def json_lines(path):
    out = []
    for n, line in enumerate(read_text(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            v = json.loads(line)
        except ValueError as e:
            raise SystemExit(fail("%s:%d: not JSON: %s" % (path, n, e)))
        if not isinstance(v, dict):
            raise SystemExit(fail("%s:%d: not a JSON object" % (path, n)))
        out.append(v)
    return out


def as_cell(v):
    """How a JSON value is expected to appear in a CSV cell."""
    if v is None:
        return ""
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False, separators=(",", ":"))
    return str(v)


def cmd_fields(args):
    path = args[0]
    want = set(DUMP_KEYS + (["raw"] if "--raw" in args[1:] else []))
    rows = json_lines(path)
    if not rows:
        return fail("%s: no events" % path)
    for n, r in enumerate(rows, 1):
        if set(r) != want:
            return fail("%s: event %d keys differ: missing %s, unexpected %s"
                        % (path, n, sorted(want - set(r)), sorted(set(r) - want)))
    return 0


def cmd_count(args):
    path, n = args[0], int(args[1])
    got = sum(1 for line in read_text(path).splitlines() if line.strip())
    return 0 if got == n else fail("%s: %d lines, expected %d" % (path, got, n))


def cmd_distinct(args):
    path, key, n = args[0], args[1], int(args[2])
    got = len({as_cell(r.get(key)) for r in json_lines(path)})
    return 0 if got == n else fail("%s: %d distinct %s, expected %d" % (path, got, key, n))


def cmd_all_equal(args):
    path, key, value = args
    rows = json_lines(path)
    bad = [i for i, r in enumerate(rows, 1) if as_cell(r.get(key)) != value]
    if not rows:
        return fail("%s: no events" % path)
    return 0 if not bad else fail("%s: %s != %r in events %s" % (path, key, value, bad[:10]))


def cmd_contains(args):
    path, needle = args
    return 0 if needle in read_text(path) else fail("%s does not contain %r" % (path, needle))


def cmd_csv_matches_jsonl(args):
    csv_path, jsonl_path = args
    rows = list(csv.reader(io.StringIO(read_text(csv_path), newline="")))
    if not rows:
        return fail("%s: empty CSV" % csv_path)
    header, body = rows[0], rows[1:]
    if len(set(header)) != len(header):
        return fail("%s: duplicate header names" % csv_path)
    bad_width = [i + 2 for i, r in enumerate(body) if len(r) != len(header)]
    if bad_width:
        return fail("%s: rows with a wrong number of cells (lines %s)" % (csv_path, bad_width[:10]))
    objs = json_lines(jsonl_path)
    if len(objs) != len(body):
        return fail("%d CSV rows, %d JSON lines" % (len(body), len(objs)))
    for n, (row, obj) in enumerate(zip(body, objs), 1):
        for col, cell in zip(header, row):
            want = as_cell(obj.get(col))
            if cell == want or (cell == "'" + want and want.startswith(FORMULA_START)):
                continue
            return fail("row %d column %s: CSV %r, JSON %r" % (n, col, cell, want))
    return 0


COMMANDS = {"fields": (cmd_fields, 1, 2), "count": (cmd_count, 2, 2), "distinct": (cmd_distinct, 3, 3),
            "all-equal": (cmd_all_equal, 3, 3), "contains": (cmd_contains, 2, 2),
            "csv-matches-jsonl": (cmd_csv_matches_jsonl, 2, 2)}


def main(argv):
    if len(argv) < 2 or argv[1] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        return 2
    fn, lo, hi = COMMANDS[argv[1]]
    args = argv[2:]
    if not lo <= len(args) <= hi:
        print(__doc__, file=sys.stderr)
        return 2
    return fn(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
