"""PDF extraction throughput for `rag bench`: a PDF of N text pages written here (plain PDF objects, no
PDF library needed), read back through the project's PDF loader."""

from __future__ import annotations

import random
import time
from pathlib import Path

_WORDS = ("river bridge council budget minister harbour station festival tonnes kilometres museum "
          "election report engineers winter railway library hospital scientists").split()


def write_text_pdf(path: Path, pages: list[list[str]]) -> Path:
    """A minimal valid PDF: one Helvetica text line per entry, top to bottom, one page per list."""
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b"", b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    kids = []
    for lines in pages:
        text = "".join(f"({line.replace(chr(92), '').replace('(', '').replace(')', '')}) Tj T* " for line in lines)
        stream = f"BT /F1 11 Tf 14 TL 60 780 Td {text}ET".encode("latin-1", "replace")
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        content = len(objects)
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> "
                       b"/Contents %d 0 R >>" % content)
        kids.append(len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(bytes(out))
    return path


def pdf_throughput(workdir: Path, pages: int = 200, seed: int = 0) -> dict[str, float]:
    """Pages per second of the PDF loader on a generated PDF of ``pages`` pages of 40 lines."""
    from ..ingest.pdf import load_pdf

    rng = random.Random(seed)
    content = [[" ".join(rng.choice(_WORDS) for _ in range(10)).capitalize() + "." for _ in range(40)]
               for _ in range(pages)]
    path = write_text_pdf(workdir / "bench.pdf", content)
    t = time.perf_counter()
    doc = load_pdf(path)
    seconds = time.perf_counter() - t
    return {"pages": len(doc.pages), "seconds": seconds, "pages_per_s": len(doc.pages) / seconds,
            "characters": len(doc.text)}
