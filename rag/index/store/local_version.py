"""The files of one local index version, written and read: FAISS for vectors, bm25s for words,
documents and chunk offsets, and a manifest.

Layout of a version folder (``versions.py`` names and switches them)::

    manifest.json       format, model, chunker and FAISS settings, each document's hash
    documents.jsonl     doc_id, title, source, text
    chunks.npy          int64 rows (document row, ordinal, start, end)
    vectors.npy         float32 normalised chunk vectors (reused by incremental builds)
    sentences.npy       int64 rows (chunk row, start, end): each chunk's sentences, in order
    sentence_vectors.npy float16 normalised sentence vectors (late chunking, see embedding.py)
    dense.faiss         the FAISS index
    bm25/               the bm25s index

A loader that loses a race with a build (CURRENT changed under it, and the version it was reading
was cleaned up) reads the pointer again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from ...errors import IndexIncompatible, IndexMissing, UserError
from ...records import Chunk, Document
from ..lexical import LexicalIndex
from .base import Hits, Sentences, StoreInfo
from .faiss_index import build_faiss, configure_search
from .versions import pointer

FORMAT_VERSION = 2
# A loader that finds CURRENT changed while it read tries again, this many times in all.
LOAD_ATTEMPTS = 4


def rebuild_hint(index_dir: Path) -> str:
    return f"rebuild it with: {rebuild_command(index_dir)}"


def rebuild_command(index_dir: Path) -> str:
    return f"rag index --index-dir {index_dir} PATH ..."


@dataclass
class IndexContents:
    """Everything a local index version holds, in memory, ready to write."""

    documents: list[Document]
    chunk_rows: np.ndarray  # (n, 4) int64: document row, ordinal, start, end
    vectors: np.ndarray  # (n, d) float32
    sentence_rows: np.ndarray  # (m, 3) int64: chunk row, start, end (document offsets)
    sentence_vectors: np.ndarray  # (m, d) float16


def write_files(folder: Path, manifest: dict[str, Any], contents: IndexContents, faiss_kind: str,
                ann_threshold: int) -> None:
    """Write a complete version into the empty ``folder``."""
    with (folder / "documents.jsonl").open("w", encoding="utf-8") as fh:
        for doc in contents.documents:
            row: dict[str, Any] = {"doc_id": doc.doc_id, "title": doc.title, "source": doc.source, "text": doc.text}
            if doc.pages:  # only paged formats: indexes of text files stay byte for byte as before
                row["pages"] = [list(r) for r in doc.pages]
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    np.save(folder / "chunks.npy", contents.chunk_rows.astype(np.int64))
    np.save(folder / "vectors.npy", contents.vectors.astype(np.float32))
    np.save(folder / "sentences.npy", contents.sentence_rows.astype(np.int64))
    np.save(folder / "sentence_vectors.npy", contents.sentence_vectors.astype(np.float16))
    index, params = build_faiss(contents.vectors, faiss_kind, ann_threshold)
    faiss.write_index(index, str(folder / "dense.faiss"))
    texts = [_chunk_text(contents.documents, row) for row in contents.chunk_rows]
    LexicalIndex.build(texts).save(folder / "bm25")
    manifest = {**manifest, "faiss": params}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False))


def _chunk_text(documents: list[Document], row: np.ndarray) -> str:
    return documents[int(row[0])].text[int(row[2]):int(row[3])]


class LocalVersion:
    """One loaded version. Read-only and safe to share between threads."""

    def __init__(self, index_dir: Path, path: Path, manifest: dict[str, Any], documents: list[Document],
                 chunk_rows: np.ndarray, dense: faiss.Index, lexical: LexicalIndex, sentence_rows: np.ndarray,
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
            rebuild=rebuild_command(index_dir),
        )

    @classmethod
    def load(cls, index_dir: Path, mmap: bool = False) -> LocalVersion:
        index_dir = Path(index_dir)
        for attempt in range(LOAD_ATTEMPTS):
            name = pointer(index_dir)
            if name is None:
                raise IndexMissing(f"no index at {index_dir}: build it with: rag index --index-dir {index_dir} PATH ...")
            try:
                return cls._load(index_dir, index_dir / name, mmap)
            except IndexIncompatible:
                # A build switched CURRENT (and cleaned up) while this read: read the new version.
                if attempt + 1 < LOAD_ATTEMPTS and pointer(index_dir) != name:
                    continue
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    @classmethod
    def _load(cls, index_dir: Path, version: Path, mmap: bool) -> LocalVersion:
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
        return cls(index_dir, version, manifest, documents, chunk_rows, dense, lexical, sentence_rows,
                   sentence_vectors)

    def chunk(self, row: int) -> Chunk:
        doc_row, ordinal, start, end = (int(x) for x in self.chunk_rows[row])
        doc = self._documents[doc_row]
        return Chunk(doc_id=doc.doc_id, chunk_id=f"{doc.doc_id}#{ordinal}", start=start, end=end,
                     text=doc.text[start:end])

    def document(self, doc_id: str) -> Document | None:
        return self._by_id.get(doc_id)

    def documents(self) -> list[Document]:
        return list(self._documents)

    def dense_search(self, vectors: np.ndarray, k: int) -> list[Hits]:
        k = min(k, self.dense.ntotal)
        if k <= 0:
            return [Hits.empty() for _ in range(len(vectors))]
        scores, rows = self.dense.search(np.ascontiguousarray(vectors, dtype=np.float32), k)
        return [Hits(s[r >= 0], r[r >= 0].astype(np.int64)) for s, r in zip(scores, rows)]

    def lexical_search(self, question: str, k: int) -> Hits:
        return Hits(*self.lexical.search(question, k))

    def sentences(self, row: int) -> Sentences:
        a, b = self._sentence_ptr[row], self._sentence_ptr[row + 1]
        return Sentences(np.asarray(self.sentence_rows[a:b, 1:3]),
                         np.asarray(self.sentence_vectors[a:b], dtype=np.float32))

    def vectors(self) -> np.ndarray:
        return np.load(self.path / "vectors.npy", mmap_mode="r")
