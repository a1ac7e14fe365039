"""Load documents: .txt and .md files, .html (visible text only), .pdf (with page ranges), .docx, BEIR-style
corpus.jsonl, and folders of them. Each file format is one module in ``rag.ingest``, registered by suffix.
A file that cannot be read, decoded or parsed, or that is binary (NUL bytes), is skipped with one
warning line naming it and why; so is a corpus record without an id or text."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from ..errors import UserError
from . import LOADERS, BinaryFile, Unusable, first_line_title
from .base import BINARY_PROBE_BYTES
from .bounded import Limits, load_bounded
from .html import html_to_text, load_html
from .text import load_text
from ..records import Document

log = logging.getLogger("rag")

JSONL_NAMES = {"corpus.jsonl"}

Warn = Callable[[str], None]


def _default_warn(message: str) -> None:
    log.warning(message)


def write_corpus_jsonl(rows: Iterable[dict[str, str]], folder: Path) -> Path:
    """``folder``/corpus.jsonl holding ``rows`` (``{"_id", "title", "text"}``), rewritten only when its
    bytes would change, so an index built from it finds every unchanged record already embedded."""
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
    corpus = folder / "corpus.jsonl"
    if not corpus.is_file() or corpus.read_bytes() != data:
        folder.mkdir(parents=True, exist_ok=True)
        corpus.write_bytes(data)
    return corpus


def load_corpus_jsonl(path: Path, warn: Warn = _default_warn) -> Iterator[Document]:
    """BEIR layout: one ``{"_id", "title", "text"}`` object a line; the document id is ``_id``.

    The title is kept as metadata; the text is what gets chunked and cited."""
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                row = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                warn(f"skipped {path}:{lineno}: not a corpus record ({type(exc).__name__})")
                continue
            if not isinstance(row, dict):
                warn(f"skipped {path}:{lineno}: not a corpus record (a JSON object with _id and text)")
                continue
            raw_id, text, title = row.get("_id"), row.get("text"), row.get("title")
            # A null, missing or structured id would become a document called "None" or "[...]".
            if not isinstance(raw_id, (str, int)) or isinstance(raw_id, bool) or not str(raw_id).strip():
                warn(f"skipped {path}:{lineno}: the record has no usable _id (a non-empty string)")
                continue
            doc_id = str(raw_id)
            if not isinstance(text, str) or not text.strip():
                warn(f"skipped {path}:{lineno}: the record {doc_id!r} has no text")
                continue
            title = title if isinstance(title, str) else ""
            yield Document(doc_id=doc_id, title=title or first_line_title(text, doc_id), source=f"{path}#{doc_id}", text=text)


def _load_file(path: Path, warn: Warn, unreadable: list[Path] | None = None,
               limits: Limits | None = None) -> Iterator[Document]:
    """The documents of one file. A file that is there but cannot be used is warned about and, when
    ``unreadable`` is given, added to it (so a build can keep what it indexed from it before).
    Each file is read within ``limits`` (rag/ingest/bounded.py: worker process, memory, time, text)."""
    suffix = path.suffix.lower()
    skipped = unreadable if unreadable is not None else []
    try:
        if path.name in JSONL_NAMES or suffix == ".jsonl":
            yield from load_corpus_jsonl(path, warn)
            return
        loader = LOADERS.get(suffix)
        if loader is None:
            return
        doc = load_bounded(path, loader, limits or Limits.from_env())
    except Unusable as exc:
        warn(f"skipped {path}: {exc}")
        skipped.append(path)
        return
    except UnicodeDecodeError:
        warn(f"skipped {path}: not valid UTF-8 text")
        skipped.append(path)
        return
    except BinaryFile:
        warn(f"skipped {path}: a binary file (it holds NUL bytes), not text")
        skipped.append(path)
        return
    except OSError as exc:
        warn(f"skipped {path}: cannot be read ({exc.strerror or exc})")
        skipped.append(path)
        return
    except Exception as exc:  # a parser failure on one file must not stop the build
        warn(f"skipped {path}: cannot be parsed ({type(exc).__name__}: {exc})")
        skipped.append(path)
        return
    for note in doc.notes:
        warn(f"{path}: {note}")
    if doc.text.strip():
        yield doc
    else:
        warn(f"skipped {path}: no text")


def is_supported(path: Path) -> bool:
    suffix = path.suffix.lower()
    return suffix in LOADERS or suffix == ".jsonl"


def iter_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Supported files under the given paths, in a stable order. A missing path is a user error."""
    for path in paths:
        path = Path(path)
        if not path.exists():
            raise UserError(f"path does not exist: {path}")
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file() and is_supported(p)):
                if not any(part.startswith(".") for part in child.relative_to(path).parts):
                    yield child
        else:
            yield path


def load_documents(paths: Iterable[Path | str], warn: Warn = _default_warn,
                   unreadable: list[Path] | None = None, limits: Limits | None = None) -> list[Document]:
    """Every document under ``paths``; duplicate ids keep the first and warn about the rest. Files
    that are there but could not be used are added to ``unreadable`` when it is given. ``limits``
    bound each file's reading (default: RAG_MAX_TEXT_CHARS, RAG_EXTRACT_MEMORY_MB, RAG_EXTRACT_SECONDS)."""
    docs: dict[str, Document] = {}
    limits = limits or Limits.from_env()
    for file in iter_files(Path(p) for p in paths):
        for doc in _load_file(file, warn, unreadable, limits):
            if doc.doc_id in docs:
                warn(f"skipped {doc.source}: document id {doc.doc_id!r} already taken by {docs[doc.doc_id].source}")
                continue
            docs[doc.doc_id] = doc
    return list(docs.values())


__all__ = ["load_documents", "load_text", "load_html", "load_corpus_jsonl", "write_corpus_jsonl", "html_to_text", "iter_files",
           "is_supported", "first_line_title", "BinaryFile", "BINARY_PROBE_BYTES"]
