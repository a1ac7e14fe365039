"""Plain-text rendering of a result for the terminal."""

from __future__ import annotations

import textwrap

from .records import Result

NO_ANSWER = "No answer in these documents."


def short(title: str, limit: int = 80) -> str:
    return title if len(title) <= limit else title[:limit - 1].rstrip() + "…"


def render_text(result: Result, color: bool = False, width: int = 100) -> str:
    bold = (lambda s: f"\033[1m{s}\033[0m") if color else (lambda s: s)
    mark = (lambda s: f"\033[1;33m{s}\033[0m") if color else (lambda s: f"[[{s}]]")
    lines = [f"Q: {result.question}"]
    passages = {p.chunk.doc_id: p for p in result.passages}
    if result.answer is None:
        lines.append(bold(f"A: {NO_ANSWER}") + (" Closest passages below." if result.passages else ""))
    else:
        a = result.answer
        lines.append(bold(f"A: {a.text}") + f"   (confidence {a.score:.2f})")
        sentence = _sentence(result, a)
        if sentence:
            lines.append(textwrap.fill(sentence(mark), width, initial_indent="   ", subsequent_indent="   "))
        cite = passages.get(a.doc_id)
        title = f"{short(cite.title)} " if cite else ""
        lines.append(f"   source: {title}[{a.doc_id} {a.start}:{a.end}{_page(result.with_page(a).page)}]")
        for alt in result.alternatives:
            page = _page(result.with_page(alt).page)
            lines.append(f"   also: {alt.text} [{alt.doc_id} {alt.start}:{alt.end}{page}] ({alt.score:.2f})")
    lines.append("")
    lines.append("Citations:")
    for p in result.passages:
        lines.append(f"[{p.rank}] {short(p.title)}  ({p.chunk.doc_id} {p.chunk.start}:{p.chunk.end}{_page(p.page)}, "
                     f"score {p.score:.3f})")
        snippet = " ".join(p.chunk.text.split())
        lines.append(textwrap.fill(snippet[:300] + ("…" if len(snippet) > 300 else ""), width,
                                   initial_indent="    ", subsequent_indent="    "))
    return "\n".join(lines)


def _sentence(result: Result, answer):
    """The answer's sentence with the answer marked, from the passage that holds it."""
    for p in result.passages:
        c = p.chunk
        if c.doc_id == answer.doc_id and c.start <= answer.sentence_start and answer.sentence_end <= c.end:
            s = c.text[answer.sentence_start - c.start:answer.sentence_end - c.start]
            a0, a1 = answer.start - answer.sentence_start, answer.end - answer.sentence_start
            return lambda mark: " ".join((s[:a0] + mark(s[a0:a1]) + s[a1:]).split())
    return None


def _page(page: int | None) -> str:
    return f", p. {page}" if page else ""
