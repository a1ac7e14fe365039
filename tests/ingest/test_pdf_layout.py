"""PDF text as a person reads it (rag/ingest/pdf_layout.py), on small PDFs the tests draw: a table,
two columns with a sentence running across, chapter headers with page numbers, line-end hyphens,
a title set large; and the text assembly's properties on generated lines."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from rag.ingest.chunking import chunk_document
from rag.ingest.pdf import load_pdf
from rag.ingest.pdf_layout import Line, Page, page_text, vocabulary

WIDTH, HEIGHT = A4
LEFT, RIGHT = 72, WIDTH - 72
TOP = HEIGHT - 100
LEADING = 14


def draw(path: Path, pages, title: str | None = None, header=None, footer=None) -> Path:
    """Each page is a list of (x, y, text, size) strings; ``header(n)``/``footer(n)`` add a running
    header/footer on page n (1-based)."""
    c = canvas.Canvas(str(path), pagesize=A4)
    if title is not None:
        c.setTitle(title)
    for n, items in enumerate(pages, 1):
        for fn, y in ((header, HEIGHT - 50), (footer, 40)):
            if fn is not None:
                c.setFont("Helvetica", 9)
                c.drawString(LEFT, y, fn(n))
        for x, y, text, size in items:
            c.setFont("Helvetica", size)
            c.drawString(x, y, text)
        c.showPage()
    c.save()
    return path


def lines_at(x: float, texts, top: float = TOP, size: float = 11, justify_to: float | None = None,
             last_too: bool = False):
    """Lines top to bottom; with ``justify_to`` every line but the last (``last_too``: every line) is
    stretched to that right edge (word spacing), as justified text is."""
    out = []
    for i, text in enumerate(texts):
        y = top - i * LEADING
        if justify_to is not None and (i < len(texts) - 1 or last_too):
            words = text.split()
            from reportlab.pdfbase.pdfmetrics import stringWidth
            room = justify_to - x - sum(stringWidth(w, "Helvetica", size) for w in words)
            gap = room / (len(words) - 1)
            at = x
            for w in words:
                out.append((at, y, w, size))
                at += stringWidth(w, "Helvetica", size) + gap
        else:
            out.append((x, y, text, size))
    return out


PARAGRAPH = ["The harbour council met on Tuesday to discuss the state of the old bridge",
             "and the cost of repairs, which the engineers put at four million euros over",
             "the next two years of work on the river crossing."]


def test_a_table_is_kept_as_rows_of_cells_and_not_spliced_into_the_paragraph(tmp_path):
    table = [("Cluster", "A", "B"), ("Chunkservers", "342", "227"), ("Available disk", "72 TB", "180 TB")]
    items = lines_at(LEFT, PARAGRAPH, justify_to=RIGHT)
    y = TOP - 5 * LEADING
    for r, row in enumerate(table):
        for x, cell in zip((LEFT, LEFT + 160, LEFT + 260), row):
            items.append((x, y - r * LEADING, cell, 11))
    items += lines_at(LEFT, ["The tasks last much longer and use the disks more."], top=y - 5 * LEADING)
    doc = load_pdf(draw(tmp_path / "t.pdf", [items]))
    lines = doc.text.splitlines()
    assert "Cluster | A | B" in lines
    assert "Chunkservers | 342 | 227" in lines
    assert "Available disk | 72 TB | 180 TB" in lines
    assert " ".join(PARAGRAPH) in lines  # the wrapped paragraph is one line, the table not in it
    assert "The tasks last much longer and use the disks more." in lines


def test_a_sentence_runs_from_the_left_column_into_the_right(tmp_path):
    half = (WIDTH - 2 * LEFT - 20) / 2
    left = ["Two columns hold this page: the first", "column ends in the middle of a sentence",
            "that the second column carries on"]
    right = ["to its end without a break in it.", "A second paragraph follows here."]
    items = lines_at(LEFT, left, justify_to=LEFT + half, last_too=True) + lines_at(LEFT + half + 20, right)
    doc = load_pdf(draw(tmp_path / "c.pdf", [items]))
    assert "that the second column carries on to its end without a break in it." in doc.text
    assert doc.text.index("Two columns") < doc.text.index("A second paragraph")


def test_chapter_headers_with_page_numbers_and_page_number_lines_are_dropped(tmp_path):
    chapters = {1: "Chapter 1: Basics", 2: "Chapter 1: Basics", 3: "Chapter 2: Advanced", 4: "Chapter 2: Advanced"}
    pages = [lines_at(LEFT, [f"Section {n} is about the ferry timetable number {n}.",
                             f"The ferry leaves at {n + 6} o'clock from pier {n}."]) for n in range(1, 5)]
    doc = load_pdf(draw(tmp_path / "h.pdf", pages, header=lambda n: f"{chapters[n]} {n + 10}",
                        footer=lambda n: str(n + 10)))
    assert "Chapter" not in doc.text
    assert not any(line.strip().isdigit() for line in doc.text.splitlines())
    for n in range(1, 5):
        start, end = doc.pages[n - 1]
        assert f"Section {n} is about the ferry timetable number {n}." in doc.text[start:end]


def test_words_placed_one_by_one_and_set_tight_are_spaced(tmp_path):
    """A PDF that places each word on its own with gaps of 0.13 em: PDFium gives no space there
    ("chunkis"); pdftotext and this loader do."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    words = "Each chunk is identified by an immutable and globally unique handle".split()
    items, x = [], LEFT
    for w in words:
        items.append((x, TOP, w, 10))
        x += stringWidth(w, "Helvetica", 10) + 1.3
    doc = load_pdf(draw(tmp_path / "g.pdf", [items]))
    assert doc.text == " ".join(words)


