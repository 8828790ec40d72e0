#!/usr/bin/env python3
"""Check that the options the documentation names are options the binary takes.

Usage: check-doc-options.py BINARY [FILE...]   (default: README.md docs/*.md)

Looked at: inline code spans that start with an option (`--force`, `-C/--clobber`,
`--tz ZONE`), which must be an option of some subcommand; and command lines in
fenced code blocks (`audithound CMD ...` or `$ audithound CMD ...`), whose options
must be options of that subcommand. Options are read from `audithound CMD --help`.
Prints PASS/FAIL, appends "doc-options N M" to build/.results.
"""
import glob
import os
import re
import shlex
import subprocess
import sys

OPTION_LINE = re.compile(r'^\s+(?:(-\w), )?(--[a-z0-9][a-z0-9-]*)|^\s+(-\w)\s')


def help_text(binary, *args):
    return subprocess.run([binary, *args], capture_output=True, text=True).stdout


def options_of(binary):
    main = help_text(binary, '--help')
    commands = []
    in_cmds = False
    for line in main.splitlines():
        if line.startswith('commands:'):
            in_cmds = True
        elif in_cmds and line.strip():
            commands.append(line.split()[0])
        elif in_cmds:
            break
    per_cmd = {}
    for cmd in commands:
        opts = {'-h', '--help'}
        for line in help_text(binary, *cmd.split(), '--help').splitlines():
            m = OPTION_LINE.match(line)
            if m:
                opts.update(o for o in m.groups() if o)
        per_cmd[cmd] = opts
    return per_cmd


def spans(text):
    """Inline code spans outside fenced blocks, and the fenced blocks' lines."""
    inline, fenced, in_fence = [], [], False
    for no, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith('```'):
            in_fence = not in_fence
            continue
        if in_fence:
            fenced.append((no, line))
        else:
            inline += [(no, s) for s in re.findall(r'`([^`]+)`', line)]
    return inline, fenced


def main(argv):
    binary = argv[0]
    files = argv[1:] or ['README.md'] + sorted(glob.glob('docs/*.md'))
    per_cmd = options_of(binary)
    every = set().union(*per_cmd.values())
    problems = []
    for path in files:
        with open(path, encoding='utf-8') as f:
            inline, fenced = spans(f.read())
        for no, s in inline:
            if not re.match(r'-{1,2}[A-Za-z]', s):
                continue
            # long options, and a short one only as -X/--long (`-N` may be a suffix, `-Werror` cc's)
            for opt in re.findall(r'(?:^|[/ ])(--[A-Za-z][A-Za-z0-9-]*|-[A-Za-z](?=/--))', s):
                if opt not in every:
                    problems.append(f'{path}:{no}: `{s}`: no subcommand takes {opt}')
        for no, line in fenced:
            m = re.match(r'\s*(?:\$ )?audithound ([a-z-]+(?: convert)?)\b(.*)', line)
            if not m or m.group(1) not in per_cmd:
                continue
            try:
                words = shlex.split(m.group(2), comments=False)
            except ValueError:
                words = m.group(2).split()
            for w in words:
                if w in ('|', '>', '&&', ';'):
                    break  # the rest is another command
                opt = w.split('=', 1)[0]
                if re.match(r'-{1,2}[A-Za-z]', opt) and opt not in per_cmd[m.group(1)]:
                    problems.append(f'{path}:{no}: audithound {m.group(1)} does not take {opt}')
    for p in problems:
        print('  FAIL    ' + p)
    ok = not problems
    if ok:
        print(f'  PASS    options named in {len(files)} documents are options of the binary')
    os.makedirs('build', exist_ok=True)
    with open('build/.results', 'a') as f:
        f.write(f'doc-options {int(ok)} {int(not ok)}\n')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
