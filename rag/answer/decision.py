"""The answer decision: whether the reader's answer is given, or "no answer in these documents".

The reader proposes candidate spans from the passages it reads, best margin (span logit over its
window's no-answer logit) first; the first is the answer. Each candidate is described by what both
stages know about it (``FEATURES``): the reader's span and no-answer logits, the margin and its gap to
the best margin, the span's length, how many passages give the same text; the retrieval's fused
score and rank of its passage, the score gap between the first two passages, the cosine of its
sentence and passage to the question, and how much of the question its sentence and passage hold.
A logistic model over these (fitted by `rag train-reader --fit-decision` on a validation run that
looks like use: retrieved passages, distractor articles and questions whose article is not in the
index; rag/train/use_run.py) gives the answer the probability that it is right, its ``score``; under
the fitted threshold the assistant says "no answer".

Choosing among the candidates by this model instead of by margin was measured too (pointwise and
listwise fits, article-grouped cross-validation on the run's fit half): it did not beat the margin's
choice on the stated score, so the model decides only whether to answer.

Every feature is computed the same way in training and in use, here; none depends on the corpus'
size (raw BM25 scores do, so they are not used: its min-max normalised share in the fused score is)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import numpy as np

from ..matching import normalize_answer
from ..records import Passage
from ..tokens import tokenize
from .calibration import MARGIN_RANGE, sigmoid


class Found(Protocol):
    """What the decision reads of a candidate span (rag/answer/reader.py's ``Found``)."""

    text: str
    start: int
    logit: float
    null_logit: float
    sentence: tuple[int, int]
    passage: int

    @property
    def margin(self) -> float: ...

FEATURES = ("margin", "margin_gap", "span_logit", "null_logit", "span_words", "agreement", "passage_rank",
            "passage_score", "score_gap", "sentence_cosine", "passage_cosine", "top_cosine", "sentence_terms",
            "passage_terms", "answer_in_question")
# What the fitted model reads: every feature but margin_gap, which is 0 for the answer by definition (it
# describes the alternatives).
DECISION_FEATURES = tuple(f for f in FEATURES if f != "margin_gap")
# Candidates per question that get features (the answer and its possible alternatives).
CANDIDATES = 8


@dataclass
class Decision:
    """A fitted logistic model over ``FEATURES`` (standardised) and the no-answer threshold."""

    features: list[str]
    mean: list[float]
    scale: list[float]
    weights: list[float]
    bias: float
    threshold: float
    # Provenance: what it was fitted on and the figures of its report half (rag/train/use_run.py).
    fitted: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "Decision":
        decision = cls(**{k: v for k, v in raw.items() if k in cls.__dataclass_fields__})
        unknown = set(decision.features) - set(FEATURES)
        if unknown:
            raise ValueError(f"the decision model uses features this version does not compute: {sorted(unknown)}")
        return decision

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        """P(right) of each candidate, from its row of ``FEATURES`` values."""
        if len(rows) == 0:
            return np.zeros(0)
        cols = [FEATURES.index(name) for name in self.features]
        x = (rows[:, cols] - np.asarray(self.mean)) / np.asarray(self.scale)
        return np.asarray(sigmoid(x @ np.asarray(self.weights) + self.bias), dtype=float)


def candidate_features(question: str, passages: Sequence[Passage], found: Sequence[Found]) -> np.ndarray:
    """One row of ``FEATURES`` for each of the first ``CANDIDATES`` of ``found`` (best margin first)."""
    if not found:
        return np.zeros((0, len(FEATURES)))
    q_terms = set(tokenize(question))
    best_margin = _clip(found[0].margin)
    # Which passages give each text among their candidates (the whole list, not only the first few).
    givers: dict[str, set[int]] = {}
    for f in found:
        givers.setdefault(normalize_answer(f.text), set()).add(f.passage)
    found = list(found)[:CANDIDATES]
    keys = [normalize_answer(f.text) for f in found]
    top_cosine = max((_max_cosine(p) for p in passages), default=0.0)
    score_gap = passages[0].score - passages[1].score if len(passages) > 1 else 0.0
    passage_terms = [_share(q_terms, tokenize(p.chunk.text)) for p in passages]
    rows = []
    for f, key in zip(found, keys):
        p = passages[f.passage] if f.passage < len(passages) else None
        sentence_text, sentence_cos = _sentence_of(p, f) if p is not None else ("", 0.0)
        answer_terms = tokenize(f.text)
        rows.append([
            _clip(f.margin),
            best_margin - _clip(f.margin),
            _clip(f.logit),
            _clip(f.null_logit),
            math.log1p(len(key.split())),
            len(givers.get(key, ())) / max(len(passages), 1),
            math.log(p.rank) if p is not None and p.rank > 0 else 0.0,
            p.score if p is not None else 0.0,
            score_gap,
            sentence_cos,
            _max_cosine(p) if p is not None else 0.0,
            top_cosine,
            _share(q_terms, tokenize(sentence_text)),
            passage_terms[f.passage] if p is not None else 0.0,
            _share(set(answer_terms), q_terms) if answer_terms else 0.0,
        ])
    return np.asarray(rows, dtype=float)


def _clip(x: float) -> float:
    return float(min(max(x, -MARGIN_RANGE), MARGIN_RANGE))


def _share(wanted: set[str], have: Sequence[str] | set[str]) -> float:
    """The fraction of ``wanted`` terms found in ``have``."""
    if not wanted:
        return 0.0
    have = set(have)
    return sum(t in have for t in wanted) / len(wanted)


def _max_cosine(passage: Passage) -> float:
    return max((c for _, _, c in passage.sentences), default=0.0)


def _sentence_of(passage: Passage, f: Found) -> tuple[str, float]:
    """The text of the candidate's sentence and that sentence's cosine to the question (the stored
    sentence holding the span's start; 0 when the passage carries no sentence cosines)."""
    chunk = passage.chunk
    s, e = f.sentence
    text = chunk.text[max(s - chunk.start, 0):max(e - chunk.start, 0)]
    for a, b, cos in passage.sentences:
        if a <= f.start < b:
            return text, float(cos)
    return text, 0.0


# -- fitting ---------------------------------------------------------------------------------------
def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 100) -> tuple[np.ndarray, float]:
    """(weights, bias) of an L2-regularised logistic regression by damped Newton steps (no scikit-learn);
    ``x`` is standardised already. The bias is not regularised."""
    n, d = x.shape
    xb = np.hstack([x, np.ones((n, 1))])
    y = np.asarray(y, dtype=float)
    w = np.zeros(d + 1)
    reg = np.full(d + 1, l2)
    reg[-1] = 0.0
    for _ in range(steps):
        p = np.asarray(sigmoid(xb @ w), dtype=float)
        grad = xb.T @ (p - y) + reg * w
        hess = (xb * (p * (1 - p))[:, None]).T @ xb + np.diag(reg) + 1e-9 * np.eye(d + 1)
        step = np.linalg.solve(hess, grad)
        w -= step / max(1.0, float(np.abs(step).max()))
        if np.abs(step).max() < 1e-8:
            break
    return w[:-1], float(w[-1])


def fit_decision(rows: np.ndarray, right: np.ndarray, features: Sequence[str] = DECISION_FEATURES,
                 l2: float = 1.0) -> Decision:
    """The logistic model of ``right`` (per candidate) on the named ``features``; threshold 0.5 until
    ``choose_threshold`` sets it."""
    cols = [FEATURES.index(name) for name in features]
    x = rows[:, cols]
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    weights, bias = fit_logistic((x - mean) / scale, right, l2=l2)
    return Decision(list(features), mean.tolist(), scale.tolist(), weights.tolist(), bias, 0.5)
