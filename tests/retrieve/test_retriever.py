"""End to end over the real seeds with the real model: the hybrid retriever finds the supporting
passage of (nearly) every answerable eval question in its top 5."""

from __future__ import annotations

import pytest

from rag import Assistant
from rag.evaluate.sets import evidence_spans, is_relevant, load_eval_set

from tests.conftest import ROOT

pytestmark = pytest.mark.slow

# The bar is every answerable question; measured: all but 2 (q028, a paraphrase whose one
# matching word is rare, and q089, a by-line) of 107. This guards that level against regressions.
MAX_TOP5_MISSES = 2


@pytest.fixture(scope="module")
def retrieval_only(seeds_index):
    return Assistant.load(seeds_index, answer=False)


@pytest.mark.eval
def test_hybrid_top5_holds_the_evidence_for_nearly_every_answerable_question(retrieval_only):
    questions = [q for q in load_eval_set(ROOT / "eval" / "questions.jsonl") if q.answerable]
    misses = []
    for q in questions:
        result = retrieval_only.ask(q.question, k=5, retriever="hybrid")
        spans = evidence_spans(retrieval_only.document(q.doc_id).text, q.evidence)
        if not any(is_relevant(p, q, spans) for p in result.passages):
            misses.append((q.id, q.question))
    assert len(questions) >= 100
    assert len(misses) <= MAX_TOP5_MISSES, misses


def test_passages_are_verbatim_slices_for_every_retriever(retrieval_only):
    for retriever in ("hybrid", "dense", "bm25"):
        result = retrieval_only.ask("What did Rubio say about the ceasefire?", k=10, retriever=retriever)
        assert len(result.passages) == 10
        for p in result.passages:
            assert retrieval_only.document(p.chunk.doc_id).text[p.chunk.start:p.chunk.end] == p.chunk.text
