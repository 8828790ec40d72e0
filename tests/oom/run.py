#!/usr/bin/env python3
"""run.py: allocation-failure test (make oom-check; tests/oom/alloc_fail.c).

    python3 tests/oom/run.py OOM_BINARY [--runs R] [--seed S] [--only CASE]

OOM_BINARY is build/.../oom/audithound, linked with the failing allocator.
Cases: a hunt over samples/tenant with a small rule file, split into its
run phase and its rule-loading phase (before ah_hunt_new: reading, parsing
and compiling the rules); the same hunt with the shipped packs (both
phases); a dump; lint --explain-all and lint --json (the explanation and
metadata documents); lint over Sigma files and sigma convert (the Sigma
translation); a hunt with --summary (the JSON summary, compared with its
clock fields masked). For each case, one run without failure counts the
allocations (K) and gives the expected exit status and output; then runs
with the N-th allocation failing (and, for about a quarter of them, every
allocation from the N-th on), N over the case's phase: all of it when the
case's share of R runs covers it, else the first 16 and the rest spread
over it with a seeded jitter. With R >= 900 (make oom-check) every
allocation of the small hunt's run phase (446 today) and of its rule
loading (158) fails once. Each run must:
  - end by itself (no signal, no timeout) with no sanitizer report;
  - either end as the unfailed run did (same exit status, same output) or
    end with exit status 6 and "out of memory" on standard error, leaving
    no file under the compared names (-o, --summary). An allocation failure
    while loading rules is out of memory too, never "errors in the rules"
    (exit 2).
Prints a FAIL line per bad run (with N and mode, to reproduce:
AH_OOM_FAIL_AT=N [AH_OOM_MODE=after] OOM_BINARY ARGS), then
"oom: P passed, F failed"; appends "oom P F" to build/.results.
"""

import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

EXIT_NOMEM = 6
TIMEOUT = 60
SANITIZER = re.compile(rb'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:')


def cases(tmp):
    out = os.path.join(tmp, 'timeline.csv')
    summary = os.path.join(tmp, 'summary.json')
    common = ['hunt', '--threads', '1', '-q', '-o', out]
    small = common + ['-r', 'tests/e2e/data/hunt.rules', 'samples/tenant']
    shipped = common + ['--vars', 'samples/contoso.vars', 'samples/tenant']
    sigma = sorted(os.path.join('tests/data/sigma/hunt', f) for f in os.listdir('tests/data/sigma/hunt'))
    # (name, arguments, files compared (none: standard output), phase, share of the runs)
    return [
        ('hunt-small', small, [out], 'run', 0.53),
        ('rules-small', small, [out], 'rules', 0.20),
        ('hunt', shipped, [out], 'run', 0.04),
        ('rules', shipped, [out], 'rules', 0.04),
        ('dump', ['dump', 'samples/tenant'], [], 'all', 0.02),
        ('lint-explain', ['lint', '--explain-all', 'tests/e2e/data/hunt.rules'], [], 'all', 0.03),
        ('lint-json', ['lint', '--json', 'tests/e2e/data/hunt.rules'], [], 'all', 0.02),
        ('lint-sigma', ['lint', 'tests/data/sigma/hunt'], [], 'all', 0.03),
        ('sigma-convert', ['sigma', 'convert'] + sigma, [], 'all', 0.03),
        ('summary', small[:-1] + ['--summary', summary, 'samples/tenant'], [summary], 'run', 0.04),
        ('search', ['search', '--explain', 'operation == "New-InboxRule" and raw.Parameters[Name="ForwardTo"].Value '
                    'exists', 'samples/tenant'], [], 'all', 0.02),
    ]


# What differs from run to run in a summary: the clock.
UNSTABLE = re.compile(rb'"(started|finished)":"[^"]*"|"elapsed_seconds":[0-9.]+')


