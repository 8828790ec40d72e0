#!/usr/bin/env python3
"""seeds.py: build the libFuzzer seed corpora from the files already in the tree.

    python3 tests/fuzz/seeds.py OUTDIR

Writes OUTDIR/<target>/ for every target in tests/fuzz/ (csv, json, normalize,
decode, rules, scanner, gunzip) from samples/, tests/e2e/data/, rules/ and the rule
examples in docs/rules.md, plus the container variants that
tests/tools/mkcontainers.py builds from samples/. Each seed starts with the
selector byte(s) its target reads (see the target's header comment). Seeds are
cut to a few KB so the short runs in `make check` spend their time mutating,
not reading. Nothing here is committed: the corpora are rebuilt at every build.
Standard library only.
"""

import glob
import gzip
import hashlib
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def files(*patterns):
    out = []
    for p in patterns:
        out.extend(glob.glob(os.path.join(ROOT, p), recursive=True))
    return sorted(set(f for f in out if os.path.isfile(f)))


def read(path, limit):
    with open(path, "rb") as f:
        return f.read(limit)


def put(outdir, target, data):
    d = os.path.join(outdir, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def json_records(path, limit):
    """The first lines of a JSON Lines file, or the whole (cut) file."""
    data = read(path, 1 << 20)
    if path.endswith(".jsonl"):
        return [line for line in data.splitlines() if line.strip()][:limit]
    return [data[:8192]]


def doc_blocks(kind):
    with open(os.path.join(ROOT, "docs", "rules.md"), encoding="utf-8") as f:
        text = f.read()
    return [m.group(1).encode() for m in re.finditer(r"```" + kind + r"\n(.*?)```", text, re.S)]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    csvs = files("samples/**/*.csv", "tests/e2e/data/**/*.csv", "rules/**/*.csv")
    jsons = files("samples/**/*.json", "samples/**/*.jsonl", "tests/e2e/data/**/*.json*",
                  "rules/**/tests/**/*.json*")
    for i, f in enumerate(csvs):
        put(out, "csv", bytes([i & 3]) + read(f, 6144))
        lines = read(f, 1 << 20).splitlines(keepends=True)
        put(out, "normalize", bytes([1 | (2 if "SignIns_" in f else 0)]) + b"".join(lines[:4]))
    for i, f in enumerate(jsons):
        put(out, "json", bytes([i & 3]) + read(f, 6144))
        for rec in json_records(f, 4):
            put(out, "normalize", b"\x00" + rec[:8192])
    for i, f in enumerate(csvs + jsons):
        put(out, "decode", bytes([i & 3, (i >> 2) & 3]) + read(f, 2048))
    for f in files("rules/**/*.rules", "tests/e2e/data/*.rules"):
        put(out, "rules", b"\x00" + read(f, 65535))
    for block in doc_blocks("rules"):
        put(out, "rules", b"\x00" + block)
    for block in doc_blocks("expr"):
        for line in block.splitlines():
            if line.strip() and not line.startswith(b"#"):
                put(out, "rules", b"\x01" + line)
    for f in csvs + jsons:
        put(out, "scanner", read(f, 16384))
    for i, f in enumerate(csvs + jsons):
        # levels 1, 6, 9 (fixed and dynamic blocks), stored (0), and a second member
        head = read(f, 4096)
        level = (1, 6, 9, 0)[i & 3]
        member = gzip.compress(head, compresslevel=level, mtime=0)
        if i % 5 == 0:
            member += gzip.compress(head[:512], compresslevel=6, mtime=0)
        put(out, "gunzip", bytes([i & 3, (i >> 2) & 3]) + member)
    with tempfile.TemporaryDirectory() as tmp:
        r = subprocess.run([sys.executable, os.path.join(ROOT, "tests/tools/mkcontainers.py"), tmp],
                           cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if r.returncode == 0:
            for f in sorted(glob.glob(os.path.join(tmp, "*"))):
                if os.path.getsize(f) <= 65536:
                    put(out, "scanner", read(f, 65536))
    for t in sorted(os.listdir(out)):
        print(f"  seeds   {t}: {len(os.listdir(os.path.join(out, t)))}")


if __name__ == "__main__":
    main()
