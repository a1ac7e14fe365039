"""The typed records that cross module lines.

Every offset is a character offset into ``Document.text``; for every record that carries text and
offsets, ``text == document.text[start:end]`` holds.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Document:
    doc_id: str
    title: str
    source: str
    text: str

    @property
    def content_hash(self) -> str:
        # Title and text both reach the index, so both decide whether a document changed.
        digest = hashlib.sha256()
        digest.update(self.title.encode("utf-8"))
        digest.update(b"\0")
        digest.update(self.text.encode("utf-8"))
        return digest.hexdigest()


@dataclass(frozen=True)
class Chunk:
    doc_id: str
    chunk_id: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk: its rank (1-based), score and the document it cites."""

    chunk: Chunk
    rank: int
    score: float
    title: str
    source: str
    # The chunk's sentences as (start, end, cosine similarity to the question), document offsets;
    # empty when no question vector was computed (BM25 alone) or the store keeps no sentence vectors.
    sentences: tuple[tuple[int, int, float], ...] = field(default=(), compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "doc_id": self.chunk.doc_id,
            "title": self.title,
            "source": self.source,
            "chunk_id": self.chunk.chunk_id,
            "start": self.chunk.start,
            "end": self.chunk.end,
            "text": self.chunk.text,
            "score": float(self.score),
        }


@dataclass(frozen=True)
class Answer:
    """A verbatim answer span and the sentence that holds it, both as document offsets."""

    text: str
    doc_id: str
    start: int
    end: int
    score: float
    sentence_start: int
    sentence_end: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "doc_id": self.doc_id,
            "start": self.start,
            "end": self.end,
            "score": float(self.score),
            "sentence": {"start": self.sentence_start, "end": self.sentence_end},
        }


@dataclass
class Result:
    """What one question gets: the JSON contract of ``rag ask --json`` and ``POST /api/ask``."""

    question: str
    answer: Answer | None
    alternatives: list[Answer]
    passages: list[Passage]
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.answer.to_dict() if self.answer else None,
            "alternatives": [a.to_dict() for a in self.alternatives],
            "passages": [p.to_dict() for p in self.passages],
        }
