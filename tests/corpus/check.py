#!/usr/bin/env python3
"""Run audithound over the public sample corpus (../shared/corpus) and check
that every file in a supported export shape parses with zero errors, that
records = events + duplicates + errors everywhere, that the known duplicate
records are found, and that the adjacent (unsupported) shapes are rejected
cleanly instead of being mis-normalized.

Usage: check.py BINARY CORPUS_DIR. Prints one line per check and the closing
line "corpus: N passed, M failed"; appends "corpus N M" to build/.results.
"""
import json, os, subprocess, sys

binary, corpus = sys.argv[1], sys.argv[2]

# Files that are not export records at all.
NOT_DATA = ('README.md', '.metadata.yaml', '.index.jsonl', '.ini')
# Adjacent shapes (corpus README): not one of the formats the tool reads.
ADJACENT = {
    'otrf_security_datasets/Microsoft365DefenderEvents.json',
    'plaso/m365_activity_log_002.csv',
}
# Supported files with records that are not audit records (corpus README §4).
EXPECTED_ERRORS = {'wazuh/ruleset_testing_office365.jsonl': 1}
# Known duplicate records inside one file (corpus README §1, §5.3).
EXPECTED_DUPLICATES = {
    'otrf_security_datasets/AADAuditEvents.json': 1,
    'elastic_integrations/o365_test-exchange-admin.log': 33,
}

passed = failed = 0

def check(name, ok, detail=''):
    global passed, failed
    if ok:
        passed += 1
        print(f'  PASS    {name}')
    else:
        failed += 1
        print(f'  FAIL    {name}: {detail}')

files = []
for root, _, names in os.walk(corpus):
    for n in sorted(names):
        rel = os.path.relpath(os.path.join(root, n), corpus)
        if not rel.endswith(NOT_DATA):
            files.append(rel)
files.sort()

for rel in files:
    path = os.path.join(corpus, rel)
    p = subprocess.run([binary, 'inspect', '--json', '-q', path], capture_output=True, text=True)
    try:
        rep = json.loads(p.stdout)
    except ValueError:
        check(rel, False, f'inspect output is not JSON (exit {p.returncode}): {p.stderr[:300]}')
        continue
    t = rep['totals']
    balanced = t['records'] == t['events'] + t['duplicates'] + t['errors']
    if rel in ADJACENT:
        ok = balanced and p.returncode == 3 and (t['errors'] > 0 or t['unreadable_inputs'] > 0)
        check(rel + ' (adjacent shape rejected)', ok, f'exit {p.returncode}, totals {t}')
        continue
    want_err = EXPECTED_ERRORS.get(rel, 0)
    want_dup = EXPECTED_DUPLICATES.get(rel)
    formats = sorted({s['format'] for s in rep['streams'] if s['format']})
    ok = (balanced and t['errors'] == want_err and t['events'] > 0 and formats
          and t['unreadable_inputs'] == 0 and p.returncode == (3 if want_err else 0)
          and (want_dup is None or t['duplicates'] == want_dup))
    check(f'{rel} ({",".join(formats)})', ok,
          f'exit {p.returncode}, totals {t}, stderr: {p.stderr.strip()[:400]}')

print(f'corpus: {passed} passed, {failed} failed')
os.makedirs('build', exist_ok=True)
with open('build/.results', 'a') as f:
    f.write(f'corpus {passed} {failed}\n')
sys.exit(1 if failed else 0)
