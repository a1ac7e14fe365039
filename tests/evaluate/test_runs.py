"""rag/evaluate/runs.py: `rag eval --runs` scoring hand-made run files to ranx's figures, and `rag eval
--qrels --queries` over an index (slow: ranx, the real model)."""

from __future__ import annotations

import contextlib
import io
import json

import pytest

from rag.evaluate.runs import coverage_notes, run_name
from rag.evaluate.trec import read_run, write_run


def test_run_names_and_coverage_notes():
    assert run_name("out/doc/hybrid.trec") == "hybrid" and run_name("bm25.run.txt") == "bm25.run"
    notes = coverage_notes({"q1": {"d": 1}, "q2": {"d": 1}}, {"a": {"q1": {"d": 1.0}, "q9": {"d": 1.0}}})
    assert notes == ["a: 1 of 2 judged queries have no ranking (scored 0)",
                     "a: 1 ranked queries have no judgement (not scored)"]


def test_runs_need_qrels(tmp_path):
    from rag.cli import main

    path = tmp_path / "a.trec"
    write_run(path, {"q": {"d": 1.0}}, "a")
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert main(["eval", "--runs", str(path)]) != 0
    assert "--qrels" in err.getvalue()


@pytest.mark.slow
def test_rag_eval_runs_gives_ranx_figures_on_hand_made_files(tmp_path):
    from ranx import Qrels, Run, evaluate

    from rag.cli import main
    from tests.evaluate.test_significance import hand_made

    qrels, a, b = hand_made(n=30, seed=11)
    del a["q03"]  # a judged query that run a did not answer scores 0 (trec_eval -c, ranx make_comparable)
    qrels_path = tmp_path / "qrels.txt"
    qrels_path.write_text("".join(f"{q} 0 {d} {r}\n" for q, items in qrels.items() for d, r in items.items()))
    write_run(tmp_path / "a.trec", a, "a")
    write_run(tmp_path / "b.trec", b, "b")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["eval", "--runs", str(tmp_path / "a.trec"), str(tmp_path / "b.trec"), "--qrels",
                     str(qrels_path), "--baseline", "a", "--json"]) == 0
    figures = json.loads(out.getvalue())
    metrics = ["ndcg@10", "recall@100", "mrr@10"]
    for name, run in (("a", a), ("b", b)):
        expected = evaluate(Qrels(qrels), Run(run), metrics, make_comparable=True)
        for m in metrics:
            assert figures["runs"][name][m] == pytest.approx(expected[m])
    assert figures["significance"]["baseline"] == "a" and figures["queries"] == 30
    assert set(figures["significance"]["tests"]["b"]) == set(metrics)
    assert any("q03" not in n and "1 of 30" in n for n in figures["notes"])


@pytest.mark.slow
def test_rag_eval_qrels_and_queries_over_the_index(tmp_path, seeds_index):
    """The user's own judgments (TREC qrels naming documents) and queries (TSV), over the seeds index."""
    from pathlib import Path

    from rag.cli import main

    root = Path(__file__).resolve().parents[2]
    rows = [json.loads(line) for line in (root / "eval" / "questions.jsonl").read_text().splitlines()]
    answerable = [r for r in rows if r["answers"]][:40]
    qrels, queries = tmp_path / "qrels.txt", tmp_path / "queries.tsv"
    qrels.write_text("".join(f"{r['id']} 0 {r['doc_id']} 1\n" for r in answerable))
    queries.write_text("".join(f"{r['id']}\t{r['question']}\n" for r in rows))  # extra queries are not scored
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["eval", "--qrels", str(qrels), "--queries", str(queries), "--index-dir", str(seeds_index),
                     "--run-out", str(tmp_path / "runs"), "--json"]) == 0
    figures = json.loads(out.getvalue())
    assert figures["level"] == "doc" and figures["queries"] == 40
    # Five documents and a question written for one of them: the right one is nearly always first.
    assert figures["runs"]["hybrid"]["ndcg@10"] > 0.8
    assert figures["significance"]["baseline"] == "hybrid"
    doc_run = read_run(tmp_path / "runs" / "qrels" / "doc" / "bm25.trec")
    assert set(doc_run) == {r["id"] for r in answerable}
