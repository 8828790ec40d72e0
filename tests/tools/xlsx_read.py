#!/usr/bin/env python3
"""xlsx_read.py: a small XLSX reader for the tests (zipfile + xml.etree, standard library only),
independent of libxlsxwriter, so that what the workbook holds is checked from its XML.

    xlsx_read.py sheets FILE          the sheet names, one a line
    xlsx_read.py csv FILE SHEET       the sheet as CSV: text as written, numbers as Python prints
                                      them, date cells as yyyy-mm-dd hh:mm:ss.000

As a module: read(path) -> Workbook (sheets in order, each with its rows of Cell, its frozen pane,
autofilter range and column widths, and whether any cell holds a formula).
"""

import csv
import datetime
import re
import sys
import zipfile
import xml.etree.ElementTree as ET

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
      "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
      "rel": "http://schemas.openxmlformats.org/package/2006/relationships"}
M = "{%s}" % NS["m"]

# Built-in number formats that are dates (ECMA-376 18.8.30).
BUILTIN_DATES = set(range(14, 23)) | {45, 46, 47}
ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


class Cell:
    def __init__(self, ref, kind, value, style):
        self.ref = ref        # "B7"
        self.kind = kind      # "text" (inline or shared string), "number", "date", "bool", "formula"
        self.value = value    # str for text, float for number/date
        self.style = style

    def text(self):
        """The cell as a spreadsheet shows it with our formats."""
        if self.kind == "date":
            return serial_text(self.value)
        if self.kind == "number":
            return str(int(self.value)) if self.value == int(self.value) else repr(self.value)
        return self.value


class Sheet:
    def __init__(self, name):
        self.name = name
        self.rows = []          # list of lists of Cell|None, row 1 first
        self.frozen_rows = 0
        self.autofilter = None  # "A1:X61"
        self.widths = {}        # column index (0-based) -> width
        self.formulas = 0       # <f> elements

    def texts(self):
        return [[c.text() if c else "" for c in row] for row in self.rows]


class Workbook:
    def __init__(self):
        self.sheets = []

    def sheet(self, name):
        for s in self.sheets:
            if s.name == name:
                return s
        raise KeyError(name)


def serial_text(serial):
    ms = round(serial * 86400000)
    t = datetime.datetime(1899, 12, 30) + datetime.timedelta(milliseconds=ms)
    return t.strftime("%Y-%m-%d %H:%M:%S.") + "%03d" % (t.microsecond // 1000)


def unescape(s):
    return ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), s)


def col_index(ref):
    letters = re.match(r"[A-Z]+", ref).group(0)
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def is_date_format(code):
    code = re.sub(r'"[^"]*"|\[[^\]]*\]|\\.', "", code)
    return bool(re.search(r"[ydhs]", code, re.I)) or ("m" in code.lower() and ":" in code)


def date_styles(z):
    """Indices of cellXfs whose number format is a date."""
    root = ET.fromstring(z.read("xl/styles.xml"))
    custom = {}
    for nf in root.iterfind("m:numFmts/m:numFmt", NS):
        custom[int(nf.get("numFmtId"))] = nf.get("formatCode")
    out = set()
    for i, xf in enumerate(root.iterfind("m:cellXfs/m:xf", NS)):
        fid = int(xf.get("numFmtId", "0"))
        if fid in BUILTIN_DATES or (fid in custom and is_date_format(custom[fid])):
            out.add(i)
    return out


def shared_strings(z):
    try:
        root = ET.fromstring(z.read("xl/sharedStrings.xml"))
    except KeyError:
        return []
    return [unescape("".join(t.text or "" for t in si.iter(M + "t"))) for si in root.iterfind("m:si", NS)]


def read_sheet(z, name, path, dates, strings):
    s = Sheet(name)
    root = ET.fromstring(z.read(path))
    pane = root.find("m:sheetViews/m:sheetView/m:pane", NS)
    if pane is not None and pane.get("state") == "frozen":
        s.frozen_rows = int(float(pane.get("ySplit", "0")))
    af = root.find("m:autoFilter", NS)
    if af is not None:
        s.autofilter = af.get("ref")
    for col in root.iterfind("m:cols/m:col", NS):
        for i in range(int(col.get("min")) - 1, int(col.get("max"))):
            s.widths[i] = float(col.get("width"))
    for row in root.iterfind("m:sheetData/m:row", NS):
        r = int(row.get("r"))
        while len(s.rows) < r:
            s.rows.append([])
        cells = s.rows[r - 1]
        for c in row.iterfind("m:c", NS):
            ref, t, style = c.get("r"), c.get("t", "n"), int(c.get("s", "0"))
            if c.find("m:f", NS) is not None:
                s.formulas += 1
                cell = Cell(ref, "formula", c.findtext("m:f", "", NS), style)
            elif t == "inlineStr":
                cell = Cell(ref, "text", unescape("".join(x.text or "" for x in c.find("m:is", NS).iter(M + "t"))), style)
            elif t == "s":
                cell = Cell(ref, "text", strings[int(c.findtext("m:v", "", NS))], style)
            elif t == "n":
                v = c.findtext("m:v", None, NS)
                if v is None:
                    cell = None  # a formatted blank
                else:
                    cell = Cell(ref, "date" if style in dates else "number", float(v), style)
            elif t == "b":
                cell = Cell(ref, "bool", c.findtext("m:v", "", NS), style)
            else:  # "str" (a formula's cached text), "e" (an error): never written by us
                cell = Cell(ref, t, c.findtext("m:v", "", NS), style)
            i = col_index(ref)
            while len(cells) <= i:
                cells.append(None)
            cells[i] = cell
    return s


def read(path):
    wb = Workbook()
    with zipfile.ZipFile(path) as z:
        rels = {}
        for rel in ET.fromstring(z.read("xl/_rels/workbook.xml.rels")).iterfind("rel:Relationship", NS):
            rels[rel.get("Id")] = "xl/" + rel.get("Target").lstrip("/").replace("xl/", "", 1)
        dates = date_styles(z)
        strings = shared_strings(z)
        for sh in ET.fromstring(z.read("xl/workbook.xml")).iterfind("m:sheets/m:sheet", NS):
            rid = sh.get("{%s}id" % NS["r"])
            wb.sheets.append(read_sheet(z, sh.get("name"), rels[rid], dates, strings))
    return wb


def main(argv):
    if len(argv) == 3 and argv[1] == "sheets":
        for s in read(argv[2]).sheets:
            print(s.name)
        return 0
    if len(argv) == 4 and argv[1] == "csv":
        w = csv.writer(sys.stdout, lineterminator="\n")
        for row in read(argv[2]).sheet(argv[3]).texts():
            w.writerow(row)
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
