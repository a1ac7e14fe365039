"""Validation of a trained reader, the way the product reads: calibration, threshold and figures.

The validation questions are split in two halves by a hash of their id. On the *fit* half the reader
reads each question with its gold paragraph and four distractor paragraphs (the validation paragraphs
that BM25 ranks highest for the question), as the product reads the top five retrieved passages; there
the margin is Platt-scaled into the probability that the answer is right, and the no-answer threshold
is chosen. The *report* half is read both with its gold paragraph alone (the reader's SQuAD 2.0 figures:
HasAns F1, NoAns accuracy) and with distractors, using the fitted calibration and threshold."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

import numpy as np

from ..answer.calibration import MARGIN_RANGE, choose_threshold, expected_calibration_error, fit_platt, reliability, sigmoid
from ..answer.reader import Reader
from ..matching import best_over_gold, exact_match, f1
from ..records import Chunk, Passage
from ..squad_format import QAExample

DISTRACTORS = 4


@dataclass
class Figures:
    questions: int
    exact_match: float
    f1: float
    has_answer_exact: float
    has_answer_f1: float
    no_answer_accuracy: float
    answerable_null: float
    seconds_per_question: float
    by_source: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass
class Validation:
    calibration: dict[str, float]
    threshold: float
    fit_questions: int
    ece: float
    reliability: list[tuple[float, float, int]]
    gold: Figures
    distractors: Figures
    # The number format the reader computed in (rag/answer/precision.py), as the product will read.
    precision: str = "fp32"


def halves(examples: list[QAExample]) -> tuple[list[QAExample], list[QAExample]]:
    """(fit, report): a stable split by question id."""
    fit, report = [], []
    for e in examples:
        (fit if hashlib.sha1(e.qid.encode()).digest()[0] % 2 == 0 else report).append(e)
    return fit, report


def with_distractors(examples: list[QAExample], pool: list[str], n: int = DISTRACTORS) -> list[list[str]]:
    """Each question's gold context followed by the ``n`` other pool contexts BM25 ranks highest."""
    from ..index.lexical import LexicalIndex

    index = LexicalIndex.build(pool)
    out = []
    for e in examples:
        _, rows = index.search(e.question, n + 1)
        others = [pool[r] for r in rows if pool[r] != e.context][:n]
        out.append([e.context, *others])
    return out


def as_passages(contexts: list[str]) -> list[Passage]:
    """Bare contexts as the retrieved passages the reader takes, first ranked first."""
    return [Passage(Chunk(f"c{i}", f"c{i}:0", 0, len(c), c), i + 1, 1.0, "", "") for i, c in enumerate(contexts)]


def _read(reader: Reader, examples: list[QAExample], contexts: list[list[str]]):
    """Best text and margin per question, reading the contexts as the product reads passages."""
    t = time.perf_counter()
    found = reader.read([(e.question, as_passages(c)) for e, c in zip(examples, contexts)])
    seconds = (time.perf_counter() - t) / max(len(examples), 1)
    texts = [f[0].text if f else "" for f in found]
    margins = np.array([f[0].margin if f else -MARGIN_RANGE for f in found])
    return texts, margins, seconds


def _answer_f1(examples: list[QAExample], texts: list[str]) -> np.ndarray:
    """F1 of each question's best span; 0 for an unanswerable question (any answer is wrong)."""
    return np.array([best_over_gold(f1, t, e.answer_texts) if e.answers else 0.0 for e, t in zip(examples, texts)])


def _figures(examples: list[QAExample], texts: list[str], probs: np.ndarray, threshold: float,
             seconds: float) -> Figures:
    predictions = [t if p >= threshold else None for t, p in zip(texts, probs)]
    em = np.array([best_over_gold(exact_match, p, e.answer_texts) for e, p in zip(examples, predictions)])
    f = np.array([best_over_gold(f1, p, e.answer_texts) for e, p in zip(examples, predictions)])
    has = np.array([bool(e.answers) for e in examples])
    answered = np.array([p is not None for p in predictions])
    pct = lambda x: float(x.mean() * 100) if len(x) else float("nan")  # noqa: E731
    by_source = {}
    for src in sorted({e.source for e in examples}):
        m = np.array([e.source == src for e in examples])
        by_source[src] = {"questions": int(m.sum()), "exact_match": pct(em[m]), "f1": pct(f[m])}
    return Figures(len(examples), pct(em), pct(f), pct(em[has]), pct(f[has]), pct(~answered[~has]),
                   pct(~answered[has]), seconds, by_source)


def validate(reader: Reader, examples: list[QAExample]) -> Validation:
    """Fit the calibration and threshold on one half (reader.config is updated), report on the other."""
    fit, report = halves(examples)
    pool = list(dict.fromkeys(e.context for e in examples))
    texts, margins, _ = _read(reader, fit, with_distractors(fit, pool))
    answer_f1 = _answer_f1(fit, texts)
    right = answer_f1 >= 0.5
    scale, bias = fit_platt(margins, right)
    probs = sigmoid(scale * margins + bias)
    threshold = choose_threshold(probs, answer_f1, np.array([bool(e.answers) for e in fit]))
    reader.config.calibration = {"scale": scale, "bias": bias}
    reader.config.threshold = threshold

    def report_with(contexts: list[list[str]]) -> tuple[Figures, np.ndarray, np.ndarray]:
        texts, margins, seconds = _read(reader, report, contexts)
        probs = sigmoid(scale * margins + bias)
        return _figures(report, texts, probs, threshold, seconds), probs, _answer_f1(report, texts) >= 0.5

    gold, _, _ = report_with([[e.context] for e in report])
    distracted, probs, right = report_with(with_distractors(report, pool))
    return Validation({"scale": scale, "bias": bias}, threshold, len(fit), expected_calibration_error(probs, right),
                      reliability(probs, right), gold, distracted, reader.number_format)
