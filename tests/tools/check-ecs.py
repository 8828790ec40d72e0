#!/usr/bin/env python3
"""Validate every document of ECS runs over samples/tenant against docs/ecs-template.json.

Usage: check-ecs.py BINARY   (from the repository root; appends "ecs N M" to build/.results)

Elasticsearch cannot be installed here, so this checks what its strict mapping
would: every field of a document exists in the mapping ("dynamic": "strict"),
objects are objects and leaves are leaves on both sides (no object/string flip),
values fit their types (date_nanos parses as strict_date_optional_time_nanos,
ip parses as an address, keyword and text are strings, long is an integer),
the fields the mapping's _meta lists as arrays are arrays of such values and
no other field is, and the fields every document needs are there. Runs: hunt
(hits), hunt --all with the optional time columns, and search.
"""
import datetime
import ipaddress
import json
import os
import re
import subprocess
import sys

TEMPLATE = 'docs/ecs-template.json'
DATE_NANOS = re.compile(r'^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$')
REQUIRED = ['@timestamp', 'ecs.version', 'message', 'event.kind', 'event.category', 'event.type',
            'event.outcome', 'event.module', 'event.dataset', 'audithound.time']
ENUMS = {  # ECS allowed values
    'event.kind': {'alert', 'enrichment', 'event', 'metric', 'state', 'pipeline_error', 'signal'},
    'event.category': {'api', 'authentication', 'configuration', 'database', 'driver', 'email', 'file', 'host',
                       'iam', 'intrusion_detection', 'library', 'malware', 'network', 'package', 'process',
                       'registry', 'session', 'threat', 'vulnerability', 'web'},
    'event.type': {'access', 'admin', 'allowed', 'change', 'connection', 'creation', 'deletion', 'denied', 'end',
                   'error', 'group', 'indicator', 'info', 'installation', 'protocol', 'start', 'user'},
    'event.outcome': {'failure', 'success', 'unknown'},
}


def date_ok(v):
    m = DATE_NANOS.match(v) if isinstance(v, str) else None
    if not m:
        return False
    try:
        datetime.datetime(*(int(m.group(i)) for i in range(1, 7)))
    except ValueError:
        return False
    return True


def ip_ok(v):
    try:
        ipaddress.ip_address(v)
        return isinstance(v, str)
    except ValueError:
        return False


def value_ok(kind, v):
    if kind in ('date', 'date_nanos'):
        return date_ok(v)
    if kind == 'ip':
        return ip_ok(v)
    if kind in ('keyword', 'text', 'match_only_text', 'wildcard'):
        return isinstance(v, str)
    if kind in ('long', 'integer', 'short', 'byte'):
        return isinstance(v, int) and not isinstance(v, bool)
    return False


def check_doc(doc, props, arrays, path, errors, seen_kinds):
    for key, val in doc.items():
        full = f'{path}{key}'
        field = props.get(key)
        if field is None:
            errors.append(f'{full}: not in the mapping')
            continue
        if isinstance(val, dict):
            if 'properties' not in field:
                errors.append(f'{full}: an object where the mapping has a {field.get("type")}')
                continue
            check_doc(val, field['properties'], arrays, full + '.', errors, seen_kinds)
            continue
        if 'properties' in field:
            errors.append(f'{full}: a {type(val).__name__} where the mapping has an object')
            continue
        items = val if isinstance(val, list) else [val]
        if isinstance(val, list) != (full in arrays):
            errors.append(f'{full}: {"an array" if isinstance(val, list) else "a single value"}, expected '
                          f'{"an array" if full in arrays else "a single value"}')
        if isinstance(val, list) and not val:
            errors.append(f'{full}: an empty array (absent values are left out)')
        for item in items:
            if item is None:
                errors.append(f'{full}: null (absent values are left out)')
            elif not value_ok(field['type'], item):
                errors.append(f'{full}: {item!r} is not a valid {field["type"]}')
            elif full in ENUMS and item not in ENUMS[full]:
                errors.append(f'{full}: {item!r} is not an ECS value')
            seen_kinds.setdefault(full, set()).add(type(item).__name__)


