"""Highlighted HTML built only from escaped pieces: document text and questions are never trusted."""

from __future__ import annotations

from markupsafe import Markup, escape

from rag.tokens import term, tokenize, words

_OPEN, _CLOSE = Markup("<mark>"), Markup("</mark>")


def mark_span(text: str, start: int, end: int, mark_id: str | None = None) -> Markup:
    """``text`` with ``text[start:end]`` wrapped in <mark>; offsets are clipped to the text."""
    start = max(0, min(start, len(text)))
    end = max(start, min(end, len(text)))
    opening = Markup('<mark id="{}">').format(mark_id) if mark_id else _OPEN
    return escape(text[:start]) + opening + escape(text[start:end]) + _CLOSE + escape(text[end:])


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