def test_line_end_hyphens_follow_the_documents_own_words(tmp_path):
    text = ["A producer-consumer queue joins the two threads; the producer writes and the",
            "consumer reads. This is the classic producer-",
            "consumer pattern, and the harbour commit-",
            "tee uses it for the ferry."]
    doc = load_pdf(draw(tmp_path / "y.pdf", [lines_at(LEFT, text)]))
    assert "classic producer-consumer pattern" in doc.text
    assert "harbour committee uses it" in doc.text


def test_title_is_the_large_heading_unless_the_metadata_looks_like_one(tmp_path):
    items = [(LEFT, TOP + 40, "Tidal Power in Small", 20), (LEFT, TOP + 16, "Harbours", 20)]
    items += lines_at(LEFT, PARAGRAPH, top=TOP - 20)
    junk = load_pdf(draw(tmp_path / "a.pdf", [items], title="Microsoft Word - report7.doc"))
    assert junk.title == "Tidal Power in Small Harbours"
    good = load_pdf(draw(tmp_path / "b.pdf", [items], title="Tidal power in small harbours"))
    assert good.title == "Tidal power in small harbours"


def test_offsets_and_pages_stay_exact(tmp_path):
    pages = [lines_at(LEFT, PARAGRAPH, justify_to=RIGHT) for _ in range(3)]
    doc = load_pdf(draw(tmp_path / "o.pdf", pages, header=lambda n: "Harbour news", footer=lambda n: f"- {n} -"))
    assert len(doc.pages) == 3
    for chunk in chunk_document(doc):
        assert chunk.text == doc.text[chunk.start:chunk.end]
    for start, end in doc.pages:
        assert doc.text[start:end] == " ".join(PARAGRAPH)


# -- the text assembly on generated lines ---------------------------------------------------------
_words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=9)
_lines = st.lists(st.tuples(st.lists(_words, min_size=1, max_size=8), st.booleans(), st.booleans()),
                  min_size=1, max_size=12)


def _page(specs) -> Page:
    """Lines top to bottom at one size; each spec: (words, full width?, start of a paragraph?)."""
    lines, y = [], 700.0
    for words, full, new_paragraph in specs:
        y -= 2.5 * 10 if new_paragraph else 1.2 * 10
        x1 = 500.0 if full else 250.0
        text = " ".join(words)
        lines.append(Line(text=text, cells=[text], x0=72.0, x1=x1, top=y + 8, bottom=y, size=10.0, head_bottom=y))
    return Page(lines, 595.0, 842.0)


@settings(max_examples=200, deadline=None)
@given(_lines)
def test_assembly_keeps_every_word_in_order_and_breaks_only_between_lines(specs):
    page = _page(specs)
    words, compounds = vocabulary([page])
    text = page_text(page, set(), words, compounds)
    assert text.split() == [w for spec in specs for w in spec[0]]
    # A break is a line boundary: each output line is whole input lines.
    assert text.count("\n") <= len(specs) - 1
    for out_line in text.split("\n"):
        assert out_line == out_line.strip() and out_line


@settings(max_examples=100, deadline=None)
@given(_lines)
def test_full_lines_without_a_gap_are_joined_and_a_short_line_ends_its_paragraph(specs):
    page = _page(specs)
    words, compounds = vocabulary([page])
    text = page_text(page, set(), words, compounds)
    expected = [" ".join(specs[0][0])]
    any_full = any(full for _, full, _ in specs)  # else the short lines are the column's width
    for (_, full, _), (words_b, _, new_paragraph) in zip(specs, specs[1:]):
        sep = " " if (full or not any_full) and not new_paragraph else "\n"
        expected.append(sep + " ".join(words_b))
    assert text == "".join(expected)


# -- PDFium's characters against its text -----------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab \n𝑥", max_size=40), st.lists(st.tuples(st.integers(0, 40), st.sampled_from("ab€")),
                                                          max_size=5))
def test_alignment_maps_characters_only_onto_the_same_character_in_order(text, extra):
    from rag.ingest.pdf_layout import _Index

    codes: list[int] = []
    for c in text:  # PDFium lists a character beyond the BMP as a surrogate pair
        if ord(c) > 0xFFFF:
            v = ord(c) - 0x10000
            codes += [0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF)]
        else:
            codes.append(ord(c))
    for at, c in sorted(extra, reverse=True):  # characters the text leaves out
        codes.insert(min(at, len(codes)), ord(c))
    out = _Index._align(codes, text)
    mapped = [(i, p) for i, p in enumerate(out) if p >= 0]
    assert [p for _, p in mapped] == sorted(p for _, p in mapped)
    for i, p in mapped:
        if codes[i] < 0xD800 or codes[i] >= 0xE000:
            assert text[p] == chr(codes[i])
    if not extra:
        assert len({p for _, p in mapped}) == len(text)  # in step: every character found
