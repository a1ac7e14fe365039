"""A PDF page's text as a person reads it, from PDFium's text and a little of its geometry.

PDFium's own text (its reading order, its word spacing and its line breaks) is the base: measured
against pdftotext on real PDFs (scripts/pdf_quality.py) its words are mostly spaced as well. What
this module adds, from a few calls per line (the line's boxes and font size):

* spaces: two pieces of a line more than ``_WORD_GAP`` font sizes apart with no space between them
  in PDFium's text get one (words placed one by one and set tight: "chunkis");
* cells: pieces of one line separated by a gap wider than ``_CELL_GAP`` font sizes are table cells
  (``A | B | C``), and a table row is never joined into a paragraph;
* running headers and footers: a line set apart (by a gap) at the top or bottom of a page whose
  text (digits aside) is at an edge of at least ``_MIN_REPEATS`` pages, or which holds the page's
  own number (the offset between printed numbers and page index is learned from the document), is
  dropped; so are number-only lines (page numbers, figure tick labels);
* paragraphs: a line is joined to the next with a space when it runs to its column's right edge and
  the next line continues it (same size, no gap, not a list item); a word hyphenated at a line end is
  joined when the joined word is the document's (or neither half is a word of it: "produ-cer"), and
  keeps its hyphen when the document writes it with one or both halves are words ("producer-consumer").
"""

from __future__ import annotations

import bisect
import ctypes
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

