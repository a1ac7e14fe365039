"""rag/evaluate/significance.py: Holm's correction, the randomisation test and the bootstrap on
hand-computed cases (fast), and agreement with ranx's own compare() on hand-made runs (slow: ranx
compiles numba kernels)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from rag.evaluate.significance import bootstrap_ci, compare, compare_scores, fisher_randomization, holm


def test_holm_on_a_hand_computed_case():
    # sorted 0.01, 0.03, 0.04 -> 3*0.01=0.03, max(0.03, 2*0.03)=0.06, max(0.06, 1*0.04)=0.06
    assert holm([0.04, 0.01, 0.03]) == pytest.approx([0.06, 0.03, 0.06])
    assert holm([0.5, 0.9]) == [1.0, 1.0]
    assert holm([]) == []


def test_randomisation_test_is_exactly_one_for_identical_systems_and_small_for_a_clear_gain():
    a = np.array([0.2, 0.5, 0.1, 0.9, 0.4] * 6)
    assert fisher_randomization(a, a, 2000) == 1.0
    # Every query better by 0.3: no sign flip reaches the observed mean, so p = 1 / (permutations + 1).
    assert fisher_randomization(a + 0.3, a, 2000) == pytest.approx(1 / 2001)


def test_randomisation_test_matches_the_exact_test_on_a_small_case():
    # 4 queries, differences (1, 1, 1, -1): of the 16 sign patterns, |mean| >= 0.5 for 10
    # (|sum| of 2 or 4: the 6 patterns with sum 0 fall short), so the exact p is 10/16.
    a, b = np.array([1.0, 1, 1, 0]), np.array([0.0, 0, 0, 1])
    assert fisher_randomization(a, b, 20_000, seed=3) == pytest.approx(10 / 16, abs=0.015)
    assert fisher_randomization(a, b, 5000, seed=1) == fisher_randomization(a, b, 5000, seed=1)  # seeded


def test_bootstrap_interval_holds_the_mean_and_shrinks_with_more_queries():
    rng = np.random.default_rng(0)
    small, large = rng.normal(0.1, 0.3, 30), rng.normal(0.1, 0.3, 3000)
    lo_s, hi_s = bootstrap_ci(small)
    lo_l, hi_l = bootstrap_ci(large)
    assert lo_s < small.mean() < hi_s and lo_l < large.mean() < hi_l
    assert (hi_l - lo_l) < (hi_s - lo_s) / 5  # about sqrt(100) = 10 times narrower


def test_comparison_marks_wins_and_worst_queries():
    queries = [f"q{i}" for i in range(40)]
    base = np.array([0.5] * 40)
    better = np.array([1.0] * 30 + [0.5] * 8 + [0.0, 0.25])
    same = base.copy()
    c = compare_scores({"bm25": {"m": base}, "hybrid": {"m": better}, "dense": {"m": same}}, queries, ["m"],
                       "bm25", permutations=2000)
    t = c.tests["hybrid"]["m"]
    assert (t.wins, t.ties, t.losses) == (30, 8, 2)
    assert c.mark("hybrid", "m") == "*†" and c.mark("dense", "m") == "" and c.mark("bm25", "m") == ""
    assert c.tests["dense"]["m"].fisher_p == 1.0
    assert c.worst_queries("hybrid", "m") == [("q38", 0.5, 0.0), ("q39", 0.5, 0.25)]
    assert "40 queries" in c.sample_note("m") and "hint" in c.sample_note("m")  # under 50 queries


def hand_made(n: int = 40, seed: int = 7) -> tuple[dict, dict, dict]:
    """Qrels and two runs over ``n`` queries: run b tends to rank the relevant documents higher."""
    rnd = random.Random(seed)
    qrels, a, b = {}, {}, {}
    for i in range(n):
        q = f"q{i:02d}"
        docs = [f"d{j}" for j in range(12)]
        qrels[q] = {d: rnd.choice([1, 2]) for d in rnd.sample(docs, 3)}
        for run, bias in ((a, 0.0), (b, 0.6)):
            scored = {d: rnd.random() + (bias if d in qrels[q] else 0.0) for d in docs}
            run[q] = dict(sorted(scored.items(), key=lambda kv: -kv[1])[:10])
    return qrels, a, b


@pytest.mark.slow
def test_agrees_with_ranx_compare_on_hand_made_runs():
    from ranx import Qrels, Run
    from ranx import compare as ranx_compare

    qrels, a, b = hand_made()
    metrics = ["ndcg@10", "mrr@10", "recall@5"]
    ours = compare(qrels, {"a": a, "b": b}, metrics, permutations=20_000)
    student = ranx_compare(Qrels(qrels), [Run(a, name="a"), Run(b, name="b")], metrics, stat_test="student")
    fisher = ranx_compare(Qrels(qrels), [Run(a, name="a"), Run(b, name="b")], metrics, stat_test="fisher",
                          n_permutations=20_000)
    for m in metrics:
        t = ours.tests["b"][m]
        assert t.mean == pytest.approx(student.results["b"][m])
        assert t.baseline_mean == pytest.approx(student.results["a"][m])
        # ranx's paired t-test is the one we call: the same p.
        assert t.student_p == pytest.approx(student.comparisons[frozenset(["a", "b"])][m]["p_value"])
        # The randomisation test: ours with a fixed seed, ranx's on parallel threads; within Monte Carlo error
        # (the standard error at 20,000 permutations is at most 0.0036).
        assert t.fisher_p == pytest.approx(fisher.comparisons[frozenset(["a", "b"])][m]["p_value"], abs=0.015)
        wtl = student.win_tie_loss[("b", "a")][m]
        assert (t.wins, t.ties, t.losses) == (wtl["W"], wtl["T"], wtl["L"])
    assert ours.tests["b"]["ndcg@10"].student_p < 0.05  # the bias is there to be found
