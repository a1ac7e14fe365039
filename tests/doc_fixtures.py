"""Small real PDF and Word files made by the tests: multi-page with running headers, a two-column page,
a scanned (image only) page, an encrypted file, a table."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

WIDTH, HEIGHT = A4
LEFT, TOP, LEADING = 72, HEIGHT - 100, 14


def write_pdf(path: Path, pages: Sequence[Sequence[str]], header: str | None = None, footer: bool = False,
              title: str | None = None, columns: Sequence[Sequence[Sequence[str]]] = (), encrypt: str | None = None,
              image_pages: int = 0) -> Path:
    """Each page is a list of lines drawn top to bottom. ``columns`` adds pages with two columns of
    lines (left then right); ``image_pages`` adds pages with only a drawn shape (no text layer)."""
    c = canvas.Canvas(str(path), pagesize=A4, encrypt=encrypt)
    if title:
        c.setTitle(title)
    number = 0

    def edges() -> None:
        if header:
            c.drawString(LEFT, HEIGHT - 50, header)
        if footer:
            c.drawString(WIDTH / 2, 40, f"Page {number}")

    for lines in pages:
        number += 1
        edges()
        for i, line in enumerate(lines):
            c.drawString(LEFT, TOP - i * LEADING, line)
        c.showPage()
    for left, right in columns:
        number += 1
        edges()
        for x, column in ((LEFT, left), (WIDTH / 2 + 10, right)):
            for i, line in enumerate(column):
                c.drawString(x, TOP - i * LEADING, line)
        c.showPage()
    for _ in range(image_pages):
        c.rect(100, 100, 300, 400, fill=1)
        c.showPage()
    c.save()
    return path


def write_docx(path: Path, blocks: Sequence[str | Sequence[Sequence[str]]], title: str | None = None) -> Path:
    """A paragraph per string; a table per list of rows."""
    import docx

    document = docx.Document()
    if title:
        document.core_properties.title = title
    for block in blocks:
        if isinstance(block, str):
            document.add_paragraph(block)
        else:
            table = document.add_table(rows=len(block), cols=len(block[0]))
            for r, row in enumerate(block):
                for col, value in enumerate(row):
                    table.cell(r, col).text = value
    document.save(str(path))
    return path