# PDFium marks a hyphen it found at a line end with U+FFFE (older builds 0x02) and joins the two lines.
_PDFIUM_HYPHEN = re.compile("[\ufffe\x02]")
# A gap of this many font sizes between two pieces of one line separates table cells (a word space
# is about a third of one; justified text stretches it to about one).
_CELL_GAP = 1.5
# A gap of this many font sizes between two pieces of one line is a word space (pdftotext: ~0.1).
_WORD_GAP = 0.1
_MIN_REPEATS = 3
_EDGE_LINES = 2
# Headers and footers are set apart from the body by more than a line's usual spacing.
_SET_OFF = 0.8
# A line that ends this share of its column's width short of the column's right edge ends a paragraph.
_SHORT_LINE = 0.2
# Baselines further apart than this many font sizes have a blank line (or a heading's space) between.
_PARAGRAPH_GAP = 1.9
_SIZE_CHANGE = 0.15
# A paragraph's first line is indented by about 1-1.5 em; a list item's wrapped lines by less.
_INDENT = 1.0
_DIGITS = re.compile(r"\d+")
_NUMBER_ONLY = re.compile(r"^[\s\-\u2013\u2014.()\[\]|]*\d{1,4}[\s\-\u2013\u2014.()\[\]|]*$")
# At a page's edge a roman numeral is a page number too (front matter); in the body it may be a word.
_PAGE_LABEL = re.compile(r"^[\s\-\u2013\u2014.()\[\]|]*(?:\d{1,4}|[ivxlc]{1,6})[\s\-\u2013\u2014.()\[\]|]*$",
                         re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+")
_COMPOUND = re.compile(r"(?<![^\W\d_])[^\W\d_]+-[^\W\d_]+")
_WIDE = re.compile("[\U00010000-\U0010FFFF]")
_SPLIT_WORD = re.compile("(?<![^\\W\\d_])[^\\W\\d_]*[\ufffe\x02][^\\W\\d_]*")
_LIST_ITEM = re.compile(r"^(?:[\u2022\u25e6\u25aa\u2023\u2013\u2014\u00b7*]|\(?[0-9a-z]{1,2}[.)])\s")
_MARKER = re.compile(r"[\u2022\u25e6\u25aa\u2023\u2013\u2014\u00b7*\-]|\(?[0-9a-zA-Z]{1,3}[.)]")


@dataclass(eq=False)
class Line:
    """One line of a page: its text (or cells), where it starts and ends, and its font size."""

    text: str
    cells: list[str]
    x0: float  # left of its first piece
    x1: float  # right of its last piece
    top: float
    bottom: float  # of its last piece (PDF units: y grows upwards)
    size: float
    head_bottom: float  # of its first piece: a hyphen PDFium joined makes one line of two
    hyphens: list[int] = field(default_factory=list)  # offsets in text of a PDFium line-end hyphen
    is_row: bool = field(init=False)  # two cells or more: a table row

    def __post_init__(self) -> None:
        self.is_row = len(self.cells) > 1


@dataclass
class Page:
    lines: list[Line]
    width: float
    height: float

    @property
    def has_text(self) -> bool:
        return bool(self.lines)


def read_page(page, textpage) -> Page:  # pypdfium2 PdfPage, PdfTextPage
    """The page's lines, in PDFium's reading order, each with a few geometric facts."""
    import pypdfium2.raw as pdfium_c

    raw = textpage.raw
    text = textpage.get_text_range()
    index = _Index(raw, text)
    width, height = page.get_size()
    left, top, right, bottom = (ctypes.c_double() for _ in range(4))
    lines: list[Line] = []
    at = 0
    for piece in text.split("\r\n"):
        start, at = at, at + len(piece) + 2
        if not piece.strip():
            continue
        first, last = index.char_of(start), index.char_of(start + len(piece) - 1)
        boxes = []
        for r in range(pdfium_c.FPDFText_CountRects(raw, first, last - first + 1)):
            if pdfium_c.FPDFText_GetRect(raw, r, left, top, right, bottom):
                boxes.append((left.value, right.value, top.value, bottom.value))
        # Some fonts give glyphs empty boxes: their text is kept, their place is not trusted.
        boxes = [b for b in boxes if b[2] > b[3]] or boxes
        if not boxes:
            continue
        size = pdfium_c.FPDFText_GetFontSize(raw, first) or (boxes[0][2] - boxes[0][3]) or 10.0
        for offset, chunk, group in _physical_lines(textpage, index, piece, start, boxes, size):
            if not chunk.strip():
                continue
            chunk, cells = _cells(raw, index, chunk, start + offset, group, size)
            lines.append(Line(text=chunk, cells=cells, x0=group[0][0], x1=group[-1][1], top=max(b[2] for b in group),
                              bottom=group[-1][3], size=size, head_bottom=group[0][3],
                              hyphens=[m.start() for m in _PDFIUM_HYPHEN.finditer(chunk.rstrip())
                                       if m.start() < len(chunk.rstrip()) - 1]))
    return Page(lines, width, height)




# How far ahead the alignment of PDFium's characters with its text looks to get back in step.
_RESYNC = 48


class _Index:
    """Between PDFium's character indices and positions in the page's Python text. They agree but
    for characters beyond the BMP (math italics), two UTF-16 units in PDFium's text and one code
    point here; and on some pages PDFium's list holds characters its text leaves out: there the
    two are aligned by reading each character's code (a few milliseconds, on those pages only)."""

    def __init__(self, raw, text: str) -> None:
        import pypdfium2.raw as pdfium_c

        self.text = text
        self.wide = [m.start() for m in _WIDE.finditer(text)]
        count = pdfium_c.FPDFText_CountChars(raw)
        self.aligned: list[int] | None = None
        if len(text) + len(self.wide) != count:
            self.aligned = self._align([pdfium_c.FPDFText_GetUnicode(raw, i) for i in range(count)], text)
            self.starts = {}
            for char, at in enumerate(self.aligned):
                if at >= 0:
                    self.starts.setdefault(at, char)

    @staticmethod
    def _align(codes: list[int], text: str) -> list[int]:
        """Each character's position in ``text`` (-1 for one the text leaves out), walking both in
        step, a surrogate pair taken as its one code point."""
        chars, owners = [], []  # the list's characters as code points, and their list indices
        i = 0
        while i < len(codes):
            code = codes[i]
            if 0xD800 <= code < 0xDC00 and i + 1 < len(codes) and 0xDC00 <= codes[i + 1] < 0xE000:
                chars.append(chr(0x10000 + ((code - 0xD800) << 10) + (codes[i + 1] - 0xDC00)))
                owners.append((i, i + 1))
                i += 2
                continue
            chars.append(chr(code) if 0 <= code < 0x110000 and not 0xD800 <= code < 0xE000 else "\ufffd")
            owners.append((i,))
            i += 1
        out = [-1] * len(codes)
        seq = "".join(chars)
        i = at = 0
        while i < len(seq) and at < len(text):
            if seq[i] == text[at]:
                for owner in owners[i]:
                    out[owner] = at
                i, at = i + 1, at + 1
                continue
            # Out of step: skip what one side has and the other lacks, to where a few characters
            # agree again (the nearest such place).
            for d in range(1, _RESYNC):
                if seq[i + d:i + d + 3] == text[at:at + 3]:
                    i += d
                    break
                if seq[i:i + 3] == text[at + d:at + d + 3]:
                    at += d
                    break
            else:
                i, at = i + 1, at + 1
        return out

    def char_of(self, at: int) -> int:
        """The character index at text position ``at``."""
        if self.aligned is None:
            return at + bisect.bisect_left(self.wide, at)
        for pos in range(at, -1, -1):  # a position the list lacks: the character before it
            if pos in self.starts:
                return self.starts[pos]
        return 0

    def text_of(self, char: int) -> int:
        """The text position of character ``char`` (-1 if the text leaves it out)."""
        if self.aligned is not None:
            return self.aligned[char] if 0 <= char < len(self.aligned) else -1
        return char - bisect.bisect_right([w + k for k, w in enumerate(self.wide)], char - 1)


def _text_index_at(raw, index: _Index, box) -> int:
    """The text index (code points) of the character at the left of a box (-1 if none)."""
    import pypdfium2.raw as pdfium_c

    char = pdfium_c.FPDFText_GetCharIndexAtPos(raw, box[0] + 0.5, (box[2] + box[3]) / 2, 1.0, 1.0)
    if char < 0:
        return -1
    at = index.text_of(char)
    text = index.text
    # Some pages hold characters PDFium counts in its list but not in its text (or the reverse), so
    # the index drifts: a position is used only where the text has the very character found there.
    if 0 <= at < len(text) and ord(text[at]) == pdfium_c.FPDFText_GetUnicode(raw, char):
        return at
    return -1


def _text_of_box(textpage, piece: str, after: int, box) -> int:
    """Where, in ``piece`` after ``after``, the text inside ``box`` starts (-1 if not found): the
    way to place a box when PDFium's indices drift."""
    inside = " ".join(textpage.get_text_bounded(left=box[0], bottom=box[3], right=box[1], top=box[2]).split())
    for probe in (inside, inside[:8]):
        if len(probe) >= 3:
            at = piece.find(probe, after + 1)
            if at > after:
                return at
    return -1


def _physical_lines(textpage, index: _Index, piece: str, start: int, boxes, size: float):
    """PDFium sometimes makes one line of two (a hyphenated word, a run-in heading): cut it where the
    next piece is on another baseline and starts left of where the last one ended."""
    raw = textpage.raw
    offsets, groups = [0], [[boxes[0]]]
    for prev, box in zip(boxes, boxes[1:]):
        if abs(box[3] - prev[3]) > 0.6 * size and box[0] < prev[1] - 0.5 * size:
            at = _text_index_at(raw, index, box) - start
            if at < 0:
                at = _text_of_box(textpage, piece, offsets[-1], box)
            if offsets[-1] < at < len(piece):
                offsets.append(at)
                groups.append([box])
                continue
        groups[-1].append(box)
    ends = offsets[1:] + [len(piece)]
    return [(a, piece[a:b], g) for a, b, g in zip(offsets, ends, groups)]


def _cells(raw, index: _Index, piece: str, start: int, boxes, size: float) -> tuple[str, list[str]]:
    """The line's text with the spaces PDFium missed, and its cells.

    Two pieces on one baseline more than ``_CELL_GAP`` font sizes apart are two cells. Pieces more
    than ``_WORD_GAP`` apart are two words: a PDF that places each word on its own, tightly set,
    gets no space from PDFium below about a sixth of an em ("chunkis"), where pdftotext has one.
    Character positions are asked for only at such gaps, and only when the line has fewer spaces
    than gaps."""
    cut_at, space_at = [], []
    for prev, box in zip(boxes, boxes[1:]):
        if abs(box[3] - prev[3]) < 0.5 * size:
            gap = box[0] - prev[1]
            if gap > _CELL_GAP * size:
                cut_at.append(box)
            elif gap > _WORD_GAP * size:
                space_at.append(box)
    if space_at and len(space_at) > piece.count(" "):
        inserts = []
        for box in space_at:
            at = _text_index_at(raw, index, box) - start
            if 0 < at < len(piece) and not piece[at - 1].isspace() and not piece[at].isspace():
                inserts.append(at)
        inserts = sorted(set(inserts))
        if inserts:
            piece = "".join(piece[a:b] + " " for a, b in zip([0] + inserts, inserts)) + piece[inserts[-1]:]
    else:
        inserts = []
    cuts = []
    for box in cut_at:
        at = _text_index_at(raw, index, box) - start
        at += bisect.bisect_right(inserts, at)  # moved right by the spaces put before it
        if 0 < at < len(piece) and (not cuts or at > cuts[-1]):
            cuts.append(at)
    if not cuts:
        return piece, [piece.strip()]
    parts = [p for p in (piece[a:b].strip() for a, b in zip([0] + cuts, cuts + [len(piece)])) if p]
    if len(parts) > 1 and _MARKER.fullmatch(parts[0]):
        # A list item's bullet or number set apart from its text is not a table cell.
        parts[:2] = [parts[0] + " " + parts[1]]
    return piece, parts


def _key(text: str) -> str:
    return " ".join(_DIGITS.sub("#", text.lower()).split())


def _edges(page: Page) -> list[Line]:
    """The page's header and footer zones: up to ``_EDGE_LINES`` lines at the top (and at the
    bottom) that a gap of more than ``_SET_OFF`` font sizes separates from the rest, as running
    headers and footers are; a body line at the top of a page is not."""
    placed = [line for line in page.lines if line.top > line.bottom]
    zone: list[Line] = []
    down = sorted(placed, key=lambda line: -line.top)
    for i in range(min(_EDGE_LINES, len(down) - 1)):
        if down[i].bottom - max(line.top for line in down[i + 1:]) > _SET_OFF * down[i].size:
            zone.extend(down[:i + 1])
            break
    up = sorted(placed, key=lambda line: line.bottom)
    for i in range(min(_EDGE_LINES, len(up) - 1)):
        if min(line.bottom for line in up[i + 1:]) - up[i].top > _SET_OFF * up[i].size:
            zone.extend(line for line in up[:i + 1] if line not in zone)
            break
    return zone


def _edge_numbers(line: Line) -> list[int]:
    # The first and last numbers of a short line: "Chapter 2: R Basics 5", "Page 3 of 40", "DAFX-3".
    numbers = _DIGITS.findall(line.text)
    if not numbers or len(line.text) > 120:
        return []
    return [int(n) for n in {numbers[0], numbers[-1]} if len(n) <= 4]


def _keys(line: Line) -> set[str]:
    # A header set as cells ("Title | Conference, June 2018" on one side, swapped on the other)
    # repeats cell by cell.
    return {_key(line.text)} | ({_key(cell) for cell in line.cells} if line.is_row else set())


def _lone_lines(pages: Sequence[Page], edges: list[list[Line]]) -> None:
    """A page with one placed line (the rest a figure) has no gap to tell a header by: its line is
    at an edge when it lies above where the body starts (or below where it ends) on the pages
    whose headers and footers were told by their gap."""
    tops, bottoms = [], []
    for page, zone in zip(pages, edges):
        body = [line for line in page.lines if line.top > line.bottom and line not in zone]
        if zone and body:
            tops.append(max(line.top for line in body))
            bottoms.append(min(line.bottom for line in body))
    if len(tops) < _MIN_REPEATS:
        return
    body_top, body_bottom = sorted(tops)[len(tops) // 2], sorted(bottoms)[len(bottoms) // 2]
    for page, zone in zip(pages, edges):
        placed = [line for line in page.lines if line.top > line.bottom]
        if not zone and len(placed) == 1:
            line = placed[0]
            if line.bottom > body_top or line.top < body_bottom:
                zone.append(line)


def running_lines(pages: Sequence[Page], body: float) -> set[int]:
    """ids of the header, footer and page-number lines of the document's pages."""
    edge_keys: Counter[str] = Counter()
    offsets: Counter[int] = Counter()
    edges = [_edges(page) for page in pages]
    _lone_lines(pages, edges)
    for index, lines in enumerate(edges):
        edge_keys.update(set().union(*(_keys(line) for line in lines)) if lines else set())
        offsets.update({n - index for line in lines for n in _edge_numbers(line)})
    # Page numbers move with the page: the offset most edge lines share, if 3 pages agree on it.
    offset, votes = offsets.most_common(1)[0] if offsets else (None, 0)
    if votes < _MIN_REPEATS:
        offset = None
    body_keys: Counter[str] = Counter()
    longest = max((len(line.text) for lines in edges for line in lines), default=0)
    for page, lines in zip(pages, edges):
        ids = {id(line) for line in lines}
        body_keys.update(k for line in page.lines if id(line) not in ids and len(line.text) <= longest
                         for k in _keys(line) if k in edge_keys)
    drop: set[int] = set()
    for index, (page, lines) in enumerate(zip(pages, edges)):
        for line in lines:
            if index == 0 and line.size > body * (1 + _SIZE_CHANGE):
                continue  # the title on the first page, which running headers often repeat
            repeated = any(edge_keys[k] >= _MIN_REPEATS and edge_keys[k] >= body_keys[k] for k in _keys(line))
            numbered = offset is not None and index + offset in _edge_numbers(line)
            if repeated or numbered or _PAGE_LABEL.match(line.text):
                drop.add(id(line))
    return drop


def vocabulary(pages: Sequence[Page]) -> tuple[Counter[str], set[str]]:
    """The document's words (lower case) and its hyphenated compounds, for line-end hyphens."""
    words: Counter[str] = Counter()
    compounds: set[str] = set()
    for page in pages:
        # The halves of a word split at a line end are not words of the document.
        text = "\n".join(line.text for line in page.lines).lower()
        if "\ufffe" in text or "\x02" in text:
            text = _SPLIT_WORD.sub(" ", text)
        words.update(_WORD.findall(text))
        if "-" in text:
            compounds.update(_COMPOUND.findall(text))
    return words, compounds


def _dehyphenate(text: str, marks: Sequence[int], words: Counter[str], compounds: set[str]) -> str:
    """Resolve PDFium's line-end hyphen marks: joined, or a hyphen kept, as the document writes it."""
    if not marks:
        return text
    out, prev = [], 0
    for mark in marks:
        before = re.search(r"([^\W\d_]+)$", text[prev:mark])
        after = re.match(r"[^\W\d_]+", text[mark + 1:])
        out.append(text[prev:mark])
        prev = mark + 1
        if before is None or after is None:
            out.append("-")
            continue
        a, b = before.group(1).lower(), after.group(0).lower()
        if words[a + b] > 0:
            out.append("")  # the document writes the joined word
        elif f"{a}-{b}" in compounds or after.group(0)[0].isupper():
            out.append("-")  # it writes the compound with its hyphen, or "Anglo-Saxon"
        elif len(a) > 2 and len(b) > 2 and words[a] > 0 and words[b] > 0:
            out.append("-")  # both halves are words of the document: "producer-consumer"
        else:
            out.append("")  # "hyphen-ated": a syllable break
    out.append(text[prev:])
    return "".join(out)


def _columns(page: Page, lines: Sequence[Line]) -> dict[int, tuple[float, float]]:
    """Each line's column, (left, right): the extent of the lines (tables aside) that start within a
    quarter page of it, from bins of an eighth of the page (linear, not a pairwise search)."""
    reach = 0.25 * page.width
    bin_width = reach / 2
    lefts: dict[int, float] = {}
    rights: dict[int, float] = {}
    for line in page.lines:
        if not line.is_row:
            b = int(line.x0 // bin_width)
            lefts[b] = min(lefts.get(b, line.x0), line.x0)
            rights[b] = max(rights.get(b, line.x1), line.x1)
    out = {}
    for line in lines:
        b = int(line.x0 // bin_width)
        near = [n for n in range(b - 2, b + 3) if n in lefts]
        left = min([lefts[n] for n in near], default=line.x0)
        right = max([rights[n] for n in near], default=line.x1)
        out[id(line)] = (min(left, line.x0), max(right, line.x1))
    return out


def _line_text(line: Line, words: Counter[str], compounds: set[str]) -> str:
    """The line's text; a PDFium hyphen mark at its end is left for the join with the next line."""
    if line.is_row:
        return " | ".join(" ".join(_PDFIUM_HYPHEN.sub("-", c).split()) for c in line.cells)
    text = " ".join(_dehyphenate(line.text, line.hyphens, words, compounds).split())
    if text.endswith("-") and not _PDFIUM_HYPHEN.search(text[-2:]):
        text = text[:-1] + "\ufffe"  # a plain hyphen at a line end may be a break too
    return text


def _joiner(a: Line, b: Line, columns: dict[int, tuple[float, float]], list_x0: float | None) -> str:
    """What goes between lines ``a`` and ``b``: "" or " " when b goes on along a's own baseline
    (PDFium cuts a line at a raised footnote mark), " " when b carries on a's paragraph, else "\n"."""
    if a.is_row or b.is_row:
        return "\n"
    gap = b.x0 - a.x1
    if abs(b.head_bottom - a.bottom) < 0.6 * a.size and -0.5 < gap < _CELL_GAP * a.size:
        return "" if gap < 0.15 * a.size or b.text[:1] in ",.;:)]" else " "
    return " " if _continues(a, b, columns, list_x0) else "\n"


def _continues(a: Line, b: Line, columns: dict[int, tuple[float, float]], list_x0: float | None) -> bool:
    """Whether line ``b`` carries on the paragraph of line ``a`` (else a line break is kept)."""
    if _LIST_ITEM.match(b.text):
        return False
    if abs(a.size - b.size) > _SIZE_CHANGE * max(a.size, b.size):
        return False
    left, right = columns[id(a)]
    end = a.text.rstrip()[-2:]
    broken_word = len(end) == 2 and end[1] in "-\ufffe\x02" and end[0].isalpha()
    if a.x1 < right - _SHORT_LINE * max(right - left, a.size) and not broken_word:
        return False
    if b.top <= a.bottom + 0.5 * a.size:  # b is below a: no blank line between them
        if a.bottom - b.head_bottom > _PARAGRAPH_GAP * a.size:
            return False
        # An indented line starts a paragraph; a line left of the list item above ends the list.
        if b.x0 > a.x0 + _INDENT * a.size and b.x0 > left + _INDENT * a.size:
            return False
        return not (list_x0 is not None and b.x0 < list_x0 - 0.5 * a.size)
    return True  # b is higher up: the next column; a full line runs on into it


def page_text(page: Page, drop: set[int], words: Counter[str], compounds: set[str]) -> str:
    """The page as text: paragraphs on one line each, table rows and headings on their own."""
    lines = [line for line in page.lines if id(line) not in drop and not _NUMBER_ONLY.match(line.text)]
    if not lines:
        return ""
    columns = _columns(page, lines)
    parts = [_line_text(lines[0], words, compounds)]
    list_x0 = lines[0].x0 if _LIST_ITEM.match(lines[0].text) else None
    for a, b in zip(lines, lines[1:]):
        text = _line_text(b, words, compounds)
        joiner = _joiner(a, b, columns, list_x0)
        if _LIST_ITEM.match(b.text):
            list_x0 = b.x0
        elif joiner == "\n":
            list_x0 = None
        end = parts[-1]
        if end.endswith("\ufffe"):
            if joiner != "\n":  # a word broken at the line end: one word, or a compound, as the document has it
                parts[-1] = _dehyphenate(end + text, [len(end) - 1], words, compounds)
                continue
            parts[-1] = end[:-1] + "-"
        parts.append(joiner)
        parts.append(text)
    if parts[-1].endswith("\ufffe"):
        parts[-1] = parts[-1][:-1] + "-"
    return "".join(parts)


def title_lines(page: Page, body_size: float) -> str:
    """The first page's title: its largest-font lines (consecutive, in the top half), if larger than
    the body text."""
    candidates = [line for line in page.lines if line.top > page.height / 2 and _WORD.search(line.text)
                  and not _NUMBER_ONLY.match(line.text)]
    if not candidates:
        return ""
    biggest = max(line.size for line in candidates)
    if biggest < 1.15 * body_size:
        return ""
    ids = {id(line) for line in candidates}
    picked: list[str] = []
    for line in page.lines:
        if id(line) in ids and line.size >= biggest * 0.97:
            picked.append(" ".join(_PDFIUM_HYPHEN.sub("-", " ".join(line.cells)).split()))
        elif picked:
            break
    return " ".join(picked)


def body_size(pages: Sequence[Page]) -> float:
    """The font size most of the document's characters are set in."""
    sizes: Counter[float] = Counter()
    for page in pages[:20]:
        for line in page.lines:
            sizes[round(line.size, 1)] += len(line.text)
    return sizes.most_common(1)[0][0] if sizes else 10.0
