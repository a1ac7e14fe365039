"""The answer decision: features computed from both stages, a logistic fit that recovers what it is
fitted on, a saved model that round-trips, and a reader that answers with the most probable candidate."""

from __future__ import annotations

import numpy as np
import pytest

from rag.answer.decision import FEATURES, Decision, candidate_features, fit_decision, fit_logistic
from rag.answer.reader import Found
from rag.records import Chunk, Passage

DOC = "Putin met Trump in Anchorage on Friday. The talks lasted three hours. Officials counted 120 drones."


def _passage(rank: int, start: int, end: int, score: float, cosines: list[float]) -> Passage:
    from rag.ingest.sentences import sentence_spans

    spans = sentence_spans(DOC, start, end)
    sentences = tuple((s, e, c) for (s, e), c in zip(spans, cosines))
    return Passage(Chunk("d", f"d#{rank}", start, end, DOC[start:end]), rank, score, "t", "s", sentences)


def _found(text: str, passage: int, margin: float, sentence: tuple[int, int]) -> Found:
    start = DOC.index(text)
    return Found("d", start, start + len(text), text, margin, 0.0, 0.5, sentence, passage)


def test_features_describe_each_candidate_from_both_stages():
    passages = [_passage(1, 0, 70, 0.9, [0.8, 0.1]), _passage(2, 40, len(DOC), 0.4, [0.2, 0.3])]
    s1 = (0, DOC.index(".") + 1)
    s3 = (DOC.index("Officials"), len(DOC))
    found = [_found("Anchorage", 0, 6.0, s1), _found("120", 1, 2.0, s3), _found("Anchorage", 1, 1.0, s1)]
    rows = candidate_features("Where was Putin with Trump on Friday?", passages, found)
    assert rows.shape == (3, len(FEATURES))
    f = dict(zip(FEATURES, rows[0]))
    assert f["margin"] == 6.0 and f["margin_gap"] == 0.0 and f["passage_rank"] == 0.0
    assert f["passage_score"] == pytest.approx(0.9) and f["score_gap"] == pytest.approx(0.5)
    assert f["sentence_cosine"] == pytest.approx(0.8) and f["top_cosine"] == pytest.approx(0.8)
    assert f["agreement"] == 1.0  # "Anchorage" comes from both passages
    assert f["sentence_terms"] == 1.0  # putin, trump, friday are all in its sentence
    second = dict(zip(FEATURES, rows[1]))
    assert second["margin_gap"] == 4.0 and second["agreement"] == 0.5
    assert second["passage_rank"] == pytest.approx(np.log(2)) and second["sentence_terms"] == 0.0
    assert candidate_features("Where?", passages, []).shape == (0, len(FEATURES))


def test_logistic_fit_recovers_the_direction_that_separates():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 3))
    p = 1 / (1 + np.exp(-(2.0 * x[:, 0] - 1.0 * x[:, 2] + 0.5)))
    y = (rng.random(2000) < p).astype(float)
    w, b = fit_logistic(x, y, l2=0.01)
    assert w[0] == pytest.approx(2.0, abs=0.3) and w[2] == pytest.approx(-1.0, abs=0.3)
    assert abs(w[1]) < 0.2 and b == pytest.approx(0.5, abs=0.2)


def test_a_fitted_decision_round_trips_and_ranks_by_what_it_learned():
    rng = np.random.default_rng(1)
    rows = rng.normal(size=(500, len(FEATURES)))
    right = (rows[:, FEATURES.index("sentence_cosine")] > 0).astype(float)
    d = fit_decision(rows, right, ["sentence_cosine", "margin"])
    again = Decision.from_dict(d.to_dict())
    probe = np.zeros((2, len(FEATURES)))
    probe[1, FEATURES.index("sentence_cosine")] = 2.0
    p = again.probabilities(probe)
    assert p[1] > 0.9 > 0.5 > p[0] - 0.4 and np.allclose(p, d.probabilities(probe))
    with pytest.raises(ValueError, match="features"):
        Decision.from_dict({**d.to_dict(), "features": ["no_such_feature"]})


def test_the_decision_decides_whether_the_readers_answer_is_given(tmp_path):
    """A decision that trusts well-scored passages answers from a strong first passage and says
    "no answer" when the same passages come with weak retrieval scores."""
    from dataclasses import replace

    from rag.answer.reader import Reader
    from tests.reader_fixtures import tiny_base, tiny_reader

    base = tiny_base(tmp_path / "base")
    weights = [0.0] * len(FEATURES)
    weights[FEATURES.index("passage_score")] = 10.0
    decision = Decision(list(FEATURES), [0.5] * len(FEATURES), [1.0] * len(FEATURES), weights, 0.0, 0.5)
    tiny_reader(tmp_path / "reader", base, decision=decision.to_dict())
    reader = Reader(tmp_path / "reader", base)
    assert reader.threshold == 0.5
    strong = [_passage(1, 0, 40, 1.0, [0.5]), _passage(2, 40, len(DOC), 1.0, [0.5, 0.5])]
    answer, alternatives = reader.answer("How many drones?", strong)
    assert answer is not None and answer.score > 0.99 and DOC[answer.start:answer.end] == answer.text
    # The answer is the reader's best-margin candidate whatever the decision: the same as with no decision.
    plain = Reader(tmp_path / "reader", base, threshold=0.0)
    plain.warm_up()
    plain.decision = None
    assert (plain.answer("How many drones?", strong)[0].start, plain.answer("How many drones?", strong)[0].end) \
        == (answer.start, answer.end)
    weak = [replace(p, score=0.0) for p in strong]
    assert reader.answer("How many drones?", weak) == (None, [])


def test_the_answers_score_is_the_decision_over_all_candidates(tmp_path):
    """The answer's features see every candidate (agreement counts the passages that give its text)."""
    from rag.answer.reader import Reader
    from tests.reader_fixtures import tiny_base, tiny_reader

    base = tiny_base(tmp_path / "base")
    weights = [0.0] * len(FEATURES)
    weights[FEATURES.index("agreement")] = 3.0
    weights[FEATURES.index("passage_score")] = 1.0
    decision = Decision(list(FEATURES), [0.0] * len(FEATURES), [1.0] * len(FEATURES), weights, -1.0, 0.0)
    tiny_reader(tmp_path / "reader", base, decision=decision.to_dict())
    reader = Reader(tmp_path / "reader", base)
    from dataclasses import replace

    first = _passage(1, 0, 70, 0.9, [0.5, 0.5])
    # The same text in another document: its spans are other candidates with the same words.
    second = replace(_passage(2, 0, 70, 0.4, [0.5, 0.5]), chunk=Chunk("e", "e#0", 0, 70, DOC[:70]))
    passages = [first, second]
    question = "What did Putin do?"
    found = reader.read([(question, passages)])[0]
    expected = decision.probabilities(candidate_features(question, passages, found))[0]
    assert candidate_features(question, passages, found)[0][FEATURES.index("agreement")] == 1.0
    answer, _ = reader.answer(question, passages)
    assert answer is not None and answer.score == pytest.approx(round(float(expected), 4), abs=1e-4)
