"""PDF through PDFium (pypdfium2): chosen by measurement over pypdf and pdfminer.six, the same
word accuracy on generated one- and two-column PDFs at 2.5x and 10x their pages/s
(scripts/measure_pdf.py); its text is laid out as a person reads it by ``pdf_layout`` (measured
against pdftotext by scripts/pdf_quality.py). One page is open at a time. Pages without a text layer
are read by Tesseract when it is installed (``ocr``); page ranges stay those of the PDF's pages."""

from __future__ import annotations

from pathlib import Path

from tqdm import tqdm

from ..records import Document
from . import ocr
from .base import Unusable, first_line_title, register
from .pages import join_pages, page_lines
from .pdf_layout import Page, body_size, page_text, read_page, running_lines, title_lines, vocabulary
from .titles import choose_title

# PDFium's FPDF_GetLastError codes (fpdfview.h).
_ERR_FORMAT, _ERR_PASSWORD, _ERR_SECURITY = 3, 4, 5
# The PDF header may sit anywhere in the first kilobyte (PDF 1.7, annex H).
_HEADER_PROBE = 1024
_PROGRESS_PAGES = 100
# The metadata title must be found in the first page's opening lines (rag/ingest/titles.py).
_OPENING_LINES = 8


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
    """Each page's lines as PDFium gives them, and the metadata title ("" if none). The extractor
    before issue 23, kept for scripts/pdf_quality.py and scripts/measure_pdf.py to compare with."""
    pdf = _open(path)
    try:
        title = (pdf.get_metadata_dict().get("Title") or "").strip()
        pages: list[list[str]] = []
        for i in range(len(pdf)):
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


def read_layout(path: Path) -> tuple[list[Page], dict[int, str], int, str]:
    """The pages with their lines and geometry; the OCR text of image-only pages (by index, when
    Tesseract is there); how many image-only pages were left unread (no Tesseract); the metadata
    title."""
    pdf = _open(path)
    try:
        title = (pdf.get_metadata_dict().get("Title") or "").strip()
        can_ocr = ocr.available()
        pages: list[Page] = []
        scanned: dict[int, str] = {}
        unread = 0
        # A long PDF takes seconds: a bar on a terminal (tqdm's disable=None: off when not a TTY).
        for i in tqdm(range(len(pdf)), desc=f"reading {path.name}", unit="page", leave=False,
                      disable=None if len(pdf) >= _PROGRESS_PAGES else True):
            page = pdf[i]
            textpage = page.get_textpage()
            try:
                layout = read_page(page, textpage)
                pages.append(layout)
                if not layout.has_text and ocr.has_image(page):
                    if can_ocr:
                        scanned[i] = ocr.ocr_page(page)
                    else:
                        unread += 1
            finally:
                textpage.close()
                page.close()
        return pages, scanned, unread, title
    finally:
        pdf.close()


@register(".pdf")
def load_pdf(path: Path) -> Document:
    pages, scanned, unread, title = read_layout(path)
    if not any(page.has_text for page in pages) and not any(scanned.values()):
        if unread:
            raise Unusable(f"no text layer (a scan): {ocr.INSTALL_HINT}")
        if scanned:
            raise Unusable("no text layer, and OCR found no words on its pages")
        raise Unusable("no text layer, and no image to read with OCR")
    notes = ()
    if unread > len(pages) / 2:
        notes = (f"{unread} of {len(pages)} pages are images without a text layer and were not read "
                 f"({ocr.INSTALL_HINT})",)
    body = body_size(pages)
    drop = running_lines(pages, body)
    words, compounds = vocabulary(pages)
    text, ranges = join_pages(scanned[i] if i in scanned else page_text(page, drop, words, compounds)
                              for i, page in enumerate(pages))
    opening = pages[0] if pages[0].has_text else None
    heading = title_lines(opening, body) if opening else ""
    first_lines = "\n".join(text[ranges[0][0]:ranges[0][1]].splitlines()[:_OPENING_LINES])
    fallback = first_line_title(text, path.stem)
    return Document(doc_id=path.stem, title=choose_title(title, heading, first_lines, fallback), source=str(path),
                    text=text, pages=ranges, notes=notes)
