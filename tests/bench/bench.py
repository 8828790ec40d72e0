#!/usr/bin/env python3
"""make bench: throughput and peak memory of audithound on large synthetic
exports, side by side with inflating the same file alone (zlib and ISA-L's
igzip) in one run. Not a test: nothing here passes or fails.

Every figure is CPU time (user + sys of the child, from wait4), not wall
time: the machine may be shared, and CPU time does not count the time
other processes held the cores. MB/s and records/s are per CPU second;
"of zlib" is the CPU time of zlib inflate over that of the row (1.00 =
as fast as inflating the file with zlib, higher = faster). Peak RSS is
/usr/bin/time's (see run()).

The single-core rows run `--threads 1`; the thread rows at the end compare
wall times of --threads 1 and 2 (the only figures where wall time is the
point), best of two runs: they need the other core idle to mean anything.

Data (generated once into AH_BENCH_DIR, default bench-data/, deterministic):
  audit-<MIB>m.jsonl.gz    AuditData JSON Lines, AH_BENCH_MIB MiB uncompressed (default 1100)
  purview-<MIB/4>m.csv.gz  Purview audit CSV (new layout), a quarter of that
  audit-<MIB/4>m-part<K>.jsonl.gz  four files of a quarter each, no record shared (threads over inputs)
  audit-<MIB/8>m-eighth<K>.jsonl.gz  eight files of an eighth each (the merge of eight partials)
Built from the tree into build/bench/: the igzip inflater (inflate_isal.c),
the shipped rules without correlation rules, and 100 and 1,000 generated
rules (gen_rules.py, fixed seed).
"""
import json, os, re, resource, shutil, subprocess, sys, time

binary = sys.argv[1]
root = os.path.dirname(os.path.abspath(__file__))
tree = os.path.dirname(os.path.dirname(root))
rules_dir = os.path.join(tree, 'rules')
out_dir = os.path.join(os.path.dirname(os.path.abspath(binary)), 'bench')
data = os.environ.get('AH_BENCH_DIR', 'bench-data')
mib = int(os.environ.get('AH_BENCH_MIB', '1100'))
os.makedirs(data, exist_ok=True)
os.makedirs(out_dir, exist_ok=True)
gen = os.path.join(data, 'gen_bench')
if not os.path.exists(gen) or os.path.getmtime(gen) < os.path.getmtime(os.path.join(root, 'gen_bench.c')):
    subprocess.run(['cc', '-std=c11', '-D_DEFAULT_SOURCE', '-O2', os.path.join(root, 'gen_bench.c'), '-lz', '-o', gen], check=True)
isal = os.path.join(out_dir, 'inflate_isal')
subprocess.run(['cc', '-std=c11', '-D_DEFAULT_SOURCE', '-O2', os.path.join(root, 'inflate_isal.c'), '-lisal', '-o', isal],
               check=True)

