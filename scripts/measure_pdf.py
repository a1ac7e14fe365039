"""Compare PDF text extractors on PDFs generated here: word accuracy against the source text,
pages per second, and wheel size. Used once to pick the PDF library (issue 15); kept to rerun.

    pip install pypdf pdfminer.six   # the two candidates not kept as dependencies
    python scripts/measure_pdf.py [PAGES]
"""

from __future__ import annotations

import difflib
import io
import random
import sys
import time

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate, Paragraph

WORDS = ("river bridge council budget minister harbour station festival tonnes kilometres museum "
         "election report engineers winter railway library hospital scientists").split()


def paragraphs(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(40, 90))).capitalize() + "." for _ in range(n)]


def make_pdf(paras: list[str], columns: int = 1) -> bytes:
    buf = io.BytesIO()
    doc = BaseDocTemplate(buf, pagesize=A4)
    w, h = A4
    margin = 60
    if columns == 1:
        frames = [Frame(margin, margin, w - 2 * margin, h - 2 * margin)]
    else:
        col = (w - 2 * margin - 20) / 2
        frames = [Frame(margin, margin, col, h - 2 * margin), Frame(margin + col + 20, margin, col, h - 2 * margin)]

    def header(canvas, d):  # a running header and footer, as real reports have
        canvas.drawString(margin, h - 40, "Annual Report 2024")
        canvas.drawString(w / 2, 30, str(d.page))

    doc.addPageTemplates([PageTemplate(frames=frames, onPage=header)])
    style = getSampleStyleSheet()["BodyText"]
    doc.build([Paragraph(p, style) for p in paras])
    return buf.getvalue()


def extract_pdfium(data: bytes) -> list[str]:
    import pypdfium2 as pdfium
    pdf = pdfium.PdfDocument(data)
    out = []
    for i in range(len(pdf)):
        page = pdf[i]
        tp = page.get_textpage()
        out.append(tp.get_text_range())
        tp.close()
        page.close()
    pdf.close()
    return out


def extract_pypdf(data: bytes) -> list[str]:
    from pypdf import PdfReader
    return [p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages]


def extract_pdfminer(data: bytes) -> list[str]:
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LTTextContainer
    return ["".join(el.get_text() for el in page if isinstance(el, LTTextContainer))
            for page in extract_pages(io.BytesIO(data))]


def accuracy(source: list[str], pages: list[str]) -> float:
    # Word sequence similarity after dropping the header/footer words; line-end hyphens are not
    # produced by reportlab, so this measures words and reading order.
    want = " ".join(source).split()
    got = [t for t in " ".join(pages).split() if t not in ("Annual", "Report", "2024") and not t.isdigit()]
    return difflib.SequenceMatcher(None, want, got, autojunk=False).ratio()


def main() -> None:
    n_pages = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    paras = paragraphs(n_pages * 6)
    one = make_pdf(paras, 1)
    two_paras = paragraphs(14, seed=1)
    two = make_pdf(two_paras, 2)
    for name, fn in [("pypdfium2", extract_pdfium), ("pypdf", extract_pypdf), ("pdfminer.six", extract_pdfminer)]:
        t = time.perf_counter()
        pages = fn(one)
        dt = time.perf_counter() - t
        acc1 = accuracy(paras, pages)
        acc2 = accuracy(two_paras, fn(two))
        print(f"{name:13s} pages={len(pages):4d} pages/s={len(pages) / dt:8.1f} "
              f"word-accuracy one-column={acc1:.4f} two-column={acc2:.4f}")




def measure_edges(n_pages: int = 100) -> None:
    """How many chunks a running header and page-number footer reach, with and without dropping them."""
    import tempfile
    from pathlib import Path

    from rag.ingest.chunking import chunk_spans
    from rag.ingest import pages as paged
    from rag.ingest.pdf import read_pages

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "r.pdf"
        path.write_bytes(make_pdf(paragraphs(n_pages * 6), 1))
        lines, _ = read_pages(path)
    for name, repeated in (("kept", set()), ("dropped", paged.repeated_edges(lines))):
        text, _ = paged.join_pages(paged.reflow(paged.strip_edges(ls, repeated, i)) for i, ls in enumerate(lines))
        spans = chunk_spans(text)
        hit = sum("Annual Report 2024" in text[s:e] for s, e in spans)
        print(f"headers/footers {name:8s}: {hit}/{len(spans)} chunks hold the running header")


if __name__ == "__main__":
    main()
    measure_edges()
