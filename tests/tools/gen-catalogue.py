#!/usr/bin/env python3
"""Generate docs/rules-catalogue.md from the shipped rule files.

Usage: gen-catalogue.py [RULES_DIR] [-o FILE]   (default: rules, standard output)

Reads every *.rules file under RULES_DIR the way `audithound lint` loads a
directory (recursive, path order, names starting with '.' skipped) with a
small reader of the rule language's surface syntax (docs/rules.md, Grammar):
it needs the metadata only, so conditions are skipped token by token and
never interpreted. The output is deterministic, so check-catalogue.sh can
diff it with the committed file.
"""
import os
import re
import sys

TEXT_KEYS = {'title', 'description', 'note', 'author', 'details'}
WORD_KEYS = {'severity', 'status', 'date', 'modified', 'version'}
LIST_KEYS = {'tags', 'references', 'falsepositives', 'sources'}
ALL_KEYS = TEXT_KEYS | WORD_KEYS | LIST_KEYS | {'match', 'test'}
SEVERITIES = ['critical', 'high', 'medium', 'low', 'info']
WORD_CHARS = re.compile(r'[A-Za-z0-9_.:\-]')


class RuleFileError(Exception):
    pass


class Reader:
    """Character cursor over one rule file, with the lexical rules that
    matter for skipping: comments, strings, triple-quoted text, regexes
    and inline JSON."""

    def __init__(self, text, path):
        self.s = text
        self.i = 0
        self.path = path

    def error(self, msg):
        line = self.s.count('\n', 0, self.i) + 1
        raise RuleFileError(f'{self.path}:{line}: {msg}')

    def peek(self, n=1):
        return self.s[self.i:self.i + n]

    def at_end(self):
        return self.i >= len(self.s)

    def skip_space(self, newlines=True):
        while not self.at_end():
            c = self.s[self.i]
            if c == '#':
                while not self.at_end() and self.s[self.i] != '\n':
                    self.i += 1
            elif c in ' \t\r' or (newlines and c == '\n'):
                self.i += 1
            else:
                break

    def word(self):
        start = self.i
        while not self.at_end() and WORD_CHARS.match(self.s[self.i]):
            self.i += 1
        return self.s[start:self.i]

    def string(self):
        """A "..." string (escapes decoded) or a \"\"\"...\"\"\" text block
        (no escapes, common indentation and blank edge lines removed)."""
        if self.peek(3) == '"""':
            end = self.s.find('"""', self.i + 3)
            if end < 0:
                self.error('unterminated """ text')
            body = self.s[self.i + 3:end]
            self.i = end + 3
            return dedent_block(body)
        if self.peek() != '"':
            self.error('expected a string')
        self.i += 1
        out = []
        while True:
            if self.at_end() or self.s[self.i] == '\n':
                self.error('unterminated string')
            c = self.s[self.i]
            if c == '"':
                self.i += 1
                return ''.join(out)
            if c == '\\':
                nxt = self.s[self.i + 1:self.i + 2]
                if nxt == 'u':
                    out.append(chr(int(self.s[self.i + 2:self.i + 6], 16)))
                    self.i += 6
                    continue
                out.append({'n': '\n', 't': '\t', 'r': '\r', 'b': '\b', 'f': '\f'}.get(nxt, nxt))
                self.i += 2
                continue
            out.append(c)
            self.i += 1

    def regex(self):
        self.i += 1  # opening slash
        while True:
            if self.at_end() or self.s[self.i] == '\n':
                self.error('unterminated regex')
            c = self.s[self.i]
            if c == '\\':
                self.i += 2
                continue
            self.i += 1
            if c == '/':
                break
        self.word()  # flags

    def json_value(self):
        """Skip one inline JSON object, honouring strings."""
        depth = 0
        while not self.at_end():
            c = self.s[self.i]
            if c == '"':
                self.i += 1
                while not self.at_end() and self.s[self.i] != '"':
                    self.i += 2 if self.s[self.i] == '\\' else 1
                self.i += 1
                continue
            self.i += 1
            if c in '{[':
                depth += 1
            elif c in '}]':
                depth -= 1
                if depth == 0:
                    return
        self.error('unterminated inline JSON')

    def line_words(self):
        """Words and quoted strings up to the end of the line."""
        items = []
        while True:
            self.skip_space(newlines=False)
            if self.at_end() or self.peek() == '\n':
                return items
            if self.peek() == '"':
                items.append(self.string())
                continue
            start = self.i
            while not self.at_end() and self.s[self.i] not in ' \t\r\n"#{}':
                self.i += 1
            if self.i == start:
                self.error(f'unexpected {self.peek()!r} in a word list')
            items.append(self.s[start:self.i])

    def expression(self):
        """Skip a match condition: it ends where the next key or the
        rule's closing brace begins. Returns the $variables it uses."""
        variables = []
        prev = ''
        while True:
            self.skip_space()
            if self.at_end():
                self.error('unterminated rule')
            c = self.peek()
            if c == '}':
                return variables
            if c == '"':
                self.string()
                prev = 'string'
            elif c == '/' and prev == 'matches':
                self.regex()
                prev = 'regex'
            elif c == '$':
                self.i += 1
                variables.append(self.word())
                prev = 'var'
            elif WORD_CHARS.match(c):
                start = self.i
                w = self.word()
                after_dot = start > 0 and self.s[start - 1] == '.'
                if w in ALL_KEYS and not after_dot:
                    self.i = start
                    return variables
                prev = w
            else:
                self.i += 1
                prev = c


