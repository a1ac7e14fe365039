"""The words side: a bm25s index over chunks, of the terms ``rag.tokens.tokenize`` makes of
documents and questions alike."""

from __future__ import annotations

import logging
from pathlib import Path

import bm25s
import numpy as np

from ..tokens import tokenize

# bm25s logs every build at DEBUG through its own handler; the CLI's output is ours to keep clean.
logging.getLogger("bm25s").setLevel(logging.WARNING)


class LexicalIndex:
    """BM25 over chunk rows with ``bm25s``; row i of the index is chunk row i of the store."""

    def __init__(self, bm25: bm25s.BM25) -> None:
        self.bm25 = bm25
        self.vocab: dict[str, int] = bm25.vocab_dict
        self.n = int(bm25.scores["num_docs"])

    @classmethod
    def build(cls, texts: list[str]) -> "LexicalIndex":
        bm25 = bm25s.BM25(method="lucene")
        # An empty chunk still needs a row so rows line up; bm25s's empty token gives it one.
        bm25.index([tokenize(t) for t in texts], show_progress=False)
        return cls(bm25)

    def save(self, path: Path) -> None:
        self.bm25.save(str(path), show_progress=False)

    @classmethod
    def load(cls, path: Path, mmap: bool = False) -> "LexicalIndex":
        return cls(bm25s.BM25.load(str(path), mmap=mmap, show_progress=False))

    def search(self, question: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, rows) of the top ``k`` rows with a positive score, best first."""
        ids = [self.vocab[t] for t in tokenize(question) if t in self.vocab]
        if not ids or self.n == 0:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        scores = self.bm25.get_scores_from_ids(ids)
        k = min(k, self.n)
        top = np.argpartition(-scores, k - 1)[:k] if k < self.n else np.arange(self.n)
        top = top[np.argsort(-scores[top], kind="stable")]
        top = top[scores[top] > 0]
        return scores[top].astype(np.float32), top.astype(np.int64)
