"""The documents an index is built from, and adding or removing one while the index is in use.

Uploaded files live in the documents folder (``Settings.documents_dir``, default ``documents/`` beside
the index). The index remembers the paths it was built from (its manifest's ``sources``); adding or
removing a document rebuilds from those paths plus the documents folder, which embeds only what
changed (``build_index`` is incremental and holds the index's writer lock)."""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..ingest.documents import load_documents
from ..errors import UserError
from ..ingest import LOADERS
from ..settings import Settings
from .store.local import read_manifest

_SAFE = re.compile(r"[^A-Za-z0-9._ -]+")
_MAX_STEM = 100
_TEXT_TYPES = {".txt", ".md", ".markdown", ".html", ".htm"}


class UploadRejected(UserError):
    """A file the documents folder will not take; ``status`` is the HTTP status that fits."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Added:
    doc_id: str
    title: str
    path: Path
    pages: int


def documents_dir(settings: Settings) -> Path:
    if settings.documents_dir:
        return Path(settings.documents_dir)
    return settings.index_dir.resolve().parent / "documents"


def recorded_sources(settings: Settings) -> list[Path]:
    """The paths the index was built from. An index built before they were recorded gives the files
    its documents came from, so that rebuilding from them drops nothing."""
    manifest = read_manifest(settings.index_dir) or {}
    if "sources" in manifest:
        return [Path(p) for p in manifest["sources"] if Path(p).exists()]
    files = {Path(meta.get("source", "").split("#", 1)[0]) for meta in manifest.get("documents", {}).values()}
    return sorted(p for p in files if str(p) not in ("", ".") and p.exists())


def index_sources(settings: Settings, paths: Sequence[str | Path] = ()) -> tuple[list[Path], str]:
    """The paths a build should read, and a note for the user when the documents folder was added.

    No paths: the recorded sources. Given paths: those, plus the documents folder when it holds
    uploads, so that `rag index PATH` never drops what a user uploaded."""
    chosen = [Path(p) for p in paths] if paths else recorded_sources(settings)
    folder = documents_dir(settings)
    note = ""
    if folder.is_dir() and any(f.is_file() and not f.name.startswith(".") for f in folder.iterdir()):
        resolved = {p.resolve() for p in chosen}
        if folder.resolve() not in resolved:
            chosen.append(folder)
            if paths:
                note = f"kept the uploaded documents in {folder} (remove them there, or in the web page, to drop them)"
    return chosen, note


def sanitise_name(filename: str) -> str:
    """A safe file name from an uploaded one: no folders, no leading dot, plain characters only."""
    name = unicodedata.normalize("NFKC", filename.replace("\\", "/").rsplit("/", 1)[-1])
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    stem = _SAFE.sub("_", stem).strip(" ._-")[:_MAX_STEM] or "document"
    suffix = _SAFE.sub("", suffix).lower()
    return f"{stem}.{suffix}" if suffix else stem


def check_content(suffix: str, data: bytes) -> None:
    """The content must be what the name says: types are checked by content, not by the name alone."""
    if suffix not in LOADERS:
        allowed = " ".join(sorted(LOADERS))
        raise UploadRejected(f"the file type {suffix or '(none)'} is not supported: use one of {allowed}", 415)
    if suffix == ".pdf":
        if b"%PDF-" not in data[:1024]:
            raise UploadRejected("the file is named .pdf but is not a PDF (no %PDF header)", 415)
    elif suffix == ".docx":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                names = set(zf.namelist())
        except zipfile.BadZipFile:
            raise UploadRejected("the file is named .docx but is not a Word document (not a zip archive)", 415) from None
        if "word/document.xml" not in names:
            raise UploadRejected("the file is named .docx but is not a Word document (no word/document.xml)", 415)
    elif suffix in _TEXT_TYPES:
        if b"\0" in data[:8000]:
            raise UploadRejected(f"the file is named {suffix} but holds binary data, not text", 415)
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            raise UploadRejected(f"the file is named {suffix} but is not UTF-8 text", 415) from None


def _free_name(folder: Path, name: str, taken_ids: set[str]) -> Path:
    """``name`` in ``folder``, or name-2, name-3 ...: never another file, never an indexed id."""
    stem, suffix = os.path.splitext(name)
    n = 1
    while True:
        candidate = folder / (f"{stem}{suffix}" if n == 1 else f"{stem}-{n}{suffix}")
        if not candidate.exists() and candidate.stem not in taken_ids:
            return candidate
        n += 1


def _same_bytes(folder: Path, digest: str) -> Path | None:
    for f in sorted(folder.iterdir()) if folder.is_dir() else []:
        if f.is_file() and not f.name.startswith("."):
            if hashlib.sha256(f.read_bytes()).hexdigest() == digest:
                return f
    return None


def add_document(settings: Settings, filename: str, data: bytes, build: Callable[[list[Path]], Any]) -> Added:
    """Check, store and index one uploaded file. ``build(paths)`` runs the (incremental) build."""
    if settings.store != "local":
        raise UploadRejected("uploads need the local store (RAG_STORE=local); index into Milvus with rag index")
    if len(data) > settings.upload_max_bytes:
        raise UploadRejected(f"the file is larger than the limit of {settings.upload_max_bytes} bytes "
                             "(RAG_UPLOAD_MAX_BYTES)", 413)
    if not data:
        raise UploadRejected("the file is empty")
    name = sanitise_name(filename)
    suffix = os.path.splitext(name)[1]
    check_content(suffix, data)
    folder = documents_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    same = _same_bytes(folder, hashlib.sha256(data).hexdigest())
    if same is not None:
        raise UploadRejected(f"the same file is already uploaded as {same.name}", 409)
    manifest = read_manifest(settings.index_dir) or {}
    indexed = manifest.get("documents", {})
    # Written to a hidden file first (folder walks skip dot files), read with the format's loader, and
    # only then given its name: a file that cannot be indexed never lands in the folder.
    fd, tmp_name = tempfile.mkstemp(prefix=".upload-", suffix=suffix, dir=folder)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        problems: list[str] = []
        docs = load_documents([tmp], warn=problems.append)
        if not docs:
            reason = problems[0].split(": ", 1)[-1] if problems else "no text"
            raise UploadRejected(f"{name} cannot be indexed: {reason}")
        for doc_id, meta in indexed.items():
            if meta.get("hash") == docs[0].content_hash:
                raise UploadRejected(f"the same document is already indexed as {doc_id}", 409)
        final = _free_name(folder, name, set(indexed))
        os.link(tmp, final)  # fails rather than overwrite if the name was taken meanwhile
    finally:
        tmp.unlink(missing_ok=True)
    try:
        paths, _ = index_sources(settings)
        build(paths)
    except BaseException:
        final.unlink(missing_ok=True)
        raise
    doc = docs[0]
    return Added(doc_id=final.stem, title=doc.title, path=final, pages=len(doc.pages))


def remove_document(settings: Settings, doc_id: str, build: Callable[[list[Path]], Any]) -> Path:
    """Delete an uploaded document's file and rebuild without it. Documents from other folders are
    the user's own files: they are not deleted from here."""
    manifest = read_manifest(settings.index_dir) or {}
    meta = manifest.get("documents", {}).get(doc_id)
    if meta is None:
        raise UploadRejected(f"there is no document {doc_id!r} in the index", 404)
    source = Path(meta.get("source", "").split("#", 1)[0])
    folder = documents_dir(settings).resolve()
    try:
        inside = source.resolve().parent == folder
    except OSError:
        inside = False
    if not inside:
        raise UploadRejected(f"{doc_id!r} comes from {source.parent}, not from the documents folder: delete the "
                             "file there and run rag index", 409)
    if len(manifest.get("documents", {})) <= 1:
        raise UploadRejected("that is the last document: an index needs at least one", 409)
    # Set aside (hidden), rebuilt without it, then deleted: a failed build puts it back.
    aside = source.with_name(f".removed-{source.name}")
    source.rename(aside)
    try:
        paths, _ = index_sources(settings)
        build(paths)
    except BaseException:
        aside.rename(source)
        raise
    aside.unlink(missing_ok=True)
    return source
