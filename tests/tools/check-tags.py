#!/usr/bin/env python3
"""Check the ATT&CK tags of rule files (docs/rules.md "Tags").

Usage: check-tags.py BINARY [RULES...]   (default: rules)

Every rule must carry at least one tactic tag (`attack.<tactic>`, a tactic of
the ATT&CK Enterprise matrix as Sigma writes it: lowercase, hyphenated) and at
least one technique tag (`attack.tNNNN` or `attack.tNNNN.NNN`). Every `attack.`
tag must be one of these two forms, in lowercase, and a tactic must not be
written as a bare word (`persistence` instead of `attack.persistence`). The
rules are read by audithound itself (`lint --json`), as the catalogue is.
Exit 0 when every rule passes, 1 with one line per problem otherwise.
"""
import json
import re
import subprocess
import sys

TACTICS = ['reconnaissance', 'resource-development', 'initial-access', 'execution', 'persistence',
           'privilege-escalation', 'defense-evasion', 'credential-access', 'discovery', 'lateral-movement',
           'collection', 'command-and-control', 'exfiltration', 'impact']
TECHNIQUE = re.compile(r'^attack\.t\d{4}(\.\d{3})?$')


def problems(rule):
    tags = rule['tags']
    out = []
    tactics = [t for t in tags if t.startswith('attack.') and t[7:] in TACTICS]
    techniques = [t for t in tags if TECHNIQUE.match(t)]
    for t in tags:
        low = t.lower()
        if low.startswith('attack.') and t not in tactics and t not in techniques:
            out.append(f'tag {t!r} is neither a lowercase ATT&CK tactic nor a technique id (attack.t1098.001)')
        elif low in TACTICS or low.replace('_', '-') in TACTICS:
            out.append(f'bare tactic {t!r}: write attack.{low.replace("_", "-")}')
    if not tactics:
        out.append('no ATT&CK tactic tag (attack.persistence, attack.credential-access, ...)')
    if not techniques:
        out.append('no ATT&CK technique tag (attack.t1098.001, ...)')
    return out


def main(argv):
    if not argv or argv[0] in ('-h', '--help'):
        print(__doc__.strip())
        return 0 if argv else 2
    binary, roots = argv[0], argv[1:] or ['rules']
    p = subprocess.run([binary, 'lint', '--json'] + roots, capture_output=True, text=True)
    if p.returncode != 0:
        print(f'check-tags: the rules do not compile:\n{p.stderr}', file=sys.stderr)
        return 1
    rules = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
    bad = 0
    for r in rules:
        for msg in problems(r):
            print(f'{r["file"]}:{r["line"]}: rule {r["id"]}: {msg}', file=sys.stderr)
            bad += 1
    if not rules:
        print('check-tags: no rules found', file=sys.stderr)
        return 1
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
