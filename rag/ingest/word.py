"""Word (.docx) through python-docx: paragraphs and tables in the order the body holds them; a table
row is one line, its cells joined by " | ". DOCX has no fixed pages, so the document has none."""

from __future__ import annotations

import zipfile
from pathlib import Path

from ..records import Document
from .base import Unusable, first_line_title, register

_CELL_SEPARATOR = " | "


def _table_lines(table) -> list[str]:  # docx.table.Table
    lines = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = " ".join(cell.text.split())
            # A merged cell is returned once per grid column it spans; say it once.
            if text and (not cells or cells[-1] != text):
                cells.append(text)
        if cells:
            lines.append(_CELL_SEPARATOR.join(cells))
    return lines


def docx_lines(path: Path) -> tuple[list[str], str]:
    """The body's lines in reading order, and the title from the core properties ("" if none)."""
    if not zipfile.is_zipfile(path):
        raise Unusable("not a Word document (a .docx is a zip archive; this is not one)")
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise Unusable(f"not a Word document ({type(exc).__name__})") from None
    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            lines.extend(_table_lines(block))
        else:
            text = " ".join(block.text.split())
            if text:
                lines.append(text)
    return lines, (document.core_properties.title or "").strip()


@register(".docx")
def load_docx(path: Path) -> Document:
    lines, title = docx_lines(path)
    text = "\n".join(lines)
    return Document(doc_id=path.stem, title=title[:200] or first_line_title(text, path.stem), source=str(path),
                    text=text)
