"""The local store: FAISS for vectors, bm25s for words, documents and chunk offsets, and a manifest.

Layout of ``index_dir``::

    CURRENT                 name of the live version directory (replaced atomically)
    v-<time>-<pid>/         one complete index
        manifest.json       format, model, chunker and FAISS settings, each document's hash
        documents.jsonl     doc_id, title, source, text
        chunks.npy          int64 rows (document row, ordinal, start, end)
        vectors.npy         float32 normalised chunk vectors (reused by incremental builds)
        sentences.npy       int64 rows (chunk row, start, end): each chunk's sentences, in order
        sentence_vectors.npy float16 normalised sentence vectors (late chunking, see embedding.py)
        dense.faiss         the FAISS index
        bm25/               the bm25s index

A build writes a new version directory and then swaps ``CURRENT`` with ``os.replace``, so an
interrupted build leaves the previous index whole and loadable. The version's files, the folder and
the pointer are fsynced in that order, so after a power loss ``CURRENT`` never names a version whose
files are not on disk. Builds hold the folder's writer lock (``lock.py``); the version ``CURRENT``
named before the switch is kept until the next build, so a reader that read the old pointer can
still finish loading it, and a loader that still loses the race (``CURRENT`` changed under it) reads
the pointer again.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from ...errors import IndexIncompatible, IndexMissing, UserError
from ..lexical import LexicalIndex
from ...records import Chunk, Document
from .base import StoreInfo
from .faiss_index import build_faiss, configure_search
from .lock import not_writable

FORMAT_VERSION = 2
CURRENT = "CURRENT"
# A loader that finds CURRENT changed while it read tries again, this many times in all.
LOAD_ATTEMPTS = 4


def rebuild_hint(index_dir: Path) -> str:
    return f"rebuild it with: rag index --index-dir {index_dir} PATH ..."


@dataclass
class IndexContents:
    """Everything a local index holds, in memory, ready to write."""

    documents: list[Document]
    chunk_rows: np.ndarray  # (n, 4) int64: document row, ordinal, start, end
    vectors: np.ndarray  # (n, d) float32
    sentence_rows: np.ndarray  # (m, 3) int64: chunk row, start, end (document offsets)
    sentence_vectors: np.ndarray  # (m, d) float16


def _pointer(index_dir: Path) -> str | None:
    """The version name CURRENT holds, or None when there is none."""
    try:
        return (index_dir / CURRENT).read_text().strip() or None
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None


def current_version(index_dir: Path) -> Path | None:
    name = _pointer(index_dir)
    path = index_dir / name if name else None
    return path if path is not None and path.is_dir() else None


def read_manifest(index_dir: Path) -> dict[str, Any] | None:
    version = current_version(index_dir)
    if version is None:
        return None
    try:
        return json.loads((version / "manifest.json").read_text())
    except (OSError, json.JSONDecodeError):
        return None


def write_index(index_dir: Path, manifest: dict[str, Any], contents: IndexContents, faiss_kind: str,
                ann_threshold: int) -> Path:
    """Write a complete new version, then point CURRENT at it. The caller holds the writer lock
    (``lock.writer_lock``); a failed write (disk full, permissions) is one ``IndexNotWritable`` line
    and leaves CURRENT and its version as they were."""
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise not_writable(index_dir, exc) from None
    previous = _pointer(index_dir)
    name = f"v-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 1_000_000}"
    tmp = index_dir / f".tmp-{name}"
    try:
        tmp.mkdir()
        with (tmp / "documents.jsonl").open("w", encoding="utf-8") as fh:
            for doc in contents.documents:
                row = {"doc_id": doc.doc_id, "title": doc.title, "source": doc.source, "text": doc.text}
                if doc.pages:  # only paged formats: indexes of text files stay byte for byte as before
                    row["pages"] = [list(r) for r in doc.pages]
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        np.save(tmp / "chunks.npy", contents.chunk_rows.astype(np.int64))
        np.save(tmp / "vectors.npy", contents.vectors.astype(np.float32))
        np.save(tmp / "sentences.npy", contents.sentence_rows.astype(np.int64))
        np.save(tmp / "sentence_vectors.npy", contents.sentence_vectors.astype(np.float16))
        index, params = build_faiss(contents.vectors, faiss_kind, ann_threshold)
        faiss.write_index(index, str(tmp / "dense.faiss"))
        texts = [_chunk_text(contents.documents, row) for row in contents.chunk_rows]
        LexicalIndex.build(texts).save(tmp / "bm25")
        manifest = {**manifest, "faiss": params}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False))
        _fsync_tree(tmp)  # the files reach the disk before any name points at them
        final = index_dir / name
        os.replace(tmp, final)
        pointer_tmp = index_dir / f".{CURRENT}.tmp"
        pointer_tmp.write_text(name)
        _fsync(pointer_tmp)
        _fsync(index_dir)  # the version's new name
        os.replace(pointer_tmp, index_dir / CURRENT)
        _fsync(index_dir)  # the pointer's switch
    except BaseException as exc:
        # FAISS reports a short write as a RuntimeError: a nearly full disk says what it was.
        full = isinstance(exc, RuntimeError) and _nearly_full(index_dir)
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError):
            raise not_writable(index_dir, exc) from exc
        if full:
            raise not_writable(index_dir, OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))) from exc
        raise
    remove_stale(index_dir, keep={name, previous})
    return final


def _nearly_full(path: Path) -> bool:
    try:
        return shutil.disk_usage(path).free < 1024 * 1024
    except OSError:
        return False


def remove_stale(index_dir: Path, keep: set[str | None], versions: bool = True) -> None:
    """Remove temporary folders and (with ``versions``) versions other than ``keep``. Only the lock
    holder calls this, so a ``.tmp-*`` here is a killed build's, never a live writer's; the previous
    version is kept for readers that may still be loading it (it goes with the next build)."""
    try:
        entries = list(index_dir.iterdir())
    except OSError:
        return
    for old in entries:
        stale = old.name.startswith(".tmp-") or (versions and old.name.startswith("v-"))
        if stale and old.name not in keep and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)


def _fsync_tree(root: Path) -> None:
    for folder, _, files in os.walk(root):
        for f in files:
            _fsync(Path(folder) / f)
        _fsync(Path(folder))


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _chunk_text(documents: list[Document], row: np.ndarray) -> str:
    return documents[int(row[0])].text[int(row[2]):int(row[3])]


class LocalStore:
    """A loaded local index. Read-only and safe to share between threads."""

    def __init__(self, path: Path, manifest: dict[str, Any], documents: list[Document], chunk_rows: np.ndarray,
                 dense: faiss.Index, lexical: LexicalIndex, sentence_rows: np.ndarray,
                 sentence_vectors: np.ndarray) -> None:
        self.path = path
        self.manifest = manifest
        self._documents = documents
        self._by_id = {d.doc_id: d for d in documents}
        self.chunk_rows = chunk_rows
        self.dense = dense
        self.lexical = lexical
        self.sentence_rows = sentence_rows
        self.sentence_vectors = sentence_vectors
        # Sentences of chunk i are rows ptr[i]:ptr[i+1] (they are stored grouped by chunk).
        self._sentence_ptr = np.searchsorted(sentence_rows[:, 0], np.arange(len(chunk_rows) + 1))
        model = manifest["model"]
        self.info = StoreInfo(
            documents=len(documents), chunks=int(len(chunk_rows)), model=model["name"],
            model_fingerprint=model["fingerprint"], dimension=int(model["dimension"]), location=str(path),
            details={"faiss": manifest.get("faiss", {}), "chunker": manifest.get("chunker", {})},
        )

    @classmethod
    def load(cls, index_dir: Path, mmap: bool = False) -> "LocalStore":
        index_dir = Path(index_dir)
        for attempt in range(LOAD_ATTEMPTS):
            name = _pointer(index_dir)
            if name is None:
                raise IndexMissing(f"no index at {index_dir}: build it with: rag index --index-dir {index_dir} PATH ...")
            try:
                return cls._load_version(index_dir, index_dir / name, mmap)
            except IndexIncompatible:
                # A build switched CURRENT (and cleaned up) while this read: read the new version.
                if attempt + 1 < LOAD_ATTEMPTS and _pointer(index_dir) != name:
                    continue
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    @classmethod
    def _load_version(cls, index_dir: Path, version: Path, mmap: bool) -> "LocalStore":
        try:
            manifest = json.loads((version / "manifest.json").read_text())
            if manifest.get("format_version") != FORMAT_VERSION:
                raise IndexIncompatible(
                    f"the index at {index_dir} has format {manifest.get('format_version')}, this version reads "
                    f"{FORMAT_VERSION}: {rebuild_hint(index_dir)}")
            documents = []
            with (version / "documents.jsonl").open(encoding="utf-8") as fh:
                for line in fh:
                    row = json.loads(line)
                    # Indexes written before page ranges existed have no "pages": their documents have none.
                    pages = tuple((int(a), int(b)) for a, b in row.get("pages", ()))
                    documents.append(Document(row["doc_id"], row["title"], row["source"], row["text"], pages))
            chunk_rows = np.load(version / "chunks.npy", mmap_mode="r" if mmap else None)
            flags = faiss.IO_FLAG_MMAP if mmap else 0
            dense = faiss.read_index(str(version / "dense.faiss"), flags)
            configure_search(dense, manifest.get("faiss", {}))
            lexical = LexicalIndex.load(version / "bm25", mmap=mmap)
            sentence_rows = np.load(version / "sentences.npy", mmap_mode="r" if mmap else None)
            sentence_vectors = np.load(version / "sentence_vectors.npy", mmap_mode="r" if mmap else None)
        except UserError:
            raise
        except Exception as exc:
            raise IndexIncompatible(
                f"the index at {index_dir} is damaged or incomplete ({type(exc).__name__}): {rebuild_hint(index_dir)}"
            ) from exc
        if not (len(chunk_rows) == dense.ntotal == lexical.n) or len(sentence_rows) != len(sentence_vectors):
            raise IndexIncompatible(f"the index at {index_dir} is inconsistent: {rebuild_hint(index_dir)}")
        return cls(version, manifest, documents, chunk_rows, dense, lexical, sentence_rows, sentence_vectors)

    def chunk(self, row: int) -> Chunk:
        doc_row, ordinal, start, end = (int(x) for x in self.chunk_rows[row])
        doc = self._documents[doc_row]
        return Chunk(doc_id=doc.doc_id, chunk_id=f"{doc.doc_id}#{ordinal}", start=start, end=end,
                     text=doc.text[start:end])

    def document(self, doc_id: str) -> Document | None:
        return self._by_id.get(doc_id)

    def documents(self) -> list[Document]:
        return list(self._documents)

    def dense_search(self, vectors: np.ndarray, k: int) -> list[tuple[np.ndarray, np.ndarray]]:
        k = min(k, self.dense.ntotal)
        if k <= 0:
            empty = (np.zeros(0, np.float32), np.zeros(0, np.int64))
            return [empty for _ in range(len(vectors))]
        scores, rows = self.dense.search(np.ascontiguousarray(vectors, dtype=np.float32), k)
        out = []
        for s, r in zip(scores, rows):
            keep = r >= 0
            out.append((s[keep], r[keep].astype(np.int64)))
        return out

    def lexical_search(self, question: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        return self.lexical.search(question, k)

    def sentences(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """The sentences of chunk ``row``: (spans as (k, 2) document offsets, (k, d) vectors)."""
        a, b = self._sentence_ptr[row], self._sentence_ptr[row + 1]
        return np.asarray(self.sentence_rows[a:b, 1:3]), np.asarray(self.sentence_vectors[a:b], dtype=np.float32)

    def vectors(self) -> np.ndarray:
        return np.load(self.path / "vectors.npy", mmap_mode="r")


def open_store(index_dir: Path, store: str = "local", mmap: bool = False) -> Any:
    """The store that a setting names: ``local`` or a ``milvus://`` URI."""
    if store == "local":
        return LocalStore.load(index_dir, mmap=mmap)
    if store.startswith("milvus://"):
        from .milvus import MilvusStore  # optional backend

        return MilvusStore.open(store)
    raise UserError(f"unknown store {store!r}: use 'local' or a milvus:// URI")
