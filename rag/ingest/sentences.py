"""Sentence boundaries as character offsets. Rules, not a model: fast, and good enough for news
and documentation prose. A line break is a boundary (headlines, list items) unless the next line
starts with a lowercase letter: then the line was wrapped inside a sentence (hard-wrapped text, a
PDF's lines), and the sentence runs on across it."""

from __future__ import annotations

import re

# A sentence ends at . ! ? or … (possibly repeated), then any closing quotes or brackets, then
# whitespace.
_END = re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s)")
_LINE = re.compile(r"[^\n]+")
_WORD_BEFORE = re.compile(r"(\S+)$")
ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st jr sr gen gov sen rep lt col capt sgt maj adm cmdr pres vs etc e.g i.e "
    "no nos inc ltd co corp dept est fig jan feb mar apr jun jul aug sep sept oct nov dec approx "
    "vol pp p mt ft".split()
)


def _is_abbreviation(line: str, dot_at: int) -> bool:
    match = _WORD_BEFORE.search(line, 0, dot_at)
    if not match:
        return False
    word = match.group(1).lstrip("(\"'“‘").lower()
    if word in ABBREVIATIONS:
        return True
    # Initials and dotted acronyms: "U.S.", "J.", "a.m."
    return bool(re.fullmatch(r"(?:[a-z]\.)*[a-z]", word))


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentences of ``text[start:end]`` as (start, end) offsets into ``text``, trimmed of
    whitespace, in order, non-overlapping; every non-space character lies in exactly one."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    for base, stop in _runs(text, start, end):
        line_text = text[base:stop]
        cut = 0
        for m in _END.finditer(line_text):
            if line_text[m.start()] == "." and m.end() - m.start() == 1 and _is_abbreviation(line_text, m.start()):
                continue
            rest = line_text[m.end():].lstrip()
            # "e.g. the" or "3 p.m. local time": a lowercase continuation is not a new sentence.
            if rest and rest[0].islower():
                continue
            _append_trimmed(spans, text, base + cut, base + m.end())
            cut = m.end()
        _append_trimmed(spans, text, base + cut, base + len(line_text))
    return spans


def _runs(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Lines, with each line that starts lowercase joined to the one before: (start, end) offsets."""
    runs: list[tuple[int, int]] = []
    for line in _LINE.finditer(text, start, end):
        first = line.group(0).lstrip()
        if runs and first[:1].islower() and "\n\n" not in text[runs[-1][1]:line.start() + 1]:
            runs[-1] = (runs[-1][0], line.end())
        else:
            runs.append((line.start(), line.end()))
    return runs


def _append_trimmed(spans: list[tuple[int, int]], text: str, s: int, e: int) -> None:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    if s < e:
        spans.append((s, e))
