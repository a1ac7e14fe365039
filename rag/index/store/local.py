"""The local store: one version folder under ``index_dir`` (``local_version.py``), switched in
atomically (``versions.py``), one writer at a time (``lock.py``).

Reads come from one version, loaded when first needed and then kept: a question never sees a
build's switch halfway, and a new version is read by opening the store again (``rag serve`` does
that when ``latest_version`` moves). A write assembles the whole new version: fresh rows for the
documents just embedded, the stored rows and vectors (not re-embedded) for the rest."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ...records import Chunk, Document
from .base import BuiltWith, Hits, IndexedDocument, Manifest, Sentences, StoreInfo, Update, WriteSize
from .local_version import FORMAT_VERSION, IndexContents, LocalVersion, write_files
from .lock import check_writable, writer_lock
from .versions import current_version, read_manifest, remove_stale, write_version

__all__ = ["LocalStore", "current_version", "read_manifest"]


class LocalStore:
    """The local index under ``index_dir``: the ``Store`` protocol on FAISS + bm25s files."""

    def __init__(self, index_dir: Path, loaded: LocalVersion | None = None) -> None:
        self.index_dir = Path(index_dir)
        self._loaded = loaded

    @classmethod
    def load(cls, index_dir: Path, mmap: bool = False) -> LocalStore:
        """The current version, loaded now: a missing or damaged index is one line here."""
        return cls(index_dir, LocalVersion.load(Path(index_dir), mmap=mmap))

    @classmethod
    def at(cls, index_dir: Path) -> LocalStore:
        """The folder, for building: nothing is loaded until something is read."""
        return cls(index_dir)

    @property
    def loaded(self) -> LocalVersion:
        if self._loaded is None:
            self._loaded = LocalVersion.load(self.index_dir)
        return self._loaded

    # -- reading ---------------------------------------------------------------------------------
    @property
    def info(self) -> StoreInfo:
        return self.loaded.info

    @property
    def path(self) -> Path:
        return self.loaded.path

    @property
    def chunk_rows(self) -> np.ndarray:
        return self.loaded.chunk_rows

    def chunk(self, row: int) -> Chunk:
        return self.loaded.chunk(row)

    def sentences(self, row: int) -> Sentences:
        return self.loaded.sentences(row)

    def document(self, doc_id: str) -> Document | None:
        return self.loaded.document(doc_id)

    def documents(self) -> list[Document]:
        return self.loaded.documents()

    def dense_search(self, vectors: np.ndarray, k: int) -> list[Hits]:
        return self.loaded.dense_search(vectors, k)

    def lexical_search(self, question: str, k: int) -> Hits:
        return self.loaded.lexical_search(question, k)

    def vectors(self) -> np.ndarray:
        return self.loaded.vectors()

    def version(self) -> str | None:
        return str(self.loaded.path)

    def latest_version(self) -> str | None:
        latest = current_version(self.index_dir)
        return str(latest) if latest is not None else None

    # -- writing ---------------------------------------------------------------------------------
    @contextmanager
    def writing(self, wait: float | None = None) -> Iterator[None]:
        with writer_lock(self.index_dir, wait):
            # Only the lock holder gets here, so a temporary folder is a killed build's: remove it.
            remove_stale(self.index_dir, keep=set(), versions=False)
            yield

    def manifest(self) -> Manifest | None:
        raw = read_manifest(self.index_dir)
        if raw is None:
            return None
        model = raw.get("model", {})
        documents = {doc_id: IndexedDocument(m["hash"], str(m.get("source", "")), int(m.get("chunks", 0)))
                     for doc_id, m in raw.get("documents", {}).items()}
        sources = raw.get("sources")
        return Manifest(
            built_with=BuiltWith(model.get("name", ""), model.get("fingerprint", ""), int(model.get("dimension", 0)),
                                 raw.get("chunker", {}), str(model.get("precision", "fp32"))),
            documents=documents, chunks=int(raw.get("counts", {}).get("chunks", 0)),
            readable=raw.get("format_version") == FORMAT_VERSION,
            sources=tuple(sources) if sources is not None else None)

    def check_room(self, size: WriteSize) -> None:
        check_writable(self.index_dir, _estimate_bytes(size))

    def write(self, update: Update) -> None:
        """A new version holding exactly ``update.documents``, switched in atomically."""
        contents, counts = self._assemble(update)
        manifest = _manifest_json(update, counts)
        write_version(self.index_dir, lambda folder: write_files(folder, manifest, contents, update.dense_index,
                                                                 update.ann_threshold))

    def close(self) -> None:
        pass  # nothing held open

    def _assemble(self, update: Update) -> tuple[IndexContents, dict[str, int]]:
        """The new version in document order: fresh material for embedded documents, stored rows
        and vectors (unchanged, not re-embedded) for the rest."""
        old = self.loaded if any(d.doc_id not in update.fresh for d in update.documents) else None
        old_rows = _rows_by_doc(old) if old else {}
        old_vectors = old.vectors() if old else None
        rows: list[tuple[int, int, int, int]] = []
        vec_parts: list[np.ndarray] = []
        sent_rows: list[tuple[int, int, int]] = []
        sent_parts: list[np.ndarray] = []
        counts: dict[str, int] = {}
        for doc_row, doc in enumerate(update.documents):
            fresh = update.fresh.get(doc.doc_id)
            if fresh is not None:
                for n, (c, sentences) in enumerate(zip(fresh.chunks, fresh.sentences)):
                    sent_rows.extend((len(rows), int(s), int(e)) for s, e in sentences.spans)
                    sent_parts.append(sentences.vectors)
                    rows.append((doc_row, n, c.start, c.end))
                vec_parts.append(fresh.vectors)
                counts[doc.doc_id] = len(fresh.chunks)
                continue
            assert old is not None and old_vectors is not None
            idx = old_rows[doc.doc_id]
            for old_row in idx:
                r = old.chunk_rows[old_row]
                sp, sv = old.sentences(int(old_row))
                sent_rows.extend((len(rows), int(s), int(e)) for s, e in sp)
                sent_parts.append(sv)
                rows.append((doc_row, int(r[1]), int(r[2]), int(r[3])))
            vec_parts.append(np.asarray(old_vectors[idx]))
            counts[doc.doc_id] = len(idx)
        dimension = update.built_with.dimension
        contents = IndexContents(
            documents=list(update.documents),
            chunk_rows=np.asarray(rows, dtype=np.int64).reshape(-1, 4),
            vectors=np.concatenate(vec_parts) if vec_parts else np.zeros((0, dimension), np.float32),
            sentence_rows=np.asarray(sent_rows, dtype=np.int64).reshape(-1, 3),
            sentence_vectors=np.concatenate(sent_parts) if sent_parts else np.zeros((0, dimension), np.float32),
        )
        return contents, counts


def _rows_by_doc(version: LocalVersion) -> dict[str, np.ndarray]:
    doc_rows = version.chunk_rows[:, 0]
    order = np.argsort(doc_rows, kind="stable")
    documents = version.documents()
    bounds = np.searchsorted(doc_rows[order], np.arange(len(documents) + 1))
    return {doc.doc_id: order[bounds[i]:bounds[i + 1]] for i, doc in enumerate(documents)}


def _manifest_json(update: Update, counts: dict[str, int]) -> dict[str, Any]:
    b = update.built_with
    return {
        "format_version": FORMAT_VERSION,
        # The files and folders the index was built from: `rag index` with no path and uploads re-read them.
        "sources": list(update.sources),
        "model": {"name": b.model, "fingerprint": b.fingerprint, "dimension": b.dimension, "precision": b.precision},
        "chunker": dict(b.chunker),
        "documents": {d.doc_id: {"hash": d.content_hash, "title": d.title, "source": d.source,
                                 "chunks": counts[d.doc_id]} for d in update.documents},
        "counts": {"documents": len(update.documents), "chunks": int(sum(counts.values()))},
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def _estimate_bytes(size: WriteSize) -> int:
    """About what a version of the index takes on disk: the texts (documents and the bm25 index),
    float32 vectors twice (vectors.npy and FAISS), float16 sentence vectors, and the offset rows."""
    text = sum(len(d.text) + len(d.title) + len(d.source) for d in size.documents)
    return 3 * text + size.chunks * (8 * size.dimension + 32) + size.sentences * (2 * size.dimension + 24)
