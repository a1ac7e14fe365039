"""PDF through PDFium (pypdfium2): chosen by measurement over pypdf and pdfminer.six, the same
word accuracy on generated one- and two-column PDFs at 2.5x and 10x their pages/s
(scripts/measure_pdf.py). One page is open at a time, so a 1,000-page PDF reads in bounded memory."""

from __future__ import annotations

from pathlib import Path

from tqdm import tqdm

from ..records import Document
from .base import Unusable, first_line_title, register
from .pages import join_pages, page_lines, reflow, repeated_edges, strip_edges

# PDFium's FPDF_GetLastError codes (fpdfview.h).
_ERR_FORMAT, _ERR_PASSWORD, _ERR_SECURITY = 3, 4, 5
# The PDF header may sit anywhere in the first kilobyte (PDF 1.7, annex H).
_HEADER_PROBE = 1024
_PROGRESS_PAGES = 100
# What PDF writers put in the Title when nobody set one (reportlab says "untitled").
_PLACEHOLDER_TITLES = {"untitled", "anonymous", "title", "(anonymous)"}


def _open(path: Path):  # -> pypdfium2.PdfDocument
    import pypdfium2 as pdfium

    with path.open("rb") as fh:
        if b"%PDF-" not in fh.read(_HEADER_PROBE):
            raise Unusable("not a PDF (no %PDF header)")
    try:
        return pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        code = getattr(exc, "err_code", None)
        if code in (_ERR_PASSWORD, _ERR_SECURITY):
            raise Unusable("encrypted: it needs a password, which is not supported") from None
        if code == _ERR_FORMAT:
            raise Unusable("a damaged PDF (PDFium cannot parse it)") from None
        raise Unusable(f"cannot be opened as a PDF ({exc})") from None


def read_pages(path: Path) -> tuple[list[list[str]], str]:
    """Each page's lines, and the title from the PDF's metadata ("" if none)."""
    pdf = _open(path)
    try:
        title = (pdf.get_metadata_dict().get("Title") or "").strip()
        if title.lower() in _PLACEHOLDER_TITLES:
            title = ""
        pages: list[list[str]] = []
        # A long PDF takes seconds: a bar on a terminal (tqdm's disable=None: off when not a TTY).
        for i in tqdm(range(len(pdf)), desc=f"reading {path.name}", unit="page", leave=False,
                      disable=None if len(pdf) >= _PROGRESS_PAGES else True):
            page = pdf[i]
            textpage = page.get_textpage()
            try:
                pages.append(page_lines(textpage.get_text_range()))
            finally:
                textpage.close()
                page.close()
        return pages, title
    finally:
        pdf.close()


@register(".pdf")
def load_pdf(path: Path) -> Document:
    pages, title = read_pages(path)
    if not any(pages):
        raise Unusable("no text layer: OCR is not supported")
    repeated = repeated_edges(pages)
    text, ranges = join_pages(reflow(strip_edges(lines, repeated, i)) for i, lines in enumerate(pages))
    return Document(doc_id=path.stem, title=title[:200] or first_line_title(text, path.stem), source=str(path),
                    text=text, pages=ranges)
