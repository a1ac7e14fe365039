"""Word tables keep every cell (rag/ingest/word.py): empty cells, a cell equal to its left neighbour,
cells merged across columns (said once) and down rows (said in their first row); and the title."""

from __future__ import annotations

from pathlib import Path

from rag.ingest.word import load_docx


def _owasp(path: Path, title: str | None = None) -> Path:
    import docx

    document = docx.Document()
    if title is not None:
        document.core_properties.title = title
    document.add_heading("OWASP Top 10 mapping", level=0)
    document.add_paragraph("How the risks moved between editions.")
    rows = [["Risk", "2010", "2013", "2017", "2021", "Note"],
            ["Injection", "A6", "A6", "A1", "A1", "A3"],
            ["ASVS level", "✓", "✓", "✓", "", "521"],
            ["Merged", "across two", "", "down", "x", ""],
            ["Below", "b1", "b2", "", "b4", "b5"]]
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    across = table.cell(3, 1).merge(table.cell(3, 2))
    across.text = "across two"
    down = table.cell(3, 3).merge(table.cell(4, 3))
    down.text = "down"
    document.save(str(path))
    return path


def test_every_cell_is_kept_in_order_and_merged_cells_once(tmp_path):
    doc = load_docx(_owasp(tmp_path / "o.docx"))
    lines = doc.text.splitlines()
    assert "Risk | 2010 | 2013 | 2017 | 2021 | Note" in lines
    assert "Injection | A6 | A6 | A1 | A1 | A3" in lines  # equal neighbours both kept
    assert "ASVS level | ✓ | ✓ | ✓ |  | 521" in lines  # the empty cell keeps the column
    assert "Merged | across two | down | x | " in lines  # merged across: once
    assert "Below | b1 | b2 |  | b4 | b5" in lines  # merged down: said in its first row only
    assert doc.text.count("down") == 1


def test_title_is_the_title_paragraph_unless_the_metadata_looks_like_one(tmp_path):
    assert load_docx(_owasp(tmp_path / "a.docx", title="Microsoft Word - owasp7.doc")).title == "OWASP Top 10 mapping"
    assert load_docx(_owasp(tmp_path / "b.docx", title="OWASP top 10 mapping")).title == "OWASP top 10 mapping"
    assert load_docx(_owasp(tmp_path / "c.docx")).title == "OWASP Top 10 mapping"
