#!/usr/bin/env python3
"""xlsx_checks.py: assertions on the XLSX workbook and the spreadsheet-facing CSV, for e2e checks.

    xlsx_checks.py timeline XLSX CSV [SHEET_ROWS]
        The Timeline sheet(s) hold the CSV timeline (written with --no-excel-safe) cell for cell:
        same header with time_iso after time, `time` a numeric cell with a date style equal to the
        CSV time at millisecond precision, time_iso the exact CSV text, every other text a string
        cell (never a formula: no <f> in any sheet), input_record a number. Header frozen,
        autofilter over the rows, a width for every column; with SHEET_ROWS, every Timeline sheet
        but the last holds exactly that many rows. Sheets: Timeline[, Timeline 2..], Summary, Rules.
    xlsx_checks.py summary XLSX SUMMARY_JSON
        The Summary and Rules sheets say what the run summary JSON says (inputs with size and
        SHA-256, record totals, coverage, hits per severity and rule).
    xlsx_checks.py soffice XLSX CSV
        LibreOffice (headless) converts every sheet to CSV; its Timeline equals the CSV timeline
        (dates as shown). Prints a SKIP line and succeeds when soffice is not installed.
    xlsx_checks.py soffice-csv CSV
        LibreOffice reads the CSV as UTF-8 (--infilter=CSV:44,34,76) and writes it back: every
        cell, the non-ASCII ones above all, survives. SKIP as above.

Exit 0 when the assertions hold, 1 with a message on stderr otherwise, 2 on bad usage.
"""

import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import xlsx_read  # noqa: E402


def fail(msg):
    sys.stderr.write("xlsx_checks: %s\n" % msg)
    sys.exit(1)


def read_csv(path):
    with open(path, newline="", encoding="utf-8-sig") as f:
        return list(csv.reader(f))


def col_letter(i):
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def timeline_sheets(wb):
    names = [s.name for s in wb.sheets]
    n = len(names) - 2
    want = ["Timeline"] + ["Timeline %d" % i for i in range(2, n + 1)] + ["Summary", "Rules"]
    if names != want:
        fail("sheets %r, expected %r" % (names, want))
    return wb.sheets[:n]


def cmd_timeline(args):
    wb = xlsx_read.read(args[0])
    rows = read_csv(args[1])
    sheet_rows = int(args[2]) if len(args) > 2 else None
    for s in wb.sheets:
        if s.formulas:
            fail("sheet %s holds %d formula(s)" % (s.name, s.formulas))
    header = list(rows[0])
    header.insert(1, "time_iso")
    data = []
    sheets = timeline_sheets(wb)
    for k, s in enumerate(sheets):
        got = [c.text() if c else "" for c in s.rows[0]]
        if got != header:
            fail("%s header %r, expected %r" % (s.name, got, header))
        if any(c is None or c.kind != "text" for c in s.rows[0]):
            fail("%s: header cells must be strings" % s.name)
        n = len(s.rows) - 1
        if s.frozen_rows != 1:
            fail("%s: header row not frozen" % s.name)
        want_filter = "A1:%s%d" % (col_letter(len(header) - 1), n + 1)
        if s.autofilter != want_filter:
            fail("%s: autofilter %r, expected %r" % (s.name, s.autofilter, want_filter))
        if sorted(s.widths) != list(range(len(header))):
            fail("%s: column widths %r" % (s.name, s.widths))
        if sheet_rows is not None and k < len(sheets) - 1 and n != sheet_rows:
            fail("%s holds %d rows, expected %d" % (s.name, n, sheet_rows))
        if sheet_rows is not None and n > sheet_rows:
            fail("%s holds %d rows, more than %d" % (s.name, n, sheet_rows))
        data.extend(s.rows[1:])
    if len(data) != len(rows) - 1:
        fail("%d timeline rows in the workbook, %d in the CSV" % (len(data), len(rows) - 1))
    number_cols = {"input_record"}
    for i, (xrow, crow) in enumerate(zip(data, rows[1:])):
        xrow = list(xrow) + [None] * (len(header) - len(xrow))
        t = crow[0]
        where = "timeline row %d" % (i + 1)
        if t:
            c = xrow[0]
            if c is None or c.kind != "date":
                fail("%s: time is not a date cell: %r" % (where, c and c.kind))
            if c.text() != t[:10] + " " + t[11:23]:
                fail("%s: time %s, CSV %s" % (where, c.text(), t))
        elif xrow[0] is not None:
            fail("%s: time cell without a time" % where)
        for j, name in enumerate(header[1:], start=1):
            want = t if name == "time_iso" else crow[j - 1]
            c = xrow[j]
            if not want:
                if c is not None and c.text() != "":
                    fail("%s %s: %r, CSV empty" % (where, name, c.text()))
                continue
            kind = "number" if name in number_cols else "text"
            if c is None or c.kind != kind:
                fail("%s %s: a %s cell expected, got %r" % (where, name, kind, c and c.kind))
            if c.text() != want:
                fail("%s %s: %r, CSV %r" % (where, name, c.text(), want))
    print("timeline: %d rows in %d sheet(s) match the CSV" % (len(data), len(sheets)))


