#!/usr/bin/env python3
"""make bench-scale: peak memory of `dump` and `hunt` at 10 million unique
records with the default budgets (issue 13: bounded at any input size).
Not a test and not part of `make check`: nothing here passes or fails.

Data (generated once into AH_BENCH_DIR, default bench-data/, by
tests/bench/gen_bench.c, deterministic): audit-<MIB>m.jsonl.gz, AuditData
JSON Lines of about AH_SCALE_RECORDS records (default 10,000,000; 1100 MiB
hold 955,172). It needs about 1.4 GB on disk, plus about 0.5 GB of
temporary runs under $TMPDIR while the duplicate set spills; the free
space is checked first and the run stops with a message when it is short.
"""
import json, os, re, shutil, subprocess, sys, tempfile, time

binary = sys.argv[1]
root = os.path.dirname(os.path.abspath(__file__))
rules_dir = os.path.join(os.path.dirname(os.path.dirname(root)), 'rules')
data = os.environ.get('AH_BENCH_DIR', 'bench-data')
records = int(os.environ.get('AH_SCALE_RECORDS', '10000000'))
mib = max(1, records * 1100 // 955172)
path = os.path.join(data, f'audit-{mib}m.jsonl.gz')
os.makedirs(data, exist_ok=True)

need = 0 if os.path.exists(path) else mib * 125 * 1024  # compressed: about 0.12 of the text
tmp = os.environ.get('TMPDIR') or tempfile.gettempdir()
for where, bytes_needed in ((data, need + (1 << 30)), (tmp, records * 60)):
    free = shutil.disk_usage(where).free
    if free < bytes_needed:
        sys.exit(f'bench-scale: {where} has {free / 1e9:.1f} GB free, {bytes_needed / 1e9:.1f} GB needed; '
                 'set AH_BENCH_DIR, TMPDIR or AH_SCALE_RECORDS')

gen = os.path.join(data, 'gen_bench')
if not os.path.exists(gen) or os.path.getmtime(gen) < os.path.getmtime(os.path.join(root, 'gen_bench.c')):
    subprocess.run(['cc', '-std=c11', '-D_DEFAULT_SOURCE', '-O2', os.path.join(root, 'gen_bench.c'), '-lz', '-o', gen],
                   check=True)
if not os.path.exists(path):
    print(f'bench-scale: generating {path} ({mib} MiB of JSON Lines)', flush=True)
    subprocess.run([gen, 'jsonl', path + '.tmp', str(mib)], check=True)
    os.rename(path + '.tmp', path)


def run(cmd):
    """CPU seconds of the child, wall seconds, peak RSS in KiB (/usr/bin/time), exit status."""
    t0 = time.perf_counter()
    p = subprocess.Popen(['/usr/bin/time', '-f', 'ah-bench-rss %M'] + cmd, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    err = p.stderr.read().decode(errors='replace')
    _, status, ru = os.wait4(p.pid, 0)
    p.stderr.close()
    m = re.search(r'ah-bench-rss (\d+)\s*$', err)
    return ru.ru_utime + ru.ru_stime, time.perf_counter() - t0, int(m.group(1)) if m else 0, \
        os.waitstatus_to_exitcode(status)


out = tempfile.mkdtemp(prefix='ah-bench-scale-')
summary = os.path.join(out, 'summary.json')
print(f'audithound bench-scale: {path} ({os.path.getsize(path) / 1e9:.2f} GB), default --memory '
      f'(64M), load average {os.getloadavg()[0]:.1f}')
print(f'  {"":<32} {"CPU s":>8} {"wall s":>8} {"peak RSS":>10}')
for name, cmd in (('dump', [binary, 'dump', '-q', path]),
                  ('hunt, all shipped rules', [binary, 'hunt', '-q', '-r', rules_dir, '-o', '/dev/null', '--summary', summary,
                                              path])):
    cpu, wall, rss, rc = run(cmd)
    print(f'  {name:<32} {cpu:8.1f} {wall:8.1f} {rss / 1024:7.0f} MiB' + (f'  (exit {rc})' if rc else ''), flush=True)
try:
    totals = json.load(open(summary))['totals']
    print(f'  records {totals["records"]:,} = {totals["events"]:,} events + {totals["duplicates"]:,} duplicates + '
          f'{totals["errors"]:,} errors; inputs read {totals["dedup_passes"]} time(s)')
except (OSError, ValueError, KeyError) as e:
    print(f'  (no summary: {e})')
shutil.rmtree(out, ignore_errors=True)
