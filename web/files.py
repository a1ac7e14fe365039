"""The original file of an indexed document, for /doc/{id}/file. The path comes only from the index
(the document's source), never from the request, so no request can name another file."""

from __future__ import annotations

from pathlib import Path

from rag.ingest import LOADERS
from rag.records import Document

MEDIA_TYPES = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".markdown": "text/markdown; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
}
# An indexed HTML page is someone else's markup: shown in a sandbox (no scripts, its own origin).
# PDFs are not sandboxed: Chromium's PDF viewer refuses to run in a sandboxed document.
SANDBOXED = {".html", ".htm"}


def original_file(doc: Document) -> tuple[Path, str] | None:
    """The file the document was read from and its content type, or None when it has no file of its
    own (a corpus.jsonl record) or the file is gone."""
    path = Path(doc.source)
    suffix = path.suffix.lower()
    if suffix not in LOADERS or suffix not in MEDIA_TYPES or not path.is_file():
        return None
    return path, MEDIA_TYPES[suffix]


def file_headers(path: Path) -> dict[str, str]:
    headers = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
               "Cache-Control": "no-cache"}
    if path.suffix.lower() in SANDBOXED:
        headers["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'"
    return headers
