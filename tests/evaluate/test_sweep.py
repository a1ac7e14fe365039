"""rag/evaluate/sweep.py: parsing --sweep, the grid, the warning (fast); a sweep over a small index
with the fake embedder, chunker indexes built once and reused (slow: ranx)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag import Settings
from rag.errors import UserError
from rag.evaluate.significance import compare_scores
from rag.evaluate.sweep import Sweep, configurations, parse_sweep, warnings_for

ROOT = Path(__file__).resolve().parents[2]


def test_parse_sweep_checks_the_name_and_the_values():
    assert parse_sweep("dense_weight=0,0.5,1") == Sweep("dense_weight", (0.0, 0.5, 1.0))
    assert parse_sweep("chunk-size=400, 600") == Sweep("chunk_size", (400, 600))
    for bad, message in (("dense=0,1", "SETTING one of"), ("rrf_k=1,x", "not a whole number"),
                         ("rrf_k=60", "two or more"), ("chunk_size", "SETTING one of")):
        with pytest.raises(UserError, match=message):
            parse_sweep(bad)


def test_the_grid_is_checked_by_settings():
    base = Settings(model="unused")
    grid = configurations([parse_sweep("dense_weight=0,1"), parse_sweep("chunk_size=400,600")], base)
    assert grid == [{"dense_weight": 0.0, "chunk_size": 400}, {"dense_weight": 0.0, "chunk_size": 600},
                    {"dense_weight": 1.0, "chunk_size": 400}, {"dense_weight": 1.0, "chunk_size": 600}]
    with pytest.raises(UserError, match="between 0 and 1"):
        configurations([parse_sweep("dense_weight=0,2")], base)
    with pytest.raises(UserError, match="overlap"):
        configurations([parse_sweep("chunk_size=100,600")], base)  # the default overlap is 150


def test_warns_when_the_set_cannot_tell_the_best_apart():
    queries = [f"q{i}" for i in range(30)]
    best = np.linspace(0, 1, 30)
    close, far = best - np.tile([0.05, -0.03], 15), best - 0.5
    c = compare_scores({"a": {"m": best}, "b": {"m": close}, "c": {"m": far}}, queries, ["m"], "a",
                       permutations=500)
    [warning] = warnings_for(c, "m")
    assert "cannot tell the best (a)" in warning and "b (" in warning and "c (" not in warning


@pytest.mark.slow
def test_a_sweep_over_fusion_and_chunk_size(tmp_path, monkeypatch):
    from rag import build_index
    from rag.assistant import Assistant
    from rag.evaluate.sets import load_eval_set
    from rag.evaluate.sweep import run_sweep, score, sweep_table, write_chart
    from rag.index.store.local import LocalStore
    from tests.conftest import HashEmbedder

    settings = Settings(model="unused", index_dir=tmp_path / "index")
    embedder = HashEmbedder()
    build_index([ROOT / "seeds"], settings, embedder=embedder, progress=False)
    base = Assistant(LocalStore.load(settings.index_dir), embedder, settings)
    questions = [q for q in load_eval_set(ROOT / "eval" / "questions.jsonl") if q.answerable][:30]
    grid = configurations([parse_sweep("dense_weight=0,1"), parse_sweep("chunk_size=300,600")], settings)
    built = []
    import rag.index.build as build

    real = build.build_index
    monkeypatch.setattr(build, "build_index", lambda *a, **kw: built.append(a[1].index_dir) or real(*a, **kw))
    rows = run_sweep(base, False, questions, grid, "hybrid", 10, tmp_path / "cache", progress=False)
    assert len(set(built)) == 2 and len(built) == 4  # one index per chunk size, reused by the other weight
    rows_again = run_sweep(base, False, questions, grid[:1], "hybrid", 10, tmp_path / "cache", progress=False)
    assert rows_again[0]["ndcg@10"] == rows[0]["ndcg@10"]
    comparison, metrics, best = score(rows, 10, False)
    # dense_weight=0 is BM25 alone: with the fake (hashing) embedder, it beats the dense-only ranking.
    assert comparison.mean("dense_weight=0, chunk_size=600", "ndcg@10") > comparison.mean(
        "dense_weight=1, chunk_size=600", "ndcg@10")
    assert comparison.baseline.startswith("dense_weight=0,")  # the best is a BM25-only configuration
    table = sweep_table(rows, comparison, metrics)
    assert table.count("best") == 1 and "nDCG@10 95% CI" in table
    write_chart(rows, comparison, metrics, tmp_path / "sweep.png")
    assert (tmp_path / "sweep.png").stat().st_size > 10_000