files = {'jsonl': os.path.join(data, f'audit-{mib}m.jsonl.gz'), 'csv': os.path.join(data, f'purview-{mib // 4}m.csv.gz')}
for kind, path in files.items():
    if not os.path.exists(path):
        subprocess.run([gen, kind, path + '.tmp', str(mib if kind == 'jsonl' else mib // 4)], check=True)
        os.rename(path + '.tmp', path)
parts = [os.path.join(data, f'audit-{mib // 4}m-part{k}.jsonl.gz') for k in range(4)]
for k, path in enumerate(parts):
    if not os.path.exists(path):
        subprocess.run([gen, 'jsonl', path + '.tmp', str(mib // 4), str(k * 1000000000)], check=True)
        os.rename(path + '.tmp', path)


def rules_without_correlation():
    """The shipped rules with every correlation, sequence and first-seen rule
    left out (hunt has no switch for it); list and test files linked."""
    d = os.path.join(out_dir, 'rules-no-correlation')
    shutil.rmtree(d, ignore_errors=True)
    start = re.compile(r'^(correlation|sequence|first-seen)\s+\S+\s*\{')
    for here, dirs, names in os.walk(rules_dir):
        dst = os.path.join(d, os.path.relpath(here, rules_dir))
        os.makedirs(dst, exist_ok=True)
        for name in names:
            src = os.path.join(here, name)
            if not name.endswith('.rules'):
                os.symlink(src, os.path.join(dst, name))
                continue
            kept, skipping = [], False
            for line in open(src, encoding='utf-8'):
                if not skipping and start.match(line):
                    skipping = True
                if not skipping:
                    kept.append(line)
                elif line.rstrip('\n') == '}':
                    skipping = False
            with open(os.path.join(dst, name), 'w', encoding='utf-8') as f:
                f.write(''.join(kept))
    return d


def generated_rules(n):
    d = os.path.join(out_dir, f'rules-gen-{n}')
    shutil.rmtree(d, ignore_errors=True)
    subprocess.run([sys.executable, os.path.join(root, 'gen_rules.py'), str(n), d], check=True)
    return d


def rule_count(path):
    p = subprocess.run([binary, 'lint', path], capture_output=True, text=True)
    m = re.search(r'lint: (\d+) rules', p.stdout + p.stderr)
    return int(m.group(1)) if m else 0


def run(cmd, stdout=subprocess.DEVNULL):
    """CPU seconds (user + sys), wall seconds, peak RSS (KiB), exit status, stderr and stdout of one child.
    The child runs under /usr/bin/time, which reports its peak RSS: a child forked
    from Python would inherit Python's high-water mark (Linux keeps it across exec).
    The CPU time is wait4's, of time and its child (time's own share is a millisecond)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(['/usr/bin/time', '-f', 'ah-bench-rss %M'] + cmd, stdout=stdout, stderr=subprocess.PIPE)
    out = p.stdout.read() if stdout == subprocess.PIPE else b''
    err = p.stderr.read().decode(errors='replace')
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    for f in (p.stdout, p.stderr):
        if f:
            f.close()
    m = re.search(r'(Command exited with non-zero status \d+\n)?ah-bench-rss (\d+)\s*$', err)
    rss = int(m.group(2)) if m else 0
    err = err[:m.start()] if m else err
    return ru.ru_utime + ru.ru_stime, wall, rss, os.waitstatus_to_exitcode(status), err, out


no_corr = rules_without_correlation()
gen100, gen1000 = generated_rules(100), generated_rules(1000)
counts = {'all': rule_count(rules_dir), 'nocorr': rule_count(no_corr)}
print(f'audithound bench ({os.cpu_count()} cores, one used by every measurement; load average '
      f'{os.getloadavg()[0]:.1f} at the start)')
print('CPU time (user + sys of each child process), not wall time: the machine may be shared. MB/s and records/s')
print('are per CPU second of the uncompressed data; "of zlib" = zlib inflate CPU time / the row\'s CPU time.')
print('Each inflater runs three times and its least CPU time counts; audithound runs once.')
print(f'Rules: shipped {counts["all"]}; without correlation rules {counts["nocorr"]} '
      f'(correlation, sequence and first-seen rules left out); generated 100 and 1,000 (tests/bench/gen_rules.py).')

for kind, path in files.items():
    # The baseline of every ratio: the least CPU of three runs (a single run of
    # half a second can be off by a fifth on a busy machine); igzip likewise.
    cpu_zlib, wall_zlib, rss_zlib, rc, err, out = min(run([gen, 'inflate', path], stdout=subprocess.PIPE)
                                                      for _ in range(3))
    size = int(out)
    mb = size / 1e6
    records = None
    p = subprocess.run([binary, 'inspect', '--json', '-q', path], capture_output=True, text=True)
    try:
        records = json.loads(p.stdout)['totals']['records']
    except Exception:
        pass
    print(f'\n{os.path.basename(path)}: {mb:,.0f} MB uncompressed, {os.path.getsize(path) / 1e6:,.0f} MB compressed, '
          f'{records or "?":,} records')
    print(f'  {"":<34} {"CPU s":>7} {"MB/s":>8} {"records/s":>11} {"of zlib":>8} {"peak RSS":>10} {"wall s":>7}')
    rows = [('zlib inflate (gen_bench inflate)', None), ('igzip inflate (inflate_isal)', [isal, path]),
            ('dump', [binary, 'dump', '-q', path]),
            ('hunt, all shipped rules', [binary, 'hunt', '-q', '-r', rules_dir, '-o', '/dev/null', path]),
            ('hunt, correlation rules off', [binary, 'hunt', '-q', '-r', no_corr, '-o', '/dev/null', path]),
            ('hunt --all, all shipped rules', [binary, 'hunt', '-q', '-r', rules_dir, '--all', '-f', 'jsonl', '-o',
                                               '/dev/null', path]),
            # the HTML report beside the timeline: bounded aggregates and a capped story
            ('hunt --html (report)', [binary, 'hunt', '-q', '--force', '-r', rules_dir, '-o', '/dev/null', '--html',
                                      os.path.join(data, 'bench-report.html'), path]),
            ('hunt --all, xlsx workbook', [binary, 'hunt', '-q', '--force', '-r', rules_dir, '--all', '-f', 'xlsx', '-o',
                                           os.path.join(data, 'bench-all.xlsx'), path]),
            ('hunt, 100 generated rules', [binary, 'hunt', '-q', '-r', gen100, '-o', '/dev/null', path]),
            ('hunt, 1,000 generated rules', [binary, 'hunt', '-q', '-r', gen1000, '-o', '/dev/null', path])]
    shipped = None
    for label, cmd in rows:
        if cmd and cmd[0] == binary and cmd[1] == 'hunt':
            cmd = cmd[:2] + ['--threads', '1'] + cmd[2:]
        if cmd is None:
            cpu, wall, rss, note = cpu_zlib, wall_zlib, rss_zlib, ''
        else:
            cpu, wall, rss, rc, err, _ = min(run(cmd) for _ in range(3 if cmd[0] == isal else 1))
            note = '' if rc in (0, 1) else f'  [exit {rc}: {err[:200]}]'
        cpu = max(cpu, 1e-3)
        rate = f'{records / cpu:11,.0f}' if records else f'{"?":>11}'
        extra = ''
        if label.startswith('hunt, all shipped'):
            shipped = cpu
        elif 'generated' in label and shipped:
            extra = f'   {cpu / shipped:.2f}x the shipped rules\' CPU'
        print(f'  {label:<34} {cpu:7.2f} {mb / cpu:8.1f} {rate} {cpu_zlib / cpu:8.2f} {rss / 1024:6.1f} MiB {wall:7.2f}{extra}{note}')
        sys.stdout.flush()

# Threads: wall time of hunt (all shipped rules) with 1 and 2 threads, over
# the one large file and over four files of a quarter each; best of two.
zlib_wall = min(run([gen, 'inflate', files['jsonl']], stdout=subprocess.PIPE)[1] for _ in range(3))
print(f'\nthreads: wall seconds of hunt with all shipped rules, best of two (load average {os.getloadavg()[0]:.1f}); '
      f'zlib inflate of the large file alone: {zlib_wall:.2f} s wall')
print(f'  {"":<24} {"--threads 1":>12} {"--threads 2":>12} {"speedup":>8} {"of zlib (wall)":>15} {"peak RSS (2)":>13}')
for name, ins in (('1 file (' + os.path.basename(files['jsonl']) + ')', [files['jsonl']]), ('4 files of a quarter', parts)):
    walls, rss2 = {}, 0
    for t in (1, 2):
        best = min(run([binary, 'hunt', '-q', '--threads', str(t), '-r', rules_dir, '-o', '/dev/null'] + ins)[1:3]
                   for _ in range(2))
        walls[t] = best[0]
        rss2 = best[1]
    ratio = f'{zlib_wall / walls[2]:15.2f}' if len(ins) == 1 else f'{"":>15}'
    print(f'  {name[:24]:<24} {walls[1]:12.2f} {walls[2]:12.2f} {walls[1] / walls[2]:7.2f}x {ratio} {rss2 / 1024:8.1f} MiB')
    sys.stdout.flush()

# The matcher alone: events/s with 1, 50 and 300 rules that mostly do not match.
lib = os.path.join(os.path.dirname(binary), 'libaudithound.a')
bm = os.path.join(out_dir, 'bench_match')
flags = subprocess.run(['pkg-config', '--cflags', '--libs', 'libpcre2-8', 'libcjson', 'libarchive', 'zlib', 'libisal', 'yaml-0.1', 'xlsxwriter'],
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
    t, _, rss, rc, err, _ = run([binary, 'lint', rule_dir(n)])
    curve.append(f'{n // 1000}k {t:.2f} s ({rss / 1024:.0f} MiB)' + ('' if rc == 0 else f' [exit {rc}: {err[-200:]}]'))
print('\nrule loading (lint = load + compile, generated rules, CPU time): ' + ', '.join(curve)
      + f'; {1e6 * t / n:.0f} us/rule at 100k')

# Scale-out (docs/scale-out.md): the same data as eight files, each hunted to a
# partial (--threads 1), then one merge of the eight partials, against one hunt
# over the eight files. The merge's rows/s counts the rows it wrote per CPU second;
# its records/s the records whose identities it deduplicated and accounted (with
# the shipped rules few records make rows, so the identities are most of its work).
eighths = [os.path.join(data, f'audit-{mib // 8}m-eighth{k}.jsonl.gz') for k in range(8)]
for k, path in enumerate(eighths):
    if not os.path.exists(path):
        subprocess.run([gen, 'jsonl', path + '.tmp', str(mib // 8), str(k * 1000000000)], check=True)
        os.rename(path + '.tmp', path)
merge_dir = os.path.join(data, 'merge-partials')
shutil.rmtree(merge_dir, ignore_errors=True)
os.makedirs(merge_dir)
shard_cpu, shard_rss, failed = 0.0, 0, []
for k, path in enumerate(eighths):
    cpu, _, rss, rc, err, _ = run([binary, 'hunt', '-q', '--threads', '1', '-r', rules_dir, '--partial',
                                   os.path.join(merge_dir, f'part-{k}'), path])
    shard_cpu, shard_rss = shard_cpu + cpu, max(shard_rss, rss)
    if rc not in (0, 1):
        failed.append(f'part {k}: exit {rc}: {err[:200]}')
summary = os.path.join(merge_dir, 'merge.summary.json')
cpu_m, wall_m, rss_m, rc_m, err_m, _ = run([binary, 'merge', '-q', '-f', 'jsonl', '-o', '/dev/null', '--summary', summary]
                                           + [os.path.join(merge_dir, f'part-{k}') for k in range(8)])
cpu_one, _, rss_one, rc_one, _, _ = run([binary, 'hunt', '-q', '--threads', '1', '-r', rules_dir, '-f', 'jsonl', '-o',
                                         '/dev/null'] + eighths)
rows = records = 0
try:
    merged = json.load(open(summary))
    rows, records = merged['timeline']['rows'], merged['totals']['records']
except Exception:
    pass
print(f'\nmerge: 8 partials of {mib // 8} MiB each ({mib} MiB of JSON Lines in all), all shipped rules, CPU time')
if failed or rc_m not in (0, 1):
    print('  failed: ' + '; '.join(failed + ([f'merge: exit {rc_m}: {err_m[:200]}'] if rc_m not in (0, 1) else [])))
else:
    print(f'  8 x hunt --partial: {shard_cpu:7.2f} s in all, peak RSS {shard_rss / 1024:.1f} MiB each at most')
    print(f'  merge of the 8:     {cpu_m:7.2f} s ({wall_m:.2f} s wall), {rows:,} rows ({rows / max(cpu_m, 1e-3):,.0f} rows/s), '
          f'{records:,} records accounted ({records / max(cpu_m, 1e-3):,.0f}/s), peak RSS {rss_m / 1024:.1f} MiB')
    print(f'  one hunt of all 8:  {cpu_one:7.2f} s, peak RSS {rss_one / 1024:.1f} MiB; shards + merge = '
          f'{(shard_cpu + cpu_m) / max(cpu_one, 1e-3):.2f}x its CPU')
