"""`rag eval`: relevance, ranking conversion, answer and abstention metrics (fakes, no model), and
one slow end-to-end run on the seeds."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rag.errors import UserError
from rag.evaluate.sets import (EvalQuestion, answer_metrics, evaluate_retriever, evidence_spans, format_table,
                            is_relevant, load_eval_set, percentile, ranking_run)
from rag.records import Answer, Chunk, Document, Passage, Result

TEXT = "Alpha one. The summit is in Alaska. Beta two. The summit is in Alaska. Gamma three."
EVIDENCE = "The summit is in Alaska."
Q = EvalQuestion(id="q1", question="Where is the summit?", answers=("Alaska",), doc_id="d", evidence=EVIDENCE)
UNANSWERABLE = EvalQuestion(id="u1", question="Who won the cup?", answers=(), doc_id=None, evidence=None)


def passage(doc_id: str, start: int, end: int, rank: int, text: str = TEXT) -> Passage:
    chunk = Chunk(doc_id=doc_id, chunk_id=f"{doc_id}#{start}", start=start, end=end, text=text[start:end])
    return Passage(chunk=chunk, rank=rank, score=1.0 / rank, title="", source="")


def answer(text: str, start: int, doc_id: str = "d", sentence: tuple[int, int] = (11, 35)) -> Answer:
    return Answer(text=text, doc_id=doc_id, start=start, end=start + len(text), score=0.9,
                  sentence_start=sentence[0], sentence_end=sentence[1])


def test_evidence_spans_finds_every_occurrence():
    spans = evidence_spans(TEXT, EVIDENCE)
    assert spans == [(11, 35), (46, 70)]
    assert all(TEXT[s:e] == EVIDENCE for s, e in spans)
    assert evidence_spans(TEXT, None) == [] and evidence_spans(TEXT, "absent") == []


def test_relevance_by_containment_overlap_and_document():
    spans = evidence_spans(TEXT, EVIDENCE)
    assert is_relevant(passage("d", 0, 40, 1), Q, spans)  # contains it
    assert is_relevant(passage("d", 30, 44, 1), Q, spans)  # overlaps the end of the first span
    assert not is_relevant(passage("d", 0, 11, 1), Q, spans)  # ends where the evidence starts
    assert not is_relevant(passage("d", 35, 46, 1), Q, spans)  # between the two occurrences
    assert not is_relevant(passage("other", 0, 40, 1), Q, spans)  # right text, wrong document
    assert not is_relevant(passage("d", 0, 40, 1), UNANSWERABLE, spans)


@given(st.integers(0, len(TEXT) - 1), st.integers(1, len(TEXT)))
def test_relevance_is_span_overlap(start, length):
    end = min(len(TEXT), start + length)
    spans = evidence_spans(TEXT, EVIDENCE)
    overlaps = any(start < e and s < end for s, e in spans)
    assert is_relevant(passage("d", start, end, 1), Q, spans) == overlaps


def test_ranking_run_counts_the_question_once_in_rank_order():
    passages = [passage("d", 0, 5, 1), passage("d", 11, 35, 2), passage("d", 46, 70, 3), passage("d", 71, 84, 4)]
    run = ranking_run(passages, lambda p: p.chunk.start in (11, 46), "gold")
    assert list(run) == ["d#0", "gold", "d#71"]  # the second relevant passage is dropped
    assert run["gold"] == 0.5 and run["d#0"] > run["gold"] > run["d#71"]


def test_percentile_matches_numpy():
    values = [5.0, 1.0, 9.0, 3.0, 7.0, 2.0]
    for q in (0, 50, 95, 100):
        assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))
    assert np.isnan(percentile([], 50))


def test_answer_metrics_by_hand():
    q2 = EvalQuestion(id="q2", question="?", answers=("two",), doc_id="d", evidence="Beta two.")
    u2 = EvalQuestion(id="u2", question="?", answers=(), doc_id=None, evidence=None)
    questions = [Q, q2, UNANSWERABLE, u2]
    results = [
        Result("", answer("in Alaska", 28), [], []),  # EM 0, F1 1.0 ("in alaska" vs "alaska": P 1/2, R 1 -> 2/3)
        Result("", None, [], []),  # abstained on an answerable question
        Result("", None, [], []),  # abstained correctly
        Result("", answer("Gamma", 71, sentence=(71, 84)), [], []),  # answered an unanswerable one
    ]
    spans = {"q1": evidence_spans(TEXT, EVIDENCE), "q2": evidence_spans(TEXT, "Beta two.")}
    m = answer_metrics(questions, results, spans)
    assert m["exact_match"] == 0.0
    assert m["f1"] == pytest.approx((2 / 3 + 0) / 2)
    assert m["sentence_accuracy"] == 0.5  # q1's sentence overlaps the evidence, q2 has no answer
    assert m["abstentions"] == 2
    assert m["abstention_precision"] == 0.5  # 1 of the 2 abstentions was on an unanswerable question
    assert m["abstention_recall"] == 0.5  # 1 of the 2 unanswerable questions got no answer


class FakeAssistant:
    """Returns fixed rankings per question, in the shape Assistant.ask returns."""

    def __init__(self, rankings: dict[str, list[Passage]]) -> None:
        self.rankings = rankings
        self.asked: list[tuple[str, int, str]] = []
        self.settings = SimpleNamespace(index_dir=Path("fake"))
        self.store = SimpleNamespace(info=SimpleNamespace(location="fake", documents=1, chunks=9, model="m"))

    def document(self, doc_id: str) -> Document | None:
        return Document(doc_id, "t", "s", TEXT) if doc_id == "d" else None

    def ask(self, question: str, k: int, retriever: str) -> Result:
        self.asked.append((question, k, retriever))
        return Result(question, None, [], self.rankings[question][:k], timings={"total": 0.01})


@pytest.mark.slow  # ranx compiles its numba kernels on first use (~12 s)
def test_evaluate_retriever_ranking_metrics_by_hand():
    qa = EvalQuestion(id="a", question="qa", answers=("Alaska",), doc_id="d", evidence=EVIDENCE)
    qb = EvalQuestion(id="b", question="qb", answers=("Alaska",), doc_id="d", evidence=EVIDENCE)
    qc = EvalQuestion(id="c", question="qc", answers=("Alaska",), doc_id="d", evidence=EVIDENCE)
    rankings = {
        "qa": [passage("d", 11, 35, 1)],  # hit at rank 1
        "qb": [passage("d", 0, 5, 1), passage("d", 71, 84, 2), passage("d", 46, 70, 3)],  # hit at rank 3
        "qc": [passage("d", 0, 5, 1)],  # miss
        UNANSWERABLE.question: [passage("d", 11, 35, 1)],  # not scored for ranking
    }
    fake = FakeAssistant(rankings)
    row = evaluate_retriever(fake, [qa, qb, qc, UNANSWERABLE], "bm25", 5, answers=True)
    assert row["recall@1"] == pytest.approx(1 / 3)
    assert row["recall@5"] == pytest.approx(2 / 3)
    assert row["mrr@5"] == pytest.approx((1 + 1 / 3) / 3)
    assert row["ndcg@5"] == pytest.approx((1 + 1 / np.log2(4)) / 3)
    assert row["recall_curve"][:3] == pytest.approx([1 / 3, 1 / 3, 2 / 3])
    assert row["misses"] == ["c"]
    assert row["abstention_recall"] == 1.0 and row["exact_match"] == 0.0
    # Every question asked through ask() with the requested k and retriever, plus one warm-up.
    assert len(fake.asked) == 5 and all(a[1:] == (5, "bm25") for a in fake.asked)


def test_evaluate_retriever_rejects_a_set_for_another_corpus():
    q = EvalQuestion(id="x", question="qa", answers=("a",), doc_id="missing", evidence="a")
    with pytest.raises(UserError, match="not in the index"):
        evaluate_retriever(FakeAssistant({"qa": []}), [q], "bm25", 5, answers=False)


def test_load_eval_set_errors_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="not found"):
        load_eval_set(tmp_path / "none.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "question": "q", "answers": []}\n{not json\n')
    with pytest.raises(UserError, match=":2:"):
        load_eval_set(bad)


def test_format_table_shows_na_for_missing_answer_metrics():
    row = {"recall@1": 0.5, "recall@5": 1.0, "recall@10": 1.0, "mrr@10": 0.75, "ndcg@10": 0.8, "exact_match": None,
           "f1": None, "sentence_accuracy": None, "abstention_precision": None, "abstention_recall": None,
           "latency_p50_ms": 12.0, "latency_p95_ms": 30.0}
    table = format_table({"k": 10, "retrievers": {"bm25": row}})
    header, line = table.splitlines()
    assert header.split()[:6] == ["retriever", "R@1", "R@5", "R@10", "MRR@10", "nDCG@10"]
    assert line.split()[:6] == ["bm25", "0.500", "1.000", "1.000", "0.750", "0.800"]
    assert "n/a" in line


@pytest.mark.slow
def test_rag_eval_end_to_end_on_the_seeds(tmp_path):
    from rag.cli import main
    from rag.index.build import build_index
    from rag.settings import Settings

    root = Path(__file__).resolve().parents[2]
    index = tmp_path / "index"
    build_index([root / "seeds"], Settings(index_dir=index), progress=False)
    lines = (root / "eval" / "questions.jsonl").read_text().splitlines()
    small = tmp_path / "set.jsonl"
    small.write_text("\n".join(lines[:6] + [l for l in lines if '"unanswerable"' in l][:2]) + "\n")
    report = tmp_path / "out" / "report.md"
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["eval", "--index-dir", str(index), "--set", str(small), "--retriever", "all", "-k", "5",
                     "--json", "--report", str(report), "--baseline", "bm25", "--run-out", str(tmp_path / "runs")]) == 0
    figures = json.loads(out.getvalue())
    assert set(figures["retrievers"]) == {"hybrid", "dense", "bm25"}
    # Significance against the named baseline, in the JSON and the report; TREC runs and the set's qrels.
    assert figures["significance"]["baseline"] == "bm25"
    assert set(figures["significance"]["tests"]) == {"hybrid", "dense"}
    assert "## Is the difference real?" in report.read_text() and "worst first" in report.read_text()
    assert len(figures["run_files"]) == 7 and (tmp_path / "runs" / "set" / "passage" / "dense.trec").is_file()
    assert (tmp_path / "runs" / "set" / "qrels.doc.txt").read_text().count("\n") == 6
    for row in figures["retrievers"].values():
        assert 0.0 <= row["recall@1"] <= row["recall@5"] <= 1.0
        assert row["latency_p50_ms"] > 0
    assert report.is_file() and (report.parent / "recall_at_k.png").stat().st_size > 1000
    assert "| hybrid |" in report.read_text()
