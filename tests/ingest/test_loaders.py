"""The PDF and Word loaders on real files the tests make, and the page-range helpers."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rag.ingest.chunking import chunk_document
from rag.ingest.documents import load_documents
from rag.ingest import LOADERS, page_at
from rag.ingest.pages import join_pages, page_lines, reflow, repeated_edges, strip_edges
from rag.ingest.pdf import load_pdf
from rag.ingest.word import load_docx

from tests.doc_fixtures import write_docx, write_pdf

PAGE1 = ["Harbour report", "The new bridge over the river opened in March after four years of work."]
PAGE2 = ["Costs", "The council paid 42 million euros for the bridge, the minister said."]
PAGE3 = ["Traffic", "About 9,000 cars cross the bridge every day."]


def load(path: Path) -> tuple[list, list[str]]:
    warnings: list[str] = []
    return load_documents([path], warn=warnings.append), warnings


# -- PDF ------------------------------------------------------------------------------------------
def test_pdf_pages_hold_their_text_in_order(tmp_path):
    path = write_pdf(tmp_path / "report.pdf", [PAGE1, PAGE2, PAGE3], title="Bridge report")
    doc = load_pdf(path)
    assert doc.doc_id == "report" and doc.title == "Bridge report" and doc.source == str(path)
    assert len(doc.pages) == 3
    for (start, end), lines in zip(doc.pages, [PAGE1, PAGE2, PAGE3]):
        page_text = doc.text[start:end]
        for line in lines:
            assert line in page_text
    at = doc.text.index("42 million euros")
    assert doc.page_at(at) == 2
    assert doc.page_at(0) == 1 and doc.page_at(len(doc.text) - 1) == 3


def test_pdf_offsets_of_chunks_and_pages_agree(tmp_path):
    doc = load_pdf(write_pdf(tmp_path / "r.pdf", [PAGE1, PAGE2, PAGE3]))
    for chunk in chunk_document(doc, 80, 20):
        assert chunk.text == doc.text[chunk.start:chunk.end]
        page = doc.page_at(chunk.start)
        start, end = doc.pages[page - 1]
        assert start <= chunk.start <= end


def test_pdf_running_headers_and_page_numbers_are_dropped(tmp_path):
    pages = [[f"Section {i}", f"Body text number {i} talks about the harbour and its ships."] for i in range(1, 6)]
    doc = load_pdf(write_pdf(tmp_path / "h.pdf", pages, header="ACME Annual Report 2024", footer=True))
    assert "ACME Annual Report" not in doc.text
    assert "Page 3" not in doc.text
    for i in range(1, 6):
        assert f"Section {i}" in doc.text and f"Body text number {i}" in doc.text


def test_pdf_line_end_hyphens_are_joined_and_wrapped_lines_reflowed(tmp_path):
    lines = ["The members of the harbour commit-", "tee met on Tuesday to discuss the long list of",
             "repairs that the bridge needs before winter comes."]
    doc = load_pdf(write_pdf(tmp_path / "y.pdf", [lines]))
    assert "committee met on Tuesday" in doc.text
    # Wrapped lines are one sentence: no line break inside it.
    assert "list of repairs" in doc.text


def test_pdf_two_columns_read_left_then_right(tmp_path):
    left = ["Left column starts here.", "It goes on below."]
    right = ["Right column follows.", "It ends the page."]
    doc = load_pdf(write_pdf(tmp_path / "c.pdf", [], columns=[(left, right)]))
    assert doc.text.index("Left column starts") < doc.text.index("It goes on below") \
        < doc.text.index("Right column follows") < doc.text.index("It ends the page")


@pytest.mark.parametrize("make, reason", [
    (lambda p: write_pdf(p, [], image_pages=2), "no text layer"),
    (lambda p: write_pdf(p, [PAGE1], encrypt="secret"), "encrypted"),
    (lambda p: p.write_bytes(b"%PDF-1.4\n1 0 obj garbage\n"), "damaged PDF"),
    (lambda p: p.write_bytes(b"hello, I am not a PDF"), "not a PDF"),
])
def test_bad_pdf_is_one_warning_naming_the_file_and_the_rest_is_indexed(tmp_path, make, reason):
    make(tmp_path / "bad.pdf")
    write_pdf(tmp_path / "good.pdf", [PAGE1])
    docs, warnings = load(tmp_path)
    assert [d.doc_id for d in docs] == ["good"]
    assert len(warnings) == 1, warnings
    assert "bad.pdf" in warnings[0] and reason in warnings[0] and "\n" not in warnings[0]


def test_scanned_page_among_text_pages_keeps_its_page_number(tmp_path):
    path = write_pdf(tmp_path / "mixed.pdf", [PAGE1], columns=[(PAGE2, PAGE3)], image_pages=1)
    doc = load_pdf(path)
    assert len(doc.pages) == 3
    start, end = doc.pages[2]
    assert start == end  # the image-only page is there, empty


def test_large_pdf_reads_every_page(tmp_path):
    pages = [[f"Page body {i}: the ferry left at {i % 12 + 1} o'clock."] for i in range(1, 121)]
    doc = load_pdf(write_pdf(tmp_path / "big.pdf", pages))
    assert len(doc.pages) == 120
    assert doc.page_at(doc.text.index("Page body 77:")) == 77


# -- Word -----------------------------------------------------------------------------------------
def test_docx_paragraphs_and_tables_in_reading_order(tmp_path):
    rows = [["City", "Population"], ["Oslo", "709,000"], ["Bergen", "291,000"]]
    path = write_docx(tmp_path / "cities.docx", ["Norwegian cities", "Oslo is the capital.", rows,
                                                 "Bergen lies on the west coast."], title="Cities")
    doc = load_docx(path)
    assert doc.title == "Cities" and doc.pages == ()
    assert doc.text.splitlines() == ["Norwegian cities", "Oslo is the capital.", "City | Population",
                                     "Oslo | 709,000", "Bergen | 291,000", "Bergen lies on the west coast."]
    assert doc.page_at(5) is None


def test_docx_title_falls_back_to_first_line(tmp_path):
    doc = load_docx(write_docx(tmp_path / "n.docx", ["Meeting notes", "We met."]))
    assert doc.title == "Meeting notes"


def test_docx_that_is_not_a_zip_is_one_warning(tmp_path):
    (tmp_path / "fake.docx").write_text("I am plain text with a .docx name", encoding="utf-8")
    write_docx(tmp_path / "real.docx", ["Real content."])
    docs, warnings = load(tmp_path)
    assert [d.doc_id for d in docs] == ["real"]
    assert len(warnings) == 1 and "fake.docx" in warnings[0] and "not a Word document" in warnings[0]


def test_zip_that_is_not_a_docx_is_one_warning(tmp_path):
    import zipfile

    with zipfile.ZipFile(tmp_path / "z.docx", "w") as zf:
        zf.writestr("hello.txt", "not word")
    docs, warnings = load(tmp_path)
    assert docs == [] and len(warnings) == 1 and "z.docx" in warnings[0]


def test_a_new_format_is_one_registered_loader():
    assert {".txt", ".md", ".html", ".htm", ".pdf", ".docx"} <= set(LOADERS)


# -- page ranges ----------------------------------------------------------------------------------
page_texts = st.lists(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=30), max_size=8)


@given(page_texts)
def test_join_pages_ranges_cover_each_page_in_order(pages):
    text, ranges = join_pages(pages)
    assert len(ranges) == len(pages)
    assert [text[s:e] for s, e in ranges] == pages
    previous_end = 0
    for s, e in ranges:
        assert previous_end <= s <= e <= len(text)
        previous_end = e


@given(page_texts, st.data())
def test_page_at_is_the_page_whose_range_holds_the_offset(pages, data):
    text, ranges = join_pages(pages)
    if not text:
        return
    offset = data.draw(st.integers(0, len(text) - 1))
    page = page_at(ranges, offset)
    assert page is not None and 1 <= page <= len(pages)
    start, _ = ranges[page - 1]
    assert start <= offset
    # No later page starts at or before the offset unless it is empty there.
    for s, e in ranges[page:]:
        assert s > offset or s == e == offset


def test_page_at_without_pages_is_none():
    assert page_at((), 3) is None


def test_page_lines_join_hyphens_and_tidy_spaces():
    assert page_lines("The commit-\r\ntee  met.\r\n\r\n") == ["The committee met."]
    assert page_lines("A commit\ufffetee met.") == ["A committee met."]
    assert page_lines("Year 2020-\n2021") == ["Year 2020-", "2021"]  # not a word split


def test_repeated_edges_need_most_pages_and_never_touch_the_middle():
    pages = [["Header", f"Section {3 * i}", "Header", f"more {7 - i}", f"Page {i + 1}"] for i in range(4)]
    repeated = repeated_edges(pages)
    assert "Header" in repeated and not any("section" in key for key in repeated)
    assert strip_edges(pages[2], repeated, 2) == ["Section 6", "Header", "more 5"]
    assert repeated_edges(pages[:2]) == set()  # too few pages to tell


def test_reflow_keeps_short_lines_as_breaks():
    lines = ["A heading", "a long wrapped line of body text that fills the", "width of the page, and ends."]
    assert reflow(lines) == "A heading\na long wrapped line of body text that fills the width of the page, and ends."


def test_placeholder_pdf_title_gives_way_to_the_first_line(tmp_path):
    doc = load_pdf(write_pdf(tmp_path / "p.pdf", [PAGE1]))  # reportlab's Title is "untitled"
    assert doc.title == "Harbour report"


@pytest.mark.slow  # a load or concurrency run of seconds
def test_thousand_page_pdf_reads_in_bounded_memory(tmp_path):
    """Python memory while reading stays within a small multiple of the text it yields: one page is
    open at a time, nothing per page is kept but its lines."""
    import tracemalloc

    pages = [[f"Chapter {i}", "The harbour council met again to discuss the bridge and its costs."] * 5
             for i in range(1000)]
    path = write_pdf(tmp_path / "k.pdf", pages, header="ACME Annual Report", footer=True)
    tracemalloc.start()
    try:
        doc = load_pdf(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(doc.pages) == 1000 and "ACME Annual Report" not in doc.text
    assert doc.page_at(doc.text.index("Chapter 777")) == 778
    assert peak < 12 * len(doc.text) + 5_000_000, (peak, len(doc.text))
