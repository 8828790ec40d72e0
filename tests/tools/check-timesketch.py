#!/usr/bin/env python3
"""Check that --profile timesketch output meets Timesketch's documented import rules.

Usage: check-timesketch.py BINARY   (from the repository root; appends "timesketch N M")

Timesketch's "Create timeline from JSONL or CSV file" guide and its importer
(timesketch/lib/utils.py: read_and_validate_csv, read_and_validate_jsonl) ask for:
the mandatory fields message, datetime (ISO 8601) and timestamp_desc on every
row (the JSONL reader raises on a line without one; the CSV reader drops rows
whose datetime is empty or does not parse); a CSV header line; one JSON object
per line; timestamp, when present, in microseconds since the epoch (the JSONL
reader takes it as given); no field named _id, _type, _index, _source (scrubbed);
a file name ending in .csv or .jsonl. Runs: hunt and search, in both formats.
"""
import csv
import datetime
import io
import json
import os
import re
import subprocess
import sys
import tempfile

MANDATORY = ('message', 'datetime', 'timestamp_desc')
SCRUBBED = {'_id', '_type', '_index', '_source', '__ts_timeline_id'}
ISO = re.compile(r'^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$')


def micros(text):
    """Microseconds since the epoch of an ISO 8601 time, or None when it does not parse."""
    m = ISO.match(text or '')
    if not m:
        return None
    try:
        d = datetime.datetime(*(int(m.group(i)) for i in range(1, 7)), tzinfo=datetime.timezone.utc)
    except ValueError:
        return None
    if m.group(8) != 'Z':
        sign = 1 if m.group(8)[0] == '+' else -1
        d -= sign * datetime.timedelta(hours=int(m.group(8)[1:3]), minutes=int(m.group(8)[4:6]))
    frac = (m.group(7) or '').ljust(6, '0')[:6]
    return int(d.timestamp()) * 1000000 + int(frac)


def check_row(row, where, errors):
    for k in MANDATORY:
        if not isinstance(row.get(k), str) or not row[k].strip():
            errors.append(f'{where}: {k} missing or empty')
    us = micros(row.get('datetime'))
    if us is None:
        errors.append(f'{where}: datetime {row.get("datetime")!r} is not ISO 8601')
    elif 'timestamp' in row and int(row['timestamp']) != us:
        errors.append(f'{where}: timestamp {row["timestamp"]} is not datetime in microseconds ({us})')
    bad = SCRUBBED & set(row)
    if bad:
        errors.append(f'{where}: fields Timesketch scrubs: {sorted(bad)}')
    if '\n' in row.get('message', '') or '\r' in row.get('message', ''):
        errors.append(f'{where}: message spans several lines')


def check(binary, args, fmt, tmp):
    out = os.path.join(tmp, f'timeline.{fmt}')
    if os.path.exists(out):
        os.unlink(out)
    p = subprocess.run([binary, *args[:1], '-q', '--profile', 'timesketch', '-f', fmt, '-o', out, *args[1:]],
                       capture_output=True, text=True)
    errors = []
    if p.returncode != 0:
        return 0, [f'exit {p.returncode}: {p.stderr.strip()[:300]}']
    with open(out, encoding='utf-8', newline='') as f:
        text = f.read()
    rows = 0
    if fmt == 'csv':
        reader = csv.DictReader(io.StringIO(text))
        missing = [k for k in MANDATORY if k not in (reader.fieldnames or [])]
        if missing:
            errors.append(f'header lacks {missing}')
        for rows, row in enumerate(reader, 1):
            check_row(row, f'row {rows}', errors)
    else:
        for rows, line in enumerate(text.split('\n')[:-1], 1):
            try:
                row = json.loads(line)
            except ValueError as e:
                errors.append(f'line {rows}: not one JSON object: {e}')
                continue
            if not isinstance(row.get('timestamp'), int):
                errors.append(f'line {rows}: timestamp is not an integer')
            check_row(row, f'line {rows}', errors)
    if not rows:
        errors.append('no rows')
    return rows, errors


def main(argv):
    binary = argv[0]
    runs = [('hunt', ['hunt', '--vars', 'samples/contoso.vars', 'samples/tenant']),
            ('hunt --all', ['hunt', '--all', '--vars', 'samples/contoso.vars', 'samples/tenant']),
            ('search', ['search', 'operation exists', 'samples/tenant'])]
    passed = failed = 0
    # the checker must refuse what the importer refuses
    probe = []
    check_row({'message': 'm', 'datetime': '2021-01-13 03:05', 'timestamp_desc': 'x'}, 'probe', probe)
    check_row({'message': '', 'datetime': '2021-01-13T03:05:11.7078938Z', 'timestamp_desc': 'x',
               'timestamp': '1610507111707893'}, 'probe', probe)
    check_row({'message': 'm', 'datetime': '2021-01-13T03:05:11Z', 'timestamp_desc': 'x', 'timestamp': '1', '_id': 'x'},
              'probe', probe)
    if len(probe) == 4:
        passed += 1
        print('  PASS    timesketch checker self-test: refuses bad datetime, empty message, wrong timestamp, _id')
    else:
        failed += 1
        print(f'  FAIL    timesketch checker self-test: {probe}')
    with tempfile.TemporaryDirectory() as tmp:
        for name, args in runs:
            for fmt in ('csv', 'jsonl'):
                rows, errors = check(binary, args, fmt, tmp)
                if errors:
                    failed += 1
                    print(f'  FAIL    timesketch {name} {fmt}: {len(errors)} problem(s)')
                    for e in errors[:20]:
                        print('          ' + e)
                else:
                    passed += 1
                    print(f'  PASS    timesketch {name} {fmt}: {rows} rows have what the importer requires')
    os.makedirs('build', exist_ok=True)
    with open('build/.results', 'a') as f:
        f.write(f'timesketch {passed} {failed}\n')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