def dedent_block(body):
    lines = body.split('\n')
    if lines and not lines[0].strip():
        lines = lines[1:]
    if lines and not lines[-1].strip():
        lines = lines[:-1]
    indents = [len(ln) - len(ln.lstrip(' ')) for ln in lines if ln.strip()]
    cut = min(indents) if indents else 0
    return '\n'.join(ln[cut:] for ln in lines)


def parse_file(path):
    with open(path, encoding='utf-8') as f:
        r = Reader(f.read(), path)
    rules = []
    while True:
        r.skip_space()
        if r.at_end():
            return rules
        if r.word() != 'rule':
            r.error("expected 'rule'")
        r.skip_space()
        rule = {'id': r.word(), 'file': path, 'variables': []}
        for k in LIST_KEYS:
            rule[k] = []
        r.skip_space()
        if r.peek() != '{':
            r.error("expected '{'")
        r.i += 1
        while True:
            r.skip_space()
            if r.peek() == '}':
                r.i += 1
                break
            key = r.word()
            if key in TEXT_KEYS:
                parts = []
                while True:
                    r.skip_space()
                    if r.peek() != '"':
                        break
                    parts.append(r.string())
                rule[key] = ''.join(parts)
            elif key in WORD_KEYS:
                words = r.line_words()
                rule[key] = words[0] if words else ''
            elif key in LIST_KEYS:
                rule[key].extend(r.line_words())
            elif key == 'match':
                rule['variables'] += r.expression()
            elif key == 'test':
                r.skip_space()
                kind = r.word()
                r.skip_space()
                if kind == 'set':
                    rule['variables'].append(r.word())
                    r.skip_space()
                    r.string()
                elif r.peek() == '"':
                    r.string()
                else:
                    r.json_value()
            else:
                r.error(f'unknown key {key!r}')
        rules.append(rule)


def rule_files(root):
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith('.'))
        for n in filenames:
            if n.endswith('.rules') and not n.startswith('.'):
                found.append(os.path.join(dirpath, n))
    return sorted(found)


def cell(text):
    return text.replace('|', '\\|').replace('\n', ' ')


def reference(ref):
    if re.match(r'https?://', ref):
        return f'<{ref}>'
    return f'`{ref}`'


def render(root):
    files = rule_files(root)
    per_file = [(p, parse_file(p)) for p in files]
    everything = [r for _, rules in per_file for r in rules]
    counts = {s: 0 for s in SEVERITIES}
    for r in everything:
        counts[r.get('severity', '')] = counts.get(r.get('severity', ''), 0) + 1

    out = ['# Rules catalogue', '',
           'Generated from the rule files under `rules/` by `tests/tools/gen-catalogue.py`;',
           'do not edit by hand. `sh tests/tools/check-catalogue.sh` fails when it is out of date;',
           'regenerate with `python3 tests/tools/gen-catalogue.py > docs/rules-catalogue.md`.',
           'Indicator numbers (D01..., M01...) refer to `../shared/docs/indicators.md`; the rule',
           'language is described in `docs/rules.md`.', '',
           f'{len(everything)} rules in {len(files)} files: '
           + ', '.join(f'{counts[s]} {s}' for s in SEVERITIES) + '.', '']

    needing = sorted({v for r in everything for v in r['variables']})
    if needing:
        out += ['Rules with a "Needs" entry use analyst-supplied variables (`--set NAME=VALUE` or',
                '`--vars FILE`); `audithound hunt` skips them, and says so, while a variable is unset.',
                'Variables: ' + ', '.join(f'`{v}`' for v in needing) + '.', '']

    for path, rules in per_file:
        rel = os.path.relpath(path)
        out += [f'## {rel} ({len(rules)} rules)', '',
                '| Id | Title | Severity | Status | Indicators | Tags | Sources | Needs | References |',
                '|---|---|---|---|---|---|---|---|---|']
        for r in rules:
            tags = r['tags']
            refs = [t[4:] for t in tags if t.lower().startswith('ref.')]
            other = [t for t in tags if not t.lower().startswith('ref.')]
            variables = sorted(set(r['variables']))
            out.append('| ' + ' | '.join([
                f'`{r["id"]}`',
                cell(r.get('title', '')),
                r.get('severity', ''),
                r.get('status', ''),
                ' '.join(refs),
                ' '.join(other),
                ' '.join(r['sources']),
                ' '.join(f'`${v}`' for v in variables),
                '<br>'.join(cell(reference(x)) for x in r['references']),
            ]) + ' |')
        out.append('')
    return '\n'.join(out)


def main(argv):
    root, output = 'rules', None
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == '-o':
            if not args:
                sys.exit('gen-catalogue: -o needs a file name')
            output = args.pop(0)
        elif a in ('-h', '--help'):
            print(__doc__.strip())
            return 0
        else:
            root = a
    try:
        text = render(root)
    except (RuleFileError, OSError) as e:
        print(f'gen-catalogue: {e}', file=sys.stderr)
        return 2
    if output:
        with open(output, 'w', encoding='utf-8') as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