def get(doc, dotted):
    for part in dotted.split('.'):
        if not isinstance(doc, dict) or part not in doc:
            return None
        doc = doc[part]
    return doc


def selftest(mapping, arrays):
    """The checker itself must see each kind of problem Elasticsearch would refuse."""
    bad = [
        ({'@timestamp': '2021-13-01T00:00:00Z'}, 'not a valid date_nanos'),
        ({'source': {'ip': 'sanitized'}}, 'not a valid ip'),
        ({'source': 'x'}, 'where the mapping has an object'),
        ({'user': {'name': {'first': 'a'}}}, 'an object where the mapping has'),
        ({'tags': 'a; b'}, 'expected an array'),
        ({'user': {'name': ['a']}}, 'expected a single value'),
        ({'nope': 1}, 'not in the mapping'),
        ({'event': {'severity': '4'}}, 'not a valid long'),
        ({'event': {'outcome': 'ok'}}, 'not an ECS value'),
        ({'event': {'original': {'a': 1}}}, 'an object where the mapping has'),
    ]
    missed = []
    for doc, expect in bad:
        errors = []
        check_doc(doc, mapping['properties'], arrays, '', errors, {})
        if not any(expect in e for e in errors):
            missed.append(f'{doc!r}: expected "{expect}", got {errors}')
    return missed


def main(argv):
    binary = argv[0]
    with open(TEMPLATE) as f:
        mapping = json.load(f)['template']['mappings']
    arrays = set(mapping['_meta']['arrays'])
    missed = selftest(mapping, arrays)
    for m in missed:
        print('  FAIL    ecs checker self-test: ' + m)
    if not missed:
        print('  PASS    ecs checker self-test: it sees every kind of mapping conflict')
    runs = [
        ('hunt', ['hunt', '-q', '--vars', 'samples/contoso.vars', '--profile', 'ecs', 'samples/tenant'], 0),
        ('hunt --all', ['hunt', '-q', '--all', '--excel-dates', '--tz', 'UTC', '--vars', 'samples/contoso.vars',
                        '--profile', 'ecs', 'samples/tenant'], 0),
        ('search', ['search', '-q', '--profile', 'ecs', 'operation exists', 'samples/tenant'], 0),
    ]
    passed, failed = (0, 1) if missed else (1, 0)
    for name, args, want in runs:
        p = subprocess.run([binary, *args], capture_output=True, text=True)
        errors, seen_kinds = [], {}
        lines = p.stdout.splitlines()
        if p.returncode != want:
            errors.append(f'exit {p.returncode}, expected {want}: {p.stderr.strip()[:300]}')
        if not lines:
            errors.append('no documents')
        for no, line in enumerate(lines, 1):
            try:
                doc = json.loads(line)
            except ValueError as e:
                errors.append(f'document {no}: not JSON: {e}')
                continue
            doc_errors = []
            check_doc(doc, mapping['properties'], arrays, '', doc_errors, seen_kinds)
            for req in REQUIRED:
                if get(doc, req) is None:
                    doc_errors.append(f'{req}: missing')
            orig = get(doc, 'event.original')
            if orig is not None:
                try:
                    json.loads(orig)  # the record, as the JSON text it was read as
                except ValueError:
                    doc_errors.append('event.original: not the record\'s JSON text')
            errors += [f'document {no}: {e}' for e in doc_errors]
        for field, kinds in seen_kinds.items():
            if len(kinds) > 1:
                errors.append(f'{field}: values of several JSON types across documents: {sorted(kinds)}')
        if errors:
            failed += 1
            print(f'  FAIL    ecs {name}: {len(errors)} problem(s)')
            for e in errors[:20]:
                print('          ' + e)
        else:
            passed += 1
            print(f'  PASS    ecs {name}: {len(lines)} documents validate against {TEMPLATE}')
    os.makedirs('build', exist_ok=True)
    with open('build/.results', 'a') as f:
        f.write(f'ecs {passed} {failed}\n')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
