"""Paged text (PDF): join pages into one document text while recording each page's character range,
reflow wrapped lines, join words hyphenated at line ends, and drop running headers and footers."""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Iterable, Sequence

PageRanges = tuple[tuple[int, int], ...]
# Pages are separated by a blank line: a sentence never runs across it, so no chunk sentence is cut
# by a page edge it does not really cross, and the page of an offset is unambiguous.
PAGE_SEPARATOR = "\n\n"
# A wrapped line fills most of the width; a shorter line ends a paragraph or is a heading.
_FULL_LINE = 0.75
# A line counts as a running header/footer when it (digits ignored) opens or closes at least this
# share of the pages, and at least _MIN_REPEATS of them.
_REPEATED_SHARE = 0.6
_MIN_REPEATS = 3
_EDGE_LINES = 2
# Page-number lines are short ("Page 3 of 40", "- 3 -", "Annual report | 3").
_PAGE_NUMBER_LINE = 40
# PDFium marks a hyphen it found at a line end with U+FFFE (or 0x02) and drops the break itself.
_PDFIUM_HYPHEN = re.compile("[\ufffe\x02]")
_LINE_END_HYPHEN = re.compile(r"(?<=[^\W\d_])-\n(?=[a-z])")
_DIGITS = re.compile(r"\d+")


def page_lines(raw: str) -> list[str]:
    """The non-empty lines of one page's raw text, hyphenated words joined, spaces tidied."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n").replace("\0", "")
    text = _PDFIUM_HYPHEN.sub("", text)
    text = _LINE_END_HYPHEN.sub("", text)
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return [line for line in lines if line]


def _page_number_key(line: str, index: int) -> str | None:
    """"Page 3 of 40" on the third page and "Page 4 of 40" on the fourth are the same footer: a short
    line whose first number moves with the page. Its key keeps the number's distance from the page
    index, so numbered body lines ("Section 3") that do not follow the pages are kept."""
    match = _DIGITS.search(line)
    if match is None or len(line) > _PAGE_NUMBER_LINE:
        return None
    return f"{_DIGITS.sub('#', line.lower())}@{int(match.group(0)[:9]) - index}"


def _edge_keys(line: str, index: int) -> set[str]:
    keys = {line}
    number = _page_number_key(line, index)
    if number is not None:
        keys.add(number)
    return keys


def repeated_edges(pages: Sequence[Sequence[str]]) -> set[str]:
    """Keys of lines that open or close most pages: running headers, footers and page numbers."""
    if len(pages) < _MIN_REPEATS:
        return set()
    seen: Counter[str] = Counter()
    for index, lines in enumerate(pages):
        keys: set[str] = set()
        for line in list(lines[:_EDGE_LINES]) + list(lines[-_EDGE_LINES:]):
            keys |= _edge_keys(line, index)
        seen.update(keys)
    need = max(_MIN_REPEATS, _REPEATED_SHARE * len(pages))
    return {key for key, n in seen.items() if n >= need}


def strip_edges(lines: Sequence[str], repeated: set[str], index: int = 0) -> list[str]:
    """Drop repeated lines from the first and last few lines of page ``index`` (0-based), never from
    its middle."""
    out = list(lines)
    for _ in range(_EDGE_LINES):
        if out and _edge_keys(out[0], index) & repeated:
            out.pop(0)
    for _ in range(_EDGE_LINES):
        if out and _edge_keys(out[-1], index) & repeated:
            out.pop()
    return out


def reflow(lines: Sequence[str]) -> str:
    """Wrapped lines joined with a space; a line much shorter than the page's longest (a paragraph's
    last line, a heading) keeps its line break, which the sentence splitter treats as a boundary."""
    if not lines:
        return ""
    full = _FULL_LINE * max(len(line) for line in lines)
    parts = [lines[0]]
    for prev, line in zip(lines, lines[1:]):
        parts.append(" " if len(prev) >= full else "\n")
        parts.append(line)
    return "".join(parts)


def join_pages(pages: Iterable[str]) -> tuple[str, PageRanges]:
    """One text from page texts, and each page's (start, end) in it: ``text[start:end]`` is the
    page's text, ranges are in order and do not overlap."""
    parts: list[str] = []
    ranges: list[tuple[int, int]] = []
    at = 0
    for i, page in enumerate(pages):
        if i:
            parts.append(PAGE_SEPARATOR)
            at += len(PAGE_SEPARATOR)
        parts.append(page)
        ranges.append((at, at + len(page)))
        at += len(page)
    return "".join(parts), tuple(ranges)


def page_at(pages: PageRanges, offset: int) -> int | None:
    """The 1-based page that holds the character at ``offset`` (a separator belongs to the page
    before it); None for a document without pages."""
    if not pages:
        return None
    starts = [start for start, _ in pages]
    return max(1, bisect.bisect_right(starts, offset))
