#!/usr/bin/env python3
"""Generate docs/rules-catalogue.md from the shipped rule files.

Usage: gen-catalogue.py BINARY [RULES_DIR] [-o FILE]   (default: rules, standard output)

The rules are read by audithound itself (`audithound lint --json RULES_DIR`
prints every rule's metadata as the compiler understood it), so the catalogue
can never disagree with the parser. Rules are listed per file, in load order.
"""
import json
import os
import re
import subprocess
import sys

SEVERITIES = ['critical', 'high', 'medium', 'low', 'info']


def cell(text):
    return text.replace('|', '\\|').replace('\n', ' ')


def reference(ref):
    return f'<{ref}>' if re.match(r'https?://', ref) else f'`{ref}`'


def load(binary, root):
    p = subprocess.run([binary, 'lint', '--json', root], capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f'gen-catalogue: the rules do not compile:\n{p.stderr}')
    return [json.loads(line) for line in p.stdout.splitlines() if line.strip()]


def outside_links(text):
    """Links (relative to docs/) and `paths` with ../ (relative to the repository
    root) that leave the repository or name no file in it."""
    root = os.path.realpath('.')
    targets = [(os.path.join('docs', t), t) for t in re.findall(r'\]\(([^)#]+)', text)
               if not re.match(r'[a-z]+:', t)]
    targets += [(t, t) for t in re.findall(r'`([^`\s]*\.\./[^`\s]*)`', text)]
    return [shown for path, shown in targets
            if not os.path.realpath(path).startswith(root + os.sep) or not os.path.exists(path)]


def render(rules):
    per_file = {}
    for r in rules:
        per_file.setdefault(r['file'], []).append(r)
    counts = {s: sum(1 for r in rules if r['severity'] == s) for s in SEVERITIES}
    out = ['# Rules catalogue', '',
           'Generated from the rule files under `rules/` by `tests/tools/gen-catalogue.py`;',
           'do not edit by hand. `sh tests/tools/check-catalogue.sh` fails when it is out of date;',
           'regenerate with `make catalogue`.',
           'Indicator numbers (D01..., M01...) are the rules\' `ref.` tags: the entry of the',
           'indicator catalogue each rule implements ([rules.md, Tags](rules.md#tags)); the rule',
           'language is described in [rules.md](rules.md).', '',
           f'{len(rules)} rules in {len(per_file)} files: '
           + ', '.join(f'{counts[s]} {s}' for s in SEVERITIES) + '.', '']
    needing = sorted({v for r in rules for v in r['variables']})
    if needing:
        out += ['Rules with a "Needs" entry use analyst-supplied variables (`--set NAME=VALUE` or',
                '`--vars FILE`); `audithound hunt` skips them, and says so, while a variable is unset.',
                'Variables: ' + ', '.join(f'`{v}`' for v in needing) + '.', '']
    for path, group in per_file.items():
        out += [f'## {os.path.relpath(path)} ({len(group)} rules)', '',
                '| Id | Title | Severity | Status | Indicators | Tags | Sources | Needs | References |',
                '|---|---|---|---|---|---|---|---|---|']
        for r in group:
            refs = [t[4:] for t in r['tags'] if t.lower().startswith('ref.')]
            other = [t for t in r['tags'] if not t.lower().startswith('ref.')]
            out.append('| ' + ' | '.join([
                f'`{r["id"]}`', cell(r['title']), r['severity'], r['status'], ' '.join(refs), ' '.join(other),
                ' '.join(r['sources']), ' '.join(f'`${v}`' for v in sorted(r['variables'])),
                '<br>'.join(cell(reference(x)) for x in r['references']),
            ]) + ' |')
        out.append('')
    return '\n'.join(out)


def main(argv):
    if not argv or argv[0] in ('-h', '--help'):
        print(__doc__.strip())
        return 0 if argv else 2
    binary, args = argv[0], argv[1:]
    root, output = 'rules', None
    while args:
        a = args.pop(0)
        if a == '-o' and args:
            output = args.pop(0)
        else:
            root = a
    text = render(load(binary, root))
    bad = outside_links(text)
    if bad:
        raise SystemExit('gen-catalogue: links outside the repository: ' + ', '.join(sorted(set(bad))))
    if output:
        with open(output, 'w', encoding='utf-8') as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
