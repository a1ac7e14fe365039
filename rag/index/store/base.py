"""The one interface every store implements, reading and writing, so retrieval, answering, web, eval
and the build never care which store they have (after Haystack 2.x's ``DocumentStore`` protocol).

Reading: a store opened with ``open_store`` answers for one state of the index; the local store
keeps the version it loaded (a build's switch never shows halfway through a question), Milvus reads
in place. Writing: ``writing`` holds the store's writer lock, ``manifest`` says what is stored and
with which model and chunker (without loading vectors), ``check_room`` fails before the expensive
embedding if the write cannot succeed, and ``write`` makes the store hold exactly an ``Update``'s
documents (the local store writes a new version and switches to it atomically). Open the store
again to read what was written."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np

from ...records import Chunk, Document


class Hits(NamedTuple):
    """One search's results, best first. ``rows`` are the keys ``Store.chunk`` takes."""

    scores: np.ndarray  # (n,) float32
    rows: np.ndarray  # (n,) int64

    @classmethod
    def empty(cls) -> Hits:
        return cls(np.zeros(0, np.float32), np.zeros(0, np.int64))


class Sentences(NamedTuple):
    """A chunk's sentences, in order: their document offsets and their vectors (late chunking)."""

    spans: np.ndarray  # (k, 2) int64 document offsets
    vectors: np.ndarray  # (k, d) float32


@dataclass(frozen=True)
class StoreInfo:
    documents: int
    chunks: int
    model: str
    model_fingerprint: str
    dimension: int
    location: str
    details: dict[str, Any]
    # The command that rebuilds this index, for error messages.
    rebuild: str = "rag index PATH ..."

    def built_with(self, fingerprint: str, dimension: int) -> bool:
        """Whether a model with this fingerprint and dimension can search this index."""
        return self.model_fingerprint == fingerprint and self.dimension == dimension


@dataclass(frozen=True)
class BuiltWith:
    """What stored vectors depend on; they are reused only when it all matches (``Manifest.reusable``)."""

    model: str
    fingerprint: str
    dimension: int
    chunker: Mapping[str, int]
    # What the vectors were computed in: "fp32" (and every index written before this was recorded),
    # "bf16" or "mixed". Not part of ``Manifest.reusable``: bf16 and fp32 vectors of a text agree to a
    # cosine of 0.9998 or more and rank alike (README, "Benchmarks"), so either searches the other.
    precision: str = "fp32"


@dataclass(frozen=True)
class IndexedDocument:
    content_hash: str
    source: str
    # None where the store does not count chunks per document (Milvus).
    chunks: int | None


@dataclass(frozen=True)
class Manifest:
    """What a store holds and what it was built with, read without loading the index."""

    built_with: BuiltWith
    documents: Mapping[str, IndexedDocument]
    chunks: int
    # False: written in a format this code does not read; nothing in it is reused.
    readable: bool = True
    # The paths the index was built from, where the store records them (the local store does).
    sources: tuple[str, ...] | None = None

    def reusable(self, fingerprint: str, chunker: Mapping[str, int]) -> dict[str, str]:
        """The one compatibility check: doc_id -> content hash of the documents whose stored
        vectors are still valid for this model and chunker (none when anything differs)."""
        if not self.readable or self.built_with.fingerprint != fingerprint or dict(self.built_with.chunker) != chunker:
            return {}
        return {doc_id: d.content_hash for doc_id, d in self.documents.items()}


@dataclass(frozen=True)
class EmbeddedDocument:
    """A document's chunks as just embedded: chunk i has ordinal i, vector row i, sentences[i]."""

    document: Document
    chunks: list[Chunk]
    vectors: np.ndarray  # (n, d) float32
    sentences: list[Sentences]


@dataclass(frozen=True)
class WriteSize:
    """About how much a write stores, known before embedding (for ``Store.check_room``)."""

    documents: list[Document]
    chunks: int
    sentences: int
    dimension: int


@dataclass(frozen=True)
class Update:
    """What ``Store.write`` makes the store hold: exactly ``documents``, in this order. Those in
    ``fresh`` get their new chunks; the others keep what the store holds for them."""

    documents: list[Document]
    fresh: Mapping[str, EmbeddedDocument]
    # Every document's number of chunks (the store's totals).
    chunk_counts: Mapping[str, int]
    # Stored documents whose old rows go: changed ones (``fresh`` replaces them) and removed ones.
    stale: list[str]
    built_with: BuiltWith
    # Nothing stored is reused (another model, chunker or format): the store starts over.
    rebuild: bool
    sources: list[str] = field(default_factory=list)
    # The dense index (``ann.choose_kind``).
    dense_index: str = "auto"
    ann_threshold: int = 50_000


@runtime_checkable
class Store(Protocol):
    @property
    def info(self) -> StoreInfo: ...

    # -- reading ---------------------------------------------------------------------------------
    def chunk(self, row: int) -> Chunk: ...

    def sentences(self, row: int) -> Sentences: ...

    def document(self, doc_id: str) -> Document | None: ...

    def documents(self) -> list[Document]: ...

    def dense_search(self, vectors: np.ndarray, k: int) -> list[Hits]:
        """One ``Hits`` per query vector (exact inner product below the ANN threshold)."""
        ...

    def lexical_search(self, question: str, k: int) -> Hits:
        """BM25; only rows with a positive score."""
        ...

    def version(self) -> str | None:
        """The version these reads come from; None for a store that changes in place."""
        ...

    def latest_version(self) -> str | None:
        """The version the store would open now (a build may have switched it since)."""
        ...

    # -- writing ---------------------------------------------------------------------------------
    def writing(self, wait: float | None = None) -> AbstractContextManager[None]:
        """Hold the writer lock for a build (``wait`` seconds for another writer; one line if busy)."""
        ...

    def manifest(self) -> Manifest | None:
        """What is stored, or None when nothing is."""
        ...

    def check_room(self, size: WriteSize) -> None:
        """A one-line UserError now if writing this much will fail (called before embedding)."""
        ...

    def write(self, update: Update) -> None: ...

    def close(self) -> None: ...
