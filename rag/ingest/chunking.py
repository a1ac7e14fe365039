"""Sentence-aware chunking that keeps offsets: ``chunk.text == document.text[chunk.start:chunk.end]``.

Sentences are packed greedily into chunks of at most ``size`` characters; the next chunk starts
with the last sentences of the previous one, up to ``overlap`` characters, so an answer near a
boundary is whole in at least one chunk. A sentence longer than ``size`` is split at whitespace;
a chunk never starts or ends inside a word (a single word longer than ``size`` stays whole)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from ..records import Chunk, Document
from .sentences import sentence_spans

_WORD = re.compile(r"\S+")


def _pieces(text: str, size: int) -> list[tuple[int, int]]:
    """Sentences, with any sentence longer than ``size`` cut at whitespace into pieces <= size."""
    pieces: list[tuple[int, int]] = []
    for s, e in sentence_spans(text):
        if e - s <= size:
            pieces.append((s, e))
            continue
        piece_start = piece_end = None
        for word in _WORD.finditer(text, s, e):
            if piece_start is None:
                piece_start, piece_end = word.start(), word.end()
            elif word.end() - piece_start <= size:
                piece_end = word.end()
            else:
                pieces.append((piece_start, piece_end))  # type: ignore[arg-type]
                piece_start, piece_end = word.start(), word.end()
        if piece_start is not None:
            pieces.append((piece_start, piece_end))  # type: ignore[arg-type]
    return pieces


def chunk_spans(text: str, size: int = 600, overlap: int = 150) -> list[tuple[int, int]]:
    if size < 1:
        raise ValueError("chunk size must be at least 1")
    if not 0 <= overlap < size:
        raise ValueError("chunk overlap must be at least 0 and smaller than the chunk size")
    pieces = _pieces(text, size)
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(pieces):
        j = i + 1
        while j < len(pieces) and pieces[j][1] - pieces[i][0] <= size:
            j += 1
        spans.append((pieces[i][0], pieces[j - 1][1]))
        if j >= len(pieces):
            break
        # Step back over whole pieces that fit in the overlap, but always move forward.
        nxt = j
        while nxt - 1 > i and pieces[j - 1][1] - pieces[nxt - 1][0] <= overlap:
            nxt -= 1
        i = nxt
    return spans


def chunk_document(doc: Document, size: int = 600, overlap: int = 150) -> list[Chunk]:
    return [
        Chunk(doc_id=doc.doc_id, chunk_id=f"{doc.doc_id}#{n}", start=s, end=e, text=doc.text[s:e])
        for n, (s, e) in enumerate(chunk_spans(doc.text, size, overlap))
    ]


def chunk_documents(docs: Iterable[Document], size: int = 600, overlap: int = 150) -> Iterator[Chunk]:
    for doc in docs:
        yield from chunk_document(doc, size, overlap)
