"""The documents an index is built from, and adding or removing one while the index is in use.

Uploaded files live in the documents folder (``Settings.documents_dir``, default ``documents/`` beside
the index). The index remembers the paths it was built from (its manifest's ``sources``); adding or
removing a document rebuilds from those paths plus the documents folder, which embeds only what
changed (``build_index`` is incremental and holds the index's writer lock)."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..ingest.bounded import Limits
from ..ingest.chunking import chunk_document
from ..ingest.documents import load_documents
from ..errors import UserError
from ..ingest import LOADERS
from ..records import Document
from ..settings import Settings
from .store.local import read_manifest
from .store.lock import IndexBusy, writer_lock

# Replaced in a name: path separators, and control, format, surrogate and unassigned characters (Unicode
# categories C*), plus the characters Windows forbids; letters of every script are kept.
_UNSAFE = re.compile(r'[/\\<>:"|?*]+')
_MAX_STEM = 100
_MAX_STEM_BYTES = 200
# Hidden names in the documents folder (folder walks skip dot files): an upload's bytes waiting for
# its job; the mark of an add in progress (the file of the same name is not indexed yet); a removed
# file set aside until the index without it is written. ``recover`` settles each after a crash.
UPLOAD_PREFIX = ".upload-"
STAGED_PREFIX = ".staged-"
REMOVED_PREFIX = ".removed-"
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


def _safe_chars(text: str) -> str:
    text = "".join("_" if unicodedata.category(ch).startswith("C") else ch for ch in text)
    return _UNSAFE.sub("_", text)


def sanitise_name(filename: str) -> str:
    """A safe file name from an uploaded one: no folders, no leading dot, no control characters; the
    name otherwise as given, in NFC ("résumé 日本語.txt" stays so)."""
    name = unicodedata.normalize("NFC", filename.replace("\\", "/").rsplit("/", 1)[-1])
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    stem = " ".join(_safe_chars(stem).split()).strip(" ._-")[:_MAX_STEM]
    while len(stem.encode("utf-8")) > _MAX_STEM_BYTES:  # file systems count a name's bytes (255)
        stem = stem[:-1]
    stem = stem.strip(" ._-") or "document"
    suffix = re.sub(r"[^A-Za-z0-9]+", "", suffix).lower()
    return f"{stem}.{suffix}" if suffix else stem


def sniff_type(data: bytes) -> str:
    """The suffix for a file named without one: PDF and Word by their magic numbers, else text."""
    if b"%PDF-" in data[:1024]:
        return ".pdf"
    if data.startswith(b"PK\x03\x04"):
        return ".docx"
    return ".txt"


def check_content(suffix: str, data: bytes) -> None:
    """The content must be what the name says: types are checked by content, not by the name alone."""
    if suffix not in LOADERS:
        allowed = " ".join(sorted(LOADERS))
        raise UploadRejected(f"the file type {suffix or '(none)'} is not supported: use one of {allowed}", 415)
    if suffix == ".pdf":
        if b"%PDF-" not in data[:1024]:
            raise UploadRejected("the file is named .pdf but is not a PDF (no %PDF header)", 415)
    elif suffix == ".docx":
        # The magic number only: the archive itself is opened in the bounded reader's worker
        # (rag/ingest/bounded.py), where a zip bomb's directory cannot grow the server.
        if not data.startswith(b"PK\x03\x04"):
            raise UploadRejected("the file is named .docx but is not a Word document (not a zip archive)", 415)
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


# sha256 of each file in the documents folder by (path, size, mtime): an upload's duplicate check then
# reads only files that are new or changed, so the request stays quick however many are stored.
_digests: dict[tuple[str, int, int], str] = {}


def _digest(f: Path) -> str:
    st = f.stat()
    key = (str(f), st.st_size, st.st_mtime_ns)
    if key not in _digests:
        h = hashlib.sha256()
        with f.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        _digests[key] = h.hexdigest()
    return _digests[key]


def _same_bytes(folder: Path, digest: str) -> Path | None:
    for f in sorted(folder.iterdir()) if folder.is_dir() else []:
        if f.is_file() and not f.name.startswith(".") and _digest(f) == digest:
            return f
    return None


@dataclass(frozen=True)
class Upload:
    """An upload that passed the quick checks, its bytes in a hidden file of the documents folder."""

    name: str  # the sanitised name it asked for
    path: Path  # the hidden file (UPLOAD_PREFIX)
    digest: str


def stage_upload(settings: Settings, filename: str, data: bytes) -> Upload:
    """The checks that need no parsing (store, size, type by content, the same bytes uploaded
    before), then the bytes to a hidden file: quick, so that a request can answer at once."""
    if settings.store != "local":
        raise UploadRejected("uploads need the local store (RAG_STORE=local); index into Milvus with rag index")
    if len(data) > settings.upload_max_bytes:
        raise UploadRejected(f"the file is larger than the limit of {settings.upload_max_bytes} bytes "
                             "(RAG_UPLOAD_MAX_BYTES)", 413)
    if not data:
        raise UploadRejected("the file is empty")
    name = sanitise_name(filename)
    suffix = os.path.splitext(name)[1]
    if not suffix:  # no extension: the content says which type it is
        suffix = sniff_type(data)
        name += suffix
    check_content(suffix, data)
    folder = documents_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(data).hexdigest()
    same = _same_bytes(folder, digest)
    if same is not None:
        raise UploadRejected(f"the same file is already uploaded as {same.name}", 409)
    fd, tmp_name = tempfile.mkstemp(prefix=UPLOAD_PREFIX, suffix=suffix, dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return Upload(name, Path(tmp_name), digest)


def discard(upload: Upload) -> None:
    upload.path.unlink(missing_ok=True)


def add_staged(settings: Settings, upload: Upload, build: Callable[[list[Path]], Any],
               loaded: Callable[[Document, int], None] | None = None) -> Added:
    """Read a staged upload (within the bounded reader's limits), give it its name and index it.
    ``loaded(document, chunks)`` is told once it is read. Either all of it happens, or, whatever
    fails (kill -9 included, through ``recover``), the file is gone again."""
    folder = documents_dir(settings)
    name, tmp = upload.name, upload.path
    try:
        problems: list[str] = []
        docs = load_documents([tmp], warn=problems.append, limits=Limits.from_settings(settings))
        if not docs:
            reason = problems[0].split(": ", 1)[-1] if problems else "no text"
            raise UploadRejected(f"{name} cannot be indexed: {reason}")
        same = _same_bytes(folder, upload.digest)
        if same is not None:
            raise UploadRejected(f"the same file is already uploaded as {same.name}", 409)
        manifest = read_manifest(settings.index_dir) or {}
        indexed = manifest.get("documents", {})
        for doc_id, meta in indexed.items():
            if meta.get("hash") == docs[0].content_hash:
                raise UploadRejected(f"the same document is already indexed as {doc_id}", 409)
        doc = docs[0]
        if loaded is not None:
            loaded(doc, len(chunk_document(doc, settings.chunk_size, settings.chunk_overlap)))
        final = _free_name(folder, name, set(indexed))
        # The mark first, then the name: a crash between any two steps leaves a mark that says the
        # file is not known to be indexed yet, and ``recover`` removes it unless the index has it.
        mark = folder / f"{STAGED_PREFIX}{final.name}"
        mark.touch()
        try:
            os.link(tmp, final)  # fails rather than overwrite if the name was taken meanwhile
        except BaseException:
            mark.unlink(missing_ok=True)
            raise
    finally:
        tmp.unlink(missing_ok=True)
    try:
        paths, _ = index_sources(settings)
        build(paths)
    except BaseException:
        final.unlink(missing_ok=True)
        mark.unlink(missing_ok=True)
        raise
    mark.unlink(missing_ok=True)
    return Added(doc_id=final.stem, title=doc.title, path=final, pages=len(doc.pages))


def add_document(settings: Settings, filename: str, data: bytes, build: Callable[[list[Path]], Any]) -> Added:
    """Check, store and index one uploaded file. ``build(paths)`` runs the (incremental) build."""
    return add_staged(settings, stage_upload(settings, filename, data), build)


def recover(settings: Settings) -> list[str]:
    """Settle what a crash left in the documents folder, under the writer lock (skipped, with a note,
    when another writer holds it): an upload's bytes that never reached the index are deleted; a
    file marked as being added stays if the index holds it and is deleted otherwise; a file set aside
    for removal is deleted if the index no longer holds it and put back otherwise. So the folder, the
    list and the index agree again. Returns one note per file settled."""
    folder = documents_dir(settings)
    if not folder.is_dir():
        return []
    try:
        with writer_lock(settings.index_dir, wait=0):
            manifest = read_manifest(settings.index_dir) or {}
            indexed = {_resolved(meta.get("source", "").split("#", 1)[0])
                       for meta in manifest.get("documents", {}).values()}
            notes = []
            for f in sorted(folder.iterdir()):
                if f.name.startswith(UPLOAD_PREFIX):
                    f.unlink(missing_ok=True)
                    notes.append(f"removed {f.name}: an upload that was never indexed (the server stopped)")
                elif f.name.startswith(STAGED_PREFIX):
                    target = folder / f.name[len(STAGED_PREFIX):]
                    if target.exists() and _resolved(str(target)) not in indexed:
                        target.unlink()
                        notes.append(f"removed {target.name}: its upload was not indexed when the server stopped")
                    f.unlink(missing_ok=True)
                elif f.name.startswith(REMOVED_PREFIX):
                    target = folder / f.name[len(REMOVED_PREFIX):]
                    if _resolved(str(target)) in indexed and not target.exists():
                        f.rename(target)
                        notes.append(f"kept {target.name}: its removal did not finish when the server stopped")
                    else:
                        f.unlink(missing_ok=True)
            return notes
    except IndexBusy:
        return [f"did not check {folder} for uploads a crash left half done: another build holds the index"]


def _resolved(path: str) -> str:
    try:
        return str(Path(path).resolve())
    except OSError:
        return path


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
    aside = source.with_name(f"{REMOVED_PREFIX}{source.name}")
    source.rename(aside)
    try:
        paths, _ = index_sources(settings)
        build(paths)
    except BaseException:
        aside.rename(source)
        raise
    aside.unlink(missing_ok=True)
    return source
