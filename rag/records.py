"""The typed records that cross module lines.

Every offset is a character offset into ``Document.text``; for every record that carries text and
offsets, ``text == document.text[start:end]`` holds.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class Document:
    doc_id: str
    title: str
    source: str
    text: str
    # Each page's (start, end) in ``text``, in order, 1-based page = index + 1; empty for formats
    # without pages (text, markdown, HTML, Word).
    pages: tuple[tuple[int, int], ...] = field(default=(), compare=False, repr=False)
    # What the loader wants the user told, one line each (e.g. "40 of 64 pages ... not read"); the
    # loader may run in a worker process, so this travels with the document. Not stored in an index.
    notes: tuple[str, ...] = field(default=(), compare=False, repr=False)

    def page_at(self, offset: int) -> int | None:
        """The 1-based page holding the character at ``offset``; None when the format has no pages."""
        from .ingest.pages import page_at

        return page_at(self.pages, offset)

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
    # The 1-based page the chunk starts on, and the document's page ranges (so an answer read from
    # this passage can find its own page); None and () for formats without pages.
    page: int | None = None
    doc_pages: tuple[tuple[int, int], ...] = field(default=(), compare=False, repr=False)

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
            "page": self.page,
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
    # 1-based page of ``start``; None for formats without pages. Filled in by ``Result.to_dict``
    # from the passages when the reader did not set it.
    page: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "doc_id": self.doc_id,
            "start": self.start,
            "end": self.end,
            "score": float(self.score),
            "sentence": {"start": self.sentence_start, "end": self.sentence_end},
            "page": self.page,
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
            "answer": self.with_page(self.answer).to_dict() if self.answer else None,
            "alternatives": [self.with_page(a).to_dict() for a in self.alternatives],
            "passages": [p.to_dict() for p in self.passages],
        }

    def with_page(self, answer: Answer) -> Answer:
        """The answer with its page: the page whose range holds ``answer.start``, from the page
        ranges its passage carries."""
        if answer.page is not None:
            return answer
        for passage in self.passages:
            if passage.chunk.doc_id == answer.doc_id and passage.doc_pages:
                from .ingest.pages import page_at

                return replace(answer, page=page_at(passage.doc_pages, answer.start))
        return answer
