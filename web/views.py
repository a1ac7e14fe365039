"""What the pages show, built from a ``Result``: plain dataclasses with links and safe, highlighted
HTML. No retrieval or answering here, only presentation."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any
from urllib.parse import quote, urlencode

from markupsafe import Markup, escape

from rag.records import Answer, Passage, Result

from .highlight import mark_in_sentence, mark_span, mark_words, question_stems


def doc_href(doc_id: str, start: int | None = None, end: int | None = None) -> str:
    """The document page with the span highlighted; #hit scrolls to it without JavaScript."""
    path = f"/doc/{quote(doc_id, safe='')}"
    if start is None or end is None:
        return path
    return f"{path}?{urlencode({'start': start, 'end': end})}#hit"


def file_href(doc_id: str, page: int | None = None) -> str:
    """The original file as indexed; browsers' PDF viewers open ``#page=N`` at that page."""
    path = f"/doc/{quote(doc_id, safe='')}/file"
    return f"{path}#page={page}" if page else path


def source_name(source: str) -> str:
    # The file name says where it came from without showing the server's directory layout.
    return PurePath(source).name if source else ""


def short_title(title: str, limit: int = 70) -> str:
    """News titles are whole first sentences; a citation line needs only their start."""
    if len(title) <= limit:
        return title
    cut = title.rfind(" ", 0, limit)
    return title[: cut if cut > limit // 2 else limit].rstrip(" ,;:—-") + "…"


@dataclass(frozen=True)
class AnswerView:
    text: str
    doc_id: str
    title: str
    score: float
    sentence: Markup
    href: str
    span: str
    page: int | None = None
    file_href: str = ""
    start: int = 0  # document offsets, for the right/wrong form
    end: int = 0

    @property
    def percent(self) -> int:
        return round(100 * max(0.0, min(1.0, self.score)))


@dataclass(frozen=True)
class PassageView:
    rank: int
    doc_id: str
    title: str
    source: str
    score: float
    text: Markup
    href: str
    span: str
    has_answer: bool
    page: int | None = None
    file_href: str = ""
    start: int = 0  # document offsets, for the right/wrong form
    end: int = 0


@dataclass(frozen=True)
class ResultView:
    question: str
    answer: AnswerView | None
    alternatives: list[AnswerView]
    passages: list[PassageView]
    milliseconds: int | None


def _contains(p: Passage, a: Answer | None) -> bool:
    c = p.chunk
    return a is not None and c.doc_id == a.doc_id and c.start <= a.start and a.end <= c.end


def answer_view(answer: Answer, document: Any, title: str) -> AnswerView:
    # The page is the one whose range holds the answer's start (None for formats without pages).
    page = answer.page if answer.page is not None else (document.page_at(answer.start) if document else None)
    """The answer marked inside its sentence, sliced from the document text (document offsets)."""
    if document is not None and 0 <= answer.sentence_start <= answer.start <= answer.end <= answer.sentence_end \
            <= len(document.text):
        sentence_text = document.text[answer.sentence_start:answer.sentence_end]
        sentence = mark_span(sentence_text, answer.start - answer.sentence_start, answer.end - answer.sentence_start)
    else:
        sentence = mark_span(answer.text, 0, len(answer.text))
    return AnswerView(text=answer.text, doc_id=answer.doc_id, title=title, score=float(answer.score),
                      sentence=sentence, href=doc_href(answer.doc_id, answer.start, answer.end),
                      span=f"{answer.start}–{answer.end}", page=page,
                      file_href=file_href(answer.doc_id, page) if page else "", start=answer.start, end=answer.end)


def passage_view(p: Passage, answer: Answer | None, stems: frozenset[str]) -> PassageView:
    c = p.chunk
    has_answer = _contains(p, answer)
    if has_answer:
        text = mark_span(c.text, answer.start - c.start, answer.end - c.start)  # type: ignore[union-attr]
    else:
        text = mark_words(c.text, stems)
    return PassageView(rank=p.rank, doc_id=c.doc_id, title=p.title or c.doc_id, source=source_name(p.source),
                       score=float(p.score), text=text, href=doc_href(c.doc_id, c.start, c.end),
                       span=f"{c.start}–{c.end}", has_answer=has_answer, page=p.page,
                       file_href=file_href(c.doc_id, p.page) if p.page else "", start=c.start, end=c.end)


def result_view(result: Result, document_of: Any) -> ResultView:
    """``document_of(doc_id)`` returns the indexed Document (or None): the only text source."""
    titles = {p.chunk.doc_id: p.title for p in result.passages}

    def view(a: Answer) -> AnswerView:
        doc = document_of(a.doc_id)
        return answer_view(a, doc, short_title(titles.get(a.doc_id) or (doc.title if doc else a.doc_id)))

    stems = question_stems(result.question)
    total = result.timings.get("total")
    return ResultView(
        question=result.question,
        answer=view(result.answer) if result.answer else None,
        alternatives=[view(a) for a in result.alternatives],
        passages=[passage_view(p, result.answer, stems) for p in result.passages],
        milliseconds=round(total * 1000) if total is not None else None,
    )


@dataclass(frozen=True)
class PageView:
    number: int
    body: Markup


def page_views(text: str, pages: tuple[tuple[int, int], ...], span: tuple[int, int] | None,
               sentence: tuple[int, int] | None = None) -> list[PageView]:
    """Each page's text, with the part of the highlighted span that falls on it marked (inside its
    sentence, marked light, when given); the first marked piece carries id="hit" so #hit scrolls
    to it. A sentence never crosses a page (pages are apart by a blank line)."""
    out: list[PageView] = []
    hit_given = False
    for number, (start, end) in enumerate(pages, 1):
        piece = text[start:end]
        if span and span[0] < end and start < span[1] or (span and span[0] == span[1] and start <= span[0] <= end):
            within = (sentence[0] - start, sentence[1] - start) if sentence and start <= sentence[0] < end else None
            body = mark_in_sentence(piece, within, span[0] - start, span[1] - start,
                                    mark_id=None if hit_given else "hit")
            hit_given = True
        else:
            body = escape(piece)
        out.append(PageView(number, body))
    return out


# A suggestion for the question box: a question the documents ask themselves (an FAQ's "What is
# R?", a heading "How do I install it?"), short enough to read at a glance; else no suggestion.
_QUESTION = re.compile(r"(?m)^[ \t]*(?:\d+(?:\.\d+)*\.?[ \t]+)?([A-Z][^\n?.!]{6,90}\?)[ \t]*$"
                       r"|(?<=[.!?] )([A-Z][^\n?.!]{6,90}\?)(?=\s)")
_SCAN_CHARS = 20_000
_SCAN_DOCUMENTS = 200


def example_question(documents: Iterable[Any]) -> str | None:
    """The first question-like line or sentence in the indexed documents (in the order given,
    the first ``_SCAN_CHARS`` of each), or None: the placeholder never suggests a question the
    corpus cannot answer."""
    for n, doc in enumerate(documents):
        if n >= _SCAN_DOCUMENTS:
            break
        for match in _QUESTION.finditer(doc.text[:_SCAN_CHARS]):
            question = " ".join((match.group(1) or match.group(2)).split())
            if 3 <= len(question.split()) <= 14:
                return question
    return None
