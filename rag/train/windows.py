"""QA examples -> labelled training windows: every window that holds a gold answer, and a capped
number of windows that hold none (labelled [CLS], "no answer here").

The cap matters for long contexts: a COVID-QA paper makes ~60 windows per question, nearly all empty,
and training on all of them would spend most of the time teaching "no answer"."""

from __future__ import annotations

import random
from dataclasses import dataclass

from tokenizers import Tokenizer

from ..answer.windows import Window, answer_tokens, make_windows
from .data import QAExample


@dataclass(frozen=True)
class TrainWindow:
    window: Window
    start: int  # answer's first token, 0 ([CLS]) for no answer
    end: int


def training_windows(tokenizer: Tokenizer, examples: list[QAExample], max_length: int, stride: int,
                     negatives_per_question: int, seed: int) -> list[TrainWindow]:
    rng = random.Random(seed)
    windows = make_windows(tokenizer, [e.question for e in examples], [e.context for e in examples],
                           max_length, stride)
    by_pair: dict[int, list[Window]] = {}
    for w in windows:
        by_pair.setdefault(w.pair, []).append(w)
    out: list[TrainWindow] = []
    for pair, ws in by_pair.items():
        example = examples[pair]
        positives, negatives = [], []
        for w in ws:
            # The first gold answer the window holds whole (SQuAD dev lists several).
            hit = next((t for t in (answer_tokens(w, s, e) for s, e in example.answers) if t), None)
            (positives if hit else negatives).append(TrainWindow(w, *(hit or (0, 0))))
        out.extend(positives)
        out.extend(rng.sample(negatives, min(len(negatives), negatives_per_question)))
    return out