def run(binary, args, outs, report, fail_at=0, after=False):
    """(exit status, compared output or None when a file is missing, stderr, counts, failed)."""
    env = dict(os.environ)
    env.pop('AH_OOM_FAIL_AT', None)
    env.pop('AH_OOM_MODE', None)
    env['AH_OOM_REPORT'] = report
    env['AUDITHOUND_RULES'] = os.path.abspath('rules')  # the shipped packs and lists, wherever the binary is
    if fail_at:
        env['AH_OOM_FAIL_AT'] = str(fail_at)
        if after:
            env['AH_OOM_MODE'] = 'after'
    for f in os.listdir(os.path.dirname(report)):  # the report and every output of the run before
        os.unlink(os.path.join(os.path.dirname(report), f))
    try:
        p = subprocess.run([binary] + args, env=env, capture_output=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return None, b'', b'timeout', None, None
    data = p.stdout
    if outs:
        data = b''.join(UNSTABLE.sub(b'', open(o, 'rb').read()) for o in outs) if all(
            os.path.exists(o) for o in outs) else None
    counts = {}
    if os.path.exists(report):
        for line in open(report):
            k, v = line.split()
            counts[k] = int(v)
    return p.returncode, data, p.stderr, counts, counts.get('failed')


def choose(lo, hi, share, rng):
    """N in lo..hi: all of them when the share covers them, else the first 16 and a jittered spread."""
    k = hi - lo + 1
    if k <= share:
        return list(range(lo, hi + 1))
    ns = set(range(lo, lo + 16))
    rest = share - len(ns)
    step = (k - 16) / rest
    for i in range(rest):
        ns.add(min(hi, lo + 16 + int(i * step + rng.random() * step)))
    return sorted(ns)


def main():
    argv = sys.argv[1:]
    if not argv:
        sys.exit(__doc__)
    binary = os.path.abspath(argv[0])
    runs, seed, only = 240, 20261207, None
    i = 1
    while i < len(argv):
        if argv[i] == '--runs':
            runs = int(argv[i + 1])
        elif argv[i] == '--seed':
            seed = int(argv[i + 1])
        elif argv[i] == '--only':
            only = argv[i + 1]
        i += 2
    rng = random.Random(seed)
    passed = failed = 0
    tmp = tempfile.mkdtemp(prefix='audithound-oom-')
    report = os.path.join(tmp, 'report')
    try:
        for name, args, outs, phase, frac in [c for c in cases(tmp) if not only or c[0] == only]:
            base_rc, base_out, base_err, counts, _ = run(binary, args, outs, report)
            k, mark = counts.get('calls', 0), counts.get('hunt', 0)
            if base_rc not in (0, 1) or base_out is None or not k or (phase != 'all' and not mark):
                failed += 1
                print('  FAIL    oom %s: the unfailed run ended %s: %s' % (name, base_rc, base_err[-300:]))
                continue
            share = max(8, int(runs * frac))
            lo, hi = {'all': (1, k), 'run': (mark + 1, k), 'rules': (1, mark)}[phase]
            ns = choose(lo, hi, share, rng)
            bad = 0
            nomem = 0
            for n in ns:
                after = rng.random() < 0.25
                rc, data, err, _, nfailed = run(binary, args, outs, report, n, after)
                why = None
                if rc is None:
                    why = 'timeout'
                elif rc < 0 or rc >= 128:
                    why = 'killed by signal %d' % (-rc if rc < 0 else rc - 128)
                elif SANITIZER.search(err):
                    why = 'sanitizer report'
                elif rc == base_rc and data == base_out:
                    pass
                elif rc == EXIT_NOMEM and b'out of memory' in err and (not outs or data is None):
                    nomem += 1
                elif rc == EXIT_NOMEM:
                    why = 'exit 6 without the message, or a file left under the output name'
                else:
                    why = 'exit %d (unfailed: %d), output %s' % (
                        rc, base_rc, 'the same' if data == base_out else 'different')
                if why:
                    bad += 1
                    if bad <= int(os.environ.get('OOM_SHOW', '10')):
                        print('  FAIL    oom %s N=%d%s (%s failed): %s\n          %s' % (
                            name, n, ' after' if after else '', nfailed, why,
                            err.decode('utf-8', 'replace').strip()[-400:].replace('\n', '\n          ')))
            if bad:
                failed += 1
                print('  FAIL    oom %s: %d of %d runs bad (K=%d allocations)' % (name, bad, len(ns), k))
            else:
                passed += 1
                print('  PASS    oom %s: %d runs over K=%d allocations, %d out of memory, %d as unfailed' % (
                    name, len(ns), k, nomem, len(ns) - nomem))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print('oom: %d passed, %d failed' % (passed, failed))
    os.makedirs('build', exist_ok=True)
    with open('build/.results', 'a') as f:
        f.write('oom %d %d\n' % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