def sheet_texts(wb, name):
    return [[c.text() if c else "" for c in r] for r in wb.sheet(name).rows]


def section(rows, title):
    """Rows after the heading `title` up to the next empty row."""
    for i, r in enumerate(rows):
        if r and r[0] == title:
            out = []
            for r2 in rows[i + 1:]:
                if not any(r2):
                    break
                out.append(r2)
            return r, out
    fail("Summary: no section %r" % title)


def cmd_summary(args):
    wb = xlsx_read.read(args[0])
    with open(args[1], encoding="utf-8") as f:
        js = json.load(f)
    rows = sheet_texts(wb, "Summary")
    for s in wb.sheets:
        if s.formulas:
            fail("sheet %s holds formulas" % s.name)
    _, inputs = section(rows, "Inputs")
    got = [(r[0], r[1], r[2]) for r in inputs]
    want = [(f["path"], str(f["size"]), f["sha256"] or "") for f in js["files"]]
    if got != want:
        fail("Summary inputs %r, expected %r" % (got, want))
    _, totals = section(rows, "Records")
    got = dict((r[0], r[1]) for r in totals)
    for k in ("records", "events", "duplicates", "errors"):
        if got.get(k) != str(js["totals"][k]):
            fail("Summary %s %r, expected %r" % (k, got.get(k), js["totals"][k]))
    _, cov = section(rows, "Coverage")
    got = dict((r[0], r[1:7]) for r in cov)
    for src, c in js["coverage"].items():
        want = [c["first"], c["last"], str(c["events"]), str(c["empty_hours"]), str(c["gaps"]),
                str(c["longest_gap_hours"])]
        if got.get(src) != want:
            fail("Summary coverage %s %r, expected %r" % (src, got.get(src), want))
    head, levels = section(rows, "Hits")
    if head[1] != str(js["hits"]["total"]):
        fail("Summary hits %r, expected %r" % (head[1], js["hits"]["total"]))
    for r in levels[:5]:
        if r[1] != str(js["hits"]["by_severity"][r[0]]):
            fail("Summary hits %s %r" % (r[0], r[1]))
    _, per_rule = section(rows, "Hits per rule")
    got = sorted((r[0], r[2], r[3]) for r in per_rule)
    want = sorted((r["id"], r["severity"], str(r["count"])) for r in js["hits"]["by_rule"])
    if got != want:
        fail("Summary hits per rule %r, expected %r" % (got, want))
    rules = wb.sheet("Rules")
    rtexts = sheet_texts(wb, "Rules")
    if rtexts[0][:5] != ["id", "title", "severity", "status", "hits"] or rules.frozen_rows != 1:
        fail("Rules header %r" % rtexts[0])
    if len(rtexts) - 1 != js["rules"]["loaded"]:
        fail("Rules holds %d rules, %d loaded" % (len(rtexts) - 1, js["rules"]["loaded"]))
    hits = {r[0]: r[4] for r in rtexts[1:]}
    for r in js["hits"]["by_rule"]:
        if hits.get(r["id"]) != str(r["count"]):
            fail("Rules: %s hits %r, expected %r" % (r["id"], hits.get(r["id"]), r["count"]))
    skipped = sorted(r[0] for r in rtexts[1:] if r[3] == "skipped")
    if skipped != sorted(s["id"] for s in js["rules"]["skipped"]):
        fail("Rules: skipped %r" % skipped)
    print("summary: %d inputs, %d rules agree with the run summary" % (len(inputs), len(rtexts) - 1))


