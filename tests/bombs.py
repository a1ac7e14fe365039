"""Small files that expand: a PDF whose text is far longer than the file (a text bomb), a PDF with a
Flate stream that inflates to hundreds of megabytes, and Word files whose zip members inflate past
what they declare or at absurd ratios. Made here, in a second or less, never committed."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

from tests.doc_fixtures import write_docx


def _pdf(content: bytes, filtered: bool) -> bytes:
    """A one-page PDF with the given content stream (Flate-compressed when ``filtered``)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> "
        b"/Contents 4 0 R >>",
        b"<< /Length %d%s >>\nstream\n" % (len(content), b" /Filter /FlateDecode" if filtered else b"")
        + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def text_bomb_pdf(path: Path, chars: int) -> Path:
    """A PDF of a few kilobytes whose one page holds ``chars`` characters of text."""
    line = b"(" + b"boom " * 20 + b") Tj T*\n"  # 100 characters a line
    head = b"BT /F1 1 Tf 1 TL 10 780 Td\n"
    stream = zlib.compress(head + line * (chars // 100) + b"ET", 9)
    path.write_bytes(_pdf(stream, True))
    return path


def flate_bomb_pdf(path: Path, inflated: int) -> Path:
    """A PDF with one line of real text and a content stream that inflates to ``inflated`` bytes."""
    z = zlib.compressobj(9)
    parts = [z.compress(b"BT /F1 12 Tf 72 700 Td (The harbour bridge opened in March.) Tj ET\n")]
    block, left = b" " * (1 << 20), inflated
    while left > 0:  # a megabyte at a time: the bomb is never held whole here
        parts.append(z.compress(block[:left]))
        left -= min(left, len(block))
    parts.append(z.flush())
    path.write_bytes(_pdf(b"".join(parts), True))
    return path


def _zip(members: list[tuple[str, bytes, int, int]]) -> bytes:
    """A zip of (name, deflated bytes, declared size, crc) members, written by hand so the declared
    size may lie."""
    out = io.BytesIO()
    central = []
    for name, raw, size, crc in members:
        offset = out.tell()
        encoded = name.encode()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(raw), size, len(encoded), 0))
        out.write(encoded + raw)
        central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(raw), size,
                                   len(encoded), 0, 0, 0, 0, 0, offset) + encoded)
    start = out.tell()
    for entry in central:
        out.write(entry)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), out.tell() - start, start, 0))
    return out.getvalue()


def _raw_deflate(data: bytes) -> bytes:
    z = zlib.compressobj(9, zlib.DEFLATED, -15)
    return z.compress(data) + z.flush()


def zip_bomb_docx(path: Path, inflated: int, lie: bool = False) -> Path:
    """A real Word document plus a member of ``inflated`` zero bytes. ``lie``: the member declares a
    size no larger than it would need at a plausible ratio, so only inflating it shows the truth."""
    import zipfile

    buf = io.BytesIO()
    write_docx(path, ["Bomb notes", "The ferry runs on Sundays."])
    with zipfile.ZipFile(path) as zf:
        members = [(i.filename, _raw_deflate(zf.read(i)), i.file_size, i.CRC) for i in zf.infolist()]
    z = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = b"\0" * (1 << 20)
    parts, left, crc = [], inflated, 0
    while left > 0:
        chunk = block[:left]
        parts.append(z.compress(chunk))
        crc = zlib.crc32(chunk, crc)
        left -= len(chunk)
    parts.append(z.flush())
    raw = b"".join(parts)
    declared = len(raw) * 4 if lie else inflated
    members.append(("word/media/image1.png", raw, declared, crc))
    buf.write(_zip(members))
    path.write_bytes(buf.getvalue())
    return path
