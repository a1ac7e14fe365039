"""How two answers compare, in the style of the SQuAD evaluation script: normalise, then exact match and
token F1, each taken as the best over the acceptable gold answers.

Normalisation: lower case, drop punctuation, drop the articles a/an/the, collapse whitespace.
One deliberate extension: punctuation is SQuAD's ASCII set (``string.punctuation``, symbols such as
$ and + included) plus every Unicode punctuation character, because news text uses typographic
quotes and dashes (’ “ — ) that a hand-typed gold answer writes as ' " -; SQuAD's ASCII-only rule
would count those as different words.

This is the one answer normaliser of the package: the answerers use it too, to tell two answers apart."""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence

_ARTICLES = re.compile(r"\b(a|an|the)\b")


_ASCII_PUNCTUATION = frozenset(string.punctuation)


def _strip_punctuation(text: str) -> str:
    return "".join(ch for ch in text if ch not in _ASCII_PUNCTUATION and not unicodedata.category(ch).startswith("P"))


def normalize_answer(text: str) -> str:
    text = _strip_punctuation(text.lower())
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def answer_tokens(text: str) -> list[str]:
    return normalize_answer(text).split()


def exact_match(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def f1(prediction: str, gold: str) -> float:
    """Token-level F1 over normalised words (multiset overlap). Two empty answers agree (1.0), as
    in SQuAD 2.0; one empty and one not share nothing (0.0)."""
    pred, ref = answer_tokens(prediction), answer_tokens(gold)
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def best_over_gold(metric: Callable[[str, str], float], prediction: str | None, golds: Sequence[str]) -> float:
    """The best score of ``prediction`` against any gold answer. No prediction scores as the empty
    string; no gold answers means the right output is no answer (SQuAD 2.0 convention)."""
    prediction = prediction or ""
    if not golds:
        return float(not normalize_answer(prediction))
    return max(metric(prediction, gold) for gold in golds)
