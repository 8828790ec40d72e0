#!/usr/bin/env python3
"""run.py: allocation-failure test (make oom-check; tests/oom/alloc_fail.c).

    python3 tests/oom/run.py OOM_BINARY [--runs R] [--seed S] [--only CASE]

OOM_BINARY is build/.../oom/audithound, linked with the failing allocator.
For each case (a hunt over samples/tenant with a small rule file, the same
hunt with the shipped packs, a dump), one run without failure counts the
allocations (K) and gives the expected exit status and output; then runs
with the N-th allocation failing (and, for about a quarter of them, every
allocation from the N-th on), N all of the case's range when its share of
R runs covers it, else the first 16 and the rest spread over it with a
seeded jitter. The small hunt takes 75 % of R, so that with R >= 600 every
allocation of its run phase fails once (444 of them today); the others
share the rest. Each run must:
  - end by itself (no signal, no timeout) with no sanitizer report;
  - either end as the unfailed run did (same exit status, same output) or
    end with exit status 6 and "out of memory" on standard error, leaving
    no file under the -o name.
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
EXIT_USAGE = 2
RULES_FAILED = re.compile(rb'error\(s\) in the rules; nothing was run|out of memory')
TIMEOUT = 60
SANITIZER = re.compile(rb'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:')


def cases(tmp):
    out = os.path.join(tmp, 'timeline.csv')
    common = ['hunt', '--threads', '1', '-q', '-o', out]
    small = common + ['-r', 'tests/e2e/data/hunt.rules', 'samples/tenant']
    shipped = common + ['--vars', 'samples/contoso.vars', 'samples/tenant']
    # (name, arguments, output file, weight in the runs left (0: the first 70 %), phase)
    return [
        ('hunt-small', small, out, 0, 'run'),
        ('hunt', shipped, out, 5, 'run'),
        ('dump', ['dump', 'samples/tenant'], None, 1, 'all'),
        ('rules-small', small, out, 1, 'rules'),
        ('rules', shipped, out, 1, 'rules'),
    ]


def run(binary, args, out, report, fail_at=0, after=False):
    env = dict(os.environ)
    env.pop('AH_OOM_FAIL_AT', None)
    env.pop('AH_OOM_MODE', None)
    env['AH_OOM_REPORT'] = report
    env['AUDITHOUND_RULES'] = os.path.abspath('rules')  # the shipped packs and lists, wherever the binary is
    if fail_at:
        env['AH_OOM_FAIL_AT'] = str(fail_at)
        if after:
            env['AH_OOM_MODE'] = 'after'
    if out and os.path.exists(out):
        os.unlink(out)
    if os.path.exists(report):
        os.unlink(report)
    try:
        p = subprocess.run([binary] + args, env=env, capture_output=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return None, b'', b'timeout', None, None
    data = p.stdout
    if out:
        data = open(out, 'rb').read() if os.path.exists(out) else None
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
        all_cases = [c for c in cases(tmp) if not only or c[0] == only]
        # hunt-small takes up to 75 % of the runs (all of its run phase when they
        # cover it: every allocation of one small hunt); the others share the rest.
        first = [c for c in all_cases if c[3] == 0]
        rest = [c for c in all_cases if c[3] > 0]
        left = runs - (int(runs * 0.75) if first else 0)
        weight = sum(c[3] for c in rest) or 1
        for name, args, out, w, phase in all_cases:
            base_rc, base_out, base_err, counts, _ = run(binary, args, out, report)
            k, mark = counts.get('calls', 0), counts.get('hunt', 0)
            if base_rc not in (0, 1) or base_out is None or not k or (phase != 'all' and not mark):
                failed += 1
                print('  FAIL    oom %s: the unfailed run ended %s: %s' % (name, base_rc, base_err[-300:]))
                continue
            share = int(runs * 0.75) if w == 0 else max(8, left * w // weight)
            lo, hi = {'all': (1, k), 'run': (mark + 1, k), 'rules': (1, mark)}[phase]
            ns = choose(lo, hi, share, rng)
            bad = 0
            nomem = 0
            for n in ns:
                after = rng.random() < 0.25
                rc, data, err, _, nfailed = run(binary, args, out, report, n, after)
                why = None
                if rc is None:
                    why = 'timeout'
                elif rc < 0 or rc >= 128:
                    why = 'killed by signal %d' % (-rc if rc < 0 else rc - 128)
                elif SANITIZER.search(err):
                    why = 'sanitizer report'
                elif rc == base_rc and data == base_out:
                    pass
                elif rc == EXIT_NOMEM and b'out of memory' in err and (out is None or data is None):
                    nomem += 1
                elif rc == EXIT_NOMEM:
                    why = 'exit 6 without the message, or a file left under the output name'
                elif phase == 'rules' and rc == EXIT_USAGE and RULES_FAILED.search(err) and data is None:
                    nomem += 1  # not yet exit 6 (see the docstring), but never silent
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
