#!/usr/bin/env python3
"""gen_rules.py: N generated rules for `make bench` (how hunt's cost grows with
the rule count).

    python3 tests/bench/gen_rules.py N OUTDIR [SEED]

Writes OUTDIR/generated.rules (deterministic for a given N and SEED). The mix
is shaped like the shipped packs, mostly missing on the bench data (one rule
in 50 is a narrow test that some records pass, so hits are written too):
  40 %  pinned to an operation (those of the bench data and made-up ones),
        then a test on user, address, a raw path or the record text
  30 %  not pinned, literals: user agent fragments, app ids, address ranges,
        `raw contains`
  30 %  not pinned, PCRE2 regexes on user agent, target, raw paths
Standard library only.
"""
import os, random, sys

# Operations of tests/bench/gen_bench.c's records, and others that no record has.
REAL_OPS = ['MailItemsAccessed', 'FileAccessed', 'UserLoggedIn', 'UserLoginFailed', 'Update user.']
MADE_UP_OPS = ['New-InboxRule', 'Set-Mailbox', 'Add member to role.', 'Consent to application.',
               'Add service principal credentials.', 'Set domain authentication.', 'FileDownloaded',
               'SearchQueryPerformed', 'Add-MailboxPermission', 'Update application.']


def word(rng, n=8):
    return ''.join(rng.choice('abcdefghijklmnopqrstuvwxyz0123456789') for _ in range(n))


def guid(rng):
    h = '%032x' % rng.getrandbits(128)
    return f'{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}'


def pinned(rng, i):
    op = rng.choice(REAL_OPS) if rng.random() < 0.6 else rng.choice(MADE_UP_OPS)
    test = rng.choice([
        f'user == "u{i}-{word(rng, 4)}@contoso.com"',
        f'ip in cidr ["10.{i % 256}.{rng.randrange(256)}.0/24"]',
        f'raw.ClientInfoString contains "Client={word(rng, 6)}"',
        f'raw.ExtendedProperties[Name="UserAgent"].Value contains "{word(rng, 7)}"',
        f'raw contains "{word(rng, 10)}"',
        f'result == "failure" and user endswith "@{word(rng, 6)}.com"',
        f'user == "nobody{i}@contoso.com"',
    ])
    return f'operation == "{op}" and {test}'


def literal(rng, i):
    return rng.choice([
        f'user_agent contains "{word(rng, 9)}"',
        f'app_id == "{guid(rng)}"',
        f'app_id in ["{guid(rng)}", "{guid(rng)}", "{guid(rng)}"]',
        f'ip in cidr ["{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.0/24", "2001:db8:{i:x}::/48"]',
        f'raw contains "{word(rng, 12)}"',
        f'target == "{word(rng, 10)}@contoso.com"',
        f'user startswith "{word(rng, 7)}"',
    ])


def regex(rng, i):
    return rng.choice([
        f'user_agent matches /{word(rng, 5)}[-_ ][0-9]+\\.[0-9]+/',
        f'target matches /^{word(rng, 4)}.*@{word(rng, 5)}\\./',
        f'raw.ObjectId matches "report-{i}[0-9]{{5}}\\\\.xlsx$"',
        f'raw.ClientInfoString matches /Client=(?:{word(rng, 5)}|{word(rng, 5)});/',
        f'user matches /^(?:{word(rng, 4)}|{word(rng, 4)})[0-9]*@/',
        f'raw.Folders[*].Path matches /{word(rng, 6)}/',
    ])


def hitting(rng, i):
    """One rule in 50: a narrow test that some bench records pass."""
    users = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi']
    return [f'operation == "UserLoginFailed" and user == "{users[i % 8]}@contoso.com" and ip in cidr ["192.0.2.{i % 64 * 4}/30"]',
            f'raw.SourceFileName matches /^report-{i % 5000}\\.xlsx$/',
            f'user_agent contains "Chrome/87.0.4280.141" and ip == "203.0.113.{i % 250}" and user == "{users[i % 8]}@contoso.com"'
            ][i // 50 % 3]


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    n, out = int(sys.argv[1]), sys.argv[2]
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) == 4 else 20261207)
    rules = []
    for i in range(n):
        r = rng.random()
        cond = (hitting(rng, i) if i % 50 == 7 else pinned(rng, i) if r < 0.4 else literal(rng, i) if r < 0.7
                else regex(rng, i))
        rules.append(f'rule bench-gen-{i:05d} {{\n  title    "Generated rule {i}"\n'
                     f'  severity {rng.choice(["low", "medium", "high"])}\n  tags     bench attack.t1078\n'
                     f'  sources  ual\n  match    {cond}\n}}\n')
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, 'generated.rules'), 'w') as f:
        f.write(''.join(rules))


if __name__ == '__main__':
    main()
