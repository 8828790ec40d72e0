#!/usr/bin/env python3
"""mkcontainers.py: build the container variants of samples/ used by the e2e tests and the demo.

    python3 tests/tools/mkcontainers.py OUTDIR [--samples DIR]
    python3 tests/tools/mkcontainers.py --verify OUTDIR [--samples DIR]   check an OUTDIR built earlier

Writes into OUTDIR (created if needed; files of the same names are replaced):

  mgmt-api-content.json.gz   gzip of tenant/mgmt-api-content.json
  ual-multimember.jsonl.gz   tenant/UAL-2021-01.jsonl as two gzip members, concatenated
  entra-signins.zip          zip: the three tenant sign-in files
  ual-exports.tar.gz         tar.gz: the four tenant UAL files under ual/
  entra-audit.7z             7z: directoryAudits.json, AuditLogs-portal.csv, azure-monitor-PT1H.json
                             (only when the 7z command exists; otherwise a message and no file)
  nested.zip                 zip holding mgmt/mgmt-api-content.json.gz and formats.tar.gz (a tar.gz of
                             three formats/ files): one level of nesting
  tar-with-zip.tar           tar holding export/entra-signins.zip
  truncated.json.gz          mgmt-api-content.json.gz cut in the middle (a corrupt stream)

Deterministic: fixed mtimes, owners and modes, sorted members, no randomness, so
the same samples give the same bytes on the same zlib. Standard library only,
plus the 7z command (p7zip-full) for the .7z file.
"""

import argparse
import gzip
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
import zlib

MTIME = 1610668800  # 2021-01-15T00:00:00Z: when the fictional analyst packed the exports
ZIP_TIME = (2021, 1, 15, 0, 0, 0)


def gz(data, name):
    buf = io.BytesIO()
    with gzip.GzipFile(filename=name, mode="wb", fileobj=buf, compresslevel=9, mtime=MTIME) as fh:
        fh.write(data)
    return buf.getvalue()


