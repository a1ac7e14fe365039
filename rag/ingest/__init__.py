"""Stage 1, documents: files -> ``Document`` records (documents), their sentences (sentences) and
chunks with exact offsets (chunking).

Loaders, one module per format; each registers the suffixes it reads in ``LOADERS``. A new format
is one module here that decorates ``def load(path) -> Document`` with ``@register(".ext")`` and is
imported below."""

from __future__ import annotations

from . import html, pdf, text, word  # noqa: F401  (importing registers the loaders)
from .base import LOADERS, BinaryFile, Loader, Unusable, first_line_title, read_text, register
from .pages import PageRanges, page_at

__all__ = ["LOADERS", "BinaryFile", "Loader", "Unusable", "first_line_title", "read_text", "register",
           "PageRanges", "page_at"]
