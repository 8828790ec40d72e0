#!/usr/bin/env python3
"""Check that the README's example runs print what the README shows.

Usage: check-readme.py BINARY [README]

Every fenced block whose first line is `$ audithound ...` is run from a scratch
directory that sees the repository's samples/, tests/ and rules/ (so files it
writes land there),
and every line the README shows after the command must appear in the real
output (standard output then standard error), in the same order; a line `...`
stands for lines left out, and `...` inside a line for part of it. A `hunt` without -o or -f shows the terminal story
view, so it is run with `-f story --color never`, which prints exactly that.
Prints PASS/FAIL per block, appends "readme N M" to build/.results.
"""
import os
import shlex
import shutil
import subprocess
import sys
import tempfile


def blocks(text):
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith('```'):
            j = i + 1
            while j < len(lines) and not lines[j].startswith('```'):
                j += 1
            body = lines[i + 1:j]
            if body and body[0].startswith('$ audithound '):
                # one block may show several commands, each with its output
                starts = [k for k, line in enumerate(body) if line.startswith('$ audithound ')] + [len(body)]
                for a, b in zip(starts, starts[1:]):
                    yield i + 2 + a, body[a][2:], body[a + 1:b]
            i = j + 1
        else:
            i += 1


def line_matches(got, want):
    """Equal, or, where the README elides part of a line with `...`, the
    remaining pieces in order."""
    got, want = got.rstrip(), want.rstrip()
    if '...' not in want:
        return got == want
    pos = 0
    pieces = want.split('...')
    for k, piece in enumerate(pieces):
        if not piece:
            continue
        at = got.find(piece, pos)
        if at < 0 or (k == 0 and at != 0):
            return False
        pos = at + len(piece)
    return not pieces[-1] or got.endswith(pieces[-1])


def main():
    binary = os.path.abspath(sys.argv[1])
    readme = sys.argv[2] if len(sys.argv) > 2 else 'README.md'
    root = os.path.abspath(os.path.dirname(readme) or '.')
    passed = failed = 0
    for line_no, command, shown in blocks(open(readme, encoding='utf-8').read()):
        args = shlex.split(command)[1:]
        if args and args[0] == 'hunt' and not ({'-o', '--output', '-f', '--format'} & set(args)):
            args += ['-f', 'story', '--color', 'never']
        with tempfile.TemporaryDirectory() as tmp:
            for d in ('samples', 'tests', 'rules'):
                os.symlink(os.path.join(root, d), os.path.join(tmp, d))
            p = subprocess.run([binary] + args, cwd=tmp, capture_output=True, text=True,
                               env=dict(os.environ, AUDITHOUND_RULES=os.path.join(root, 'rules')))
        out = (p.stdout + p.stderr).splitlines()
        at, missing = 0, None
        for want in shown:
            if want.strip() in ('...', ''):
                continue
            while at < len(out) and not line_matches(out[at], want):
                at += 1
            if at == len(out):
                missing = want
                break
            at += 1
        if missing is None:
            passed += 1
            print(f'  PASS    README.md:{line_no}: {command}')
        else:
            failed += 1
            print(f'  FAIL    README.md:{line_no}: {command}\n          shown but not printed (or out of order): {missing}')
    with open(os.path.join('build', '.results'), 'a') as f:
        f.write(f'readme {passed} {failed}\n')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
