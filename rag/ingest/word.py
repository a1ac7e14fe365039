"""Word (.docx) through python-docx: paragraphs and tables in the order the body holds them; a table
row is one line, every cell kept and joined by " | ". DOCX has no fixed pages, so the document has
none. The title: the core properties' title when it looks like one (``titles``), else the first
paragraph styled Title or Heading 1, else the first line."""

from __future__ import annotations

import zipfile
from pathlib import Path

from ..records import Document
from .base import Unusable, first_line_title, register
from .titles import choose_title

_CELL_SEPARATOR = " | "
# The styles a title is set in, the first found wins.
_TITLE_STYLES = ("Title", "Heading 1")
# The metadata title must be found in the document's opening lines (rag/ingest/titles.py).
_OPENING_LINES = 8


def _table_lines(table) -> list[str]:  # docx.table.Table
    """One line a row, every cell in order: an empty cell stays (as an empty cell between two
    separators) so the columns keep their places, and a merged cell is said once: a cell spanning
    columns once in its row, a cell spanning rows in its first row (empty below)."""
    from docx.table import _Cell

    lines = []
    for row in table.rows:
        # The row's own cells (w:tc), not python-docx's grid view, which repeats a merged cell
        # once per grid column and per row it covers.
        cells = ["" if tc.vMerge == "continue" else " ".join(_Cell(tc, table).text.split())
                 for tc in row._tr.tc_lst]
        if any(cells):
            lines.append(_CELL_SEPARATOR.join(cells))
    return lines


def docx_lines(path: Path) -> tuple[list[str], str, str]:
    """The body's lines in reading order, the title from the core properties ("" if none), and the
    first paragraph styled Title (else the first Heading 1; "" if none)."""
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
    headings: dict[str, str] = {}
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            lines.extend(_table_lines(block))
        else:
            text = " ".join(block.text.split())
            if text:
                lines.append(text)
                style = block.style.name if block.style is not None else ""
                if style in _TITLE_STYLES:
                    headings.setdefault(style, text)
    heading = next((headings[s] for s in _TITLE_STYLES if s in headings), "")
    return lines, (document.core_properties.title or "").strip(), heading


@register(".docx")
def load_docx(path: Path) -> Document:
    lines, title, heading = docx_lines(path)
    text = "\n".join(lines)
    opening = "\n".join(lines[:_OPENING_LINES])
    return Document(doc_id=path.stem, title=choose_title(title, heading, opening, first_line_title(text, path.stem)),
                    source=str(path), text=text)
