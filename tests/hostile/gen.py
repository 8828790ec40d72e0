#!/usr/bin/env python3
"""gen.py: the hostile-input corpus, generated (never committed).

    python3 tests/hostile/gen.py OUTDIR        write every case's files into OUTDIR

Each function below writes the inputs of one case: shapes that made
audithound lose records silently, spin, alter evidence or print raw
terminal escapes (issue 10). Large inputs (bombs, huge records) are
streamed to disk in chunks, never built in memory. Standard library only;
deterministic (no randomness), so a failure reproduces.
"""

import gzip
import io
import json
import os
import sys
import zipfile
import zlib

UAL = ('{"CreationTime":"2021-01-13T16:%02d:00","Id":"hostile-%d","Operation":"%s","OrganizationId":"o",'
       '"RecordType":1,"UserId":"a@contoso.com","Workload":"Exchange","ResultStatus":"True",'
       '"ClientIP":"192.0.2.%d"}\n')


def records(n, first=0, op='Add user.'):
    """n UAL AuditData records as JSON Lines (bytes)."""
    return b''.join((UAL % ((first + i) % 60, first + i, op, (first + i) % 250 + 1)).encode() for i in range(n))


def write(path, data):
    with open(path, 'wb') as f:
        f.write(data)
    return path


def gz(data):
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode='wb', mtime=0) as g:
        g.write(data)
    return buf.getvalue()


def stream_gz(path, chunks):
    """Write a gzip member of the concatenated chunks (an iterator) without holding them."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    with open(path, 'wb') as f:
        for c in chunks:
            f.write(comp.compress(c))
        f.write(comp.flush())
    return path


def repeat(byte, total, block=1 << 20):
    chunk = byte * block
    while total > 0:
        yield chunk[:min(block, total)]
        total -= block


# --- the cases' inputs ------------------------------------------------------------

def nul_prefix(out):
    """512+ NUL bytes before the records: not an empty tar (plain and gzip)."""
    data = b'\0' * 512 + records(5)
    write(os.path.join(out, 'nul512.jsonl'), data)
    write(os.path.join(out, 'nul10240.jsonl.gz'), gz(b'\0' * 10240 + records(5)))


def blank_prefix(out):
    """5,000 blank lines before the records: no prefix limit."""
    write(os.path.join(out, 'blank5000.jsonl'), b'\n' * 5000 + records(5))


def newline_bomb(out):
    """A gzip of 64 MiB of newlines then records: read to the records, not 'finished' empty."""
    stream_gz(os.path.join(out, 'newline-bomb.jsonl.gz'),
              iter(list(repeat(b'\n', 64 << 20)) + [records(3)]))


def truncated_gzip(out):
    """head -c 3000 of a JSONL.gz, and the lines zlib recovers from it."""
    full = gz(records(5000))
    assert len(full) > 6000, 'the cut must fall inside the data'
    cut = full[:3000]
    write(os.path.join(out, 'cut.jsonl.gz'), cut)
    d = zlib.decompressobj(31)
    text = d.decompress(cut)
    return text.count(b'\n')


def nul_only(out):
    """2 MiB of NULs and blanks: ends, as an input without a record."""
    with open(os.path.join(out, 'nuls.jsonl'), 'wb') as f:
        for c in repeat(b'\0', 2 << 20):
            f.write(c)
        f.write(b'\n \r\n')


def control_characters(out):
    """New-InboxRule with an escaped NUL, a raw NUL, and an ESC: rules must still match."""
    esc = records(1, 0, 'New-InboxRule\\u0000')
    raw = records(1, 1, 'New-Inbox#Rule').replace(b'#', b'\0')
    ansi = records(1, 2, 'New-InboxRule\x1b[2J')
    write(os.path.join(out, 'ctl.jsonl'), esc + raw + ansi)


def escape_names(out):
    """ESC and BEL in a zip member name (window title and clear-screen sequences)."""
    path = os.path.join(out, 'names.zip')
    with zipfile.ZipFile(path, 'w') as z:
        z.writestr('evil\x1b]0;pwned\x07\x1b[2J.json', records(2).decode())
        z.writestr('plain\x1b[31mred.txt', 'just prose here\n')
    return path


def not_logs(out):
    """A case folder as analysts receive it: exports plus notes and binaries."""
    d = os.path.join(out, 'case-folder')
    os.makedirs(d, exist_ok=True)
    write(os.path.join(d, 'ual.jsonl'), records(4))
    write(os.path.join(d, 'README.md'), b'# Case 2021-017\n\nExports received from the client on Monday.\n' * 30)
    write(os.path.join(d, 'notes.yaml'), b'case: 2021-017\nanalyst: jd\nitems:\n  - ual.jsonl\n')
    elf = b'\x7fELF\x02\x01\x01' + b'\0' * 9 + b'\x02\0>\0\x01\0\0\0' + bytes(range(256)) * 8
    write(os.path.join(d, 'collector'), elf)
    write(os.path.join(d, 'Security.evtx'), b'ElfFile\0' + b'\0' * 120 + bytes(range(1, 200)) * 4)
    # named like a log but not one: unreadable
    write(os.path.join(out, 'mislabelled.json'), elf)
    return d


def empty_inputs(out):
    os.makedirs(os.path.join(out, 'empty-dir'), exist_ok=True)
    write(os.path.join(out, 'zero.csv'), b'')


def huge_record(out, mb):
    """One UAL record holding an mb-MiB parameter value, streamed to disk."""
    path = os.path.join(out, 'huge.jsonl')
    head = (b'{"CreationTime":"2021-01-13T16:00:00","Id":"huge-1","Operation":"New-InboxRule",'
            b'"OrganizationId":"o","RecordType":1,"UserId":"a@contoso.com","Workload":"Exchange",'
            b'"ResultStatus":"True","Parameters":[{"Name":"Name","Value":"')
    with open(path, 'wb') as f:
        f.write(head)
        for c in repeat(b'A', mb << 20):
            f.write(c)
        f.write(b'"}]}\n')
    return path


def generate(out, huge_mb=40):
    os.makedirs(out, exist_ok=True)
    facts = {}
    nul_prefix(out)
    blank_prefix(out)
    newline_bomb(out)
    facts['cut_lines'] = truncated_gzip(out)
    nul_only(out)
    control_characters(out)
    escape_names(out)
    not_logs(out)
    empty_inputs(out)
    if huge_mb:
        huge_record(out, huge_mb)
    facts['huge_mb'] = huge_mb
    return facts


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    print(json.dumps(generate(sys.argv[1])))
