#!/usr/bin/env python3
"""make bench: throughput and peak memory of audithound on large synthetic
exports, next to the baselines it names (zlib inflate of the same file on one
core, and zcat). Not a test: nothing here passes or fails.

Data (generated once into bench-data/, deterministic):
  audit.jsonl.gz  AuditData JSON Lines, >= 1 GiB uncompressed (AH_BENCH_MIB to change)
  purview.csv.gz  Purview audit CSV (new layout), a quarter of that
"""
import os, resource, subprocess, sys, time

binary = sys.argv[1]
root = os.path.dirname(os.path.abspath(__file__))
data = os.environ.get('AH_BENCH_DIR', 'bench-data')
mib = int(os.environ.get('AH_BENCH_MIB', '1100'))
os.makedirs(data, exist_ok=True)
gen = os.path.join(data, 'gen_bench')
if not os.path.exists(gen) or os.path.getmtime(gen) < os.path.getmtime(os.path.join(root, 'gen_bench.c')):
    subprocess.run(['cc', '-std=c11', '-D_DEFAULT_SOURCE', '-O2', os.path.join(root, 'gen_bench.c'), '-lz', '-o', gen], check=True)

files = {'jsonl': os.path.join(data, f'audit-{mib}m.jsonl.gz'), 'csv': os.path.join(data, f'purview-{mib // 4}m.csv.gz')}
for kind, path in files.items():
    if not os.path.exists(path):
        subprocess.run([gen, kind, path + '.tmp', str(mib if kind == 'jsonl' else mib // 4)], check=True)
        os.rename(path + '.tmp', path)

def run(cmd, stdout=subprocess.DEVNULL):
    """Wall time and peak RSS (KiB) of one child process."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t0
    err = p.stderr.read().decode(errors='replace')
    p.stderr.close()
    return dt, ru.ru_maxrss, os.waitstatus_to_exitcode(status), err

def uncompressed_size(path):
    out = subprocess.run([gen, 'inflate', path], capture_output=True, text=True, check=True).stdout
    return int(out)

print(f'audithound bench ({os.cpu_count()} cores; one core used by every measurement)')
for kind, path in files.items():
    size = uncompressed_size(path)
    mb = size / 1e6
    t_inf, rss_inf, _, _ = run([gen, 'inflate', path])
    t_zcat, _, _, _ = run(['zcat', path])
    t_dump, rss_dump, rc, err = run([binary, 'dump', '-q', path])
    records = None
    t_insp, _, _, _ = (0, 0, 0, '')
    p = subprocess.run([binary, 'inspect', '--json', '-q', path], capture_output=True, text=True)
    try:
        import json
        records = json.loads(p.stdout)['totals']['records']
    except Exception:
        pass
    print(f'\n{os.path.basename(path)}: {mb:,.0f} MB uncompressed, {records or "?":,} records')
    print(f'  baseline zlib inflate   {mb / t_inf:8.1f} MB/s   {t_inf:6.2f} s')
    print(f'  baseline zcat           {mb / t_zcat:8.1f} MB/s   {t_zcat:6.2f} s')
    rate = f'{records / t_dump:,.0f} records/s' if records else ''
    print(f'  audithound dump         {mb / t_dump:8.1f} MB/s   {t_dump:6.2f} s   {rate}   peak RSS {rss_dump / 1024:.1f} MiB'
          f'   = {100 * t_inf / t_dump:.0f}% of inflate (target >= 25%, RSS < 100 MiB){"" if rc == 0 else f"  [exit {rc}: {err[:200]}]"}')
    rules_dir = os.path.join(os.path.dirname(root), '..', 'rules')
    # the campaign packs alone, then with the entra-m365 pack beside them (its cost)
    single = [os.path.join(rules_dir, p) for p in sorted(os.listdir(rules_dir))
              if p not in ('correlation.rules', 'entra-m365.rules', 'lists')]
    single_args = [a for p in single for a in ('-r', p)]
    em_args = ['-r', os.path.join(rules_dir, 'entra-m365.rules')]
    for label, args in (('hunt, campaign packs', ['hunt', '-q'] + single_args + ['-o', '/dev/null', path]),
                        ('hunt, + entra-m365 pack', ['hunt', '-q'] + single_args + em_args + ['-o', '/dev/null', path]),
                        ('hunt, + correlation rules', ['hunt', '-q', '-r', rules_dir, '-o', '/dev/null', path]),
                        ('hunt --all (every event)', ['hunt', '-q', '-r', rules_dir, '--all', '-f', 'jsonl', '-o', '/dev/null', path]),
                        ('hunt --all, xlsx workbook', ['hunt', '-q', '-r', rules_dir, '--all', '-f', 'xlsx', '-o', '/dev/null', path])):
        t, rss, rc, err = run([binary] + args)
        rate = f'{records / t:,.0f} records/s' if records else ''
        print(f'  audithound {label:<24} {mb / t:6.1f} MB/s   {t:6.2f} s   {rate}   peak RSS {rss / 1024:.1f} MiB'
              f'{"" if rc in (0, 1) else f"  [exit {rc}: {err[:200]}]"}')

# The matcher alone: events/s with 1, 50 and 300 rules that mostly do not match.
lib = os.path.join(os.path.dirname(binary), 'libaudithound.a')
bm = os.path.join(data, 'bench_match')
flags = subprocess.run(['pkg-config', '--cflags', '--libs', 'libpcre2-8', 'libcjson', 'libarchive', 'zlib', 'yaml-0.1', 'xlsxwriter'],
                       capture_output=True, text=True).stdout.split()
if os.path.exists(lib) and subprocess.run(['cc', '-std=c11', '-D_DEFAULT_SOURCE', '-O2', '-I.', os.path.join(root, 'bench_match.c'),
                                          lib] + flags + ['-lm', '-o', bm]).returncode == 0:
    print('\nmatcher (tests/bench/bench_match.c, synthetic events and rules shaped like the packs):')
    sys.stdout.flush()
    subprocess.run([bm])

# Rule loading: lint (load + compile) of 1k, 10k and 100k generated rules, shaped
# like the packs (a quarter each: operation ==, contains + CIDR, in [...] or ==,
# a raw-path regex), 10,000 rules a file (a rule file holds at most 16 MiB).
# The time should grow about linearly with the count.
def rule_dir(n):
    d = os.path.join(data, f'rules-{n // 1000}k')
    if os.path.isdir(d):
        return d
    os.makedirs(d + '.tmp', exist_ok=True)
    for start in range(0, n, 10000):
        out = []
        for i in range(start, min(n, start + 10000)):
            cond = [f'operation == "Op-{i}"',
                    f'user contains "u{i}@" and ip in cidr ["10.{i % 256}.0.0/16"]',
                    f'operation in ["A{i}", "B{i}", "C{i}"] or app == "app-{i}"',
                    f'raw.Parameters[Name="Rule{i}"].Value matches "^x{i}.*$"'][i % 4]
            out.append(f'rule gen-{i:06d} {{\n  title "Generated rule {i}"\n  severity low\n  tags gen t{i % 50}\n'
                       f'  sources ual\n  match {cond}\n  test miss {{"CreationTime": "2021-01-13T16:07:40", '
                       f'"Id": "m{i}", "Operation": "none", "UserId": "a@b.c"}}\n}}\n')
        with open(os.path.join(d + '.tmp', f'part{start // 10000:02d}.rules'), 'w') as f:
            f.write(''.join(out))
    os.rename(d + '.tmp', d)
    return d

curve = []
for n in (1000, 10000, 100000):
    t, rss, rc, err = run([binary, 'lint', rule_dir(n)])
    curve.append(f'{n // 1000}k {t:.2f} s ({rss / 1024:.0f} MiB)' + ('' if rc == 0 else f' [exit {rc}: {err[-200:]}]'))
print('\nrule loading (lint = load + compile, generated rules): ' + ', '.join(curve)
      + f'; {1e6 * t / n:.0f} us/rule at 100k')