def zip_bytes(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            zf.writestr(info, data, compresslevel=9)
    return buf.getvalue()


def tar_bytes(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tf:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = MTIME
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def seven_zip(members, out):
    """7z cannot write to stdout deterministically; stage the files with fixed mtimes."""
    exe = shutil.which("7z") or shutil.which("7za")
    if not exe:
        return False
    with tempfile.TemporaryDirectory() as tmp:
        names = []
        for name, data in members:
            path = os.path.join(tmp, name)
            with open(path, "wb") as fh:
                fh.write(data)
            os.chmod(path, 0o644)
            os.utime(path, (MTIME, MTIME))
            names.append(name)
        target = os.path.join(tmp, "out.7z")
        subprocess.run([exe, "a", "-t7z", "-mx=5", "-mmt=1", "-mtc=off", "-mta=off", "-bd", "-y", target] + names,
                       cwd=tmp, check=True, stdout=subprocess.DEVNULL)
        shutil.copyfile(target, out)
    return True


SIGNIN_FILES = ["InteractiveSignIns_2021-01-10_2021-01-17.csv", "ApplicationSignIns_2021-01-10_2021-01-17.json",
                "signins-graph-page.json"]
UAL_FILES = ["purview-audit-2021-01.csv", "ual-search-2021-01-13.csv", "UAL-2021-01.jsonl", "mgmt-api-content.json"]
FORMAT_FILES = ["ual_json.jsonl", "signin_graph.jsonl", "entra_audit_graph.json"]
AUDIT_FILES = ["directoryAudits.json", "AuditLogs-portal.csv", "azure-monitor-PT1H.json"]


def verify(outdir, read):
    """Read every container back with the standard library (and 7z) and compare with samples/."""
    results = []

    def check(cond, what):
        results.append(bool(cond))
        print("%s - %s" % ("ok" if cond else "not ok", what))

    def load(name):
        with open(os.path.join(outdir, name), "rb") as fh:
            return fh.read()

    def tar_members(data):
        with tarfile.open(fileobj=io.BytesIO(data)) as tf:
            return {m.name: tf.extractfile(m).read() for m in tf.getmembers()}

    def zip_members(data):
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return {n: zf.read(n) for n in zf.namelist()}

    try:
        check(gzip.decompress(load("mgmt-api-content.json.gz")) == read("tenant/mgmt-api-content.json"),
              "mgmt-api-content.json.gz inflates to the sample")
        data = load("ual-multimember.jsonl.gz")
        d = zlib.decompressobj(wbits=31)
        d.decompress(data)
        check(d.eof and d.unused_data[:2] == b"\x1f\x8b" and gzip.decompress(data) == read("tenant/UAL-2021-01.jsonl"),
              "ual-multimember.jsonl.gz: two gzip members, together the sample")
        m = zip_members(load("entra-signins.zip"))
        check(sorted(m) == sorted(SIGNIN_FILES) and all(m[n] == read("tenant/" + n) for n in SIGNIN_FILES),
              "entra-signins.zip: three sign-in files")
        m = tar_members(gzip.decompress(load("ual-exports.tar.gz")))
        check(sorted(m) == sorted("ual/" + n for n in UAL_FILES) and all(m["ual/" + n] == read("tenant/" + n)
                                                                         for n in UAL_FILES), "ual-exports.tar.gz: four UAL files")
        m = zip_members(load("nested.zip"))
        inner = tar_members(gzip.decompress(m.get("formats.tar.gz", b"")))
        check(sorted(m) == ["formats.tar.gz", "mgmt/mgmt-api-content.json.gz"] and
              gzip.decompress(m["mgmt/mgmt-api-content.json.gz"]) == read("tenant/mgmt-api-content.json") and
              all(inner["formats/" + n] == read("formats/" + n) for n in FORMAT_FILES) and len(inner) == 3,
              "nested.zip: a .json.gz and a nested .tar.gz")
        m = tar_members(load("tar-with-zip.tar"))
        check(list(m) == ["export/entra-signins.zip"] and m["export/entra-signins.zip"] == load("entra-signins.zip"),
              "tar-with-zip.tar: a zip inside a tar")
        try:
            gzip.decompress(load("truncated.json.gz"))
            truncated = False
        except EOFError:
            truncated = True
        check(truncated, "truncated.json.gz is a cut gzip stream")
    except (OSError, KeyError, tarfile.TarError, zipfile.BadZipFile) as e:
        check(False, "containers readable (%s)" % e)
    exe = shutil.which("7z") or shutil.which("7za")
    if exe:
        ok = True
        for n in AUDIT_FILES:
            r = subprocess.run([exe, "x", "-so", os.path.join(outdir, "entra-audit.7z"), n], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL)
            ok &= r.returncode == 0 and r.stdout == read("tenant/" + n)
        check(ok, "entra-audit.7z: three audit files")
    else:
        print("ok - entra-audit.7z # SKIP 7z not installed")
    return 0 if all(results) else 1


def main():
    ap = argparse.ArgumentParser(description="build the container variants of samples/")
    ap.add_argument("outdir")
    ap.add_argument("--samples", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "samples"))
    ap.add_argument("--verify", action="store_true", help="check an existing OUTDIR instead of building it")
    args = ap.parse_args()
    s = args.samples

    def read(rel):
        with open(os.path.join(s, rel), "rb") as fh:
            return fh.read()

    if args.verify:
        return verify(args.outdir, read)

    os.makedirs(args.outdir, exist_ok=True)
    out = {}
    mgmt = read("tenant/mgmt-api-content.json")
    out["mgmt-api-content.json.gz"] = gz(mgmt, "mgmt-api-content.json")

    jl = read("tenant/UAL-2021-01.jsonl")
    lines = jl.splitlines(keepends=True)
    half = len(lines) // 2
    out["ual-multimember.jsonl.gz"] = gz(b"".join(lines[:half]), "UAL-2021-01.jsonl") + \
        gz(b"".join(lines[half:]), "UAL-2021-01.jsonl")

    signins_zip = zip_bytes([(n, read("tenant/" + n)) for n in SIGNIN_FILES])
    out["entra-signins.zip"] = signins_zip

    out["ual-exports.tar.gz"] = gz(tar_bytes([("ual/" + n, read("tenant/" + n)) for n in UAL_FILES]), "")

    inner_tgz = gz(tar_bytes([("formats/" + n, read("formats/" + n)) for n in FORMAT_FILES]), "")
    out["nested.zip"] = zip_bytes([("mgmt/mgmt-api-content.json.gz", out["mgmt-api-content.json.gz"]),
                                   ("formats.tar.gz", inner_tgz)])
    out["tar-with-zip.tar"] = tar_bytes([("export/entra-signins.zip", signins_zip)])
    full = out["mgmt-api-content.json.gz"]
    out["truncated.json.gz"] = full[:len(full) // 2]

    for name in sorted(out):
        with open(os.path.join(args.outdir, name), "wb") as fh:
            fh.write(out[name])

    target = os.path.join(args.outdir, "entra-audit.7z")
    if os.path.exists(target):
        os.remove(target)
    if not seven_zip([(n, read("tenant/" + n)) for n in AUDIT_FILES], target):
        print("mkcontainers: 7z not found (install p7zip-full); skipped entra-audit.7z", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
