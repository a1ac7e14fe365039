"""The metadata title is used only when it looks like a title (rag/ingest/titles.py)."""

from rag.ingest.titles import choose_title, looks_like_title

OPENING = "Bigtable: A Distributed Storage System for Structured Data\nFay Chang, Jeffrey Dean\nAbstract"


def test_junk_metadata_is_not_a_title():
    for junk in ("paper.dvi", "Microsoft Word - Kalman15.doc", "untitled", "System Model", "  "):
        assert not looks_like_title(junk, OPENING)


def test_a_title_found_in_the_opening_is():
    assert looks_like_title("Bigtable: a distributed storage system for structured data", OPENING)


def test_choice_order_metadata_heading_fallback():
    heading = "Bigtable: A Distributed Storage System for Structured Data"
    assert choose_title("paper.dvi", heading, OPENING, "bigtable") == heading
    assert choose_title("Bigtable", heading, OPENING, "x") == "Bigtable"
    assert choose_title("paper.dvi", "", OPENING, "bigtable") == "bigtable"
    assert len(choose_title("", "w " * 300, "", "f")) <= 200
