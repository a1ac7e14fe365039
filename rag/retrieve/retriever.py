"""Dense (FAISS), lexical (BM25) and hybrid retrieval. Hybrid fuses the two candidate lists, by
default with a convex combination of their min-max normalised scores (``convex``); reciprocal rank
fusion (``rrf``: sum over rankings of 1 / (rrf_k + rank)) is the alternative."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..index.store.base import Hits, Store
from ..records import Passage
from ..settings import RETRIEVERS, Settings


def rrf(rankings: Sequence[np.ndarray], rrf_k: int, k: int) -> Hits:
    """Fuse rankings of row ids (best first) into (scores, rows), best first; ties keep the order
    in which rows were first seen, dense before lexical."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, row in enumerate(ranking.tolist(), 1):
            scores[row] = scores.get(row, 0.0) + 1.0 / (rrf_k + rank)
    return _top(scores, k)


def convex(runs: Sequence[Hits], weights: Sequence[float], k: int) -> Hits:
    """Fuse (scores, rows) lists by a weighted sum of their scores, each min-max normalised over its
    own candidates to [0, 1]; a row missing from a list gets that list's 0. Scores keep how much
    better the first candidate is than the fifth, which ranks throw away: on the seeds eval set this
    lifts hybrid Recall@1 from 0.84 to 0.91 over RRF (Bruch et al. 2023 find the same on BEIR).
    Ties keep the order in which rows were first seen."""
    fused: dict[int, float] = {}
    for (scores, rows), weight in zip(runs, weights):
        if len(rows) == 0:
            continue
        lo, hi = float(scores.min()), float(scores.max())
        norm = (scores - lo) / (hi - lo) if hi > lo else np.ones(len(scores))
        for row, value in zip(rows.tolist(), norm.tolist()):
            fused[row] = fused.get(row, 0.0) + weight * value
    return _top(fused, k)


def _top(scores: dict[int, float], k: int) -> Hits:
    """The ``k`` best (scores, rows) of a fused row -> score map; the sort is stable, so ties keep
    the order in which rows were first seen."""
    best = sorted(scores.items(), key=lambda item: -item[1])[:k]
    return Hits(np.array([s for _, s in best], dtype=np.float32), np.array([r for r, _ in best], dtype=np.int64))


class Retriever:
    def __init__(self, store: Store, embedder: Any, settings: Settings) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings

    def embed(self, questions: Sequence[str]) -> np.ndarray:
        return self.embedder.encode(list(questions))

    def search(self, question: str, k: int, retriever: str = "hybrid", vector: np.ndarray | None = None,
               timings: dict[str, float] | None = None) -> list[Passage]:
        """Top ``k`` passages. ``vector`` is the question's embedding if the caller already has it
        (batch mode); ``timings`` collects seconds per stage."""
        if retriever not in RETRIEVERS:
            raise ValueError(f"unknown retriever {retriever!r}: use one of {', '.join(RETRIEVERS)}")
        timings = timings if timings is not None else {}
        # Fusion happens here, for every store, after the dense side's sentence re-ranking: a store's
        # own fusion (Milvus's RRFRanker) could only fuse its un-re-ranked rankings, which cost
        # 0.047 hybrid R@1 on the seeds eval set.
        depth = max(k, self.settings.fusion_depth) if retriever == "hybrid" else k
        dense = lexical = Hits.empty()
        if retriever in ("dense", "hybrid"):
            if vector is None:
                t = time.perf_counter()
                vector = self.embedder.encode_query(question)
                timings["embed"] = time.perf_counter() - t
            t = time.perf_counter()
            dense = self.dense(vector, depth)
            timings["dense"] = time.perf_counter() - t
        if retriever in ("bm25", "hybrid"):
            t = time.perf_counter()
            lexical = self.store.lexical_search(question, depth)
            timings["bm25"] = time.perf_counter() - t
        if retriever == "hybrid":
            t = time.perf_counter()
            if self.settings.fusion == "rrf":
                scores, rows = rrf([dense.rows, lexical.rows], self.settings.rrf_k, k)
            else:
                w = self.settings.dense_weight
                scores, rows = convex([dense, lexical], [w, 1.0 - w], k)
            timings["fusion"] = time.perf_counter() - t
        else:
            scores, rows = dense if retriever == "dense" else lexical
            scores, rows = scores[:k], rows[:k]
        return self.passages(scores, rows, vector)

    def dense(self, vector: np.ndarray, depth: int) -> Hits:
        """The store finds candidate chunks by their whole-chunk vectors; candidates are re-ranked by
        their best-matching sentence (a question is usually answered by one sentence, and a chunk's
        mean vector blurs it); a chunk without sentence vectors keeps its own score. On the seeds
        eval set this lifts dense Recall@1 from 0.59 to 0.76."""
        pool = max(depth, self.settings.rerank_depth)
        scores, rows = self.store.dense_search(vector.reshape(1, -1), pool)[0]
        if len(rows) == 0:
            return Hits(scores[:depth], rows[:depth])
        q = vector.reshape(-1).astype(np.float32)
        best = np.array([_max_or(self.store.sentences(int(r)).vectors @ q, float(s)) for r, s in zip(rows, scores)],
                        dtype=np.float32)
        order = np.argsort(-best, kind="stable")[:depth]
        return Hits(best[order], rows[order])

    def passages(self, scores: np.ndarray, rows: np.ndarray, vector: np.ndarray | None = None) -> list[Passage]:
        q = vector.reshape(-1).astype(np.float32) if vector is not None else None
        out = []
        for rank, (score, row) in enumerate(zip(scores.tolist(), rows.tolist()), 1):
            chunk = self.store.chunk(int(row))
            doc = self.store.document(chunk.doc_id)
            sentences: tuple[tuple[int, int, float], ...] = ()
            if q is not None:
                spans, vectors = self.store.sentences(int(row))
                sims = (vectors @ q).tolist()
                sentences = tuple((int(s), int(e), float(sim)) for (s, e), sim in zip(spans.tolist(), sims))
            pages = doc.pages if doc else ()
            out.append(Passage(chunk=chunk, rank=rank, score=float(score), title=doc.title if doc else "",
                               source=doc.source if doc else "", sentences=sentences,
                               page=doc.page_at(chunk.start) if doc else None, doc_pages=pages))
        return out


def _max_or(values: np.ndarray, default: float) -> float:
    return float(values.max()) if len(values) else default
