#!/usr/bin/env python3
"""Random-corruption smoke test (make check): damage the project's samples
(bit flips, inserted JSON/CSV punctuation, NULs, deletions, truncation) with a
fixed seed and run `dump --raw` and `hunt --all` over each. Any exit status
other than 0, 1, 3 or 4, a sanitizer report or a hang is a failure. Cheap enough
for every run; long fuzzing is a separate matter.

Usage: corrupt-smoke.py BINARY [ITERATIONS]   (appends "corrupt N M" to build/.results)
"""
import glob, os, random, subprocess, sys, tempfile

binary = sys.argv[1]
iterations = int(sys.argv[2]) if len(sys.argv) > 2 else 120
files = sorted(f for f in glob.glob('samples/tenant/*') + glob.glob('samples/formats/*')
               if os.path.isfile(f) and not f.endswith('.md'))
rng = random.Random(20210113)
work = tempfile.mkdtemp(prefix='ah-corrupt-')
passed = failed = 0
for i in range(iterations):
    src = rng.choice(files)
    data = bytearray(open(src, 'rb').read())
    for _ in range(rng.randint(1, 20)):
        op, pos = rng.random(), rng.randrange(len(data) + 1)
        if op < 0.5 and pos < len(data):
            data[pos] = rng.randrange(256)
        elif op < 0.7:
            data[pos:pos] = bytes(rng.choice(b'{}[]",:\\\n\r\x00\xff') for _ in range(rng.randint(1, 8)))
        elif op < 0.85:
            del data[pos:pos + rng.randint(1, 200)]
        else:
            del data[pos:]
    path = os.path.join(work, 'case%s' % os.path.splitext(src)[1])
    with open(path, 'wb') as f:
        f.write(data)
    for cmd in (['dump', '--raw', path], ['hunt', '-q', '-r', 'rules', '--all', '-f', 'jsonl', path]):
        try:
            p = subprocess.run([binary] + cmd, capture_output=True, timeout=60)
            ok = p.returncode in (0, 1, 3, 4) and b'Sanitizer' not in p.stderr and b'runtime error' not in p.stderr
            why = 'exit %d: %s' % (p.returncode, p.stderr[-400:].decode(errors='replace'))
        except subprocess.TimeoutExpired:
            ok, why = False, 'timed out'
        if ok:
            passed += 1
        else:
            failed += 1
            keep = os.path.join(work, 'failed-%d%s' % (i, os.path.splitext(src)[1]))
            os.rename(path, keep)
            print('  FAIL    %s on damaged %s (kept as %s): %s' % (cmd[0], src, keep, why))
print('corrupt: %d passed, %d failed' % (passed, failed))
os.makedirs('build', exist_ok=True)
with open('build/.results', 'a') as f:
    f.write('corrupt %d %d\n' % (passed, failed))
if not failed:
    for n in os.listdir(work):
        os.unlink(os.path.join(work, n))
    os.rmdir(work)
sys.exit(1 if failed else 0)
