"""Start/end logits of one window -> the best answer spans, as character ranges of its context."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .windows import Window


@dataclass(frozen=True)
class Span:
    pair: int
    start: int        # character offsets into the pair's context
    end: int
    logit: float      # start logit + end logit
    null_logit: float  # the window's no-answer logit ([CLS] start + end)

    @property
    def margin(self) -> float:
        """How far the span beats "no answer" in its own window; the calibrated score is built on it."""
        return self.logit - self.null_logit


def best_spans(window: Window, start_logits: np.ndarray, end_logits: np.ndarray, top: int = 5,
               max_tokens: int = 30) -> list[Span]:
    """The ``top`` highest-scoring spans of passage tokens, end not before start and at most
    ``max_tokens`` long, best first."""
    n = len(window)
    start_logits, end_logits = start_logits[:n], end_logits[:n]
    null = float(start_logits[0] + end_logits[0])
    ctx = np.flatnonzero(window.context_tokens)
    if len(ctx) == 0:
        return []
    s, e = start_logits[ctx], end_logits[ctx]
    scores = s[:, None] + e[None, :]
    i, j = np.indices(scores.shape)
    scores = np.where((j >= i) & (j - i < max_tokens), scores, -np.inf)
    flat = scores.ravel()
    k = min(top, int(np.isfinite(flat).sum()))
    best = np.argpartition(-flat, k - 1)[:k]
    best = best[np.argsort(-flat[best])]
    spans = []
    for b in best:
        a, z = divmod(int(b), scores.shape[1])
        start, end = int(window.offsets[ctx[a], 0]), int(window.offsets[ctx[z], 1])
        spans.append(Span(window.pair, start, end, float(flat[b]), null))
    return spans
