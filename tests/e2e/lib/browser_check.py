#!/usr/bin/env python3
"""The HTML report, rendered by a real browser (headless Chromium).

  browser_check.py tenant  REPORT.html WORKDIR TIMELINE.csv   the page renders: not blank, chart and
                                                 story present, one story line per timeline row
  browser_check.py hostile REPORT.html WORKDIR   attacker strings in records stay inert text (DOM only)

Chromium runs with --headless --no-sandbox --disable-gpu and a fresh user-data-dir
under WORKDIR; --dump-dom gives the DOM after the page loaded (scripts, had any
run, would have changed it), --screenshot a PNG whose pixels are counted with
a small PNG reader (zlib only). Exit 77 with the reason on the first line when
Chromium is not installed or cannot start here (the e2e runner reports a SKIP);
any other failure exits 1.
"""
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib

SKIP = 77


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    print("chromium is not installed (make deps installs the Debian package chromium)")
    sys.exit(SKIP)


def run_browser(exe, workdir, args, url):
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
           "--no-first-run", "--no-default-browser-check", "--disable-extensions",
           "--user-data-dir=" + os.path.join(workdir, "chromium-profile")] + args + [url]
    try:
        return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    except subprocess.TimeoutExpired:
        print("chromium did not finish within 60 s")
        sys.exit(1)


def render(report, workdir, screenshot=True):
    exe = chromium()
    url = "file://" + os.path.abspath(report)
    dom = run_browser(exe, workdir, ["--dump-dom"], url)
    text = dom.stdout.decode("utf-8", "replace")
    if dom.returncode != 0 and not text:
        tail = dom.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
        print("chromium cannot run here: exit %d: %s" % (dom.returncode, tail[0]))
        sys.exit(SKIP)
    if not screenshot:
        return text, None
    png = os.path.join(workdir, "shot.png")
    shot = run_browser(exe, workdir, ["--window-size=1280,1600", "--hide-scrollbars", "--screenshot=" + png], url)
    if not os.path.exists(png):
        print("no screenshot written: exit %d: %s" % (shot.returncode, shot.stderr.decode("utf-8", "replace")[-300:]))
        sys.exit(1)
    return text, png


def png_pixels(path):
    """(width, height, rows of RGB tuples) of an 8-bit RGB or RGBA PNG, non-interlaced."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, width = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or ctype not in (2, 6) or interlace:
                raise ValueError("PNG layout not handled: depth %d, colour type %d" % (depth, ctype))
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = width * bpp
    prev = bytearray(stride)
    rows = []
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return width, height, bpp, rows


def check(cond, what):
    if not cond:
        print("FAILED: " + what)
        sys.exit(1)


def tenant(report, workdir, timeline):
    import csv
    with open(timeline, encoding="utf-8-sig", newline="") as f:
        expected = list(csv.DictReader(f))
    days = {r["time"][:10] for r in expected if r["time"]}
    dom, png = render(report, workdir)
    check("<title>audithound report</title>" in dom, "page title")
    check(re.search(r'http-equiv="Content-Security-Policy" content="default-src \'none\'', dom) is not None,
          "Content-Security-Policy forbidding every load")
    chart = re.search(r'<section id="chart">(.*?)</section>', dom, re.S)
    check(chart is not None, "chart section in the DOM")
    check(chart.group(1).count("<rect") >= 20, "chart bars (%d rects)" % chart.group(1).count("<rect"))
    for lane in ("ual", "signin", "entra_audit", "rule hits"):
        check(">%s</text>" % lane in chart.group(1), "chart lane " + lane)
    story = dom[dom.index('<section id="story">'):]
    rows = story.count('<details class="row ')
    check(rows == len(expected), "story rows: %d, the timeline has %d" % (rows, len(expected)))
    check(story.count('<section class="day">') == len(days), "story grouped by day (%d days)" % len(days))
    check("Thursday 2021-01-14 (UTC)" in story, "day heading with UTC")
    check('id="pivots"' in dom and "Top addresses" in dom and "54.193.127.66" in dom, "pivots")
    corr = re.search(r'<section id="correlation">(.*?)</section>', dom, re.S)
    check(corr is not None and corr.group(1).count("<tr>") >= 2, "correlation hits with their extent")
    # the picture: mostly white page with text, badges and the chart drawn
    width, height, bpp, rows_px = png_pixels(png)
    total = dark = red = 0
    for line in rows_px[::2]:
        for i in range(0, width * bpp, bpp * 2):
            r, g, b = line[i], line[i + 1], line[i + 2]
            total += 1
            if r < 235 or g < 235 or b < 235:
                dark += 1
            if r > 150 and g < 60 and b < 60:  # the critical colour (#b00020)
                red += 1
    share = dark / total
    print("screenshot %dx%d: %.1f%% non-white, %d critical-red samples" % (width, height, 100 * share, red))
    check(share > 0.03, "page not blank (%.2f%% non-white pixels)" % (100 * share))
    check(red > 20, "critical severity colour drawn (%d samples)" % red)


def hostile(report, workdir):
    dom, _ = render(report, workdir, screenshot=False)  # what ran is in the DOM; one browser start is enough
    title = re.search(r"<title>(.*?)</title>", dom, re.S)
    check(title is not None and title.group(1) == "audithound report",
          "title unchanged (got %r)" % (title.group(1) if title else None))
    check("<pwned" not in dom, "no element created by a payload")
    from html.parser import HTMLParser

    class Elements(HTMLParser):
        def __init__(self):
            super().__init__()
            self.tags, self.handlers = set(), []

        def handle_starttag(self, tag, attrs):
            self.tags.add(tag)
            self.handlers += [(tag, k) for k, _ in attrs if k.startswith("on")]

    parsed = Elements()
    parsed.feed(dom)
    check(not parsed.tags & {"script", "img", "iframe", "object", "embed", "pwned"},
          "no element from a payload (%s)" % sorted(parsed.tags & {"script", "img", "iframe", "object", "embed", "pwned"}))
    check(not parsed.handlers, "no event-handler attribute in the DOM: %s" % parsed.handlers)
    check("&lt;script&gt;document.title='pwned'&lt;/script&gt;@contoso.com" in dom,
          "the script payload shown as text")
    check("onerror=\"document.title='pwned'" in dom.replace("&quot;", '"'), "the onerror payload shown as text")
    check("\\u202e" in dom, "bidirectional override shown escaped")
    check(not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", dom), "no control character in the page")


def main():
    if len(sys.argv) < 4 or sys.argv[1] not in ("tenant", "hostile"):
        print(__doc__)
        sys.exit(2)
    if sys.argv[1] == "tenant":
        tenant(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        hostile(sys.argv[2], sys.argv[3])
    print("ok")


if __name__ == "__main__":
    main()
