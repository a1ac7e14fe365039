"""rag.tables, the one table formatter of the eval and bench reports: exact output, by hand."""

from __future__ import annotations

from rag.tables import cell, markdown_table, text_table


def test_cell_prints_a_figure_or_na():
    assert cell(0.5) == "0.500" and cell(12.345, 1) == "12.3" and cell(3, 2) == "3.00"
    assert cell(None) == "n/a" and cell(float("nan")) == "n/a"


def test_text_table_pads_names_left_and_figures_right():
    assert text_table(["retriever", "R@1", "p50 ms"], [["hybrid", "0.900", "1234.5"], ["bm25", "n/a", "1.0"]]) == (
        "retriever    R@1  p50 ms\n"
        "hybrid     0.900  1234.5\n"
        "bm25         n/a     1.0")
    assert text_table(["mode", "EM"], []) == "mode  EM"


def test_markdown_table_with_and_without_alignment():
    assert markdown_table(["a", "b"], [["1", "2"]]) == "| a | b |\n|---|---|\n| 1 | 2 |"
    assert markdown_table(["n", "index"], [["1,000", "flat"]], align="rl") == \
        "| n | index |\n|---:|---|\n| 1,000 | flat |"
