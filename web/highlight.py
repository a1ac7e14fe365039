"""Highlighted HTML built only from escaped pieces: document text and questions are never trusted."""

from __future__ import annotations

from markupsafe import Markup, escape

from rag.ingest.sentences import sentence_spans
from rag.tokens import term, tokenize, words

_OPEN, _CLOSE = Markup("<mark>"), Markup("</mark>")
_SENTENCE_OPEN = Markup('<mark class="sentence">')
# How far around a span to look for its sentence: sentences are far shorter.
_SENTENCE_REACH = 3000


def mark_span(text: str, start: int, end: int, mark_id: str | None = None) -> Markup:
    """``text`` with ``text[start:end]`` wrapped in <mark>; offsets are clipped to the text."""
    start = max(0, min(start, len(text)))
    end = max(start, min(end, len(text)))
    opening = Markup('<mark id="{}">').format(mark_id) if mark_id else _OPEN
    return escape(text[:start]) + opening + escape(text[start:end]) + _CLOSE + escape(text[end:])


def sentence_around(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The sentence of ``text`` (by the index's own splitter) that holds ``text[start:end]``; None
    when the span crosses sentences (a whole passage) or lies in none."""
    lo, hi = max(0, start - _SENTENCE_REACH), min(len(text), end + _SENTENCE_REACH)
    for s, e in sentence_spans(text, lo, hi):
        if s <= start and end <= e and (s > lo or lo == 0) and (e < hi or hi == len(text)):
            return (s, e) if (s, e) != (start, end) else None
    return None


def mark_in_sentence(text: str, sentence: tuple[int, int] | None, start: int, end: int,
                     mark_id: str | None = None) -> Markup:
    """``text`` with ``sentence`` marked light and ``text[start:end]`` inside it marked strong (a
    plain ``mark_span`` without a sentence); offsets are clipped to the text, the sentence to hold
    the span."""
    if sentence is None:
        return mark_span(text, start, end, mark_id)
    start = max(0, min(start, len(text)))
    end = max(start, min(end, len(text)))
    s, e = max(0, min(sentence[0], start)), min(len(text), max(sentence[1], end))
    return (escape(text[:s]) + _SENTENCE_OPEN + mark_span(text[s:e], start - s, end - s, mark_id) + _CLOSE
            + escape(text[e:]))


def question_stems(question: str) -> frozenset[str]:
    return frozenset(tokenize(question))


def mark_words(text: str, stems: frozenset[str]) -> Markup:
    """``text`` with every word whose stem is in ``stems`` wrapped in <mark>."""
    if not stems:
        return escape(text)
    out: list[Markup] = []
    cut = 0
    # The index's own words and terms, so "meeting" in a passage matches "meet" in the question.
    for m in words(text):
        if term(m.group(0)) in stems:
            out.append(escape(text[cut:m.start()]))
            out.append(_OPEN + escape(m.group(0)) + _CLOSE)
            cut = m.end()
    out.append(escape(text[cut:]))
    return Markup("").join(out)
