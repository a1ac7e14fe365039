"""Turning the reader's margin (best span logit minus no-answer logit) into a probability that the
answer is right, and choosing the threshold under which the assistant says "no answer".

Platt scaling: one logistic regression on one feature, fitted on the validation split. Plain numpy
Newton steps, so this needs no scikit-learn."""

from __future__ import annotations

import numpy as np


def sigmoid(x: np.ndarray | float) -> np.ndarray | float:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -40, 40)))


# Margins are logit differences, a few tens at most; a question with no span at all has none, and its
# stand-in must not dominate the fit.
MARGIN_RANGE = 50.0


def fit_platt(margins: np.ndarray, correct: np.ndarray, steps: int = 100, l2: float = 1e-2) -> tuple[float, float]:
    """(scale, bias) maximising the likelihood of ``correct`` under sigmoid(scale * margin + bias)."""
    m = np.clip(np.asarray(margins, dtype=np.float64), -MARGIN_RANGE, MARGIN_RANGE)
    x = np.stack([m, np.ones(len(m))], axis=1)
    y = np.asarray(correct, dtype=np.float64)
    w = np.array([1.0, 0.0])
    for _ in range(steps):
        p = sigmoid(x @ w)
        grad = x.T @ (p - y) + l2 * w
        hess = (x * (p * (1 - p))[:, None]).T @ x + l2 * np.eye(2)
        step = np.linalg.solve(hess, grad)
        # Damped: a full Newton step can overshoot when the classes are nearly separable.
        w -= step / max(1.0, float(np.abs(step).max()))
        if np.abs(step).max() < 1e-8:
            break
    return float(w[0]), float(w[1])


def reliability(probs: np.ndarray, correct: np.ndarray, bins: int = 10) -> list[tuple[float, float, int]]:
    """(mean predicted probability, observed accuracy, count) per equal-width probability bin."""
    probs, correct = np.asarray(probs, dtype=float), np.asarray(correct, dtype=float)
    rows = []
    edges = np.linspace(0, 1, bins + 1)
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (probs >= lo) & ((probs < hi) if hi < 1 else (probs <= hi))
        if inside.any():
            rows.append((float(probs[inside].mean()), float(correct[inside].mean()), int(inside.sum())))
    return rows


def expected_calibration_error(probs: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    rows = reliability(probs, correct, bins)
    total = sum(n for _, _, n in rows)
    return sum(n * abs(p - a) for p, a, n in rows) / max(total, 1)


def _scores_by_threshold(probs: np.ndarray, answer_scores: np.ndarray,
                         has_answer: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(candidate thresholds ascending, each question's score under each): an answered question scores
    its answer's F1, an abstention 1 if the question has no answer and 0 otherwise."""
    probs = np.asarray(probs, dtype=float)
    answer_scores = np.asarray(answer_scores, dtype=float)
    abstain = (~np.asarray(has_answer, dtype=bool)).astype(float)
    candidates = np.unique(np.concatenate([[0.0], probs, [1.0 + 1e-9]]))
    return candidates, np.array([np.where(probs >= t, answer_scores, abstain) for t in candidates])


def choose_threshold(probs: np.ndarray, answer_scores: np.ndarray, has_answer: np.ndarray) -> float:
    """The threshold that maximises the mean score over the split, where an answered question scores its
    answer's F1 and an abstention scores 1 if the question has no answer and 0 otherwise: a wrong answer
    and a missed answer cost the same, as in SQuAD 2.0's best-threshold search. Of equal bests, the lowest."""
    candidates, scores = _scores_by_threshold(probs, answer_scores, has_answer)
    return float(candidates[int(np.argmax(scores.mean(axis=1)))])


def choose_threshold_one_se(probs: np.ndarray, answer_scores: np.ndarray, has_answer: np.ndarray) -> float:
    """``choose_threshold``'s score, with the one-standard-error rule: the lowest threshold whose mean
    score lies within one standard error of the best one's. Thresholds whose scores differ by less than
    that are not told apart by the split, and of those the one that answers most is taken: leaving a
    user without the answer the documents hold is the failure users meet most (issue 22)."""
    candidates, scores = _scores_by_threshold(probs, answer_scores, has_answer)
    means = scores.mean(axis=1)
    best = int(np.argmax(means))
    n = scores.shape[1]
    se = float(scores[best].std(ddof=1) / np.sqrt(n)) if n > 1 else 0.0
    return float(candidates[int(np.flatnonzero(means >= means[best] - se)[0])])
