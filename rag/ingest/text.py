"""Plain text and markdown: the file decoded as UTF-8, kept exactly (offsets index into it)."""

from __future__ import annotations

from pathlib import Path

from ..records import Document
from .base import first_line_title, read_text, register


@register(".txt", ".md", ".markdown")
def load_text(path: Path) -> Document:
    text = read_text(path)
    return Document(doc_id=path.stem, title=first_line_title(text, path.stem), source=str(path), text=text)
