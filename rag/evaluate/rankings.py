"""A ranking of passages as the rankings evaluation scores: by document (each document at its first
passage's rank) or by passage (chunk ids). Scores are 1/rank, so ranx and TREC files keep our order
exactly (retriever scores can tie)."""

from __future__ import annotations

from collections.abc import Sequence

from ..records import Passage


def doc_ranking(passages: Sequence[Passage]) -> dict[str, float]:
    """Document ids in the order of their first passage, scored 1/rank so ranx keeps that order."""
    run: dict[str, float] = {}
    for p in passages:
        if p.chunk.doc_id not in run:
            run[p.chunk.doc_id] = 1.0 / (len(run) + 1)
    return run


def passage_ranking(passages: Sequence[Passage]) -> dict[str, float]:
    """Chunk ids in rank order, scored 1/rank."""
    return {p.chunk.chunk_id: 1.0 / p.rank for p in passages}
