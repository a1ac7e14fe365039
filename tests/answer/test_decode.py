"""Span decoding and calibration arithmetic."""

from __future__ import annotations

import numpy as np

from rag.answer.calibration import (choose_threshold, choose_threshold_one_se, expected_calibration_error, fit_platt,
                                    reliability, sigmoid)
from rag.answer.decode import best_spans
from rag.answer.windows import Window


def _window(n_question: int, n_context: int) -> Window:
    n = 1 + n_question + 1 + n_context + 1
    offsets = np.full((n, 2), -1, dtype=np.int32)
    for t in range(n_context):
        offsets[2 + n_question + t] = (t * 5, t * 5 + 4)
    return Window(0, np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64), offsets)


def test_best_span_is_the_highest_start_plus_end_over_passage_tokens_only():
    w = _window(2, 6)
    start = np.zeros(len(w))
    end = np.zeros(len(w))
    start[1] = end[1] = 50.0  # a question token: never an answer, however high
    start[5], end[7] = 3.0, 4.0  # passage tokens 1..3
    start[0], end[0] = 1.0, 1.0  # [CLS]: the no-answer score
    spans = best_spans(w, start, end, top=3)
    assert (spans[0].start, spans[0].end) == (5, 19)
    assert spans[0].logit == 7.0 and spans[0].null_logit == 2.0 and spans[0].margin == 5.0
    assert all(s.logit <= spans[0].logit for s in spans)


def test_end_before_start_and_too_long_spans_are_excluded():
    w = _window(1, 40)
    start = np.zeros(len(w))
    end = np.zeros(len(w))
    start[30], end[4] = 9.0, 9.0  # end before start
    spans = best_spans(w, start, end, top=50, max_tokens=5)
    for s in spans:
        assert s.end > s.start and (s.end - s.start) <= 5 * 5


def test_platt_fit_recovers_a_known_calibration_and_the_reliability_curve_follows():
    rng = np.random.default_rng(0)
    margins = rng.normal(0, 3, 5000)
    correct = rng.random(5000) < sigmoid(0.8 * margins - 1.0)
    scale, bias = fit_platt(margins, correct)
    assert abs(scale - 0.8) < 0.1 and abs(bias + 1.0) < 0.15
    probs = sigmoid(scale * margins + bias)
    assert expected_calibration_error(probs, correct) < 0.03
    assert sum(n for _, _, n in reliability(probs, correct)) == 5000


def test_platt_fit_stays_finite_with_a_no_span_stand_in_and_near_separable_data():
    margins = np.array([-1e9, -3.0, -2.0, -1.0, 1.0, 2.0, 3.0, 8.0])
    correct = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    scale, bias = fit_platt(margins, correct)
    assert np.isfinite(scale) and np.isfinite(bias) and 0 < scale < 20
    probs = sigmoid(scale * np.clip(margins, -50, 50) + bias)
    assert probs[0] < 0.05 and probs[-1] > 0.95


def test_threshold_trades_wrong_answers_against_missed_ones():
    # Confident answers are right, unsure ones are to unanswerable questions: the threshold sits between.
    probs = np.array([0.9, 0.8, 0.7, 0.3, 0.2])
    f1 = np.array([1.0, 1.0, 1.0, 0.0, 0.0])
    has = np.array([True, True, True, False, False])
    t = choose_threshold(probs, f1, has)
    assert 0.3 < t <= 0.7


def test_the_one_standard_error_rule_answers_more_when_scores_are_within_noise():
    rng = np.random.default_rng(0)
    n = 400
    probs = rng.random(n)
    has = rng.random(n) < 0.5
    # Answers are right a little more often when probable, so the best threshold is high but barely better.
    f1 = (rng.random(n) < 0.45 + 0.1 * probs).astype(float) * has
    best = choose_threshold(probs, f1, has)
    lenient = choose_threshold_one_se(probs, f1, has)
    assert lenient <= best

    def score(t: float) -> float:
        return float(np.where(probs >= t, f1, ~has).mean())

    se = np.where(probs >= best, f1, ~has).std(ddof=1) / np.sqrt(n)
    assert score(lenient) >= score(best) - se
    # Clear-cut data leaves no room: both rules agree.
    clear_p, clear_f1, clear_has = np.array([0.9, 0.8, 0.2, 0.1]), np.array([1.0, 1.0, 0.0, 0.0]), np.array([1, 1, 0, 0], bool)
    assert choose_threshold_one_se(clear_p, clear_f1, clear_has) > 0.2
