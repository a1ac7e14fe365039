"""QA examples -> labelled training windows: every window that holds a gold answer, and a capped
number of windows that hold none (labelled [CLS], "no answer here").

The cap matters for long contexts: a COVID-QA paper makes ~60 windows per question, nearly all empty,
and training on all of them would spend most of the time teaching "no answer".

``other_passages`` adds, per answerable question, windows of other paragraphs of the same article that do
not contain its answer, labelled "no answer here": the product reads several retrieved passages on one
topic, and most of them do not hold the answer. ``distractor_passages`` does the same with the paragraphs
of the whole training pool that BM25 ranks highest for the question, whatever their article: the
passages a retriever would put beside the right one, which the reader must learn to pass over."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from tokenizers import Tokenizer

from ..answer.windows import Window, answer_tokens, make_windows
from ..squad_format import QAExample


@dataclass(frozen=True)
class TrainWindow:
    window: Window
    start: int  # answer's first token, 0 ([CLS]) for no answer
    end: int


def training_windows(tokenizer: Tokenizer, examples: list[QAExample], max_length: int, stride: int,
                     negatives_per_question: int, seed: int, other_passages: int = 0,
                     distractor_passages: int = 0) -> list[TrainWindow]:
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
    if other_passages:
        out.extend(_other_passage_windows(tokenizer, examples, max_length, stride, other_passages, rng))
    if distractor_passages:
        out.extend(_distractor_windows(tokenizer, examples, max_length, stride, distractor_passages, rng))
    return out


def _lacks_answer(example: QAExample) -> Callable[[str], bool]:
    golds = [t.lower() for t in example.answer_texts]
    return lambda lower_context: not any(g in lower_context for g in golds)


def _other_passage_windows(tokenizer: Tokenizer, examples: list[QAExample], max_length: int, stride: int,
                           per_question: int, rng: random.Random) -> list[TrainWindow]:
    """One random window of each of up to ``per_question`` other paragraphs of the question's article
    that lack every gold answer's text (case-insensitive), labelled [CLS]. Unanswerable questions get none:
    another paragraph might answer them."""
    # Each article's distinct paragraphs, with their lower-cased text computed once (COVID-QA papers are long).
    paragraphs: dict[tuple[str, str], dict[str, str]] = {}
    for e in examples:
        article = paragraphs.setdefault((e.source, e.article), {})
        if e.context not in article:
            article[e.context] = e.context.lower()
    questions, contexts = [], []
    for e in examples:
        if not e.answers:
            continue
        lacks = _lacks_answer(e)
        others = [c for c, lower in paragraphs[(e.source, e.article)].items() if c != e.context and lacks(lower)]
        for c in rng.sample(others, min(len(others), per_question)):
            questions.append(e.question)
            contexts.append(c)
    return _one_window_each(tokenizer, questions, contexts, max_length, stride, rng)


def _distractor_windows(tokenizer: Tokenizer, examples: list[QAExample], max_length: int, stride: int,
                        per_question: int, rng: random.Random) -> list[TrainWindow]:
    """One random window of each of the ``per_question`` paragraphs of the pool (every example's
    context) that BM25 ranks highest for the question, other than its own and lacking every gold
    answer's text (case-insensitive), labelled [CLS]. Unanswerable questions get none."""
    from ..index.lexical import LexicalIndex

    pool = list(dict.fromkeys(e.context for e in examples))
    lowered = [c.lower() for c in pool]
    index = LexicalIndex.build(pool)
    questions, contexts = [], []
    for e in examples:
        if not e.answers:
            continue
        lacks = _lacks_answer(e)
        # A few spare candidates: the top of the ranking is often the question's own paragraph or
        # another one that holds the answer.
        _, rows = index.search(e.question, per_question + 4)
        chosen = [pool[r] for r in rows if pool[r] != e.context and lacks(lowered[r])][:per_question]
        questions.extend(e.question for _ in chosen)
        contexts.extend(chosen)
    return _one_window_each(tokenizer, questions, contexts, max_length, stride, rng)


def _one_window_each(tokenizer: Tokenizer, questions: list[str], contexts: list[str], max_length: int,
                     stride: int, rng: random.Random) -> list[TrainWindow]:
    """One random window of each (question, context) pair, labelled [CLS]."""
    by_pair: dict[int, list[Window]] = {}
    for w in make_windows(tokenizer, questions, contexts, max_length, stride):
        by_pair.setdefault(w.pair, []).append(w)
    return [TrainWindow(rng.choice(ws), 0, 0) for _, ws in sorted(by_pair.items())]
