"""rag/evaluate/rankings.py: passages as document and passage rankings, scored 1/rank."""

from __future__ import annotations

import pytest

from rag.evaluate.rankings import doc_ranking, passage_ranking
from rag.records import Chunk, Passage


def passage(doc_id: str, n: int, rank: int) -> Passage:
    return Passage(chunk=Chunk(doc_id, f"{doc_id}#{n}", 0, 1, "x"), rank=rank, score=1.0, title="", source="")


def test_documents_at_their_first_passage_and_passages_by_rank():
    found = [passage("a", 0, 1), passage("b", 3, 2), passage("a", 1, 3)]
    assert doc_ranking(found) == {"a": 1.0, "b": 0.5}
    assert passage_ranking(found) == {"a#0": 1.0, "b#3": 0.5, "a#1": pytest.approx(1 / 3)}
