"""What every loader shares: the loader registry (one module per format registers its suffixes),
the error a loader raises for a file it cannot use, and small text helpers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..records import Document

Loader = Callable[[Path], Document]
LOADERS: dict[str, Loader] = {}
# Like git: a NUL byte in the first 8000 bytes means binary. UTF-8 text never holds one.
BINARY_PROBE_BYTES = 8000


class Unusable(ValueError):
    """The file is there but cannot be indexed; the message says why in a few words, e.g.
    "encrypted: it needs a password, which is not supported". The build warns with it and goes on."""


class BinaryFile(ValueError):
    """The file holds NUL bytes: it is not text, whatever its name says."""


def register(*suffixes: str) -> Callable[[Loader], Loader]:
    """Register a loader for file suffixes (lower case, with the dot)."""

    def add(loader: Loader) -> Loader:
        for suffix in suffixes:
            LOADERS[suffix] = loader
        return loader

    return add


def read_text(path: Path) -> str:
    data = path.read_bytes()
    if b"\0" in data[:BINARY_PROBE_BYTES]:
        raise BinaryFile(str(path))
    return data.decode("utf-8")


def first_line_title(text: str, fallback: str) -> str:
    """The first non-empty line (markdown heading marks dropped), or the fallback."""
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line[:200]
    return fallback