def soffice():
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if not exe:
        print("SKIP: soffice (LibreOffice) is not installed; `make deps` installs libreoffice-calc-nogui")
    return exe


def convert(exe, src, out_dir, filt, infilter=None):
    profile = tempfile.mkdtemp(prefix="ah-lo-profile-")
    try:
        cmd = [exe, "-env:UserInstallation=file://" + profile, "--headless", "--norestore"]
        if infilter:
            cmd.append("--infilter=" + infilter)
        cmd += ["--convert-to", filt, "--outdir", out_dir, src]
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=240)
        if p.returncode != 0:
            fail("soffice failed: %s" % p.stdout.decode("utf-8", "replace"))
    finally:
        shutil.rmtree(profile, ignore_errors=True)


# LibreOffice's CSV export: comma, double quote, UTF-8, from row 1, every sheet (-1).
CSV_EXPORT = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"


def cmd_soffice(args):
    exe = soffice()
    if not exe:
        return
    out = tempfile.mkdtemp(prefix="ah-lo-out-")
    try:
        convert(exe, os.path.abspath(args[0]), out, CSV_EXPORT)
        base = os.path.splitext(os.path.basename(args[0]))[0]
        lo = read_csv(os.path.join(out, base + "-Timeline.csv"))
        rows = read_csv(args[1])
        header = list(rows[0])
        header.insert(1, "time_iso")
        if lo[0] != header:
            fail("LibreOffice Timeline header %r" % lo[0])
        if len(lo) != len(rows):
            fail("LibreOffice Timeline has %d rows, the CSV %d" % (len(lo), len(rows)))
        for i, (a, b) in enumerate(zip(lo[1:], rows[1:])):
            t = b[0]
            want = [t[:10] + " " + t[11:23] if t else ""] + list(b)
            a = a + [""] * (len(want) - len(a))
            if a != want:
                diff = [(header[j], a[j], want[j]) for j in range(len(want)) if a[j] != want[j]]
                fail("LibreOffice Timeline row %d differs: %r" % (i + 1, diff[:3]))
        for name in ("Summary", "Rules"):
            if not os.path.exists(os.path.join(out, "%s-%s.csv" % (base, name))):
                fail("LibreOffice found no %s sheet" % name)
        print("soffice: the Timeline sheet reads back as the CSV (%d rows)" % (len(rows) - 1))
    finally:
        shutil.rmtree(out, ignore_errors=True)


def cmd_soffice_csv(args):
    exe = soffice()
    if not exe:
        return
    out = tempfile.mkdtemp(prefix="ah-lo-out-")
    try:
        # Read as UTF-8 (76) with comma and quote, every column as text (format 2) so nothing is
        # reinterpreted; written back the same way.
        ncols = len(read_csv(args[0])[0])
        formats = "/".join("%d/2" % (i + 1) for i in range(ncols))
        convert(exe, os.path.abspath(args[0]), out, "csv:Text - txt - csv (StarCalc):44,34,76,1",
                infilter="CSV:44,34,76,1," + formats)
        back = read_csv(os.path.join(out, os.path.basename(args[0])))
        rows = read_csv(args[0])
        if len(back) != len(rows):
            fail("LibreOffice read %d rows, the CSV has %d" % (len(back), len(rows)))
        non_ascii = 0
        for i, (a, b) in enumerate(zip(back, rows)):
            a = a + [""] * (len(b) - len(a))
            for j, cell in enumerate(b):
                if a[j] != cell:
                    fail("row %d column %d: LibreOffice read %r, the CSV holds %r" % (i, j, a[j], cell))
                non_ascii += any(ord(ch) > 127 for ch in cell)
        if non_ascii == 0:
            fail("no non-ASCII cell in %s: the test proves nothing" % args[0])
        print("soffice-csv: %d rows, %d non-ASCII cells survive" % (len(rows), non_ascii))
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main(argv):
    cmds = {"timeline": (cmd_timeline, 2, 3), "summary": (cmd_summary, 2, 2), "soffice": (cmd_soffice, 2, 2),
            "soffice-csv": (cmd_soffice_csv, 1, 1)}
    if len(argv) < 2 or argv[1] not in cmds or not cmds[argv[1]][1] <= len(argv) - 2 <= cmds[argv[1]][2]:
        sys.stderr.write(__doc__)
        return 2
    cmds[argv[1]][0](argv[2:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
