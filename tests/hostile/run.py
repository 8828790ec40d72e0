#!/usr/bin/env python3
"""run.py: the hostile-input corpus through dump, inspect, hunt and search (make check).

    python3 tests/hostile/run.py BINARY [--no-memory]

Generates the corpus (tests/hostile/gen.py) into a temporary directory, runs
the binary on each case and checks the exit status, the message (input
named, offset given), that no raw control byte reaches the terminal, the
accounting identity records = events + duplicates + errors for every stream
(inspect --json), and, unless --no-memory (sanitizer builds) or GNU time is
missing, the peak memory of a hunt over one huge record, CSV and JSON Lines
output (at most 2.0 x the record + 16 MiB of fixed buffers). Prints PASS/FAIL per check and
"hostile: N passed, M failed"; appends "hostile N M" to build/.results.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen  # noqa: E402

RULES = 'tests/e2e/data/hunt.rules'
TIMEOUT = 60
passed = failed = 0


def result(ok, name, why=''):
    global passed, failed
    if ok:
        passed += 1
        print('  PASS    %s' % name)
    else:
        failed += 1
        print('  FAIL    %s%s' % (name, (': ' + why) if why else ''))


def run(args, timeout=TIMEOUT):
    try:
        p = subprocess.run([BIN] + args, capture_output=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return None, b'', b'timeout after %d s' % timeout


def no_raw_controls(data):
    """Terminal output must not carry ESC, BEL, NUL or other C0 controls (tab and line ends aside)."""
    return not re.search(rb'[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]', data)


def check(name, args, exit_code, stderr_has=(), stdout_has=(), stdout_lines=None, timeout=TIMEOUT):
    code, out, err = run(args, timeout)
    why = []
    if code != exit_code:
        why.append('exit %s, expected %d' % (code, exit_code))
    for pat in stderr_has:
        if not re.search(pat.encode(), err):
            why.append('stderr lacks /%s/' % pat)
    for pat in stdout_has:
        if not re.search(pat.encode(), out):
            why.append('stdout lacks /%s/' % pat)
    if stdout_lines is not None and out.count(b'\n') != stdout_lines:
        why.append('%d stdout lines, expected %d' % (out.count(b'\n'), stdout_lines))
    if not no_raw_controls(err):
        why.append('raw control bytes on stderr')
    if b'Sanitizer' in err or b'runtime error' in err:
        why.append('sanitizer report')
    if why:
        why.append('stderr: ' + err[-300:].decode(errors='replace'))
    result(not why, name, '; '.join(why))
    return out, err


def identity(name, paths, extra=()):
    """inspect --json: records = events + duplicates + errors, per stream and in total."""
    code, out, err = run(['inspect', '--json'] + list(extra) + paths)
    try:
        doc = json.loads(out)
    except ValueError:
        result(False, 'identity ' + name, 'inspect --json gave no JSON (exit %s)' % code)
        return None
    bad = [s for s in doc['streams'] if s['records'] != s['events'] + s['duplicates'] + s['errors']]
    t = doc['totals']
    ok = not bad and t['records'] == t['events'] + t['duplicates'] + t['errors']
    result(ok, 'identity ' + name, 'streams %s' % bad if bad else '')
    return doc


def main():
    global BIN
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    BIN = os.path.abspath(sys.argv[1])
    memory = '--no-memory' not in sys.argv[2:]
    work = tempfile.mkdtemp(prefix='ah-hostile-')
    try:
        facts = gen.generate(work, huge_mb=40 if memory else 0)
        cases(work, facts, memory)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print('hostile: %d passed, %d failed' % (passed, failed))
    os.makedirs('build', exist_ok=True)
    with open('build/.results', 'a') as f:
        f.write('hostile %d %d\n' % (passed, failed))
    return 1 if failed else 0


def cases(w, facts, memory):
    p = lambda *names: [os.path.join(w, n) for n in names]  # noqa: E731

    # 1. every input read or reported
    check('nul prefix (512 NULs, plain) read', ['dump'] + p('nul512.jsonl'), 0, stdout_lines=5)
    check('nul prefix (10240 NULs, gzip) read', ['dump'] + p('nul10240.jsonl.gz'), 0, stdout_lines=5)
    check('5000 blank lines before the first record', ['dump'] + p('blank5000.jsonl'), 0,
          stdout_lines=5, stdout_has=[r'"line":5001'])
    check('gzip bomb of newlines read to its records', ['dump'] + p('newline-bomb.jsonl.gz'), 0, stdout_lines=3)
    identity('nul and blank prefixes', p('nul512.jsonl', 'nul10240.jsonl.gz', 'blank5000.jsonl'))

    # 2. truncated gzip: every complete line, then the offset
    check('truncated gzip: every complete record before the cut', ['dump'] + p('cut.jsonl.gz'), 3,
          stderr_has=[r'cut\.jsonl\.gz: truncated gzip data: the input ends at byte 3000 '],
          stdout_lines=facts['cut_lines'])
    doc = identity('truncated gzip', p('cut.jsonl.gz'))
    result(doc is not None and doc['totals']['unreadable_inputs'] == 1, 'truncated gzip is one unreadable input')

    # 3. devices and endless streams
    check('/dev/zero stops at --max-input with its name', ['inspect', '--max-input', '20M', '/dev/zero'], 3,
          stderr_has=[r'/dev/zero: input larger than --max-input \(20971520 bytes\)'], timeout=30)
    check('a file of NULs ends as no record', ['dump'] + p('nuls.jsonl'), 4,
          stderr_has=[r'nuls\.jsonl: no record in this input'], stdout_lines=0)

    # 4. evidence preserved, rules still match
    out, _ = check('NUL and ESC in a field: search still matches', ['search', 'operation == "New-InboxRule"'] +
                   p('ctl.jsonl'), 0, stdout_lines=2)
    out, _ = check('NUL in a field: raw keeps it escaped', ['dump', '--raw'] + p('ctl.jsonl'), 0,
                   stdout_has=[r'New-Inbox\\u0000Rule', r'New-InboxRule\\u0000'], stdout_lines=3)
    result(no_raw_controls(out), 'dump output carries no raw control bytes')
    tl = os.path.join(w, 'ctl-timeline.csv')
    check('NUL in a field: hunt rule hits', ['hunt', '-q', '-r', RULES, '-o', tl] + p('ctl.jsonl'), 0)
    rows = open(tl, 'rb').read() if os.path.exists(tl) else b''
    result(rows.count(b'e2e-inbox-rule') == 2 and no_raw_controls(rows.replace(b'\r\n', b'\n')),
           'timeline rows for both records, no raw control bytes')
    check('inspect counts the NUL characters', ['inspect'] + p('ctl.jsonl'), 0,
          stdout_has=[r'1 NUL characters kept; 3 events with control characters'])

    # 5. escaping
    out, err = check('ESC/BEL in a zip entry name: escaped on stderr and in inspect', ['inspect'] + p('names.zip'),
                     0, stdout_has=[r'evil\\x1b\]0;pwned\\x07\\x1b\[2J\.json'],
                     stderr_has=[r'plain\\x1b\[31mred\.txt'])
    result(no_raw_controls(out), 'inspect output carries no raw control bytes')

    # 6. not logs
    folder = p('case-folder')[0]
    out, err = check('case folder: exports read, notes and binaries not logs', ['inspect', folder], 0,
                     stdout_has=[r'NOT A LOG ELF executable: skipped', r'NOT A LOG Windows event log \(EVTX\): skipped',
                                 r'NOT A LOG text without a record structure: skipped',
                                 r'4 = 4 events', r'; 4 not logs'])
    result(no_raw_controls(out), 'binary inputs: no raw bytes printed')
    doc = identity('case folder', [folder])
    result(doc is not None and doc['totals']['errors'] == 0 and doc['totals']['not_a_log_inputs'] == 4 and
           all(len(f['sha256'] or '') == 64 for f in doc['files']), 'not logs: no record errors, every file hashed')
    check('hunt summary lists not logs once', ['hunt', '-r', RULES, '-o', os.path.join(w, 'cf.csv'), folder], 1,
          stderr_has=[r'not a log, skipped: .*README\.md \(text without a record structure\)'])
    check('named like a log but not one: unreadable', ['dump'] + p('mislabelled.json'), 3,
          stderr_has=[r'mislabelled\.json: not a log \(ELF executable\) although its name says it is one'])
    check('--strict: every not-a-log is an error', ['dump', '--strict', folder], 3,
          stderr_has=[r'error: .*README\.md: not a log'])

    # 7. nothing read
    check('empty directory: warning and exit 4', ['hunt', '-r', RULES, '-o', '-'] + p('empty-dir'), 4,
          stderr_has=[r'empty-dir: no input file in this directory', r'NOTHING READ'])
    check('0-byte file: warning and exit 4', ['dump'] + p('zero.csv'), 4,
          stderr_has=[r'zero\.csv: no record in this input'])
    missing_out = os.path.join(w, 'never.csv')
    check('missing input: refused before writing', ['hunt', '-q', '-r', RULES, '-o', missing_out,
                                                    os.path.join(w, 'no-such.json')] + p('nul512.jsonl'), 3,
          stderr_has=[r'no-such\.json: cannot open'])
    result(not os.path.exists(missing_out) and not [n for n in os.listdir(w) if n.startswith('never.csv')],
           'missing input: no timeline, no temporary file')

    # 8. memory for one huge record
    if memory and facts['huge_mb']:
        gnu_time = shutil.which('time') and os.path.exists('/usr/bin/time')
        if not gnu_time:
            print('  SKIP    memory bound: GNU time (/usr/bin/time) not installed')
            return
        huge = p('huge.jsonl')[0]
        size = os.path.getsize(huge)
        tfile = os.path.join(w, 'time.out')
        code, _, err = run(['--version'])
        # The fit over 20, 40 and 60 MiB records (docs/internals.md "Memory"):
        # peak = 2.0 x record + 10.5 MiB; the bound leaves 5.5 MiB for the allocator.
        bound = 2.0 * size + (16 << 20)
        for fmt in ('csv', 'jsonl'):  # jsonl carries the raw record through the sort
            args = ['/usr/bin/time', '-f', '%M', '-o', tfile, BIN, 'hunt', '-q', '-r', RULES, '-f', fmt, '-o',
                    os.path.join(w, 'timeline-huge.' + fmt), huge]
            p_ = subprocess.run(args, capture_output=True, timeout=TIMEOUT)
            try:
                kb = int(open(tfile).read().split()[-1])
            except (OSError, ValueError, IndexError):
                kb = -1
            result(p_.returncode == 0 and 0 < kb * 1024 <= bound,
                   'hunt -f %s over a %d MiB record: peak %.0f MiB (bound %.0f MiB)' % (
                       fmt, size >> 20, kb / 1024, bound / (1 << 20)),
                   'exit %d' % p_.returncode)


if __name__ == '__main__':
    sys.exit(main())
