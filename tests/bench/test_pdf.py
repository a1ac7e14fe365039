"""The bench's generated PDF is a real PDF that the loader reads back, page by page."""

from rag.bench.pdf import pdf_throughput, write_text_pdf
from rag.ingest.pdf import load_pdf


def test_the_generated_pdf_reads_back_page_by_page(tmp_path):
    path = write_text_pdf(tmp_path / "t.pdf", [["First page words here."], ["Second page, other words."]])
    doc = load_pdf(path)
    assert len(doc.pages) == 2
    first, second = (doc.text[s:e] for s, e in doc.pages)
    assert "First page words here." in first and "Second page" in second


def test_pdf_throughput_reports_every_page(tmp_path):
    figures = pdf_throughput(tmp_path, pages=5)
    assert figures["pages"] == 5 and figures["pages_per_s"] > 0 and figures["characters"] > 5 * 40 * 20
